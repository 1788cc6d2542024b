//! Text analysis for questions and passages: which words of a question are searched, and
//! where the searched words stand in a passage.

use std::ops::Range;

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, TokenStream,
};

use crate::index::analyzer;

/// Question words and Lucene's 33 English stop words: they say what kind of answer is
/// wanted, not where it is, so they are left out of the query.
const STOP_WORDS: &[&str] = &[
    // question words
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "do", "does", "did",
    // words that ask for a name, a kind or an amount
    "many", "much", "name", "called", "named", "kind", "type",
    // Lucene's English stop words
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// Whether `word` (lower-cased) is a question word or a stop word, left out of queries.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// At most this many distinct terms of a question are searched (a pasted essay must not
/// cost more than a question).
pub const MAX_QUERY_TERMS: usize = 32;

/// Splits, lowercases and folds, without stemming: the words as written.
fn word_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The distinct index terms (stems) of a question, in order of first appearance.
/// With `drop_stop_words`, stop words and question words are left out unless nothing
/// else is left.
pub fn query_terms(question: &str, drop_stop_words: bool) -> Vec<String> {
    let mut words = Vec::new();
    let mut stream_analyzer = word_analyzer();
    let mut stream = stream_analyzer.token_stream(question);
    while let Some(token) = stream.next() {
        words.push(token.text.clone());
    }
    let kept: Vec<&String> = if drop_stop_words {
        let content: Vec<&String> = words
            .iter()
            .filter(|w| !STOP_WORDS.contains(&w.as_str()))
            .collect();
        if content.is_empty() {
            words.iter().collect()
        } else {
            content
        }
    } else {
        words.iter().collect()
    };
    let mut stemmer = analyzer();
    let mut terms: Vec<String> = Vec::new();
    for word in kept {
        let mut stream = stemmer.token_stream(word);
        while let Some(token) = stream.next() {
            if !terms.contains(&token.text) {
                terms.push(token.text.clone());
            }
        }
        if terms.len() >= MAX_QUERY_TERMS {
            break;
        }
    }
    terms.truncate(MAX_QUERY_TERMS);
    terms
}

/// Words after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "eg", "ie", "no", "gen", "col",
    "lt", "sgt", "capt", "sen", "rep", "gov", "pres", "inc", "ltd", "co", "corp", "dept", "univ",
    "approx", "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "mt", "ft", "ca", "cf", "al",
];

/// Byte ranges of the sentences of a paragraph, trimmed of white space.
///
/// A sentence ends at `.`, `!`, `?` or `…` (and any closing quotes or brackets after it)
/// followed by white space and a capital letter, a digit or an opening quote — unless the
/// full stop closes an initial ("J.", "U.S.") or a common abbreviation ("Dr.", "e.g.").
/// Simpler than Unicode's sentence rules, several times faster, and right about initials.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        // Swallow repeated terminators and closing quotes or brackets.
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if matches!(
                d,
                '.' | '!' | '?' | '…' | '"' | '\'' | '”' | '’' | ')' | ']'
            ) {
                end = j + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let rest = &text[end..];
        let after_space = rest.trim_start();
        if after_space.len() == rest.len() || after_space.is_empty() {
            continue;
        }
        let next = after_space.chars().next().unwrap_or(' ');
        if !(next.is_uppercase()
            || next.is_ascii_digit()
            || matches!(next, '"' | '“' | '‘' | '(' | '\''))
        {
            continue;
        }
        if c == '.' && is_abbreviation(&text[start..i]) {
            continue;
        }
        push_trimmed(&mut out, text, start, end);
        start = end;
    }
    push_trimmed(&mut out, text, start, bytes.len());
    out
}

/// Whether the word just before a full stop is an initial or an abbreviation.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"')
        .next()
        .unwrap_or("");
    let last = word.rsplit('.').next().unwrap_or(word);
    let mut letters = last.chars();
    let single_capital =
        matches!((letters.next(), letters.next()), (Some(c), None) if c.is_uppercase());
    single_capital
        || word.contains('.')
        || ABBREVIATIONS.contains(&word.to_lowercase().replace('.', "").as_str())
}

fn push_trimmed(out: &mut Vec<Range<usize>>, text: &str, start: usize, end: usize) {
    let piece = &text[start..end];
    let s = start + (piece.len() - piece.trim_start().len());
    let e = start + piece.trim_end().len();
    if s < e {
        out.push(s..e);
    }
}

/// A token of a passage: its stem and its byte range in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Shared with the stem cache: cloning a token copies no text.
    pub stem: std::sync::Arc<str>,
    pub range: Range<usize>,
}

