//! The built index: a tantivy index of passages in `index.dir`, rebuilt atomically.
//!
//! Layout of `index.dir`:
//! - `v-<version>/` one complete tantivy index per version, with `briefbot.json` (the
//!   [`Manifest`]: schema version, build time, files skipped, and what updates changed of
//!   the list of briefings in `briefings.json`, each with its rows and file stamp), and the
//!   vectors files (each passage's vector, by its `row` field)
//!   when built with a sentence-embedding model. Each passage keeps a hash of what it
//!   shows in a fast field, for the next build's [`Diff`];
//! - `embeddings/<model id>.bin` every passage vector made by a model, by text hash: a
//!   rebuild embeds only the paragraphs it has not seen;
//! - `CURRENT` the name of the live version, replaced by an atomic rename;
//! - `.lock` held (an OS file lock, released when the process dies) by the one rebuild
//!   allowed at a time;
//! - `.build-*` a build in progress, or left by one that crashed (removed by the next);
//! - `DAMAGED` a reader's report that the live version is damaged, for the writer
//!   ([`damage`]).
//!
//! A version is prepared aside and published by renaming `CURRENT`: a reader sees the old
//! version or the new one, never a mix, and a crash at any point leaves the old one live.
//! A full rebuild writes a whole new index; an update ([`IndexStore::update`], every
//! ordinary change) starts from hard links to the live version's files, deletes and adds
//! the changed briefings' passages in one tantivy commit, and writes only the new segment,
//! the deletes files and the manifest.
//! This module never reads `content/`: it is handed a [`Corpus`](crate::ingest::Corpus).

pub mod damage;
mod ids;
mod integrity;
mod schema;
mod store;

pub use ids::passage_ids_containing;
pub use integrity::Depth;
pub use schema::{ANALYZER, Fields, SCHEMA_VERSION, analyzer};
pub use store::{
    BriefingChanges, BriefingInfo, BuildError, BuildKind, BuildReport, Changes, Columns, Diff,
    IndexStore, Manifest, OpenError, OpenIndex, Semantic, StoredPassages, VectorPart, VectorsInfo,
    WriterLock, all_passages, passage_text_keys, passages_of_source, source_passages,
};
