//! Passage vectors on disk, memory-mapped by every reader of an index version: one file
//! per full build (`vectors.bin`), and one per incremental update for the rows it added
//! (`vectors-<first row>.bin`), shared by the versions that follow (hard links).
//!
//! Each vector is stored as 8-bit integers with one scale (symmetric quantisation:
//! `x ≈ scale × q`, `scale = max|x| / 127`): 4 + dim bytes a passage (388 for 384
//! dimensions, a quarter of f32), so that the exact scan over every passage reads a
//! quarter of the memory. The cosine error this adds is about 1e-3 (tested), far below
//! what separates a right paragraph from a wrong one.
//!
//! Layout: `BBVEC003`, dim (u32 LE), count (u64 LE), the model id (32 ASCII bytes), the
//! number of sentence vectors (u64 LE), then `count` records of (scale f32 LE, dim × i8),
//! record `r` being the passage whose `row` field is `r`; then `count + 1` offsets (u64
//! LE, the first 0) and the sentence records, each (scale f32 LE, dim × i8, the CRC32 of
//! those bytes, u32 LE): passage `r`'s sentences are records `offsets[r]..offsets[r + 1]`.
//! Each passage has at least one (a passage of one sentence has its own vector again).
//!
//! What is read for every question — the header, the passages' records (the scan reads
//! them all) and the offsets, "the head" — is checked when the file is opened, against
//! the CRC32 the version's manifest keeps; the sentence records, five times as many bytes
//! of which a question reads about 200 records, each against its own CRC32 as it is read
//! (and all of them when a long-running bot opens the version: [`Vectors::check_sentences`]).
//!
//! Earlier layouts are still read: `BBVEC002` (sentence records without their CRC32, the
//! manifest's CRC32 over the whole file, read whole at every opening: 6 times the head's
//! bytes) and `BBVEC001` (written before sentence vectors were kept: the passages'
//! records only).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use memmap2::Mmap;

const MAGIC: &[u8; 8] = b"BBVEC003";
/// Sentence records without their own CRC32; the manifest's CRC32 covers the whole file.
const MAGIC_WHOLE_CRC: &[u8; 8] = b"BBVEC002";
/// Files without sentence vectors.
const MAGIC_PASSAGES_ONLY: &[u8; 8] = b"BBVEC001";
const ID_BYTES: usize = 32;
const HEADER_PASSAGES_ONLY: usize = 8 + 4 + 8 + ID_BYTES;
const HEADER: usize = HEADER_PASSAGES_ONLY + 8;

/// Name of the vectors file inside an index version.
pub const FILE: &str = "vectors.bin";

/// One quantised vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    pub scale: f32,
    pub q: Vec<i8>,
}

impl Quantized {
    pub fn of(v: &[f32]) -> Quantized {
        let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        let q = v
            .iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
            .collect();
        Quantized { scale, q }
    }

    /// The record's bytes: scale, then the integers.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.q.len());
        out.extend_from_slice(&self.scale.to_le_bytes());
        out.extend(self.q.iter().map(|&x| x as u8));
        out
    }

    fn from_bytes(record: &[u8]) -> Quantized {
        Quantized {
            scale: f32::from_le_bytes(record[..4].try_into().expect("4 bytes")),
            q: record[4..].iter().map(|&b| b as i8).collect(),
        }
    }
}

/// A writer that keeps the CRC32 of what went through it.
struct Crc32Writer<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Crc32Writer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes vectors, in row order (a version's first row first), each passage's with its
/// sentences' (`sentences[r]`, at least one each), and returns the CRC32 of the file's
/// head (all but the sentence records, which carry their own), which the version's
/// manifest keeps (checked by [`Vectors::open_parts`]).
pub fn write(
    path: &Path,
    model_id: &str,
    dim: usize,
    rows: &[Quantized],
    sentences: &[Vec<Quantized>],
) -> std::io::Result<u32> {
    assert_eq!(
        rows.len(),
        sentences.len(),
        "each passage with its sentences"
    );
    let counts: Vec<usize> = sentences.iter().map(Vec::len).collect();
    write_from(path, model_id, dim, &counts, |text| {
        Ok(match text {
            Text::Row(r) => rows[r].bytes(),
            Text::Sentence(r, nth) => sentences[r][nth].bytes(),
        })
    })
}

/// A text whose vector [`write_from`] asks for: a passage's (by row, from 0), or the
/// `nth` of its sentences'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Row(usize),
    Sentence(usize, usize),
}

