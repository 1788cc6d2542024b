//! PDF briefings, from PDFs the tests write themselves (tests/common/pdf.rs): one and two
//! columns, a heading hierarchy, hyphenated line ends, running headers and page numbers,
//! a table, a 200-page file; and the files that must be refused with a reason (encrypted,
//! image-only, truncated, not a PDF, too many pages). Then a PDF in `content/` answering
//! from the terminal with its page in the citation, its address from its `.yaml` file.

mod common;

use std::path::Path;

use briefbot::config::Settings;
use briefbot::ingest::{self, IngestOptions, Parsed};
use common::Workspace;
use common::pdf::{self, Page, Text, text};

fn options() -> IngestOptions {
    IngestOptions::from_settings(&Settings::defaults_in(Path::new(".")))
}

fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    ingest::parse(Path::new("brief.pdf"), bytes, &options())
}

fn texts(parsed: &Parsed) -> Vec<&str> {
    parsed.paragraphs.iter().map(|p| p.text.as_str()).collect()
}

/// A paragraph's words wrapped to `chars` a line, set from `y` down: its lines and the
/// baseline below its last line.
fn paragraph(x: f64, y: f64, size: f64, chars: usize, words: &str) -> (Vec<Text>, f64) {
    let leading = size * 1.2;
    let wrapped = pdf::wrap(words, chars);
    let items: Vec<&str> = wrapped.iter().map(String::as_str).collect();
    let lines = pdf::lines(x, y, size, leading, &items);
    (lines, y - leading * items.len() as f64)
}

/// Paragraphs in one column from `y` down, a blank line between them.
fn column(x: f64, mut y: f64, size: f64, chars: usize, paragraphs: &[&str]) -> (Vec<Text>, f64) {
    let mut out = Vec::new();
    for p in paragraphs {
        let (lines, below) = paragraph(x, y, size, chars, p);
        out.extend(lines);
        y = below - size;
    }
    (out, y)
}

const TIDES: &str = "The Severn estuary has the second highest tidal range in the world, \
    about fourteen metres at spring tides, which is why a barrage has been proposed for \
    more than a century.";
const COST: &str = "The last full proposal was costed at thirty billion pounds and was \
    rejected in 2010 because the government judged that private investors would not \
    carry the risk.";
const BIRDS: &str = "Conservation groups oppose any barrage because the mudflats feed \
    tens of thousands of wading birds every winter.";

#[test]
fn a_single_column_gives_its_paragraphs_and_its_heading_as_title() {
    let mut texts_ = vec![text(72.0, 760.0, 20.0, "Tidal Power in the Severn Estuary")];
    texts_.extend(column(72.0, 720.0, 11.0, 80, &[TIDES, COST, BIRDS]).0);
    let parsed = parse(&pdf::write(&[Page::of(texts_)], None)).unwrap();
    assert_eq!(
        parsed.meta.title.as_deref(),
        Some("Tidal Power in the Severn Estuary")
    );
    assert_eq!(texts(&parsed), [TIDES, COST, BIRDS].map(squash));
    assert!(
        parsed
            .paragraphs
            .iter()
            .all(|p| p.page == Some(1) && p.section.is_none())
    );
}

/// The words of a constant as one line of text.
fn squash(s: &str) -> &'static str {
    Box::leak(
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .into_boxed_str(),
    )
}

#[test]
fn the_metadata_title_wins_unless_it_is_a_file_name() {
    let page = || Page::of(column(72.0, 720.0, 11.0, 80, &[TIDES]).0);
    let named = parse(&pdf::write(&[page()], Some("Severn Barrage Briefing"))).unwrap();
    assert_eq!(named.meta.title.as_deref(), Some("Severn Barrage Briefing"));
    let exported = parse(&pdf::write(&[page()], Some("Microsoft Word - draft3.docx"))).unwrap();
    assert_eq!(exported.meta.title, None);
}

