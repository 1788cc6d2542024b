//! What the bot keeps in its state database, as the bot's operations: quiz scores and
//! leaderboards, the audit trail, and each server's settings (votes and the unanswered
//! questions are in [`super::unanswered`]). Free of serenity, like
//! [`super::bot`]; the queries are in [`crate::state`], the messages in
//! [`crate::render::discord::state`]. A database that is unavailable gets its own reply;
//! nothing here is on the answering path.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::bot::{Bot, QuizPress};
use super::rules::Use;
use crate::library::Scope;
use crate::moderate::Actor;
use crate::render::discord::Message;
use crate::render::discord::state::{self as render, ScoreNote};
use crate::state::audit::{self, Entry};
use crate::state::guilds::{self, Change, GuildSettings};
use crate::state::quiz::{self, Period, QuizAnswer, Scope as Board};
use crate::state::{StateError, Store, now};
use crate::study::quiz::Quiz;

/// How long a server's settings, once read, are used without reading them again: a change
/// made through another process is seen within this time.
pub const GUILD_SETTINGS_FRESH: Duration = Duration::from_secs(30);

/// How long reading a server's settings may wait.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// For a connection and the query, as long as `state.timeout_seconds` allows.
    ForTheDatabase,
    /// At most this long, and only on a database already open (the answering path).
    AtMost(Duration),
}

/// Longest wait for a server's settings on the answering path.
const QUICK_READ: Duration = Duration::from_millis(300);

impl Bot {
    /// The open state store; on failure the reason is logged (and the store dropped when a
    /// query failed on it, so the next use connects afresh).
    pub(super) async fn store(&self) -> Result<Store, Arc<StateError>> {
        self.state.get().await
    }

    /// Logs a failed query and forgets the store; `what` ("Scores are") is shown as
    /// unavailable.
    pub(super) async fn failed(&self, what: &str, err: &StateError) -> Message {
        tracing::warn!(error = %crate::error_chain(err), what, "the state database failed");
        self.state.reset().await;
        render::unavailable(what)
    }

    /// Scores a member's answer to a quiz: counted once per member and question.
    pub(super) async fn score_quiz_answer(
        &self,
        press: &QuizPress,
        q: &Quiz,
        pick: usize,
    ) -> ScoreNote {
        let Ok(store) = self.store().await else {
            return ScoreNote::Unavailable;
        };
        let answer = QuizAnswer {
            message: press.message,
            member: press.user,
            guild: press.guild,
            channel: press.channel,
            passage: q.passage.id.clone(),
            correct: pick == q.answer,
            at: now(),
        };
        let scored = async {
            let counted = quiz::record(&store, &answer).await?;
            let s = quiz::score(&store, Board::Channel(press.channel), press.user, None).await?;
            Ok::<_, StateError>((counted, s))
        }
        .await;
        match scored {
            Ok((true, s)) => ScoreNote::Counted(s.correct, s.answered),
            Ok((false, s)) => ScoreNote::Again(s.correct, s.answered),
            Err(err) => {
                self.failed("Scores are", &err).await;
                ScoreNote::Unavailable
            }
        }
    }

