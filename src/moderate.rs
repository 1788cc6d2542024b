//! Moderators' content changes from Discord: add a briefing file, remove one (moved to a
//! holding folder, never deleted), reindex, each in one library, checked before anything
//! is written (who may change that library: [`crate::library::may_change`]; its limits),
//! reindexed by the writer, undone if the reindex fails, and audited (by the caller, in
//! the state database). Free of Discord: the bot passes the file's name and bytes, who
//! asked and what they may do.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::app::{self, AppError, Writer};
use crate::config::Settings;
use crate::index::{BriefingInfo, BuildReport, Diff, Manifest};
use crate::ingest::{self, Briefing, Corpus, IngestOptions};
use crate::library::{self, Library, Rights, Scope};

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
    pub library: Library,
    pub briefing: Briefing,
    pub path: PathBuf,
    pub report: BuildReport,
}

/// A briefing removed by [`remove`].
#[derive(Debug)]
pub struct Removed {
    pub library: Library,
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
const EXTENSIONS: &[&str] = &["txt", "md", "markdown", "html", "htm", "pdf"];

/// The largest file that may be added to `library`, and the setting that says so.
fn upload_limit(settings: &Settings, library: Library) -> (u64, &'static str) {
    let (limit, key) = match library {
        Library::Shared => (
            settings.content.max_upload_bytes,
            "content.max_upload_bytes",
        ),
        Library::Server(_) => (
            settings.libraries.max_upload_bytes,
            "libraries.max_upload_bytes",
        ),
    };
    (limit.min(settings.content.max_file_bytes), key)
}

/// Checks an uploaded file's name and size before it is downloaded into `library`.
pub fn check_upload(
    settings: &Settings,
    library: Library,
    name: &str,
    size: u64,
) -> Result<String, ModerateError> {
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
            "{name} is not a briefing: send a .txt, .md, .html or .pdf file"
        )));
    }
    let (limit, key) = upload_limit(settings, library);
    if size > limit {
        return Err(refused(format!(
            "{name} is {size} bytes; the limit is {limit} ({key})"
        )));
    }
    Ok(name.to_string())
}

/// The briefings of `manifest` within `scope`.
fn briefings_in(manifest: &Manifest, scope: Scope) -> Vec<&BriefingInfo> {
    manifest
        .briefings
        .iter()
        .filter(|b| scope.admits(Library::of_source(&b.source)))
        .collect()
}

/// The readers of `library`'s briefings see these too: a new briefing must not share a
/// title with any of them.
fn readers_scope(library: Library) -> Scope {
    match library {
        Library::Shared => Scope::Shared,
        Library::Server(id) => Scope::Server { id, shared: true },
    }
}

/// Refuses a briefing that would take a server's library past `[libraries]`.
fn check_limits(
    settings: &Settings,
    manifest: &Manifest,
    library: Library,
    adding: &Briefing,
) -> Result<(), ModerateError> {
    if library == Library::Shared {
        return Ok(());
    }
    let own: Vec<&BriefingInfo> = manifest
        .briefings
        .iter()
        .filter(|b| Library::of_source(&b.source) == library)
        .collect();
    let limits = &settings.libraries;
    if own.len() >= limits.max_briefings {
        return Err(refused(format!(
            "this server's library holds {}, its limit (libraries.max_briefings): \
             remove one first",
            crate::render::count(own.len(), "briefing")
        )));
    }
    let paragraphs: u64 = own.iter().map(|b| b.paragraphs).sum();
    let after = paragraphs + adding.paragraphs.len() as u64;
    if after > limits.max_paragraphs {
        return Err(refused(format!(
            "this server's library would hold {after} paragraphs, over its limit of {} \
             (libraries.max_paragraphs); it holds {paragraphs} now",
            limits.max_paragraphs
        )));
    }
    Ok(())
}

/// Checks `bytes` as briefing file `name` for `library` (which `rights` must allow
/// changing), saves it in that library's folder, and reindexes that library. A file that
/// fails a check is refused with the reason and nothing is written.
pub fn add(
    settings: &Settings,
    writer: &Writer,
    rights: Rights,
    library: Library,
    name: &str,
    bytes: &[u8],
) -> Result<Added, ModerateError> {
    add_with(settings, writer, rights, library, name, bytes, None)
}

