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
    // Lucene's English stop words
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

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

/// A token of a passage: its stem and its byte range in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub stem: String,
    pub range: Range<usize>,
}

/// The tokens of a text, with byte offsets into it.
pub fn tokens(text: &str) -> Vec<Token> {
    let mut a = analyzer();
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while let Some(t) = stream.next() {
        out.push(Token {
            stem: t.text.clone(),
            range: t.offset_from..t.offset_to,
        });
    }
    out
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
        assert_eq!(toks[0].stem, "cafe");
    }
}
