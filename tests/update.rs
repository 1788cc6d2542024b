//! Incremental updates: every ordinary change deletes and adds one briefing's passages in a
//! copy of the live version made of hard links; unchanged briefings are not read; a
//! process killed at any point leaves the old or the new content answering; readers keep
//! answering through hundreds of updates.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use briefbot::app;
use briefbot::index::BuildKind;
use common::Workspace;

fn index(ws: &Workspace, args: &[&str]) -> String {
    let out = ws.cmd().arg("index").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "index {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The inode of every segment file (tantivy's own, by name) of the live version.
fn segment_inodes(ws: &Workspace) -> Vec<(String, u64)> {
    let live = ws.index().join(ws.current_version().unwrap());
    let mut out: Vec<(String, u64)> = fs::read_dir(&live)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            [".idx", ".pos", ".term", ".store", ".fast", ".fieldnorm"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().ino(),
            )
        })
        .collect();
    out.sort();
    out
}

fn write_briefing(dir: &Path, name: &str, title: &str, paragraphs: &[String]) {
    let mut text = format!("# {title}\n\n");
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    fs::write(dir.join(name), text).unwrap();
}

#[test]
fn an_update_reads_only_what_changed_and_shares_every_other_file() {
    let ws = Workspace::with_fixtures();
    // Enough other briefings that the segment keeps most of its passages (one that lost
    // 40 % of them is merged, which rewrites it).
    for f in 0..10 {
        let paragraphs: Vec<String> = (0..3)
            .map(|p| format!("Filler paragraph {p} of file {f} about canal locks."))
            .collect();
        write_briefing(
            &ws.content(),
            &format!("filler-{f}.md"),
            "Filler",
            &paragraphs,
        );
    }
    let out = index(&ws, &[]);
    assert!(out.contains("a full rebuild"), "{out}");
    let before = segment_inodes(&ws);
    assert!(!before.is_empty());

    // Added, changed and removed at once.
    write_briefing(
        &ws.content(),
        "zeppelins.md",
        "Zeppelins",
        &["Airship hangars at Friedrichshafen were rebuilt for cargo zeppelins.".into()],
    );
    let grid = ws.content().join("notes/grid.md");
    let edited = fs::read_to_string(&grid)
        .unwrap()
        .replace("cable", "interconnector cable");
    fs::write(&grid, edited).unwrap();
    fs::remove_file(ws.content().join("rail.html")).unwrap();

    let out = index(&ws, &[]);
    assert!(out.contains("an update, 2 files read"), "{out}");
    assert!(
        out.contains("zeppelins.md — Zeppelins (1 paragraph)"),
        "{out}"
    );
    assert!(out.contains("notes/grid.md"), "{out}");
    assert!(
        !out.contains("harbour-report"),
        "an unchanged file was read: {out}"
    );
    assert!(out.contains("  added: zeppelins:1"), "{out}");
    assert!(out.contains("  changed: notes/grid:"), "{out}");
    assert!(out.contains("  removed: rail:1"), "{out}");

    // Every segment file of the previous version is the same file in the new one (a hard
    // link: nothing rewritten); the update only added files.
    let after = segment_inodes(&ws);
    for (name, inode) in &before {
        assert!(
            after.contains(&(name.clone(), *inode)),
            "{name} was rewritten or dropped: {after:?}"
        );
    }
    assert!(after.len() > before.len(), "no new segment: {after:?}");

    // The version now holds deleted documents beside the new ones: the text keys that
    // count what is left to embed (read a block at a time, the texts not kept) are those
    // of the passages alive, as reading them whole gives.
    let open = app::store(&ws.settings()).open().unwrap();
    assert!(
        open.reader
            .searcher()
            .segment_readers()
            .iter()
            .any(|s| s.num_deleted_docs() > 0),
        "no deleted document to skip"
    );
    let mut keys = briefbot::index::passage_text_keys(&open).unwrap();
    let mut alive: Vec<Vec<u64>> = briefbot::index::all_passages(&open)
        .unwrap()
        .iter()
        .map(|p| briefbot::semantic::keys_of(&p.text))
        .collect();
    keys.sort_unstable();
    alive.sort_unstable();
    assert_eq!(keys, alive);
    drop(open);

    let hit = ws.ask_json("zeppelin hangars Friedrichshafen");
    assert_eq!(hit["hits"][0]["id"], "zeppelins:1");
    let hit = ws.ask_json("interconnector cable");
    assert!(
        hit["hits"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("notes/grid:"),
        "{hit}"
    );
    let sources = ws.json(&["sources", "--json"]);
    let slugs: BTreeSet<String> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["slug"].as_str().unwrap().to_string())
        .collect();
    assert!(
        slugs.contains("zeppelins") && !slugs.contains("rail"),
        "{slugs:?}"
    );
}

