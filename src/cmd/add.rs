//! `briefbot add LINK|FILE [--server ID]`: adds one briefing from the command line, as a
//! bot operator's `/briefing add` does: a web page or PDF fetched by link (under the
//! same safety rules, [`briefbot::web`]) or a file from disk, checked, saved into the
//! library's folder, indexed, and written to the audit trail.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use briefbot::app;
use briefbot::config::Settings;
use briefbot::library::{Library, Rights};
use briefbot::moderate::{self, Added};
use briefbot::state::{self, audit};
use briefbot::web::{self, FetchPolicy};

#[derive(clap::Args)]
pub struct Args {
    /// An https or http link to a web page or a PDF, or the path of a briefing file
    /// (.txt, .md, .html or .pdf).
    #[arg(value_name = "LINK|FILE")]
    source: String,
    /// Add to this server's library (a Discord server id) instead of the shared one.
    #[arg(long, value_name = "SERVER_ID")]
    server: Option<u64>,
}

pub fn execute(settings: &Settings, args: Args) -> Result<()> {
    let library = args.server.map_or(Library::Shared, Library::Server);
    let writer = app::Writer::acquire(settings, "briefbot add")?;
    // The command line is the operator's: every library may be changed from it.
    let rights = Rights {
        operator: true,
        moderates: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let source = args.source.trim();
    let is_link = source.contains("://");
    let result: Result<Added> = if is_link {
        let policy = FetchPolicy::from_settings(settings);
        runtime
            .block_on(web::fetch(source, &policy))
            .map_err(|e| anyhow!("{source} not added: {e}"))
            .and_then(|fetched| {
                moderate::add_fetched(settings, &writer, rights, library, &fetched)
                    .map_err(|e| anyhow!("{source} not added: {e}"))
            })
    } else {
        let path = Path::new(source);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        std::fs::read(path)
            .with_context(|| format!("cannot read {}", path.display()))
            .and_then(|bytes| {
                moderate::add(settings, &writer, rights, library, &name, &bytes)
                    .map_err(|e| anyhow!("{name} not added: {e}"))
            })
    };
    let outcome = match &result {
        Ok(added) => format!(
            "added to {} as {} ({})",
            added.library.describe(),
            added.briefing.slug,
            super::count(added.briefing.paragraphs.len(), "paragraph")
        ),
        Err(err) => format!("refused: {}", briefbot::error_chain(err.as_ref())),
    };
    record(settings, source, &outcome);
    let added = result?;
    let b = &added.briefing;
    println!(
        "Added “{}” to {}: {}, slug {}, saved as {}. Index version {}.",
        b.title,
        added.library.describe(),
        super::count(b.paragraphs.len(), "paragraph"),
        b.slug,
        added.path.display(),
        added.report.manifest.version
    );
    if let Some(url) = &b.url {
        println!("Cited with its link: {url}");
    }
    Ok(())
}

/// The audit line of a change made from the command line (kept in `content.audit_file`
/// while the state database is unavailable, as the bot's are).
fn record(settings: &Settings, target: &str, outcome: &str) {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let entry = audit::Entry {
        at: state::now(),
        actor: 0,
        actor_name: format!("{user} (command line)"),
        guild: None,
        action: "briefing add".into(),
        target: target.to_string(),
        outcome: outcome.to_string(),
    };
    let recorded =
        super::records::with_store(settings, async |store| audit::record(store, &entry).await);
    if let Err(err) = recorded {
        match moderate::keep_audit_line(&settings.content.audit_file, &entry) {
            Ok(()) => eprintln!(
                "briefbot: the state database is unavailable ({}); the audit line was kept in {}",
                briefbot::error_chain(err.as_ref()),
                settings.content.audit_file.display()
            ),
            Err(e) => eprintln!("briefbot: cannot record the audit line: {e}"),
        }
    }
}
