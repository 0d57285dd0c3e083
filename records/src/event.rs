use serde::{Deserialize, Serialize};

/// One request as `hammer` measured it. WebSocket work is Events too
/// (method `WS`): a handshake, a send (timed to its reply), an await, each
/// message received (`bytes_in` its size; latency its delivery time when
/// the scenario names the sender's stamp, else 0) and an unexpected close;
/// see hammer's README.
///
/// Response time corrected for coordinated omission is `lag_ns + latency_ns`;
/// service time is `latency_ns` alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Actual send time, Unix epoch nanoseconds.
    pub ts: u64,
    /// The endpoint template the request belongs to, never a concrete URL.
    pub name: String,
    #[serde(default)]
    pub method: String,
    /// HTTP status; 0 when no response arrived.
    #[serde(default)]
    pub status: u16,
    /// From the send to the response's last byte. In hammer's open model
    /// over plain HTTP/1.1 the end (and `ttfb_ns`'s) is the kernel's
    /// receive timestamp of those bytes, so a generator busy or asleep when
    /// they arrived does not lengthen it; elsewhere it is when they were read.
    pub latency_ns: u64,
    /// How late the send was against its schedule (open model; 0 when closed).
    #[serde(default)]
    pub lag_ns: u64,
    #[serde(default)]
    pub bytes_in: u64,
    #[serde(default)]
    pub bytes_out: u64,
    #[serde(default)]
    pub vu: u32,
    /// `None`, or a short kind: see [`ErrorKind`].
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Connection set-up: TCP connect, and the TLS handshake when there is
    /// one; present only on requests that opened their connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_ns: Option<u64>,
    /// Time to first byte: from the send (after any connection set-up) to the
    /// first byte of the response; absent when no response came. Never more
    /// than `latency_ns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttfb_ns: Option<u64>,
    /// The protocol the request went out on when it is not HTTP/1.1: `h2`
    /// (over TLS by ALPN, or cleartext h2c). Absent for HTTP/1.1, so lines
    /// of HTTP/1.1 runs are as they always were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<String>,
}

/// The HTTP/1.1 protocol's name where a record counts protocols (an
/// Event without `proto`).
pub const HTTP1: &str = "http/1.1";

impl Event {
    /// Response time as the user waited for it, counted from the scheduled send.
    pub fn response_ns(&self) -> u64 {
        self.lag_ns.saturating_add(self.latency_ns)
    }
}

/// hammer's last line in the event stream, `{"kind":"load",…}`: when the
/// load ran, and what became of every arrival, so aggregate divides by the
/// same window hammer does and reports arrivals that were never sent (they
/// have no latency, so they never enter a histogram).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Load {
    /// The first scheduled send, Unix epoch ns.
    pub start: u64,
    /// The end of the schedule or stages (or the stop, when stopped), Unix
    /// epoch ns. Requests still in flight then complete in the drain after it.
    pub end: u64,
    /// Open model: arrivals that came due (closed model: 0).
    #[serde(default)]
    pub scheduled: u64,
    /// Open model: arrivals sent (each has its Event).
    #[serde(default)]
    pub sent: u64,
    /// Open model: arrivals not sent because every VU was busy (`--max-vus`).
    #[serde(default)]
    pub dropped: u64,
    /// Open model: arrivals not sent because the run was stopped (a signal, a
    /// closed output) after they came due.
    #[serde(default)]
    pub cancelled: u64,
    /// Closed model: VUs whose turn came in the stages (the VU count rose
    /// above theirs) that never ran: the generator did not get to them
    /// before their stage fell again or the run ended. Written when not 0.
    #[serde(default, skip_serializing_if = "crate::summary::is_zero")]
    pub vus_not_started: u64,
    /// Whether hammer's own worker threads were CPU-bound (latencies then
    /// include generator delay).
    #[serde(default)]
    pub cpu_bound: bool,
    /// Which shard of a many-machine run this stream is (`--shard I/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::Shard>,
}

/// One iteration of a flow (a user journey), `{"kind":"iteration",…}`:
/// written after its steps' Events, timed as one transaction.
///
/// Like an Event's, the journey's time as the user waited for it counts
/// from its scheduled start: `lag_ns + duration_ns`. Think steps inside the
/// flow are part of it. An iteration the end of the run cut short writes no
/// record (its requests' Events stand).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iteration {
    /// When the first step started, Unix epoch nanoseconds.
    pub ts: u64,
    /// The flow's name.
    pub flow: String,
    /// From the first step's start to the last step's end.
    pub duration_ns: u64,
    /// How late the iteration started against its schedule (open model).
    #[serde(default)]
    pub lag_ns: u64,
    /// Requests the iteration sent (retries after a re-login included).
    #[serde(default)]
    pub requests: u32,
    #[serde(default)]
    pub vu: u32,
    /// `None`, or the error kind of the first failing step.
    #[serde(default)]
    pub error: Option<String>,
    /// The name of the first failing step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
}

impl Iteration {
    /// The journey's time from its scheduled start.
    pub fn response_ns(&self) -> u64 {
        self.lag_ns.saturating_add(self.duration_ns)
    }
}

/// The records of an event stream that are not Events, told apart by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamRecord {
    Load(Load),
    Iteration(Iteration),
}

impl StreamRecord {
    /// The record as one NDJSON line, newline included.
    pub fn line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).expect("stream records serialize");
        line.push(b'\n');
        line
    }
}

/// The error kinds hammer writes into [`Event::error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request took longer than the per-request timeout.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// The connection was closed or reset before a full response.
    Reset,
    /// The TLS handshake failed.
    Tls,
    /// The status was not one the request expects.
    Status,
    /// A response check failed (JSON field, latency limit).
    Check,
    /// The body could not be read, or exceeded the size limit.
    Body,
    /// The request could not be built (a template needed a value it lacked).
    Request,
    /// Anything else the client reported.
    Other,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Timeout,
        ErrorKind::Connect,
        ErrorKind::Reset,
        ErrorKind::Tls,
        ErrorKind::Status,
        ErrorKind::Check,
        ErrorKind::Body,
        ErrorKind::Request,
        ErrorKind::Other,
    ];

    /// The kind a name stands for: `timeout` → `Timeout`.
    pub fn parse(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Reset => "reset",
            ErrorKind::Tls => "tls",
            ErrorKind::Status => "status",
            ErrorKind::Check => "check",
            ErrorKind::Body => "body",
            ErrorKind::Request => "request",
            ErrorKind::Other => "other",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
