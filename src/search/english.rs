//! How informative a word is in English, whatever the briefings: the weight of a question's
//! word in the "not covered" decision.
//!
//! BM25's inverse document frequency says how rare a word is *in the briefings*. That is
//! what ranking wants, and the wrong thing for deciding whether the briefings cover a
//! question at all: in a library of three paragraphs, a common word the briefings happen
//! not to use ("often") gets the highest IDF there is and outweighs every word they do
//! share with the question. Here a word weighs what it tells in the language: its Zipf
//! frequency in wordfreq's English list (`data/wordfreq-en.txt`, CC BY-SA 4.0), so
//! "often" weighs little and "estuary" much, in a library of one paragraph as of a
//! million.
//!
//! The list is of words as written; the question's terms are stems. Every word of the
//! list is stemmed with the index's own analyzer and the frequencies of the words sharing
//! a stem are added up, into `data/wordfreq-en-stems.txt`, which is read on first use
//! (a test keeps it equal to what the analyzer makes of the word list).

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

/// wordfreq's English list: lines of a Zipf value followed by its words.
const LIST: &str = include_str!("../../data/wordfreq-en.txt");

/// The same list by stem (`stem zipf` lines), derived from [`LIST`] by [`stem_zipfs`].
const STEM_LIST: &str = include_str!("../../data/wordfreq-en-stems.txt");

/// The Zipf value given to a word the list does not have: the list stops at about 3 (one
/// in a million words), so an absent word is rarer than that.
const ABSENT_ZIPF: f32 = 2.5;

/// Zipf value of a term holding a digit (a year, a sum, a number): wordfreq folds digits
/// together, so a number's own frequency is not known; it is taken as a word of moderate
/// rarity.
const NUMBER_ZIPF: f32 = 3.5;

/// The most frequent word's Zipf value ("the": 7.73), rounded up: informativeness is
/// counted down from it.
const MAX_ZIPF: f32 = 8.0;

/// The Zipf frequency (log10 of occurrences per billion words) of a term (a stem made by
/// the index's analyzer).
pub fn zipf(stem: &str) -> f32 {
    if stem.chars().any(|c| c.is_ascii_digit()) {
        return NUMBER_ZIPF;
    }
    stems().get(stem).copied().unwrap_or(ABSENT_ZIPF)
}

/// How much a term tells: [`MAX_ZIPF`] minus its Zipf frequency, so "the" weighs about
/// 0.3, "often" 2.6, "flood" 3.4 and a word rarer than the list knows 5.5.
pub fn informativeness(stem: &str) -> f32 {
    (MAX_ZIPF - zipf(stem)).max(0.05)
}

/// Whether English knows `word` as written (any form of it: it is stemmed with the
/// index's analyzer and looked up among wordfreq's stems). Used to tell a word broken by
/// hyphenation at a PDF line's end from a hyphenated compound.
pub fn is_known_word(word: &str) -> bool {
    use tantivy::tokenizer::TokenStream;
    let mut analyzer = crate::index::analyzer();
    let mut stream = analyzer.token_stream(word);
    let mut known = false;
    let mut count = 0;
    while stream.advance() {
        count += 1;
        known = stems().contains_key(stream.token().text.as_str());
    }
    count == 1 && known
}

/// Whether `word` (lower-cased) is in wordfreq's list exactly as written: not any form
/// of it, as [`is_known_word`] asks, since "disastre" shares its stem with "disastrous".
/// The list is read into a set on first use (only a question with a word to look up
/// pays it: 2.3–3.2 ms, release).
pub fn is_listed(word: &str) -> bool {
    static WORDS: OnceLock<rustc_hash::FxHashSet<&'static str>> = OnceLock::new();
    WORDS
        .get_or_init(|| list().flat_map(|(_, words)| words).collect())
        .contains(word)
}

