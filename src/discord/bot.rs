//! What the bot does, free of serenity: every operation takes plain values and returns a
//! [`Message`] to send. The event and command handlers only translate Discord's events
//! into these calls, so everything here is tested without a network.
//!
//! Searches and rebuilds run on blocking threads (`spawn_blocking`), never on the tasks
//! that drive the gateway.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime};

use serde::Serialize;

use super::rules::Cooldown;
use crate::answer::{AnswerError, answer_from};
use crate::app;
use crate::config::Settings;
use crate::index::BuildReport;
use crate::render::discord::{self as render, AnswerLayout, Message, cut, escape, notice};
use crate::search::{Engine, Ranking};

/// The bot's state, shared by every handler.
pub struct Bot {
    pub settings: Settings,
    engine: RwLock<Arc<Engine>>,
    pub cooldown: Cooldown,
    answered: AtomicU64,
    started: Instant,
    reindexing: tokio::sync::Mutex<()>,
    /// First question of each thread the bot opened (also recoverable from the thread's
    /// starter message after a restart).
    threads: std::sync::Mutex<std::collections::HashMap<u64, String>>,
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
}

/// One line of the feedback file.
#[derive(Serialize)]
struct Feedback<'a> {
    time: String,
    question: &'a str,
    passage: &'a str,
    vote: &'a str,
}

const SOMETHING_WENT_WRONG: &str =
    "Something went wrong on my side; it has been logged. Please try again.";

impl Bot {
    /// Opens the index (building it if needed) and sets up the state.
    pub fn new(settings: Settings) -> Result<Bot, app::AppError> {
        let opened = app::open_or_build(&settings, Ranking::Full)?;
        if let Some((why, report)) = &opened.built {
            tracing::info!(reason = %why, passages = report.manifest.passages, "built the index");
        }
        let cooldown = Cooldown::new(
            settings.discord.cooldown_questions,
            std::time::Duration::from_secs(settings.discord.cooldown_seconds),
        );
        Ok(Bot {
            settings,
            engine: RwLock::new(Arc::new(opened.engine)),
            cooldown,
            answered: AtomicU64::new(0),
            started: Instant::now(),
            reindexing: tokio::sync::Mutex::new(()),
            threads: Default::default(),
        })
    }

    /// The engine of the live index version (a reindex swaps it; searches in flight keep
    /// the one they started with).
    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
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
        let engine = self.engine();
        let k = self.settings.search.top_k;
        let min_coverage = self.settings.search.min_coverage;
        let briefing = ask.briefing.clone();
        let q = question.clone();
        let offset = ask.offset;
        let result = tokio::task::spawn_blocking(move || {
            answer_from(&engine, &q, offset, k, min_coverage, briefing.as_deref())
        })
        .await;
        let answer = match result {
            Ok(Ok(answer)) => answer,
            Ok(Err(AnswerError::Empty)) => {
                return notice(&super::rules::Refusal::Empty.to_string());
            }
            Ok(Err(err)) => {
                tracing::error!(error = %err, "search failed");
                return notice(SOMETHING_WENT_WRONG);
            }
            Err(err) => {
                tracing::error!(error = %err, "search task failed");
                return notice(SOMETHING_WENT_WRONG);
            }
        };
        self.answered.fetch_add(1, Ordering::Relaxed);
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

