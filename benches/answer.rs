//! The cost of a question, held against raw tantivy, on the same index and questions:
//! 1. `raw_tantivy` — BM25 top 10 for the question's terms, nothing else (the floor);
//! 2. `search` — briefbot's full ranking (BM25 candidates, features, re-ranking);
//! 3. `answer` — search, highlights, best sentence and the rendered Discord message.
//!
//! Corpora: the bundled briefing; squad-a when `../shared/eval/squad-a` exists; generated
//! corpora of the sizes in `BRIEFBOT_BENCH_SIZES` (default `10000`; e.g.
//! `10000,100000,1000000`), built once into `target/bench-corpora/` and reused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use briefbot::answer::answer;
use briefbot::config::Settings;
use briefbot::index::IndexStore;
use briefbot::ingest::{self, IngestOptions};
use briefbot::render::discord::{AnswerLayout, answer_message};
use briefbot::search::analyze::query_terms;
use briefbot::search::{Engine, Ranking, SearchOptions};
use criterion::{Criterion, criterion_group, criterion_main};
use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

struct Corpus {
    name: String,
    store: IndexStore,
    questions: Vec<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-corpora")
}

fn settings() -> Settings {
    Settings::defaults_in(Path::new(env!("CARGO_MANIFEST_DIR")))
}

/// Builds (or reuses) the index of a content folder.
fn indexed(name: &str, content: &Path, questions: Vec<String>) -> Corpus {
    let s = settings();
    let store = IndexStore::new(
        root().join(name),
        s.index.title_in_body,
        s.index.writer_memory_mb,
    );
    if store.open().is_err() {
        let corpus = ingest::scan(content, &IngestOptions::from_settings(&s)).unwrap();
        store.rebuild(&corpus).unwrap();
    }
    Corpus {
        name: name.to_string(),
        store,
        questions,
    }
}

fn corpora() -> Vec<Corpus> {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![indexed(
        "bundled",
        &top.join("content"),
        [
            "What is J-JOC?",
            "How much of its GDP will Japan spend on defense?",
            "Who will command the new US operational headquarters in Japan?",
        ]
        .map(String::from)
        .to_vec(),
    )];
    let squad = top.join("../shared/eval/squad-a");
    if squad.exists() {
        let questions = briefbot::eval::load_questions(&squad.join("questions.jsonl"))
            .unwrap()
            .into_iter()
            .take(500)
            .map(|q| q.question)
            .collect();
        out.push(indexed("squad-a", &squad.join("content"), questions));
    }
    let sizes = std::env::var("BRIEFBOT_BENCH_SIZES").unwrap_or_else(|_| "10000".into());
    for size in sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        let name = match std::env::var_os("BRIEFBOT_BENCH_LIBRARIES") {
            Some(_) => format!("generated-{size}-libraries"),
            None => format!("generated-{size}"),
        };
        let s = settings();
        let store = IndexStore::new(
            root().join(&name),
            s.index.title_in_body,
            s.index.writer_memory_mb,
        );
        let mut corpus = briefbot::generate::corpus(size, 42);
        if std::env::var_os("BRIEFBOT_BENCH_LIBRARIES").is_some() {
            // Every 100th briefing in one of five servers' libraries: the scoped search of
            // server 1 (its library and the shared one) against the whole index's.
            for (i, b) in corpus.briefings.iter_mut().enumerate().step_by(100) {
                let prefix = format!("servers/{}/", 1 + i / 100 % 5);
                b.slug = format!("{prefix}{}", b.slug);
                b.source = format!("{prefix}{}", b.source);
            }
        }
        if store.open().is_err() {
            store.rebuild(&corpus).unwrap();
        }
        let questions = briefbot::generate::questions(&corpus, 500, 42)
            .into_iter()
            .map(|q| q.question)
            .collect();
        out.push(Corpus {
            name,
            store,
            questions,
        });
    }
    out
}

fn bench(c: &mut Criterion) {
    let s = settings();
    for corpus in corpora() {
        let open = corpus.store.open().unwrap();
        let index = open.index.clone();
        let body = open.fields.body;
        let reader = index.reader().unwrap();
        let engine = Engine::new(open, SearchOptions::from_settings(&s, Ranking::Full)).unwrap();
        let queries: Vec<Box<dyn Query>> = corpus
            .questions
            .iter()
            .map(|q| {
                let terms = query_terms(q, true);
                Box::new(BooleanQuery::new(
                    terms
                        .iter()
                        .map(|t| {
                            let q: Box<dyn Query> = Box::new(TermQuery::new(
                                Term::from_field_text(body, t),
                                IndexRecordOption::WithFreqs,
                            ));
                            (Occur::Should, q)
                        })
                        .collect(),
                )) as Box<dyn Query>
            })
            .collect();
        let layout = AnswerLayout::new(3, 1);
        let mut group = c.benchmark_group(&corpus.name);
        group
            .measurement_time(Duration::from_secs(4))
            .sample_size(30);
        let mut i = 0;
        group.bench_function("raw_tantivy", |b| {
            b.iter(|| {
                i = (i + 1) % queries.len();
                let searcher = reader.searcher();
                searcher
                    .search(&queries[i], &TopDocs::with_limit(10).order_by_score())
                    .unwrap()
            })
        });
        let mut i = 0;
        group.bench_function("search", |b| {
            b.iter(|| {
                i = (i + 1) % corpus.questions.len();
                engine.search(&corpus.questions[i], 3, None).unwrap()
            })
        });
        if engine.libraries().len() > 1 {
            let scoped = engine.scoped(briefbot::library::Scope::Server {
                id: 1,
                shared: true,
            });
            let mut i = 0;
            group.bench_function("search_in_a_server", |b| {
                b.iter(|| {
                    i = (i + 1) % corpus.questions.len();
                    scoped.search(&corpus.questions[i], 3, None).unwrap()
                })
            });
        }
        let mut i = 0;
        group.bench_function("answer", |b| {
            b.iter(|| {
                i = (i + 1) % corpus.questions.len();
                let a = answer(&engine, &corpus.questions[i], 3, None).unwrap();
                answer_message(&a, &layout)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
