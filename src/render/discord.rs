//! The answer as a Discord message: plain data ([`Message`]) that the Discord layer turns
//! into serenity builders. Everything that decides what a message says, how long it may
//! be and which buttons it carries is here, pure and tested, so that every message stays
//! inside Discord's limits and can mention nobody, whatever the question or the passage.

use std::ops::Range;

use super::{Marks, mark};
use crate::answer::Answer;
use crate::index::BriefingInfo;
use crate::ingest::Passage;
use crate::search::Hit;
use crate::search::analyze;

/// Discord's limits, counted in UTF-16 code units (stricter than Discord's own count).
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const EMBED_FOOTER: usize = 2048;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FIELDS: usize = 25;
    pub const EMBED_TOTAL: usize = 6000;
    pub const CUSTOM_ID: usize = 100;
    pub const BUTTON_LABEL: usize = 80;
    pub const ROW_BUTTONS: usize = 5;
    pub const ROWS: usize = 5;
    pub const MENU_OPTIONS: usize = 25;
    pub const MENU_TEXT: usize = 100;
    pub const MENU_PLACEHOLDER: usize = 150;
}

/// Length as Discord may count it (UTF-16 code units: never less than its own count).
pub fn len(s: &str) -> usize {
    s.encode_utf16().count()
}

pub mod state;
pub mod study;

/// A message to send, as plain data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    pub content: String,
    pub embed: Option<Embed>,
    pub rows: Vec<Vec<Button>>,
    /// A select menu, in a row of its own below the buttons.
    pub menu: Option<Menu>,
    pub ephemeral: bool,
}

/// A select menu: one choice of `options`, each `(label, value)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    pub id: String,
    pub placeholder: String,
    pub options: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embed {
    pub title: Option<String>,
    pub url: Option<String>,
    pub description: String,
    pub fields: Vec<(String, String)>,
    pub footer: Option<String>,
}

impl Embed {
    /// The characters Discord counts toward the 6,000 of a message.
    pub fn total(&self) -> usize {
        self.title.as_deref().map_or(0, len)
            + len(&self.description)
            + self
                .fields
                .iter()
                .map(|(n, v)| len(n) + len(v))
                .sum::<usize>()
            + self.footer.as_deref().map_or(0, len)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Primary,
    Secondary,
    Success,
    Danger,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub id: String,
    pub label: String,
    pub style: Style,
}

impl Button {
    fn new(id: String, label: impl Into<String>, style: Style) -> Button {
        Button {
            id,
            label: cut(&defuse(&label.into()), limits::BUTTON_LABEL),
            style,
        }
    }

    /// Whether Discord accepts the button's id.
    fn fits(&self) -> bool {
        len(&self.id) <= limits::CUSTOM_ID
    }
}

impl Message {
    /// Whether the message respects every limit of Discord's.
    pub fn within_limits(&self) -> bool {
        let embed_ok = self.embed.as_ref().is_none_or(|e| {
            e.title
                .as_deref()
                .is_none_or(|t| len(t) <= limits::EMBED_TITLE)
                && len(&e.description) <= limits::EMBED_DESCRIPTION
                && e.fields.len() <= limits::FIELDS
                && e.fields
                    .iter()
                    .all(|(n, v)| len(n) <= limits::FIELD_NAME && len(v) <= limits::FIELD_VALUE)
                && e.footer
                    .as_deref()
                    .is_none_or(|f| len(f) <= limits::EMBED_FOOTER)
                && e.total() <= limits::EMBED_TOTAL
        });
        let mut ids: Vec<&str> = self.rows.iter().flatten().map(|b| b.id.as_str()).collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        let menu_ok = self.menu.as_ref().is_none_or(|m| {
            !m.id.is_empty()
                && len(&m.id) <= limits::CUSTOM_ID
                && !ids.contains(&m.id.as_str())
                && len(&m.placeholder) <= limits::MENU_PLACEHOLDER
                && (1..=limits::MENU_OPTIONS).contains(&m.options.len())
                && m.options.iter().all(|(l, v)| {
                    (1..=limits::MENU_TEXT).contains(&len(l))
                        && (1..=limits::MENU_TEXT).contains(&len(v))
                })
                && {
                    let mut values: Vec<&str> = m.options.iter().map(|o| o.1.as_str()).collect();
                    values.sort_unstable();
                    values.dedup();
                    values.len() == m.options.len()
                }
        });
        len(&self.content) <= limits::CONTENT
            && embed_ok
            && menu_ok
            && self.rows.len() + usize::from(self.menu.is_some()) <= limits::ROWS
            && self
                .rows
                .iter()
                .all(|r| !r.is_empty() && r.len() <= limits::ROW_BUTTONS)
            && ids.len() == count
            && self.rows.iter().flatten().all(|b| {
                !b.id.is_empty()
                    && len(&b.id) <= limits::CUSTOM_ID
                    && !b.label.is_empty()
                    && len(&b.label) <= limits::BUTTON_LABEL
            })
    }

