//! Building, publishing and opening versions of the index; see the module above.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tantivy::{DocAddress, Index, IndexWriter, TantivyDocument};

use std::sync::Arc;

use super::integrity::{self, Depth};
use super::schema::{self, Fields, SCHEMA_VERSION};
use crate::ingest::{Corpus, Passage, Skipped};
use crate::semantic::{Model, Vectors};

const CURRENT: &str = "CURRENT";
const LOCK: &str = ".lock";
const WRITER: &str = ".writer";
const MANIFEST: &str = "briefbot.json";
/// Beside the manifest: each passage's id and fingerprint, one `["id", n]` a line, so the
/// next rebuild's diff reads one small file instead of every stored passage.
const FINGERPRINTS: &str = "fingerprints.jsonl";
const BUILD_PREFIX: &str = ".build-";
const VERSION_PREFIX: &str = "v-";

/// What is known about a built index without searching it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    /// Names this build; shown in answers so that a quote can be traced to its index.
    pub version: String,
    /// RFC 3339, UTC.
    pub built_at: String,
    pub title_in_body: bool,
    pub passages: u64,
    pub briefings: Vec<BriefingInfo>,
    pub skipped: Vec<Skipped>,
    /// What `content/` (and the settings that shape the index) looked like when this
    /// build began to read it, as the writer's content signature: a watching writer that
    /// starts again over unchanged content does not rebuild. Absent in older indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_signature: Option<String>,
    /// Each library's part of it (by the library's term), so that a writer started again
    /// knows which libraries a later change left as they were. Absent in older indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_libraries: Option<std::collections::BTreeMap<String, u64>>,
    /// The passage vectors kept with this version (`vectors.bin`), when it was built with
    /// a sentence-embedding model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<VectorsInfo>,
}

/// Which model made a version's passage vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorsInfo {
    /// [`Model::id`](crate::semantic::Model::id).
    pub model: String,
    pub dim: usize,
    /// The model folder, as the writer knew it (for messages only).
    pub model_dir: String,
}

/// One briefing of a built index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefingInfo {
    pub slug: String,
    pub title: String,
    pub source: String,
    pub date: Option<String>,
    pub url: Option<String>,
    pub paragraphs: u64,
}

/// Paragraphs that a rebuild adds, changes or removes, by passage id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// What a rebuild did.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub manifest: Manifest,
    pub diff: Diff,
    pub seconds: f64,
}

/// An opened, checked index version.
pub struct OpenIndex {
    pub index: Index,
    pub fields: Fields,
    pub manifest: Manifest,
    pub dir: PathBuf,
    /// The passage vectors, with the model that made them and reads questions for them:
    /// present when the store has a model and the version was built with it.
    pub semantic: Option<Semantic>,
}

/// A model and the passage vectors it made for one index version.
#[derive(Clone)]
pub struct Semantic {
    pub model: Arc<Model>,
    pub vectors: Arc<Vectors>,
}

/// Why the live index cannot be used; every case is cured by a rebuild.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("no index has been built in {0} yet")]
    Missing(PathBuf),
    #[error("the index in {dir} has schema version {found}; this briefbot needs {expected}")]
    Stale {
        dir: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error(
        "the index in {dir} was built with index.title_in_body = {found}; the settings now say {expected}"
    )]
    SettingChanged {
        dir: PathBuf,
        found: bool,
        expected: bool,
    },
    #[error("the index in {dir} is damaged: {reason}")]
    Damaged { dir: PathBuf, reason: String },
    #[error(
        "the index in {dir} holds no passage vectors of the sentence-embedding model in use ({found})"
    )]
    ModelChanged { dir: PathBuf, found: String },
}

/// Why a rebuild failed; the previous index stays live in every case.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("a reindex is already running (lock held on {0})")]
    Busy(PathBuf),
    #[error("cannot write the index in {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("building the index failed: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("embedding the paragraphs failed: {0}")]
    Embed(#[from] crate::semantic::ModelError),
    #[error(
        "another index writer is running on {dir} ({holder}); only one writer may run per \
         index folder. It reindexes on /reindex, or on its own with content.watch = true; \
         otherwise stop it first, or run this process with index.role = \"reader\""
    )]
    WriterRunning { dir: PathBuf, holder: String },
}