#[test]
fn two_columns_are_read_left_then_right_and_a_paragraph_cut_between_them_is_joined() {
    let a = "Norway and Iceland agreed the first shared quota for mackerel after six years \
        of talks, and both sides called it a fair outcome for their fleets.";
    let b_left = "The agreement gives each country a fixed share of the total catch, which \
        scientists will set every spring from a joint survey of the stock, and it lets";
    let b_right = "vessels of either country fish in the other's waters for up to three \
        months of the year.";
    let c = "Critics say the shares were fixed before the survey method was agreed, so the \
        first years will test the deal.";
    let mut page = vec![text(
        95.0,
        780.0,
        18.0,
        "Fisheries and the Common Market: Ten Years On",
    )];
    let (left, _) = column(60.0, 730.0, 10.0, 36, &[a, b_left]);
    let (right, _) = column(320.0, 730.0, 10.0, 36, &[b_right, c]);
    // As exporters often draw them: the columns' lines interleaved by height.
    let mut body: Vec<Text> = left.into_iter().chain(right).collect();
    body.sort_by(|x, y| y.y.total_cmp(&x.y).then(x.x.total_cmp(&y.x)));
    page.extend(body);
    let parsed = parse(&pdf::write(&[Page::of(page)], None)).unwrap();
    let b = format!("{} {}", squash(b_left), squash(b_right));
    assert_eq!(texts(&parsed), [squash(a), b.as_str(), squash(c)]);
    assert_eq!(
        parsed.meta.title.as_deref(),
        Some("Fisheries and the Common Market: Ten Years On")
    );
}

#[test]
fn headings_are_told_by_size_and_the_largest_is_the_title() {
    let mut t = vec![text(72.0, 770.0, 22.0, "Coastal Flood Defences")];
    t.push(text(72.0, 730.0, 16.0, "Background"));
    t.extend(column(72.0, 705.0, 11.0, 80, &[TIDES]).0);
    t.push(text(72.0, 640.0, 13.0, "Funding rules"));
    t.extend(column(72.0, 620.0, 11.0, 80, &[COST]).0);
    t.push(text(72.0, 555.0, 16.0, "Outlook"));
    t.extend(column(72.0, 535.0, 11.0, 80, &[BIRDS]).0);
    let parsed = parse(&pdf::write(&[Page::of(t)], None)).unwrap();
    assert_eq!(parsed.meta.title.as_deref(), Some("Coastal Flood Defences"));
    let sections: Vec<(Option<&str>, &str)> = parsed
        .paragraphs
        .iter()
        .map(|p| (p.section.as_deref(), p.text.as_str()))
        .collect();
    assert_eq!(
        sections,
        [
            (Some("Background"), squash(TIDES)),
            (Some("Funding rules"), squash(COST)),
            (Some("Outlook"), squash(BIRDS)),
        ]
    );
}

#[test]
fn a_word_hyphenated_at_a_line_end_is_joined_and_a_compound_keeps_its_hyphen() {
    let t = pdf::lines(
        72.0,
        720.0,
        11.0,
        13.2,
        &[
            "The inter-",
            "national agreement on fishing quotas was well-",
            "known to every delegation before the summit began.",
        ],
    );
    let parsed = parse(&pdf::write(&[Page::of(t)], None)).unwrap();
    assert_eq!(
        texts(&parsed),
        [
            "The international agreement on fishing quotas was well-known to every delegation \
          before the summit began."
        ]
    );
}

/// A page of the report: its running header, its footer with the page number, and
/// `body` below a heading on the first page.
fn report_page(n: usize, of: usize, body: Vec<Text>) -> Page {
    let mut t = vec![
        text(72.0, 805.0, 9.0, "Policy Brief No. 7 - March 2024"),
        text(270.0, 30.0, 9.0, &format!("Page {n} of {of}")),
    ];
    t.extend(body);
    Page::of(t)
}

