//! From a PDF's positioned glyphs back to a briefing's paragraphs.
//!
//! A PDF has no paragraphs, only glyphs drawn at places. This rebuilds them the way a
//! reader's eye does: glyphs on one baseline without a wide gap make a span; spans
//! repeated at the top or bottom of the pages (running headers, footers) and lone page
//! numbers there are dropped; a vertical gutter that almost no span crosses splits a
//! page into two columns, read left then right (lines crossing it, such as a title, are
//! read where they stand); lines on a baseline make a line, and a line of several spans
//! far apart is a table row; a gap taller than the usual leading, a first-line indent, a
//! change of size or a short line ending a sentence starts a new paragraph; a line in a
//! larger size than the body text, short and not ending like a sentence, is a heading
//! (the largest on the first page is the title when the document's metadata has none);
//! a word hyphenated at a line's end is joined again. Everything is in points, relative
//! to the font size, so no threshold depends on the page's size.

use super::{Glyph, Page};
use crate::ingest::{Meta, Paragraph, Parsed, collapse_whitespace};

/// Glyphs further apart than this many ems on one baseline belong to different spans
/// (columns, table cells); a word space is about a quarter of an em.
const SPAN_GAP_EM: f64 = 1.5;
/// A gap wider than this many ems inside a span is a space between words.
const SPACE_EM: f64 = 0.15;
/// The share of the page's height, at its top and at its bottom, where running headers,
/// footers and page numbers are looked for.
const MARGIN_SHARE: f64 = 0.09;
/// A line this much larger than the body text (or more) may be a heading.
const HEADING_RATIO: f64 = 1.15;
/// A gap between baselines over this many times the body's leading ends a paragraph.
const PARAGRAPH_GAP: f64 = 1.45;

/// A run of glyphs on one baseline with no wide gap: a line of one column, or a cell.
#[derive(Debug, Clone)]
struct Span {
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    text: String,
}

/// One line of text in reading order.
#[derive(Debug, Clone)]
struct Line {
    page: u32,
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    /// The line's spans joined by spaces.
    text: String,
    /// The same joined as a table row's cells.
    row: String,
    /// How many spans far apart the line has: a table row has several.
    cells: usize,
    /// Left edge and width of the column (or band) the line was read in.
    column: (f64, f64),
    /// The first line of a column or page: what came before it is not above it.
    flow_start: bool,
}

/// Lays the pages out into a briefing's title and paragraphs.
pub(super) fn parsed(
    title: Option<String>,
    pages: &[Page],
    heading_max_words: usize,
) -> Result<Parsed, String> {
    let has_text = pages
        .iter()
        .flat_map(|p| &p.glyphs)
        .any(|g| g.text.chars().any(char::is_alphanumeric));
    if !has_text {
        return Err("no text in it: an image-only (scanned) PDF, and briefbot does no OCR".into());
    }
    let spans: Vec<Vec<Span>> = pages.iter().map(|p| spans(&p.glyphs)).collect();
    let furniture = Furniture::of(pages, &spans, title.clone());
    let mut lines = Vec::new();
    for (page, spans) in pages.iter().zip(spans) {
        // To see them: BRIEFBOT_LOG=briefbot=trace briefbot pdf-extract --max-pages=500
        // --max-chars=8000000 --heading-max-words=12 --timeout-seconds=30 < FILE.pdf
        for s in &spans {
            tracing::trace!(page = page.number, x0 = s.x0, x1 = s.x1, y = s.y, size = s.size, text = %s.text, "PDF span");
        }
        let body: Vec<Span> = spans
            .into_iter()
            .filter(|s| !furniture.drops(page, s))
            .collect();
        lines.extend(read_page(page.number, body));
    }
    Ok(build(title, &lines, heading_max_words))
}

/// A run of glyphs as the page draws them: one after another, left to right, on one
/// baseline. Where a run's glyphs are placed is computed from the font's widths, which
/// some files give wrong; where a run starts is what the page says. So runs are ordered
/// by their start, never glyph by glyph across runs.
struct Run {
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    text: String,
}