/// [`write`], asking `vector` for each vector's bytes ([`Quantized::bytes`]) in the order
/// they are written, rather than holding them all: a full build reads them one at a time
/// from the embedding cache. `sentences[r]` is how many sentence vectors row `r` has (at
/// least one).
pub fn write_from(
    path: &Path,
    model_id: &str,
    dim: usize,
    sentences: &[usize],
    mut vector: impl FnMut(Text) -> std::io::Result<Vec<u8>>,
) -> std::io::Result<u32> {
    let file = File::create(path)?;
    let mut w = Crc32Writer {
        inner: BufWriter::new(file),
        crc: crc32fast::Hasher::new(),
    };
    w.write_all(MAGIC)?;
    w.write_all(&(dim as u32).to_le_bytes())?;
    w.write_all(&(sentences.len() as u64).to_le_bytes())?;
    let mut id = [b' '; ID_BYTES];
    let n = model_id.len().min(ID_BYTES);
    id[..n].copy_from_slice(&model_id.as_bytes()[..n]);
    w.write_all(&id)?;
    let total: usize = sentences.iter().sum();
    w.write_all(&(total as u64).to_le_bytes())?;
    let sized = |bytes: Vec<u8>| {
        if bytes.len() == 4 + dim {
            Ok(bytes)
        } else {
            Err(std::io::Error::other(format!(
                "a vector of {} bytes where {} were expected",
                bytes.len(),
                4 + dim
            )))
        }
    };
    for r in 0..sentences.len() {
        w.write_all(&sized(vector(Text::Row(r))?)?)?;
    }
    let mut at = 0u64;
    w.write_all(&at.to_le_bytes())?;
    for &count in sentences {
        at += count as u64;
        w.write_all(&at.to_le_bytes())?;
    }
    let crc = w.crc.finalize();
    let mut w = w.inner;
    for (r, &count) in sentences.iter().enumerate() {
        for nth in 0..count {
            let bytes = sized(vector(Text::Sentence(r, nth))?)?;
            w.write_all(&bytes)?;
            w.write_all(&crc32fast::hash(&bytes).to_le_bytes())?;
        }
    }
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(crc)
}

/// One vectors file, memory-mapped: `count` records, the first being row `first_row`.
struct Part {
    path: std::path::PathBuf,
    map: Mmap,
    first_row: usize,
    count: usize,
    /// Where the passages' records start.
    records_at: usize,
    /// Where the sentences' offsets and records are (none in a `BBVEC001` file).
    sentences: Option<SentenceRecords>,
}

/// Where a file's sentence offsets and records start, and whether each record carries
/// its CRC32 (not in a `BBVEC002` file).
#[derive(Debug, Clone, Copy)]
struct SentenceRecords {
    offsets: usize,
    records: usize,
    count: usize,
    with_crc: bool,
}

/// The vectors of one index version, memory-mapped: one file from a full build, then one
/// more for each incremental update's new rows (see [`crate::index`]), each file covering
/// the consecutive rows that build or update gave out.
pub struct Vectors {
    /// By first row, not overlapping.
    parts: Vec<Part>,
    dim: usize,
    model_id: String,
}

impl std::fmt::Debug for Vectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vectors")
            .field("dim", &self.dim)
            .field("count", &self.len())
            .field("parts", &self.parts.len())
            .field("model_id", &self.model_id)
            .finish()
    }
}

