//! Gateway events: questions by mention, in DMs and in the bot's threads; button
//! presses; guilds the bot must leave, and the servers it is in (for their libraries).

use poise::serenity_prelude as serenity;

use super::bot::{Ask, Bot, QuizPress};
use super::send;
use super::{Data, Error, rules};
use crate::render::discord::{self as render, ids, notice};

/// Dispatches the events poise does not handle itself.
pub async fn handle(
    ctx: &serenity::Context,
    event: &serenity::FullEvent,
    data: &Data,
) -> Result<(), Error> {
    match event {
        serenity::FullEvent::GuildCreate { guild, .. } if !guild_allowed(data, Some(guild.id)) => {
            tracing::info!(
                guild = guild.id.get(),
                "leaving a guild not in discord.allowed_guilds"
            );
            guild.id.leave(&ctx.http).await?;
        }
        serenity::FullEvent::GuildCreate { guild, .. } => data.server_seen(guild.id.get()).await,
        // Unavailable is an outage; otherwise the bot was removed from the server.
        serenity::FullEvent::GuildDelete { incomplete, .. } if !incomplete.unavailable => {
            data.server_left(incomplete.id.get()).await;
        }
        serenity::FullEvent::Message { new_message } => on_message(ctx, new_message, data).await?,
        serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Component(press),
        } => on_button(ctx, press, data).await?,
        serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Modal(submit),
        } => on_modal(ctx, submit, data).await?,
        _ => {}
    }
    Ok(())
}

/// Whether `member` (as an interaction gives it) moderates `guild`: Manage Server, or a
/// moderator role ([`Bot::is_moderator`]).
pub async fn moderates(data: &Bot, guild: u64, member: Option<&serenity::Member>) -> bool {
    let Some(m) = member else {
        return false;
    };
    let manage = m.permissions.is_some_and(|p| p.manage_guild());
    let roles: Vec<u64> = m.roles.iter().map(|r| r.get()).collect();
    data.is_moderator(guild, manage, &roles).await
}

/// Whether the bot serves this guild (DMs are always served).
pub fn guild_allowed(data: &Bot, guild: Option<serenity::GuildId>) -> bool {
    let allowed = &data.settings.discord.allowed_guilds;
    match guild {
        None => true,
        Some(g) => allowed.is_empty() || allowed.contains(&g.get()),
    }
}

async fn on_message(
    ctx: &serenity::Context,
    msg: &serenity::Message,
    data: &Data,
) -> Result<(), Error> {
    let me = ctx.cache.current_user().id;
    if msg.author.bot || msg.author.id == me || !guild_allowed(data, msg.guild_id) {
        return Ok(());
    }
    let question = if msg.guild_id.is_none() {
        // In a DM every message is a question.
        msg.content.trim().to_string()
    } else if msg.mentions_user_id(me) {
        rules::strip_mention(&msg.content, me.get())
    } else if let Some(first) = thread_question(ctx, msg.channel_id, data, me).await {
        rules::with_thread_context(&first, msg.content.trim())
    } else {
        return Ok(());
    };
    if question.is_empty() {
        return Ok(());
    }
    let over = data
        .over_limit_in(
            msg.author.id.get(),
            msg.guild_id.map(|g| g.get()),
            rules::Use::Question,
        )
        .await;
    let reply = if let Some(refusal) = over {
        refusal
    } else {
        let _typing = msg.channel_id.start_typing(&ctx.http);
        data.ask(Ask {
            question,
            offset: 0,
            briefing: None,
            ephemeral: false,
            can_discuss: msg.guild_id.is_some() && !is_thread(ctx, msg.channel_id).await,
            asker: msg.author.id.get(),
            guild: msg.guild_id.map(|g| g.get()),
            counted: true,
            anyway: false,
        })
        .await
    };
    let builder = send::channel_message(&reply).reference_message(msg);
    msg.channel_id.send_message(&ctx.http, builder).await?;
    Ok(())
}

async fn is_thread(ctx: &serenity::Context, channel: serenity::ChannelId) -> bool {
    match channel.to_channel(ctx).await {
        Ok(serenity::Channel::Guild(c)) => c.thread_metadata.is_some(),
        _ => false,
    }
}

/// The first question of a thread the bot opened on one of its answers: remembered, or
/// read back from the thread's starter message (which has the thread's id).
async fn thread_question(
    ctx: &serenity::Context,
    channel: serenity::ChannelId,
    data: &Data,
    me: serenity::UserId,
) -> Option<String> {
    if let Some(q) = data.thread_question(channel.get()) {
        return Some(q);
    }
    let serenity::Channel::Guild(thread) = channel.to_channel(ctx).await.ok()? else {
        return None;
    };
    thread.thread_metadata?;
    if thread.owner_id != Some(me) {
        return None;
    }
    let parent = thread.parent_id?;
    let starter = parent
        .message(ctx, serenity::MessageId::new(channel.get()))
        .await
        .ok()?;
    if starter.author.id != me {
        return None;
    }
    let q = render::question_of(&starter.content)?;
    data.remember_thread(channel.get(), &q);
    Some(q)
}

