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
            let opened = app::open_or_build(&ws.settings(), Ranking::Full, None).unwrap();
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
        match answer(engine, &q, 3, None) {
            Err(briefbot::answer::AnswerError::Empty) => prop_assert!(q.trim().is_empty()),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
            Ok(a) => {
                prop_assert!(a.quotes.len() <= 3);
                // A refusal names the nearest briefings, but to chatter (no word says what
                // it is about): any would be chance.
                prop_assert!(a.is_covered() || a.nearest.is_empty() != a.verdict.telling);
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
    fn facts_of_any_sentence_are_ordered_slices_of_it(
        words in prop::collection::vec(prop_oneof![
            Just("President".to_string()),
            Just("Joe".to_string()),
            Just("Biden’s".to_string()),
            Just("General".to_string()),
            Just("Council".to_string()),
            Just("1,400".to_string()),
            Just("12%".to_string()),
            Just("$4 billion".to_string()),
            Just("March 3, 2024".to_string()),
            Just("Japan".to_string()),
            Just("of".to_string()),
            any::<String>(),
        ], 0..16)
    ) {
        let sentence = words.join(" ");
        let mut last = 0;
        for f in briefbot::study::facts::facts(&sentence) {
            prop_assert!(f.range.start >= last && f.range.start < f.range.end);
            prop_assert!(sentence.get(f.range.clone()).is_some());
            last = f.range.end;
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

mod discord_rendering {
    use briefbot::answer::Answer;
    use briefbot::index::BriefingInfo;
    use briefbot::ingest::Passage;
    use briefbot::render::discord::{
        AnswerLayout, Message, answer_message, ids, passage_message, sources_message,
    };
    use briefbot::search::Hit;
    use proptest::prelude::*;

    fn passage(
        text: String,
        title: String,
        id: String,
        section: Option<String>,
        url: Option<String>,
    ) -> Passage {
        Passage {
            id,
            slug: "s".into(),
            briefing: title,
            section,
            paragraph: 7,
            page: None,
            text,
            url,
            date: Some("2024-01-01".into()),
            author: None,
            tags: Vec::new(),
            source: "s.md".into(),
        }
    }

    /// Text mixing prose with Discord's special characters and mention syntax.
    fn hostile_text(max: usize) -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("The council cut the quota. ".to_string()),
            Just("@everyone ".to_string()),
            Just("@here ".to_string()),
            Just("<@123456789> ".to_string()),
            Just("<@&987> ".to_string()),
            Just("<@!5> ".to_string()),
            Just("**bold** __u__ ~~s~~ ||spoiler|| ".to_string()),
            Just("```\ncode\n``` ".to_string()),
            Just("> quote\n# head\n".to_string()),
            Just("[link](https://x.org) ".to_string()),
            Just("😀🇯🇵 ".to_string()),
            Just("\u{202e}\u{200b}\u{0}\u{7} ".to_string()),
            any::<String>(),
        ];
        prop::collection::vec(piece, 0..max).prop_map(|v| v.concat())
    }

    fn no_mentions(m: &Message) -> bool {
        let mention = regex::Regex::new(r"@(everyone|here)|<@[!&]?\d").unwrap();
        m.texts().iter().all(|t| !mention.is_match(t))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_answer_fits_discord_and_mentions_nobody(
            question in hostile_text(40),
            texts in prop::collection::vec(hostile_text(400), 1..6),
            // Every allowed top_k: the texts are repeated up to this many quotes.
            quote_count in 1usize..=25,
            title in hostile_text(30),
            section in prop::option::of(hostile_text(10)),
            url in prop::option::of(hostile_text(5)),
            id in "[a-z/]{1,120}:[0-9]{1,3}",
            spans in prop::collection::vec((0usize..3000, 0usize..3000), 0..20),
            ephemeral in any::<bool>(),
            offset in 0usize..100,
        ) {
            let quotes: Vec<Hit> = texts
                .iter()
                .cycle()
                .take(quote_count.max(texts.len()))
                .cloned()
                .enumerate()
                .map(|(i, text)| {
                    let highlights = spans.iter().map(|&(a, b)| a.min(b)..a.max(b)).collect();
                    let best = spans.first().map_or(0..0, |&(a, b)| a.min(b)..a.max(b));
                    Hit {
                        passage: passage(text, title.clone(), format!("{id}{i}"), section.clone(), url.clone()),
                        score: 1.0,
                        highlights,
                        best_sentence: best,
                        coverage: 1.0,
                        matched: 0,
                        sentence_matched: 0,
                        cosine: None,
                        sentence_cosine: None,
                    }
                })
                .collect();
            let answer = Answer {
                question: question.clone(),
                index_version: "v1".into(),
                quotes,
                nearest: vec![title.clone()],
                verdict: briefbot::search::verdict::Verdict {
                    coverage: 1.0,
                    sentence_coverage: 1.0,
                    evidence: 1.0,
                    cosine: None,
                    telling: true,
                    covered: true,
                },
            };
            let layout = AnswerLayout {
                offset,
                k: 3,
                ephemeral,
                can_discuss: true,
                asker: u64::MAX,
                briefing: Some(id.clone()),
            };
            let m = answer_message(&answer, &layout);
            prop_assert!(m.within_limits(), "{m:#?}");
            prop_assert!(no_mentions(&m), "{m:#?}");
            // Every allowed top_k (1 to 25 quotes): as many as fit are shown, and More goes
            // on from the first one left out.
            let shown = answer.quotes.len().min(briefbot::render::discord::MAX_QUOTES);
            let more = m.rows.iter().flatten().find_map(|b| match ids::decode(&b.id) {
                Some(ids::Action::More { offset, .. }) => Some(offset),
                _ => None,
            });
            if let Some(more) = more {
                prop_assert_eq!(more, offset + shown);
            }
            let footer = m.embed.as_ref().and_then(|e| e.footer.clone()).unwrap_or_default();
            let range = format!("quotes {}–{}", offset + 1, offset + shown);
            prop_assert!(footer.contains(&range), "{}", footer);
            let none = Answer { quotes: Vec::new(), ..answer };
            let m = answer_message(&none, &layout);
            prop_assert!(m.within_limits() && no_mentions(&m));
        }

        #[test]
        fn any_passage_and_source_list_fits(
            text in hostile_text(800),
            title in hostile_text(60),
            page in 0usize..5,
            n in 0usize..40,
        ) {
            let p = passage(text.clone(), title.clone(), "a:1".into(), Some(title.clone()), None);
            let q = passage(text, title.clone(), "a:2".into(), None, Some("https://x.org/".into()));
            let m = passage_message(&p, Some(&q), Some(&q), false);
            prop_assert!(m.within_limits() && no_mentions(&m), "{m:#?}");
            let briefings: Vec<BriefingInfo> = (0..n)
                .map(|i| BriefingInfo {
                    slug: format!("b{i}"),
                    title: title.clone(),
                    source: "b.md".into(),
                    date: None,
                    url: None,
                    paragraphs: 3,
                    first_row: 0,
                    stamp: None,
                })
                .collect();
            let m = sources_message(&briefings, page, "v1");
            prop_assert!(m.within_limits() && no_mentions(&m), "{m:#?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn any_reading_page_and_citation_fits(
            texts in prop::collection::vec(hostile_text(2500), 1..7),
            title in hostile_text(300),
            sections in prop::collection::vec(hostile_text(120), 1..30),
            page in 0usize..20,
        ) {
            use briefbot::render::discord::study::{cite_message, reading_message};
            use briefbot::study::reading::Reading;
            let passages: Vec<Passage> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mut p = passage(
                        t.clone(),
                        title.clone(),
                        format!("s:{}", i + 1),
                        Some(sections[i % sections.len()].clone()),
                        Some("https://x.org/".into()),
                    );
                    p.paragraph = i as u64 + 1;
                    p
                })
                .collect();
            let info = BriefingInfo {
                slug: "s".into(),
                title: title.clone(),
                source: "s.md".into(),
                date: None,
                url: Some("https://x.org/".into()),
                paragraphs: passages.len() as u64,
                first_row: 0,
                stamp: None,
            };
            let reading = Reading::new(info, passages.clone());
            let m = reading_message(&reading, page, "v1");
            prop_assert!(m.within_limits() && no_mentions(&m), "{m:#?}");
            for p in &passages {
                // A citation is raw text in one code block that nothing can close early.
                let m = cite_message(p);
                prop_assert!(m.within_limits(), "{m:#?}");
                prop_assert!(m.content.starts_with("```\n") && m.content.ends_with("\n```"));
                prop_assert_eq!(m.content.matches("```").count(), 2);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Autocomplete's id finder returns exactly what writing out every id and keeping
    /// those that contain the text would, in the same order.
    #[test]
    fn passage_ids_are_found_as_a_scan_of_every_id_would(
        briefings in proptest::collection::vec(("[a-cA-C:/1]{1,5}", 0u64..40), 1..6),
        partial in "[a-cA-C:/0-9]{0,5}",
        limit in 1usize..30,
    ) {
        let infos: Vec<briefbot::index::BriefingInfo> = briefings
            .iter()
            .map(|(slug, n)| briefbot::index::BriefingInfo {
                slug: slug.clone(),
                title: String::new(),
                source: String::new(),
                date: None,
                url: None,
                paragraphs: *n,
                first_row: 0,
                stamp: None,
            })
            .collect();
        let wanted = partial.to_lowercase();
        let scan: Vec<String> = infos
            .iter()
            .flat_map(|b| (1..=b.paragraphs).map(move |n| format!("{}:{n}", b.slug)))
            .filter(|id| id.len() <= 8 && id.to_lowercase().contains(&wanted))
            .take(limit)
            .collect();
        prop_assert_eq!(
            briefbot::index::passage_ids_containing(&infos.iter().collect::<Vec<_>>(), &partial, limit, 8),
            scan
        );
    }
}

/// An engine over 48 generated paragraphs of one small vocabulary, re-ranking only 4 BM25
/// candidates, so that pages of answers reach far past the first candidate pool.
fn paging_engine() -> &'static Engine {
    static ENGINE: OnceLock<(Workspace, Engine)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| {
            let ws = Workspace::empty();
            let mut state: u64 = 7;
            let mut next = |n: usize| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 33) as usize % n
            };
            for b in 0..12 {
                let mut text = format!("# Briefing {b}\n\n");
                for _ in 0..4 {
                    let words: Vec<&str> = (0..12)
                        .map(|_| PAGING_WORDS[next(PAGING_WORDS.len())])
                        .collect();
                    text.push_str(&format!("The {}.\n\n", words.join(" ")));
                }
                std::fs::write(ws.content().join(format!("b{b}.md")), text).unwrap();
            }
            let mut settings = ws.settings();
            settings.search.candidates = 4;
            let opened = app::open_or_build(&settings, Ranking::Full, None).unwrap();
            (ws, opened.engine)
        })
        .1
}