/// Glyphs → runs → spans: the runs of a baseline read left to right, joined unless the
/// gap between them is wide.
fn spans(glyphs: &[Glyph]) -> Vec<Span> {
    let advance = Advances::of(glyphs);
    let mut runs: Vec<Run> = Vec::new();
    let mut last: Option<&Glyph> = None;
    for (i, g) in glyphs.iter().enumerate() {
        let em = g.size.max(1.0);
        let blank = g.text.trim().is_empty();
        let end = g.x + advance.width(g);
        if let (Some(run), Some(prev)) = (runs.last_mut(), last) {
            let same_line = (g.y - run.y).abs() < 0.35 * em.max(run.size);
            if same_line && prev.text == g.text && (g.x - prev.x).abs() < 0.1 * em {
                // Drawn twice a hair apart (a bold faked by overprinting): one glyph.
                continue;
            }
            let gap = g.x - run.x1;
            if same_line && g.x >= prev.x && gap < SPAN_GAP_EM * em {
                // A blank glyph is a space only if the next glyph starts past it: Chromium
                // draws a blank of no width where a word may be hyphenated.
                let advances = glyphs.get(i + 1).is_none_or(|next| {
                    (next.x - g.x).abs() > 0.1 * em || (next.y - g.y).abs() > 0.1
                });
                if blank {
                    if advances {
                        run.text.push(' ');
                    }
                } else {
                    if gap > SPACE_EM * em {
                        run.text.push(' ');
                    }
                    run.text.push_str(&ligatures(&g.text));
                    run.size = run.size.max(g.size);
                }
                run.x1 = run.x1.max(end);
                last = Some(g);
                continue;
            }
        }
        last = Some(g);
        if blank {
            continue;
        }
        runs.push(Run {
            x0: g.x,
            x1: end.max(g.x),
            y: g.y,
            size: g.size,
            text: ligatures(&g.text),
        });
    }
    runs.sort_by(|a, b| b.y.total_cmp(&a.y));
    let mut baselines: Vec<Vec<Run>> = Vec::new();
    for run in runs {
        match baselines.last_mut() {
            Some(line)
                if (line[0].y - run.y).abs() < 0.35 * line[0].size.max(run.size).max(1.0) =>
            {
                line.push(run)
            }
            _ => baselines.push(vec![run]),
        }
    }
    let mut out: Vec<Span> = Vec::new();
    for mut line in baselines {
        line.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        let mut current: Option<Span> = None;
        for run in line {
            let em = run.size.max(1.0);
            match &mut current {
                Some(span) if run.x0 - span.x1 < SPAN_GAP_EM * em.max(span.size) => {
                    if run.x0 - span.x1 > SPACE_EM * em && !span.text.ends_with(' ') {
                        span.text.push(' ');
                    }
                    span.text.push_str(&run.text);
                    span.x1 = span.x1.max(run.x1);
                    span.size = span.size.max(run.size);
                }
                _ => {
                    out.extend(current.take());
                    current = Some(Span {
                        x0: run.x0,
                        x1: run.x1,
                        y: run.y,
                        size: run.size,
                        text: run.text,
                    });
                }
            }
        }
        out.extend(current);
    }
    for s in &mut out {
        s.text = collapse_whitespace(&s.text);
    }
    out.retain(|s| !s.text.is_empty());
    out
}

/// The Latin ligatures of Unicode's presentation forms as their letters, so that "ﬁsh"
/// is found by "fish".
fn ligatures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{fb00}' => out.push_str("ff"),
            '\u{fb01}' => out.push_str("fi"),
            '\u{fb02}' => out.push_str("fl"),
            '\u{fb03}' => out.push_str("ffi"),
            '\u{fb04}' => out.push_str("ffl"),
            '\u{fb05}' | '\u{fb06}' => out.push_str("st"),
            c => out.push(c),
        }
    }
    out
}

/// How far each letter or digit really advances, as the page shows it: some fonts'
/// width tables are read short (digits in Chromium's subset fonts, for one), which would
/// put a space inside "2025". The smallest step seen from a letter or digit straight to
/// the next glyph, in one size, is that glyph's true advance.
struct Advances {
    seen: std::collections::HashMap<(char, i64), f64>,
}

