//! What the bot does, free of serenity: every operation takes plain values and returns a
//! [`Message`] to send. The event and command handlers only translate Discord's events
//! into these calls, so everything here is tested without a network.
//!
//! Searches and rebuilds run on blocking threads (`spawn_blocking`), never on the tasks
//! that drive the gateway.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use super::rules::{Limits, Use};
use crate::answer::{AnswerError, answer_from};
use crate::app;
use crate::config::Settings;
use crate::live::{Cure, Live};
use crate::render::discord::{self as render, AnswerLayout, Message, cut, escape, notice};
use crate::search::Engine;
use crate::state::guilds::GuildSettings;
use crate::study::{quiz, reading::Reading};

/// The bot's state, shared by every handler.
pub struct Bot {
    pub settings: Settings,
    /// The live index: its engine, the writer's changes, the model's pending vectors.
    pub(super) live: Arc<Live>,
    /// Per-member rate limits of every kind of interaction.
    pub limits: Limits,
    answered: AtomicU64,
    /// Questions answered since start, per server (0: DMs), for `/stats`.
    answered_in: std::sync::Mutex<HashMap<u64, u64>>,
    started: Instant,
    /// First question of each thread the bot opened (also recoverable from the thread's
    /// starter message after a restart).
    threads: std::sync::Mutex<std::collections::HashMap<u64, String>>,
    /// The state database (scores, server settings, audit trail, votes), connected on
    /// first use; answering never waits for it.
    pub(super) state: crate::state::State,
    /// Server settings as last read, for [`GUILD_SETTINGS_FRESH`].
    pub(super) guild_settings: std::sync::Mutex<HashMap<u64, (GuildSettings, Instant)>>,
}

/// Who pressed a quiz button, and where.
#[derive(Debug, Clone)]
pub struct QuizPress {
    pub guild: Option<u64>,
    pub channel: u64,
    pub message: u64,
    pub user: u64,
}

/// What to ask, and how the answer will be shown.
#[derive(Debug, Clone)]
pub struct Ask {
    pub question: String,
    pub offset: usize,
    pub briefing: Option<String>,
    pub ephemeral: bool,
    pub can_discuss: bool,
    pub asker: u64,
    /// The server asked in (`None`: a DM), for the unanswered-questions report.
    pub guild: Option<u64>,
    /// Whether this is a new question, counted for the unanswered-questions report (not
    /// one asked again: Share, More, "Show the closest paragraphs anyway").
    pub counted: bool,
    /// Quote the closest paragraphs even when the briefings do not seem to cover the
    /// question (the refusal's "Show the closest paragraphs anyway").
    pub anyway: bool,
}

impl Ask {
    /// A public question by `asker`, from the first quote, in every briefing, without a
    /// Discuss button.
    pub fn new(question: impl Into<String>, asker: u64) -> Ask {
        Ask {
            question: question.into(),
            offset: 0,
            briefing: None,
            ephemeral: false,
            can_discuss: false,
            asker,
            guild: None,
            counted: true,
            anyway: false,
        }
    }
}

/// One gateway shard of this process, as `/stats` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardStatus {
    pub id: u32,
    pub total: u32,
    /// Connected, resuming, … as serenity names the connection stage.
    pub stage: String,
    /// Time between the last heartbeat and its acknowledgement.
    pub latency_ms: Option<u128>,
}

pub(super) const NO_SUCH_PASSAGE: &str = "No passage has that id. Ids look like `briefing-slug:5`; \
     `/ask` shows them under each quote, and `/sources` lists the briefings.";

pub(super) const SOMETHING_WENT_WRONG: &str =
    "Something went wrong on my side; it has been logged. Please try again.";

/// Said by a reader that found the index damaged and told the writer, which rebuilds it.
pub(super) const INDEX_DAMAGED: &str = "My index of the briefings turned out damaged; it has been logged, \
     and the index writer told: it rebuilds the index, and I answer again once it has (should it not, \
     `briefbot index --full` where it runs).";

