//! `GET /api/v1/ws`: task updates pushed over a WebSocket.
//!
//! The [`Hub`] lives with the task data (the monolith, or the micro task
//! service): handlers that change a task call [`Hub::publish`], which queues
//! one `task_update` for every connection subscribed to that task. Each
//! connection is one tokio task owning its socket; the hub only holds the
//! senders of their queues, so a slow client never blocks a request.

use crate::api::{AppState, AuthMode, Caller};
use crate::error::ApiError;
use crate::metrics::{Change, Metrics};
use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::response::Response;
use http::request::Parts;
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, watch};

/// Client messages are a few dozen bytes; anything near this is abuse.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Pushes a connection may have queued, unread, before it is closed as too
/// slow (1008): the alternative is memory growing without bound.
const MAX_QUEUED: usize = 1024;

/// How long a closing handshake may take before the socket is just dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// How long one message may take to reach the socket.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a socket whose input can no longer be read stays open after its
/// close frame was sent.
const LINGER: Duration = Duration::from_millis(500);

#[derive(Clone, Debug, Default)]
pub struct WsConfig {
    /// `--ws-close-after`
    pub close_after: Option<Duration>,
    /// `--ws-mute`
    pub mute: bool,
}

/// A count of live things (WebSocket sessions, proxied sockets) that
/// shutdown can wait on.
#[derive(Default)]
pub struct Live(watch::Sender<usize>);

pub struct LiveGuard(watch::Sender<usize>);

impl Live {
    pub fn enter(&self) -> LiveGuard {
        self.0.send_modify(|n| *n += 1);
        LiveGuard(self.0.clone())
    }

    /// Waits until nothing is live, at most `limit`.
    pub async fn wait_idle(&self, limit: Duration) {
        let mut rx = self.0.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|n| *n == 0)).await;
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

enum Push {
    Update {
        task: i64,
        text: Utf8Bytes,
        deleted: bool,
    },
    /// The queue reached [`MAX_QUEUED`]; sent once, then nothing more.
    Overflow,
}

struct Subscriber {
    queue: mpsc::UnboundedSender<Push>,
    queued: Arc<AtomicUsize>,
}

pub struct Hub {
    config: WsConfig,
    metrics: Arc<Metrics>,
    /// task id → connection id → its queue. Task ids are unique across users.
    subscribers: Mutex<HashMap<i64, HashMap<u64, Arc<Subscriber>>>>,
    next_connection: AtomicU64,
    closing: watch::Sender<bool>,
    pub live: Live,
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

impl Hub {
    pub fn new(config: WsConfig, metrics: Arc<Metrics>) -> Arc<Hub> {
        Arc::new(Hub {
            config,
            metrics,
            subscribers: Mutex::default(),
            next_connection: AtomicU64::new(1),
            closing: watch::Sender::new(false),
            live: Live::default(),
        })
    }

