//! A briefing in pages, for reading together: each section starts a page, and a long
//! section is split into pages of a few paragraphs. Pages are named by their first
//! paragraph, so a page stays the same page when other briefings change.

use std::ops::Range;

use crate::index::BriefingInfo;
use crate::ingest::Passage;
use crate::search::{Engine, SearchError};

/// At most this many paragraphs on a page.
pub const PAGE_PARAGRAPHS: usize = 4;
/// A page ends before the paragraph that would take it past this many characters (a
/// longer paragraph has a page to itself).
pub const PAGE_CHARS: usize = 2_400;

/// One briefing, paged.
#[derive(Debug, Clone)]
pub struct Reading {
    pub briefing: BriefingInfo,
    /// Every paragraph, in order.
    pub passages: Vec<Passage>,
    /// Ranges of `passages`, one a page.
    pub pages: Vec<Range<usize>>,
}

impl Reading {
    pub fn open(engine: &Engine, briefing: &BriefingInfo) -> Result<Reading, SearchError> {
        Ok(Reading::new(
            briefing.clone(),
            engine.briefing_passages(briefing)?,
        ))
    }

    pub fn new(briefing: BriefingInfo, passages: Vec<Passage>) -> Reading {
        let mut pages: Vec<Range<usize>> = Vec::new();
        let mut start = 0;
        let mut chars = 0;
        for (i, p) in passages.iter().enumerate() {
            let size = p.text.chars().count();
            let new_section = i > 0 && passages[i - 1].section != p.section;
            let full = i - start >= PAGE_PARAGRAPHS || (i > start && chars + size > PAGE_CHARS);
            if i > start && (new_section || full) {
                pages.push(start..i);
                start = i;
                chars = 0;
            }
            chars += size;
        }
        if start < passages.len() {
            pages.push(start..passages.len());
        }
        Reading {
            briefing,
            passages,
            pages,
        }
    }

    /// The paragraphs of page `i` (0-based; clamped to the last page).
    pub fn page(&self, i: usize) -> &[Passage] {
        match self.pages.get(i.min(self.pages.len().saturating_sub(1))) {
            Some(r) => &self.passages[r.clone()],
            None => &[],
        }
    }

    /// The page holding paragraph `n` (1-based), or the last page past the end.
    pub fn page_of_paragraph(&self, n: u64) -> usize {
        self.pages
            .iter()
            .position(|r| self.passages[r.clone()].iter().any(|p| p.paragraph >= n))
            .unwrap_or(self.pages.len().saturating_sub(1))
    }

    /// The first page of the section whose name is, or else contains, `query` (any case).
    pub fn page_of_section(&self, query: &str) -> Option<usize> {
        let q = query.trim().to_lowercase();
        let sections = self.sections();
        let found = sections
            .iter()
            .find(|(name, _)| name.to_lowercase() == q)
            .or_else(|| {
                sections
                    .iter()
                    .find(|(name, _)| name.to_lowercase().contains(&q))
            })?;
        Some(self.page_of_paragraph(found.1))
    }

    /// Each section's name and first paragraph, in order (paragraphs before the first
    /// heading are under "Introduction").
    pub fn sections(&self) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = Vec::new();
        let mut last: Option<&Option<String>> = None;
        for p in &self.passages {
            if last != Some(&p.section) {
                let name = p
                    .section
                    .clone()
                    .unwrap_or_else(|| "Introduction".to_string());
                out.push((name, p.paragraph));
                last = Some(&p.section);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(n: u64, section: &str, words: usize) -> Passage {
        Passage {
            id: format!("b:{n}"),
            slug: "b".into(),
            briefing: "B".into(),
            section: (!section.is_empty()).then(|| section.to_string()),
            paragraph: n,
            page: None,
            text: "word ".repeat(words),
            url: None,
            date: None,
            author: None,
            tags: Vec::new(),
            source: "b.md".into(),
        }
    }

    fn info() -> BriefingInfo {
        BriefingInfo {
            slug: "b".into(),
            title: "B".into(),
            source: "b.md".into(),
            date: None,
            url: None,
            paragraphs: 0,
            first_row: 0,
            stamp: None,
        }
    }

    #[test]
    fn sections_start_pages_and_long_sections_are_split() {
        let mut ps = vec![passage(1, "", 10)];
        ps.extend((2..=7).map(|n| passage(n, "Why", 10)));
        ps.push(passage(8, "What next", 1000));
        ps.push(passage(9, "What next", 10));
        let r = Reading::new(info(), ps);
        assert_eq!(r.pages, vec![0..1, 1..5, 5..7, 7..8, 8..9]);
        assert_eq!(r.page_of_paragraph(6), 2);
        assert_eq!(r.page_of_paragraph(99), 4);
        assert_eq!(r.page_of_section("what NEXT"), Some(3));
        assert_eq!(r.page_of_section("why"), Some(1));
        assert_eq!(r.page_of_section("nowhere"), None);
        assert_eq!(
            r.sections(),
            vec![
                ("Introduction".to_string(), 1),
                ("Why".to_string(), 2),
                ("What next".to_string(), 8)
            ]
        );
        assert_eq!(r.page(99).len(), 1);
    }
}
