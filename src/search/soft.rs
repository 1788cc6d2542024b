//! Soft matches: a word of the question that a paragraph lacks, where the paragraph holds
//! a near synonym instead ("railway" / "railroad", "scripture" / "bible", "hard" /
//! "difficult"). Members ask in their own words; BM25 and the lexical features count
//! such a word as missing, and the paragraph's vector alone weighs the whole paragraph,
//! not the word.
//!
//! Closeness is the cosine of the two words' input embeddings in the sentence-embedding
//! model (its own word space, without context): no second model and nothing more to
//! download or store. Only words the model holds as one whole token are compared; a
//! word it splits into pieces has no vector of its own and never matches softly.
//!
//! On squad-a, weights fitted and cross-validated by briefing (`briefbot eval --fit`), R@1 /
//! R@3 / MRR@10 .847 / .948 / .900 without it, .850 / .952 / .903 with it (README,
//! "Questions in other words").

use rustc_hash::FxHashMap;

use super::analyze;
use super::features::QueryInfo;
use crate::semantic::Model;

/// Word cosines up to this count for nothing; from it to 1 they count linearly, 0 to 1.
/// In all-MiniLM-L6-v2 unrelated words sit between about 0 and 0.15 ("railway" / "cheese"
/// 0.14), words of one field from about 0.3, synonyms higher ("jungle" / "rainforest"
/// 0.43, "hard" / "difficult" 0.62). Chosen on squad-a, weights refitted and
/// cross-validated by briefing (a throwaway numpy script over `probe_semantic`'s dump):
/// R@1 .850 at 0.3, .848 at 0.4, .846 at 0.5 (0.35 measured in-sample only: as 0.3).
const FLOOR: f32 = 0.3;

/// The soft matches of one question against its candidates: word cosines are worked out
/// once per paragraph word and kept for the next candidate.
pub struct SoftMatcher<'a> {
    model: &'a Model,
    info: &'a QueryInfo,
    /// (term number, vocabulary id) of each of the question's words the model knows.
    terms: Vec<(usize, u32)>,
    /// Each paragraph word's vocabulary id → its cosine with each of `terms` (NaN until
    /// some passage lacks that term).
    seen: FxHashMap<u32, Vec<f32>>,
}

impl<'a> SoftMatcher<'a> {
    pub fn new(model: &'a Model, info: &'a QueryInfo) -> SoftMatcher<'a> {
        let mut terms: Vec<(usize, u32)> = info
            .written_terms()
            .filter_map(|(word, i)| Some((i, model.word_id(word)?)))
            .collect();
        terms.sort_unstable();
        terms.dedup();
        SoftMatcher {
            model,
            info,
            terms,
            seen: FxHashMap::default(),
        }
    }

    /// The share of the question (by IDF, 0 to 1) that a passage holds only softly: for
    /// each term not in `matched` (the terms found word for word, as a bit mask), its IDF
    /// share times how close the closest word of `texts` (the passage, its title, its
    /// and section, each with its tokens) comes to it, past [`FLOOR`].
    pub fn score(&mut self, matched: u32, texts: &[(&str, &[analyze::Token])]) -> f32 {
        let missing: Vec<usize> = (0..self.terms.len())
            .filter(|&k| {
                let i = self.terms[k].0;
                i >= 32 || matched & (1 << i) == 0
            })
            .collect();
        if missing.is_empty() {
            return 0.0;
        }
        let mut best = vec![0.0f32; self.terms.len()];
        for &(text, tokens) in texts {
            for token in tokens {
                let word = text[token.range.clone()].to_lowercase();
                if word.len() < 3
                    || !word.chars().all(char::is_alphabetic)
                    || analyze::is_stop_word(&word)
                {
                    continue;
                }
                let Some(id) = self.model.word_id(&word) else {
                    continue;
                };
                // Worked out only for the terms some passage lacks (NaN: not yet).
                let cosines = self
                    .seen
                    .entry(id)
                    .or_insert_with(|| vec![f32::NAN; self.terms.len()]);
                for &k in &missing {
                    if cosines[k].is_nan() {
                        cosines[k] = self.model.word_cosine(self.terms[k].1, id);
                    }
                    best[k] = best[k].max(cosines[k]);
                }
            }
        }
        // A term written two ways counts once, by its closer form.
        let mut per_term = vec![0.0f32; self.info.terms.len()];
        for &k in &missing {
            let closeness = ((best[k] - FLOOR) / (1.0 - FLOOR)).max(0.0);
            let i = self.terms[k].0;
            per_term[i] = per_term[i].max(closeness);
        }
        per_term
            .iter()
            .enumerate()
            .map(|(i, c)| self.info.idf_share(i) * c)
            .sum()
    }
}
