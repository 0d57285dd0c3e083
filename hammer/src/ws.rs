//! WebSocket steps of flows: a VU's named connections, opened by
//! `ws_connect` and kept until `ws_close`, a drop or the run's end, so a
//! subscriber stays connected while the flow goes on with other steps and
//! across its iterations.
//!
//! What becomes an event (method `WS`, status 101 unless the upgrade was
//! refused):
//! - `ws_connect`: the handshake, TCP and TLS included (`connect_ns` is the
//!   TCP + TLS part);
//! - `ws_send`: the round trip to the matching `reply`, timed from the
//!   send's *schedule* when it repeats (`every`), so lateness shows as lag
//!   as in the open model; without `reply`, the time to write the frame;
//! - `ws_await`: how long the flow waited for the matching message;
//! - every other message received, by its JSON `type` (`WS feed recv
//!   task_update`), timed by the sender's stamp when `latency_from` names
//!   one (delivery time), else 0 (then its count and bytes are what it
//!   tells); a message a later `ws_await` matches is one of these too, but
//!   a `reply` is not: its send's event times it;
//! - a close the client did not ask for (a server's close frame, a reset):
//!   `WS feed closed`, error `reset`, the close code in the detail.
//!
//! Counting messages by event keeps one model for the whole pipeline:
//! aggregate's per-endpoint rate of a `recv` row is messages/s, and its
//! bytes are the messages' bytes.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use records::scenario::{WsAction, WsMatch, WsMessage, WsSettings};
use records::units::format_duration;
use records::ErrorKind;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use crate::conn::{Failure, Stream};
use crate::flow::Walk;
use crate::mix::PreparedWs;
use crate::progress::Stats;
use crate::signals::{self, Phase};
use crate::sink::{self, EventParts};
use crate::transport::Transport;
use crate::vu::{Clock, Plan, StepResult, Vu};

pub type WsStream = WebSocketStream<Stream>;

/// The largest message hammer accepts; a bigger one ends the connection.
pub const MAX_MESSAGE: usize = 16 << 20;

/// Received messages an `ws_await` can still match (oldest out).
const KEPT: usize = 256;

/// Distinct `type`s a connection names events by; others are `other`.
const NAMED_TYPES: usize = 64;

/// How long a close waits for the server's close frame.
pub const CLOSE_WAIT: Duration = Duration::from_secs(1);

const METHOD_JSON: &[u8] = b"\"WS\"";

/// Why a WebSocket could not be opened: the upgrade's status (0 when no
/// answer came) and the failure.
pub struct Refused {
    pub status: u16,
    pub failure: Failure,
}

/// A handshake's result: the connection and its TCP + TLS set-up time.
pub struct Opened {
    pub stream: WsStream,
    pub connect_ns: u64,
}

