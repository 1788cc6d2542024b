//! The bot's behaviour without Discord: the same answering path as the CLI, the
//! messages it renders, buttons, reindexing while answering, votes and stats.

mod common;

use briefbot::library::Rights;

use std::fs;

use briefbot::discord::bot::{Ask, Bot};
use briefbot::discord::check_token;
use briefbot::discord::unanswered::VotePress;
use briefbot::render::discord::{Message, ids};
use common::{Workspace, audit, moderator};

fn bot(ws: &Workspace) -> Bot {
    Bot::new(ws.settings()).unwrap()
}

fn ask(question: &str) -> Ask {
    Ask {
        question: question.to_string(),
        offset: 0,
        briefing: None,
        ephemeral: false,
        can_discuss: true,
        asker: 42,
        guild: None,
        counted: true,
        anyway: false,
    }
}

/// Passage ids of the quotes, from their "Context" buttons, in order.
fn quoted_ids(m: &Message) -> Vec<String> {
    m.rows
        .iter()
        .flatten()
        .filter_map(|b| match ids::decode(&b.id) {
            Some(ids::Action::Context { id }) => Some(id),
            _ => None,
        })
        .collect()
}

/// The labels of a message's buttons, row by row.
fn button_labels(m: &Message) -> Vec<&str> {
    m.rows.iter().flatten().map(|b| b.label.as_str()).collect()
}

fn description(m: &Message) -> &str {
    &m.embed.as_ref().expect("an embed").description
}

#[tokio::test]
async fn discord_and_the_cli_give_the_same_quotes_in_the_same_order() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    for question in [
        "How deep will the Velmora channel be?",
        "cod quota fleets",
        "night trains subsidy",
    ] {
        let m = bot.ask(ask(question)).await;
        let cli = ws.ask_json(question);
        let cli_ids: Vec<String> = cli["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_string())
            .collect();
        assert!(!cli_ids.is_empty());
        assert_eq!(quoted_ids(&m), cli_ids, "{question}");
        assert!(m.within_limits());
    }
}

#[tokio::test]
async fn an_answer_quotes_cites_and_offers_buttons() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    let m = bot
        .ask(ask("What is the subsidy per passenger on night trains?"))
        .await;
    assert!(m.content.starts_with("**Q:** What is the subsidy"));
    let d = description(&m);
    assert!(d.contains("> The **subsidy** is capped"), "{d}");
    // A one-sentence paragraph is not underlined as a whole; a longer one has its best
    // sentence underlined.
    assert!(!d.contains("> __The"), "{d}");
    assert!(d.contains("[Night Trains Return](<https://example.org/briefings/night-trains>) · Costs · ¶3 · 2025-01-15"), "{d}");
    assert!(
        m.embed
            .as_ref()
            .unwrap()
            .footer
            .as_deref()
            .unwrap()
            .contains("index ")
    );
    let labels = button_labels(&m);
    for wanted in ["More", "Discuss", "Delete", "Context ¶3", "👍 ¶3", "👎 ¶3"] {
        assert!(labels.contains(&wanted), "{wanted} missing in {labels:?}");
    }
    for b in m.rows.iter().flatten() {
        assert!(ids::decode(&b.id).is_some(), "{} does not decode", b.id);
    }
    let private = bot
        .ask(Ask {
            ephemeral: true,
            ..ask("night trains subsidy")
        })
        .await;
    let labels = button_labels(&private);
    assert!(private.ephemeral && labels.contains(&"Share") && !labels.contains(&"Discuss"));
}

#[tokio::test]
async fn hostile_questions_cannot_mention_or_format() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    let m = bot
        .ask(ask("@everyone <@&123> <@456> **cod** quota ```x``` @here"))
        .await;
    assert!(m.within_limits());
    let mention = regex::Regex::new(r"@(everyone|here)|<@[!&]?\d").unwrap();
    for text in m.texts() {
        assert!(!mention.is_match(text), "{text}");
    }
    assert!(m.content.contains("\\*\\*cod\\*\\*"), "{}", m.content);
}

