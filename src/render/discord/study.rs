//! Study-group messages: a page of a shared reading, a quiz and its answers, the quiz
//! scores, and a citation ready to paste. Same rules as every message: inside Discord's
//! limits, text escaped, nothing can ping.

use super::{
    Button, Embed, Menu, Message, Style, citation, cut, defuse, escape, ids, is_web_url, len,
    limits,
};
use crate::ingest::Passage;
use crate::render::terminal::letter;
use crate::study::quiz::Quiz;
use crate::study::reading::Reading;

/// Room kept in a page's description for headings and numbers.
const PAGE_ROOM: usize = limits::EMBED_DESCRIPTION - 400;

/// Page `page` of a shared reading: the section heading, each paragraph numbered `¶n` as
/// it is cited, ◀ ▶ to turn pages (anyone may), and a menu to jump to any section.
pub fn reading_message(reading: &Reading, page: usize, index_version: &str) -> Message {
    let page = page.min(reading.pages.len().saturating_sub(1));
    let shown = reading.page(page);
    let room = PAGE_ROOM / shown.len().max(1);
    let mut parts = Vec::new();
    let mut section: Option<&Option<String>> = None;
    for p in shown {
        if section != Some(&p.section) {
            if let Some(name) = &p.section {
                parts.push(format!("__**{}**__", cut(&escape(name), 200)));
            }
            section = Some(&p.section);
        }
        parts.push(format!(
            "**¶{}** {}",
            p.paragraph,
            cut(&escape(&p.text), room)
        ));
    }
    let b = &reading.briefing;
    let slug = &b.slug;
    let mut row = Vec::new();
    let first_of = |i: usize| reading.page(i).first().map_or(1, |p| p.paragraph);
    if page > 0 {
        let id = ids::encode(&ids::Action::Read {
            paragraph: first_of(page - 1),
            slug: slug.clone(),
        });
        row.push(Button::new(id, "◀", Style::Secondary));
    }
    if page + 1 < reading.pages.len() {
        let id = ids::encode(&ids::Action::Read {
            paragraph: first_of(page + 1),
            slug: slug.clone(),
        });
        row.push(Button::new(id, "▶", Style::Secondary));
    }
    row.retain(Button::fits);
    let menu = section_menu(reading, shown.first().map_or(1, |p| p.paragraph));
    Message {
        content: String::new(),
        embed: Some(Embed {
            title: Some(cut(&escape(&b.title), limits::EMBED_TITLE)),
            url: b.url.clone().filter(|u| is_web_url(u) && len(u) <= 500),
            description: cut(&parts.join("\n\n"), limits::EMBED_DESCRIPTION),
            fields: Vec::new(),
            footer: Some(cut(
                &format!(
                    "page {} of {} · {} · index {}",
                    page + 1,
                    reading.pages.len(),
                    defuse(slug),
                    defuse(index_version)
                ),
                limits::EMBED_FOOTER,
            )),
        }),
        rows: if row.is_empty() {
            Vec::new()
        } else {
            vec![row]
        },
        menu,
        ephemeral: false,
    }
}

/// The "jump to a section" menu: every section, or the 25 around the current one.
fn section_menu(reading: &Reading, current: u64) -> Option<Menu> {
    let sections = reading.sections();
    if sections.len() < 2 {
        return None;
    }
    let id = ids::encode(&ids::Action::ReadSection {
        slug: reading.briefing.slug.clone(),
    });
    if len(&id) > limits::CUSTOM_ID {
        return None;
    }
    let here = sections
        .iter()
        .rposition(|(_, first)| *first <= current)
        .unwrap_or(0);
    let start = here
        .saturating_sub(limits::MENU_OPTIONS / 2)
        .min(sections.len().saturating_sub(limits::MENU_OPTIONS));
    let options = sections
        .iter()
        .skip(start)
        .take(limits::MENU_OPTIONS)
        .map(|(name, first)| {
            let label = cut(&defuse(&format!("¶{first} · {name}")), limits::MENU_TEXT);
            (label, first.to_string())
        })
        .collect();
    Some(Menu {
        id,
        placeholder: "Jump to a section".into(),
        options,
    })
}