    /// The quiz leaderboard of a channel, or of the whole server, over `period`.
    pub async fn leaderboard(
        &self,
        guild: Option<u64>,
        channel: u64,
        period: Period,
        whole_server: bool,
    ) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("Scores are");
        };
        let term_start = self.term_start(guild).await;
        let (scope, label) = match guild {
            Some(g) if whole_server => (Board::Guild(g), "this server"),
            _ => (Board::Channel(channel), "this channel"),
        };
        match quiz::leaderboard(&store, scope, period.since(now(), term_start), 20).await {
            Ok(board) => render::leaderboard_message(&board, label, period),
            Err(err) => self.failed("Scores are", &err).await,
        }
    }

    /// A member's own quiz history, in this server (or this DM).
    pub async fn quiz_stats(&self, member: u64, guild: Option<u64>, channel: u64) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("Scores are");
        };
        let (scope, label) = match guild {
            Some(g) => (Board::Guild(g), "this server"),
            None => (Board::Channel(channel), "this conversation"),
        };
        let term_start = self.term_start(guild).await;
        let t = now();
        let stats = async {
            let mut periods = Vec::new();
            for period in [Period::Week, Period::Term, Period::All] {
                let since = period.since(t, term_start);
                periods.push((period, quiz::score(&store, scope, member, since).await?));
            }
            let recent = quiz::recent(&store, scope, member, 10).await?;
            Ok::<_, StateError>((periods, recent))
        }
        .await;
        match stats {
            Ok((periods, recent)) => render::quiz_stats_message(label, &periods, &recent),
            Err(err) => self.failed("Scores are", &err).await,
        }
    }

    /// Records a content change in the audit trail. While the database is unavailable the
    /// line goes to `content.audit_file`, read in at the next start: a change is never
    /// left unaudited.
    pub async fn audit(&self, actor: &Actor, action: &str, target: &str, outcome: &str) {
        let entry = Entry {
            at: now(),
            actor: actor.id,
            actor_name: actor.name.clone(),
            guild: actor.guild,
            action: action.to_string(),
            target: target.to_string(),
            outcome: outcome.to_string(),
        };
        let recorded = match self.store().await {
            Ok(store) => audit::record(&store, &entry).await.map_err(Arc::new),
            Err(err) => Err(err),
        };
        if let Err(err) = recorded {
            let file = self.settings.content.audit_file.clone();
            let kept = tokio::task::spawn_blocking(move || {
                crate::moderate::keep_audit_line(&file, &entry)
            })
            .await;
            match kept {
                Ok(Ok(())) => {
                    tracing::warn!(error = %crate::error_chain(&err), file = %self.settings.content.audit_file.display(), "audit line kept in the file until the state database is back")
                }
                _ => {
                    tracing::error!(error = %crate::error_chain(&err), action, target, outcome, actor = actor.id, "cannot record the audit line")
                }
            }
        }
    }

    /// The last content changes made from `guild`, for its moderators.
    pub async fn audit_trail(&self, guild: u64) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("The audit trail is");
        };
        let filter = audit::Filter {
            guild: Some(guild),
            since: None,
            limit: 15,
        };
        match audit::list(&store, &filter).await {
            Ok(entries) => {
                // Outcomes name files: members are shown them without the server's paths.
                let shown: Vec<Entry> = entries
                    .into_iter()
                    .map(|mut e| {
                        e.outcome = crate::app::redact(&self.settings, &e.outcome);
                        e
                    })
                    .collect();
                render::audit_message(&shown)
            }
            Err(err) => self.failed("The audit trail is", &err).await,
        }
    }

    /// `guild`'s settings, read at most every [`GUILD_SETTINGS_FRESH`]; the last ones read
    /// (or the defaults) while the database is unavailable, so the bot keeps working as
    /// configured.
    pub async fn server_settings(&self, guild: u64) -> GuildSettings {
        self.read_server_settings(guild, Wait::ForTheDatabase).await
    }

    /// When `guild`'s term began, for the leaderboards (`None` in a DM).
    async fn term_start(&self, guild: Option<u64>) -> Option<i64> {
        match guild {
            Some(g) => self.server_settings(g).await.term_start,
            None => None,
        }
    }

    async fn read_server_settings(&self, guild: u64, wait: Wait) -> GuildSettings {
        let cached = self.cached_settings(guild);
        if let Some((s, at)) = &cached
            && at.elapsed() < GUILD_SETTINGS_FRESH
        {
            return s.clone();
        }
        let read = match wait {
            Wait::ForTheDatabase => match self.store().await {
                Ok(store) => guilds::get(&store, guild).await.ok(),
                Err(_) => None,
            },
            // The answering path: an open database that answers at once, else nothing.
            Wait::AtMost(limit) => match self.state.ready() {
                Some(store) => tokio::time::timeout(limit, guilds::get(&store, guild))
                    .await
                    .ok()
                    .and_then(Result::ok),
                None => None,
            },
        };
        match read {
            Some(s) => {
                self.cache_settings(guild, &s);
                s
            }
            None => {
                tracing::debug!(
                    guild,
                    "server settings unavailable; using the last ones read or the defaults"
                );
                cached.map_or_else(GuildSettings::fresh, |(s, _)| s)
            }
        }
    }

    fn cached_settings(&self, guild: u64) -> Option<(GuildSettings, Instant)> {
        self.guild_settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&guild)
            .cloned()
    }

    fn cache_settings(&self, guild: u64, s: &GuildSettings) {
        let mut cache = self
            .guild_settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Bounded: the bot's servers, at most; a stale entry is only re-read.
        if cache.len() > 100_000 {
            cache.clear();
        }
        cache.insert(guild, (s.clone(), Instant::now()));
    }

    /// `/settings` without changes: the server's settings as they are.
    pub async fn show_settings(&self, guild: u64) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("Settings are");
        };
        match guilds::get(&store, guild).await {
            Ok(s) => {
                self.cache_settings(guild, &s);
                render::settings_message(&s, self.default_cooldown(), false)
            }
            Err(err) => self.failed("Settings are", &err).await,
        }
    }

    /// `/settings` with changes, by `actor` (a server admin, checked by the caller):
    /// saved, audited, and shown.
    pub async fn change_settings(
        &self,
        actor: &Actor,
        guild: u64,
        changes: Vec<Change>,
    ) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("Settings are");
        };
        match guilds::update(&store, guild, &changes, actor.id, now()).await {
            Ok(s) => {
                self.cache_settings(guild, &s);
                let what: Vec<String> = changes.iter().map(Change::to_string).collect();
                self.audit(actor, "settings", "server", &what.join(", "))
                    .await;
                render::settings_message(&s, self.default_cooldown(), true)
            }
            Err(err) => self.failed("Settings are", &err).await,
        }
    }

    fn default_cooldown(&self) -> (u32, u64) {
        let d = &self.settings.discord;
        (d.cooldown_questions, d.cooldown_seconds)
    }

    /// [`Bot::over_limit`] in `guild`, whose own question cooldown applies. On the
    /// answering path: the server's settings are read only if the database answers at
    /// once ([`QUICK_READ`]), else the last ones read (or the bot's defaults) apply.
    pub async fn over_limit_in(&self, user: u64, guild: Option<u64>, kind: Use) -> Option<Message> {
        let server = match (kind, guild) {
            (Use::Question, Some(g)) => {
                self.read_server_settings(g, Wait::AtMost(QUICK_READ))
                    .await
                    .cooldown_questions
            }
            _ => None,
        };
        let wait = self.limits.check_in(user, kind, server).err()?;
        Some(self.limited_reply(kind, wait))
    }

    /// Records that the bot is in `guild` (Discord announced it), for `briefbot
    /// libraries`; a database that is unavailable is only logged.
    pub async fn server_seen(&self, guild: u64) {
        if let Ok(store) = self.store().await
            && let Err(err) = crate::state::servers::seen(&store, guild, now()).await
        {
            self.failed("Servers are", &err).await;
        }
    }

    /// Records that the bot was removed from `guild`; its library is kept.
    pub async fn server_left(&self, guild: u64) {
        tracing::info!(guild, "removed from a server; its library is kept");
        if let Ok(store) = self.store().await
            && let Err(err) = crate::state::servers::left(&store, guild, now()).await
        {
            self.failed("Servers are", &err).await;
        }
    }

    /// The briefing `query` names (a slug, a title, or part of one) among those `guild`
    /// reads, if one.
    pub async fn find_briefing(
        &self,
        guild: Option<u64>,
        query: &str,
    ) -> Option<crate::index::BriefingInfo> {
        self.engine_in(guild)
            .await
            .find_briefing(query)
            .ok()
            .cloned()
    }

    /// What a request from `guild` (`None`: a DM) may read: the server's library and,
    /// unless its admins turned it off, the shared one; the shared library alone in a DM.
    /// On the answering path: the setting is read as [`Bot::over_limit_in`] reads them.
    pub async fn scope_of(&self, guild: Option<u64>) -> Scope {
        let shared = match guild {
            Some(g) => {
                self.read_server_settings(g, Wait::AtMost(QUICK_READ))
                    .await
                    .shared_library
            }
            None => true,
        };
        Scope::of_request(guild, shared)
    }

    /// The live index, read within `guild`'s scope ([`Bot::scope_of`]).
    pub async fn engine_in(&self, guild: Option<u64>) -> crate::search::Engine {
        let scope = self.scope_of(guild).await;
        self.engine().scoped(scope)
    }

    /// Whether a member of `guild` (with Manage Server or not, with `roles`) moderates it:
    /// Manage Server, a role in `discord.moderator_roles`, or the server's own role.
    pub async fn is_moderator(&self, guild: u64, manage_guild: bool, roles: &[u64]) -> bool {
        let mut moderator_roles = self.settings.discord.moderator_roles.clone();
        moderator_roles.extend(self.moderator_role(guild).await);
        super::rules::is_moderator(manage_guild, roles, &moderator_roles)
    }

    /// The moderator role `guild`'s admins set, if any.
    pub async fn moderator_role(&self, guild: u64) -> Option<u64> {
        self.server_settings(guild).await.moderator_role
    }

    /// The briefing `/quiz play` and `/read` use in `guild` when none is named.
    pub async fn default_briefing(&self, guild: Option<u64>) -> Option<String> {
        match guild {
            Some(g) => self.server_settings(g).await.default_briefing,
            None => None,
        }
    }
}
