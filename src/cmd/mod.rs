//! One module per subcommand, each with its `Args` and an `execute`.

pub mod add;
pub mod ask;
pub mod eval;
pub mod generate;
pub mod index;
pub mod libraries;
pub mod model;
pub mod pdf_extract;
pub mod records;
pub mod serve;
pub mod sources;
pub mod study;

use anyhow::Result;
use briefbot::answer::AnswerError;
use briefbot::app::{self, Opened};
use briefbot::config::Settings;
use briefbot::index::OpenError;
use briefbot::library::Scope;
use briefbot::search::{Engine, Ranking, SearchError};
use briefbot::study::quiz::QuizError;

/// Which libraries a reading command sees: by default the shared one, as a DM does.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ScopeArgs {
    /// Read as the members of this server (a Discord server id) do: its own library and
    /// the shared one.
    #[arg(long, value_name = "SERVER_ID", conflicts_with = "all_libraries")]
    server: Option<u64>,
    /// Read every library: the shared one and every server's.
    #[arg(long)]
    all_libraries: bool,
}

impl ScopeArgs {
    pub fn scope(self) -> Scope {
        match (self.all_libraries, self.server) {
            (true, _) => Scope::All,
            (false, Some(id)) => Scope::Server { id, shared: true },
            (false, None) => Scope::Shared,
        }
    }

    /// `engine` within the scope asked for.
    pub fn engine(self, engine: &Engine) -> Engine {
        engine.scoped(self.scope())
    }
}

pub use briefbot::render::count;

/// Opens the index for a one-shot command ([`app::open_for_command`], saying on stderr
/// what it built) and runs `work` on it. Opening reads only the files' footers: an error
/// reading the index during `work` (a vector or a block of stored text that does not
/// match its checksum, one tantivy reports as a read error, or a panic: tantivy trusts
/// its files, and a changed byte of a column's dictionary makes it index out of bounds)
/// has the version read in full, and damage found there is cured as at opening — rebuilt
/// from `content/` and the embedding cache — and `work` runs once more. Other errors (no
/// such briefing, no quiz to be made) are returned as they are, without reading the
/// index again; so is a panic over an index that reads whole, with its message. A panic
/// while opening is looked into the same way.
pub fn with_index<T>(settings: &Settings, work: impl Fn(&Opened) -> Result<T>) -> Result<T> {
    let opening = unpanicked(|| Ok(app::open_for_command(settings, Ranking::Full)?));
    let err = match opening {
        Ok(opened) => {
            report_auto_build(&opened);
            match unpanicked(|| work(&opened)) {
                Err(err) if reads_index(&err) => err,
                done => return done,
            }
        }
        Err(err) if err.downcast_ref::<Panicked>().is_some() => err,
        Err(err) => return Err(err),
    };
    let why = match app::read_in_full(settings) {
        Err(why @ OpenError::Damaged { .. }) => why,
        _ => return Err(err),
    };
    let opened = app::rebuild_damaged(settings, Ranking::Full, why)?;
    report_auto_build(&opened);
    unpanicked(|| work(&opened))
}

/// A panic while reading the index: its message and where it was raised.
#[derive(Debug, thiserror::Error)]
#[error("reading the index failed: {0}")]
struct Panicked(String);

/// `work`, with a panic turned into an error ([`Panicked`]). The default hook would print
/// the panic (and "note: run with `RUST_BACKTRACE=1`…") before the cure's own account of
/// it, so it is set aside meanwhile and the message kept for the error: a one-shot
/// command does nothing else meanwhile.
fn unpanicked<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    use std::sync::{Arc, Mutex, PoisonError};
    let message = Arc::new(Mutex::new(None));
    let kept = message.clone();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        let text = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        *kept.lock().unwrap_or_else(PoisonError::into_inner) = Some(format!("{text}{at}"));
    }));
    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    std::panic::set_hook(hook);
    done.unwrap_or_else(|_| {
        let text = message
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        Err(Panicked(text.unwrap_or_else(|| "a panic".into())).into())
    })
}

/// Whether `err` came of reading the index, and so may be damage.
fn reads_index(err: &anyhow::Error) -> bool {
    err.downcast_ref::<SearchError>().is_some()
        || err.downcast_ref::<Panicked>().is_some()
        || matches!(err.downcast_ref(), Some(AnswerError::Search(_)))
        || matches!(err.downcast_ref(), Some(QuizError::Search(_)))
}

/// Tells the user (on stderr) that the index had to be built before answering.
pub fn report_auto_build(opened: &Opened) {
    if let Some((why, report)) = &opened.built {
        eprintln!(
            "briefbot: {why}; built it: {}, {} in {:.2} s",
            count(report.manifest.briefings.len(), "briefing"),
            count(report.manifest.passages as usize, "passage"),
            report.seconds
        );
        for s in &report.manifest.skipped {
            eprintln!("briefbot: skipped {}: {}", s.path.display(), s.reason);
        }
    }
    if let Some(b) = &opened.by_words {
        let how = if b.reader {
            "this index is read-only here (index.role = \"reader\"), and its writer makes them"
                .to_string()
        } else {
            format!(
                "{} to embed, more than search.semantic.embed_before_answering \
                 (`briefbot index` makes their vectors, and can be stopped and resumed)",
                count(b.missing, "paragraph")
            )
        };
        match &b.why {
            Some(why) => eprintln!("briefbot: {why}; answering by words meanwhile: {how}"),
            None => eprintln!(
                "briefbot: built it without the model's vectors, answering by words meanwhile: {how}"
            ),
        }
    }
}

/// Tells the user (on stderr) when the settings name a sentence-embedding model that
/// cannot be used: answers are then lexical.
pub fn report_model(settings: &briefbot::config::Settings) {
    if let Err(e) = briefbot::semantic::shared(&settings.search.semantic) {
        eprintln!("briefbot: {e}; answering lexically (BM25 and its re-ranker)");
    }
}