impl Advances {
    fn of(glyphs: &[Glyph]) -> Advances {
        let mut seen: std::collections::HashMap<(char, i64), f64> = Default::default();
        for pair in glyphs.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let step = b.x - a.x;
            if let Some(key) = Self::key(a).filter(|(c, _)| c.is_alphanumeric())
                && !b.text.trim().is_empty()
                && a.y == b.y
                && a.size == b.size
                && step > 0.0
                && step < 0.9 * a.size
            {
                let min = seen.entry(key).or_insert(step);
                *min = min.min(step);
            }
        }
        Advances { seen }
    }

    /// A glyph of one character, in one size (a tenth of a point).
    fn key(g: &Glyph) -> Option<(char, i64)> {
        let mut chars = g.text.chars();
        let c = chars.next()?;
        chars
            .next()
            .is_none()
            .then(|| (c, (g.size * 10.0).round() as i64))
    }

    fn width(&self, g: &Glyph) -> f64 {
        let drawn = g.end - g.x;
        match Self::key(g).and_then(|k| self.seen.get(&k)) {
            Some(&step) if step > drawn => step,
            _ => drawn,
        }
    }
}

/// Running headers, footers and page numbers: spans in the page's top or bottom margin
/// that are a page number, whose text (digits aside) comes back on other pages, or that a
/// printed web page puts there on every page (its address, the date and time it was
/// printed, its title: what a one-page print shows once).
struct Furniture {
    repeated: std::collections::HashSet<String>,
    title: Option<String>,
}

impl Furniture {
    fn of(pages: &[Page], spans: &[Vec<Span>], title: Option<String>) -> Furniture {
        let mut pages_of: std::collections::HashMap<String, usize> = Default::default();
        for (page, spans) in pages.iter().zip(spans) {
            let mut seen = std::collections::HashSet::new();
            for s in spans.iter().filter(|s| in_margin(page, s)) {
                if seen.insert(shape(&s.text)) {
                    *pages_of.entry(shape(&s.text)).or_default() += 1;
                }
            }
        }
        let needed = ((pages.len() as f64 * 0.4).ceil() as usize).max(2);
        Furniture {
            title,
            repeated: pages_of
                .into_iter()
                .filter(|&(_, n)| n >= needed)
                .map(|(key, _)| key)
                .collect(),
        }
    }

    fn drops(&self, page: &Page, span: &Span) -> bool {
        in_margin(page, span)
            && (is_page_number(&span.text)
                || self.repeated.contains(&shape(&span.text))
                || is_address(&span.text)
                || is_timestamp(&span.text)
                || self
                    .title
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(span.text.trim())))
    }
}

/// A web address alone: what a browser prints in a page's footer (a stray space may
/// sit inside it where the font's widths are read short).
fn is_address(text: &str) -> bool {
    let t = text.trim();
    t.split_whitespace().count() <= 3 && (t.contains("://") || t.starts_with("www."))
}

/// A date and time alone ("12/4/26, 10:23 PM", "2024-03-01 14:05"): a print's stamp.
fn is_timestamp(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let t = t.trim_end_matches("am").trim_end_matches("pm").trim();
    t.chars().filter(char::is_ascii_digit).count() >= 4
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '/' | '-' | ':' | ',' | '.' | ' '))
}

fn in_margin(page: &Page, span: &Span) -> bool {
    let (_, bottom, _, top) = page.bounds;
    let margin = (top - bottom).abs() * MARGIN_SHARE;
    span.y > top - margin || span.y < bottom + margin
}

/// A span's text with digits folded, so "Page 3" and "Page 4" are one header.
fn shape(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect::<String>()
        .to_lowercase()
}

fn is_page_number(text: &str) -> bool {
    let t = text.trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace());
    let t = t.to_lowercase();
    let t = t.strip_prefix("page").map_or(t.as_str(), str::trim);
    let words: Vec<&str> = t.split_whitespace().collect();
    let number = |w: &str| {
        !w.is_empty()
            && (w.chars().all(|c| c.is_ascii_digit())
                || w.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l')))
    };
    match words.as_slice() {
        [n] => number(n) || n.split('/').all(number),
        [n, "of", m] => number(n) && number(m),
        _ => false,
    }
}

