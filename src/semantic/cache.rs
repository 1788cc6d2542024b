//! The embedding cache: every passage vector a model has made, keyed by a hash of the
//! passage's text, so that a rebuild embeds only the paragraphs it has not seen (a
//! changed briefing, a new one). One file per model in `index/embeddings/`, appended to
//! by each build and rewritten without its unused vectors when they outnumber the used
//! ones. It is a cache: a damaged or missing file only costs the time to embed again.
//!
//! Layout: `BBEMB002`, dim (u32 LE), then records of (text hash u64 LE, scale f32 LE,
//! dim × i8, CRC32 LE of the record's other bytes). A record cut short by a crash is
//! ignored; a record whose CRC does not match (a damaged disk) is dropped and its text
//! embedded again, never given to an index. Caches of the first layout (`BBEMB001`, the
//! same records without the CRC) are read and rewritten in this one.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read as _, Write};
use std::path::{Path, PathBuf};

use super::vectors::Quantized;

const MAGIC: &[u8; 8] = b"BBEMB002";
/// The first layout: records without a CRC.
const MAGIC_V1: &[u8; 8] = b"BBEMB001";
const HEADER: usize = 12;

/// The key of a passage text.
pub fn key(text: &str) -> u64 {
    let mut h = crate::fnv::Fnv64::default();
    h.eat(text.as_bytes());
    h.finish()
}

/// The vectors one model has made, by text hash.
pub struct Cache {
    path: PathBuf,
    dim: usize,
    entries: HashMap<u64, Quantized>,
    /// Where in the file the wanted vectors are, by record number, when they are located
    /// rather than loaded ([`Cache::locate_only`]): appends add theirs.
    places: HashMap<u64, usize>,
    locating: bool,
    /// Records in the file (a key may be there twice after a crash).
    on_disk: usize,
    /// Whether the file is of the first layout, whose records have no CRC: appends then
    /// keep to it, until the file is rewritten.
    v1: bool,
}

/// One record's bytes, its CRC last unless `v1`.
fn record(k: u64, v: &Quantized, v1: bool) -> Vec<u8> {
    let mut out = k.to_le_bytes().to_vec();
    out.extend(v.bytes());
    if !v1 {
        let crc = crc32fast::hash(&out);
        out.extend(crc.to_le_bytes());
    }
    out
}

fn record_size(dim: usize, v1: bool) -> usize {
    8 + 4 + dim + if v1 { 0 } else { 4 }
}

/// The layout of a cache file of `dim` dimensions from its header: `Some(true)` for the
/// first, `Some(false)` for this one, `None` for none (or another dimension).
fn layout(header: &[u8], dim: usize) -> Option<bool> {
    if header.len() < HEADER
        || u32::from_le_bytes(header[8..12].try_into().expect("4 bytes")) as usize != dim
    {
        return None;
    }
    match &header[..8] {
        m if m == MAGIC => Some(false),
        m if m == MAGIC_V1 => Some(true),
        _ => None,
    }
}

/// Cuts off a record left short at the end of the `len`-byte file at `path` (a crash
/// while appending), so that the next append starts aligned; returns how many whole
/// records of `size` bytes it holds.
fn cut_torn(path: &Path, len: u64, size: usize) -> std::io::Result<usize> {
    let (body, size) = (len.saturating_sub(HEADER as u64), size as u64);
    if !body.is_multiple_of(size) {
        OpenOptions::new()
            .write(true)
            .open(path)?
            .set_len(HEADER as u64 + body / size * size)?;
    }
    Ok((body / size) as usize)
}

/// What [`read_records`] found in a cache file.
struct Scan {
    /// The file is of the first layout (no CRCs).
    v1: bool,
    /// Whole records read.
    whole: usize,
    /// Of those, records whose CRC did not match: left out.
    damaged: usize,
}

