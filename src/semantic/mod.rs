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

pub use model::{Model, ModelError, Pooling};
pub use vectors::{Quantized, Vectors};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

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
                tracing::warn!(error = %e, "the sentence-embedding model cannot be used; answering lexically");
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

/// Embeds `missing` (text hashes and texts) on every core, with a progress bar on a
/// terminal.
fn embed_missing(
    model: &Model,
    missing: &[(u64, &str)],
) -> Result<Vec<(u64, Quantized)>, ModelError> {
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let started = std::time::Instant::now();
    let bar = crate::progress::bar(missing.len() as u64, "embedding paragraphs");
    // One text per core: faster here than one text at a time over candle's own
    // threads (1,023 squad-a paragraphs on 2 cores: 101 s against 123 s).
    let made: Result<Vec<(u64, Quantized)>, ModelError> = missing
        .par_iter()
        .map(|(k, t)| {
            let v = model.embed(t)?;
            bar.inc(1);
            Ok((*k, Quantized::of(&v)))
        })
        .collect();
    bar.finish_and_clear();
    let made = made?;
    tracing::info!(
        paragraphs = made.len(),
        seconds = started.elapsed().as_secs_f64(),
        "embedded paragraphs"
    );
    Ok(made)
}

/// The vectors of the few `texts` of an incremental update, in order: from `known` (the
/// vectors the live version holds of the briefings it changes) where it has them, the
/// others embedded and appended to the cache, which is not loaded (at a million
/// paragraphs it alone would take 400 MB).
pub fn embed_update(
    model: &Model,
    cache_dir: &Path,
    texts: &[&str],
    known: &HashMap<u64, Quantized>,
) -> Result<Vec<Quantized>, ModelError> {
    let keys: Vec<u64> = texts.iter().map(|t| cache::key(t)).collect();
    let mut queued = std::collections::HashSet::new();
    let missing: Vec<(u64, &str)> = keys
        .iter()
        .zip(texts)
        .filter(|(k, _)| !known.contains_key(k) && queued.insert(**k))
        .map(|(k, t)| (*k, *t))
        .collect();
    let made = embed_missing(model, &missing)?;
    if let Err(e) = cache::Cache::unloaded(cache_dir, model.id(), model.dim()).append(made.clone())
    {
        tracing::warn!(error = %e, "cannot write the embedding cache");
    }
    let fresh: HashMap<u64, Quantized> = made.into_iter().collect();
    Ok(keys
        .iter()
        .map(|k| {
            known
                .get(k)
                .or_else(|| fresh.get(k))
                .cloned()
                .expect("every text known or just embedded")
        })
        .collect())
}

/// The vectors of `texts`, in order: from the cache where it has them, the others
/// embedded on every core (a progress bar on a terminal) and added to the cache. With
/// `compact`, the cache then drops the vectors of texts not in this build when they
/// outnumber the others.
pub fn embed_passages(
    model: &Model,
    cache_dir: &Path,
    texts: &[&str],
    compact: bool,
) -> Result<Vec<Quantized>, ModelError> {
    let mut cache = cache::Cache::load(cache_dir, model.id(), model.dim());
    let keys: Vec<u64> = texts.iter().map(|t| cache::key(t)).collect();
    let mut missing: Vec<(u64, &str)> = Vec::new();
    let mut queued = std::collections::HashSet::new();
    for (k, t) in keys.iter().zip(texts) {
        if cache.get(*k).is_none() && queued.insert(*k) {
            missing.push((*k, t));
        }
    }
    let made = embed_missing(model, &missing)?;
    if let Err(e) = cache.append(made.clone()) {
        // Only a cost: the next build embeds them again.
        tracing::warn!(error = %e, "cannot write the embedding cache");
    }
    let fresh: HashMap<u64, Quantized> = made.into_iter().collect();
    let out: Vec<Quantized> = keys
        .iter()
        .map(|k| {
            cache
                .get(*k)
                .or_else(|| fresh.get(k))
                .cloned()
                .expect("every text cached or just embedded")
        })
        .collect();
    let live = keys.iter().copied().collect();
    if compact && let Err(e) = cache.compact(&live) {
        tracing::warn!(error = %e, "cannot compact the embedding cache");
    }
    Ok(out)
}
