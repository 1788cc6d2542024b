//! Reads the JSON Lines files of an older briefbot (`content.audit_file`,
//! `discord.feedback_file`) into the database, once: each file in one transaction with a
//! record of its digest, then renamed `*.imported`. A file whose digest was read in
//! already (the rename failed, or two processes started at once) is only renamed. Lines
//! that do not parse are counted and logged, and stay in the renamed file: nothing is lost.
//! While the database is unreachable the bot appends audit lines to the file again, and
//! the next start reads them in.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::Digest;

use super::audit::{self, Entry};
use super::votes::{self, Vote};
use super::{StateError, Store, now};
use crate::config::Settings;

/// What one file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub file: PathBuf,
    pub lines: u64,
    /// Lines that did not parse (kept in the renamed file).
    pub skipped: u64,
    pub renamed_to: Option<PathBuf>,
}

#[derive(Deserialize)]
struct OldActor {
    id: u64,
    name: String,
    guild: Option<u64>,
}

#[derive(Deserialize)]
struct OldAudit {
    time: String,
    actor: OldActor,
    action: String,
    target: String,
    outcome: String,
}

#[derive(Deserialize)]
struct OldVote {
    time: String,
    question: String,
    passage: String,
    vote: String,
}

/// Reads in both files where they exist.
pub async fn import_files(store: &Store, settings: &Settings) -> Result<Vec<Imported>, StateError> {
    let mut done = Vec::new();
    for (path, kind) in [
        (&settings.content.audit_file, Kind::Audit),
        (&settings.discord.feedback_file, Kind::Votes),
    ] {
        if let Some(imported) = import_file(store, path, kind).await? {
            tracing::info!(
                file = %imported.file.display(),
                lines = imported.lines,
                skipped = imported.skipped,
                "read an older briefbot's file into the state database"
            );
            done.push(imported);
        }
    }
    Ok(done)
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Audit,
    Votes,
}

enum Line {
    Audit(Entry),
    Vote(Vote),
}

fn parse(kind: Kind, line: &str) -> Option<Line> {
    let time = |t: &str| {
        humantime::parse_rfc3339_weak(t.trim_end_matches('Z'))
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
    };
    match kind {
        Kind::Audit => {
            let old: OldAudit = serde_json::from_str(line).ok()?;
            Some(Line::Audit(Entry {
                at: time(&old.time)?,
                actor: old.actor.id,
                actor_name: old.actor.name,
                guild: old.actor.guild,
                action: old.action,
                target: old.target,
                outcome: old.outcome,
            }))
        }
        Kind::Votes => {
            let old: OldVote = serde_json::from_str(line).ok()?;
            let up = match old.vote.as_str() {
                "up" => true,
                "down" => false,
                _ => return None,
            };
            Some(Line::Vote(Vote {
                at: time(&old.time)?,
                interaction: None,
                guild: None,
                question: old.question,
                passage: old.passage,
                up,
                index_version: None,
            }))
        }
    }
}

/// Reads `path` in, if it exists and was not read in before; renames it either way.
pub async fn import_file(
    store: &Store,
    path: &Path,
    kind: Kind,
) -> Result<Option<Imported>, StateError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %crate::error_chain(&e), "cannot read an older briefbot's file; left as it is");
            return Ok(None);
        }
    };
    let digest = crate::semantic::model::hex(&sha2::Sha256::digest(&bytes));
    let text = String::from_utf8_lossy(&bytes);
    let (mut lines, mut skipped) = (0u64, 0u64);
    let mut tx = store.pool().begin().await.map_err(|e| store.failed(e))?;
    // Claimed first: a second process importing the same file at once waits here, then
    // finds it claimed and imports nothing.
    let claimed = sqlx::query(
        "INSERT INTO imports (digest, file, at, lines) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (digest) DO NOTHING",
    )
    .bind(digest.as_str())
    .bind(path.display().to_string())
    .bind(now())
    .execute(&mut *tx)
    .await
    .map_err(|e| store.failed(e))?
    .rows_affected()
        == 1;
    if claimed {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match parse(kind, line) {
                Some(Line::Audit(entry)) => audit::insert(&mut *tx, &entry).await,
                Some(Line::Vote(vote)) => votes::insert(&mut *tx, &vote).await.map(drop),
                None => {
                    skipped += 1;
                    continue;
                }
            }
            .map_err(|e| store.failed(e))?;
            lines += 1;
        }
        sqlx::query("UPDATE imports SET lines = $1 WHERE digest = $2")
            .bind(lines as i64)
            .bind(digest.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| store.failed(e))?;
        tx.commit().await.map_err(|e| store.failed(e))?;
    } else {
        drop(tx);
    }
    if skipped > 0 {
        tracing::warn!(file = %path.display(), skipped, "lines that did not parse were not read in; they stay in the renamed file");
    }
    let renamed_to = rename_imported(path);
    Ok(claimed.then(|| Imported {
        file: path.to_path_buf(),
        lines,
        skipped,
        renamed_to,
    }))
}

/// Renames `path` to `path.imported` (or `path.imported.N` if that is taken).
fn rename_imported(path: &Path) -> Option<PathBuf> {
    let mut name = path.as_os_str().to_owned();
    name.push(".imported");
    let mut to = PathBuf::from(&name);
    let mut n = 2;
    while to.exists() {
        let mut numbered = name.clone();
        numbered.push(format!(".{n}"));
        to = PathBuf::from(numbered);
        n += 1;
    }
    match std::fs::rename(path, &to) {
        Ok(()) => Some(to),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %crate::error_chain(&e), "read into the state database, but could not be renamed; it will not be read in twice");
            None
        }
    }
}
