//! Which servers the bot is in, and when it left one (server ids and times only): the
//! bot records a server when Discord announces it (at every start, and on joining) and
//! when it is removed from one; `briefbot libraries` tells from this which libraries
//! belong to servers it left.

use super::{StateError, Store, id};

/// What is known of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub guild: u64,
    /// First and last time Discord announced it to the bot (seconds since the epoch).
    pub joined_at: i64,
    pub seen_at: i64,
    /// When the bot was removed from it, if it was (and has not come back since).
    pub left_at: Option<i64>,
}

/// The bot is in `guild` (seen at `at`).
pub async fn seen(store: &Store, guild: u64, at: i64) -> Result<(), StateError> {
    upsert(
        store,
        "INSERT INTO servers (guild, joined_at, seen_at, left_at) VALUES ($1, $2, $2, NULL) \
         ON CONFLICT (guild) DO UPDATE SET seen_at = excluded.seen_at, left_at = NULL",
        guild,
        at,
    )
    .await
}

/// The bot was removed from `guild` at `at`.
pub async fn left(store: &Store, guild: u64, at: i64) -> Result<(), StateError> {
    upsert(
        store,
        "INSERT INTO servers (guild, joined_at, seen_at, left_at) VALUES ($1, $2, $2, $2) \
         ON CONFLICT (guild) DO UPDATE SET left_at = excluded.left_at",
        guild,
        at,
    )
    .await
}

async fn upsert(store: &Store, sql: &'static str, guild: u64, at: i64) -> Result<(), StateError> {
    sqlx::query(sql)
        .bind(id(guild))
        .bind(at)
        .execute(store.pool())
        .await
        .map_err(|e| store.failed(e))?;
    Ok(())
}

/// Every server the bot was ever in, by id.
pub async fn all(store: &Store) -> Result<Vec<Presence>, StateError> {
    let rows: Vec<(i64, i64, i64, Option<i64>)> =
        sqlx::query_as("SELECT guild, joined_at, seen_at, left_at FROM servers ORDER BY guild")
            .fetch_all(store.pool())
            .await
            .map_err(|e| store.failed(e))?;
    Ok(rows
        .into_iter()
        .map(|(guild, joined_at, seen_at, left_at)| Presence {
            guild: guild as u64,
            joined_at,
            seen_at,
            left_at,
        })
        .collect())
}
