//! Rebuilds are atomic: a crash at any point, a second writer, a damaged index or a broken
//! edit never leaves anyone without the last complete index.

mod common;

use std::fs;

use common::Workspace;

fn index(ws: &Workspace) -> std::process::Output {
    ws.cmd().arg("index").output().unwrap()
}

fn add_zeppelin_briefing(ws: &Workspace) {
    fs::write(
        ws.content().join("airships.md"),
        "---\ntitle: Airships\n---\n\nThe zeppelin fleet returns to service in spring.\n",
    )
    .unwrap();
}

fn version_dirs(ws: &Workspace) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(ws.index())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("v-") || n.starts_with(".build-"))
        .collect();
    names.sort();
    names
}

fn crash_at(failpoint: &str) {
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    let before = ws.current_version().unwrap();
    add_zeppelin_briefing(&ws);

    let crashed = ws
        .cmd()
        .arg("index")
        .env("BRIEFBOT_FAILPOINT", failpoint)
        .output()
        .unwrap();
    assert!(
        !crashed.status.success(),
        "the failpoint {failpoint} did not fire"
    );
    assert_eq!(
        ws.current_version().unwrap(),
        before,
        "{failpoint}: CURRENT moved"
    );

    // The old index answers, without the new briefing, and is not rebuilt behind our back.
    let old = ws.ask_json("When does the zeppelin fleet return?");
    assert_eq!(old["covered"], false, "{failpoint}: {old}");
    assert_eq!(
        format!("v-{}", old["index_version"].as_str().unwrap()),
        before
    );
    let cod = ws.ask_json("cod quota");
    assert_eq!(cod["hits"][0]["id"], "notes/fisheries:1");

    // The next rebuild succeeds and cleans up what the crash left.
    let out = index(&ws);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = ws.current_version().unwrap();
    assert_ne!(after, before);
    let dirs = version_dirs(&ws);
    assert!(!dirs.iter().any(|d| d.starts_with(".build-")), "{dirs:?}");
    assert_eq!(dirs, {
        let mut v = vec![before, after];
        v.sort();
        v
    });
    let new = ws.ask_json("When does the zeppelin fleet return?");
    assert_eq!(new["hits"][0]["id"], "airships:1");
}

#[test]
fn crash_while_writing_documents_keeps_the_old_index() {
    crash_at("after-documents");
}

#[test]
fn crash_before_publishing_keeps_the_old_index() {
    crash_at("before-publish");
}

#[test]
fn a_second_writer_is_told_a_reindex_is_running() {
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    let lock = fs::File::options()
        .write(true)
        .open(ws.index().join(".lock"))
        .unwrap();
    lock.try_lock().unwrap();
    // A change to index (with nothing changed, no version is made and no lock taken).
    add_zeppelin_briefing(&ws);
    let out = index(&ws);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("a reindex is already running"));
    drop(lock);
    assert!(index(&ws).status.success());
}

/// Damages the live index with `damage`, then checks that `ask` reports it, rebuilds,
/// and answers right.
fn recovers_from(what: &str, damage: impl FnOnce(&Workspace, &std::path::Path)) {
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    let live = ws.index().join(ws.current_version().unwrap());
    damage(&ws, &live);
    let out = ws
        .cmd()
        .args(["ask", "--json", "cod quota cut"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("built it"),
        "{what}: no rebuild reported: {stderr}"
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["hits"][0]["id"], "notes/fisheries:1", "{what}");
}

#[test]
fn garbage_current_pointer_is_rebuilt() {
    recovers_from("garbage CURRENT", |ws, _| {
        fs::write(ws.index().join("CURRENT"), "../../etc").unwrap();
    });
}

#[test]
fn garbage_manifest_is_rebuilt() {
    recovers_from("garbage manifest", |_, live| {
        fs::write(live.join("briefbot.json"), "{not json").unwrap();
    });
}

#[test]
fn garbage_tantivy_meta_is_rebuilt() {
    recovers_from("garbage meta.json", |_, live| {
        fs::write(live.join("meta.json"), "\u{0}\u{1}garbage").unwrap();
    });
}

#[test]
fn missing_version_folder_is_rebuilt() {
    recovers_from("missing folder", |_, live| {
        fs::remove_dir_all(live).unwrap();
    });
}

#[test]
fn truncated_segment_files_are_rebuilt() {
    recovers_from("truncated segments", |_, live| {
        for entry in fs::read_dir(live).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".json") || name.starts_with('.') {
                continue;
            }
            let len = fs::metadata(&path).unwrap().len();
            fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        }
    });
}

/// The live version's first segment file of kind `ext`.
fn segment_file(live: &std::path::Path, ext: &str) -> std::path::PathBuf {
    fs::read_dir(live)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == ext))
        .unwrap_or_else(|| panic!("no .{ext} file in {}", live.display()))
}