/// The right to build the index folder, held for as long as a writer runs: an OS lock on
/// `index/.writer` (released by the OS when the process dies, so it is never stale), with
/// who holds it written inside for the message a second writer gets.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Bytes of text per compressed block of tantivy's document store (its default is 16 KiB).
/// Every answer reads its ~20 re-rank candidates from random places, and each read
/// decompresses a whole block. Generated 100k: decompression 12% → 5% of search time
/// (`perf record` on `cargo bench --bench answer`), search 1.23 → 1.10 ms, index 79 → 83 MB.
const DOCSTORE_BLOCK_BYTES: usize = 4096;

/// The index folder: builds, publishes and opens versions.
#[derive(Debug, Clone)]
pub struct IndexStore {
    root: PathBuf,
    title_in_body: bool,
    writer_memory_bytes: usize,
    depth: Depth,
    /// Embeds each build's passages, and is required of the versions opened.
    model: Option<Arc<Model>>,
    /// Where the embedding cache is, and whether a build drops its unused vectors.
    embedding_cache: Option<(PathBuf, bool)>,
}

impl IndexStore {
    pub fn new(root: impl Into<PathBuf>, title_in_body: bool, writer_memory_mb: usize) -> Self {
        IndexStore {
            root: root.into(),
            title_in_body,
            writer_memory_bytes: writer_memory_mb * 1024 * 1024,
            depth: Depth::Footers,
            model: None,
            embedding_cache: None,
        }
    }

    /// The same store keeping its embedding cache in `dir` instead of
    /// `<root>/embeddings`, never dropping vectors from it (`eval`, whose scratch index
    /// dies with it, keeps the vectors of every question set it measured).
    pub fn with_shared_embedding_cache(mut self, dir: PathBuf) -> Self {
        self.embedding_cache = Some((dir, false));
        self
    }

    /// The same store with a sentence-embedding model: every build keeps its passages'
    /// vectors, and a version without this model's vectors is opened as one to rebuild
    /// ([`OpenError::ModelChanged`]). Without a model, vectors are ignored.
    pub fn with_model(mut self, model: Option<Arc<Model>>) -> Self {
        self.model = model;
        self
    }

    pub fn model(&self) -> Option<&Arc<Model>> {
        self.model.as_ref()
    }

