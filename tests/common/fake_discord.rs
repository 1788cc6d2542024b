//! A fake Discord on 127.0.0.1 for end-to-end tests: the REST API (every request recorded)
//! and a gateway websocket that identifies the bot and lets the test send dispatches.
//! Nothing leaves the machine; every wait has a timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

pub const APP_ID: u64 = 1000;
pub const BOT_ID: u64 = 1001;
pub const GUILD_ID: u64 = 2000;
pub const CHANNEL_ID: u64 = 3000;
pub const DM_CHANNEL_ID: u64 = 3001;

/// One REST request the bot made.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    requests: Mutex<Vec<Recorded>>,
    changed: Notify,
    gateway: Mutex<Option<mpsc::UnboundedSender<WsMessage>>>,
    seq: AtomicU64,
    ids: AtomicU64,
    identifies: AtomicU64,
    shards: Mutex<Vec<Value>>,
    resumes: AtomicU64,
    port: AtomicU64,
    files: Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

pub struct FakeDiscord {
    inner: Arc<Inner>,
    pub port: u16,
}

pub fn user(id: u64, name: &str) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0", "global_name": null,
           "avatar": null, "bot": id == BOT_ID})
}

pub fn member(id: u64, permissions: u64, roles: &[u64]) -> Value {
    json!({"user": user(id, "member"), "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
           "joined_at": "2024-01-01T00:00:00+00:00", "deaf": false, "mute": false, "flags": 0,
           "permissions": permissions.to_string()})
}

