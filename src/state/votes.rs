//! 👍 / 👎 votes on quoted passages: the question, the passage, the vote, the index version
//! it was answered from, the server — and no user id or name. The press's interaction id
//! keeps a vote from being counted twice; it says nothing about who pressed.

use serde::{Deserialize, Serialize};

use super::{StateError, Store, id};

/// One vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// Seconds since the Unix epoch.
    pub at: i64,
    /// The button press (Discord's interaction id); `None` for votes read from an old file.
    #[serde(skip)]
    pub interaction: Option<u64>,
    pub guild: Option<u64>,
    pub question: String,
    pub passage: String,
    pub up: bool,
    /// The index version the quote came from, when known.
    pub index_version: Option<String>,
}

/// Records one vote. True when it counted; false when this press was recorded already.
pub async fn record(store: &Store, vote: &Vote) -> Result<bool, StateError> {
    insert(store.pool(), vote)
        .await
        .map_err(|e| store.failed(e))
}

pub(crate) async fn insert<'e, E>(executor: E, vote: &Vote) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "INSERT INTO votes (interaction, at, guild, question, passage, up, index_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (interaction) DO NOTHING",
    )
    .bind(vote.interaction.map(id))
    .bind(vote.at)
    .bind(vote.guild.map(id))
    .bind(vote.question.as_str())
    .bind(vote.passage.as_str())
    .bind(i32::from(vote.up))
    .bind(vote.index_version.clone())
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Votes at or after `since` (all when `None`), oldest first, at most `limit`.
pub async fn list(store: &Store, since: Option<i64>, limit: u32) -> Result<Vec<Vote>, StateError> {
    type Row = (
        i64,
        Option<i64>,
        Option<i64>,
        String,
        String,
        i32,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT at, interaction, guild, question, passage, up, index_version FROM votes \
         WHERE at >= $1 ORDER BY at ASC, id ASC LIMIT $2",
    )
    .bind(since.unwrap_or(i64::MIN))
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(rows
        .into_iter()
        .map(
            |(at, interaction, guild, question, passage, up, index_version)| Vote {
                at,
                interaction: interaction.map(|i| i as u64),
                guild: guild.map(|g| g as u64),
                question,
                passage,
                up: up != 0,
                index_version,
            },
        )
        .collect())
}