/// Opens and checks one vectors file: its size must match its header, and with `crc32`
/// (what [`write`] returned) its head (all but the sentence records, which carry their
/// own) that CRC32, so that a changed byte (a damaged disk, a stray write) is an error
/// naming the file. That reads the passages' records: about what one question's exact
/// scan reads (2.5–2.9 ms at 100k vectors, one core). A `BBVEC002` file is read whole.
fn open_part(
    path: &Path,
    first_row: usize,
    crc32: Option<u32>,
) -> Result<(Part, usize, String), String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // SAFETY: vectors files are written once, then only read and finally deleted (never
    // truncated or written in place); a deleted file stays mapped until dropped.
    let map = unsafe { Mmap::map(&file) }.map_err(|e| format!("{}: {e}", path.display()))?;
    // Where the passages' records start, and whether sentence records follow them and
    // carry their CRC32.
    let (records_at, has_sentences, with_crc) = match map.get(..8) {
        Some(m) if m == MAGIC => (HEADER, true, true),
        Some(m) if m == MAGIC_WHOLE_CRC => (HEADER, true, false),
        Some(m) if m == MAGIC_PASSAGES_ONLY => (HEADER_PASSAGES_ONLY, false, false),
        _ => return Err(format!("{}: not a briefbot vectors file", path.display())),
    };
    if map.len() < records_at {
        return Err(format!("{}: not a briefbot vectors file", path.display()));
    }
    let dim = u32::from_le_bytes(map[8..12].try_into().expect("4 bytes")) as usize;
    let count = u64::from_le_bytes(map[12..20].try_into().expect("8 bytes")) as usize;
    let model_id = String::from_utf8_lossy(&map[20..HEADER_PASSAGES_ONLY])
        .trim()
        .to_string();
    let sentence_count = has_sentences.then(|| {
        u64::from_le_bytes(
            map[HEADER_PASSAGES_ONLY..HEADER]
                .try_into()
                .expect("8 bytes"),
        ) as usize
    });
    let sentence_size = dim + if with_crc { 8 } else { 4 };
    let passages_end = (dim + 4)
        .checked_mul(count)
        .and_then(|b| b.checked_add(records_at));
    let offsets_end = match sentence_count {
        None => passages_end,
        Some(_) => passages_end.and_then(|b| b.checked_add(count.checked_add(1)?.checked_mul(8)?)),
    };
    let expected = match sentence_count {
        None => offsets_end,
        Some(n) => offsets_end.and_then(|b| b.checked_add(sentence_size.checked_mul(n)?)),
    };
    let (Some(passages_end), Some(head_end)) = (passages_end, offsets_end) else {
        return Err(format!("{}: its header is damaged", path.display()));
    };
    if dim == 0 || expected != Some(map.len()) {
        return Err(format!(
            "{}: {} bytes, the header says {count} vectors of {dim} dimensions{}",
            path.display(),
            map.len(),
            sentence_count.map_or(String::new(), |n| format!(" and {n} of sentences"))
        ));
    }
    if let Some(written) = crc32 {
        let checked = if with_crc { &map[..head_end] } else { &map[..] };
        let found = crc32fast::hash(checked);
        if found != written {
            return Err(format!(
                "{} does not match its checksum (CRC32 {found:08x}, written as {written:08x})",
                path.display()
            ));
        }
    }
    let sentences = match sentence_count {
        Some(n) => {
            let offsets = passages_end;
            // Offsets must rise from 0 to the number of sentence vectors, each passage
            // having one at least: otherwise a read would fall outside the file.
            let offset = |i: usize| {
                let at = offsets + i * 8;
                u64::from_le_bytes(map[at..at + 8].try_into().expect("8 bytes")) as usize
            };
            let rising = (0..count).all(|i| offset(i) < offset(i + 1));
            if offset(0) != 0 || offset(count) != n || !rising {
                return Err(format!(
                    "{}: its sentence offsets do not fit its {n} sentence vectors",
                    path.display()
                ));
            }
            Some(SentenceRecords {
                offsets,
                records: head_end,
                count: n,
                with_crc,
            })
        }
        None => None,
    };
    Ok((
        Part {
            path: path.to_path_buf(),
            map,
            first_row,
            count,
            records_at,
            sentences,
        },
        dim,
        model_id,
    ))
}

impl Part {
    fn rows(&self) -> std::ops::Range<usize> {
        self.first_row..self.first_row + self.count
    }

    /// Sentence record `i` of this file (scale and integers), checked against its CRC32
    /// where it carries one.
    fn sentence(&self, s: SentenceRecords, dim: usize, i: usize) -> Result<&[u8], String> {
        let size = dim + 4;
        let start = s.records + i * (size + if s.with_crc { 4 } else { 0 });
        let record = &self.map[start..start + size];
        if s.with_crc {
            let written = u32::from_le_bytes(
                self.map[start + size..start + size + 4]
                    .try_into()
                    .expect("4 bytes"),
            );
            if crc32fast::hash(record) != written {
                return Err(format!(
                    "{}: sentence vector {i} does not match its checksum",
                    self.path.display()
                ));
            }
        }
        Ok(record)
    }
}

