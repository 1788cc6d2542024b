//! Moderators' content changes as the bot's operations: `/reindex`, `/briefing add` and
//! `/briefing remove`, each in one library. [`crate::moderate`] checks and makes the
//! change (who may change which library is decided there, by
//! [`crate::library::may_change`]); this file runs it off the gateway, one change at a
//! time, on the index writer only, swaps the new index in, and writes the audit line.
//! Free of serenity, like [`super::bot`].

use super::bot::{Bot, SOMETHING_WENT_WRONG};
use crate::app;
use crate::config::Settings;
use crate::index::{Depth, Diff};
use crate::library::{Library, Rights};
use crate::moderate::{self, Actor, ModerateError};
use crate::render::count;
use crate::render::discord::{Message, cut, escape, notice};
use crate::web::{self, FetchPolicy};

impl Bot {
    /// What `user` may change, asking in a server they moderate (`moderates`) or not: the
    /// bot's operators (`discord.owners`) change every library.
    pub fn rights(&self, user: u64, moderates: Option<u64>) -> Rights {
        Rights {
            operator: self.settings.discord.owners.contains(&user),
            moderates,
        }
    }

    /// `/reindex` by `actor`: reads `library` again (`None`: every library, for the
    /// operators) and rebuilds the index (or, with `dry_run`, reports what would change)
    /// while questions keep being answered from the old one, then swaps the new one in. A
    /// real reindex is audited with what it did, failed or was refused for.
    pub async fn reindex(
        &self,
        actor: &Actor,
        rights: Rights,
        library: Option<Library>,
        dry_run: bool,
    ) -> Message {
        let (message, outcome) = self.reindex_unaudited(rights, library, dry_run).await;
        if let Some(outcome) = outcome {
            let target = library.map_or_else(|| "every library".to_string(), |l| l.describe());
            self.audit(actor, "reindex", &target, &outcome).await;
        }
        message
    }

    /// The reply to a reindex, and the audit outcome of one that was not a dry run on the
    /// writer.
    async fn reindex_unaudited(
        &self,
        rights: Rights,
        library: Option<Library>,
        dry_run: bool,
    ) -> (Message, Option<String>) {
        let Some(writer) = self.live.writer() else {
            let mut m = notice(&format!(
                "This bot only reads the index (index.role = \"reader\"); the index writer \
                 rebuilds it, and every bot picks up the new version within seconds. {}",
                self.writer_said()
            ));
            m.ephemeral = true;
            return (m, None);
        };
        let audited = |outcome: String| (!dry_run).then_some(outcome);
        let Ok(_guard) = self.live.updating().try_lock() else {
            return (
                notice("A reindex is already running; its report will follow here when it ends."),
                audited("refused: a reindex was already running".into()),
            );
        };
        let settings = self.live.writer_settings();
        let result = tokio::task::spawn_blocking(move || {
            moderate::reindex(&settings, &writer, rights, library, dry_run)
        })
        .await;
        match result {
            Ok(Ok(done)) => {
                if !dry_run {
                    self.live.follow_checking(Depth::Footers).await;
                }
                let outcome = done.report.as_ref().map(|report| {
                    let (briefings, passages, skipped) = counts(&self.settings, &done);
                    let d = &done.diff;
                    format!(
                        "index version {}: {}, {}; paragraphs {} added, {} changed, {} \
                         removed; {} skipped",
                        report.manifest.version,
                        count(briefings, "briefing"),
                        count(passages, "passage"),
                        d.added.len(),
                        d.changed.len(),
                        d.removed.len(),
                        count(skipped, "file"),
                    )
                });
                (reindex_message(&self.settings, &done), outcome)
            }
            Ok(Err(ModerateError::Refused(why))) => {
                let mut m = notice(&format!("Not reindexed: {}.", self.shown(&why)));
                m.ephemeral = true;
                (m, audited(format!("refused: {why}")))
            }
            Ok(Err(err)) => {
                tracing::warn!(error = %crate::error_chain(&err), "reindex failed");
                // The reason goes to the moderator who asked, alone, without server paths.
                let mut m = notice(&format!(
                    "The reindex failed; the previous index keeps answering.\n{}",
                    cut(&self.shown(&err.to_string()), 1500)
                ));
                m.ephemeral = true;
                (m, audited(format!("failed: {err}")))
            }
            Err(err) => {
                tracing::error!(error = %crate::error_chain(&err), "reindex task failed");
                (notice(SOMETHING_WENT_WRONG), audited("failed".into()))
            }
        }
    }

    /// Checks an upload's name and size for `library` before it is downloaded: the
    /// refusal to show, if it is refused.
    pub fn refuse_upload(&self, library: Library, name: &str, size: u64) -> Option<Message> {
        if !self.is_writer() {
            return Some(self.not_the_writer());
        }
        moderate::check_upload(&self.settings, library, name, size)
            .err()
            .map(|e| notice(&format!("Not added: {}", self.shown(&e.to_string()))))
    }

