//! Wiring shared by the CLI and the bot: read `content/`, rebuild the index without losing
//! what was indexed, and open the index for answering (building it first when it is
//! missing, damaged or of another version).

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::{Role, Settings};
use crate::index::{
    BuildError, BuildReport, Depth, Diff, IndexStore, OpenError, OpenIndex, WriterLock,
    all_passages, passages_of_source,
};
use crate::ingest::{self, Briefing, Corpus, IngestError, IngestOptions, Paragraph, Passage};
use crate::library::Library;
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
    /// What `content/` looked like when the last rebuild began to read it (at start: as
    /// the live index's manifest says).
    last_read: std::sync::Mutex<LastRead>,
}

/// What the live index was read from, as far as this writer knows.
#[derive(Debug, Clone, Default)]
struct LastRead {
    /// [`Signature::combined`] of everything it holds; `None`: unknown.
    combined: Option<String>,
    /// Each library's part, by the library's term ([`Signature::libraries`]).
    libraries: Option<BTreeMap<String, u64>>,
}

impl Writer {
    /// Takes the writer lock of `index.dir` for `who`; refused for a reader, and when
    /// another writer runs.
    pub fn acquire(settings: &Settings, who: &str) -> Result<Writer, AppError> {
        if settings.index.role == Role::Reader {
            return Err(AppError::NotWriter);
        }
        let store = store(settings);
        let lock = store.writer_lock(who)?;
        // Kept with the index, so that a writer that starts again over unchanged content
        // knows it needs no rebuild.
        let manifest = store.live_manifest();
        let last_read = LastRead {
            combined: manifest.as_ref().and_then(|m| m.content_signature.clone()),
            libraries: manifest.and_then(|m| m.content_libraries),
        };
        Ok(Writer {
            _lock: lock,
            last_read: std::sync::Mutex::new(last_read),
        })
    }

    /// Reads one library's folder again and rebuilds the index with it, the other
    /// libraries as the live index holds them (not read again: a server's reindex never
    /// takes in another library's edits), atomically. Without a live index, everything is
    /// read.
    pub fn rebuild_library(
        &self,
        settings: &Settings,
        library: Library,
    ) -> Result<(Corpus, BuildReport), AppError> {
        let store = store(settings);
        let Ok(open) = store.open() else {
            return self.rebuild(settings);
        };
        let before = content_signature(settings);
        let corpus = library_corpus(settings, &open, library)?;
        // The other libraries were not read again: the new index is all of `content/` as
        // it is now only if they are as this writer last read them.
        let previous = self.last_read().libraries;
        let whole = before.filter(|now| {
            previous.is_some_and(|prev| {
                let term = library.term();
                let others = |m: &BTreeMap<String, u64>| -> Vec<(String, u64)> {
                    m.iter()
                        .filter(|(l, _)| **l != term)
                        .map(|(l, s)| (l.clone(), *s))
                        .collect()
                };
                others(&prev) == others(&now.libraries)
            })
        });
        let result = store.rebuild_signed(&corpus, whole.clone().map(Signature::kept));
        *self
            .last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = match (&result, whole) {
            (Ok(_), Some(w)) => w.recorded(),
            _ => LastRead::default(),
        };
        Ok((corpus, result?))
    }

