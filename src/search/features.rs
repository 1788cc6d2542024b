//! Lexical evidence for re-ranking BM25's candidates: how much of the question a passage
//! covers, whether the question's words stand close together, which sentence carries
//! them, and whether that sentence holds the kind of answer asked for (a year, a number).
//!
//! Everything here is a pure function of the question's terms and a passage's tokens, so
//! it is tested without an index. Every feature is scaled to about 0–1.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::ops::Range;

use super::analyze::Token;

/// The re-ranking features with their default weights (`[search.weights]`), fitted on
/// squad-a by `briefbot eval --fit` (listwise softmax, cross-validated by briefing).
pub const DEFAULT_WEIGHTS: [(&str, f32); FEATURES] = [
    ("bm25", 1.0),
    ("coverage", 0.53),
    ("sentence", 0.56),
    ("window", 0.55),
    ("pairs", 0.33),
    ("rarest", 0.16),
    ("answer_type", 0.61),
    ("briefing", 0.51),
    ("title", 0.56),
    ("phrase", 1.22),
    ("rank", 0.12),
    ("bm25_per_term", 0.34),
    ("sentence_bm25", 0.77),
    ("near", 0.43),
    ("exact", 0.86),
    ("names", 0.52),
    ("length", -0.7),
    // The semantic features are 0 without a model: these weights never act.
    ("cosine", 0.0),
    ("cosine_z", 0.0),
    ("cosine_rank", 0.0),
    ("briefing_cosine", 0.0),
    ("cosine_unmatched", 0.0),
    ("soft", 0.0),
    ("sentence_cosine", 0.0),
    ("sentence_cosine_z", 0.0),
    ("sentence_cosine_rank", 0.0),
    ("sentence_unmatched", 0.0),
    ("briefing_sentence", 0.0),
];

/// The weights used when a sentence-embedding model is in use
/// (`[search.semantic.weights]`): fitted on squad-a with all-MiniLM-L6-v2 by
/// `briefbot eval --fit`, then the five cosine weights doubled (`soft` and the five
/// sentence weights as fitted). squad-a's questions reuse their paragraph's words, so a
/// fit on them leans on the lexical features; members' everyday questions need the
/// meaning more (paraphrase-a R@1 / R@3 .513 / .795 → .564 / .821, squad-a R@1 .858 →
/// .853 in-sample; README, "Questions in other words").
pub const DEFAULT_SEMANTIC_WEIGHTS: [(&str, f32); FEATURES] = [
    ("bm25", 1.0),
    ("coverage", 1.37),
    ("sentence", 0.83),
    ("window", 0.78),
    ("pairs", 0.59),
    ("rarest", 0.26),
    ("answer_type", 0.87),
    ("briefing", 0.06),
    ("title", 0.34),
    ("phrase", 1.61),
    ("rank", 0.01),
    ("bm25_per_term", 0.19),
    ("sentence_bm25", 0.24),
    ("near", 0.57),
    ("exact", 1.16),
    ("names", 0.44),
    ("length", -1.33),
    ("cosine", 1.2),
    ("cosine_z", 0.54),
    ("cosine_rank", 0.48),
    ("briefing_cosine", 0.98),
    ("cosine_unmatched", 1.82),
    ("soft", 5.86),
    ("sentence_cosine", 0.82),
    ("sentence_cosine_z", 0.61),
    ("sentence_cosine_rank", 0.35),
    ("sentence_unmatched", 1.1),
    ("briefing_sentence", 0.89),
];

/// Number of features.
pub const FEATURES: usize = 28;

