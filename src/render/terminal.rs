//! The answer as text for a terminal: each quote as a `>` block with the matched words
//! marked, then its citation. With `color`, matched words are bold and the best sentence
//! italic; without, matched words are wrapped in `**`.

use super::{Marks, citation, mark};
use crate::answer::Answer;

/// Renders `answer` wrapped at `width` columns.
pub fn render(answer: &Answer, color: bool, width: usize) -> String {
    let width = width.max(20);
    let mut out = String::new();
    if !answer.is_covered() {
        out.push_str("The briefings do not cover this question.\n");
        if !answer.nearest.is_empty() {
            out.push_str("Nearest briefings:\n");
            for title in &answer.nearest {
                out.push_str(&format!("  - {title}\n"));
            }
        }
        return out;
    }
    let marks = if color {
        Marks {
            term: ("\x1b[1m", "\x1b[22m"),
            sentence: ("\x1b[3m", "\x1b[23m"),
        }
    } else {
        Marks {
            term: ("**", "**"),
            sentence: ("", ""),
        }
    };
    for (i, hit) in answer.quotes.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let marked = mark(
            &hit.passage.text,
            &hit.highlights,
            Some(&hit.best_sentence),
            &marks,
            &|s| s.to_string(),
        );
        let options = wrap_options(width)
            .initial_indent("> ")
            .subsequent_indent("> ");
        for line in textwrap::wrap(&marked, options) {
            out.push_str(&line);
            out.push('\n');
        }
        let cite = format!("— {} [{}]", citation(&hit.passage), hit.passage.id);
        let options = wrap_options(width).subsequent_indent("  ");
        for line in textwrap::wrap(&cite, options) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Wraps at spaces only: a hyphenated name ("Indo-Pacific") is never split.
fn wrap_options(width: usize) -> textwrap::Options<'static> {
    textwrap::Options::new(width)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
}
