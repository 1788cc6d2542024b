//! `briefbot sources`: the briefings in the index, with their files and sizes.

use anyhow::Result;
use briefbot::app;
use briefbot::config::Settings;
use briefbot::search::Ranking;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    libraries: super::ScopeArgs,
}

pub fn execute(settings: &Settings, args: Args) -> Result<()> {
    let opened = app::open_for_command(settings, Ranking::Full)?;
    super::report_auto_build(&opened);
    let engine = args.libraries.engine(&opened.engine);
    let briefings: Vec<_> = engine.briefings().collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&briefings)?);
        return Ok(());
    }
    let manifest = engine.manifest();
    println!(
        "{}, {} (index version {}, built {}):",
        super::count(briefings.len(), "briefing"),
        super::count(engine.passage_count() as usize, "passage"),
        manifest.version,
        manifest.built_at
    );
    let others = manifest.briefings.len() - briefings.len();
    if others > 0 {
        println!(
            "  ({} more in servers' libraries: `briefbot libraries` lists them, \
             `--server ID` or `--all-libraries` shows them)",
            super::count(others, "briefing")
        );
    }
    for b in briefings {
        let date = b.date.as_deref().unwrap_or("no date");
        println!("  {}", b.title);
        println!(
            "    {} · {} · {date} · slug {}",
            b.source,
            super::count(b.paragraphs as usize, "paragraph"),
            b.slug
        );
    }
    Ok(())
}
