//! Rebuilds are atomic: a crash at any point, a second writer, a damaged index or a broken
//! edit never leaves anyone without the last complete index.

mod common;

use std::fs;

use common::{
    Workspace, a_writer_and_a_reader_bot, change_a_stored_letter, damage_the_first_stored_passage,
    segment_file, zero_stored_text,
};

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

/// A full disk while a build writes (the failpoint fails as `ENOSPC` does): `index` (an
/// update, then a full rebuild) and `add` stop with the system's words, said once; the
/// build's folder is removed and the version in use stays live and answers; the add is
/// undone — its file not left in `content/` — and its refusal audited. A real full disk
/// (a 3 MB tmpfs) gave the same (README, Reliability).
#[test]
fn a_full_disk_stops_the_build_and_keeps_the_index() {
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    let before = ws.current_version().unwrap();
    let full = ("BRIEFBOT_FAILPOINT", "after-documents:full");
    let quay = ws.path().join("quay.md");
    fs::write(
        &quay,
        "# Quay\n\nThe quay is rebuilt by the harbour board.\n",
    )
    .unwrap();
    add_zeppelin_briefing(&ws);
    let quay = quay.to_str().unwrap();
    for args in [&["index"][..], &["index", "--full"], &["add", quay]] {
        let out = ws.cmd().args(args).env(full.0, full.1).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(
            stderr.matches("No space left on device").count(),
            1,
            "{args:?}: {stderr}"
        );
        assert_eq!(version_dirs(&ws), vec![before.clone()], "{args:?}");
    }
    assert!(!ws.content().join("quay.md").exists(), "the add is undone");
    let refused = common::audit(&ws);
    let last = refused.last().unwrap();
    assert!(
        last["outcome"]
            .as_str()
            .unwrap()
            .contains("No space left on device"),
        "{last}"
    );
    let cod = ws.ask_json("cod quota");
    assert_eq!(cod["hits"][0]["id"], "notes/fisheries:1");
    assert_eq!(
        format!("v-{}", cod["index_version"].as_str().unwrap()),
        before
    );
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

/// Damage to stored text done after a bot checked its version, which tantivy reports as a
/// read error rather than as corrupt data, met by `/cite` (and so by `/read`, `/quiz`,
/// passage lookups and questions): the writer bot reads its version again in full, finds
/// the damage, rebuilds and answers. Before, "Something went wrong" until the next version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_stored_text_met_by_a_writer_bot_is_found_and_rebuilt() {
    use briefbot::discord::bot::Bot;
    let ws = Workspace::with_fixtures();
    let bot = Bot::new(ws.settings()).unwrap();
    let first = bot.engine().manifest().version.clone();
    // Stored text read once stays in tantivy's cache of blocks: the passage read after the
    // damage is the first one stored, never read before.
    let id = damage_the_first_stored_passage(&ws, &bot);
    let m = bot.cite(None, &id).await;
    assert!(m.content.contains(&format!("[{id}]")), "{}", m.content);
    assert_ne!(bot.engine().manifest().version, first, "rebuilt");
}

/// The same damage met by a reader bot: it tells the member the index is damaged (not
/// "something went wrong") and the writer (a `DAMAGED` report), and answers once the
/// writer has rebuilt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_stored_text_met_by_a_reader_bot_is_reported_to_the_writer() {
    use briefbot::index::damage;
    let (ws, writer, bot) = a_writer_and_a_reader_bot();
    let id = damage_the_first_stored_passage(&ws, &bot);
    let m = bot.cite(None, &id).await;
    assert!(m.content.contains("damaged"), "{}", m.content);
    let told = damage::read(&ws.index())
        .expect("the writer is told")
        .unwrap();
    assert!(told.reason.contains(".store"), "{}", told.reason);
    // An operator's `index --check` shows the report beside what it finds.
    let checked = ws.cmd().args(["index", "--check"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&checked.stderr);
    assert!(
        stderr.contains(&format!(
            "a reader reported version {} damaged",
            told.version
        )),
        "{stderr}"
    );
    assert_eq!(checked.status.code(), Some(1), "{stderr}");
    assert_eq!(
        writer.cure_reported_damage().await,
        Some(briefbot::live::Cure::Answering)
    );
    let m = bot.cite(None, &id).await;
    assert!(m.content.contains(&format!("[{id}]")), "{}", m.content);
    assert_eq!(
        bot.engine().manifest().version,
        writer.engine().manifest().version
    );
}