#[test]
fn running_headers_and_page_numbers_are_dropped_and_pages_kept() {
    let cut_first = "Ports on the east coast handled more container traffic than ever, and \
        the operators expect the new lock at";
    let cut_rest = "the mouth of the river to double what the largest ships can carry in.";
    let mut p1 = vec![text(72.0, 750.0, 18.0, "Ports and Shipping")];
    p1.extend(column(72.0, 710.0, 11.0, 80, &[TIDES, cut_first]).0);
    let p2 = column(72.0, 740.0, 11.0, 80, &[cut_rest, COST]).0;
    let p3 = column(72.0, 740.0, 11.0, 80, &[BIRDS]).0;
    let bytes = pdf::write(
        &[
            report_page(1, 3, p1),
            report_page(2, 3, p2),
            report_page(3, 3, p3),
        ],
        None,
    );
    let parsed = parse(&bytes).unwrap();
    let joined = format!("{} {}", squash(cut_first), squash(cut_rest));
    assert_eq!(
        texts(&parsed),
        [squash(TIDES), joined.as_str(), squash(COST), squash(BIRDS)]
    );
    let pages: Vec<Option<u32>> = parsed.paragraphs.iter().map(|p| p.page).collect();
    assert_eq!(pages, [Some(1), Some(1), Some(2), Some(3)]);
    assert_eq!(parsed.meta.title.as_deref(), Some("Ports and Shipping"));
}

#[test]
fn a_table_becomes_one_paragraph_of_rows_and_cells() {
    let (mut t, y) = column(72.0, 740.0, 11.0, 80, &[TIDES]);
    let rows = [
        ["Country", "Catch 2022", "Catch 2023"],
        ["Norway", "1.2 Mt", "1.1 Mt"],
        ["Iceland", "0.9 Mt", "1.0 Mt"],
    ];
    let mut row_y = y;
    for row in rows {
        for (cell, x) in row.iter().zip([72.0, 250.0, 400.0]) {
            t.push(text(x, row_y, 11.0, cell));
        }
        row_y -= 14.0;
    }
    t.extend(column(72.0, row_y - 11.0, 11.0, 80, &[BIRDS]).0);
    let parsed = parse(&pdf::write(&[Page::of(t)], None)).unwrap();
    assert_eq!(
        texts(&parsed),
        [
            squash(TIDES),
            "Country | Catch 2022 | Catch 2023 / Norway | 1.2 Mt | 1.1 Mt / Iceland | 0.9 Mt | 1.0 Mt",
            squash(BIRDS),
        ]
    );
}

fn one_page() -> Vec<Page> {
    vec![Page::of(column(72.0, 720.0, 11.0, 80, &[TIDES, COST]).0)]
}

#[test]
fn an_encrypted_pdf_is_refused_unless_anyone_may_open_it() {
    let err = parse(&pdf::write_encrypted(&one_page(), "secret")).unwrap_err();
    assert!(
        err.contains("encrypted") && err.contains("password"),
        "{err}"
    );
    // Encrypted for its permissions only (an empty user password): every viewer opens
    // it, and so does briefbot.
    let open = parse(&pdf::write_encrypted(&one_page(), "")).unwrap();
    assert_eq!(texts(&open), [squash(TIDES), squash(COST)]);
}

#[test]
fn an_image_only_pdf_is_refused_as_scanned() {
    let scanned = vec![
        Page {
            texts: Vec::new(),
            image: true,
        };
        2
    ];
    let err = parse(&pdf::write(&scanned, Some("Scanned report"))).unwrap_err();
    assert!(err.contains("image-only") && err.contains("OCR"), "{err}");
}