/// The tokens of a text, with byte offsets into it: exactly what the index's analyzer
/// makes of it, with the stems of words seen before taken from a cache.
pub fn tokens(text: &str) -> Vec<Token> {
    thread_local! {
        static TOKENIZER: std::cell::RefCell<Tokenizer> = std::cell::RefCell::new(Tokenizer::new());
    }
    TOKENIZER.with(|t| t.borrow_mut().tokens(text))
}

/// Splits like the index's analyzer, then stems each word through a cache: stemming is
/// most of the cost of analysing a passage, and a few thousand words make most of any
/// text. The cache is cleared when it grows past [`STEM_CACHE`] words.
struct Tokenizer {
    words: TextAnalyzer,
    stemmer: TextAnalyzer,
    stems: rustc_hash::FxHashMap<String, std::sync::Arc<str>>,
}

/// Most words a thread's stem cache holds.
const STEM_CACHE: usize = 100_000;

impl Tokenizer {
    fn new() -> Tokenizer {
        Tokenizer {
            words: word_analyzer(),
            stemmer: TextAnalyzer::builder(tantivy::tokenizer::RawTokenizer::default())
                .filter(tantivy::tokenizer::Stemmer::new(
                    tantivy::tokenizer::Language::English,
                ))
                .build(),
            stems: rustc_hash::FxHashMap::default(),
        }
    }

    fn tokens(&mut self, text: &str) -> Vec<Token> {
        let mut out = Vec::with_capacity(text.len() / 5);
        let mut stream = self.words.token_stream(text);
        while let Some(t) = stream.next() {
            let stem = match self.stems.get(&t.text) {
                Some(stem) => stem.clone(),
                None => {
                    let mut s = self.stemmer.token_stream(&t.text);
                    let stem: std::sync::Arc<str> = match s.next() {
                        Some(st) => st.text.as_str().into(),
                        None => t.text.as_str().into(),
                    };
                    if self.stems.len() >= STEM_CACHE {
                        self.stems.clear();
                    }
                    self.stems.insert(t.text.clone(), stem.clone());
                    stem
                }
            };
            out.push(Token {
                stem,
                range: t.offset_from..t.offset_to,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_words_are_dropped_and_terms_stemmed() {
        assert_eq!(query_terms("What is J-JOC?", true), ["j", "joc"]);
        assert_eq!(
            query_terms("Which countries are defending?", true),
            ["countri", "defend"]
        );
        assert_eq!(query_terms("What is it?", true), ["what", "is", "it"]);
        assert_eq!(query_terms("What is it?", false), ["what", "is", "it"]);
    }

    #[test]
    fn query_syntax_is_just_words() {
        assert_eq!(
            query_terms("title:x AND (\"y\" OR z*)~2^3 NOT", true),
            ["titl", "x", "y", "z", "2", "3"]
        );
        assert!(query_terms("?!: ()", true).is_empty());
    }

    #[test]
    fn sentences_split_at_full_stops_but_not_after_initials() {
        let text = "On April 10, U.S. President Joe Biden met Mr. Kishida. They agreed (again). \
                    \"Good,\" he said! In 2027 spending rises… Dr. J. Smith wrote e.g. this. end";
        let got: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            got,
            [
                "On April 10, U.S. President Joe Biden met Mr. Kishida.",
                "They agreed (again).",
                "\"Good,\" he said!",
                "In 2027 spending rises…",
                "Dr. J. Smith wrote e.g. this. end",
            ]
        );
        assert!(sentences("").is_empty());
        assert_eq!(sentences("  one  "), std::slice::from_ref(&(2..5)));
    }

    #[test]
    fn cached_stems_match_the_index_analyzer() {
        let text = "Defenses defended; the Japanese J-JOC's commanders’ café, running runners ran.";
        let mut reference = analyzer();
        let mut stream = reference.token_stream(text);
        let mut expected = Vec::new();
        while let Some(t) = stream.next() {
            expected.push((t.text.clone(), t.offset_from..t.offset_to));
        }
        for _ in 0..2 {
            let got: Vec<(String, Range<usize>)> = tokens(text)
                .into_iter()
                .map(|t| (t.stem.to_string(), t.range))
                .collect();
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn terms_are_capped() {
        let long: String = (0..1000).map(|i| format!("word{i} ")).collect();
        assert_eq!(query_terms(&long, true).len(), MAX_QUERY_TERMS);
    }

    #[test]
    fn token_offsets_point_into_the_text() {
        let text = "Café Kishida’s defenses";
        let toks = tokens(text);
        let words: Vec<_> = toks.iter().map(|t| &text[t.range.clone()]).collect();
        assert_eq!(words, ["Café", "Kishida", "s", "defenses"]);
        assert_eq!(&*toks[0].stem, "cafe");
    }
}