/// An error that is not damage: reading the whole version again finds it whole, nothing is
/// rebuilt, and the next such error within the minute does not read it again.
#[tokio::test]
async fn an_error_over_a_whole_index_rebuilds_nothing() {
    let ws = Workspace::with_fixtures();
    let live = briefbot::live::Live::open(&ws.settings()).unwrap();
    let version = live.engine().manifest().version.clone();
    assert_eq!(live.diagnose(&version).await, None);
    // Within the minute the version is not read again: damage done now goes unseen.
    zero_stored_text(&segment_file(
        &ws.index().join(ws.current_version().unwrap()),
        "store",
    ));
    assert_eq!(live.diagnose(&version).await, None);
    assert_eq!(live.engine().manifest().version, version);
}

/// `briefbot ask` over stored text damaged so that tantivy reports a read error (its
/// footer whole, so opening saw nothing): the version is read in full, found damaged,
/// rebuilt, and the question answered. Before, the error ended the command.
#[test]
fn ask_over_damaged_stored_text_rebuilds_and_answers() {
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    let damaged = ws.current_version().unwrap();
    zero_stored_text(&segment_file(&ws.index().join(&damaged), "store"));
    let json = common::ask_over_damaged_stored_text(&ws, &[], "cod quota cut");
    assert_eq!(json["hits"][0]["id"], "notes/fisheries:1", "{json}");
    assert_ne!(ws.current_version().unwrap(), damaged);
}

/// The study commands from the terminal — `read`, `cite`, `quiz` — over stored text
/// damaged the same way: each reads the version in full, finds the damage, rebuilds and
/// does what was asked, as `ask` and the bot's commands do. Before, each ended with
/// tantivy's read error ("searching the index failed: An IO error occurred: …"), at every
/// try, until an `ask` or an `index` rebuilt the index.
#[test]
fn the_study_commands_over_damaged_stored_text_rebuild_and_answer() {
    let ws = Workspace::with_fixtures();
    // Four facts of one kind, so that a quiz can be made.
    fs::write(
        ws.content().join("harbour-history.md"),
        "# Harbour history\n\nThe harbour opened in 1901. Its canal was dug in 1923. \
         The swing bridge was built in 1955. The ferry terminal followed in 1987.\n",
    )
    .unwrap();
    assert!(index(&ws).status.success());
    let commands: [(&[&str], &str); 3] = [
        (&["read", "fisheries"], "The council cut the cod quota"),
        (
            &["cite", "notes/fisheries:1"],
            "The council cut the cod quota",
        ),
        (&["quiz", "--json", "--seed", "7"], "\"answer\""),
    ];
    for (args, shows) in commands {
        let damaged = ws.current_version().unwrap();
        zero_stored_text(&segment_file(&ws.index().join(&damaged), "store"));
        let out = ws.cmd().args(args).output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(
            stderr.contains("is damaged") && stderr.contains(".store"),
            "{args:?}: {stderr}"
        );
        assert!(stdout.contains(shows), "{args:?}: {stdout}");
        assert_ne!(ws.current_version().unwrap(), damaged, "{args:?}: rebuilt");
    }
    // An error of the command's own (no such briefing) is not looked into: the index
    // is not read in full, so damage it has waits for the next command that meets it.
    let damaged = ws.current_version().unwrap();
    zero_stored_text(&segment_file(&ws.index().join(&damaged), "store"));
    let out = ws.cmd().args(["read", "zeppelins"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("zeppelins") && !stderr.contains("built it"),
        "{stderr}"
    );
    assert_eq!(ws.current_version().unwrap(), damaged);
}

/// A changed byte of the columns' file that makes tantivy panic when it reads them: `cite`
/// and `ask` (whose opening reads only footers) find the damage and rebuild, and so do
/// `index` and `index --full`. Before, `cite` and `ask` panicked, and so did the rebuild
/// meant to cure it — it first read the damaged version's columns to report what changed
/// — so that nothing but deleting `index/` did.
#[test]
fn a_changed_byte_that_makes_tantivy_panic_is_cured_by_the_commands() {
    let commands: [(&[&str], &str); 4] = [
        (
            &["cite", "notes/fisheries:1"],
            "The council cut the cod quota",
        ),
        (&["ask", "cod quota cut"], "notes/fisheries:1"),
        (&["index", "--full"], "a full rebuild"),
        (&["index"], "a full rebuild"),
    ];
    for (args, shows) in commands {
        let ws = Workspace::with_fixtures();
        assert!(index(&ws).status.success());
        let damaged = ws.current_version().unwrap();
        common::damage_the_columns_so_that_tantivy_panics(&ws, "notes/fisheries:1");
        if args == ["index"] {
            fs::write(
                ws.content().join("quay.md"),
                "# Quay\n\nThe quay is rebuilt.\n",
            )
            .unwrap();
        }
        let out = ws.cmd().args(args).output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stdout.contains(shows), "{args:?}: {stdout}");
        assert_ne!(ws.current_version().unwrap(), damaged, "{args:?}: rebuilt");
    }
}