#[test]
fn a_truncated_or_false_pdf_is_refused_with_a_reason() {
    let whole = pdf::write(&one_page(), None);
    for cut in [whole.len() / 2, whole.len() / 4, 40] {
        let err = parse(&whole[..cut]).unwrap_err();
        assert!(err.starts_with("broken PDF"), "cut at {cut}: {err}");
    }
    let err = parse(b"%PDF-1.7\nnothing of a PDF follows\n").unwrap_err();
    assert!(err.starts_with("broken PDF"), "{err}");
    let err = parse(b"plain text named .pdf").unwrap_err();
    assert!(err.contains("not a PDF"), "{err}");
}

fn long_report(pages: usize) -> Vec<u8> {
    let all: Vec<Page> = (1..=pages)
        .map(|n| {
            let body = column(72.0, 740.0, 11.0, 80, &[TIDES, COST, BIRDS]).0;
            report_page(n, pages, body)
        })
        .collect();
    pdf::write(&all, Some("Two hundred pages"))
}

#[test]
fn a_200_page_pdf_is_read_whole_and_the_page_limit_holds() {
    let bytes = long_report(200);
    let parsed = parse(&bytes).unwrap();
    assert_eq!(parsed.paragraphs.len(), 600);
    assert_eq!(parsed.paragraphs[599].page, Some(200));
    assert!(
        parsed
            .paragraphs
            .iter()
            .all(|p| !p.text.contains("Policy Brief") && !p.text.contains("Page "))
    );
    let mut settings = Settings::defaults_in(Path::new("."));
    settings.content.pdf_max_pages = 100;
    let err = ingest::parse(
        Path::new("long.pdf"),
        &bytes,
        &IngestOptions::from_settings(&settings),
    )
    .unwrap_err();
    assert_eq!(
        err,
        "200 pages, over the limit of 100 (content.pdf_max_pages)"
    );
}

#[test]
fn a_pdf_in_content_answers_with_its_page_and_the_address_beside_it() {
    let ws = Workspace::empty();
    let body = column(72.0, 740.0, 11.0, 80, &[COST]).0;
    let bytes = pdf::write(
        &[
            report_page(1, 2, column(72.0, 740.0, 11.0, 80, &[TIDES]).0),
            report_page(2, 2, body),
        ],
        Some("Severn Barrage Briefing"),
    );
    std::fs::write(ws.content().join("severn.pdf"), bytes).unwrap();
    std::fs::write(
        ws.content().join("severn.pdf.yaml"),
        "url: https://example.org/severn.pdf\ndate: 2024-03-01\n",
    )
    .unwrap();
    let answer = ws.ask_json("Why was the barrage proposal rejected in 2010?");
    let quote = &answer["hits"][0];
    assert_eq!(quote["id"], "severn:2", "{answer}");
    assert_eq!(quote["page"], 2);
    assert_eq!(quote["url"], "https://example.org/severn.pdf");
    let out = ws
        .cmd()
        .args(["ask", "Why was the barrage proposal rejected in 2010?"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "Severn Barrage Briefing — ¶2, p. 2, 2024-03-01 — https://example.org/severn.pdf"
        ),
        "{text}"
    );
    // The metadata file is read with its briefing, not reported as a skipped file.
    let index = ws.cmd().arg("index").output().unwrap();
    let said = String::from_utf8_lossy(&index.stderr).to_string()
        + &String::from_utf8_lossy(&index.stdout);
    assert!(!said.contains("severn.pdf.yaml"), "{said}");
}

/// A PDF as a browser prints a web page: `tests/fixtures/pdf/NAME.pdf`, printed by
/// headless Chromium from `NAME.html` beside it (`chromium --headless --print-to-pdf`),
/// with its running header (date, title) and footer (address, page of pages), its fonts
/// subset and its text placed word by word.
fn printed(name: &str) -> Parsed {
    let bytes = std::fs::read(common::fixtures().join("pdf").join(format!("{name}.pdf"))).unwrap();
    parse(&bytes).unwrap()
}