async fn respond(
    ctx: &serenity::Context,
    press: &serenity::ComponentInteraction,
    message: &render::Message,
) -> Result<(), Error> {
    let response = serenity::CreateInteractionResponse::Message(send::interaction_message(message));
    press.create_response(&ctx.http, response).await?;
    Ok(())
}

/// Replaces the message the button sits on (turning a page everyone sees).
async fn update(
    ctx: &serenity::Context,
    press: &serenity::ComponentInteraction,
    message: &render::Message,
) -> Result<(), Error> {
    if message.ephemeral {
        // A refusal goes to the presser alone; the shared message stays.
        return respond(ctx, press, message).await;
    }
    let update =
        serenity::CreateInteractionResponse::UpdateMessage(send::interaction_message(message));
    press.create_response(&ctx.http, update).await?;
    Ok(())
}

async fn on_button(
    ctx: &serenity::Context,
    press: &serenity::ComponentInteraction,
    data: &Data,
) -> Result<(), Error> {
    if !guild_allowed(data, press.guild_id) {
        return Ok(());
    }
    let Some(action) = ids::decode(&press.data.custom_id) else {
        return respond(
            ctx,
            press,
            &notice("This button belongs to an older briefbot; ask again."),
        )
        .await;
    };
    let guild = press.guild_id.map(|g| g.get());
    let on_private = press
        .message
        .flags
        .is_some_and(|f| f.contains(serenity::MessageFlags::EPHEMERAL));
    let question = render::question_of(&press.message.content);
    let needs_question = matches!(
        action,
        ids::Action::More { .. }
            | ids::Action::Share { .. }
            | ids::Action::Anyway { .. }
            | ids::Action::Discuss
    );
    let Some(question) = question.or_else(|| (!needs_question).then(String::new)) else {
        let text = "I cannot find the question of this answer; please ask again.";
        return respond(ctx, press, &notice(text)).await;
    };
    // Every press does work or writes: More and Share search a question again, the rest
    // count as actions.
    let kind = match action {
        ids::Action::More { .. } | ids::Action::Share { .. } | ids::Action::Anyway { .. } => {
            rules::Use::Question
        }
        _ => rules::Use::Action,
    };
    if let Some(refusal) = data
        .over_limit_in(press.user.id.get(), press.guild_id.map(|g| g.get()), kind)
        .await
    {
        return respond(ctx, press, &refusal).await;
    }
    // The closest paragraphs of a refused question, and their More, are shown anyway.
    let anyway = matches!(action, ids::Action::Anyway { .. });
    match action {
        ids::Action::More { offset, briefing } | ids::Action::Anyway { offset, briefing } => {
            let message = data
                .ask(Ask {
                    question,
                    offset,
                    briefing,
                    ephemeral: on_private,
                    can_discuss: false,
                    asker: press.user.id.get(),
                    guild: press.guild_id.map(|g| g.get()),
                    counted: false,
                    anyway,
                })
                .await;
            respond(ctx, press, &message).await
        }
        ids::Action::Full { id } => {
            respond(ctx, press, &data.passage(guild, &id, false, true).await).await
        }
        ids::Action::Context { id } => {
            respond(ctx, press, &data.passage(guild, &id, true, true).await).await
        }
        ids::Action::Vote { up, id } => {
            let voted = data
                .vote(super::unanswered::VotePress {
                    question,
                    passage: id,
                    up,
                    interaction: press.id.get(),
                    guild: press.guild_id.map(|g| g.get()),
                    member: press.user.id.get(),
                })
                .await;
            if voted.ask_reason {
                let modal = reason_modal(press.id.get());
                press
                    .create_response(&ctx.http, serenity::CreateInteractionResponse::Modal(modal))
                    .await?;
                return Ok(());
            }
            respond(ctx, press, &voted.reply).await
        }
        ids::Action::Share { briefing } => {
            let message = data
                .ask(Ask {
                    question,
                    offset: 0,
                    briefing,
                    ephemeral: false,
                    can_discuss: press.guild_id.is_some(),
                    asker: press.user.id.get(),
                    guild: press.guild_id.map(|g| g.get()),
                    counted: false,
                    anyway: false,
                })
                .await;
            respond(ctx, press, &message).await
        }
        ids::Action::Delete { asker } => {
            if press.user.id.get() != asker {
                return respond(
                    ctx,
                    press,
                    &notice("Only the person who asked can delete this answer."),
                )
                .await;
            }
            press
                .create_response(&ctx.http, serenity::CreateInteractionResponse::Acknowledge)
                .await?;
            press.message.delete(&ctx.http).await?;
            Ok(())
        }
        ids::Action::Discuss => {
            let name = render::cut(&question, 90);
            let thread = press
                .channel_id
                .create_thread_from_message(
                    &ctx.http,
                    press.message.id,
                    serenity::CreateThread::new(name)
                        .auto_archive_duration(serenity::AutoArchiveDuration::OneDay),
                )
                .await?;
            data.remember_thread(thread.id.get(), &question);
            let text = format!(
                "Thread opened: <#{}>. Ask follow-up questions there, no mention needed.",
                thread.id.get()
            );
            respond(ctx, press, &notice(&text)).await
        }
        ids::Action::Sources { page } => update(ctx, press, &data.sources(guild, page).await).await,
        ids::Action::Read { paragraph, slug } => {
            let message = data.read(guild, &slug, None, Some(paragraph)).await;
            update(ctx, press, &message).await
        }
        ids::Action::ReadSection { slug } => {
            let chosen = match &press.data.kind {
                serenity::ComponentInteractionDataKind::StringSelect { values } => {
                    values.first().and_then(|v| v.parse::<u64>().ok())
                }
                _ => None,
            };
            let message = data.read(guild, &slug, None, chosen).await;
            update(ctx, press, &message).await
        }
        ids::Action::Quiz {
            seed,
            pick,
            check,
            briefing,
        } => {
            let who = QuizPress {
                guild: press.guild_id.map(|g| g.get()),
                channel: press.channel_id.get(),
                message: press.message.id.get(),
                user: press.user.id.get(),
            };
            let message = data.answer_quiz(who, seed, pick, &check, briefing).await;
            respond(ctx, press, &message).await
        }
        ids::Action::QuizNext { seed, briefing } => {
            respond(
                ctx,
                press,
                &data.quiz(guild, briefing.as_deref(), seed).await,
            )
            .await
        }
        ids::Action::Gaps {
            page,
            days,
            briefing,
        } => {
            let Some(guild) = press.guild_id.map(|g| g.get()) else {
                return Ok(());
            };
            if !moderates(data, guild, press.member.as_ref()).await {
                return respond(ctx, press, &notice("Only moderators can read this report.")).await;
            }
            let message = data.gaps(guild, days, briefing.as_deref(), page).await;
            update(ctx, press, &message).await
        }
        ids::Action::QuizScores => {
            let board = data
                .leaderboard(
                    press.guild_id.map(|g| g.get()),
                    press.channel_id.get(),
                    crate::state::quiz::Period::Term,
                    false,
                )
                .await;
            respond(ctx, press, &board).await
        }
    }
}