impl Vectors {
    /// Opens and checks a vectors file (its size must match its header, and its bytes
    /// `crc32` when given), its records being rows 0, 1, ….
    pub fn open(path: &Path, crc32: Option<u32>) -> Result<Vectors, String> {
        Vectors::open_parts(&[(path.to_path_buf(), 0, crc32)])
    }

    /// Opens the vectors files of a version, each with the row of its first record and
    /// the CRC32 it was written with, if known: they must be of one model and dimension,
    /// and must not overlap.
    pub fn open_parts(
        files: &[(std::path::PathBuf, usize, Option<u32>)],
    ) -> Result<Vectors, String> {
        let mut parts = Vec::with_capacity(files.len());
        let mut seen: Option<(usize, String)> = None;
        for (path, first_row, crc32) in files {
            let (part, dim, model_id) = open_part(path, *first_row, *crc32)?;
            match &seen {
                Some((d, m)) if *d != dim || *m != model_id => {
                    return Err(format!(
                        "{}: vectors of {model_id} ({dim} dimensions) beside those of {m} ({d})",
                        path.display()
                    ));
                }
                _ => seen = Some((dim, model_id)),
            }
            parts.push(part);
        }
        parts.sort_by_key(|p| p.first_row);
        if let Some(w) = parts.windows(2).find(|w| w[0].rows().end > w[1].first_row) {
            return Err(format!(
                "vectors files overlap: rows {:?} and {:?}",
                w[0].rows(),
                w[1].rows()
            ));
        }
        let (dim, model_id) = seen.ok_or("no vectors file")?;
        Ok(Vectors {
            parts,
            dim,
            model_id,
        })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How many records the files hold (rows of removed passages included).
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Whether every row of `rows` has a vector.
    pub fn covers(&self, rows: std::ops::Range<usize>) -> bool {
        let mut at = rows.start;
        for part in self.parts.iter().filter(|p| p.rows().end > rows.start) {
            if at >= rows.end {
                break;
            }
            if part.first_row > at {
                return false;
            }
            at = part.rows().end;
        }
        at >= rows.end
    }

    /// The part holding `row`, and the record's place in it.
    fn locate(&self, row: usize) -> Option<(&Part, usize)> {
        let i = self.parts.partition_point(|p| p.first_row <= row);
        let part = self.parts.get(i.checked_sub(1)?)?;
        (row < part.rows().end).then(|| (part, row - part.first_row))
    }

    fn record_in<'a>(&self, part: &'a Part, local: usize) -> &'a [u8] {
        let size = self.dim + 4;
        let start = part.records_at + local * size;
        &part.map[start..start + size]
    }

    /// Whether every file holds its passages' sentence vectors too.
    pub fn has_sentences(&self) -> bool {
        self.parts.iter().all(|p| p.sentences.is_some())
    }

    /// The sentence records of the passage of `row`, each checked against its CRC32 as
    /// it is read (none where no file holds the passage, or holds no sentences).
    fn sentence_records(&self, row: usize) -> Option<impl Iterator<Item = Result<&[u8], String>>> {
        let (part, local) = self.locate(row)?;
        let s = part.sentences?;
        let offset = |i: usize| {
            let at = s.offsets + i * 8;
            u64::from_le_bytes(part.map[at..at + 8].try_into().expect("8 bytes")) as usize
        };
        let dim = self.dim;
        Some((offset(local)..offset(local + 1)).map(move |i| part.sentence(s, dim, i)))
    }

    /// The vectors of the sentences of the passage of `row` (`None` where no file holds
    /// them); an error where one does not match its checksum.
    pub fn sentences(&self, row: usize) -> Result<Option<Vec<Quantized>>, String> {
        match self.sentence_records(row) {
            None => Ok(None),
            Some(records) => records
                .map(|r| r.map(Quantized::from_bytes))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
        }
    }

    /// The best cosine of a unit `query` with a sentence of the passage of `row` (`None`
    /// where no file holds them); an error where one does not match its checksum.
    pub fn best_sentence(&self, query: &[f32], row: usize) -> Result<Option<f32>, String> {
        if query.len() != self.dim {
            return Ok(None);
        }
        let Some(records) = self.sentence_records(row) else {
            return Ok(None);
        };
        let mut best: Option<f32> = None;
        for r in records {
            let r = r?;
            let scale = f32::from_le_bytes(r[..4].try_into().expect("4 bytes"));
            let cosine = dot_f32_i8(query, &r[4..]) * scale;
            best = Some(best.map_or(cosine, |b| b.max(cosine)));
        }
        Ok(best)
    }

    /// The files of this version's vectors.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.parts.iter().map(|p| p.path.as_path())
    }

    /// Checks every sentence record of the file `path` (one of [`Vectors::files`])
    /// against its CRC32: what a long-running bot does before it answers from a version,
    /// while a question checks only those it reads. Files of the layouts before
    /// (`BBVEC002`, `BBVEC001`) were checked whole when opened.
    pub fn check_sentences(&self, path: &Path) -> Result<(), String> {
        for part in self.parts.iter().filter(|p| p.path == path) {
            if let Some(s) = part.sentences.filter(|s| s.with_crc) {
                for i in 0..s.count {
                    part.sentence(s, self.dim, i)?;
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, row: usize) -> Option<Quantized> {
        let (part, local) = self.locate(row)?;
        Some(Quantized::from_bytes(self.record_in(part, local)))
    }

    /// The cosine of a unit `query` with the passage of `row` (`None` where no file holds
    /// it).
    pub fn cosine(&self, query: &[f32], row: usize) -> Option<f32> {
        if query.len() != self.dim {
            return None;
        }
        let (part, local) = self.locate(row)?;
        let r = self.record_in(part, local);
        let scale = f32::from_le_bytes(r[..4].try_into().expect("4 bytes"));
        Some(dot_f32_i8(query, &r[4..]) * scale)
    }

    /// The `k` rows within the ranges `rows` (a scope's libraries, one briefing, or all)
    /// nearest to a unit `query`, nearest first, with their cosines: an exact scan over
    /// every vector in them.
    pub fn nearest(
        &self,
        query: &[f32],
        k: usize,
        rows: &[std::ops::Range<usize>],
    ) -> Vec<(usize, f32)> {
        // Each range cut at the files' bounds: the scan then walks one file at a time.
        let mut pieces: Vec<(&Part, std::ops::Range<usize>)> = Vec::new();
        for range in rows {
            for part in &self.parts {
                let (start, end) = (
                    range.start.max(part.first_row),
                    range.end.min(part.rows().end),
                );
                if start < end {
                    pieces.push((part, start..end));
                }
            }
        }
        if k == 0 || query.len() != self.dim || pieces.is_empty() {
            return Vec::new();
        }
        // The query quantised too: the scan is then integer dot products, which the
        // compiler vectorises (summing floats in order would not be).
        let quantized = Quantized::of(query);
        let query_scale = quantized.scale;
        let q: Vec<i16> = quantized.q.iter().map(|&x| i16::from(x)).collect();
        let mut best: std::collections::BinaryHeap<std::cmp::Reverse<(Score, usize)>> =
            std::collections::BinaryHeap::with_capacity(k + 1);
        for (part, range) in pieces {
            for row in range {
                let r = self.record_in(part, row - part.first_row);
                let scale = f32::from_le_bytes(r[..4].try_into().expect("4 bytes"));
                let cos = dot_i16_i8(&q, &r[4..]) as f32 * scale * query_scale;
                if best.len() < k {
                    best.push(std::cmp::Reverse((Score(cos), row)));
                } else if best.peek().is_some_and(|w| cos > w.0.0.0) {
                    best.pop();
                    best.push(std::cmp::Reverse((Score(cos), row)));
                }
            }
        }
        let mut out: Vec<(usize, f32)> = best
            .into_iter()
            .map(|std::cmp::Reverse((s, row))| (row, s.0))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

/// An f32 ordered totally, for the heap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score(f32);
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Σ a·b for i16 × i8 (as bytes), in i32: at most 384 × 127 × 127, far from overflow.
/// With AVX2 (checked once, at run time: the default target is baseline x86-64) the same
/// loop is compiled for it, which LLVM vectorises 16 lanes wide.
fn dot_i16_i8(a: &[i16], b: &[u8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *AVX2.get_or_init(|| std::arch::is_x86_feature_detected!("avx2")) {
            // SAFETY: the CPU supports AVX2, checked above.
            return unsafe { dot_i16_i8_avx2(a, b) };
        }
    }
    dot_i16_i8_plain(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_i16_i8_avx2(a: &[i16], b: &[u8]) -> i32 {
    dot_i16_i8_plain(a, b)
}

#[inline(always)]
fn dot_i16_i8_plain(a: &[i16], b: &[u8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y as i8))
        .sum()
}

/// Σ a·b for f32 × i8, in eight lanes (so that it vectorises), then summed.
fn dot_f32_i8(a: &[f32], b: &[u8]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = a.chunks_exact(8).zip(b.chunks_exact(8));
    for (x, y) in chunks {
        for i in 0..8 {
            lanes[i] += x[i] * f32::from(y[i] as i8);
        }
    }
    let tail: f32 = a
        .chunks_exact(8)
        .remainder()
        .iter()
        .zip(b.chunks_exact(8).remainder())
        .map(|(&x, &y)| x * f32::from(y as i8))
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// A unit vector of pseudo-random numbers, the same for the same seed: for tests and
/// benchmarks of the scan, whose cost does not depend on what vectors mean.
pub fn random_unit(seed: u64, dim: usize) -> Vec<f32> {
    let mut v = pseudo_random(seed, dim);
    crate::semantic::model::normalize(&mut v);
    v
}

/// `n` pseudo-random numbers in [-1, 1), the same for the same seed in every run and
/// release: for tests (random vectors, a tiny model's weights) and benchmarks.
pub fn pseudo_random(seed: u64, n: usize) -> Vec<f32> {
    // xorshift64: enough for spread-out test vectors, no dependency.
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 2000) as f32 / 1000.0 - 1.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::random_unit as unit;

    /// Each passage's vector as its one sentence's.
    fn own(rows: &[Quantized]) -> Vec<Vec<Quantized>> {
        rows.iter().map(|r| vec![r.clone()]).collect()
    }

    /// Each passage's sentence vectors are read back with it, across files; a sentence
    /// offset that points outside the file is refused; and a file of the layout before
    /// sentences were kept is still read, without them.
    #[test]
    fn sentence_vectors_are_kept_beside_their_passage() {
        let dir = tempfile::tempdir().unwrap();
        let dim = 16;
        let v = |i: u64| Quantized::of(&unit(i, dim));
        // Rows 0-2 with 2, 1 and 3 sentences; rows 5-6 (an update's) with 1 and 2.
        let sentences = [vec![v(10), v(11)], vec![v(12)], vec![v(13), v(14), v(15)]];
        let rows = [v(1), v(2), v(3)];
        let (a, b) = (
            dir.path().join("vectors.bin"),
            dir.path().join("vectors-5.bin"),
        );
        write(&a, "m", dim, &rows, &sentences).unwrap();
        write(
            &b,
            "m",
            dim,
            &[v(6), v(7)],
            &[vec![v(16)], vec![v(17), v(18)]],
        )
        .unwrap();
        let vectors = Vectors::open_parts(&[(a.clone(), 0, None), (b, 5, None)]).unwrap();
        assert!(vectors.has_sentences());
        assert_eq!(vectors.len(), 5);
        assert_eq!(vectors.get(2), Some(v(3)));
        assert_eq!(vectors.sentences(2).unwrap().unwrap(), sentences[2]);
        assert_eq!(vectors.sentences(1).unwrap().unwrap(), sentences[1]);
        assert_eq!(vectors.sentences(6).unwrap().unwrap(), [v(17), v(18)]);
        assert!(vectors.sentences(3).unwrap().is_none());
        // The best sentence: the query is sentence 14 itself.
        let best = vectors.best_sentence(&unit(14, dim), 2).unwrap().unwrap();
        assert!((best - 1.0).abs() < 2e-3, "{best}");
        let others = vectors.best_sentence(&unit(14, dim), 0).unwrap().unwrap();
        assert!(others < 0.9, "{others}");
        assert!(vectors.check_sentences(&a).is_ok());

        // An offset past the sentence records: refused, naming the file.
        let mut bytes = std::fs::read(&a).unwrap();
        let offsets = HEADER + 3 * (dim + 4);
        bytes[offsets + 8] = 9;
        std::fs::write(&a, &bytes).unwrap();
        let err = Vectors::open(&a, None).unwrap_err();
        assert!(err.contains("sentence offsets"), "{err}");

        // The earlier layout: magic BBVEC001, the passages' records only.
        let mut old = Vec::new();
        old.extend_from_slice(MAGIC_PASSAGES_ONLY);
        old.extend_from_slice(&(dim as u32).to_le_bytes());
        old.extend_from_slice(&3u64.to_le_bytes());
        old.extend_from_slice(&[b' '; ID_BYTES]);
        old[20] = b'm';
        for r in &rows {
            old.extend(r.bytes());
        }
        std::fs::write(&a, &old).unwrap();
        let vectors = Vectors::open(&a, Some(crc32fast::hash(&old))).unwrap();
        assert_eq!((vectors.len(), vectors.model_id()), (3, "m"));
        assert_eq!(vectors.get(1), Some(v(2)));
        assert!(!vectors.has_sentences() && vectors.sentences(1).unwrap().is_none());
    }

    /// The manifest's CRC32 covers the head (header, passages, offsets), which opening
    /// reads; each sentence record is checked against its own CRC32 when read, or all of
    /// them by `check_sentences`. A file of the layout before (`BBVEC002`: no CRC32 per
    /// sentence) is still read, checked whole at opening.
    #[test]
    fn sentence_records_are_checked_as_they_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let dim = 16;
        let v = |i: u64| Quantized::of(&unit(i, dim));
        let rows = [v(1), v(2)];
        let sentences = [vec![v(10), v(11)], vec![v(12), v(13), v(14)]];
        let path = dir.path().join(FILE);
        let head = write(&path, "m", dim, &rows, &sentences).unwrap();
        let good = std::fs::read(&path).unwrap();
        let head_end = HEADER + 2 * (dim + 4) + 3 * 8;
        assert_eq!(good.len(), head_end + 5 * (dim + 8));
        assert_eq!(head, crc32fast::hash(&good[..head_end]));

        // A changed byte in the head: refused at opening.
        let mut bytes = good.clone();
        bytes[HEADER + dim + 4 + 3] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = Vectors::open(&path, Some(head)).unwrap_err();
        assert!(err.contains("does not match its checksum"), "{err}");

        // In sentence 3 (the second passage's second): opening reads past it; the
        // passage whose sentences hold it fails when read, the other does not.
        let mut bytes = good.clone();
        bytes[head_end + 3 * (dim + 8) + 9] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let vectors = Vectors::open(&path, Some(head)).unwrap();
        let err = vectors.best_sentence(&unit(13, dim), 1).unwrap_err();
        assert!(
            err.contains("vectors.bin: sentence vector 3 does not match its checksum"),
            "{err}"
        );
        assert!(vectors.sentences(1).is_err());
        assert_eq!(vectors.sentences(0).unwrap().unwrap(), sentences[0]);
        assert!(vectors.best_sentence(&unit(10, dim), 0).unwrap().is_some());
        let err = vectors.check_sentences(&path).unwrap_err();
        assert!(err.contains("sentence vector 3"), "{err}");
        // Its CRC32 changed instead: the same.
        let mut bytes = good.clone();
        bytes[head_end + 4 * (dim + 8) - 1] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let vectors = Vectors::open(&path, Some(head)).unwrap();
        assert!(vectors.check_sentences(&path).is_err());

        // The layout before: BBVEC002, no CRC32 per sentence, the manifest's over all.
        let mut old = MAGIC_WHOLE_CRC.to_vec();
        old.extend_from_slice(&good[8..head_end]);
        for i in 0..5 {
            let at = head_end + i * (dim + 8);
            old.extend_from_slice(&good[at..at + dim + 4]);
        }
        std::fs::write(&path, &old).unwrap();
        let vectors = Vectors::open(&path, Some(crc32fast::hash(&old))).unwrap();
        assert!(vectors.has_sentences());
        assert_eq!(vectors.sentences(1).unwrap().unwrap(), sentences[1]);
        assert!(vectors.check_sentences(&path).is_ok());
        let written = crc32fast::hash(&old);
        let last = old.len() - 1;
        old[last] ^= 1;
        std::fs::write(&path, &old).unwrap();
        let err = Vectors::open(&path, Some(written)).unwrap_err();
        assert!(err.contains("does not match its checksum"), "{err}");
    }

    #[test]
    fn quantised_cosines_are_within_a_thousandth_and_the_scan_finds_the_nearest() {
        let dim = 384;
        let all: Vec<Vec<f32>> = (0..300).map(|i| unit(i + 1, dim)).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let rows: Vec<Quantized> = all.iter().map(|v| Quantized::of(v)).collect();
        write(&path, "abc", dim, &rows, &own(&rows)).unwrap();
        let vectors = Vectors::open(&path, None).unwrap();
        assert_eq!(
            (vectors.len(), vectors.dim(), vectors.model_id()),
            (300, dim, "abc")
        );

        let query = unit(77, dim);
        let exact: Vec<f32> = all
            .iter()
            .map(|v| v.iter().zip(&query).map(|(a, b)| a * b).sum())
            .collect();
        for (row, e) in exact.iter().enumerate() {
            let got = vectors.cosine(&query, row).unwrap();
            assert!((got - e).abs() < 1e-3, "row {row}: {got} vs {e}");
        }
        // A stored vector is its own nearest neighbour.
        let near = vectors.nearest(&all[42], 3, std::slice::from_ref(&(0..300)));
        assert_eq!(near[0].0, 42);
        assert!((near[0].1 - 1.0).abs() < 2e-3, "{near:?}");
        assert!(near[0].1 >= near[1].1 && near[1].1 >= near[2].1);
        // Restricted to a range of rows.
        let near = vectors.nearest(&all[42], 5, std::slice::from_ref(&(100..120)));
        assert!(near.iter().all(|(r, _)| (100..120).contains(r)));
        assert_eq!(near.len(), 5);
        // Over several ranges, as a scope of two libraries asks.
        let near = vectors.nearest(&all[42], 10, &[0..3, 40..44, 290..400]);
        assert_eq!(near[0].0, 42);
        assert_eq!(near.len(), 10);
        assert!(
            near.iter()
                .all(|(r, _)| *r < 3 || (40..44).contains(r) || *r >= 290)
        );
        assert!(vectors.cosine(&query, 300).is_none());
    }

    #[test]
    fn rows_are_read_across_the_files_of_a_version() {
        let dir = tempfile::tempdir().unwrap();
        let all: Vec<Vec<f32>> = (0..10).map(|i| unit(i + 1, 64)).collect();
        let part = |name: &str, rows: std::ops::Range<usize>| {
            let path = dir.path().join(name);
            let q: Vec<Quantized> = all[rows].iter().map(|v| Quantized::of(v)).collect();
            write(&path, "m", 64, &q, &own(&q)).unwrap();
            path
        };
        // Rows 0-3 from a build, 6-9 from an update (rows 4-5 given out and dropped).
        let (a, b) = (part("vectors.bin", 0..4), part("vectors-6.bin", 6..10));
        let vectors = Vectors::open_parts(&[(b.clone(), 6, None), (a.clone(), 0, None)]).unwrap();
        assert_eq!(vectors.len(), 8);
        assert!(vectors.covers(0..4) && vectors.covers(6..10) && !vectors.covers(2..8));
        assert!(vectors.cosine(&all[7], 5).is_none());
        assert!((vectors.cosine(&all[7], 7).unwrap() - 1.0).abs() < 2e-3);
        assert_eq!(vectors.get(8), Some(Quantized::of(&all[8])));
        let near = vectors.nearest(&all[7], 3, std::slice::from_ref(&(0..10)));
        assert_eq!(near[0].0, 7);
        assert!(near.iter().all(|(r, _)| *r != 4 && *r != 5));
        let near = vectors.nearest(&all[7], 3, std::slice::from_ref(&(0..2)));
        assert_eq!(near.len(), 2);
        assert!(near.iter().all(|(r, _)| *r < 2));
        // Overlapping files are a damaged version.
        let c = part("vectors-3.bin", 3..5);
        let err = Vectors::open_parts(&[(a, 0, None), (c, 3, None)]).unwrap_err();
        assert!(err.contains("overlap"), "{err}");
    }

    #[test]
    fn a_truncated_vectors_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let rows: Vec<Quantized> = (0..4).map(|i| Quantized::of(&unit(i + 1, 8))).collect();
        write(&path, "m", 8, &rows, &own(&rows)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = Vectors::open(&path, None).unwrap_err();
        assert!(
            err.contains("4 vectors of 8 dimensions and 4 of sentences"),
            "{err}"
        );
        std::fs::write(&path, b"not vectors").unwrap();
        assert!(Vectors::open(&path, None).is_err());
    }
}
