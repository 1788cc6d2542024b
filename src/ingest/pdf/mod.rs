//! PDF briefings: the text of each page read with `pdf-extract` (over `lopdf`), as glyphs
//! with their positions and sizes, then laid out again into paragraphs by
//! [`layout`]: lines, columns, running headers and page numbers dropped, headings told
//! by their size, hyphenated line ends joined.
//!
//! Why pdf-extract: it is pure Rust, decodes the fonts and encodings real PDFs use
//! (standard 14 fonts, Type 1, CFF, TrueType with ToUnicode maps) and hands every glyph
//! over with its position and size, which is what rebuilding paragraphs and reading
//! two columns in order needs; `lopdf` alone gives text without positions, and the
//! larger extractors bring image and office-format stacks a briefing bot does not need.
//!
//! A PDF is untrusted input, and its parser is not ours. The briefbot binary reads each
//! one in a child process under a memory and a time limit ([`helper`]); inside it (and
//! wherever the library is used without the binary) the parser runs on a thread of its
//! own, its panics are caught (per page, so one bad page does not lose the others), and
//! the caller stops waiting after `content.pdf_timeout_seconds`. Encrypted files (with a
//! password), files without a text layer (scanned) and files that do not parse are
//! refused with the reason; there is no OCR.

mod helper;
mod layout;

pub use helper::{Reply, use_helper};

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use pdf_extract::{Document, MediaBox, OutputDev, OutputError, Transform};

use super::Parsed;

/// How much of a PDF is read, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct PdfLimits {
    /// Files with more pages are refused (`content.pdf_max_pages`).
    pub max_pages: usize,
    /// Reading stops, and the file is refused, after this long (`content.pdf_timeout_seconds`).
    pub timeout: Duration,
    /// Files with more characters of text are refused: a bound on the memory a file takes.
    pub max_chars: usize,
    /// A line of at most this many words may be a heading (`content.heading_max_words`).
    pub heading_max_words: usize,
    /// The reading process's address space, in MB, where PDFs are read in a child
    /// process (`content.pdf_max_memory_mb`; see [`use_helper`]).
    pub max_memory_mb: u64,
}

/// One glyph (or ligature) as drawn: its left and right edges and baseline in points
/// (PDF user space, y up), and its size.
#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    end: f64,
    y: f64,
    size: f64,
    text: String,
}

/// The glyphs of one page, in the order the page draws them.
#[derive(Debug, Clone, Default)]
struct Page {
    number: u32,
    /// The media box: (left, bottom, right, top).
    bounds: (f64, f64, f64, f64),
    glyphs: Vec<Glyph>,
}

/// What the reader thread hands back.
struct Extracted {
    title: Option<String>,
    pages: Vec<Page>,
}

/// Reads a PDF into paragraphs; the error is the reason it is skipped. In a child
/// process when the binary named one ([`use_helper`]), else on a thread.
pub fn parse(bytes: &[u8], limits: &PdfLimits) -> Result<Parsed, String> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err("not a PDF (no %PDF- header)".into());
    }
    match helper::helper() {
        Some(exe) => helper::read(exe, bytes, limits),
        None => parse_here(bytes, limits),
    }
}

/// Reads a PDF in this process, on a thread of its own (what `briefbot pdf-extract`, the
/// child, does).
pub fn parse_here(bytes: &[u8], limits: &PdfLimits) -> Result<Parsed, String> {
    let owned = bytes.to_vec();
    let limits = *limits;
    let (tx, rx) = mpsc::channel();
    // Detached on purpose: a parser that never returns is left to finish on its own,
    // and the file is refused when the time is up.
    std::thread::Builder::new()
        .name("pdf".into())
        .stack_size(16 << 20)
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| extract(&owned, &limits)));
            let _ = tx.send(result);
        })
        .map_err(|e| format!("cannot start reading the PDF: {e}"))?;
    let extracted = match rx.recv_timeout(limits.timeout) {
        Ok(Ok(result)) => result?,
        Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
            return Err("broken PDF: its structure cannot be read".into());
        }
        Err(RecvTimeoutError::Timeout) => {
            return Err(format!(
                "reading it took over {} s (content.pdf_timeout_seconds): is it damaged?",
                limits.timeout.as_secs_f64()
            ));
        }
    };
    layout::parsed(extracted.title, &extracted.pages, limits.heading_max_words)
}