/// Reads the cache file at `path` a record at a time, handing `each` the record's number,
/// the key, scale and quantized dimensions of every whole record whose CRC matches; a record torn at the end
/// (a crash while appending) is cut off. `None` when there is no file or it is not a cache
/// of `dim` dimensions (then said in the log).
fn read_records(
    path: &Path,
    dim: usize,
    mut each: impl FnMut(usize, u64, f32, &[u8]),
) -> Option<Scan> {
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut header = [0u8; HEADER];
    let Some(v1) = reader
        .read_exact(&mut header)
        .ok()
        .and_then(|()| layout(&header, dim))
    else {
        tracing::warn!(path = %path.display(), "ignoring an embedding cache that is not one");
        return None;
    };
    let size = record_size(dim, v1);
    let records = cut_torn(path, len, size).ok()?;
    let mut record = vec![0u8; size];
    let (mut whole, mut damaged) = (0usize, 0usize);
    for at in 0..records {
        // A read error part-way (a failing disk): the records read so far are kept.
        if reader.read_exact(&mut record).is_err() {
            break;
        }
        whole += 1;
        let body = &record[..12 + dim];
        if !v1 && crc32fast::hash(body).to_le_bytes() != record[12 + dim..] {
            damaged += 1;
            continue;
        }
        let k = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
        let scale = f32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
        each(at, k, scale, &body[12..]);
    }
    Some(Scan { v1, whole, damaged })
}

impl Cache {
    /// The cache of `model_id` in `dir`, every vector in memory; empty when there is none
    /// or it cannot be read. A build locates its own instead ([`Cache::locate_only`]).
    pub fn load(dir: &Path, model_id: &str, dim: usize) -> Cache {
        let mut cache = Self::locate_only(dir, model_id, dim, |_| true);
        let mut entries = HashMap::with_capacity(cache.places.len());
        if let Ok(mut reader) = cache.reader() {
            for &k in cache.places.keys() {
                // A record damaged since it was located is left out, as one found so.
                if let Ok(bytes) = reader.bytes(k) {
                    let scale = f32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
                    entries.insert(k, quantized(scale, &bytes[4..]));
                }
            }
        }
        cache.entries = entries;
        cache.places.clear();
        cache.locating = false;
        cache
    }

    /// The cache of `model_id` in `dir` as a build reads it: only where the vectors whose
    /// keys `wanted` accepts are in the file is held in memory (a record number, not the
    /// vector: 16 bytes instead of about 400), and where those appended after are;
    /// [`Cache::reader`] reads them back. A full build's vectors file is written from them,
    /// a vector at a time (README, "Questions in other words": at 100k paragraphs, a peak
    /// of 366–373 MB instead of 859–892 MB). A file of the first layout, or with damaged
    /// records (never located), is rewritten as `load` would and located again; should the
    /// rewrite fail, the records are used where they are.
    pub fn locate_only(
        dir: &Path,
        model_id: &str,
        dim: usize,
        wanted: impl Fn(u64) -> bool,
    ) -> Cache {
        let path = dir.join(format!("{model_id}.bin"));
        let mut cache = Cache {
            locating: true,
            ..Cache::empty(path, dim)
        };
        let locate = |cache: &mut Cache| {
            let mut places = HashMap::new();
            let scan = read_records(&cache.path, dim, |at, k, _, _| {
                if wanted(k) {
                    places.insert(k, at);
                }
            })?;
            (cache.places, cache.on_disk, cache.v1) = (places, scan.whole, scan.v1);
            Some(scan)
        };
        let Some(Scan { v1, damaged, .. }) = locate(&mut cache) else {
            return cache;
        };
        if v1 || damaged > 0 {
            if damaged > 0 {
                // Said here, where they are dropped, and not by the rewrite below (which
                // reads the file again) nor by `keys` (which leaves the file to this): once.
                tracing::warn!(
                    path = %cache.path.display(),
                    damaged,
                    "embedding cache records do not match their checksums: dropped, their paragraphs will be embedded again"
                );
            }
            match cache.rewrite_keeping(|_| true) {
                // Record numbers change with the rewrite.
                Ok(()) => {
                    locate(&mut cache);
                }
                Err(e) => {
                    tracing::warn!(path = %cache.path.display(), error = %crate::error_chain(&e), "cannot rewrite the embedding cache");
                }
            }
        }
        cache
    }