#[test]
fn a_browsers_two_column_print_reads_as_its_article() {
    let parsed = printed("fisheries-two-columns");
    assert_eq!(
        parsed.meta.title.as_deref(),
        Some("North Sea Fisheries After the Quota Deal")
    );
    let sections: Vec<Option<&str>> = parsed
        .paragraphs
        .iter()
        .map(|p| p.section.as_deref())
        .collect();
    let (agreed, matters, next) = (
        Some("What was agreed?"),
        Some("Why does it matter?"),
        Some("What happens next?"),
    );
    assert_eq!(
        sections,
        [agreed, agreed, matters, matters, matters, next, next, next]
    );
    let t = texts(&parsed);
    // Ligatures as letters; words placed one by one read in order, with their spaces.
    assert!(t[1].contains("Norwegian fishermen had resisted since the collapse of the previous arrangement in 2014. In return, Norway obtained"), "{}", t[1]);
    // Cut at the foot of the left column, finished at the top of the right one.
    assert_eq!(
        t[3],
        "Overfishing on that scale cost the stock its sustainability certificate in 2019, and \
         with it access to the retailers that sell only certified fish. Processors in Scotland \
         and western Norway estimate the loss of certification cut the price they received by \
         a fifth."
    );
    assert!(
        t[4].starts_with("Party | Share") && t[4].contains("/ Norway | 31.0% 245,000 /"),
        "{}",
        t[4]
    );
    assert!(t[7].ends_with("grounds that local boats have fished alone for a decade."));
    // The print's header and footer are gone: date and time, title, address, "1/1".
    for text in &t {
        assert!(
            !text.contains("file:") && !text.contains(" PM") && !text.contains("1/1"),
            "{text}"
        );
    }
}

#[test]
fn a_browsers_print_over_pages_drops_its_headers_and_joins_soft_hyphens() {
    let parsed = printed("grid-printed");
    assert_eq!(
        parsed.meta.title.as_deref(),
        Some("Power Grid Interconnectors")
    );
    let t = texts(&parsed);
    assert_eq!(t.len(), 7);
    // Words with soft hyphens (Chromium draws a blank of no width at each) stay whole.
    assert!(
        t[0].contains("The cables, called interconnectors, let power flow"),
        "{}",
        t[0]
    );
    assert!(
        t[5].starts_with("The consultation published in March"),
        "{}",
        t[5]
    );
    assert!(
        t[3].contains("Norwegian hydropower can almost always export"),
        "{}",
        t[3]
    );
    // The paragraph that runs from page 1 onto page 2 is one, cited by its first page.
    assert!(
        t[4].ends_with("diversity across several countries is itself the hedge."),
        "{}",
        t[4]
    );
    let pages: Vec<Option<u32>> = parsed.paragraphs.iter().map(|p| p.page).collect();
    assert_eq!(
        pages,
        [
            Some(1),
            Some(1),
            Some(1),
            Some(1),
            Some(1),
            Some(2),
            Some(2)
        ]
    );
    for text in &t {
        assert!(
            !text.contains("Power Grid Interconnectors") && !text.contains("file:"),
            "{text}"
        );
    }
}

#[test]
fn a_pdf_added_by_link_keeps_its_address_beside_it_and_leaves_with_it() {
    use briefbot::library::{Library, Rights, Scope};
    use briefbot::moderate;
    let ws = Workspace::with_fixtures();
    let settings = ws.settings();
    let writer = briefbot::app::Writer::acquire(&settings, "test").unwrap();
    let link = "https://example.org/reports/severn.pdf";
    let fetched = briefbot::web::Fetched {
        name: "severn.pdf".into(),
        bytes: pdf::write(&one_page(), Some("Severn Barrage Briefing")),
        sidecar: Some(format!("url: \"{link}\"\n")),
        url: link.into(),
    };
    let added = moderate::add_fetched(
        &settings,
        &writer,
        Rights::OPERATOR,
        Library::Shared,
        &fetched,
    )
    .unwrap();
    assert_eq!(added.briefing.url.as_deref(), Some(link));
    assert_eq!(added.briefing.paragraphs[1].page, Some(1));
    let (pdf_at, yaml_at) = (
        ws.content().join("severn.pdf"),
        ws.content().join("severn.pdf.yaml"),
    );
    assert!(pdf_at.is_file() && yaml_at.is_file());
    let removed = moderate::remove(
        &settings,
        &writer,
        Rights::OPERATOR,
        Scope::Shared,
        "severn",
    )
    .unwrap();
    assert!(!pdf_at.exists() && !yaml_at.exists());
    assert!(removed.kept_at.is_file());
    assert!(ingest::sidecar_of(&removed.kept_at).is_file());
}

