//! Study groups: reading page by page, quizzes, citations — through the library, the CLI
//! and the bot's messages (no network).

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use briefbot::app;
use briefbot::discord::bot::{Bot, QuizPress};
use briefbot::render::discord::state::ScoreNote;
use briefbot::render::discord::{ids, study as render};
use briefbot::search::{Engine, Ranking, analyze};
use briefbot::state::quiz::Period;
use briefbot::study::facts::{self, Kind};
use briefbot::study::{quiz, reading::Reading};
use common::{Workspace, fixtures};

/// The fixtures, the quiz fixture and the bundled briefing.
fn workspace() -> Workspace {
    let ws = Workspace::with_fixtures();
    std::fs::copy(
        fixtures().join("study/alliances.md"),
        ws.content().join("alliances.md"),
    )
    .unwrap();
    common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
        &ws.content(),
    );
    ws
}

fn engine(ws: &Workspace) -> Engine {
    app::open_or_build(&ws.settings(), Ranking::Full, None)
        .unwrap()
        .engine
}

/// Every fact of every passage: its text (lowercased) → the kinds it is found as.
fn all_facts(engine: &Engine) -> HashMap<String, HashSet<Kind>> {
    let mut out: HashMap<String, HashSet<Kind>> = HashMap::new();
    for b in &engine.manifest().briefings {
        for p in engine.briefing_passages(b).unwrap() {
            for s in analyze::sentences(&p.text) {
                let sentence = &p.text[s];
                for f in facts::facts(sentence) {
                    out.entry(sentence[f.range].to_lowercase())
                        .or_default()
                        .insert(f.kind);
                }
            }
        }
    }
    out
}

#[test]
fn quizzes_offer_four_different_choices_of_one_kind() {
    let ws = workspace();
    let engine = engine(&ws);
    let known = all_facts(&engine);
    let mut kinds = HashSet::new();
    for seed in 0..300 {
        let q = quiz::make(&engine, None, seed).unwrap();
        assert_eq!(q.choices.len(), 4, "seed {seed}");
        let normal: Vec<String> = q.choices.iter().map(|c| c.to_lowercase()).collect();
        for (i, a) in normal.iter().enumerate() {
            for b in &normal[i + 1..] {
                assert!(
                    a != b && !a.contains(b.as_str()) && !b.contains(a.as_str()),
                    "seed {seed}: {:?}",
                    q.choices
                );
            }
            assert!(
                known.get(a).is_some_and(|k| k.contains(&q.kind)),
                "seed {seed}: {a:?} is not a {:?} in the briefings ({:?})",
                q.kind,
                q.choices
            );
        }
        // The blank stands exactly where the right choice was.
        assert_eq!(&q.passage.text[q.fact.clone()], q.right_choice());
        assert_eq!(
            q.blanked.replacen(quiz::BLANK, q.right_choice(), 1),
            q.sentence
        );
        assert!(
            !q.blanked.contains(q.right_choice()),
            "seed {seed}: {}",
            q.blanked
        );
        kinds.insert(q.kind);
    }
    // The fixtures hold facts of many kinds, and quizzes use them.
    for k in [Kind::Year, Kind::Place, Kind::Person, Kind::Nationality] {
        assert!(
            kinds.contains(&k),
            "no {k:?} question in 300 seeds: {kinds:?}"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_quiz_and_a_briefing_limits_it() {
    let ws = workspace();
    let engine = engine(&ws);
    let a = quiz::make(&engine, None, 42).unwrap();
    let b = quiz::make(&engine, None, 42).unwrap();
    assert_eq!(
        (&a.passage.id, &a.choices, a.answer, a.check()),
        (&b.passage.id, &b.choices, b.answer, b.check())
    );
    let differs = (43..60).any(|s| quiz::make(&engine, None, s).unwrap().check() != a.check());
    assert!(differs, "other seeds give other quizzes");

    let info = engine.find_briefing("alliances").unwrap();
    for seed in 0..50 {
        let q = quiz::make(&engine, Some(info), seed).unwrap();
        assert_eq!(q.passage.slug, "alliances");
    }
    // A briefing with too few facts says so.
    let grid = engine.find_briefing("notes/grid").unwrap();
    let err = quiz::make(&engine, Some(grid), 1).unwrap_err().to_string();
    assert!(err.contains("Power Grid Interconnectors"), "{err}");

    // The CLI gives the same quiz for the same seed.
    let run = |seed: &str| ws.json(&["quiz", "--json", "--seed", seed]);
    let cli = run("42");
    assert_eq!(cli, run("42"));
    assert_eq!(cli["passage"]["id"], a.passage.id.as_str());
    assert_eq!(cli["choices"][a.answer], a.right_choice());
    let text = ws.cmd().args(["quiz", "--seed", "42"]).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "Quiz 42 — which {} fills the blank?",
            a.kind.noun()
        )) && text.contains(&format!(
            "Answer: {}) {}",
            char::from(b'A' + a.answer as u8),
            a.right_choice()
        )) && text.contains("Replay: briefbot quiz --seed 42"),
        "{text}"
    );
}

