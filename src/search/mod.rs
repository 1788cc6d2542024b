//! Search: a question in plain words → ranked hits, each with its matched words and the
//! sentence that best answers the question.
//!
//! The question is never parsed as query syntax: it is split into words, so quotes,
//! colons, brackets or `AND` cannot cause an error. One [`Engine`] per index version is
//! shared by every caller (it is `Send + Sync`); each search takes a fresh searcher.

pub mod analyze;
pub mod english;
pub mod families;
pub mod features;
pub mod soft;
pub mod spelling;
pub mod verdict;

pub use features::{DEFAULT_SEMANTIC_WEIGHTS, DEFAULT_WEIGHTS, FEATURE_NAMES, FEATURES};

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use crate::config::Settings;
use crate::index::{BriefingInfo, Columns, Fields, Manifest, OpenIndex, StoredPassages};
use crate::ingest::Passage;
use crate::library::{Library, Scope};
use features::QueryInfo;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{IndexReader, Searcher, Term};

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
    /// The weights used instead when the index has passage vectors of a model.
    pub semantic_weights: [f32; FEATURES],
    /// How many passages nearest to the question's vector join BM25's `candidates`.
    pub semantic_candidates: usize,
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
            semantic_weights: settings.semantic_weights,
            semantic_candidates: s.semantic.candidates,
            rule: verdict::Rule {
                min_coverage: s.min_coverage,
                unseen_weight: s.unseen_weight,
                min_cosine: s.semantic.min_cosine,
                min_sentence_cosine: s.semantic.min_sentence_cosine,
                unrelated_cosine: s.semantic.unrelated_cosine,
                unrelated_below: s.semantic.unrelated_below,
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
    /// The cosine of the question's vector with the passage's, when a model is in use.
    pub cosine: Option<f32>,
    /// The best cosine of the question's vector with one of the passage's sentences', when
    /// a model is in use.
    pub sentence_cosine: Option<f32>,
}

/// A BM25 candidate with the evidence the re-ranker weighs.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub passage: Passage,
    /// The ranking score: BM25, or the re-ranker's once it has run.
    pub score: f32,
    pub evidence: features::Evidence,
    /// The cosine with the question, when a model is in use.
    pub cosine: Option<f32>,
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
            sentence_cosine: self
                .cosine
                .map(|_| self.evidence.features[features::SENTENCE_COSINE]),
            cosine: self.cosine,
        }
    }
}

/// A question analysed once, for every tier of its ranking and for its verdict.
struct Prepared {
    info: QueryInfo,
    /// How many passages hold each of `info.terms`.
    df: Vec<u64>,
    /// The question's vector, when a model is in use (and could read it).
    vector: Option<Vec<f32>>,
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
pub enum SearchError {
    #[error("searching the index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A vector read while answering does not match its checksum.
    #[error("the index is damaged: {0}; `briefbot index --full` (or /reindex) rebuilds it")]
    Damaged(String),
}

/// Searches one opened index version, within a [`Scope`]: every read (a search, a
/// passage by id, a briefing's paragraphs, the list of briefings) sees the libraries the
/// scope admits and nothing else; a passage outside it reads exactly as one that does not
/// exist. Cheap to clone: [`Engine::scoped`] gives the same version in another scope.
#[derive(Clone)]
pub struct Engine {
    core: Arc<Core>,
    scope: Scope,
    /// How reads are filtered when the index holds passages outside the scope (`None`
    /// with the shared library alone: its ranking is exactly as it always was).
    filter: Option<Arc<Filter>>,
}

/// A scope's filter, chosen once per scope ([`Engine::scoped`]): the libraries a passage
/// must be in, or must not be in.
struct Filter {
    /// Written by the libraries left out (else by those admitted).
    without: bool,
    libraries: Vec<Library>,
}

/// What every scope of one index version shares.
struct Core {
    reader: IndexReader,
    fields: Fields,
    manifest: Manifest,
    options: SearchOptions,
    semantic: Option<crate::index::Semantic>,
    /// Each briefing's rows in the vectors files (a briefing's passages are consecutive),
    /// and its library.
    rows: HashMap<String, (Range<usize>, Library)>,
    /// Each briefing's library, in the manifest's order.
    libraries: Vec<Library>,
    /// Each library's rows (merged where consecutive), passage count and briefing count.
    library_rows: BTreeMap<Library, (Vec<Range<usize>>, u64, usize)>,
    /// Every briefing's rows, merged where consecutive: what the scan for the nearest
    /// passages reads when no library is left out. Not `0..passages`: an update gives
    /// the briefings it reads new rows past the last, and leaves their old ones behind.
    all_rows: Vec<Range<usize>>,
}

/// `ranges` sorted and merged where consecutive (a full build gives a library's briefings
/// consecutive rows; an update's briefings get rows of their own).
fn merged(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => merged.push(r),
        }
    }
    merged
}

