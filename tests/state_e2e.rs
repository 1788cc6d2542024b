//! The bot's state database seen from Discord, with the real bot behind the fake Discord:
//! three shard processes scoring quiz answers and votes into one database at once, scores,
//! settings and the audit trail surviving SIGTERM and SIGKILL, and a database that cannot
//! be reached. SQLite always; PostgreSQL too when `BRIEFBOT_TEST_POSTGRES_URL` is set.

mod common;

use common::e2e::*;
use common::fake_discord::{FakeDiscord, member};
use common::state::{TestDb, every_backend};
use common::{Workspace, audit, feedback};
use serde_json::{Value, json};

const SLUG: &str = "us-japan-indo-pacific";
const QUESTION: &str = "**Q:** What is J-JOC?";

/// `briefbot serve` in a new workspace, with its state in `db`; `extra` goes into
/// `[discord]`.
async fn bot_on(fake: &FakeDiscord, db: &str, extra: &str) -> Bot {
    let extra =
        format!("cooldown_actions = 1000\n{extra}\n[state]\nurl = {db:?}\ntimeout_seconds = 2\n");
    start_in(
        fake,
        Workspace::with_bundled_briefing(),
        &extra,
        "warn,briefbot=info",
    )
    .await
}

/// The quiz of seed 5 from the bot behind `fake`: its (right, wrong) choice buttons.
async fn quiz_buttons(fake: &FakeDiscord, bot: &Bot) -> (String, String) {
    let out = bot
        .ws
        .cmd()
        .args(["quiz", "--json", "--seed", "5"])
        .output()
        .unwrap();
    let expected: Value = serde_json::from_slice(&out.stdout).unwrap();
    let answer = expected["answer"].as_u64().unwrap() as usize;
    let (id, _) = command(
        fake,
        "quiz",
        json!([{"name": "play", "type": 1, "options": [{"name": "seed", "type": 4, "value": 5}]}]),
        member(ASKER, 0, &[]),
    );
    let ids = component_ids(&reply_to(fake, id, "the quiz").await.body);
    (ids[answer].clone(), ids[(answer + 1) % 4].clone())
}

/// `/leaderboard period:all` as a member sees it.
async fn leaderboard(fake: &FakeDiscord) -> String {
    let asked = command(
        fake,
        "leaderboard",
        json!([{"name": "period", "type": 4, "value": 2}]),
        member(OTHER, 0, &[]),
    );
    answer_text(fake, asked, "the leaderboard").await
}

/// `/settings` with `options`, by a server admin.
async fn settings(fake: &FakeDiscord, options: Value, resolved: Value) -> String {
    let asked = command_with(
        fake,
        "settings",
        options,
        resolved,
        member(ASKER, MANAGE_GUILD, &[]),
    );
    answer_text(fake, asked, "the settings").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_score_every_answer_and_vote_once_in_one_database() {
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        let fakes = [
            FakeDiscord::start().await,
            FakeDiscord::start().await,
            FakeDiscord::start().await,
        ];
        let mut bots = Vec::new();
        for (shard, fake) in fakes.iter().enumerate() {
            let extra = format!("shards = {{ total = 3, range = [{shard}, {shard}] }}");
            bots.push(bot_on(fake, &db.url, &extra).await);
        }
        let (right, wrong) = quiz_buttons(&fakes[0], &bots[0]).await;

        // Four quiz messages, five members; every press reaches all three processes at
        // once (as a retried or duplicated delivery would). Odd members answer right.
        let mut presses = Vec::new();
        let mut next = 7_000_000;
        for message in 9000..9004 {
            for member in 5000..5005u64 {
                for (i, fake) in fakes.iter().enumerate() {
                    next += 1;
                    let pick = if member % 2 == 1 { &right } else { &wrong };
                    press_as(fake, pick, "", member, next, message);
                    presses.push((i, next));
                }
            }
        }
        let (mut counted, mut again) = (0, 0);
        for (i, id) in presses {
            let text = shown(&reply_to(&fakes[i], id, "a quiz answer").await.body);
            if text.contains("Your score in this channel") {
                counted += 1;
            } else if text.contains("already answered") {
                again += 1;
            } else {
                panic!("{}: {text}", db.name);
            }
        }
        assert_eq!((counted, again), (20, 40), "{}", db.name);

        // Every process shows the same scores: 4/4 for the odd members, 0/4 for the rest.
        let boards = [
            leaderboard(&fakes[0]).await,
            leaderboard(&fakes[1]).await,
            leaderboard(&fakes[2]).await,
        ];
        assert_eq!(boards[0], boards[1], "{}", db.name);
        assert_eq!(boards[1], boards[2], "{}", db.name);
        assert!(
            boards[0].contains("1. <@5001> — 4/4\n2. <@5003> — 4/4\n3. <@5000> — 0/4"),
            "{}: {}",
            db.name,
            boards[0]
        );

        // Ten votes on each process, and five more delivered to all three: 35 recorded.
        let vote = format!("bb1:vote:up:{SLUG}:5");
        let mut votes = Vec::new();
        for (i, fake) in fakes.iter().enumerate() {
            for v in 0..10 {
                let id = 8_000_000 + 100 * i as u64 + v;
                press_as(fake, &vote, QUESTION, 6000 + v, id, 9100);
                votes.push((i, id));
            }
        }
        for v in 0..5 {
            for (i, fake) in fakes.iter().enumerate() {
                let id = 8_900_000 + v;
                press_as(fake, &vote, QUESTION, 6100 + v, id, 9100);
                votes.push((i, id));
            }
        }
        for (i, id) in votes {
            let text = shown(&reply_to(&fakes[i], id, "a vote's reply").await.body);
            assert!(text.contains("recorded"), "{}: {text}", db.name);
        }
        let recorded = feedback(&bots[0].ws);
        assert_eq!(recorded.len(), 35, "{}", db.name);
        assert!(
            recorded.iter().all(|v| v["question"] == "What is J-JOC?"),
            "{recorded:?}"
        );
    }
}