    /// Every piece of text of the message, for checks.
    pub fn texts(&self) -> Vec<&str> {
        let mut out = vec![self.content.as_str()];
        if let Some(e) = &self.embed {
            out.extend(e.title.as_deref());
            out.push(&e.description);
            for (n, v) in &e.fields {
                out.push(n);
                out.push(v);
            }
            out.extend(e.footer.as_deref());
        }
        out.extend(self.rows.iter().flatten().map(|b| b.label.as_str()));
        if let Some(m) = &self.menu {
            out.push(&m.placeholder);
            out.extend(m.options.iter().map(|o| o.0.as_str()));
        }
        out
    }
}

/// Escapes Discord Markdown and defuses mentions in text that is not ours (a question,
/// a passage, a title): the words show as written and cannot format, link or ping.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '[' | ']' | '#' | ':' => {
                out.push('\\');
                out.push(c);
            }
            // A zero-width space after @ breaks @everyone, @here and <@id> alike.
            '@' => out.push_str("@\u{200b}"),
            // Line breaks would end a block quote; control characters show as nothing.
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Defuses mentions in plain-text places that show no Markdown (embed footers, button
/// labels, thread names): a zero-width space after every @, and no control characters.
pub fn defuse(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| {
            let zwsp = (c == '@').then_some('\u{200b}');
            std::iter::once(c).chain(zwsp)
        })
        .collect()
}

