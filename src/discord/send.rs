//! Turns a rendered [`Message`] into serenity's builders. Every builder gets empty
//! allowed mentions: nothing the bot sends can ping anyone.

use poise::serenity_prelude as serenity;

use crate::render::discord::{Message, Style};

/// Allowed mentions that allow nothing (no users, roles, @everyone, nor the replied user).
pub fn no_mentions() -> serenity::CreateAllowedMentions {
    serenity::CreateAllowedMentions::new()
        .empty_users()
        .empty_roles()
        .everyone(false)
        .replied_user(false)
}

fn embed(m: &Message) -> Option<serenity::CreateEmbed> {
    m.embed.as_ref().map(|e| {
        let mut b = serenity::CreateEmbed::new()
            .description(&e.description)
            .colour(0x2f6f9f);
        if let Some(t) = &e.title {
            b = b.title(t);
        }
        if let Some(u) = &e.url {
            b = b.url(u);
        }
        for (name, value) in &e.fields {
            b = b.field(name, value, false);
        }
        if let Some(f) = &e.footer {
            b = b.footer(serenity::CreateEmbedFooter::new(f));
        }
        b
    })
}

fn components(m: &Message) -> Vec<serenity::CreateActionRow> {
    let menu = m.menu.as_ref().map(|menu| {
        let options = menu
            .options
            .iter()
            .map(|(label, value)| serenity::CreateSelectMenuOption::new(label, value))
            .collect();
        serenity::CreateActionRow::SelectMenu(
            serenity::CreateSelectMenu::new(
                &menu.id,
                serenity::CreateSelectMenuKind::String { options },
            )
            .placeholder(&menu.placeholder),
        )
    });
    m.rows
        .iter()
        .map(|row| {
            serenity::CreateActionRow::Buttons(
                row.iter()
                    .map(|b| {
                        serenity::CreateButton::new(&b.id)
                            .label(&b.label)
                            .style(match b.style {
                                Style::Primary => serenity::ButtonStyle::Primary,
                                Style::Secondary => serenity::ButtonStyle::Secondary,
                                Style::Success => serenity::ButtonStyle::Success,
                                Style::Danger => serenity::ButtonStyle::Danger,
                            })
                    })
                    .collect(),
            )
        })
        .chain(menu)
        .collect()
}

/// Fills any of serenity's message builders from a rendered message.
macro_rules! fill {
    ($builder:expr, $m:expr) => {{
        let mut b = $builder
            .allowed_mentions(no_mentions())
            .components(components($m));
        if !$m.content.is_empty() {
            b = b.content(&$m.content);
        }
        if let Some(e) = embed($m) {
            b = b.embed(e);
        }
        b
    }};
}

/// As a reply to a slash command (poise).
pub fn reply(m: &Message) -> poise::CreateReply {
    fill!(poise::CreateReply::default().ephemeral(m.ephemeral), m)
}

/// As the response to a button press (a new message).
pub fn interaction_message(m: &Message) -> serenity::CreateInteractionResponseMessage {
    fill!(
        serenity::CreateInteractionResponseMessage::new().ephemeral(m.ephemeral),
        m
    )
}

/// As a channel message (answers to mentions, DMs and thread follow-ups).
pub fn channel_message(m: &Message) -> serenity::CreateMessage {
    fill!(serenity::CreateMessage::new(), m)
}