/// [`add`] for a briefing fetched by link ([`crate::web`]): saved with its metadata file
/// when it has one (a PDF's address), checked and indexed the same way.
pub fn add_fetched(
    settings: &Settings,
    writer: &Writer,
    rights: Rights,
    library: Library,
    fetched: &crate::web::Fetched,
) -> Result<Added, ModerateError> {
    add_with(
        settings,
        writer,
        rights,
        library,
        &fetched.name,
        &fetched.bytes,
        fetched.sidecar.as_deref(),
    )
}

fn add_with(
    settings: &Settings,
    writer: &Writer,
    rights: Rights,
    library: Library,
    name: &str,
    bytes: &[u8],
    sidecar: Option<&str>,
) -> Result<Added, ModerateError> {
    library::may_change(rights, library).map_err(refused)?;
    let name = check_upload(settings, library, name, bytes.len() as u64)?;
    let relative = format!("{}{name}", library.prefix());
    let relative = Path::new(&relative);
    let briefing = ingest::parse_briefing_with(
        relative,
        bytes,
        sidecar,
        &IngestOptions::from_settings(settings),
    )
    .map_err(|reason| refused(format!("{name} cannot be indexed: {reason}")))?;
    if briefing.paragraphs.is_empty() {
        return Err(refused(format!("{name} has no paragraphs")));
    }
    let content = &settings.content.dir;
    let dir = library.folder(content);
    let path = content.join(relative);
    if path.exists() {
        return Err(refused(format!(
            "content/{} already exists: remove that briefing first, or rename the file",
            relative.display()
        )));
    }
    if let Ok(open) = app::store(settings).open() {
        check_limits(settings, &open.manifest, library, &briefing)?;
        let title = briefing.title.trim().to_lowercase();
        if let Some(twin) = briefings_in(&open.manifest, readers_scope(library))
            .into_iter()
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
    // A server's folder is made by its first briefing (and left, empty, by its last).
    let io = |what: String| move |source| ModerateError::Io { what, source };
    fs::create_dir_all(&dir).map_err(io(format!("create {}", dir.display())))?;
    // The metadata file first: the briefing is never indexed without it.
    let sidecar_path = sidecar.map(|_| ingest::sidecar_of(&path));
    let take_back = |paths: &[Option<&PathBuf>]| {
        for p in paths.iter().flatten() {
            let _ = fs::remove_file(p);
        }
    };
    if let (Some(yaml), Some(at)) = (sidecar, &sidecar_path) {
        save_new(&dir, at, yaml.as_bytes())?;
    }
    if let Err(err) = save_new(&dir, &path, bytes) {
        take_back(&[sidecar_path.as_ref()]);
        return Err(err);
    }
    match writer.update(settings, Some(library)) {
        Ok((_, report)) => Ok(Added {
            library,
            briefing,
            path,
            report,
        }),
        Err(err) => {
            take_back(&[Some(&path), sidecar_path.as_ref()]);
            Err(ModerateError::Reindex(err))
        }
    }
}

/// Writes `bytes` whole under a hidden name in `dir` (ignored by the index and the
/// watcher), then links it to `path` only if no file has taken that name meanwhile.
fn save_new(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), ModerateError> {
    let io = |what: String| move |source| ModerateError::Io { what, source };
    let mut tmp = tempfile::Builder::new()
        .prefix(".upload-")
        .tempfile_in(dir)
        .map_err(io(format!("write into {}", dir.display())))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io(format!("write into {}", dir.display())))?;
    tmp.persist_noclobber(path).map_err(|e| ModerateError::Io {
        what: format!("save {}", path.display()),
        source: e.error,
    })?;
    Ok(())
}