/// Regression (issue 13, item 1): a segment file truncated to 7 bytes, or zeroed at its
/// length, made `ask` panic inside tantivy (exit 101); a deleted `.pos` failed the first
/// search. Every kind of segment file, damaged each way, is now found and rebuilt.
#[test]
fn every_kind_of_segment_file_truncated_zeroed_or_deleted_is_rebuilt() {
    for ext in ["idx", "term", "store", "pos", "fast", "fieldnorm"] {
        recovers_from(&format!("{ext} truncated to 7 bytes"), |_, live| {
            let f = segment_file(live, ext);
            fs::OpenOptions::new()
                .write(true)
                .open(f)
                .unwrap()
                .set_len(7)
                .unwrap();
        });
        recovers_from(&format!("{ext} zeroed"), |_, live| {
            let f = segment_file(live, ext);
            let len = fs::metadata(&f).unwrap().len() as usize;
            fs::write(f, vec![0u8; len]).unwrap();
        });
        recovers_from(&format!("{ext} deleted"), |_, live| {
            fs::remove_file(segment_file(live, ext)).unwrap();
        });
    }
}

/// A byte changed inside a file keeps its footer: only the checksums see it. A bot reads
/// them before it answers from a version; a one-shot command checks footers only.
#[test]
fn a_changed_byte_is_found_by_the_checksums() {
    use briefbot::index::{Depth, OpenError};
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    let check = || ws.cmd().args(["index", "--check"]).output().unwrap();
    let whole = check();
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    assert!(String::from_utf8_lossy(&whole.stdout).contains("is whole"));
    let live = ws.index().join(ws.current_version().unwrap());
    let f = segment_file(&live, "store");
    let mut bytes = fs::read(&f).unwrap();
    bytes[3] ^= 0x5a;
    fs::write(&f, bytes).unwrap();
    let store = briefbot::app::store(&ws.settings());
    assert!(store.clone().checking(Depth::Footers).open().is_ok());
    match store.checking(Depth::Checksums).open() {
        Err(OpenError::Damaged { reason, .. }) => {
            assert!(
                reason.contains(".store does not match its checksum"),
                "{reason}"
            )
        }
        Err(other) => panic!("not reported as damage: {other}"),
        Ok(_) => panic!("a changed byte went unseen"),
    }
    let damaged = check();
    assert_eq!(damaged.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&damaged.stderr);
    assert!(
        stderr.contains(".store does not match its checksum"),
        "{stderr}"
    );
}

/// A reader never builds: a damaged index is reported in one line, without a panic.
#[test]
fn a_reader_reports_a_damaged_index_clearly() {
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    let live = ws.index().join(ws.current_version().unwrap());
    fs::OpenOptions::new()
        .write(true)
        .open(segment_file(&live, "term"))
        .unwrap()
        .set_len(7)
        .unwrap();
    let out = ws
        .cmd()
        .env("BRIEFBOT_INDEX__ROLE", "reader")
        .args(["ask", "cod quota cut"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is damaged") && stderr.contains(".term is 7 bytes long"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn index_of_another_schema_version_is_rebuilt() {
    recovers_from("old schema", |_, live| {
        let path = live.join("briefbot.json");
        let text = fs::read_to_string(&path).unwrap();
        let current = format!("\"schema_version\": {}", briefbot::index::SCHEMA_VERSION);
        let old = text.replacen(&current, "\"schema_version\": 0", 1);
        assert_ne!(text, old);
        fs::write(&path, old).unwrap();
    });
}

#[test]
fn a_broken_edit_keeps_the_previously_indexed_briefing() {
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    fs::write(
        ws.content().join("notes/grid.md"),
        "---\ntitle: [broken\n---\nnew text\n",
    )
    .unwrap();
    let out = index(&ws);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("grid.md: broken YAML front matter"),
        "{stdout}"
    );
    assert!(
        stdout.contains("previously indexed version is kept"),
        "{stdout}"
    );
    assert!(stdout.contains("0 added, 0 changed, 0 removed"), "{stdout}");
    let answer = ws.ask_json("How long do seabed cable repairs take?");
    assert_eq!(answer["hits"][0]["id"], "notes/grid:2");
}

#[test]
fn an_empty_content_folder_does_not_wipe_the_index() {
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    let before = ws.current_version().unwrap();
    fs::remove_dir_all(ws.content()).unwrap();
    fs::create_dir(ws.content()).unwrap();
    let out = index(&ws);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no briefings could be read"));
    assert_eq!(ws.current_version().unwrap(), before);
    assert_eq!(
        ws.ask_json("cod quota")["hits"][0]["id"],
        "notes/fisheries:1"
    );
}