/// One page's body spans → lines in reading order.
fn read_page(page: u32, spans: Vec<Span>) -> Vec<Line> {
    if spans.is_empty() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    match gutter(&spans) {
        None => lines.extend(lines_of(page, spans, true)),
        Some(g) => {
            let (mut across, mut left, mut right) = (Vec::new(), Vec::new(), Vec::new());
            for s in spans {
                if s.x1 <= g + 1.0 {
                    left.push(s);
                } else if s.x0 >= g - 1.0 {
                    right.push(s);
                } else {
                    across.push(s);
                }
            }
            // Lines that cross the gutter (a title, a wide figure caption) cut the page
            // into bands; each band is read left column, then right.
            across.sort_by(|a, b| b.y.total_cmp(&a.y));
            let band = |s: &Span| across.iter().filter(|a| a.y > s.y + 0.5).count();
            for b in 0..=across.len() {
                let left_b: Vec<Span> = left.iter().filter(|s| band(s) == b).cloned().collect();
                let right_b: Vec<Span> = right.iter().filter(|s| band(s) == b).cloned().collect();
                lines.extend(lines_of(page, left_b, true));
                lines.extend(lines_of(page, right_b, true));
                if let Some(a) = across.get(b) {
                    lines.extend(lines_of(page, vec![a.clone()], false));
                }
            }
        }
    }
    if let Some(first) = lines.first_mut() {
        first.flow_start = true;
    }
    lines
}

/// The x of a vertical gutter between two columns, if the page has one: the place near
/// the middle that the fewest spans cross, if both sides hold text and at most a few
/// spans (a title) cross it. A table inside one column does not split it: the column's
/// lines cross the table's gaps.
fn gutter(spans: &[Span]) -> Option<f64> {
    let left = spans.iter().map(|s| s.x0).fold(f64::INFINITY, f64::min);
    let right = spans.iter().map(|s| s.x1).fold(f64::NEG_INFINITY, f64::max);
    let width = right - left;
    if width < 100.0 || spans.len() < 6 {
        return None;
    }
    let mut best: Option<(usize, f64, f64)> = None;
    let mut x = left + 0.3 * width;
    while x <= left + 0.7 * width {
        let crossing = spans
            .iter()
            .filter(|s| s.x0 < x - 1.0 && s.x1 > x + 1.0)
            .count();
        let off_centre = (x - (left + width / 2.0)).abs();
        if best.is_none_or(|(c, _, d)| crossing < c || (crossing == c && off_centre < d)) {
            best = Some((crossing, x, off_centre));
        }
        x += 2.0;
    }
    let (crossing, x, _) = best?;
    let on_left = spans.iter().filter(|s| s.x1 <= x + 1.0).count();
    let on_right = spans.iter().filter(|s| s.x0 >= x - 1.0).count();
    let total = spans.len() as f64;
    (on_left >= 3 && on_right >= 3 && (crossing as f64) <= 0.15 * total).then_some(x)
}

/// Spans of one column (or band) → lines, top to bottom.
fn lines_of(page: u32, mut spans: Vec<Span>, column: bool) -> Vec<Line> {
    if spans.is_empty() {
        return Vec::new();
    }
    spans.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));
    let x0 = spans.iter().map(|s| s.x0).fold(f64::INFINITY, f64::min);
    let x1 = spans.iter().map(|s| s.x1).fold(f64::NEG_INFINITY, f64::max);
    let mut lines: Vec<Line> = Vec::new();
    let mut row: Vec<Span> = Vec::new();
    let flush = |row: &mut Vec<Span>, lines: &mut Vec<Line>| {
        if row.is_empty() {
            return;
        }
        row.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        let size = row.iter().map(|s| s.size).fold(0.0, f64::max);
        let cells = row.len();
        let texts: Vec<&str> = row.iter().map(|s| s.text.as_str()).collect();
        lines.push(Line {
            page,
            x0: row[0].x0,
            x1: row.iter().map(|s| s.x1).fold(f64::NEG_INFINITY, f64::max),
            y: row[0].y,
            size,
            text: texts.join(" "),
            row: texts.join(" | "),
            cells,
            column: (x0, (x1 - x0).max(1.0)),
            flow_start: column && lines.is_empty(),
        });
        row.clear();
    };
    for s in spans {
        if let Some(first) = row.first()
            && (first.y - s.y).abs() >= 0.35 * first.size.max(s.size).max(1.0)
        {
            flush(&mut row, &mut lines);
        }
        row.push(s);
    }
    flush(&mut row, &mut lines);
    lines
}

/// The body text's size: the size most of the document's characters are set in.
fn body_size(lines: &[Line]) -> f64 {
    let mut by_size: std::collections::BTreeMap<i64, usize> = Default::default();
    for l in lines {
        *by_size.entry((l.size * 2.0).round() as i64).or_default() += l.text.len();
    }
    by_size
        .into_iter()
        .max_by_key(|&(size, chars)| (chars, -size))
        .map_or(10.0, |(size, _)| size as f64 / 2.0)
}

