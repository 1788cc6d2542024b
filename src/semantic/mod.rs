//! The semantic signal: a local sentence-embedding model (`[search.semantic] model_dir`)
//! that turns questions and passages into vectors, the passage vectors stored with each
//! index version, and the cache that spares a rebuild from embedding unchanged paragraphs.
//!
//! Nothing here knows about Discord or tantivy: the index store asks [`embed_passages`]
//! for the vectors of a build, and search asks the [`Model`] for a question's vector and
//! the [`Vectors`] for its nearest passages.

pub mod bert;
pub mod cache;
pub mod fetch;
pub mod model;
pub mod vectors;

pub use model::{Model, ModelError, PassageRun, Pooling};
pub use vectors::{Quantized, Vectors};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rayon::prelude::*;

/// The model of these settings, loaded once per process and shared (every engine, every
/// build); `Ok(None)` when no model is configured. A model that fails to load is an error
/// each time it is asked for, logged once: callers answer lexically.
pub fn shared(
    settings: &crate::config::SemanticSettings,
) -> Result<Option<Arc<Model>>, Arc<ModelError>> {
    let Some(dir) = &settings.model_dir else {
        return Ok(None);
    };
    type Loaded = Result<Arc<Model>, Arc<ModelError>>;
    static MODELS: OnceLock<Mutex<HashMap<(PathBuf, String), Loaded>>> = OnceLock::new();
    let mut models = MODELS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = (dir.clone(), settings.query_prefix.clone());
    let loaded = models.entry(key).or_insert_with(|| {
        let started = std::time::Instant::now();
        match Model::load(dir, &settings.query_prefix) {
            Ok(m) => {
                tracing::info!(
                    model = %dir.display(),
                    id = m.id(),
                    ms = started.elapsed().as_millis() as u64,
                    "sentence-embedding model loaded"
                );
                Ok(Arc::new(m))
            }
            Err(e) => {
                tracing::warn!(error = %crate::error_chain(&e), "the sentence-embedding model cannot be used; answering lexically");
                Err(Arc::new(e))
            }
        }
    });
    loaded.clone().map(Some)
}

/// The model of these settings if it loads; `None` (logged once) when there is none or
/// it cannot be used.
pub fn usable(settings: &crate::config::SemanticSettings) -> Option<Arc<Model>> {
    shared(settings).ok().flatten()
}

/// Folder of the embedding caches inside an index folder.
pub fn cache_dir(index_dir: &Path) -> PathBuf {
    index_dir.join("embeddings")
}

/// Paragraphs embedded between two writes to the embedding cache: a run stopped part-way
/// (a restart of the bot, a crash, Ctrl-C on `briefbot index`) keeps all but the last
/// chunk's work, and the next build embeds only the rest. 128 paragraphs are 6–8 s of
/// work on 2 cores here (16–20 paragraphs a second in this session's builds of squad-a);
/// only a core that finishes a paragraph while a chunk is written waits for the write.
const CHUNK: usize = 128;

/// How often a long run tells its progress in the log: a bot has no terminal for the
/// progress bar, and embedding a large library takes hours.
const PROGRESS_EVERY: Duration = Duration::from_secs(30);

/// How far a run of embeddings is.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Progress {
    done: usize,
    total: usize,
    per_second: f64,
}

/// Tells `progress` in the log (a bot's operator sees it; `briefbot index` shows its bar).
fn log_progress(p: &Progress) {
    let left = (p.total - p.done) as f64 / p.per_second.max(1e-9);
    tracing::info!(
        done = p.done,
        total = p.total,
        per_second = (p.per_second * 10.0).round() / 10.0,
        minutes_left = (left / 60.0).ceil() as u64,
        "embedding paragraphs"
    );
}

/// How a run of embeddings is carried out.
struct Run<'a> {
    /// Vectors written to the cache at a time ([`CHUNK`]).
    chunk: usize,
    pool: &'a rayon::ThreadPool,
    /// How often progress is told ([`PROGRESS_EVERY`]), and to whom.
    every: Duration,
    tell: &'a (dyn Fn(&Progress) + Sync),
    /// Whether the vectors are also returned, or only written to the cache.
    keep: bool,
}