/// Undoes [`escape`] (the zero-width space after @ stays out): to read a question back
/// from a message the bot sent.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '\u{200b}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Cuts `s` to at most `max` UTF-16 units, ending with "…" when it was longer.
pub fn cut(s: &str, max: usize) -> String {
    if len(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.len_utf16();
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    // Never leave a dangling escape backslash before the ellipsis.
    while out.ends_with('\\') {
        out.pop();
    }
    out.push('…');
    out
}

/// The line that echoes the question, from which buttons read it back.
pub const QUESTION_PREFIX: &str = "**Q:** ";

/// The question echoed at the top of an answer (escaped, cut to fit).
pub fn question_line(question: &str) -> String {
    format!("{QUESTION_PREFIX}{}", cut(&escape(question), 1800))
}

/// Reads the question back from a message's content (see [`question_line`]).
pub fn question_of(content: &str) -> Option<String> {
    let line = content.lines().find(|l| l.starts_with(QUESTION_PREFIX))?;
    let q = unescape(&line[QUESTION_PREFIX.len()..]);
    let q = q.trim_end_matches('…').trim().to_string();
    (!q.is_empty()).then_some(q)
}

/// How an answer message is laid out.
#[derive(Debug, Clone)]
pub struct AnswerLayout {
    /// Position of the first quote in the full ranking (0 for a new answer).
    pub offset: usize,
    /// Quotes per message.
    pub k: usize,
    /// Sent privately (adds "Share", leaves out "Discuss").
    pub ephemeral: bool,
    /// A thread may be opened on the message ("Discuss").
    pub can_discuss: bool,
    /// The user who asked: only they may delete the answer.
    pub asker: u64,
    /// The briefing the question was restricted to, if any (slug).
    pub briefing: Option<String>,
}

impl AnswerLayout {
    /// A public answer to `asker`, from the first quote, in any briefing.
    pub fn new(k: usize, asker: u64) -> AnswerLayout {
        AnswerLayout {
            offset: 0,
            k,
            ephemeral: false,
            can_discuss: true,
            asker,
            briefing: None,
        }
    }
}

/// Characters kept free in the description for citations and separators.
const CITATION_ROOM: usize = 420;

/// The most quotes one answer message shows: each quote has its row of buttons, and a
/// message has five rows, the first for More / Share / Discuss / Delete. With four quotes
/// each still has at least 579 characters of text (before trimming at sentences).
pub const MAX_QUOTES: usize = limits::ROWS - 1;

/// How many quotes an answer message shows when `search.top_k` is `k`: as many as fit
/// (More shows the next ones).
pub fn quotes_per_message(k: usize) -> usize {
    k.clamp(1, MAX_QUOTES)
}

/// The answer as one message: the question echoed, the quotes as block quotes with the
/// matched words in bold and the best sentence underlined, each with its citation, and
/// the buttons.
pub fn answer_message(answer: &Answer, layout: &AnswerLayout) -> Message {
    let content = question_line(&answer.question);
    // Only as many quotes as fit (see MAX_QUOTES); More goes on from the first left out.
    let quotes = &answer.quotes[..answer.quotes.len().min(MAX_QUOTES)];
    let footer = Some(cut(
        &format!(
            "briefbot · index {} · quotes {}–{}",
            defuse(&answer.index_version),
            layout.offset + 1,
            layout.offset + quotes.len().max(1)
        ),
        limits::EMBED_FOOTER,
    ));
    if !answer.is_covered() {
        let mut description = String::from(answer.refusal());
        if !answer.nearest.is_empty() {
            description.push_str("\nNearest briefings:");
            for title in &answer.nearest {
                description.push_str("\n• ");
                description.push_str(&cut(&escape(title), 200));
            }
        }
        // A member who thinks the refusal wrong is never stuck behind it; chatter ("what
        // is it") has no closest paragraphs but by chance.
        let mut row = Vec::new();
        if !answer.is_chatter() {
            row.push(Button::new(
                ids::encode(&ids::Action::Anyway {
                    offset: 0,
                    briefing: layout.briefing.clone(),
                }),
                "Show the closest paragraphs anyway",
                Style::Secondary,
            ));
        }
        row.push(delete_button(layout.asker));
        row.retain(Button::fits);
        return Message {
            content,
            embed: Some(Embed {
                description,
                footer,
                ..Embed::default()
            }),
            rows: vec![row],
            menu: None,
            ephemeral: layout.ephemeral,
        };
    }
    let n = quotes.len().max(1);
    let budget = ((limits::EMBED_DESCRIPTION - 100) / n).saturating_sub(CITATION_ROOM);
    let mut blocks = Vec::new();
    let mut rows: Vec<Vec<Button>> = Vec::new();
    for hit in quotes {
        let (quote, trimmed) = quote_text(hit, budget);
        let mut block = String::new();
        for line in quote.lines() {
            block.push_str("> ");
            block.push_str(line);
            block.push('\n');
        }
        block.push_str(&citation(&hit.passage));
        blocks.push(block);
        rows.push(passage_buttons(&hit.passage, trimmed));
    }
    // Quotes shown anyway go on being shown anyway.
    let next = layout.offset + quotes.len();
    let briefing = layout.briefing.clone();
    let more = if answer.shown_anyway() {
        ids::Action::Anyway {
            offset: next,
            briefing,
        }
    } else {
        ids::Action::More {
            offset: next,
            briefing,
        }
    };
    let mut first_row = vec![Button::new(ids::encode(&more), "More", Style::Primary)];
    if layout.ephemeral {
        first_row.push(Button::new(
            ids::encode(&ids::Action::Share {
                briefing: layout.briefing.clone(),
            }),
            "Share",
            Style::Success,
        ));
    } else if layout.can_discuss {
        first_row.push(Button::new(
            ids::encode(&ids::Action::Discuss),
            "Discuss",
            Style::Secondary,
        ));
    }
    if !layout.ephemeral {
        first_row.push(delete_button(layout.asker));
    }
    rows.insert(0, first_row);
    // A button whose state does not fit in a custom id (a very long slug) is left out.
    for row in &mut rows {
        row.retain(Button::fits);
    }
    rows.retain(|r| !r.is_empty());
    rows.truncate(limits::ROWS);
    let mut description = blocks.join("\n\n");
    if answer.shown_anyway() {
        description.insert_str(0, ANYWAY_NOTE);
    }
    Message {
        content,
        embed: Some(Embed {
            description,
            footer,
            ..Embed::default()
        }),
        rows,
        menu: None,
        ephemeral: layout.ephemeral,
    }
}

/// Above quotes shown although the briefings do not seem to cover the question (kept out
/// of the quotes' budget: the 100 units the description keeps free).
const ANYWAY_NOTE: &str =
    "*The briefings may not cover this question; the closest paragraphs anyway:*\n\n";

fn delete_button(asker: u64) -> Button {
    Button::new(
        ids::encode(&ids::Action::Delete { asker }),
        "Delete",
        Style::Danger,
    )
}

/// The buttons under one quote: full passage (when trimmed), context, and the votes.
/// A passage id too long for a button's custom id gets no buttons.
fn passage_buttons(p: &Passage, trimmed: bool) -> Vec<Button> {
    let n = p.paragraph;
    let mut row = Vec::new();
    let actions = [
        (
            trimmed,
            ids::Action::Full { id: p.id.clone() },
            format!("Full ¶{n}"),
            Style::Secondary,
        ),
        (
            true,
            ids::Action::Context { id: p.id.clone() },
            format!("Context ¶{n}"),
            Style::Secondary,
        ),
        (
            true,
            ids::Action::Vote {
                up: true,
                id: p.id.clone(),
            },
            format!("👍 ¶{n}"),
            Style::Secondary,
        ),
        (
            true,
            ids::Action::Vote {
                up: false,
                id: p.id.clone(),
            },
            format!("👎 ¶{n}"),
            Style::Secondary,
        ),
    ];
    for (wanted, action, label, style) in actions {
        let id = ids::encode(&action);
        if wanted && len(&id) <= limits::CUSTOM_ID {
            row.push(Button::new(id, label, style));
        }
    }
    row
}

/// The citation under a quote: linked title, section, ¶n, page (PDF), date, passage id.
pub fn citation(p: &Passage) -> String {
    let title = cut(&escape(&p.briefing), 150);
    let mut parts = vec![match &p.url {
        Some(url) if is_web_url(url) && len(url) <= 200 => format!("[{title}](<{url}>)"),
        _ => format!("**{title}**"),
    }];
    if let Some(section) = &p.section {
        parts.push(cut(&escape(section), 80));
    }
    parts.push(format!("¶{}", p.paragraph));
    if let Some(page) = p.page {
        parts.push(format!("p. {page}"));
    }
    if let Some(date) = &p.date {
        parts.push(cut(&escape(date), 40));
    }
    parts.push(format!("`{}`", cut(&p.id.replace('`', "'"), 60)));
    format!("— {}", parts.join(" · "))
}

fn is_web_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ')' | '('))
}