/// Said by a reader that found the index damaged and could not tell the writer.
pub(super) const INDEX_DAMAGED_UNTOLD: &str = "My index of the briefings turned out damaged; it has been logged. \
     I answer again once the index writer rebuilds it (`briefbot index --full` where it runs).";

impl Bot {
    /// Opens the index and sets up the state. A writer takes the writer lock and builds
    /// the index if needed; a reader waits for the writer to publish one ([`Live::open`]).
    pub fn new(settings: Settings) -> Result<Bot, app::AppError> {
        let live = Arc::new(Live::open(&settings)?);
        let d = &settings.discord;
        let limits = Limits::new(
            d.cooldown_questions,
            d.cooldown_actions,
            d.cooldown_autocomplete,
            std::time::Duration::from_secs(d.cooldown_seconds),
        );
        let state = crate::state::State::new(&settings);
        Ok(Bot {
            settings,
            live,
            limits,
            answered: AtomicU64::new(0),
            answered_in: Default::default(),
            started: Instant::now(),
            threads: Default::default(),
            state,
            guild_settings: Default::default(),
        })
    }

    /// Makes the model's passage vectors when the live version lacks them
    /// ([`Live::make_pending_vectors`]). Run once, as the bot connects.
    pub async fn make_pending_vectors(self: Arc<Self>) {
        self.live.make_pending_vectors().await
    }

    /// The engine of the live index version (a reindex swaps it; searches in flight keep
    /// the one they started with).
    pub fn engine(&self) -> Arc<Engine> {
        self.live.engine()
    }

    /// Whether this process builds the index (`index.role = "writer"`).
    pub fn is_writer(&self) -> bool {
        self.live.writer().is_some()
    }

    /// Opens the live index version if it is not the one answering ([`Live::follow`]).
    /// Returns the version now answering when it changed.
    pub async fn follow_index(&self) -> Option<String> {
        self.live.follow().await
    }

    /// Checks for a new index version every `index.reload_ms`, forever.
    pub async fn keep_following_index(self: Arc<Self>) {
        let every = std::time::Duration::from_millis(self.settings.index.reload_ms);
        loop {
            tokio::time::sleep(every).await;
            self.follow_index().await;
            // A writer cures what a reader reported damaged.
            if self.live.cure_reported_damage().await == Some(Cure::AnsweringByWords) {
                self.make_vectors_in_background();
            }
        }
    }

    /// The model's passage vectors, made again in the background after a cure rebuilt the
    /// index by words ([`Cure::AnsweringByWords`]).
    fn make_vectors_in_background(&self) {
        let live = self.live.clone();
        tokio::spawn(async move { live.make_pending_vectors().await });
    }

    /// Records one use of `kind` by `user`: the polite private reply to send instead
    /// when they are over their limit.
    pub fn over_limit(&self, user: u64, kind: Use) -> Option<Message> {
        let wait = self.limits.check(user, kind).err()?;
        Some(self.limited_reply(kind, wait))
    }

    /// The polite private reply to a member over their limit of `kind`.
    pub(super) fn limited_reply(&self, kind: Use, wait: std::time::Duration) -> Message {
        let what = match kind {
            Use::Question => "asking quickly",
            Use::Action | Use::Autocomplete => "going quickly",
        };
        let mut m = notice(&format!(
            "You are {what}: please wait {} s and try again.",
            wait.as_secs().max(1)
        ));
        m.ephemeral = true;
        m
    }

    /// Forgets, every `discord.cooldown_seconds`, the members whose allowances are full
    /// again, so the limits hold the members of the last period only; forever.
    pub async fn keep_pruning_limits(self: Arc<Self>) {
        let every = std::time::Duration::from_secs(self.settings.discord.cooldown_seconds);
        loop {
            tokio::time::sleep(every).await;
            self.limits.prune();
        }
    }

    /// Remembers the first question of a thread the bot opened.
    pub fn remember_thread(&self, thread: u64, question: &str) {
        self.threads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(thread, question.to_string());
    }