/// Embeds `missing` (text hashes and texts) on every core, with a progress bar on a
/// terminal and a line in the log every [`PROGRESS_EVERY`], appending them to `cache`
/// [`CHUNK`] at a time as they are made; returns them too when `keep`.
fn embed_missing(
    embed: impl Fn(&str) -> Result<Vec<f32>, ModelError> + Sync,
    missing: &[(u64, &str)],
    cache: &mut cache::Cache,
    keep: bool,
) -> Result<Vec<(u64, Quantized)>, ModelError> {
    let run = Run {
        chunk: CHUNK,
        pool: embedding_pool(),
        every: PROGRESS_EVERY,
        tell: &log_progress,
        keep,
    };
    embed_in_chunks(embed, missing, cache, &run)
}

/// Runs `op`, and the rayon work it starts, on [`embedding_pool`]: for embedding many
/// texts at once (a build's paragraphs, a report's questions) while members ask.
pub fn in_background<R: Send>(op: impl FnOnce() -> R + Send) -> R {
    embedding_pool().install(op)
}

/// The threads many texts are embedded on, one per core (or `RAYON_NUM_THREADS`): not
/// rayon's global pool, where the model's matrix products for a member's question run.
/// Rayon serves work from outside its pool last, so a question asked while a build
/// embedded paragraphs on the global pool waited for the whole build (measured with
/// `examples/embed_contention.rs` on squad-a's 1,023 paragraphs: one question 52 s, the
/// length of the run; alone 7.5 ms). They run [`EMBEDDING_NICER_BY`] nicer.
fn embedding_pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("embed-{i}"))
            .start_handler(|_| lower_priority())
            .build()
            .expect("the embedding threads start")
    })
}

/// How much nicer than the process the embedding threads run (nice 10 in a process at
/// 0): when a question and a build both want a core, the kernel weighs them 1024 to 110
/// (measured: README, "Long embedding runs").
pub const EMBEDDING_NICER_BY: i32 = 10;

/// Makes the calling thread [`EMBEDDING_NICER_BY`] nicer (at most 19), on Linux, where the
/// nice value belongs to each thread; elsewhere nothing. Relative, so that it never raises
/// a thread above the process's own priority (as root, an absolute value could). A
/// failure leaves the thread as it was.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // nice() returns the new value, and -1 both as a value and on failure: errno tells.
        // SAFETY: nice takes no pointers and changes this thread alone on Linux.
        let failed = unsafe {
            *libc::__errno_location() = 0;
            libc::nice(EMBEDDING_NICER_BY) == -1 && *libc::__errno_location() != 0
        };
        if failed {
            tracing::debug!(error = %std::io::Error::last_os_error(), "cannot lower the embedding threads' priority");
        }
    }
}

/// Where embedded vectors go: to the cache a chunk at a time, and to the caller; and
/// how far they are, told every so often.
struct Sink<'c> {
    cache: &'c mut cache::Cache,
    run: &'c Run<'c>,
    unwritten: Vec<(u64, Quantized)>,
    /// What was made, when the run keeps it.
    made: Vec<(u64, Quantized)>,
    done: usize,
    /// False after a write failed: a full disk stays full, and the cache is only a cost.
    writing: bool,
    total: usize,
    started: Instant,
    told: Instant,
}

impl Sink<'_> {
    fn push(&mut self, made: (u64, Quantized)) {
        self.unwritten.push(made);
        if self.unwritten.len() >= self.run.chunk.max(1) {
            self.write();
            if self.told.elapsed() >= self.run.every && self.done < self.total {
                self.told = Instant::now();
                (self.run.tell)(&Progress {
                    done: self.done,
                    total: self.total,
                    per_second: self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-9),
                });
            }
        }
    }

    fn write(&mut self) {
        if self.writing
            && let Err(e) = self.cache.append(&self.unwritten)
        {
            // Only a cost: the next build embeds them again.
            tracing::warn!(error = %crate::error_chain(&e), "cannot write the embedding cache");
            self.writing = false;
        }
        self.done += self.unwritten.len();
        if self.run.keep {
            self.made.append(&mut self.unwritten);
        } else {
            self.unwritten.clear();
        }
    }
}

