//! What members could not find: refused questions and answers voted 👎, kept for the
//! unanswered-questions report (`/gaps`, `briefbot gaps`), with the count of all questions
//! asked per server and day for the report's unanswered share. No user id or name is kept
//! with a question; a member's own "do not record my questions" is kept by their id, since
//! it is theirs to set. Rows older than `gaps.keep_days` are deleted by [`prune`].

use super::{StateError, Store, id};

/// Why a question is in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The briefings did not cover it ("not covered").
    Refused,
    /// An answer to it was voted 👎.
    Down,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Refused => "refused",
            Kind::Down => "down",
        }
    }
}

/// One unanswered question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    pub at: i64,
    /// `None` in a DM.
    pub guild: Option<u64>,
    pub kind: Kind,
    pub question: String,
    pub index_version: Option<String>,
    /// The briefings that came closest (a refusal's), or the voted passage's briefing.
    pub nearest: Vec<String>,
    /// The passage voted 👎.
    pub passage: Option<String>,
    /// A 👎's reason: its kind (wrong paragraph, not covered, outdated, other) and text.
    pub reason_kind: Option<String>,
    pub reason: Option<String>,
    /// The 👎 press, which its reason is attached to later.
    pub interaction: Option<u64>,
}

/// Records `u`. False when its interaction was recorded already.
pub async fn record(store: &Store, u: &Unanswered) -> Result<bool, StateError> {
    let done = sqlx::query(
        "INSERT INTO unanswered (at, guild, in_dm, kind, question, index_version, nearest, \
         passage, reason_kind, reason, interaction) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (interaction) DO NOTHING",
    )
    .bind(u.at)
    .bind(u.guild.map(id))
    .bind(i32::from(u.guild.is_none()))
    .bind(u.kind.as_str())
    .bind(u.question.as_str())
    .bind(u.index_version.clone())
    .bind(u.nearest.join("\n"))
    .bind(u.passage.clone())
    .bind(u.reason_kind.clone())
    .bind(u.reason.clone())
    .bind(u.interaction.map(id))
    .execute(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(done.rows_affected() == 1)
}

/// Attaches a reason to the 👎 recorded for `interaction`. False when there is none (the
/// member turned recording off, or it is gone).
pub async fn add_reason(
    store: &Store,
    interaction: u64,
    kind: &str,
    text: Option<&str>,
) -> Result<bool, StateError> {
    let done =
        sqlx::query("UPDATE unanswered SET reason_kind = $1, reason = $2 WHERE interaction = $3")
            .bind(kind)
            .bind(text)
            .bind(id(interaction))
            .execute(store.pool())
            .await
            .map_err(|e| store.failed(e))?;
    Ok(done.rows_affected() > 0)
}

/// Whether a question of `member` in `guild` may be recorded: neither the member nor the
/// server turned recording off.
pub async fn may_record(
    store: &Store,
    member: u64,
    guild: Option<u64>,
) -> Result<bool, StateError> {
    let mine: Option<(i32,)> =
        sqlx::query_as("SELECT record_questions FROM member_privacy WHERE member = $1")
            .bind(id(member))
            .fetch_optional(store.pool())
            .await
            .map_err(|e| store.failed(e))?;
    if mine.is_some_and(|(on,)| on == 0) {
        return Ok(false);
    }
    let Some(guild) = guild else {
        return Ok(true);
    };
    let server: Option<(i32,)> =
        sqlx::query_as("SELECT record_questions FROM guild_settings WHERE guild = $1")
            .bind(id(guild))
            .fetch_optional(store.pool())
            .await
            .map_err(|e| store.failed(e))?;
    Ok(server.is_none_or(|(on,)| on != 0))
}

/// A member's choice: record their unanswered questions or not.
pub async fn set_member_recording(
    store: &Store,
    member: u64,
    on: bool,
    at: i64,
) -> Result<(), StateError> {
    sqlx::query(
        "INSERT INTO member_privacy (member, record_questions, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (member) DO UPDATE SET record_questions = excluded.record_questions, \
         updated_at = excluded.updated_at",
    )
    .bind(id(member))
    .bind(i32::from(on))
    .bind(at)
    .execute(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(())
}

/// A server's choice: record its members' unanswered questions or not.
pub async fn set_server_recording(
    store: &Store,
    guild: u64,
    on: bool,
    by: u64,
    at: i64,
) -> Result<(), StateError> {
    sqlx::query(
        "INSERT INTO guild_settings (guild, record_questions, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (guild) DO UPDATE SET \
         record_questions = excluded.record_questions, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
    )
    .bind(id(guild))
    .bind(i32::from(on))
    .bind(at)
    .bind(id(by))
    .execute(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(())
}

const DAY: i64 = 24 * 60 * 60;

/// Counts one question asked in `guild` (`None`: a DM) at `at`.
pub async fn count_question(store: &Store, guild: Option<u64>, at: i64) -> Result<(), StateError> {
    sqlx::query(
        "INSERT INTO question_counts (guild, day, asked) VALUES ($1, $2, 1) \
         ON CONFLICT (guild, day) DO UPDATE SET asked = question_counts.asked + 1",
    )
    .bind(guild.map_or(0, id))
    .bind(at.div_euclid(DAY))
    .execute(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(())
}

/// Which rows a report reads: one server's (or every server's, for the operator) in
/// `[since, until)`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub guild: Option<u64>,
    pub since: i64,
    pub until: i64,
}

/// The questions asked in `w` (whole days: those that begin in it).
pub async fn asked(store: &Store, w: Window) -> Result<u64, StateError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(asked), 0) AS BIGINT) FROM question_counts \
         WHERE ($1 IS NULL OR guild = $1) AND day >= $2 AND day < $3",
    )
    .bind(w.guild.map(id))
    .bind(w.since.div_euclid(DAY))
    .bind(w.until.div_euclid(DAY) + i64::from(w.until.rem_euclid(DAY) > 0))
    .fetch_one(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(n.max(0) as u64)
}

