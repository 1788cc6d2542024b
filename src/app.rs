//! Wiring shared by the CLI and the bot: read `content/`, rebuild the index without losing
//! what was indexed, and open the index for answering (building it first when it is
//! missing, damaged or of another version).

use std::path::Path;

use crate::config::{Role, Settings};
use crate::index::{
    BuildError, BuildReport, Diff, IndexStore, OpenError, OpenIndex, WriterLock, passages_of_source,
};
use crate::ingest::{self, Briefing, Corpus, IngestError, IngestOptions, Paragraph, Passage};
use crate::search::{Engine, Ranking, SearchError, SearchOptions};

/// Why the index could not be built or opened.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(
        "no briefings could be read from {dir} ({skipped} files skipped); the index was left as it was"
    )]
    NoBriefings { dir: String, skipped: usize },
    #[error(
        "{0}; this process is an index reader (index.role = \"reader\") and never builds: \
         start the writer (`briefbot index --watch`, or a bot with index.role = \"writer\")"
    )]
    ReaderCannotBuild(OpenError),
    #[error(
        "this process is an index reader (index.role = \"reader\"): only the writer rebuilds the index"
    )]
    NotWriter,
}

/// The one process allowed to build an index folder: holds its writer lock while it lives.
pub struct Writer {
    _lock: WriterLock,
    /// What `content/` looked like when the last rebuild began to read it.
    last_read: std::sync::Mutex<Option<u64>>,
}

impl Writer {
    /// Takes the writer lock of `index.dir` for `who`; refused for a reader, and when
    /// another writer runs.
    pub fn acquire(settings: &Settings, who: &str) -> Result<Writer, AppError> {
        if settings.index.role == Role::Reader {
            return Err(AppError::NotWriter);
        }
        Ok(Writer {
            _lock: store(settings).writer_lock(who)?,
            last_read: std::sync::Mutex::new(None),
        })
    }

    /// Reads `content/` and rebuilds the index from it, atomically.
    pub fn rebuild(&self, settings: &Settings) -> Result<(Corpus, BuildReport), AppError> {
        let before = content_signature(&settings.content.dir);
        let result = self.rebuild_unrecorded(settings);
        // Recorded only when the rebuild published what it read.
        *self
            .last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            if result.is_ok() { before } else { None };
        result
    }

    /// Whether `content/` is as the last successful rebuild found it (every file's path,
    /// size and modification time): a watched change that a rebuild already read (a
    /// moderator's add, an editor's burst of saves) needs no second rebuild.
    pub fn content_unchanged(&self, settings: &Settings) -> bool {
        let last = *self
            .last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        last.is_some() && last == content_signature(&settings.content.dir)
    }

    fn rebuild_unrecorded(&self, settings: &Settings) -> Result<(Corpus, BuildReport), AppError> {
        let store = store(settings);
        let corpus = ingest(settings, &store)?;
        if corpus.briefings.is_empty() {
            return Err(AppError::NoBriefings {
                dir: settings.content.dir.display().to_string(),
                skipped: corpus.skipped.len(),
            });
        }
        let report = store.rebuild(&corpus)?;
        Ok((corpus, report))
    }
}

/// Where the index writer of this index folder runs, as it wrote in its lock file, for a
/// reader to tell its users.
pub fn writer_whereabouts(settings: &Settings) -> String {
    match store(settings).writer_note() {
        Some(note) => format!("The writer of this index is (or last was) {note}."),
        None => "No index writer has run on this index folder yet.".to_string(),
    }
}

/// The index store described by the settings.
pub fn store(settings: &Settings) -> IndexStore {
    IndexStore::new(
        &settings.index.dir,
        settings.index.title_in_body,
        settings.index.writer_memory_mb,
    )
}

