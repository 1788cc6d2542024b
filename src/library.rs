//! Libraries: the operator's *shared* briefings, and each Discord server's own. One index
//! holds them all; every passage is tagged with its library, and every read is made
//! within a [`Scope`] (the shared library and the asker's server's, or the shared one
//! alone in a DM) that the index filters on. Who may change which library is decided
//! here, in [`may_change`], and nowhere else. Free of Discord: a server is its id.
//!
//! On disk (the source of truth stays files under `content/`):
//! - `content/servers/<server id>/…` is that server's library (created by its first
//!   `/briefing add`);
//! - everything else under `content/` is the shared library, as before libraries existed
//!   (so an existing `content/` is the shared library, untouched; a file or folder under
//!   `content/servers/` whose name is not a server id stays in the shared library too).
//!
//! A server library's briefings have slugs under `servers/<id>/`, so passage ids stay
//! unique across libraries, and those of the shared library are what they always were.

use std::path::{Path, PathBuf};

/// The folder under `content/` that holds the servers' libraries.
pub const SERVERS_DIR: &str = "servers";

/// The value of the index's `library` field for the shared library.
const SHARED_TERM: &str = "shared";

/// One library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Library {
    /// The operator's briefings: every server's and every DM's.
    Shared,
    /// One server's own briefings.
    Server(u64),
}

impl Library {
    /// The library of a briefing file, by its path under `content/` (`/`-separated).
    pub fn of_source(source: &str) -> Library {
        let mut parts = source.split('/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(SERVERS_DIR), Some(id), Some(_)) => match server_id(id) {
                Some(id) => Library::Server(id),
                None => Library::Shared,
            },
            _ => Library::Shared,
        }
    }

    /// The library's term in the index's `library` field.
    pub fn term(self) -> String {
        match self {
            Library::Shared => SHARED_TERM.to_string(),
            Library::Server(id) => id.to_string(),
        }
    }

    /// Where its files are, under `content/` (the shared library is the content folder
    /// itself, less `servers/<id>/`).
    pub fn folder(self, content: &Path) -> PathBuf {
        match self {
            Library::Shared => content.to_path_buf(),
            Library::Server(id) => content.join(SERVERS_DIR).join(id.to_string()),
        }
    }

    /// Its files' paths under `content/` start with this (`""` for the shared library).
    pub fn prefix(self) -> String {
        match self {
            Library::Shared => String::new(),
            Library::Server(id) => format!("{SERVERS_DIR}/{id}/"),
        }
    }

    /// As a message names it.
    pub fn describe(self) -> String {
        match self {
            Library::Shared => "the shared library".to_string(),
            Library::Server(id) => format!("the library of server {id}"),
        }
    }
}

/// A folder name under `content/servers/` that is a server id (a Discord id: digits, not
/// zero, no leading zero).
pub fn server_id(name: &str) -> Option<u64> {
    if name.is_empty() || name.starts_with('0') || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok().filter(|&id| id > 0)
}

/// What one read may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every library: the operator at the command line, `eval`.
    All,
    /// The shared library only: a DM, and `briefbot ask` by default.
    Shared,
    /// A server: its own library, and the shared one unless the server turned it off.
    Server { id: u64, shared: bool },
}

impl Scope {
    /// The scope of a request from `guild` (`None`: a DM), where `shared` says whether
    /// that server reads the shared library.
    pub fn of_request(guild: Option<u64>, shared: bool) -> Scope {
        match guild {
            Some(id) => Scope::Server { id, shared },
            None => Scope::Shared,
        }
    }

    pub fn admits(self, library: Library) -> bool {
        match (self, library) {
            (Scope::All, _) => true,
            (Scope::Shared, Library::Shared) => true,
            (Scope::Shared, Library::Server(_)) => false,
            (Scope::Server { shared, .. }, Library::Shared) => shared,
            (Scope::Server { id, .. }, Library::Server(other)) => id == other,
        }
    }

    /// The libraries it admits, of those given.
    pub fn admitted(self, libraries: impl IntoIterator<Item = Library>) -> Vec<Library> {
        libraries.into_iter().filter(|&l| self.admits(l)).collect()
    }
}

