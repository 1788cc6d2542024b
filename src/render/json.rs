//! The answer as one JSON object (`briefbot ask --json`); the shape is documented in the
//! README and pinned by the tests.

use serde::Serialize;

use crate::answer::Answer;
use crate::search::Hit;

#[derive(Serialize)]
struct JsonAnswer<'a> {
    question: &'a str,
    index_version: &'a str,
    covered: bool,
    /// The evidence that the briefings cover the question (`search.min_coverage`).
    evidence: f32,
    /// The best paragraph's cosine with the question, when a model is in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    cosine: Option<f32>,
    hits: Vec<JsonHit<'a>>,
    nearest_briefings: &'a [String],
}

#[derive(Serialize)]
struct JsonHit<'a> {
    id: &'a str,
    briefing: &'a str,
    section: Option<&'a str>,
    paragraph: u64,
    /// The page it starts on, for briefings with pages (PDF); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u64>,
    url: Option<&'a str>,
    date: Option<&'a str>,
    source: &'a str,
    score: f32,
    text: &'a str,
    highlights: Vec<[usize; 2]>,
    best_sentence: &'a str,
}

impl<'a> JsonHit<'a> {
    fn new(hit: &'a Hit) -> Self {
        let p = &hit.passage;
        JsonHit {
            id: &p.id,
            briefing: &p.briefing,
            section: p.section.as_deref(),
            paragraph: p.paragraph,
            page: p.page,
            url: p.url.as_deref(),
            date: p.date.as_deref(),
            source: &p.source,
            score: hit.score,
            text: &p.text,
            highlights: hit.highlights.iter().map(|r| [r.start, r.end]).collect(),
            best_sentence: p.text.get(hit.best_sentence.clone()).unwrap_or(""),
        }
    }
}

/// The answer as pretty-printed JSON, keys in the documented order.
pub fn to_string(answer: &Answer) -> String {
    serde_json::to_string_pretty(&json(answer)).expect("an answer serializes")
}

/// The answer as a JSON value.
pub fn to_value(answer: &Answer) -> serde_json::Value {
    serde_json::to_value(json(answer)).expect("an answer serializes")
}

fn json(answer: &Answer) -> JsonAnswer<'_> {
    JsonAnswer {
        question: &answer.question,
        index_version: &answer.index_version,
        // Quotes shown anyway (`ask --anyway`) are not an answer the briefings cover.
        covered: answer.is_covered() && answer.verdict.covered,
        evidence: (answer.verdict.evidence * 1000.0).round() / 1000.0,
        cosine: answer.verdict.cosine.map(|c| (c * 1000.0).round() / 1000.0),
        hits: answer.quotes.iter().map(JsonHit::new).collect(),
        nearest_briefings: &answer.nearest,
    }
}
