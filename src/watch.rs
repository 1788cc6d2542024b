//! Watching `content/` for changes (`content.watch`, `briefbot index --watch`): file events
//! are debounced by `notify-debouncer-mini` and handed over in batches, once the files
//! have been quiet for the configured delay.

use std::ops::ControlFlow;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

/// Why the folder cannot be watched.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {dir} for changes: {reason}")]
pub struct WatchError {
    pub dir: PathBuf,
    pub reason: String,
}

/// A watch on a content folder. Every change from [`ContentWatch::start`] on is reported,
/// so a caller that starts the watch first and then reads the folder misses nothing.
pub struct ContentWatch {
    dir: PathBuf,
    /// The folder as events name it (absolute, even when `dir` is relative).
    root: PathBuf,
    events: mpsc::Receiver<DebounceEventResult>,
    _debouncer: Debouncer<RecommendedWatcher>,
}

impl ContentWatch {
    /// Starts watching `dir` (and everything below it); changes are batched until the
    /// files have been quiet for `quiet`.
    pub fn start(dir: &Path, quiet: Duration) -> Result<Self, WatchError> {
        let failed = |reason: String| WatchError {
            dir: dir.to_path_buf(),
            reason,
        };
        let (tx, events) = mpsc::channel::<DebounceEventResult>();
        let mut debouncer = new_debouncer(quiet, tx).map_err(|e| failed(e.to_string()))?;
        debouncer
            .watcher()
            .watch(dir, RecursiveMode::Recursive)
            .map_err(|e| failed(e.to_string()))?;
        Ok(ContentWatch {
            dir: dir.to_path_buf(),
            root: dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
            events,
            _debouncer: debouncer,
        })
    }

    /// Calls `on_change` with the changed paths (sorted, without hidden files such as
    /// editors' swap files) each time files change and then stay quiet, until it returns
    /// `Break`. Blocks the calling thread.
    pub fn run(self, on_change: impl FnMut(Vec<PathBuf>) -> ControlFlow<()>) {
        self.run_ticking(Duration::MAX, on_change, || ControlFlow::Continue(()));
    }

    /// [`ContentWatch::run`], calling `on_tick` too about `every` while it runs (also
    /// when nothing changes), until either returns `Break`.
    pub fn run_ticking(
        self,
        every: Duration,
        mut on_change: impl FnMut(Vec<PathBuf>) -> ControlFlow<()>,
        mut on_tick: impl FnMut() -> ControlFlow<()>,
    ) {
        let mut last_tick = std::time::Instant::now();
        loop {
            let waited = every.saturating_sub(last_tick.elapsed());
            match self.events.recv_timeout(waited) {
                Ok(Ok(events)) => {
                    let mut paths: Vec<PathBuf> = events
                        .into_iter()
                        .map(|e| e.path)
                        .filter(|p| {
                            p != &self.root && !is_hidden(p.strip_prefix(&self.root).unwrap_or(p))
                        })
                        .collect();
                    paths.sort();
                    paths.dedup();
                    if !paths.is_empty() && on_change(paths).is_break() {
                        break;
                    }
                }
                Ok(Err(err)) => {
                    tracing::warn!(dir = %self.dir.display(), error = %crate::error_chain(&err), "watching content");
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if last_tick.elapsed() >= every {
                last_tick = std::time::Instant::now();
                if on_tick().is_break() {
                    break;
                }
            }
        }
    }
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

    fn first_change(watch: ContentWatch) -> Vec<PathBuf> {
        let mut seen = Vec::new();
        watch.run(|paths| {
            seen = paths;
            ControlFlow::Break(())
        });
        seen
    }

    #[test]
    fn a_change_is_reported_once_the_folder_is_quiet() {
        let dir = tempfile::tempdir().unwrap();
        let watch = ContentWatch::start(dir.path(), Duration::from_millis(100)).unwrap();
        let writer = {
            let path = dir.path().to_path_buf();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                std::fs::write(path.join("a.md"), "# A\n\nOne.\n").unwrap();
                std::fs::write(path.join(".a.md.swp"), "x").unwrap();
            })
        };
        let seen = first_change(watch);
        writer.join().unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(seen, vec![root.join("a.md")]);
    }

    #[test]
    fn a_change_made_before_running_is_not_lost() {
        // The bot starts the watch, then builds, then runs it on another thread: a file
        // saved in between must still be reported.
        let dir = tempfile::tempdir().unwrap();
        let watch = ContentWatch::start(dir.path(), Duration::from_millis(50)).unwrap();
        std::fs::write(dir.path().join("b.md"), "# B\n\nTwo.\n").unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(first_change(watch), vec![root.join("b.md")]);
    }

    #[test]
    fn ticks_come_while_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        let watch = ContentWatch::start(dir.path(), Duration::from_millis(50)).unwrap();
        let mut ticks = 0;
        watch.run_ticking(
            Duration::from_millis(20),
            |_| ControlFlow::Continue(()),
            || {
                ticks += 1;
                if ticks == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        assert_eq!(ticks, 3);
    }

    #[test]
    fn a_missing_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let err = ContentWatch::start(&missing, Duration::from_millis(50))
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("cannot watch "), "{err}");
        assert!(err.to_string().contains("nowhere"), "{err}");
    }
}
