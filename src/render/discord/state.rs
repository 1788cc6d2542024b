//! Messages about the bot's state: leaderboards, a member's quiz history, a server's
//! settings, its audit trail, and the reply when the state database is unavailable. Same
//! rules as every message: inside Discord's limits, nothing pings (members are shown as
//! mentions, which Discord renders as names without notifying anyone, since every message
//! allows no mentions).

use super::{Message, cut, escape, notice};
use crate::state::audit::Entry;
use crate::state::guilds::GuildSettings;
use crate::state::quiz::{Answered, Period, Standing};

/// What a quiz answer did to the member's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreNote {
    /// Counted; the member's score in this channel is now (right, answered).
    Counted(u64, u64),
    /// Answered before: the first answer stands; the score is (right, answered).
    Again(u64, u64),
    /// The state database is unavailable: the answer was not scored.
    Unavailable,
}

impl ScoreNote {
    /// The line the quiz result ends with.
    pub fn line(self) -> String {
        match self {
            ScoreNote::Counted(r, n) => format!("Your score in this channel: **{r}/{n}**."),
            ScoreNote::Again(r, n) => format!(
                "(You had already answered this question: your score is unchanged, **{r}/{n}**.)"
            ),
            ScoreNote::Unavailable => {
                "(Scores are unavailable for now, so this answer was not counted.)".to_string()
            }
        }
    }
}

/// The reply of a command that needs the state database while it is unavailable; `what`
/// is its subject with its verb ("Scores are", "The report is").
pub fn unavailable(what: &str) -> Message {
    notice(&format!(
        "{what} unavailable for now: the bot cannot reach its database. Questions are \
         still answered; please try again later."
    ))
}

/// A leaderboard: `board` best first, for `scope` ("this channel", "this server").
pub fn leaderboard_message(board: &[Standing], scope: &str, period: Period) -> Message {
    let text = if board.is_empty() {
        format!(
            "No quiz answers in {scope} {}: `/quiz play` starts one.",
            match period {
                Period::All => "yet",
                _ => period.label(),
            }
        )
    } else {
        let lines: Vec<String> = board
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. <@{}> — {}/{}", i + 1, s.member, s.correct, s.answered))
            .collect();
        format!(
            "**Quiz leaderboard**: {scope}, {}\n{}",
            period.label(),
            lines.join("\n")
        )
    };
    let mut m = notice(&text);
    m.ephemeral = false;
    m
}

/// A member's own quiz history: their scores over three periods and their last answers.
pub fn quiz_stats_message(
    scope: &str,
    periods: &[(Period, Standing)],
    recent: &[Answered],
) -> Message {
    if periods.iter().all(|(_, s)| s.answered == 0) {
        return notice(&format!(
            "You have not answered a quiz in {scope} yet: `/quiz play` starts one."
        ));
    }
    let mut text = format!("**Your quiz answers** in {scope}\n");
    for (period, s) in periods {
        let share = if s.answered == 0 {
            String::new()
        } else {
            format!(" ({:.0} %)", 100.0 * s.correct as f64 / s.answered as f64)
        };
        text.push_str(&format!(
            "• {}: **{}/{}**{share}\n",
            period.label(),
            s.correct,
            s.answered
        ));
    }
    if !recent.is_empty() {
        text.push_str("**Last answers**\n");
        for a in recent {
            text.push_str(&format!(
                "{} `{}` {}\n",
                if a.correct { "✅" } else { "❌" },
                cut(&a.passage, 100).replace('`', "'"),
                &crate::state::rfc3339(a.at)[..10]
            ));
        }
    }
    notice(&text)
}

/// A server's settings, with the bot's defaults where it has none of its own.
pub fn settings_message(s: &GuildSettings, default_cooldown: (u32, u64), changed: bool) -> Message {
    let role = s.moderator_role.map_or_else(
        || "none (Manage Server only)".to_string(),
        |r| format!("<@&{r}>"),
    );
    let briefing = s.default_briefing.as_deref().map_or_else(
        || "none".to_string(),
        |b| format!("`{}`", b.replace('`', "'")),
    );
    let (questions, seconds) = default_cooldown;
    let cooldown = match s.cooldown_questions {
        Some(n) => format!("{n} questions per {seconds} s (this server)"),
        None => format!("{questions} questions per {seconds} s (the bot's default)"),
    };
    let term = s.term_start.map_or_else(
        || {
            format!(
                "not set (the last {} days)",
                crate::state::quiz::DEFAULT_TERM_DAYS
            )
        },
        |t| crate::state::rfc3339(t)[..10].to_string(),
    );
    let text = format!(
        "{}**Moderator role**: {role}\n**Default briefing** (`/quiz play`, `/read`): {briefing}\n\
         **Question cooldown**: {cooldown}\n**Term start** (`/leaderboard term`): {term}\n\
         **Unanswered questions recorded** (`/gaps`, no names): {}\n\
         **Shared library read here** (besides this server's own): {}",
        if changed {
            "**Settings saved.**\n"
        } else {
            "**This server's settings**\n"
        },
        if s.record_questions { "yes" } else { "no" },
        if s.shared_library { "yes" } else { "no" }
    );
    notice(&text)
}