/// Where the semantic features are: the cosine of the question's vector with the
/// passage's; that cosine as a z-score among the candidates' (divided by 3: about −1 to
/// 1); 1 / (1 + the passage's rank by cosine among the candidates); the best cosine of a
/// candidate of the same briefing (is this the briefing the question is about?); the
/// z-score again, times the share of the question's words that the best-covered
/// candidate lacks (meaning counts most when the words are not there).
pub const COSINE: usize = 17;
pub const COSINE_Z: usize = 18;
pub const COSINE_RANK: usize = 19;
pub const BRIEFING_COSINE: usize = 20;
pub const COSINE_UNMATCHED: usize = 21;
/// The share of the question (by IDF) the passage lacks word for word but holds in a
/// near synonym, by the model's own word vectors ("railway" / "railroad"): see
/// [`super::soft`].
pub const SOFT: usize = 22;
/// The same four as the cosine's, for the passage's best sentence (the best cosine of
/// the question with one of its sentences' vectors: a long paragraph's own vector
/// averages all it says), and the best of those among the candidates of the same
/// briefing.
pub const SENTENCE_COSINE: usize = 23;
pub const SENTENCE_COSINE_Z: usize = 24;
pub const SENTENCE_COSINE_RANK: usize = 25;
pub const SENTENCE_UNMATCHED: usize = 26;
pub const BRIEFING_SENTENCE: usize = 27;

/// Names of the features, in the order of their values.
pub const FEATURE_NAMES: [&str; FEATURES] = {
    let mut names = [""; FEATURES];
    let mut i = 0;
    while i < FEATURES {
        names[i] = DEFAULT_WEIGHTS[i].0;
        i += 1;
    }
    names
};

/// Tokens within which the question's terms count as close together (`window`).
const WINDOW: usize = 20;
/// A tighter window (`near`).
const NEAR: usize = 8;
/// BM25's parameters, for scoring sentences.
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Typical sentence length in tokens, for BM25's length normalisation of sentences.
const SENTENCE_TOKENS: f32 = 25.0;
/// Consecutive question terms at most this many tokens apart count as a pair (`pairs`).
const PAIR_DISTANCE: usize = 3;

/// The kind of answer a question asks for, from its wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerType {
    /// "when", "what year", "which century"…
    Time,
    /// "how many", "how much", "what percentage"…
    Quantity,
    Other,
}

impl AnswerType {
    pub fn of(question: &str) -> AnswerType {
        let q = question.to_lowercase();
        let words: Vec<&str> = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has_pair =
            |a: &str, bs: &[&str]| words.windows(2).any(|w| w[0] == a && bs.contains(&w[1]));
        if words.contains(&"when")
            || has_pair(
                "what",
                &["year", "years", "century", "decade", "date", "month"],
            )
            || has_pair(
                "which",
                &["year", "years", "century", "decade", "date", "month"],
            )
        {
            AnswerType::Time
        } else if has_pair(
            "how",
            &[
                "many", "much", "long", "old", "far", "large", "big", "high", "tall", "often",
            ],
        ) || has_pair(
            "what",
            &["percentage", "percent", "proportion", "number", "amount"],
        ) {
            AnswerType::Quantity
        } else {
            AnswerType::Other
        }
    }

    /// Whether `text` holds an answer of this kind.
    fn found_in(self, text: &str) -> bool {
        match self {
            AnswerType::Time => text.split(|c: char| !c.is_alphanumeric()).any(is_year_like),
            AnswerType::Quantity => {
                text.chars().any(|c| c.is_ascii_digit())
                    || text
                        .split(|c: char| !c.is_alphabetic())
                        .any(|w| NUMBER_WORDS.contains(&w.to_lowercase().as_str()))
            }
            AnswerType::Other => false,
        }
    }
}