/// A PDF written byte by byte (lopdf will not write a broken one): one page whose
/// dictionary gets `page_extra`, drawing `content` in Helvetica; its cross-reference table
/// is right, so the reader gets as far as the hostile part.
fn raw_pdf(page_extra: &[u8], content: &[u8], pages_kids: &[u8]) -> Vec<u8> {
    raw_pdf_with(page_extra, content, pages_kids, "")
}

/// [`raw_pdf`] with `filter` in the content stream's dictionary (`/Filter /FlateDecode`).
fn raw_pdf_with(page_extra: &[u8], content: &[u8], pages_kids: &[u8], filter: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
        /Resources << /Font << /F1 5 0 R >> >> "
        .to_vec();
    page.extend_from_slice(page_extra);
    page.extend_from_slice(b" >>");
    let mut pages = b"<< /Type /Pages /Count 1 /Kids ".to_vec();
    pages.extend_from_slice(pages_kids);
    pages.extend_from_slice(b" >>");
    let mut stream = format!("<< /Length {} {filter} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        pages,
        page,
        stream,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 6\n0000000000 65535 f \n");
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

#[test]
fn hostile_structures_are_refused_without_a_crash() {
    let text = b"BT /F1 12 Tf 72 712 Td (The harbour was dredged again this winter.) Tj ET";
    // The same file, sound: what the hostile ones are changed from.
    let sound = parse(&raw_pdf(b"", text, b"[3 0 R]")).unwrap();
    assert_eq!(
        texts(&sound),
        ["The harbour was dredged again this winter."]
    );
    let deep = 100_000;
    let nested = |open: &str, close: &str| {
        let mut s = open.repeat(deep).into_bytes();
        s.extend_from_slice(close.repeat(deep).as_bytes());
        s
    };
    let mut deep_content = b"BT /F1 12 Tf 72 712 Td ".to_vec();
    deep_content.extend_from_slice(&nested("[", "]"));
    deep_content.extend_from_slice(b" TJ ET");
    let mut deep_dict = b"/X ".to_vec();
    deep_dict.extend_from_slice(&nested("<< /A ", ">>"));
    for (what, bytes) in [
        (
            "arrays nested 100,000 deep in the page's drawing",
            raw_pdf(b"", &deep_content, b"[3 0 R]"),
        ),
        (
            "dictionaries nested 100,000 deep in the page",
            raw_pdf(&deep_dict, text, b"[3 0 R]"),
        ),
        (
            "a page tree that contains itself",
            raw_pdf(b"", text, b"[2 0 R]"),
        ),
    ] {
        let err = parse(&bytes).unwrap_err();
        assert!(err.starts_with("broken PDF"), "{what}: {err}");
    }
}

#[test]
fn damaged_bytes_give_paragraphs_or_a_reason_never_a_crash() {
    let whole = pdf::write(&one_page(), Some("Severn"));
    // xorshift: the same damage on every run.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut refused = 0;
    for _ in 0..64 {
        let mut bytes = whole.clone();
        for _ in 0..1 + next() % 8 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        match parse(&bytes) {
            Ok(parsed) => assert!(!parsed.paragraphs.is_empty()),
            Err(reason) => {
                refused += 1;
                assert!(!reason.is_empty());
            }
        }
    }
    // Most single-byte damage lands in compressed streams or the cross-reference table.
    assert!(refused > 0, "no damage was ever noticed");
}

/// A zlib stream that inflates to `prefix` followed by `spaces` spaces, written by hand
/// (fixed Huffman codes: one space, then copies of 258 bytes from one back, 13 bits
/// each), so that a 1 GB page costs the test a few megabytes.
fn deflate_bomb(prefix: &[u8], spaces: u64) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        bit: u32,
    }
    impl Bits {
        fn put(&mut self, value: u32, len: u32) {
            // Huffman codes go most significant bit first.
            for i in (0..len).rev() {
                if self.bit == 0 {
                    self.out.push(0);
                }
                let last = self.out.len() - 1;
                self.out[last] |= (((value >> i) & 1) as u8) << self.bit;
                self.bit = (self.bit + 1) % 8;
            }
        }
    }
    let mut bits = Bits {
        out: vec![0x78, 0x01],
        bit: 0,
    };
    // BFINAL = 1, BTYPE = 01 (fixed codes), as bits in order.
    bits.put(1, 1);
    bits.put(0b10, 2);
    let literal = |bits: &mut Bits, byte: u8| {
        if byte < 144 {
            bits.put(0x30 + u32::from(byte), 8);
        } else {
            bits.put(0x190 + u32::from(byte) - 144, 9);
        }
    };
    for &b in prefix {
        literal(&mut bits, b);
    }
    literal(&mut bits, b' ');
    let mut left = spaces - 1;
    while left >= 258 {
        bits.put(0xc5, 8); // length 258 (code 285)
        bits.put(0, 5); // distance 1 (code 0)
        left -= 258;
    }
    for _ in 0..left {
        literal(&mut bits, b' ');
    }
    bits.put(0, 7); // end of block
    // Adler-32 of the whole output: by formula for the run of spaces.
    const M: u128 = 65521;
    let n = prefix.len() as u128 + u128::from(spaces);
    let (mut a, mut b) = (1u128, 0u128);
    for (j, &byte) in prefix.iter().enumerate() {
        a += u128::from(byte);
        b += u128::from(byte) * (n - j as u128);
    }
    let s = u128::from(spaces);
    a = (a + 32 * s) % M;
    b = (b + n + 32 * s * (s + 1) / 2) % M;
    let mut out = bits.out;
    out.extend_from_slice(&(((b << 16) | a) as u32).to_be_bytes());
    out
}

