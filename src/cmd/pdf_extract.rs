//! `briefbot pdf-extract` (hidden): the child process that reads one PDF for briefbot
//! (see `src/ingest/pdf/helper.rs`). The file comes on standard input, the limits as
//! arguments; the briefing's title and paragraphs, or why there are none, go to standard
//! output as JSON. It reads no settings and writes nothing else.

use std::io::{Read, Write};
use std::time::Duration;

use anyhow::{Context, Result};
use briefbot::ingest::{self, PdfLimits, PdfReply};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    max_pages: usize,
    #[arg(long)]
    max_chars: usize,
    #[arg(long)]
    heading_max_words: usize,
    #[arg(long)]
    timeout_seconds: f64,
}

pub fn execute(args: Args) -> Result<()> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading the PDF from standard input")?;
    let limits = PdfLimits {
        max_pages: args.max_pages,
        max_chars: args.max_chars,
        heading_max_words: args.heading_max_words,
        timeout: Duration::from_secs_f64(args.timeout_seconds.max(0.001)),
        // This process is the one the limit is set on.
        max_memory_mb: u64::MAX,
    };
    let reply = PdfReply::of(ingest::parse_pdf_here(&bytes, &limits));
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &reply).context("writing the reply")?;
    out.flush().context("writing the reply")?;
    Ok(())
}