/// A writer bot that starts over such a version finds it damaged (it checks every file)
/// and rebuilds it. Before, the rebuild read the damaged columns and panicked: the bot
/// could not start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_bot_starts_over_columns_that_make_tantivy_panic() {
    use briefbot::discord::bot::Bot;
    let ws = Workspace::with_fixtures();
    assert!(index(&ws).status.success());
    let damaged = ws.current_version().unwrap();
    common::damage_the_columns_so_that_tantivy_panics(&ws, "notes/fisheries:1");
    let bot = Bot::new(ws.settings()).unwrap();
    assert_ne!(bot.engine().manifest().version, damaged);
    let m = bot.cite(None, "notes/fisheries:1").await;
    let shown = format!("{} {:?}", m.content, m.embed);
    assert!(shown.contains("The council cut the cod quota"), "{shown}");
}

/// A briefing naming a firm whose name no other text shares, so that its stored block
/// holds the name among its literals, as it is: the workspace, and the firm's name.
fn with_a_firm_named_once() -> (Workspace, &'static str) {
    let ws = Workspace::with_fixtures();
    fs::write(
        ws.content().join("quay.md"),
        "# Quay repairs\n\nThe old quay will be rebuilt by the firm Qwixfjordbank Salvage, \
         which won the tender in May.\n",
    )
    .unwrap();
    (ws, "Qwixfjordbank")
}

/// Stored text changed so that it still decompresses (a letter among a block's literals:
/// "Qwixfjordbank" read back as "qwixfjordbank") is never quoted: `briefbot ask` finds
/// the passage does not match the fingerprint its build kept, reads the version in full,
/// rebuilds and quotes the briefing's own words. Before, it quoted the changed text as
/// the briefing's, and only `index --check` or the next version found the damage.
#[test]
fn ask_never_quotes_stored_text_that_changed_but_still_decompresses() {
    let (ws, firm) = with_a_firm_named_once();
    assert!(index(&ws).status.success());
    let damaged = ws.current_version().unwrap();
    change_a_stored_letter(&segment_file(&ws.index().join(&damaged), "store"), firm);
    let json = common::ask_over_damaged_stored_text(&ws, &[], "who rebuilds the old quay");
    assert!(
        json["hits"][0]["text"].as_str().unwrap().contains(firm),
        "{json}"
    );
    assert!(!json.to_string().contains(&firm.to_lowercase()), "{json}");
    assert_ne!(ws.current_version().unwrap(), damaged);
}

/// The same change made after a bot checked its version, met by `/cite`: the writer bot
/// finds it, rebuilds and cites the briefing's own words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_never_cites_stored_text_that_changed_but_still_decompresses() {
    use briefbot::discord::bot::Bot;
    let (ws, firm) = with_a_firm_named_once();
    let bot = Bot::new(ws.settings()).unwrap();
    let first = bot.engine().manifest().version.clone();
    change_a_stored_letter(
        &segment_file(&ws.index().join(ws.current_version().unwrap()), "store"),
        firm,
    );
    let m = bot.cite(None, "quay:1").await;
    let shown = format!("{} {:?}", m.content, m.embed);
    assert!(shown.contains(firm), "{shown}");
    assert!(!shown.contains(&firm.to_lowercase()), "{shown}");
    assert_ne!(bot.engine().manifest().version, first, "rebuilt");
}

/// A quiz answer (a button press) makes the quiz again from stored text: damage met there
/// is cured the same way, and the press is answered, not "something went wrong".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiz_answer_over_damaged_stored_text_is_answered_after_a_rebuild() {
    use briefbot::discord::bot::{Bot, QuizPress};
    let ws = Workspace::with_fixtures();
    let bot = Bot::new(ws.settings()).unwrap();
    let first = bot.engine().manifest().version.clone();
    zero_stored_text(&segment_file(
        &ws.index().join(ws.current_version().unwrap()),
        "store",
    ));
    let press = QuizPress {
        guild: None,
        channel: 1,
        message: 2,
        user: 3,
    };
    // A check of no quiz: the one made again after the rebuild is another.
    let m = bot.answer_quiz(press, 7, 0, "00000000", None).await;
    assert!(m.content.contains("have changed since"), "{}", m.content);
    assert_ne!(bot.engine().manifest().version, first, "rebuilt");
}

/// A reader that cannot write its report (here a folder stands where it goes) tells the
/// member the index is damaged without claiming the writer was told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_cannot_tell_the_writer_does_not_say_it_did() {
    let (ws, _writer, bot) = a_writer_and_a_reader_bot();
    fs::create_dir(ws.index().join(briefbot::index::damage::FILE)).unwrap();
    let id = damage_the_first_stored_passage(&ws, &bot);
    let m = bot.cite(None, &id).await;
    assert!(m.content.contains("damaged"), "{}", m.content);
    assert!(!m.content.contains("writer told"), "{}", m.content);
}
