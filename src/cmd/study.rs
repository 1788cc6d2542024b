//! `briefbot read | quiz | cite`: the study-group commands of the bot, from the terminal.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result, anyhow, bail};
use briefbot::config::Settings;
use briefbot::render::terminal;
use briefbot::study::{quiz, reading::Reading};

/// Text is wrapped at this many columns.
const WIDTH: usize = 88;

#[derive(clap::Args)]
pub struct ReadArgs {
    /// The briefing: its slug, its title, or a part of either that names one briefing.
    #[arg(required = true, num_args = 1.., value_name = "BRIEFING")]
    briefing: Vec<String>,
    /// Start at this section (its heading, or a part of it).
    #[arg(long, short, value_name = "SECTION")]
    section: Option<String>,
    /// Show this page (1-based); default the first, or the section's first.
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    page: Option<u32>,
    /// Print every page.
    #[arg(long, conflicts_with_all = ["page", "section"])]
    all: bool,
    #[command(flatten)]
    libraries: super::ScopeArgs,
}

pub fn read(settings: &Settings, args: ReadArgs) -> Result<()> {
    let reading = super::with_index(settings, |opened| {
        let engine = &args.libraries.engine(&opened.engine);
        let info = engine.find_briefing(&args.briefing.join(" "))?;
        Ok(Reading::open(engine, info)?)
    })?;
    let info = &reading.briefing;
    if args.all {
        for page in 0..reading.pages.len() {
            if page > 0 {
                println!();
            }
            print!("{}", terminal::reading_page(&reading, page, WIDTH));
        }
        return Ok(());
    }
    let page = match (&args.section, args.page) {
        (Some(section), _) => reading.page_of_section(section).ok_or_else(|| {
            let names: Vec<String> = reading.sections().into_iter().map(|s| s.0).collect();
            anyhow!(
                "no section of “{}” is called {section:?}; its sections: {}",
                info.title,
                names.join(" · ")
            )
        })?,
        (None, Some(n)) => {
            let n = n as usize;
            if n > reading.pages.len() {
                bail!("“{}” has {} pages", info.title, reading.pages.len());
            }
            n - 1
        }
        (None, None) => 0,
    };
    print!("{}", terminal::reading_page(&reading, page, WIDTH));
    if page + 1 < reading.pages.len() {
        println!("\nNext: briefbot read {} --page {}", info.slug, page + 2);
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct QuizArgs {
    /// Only ask about this briefing (slug, title, or part of either).
    #[arg(long, value_name = "BRIEFING")]
    briefing: Option<String>,
    /// The quiz's seed: the same seed over the same briefings gives the same quiz
    /// (default: a new one, printed so it can be replayed).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Print the quiz, with its answer, as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    libraries: super::ScopeArgs,
}

pub fn quiz(settings: &Settings, args: QuizArgs) -> Result<()> {
    let seed = args.seed.unwrap_or_else(quiz::fresh_seed);
    let quiz = super::with_index(settings, |opened| {
        let engine = &args.libraries.engine(&opened.engine);
        let info = match &args.briefing {
            Some(b) => Some(engine.find_briefing(b)?),
            None => None,
        };
        Ok(quiz::make(engine, info, seed)?)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&quiz)?);
        return Ok(());
    }
    print!("{}", terminal::quiz_question(&quiz, WIDTH));
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        print!("\nYour answer (A–D): ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading your answer")?;
        let picked = line.trim().to_uppercase().chars().next();
        let right = terminal::letter(quiz.answer);
        println!(
            "{}",
            if picked == Some(right) {
                "Right!"
            } else {
                "Not quite."
            }
        );
    }
    println!();
    print!("{}", terminal::quiz_answer(&quiz, WIDTH));
    println!("\nReplay: briefbot quiz --seed {seed}");
    Ok(())
}

#[derive(clap::Args)]
pub struct CiteArgs {
    /// The passage id, such as us-japan-indo-pacific:5 (`ask` shows them).
    id: String,
    #[command(flatten)]
    libraries: super::ScopeArgs,
}

pub fn cite(settings: &Settings, args: CiteArgs) -> Result<()> {
    let passage = super::with_index(settings, |opened| {
        Ok(args
            .libraries
            .engine(&opened.engine)
            .passage(args.id.trim())?)
    })?
    .ok_or_else(|| {
        anyhow!(
            "no passage has the id {:?}; ids look like `briefing-slug:5`",
            args.id
        )
    })?;
    print!("{}", terminal::citation_block(&passage));
    Ok(())
}
