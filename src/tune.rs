//! Fitting the re-ranker's weights on a question set (`briefbot eval --fit`).
//!
//! The re-ranker scores a candidate by a weighted sum of its features. The weights are
//! fitted by listwise softmax regression over BM25's candidates and scaled so that the
//! BM25 weight is 1 (a linear ranking does not change when all weights are scaled). To
//! show how the weights carry to unseen briefings, they are also cross-validated by
//! article: fitted on half of the briefings' questions, measured on the other half, and
//! the reverse. The result is a `[search.weights]` block for `config.toml`: a few plain
//! numbers, nothing specific to one question.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::eval::Question;
use crate::ingest::{Passage, collapse_whitespace};
use crate::search::{Engine, FEATURES, SearchError};

/// The candidates of one question, as the fitter sees them.
#[derive(Debug, Clone)]
pub struct Sample {
    pub features: Vec<[f32; FEATURES]>,
    pub gold: Vec<bool>,
    /// The briefing of the gold passage: the unit of cross-validation.
    pub group: String,
}

/// Ranking quality of a set of weights on samples.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Quality {
    pub questions: usize,
    pub recall_at_1: f64,
    pub recall_at_3: f64,
    pub recall_at_10: f64,
    pub mrr_at_10: f64,
}

impl Quality {
    /// Pools two disjoint measurements.
    fn pool(a: Quality, b: Quality) -> Quality {
        let n = (a.questions + b.questions).max(1) as f64;
        let mix = |x: f64, y: f64| (x * a.questions as f64 + y * b.questions as f64) / n;
        Quality {
            questions: a.questions + b.questions,
            recall_at_1: mix(a.recall_at_1, b.recall_at_1),
            recall_at_3: mix(a.recall_at_3, b.recall_at_3),
            recall_at_10: mix(a.recall_at_10, b.recall_at_10),
            mrr_at_10: mix(a.mrr_at_10, b.mrr_at_10),
        }
    }
}

/// Gathers each question's candidates and their features. Questions whose gold text is
/// in no passage are left out.
pub fn collect(
    engine: &Engine,
    passages: &[Passage],
    questions: &[Question],
    candidates: usize,
) -> Result<Vec<Sample>, SearchError> {
    let texts: Vec<String> = passages
        .iter()
        .map(|p| collapse_whitespace(&p.text))
        .collect();
    let mut samples = Vec::with_capacity(questions.len());
    for q in questions {
        let gold = collapse_whitespace(&q.gold_contains);
        let Some(home) = texts.iter().position(|t| t.contains(&gold)) else {
            continue;
        };
        let found = engine.candidates(&q.question, candidates, None)?;
        samples.push(Sample {
            features: found.iter().map(|c| c.evidence.features).collect(),
            gold: found
                .iter()
                .map(|c| collapse_whitespace(&c.passage.text).contains(&gold))
                .collect(),
            group: passages[home].slug.clone(),
        });
    }
    Ok(samples)
}

/// Measures `weights` on `samples`.
pub fn quality(samples: &[&Sample], weights: &[f32; FEATURES]) -> Quality {
    let mut q = Quality {
        questions: samples.len(),
        ..Quality::default()
    };
    let mut scores = Vec::new();
    for s in samples {
        scores.clear();
        scores.extend(
            s.features
                .iter()
                .map(|f| f.iter().zip(weights).map(|(f, w)| f * w).sum::<f32>()),
        );
        let Some(gold) = s.gold.iter().position(|&g| g) else {
            continue;
        };
        // Rank of the first gold candidate: those scoring higher, or equal and earlier.
        let g = scores[gold];
        let rank = 1 + scores
            .iter()
            .enumerate()
            .filter(|&(i, &x)| x > g || (x == g && i < gold))
            .count();
        q.recall_at_1 += f64::from(rank <= 1);
        q.recall_at_3 += f64::from(rank <= 3);
        q.recall_at_10 += f64::from(rank <= 10);
        if rank <= 10 {
            q.mrr_at_10 += 1.0 / rank as f64;
        }
    }
    let n = samples.len().max(1) as f64;
    q.recall_at_1 /= n;
    q.recall_at_3 /= n;
    q.recall_at_10 /= n;
    q.mrr_at_10 /= n;
    q
}