/// The body's usual distance between baselines.
fn body_leading(lines: &[Line], body: f64) -> f64 {
    let mut gaps: Vec<f64> = lines
        .windows(2)
        .filter(|w| !w[1].flow_start && w[0].page == w[1].page)
        .filter(|w| same_size(w[0].size, body) && same_size(w[1].size, body))
        .map(|w| w[0].y - w[1].y)
        .filter(|&g| g > 0.5 * body && g < 4.0 * body)
        .collect();
    if gaps.is_empty() {
        return 1.2 * body;
    }
    gaps.sort_by(f64::total_cmp);
    gaps[gaps.len() / 2]
}

fn same_size(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.15 * a.max(b)
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end()
        .trim_end_matches(['"', '”', '’', ')', '\''])
        .ends_with(['.', '!', '?', ':'])
}

fn is_heading(line: &Line, body: f64, max_words: usize) -> bool {
    line.cells == 1
        && line.size >= body * HEADING_RATIO
        && line.text.split_whitespace().count() <= max_words
        && line.text.chars().any(char::is_alphabetic)
        && !line.text.trim_end().ends_with(['.', ',', ';'])
}

/// A heading (possibly over several lines) or a paragraph being gathered.
enum Block {
    Heading {
        size: f64,
        page: u32,
        text: String,
    },
    Text {
        page: u32,
        text: String,
        table: bool,
    },
}

/// Lines in reading order → title and paragraphs.
fn build(info_title: Option<String>, lines: &[Line], heading_max_words: usize) -> Parsed {
    let body = body_size(lines);
    let leading = body_leading(lines, body);
    let in_table = tables(lines, leading);
    let mut blocks: Vec<Block> = Vec::new();
    let mut prev: Option<&Line> = None;
    for (line, &row) in lines.iter().zip(&in_table) {
        let heading = !row && is_heading(line, body, heading_max_words);
        let continues = prev.is_some_and(|p| continues(p, line, heading, leading));
        let text = if row { &line.row } else { &line.text };
        match (blocks.last_mut(), heading) {
            (
                Some(Block::Heading {
                    size, text: so_far, ..
                }),
                true,
            ) if continues && same_size(*size, line.size) => {
                so_far.push(' ');
                so_far.push_str(text);
            }
            (
                Some(Block::Text {
                    text: so_far,
                    table,
                    ..
                }),
                false,
            ) if (continues || (row && *table)) && *table == row => {
                join_line(so_far, text, *table);
            }
            (_, true) => blocks.push(Block::Heading {
                size: line.size,
                page: line.page,
                text: text.clone(),
            }),
            (_, false) => blocks.push(Block::Text {
                page: line.page,
                text: text.clone(),
                table: row,
            }),
        }
        prev = Some(line);
    }
    assemble(info_title, blocks)
}

/// Which lines are table rows: a run of at least two lines of cells, with the lines
/// between them that do not end a sentence (a row whose cells sit close, such as
/// "United Kingdom 28.5%"), close together in one column. A lone line with a wide gap (a
/// justified line in a narrow column) is not a table.
fn tables(lines: &[Line], leading: f64) -> Vec<bool> {
    let mut marks = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        if lines[i].cells < 2 {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < lines.len() {
            let (prev, next) = (&lines[j - 1], &lines[j]);
            let close = !next.flow_start
                && same_size(prev.size, next.size)
                && prev.y - next.y <= PARAGRAPH_GAP * leading.max(prev.size) * 1.2;
            if !close || (next.cells < 2 && ends_sentence(&next.text)) {
                break;
            }
            j += 1;
        }
        // Trailing lines of one span after the last row are not the table's.
        while j > i + 1 && lines[j - 1].cells < 2 {
            j -= 1;
        }
        if lines[i..j].iter().filter(|l| l.cells >= 2).count() >= 2 {
            marks[i..j].iter_mut().for_each(|m| *m = true);
        }
        i = j;
    }
    marks
}