impl Engine {
    /// An engine over every library ([`Scope::All`]); [`Engine::scoped`] narrows it.
    pub fn new(open: OpenIndex, options: SearchOptions) -> Result<Engine, SearchError> {
        let reader = open.reader.clone();
        let mut rows = HashMap::with_capacity(open.manifest.briefings.len());
        let mut libraries = Vec::with_capacity(open.manifest.briefings.len());
        let mut library_rows: BTreeMap<Library, (Vec<Range<usize>>, u64, usize)> = BTreeMap::new();
        for b in &open.manifest.briefings {
            let range = b.rows();
            let library = Library::of_source(&b.source);
            rows.insert(b.slug.clone(), (range.clone(), library));
            libraries.push(library);
            let (ranges, passages, briefings) = library_rows.entry(library).or_default();
            ranges.push(range);
            *passages += b.paragraphs;
            *briefings += 1;
        }
        for (ranges, _, _) in library_rows.values_mut() {
            *ranges = merged(std::mem::take(ranges));
        }
        let all_rows = merged(rows.values().map(|(r, _)| r.clone()).collect());
        Ok(Engine {
            core: Arc::new(Core {
                reader,
                fields: open.fields,
                manifest: open.manifest,
                options,
                semantic: open.semantic,
                rows,
                libraries,
                library_rows,
                all_rows,
            }),
            scope: Scope::All,
            filter: None,
        })
    }

    /// The same index version, read within `scope`, with its filter written the cheaper
    /// way: by the libraries it admits when they hold fewer passages than the others (a
    /// server's library alone), else by those it leaves out (a server's scope with the
    /// shared library leaves out only the other servers' small libraries). Measured on
    /// 100k generated paragraphs with 1 % in five servers' libraries
    /// (`BRIEFBOT_BENCH_SIZES=100000 BRIEFBOT_BENCH_LIBRARIES=1 cargo bench --bench
    /// answer`): a server's search with the shared library takes 7.1 ms filtered by the
    /// libraries it admits, 2.9 ms by those it leaves out, 1.4 ms unfiltered (a required
    /// or excluded clause keeps tantivy from skipping blocks by their best score); at 1M,
    /// 16.6 ms against 4.7 ms unfiltered.
    pub fn scoped(&self, scope: Scope) -> Engine {
        let (mut admitted, mut left_out) = (Vec::new(), Vec::new());
        let (mut admitted_passages, mut left_out_passages) = (0u64, 0u64);
        for (&l, (_, passages, _)) in &self.core.library_rows {
            if scope.admits(l) {
                admitted.push(l);
                admitted_passages += passages;
            } else {
                left_out.push(l);
                left_out_passages += passages;
            }
        }
        let filter = match (left_out.is_empty(), admitted_passages <= left_out_passages) {
            (true, _) => None,
            (false, true) => {
                if admitted.is_empty() {
                    // Nothing to read: a term no passage has.
                    admitted.push(Library::Server(0));
                }
                Some(Filter {
                    without: false,
                    libraries: admitted,
                })
            }
            (false, false) => Some(Filter {
                without: true,
                libraries: left_out,
            }),
        };
        Engine {
            core: self.core.clone(),
            scope,
            filter: filter.map(Arc::new),
        }
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The manifest of the whole version (every library): for its version, build time and
    /// skipped files. What a scope holds is [`Engine::briefings`] and
    /// [`Engine::passage_count`].
    pub fn manifest(&self) -> &Manifest {
        &self.core.manifest
    }

    /// The briefings within the scope, in the manifest's order.
    pub fn briefings(&self) -> impl Iterator<Item = &BriefingInfo> + '_ {
        self.core
            .manifest
            .briefings
            .iter()
            .zip(&self.core.libraries)
            .filter(|(_, l)| self.scope.admits(**l))
            .map(|(b, _)| b)
    }

