//! Reliability: rebuilds under load, processes killed mid-rebuild, hostile files and a
//! full disk. Each test fails if its guarantee breaks.

mod common;

use std::fs;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use briefbot::app;
use common::Workspace;

/// Writes generation `g` of a small corpus: every paragraph carries the marker `genG`.
fn write_generation(ws: &Workspace, g: usize) {
    for b in 0..3 {
        let mut text = format!("# Coast {b}\n\n");
        for p in 0..4 {
            text.push_str(&format!(
                "The lighthouse keepers of harbour {b} logged storm {p} in gen{g} records.\n\n"
            ));
        }
        fs::write(ws.content().join(format!("coast-{b}.md")), text).unwrap();
    }
}

#[test]
fn eight_threads_keep_answering_while_fifty_rebuilds_run() {
    let ws = Workspace::empty();
    write_generation(&ws, 0);
    let settings = ws.settings();
    app::rebuild(&settings).unwrap();
    let stop = AtomicBool::new(false);
    let (answered, failed, mixed) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    // As `briefbot ask` does: open the live version, then search it.
                    let result =
                        common::search_live(&settings, "lighthouse harbour storm records", 20);
                    match result {
                        Ok(hits) => {
                            let mut gens: Vec<&str> = hits
                                .iter()
                                .filter_map(|h| {
                                    h.passage
                                        .text
                                        .split_whitespace()
                                        .find(|w| w.starts_with("gen"))
                                })
                                .collect();
                            gens.dedup();
                            if hits.len() != 12 || gens.len() != 1 {
                                mixed.fetch_add(1, Ordering::Relaxed);
                            }
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            eprintln!("failed question: {e}");
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
        let _stop = common::StopOnDrop(&stop);
        for g in 1..=50 {
            write_generation(&ws, g);
            if let Err(e) = app::rebuild(&settings) {
                panic!("rebuild {g} failed: {e}");
            }
        }
    });
    assert_eq!(failed.load(Ordering::Relaxed), 0, "failed questions");
    assert_eq!(
        mixed.load(Ordering::Relaxed),
        0,
        "answers mixing index versions"
    );
    assert!(
        answered.load(Ordering::Relaxed) >= 50,
        "{} answered",
        answered.load(Ordering::Relaxed)
    );
    let versions = fs::read_dir(ws.index())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("v-")
        })
        .count();
    assert!(versions <= 2, "{versions} versions kept");
}

/// A corpus big enough that a rebuild takes a while.
fn write_big(ws: &Workspace, files: usize) {
    for f in 0..files {
        let mut text = format!("# Report {f}\n\n");
        for p in 0..8 {
            text.push_str(&format!(
                "Paragraph {p} of report {f} covers ports, tariffs, shipping lanes, fisheries \
                 quotas, grid cables and rail subsidies in plain words for readers.\n\n"
            ));
        }
        fs::write(ws.content().join(format!("report-{f:04}.md")), text).unwrap();
    }
}

#[test]
fn a_rebuild_killed_at_twenty_points_never_loses_the_index() {
    let ws = Workspace::empty();
    write_big(&ws, 300);
    assert!(ws.cmd().arg("index").output().unwrap().status.success());
    for i in 0..20u64 {
        let before = ws.current_version().unwrap();
        fs::write(
            ws.content().join(format!("new-{i}.md")),
            format!("# New {i}\n\nZeppelin number {i}.\n"),
        )
        .unwrap();
        let mut child = common::briefbot()
            .arg("--config")
            .arg(ws.config())
            .arg("index")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(i * 12));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let after = ws.current_version().unwrap();
        // Either the old version or a complete new one is live, and it answers as it is,
        // without being rebuilt.
        let out = ws
            .cmd()
            .args(["ask", "--json", "tariffs shipping lanes"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kill {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("built it"),
            "kill {i} damaged the index"
        );
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            format!("v-{}", answer["index_version"].as_str().unwrap()),
            after
        );
        assert!(after == before || !ws.index().join(&after).join(".lock").exists());
    }
    // The next rebuild succeeds (no stale lock) and clears what the killed ones left.
    let out = ws.cmd().arg("index").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let leftovers: Vec<String> = fs::read_dir(ws.index())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".build-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let answer = ws.ask_json("Zeppelin number 19");
    assert_eq!(answer["hits"][0]["id"], "new-19:1");
}