const NUMBER_WORDS: &[&str] = &[
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "hundred",
    "hundreds",
    "thousand",
    "thousands",
    "million",
    "millions",
    "billion",
    "billions",
    "dozen",
    "half",
    "quarter",
];

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A year (3–4 digits, optionally with a decade's "s"), a century, or a month name.
fn is_year_like(word: &str) -> bool {
    let digits = word.trim_end_matches('s');
    let is_year = (3..=4).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
    let lower = word.to_lowercase();
    is_year || MONTHS.contains(&lower.as_str()) || lower == "century" || lower == "centuries"
}

/// The years a decade or century of a question spans: "seventies" and "70s" (the
/// twentieth century's, as everyday English means them), "1970s", "1800s" (a century, as
/// "the 1800s" is said; "2000s" is a decade) and "19th" or "nineteenth" before
/// "century". Members name a time so far more often than by the years a briefing gives
/// ("why did support grow in the seventies" of a paragraph on 1974 and 1978).
fn era(word: &str, next: Option<&str>) -> Option<std::ops::RangeInclusive<u16>> {
    const DECADES: [&str; 8] = [
        "twenties",
        "thirties",
        "forties",
        "fifties",
        "sixties",
        "seventies",
        "eighties",
        "nineties",
    ];
    if let Some(i) = DECADES.iter().position(|&d| d == word) {
        let start = 1920 + 10 * i as u16;
        return Some(start..=start + 9);
    }
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(digits) = word.strip_suffix('s').filter(|d| all_digits(d)) {
        let n: u16 = digits.parse().ok()?;
        return match digits.len() {
            2 if n.is_multiple_of(10) && n >= 10 => Some(1900 + n..=1909 + n),
            4 if n.is_multiple_of(100) && n != 2000 => Some(n..=n + 99),
            4 if n.is_multiple_of(10) => Some(n..=n + 9),
            _ => None,
        };
    }
    if matches!(next, Some("century" | "centuries")) {
        // "19th" or "nineteenth" ("twenty-first" is read as "first": years 0-99, which
        // no four-digit year meets).
        let n: u16 = match ORDINALS.iter().position(|&o| o == word) {
            Some(i) => i as u16 + 1,
            None => ["st", "nd", "rd", "th"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .filter(|d| all_digits(d) && d.len() <= 2)?
                .parse()
                .ok()?,
        };
        return (1..=21)
            .contains(&n)
            .then(|| 100 * (n - 1)..=100 * (n - 1) + 99);
    }
    None
}

/// The ordinals a century is named by in words.
const ORDINALS: [&str; 20] = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
];

/// Marks a token that is not a term of the question.
const NONE: u8 = u8::MAX;
/// Marks a token that is no word of the question.
const NO_WORD: u16 = u16::MAX;

/// The question as the re-ranker sees it. Terms are numbered (at most
/// [`MAX_QUERY_TERMS`](super::analyze::MAX_QUERY_TERMS) = 32 of them), so that a set of
/// terms is a bit mask and a passage is matched against them once.
#[derive(Debug, Clone)]
pub struct QueryInfo {
    /// Distinct query terms (stems), in question order.
    pub terms: Vec<String>,
    /// BM25 IDF of each term, by term number.
    idf: Vec<f32>,
    /// Term number of each word (by word number), or [`NONE`].
    word_terms: Vec<u8>,
    /// Sum of the IDFs.
    pub total: f32,
    /// Number of the term with the highest IDF.
    rarest: Option<u8>,
    pub answer_type: AnswerType,
    /// Every word of the question (stems, stop words included) and every term, numbered:
    /// one look-up per passage token finds both its word and its term.
    words: FxHashMap<String, u16>,
    /// Adjacent word pairs of the question, as word numbers.
    bigrams: Vec<(u16, u16)>,
    /// The question's searched words as written (lowercased), with their term numbers.
    surface: FxHashMap<String, u8>,
    /// Terms written with a capital inside the question: names.
    names: u32,
    /// The question's decades and centuries ("the seventies", "1970s", "the 1800s", "19th
    /// century"), each with the word number of the term that names it: a year of the
    /// span in a passage counts as that word (see [`era`]).
    eras: Vec<(std::ops::RangeInclusive<u16>, u16)>,
    /// What BM25 searches: the terms, then the stems of their other spellings and forms
    /// ("defens" for "defence", "paid" for "pays"), each found in a passage as its
    /// term's word ([`QueryInfo::add_variants`]).
    searched: Vec<String>,
}

impl QueryInfo {
    /// `terms` are the searched terms (distinct, at most 32) and `idf` their IDF.
    pub fn new(question: &str, terms: Vec<String>, idf: &HashMap<String, f32>) -> QueryInfo {
        let terms: Vec<String> = terms.into_iter().take(32).collect();
        let weights: Vec<f32> = terms
            .iter()
            .map(|t| idf.get(t).copied().unwrap_or(0.0))
            .collect();
        let rarest = (0..terms.len())
            .max_by(|&a, &b| weights[a].total_cmp(&weights[b]))
            .map(|i| i as u8);
        let question_tokens = super::analyze::tokens(question);
        let mut words: FxHashMap<String, u16> = FxHashMap::default();
        let sequence: Vec<u16> = question_tokens
            .iter()
            .take(4 * super::analyze::MAX_QUERY_TERMS)
            .map(|t| {
                let next = words.len() as u16;
                *words.entry(t.stem.to_string()).or_insert(next)
            })
            .collect();
        // A term from past the words kept above (a very long question) still gets a number.
        for t in &terms {
            let next = words.len() as u16;
            words.entry(t.clone()).or_insert(next);
        }
        let mut word_terms = vec![NONE; words.len()];
        for (i, t) in terms.iter().enumerate() {
            word_terms[usize::from(words[t])] = i as u8;
        }
        let term_of = |stem: &str| words.get(stem).map(|&w| word_terms[usize::from(w)]);
        let mut surface = FxHashMap::default();
        let mut names = 0u32;
        let mut eras = Vec::new();
        for (k, t) in question_tokens.iter().enumerate() {
            if let Some(i) = term_of(&t.stem).filter(|&i| i != NONE) {
                let written = &question[t.range.clone()];
                let lower = written.to_lowercase();
                let next = question_tokens
                    .get(k + 1)
                    .map(|n| question[n.range.clone()].to_lowercase());
                if let Some(span) = era(&lower, next.as_deref()) {
                    eras.push((span, words[&*t.stem]));
                }
                surface.insert(lower, i);
                if k > 0 && written.chars().next().is_some_and(char::is_uppercase) {
                    names |= 1 << i;
                }
            }
        }
        let mut bigrams: Vec<(u16, u16)> = sequence.windows(2).map(|w| (w[0], w[1])).collect();
        bigrams.sort_unstable();
        bigrams.dedup();
        QueryInfo {
            total: weights.iter().sum(),
            searched: terms.clone(),
            terms,
            idf: weights,
            word_terms,
            rarest,
            answer_type: AnswerType::of(question),
            words,
            bigrams,
            surface,
            names,
            eras,
        }
    }

    /// Finds each of `variants` (a stem and the number of the term it is another
    /// spelling or form of: [`super::spelling::variants_of_terms`]) in a passage as that
    /// term's word.
    pub fn add_variants(&mut self, variants: &[(String, usize)]) {
        for (stem, i) in variants {
            let Some(term) = self.terms.get(*i) else {
                continue;
            };
            let word = self.words[term];
            if !self.words.contains_key(stem) {
                self.words.insert(stem.clone(), word);
                self.searched.push(stem.clone());
            }
        }
    }

    /// What BM25 searches: the terms and their other spellings and forms.
    pub fn searched(&self) -> &[String] {
        &self.searched
    }

    /// Each searched word as written in the question (lower-cased), with its term number.
    pub fn written_terms(&self) -> impl Iterator<Item = (&str, usize)> + '_ {
        self.surface
            .iter()
            .map(|(w, &i)| (w.as_str(), usize::from(i)))
    }

    /// Term number `i`'s share of the question's IDF (0 to 1).
    pub fn idf_share(&self, i: usize) -> f32 {
        match self.idf.get(i) {
            Some(&w) if self.total > 0.0 => w / self.total,
            _ => 0.0,
        }
    }

    /// Whether term number `i` is written with a capital inside the question (a name).
    pub fn is_name(&self, i: usize) -> bool {
        i < 32 && self.names & (1 << i) != 0
    }

    /// Word number of each token (or [`NO_WORD`]).
    fn word_numbers(&self, tokens: &[Token]) -> Vec<u16> {
        tokens
            .iter()
            .map(|t| match self.words.get(&*t.stem) {
                Some(&w) => w,
                None if !self.eras.is_empty() => self.era_word(&t.stem).unwrap_or(NO_WORD),
                None => NO_WORD,
            })
            .collect()
    }

    /// The word number of the question's era that a passage's year ("1974", "1970s")
    /// falls in.
    fn era_word(&self, stem: &str) -> Option<u16> {
        let digits = stem.strip_suffix('s').unwrap_or(stem);
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year: u16 = digits.parse().ok()?;
        self.eras
            .iter()
            .find(|(span, _)| span.contains(&year))
            .map(|&(_, w)| w)
    }

    /// Term number of each word number (or [`NONE`]).
    fn terms_of(&self, words: &[u16]) -> Vec<u8> {
        words
            .iter()
            .map(|&w| self.word_terms.get(usize::from(w)).copied().unwrap_or(NONE))
            .collect()
    }

    /// Term number of each token (or [`NONE`]).
    fn marks(&self, tokens: &[Token]) -> Vec<u8> {
        self.terms_of(&self.word_numbers(tokens))
    }

    /// The set of terms among marks, as a bit mask.
    fn mask(marks: &[u8]) -> u32 {
        marks
            .iter()
            .filter(|&&m| m != NONE)
            .fold(0, |acc, &m| acc | (1 << m))
    }

    /// IDF mass of a set of terms, as a share of the question's.
    fn share(&self, mask: u32) -> f32 {
        if self.total <= 0.0 {
            return 0.0;
        }
        let mut sum = 0.0;
        let mut bits = mask;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            sum += self.idf[i];
            bits &= bits - 1;
        }
        sum / self.total
    }
}