    /// How many passages the scope holds.
    pub fn passage_count(&self) -> u64 {
        self.core
            .library_rows
            .iter()
            .filter(|(l, _)| self.scope.admits(**l))
            .map(|(_, (_, n, _))| n)
            .sum()
    }

    /// The libraries present in this version, each with its briefings and passages.
    pub fn libraries(&self) -> Vec<(Library, usize, u64)> {
        self.core
            .library_rows
            .iter()
            .map(|(&l, (_, passages, briefings))| (l, *briefings, *passages))
            .collect()
    }

    /// The briefing `query` names within the scope (see [`crate::study::find_briefing`]).
    pub fn find_briefing(&self, query: &str) -> Result<&BriefingInfo, crate::study::FindError> {
        let briefings: Vec<&BriefingInfo> = self.briefings().collect();
        crate::study::find_briefing(&briefings, query)
    }

    /// Whether the briefing with this slug is within the scope.
    fn admits_briefing(&self, slug: &str) -> bool {
        self.core
            .rows
            .get(slug)
            .is_some_and(|(_, l)| self.scope.admits(*l))
    }

    /// The scope's filter ([`Engine::scoped`]) as queries on the `library` field.
    fn scope_filter(&self) -> Option<ScopeFilter> {
        let filter = self.filter.as_ref()?;
        let should: Vec<(Occur, Box<dyn Query>)> = filter
            .libraries
            .iter()
            .map(|l| {
                let term = Term::from_field_text(self.core.fields.library, &l.term());
                let q: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                (Occur::Should, q)
            })
            .collect();
        let any_of: Box<dyn Query> = Box::new(BooleanQuery::new(should));
        Some(if filter.without {
            ScopeFilter::Without(any_of)
        } else {
            ScopeFilter::Only(any_of)
        })
    }

