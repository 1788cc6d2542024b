//! `briefbot generate`: write a generated benchmark corpus (deterministic from a seed).

use std::path::PathBuf;

use anyhow::{Context, Result};
use briefbot::config::Settings;

#[derive(clap::Args)]
pub struct Args {
    /// How many paragraphs (in briefings of 30).
    #[arg(long, default_value_t = 10_000)]
    paragraphs: usize,
    /// Seed of the generator: the same seed gives the same corpus.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Folder to write `content/` and `questions.jsonl` into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn execute(_settings: &Settings, args: Args) -> Result<()> {
    let (briefings, passages) = briefbot::generate::write(&args.out, args.paragraphs, args.seed)
        .with_context(|| format!("writing the corpus into {}", args.out.display()))?;
    println!(
        "Wrote {briefings} briefings, {passages} paragraphs and 1000 questions into {} (seed {}).",
        args.out.display(),
        args.seed
    );
    Ok(())
}
