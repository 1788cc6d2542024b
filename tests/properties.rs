//! Property tests over arbitrary input: questions, passages and files never make the
//! answering path panic, and what it returns is well-formed.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use briefbot::answer::answer;
use briefbot::app;
use briefbot::ingest::{self, IngestOptions};
use briefbot::render::{self, Marks};
use briefbot::search::{Engine, Ranking};
use common::Workspace;
use proptest::prelude::*;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(Workspace, Engine)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| {
            let ws = Workspace::with_fixtures();
            let opened = app::open_or_build(&ws.settings(), Ranking::Full).unwrap();
            (ws, opened.engine)
        })
        .1
}

/// Questions mixing words of the fixtures with query syntax and odd Unicode.
fn question() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("cod".to_string()),
        Just("quota".to_string()),
        Just("Velmora".to_string()),
        Just("sleeper".to_string()),
        Just("AND".to_string()),
        Just("title:".to_string()),
        Just("\"".to_string()),
        Just("(".to_string()),
        Just("*~^".to_string()),
        Just("@everyone".to_string()),
        Just("\u{200b}\u{202e}".to_string()),
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn answering_any_question_is_well_formed(q in question()) {
        let engine = engine();
        match answer(engine, &q, 3, 0.4, None) {
            Err(briefbot::answer::AnswerError::Empty) => prop_assert!(q.trim().is_empty()),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
            Ok(a) => {
                prop_assert!(a.quotes.len() <= 3);
                prop_assert!(a.is_covered() || !a.nearest.is_empty());
                for hit in &a.quotes {
                    let text = &hit.passage.text;
                    prop_assert!(text.get(hit.best_sentence.clone()).is_some());
                    let mut last = 0;
                    for h in &hit.highlights {
                        prop_assert!(h.start >= last && h.start < h.end);
                        prop_assert!(text.get(h.clone()).is_some());
                        last = h.end;
                    }
                }
                let json = render::json::to_value(&a);
                prop_assert!(serde_json::to_string(&json).is_ok());
                let text = render::terminal::render(&a, false, 80);
                prop_assert!(!text.is_empty());
            }
        }
    }

    #[test]
    fn marking_any_ranges_keeps_the_text(
        text in any::<String>(),
        ranges in prop::collection::vec((0usize..64, 0usize..64), 0..8),
        sentence in (0usize..64, 0usize..64),
    ) {
        let ranges: Vec<_> = ranges.into_iter().map(|(a, b)| a..b).collect();
        let marks = Marks { term: ("", ""), sentence: ("", "") };
        let marked = render::mark(&text, &ranges, Some(&(sentence.0..sentence.1)), &marks, &|s| s.to_string());
        prop_assert_eq!(marked, text);
    }

    #[test]
    fn parsing_any_file_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400), ext in prop_oneof![Just("txt"), Just("md"), Just("html")]) {
        let options = IngestOptions::from_settings(&briefbot::config::Settings::defaults_in(Path::new(".")));
        let name = format!("f.{ext}");
        if let Ok(parsed) = ingest::parse(Path::new(&name), &bytes, &options) {
            for p in parsed.paragraphs {
                prop_assert!(!p.text.is_empty());
                prop_assert_eq!(p.text.trim(), p.text.as_str());
            }
        }
    }

    #[test]
    fn parsing_any_text_never_panics(
        prefix in prop_oneof![Just(""), Just("---\n"), Just("+++\n"), Just("---\ntitle: x\n---\n"), Just("<html><p>"), Just("# ")],
        text in any::<String>(),
        ext in prop_oneof![Just("txt"), Just("md"), Just("html")],
    ) {
        let options = IngestOptions::from_settings(&briefbot::config::Settings::defaults_in(Path::new(".")));
        let name = format!("f.{ext}");
        let _ = ingest::parse(Path::new(&name), format!("{prefix}{text}").as_bytes(), &options);
    }
}
