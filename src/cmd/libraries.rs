//! `briefbot libraries`: every library (the shared one, each server's) with its server,
//! briefings, paragraphs, size on disk and whether the bot is still in that server (from
//! the state database); `briefbot libraries prune --left-before DATE` moves the libraries
//! of servers the bot left before then into `content.holding_dir` and reindexes.

use anyhow::{Context, Result, anyhow};
use briefbot::app;
use briefbot::config::Settings;
use briefbot::library::{self, Library, Shelf};
use briefbot::search::Ranking;
use briefbot::state::{self, servers::Presence};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    prune: Option<Prune>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Prune {
    /// Move the libraries of servers the bot left before DATE out of content/ into
    /// content.holding_dir (never deleted), then reindex.
    Prune {
        /// YYYY-MM-DD (midnight UTC).
        #[arg(long, value_name = "DATE")]
        left_before: String,
        /// Only say which libraries would be moved.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Whether the bot is in a library's server, as the state database knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "since")]
enum Membership {
    /// The shared library belongs to no server.
    NoServer,
    In,
    /// Left at this time (seconds since the epoch).
    Left(i64),
    /// The bot never recorded this server (or the database is unavailable).
    Unknown,
}

#[derive(serde::Serialize)]
struct Row {
    #[serde(flatten)]
    shelf: Shelf,
    server: Option<u64>,
    membership: Membership,
}

pub fn execute(settings: &Settings, args: Args) -> Result<()> {
    let opened = app::open_for_command(settings, Ranking::Full)?;
    super::report_auto_build(&opened);
    let shelves = library::shelves(&settings.content.dir, &opened.engine.libraries());
    let (presence, unavailable) = match presence(settings) {
        Ok(p) => (p, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let rows: Vec<Row> = shelves
        .into_iter()
        .map(|shelf| {
            let server = match shelf.library {
                Library::Shared => None,
                Library::Server(id) => Some(id),
            };
            let membership = match server {
                None => Membership::NoServer,
                Some(id) => match presence.iter().find(|p| p.guild == id) {
                    Some(Presence {
                        left_at: Some(at), ..
                    }) => Membership::Left(*at),
                    Some(_) => Membership::In,
                    None => Membership::Unknown,
                },
            };
            Row {
                shelf,
                server,
                membership,
            }
        })
        .collect();
    if let Some(e) = &unavailable {
        eprintln!(
            "briefbot: the state database is unavailable ({e}); which servers the bot is in is unknown"
        );
    }
    match args.prune {
        None => {
            print_rows(&rows, args.json)?;
            Ok(())
        }
        Some(Prune::Prune {
            left_before,
            dry_run,
        }) => {
            if unavailable.is_some() {
                return Err(anyhow!(
                    "nothing was moved: which servers the bot left is kept in the state database"
                ));
            }
            let before = briefbot::study::parse_date(&left_before)
                .map_err(|e| anyhow!("--left-before: {e}"))?
                .ok_or_else(|| anyhow!("--left-before: give a date, such as 2026-09-01"))?;
            prune(settings, &rows, before, dry_run)
        }
    }
}

fn presence(settings: &Settings) -> Result<Vec<Presence>> {
    super::records::with_store(settings, async |store| state::servers::all(store).await)
}

fn print_rows(rows: &[Row], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(rows)?);
        return Ok(());
    }
    println!(
        "{:<22} {:>9} {:>10} {:>10}  bot in the server",
        "library", "briefings", "paragraphs", "size"
    );
    for r in rows {
        let name = match r.shelf.library {
            Library::Shared => "shared".to_string(),
            Library::Server(id) => format!("server {id}"),
        };
        let membership = match r.membership {
            Membership::NoServer => "-".to_string(),
            Membership::In => "yes".to_string(),
            Membership::Left(at) => format!("no, left {}", &state::rfc3339(at)[..10]),
            Membership::Unknown => "unknown".to_string(),
        };
        println!(
            "{name:<22} {:>9} {:>10} {:>10}  {membership}",
            r.shelf.briefings,
            r.shelf.paragraphs,
            size(r.shelf.bytes)
        );
    }
    Ok(())
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / (1 << 10) as f64),
        b => format!("{b} B"),
    }
}

fn prune(settings: &Settings, rows: &[Row], before: i64, dry_run: bool) -> Result<()> {
    let left: Vec<Library> = rows
        .iter()
        .filter(|r| matches!(r.membership, Membership::Left(at) if at < before))
        .map(|r| r.shelf.library)
        .collect();
    if left.is_empty() {
        println!("No library belongs to a server the bot left before then; nothing was moved.");
        return Ok(());
    }
    if dry_run {
        for l in &left {
            println!("would move {}", l.describe());
        }
        return Ok(());
    }
    let moved = library::move_aside(&settings.content.dir, &settings.content.holding_dir, &left)
        .context("moving the libraries aside")?;
    for (l, to) in &moved {
        println!("moved {} to {}", l.describe(), to.display());
    }
    match app::update(settings) {
        Ok((_, report)) => {
            println!(
                "reindexed: index version {}, {}",
                report.manifest.version,
                super::count(report.manifest.passages as usize, "passage")
            );
            Ok(())
        }
        Err(e) => Err(anyhow!(
            "{e}\nThe libraries were moved; the index still holds them until the writer's next \
             reindex (/reindex every_library, `briefbot index`, or its restart)."
        )),
    }
}