/// A quote rendered for Discord within `budget` units: matched words bold, the best
/// sentence underlined, trimmed at sentence boundaries around the best sentence with "…".
/// Returns the text and whether it was trimmed.
fn quote_text(hit: &Hit, budget: usize) -> (String, bool) {
    let text = &hit.passage.text;
    let whole_paragraph = text.trim() == text.get(hit.best_sentence.clone()).unwrap_or("");
    let render = |range: Range<usize>| -> String {
        let shift = |r: &Range<usize>| -> Option<Range<usize>> {
            let s = r.start.max(range.start);
            let e = r.end.min(range.end);
            (s < e).then(|| s - range.start..e - range.start)
        };
        let highlights: Vec<Range<usize>> = hit.highlights.iter().filter_map(shift).collect();
        // Underlining the only sentence of a paragraph would say nothing.
        let best = shift(&hit.best_sentence).filter(|_| !whole_paragraph);
        let marks = Marks {
            term: ("**", "**"),
            sentence: ("__", "__"),
        };
        mark(&text[range], &highlights, best.as_ref(), &marks, &escape)
    };
    let whole = render(0..text.len());
    if len(&whole) <= budget {
        return (whole, false);
    }
    let sentences = analyze::sentences(text);
    let best = sentences
        .iter()
        .position(|s| s.start <= hit.best_sentence.start && hit.best_sentence.start < s.end)
        .unwrap_or(0);
    let (mut first, mut last) = (best, best);
    let fits = |a: usize, b: usize| {
        let range = sentences[a].start..sentences[b].end;
        len(&render(range)) + 4 <= budget
    };
    if sentences.is_empty() || !fits(best, best) {
        // Not even the best sentence fits: cut it by characters.
        return (cut(&whole, budget), true);
    }
    loop {
        if last + 1 < sentences.len() && fits(first, last + 1) {
            last += 1;
        } else if first > 0 && fits(first - 1, last) {
            first -= 1;
        } else {
            break;
        }
    }
    let mut out = String::new();
    if first > 0 {
        out.push_str("… ");
    }
    out.push_str(&render(sentences[first].start..sentences[last].end));
    if last + 1 < sentences.len() {
        out.push_str(" …");
    }
    (out, true)
}

