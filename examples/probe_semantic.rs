//! Dumps what a study of the semantic ranking needs, for offline analysis (numpy):
//!
//!   cargo run --release --example probe_semantic -- CONTENT MODEL_DIR OUT QUESTIONS...
//!
//! Writes to OUT: `weights.json` (the `[search.semantic.weights]` in use, as [name,
//! weight] pairs in feature order), `passages.jsonl` (id, slug, title, sentences' byte ranges), `p.f32`
//! (each passage's vector), `t.f32` (each passage embedded after its title), `s.f32` (each
//! sentence's vector, in passage order), `c.f32` (each sentence's vector pooled from its
//! passage's run of the model) and, per question file, `<name>.jsonl` (each
//! question's candidates as the engine sees them: passage index, features, gold) and
//! `<name>.f32` (each question's vector). Vectors are little-endian f32, `dim` a row.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use briefbot::config::Settings;
use briefbot::index::{IndexStore, all_passages};
use briefbot::ingest::{self, IngestOptions, collapse_whitespace};
use briefbot::search::{Engine, FEATURE_NAMES, Ranking, SearchOptions, analyze};
use rayon::prelude::*;

fn write_f32(path: PathBuf, rows: &[Vec<f32>]) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for r in rows {
        for x in r {
            out.write_all(&x.to_le_bytes())?;
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let content = PathBuf::from(&args[0]);
    let model_dir = PathBuf::from(&args[1]);
    let out = PathBuf::from(&args[2]);
    std::fs::create_dir_all(&out)?;
    let mut settings = Settings::load(None)?;
    settings.search.semantic.model_dir = Some(model_dir);
    let model = briefbot::semantic::usable(&settings.search.semantic).context("model")?;
    let corpus = ingest::scan(&content, &IngestOptions::from_settings(&settings))?;
    let scratch = tempfile::tempdir()?;
    let store = IndexStore::new(
        scratch.path(),
        settings.index.title_in_body,
        settings.index.writer_memory_mb,
    )
    .with_model(Some(model.clone()))
    .with_shared_embedding_cache(PathBuf::from("target/probe-cache"));
    store.rebuild(&corpus)?;
    let open = store.open()?;
    let passages = all_passages(&open)?;
    let options = SearchOptions::from_settings(&settings, Ranking::Full);
    // In feature order, as [name, weight] pairs.
    let weights: Vec<(&str, f32)> = FEATURE_NAMES
        .iter()
        .copied()
        .zip(options.semantic_weights)
        .collect();
    std::fs::write(out.join("weights.json"), serde_json::to_string(&weights)?)?;
    let engine = Engine::new(open, options)?;
    let index: std::collections::HashMap<&str, usize> = passages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();

    let mut meta = std::io::BufWriter::new(std::fs::File::create(out.join("passages.jsonl"))?);
    let mut sentences: Vec<String> = Vec::new();
    for p in &passages {
        let ranges = analyze::sentences(&p.text);
        for r in &ranges {
            sentences.push(p.text[r.clone()].to_string());
        }
        let spans: Vec<(usize, usize)> = ranges.iter().map(|r| (r.start, r.end)).collect();
        writeln!(
            meta,
            "{}",
            serde_json::json!({"id": p.id, "slug": p.slug, "title": p.briefing, "sentences": spans, "text": p.text})
        )?;
    }
    meta.flush()?;
    eprintln!("{} passages, {} sentences", passages.len(), sentences.len());
    // Each set's embedding time is printed, for the study's costs.
    let embed_all = |texts: &[String]| -> Vec<Vec<f32>> {
        let started = std::time::Instant::now();
        let out = texts
            .par_iter()
            .map(|t| model.embed(t).expect("embeds"))
            .collect();
        eprintln!(
            "{} texts embedded in {:.1} s",
            texts.len(),
            started.elapsed().as_secs_f64()
        );
        out
    };
    let texts: Vec<String> = passages.iter().map(|p| p.text.clone()).collect();
    write_f32(out.join("p.f32"), &embed_all(&texts))?;
    let titled: Vec<String> = passages
        .iter()
        .map(|p| format!("{}. {}", p.briefing, p.text))
        .collect();
    write_f32(out.join("t.f32"), &embed_all(&titled))?;
    write_f32(out.join("s.f32"), &embed_all(&sentences))?;
    // Each sentence's vector read in its passage's context (one run of the model per
    // passage; the passage's own vector where the sentence lies past the truncation).
    let started = std::time::Instant::now();
    let in_context: Vec<Vec<f32>> = passages
        .par_iter()
        .flat_map_iter(|p| {
            let spans = analyze::sentences(&p.text);
            let run = model.embed_with_spans(&p.text, &spans).expect("embeds");
            let whole = run.passage;
            run.sentences
                .into_iter()
                .map(move |v| v.unwrap_or_else(|| whole.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    eprintln!(
        "{} passages run with their sentences' spans in {:.1} s",
        passages.len(),
        started.elapsed().as_secs_f64()
    );
    write_f32(out.join("c.f32"), &in_context)?;
    for file in &args[3..] {
        let questions = briefbot::eval::load_questions(std::path::Path::new(file))?;
        let name = std::path::Path::new(file)
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().to_string())
            .filter(|n| n != "eval")
            .unwrap_or_else(|| "dev".into());
        let mut w =
            std::io::BufWriter::new(std::fs::File::create(out.join(format!("{name}.jsonl")))?);
        for q in &questions {
            let gold = collapse_whitespace(&q.gold_contains);
            let home = passages
                .iter()
                .position(|p| collapse_whitespace(&p.text).contains(&gold));
            let found = engine.candidates(&q.question, settings.search.candidates, None)?;
            let cands: Vec<serde_json::Value> = found
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "p": index[c.passage.id.as_str()],
                        "f": c.evidence.features.to_vec(),
                        "coverage": c.evidence.coverage,
                    })
                })
                .collect();
            writeln!(
                w,
                "{}",
                serde_json::json!({"q": q.question, "gold": home, "cands": cands})
            )?;
        }
        w.flush()?;
        let texts: Vec<String> = questions.iter().map(|q| q.question.clone()).collect();
        let vecs: Vec<Vec<f32>> = texts
            .par_iter()
            .map(|t| model.embed_query(t).expect("embeds"))
            .collect();
        write_f32(out.join(format!("{name}.f32")), &vecs)?;
        eprintln!("{name}: {} questions", questions.len());
    }
    Ok(())
}