#[tokio::test]
async fn long_and_empty_questions_are_refused_with_a_reason() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    let m = bot.ask(ask(&"cod ".repeat(100))).await;
    assert!(
        m.ephemeral && m.content.contains("at most 300"),
        "{}",
        m.content
    );
    let m = bot.ask(ask("   ")).await;
    assert!(m.ephemeral && m.content.contains("Ask a question"));
}

#[tokio::test]
async fn more_shows_the_next_quotes_then_says_there_are_none() {
    let ws = Workspace::with_fixtures();
    for i in 0..6 {
        let text = format!("# Coast {i}\n\nThe lighthouse on cape {i} was rebuilt.\n");
        fs::write(ws.content().join(format!("coast-{i}.md")), text).unwrap();
    }
    let bot = Bot::new(ws.settings()).unwrap();
    let first = bot.ask(ask("lighthouse")).await;
    let next = bot
        .ask(Ask {
            offset: 3,
            ..ask("lighthouse")
        })
        .await;
    let (a, b) = (quoted_ids(&first), quoted_ids(&next));
    assert_eq!(a.len(), 3);
    assert!(
        !b.is_empty() && b.iter().all(|id| !a.contains(id)),
        "{a:?} {b:?}"
    );
    let more = first
        .rows
        .iter()
        .flatten()
        .find_map(|b| match ids::decode(&b.id) {
            Some(ids::Action::More { offset, .. }) => Some(offset),
            _ => None,
        });
    assert_eq!(more, Some(3));
    let none = bot
        .ask(Ask {
            offset: 6,
            ..ask("lighthouse")
        })
        .await;
    assert!(none.content.contains("no more quotes"));
}

#[tokio::test]
async fn a_passage_is_shown_whole_with_its_neighbours() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    let m = bot.passage(None, "notes/fisheries:2", true, false).await;
    let d = description(&m);
    assert!(
        d.contains("*¶1*") && d.contains("**¶2**") && d.contains("*¶3*"),
        "{d}"
    );
    assert!(d.contains("Small-boat fleets"));
    assert!(d.contains("Larger trawlers can switch to haddock."));
    let first = bot.passage(None, "notes/fisheries:1", true, false).await;
    assert!(!description(&first).contains("*¶0*"));
    let missing = bot.passage(None, "nope:1", false, false).await;
    assert!(missing.ephemeral && missing.content.contains("No passage"));
}

#[tokio::test]
async fn sources_are_paged_and_choices_autocomplete() {
    let ws = Workspace::with_fixtures();
    for i in 0..9 {
        fs::write(
            ws.content().join(format!("extra-{i:02}.md")),
            format!("# Extra {i}\n\nText {i}.\n"),
        )
        .unwrap();
    }
    let bot = bot(&ws);
    let page1 = bot.sources(None, 0).await;
    let labels = button_labels(&page1);
    assert_eq!(labels, ["▶"]);
    assert!(description(&page1).contains("Extra 0"));
    let page2 = bot.sources(None, 1).await;
    let labels = button_labels(&page2);
    assert_eq!(labels, ["◀"]);
    assert!(
        description(&page2).contains("Power Grid Interconnectors"),
        "{}",
        description(&page2)
    );
    assert!(
        page2
            .embed
            .as_ref()
            .unwrap()
            .footer
            .as_deref()
            .unwrap()
            .starts_with("page 2 of 2")
    );

    let choices = bot.briefing_choices(None, "FISH").await;
    assert_eq!(
        choices,
        [(
            "Fisheries Quotas: What Changed in 2024".to_string(),
            "notes/fisheries".to_string()
        )]
    );
    assert_eq!(
        bot.passage_choices(None, "grid").await,
        ["notes/grid:1", "notes/grid:2"]
    );
    assert!(bot.passage_choices(None, "").await.len() <= 25);
}

#[tokio::test]
async fn a_briefing_restriction_is_honoured() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    let m = bot
        .ask(Ask {
            briefing: Some("notes/grid".into()),
            ..ask("months repair cable 2027 river")
        })
        .await;
    let ids = quoted_ids(&m);
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id.starts_with("notes/grid:")),
        "{ids:?}"
    );
}

