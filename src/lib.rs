//! briefbot answers questions about briefings by quoting their paragraphs verbatim, each
//! with its source. No text is generated: every sentence shown can be checked.
//!
//! The flow of one answer: [`ingest`] reads `content/` into briefings and paragraphs,
//! [`index`] keeps them in a tantivy index rebuilt atomically, [`search`] ranks passages
//! for a question, [`answer`] turns hits into an [`answer::Answer`], and [`render`] shows
//! it in a terminal or as JSON. [`app`] wires these for the CLI and the bot, and [`live`]
//! keeps a serving process's index live (new versions, changes, pending vectors); [`eval`]
//! measures the ranking on question sets and [`tune`] fits the re-ranker's weights.

pub mod answer;
pub mod app;
pub mod config;
pub mod discord;
pub mod eval;
mod fnv;
pub mod gaps;
pub mod generate;
pub mod index;
pub mod ingest;
pub mod library;
pub mod live;
pub mod moderate;
mod progress;
pub mod render;
pub mod search;
pub mod semantic;
pub mod state;
pub mod study;
pub mod tune;
pub mod watch;
pub mod web;
