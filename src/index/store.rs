//! Building, publishing and opening versions of the index; see the module above.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

use std::sync::Arc;

use super::integrity::{self, Depth};
use super::schema::{self, Fields, SCHEMA_VERSION};
use crate::ingest::{Briefing, Corpus, Passage, Skipped};
use crate::semantic::{Model, Vectors};

const CURRENT: &str = "CURRENT";
const LOCK: &str = ".lock";
const WRITER: &str = ".writer";
const MANIFEST: &str = "briefbot.json";
/// Beside the manifest: the briefings of the last full build (see [`write_manifest`]).
const BRIEFINGS: &str = "briefings.json";
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
    /// A hash of the settings and the briefbot build that shaped the indexed text (see
    /// `app`): an update under others is a full rebuild.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shaping: Option<String>,
    /// The `row` the next passage added gets: rows are given out once along a line of
    /// updates (a removed passage's row is not reused, so that its vector is never read
    /// as another's).
    #[serde(default)]
    pub next_row: u64,
    /// On disk, the briefings are kept in `briefings.json`, written by a full build and
    /// shared (linked) by the updates after it, and in this: what the updates since
    /// changed of that list, so that an update writes the few briefings it changed and
    /// not the list of all. Read back into [`Manifest::briefings`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub briefings_since_build: Option<BriefingChanges>,
    /// The passage vectors kept with this version (`vectors.bin`), when it was built with
    /// a sentence-embedding model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<VectorsInfo>,
}

/// What the updates since the last full build changed of its list of briefings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefingChanges {
    /// Sources whose briefing was removed or replaced.
    pub removed: std::collections::BTreeSet<String>,
    /// Briefings added or replaced, by source (applied after `removed`).
    pub added: std::collections::BTreeMap<String, BriefingInfo>,
}

/// Files skipped and why, in one order (for comparing lists made in other orders).
fn sorted_skips(skipped: &[Skipped]) -> Vec<(&Path, &str)> {
    let mut out: Vec<(&Path, &str)> = skipped
        .iter()
        .map(|s| (s.path.as_path(), s.reason.as_str()))
        .collect();
    out.sort_unstable();
    out
}

/// Writes a version's manifest: with `whole`, its briefings into `briefings.json` (a new
/// file: never into the one shared with the version before) and none in the manifest;
/// otherwise the manifest keeps [`Manifest::briefings_since_build`] and the shared
/// `briefings.json` is left as it is.
fn write_manifest(dir: &Path, manifest: &Manifest, whole: bool) -> Result<(), BuildError> {
    let mut on_disk = Manifest {
        briefings: Vec::new(),
        ..manifest.clone()
    };
    let list = dir.join(BRIEFINGS);
    if whole {
        // Never through the link a version before this one may share.
        let _ = fs::remove_file(&list);
        let json = serde_json::to_vec(&manifest.briefings).expect("briefings serialize");
        write_synced(&list, &json)?;
        on_disk.briefings_since_build = None;
    }
    let path = dir.join(MANIFEST);
    let json = serde_json::to_vec_pretty(&on_disk).expect("a manifest serializes");
    write_synced(&path, &json)
}

/// Reads a version's manifest, with its whole list of briefings (sorted by slug).
fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let read = |name: &str| -> Result<Vec<u8>, String> {
        fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))
    };
    let mut manifest: Manifest =
        serde_json::from_slice(&read(MANIFEST)?).map_err(|e| format!("{MANIFEST}: {e}"))?;
    if manifest.schema_version != SCHEMA_VERSION || !manifest.briefings.is_empty() {
        // Another schema's (refused by the caller), or one that holds its list itself.
        return Ok(manifest);
    }
    let mut briefings: Vec<BriefingInfo> =
        serde_json::from_slice(&read(BRIEFINGS)?).map_err(|e| format!("{BRIEFINGS}: {e}"))?;
    if let Some(changes) = &manifest.briefings_since_build {
        briefings.retain(|b| !changes.removed.contains(&b.source));
        briefings.extend(changes.added.values().cloned());
        briefings.sort_by(|a, b| a.slug.cmp(&b.slug));
    }
    manifest.briefings = briefings;
    Ok(manifest)
}

/// Which model made a version's passage vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorsInfo {
    /// [`Model::id`](crate::semantic::Model::id).
    pub model: String,
    pub dim: usize,
    /// The model folder, as the writer knew it (for messages only).
    pub model_dir: String,
    /// The files holding them, each with its first row: `vectors.bin` from the full
    /// build (from row 0), then one per update that added rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<VectorPart>,
}

/// One vectors file of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorPart {
    pub file: String,
    pub first_row: u64,
    pub rows: u64,
    /// The file's CRC32 as written, checked by every reader that opens the version
    /// (absent in versions written before it was kept: those are not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<u32>,
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
    /// The `row` of its first paragraph (the others follow).
    #[serde(default)]
    pub first_row: u64,
    /// What its file (and metadata file) looked like when it was read
    /// ([`crate::ingest::Briefing::stamp`]): an update re-reads only files that changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<u64>,
}

impl BriefingInfo {
    /// The rows of its paragraphs.
    pub fn rows(&self) -> std::ops::Range<usize> {
        let start = self.first_row as usize;
        start..start + self.paragraphs as usize
    }

    fn of(b: &Briefing, first_row: u64) -> BriefingInfo {
        BriefingInfo {
            slug: b.slug.clone(),
            title: b.title.clone(),
            source: b.source.clone(),
            date: b.date.clone(),
            url: b.url.clone(),
            paragraphs: b.paragraphs.len() as u64,
            first_row,
            stamp: b.stamp,
        }
    }
}