    /// The first question of a thread the bot opened, if it remembers it.
    pub fn thread_question(&self, thread: u64) -> Option<String> {
        self.threads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&thread)
            .cloned()
    }

    /// Answers a question: the same answering path as `briefbot ask`.
    pub async fn ask(&self, ask: Ask) -> Message {
        let question = match super::rules::check_question(
            &ask.question,
            self.settings.discord.max_question_chars,
        ) {
            Ok(q) => q.to_string(),
            Err(refusal) => return notice(&refusal.to_string()),
        };
        let k = render::quotes_per_message(self.settings.search.top_k);
        let (offset, anyway, briefing) = (ask.offset, ask.anyway, ask.briefing.clone());
        // Damage met while answering is found and cured, and the question asked again
        // once, as for every request on the index (`on_engine`).
        let asked = self
            .on_engine(ask.guild, "search", move |engine| {
                let answered = if anyway {
                    crate::answer::closest(engine, &question, offset, k, briefing.as_deref())
                } else {
                    answer_from(engine, &question, offset, k, briefing.as_deref())
                };
                match answered {
                    Ok(answer) => Ok(Some(answer)),
                    Err(AnswerError::Empty) => Ok(None),
                    Err(err) => Err(err.into()),
                }
            })
            .await;
        let answer = match asked {
            Ok(Some(answer)) => answer,
            Ok(None) => return notice(&super::rules::Refusal::Empty.to_string()),
            Err(message) => return message,
        };
        self.answered.fetch_add(1, Ordering::Relaxed);
        *self
            .answered_in
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(ask.guild.unwrap_or(0))
            .or_default() += 1;
        if ask.counted && ask.offset == 0 && !ask.anyway {
            self.note_question(ask.asker, ask.guild, &answer);
        }
        if ask.offset > 0 && answer.quotes.is_empty() {
            return notice("There are no more quotes for this question.");
        }
        render::answer_message(
            &answer,
            &AnswerLayout {
                offset: ask.offset,
                k,
                ephemeral: ask.ephemeral,
                can_discuss: ask.can_discuss,
                asker: ask.asker,
                briefing: ask.briefing,
            },
        )
    }

    /// One passage whole, or with the paragraphs before and after it, as asked in `guild`
    /// (`None`: a DM).
    pub async fn passage(
        &self,
        guild: Option<u64>,
        id: &str,
        context: bool,
        ephemeral: bool,
    ) -> Message {
        let id = id.trim().to_string();
        self.with_engine(guild, "passage lookup", move |engine| {
            let Some(p) = engine.passage(&id)? else {
                return Ok(notice(NO_SUCH_PASSAGE));
            };
            let (before, after) = if context {
                let near = |n: u64| engine.passage(&format!("{}:{n}", p.slug));
                let before = match p.paragraph {
                    0 | 1 => None,
                    n => near(n - 1)?,
                };
                (before, near(p.paragraph + 1)?)
            } else {
                (None, None)
            };
            Ok(render::passage_message(
                &p,
                before.as_ref(),
                after.as_ref(),
                ephemeral,
            ))
        })
        .await
    }

    /// A page of the list of briefings `guild` reads.
    pub async fn sources(&self, guild: Option<u64>, page: usize) -> Message {
        let engine = self.engine_in(guild).await;
        let briefings: Vec<crate::index::BriefingInfo> = engine.briefings().cloned().collect();
        render::sources_message(&briefings, page, &engine.manifest().version)
    }

    /// Briefings `guild` reads whose title or slug contains `partial` (case-insensitive),
    /// as (title, slug), at most 25 (Discord's limit for choices).
    pub async fn briefing_choices(
        &self,
        guild: Option<u64>,
        partial: &str,
    ) -> Vec<(String, String)> {
        let partial = partial.to_lowercase();
        self.engine_in(guild)
            .await
            .briefings()
            .filter(|b| {
                b.title.to_lowercase().contains(&partial)
                    || b.slug.to_lowercase().contains(&partial)
            })
            .take(25)
            .map(|b| (cut(&b.title, 100), b.slug.clone()))
            .filter(|(_, slug)| slug.len() <= 100)
            .collect()
    }

    /// Passage ids `guild` reads that contain `partial`, at most 25.
    pub async fn passage_choices(&self, guild: Option<u64>, partial: &str) -> Vec<String> {
        let engine = self.engine_in(guild).await;
        let briefings: Vec<&crate::index::BriefingInfo> = engine.briefings().collect();
        crate::index::passage_ids_containing(&briefings, partial.trim(), 25, 100)
    }

    /// Runs `work` on the live engine, within `guild`'s scope, on a blocking thread; an
    /// error or a panic is logged and the user is told something went wrong.
    async fn with_engine(
        &self,
        guild: Option<u64>,
        what: &'static str,
        work: impl Fn(&Engine) -> Result<Message, Box<dyn std::error::Error + Send + Sync>>
        + Send
        + Sync
        + 'static,
    ) -> Message {
        self.on_engine(guild, what, work)
            .await
            .unwrap_or_else(|message| message)
    }

    /// [`Bot::with_engine`] for work that gives a value: the value, or the message to send
    /// instead. An error is looked into ([`Bot::after_error`]): damage found is cured and
    /// the work done again once.
    async fn on_engine<T: Send + 'static>(
        &self,
        guild: Option<u64>,
        what: &'static str,
        work: impl Fn(&Engine) -> Result<T, Box<dyn std::error::Error + Send + Sync>>
        + Send
        + Sync
        + 'static,
    ) -> Result<T, Message> {
        let work = Arc::new(work);
        let mut diagnosed = false;
        loop {
            let engine = self.engine_in(guild).await;
            let version = engine.manifest().version.clone();
            let work = work.clone();
            match tokio::task::spawn_blocking(move || work(&engine)).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(err)) => {
                    tracing::error!(error = %crate::error_chain(&*err), "{what} failed")
                }
                // tantivy trusts its files: damage can make it panic too.
                Err(err) => {
                    tracing::error!(error = %crate::error_chain(&err), "{what} task failed")
                }
            }
            if let Some(message) = self.after_error(&version, diagnosed).await {
                return Err(message);
            }
            diagnosed = true;
        }
    }

    /// An error (or a panic) met while answering from `version` (tantivy reports a damaged
    /// block of stored text as a read error, and trusts its files): `None` to do the
    /// request again, damage found and cured ([`Live::diagnose`]); else the message to
    /// send. `again`: the request was already done again once.
    async fn after_error(&self, version: &str, again: bool) -> Option<Message> {
        let cure = if again {
            None
        } else {
            self.live.diagnose(version).await
        };
        match cure {
            Some(Cure::Answering) => None,
            Some(Cure::AnsweringByWords) => {
                self.make_vectors_in_background();
                None
            }
            Some(Cure::NeedsWriter { told: true }) => Some(notice(INDEX_DAMAGED)),
            Some(Cure::NeedsWriter { told: false }) => Some(notice(INDEX_DAMAGED_UNTOLD)),
            Some(Cure::Failed) | None => Some(notice(SOMETHING_WENT_WRONG)),
        }
    }

    /// A page of a shared reading: at `section` (a name or part of one), or at the page
    /// holding `paragraph`, else the first.
    pub async fn read(
        &self,
        guild: Option<u64>,
        briefing: &str,
        section: Option<&str>,
        paragraph: Option<u64>,
    ) -> Message {
        let (briefing, section) = (briefing.to_string(), section.map(str::to_string));
        self.with_engine(guild, "reading", move |engine| {
            let info = match engine.find_briefing(&briefing) {
                Ok(info) => info,
                Err(err) => return Ok(notice(&escape(&err.to_string()))),
            };
            let reading = Reading::open(engine, info)?;
            let page = match (&section, paragraph) {
                (Some(s), _) => match reading.page_of_section(s) {
                    Some(page) => page,
                    None => {
                        let names: Vec<String> =
                            reading.sections().into_iter().map(|s| s.0).collect();
                        return Ok(notice(&escape(&format!(
                            "“{}” has no section called {s:?}. Its sections: {}",
                            info.title,
                            names.join(" · ")
                        ))));
                    }
                },
                (None, Some(n)) => reading.page_of_paragraph(n),
                (None, None) => 0,
            };
            Ok(render::study::reading_message(
                &reading,
                page,
                &engine.manifest().version,
            ))
        })
        .await
    }

    /// Sections of a briefing whose name contains `partial`, as (name, name), at most 25.
    pub async fn section_choices(
        &self,
        guild: Option<u64>,
        briefing: &str,
        partial: &str,
    ) -> Vec<String> {
        let engine = self.engine_in(guild).await;
        let Ok(info) = engine.find_briefing(briefing) else {
            return Vec::new();
        };
        let Ok(reading) = Reading::open(&engine, info) else {
            return Vec::new();
        };
        let partial = partial.to_lowercase();
        reading
            .sections()
            .into_iter()
            .map(|(name, _)| name)
            .filter(|n| n.to_lowercase().contains(&partial) && !n.is_empty() && n.len() <= 100)
            .take(25)
            .collect()
    }

    /// The quiz of `seed`, from `briefing` or from every briefing.
    pub async fn quiz(&self, guild: Option<u64>, briefing: Option<&str>, seed: u64) -> Message {
        let briefing = briefing.map(str::to_string);
        self.with_engine(guild, "quiz", move |engine| {
            let info = match briefing.as_deref().map(|b| engine.find_briefing(b)) {
                Some(Err(err)) => return Ok(notice(&escape(&err.to_string()))),
                Some(Ok(info)) => Some(info),
                None => None,
            };
            match quiz::make(engine, info, seed) {
                Ok(q) => Ok(render::study::quiz_message(&q)),
                Err(quiz::QuizError::Nothing(scope)) => Ok(notice(&escape(
                    &quiz::QuizError::Nothing(scope).to_string(),
                ))),
                Err(err) => Err(err.into()),
            }
        })
        .await
    }

    /// A member's choice on a quiz: told to them alone, scored once per question.
    pub async fn answer_quiz(
        &self,
        press: QuizPress,
        seed: u64,
        pick: usize,
        check: &str,
        briefing: Option<String>,
    ) -> Message {
        let check = check.to_string();
        let made = self
            .on_engine(press.guild, "quiz", move |engine| {
                let info = briefing
                    .as_deref()
                    .and_then(|b| engine.find_briefing(b).ok());
                match quiz::make(engine, info, seed) {
                    Ok(q) => Ok(Some(q)),
                    // The briefing is gone, or has no quiz any more: the briefings changed.
                    Err(quiz::QuizError::Nothing(_)) => Ok(None),
                    Err(err) => Err(err.into()),
                }
            })
            .await;
        let made = match made {
            Ok(made) => made,
            Err(message) => return message,
        };
        let Some(q) = made.filter(|q| q.check() == check) else {
            return notice(
                "The briefings have changed since this quiz was made; `/quiz` starts a new one.",
            );
        };
        let score = self.score_quiz_answer(&press, &q, pick).await;
        render::study::quiz_result_message(&q, pick, score)
    }

    /// A citation ready to paste.
    pub async fn cite(&self, guild: Option<u64>, id: &str) -> Message {
        let id = id.trim().to_string();
        self.with_engine(guild, "cite", move |engine| {
            Ok(match engine.passage(&id)? {
                Some(p) => render::study::cite_message(&p),
                None => notice(NO_SUCH_PASSAGE),
            })
        })
        .await
    }

    /// Passages for `/cite`'s autocomplete: ids containing `partial`, or, when it is words,
    /// the best matches for them, as (label, id).
    pub async fn cite_choices(&self, guild: Option<u64>, partial: &str) -> Vec<(String, String)> {
        // Words (with a space) are searched; anything else is first taken as part of an id.
        if !partial.trim().contains(char::is_whitespace) {
            let by_id = self.passage_choices(guild, partial).await;
            if !by_id.is_empty() || partial.trim().is_empty() {
                return by_id.into_iter().map(|id| (id.clone(), id)).collect();
            }
        }
        let engine = self.engine_in(guild).await;
        let Ok(hits) = engine.search_lexical(partial, 25, None) else {
            return Vec::new();
        };
        hits.into_iter()
            .filter(|h| h.passage.id.len() <= 100)
            .map(|h| {
                let label = format!("{} · {}", h.passage.id, h.passage.text);
                (cut(&label, 100), h.passage.id)
            })
            .collect()
    }

    /// An update after `content.watch` saw files change ([`Live::update_watched`]).
    pub async fn reindex_watched(&self, changed: &[std::path::PathBuf]) {
        self.live.update_watched(changed).await
    }

    /// Index version, what `guild` reads (its library and the shared one), this
    /// process's role and shards, questions answered there since start, uptime; for one
    /// of the bot's operators (`operator`), the whole index and every question.
    pub async fn stats(
        &self,
        guild: Option<u64>,
        operator: bool,
        shards: &[ShardStatus],
    ) -> Message {
        let engine = if operator {
            self.engine().scoped(crate::library::Scope::All)
        } else {
            self.engine_in(guild).await
        };
        let m = engine.manifest();
        let libraries: Vec<String> = engine
            .libraries()
            .into_iter()
            .filter(|(l, _, _)| engine.scope().admits(*l))
            .map(|(l, briefings, passages)| {
                let name = match (l, guild) {
                    (crate::library::Library::Shared, _) => "shared".to_string(),
                    (crate::library::Library::Server(id), Some(g)) if id == g => {
                        "this server's".to_string()
                    }
                    (crate::library::Library::Server(id), _) => format!("server {id}"),
                };
                format!(
                    "{name}: {}, {}",
                    crate::render::count(briefings, "briefing"),
                    crate::render::count(passages as usize, "passage")
                )
            })
            .collect();
        let answered = if operator {
            self.answered.load(Ordering::Relaxed)
        } else {
            self.answered_in
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&guild.unwrap_or(0))
                .copied()
                .unwrap_or(0)
        };
        let here = if operator {
            "by this process"
        } else if guild.is_some() {
            "here by this process"
        } else {
            "in DMs by this process"
        };
        let up = self.started.elapsed().as_secs();
        let role = if self.is_writer() {
            "writer (builds the index)"
        } else {
            "reader (follows the index writer)"
        };
        let shard_lines: Vec<String> = shards
            .iter()
            .map(|s| {
                let latency = s
                    .latency_ms
                    .map_or_else(|| "no heartbeat yet".to_string(), |ms| format!("{ms} ms"));
                format!("shard {} of {}: {}, {latency}", s.id, s.total, s.stage)
            })
            .collect();
        // A model is set up but this version has none of its vectors: just switched on.
        let by_words = if engine.model().is_none()
            && crate::semantic::usable(&self.settings.search.semantic).is_some()
        {
            " · answering by words until the model's passage vectors are made"
        } else {
            ""
        };
        let text = format!(
            "**Index** {} (built {}){by_words}\n**Briefings** {} · **passages** {} ({})\n\
             **This process** index {role}; {}\n{}\n\
             **Questions answered** {here} since start: {}\n**Uptime** {}h {:02}m {:02}s",
            m.version,
            m.built_at,
            engine.briefings().count(),
            engine.passage_count(),
            if libraries.is_empty() {
                "no library".to_string()
            } else {
                libraries.join("; ")
            },
            super::describe_shards(self.settings.shards),
            shard_lines.join("\n"),
            answered,
            up / 3600,
            up / 60 % 60,
            up % 60
        );
        let mut msg = notice(&text);
        msg.ephemeral = false;
        msg
    }
}