    /// An empty cache of the file at `path`.
    fn empty(path: PathBuf, dim: usize) -> Cache {
        Cache {
            path,
            dim,
            entries: HashMap::new(),
            places: HashMap::new(),
            locating: false,
            on_disk: 0,
            v1: false,
        }
    }

    /// The keys of the vectors in the cache of `model_id` in `dir`, without the vectors:
    /// for asking which texts are embedded (8 bytes a vector in memory instead of about
    /// 400, and the file read a record at a time). A damaged record's key is left out;
    /// the file is not rewritten (the next [`Cache::load`] does that).
    pub fn keys(dir: &Path, model_id: &str, dim: usize) -> HashSet<u64> {
        let mut keys = HashSet::new();
        read_records(&dir.join(format!("{model_id}.bin")), dim, |_, k, _, _| {
            keys.insert(k);
        });
        keys
    }

    /// The cache of `model_id` in `dir` for appending only: nothing is read into memory.
    pub fn unloaded(dir: &Path, model_id: &str, dim: usize) -> Cache {
        let path = dir.join(format!("{model_id}.bin"));
        // A file whose header is not this model's is rewritten from scratch (only a
        // cost); a record cut short at its end is cut off, as `load` does.
        let v1 = Self::layout_of(&path, dim);
        let on_disk = v1
            .and_then(|v1| {
                let len = fs::metadata(&path).ok()?.len();
                cut_torn(&path, len, record_size(dim, v1)).ok()
            })
            .unwrap_or(0);
        Cache {
            on_disk,
            v1: v1.unwrap_or(false),
            ..Cache::empty(path, dim)
        }
    }

    /// The layout of the cache file at `path` (see [`layout`]).
    fn layout_of(path: &Path, dim: usize) -> Option<bool> {
        let mut header = [0u8; HEADER];
        File::open(path)
            .and_then(|mut f| f.read_exact(&mut header))
            .ok()
            .and_then(|()| layout(&header, dim))
    }

    pub fn get(&self, key: u64) -> Option<&Quantized> {
        self.entries.get(&key)
    }

    /// Whether the vector of `key` is held in memory or located in the file.
    pub fn has(&self, key: u64) -> bool {
        self.entries.contains_key(&key) || self.places.contains_key(&key)
    }

