//! Markdown briefings: optional front matter, `#` headings as sections, and every
//! paragraph, list item, table row or code block as a paragraph. Markup is removed: the
//! text keeps the words (link text, emphasis, inline code), not the syntax.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{Paragraph, Parsed, collapse_whitespace, front_matter};

/// Parses a `.md` briefing; broken front matter is the only error.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let (mut meta, body) = front_matter::split(text)?;
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS;
    let mut state = State::default();
    for event in Parser::new_ext(body, options) {
        state.event(event, &mut meta.title);
    }
    state.flush();
    Ok(Parsed {
        meta,
        paragraphs: state.paragraphs,
    })
}

#[derive(Default)]
struct State {
    paragraphs: Vec<Paragraph>,
    section: Option<String>,
    /// Text of the block being read.
    block: String,
    /// Text of the heading being read, while inside one.
    heading: Option<(HeadingLevel, String)>,
    /// Depth of images: their alt text is not part of the paragraph.
    in_image: usize,
    /// Seen an H1 yet (the first one may be the title).
    seen_h1: bool,
}

impl State {
    fn event(&mut self, event: Event<'_>, title: &mut Option<String>) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                self.flush();
                self.heading = Some((level, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text)) = self.heading.take() {
                    self.heading_done(level, collapse_whitespace(&text), title);
                }
            }
            Event::Start(
                Tag::Paragraph | Tag::Item | Tag::CodeBlock(_) | Tag::TableRow | Tag::TableHead,
            ) => self.flush(),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::FootnoteDefinition,
            ) => self.flush(),
            Event::End(TagEnd::TableCell) => self.push(" | "),
            Event::Start(Tag::Image { .. }) => self.in_image += 1,
            Event::End(TagEnd::Image) => self.in_image = self.in_image.saturating_sub(1),
            Event::Text(text) | Event::Code(text) if self.in_image == 0 => self.push(&text),
            Event::SoftBreak | Event::HardBreak => self.push(" "),
            _ => {}
        }
    }

    fn push(&mut self, text: &str) {
        match &mut self.heading {
            Some((_, heading)) => heading.push_str(text),
            None => self.block.push_str(text),
        }
    }

    fn heading_done(&mut self, level: HeadingLevel, text: String, title: &mut Option<String>) {
        if text.is_empty() {
            return;
        }
        if level == HeadingLevel::H1 && !self.seen_h1 {
            self.seen_h1 = true;
            match title {
                None if self.paragraphs.is_empty() => {
                    *title = Some(text);
                    return;
                }
                Some(t) if *t == text => return,
                _ => {}
            }
        }
        self.section = Some(text);
    }

    fn flush(&mut self) {
        let text = collapse_whitespace(self.block.trim_end_matches([' ', '|']));
        self.block.clear();
        if text.chars().any(char::is_alphanumeric) {
            self.paragraphs.push(Paragraph {
                section: self.section.clone(),
                text,
                page: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_stripped_and_headings_are_sections() {
        let parsed = parse(
            "# The Title\n\nIntro with **bold**, _emphasis_, `code` and a [link](https://x.org).\n\n\
             ## Background\n\nA paragraph\nwrapped over lines.\n\n- item one\n- item two\n\n\
             ![alt text](img.png) Caption words.\n",
        )
        .unwrap();
        assert_eq!(parsed.meta.title.as_deref(), Some("The Title"));
        let got: Vec<_> = parsed
            .paragraphs
            .iter()
            .map(|p| (p.section.as_deref(), p.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (None, "Intro with bold, emphasis, code and a link."),
                (Some("Background"), "A paragraph wrapped over lines."),
                (Some("Background"), "item one"),
                (Some("Background"), "item two"),
                (Some("Background"), "Caption words."),
            ]
        );
    }

    #[test]
    fn front_matter_title_wins_and_a_matching_h1_is_not_a_section() {
        let parsed = parse("---\ntitle: Normans\n---\n\n# Normans\n\nThe Normans were.\n").unwrap();
        assert_eq!(parsed.meta.title.as_deref(), Some("Normans"));
        assert_eq!(parsed.paragraphs[0].section, None);
    }

    #[test]
    fn tables_become_rows() {
        let parsed = parse("| a | b |\n|---|---|\n| 1 | 2 |\n").unwrap();
        let texts: Vec<_> = parsed.paragraphs.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["a | b", "1 | 2"]);
    }
}
