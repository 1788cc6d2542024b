//! Ingestion: every file under `content/` becomes a [`Briefing`] made of paragraphs.
//!
//! This is where the formats (`.txt`, `.md`, `.html`) are understood; nothing after this
//! module knows or cares which format a paragraph came from. A file that cannot be read
//! or parsed is reported as [`Skipped`] with its path and reason, and never stops the
//! others from being ingested. Ingestion never writes anything.

mod front_matter;
mod html;
mod markdown;
mod pdf;
mod text;

pub use html::meta_of as html_meta;
pub use pdf::{
    PdfLimits, Reply as PdfReply, parse_here as parse_pdf_here, use_helper as use_pdf_helper,
};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::library::Library;

/// How ingestion reads files: the part of the settings it needs.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub furniture: Vec<Regex>,
    pub max_file_bytes: u64,
    pub heading_max_words: usize,
    pub pdf: PdfLimits,
}

impl IngestOptions {
    pub fn from_settings(settings: &Settings) -> IngestOptions {
        IngestOptions {
            furniture: settings.furniture.clone(),
            max_file_bytes: settings.content.max_file_bytes,
            heading_max_words: settings.content.heading_max_words,
            pdf: PdfLimits {
                max_pages: settings.content.pdf_max_pages,
                timeout: std::time::Duration::from_secs_f64(settings.content.pdf_timeout_seconds),
                max_chars: PDF_MAX_CHARS,
                heading_max_words: settings.content.heading_max_words,
                max_memory_mb: settings.content.pdf_max_memory_mb,
            },
        }
    }
}

/// The most characters of text a PDF may hold: about 2,000 pages of dense prose, and a
/// bound on the memory reading one takes.
pub const PDF_MAX_CHARS: usize = 8_000_000;

/// Metadata a briefing file may give about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Meta {
    pub title: Option<String>,
    pub url: Option<String>,
    pub date: Option<String>,
    pub author: Option<String>,
    pub tags: Vec<String>,
}

/// One paragraph as found in a file, before it is numbered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paragraph {
    /// The heading the paragraph sits under, if any.
    pub section: Option<String>,
    /// The paragraph's words, markup removed.
    pub text: String,
    /// The page it starts on, where the format has pages (PDF).
    pub page: Option<u32>,
}

/// What a format parser returns: metadata and paragraphs in order.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub meta: Meta,
    pub paragraphs: Vec<Paragraph>,
}

/// One ingested file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Briefing {
    /// Path under `content/` without its extension, `/`-separated.
    pub slug: String,
    pub title: String,
    pub url: Option<String>,
    pub date: Option<String>,
    pub author: Option<String>,
    pub tags: Vec<String>,
    /// Path of the file under `content/`.
    pub source: String,
    pub paragraphs: Vec<Paragraph>,
    /// What its file looked like when it was read ([`stamp_of`]); `None` for a briefing
    /// not read from a file as it is now.
    pub stamp: Option<u64>,
}

/// One paragraph with everything needed to quote and cite it: the unit that is indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Passage {
    /// `<briefing-slug>:<paragraph>`.
    pub id: String,
    pub slug: String,
    /// The briefing's title.
    pub briefing: String,
    pub section: Option<String>,
    /// 1-based number of the paragraph within its briefing; headings are not counted.
    pub paragraph: u64,
    /// The page the paragraph starts on, where the briefing has pages (PDF).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    pub text: String,
    pub url: Option<String>,
    pub date: Option<String>,
    pub author: Option<String>,
    pub tags: Vec<String>,
    pub source: String,
}

impl Briefing {
    /// The briefing's paragraphs as passages, numbered from 1.
    pub fn passages(&self) -> impl Iterator<Item = Passage> + '_ {
        self.paragraphs.iter().enumerate().map(|(i, p)| Passage {
            id: format!("{}:{}", self.slug, i + 1),
            slug: self.slug.clone(),
            briefing: self.title.clone(),
            section: p.section.clone(),
            paragraph: i as u64 + 1,
            page: p.page.map(u64::from),
            text: p.text.clone(),
            url: self.url.clone(),
            date: self.date.clone(),
            author: self.author.clone(),
            tags: self.tags.clone(),
            source: self.source.clone(),
        })
    }
}

