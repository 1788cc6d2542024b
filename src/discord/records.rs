//! What the bot keeps in its state database, as the bot's operations: quiz scores and
//! leaderboards, votes, the audit trail, and each server's settings. Free of serenity, like
//! [`super::bot`]; the queries are in [`crate::state`], the messages in
//! [`crate::render::discord::state`]. A database that is unavailable gets its own reply;
//! nothing here is on the answering path.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use super::bot::{Bot, QuizPress};
use super::rules::Use;
use crate::moderate::Actor;
use crate::render::discord::state::{self as render, ScoreNote};
use crate::render::discord::{Message, notice};
use crate::state::audit::{self, Entry};
use crate::state::gaps::{self, Unanswered};
use crate::state::guilds::{self, Change, GuildSettings};
use crate::state::quiz::{self, Period, QuizAnswer, Scope};
use crate::state::votes::{self, Vote};
use crate::state::{StateError, Store, now};
use crate::study::quiz::Quiz;

/// How long a server's settings, once read, are used without reading them again: a change
/// made through another process is seen within this time.
pub const GUILD_SETTINGS_FRESH: Duration = Duration::from_secs(30);

/// Longest wait for a server's settings on the answering path.
const QUICK_READ: Duration = Duration::from_millis(300);

/// A 👍 / 👎 press.
#[derive(Debug, Clone)]
pub struct VotePress {
    pub question: String,
    pub passage: String,
    pub up: bool,
    pub interaction: u64,
    pub guild: Option<u64>,
    /// Who pressed: only to honour their `/privacy` choice; never stored with the vote.
    pub member: u64,
}

/// What a vote press gets back.
#[derive(Debug, Clone)]
pub struct Voted {
    pub reply: Message,
    /// A 👎 recorded for the report, which may now be given a reason (the modal).
    pub ask_reason: bool,
}

/// The kinds of reason a 👎 may give.
pub const REASON_KINDS: [&str; 4] = ["wrong paragraph", "not covered", "outdated", "other"];

/// The reason kind a member typed, as one of [`REASON_KINDS`].
pub fn reason_kind(typed: &str) -> &'static str {
    let t = typed.trim().to_lowercase();
    if t.contains("wrong") || t.contains("paragraph") {
        "wrong paragraph"
    } else if t.contains("cover") || t.starts_with("not") || t.contains("missing") {
        "not covered"
    } else if t.contains("out") || t.contains("old") || t.contains("date") {
        "outdated"
    } else {
        "other"
    }
}

impl Bot {
    /// The open state store; on failure the reason is logged (and the store dropped when a
    /// query failed on it, so the next use connects afresh).
    async fn store(&self) -> Result<Store, Arc<StateError>> {
        self.state.get().await
    }

    /// Logs a failed query and forgets the store; `what` is shown as unavailable.
    async fn failed(&self, what: &str, err: &StateError) -> Message {
        tracing::warn!(error = %err, "{what}: the state database failed");
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
            let s = quiz::score(&store, Scope::Channel(press.channel), press.user, None).await?;
            Ok::<_, StateError>((counted, s))
        }
        .await;
        match scored {
            Ok((true, s)) => ScoreNote::Counted(s.correct, s.answered),
            Ok((false, s)) => ScoreNote::Again(s.correct, s.answered),
            Err(err) => {
                self.failed("Scores", &err).await;
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
            return render::unavailable("Scores");
        };
        let term_start = match guild {
            Some(g) => self.server_settings(g).await.term_start,
            None => None,
        };
        let (scope, label) = match guild {
            Some(g) if whole_server => (Scope::Guild(g), "this server"),
            _ => (Scope::Channel(channel), "this channel"),
        };
        match quiz::leaderboard(&store, scope, period.since(now(), term_start), 20).await {
            Ok(board) => render::leaderboard_message(&board, label, period),
            Err(err) => self.failed("Scores", &err).await,
        }
    }