/// Loads the document and collects every page's glyphs (runs on the reader thread).
fn extract(bytes: &[u8], limits: &PdfLimits) -> Result<Extracted, String> {
    let deadline = Instant::now() + limits.timeout;
    let mut doc = Document::load_mem(bytes).map_err(|e| load_error(&e))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        // Files encrypted with an empty user password (permissions only) open for
        // anyone, as in every viewer; others need a password nobody gave us.
        return Err(ENCRYPTED.into());
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err("broken PDF: it has no pages".into());
    }
    if pages.len() > limits.max_pages {
        return Err(format!(
            "{} pages, over the limit of {} (content.pdf_max_pages)",
            pages.len(),
            limits.max_pages
        ));
    }
    let title = info_title(&doc);
    let mut collector = Collector {
        pages: Vec::with_capacity(pages.len()),
        chars: 0,
        max_chars: limits.max_chars,
    };
    let mut failed = 0usize;
    for &number in pages.keys() {
        if Instant::now() > deadline {
            return Err("reading it took too long (content.pdf_timeout_seconds)".into());
        }
        let before = collector.pages.len();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&doc, &mut collector, number)
        }));
        if collector.chars > collector.max_chars {
            return Err(format!(
                "over {} characters of text: too large to be one briefing",
                limits.max_chars
            ));
        }
        if !matches!(outcome, Ok(Ok(()))) {
            // A page the reader cannot draw is left out whole, never half.
            collector.pages.truncate(before);
            failed += 1;
        }
    }
    if failed == pages.len() {
        return Err("broken PDF: none of its pages can be read".into());
    }
    if failed > 0 {
        tracing::warn!(
            failed,
            pages = pages.len(),
            "PDF pages that cannot be read were left out"
        );
    }
    Ok(Extracted {
        title,
        pages: collector.pages,
    })
}

const ENCRYPTED: &str = "encrypted PDF: it needs a password to be read (send it unprotected)";

fn load_error(err: &pdf_extract::Error) -> String {
    use pdf_extract::Error;
    match err {
        Error::Decryption(_) | Error::InvalidPassword => ENCRYPTED.into(),
        other => format!("broken PDF: {other}"),
    }
}

/// The document's `/Title`, if it has a real one (not a file name an exporter left).
fn info_title(doc: &Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let info = match info {
        pdf_extract::Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        pdf_extract::Object::Dictionary(d) => d,
        _ => return None,
    };
    let bytes = info.get(b"Title").ok()?.as_str().ok()?;
    let title = super::collapse_whitespace(&text_string(bytes));
    let lower = title.to_lowercase();
    let junk = title.chars().count() < 3
        || lower.starts_with("untitled")
        || lower.starts_with("microsoft word")
        || [".doc", ".docx", ".pdf", ".odt", ".indd", ".tex", ".rtf"]
            .iter()
            .any(|ext| lower.ends_with(ext));
    (!junk).then_some(title)
}

/// A PDF text string: UTF-16BE after a byte-order mark, else PDFDocEncoding, which is
/// Latin-1 for every letter a title uses (written here: lopdf keeps its decoder private).
fn text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(utf8) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(utf8).into_owned();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Receives pdf-extract's glyphs, page by page.
struct Collector {
    pages: Vec<Page>,
    chars: usize,
    max_chars: usize,
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.pages.push(Page {
            number: page_num,
            bounds: (media_box.llx, media_box.lly, media_box.urx, media_box.ury),
            glyphs: Vec::new(),
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        // As pdf-extract's own text output measures it: the side of the square with the
        // area of the transformed em.
        let vx = font_size * (trm.m11 + trm.m21);
        let vy = font_size * (trm.m12 + trm.m22);
        let size = (vx * vy).abs().sqrt();
        let (x, y) = (trm.m31, trm.m32);
        if !(x.is_finite() && y.is_finite() && size.is_finite()) {
            return Ok(());
        }
        self.chars += text.chars().count();
        if self.chars > self.max_chars {
            return Err(OutputError::FormatError(std::fmt::Error));
        }
        if let Some(page) = self.pages.last_mut() {
            page.glyphs.push(Glyph {
                x,
                end: x + width * size,
                y,
                size,
                text: text.to_string(),
            });
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
