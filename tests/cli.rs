//! The `briefbot` command as a user runs it: ask, sources, index, eval, settings errors.

mod common;

use common::Workspace;
use serde_json::Value;

const JJOC_TITLE: &str =
    "The Sun Rises over the Shining Sea: Bolstering US-Japan Cooperation in the Indo-Pacific";

#[test]
fn jjoc_question_is_answered_by_paragraph_five_on_a_fresh_checkout() {
    let ws = Workspace::with_bundled_briefing();
    assert!(!ws.index().exists());
    let answer = ws.ask_json("What is J-JOC?");
    let first = &answer["hits"][0];
    assert_eq!(first["id"], "us-japan-indo-pacific:5");
    assert_eq!(first["briefing"], JJOC_TITLE);
    assert_eq!(first["section"], "What is the broader picture?");
    assert_eq!(first["paragraph"], 5);
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .contains("Japan Joint Operations Command (J-JOC)")
    );
    for hit in answer["hits"].as_array().unwrap() {
        assert_ne!(hit["text"], "Close this search box.");
    }
    assert!(
        ws.current_version().is_some(),
        "the index was built on first use"
    );
}

#[test]
fn json_answer_has_the_documented_shape() {
    let ws = Workspace::with_fixtures();
    let answer = ws.ask_json("How deep will the Velmora channel be dredged?");
    let obj = answer.as_object().unwrap();
    for key in ["question", "index_version", "hits"] {
        assert!(obj.contains_key(key), "missing {key}");
    }
    assert_eq!(
        answer["question"],
        "How deep will the Velmora channel be dredged?"
    );
    assert_eq!(
        answer["index_version"].as_str().unwrap(),
        ws.current_version().unwrap().trim_start_matches("v-")
    );
    let hits = answer["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 3);
    let keys = [
        "id",
        "briefing",
        "section",
        "paragraph",
        "url",
        "date",
        "source",
        "score",
        "text",
        "highlights",
        "best_sentence",
    ];
    for hit in hits {
        let hit = hit.as_object().unwrap();
        for key in keys {
            assert!(hit.contains_key(key), "hit misses {key}");
        }
        let text = hit["text"].as_str().unwrap();
        assert!(text.contains(hit["best_sentence"].as_str().unwrap()));
        for range in hit["highlights"].as_array().unwrap() {
            let (start, end) = (
                range[0].as_u64().unwrap() as usize,
                range[1].as_u64().unwrap() as usize,
            );
            let word = text.get(start..end).expect("highlight on char boundaries");
            assert!(word.chars().all(char::is_alphanumeric), "{word:?}");
        }
    }
    let first = &hits[0];
    assert_eq!(first["id"], "harbour-report:1");
    let marked = common::highlighted(first);
    assert!(
        ["Velmora", "dredging", "channel"]
            .iter()
            .all(|w| marked.iter().any(|m| m == w)),
        "{marked:?}"
    );
    assert!(
        hits.windows(2)
            .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64())
    );
}