    /// A member's own quiz history, in this server (or this DM).
    pub async fn quiz_stats(&self, member: u64, guild: Option<u64>, channel: u64) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("Scores");
        };
        let (scope, label) = match guild {
            Some(g) => (Scope::Guild(g), "this server"),
            None => (Scope::Channel(channel), "this conversation"),
        };
        let term_start = match guild {
            Some(g) => self.server_settings(g).await.term_start,
            None => None,
        };
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
            Err(err) => self.failed("Scores", &err).await,
        }
    }

    /// Records a vote (no user id or name), with the index version answering now; a 👎 is
    /// also recorded for the unanswered-questions report (unless the member or the server
    /// turned that off), and may then be given a reason.
    pub async fn vote(&self, press: VotePress) -> Voted {
        let unavailable = |reply| Voted {
            reply,
            ask_reason: false,
        };
        let Ok(store) = self.store().await else {
            return unavailable(render::unavailable("Votes"));
        };
        let engine = self.engine();
        let vote = Vote {
            at: now(),
            interaction: Some(press.interaction),
            guild: press.guild,
            question: press.question.clone(),
            passage: press.passage.clone(),
            up: press.up,
            index_version: Some(engine.manifest().version.clone()),
        };
        if let Err(err) = votes::record(&store, &vote).await {
            return unavailable(self.failed("Votes", &err).await);
        }
        let reply = notice(&format!(
            "Thanks: your {} on `{}` is recorded.",
            if press.up { "👍" } else { "👎" },
            press.passage.replace('`', "'")
        ));
        if press.up {
            return Voted {
                reply,
                ask_reason: false,
            };
        }
        let briefing = engine
            .passage(&press.passage)
            .ok()
            .flatten()
            .map(|p| p.briefing);
        let recorded = async {
            if !gaps::may_record(&store, press.member, press.guild).await? {
                return Ok(false);
            }
            let row = Unanswered {
                at: vote.at,
                guild: press.guild,
                kind: gaps::Kind::Down,
                question: press.question,
                index_version: vote.index_version,
                nearest: briefing.into_iter().collect(),
                passage: Some(press.passage),
                reason_kind: None,
                reason: None,
                interaction: Some(press.interaction),
            };
            gaps::record(&store, &row).await
        }
        .await;
        match recorded {
            Ok(ask_reason) => Voted { reply, ask_reason },
            Err(err) => {
                tracing::warn!(error = %err, "a 👎 could not be recorded for the report");
                Voted {
                    reply,
                    ask_reason: false,
                }
            }
        }
    }

    /// The reason given in the 👎 modal of vote `interaction`.
    pub async fn vote_reason(&self, interaction: u64, kind: &str, text: &str) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("Votes");
        };
        let text = crate::render::discord::cut(text.trim(), 200);
        let kind = if kind.trim().is_empty() && text.is_empty() {
            return notice("Thanks: your 👎 is recorded.");
        } else {
            reason_kind(kind)
        };
        let text = (!text.is_empty()).then_some(text.as_str());
        match gaps::add_reason(&store, interaction, kind, text).await {
            Ok(true) => notice(&format!(
                "Thanks: your 👎 is recorded, with the reason “{kind}”."
            )),
            Ok(false) => notice(
                "Thanks: your 👎 is recorded (its question is no longer kept, so the reason \
                 was not).",
            ),
            Err(err) => self.failed("Votes", &err).await,
        }
    }

    /// Counts a question asked and, when the briefings did not cover it, records it for
    /// the unanswered-questions report: in the background, and only if the database is
    /// open now (the answer never waits for it; while it is down, nothing is counted).
    pub(super) fn note_question(
        &self,
        asker: u64,
        guild: Option<u64>,
        answer: &crate::answer::Answer,
    ) {
        let Some(store) = self.state.ready() else {
            return;
        };
        let refused = (!answer.is_covered()).then(|| Unanswered {
            at: now(),
            guild,
            kind: gaps::Kind::Refused,
            question: answer.question.clone(),
            index_version: Some(answer.index_version.clone()),
            nearest: answer.nearest.clone(),
            passage: None,
            reason_kind: None,
            reason: None,
            interaction: None,
        });
        tokio::spawn(async move {
            let noted = async {
                gaps::count_question(&store, guild, now()).await?;
                if let Some(row) = refused
                    && gaps::may_record(&store, asker, guild).await?
                {
                    gaps::record(&store, &row).await?;
                }
                Ok::<_, StateError>(())
            }
            .await;
            if let Err(err) = noted {
                tracing::warn!(error = %err, "a question could not be noted for the report");
            }
        });
    }

    /// `/privacy questions`: whether a member's unanswered questions are recorded.
    pub async fn set_privacy(&self, member: u64, record: bool) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("Privacy settings");
        };
        match gaps::set_member_recording(&store, member, record, now()).await {
            Ok(()) => notice(if record {
                "Your unanswered questions may be recorded (without your name) for the \
                 moderators' report of what the briefings miss."
            } else {
                "Your questions will not be recorded for the moderators' report: not the \
                 ones the briefings cannot answer, not the ones you vote 👎."
            }),
            Err(err) => self.failed("Privacy settings", &err).await,
        }
    }

    /// `/settings record_questions`: whether a server's unanswered questions are recorded.
    pub async fn set_server_recording(
        &self,
        actor: &Actor,
        guild: u64,
        record: bool,
    ) -> Result<(), Message> {
        let Ok(store) = self.store().await else {
            return Err(render::unavailable("Settings"));
        };
        match gaps::set_server_recording(&store, guild, record, actor.id, now()).await {
            Ok(()) => {
                let what = format!("record_questions = {}", if record { "on" } else { "off" });
                self.audit(actor, "settings", "server", &what).await;
                Ok(())
            }
            Err(err) => Err(self.failed("Settings", &err).await),
        }
    }

    /// `/gaps`: a page of the report on `guild`'s unanswered questions of the last `days`,
    /// for `briefing` (a slug) if one is named.
    pub async fn gaps(
        &self,
        guild: u64,
        days: u32,
        briefing: Option<&str>,
        page: usize,
    ) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("The report");
        };
        let title = match briefing {
            Some(b) => match self.briefing_title(b) {
                Some(t) => Some(t),
                None => return notice("No briefing is called that: `/sources` lists them."),
            },
            None => None,
        };
        let scope = crate::gaps::Scope {
            guild: Some(guild),
            days,
            now: now(),
            briefing: title.clone(),
        };
        match crate::gaps::build(&store, &scope, self.engine().model().cloned()).await {
            Ok(report) => render::gaps_message(&report, days, briefing, title.as_deref(), page),
            Err(err) => self.failed("The report", &err).await,
        }
    }

    /// Deletes what the report keeps past `gaps.keep_days`, as of `at`.
    pub async fn prune_gaps(&self, at: i64) {
        let Some(store) = self.state.ready() else {
            return;
        };
        match gaps::prune(&store, at, self.settings.gaps.keep_days).await {
            Ok(n) if n > 0 => tracing::info!(
                deleted = n,
                keep_days = self.settings.gaps.keep_days,
                "old unanswered questions deleted"
            ),
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "old unanswered questions could not be deleted")
            }
        }
    }

    /// Deletes old unanswered questions every hour, forever.
    pub async fn keep_pruning_gaps(self: Arc<Self>) {
        loop {
            self.prune_gaps(now()).await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
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
                    tracing::warn!(error = %err, file = %self.settings.content.audit_file.display(), "audit line kept in the file until the state database is back")
                }
                _ => {
                    tracing::error!(error = %err, action, target, outcome, actor = actor.id, "cannot record the audit line")
                }
            }
        }
    }

    /// The last content changes made from `guild`, for its moderators.
    pub async fn audit_trail(&self, guild: u64) -> Message {
        let Ok(store) = self.store().await else {
            return render::unavailable("The audit trail");
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
            Err(err) => self.failed("The audit trail", &err).await,
        }
    }

    /// `guild`'s settings, read at most every [`GUILD_SETTINGS_FRESH`]; the defaults while
    /// the database is unavailable (so the bot keeps working, as configured).
    pub async fn server_settings(&self, guild: u64) -> GuildSettings {
        if let Some((s, at)) = self.cached_settings(guild)
            && at.elapsed() < GUILD_SETTINGS_FRESH
        {
            return s;
        }
        let read = match self.store().await {
            Ok(store) => guilds::get(&store, guild).await.map_err(Arc::new),
            Err(err) => Err(err),
        };
        match read {
            Ok(s) => {
                self.cache_settings(guild, &s);
                s
            }
            Err(err) => {
                tracing::debug!(error = %err, guild, "server settings unavailable; using the defaults");
                self.cached_settings(guild)
                    .map(|(s, _)| s)
                    .unwrap_or_else(GuildSettings::fresh)
            }
        }
    }

    /// [`Bot::server_settings`] without waiting for the database: the cached ones, or
    /// what an open database answers within [`QUICK_READ`], else the defaults.
    async fn server_settings_now(&self, guild: u64) -> GuildSettings {
        let cached = self.cached_settings(guild);
        if let Some((s, at)) = &cached
            && at.elapsed() < GUILD_SETTINGS_FRESH
        {
            return s.clone();
        }
        if let Some(store) = self.state.ready()
            && let Ok(Ok(s)) = tokio::time::timeout(QUICK_READ, guilds::get(&store, guild)).await
        {
            self.cache_settings(guild, &s);
            return s;
        }
        cached.map(|(s, _)| s).unwrap_or_else(GuildSettings::fresh)
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
            return render::unavailable("Settings");
        };
        match guilds::get(&store, guild).await {
            Ok(s) => {
                self.cache_settings(guild, &s);
                render::settings_message(&s, self.default_cooldown(), false)
            }
            Err(err) => self.failed("Settings", &err).await,
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
            return render::unavailable("Settings");
        };
        match guilds::update(&store, guild, &changes, actor.id, now()).await {
            Ok(s) => {
                self.cache_settings(guild, &s);
                let what: Vec<String> = changes.iter().map(Change::to_string).collect();
                self.audit(actor, "settings", "server", &what.join(", "))
                    .await;
                render::settings_message(&s, self.default_cooldown(), true)
            }
            Err(err) => self.failed("Settings", &err).await,
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
            (Use::Question, Some(g)) => self.server_settings_now(g).await.cooldown_questions,
            _ => None,
        };
        let wait = self.limits.check_in(user, kind, server).err()?;
        Some(self.limited_reply(kind, wait))
    }

    /// The slug of the briefing `query` names (a slug, a title, or part of one), if one.
    pub fn briefing_slug(&self, query: &str) -> Option<String> {
        let engine = self.engine();
        crate::study::find_briefing(engine.manifest(), query)
            .ok()
            .map(|b| b.slug.clone())
    }

    /// The title of the briefing `query` names, if one.
    pub fn briefing_title(&self, query: &str) -> Option<String> {
        let engine = self.engine();
        crate::study::find_briefing(engine.manifest(), query)
            .ok()
            .map(|b| b.title.clone())
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
