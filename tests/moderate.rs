//! Moderators' content changes from Discord (`/briefing add | remove`), the audit file,
//! and watching `content/` — without a network.

mod common;

use briefbot::library::{Library, Rights};

use std::fs;

use briefbot::config::Role;
use briefbot::discord::bot::{Ask, Bot};
use briefbot::render::discord::unescape;
use common::{Watcher, Workspace, audit, moderator};

/// The files under `content/`, sorted.
fn files(ws: &Workspace) -> Vec<String> {
    let mut out: Vec<String> = walk(&ws.content())
        .into_iter()
        .map(|p| p.strip_prefix(ws.content()).unwrap().display().to_string())
        .collect();
    out.sort();
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

async fn top_quote(bot: &Bot, question: &str) -> String {
    let m = bot.ask(Ask::new(question, 1)).await;
    m.embed.map(|e| e.description).unwrap_or(m.content)
}

const TIDES: &str = "# Tidal Power\n\n## Plans\n\nThe Severn barrage would make seven percent of British electricity.\n\n## Costs\n\nIt would cost more than a new reactor.\n";

/// An operator's `/briefing add` of TIDES into the shared library.
async fn add_tides(bot: &Bot) -> briefbot::render::discord::Message {
    bot.add_briefing(
        moderator(),
        Rights::OPERATOR,
        Library::Shared,
        "tides.md",
        TIDES.as_bytes().to_vec(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_adds_a_briefing_and_it_is_answered_and_audited() {
    let ws = Workspace::with_fixtures();
    let bot = Bot::new(ws.settings()).unwrap();
    let m = add_tides(&bot).await;
    assert!(
        !m.ephemeral
            && m.content.starts_with(
                "**Added** “Tidal Power” from `tides.md` to the shared library: 2 paragraphs in 2 \
                 sections, slug `tides`"
            ),
        "{}",
        m.content
    );
    assert_eq!(
        fs::read_to_string(ws.content().join("tides.md")).unwrap(),
        TIDES
    );
    assert!(
        top_quote(&bot, "Severn barrage electricity")
            .await
            .contains("**Severn** **barrage**")
    );
    let lines = audit(&ws);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["actor"]["id"], 77);
    assert_eq!(lines[0]["actor"]["name"], "mod");
    assert_eq!(lines[0]["action"], "briefing add");
    assert_eq!(lines[0]["target"], "tides.md");
    assert_eq!(
        lines[0]["outcome"],
        "added to the shared library as tides (2 paragraphs)"
    );
    assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
}

/// The watcher's event for a file a moderator just added finds it indexed already: no
/// second rebuild. A real edit afterwards is reindexed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_change_already_read_is_not_rebuilt_twice() {
    let ws = Workspace::with_fixtures();
    let bot = Bot::new(ws.settings()).unwrap();
    add_tides(&bot).await;
    let added = ws.current_version();
    let path = ws.content().join("tides.md");
    bot.reindex_watched(std::slice::from_ref(&path)).await;
    assert_eq!(ws.current_version(), added, "no second rebuild");
    fs::write(&path, TIDES.replace("seven", "eight")).unwrap();
    bot.reindex_watched(std::slice::from_ref(&path)).await;
    assert_ne!(ws.current_version(), added);
    assert!(top_quote(&bot, "Severn barrage").await.contains("eight"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_fails_a_check_is_refused_and_nothing_is_written() {
    let ws = Workspace::with_fixtures();
    fs::write(ws.config(), "[content]\nmax_upload_bytes = 2000\n").unwrap();
    let bot = Bot::new(ws.settings()).unwrap();
    let before = (files(&ws), ws.current_version());
    let big = format!("# Big\n\n{}\n", "word ".repeat(1000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "tides.docx",
            TIDES.into(),
            "not a briefing: send a .txt, .md, .html or .pdf file",
        ),
        ("tides.pdf", TIDES.into(), "not a PDF (no %PDF- header)"),
        ("../tides.md", TIDES.into(), "is not accepted"),
        (".tides.md", TIDES.into(), "is not accepted"),
        ("big.md", big.into(), "the limit is 2000"),
        ("binary.txt", b"abc\0def".to_vec(), "binary file"),
        ("empty.md", Vec::new(), "empty file"),
        ("latin.txt", b"caf\xe9 au lait".to_vec(), "not UTF-8"),
        (
            "trains.md",
            b"# Night Trains Return\n\nAnother text.\n".to_vec(),
            "the title \u{201c}Night Trains Return\u{201d} is already indexed (rail.html)",
        ),
        (
            "rail.md",
            TIDES.into(),
            "the slug `rail` is already indexed",
        ),
        (
            "harbour-report.txt",
            TIDES.into(),
            "content/harbour-report.txt already exists",
        ),
    ];
    for (name, bytes, reason) in &cases {
        let m = bot
            .add_briefing(
                moderator(),
                Rights::OPERATOR,
                Library::Shared,
                name,
                bytes.clone(),
            )
            .await;
        let text = unescape(&m.content);
        assert!(
            m.ephemeral && text.starts_with("Not added:") && text.contains(reason),
            "{name}: {text}"
        );
        // refuse_upload refuses the same names before any download.
        if ["tides.docx", "../tides.md", ".tides.md"].contains(name) {
            assert!(bot.refuse_upload(Library::Shared, name, 10).is_some());
        }
    }
    assert!(bot.refuse_upload(Library::Shared, "big.md", 2001).is_some());
    assert!(
        bot.refuse_upload(Library::Shared, "tides.md", 2000)
            .is_none()
    );
    assert_eq!((files(&ws), ws.current_version()), before);
    let lines = audit(&ws);
    assert_eq!(lines.len(), cases.len());
    assert!(
        lines
            .iter()
            .all(|l| l["outcome"].as_str().unwrap().starts_with("refused: "))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_briefing_is_moved_aside_and_can_be_restored() {
    let ws = Workspace::with_fixtures();
    let bot = Bot::new(ws.settings()).unwrap();
    assert!(
        top_quote(&bot, "night trains sleeper")
            .await
            .contains("sleeper")
    );
    let m = bot
        .remove_briefing(moderator(), Rights::OPERATOR, None, "rail")
        .await;
    assert!(
        m.content
            .starts_with("**Removed** “Night Trains Return” (3 paragraphs)"),
        "{}",
        m.content
    );
    assert!(!ws.content().join("rail.html").exists());
    let kept: Vec<_> = walk(&ws.path().join("removed"));
    assert_eq!(kept.len(), 1);
    assert!(kept[0].ends_with("rail.html"));
    // Where it is kept, as the holding folder's name and the path inside it: never the
    // server's absolute path (issue 13, item 6).
    let inside = kept[0].strip_prefix(ws.path()).unwrap();
    assert!(
        unescape(&m.content).contains(&inside.display().to_string()),
        "{}",
        m.content
    );
    assert!(!m.content.contains(&ws.path().display().to_string()));
    assert!(bot.engine().passage("rail:1").unwrap().is_none());
    let lines = audit(&ws);
    assert_eq!(lines[0]["action"], "briefing remove");
    assert_eq!(lines[0]["target"], "rail");

    // Restoring is moving the file back and reindexing.
    fs::rename(&kept[0], ws.content().join("rail.html")).unwrap();
    bot.reindex(&moderator(), Rights::OPERATOR, None, false)
        .await;
    assert!(bot.engine().passage("rail:1").unwrap().is_some());
    let lines = audit(&ws);
    assert_eq!(lines[1]["action"], "reindex");
    let outcome = lines[1]["outcome"].as_str().unwrap();
    let version = bot.engine().manifest().version.clone();
    assert!(
        outcome.starts_with(&format!("index version {version}: "))
            && outcome.contains("; paragraphs 3 added, 0 changed, 0 removed; 0 files skipped"),
        "{outcome}"
    );

    let m = bot
        .remove_briefing(moderator(), Rights::OPERATOR, None, "zeppelins")
        .await;
    assert!(
        m.ephemeral && m.content.contains("no briefing is called"),
        "{}",
        m.content
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_briefing_is_not_removed_and_a_reader_changes_nothing() {
    let ws = Workspace::with_bundled_briefing();
    let bot = Bot::new(ws.settings()).unwrap();
    let m = bot
        .remove_briefing(moderator(), Rights::OPERATOR, None, "us-japan-indo-pacific")
        .await;
    assert!(m.content.contains("the only briefing"), "{}", m.content);
    assert!(ws.content().join("us-japan-indo-pacific.txt").exists());
    drop(bot);

    let mut settings = ws.settings();
    settings.index.role = Role::Reader;
    let reader = Bot::new(settings).unwrap();
    let m = reader
        .add_briefing(
            moderator(),
            Rights::OPERATOR,
            Library::Shared,
            "tides.md",
            TIDES.as_bytes().to_vec(),
        )
        .await;
    assert!(m.content.contains("only reads the index"), "{}", m.content);
    assert!(
        reader
            .refuse_upload(Library::Shared, "tides.md", 10)
            .is_some()
    );
    assert!(!ws.content().join("tides.md").exists());
}

/// `index --watch`: a file saved into `content/` is indexed on its own; a broken one keeps
/// the rest of the index (and its own previous paragraphs).
#[test]
fn the_watching_writer_reindexes_changes_and_survives_a_broken_file() {
    let ws = Workspace::with_fixtures();
    let mut watcher = Watcher::start(&ws, &[("BRIEFBOT_CONTENT__WATCH_DELAY_MS", "150")]);
    watcher.until("Watching ");
    fs::write(ws.content().join("tides.md"), TIDES).unwrap();
    watcher.until("Paragraphs: 2 added");
    assert_eq!(ws.ask_json("Severn barrage")["hits"][0]["id"], "tides:1");

    // A broken edit of an indexed briefing, and a broken new file.
    fs::write(ws.content().join("tides.md"), b"\xff\xfe broken").unwrap();
    fs::write(ws.content().join("junk.txt"), b"\0\0\0").unwrap();
    watcher.until("Skipped 2 files:");
    assert_eq!(ws.ask_json("Severn barrage")["hits"][0]["id"], "tides:1");
    assert_eq!(
        ws.ask_json("cod quota")["hits"][0]["id"],
        "notes/fisheries:1"
    );
}

/// Regression (issue 13, item 9): `index --watch` rebuilt an unchanged index at every
/// start; the index keeps what it was built from, so a restart over the same content
/// does not rebuild, and one over changed content does.
#[test]
fn index_watch_starting_again_over_unchanged_content_does_not_rebuild() {
    let ws = Workspace::with_fixtures();
    assert!(ws.cmd().arg("index").output().unwrap().status.success());
    let built = ws.current_version();
    let first_lines = |ws: &Workspace| Watcher::start(ws, &[]).until("Watching ");
    let lines = first_lines(&ws);
    assert!(lines[0].contains("is up to date"), "{lines:?}");
    assert_eq!(ws.current_version(), built);

    fs::write(ws.content().join("tides.md"), TIDES).unwrap();
    let lines = first_lines(&ws);
    assert!(lines[0].starts_with("Indexed "), "{lines:?}");
    assert_ne!(ws.current_version(), built);
}
