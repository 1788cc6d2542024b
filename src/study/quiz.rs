//! Quizzes made from the briefings themselves: a sentence with one key fact blanked out and
//! four choices of that fact's kind, the three wrong ones taken from the same briefings.
//! The same seed over the same index gives the same quiz, so a group can replay it.

use std::collections::HashMap;

use serde::Serialize;

use super::facts::{self, Kind};
use crate::generate::Rng;
use crate::index::BriefingInfo;
use crate::ingest::Passage;
use crate::search::{Engine, SearchError, analyze};

/// The blank shown in place of the fact.
pub const BLANK: &str = "_____";

/// How many passages are tried before giving up.
const ATTEMPTS: usize = 60;
/// How many other briefings may lend wrong choices when the quiz's own has too few.
const LENDERS: usize = 6;

#[derive(Debug, Clone, Serialize)]
pub struct Quiz {
    pub seed: u64,
    /// The briefing the quiz was restricted to, if any.
    pub briefing: Option<String>,
    /// The paragraph the sentence comes from (its citation is the answer's source).
    pub passage: Passage,
    /// The sentence as it stands in the paragraph.
    pub sentence: String,
    /// The sentence with the fact replaced by [`BLANK`].
    pub blanked: String,
    pub kind: Kind,
    /// Four distinct choices of one kind.
    pub choices: Vec<String>,
    /// Index of the right one in `choices`.
    pub answer: usize,
    /// Byte range of the fact in `passage.text`.
    #[serde(skip)]
    pub fact: std::ops::Range<usize>,
    /// Byte range of the sentence in `passage.text`.
    #[serde(skip)]
    pub sentence_range: std::ops::Range<usize>,
}

impl Quiz {
    /// A short fingerprint of the question, stable across processes: a button that
    /// names it can tell whether the index still gives the same quiz for its seed.
    pub fn check(&self) -> String {
        // FNV-1a, 32 bits: fixed forever, unlike the standard library's hasher.
        let mut h: u32 = 0x811c_9dc5;
        let key = format!(
            "{}\u{0}{}\u{0}{}",
            self.passage.id,
            self.fact.start,
            self.choices.join("\u{0}")
        );
        for b in key.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        format!("{h:08x}")
    }

    pub fn right_choice(&self) -> &str {
        &self.choices[self.answer]
    }

    /// Byte range of the fact within `sentence`.
    pub fn fact_in_sentence(&self) -> std::ops::Range<usize> {
        self.fact.start - self.sentence_range.start..self.fact.end - self.sentence_range.start
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QuizError {
    #[error(
        "no quiz question could be made from {0}: it needs sentences with facts (numbers, dates, names, places) and at least four different facts of one kind"
    )]
    Nothing(String),
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// A fact of a sentence of a passage.
#[derive(Clone)]
struct Candidate {
    passage: usize,
    sentence: std::ops::Range<usize>,
    fact: std::ops::Range<usize>,
    kind: Kind,
}

/// Facts of one briefing, by kind, as written (first spelling kept).
struct BriefingFacts {
    passages: Vec<Passage>,
    candidates: Vec<Candidate>,
    by_kind: HashMap<Kind, Vec<String>>,
}

fn read_briefing(engine: &Engine, info: &BriefingInfo) -> Result<BriefingFacts, SearchError> {
    let passages = engine.briefing_passages(info)?;
    let mut candidates = Vec::new();
    let mut by_kind: HashMap<Kind, Vec<String>> = HashMap::new();
    for (pi, p) in passages.iter().enumerate() {
        for s in analyze::sentences(&p.text) {
            let sentence = &p.text[s.clone()];
            let words = sentence.split_whitespace().count();
            for f in facts::facts(sentence) {
                let text = sentence[f.range.clone()].to_string();
                let list = by_kind.entry(f.kind).or_default();
                if !list.iter().any(|t| same(t, &text)) {
                    list.push(text);
                }
                if (6..=60).contains(&words) {
                    candidates.push(Candidate {
                        passage: pi,
                        sentence: s.clone(),
                        fact: s.start + f.range.start..s.start + f.range.end,
                        kind: f.kind,
                    });
                }
            }
        }
    }
    Ok(BriefingFacts {
        passages,
        candidates,
        by_kind,
    })
}

fn normal(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('’', "'")
}

/// Whether two facts are the same choice: equal, or one a whole-word part of the other
/// ("Biden" and "Joe Biden").
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (normal(a), normal(b));
    let within = |short: &str, long: &str| format!(" {long} ").contains(&format!(" {short} "));
    a == b || within(&a, &b) || within(&b, &a)
}