#[tokio::test]
async fn reindex_swaps_in_the_new_index_and_refuses_a_second_one() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    let before = bot.engine().manifest().version.clone();
    fs::write(
        ws.content().join("airships.md"),
        "# Airships\n\nThe zeppelin fleet returns in spring.\n",
    )
    .unwrap();

    let dry = bot
        .reindex(&moderator(), Rights::OPERATOR, None, true)
        .await;
    assert!(
        dry.content.contains("Dry run") && dry.content.contains("1 added"),
        "{}",
        dry.content
    );
    assert_eq!(bot.engine().manifest().version, before);

    let moderator = moderator();
    let (first, second, answer) = tokio::join!(
        bot.reindex(&moderator, Rights::OPERATOR, None, false),
        bot.reindex(&moderator, Rights::OPERATOR, None, false),
        bot.ask(ask("cod quota")),
    );
    assert!(
        first.content.contains("Reindexed") && first.content.contains("1 added"),
        "{}",
        first.content
    );
    assert!(
        second.content.contains("already running"),
        "{}",
        second.content
    );
    assert_eq!(quoted_ids(&answer)[0], "notes/fisheries:1");
    assert_ne!(bot.engine().manifest().version, before);
    // The dry run is not audited; the refused one is, and the reindex with what it did.
    let mut outcomes: Vec<String> = audit(&ws)
        .iter()
        .map(|l| l["outcome"].as_str().unwrap().to_string())
        .collect();
    outcomes.sort();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(
        outcomes[0].starts_with("index version ")
            && outcomes[0].contains("paragraphs 1 added, 0 changed, 0 removed"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1], "refused: a reindex was already running");
    let m = bot.ask(ask("When does the zeppelin fleet return?")).await;
    assert_eq!(quoted_ids(&m)[0], "airships:1");
}

#[tokio::test]
async fn votes_are_kept_without_user_names_and_once_per_press() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    let press = |passage: &str, up, interaction| VotePress {
        question: "cod quota?".into(),
        passage: passage.into(),
        up,
        interaction,
        guild: Some(5),
        member: 42,
    };
    // A 👎 may be given a reason, the first time it is recorded.
    for (p, ask_reason) in [
        (press("notes/fisheries:1", true, 1), false),
        (press("notes/fisheries:2", false, 2), true),
        // Discord delivering the same press twice does not count it twice.
        (press("notes/fisheries:2", false, 2), false),
    ] {
        let voted = bot.vote(p).await;
        let reply = voted.reply;
        assert!(reply.content.starts_with("Thanks"), "{}", reply.content);
        assert_eq!(voted.ask_reason, ask_reason, "{}", reply.content);
    }
    let lines = common::feedback(&ws);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["vote"], "up");
    assert_eq!(lines[1]["passage"], "notes/fisheries:2");
    assert_eq!(lines[1]["question"], "cod quota?");
    assert_eq!(
        lines[1]["index_version"],
        bot.engine().manifest().version.as_str()
    );
    let mut keys: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "at",
            "guild",
            "index_version",
            "passage",
            "question",
            "time",
            "up",
            "vote"
        ],
        "no user id or name"
    );
    assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn stats_count_answered_questions() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    bot.ask(ask("cod quota")).await;
    bot.ask(ask("night trains")).await;
    let s = bot.stats(None, false, &[]).await.content;
    assert!(s.contains("**Briefings** 4 · **passages** 12"), "{s}");
    assert!(s.contains("since start: 2"), "{s}");
}

#[tokio::test]
async fn a_thread_follow_up_is_asked_with_the_first_question() {
    let ws = Workspace::with_bundled_briefing();
    let bot = bot(&ws);
    bot.remember_thread(7, "What is J-JOC?");
    let first = bot.thread_question(7).unwrap();
    let q = briefbot::discord::rules::with_thread_context(&first, "and who commands it?");
    let m = bot.ask(ask(&q)).await;
    assert_eq!(quoted_ids(&m)[0], "us-japan-indo-pacific:5");
}

