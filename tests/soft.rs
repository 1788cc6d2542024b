//! Soft matches: a question's word that a paragraph lacks but holds a near synonym of, by
//! the model's own word vectors. Offline, with a tiny BERT whose word space the test sets:
//! "railroad" is given the very vector of "railway", and no other word comes near it.

mod common;

use std::collections::HashMap;
use std::path::Path;

use briefbot::app;
use briefbot::search::Ranking;
use briefbot::search::features::SOFT;
use briefbot::semantic::Model;
use candle_core::{Device, Tensor};
use common::{Workspace, tiny_bert};

const PARAGRAPHS: &str = "# Harbour history\n\n\
The railroad line finally reached the harbour town in 1872 and the docks grew.\n\n\
The cheese market reached the harbour town in 1872 and the docks grew.\n";

/// A tiny BERT over the paragraphs' words whose first embedding dimension belongs to
/// "railway" and "railroad" alone: their word vectors are one and the same, and every
/// other word's is at a right angle to them.
fn write_model(dir: &Path) {
    let mut words: Vec<String> = PARAGRAPHS
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .chain(["railway", "when", "did", "the", "reach"].map(String::from))
        .collect();
    words.sort();
    words.dedup();
    tiny_bert::write(dir, &words, "mean");
    let vocab: Vec<String> = std::fs::read_to_string(dir.join("vocab.txt"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let path = dir.join("model.safetensors");
    let mut tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    let name = tensors
        .keys()
        .find(|k| k.ends_with("word_embeddings.weight"))
        .unwrap()
        .clone();
    let mut rows: Vec<Vec<f32>> = tensors[&name].to_vec2().unwrap();
    for (word, row) in vocab.iter().zip(rows.iter_mut()) {
        if word == "railway" || word == "railroad" {
            row.iter_mut().for_each(|x| *x = 0.0);
            row[0] = 1.0;
        } else {
            row[0] = 0.0;
        }
    }
    let (n, h) = (rows.len(), rows[0].len());
    let flat: Vec<f32> = rows.into_iter().flatten().collect();
    tensors.insert(name, Tensor::from_vec(flat, (n, h), &Device::Cpu).unwrap());
    candle_core::safetensors::save(&tensors, &path).unwrap();
}

#[test]
fn the_models_word_space_tells_near_words() {
    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path());
    let model = Model::load(dir.path(), "").unwrap();
    let railway = model.word_id("railway").unwrap();
    let railroad = model.word_id("railroad").unwrap();
    let cheese = model.word_id("cheese").unwrap();
    assert!((model.word_cosine(railway, railroad) - 1.0).abs() < 1e-5);
    assert!((model.word_cosine(railway, railway) - 1.0).abs() < 1e-5);
    assert!(model.word_cosine(railway, cheese).abs() < 1e-5);
    // A word outside the vocabulary has no vector of its own.
    assert_eq!(model.word_id("zeppelin"), None);
    // The encoder still runs on the changed word space.
    assert_eq!(
        model
            .embed("the railroad reached the harbour")
            .unwrap()
            .len(),
        32
    );
}

#[test]
fn a_paragraph_holding_a_near_synonym_of_a_missing_word_matches_it_softly() {
    let ws = Workspace::empty();
    std::fs::write(ws.content().join("harbour.md"), PARAGRAPHS).unwrap();
    write_model(&ws.path().join("model"));
    // The tiny model's paragraph and sentence vectors are random: their cosines are left
    // out of the ranking (weight 0), so that what moves it here is the soft match alone.
    let cosines = "cosine = 0\ncosine_z = 0\ncosine_rank = 0\nbriefing_cosine = 0\n\
                   cosine_unmatched = 0\nsentence_cosine = 0\nsentence_cosine_z = 0\n\
                   sentence_cosine_rank = 0\nsentence_unmatched = 0\nbriefing_sentence = 0\n";
    std::fs::write(
        ws.config(),
        format!("[search.semantic]\nmodel_dir = \"model\"\n[search.semantic.weights]\n{cosines}"),
    )
    .unwrap();
    let settings = ws.settings();
    let engine = app::open_or_build(&settings, Ranking::Full, None)
        .unwrap()
        .engine;
    assert!(engine.model().is_some());

    let question = "when did the railway reach the harbour town";
    let candidates = engine.candidates(question, 10, None).unwrap();
    let soft = |needle: &str| {
        candidates
            .iter()
            .find(|c| c.passage.text.contains(needle))
            .unwrap_or_else(|| panic!("no candidate holds {needle:?}: {candidates:?}"))
            .evidence
            .features[SOFT]
    };
    // "railway" (no paragraph holds it) is all the question lacks in either paragraph;
    // the railroad's holds its synonym exactly, the cheese market's nothing near it.
    let railroad = soft("railroad");
    let cheese = soft("cheese");
    assert!(railroad > 0.2, "railroad {railroad}");
    assert_eq!(cheese, 0.0, "cheese");
    // Both share every other word of the question, and the cheese market's paragraph is
    // the shorter: by words alone it comes first; the synonym puts the railroad first.
    let hits = engine.search(question, 2, None).unwrap();
    assert!(hits[0].passage.text.contains("railroad"), "{hits:?}");
    let mut no_soft = settings.clone();
    no_soft.semantic_weights[SOFT] = 0.0;
    let without = app::open_or_build(&no_soft, Ranking::Full, None)
        .unwrap()
        .engine;
    let hits = without.search(question, 2, None).unwrap();
    assert!(hits[0].passage.text.contains("cheese"), "{hits:?}");

    // Every word of the question found as written: nothing is left to match softly.
    for c in engine
        .candidates("when did the cheese market open", 10, None)
        .unwrap()
        .iter()
        .filter(|c| c.passage.text.contains("cheese"))
    {
        assert_eq!(c.evidence.features[SOFT], 0.0);
    }

    // Without the model the feature is never set.
    let mut plain = settings.clone();
    plain.search.semantic.model_dir = None;
    let lexical = app::open_or_build(&plain, Ranking::Full, None)
        .unwrap()
        .engine;
    assert!(
        lexical
            .candidates(question, 10, None)
            .unwrap()
            .iter()
            .all(|c| c.evidence.features[SOFT] == 0.0)
    );
}
