//! `briefbot ask "QUESTION"`: answer from the terminal, as text or JSON.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use briefbot::answer;
use briefbot::config::Settings;
use briefbot::render;

#[derive(clap::Args)]
pub struct Args {
    /// The question, in plain words (several arguments are joined with spaces).
    #[arg(required = true, num_args = 1.., value_name = "QUESTION")]
    question: Vec<String>,
    /// How many quotes to show (default: search.top_k).
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=25))]
    k: Option<u16>,
    /// Only search this briefing (its slug, as `briefbot sources` shows).
    #[arg(long, value_name = "SLUG")]
    briefing: Option<String>,
    /// Quote the closest paragraphs even when the briefings do not seem to cover the
    /// question.
    #[arg(long)]
    anyway: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    libraries: super::ScopeArgs,
}

/// Text is wrapped at this many columns.
const WIDTH: usize = 88;

pub fn execute(settings: &Settings, args: Args) -> Result<()> {
    let question = args.question.join(" ");
    super::report_model(settings);
    let k = args.k.map_or(settings.search.top_k, usize::from);
    let briefing = args.briefing.as_deref();
    let answer = super::with_index(settings, |opened| {
        let engine = &args.libraries.engine(&opened.engine);
        if let Some(slug) = briefing
            && !engine.briefings().any(|b| b.slug == slug)
        {
            bail!("no briefing `{slug}` in the index (see `briefbot sources`)");
        }
        Ok(if args.anyway {
            answer::closest(engine, &question, 0, k, briefing)
        } else {
            answer::answer(engine, &question, k, briefing)
        }?)
    })?;
    if args.json {
        println!("{}", render::json::to_string(&answer));
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        print!("{}", render::terminal::render(&answer, color, WIDTH));
    }
    Ok(())
}
