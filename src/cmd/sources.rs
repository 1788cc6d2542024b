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
}

pub fn execute(settings: &Settings, args: Args) -> Result<()> {
    let opened = app::open_or_build(settings, Ranking::Full, None)?;
    super::report_auto_build(&opened);
    let manifest = opened.engine.manifest();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&manifest.briefings)?);
        return Ok(());
    }
    println!(
        "{}, {} (index version {}, built {}):",
        super::count(manifest.briefings.len(), "briefing"),
        super::count(manifest.passages as usize, "passage"),
        manifest.version,
        manifest.built_at
    );
    for b in &manifest.briefings {
        let date = b.date.as_deref().unwrap_or("no date");
        println!("  {}", b.title);
        println!(
            "    {} · {} paragraphs · {date} · slug {}",
            b.source, b.paragraphs, b.slug
        );
    }
    Ok(())
}
