//! The slash commands. Each is thin: check, call [`Bot`](super::bot::Bot), send.

use poise::serenity_prelude as serenity;

use super::bot::{Ask, ShardStatus};
use super::rules::{self, Use};
use super::send;
use super::{Context, Error};
use crate::library::{Library, Rights};
use crate::moderate::Actor;
use crate::render::discord::notice;
use crate::state::guilds::Change;
use crate::state::quiz::Period;

/// Every command, in one list.
pub fn all() -> Vec<poise::Command<super::Data, Error>> {
    vec![
        ask(),
        passage(),
        sources(),
        read(),
        quiz(),
        leaderboard(),
        cite(),
        help(),
        reindex(),
        briefing(),
        audit(),
        gaps(),
        privacy(),
        settings(),
        stats(),
    ]
}

/// An autocomplete answer from (label, value) pairs.
fn choices(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> serenity::CreateAutocompleteResponse {
    let choices = pairs
        .into_iter()
        .map(|(label, value)| serenity::AutocompleteChoice::new(label, value))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Values that are their own labels.
fn same_label(values: Vec<String>) -> impl Iterator<Item = (String, String)> {
    values.into_iter().map(|v| (v.clone(), v))
}

async fn complete_briefing(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    if autocomplete_limited(ctx) {
        return choices([]);
    }
    choices(ctx.data().briefing_choices(guild_of(ctx), partial).await)
}

async fn complete_passage(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    if autocomplete_limited(ctx) {
        return choices([]);
    }
    choices(same_label(
        ctx.data().passage_choices(guild_of(ctx), partial).await,
    ))
}

/// The server a command was used in (`None`: a DM): the scope of what it reads.
fn guild_of(ctx: Context<'_>) -> Option<u64> {
    ctx.guild_id().map(|g| g.get())
}

/// Records a use of `kind` by the author; refuses (with a short private reply) one over
/// their limit. True when refused.
async fn limited(ctx: Context<'_>, kind: Use) -> Result<bool, Error> {
    let guild = ctx.guild_id().map(|g| g.get());
    match ctx
        .data()
        .over_limit_in(ctx.author().id.get(), guild, kind)
        .await
    {
        Some(refusal) => {
            ctx.send(send::reply(&refusal)).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Whether an autocomplete request is over the author's limit (then it gets no choices).
fn autocomplete_limited(ctx: Context<'_>) -> bool {
    ctx.data()
        .over_limit(ctx.author().id.get(), Use::Autocomplete)
        .is_some()
}

/// Ask the briefings a question: the answer quotes their paragraphs, with sources.
#[poise::command(slash_command)]
pub async fn ask(
    ctx: Context<'_>,
    #[description = "Your question, in plain words"] question: String,
    #[description = "Only search this briefing"]
    #[autocomplete = "complete_briefing"]
    briefing: Option<String>,
    #[description = "Answer only to you"] private: Option<bool>,
) -> Result<(), Error> {
    if limited(ctx, Use::Question).await? {
        return Ok(());
    }
    let private = private.unwrap_or(false);
    if private {
        ctx.defer_ephemeral().await?;
    } else {
        ctx.defer().await?;
    }
    let message = ctx
        .data()
        .ask(Ask {
            question,
            offset: 0,
            briefing: briefing.filter(|b| !b.is_empty()),
            ephemeral: private,
            can_discuss: ctx.guild_id().is_some(),
            asker: ctx.author().id.get(),
            guild: ctx.guild_id().map(|g| g.get()),
            counted: true,
            anyway: false,
        })
        .await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Show one passage whole, with the paragraphs before and after it.
#[poise::command(slash_command)]
pub async fn passage(
    ctx: Context<'_>,
    #[description = "Passage id, such as us-japan-indo-pacific:5"]
    #[autocomplete = "complete_passage"]
    id: String,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let message = ctx.data().passage(guild_of(ctx), &id, true, false).await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// List the briefings the bot can quote.
#[poise::command(slash_command)]
pub async fn sources(ctx: Context<'_>) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let message = ctx.data().sources(guild_of(ctx), 0).await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// How to use briefbot.
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), Error> {
    let max = ctx.data().settings.discord.max_question_chars;
    let text = format!(
        "**briefbot** answers questions by quoting the briefings word for word, with their \
         sources. It never writes an answer of its own.\n\
         • `/ask question:…` — the best paragraphs for your question (at most {max} characters). \
         `briefing:` searches one briefing; `private:` answers only to you.\n\
         • Mention me with a question in a channel, or write to me in a DM.\n\
         • **More** shows the next quotes, **Full** a whole paragraph, **Context** the paragraphs \
         around it, 👍/👎 tell us whether a quote helped, **Discuss** opens a thread where \
         follow-up questions need no mention, **Share** posts a private answer, **Delete** \
         removes your own answer.\n\
         • `/passage id:…` — one paragraph with its neighbours; `/sources` — the briefings.\n\
         • Study groups: `/read briefing:… [section:…]` reads a briefing page by page (anyone \
         here can turn the pages); `/quiz play [briefing] [seed]` asks which fact fills a blank \
         (the same seed replays the same quiz); `/leaderboard [period] [server]` shows the \
         scores, `/quiz stats` your own; `/cite id:…` gives a citation ready to paste.\n\
         • Here you read the bot's shared briefings and this server's own library (in a DM, \
         the shared ones).\n\
         • Moderators: `/briefing add file:…` (.txt, .md, .html, .pdf) or `url:…` (a web page \
         or PDF) and `/briefing remove briefing:…` change this server's library; `/reindex [dry_run]` reads it again; `/audit` lists the \
         changes made here; `/gaps` shows what members asked that the briefings could not \
         answer; `/stats`. `/privacy questions:False` keeps your unanswered questions out of \
         that report. Admins: `/settings` (moderator role, default briefing, \
         question cooldown, term start, shared library)."
    );
    ctx.send(send::reply(&notice(&text))).await?;
    Ok(())
}

/// Moderators: read this server's library again and reindex it (questions keep being
/// answered).
// Hidden from members without Manage Server (Discord's default; a server may grant it to a
// moderator role); `rights` still checks every use.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn reindex(
    ctx: Context<'_>,
    #[description = "Only report what would change"] dry_run: Option<bool>,
    #[description = "The bot's operators: every library, the shared one with them"]
    every_library: Option<bool>,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let Some(rights) = rights(ctx, "reindex").await? else {
        return Ok(());
    };
    if ctx.data().is_writer() {
        // A reader's refusal is immediate; a rebuild takes a while.
        ctx.defer().await?;
    }
    let library = match (every_library.unwrap_or(false), guild_of(ctx)) {
        (false, Some(guild)) => Some(Library::Server(guild)),
        _ => None,
    };
    let message = ctx
        .data()
        .reindex(&actor(ctx), rights, library, dry_run.unwrap_or(false))
        .await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Whether the author moderates this server (or is one of the bot's operators), for the
/// moderators' reports; tells them when not.
async fn moderator(ctx: Context<'_>, what: &str) -> Result<bool, Error> {
    Ok(rights(ctx, what).await?.is_some())
}

/// What the author may change from here: this server's library when they moderate it
/// (Manage Server, a role in `discord.moderator_roles`, or the server's own moderator
/// role from `/settings`), every library when they are one of the bot's operators
/// (`discord.owners`); checked by the bot whatever Discord's command permissions say.
/// Tells them, and gives `None`, when they may change nothing.
async fn rights(ctx: Context<'_>, what: &str) -> Result<Option<Rights>, Error> {
    let member = match &ctx {
        poise::Context::Application(app) => app.interaction.member.as_deref(),
        poise::Context::Prefix(_) => None,
    };
    let moderates = match ctx.guild_id() {
        Some(guild) if super::events::moderates(ctx.data(), guild.get(), member).await => {
            Some(guild.get())
        }
        _ => None,
    };
    let rights = ctx.data().rights(ctx.author().id.get(), moderates);
    if rights.moderates.is_none() && !rights.operator {
        let text =
            format!("Only moderators (Manage Server, or this server's moderator role) can {what}.");
        ctx.send(send::reply(&notice(&text))).await?;
        return Ok(None);
    }
    Ok(Some(rights))
}

/// Whether the author is one of the server's admins (Manage Server): they alone change
/// `/settings`, the moderator role among them. Tells them when not.
async fn admin(ctx: Context<'_>) -> Result<bool, Error> {
    let allowed = match &ctx {
        poise::Context::Application(app) => app
            .interaction
            .member
            .as_ref()
            .is_some_and(|m| m.permissions.is_some_and(|p| p.manage_guild())),
        poise::Context::Prefix(_) => false,
    };
    if !allowed {
        let text = "Only the server's admins (Manage Server) can change its settings.";
        ctx.send(send::reply(&notice(text))).await?;
    }
    Ok(allowed)
}

/// Who is asking, for the audit file.
fn actor(ctx: Context<'_>) -> Actor {
    Actor {
        id: ctx.author().id.get(),
        name: ctx.author().name.clone(),
        guild: ctx.guild_id().map(|g| g.get()),
    }
}

async fn complete_section(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    if autocomplete_limited(ctx) {
        return choices([]);
    }
    // The briefing chosen so far, from the command's other option.
    let briefing = match &ctx {
        poise::Context::Application(app) => app
            .interaction
            .data
            .options
            .iter()
            .find(|o| o.name == "briefing")
            .and_then(|o| match &o.value {
                serenity::CommandDataOptionValue::Autocomplete { value, .. } => Some(value.clone()),
                serenity::CommandDataOptionValue::String(s) => Some(s.clone()),
                _ => None,
            }),
        poise::Context::Prefix(_) => None,
    };
    let sections = match briefing {
        Some(b) => ctx.data().section_choices(guild_of(ctx), &b, partial).await,
        None => Vec::new(),
    };
    choices(same_label(sections))
}

/// Read a briefing together, page by page (anyone here can turn the pages).
#[poise::command(slash_command)]
pub async fn read(
    ctx: Context<'_>,
    #[description = "The briefing (else the server's default briefing)"]
    #[autocomplete = "complete_briefing"]
    briefing: Option<String>,
    #[description = "Start at this section"]
    #[autocomplete = "complete_section"]
    section: Option<String>,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let section = section.filter(|s| !s.trim().is_empty());
    let guild = ctx.guild_id().map(|g| g.get());
    let briefing = match briefing.filter(|b| !b.trim().is_empty()) {
        Some(b) => Some(b),
        None => ctx.data().default_briefing(guild).await,
    };
    let Some(briefing) = briefing else {
        let text = "Which briefing? Name one with `briefing:` (`/sources` lists them); a \
                    server's admins can set a default with `/settings default_briefing`.";
        ctx.send(send::reply(&notice(text))).await?;
        return Ok(());
    };
    let message = ctx
        .data()
        .read(guild, &briefing, section.as_deref(), None)
        .await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Quizzes made from the briefings, and their scores.
#[poise::command(slash_command, subcommands("quiz_play", "quiz_stats"))]
pub async fn quiz(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// A quiz question made from the briefings: pick the fact that fills the blank.
#[poise::command(slash_command, rename = "play")]
pub async fn quiz_play(
    ctx: Context<'_>,
    #[description = "Only ask about this briefing (else the server's default briefing)"]
    #[autocomplete = "complete_briefing"]
    briefing: Option<String>,
    #[description = "Replay a quiz: the same seed gives the same question"] seed: Option<u64>,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let seed = seed.unwrap_or_else(crate::study::quiz::fresh_seed);
    let briefing = match briefing.filter(|b| !b.trim().is_empty()) {
        Some(b) => Some(b),
        None => {
            ctx.data()
                .default_briefing(ctx.guild_id().map(|g| g.get()))
                .await
        }
    };
    let message = ctx
        .data()
        .quiz(guild_of(ctx), briefing.as_deref(), seed)
        .await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Your own quiz answers here: this week, this term, all time, and the last ones.
#[poise::command(slash_command, rename = "stats")]
pub async fn quiz_stats(ctx: Context<'_>) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    ctx.defer_ephemeral().await?;
    let message = ctx
        .data()
        .quiz_stats(
            ctx.author().id.get(),
            ctx.guild_id().map(|g| g.get()),
            ctx.channel_id().get(),
        )
        .await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Which period a leaderboard covers.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum PeriodChoice {
    #[name = "week"]
    Week,
    #[name = "term"]
    Term,
    #[name = "all"]
    All,
}

/// The quiz leaderboard of this channel (or of the whole server).
#[poise::command(slash_command)]
pub async fn leaderboard(
    ctx: Context<'_>,
    #[description = "week, term (since the server's term start) or all (default: term)"]
    period: Option<PeriodChoice>,
    #[description = "The whole server, not only this channel"] server: Option<bool>,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    ctx.defer().await?;
    let period = match period.unwrap_or(PeriodChoice::Term) {
        PeriodChoice::Week => Period::Week,
        PeriodChoice::Term => Period::Term,
        PeriodChoice::All => Period::All,
    };
    let message = ctx
        .data()
        .leaderboard(
            ctx.guild_id().map(|g| g.get()),
            ctx.channel_id().get(),
            period,
            server.unwrap_or(false),
        )
        .await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Moderators: the last content changes made from this server.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn audit(ctx: Context<'_>) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    if !moderator(ctx, "read the audit trail").await? {
        return Ok(());
    }
    let Some(guild) = ctx.guild_id() else {
        return Ok(());
    };
    ctx.defer_ephemeral().await?;
    let message = ctx.data().audit_trail(guild.get()).await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// The period a `/gaps` report covers.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum GapsPeriod {
    #[name = "week"]
    Week,
    #[name = "month"]
    Month,
    #[name = "quarter"]
    Quarter,
}

/// Moderators: what members asked that the briefings could not answer, grouped by topic.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn gaps(
    ctx: Context<'_>,
    #[description = "The last week, month (default) or quarter"] period: Option<GapsPeriod>,
    #[description = "Only questions that came closest to this briefing"]
    #[autocomplete = "complete_briefing"]
    briefing: Option<String>,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    if !moderator(ctx, "read the unanswered questions").await? {
        return Ok(());
    }
    let Some(guild) = ctx.guild_id() else {
        return Ok(());
    };
    ctx.defer_ephemeral().await?;
    let days = match period.unwrap_or(GapsPeriod::Month) {
        GapsPeriod::Week => 7,
        GapsPeriod::Month => 30,
        GapsPeriod::Quarter => 90,
    };
    let briefing = briefing.filter(|b| !b.trim().is_empty());
    let message = ctx
        .data()
        .gaps(guild.get(), days, briefing.as_deref(), 0)
        .await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Whether your questions the briefings cannot answer are recorded (without your name).
#[poise::command(slash_command)]
pub async fn privacy(
    ctx: Context<'_>,
    #[description = "Record my unanswered questions for the moderators' report (default: on)"]
    questions: bool,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let message = ctx
        .data()
        .set_privacy(ctx.author().id.get(), questions)
        .await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Admins: this server's settings (without options: show them).
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
#[allow(clippy::too_many_arguments)]
pub async fn settings(
    ctx: Context<'_>,
    #[description = "Members with this role may moderate here (add, remove, reindex)"]
    moderator_role: Option<serenity::RoleId>,
    #[description = "Remove the moderator role (Manage Server only again)"]
    clear_moderator_role: Option<bool>,
    #[description = "The briefing /quiz play and /read use when none is named (none: clear)"]
    #[autocomplete = "complete_briefing"]
    default_briefing: Option<String>,
    #[description = "Questions a member may ask per cooldown period here (0: the bot's default)"]
    #[min = 0]
    #[max = 100]
    cooldown_questions: Option<u32>,
    #[description = "When this server's term began, YYYY-MM-DD, for /leaderboard term (none: clear)"]
    term_start: Option<String>,
    #[description = "Record members' unanswered questions (no names) for /gaps"]
    record_questions: Option<bool>,
    #[description = "Read the bot's shared library here, besides this server's own"]
    shared_library: Option<bool>,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    if !admin(ctx).await? {
        return Ok(());
    }
    let Some(guild) = ctx.guild_id().map(|g| g.get()) else {
        return Ok(());
    };
    let mut changes = Vec::new();
    if let Some(role) = moderator_role {
        changes.push(Change::ModeratorRole(Some(role.get())));
    } else if clear_moderator_role == Some(true) {
        changes.push(Change::ModeratorRole(None));
    }
    if let Some(b) = default_briefing {
        let b = b.trim();
        if b.is_empty() || b.eq_ignore_ascii_case("none") {
            changes.push(Change::DefaultBriefing(None));
        } else {
            match ctx.data().find_briefing(Some(guild), b).await {
                Some(info) => changes.push(Change::DefaultBriefing(Some(info.slug))),
                None => {
                    let text = format!(
                        "No briefing is called {:?}: `/sources` lists them. Nothing was changed.",
                        crate::render::discord::cut(b, 100)
                    );
                    ctx.send(send::reply(&notice(&text))).await?;
                    return Ok(());
                }
            }
        }
    }
    if let Some(on) = shared_library {
        changes.push(Change::SharedLibrary(on));
    }
    if let Some(n) = cooldown_questions {
        let n = n.min(rules::MAX_SERVER_QUESTIONS);
        changes.push(Change::CooldownQuestions((n > 0).then_some(n)));
    }
    if let Some(t) = term_start {
        match crate::study::parse_date(&t) {
            Ok(at) => changes.push(Change::TermStart(at)),
            Err(why) => {
                ctx.send(send::reply(&notice(&format!("{why} Nothing was changed."))))
                    .await?;
                return Ok(());
            }
        }
    }
    let data = ctx.data();
    if let Some(on) = record_questions
        && let Err(refusal) = data.set_server_recording(&actor(ctx), guild, on).await
    {
        ctx.send(send::reply(&refusal)).await?;
        return Ok(());
    }
    let message = if changes.is_empty() {
        data.show_settings(guild).await
    } else {
        data.change_settings(&actor(ctx), guild, changes).await
    };
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

async fn complete_cite(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    if autocomplete_limited(ctx) {
        return choices([]);
    }
    choices(ctx.data().cite_choices(guild_of(ctx), partial).await)
}

/// A citation ready to paste: title, section, ¶n, date, url and the paragraph's text.
#[poise::command(slash_command)]
pub async fn cite(
    ctx: Context<'_>,
    #[description = "Passage id (or type words to find one)"]
    #[autocomplete = "complete_cite"]
    id: String,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let message = ctx.data().cite(guild_of(ctx), &id).await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Moderators: add or remove a briefing.
// Permissions of a command with subcommands are set on the command itself.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    subcommands("briefing_add", "briefing_remove")
)]
pub async fn briefing(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Which library `/briefing add` adds to.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum LibraryChoice {
    #[name = "this server's"]
    ThisServer,
    #[name = "shared (the bot's operators only)"]
    Shared,
}

/// Add a briefing (a file, or a link to a web page or PDF): checked, saved, indexed.
#[poise::command(slash_command, guild_only, rename = "add")]
pub async fn briefing_add(
    ctx: Context<'_>,
    #[description = "The briefing file (.txt, .md, .html or .pdf)"] file: Option<
        serenity::Attachment,
    >,
    #[description = "Or a link (https) to a web page or a PDF"] url: Option<String>,
    #[description = "Which library (default: this server's)"] library: Option<LibraryChoice>,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let Some(rights) = rights(ctx, "add briefings").await? else {
        return Ok(());
    };
    let Some(guild) = guild_of(ctx) else {
        return Ok(());
    };
    let library = match library.unwrap_or(LibraryChoice::ThisServer) {
        LibraryChoice::ThisServer => Library::Server(guild),
        LibraryChoice::Shared => Library::Shared,
    };
    let data = ctx.data();
    let target = match (&file, &url) {
        (Some(file), None) => file.filename.clone(),
        (None, Some(url)) => url.trim().to_string(),
        _ => {
            let mut m = notice("Give either a file or a link (url:), one of the two.");
            m.ephemeral = true;
            ctx.send(send::reply(&m)).await?;
            return Ok(());
        }
    };
    if let Err(why) = crate::library::may_change(rights, library) {
        let outcome = format!("refused: {why}");
        data.audit(&actor(ctx), "briefing add", &target, &outcome)
            .await;
        let text = format!("Not added: {why}. Nothing was written.");
        ctx.send(send::reply(&notice(&text))).await?;
        return Ok(());
    }
    let Some(file) = file else {
        ctx.defer().await?;
        let message = data
            .add_briefing_by_link(actor(ctx), rights, library, &target)
            .await;
        ctx.send(send::reply(&message)).await?;
        return Ok(());
    };
    if let Some(refusal) = data.refuse_upload(library, &file.filename, u64::from(file.size)) {
        data.audit(
            &actor(ctx),
            "briefing add",
            &file.filename,
            &format!("refused: {}", refusal.content),
        )
        .await;
        ctx.send(send::reply(&refusal)).await?;
        return Ok(());
    }
    ctx.defer().await?;
    let cap = match library {
        Library::Shared => data.settings.content.max_upload_bytes,
        Library::Server(_) => data.settings.libraries.max_upload_bytes,
    };
    let timeout = std::time::Duration::from_secs(data.settings.discord.download_timeout_seconds);
    let message = match super::download::fetch_capped(&file.url, cap, timeout).await {
        Ok(bytes) => {
            data.add_briefing(actor(ctx), rights, library, &file.filename, bytes)
                .await
        }
        Err(err) => {
            tracing::warn!(error = %crate::error_chain(&err), file = %file.filename, "attachment not downloaded");
            let outcome = format!("refused: {err}");
            data.audit(&actor(ctx), "briefing add", &file.filename, &outcome)
                .await;
            notice(&format!("Not added: {err}. Nothing was written."))
        }
    };
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Remove a briefing: its file is moved to a holding folder (never deleted).
#[poise::command(slash_command, guild_only, rename = "remove")]
pub async fn briefing_remove(
    ctx: Context<'_>,
    #[description = "The briefing"]
    #[autocomplete = "complete_briefing"]
    briefing: String,
) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let Some(rights) = rights(ctx, "remove briefings").await? else {
        return Ok(());
    };
    ctx.defer().await?;
    let message = ctx
        .data()
        .remove_briefing(actor(ctx), rights, guild_of(ctx), briefing.trim())
        .await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}

/// Index version, briefings, questions answered, uptime.
#[poise::command(slash_command)]
pub async fn stats(ctx: Context<'_>) -> Result<(), Error> {
    if limited(ctx, Use::Action).await? {
        return Ok(());
    }
    let shards: Vec<ShardStatus> = {
        let manager = ctx.framework().shard_manager().clone();
        let runners = manager.runners.lock().await;
        let mut shards: Vec<ShardStatus> = runners
            .iter()
            .map(|(id, info)| ShardStatus {
                id: id.0,
                total: ctx.cache().shard_count(),
                stage: info.stage.to_string(),
                latency_ms: info.latency.map(|l| l.as_millis()),
            })
            .collect();
        shards.sort_by_key(|s| s.id);
        shards
    };
    let data = ctx.data();
    let operator = data.rights(ctx.author().id.get(), None).operator;
    let message = data.stats(guild_of(ctx), operator, &shards).await;
    ctx.send(send::reply(&message)).await?;
    Ok(())
}