/// Moves the file of briefing `slug` (as named within `scope`: another library's
/// briefing is not found) out of `content/` into `content.holding_dir` (under a folder
/// named by the time, keeping its path), if `rights` allow changing its library, and
/// reindexes that library.
pub fn remove(
    settings: &Settings,
    writer: &Writer,
    rights: Rights,
    scope: Scope,
    slug: &str,
) -> Result<Removed, ModerateError> {
    let open = app::store(settings)
        .open()
        .map_err(|e| refused(format!("the index cannot be read: {e}")))?;
    let info = crate::study::find_briefing(&briefings_in(&open.manifest, scope), slug)
        .map_err(|e| refused(e.to_string()))?;
    let library = Library::of_source(&info.source);
    library::may_change(rights, library).map_err(refused)?;
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
    // Its metadata file goes with it (kept beside it, as it was).
    let (sidecar_from, sidecar_kept) = (ingest::sidecar_of(&from), ingest::sidecar_of(&kept_at));
    let sidecar_moved = sidecar_from.is_file() && move_file(&sidecar_from, &sidecar_kept).is_ok();
    match writer.update(settings, Some(library)) {
        Ok((_, report)) => Ok(Removed {
            library,
            title: info.title.clone(),
            slug: info.slug.clone(),
            paragraphs: info.paragraphs,
            from,
            kept_at,
            report,
        }),
        Err(err) => {
            let _ = move_file(&kept_at, &from);
            if sidecar_moved {
                let _ = move_file(&sidecar_kept, &sidecar_from);
            }
            Err(ModerateError::Reindex(err))
        }
    }
}

/// What a reindex read and did, of the libraries it was asked for.
#[derive(Debug)]
pub struct Reindexed {
    /// `None`: every library.
    pub library: Option<Library>,
    /// The files read (those new or changed since the last update), and every file
    /// skipped.
    pub corpus: Corpus,
    /// Each briefing of `library` the index holds afterwards (or would, for a dry run):
    /// source and paragraphs.
    pub holds: Vec<(String, u64)>,
    /// What changed, of `library`'s paragraphs.
    pub diff: Diff,
    /// `None` for a dry run.
    pub report: Option<BuildReport>,
}

/// Reindexes `library` (`None`: every library, the operators' alone), or with `dry_run`
/// says what would change; `rights` must allow changing it. A server's library is read
/// again alone: the other libraries stay as indexed.
pub fn reindex(
    settings: &Settings,
    writer: &Writer,
    rights: Rights,
    library: Option<Library>,
    dry_run: bool,
) -> Result<Reindexed, ModerateError> {
    match library {
        Some(l) => library::may_change(rights, l).map_err(refused)?,
        None if !rights.operator => {
            return Err(refused(
                "only the bot's operators reindex every library".to_string(),
            ));
        }
        None => {}
    }
    let in_scope = |source: &str| library.is_none_or(|l| Library::of_source(source) == l);
    let (corpus, diff, holds, report) = if dry_run {
        let (corpus, diff, holds) =
            app::dry_run(settings, library).map_err(ModerateError::Reindex)?;
        (corpus, diff, holds, None)
    } else {
        let (corpus, report) = writer
            .update(settings, library)
            .map_err(ModerateError::Reindex)?;
        let holds = report
            .manifest
            .briefings
            .iter()
            .filter(|b| in_scope(&b.source))
            .map(|b| (b.source.clone(), b.paragraphs))
            .collect();
        (corpus, report.diff.clone(), holds, Some(report))
    };
    let diff = match library {
        Some(l) => diff_within(&diff, l),
        None => diff,
    };
    Ok(Reindexed {
        library,
        corpus,
        holds,
        diff,
        report,
    })
}

/// The part of `diff` that is `library`'s paragraphs (an id is its slug, which is its
/// path under `content/`, then `:n`).
pub fn diff_within(diff: &Diff, library: Library) -> Diff {
    let of = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .filter(|id| {
                let slug = id.rsplit_once(':').map_or(id.as_str(), |(slug, _)| slug);
                Library::of_source(&format!("{slug}.")) == library
            })
            .cloned()
            .collect()
    };
    Diff {
        added: of(&diff.added),
        changed: of(&diff.changed),
        removed: of(&diff.removed),
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