    /// One passage whole, or with the paragraphs before and after it.
    pub async fn passage(&self, id: &str, context: bool, ephemeral: bool) -> Message {
        let engine = self.engine();
        let id = id.trim().to_string();
        let result = tokio::task::spawn_blocking(move || {
            let Some(p) = engine.passage(&id)? else {
                return Ok(None);
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
            Ok::<_, crate::search::SearchError>(Some((p, before, after)))
        })
        .await;
        match result {
            Ok(Ok(Some((p, before, after)))) => {
                render::passage_message(&p, before.as_ref(), after.as_ref(), ephemeral)
            }
            Ok(Ok(None)) => notice(
                "No passage has that id. Ids look like `briefing-slug:5`; `/sources` lists the briefings.",
            ),
            Ok(Err(err)) => {
                tracing::error!(error = %err, "passage lookup failed");
                notice(SOMETHING_WENT_WRONG)
            }
            Err(err) => {
                tracing::error!(error = %err, "passage task failed");
                notice(SOMETHING_WENT_WRONG)
            }
        }
    }

    /// A page of the briefing list.
    pub fn sources(&self, page: usize) -> Message {
        let engine = self.engine();
        let m = engine.manifest();
        render::sources_message(&m.briefings, page, &m.version)
    }

    /// Briefings whose title or slug contains `partial` (case-insensitive), as
    /// (title, slug), at most 25 (Discord's limit for choices).
    pub fn briefing_choices(&self, partial: &str) -> Vec<(String, String)> {
        let partial = partial.to_lowercase();
        self.engine()
            .manifest()
            .briefings
            .iter()
            .filter(|b| {
                b.title.to_lowercase().contains(&partial)
                    || b.slug.to_lowercase().contains(&partial)
            })
            .take(25)
            .map(|b| (cut(&b.title, 100), b.slug.clone()))
            .filter(|(_, slug)| slug.len() <= 100)
            .collect()
    }

    /// Passage ids that start with or contain `partial`, at most 25.
    pub fn passage_choices(&self, partial: &str) -> Vec<String> {
        let partial = partial.trim().to_lowercase();
        let engine = self.engine();
        let mut out = Vec::new();
        for b in &engine.manifest().briefings {
            for n in 1..=b.paragraphs {
                let id = format!("{}:{n}", b.slug);
                if id.len() <= 100 && id.to_lowercase().contains(&partial) {
                    out.push(id);
                    if out.len() == 25 {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// Rebuilds the index (or, with `dry_run`, reports what would change) while questions
    /// keep being answered from the old one; then swaps the new one in.
    pub async fn reindex(&self, dry_run: bool) -> Message {
        let Ok(_guard) = self.reindexing.try_lock() else {
            return notice(
                "A reindex is already running; its report will follow here when it ends.",
            );
        };
        let settings = self.settings.clone();
        let result = tokio::task::spawn_blocking(move || {
            if dry_run {
                let (corpus, diff) = app::dry_run(&settings)?;
                return Ok(Report::DryRun(corpus, diff));
            }
            let (corpus, report) = app::rebuild(&settings)?;
            let opened = app::open_or_build(&settings, Ranking::Full)?;
            Ok::<_, app::AppError>(Report::Built(corpus, Box::new(report), opened.engine))
        })
        .await;
        match result {
            Ok(Ok(Report::DryRun(corpus, diff))) => reindex_message(true, &corpus, &diff, None),
            Ok(Ok(Report::Built(corpus, report, engine))) => {
                *self
                    .engine
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine);
                reindex_message(false, &corpus, &report.diff, Some(&report))
            }
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "reindex failed");
                let mut m = notice(&format!(
                    "The reindex failed; the previous index keeps answering.\n{}",
                    cut(&escape(&err.to_string()), 1500)
                ));
                m.ephemeral = false;
                m
            }
            Err(err) => {
                tracing::error!(error = %err, "reindex task failed");
                notice(SOMETHING_WENT_WRONG)
            }
        }
    }

    /// Index version and size, questions answered, uptime.
    pub fn stats(&self) -> Message {
        let engine = self.engine();
        let m = engine.manifest();
        let up = self.started.elapsed().as_secs();
        let text = format!(
            "**Index** {} (built {})\n**Briefings** {} · **passages** {}\n\
             **Questions answered** since start: {}\n**Uptime** {}h {:02}m {:02}s",
            m.version,
            m.built_at,
            m.briefings.len(),
            m.passages,
            self.answered.load(Ordering::Relaxed),
            up / 3600,
            up / 60 % 60,
            up % 60
        );
        let mut msg = notice(&text);
        msg.ephemeral = false;
        msg
    }

    /// Appends a vote to the feedback file (no user names).
    pub async fn vote(&self, question: &str, passage: &str, up: bool) -> std::io::Result<()> {
        let line = serde_json::to_string(&Feedback {
            time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            question,
            passage,
            vote: if up { "up" } else { "down" },
        })
        .expect("feedback serializes");
        let path = self.settings.discord.feedback_file.clone();
        tokio::task::spawn_blocking(move || append_line(&path, &line))
            .await
            .map_err(std::io::Error::other)?
    }
}

enum Report {
    DryRun(crate::ingest::Corpus, crate::index::Diff),
    Built(crate::ingest::Corpus, Box<BuildReport>, Engine),
}

fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // One write per line, so concurrent votes never interleave within a line.
    file.write_all(format!("{line}\n").as_bytes())
}

fn reindex_message(
    dry_run: bool,
    corpus: &crate::ingest::Corpus,
    diff: &crate::index::Diff,
    report: Option<&BuildReport>,
) -> Message {
    let mut text = String::new();
    if dry_run {
        text.push_str("**Dry run**: nothing was changed.\n");
    } else if let Some(r) = report {
        text.push_str(&format!(
            "**Reindexed** in {:.2} s: index version {}.\n",
            r.seconds, r.manifest.version
        ));
    }
    text.push_str(&format!(
        "{} briefings, {} passages. Paragraphs {}: {} added, {} changed, {} removed.\n",
        corpus.briefings.len(),
        corpus.passage_count(),
        if dry_run {
            "that would change"
        } else {
            "changed"
        },
        diff.added.len(),
        diff.changed.len(),
        diff.removed.len()
    ));
    if !corpus.skipped.is_empty() {
        text.push_str(&format!("**Skipped {}**:\n", corpus.skipped.len()));
        for s in &corpus.skipped {
            text.push_str(&format!(
                "• `{}`: {}\n",
                cut(&s.path.display().to_string().replace('`', "'"), 120),
                escape(&s.reason)
            ));
        }
    }
    let mut m = notice(&text);
    m.ephemeral = false;
    m
}
