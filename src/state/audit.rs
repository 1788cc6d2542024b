//! The audit trail of content changes: who (their id and name), in which server, did what
//! to what, and how it ended. Written by the bot for every change made from Discord; read
//! by `/audit` (a server's own changes) and `briefbot audit` (all of them).

use serde::{Deserialize, Serialize};

use super::{StateError, Store, id};

/// One content change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Seconds since the Unix epoch.
    pub at: i64,
    pub actor: u64,
    pub actor_name: String,
    /// `None` for a change made outside a server.
    pub guild: Option<u64>,
    pub action: String,
    pub target: String,
    pub outcome: String,
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this server's changes.
    pub guild: Option<u64>,
    /// Only changes at or after this time.
    pub since: Option<i64>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// Records one change.
pub async fn record(store: &Store, entry: &Entry) -> Result<(), StateError> {
    insert(store.pool(), entry)
        .await
        .map_err(|e| store.failed(e))
}

pub(crate) async fn insert<'e, E>(executor: E, entry: &Entry) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit (at, actor, actor_name, guild, action, target, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entry.at)
    .bind(id(entry.actor))
    .bind(entry.actor_name.as_str())
    .bind(entry.guild.map(id))
    .bind(entry.action.as_str())
    .bind(entry.target.as_str())
    .bind(entry.outcome.as_str())
    .execute(executor)
    .await
    .map(drop)
}

/// The entries `filter` selects, newest first.
pub async fn list(store: &Store, filter: &Filter) -> Result<Vec<Entry>, StateError> {
    type Row = (i64, i64, String, Option<i64>, String, String, String);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT at, actor, actor_name, guild, action, target, outcome FROM audit \
         WHERE ($1 IS NULL OR guild = $1) AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(filter.guild.map(id))
    .bind(filter.since.unwrap_or(i64::MIN))
    .bind(i64::from(filter.limit))
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(rows
        .into_iter()
        .map(
            |(at, actor, actor_name, guild, action, target, outcome)| Entry {
                at,
                actor: actor as u64,
                actor_name,
                guild: guild.map(|g| g as u64),
                action,
                target,
                outcome,
            },
        )
        .collect())
}
