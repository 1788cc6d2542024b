//! Measuring the ranking on a question set: Recall@1/3/10, MRR@10, nDCG@10, speed.
//!
//! A question file is JSON Lines, `{"id", "question", "gold_contains"}`; a passage is a
//! right answer when its text contains `gold_contains` (white-space runs compared as one
//! space). The content is indexed into a temporary folder: `index.dir` is never touched.

use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::ingest::{Passage, collapse_whitespace};
use crate::search::{Engine, SearchError};

/// One question of a set.
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    pub question: String,
    pub gold_contains: String,
}

/// Why a question file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum QuestionsError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}, line {line}: {reason}")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
}

/// Reads a JSON Lines question file (blank lines are allowed).
pub fn load_questions(path: &Path) -> Result<Vec<Question>, QuestionsError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| QuestionsError::Io {
        path: shown.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| QuestionsError::Io {
            path: shown.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let q: Question = serde_json::from_str(&line).map_err(|e| QuestionsError::Line {
            path: shown.clone(),
            line: i + 1,
            reason: e.to_string(),
        })?;
        out.push(q);
    }
    Ok(out)
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
}

/// The figures of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub questions: usize,
    pub passages: usize,
    /// Questions whose gold text is in no passage: ingestion lost or changed words.
    pub gold_missing: usize,
    pub recall_at_1: f64,
    pub recall_at_3: f64,
    pub recall_at_10: f64,
    pub mrr_at_10: f64,
    pub ndcg_at_10: f64,
    /// Share of questions answered "the briefings do not cover this" (`search.min_coverage`).
    pub refused: f64,
    /// Questions refused although their first hit is a gold paragraph.
    pub false_refusals: usize,
    /// Questions answered although no gold paragraph is in the content (every question with
    /// `--off-topic`; otherwise those whose gold text is in no passage).
    pub false_answers: usize,
    /// Questions answered, not refused, whose first quote is a gold paragraph: what a member
    /// sees go right.
    pub answered_at_1: f64,
    pub questions_per_second: f64,
    pub latency_ms: Latency,
    pub index_seconds: f64,
}

/// How a member sees a question go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissKind {
    /// Refused though its first hit is right.
    FalseRefusal,
    /// Answered though nothing in the content answers it.
    FalseAnswer,
    /// Answered, a paragraph answers it, but the first quote is another.
    WrongFirst,
    /// Refused, a paragraph answers it, and the first hit is another.
    NotFound,
}

/// In JSON by its [`MissKind::name`], as in text.
impl Serialize for MissKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl MissKind {
    /// The name `--misses` shows, and JSON.
    pub fn name(self) -> &'static str {
        match self {
            MissKind::FalseRefusal => "false refusal",
            MissKind::FalseAnswer => "false answer",
            MissKind::WrongFirst => "wrong first",
            MissKind::NotFound => "not found",
        }
    }

    /// Whether a paragraph of the content answers the question (where it ranks is told).
    pub fn has_gold(self) -> bool {
        matches!(self, MissKind::WrongFirst | MissKind::NotFound)
    }
}

/// One question a member would see go wrong ([`MissKind`]): read one by one, they say
/// what to mend.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub question: String,
    pub kind: MissKind,
    /// The first hit's passage id, if any.
    pub first: Option<String>,
    /// The evidence weighed against `search.min_coverage`.
    pub evidence: f32,
    /// The first hit's cosine with the question, when a model is in use (weighed against
    /// `search.semantic.min_cosine` and `unrelated_cosine`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosine: Option<f32>,
    /// Where the first right paragraph ranks among the top 10 (1 = first), if it does:
    /// `wrong first` and `not found` only.
    pub gold_rank: Option<usize>,
}