    fn subscribers(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<i64, HashMap<u64, Arc<Subscriber>>>> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a change and queues its push for every subscribed connection;
    /// `deleted` ends the task's subscriptions.
    pub fn publish(&self, task: i64, change: Change) {
        self.metrics.task_changed(change);
        let text: Utf8Bytes = json!({
            "type": "task_update",
            "taskId": task,
            "status": change.as_str(),
            "ts": now_nanos() as u64,
        })
        .to_string()
        .into();
        let mut subscribers = self.subscribers();
        let deleted = change == Change::Deleted;
        let targets: Vec<Arc<Subscriber>> = if deleted {
            subscribers
                .remove(&task)
                .map(|m| m.into_values().collect())
                .unwrap_or_default()
        } else {
            subscribers
                .get(&task)
                .map(|m| m.values().cloned().collect())
                .unwrap_or_default()
        };
        drop(subscribers);
        for sub in targets {
            let before = sub.queued.fetch_add(1, Ordering::Relaxed);
            let push = if before < MAX_QUEUED {
                Push::Update {
                    task,
                    text: text.clone(),
                    deleted,
                }
            } else if before == MAX_QUEUED {
                Push::Overflow
            } else {
                continue;
            };
            let _ = sub.queue.send(push);
        }
    }

    /// Tells every open WebSocket to close (1001); see [`Live::wait_idle`].
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    fn subscribe(&self, task: i64, connection: u64, sub: &Arc<Subscriber>) {
        self.subscribers()
            .entry(task)
            .or_default()
            .insert(connection, sub.clone());
    }

    fn unsubscribe(&self, tasks: impl IntoIterator<Item = i64>, connection: u64) {
        let mut subscribers = self.subscribers();
        for task in tasks {
            if let Some(m) = subscribers.get_mut(&task) {
                m.remove(&connection);
                if m.is_empty() {
                    subscribers.remove(&task);
                }
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientMessage {
    Subscribe {
        #[serde(rename = "taskId")]
        task_id: i64,
    },
    Unsubscribe {
        #[serde(rename = "taskId")]
        task_id: i64,
    },
    Ping,
}

/// The caller of a WebSocket upgrade: `?token=JWT` first (browsers cannot set
/// headers on a WebSocket), then whatever the REST routes accept.
pub struct WsCaller(pub i64);

/// The `token` query parameter, if any.
pub fn query_token(query: Option<&str>) -> Option<String> {
    crate::api::form_pairs(query.unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for WsCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let AuthMode::Local = state.auth {
            if let Some(token) = query_token(parts.uri.query()) {
                return state
                    .tokens
                    .verify_access(&token)
                    .map(WsCaller)
                    .ok_or_else(|| ApiError::unauthorized("Could not validate credentials"));
            }
        }
        Caller::from_request_parts(parts, state)
            .await
            .map(|Caller(id)| WsCaller(id))
    }
}

/// `GET /api/v1/ws`. The caller is checked before the upgrade, so a bad or
/// missing token is a plain 401.
pub async fn handler(
    State(state): State<AppState>,
    WsCaller(user): WsCaller,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let Some(hub) = state.hub.clone() else {
        return Err(ApiError::not_found("WebSocket endpoint"));
    };
    Ok(upgrade
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| session(socket, state, hub, user)))
}

struct Session {
    socket: WebSocket,
    state: AppState,
    hub: Arc<Hub>,
    user: i64,
    id: u64,
    me: Arc<Subscriber>,
    tasks: HashSet<i64>,
}

/// Why the server ends a session.
enum End {
    /// The client closed, or the connection broke: nothing more to say.
    Gone,
    /// The server closes with this code and reason.
    Close(u16, &'static str),
    /// The same after a read error, which ends the stream's reading side.
    Unreadable(u16, &'static str),
}

async fn session(socket: WebSocket, state: AppState, hub: Arc<Hub>, user: i64) {
    let _live = hub.live.enter();
    hub.metrics.ws_connections.fetch_add(1, Ordering::Relaxed);
    let (queue, mut pushes) = mpsc::unbounded_channel();
    let me = Arc::new(Subscriber {
        queue,
        queued: Arc::new(AtomicUsize::new(0)),
    });
    let mut s = Session {
        socket,
        id: hub.next_connection.fetch_add(1, Ordering::Relaxed),
        state,
        hub: hub.clone(),
        user,
        me,
        tasks: HashSet::new(),
    };
    let mut closing = hub.closing.subscribe();
    let close_after = async {
        match hub.config.close_after {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(close_after);
    let end = loop {
        if *closing.borrow_and_update() {
            break End::Close(close_code::AWAY, "server shutting down");
        }
        tokio::select! {
            received = s.socket.recv() => match received {
                Some(Ok(message)) => {
                    if let Err(end) = s.on_message(message).await {
                        break end;
                    }
                }
                // tungstenite reports an over-size frame (MAX_MESSAGE) or a
                // protocol violation without closing; tell the client why.
                Some(Err(e)) if e.to_string().contains("too long") => {
                    break End::Unreadable(close_code::SIZE, "message too big")
                }
                Some(Err(_)) => break End::Unreadable(close_code::PROTOCOL, "protocol error"),
                None => break End::Gone,
            },
            Some(push) = pushes.recv() => {
                if let Err(end) = s.on_push(push).await {
                    break end;
                }
            }
            _ = closing.changed() => {}
            () = &mut close_after => break End::Close(close_code::ERROR, "closing after --ws-close-after"),
        }
    };
    hub.unsubscribe(s.tasks.drain(), s.id);
    let (code, reason, readable) = match end {
        End::Gone => (0, "", false),
        End::Close(code, reason) => (code, reason, true),
        End::Unreadable(code, reason) => (code, reason, false),
    };
    if code != 0 {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if s.socket.send(Message::Close(Some(frame))).await.is_ok() {
            if readable {
                s.drain().await;
            } else {
                // Dropping a socket with unread input makes the kernel send a
                // reset, which can destroy the close frame before the client
                // reads it (always, through the micro gateway's relay). The
                // rest of the input cannot be read, so give the frame time.
                tokio::time::sleep(LINGER).await;
            }
        }
    }
    hub.metrics.ws_connections.fetch_sub(1, Ordering::Relaxed);
}

impl Session {
    async fn send(&mut self, value: serde_json::Value) -> Result<(), End> {
        self.send_text(value.to_string().into()).await
    }

    /// A client that stops reading fills the socket buffers and would hold
    /// this session (and shutdown's wait for it) forever.
    async fn send_text(&mut self, text: Utf8Bytes) -> Result<(), End> {
        match tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::Text(text))).await {
            Ok(Ok(())) => {
                self.hub.metrics.ws_sent.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            _ => Err(End::Gone),
        }
    }

    /// Reads until the peer's close (or the connection's end), which also
    /// flushes the close reply tungstenite queues for a client's close.
    async fn drain(&mut self) {
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(_)) = self.socket.recv().await {}
        })
        .await;
    }

    async fn on_message(&mut self, message: Message) -> Result<(), End> {
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                self.hub.metrics.ws_received.fetch_add(1, Ordering::Relaxed);
                if self.hub.config.mute {
                    return Ok(());
                }
                return self
                    .send(json!({"type": "error", "error": "binary frames are not supported; send JSON text"}))
                    .await;
            }
            Message::Close(_) => {
                self.hub
                    .metrics
                    .ws_client_closes
                    .fetch_add(1, Ordering::Relaxed);
                // tungstenite has queued the answering close frame; reading on sends it.
                self.drain().await;
                return Err(End::Gone);
            }
            // Pings are answered by tungstenite itself.
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
        };
        self.hub.metrics.ws_received.fetch_add(1, Ordering::Relaxed);
        if self.hub.config.mute {
            return Ok(());
        }
        let parsed: ClientMessage = match serde_json::from_str(text.as_str()) {
            Ok(parsed) => parsed,
            Err(e) => {
                return self
                    .send(json!({"type": "error", "error": format!("bad message: {e}")}))
                    .await
            }
        };
        match parsed {
            ClientMessage::Ping => self.send(json!({"type": "pong"})).await,
            ClientMessage::Subscribe { task_id } => {
                let owned = match self.state.store.task(self.user, task_id).await {
                    Ok(found) => found.is_some(),
                    Err(e) => {
                        eprintln!("tasktracker: WebSocket subscribe: {e:#}");
                        return self
                            .send(json!({"type": "error", "taskId": task_id, "error": "storage unavailable"}))
                            .await;
                    }
                };
                if !owned {
                    return self
                        .send(json!({"type": "error", "taskId": task_id, "error": "not found"}))
                        .await;
                }
                if self.tasks.insert(task_id) {
                    self.hub.subscribe(task_id, self.id, &self.me);
                }
                self.send(json!({"type": "subscribed", "taskId": task_id}))
                    .await
            }
            ClientMessage::Unsubscribe { task_id } => {
                if self.tasks.remove(&task_id) {
                    self.hub.unsubscribe([task_id], self.id);
                }
                self.send(json!({"type": "unsubscribed", "taskId": task_id}))
                    .await
            }
        }
    }

    async fn on_push(&mut self, push: Push) -> Result<(), End> {
        self.me.queued.fetch_sub(1, Ordering::Relaxed);
        match push {
            Push::Overflow => Err(End::Close(close_code::POLICY, "too slow: pushes unread")),
            Push::Update {
                task,
                text,
                deleted,
            } => {
                // A push queued just before an unsubscribe is not sent after
                // its `unsubscribed`.
                let subscribed = if deleted {
                    self.tasks.remove(&task)
                } else {
                    self.tasks.contains(&task)
                };
                if !subscribed {
                    return Ok(());
                }
                self.send_text(text).await
            }
        }
    }
}
