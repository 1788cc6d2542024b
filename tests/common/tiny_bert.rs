//! A tiny randomly initialised BERT written by the tests: the three files of a
//! sentence-transformers model folder (`config.json`, a WordPiece `tokenizer.json`,
//! `model.safetensors`) and `1_Pooling/config.json`, so that loading, pooling, the cache
//! and the hybrid ranking are exercised offline without the real model.
//!
//! Its tokenizer is saved the way all-MiniLM-L6-v2's is shipped, padding and truncating
//! every text (here to 16 tokens): briefbot must undo both.

use std::collections::BTreeSet;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

pub const HIDDEN: usize = 32;
/// The truncation (and padding) the tiny tokenizer is saved with.
pub const SHIPPED_LENGTH: usize = 16;

/// The lower-cased words of every file under `dir`, for a vocabulary.
pub fn words_of(dir: &Path) -> Vec<String> {
    let mut words = BTreeSet::new();
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if entry.file_type().is_file() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for w in text.split(|c: char| !c.is_alphanumeric()) {
                if !w.is_empty() {
                    words.insert(w.to_lowercase());
                }
            }
        }
    }
    words.into_iter().collect()
}

/// Writes a tiny BERT into `dir`: vocabulary `words` (plus the special tokens), two
/// layers, `pooling` "mean" or "cls".
pub fn write(dir: &Path, words: &[String], pooling: &str) {
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    let mut vocab = vec![
        "[PAD]".to_string(),
        "[UNK]".to_string(),
        "[CLS]".to_string(),
        "[SEP]".to_string(),
    ];
    for p in ".,;:!?'\"()-–".chars() {
        vocab.push(p.to_string());
    }
    vocab.extend(words.iter().cloned());
    vocab.dedup();
    let vocab_path = dir.join("vocab.txt");
    std::fs::write(&vocab_path, vocab.join("\n") + "\n").unwrap();

    let wordpiece = WordPiece::from_file(vocab_path.to_str().unwrap())
        .unk_token("[UNK]".into())
        .build()
        .unwrap();
    let mut tokenizer = Tokenizer::new(wordpiece);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
        .unwrap();
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    tokenizer.with_post_processor(Some(BertProcessing::new(
        ("[SEP]".into(), 3),
        ("[CLS]".into(), 2),
    )));
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::Fixed(SHIPPED_LENGTH),
        ..Default::default()
    }));
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: SHIPPED_LENGTH,
            ..Default::default()
        }))
        .unwrap();
    tokenizer.save(dir.join("tokenizer.json"), false).unwrap();

    let config = serde_json::json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": vocab.len(),
        "hidden_size": HIDDEN,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let config: Config = serde_json::from_value(config).unwrap();
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    BertModel::load(vb, &config).unwrap();
    redraw_from_a_fixed_seed(&varmap);
    varmap.save(dir.join("model.safetensors")).unwrap();

    let pooling = serde_json::json!({
        "word_embedding_dimension": HIDDEN,
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean",
        "pooling_mode_max_tokens": false,
        "pooling_mode_mean_sqrt_len_tokens": false
    });
    std::fs::write(dir.join("1_Pooling/config.json"), pooling.to_string()).unwrap();
}

/// Draws every randomly initialised weight again from a seed fixed by its name, with
/// about the same spread (uniform, the standard deviation of BERT's initializer_range),
/// leaving the constant ones (layer norms' ones, biases' zeros). candle cannot seed its CPU
/// generator, so without this every run of a test got another random model, and a test
/// whose outcome depends on its cosines passed or failed by chance (the soft-match test
/// failed once so in CI). The seed is the name's FNV-1a hash (the embedding cache's key),
/// which, unlike the standard library's hasher, never changes with a Rust release.
fn redraw_from_a_fixed_seed(varmap: &VarMap) {
    let spread = 0.02 * 3f32.sqrt();
    let vars = varmap.data().lock().unwrap();
    for (name, var) in vars.iter() {
        let values: Vec<f32> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        if values.windows(2).all(|w| w[0] == w[1]) {
            continue;
        }
        let fresh: Vec<f32> = briefbot::semantic::vectors::pseudo_random(
            briefbot::semantic::cache::key(name),
            values.len(),
        )
        .into_iter()
        .map(|x| x * spread)
        .collect();
        let tensor = Tensor::from_vec(fresh, var.shape(), &Device::Cpu).unwrap();
        var.set(&tensor).unwrap();
    }
}

/// The last layer's vector of each token of `text` and the token's byte range in it,
/// computed here, independently of briefbot's pipeline (candle-transformers' BERT): the
/// whole text tokenized without padding or truncation, one forward pass.
pub fn reference_tokens(dir: &Path, text: &str) -> (Vec<Vec<f32>>, Vec<(usize, usize)>) {
    let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    tokenizer.with_padding(None);
    tokenizer.with_truncation(None).unwrap();
    let encoding = tokenizer.encode(text, true).unwrap();
    let ids = encoding.get_ids().to_vec();
    let config: Config =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let vb = unsafe {
        VarBuilder::from_mmaped_safetensors(
            &[dir.join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
    }
    .unwrap();
    let bert = BertModel::load(vb, &config).unwrap();
    let input = candle_core::Tensor::new(ids.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let types = input.zeros_like().unwrap();
    let out = bert.forward(&input, &types, None).unwrap();
    let out: Vec<Vec<f32>> = out.squeeze(0).unwrap().to_vec2().unwrap();
    (out, encoding.get_offsets().to_vec())
}

/// The unit-length mean of `rows`.
pub fn unit_mean(rows: &[&Vec<f32>]) -> Vec<f32> {
    let mut v: Vec<f32> = (0..HIDDEN)
        .map(|d| rows.iter().map(|t| t[d]).sum::<f32>() / rows.len() as f32)
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// The vector of `text` computed here, independently of briefbot's pipeline: the whole
/// text tokenized without padding or truncation, one forward pass, pooled, normalised.
pub fn reference_vector(dir: &Path, text: &str, pooling: &str) -> Vec<f32> {
    let (out, _) = reference_tokens(dir, text);
    if pooling == "cls" {
        let norm = out[0].iter().map(|x| x * x).sum::<f32>().sqrt();
        out[0].iter().map(|x| x / norm).collect()
    } else {
        unit_mean(&out.iter().collect::<Vec<_>>())
    }
}