/// [`embed_missing`] over any embedding function, as `run` says. One text per
/// core: faster here than one text at a time over candle's own threads (1,023 squad-a
/// paragraphs on 2 cores: 101 s against 123 s). No core waits for the others at a
/// chunk's end (waiting for each chunk of 128 to end cost 4 % here: 63 s against 60.5 s
/// for squad-a's paragraphs). When a text fails, what was made before it is written too.
fn embed_in_chunks(
    embed: impl Fn(&str) -> Result<Vec<f32>, ModelError> + Sync,
    missing: &[(u64, &str)],
    cache: &mut cache::Cache,
    run: &Run,
) -> Result<Vec<(u64, Quantized)>, ModelError> {
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let started = Instant::now();
    let bar = crate::progress::bar(missing.len() as u64, "embedding paragraphs");
    let sink = Mutex::new(Sink {
        cache,
        run,
        unwritten: Vec::new(),
        made: Vec::with_capacity(if run.keep { missing.len() } else { 0 }),
        done: 0,
        writing: true,
        total: missing.len(),
        started,
        told: started,
    });
    let result = run.pool.install(|| {
        missing.par_iter().try_for_each(|(k, t)| {
            let v = embed(t)?;
            bar.inc(1);
            sink.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((*k, Quantized::of(&v)));
            Ok(())
        })
    });
    bar.finish_and_clear();
    let mut sink = sink
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    sink.write();
    result?;
    tracing::info!(
        paragraphs = sink.done,
        seconds = started.elapsed().as_secs_f64(),
        "embedded paragraphs"
    );
    Ok(sink.made)
}

/// The texts a passage is embedded as: its paragraph, then each of its sentences when it
/// has more than one (a paragraph of one sentence is its own sentence). Sentence vectors
/// let a question match the one sentence that answers it inside a long paragraph, whose
/// vector averages every sentence (README, "Questions in other words").
pub fn texts_of(text: &str) -> Vec<&str> {
    let sentences = crate::search::analyze::sentences(text);
    let mut out = Vec::with_capacity(1 + sentences.len());
    out.push(text);
    if sentences.len() > 1 {
        out.extend(sentences.into_iter().map(|r| &text[r]));
    }
    out
}

/// The cache keys of [`texts_of`]`(text)`: what embedding the passage takes.
pub fn keys_of(text: &str) -> Vec<u64> {
    texts_of(text).into_iter().map(cache::key).collect()
}

/// The vectors of a run of passages, in order: each passage's, and its sentences' (at
/// least one: a passage of one sentence has its own vector again).
#[derive(Debug, Default)]
pub struct Embedded {
    pub rows: Vec<Quantized>,
    pub sentences: Vec<Vec<Quantized>>,
}

impl Embedded {
    /// Writes them as a vectors file of `model` ([`vectors::write`]); returns its CRC32.
    pub fn write(&self, path: &Path, model: &Model) -> std::io::Result<u32> {
        vectors::write(path, model.id(), model.dim(), &self.rows, &self.sentences)
    }
}

/// Every text of `paragraphs` to embed ([`texts_of`]): the paragraphs first, in order,
/// then their sentences, with where each paragraph's sentences are among them (empty for
/// a paragraph of one sentence).
fn with_sentences<'t>(paragraphs: &[&'t str]) -> (Vec<&'t str>, Vec<std::ops::Range<usize>>) {
    let mut all = paragraphs.to_vec();
    let mut spans = Vec::with_capacity(paragraphs.len());
    for p in paragraphs {
        let start = all.len();
        all.extend(texts_of(p).into_iter().skip(1));
        spans.push(start..all.len());
    }
    (all, spans)
}

/// Splits the vectors of [`with_sentences`]' texts back into passages and sentences.
fn split(mut all: Vec<Quantized>, spans: &[std::ops::Range<usize>]) -> Embedded {
    let sentences_of: Vec<Quantized> = all.split_off(spans.len());
    let mut sentences_of = sentences_of.into_iter();
    let sentences = spans
        .iter()
        .zip(&all)
        .map(|(span, own)| match span.len() {
            0 => vec![own.clone()],
            n => sentences_of.by_ref().take(n).collect(),
        })
        .collect();
    Embedded {
        rows: all,
        sentences,
    }
}

