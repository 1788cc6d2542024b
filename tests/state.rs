//! The state database through the library: quiz answers, leaderboards, per-server settings,
//! the audit trail, votes, the one-time import of an older briefbot's files, a schema newer
//! than the binary and a database that cannot be reached. Every test runs on SQLite, and on
//! PostgreSQL too when `BRIEFBOT_TEST_POSTGRES_URL` is set.

mod common;

use std::time::Duration;

use briefbot::state::audit::{self, Entry, Filter};
use briefbot::state::guilds::{self, Change};
use briefbot::state::quiz::{self, Period, QuizAnswer, Scope, Standing};
use briefbot::state::votes::{self, Vote};
use briefbot::state::{StateError, Store, import};
use common::state::{TestDb, every_backend};

const TIMEOUT: Duration = Duration::from_secs(10);

async fn open(db: &TestDb) -> Store {
    Store::open_url(&db.url, TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name))
}

fn answer(message: u64, member: u64, channel: u64, correct: bool, at: i64) -> QuizAnswer {
    QuizAnswer {
        message,
        member,
        guild: Some(9),
        channel,
        passage: format!("tides:{message}"),
        correct,
        at,
    }
}

#[tokio::test]
async fn quiz_answers_count_once_and_make_the_leaderboard() {
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        let store = open(&db).await;
        let now = briefbot::state::now();
        let old = now - 30 * 24 * 3600;
        // Member 1: 2 of 3 this week; member 2: 2 of 2, one of them a month ago; member 3
        // in another channel of the same server.
        for a in [
            answer(100, 1, 50, true, now),
            answer(101, 1, 50, true, now),
            answer(102, 1, 50, false, now),
            answer(100, 2, 50, true, now),
            answer(90, 2, 50, true, old),
            answer(200, 3, 60, true, now),
        ] {
            assert!(quiz::record(&store, &a).await.unwrap(), "{}", db.name);
        }
        // A second answer to the same question does not count, right or wrong.
        assert!(
            !quiz::record(&store, &answer(102, 1, 50, true, now))
                .await
                .unwrap()
        );

        let week = Period::Week.since(now, None);
        let board = quiz::leaderboard(&store, Scope::Channel(50), week, 20)
            .await
            .unwrap();
        assert_eq!(
            board,
            [
                Standing {
                    member: 1,
                    correct: 2,
                    answered: 3
                },
                Standing {
                    member: 2,
                    correct: 1,
                    answered: 1
                },
            ],
            "{}",
            db.name
        );
        let all = quiz::leaderboard(&store, Scope::Channel(50), None, 20)
            .await
            .unwrap();
        assert_eq!(
            all[0],
            Standing {
                member: 2,
                correct: 2,
                answered: 2
            },
            "{}",
            db.name
        );
        let server = quiz::leaderboard(&store, Scope::Guild(9), week, 20)
            .await
            .unwrap();
        assert_eq!(server.len(), 3, "{}", db.name);
        assert_eq!(
            quiz::score(&store, Scope::Guild(9), 1, None).await.unwrap(),
            Standing {
                member: 1,
                correct: 2,
                answered: 3
            }
        );
        let recent = quiz::recent(&store, Scope::Guild(9), 2, 10).await.unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].passage, "tides:100", "newest first");
        // A term that began before the old answer counts it; the default term does too.
        let term = Period::Term.since(now, Some(old - 1));
        assert_eq!(
            quiz::leaderboard(&store, Scope::Channel(50), term, 20)
                .await
                .unwrap()[0]
                .member,
            2
        );
        store.close().await;
    }
}

#[tokio::test]
async fn answers_from_many_connections_at_once_are_neither_lost_nor_doubled() {
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        // Three stores (as three processes would open), each answering every question
        // for 20 members, all at once: every (question, member) counts exactly once.
        let stores: Vec<Store> = futures_join(3, |_| open(&db)).await;
        let now = briefbot::state::now();
        let mut tasks = Vec::new();
        for store in &stores {
            for member in 0..20u64 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    let mut counted = 0;
                    for message in 0..5u64 {
                        let a = answer(1000 + message, member, 7, message % 2 == 0, now);
                        counted += u32::from(quiz::record(&store, &a).await.unwrap());
                    }
                    counted
                }));
            }
        }
        let mut counted = 0;
        for t in tasks {
            counted += t.await.unwrap();
        }
        assert_eq!(counted, 100, "{}", db.name);
        for store in &stores {
            let board = quiz::leaderboard(store, Scope::Channel(7), None, 100)
                .await
                .unwrap();
            assert_eq!(board.len(), 20, "{}", db.name);
            assert!(
                board.iter().all(|s| s.answered == 5 && s.correct == 3),
                "{board:?}"
            );
        }
    }
}

