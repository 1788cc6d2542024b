//! One index writer, many readers on one index folder (issue: scale out). The fleet of bot
//! processes on shard ranges is in `discord_e2e.rs`; here: the roles themselves.

mod common;

use briefbot::library::Rights;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use briefbot::app::{AppError, Writer};
use briefbot::config::{Role, Settings};
use briefbot::discord::bot::{Ask, Bot};
use common::{Workspace, audit, moderator};

fn reader_settings(ws: &Workspace) -> Settings {
    let mut s = ws.settings();
    s.index.role = Role::Reader;
    s.index.reload_ms = 50;
    s
}

#[test]
fn a_second_writer_is_refused_and_told_who_writes() {
    let ws = Workspace::with_fixtures();
    let first = Writer::acquire(&ws.settings(), "briefbot serve").unwrap();
    let err = Writer::acquire(&ws.settings(), "briefbot index")
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("another index writer is running") && err.contains("`briefbot serve`, pid"),
        "{err}"
    );
    // The one-shot `briefbot index` is a writer too.
    let out = ws.cmd().arg("index").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another index writer is running"));
    drop(first);
    assert!(ws.cmd().arg("index").output().unwrap().status.success());
}

#[test]
fn a_reader_never_builds_nor_rebuilds() {
    let ws = Workspace::with_fixtures();
    let out = ws
        .cmd()
        .env("BRIEFBOT_INDEX__ROLE", "reader")
        .args(["ask", "cod quota"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no index has been built") && err.contains("index reader"),
        "{err}"
    );
    assert!(!ws.index().join("CURRENT").exists());
    assert!(matches!(
        Writer::acquire(&reader_settings(&ws), "test"),
        Err(AppError::NotWriter)
    ));
    // Nor does `index --watch` run as one: it says so at once (it waited for an index,
    // then panicked, when it first kept the index through the bot's core).
    let out = ws
        .cmd()
        .env("BRIEFBOT_INDEX__ROLE", "reader")
        .args(["index", "--watch"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("only the writer rebuilds"), "{err}");
    assert!(!ws.index().join("CURRENT").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_refuses_reindex_and_points_at_the_writer() {
    let ws = Workspace::with_fixtures();
    let writer = Writer::acquire(&ws.settings(), "briefbot index --watch").unwrap();
    writer.rebuild(&ws.settings()).unwrap();
    let before = ws.current_version();
    let bot = Bot::new(reader_settings(&ws)).unwrap();
    assert!(!bot.is_writer());
    let m = bot
        .reindex(&moderator(), Rights::OPERATOR, None, false)
        .await;
    assert!(
        m.content.contains("only reads the index") && m.content.contains("index --watch"),
        "{}",
        m.content
    );
    assert_eq!(ws.current_version(), before);
    assert!(audit(&ws).is_empty(), "a reader changes nothing to audit");
}

/// 8 tasks ask a reader bot without pause while the writer publishes 30 versions that add
/// and remove a briefing: every answer is whole, and the reader follows every version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_follows_the_writer_and_never_sees_a_partial_index() {
    let ws = Workspace::with_fixtures();
    let settings = ws.settings();
    let writer = Writer::acquire(&settings, "test writer").unwrap();
    writer.rebuild(&settings).unwrap();
    let bot = Arc::new(Bot::new(reader_settings(&ws)).unwrap());
    let follower = tokio::spawn(bot.clone().keep_following_index());

    let done = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut askers = Vec::new();
    for i in 0..8 {
        let (bot, done, answered) = (bot.clone(), done.clone(), answered.clone());
        askers.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let m = bot
                    .ask(Ask {
                        question: "What cut was made to the cod quota?".into(),
                        offset: 0,
                        briefing: None,
                        ephemeral: false,
                        can_discuss: false,
                        asker: i,
                        guild: None,
                        counted: true,
                        anyway: false,
                    })
                    .await;
                let text = m.embed.map(|e| e.description).unwrap_or(m.content);
                assert!(text.contains("**cod**"), "asker {i}: {text}");
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let extra = ws.content().join("airships.md");
    let builder = tokio::task::spawn_blocking(move || {
        let mut versions = Vec::new();
        for n in 0..30 {
            if n % 2 == 0 {
                std::fs::write(
                    &extra,
                    format!("# Airships\n\nZeppelin number {n} flies.\n"),
                )
                .unwrap();
            } else {
                std::fs::remove_file(&extra).unwrap();
            }
            versions.push(writer.rebuild(&settings).unwrap().1.manifest.version);
        }
        versions
    });
    let versions = builder.await.unwrap();
    let last = versions.last().unwrap().clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while bot.engine().manifest().version != last {
        assert!(
            std::time::Instant::now() < deadline,
            "the reader never reached the last version"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    done.store(true, Ordering::Relaxed);
    for a in askers {
        a.await.unwrap();
    }
    follower.abort();
    assert!(answered.load(Ordering::Relaxed) >= 8);
    assert_eq!(bot.engine().manifest().briefings.len(), 4);
}

/// Regression (issue 13, item 1): a reader that finds the newly published version damaged
/// keeps answering from the version it has, says so once, and takes the next good one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_keeps_its_version_when_the_next_one_is_damaged() {
    let ws = Workspace::with_fixtures();
    let writer = Writer::acquire(&ws.settings(), "briefbot index --watch").unwrap();
    writer.rebuild(&ws.settings()).unwrap();
    let bot = Bot::new(reader_settings(&ws)).unwrap();
    let first = bot.engine().manifest().version.clone();

    std::fs::write(
        ws.content().join("extra.md"),
        "# Extra\n\nThe barrage opens at dawn.\n",
    )
    .unwrap();
    writer.rebuild(&ws.settings()).unwrap();
    let live = ws.index().join(ws.current_version().unwrap());
    let term = std::fs::read_dir(&live)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "term"))
        .unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(term)
        .unwrap()
        .set_len(7)
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            bot.follow_index().await,
            None,
            "a damaged version is never swapped in"
        );
    }
    assert_eq!(bot.engine().manifest().version, first);
    let m = bot.ask(Ask::new("cod quota cut", 1)).await;
    let footer = m.embed.and_then(|e| e.footer).unwrap_or_default();
    assert!(
        footer.contains(&first),
        "answered from the version it had: {footer}"
    );

    writer.rebuild(&ws.settings()).unwrap();
    let next = bot
        .follow_index()
        .await
        .expect("the next good version is taken");
    assert_ne!(next, first);
}

/// A reader that finds the writer's new version damaged (a changed byte: its footers read
/// back, so the writer, which reads only those of its own build, saw nothing) tells the
/// writer; `briefbot index --watch`, which answers no questions, confirms it, rebuilds,
/// and the reader takes the rebuilt version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_tells_a_watching_writer_of_damage_and_it_rebuilds() {
    use briefbot::index::damage;
    let ws = Workspace::with_fixtures();
    let writer = Writer::acquire(&ws.settings(), "test").unwrap();
    writer.rebuild(&ws.settings()).unwrap();
    let bot = Bot::new(reader_settings(&ws)).unwrap();
    std::fs::write(
        ws.content().join("extra.md"),
        "# Extra\n\nThe barrage opens at dawn.\n",
    )
    .unwrap();
    writer.rebuild(&ws.settings()).unwrap();
    drop(writer);
    // The watcher opens the new version whole, then it is damaged.
    let mut watcher = common::Watcher::start(&ws, &[]);
    watcher.until("Watching ");
    let damaged = change_a_byte_of_the_stored_text(&ws);
    assert_eq!(bot.follow_index().await, None);
    let told = damage::read(&ws.index())
        .expect("the writer is told")
        .unwrap();
    assert_eq!(format!("v-{}", told.version), damaged);
    assert!(told.reason.contains("checksum"), "{}", told.reason);

    watcher.until("A reader found the index damaged: rebuilt it");
    drop(watcher);
    assert!(damage::read(&ws.index()).is_none(), "the report is removed");
    let rebuilt = ws.current_version().unwrap();
    assert_ne!(rebuilt, damaged);
    assert_eq!(
        bot.follow_index().await,
        rebuilt.strip_prefix("v-").map(String::from)
    );
    let m = bot.ask(Ask::new("barrage dawn", 1)).await;
    assert!(m.embed.is_some(), "no answer: {}", m.content);
}

/// `index --watch` opens the index as a writer bot does, reading every file against its
/// checksum: a damaged one is rebuilt at its start, and it says so.
#[test]
fn a_watching_writer_rebuilds_an_index_it_finds_damaged_at_its_start() {
    let ws = Workspace::with_fixtures();
    assert!(ws.cmd().arg("index").output().unwrap().status.success());
    let damaged = change_a_byte_of_the_stored_text(&ws);
    let mut watcher = common::Watcher::start(&ws, &[]);
    let lines = watcher.until("Watching ");
    assert!(
        lines[0].starts_with("Indexed ") && lines[0].contains("does not match its checksum"),
        "{lines:?}"
    );
    assert_ne!(ws.current_version().unwrap(), damaged);
}

/// Changes a byte in the middle of the live version's stored text (its footer reads back:
/// only its checksum tells); the version's name.
fn change_a_byte_of_the_stored_text(ws: &Workspace) -> String {
    let damaged = ws.current_version().unwrap();
    let store = common::segment_file(&ws.index().join(&damaged), "store");
    let mut bytes = std::fs::read(&store).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&store, bytes).unwrap();
    damaged
}
