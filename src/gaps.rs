//! The unanswered-questions report: the questions members could not find an answer to,
//! grouped by topic, largest group first, so that a moderator sees which briefing to add
//! next. Free of Discord and of the database: it takes the recorded questions
//! ([`crate::state::gaps`]) and, when a sentence-embedding model is installed, their
//! vectors.
//!
//! Grouping is average-linkage agglomerative clustering (the two groups whose questions are
//! most similar on average merge, while that average reaches a threshold) over TF-IDF
//! vectors of the questions' content-word stems — shared content words make questions
//! similar — averaged with the cosine of their sentence vectors when there are any.
//! Deterministic; one threshold per signal, chosen on `tests/fixtures/gaps`.

use std::collections::HashMap;

use crate::search::analyze;
use crate::state::gaps::{Kind, Unanswered};

/// The average similarity (TF-IDF cosine of content stems) two groups need to merge: low,
/// since two short questions on one topic often share a single content word. Chosen on
/// `tests/fixtures/gaps/questions.jsonl` (0.015–0.025 give the same groups there).
pub const LEXICAL_THRESHOLD: f32 = 0.02;
/// The same with sentence vectors: the average of the TF-IDF cosine and the vectors'
/// (0.15–0.22 give the same groups on that fixture).
pub const SEMANTIC_THRESHOLD: f32 = 0.18;

/// A group of similar questions: indices into the questions given, oldest first.
pub type Group = Vec<usize>;

/// A sparse, L2-normalised TF-IDF vector. Ordered: sums over it are then made in one
/// order, so that near ties between groups fall the same way in every process (a hash
/// map's order, seeded per process, made `tests/state_e2e.rs`'s grouping test fail once in
/// 14 runs here).
type Sparse = std::collections::BTreeMap<String, f32>;

fn dot(a: &Sparse, b: &Sparse) -> f32 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .filter_map(|(t, w)| large.get(t).map(|v| w * v))
        .sum()
}

fn normalise(v: &mut Sparse) {
    let norm = v.values().map(|w| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.values_mut().for_each(|w| *w /= norm);
    }
}

/// The cosine of two sentence vectors: the model's are of unit length.
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The content-word stems of each question, as TF-IDF vectors over these questions.
fn tf_idf(questions: &[&str]) -> Vec<Sparse> {
    let terms: Vec<Vec<String>> = questions
        .iter()
        .map(|q| analyze::query_terms(q, true))
        .collect();
    let mut df: HashMap<&str, f32> = HashMap::new();
    for t in &terms {
        for term in t {
            *df.entry(term.as_str()).or_default() += 1.0;
        }
    }
    let n = questions.len() as f32;
    terms
        .iter()
        .map(|t| {
            let mut v: Sparse = t
                .iter()
                .map(|term| (term.clone(), (1.0 + n / df[term.as_str()]).ln()))
                .collect();
            normalise(&mut v);
            v
        })
        .collect()
}

/// Groups `questions` by topic; `vectors`, when given, are their sentence vectors (one per
/// question). Largest group first; ties by their oldest question.
pub fn group(questions: &[&str], vectors: Option<&[Vec<f32>]>) -> Vec<Group> {
    let threshold = if vectors.is_some() {
        SEMANTIC_THRESHOLD
    } else {
        LEXICAL_THRESHOLD
    };
    group_with(questions, vectors, threshold)
}

/// The most questions grouped at once (the newest): average-linkage clustering costs
/// about n³/6 comparisons and n² similarities in memory (4 MB here).
pub const MAX_GROUPED: usize = 1000;

