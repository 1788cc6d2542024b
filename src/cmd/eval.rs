//! `briefbot eval`: index a content folder into a temporary index and measure the
//! ranking on a question set.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use briefbot::config::Settings;
use briefbot::eval;
use briefbot::index::{IndexStore, all_passages};
use briefbot::ingest::Passage;
use briefbot::ingest::{self, IngestOptions};
use briefbot::search::{Engine, FEATURE_NAMES, Ranking, SearchOptions};
use briefbot::tune;

#[derive(clap::Args)]
pub struct Args {
    /// Folder of briefings to index (into a temporary folder; index.dir is not touched).
    #[arg(long, value_name = "DIR")]
    content: PathBuf,
    /// Question set, JSON Lines of {"id", "question", "gold_contains"}.
    #[arg(long, value_name = "FILE")]
    questions: PathBuf,
    /// Ranking to measure: the full one (as `ask` uses it) or plain BM25.
    #[arg(long, value_enum, default_value_t = Ranking::Full)]
    ranking: Ranking,
    /// Fit the re-ranker's weights on this set (printed as a `[search.weights]` block),
    /// with figures in-sample and cross-validated by briefing.
    #[arg(long)]
    fit: bool,
    /// Also measure questions per second with 1 to N threads answering at once.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The questions are about other content: none has its gold paragraph here, so every
    /// answer is a false one and every refusal right (an off-topic check).
    #[arg(long)]
    off_topic: bool,
    /// List every question a member would see go wrong, one a line, with its evidence (and
    /// its first hit's cosine with a model):
    /// false refusals, false answers, wrong first quotes and right paragraphs not found
    /// (with where the right one ranks).
    #[arg(long)]
    misses: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn execute(settings: &Settings, args: Args) -> Result<()> {
    let questions = eval::load_questions(&args.questions)?;
    let corpus = ingest::scan(&args.content, &IngestOptions::from_settings(settings))?;
    for s in &corpus.skipped {
        eprintln!("briefbot: skipped {}: {}", s.path.display(), s.reason);
    }
    if corpus.briefings.is_empty() {
        bail!("no briefings could be read from {}", args.content.display());
    }
    let scratch = tempfile::tempdir().context("creating a temporary index folder")?;
    let store = IndexStore::new(
        scratch.path(),
        settings.index.title_in_body,
        settings.index.writer_memory_mb,
    )
    .with_model(briefbot::semantic::usable(&settings.search.semantic))
    .with_shared_embedding_cache(settings.index.dir.join("eval-embeddings"));
    super::report_model(settings);
    let report = store.rebuild(&corpus)?;
    let open = store.open()?;
    let passages = all_passages(&open)?;
    let engine = Engine::new(open, SearchOptions::from_settings(settings, args.ranking))?;
    if args.fit {
        return fit(settings, &engine, &passages, &questions, args.json);
    }
    let (r, misses) = eval::run(
        &engine,
        &passages,
        &questions,
        args.off_topic,
        report.seconds,
    )?;
    if args.json {
        let mut value = serde_json::to_value(&r)?;
        if args.misses {
            value["misses"] = serde_json::to_value(&misses)?;
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "{} questions on {} passages (ranking: {}; {})",
        r.questions,
        r.passages,
        args.ranking.name(),
        match engine.model() {
            Some(m) => format!("model {}", m.dir().display()),
            None => "no model".into(),
        }
    );
    println!("  Recall@1     {:.3}", r.recall_at_1);
    println!("  Recall@3     {:.3}", r.recall_at_3);
    println!("  Recall@10    {:.3}", r.recall_at_10);
    println!("  MRR@10       {:.3}", r.mrr_at_10);
    println!("  nDCG@10      {:.3}", r.ndcg_at_10);
    println!("  gold missing {}", r.gold_missing);
    println!(
        "  refused      {:.1} % (\"not covered\"; search.min_coverage)",
        100.0 * r.refused
    );
    println!(
        "  answered@1   {:.3} (not refused, first quote right)",
        r.answered_at_1
    );
    println!(
        "  false refusals {} (refused, first hit right)   false answers {} (answered, no gold here)",
        r.false_refusals, r.false_answers
    );
    println!(
        "  speed        {:.0} questions/s, p50 {:.2} ms, p99 {:.2} ms",
        r.questions_per_second, r.latency_ms.p50, r.latency_ms.p99
    );
    println!("  index build  {:.2} s", r.index_seconds);
    if args.misses {
        for m in &misses {
            let gold = match (m.kind.has_gold(), m.gold_rank) {
                (true, Some(r)) => format!(" (right one at {r})"),
                (true, None) => " (right one not in the top 10)".into(),
                (false, _) => String::new(),
            };
            let cosine = m.cosine.map_or(String::new(), |c| format!(" cos {c:.2}"));
            println!(
                "  {:<14} {:.3}{cosine}  {}  → {}{gold}",
                m.kind.name(),
                m.evidence,
                m.question,
                m.first.as_deref().unwrap_or("no hit")
            );
        }
    }
    if let Some(n) = args.threads {
        let k = settings.search.top_k;
        let one = eval::throughput(&engine, &questions, 1, k);
        for t in 1..=n.max(1) {
            let qps = if t == 1 {
                one
            } else {
                eval::throughput(&engine, &questions, t, k)
            };
            println!(
                "  {t} thread(s)  {qps:.0} answers/s ({:.2}× one thread)",
                qps / one
            );
        }
    }
    Ok(())
}

fn fit(
    settings: &Settings,
    engine: &Engine,
    passages: &[Passage],
    questions: &[eval::Question],
    json: bool,
) -> Result<()> {
    let samples = tune::collect(engine, passages, questions, settings.search.candidates)?;
    let fitted = tune::fit_and_validate(&samples);
    if json {
        println!("{}", serde_json::to_string_pretty(&fitted)?);
        return Ok(());
    }
    let show = |label: &str, q: &tune::Quality| {
        println!(
            "{label}: R@1 {:.3}  R@3 {:.3}  R@10 {:.3}  MRR@10 {:.3}  ({} questions)",
            q.recall_at_1, q.recall_at_3, q.recall_at_10, q.mrr_at_10, q.questions
        );
    };
    show("in-sample          ", &fitted.in_sample);
    show("cross-validated (2)", &fitted.cross_validated);
    for (i, w) in fitted.fold_weights.iter().enumerate() {
        println!("fold {} weights: {w:?}", i + 1);
    }
    println!(
        "\n[{}]",
        if engine.model().is_some() {
            "search.semantic.weights"
        } else {
            "search.weights"
        }
    );
    for (name, w) in FEATURE_NAMES.iter().zip(fitted.weights) {
        println!("{name} = {w}");
    }
    Ok(())
}
