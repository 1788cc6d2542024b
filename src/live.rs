//! The index a long-running process answers from: the engine of the live version, swapped
//! when a new one is published (by this process or by the writer), the writer's changes
//! one at a time, and the model's passage vectors made in the background. Free of
//! Discord: the bot holds one [`Live`] and turns its events into these calls.
//!
//! Builds and opens run on blocking threads (`spawn_blocking`), never on the async tasks
//! that call them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::app::{self, AppError};
use crate::config::{Role, Settings};
use crate::index::{BuildKind, BuildReport, Depth, OpenError};
use crate::ingest::Corpus;
use crate::search::{Engine, Ranking, SearchOptions};

/// How long a published version that could not be opened waits before it is tried again.
const RETRY_UNOPENABLE: Duration = Duration::from_secs(60);

/// What an update under the lock gave: the files read and the report, or why it failed
/// (the outer error: the blocking task itself failed).
pub type Updated = Result<Result<(Corpus, Box<BuildReport>), AppError>, tokio::task::JoinError>;

/// What [`Live::cure_damage`] did about a version found damaged while answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cure {
    /// Another version answers now (rebuilt by this process, or published by the
    /// writer): ask again.
    Answering,
    /// Rebuilt by words: the embedding cache lacked vectors too. The caller starts
    /// [`Live::make_pending_vectors`] in the background.
    AnsweringByWords,
    /// This process is a reader: only the writer can rebuild the index. `told`: the
    /// writer has been told ([`app::report_damage`]); not when the report could not be
    /// written.
    NeedsWriter { told: bool },
    /// The rebuild failed (logged), now or less than a minute ago; the damaged version
    /// still answers.
    Failed,
}

/// The version that last failed (to open, to be rebuilt after damage, to be read: reported
/// damaged, or found whole after an error), and when: it is tried again only every
/// [`RETRY_UNOPENABLE`], not at every poll or question.
#[derive(Default)]
struct LastFailure(Mutex<Option<(String, Instant)>>);

impl LastFailure {
    /// Whether `version` failed last: less than [`RETRY_UNOPENABLE`] ago (`Some(true)`),
    /// longer ago (`Some(false)`); `None` when it did not.
    fn of(&self, version: &str) -> Option<bool> {
        match &*self.0.lock().unwrap_or_else(PoisonError::into_inner) {
            Some((v, at)) if v == version => Some(at.elapsed() < RETRY_UNOPENABLE),
            _ => None,
        }
    }

    fn note(&self, version: &str) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((version.to_string(), Instant::now()));
    }
}

/// The live index of a serving process.
pub struct Live {
    settings: Settings,
    engine: RwLock<Arc<Engine>>,
    /// The writer lock, held while the process runs with `index.role = "writer"`.
    writer: Option<Arc<app::Writer>>,
    /// Held while the writer changes the index: one change at a time.
    updating: tokio::sync::Mutex<()>,
    /// The last published version that could not be opened (damaged): it is reported
    /// once, and tried again only every [`RETRY_UNOPENABLE`] (reading the checksums of a
    /// million-paragraph version takes 0.25–0.29 s, warm).
    unopenable: LastFailure,
    /// The live version lacked the model's passage vectors at start: answering by words,
    /// and the writer's changes stay lexical, until [`Live::make_pending_vectors`] ends.
    vectors_pending: AtomicBool,
    /// The damaged version whose rebuild last failed: tried again only every
    /// [`RETRY_UNOPENABLE`], not by every question that meets the damage (each rebuild
    /// holds [`Live::updating`]).
    cure_failed: LastFailure,
    /// A reader's last report of damage to the writer ([`app::report_damage`]): written
    /// again only every [`RETRY_UNOPENABLE`], not by every question that meets it.
    reported: LastFailure,
    /// The version last read in full after an unexplained error and found whole
    /// ([`Live::diagnose`]): not read again for every request that meets that error.
    found_whole: LastFailure,
    /// The version last read in full and found damaged ([`Live::diagnose`]): cured
    /// without reading it again for every request that meets the damage meanwhile.
    found_damaged: LastFailure,
    /// Why a writer built the index when it opened it (none yet, damaged, of another
    /// schema), if it did.
    built_because: Option<String>,
}

