//! Moderators' content changes from Discord: add a briefing file, remove one (moved to a
//! holding folder, never deleted), each checked before anything is written, reindexed by
//! the writer, undone if the reindex fails, and audited (by the caller, in the state
//! database). Free of
//! Discord: the bot passes the file's name and bytes and who asked.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::app::{self, AppError, Writer};
use crate::config::Settings;
use crate::index::BuildReport;
use crate::ingest::{self, Briefing, IngestOptions};

/// Who made a change, as the audit file records it.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub id: u64,
    pub name: String,
    pub guild: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModerateError {
    /// A check failed; nothing was written.
    #[error("{0}")]
    Refused(String),
    /// The file was saved or moved, the reindex failed, and the change was undone.
    #[error("the reindex failed, so the change was undone: {0}")]
    Reindex(AppError),
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

/// A briefing added by [`add`].
#[derive(Debug)]
pub struct Added {
    pub briefing: Briefing,
    pub path: PathBuf,
    pub report: BuildReport,
}

/// A briefing removed by [`remove`].
#[derive(Debug)]
pub struct Removed {
    pub title: String,
    pub slug: String,
    pub paragraphs: u64,
    /// Where it was under `content/`, and where it is kept now.
    pub from: PathBuf,
    pub kept_at: PathBuf,
    pub report: BuildReport,
}

fn refused(reason: impl Into<String>) -> ModerateError {
    ModerateError::Refused(reason.into())
}

/// The formats a moderator may add.
const EXTENSIONS: &[&str] = &["txt", "md", "markdown", "html", "htm"];

/// Checks an uploaded file's name and size before it is downloaded.
pub fn check_upload(settings: &Settings, name: &str, size: u64) -> Result<String, ModerateError> {
    let name = name.trim();
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if name.is_empty() || name.starts_with('.') || !ok_chars || name.len() > 100 {
        return Err(refused(format!(
            "the file name {name:?} is not accepted: use letters, digits, '-', '_' and '.', \
             at most 100 characters, not starting with '.'"
        )));
    }
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !ext.as_deref().is_some_and(|e| EXTENSIONS.contains(&e)) {
        return Err(refused(format!(
            "{name} is not a briefing: send a .txt, .md or .html file"
        )));
    }
    let limit = settings
        .content
        .max_upload_bytes
        .min(settings.content.max_file_bytes);
    if size > limit {
        return Err(refused(format!(
            "{name} is {size} bytes; the limit is {limit} (content.max_upload_bytes)"
        )));
    }
    Ok(name.to_string())
}

/// Checks `bytes` as briefing file `name`, saves it under `content/`, and reindexes. A
/// file that fails a check is refused with the reason and nothing is written.
pub fn add(
    settings: &Settings,
    writer: &Writer,
    name: &str,
    bytes: &[u8],
) -> Result<Added, ModerateError> {
    let name = check_upload(settings, name, bytes.len() as u64)?;
    let relative = Path::new(&name);
    let briefing = ingest::parse_briefing(relative, bytes, &IngestOptions::from_settings(settings))
        .map_err(|reason| refused(format!("{name} cannot be indexed: {reason}")))?;
    if briefing.paragraphs.is_empty() {
        return Err(refused(format!("{name} has no paragraphs")));
    }
    let dir = &settings.content.dir;
    let path = dir.join(relative);
    if path.exists() {
        return Err(refused(format!(
            "content/{name} already exists: remove that briefing first, or rename the file"
        )));
    }
    if let Ok(open) = app::store(settings).open() {
        let title = briefing.title.trim().to_lowercase();
        if let Some(twin) = open
            .manifest
            .briefings
            .iter()
            .find(|b| b.title.trim().to_lowercase() == title || b.slug == briefing.slug)
        {
            let what = if twin.slug == briefing.slug {
                format!("the slug `{}`", twin.slug)
            } else {
                format!("the title “{}”", twin.title)
            };
            return Err(refused(format!(
                "a briefing with {what} is already indexed ({}); nothing was added",
                twin.source
            )));
        }
    }
    // Written whole under a hidden name (ignored by the index and the watcher), then
    // linked into place only if no file has taken the name meanwhile.
    let io = |what: String| move |source| ModerateError::Io { what, source };
    let mut tmp = tempfile::Builder::new()
        .prefix(".upload-")
        .tempfile_in(dir)
        .map_err(io(format!("write into {}", dir.display())))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io(format!("write into {}", dir.display())))?;
    tmp.persist_noclobber(&path)
        .map_err(|e| ModerateError::Io {
            what: format!("save {}", path.display()),
            source: e.error,
        })?;
    match writer.rebuild(settings) {
        Ok((_, report)) => Ok(Added {
            briefing,
            path,
            report,
        }),
        Err(err) => {
            let _ = fs::remove_file(&path);
            Err(ModerateError::Reindex(err))
        }
    }
}

