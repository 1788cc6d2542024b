//! The real bot (`briefbot serve`) behind a fake Discord, for the end-to-end tests: starting
//! it, sending it commands, presses and messages, and reading what it answered.

use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use super::Workspace;
use super::fake_discord::{
    APP_ID, BOT_ID, CHANNEL_ID, FakeDiscord, GUILD_ID, Recorded, member, user,
};

/// The bot process; killed when the test ends, however it ends.
pub struct Bot {
    pub child: Child,
    pub ws: Workspace,
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.ws.path().join("bot.log")).unwrap_or_default();
            eprintln!("--- bot log ---\n{log}");
        }
    }
}

pub const ASKER: u64 = 4001;
pub const OTHER: u64 = 4002;
pub const MANAGE_GUILD: u64 = 1 << 5;

pub const TOKEN: &str = "fake.test.token";

pub async fn start(fake: &FakeDiscord, extra: &str) -> Bot {
    start_with(fake, extra, "warn,briefbot=debug").await
}

pub async fn start_with(fake: &FakeDiscord, extra: &str, log_filter: &str) -> Bot {
    start_in(fake, Workspace::with_bundled_briefing(), extra, log_filter).await
}

/// Starts `briefbot serve` in `ws`; `extra` is appended to the `[discord]` section (and may
/// open other sections).
pub async fn start_in(fake: &FakeDiscord, ws: Workspace, extra: &str, log_filter: &str) -> Bot {
    std::fs::write(
        ws.config(),
        format!(
            "[discord]\nguild_ids = [{GUILD_ID}]\nhttp_proxy = \"{}\"\n{extra}",
            fake.proxy_url()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(ws.path().join("bot.log")).unwrap();
    let child = super::briefbot()
        .current_dir(ws.path())
        .arg("--config")
        .arg(ws.config())
        .arg("serve")
        .env("DISCORD_TOKEN", TOKEN)
        .env("BRIEFBOT_LOG", log_filter)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let bot = Bot { child, ws };
    // Commands are registered once poise's setup has run: from then on events are handled.
    fake.wait_for(0, "command registration", |r| {
        r.method == "PUT" && r.path.ends_with("/commands")
    })
    .await;
    bot
}

pub fn command(fake: &FakeDiscord, name: &str, options: Value, member: Value) -> (u64, String) {
    command_with(fake, name, options, json!({}), member)
}

/// A slash command with `resolved` data (attachments).
pub fn command_with(
    fake: &FakeDiscord,
    name: &str,
    options: Value,
    resolved: Value,
    member: Value,
) -> (u64, String) {
    command_in(fake, GUILD_ID, name, options, resolved, member)
}

/// A slash command in server `guild`.
pub fn command_in(
    fake: &FakeDiscord,
    guild: u64,
    name: &str,
    options: Value,
    resolved: Value,
    member: Value,
) -> (u64, String) {
    let id = fake.next_id();
    let data = json!({"id": "6000", "name": name, "type": 1, "options": options,
                      "resolved": resolved});
    fake.dispatch(
        "INTERACTION_CREATE",
        interaction(2, id, guild, member, data),
    );
    let token = format!("tok{id}");
    (id, token)
}

pub fn press(fake: &FakeDiscord, custom_id: &str, content: &str, by: u64) -> u64 {
    press_with(
        fake,
        json!({"custom_id": custom_id, "component_type": 2}),
        content,
        by,
    )
}

/// A component interaction with `data` (a button, or a select menu's choice).
pub fn press_with(fake: &FakeDiscord, data: Value, content: &str, by: u64) -> u64 {
    let (id, message) = (fake.next_id(), fake.next_id());
    press_exactly(fake, data, content, member(by, 0, &[]), id, message);
    id
}

/// A button press with the given interaction and message ids: the same quiz message seen
/// by several processes, or ids unique across several fake Discords (as Discord's are).
pub fn press_as(
    fake: &FakeDiscord,
    custom_id: &str,
    content: &str,
    by: u64,
    id: u64,
    message: u64,
) {
    let data = json!({"custom_id": custom_id, "component_type": 2});
    press_exactly(fake, data, content, member(by, 0, &[]), id, message);
}

/// A button press by `who` (a member value, with its permissions and roles).
pub fn press_by(fake: &FakeDiscord, custom_id: &str, who: Value, id: u64) {
    let data = json!({"custom_id": custom_id, "component_type": 2});
    press_exactly(fake, data, "", who, id, id + 1);
}

/// What the bot answered to interaction `id` (with `token`): its immediate reply, or the
/// message that followed a deferral.
pub async fn answer_text(fake: &FakeDiscord, (id, token): (u64, String), what: &str) -> String {
    let prefix = format!("/interactions/{id}/");
    let r = fake
        .wait_for(0, what, |r| {
            (r.path.starts_with(&prefix) && r.body["type"] == 4) || is_answer_to(r, &token)
        })
        .await;
    shown(&r.body)
}

fn press_exactly(
    fake: &FakeDiscord,
    data: Value,
    content: &str,
    who: Value,
    id: u64,
    message_id: u64,
) {
    press_exactly_at(fake, Some(GUILD_ID), data, content, who, (id, message_id));
}

/// [`press_exactly`] in server `guild`, or in a DM (`None`).
fn press_exactly_at(
    fake: &FakeDiscord,
    guild: Option<u64>,
    data: Value,
    content: &str,
    who: Value,
    (id, message_id): (u64, u64),
) {
    let mut d = interaction_at(3, id, guild, who, data);
    d["message"] = json!({"id": message_id.to_string(), "channel_id": d["channel_id"],
        "author": user(BOT_ID, "briefbot"), "content": content,
        "timestamp": "2024-01-01T00:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": [], "pinned": false, "type": 0, "flags": 0,
        "components": []});
    fake.dispatch("INTERACTION_CREATE", d);
}

pub fn message(
    fake: &FakeDiscord,
    channel: u64,
    guild: bool,
    content: &str,
    mentions_bot: bool,
) -> u64 {
    let id = fake.next_id();
    let mut d = json!({"id": id.to_string(), "channel_id": channel.to_string(),
        "author": user(ASKER, "asker"), "content": content,
        "timestamp": "2024-01-01T00:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false,
        "mentions": if mentions_bot { json!([user(BOT_ID, "briefbot")]) } else { json!([]) },
        "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0,
        "flags": 0, "components": []});
    if guild {
        d["guild_id"] = json!(GUILD_ID.to_string());
        d["member"] = json!({"roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
                             "deaf": false, "mute": false, "flags": 0});
    }
    fake.dispatch("MESSAGE_CREATE", d);
    id
}

/// The first response to interaction `id`.
pub async fn reply_to(fake: &FakeDiscord, id: u64, what: &str) -> Recorded {
    let prefix = format!("/interactions/{id}/");
    fake.wait_for(0, what, |r| r.path.starts_with(&prefix))
        .await
}

/// `/reindex` by a member with Manage Server; returns the interaction token.
pub fn moderator_reindex(fake: &FakeDiscord) -> String {
    command(fake, "reindex", json!([]), member(ASKER, MANAGE_GUILD, &[])).1
}

/// All the text a request body shows: content and embed descriptions.
pub fn shown(body: &Value) -> String {
    let data = if body["data"].is_object() {
        &body["data"]
    } else {
        body
    };
    let mut s = data["content"].as_str().unwrap_or("").to_string();
    for e in data["embeds"].as_array().into_iter().flatten() {
        for text in [&e["description"], &e["footer"]["text"]] {
            s.push('\n');
            s.push_str(text.as_str().unwrap_or(""));
        }
    }
    s
}

pub fn is_answer_to(r: &Recorded, token: &str) -> bool {
    r.path.contains(&format!("/webhooks/{APP_ID}/{token}"))
}

/// Every message the bot sent allows no mention at all.
pub fn assert_no_mentions_allowed(fake: &FakeDiscord) {
    for r in fake.requests() {
        let data = if r.body["data"].is_object() {
            &r.body["data"]
        } else {
            &r.body
        };
        if data["content"].is_string() || data["embeds"].is_array() {
            let am = &data["allowed_mentions"];
            assert_eq!(am["parse"], json!([]), "{} {}: {am}", r.method, r.path);
            assert!(am["users"].as_array().is_none_or(Vec::is_empty));
            assert!(am["roles"].as_array().is_none_or(Vec::is_empty));
            assert_ne!(am["replied_user"], json!(true));
        }
    }
}

/// Sends SIGTERM and waits (at most 15 s) for the process to end.
pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..150 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the bot did not stop within 15 s of SIGTERM");
}

/// `/ask` by a member; waits for the answer and returns what it shows.
pub async fn ask_slash(fake: &FakeDiscord, question: &str) -> String {
    let (_, token) = command(
        fake,
        "ask",
        json!([{"name": "question", "type": 3, "value": question}]),
        member(OTHER, 0, &[]),
    );
    let r = fake
        .wait_for(0, "the answer", |r| is_answer_to(r, &token))
        .await;
    shown(&r.body)
}

/// The text of `/stats` from the bot behind `fake`.
pub async fn stats(fake: &FakeDiscord) -> String {
    let (id, _) = command(fake, "stats", json!([]), member(OTHER, 0, &[]));
    shown(&reply_to(fake, id, "the /stats reply").await.body)
}

/// The custom ids of the buttons and menus of a recorded message.
pub fn component_ids(body: &Value) -> Vec<String> {
    let data = if body["data"].is_object() {
        &body["data"]
    } else {
        body
    };
    data["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().unwrap())
        .map(|c| c["custom_id"].as_str().unwrap().to_string())
        .collect()
}

pub const TIDES: &str =
    "# Tidal Power\n\nThe Severn barrage would make seven percent of British electricity.\n";

/// `/briefing add` with an attachment served by the fake Discord.
pub fn add_briefing(fake: &FakeDiscord, name: &str, bytes: &[u8], by: Value) -> String {
    let url = fake.host_file(name, bytes);
    let attachment = "7000";
    command_with(
        fake,
        "briefing",
        json!([{"name": "add", "type": 1, "options": [
            {"name": "file", "type": 11, "value": attachment}]}]),
        json!({"attachments": {attachment: {"id": attachment, "filename": name,
            "size": bytes.len(), "url": url, "proxy_url": url}}}),
        by,
    )
    .1
}

/// A modal submitted by `by`: `fields` are (text input id, value).
pub fn submit_modal(fake: &FakeDiscord, custom_id: &str, fields: &[(&str, &str)], by: u64) -> u64 {
    let id = fake.next_id();
    let rows: Vec<Value> = fields
        .iter()
        .map(|(name, value)| {
            json!({"type": 1, "components": [{"type": 4, "custom_id": name, "value": value}]})
        })
        .collect();
    let data = json!({"custom_id": custom_id, "components": rows});
    fake.dispatch(
        "INTERACTION_CREATE",
        interaction(5, id, GUILD_ID, member(by, 0, &[]), data),
    );
    id
}

/// A slash command in server `guild`, or in a DM (`None`) by the member's user, with its
/// `options`.
pub fn command_at(
    fake: &FakeDiscord,
    guild: Option<u64>,
    name: &str,
    options: Value,
    who: Value,
) -> (u64, String) {
    let id = fake.next_id();
    let data = json!({"id": "6000", "name": name, "type": 1, "options": options, "resolved": {}});
    fake.dispatch(
        "INTERACTION_CREATE",
        interaction_at(2, id, guild, who, data),
    );
    (id, format!("tok{id}"))
}

/// A button press in server `guild`, or in a DM (`None`), on a message showing nothing.
pub fn press_at(fake: &FakeDiscord, guild: Option<u64>, custom_id: &str, who: Value) -> u64 {
    let (id, message) = (fake.next_id(), fake.next_id());
    let data = json!({"custom_id": custom_id, "component_type": 2});
    press_exactly_at(fake, guild, data, "", who, (id, message));
    id
}

/// An autocomplete request of command `name` (a subcommand's path in `options`, the
/// option being typed marked `"focused": true`); the choices come back in the response.
pub fn autocomplete_at(
    fake: &FakeDiscord,
    guild: Option<u64>,
    name: &str,
    options: Value,
    who: Value,
) -> u64 {
    let id = fake.next_id();
    let data = json!({"id": "6000", "name": name, "type": 1, "options": options});
    fake.dispatch(
        "INTERACTION_CREATE",
        interaction_at(4, id, guild, who, data),
    );
    id
}

/// [`interaction`] in server `guild`, or in a DM with `who`'s user.
fn interaction_at(kind: u8, id: u64, guild: Option<u64>, who: Value, data: Value) -> Value {
    match guild {
        Some(g) => interaction(kind, id, g, who, data),
        None => {
            let mut d = interaction(kind, id, 0, who.clone(), data);
            let map = d.as_object_mut().expect("an object");
            map.remove("guild_id");
            map.remove("member");
            map.insert("user".into(), who["user"].clone());
            map.insert(
                "channel_id".into(),
                json!(super::fake_discord::DM_CHANNEL_ID.to_string()),
            );
            map.insert("context".into(), json!(1));
            d
        }
    }
}

/// An interaction of `kind` (2 command, 3 component, 5 modal) in server `guild`, by `who`.
fn interaction(kind: u8, id: u64, guild: u64, who: Value, data: Value) -> Value {
    json!({"id": id.to_string(), "application_id": APP_ID.to_string(), "type": kind,
           "token": format!("tok{id}"), "version": 1, "locale": "en-US", "guild_locale": "en-US",
           "entitlements": [], "attachment_size_limit": 8388608, "app_permissions": "0",
           "guild_id": guild.to_string(), "channel_id": CHANNEL_ID.to_string(),
           "member": who, "authorizing_integration_owners": {}, "context": 0, "data": data})
}