#[test]
fn a_missing_or_malformed_token_is_refused_before_connecting() {
    let err = check_token(None).unwrap_err().to_string();
    assert!(err.contains("DISCORD_TOKEN"));
    let ws = Workspace::empty();
    fs::write(ws.config(), "[discord]\ntoken = \"not-a-token\"\n").unwrap();
    let settings = ws.settings();
    let err = check_token(settings.discord.token.as_ref())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("malformed") && !err.contains("not-a-token"),
        "{err}"
    );
}

/// The More button's offset, if the message has one.
fn more_offset(m: &Message) -> Option<usize> {
    m.rows
        .iter()
        .flatten()
        .find_map(|b| match ids::decode(&b.id) {
            Some(ids::Action::More { offset, .. }) => Some(offset),
            _ => None,
        })
}

/// Writes `n` small briefings that all answer "lighthouse".
fn lighthouses(ws: &Workspace, n: usize) {
    for i in 0..n {
        let text = format!(
            "# Coast {i}\n\nThe lighthouse on cape {i} was rebuilt in {} after the storm.\n",
            1900 + i
        );
        fs::write(ws.content().join(format!("coast-{i}.md")), text).unwrap();
    }
}

/// Regression (issue 13, item 2): with `search.top_k` of 10 or more the per-quote budget
/// underflowed and every answer was "Something went wrong". Every allowed top_k answers,
/// with as many quotes as fit, and More goes on from the first one left out.
#[tokio::test]
async fn every_allowed_top_k_gets_an_answer_that_fits() {
    let ws = Workspace::with_fixtures();
    lighthouses(&ws, 30);
    let mut settings = ws.settings();
    for k in [1, 3, 4, 5, 9, 10, 25] {
        settings.search.top_k = k;
        // One writer at a time on the index folder.
        let bot = Bot::new(settings.clone()).unwrap();
        let k = &k;
        let m = bot.ask(ask("When was the lighthouse rebuilt?")).await;
        assert!(
            !m.content.contains("went wrong"),
            "top_k {k}: {}",
            m.content
        );
        assert!(m.within_limits(), "top_k {k}");
        let shown = quoted_ids(&m).len();
        assert_eq!(shown, (*k).min(4), "top_k {k}: quotes shown");
        assert_eq!(more_offset(&m), Some(shown), "top_k {k}");
        let next = bot
            .ask(Ask {
                offset: shown,
                ..ask("When was the lighthouse rebuilt?")
            })
            .await;
        let (a, b) = (quoted_ids(&m), quoted_ids(&next));
        assert!(
            !b.is_empty() && b.iter().all(|id| !a.contains(id)),
            "top_k {k}"
        );
    }
}

/// Regression (issue 13, item 3): Share re-asked a private answer without its briefing, so
/// the public message could quote other briefings.
#[tokio::test]
async fn share_keeps_the_briefing_the_question_was_restricted_to() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    let private = bot
        .ask(Ask {
            briefing: Some("notes/grid".into()),
            ephemeral: true,
            ..ask("months repair cable 2027 river")
        })
        .await;
    let share = private
        .rows
        .iter()
        .flatten()
        .find_map(|b| match ids::decode(&b.id) {
            Some(ids::Action::Share { briefing }) => Some(briefing),
            _ => None,
        })
        .expect("a Share button");
    assert_eq!(share.as_deref(), Some("notes/grid"));
    // The shared answer is asked as the button says (what the Share handler does).
    let public = bot
        .ask(Ask {
            briefing: share,
            ..ask("months repair cable 2027 river")
        })
        .await;
    let ids = quoted_ids(&public);
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id.starts_with("notes/grid:")),
        "{ids:?}"
    );
}