    /// `query` within the scope.
    fn within_scope(&self, query: Box<dyn Query>) -> Box<dyn Query> {
        match self.scope_filter() {
            None => query,
            Some(ScopeFilter::Only(libraries)) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, query),
                (Occur::Must, Box::new(ConstScoreQuery::new(libraries, 0.0))),
            ])),
            Some(ScopeFilter::Without(libraries)) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, query),
                (Occur::MustNot, libraries),
            ])),
        }
    }

    /// The sentence-embedding model this engine reads questions with, if any.
    pub fn model(&self) -> Option<&std::sync::Arc<crate::semantic::Model>> {
        self.core.semantic.as_ref().map(|s| &s.model)
    }

    fn weights(&self) -> &[f32; FEATURES] {
        if self.core.semantic.is_some() {
            &self.core.options.semantic_weights
        } else {
            &self.core.options.weights
        }
    }

    /// How many nearest passages join a tier of `pool` BM25 candidates.
    fn semantic_pool(&self, pool: usize) -> usize {
        if self.core.semantic.is_none() {
            return 0;
        }
        let base = self.core.options.candidates.max(1);
        self.core.options.semantic_candidates.saturating_mul(pool) / base
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
        let searcher = self.core.reader.searcher();
        let query = self.prepare(&searcher, question)?;
        self.ranked(&searcher, &query, limit, briefing)
    }

    /// [`Engine::search`] by the question's words only, never its vector: for
    /// autocomplete, one call a keystroke, where a model's 10–20 ms would hold up the
    /// event loop.
    pub fn search_lexical(
        &self,
        question: &str,
        limit: usize,
        briefing: Option<&str>,
    ) -> Result<Vec<Hit>, SearchError> {
        let searcher = self.core.reader.searcher();
        let query = self.prepare_words(&searcher, question)?;
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
        let searcher = self.core.reader.searcher();
        let query = self.prepare(&searcher, question)?;
        let hits = self.ranked(&searcher, &query, limit, briefing)?;
        let verdict = verdict::judge(&query.terms(), hits.first(), self.core.options.rule);
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
        if !self.core.options.reranks() {
            let candidates = self.candidates_of(searcher, query, limit, 0, briefing)?;
            return Ok(candidates.into_iter().map(Candidate::into_hit).collect());
        }
        let mut pool = self.core.options.candidates.max(1);
        let mut placed: Vec<Candidate> = Vec::with_capacity(limit);
        // The ids placed by earlier tiers (a tier's own passages are all distinct).
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        loop {
            let nearest = self.semantic_pool(pool);
            let mut tier = self.candidates_of(searcher, query, pool, nearest, briefing)?;
            let exhausted = tier.len() < pool + nearest;
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
        let w = self.weights();
        for c in candidates.iter_mut() {
            c.score = c.evidence.features.iter().zip(w).map(|(f, w)| f * w).sum();
        }
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    }

    /// BM25's best `n` passages, with the passages nearest to the question's vector when
    /// a model is in use (as many more as [`Engine::search`]'s first tier takes for `n`),
    /// each with its re-ranking evidence, in BM25 order (`score` is the BM25 score). This
    /// is what the re-ranker weighs, exposed so that its weights can be fitted.
    pub fn candidates(
        &self,
        question: &str,
        n: usize,
        briefing: Option<&str>,
    ) -> Result<Vec<Candidate>, SearchError> {
        let searcher = self.core.reader.searcher();
        let query = self.prepare(&searcher, question)?;
        self.candidates_of(&searcher, &query, n, self.semantic_pool(n), briefing)
    }

    /// The question analysed once: its terms, their document frequencies and IDFs, and
    /// what the re-ranker knows of it.
    fn prepare(&self, searcher: &Searcher, question: &str) -> Result<Prepared, SearchError> {
        let mut prepared = self.prepare_words(searcher, question)?;
        prepared.vector = self.core.semantic.as_ref().and_then(|s| {
            s.model
                .embed_query(question)
                .inspect_err(
                    |e| tracing::warn!(error = %crate::error_chain(e), "question not embedded"),
                )
                .ok()
        });
        Ok(prepared)
    }

    /// [`Engine::prepare`] without the question's vector.
    fn prepare_words(&self, searcher: &Searcher, question: &str) -> Result<Prepared, SearchError> {
        let terms = analyze::query_terms(question, self.core.options.drops_stop_words());
        // Within the scope: a word only another server's library holds is as unknown here
        // as a word no briefing holds (and the "not covered" decision says so alike).
        let filter = self.scope_filter();
        let n = match filter {
            None => searcher.num_docs(),
            Some(_) => self.passage_count(),
        } as f32;
        // A word written the other way ("defence" of briefings that write "defense") or in
        // another form ("pays" of briefings that write "paid" or "payments") is searched
        // in each, as one term held by the passages holding any.
        let variants = spelling::variants_of_terms(question, &terms);
        // The passages (within the scope) holding any of `stems`: one term and its variants.
        let doc_freq = |stems: &[&str]| -> tantivy::Result<u64> {
            let keys: Vec<Term> = stems
                .iter()
                .map(|t| Term::from_field_text(self.core.fields.body, t))
                .collect();
            let count = |q: &dyn Query| -> tantivy::Result<u64> {
                Ok(searcher.search(q, &tantivy::collector::Count)? as u64)
            };
            let any: Box<dyn Query> = match keys.as_slice() {
                [one] => Box::new(TermQuery::new(one.clone(), IndexRecordOption::Basic)),
                _ => Box::new(BooleanQuery::new_multiterms_query(keys.clone())),
            };
            // The index keeps one term's count; a union of several is counted.
            let everywhere = || match keys.as_slice() {
                [one] => searcher.doc_freq(one),
                _ => count(&*any),
            };
            let within = |libraries: &dyn Query| {
                count(&BooleanQuery::new(vec![
                    (Occur::Must, any.box_clone()),
                    (Occur::Must, libraries.box_clone()),
                ]))
            };
            Ok(match &filter {
                None => everywhere()?,
                Some(ScopeFilter::Only(libraries)) => within(libraries)?,
                Some(ScopeFilter::Without(libraries)) => {
                    everywhere()?.saturating_sub(within(libraries)?)
                }
            })
        };
        let mut df = Vec::with_capacity(terms.len());
        let mut idf = HashMap::with_capacity(terms.len());
        for (i, t) in terms.iter().enumerate() {
            let stems: Vec<&str> = std::iter::once(t.as_str())
                .chain(
                    variants
                        .iter()
                        .filter(|(_, of)| *of == i)
                        .map(|(v, _)| v.as_str()),
                )
                .collect();
            let d = doc_freq(&stems)?;
            let d_f = d as f32;
            idf.insert(t.clone(), (1.0 + (n - d_f + 0.5) / (d_f + 0.5)).ln());
            df.push(d);
        }
        let mut info = QueryInfo::new(question, terms, &idf);
        info.add_variants(&variants);
        Ok(Prepared {
            info,
            df,
            vector: None,
        })
    }

    /// The rows in the vectors file that a search may return: one briefing's, or the
    /// scope's (borrowed but for a scope that leaves libraries out: no copy a question).
    fn row_ranges(&self, briefing: Option<&str>) -> std::borrow::Cow<'_, [Range<usize>]> {
        use std::borrow::Cow;
        match briefing {
            Some(slug) => Cow::Borrowed(
                self.core
                    .rows
                    .get(slug)
                    .map_or(&[][..], |(r, _)| std::slice::from_ref(r)),
            ),
            None if self.filter.is_none() => Cow::Borrowed(&self.core.all_rows),
            None => {
                let mut ranges: Vec<Range<usize>> = self
                    .core
                    .library_rows
                    .iter()
                    .filter(|(l, _)| self.scope.admits(**l))
                    .flat_map(|(_, (r, _, _))| r.iter().cloned())
                    .collect();
                ranges.sort_by_key(|r| r.start);
                Cow::Owned(ranges)
            }
        }
    }

    /// BM25's best `n` passages for a prepared question and the `nearest` passages
    /// nearest to its vector (those not already among BM25's), with their evidence, in
    /// BM25 order (a passage that holds none of the question's words scores 0).
    fn candidates_of(
        &self,
        searcher: &Searcher,
        query: &Prepared,
        n: usize,
        nearest: usize,
        briefing: Option<&str>,
    ) -> Result<Vec<Candidate>, SearchError> {
        let info = &query.info;
        let vector = query.vector.as_ref().zip(self.core.semantic.as_ref());
        if (info.terms.is_empty() && vector.is_none())
            || n == 0
            || briefing.is_some_and(|slug| !self.admits_briefing(slug))
        {
            return Ok(Vec::new());
        }
        let row_of = RowColumns::of(searcher);
        let mut top = if info.terms.is_empty() {
            Vec::new()
        } else {
            Self::bm25_top(searcher, &row_of, &self.query(info.searched(), briefing), n)?
        };
        let best = top.first().map_or(1.0, |(s, _)| s.max(f32::MIN_POSITIVE));

        // Each candidate's row, and the cosine of every row with the question.
        let mut rows: Vec<Option<usize>> = top.iter().map(|(_, a)| row_of.row(*a)).collect();
        if let Some((v, semantic)) = vector
            && nearest > 0
        {
            let have: std::collections::HashSet<usize> = rows.iter().flatten().copied().collect();
            let extra: Vec<usize> = semantic
                .vectors
                .nearest(v, nearest, &self.row_ranges(briefing))
                .into_iter()
                .map(|(row, _)| row)
                .filter(|row| !have.contains(row))
                .collect();
            for (score, address) in self.rows_scored(searcher, info.searched(), &extra)? {
                rows.push(row_of.row(address));
                top.push((score, address));
            }
        }
        let cosines: Vec<Option<(f32, Option<f32>)>> = match vector {
            Some((v, semantic)) => rows
                .iter()
                .map(|r| {
                    let Some((r, cosine)) =
                        r.and_then(|r| Some((r, semantic.vectors.cosine(v, r)?)))
                    else {
                        return Ok(None);
                    };
                    // A sentence vector that does not match its checksum: a damaged
                    // index, as a damaged file of tantivy's would be.
                    let sentence = semantic
                        .vectors
                        .best_sentence(v, r)
                        .map_err(SearchError::Damaged)?;
                    Ok(Some((cosine, sentence)))
                })
                .collect::<Result<_, SearchError>>()?,
            None => vec![None; top.len()],
        };
        // BM25 order over the whole pool, ties by row (as in `bm25_top`).
        let mut order: Vec<usize> = (0..top.len()).collect();
        order.sort_by(|&a, &b| top[b].0.total_cmp(&top[a].0).then(rows[a].cmp(&rows[b])));

        let stored = StoredPassages::of(searcher, &self.core.fields);
        let mut passages = Vec::with_capacity(top.len());
        for &i in &order {
            let (score, address) = top[i];
            passages.push((score, stored.get(address)?, cosines[i]));
        }
        let mut per_briefing: HashMap<&str, f32> = HashMap::new();
        for (score, p, _) in &passages {
            *per_briefing.entry(p.slug.as_str()).or_default() += score / best;
        }
        let best_briefing = per_briefing
            .values()
            .copied()
            .fold(f32::MIN_POSITIVE, f32::max);
        let briefing_share: Vec<f32> = passages
            .iter()
            .map(|(_, p, _)| per_briefing[p.slug.as_str()] / best_briefing)
            .collect();
        let by_cosine = Among::of(passages.iter().map(|(_, p, c)| (p, c.map(|c| c.0))));
        let by_sentence = Among::of(passages.iter().map(|(_, p, c)| (p, c.and_then(|c| c.1))));

        // Soft matches need the model's word vectors, so only where its vectors are used.
        let mut soft = vector
            .and_then(|_| self.model())
            .map(|model| soft::SoftMatcher::new(model, info));
        // Passages of one briefing share a title, and often a section: their text (title,
        // a line break, section) and its tokens are made once.
        let mut contexts: HashMap<(String, Option<String>), (String, Vec<analyze::Token>)> =
            HashMap::new();
        let mut out: Vec<Candidate> = passages
            .into_iter()
            .zip(briefing_share)
            .enumerate()
            .map(|(rank, ((score, passage, cosines), briefing))| {
                let tokens = analyze::tokens(&passage.text);
                let (context_text, context) = contexts
                    .entry((passage.briefing.clone(), passage.section.clone()))
                    .or_insert_with(|| {
                        let text = match &passage.section {
                            Some(section) => format!("{}\n{section}", passage.briefing),
                            None => passage.briefing.clone(),
                        };
                        let tokens = analyze::tokens(&text);
                        (text, tokens)
                    });
                let prior = features::Prior {
                    bm25: score / best,
                    raw_bm25: score,
                    briefing,
                    rank,
                };
                let mut evidence = features::evidence(info, &passage.text, &tokens, context, prior);
                let cosine = cosines.map(|c| c.0);
                if let Some(c) = cosine {
                    let f = &mut evidence.features;
                    f[features::COSINE] = c;
                    (f[features::COSINE_Z], f[features::COSINE_RANK]) = by_cosine.place(c);
                    f[features::BRIEFING_COSINE] = by_cosine.briefing[rank];
                }
                if let Some(c) = cosines.and_then(|c| c.1) {
                    let f = &mut evidence.features;
                    f[features::SENTENCE_COSINE] = c;
                    (
                        f[features::SENTENCE_COSINE_Z],
                        f[features::SENTENCE_COSINE_RANK],
                    ) = by_sentence.place(c);
                    f[features::BRIEFING_SENTENCE] = by_sentence.briefing[rank];
                }
                if let Some(soft) = soft.as_mut() {
                    evidence.features[features::SOFT] = soft.score(
                        evidence.matched,
                        &[(&passage.text, &tokens), (context_text, context)],
                    );
                }
                Candidate {
                    passage,
                    score,
                    evidence,
                    cosine,
                }
            })
            .collect();
        let best_coverage = out
            .iter()
            .map(|c| c.evidence.coverage)
            .fold(0.0f32, f32::max);
        for c in out.iter_mut().filter(|c| c.cosine.is_some()) {
            let f = &mut c.evidence.features;
            f[features::COSINE_UNMATCHED] = f[features::COSINE_Z] * (1.0 - best_coverage);
            f[features::SENTENCE_UNMATCHED] =
                f[features::SENTENCE_COSINE_Z] * (1.0 - best_coverage);
        }
        Ok(out)
    }

    /// The best `n` documents for `query` by BM25, best first, equal scores by row.
    ///
    /// tantivy breaks ties by document address, and addresses depend on how a build's
    /// threads split the documents into segments and on the order of those segments (a
    /// hash map's): the same briefings built twice would rank tied passages, and pick
    /// those at the cutoff, differently. Rows follow the briefings' order in every build.
    /// So it fetches past the cutoff until the score there changes (8 more, then four
    /// times as many each round: tantivy keeps skipping blocks that cannot make it, and a
    /// corpus of repeated paragraphs settles in a round or two) and orders by (score, row).
    fn bm25_top(
        searcher: &Searcher,
        row_of: &RowColumns,
        query: &dyn Query,
        n: usize,
    ) -> Result<Vec<(f32, tantivy::DocAddress)>, SearchError> {
        let mut limit = n + 8;
        loop {
            let top = searcher.search(query, &TopDocs::with_limit(limit).order_by_score())?;
            if top.len() < limit || top[n - 1].0 != top[limit - 1].0 {
                let mut keyed: Vec<(f32, Option<usize>, tantivy::DocAddress)> =
                    top.iter().map(|&(s, a)| (s, row_of.row(a), a)).collect();
                keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                return Ok(keyed.into_iter().take(n).map(|(s, _, a)| (s, a)).collect());
            }
            limit = limit.saturating_mul(4);
        }
    }

    /// The documents of `rows`, each with its BM25 score for `terms` (0 when it holds
    /// none of them).
    fn rows_scored(
        &self,
        searcher: &Searcher,
        terms: &[String],
        rows: &[usize],
    ) -> Result<Vec<(f32, tantivy::DocAddress)>, SearchError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<(Occur, Box<dyn Query>)> = rows
            .iter()
            .map(|&r| {
                let term = Term::from_field_u64(self.core.fields.row, r as u64);
                let q: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                (Occur::Should, q)
            })
            .collect();
        let only: Box<dyn Query> = Box::new(ConstScoreQuery::new(
            Box::new(BooleanQuery::new(wanted)),
            0.0,
        ));
        let mut clauses = vec![(Occur::Must, only)];
        if !terms.is_empty() {
            clauses.push((Occur::Should, self.query(terms, None)));
        }
        Ok(searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(rows.len()).order_by_score(),
        )?)
    }

    fn query(&self, terms: &[String], briefing: Option<&str>) -> Box<dyn Query> {
        let f = &self.core.fields;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in terms {
            should.push((Occur::Should, term_query(f.body, t)));
            if !self.core.manifest.title_in_body && self.core.options.title_boost > 0.0 {
                for field in [f.title, f.section] {
                    let q = BoostQuery::new(term_query(field, t), self.core.options.title_boost);
                    should.push((Occur::Should, Box::new(q)));
                }
            }
        }
        let words = self.within_scope(Box::new(BooleanQuery::new(should)));
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
        if !self.scope.admits(Library::of_source(&briefing.source)) {
            return Ok(Vec::new());
        }
        Ok(crate::index::source_passages(
            &self.core.reader.searcher(),
            &self.core.fields,
            &briefing.source,
        )?)
    }

    /// The stored passage with this id, if it is within the scope.
    pub fn passage(&self, id: &str) -> Result<Option<Passage>, SearchError> {
        let searcher = self.core.reader.searcher();
        let query = self.within_scope(Box::new(TermQuery::new(
            Term::from_field_text(self.core.fields.id, id),
            IndexRecordOption::Basic,
        )));
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        match top.first() {
            None => Ok(None),
            Some((_, address)) => Ok(Some(
                StoredPassages::of(&searcher, &self.core.fields).get(*address)?,
            )),
        }
    }
}

