//! Plain-text briefings, as a page saved as text: page furniture, a title line, short
//! headings, and paragraphs separated by blank lines (or one per line).

use super::{IngestOptions, Meta, Paragraph, Parsed, collapse_whitespace};

/// A title line longer than this many words is taken as a paragraph instead.
const TITLE_MAX_WORDS: usize = 30;
/// Lines of a hard-wrapped paragraph are at most this long (in characters).
const WRAP_MAX_CHARS: usize = 100;

/// Parses a `.txt` briefing. Never fails: any text has paragraphs or none.
pub fn parse(text: &str, options: &IngestOptions) -> Parsed {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !options.furniture.iter().any(|re| re.is_match(line)))
        .collect();
    let blocks = blocks(&lines);

    let mut meta = Meta::default();
    let mut rest = &blocks[..];
    if let Some((first, after)) = blocks.split_first()
        && first.len() == 1
        && !after.is_empty()
        && word_count(first[0]) <= TITLE_MAX_WORDS
    {
        meta.title = Some(collapse_whitespace(first[0]));
        rest = after;
    }

    let mut paragraphs = Vec::new();
    let mut section: Option<String> = None;
    let total = rest.len();
    for (b, block) in rest.iter().enumerate() {
        let is_last_block = b + 1 == total;
        // A heading stands alone in its block, or opens one when it ends like a question
        // or a label ("What is happening?", "Background:"); otherwise a short first line
        // is the start of a wrapped paragraph.
        let heading_lines = match block.as_slice() {
            [line] if !is_last_block => usize::from(is_heading(line, options.heading_max_words)),
            [first, ..] if block.len() > 1 => usize::from(
                first.ends_with(['?', ':']) && is_heading(first, options.heading_max_words),
            ),
            _ => 0,
        };
        if heading_lines == 1 {
            section = Some(collapse_whitespace(block[0]));
        }
        push_run(&mut paragraphs, &block[heading_lines..], &section);
    }
    Parsed { meta, paragraphs }
}

/// Groups lines into blocks separated by blank lines.
fn blocks<'a>(lines: &[&'a str]) -> Vec<Vec<&'a str>> {
    lines
        .split(|line| line.is_empty())
        .filter(|block| !block.is_empty())
        .map(<[&str]>::to_vec)
        .collect()
}

/// Turns a run of non-heading lines into paragraphs: one if the lines look hard-wrapped,
/// otherwise one per line.
fn push_run(out: &mut Vec<Paragraph>, run: &[&str], section: &Option<String>) {
    if run.is_empty() {
        return;
    }
    let inner = &run[..run.len() - 1];
    let wrapped = !inner.is_empty()
        && inner.iter().all(|l| l.chars().count() <= WRAP_MAX_CHARS)
        && inner.iter().any(|l| !l.ends_with(['.', '!', '?', ':']));
    let texts: Vec<String> = if wrapped {
        vec![collapse_whitespace(&run.join(" "))]
    } else {
        run.iter().map(|l| collapse_whitespace(l)).collect()
    };
    out.extend(texts.into_iter().map(|text| Paragraph {
        section: section.clone(),
        text,
        page: None,
    }));
}

fn word_count(line: &str) -> usize {
    line.split_whitespace().count()
}

fn ends_sentence(line: &str) -> bool {
    line.trim_end_matches(['"', '\'', '”', '’', ')'])
        .ends_with(['.', '!', ';', ','])
}

/// A heading is a short line that does not end like a sentence ("What is happening?" does
/// not: a question mark or a colon may end a heading).
fn is_heading(line: &str, max_words: usize) -> bool {
    let words = word_count(line);
    words > 0 && words <= max_words && !ends_sentence(line) && line.chars().any(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use std::path::Path;

    fn parse_default(text: &str) -> Parsed {
        let options = IngestOptions::from_settings(&Settings::defaults_in(Path::new(".")));
        parse(text, &options)
    }

    #[test]
    fn furniture_title_sections_and_paragraphs() {
        let parsed = parse_default(
            "Close this search box.\n\nA Title: Of Things\n\nWhat is happening?\n\n\
             First paragraph, one line.\n\nSecond paragraph.\n\n\nWhy now?\n\nThird one.\n",
        );
        assert_eq!(parsed.meta.title.as_deref(), Some("A Title: Of Things"));
        let got: Vec<_> = parsed
            .paragraphs
            .iter()
            .map(|p| (p.section.as_deref().unwrap(), p.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("What is happening?", "First paragraph, one line."),
                ("What is happening?", "Second paragraph."),
                ("Why now?", "Third one."),
            ]
        );
    }

    #[test]
    fn hard_wrapped_lines_are_joined() {
        let parsed = parse_default(
            "Title\n\nThis paragraph was wrapped\nby an editor at a short width\nand ends here.\n",
        );
        assert_eq!(parsed.paragraphs.len(), 1);
        assert_eq!(
            parsed.paragraphs[0].text,
            "This paragraph was wrapped by an editor at a short width and ends here."
        );
    }

    #[test]
    fn one_paragraph_per_line_when_lines_are_sentences() {
        let parsed = parse_default("Title\n\nOne sentence.\nAnother sentence.\n");
        assert_eq!(parsed.paragraphs.len(), 2);
    }

    #[test]
    fn a_short_last_line_is_a_paragraph_not_a_heading() {
        let parsed = parse_default("Title\n\nBody text.\n\nThe end\n");
        assert_eq!(parsed.paragraphs.last().unwrap().text, "The end");
    }
}