/// One passage shown whole (`/passage`, "Full passage"), or with its neighbours
/// ("Context"): `before` and `after` are the paragraphs around it, if any.
pub fn passage_message(
    passage: &Passage,
    before: Option<&Passage>,
    after: Option<&Passage>,
    ephemeral: bool,
) -> Message {
    let neighbours = usize::from(before.is_some()) + usize::from(after.is_some());
    let room = (limits::EMBED_DESCRIPTION - 600) / (1 + neighbours);
    let mut parts = Vec::new();
    if let Some(b) = before {
        parts.push(format!(
            "*¶{}*\n{}",
            b.paragraph,
            cut(&escape(&b.text), room)
        ));
    }
    let main = cut(&escape(&passage.text), room);
    let body: String = main.lines().map(|l| format!("> {l}\n")).collect();
    parts.push(format!("**¶{}**\n{}", passage.paragraph, body.trim_end()));
    if let Some(a) = after {
        parts.push(format!(
            "*¶{}*\n{}",
            a.paragraph,
            cut(&escape(&a.text), room)
        ));
    }
    parts.push(citation(passage));
    let url = passage
        .url
        .clone()
        .filter(|u| is_web_url(u) && len(u) <= 500);
    Message {
        content: String::new(),
        embed: Some(Embed {
            title: Some(cut(&escape(&passage.briefing), limits::EMBED_TITLE)),
            url,
            description: parts.join("\n\n"),
            fields: Vec::new(),
            footer: passage
                .section
                .as_ref()
                .map(|s| cut(&defuse(s), limits::EMBED_FOOTER)),
        }),
        rows: Vec::new(),
        menu: None,
        ephemeral,
    }
}

/// Briefings per page of `/sources`.
pub const SOURCES_PER_PAGE: usize = 10;

/// One page of the briefing list, with ◀ ▶ buttons.
pub fn sources_message(briefings: &[BriefingInfo], page: usize, index_version: &str) -> Message {
    let pages = briefings.len().div_ceil(SOURCES_PER_PAGE).max(1);
    let page = page.min(pages - 1);
    let lines: Vec<String> = briefings
        .iter()
        .skip(page * SOURCES_PER_PAGE)
        .take(SOURCES_PER_PAGE)
        .map(|b| {
            let title = cut(&escape(&b.title), 200);
            let title = match &b.url {
                Some(u) if is_web_url(u) && len(u) <= 200 => format!("[{title}](<{u}>)"),
                _ => format!("**{title}**"),
            };
            let date = b
                .date
                .as_deref()
                .map(escape)
                .unwrap_or_else(|| "no date".into());
            format!(
                "{title}\n{date} · {} · `{}`",
                super::count(b.paragraphs as usize, "paragraph"),
                cut(&b.slug.replace('`', "'"), 80)
            )
        })
        .collect();
    let description = if lines.is_empty() {
        "No briefings are indexed.".to_string()
    } else {
        lines.join("\n")
    };
    let mut row = Vec::new();
    if page > 0 {
        let id = ids::encode(&ids::Action::Sources { page: page - 1 });
        row.push(Button::new(id, "◀", Style::Secondary));
    }
    if page + 1 < pages {
        let id = ids::encode(&ids::Action::Sources { page: page + 1 });
        row.push(Button::new(id, "▶", Style::Secondary));
    }
    let rows = if row.is_empty() {
        Vec::new()
    } else {
        vec![row]
    };
    Message {
        content: String::new(),
        embed: Some(Embed {
            title: Some(format!("Briefings ({})", briefings.len())),
            description: cut(&description, limits::EMBED_DESCRIPTION),
            footer: Some(cut(
                &format!(
                    "page {} of {pages} · index {}",
                    page + 1,
                    defuse(index_version)
                ),
                limits::EMBED_FOOTER,
            )),
            ..Embed::default()
        }),
        rows,
        menu: None,
        ephemeral: false,
    }
}

/// A short reply to the user alone (errors, refusals, cooldowns).
pub fn notice(text: &str) -> Message {
    Message {
        content: cut(text, limits::CONTENT),
        ephemeral: true,
        ..Message::default()
    }
}

