//! Fuzzes the answering path with arbitrary questions: search, answer, and every
//! rendering (terminal, JSON, Discord). Any panic, or a Discord message outside the
//! limits or able to mention someone, is a finding.
//!
//! Run with: `cargo +nightly fuzz run answer` (from the project's top folder).

#![no_main]

use std::sync::OnceLock;

use briefbot::answer::{AnswerError, answer};
use briefbot::app;
use briefbot::config::Settings;
use briefbot::render;
use briefbot::render::discord::{AnswerLayout, answer_message};
use briefbot::search::{Engine, Ranking};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let content = dir.path().join("content");
            std::fs::create_dir_all(&content).unwrap();
            let bundled = concat!(env!("CARGO_MANIFEST_DIR"), "/../content/us-japan-indo-pacific.txt");
            std::fs::copy(bundled, content.join("us-japan-indo-pacific.txt")).unwrap();
            let settings = Settings::defaults_in(dir.path());
            let engine = app::open_or_build(&settings, Ranking::Full, None).unwrap().engine;
            (dir, engine)
        })
        .1
}

fuzz_target!(|data: &[u8]| {
    let question = String::from_utf8_lossy(data);
    match answer(engine(), &question, 3, None) {
        Err(AnswerError::Empty) => assert!(question.trim().is_empty()),
        Err(e) => panic!("search failed: {e}"),
        Ok(a) => {
            let _ = render::terminal::render(&a, true, 80);
            let _ = render::json::to_string(&a);
            let layout = AnswerLayout::new(3, 1);
            let m = answer_message(&a, &layout);
            assert!(m.within_limits());
            for text in m.texts() {
                assert!(!text.contains("@everyone") && !text.contains("@here"));
            }
        }
    }
});