async fn futures_join<F, Fut>(n: usize, f: F) -> Vec<Store>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Store>,
{
    let mut out = Vec::new();
    for i in 0..n {
        out.push(f(i).await);
    }
    out
}

#[tokio::test]
async fn server_settings_change_one_column_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        let store = open(&db).await;
        let fresh = guilds::get(&store, 9).await.unwrap();
        assert!(
            fresh.shared_library && fresh.moderator_role.is_none(),
            "{}",
            db.name
        );
        guilds::update(&store, 9, &[Change::ModeratorRole(Some(555))], 1, 10)
            .await
            .unwrap();
        let s = guilds::update(
            &store,
            9,
            &[
                Change::DefaultBriefing(Some("tides".into())),
                Change::CooldownQuestions(Some(2)),
                Change::TermStart(Some(1_700_000_000)),
            ],
            2,
            11,
        )
        .await
        .unwrap();
        assert_eq!(s.moderator_role, Some(555), "{}: kept", db.name);
        assert_eq!(s.default_briefing.as_deref(), Some("tides"));
        assert_eq!(s.cooldown_questions, Some(2));
        assert_eq!(s.term_start, Some(1_700_000_000));
        let s = guilds::update(&store, 9, &[Change::ModeratorRole(None)], 1, 12)
            .await
            .unwrap();
        assert_eq!(s.moderator_role, None);
        assert_eq!(s.default_briefing.as_deref(), Some("tides"));
        // Another server is untouched.
        assert_eq!(
            guilds::get(&store, 10).await.unwrap().default_briefing,
            None
        );
    }
}

fn entry(at: i64, guild: Option<u64>, action: &str) -> Entry {
    Entry {
        at,
        actor: 77,
        actor_name: "mod".into(),
        guild,
        action: action.into(),
        target: "tides.md".into(),
        outcome: "added as tides (1 paragraphs)".into(),
    }
}

#[tokio::test]
async fn the_audit_trail_and_votes_are_kept_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        let store = open(&db).await;
        audit::record(&store, &entry(10, Some(9), "briefing add"))
            .await
            .unwrap();
        audit::record(&store, &entry(20, Some(8), "reindex"))
            .await
            .unwrap();
        audit::record(&store, &entry(30, Some(9), "briefing remove"))
            .await
            .unwrap();
        let mine = audit::list(
            &store,
            &Filter {
                guild: Some(9),
                since: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
        let actions: Vec<&str> = mine.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["briefing remove", "briefing add"], "{}", db.name);
        let since = audit::list(
            &store,
            &Filter {
                guild: None,
                since: Some(20),
                limit: 10,
            },
        )
        .await
        .unwrap();
        assert_eq!(since.len(), 2);

        let vote = |interaction, up| Vote {
            at: 40,
            interaction: Some(interaction),
            guild: Some(9),
            question: "How much electricity?".into(),
            passage: "tides:1".into(),
            up,
            index_version: Some("abc".into()),
        };
        assert!(votes::record(&store, &vote(1, true)).await.unwrap());
        assert!(
            !votes::record(&store, &vote(1, true)).await.unwrap(),
            "the same press"
        );
        assert!(votes::record(&store, &vote(2, false)).await.unwrap());
        let all = votes::list(&store, None, 100).await.unwrap();
        assert_eq!(all.len(), 2, "{}", db.name);
        assert_eq!((all[0].up, all[1].up), (true, false));
        assert_eq!(all[0].index_version.as_deref(), Some("abc"));
    }
}