/// Moves the file of briefing `slug` out of `content/` into `content.holding_dir` (under
/// a folder named by the time, keeping its path), and reindexes.
pub fn remove(settings: &Settings, writer: &Writer, slug: &str) -> Result<Removed, ModerateError> {
    let open = app::store(settings)
        .open()
        .map_err(|e| refused(format!("the index cannot be read: {e}")))?;
    let info =
        crate::study::find_briefing(&open.manifest, slug).map_err(|e| refused(e.to_string()))?;
    if open.manifest.briefings.len() == 1 {
        return Err(refused(
            "it is the only briefing: the index would be empty, so nothing was removed",
        ));
    }
    let from = settings.content.dir.join(&info.source);
    if !from.is_file() {
        return Err(refused(format!(
            "its file content/{} is no longer there; /reindex to drop it from the index",
            info.source
        )));
    }
    let stamp: String = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let kept_at = settings.content.holding_dir.join(stamp).join(&info.source);
    let io = |what: String| move |source| ModerateError::Io { what, source };
    if let Some(parent) = kept_at.parent() {
        fs::create_dir_all(parent).map_err(io(format!("create {}", parent.display())))?;
    }
    move_file(&from, &kept_at).map_err(io(format!(
        "move {} to {}",
        from.display(),
        kept_at.display()
    )))?;
    match writer.rebuild(settings) {
        Ok((_, report)) => Ok(Removed {
            title: info.title.clone(),
            slug: info.slug.clone(),
            paragraphs: info.paragraphs,
            from,
            kept_at,
            report,
        }),
        Err(err) => {
            let _ = move_file(&kept_at, &from);
            Err(ModerateError::Reindex(err))
        }
    }
}

/// Renames, or copies and deletes across file systems.
fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            fs::copy(from, to)?;
            fs::remove_file(from)
        }
        Err(e) => Err(e),
    }
}

/// One line of the audit file, as briefbot wrote them before the state database.
#[derive(Serialize)]
struct AuditLine<'a> {
    time: String,
    actor: Actor,
    action: &'a str,
    target: &'a str,
    outcome: &'a str,
}

/// Appends `entry` to the audit file `path` in its old form, while the state database is
/// unavailable; the next start reads it in ([`crate::state::import`]).
pub fn keep_audit_line(path: &Path, entry: &crate::state::audit::Entry) -> std::io::Result<()> {
    let line = serde_json::to_string(&AuditLine {
        time: crate::state::rfc3339(entry.at),
        actor: Actor {
            id: entry.actor,
            name: entry.actor_name.clone(),
            guild: entry.guild,
        },
        action: &entry.action,
        target: &entry.target,
        outcome: &entry.outcome,
    })
    .expect("an audit line serializes");
    append_line(path, &line)
}

/// Appends one line to a JSON Lines file, creating it (and its folder) if needed; one
/// write per line, so concurrent writers never interleave within a line.
pub fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(format!("{line}\n").as_bytes())
}