/// How many unanswered questions `w` holds.
pub async fn count(store: &Store, w: Window) -> Result<u64, StateError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM unanswered WHERE ($1 IS NULL OR guild = $1) AND at >= $2 AND at < $3",
    )
    .bind(w.guild.map(id))
    .bind(w.since)
    .bind(w.until)
    .fetch_one(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(n.max(0) as u64)
}

/// The newest `limit` unanswered questions in `w`, oldest first.
pub async fn list(store: &Store, w: Window, limit: u32) -> Result<Vec<Unanswered>, StateError> {
    type Row = (
        i64,
        Option<i64>,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT at, guild, kind, question, index_version, nearest, passage, reason_kind, reason, \
         interaction FROM unanswered WHERE ($1 IS NULL OR guild = $1) AND at >= $2 AND at < $3 \
         ORDER BY at DESC, id DESC LIMIT $4",
    )
    .bind(w.guild.map(id))
    .bind(w.since)
    .bind(w.until)
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(rows
        .into_iter()
        .rev()
        .map(
            |(
                at,
                guild,
                kind,
                question,
                index_version,
                nearest,
                passage,
                reason_kind,
                reason,
                interaction,
            )| {
                Unanswered {
                    at,
                    guild: guild.map(|g| g as u64),
                    kind: if kind == "down" {
                        Kind::Down
                    } else {
                        Kind::Refused
                    },
                    question,
                    index_version,
                    nearest: nearest
                        .lines()
                        .map(str::to_string)
                        .filter(|l| !l.is_empty())
                        .collect(),
                    passage,
                    reason_kind,
                    reason,
                    interaction: interaction.map(|i| i as u64),
                }
            },
        )
        .collect())
}

/// Deletes what is older than `keep_days` at `now` (questions and their counts); returns
/// how many questions went.
pub async fn prune(store: &Store, now: i64, keep_days: u32) -> Result<u64, StateError> {
    let before = now - i64::from(keep_days) * DAY;
    let done = sqlx::query("DELETE FROM unanswered WHERE at < $1")
        .bind(before)
        .execute(store.pool())
        .await
        .map_err(|e| store.failed(e))?;
    sqlx::query("DELETE FROM question_counts WHERE day < $1")
        .bind(before.div_euclid(DAY))
        .execute(store.pool())
        .await
        .map_err(|e| store.failed(e))?;
    Ok(done.rows_affected())
}