/// Whether `line` goes on the block `prev` belongs to.
fn continues(prev: &Line, line: &Line, heading: bool, leading: f64) -> bool {
    if line.flow_start {
        // A new column or page: the paragraph goes on only if it was cut mid-sentence.
        let starts_low = line.text.chars().next().is_some_and(char::is_lowercase);
        return !heading
            && (prev.text.ends_with('-') || (!ends_sentence(&prev.text) && starts_low));
    }
    if !same_size(prev.size, line.size) {
        return false;
    }
    let gap = prev.y - line.y;
    if gap > PARAGRAPH_GAP * leading.max(prev.size) || gap < 0.0 {
        return false;
    }
    if heading {
        return true;
    }
    let (col_x0, col_width) = line.column;
    let em = line.size.max(1.0);
    let indented = line.x0 > col_x0 + em && prev.x0 <= col_x0 + 0.5 * em;
    let short = prev.x1 < col_x0 + 0.8 * col_width && ends_sentence(&prev.text);
    !(indented || short)
}

/// Appends a line to a paragraph, joining a word hyphenated across the break.
fn join_line(text: &mut String, line: &str, table: bool) {
    if table {
        text.push_str(" / ");
        text.push_str(line);
        return;
    }
    if text.ends_with('\u{ad}') {
        text.pop();
        text.push_str(line);
        return;
    }
    let next_low = line.chars().next().is_some_and(char::is_lowercase);
    let before: String = text
        .trim_end_matches('-')
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if text.ends_with('-') && !text.ends_with("--") && next_low && !before.is_empty() {
        let after: String = line.chars().take_while(|c| c.is_alphabetic()).collect();
        if dehyphenate(&before, &after) {
            text.pop();
        }
        text.push_str(line);
        return;
    }
    text.push(' ');
    text.push_str(line);
}

/// Whether `a-` at a line's end and `b` at the next line's start are one word broken by
/// hyphenation ("inter-" "national") rather than a hyphenated compound ("well-" "known"):
/// one word when English knows the joined word, or does not know both halves.
fn dehyphenate(a: &str, b: &str) -> bool {
    let known = |w: &str| crate::search::english::is_known_word(w);
    known(&format!("{a}{b}")) || !(known(a) && known(b))
}

/// Blocks → the briefing's title and its paragraphs under their headings.
fn assemble(info_title: Option<String>, blocks: Vec<Block>) -> Parsed {
    // The largest heading on the first page with headings is the title when the file's
    // metadata has none, and is not a section then.
    let first_page = blocks.iter().find_map(|b| match b {
        Block::Heading { page, .. } => Some(*page),
        Block::Text { .. } => None,
    });
    let mut title_block: Option<usize> = None;
    let mut largest = 0.0;
    for (i, b) in blocks.iter().enumerate() {
        if let Block::Heading { size, page, .. } = b
            && Some(*page) == first_page
            && *size > largest
        {
            largest = *size;
            title_block = Some(i);
        }
    }
    let heading_text = |i: usize| match &blocks[i] {
        Block::Heading { text, .. } => collapse_whitespace(text),
        Block::Text { .. } => String::new(),
    };
    let title = match (&info_title, title_block) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(i)) => Some(heading_text(i)),
        (None, None) => None,
    };
    let title_is_heading = |i: usize| {
        Some(i) == title_block
            && title
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(&heading_text(i)))
    };
    let mut paragraphs = Vec::new();
    let mut section: Option<String> = None;
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading { text, .. } => {
                if !title_is_heading(i) {
                    section = Some(collapse_whitespace(text));
                }
            }
            Block::Text { page, text, .. } => {
                // Soft hyphens left inside a line are invisible.
                let text = collapse_whitespace(&text.replace('\u{ad}', ""));
                if text.chars().any(char::is_alphanumeric) {
                    paragraphs.push(Paragraph {
                        section: section.clone(),
                        text,
                        page: Some(*page),
                    });
                }
            }
        }
    }
    Parsed {
        meta: Meta {
            title,
            ..Meta::default()
        },
        paragraphs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_told_from_text() {
        for t in ["3", "- 12 -", "Page 4", "page 4 of 20", "iv", "7/9"] {
            assert!(is_page_number(t), "{t}");
        }
        for t in ["Chapter 3", "2024 budget", "Page four", "In 2024"] {
            assert!(!is_page_number(t), "{t}");
        }
    }

    #[test]
    fn hyphenation_joins_words_and_keeps_compounds() {
        let mut s = "the inter-".to_string();
        join_line(&mut s, "national order", false);
        assert_eq!(s, "the international order");
        let mut s = "a well-".to_string();
        join_line(&mut s, "known fact", false);
        assert_eq!(s, "a well-known fact");
        let mut s = "the year 2024 -".to_string();
        join_line(&mut s, "and after", false);
        assert_eq!(s, "the year 2024 - and after");
    }
}