/// What the re-ranker knows of one passage.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub features: [f32; FEATURES],
    /// Share of the question's IDF mass found in the text, title or section.
    pub coverage: f32,
    /// Byte range of the sentence that carries the most of the question.
    pub best_sentence: Range<usize>,
    /// Byte ranges of the tokens that are terms of the question, in order.
    pub highlights: Vec<Range<usize>>,
    /// The question's terms found in the text, title or section, as a bit mask by term
    /// number (the order of [`QueryInfo::terms`]).
    pub matched: u32,
    /// The question's terms found in the best sentence, likewise.
    pub sentence_matched: u32,
}

/// What the caller knows of a candidate before its text is analysed: its BM25 score and
/// its briefing's summed score, both relative to the best candidate's, its raw BM25 score
/// and its BM25 rank (0 for the first).
#[derive(Debug, Clone, Copy)]
pub struct Prior {
    pub bm25: f32,
    pub raw_bm25: f32,
    pub briefing: f32,
    pub rank: usize,
}

/// A sentence of a passage: its trimmed byte range and its tokens' indices.
struct Sentence {
    bytes: Range<usize>,
    tokens: Range<usize>,
}

fn sentences(text: &str, tokens: &[Token]) -> Vec<Sentence> {
    let mut next = 0;
    super::analyze::sentences(text)
        .into_iter()
        .map(|bytes| {
            while next < tokens.len() && tokens[next].range.start < bytes.start {
                next += 1;
            }
            let first = next;
            while next < tokens.len() && tokens[next].range.start < bytes.end {
                next += 1;
            }
            Sentence {
                bytes,
                tokens: first..next,
            }
        })
        .collect()
}

