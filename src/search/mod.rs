//! Search: a question in plain words → ranked hits, each with its matched words and the
//! sentence that best answers the question.
//!
//! The question is never parsed as query syntax: it is split into words, so quotes,
//! colons, brackets or `AND` cannot cause an error. One [`Engine`] per index version is
//! shared by every caller (it is `Send + Sync`); each search takes a fresh searcher.

pub mod analyze;
pub mod english;
pub mod features;
pub mod verdict;

pub use features::{DEFAULT_WEIGHTS, FEATURE_NAMES, FEATURES};

use std::collections::HashMap;
use std::ops::Range;

use crate::config::Settings;
use crate::index::{Fields, Manifest, OpenIndex};
use crate::ingest::Passage;
use features::QueryInfo;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

/// Which ranking to use: the full one, or plain BM25 for comparison (`eval --ranking bm25`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Ranking {
    /// Everything enabled in `[search]`.
    #[default]
    Full,
    /// BM25 over every word of the question, nothing else.
    Bm25,
}

impl Ranking {
    pub fn name(self) -> &'static str {
        match self {
            Ranking::Full => "full",
            Ranking::Bm25 => "bm25",
        }
    }
}

/// How questions are searched; from `[search]` and `[index]`.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub ranking: Ranking,
    pub drop_stop_words: bool,
    pub title_boost: f32,
    pub rerank: bool,
    pub candidates: usize,
    pub weights: [f32; FEATURES],
    /// How the "not covered" decision is made.
    pub rule: verdict::Rule,
}

impl SearchOptions {
    pub fn from_settings(settings: &Settings, ranking: Ranking) -> SearchOptions {
        let s = &settings.search;
        SearchOptions {
            ranking,
            drop_stop_words: s.drop_stop_words,
            title_boost: s.title_boost,
            rerank: s.rerank,
            candidates: s.candidates,
            weights: settings.weights,
            rule: verdict::Rule {
                min_coverage: s.min_coverage,
                unseen_weight: s.unseen_weight,
            },
        }
    }

    fn drops_stop_words(&self) -> bool {
        self.ranking == Ranking::Full && self.drop_stop_words
    }

    fn reranks(&self) -> bool {
        self.ranking == Ranking::Full && self.rerank
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
    /// The question's terms found in the passage, its title or its section, as a bit mask
    /// by term number (the order of the question's searched terms).
    pub matched: u32,
    /// The question's terms found in the best sentence, likewise.
    pub sentence_matched: u32,
}

/// A BM25 candidate with the evidence the re-ranker weighs.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub passage: Passage,
    /// The ranking score: BM25, or the re-ranker's once it has run.
    pub score: f32,
    pub evidence: features::Evidence,
}

impl Candidate {
    fn into_hit(self) -> Hit {
        Hit {
            passage: self.passage,
            score: self.score,
            highlights: self.evidence.highlights,
            best_sentence: self.evidence.best_sentence,
            coverage: self.evidence.coverage,
            matched: self.evidence.matched,
            sentence_matched: self.evidence.sentence_matched,
        }
    }
}

/// A question analysed once, for every tier of its ranking and for its verdict.
struct Prepared {
    info: QueryInfo,
    /// How many passages hold each of `info.terms`.
    df: Vec<u64>,
}

impl Prepared {
    /// The terms as the "not covered" decision weighs them.
    fn terms(&self) -> Vec<verdict::QuestionTerm> {
        self.info
            .terms
            .iter()
            .zip(&self.df)
            .enumerate()
            .map(|(i, (stem, &df))| verdict::QuestionTerm {
                stem: stem.clone(),
                df,
                name: self.info.is_name(i),
            })
            .collect()
    }
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

    /// The `limit` best passages for `question`, best first; restricted to one briefing
    /// (by slug) when `briefing` is given.
    ///
    /// Every `limit` gives a prefix of one and the same ranking, so that paging (`More`,
    /// which asks for longer prefixes) never shows a passage twice or skips one. The
    /// re-ranker's features depend on its candidate pool (BM25 relative to the best, the
    /// briefing's share of the pool), so re-ranking a larger pool would reorder even the
    /// first places. The ranking is therefore made in tiers: its first
    /// `search.candidates` places are the re-ranked BM25 top `candidates`; the places
    /// after them come from re-ranking the BM25 top 2 × `candidates`, without the
    /// passages already placed; then 4 ×, and so on.
    pub fn search(
        &self,
        question: &str,
        limit: usize,
        briefing: Option<&str>,
    ) -> Result<Vec<Hit>, SearchError> {
        let searcher = self.reader.searcher();
        let query = self.prepare(&searcher, question)?;
        self.ranked(&searcher, &query, limit, briefing)
    }

    /// [`Engine::search`], and whether the best hit answers the question (see
    /// [`verdict`]), from one analysis of the question.
    pub fn search_judged(
        &self,
        question: &str,
        limit: usize,
        briefing: Option<&str>,
    ) -> Result<(Vec<Hit>, verdict::Verdict), SearchError> {
        let searcher = self.reader.searcher();
        let query = self.prepare(&searcher, question)?;
        let hits = self.ranked(&searcher, &query, limit, briefing)?;
        let verdict = verdict::judge(&query.terms(), hits.first(), self.options.rule);
        Ok((hits, verdict))
    }