    fn not_the_writer(&self) -> Message {
        notice(&format!(
            "This bot only reads the index (index.role = \"reader\"); briefings are added and \
             removed where the index writer runs. {}",
            self.writer_said()
        ))
    }

    /// What a reader tells members of the index writer: the command it runs as. Its pid
    /// and host stay in the log.
    fn writer_said(&self) -> String {
        tracing::info!(writer = %app::writer_whereabouts(&self.settings), "asked for the index writer");
        match app::writer_command(&self.settings) {
            Some(command) => format!(
                "The index writer runs as `{}`; where, this bot's log says.",
                command.replace('`', "'")
            ),
            None => "No index writer has run on this index folder yet.".to_string(),
        }
    }

    /// Text from the core (an error, a path) as members may read it: escaped, without the
    /// server's paths.
    fn shown(&self, text: &str) -> String {
        escape(&app::redact(&self.settings, text))
    }

    /// `/briefing add` into `library`: checks the file, saves it in the library's folder,
    /// reindexes the library, and writes the audit line.
    pub async fn add_briefing(
        &self,
        actor: Actor,
        rights: Rights,
        library: Library,
        name: &str,
        bytes: Vec<u8>,
    ) -> Message {
        let file = name.to_string();
        let shown = name.replace('`', "'");
        self.change_content(
            actor,
            ("briefing add", name, "Not added"),
            move |settings, writer| moderate::add(settings, writer, rights, library, &file, &bytes),
            move |added| added_reply(added, &shown),
        )
        .await
    }

    /// `/briefing add url:` into `library`: fetches the web page or PDF under the safety
    /// rules of [`crate::web`] (nothing is saved when the fetch is refused), then adds it
    /// as an uploaded file is added, and writes the audit line.
    pub async fn add_briefing_by_link(
        &self,
        actor: Actor,
        rights: Rights,
        library: Library,
        link: &str,
    ) -> Message {
        if !self.is_writer() {
            return self.not_the_writer();
        }
        let policy = FetchPolicy::from_settings(&self.settings);
        let fetched = match web::fetch(link, &policy).await {
            Ok(fetched) => fetched,
            Err(err) => {
                tracing::info!(error = %crate::error_chain(&err), "link not fetched");
                self.audit(&actor, "briefing add", link, &format!("refused: {err}"))
                    .await;
                return notice(&format!(
                    "Not added: {}. Nothing was written.",
                    self.shown(&err.to_string())
                ));
            }
        };
        let shown = cut(&link.replace('`', "'"), 200);
        self.change_content(
            actor,
            ("briefing add", link, "Not added"),
            move |settings, writer| {
                moderate::add_fetched(settings, writer, rights, library, &fetched)
            },
            move |added| added_reply(added, &shown),
        )
        .await
    }

    /// `/briefing remove` of a briefing `guild` reads (`None`: a DM): moves the file to
    /// the holding folder, reindexes its library, says how to restore it, and writes the
    /// audit line.
    pub async fn remove_briefing(
        &self,
        actor: Actor,
        rights: Rights,
        guild: Option<u64>,
        slug: &str,
    ) -> Message {
        let target = slug.to_string();
        let scope = self.scope_of(guild).await;
        let settings = &self.settings;
        self.change_content(
            actor,
            ("briefing remove", slug, "Not removed"),
            move |settings, writer| moderate::remove(settings, writer, rights, scope, &target),
            |removed| {
                let text = format!(
                    "**Removed** “{}” ({}) from {}. Its file was moved, not \
                     deleted, to `{}`. To restore it, move it back to `{}` and `/reindex`, \
                     or `/briefing add` it again.",
                    escape(&removed.title),
                    count(removed.paragraphs as usize, "paragraph"),
                    shown_library(removed.library),
                    app::redact(settings, &removed.kept_at.display().to_string()).replace('`', "'"),
                    app::redact(settings, &removed.from.display().to_string()).replace('`', "'"),
                );
                (
                    text,
                    format!(
                        "removed from {}, moved to {}",
                        removed.library.describe(),
                        removed.kept_at.display()
                    ),
                )
            },
        )
        .await
    }