/// Each segment's `row` column, opened once for a search.
struct RowColumns(Columns);

impl RowColumns {
    fn of(searcher: &Searcher) -> RowColumns {
        RowColumns(Columns::of(searcher, "row"))
    }

    /// The `row` of a document.
    fn row(&self, address: tantivy::DocAddress) -> Option<usize> {
        self.0.get(address).map(|r| r as usize)
    }
}

/// How a scope's filter is written ([`Engine::scope_filter`]): the libraries' terms a
/// passage must have one of, or must have none of.
enum ScopeFilter {
    Only(Box<dyn Query>),
    Without(Box<dyn Query>),
}

/// One semantic score of the candidates (the cosine, or the best sentence's), with what
/// the re-ranker reads of each among the others.
struct Among {
    /// Best first.
    sorted: Vec<f32>,
    mean: f32,
    sd: f32,
    /// For each candidate, in order, the best score of a candidate of its briefing (0
    /// where none has one).
    briefing: Vec<f32>,
}

impl Among {
    fn of<'p>(scores: impl Iterator<Item = (&'p Passage, Option<f32>)>) -> Among {
        let scores: Vec<(&str, Option<f32>)> = scores.map(|(p, s)| (p.slug.as_str(), s)).collect();
        let mut best: HashMap<&str, f32> = HashMap::new();
        for (slug, x) in scores.iter().filter_map(|(slug, s)| Some((*slug, (*s)?))) {
            let b = best.entry(slug).or_insert(f32::MIN);
            *b = b.max(x);
        }
        let mut sorted: Vec<f32> = scores.iter().filter_map(|(_, s)| *s).collect();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let (mean, sd) = mean_sd(&sorted);
        Among {
            briefing: scores
                .iter()
                .map(|(slug, _)| best.get(slug).copied().unwrap_or(0.0))
                .collect(),
            sorted,
            mean,
            sd,
        }
    }

    /// `x`'s z-score among the candidates (divided by 3: about −1 to 1), and 1 / (1 + its
    /// rank among them).
    fn place(&self, x: f32) -> (f32, f32) {
        let rank = self.sorted.partition_point(|&y| y > x);
        ((x - self.mean) / self.sd / 3.0, 1.0 / (1.0 + rank as f32))
    }
}

