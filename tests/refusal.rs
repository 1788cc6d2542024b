//! "Not covered" only when the briefings don't cover it (issue 19): in libraries of one,
//! three and six paragraphs, every question a paragraph answers — in its own words or in
//! everyday ones — is quoted, and questions about other things are refused.

mod common;

use briefbot::answer::{answer, closest};
use briefbot::app;
use briefbot::search::{Engine, Ranking};
use common::{Workspace, copy_dir, fixtures};

fn engine_over(ws: &Workspace) -> Engine {
    app::open_or_build(&ws.settings(), Ranking::Full, None)
        .unwrap()
        .engine
}

fn small(name: &str) -> Workspace {
    let ws = Workspace::empty();
    copy_dir(&fixtures().join("small").join(name), &ws.content());
    ws
}

/// Each answerable question with the passage it must be answered by; then questions of
/// other topics, each of which must be refused.
fn check(engine: &Engine, answerable: &[(&str, &str)], off_topic: &[&str]) {
    for (question, id) in answerable {
        let a = answer(engine, question, 3, None).unwrap();
        assert!(
            a.is_covered(),
            "refused {question:?} (evidence {:.3})",
            a.verdict.evidence
        );
        assert_eq!(a.quotes[0].passage.id, *id, "{question:?}");
    }
    for question in off_topic {
        let a = answer(engine, question, 3, None).unwrap();
        assert!(
            !a.is_covered(),
            "answered {question:?} with {} (evidence {:.3})",
            a.quotes[0].passage.id,
            a.verdict.evidence
        );
        assert!(
            !a.nearest.is_empty(),
            "a refusal names the nearest briefings"
        );
    }
}

/// Regression: a question word the one-paragraph library lacks ("often") outweighed
/// every word it has, and the question its paragraph answers was refused.
#[test]
fn a_library_of_one_paragraph_answers_what_it_covers() {
    let ws = small("one");
    let engine = engine_over(&ws);
    check(
        &engine,
        &[
            ("how often does the quillwort estuary flood", "estuary:1"),
            ("quillwort estuary floods", "estuary:1"),
            (
                "when does the water come up at the ferry landing",
                "estuary:1",
            ),
            ("what makes the river fill with seawater", "estuary:1"),
            ("does the salt marsh get flooded", "estuary:1"),
        ],
        &[
            "Who won Super Bowl 50?",
            "What is the capital of France?",
            "How do I bake sourdough bread?",
            "how often do trains run",
        ],
    );
}

#[test]
fn a_library_of_three_paragraphs_answers_what_it_covers() {
    let ws = small("three");
    let engine = engine_over(&ws);
    check(
        &engine,
        &[
            ("why did mooring fees go up", "harbour:1"),
            ("how much more do boats pay to moor", "harbour:1"),
            ("what did the harbour board spend the money on", "harbour:1"),
            ("where do small boats go instead", "harbour:2"),
            ("is the marina cheaper", "harbour:2"),
            ("how often does the estuary flood", "estuary:1"),
        ],
        &[
            "Who painted the Mona Lisa?",
            "what is the boiling point of water",
            "when did the Roman empire fall",
        ],
    );
}

#[test]
fn the_bundled_briefing_of_six_paragraphs_answers_what_it_covers() {
    let ws = Workspace::with_bundled_briefing();
    let engine = engine_over(&ws);
    let id = |n: u32| format!("us-japan-indo-pacific:{n}");
    let (p1, p2, p4, p5) = (id(1), id(2), id(4), id(5));
    check(
        &engine,
        &[
            ("What is J-JOC?", p5.as_str()),
            (
                "who will be in charge of the new American headquarters in Japan",
                p5.as_str(),
            ),
            ("why is Japan spending more on its military", p2.as_str()),
            (
                "is Japan moving away from the Yoshida Doctrine",
                p2.as_str(),
            ),
            ("what will Japan and the US build together", p1.as_str()),
            (
                "does the alliance have a joint command like NATO",
                p4.as_str(),
            ),
        ],
        &[
            "Who won Super Bowl 50?",
            "How do vaccines work?",
            "What is the population of Brazil?",
            "what is the recipe for pancakes",
            "when is the next football world cup",
        ],
    );
}

/// Chatter made of the commonest English words alone says nothing to look for: each such
/// question shares its words with every paragraph, and was answered with whichever held
/// them most ("what is it", "of the", "is that so" quoted a paragraph with "is" and "the"
/// in bold). Refused now, saying so, with no nearest briefings (any would be chance); one
/// telling word is enough to be answered.
#[test]
fn a_question_of_the_commonest_words_alone_is_refused() {
    let ws = Workspace::with_bundled_briefing();
    let engine = engine_over(&ws);
    check(
        &engine,
        &[
            ("What is J-JOC?", "us-japan-indo-pacific:5"),
            ("what is the defense budget", "us-japan-indo-pacific:2"),
        ],
        &["what is the recipe for pancakes"],
    );
    for chatter in [
        "the",
        "and",
        "what is it",
        "what is this",
        "of the",
        "is that so",
        "what is this about",
        "thanks!",
        "Thanks, Briefbot!",
        "hi",
        "good morning",
        "ok cool",
    ] {
        let a = answer(&engine, chatter, 3, None).unwrap();
        assert!(
            !a.is_covered() && a.nearest.is_empty(),
            "{chatter:?}: {a:?}"
        );
        let shown = briefbot::render::terminal::render(&a, false, 80);
        assert_eq!(
            shown,
            "Nothing in this question says what to look for: ask about a subject of the \
             briefings.\n",
            "{chatter:?}"
        );
    }
    // Common words that can carry a question are no chatter.
    for vague in ["what are people's rights", "what is new this year"] {
        let a = answer(&engine, vague, 3, None).unwrap();
        assert!(a.verdict.telling, "{vague:?}: {a:?}");
    }
    let a = answer(&engine, "what is the recipe for pancakes", 3, None).unwrap();
    assert!(
        briefbot::render::terminal::render(&a, false, 80)
            .starts_with("The briefings do not cover this question.\nNearest briefings:\n")
    );
}