/// A seed for a new quiz: small enough to type, different each time.
pub fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    Rng::new(nanos ^ u64::from(std::process::id())).next_u64() % 1_000_000
}

/// Makes the quiz of `seed`, from `briefing` (a slug) or from every briefing.
pub fn make(
    engine: &Engine,
    briefing: Option<&BriefingInfo>,
    seed: u64,
) -> Result<Quiz, QuizError> {
    let scope: Vec<&BriefingInfo> = match briefing {
        Some(b) => vec![b],
        None => engine.briefings().collect(),
    };
    let scope_name =
        briefing.map_or_else(|| "the briefings".to_string(), |b| format!("“{}”", b.title));
    let total: u64 = scope.iter().map(|b| b.paragraphs).sum();
    if total == 0 {
        return Err(QuizError::Nothing(scope_name));
    }
    let mut rng = Rng::new(seed);
    let mut cache: HashMap<usize, BriefingFacts> = HashMap::new();
    for _ in 0..ATTEMPTS {
        // A paragraph uniformly over the scope, then one of its facts.
        let mut pick = rng.next_u64() % total;
        let bi = scope
            .iter()
            .position(|b| {
                if pick < b.paragraphs {
                    true
                } else {
                    pick -= b.paragraphs;
                    false
                }
            })
            .expect("pick < total");
        if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(bi) {
            e.insert(read_briefing(engine, scope[bi])?);
        }
        let own = &cache[&bi];
        let here: Vec<&Candidate> = own
            .candidates
            .iter()
            .filter(|c| own.passages[c.passage].paragraph == pick + 1)
            .collect();
        if here.is_empty() {
            continue;
        }
        let c = here[rng.below(here.len())].clone();
        let passage = &own.passages[c.passage];
        let answer = passage.text[c.fact.clone()].to_string();
        let sentence = passage.text[c.sentence.clone()].to_string();
        // A fact written twice in its sentence would give itself away.
        if normal(&sentence).matches(&normal(&answer)).count() > 1 {
            continue;
        }
        let fits = |t: &String| !same(t, &answer) && !normal(&sentence).contains(&normal(t));
        let mut pool: Vec<String> = own
            .by_kind
            .get(&c.kind)
            .into_iter()
            .flatten()
            .filter(|t| fits(t))
            .cloned()
            .collect();
        // Too few in its own briefing: borrow from others in the scope.
        let mut lenders = 0;
        while pool.len() < 3 && lenders < LENDERS.min(scope.len() - 1) {
            let other = (bi + 1 + rng.below(scope.len() - 1)) % scope.len();
            lenders += 1;
            if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(other) {
                e.insert(read_briefing(engine, scope[other])?);
            }
            for t in cache[&other].by_kind.get(&c.kind).into_iter().flatten() {
                if fits(t) && !pool.iter().any(|p| same(p, t)) {
                    pool.push(t.clone());
                }
            }
        }
        if pool.len() < 3 {
            continue;
        }
        let own = &cache[&bi];
        let passage = own.passages[c.passage].clone();
        pool.sort();
        let mut choices: Vec<String> = Vec::with_capacity(4);
        for _ in 0..3 {
            let i = rng.below(pool.len());
            choices.push(pool.swap_remove(i));
        }
        choices.push(answer);
        for i in (1..choices.len()).rev() {
            let j = rng.below(i + 1);
            choices.swap(i, j);
        }
        let answer_at = choices
            .iter()
            .position(|t| t.as_str() == &passage.text[c.fact.clone()])
            .expect("the answer is among the choices");
        let local = c.fact.start - c.sentence.start..c.fact.end - c.sentence.start;
        let blanked = format!(
            "{}{BLANK}{}",
            &sentence[..local.start],
            &sentence[local.end..]
        );
        return Ok(Quiz {
            seed,
            briefing: briefing.map(|b| b.slug.clone()),
            passage,
            sentence,
            blanked,
            kind: c.kind,
            choices,
            answer: answer_at,
            fact: c.fact.clone(),
            sentence_range: c.sentence.clone(),
        });
    }
    Err(QuizError::Nothing(scope_name))
}