/// The custom id of the 👎 reason modal: it names the vote press it belongs to.
const WHY: &str = "bb1why:";

/// The optional "what was wrong?" of a 👎: a kind and a few words.
fn reason_modal(vote: u64) -> serenity::CreateModal {
    let kind = serenity::CreateInputText::new(
        serenity::InputTextStyle::Short,
        "What was wrong? (optional)",
        "kind",
    )
    .placeholder("wrong paragraph / not covered / outdated / other")
    .required(false)
    .max_length(20);
    let text = serenity::CreateInputText::new(
        serenity::InputTextStyle::Paragraph,
        "Tell us more (optional)",
        "text",
    )
    .required(false)
    .max_length(200);
    serenity::CreateModal::new(format!("{WHY}{vote}"), "Your 👎 is recorded").components(vec![
        serenity::CreateActionRow::InputText(kind),
        serenity::CreateActionRow::InputText(text),
    ])
}

/// The 👎 reason modal, submitted.
async fn on_modal(
    ctx: &serenity::Context,
    submit: &serenity::ModalInteraction,
    data: &Data,
) -> Result<(), Error> {
    let Some(vote) = submit
        .data
        .custom_id
        .strip_prefix(WHY)
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return Ok(());
    };
    let field = |name: &str| {
        submit
            .data
            .components
            .iter()
            .flat_map(|row| &row.components)
            .find_map(|c| match c {
                serenity::ActionRowComponent::InputText(t) if t.custom_id == name => {
                    t.value.clone()
                }
                _ => None,
            })
            .unwrap_or_default()
    };
    let reply = data.vote_reason(vote, &field("kind"), &field("text")).await;
    let response = serenity::CreateInteractionResponse::Message(send::interaction_message(&reply));
    submit.create_response(&ctx.http, response).await?;
    Ok(())
}