/// Computes the features of one passage; `context` holds the tokens of its title and
/// section.
pub fn evidence(
    query: &QueryInfo,
    text: &str,
    tokens: &[Token],
    context: &[Token],
    prior: Prior,
) -> Evidence {
    let words = query.word_numbers(tokens);
    let marks = query.terms_of(&words);
    let context_mask = QueryInfo::mask(&query.marks(context));
    let text_mask = QueryInfo::mask(&marks);
    let coverage = query.share(text_mask | context_mask);
    let sentences = sentences(text, tokens);
    let (best_sentence, sentence_share, sentence_matched) =
        best_sentence(query, &sentences, &marks, text.len());
    let rarest = query
        .rarest
        .is_some_and(|r| (text_mask | context_mask) & (1 << r) != 0);
    let answer_type = query.answer_type.found_in(&text[best_sentence.clone()]);
    Evidence {
        features: [
            prior.bm25,
            coverage,
            sentence_share,
            window(query, &marks, WINDOW),
            pairs(query, &marks),
            f32::from(u8::from(rarest)),
            f32::from(u8::from(answer_type)),
            prior.briefing,
            query.share(context_mask),
            phrase(query, &words),
            1.0 / (1.0 + prior.rank as f32),
            if query.total > 0.0 {
                prior.raw_bm25 / query.total
            } else {
                0.0
            },
            sentence_bm25(query, &sentences, &marks),
            window(query, &marks, NEAR),
            exact(query, text, tokens, &marks),
            if query.names != 0 {
                query.share((text_mask | context_mask) & query.names) / query.share(query.names)
            } else {
                0.0
            },
            tokens.len().min(400) as f32 / 400.0,
            // Set by the engine when a model is in use.
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
        ],
        coverage,
        best_sentence,
        highlights: tokens
            .iter()
            .zip(&marks)
            .filter(|(_, m)| **m != NONE)
            .map(|(t, _)| t.range.clone())
            .collect(),
        matched: text_mask | context_mask,
        sentence_matched,
    }
}