impl Live {
    /// Opens the index. A writer takes the writer lock and builds the index if needed; a
    /// reader waits for the writer to publish one. A version without the model's vectors
    /// answers by words meanwhile ([`app::open_for_serving`]).
    pub fn open(settings: &Settings) -> Result<Live, AppError> {
        Self::open_as(settings, "briefbot serve")
    }

    /// [`Live::open`] for `who` (what the writer lock says is writing: `briefbot serve`,
    /// `briefbot index --watch`).
    pub fn open_as(settings: &Settings, who: &str) -> Result<Live, AppError> {
        let writer = match settings.index.role {
            Role::Writer => Some(Arc::new(app::Writer::acquire(settings, who)?)),
            Role::Reader => None,
        };
        let serving = match &writer {
            Some(w) => app::open_for_serving(settings, Some(w))?,
            None => wait_for_index(settings)?,
        };
        if let Some((why, report)) = &serving.opened.built {
            tracing::info!(reason = %why, passages = report.manifest.passages, "built the index");
        }
        let built_because = serving
            .opened
            .built
            .as_ref()
            .map(|(why, _)| why.to_string());
        Ok(Live {
            built_because,
            settings: settings.clone(),
            engine: RwLock::new(Arc::new(serving.opened.engine)),
            writer,
            updating: tokio::sync::Mutex::new(()),
            unopenable: LastFailure::default(),
            vectors_pending: AtomicBool::new(serving.vectors_pending.is_some()),
            cure_failed: LastFailure::default(),
            reported: LastFailure::default(),
            found_whole: LastFailure::default(),
            found_damaged: LastFailure::default(),
        })
    }

    /// Why this writer built the index when it opened it, if it did: none was there, or
    /// it was damaged or of another schema.
    pub fn built_because(&self) -> Option<&str> {
        self.built_because.as_deref()
    }

    /// The engine of the live version (searches in flight keep the one they started with).
    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn swap(&self, engine: Engine) {
        *self.engine.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(engine);
    }

    /// The writer lock, when this process builds the index (`index.role = "writer"`).
    pub fn writer(&self) -> Option<Arc<app::Writer>> {
        self.writer.clone()
    }

    /// The lock every change of the index holds ([`Live::update_locked`] and the
    /// moderators' commands).
    pub fn updating(&self) -> &tokio::sync::Mutex<()> {
        &self.updating
    }

    /// Whether the model's passage vectors are still to be made (a writer), or to be
    /// received from the writer (a reader).
    pub fn vectors_pending(&self) -> bool {
        self.vectors_pending.load(Ordering::Acquire)
    }

    /// The settings the writer's changes are made with: without the model while its
    /// vectors are pending, so that adding a briefing or a reindex is a quick lexical
    /// update instead of embedding the whole library under the lock.
    pub fn writer_settings(&self) -> Settings {
        let mut settings = self.settings.clone();
        if self.vectors_pending() {
            settings.search.semantic.model_dir = None;
        }
        settings
    }

    /// Opens the live index version if it is not the one answering (another process
    /// published it, or the writer's watcher did), after reading every file's checksum.
    /// Returns the version now answering when it changed.
    pub async fn follow(&self) -> Option<String> {
        self.follow_checking(Depth::Checksums).await
    }