    fn last_read(&self) -> LastRead {
        self.last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Reads `content/` and rebuilds the index from it, atomically.
    pub fn rebuild(&self, settings: &Settings) -> Result<(Corpus, BuildReport), AppError> {
        let before = content_signature(settings);
        let result = self.rebuild_unrecorded(settings, before.clone().map(Signature::kept));
        // Recorded only when the rebuild published what it read.
        *self
            .last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = match (&result, before) {
            (Ok(_), Some(b)) => b.recorded(),
            _ => LastRead::default(),
        };
        result
    }

    /// Whether `content/` is as the last successful rebuild found it (every file's path,
    /// size and modification time): a watched change that a rebuild already read (a
    /// moderator's add, an editor's burst of saves) needs no second rebuild.
    pub fn content_unchanged(&self, settings: &Settings) -> bool {
        let last = self.last_read().combined;
        last.is_some() && last == content_signature(settings).map(|s| s.combined)
    }

    fn rebuild_unrecorded(
        &self,
        settings: &Settings,
        signature: Option<(String, BTreeMap<String, u64>)>,
    ) -> Result<(Corpus, BuildReport), AppError> {
        let store = store(settings);
        let corpus = ingest(settings, &store)?;
        if corpus.briefings.is_empty() {
            return Err(AppError::NoBriefings {
                dir: settings.content.dir.display().to_string(),
                skipped: corpus.skipped.len(),
            });
        }
        let report = store.rebuild_signed(&corpus, signature)?;
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
/// With the settings' sentence-embedding model when one is configured and loads (once
/// per process); lexical only otherwise.
pub fn store(settings: &Settings) -> IndexStore {
    IndexStore::new(
        &settings.index.dir,
        settings.index.title_in_body,
        settings.index.writer_memory_mb,
    )
    .with_model(crate::semantic::usable(&settings.search.semantic))
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

/// The corpus of a rebuild of `library` alone: its folder read again (a broken file
/// keeping its previous paragraphs, as in [`ingest`]), every other library's briefings
/// and skipped files as `open` holds them.
fn library_corpus(
    settings: &Settings,
    open: &OpenIndex,
    library: Library,
) -> Result<Corpus, AppError> {
    let dir = &settings.content.dir;
    let mut corpus = ingest::scan_library(dir, library, &IngestOptions::from_settings(settings))?;
    keep_previous_versions(&mut corpus, dir, open);
    let of_library = |source: &str| Library::of_source(source) == library;
    let mut kept: std::collections::BTreeMap<String, Vec<Passage>> = Default::default();
    for p in all_passages(open).map_err(BuildError::from)? {
        if !of_library(&p.source) {
            kept.entry(p.source.clone()).or_default().push(p);
        }
    }
    corpus
        .briefings
        .extend(kept.values().map(|passages| briefing_of(passages)));
    corpus.skipped.extend(
        open.manifest
            .skipped
            .iter()
            .filter(|s| {
                let relative = s.path.strip_prefix(dir).unwrap_or(&s.path);
                !of_library(&relative.to_string_lossy().replace('\\', "/"))
            })
            .cloned(),
    );
    corpus.briefings.sort_by(|a, b| a.slug.cmp(&b.slug));
    if corpus.briefings.is_empty() {
        return Err(AppError::NoBriefings {
            dir: dir.display().to_string(),
            skipped: corpus.skipped.len(),
        });
    }
    Ok(corpus)
}

/// A briefing as the index holds it, from its passages (one source, in paragraph order).
fn briefing_of(passages: &[Passage]) -> Briefing {
    let first = &passages[0];
    let mut passages = passages.to_vec();
    passages.sort_by_key(|p| p.paragraph);
    Briefing {
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
                page: p.page.and_then(|n| u32::try_from(n).ok()),
            })
            .collect(),
    }
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
        if passages.is_empty() {
            continue;
        }
        corpus.briefings.push(briefing_of(&passages));
        skipped
            .reason
            .push_str("; the previously indexed version is kept");
    }
    corpus.briefings.sort_by(|a, b| a.slug.cmp(&b.slug));
}

/// What a rebuild would read.
#[derive(Debug, Clone)]
struct Signature {
    /// Every file and the settings that shape the index, in one hash (kept in the
    /// manifest).
    combined: String,
    /// Each library's files alone, by the library's term.
    libraries: BTreeMap<String, u64>,
}

impl Signature {
    /// As the manifest keeps it.
    fn kept(self) -> (String, BTreeMap<String, u64>) {
        (self.combined, self.libraries)
    }