/// The sentence with the largest share of the question's IDF mass (the first on a tie),
/// that share and its terms' mask; the whole text when it has no sentence.
fn best_sentence(
    query: &QueryInfo,
    sentences: &[Sentence],
    marks: &[u8],
    len: usize,
) -> (Range<usize>, f32, u32) {
    let mut best: Option<(f32, Range<usize>, u32)> = None;
    for s in sentences {
        let mask = QueryInfo::mask(&marks[s.tokens.clone()]);
        let share = query.share(mask);
        if best.as_ref().is_none_or(|(b, _, _)| share > *b) {
            best = Some((share, s.bytes.clone(), mask));
        }
    }
    match best {
        Some((share, range, mask)) => (range, share, mask),
        None => (0..len, 0.0, 0),
    }
}

/// The best BM25 score of a single sentence (sentences as documents), relative to the
/// most a sentence could score.
fn sentence_bm25(query: &QueryInfo, sentences: &[Sentence], marks: &[u8]) -> f32 {
    if query.total <= 0.0 {
        return 0.0;
    }
    let mut tf = vec![0u32; query.terms.len()];
    let mut best = 0.0f32;
    for s in sentences {
        tf.iter_mut().for_each(|x| *x = 0);
        for &m in &marks[s.tokens.clone()] {
            if m != NONE {
                tf[m as usize] += 1;
            }
        }
        let norm = K1 * (1.0 - B + B * s.tokens.len() as f32 / SENTENCE_TOKENS);
        let score: f32 = tf
            .iter()
            .zip(&query.idf)
            .map(|(&n, idf)| {
                let n = n as f32;
                idf * n * (K1 + 1.0) / (n + norm)
            })
            .sum();
        best = best.max(score);
    }
    best / (query.total * (K1 + 1.0))
}

/// The largest share of the question's IDF mass found within any `size` tokens.
fn window(query: &QueryInfo, marks: &[u8], size: usize) -> f32 {
    let hits: Vec<(usize, u8)> = marks
        .iter()
        .enumerate()
        .filter(|(_, m)| **m != NONE)
        .map(|(i, m)| (i, *m))
        .collect();
    let mut best = 0u32;
    let mut best_share = 0.0f32;
    for (k, &(start, _)) in hits.iter().enumerate() {
        let mask = hits[k..]
            .iter()
            .take_while(|(i, _)| *i < start + size)
            .fold(0u32, |acc, (_, m)| acc | (1 << m));
        if mask != best {
            let share = query.share(mask);
            if share > best_share {
                best_share = share;
                best = mask;
            }
        }
    }
    best_share
}

