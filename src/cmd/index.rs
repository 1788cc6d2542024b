//! `briefbot index [--dry-run | --watch | --check]`: rebuild the index from `content/`,
//! show what a rebuild would change, keep rebuilding as files change, or check the live
//! index's files.

use anyhow::Result;
use briefbot::app;
use briefbot::config::Settings;
use std::ops::ControlFlow;
use std::time::Duration;

use briefbot::index::{BuildReport, Diff};
use briefbot::ingest::{Corpus, Skipped};

use super::count;

#[derive(clap::Args)]
pub struct Args {
    /// Show what would be added, changed and removed; change nothing.
    #[arg(long, conflicts_with = "watch")]
    dry_run: bool,
    /// Stay running as the index writer: rebuild now, then again whenever files under the
    /// content folder change (after content.watch_delay_ms of quiet), until stopped.
    #[arg(long)]
    watch: bool,
    /// Check the live index and change nothing: every segment file's footer and checksum
    /// (what a bot checks before it answers from a version). Exits 1 when it is damaged.
    #[arg(long, conflicts_with_all = ["watch", "dry_run"])]
    check: bool,
}

/// How many passage ids of each kind of change are listed.
const SHOWN_IDS: usize = 10;

pub fn execute(settings: &Settings, args: Args) -> Result<()> {
    if args.check {
        let started = std::time::Instant::now();
        let open = app::store(settings)
            .checking(briefbot::index::Depth::Checksums)
            .open()?;
        println!(
            "The index in {} (version {}, {}) is whole: every file's footer and checksum \
             checked in {:.2} s.",
            settings.index.dir.display(),
            open.manifest.version,
            count(open.manifest.passages as usize, "passage"),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    if args.dry_run {
        let (corpus, diff) = app::dry_run(settings, None)?;
        println!("Dry run: nothing was changed.");
        println!(
            "Would index {}, {} from {}.",
            count(corpus.briefings.len(), "briefing"),
            count(corpus.passage_count(), "passage"),
            settings.content.dir.display()
        );
        print_diff(&diff, true);
        print_skipped(&corpus.skipped);
        return Ok(());
    }
    if args.watch {
        return watch(settings);
    }
    let (corpus, report) = app::rebuild(settings)?;
    print_report(settings, &corpus, &report);
    Ok(())
}

/// `--watch`: the standalone writer of a fleet whose bots are all readers.
fn watch(settings: &Settings) -> Result<()> {
    let writer = app::Writer::acquire(settings, "briefbot index --watch")?;
    // Watch first, then build: a file saved during the first build is seen.
    let delay = Duration::from_millis(settings.content.watch_delay_ms);
    let watch = briefbot::watch::ContentWatch::start(&settings.content.dir, delay)?;
    // The live index says what content it was built from: unchanged content, and an index
    // that opens, need no rebuild at start.
    let store = app::store(settings);
    if writer.content_unchanged(settings)
        && let Ok(open) = store.open()
    {
        println!(
            "The index (version {}) is up to date with {}.",
            open.manifest.version,
            settings.content.dir.display()
        );
    } else {
        let (corpus, report) = writer.rebuild(settings)?;
        print_report(settings, &corpus, &report);
    }
    println!(
        "Watching {} for changes (Ctrl-C to stop).",
        settings.content.dir.display()
    );
    watch.run(|paths| {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        if writer.content_unchanged(settings) {
            return ControlFlow::Continue(());
        }
        println!("Changed: {}", shown.join(", "));
        tracing::info!(files = ?shown, "content changed; reindexing");
        match writer.rebuild(settings) {
            Ok((corpus, report)) => print_report(settings, &corpus, &report),
            Err(err) => eprintln!("briefbot: reindex failed, the previous index stays live: {err}"),
        }
        ControlFlow::Continue(())
    });
    Ok(())
}

fn print_report(settings: &Settings, corpus: &Corpus, report: &BuildReport) {
    println!(
        "Indexed {}, {} into {} (version {}) in {:.2} s.",
        count(corpus.briefings.len(), "briefing"),
        count(corpus.passage_count(), "passage"),
        settings.index.dir.display(),
        report.manifest.version,
        report.seconds
    );
    for b in &corpus.briefings {
        println!(
            "  {} — {} ({} paragraphs)",
            b.source,
            b.title,
            b.paragraphs.len()
        );
    }
    print_diff(&report.diff, false);
    print_skipped(&corpus.skipped);
}

fn print_diff(diff: &Diff, would: bool) {
    let verb = if would { "Would be" } else { "Paragraphs" };
    println!(
        "{verb}: {} added, {} changed, {} removed.",
        diff.added.len(),
        diff.changed.len(),
        diff.removed.len()
    );
    for (label, ids) in [
        ("added", &diff.added),
        ("changed", &diff.changed),
        ("removed", &diff.removed),
    ] {
        if ids.is_empty() {
            continue;
        }
        let shown: Vec<&str> = ids.iter().take(SHOWN_IDS).map(String::as_str).collect();
        let more = ids.len().saturating_sub(SHOWN_IDS);
        let tail = if more > 0 {
            format!(" … and {more} more")
        } else {
            String::new()
        };
        println!("  {label}: {}{tail}", shown.join(", "));
    }
}

fn print_skipped(skipped: &[Skipped]) {
    if skipped.is_empty() {
        return;
    }
    println!("Skipped {}:", count(skipped.len(), "file"));
    for s in skipped {
        println!("  {}: {}", s.path.display(), s.reason);
    }
}
