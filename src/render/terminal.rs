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
        out.push_str(answer.refusal());
        out.push('\n');
        if !answer.nearest.is_empty() {
            out.push_str("Nearest briefings:\n");
            for title in &answer.nearest {
                out.push_str(&format!("  - {title}\n"));
            }
        }
        return out;
    }
    if !answer.verdict.covered {
        out.push_str(
            "The briefings may not cover this question; the closest paragraphs anyway:\n\n",
        );
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

/// Wraps `text` at `width` with `indent` on every line.
fn wrapped(text: &str, width: usize, indent: &str) -> String {
    let options = wrap_options(width.max(20))
        .initial_indent(indent)
        .subsequent_indent(indent);
    let mut out = String::new();
    for line in textwrap::wrap(text, options) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One page of a briefing: its title, the section, each paragraph numbered `¶n`.
pub fn reading_page(reading: &crate::study::reading::Reading, page: usize, width: usize) -> String {
    let page = page.min(reading.pages.len().saturating_sub(1));
    let mut out = format!(
        "{} — page {} of {}\n",
        reading.briefing.title,
        page + 1,
        reading.pages.len()
    );
    let mut section: Option<&Option<String>> = None;
    for p in reading.page(page) {
        if section != Some(&p.section) {
            if let Some(name) = &p.section {
                out.push_str(&format!("\n## {name}\n"));
            }
            section = Some(&p.section);
        }
        out.push('\n');
        out.push_str(&wrapped(&format!("¶{} {}", p.paragraph, p.text), width, ""));
    }
    out
}

/// A citation ready to paste: the paragraph in quotes, then title, section, ¶n, date,
/// url and passage id.
pub fn citation_block(p: &crate::ingest::Passage) -> String {
    format!("“{}”\n— {} [{}]\n", p.text, citation(p), p.id)
}

/// A quiz question with its choices lettered A to D.
pub fn quiz_question(quiz: &crate::study::quiz::Quiz, width: usize) -> String {
    let mut out = format!(
        "Quiz {} — which {} fills the blank?\n\n",
        quiz.seed,
        quiz.kind.noun()
    );
    out.push_str(&wrapped(&quiz.blanked, width, "  "));
    out.push('\n');
    for (i, choice) in quiz.choices.iter().enumerate() {
        out.push_str(&format!("  {}) {choice}\n", letter(i)));
    }
    out
}

/// The answer: the right choice, the sentence whole and the paragraph's citation.
pub fn quiz_answer(quiz: &crate::study::quiz::Quiz, width: usize) -> String {
    let mut out = format!(
        "Answer: {}) {}\n\n",
        letter(quiz.answer),
        quiz.right_choice()
    );
    out.push_str(&wrapped(&quiz.sentence, width, "> "));
    out.push_str(&wrapped(
        &format!("— {} [{}]", citation(&quiz.passage), quiz.passage.id),
        width,
        "",
    ));
    out
}

/// `A` for 0, `B` for 1…
pub fn letter(i: usize) -> char {
    char::from(b'A' + (i % 26) as u8)
}
