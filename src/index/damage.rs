//! A reader's report that the live version is damaged, for the writer: `index.dir/DAMAGED`.
//!
//! A reader bot (`index.role = "reader"`) cannot rebuild the index, and the writer may
//! answer no questions that would meet the damage itself (`briefbot index --watch`, or a
//! writer bot asked about other paragraphs). So a reader that finds the live version
//! damaged — a record that does not match its checksum while answering, or a version it
//! cannot open — writes this report; the writer looks for it as often as it looks for
//! changes, reads the named version again in full (every file against its checksum, even
//! those it checked before) and rebuilds when that confirms the damage. The report is
//! written by an atomic rename, so the writer reads a whole one or none, and is removed
//! once the writer has rebuilt, or found the version whole, or published another.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The file, beside `CURRENT`.
pub const FILE: &str = "DAMAGED";

/// What a reader found, and who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DamageReport {
    /// The version found damaged, as its manifest names it (without `v-`).
    pub version: String,
    /// What the reader found: the file and how it is damaged.
    pub reason: String,
    /// The reader: pid and host.
    pub by: String,
    /// When, RFC 3339.
    pub at: String,
}

impl DamageReport {
    /// A report by this process of `version`.
    pub fn new(version: &str, reason: &str) -> DamageReport {
        let host = fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| format!(" on {}", h.trim()))
            .unwrap_or_default();
        DamageReport {
            version: version.to_string(),
            reason: reason.to_string(),
            by: format!("pid {}{host}", std::process::id()),
            at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        }
    }
}

/// Writes `report` into `root` (aside first, then renamed over any earlier one).
pub fn write(root: &Path, report: &DamageReport) -> std::io::Result<()> {
    let aside = root.join(format!(".{FILE}.{}", std::process::id()));
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    fs::write(&aside, json)?;
    fs::rename(&aside, root.join(FILE)).inspect_err(|_| {
        let _ = fs::remove_file(&aside);
    })
}

/// The report in `root`: `None` when there is none; `Err` with what is wrong when the file
/// is there but unreadable or not a report.
pub fn read(root: &Path) -> Option<Result<DamageReport, String>> {
    let path = root.join(FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("{}: {e}", path.display()))),
    };
    Some(serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display())))
}

/// Removes the report in `root`, if there is one.
pub fn remove(root: &Path) -> std::io::Result<()> {
    match fs::remove_file(root.join(FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_written_read_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).is_none());
        let report = DamageReport::new(
            "20261206T120000Z-ab12",
            "vectors.bin: sentence vector 3 does not match its checksum",
        );
        write(dir.path(), &report).unwrap();
        assert_eq!(read(dir.path()).unwrap().unwrap(), report);
        // A second report replaces the first; nothing is left aside.
        let later = DamageReport::new("20261206T130000Z-cd34", "x");
        write(dir.path(), &later).unwrap();
        assert_eq!(read(dir.path()).unwrap().unwrap(), later);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE)]);
        remove(dir.path()).unwrap();
        assert!(read(dir.path()).is_none());
        remove(dir.path()).unwrap();
    }

    #[test]
    fn a_garbage_report_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE), "not json").unwrap();
        let err = read(dir.path()).unwrap().unwrap_err();
        assert!(err.contains(FILE), "{err}");
    }
}