/// Reads `content.dir`. A briefing that was indexed before but cannot be read now keeps
/// its previously indexed paragraphs (and its skip reason says so): a broken edit never
/// removes a briefing from the index.
pub fn ingest(settings: &Settings, store: &IndexStore) -> Result<Corpus, AppError> {
    let options = IngestOptions::from_settings(settings);
    let mut corpus = ingest::scan(&settings.content.dir, &options)?;
    if !corpus.skipped.is_empty()
        && let Ok(open) = store.open()
    {
        keep_previous_versions(&mut corpus, &settings.content.dir, &open);
    }
    Ok(corpus)
}

/// Reads back, for each skipped file, only the paragraphs the live index holds of it.
fn keep_previous_versions(corpus: &mut Corpus, content_dir: &Path, open: &OpenIndex) {
    for skipped in &mut corpus.skipped {
        let Ok(relative) = skipped.path.strip_prefix(content_dir) else {
            continue;
        };
        let source = relative.to_string_lossy().replace('\\', "/");
        if corpus.briefings.iter().any(|b| b.source == source) {
            continue;
        }
        let passages: Vec<Passage> = passages_of_source(open, &source).unwrap_or_default();
        let Some(first) = passages.first() else {
            continue;
        };
        corpus.briefings.push(Briefing {
            slug: first.slug.clone(),
            title: first.briefing.clone(),
            url: first.url.clone(),
            date: first.date.clone(),
            author: first.author.clone(),
            tags: first.tags.clone(),
            source: first.source.clone(),
            paragraphs: passages
                .iter()
                .map(|p| Paragraph {
                    section: p.section.clone(),
                    text: p.text.clone(),
                })
                .collect(),
        });
        skipped
            .reason
            .push_str("; the previously indexed version is kept");
    }
    corpus.briefings.sort_by(|a, b| a.slug.cmp(&b.slug));
}

/// A hash of every file under `dir` (hidden ones aside) with its size and modification
/// time; `None` when the folder cannot be read.
fn content_signature(dir: &Path) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut entries = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = entry.ok()?;
        if entry.file_type().is_dir() {
            continue;
        }
        let meta = entry.metadata().ok()?;
        entries.push((entry.path().to_path_buf(), meta.len(), meta.modified().ok()));
    }
    entries.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    entries.hash(&mut h);
    Some(h.finish())
}

/// One rebuild by a one-shot writer (`briefbot index`): takes the writer lock for the
/// length of the rebuild.
pub fn rebuild(settings: &Settings) -> Result<(Corpus, BuildReport), AppError> {
    Writer::acquire(settings, "briefbot index")?.rebuild(settings)
}

/// What a rebuild would change, touching nothing.
pub fn dry_run(settings: &Settings) -> Result<(Corpus, Diff), AppError> {
    let store = store(settings);
    let corpus = ingest(settings, &store)?;
    let diff = store.diff(&corpus);
    Ok((corpus, diff))
}

/// An engine over the live index, and the rebuild that was needed to get it, if any.
pub struct Opened {
    pub engine: Engine,
    /// Why the index had to be built first, and what that build did.
    pub built: Option<(OpenError, BuildReport)>,
}

/// Opens the live index, rebuilding it from `content/` first when it is missing, damaged
/// or of another version (a writer only: a reader says so instead). `writer` is the
/// caller's writer lock if it holds one; otherwise one is taken for the rebuild.
pub fn open_or_build(
    settings: &Settings,
    ranking: Ranking,
    writer: Option<&Writer>,
) -> Result<Opened, AppError> {
    let store = store(settings);
    let options = SearchOptions::from_settings(settings, ranking);
    match store.open() {
        Ok(open) => Ok(Opened {
            engine: Engine::new(open, options)?,
            built: None,
        }),
        Err(why) if settings.index.role == Role::Reader => Err(AppError::ReaderCannotBuild(why)),
        Err(why) => {
            tracing::info!(reason = %why, "rebuilding the index");
            let (_, report) = match writer {
                Some(w) => w.rebuild(settings)?,
                None => rebuild(settings)?,
            };
            let open = store.open()?;
            Ok(Opened {
                engine: Engine::new(open, options)?,
                built: Some((why, report)),
            })
        }
    }
}
