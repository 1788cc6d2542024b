//! The embedding cache: every passage vector a model has made, keyed by a hash of the
//! passage's text, so that a rebuild embeds only the paragraphs it has not seen (a
//! changed briefing, a new one). One file per model in `index/embeddings/`, appended to
//! by each build and rewritten without its unused vectors when they outnumber the used
//! ones. It is a cache: a damaged or missing file only costs the time to embed again.
//!
//! Layout: `BBEMB001`, dim (u32 LE), then records of (text hash u64 LE, scale f32 LE,
//! dim × i8). A record cut short by a crash is ignored.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::vectors::Quantized;

const MAGIC: &[u8; 8] = b"BBEMB001";
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
    /// Records in the file (a key may be there twice after a crash).
    on_disk: usize,
}

impl Cache {
    /// The cache of `model_id` in `dir`; empty when there is none or it cannot be read.
    pub fn load(dir: &Path, model_id: &str, dim: usize) -> Cache {
        let path = dir.join(format!("{model_id}.bin"));
        let mut cache = Cache {
            path,
            dim,
            entries: HashMap::new(),
            on_disk: 0,
        };
        let Ok(bytes) = fs::read(&cache.path) else {
            return cache;
        };
        let ok_header = bytes.len() >= HEADER
            && &bytes[..8] == MAGIC
            && u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize == dim;
        if !ok_header {
            tracing::warn!(path = %cache.path.display(), "ignoring an embedding cache that is not one");
            return cache;
        }
        let size = 8 + 4 + dim;
        let whole = HEADER + (bytes.len() - HEADER) / size * size;
        if whole < bytes.len() {
            // A record cut short: cut it off, so that the next append starts aligned.
            let cut = OpenOptions::new()
                .write(true)
                .open(&cache.path)
                .and_then(|f| f.set_len(whole as u64));
            if cut.is_err() {
                return cache;
            }
        }
        for record in bytes[HEADER..].chunks_exact(size) {
            let k = u64::from_le_bytes(record[..8].try_into().expect("8 bytes"));
            let scale = f32::from_le_bytes(record[8..12].try_into().expect("4 bytes"));
            let q = record[12..].iter().map(|&b| b as i8).collect();
            cache.entries.insert(k, Quantized { scale, q });
            cache.on_disk += 1;
        }
        cache
    }

    /// The cache of `model_id` in `dir` for appending only: nothing is read into memory.
    pub fn unloaded(dir: &Path, model_id: &str, dim: usize) -> Cache {
        let path = dir.join(format!("{model_id}.bin"));
        let size = (8 + 4 + dim) as u64;
        // A file whose header is not this model's, or whose last record was cut short, is
        // rewritten from scratch (only a cost).
        let on_disk = fs::metadata(&path)
            .ok()
            .map(|m| m.len())
            .filter(|&len| len >= HEADER as u64 && (len - HEADER as u64).is_multiple_of(size))
            .filter(|_| Self::header_is(&path, dim))
            .map_or(0, |len| ((len - HEADER as u64) / size) as usize);
        Cache {
            path,
            dim,
            entries: HashMap::new(),
            on_disk,
        }
    }

    /// Whether the file at `path` starts with a cache header of `dim` dimensions.
    fn header_is(path: &Path, dim: usize) -> bool {
        use std::io::Read;
        let mut header = [0u8; HEADER];
        File::open(path)
            .and_then(|mut f| f.read_exact(&mut header))
            .is_ok_and(|()| {
                &header[..8] == MAGIC
                    && u32::from_le_bytes(header[8..12].try_into().expect("4 bytes")) as usize
                        == dim
            })
    }

    pub fn get(&self, key: u64) -> Option<&Quantized> {
        self.entries.get(&key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds new vectors, in memory and at the end of the file.
    pub fn append(&mut self, new: Vec<(u64, Quantized)>) -> std::io::Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let fresh = !self.path.exists() || self.on_disk == 0;
        let file = if fresh {
            File::create(&self.path)?
        } else {
            OpenOptions::new().append(true).open(&self.path)?
        };
        let mut w = BufWriter::new(file);
        if fresh {
            w.write_all(MAGIC)?;
            w.write_all(&(self.dim as u32).to_le_bytes())?;
        }
        for (k, v) in &new {
            w.write_all(&k.to_le_bytes())?;
            w.write_all(&v.bytes())?;
        }
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        self.on_disk += new.len();
        self.entries.extend(new);
        Ok(())
    }

    /// Rewrites the file with only the vectors of `live` texts, when the others make up
    /// more than half of it.
    pub fn compact(&mut self, live: &std::collections::HashSet<u64>) -> std::io::Result<()> {
        if self.on_disk <= 2 * live.len().max(1) {
            return Ok(());
        }
        self.entries.retain(|k, _| live.contains(k));
        let tmp = self.path.with_extension("bin.tmp");
        {
            let mut w = BufWriter::new(File::create(&tmp)?);
            w.write_all(MAGIC)?;
            w.write_all(&(self.dim as u32).to_le_bytes())?;
            for (k, v) in &self.entries {
                w.write_all(&k.to_le_bytes())?;
                w.write_all(&v.bytes())?;
            }
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        self.on_disk = self.entries.len();
        Ok(())
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
        c.append(vec![(1, q(1)), (2, q(2))]).unwrap();
        c.append(vec![(3, q(3))]).unwrap();
        let path = dir.path().join("m.bin");
        // A crash in the middle of an append leaves part of a record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[9, 9, 9]).unwrap();
        drop(f);
        let mut c = Cache::load(dir.path(), "m", 4);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(2), Some(&q(2)));
        // The torn bytes are gone: the next record is read back whole.
        c.append(vec![(4, q(4))]).unwrap();
        let mut c = Cache::load(dir.path(), "m", 4);
        assert_eq!(c.len(), 4);
        assert_eq!(c.get(4), Some(&q(4)));
        // Another dimension is another model: not read.
        assert!(Cache::load(dir.path(), "m", 8).is_empty());

        let live: std::collections::HashSet<u64> = [3].into();
        assert_eq!(c.on_disk, 4);
        c.compact(&live).unwrap();
        let c = Cache::load(dir.path(), "m", 4);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(3), Some(&q(3)));
    }
}