/// A file that was not ingested, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// Everything found under a content folder.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub briefings: Vec<Briefing>,
    pub skipped: Vec<Skipped>,
}

impl Corpus {
    /// All passages of all briefings, in briefing order.
    pub fn passages(&self) -> impl Iterator<Item = Passage> + '_ {
        self.briefings.iter().flat_map(Briefing::passages)
    }

    pub fn passage_count(&self) -> usize {
        self.briefings.iter().map(|b| b.paragraphs.len()).sum()
    }
}

/// Why a whole content folder could not be read (single bad files are [`Skipped`] instead).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("content folder {path} cannot be read: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The formats briefbot reads, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Markdown,
    Html,
    Pdf,
}

impl Format {
    fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" => Some(Format::Text),
            "md" | "markdown" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
}

/// Reads every briefing under `dir`, recursively, in a stable (sorted) order.
///
/// Hidden files and folders are ignored; symbolic links are not followed (a link could
/// lead outside `content/`) and are reported. Files of other types are reported too.
pub fn scan(dir: &Path, options: &IngestOptions) -> Result<Corpus, IngestError> {
    Ok(scan_in(dir, None, options, None)?.corpus)
}

/// What [`scan_changed`] found.
#[derive(Debug, Default)]
pub struct ChangedScan {
    /// The files read (new, or changed since their stamp), and every file skipped.
    pub corpus: Corpus,
    /// Sources found as they were ([`Briefing::stamp`] unchanged), not read.
    pub unchanged: Vec<String>,
}

/// Walks `dir` (or one library of it) as [`scan`] does, but reads only the files whose
/// stamp ([`stamp_of`]) differs from the one `known` gives for their source: what an
/// incremental update needs. A progress bar shows on a terminal when many files are read.
pub fn scan_changed(
    dir: &Path,
    library: Option<Library>,
    options: &IngestOptions,
    known: &HashMap<String, u64>,
) -> Result<ChangedScan, IngestError> {
    scan_in(dir, library, options, Some(known))
}

/// Reads the briefings of one library of the content folder `dir` (see
/// [`crate::library`]), as [`scan`] reads them all: the shared library is `dir` less the
/// servers' folders; a server's library that has no folder yet is empty.
pub fn scan_library(
    dir: &Path,
    library: Library,
    options: &IngestOptions,
) -> Result<Corpus, IngestError> {
    Ok(scan_in(dir, Some(library), options, None)?.corpus)
}

