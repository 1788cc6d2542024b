//! The bot's behaviour without Discord: the same answering path as the CLI, the
//! messages it renders, buttons, reindexing while answering, votes and stats.

mod common;

use std::fs;

use briefbot::discord::bot::{Ask, Bot};
use briefbot::discord::check_token;
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
    let labels: Vec<&str> = m.rows.iter().flatten().map(|b| b.label.as_str()).collect();
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
    let labels: Vec<&str> = private
        .rows
        .iter()
        .flatten()
        .map(|b| b.label.as_str())
        .collect();
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
    let m = bot.passage("notes/fisheries:2", true, false).await;
    let d = description(&m);
    assert!(
        d.contains("*¶1*") && d.contains("**¶2**") && d.contains("*¶3*"),
        "{d}"
    );
    assert!(d.contains("Small-boat fleets"));
    assert!(d.contains("Larger trawlers can switch to haddock."));
    let first = bot.passage("notes/fisheries:1", true, false).await;
    assert!(!description(&first).contains("*¶0*"));
    let missing = bot.passage("nope:1", false, false).await;
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
    let page1 = bot.sources(0);
    let labels: Vec<&str> = page1
        .rows
        .iter()
        .flatten()
        .map(|b| b.label.as_str())
        .collect();
    assert_eq!(labels, ["▶"]);
    assert!(description(&page1).contains("Extra 0"));
    let page2 = bot.sources(1);
    let labels: Vec<&str> = page2
        .rows
        .iter()
        .flatten()
        .map(|b| b.label.as_str())
        .collect();
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

    let choices = bot.briefing_choices("FISH");
    assert_eq!(
        choices,
        [(
            "Fisheries Quotas: What Changed in 2024".to_string(),
            "notes/fisheries".to_string()
        )]
    );
    assert_eq!(
        bot.passage_choices("grid"),
        ["notes/grid:1", "notes/grid:2"]
    );
    assert!(bot.passage_choices("").len() <= 25);
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

    let dry = bot.reindex(&moderator(), true).await;
    assert!(
        dry.content.contains("Dry run") && dry.content.contains("1 added"),
        "{}",
        dry.content
    );
    assert_eq!(bot.engine().manifest().version, before);

    let moderator = moderator();
    let (first, second, answer) = tokio::join!(
        bot.reindex(&moderator, false),
        bot.reindex(&moderator, false),
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
async fn votes_are_appended_without_user_names() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    bot.vote("cod quota?", "notes/fisheries:1", true)
        .await
        .unwrap();
    bot.vote("cod quota?", "notes/fisheries:2", false)
        .await
        .unwrap();
    let text = fs::read_to_string(ws.path().join("feedback.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["vote"], "up");
    assert_eq!(lines[1]["passage"], "notes/fisheries:2");
    assert_eq!(lines[1]["question"], "cod quota?");
    let keys: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn stats_count_answered_questions() {
    let ws = Workspace::with_fixtures();
    let bot = bot(&ws);
    bot.ask(ask("cod quota")).await;
    bot.ask(ask("night trains")).await;
    let s = bot.stats(&[]).content;
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
