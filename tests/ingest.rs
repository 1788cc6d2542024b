//! Ingestion of every format, and of files that must be skipped with a reason.

mod common;

use briefbot::ingest::{IngestOptions, Passage, scan};
use common::Workspace;

fn passages(ws: &Workspace) -> (Vec<Passage>, Vec<(String, String)>) {
    let settings = ws.settings();
    let corpus = scan(
        &settings.content.dir,
        &IngestOptions::from_settings(&settings),
    )
    .unwrap();
    let skipped = corpus
        .skipped
        .iter()
        .map(|s| {
            let name = s.path.file_name().unwrap().to_string_lossy().into_owned();
            (name, s.reason.clone())
        })
        .collect();
    (corpus.passages().collect(), skipped)
}

fn find<'a>(all: &'a [Passage], id: &str) -> &'a Passage {
    all.iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no passage {id}"))
}

#[test]
fn text_briefing_drops_furniture_and_finds_title_and_sections() {
    let ws = Workspace::with_fixtures();
    let (all, _) = passages(&ws);
    let harbour: Vec<&Passage> = all.iter().filter(|p| p.slug == "harbour-report").collect();
    assert_eq!(harbour.len(), 3, "{harbour:#?}");
    assert!(
        harbour
            .iter()
            .all(|p| p.briefing == "Harbour Dredging and the Port of Velmora")
    );
    assert!(
        !harbour
            .iter()
            .any(|p| p.text.contains("Close this search box")
                || p.text.contains("Share this article")
                || p.text == "Skip to content")
    );
    let p1 = find(&all, "harbour-report:1");
    assert_eq!(p1.section.as_deref(), Some("What is happening?"));
    assert!(p1.text.starts_with("In March, the Velmora port authority"));
    let p3 = find(&all, "harbour-report:3");
    assert_eq!(p3.section.as_deref(), Some("Why does it matter?"));
    assert_eq!(p3.source, "harbour-report.txt");
}

#[test]
fn markdown_with_yaml_front_matter_is_stripped_of_markup() {
    let ws = Workspace::with_fixtures();
    let (all, _) = passages(&ws);
    let p1 = find(&all, "notes/fisheries:1");
    assert_eq!(p1.briefing, "Fisheries Quotas: What Changed in 2024");
    assert_eq!(
        p1.url.as_deref(),
        Some("https://example.org/briefings/fisheries-quotas")
    );
    assert_eq!(p1.date.as_deref(), Some("2024-06-02"));
    assert_eq!(p1.author.as_deref(), Some("Ana Ruiz"));
    assert_eq!(p1.tags, ["fisheries", "quotas"]);
    assert_eq!(p1.section, None);
    assert_eq!(
        p1.text,
        "The council cut the cod quota by 12 percent for the northern zone, citing the spawning stock survey published in May."
    );
    let p2 = find(&all, "notes/fisheries:2");
    assert_eq!(p2.section.as_deref(), Some("Who is affected?"));
    assert!(
        p2.text.contains("in the Skerra islands depend"),
        "{}",
        p2.text
    );
    assert_eq!(
        find(&all, "notes/fisheries:3").text,
        "Larger trawlers can switch to haddock."
    );
    assert_eq!(
        all.iter().filter(|p| p.slug == "notes/fisheries").count(),
        4
    );
}

#[test]
fn markdown_with_toml_front_matter() {
    let ws = Workspace::with_fixtures();
    let (all, _) = passages(&ws);
    let p = find(&all, "notes/grid:2");
    assert_eq!(p.briefing, "Power Grid Interconnectors");
    assert_eq!(p.date.as_deref(), Some("2023-11-20"));
    assert_eq!(p.section.as_deref(), Some("Risks"));
    assert_eq!(p.source, "notes/grid.md");
}

#[test]
fn html_keeps_the_article_and_drops_the_page() {
    let ws = Workspace::with_fixtures();
    let (all, _) = passages(&ws);
    let rail: Vec<&Passage> = all.iter().filter(|p| p.slug == "rail").collect();
    let texts: Vec<&str> = rail.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Three operators will run sleeper services between the capital and the coast from December, the first night trains on the line since 2009.",
            "Ministers expect demand from travellers who want to avoid short-haul flights.",
            "The subsidy is capped at 9 euros per passenger journey.",
        ]
    );
    assert_eq!(rail[0].briefing, "Night Trains Return");
    assert_eq!(
        rail[0].url.as_deref(),
        Some("https://example.org/briefings/night-trains")
    );
    assert_eq!(rail[0].date.as_deref(), Some("2025-01-15"));
    assert_eq!(rail[1].section.as_deref(), Some("Why now?"));
    assert_eq!(rail[2].section.as_deref(), Some("Costs"));
}

#[test]
fn bad_files_are_skipped_with_a_reason_and_the_rest_is_read() {
    let ws = Workspace::with_fixtures();
    for name in [
        "latin1.txt",
        "archive.txt",
        "empty.md",
        "broken-front.md",
        "notes.pdf",
        "notes.docx",
    ] {
        ws.add_bad(name);
    }
    let (all, skipped) = passages(&ws);
    let reason = |name: &str| {
        skipped
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{name} was not skipped: {skipped:?}"))
    };
    assert!(reason("latin1.txt").contains("not UTF-8"));
    assert!(reason("archive.txt").contains("binary"));
    assert!(reason("empty.md").contains("empty"));
    assert!(reason("broken-front.md").contains("front matter"));
    // Named .pdf, read as a PDF, refused as one.
    assert!(reason("notes.pdf").contains("not a PDF"));
    assert!(reason("notes.docx").contains("not a briefing format"));
    assert_eq!(skipped.len(), 6);
    let slugs: std::collections::BTreeSet<&str> = all.iter().map(|p| p.slug.as_str()).collect();
    assert_eq!(
        slugs.into_iter().collect::<Vec<_>>(),
        ["harbour-report", "notes/fisheries", "notes/grid", "rail"]
    );
}

#[test]
fn oversized_files_and_symlinks_are_skipped() {
    let ws = Workspace::with_fixtures();
    std::fs::write(ws.config(), "[content]\nmax_file_bytes = 500\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", ws.content().join("outside.txt")).unwrap();
    let (all, skipped) = passages(&ws);
    assert!(
        skipped
            .iter()
            .any(|(n, r)| n == "harbour-report.txt" && r.contains("max_file_bytes"))
    );
    #[cfg(unix)]
    assert!(
        skipped
            .iter()
            .any(|(n, r)| n == "outside.txt" && r.contains("symbolic link"))
    );
    assert!(all.iter().any(|p| p.slug == "notes/grid"));
    assert!(!all.iter().any(|p| p.slug == "rail"));
}

#[test]
fn the_bundled_briefing_parses_as_the_design_says() {
    let ws = Workspace::with_bundled_briefing();
    let (all, skipped) = passages(&ws);
    assert!(skipped.is_empty(), "{skipped:?}");
    let p5 = find(&all, "us-japan-indo-pacific:5");
    assert_eq!(
        p5.briefing,
        "The Sun Rises over the Shining Sea: Bolstering US-Japan Cooperation in the Indo-Pacific"
    );
    assert_eq!(p5.section.as_deref(), Some("What is the broader picture?"));
    assert!(p5.text.contains("Japan Joint Operations Command (J-JOC)"));
    assert!(!all.iter().any(|p| p.text.contains("Close this search box")));
}