/// What must survive a restart: the leaderboard, the server's settings, the audit trail.
async fn snapshot(fake: &FakeDiscord, bot: &Bot) -> (String, String, Vec<Value>) {
    (
        leaderboard(fake).await,
        settings(fake, json!([]), json!({})).await,
        audit(&bot.ws),
    )
}

async fn restart_keeps_the_state(db: &TestDb) {
    let fake = FakeDiscord::start().await;
    let bot = bot_on(&fake, &db.url, "").await;
    let (right, wrong) = quiz_buttons(&fake, &bot).await;
    press_as(&fake, &right, "", 5001, 1, 9000);
    press_as(&fake, &wrong, "", 5002, 2, 9000);
    press_as(&fake, &right, "", 5001, 3, 9001);
    for id in 1..=3 {
        reply_to(&fake, id, "a quiz answer").await;
    }
    let role = json!({"id": "777", "name": "Tutors", "color": 0, "hoist": false,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "icon": null, "unicode_emoji": null, "position": 1, "permissions": "0",
        "managed": false, "mentionable": false, "flags": 0});
    let saved = settings(
        &fake,
        json!([{"name": "moderator_role", "type": 8, "value": "777"},
               {"name": "cooldown_questions", "type": 4, "value": 3},
               {"name": "term_start", "type": 3, "value": "2026-09-01"},
               {"name": "default_briefing", "type": 3, "value": SLUG}]),
        json!({"roles": {"777": role}}),
    )
    .await;
    assert!(
        saved.contains("Settings saved")
            && saved.contains("<@&777>")
            && saved.contains("3 questions per")
            && saved.contains("2026-09-01")
            && saved.contains(SLUG),
        "{}: {saved}",
        db.name
    );
    // A member with the server's moderator role may reindex: the change is audited.
    let asked = command(&fake, "reindex", json!([]), member(OTHER, 0, &[777]));
    let report = answer_text(&fake, asked, "the reindex").await;
    assert!(report.contains("Reindexed"), "{report}");
    let before = snapshot(&fake, &bot).await;
    assert!(
        before.0.contains("1. <@5001> — 2/2\n2. <@5002> — 0/1"),
        "{}",
        before.0
    );
    let actions: Vec<&str> = before
        .2
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["settings", "reindex"], "{}", db.name);

    // SIGTERM, then a new process on the same database; SIGKILL, then again.
    let mut bot = bot;
    for stop in ["SIGTERM", "SIGKILL"] {
        if stop == "SIGTERM" {
            assert!(terminate(&mut bot.child).success());
        } else {
            bot.child.kill().unwrap();
            bot.child.wait().unwrap();
        }
        drop(bot);
        let fake = FakeDiscord::start().await;
        bot = bot_on(&fake, &db.url, "").await;
        let after = snapshot(&fake, &bot).await;
        assert_eq!(after, before, "{}: after {stop}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_settings_and_the_audit_trail_survive_sigterm_and_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    for db in every_backend(dir.path()) {
        restart_keeps_the_state(&db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_database_the_bot_still_answers_and_says_what_is_unavailable() {
    let fake = FakeDiscord::start().await;
    // Nothing listens on port 1.
    let bot = bot_on(&fake, "postgres://briefbot@127.0.0.1:1/state", "").await;
    let answer = ask_slash(&fake, "What is J-JOC?").await;
    assert!(answer.contains("J-JOC"), "{answer}");

    let board = leaderboard(&fake).await;
    assert!(board.contains("Scores are unavailable for now"), "{board}");
    let s = settings(&fake, json!([]), json!({})).await;
    assert!(s.contains("Settings are unavailable for now"), "{s}");
    press_as(
        &fake,
        &format!("bb1:vote:up:{SLUG}:5"),
        QUESTION,
        OTHER,
        1,
        9100,
    );
    let vote = shown(&reply_to(&fake, 1, "the vote").await.body);
    assert!(vote.contains("Votes are unavailable for now"), "{vote}");
    let (right, _) = quiz_buttons(&fake, &bot).await;
    press_as(&fake, &right, "", OTHER, 2, 9000);
    let scored = shown(&reply_to(&fake, 2, "the quiz answer").await.body);
    assert!(
        scored.contains("✅ **Right**") && scored.contains("Scores are unavailable for now"),
        "{scored}"
    );
    // A content change is still audited: into the old audit file, read in at the next start.
    let asked = command(
        &fake,
        "reindex",
        json!([]),
        member(ASKER, MANAGE_GUILD, &[]),
    );
    assert!(
        answer_text(&fake, asked, "the reindex")
            .await
            .contains("Reindexed")
    );
    let kept = std::fs::read_to_string(bot.ws.path().join("audit.jsonl")).unwrap();
    assert!(kept.contains("\"action\":\"reindex\""), "{kept}");
    let log = std::fs::read_to_string(bot.ws.path().join("bot.log")).unwrap();
    assert!(
        log.contains("starting without the state database") && log.contains("127.0.0.1:1"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

/// `/ask` in `guild` by `by`; what the answer shows.
async fn ask_in(fake: &FakeDiscord, guild: u64, question: &str, by: u64) -> String {
    let asked = command_in(
        fake,
        guild,
        "ask",
        json!([{"name": "question", "type": 3, "value": question}]),
        json!({}),
        member(by, 0, &[]),
    );
    answer_text(fake, asked, "an answer").await
}

/// Waits until the state database behind `pool` holds `n` unanswered questions.
async fn wait_for_rows(pool: &sqlx::AnyPool, n: usize) {
    for _ in 0..1000 {
        let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM unanswered")
            .fetch_one(pool)
            .await
            .unwrap();
        if rows as usize >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the bot did not record {n} unanswered questions within 10 s");
}

/// `/gaps` by `who` (a member value) in the fake's server: what it shows, and its buttons.
async fn gaps_report(fake: &FakeDiscord, who: Value) -> (String, Vec<String>) {
    let (id, token) = command(fake, "gaps", json!([]), who);
    let prefix = format!("/interactions/{id}/");
    let r = fake
        .wait_for(0, "the report", |r| {
            (r.path.starts_with(&prefix) && r.body["type"] == 4) || is_answer_to(r, &token)
        })
        .await;
    (shown(&r.body), component_ids(&r.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_see_what_their_members_could_not_find_grouped_by_topic() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::state::sqlite(dir.path());
    let fake = FakeDiscord::start().await;
    let _bot = bot_on(&fake, &db.url, "cooldown_questions = 1000").await;
    // 32 questions on 4 topics the bundled briefing (US–Japan defence) does not cover, from
    // 8 members, asked in this server.
    let (questions, topics) = common::gaps_fixture("questions.jsonl");
    let mut refused: Vec<(&str, &str)> = Vec::new();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    for (i, (q, t)) in questions.iter().zip(&topics).enumerate() {
        let shown = ask_in(
            &fake,
            common::fake_discord::GUILD_ID,
            q,
            5000 + i as u64 % 8,
        )
        .await;
        if shown.contains("The briefings do not cover this question") {
            refused.push((q, t));
            // The bot records the question in the background after answering, timed in
            // seconds: wait for it, so that rows keep the order the questions were asked
            // in (the report's examples are a group's newest three).
            wait_for_rows(&pool, refused.len()).await;
        }
    }
    assert!(refused.len() >= 28, "{} of 32 refused", refused.len());
    // A member who turned recording off, and another server: neither is in this report.
    let asked = command(
        &fake,
        "privacy",
        json!([{"name": "questions", "type": 5, "value": false}]),
        member(6001, 0, &[]),
    );
    assert!(
        answer_text(&fake, asked, "/privacy")
            .await
            .contains("will not be recorded")
    );
    let private = "Is the tidal barrage on the Severn a secret?";
    assert!(
        ask_in(&fake, common::fake_discord::GUILD_ID, private, 6001)
            .await
            .contains("do not cover")
    );
    // Chatter with nothing to look for is refused, and is no gap in the briefings: it is
    // neither counted nor recorded.
    for chatter in ["what is it", "is that so"] {
        assert!(
            ask_in(&fake, common::fake_discord::GUILD_ID, chatter, 6005)
                .await
                .contains("Nothing in this question says what to look for")
        );
    }
    let elsewhere = "How loud are tidal turbines for whales?";
    assert!(
        ask_in(&fake, 2999, elsewhere, 6002)
            .await
            .contains("do not cover")
    );

    // Two 👎 on an answer: one with a reason given in the modal, one without.
    let down = format!("bb1:vote:down:{SLUG}:5");
    press_as(&fake, &down, QUESTION, 6003, 7_100_001, 9200);
    let modal = reply_to(&fake, 7_100_001, "the reason modal").await;
    assert_eq!(modal.body["type"], 9, "a modal: {}", modal.body);
    assert_eq!(modal.body["data"]["custom_id"], "bb1why:7100001");
    let submitted = submit_modal(
        &fake,
        "bb1why:7100001",
        &[("kind", "outdated"), ("text", "These are 2023 plans")],
        6003,
    );
    let thanks = shown(&reply_to(&fake, submitted, "the reason's thanks").await.body);
    assert!(thanks.contains("“outdated”"), "{thanks}");
    press_as(&fake, &down, QUESTION, 6004, 7_100_002, 9200);
    reply_to(&fake, 7_100_002, "the second modal").await;

    // A member who is not a moderator is refused; a moderator reads the report.
    let (refusal, _) = gaps_report(&fake, member(OTHER, 0, &[])).await;
    assert!(refusal.contains("Only moderators"), "{refusal}");
    let (report, buttons) = gaps_report(&fake, member(ASKER, MANAGE_GUILD, &[])).await;
    let unanswered = refused.len() + 2;
    assert!(
        report.contains(&format!(
            "{unanswered} of {} questions went unanswered",
            32 + 1
        )),
        "{report}"
    );
    // The four largest groups are the four topics: each group's examples are mostly of
    // one topic, a different one for each group.
    let topic_of = |q: &str| refused.iter().find(|(r, _)| *r == q).map(|(_, t)| *t);
    let mut majorities: Vec<&str> = Vec::new();
    for block in report.split("\n**").skip(1).take(4) {
        let examples: Vec<&str> = block
            .lines()
            .filter_map(|l| l.strip_prefix("> "))
            .filter_map(topic_of)
            .collect();
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for t in &examples {
            match counts.iter_mut().find(|(c, _)| c == t) {
                Some((_, n)) => *n += 1,
                None => counts.push((t, 1)),
            }
        }
        counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        majorities.push(counts[0].0);
    }
    majorities.sort_unstable();
    assert_eq!(
        majorities,
        ["fishing", "rent", "tidal", "trains"],
        "{report}"
    );
    // The rest, with the 👎 and its reason, is on the next page; nothing of the member who
    // turned recording off, nor of the other server.
    assert_eq!(buttons.len(), 1, "{buttons:?}");
    let next = fake.next_id();
    press_by(&fake, &buttons[0], member(OTHER, 0, &[]), next);
    let refusal = shown(&reply_to(&fake, next, "a member's press").await.body);
    assert!(refusal.contains("Only moderators"), "{refusal}");
    let next = fake.next_id() + 10;
    press_by(&fake, &buttons[0], member(ASKER, MANAGE_GUILD, &[]), next);
    let page = reply_to(&fake, next, "the next page").await;
    let page2 = shown(&page.body);
    assert!(
        page2.contains("👎 *outdated*: “These are 2023 plans” — on “What is J-JOC?”")
            && page2.contains("2 questions** (0 not covered, 2 👎)"),
        "{page2}"
    );
    for text in [&report, &page2] {
        assert!(
            !text.contains("secret") && !text.contains("whales") && !text.contains("that so"),
            "{text}"
        );
    }
    let stored = common::feedback(&_bot.ws);
    assert_eq!(stored.len(), 2, "the two 👎 are votes too");
}

/// A database migrated by a newer briefbot is never written into: `serve` stops at start,
/// and `briefbot audit` too, each saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_a_newer_briefbot_stops_the_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::state::sqlite(dir.path());
    let store = briefbot::state::Store::open_url(&db.url, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    store.close().await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', TRUE, $1, 1)",
    )
    .bind(vec![0u8; 48])
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let ws = Workspace::with_bundled_briefing();
    std::fs::write(
        ws.config(),
        format!(
            "[discord]\nhttp_proxy = \"http://127.0.0.1:9\"\n[state]\nurl = {:?}\n",
            db.url
        ),
    )
    .unwrap();
    let out = common::briefbot()
        .current_dir(ws.path())
        .args(["--config", ws.config().to_str().unwrap(), "serve"])
        .env("DISCORD_TOKEN", TOKEN)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("newer than this briefbot knows"), "{err}");
    let out = ws.cmd().arg("audit").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("upgrade briefbot"));
}