/// Paragraphs that a rebuild adds, changes or removes, by passage id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// What a rebuild or an update did.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub manifest: Manifest,
    pub diff: Diff,
    pub seconds: f64,
    /// How it was made: a whole new index, an update of the previous version, or nothing
    /// (the content was as the live version holds it).
    pub kind: BuildKind,
    /// Bytes of the files it wrote (not those it shared with the previous version).
    pub bytes_written: u64,
}

/// How a version was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildKind {
    Full,
    Incremental,
    /// No new version: nothing had changed.
    Unchanged,
}

/// What an incremental update changes ([`IndexStore::update`]).
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Sources (paths under `content/`) whose passages go.
    pub removed: Vec<String>,
    /// Briefings read again (new, or changed): each replaces its source's passages.
    pub read: Vec<Briefing>,
    /// The new version's files skipped, all of them.
    pub skipped: Vec<Skipped>,
    /// [`Manifest::shaping`] of the new version.
    pub shaping: Option<String>,
}

impl Changes {
    /// Every source whose passages go: removed, or read again.
    pub fn touched(&self) -> std::collections::BTreeSet<&str> {
        self.removed
            .iter()
            .map(String::as_str)
            .chain(self.read.iter().map(|b| b.source.as_str()))
            .collect()
    }

    /// The ids and fingerprints of the passages read.
    fn new_prints(&self) -> Vec<(String, u64)> {
        self.read
            .iter()
            .flat_map(Briefing::passages)
            .map(|p| {
                let print = fingerprint(&p);
                (p.id, print)
            })
            .collect()
    }

    /// Whether it changes nothing of what `manifest` holds.
    pub fn is_empty_for(&self, manifest: &Manifest) -> bool {
        // The same files skipped for the same reasons, in whatever order (an update of one
        // library lists its own first).
        self.removed.is_empty()
            && self.read.is_empty()
            && sorted_skips(&self.skipped) == sorted_skips(&manifest.skipped)
    }
}