    /// The same store, checking the files of a version to `depth` before opening it
    /// (footers only by default; see [`Depth`]).
    pub fn checking(mut self, depth: Depth) -> Self {
        self.depth = depth;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Opens the live version and checks it against the manifest and the settings.
    ///
    /// A rebuild may publish a new version, and remove an old one, between reading
    /// `CURRENT` and opening the version it named: when opening fails and `CURRENT` has
    /// moved meanwhile, the new live version is opened instead.
    pub fn open(&self) -> Result<OpenIndex, OpenError> {
        let mut attempts = 0;
        loop {
            let before = self.current_name();
            let result = self.open_once();
            attempts += 1;
            match result {
                Err(OpenError::Damaged { .. } | OpenError::Missing(_))
                    if attempts < 5 && self.current_name() != before =>
                {
                    continue;
                }
                other => return other,
            }
        }
    }

    fn current_name(&self) -> Option<String> {
        fs::read_to_string(self.root.join(CURRENT)).ok()
    }

    fn open_once(&self) -> Result<OpenIndex, OpenError> {
        let current = self.root.join(CURRENT);
        let name = match fs::read_to_string(&current) {
            Ok(name) => name.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OpenError::Missing(self.root.clone()));
            }
            Err(e) => return Err(self.damaged(format!("{}: {e}", current.display()))),
        };
        if !name.starts_with(VERSION_PREFIX) || name.contains(['/', '\\']) {
            return Err(self.damaged(format!("{CURRENT} names no index version ({name:?})")));
        }
        let dir = self.root.join(&name);
        let manifest: Manifest = fs::read(dir.join(MANIFEST))
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
            .map_err(|e| self.damaged(format!("{name}/{MANIFEST}: {e}")))?;
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(OpenError::Stale {
                dir,
                found: manifest.schema_version,
                expected: SCHEMA_VERSION,
            });
        }
        if manifest.title_in_body != self.title_in_body {
            return Err(OpenError::SettingChanged {
                dir,
                found: manifest.title_in_body,
                expected: self.title_in_body,
            });
        }
        let semantic = match &self.model {
            None => None,
            Some(model) => {
                match &manifest.vectors {
                    Some(v) if v.model == model.id() => {}
                    other => {
                        return Err(OpenError::ModelChanged {
                            dir,
                            found: match other {
                                Some(v) => format!("it has those of {}", v.model_dir),
                                None => "it was built without one".into(),
                            },
                        });
                    }
                }
                let path = dir.join(crate::semantic::vectors::FILE);
                let vectors =
                    Vectors::open(&path).map_err(|e| self.damaged(format!("{name}: {e}")))?;
                if vectors.len() as u64 != manifest.passages || vectors.dim() != model.dim() {
                    return Err(self.damaged(format!(
                        "{name}: {} vectors of {} dimensions for {} passages",
                        vectors.len(),
                        vectors.dim(),
                        manifest.passages
                    )));
                }
                Some(Semantic {
                    model: model.clone(),
                    vectors: Arc::new(vectors),
                })
            }
        };
        let opened = open_checked(&dir, &manifest, self.depth)
            .map_err(|e| self.damaged(format!("{name}: {e}")))?;
        Ok(OpenIndex {
            index: opened.0,
            fields: opened.1,
            manifest,
            dir,
            semantic,
        })
    }

    fn damaged(&self, reason: String) -> OpenError {
        OpenError::Damaged {
            dir: self.root.clone(),
            reason,
        }
    }

    /// What a rebuild from `corpus` would change, against the live index (everything is
    /// "added" when there is none). Touches nothing.
    pub fn diff(&self, corpus: &Corpus) -> Diff {
        self.diff_to(&fingerprints(corpus))
    }

    /// [`IndexStore::diff`] to passages given by their ids and fingerprints.
    fn diff_to(&self, new: &[(String, u64)]) -> Diff {
        let old = self
            .open()
            .ok()
            .and_then(|open| {
                read_fingerprints(&open.dir.join(FINGERPRINTS)).or_else(|| {
                    // An index built before fingerprints were kept.
                    let passages = all_passages(&open).ok()?;
                    Some(
                        passages
                            .iter()
                            .map(|p| (p.id.clone(), fingerprint(p)))
                            .collect(),
                    )
                })
            })
            .unwrap_or_default();
        diff(&old, new)
    }

    /// Builds a new version from `corpus` and makes it the live one.
    pub fn rebuild(&self, corpus: &Corpus) -> Result<BuildReport, BuildError> {
        self.rebuild_signed(corpus, None)
    }

    /// [`IndexStore::rebuild`], keeping `signature` (what the content looked like when it
    /// was read: the whole, and each library's part) in the new version's manifest.
    pub fn rebuild_signed(
        &self,
        corpus: &Corpus,
        signature: Option<(String, std::collections::BTreeMap<String, u64>)>,
    ) -> Result<BuildReport, BuildError> {
        let started = Instant::now();
        fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        let _lock = self.lock()?;
        let prints = fingerprints(corpus);
        let diff = self.diff_to(&prints);
        self.remove_leftover_builds();

        let (content_signature, content_libraries) = signature.unzip();
        let manifest = Manifest {
            content_signature,
            content_libraries,
            ..self.manifest_for(corpus)
        };
        let build = tempfile::Builder::new()
            .prefix(BUILD_PREFIX)
            .tempdir_in(&self.root)
            .map_err(io_err(&self.root))?;
        self.write_index(build.path(), corpus, &prints, &manifest)?;

        let name = format!("{VERSION_PREFIX}{}", manifest.version);
        let dest = self.root.join(&name);
        let build_path = build.keep();
        fs::rename(&build_path, &dest).map_err(|e| {
            let _ = fs::remove_dir_all(&build_path);
            BuildError::Io {
                path: dest.clone(),
                source: e,
            }
        })?;
        failpoint("before-publish");
        let previous = fs::read_to_string(self.root.join(CURRENT)).ok();
        self.publish(&name)?;
        self.remove_old_versions(&name, previous.as_deref().map(str::trim));
        Ok(BuildReport {
            manifest,
            diff,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// The manifest of the live version, read without opening the index (`None` when
    /// there is none, or it cannot be read).
    pub fn live_manifest(&self) -> Option<Manifest> {
        let name = self.live_version()?;
        if !name.starts_with(VERSION_PREFIX) || name.contains(['/', '\\']) {
            return None;
        }
        let bytes = fs::read(self.root.join(name).join(MANIFEST)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The name of the live version (`v-…`), as `CURRENT` says now.
    pub fn live_version(&self) -> Option<String> {
        self.current_name().map(|n| n.trim().to_string())
    }

    /// Takes the writer lock for `who` (a short description such as `briefbot serve`), or
    /// says which process holds it.
    pub fn writer_lock(&self, who: &str) -> Result<WriterLock, BuildError> {
        fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        let path = self.root.join(WRITER);
        let mut file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match try_lock_patiently(&file) {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = self
                    .writer_note()
                    .unwrap_or_else(|| "a process that has not said who it is".into());
                return Err(BuildError::WriterRunning {
                    dir: self.root.clone(),
                    holder,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(BuildError::Io { path, source: e }),
        }
        let since = humantime::format_rfc3339_seconds(SystemTime::now());
        let host = fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| format!(" on {}", h.trim()))
            .unwrap_or_default();
        let note = format!("`{who}`, pid {}{host}, since {since}", std::process::id());
        file.set_len(0)
            .and_then(|()| file.write_all(note.as_bytes()))
            .map_err(io_err(&path))?;
        Ok(WriterLock { _file: file })
    }

    /// What the (last) writer wrote in its lock file: pid, host, command, since when.
    pub fn writer_note(&self) -> Option<String> {
        fs::read_to_string(self.root.join(WRITER))
            .ok()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
    }

    /// Takes the rebuild lock, or says who holds it.
    fn lock(&self) -> Result<File, BuildError> {
        let path = self.root.join(LOCK);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match try_lock_patiently(&file) {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(BuildError::Busy(path)),
            Err(fs::TryLockError::Error(e)) => Err(BuildError::Io { path, source: e }),
        }
    }

    fn manifest_for(&self, corpus: &Corpus) -> Manifest {
        let now = SystemTime::now();
        let nanos = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let stamp = humantime::format_rfc3339_seconds(now).to_string();
        let compact: String = stamp.chars().filter(char::is_ascii_alphanumeric).collect();
        Manifest {
            schema_version: SCHEMA_VERSION,
            version: format!("{compact}-{:04x}", (nanos ^ std::process::id()) & 0xffff),
            built_at: stamp,
            title_in_body: self.title_in_body,
            passages: corpus.passage_count() as u64,
            briefings: corpus
                .briefings
                .iter()
                .map(|b| BriefingInfo {
                    slug: b.slug.clone(),
                    title: b.title.clone(),
                    source: b.source.clone(),
                    date: b.date.clone(),
                    url: b.url.clone(),
                    paragraphs: b.paragraphs.len() as u64,
                })
                .collect(),
            skipped: corpus.skipped.clone(),
            content_signature: None,
            content_libraries: None,
            vectors: self.model.as_ref().map(|m| VectorsInfo {
                model: m.id().to_string(),
                dim: m.dim(),
                model_dir: m.dir().display().to_string(),
            }),
        }
    }

    fn write_index(
        &self,
        dir: &Path,
        corpus: &Corpus,
        prints: &[(String, u64)],
        manifest: &Manifest,
    ) -> Result<(), BuildError> {
        let (schema, fields) = schema::schema();
        let index = Index::builder()
            .schema(schema)
            .settings(tantivy::IndexSettings {
                docstore_blocksize: DOCSTORE_BLOCK_BYTES,
                ..Default::default()
            })
            .create_in_dir(dir)?;
        schema::register(&index);
        let mut writer: IndexWriter = index.writer(self.writer_memory_bytes)?;
        // Every build is a whole new index, read-only once published: no merges while
        // writing, then one merge into a single segment (below).
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for (row, passage) in corpus.passages().enumerate() {
            writer.add_document(schema::document(
                &fields,
                &passage,
                row as u64,
                self.title_in_body,
            ))?;
        }
        failpoint("after-documents");
        writer.commit()?;
        // One segment per indexing thread (or per memory budget) would each be searched
        // for their own top candidates; one segment is searched once. Measured with
        // `briefbot eval` on the generated corpora: p99 at 1M paragraphs 10.0 -> 8.9 ms,
        // p50 2.77 -> 2.41 ms, build 23.0 -> 22.4 s (the default policy's merges along the
        // way cost as much); at 100k, where it never merged, the build takes 1.7 -> 2.4 s.
        let segments = index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        writer.wait_merging_threads()?;
        if let Some(model) = &self.model {
            // In the order of corpus.passages(), the rows, without copying a passage.
            let texts: Vec<&str> = corpus
                .briefings
                .iter()
                .flat_map(|b| b.paragraphs.iter().map(|p| p.text.as_str()))
                .collect();
            let (cache, compact) = self
                .embedding_cache
                .clone()
                .unwrap_or_else(|| (crate::semantic::cache_dir(&self.root), true));
            let rows = crate::semantic::embed_passages(model, &cache, &texts, compact)?;
            let path = dir.join(crate::semantic::vectors::FILE);
            crate::semantic::vectors::write(&path, model.id(), model.dim(), &rows)
                .map_err(io_err(&path))?;
        }
        write_fingerprints(&dir.join(FINGERPRINTS), prints)?;
        let path = dir.join(MANIFEST);
        let json = serde_json::to_vec_pretty(manifest).expect("a manifest serializes");
        write_synced(&path, &json)?;
        sync_dir(dir)
    }

    /// Points `CURRENT` at `name` with an atomic rename.
    fn publish(&self, name: &str) -> Result<(), BuildError> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.root).map_err(io_err(&self.root))?;
        tmp.write_all(name.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io_err(tmp.path()))?;
        let current = self.root.join(CURRENT);
        tmp.persist(&current).map_err(|e| BuildError::Io {
            path: current.clone(),
            source: e.error,
        })?;
        sync_dir(&self.root)
    }

    /// Removes builds that a crashed rebuild left behind (called with the lock held).
    fn remove_leftover_builds(&self) {
        for entry in fs::read_dir(&self.root).into_iter().flatten().flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(BUILD_PREFIX)
            {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Keeps the live version and the one before it (a reader may have just opened it).
    fn remove_old_versions(&self, live: &str, previous: Option<&str>) {
        for entry in fs::read_dir(&self.root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(VERSION_PREFIX) && name != live && Some(name.as_str()) != previous {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Takes an OS lock on `file`, trying for up to a second. A lock released by this process
/// can still be held for a moment by a child it is spawning (a fork shares the open file
/// until the child's exec closes it); a lock really held by another writer stays held.
fn try_lock_patiently(file: &File) -> Result<(), fs::TryLockError> {
    let deadline = Instant::now() + std::time::Duration::from_secs(1);
    loop {
        match file.try_lock() {
            Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Opens the tantivy index of a version after checking its files; a panic inside tantivy
/// (a damage the checks did not foresee) is caught here and reported as damage too.
fn open_checked(dir: &Path, manifest: &Manifest, depth: Depth) -> Result<(Index, Fields), String> {
    std::panic::catch_unwind(|| open_unguarded(dir, manifest, depth)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        Err(format!("reading it panicked ({what})"))
    })
}

fn open_unguarded(
    dir: &Path,
    manifest: &Manifest,
    depth: Depth,
) -> Result<(Index, Fields), String> {
    let index = Index::open_in_dir(dir).map_err(|e| e.to_string())?;
    integrity::check(&index, dir, depth)?;
    schema::register(&index);
    let fields = schema::fields_of(&index.schema()).map_err(|e| e.to_string())?;
    let reader = index.reader().map_err(|e| e.to_string())?;
    let docs = reader.searcher().num_docs();
    if docs != manifest.passages {
        return Err(format!(
            "{docs} passages in the index, {} in its manifest",
            manifest.passages
        ));
    }
    Ok((index, fields))
}

/// Every passage stored in an index, in index order.
pub fn all_passages(open: &OpenIndex) -> tantivy::Result<Vec<Passage>> {
    let reader = open.index.reader()?;
    let searcher = reader.searcher();
    let mut out = Vec::with_capacity(searcher.num_docs() as usize);
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        for doc_id in segment.doc_ids_alive() {
            let doc: TantivyDocument = searcher.doc(DocAddress::new(ord as u32, doc_id))?;
            out.push(schema::passage(&open.fields, &doc));
        }
    }
    Ok(out)
}

/// The stored passages of one source file (its path under `content/`), in paragraph
/// order: reads only that briefing's documents, through the indexed `source` field.
pub fn passages_of_source(open: &OpenIndex, source: &str) -> tantivy::Result<Vec<Passage>> {
    source_passages(&open.index.reader()?.searcher(), &open.fields, source)
}

/// [`passages_of_source`] through an existing searcher.
pub fn source_passages(
    searcher: &tantivy::Searcher,
    fields: &Fields,
    source: &str,
) -> tantivy::Result<Vec<Passage>> {
    let query = tantivy::query::TermQuery::new(
        tantivy::Term::from_field_text(fields.source, source),
        tantivy::schema::IndexRecordOption::Basic,
    );
    let docs = searcher.search(&query, &tantivy::collector::DocSetCollector)?;
    let mut out = Vec::with_capacity(docs.len());
    for address in docs {
        let doc: TantivyDocument = searcher.doc(address)?;
        out.push(schema::passage(fields, &doc));
    }
    out.sort_by_key(|p| p.paragraph);
    Ok(out)
}

/// What a passage shows, hashed with FNV-1a (64 bits; fixed forever, unlike the standard
/// library's hasher, as fingerprints are kept on disk from one build to the next).
fn fingerprint(p: &Passage) -> u64 {
    let mut h = crate::fnv::Fnv64::default();
    let mut eat = |bytes: &[u8]| h.eat(bytes);
    let fields = [
        Some(p.text.as_str()),
        Some(p.briefing.as_str()),
        p.section.as_deref(),
        p.url.as_deref(),
        p.date.as_deref(),
    ];
    for field in fields {
        match field {
            // 0xfe and 0xff never occur in UTF-8: they end a field, or stand for none.
            Some(text) => {
                eat(text.as_bytes());
                eat(&[0xff]);
            }
            None => eat(&[0xfe]),
        }
    }
    // Added with PDF briefings: only a paragraph with a page eats more, so the
    // fingerprints of every other paragraph are what they were.
    if let Some(page) = p.page {
        eat(&[0xfd]);
        eat(&page.to_le_bytes());
    }
    h.finish()
}

/// Each passage's id and fingerprint, in corpus order.
fn fingerprints(corpus: &Corpus) -> Vec<(String, u64)> {
    corpus
        .passages()
        .map(|p| {
            let print = fingerprint(&p);
            (p.id, print)
        })
        .collect()
}

/// Keeps the fingerprints of a build beside it, one `["id", n]` a line, synced.
fn write_fingerprints(path: &Path, prints: &[(String, u64)]) -> Result<(), BuildError> {
    let mut out = std::io::BufWriter::new(File::create(path).map_err(io_err(path))?);
    for print in prints {
        let line = serde_json::to_string(print).expect("an id and a number serialize");
        writeln!(out, "{line}").map_err(io_err(path))?;
    }
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|file| file.sync_all())
        .map_err(io_err(path))
}

/// The fingerprints a build kept, by passage id (`None` if the file is missing or broken).
fn read_fingerprints(path: &Path) -> Option<HashMap<String, u64>> {
    use std::io::BufRead;
    let file = File::open(path).ok()?;
    std::io::BufReader::new(file)
        .lines()
        .map(|line| serde_json::from_str::<(String, u64)>(&line.ok()?).ok())
        .collect()
}

fn diff(old: &HashMap<String, u64>, new: &[(String, u64)]) -> Diff {
    let mut result = Diff::default();
    let mut seen = std::collections::HashSet::new();
    for (id, print) in new {
        match old.get(id) {
            None => result.added.push(id.clone()),
            Some(f) if f != print => result.changed.push(id.clone()),
            Some(_) => {}
        }
        seen.insert(id.as_str());
    }
    let mut removed: Vec<String> = old
        .keys()
        .filter(|id| !seen.contains(id.as_str()))
        .map(|id| id.to_string())
        .collect();
    removed.sort();
    result.removed = removed;
    result
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let mut file = File::create(path).map_err(io_err(path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_err(path))
}

fn sync_dir(dir: &Path) -> Result<(), BuildError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io_err(dir))
}

/// Crash-test hook: when `BRIEFBOT_FAILPOINT` names this point, the process aborts here,
/// as if killed, leaving whatever is on disk. Used by the tests of atomic rebuilds.
fn failpoint(name: &str) {
    if std::env::var("BRIEFBOT_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("briefbot: failpoint {name}: aborting");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_fixed_and_tell_fields_apart() {
        let p = Passage {
            id: "a:1".into(),
            text: "The barrage.".into(),
            briefing: "Tides".into(),
            ..Passage::default()
        };
        // Kept on disk between builds: the value may never change (FNV-1a of the text,
        // 0xff, the title, 0xff, then 0xfe for each missing section, url and date).
        assert_eq!(format!("{:016x}", fingerprint(&p)), "3870c269c8dfe549");
        let empty_section = Passage {
            section: Some(String::new()),
            ..p.clone()
        };
        assert_ne!(fingerprint(&p), fingerprint(&empty_section));
        let moved = Passage {
            text: "The barrage".into(),
            briefing: ".Tides".into(),
            ..p.clone()
        };
        assert_ne!(fingerprint(&p), fingerprint(&moved));
    }
}