/// The custom ids of buttons: every bit of state a button needs is in its id (and in the
/// message it sits on), so buttons keep working after a restart.
pub mod ids {
    /// Version prefix: ids of another version are refused, not misread.
    const PREFIX: &str = "bb1";

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Action {
        /// The next quotes, from `offset`, in the same briefing if the question was
        /// restricted.
        More {
            offset: usize,
            briefing: Option<String>,
        },
        /// The whole passage.
        Full { id: String },
        /// The passage with its neighbours.
        Context { id: String },
        /// A vote on a passage.
        Vote { up: bool, id: String },
        /// Post a private answer publicly, restricted to the same briefing if it was.
        Share { briefing: Option<String> },
        /// The closest paragraphs of a refused question, shown anyway from `offset` (in
        /// the same briefing if it was restricted): the refusal's button, and More under
        /// quotes shown anyway.
        Anyway {
            offset: usize,
            briefing: Option<String>,
        },
        /// Delete the answer (only the asker).
        Delete { asker: u64 },
        /// Open a thread on the answer.
        Discuss,
        /// A page of `/sources`.
        Sources { page: usize },
        /// The page of a `/read` holding paragraph `paragraph` of briefing `slug`.
        Read { paragraph: u64, slug: String },
        /// The section menu of a `/read` (the chosen value is a paragraph number).
        ReadSection { slug: String },
        /// A choice of a `/quiz`: the quiz is made again from `seed` (and `briefing`) and
        /// `check` tells whether it is still the same quiz.
        Quiz {
            seed: u64,
            pick: usize,
            check: String,
            briefing: Option<String>,
        },
        /// The next quiz question.
        QuizNext { seed: u64, briefing: Option<String> },
        /// The channel's quiz scores.
        QuizScores,
        /// A page of `/gaps` over the last `days`, for `briefing` if one was named.
        Gaps {
            page: usize,
            days: u32,
            briefing: Option<String>,
        },
    }

    pub fn encode(action: &Action) -> String {
        match action {
            Action::More { offset, briefing } => match briefing {
                Some(b) => format!("{PREFIX}:more:{offset}:{b}"),
                None => format!("{PREFIX}:more:{offset}"),
            },
            Action::Full { id } => format!("{PREFIX}:full:{id}"),
            Action::Context { id } => format!("{PREFIX}:ctx:{id}"),
            Action::Vote { up, id } => {
                format!("{PREFIX}:vote:{}:{id}", if *up { "up" } else { "down" })
            }
            Action::Share { briefing: None } => format!("{PREFIX}:share"),
            Action::Share { briefing: Some(b) } => format!("{PREFIX}:share:{b}"),
            Action::Anyway { offset, briefing } => match briefing {
                Some(b) => format!("{PREFIX}:anyway:{offset}:{b}"),
                None => format!("{PREFIX}:anyway:{offset}"),
            },
            Action::Delete { asker } => format!("{PREFIX}:del:{asker}"),
            Action::Discuss => format!("{PREFIX}:discuss"),
            Action::Sources { page } => format!("{PREFIX}:src:{page}"),
            Action::Read { paragraph, slug } => format!("{PREFIX}:read:{paragraph}:{slug}"),
            Action::ReadSection { slug } => format!("{PREFIX}:readsec:{slug}"),
            Action::Quiz {
                seed,
                pick,
                check,
                briefing,
            } => match briefing {
                Some(b) => format!("{PREFIX}:quiz:{seed}:{pick}:{check}:{b}"),
                None => format!("{PREFIX}:quiz:{seed}:{pick}:{check}"),
            },
            Action::QuizNext { seed, briefing } => match briefing {
                Some(b) => format!("{PREFIX}:qnext:{seed}:{b}"),
                None => format!("{PREFIX}:qnext:{seed}"),
            },
            Action::QuizScores => format!("{PREFIX}:qscores"),
            Action::Gaps {
                page,
                days,
                briefing,
            } => match briefing {
                Some(b) => format!("{PREFIX}:gaps:{days}:{page}:{b}"),
                None => format!("{PREFIX}:gaps:{days}:{page}"),
            },
        }
    }

    /// `value[:briefing]`: the value, and the briefing slug if there is one.
    fn with_briefing(arg: &str) -> (&str, Option<String>) {
        match arg.split_once(':') {
            Some((value, b)) if !b.is_empty() => (value, Some(b.to_string())),
            Some((value, _)) => (value, None),
            None => (arg, None),
        }
    }