/// [`group`] with the average similarity two groups need to be merged.
pub fn group_with(questions: &[&str], vectors: Option<&[Vec<f32>]>, threshold: f32) -> Vec<Group> {
    let n = questions.len();
    let lexical = tf_idf(questions);
    // The questions are clustered in the order of their text, not in the order they came
    // in: rows are written in the background and timed in seconds, so one second's
    // questions can come from the database in any order, and near ties (which pair merges
    // first, float sums in another order) then fell differently. `order[p]` is the question
    // at position p; groups are mapped back to the caller's indices at the end.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| questions[a].cmp(questions[b]));
    let pair = |p: usize, q: usize| {
        let (i, j) = (order[p], order[q]);
        let l = dot(&lexical[i], &lexical[j]);
        match vectors {
            Some(v) => 0.5 * l + 0.5 * cosine(&v[i], &v[j]),
            None => l,
        }
    };
    // Average linkage: `sums[a][b]` is the sum of the similarities between the members of
    // groups a and b; the pair with the highest average merges while it reaches
    // `threshold`.
    let mut sums: Vec<Vec<f32>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| if i == j { 0.0 } else { pair(i, j) })
                .collect()
        })
        .collect();
    let mut members: Vec<Group> = (0..n).map(|i| vec![i]).collect();
    let mut alive: Vec<bool> = vec![true; n];
    loop {
        let mut best: Option<(usize, usize, f32)> = None;
        for a in (0..n).filter(|&a| alive[a]) {
            for b in (a + 1..n).filter(|&b| alive[b]) {
                let avg = sums[a][b] / (members[a].len() * members[b].len()) as f32;
                if best.is_none_or(|(_, _, s)| avg > s) {
                    best = Some((a, b, avg));
                }
            }
        }
        let Some((a, b, _)) = best.filter(|&(_, _, avg)| avg >= threshold) else {
            break;
        };
        alive[b] = false;
        let moved = std::mem::take(&mut members[b]);
        members[a].extend(moved);
        // Group a's row and column gain group b's.
        let from_b = sums[b].clone();
        for (k, add) in from_b.into_iter().enumerate() {
            sums[a][k] += add;
            sums[k][a] = sums[a][k];
        }
    }
    let mut out: Vec<Group> = (0..n)
        .filter(|&g| alive[g])
        .map(|g| {
            let mut group: Group = members[g].iter().map(|&p| order[p]).collect();
            group.sort_unstable();
            group
        })
        .collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    out
}

/// One group as the report shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupReport {
    /// How many unanswered questions it holds.
    pub count: usize,
    /// Up to three of its questions, newest first, each once.
    pub examples: Vec<String>,
    /// The briefings that came closest to its questions, most often first (up to three).
    pub nearest: Vec<String>,
    /// Its 👎 reasons: (question, kind, text).
    pub reasons: Vec<(String, String, Option<String>)>,
    /// How many of its questions were refused, and how many were answers voted 👎.
    pub refused: usize,
    pub voted_down: usize,
}

/// The report of one period, with the previous period's share to compare.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub groups: Vec<GroupReport>,
    /// Unanswered questions, and all questions asked, in the period.
    pub unanswered: usize,
    pub asked: u64,
    /// The same for the period before it.
    pub previous_unanswered: usize,
    pub previous_asked: u64,
}

impl Report {
    /// The share of questions that went unanswered in the period (`None`: none asked).
    pub fn share(&self) -> Option<f64> {
        share(self.unanswered, self.asked)
    }

    /// The same for the previous period.
    pub fn previous_share(&self) -> Option<f64> {
        share(self.previous_unanswered, self.previous_asked)
    }
}

fn share(unanswered: usize, asked: u64) -> Option<f64> {
    // A 👎 answer was asked and counted; refused ones too. Capped at 1 for rows older
    // than the counts (counts began with this feature).
    (asked > 0).then(|| (unanswered as f64 / asked as f64).min(1.0))
}

/// The report of `rows` (the questions of one period to group) with the period's counts
/// of unanswered and asked questions, and the previous period's: `vectors` as for
/// [`group`].
pub fn report(
    rows: &[Unanswered],
    vectors: Option<&[Vec<f32>]>,
    (unanswered, asked): (usize, u64),
    (previous_unanswered, previous_asked): (usize, u64),
) -> Report {
    let questions: Vec<&str> = rows.iter().map(|r| r.question.as_str()).collect();
    let groups = group(&questions, vectors)
        .into_iter()
        .map(|members| summarise(rows, &members))
        .collect();
    Report {
        groups,
        unanswered,
        asked,
        previous_unanswered,
        previous_asked,
    }
}

fn summarise(rows: &[Unanswered], members: &[usize]) -> GroupReport {
    let mut examples: Vec<String> = Vec::new();
    for &i in members.iter().rev() {
        let q = rows[i].question.trim();
        if !examples.iter().any(|e| e.eq_ignore_ascii_case(q)) {
            examples.push(q.to_string());
        }
        if examples.len() == 3 {
            break;
        }
    }
    let mut nearest: Vec<(String, usize)> = Vec::new();
    for &i in members {
        for title in &rows[i].nearest {
            match nearest.iter_mut().find(|(t, _)| t == title) {
                Some((_, n)) => *n += 1,
                None => nearest.push((title.clone(), 1)),
            }
        }
    }
    nearest.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let reasons = members
        .iter()
        .filter_map(|&i| {
            let r = &rows[i];
            r.reason_kind
                .as_ref()
                .map(|k| (r.question.clone(), k.clone(), r.reason.clone()))
        })
        .collect();
    let refused = members
        .iter()
        .filter(|&&i| rows[i].kind == Kind::Refused)
        .count();
    GroupReport {
        count: members.len(),
        examples,
        nearest: nearest.into_iter().take(3).map(|(t, _)| t).collect(),
        reasons,
        refused,
        voted_down: members.len() - refused,
    }
}