/// A member who thinks a refusal wrong can still see the closest paragraphs.
#[test]
fn the_closest_paragraphs_can_be_shown_anyway() {
    let ws = small("three");
    let engine = engine_over(&ws);
    let question = "what time does the ferry leave tomorrow morning";
    let refused = answer(&engine, question, 3, None).unwrap();
    assert!(!refused.is_covered() && refused.nearest == ["The Quillwort Estuary"]);
    let shown = closest(&engine, question, 0, 3, None).unwrap();
    assert!(shown.shown_anyway());
    assert_eq!(shown.quotes[0].passage.id, "estuary:1");
    let text = briefbot::render::terminal::render(&shown, false, 88);
    assert!(
        text.starts_with("The briefings may not cover this question"),
        "{text}"
    );
    let json = briefbot::render::json::to_value(&shown);
    assert_eq!(json["covered"], false);
    assert_eq!(json["hits"][0]["id"], "estuary:1");
}

/// The string `key` of each object of a JSON array.
fn each<'a>(array: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap())
        .collect()
}

/// `eval` reports what a member sees: refusals, false refusals, false answers.
#[test]
fn eval_counts_false_refusals_and_false_answers() {
    let ws = small("three");
    let questions = fixtures().join("small/three-questions.jsonl");
    let run = |extra: &[&str]| {
        let mut args = vec!["eval", "--json", "--misses", "--content"];
        let content = ws.content().display().to_string();
        let q = questions.display().to_string();
        args.push(&content);
        args.push("--questions");
        args.push(&q);
        args.extend_from_slice(extra);
        ws.json(&args)
    };
    let r = run(&[]);
    // Three answered right at rank 1; the Mona Lisa's gold is in no passage and is refused.
    assert_eq!(r["false_refusals"], 0, "{r}");
    assert_eq!(r["false_answers"], 0, "{r}");
    assert_eq!(r["gold_missing"], 1, "{r}");
    assert_eq!(r["answered_at_1"], 0.75, "{r}");
    assert_eq!(r["refused"], 0.25, "{r}");
    // Asked as off-topic, every answer is a false one.
    let off = run(&["--off-topic"]);
    assert_eq!(off["false_answers"], 3, "{off}");
    assert_eq!(off["answered_at_1"], 0.0, "{off}");
    assert_eq!(each(&off["misses"], "kind"), ["false answer"; 3]);
    // Without a model there is no cosine to tell.
    assert!(off["misses"][0].get("cosine").is_none(), "{off}");
}

/// `eval --misses` also lists the answers whose first quote is not the right paragraph,
/// and the refusals of questions a paragraph answers, each with where the right one ranks:
/// the failures to read one by one.
#[test]
fn eval_lists_wrong_first_quotes_with_the_right_ones_rank() {
    let ws = small("three");
    let questions = ws.path().join("q.jsonl");
    std::fs::write(
        &questions,
        concat!(
            r#"{"id": 1, "question": "why did mooring fees go up", "gold_contains": "raised mooring fees"}"#,
            "\n",
            r#"{"id": 2, "question": "why did mooring fees go up", "gold_contains": "cheaper marina at Pellow Cove"}"#,
            "\n",
            r#"{"id": 3, "question": "Who painted the Mona Lisa?", "gold_contains": "floods twice a fortnight"}"#,
            "\n",
        ),
    )
    .unwrap();
    let content = ws.content().display().to_string();
    let q = questions.display().to_string();
    let args = ["eval", "--content", &content, "--questions", &q, "--misses"];
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let r = ws.json(&json_args);
    assert_eq!(r["answered_at_1"], 1.0 / 3.0, "{r}");
    let misses = r["misses"].as_array().unwrap();
    let by_kind = |kind: &str| misses.iter().find(|m| m["kind"] == kind);
    let wrong = by_kind("wrong first").expect("a wrong first quote");
    assert_eq!(wrong["first"], "harbour:1", "{wrong}");
    // The rank `ask` gives the right paragraph (harbour:2).
    let asked = ws.json(&["ask", "--json", "-k", "10", "why did mooring fees go up"]);
    let ids = each(&asked["hits"], "id");
    let rank = ids.iter().position(|&id| id == "harbour:2").unwrap() + 1;
    assert!(rank > 1, "{ids:?}");
    assert_eq!(wrong["gold_rank"], rank, "{wrong} {ids:?}");
    let not_found = by_kind("not found").expect("a refusal of a covered question");
    assert!(
        not_found["question"]
            .as_str()
            .unwrap()
            .contains("Mona Lisa")
    );
    assert_eq!(misses.len(), 2, "{misses:?}");
    // The text lists them too, with the right one's rank.
    let out = ws.cmd().args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("wrong first")
            && text.contains(&format!("→ harbour:1 (right one at {rank})")),
        "{text}"
    );
}
