//! The Discord bot (`briefbot serve`): serenity with poise for the commands.
//!
//! This layer only turns Discord's events into calls to [`bot::Bot`] and the rendered
//! messages back into Discord's builders; what is said, and within which limits, is
//! decided in [`crate::render::discord`], and answers come from the same answering path as
//! the CLI. Nothing outside this module imports serenity or poise.

pub mod bot;
mod commands;
pub mod content;
pub mod download;
mod events;
pub mod records;
pub mod rules;
mod send;
pub mod unanswered;

use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use poise::serenity_prelude as serenity;

use crate::config::{Secret, Settings, Shards};
use bot::Bot;

/// The bot's state as poise hands it to commands.
pub type Data = Arc<Bot>;
pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Context<'a> = poise::Context<'a, Data, Error>;

/// Checks that a token is present and well-formed, before anything connects.
pub fn check_token(token: Option<&Secret>) -> anyhow::Result<Secret> {
    let token = token.ok_or_else(|| {
        anyhow!(
            "no Discord token: set DISCORD_TOKEN, or discord.token in config.local.toml \
             (see the README for creating a bot application)"
        )
    })?;
    serenity::utils::token::validate(token.expose()).map_err(|_| {
        anyhow!(
            "the Discord token is malformed: a bot token has three parts separated by dots; \
             copy it again from the developer portal (Bot → Reset Token)"
        )
    })?;
    Ok(token.clone())
}

/// Runs the bot until SIGINT or SIGTERM.
pub fn serve(settings: Settings) -> anyhow::Result<()> {
    let token = check_token(settings.discord.token.as_ref())?;
    let bot = Arc::new(Bot::new(settings).context("opening the index")?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(bot, token))
}

async fn run(bot: Arc<Bot>, token: Secret) -> anyhow::Result<()> {
    let settings = bot.settings.clone();
    // The state database is opened (migrated, old files read in) before connecting. One
    // that cannot be reached is tried again on first use: answers never wait for it. One
    // whose schema is newer than this binary stops the start, with the reason.
    match bot.state.get().await {
        Ok(_) => {}
        Err(err) if err.is_transient() => {
            tracing::warn!(error = %crate::error_chain(&err), "starting without the state database: questions are answered; scores, votes and settings are unavailable until it can be reached");
        }
        Err(err) => return Err(anyhow!("{err}")),
    }
    let options = poise::FrameworkOptions {
        commands: commands::all(),
        allowed_mentions: Some(send::no_mentions()),
        // Mentions are questions (see events.rs), not a command prefix.
        prefix_options: poise::PrefixFrameworkOptions {
            mention_as_prefix: false,
            ..Default::default()
        },
        on_error: |error| Box::pin(on_error(error)),
        command_check: Some(|ctx| {
            Box::pin(async move { Ok(events::guild_allowed(ctx.data(), ctx.guild_id())) })
        }),
        event_handler: |framework, event| {
            Box::pin(events::handle(
                framework.serenity_context,
                event,
                framework.user_data,
            ))
        },
        ..Default::default()
    };
    let guild_ids = settings.discord.guild_ids.clone();
    let data = bot.clone();
    let framework = poise::Framework::builder()
        .options(options)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
                let commands = &framework.options().commands;
                if guild_ids.is_empty() {
                    poise::builtins::register_globally(ctx, commands).await?;
                } else {
                    for id in &guild_ids {
                        poise::builtins::register_in_guild(ctx, commands, serenity::GuildId::new(*id))
                            .await?;
                    }
                }
                Ok(data)
            })
        })
        .build();

    let mut http = serenity::HttpBuilder::new(token.expose());
    if let Some(proxy) = &settings.discord.http_proxy {
        // serenity honours the proxy only with its own rate limiter off; the proxy keeps
        // the limits for every process behind it.
        http = http.proxy(proxy.as_str()).ratelimiter_disabled(true);
    }
    let intents = serenity::GatewayIntents::GUILDS
        | serenity::GatewayIntents::GUILD_MESSAGES
        | serenity::GatewayIntents::DIRECT_MESSAGES
        | serenity::GatewayIntents::MESSAGE_CONTENT;
    let mut client = serenity::ClientBuilder::new_with_http(http.build(), intents)
        .framework(framework)
        .await
        .context("creating the Discord client")?;

    tokio::spawn(bot.clone().keep_following_index());
    tokio::spawn(bot.clone().keep_pruning_limits());
    tokio::spawn(bot.clone().keep_pruning_gaps());
    if settings.content.watch {
        if bot.is_writer() {
            watch_content(bot.clone())?;
        } else {
            tracing::warn!(
                "content.watch is ignored: this bot is an index reader; the writer watches"
            );
        }
    }
    let shards = client.shard_manager.clone();
    tracing::info!(shards = %describe_shards(settings.shards), "connecting to Discord");
    tokio::spawn(bot.clone().make_pending_vectors());
    let start = async {
        let (first, last, total) = match settings.shards {
            Shards::Auto => {
                let n = recommended_shards(&client.http).await?;
                (0, n - 1, n)
            }
            Shards::Range { total, first, last } => (first, last, total),
        };
        // serenity reads the end of this range as the last shard, inclusive.
        client
            .start_shard_range(first..last, total)
            .await
            .map_err(anyhow::Error::from)
    };
    // The signal wins even while the client is still connecting (or retrying to).
    tokio::select! {
        result = start => result.context("running the Discord client")?,
        () = shutdown_signal() => {
            tracing::info!("shutting down");
            shards.shutdown_all().await;
        }
    }
    bot.state.close().await;
    Ok(())
}