/// IDF share of the question's terms found in the passage written exactly as in the
/// question (not only sharing a stem).
fn exact(query: &QueryInfo, text: &str, tokens: &[Token], marks: &[u8]) -> f32 {
    let mut mask = 0u32;
    for (t, &m) in tokens.iter().zip(marks) {
        if m != NONE
            && mask & (1 << m) == 0
            && query.surface.get(&text[t.range.clone()].to_lowercase()) == Some(&m)
        {
            mask |= 1 << m;
        }
    }
    query.share(mask)
}

/// Share of the question's adjacent word pairs (stop words included) that stand
/// adjacent in the passage too: the question borrowing the passage's phrasing.
/// `words` are the passage's word numbers ([`QueryInfo::word_numbers`]).
fn phrase(query: &QueryInfo, words: &[u16]) -> f32 {
    if query.bigrams.is_empty() {
        return 0.0;
    }
    let mut seen = vec![false; query.bigrams.len()];
    for w in words.windows(2) {
        if w[0] != NO_WORD
            && w[1] != NO_WORD
            && let Ok(i) = query.bigrams.binary_search(&(w[0], w[1]))
        {
            seen[i] = true;
        }
    }
    seen.iter().filter(|&&s| s).count() as f32 / query.bigrams.len() as f32
}

