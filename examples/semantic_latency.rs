//! What a whole answer costs with the sentence-embedding model at scale, as the README's
//! "Questions in other words" reports it:
//!
//!   RAYON_NUM_THREADS=1 taskset -c 0 \
//!     cargo run --release --example semantic_latency -- [PARAGRAPHS] [QUESTIONS] [MODEL_DIR]
//!
//! Builds (once, into `target/bench-corpora/generated-<PARAGRAPHS>-semantic/`) the index of
//! the generated corpus (`briefbot generate`'s, seed 42) with the model, then asks its
//! generated questions one after another as `ask` does (`Engine::search_judged`, top
//! `search.top_k`: the question embedded by the real model, BM25, the exact scan of every
//! passage vector, re-ranking, the "not covered" decision) and prints p50, p99 and max,
//! with the question's embedding alone and the lexical answer on the same index beside.
//! `BRIEFBOT_CONTENT=DIR BRIEFBOT_QUESTIONS=FILE` measure on copies of real briefings with
//! real questions instead (the generated questions are nine made-up words, which WordPiece
//! splits into about 21 tokens where an everyday question of as many words has 11–14).
//!
//! The passage vectors are stand-ins: pseudo-random unit vectors put in the embedding cache
//! before the build, keyed by each paragraph's and sentence's text, so the build embeds
//! nothing (the real model would take hours here at 100k paragraphs). The cost of an answer does not depend
//! on what they mean: the scan reads every vector, and the re-ranker weighs as many
//! candidates either way. Everything else is the real path.

use std::path::{Path, PathBuf};
use std::time::Instant;

use briefbot::config::Settings;
use briefbot::index::IndexStore;
use briefbot::search::{Engine, Ranking, SearchOptions};
use briefbot::semantic::{self, Quantized, cache, vectors::random_unit};

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |p| briefbot::eval::percentile(&ms, p);
    format!(
        "p50 {:6.2} ms   p99 {:6.2} ms   max {:6.2} ms",
        at(0.50),
        at(0.99),
        at(1.0)
    )
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let count: usize = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model_dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| top.join("models/all-MiniLM-L6-v2"));
    let mut settings = Settings::defaults_in(top);
    settings.search.semantic.model_dir = Some(model_dir);
    let model = semantic::usable(&settings.search.semantic)
        .ok_or_else(|| anyhow::anyhow!("the model does not load (see the log above)"))?;

    // BRIEFBOT_CONTENT: real briefings, copied (each copy a briefing of its own) until
    // they hold PARAGRAPHS paragraphs, for a library in real words rather than generated
    // ones; ask it the questions of BRIEFBOT_QUESTIONS.
    let (root, corpus) = match std::env::var_os("BRIEFBOT_CONTENT") {
        Some(dir) => {
            let read = briefbot::ingest::scan(
                Path::new(&dir),
                &briefbot::ingest::IngestOptions::from_settings(&settings),
            )?;
            anyhow::ensure!(!read.briefings.is_empty(), "no briefings in {dir:?}");
            let mut corpus = briefbot::ingest::Corpus {
                briefings: Vec::new(),
                skipped: Vec::new(),
            };
            let mut paragraphs = 0;
            for copy in 0.. {
                for b in &read.briefings {
                    if paragraphs >= size {
                        break;
                    }
                    let mut b = b.clone();
                    b.slug = format!("copy-{copy:04}/{}", b.slug);
                    b.source = format!("copy-{copy:04}/{}", b.source);
                    paragraphs += b.paragraphs.len();
                    corpus.briefings.push(b);
                }
                if paragraphs >= size {
                    break;
                }
            }
            let name = Path::new(&dir)
                .parent()
                .and_then(Path::file_name)
                .map_or("content".into(), |n| n.to_string_lossy().to_string());
            let root = top.join(format!("target/bench-corpora/{name}-x{size}-semantic"));
            (root, corpus)
        }
        None => (
            top.join(format!("target/bench-corpora/generated-{size}-semantic")),
            briefbot::generate::corpus(size, 42),
        ),
    };
    let store = IndexStore::new(
        &root,
        settings.index.title_in_body,
        settings.index.writer_memory_mb,
    )
    .with_model(Some(model.clone()));
    if store.open().is_err() {
        let stand_ins: Vec<(u64, Quantized)> = corpus
            .briefings
            .iter()
            .flat_map(|b| &b.paragraphs)
            .flat_map(|p| semantic::keys_of(&p.text))
            .map(|k| (k, Quantized::of(&random_unit(k, model.dim()))))
            .collect();
        let mut c = cache::Cache::unloaded(&semantic::cache_dir(&root), model.id(), model.dim());
        c.append(&stand_ins)?;
        let started = Instant::now();
        let report = store.rebuild(&corpus)?;
        eprintln!(
            "built {} passages in {:.1} s ({} embedded by the model)",
            report.manifest.passages,
            started.elapsed().as_secs_f64(),
            model.embedded()
        );
    }
    // BRIEFBOT_QUESTIONS: a question set (JSON Lines, as `eval` reads) whose wording stands
    // in for members' (the generated questions are nine words of a made-up vocabulary,
    // which the model's WordPiece splits into more tokens than everyday words).
    let questions: Vec<String> = match std::env::var_os("BRIEFBOT_QUESTIONS") {
        Some(file) => briefbot::eval::load_questions(Path::new(&file))?
            .into_iter()
            .take(count)
            .map(|q| q.question)
            .collect(),
        None => briefbot::generate::questions(&corpus, count, 42)
            .into_iter()
            .map(|q| q.question)
            .collect(),
    };
    let tokens: Vec<usize> = questions.iter().map(|q| model.tokens(q)).collect();
    let k = settings.search.top_k;
    let engine = Engine::new(
        store.open()?,
        SearchOptions::from_settings(&settings, Ranking::Full),
    )?;
    anyhow::ensure!(
        engine.model().is_some(),
        "the index was opened without its vectors"
    );

    let time = |f: &dyn Fn(&str)| -> Vec<f64> {
        // One pass to warm the page cache and the allocator, then the measured one.
        for q in questions.iter().take(50) {
            f(q);
        }
        questions
            .iter()
            .map(|q| {
                let t = Instant::now();
                f(q);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect()
    };
    let embedding = time(&|q| {
        model.embed_query(q).expect("embeds");
    });
    let answer = time(&|q| {
        engine.search_judged(q, k, None).expect("answers");
    });
    let lexical = time(&|q| {
        engine.search_lexical(q, k, None).expect("answers");
    });
    println!(
        "{} passages, {} questions ({:.1} tokens on average), top {k}, {} rayon thread(s)",
        engine.passage_count(),
        questions.len(),
        tokens.iter().sum::<usize>() as f64 / tokens.len().max(1) as f64,
        rayon::current_num_threads()
    );
    println!("  question embedding  {}", percentiles(embedding));
    println!("  answer, with model  {}", percentiles(answer));
    println!("  answer, words only  {}", percentiles(lexical));
    Ok(())
}