/// Fits weights by listwise softmax regression: for each question, maximise the
/// probability that a softmax over its candidates' scores puts on its gold candidates
/// (each question weighing the same), with a little L2 regularisation. This aims at the
/// first place, which is what an answer quotes first. Scaled so that the BM25 weight is 1.
pub fn fit_softmax(samples: &[&Sample]) -> [f32; FEATURES] {
    let lists: Vec<&Sample> = samples
        .iter()
        .copied()
        .filter(|s| s.gold.iter().any(|&g| g))
        .collect();
    let n = lists.len().max(1) as f64;
    let lambda = 1e-4;
    let mut w = [0.0f64; FEATURES];
    w[0] = 1.0;
    let (mut m, mut v) = ([0.0f64; FEATURES], [0.0f64; FEATURES]);
    let (beta1, beta2, rate, eps) = (0.9, 0.999, 0.05, 1e-8);
    let mut scores = Vec::new();
    for step in 1..=500 {
        let mut grad = [0.0f64; FEATURES];
        for s in &lists {
            scores.clear();
            scores.extend(s.features.iter().map(|f| {
                f.iter()
                    .zip(&w)
                    .map(|(a, b)| f64::from(*a) * b)
                    .sum::<f64>()
            }));
            let max = scores.iter().copied().fold(f64::MIN, f64::max);
            let z: f64 = scores.iter().map(|x| (x - max).exp()).sum();
            let golds = s.gold.iter().filter(|&&g| g).count() as f64;
            for (i, f) in s.features.iter().enumerate() {
                let p = (scores[i] - max).exp() / z;
                let y = if s.gold[i] { 1.0 / golds } else { 0.0 };
                for k in 0..FEATURES {
                    grad[k] += (p - y) * f64::from(f[k]);
                }
            }
        }
        for k in 0..FEATURES {
            grad[k] = grad[k] / n + lambda * w[k];
            m[k] = beta1 * m[k] + (1.0 - beta1) * grad[k];
            v[k] = beta2 * v[k] + (1.0 - beta2) * grad[k] * grad[k];
            let mh = m[k] / (1.0 - beta1.powi(step));
            let vh = v[k] / (1.0 - beta2.powi(step));
            w[k] -= rate * mh / (vh.sqrt() + eps);
        }
    }
    let scale = if w[0] > 1e-6 { w[0] } else { 1.0 };
    w.map(|x| ((x / scale) * 100.0).round() as f32 / 100.0)
}

/// What `--fit` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Fitted {
    pub weights: [f32; FEATURES],
    pub in_sample: Quality,
    /// Fitted on one half of the briefings, measured on the other, both ways, pooled.
    pub cross_validated: Quality,
    pub fold_weights: [[f32; FEATURES]; 2],
}

/// Fits on all samples, and cross-validates by article in two folds.
pub fn fit_and_validate(samples: &[Sample]) -> Fitted {
    let all: Vec<&Sample> = samples.iter().collect();
    let weights = fit_softmax(&all);
    let groups: Vec<&str> = samples
        .iter()
        .map(|s| s.group.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let in_fold = |s: &Sample, fold: usize| {
        groups.iter().position(|g| *g == s.group).unwrap_or(0) % 2 == fold
    };
    let folds: [Vec<&Sample>; 2] =
        [0, 1].map(|f| samples.iter().filter(|s| in_fold(s, f)).collect());
    let fold_weights = [fit_softmax(&folds[0]), fit_softmax(&folds[1])];
    let cross_validated = Quality::pool(
        quality(&folds[1], &fold_weights[0]),
        quality(&folds[0], &fold_weights[1]),
    );
    Fitted {
        weights,
        in_sample: quality(&all, &weights),
        cross_validated,
        fold_weights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(features: &[[f32; 2]], gold: usize, group: &str) -> Sample {
        Sample {
            features: features
                .iter()
                .map(|f| {
                    let mut full = [0.0; FEATURES];
                    full[0] = f[0];
                    full[1] = f[1];
                    full
                })
                .collect(),
            gold: (0..features.len()).map(|i| i == gold).collect(),
            group: group.to_string(),
        }
    }

    #[test]
    fn fitting_finds_the_feature_that_ranks_gold_first() {
        // BM25 puts the gold second; feature 1 marks it.
        let samples: Vec<Sample> = (0..20)
            .map(|i| {
                sample(
                    &[[1.0, 0.0], [0.9, 1.0], [0.5, 0.0]],
                    1,
                    &format!("a{}", i % 4),
                )
            })
            .collect();
        let refs: Vec<&Sample> = samples.iter().collect();
        let mut start = [0.0; FEATURES];
        start[0] = 1.0;
        assert_eq!(quality(&refs, &start).recall_at_1, 0.0);
        let fitted = fit_and_validate(&samples);
        assert!(fitted.weights[1] > 0.1, "{:?}", fitted.weights);
        assert_eq!(fitted.in_sample.recall_at_1, 1.0);
        assert_eq!(fitted.cross_validated.recall_at_1, 1.0);
        assert_eq!(fitted.cross_validated.questions, 20);
    }

    #[test]
    fn a_question_without_gold_among_candidates_counts_as_a_miss() {
        let mut s = sample(&[[1.0, 0.0]], 0, "a");
        s.gold = vec![false];
        let q = quality(&[&s], &[1.0; FEATURES]);
        assert_eq!((q.recall_at_10, q.mrr_at_10), (0.0, 0.0));
    }
}
