//! The `briefbot` command: parses arguments, loads settings, dispatches to a subcommand.
//! Everything else lives in the library.

mod cmd;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use briefbot::config::Settings;

/// Answers questions about briefings by quoting their paragraphs, with sources.
#[derive(Parser)]
#[command(name = "briefbot", version, about, propagate_version = true)]
struct Cli {
    /// Settings file to read instead of ./config.toml.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rebuild the index from the content folder.
    Index(cmd::index::Args),
    /// Add a briefing: a web page or PDF by link, or a file (checked, saved, indexed).
    Add(cmd::add::Args),
    /// Answer a question from the terminal.
    Ask(cmd::ask::Args),
    /// List the indexed briefings.
    Sources(cmd::sources::Args),
    /// Read a briefing page by page, each paragraph numbered as it is cited.
    Read(cmd::study::ReadArgs),
    /// A quiz question made from the briefings (the same seed gives the same quiz).
    Quiz(cmd::study::QuizArgs),
    /// A passage's citation, ready to paste, with its text.
    Cite(cmd::study::CiteArgs),
    /// Measure retrieval on a question set (indexes into a temporary folder).
    Eval(cmd::eval::Args),
    /// Run the Discord bot (token from DISCORD_TOKEN or discord.token).
    Serve(cmd::serve::Args),
    /// Write a generated benchmark corpus (deterministic from a seed).
    Generate(cmd::generate::Args),
    /// Install or check the sentence-embedding model.
    Model(cmd::model::Args),
    /// The audit trail of content changes, from the state database.
    Audit(cmd::records::AuditArgs),
    /// The 👍 / 👎 votes on quotes, from the state database (no user names are kept).
    Feedback(cmd::records::FeedbackArgs),
    /// What members asked that the briefings could not answer, grouped by topic.
    Gaps(cmd::records::GapsArgs),
    /// Every library (shared, each server's) and whether the bot is still in its server;
    /// `prune` moves aside the libraries of servers it left.
    Libraries(cmd::libraries::Args),
    /// Reads one PDF from standard input for briefbot itself (its child process).
    #[command(hide = true)]
    PdfExtract(cmd::pdf_extract::Args),
}

/// A closed pipe (`briefbot read --all | head`) ends briefbot quietly, as it ends any Unix
/// tool: Rust ignores SIGPIPE by default, which turns the next `println!` into a panic.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first in `main`, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    restore_sigpipe();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("BRIEFBOT_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: not in a service's log file.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
    let cli = Cli::parse();
    let command = match cli.command {
        Command::PdfExtract(args) => return exit(cmd::pdf_extract::execute(args)),
        command => command,
    };
    // Every PDF is read in a child process of this binary, under memory and time limits.
    if let Ok(exe) = std::env::current_exe() {
        briefbot::ingest::use_pdf_helper(exe);
    }
    let result = Settings::load(cli.config.as_deref())
        .map_err(anyhow::Error::from)
        .and_then(|settings| match command {
            Command::Index(args) => cmd::index::execute(&settings, args),
            Command::Add(args) => cmd::add::execute(&settings, args),
            Command::Ask(args) => cmd::ask::execute(&settings, args),
            Command::Sources(args) => cmd::sources::execute(&settings, args),
            Command::Read(args) => cmd::study::read(&settings, args),
            Command::Quiz(args) => cmd::study::quiz(&settings, args),
            Command::Cite(args) => cmd::study::cite(&settings, args),
            Command::Eval(args) => cmd::eval::execute(&settings, args),
            Command::Serve(args) => cmd::serve::execute(&settings, args),
            Command::Generate(args) => cmd::generate::execute(&settings, args),
            Command::Model(args) => cmd::model::execute(&settings, args),
            Command::Audit(args) => cmd::records::audit(&settings, args),
            Command::Feedback(args) => cmd::records::feedback(&settings, args),
            Command::Gaps(args) => cmd::records::gaps(&settings, args),
            Command::Libraries(args) => cmd::libraries::execute(&settings, args),
            Command::PdfExtract(_) => unreachable!("handled before the settings are read"),
        });
    exit(result)
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("briefbot: error: {}", briefbot::error_chain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}