/// A server's audit trail, newest first.
pub fn audit_message(entries: &[Entry]) -> Message {
    if entries.is_empty() {
        return notice("No content changes have been made from this server yet.");
    }
    let mut text = String::from("**Content changes** (newest first)\n");
    for e in entries {
        let line = format!(
            "• {} <@{}> **{}** `{}`: {}\n",
            crate::state::rfc3339(e.at)
                .replace('T', " ")
                .trim_end_matches('Z'),
            e.actor,
            escape(&e.action),
            cut(&e.target, 80).replace('`', "'"),
            cut(&escape(&e.outcome), 200)
        );
        if text.len() + line.len() > super::limits::CONTENT - 20 {
            text.push('…');
            break;
        }
        text.push_str(&line);
    }
    notice(&text)
}

/// Groups of unanswered questions on one page of `/gaps`.
pub const GAPS_PER_PAGE: usize = 4;

fn percent(share: Option<f64>) -> String {
    share.map_or_else(
        || "no questions".to_string(),
        |s| format!("{:.1} %", 100.0 * s),
    )
}

/// A page of the unanswered-questions report: the largest groups first, each with its
/// count, examples, nearest briefings and 👎 reasons; paged with ◀ ▶.
pub fn gaps_message(
    report: &crate::gaps::Report,
    days: u32,
    slug: Option<&str>,
    title: Option<&str>,
    page: usize,
) -> Message {
    use super::{Button, Embed, Style, ids, limits};
    let pages = report.groups.len().div_ceil(GAPS_PER_PAGE).max(1);
    let page = page.min(pages - 1);
    let mut text = format!(
        "{} of {} questions went unanswered ({}); the {days} days before: {} of {} ({}).\n",
        report.unanswered,
        report.asked,
        percent(report.share()),
        report.previous_unanswered,
        report.previous_asked,
        percent(report.previous_share()),
    );
    if report.groups.is_empty() {
        text.push_str("\nNothing went unanswered: the briefings covered every question.");
    }
    for (n, g) in report
        .groups
        .iter()
        .enumerate()
        .skip(page * GAPS_PER_PAGE)
        .take(GAPS_PER_PAGE)
    {
        let mut block = format!(
            "\n**{}. {} question{}** ({} not covered, {} 👎)",
            n + 1,
            g.count,
            if g.count == 1 { "" } else { "s" },
            g.refused,
            g.voted_down
        );
        if !g.nearest.is_empty() {
            let nearest: Vec<String> = g.nearest.iter().map(|t| cut(&escape(t), 80)).collect();
            block.push_str(&format!(" — nearest: {}", nearest.join(" · ")));
        }
        block.push('\n');
        for e in &g.examples {
            block.push_str(&format!("> {}\n", cut(&escape(e), 200)));
        }
        for (question, kind, why) in g.reasons.iter().take(3) {
            let why = why
                .as_deref()
                .map(|w| format!(": “{}”", cut(&escape(w), 200)))
                .unwrap_or_default();
            block.push_str(&format!(
                "👎 *{kind}*{why} — on “{}”\n",
                cut(&escape(question), 100)
            ));
        }
        text.push_str(&block);
    }
    let mut row = Vec::new();
    let button = |p: usize, label: &str| {
        let action = ids::Action::Gaps {
            page: p,
            days,
            briefing: slug.map(str::to_string),
        };
        Button::new(ids::encode(&action), label, Style::Secondary)
    };
    if page > 0 {
        row.push(button(page - 1, "◀"));
    }
    if page + 1 < pages {
        row.push(button(page + 1, "▶"));
    }
    // A slug too long for a button id: the pages are not offered rather than broken.
    if row.iter().any(|b| b.id.len() > 100) {
        row.clear();
    }
    let about = title
        .map(|t| format!(", about “{}”", cut(t, 80)))
        .unwrap_or_default();
    Message {
        content: String::new(),
        embed: Some(Embed {
            title: Some(cut(
                &format!("What members could not find — the last {days} days{about}"),
                limits::EMBED_TITLE,
            )),
            description: cut(&text, limits::EMBED_DESCRIPTION),
            footer: Some(format!(
                "page {} of {pages} · similar questions grouped; no names are kept",
                page + 1
            )),
            ..Embed::default()
        }),
        rows: if row.is_empty() {
            Vec::new()
        } else {
            vec![row]
        },
        menu: None,
        ephemeral: true,
    }
}
