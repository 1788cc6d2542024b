//! Does a long embedding run slow the questions asked meanwhile? Measures the question
//! embedding's latency alone, then while paragraphs are embedded in the background as a
//! build does it (`semantic::embed_ahead`, on every core):
//!
//!   cargo run --release --example embed_contention -- MODEL_DIR CONTENT_DIR
//!
//! CONTENT_DIR: briefings read as `briefbot index` reads them, whose paragraphs are
//! embedded with their sentences (squad-a's `content/` gives 1,023 paragraphs, 5,978
//! texts; none is cached: the cache is a fresh temporary folder).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use briefbot::config::Settings;
use briefbot::eval::percentile;
use briefbot::ingest::{self, IngestOptions};
use briefbot::semantic::{self, Model};

/// Embeds `question` every 50 ms while `running` says so (at most `n` times); the
/// latencies in ms, sorted.
fn ask(model: &Model, question: &str, n: usize, running: &dyn Fn() -> bool) -> Vec<f64> {
    let mut ms = Vec::new();
    while ms.len() < n && running() {
        let t = Instant::now();
        model.embed_query(question).expect("the question embeds");
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    ms.sort_by(f64::total_cmp);
    ms
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model_dir, content] = [&args[0], &args[1]].map(PathBuf::from);
    let model = Model::load(&model_dir, "").expect("the model loads");
    let options = IngestOptions::from_settings(&Settings::defaults_in(&content));
    let corpus = ingest::scan(&content, &options).expect("the briefings are read");
    let texts: Vec<String> = corpus.passages().map(|p| p.text).collect();
    let question = "who paid for the moon project";
    let alone = ask(&model, question, 40, &|| true);
    println!(
        "question alone: p50 {:.1} ms, max {:.1} ms ({} asked)",
        percentile(&alone, 0.5),
        alone[alone.len() - 1],
        alone.len()
    );

    let cache = tempfile::tempdir().unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let during = std::thread::scope(|s| {
        let background = s.spawn(|| {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            let t = Instant::now();
            let n = semantic::embed_ahead(&model, cache.path(), &texts).expect("embedded");
            done.store(true, std::sync::atomic::Ordering::Release);
            (n, t.elapsed().as_secs_f64())
        });
        std::thread::sleep(Duration::from_millis(500));
        let ms = ask(&model, question, usize::MAX, &|| {
            !done.load(std::sync::atomic::Ordering::Acquire)
        });
        (ms, background.join().unwrap())
    });
    let (ms, (n, seconds)) = during;
    println!("{n} texts (paragraphs and their sentences) embedded in {seconds:.1} s");
    if ms.is_empty() {
        println!("no question was answered while they were embedded");
    } else {
        println!(
            "question meanwhile: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} asked)",
            percentile(&ms, 0.5),
            percentile(&ms, 0.99),
            ms[ms.len() - 1],
            ms.len()
        );
    }
}