#[test]
fn a_pdf_that_inflates_to_a_gigabyte_is_refused_by_the_memory_limit_and_the_rest_indexed() {
    let ws = Workspace::with_fixtures();
    std::fs::write(ws.config(), "[content]\npdf_max_memory_mb = 256\n").unwrap();
    let drawing = b"BT /F1 12 Tf 72 712 Td (A harbour briefing hidden in a bomb.) Tj ET\n";
    // The same hand-made stream, small, reads: the bomb is refused for its size alone.
    let small = raw_pdf_with(
        b"",
        &deflate_bomb(drawing, 10_000),
        b"[3 0 R]",
        "/Filter /FlateDecode",
    );
    assert_eq!(
        texts(&parse(&small).unwrap()),
        ["A harbour briefing hidden in a bomb."]
    );
    let bomb = raw_pdf_with(
        b"",
        &deflate_bomb(drawing, 1 << 30),
        b"[3 0 R]",
        "/Filter /FlateDecode",
    );
    assert!(bomb.len() < 8 << 20);
    std::fs::write(ws.content().join("bomb.pdf"), bomb).unwrap();
    let out = ws.cmd().arg("index").output().unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(
            "bomb.pdf: broken PDF: reading it needed more than 256 MB (content.pdf_max_memory_mb)"
        ),
        "{said}"
    );
    let answer = ws.ask_json("night trains sleeper");
    assert_eq!(answer["hits"][0]["source"], "rail.html", "{answer}");
}
