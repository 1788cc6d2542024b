//! Watching `content/` for changes (`content.watch`, `briefbot index --watch`): file events
//! are debounced by `notify-debouncer-mini` and handed over in batches, once the files
//! have been quiet for the configured delay.

use std::ops::ControlFlow;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};

/// Why the folder cannot be watched.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {dir} for changes: {reason}")]
pub struct WatchError {
    pub dir: PathBuf,
    pub reason: String,
}

/// Calls `on_change` with the changed paths (sorted, without hidden files such as editors'
/// swap files) each time files under `dir` change and then stay quiet for `quiet`, until
/// it returns `Break`. Blocks the calling thread.
pub fn watch(
    dir: &Path,
    quiet: Duration,
    mut on_change: impl FnMut(Vec<PathBuf>) -> ControlFlow<()>,
) -> Result<(), WatchError> {
    let failed = |reason: String| WatchError {
        dir: dir.to_path_buf(),
        reason,
    };
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(quiet, tx).map_err(|e| failed(e.to_string()))?;
    debouncer
        .watcher()
        .watch(dir, RecursiveMode::Recursive)
        .map_err(|e| failed(e.to_string()))?;
    // Events name absolute paths when the watched folder is given relatively.
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for result in rx {
        let events = match result {
            Ok(events) => events,
            Err(err) => {
                tracing::warn!(dir = %dir.display(), error = %err, "watching content");
                continue;
            }
        };
        let mut paths: Vec<PathBuf> = events
            .into_iter()
            .map(|e| e.path)
            .filter(|p| p != &root && !is_hidden(p.strip_prefix(&root).unwrap_or(p)))
            .collect();
        paths.sort();
        paths.dedup();
        if !paths.is_empty() && on_change(paths).is_break() {
            break;
        }
    }
    Ok(())
}

/// Whether a path under the content folder is one the index ignores (a hidden file or
/// folder, or an editor's backup ending in `~`).
fn is_hidden(relative: &Path) -> bool {
    relative.components().any(|c| match c {
        Component::Normal(name) => {
            let name = name.to_string_lossy();
            name.starts_with('.') || name.ends_with('~')
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_files_and_backups_are_ignored() {
        assert!(is_hidden(Path::new(".brief.md.swp")));
        assert!(is_hidden(Path::new("notes/.git/HEAD")));
        assert!(is_hidden(Path::new("brief.md~")));
        assert!(!is_hidden(Path::new("notes/brief.md")));
    }

    #[test]
    fn a_change_is_reported_once_the_folder_is_quiet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.md");
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                std::fs::write(&path, "# A\n\nOne.\n").unwrap();
                std::fs::write(dir.path().join(".a.md.swp"), "x").unwrap();
                dir
            })
        };
        let mut seen = Vec::new();
        watch(
            path.parent().unwrap(),
            Duration::from_millis(100),
            |paths| {
                seen = paths;
                ControlFlow::Break(())
            },
        )
        .unwrap();
        let dir = writer.join().unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(seen, vec![root.join("a.md")]);
    }
}