/// An opened, checked index version.
pub struct OpenIndex {
    pub index: Index,
    /// A reader of this version's segments, made while it was opened: every search reads
    /// through it (or a clone), never the folder's `meta.json` again, which a writer may
    /// remove two versions later.
    pub reader: IndexReader,
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
    #[error("the live index cannot be updated ({0}); it needs a full rebuild")]
    NotUpdatable(#[from] OpenError),
    #[error("the live index changed while this update was prepared; try again")]
    Moved,
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

    /// Where builds keep the embedding cache, and whether they drop unused vectors from it.
    fn embedding_cache(&self) -> (PathBuf, bool) {
        self.embedding_cache
            .clone()
            .unwrap_or_else(|| (crate::semantic::cache_dir(&self.root), true))
    }

    /// Embeds the paragraphs of `corpus` the embedding cache lacks and writes them to it,
    /// making no version: the slow part of switching a model on, done ahead of the
    /// rebuild, which then takes every vector from the cache. Needs no lock of the index
    /// (the builds it could race with are lexical ones, which do not touch the cache).
    /// Returns how many paragraphs were embedded (none without a model).
    pub fn embed_ahead(&self, corpus: &Corpus) -> Result<usize, BuildError> {
        let Some(model) = &self.model else {
            return Ok(0);
        };
        let (cache, _) = self.embedding_cache();
        Ok(crate::semantic::embed_ahead(
            model,
            &cache,
            &paragraph_texts(corpus),
        )?)
    }

    /// How many distinct paragraphs of `open` the embedding cache lacks a vector of, for
    /// the paragraph or one of its sentences, for this store's model (none without a
    /// model): what a rebuild with the model would embed, if `content/` is as `open`
    /// holds it.
    ///
    /// Only the texts' keys are kept, not the texts: at 100k paragraphs `ask` peaks at
    /// 205 MB, and peaked at 307 MB when every stored passage was read into memory first.
    pub fn vectors_missing(&self, open: &OpenIndex) -> Result<usize, BuildError> {
        if self.model.is_none() {
            return Ok(0);
        }
        Ok(self.missing_of(passage_text_keys(open)?))
    }

    /// How many distinct paragraphs of `corpus` the embedding cache lacks a vector of (of
    /// the paragraph or a sentence) for this store's model (none without a model): what
    /// a build of it would embed.
    pub fn vectors_missing_in(&self, corpus: &Corpus) -> usize {
        let texts = paragraph_texts(corpus);
        self.missing_of(texts.iter().map(|t| crate::semantic::keys_of(t)))
    }

    /// How many distinct passages, each given by its texts' keys, have a text the
    /// embedding cache lacks (none without a model).
    fn missing_of(&self, keys: impl IntoIterator<Item = Vec<u64>>) -> usize {
        self.model.as_ref().map_or(0, |model| {
            crate::semantic::count_missing(model, &self.embedding_cache().0, keys)
        })
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
        let manifest = read_manifest(&dir).map_err(|e| self.damaged(format!("{name}/{e}")))?;
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
                let vectors = open_vectors(&dir, &manifest)
                    .map_err(|e| self.damaged(format!("{name}: {e}")))?;
                // A question checks the sentence vectors it reads; a long-running bot
                // (and a writer's update) checks them all before it answers from (or
                // builds on) the version, each file once.
                if self.depth >= Depth::Checksums {
                    for file in vectors.files() {
                        super::integrity::once(self.depth, file, || vectors.check_sentences(file))
                            .map_err(|e| self.damaged(format!("{name}: {e}")))?;
                    }
                }
                if !vectors.has_sentences() {
                    return Err(OpenError::ModelChanged {
                        dir,
                        found: "its vectors were made before sentence vectors were kept".into(),
                    });
                }
                if vectors.dim() != model.dim() {
                    return Err(self.damaged(format!(
                        "{name}: vectors of {} dimensions, the model makes {}",
                        vectors.dim(),
                        model.dim()
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
        let (index, fields, reader) = opened;
        Ok(OpenIndex {
            index,
            reader,
            fields,
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

    /// [`IndexStore::diff`] to passages given by their ids and fingerprints. The live
    /// version is checked whole first (each file once per process): a rebuild is how
    /// damage is cured, and tantivy trusts its files — a changed byte of the columns'
    /// dictionary made it panic here, so that `index --full` could not cure it. A
    /// damaged version counts as none (everything "added").
    fn diff_to(&self, new: &[(String, u64)]) -> Diff {
        let old = self
            .clone()
            .checking(self.depth.max(Depth::Checksums))
            .open()
            .ok()
            .and_then(|open| all_fingerprints(&open).ok())
            .unwrap_or_default();
        diff(&old, new)
    }

    /// Builds a new version from `corpus` and makes it the live one.
    pub fn rebuild(&self, corpus: &Corpus) -> Result<BuildReport, BuildError> {
        self.rebuild_shaped(corpus, None)
    }

    /// [`IndexStore::rebuild`], keeping `shaping` ([`Manifest::shaping`]) in the new
    /// version's manifest.
    pub fn rebuild_shaped(
        &self,
        corpus: &Corpus,
        shaping: Option<String>,
    ) -> Result<BuildReport, BuildError> {
        let started = Instant::now();
        fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        let _lock = self.lock()?;
        let prints = fingerprints(corpus);
        let diff = self.diff_to(&prints);
        self.remove_leftover_builds();

        let mut manifest = Manifest {
            shaping,
            ..self.manifest_for(corpus)
        };
        let build = tempfile::Builder::new()
            .prefix(BUILD_PREFIX)
            .tempdir_in(&self.root)
            .map_err(io_err(&self.root))?;
        self.write_index(build.path(), corpus, &prints, &mut manifest)?;
        self.publish_build(build, manifest, diff, started, BuildKind::Full)
    }

    /// What [`IndexStore::update`] of `base` with `changes` would add, change and remove.
    pub fn diff_of(&self, base: &OpenIndex, changes: &Changes) -> tantivy::Result<Diff> {
        let (old, _) = touched_passages(base, &changes.touched())?;
        Ok(diff(&old, &changes.new_prints()))
    }

    /// Renames a finished build to its version folder, makes it the live version, and
    /// reports it.
    fn publish_build(
        &self,
        build: tempfile::TempDir,
        manifest: Manifest,
        diff: Diff,
        started: Instant,
        kind: BuildKind,
    ) -> Result<BuildReport, BuildError> {
        let bytes_written = new_bytes(build.path());
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
        failpoint("before-publish", &dest)?;
        let previous = fs::read_to_string(self.root.join(CURRENT)).ok();
        self.publish(&name)?;
        self.remove_old_versions(&name, previous.as_deref().map(str::trim));
        Ok(BuildReport {
            manifest,
            diff,
            seconds: started.elapsed().as_secs_f64(),
            kind,
            bytes_written,
        })
    }

    /// Makes a new version from the live one, `base`, with `changes`: the passages of
    /// every removed or re-read source are deleted by their `source` term, the re-read
    /// briefings' passages added, in one tantivy commit, in a copy of `base` made of hard
    /// links (segment files are never written twice, so the copy costs no bytes and
    /// `base` stays exactly as readers have it). Unchanged briefings are not read at all.
    /// Then published as a rebuild is, atomically; a crash at any point leaves `base` live.
    pub fn update(&self, base: &OpenIndex, changes: &Changes) -> Result<BuildReport, BuildError> {
        let started = Instant::now();
        let _lock = self.lock()?;
        if self.live_version().as_deref() != base.dir.file_name().and_then(|n| n.to_str()) {
            return Err(BuildError::Moved);
        }
        self.remove_leftover_builds();
        let touched = changes.touched();
        let (old_prints, known_vectors) = touched_passages(base, &touched)?;
        let diff = diff(&old_prints, &changes.new_prints());

        let build = tempfile::Builder::new()
            .prefix(BUILD_PREFIX)
            .tempdir_in(&self.root)
            .map_err(io_err(&self.root))?;
        link_files(&base.dir, build.path())?;
        failpoint("after-links", build.path())?;
        let index = Index::open_in_dir(build.path())?;
        schema::register(&index);
        let fields = schema::fields_of(&index.schema())?;
        let budget = self.writer_memory_bytes.clamp(
            UPDATE_WRITER_MIN_BYTES,
            UPDATE_WRITER_MAX_BYTES.max(UPDATE_WRITER_MIN_BYTES),
        );
        let mut writer: IndexWriter = index.writer_with_num_threads(1, budget)?;
        writer.set_merge_policy(Box::new(merge_policy()));
        for source in &touched {
            writer.delete_term(tantivy::Term::from_field_text(fields.source, source));
        }
        let mut manifest = base.manifest.clone();
        manifest
            .briefings
            .retain(|b| !touched.contains(b.source.as_str()));
        let first_new_row = manifest.next_row;
        let mut row = first_new_row;
        for briefing in &changes.read {
            manifest.briefings.push(BriefingInfo::of(briefing, row));
            for passage in briefing.passages() {
                let print = fingerprint(&passage);
                writer.add_document(schema::document(
                    &fields,
                    &passage,
                    row,
                    print,
                    self.title_in_body,
                ))?;
                row += 1;
            }
        }
        failpoint("after-documents", build.path())?;
        writer.commit()?;
        failpoint("after-commit", build.path())?;
        // The merges the policy chose run on tantivy's merge threads; the version is
        // published once they end, as a published version is never written again.
        writer.wait_merging_threads()?;
        failpoint("after-merges", build.path())?;

        if let (Some(model), Some(info)) = (&self.model, manifest.vectors.as_mut()) {
            let texts: Vec<&str> = changes
                .read
                .iter()
                .flat_map(|b| b.paragraphs.iter().map(|p| p.text.as_str()))
                .collect();
            if !texts.is_empty() {
                let (cache, _) = self.embedding_cache();
                let made = crate::semantic::embed_update(model, &cache, &texts, &known_vectors)?;
                let file = format!("vectors-{first_new_row}.bin");
                let path = build.path().join(&file);
                let crc32 = made.write(&path, model).map_err(io_err(&path))?;
                info.parts.push(VectorPart {
                    file,
                    first_row: first_new_row,
                    rows: made.rows.len() as u64,
                    crc32: Some(crc32),
                });
            }
            compact_vector_parts(build.path(), info)?;
        }

        let new_sources: std::collections::HashSet<&str> =
            changes.read.iter().map(|b| b.source.as_str()).collect();
        manifest.briefings.sort_by(|a, b| a.slug.cmp(&b.slug));
        manifest.passages = manifest.briefings.iter().map(|b| b.paragraphs).sum();
        manifest.next_row = row;
        manifest.skipped = changes.skipped.clone();
        manifest.shaping = changes.shaping.clone();
        let (version, built_at) = new_version_name(&self.root);
        manifest.version = version;
        manifest.built_at = built_at;
        // The list of briefings is written whole again when what the updates changed of it
        // has grown to a quarter of it.
        let since = manifest
            .briefings_since_build
            .get_or_insert_with(Default::default);
        for source in &touched {
            since.added.remove(*source);
            since.removed.insert(source.to_string());
        }
        for b in &manifest.briefings {
            if new_sources.contains(b.source.as_str()) {
                since.added.insert(b.source.clone(), b.clone());
            }
        }
        let whole = (since.removed.len() + since.added.len()) * 4 > manifest.briefings.len()
            || !build.path().join(BRIEFINGS).is_file();
        write_manifest(build.path(), &manifest, whole)?;
        sync_dir(build.path())?;
        self.publish_build(build, manifest, diff, started, BuildKind::Incremental)
    }

    /// The manifest of the live version, read without opening the index (`None` when
    /// there is none, or it cannot be read).
    pub fn live_manifest(&self) -> Option<Manifest> {
        let name = self.live_version()?;
        if !name.starts_with(VERSION_PREFIX) || name.contains(['/', '\\']) {
            return None;
        }
        read_manifest(&self.root.join(name)).ok()
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
        let (version, built_at) = new_version_name(&self.root);
        let mut row = 0u64;
        let briefings = corpus
            .briefings
            .iter()
            .map(|b| {
                let info = BriefingInfo::of(b, row);
                row += info.paragraphs;
                info
            })
            .collect();
        Manifest {
            schema_version: SCHEMA_VERSION,
            version,
            built_at,
            title_in_body: self.title_in_body,
            passages: corpus.passage_count() as u64,
            briefings,
            skipped: corpus.skipped.clone(),
            shaping: None,
            next_row: row,
            briefings_since_build: None,
            vectors: self.model.as_ref().map(|m| VectorsInfo {
                model: m.id().to_string(),
                dim: m.dim(),
                model_dir: m.dir().display().to_string(),
                // Its CRC32 is set once the file is written (`write_index`).
                parts: vec![VectorPart {
                    file: crate::semantic::vectors::FILE.to_string(),
                    first_row: 0,
                    rows: row,
                    crc32: None,
                }],
            }),
        }
    }

    fn write_index(
        &self,
        dir: &Path,
        corpus: &Corpus,
        prints: &[(String, u64)],
        manifest: &mut Manifest,
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
        let bar = crate::progress::bar(corpus.passage_count() as u64, "indexing paragraphs");
        for (row, (passage, (_, print))) in corpus.passages().zip(prints).enumerate() {
            writer.add_document(schema::document(
                &fields,
                &passage,
                row as u64,
                *print,
                self.title_in_body,
            ))?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        failpoint("after-documents", dir)?;
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
            let texts = paragraph_texts(corpus);
            let (cache, compact) = self.embedding_cache();
            let made = crate::semantic::embed_passages(model, &cache, &texts, compact)?;
            let path = dir.join(crate::semantic::vectors::FILE);
            let crc32 = made.write(&path, model).map_err(io_err(&path))?;
            if let Some(part) = manifest.vectors.as_mut().and_then(|v| v.parts.first_mut()) {
                part.crc32 = Some(crc32);
            }
        }
        write_manifest(dir, manifest, true)?;
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
fn open_checked(
    dir: &Path,
    manifest: &Manifest,
    depth: Depth,
) -> Result<(Index, Fields, IndexReader), String> {
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
) -> Result<(Index, Fields, IndexReader), String> {
    let index = Index::open_in_dir(dir).map_err(|e| e.to_string())?;
    integrity::check(&index, dir, depth)?;
    schema::register(&index);
    let fields = schema::fields_of(&index.schema()).map_err(|e| e.to_string())?;
    // A version never changes: no reloading, and no thread watching for it.
    let reader: IndexReader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(|e: tantivy::TantivyError| e.to_string())?;
    let docs = reader.searcher().num_docs();
    if docs != manifest.passages {
        return Err(format!(
            "{docs} passages in the index, {} in its manifest",
            manifest.passages
        ));
    }
    Ok((index, fields, reader))
}

/// A writer's memory for an update: the few documents of a change need little, and the
/// writer's peak is held well under what a full build takes (tantivy's floor is 15 MB a
/// thread).
const UPDATE_WRITER_MIN_BYTES: usize = 15_000_000;
const UPDATE_WRITER_MAX_BYTES: usize = 64 * 1024 * 1024;

/// The merge policy of updates: tantivy's log-structured policy, leaving segments of more
/// than `MERGE_MAX_DOCS` documents alone (the full build's one big segment is never
/// rewritten by an update; only its deletes file is) and merging the small segments that
/// updates add once eight of a size have gathered, so that their count stays bounded. A
/// segment that has lost more than `MERGE_DELETED_RATIO` of its documents is merged too,
/// which rewrites it: after that much change, a full rebuild (`briefbot index --full`)
/// costs no more.
const MERGE_MAX_DOCS: usize = 100_000;
const MERGE_DELETED_RATIO: f32 = 0.4;

fn merge_policy() -> tantivy::indexer::LogMergePolicy {
    let mut policy = tantivy::indexer::LogMergePolicy::default();
    policy.set_min_num_segments(8);
    policy.set_max_docs_before_merge(MERGE_MAX_DOCS);
    policy.set_del_docs_ratio_before_merge(MERGE_DELETED_RATIO);
    policy
}

/// A new version's name and build time (RFC 3339, UTC): the second it was built and four
/// hex digits, none of a version folder already in `root`. Called with the rebuild lock
/// held, so no other build picks a name meanwhile. (Sixteen bits alone collided: two
/// hundred updates in twenty seconds met a version still kept under the same name, and
/// the rename failed with "Directory not empty".)
fn new_version_name(root: &Path) -> (String, String) {
    let now = SystemTime::now();
    let nanos = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let stamp = humantime::format_rfc3339_seconds(now).to_string();
    let compact: String = stamp.chars().filter(char::is_ascii_alphanumeric).collect();
    let start = nanos ^ std::process::id();
    let name = (0u32..=0xffff)
        .map(|i| format!("{compact}-{:04x}", start.wrapping_add(i) & 0xffff))
        .find(|name| !root.join(format!("{VERSION_PREFIX}{name}")).exists())
        // Every suffix of this second taken (65,536 versions kept): a longer name.
        .unwrap_or_else(|| format!("{compact}-{nanos:08x}"));
    (name, stamp)
}

/// Gives `to` a hard link to every file of the version folder `from`, but its manifest
/// and tantivy's lock files: a copy that costs no bytes. tantivy never writes a file in
/// place (new segments, deletes and `meta.json` are new files, the last renamed over the
/// old), so a change in the copy never reaches `from`.
fn link_files(from: &Path, to: &Path) -> Result<(), BuildError> {
    for entry in fs::read_dir(from).map_err(io_err(from))? {
        let entry = entry.map_err(io_err(from))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == MANIFEST || name.starts_with(".tantivy") || !entry.path().is_file() {
            continue;
        }
        let dest = to.join(entry.file_name());
        fs::hard_link(entry.path(), &dest).map_err(io_err(&dest))?;
    }
    Ok(())
}

/// Bytes of the files in `dir` that no other folder links to: what a build wrote.
fn new_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file() && m.nlink() == 1)
        .map(|m| m.len())
        .sum()
}

/// Joins neighbouring vectors files that updates wrote (all but the full build's) as
/// [`next_join`] says, until it says none: each update adds one file, and the files stay
/// few while no row is rewritten more than a logarithmic number of times. Before, once
/// there were more than 16 files, all the updates' files were joined into one, every 15
/// updates: each join rewrote every row updates had added since the last full build (a
/// bot whose library grew by moderators' additions rewrote its whole library's vectors
/// every 15th addition).
fn compact_vector_parts(dir: &Path, info: &mut VectorsInfo) -> Result<(), BuildError> {
    loop {
        // The full build's file (from row 0) is never joined: it is the largest, and
        // rewriting it is a full build's cost.
        let first_update = info.parts.iter().position(|p| p.first_row != 0);
        let Some(first_update) = first_update else {
            return Ok(());
        };
        let rows: Vec<u64> = info.parts[first_update..].iter().map(|p| p.rows).collect();
        let Some(i) = next_join(&rows) else {
            return Ok(());
        };
        let at = first_update + i;
        let joined = join_vector_parts(dir, info, &info.parts[at..at + 2])?;
        info.parts.splice(at..at + 2, [joined]);
    }
}

/// Which two neighbouring files of `rows` (each file's row count, in row order, the
/// newest last) to join next, by the index of the first; `None` when they may stay as
/// they are. Timsort's rule for its runs, which meet the same problem (runs added at one
/// end, only neighbours merged): every file is larger than the one after it, and larger
/// than the two after it together (checked on the newest four, as CPython's and Java's
/// timsort have since de Gouw et al. found in 2015 that three were not enough); where
/// not, the middle file is joined with the smaller of its neighbours. Sizes then grow at
/// least as the Fibonacci numbers from the newest file back, so there are at most about
/// 1.44 × log2(rows) files, and each row is rewritten O(log rows) times in all (the merge
/// cost Auger, Jugé, Nicaud and Pivoteau proved in 2018). Written here: no crate offers
/// the rule alone.
fn next_join(rows: &[u64]) -> Option<usize> {
    let n = rows.len();
    if n < 2 {
        return None;
    }
    let (x, y) = (rows[n - 1], rows[n - 2]);
    if n >= 3 {
        let z = rows[n - 3];
        let w_broken = n >= 4 && rows[n - 4] <= z + y;
        if z <= y + x || w_broken {
            return Some(if z < x { n - 3 } else { n - 2 });
        }
    }
    (y <= x).then_some(n - 2)
}

/// Joins the neighbouring vectors files `parts` into one, whose rows follow each other:
/// their records end to end, written a record at a time from the files opened together
/// (each sentence record checked against its CRC32 as it is read), keeping each row's
/// sentence count (8 bytes). Returns the joined file's part; the files joined are removed
/// from `dir`.
fn join_vector_parts(
    dir: &Path,
    info: &VectorsInfo,
    parts: &[VectorPart],
) -> Result<VectorPart, BuildError> {
    let damaged = |path: &Path, why: String| BuildError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(why),
    };
    let [first, .., last] = parts else {
        return Err(damaged(dir, "a join of fewer than two files".into()));
    };
    let files: Vec<(PathBuf, usize, Option<u32>)> = parts
        .iter()
        .map(|p| (dir.join(&p.file), p.first_row as usize, p.crc32))
        .collect();
    let vectors = Vectors::open_parts(&files).map_err(|e| damaged(dir, e))?;
    let rows = first.first_row as usize..(last.first_row + last.rows) as usize;
    if !vectors.covers(rows.clone()) {
        return Err(damaged(
            dir,
            format!("the vectors files joined do not hold rows {rows:?} end to end"),
        ));
    }
    let sentences_of = |row: usize| -> Result<Vec<crate::semantic::Quantized>, String> {
        vectors
            .sentences(row)?
            .ok_or_else(|| format!("no sentence vectors of row {row}"))
    };
    let counts = rows
        .clone()
        .map(|row| sentences_of(row).map(|s| s.len()))
        .collect::<Result<Vec<usize>, String>>()
        .map_err(|e| damaged(dir, e))?;
    let file = format!("vectors-{}-joined.bin", first.first_row);
    let path = dir.join(&file);
    // Written under another name, then renamed: the join's name is that of the join
    // before it, when there was one, and that file is a hard link to the live version's
    // (`link_files`), which must never be written in place.
    let writing = dir.join(format!("{file}.partial"));
    // The sentences of the row being written, read once for all of them.
    let mut reading: Option<(usize, Vec<crate::semantic::Quantized>)> = None;
    let crc32 =
        crate::semantic::vectors::write_from(&writing, &info.model, info.dim, &counts, |text| {
            match text {
                crate::semantic::vectors::Text::Row(r) => vectors
                    .get(rows.start + r)
                    .map(|v| v.bytes())
                    .ok_or_else(|| std::io::Error::other(format!("no vector of row {r}"))),
                crate::semantic::vectors::Text::Sentence(r, nth) => {
                    if reading.as_ref().is_none_or(|(at, _)| *at != r) {
                        let read = sentences_of(rows.start + r).map_err(std::io::Error::other)?;
                        reading = Some((r, read));
                    }
                    let (_, read) = reading.as_ref().expect("read above");
                    Ok(read[nth].bytes())
                }
            }
        })
        .map_err(io_err(&writing))?;
    for part in parts {
        let _ = fs::remove_file(dir.join(&part.file));
    }
    fs::rename(&writing, &path).map_err(io_err(&path))?;
    Ok(VectorPart {
        file,
        first_row: first.first_row,
        rows: counts.len() as u64,
        crc32: Some(crc32),
    })
}

/// Opens a version's vectors files, checking that every briefing's rows have vectors.
fn open_vectors(dir: &Path, manifest: &Manifest) -> Result<Vectors, String> {
    let parts: Vec<(PathBuf, usize, Option<u32>)> =
        match manifest.vectors.as_ref().map(|v| &v.parts) {
            Some(parts) if !parts.is_empty() => parts
                .iter()
                .map(|p| {
                    if p.file.contains(['/', '\\']) || !p.file.starts_with("vectors") {
                        return Err(format!("{MANIFEST} names no vectors file ({:?})", p.file));
                    }
                    Ok((dir.join(&p.file), p.first_row as usize, p.crc32))
                })
                .collect::<Result<_, _>>()?,
            _ => vec![(dir.join(crate::semantic::vectors::FILE), 0, None)],
        };
    let vectors = Vectors::open_parts(&parts)?;
    if let Some(b) = manifest
        .briefings
        .iter()
        .find(|b| !vectors.covers(b.rows()))
    {
        return Err(format!(
            "no vectors for rows {:?} (briefing {})",
            b.rows(),
            b.slug
        ));
    }
    Ok(vectors)
}

/// Every passage's id and fingerprint, from the fast fields (no stored document read).
fn all_fingerprints(open: &OpenIndex) -> tantivy::Result<HashMap<String, u64>> {
    let searcher = open.reader.searcher();
    let mut out = HashMap::with_capacity(searcher.num_docs() as usize);
    let mut slug = String::new();
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let slugs = fast
            .str("slug")?
            .ok_or_else(|| tantivy::TantivyError::SchemaError("no slug column".into()))?;
        let paragraphs = fast.u64("paragraph")?;
        let prints = fast.u64("fingerprint")?;
        for doc in segment.doc_ids_alive() {
            let (Some(ord), Some(paragraph), Some(print)) = (
                slugs.term_ords(doc).next(),
                paragraphs.first(doc),
                prints.first(doc),
            ) else {
                continue;
            };
            slug.clear();
            slugs.ord_to_str(ord, &mut slug)?;
            out.insert(format!("{slug}:{paragraph}"), print);
        }
    }
    Ok(out)
}

/// The ids and fingerprints of the passages `base` holds of `sources`, and their vectors
/// by text hash (when `base` has vectors): what an update replaces.
fn touched_passages(
    base: &OpenIndex,
    sources: &std::collections::BTreeSet<&str>,
) -> tantivy::Result<(HashMap<String, u64>, KnownVectors)> {
    let searcher = base.reader.searcher();
    let mut prints = HashMap::new();
    let mut vectors = HashMap::new();
    for source in sources {
        for (passage, row) in source_passages_with_rows(&searcher, &base.fields, source)? {
            if let (Some(semantic), Some(row)) = (&base.semantic, row)
                && let Some(v) = semantic.vectors.get(row as usize)
            {
                let texts = crate::semantic::texts_of(&passage.text);
                vectors.insert(crate::semantic::cache::key(texts[0]), v);
                // A passage of one sentence holds its own vector again: nothing more. One
                // whose sentence vectors do not match their checksums is not reused: its
                // sentences come from the cache, or are embedded again.
                if texts.len() > 1
                    && let Ok(Some(sentences)) = semantic.vectors.sentences(row as usize)
                {
                    for (text, v) in texts[1..].iter().zip(sentences) {
                        vectors.insert(crate::semantic::cache::key(text), v);
                    }
                }
            }
            prints.insert(passage.id.clone(), fingerprint(&passage));
        }
    }
    Ok((prints, vectors))
}

/// Vectors by the hash of their text.
type KnownVectors = HashMap<u64, crate::semantic::Quantized>;

/// [`source_passages`], each with its `row`.
fn source_passages_with_rows(
    searcher: &tantivy::Searcher,
    fields: &Fields,
    source: &str,
) -> tantivy::Result<Vec<(Passage, Option<u64>)>> {
    let query = tantivy::query::TermQuery::new(
        tantivy::Term::from_field_text(fields.source, source),
        tantivy::schema::IndexRecordOption::Basic,
    );
    let docs = searcher.search(&query, &tantivy::collector::DocSetCollector)?;
    let stored = StoredPassages::of(searcher, fields);
    let rows = Columns::of(searcher, "row");
    let mut out = Vec::with_capacity(docs.len());
    for address in docs {
        out.push((stored.get(address)?, rows.get(address)));
    }
    out.sort_by_key(|(p, _)| p.paragraph);
    Ok(out)
}

/// Every passage stored in an index, in index order.
pub fn all_passages(open: &OpenIndex) -> tantivy::Result<Vec<Passage>> {
    let searcher = open.reader.searcher();
    let stored = StoredPassages::of(&searcher, &open.fields);
    let mut out = Vec::with_capacity(searcher.num_docs() as usize);
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        for doc_id in segment.doc_ids_alive() {
            out.push(stored.get(DocAddress::new(ord as u32, doc_id))?);
        }
    }
    Ok(out)
}

/// Reads stored passages and checks each against the fingerprint its build kept of it
/// (a fast field: another file). tantivy keeps no checksum of a block of stored text
/// short of the whole file's, which only a full reading checks: a block that bit rot
/// changed but that still decompresses — a changed letter among its literals — would be
/// quoted to members as the briefing's own words. A passage that does not match is
/// tantivy's `DataCorruption`, which every caller takes for damage (the version is then
/// read in full, and rebuilt). Each segment's column is opened once, for all the
/// documents read together (opening one looks it up by name).
pub struct StoredPassages<'s> {
    searcher: &'s tantivy::Searcher,
    fields: &'s Fields,
    prints: Columns,
}

impl<'s> StoredPassages<'s> {
    pub fn of(searcher: &'s tantivy::Searcher, fields: &'s Fields) -> StoredPassages<'s> {
        StoredPassages {
            searcher,
            fields,
            prints: Columns::of(searcher, "fingerprint"),
        }
    }

    /// The passage stored at `address`, checked.
    pub fn get(&self, address: DocAddress) -> tantivy::Result<Passage> {
        let doc: TantivyDocument = self.searcher.doc(address)?;
        let passage = schema::passage(self.fields, &doc);
        match self.prints.get(address) {
            Some(print) if print != fingerprint(&passage) => {
                Err(tantivy::TantivyError::DataCorruption(
                    tantivy::error::DataCorruption::comment_only(format!(
                        "the stored text of passage {} does not match its fingerprint",
                        passage.id
                    )),
                ))
            }
            _ => Ok(passage),
        }
    }
}

/// A `u64` fast field's column in each segment, opened once for the documents read
/// together (opening one looks it up by name, which costs more than reading a value).
pub struct Columns(Vec<Option<tantivy::columnar::Column<u64>>>);

impl Columns {
    pub fn of(searcher: &tantivy::Searcher, field: &str) -> Columns {
        Columns(
            searcher
                .segment_readers()
                .iter()
                .map(|s| s.fast_fields().u64(field).ok())
                .collect(),
        )
    }

    /// The value of the document at `address`.
    pub fn get(&self, address: DocAddress) -> Option<u64> {
        let column = self.0.get(address.segment_ord as usize)?.as_ref()?;
        column.first(address.doc_id)
    }
}

/// The embedding cache's keys of the texts every stored passage is embedded as
/// ([`crate::semantic::keys_of`]: its paragraph and sentences), read a block of the
/// document store at a time; the texts themselves are not kept.
pub fn passage_text_keys(open: &OpenIndex) -> tantivy::Result<Vec<Vec<u64>>> {
    use tantivy::schema::Value;
    let searcher = open.reader.searcher();
    let mut out = Vec::with_capacity(searcher.num_docs() as usize);
    for segment in searcher.segment_readers() {
        // Blocks are read in order, each once: no cache of them is needed.
        let store = segment.get_store_reader(0)?;
        for doc in store.iter::<TantivyDocument>(segment.alive_bitset()) {
            let doc = doc?;
            let text = doc
                .get_first(open.fields.text)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            out.push(crate::semantic::keys_of(text));
        }
    }
    Ok(out)
}

/// The stored passages of one source file (its path under `content/`), in paragraph
/// order: reads only that briefing's documents, through the indexed `source` field.
pub fn passages_of_source(open: &OpenIndex, source: &str) -> tantivy::Result<Vec<Passage>> {
    source_passages(&open.reader.searcher(), &open.fields, source)
}

/// [`passages_of_source`] through an existing searcher.
pub fn source_passages(
    searcher: &tantivy::Searcher,
    fields: &Fields,
    source: &str,
) -> tantivy::Result<Vec<Passage>> {
    Ok(source_passages_with_rows(searcher, fields, source)?
        .into_iter()
        .map(|(p, _)| p)
        .collect())
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

/// The paragraphs' texts in the order of `corpus.passages()` (the rows), without copying
/// a passage.
fn paragraph_texts(corpus: &Corpus) -> Vec<&str> {
    corpus
        .briefings
        .iter()
        .flat_map(|b| b.paragraphs.iter().map(|p| p.text.as_str()))
        .collect()
}

/// A test's way to stop a build at `name`: `BRIEFBOT_FAILPOINT=NAME` aborts the process
/// there, as if killed, leaving whatever is on disk (the tests of atomic rebuilds);
/// `BRIEFBOT_FAILPOINT=NAME:full` fails as a full disk does (`ENOSPC`, writing in `dir`).
fn failpoint(name: &str, dir: &Path) -> Result<(), BuildError> {
    let Ok(set) = std::env::var("BRIEFBOT_FAILPOINT") else {
        return Ok(());
    };
    if set == name {
        eprintln!("briefbot: failpoint {name}: aborting");
        std::process::abort();
    }
    if set.strip_suffix(":full") == Some(name) {
        return Err(BuildError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::from_raw_os_error(28),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Versions built in the same second never share a name with one still kept: two
    /// thousand names in a row (each folder made as a build's is), all different.
    #[test]
    fn a_new_version_name_is_never_one_already_kept() {
        let root = tempfile::tempdir().unwrap();
        let mut names = std::collections::HashSet::new();
        for _ in 0..2000 {
            let (name, _) = new_version_name(root.path());
            fs::create_dir(root.path().join(format!("{VERSION_PREFIX}{name}"))).unwrap();
            assert!(names.insert(name));
        }
    }

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

    /// What a build stores reads back as the same passage, whatever its optional fields
    /// hold (an empty section, a page, a link and a date, none of them): no stored passage
    /// a build made is ever taken for damage by its fingerprint.
    #[test]
    fn stored_passages_read_back_match_their_fingerprints() {
        let (schema_, fields) = schema::schema();
        let index = Index::create_in_ram(schema_);
        schema::register(&index);
        let base = Passage {
            id: "a:1".into(),
            slug: "a".into(),
            text: "The barrage — “closed” at 3 a.m.\nTwice.".into(),
            briefing: "Tides".into(),
            source: "a.md".into(),
            paragraph: 1,
            ..Passage::default()
        };
        let passages = [
            base.clone(),
            Passage {
                id: "a:2".into(),
                section: Some(String::new()),
                page: Some(0),
                url: Some("https://example.org/tides".into()),
                date: Some("2026-12-06".into()),
                author: Some("A. Writer".into()),
                tags: vec!["sea".into(), "energy".into()],
                ..base.clone()
            },
            Passage {
                id: "a:3".into(),
                text: String::new(),
                briefing: String::new(),
                section: Some("What is happening?".into()),
                page: Some(12),
                ..base
            },
        ];
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        for (row, p) in passages.iter().enumerate() {
            writer
                .add_document(schema::document(
                    &fields,
                    p,
                    row as u64,
                    fingerprint(p),
                    true,
                ))
                .unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let stored = StoredPassages::of(&searcher, &fields);
        let mut read: Vec<Passage> = (0..passages.len() as u32)
            .map(|doc| stored.get(DocAddress::new(0, doc)).unwrap())
            .collect();
        read.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(read, passages);
    }

    /// Updates' vectors files joined by [`next_join`]: whatever the sizes of the updates
    /// (equal, growing, shrinking, mixed), the files stay few — each larger than the one
    /// after it and than the two after it together — and a row is rewritten a
    /// logarithmic number of times. The rule before (join all once past 16 files)
    /// rewrote every update's rows every 15 updates.
    #[test]
    fn joins_keep_the_files_few_and_rewrite_each_row_a_logarithmic_number_of_times() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % 200 + 1
        };
        let patterns: Vec<(&str, Vec<u64>)> = vec![
            ("equal", vec![50; 5000]),
            ("growing", (1..=2000).collect()),
            ("shrinking", (1..=2000).rev().collect()),
            ("random", (0..5000).map(|_| random()).collect()),
        ];
        for (name, sizes) in patterns {
            let mut files: Vec<u64> = Vec::new();
            let (mut added, mut written) = (0u64, 0u64);
            for (n, &size) in sizes.iter().enumerate() {
                files.push(size);
                added += size;
                while let Some(i) = next_join(&files) {
                    let joined = files[i] + files[i + 1];
                    written += joined;
                    files.splice(i..i + 2, [joined]);
                }
                for (i, &f) in files.iter().enumerate() {
                    assert!(
                        files.get(i + 1).is_none_or(|&next| f > next),
                        "{name}, update {n}: {files:?}"
                    );
                    assert!(
                        files
                            .get(i + 2)
                            .is_none_or(|&after| f > files[i + 1] + after),
                        "{name}, update {n}: {files:?}"
                    );
                }
                assert_eq!(files.iter().sum::<u64>(), added);
            }
            let log2 = (added as f64).log2();
            assert!(
                (files.len() as f64) <= 1.45 * log2 + 2.0,
                "{name}: {} files for {added} rows",
                files.len()
            );
            // Each row rewritten at most about log2(rows) times (the bound is timsort's:
            // O(n log n) in all); the join of everything past 16 files rewrote a row
            // hundreds of times here.
            assert!(
                written as f64 <= added as f64 * (log2 + 2.0),
                "{name}: {written} rows written for {added}"
            );
        }
    }
}