#[test]
fn an_empty_index_folder_is_rebuilt() {
    let ws = Workspace::with_fixtures();
    fs::create_dir_all(ws.index()).unwrap();
    let out = ws
        .cmd()
        .args(["ask", "--json", "cod quota"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no index has been built"));
}

#[cfg(unix)]
#[test]
fn hostile_files_are_reported_and_the_rest_is_indexed() {
    let ws = Workspace::with_fixtures();
    for name in ["latin1.txt", "archive.txt", "empty.md", "broken-front.md"] {
        ws.add_bad(name);
    }
    // 50 MB (sparse) over the 10 MB default cap.
    fs::File::create(ws.content().join("huge.txt"))
        .unwrap()
        .set_len(50 * 1024 * 1024)
        .unwrap();
    std::os::unix::fs::symlink("loop-b.md", ws.content().join("loop-a.md")).unwrap();
    std::os::unix::fs::symlink("loop-a.md", ws.content().join("loop-b.md")).unwrap();
    std::os::unix::fs::symlink("/etc", ws.content().join("outside")).unwrap();
    let nested = format!(
        "<title>Deep</title>{}<p>bottom of the well",
        "<div><span>".repeat(30_000)
    );
    fs::write(ws.content().join("deep.html"), nested).unwrap();
    let unclosed = format!(
        "<title>Deepish</title>{}<p>bottom of the well",
        "<div>".repeat(2_000)
    );
    fs::write(ws.content().join("deepish.html"), unclosed).unwrap();

    let out = ws.cmd().arg("index").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    for (file, reason) in [
        ("latin1.txt", "not UTF-8"),
        ("archive.txt", "binary"),
        ("empty.md", "empty file"),
        ("broken-front.md", "front matter"),
        ("huge.txt", "over the limit"),
        ("loop-a.md", "symbolic link, not followed"),
        ("loop-b.md", "symbolic link, not followed"),
        ("outside", "symbolic link, not followed"),
        ("deep.html", "nested too deeply"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(file) && l.contains(reason)),
            "{file}: {reason} missing in\n{stdout}"
        );
    }
    assert!(stdout.contains("Indexed 5 briefings"), "{stdout}");
    assert_eq!(
        ws.ask_json("bottom of the well")["hits"][0]["id"],
        "deepish:1"
    );
    assert_eq!(
        ws.ask_json("cod quota")["hits"][0]["id"],
        "notes/fisheries:1"
    );
}

#[cfg(unix)]
#[test]
fn a_full_disk_fails_the_rebuild_clearly_and_the_old_index_answers() {
    let ws = Workspace::empty();
    write_big(&ws, 100);
    assert!(ws.cmd().arg("index").output().unwrap().status.success());
    let before = ws.current_version().unwrap();
    // An update writes little: a new briefing of 3,000 distinct words, whose segment does
    // not fit.
    let mut new = String::from("# New\n\n");
    for p in 0u64..300 {
        let words: Vec<String> = (0..10)
            .map(|w| format!("z{:x}", (p * 10 + w).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        new.push_str(&format!("Zeppelin news {}.\n\n", words.join(" ")));
    }
    fs::write(ws.content().join("new.md"), new).unwrap();
    // Writes past 16 KiB fail with EFBIG, as on a full disk (SIGXFSZ ignored): an update,
    // then a full rebuild.
    for args in [&["index"][..], &["index", "--full"]] {
        let out = common::without_settings_from_env(&mut Command::new("bash"))
            .arg("-c")
            .arg(r#"trap '' XFSZ; ulimit -f 16; exec "$0" "$@""#)
            .arg(assert_cmd::cargo::cargo_bin("briefbot"))
            .arg("--config")
            .arg(ws.config())
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("briefbot: error:"), "{stderr}");
        assert!(stderr.to_lowercase().contains("file too large"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(ws.current_version().unwrap(), before);
        let answer = ws.ask_json("tariffs shipping lanes");
        assert_eq!(
            format!("v-{}", answer["index_version"].as_str().unwrap()),
            before
        );
        assert!(!answer["hits"].as_array().unwrap().is_empty());
    }
}
