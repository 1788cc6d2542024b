//! The tantivy schema of a passage, and the text analyzer shared by indexing, querying
//! and highlighting (so that a highlighted word is exactly a word the index matched).

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};
use tantivy::{Index, TantivyDocument};

use crate::ingest::Passage;

/// Bumped whenever the schema, the analyzer or what is indexed changes: an index of
/// another version is rebuilt, never misread.
pub const SCHEMA_VERSION: u32 = 6;

/// Name under which [`analyzer`] is registered with tantivy.
pub const ANALYZER: &str = "briefbot_en";

/// English analysis: split on non-alphanumerics, drop tokens over 40 bytes, lowercase,
/// fold accents, Porter-stem (Snowball English).
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Handles on every field of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub slug: Field,
    pub title: Field,
    pub section: Field,
    /// The paragraph as shown (stored, not indexed on its own).
    pub text: Field,
    /// What BM25 searches: the paragraph, and the title and section when they are
    /// indexed inside the body.
    pub body: Field,
    pub paragraph: Field,
    /// The page a paragraph starts on, for briefings with pages (PDF).
    pub page: Field,
    pub url: Field,
    pub date: Field,
    pub author: Field,
    pub tags: Field,
    pub source: Field,
    /// The passage's number in its build (0, 1, …, in the order of the corpus): its
    /// record in the version's vectors file.
    pub row: Field,
    /// The passage's [`Library`](crate::library::Library), as its term: what a scope
    /// filters on.
    pub library: Field,
    /// A hash of what the passage shows (a fast field): what the next build's diff
    /// compares, read without opening a stored document.
    pub fingerprint: Field,
}

/// Builds the schema.
pub fn schema() -> (Schema, Fields) {
    let indexed = TextFieldIndexing::default()
        .set_tokenizer(ANALYZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let searchable_stored = TextOptions::default()
        .set_indexing_options(indexed.clone())
        .set_stored();
    let searchable = TextOptions::default().set_indexing_options(indexed);
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        slug: b.add_text_field("slug", STRING | STORED | FAST),
        title: b.add_text_field("title", searchable_stored.clone()),
        section: b.add_text_field("section", searchable_stored),
        text: b.add_text_field("text", STORED),
        body: b.add_text_field("body", searchable),
        paragraph: b.add_u64_field("paragraph", STORED | FAST),
        page: b.add_u64_field("page", STORED),
        url: b.add_text_field("url", STORED),
        date: b.add_text_field("date", STORED),
        author: b.add_text_field("author", STORED),
        tags: b.add_text_field("tags", STRING | STORED),
        source: b.add_text_field("source", STRING | STORED),
        row: b.add_u64_field("row", INDEXED | FAST),
        library: b.add_text_field("library", STRING),
        fingerprint: b.add_u64_field("fingerprint", FAST),
    };
    (b.build(), fields)
}

/// Reads the field handles of an opened index (fails if a field is missing).
pub fn fields_of(schema: &Schema) -> tantivy::Result<Fields> {
    let f = |name: &str| schema.get_field(name);
    Ok(Fields {
        id: f("id")?,
        slug: f("slug")?,
        title: f("title")?,
        section: f("section")?,
        text: f("text")?,
        body: f("body")?,
        paragraph: f("paragraph")?,
        page: f("page")?,
        url: f("url")?,
        date: f("date")?,
        author: f("author")?,
        tags: f("tags")?,
        source: f("source")?,
        row: f("row")?,
        library: f("library")?,
        fingerprint: f("fingerprint")?,
    })
}

/// Registers briefbot's analyzer with an index (needed after every create or open).
pub fn register(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

/// The tantivy document of a passage, with its row and [`fingerprint`](super::store).
pub fn document(
    fields: &Fields,
    p: &Passage,
    row: u64,
    fingerprint: u64,
    title_in_body: bool,
) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(fields.row, row);
    doc.add_u64(fields.fingerprint, fingerprint);
    doc.add_text(fields.id, &p.id);
    doc.add_text(fields.slug, &p.slug);
    doc.add_text(fields.title, &p.briefing);
    if let Some(section) = &p.section {
        doc.add_text(fields.section, section);
    }
    doc.add_text(fields.text, &p.text);
    if title_in_body {
        doc.add_text(fields.body, &p.briefing);
        if let Some(section) = &p.section {
            doc.add_text(fields.body, section);
        }
    }
    doc.add_text(fields.body, &p.text);
    doc.add_u64(fields.paragraph, p.paragraph);
    if let Some(page) = p.page {
        doc.add_u64(fields.page, page);
    }
    for (field, value) in [
        (fields.url, &p.url),
        (fields.date, &p.date),
        (fields.author, &p.author),
    ] {
        if let Some(v) = value {
            doc.add_text(field, v);
        }
    }
    for tag in &p.tags {
        doc.add_text(fields.tags, tag);
    }
    doc.add_text(fields.source, &p.source);
    doc.add_text(
        fields.library,
        crate::library::Library::of_source(&p.source).term(),
    );
    doc
}

/// The passage stored in a document (the inverse of [`document`]).
pub fn passage(fields: &Fields, doc: &TantivyDocument) -> Passage {
    use tantivy::schema::Value;
    let text = |field: Field| -> Option<String> {
        doc.get_first(field)
            .and_then(|v| v.as_str().map(str::to_string))
    };
    Passage {
        id: text(fields.id).unwrap_or_default(),
        slug: text(fields.slug).unwrap_or_default(),
        briefing: text(fields.title).unwrap_or_default(),
        section: text(fields.section),
        paragraph: doc
            .get_first(fields.paragraph)
            .and_then(|v| v.as_u64())
            .unwrap_or(0),
        page: doc.get_first(fields.page).and_then(|v| v.as_u64()),
        text: text(fields.text).unwrap_or_default(),
        url: text(fields.url),
        date: text(fields.date),
        author: text(fields.author),
        tags: doc
            .get_all(fields.tags)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        source: text(fields.source).unwrap_or_default(),
    }
}