fn scan_in(
    dir: &Path,
    library: Option<Library>,
    options: &IngestOptions,
    known: Option<&HashMap<String, u64>>,
) -> Result<ChangedScan, IngestError> {
    let meta = std::fs::metadata(dir).map_err(|source| IngestError::Folder {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(IngestError::Folder {
            path: dir.to_path_buf(),
            source: std::io::Error::other("not a folder"),
        });
    }
    let mut corpus = Corpus::default();
    let mut unchanged = Vec::new();
    let mut slugs: HashMap<String, PathBuf> = HashMap::new();
    if library.is_some_and(|l| !l.folder(dir).is_dir()) {
        return Ok(ChangedScan::default());
    }
    // Files are listed first, then those to read are read (with a progress bar).
    let mut entries = Vec::new();
    for entry in crate::library::walk(dir, library) {
        match entry {
            Ok(entry) => entries.push(entry),
            Err(err) => {
                let path = err.path().unwrap_or(dir).to_path_buf();
                corpus.skipped.push(Skipped {
                    path,
                    reason: format!("cannot be read: {err}"),
                });
            }
        }
    }
    // Every file listed: a metadata file is looked at only where one is listed.
    let listed: std::collections::HashSet<&Path> = entries
        .iter()
        .filter(|e| !e.file_type().is_dir())
        .map(walkdir::DirEntry::path)
        .collect();
    let mut to_read = Vec::new();
    for entry in &entries {
        let path = entry.path();
        if entry.file_type().is_dir() {
            continue;
        }
        if entry.path_is_symlink() {
            corpus.skipped.push(Skipped {
                path: path.to_path_buf(),
                reason: "symbolic link, not followed".into(),
            });
            continue;
        }
        let Some(format) = Format::of(path) else {
            if briefing_of_sidecar(path).is_some() {
                // Read with its briefing.
                continue;
            }
            corpus.skipped.push(Skipped {
                path: path.to_path_buf(),
                reason: "not a briefing format (.txt, .md, .html or .pdf)".into(),
            });
            continue;
        };
        let relative = path.strip_prefix(dir).unwrap_or(path);
        let slug = slug_of(relative);
        if let Some(first) = slugs.get(&slug) {
            corpus.skipped.push(Skipped {
                path: path.to_path_buf(),
                reason: format!("same name as {} (briefing `{slug}`)", first.display()),
            });
            continue;
        }
        slugs.insert(slug.clone(), path.to_path_buf());
        let source = relative.to_string_lossy().replace('\\', "/");
        let unchanged_since = |&k: &u64| {
            let sidecar = sidecar_of(path);
            let sidecar = listed
                .contains(sidecar.as_path())
                .then(|| std::fs::metadata(&sidecar).ok())
                .flatten();
            entry
                .metadata()
                .ok()
                .map(|m| stamp_from(&m, sidecar.as_ref()))
                == Some(k)
        };
        if let Some(known) = known
            && known.get(&source).is_some_and(unchanged_since)
        {
            unchanged.push(source);
            continue;
        }
        to_read.push((path.to_path_buf(), slug, format));
    }
    let bar = if to_read.len() >= 100 {
        crate::progress::bar(to_read.len() as u64, "reading briefings")
    } else {
        indicatif::ProgressBar::hidden()
    };
    for (path, slug, format) in to_read {
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        match read_file(&path, relative, &slug, format, options) {
            Ok(briefing) => corpus.briefings.push(briefing),
            Err(reason) => corpus.skipped.push(Skipped { path, reason }),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    // Sorted as the walk found them, read or not.
    corpus.briefings.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(ChangedScan { corpus, unchanged })
}

/// A briefing's slug: its path under `content/` without the extension, `/`-separated.
pub fn slug_of(relative: &Path) -> String {
    let without_ext = relative.with_extension("");
    without_ext
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Parses a file as it would be indexed at `relative` under `content/` (for checking a
/// file before it is saved there); the error is the reason it would be skipped.
pub fn parse_briefing(
    relative: &Path,
    bytes: &[u8],
    options: &IngestOptions,
) -> Result<Briefing, String> {
    parse_briefing_with(relative, bytes, None, options)
}

/// [`parse_briefing`] for a file saved with a metadata file beside it ([`sidecar_of`]),
/// whose YAML is `sidecar`.
pub fn parse_briefing_with(
    relative: &Path,
    bytes: &[u8],
    sidecar: Option<&str>,
    options: &IngestOptions,
) -> Result<Briefing, String> {
    if bytes.is_empty() {
        return Err("empty file".into());
    }
    if bytes.len() as u64 > options.max_file_bytes {
        return Err(format!(
            "{} bytes, over the limit of {} (content.max_file_bytes)",
            bytes.len(),
            options.max_file_bytes
        ));
    }
    let mut parsed = parse(relative, bytes, options)?;
    if let Some(yaml) = sidecar {
        let meta = front_matter::yaml(yaml).map_err(|e| format!("its metadata: {e}"))?;
        merge_meta(&mut parsed.meta, meta);
    }
    let source = relative.to_string_lossy().replace('\\', "/");
    finish(parsed, &slug_of(relative), &source)
}

/// A file's stamp: a hash of its size and modification time, and its metadata file's
/// ([`sidecar_of`]) if it has one: what tells an update that a file changed without reading
/// it. `None` when the file cannot be read.
pub fn stamp_of(path: &Path) -> Option<u64> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let sidecar = std::fs::metadata(sidecar_of(path)).ok();
    Some(stamp_from(&meta, sidecar.as_ref()))
}

/// [`stamp_of`] from the file's metadata and its metadata file's, if it has one.
fn stamp_from(meta: &std::fs::Metadata, sidecar: Option<&std::fs::Metadata>) -> u64 {
    let mut h = crate::fnv::Fnv64::default();
    for meta in [Some(meta), sidecar] {
        match meta {
            Some(m) => {
                let modified = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                h.eat(&m.len().to_le_bytes());
                h.eat(&modified.to_le_bytes());
            }
            None => h.eat(&[0xfe]),
        }
    }
    h.finish()
}

/// Reads and parses one file; the error is the reason it is skipped.
fn read_file(
    path: &Path,
    relative: &Path,
    slug: &str,
    format: Format,
    options: &IngestOptions,
) -> Result<Briefing, String> {
    // Taken before the file is read: a change made while it is read changes the file's
    // stamp from this one, and the next update reads it again.
    let stamp = stamp_of(path);
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot be read: {e}"))?
        .len();
    if size == 0 {
        return Err("empty file".into());
    }
    if size > options.max_file_bytes {
        return Err(format!(
            "{size} bytes, over the limit of {} (content.max_file_bytes)",
            options.max_file_bytes
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let source = relative.to_string_lossy().replace('\\', "/");
    let mut parsed = parse_bytes(&bytes, format, options)?;
    if let Some(meta) = read_sidecar(path)? {
        merge_meta(&mut parsed.meta, meta);
    }
    Ok(Briefing {
        stamp,
        ..finish(parsed, slug, &source)?
    })
}

/// The metadata file kept beside a briefing that cannot hold its own (a PDF fetched by
/// link keeps its address there): the briefing's file name with `.yaml` added, such as
/// `report.pdf.yaml`, holding the keys of Markdown front matter.
pub fn sidecar_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".yaml");
    PathBuf::from(name)
}

/// The briefing a metadata file belongs to, if `path` is one and its briefing is there.
fn briefing_of_sidecar(path: &Path) -> Option<PathBuf> {
    let name = path.to_str()?.strip_suffix(".yaml")?;
    let briefing = PathBuf::from(name);
    (Format::of(&briefing).is_some() && briefing.is_file()).then_some(briefing)
}

/// Reads a briefing's metadata file, if it has one.
fn read_sidecar(path: &Path) -> Result<Option<Meta>, String> {
    const MAX_SIDECAR_BYTES: u64 = 64 * 1024;
    let sidecar = sidecar_of(path);
    let name = sidecar
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let size = match std::fs::metadata(&sidecar) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("its metadata file {name} cannot be read: {e}")),
    };
    if size > MAX_SIDECAR_BYTES {
        return Err(format!(
            "its metadata file {name} is over {MAX_SIDECAR_BYTES} bytes"
        ));
    }
    let text = std::fs::read_to_string(&sidecar)
        .map_err(|e| format!("its metadata file {name} cannot be read: {e}"))?;
    front_matter::yaml(&text)
        .map(Some)
        .map_err(|e| format!("its metadata file {name}: {e}"))
}

/// What a metadata file says wins over what the briefing's file says of itself.
fn merge_meta(meta: &mut Meta, over: Meta) {
    for (field, value) in [
        (&mut meta.title, over.title),
        (&mut meta.url, over.url),
        (&mut meta.date, over.date),
        (&mut meta.author, over.author),
    ] {
        if value.is_some() {
            *field = value;
        }
    }
    if !over.tags.is_empty() {
        meta.tags = over.tags;
    }
}

/// Parses the contents of a file named `name` (its extension picks the format); the
/// error is the reason the file would be skipped.
pub fn parse(name: &Path, bytes: &[u8], options: &IngestOptions) -> Result<Parsed, String> {
    let format = Format::of(name).ok_or("not a briefing format (.txt, .md, .html or .pdf)")?;
    parse_bytes(bytes, format, options)
}

/// Decodes and parses file contents.
fn parse_bytes(bytes: &[u8], format: Format, options: &IngestOptions) -> Result<Parsed, String> {
    match format {
        Format::Pdf => pdf::parse(bytes, &options.pdf),
        Format::Text => Ok(text::parse(decode(bytes)?, options)),
        Format::Markdown => markdown::parse(decode(bytes)?),
        Format::Html => html::parse_checked(decode(bytes)?),
    }
}

/// A text format's contents as UTF-8, without a byte-order mark.
fn decode(bytes: &[u8]) -> Result<&str, String> {
    if bytes.contains(&0) {
        return Err("binary file (contains NUL bytes)".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        )
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn finish(parsed: Parsed, slug: &str, source: &str) -> Result<Briefing, String> {
    if parsed.paragraphs.is_empty() {
        return Err("no paragraphs found".into());
    }
    let title = parsed
        .meta
        .title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| slug.rsplit('/').next().unwrap_or(slug).to_string());
    Ok(Briefing {
        slug: slug.to_string(),
        title,
        url: parsed.meta.url,
        date: parsed.meta.date,
        author: parsed.meta.author,
        tags: parsed.meta.tags,
        source: source.to_string(),
        paragraphs: parsed.paragraphs,
        stamp: None,
    })
}

/// Collapses every run of white space into one space and trims the ends.
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> IngestOptions {
        IngestOptions::from_settings(&Settings::defaults_in(Path::new(".")))
    }

    #[test]
    fn slug_is_the_path_without_extension() {
        assert_eq!(slug_of(Path::new("a/b/c.md")), "a/b/c");
        assert_eq!(slug_of(Path::new("us-japan.txt")), "us-japan");
    }

    #[test]
    fn a_library_is_read_alone_with_slugs_under_the_content_folder() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "A paragraph of the briefing, long enough.\n").unwrap();
        };
        for path in [
            "tides.txt",
            "servers/notes.txt",
            "servers/123/tides.txt",
            "servers/123/deep/fish.txt",
            "servers/456/cod.txt",
        ] {
            write(path);
        }
        let slugs = |library: Option<Library>| -> Vec<String> {
            scan_in(dir.path(), library, &options(), None)
                .unwrap()
                .corpus
                .briefings
                .into_iter()
                .map(|b| b.slug)
                .collect()
        };
        assert_eq!(
            slugs(None),
            [
                "servers/123/deep/fish",
                "servers/123/tides",
                "servers/456/cod",
                "servers/notes",
                "tides"
            ]
        );
        assert_eq!(slugs(Some(Library::Shared)), ["servers/notes", "tides"]);
        assert_eq!(
            slugs(Some(Library::Server(123))),
            ["servers/123/deep/fish", "servers/123/tides"]
        );
        assert!(slugs(Some(Library::Server(789))).is_empty());
    }

    #[test]
    fn binary_and_non_utf8_are_refused() {
        let err = parse_bytes(b"abc\0def", Format::Text, &options()).unwrap_err();
        assert!(err.contains("binary"), "{err}");
        let err = parse_bytes(b"caf\xe9 au lait", Format::Text, &options()).unwrap_err();
        assert!(err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn a_file_that_vanished_since_the_scan_is_skipped_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.md");
        let err = read_file(
            &gone,
            Path::new("gone.md"),
            "gone",
            Format::Markdown,
            &options(),
        )
        .unwrap_err();
        assert!(err.starts_with("cannot be read"), "{err}");
    }

    #[test]
    fn passages_are_numbered_from_one_with_the_slug() {
        let parsed = parse_bytes(
            b"Title line here\n\nFirst paragraph.\n\nSecond paragraph.\n",
            Format::Text,
            &options(),
        )
        .unwrap();
        let b = finish(parsed, "dir/brief", "dir/brief.txt").unwrap();
        let ids: Vec<_> = b.passages().map(|p| p.id).collect();
        assert_eq!(ids, ["dir/brief:1", "dir/brief:2"]);
    }
}