/// Regression (issue 13, item 6): skipped files' absolute paths, the holding path of a
/// removed file and raw reindex errors were shown in channels.
#[tokio::test]
async fn messages_tell_no_server_paths() {
    let ws = Workspace::with_fixtures();
    let root = ws.path().display().to_string();
    let bot = bot(&ws);
    fs::write(ws.content().join("broken.md"), [0xff, 0xfe, 0x00, 0x01]).unwrap();
    let m = bot
        .reindex(&moderator(), Rights::OPERATOR, None, false)
        .await;
    assert!(m.content.contains("`broken.md`"), "{}", m.content);
    assert!(!m.content.contains(&root), "{}", m.content);

    let removed = bot
        .remove_briefing(moderator(), Rights::OPERATOR, None, "notes/grid")
        .await;
    assert!(
        removed.content.contains("**Removed**"),
        "{}",
        removed.content
    );
    assert!(
        removed.content.contains("`removed/")
            && removed.content.contains("`content/notes/grid.md`"),
        "{}",
        removed.content
    );
    assert!(!removed.content.contains(&root), "{}", removed.content);

    // A failed reindex tells the moderator why, privately, in the same short terms.
    fs::remove_dir_all(ws.content()).unwrap();
    fs::create_dir(ws.content()).unwrap();
    let failed = bot
        .reindex(&moderator(), Rights::OPERATOR, None, false)
        .await;
    assert!(
        failed.content.contains("The reindex failed"),
        "{}",
        failed.content
    );
    assert!(failed.ephemeral, "the reason goes to the moderator alone");
    assert!(
        failed.content.contains("from content"),
        "{}",
        failed.content
    );
    assert!(!failed.content.contains(&root), "{}", failed.content);
}

/// Regression (issue 13, item 9): the content signature lived in memory only, so a
/// watching writer rebuilt an unchanged index at every start. Each file's stamp and the
/// settings that shape the index are kept in the manifest.
#[tokio::test]
async fn a_writer_that_starts_again_over_unchanged_content_does_not_rebuild() {
    let ws = Workspace::with_fixtures();
    let first = {
        let bot = bot(&ws);
        bot.engine().manifest().version.clone()
    };
    let bot = bot(&ws);
    // What the watcher does at start, to catch up on files saved before it watched.
    bot.reindex_watched(&[ws.content()]).await;
    assert_eq!(
        bot.engine().manifest().version,
        first,
        "nothing changed: no rebuild"
    );
    assert_eq!(ws.current_version().unwrap(), format!("v-{first}"));

    // A changed file is rebuilt, and so is an unchanged one under settings that shape the
    // index differently.
    fs::write(
        ws.content().join("tides.md"),
        "# Tides\n\nThe barrage closes at night.\n",
    )
    .unwrap();
    bot.reindex_watched(&[ws.content()]).await;
    let second = bot.engine().manifest().version.clone();
    assert_ne!(second, first);
    drop(bot);
    let writer = briefbot::app::Writer::acquire(&ws.settings(), "test").unwrap();
    let (_, report) = writer.update(&ws.settings(), None).unwrap();
    assert_eq!(report.kind, briefbot::index::BuildKind::Unchanged);
    let mut settings = ws.settings();
    settings.content.heading_max_words = 3;
    let (_, report) = writer.update(&settings, None).unwrap();
    assert_eq!(report.kind, briefbot::index::BuildKind::Full);
}

/// Serves one HTTP response on 127.0.0.1, written by `respond` (raw bytes, as a server that
/// lies about sizes or stalls would write them); returns the URL.
async fn serve_once<F, Fut>(respond: F) -> String
where
    F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/file.md", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).await;
        respond(stream).await;
    });
    url
}

/// Regression (issue 13, item 7): an attachment was downloaded whole, however large and
/// however slow, once its declared size passed. The body is read with a hard cap and a
/// timeout; past either nothing is kept.
#[tokio::test]
async fn attachments_are_downloaded_with_a_cap_and_a_timeout() {
    use briefbot::discord::download::{DownloadError, fetch_capped};
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    let long = Duration::from_secs(20);

    let url = serve_once(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
            .await;
    })
    .await;
    assert_eq!(fetch_capped(&url, 1000, long).await.unwrap(), b"hello");

    // Declares more than the cap: refused before the body is read.
    let url = serve_once(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5000000\r\n\r\nxx")
            .await;
    })
    .await;
    let err = fetch_capped(&url, 1000, long).await.unwrap_err();
    assert!(
        matches!(err, DownloadError::TooLarge { cap: 1000 }),
        "{err}"
    );

    // Declares nothing and sends more than the cap, in chunks.
    let url = serve_once(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        for _ in 0..40 {
            if s.write_all(b"64\r\n").await.is_err()
                || s.write_all(&[b'a'; 100]).await.is_err()
                || s.write_all(b"\r\n").await.is_err()
            {
                return;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n").await;
    })
    .await;
    let err = fetch_capped(&url, 1000, long).await.unwrap_err();
    assert!(matches!(err, DownloadError::TooLarge { .. }), "{err}");

    // Sends its headers and a little, then nothing.
    let url = serve_once(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nslow")
            .await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let err = fetch_capped(&url, 1000, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(err, DownloadError::TimedOut(_)), "{err}");
    assert!(err.to_string().contains("longer than 1 s"), "{err}");

    let url = serve_once(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
            .await;
    })
    .await;
    let err = fetch_capped(&url, 1000, long).await.unwrap_err();
    assert!(matches!(err, DownloadError::Failed(_)), "{err}");
}

