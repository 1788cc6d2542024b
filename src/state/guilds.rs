//! Per-server settings, edited by a server's admins with `/settings`: the server's own
//! moderator role, its default briefing, its question cooldown and its term start. Each
//! change writes only its own column, so two admins changing different settings at once
//! both keep their change.

use super::{StateError, Store, id};

/// One server's settings; `None` everywhere means the bot's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuildSettings {
    /// Members with this role moderate this server (besides Manage Server and
    /// `discord.moderator_roles`).
    pub moderator_role: Option<u64>,
    /// Whether the operator's shared library is read here, besides the server's own.
    pub shared_library: bool,
    /// The briefing `/quiz` and `/read` use when none is named.
    pub default_briefing: Option<String>,
    /// Questions a member may ask per `discord.cooldown_seconds` here, instead of
    /// `discord.cooldown_questions`.
    pub cooldown_questions: Option<u32>,
    /// When this server's term began (seconds since the epoch), for `/leaderboard term`.
    pub term_start: Option<i64>,
    /// Whether members' unanswered questions are recorded for `/gaps`.
    pub record_questions: bool,
}

impl GuildSettings {
    /// A server's settings before its admins change any.
    pub fn fresh() -> GuildSettings {
        GuildSettings {
            shared_library: true,
            record_questions: true,
            ..GuildSettings::default()
        }
    }
}

/// One change to a server's settings; `None` values clear the setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    ModeratorRole(Option<u64>),
    DefaultBriefing(Option<String>),
    CooldownQuestions(Option<u32>),
    TermStart(Option<i64>),
    SharedLibrary(bool),
}

impl std::fmt::Display for Change {
    /// As the audit trail records it: `default_briefing = tides`, `moderator_role = none`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = match self {
            Change::ModeratorRole(r) => r.map(|r| r.to_string()),
            Change::DefaultBriefing(b) => b.clone(),
            Change::CooldownQuestions(n) => n.map(|n| n.to_string()),
            Change::TermStart(t) => t.map(|t| super::rfc3339(t)[..10].to_string()),
            Change::SharedLibrary(on) => Some(if *on { "on" } else { "off" }.to_string()),
        };
        write!(
            f,
            "{} = {}",
            self.column(),
            value.as_deref().unwrap_or("none")
        )
    }
}

impl Change {
    fn column(&self) -> &'static str {
        match self {
            Change::ModeratorRole(_) => "moderator_role",
            Change::DefaultBriefing(_) => "default_briefing",
            Change::CooldownQuestions(_) => "cooldown_questions",
            Change::TermStart(_) => "term_start",
            Change::SharedLibrary(_) => "shared_library",
        }
    }
}

/// `guild`'s settings (the defaults when it has none).
pub async fn get(store: &Store, guild: u64) -> Result<GuildSettings, StateError> {
    type Row = (
        Option<i64>,
        i32,
        Option<String>,
        Option<i32>,
        Option<i64>,
        i32,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT moderator_role, shared_library, default_briefing, cooldown_questions, term_start, \
         record_questions FROM guild_settings WHERE guild = $1",
    )
    .bind(id(guild))
    .fetch_optional(store.pool())
    .await
    .map_err(|e| store.failed(e))?;
    Ok(match row {
        None => GuildSettings::fresh(),
        Some((role, shared, briefing, cooldown, term, record)) => GuildSettings {
            moderator_role: role.map(|r| r as u64),
            shared_library: shared != 0,
            default_briefing: briefing,
            cooldown_questions: cooldown.map(|c| c.max(1) as u32),
            term_start: term,
            record_questions: record != 0,
        },
    })
}

/// Applies `changes` to `guild`'s settings, in one transaction, recording who made them.
pub async fn update(
    store: &Store,
    guild: u64,
    changes: &[Change],
    by: u64,
    at: i64,
) -> Result<GuildSettings, StateError> {
    let mut tx = store.pool().begin().await.map_err(|e| store.failed(e))?;
    for change in changes {
        let column = change.column();
        // `column` is one of five constants, never input.
        let sql = format!(
            "INSERT INTO guild_settings (guild, {column}, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (guild) DO UPDATE SET \
             {column} = excluded.{column}, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id(guild));
        let query = match change {
            Change::ModeratorRole(role) => query.bind(role.map(id)),
            Change::DefaultBriefing(slug) => query.bind(slug.clone()),
            Change::CooldownQuestions(n) => query.bind(n.map(|n| n.min(i32::MAX as u32) as i32)),
            Change::TermStart(at) => query.bind(*at),
            Change::SharedLibrary(on) => query.bind(i32::from(*on)),
        };
        query
            .bind(at)
            .bind(id(by))
            .execute(&mut *tx)
            .await
            .map_err(|e| store.failed(e))?;
    }
    tx.commit().await.map_err(|e| store.failed(e))?;
    get(store, guild).await
}
