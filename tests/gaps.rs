//! The unanswered-questions report's grouping, measured on questions with known topics
//! (`tests/fixtures/gaps`: 32 questions on 4 topics, in members' words, interleaved as they
//! would arrive), and the report built from recorded rows.

mod common;

use briefbot::gaps;
use briefbot::state::gaps::{Kind, Unanswered};

#[test]
fn nine_in_ten_questions_land_in_their_topics_group_by_shared_words() {
    let (questions, topics) = common::gaps_fixture("questions.jsonl");
    let q: Vec<&str> = questions.iter().map(String::as_str).collect();
    let t: Vec<&str> = topics.iter().map(String::as_str).collect();
    let groups = gaps::group(&q, None);
    let purity = gaps::purity(&groups, &t);
    eprintln!(
        "questions.jsonl, by shared words: {} groups, {purity:.3} in their topic's group",
        groups.len()
    );
    assert!(purity >= 0.9, "{purity}: {groups:?}");
    assert_eq!(groups.len(), 4, "{groups:?}");
    // A held-out set (3 topics × 6, not used to choose the threshold) does less well by
    // words alone: a guard, and the figure the README reports.
    let (questions, topics) = common::gaps_fixture("held_out.jsonl");
    let q: Vec<&str> = questions.iter().map(String::as_str).collect();
    let t: Vec<&str> = topics.iter().map(String::as_str).collect();
    let groups = gaps::group(&q, None);
    let purity = gaps::purity(&groups, &t);
    eprintln!(
        "held_out.jsonl, by shared words: {} groups, {purity:.3} in their topic's group",
        groups.len()
    );
    assert!(purity >= 0.75, "{purity}: {groups:?}");
}

fn row(question: &str, kind: Kind, nearest: &[&str], reason: Option<(&str, &str)>) -> Unanswered {
    Unanswered {
        at: 100,
        guild: Some(5),
        kind,
        question: question.into(),
        index_version: None,
        nearest: nearest.iter().map(|s| s.to_string()).collect(),
        passage: None,
        reason_kind: reason.map(|r| r.0.to_string()),
        reason: reason.map(|r| r.1.to_string()),
        interaction: None,
    }
}

#[test]
fn the_report_counts_each_group_with_examples_nearest_briefings_and_reasons() {
    let rows = [
        row("Is tidal power cheap?", Kind::Refused, &["Energy"], None),
        row("When do night trains run?", Kind::Refused, &["Rail"], None),
        row(
            "Who pays for tidal power?",
            Kind::Down,
            &["Energy"],
            Some(("outdated", "2019 figures")),
        ),
        row(
            "How big is a tidal barrage?",
            Kind::Refused,
            &["Energy", "Rivers"],
            None,
        ),
    ];
    let r = gaps::report(&rows, None, (rows.len(), 40), (1, 20));
    assert_eq!(r.groups.len(), 2, "{r:?}");
    let tidal = &r.groups[0];
    assert_eq!(tidal.count, 3);
    assert_eq!(
        tidal.examples[0], "How big is a tidal barrage?",
        "newest first"
    );
    assert_eq!(tidal.nearest[0], "Energy");
    assert_eq!((tidal.refused, tidal.voted_down), (2, 1));
    assert_eq!(
        tidal.reasons,
        [(
            "Who pays for tidal power?".to_string(),
            "outdated".to_string(),
            Some("2019 figures".to_string())
        )]
    );
    assert_eq!(r.share(), Some(0.1));
    assert_eq!(r.previous_share(), Some(0.05));
}

#[test]
fn every_page_of_a_large_report_stays_within_discords_limits() {
    let long = "why ".repeat(300);
    let rows: Vec<Unanswered> = (0..400)
        .map(|i| {
            let q = format!("{long} question {i} about topic{}", i % 37);
            let title = "A briefing with a very long title ".repeat(10);
            row(&q, Kind::Down, &[title.as_str()], Some(("other", &long)))
        })
        .collect();
    let r = gaps::report(&rows, None, (rows.len(), 1000), (0, 0));
    let pages = r
        .groups
        .len()
        .div_ceil(briefbot::render::discord::state::GAPS_PER_PAGE);
    assert!(pages > 1, "{}", r.groups.len());
    for page in 0..pages {
        let slug = "s".repeat(90);
        let m =
            briefbot::render::discord::state::gaps_message(&r, 30, Some(&slug), Some("T"), page);
        assert!(m.within_limits(), "page {page}");
        assert!(m.rows.iter().flatten().all(|b| b.id.len() <= 100));
    }
}