    /// Reads located vectors ([`Cache::locate_only`]) back from the file.
    pub fn reader(&self) -> std::io::Result<Reader<'_>> {
        Ok(Reader {
            cache: self,
            file: File::open(&self.path)?,
            record: vec![0u8; record_size(self.dim, self.v1)],
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds new vectors at the end of the file. Only what was loaded is held in memory:
    /// the caller keeps what it made (a long embedding run for a large library would
    /// otherwise hold every vector it made, 400 MB at 1M paragraphs).
    pub fn append(&mut self, new: &[(u64, Quantized)]) -> std::io::Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let fresh = !self.path.exists() || self.on_disk == 0;
        let file = if fresh {
            self.v1 = false;
            File::create(&self.path)?
        } else {
            OpenOptions::new().append(true).open(&self.path)?
        };
        let mut w = BufWriter::new(file);
        if fresh {
            w.write_all(MAGIC)?;
            w.write_all(&(self.dim as u32).to_le_bytes())?;
        }
        for (k, v) in new {
            w.write_all(&record(*k, v, self.v1))?;
        }
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        let first = if fresh { 0 } else { self.on_disk };
        if self.locating {
            for (at, (k, _)) in new.iter().enumerate() {
                self.places.insert(*k, first + at);
            }
        }
        self.on_disk = first + new.len();
        Ok(())
    }

    /// Rewrites the file with only the vectors of the `count` live texts whose keys `live`
    /// accepts, when the others make up more than half of it.
    pub fn compact(&mut self, count: usize, live: impl Fn(u64) -> bool) -> std::io::Result<()> {
        if self.on_disk <= 2 * count.max(1) {
            return Ok(());
        }
        self.entries.retain(|k, _| live(*k));
        self.rewrite_keeping(live)
    }

    /// Writes the file's records whose keys `keep` accepts (each key once, damaged ones
    /// left out) to a new file of the current layout, reading the old one a record at a
    /// time (not from memory: it may hold only some of them), then renames it over the
    /// old one. A file that cannot be read is left as it is; one that stops reading
    /// part-way (a failing disk) loses the records after that point (only a cost).
    fn rewrite_keeping(&mut self, keep: impl Fn(u64) -> bool) -> std::io::Result<()> {
        let tmp = self.path.with_extension("bin.tmp");
        let mut kept = HashSet::new();
        let written = (|| {
            let mut w = BufWriter::new(File::create(&tmp)?);
            w.write_all(MAGIC)?;
            w.write_all(&(self.dim as u32).to_le_bytes())?;
            let mut failed = Ok(());
            let read = read_records(&self.path, self.dim, |_, k, scale, q| {
                if failed.is_ok() && keep(k) && kept.insert(k) {
                    failed = w.write_all(&record(k, &quantized(scale, q), false));
                }
            });
            failed?;
            if read.is_none() {
                return Err(std::io::Error::other("the embedding cache cannot be read"));
            }
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            // A full disk: the old file stays, and so must not a half-written copy.
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        self.on_disk = kept.len();
        self.v1 = false;
        // Located vectors are elsewhere in the new file.
        self.places.clear();
        Ok(())
    }
}

/// Reads located vectors back from a cache's file ([`Cache::reader`]).
pub struct Reader<'c> {
    cache: &'c Cache,
    file: File,
    record: Vec<u8>,
}

impl Reader<'_> {
    /// The bytes of `key`'s vector as [`Quantized::bytes`] gives them (its scale, then its
    /// dimensions), read from its record and checked against the record's CRC again (the
    /// disk may have changed since the cache was read); an error when it is not located,
    /// or is damaged now.
    pub fn bytes(&mut self, key: u64) -> std::io::Result<&[u8]> {
        use std::os::unix::fs::FileExt;
        let at = *self.cache.places.get(&key).ok_or_else(|| {
            std::io::Error::other(format!(
                "the vector of text {key:016x} is not in the embedding cache {} (writing it there failed: see the log)",
                self.cache.path.display()
            ))
        })?;
        let size = self.record.len() as u64;
        self.file
            .read_exact_at(&mut self.record, HEADER as u64 + at as u64 * size)?;
        let dim = self.cache.dim;
        let body = &self.record[..12 + dim];
        let crc_ok =
            self.cache.v1 || crc32fast::hash(body).to_le_bytes() == self.record[12 + dim..];
        if !crc_ok || body[..8] != key.to_le_bytes() {
            return Err(std::io::Error::other(format!(
                "{}: record {at} does not match its checksum",
                self.cache.path.display()
            )));
        }
        Ok(&self.record[8..12 + dim])
    }
}

/// A record's vector as [`read_records`] hands it over.
fn quantized(scale: f32, q: &[u8]) -> Quantized {
    Quantized {
        scale,
        q: q.iter().map(|&b| b as i8).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(x: i8) -> Quantized {
        Quantized {
            scale: 0.5,
            q: vec![x; 4],
        }
    }

    #[test]
    fn the_cache_survives_a_reload_a_torn_record_and_compacts() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cache::load(dir.path(), "m", 4);
        assert!(c.is_empty());
        c.append(&[(1, q(1)), (2, q(2))]).unwrap();
        c.append(&[(3, q(3))]).unwrap();
        let path = dir.path().join("m.bin");
        // A crash in the middle of an append leaves part of a record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[9, 9, 9]).unwrap();
        drop(f);
        assert_eq!(Cache::keys(dir.path(), "m", 4), [1, 2, 3].into());
        let mut c = Cache::load(dir.path(), "m", 4);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(2), Some(&q(2)));
        // The torn bytes are gone: the next record is read back whole.
        c.append(&[(4, q(4))]).unwrap();
        let mut c = Cache::load(dir.path(), "m", 4);
        assert_eq!(c.len(), 4);
        assert_eq!(c.get(4), Some(&q(4)));
        // Another dimension is another model: not read.
        assert!(Cache::load(dir.path(), "m", 8).is_empty());
        assert!(Cache::keys(dir.path(), "m", 8).is_empty());

        assert_eq!(c.on_disk, 4);
        c.compact(1, |k| k == 3).unwrap();
        let c = Cache::load(dir.path(), "m", 4);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(3), Some(&q(3)));