#[test]
fn nothing_changed_makes_no_version_and_a_setting_that_shapes_the_text_rebuilds() {
    let ws = Workspace::with_fixtures();
    index(&ws, &[]);
    let version = ws.current_version().unwrap();
    let out = index(&ws, &[]);
    assert!(out.contains("is up to date with"), "{out}");
    assert_eq!(ws.current_version().unwrap(), version);

    // Touching a file without changing it is read again, and changes no paragraph.
    let grid = ws.content().join("notes/grid.md");
    let text = fs::read(&grid).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    fs::write(&grid, text).unwrap();
    let out = index(&ws, &[]);
    assert!(out.contains("an update, 1 file read"), "{out}");
    assert!(out.contains("0 added, 0 changed, 0 removed"), "{out}");

    // A setting that changes how files are read: every file is read again.
    fs::write(ws.config(), "[content]\nheading_max_words = 9\n").unwrap();
    let out = index(&ws, &[]);
    assert!(out.contains("a full rebuild"), "{out}");
    let out = index(&ws, &[]);
    assert!(out.contains("is up to date with"), "{out}");
    // And on request.
    let out = index(&ws, &["--full"]);
    assert!(out.contains("a full rebuild"), "{out}");
}

#[test]
fn a_dry_run_tells_what_an_update_would_do_and_does_nothing() {
    let ws = Workspace::with_fixtures();
    index(&ws, &[]);
    let version = ws.current_version().unwrap();
    fs::remove_file(ws.content().join("rail.html")).unwrap();
    let out = index(&ws, &["--dry-run"]);
    assert!(
        out.contains("Would be: 0 added, 0 changed, 3 removed."),
        "{out}"
    );
    assert!(out.contains("Would index 3 briefings, 9 passages"), "{out}");
    assert!(out.contains("(0 files read)"), "{out}");
    assert_eq!(ws.current_version().unwrap(), version);
}

/// Writes generation `g` of briefing `b`: four paragraphs, each with the marker `genG`.
fn write_generation(ws: &Workspace, b: usize, g: usize) {
    let paragraphs: Vec<String> = (0..4)
        .map(|p| {
            format!("The lighthouse keepers of harbour {b} logged storm {p} in gen{g} records.")
        })
        .collect();
    write_briefing(
        &ws.content(),
        &format!("coast-{b}.md"),
        &format!("Coast {b}"),
        &paragraphs,
    );
}

/// Three briefings of generation 0, indexed by a writer that stays for more updates.
fn three_coasts() -> (Workspace, briefbot::config::Settings, app::Writer) {
    let ws = Workspace::empty();
    for b in 0..3 {
        write_generation(&ws, b, 0);
    }
    let settings = ws.settings();
    let writer = app::Writer::acquire(&settings, "test").unwrap();
    writer.update(&settings, None).unwrap();
    (ws, settings, writer)
}

/// A version a reader opened answers from what it opened, even after the writer removed
/// its folder (two versions later, while the reader was slow): before, the engine read
/// the folder's `meta.json` again when it was made, and failed ("FileDoesNotExist").
#[test]
fn a_version_opened_before_the_writer_removed_it_still_answers() {
    let (ws, settings, writer) = three_coasts();
    let open = app::store(&settings).open().unwrap();
    let dir = open.dir.clone();
    for g in 1..=2 {
        write_generation(&ws, 1, g);
        writer.update(&settings, None).unwrap();
    }
    assert!(!dir.exists(), "the writer removed the version");
    let engine = briefbot::search::Engine::new(
        open,
        briefbot::search::SearchOptions::from_settings(&settings, briefbot::search::Ranking::Full),
    )
    .unwrap();
    let hits = engine
        .search("lighthouse harbour 1 storm records", 20, None)
        .unwrap();
    assert_eq!(hits.len(), 12);
    assert!(hits.iter().all(|h| !h.passage.text.contains("gen1")));
}