fn message_json(
    id: u64,
    channel: &str,
    author: Value,
    content: &str,
    embeds: Value,
    flags: u64,
) -> Value {
    json!({"id": id.to_string(), "channel_id": channel, "author": author, "content": content,
           "timestamp": "2024-01-01T00:00:00.000000+00:00", "edited_timestamp": null,
           "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
           "attachments": [], "embeds": embeds, "pinned": false, "type": 0, "flags": flags,
           "components": []})
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let inner = Arc::new(Inner {
            ids: AtomicU64::new(900_000),
            ..Inner::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        inner.port.store(u64::from(port), Ordering::SeqCst);
        let app = Router::new()
            .route("/gateway", get(gateway))
            .fallback(rest)
            .with_state(inner.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeDiscord { inner, port }
    }

    pub fn proxy_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn next_id(&self) -> u64 {
        self.inner.ids.fetch_add(1, Ordering::SeqCst)
    }

    pub fn identifies(&self) -> u64 {
        self.inner.identifies.load(Ordering::SeqCst)
    }

    /// The `shard` field of every IDENTIFY the bot sent (`[id, total]`).
    pub fn identified_shards(&self) -> Vec<Value> {
        self.inner.shards.lock().unwrap().clone()
    }

    pub fn resumes(&self) -> u64 {
        self.inner.resumes.load(Ordering::SeqCst)
    }

    /// Serves `bytes` as an attachment's file; returns its URL.
    pub fn host_file(&self, name: &str, bytes: &[u8]) -> String {
        self.inner
            .files
            .lock()
            .unwrap()
            .insert(name.to_string(), bytes.to_vec());
        format!("http://127.0.0.1:{}/files/{name}", self.port)
    }

    /// Sends a dispatch (`op 0`) to the connected bot.
    pub fn dispatch(&self, t: &str, d: Value) {
        let s = self.inner.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let frame = json!({"op": 0, "t": t, "s": s, "d": d}).to_string();
        let gateway = self.inner.gateway.lock().unwrap();
        gateway
            .as_ref()
            .expect("the bot is connected")
            .send(WsMessage::Text(frame.into()))
            .unwrap();
    }

    /// Closes the gateway connection, as a network failure would.
    pub fn drop_connection(&self) {
        if let Some(tx) = self.inner.gateway.lock().unwrap().take() {
            let _ = tx.send(WsMessage::Close(None));
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// Waits until a request matching `pred` has been made after the first `skip` ones.
    pub async fn wait_for(
        &self,
        skip: usize,
        what: &str,
        pred: impl Fn(&Recorded) -> bool,
    ) -> Recorded {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.inner.changed.notified();
            if let Some(r) = self.requests().into_iter().skip(skip).find(|r| pred(r)) {
                return r;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out waiting for {what}; requests: {:#?}",
                    self.requests()
                );
            }
        }
    }

    /// Waits until `check` holds (polled whenever something happens, or every 50 ms).
    pub async fn wait_until(&self, what: &str, check: impl Fn(&FakeDiscord) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !check(self) {
            let notified = self.inner.changed.notified();
            let tick = tokio::time::sleep(Duration::from_millis(50));
            tokio::select! {
                _ = notified => {}
                _ = tick => {}
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
        }
    }
}

async fn rest(State(inner): State<Arc<Inner>>, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri.path().trim_start_matches("/api/v10").to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = inner.ids.fetch_add(1, Ordering::SeqCst);
    let port = inner.port.load(Ordering::SeqCst);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let ("GET", ["files", name]) = (method.as_str(), parts.as_slice()) {
        let file = inner.files.lock().unwrap().get(*name).cloned();
        let name = name.to_string();
        record(&inner, &method, path.clone(), body);
        return match file {
            // Typed by extension, as a web server types what it serves (links are
            // fetched by type; attachments are not).
            Some(bytes) => {
                let kind = match name.rsplit('.').next() {
                    Some("html") => "text/html; charset=utf-8",
                    Some("pdf") => "application/pdf",
                    Some("md" | "txt") => "text/plain; charset=utf-8",
                    _ => "application/octet-stream",
                };
                (
                    StatusCode::OK,
                    [(axum::http::header::CONTENT_TYPE, kind)],
                    bytes,
                )
                    .into_response()
            }
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    let reply = match (method.as_str(), parts.as_slice()) {
        ("GET", ["gateway"]) => json!({"url": format!("ws://127.0.0.1:{port}/gateway")}),
        ("GET", ["gateway", "bot"]) => json!({"url": format!("ws://127.0.0.1:{port}/gateway"),
            "shards": 1, "session_start_limit": {"total": 1000, "remaining": 1000,
            "reset_after": 0, "max_concurrency": 1}}),
        ("GET", ["oauth2", "applications", "@me"]) => {
            json!({"id": APP_ID.to_string(), "name": "briefbot", "icon": null, "description": "",
                   "bot_public": true, "bot_require_code_grant": false, "verify_key": "00",
                   "flags": 0, "owner": user(1, "owner"), "team": null})
        }
        ("PUT", ["applications", _, "commands"] | ["applications", _, "guilds", _, "commands"]) => {
            json!([])
        }
        ("POST", ["interactions", _, _, "callback"]) => {
            record(&inner, &method, path, body);
            return StatusCode::NO_CONTENT.into_response();
        }
        ("POST", ["webhooks", _, _]) | ("PATCH", ["webhooks", _, _, "messages", _]) => {
            let content = body["content"].as_str().unwrap_or("").to_string();
            let flags = body["flags"].as_u64().unwrap_or(0);
            message_json(
                id,
                &CHANNEL_ID.to_string(),
                user(BOT_ID, "briefbot"),
                &content,
                json!([]),
                flags,
            )
        }
        ("POST", ["channels", channel, "messages"]) => {
            let content = body["content"].as_str().unwrap_or("").to_string();
            message_json(
                id,
                channel,
                user(BOT_ID, "briefbot"),
                &content,
                json!([]),
                0,
            )
        }
        ("POST", ["channels", _, "typing"]) | ("DELETE", ["channels", _, "messages", _]) => {
            record(&inner, &method, path, body);
            return StatusCode::NO_CONTENT.into_response();
        }
        ("GET", ["channels", channel]) => {
            let kind = if channel.parse::<u64>() == Ok(DM_CHANNEL_ID) {
                1
            } else {
                0
            };
            json!({"id": channel, "type": kind, "guild_id": GUILD_ID.to_string(), "name": "general",
                   "position": 0, "permission_overwrites": [], "nsfw": false})
        }
        ("POST", ["channels", channel, "messages", message, "threads"]) => {
            json!({"id": message, "type": 11, "guild_id": GUILD_ID.to_string(), "name": body["name"],
                   "parent_id": channel, "owner_id": BOT_ID.to_string(), "position": 0,
                   "permission_overwrites": [], "nsfw": false,
                   "thread_metadata": {"archived": false, "auto_archive_duration": 1440,
                                       "archive_timestamp": "2024-01-01T00:00:00+00:00", "locked": false}})
        }
        _ => {
            record(&inner, &method, path, body);
            return (
                StatusCode::NOT_FOUND,
                r#"{"message": "Unknown", "code": 0}"#,
            )
                .into_response();
        }
    };
    record(&inner, &method, path, body);
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        reply.to_string(),
    )
        .into_response()
}

fn record(inner: &Inner, method: &Method, path: String, body: Value) {
    inner.requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path,
        body,
    });
    inner.changed.notify_waiters();
}

async fn gateway(State(inner): State<Arc<Inner>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| session(inner, socket))
}

async fn session(inner: Arc<Inner>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<WsMessage>();
    *inner.gateway.lock().unwrap() = Some(tx.clone());
    let hello = json!({"op": 10, "d": {"heartbeat_interval": 2000}}).to_string();
    if socket.send(WsMessage::Text(hello.into())).await.is_err() {
        return;
    }
    let port = inner.port.load(Ordering::SeqCst);
    loop {
        tokio::select! {
            outgoing = rx.recv() => {
                let Some(frame) = outgoing else { return };
                let closing = matches!(frame, WsMessage::Close(_));
                if socket.send(frame).await.is_err() || closing {
                    return;
                }
            }
            incoming = socket.recv() => {
                let Some(Ok(WsMessage::Text(text))) = incoming else {
                    if matches!(incoming, Some(Ok(_))) { continue; }
                    return;
                };
                let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                let s = inner.seq.load(Ordering::SeqCst);
                let reply = match v["op"].as_u64() {
                    Some(1) => Some(json!({"op": 11})),
                    Some(2) => {
                        inner.identifies.fetch_add(1, Ordering::SeqCst);
                        let shard = v["d"]["shard"].clone();
                        inner.shards.lock().unwrap().push(shard.clone());
                        let s = inner.seq.fetch_add(1, Ordering::SeqCst) + 1;
                        Some(json!({"op": 0, "t": "READY", "s": s, "d": {
                            "v": 10, "user": user(BOT_ID, "briefbot"), "guilds": [],
                            "shard": shard,
                            "session_id": "session-1",
                            "resume_gateway_url": format!("ws://127.0.0.1:{port}/gateway"),
                            "application": {"id": APP_ID.to_string(), "flags": 0}}}))
                    }
                    Some(6) => {
                        inner.resumes.fetch_add(1, Ordering::SeqCst);
                        Some(json!({"op": 0, "t": "RESUMED", "s": s, "d": {}}))
                    }
                    _ => None,
                };
                inner.changed.notify_waiters();
                if let Some(reply) = reply
                    && socket.send(WsMessage::Text(reply.to_string().into())).await.is_err()
                {
                    return;
                }
            }
        }
    }
}