/// Share of consecutive question-term pairs found at most [`PAIR_DISTANCE`] tokens apart.
fn pairs(query: &QueryInfo, marks: &[u8]) -> f32 {
    let n = query.terms.len();
    if n < 2 {
        return 0.0;
    }
    let mut last_seen = vec![usize::MAX; n];
    let mut close = vec![false; n - 1];
    for (pos, &m) in marks.iter().enumerate() {
        if m == NONE {
            continue;
        }
        let m = m as usize;
        last_seen[m] = pos;
        // The pair (m-1, m) and the pair (m, m+1), each within the distance.
        for (pair, other) in [(m.wrapping_sub(1), m.wrapping_sub(1)), (m, m + 1)] {
            if pair < n - 1
                && other < n
                && last_seen[other] != usize::MAX
                && pos - last_seen[other] <= PAIR_DISTANCE
            {
                close[pair] = true;
            }
        }
    }
    close.iter().filter(|&&c| c).count() as f32 / (n - 1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::analyze::{query_terms, tokens};

    fn query(question: &str, idf: &[(&str, f32)]) -> QueryInfo {
        let terms = query_terms(question, true);
        let idf = terms
            .iter()
            .map(|t| {
                let w = idf.iter().find(|(k, _)| k == t).map_or(1.0, |(_, w)| *w);
                (t.clone(), w)
            })
            .collect();
        QueryInfo::new(question, terms, &idf)
    }

    /// The prior of the first BM25 candidate.
    fn prior() -> Prior {
        Prior {
            bm25: 1.0,
            raw_bm25: 1.0,
            briefing: 1.0,
            rank: 0,
        }
    }

    #[test]
    fn answer_types() {
        assert_eq!(AnswerType::of("When did the war end?"), AnswerType::Time);
        assert_eq!(
            AnswerType::of("In what year was it built?"),
            AnswerType::Time
        );
        assert_eq!(
            AnswerType::of("How many agreements were signed?"),
            AnswerType::Quantity
        );
        assert_eq!(
            AnswerType::of("What percentage of GDP?"),
            AnswerType::Quantity
        );
        assert_eq!(AnswerType::of("Who leads the command?"), AnswerType::Other);
        assert!(AnswerType::Time.found_in("It ended in 1945."));
        assert!(AnswerType::Time.found_in("in the 1960s"));
        assert!(AnswerType::Time.found_in("On April 10, they met."));
        assert!(!AnswerType::Time.found_in("They met twice."));
        assert!(AnswerType::Quantity.found_in("about 70 agreements"));
        assert!(AnswerType::Quantity.found_in("two sides"));
        assert!(!AnswerType::Quantity.found_in("several sides"));
    }

    #[test]
    fn eras_span_their_years() {
        assert_eq!(era("seventies", None), Some(1970..=1979));
        assert_eq!(era("twenties", Some("century")), Some(1920..=1929));
        assert_eq!(era("70s", None), Some(1970..=1979));
        assert_eq!(era("1970s", None), Some(1970..=1979));
        assert_eq!(era("1800s", None), Some(1800..=1899));
        assert_eq!(era("2000s", None), Some(2000..=2009));
        assert_eq!(era("19th", Some("century")), Some(1800..=1899));
        assert_eq!(era("21st", Some("centuries")), Some(2000..=2099));
        assert_eq!(era("nineteenth", Some("century")), Some(1800..=1899));
        assert_eq!(era("twentieth", Some("century")), Some(1900..=1999));
        assert_eq!(era("nineteenth", Some("amendment")), None);
        assert_eq!(era("19th", Some("amendment")), None);
        assert_eq!(era("1974", None), None);
        assert_eq!(era("75s", None), None);
        assert_eq!(era("boots", None), None);
        assert_eq!(era("s", None), None);
    }

    #[test]
    fn a_year_of_the_era_asked_about_is_found_as_its_word() {
        let q = query(
            "why did support for independence grow in the seventies",
            &[],
        );
        let covered = |text: &str| {
            let e = evidence(&q, text, &tokens(text), &[], prior());
            (e.coverage, e.highlights.len())
        };
        let (in_span, in_marks) = covered("Support for independence rose in 1974 and 1978.");
        let (outside, out_marks) = covered("Support for independence rose in 1984 and 1988.");
        assert!(in_span > outside, "{in_span} vs {outside}");
        assert_eq!((in_marks, out_marks), (4, 2));
        // A question naming no era matches no year.
        let plain = query("support for independence", &[]);
        let text = "Support for independence rose in 1974.";
        let words = plain.word_numbers(&tokens(text));
        assert_eq!(words.iter().filter(|&&w| w != NO_WORD).count(), 3);
    }

    #[test]
    fn close_terms_score_higher_than_scattered_ones() {
        let q = query("new command headquarters", &[]);
        let close = "The new command headquarters opens. Other words follow here.";
        let far = "The new plan is old. Many other words stand between the two of them. \
                   A command exists, said to be one of several that the army keeps ready. \
                   More filler words stand here and there before the end. Finally headquarters.";
        let (tc, tf) = (tokens(close), tokens(far));
        let (mc, mf) = (q.marks(&tc), q.marks(&tf));
        assert_eq!(pairs(&q, &mc), 1.0);
        assert_eq!(pairs(&q, &mf), 0.0);
        assert!(window(&q, &mc, WINDOW) > window(&q, &mf, WINDOW));
        assert_eq!(phrase(&q, &q.word_numbers(&tc)), 1.0);
        assert_eq!(phrase(&q, &q.word_numbers(&tf)), 0.0);
    }

    #[test]
    fn a_term_far_into_a_long_question_is_still_found() {
        let question = format!("{} zebra", "the ".repeat(200));
        let q = query(&question, &[]);
        assert_eq!(q.terms, ["zebra"]);
        let text = "A zebra ran.";
        let prior = prior();
        let e = evidence(&q, text, &tokens(text), &[], prior);
        assert_eq!(e.coverage, 1.0);
        assert_eq!(e.highlights, std::slice::from_ref(&(2..7)));
    }

    #[test]
    fn sentence_share_and_rarest_term() {
        let q = query(
            "J-JOC commander rank",
            &[("j", 5.0), ("joc", 5.0), ("command", 1.0), ("rank", 1.0)],
        );
        let text = "A general has a rank. The J-JOC is led by its commander.";
        let toks = tokens(text);
        let prior = prior();
        let e = evidence(&q, text, &toks, &[], prior);
        assert_eq!(
            &text[e.best_sentence.clone()],
            "The J-JOC is led by its commander."
        );
        assert!(
            (e.features[2] - 11.0 / 12.0).abs() < 1e-6,
            "{:?}",
            e.features
        );
        assert_eq!(e.features[5], 1.0);
        assert!((e.coverage - 1.0).abs() < 1e-6);
    }
}