    /// The tiers of [`Engine::search`]'s ranking, for a prepared question.
    fn ranked(
        &self,
        searcher: &Searcher,
        query: &Prepared,
        limit: usize,
        briefing: Option<&str>,
    ) -> Result<Vec<Hit>, SearchError> {
        if !self.options.reranks() {
            let candidates = self.candidates_of(searcher, query, limit, briefing)?;
            return Ok(candidates.into_iter().map(Candidate::into_hit).collect());
        }
        let mut pool = self.options.candidates.max(1);
        let mut placed: Vec<Candidate> = Vec::with_capacity(limit);
        // The ids placed by earlier tiers (a tier's own passages are all distinct).
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        loop {
            let mut tier = self.candidates_of(searcher, query, pool, briefing)?;
            let exhausted = tier.len() < pool;
            self.rerank(&mut tier);
            let new = tier.into_iter().filter(|c| !seen.contains(&c.passage.id));
            placed.extend(new.take(limit - placed.len()));
            if placed.len() == limit || exhausted {
                break;
            }
            seen = placed.iter().map(|c| c.passage.id.clone()).collect();
            pool = pool.saturating_mul(2);
        }
        Ok(placed.into_iter().map(Candidate::into_hit).collect())
    }

    /// Scores candidates by the weighted sum of their features, best first (stable: equal
    /// scores keep BM25's order).
    fn rerank(&self, candidates: &mut [Candidate]) {
        let w = &self.options.weights;
        for c in candidates.iter_mut() {
            c.score = c.evidence.features.iter().zip(w).map(|(f, w)| f * w).sum();
        }
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    }

    /// BM25's best `n` passages with the re-ranking evidence of each, in BM25 order
    /// (`score` is the BM25 score). This is what the re-ranker weighs, exposed so that its
    /// weights can be fitted.
    pub fn candidates(
        &self,
        question: &str,
        n: usize,
        briefing: Option<&str>,
    ) -> Result<Vec<Candidate>, SearchError> {
        let searcher = self.reader.searcher();
        let query = self.prepare(&searcher, question)?;
        self.candidates_of(&searcher, &query, n, briefing)
    }

    /// The question analysed once: its terms, their document frequencies and IDFs, and
    /// what the re-ranker knows of it.
    fn prepare(&self, searcher: &Searcher, question: &str) -> Result<Prepared, SearchError> {
        let terms = analyze::query_terms(question, self.options.drops_stop_words());
        let n = searcher.num_docs() as f32;
        let mut df = Vec::with_capacity(terms.len());
        let mut idf = HashMap::with_capacity(terms.len());
        for t in &terms {
            let d = searcher.doc_freq(&Term::from_field_text(self.fields.body, t))?;
            let d_f = d as f32;
            idf.insert(t.clone(), (1.0 + (n - d_f + 0.5) / (d_f + 0.5)).ln());
            df.push(d);
        }
        Ok(Prepared {
            info: QueryInfo::new(question, terms, &idf),
            df,
        })
    }

    /// BM25's best `n` passages for a prepared question, with their evidence.
    fn candidates_of(
        &self,
        searcher: &Searcher,
        query: &Prepared,
        n: usize,
        briefing: Option<&str>,
    ) -> Result<Vec<Candidate>, SearchError> {
        let info = &query.info;
        if info.terms.is_empty() || n == 0 {
            return Ok(Vec::new());
        }
        let top = searcher.search(
            &self.query(&info.terms, briefing),
            &TopDocs::with_limit(n).order_by_score(),
        )?;

        let mut passages = Vec::with_capacity(top.len());
        for (score, address) in &top {
            let doc: TantivyDocument = searcher.doc(*address)?;
            passages.push((*score, crate::index::passage_of(&self.fields, &doc)));
        }
        let best = top.first().map_or(1.0, |(s, _)| s.max(f32::MIN_POSITIVE));
        let mut per_briefing: HashMap<&str, f32> = HashMap::new();
        for (score, p) in &passages {
            *per_briefing.entry(p.slug.as_str()).or_default() += score / best;
        }
        let best_briefing = per_briefing
            .values()
            .copied()
            .fold(f32::MIN_POSITIVE, f32::max);
        let briefing_share: Vec<f32> = passages
            .iter()
            .map(|(_, p)| per_briefing[p.slug.as_str()] / best_briefing)
            .collect();

        // Passages of one briefing share a title, and often a section.
        let mut contexts: HashMap<(String, Option<String>), Vec<analyze::Token>> = HashMap::new();
        Ok(passages
            .into_iter()
            .zip(briefing_share)
            .enumerate()
            .map(|(rank, ((score, passage), briefing))| {
                let tokens = analyze::tokens(&passage.text);
                let context = contexts
                    .entry((passage.briefing.clone(), passage.section.clone()))
                    .or_insert_with(|| {
                        let mut t = analyze::tokens(&passage.briefing);
                        if let Some(section) = &passage.section {
                            t.extend(analyze::tokens(section));
                        }
                        t
                    });
                let prior = features::Prior {
                    bm25: score / best,
                    raw_bm25: score,
                    briefing,
                    rank,
                };
                let evidence = features::evidence(info, &passage.text, &tokens, context, prior);
                Candidate {
                    passage,
                    score,
                    evidence,
                }
            })
            .collect())
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

    /// Every paragraph of one briefing, in order (read through its indexed `source`).
    pub fn briefing_passages(
        &self,
        briefing: &crate::index::BriefingInfo,
    ) -> Result<Vec<Passage>, SearchError> {
        Ok(crate::index::source_passages(
            &self.reader.searcher(),
            &self.fields,
            &briefing.source,
        )?)
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