const PAGING_WORDS: [&str; 16] = [
    "harbour", "quota", "cable", "river", "grid", "storm", "ferry", "tariff", "wind", "coast",
    "budget", "rail", "port", "cod", "repair", "treaty",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Regression (issue 13, item 10): past BM25's candidate pool, the next page re-ranked a
    /// larger pool, so a passage could repeat or be skipped. Pages 1–5 of any question are
    /// now consecutive slices of one ranking.
    #[test]
    fn pages_of_an_answer_never_repeat_nor_skip_a_passage(
        words in prop::collection::vec(prop::sample::select(PAGING_WORDS.to_vec()), 1..5),
        k in 1usize..6,
    ) {
        let engine = paging_engine();
        let question = words.join(" ");
        let whole: Vec<String> = engine
            .search(&question, 5 * k, None)
            .unwrap()
            .into_iter()
            .map(|h| h.passage.id)
            .collect();
        let mut paged = Vec::new();
        for page in 0..5 {
            let a = briefbot::answer::closest(engine, &question, page * k, k, None).unwrap();
            paged.extend(a.quotes.into_iter().map(|h| h.passage.id));
        }
        let distinct: std::collections::HashSet<&String> = paged.iter().collect();
        prop_assert_eq!(distinct.len(), paged.len(), "a passage repeats: {:?}", paged);
        prop_assert_eq!(&paged, &whole);
    }
}
