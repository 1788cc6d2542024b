//! `briefbot audit` and `briefbot feedback`: the audit trail of content changes and the
//! 👍 / 👎 votes, as kept in the state database (`[state] url`), for the operator. A small
//! runtime of their own: sqlx is async, these commands are not.

use anyhow::{Context, Result, anyhow};
use briefbot::config::Settings;
use briefbot::state::{self, Store, audit, votes};

#[derive(clap::Args)]
pub struct AuditArgs {
    /// Only changes since this time: a date (2026-11-01), an RFC 3339 time, or a duration
    /// back from now (7d, 12h).
    #[arg(long)]
    since: Option<String>,
    /// Only changes made from this server (its id).
    #[arg(long)]
    guild: Option<u64>,
    /// The last this many changes (printed oldest first, as a log).
    #[arg(long, default_value_t = 1000)]
    limit: u32,
    /// Print JSON Lines (the fields of the old audit.jsonl) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct FeedbackArgs {
    /// Only votes since this time: a date, an RFC 3339 time, or a duration (7d, 12h).
    #[arg(long)]
    since: Option<String>,
    /// At most this many, oldest first.
    #[arg(long, default_value_t = 10_000)]
    limit: u32,
    /// Print JSON Lines instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `work` on the opened store, in a runtime of its own.
pub fn with_store<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&Store) -> Result<T, state::StateError>,
) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let store = state::open_and_import(settings).await?;
        let out = work(&store).await;
        store.close().await;
        Ok(out?)
    })
}

/// `--since` as seconds since the epoch.
fn since(text: Option<&str>) -> Result<Option<i64>> {
    let Some(t) = text.map(str::trim) else {
        return Ok(None);
    };
    if let Ok(back) = humantime::parse_duration(t) {
        return Ok(Some(state::now() - back.as_secs() as i64));
    }
    let time = if t.len() == 10 {
        format!("{t} 00:00:00")
    } else {
        t.trim_end_matches('Z').to_string()
    };
    let at = humantime::parse_rfc3339_weak(&time).map_err(|_| {
        anyhow!("--since {t:?}: give a date (2026-11-01), an RFC 3339 time or a duration (7d)")
    })?;
    Ok(Some(
        at.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    ))
}

pub fn audit(settings: &Settings, args: AuditArgs) -> Result<()> {
    let filter = audit::Filter {
        guild: args.guild,
        since: since(args.since.as_deref())?,
        limit: args.limit,
    };
    let mut entries = with_store(settings, async |store| audit::list(store, &filter).await)?;
    entries.reverse();
    for e in &entries {
        if args.json {
            let line = serde_json::json!({
                "time": state::rfc3339(e.at),
                "actor": {"id": e.actor, "name": e.actor_name, "guild": e.guild},
                "action": e.action,
                "target": e.target,
                "outcome": e.outcome,
            });
            println!("{line}");
        } else {
            let guild = e.guild.map_or_else(|| "-".to_string(), |g| g.to_string());
            println!(
                "{}  guild {guild}  {} ({})  {} {}: {}",
                state::rfc3339(e.at),
                e.actor_name,
                e.actor,
                e.action,
                e.target,
                e.outcome
            );
        }
    }
    if entries.is_empty() && !args.json {
        eprintln!(
            "briefbot: no content changes recorded{}",
            since_said(&args.since)
        );
    }
    Ok(())
}

pub fn feedback(settings: &Settings, args: FeedbackArgs) -> Result<()> {
    let from = since(args.since.as_deref())?;
    let list = with_store(settings, async |store| {
        votes::list(store, from, args.limit).await
    })?;
    let (mut up, mut down) = (0, 0);
    for v in &list {
        if v.up {
            up += 1;
        } else {
            down += 1;
        }
        if args.json {
            let mut j = serde_json::to_value(v)?;
            j["time"] = state::rfc3339(v.at).into();
            j["vote"] = if v.up { "up" } else { "down" }.into();
            println!("{j}");
        } else {
            println!(
                "{}  {}  {}  {:?}{}",
                state::rfc3339(v.at),
                if v.up { "👍" } else { "👎" },
                v.passage,
                v.question,
                v.index_version
                    .as_deref()
                    .map(|i| format!("  (index {i})"))
                    .unwrap_or_default()
            );
        }
    }
    if !args.json {
        eprintln!("briefbot: {up} 👍, {down} 👎{}", since_said(&args.since));
    }
    Ok(())
}

fn since_said(since: &Option<String>) -> String {
    since
        .as_deref()
        .map(|s| format!(" since {s}"))
        .unwrap_or_default()
}

#[derive(clap::Args)]
pub struct GapsArgs {
    /// The period: the last N days (compared with the N days before).
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Only this server's questions (its id); default every server's and DMs'.
    #[arg(long)]
    guild: Option<u64>,
    /// Only questions that came closest to this briefing (slug or title).
    #[arg(long)]
    briefing: Option<String>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `briefbot gaps`: the unanswered-questions report for the operator.
pub fn gaps(settings: &Settings, args: GapsArgs) -> Result<()> {
    let title = match &args.briefing {
        Some(b) => {
            let opened =
                briefbot::app::open_for_command(settings, briefbot::search::Ranking::Full)?;
            let info = opened.engine.find_briefing(b)?;
            Some(info.title.clone())
        }
        None => None,
    };
    let scope = briefbot::gaps::Scope {
        guild: args.guild,
        days: args.days.max(1),
        now: state::now(),
        briefing: title,
    };
    let model = briefbot::semantic::usable(&settings.search.semantic);
    let report = with_store(settings, async |store| {
        briefbot::gaps::build(store, &scope, model).await
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let pct = |s: Option<f64>| s.map_or_else(|| "-".to_string(), |s| format!("{:.1} %", 100.0 * s));
    println!(
        "{} of {} questions unanswered in the last {} ({}); the {} before: {} of {} ({})",
        report.unanswered,
        report.asked,
        super::count(scope.days as usize, "day"),
        pct(report.share()),
        super::count(scope.days as usize, "day"),
        report.previous_unanswered,
        report.previous_asked,
        pct(report.previous_share())
    );
    for (i, g) in report.groups.iter().enumerate() {
        println!(
            "\n{}. {} ({} not covered, {} voted down){}",
            i + 1,
            super::count(g.count, "question"),
            g.refused,
            g.voted_down,
            if g.nearest.is_empty() {
                String::new()
            } else {
                format!("; nearest: {}", g.nearest.join(" · "))
            }
        );
        for e in &g.examples {
            println!("   > {e}");
        }
        for (q, kind, why) in &g.reasons {
            println!(
                "   👎 {kind}{} — on {q:?}",
                why.as_deref()
                    .map(|w| format!(": {w:?}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}
