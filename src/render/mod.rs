//! Renderings of an [`Answer`](crate::answer::Answer): terminal text, JSON and Discord
//! messages (as plain data). Renderers only format; they never search.

pub mod discord;
pub mod json;
pub mod terminal;

use std::ops::Range;

use crate::ingest::Passage;

/// `1 briefing`, `2 briefings`: a count with its noun, for every rendering.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// How a renderer marks matched words and the best sentence.
pub struct Marks<'a> {
    pub term: (&'a str, &'a str),
    pub sentence: (&'a str, &'a str),
}

/// `text` with the matched words and the best sentence wrapped in `marks`; `escape` is
/// applied to the text between marks. Ranges that are out of bounds or not on character
/// boundaries are ignored.
pub fn mark(
    text: &str,
    highlights: &[Range<usize>],
    sentence: Option<&Range<usize>>,
    marks: &Marks<'_>,
    escape: &dyn Fn(&str) -> String,
) -> String {
    let valid = |r: &Range<usize>| {
        r.start < r.end
            && r.end <= text.len()
            && text.is_char_boundary(r.start)
            && text.is_char_boundary(r.end)
    };
    // (position, order, marker): at one position a term closes, then the sentence closes,
    // then the sentence opens, then a term opens, so the marks always nest.
    let mut events: Vec<(usize, u8, &str)> = Vec::new();
    if let Some(s) = sentence.filter(|s| valid(s)) {
        events.push((s.start, 2, marks.sentence.0));
        events.push((s.end, 1, marks.sentence.1));
    }
    let mut last_end = 0;
    for h in highlights.iter().filter(|h| valid(h)) {
        if h.start < last_end {
            continue;
        }
        // A term never straddles the sentence's edge: clip it inside.
        let (start, end) = match sentence.filter(|s| valid(s)) {
            Some(s) if h.start < s.start && h.end > s.start => (h.start, s.start),
            Some(s) if h.start < s.end && h.end > s.end => (h.start, s.end),
            _ => (h.start, h.end),
        };
        events.push((start, 3, marks.term.0));
        events.push((end, 0, marks.term.1));
        last_end = h.end;
    }
    events.sort_by_key(|&(pos, order, _)| (pos, order));
    let mut out = String::with_capacity(text.len() + events.len() * 4);
    let mut pos = 0;
    for (at, _, marker) in events {
        out.push_str(&escape(&text[pos..at]));
        out.push_str(marker);
        pos = at;
    }
    out.push_str(&escape(&text[pos..]));
    out
}

/// The citation of a passage: `Title — Section, ¶n, p. n, date` (the page where the
/// briefing has pages), then the url if known.
pub fn citation(p: &Passage) -> String {
    let mut parts = vec![p.briefing.clone()];
    let mut place = Vec::new();
    if let Some(section) = &p.section {
        place.push(section.clone());
    }
    place.push(format!("¶{}", p.paragraph));
    if let Some(page) = p.page {
        place.push(format!("p. {page}"));
    }
    if let Some(date) = &p.date {
        place.push(date.clone());
    }
    parts.push(place.join(", "));
    let mut s = parts.join(" — ");
    if let Some(url) = &p.url {
        s.push_str(" — ");
        s.push_str(url);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_of_one_is_singular() {
        assert_eq!(count(1, "paragraph"), "1 paragraph");
        assert_eq!(count(0, "file"), "0 files");
        assert_eq!(count(6, "briefing"), "6 briefings");
    }

    const MARKS: Marks<'static> = Marks {
        term: ("[", "]"),
        sentence: ("{", "}"),
    };

    #[test]
    fn terms_and_sentence_nest() {
        let text = "One two. Three four five.";
        let out = mark(text, &[4..7, 9..14], Some(&(9..25)), &MARKS, &|s| {
            s.to_string()
        });
        assert_eq!(out, "One [two]. {[Three] four five.}");
        let out = mark(
            text,
            std::slice::from_ref(&(20..24)),
            Some(&(9..24)),
            &MARKS,
            &|s| s.to_string(),
        );
        assert_eq!(out, "One two. {Three four [five]}.");
    }

    #[test]
    fn bad_ranges_are_ignored() {
        let text = "héllo";
        #[allow(clippy::reversed_empty_ranges)]
        let out = mark(text, &[2..3, 0..99, 3..1], None, &MARKS, &|s| s.to_string());
        assert_eq!(out, "héllo");
    }
}
