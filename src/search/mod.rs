//! Search: a question in plain words → ranked hits, each with its matched words and the
//! sentence that best answers the question.
//!
//! The question is never parsed as query syntax: it is split into words, so quotes,
//! colons, brackets or `AND` cannot cause an error. One [`Engine`] per index version is
//! shared by every caller (it is `Send + Sync`); each search takes a fresh searcher.

pub mod analyze;

use std::collections::HashMap;
use std::ops::Range;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};
use unicode_segmentation::UnicodeSegmentation;

use crate::config::Settings;
use crate::index::{Fields, Manifest, OpenIndex};
use crate::ingest::Passage;

/// Which ranking to use: the full one, or plain BM25 for comparison (`eval --ranking bm25`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Ranking {
    /// Everything enabled in `[search]`.
    #[default]
    Full,
    /// BM25 over every word of the question, nothing else.
    Bm25,
}

/// How questions are searched; from `[search]` and `[index]`.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub ranking: Ranking,
    pub drop_stop_words: bool,
    pub title_boost: f32,
}

impl SearchOptions {
    pub fn from_settings(settings: &Settings, ranking: Ranking) -> SearchOptions {
        SearchOptions {
            ranking,
            drop_stop_words: settings.search.drop_stop_words,
            title_boost: settings.search.title_boost,
        }
    }
}

/// A passage found for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub passage: Passage,
    pub score: f32,
    /// Byte ranges of the matched words in `passage.text`, in order, not overlapping.
    pub highlights: Vec<Range<usize>>,
    /// Byte range in `passage.text` of the sentence that best matches the question.
    pub best_sentence: Range<usize>,
    /// Share (0–1) of the question's IDF-weighted terms found in the passage, its title
    /// or its section.
    pub coverage: f32,
}