/// Asks every question and scores the top 10. With `off_topic`, no question has its gold
/// paragraph in the content: every answer is a false one.
pub fn run(
    engine: &Engine,
    passages: &[Passage],
    questions: &[Question],
    off_topic: bool,
    index_seconds: f64,
) -> Result<(Report, Vec<Miss>), SearchError> {
    let golds: Vec<String> = questions
        .iter()
        .map(|q| collapse_whitespace(&q.gold_contains))
        .collect();
    let relevant_counts = relevant_passages(passages, &golds);
    let (mut r1, mut r3, mut r10, mut mrr, mut ndcg) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut gold_missing = 0;
    let (mut refused, mut answered_at_1) = (0usize, 0usize);
    let mut misses = Vec::new();
    let mut latencies = Vec::with_capacity(questions.len());
    for ((q, gold), &relevant) in questions.iter().zip(&golds).zip(&relevant_counts) {
        let t0 = Instant::now();
        // The decision is part of what an answer costs.
        let (hits, verdict) = engine.search_judged(&q.question, 10, None)?;
        latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
        refused += usize::from(!verdict.covered);
        let miss = |kind, gold_rank| Miss {
            question: q.question.clone(),
            kind,
            first: hits.first().map(|h| h.passage.id.clone()),
            evidence: verdict.evidence,
            cosine: verdict.cosine,
            gold_rank,
        };
        if relevant == 0 || off_topic {
            gold_missing += usize::from(relevant == 0);
            if verdict.covered {
                misses.push(miss(MissKind::FalseAnswer, None));
            }
            if relevant == 0 {
                continue;
            }
        }
        let rels: Vec<bool> = hits
            .iter()
            .map(|h| collapse_whitespace(&h.passage.text).contains(gold.as_str()))
            .collect();
        let gold_rank = rels.iter().position(|&r| r).map(|i| i + 1);
        if !off_topic {
            match (gold_rank == Some(1), verdict.covered) {
                (true, true) => answered_at_1 += 1,
                (true, false) => misses.push(miss(MissKind::FalseRefusal, None)),
                (false, true) => misses.push(miss(MissKind::WrongFirst, gold_rank)),
                (false, false) => misses.push(miss(MissKind::NotFound, gold_rank)),
            }
        }
        if let Some(rank) = gold_rank {
            r1 += f64::from(rank <= 1);
            r3 += f64::from(rank <= 3);
            r10 += 1.0;
            mrr += 1.0 / rank as f64;
        }
        let dcg: f64 = rels
            .iter()
            .enumerate()
            .filter(|(_, r)| **r)
            .map(|(i, _)| 1.0 / (i as f64 + 2.0).log2())
            .sum();
        let idcg: f64 = (0..relevant.min(10))
            .map(|i| 1.0 / (i as f64 + 2.0).log2())
            .sum();
        ndcg += dcg / idcg;
    }
    // Speed counts the searches only, not the scoring of their results.
    let elapsed = latencies.iter().sum::<f64>() / 1000.0;
    let n = questions.len().max(1) as f64;
    latencies.sort_by(f64::total_cmp);
    let count = |kind| misses.iter().filter(|m| m.kind == kind).count();
    let report = Report {
        questions: questions.len(),
        passages: passages.len(),
        gold_missing,
        recall_at_1: r1 / n,
        recall_at_3: r3 / n,
        recall_at_10: r10 / n,
        mrr_at_10: mrr / n,
        ndcg_at_10: ndcg / n,
        refused: refused as f64 / n,
        false_refusals: count(MissKind::FalseRefusal),
        false_answers: count(MissKind::FalseAnswer),
        answered_at_1: answered_at_1 as f64 / n,
        questions_per_second: if elapsed > 0.0 {
            questions.len() as f64 / elapsed
        } else {
            0.0
        },
        latency_ms: Latency {
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
        },
        index_seconds,
    };
    Ok((report, misses))
}

/// For each gold text, how many passages contain it: one pass over the passages with an
/// Aho–Corasick automaton of every distinct gold text, instead of every passage searched
/// once per question (a thousand questions over a million passages took hours).
fn relevant_passages(passages: &[Passage], golds: &[String]) -> Vec<usize> {
    let mut distinct: Vec<&str> = golds
        .iter()
        .map(String::as_str)
        .filter(|g| !g.is_empty())
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    let automaton = aho_corasick::AhoCorasick::new(&distinct)
        .expect("the gold texts of a question set fit an automaton");
    let mut counts = vec![0usize; distinct.len()];
    // The last passage counted for each pattern: a passage counts once however often the
    // text occurs in it.
    let mut counted_in = vec![usize::MAX; distinct.len()];
    for (n, passage) in passages.iter().enumerate() {
        let text = collapse_whitespace(&passage.text);
        for m in automaton.find_overlapping_iter(&text) {
            let k = m.pattern().as_usize();
            if counted_in[k] != n {
                counted_in[k] = n;
                counts[k] += 1;
            }
        }
    }
    golds
        .iter()
        .map(|g| match distinct.binary_search(&g.as_str()) {
            Ok(k) => counts[k],
            // An empty gold text is in every passage.
            Err(_) => passages.len(),
        })
        .collect()
}

/// Questions per second answered by `threads` threads at once, each asking its share of
/// `questions` through the full answering path (search, answer, Discord rendering), as
/// the bot's handlers do.
pub fn throughput(engine: &Engine, questions: &[Question], threads: usize, k: usize) -> f64 {
    let threads = threads.max(1);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                for q in questions.iter().skip(t).step_by(threads) {
                    if let Ok(a) = crate::answer::answer(engine, &q.question, k, None) {
                        let layout = crate::render::discord::AnswerLayout::new(k, 0);
                        std::hint::black_box(crate::render::discord::answer_message(&a, &layout));
                    }
                }
            });
        }
    });
    questions.len() as f64 / started.elapsed().as_secs_f64()
}

/// Nearest-rank percentile of sorted values (0 for none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevant_passages_are_counted_as_a_substring_search_would() {
        let texts = [
            "The  Severn barrage would make power. The barrage again.",
            "A barrage of questions.",
            "Tidal power\nfrom the Severn.",
            "",
        ];
        let passages: Vec<Passage> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Passage {
                id: format!("b:{i}"),
                text: (*t).to_string(),
                ..Passage::default()
            })
            .collect();
        let golds: Vec<String> = [
            "barrage",
            "Severn barrage",
            "barrage",
            "power from",
            "power",
            "rage",
            "",
            "absent",
        ]
        .map(collapse_whitespace)
        .to_vec();
        let naive: Vec<usize> = golds
            .iter()
            .map(|g| {
                passages
                    .iter()
                    .filter(|p| collapse_whitespace(&p.text).contains(g.as_str()))
                    .count()
            })
            .collect();
        assert_eq!(naive, [2, 1, 2, 1, 2, 2, 4, 0]);
        assert_eq!(relevant_passages(&passages, &golds), naive);
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