#[test]
fn eight_readers_keep_answering_through_two_hundred_updates() {
    let (ws, settings, writer) = three_coasts();
    let stop = AtomicBool::new(false);
    let (answered, failed, wrong) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let latest = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    // The generation published before this question was asked: the answer
                    // may be of it or a later one, never of an earlier one.
                    let at_least = latest.load(Ordering::SeqCst);
                    let result =
                        common::search_live(&settings, "lighthouse harbour 1 storm records", 20);
                    match result {
                        Ok(hits) => {
                            // Briefing 1 is the one changed: its four paragraphs are of one
                            // generation, and every briefing is there.
                            let gens: BTreeSet<usize> = hits
                                .iter()
                                .filter(|h| h.passage.slug == "coast-1")
                                .filter_map(|h| {
                                    h.passage
                                        .text
                                        .split_whitespace()
                                        .find_map(|w| w.strip_prefix("gen")?.parse().ok())
                                })
                                .collect();
                            let slugs: BTreeSet<&str> =
                                hits.iter().map(|h| h.passage.slug.as_str()).collect();
                            let one = gens.len() == 1 && gens.iter().all(|&g| g >= at_least);
                            if hits.len() != 12 || slugs.len() != 3 || !one {
                                eprintln!("wrong answer: {} hits, {slugs:?}, {gens:?}", hits.len());
                                wrong.fetch_add(1, Ordering::Relaxed);
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
        for g in 1..=200 {
            write_generation(&ws, 1, g);
            match writer.update(&settings, None) {
                Ok((_, report)) => assert_eq!(report.kind, BuildKind::Incremental, "update {g}"),
                Err(e) => panic!("update {g} failed: {e}"),
            }
            latest.store(g, Ordering::SeqCst);
        }
    });
    assert_eq!(failed.load(Ordering::Relaxed), 0, "failed questions");
    assert_eq!(wrong.load(Ordering::Relaxed), 0, "mixed or stale answers");
    assert!(answered.load(Ordering::Relaxed) >= 200);

    // Segments stay few: the merge policy gathers the small ones.
    let open = app::store(&settings).open().unwrap();
    let segments = open.index.searchable_segment_ids().unwrap().len();
    assert!(segments <= 10, "{segments} segments after 200 updates");
    assert_eq!(open.manifest.passages, 12);
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

/// A corpus big enough that an update's steps take a while to reach.
fn write_big(ws: &Workspace, files: usize) {
    for f in 0..files {
        let paragraphs: Vec<String> = (0..8)
            .map(|p| {
                format!(
                    "Paragraph {p} of report {f} covers ports, tariffs, shipping lanes, \
                     fisheries quotas, grid cables and rail subsidies in plain words."
                )
            })
            .collect();
        write_briefing(
            &ws.content(),
            &format!("report-{f:04}.md"),
            &format!("Report {f}"),
            &paragraphs,
        );
    }
}

#[test]
fn an_update_killed_at_twenty_points_leaves_the_old_or_the_new_content() {
    let ws = Workspace::empty();
    write_big(&ws, 200);
    index(&ws, &[]);
    // The failpoints of the update's steps, then kills at growing delays.
    let failpoints = [
        "after-links",
        "after-documents",
        "after-commit",
        "after-merges",
        "before-publish",
    ];
    for i in 0..20u64 {
        let before = ws.current_version().unwrap();
        // Each round changes one report (a new word in all its paragraphs) and adds one.
        let changed = i as usize * 7;
        let paragraphs: Vec<String> = (0..8)
            .map(|p| format!("Paragraph {p} of report {changed} now covers zeppelin{i} docks."))
            .collect();
        write_briefing(
            &ws.content(),
            &format!("report-{changed:04}.md"),
            &format!("Report {changed}"),
            &paragraphs,
        );
        write_briefing(
            &ws.content(),
            &format!("new-{i}.md"),
            &format!("New {i}"),
            &[format!("Airship number{i} moored.")],
        );
        let mut cmd = common::briefbot();
        cmd.arg("--config")
            .arg(ws.config())
            .arg("index")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        match failpoints.get(i as usize) {
            Some(point) => {
                let status = cmd.env("BRIEFBOT_FAILPOINT", point).status().unwrap();
                assert!(!status.success(), "failpoint {point} not reached");
            }
            None => {
                let mut child = cmd.spawn().unwrap();
                std::thread::sleep(Duration::from_millis((i - 5) * 8));
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
            }
        }
        let after = ws.current_version().unwrap();
        let out = ws
            .cmd()
            .args(["ask", "--json", &format!("zeppelin{i} docks")])
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
        // Old content or new, never a mix: the changed report's eight paragraphs are all
        // of one kind, and the new briefing is there exactly when they are new.
        let reader = app::store(&ws.settings()).open().unwrap();
        let report =
            briefbot::index::passages_of_source(&reader, &format!("report-{changed:04}.md"))
                .unwrap();
        let new_ones = report
            .iter()
            .filter(|p| p.text.contains(&format!("zeppelin{i}")))
            .count();
        let added = !briefbot::index::passages_of_source(&reader, &format!("new-{i}.md"))
            .unwrap()
            .is_empty();
        assert_eq!(report.len(), 8, "kill {i}");
        assert!(
            new_ones == 0 || new_ones == 8,
            "kill {i}: {new_ones} of 8 new"
        );
        assert_eq!(added, new_ones == 8, "kill {i}");
        assert_eq!(after == before, new_ones == 0, "kill {i}");
        assert_eq!(
            reader.manifest.passages,
            reader.index.reader().unwrap().searcher().num_docs()
        );
    }
    // The next update catches up with everything, and clears what the killed ones left.
    index(&ws, &[]);
    let leftovers: Vec<String> = fs::read_dir(ws.index())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".build-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    for i in 0..20 {
        let answer = ws.ask_json(&format!("Airship number{i} moored"));
        assert_eq!(answer["hits"][0]["id"], format!("new-{i}:1"));
    }
}

#[test]
fn a_server_library_update_leaves_other_libraries_unread() {
    let ws = Workspace::with_fixtures();
    index(&ws, &[]);
    // An edit in the shared library, then a change in a server's library updated alone.
    let grid = ws.content().join("notes/grid.md");
    let edited = fs::read_to_string(&grid)
        .unwrap()
        .replace("cable", "hawser");
    fs::write(&grid, edited).unwrap();
    let server = ws.content().join("servers/42");
    fs::create_dir_all(&server).unwrap();
    write_briefing(
        &server,
        "club.md",
        "Club",
        &["The rowing club meets on Tuesdays.".into()],
    );
    let settings = ws.settings();
    let writer = app::Writer::acquire(&settings, "test").unwrap();
    let (read, report) = writer
        .update(&settings, Some(briefbot::library::Library::Server(42)))
        .unwrap();
    assert_eq!(report.kind, BuildKind::Incremental);
    let read: Vec<&str> = read.briefings.iter().map(|b| b.source.as_str()).collect();
    assert_eq!(read, ["servers/42/club.md"]);
    assert_eq!(report.diff.added, ["servers/42/club:1"]);
    assert!(report.diff.changed.is_empty() && report.diff.removed.is_empty());
    // The shared edit is read by the next update of everything.
    let (read, report) = writer.update(&settings, None).unwrap();
    assert_eq!(read.briefings.len(), 1, "{:?}", read.briefings);
    assert!(!report.diff.changed.is_empty());
}

#[test]
fn an_update_of_one_library_with_nothing_changed_makes_no_version() {
    let ws = Workspace::with_fixtures();
    // Files skipped in the shared library and in a server's: the server's update lists its
    // own first, and is still no change.
    ws.add_bad("empty.md");
    let server = ws.content().join("servers/42");
    fs::create_dir_all(&server).unwrap();
    fs::copy(
        common::fixtures().join("bad/empty.md"),
        server.join("empty.md"),
    )
    .unwrap();
    write_briefing(
        &server,
        "club.md",
        "Club",
        &["The rowing club meets on Tuesdays.".into()],
    );
    index(&ws, &[]);
    let version = ws.current_version().unwrap();
    let settings = ws.settings();
    let writer = app::Writer::acquire(&settings, "test").unwrap();
    for library in [
        Some(briefbot::library::Library::Server(42)),
        Some(briefbot::library::Library::Shared),
        None,
    ] {
        let (read, report) = writer.update(&settings, library).unwrap();
        assert_eq!(report.kind, BuildKind::Unchanged, "{library:?}");
        assert!(read.briefings.is_empty(), "{library:?}");
    }
    assert_eq!(ws.current_version().unwrap(), version);
}