/// [`LIST`]'s lines: each Zipf value (as written) with the words of that frequency.
fn list() -> impl Iterator<Item = (&'static str, impl Iterator<Item = &'static str>)> {
    LIST.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let mut parts = line.split(' ');
            Some((parts.next()?, parts))
        })
}

fn stems() -> &'static FxHashMap<&'static str, f32> {
    static STEMS: OnceLock<FxHashMap<&'static str, f32>> = OnceLock::new();
    STEMS.get_or_init(|| {
        let lines = STEM_LIST.lines().filter(|l| !l.starts_with('#'));
        let mut map = FxHashMap::with_capacity_and_hasher(STEM_LIST.len() / 12, Default::default());
        map.extend(lines.filter_map(|line| {
            let (stem, zipf) = line.split_once(' ')?;
            Some((stem, zipf.parse().ok()?))
        }));
        map
    })
}

/// The Zipf value of every stem of [`LIST`]: each word stemmed by the index's analyzer,
/// the frequencies of the words sharing a stem added up. What `data/wordfreq-en-stems.txt`
/// holds (a test checks it), computed again here only by that test: stemming the list
/// took 63 ms (release), reading the stems takes 2.3–3.3 ms, and a one-shot `ask` pays it.
#[cfg(test)]
fn stem_zipfs() -> Vec<(String, f32)> {
    let mut per_stem: FxHashMap<String, f64> = FxHashMap::default();
    for (zipf, words) in list() {
        let Ok(zipf) = zipf.parse::<f64>() else {
            continue;
        };
        let per_billion = 10f64.powf(zipf);
        for word in words {
            for token in super::analyze::tokens(word) {
                *per_stem.entry(token.stem.to_string()).or_default() += per_billion;
            }
        }
    }
    let mut out: Vec<(String, f32)> = per_stem
        .into_iter()
        .map(|(stem, f)| (stem, f.log10() as f32))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stem(word: &str) -> String {
        super::super::analyze::tokens(word)[0].stem.to_string()
    }

    #[test]
    fn common_words_tell_less_than_rare_ones() {
        let z = |w: &str| zipf(&stem(w));
        assert!((z("the") - 7.73).abs() < 0.05, "{}", z("the"));
        assert!(z("often") > 5.0 && z("often") < 6.0);
        assert!(z("estuary") < z("flood") && z("flood") < z("often"));
        // Stems gather their words: "floods", "flooded", "flooding" all count for "flood".
        assert!(z("floods") >= z("flood") - 1e-6);
        assert_eq!(z("quillwort"), ABSENT_ZIPF);
        assert_eq!(zipf("2027"), NUMBER_ZIPF);
        let i = |w: &str| informativeness(&stem(w));
        assert!(i("quillwort") > i("estuary") && i("estuary") > i("often"));
        assert!(i("the") > 0.0);
    }

    /// The stem list is what stemming the word list with the index's analyzer gives;
    /// `BRIEFBOT_WRITE_STEMS=1 cargo test` writes it again (after a change of analyzer).
    #[test]
    fn the_stem_list_is_derived_from_the_word_list() {
        let mut derived = String::from(STEM_HEADER);
        for (stem, zipf) in stem_zipfs() {
            derived.push_str(&format!("{stem} {zipf:.3}\n"));
        }
        if std::env::var_os("BRIEFBOT_WRITE_STEMS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/wordfreq-en-stems.txt");
            std::fs::write(path, &derived).unwrap();
        }
        assert!(
            STEM_LIST == derived,
            "data/wordfreq-en-stems.txt is stale: run BRIEFBOT_WRITE_STEMS=1 cargo test --lib english"
        );
    }

    const STEM_HEADER: &str = "# Derived from data/wordfreq-en.txt (wordfreq, CC BY-SA 4.0): each word stemmed by\n\
# briefbot's index analyzer, the frequencies of a stem's words added up; `stem zipf`.\n\
# Written by `BRIEFBOT_WRITE_STEMS=1 cargo test --lib english`; do not edit.\n";
}