#[test]
fn reading_pages_follow_sections_and_number_paragraphs() {
    let ws = workspace();
    let engine = engine(&ws);
    let info = engine.find_briefing("Alliances in the North Sea").unwrap();
    let reading = Reading::open(&engine, info).unwrap();
    assert_eq!(reading.passages.len(), 7);
    let sections: Vec<String> = reading.sections().into_iter().map(|s| s.0).collect();
    assert_eq!(sections, ["Origins", "Growth", "Today"]);
    assert_eq!(reading.pages.len(), 3);
    assert_eq!(reading.page_of_section("tod"), Some(2));

    let out = ws
        .cmd()
        .args(["read", "alliances", "--section", "growth"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Alliances in the North Sea — page 2 of 3\n\n## Growth\n\n¶3 By 1973"),
        "{text}"
    );
    assert!(text.contains("¶5 Secretary Marta Lindqvist"), "{text}");
    assert!(
        text.contains("Next: briefbot read alliances --page 3"),
        "{text}"
    );
    let out = ws.cmd().args(["read", "notes"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("notes/fisheries") && err.contains("notes/grid"),
        "{err}"
    );
    let out = ws
        .cmd()
        .args(["read", "alliances", "--section", "tomorrow"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Origins · Growth · Today"), "{err}");
    let all = ws
        .cmd()
        .args(["read", "alliances", "--all"])
        .output()
        .unwrap();
    let all = String::from_utf8(all.stdout).unwrap();
    for n in 1..=7 {
        assert!(all.contains(&format!("¶{n} ")), "¶{n} missing: {all}");
    }
}

#[test]
fn cite_gives_the_citation_and_the_text() {
    let ws = workspace();
    let out = ws
        .cmd()
        .args(["cite", "notes/fisheries:1"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "“The council cut the cod quota by 12 percent for the northern zone, citing the \
         spawning stock survey published in May.”\n— Fisheries Quotas: What Changed in 2024 — \
         ¶1, 2024-06-02 — \
         https://example.org/briefings/fisheries-quotas [notes/fisheries:1]\n"
    );
    let out = ws
        .cmd()
        .args(["cite", "notes/fisheries:99"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no passage has the id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_pages_a_shared_reading_with_buttons_and_a_section_menu() {
    let ws = workspace();
    let bot = Bot::new(ws.settings()).unwrap();
    let m = bot.read(None, "alliances", None, None).await;
    assert!(m.within_limits() && !m.ephemeral);
    let e = m.embed.as_ref().unwrap();
    assert!(
        e.description
            .starts_with("__**Origins**__\n\n**¶1** The alliance"),
        "{}",
        e.description
    );
    assert!(
        e.footer
            .as_ref()
            .unwrap()
            .starts_with("page 1 of 3 · alliances")
    );
    // ▶ names the next page by its first paragraph, so it survives a restart.
    let next = &m.rows[0][0];
    assert_eq!(next.label, "▶");
    assert_eq!(
        ids::decode(&next.id),
        Some(ids::Action::Read {
            paragraph: 3,
            slug: "alliances".into()
        })
    );
    let menu = m.menu.as_ref().unwrap();
    assert_eq!(
        menu.options,
        [
            ("¶1 · Origins", "1"),
            ("¶3 · Growth", "3"),
            ("¶6 · Today", "6")
        ]
        .map(|(l, v)| (l.to_string(), v.to_string()))
    );
    let page3 = bot.read(None, "alliances", None, Some(6)).await;
    let d = &page3.embed.as_ref().unwrap().description;
    assert!(
        d.contains("**¶6** In 2019") && d.contains("**¶7** Defence"),
        "{d}"
    );
    assert_eq!(page3.rows[0].len(), 1, "the last page has only ◀");
    let by_section = bot.read(None, "alliances", Some("growth"), None).await;
    assert!(
        by_section
            .embed
            .unwrap()
            .description
            .contains("**¶3** By 1973")
    );
    let missing = bot.read(None, "zeppelins", None, None).await;
    assert!(missing.ephemeral && missing.content.contains("no briefing is called"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiz_answers_are_scored_once_per_member_per_question() {
    let ws = workspace();
    let bot = Bot::new(ws.settings()).unwrap();
    let m = bot.quiz(None, None, 7).await;
    assert!(m.within_limits() && !m.ephemeral);
    let choices: Vec<(usize, String)> = m.rows[0]
        .iter()
        .map(|b| match ids::decode(&b.id) {
            Some(ids::Action::Quiz {
                seed,
                pick,
                check,
                briefing,
            }) => {
                assert_eq!((seed, briefing), (7, None));
                (pick, check)
            }
            other => panic!("not a quiz button: {other:?}"),
        })
        .collect();
    assert_eq!(choices.len(), 4);
    let engine = bot.engine();
    let q = quiz::make(&engine, None, 7).unwrap();
    let check = q.check();
    let press = |user: u64, _name: &str| QuizPress {
        guild: Some(5),
        channel: 10,
        message: 20,
        user,
    };
    let right = bot
        .answer_quiz(press(1, "ada"), 7, q.answer, &check, None)
        .await;
    let text = &right.embed.as_ref().unwrap().description;
    assert!(
        right.ephemeral && text.starts_with("✅ **Right**"),
        "{text}"
    );
    assert!(
        text.contains(&format!("**{}**", q.right_choice()))
            && text.contains("score in this channel: **1/1**"),
        "{text}"
    );
    assert!(
        text.contains(&format!("`{}`", q.passage.id)),
        "the citation: {text}"
    );
    assert_eq!(
        ids::decode(&right.rows[0][0].id),
        Some(ids::Action::Context {
            id: q.passage.id.clone()
        }),
        "the paragraph it came from, with its neighbours"
    );
    let wrong = (q.answer + 1) % 4;
    let m = bot
        .answer_quiz(press(2, "bo"), 7, wrong, &check, None)
        .await;
    let text = &m.embed.as_ref().unwrap().description;
    assert!(
        text.starts_with("❌ Not quite") && text.contains("**0/1**"),
        "{text}"
    );
    // A second answer to the same question does not count.
    let again = bot
        .answer_quiz(press(2, "bo"), 7, q.answer, &check, None)
        .await;
    assert!(
        again
            .embed
            .unwrap()
            .description
            .contains("already answered")
    );
    // Members are shown as mentions (Discord shows their current names; nothing pings).
    let scores = bot
        .leaderboard(Some(5), 10, Period::All, false)
        .await
        .content;
    assert!(scores.contains("1. <@1> — 1/1\n2. <@2> — 0/1"), "{scores}");
    let other = bot
        .leaderboard(Some(5), 11, Period::All, false)
        .await
        .content;
    assert!(other.contains("No quiz answers in this channel"), "{other}");
    let server = bot
        .leaderboard(Some(5), 11, Period::Week, true)
        .await
        .content;
    assert!(
        server.contains("this server, this week\n1. <@1> — 1/1"),
        "{server}"
    );
    // A member's own history.
    let mine = bot.quiz_stats(2, Some(5), 10).await;
    assert!(mine.ephemeral);
    assert!(
        mine.content.contains("this week: **0/1** (0 %)")
            && mine.content.contains(&format!("❌ `{}`", q.passage.id)),
        "{}",
        mine.content
    );
    // A button whose quiz no longer matches the index is told so.
    let stale = bot
        .answer_quiz(press(3, "cy"), 7, 0, "00000000", None)
        .await;
    assert!(stale.content.contains("have changed since this quiz"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cite_in_discord_is_ready_to_paste_and_autocompletes_from_words() {
    let ws = workspace();
    let bot = Bot::new(ws.settings()).unwrap();
    let m = bot.cite(None, "rail:1").await;
    assert!(m.within_limits());
    assert!(
        m.content.starts_with("```\n“Three operators will run sleeper services")
            && m.content.contains("— Night Trains Return — ¶1, 2025-01-15 — https://example.org/briefings/night-trains [rail:1]\n```"),
        "{}",
        m.content
    );
    let choices = bot.cite_choices(None, "sleeper trains").await;
    assert_eq!(choices[0].1, "rail:1");
    assert!(choices[0].0.starts_with("rail:1 · Three operators"));
    assert_eq!(
        bot.cite_choices(None, "fisheries:").await[0].1,
        "notes/fisheries:1"
    );
}

#[test]
fn every_study_message_stays_within_discord_limits() {
    let ws = workspace();
    let engine = engine(&ws);
    for b in &engine.manifest().briefings {
        let reading = Reading::open(&engine, b).unwrap();
        for page in 0..reading.pages.len() {
            assert!(render::reading_message(&reading, page, "v").within_limits());
        }
        for p in &reading.passages {
            assert!(render::cite_message(p).within_limits());
        }
    }
    for seed in 0..50 {
        let q = quiz::make(&engine, None, seed).unwrap();
        assert!(render::quiz_message(&q).within_limits());
        for pick in 0..4 {
            assert!(
                render::quiz_result_message(&q, pick, ScoreNote::Counted(1, 2)).within_limits()
            );
        }
    }
}