    /// A moderator's content change: only on the writer, one at a time with reindexes, run
    /// off the gateway; the new index is swapped in, and the outcome goes to the audit
    /// trail. `what` is (audit action, audit target, prefix of a refusal); `done` gives
    /// the reply and the audit outcome of a change that was made.
    async fn change_content<T: Send + 'static>(
        &self,
        actor: Actor,
        (action, target, refused): (&str, &str, &str),
        work: impl FnOnce(&Settings, &app::Writer) -> Result<T, ModerateError> + Send + 'static,
        done: impl FnOnce(&T) -> (String, String),
    ) -> Message {
        let Some(writer) = self.live.writer() else {
            return self.not_the_writer();
        };
        let _guard = self.live.updating().lock().await;
        let settings = self.live.writer_settings();
        let result = tokio::task::spawn_blocking(move || work(&settings, &writer)).await;
        let (message, outcome) = match result {
            Ok(Ok(changed)) => {
                self.live.follow_checking(Depth::Footers).await;
                let (text, outcome) = done(&changed);
                let mut m = notice(&text);
                m.ephemeral = false;
                (m, outcome)
            }
            Ok(Err(err)) => (
                notice(&format!("{refused}: {}", self.shown(&err.to_string()))),
                format!("refused: {err}"),
            ),
            Err(err) => {
                tracing::error!(error = %crate::error_chain(&err), action, "content change task failed");
                (notice(SOMETHING_WENT_WRONG), "failed".to_string())
            }
        };
        self.audit(&actor, action, target, &outcome).await;
        message
    }
}

/// The reply to an added briefing (`from`: its file name or link), and its audit outcome.
fn added_reply(added: &moderate::Added, from: &str) -> (String, String) {
    let b = &added.briefing;
    let sections = b
        .paragraphs
        .iter()
        .filter_map(|p| p.section.as_deref())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let text = format!(
        "**Added** “{}” from `{from}` to {}: {} in {}, slug `{}`. Index version {}.",
        escape(&b.title),
        shown_library(added.library),
        count(b.paragraphs.len(), "paragraph"),
        count(sections, "section"),
        b.slug.replace('`', "'"),
        added.report.manifest.version
    );
    let outcome = format!(
        "added to {} as {} ({})",
        added.library.describe(),
        b.slug,
        count(b.paragraphs.len(), "paragraph")
    );
    (text, outcome)
}

/// A library as its own server's members read its name.
fn shown_library(library: Library) -> &'static str {
    match library {
        Library::Shared => "the shared library",
        Library::Server(_) => "this server's library",
    }
}

/// Briefings, passages and skipped files of what a reindex was asked for.
fn counts(settings: &Settings, done: &moderate::Reindexed) -> (usize, usize, usize) {
    let passages = done.holds.iter().map(|(_, n)| *n as usize).sum();
    let skipped = skipped_of(settings, done).count();
    (done.holds.len(), passages, skipped)
}

/// The skipped files of what a reindex was asked for, with their paths under `content/`.
fn skipped_of<'a>(
    settings: &'a Settings,
    done: &'a moderate::Reindexed,
) -> impl Iterator<Item = (String, &'a str)> + 'a {
    done.corpus.skipped.iter().filter_map(move |s| {
        // Relative to the content folder: members never see where it lies.
        let path = s
            .path
            .strip_prefix(&settings.content.dir)
            .unwrap_or(&s.path)
            .display()
            .to_string()
            .replace('\\', "/");
        done.library
            .is_none_or(|l| Library::of_source(&path) == l)
            .then_some((path, s.reason.as_str()))
    })
}

fn reindex_message(settings: &Settings, done: &moderate::Reindexed) -> Message {
    let dry_run = done.report.is_none();
    let mut text = String::new();
    if dry_run {
        text.push_str("**Dry run**: nothing was changed.\n");
    } else if let Some(r) = &done.report {
        text.push_str(&format!(
            "**Reindexed** in {:.2} s: index version {}.\n",
            r.seconds, r.manifest.version
        ));
    }
    let (briefings, passages, skipped) = counts(settings, done);
    let d: &Diff = &done.diff;
    let whose = match done.library {
        None => "Every library",
        Some(l) => shown_library(l),
    };
    let mut whose = whose.to_string();
    if let Some(first) = whose.get(..1) {
        whose = first.to_uppercase() + &whose[1..];
    }
    text.push_str(&format!(
        "{whose}: {}, {}. Paragraphs {}: {} added, {} changed, {} removed.\n",
        count(briefings, "briefing"),
        count(passages, "passage"),
        if dry_run {
            "that would change"
        } else {
            "changed"
        },
        d.added.len(),
        d.changed.len(),
        d.removed.len()
    ));
    if skipped > 0 {
        text.push_str(&format!("**Skipped {skipped}**:\n"));
        for (path, reason) in skipped_of(settings, done) {
            text.push_str(&format!(
                "• `{}`: {}\n",
                cut(&app::redact(settings, &path).replace('`', "'"), 120),
                escape(&app::redact(settings, reason))
            ));
        }
    }
    let mut m = notice(&text);
    m.ephemeral = false;
    m
}