/// The vectors of the few `paragraphs` of an incremental update, in order, with their
/// sentences': from `known` (the vectors the live version holds of the briefings it
/// changes, by text hash) where it has them, the others embedded and appended to the
/// cache, which is not loaded (at a million paragraphs it alone would take 400 MB).
pub fn embed_update(
    model: &Model,
    cache_dir: &Path,
    paragraphs: &[&str],
    known: &HashMap<u64, Quantized>,
) -> Result<Embedded, ModelError> {
    let (texts, spans) = with_sentences(paragraphs);
    let keys: Vec<u64> = texts.iter().map(|t| cache::key(t)).collect();
    let missing = not_cached(|k| known.contains_key(&k), &keys, &texts);
    let mut cache = cache::Cache::unloaded(cache_dir, model.id(), model.dim());
    let made = embed_missing(|t| model.embed(t), &missing, &mut cache, true)?;
    let fresh: HashMap<u64, Quantized> = made.into_iter().collect();
    let all = keys
        .iter()
        .map(|k| {
            known
                .get(k)
                .or_else(|| fresh.get(k))
                .cloned()
                .expect("every text known or just embedded")
        })
        .collect();
    Ok(split(all, &spans))
}

/// Each of `texts` (with its key, of `keys`) that the cache lacks (`cached` says which it
/// holds), once.
fn not_cached<'t>(
    cached: impl Fn(u64) -> bool,
    keys: &[u64],
    texts: &[&'t str],
) -> Vec<(u64, &'t str)> {
    let mut queued = std::collections::HashSet::new();
    keys.iter()
        .zip(texts)
        .filter(|(k, _)| !cached(**k) && queued.insert(**k))
        .map(|(k, t)| (*k, *t))
        .collect()
}

/// Each distinct one of `texts` (with its key) the embedding cache in `cache_dir` holds no
/// vector of for `model`, read from the cache's keys alone.
fn uncached<'t>(model: &Model, cache_dir: &Path, texts: &[&'t str]) -> Vec<(u64, &'t str)> {
    let known = cache::Cache::keys(cache_dir, model.id(), model.dim());
    let keys: Vec<u64> = texts.iter().map(|t| cache::key(t)).collect();
    not_cached(|k| known.contains(&k), &keys, texts)
}

/// How many distinct passages, each given by the keys of its texts ([`keys_of`]), have
/// a text the embedding cache in `cache_dir` holds no vector of for `model`: what a build
/// with it would embed. Only keys are held, the cache's and these.
pub fn count_missing(
    model: &Model,
    cache_dir: &Path,
    passages: impl IntoIterator<Item = Vec<u64>>,
) -> usize {
    let known = cache::Cache::keys(cache_dir, model.id(), model.dim());
    passages
        .into_iter()
        .filter(|keys| keys.iter().any(|k| !known.contains(k)))
        .map(|keys| keys[0])
        .collect::<std::collections::HashSet<u64>>()
        .len()
}

/// Embeds the texts of `paragraphs` ([`texts_of`]) the cache lacks and writes them to it,
/// as they are made; returns how many texts were embedded. The vectors are not kept in
/// memory (about 400 bytes a text): the build that follows reads them from the cache.
pub fn embed_ahead(
    model: &Model,
    cache_dir: &Path,
    paragraphs: &[&str],
) -> Result<usize, ModelError> {
    let (texts, _) = with_sentences(paragraphs);
    let missing = uncached(model, cache_dir, &texts);
    let mut cache = cache::Cache::unloaded(cache_dir, model.id(), model.dim());
    embed_missing(|t| model.embed(t), &missing, &mut cache, false)?;
    Ok(missing.len())
}