/// What an asker may do to libraries: whether they are one of the bot's operators
/// (`discord.owners`, or the command line), and which server they moderate in the
/// request (Manage Server there, or its moderator role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    pub operator: bool,
    pub moderates: Option<u64>,
}

impl Rights {
    /// The command line: the operator.
    pub const OPERATOR: Rights = Rights {
        operator: true,
        moderates: None,
    };
}

/// Whether `rights` allow adding to, removing from or reindexing `library`; the refusal
/// names who may. The shared library is the operators' alone (a server's Manage Server
/// never reaches it); a server's library is its own moderators' (and the operators').
pub fn may_change(rights: Rights, library: Library) -> Result<(), String> {
    match library {
        _ if rights.operator => Ok(()),
        Library::Shared => Err(
            "the shared library is changed only by the bot's operators (discord.owners) or \
             from the command line"
                .to_string(),
        ),
        Library::Server(id) if rights.moderates == Some(id) => Ok(()),
        Library::Server(_) => {
            Err("a server's library is changed only by that server's moderators".to_string())
        }
    }
}

/// One library as found on disk and in the index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shelf {
    pub library: Library,
    /// Its briefings and paragraphs in the live index (0 when none is built).
    pub briefings: usize,
    pub paragraphs: u64,
    /// Bytes of its files on disk.
    pub bytes: u64,
}

/// Every library: the shared one, each server's folder under `content/servers/`, and any
/// library the index still holds whose folder is gone; with what the index holds of each
/// (`indexed`: (library, briefings, paragraphs), as
/// [`Engine::libraries`](crate::search::Engine::libraries) gives them).
pub fn shelves(content: &Path, indexed: &[(Library, usize, u64)]) -> Vec<Shelf> {
    let mut libraries: std::collections::BTreeSet<Library> =
        indexed.iter().map(|(l, _, _)| *l).collect();
    libraries.insert(Library::Shared);
    let servers = content.join(SERVERS_DIR);
    for entry in std::fs::read_dir(&servers).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir())
            && let Some(id) = server_id(&entry.file_name().to_string_lossy())
        {
            libraries.insert(Library::Server(id));
        }
    }
    libraries
        .into_iter()
        .map(|library| {
            let (briefings, paragraphs) = indexed
                .iter()
                .find(|(l, _, _)| *l == library)
                .map_or((0, 0), |(_, b, p)| (*b, *p));
            Shelf {
                library,
                briefings,
                paragraphs,
                bytes: bytes_of(content, library),
            }
        })
        .collect()
}

/// The files and folders under the content folder `content`, in file-name order, hidden
/// ones left out and symbolic links not followed: of one library (`Some`: the shared one
/// without the servers' folders, or one server's folder, empty if it has none yet), or of
/// all (`None`). Every walk of `content/` (ingestion and the files an update reads, a
/// library's size) goes through here, so they agree on what a library holds.
pub fn walk(
    content: &Path,
    library: Option<Library>,
) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> {
    let root = library.map_or_else(|| content.to_path_buf(), |l| l.folder(content));
    let shared_only = library == Some(Library::Shared);
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            let hidden = e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
            let server_folder = e.depth() == 2
                && e.file_type().is_dir()
                && e.path().parent().and_then(Path::file_name) == Some(SERVERS_DIR.as_ref())
                && server_id(&e.file_name().to_string_lossy()).is_some();
            !(hidden || shared_only && server_folder)
        })
}