/// A refused question offers "Show the closest paragraphs anyway" (issue 19), so a member
/// is never stuck behind a wrong refusal.
#[tokio::test]
async fn a_refusal_offers_the_closest_paragraphs_anyway() {
    let ws = Workspace::empty();
    common::copy_dir(&common::fixtures().join("small/three"), &ws.content());
    let bot = bot(&ws);
    let question = "what time does the ferry leave tomorrow morning";
    let refused = bot.ask(ask(question)).await;
    assert!(
        description(&refused).starts_with("The briefings do not cover this question."),
        "{}",
        description(&refused)
    );
    let anyway = refused
        .rows
        .iter()
        .flatten()
        .find(|b| b.label == "Show the closest paragraphs anyway")
        .expect("the button");
    let Some(ids::Action::Anyway {
        offset: 0,
        briefing,
    }) = ids::decode(&anyway.id)
    else {
        panic!("{}", anyway.id)
    };
    let shown = bot
        .ask(Ask {
            anyway: true,
            briefing,
            ..ask(question)
        })
        .await;
    assert!(shown.within_limits());
    assert!(
        description(&shown).starts_with("*The briefings may not cover this question"),
        "{}",
        description(&shown)
    );
    assert_eq!(quoted_ids(&shown), ["estuary:1"]);
    // Its More goes on showing the closest paragraphs anyway.
    let more = shown
        .rows
        .iter()
        .flatten()
        .find(|b| b.label == "More")
        .unwrap();
    assert!(
        matches!(
            ids::decode(&more.id),
            Some(ids::Action::Anyway { offset: 1, .. })
        ),
        "{}",
        more.id
    );
    // Chatter is told it has nothing to look for, without nearest briefings or closest
    // paragraphs: any would be chance.
    let chatter = bot.ask(ask("what is it")).await;
    assert_eq!(
        description(&chatter),
        "Nothing in this question says what to look for: ask about a subject of the \
         briefings."
    );
    let labels = button_labels(&chatter);
    assert!(
        !labels.contains(&"Show the closest paragraphs anyway"),
        "{labels:?}"
    );
}

/// A database that accepts connections and never answers (hung, or locked up) must not
/// hold up a question: the rate limit's read of the server's settings and the answer go on
/// without it, while a command that needs it waits for `state.timeout_seconds` and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_database_never_holds_up_a_question() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let ws = Workspace::with_fixtures();
    let mut settings = ws.settings();
    settings.state.url = format!("postgres://briefbot@127.0.0.1:{port}/state");
    // Far longer than the guard below: a question that waited for it would fail the test.
    settings.state.timeout_seconds = 300;
    let bot = std::sync::Arc::new(Bot::new(settings).unwrap());
    let guard = std::time::Duration::from_secs(60);
    let asked = tokio::time::timeout(guard, async {
        for _ in 0..3 {
            let over = bot
                .over_limit_in(42, Some(5), briefbot::discord::rules::Use::Question)
                .await;
            assert!(over.is_none());
            let m = bot.ask(ask("cod quota")).await;
            assert_eq!(quoted_ids(&m)[0], "notes/fisheries:1");
        }
    })
    .await;
    assert!(asked.is_ok(), "a question waited for the database");
    drop(silent);
}
