//! `briefbot index [--full | --dry-run | --watch | --check]`: bring the index up to date
//! with `content/` (reading only the files that changed), rebuild it whole, show what an
//! update would change, keep updating as files change, or check the live index's files.

use anyhow::Result;
use briefbot::app;
use briefbot::config::Settings;
use briefbot::live::{Cure, Live};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use briefbot::index::{BuildKind, BuildReport, Diff};
use briefbot::ingest::{Corpus, Skipped};

use super::count;

#[derive(clap::Args)]
pub struct Args {
    /// Show what would be added, changed and removed; change nothing.
    #[arg(long, conflicts_with = "watch")]
    dry_run: bool,
    /// Rebuild the whole index from every file, instead of updating it with the files that
    /// changed (done on its own when the schema, the model or a setting that shapes the
    /// index changed; also merges the index into one segment again).
    #[arg(long, conflicts_with_all = ["dry_run", "watch"])]
    full: bool,
    /// Stay running as the index writer: update now, then again whenever files under the
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
        // A reader's report, for whoever looks: the writer acts on it at its next look.
        match briefbot::index::damage::read(&settings.index.dir) {
            Some(Ok(r)) => eprintln!(
                "briefbot: a reader reported version {} damaged ({}, {}): {}. The running \
                 index writer rebuilds it when it confirms the damage; `briefbot index --full` \
                 rebuilds now.",
                r.version, r.by, r.at, r.reason
            ),
            Some(Err(why)) => eprintln!("briefbot: a damage report that cannot be read: {why}"),
            None => {}
        }
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
        let (corpus, diff, holds) = app::dry_run(settings, None)?;
        println!("Dry run: nothing was changed.");
        println!(
            "Would index {}, {} from {} ({} read).",
            count(holds.len(), "briefing"),
            count(holds.iter().map(|(_, n)| *n as usize).sum(), "passage"),
            settings.content.dir.display(),
            count(corpus.briefings.len(), "file")
        );
        print_diff(&diff, true);
        print_skipped(&corpus.skipped);
        return Ok(());
    }
    if args.watch {
        return watch(settings);
    }
    let (corpus, report) = if args.full {
        app::rebuild(settings)?
    } else {
        app::update(settings)?
    };
    print_report(settings, &corpus, &report);
    Ok(())
}

/// `--watch`: the standalone writer of a fleet whose bots are all readers. It keeps the
/// index as a writer bot does, through the same core ([`Live`]), answering nothing: a
/// change at a time under the changes' lock, the model's vectors made in the background
/// while changes go on by words (a model switched on over a large library took hours
/// inline before, and every change waited), and a reader's damage report cured.
fn watch(settings: &Settings) -> Result<()> {
    if settings.index.role == briefbot::config::Role::Reader {
        return Err(app::AppError::NotWriter.into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let live = Arc::new(Live::open_as(settings, "briefbot index --watch")?);
    let writer = live.writer().expect("a writer opens as one");
    if let Some(why) = live.built_because() {
        let m = live.engine().manifest().clone();
        println!(
            "Indexed {}, {} into {} (version {}): {why}.",
            count(m.briefings.len(), "briefing"),
            count(m.passages as usize, "passage"),
            settings.index.dir.display(),
            m.version
        );
    }
    // Watch first, then update: a file saved during the first update is seen.
    let delay = Duration::from_millis(settings.content.watch_delay_ms);
    let watch = briefbot::watch::ContentWatch::start(&settings.content.dir, delay)?;
    let update = || {
        runtime.block_on(async {
            let _changing = live.updating().lock().await;
            live.update_locked(writer.clone()).await
        })
    };
    // Catches up with what changed while no writer ran (nothing, if nothing did).
    let (corpus, report) = update()??;
    print_report(settings, &corpus, &report);
    let make_vectors = || {
        let live = live.clone();
        runtime.spawn(async move {
            live.make_pending_vectors().await;
            if live.engine().model().is_some() {
                println!(
                    "Made the model's vectors: version {}.",
                    live.engine().manifest().version
                );
            }
        });
    };
    if live.vectors_pending() {
        println!(
            "The index has no vectors of the model yet: making them in the background; \
             changes are indexed by words meanwhile."
        );
        make_vectors();
    }
    println!(
        "Watching {} for changes (Ctrl-C to stop).",
        settings.content.dir.display()
    );
    watch.run_ticking(
        DAMAGE_REPORT_LOOK,
        |paths| {
            let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            tracing::info!(files = ?shown, "content changed; updating the index");
            match update() {
                Ok(Ok((_, report))) if report.kind == BuildKind::Unchanged => {}
                Ok(Ok((corpus, report))) => {
                    println!("Changed: {}", shown.join(", "));
                    print_report(settings, &corpus, &report);
                }
                Ok(Err(err)) => {
                    eprintln!("briefbot: reindex failed, the previous index stays live: {err}")
                }
                Err(err) => eprintln!("briefbot: reindex failed: {err}"),
            }
            ControlFlow::Continue(())
        },
        || {
            let rebuilt = |how: &str| {
                let m = live.engine().manifest().clone();
                println!(
                    "A reader found the index damaged: rebuilt it{how} ({}, version {}).",
                    count(m.passages as usize, "passage"),
                    m.version
                );
            };
            match runtime.block_on(live.cure_reported_damage()) {
                Some(Cure::Answering) => rebuilt(""),
                Some(Cure::AnsweringByWords) => {
                    // The embedding cache lacked vectors too.
                    rebuilt(" by words; making the model's vectors in the background");
                    make_vectors();
                }
                Some(Cure::Failed) => eprintln!(
                    "briefbot: a reader found the index damaged, and rebuilding it failed \
                     (tried again in a minute; see the log)"
                ),
                Some(Cure::NeedsWriter { .. }) | None => {}
            }
            ControlFlow::Continue(())
        },
    );
    Ok(())
}

/// How often `--watch` looks for a reader's damage report (a file's existence).
const DAMAGE_REPORT_LOOK: Duration = Duration::from_secs(1);

fn print_report(settings: &Settings, corpus: &Corpus, report: &BuildReport) {
    let m = &report.manifest;
    let holds = format!(
        "{}, {}",
        count(m.briefings.len(), "briefing"),
        count(m.passages as usize, "passage")
    );
    match report.kind {
        BuildKind::Unchanged => {
            println!(
                "The index (version {}, {holds}) is up to date with {}.",
                m.version,
                settings.content.dir.display()
            );
            print_skipped(&corpus.skipped);
            return;
        }
        BuildKind::Full => println!(
            "Indexed {holds} into {} (version {}) in {:.2} s: a full rebuild, {} written.",
            settings.index.dir.display(),
            m.version,
            report.seconds,
            bytes(report.bytes_written)
        ),
        BuildKind::Incremental => println!(
            "Indexed {holds} into {} (version {}) in {:.2} s: an update, {} read, {} written.",
            settings.index.dir.display(),
            m.version,
            report.seconds,
            count(corpus.briefings.len(), "file"),
            bytes(report.bytes_written)
        ),
    }
    for b in &corpus.briefings {
        println!(
            "  {} — {} ({})",
            b.source,
            b.title,
            count(b.paragraphs.len(), "paragraph")
        );
    }
    print_diff(&report.diff, false);
    print_skipped(&corpus.skipped);
}

/// A byte count as people read it.
fn bytes(n: u64) -> String {
    match n {
        n if n < 10_000 => format!("{n} bytes"),
        n if n < 10_000_000 => format!("{} kB", n / 1000),
        n => format!("{} MB", n / 1_000_000),
    }
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