/// The shard count Discord recommends (`GET /gateway/bot`), asked again every few seconds
/// while Discord cannot be reached; a refused token ends it.
async fn recommended_shards(http: &serenity::Http) -> anyhow::Result<u32> {
    let mut wait = std::time::Duration::from_secs(1);
    loop {
        match http.get_bot_gateway().await {
            Ok(gateway) => return Ok(gateway.shards.max(1)),
            Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(e)))
                if e.status_code.as_u16() == 401 =>
            {
                return Err(anyhow!(
                    "Discord refused the token (401): reset it in the developer portal"
                ));
            }
            Err(err) => {
                tracing::warn!(error = %crate::error_chain(&err), retry_in = ?wait, "cannot ask Discord for the shard count");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(60));
            }
        }
    }
}

/// `shards 0–1 of 4`, or `shards: as many as Discord recommends`.
pub fn describe_shards(shards: Shards) -> String {
    match shards {
        Shards::Auto => "shards: as many as Discord recommends (discord.shards = \"auto\")".into(),
        Shards::Range { total, first, last } if first == last => {
            format!("shard {first} of {total} (0-based)")
        }
        Shards::Range { total, first, last } => {
            format!("shards {first}–{last} of {total} (0-based)")
        }
    }
}

/// `content.watch`: a thread that reindexes when files under `content.dir` change.
fn watch_content(bot: Arc<Bot>) -> anyhow::Result<()> {
    let dir = bot.settings.content.dir.clone();
    let delay = std::time::Duration::from_millis(bot.settings.content.watch_delay_ms);
    // Watching starts here, before the thread, so nothing saved from now on is missed.
    let watch = crate::watch::ContentWatch::start(&dir, delay)?;
    let handle = tokio::runtime::Handle::current();
    tracing::info!(dir = %dir.display(), "watching content for changes");
    std::thread::Builder::new()
        .name("content-watch".into())
        .spawn(move || {
            // A file saved between the bot's first build and the watch's start (which file
            // is not known: the log names the folder).
            handle.block_on(bot.reindex_watched(&[dir]));
            watch.run(|paths| {
                handle.block_on(bot.reindex_watched(&paths));
                std::ops::ControlFlow::Continue(())
            });
        })
        .context("starting the content watcher")?;
    Ok(())
}

/// Waits for SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// User errors get a short private reply; failures get "something went wrong" and a log
/// line with the command, user and guild.
async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            tracing::error!(
                command = %ctx.command().qualified_name,
                user = ctx.author().id.get(),
                guild = ctx.guild_id().map(|g| g.get()),
                error = %crate::error_chain(&*error),
                "command failed"
            );
            let reply = send::reply(&crate::render::discord::notice(
                "Something went wrong on my side; it has been logged. Please try again.",
            ));
            let _ = ctx.send(reply).await;
        }
        poise::FrameworkError::CommandCheckFailed { .. } => {}
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!(error = %crate::error_chain(&e), "error while handling an error");
            }
        }
    }
}
