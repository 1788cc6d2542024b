//! A sentence-transformers BERT-family model run in-process on the CPU: candle for the
//! network (a BERT of our own over candle's tensors, [`super::bert`]), `tokenizers` for
//! WordPiece, pooling as the model folder's `1_Pooling/config.json` says, L2
//! normalisation.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams};

use super::bert::{Bert, Config};

/// Longest input, in tokens ([CLS] and [SEP] included): sentence-transformers' own limit
/// for all-MiniLM-L6-v2 (`max_seq_length` 256); the rest of a longer text is not seen.
pub const MAX_TOKENS: usize = 256;

/// The files a model folder must hold.
pub const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
/// The pooling settings, optional (mean pooling without it).
pub const POOLING_FILE: &str = "1_Pooling/config.json";

/// Why a model folder cannot be used; each names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the model folder {0} does not exist")]
    NoFolder(PathBuf),
    #[error("the model folder lacks {0}")]
    Missing(PathBuf),
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "{path}: unsupported model: {reason} (briefbot runs BERT-family sentence-transformers models)"
    )]
    Unsupported { path: PathBuf, reason: String },
    #[error("the model failed on a text: {0}")]
    Run(String),
}

/// How token vectors become one text vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The mean over every token, [CLS] and [SEP] included (all-MiniLM-L6-v2, e5).
    Mean,
    /// The [CLS] token's vector (bge).
    Cls,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

#[derive(Deserialize)]
struct Architecture {
    #[serde(default)]
    model_type: Option<String>,
    #[serde(default)]
    architectures: Vec<String>,
}

/// What [`Model::embed_with_spans`] makes of a passage.
#[derive(Debug, Clone, PartialEq)]
pub struct PassageRun {
    /// The passage's vector, as [`Model::embed`] makes it.
    pub passage: Vec<f32>,
    /// One vector per span, `None` for a span past the truncation.
    pub sentences: Vec<Option<Vec<f32>>>,
}

/// A loaded model. `Send + Sync`: one per process, shared by every search and build.
pub struct Model {
    bert: Bert,
    /// 1 / the length of each token's input embedding, for [`Model::word_cosine`].
    word_scale: Vec<f32>,
    tokenizer: Tokenizer,
    pooling: Pooling,
    dim: usize,
    max_tokens: usize,
    query_prefix: String,
    id: String,
    dir: PathBuf,
    /// Texts embedded so far (questions and passages), for tests and reports.
    embedded: AtomicU64,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("dir", &self.dir)
            .field("id", &self.id)
            .field("dim", &self.dim)
            .field("pooling", &self.pooling)
            .finish_non_exhaustive()
    }
}