/// Bytes of a library's files.
fn bytes_of(content: &Path, library: Library) -> u64 {
    if !library.folder(content).is_dir() {
        return 0;
    }
    walk(content, Some(library))
        .flatten()
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Moves the folder of each server library in `libraries` out of `content/` into
/// `holding` (under a folder named by the time, keeping its path: `servers/<id>/`); none
/// is deleted. Returns where each went.
pub fn move_aside(
    content: &Path,
    holding: &Path,
    libraries: &[Library],
) -> std::io::Result<Vec<(Library, PathBuf)>> {
    let stamp: String = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let mut moved = Vec::new();
    for &library in libraries {
        let Library::Server(id) = library else {
            continue;
        };
        let from = library.folder(content);
        if !from.is_dir() {
            continue;
        }
        let to = holding.join(&stamp).join(SERVERS_DIR).join(id.to_string());
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&from, &to)?;
        moved.push((library, to));
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_belongs_to_a_server_only_under_servers_and_its_id() {
        let cases = [
            ("us-japan.txt", Library::Shared),
            ("asia/tides.md", Library::Shared),
            ("servers/123/tides.md", Library::Server(123)),
            ("servers/123/deep/er/tides.md", Library::Server(123)),
            // Not a server's folder: the shared library, as before libraries existed.
            ("servers/tides.md", Library::Shared),
            ("servers/notes/tides.md", Library::Shared),
            ("servers/0123/tides.md", Library::Shared),
            ("servers/0/tides.md", Library::Shared),
            ("servers/99999999999999999999999/tides.md", Library::Shared),
            ("other/servers/123/tides.md", Library::Shared),
        ];
        for (source, library) in cases {
            assert_eq!(Library::of_source(source), library, "{source}");
        }
        assert_eq!(
            Library::of_source(&format!("{}tides.md", Library::Server(77).prefix())),
            Library::Server(77)
        );
    }

    #[test]
    fn a_scope_admits_the_shared_library_and_its_own_server_only() {
        use Library::{Server, Shared};
        let a = Scope::Server {
            id: 1,
            shared: true,
        };
        let a_alone = Scope::Server {
            id: 1,
            shared: false,
        };
        let table = [
            (Scope::All, [true, true, true]),
            (Scope::Shared, [true, false, false]),
            (a, [true, true, false]),
            (a_alone, [false, true, false]),
        ];
        for (scope, expected) in table {
            let got = [Shared, Server(1), Server(2)].map(|l| scope.admits(l));
            assert_eq!(got, expected, "{scope:?}");
        }
        assert_eq!(Scope::of_request(None, false), Scope::Shared);
        assert_eq!(Scope::of_request(Some(1), true), a);
    }

    #[test]
    fn who_may_change_which_library() {
        use Library::{Server, Shared};
        let member = Rights {
            operator: false,
            moderates: None,
        };
        let moderator_of_1 = Rights {
            operator: false,
            moderates: Some(1),
        };
        let operator_in_2 = Rights {
            operator: true,
            moderates: Some(2),
        };
        let table = [
            (member, [false, false, false]),
            (moderator_of_1, [false, true, false]),
            (operator_in_2, [true, true, true]),
            (Rights::OPERATOR, [true, true, true]),
        ];
        for (rights, expected) in table {
            let got = [Shared, Server(1), Server(2)].map(|l| may_change(rights, l).is_ok());
            assert_eq!(got, expected, "{rights:?}");
        }
        let why = may_change(moderator_of_1, Shared).unwrap_err();
        assert!(why.contains("operators"), "{why}");
    }

    #[test]
    fn libraries_are_listed_from_disk_and_index_and_moved_aside_whole() {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        let write = |path: &str, bytes: usize| {
            let path = content.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x".repeat(bytes)).unwrap();
        };
        write("tides.md", 10);
        write("servers/notes.md", 5);
        write("servers/7/a.md", 100);
        write("servers/7/deep/b.md", 20);
        write("servers/8/.upload-x", 999);
        let indexed = [(Library::Shared, 2, 30), (Library::Server(9), 1, 4)];
        let shelves = shelves(&content, &indexed);
        let got: Vec<(Library, usize, u64, u64)> = shelves
            .iter()
            .map(|s| (s.library, s.briefings, s.paragraphs, s.bytes))
            .collect();
        assert_eq!(
            got,
            [
                (Library::Shared, 2, 30, 15),
                (Library::Server(7), 0, 0, 120),
                (Library::Server(8), 0, 0, 0),
                (Library::Server(9), 1, 4, 0),
            ]
        );
        let holding = dir.path().join("removed");
        let moved = move_aside(&content, &holding, &[Library::Server(7), Library::Shared]).unwrap();
        assert_eq!(moved.len(), 1);
        assert!(!content.join("servers/7").exists());
        assert!(moved[0].1.join("deep/b.md").is_file());
        assert!(moved[0].1.ends_with("servers/7"));
        assert!(content.join("tides.md").is_file());
    }
}
