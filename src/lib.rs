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

/// `err` and its causes, each after a colon — but a cause whose words are already said is
/// left out: many errors name their source in their own message too ("building the index
/// failed: Internal error: 'No space left on device (os error 28)': Internal error: 'No
/// space left on device (os error 28)'" said it twice), while others hide it (serenity's
/// "Error while sending HTTP request." holds the resolver's refusal only as its source).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("building the index failed: {0}")]
    struct Building(#[source] std::io::Error);

    #[test]
    fn a_cause_is_said_once() {
        let full = || std::io::Error::other("No space left on device (os error 28)");
        assert_eq!(
            error_chain(&Building(full())),
            "building the index failed: No space left on device (os error 28)"
        );
        // Causes that add words are kept, in order.
        let err = anyhow::Error::from(full()).context("writing index/v-1/meta.json");
        assert_eq!(
            error_chain(err.as_ref()),
            "writing index/v-1/meta.json: No space left on device (os error 28)"
        );
    }
}