#[tokio::test]
async fn an_older_briefbots_files_are_read_in_once_and_renamed() {
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        let store = open(&db).await;
        let files = tempfile::tempdir().unwrap();
        let audit_file = files.path().join("audit.jsonl");
        let lines = "{\"time\":\"2026-11-01T10:00:00Z\",\"actor\":{\"id\":77,\"name\":\"mod\",\"guild\":5},\"action\":\"briefing add\",\"target\":\"tides.md\",\"outcome\":\"added as tides (1 paragraphs)\"}\n\
                     not json at all\n\
                     {\"time\":\"2026-11-02T10:00:00Z\",\"actor\":{\"id\":78,\"name\":\"other\",\"guild\":null},\"action\":\"reindex\",\"target\":\"content\",\"outcome\":\"failed\"}\n";
        std::fs::write(&audit_file, lines).unwrap();
        let done = import::import_file(&store, &audit_file, import::Kind::Audit)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((done.lines, done.skipped), (2, 1), "{}", db.name);
        assert!(!audit_file.exists());
        let renamed = files.path().join("audit.jsonl.imported");
        assert_eq!(
            std::fs::read_to_string(&renamed).unwrap(),
            lines,
            "kept whole"
        );
        let listed = audit::list(
            &store,
            &Filter {
                limit: 10,
                ..Filter::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].actor_name, "mod");
        assert_eq!(listed[1].guild, Some(5));
        assert_eq!(
            briefbot::state::rfc3339(listed[1].at),
            "2026-11-01T10:00:00Z"
        );

        // The same file again (its rename was undone) is only renamed.
        std::fs::rename(&renamed, &audit_file).unwrap();
        let again = import::import_file(&store, &audit_file, import::Kind::Audit)
            .await
            .unwrap();
        assert!(again.is_none());
        assert!(!audit_file.exists());
        assert_eq!(
            audit::list(
                &store,
                &Filter {
                    limit: 10,
                    ..Filter::default()
                }
            )
            .await
            .unwrap()
            .len(),
            2
        );

        let feedback = files.path().join("feedback.jsonl");
        std::fs::write(
            &feedback,
            "{\"time\":\"2026-11-03T10:00:00Z\",\"question\":\"q\",\"passage\":\"tides:1\",\"vote\":\"down\"}\n",
        )
        .unwrap();
        let done = import::import_file(&store, &feedback, import::Kind::Votes)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(done.lines, 1);
        let v = votes::list(&store, None, 10).await.unwrap();
        assert_eq!(
            (v.len(), v[0].up, v[0].passage.as_str()),
            (1, false, "tides:1")
        );
    }
}

#[tokio::test]
async fn a_schema_newer_than_this_briefbot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        let store = open(&db).await;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'from the future', TRUE, $1, 1)",
        )
        .bind(vec![0u8; 48])
        .execute(&sqlx::AnyPool::clone(&any_pool(&db).await))
        .await
        .unwrap();
        store.close().await;
        let err = Store::open_url(&db.url, TIMEOUT).await.unwrap_err();
        assert!(
            matches!(
                err,
                StateError::SchemaTooNew {
                    version: 99990101000000,
                    ..
                }
            ),
            "{}: {err}",
            db.name
        );
        assert!(
            err.to_string().contains("newer than this briefbot"),
            "{err}"
        );
    }
}

async fn any_pool(db: &TestDb) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&db.url).await.unwrap()
}

#[tokio::test]
async fn an_unreachable_database_is_reported_within_the_timeout() {
    // Nothing listens on port 1.
    let err = Store::open_url(
        "postgres://briefbot@127.0.0.1:1/state",
        Duration::from_secs(2),
    )
    .await
    .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(
        err.to_string()
            .contains("postgres://briefbot@127.0.0.1:1/state"),
        "{err}"
    );
}

/// A SQLite file that is damaged, or no database at all, is reported at once in SQLite's
/// words, with what to do, and left as it is. Before, the pool retried it until the
/// timeout, logging each try, and then said only "pool timed out while waiting for an
/// open connection".
#[tokio::test]
async fn a_sqlite_file_that_is_not_a_database_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let note = "not a database: a note saved under the database's name, long enough \
                to hold SQLite's header of one hundred bytes, and some more words after it";
    std::fs::write(&path, note).unwrap();
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let err = Store::open_url(&url, Duration::from_secs(2))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("file is not a database"), "{text}");
    assert!(text.contains("move it aside"), "{text}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), note);
}

fn unanswered(at: i64, guild: Option<u64>, question: &str) -> briefbot::state::gaps::Unanswered {
    briefbot::state::gaps::Unanswered {
        at,
        guild,
        kind: briefbot::state::gaps::Kind::Refused,
        question: question.into(),
        index_version: Some("v1".into()),
        nearest: vec!["Energy".into(), "Rail".into()],
        passage: None,
        reason_kind: None,
        reason: None,
        interaction: None,
    }
}

