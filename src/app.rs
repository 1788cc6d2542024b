//! Wiring shared by the CLI and the bot: read `content/`, rebuild the index without losing
//! what was indexed, and open the index for answering (building it first when it is
//! missing, damaged or of another version).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::config::{Role, Settings};
use crate::index::{
    BuildError, BuildKind, BuildReport, Changes, Depth, Diff, IndexStore, OpenError, OpenIndex,
    WriterLock, damage, passages_of_source,
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

/// The rows of a version that no passage holds any more: an update gives the briefings
/// it reads new rows past the last, and leaves their old rows' vectors in the vectors
/// files until a full build (and their documents, deleted, in their segments until those
/// are merged; the full build's is not, short of losing 40 % of them). Without a bound
/// they grow with every change: a briefing of 100 paragraphs edited daily leaves 36,500
/// rows a year.
pub fn left_behind(manifest: &crate::index::Manifest) -> u64 {
    manifest.next_row.saturating_sub(manifest.passages)
}

/// An update whose live version has more rows left behind ([`left_behind`]) than both its
/// live passages and this is a full rebuild instead, from the embedding cache (embedding
/// only what changed; an update as usual when the cache lacks more than
/// `search.semantic.embed_before_answering` of the library's vectors, or, for one
/// library's update, while another library has edits waiting: [`others_waiting`]).
/// Past the live count, the rebuild costs no more than the waste it removes (each
/// rebuild of N passages follows N rows left behind); the floor keeps a small library
/// from re-reading every briefing, PDFs included, for a few megabytes (10,000 rows are
/// about 23 MB of vectors with their sentences, at squad-a's 2,301 bytes a row).
pub const LEFT_BEHIND_MAX: u64 = 10_000;

/// Whether a library other than `library` has files changed since the live version
/// (`false` for an update of every library): a full rebuild reads every library's files,
/// and one server's reindex never takes in another's half-done edits, so a server's
/// update rebuilds in full for rows left behind only when none waits. Costs a look at
/// every file's size and time (and reading those that changed), in that rare case only.
fn others_waiting(
    settings: &Settings,
    open: &OpenIndex,
    library: Option<Library>,
) -> Result<bool, AppError> {
    let Some(library) = library else {
        return Ok(false);
    };
    let (_, all) = plan(settings, open, None)?;
    let waiting = all
        .touched()
        .into_iter()
        .find(|source| Library::of_source(source) != library);
    if let Some(source) = waiting {
        tracing::info!(
            waiting = source,
            "rows left behind call for a full rebuild, but another library has edits not yet reindexed: an update instead"
        );
    }
    Ok(waiting.is_some())
}

/// The one process allowed to build an index folder: holds its writer lock while it lives.
pub struct Writer {
    _lock: WriterLock,
}

impl Writer {
    /// Takes the writer lock of `index.dir` for `who`; refused for a reader, and when
    /// another writer runs.
    pub fn acquire(settings: &Settings, who: &str) -> Result<Writer, AppError> {
        if settings.index.role == Role::Reader {
            return Err(AppError::NotWriter);
        }
        let lock = store(settings).writer_lock(who)?;
        Ok(Writer { _lock: lock })
    }

    /// Brings the index up to date with `content/`, or with one library's folder alone
    /// (`library`: a server's reindex never takes in another library's edits):
    /// incrementally ([`IndexStore::update`]) when the live index opens and was built under
    /// the same settings, reading only the files whose stamp changed; by a full rebuild
    /// otherwise. Returns the files read (and every file skipped) and what was done; when
    /// nothing changed, no version is made ([`BuildKind::Unchanged`]).
    pub fn update(
        &self,
        settings: &Settings,
        library: Option<Library>,
    ) -> Result<(Corpus, BuildReport), AppError> {
        // An update shares the live version's files: they are checked whole (each file
        // once per process), or a damaged one would be carried on into every version.
        let store = store(settings).checking(Depth::Checksums);
        let open = match store.open() {
            Ok(open) if open.manifest.shaping.as_deref() == Some(shaping(settings).as_str()) => {
                open
            }
            Ok(_) => {
                tracing::info!("the settings that shape the index changed: a full rebuild");
                return self.rebuild(settings);
            }
            Err(why @ OpenError::Damaged { .. }) => {
                tracing::warn!(reason = %why, "the index is damaged: a full rebuild");
                return self.rebuild(settings);
            }
            Err(why) => {
                tracing::info!(reason = %why, "the index cannot be updated: a full rebuild");
                return self.rebuild(settings);
            }
        };
        let started = std::time::Instant::now();
        let (corpus, changes) = plan(settings, &open, library)?;
        if changes.is_empty_for(&open.manifest) {
            let report = BuildReport {
                manifest: open.manifest.clone(),
                diff: Diff::default(),
                seconds: started.elapsed().as_secs_f64(),
                kind: BuildKind::Unchanged,
                bytes_written: 0,
            };
            return Ok((corpus, report));
        }
        let left = left_behind(&open.manifest);
        if left > LEFT_BEHIND_MAX.max(open.manifest.passages)
            && !others_waiting(settings, &open, library)?
        {
            // Only from the embedding cache: one that lost its vectors would make the
            // rebuild embed the library before anything is published (hours at scale).
            let limit = settings.search.semantic.embed_before_answering;
            let (all, missing) = corpus_and_missing(settings, &store, limit)?;
            if missing <= limit {
                tracing::info!(
                    rows_left_behind = left,
                    passages = open.manifest.passages,
                    "the rows updates left behind outnumber the live ones: a full rebuild"
                );
                let report = self.rebuild_from(settings, &all)?;
                return Ok((all, report));
            }
            tracing::warn!(
                rows_left_behind = left,
                missing_vectors = missing,
                "the rows updates left behind outnumber the live ones, but the embedding cache lacks the vectors of a full rebuild: an update instead"
            );
        }
        let report = store.update(&open, &changes)?;
        Ok((corpus, report))
    }

    /// Embeds every paragraph of `content/` the embedding cache lacks, making no version
    /// ([`IndexStore::embed_ahead`]): a bot that starts with a model its index has no
    /// vectors of runs this first, while it answers and its moderators change content
    /// (lexically), so that the rebuild it runs next, one at a time with their changes,
    /// only reads the cache. Returns how many paragraphs were embedded.
    pub fn embed_ahead(&self, settings: &Settings) -> Result<usize, AppError> {
        let store = store(settings);
        let corpus = ingest(settings, &store)?;
        Ok(store.embed_ahead(&corpus)?)
    }

    /// Reads all of `content/` and rebuilds the whole index from it, atomically (the
    /// previous version stays live until the new one is complete).
    pub fn rebuild(&self, settings: &Settings) -> Result<(Corpus, BuildReport), AppError> {
        let corpus = ingest(settings, &store(settings))?;
        let report = self.rebuild_from(settings, &corpus)?;
        Ok((corpus, report))
    }

    /// [`Writer::rebuild`] that waits for at most `limit` paragraphs' vectors: with the
    /// model's vectors when at most that many lack one in the embedding cache (those are
    /// embedded), by words otherwise, the vectors to be made later. Returns the report and,
    /// when built by words, how many paragraphs lack a vector (0: built with them). A
    /// terminal command waits for `search.semantic.embed_before_answering`, a bot for none.
    pub fn rebuild_embedding_at_most(
        &self,
        settings: &Settings,
        limit: usize,
    ) -> Result<(BuildReport, usize), AppError> {
        let (corpus, missing) = corpus_and_missing(settings, &store(settings), limit)?;
        if missing <= limit {
            return Ok((self.rebuild_from(settings, &corpus)?, 0));
        }
        let mut by_words = settings.clone();
        by_words.search.semantic.model_dir = None;
        Ok((self.rebuild_from(&by_words, &corpus)?, missing))
    }

    /// A reader's `report` that the live version is damaged ([`damage`]), confirmed by
    /// this writer: what its own check found. The live version is read again in full —
    /// every file against its checksum, even those this process found right before, and
    /// every vector. A report of an earlier version (another has been published since), or
    /// of damage that check does not find, is removed, and logged.
    pub fn confirm_reported_damage(
        &self,
        settings: &Settings,
        report: &damage::DamageReport,
    ) -> Option<String> {
        let live = store(settings).live_version();
        if live.as_deref().and_then(|v| v.strip_prefix("v-")) != Some(report.version.as_str()) {
            tracing::info!(version = %report.version, by = %report.by, "removed a report of damage to a version no longer live");
            remove_damage_report(&settings.index.dir);
            return None;
        }
        match read_in_full(settings) {
            Ok(_) => {
                tracing::warn!(version = %report.version, by = %report.by, reason = %report.reason, "a reader reported the live version damaged, but reading it again in full finds it whole; report removed");
                remove_damage_report(&settings.index.dir);
                None
            }
            Err(why) => {
                tracing::warn!(version = %report.version, by = %report.by, reported = %report.reason, found = %why, "a reader reported the live version damaged, and it is");
                Some(why.to_string())
            }
        }
    }

    /// Rebuilds the whole index from `corpus`, read from `content/` (see [`Writer::rebuild`]).
    fn rebuild_from(&self, settings: &Settings, corpus: &Corpus) -> Result<BuildReport, AppError> {
        if corpus.briefings.is_empty() {
            return Err(AppError::NoBriefings {
                dir: settings.content.dir.display().to_string(),
                skipped: corpus.skipped.len(),
            });
        }
        Ok(store(settings).rebuild_shaped(corpus, Some(shaping(settings)))?)
    }
}

/// All of `content/`, and how many of its paragraphs the embedding cache lacks a vector
/// of when that may pass `limit` (0 for a library of at most `limit` paragraphs: counting
/// reads the cache's keys, and a build with the model reads the cache again).
fn corpus_and_missing(
    settings: &Settings,
    store: &IndexStore,
    limit: usize,
) -> Result<(Corpus, usize), AppError> {
    let corpus = ingest(settings, store)?;
    let missing = if corpus.passage_count() > limit {
        store.vectors_missing_in(&corpus)
    } else {
        0
    };
    Ok((corpus, missing))
}

/// What an update of `open` from `content/` (or `library`'s folder) would change: the
/// files read, and the changes. A file that cannot be read now keeps the paragraphs the
/// live index holds of it (its skip reason says so): a broken edit never removes a
/// briefing. The result may not be an empty index.
fn plan(
    settings: &Settings,
    open: &OpenIndex,
    library: Option<Library>,
) -> Result<(Corpus, Changes), AppError> {
    let dir = &settings.content.dir;
    let in_scope = |source: &str| library.is_none_or(|l| Library::of_source(source) == l);
    let live: Vec<&crate::index::BriefingInfo> = open
        .manifest
        .briefings
        .iter()
        .filter(|b| in_scope(&b.source))
        .collect();
    let known: HashMap<String, u64> = live
        .iter()
        .filter_map(|b| Some((b.source.clone(), b.stamp?)))
        .collect();
    let options = IngestOptions::from_settings(settings);
    let scan = ingest::scan_changed(dir, library, &options, &known)?;
    let mut corpus = scan.corpus;
    let mut present: HashSet<String> = scan.unchanged.into_iter().collect();
    present.extend(corpus.briefings.iter().map(|b| b.source.clone()));
    let live_sources: HashSet<&str> = live.iter().map(|b| b.source.as_str()).collect();
    for skipped in &mut corpus.skipped {
        let source = source_of(dir, &skipped.path);
        if live_sources.contains(source.as_str()) && !present.contains(&source) {
            skipped
                .reason
                .push_str("; the previously indexed version is kept");
            present.insert(source);
        }
    }
    let removed: Vec<String> = live
        .iter()
        .filter(|b| !present.contains(&b.source))
        .map(|b| b.source.clone())
        .collect();
    let mut skipped = corpus.skipped.clone();
    skipped.extend(
        open.manifest
            .skipped
            .iter()
            .filter(|s| !in_scope(&source_of(dir, &s.path)))
            .cloned(),
    );
    let remaining = open.manifest.briefings.len() - live.len() + present.len();
    if remaining == 0 {
        return Err(AppError::NoBriefings {
            dir: dir.display().to_string(),
            skipped: corpus.skipped.len(),
        });
    }
    let changes = Changes {
        removed,
        read: corpus.briefings.clone(),
        skipped,
        shaping: Some(shaping(settings)),
    };
    Ok((corpus, changes))
}

/// A path under `content/` as a source (`/`-separated, relative).
fn source_of(content_dir: &Path, path: &Path) -> String {
    path.strip_prefix(content_dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
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

/// The live version read in full after an error that is not known damage (tantivy reports
/// a damaged block of stored text as a read error): every file against its checksum, even
/// those this process found right before, and every vector (none when the version has no
/// vectors of the model, as while they are made: its files are read by words then). Its
/// name when it reads whole; else why it does not open ([`OpenError::Damaged`] for damage).
pub fn read_in_full(settings: &Settings) -> Result<String, OpenError> {
    let store = store(settings).checking(Depth::Rechecked);
    open_by_words_if_need_be(&store).map(|(open, _)| open.manifest.version)
}

/// Removes the damage report in `index_dir` (logged when that fails: the writer then
/// reads it again at its next look, and finds it stale or the version whole).
pub fn remove_damage_report(index_dir: &Path) {
    if let Err(err) = damage::remove(index_dir) {
        tracing::warn!(error = %crate::error_chain(&err), "cannot remove the damage report");
    }
}

/// Reports that `version`, the live one, was found damaged (`reason`), for the writer
/// ([`damage`]): what a reader does, since it cannot rebuild. Whether it could (logged
/// when it could not: an index folder this process may not write into, say).
pub fn report_damage(settings: &Settings, version: &str, reason: &str) -> bool {
    let root = &settings.index.dir;
    match damage::write(root, &damage::DamageReport::new(version, reason)) {
        Ok(()) => {
            tracing::info!(version = %version, "told the index writer the version is damaged");
            true
        }
        Err(err) => {
            tracing::error!(dir = %root.display(), error = %crate::error_chain(&err), "cannot tell the index writer the index is damaged (writing the damage report failed)");
            false
        }
    }
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
        stamp: None,
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

/// A hash of what shapes the indexed text besides the files: this briefbot's version and
/// schema, the sentence-embedding model, and the settings that change how files are read
/// or indexed. Kept in the manifest: an update under another is a full rebuild. Hashed
/// with [`Fnv64`](crate::fnv::Fnv64), stable across builds.
fn shaping(settings: &Settings) -> String {
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
        c.furniture,
    );
    let mut h = crate::fnv::Fnv64::default();
    h.eat(shaping.as_bytes());
    format!("{:016x}", h.finish())
}

/// One full rebuild by a one-shot writer (`briefbot index --full`): takes the writer lock
/// for its length.
pub fn rebuild(settings: &Settings) -> Result<(Corpus, BuildReport), AppError> {
    Writer::acquire(settings, "briefbot index --full")?.rebuild(settings)
}

/// One update by a one-shot writer (`briefbot index`; see [`Writer::update`]).
pub fn update(settings: &Settings) -> Result<(Corpus, BuildReport), AppError> {
    Writer::acquire(settings, "briefbot index")?.update(settings, None)
}

/// Each briefing an index holds: its source and paragraphs.
pub type Holds = Vec<(String, u64)>;

/// What an update would do, touching nothing (of everything, or of one library): the
/// files it would read, the paragraphs it would add, change and remove, and each briefing
/// the index would then hold within that scope (source and paragraphs).
pub fn dry_run(
    settings: &Settings,
    library: Option<Library>,
) -> Result<(Corpus, Diff, Holds), AppError> {
    // Checked whole, as an update checks what it builds on: reading a damaged version's
    // columns can make tantivy panic.
    let store = store(settings).checking(Depth::Checksums);
    let in_scope = |source: &str| library.is_none_or(|l| Library::of_source(source) == l);
    match store.open() {
        Ok(open) if open.manifest.shaping.as_deref() == Some(shaping(settings).as_str()) => {
            let (corpus, changes) = plan(settings, &open, library)?;
            let diff = store.diff_of(&open, &changes).map_err(BuildError::from)?;
            let touched = changes.touched();
            let mut holds: Vec<(String, u64)> = open
                .manifest
                .briefings
                .iter()
                .filter(|b| in_scope(&b.source) && !touched.contains(b.source.as_str()))
                .map(|b| (b.source.clone(), b.paragraphs))
                .chain(
                    changes
                        .read
                        .iter()
                        .map(|b| (b.source.clone(), b.paragraphs.len() as u64)),
                )
                .collect();
            holds.sort();
            Ok((corpus, diff, holds))
        }
        _ => {
            let corpus = ingest(settings, &store)?;
            let diff = store.diff(&corpus);
            let holds = corpus
                .briefings
                .iter()
                .filter(|b| in_scope(&b.source))
                .map(|b| (b.source.clone(), b.paragraphs.len() as u64))
                .collect();
            Ok((corpus, diff, holds))
        }
    }
}

/// An engine over the live index, and the rebuild that was needed to get it, if any.
pub struct Opened {
    pub engine: Engine,
    /// Why the index had to be built first, and what that build did.
    pub built: Option<(OpenError, BuildReport)>,
    /// Set when the engine answers by words although a model is in use
    /// ([`open_for_command`]).
    pub by_words: Option<ByWords>,
}

/// Why a terminal command answers by words although a model is in use: the live version
/// holds none of its vectors (or was just built without them: `why` is then `None`, and
/// [`Opened::built`] says why it was built), and `missing` paragraphs lack a vector in the
/// embedding cache, more than `search.semantic.embed_before_answering`; or this is a
/// reader, which never builds (and does not count them: `missing` is 0).
#[derive(Debug)]
pub struct ByWords {
    pub why: Option<OpenError>,
    pub missing: usize,
    /// The index is read-only here (`index.role = "reader"`): its writer makes the vectors.
    pub reader: bool,
}

/// [`open_or_build`] for a one-shot terminal command (`ask`, `read`, `sources`…), which
/// has nothing to answer meanwhile and may wait for a build, but not for hours: it embeds
/// at most `search.semantic.embed_before_answering` paragraphs (those in the embedding
/// cache count as made). A live version that lacks the model's vectors (it was just
/// switched on, or changed) is rebuilt with them only within that limit, and an index that
/// must be built (missing, damaged) is built without them past it; the command then
/// answers by words, and [`Opened::by_words`] says why and how many are missing. A reader
/// never builds.
pub fn open_for_command(settings: &Settings, ranking: Ranking) -> Result<Opened, AppError> {
    let store = store(settings);
    let (open, pending) = match open_by_words_if_need_be(&store) {
        Ok(opened) => opened,
        Err(why) => return build_for_command(settings, ranking, &store, why),
    };
    let Some(why) = pending else {
        return opened(settings, ranking, open, None);
    };
    let reader = settings.index.role == Role::Reader;
    let limit = settings.search.semantic.embed_before_answering;
    // Counting reads every paragraph: a reader (which never builds) and a library no
    // larger than the limit need no count.
    let missing = if !reader && open.manifest.passages as usize > limit {
        match store.vectors_missing(&open) {
            Ok(missing) => missing,
            // Counting reads every stored paragraph, so damage tantivy reports as a read
            // error is met here first: read in full, and rebuilt when it is damage.
            Err(err) => {
                drop(open);
                return match read_in_full(settings) {
                    Err(why @ OpenError::Damaged { .. }) => {
                        build_for_command(settings, ranking, &store, why)
                    }
                    _ => Err(err.into()),
                };
            }
        }
    } else {
        0
    };
    if !reader && missing <= limit {
        drop(open);
        return build_and_open(settings, ranking, None, &store, why);
    }
    let mut answering = opened(settings, ranking, open, None)?;
    answering.by_words = Some(ByWords {
        why: Some(why),
        missing,
        reader,
    });
    Ok(answering)
}

/// For a command whose question met an error reading the live index that reading it in
/// full ([`read_in_full`]) found to be damage (`why`): rebuilt as [`open_for_command`]
/// rebuilds an index that does not open — from `content/` and the embedding cache — and
/// opened again; a reader says so instead.
pub fn rebuild_damaged(
    settings: &Settings,
    ranking: Ranking,
    why: OpenError,
) -> Result<Opened, AppError> {
    build_for_command(settings, ranking, &store(settings), why)
}

/// [`open_for_command`]'s answer to a live index that did not open for `why`: a writer
/// rebuilds it, with the model's vectors when at most `embed_before_answering` of its
/// paragraphs lack one in the embedding cache, by words otherwise; a reader says so.
fn build_for_command(
    settings: &Settings,
    ranking: Ranking,
    store: &IndexStore,
    why: OpenError,
) -> Result<Opened, AppError> {
    if settings.index.role == Role::Reader || store.model().is_none() {
        return build_and_open(settings, ranking, None, store, why);
    }
    tracing::info!(reason = %why, "rebuilding the index");
    let limit = settings.search.semantic.embed_before_answering;
    let (report, missing) = rebuild_embedding_at_most(settings, None, limit)?;
    if missing == 0 {
        return opened(settings, ranking, store.open()?, Some((why, report)));
    }
    let open = store.clone().with_model(None).open()?;
    let mut answering = opened(settings, ranking, open, Some((why, report)))?;
    answering.by_words = Some(ByWords {
        why: None,
        missing,
        reader: false,
    });
    Ok(answering)
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
    match store.open() {
        Ok(open) => opened(settings, ranking, open, None),
        Err(why) => build_and_open(settings, ranking, writer, &store, why),
    }
}

/// [`Writer::rebuild_embedding_at_most`] by `writer`, or by a writer lock taken for it.
fn rebuild_embedding_at_most(
    settings: &Settings,
    writer: Option<&Writer>,
    limit: usize,
) -> Result<(BuildReport, usize), AppError> {
    match writer {
        Some(w) => w.rebuild_embedding_at_most(settings, limit),
        None => Writer::acquire(settings, "briefbot index --full")?
            .rebuild_embedding_at_most(settings, limit),
    }
}

/// An engine over `open`, which `built` made, if any.
fn opened(
    settings: &Settings,
    ranking: Ranking,
    open: OpenIndex,
    built: Option<(OpenError, BuildReport)>,
) -> Result<Opened, AppError> {
    Ok(Opened {
        engine: Engine::new(open, SearchOptions::from_settings(settings, ranking))?,
        built,
        by_words: None,
    })
}

/// [`open_or_build`]'s answer to a live index that did not open for `why`: a writer
/// rebuilds it and opens the new version; a reader says so.
fn build_and_open(
    settings: &Settings,
    ranking: Ranking,
    writer: Option<&Writer>,
    store: &IndexStore,
    why: OpenError,
) -> Result<Opened, AppError> {
    if settings.index.role == Role::Reader {
        return Err(AppError::ReaderCannotBuild(why));
    }
    tracing::info!(reason = %why, "rebuilding the index");
    let (_, report) = match writer {
        Some(w) => w.rebuild(settings)?,
        None => rebuild(settings)?,
    };
    let open = store.open()?;
    opened(settings, ranking, open, Some((why, report)))
}

/// What a long-running process answers from at its start ([`open_for_serving`]).
pub struct Serving {
    pub opened: Opened,
    /// Set when the live version is whole but holds no passage vectors of the model in
    /// use (the model was just switched on, or changed): it answers by words meanwhile,
    /// and a writer makes the vectors in the background ([`Writer::update`]), which takes
    /// minutes to hours for a large library. Says why.
    pub vectors_pending: Option<OpenError>,
}

/// Opens the live index for a bot, checking every file's checksum: as [`open_or_build`]
/// does, except that a version lacking the model's vectors is not rebuilt first (a writer)
/// nor waited for (a reader): it answers by words until a version with them is published.
/// An index a writer must build (missing, damaged) is built with the vectors the
/// embedding cache holds, and by words when it lacks any: those are made afterwards.
pub fn open_for_serving(settings: &Settings, writer: Option<&Writer>) -> Result<Serving, AppError> {
    let store = store(settings).checking(Depth::Checksums);
    let (opened, vectors_pending) = match open_by_words_if_need_be(&store) {
        Ok((open, pending)) => {
            if let Some(why) = &pending {
                tracing::warn!(reason = %why, "answering by words until the model's passage vectors are made");
            }
            (opened(settings, Ranking::Full, open, None)?, pending)
        }
        Err(why) => {
            if settings.index.role == Role::Reader {
                return Err(AppError::ReaderCannotBuild(why));
            }
            // Built without waiting for vectors the embedding cache lacks (a library the
            // model was just switched on over, a first start: hours at scale): the
            // version then holds none, answers by words, and the writer makes them in
            // the background, as for a live version without them.
            tracing::info!(reason = %why, "rebuilding the index");
            let (report, _) = rebuild_embedding_at_most(settings, writer, 0)?;
            // Just written by this process: its footers are read, not every checksum.
            let (open, pending) = open_by_words_if_need_be(&self::store(settings))?;
            if let Some(pending) = &pending {
                tracing::warn!(reason = %pending, "built the index by words: the embedding cache lacks the model's vectors; answering by words until they are made");
            }
            (
                opened(settings, Ranking::Full, open, Some((why, report)))?,
                pending,
            )
        }
    };
    Ok(Serving {
        opened,
        vectors_pending,
    })
}

/// Opens the live version with `store`; one that is whole but holds no vectors of the
/// store's model is opened without them, to answer by words, and the reason returned
/// with it. A version without them that does not open by words either fails for what is
/// wrong with it then (damage, say), not for the missing vectors.
pub fn open_by_words_if_need_be(
    store: &IndexStore,
) -> Result<(OpenIndex, Option<OpenError>), OpenError> {
    match store.open() {
        Ok(open) => Ok((open, None)),
        Err(why @ OpenError::ModelChanged { .. }) => store
            .clone()
            .with_model(None)
            .open()
            .map(|open| (open, Some(why))),
        Err(why) => Err(why),
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