/// The vectors of `paragraphs` and their sentences, in order: from the cache where it
/// has them, the others embedded on every core (a progress bar on a terminal) and added
/// to the cache. They stay in the cache's file: only where each is (a record number) is
/// held in memory, and [`InCache::write`] reads them one at a time into the version's
/// vectors file. With `compact`, the cache then drops the vectors of texts not in this
/// build when they outnumber the others.
pub fn embed_passages(
    model: &Model,
    cache_dir: &Path,
    paragraphs: &[&str],
    compact: bool,
) -> Result<InCache, ModelError> {
    let (texts, spans) = with_sentences(paragraphs);
    let keys: Vec<u64> = texts.iter().map(|t| cache::key(t)).collect();
    // This build's distinct texts, sorted: 8 bytes each, searched by halves.
    let mut live = keys.clone();
    live.sort_unstable();
    live.dedup();
    let wanted = |k: u64| live.binary_search(&k).is_ok();
    let mut cache = cache::Cache::locate_only(cache_dir, model.id(), model.dim(), wanted);
    let missing = not_cached(|k| cache.has(k), &keys, &texts);
    embed_missing(|t| model.embed(t), &missing, &mut cache, false)?;
    Ok(InCache {
        cache,
        keys,
        spans,
        live,
        compact,
    })
}

/// A full build's vectors, in the embedding cache's file ([`embed_passages`]). Held in
/// memory before, about 5 kB a paragraph of the generated corpus with its nine sentences:
/// `index --full` of 100k paragraphs, every vector cached, peaked at 859–892 MB, and
/// 366–373 MB since (the same vectors file, byte for byte).
pub struct InCache {
    cache: cache::Cache,
    /// Every text's key: the paragraphs', then their sentences' ([`with_sentences`]).
    keys: Vec<u64>,
    spans: Vec<std::ops::Range<usize>>,
    live: Vec<u64>,
    compact: bool,
}

