//! `briefbot ask "QUESTION"`: answer from the terminal, as text or JSON.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use briefbot::answer::{self, AnswerError};
use briefbot::app;
use briefbot::config::Settings;
use briefbot::index::OpenError;
use briefbot::render;
use briefbot::search::Ranking;

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
    let opened = app::open_for_command(settings, Ranking::Full)?;
    super::report_auto_build(&opened);
    let k = args.k.map_or(settings.search.top_k, usize::from);
    let briefing = args.briefing.as_deref();
    let ask = |opened: &app::Opened| -> Result<Result<answer::Answer, AnswerError>> {
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
        })
    };
    // Opening read only the footers: an error while answering (a vector or file that
    // does not match its checksum, or a damaged block of stored text, which tantivy
    // reports as a read error) has the version read in full; damage found is cured as one
    // found at opening: rebuilt (from content/ and the embedding cache), then the question
    // is asked again.
    let answer = match ask(&opened)? {
        Err(AnswerError::Search(e)) => {
            let why = match app::read_in_full(settings) {
                Err(why @ OpenError::Damaged { .. }) => why,
                _ => return Err(AnswerError::Search(e).into()),
            };
            drop(opened);
            let opened = app::rebuild_damaged(settings, Ranking::Full, why)?;
            super::report_auto_build(&opened);
            ask(&opened)??
        }
        other => other?,
    };
    if args.json {
        println!("{}", render::json::to_string(&answer));
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        print!("{}", render::terminal::render(&answer, color, WIDTH));
    }
    Ok(())
}