    fn recorded(self) -> LastRead {
        LastRead {
            combined: Some(self.combined),
            libraries: Some(self.libraries),
        }
    }
}

/// A hash of what a rebuild would read: every file under `content.dir` (hidden ones aside)
/// with its size and modification time, and the settings that shape the index (and this
/// briefbot's version); `None` when the folder cannot be read. Kept in the manifest, so it
/// is hashed with [`Fnv64`](crate::fnv::Fnv64) over chosen bytes, stable across builds.
fn content_signature(settings: &Settings) -> Option<Signature> {
    let dir = &settings.content.dir;
    let mut entries = Vec::new();
    for entry in crate::library::walk(dir, None) {
        let entry = entry.ok()?;
        if entry.file_type().is_dir() {
            continue;
        }
        let meta = entry.metadata().ok()?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        entries.push((entry.path().to_path_buf(), meta.len(), modified));
    }
    entries.sort();
    let mut h = crate::fnv::Fnv64::default();
    let c = &settings.content;
    let model = crate::semantic::usable(&settings.search.semantic);
    let shaping = format!(
        "briefbot {} schema {} model {} title_in_body {} heading_max_words {} max_file_bytes {} furniture {:?}",
        env!("CARGO_PKG_VERSION"),
        crate::index::SCHEMA_VERSION,
        model.as_ref().map_or("none", |m| m.id()),
        settings.index.title_in_body,
        c.heading_max_words,
        c.max_file_bytes,
        c.furniture
    );
    h.eat(shaping.as_bytes());
    let mut libraries: BTreeMap<Library, crate::fnv::Fnv64> = BTreeMap::new();
    for (path, len, modified) in &entries {
        let relative = path.strip_prefix(dir).unwrap_or(path);
        let library = Library::of_source(&relative.to_string_lossy().replace('\\', "/"));
        let of_library = libraries.entry(library).or_default();
        for h in [&mut h, of_library] {
            h.eat(&[0xff]);
            h.eat(path.as_os_str().as_encoded_bytes());
            h.eat(&[0xff]);
            h.eat(&len.to_le_bytes());
            h.eat(&modified.to_le_bytes());
        }
    }
    Some(Signature {
        combined: format!("{:016x}", h.finish()),
        libraries: libraries
            .into_iter()
            .map(|(l, h)| (l.term(), h.finish()))
            .collect(),
    })
}

/// One rebuild by a one-shot writer (`briefbot index`): takes the writer lock for the
/// length of the rebuild.
pub fn rebuild(settings: &Settings) -> Result<(Corpus, BuildReport), AppError> {
    Writer::acquire(settings, "briefbot index")?.rebuild(settings)
}

/// What a rebuild would change, touching nothing: of everything, or of one library
/// ([`Writer::rebuild_library`]).
pub fn dry_run(settings: &Settings, library: Option<Library>) -> Result<(Corpus, Diff), AppError> {
    let store = store(settings);
    let corpus = match (library, store.open()) {
        (Some(library), Ok(open)) => library_corpus(settings, &open, library)?,
        _ => ingest(settings, &store)?,
    };
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
    open_or_build_checking(settings, ranking, writer, Depth::Footers)
}

/// [`open_or_build`], checking the index's files to `depth` first: a long-running bot
/// reads every checksum once per version; a one-shot command only the footers.
pub fn open_or_build_checking(
    settings: &Settings,
    ranking: Ranking,
    writer: Option<&Writer>,
    depth: Depth,
) -> Result<Opened, AppError> {
    let store = store(settings).checking(depth);
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

/// `text` as it may be shown to members in a chat: the absolute paths of the bot's own
/// folders (content, index, holding folder, the settings' folder) become their short
/// names (`content/tides.md`, `removed/20261202T101500Z/tides.md`), and any other absolute
/// path its last part, so that no message tells a server's layout. Logs keep the whole text.
pub fn redact(settings: &Settings, text: &str) -> String {
    let mut folders: Vec<(String, String)> = [
        &settings.content.dir,
        &settings.content.holding_dir,
        &settings.index.dir,
    ]
    .into_iter()
    .filter(|p| p.is_absolute())
    .map(|p| (p.display().to_string(), short_name(p)))
    .collect();
    for file in [
        &settings.content.audit_file,
        &settings.discord.feedback_file,
    ] {
        if let Some(parent) = file.parent().filter(|p| p.is_absolute()) {
            folders.push((parent.display().to_string(), String::new()));
        }
    }
    // Longest first: a folder inside another is replaced before its parent.
    folders.sort_by_key(|(full, _)| std::cmp::Reverse(full.len()));
    let mut out = text.to_string();
    for (full, short) in folders.iter().filter(|(full, _)| full.len() > 1) {
        // The settings' own folder has no name to show: what is inside it is shown as is.
        let (inside, alone) = match short.as_str() {
            "" => (String::new(), "."),
            name => (format!("{name}/"), name),
        };
        out = out
            .replace(&format!("{full}/"), &inside)
            .replace(full.as_str(), alone);
    }
    other_absolute_paths()
        .replace_all(&out, "$1…/$2")
        .into_owned()
}

fn short_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// An absolute path standing on its own (after a space, a quote, a bracket or the start):
/// its leading folders, and its last part.
fn other_absolute_paths() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r#"(^|[\s(\[`'"=])/(?:[^\s/`'"()\[\]]+/)*([^\s/`'"()\[\]]+)"#)
            .expect("a valid pattern")
    })
}

/// The command the index writer runs as (`briefbot index --watch`), from what it wrote in
/// its lock file, without its pid or host: what a reader may tell members.
pub fn writer_command(settings: &Settings) -> Option<String> {
    let note = store(settings).writer_note()?;
    let start = note.find('`')? + 1;
    let end = start + note[start..].find('`')?;
    Some(note[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_in(base: &str) -> Settings {
        Settings::defaults_in(Path::new(base))
    }

    #[test]
    fn messages_for_members_tell_no_server_paths() {
        let s = settings_in("/srv/bot");
        let cases = [
            (
                "move /srv/bot/content/asia/tides.md to /srv/bot/removed/20261202T1015Z/asia/tides.md",
                "move content/asia/tides.md to removed/20261202T1015Z/asia/tides.md",
            ),
            (
                "cannot write the index in /srv/bot/index: No space left on device",
                "cannot write the index in index: No space left on device",
            ),
            (
                "no briefings could be read from /srv/bot/content (2 files skipped)",
                "no briefings could be read from content (2 files skipped)",
            ),
            (
                "cannot open /var/lib/x/secret.toml: denied",
                "cannot open …/secret.toml: denied",
            ),
            (
                "`/tmp/.tmpAbC/notes.md`: not UTF-8",
                "`…/notes.md`: not UTF-8",
            ),
            ("a ratio 3/4 and and/or stay", "a ratio 3/4 and and/or stay"),
        ];
        for (raw, shown) in cases {
            assert_eq!(redact(&s, raw), shown, "{raw}");
        }
    }
}