/// Mean and standard deviation (at least 0.01, so that a z-score stays finite).
fn mean_sd(xs: &[f32]) -> (f32, f32) {
    if xs.is_empty() {
        return (0.0, 1.0);
    }
    let n = xs.len() as f32;
    let mean = xs.iter().sum::<f32>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
    (mean, var.sqrt().max(0.01))
}

fn term_query(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexStore;
    use crate::ingest::{self, IngestOptions};

    /// A term's document frequency counts the passages holding any of its forms once
    /// each: "pays" is held by the paragraph saying "pay" and "paid" and by the one
    /// saying "payments", two passages (adding each form's count up would say three).
    #[test]
    fn a_words_forms_count_once_in_its_document_frequency() {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        std::fs::create_dir(&content).unwrap();
        std::fs::write(
            content.join("dues.md"),
            "---\ntitle: Notes\n---\n\nMembers pay what they paid last year.\n\n\
             The payments rose.\n\nThe harbour is old.\n",
        )
        .unwrap();
        let settings = Settings::defaults_in(&content);
        let corpus = ingest::scan(&content, &IngestOptions::from_settings(&settings)).unwrap();
        let store = IndexStore::new(dir.path().join("index"), true, 50);
        store.rebuild(&corpus).unwrap();
        let options = SearchOptions::from_settings(&settings, Ranking::Full);
        let engine = Engine::new(store.open().unwrap(), options).unwrap();
        let searcher = engine.core.reader.searcher();
        let prepared = engine.prepare_words(&searcher, "who pays").unwrap();
        assert_eq!(prepared.info.terms, ["pay"]);
        assert_eq!(prepared.info.searched(), ["pay", "paid", "payment"]);
        assert_eq!(prepared.df, [2]);
    }
}