fn unreadable(path: &Path, reason: impl std::fmt::Display) -> ModelError {
    ModelError::Unreadable {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn unsupported(path: &Path, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Model {
    /// Loads the model in `dir`; `query_prefix` is put before every question (and never
    /// before a passage), for models that expect one (bge, e5).
    pub fn load(dir: &Path, query_prefix: &str) -> Result<Model, ModelError> {
        if !dir.is_dir() {
            return Err(ModelError::NoFolder(dir.to_path_buf()));
        }
        for file in REQUIRED_FILES {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(ModelError::Missing(path));
            }
        }
        let config_path = dir.join("config.json");
        let config_text = std::fs::read(&config_path).map_err(|e| unreadable(&config_path, e))?;
        let arch: Architecture =
            serde_json::from_slice(&config_text).map_err(|e| unreadable(&config_path, e))?;
        let is_bert = arch.model_type.as_deref() == Some("bert")
            || arch.architectures.iter().any(|a| a.starts_with("Bert"));
        if !is_bert {
            let what = arch
                .model_type
                .or_else(|| arch.architectures.first().cloned())
                .unwrap_or_else(|| "none named".into());
            return Err(unsupported(&config_path, format!("architecture {what}")));
        }
        let config: Config = serde_json::from_slice(&config_text)
            .map_err(|e| unsupported(&config_path, e.to_string()))?;

        let pooling_path = dir.join(POOLING_FILE);
        let (pooling, pooling_text) = if pooling_path.is_file() {
            let text = std::fs::read(&pooling_path).map_err(|e| unreadable(&pooling_path, e))?;
            let p: PoolingConfig =
                serde_json::from_slice(&text).map_err(|e| unreadable(&pooling_path, e))?;
            let pooling = match (
                p.pooling_mode_mean_tokens,
                p.pooling_mode_cls_token,
                p.pooling_mode_max_tokens || p.pooling_mode_mean_sqrt_len_tokens,
            ) {
                (true, false, false) => Pooling::Mean,
                (false, true, false) => Pooling::Cls,
                _ => {
                    return Err(unsupported(
                        &pooling_path,
                        "pooling other than one of mean or CLS",
                    ));
                }
            };
            (pooling, text)
        } else {
            (Pooling::Mean, Vec::new())
        };

        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer_text =
            std::fs::read(&tokenizer_path).map_err(|e| unreadable(&tokenizer_path, e))?;
        let mut tokenizer =
            Tokenizer::from_bytes(&tokenizer_text).map_err(|e| unreadable(&tokenizer_path, e))?;
        let max_tokens = MAX_TOKENS.min(config.max_position_embeddings);
        // As shipped, all-MiniLM-L6-v2's tokenizer pads and truncates every text to 128
        // tokens: the vectors of longer paragraphs would be of their first half only, and
        // padding (without a mask) would change every vector. One text at a time, unpadded.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| unreadable(&tokenizer_path, e))?;

        let weights_path = dir.join("model.safetensors");
        let weights = std::fs::read(&weights_path).map_err(|e| unreadable(&weights_path, e))?;
        let mut id = Sha256::new();
        for part in [&config_text, &tokenizer_text, &pooling_text, &weights] {
            id.update((part.len() as u64).to_le_bytes());
            id.update(part);
        }
        id.update(format!("max_tokens {max_tokens} prefix {query_prefix:?}").as_bytes());
        let id = hex(&id.finalize()[..16]);

        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|e| unsupported(&weights_path, e.to_string()))?;
        let bert =
            Bert::load(vb, &config).map_err(|e| unsupported(&weights_path, e.to_string()))?;
        let word_scale = (0..bert.vocabulary() as u32)
            .map(|id| {
                let row = bert.word_vector(id).unwrap_or(&[]);
                let length = dot(row, row).sqrt();
                if length > 0.0 { 1.0 / length } else { 0.0 }
            })
            .collect();
        let model = Model {
            bert,
            word_scale,
            tokenizer,
            pooling,
            dim: config.hidden_size,
            max_tokens,
            query_prefix: query_prefix.to_string(),
            id,
            dir: dir.to_path_buf(),
            embedded: AtomicU64::new(0),
        };
        // A model that cannot embed a word is refused now, not at the first question.
        model
            .embed("briefbot")
            .map_err(|e| unsupported(&weights_path, e.to_string()))?;
        model.embedded.store(0, Ordering::Relaxed);
        Ok(model)
    }

    /// The vector of a passage: unit length, `dim()` numbers.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, ModelError> {
        self.embedded.fetch_add(1, Ordering::Relaxed);
        self.forward(text)
            .map_err(|e| ModelError::Run(e.to_string()))
    }

    /// The vector of a question: [`Model::embed`] of the query prefix and the question.
    pub fn embed_query(&self, question: &str) -> Result<Vec<f32>, ModelError> {
        if self.query_prefix.is_empty() {
            self.embed(question)
        } else {
            self.embed(&format!("{}{question}", self.query_prefix))
        }
    }

    /// The vector of a passage and, from the same run of the model, one vector for each
    /// byte range of `spans` (its sentences): the mean of the last layer's vectors of the
    /// tokens inside the range, read in the passage's context, L2-normalised. A range
    /// with no token inside the model's `max_tokens` gets `None`. Used by a study so far
    /// (`examples/probe_semantic.rs`; README, "Could the sentence vectors come free?").
    pub fn embed_with_spans(
        &self,
        text: &str,
        spans: &[std::ops::Range<usize>],
    ) -> Result<PassageRun, ModelError> {
        self.embedded.fetch_add(1, Ordering::Relaxed);
        self.forward_spans(text, spans)
            .map_err(|e| ModelError::Run(e.to_string()))
    }

    fn forward_spans(
        &self,
        text: &str,
        spans: &[std::ops::Range<usize>],
    ) -> anyhow::Result<PassageRun> {
        let encoding = self.encode(text)?;
        let out = self.bert.forward(encoding.get_ids())?;
        let passage = self.pooled(&out)?;
        let rows: Vec<Vec<f32>> = out.to_vec2()?;
        // Special tokens ([CLS], [SEP]) have empty byte ranges, so no span holds them.
        let offsets = encoding.get_offsets();
        let sentences = spans
            .iter()
            .map(|span| {
                let mut inside = rows
                    .iter()
                    .zip(offsets)
                    .filter(|(_, (a, b))| b > a && *a >= span.start && *b <= span.end)
                    .map(|(r, _)| r)
                    .peekable();
                inside.peek().is_some().then(|| {
                    let mut v = mean(inside);
                    normalize(&mut v);
                    v
                })
            })
            .collect();
        Ok(PassageRun { passage, sentences })
    }

    fn encode(&self, text: &str) -> anyhow::Result<tokenizers::Encoding> {
        self.tokenizer
            .encode(text, true)
            .map_err(|e| anyhow::anyhow!("tokenizing: {e}"))
    }

    fn forward(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        let encoding = self.encode(text)?;
        // One unpadded text: every token is attended to, so no mask is needed.
        self.pooled(&self.bert.forward(encoding.get_ids())?)
    }

    /// One text's vector from its tokens' last-layer vectors `out` (`[tokens, hidden]`):
    /// pooled as the folder says, unit length.
    fn pooled(&self, out: &Tensor) -> anyhow::Result<Vec<f32>> {
        let pooled = match self.pooling {
            Pooling::Mean => (out.sum(0)? / out.dims2()?.0 as f64)?,
            Pooling::Cls => out.get(0)?,
        };
        let mut v: Vec<f32> = pooled.to_vec1()?;
        normalize(&mut v);
        Ok(v)
    }

    /// The vocabulary's number of `word` when the model holds it as one whole token
    /// ("railway", not a word it splits into pieces); words are looked up as given (the
    /// caller lower-cases them for an uncased model such as all-MiniLM-L6-v2).
    pub fn word_id(&self, word: &str) -> Option<u32> {
        self.tokenizer
            .token_to_id(word)
            .filter(|&id| (id as usize) < self.word_scale.len())
    }

    /// The cosine of two tokens' input embeddings: how close two words are in the model's
    /// own word space, without their context ("railway" and "railroad" 0.74, "scripture"
    /// and "bible" 0.63 in all-MiniLM-L6-v2; unrelated words near 0). Ids from
    /// [`Model::word_id`]; 0 for an id past the vocabulary.
    pub fn word_cosine(&self, a: u32, b: u32) -> f32 {
        match (self.bert.word_vector(a), self.bert.word_vector(b)) {
            (Some(x), Some(y)) => {
                dot(x, y) * self.word_scale[a as usize] * self.word_scale[b as usize]
            }
            _ => 0.0,
        }
    }

    /// How many tokens the model sees of `text` ([CLS] and [SEP] included, truncated).
    pub fn tokens(&self, text: &str) -> usize {
        self.tokenizer
            .encode(text, true)
            .map(|e| e.get_ids().len())
            .unwrap_or(0)
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Names the model's files and settings (a hash of them): vectors made by one model
    /// are never used with another.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many texts this model has embedded since it was loaded.
    pub fn embedded(&self) -> u64 {
        self.embedded.load(Ordering::Relaxed)
    }
}

/// The dot product of two equally long slices, in eight independent sums: a single running
/// sum is one long chain of dependent additions that the compiler may not reorder (so
/// neither vectorise), and this runs once per paragraph word and question word.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; 8];
    let (xa, xb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = xa
        .remainder()
        .iter()
        .zip(xb.remainder())
        .map(|(p, q)| p * q)
        .sum();
    for (p, q) in xa.zip(xb) {
        for i in 0..8 {
            sums[i] += p[i] * q[i];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// The element-wise mean of `rows` (at least one, all of one length): a sentence's
/// tokens, picked out of a passage's.
fn mean<'a>(rows: impl Iterator<Item = &'a Vec<f32>>) -> Vec<f32> {
    let mut sum: Vec<f32> = Vec::new();
    let mut count = 0usize;
    for r in rows {
        if sum.is_empty() {
            sum = vec![0.0; r.len()];
        }
        for (s, x) in sum.iter_mut().zip(r) {
            *s += x;
        }
        count += 1;
    }
    for s in &mut sum {
        *s /= count.max(1) as f32;
    }
    sum
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
