//! The answer to a question: quotes with their sources, or "not in the briefings" with
//! the nearest briefing titles. Plain data, free of any rendering or of Discord: the
//! terminal, JSON and Discord are three renderings of the same [`Answer`].

use crate::search::{Engine, Hit, SearchError};

/// What the briefings say about a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub question: String,
    /// The index version the quotes come from.
    pub index_version: String,
    /// Best first; empty when the briefings do not cover the question.
    pub quotes: Vec<Hit>,
    /// When there are no quotes: titles of the briefings that came closest.
    pub nearest: Vec<String>,
}

impl Answer {
    pub fn is_covered(&self) -> bool {
        !self.quotes.is_empty()
    }
}

/// Why a question got no answer at all.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("the question is empty")]
    Empty,
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// How many briefing titles a "not covered" answer names.
const NEAREST: usize = 3;

/// Answers `question` with the `k` best quotes, restricted to one briefing (by slug) when
/// given. Below `min_coverage` (see `search.min_coverage`) the best match is too weak to
/// quote, and the answer names the nearest briefings instead.
pub fn answer(
    engine: &Engine,
    question: &str,
    k: usize,
    min_coverage: f32,
    briefing: Option<&str>,
) -> Result<Answer, AnswerError> {
    answer_from(engine, question, 0, k, min_coverage, briefing)
}

/// [`answer`] from the `offset`-th quote on: the next quotes of the same ranking ("More").
/// Whether the question is covered is still decided by the best quote.
pub fn answer_from(
    engine: &Engine,
    question: &str,
    offset: usize,
    k: usize,
    min_coverage: f32,
    briefing: Option<&str>,
) -> Result<Answer, AnswerError> {
    let question = question.trim();
    if question.is_empty() {
        return Err(AnswerError::Empty);
    }
    let mut hits = engine.search(question, offset + k, briefing)?;
    let covered = hits.first().is_some_and(|h| h.coverage >= min_coverage);
    let index_version = engine.manifest().version.clone();
    if covered {
        hits.drain(..offset.min(hits.len()));
        return Ok(Answer {
            question: question.to_string(),
            index_version,
            quotes: hits,
            nearest: Vec::new(),
        });
    }
    let mut nearest: Vec<String> = Vec::new();
    for hit in &hits {
        if !nearest.contains(&hit.passage.briefing) {
            nearest.push(hit.passage.briefing.clone());
        }
    }
    if nearest.is_empty() {
        nearest = engine
            .manifest()
            .briefings
            .iter()
            .map(|b| b.title.clone())
            .collect();
    }
    nearest.truncate(NEAREST);
    Ok(Answer {
        question: question.to_string(),
        index_version,
        quotes: Vec::new(),
        nearest,
    })
}