/// A quiz question for the channel: the sentence with its blank, four choices as buttons,
/// then "Next question" and "Scores".
pub fn quiz_message(quiz: &Quiz) -> Message {
    let check = quiz.check();
    let choices: Vec<Button> = quiz
        .choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let id = ids::encode(&ids::Action::Quiz {
                seed: quiz.seed,
                pick: i,
                check: check.clone(),
                briefing: quiz.briefing.clone(),
            });
            Button::new(id, format!("{}) {c}", letter(i)), Style::Primary)
        })
        .collect();
    let next = ids::encode(&ids::Action::QuizNext {
        seed: quiz.seed.wrapping_add(1),
        briefing: quiz.briefing.clone(),
    });
    let scores = ids::encode(&ids::Action::QuizScores);
    let mut rows = Vec::new();
    if choices.iter().all(Button::fits) {
        rows.push(choices);
    }
    rows.push(
        [
            Button::new(next, "Next question", Style::Secondary),
            Button::new(scores, "Scores", Style::Secondary),
        ]
        .into_iter()
        .filter(Button::fits)
        .collect(),
    );
    rows.retain(|r| !r.is_empty());
    let choice_lines: String = quiz
        .choices
        .iter()
        .enumerate()
        .map(|(i, c)| format!("**{})** {}\n", letter(i), cut(&escape(c), 200)))
        .collect();
    Message {
        content: String::new(),
        embed: Some(Embed {
            title: Some(format!("Quiz: which {} fills the blank?", quiz.kind.noun())),
            url: None,
            description: cut(
                &format!("> {}\n\n{choice_lines}", cut(&escape(&quiz.blanked), 3000)),
                limits::EMBED_DESCRIPTION,
            ),
            fields: Vec::new(),
            footer: Some(format!(
                "quiz {} · same quiz again: /quiz play seed:{} · from “{}”",
                quiz.seed,
                quiz.seed,
                cut(&defuse(&quiz.passage.briefing), 120)
            )),
        }),
        rows,
        menu: None,
        ephemeral: false,
    }
}

/// A member's answer, told to them alone: right or not, the sentence whole with the
/// answer in bold, its citation, and their score in the channel.
pub fn quiz_result_message(quiz: &Quiz, pick: usize, score: super::state::ScoreNote) -> Message {
    let right = pick == quiz.answer;
    let head = if right {
        format!("✅ **Right**: {}.", escape(quiz.right_choice()))
    } else {
        format!(
            "❌ Not quite: you chose {}; the answer is **{}**.",
            escape(quiz.choices.get(pick).map_or("?", String::as_str)),
            escape(quiz.right_choice())
        )
    };
    let s = &quiz.sentence;
    let local = Some(quiz.fact_in_sentence())
        .filter(|r| r.end <= s.len() && s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
    let sentence = match local {
        Some(r) => format!(
            "{}**{}**{}",
            escape(&s[..r.start]),
            escape(&s[r.clone()]),
            escape(&s[r.end..])
        ),
        None => escape(s),
    };
    let mut text = format!(
        "{head}\n> {}\n{}",
        cut(&sentence, 2500),
        citation(&quiz.passage)
    );
    text.push('\n');
    text.push_str(&score.line());
    // The whole paragraph, with the ones around it, is a press away.
    let context = Button::new(
        ids::encode(&ids::Action::Context {
            id: quiz.passage.id.clone(),
        }),
        format!("Paragraph ¶{}", quiz.passage.paragraph),
        Style::Secondary,
    );
    Message {
        content: String::new(),
        embed: Some(Embed {
            description: cut(&text, limits::EMBED_DESCRIPTION),
            ..Embed::default()
        }),
        rows: if context.fits() {
            vec![vec![context]]
        } else {
            Vec::new()
        },
        menu: None,
        ephemeral: true,
    }
}

/// A citation ready to paste (in a code block, so that it copies as plain text), and the
/// paragraph as a quote.
pub fn cite_message(p: &Passage) -> Message {
    let plain = crate::render::citation(p);
    let block = format!("“{}”\n— {} [{}]", p.text, plain, p.id).replace("```", "'''");
    let block = cut(&block, limits::CONTENT - 10);
    Message {
        content: format!("```\n{block}\n```"),
        embed: None,
        rows: Vec::new(),
        menu: None,
        ephemeral: false,
    }
}