#[tokio::test]
async fn unanswered_questions_are_kept_per_server_with_privacy_and_counts() {
    use briefbot::state::gaps::{self, Window};
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        let store = open(&db).await;
        let day = 24 * 3600;
        let now = 100 * day;
        for (at, guild, q) in [
            (now - 2 * day, Some(9), "Is tidal power cheap?"),
            (now - day, Some(9), "Who pays for tidal power?"),
            (now - day, Some(8), "Another server's question"),
            (now - 40 * day, Some(9), "An older question"),
        ] {
            assert!(
                gaps::record(&store, &unanswered(at, guild, q))
                    .await
                    .unwrap()
            );
        }
        for _ in 0..5 {
            gaps::count_question(&store, Some(9), now - day)
                .await
                .unwrap();
        }
        gaps::count_question(&store, None, now - day).await.unwrap();
        let month = Window {
            guild: Some(9),
            since: now - 30 * day,
            until: now,
        };
        let rows = gaps::list(&store, month, 100).await.unwrap();
        let questions: Vec<&str> = rows.iter().map(|r| r.question.as_str()).collect();
        assert_eq!(
            questions,
            ["Is tidal power cheap?", "Who pays for tidal power?"],
            "{}",
            db.name
        );
        assert_eq!(rows[0].nearest, ["Energy", "Rail"]);
        assert_eq!(gaps::asked(&store, month).await.unwrap(), 5, "{}", db.name);
        let everywhere = Window {
            guild: None,
            ..month
        };
        assert_eq!(gaps::asked(&store, everywhere).await.unwrap(), 6);

        // A 👎's reason is attached to it by its press.
        let mut down = unanswered(now - day, Some(9), "What is J-JOC?");
        down.kind = gaps::Kind::Down;
        down.interaction = Some(77);
        assert!(gaps::record(&store, &down).await.unwrap());
        assert!(
            !gaps::record(&store, &down).await.unwrap(),
            "the same press once"
        );
        assert!(
            gaps::add_reason(&store, 77, "outdated", Some("old"))
                .await
                .unwrap()
        );
        let rows = gaps::list(&store, month, 100).await.unwrap();
        let d = rows.iter().find(|r| r.interaction == Some(77)).unwrap();
        assert_eq!(
            (d.reason_kind.as_deref(), d.reason.as_deref()),
            (Some("outdated"), Some("old"))
        );

        // Recording is on by default; a member and a server can each turn it off.
        assert!(gaps::may_record(&store, 1, Some(9)).await.unwrap());
        gaps::set_member_recording(&store, 1, false, now)
            .await
            .unwrap();
        assert!(
            !gaps::may_record(&store, 1, Some(9)).await.unwrap(),
            "{}",
            db.name
        );
        assert!(
            !gaps::may_record(&store, 1, None).await.unwrap(),
            "in DMs too"
        );
        gaps::set_server_recording(&store, 9, false, 2, now)
            .await
            .unwrap();
        assert!(!gaps::may_record(&store, 3, Some(9)).await.unwrap());
        assert!(gaps::may_record(&store, 3, Some(8)).await.unwrap());
        gaps::set_member_recording(&store, 1, true, now)
            .await
            .unwrap();
        assert!(gaps::may_record(&store, 1, Some(8)).await.unwrap());
        // The server's other settings are untouched by its recording switch.
        let s = guilds::get(&store, 9).await.unwrap();
        assert!(!s.record_questions && s.shared_library);
    }
}

#[tokio::test]
async fn unanswered_questions_past_keep_days_are_deleted() {
    use briefbot::state::gaps::{self, Window};
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        let store = open(&db).await;
        let day = 24 * 3600;
        // The clock is a parameter: "now" is day 1000.
        let now = 1000 * day;
        for age in [120, 91, 89, 1] {
            let q = format!("{age} days old");
            gaps::record(&store, &unanswered(now - age * day, Some(9), &q))
                .await
                .unwrap();
            gaps::count_question(&store, Some(9), now - age * day)
                .await
                .unwrap();
        }
        assert_eq!(
            gaps::prune(&store, now, 90).await.unwrap(),
            2,
            "{}",
            db.name
        );
        let all = Window {
            guild: None,
            since: 0,
            until: now + 1,
        };
        let left: Vec<String> = gaps::list(&store, all, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.question)
            .collect();
        assert_eq!(left, ["89 days old", "1 days old"], "{}", db.name);
        assert_eq!(
            gaps::asked(&store, all).await.unwrap(),
            2,
            "the counts go too"
        );
        assert_eq!(gaps::prune(&store, now, 90).await.unwrap(), 0);
    }
}