    /// [`Live::follow`], checking the new version's files to `depth`: the version this
    /// process has just built itself needs its footers read, not its checksums. A version
    /// without the model's vectors (made while they are pending) answers by words.
    pub async fn follow_checking(&self, depth: Depth) -> Option<String> {
        let store = app::store(&self.settings).checking(depth);
        let live = store.live_version()?;
        if live.strip_prefix("v-") == Some(self.engine().manifest().version.as_str()) {
            return None;
        }
        let failed_before = self.unopenable.of(&live);
        if failed_before == Some(true) {
            return None;
        }
        let settings = self.settings.clone();
        let result = tokio::task::spawn_blocking(move || {
            let (open, by_words) = app::open_by_words_if_need_be(&store)?;
            let engine = Engine::new(open, SearchOptions::from_settings(&settings, Ranking::Full))?;
            Ok::<_, AppError>((engine, by_words))
        })
        .await;
        match result {
            Ok(Ok((engine, by_words))) => {
                let version = engine.manifest().version.clone();
                tracing::info!(version = %version, passages = engine.manifest().passages, "now answering from a new index version");
                if let Some(why) = by_words {
                    tracing::warn!(version = %version, reason = %why, "answering by words until the model's passage vectors are made");
                }
                if engine.model().is_some() {
                    // A reader's vectors are pending until the writer's arrive.
                    self.vectors_pending.store(false, Ordering::Release);
                }
                self.swap(engine);
                Some(version)
            }
            Ok(Err(err)) => {
                // Said once per version: the writer publishes a new one to cure it.
                if failed_before.is_none() {
                    tracing::warn!(version = %live, error = %crate::error_chain(&err), "a new index version could not be opened; the previous one keeps answering");
                }
                self.unopenable.note(&live);
                // A writer's own version found damaged by a reader's checksums (the writer
                // read only its footers): the writer is told.
                if let (None, AppError::Open(OpenError::Damaged { reason, .. })) =
                    (&self.writer, &err)
                {
                    self.tell_writer(live.strip_prefix("v-").unwrap_or(&live), reason)
                        .await;
                }
                None
            }
            Err(err) => {
                tracing::error!(error = %crate::error_chain(&err), "index reload task failed");
                None
            }
        }
    }

    /// Updates the index with the writer (the caller holds [`Live::updating`]) and swaps
    /// the new version in, if one was made.
    pub async fn update_locked(&self, writer: Arc<app::Writer>) -> Updated {
        let settings = self.writer_settings();
        let built = tokio::task::spawn_blocking(move || {
            let (corpus, report) = writer.update(&settings, None)?;
            let engine = match report.kind {
                BuildKind::Unchanged => None,
                _ => Some(app::open_or_build(&settings, Ranking::Full, Some(&writer))?.engine),
            };
            Ok::<_, AppError>((corpus, Box::new(report), engine))
        })
        .await?;
        Ok(built.map(|(corpus, report, engine)| {
            if let Some(engine) = engine {
                self.swap(engine);
            }
            (corpus, report)
        }))
    }

    /// The live version `damaged` was found damaged while answering (`reason`: what reading
    /// it in full found — a bot checks every checksum when it opens a version, so the
    /// damage came after). A writer rebuilds the whole
    /// index from `content/` and the embedding cache under [`Live::updating`], as
    /// `briefbot ask` does, and answers from the new version; questions that meet the same
    /// damage meanwhile wait for that one rebuild. Should the cache lack vectors too, the
    /// rebuild is by words and the caller has them made in the background
    /// ([`Cure::AnsweringByWords`]): a bot never waits for embedding. A rebuild that
    /// failed is tried again a minute later at the earliest. A reader cannot rebuild: it
    /// answers from a newer version of the writer's if there is one.
    async fn cure_damage(&self, damaged: &str, reason: &str) -> Cure {
        let Some(writer) = self.writer() else {
            if self.engine().manifest().version != damaged || self.follow().await.is_some() {
                return Cure::Answering;
            }
            let told = self.tell_writer(damaged, reason).await;
            return Cure::NeedsWriter { told };
        };
        let _guard = self.updating.lock().await;
        if self.engine().manifest().version != damaged {
            return Cure::Answering;
        }
        if self.cure_failed.of(damaged) == Some(true) {
            return Cure::Failed;
        }
        tracing::warn!(version = %damaged, reason = %reason, "the index was found damaged while answering: rebuilding it");
        let settings = self.writer_settings();
        let built = tokio::task::spawn_blocking(move || {
            // Vectors the embedding cache lacks too (a disk that damaged both) are not
            // waited for: answered by words meanwhile, made in the background.
            let (report, missing) = writer.rebuild_embedding_at_most(&settings, 0)?;
            let store = app::store(&settings);
            let open = if missing == 0 {
                store.open()?
            } else {
                store.with_model(None).open()?
            };
            let engine = Engine::new(open, SearchOptions::from_settings(&settings, Ranking::Full))?;
            Ok::<_, AppError>((report, missing, engine))
        })
        .await;
        match built {
            Ok(Ok((report, 0, engine))) => {
                tracing::info!(version = %report.manifest.version, passages = report.manifest.passages, seconds = report.seconds, "rebuilt the damaged index; answering from the new version");
                self.swap(engine);
                Cure::Answering
            }
            Ok(Ok((report, missing, engine))) => {
                tracing::warn!(version = %report.manifest.version, missing, "rebuilt the damaged index by words: the embedding cache lacks vectors; answering by words until they are made");
                self.swap(engine);
                let was_pending = self.vectors_pending.swap(true, Ordering::AcqRel);
                if was_pending {
                    Cure::Answering
                } else {
                    Cure::AnsweringByWords
                }
            }
            Ok(Err(err)) => {
                tracing::error!(error = %crate::error_chain(&err), "rebuilding the damaged index failed; the damaged version keeps answering, and the next question that meets the damage after a minute tries again");
                self.cure_failed.note(damaged);
                Cure::Failed
            }
            Err(err) => {
                tracing::error!(error = %crate::error_chain(&err), "rebuilding the damaged index failed");
                self.cure_failed.note(damaged);
                Cure::Failed
            }
        }
    }