        // Appending without loading cuts a torn record off too, and keeps the rest.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[9, 9]).unwrap();
        drop(f);
        Cache::unloaded(dir.path(), "m", 4)
            .append(&[(5, q(5))])
            .unwrap();
        let c = Cache::load(dir.path(), "m", 4);
        assert_eq!((c.len(), c.get(3), c.get(5)), (2, Some(&q(3)), Some(&q(5))));
    }

    /// A build holds none of the vectors in memory, its own or those it appends;
    /// compacting reads the file, so a live vector is kept.
    #[test]
    fn a_build_holds_no_vectors_and_compacts_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cache::load(dir.path(), "m", 4);
        c.append(&[(1, q(1)), (2, q(2)), (3, q(3)), (4, q(4)), (5, q(5))])
            .unwrap();
        assert_eq!(c.len(), 0, "appended vectors are not held in memory");
        let mut c = Cache::locate_only(dir.path(), "m", 4, |k| k == 2);
        assert_eq!((c.len(), c.has(2), c.has(4)), (0, true, false));
        c.compact(2, |k| k == 2 || k == 4).unwrap();
        assert_eq!(c.on_disk, 2);
        let c = Cache::load(dir.path(), "m", 4);
        assert_eq!((c.len(), c.get(2), c.get(4)), (2, Some(&q(2)), Some(&q(4))));
    }

    /// A build's vectors located rather than loaded: none held in memory, each read back
    /// from its record (those appended after too), and a record damaged since it was
    /// located is an error, never a wrong vector. Compacting moves the records: located
    /// again by the next build.
    #[test]
    fn located_vectors_are_read_back_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        Cache::load(dir.path(), "m", 4)
            .append(&[(1, q(1)), (2, q(2)), (3, q(3))])
            .unwrap();
        let mut c = Cache::locate_only(dir.path(), "m", 4, |k| k != 2);
        assert!(c.is_empty(), "nothing held in memory");
        assert!(c.has(1) && !c.has(2) && c.has(3));
        c.append(&[(4, q(4))]).unwrap();
        assert!(c.has(4));
        {
            let mut r = c.reader().unwrap();
            for k in [1u64, 3, 4] {
                assert_eq!(r.bytes(k).unwrap(), q(k as i8).bytes());
            }
            let err = r.bytes(2).unwrap_err().to_string();
            assert!(err.contains("not in the embedding cache"), "{err}");
        }
        // Record 3 (key 3) changed on disk after it was located.
        let path = dir.path().join("m.bin");
        let mut bytes = fs::read(&path).unwrap();
        bytes[HEADER + 2 * record_size(4, false) + 12] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        let err = c.reader().unwrap().bytes(3).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        // Located again, the damaged record is dropped (and the file rewritten without it).
        let mut c = Cache::locate_only(dir.path(), "m", 4, |_| true);
        assert!(c.has(1) && !c.has(3) && c.has(4));
        assert_eq!(c.reader().unwrap().bytes(4).unwrap(), q(4).bytes());
        c.compact(1, |k| k == 4).unwrap();
        assert!(!c.has(4), "moved by the rewrite");
        let c = Cache::locate_only(dir.path(), "m", 4, |_| true);
        assert_eq!(c.reader().unwrap().bytes(4).unwrap(), q(4).bytes());
    }

    /// When the file cannot be rewritten without its damaged records (here a folder stands
    /// where the new file goes), its other records are used where they are: nothing is
    /// lost, and appends go on at its end.
    #[test]
    fn located_vectors_survive_a_rewrite_that_fails() {
        let dir = tempfile::tempdir().unwrap();
        Cache::load(dir.path(), "m", 4)
            .append(&[(1, q(1)), (2, q(2)), (3, q(3))])
            .unwrap();
        let path = dir.path().join("m.bin");
        let mut bytes = fs::read(&path).unwrap();
        bytes[HEADER + record_size(4, false) + 12] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        fs::create_dir(path.with_extension("bin.tmp")).unwrap();
        let mut c = Cache::locate_only(dir.path(), "m", 4, |_| true);
        assert!(c.has(1) && !c.has(2) && c.has(3));
        c.append(&[(2, q(2))]).unwrap();
        let mut r = c.reader().unwrap();
        for k in [1u64, 2, 3] {
            assert_eq!(r.bytes(k).unwrap(), q(k as i8).bytes());
        }
    }

    /// A cache of the first layout is rewritten before its vectors are located: their
    /// places are those of the rewritten file.
    #[test]
    fn vectors_of_a_first_layout_cache_are_located_in_the_rewritten_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = MAGIC_V1.to_vec();
        bytes.extend(4u32.to_le_bytes());
        for k in [1u64, 2, 1] {
            bytes.extend(record(k, &q(k as i8), true));
        }
        fs::write(dir.path().join("m.bin"), &bytes).unwrap();
        let c = Cache::locate_only(dir.path(), "m", 4, |_| true);
        assert_eq!(&fs::read(dir.path().join("m.bin")).unwrap()[..8], MAGIC);
        let mut r = c.reader().unwrap();
        assert_eq!(r.bytes(1).unwrap(), q(1).bytes());
        assert_eq!(r.bytes(2).unwrap(), q(2).bytes());
    }

    /// A changed byte in a record (a damaged disk) drops that record alone: its text is
    /// embedded again instead of its wrong vector going into an index.
    #[test]
    fn a_damaged_record_is_dropped_and_the_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cache::load(dir.path(), "m", 4);
        c.append(&[(1, q(1)), (2, q(2)), (3, q(3))]).unwrap();
        let path = dir.path().join("m.bin");
        let mut bytes = fs::read(&path).unwrap();
        // Record 2's scale: 0.5 would read back as another number.
        bytes[HEADER + record_size(4, false) + 8 + 2] ^= 0x40;
        fs::write(&path, &bytes).unwrap();
        // Asked for its keys alone, it leaves that record's out and the file as it is.
        assert_eq!(Cache::keys(dir.path(), "m", 4), [1, 3].into());
        assert_eq!(fs::read(&path).unwrap(), bytes);
        // Loaded, it is dropped and the file rewritten without it, said once in the log
        // (the rewrite reads the file again: before, it said so a second time).
        let log = dir.path().join("log");
        let file = std::sync::Arc::new(File::create(&log).unwrap());
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(file)
            .finish();
        let c = tracing::subscriber::with_default(subscriber, || Cache::load(dir.path(), "m", 4));
        let log = fs::read_to_string(&log).unwrap();
        assert_eq!(
            log.matches("do not match their checksums").count(),
            1,
            "{log}"
        );
        assert_eq!((c.len(), c.get(2)), (2, None));
        assert_eq!((c.get(1), c.get(3)), (Some(&q(1)), Some(&q(3))));
        // The file was rewritten without it.
        assert_eq!(c.on_disk, 2);
        assert_eq!(Cache::load(dir.path(), "m", 4).len(), 2);
    }

    /// A cache of the first layout (no checksums) is read whole, appended to in its own
    /// layout without loading, and rewritten with checksums when loaded.
    #[test]
    fn a_cache_of_the_first_layout_is_read_and_rewritten_with_checksums() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        let mut bytes = MAGIC_V1.to_vec();
        bytes.extend(4u32.to_le_bytes());
        for k in [1u64, 2] {
            bytes.extend(record(k, &q(k as i8), true));
        }
        fs::write(&path, &bytes).unwrap();
        Cache::unloaded(dir.path(), "m", 4)
            .append(&[(3, q(3))])
            .unwrap();
        assert_eq!(&fs::read(&path).unwrap()[..8], MAGIC_V1);
        let c = Cache::load(dir.path(), "m", 4);
        assert_eq!(c.len(), 3);
        assert_eq!((c.get(1), c.get(3)), (Some(&q(1)), Some(&q(3))));
        let rewritten = fs::read(&path).unwrap();
        assert_eq!(&rewritten[..8], MAGIC);
        assert_eq!(rewritten.len(), HEADER + 3 * record_size(4, false));
        assert_eq!(Cache::load(dir.path(), "m", 4).len(), 3);
    }
}
