//! Checking an index version's files before anything searches them.
//!
//! tantivy trusts its files: a segment file truncated to a few bytes makes it panic while it
//! reads the file's footer, a file of zeros passes `Index::open` and fails (or panics) at
//! the first search, and a missing positions file is only noticed by a query. So before a
//! version is handed to the search, every file its segments name is checked here: that it
//! exists and that tantivy's own footer reads back (length, magic number, format version);
//! with [`Depth::Checksums`] also every file's CRC32, which tantivy keeps in that footer.
//! Whatever is found is a reason string for [`OpenError::Damaged`](super::OpenError), which
//! a writer cures by rebuilding and a reader reports.
//!
//! This module only reads; it never repairs anything.

use std::path::Path;

use tantivy::directory::footer::Footer;
use tantivy::directory::{Directory, MmapDirectory};
use tantivy::index::SegmentComponent;
use tantivy::{HasLen, Index};

/// How much of a version is read to check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    /// Every segment file exists and its footer reads back: a few bytes per file, so cheap
    /// at any size (what a one-shot `briefbot ask` does).
    Footers,
    /// Footers, then every file's CRC32 against its footer, and every sentence vector's:
    /// reads the whole index once (what a long-running bot does before it answers from a
    /// version, and a writer's update before it builds on the live one, whose files the
    /// new version shares; each file once per process, see [`once`]).
    Checksums,
    /// Checksums, reading again even the files this process found right before (damage
    /// that keeps a file's size and time, bit rot, escapes the memory of [`once`]): what a
    /// writer does with a version a reader reported damaged.
    Rechecked,
}

/// The smallest file that can hold a footer: its payload length and magic number.
const FOOTER_TAIL: usize = 8;

/// The segment files an index without deletes has, one of each per segment.
const COMPONENTS: [SegmentComponent; 6] = [
    SegmentComponent::Postings,
    SegmentComponent::Positions,
    SegmentComponent::Terms,
    SegmentComponent::Store,
    SegmentComponent::FastFields,
    SegmentComponent::FieldNorms,
];

/// Checks the files of `index` (opened from `dir`) to `depth`; the first problem found,
/// naming the file. With [`Depth::Checksums`], a file already checked by this process (the
/// same inode, size and time: an update's version shares its files with the previous one)
/// is not read again, so following a line of small updates reads only what each wrote.
pub fn check(index: &Index, dir: &Path, depth: Depth) -> Result<(), String> {
    let metas = index
        .searchable_segment_metas()
        .map_err(|e| format!("meta.json: {e}"))?;
    // The raw files: the index's own directory strips (and first asserts on) the footers.
    let directory = MmapDirectory::open(dir).map_err(|e| format!("cannot open the folder: {e}"))?;
    for meta in &metas {
        let mut components: Vec<SegmentComponent> = COMPONENTS.to_vec();
        if meta.has_deletes() {
            components.push(SegmentComponent::Delete);
        }
        for component in components {
            let relative = meta.relative_path(component);
            let name = relative.display().to_string();
            if !dir.join(&relative).is_file() {
                return Err(format!("{name} is missing"));
            }
            let slice = directory
                .open_read(&relative)
                .map_err(|e| format!("{name} cannot be read: {e}"))?;
            // tantivy's footer reader asserts (panics) on files shorter than its tail.
            if slice.len() < FOOTER_TAIL {
                return Err(format!(
                    "{name} is {} bytes long, too short for an index file",
                    slice.len()
                ));
            }
            let (footer, body) =
                Footer::extract_footer(slice).map_err(|e| format!("{name} is damaged: {e}"))?;
            footer
                .is_compatible()
                .map_err(|e| format!("{name} is of another index format: {e:?}"))?;
            if depth >= Depth::Checksums {
                let path = dir.join(&relative);
                once(depth, &path, || {
                    let crc = crc_of_first(&path, body.len())
                        .map_err(|e| format!("{name} cannot be read: {e}"))?;
                    if crc != footer.crc {
                        return Err(format!("{name} does not match its checksum"));
                    }
                    Ok(())
                })?;
            }
        }
    }
    Ok(())
}

/// The CRC32 of the first `len` bytes of the file at `path`, read a block at a time. Read
/// through the file's map, as tantivy reads it, every page of the index counted in the
/// process's resident memory, for pages it did not need again: at 1M paragraphs
/// `briefbot index --check` peaked at 558 MB, now 27 MB, and a one-paragraph `briefbot
/// index` at 558 MB, now 59–61 MB (`/usr/bin/time`), in the same time.
fn crc_of_first(path: &Path, len: usize) -> std::io::Result<u32> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?.take(len as u64);
    let mut hasher = crc32fast::Hasher::new();
    let mut block = vec![0u8; 1 << 20];
    let mut read = 0;
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
        read += n;
    }
    if read < len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("{read} bytes where its footer says {len}"),
        ));
    }
    Ok(hasher.finalize())
}

/// Runs `check` of the file at `path` unless this process has already found that very
/// file right (see [`Identity`]), or always at [`Depth::Rechecked`]; remembers it when
/// `check` finds it right.
pub fn once(
    depth: Depth,
    path: &Path,
    check: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    let identity = identity(path);
    if depth < Depth::Rechecked && identity.is_some_and(|id| verified().contains(&id)) {
        return Ok(());
    }
    check()?;
    if let Some(id) = identity {
        verified().insert(id);
    }
    Ok(())
}

/// A file as the file system knows it: device, inode, size and modification time. An
/// update's version shares most of its files with the previous one (hard links: the same
/// inode), so a file whose checksum was read once in this process is not read again; a
/// file written again (even in place) has another modification time.
type Identity = (u64, u64, u64, i64, i64);

fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino(), m.len(), m.mtime(), m.mtime_nsec()))
}

/// The files whose checksums this process has read and found right.
fn verified() -> std::sync::MutexGuard<'static, std::collections::HashSet<Identity>> {
    static VERIFIED: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<Identity>>> =
        std::sync::OnceLock::new();
    VERIFIED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