/// The frame and message limits hammer opens connections with.
pub fn config() -> WebSocketConfig {
    // tungstenite's defaults (128 KiB to read and 128 KiB to write, per
    // connection) would make 10,000 idle connections cost 2.5 GB; a larger
    // message still arrives, over more reads. Each send goes out at once.
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// Maps a WebSocket library error to an event's error kind.
pub fn failure(e: &tungstenite::Error) -> Failure {
    use tungstenite::Error as E;
    let kind = match e {
        E::ConnectionClosed | E::AlreadyClosed | E::Io(_) | E::Protocol(_) => ErrorKind::Reset,
        E::Tls(_) => ErrorKind::Tls,
        E::Capacity(_) => ErrorKind::Body,
        E::Http(_) | E::HttpFormat(_) | E::Url(_) => ErrorKind::Status,
        _ => ErrorKind::Other,
    };
    (kind, e.to_string())
}

/// Run-wide: the start-up stagger and the cap on open connections.
#[derive(Debug)]
pub struct Limits {
    settings: WsSettings,
    attempts: AtomicU64,
    open: Arc<AtomicUsize>,
}

/// Holds one of the [`Limits`]' open-connection places until dropped.
#[derive(Debug)]
pub struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Limits {
    pub fn new(settings: WsSettings) -> Limits {
        Limits {
            settings,
            attempts: AtomicU64::new(0),
            open: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// When the next connection attempt may start: groups of
    /// `stagger_every`, one group per `stagger_wait` from the run's start.
    pub fn due(&self, start: Instant) -> Instant {
        let n = self.attempts.fetch_add(1, Ordering::Relaxed);
        let group = n / self.settings.stagger_every;
        let wait = self
            .settings
            .stagger_wait
            .saturating_mul(u32::try_from(group).unwrap_or(u32::MAX));
        start.checked_add(wait).unwrap_or(start)
    }

    /// A place for one more open connection, unless the cap is reached.
    pub fn admit(&self) -> Result<Place, String> {
        let max = self.settings.max_connections;
        if self.open.fetch_add(1, Ordering::Relaxed) >= max {
            self.open.fetch_sub(1, Ordering::Relaxed);
            return Err(format!(
                "{max} WebSocket connections are open already (hammer.websocket.max_connections)"
            ));
        }
        Ok(Place(self.open.clone()))
    }

    pub fn open_now(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

/// What a connection's reader needs to write events.
struct Naming {
    /// `"WS feed recv "`: received messages' names start so.
    recv_prefix: String,
    closed_json: Box<[u8]>,
    latency_from: Option<String>,
    vu: u32,
    clock: Clock,
    stats: Arc<Stats>,
}

/// One open connection of a VU.
pub struct Socket {
    pub name: String,
    sink: SplitSink<WsStream, Message>,
    inbox: Arc<Inbox>,
    reader: tokio::task::JoinHandle<()>,
    _place: Place,
    /// A `ws_await` matches messages received from here on (the last send).
    mark: Instant,
}

#[derive(Default)]
struct Inbox {
    state: Mutex<InboxState>,
    arrived: Notify,
}

#[derive(Default)]
struct InboxState {
    /// A `ws_send`'s `reply` being waited for, and since when; the reader
    /// hands the matching message over instead of making it an event (the
    /// send's event times it).
    reply: Option<(Vec<(String, serde_json::Value)>, Instant)>,
    /// When that reply came.
    replied: Option<Instant>,
    unmatched: VecDeque<Received>,
    /// Why the connection ended, once it has.
    ended: Option<String>,
    /// hammer asked for the close: the end is no error.
    closing: bool,
}

struct Received {
    at: Instant,
    json: Option<serde_json::Value>,
}

impl Inbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Socket {
    fn start(
        name: String,
        stream: WsStream,
        naming: Naming,
        place: Place,
        opened: Instant,
    ) -> Socket {
        let (sink, stream) = stream.split();
        let inbox = Arc::new(Inbox::default());
        let reader = tokio::spawn(read(stream, inbox.clone(), naming));
        Socket {
            name,
            sink,
            inbox,
            reader,
            _place: place,
            mark: opened,
        }
    }

    /// Why the connection ended, if it has.
    pub fn ended(&self) -> Option<String> {
        self.inbox.lock().ended.clone()
    }

    async fn send(&mut self, text: String, limit: Duration) -> Result<(), Failure> {
        match tokio::time::timeout(limit, self.sink.send(Message::text(text))).await {
            Err(_) => Err((
                ErrorKind::Timeout,
                format!(
                    "the message was not written within {}",
                    format_duration(limit)
                ),
            )),
            Ok(Err(e)) => Err(failure(&e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Waits until `deadline` for the reply [`Socket::expect_reply`]
    /// registered; returns when it arrived.
    async fn wait_for_reply(&self, deadline: Instant, limit: Duration) -> Result<Instant, Failure> {
        loop {
            let arrived = self.inbox.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            {
                let mut state = self.inbox.lock();
                if let Some(at) = state.replied.take() {
                    return Ok(at);
                }
                if let Some(why) = &state.ended {
                    let why = format!("the connection ended before the reply: {why}");
                    state.reply = None;
                    return Err((ErrorKind::Reset, why));
                }
            }
            tokio::select! {
                _ = arrived => {}
                _ = tokio::time::sleep_until(deadline.into()) => {
                    self.inbox.lock().reply = None;
                    return Err((
                        ErrorKind::Timeout,
                        format!("no matching reply within {}", format_duration(limit)),
                    ));
                }
            }
        }
    }

    /// Registers the reply the next send waits for (before sending, so the
    /// reader cannot miss it).
    fn expect_reply(&self, wanted: Vec<(String, serde_json::Value)>, since: Instant) {
        let mut state = self.inbox.lock();
        state.reply = Some((wanted, since));
        state.replied = None;
    }

    /// Waits until `deadline` for the first message received since `since`
    /// that `wanted` matches, and takes it; returns when it arrived.
    async fn wait_for(
        &self,
        wanted: &[(String, serde_json::Value)],
        since: Instant,
        deadline: Instant,
        limit: Duration,
    ) -> Result<Instant, Failure> {
        loop {
            let arrived = self.inbox.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            {
                let mut state = self.inbox.lock();
                let found = state
                    .unmatched
                    .iter()
                    .position(|m| m.at >= since && matches(m.json.as_ref(), wanted));
                if let Some(at) = found.and_then(|i| state.unmatched.remove(i)).map(|m| m.at) {
                    return Ok(at);
                }
                if let Some(why) = &state.ended {
                    return Err((
                        ErrorKind::Reset,
                        format!("the connection ended before the reply: {why}"),
                    ));
                }
            }
            tokio::select! {
                _ = arrived => {}
                _ = tokio::time::sleep_until(deadline.into()) => {
                    return Err((
                        ErrorKind::Timeout,
                        format!("no matching message within {}", format_duration(limit)),
                    ));
                }
            }
        }
    }

    /// Sends a close frame (1000) and waits briefly for the server's.
    pub async fn close(mut self) {
        self.inbox.lock().closing = true;
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        if tokio::time::timeout(CLOSE_WAIT, self.sink.send(Message::Close(Some(frame))))
            .await
            .is_ok_and(|sent| sent.is_ok())
        {
            let _ = tokio::time::timeout(CLOSE_WAIT, &mut self.reader).await;
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// A connection's reader: every message becomes an event and waits, a
/// while, for a `ws_await` or `reply` to match it.
async fn read(mut stream: SplitStream<WsStream>, inbox: Arc<Inbox>, naming: Naming) {
    let mut names: HashMap<String, Box<[u8]>> = HashMap::new();
    let ended = loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => naming.received(text.as_bytes(), &mut names, &inbox),
            Some(Ok(Message::Binary(data))) => naming.received(&data, &mut names, &inbox),
            Some(Ok(Message::Close(frame))) => {
                break match frame {
                    Some(f) if f.reason.is_empty() => {
                        format!("closed by the server with code {}", u16::from(f.code))
                    }
                    Some(f) => format!(
                        "closed by the server with code {} ({})",
                        u16::from(f.code),
                        f.reason
                    ),
                    None => "closed by the server without a code".to_string(),
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => break failure(&e).1,
            None => break "the connection ended without a close frame".to_string(),
        }
    };
    let closing = {
        let mut state = inbox.lock();
        state.ended = Some(ended.clone());
        state.closing
    };
    inbox.arrived.notify_waiters();
    if !closing {
        naming.disconnected(ended);
    }
}

impl Naming {
    fn received(&self, data: &[u8], names: &mut HashMap<String, Box<[u8]>>, inbox: &Inbox) {
        let at = Instant::now();
        let json: Option<serde_json::Value> = serde_json::from_slice(data).ok();
        {
            let mut state = inbox.lock();
            let answers = state
                .reply
                .as_ref()
                .is_some_and(|(wanted, since)| at >= *since && matches(json.as_ref(), wanted));
            if answers {
                state.reply = None;
                state.replied = Some(at);
                drop(state);
                inbox.arrived.notify_waiters();
                return;
            }
        }
        let kind = json
            .as_ref()
            .and_then(|j| j.get("type"))
            .and_then(|t| t.as_str())
            .unwrap_or("");
        let key = if names.contains_key(kind) || names.len() < NAMED_TYPES {
            kind
        } else {
            "other"
        };
        let name_json = names.entry(key.to_string()).or_insert_with(|| {
            let name = format!("{}{key}", self.recv_prefix);
            json_name(name.trim_end())
        });
        let ts = self.clock.epoch_ns(at);
        let latency_ns = self
            .latency_from
            .as_deref()
            .and_then(|p| json.as_ref()?.pointer(p)?.as_u64())
            .map_or(0, |stamp| ts.saturating_sub(stamp));
        self.stats.record(latency_ns, false);
        sink::emit(&EventParts {
            ts,
            name_json,
            method_json: METHOD_JSON,
            status: 101,
            latency_ns,
            lag_ns: 0,
            bytes_in: data.len() as u64,
            bytes_out: 0,
            vu: self.vu,
            error: None,
            detail: None,
            connect_ns: None,
            ttfb_ns: None,
            proto: None,
        });
        {
            let mut state = inbox.lock();
            if state.unmatched.len() == KEPT {
                state.unmatched.pop_front();
            }
            state.unmatched.push_back(Received { at, json });
        }
        inbox.arrived.notify_waiters();
    }

    fn disconnected(&self, why: String) {
        self.stats.record(0, true);
        sink::emit(&EventParts {
            ts: self.clock.epoch_ns(Instant::now()),
            name_json: &self.closed_json,
            method_json: METHOD_JSON,
            status: 0,
            latency_ns: 0,
            lag_ns: 0,
            bytes_in: 0,
            bytes_out: 0,
            vu: self.vu,
            error: Some(ErrorKind::Reset),
            detail: Some(&why),
            connect_ns: None,
            ttfb_ns: None,
            proto: None,
        });
    }
}

/// Whether a received message holds every wanted value.
fn matches(json: Option<&serde_json::Value>, wanted: &[(String, serde_json::Value)]) -> bool {
    json.is_some_and(|json| {
        wanted
            .iter()
            .all(|(pointer, value)| json.pointer(pointer) == Some(value))
    })
}

fn json_name(name: &str) -> Box<[u8]> {
    serde_json::to_vec(name)
        .expect("strings serialize")
        .into_boxed_slice()
}

/// What one WebSocket step measured, for its event.
struct Outcome {
    at: Instant,
    status: u16,
    latency_ns: u64,
    lag_ns: u64,
    bytes_in: u64,
    bytes_out: u64,
    connect_ns: Option<u64>,
    error: Option<Failure>,
}

impl Outcome {
    /// The connection answered (or failed) after `latency`.
    fn answered(at: Instant, latency: Duration, error: Option<Failure>) -> Outcome {
        Outcome {
            at,
            status: 101,
            latency_ns: latency.as_nanos() as u64,
            lag_ns: 0,
            bytes_in: 0,
            bytes_out: 0,
            connect_ns: None,
            error,
        }
    }

    /// Nothing went out.
    fn failed(at: Instant, failure: Failure) -> Outcome {
        Outcome {
            at,
            status: 0,
            latency_ns: 0,
            lag_ns: 0,
            bytes_in: 0,
            bytes_out: 0,
            connect_ns: None,
            error: Some(failure),
        }
    }
}

impl<T: Transport> Vu<T> {
    /// Runs one WebSocket step of a flow.
    pub async fn ws_step(
        &mut self,
        plan: &Plan<T>,
        step: &PreparedWs,
        walk: &mut Walk,
    ) -> StepResult {
        let ws = &step.ws;
        let limit = ws.timeout.unwrap_or_else(|| plan.client.request_timeout());
        match &ws.action {
            WsAction::Connect { .. } => self.ws_connect(plan, step, walk, limit).await,
            WsAction::Send { every: None, .. } => {
                let outcome = self.ws_send(step, walk, None, limit).await;
                self.ws_record(plan, step, outcome)
            }
            WsAction::Send {
                every: Some(period),
                ..
            } => {
                let first = Instant::now();
                let mut sent = 0u32;
                // The open model's timer, not tokio's 1 ms ticks: a send's lag
                // is then the generator's queueing, not its timer's rounding.
                let mut timer = crate::timer::Timer::new(plan.timer, false)
                    .unwrap_or(crate::timer::Timer::Tokio);
                for k in 0u32.. {
                    let due = first + period.saturating_mul(k);
                    if due > Instant::now() {
                        let on_time = tokio::select! {
                            () = timer.sleep_until(due) => true,
                            _ = signals::reached(&mut self.phase, Phase::Stopping) => false,
                        };
                        if !on_time {
                            walk.cut = true;
                            break;
                        }
                    }
                    if !plan.control.running() {
                        walk.cut = true;
                        break;
                    }
                    let outcome = self.ws_send(step, walk, Some(due), limit).await;
                    let result = self.ws_record(plan, step, outcome);
                    sent += result.sent;
                    if result.error.is_some() || self.once {
                        return StepResult {
                            error: result.error,
                            sent,
                        };
                    }
                }
                StepResult { error: None, sent }
            }
            WsAction::Await(wanted) => {
                let started = Instant::now();
                let outcome = match self.ws_match(wanted, walk) {
                    Err(failure) => Outcome::failed(started, failure),
                    Ok(wanted) => match self.socket_of(&ws.socket) {
                        Err(failure) => Outcome::failed(started, failure),
                        Ok(i) => {
                            let socket = &self.sockets[i];
                            let since = socket.mark;
                            let waited = tokio::select! {
                                r = socket.wait_for(&wanted, since, started + limit, limit) => Some(r),
                                _ = signals::reached(&mut self.phase, Phase::Stopping) => None,
                            };
                            match waited {
                                None => {
                                    walk.cut = true;
                                    return StepResult::default();
                                }
                                Some(Ok(at)) => Outcome::answered(
                                    started,
                                    at.saturating_duration_since(started),
                                    None,
                                ),
                                Some(Err(failure)) => {
                                    Outcome::answered(started, started.elapsed(), Some(failure))
                                }
                            }
                        }
                    },
                };
                let mut result = self.ws_record(plan, step, outcome);
                result.sent = 0;
                result
            }
            WsAction::Close => {
                if let Some(i) = self.sockets.iter().position(|s| s.name == ws.socket) {
                    self.sockets.swap_remove(i).close().await;
                }
                StepResult::default()
            }
        }
    }

    async fn ws_connect(
        &mut self,
        plan: &Plan<T>,
        step: &PreparedWs,
        walk: &mut Walk,
        limit: Duration,
    ) -> StepResult {
        let ws = &step.ws;
        let WsAction::Connect {
            path,
            headers,
            auth,
            latency_from,
        } = &ws.action
        else {
            unreachable!("called for ws_connect steps")
        };
        if let Some(i) = self.sockets.iter().position(|s| s.name == ws.socket) {
            if self.sockets[i].ended().is_none() {
                // Open from an earlier iteration: go on with it.
                return StepResult::default();
            }
            self.sockets.swap_remove(i);
        }
        let rendered = {
            let user = self.user.clone();
            let state = user.lock();
            let flow = Some(&walk.values);
            let mut ctx = self.context(&state, flow);
            let path = path.render(&mut ctx);
            let headers: Result<Vec<(String, String)>, _> = headers
                .iter()
                .map(|(name, t)| t.render(&mut ctx).map(|v| (name.clone(), v)))
                .collect();
            let seq = ctx.seq;
            self.seq = seq;
            let token = state.user.token.clone().filter(|_| *auth);
            path.and_then(|p| headers.map(|h| (p, h, token)))
        };
        let (path, mut headers, token) = match rendered {
            Ok(r) => r,
            Err(e) => {
                let outcome = Outcome::failed(Instant::now(), (ErrorKind::Request, e.to_string()));
                return self.ws_record(plan, step, outcome);
            }
        };
        if let Some(token) = token {
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            {
                headers.push(("Authorization".into(), format!("Bearer {token}")));
            }
        }
        let due = plan.ws.due(plan.clock.start);
        if due > Instant::now() && !self.sleep_until(due).await {
            walk.cut = true;
            return StepResult::default();
        }
        let place = match plan.ws.admit() {
            Ok(place) => place,
            Err(why) => {
                let outcome = Outcome::failed(Instant::now(), (ErrorKind::Request, why));
                return self.ws_record(plan, step, outcome);
            }
        };
        let started = Instant::now();
        let opened = tokio::select! {
            r = tokio::time::timeout(limit, plan.client.websocket(&path, &headers)) => r,
            _ = signals::reached(&mut self.phase, Phase::Abort) => {
                walk.cut = true;
                return StepResult::default();
            }
        };
        let latency_ns = started.elapsed().as_nanos() as u64;
        let outcome = match opened {
            Err(_) => Outcome {
                latency_ns,
                ..Outcome::failed(
                    started,
                    (
                        ErrorKind::Timeout,
                        format!("no WebSocket handshake within {}", format_duration(limit)),
                    ),
                )
            },
            Ok(Err(refused)) => Outcome {
                status: refused.status,
                latency_ns,
                ..Outcome::failed(started, refused.failure)
            },
            Ok(Ok(opened)) => {
                let naming = Naming {
                    recv_prefix: format!("WS {} recv ", ws.socket),
                    closed_json: json_name(&format!("WS {} closed", ws.socket)),
                    latency_from: latency_from.clone(),
                    vu: self.id,
                    clock: plan.clock,
                    stats: plan.stats.clone(),
                };
                let socket = Socket::start(
                    ws.socket.clone(),
                    opened.stream,
                    naming,
                    place,
                    Instant::now(),
                );
                self.sockets.push(socket);
                Outcome {
                    at: started,
                    status: 101,
                    latency_ns,
                    lag_ns: 0,
                    bytes_in: 0,
                    bytes_out: 0,
                    connect_ns: Some(opened.connect_ns),
                    error: None,
                }
            }
        };
        self.ws_record(plan, step, outcome)
    }

    /// One send of a `ws_send` step (due at `scheduled` when it repeats),
    /// with the wait for its reply.
    async fn ws_send(
        &mut self,
        step: &PreparedWs,
        walk: &Walk,
        scheduled: Option<Instant>,
        limit: Duration,
    ) -> Outcome {
        let WsAction::Send { message, reply, .. } = &step.ws.action else {
            unreachable!("called for ws_send steps")
        };
        let now = Instant::now();
        let text = {
            let user = self.user.clone();
            let state = user.lock();
            let mut ctx = self.context(&state, Some(&walk.values));
            let text = match message {
                WsMessage::Text(t) => t.render(&mut ctx),
                WsMessage::Json(j) => j.render(&mut ctx).map(|v| v.to_string()),
            };
            let seq = ctx.seq;
            self.seq = seq;
            text
        };
        let text = match text {
            Ok(text) => text,
            Err(e) => return Outcome::failed(now, (ErrorKind::Request, e.to_string())),
        };
        let wanted = match reply.as_ref().map(|m| self.ws_match(m, walk)).transpose() {
            Ok(wanted) => wanted,
            Err(failure) => return Outcome::failed(now, failure),
        };
        let i = match self.socket_of(&step.ws.socket) {
            Ok(i) => i,
            Err(failure) => return Outcome::failed(now, failure),
        };
        let bytes_out = text.len() as u64;
        let sent = Instant::now();
        let lag_ns = scheduled.map_or(0, |s| sent.saturating_duration_since(s).as_nanos() as u64);
        let socket = &mut self.sockets[i];
        socket.mark = sent;
        if let Some(wanted) = wanted {
            socket.expect_reply(wanted, sent);
        }
        let written = socket.send(text, limit).await;
        let outcome = |latency: Duration, error| Outcome {
            at: sent,
            status: 101,
            latency_ns: latency.as_nanos() as u64,
            lag_ns,
            bytes_in: 0,
            bytes_out,
            connect_ns: None,
            error,
        };
        if let Err(failure) = written {
            return outcome(sent.elapsed(), Some(failure));
        }
        if reply.is_none() {
            return outcome(sent.elapsed(), None);
        }
        let socket = &self.sockets[i];
        let replied = tokio::select! {
            r = socket.wait_for_reply(sent + limit, limit) => Some(r),
            _ = signals::reached(&mut self.phase, Phase::Abort) => None,
        };
        match replied {
            Some(Ok(at)) => outcome(at.saturating_duration_since(sent), None),
            Some(Err(failure)) => outcome(sent.elapsed(), Some(failure)),
            None => outcome(
                sent.elapsed(),
                Some((
                    ErrorKind::Other,
                    "cancelled: the run was aborted while waiting for the reply".into(),
                )),
            ),
        }
    }

    /// A match's values, rendered for this VU and iteration.
    fn ws_match(
        &mut self,
        wanted: &WsMatch,
        walk: &Walk,
    ) -> Result<Vec<(String, serde_json::Value)>, Failure> {
        let user = self.user.clone();
        let state = user.lock();
        let mut ctx = self.context(&state, Some(&walk.values));
        let rendered = wanted
            .0
            .iter()
            .map(|(pointer, t)| t.render(&mut ctx).map(|v| (pointer.clone(), v)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| (ErrorKind::Request, e.to_string()));
        let seq = ctx.seq;
        self.seq = seq;
        rendered
    }

    /// The index of the open connection named `name`.
    fn socket_of(&mut self, name: &str) -> Result<usize, Failure> {
        let Some(i) = self.sockets.iter().position(|s| s.name == name) else {
            return Err((
                ErrorKind::Request,
                format!("WebSocket `{name}` is not open: no ws_connect opened it"),
            ));
        };
        if let Some(why) = self.sockets[i].ended() {
            self.sockets.swap_remove(i);
            return Err((
                ErrorKind::Reset,
                format!("WebSocket `{name}` has ended: {why}"),
            ));
        }
        Ok(i)
    }

    fn ws_record(&self, plan: &Plan<T>, step: &PreparedWs, o: Outcome) -> StepResult {
        plan.stats.record(o.latency_ns, o.error.is_some());
        let (kind, detail) = match &o.error {
            None => (None, None),
            Some((kind, detail)) => (Some(*kind), Some(detail.as_str())),
        };
        sink::emit(&EventParts {
            ts: plan.clock.epoch_ns(o.at),
            name_json: &step.name_json,
            method_json: METHOD_JSON,
            status: o.status,
            latency_ns: o.latency_ns,
            lag_ns: o.lag_ns,
            bytes_in: o.bytes_in,
            bytes_out: o.bytes_out,
            vu: self.id,
            error: kind,
            detail,
            connect_ns: o.connect_ns,
            ttfb_ns: None,
            proto: None,
        });
        StepResult {
            error: kind,
            sent: 1,
        }
    }

    /// Closes every connection of this VU with a close frame (the run's
    /// end), all at once.
    pub async fn close_sockets(&mut self) {
        let closing: Vec<_> = self.sockets.drain(..).map(Socket::close).collect();
        futures_util::future::join_all(closing).await;
    }
}