    pub fn decode(id: &str) -> Option<Action> {
        let rest = id.strip_prefix(PREFIX)?.strip_prefix(':')?;
        let (kind, arg) = rest.split_once(':').unwrap_or((rest, ""));
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Some(match kind {
            "more" => {
                let (offset, briefing) = with_briefing(arg);
                Action::More {
                    offset: offset.parse().ok()?,
                    briefing,
                }
            }
            "full" => Action::Full { id: nonempty(arg)? },
            "ctx" => Action::Context { id: nonempty(arg)? },
            "vote" => {
                let (dir, id) = arg.split_once(':')?;
                let up = match dir {
                    "up" => true,
                    "down" => false,
                    _ => return None,
                };
                Action::Vote {
                    up,
                    id: nonempty(id)?,
                }
            }
            "share" => Action::Share {
                briefing: nonempty(arg),
            },
            "anyway" => {
                let (offset, briefing) = with_briefing(arg);
                Action::Anyway {
                    offset: offset.parse().ok()?,
                    briefing,
                }
            }
            "del" => Action::Delete {
                asker: arg.parse().ok()?,
            },
            "discuss" if arg.is_empty() => Action::Discuss,
            "src" => Action::Sources {
                page: arg.parse().ok()?,
            },
            "read" => {
                let (n, slug) = arg.split_once(':')?;
                Action::Read {
                    paragraph: n.parse().ok()?,
                    slug: nonempty(slug)?,
                }
            }
            "readsec" => Action::ReadSection {
                slug: nonempty(arg)?,
            },
            "quiz" => {
                let mut parts = arg.splitn(4, ':');
                Action::Quiz {
                    seed: parts.next()?.parse().ok()?,
                    pick: parts.next()?.parse().ok()?,
                    check: nonempty(parts.next()?)?,
                    briefing: parts.next().and_then(nonempty),
                }
            }
            "qnext" => {
                let (seed, briefing) = with_briefing(arg);
                Action::QuizNext {
                    seed: seed.parse().ok()?,
                    briefing,
                }
            }
            "qscores" if arg.is_empty() => Action::QuizScores,
            "gaps" => {
                let (days, rest) = arg.split_once(':')?;
                let (page, briefing) = with_briefing(rest);
                Action::Gaps {
                    page: page.parse().ok()?,
                    days: days.parse().ok()?,
                    briefing,
                }
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_defuses_markdown_and_mentions() {
        let e = escape("@everyone <@&123> **bold** `code` > quote\nnext");
        assert!(!e.contains("@everyone"));
        assert!(!e.contains("<@&") && e.contains("\\<@\u{200b}&123"), "{e}");
        assert!(!e.contains('\n'));
        assert_eq!(
            unescape(&e),
            "@everyone <@&123> **bold** `code` > quote next"
        );
    }

    #[test]
    fn question_round_trips_through_the_message() {
        let q = "What is *J-JOC* <@1>?";
        assert_eq!(question_of(&question_line(q)).as_deref(), Some(q));
    }

    #[test]
    fn cut_respects_the_limit() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert!(len(&cut(&"😀".repeat(100), 11)) <= 11);
        assert_eq!(cut("ab\\*cd", 4), "ab…");
    }

    #[test]
    fn ids_round_trip() {
        use ids::Action::*;
        for action in [
            More {
                offset: 3,
                briefing: None,
            },
            More {
                offset: 6,
                briefing: Some("asia/japan".into()),
            },
            Full {
                id: "us-japan:5".into(),
            },
            Context {
                id: "a/b:12".into(),
            },
            Vote {
                up: true,
                id: "x:1".into(),
            },
            Vote {
                up: false,
                id: "x:1".into(),
            },
            Share { briefing: None },
            Share {
                briefing: Some("asia/japan".into()),
            },
            Anyway {
                offset: 0,
                briefing: None,
            },
            Anyway {
                offset: 4,
                briefing: Some("asia/japan".into()),
            },
            Delete {
                asker: 123456789012345678,
            },
            Discuss,
            Sources { page: 2 },
            Gaps {
                page: 1,
                days: 30,
                briefing: Some("tides".into()),
            },
            Gaps {
                page: 0,
                days: 7,
                briefing: None,
            },
        ] {
            assert_eq!(ids::decode(&ids::encode(&action)), Some(action));
        }
        for bad in [
            "",
            "bb1",
            "bb2:share",
            "bb1:more:x",
            "bb1:vote:sideways:x:1",
            "bb1:del:",
            "bb1:full:",
        ] {
            assert_eq!(ids::decode(bad), None, "{bad}");
        }
    }
}