#[test]
fn text_answer_quotes_and_cites() {
    let ws = Workspace::with_fixtures();
    let out = ws
        .cmd()
        .args(["ask", "night", "trains", "subsidy"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("> The **subsidy** is capped"), "{stdout}");
    let unwrapped = stdout.replace("\n  ", " ");
    assert!(
        unwrapped.contains("— Night Trains Return — Costs, ¶3, 2025-01-15 — https://example.org/briefings/night-trains [rail:3]"),
        "{stdout}"
    );
}

#[test]
fn unrelated_question_says_not_covered_and_names_briefings() {
    let ws = Workspace::with_fixtures();
    let answer = ws.ask_json("What is the population of Mars colonies?");
    assert_eq!(answer["covered"], false);
    assert!(answer["hits"].as_array().unwrap().is_empty());
    assert!(!answer["nearest_briefings"].as_array().unwrap().is_empty());
    let out = ws
        .cmd()
        .args(["ask", "Which harbour hosts the Mars colonies?"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("do not cover"), "{stdout}");
    assert!(
        stdout.contains("Harbour Dredging and the Port of Velmora"),
        "{stdout}"
    );
}

#[test]
fn hostile_questions_never_fail() {
    let ws = Workspace::with_fixtures();
    let long = "cod ".repeat(2500);
    let questions = [
        "title:x",
        "\"",
        "(",
        "*",
        "~",
        "^",
        "AND OR NOT",
        "cod AND (quota",
        "\"unclosed phrase",
        "text:cod^3 OR body:~2",
        "@everyone <@&123> <@456>",
        "```rust\nfn main(){}\n```",
        "\u{202e}cod\u{200b}quota\u{0007}",
        "🐟🐟 cod?",
        long.as_str(),
        "-k",
        "--json",
    ];
    for q in questions {
        let out = ws.cmd().args(["ask", "--json", "--", q]).output().unwrap();
        assert!(
            out.status.success(),
            "{q:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["hits"].is_array());
    }
}

#[test]
fn empty_question_is_a_clear_error() {
    let ws = Workspace::with_fixtures();
    let out = ws.cmd().args(["ask", "   "]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the question is empty"));
}

#[test]
fn k_and_briefing_restrict_the_answer() {
    let ws = Workspace::with_fixtures();
    let out = ws
        .cmd()
        .args([
            "ask",
            "--json",
            "-k",
            "1",
            "--briefing",
            "notes/grid",
            "repair cable months 2027",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert!(hits[0]["id"].as_str().unwrap().starts_with("notes/grid:"));
    let out = ws
        .cmd()
        .args(["ask", "--briefing", "nope", "cable"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no briefing `nope`"));
}

#[test]
fn sources_lists_every_briefing() {
    let ws = Workspace::with_fixtures();
    let out = ws.cmd().arg("sources").output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "4 briefings, 12 passages",
        "Harbour Dredging and the Port of Velmora",
        "harbour-report.txt · 3 paragraphs · no date",
        "Fisheries Quotas: What Changed in 2024",
        "notes/fisheries.md · 4 paragraphs · 2024-06-02",
        "Night Trains Return",
        "Power Grid Interconnectors",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{stdout}"
        );
    }
}

#[test]
fn index_reports_skipped_files_and_dry_run_touches_nothing() {
    let ws = Workspace::with_fixtures();
    ws.add_bad("latin1.txt");
    let out = ws.cmd().args(["index", "--dry-run"]).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("Would index 4 briefings, 12 passages"),
        "{stdout}"
    );
    assert!(
        stdout.contains("12 added, 0 changed, 0 removed"),
        "{stdout}"
    );
    assert!(stdout.contains("latin1.txt: not UTF-8"), "{stdout}");
    assert!(!ws.index().exists(), "a dry run wrote the index");

    let out = ws.cmd().arg("index").output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("Indexed 4 briefings, 12 passages"),
        "{stdout}"
    );
    assert!(stdout.contains("Skipped 1 file:"), "{stdout}");
    let version = ws.current_version().unwrap();

    let grid = ws.content().join("notes/grid.md");
    let edited = std::fs::read_to_string(&grid)
        .unwrap()
        .replace("1,400", "2,000");
    std::fs::write(&grid, edited).unwrap();
    std::fs::remove_file(ws.content().join("rail.html")).unwrap();
    let dry_run = || {
        let out = ws.cmd().args(["index", "--dry-run"]).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let stdout = dry_run();
    assert!(stdout.contains("0 added, 1 changed, 3 removed"), "{stdout}");
    assert!(stdout.contains("changed: notes/grid:1"), "{stdout}");
    assert!(
        stdout.contains("removed: rail:1, rail:2, rail:3"),
        "{stdout}"
    );
    assert!(stdout.contains("(1 file read)"), "{stdout}");
    assert_eq!(
        ws.current_version().unwrap(),
        version,
        "a dry run changed the index"
    );
    // A full rebuild's diff (from the fingerprints the index keeps in a fast field, not
    // from the stored passages an update reads) says the same.
    let out = ws.cmd().args(["index", "--full"]).output().unwrap();
    let full = String::from_utf8(out.stdout).unwrap();
    assert!(full.contains("a full rebuild"), "{full}");
    assert!(full.contains("0 added, 1 changed, 3 removed"), "{full}");
    assert!(full.contains("changed: notes/grid:1"), "{full}");
    assert!(full.contains("removed: rail:1, rail:2, rail:3"), "{full}");
}

#[test]
fn eval_reports_the_metrics_without_touching_the_index() {
    let ws = Workspace::empty();
    let r: Value = serde_json::from_str(&ws.eval_fixtures(&["--json"])).unwrap();
    assert_eq!(r["questions"], 6);
    assert_eq!(r["passages"], 12);
    assert_eq!(r["gold_missing"], 1);
    // Every question whose gold exists is found in the top 10; the one about the
    // contractor names it only in the paragraph after the one about the programme.
    let at = |key: &str| r[key].as_f64().unwrap();
    assert!((at("recall_at_10") - 5.0 / 6.0).abs() < 1e-9, "{r}");
    assert!(at("recall_at_1") >= 4.0 / 6.0 - 1e-9, "{r}");
    assert!(at("recall_at_1") <= at("recall_at_3") && at("recall_at_3") <= at("recall_at_10"));
    assert!(at("mrr_at_10") >= at("recall_at_1") && at("mrr_at_10") <= at("recall_at_10"));
    for key in [
        "recall_at_3",
        "recall_at_10",
        "mrr_at_10",
        "ndcg_at_10",
        "questions_per_second",
        "index_seconds",
    ] {
        assert!(r[key].is_number(), "{key}");
    }
    assert!(r["latency_ms"]["p50"].is_number() && r["latency_ms"]["p99"].is_number());
    assert!(!ws.index().exists(), "eval wrote index.dir");
}

#[test]
fn settings_errors_name_the_key() {
    let ws = Workspace::with_fixtures();
    std::fs::write(ws.config(), "[search]\ntop_k = 0\n").unwrap();
    let out = ws.cmd().args(["ask", "cod"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("search.top_k"));

    std::fs::write(ws.config(), "[serch]\ntop_k = 2\n").unwrap();
    let out = ws.cmd().args(["ask", "cod"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("serch"));

    std::fs::write(ws.config(), "").unwrap();
    let out = ws
        .cmd()
        .env("BRIEFBOT_SEARCH__TOP_K", "lots")
        .args(["ask", "cod"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("top_k"));
}

#[test]
fn a_missing_config_file_given_with_the_flag_is_an_error() {
    let ws = Workspace::with_fixtures();
    let out = assert_cmd::Command::from_std(common::briefbot())
        .current_dir(ws.path())
        .args(["--config", "/nonexistent/briefbot.toml", "sources"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/briefbot.toml"));
}

/// `briefbot read --all | head`: a reader that stops early ends briefbot quietly (SIGPIPE),
/// never with a panic. The briefing is longer than any pipe buffer.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let ws = Workspace::empty();
    let long: String = (1..=1500)
        .map(|n| format!("Paragraph {n} says the harbour was dredged again this winter.\n\n"))
        .collect();
    std::fs::write(ws.content().join("long.md"), format!("# Long\n\n{long}")).unwrap();
    assert!(ws.cmd().arg("index").output().unwrap().status.success());
    let mut child = common::briefbot()
        .arg("--config")
        .arg(ws.config())
        .args(["read", "long", "--all"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.signal(), Some(13), "ended by SIGPIPE");
}

/// `briefbot gaps` gives the operator the unanswered-questions report: a period of one day
/// and a group of one question are said in the singular.
#[test]
fn gaps_reports_what_went_unanswered() {
    use briefbot::state::{self, Store, gaps};
    let ws = Workspace::with_fixtures();
    let settings = ws.settings();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::open(&settings).await.unwrap();
        let at = state::now() - 60;
        let refused = gaps::Unanswered {
            at,
            guild: Some(5),
            kind: gaps::Kind::Refused,
            question: "Who pays for tidal power?".into(),
            index_version: None,
            nearest: vec!["Night Trains Return".into()],
            passage: None,
            reason_kind: None,
            reason: None,
            interaction: None,
        };
        assert!(gaps::record(&store, &refused).await.unwrap());
        for _ in 0..4 {
            gaps::count_question(&store, Some(5), at).await.unwrap();
        }
        store.close().await;
    });
    let out = ws.cmd().args(["gaps", "--days", "1"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(
            "1 of 4 questions unanswered in the last 1 day (25.0 %); the 1 day before: 0 of 0 \
             (-)\n\n1. 1 question (1 not covered, 0 voted down); nearest: Night Trains Return"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Who pays for tidal power?"), "{stdout}");
}
