//! The real bot (`briefbot serve`: serenity + poise) driven through a fake Discord on
//! 127.0.0.1: slash commands, mentions, DMs, threads, buttons, moderators, mentions that
//! must not ping, a dropped connection, and the cooldown. Offline; every wait times out.

mod common;

use std::process::{Child, Stdio};

use common::e2e::*;
use common::fake_discord::{BOT_ID, CHANNEL_ID, DM_CHANNEL_ID, FakeDiscord, GUILD_ID, member};
use common::{Workspace, feedback};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_ask_answers_with_the_quote_its_citation_and_buttons() {
    let fake = FakeDiscord::start().await;
    let _bot = start(&fake, "").await;
    let (id, token) = command(
        &fake,
        "ask",
        json!([{"name": "question", "type": 3, "value": "What is J-JOC?"}]),
        member(ASKER, 0, &[]),
    );
    let callback = reply_to(&fake, id, "the interaction callback").await;
    assert_eq!(
        callback.body["type"], 5,
        "deferred first: {}",
        callback.body
    );
    let answer = fake
        .wait_for(0, "the answer", |r| is_answer_to(r, &token))
        .await;
    let text = shown(&answer.body);
    assert!(text.contains("**Q:** What is J-JOC?"), "{text}");
    assert!(
        text.contains("Japan Joint Operations Command (**J**-**JOC**)"),
        "{text}"
    );
    assert!(text.contains("What is the broader picture? · ¶5"), "{text}");
    let buttons: Vec<&str> = answer.body["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap())
        .map(|b| b["custom_id"].as_str().unwrap())
        .collect();
    assert!(
        buttons.contains(&"bb1:more:1") && buttons.contains(&"bb1:ctx:us-japan-indo-pacific:5"),
        "{buttons:?}"
    );
    assert_no_mentions_allowed(&fake);
}

/// Regression (issue 13, item 8): `/reindex` and `/briefing` were shown to every member;
/// they are registered for Manage Server (the bot still checks every use), the rest for all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderator_commands_are_registered_for_manage_server_only() {
    let fake = FakeDiscord::start().await;
    let _bot = start(&fake, "").await;
    let put = fake
        .wait_for(0, "command registration", |r| {
            r.method == "PUT" && r.path.ends_with("/commands")
        })
        .await;
    let commands = put.body.as_array().expect("a list of commands");
    let permissions = |name: &str| {
        commands
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not registered: {commands:?}"))
            ["default_member_permissions"]
            .clone()
    };
    for moderators_only in ["reindex", "briefing", "audit", "settings", "gaps"] {
        assert_eq!(
            permissions(moderators_only),
            json!(MANAGE_GUILD.to_string()),
            "{moderators_only}"
        );
    }
    for everyone in [
        "ask",
        "read",
        "quiz",
        "leaderboard",
        "privacy",
        "cite",
        "passage",
        "sources",
        "help",
        "stats",
    ] {
        assert!(
            permissions(everyone).is_null(),
            "{everyone}: {}",
            permissions(everyone)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_dms_and_thread_follow_ups_are_answered() {
    let fake = FakeDiscord::start().await;
    let _bot = start(&fake, "").await;

    let asked = message(
        &fake,
        CHANNEL_ID,
        true,
        &format!("<@{BOT_ID}> What is J-JOC?"),
        true,
    );
    let reply = fake
        .wait_for(0, "the reply to a mention", |r| {
            r.method == "POST" && r.path == format!("/channels/{CHANNEL_ID}/messages")
        })
        .await;
    assert_eq!(
        reply.body["message_reference"]["message_id"],
        json!(asked.to_string())
    );
    assert!(shown(&reply.body).contains("Japan Joint Operations Command"));

    let skip = fake.requests().len();
    message(
        &fake,
        DM_CHANNEL_ID,
        false,
        "How many agreements did Biden and Kishida conclude?",
        false,
    );
    let dm = fake
        .wait_for(skip, "the DM answer", |r| {
            r.path == format!("/channels/{DM_CHANNEL_ID}/messages")
        })
        .await;
    assert!(
        shown(&dm.body).contains("about 70 new **agreements**"),
        "{}",
        shown(&dm.body)
    );

    // "Discuss" opens a thread; a follow-up there needs no mention.
    let skip = fake.requests().len();
    let discuss = press(&fake, "bb1:discuss", "**Q:** What is J-JOC?", ASKER);
    let thread = fake
        .wait_for(skip, "the thread", |r| r.path.ends_with("/threads"))
        .await;
    let opened = fake
        .wait_for(skip, "the thread notice", |r| {
            r.path.starts_with(&format!("/interactions/{discuss}/"))
        })
        .await;
    assert!(
        shown(&opened.body).contains("Thread opened"),
        "{}",
        opened.body
    );
    let thread_id = thread
        .path
        .split('/')
        .nth(4)
        .unwrap()
        .parse::<u64>()
        .unwrap();
    message(
        &fake,
        thread_id,
        true,
        "and which general commands it?",
        false,
    );
    let follow_up = fake
        .wait_for(skip, "the follow-up answer", |r| {
            r.path == format!("/channels/{thread_id}/messages")
        })
        .await;
    let text = shown(&follow_up.body);
    let first_citation = text.lines().find(|l| l.starts_with("— ")).unwrap_or("");
    assert!(
        first_citation.ends_with("`us-japan-indo-pacific:5`"),
        "{text}"
    );
    assert_no_mentions_allowed(&fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_more_full_vote_and_delete() {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, "").await;
    let q = "**Q:** Japan defense security cooperation";

    let more = press(&fake, "bb1:more:3", q, ASKER);
    let r = reply_to(&fake, more, "More").await;
    assert_eq!(r.body["type"], 4);
    assert!(shown(&r.body).contains("quotes 4–"), "{}", r.body);

    let full = press(&fake, "bb1:full:us-japan-indo-pacific:4", q, ASKER);
    let r = reply_to(&fake, full, "Full").await;
    assert!(shown(&r.body).contains("However, the most critical of the newly adopted measures"));
    assert_eq!(r.body["data"]["flags"], 64, "full passages are private");

    let vote = press(&fake, "bb1:vote:up:us-japan-indo-pacific:4", q, ASKER);
    reply_to(&fake, vote, "the vote").await;
    let votes = feedback(&bot.ws);
    let line = &votes[0];
    assert_eq!(line["passage"], "us-japan-indo-pacific:4");
    assert_eq!(line["vote"], "up");
    assert_eq!(line["question"], "Japan defense security cooperation");

    let refused = press(&fake, &format!("bb1:del:{ASKER}"), q, OTHER);
    let r = reply_to(&fake, refused, "Delete by another").await;
    assert!(shown(&r.body).contains("Only the person who asked"));
    assert!(!fake.requests().iter().any(|r| r.method == "DELETE"));

    let deleted = press(&fake, &format!("bb1:del:{ASKER}"), q, ASKER);
    reply_to(&fake, deleted, "Delete by the asker").await;
    fake.wait_for(0, "the deletion", |r| r.method == "DELETE")
        .await;
    assert_no_mentions_allowed(&fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_is_for_moderators_and_reports_the_diff() {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, "").await;
    let (id, _) = command(&fake, "reindex", json!([]), member(OTHER, 0, &[]));
    let r = reply_to(&fake, id, "the refusal").await;
    assert!(shown(&r.body).contains("Only moderators"), "{}", r.body);

    // A server's /reindex reads its own library again.
    let library = bot.ws.content().join(format!("servers/{GUILD_ID}"));
    std::fs::create_dir_all(&library).unwrap();
    std::fs::write(
        library.join("airships.md"),
        "# Airships\n\nThe zeppelin fleet returns to service in spring.\n",
    )
    .unwrap();
    let token = moderator_reindex(&fake);
    let (_, ask_token) = command(
        &fake,
        "ask",
        json!([{"name": "question", "type": 3, "value": "What is J-JOC?"}]),
        member(OTHER, 0, &[]),
    );
    let report = fake
        .wait_for(0, "the reindex report", |r| is_answer_to(r, &token))
        .await;
    assert!(
        shown(&report.body).contains("Reindexed") && shown(&report.body).contains("1 added"),
        "{}",
        report.body
    );
    let answer = fake
        .wait_for(0, "the answer during the reindex", |r| {
            is_answer_to(r, &ask_token)
        })
        .await;
    assert!(shown(&answer.body).contains("J-JOC"));

    let (_, token) = command(
        &fake,
        "ask",
        json!([{"name": "question", "type": 3, "value": "When does the zeppelin fleet return?"}]),
        member(OTHER, 0, &[]),
    );
    let r = fake
        .wait_for(0, "an answer from the new index", |r| {
            is_answer_to(r, &token)
        })
        .await;
    assert!(
        shown(&r.body).contains("**zeppelin** **fleet** **returns**"),
        "{}",
        shown(&r.body)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_echoed_or_quoted_can_ping() {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, "").await;
    std::fs::write(
        bot.ws.content().join("pings.md"),
        "# Pings\n\nThe council of <@&123> and @everyone met the zeppelin crews.\n",
    )
    .unwrap();
    let token = moderator_reindex(&fake);
    fake.wait_for(0, "the reindex", |r| is_answer_to(r, &token))
        .await;
    let (_, token) = command(
        &fake,
        "ask",
        json!([{"name": "question", "type": 3, "value": "@everyone @here <@4002> zeppelin crews council?"}]),
        member(ASKER, 0, &[]),
    );
    let r = fake
        .wait_for(0, "the answer", |r| is_answer_to(r, &token))
        .await;
    let text = shown(&r.body);
    assert!(text.contains("zeppelin"), "{text}");
    let mention = regex::Regex::new(r"@(everyone|here)|<@[!&]?\d").unwrap();
    assert!(!mention.is_match(&text), "{text}");
    assert_no_mentions_allowed(&fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_resumed_and_questions_are_answered() {
    let fake = FakeDiscord::start().await;
    let _bot = start(&fake, "").await;
    fake.drop_connection();
    fake.wait_until("a resume or a new identify", |f| {
        f.resumes() + f.identifies() >= 2
    })
    .await;
    let skip = fake.requests().len();
    message(&fake, DM_CHANNEL_ID, false, "What is J-JOC?", false);
    let r = fake
        .wait_for(skip, "the answer after reconnecting", |r| {
            r.path == format!("/channels/{DM_CHANNEL_ID}/messages")
        })
        .await;
    assert!(shown(&r.body).contains("J-JOC"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_question_in_the_window_gets_the_cooldown_reply() {
    let fake = FakeDiscord::start().await;
    let _bot = start(&fake, "cooldown_questions = 5\ncooldown_seconds = 3600\n").await;
    for i in 1..=6 {
        let skip = fake.requests().len();
        message(&fake, DM_CHANNEL_ID, false, "What is J-JOC?", false);
        let r = fake
            .wait_for(skip, "a DM reply", |r| {
                r.path == format!("/channels/{DM_CHANNEL_ID}/messages")
            })
            .await;
        let text = shown(&r.body);
        if i <= 5 {
            assert!(text.contains("J-JOC"), "question {i}: {text}");
        } else {
            assert!(text.contains("asking quickly"), "question {i}: {text}");
        }
    }
}

/// Regression (issue 13, item 4): votes, page turns, quizzes and the other buttons and
/// commands went past the cooldown, so one member could flood the feedback file or a
/// channel. Each goes through the limit of its kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_and_other_actions_are_rate_limited() {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, "cooldown_actions = 3\ncooldown_seconds = 3600\n").await;
    let q = "**Q:** What is J-JOC?";
    for i in 1..=5 {
        let vote = press(&fake, "bb1:vote:up:us-japan-indo-pacific:5", q, ASKER);
        let text = shown(&reply_to(&fake, vote, "a vote's reply").await.body);
        if i <= 3 {
            assert!(text.contains("recorded"), "vote {i}: {text}");
        } else {
            assert!(text.contains("going quickly"), "vote {i}: {text}");
        }
    }
    assert_eq!(
        feedback(&bot.ws).len(),
        3,
        "only the allowed votes are written"
    );
    // Commands of the same kind share the allowance; another member has their own.
    let (id, _) = command(&fake, "sources", json!([]), member(ASKER, 0, &[]));
    assert!(shown(&reply_to(&fake, id, "/sources").await.body).contains("going quickly"));
    let (id, _) = command(&fake, "sources", json!([]), member(OTHER, 0, &[]));
    assert!(!shown(&reply_to(&fake, id, "/sources").await.body).contains("going quickly"));
    // Questions have an allowance of their own.
    let (id, token) = command(
        &fake,
        "ask",
        json!([{"name": "question", "type": 3, "value": "What is J-JOC?"}]),
        member(ASKER, 0, &[]),
    );
    reply_to(&fake, id, "the deferral").await;
    let answer = fake
        .wait_for(0, "the answer", |r| is_answer_to(r, &token))
        .await;
    assert!(shown(&answer.body).contains("J-JOC"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_logs_or_requests() {
    let fake = FakeDiscord::start().await;
    let bot = start_with(&fake, "", "trace").await;
    let (_, token) = command(
        &fake,
        "ask",
        json!([{"name": "question", "type": 3, "value": "What is J-JOC?"}]),
        member(ASKER, 0, &[]),
    );
    fake.wait_for(0, "the answer", |r| is_answer_to(r, &token))
        .await;
    let log = std::fs::read_to_string(bot.ws.path().join("bot.log")).unwrap();
    assert!(log.len() > 1000, "trace logging is on");
    assert!(!log.contains(TOKEN), "the token is in the log");
    for r in fake.requests() {
        assert!(
            !r.body.to_string().contains(TOKEN),
            "{} {}",
            r.method,
            r.path
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_bot_cleanly() {
    let fake = FakeDiscord::start().await;
    let mut bot = start(&fake, "").await;
    let status = terminate(&mut bot.child);
    assert!(status.success(), "{status:?}");
}

/// Regression: while Discord could not be reached, SIGTERM was not honoured (the signal
/// only stopped shards, and none had started).
#[test]
fn sigterm_stops_the_bot_while_it_cannot_reach_discord() {
    let ws = Workspace::with_bundled_briefing();
    std::fs::write(
        ws.config(),
        "[discord]\nhttp_proxy = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let mut child = common::briefbot()
        .current_dir(ws.path())
        .arg("--config")
        .arg(ws.config())
        .arg("serve")
        .env("DISCORD_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "it keeps trying to connect"
    );
    let status = terminate(&mut child);
    assert!(status.success(), "{status:?}");
}

/// `briefbot index --watch` on `ws`: returns once it has built the index and watches.
fn start_watching_writer(ws: &Workspace) -> Child {
    use std::io::BufRead;
    let mut child = common::briefbot()
        .arg("--config")
        .arg(ws.config())
        .args(["index", "--watch"])
        .env("BRIEFBOT_CONTENT__WATCH_DELAY_MS", "200")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    loop {
        let line = lines
            .next()
            .expect("the writer printed that it watches")
            .unwrap();
        if line.starts_with("Watching ") {
            break;
        }
    }
    // Keep reading, so that the writer never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reader_bots_on_their_shards_follow_one_writer() {
    let shared = Workspace::with_bundled_briefing();
    let mut writer = start_watching_writer(&shared);
    // A second writer on the same index folder is refused, and names the first.
    let out = shared.cmd().arg("index").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("another index writer is running") && err.contains("index --watch"),
        "{err}"
    );

    let readers = [
        (FakeDiscord::start().await, 0),
        (FakeDiscord::start().await, 1),
    ];
    let mut bots = Vec::new();
    for (fake, shard) in &readers {
        let extra = format!(
            "shards = {{ total = 2, range = [{shard}, {shard}] }}\n\
             [index]\nrole = \"reader\"\nreload_ms = 100\ndir = {:?}\n",
            shared.index().display().to_string()
        );
        bots.push(start_in(fake, Workspace::empty(), &extra, "warn,briefbot=info").await);
    }
    for (fake, shard) in &readers {
        assert_eq!(fake.identified_shards(), vec![json!([shard, 2])]);
        let s = stats(fake).await;
        assert!(
            s.contains(&format!("shard {shard} of 2")) && s.contains("reader"),
            "{s}"
        );
    }

    // A reader refuses /reindex and says where the writer runs.
    let (fake, _) = &readers[0];
    let (id, _) = command(fake, "reindex", json!([]), member(ASKER, MANAGE_GUILD, &[]));
    let r = shown(&reply_to(fake, id, "a reader's /reindex").await.body);
    assert!(
        r.contains("only reads the index") && r.contains("index --watch"),
        "{r}"
    );

    // A briefing saved into the writer's content is answered by both readers.
    let before = shared.current_version().unwrap();
    std::fs::write(
        shared.content().join("tides.md"),
        "# Tidal power\n\nThe Severn barrage would make seven percent of British electricity.\n",
    )
    .unwrap();
    let version = loop {
        match shared.current_version() {
            Some(v) if v != before => break v,
            _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    };
    for (fake, _) in &readers {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !stats(fake).await.contains(version.trim_start_matches("v-")) {
            assert!(
                std::time::Instant::now() < deadline,
                "a reader never reloaded"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let answer = ask_slash(fake, "How much electricity would the Severn barrage make?").await;
        assert!(answer.contains("**Severn** **barrage**"), "{answer}");
    }
    let _ = writer.kill();
    let _ = writer.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn study_groups_read_together_quiz_and_cite() {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, "").await;
    let slug = "us-japan-indo-pacific";

    let (id, _) = command(
        &fake,
        "read",
        json!([{"name": "briefing", "type": 3, "value": slug}]),
        member(ASKER, 0, &[]),
    );
    let page = reply_to(&fake, id, "the first page").await;
    assert_eq!(page.body["type"], 4);
    assert!(
        shown(&page.body).contains("**¶1** On April 10"),
        "{}",
        page.body
    );
    let ids = component_ids(&page.body);
    assert_eq!(
        ids,
        [format!("bb1:read:2:{slug}"), format!("bb1:readsec:{slug}")]
    );
    // Anyone turns the page: the shared message is updated in place.
    let turned = press(&fake, &ids[0], "", OTHER);
    let r = reply_to(&fake, turned, "the next page").await;
    assert_eq!(r.body["type"], 7, "{}", r.body);
    assert!(shown(&r.body).contains("**¶2** Kishida"), "{}", r.body);
    let jumped = press_with(
        &fake,
        json!({"custom_id": ids[1], "component_type": 3, "values": ["6"]}),
        "",
        OTHER,
    );
    let r = reply_to(&fake, jumped, "the section jump").await;
    assert_eq!(r.body["type"], 7);
    assert!(
        shown(&r.body).contains("__**Why is it important?**__"),
        "{}",
        r.body
    );

    // A quiz, replayed by its seed; the right choice is told privately, with its source.
    let expected = bot
        .ws
        .cmd()
        .args(["quiz", "--json", "--seed", "5"])
        .output()
        .unwrap();
    let expected: Value = serde_json::from_slice(&expected.stdout).unwrap();
    let (id, _) = command(
        &fake,
        "quiz",
        json!([{"name": "play", "type": 1, "options": [{"name": "seed", "type": 4, "value": 5}]}]),
        member(ASKER, 0, &[]),
    );
    let q = reply_to(&fake, id, "the quiz").await;
    let answer = expected["answer"].as_u64().unwrap() as usize;
    let right = &component_ids(&q.body)[answer];
    assert!(
        right.starts_with(&format!("bb1:quiz:5:{answer}:")),
        "{right}"
    );
    let pressed = press(&fake, right, "", ASKER);
    let r = reply_to(&fake, pressed, "the quiz answer").await;
    assert_eq!(r.body["data"]["flags"], 64, "told privately");
    let text = shown(&r.body);
    let text = text.trim_start();
    assert!(
        text.starts_with("✅ **Right**")
            && text.contains(expected["passage"]["id"].as_str().unwrap()),
        "{text}"
    );

    let (id, _) = command(
        &fake,
        "cite",
        json!([{"name": "id", "type": 3, "value": format!("{slug}:5")}]),
        member(ASKER, 0, &[]),
    );
    let c = reply_to(&fake, id, "the citation").await;
    let text = shown(&c.body);
    assert!(
        text.starts_with("```\n“Biden therefore plans")
            && text.contains(&format!("¶5 [{slug}:5]\n```")),
        "{text}"
    );
    assert_no_mentions_allowed(&fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_add_and_remove_briefings_from_discord() {
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, "").await;
    let moderator = || member(ASKER, MANAGE_GUILD, &[]);

    let token = add_briefing(&fake, "tides.md", TIDES.as_bytes(), member(OTHER, 0, &[]));
    let r = fake
        .wait_for(0, "the refusal", |r| r.path.contains(&token))
        .await;
    assert!(shown(&r.body).contains("Only moderators"), "{}", r.body);
    let added_at = bot
        .ws
        .content()
        .join(format!("servers/{GUILD_ID}/tides.md"));
    assert!(!added_at.exists());

    // A file of the wrong type is refused before it is downloaded.
    let token = add_briefing(&fake, "tides.docx", b"PK", moderator());
    let r = fake
        .wait_for(0, "the refusal", |r| r.path.contains(&token))
        .await;
    assert!(shown(&r.body).contains("not a briefing"), "{}", r.body);
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.path == "/files/tides.docx")
    );

    let token = add_briefing(&fake, "tides.md", TIDES.as_bytes(), moderator());
    let r = fake
        .wait_for(0, "the added report", |r| is_answer_to(r, &token))
        .await;
    assert!(
        shown(&r.body).contains("**Added** “Tidal Power”"),
        "{}",
        r.body
    );
    // Into this server's library.
    assert!(
        shown(&r.body).contains("this server's library"),
        "{}",
        r.body
    );
    assert_eq!(std::fs::read_to_string(&added_at).unwrap(), TIDES);
    assert!(!bot.ws.content().join("tides.md").exists());
    let answer = ask_slash(&fake, "What would the Severn barrage make?").await;
    assert!(answer.contains("**Severn** **barrage**"), "{answer}");

    let (_, token) = command(
        &fake,
        "briefing",
        json!([{"name": "remove", "type": 1, "options": [
            {"name": "briefing", "type": 3, "value": "Tidal Power"}]}]),
        moderator(),
    );
    let r = fake
        .wait_for(0, "the removed report", |r| is_answer_to(r, &token))
        .await;
    assert!(
        shown(&r.body).contains("**Removed** “Tidal Power”"),
        "{}",
        r.body
    );
    assert!(!added_at.exists());

    let actions: Vec<(String, String)> = common::audit(&bot.ws)
        .into_iter()
        .map(|v| {
            assert_eq!(v["actor"]["id"], ASKER);
            (
                v["action"].as_str().unwrap().to_string(),
                v["outcome"].as_str().unwrap().chars().take(8).collect(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("briefing add".to_string(), "refused:".to_string()),
            ("briefing add".to_string(), "added to".to_string()),
            ("briefing remove".to_string(), "removed ".to_string()),
        ]
    );
}

/// `/briefing add url:` as a moderator sends it.
fn add_by_link(fake: &FakeDiscord, link: &str, by: Value) -> String {
    command(
        fake,
        "briefing",
        json!([{"name": "add", "type": 1, "options": [
            {"name": "url", "type": 3, "value": link}]}]),
        by,
    )
    .1
}

const LAGOON_PAGE: &str = "<html><head><title>Swansea Lagoon</title>\
    <link rel=\"canonical\" href=\"https://example.org/lagoon\"></head><body>\
    <nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav><article><h1>Swansea Lagoon</h1>\
    <p>The lagoon at Swansea would hold back the tide behind a wall nine kilometres long and \
    generate electricity for a hundred and twenty years, its backers say.</p>\
    <p>Its critics answer that the power would cost three times what offshore wind costs \
    today, and that the wall would change how silt settles across the whole bay.</p>\
    <p>The government has asked for a new assessment of the scheme before it decides \
    whether public money should support the first tidal lagoon in the country.</p>\
    </article><footer>Copyright</footer></body></html>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_add_a_web_page_by_link_and_private_links_are_refused() {
    let fake = FakeDiscord::start().await;
    let moderator = || member(ASKER, MANAGE_GUILD, &[]);
    let link = fake.host_file("lagoon.html", LAGOON_PAGE.as_bytes());
    // The fake Discord serves on 127.0.0.1, which this bot may fetch; any other local
    // address stays refused.
    let bot = start(
        &fake,
        "[content]\nfetch_allow_addresses = [\"127.0.0.1\"]\n",
    )
    .await;
    let other_local = link.replace("127.0.0.1", "127.0.0.2");
    let token = add_by_link(&fake, &other_local, moderator());
    let r = fake
        .wait_for(0, "the refusal", |r| is_answer_to(r, &token))
        .await;
    assert!(
        shown(&r.body).contains("private or local address"),
        "{}",
        r.body
    );
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.path == "/files/lagoon.html")
    );
    assert!(
        !bot.ws
            .content()
            .join(format!("servers/{GUILD_ID}"))
            .exists()
    );
    let token = add_by_link(&fake, &link, member(OTHER, 0, &[]));
    let r = fake
        .wait_for(0, "the refusal", |r| r.path.contains(&token))
        .await;
    assert!(shown(&r.body).contains("Only moderators"), "{}", r.body);
    let token = add_by_link(&fake, &link, moderator());
    let r = fake
        .wait_for(0, "the added report", |r| is_answer_to(r, &token))
        .await;
    assert!(
        shown(&r.body).contains("**Added** “Swansea Lagoon”"),
        "{}",
        r.body
    );
    let saved = bot
        .ws
        .content()
        .join(format!("servers/{GUILD_ID}/swansea-lagoon.html"));
    let html = std::fs::read_to_string(&saved).unwrap();
    assert!(
        html.contains("https://example.org/lagoon") && !html.contains("Home"),
        "{html}"
    );
    let answer = ask_slash(&fake, "How long would the lagoon wall at Swansea be?").await;
    assert!(answer.contains("nine kilometres"), "{answer}");
    assert!(answer.contains("https://example.org/lagoon"), "{answer}");
    let outcomes: Vec<String> = common::audit(&bot.ws)
        .into_iter()
        .map(|v| v["outcome"].as_str().unwrap().chars().take(8).collect())
        .collect();
    // A member who may not add is refused before anything is audited, as for files.
    assert_eq!(outcomes, ["refused:", "added to"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_attachment_is_added_and_quoted_with_its_page() {
    use common::pdf::{Page, lines, write};
    let fake = FakeDiscord::start().await;
    let bot = start(&fake, "").await;
    let page = |text: &[&str]| Page::of(lines(72.0, 720.0, 11.0, 13.2, text));
    let bytes = write(
        &[
            page(&["The lagoon at Swansea would hold back the tide behind a long wall."]),
            page(&["Its wall would run for nine kilometres across the whole of the bay."]),
        ],
        Some("Swansea Lagoon Briefing"),
    );
    let token = add_briefing(
        &fake,
        "lagoon.pdf",
        &bytes,
        member(ASKER, MANAGE_GUILD, &[]),
    );
    let r = fake
        .wait_for(0, "the added report", |r| is_answer_to(r, &token))
        .await;
    assert!(
        shown(&r.body).contains("**Added** “Swansea Lagoon Briefing”"),
        "{}",
        r.body
    );
    let answer = ask_slash(&fake, "How long would the wall across the bay be?").await;
    assert!(answer.contains("nine kilometres"), "{answer}");
    assert!(answer.contains("¶2 · p. 2"), "{answer}");
    drop(bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watching_bot_answers_from_a_file_saved_into_content() {
    let fake = FakeDiscord::start().await;
    let bot = start(
        &fake,
        "\n[content]\nwatch = true\nwatch_delay_ms = 150\n[index]\nreload_ms = 100\n",
    )
    .await;
    std::fs::write(bot.ws.content().join("tides.md"), TIDES).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !stats(&fake).await.contains("**Briefings** 2") {
        assert!(
            std::time::Instant::now() < deadline,
            "the change was never indexed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let answer = ask_slash(&fake, "What would the Severn barrage make?").await;
    assert!(answer.contains("**Severn** **barrage**"), "{answer}");
}
