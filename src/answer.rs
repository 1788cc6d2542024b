//! The answer to a question: quotes with their sources, or "not in the briefings" with
//! the nearest briefing titles. Plain data, free of any rendering or of Discord: the
//! terminal, JSON and Discord are three renderings of the same [`Answer`].

use crate::search::verdict::Verdict;
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
    /// The evidence that the briefings cover the question (quotes shown anyway have it
    /// too, `covered` false).
    pub verdict: Verdict,
}

impl Answer {
    /// Whether the answer quotes paragraphs (a refusal quotes none).
    pub fn is_covered(&self) -> bool {
        !self.quotes.is_empty()
    }

    /// Whether the quotes were asked for although the briefings do not seem to cover the
    /// question ("show the closest paragraphs anyway").
    pub fn shown_anyway(&self) -> bool {
        self.is_covered() && !self.verdict.covered
    }

    /// Whether this is a refusal of chatter: no word of the question tells what it is
    /// about ("what is it", "thanks!"), so it names no nearest briefings, offers no
    /// closest paragraphs and is no gap in the briefings.
    pub fn is_chatter(&self) -> bool {
        !self.is_covered() && !self.verdict.telling
    }

    /// What a refusal says, before the nearest briefings.
    pub fn refusal(&self) -> &'static str {
        if self.is_chatter() {
            "Nothing in this question says what to look for: ask about a subject of the briefings."
        } else {
            "The briefings do not cover this question."
        }
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

/// The titles of the briefings of the best `hits`, best first; without hits, the
/// briefings the asker reads (never another library's).
fn nearest(engine: &Engine, hits: &[Hit]) -> Vec<String> {
    let mut titles: Vec<String> = Vec::new();
    for hit in hits {
        if !titles.contains(&hit.passage.briefing) {
            titles.push(hit.passage.briefing.clone());
        }
    }
    if titles.is_empty() {
        titles = engine.briefings().map(|b| b.title.clone()).collect();
    }
    titles.truncate(NEAREST);
    titles
}

/// Answers `question` with the `k` best quotes, restricted to one briefing (by slug) when
/// given. When the best match is too weak to quote (see
/// [`verdict`](crate::search::verdict)), the answer names the nearest briefings instead.
pub fn answer(
    engine: &Engine,
    question: &str,
    k: usize,
    briefing: Option<&str>,
) -> Result<Answer, AnswerError> {
    answer_from(engine, question, 0, k, briefing)
}

/// [`answer`] from the `offset`-th quote on: the next quotes of the same ranking ("More").
/// Whether the question is covered is still decided by the best quote.
pub fn answer_from(
    engine: &Engine,
    question: &str,
    offset: usize,
    k: usize,
    briefing: Option<&str>,
) -> Result<Answer, AnswerError> {
    respond(engine, question, offset, k, briefing, true)
}

/// The closest paragraphs whatever the verdict: what a member asks for when they think a
/// "not covered" answer is wrong ("show the closest paragraphs anyway").
pub fn closest(
    engine: &Engine,
    question: &str,
    offset: usize,
    k: usize,
    briefing: Option<&str>,
) -> Result<Answer, AnswerError> {
    respond(engine, question, offset, k, briefing, false)
}

fn respond(
    engine: &Engine,
    question: &str,
    offset: usize,
    k: usize,
    briefing: Option<&str>,
    may_refuse: bool,
) -> Result<Answer, AnswerError> {
    let question = question.trim();
    if question.is_empty() {
        return Err(AnswerError::Empty);
    }
    let (mut hits, verdict) = engine.search_judged(question, offset + k, briefing)?;
    let index_version = engine.manifest().version.clone();
    if verdict.covered || (!may_refuse && !hits.is_empty()) {
        hits.drain(..offset.min(hits.len()));
        return Ok(Answer {
            question: question.to_string(),
            index_version,
            quotes: hits,
            nearest: Vec::new(),
            verdict,
        });
    }
    // Chatter ("what is it") has no nearest briefings: any would be chance.
    let nearest = if verdict.telling {
        nearest(engine, &hits)
    } else {
        Vec::new()
    };
    Ok(Answer {
        question: question.to_string(),
        index_version,
        quotes: Vec::new(),
        nearest,
        verdict,
    })
}
