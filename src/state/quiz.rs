//! Quiz answers and the scores made of them. One row per member per quiz question (the quiz
//! message), inserted or ignored in one statement: an answer counts once, however many
//! processes see the press, and a score is always the count of its rows.

use super::{StateError, Store, id};

/// A member's answer to one quiz question.
#[derive(Debug, Clone)]
pub struct QuizAnswer {
    /// The quiz message: one question.
    pub message: u64,
    pub member: u64,
    /// `None` in a DM.
    pub guild: Option<u64>,
    pub channel: u64,
    /// The passage the question was made from.
    pub passage: String,
    pub correct: bool,
    /// Seconds since the Unix epoch.
    pub at: i64,
}

/// Which answers a leaderboard counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Channel(u64),
    Guild(u64),
}

/// Which period a leaderboard covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The last seven days.
    Week,
    /// Since the server's term start (`/settings term_start`), else the last
    /// [`DEFAULT_TERM_DAYS`] days.
    Term,
    All,
}

/// A term's length when the server has not said when its term began.
pub const DEFAULT_TERM_DAYS: i64 = 112;

const DAY: i64 = 24 * 60 * 60;

impl Period {
    /// The first second the period counts, at `now`; `None` for all time.
    pub fn since(self, now: i64, term_start: Option<i64>) -> Option<i64> {
        match self {
            Period::Week => Some(now - 7 * DAY),
            Period::Term => Some(term_start.unwrap_or(now - DEFAULT_TERM_DAYS * DAY)),
            Period::All => None,
        }
    }

    /// As members read it.
    pub fn label(self) -> &'static str {
        match self {
            Period::Week => "this week",
            Period::Term => "this term",
            Period::All => "all time",
        }
    }
}

/// A member's score over a scope and period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub member: u64,
    pub correct: u64,
    pub answered: u64,
}

/// Records `answer`. True when it counted; false when this member had answered this
/// question before (the first answer stands).
pub async fn record(store: &Store, answer: &QuizAnswer) -> Result<bool, StateError> {
    let done = sqlx::query(
        "INSERT INTO quiz_answers (message, member, guild, channel, at, passage, correct) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message, member) DO NOTHING",
    )
    .bind(id(answer.message))
    .bind(id(answer.member))
    .bind(answer.guild.map(id))
    .bind(id(answer.channel))
    .bind(answer.at)
    .bind(answer.passage.as_str())
    .bind(i32::from(answer.correct))
    .execute(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(done.rows_affected() == 1)
}

/// The best `limit` members of `scope` since `since` (all time when `None`): most right
/// answers first, then fewest answered, then by id.
pub async fn leaderboard(
    store: &Store,
    scope: Scope,
    since: Option<i64>,
    limit: u32,
) -> Result<Vec<Standing>, StateError> {
    let (column, value) = scope_column(scope);
    // The column name is one of two constants, never input.
    let sql = format!(
        "SELECT member, CAST(SUM(CASE WHEN correct = 1 THEN 1 ELSE 0 END) AS BIGINT) AS right_answers, \
         COUNT(*) AS answered FROM quiz_answers WHERE {column} = $1 AND at >= $2 \
         GROUP BY member ORDER BY right_answers DESC, answered ASC, member ASC LIMIT $3"
    );
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .bind(since.unwrap_or(i64::MIN))
        .bind(i64::from(limit))
        .fetch_all(store.pool())
        .await
        .map_err(|e| store.failed(e))?;
    Ok(rows.into_iter().map(standing).collect())
}

/// One member's score in `scope` since `since`.
pub async fn score(
    store: &Store,
    scope: Scope,
    member: u64,
    since: Option<i64>,
) -> Result<Standing, StateError> {
    let (column, value) = scope_column(scope);
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN correct = 1 THEN 1 ELSE 0 END), 0) AS BIGINT), COUNT(*) \
         FROM quiz_answers WHERE {column} = $1 AND member = $2 AND at >= $3"
    );
    let (correct, answered): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .bind(id(member))
        .bind(since.unwrap_or(i64::MIN))
        .fetch_one(store.pool())
        .await
        .map_err(|e| store.failed(e))?;
    Ok(standing((id(member), correct, answered)))
}

/// One of a member's answers, as their history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub at: i64,
    pub passage: String,
    pub correct: bool,
}

/// A member's last `limit` answers in `scope`, newest first.
pub async fn recent(
    store: &Store,
    scope: Scope,
    member: u64,
    limit: u32,
) -> Result<Vec<Answered>, StateError> {
    let (column, value) = scope_column(scope);
    let sql = format!(
        "SELECT at, passage, correct FROM quiz_answers WHERE {column} = $1 AND member = $2 \
         ORDER BY at DESC, message DESC LIMIT $3"
    );
    let rows: Vec<(i64, String, i32)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .bind(id(member))
        .bind(i64::from(limit))
        .fetch_all(store.pool())
        .await
        .map_err(|e| store.failed(e))?;
    Ok(rows
        .into_iter()
        .map(|(at, passage, correct)| Answered {
            at,
            passage,
            correct: correct != 0,
        })
        .collect())
}

fn scope_column(scope: Scope) -> (&'static str, i64) {
    match scope {
        Scope::Channel(c) => ("channel", id(c)),
        Scope::Guild(g) => ("guild", id(g)),
    }
}

fn standing((member, correct, answered): (i64, i64, i64)) -> Standing {
    Standing {
        member: member as u64,
        correct: correct.max(0) as u64,
        answered: answered.max(0) as u64,
    }
}
