//! The re-ranker: its weights come from `[search.weights]`, `--ranking bm25` and
//! `search.rerank = false` leave it out, and `eval --fit` fits weights that `ask` can use.

mod common;

use std::fs;

use common::Workspace;

const QUESTION: &str = "When did the Velmora bridge open?";

/// A workspace whose content is one Markdown briefing, `file`, of `title` and `body`.
fn one_briefing(file: &str, title: &str, body: &str) -> Workspace {
    let ws = Workspace::empty();
    fs::write(
        ws.content().join(file),
        format!("---\ntitle: {title}\n---\n\n{body}"),
    )
    .unwrap();
    ws
}

/// Two paragraphs that match the question: a short one that repeats its words (BM25's
/// favourite) without a date, and a long one that holds the answer (a year).
fn bridges() -> Workspace {
    one_briefing(
        "bridges.md",
        "Town Notes",
        "The Velmora bridge is open; the Velmora bridge is busy; the Velmora bridge is loved.\n\n\
         Built over four years by a local firm, the Velmora bridge finally opened to traffic in \
         1998 after a long delay, linking the two halves of the old town and the markets along \
         the river.\n\n\
         The river markets sell fish, bread and flowers every morning.\n",
    )
}

fn order(ws: &Workspace, extra: &[&str]) -> Vec<String> {
    let out = ws
        .cmd()
        .args(["ask", "--json", "-k", "3"])
        .args(extra)
        .arg(QUESTION)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

const ONLY: &str = "bm25 = 0\ncoverage = 0\nsentence = 0\nwindow = 0\npairs = 0\nrarest = 0\n\
                    answer_type = 0\nbriefing = 0\ntitle = 0\nphrase = 0\nrank = 0\n\
                    bm25_per_term = 0\nsentence_bm25 = 0\nnear = 0\nexact = 0\nnames = 0\nlength = 0\n";

fn weights(ws: &Workspace, overrides: &str) {
    let mut table = String::from("[search.weights]\n");
    for line in ONLY.lines() {
        let name = line.split(" =").next().unwrap();
        match overrides
            .lines()
            .find(|o| o.starts_with(&format!("{name} =")))
        {
            Some(o) => table.push_str(o),
            None => table.push_str(line),
        }
        table.push('\n');
    }
    fs::write(ws.config(), table).unwrap();
}

#[test]
fn the_weights_in_the_settings_decide_the_order() {
    let ws = bridges();
    weights(&ws, "length = -1");
    assert_eq!(order(&ws, &[]), ["bridges:1", "bridges:2"]);
    weights(&ws, "length = -1\nanswer_type = 5");
    assert_eq!(order(&ws, &[]), ["bridges:2", "bridges:1"]);
}

#[test]
fn an_unknown_feature_weight_is_named() {
    let ws = bridges();
    fs::write(ws.config(), "[search.weights]\nlenght = 1\n").unwrap();
    let out = ws.cmd().args(["ask", QUESTION]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("search.weights.lenght"));
}

#[test]
fn bm25_ranking_and_rerank_off_ignore_the_weights() {
    let ws = bridges();
    weights(&ws, "length = -1\nanswer_type = 5");
    let reranked = order(&ws, &[]);
    let questions = ws.path().join("q.jsonl");
    fs::write(
        &questions,
        format!("{{\"question\": \"{QUESTION}\", \"gold_contains\": \"opened to traffic\"}}\n"),
    )
    .unwrap();
    let eval = |extra: &[&str], env: Option<(&str, &str)>| {
        let mut cmd = ws.cmd();
        cmd.args(["eval", "--json", "--content"])
            .arg(ws.content())
            .arg("--questions")
            .arg(&questions)
            .args(extra);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["recall_at_1"].as_f64().unwrap()
    };
    assert_eq!(reranked[0], "bridges:2");
    assert_eq!(eval(&[], None), 1.0);
    // Without the re-ranker, BM25 prefers the short paragraph that repeats the words.
    assert_eq!(eval(&["--ranking", "bm25"], None), 0.0);
    assert_eq!(eval(&[], Some(("BRIEFBOT_SEARCH__RERANK", "false"))), 0.0);
}

#[test]
fn fit_prints_weights_that_the_settings_accept() {
    let ws = Workspace::with_fixtures();
    let stdout = ws.eval_fixtures(&["--fit"]);
    assert!(
        stdout.contains("in-sample") && stdout.contains("cross-validated"),
        "{stdout}"
    );
    let block = &stdout[stdout.find("[search.weights]").expect("a weights block")..];
    for name in briefbot::search::FEATURE_NAMES {
        assert!(
            block.contains(&format!("\n{name} = ")),
            "{name} missing in {block}"
        );
    }
    fs::write(ws.config(), block).unwrap();
    let answer = ws.ask_json("By how much was the cod quota cut?");
    assert_eq!(answer["hits"][0]["id"], "notes/fisheries:1");
}

/// Passages that tie on every feature are ranked in the index's row order (the briefings'
/// order), whatever segments and segment order a build leaves them in: building the same
/// briefings again gives the same answer, and so `eval`'s figures do not vary by build.
/// The re-ranker sees 20 candidates, so the cutoff falls among the tied passages: 22 of
/// them are settled among the few fetched past the cutoff, 40 need a wider second fetch.
#[test]
fn ties_rank_the_same_in_every_build() {
    for tied in [22, 40] {
        let ws = Workspace::empty();
        for i in 0..tied {
            fs::write(
                ws.content().join(format!("b{i:02}.md")),
                format!(
                    "---\ntitle: Notes {i:02}\n---\n\n\
                     Tidal turbines harvest energy from the moving sea.\n\n\
                     Item {i:02} is described elsewhere.\n"
                ),
            )
            .unwrap();
        }
        let settings = ws.settings();
        let writer = briefbot::app::Writer::acquire(&settings, "test").unwrap();
        let expected: Vec<String> = (0..5).map(|i| format!("b{i:02}:1")).collect();
        for build in 0..4 {
            writer.rebuild(&settings).unwrap();
            let ids: Vec<String> = common::search_live(&settings, "tidal turbines energy", 5)
                .unwrap()
                .into_iter()
                .map(|h| h.passage.id)
                .collect();
            assert_eq!(ids, expected, "{tied} tied passages, build {build}");
        }
    }
}

/// A decade the question names is found in a paragraph by a year of it: of two
/// paragraphs alike but for their years, the one of the seventies is quoted first for a
/// question about "the seventies", with its years in bold, though the other repeats more
/// of the question's words.
#[test]
fn a_decade_is_found_by_its_years() {
    let ws = one_briefing(
        "independence.md",
        "Island Politics",
        "Support for independence grew, and support for the party grew, after the votes \
         of 1984 and 1988 in the northern districts.\n\n\
         Support for independence grew after the discovery of oil in 1974 and the vote of \
         1978 in the northern districts.\n\n\
         The harbour trade brings fish and timber to the markets every week.\n",
    );
    for question in [
        "why did support for independence grow in the seventies",
        "why did support for independence grow in the 1970s",
        "why did support for independence grow in the '70s",
    ] {
        let a = ws.ask_json(question);
        assert_eq!(a["covered"], true, "{question}: {a}");
        let first = &a["hits"][0];
        assert_eq!(first["id"], "independence:2", "{question}: {a}");
        let bold = common::highlighted(first);
        assert!(
            bold.iter().any(|w| w == "1974") && bold.iter().any(|w| w == "1978"),
            "{question}: {bold:?}"
        );
    }
    // The eighties are found in the other paragraph, and a question naming no time finds
    // the paragraph that repeats its words.
    let a = ws.ask_json("why did support for independence grow in the eighties");
    assert_eq!(a["hits"][0]["id"], "independence:1", "{a}");
    let a = ws.ask_json("why did support for independence grow");
    assert_eq!(a["hits"][0]["id"], "independence:1", "{a}");
}

/// A word the question spells the British or the American way is found in a paragraph
/// that spells it the other way: "defence" finds "defense" (in bold), "organization"
/// finds "organisation", though another paragraph repeats the question's other words.
#[test]
fn a_word_is_found_in_its_other_spelling() {
    let ws = one_briefing(
        "budgets.md",
        "Budget Notes",
        "The city budget grew again; the school budget and the harbour budget grew with \
         it, as every budget of the region did this year.\n\n\
         The defense budget will reach two percent of output by 2027, the ministry said.\n\n\
         The treaty organisation meets each spring to agree its members' contributions.\n",
    );
    let a = ws.ask_json("how large is the defence budget");
    assert_eq!(a["covered"], true, "{a}");
    assert_eq!(a["hits"][0]["id"], "budgets:2", "{a}");
    let bold = common::highlighted(&a["hits"][0]);
    assert!(bold.iter().any(|w| w == "defense"), "{bold:?}");
    let a = ws.ask_json("when does the treaty organization meet");
    assert_eq!(a["hits"][0]["id"], "budgets:3", "{a}");
    assert!(
        common::highlighted(&a["hits"][0])
            .iter()
            .any(|w| w == "organisation"),
        "{a}"
    );
    // A word of the question spelt the paragraph's way is found as before.
    let a = ws.ask_json("how large is the defense budget");
    assert_eq!(a["hits"][0]["id"], "budgets:2", "{a}");
}

/// A question's word is found in another form of it that the stemmer leaves apart: "pays"
/// finds "payments" (in bold) and "wrote" finds "written", though another paragraph
/// repeats the question's other words; a look-alike of another meaning is not taken
/// for the word ("found" is not "find").
#[test]
fn a_word_is_found_in_its_other_forms() {
    let ws = one_briefing(
        "panel.md",
        "Panel Notes",
        "The climate panel met in Geneva; the panel heard experts; the panel is large.\n\n\
         Annual payments to the climate panel's trust fund are made by its members.\n\n\
         The charter was written by three lawyers from the panel's first members.\n\n\
         The panel was founded in 1988 to find common ground on the charter.\n",
    );
    let a = ws.ask_json("who pays for the climate panel");
    assert_eq!(a["covered"], true, "{a}");
    assert_eq!(a["hits"][0]["id"], "panel:2", "{a}");
    let bold = common::highlighted(&a["hits"][0]);
    assert!(bold.iter().any(|w| w == "payments"), "{bold:?}");
    let a = ws.ask_json("who wrote the panel charter");
    assert_eq!(a["hits"][0]["id"], "panel:3", "{a}");
    assert!(
        common::highlighted(&a["hits"][0])
            .iter()
            .any(|w| w == "written"),
        "{a}"
    );
    // "found" is left apart from "find" (to found is another word): "founded" is not
    // taken for the question's word.
    let a = ws.ask_json("what did the panel find about the charter");
    assert!(
        !common::highlighted(&a["hits"][0])
            .iter()
            .any(|w| w == "found" || w == "founded"),
        "{a}"
    );
}