/// How well `groups` recover known `topics` (one per question): each topic is matched to
/// one group of its own (greedily, the largest overlap first, so one big group cannot be
/// every topic's), and the figure is the share of all questions that are in their topic's
/// group. The figure the README reports for the grouping.
pub fn purity(groups: &[Group], topics: &[&str]) -> f64 {
    let mut distinct: Vec<&str> = topics.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let mut overlaps: Vec<(usize, usize, usize)> = Vec::new();
    for (t, topic) in distinct.iter().enumerate() {
        for (g, group) in groups.iter().enumerate() {
            let n = group.iter().filter(|&&i| topics[i] == *topic).count();
            if n > 0 {
                overlaps.push((n, t, g));
            }
        }
    }
    overlaps.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut topic_done, mut group_done) = (vec![false; distinct.len()], vec![false; groups.len()]);
    let mut placed = 0;
    for (n, t, g) in overlaps {
        if !topic_done[t] && !group_done[g] {
            topic_done[t] = true;
            group_done[g] = true;
            placed += n;
        }
    }
    placed as f64 / topics.len().max(1) as f64
}

/// What a report covers.
#[derive(Debug, Clone)]
pub struct Scope {
    /// One server's questions (`None`: every server's and DMs', for the operator).
    pub guild: Option<u64>,
    /// The period: the last `days` before `now`, compared with the `days` before that.
    pub days: u32,
    pub now: i64,
    /// Only questions whose nearest briefings include this title.
    pub briefing: Option<String>,
}

/// Reads the period's unanswered questions and counts from `store`, groups them (with
/// `model`'s question vectors when one is given; the CPU work off the async threads) and
/// reports.
pub async fn build(
    store: &crate::state::Store,
    scope: &Scope,
    model: Option<std::sync::Arc<crate::semantic::Model>>,
) -> Result<Report, crate::state::StateError> {
    use crate::state::gaps::{self as rows, Window};
    let length = i64::from(scope.days) * 24 * 60 * 60;
    let this = Window {
        guild: scope.guild,
        since: scope.now - length,
        until: scope.now + 1,
    };
    let before = Window {
        guild: scope.guild,
        since: scope.now - 2 * length,
        until: scope.now - length,
    };
    let (mut recent, unanswered, previous) = match &scope.briefing {
        // Counted in the database; only the newest that are grouped are read.
        None => (
            rows::list(store, this, MAX_GROUPED as u32).await?,
            rows::count(store, this).await? as usize,
            rows::count(store, before).await? as usize,
        ),
        // The nearest briefings are a list in one column: read, then kept by title.
        Some(title) => {
            let about = |r: &Unanswered| r.nearest.iter().any(|n| n == title);
            let recent: Vec<Unanswered> = rows::list(store, this, u32::MAX >> 1)
                .await?
                .into_iter()
                .filter(about)
                .collect();
            let previous = rows::list(store, before, u32::MAX >> 1)
                .await?
                .iter()
                .filter(|r| about(r))
                .count();
            let n = recent.len();
            (recent, n, previous)
        }
    };
    let (asked, previous_asked) = (
        rows::asked(store, this).await?,
        rows::asked(store, before).await?,
    );
    // The newest are grouped; the counts cover the whole period.
    if recent.len() > MAX_GROUPED {
        recent.drain(..recent.len() - MAX_GROUPED);
    }
    tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        // Up to MAX_GROUPED questions: off the pool members' questions are embedded on.
        let vectors: Option<Vec<Vec<f32>>> = model.and_then(|m| {
            crate::semantic::in_background(|| {
                recent
                    .par_iter()
                    .map(|r| m.embed_query(&r.question).ok())
                    .collect()
            })
        });
        report(
            &recent,
            vectors.as_deref(),
            (unanswered, asked),
            (previous, previous_asked),
        )
    })
    .await
    .map_err(|e| crate::state::StateError::Unavailable {
        url: store.url().to_string(),
        reason: format!("the report failed: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_sharing_content_words_are_grouped() {
        let q = [
            "How much power would a tidal barrage make?",
            "When do the night trains to Vienna start?",
            "Is tidal power cheaper than wind?",
            "Which operators run the night trains?",
            "Who pays for the tidal lagoon?",
        ];
        let groups = group(&q, None);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0], [0, 2, 4]);
        assert_eq!(groups[1], [1, 3]);
        assert_eq!(purity(&groups, &["t", "n", "t", "n", "t"]), 1.0);
    }

    #[test]
    fn purity_counts_each_topic_in_its_best_group() {
        let groups = vec![vec![0, 1, 2], vec![3]];
        assert_eq!(purity(&groups, &["a", "a", "b", "b"]), 0.75);
        // One group for everything is one topic's group only.
        assert_eq!(purity(&[vec![0, 1, 2, 3]], &["a", "a", "b", "b"]), 0.5);
    }
}