    /// A reader tells the writer that `version` is damaged ([`app::report_damage`]):
    /// told, and logged, once a minute, not at every question or poll that meets the
    /// damage; a report that could not be written is tried again. Whether the writer has
    /// been told.
    async fn tell_writer(&self, version: &str, reason: &str) -> bool {
        if self.reported.of(version) != Some(true) {
            tracing::error!(version = %version, reason = %reason, "the index was found damaged; this process is a reader: the writer rebuilds it");
            let (settings, v, r) = (
                self.settings.clone(),
                version.to_string(),
                reason.to_string(),
            );
            let written =
                tokio::task::spawn_blocking(move || app::report_damage(&settings, &v, &r));
            if written.await.unwrap_or(false) {
                self.reported.note(version);
            }
        }
        self.reported.of(version) == Some(true)
    }

    /// An error met while answering from `version` — a vector that does not match its
    /// checksum, tantivy's corrupt data, or a damaged block of stored text, which tantivy
    /// reports as a read error (and `/read`, `/quiz`, `/cite` and passage lookups read that
    /// text): the live version is read again in full (every file against its checksum,
    /// even those checked before, and every vector), and damage found is cured
    /// ([`Live::cure_damage`]). `None` when the version is whole (the error is something
    /// else), or was found whole less than a minute ago: an error that repeats does not
    /// read a large index for every request (at 1M paragraphs 0.25–0.29 s for the index
    /// files, warm, and 0.18 s for the sentence vectors). `Some(Cure::Answering)` also when
    /// another version answers now.
    pub async fn diagnose(&self, version: &str) -> Option<Cure> {
        if self.engine().manifest().version != version {
            return Some(Cure::Answering);
        }
        if self.found_whole.of(version) == Some(true) {
            return None;
        }
        // Damage found less than a minute ago is cured (or reported, or its failed cure
        // waited for) as it was then, without reading the version in full again for every
        // request that meets it.
        if self.found_damaged.of(version) == Some(true) {
            return Some(self.cure_damage(version, "found damaged before").await);
        }
        let settings = self.writer_settings();
        let opened = tokio::task::spawn_blocking(move || app::read_in_full(&settings))
            .await
            .ok()?;
        match opened {
            Err(OpenError::Damaged { reason, .. }) => {
                self.found_damaged.note(version);
                Some(self.cure_damage(version, &reason).await)
            }
            // Another version is live (published meanwhile): answer from it.
            Ok(live) if live != version => {
                self.follow().await;
                Some(Cure::Answering)
            }
            _ => {
                self.found_whole.note(version);
                None
            }
        }
    }

    /// A writer's look for a reader's damage report ([`crate::index::damage`]), at each
    /// poll for new versions: a report the writer confirms ([`app::Writer::confirm_reported_damage`])
    /// is cured as damage met while answering ([`Live::cure_damage`]), then removed. `None`
    /// for a reader, or when there was nothing to cure; a cure that failed is tried again
    /// a minute later at the earliest.
    pub async fn cure_reported_damage(&self) -> Option<Cure> {
        let writer = self.writer()?;
        let root = self.settings.index.dir.clone();
        let report = match crate::index::damage::read(&root)? {
            Ok(report) => report,
            Err(why) => {
                tracing::warn!(error = %why, "removed a damage report that cannot be read");
                app::remove_damage_report(&root);
                return None;
            }
        };
        if self.cure_failed.of(&report.version) == Some(true) {
            return None;
        }
        let settings = self.writer_settings();
        let version = report.version.clone();
        let confirmed =
            tokio::task::spawn_blocking(move || writer.confirm_reported_damage(&settings, &report));
        let reason = confirmed.await.ok()??;
        let cure = self.cure_damage(&version, &reason).await;
        if matches!(cure, Cure::Answering | Cure::AnsweringByWords) {
            app::remove_damage_report(&root);
        }
        Some(cure)
    }