/// Errors of a search (the question itself can never cause one).
#[derive(Debug, thiserror::Error)]
#[error("searching the index failed: {0}")]
pub struct SearchError(#[from] tantivy::TantivyError);

/// Searches one opened index version.
pub struct Engine {
    reader: IndexReader,
    fields: Fields,
    manifest: Manifest,
    options: SearchOptions,
}

impl Engine {
    pub fn new(open: OpenIndex, options: SearchOptions) -> Result<Engine, SearchError> {
        let reader = open
            .index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Engine {
            reader,
            fields: open.fields,
            manifest: open.manifest,
            options,
        })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn options(&self) -> &SearchOptions {
        &self.options
    }

    /// The `limit` best passages for `question`, best first; restricted to one briefing
    /// (by slug) when `briefing` is given.
    pub fn search(
        &self,
        question: &str,
        limit: usize,
        briefing: Option<&str>,
    ) -> Result<Vec<Hit>, SearchError> {
        let drop = self.options.ranking == Ranking::Full && self.options.drop_stop_words;
        let terms = analyze::query_terms(question, drop);
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let query = self.query(&terms, briefing);
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let idf = self.idf(&searcher, &terms)?;
        top.into_iter()
            .map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(address)?;
                let passage = crate::index::passage_of(&self.fields, &doc);
                Ok(self.describe(passage, score, &idf))
            })
            .collect()
    }

    fn query(&self, terms: &[String], briefing: Option<&str>) -> Box<dyn Query> {
        let f = &self.fields;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in terms {
            should.push((Occur::Should, term_query(f.body, t)));
            if !self.manifest.title_in_body && self.options.title_boost > 0.0 {
                for field in [f.title, f.section] {
                    let q = BoostQuery::new(term_query(field, t), self.options.title_boost);
                    should.push((Occur::Should, Box::new(q)));
                }
            }
        }
        let words: Box<dyn Query> = Box::new(BooleanQuery::new(should));
        match briefing {
            None => words,
            Some(slug) => {
                let slug = Term::from_field_text(f.slug, slug);
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, words),
                    (
                        Occur::Must,
                        Box::new(TermQuery::new(slug, IndexRecordOption::Basic)),
                    ),
                ]))
            }
        }
    }

    /// BM25's inverse document frequency of each term, over the body field.
    fn idf(
        &self,
        searcher: &Searcher,
        terms: &[String],
    ) -> Result<HashMap<String, f32>, SearchError> {
        let n = searcher.num_docs() as f32;
        terms
            .iter()
            .map(|t| {
                let df = searcher.doc_freq(&Term::from_field_text(self.fields.body, t))? as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                Ok((t.clone(), idf))
            })
            .collect()
    }

    /// Highlights, best sentence and coverage of a passage for the question's terms.
    fn describe(&self, passage: Passage, score: f32, idf: &HashMap<String, f32>) -> Hit {
        let tokens = analyze::tokens(&passage.text);
        let highlights: Vec<Range<usize>> = tokens
            .iter()
            .filter(|t| idf.contains_key(&t.stem))
            .map(|t| t.range.clone())
            .collect();
        let mut present: Vec<&str> = tokens
            .iter()
            .filter(|t| idf.contains_key(&t.stem))
            .map(|t| t.stem.as_str())
            .collect();
        let extra: Vec<analyze::Token> = std::iter::once(passage.briefing.as_str())
            .chain(passage.section.as_deref())
            .flat_map(analyze::tokens)
            .collect();
        present.extend(
            extra
                .iter()
                .map(|t| t.stem.as_str())
                .filter(|s| idf.contains_key(*s)),
        );
        present.sort_unstable();
        present.dedup();
        let total: f32 = idf.values().sum();
        let found: f32 = present.iter().map(|s| idf[*s]).sum();
        let coverage = if total > 0.0 { found / total } else { 0.0 };
        let best_sentence = best_sentence(&passage.text, &tokens, idf);
        Hit {
            passage,
            score,
            highlights,
            best_sentence,
            coverage,
        }
    }

    /// The stored passage with this id.
    pub fn passage(&self, id: &str) -> Result<Option<Passage>, SearchError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        match top.first() {
            None => Ok(None),
            Some((_, address)) => {
                let doc: TantivyDocument = searcher.doc(*address)?;
                Ok(Some(crate::index::passage_of(&self.fields, &doc)))
            }
        }
    }
}

fn term_query(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

/// The sentence holding the most IDF weight of distinct question terms (the first such
/// sentence on a tie), trimmed of surrounding white space.
fn best_sentence(
    text: &str,
    tokens: &[analyze::Token],
    idf: &HashMap<String, f32>,
) -> Range<usize> {
    let mut best: Option<(f32, Range<usize>)> = None;
    for (start, sentence) in text.split_sentence_bound_indices() {
        let end = start + sentence.len();
        let mut stems: Vec<&str> = tokens
            .iter()
            .filter(|t| t.range.start >= start && t.range.end <= end)
            .filter_map(|t| idf.contains_key(&t.stem).then_some(t.stem.as_str()))
            .collect();
        stems.sort_unstable();
        stems.dedup();
        let weight: f32 = stems.iter().map(|s| idf[*s]).sum();
        let trimmed_start = start + (sentence.len() - sentence.trim_start().len());
        let trimmed_end = start + sentence.trim_end().len();
        if trimmed_start >= trimmed_end {
            continue;
        }
        if best.as_ref().is_none_or(|(w, _)| weight > *w) {
            best = Some((weight, trimmed_start..trimmed_end));
        }
    }
    best.map(|(_, r)| r).unwrap_or(0..text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_sentence_is_the_one_with_the_rare_terms() {
        let text = "The cat sat. The new command is J-JOC, led by a general. Dogs bark.";
        let idf: HashMap<String, f32> = [("j", 3.0), ("joc", 3.0), ("cat", 0.5)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let tokens = analyze::tokens(text);
        let r = best_sentence(text, &tokens, &idf);
        assert_eq!(&text[r], "The new command is J-JOC, led by a general.");
    }
}