impl InCache {
    /// Writes them as a vectors file of `model` ([`vectors::write_from`]), each read from
    /// the cache's file and checked against its record's CRC again; then compacts the
    /// cache if asked. Returns the file's CRC32. A vector the cache could not keep (its
    /// file could not be written: logged while embedding) makes it an error.
    pub fn write(mut self, path: &Path, model: &Model) -> std::io::Result<u32> {
        let counts: Vec<usize> = self.spans.iter().map(|s| s.len().max(1)).collect();
        let crc = {
            let mut reader = self.cache.reader()?;
            let (keys, spans) = (&self.keys, &self.spans);
            vectors::write_from(path, model.id(), model.dim(), &counts, |text| {
                let at = match text {
                    vectors::Text::Row(r) => r,
                    // A paragraph of one sentence is its own sentence.
                    vectors::Text::Sentence(r, _) if spans[r].is_empty() => r,
                    vectors::Text::Sentence(r, nth) => spans[r].start + nth,
                };
                reader.bytes(keys[at]).map(<[u8]>::to_vec)
            })?
        };
        let live = &self.live;
        if self.compact
            && let Err(e) = self
                .cache
                .compact(live.len(), |k| live.binary_search(&k).is_ok())
        {
            tracing::warn!(error = %crate::error_chain(&e), "cannot compact the embedding cache");
        }
        Ok(crc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A long embedding run that stops part-way (here: the model fails on one text; a
    /// restart or a crash stops it the same way) has written every whole chunk before
    /// it stopped, so the next build embeds only the rest. Before, the cache was written
    /// once, at the end: an hour of embedding stopped a minute early was all lost.
    #[test]
    fn a_run_stopped_part_way_keeps_the_chunks_it_made() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = (0..10).map(|i| format!("paragraph {i}")).collect();
        let missing: Vec<(u64, &str)> = texts.iter().map(|t| (cache::key(t), t.as_str())).collect();
        let calls = AtomicUsize::new(0);
        let on_disk = || cache::Cache::load(dir.path(), "m", 4).len();
        let embed = |fail: Option<&'static str>| {
            let (calls, on_disk) = (&calls, &on_disk);
            move |t: &str| {
                calls.fetch_add(1, Ordering::Relaxed);
                if Some(t) == fail {
                    // One thread, in order: two chunks of three were written by now.
                    assert_eq!(on_disk(), 6, "written as they were made");
                    return Err(ModelError::Run(format!("cannot embed {t}")));
                }
                Ok(vec![t.len() as f32, 1.0, -1.0, 0.5])
            }
        };
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();

        let run = Run {
            chunk: 3,
            pool: &one_thread,
            every: Duration::from_secs(3600),
            tell: &|p| panic!("told {p:?} before an hour"),
            keep: true,
        };
        let mut cache = cache::Cache::load(dir.path(), "m", 4);
        let err = embed_in_chunks(embed(Some("paragraph 7")), &missing, &mut cache, &run);
        assert!(
            matches!(err, Err(ModelError::Run(_))),
            "{:?}",
            err.map(|v| v.len())
        );
        // And what was made after them, before the failure.
        let cache = cache::Cache::load(dir.path(), "m", 4);
        assert_eq!(cache.len(), 7);
        assert!(
            texts[..7]
                .iter()
                .all(|t| cache.get(cache::key(t)).is_some())
        );

        // The next run embeds the other three only.
        let rest = not_cached(
            |k| cache.get(k).is_some(),
            &missing.iter().map(|m| m.0).collect::<Vec<_>>(),
            &texts.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        calls.store(0, Ordering::Relaxed);
        let mut cache = cache;
        let made = embed_in_chunks(embed(None), &rest, &mut cache, &run).unwrap();
        assert_eq!((made.len(), calls.load(Ordering::Relaxed)), (3, 3));
        assert_eq!(cache::Cache::load(dir.path(), "m", 4).len(), 10);
    }

    /// A long run tells how far it is, after a chunk is written, every so often (here:
    /// every time), never after its last. A run that does not keep its vectors (embedding
    /// ahead of a build) counts them all the same, and leaves them in the cache alone.
    #[test]
    fn progress_is_told_as_chunks_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = (0..10).map(|i| format!("paragraph {i}")).collect();
        let missing: Vec<(u64, &str)> = texts.iter().map(|t| (cache::key(t), t.as_str())).collect();
        let told = Mutex::new(Vec::new());
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let tell = |p: &Progress| told.lock().unwrap().push(*p);
        let run = Run {
            chunk: 3,
            pool: &one_thread,
            every: Duration::ZERO,
            tell: &tell,
            keep: false,
        };
        let mut cache = cache::Cache::load(dir.path(), "m", 4);
        let made = embed_in_chunks(|_| Ok(vec![1.0; 4]), &missing, &mut cache, &run).unwrap();
        assert!(made.is_empty(), "not kept in memory");
        assert_eq!(cache::Cache::load(dir.path(), "m", 4).len(), 10);
        let told = told.into_inner().unwrap();
        let done: Vec<(usize, usize)> = told.iter().map(|p| (p.done, p.total)).collect();
        assert_eq!(done, [(3, 10), (6, 10), (9, 10)]);
        assert!(told.iter().all(|p| p.per_second > 0.0), "{told:?}");
    }

    /// Paragraphs are embedded on threads of their own, never on rayon's global pool,
    /// where a question's matrix products run and would wait for the whole build.
    #[test]
    fn paragraphs_are_embedded_off_the_global_pool() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = (0..50).map(|i| format!("paragraph {i}")).collect();
        let missing: Vec<(u64, &str)> = texts.iter().map(|t| (cache::key(t), t.as_str())).collect();
        let threads = Mutex::new(std::collections::HashSet::new());
        let mut cache = cache::Cache::load(dir.path(), "m", 4);
        let made = embed_missing(
            |_| {
                let name = std::thread::current().name().map(String::from);
                threads.lock().unwrap().insert(name);
                assert!(rayon::current_thread_index().is_some(), "on a pool");
                Ok(vec![1.0; 4])
            },
            &missing,
            &mut cache,
            true,
        )
        .unwrap();
        assert_eq!(made.len(), 50);
        let threads = threads.into_inner().unwrap();
        assert!(
            threads
                .iter()
                .all(|t| t.as_deref().is_some_and(|n| n.starts_with("embed-"))),
            "{threads:?}"
        );
    }

    /// The embedding threads run at a lower priority than the threads that embed
    /// questions, so that a member's question asked during a build gets the cores first.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_embedding_threads_yield_to_questions() {
        // SAFETY: gettid and getpriority take no pointers.
        let niceness =
            || unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        let caller = niceness();
        let embedding = in_background(|| rayon::broadcast(|_| niceness()));
        assert_eq!(embedding.len(), embedding_pool().current_num_threads());
        let expected = (caller + EMBEDDING_NICER_BY).min(19);
        assert!(
            embedding.iter().all(|&n| n == expected),
            "{embedding:?}, caller {caller}"
        );
        assert_eq!(
            niceness(),
            caller,
            "the caller's own priority is left alone"
        );
    }
}