    /// An update after `content.watch` saw files change: waits for a running change to
    /// end, then reads the files that changed; logs what changed. A broken file keeps its
    /// previous paragraphs.
    pub async fn update_watched(&self, changed: &[std::path::PathBuf]) {
        let Some(writer) = self.writer() else {
            return;
        };
        let _guard = self.updating.lock().await;
        let files: Vec<String> = changed.iter().map(|p| p.display().to_string()).collect();
        match self.update_locked(writer).await {
            Ok(Ok((_, report))) if report.kind == BuildKind::Unchanged => {
                tracing::debug!(files = ?files, "content changed on disk, but the index holds it already");
            }
            Ok(Ok((corpus, report))) => tracing::info!(
                files = ?files,
                version = %report.manifest.version,
                kind = ?report.kind,
                added = report.diff.added.len(),
                changed = report.diff.changed.len(),
                removed = report.diff.removed.len(),
                skipped = corpus.skipped.len(),
                bytes_written = report.bytes_written,
                seconds = report.seconds,
                "content changed on disk; reindexed"
            ),
            Ok(Err(err)) => {
                tracing::warn!(files = ?files, error = %crate::error_chain(&err), "content changed on disk; the reindex failed and the previous index keeps answering")
            }
            Err(err) => tracing::error!(error = %crate::error_chain(&err), "reindex task failed"),
        }
    }

    /// A writer that started on a version without the model's passage vectors makes
    /// them, while the process answers by words: first every paragraph is embedded into
    /// the embedding cache (on every core, minutes to hours for a large library) without
    /// holding [`Live::updating`], so moderators' changes go on meanwhile, lexically;
    /// then, under the lock, a rebuild takes the vectors from the cache (embedding only
    /// what was added meanwhile) and the new version answers by meaning too. A reader
    /// follows the writer's versions. Run once, as the process connects.
    pub async fn make_pending_vectors(&self) {
        let Some(writer) = self.writer().filter(|_| self.vectors_pending()) else {
            return;
        };
        let (settings, ahead) = (self.settings.clone(), writer.clone());
        match tokio::task::spawn_blocking(move || ahead.embed_ahead(&settings)).await {
            Ok(Ok(embedded)) => tracing::info!(
                paragraphs = embedded,
                "embedded the paragraphs ahead of the rebuild"
            ),
            // The rebuild below embeds what is missing, and says why it cannot.
            Ok(Err(err)) => {
                tracing::warn!(error = %crate::error_chain(&err), "embedding ahead of the rebuild failed")
            }
            Err(err) => {
                tracing::error!(error = %crate::error_chain(&err), "embedding ahead of the rebuild failed")
            }
        }
        let _updating = self.updating.lock().await;
        // From here on the writer's changes carry the model's vectors; after a failure
        // too, so that the next reindex tries again.
        self.vectors_pending.store(false, Ordering::Release);
        match self.update_locked(writer).await {
            Ok(Ok((_, report))) => tracing::info!(
                version = %report.manifest.version,
                seconds = report.seconds,
                "made the model's passage vectors: answering by meaning too"
            ),
            Ok(Err(err)) => tracing::warn!(
                error = %crate::error_chain(&err),
                "the model's passage vectors could not be made: answering by words; a reindex tries again"
            ),
            Err(err) => {
                tracing::error!(error = %crate::error_chain(&err), "making the model's passage vectors failed")
            }
        }
    }
}

/// A reader's start: waits (checking every `index.reload_ms`) until the writer has
/// published an index.
fn wait_for_index(settings: &Settings) -> Result<app::Serving, AppError> {
    let mut told = false;
    loop {
        match app::open_for_serving(settings, None) {
            Err(AppError::ReaderCannotBuild(why)) => {
                if !told {
                    tracing::warn!(reason = %why, "waiting for the index writer to publish an index");
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(settings.index.reload_ms));
            }
            other => return other,
        }
    }
}
