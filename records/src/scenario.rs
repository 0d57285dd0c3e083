//! Scenario files (TOML): the target, the `[seed]` steps that make users, and
//! the `[hammer]` request mix. The format is documented in the README.
//!
//! Every table refuses unknown keys, so a typo'd field is an error naming its
//! file and line rather than a setting silently ignored. Templates are parsed
//! here, once, so a bad placeholder is caught before any request is sent.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::template::{JsonTemplate, Template};
use crate::units::parse_duration;
use crate::workload::{self, Stage, Think};

/// A scenario file's problem, located by file and line.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    description: Option<String>,
    base_url: Option<String>,
    seed: Option<RawSeed>,
    hammer: Option<RawHammer>,
    #[serde(default)]
    teardown: Vec<RawRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    users: Option<u64>,
    first: Option<u64>,
    user: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    concurrency: Option<usize>,
    retries: Option<u32>,
    register: Option<RawRequest>,
    login: Option<RawRequest>,
    #[serde(default)]
    setup: Vec<RawRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHammer {
    think: Option<Spanned<String>>,
    vus: Option<Spanned<u64>>,
    duration: Option<Spanned<String>>,
    stages: Option<Spanned<String>>,
    rate: Option<Spanned<workload::RateValue>>,
    rate_stages: Option<Spanned<String>>,
    users: Option<u64>,
    spawn_rate: Option<Spanned<f64>>,
    timeout: Option<Spanned<String>>,
    auth: Option<RawAuth>,
    #[serde(default)]
    requests: Vec<RawRequest>,
    #[serde(default)]
    flows: Vec<RawFlow>,
    websocket: Option<RawWebsocket>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebsocket {
    stagger_every: Option<u64>,
    stagger_wait: Option<Spanned<String>>,
    max_connections: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    name: Spanned<String>,
    weight: Option<u32>,
    vus: Option<Spanned<u64>>,
    on_failure: Option<Spanned<String>>,
    #[serde(default)]
    steps: Vec<RawRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    refresh_before: Option<Spanned<String>>,
    reauth_on: Option<Vec<u16>>,
    refresh: Option<RawRequest>,
    login: Option<RawRequest>,
}

/// A request, and in flows and teardown any step: a request (`path`), a
/// `think`, a `set` of flow values, or a loop (`repeat` with `steps`). One
/// struct, so every key a request takes is a step's too; what a place does
/// not allow is refused by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    name: Option<String>,
    method: Option<String>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    query: BTreeMap<String, String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    json: Option<toml::Value>,
    form: Option<BTreeMap<String, String>>,
    body: Option<String>,
    content_type: Option<String>,
    #[serde(default)]
    expect: Vec<u16>,
    #[serde(default)]
    exists: Vec<u16>,
    exists_when: Option<RawBodyMatch>,
    #[serde(default)]
    capture: BTreeMap<String, String>,
    #[serde(default)]
    append: BTreeMap<String, String>,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    checks: Vec<RawCheck>,
    max_latency: Option<String>,
    weight: Option<u32>,
    repeat: Option<Spanned<RawRepeat>>,
    auth: Option<bool>,
    // Flow steps only.
    think: Option<Spanned<String>>,
    set: Option<Spanned<BTreeMap<String, toml::Value>>>,
    counter: Option<String>,
    steps: Option<Vec<RawRequest>>,
    // WebSocket flow steps.
    ws_connect: Option<Spanned<String>>,
    ws_send: Option<Spanned<toml::Value>>,
    ws_await: Option<Spanned<BTreeMap<String, toml::Value>>>,
    ws_close: Option<Spanned<String>>,
    socket: Option<String>,
    every: Option<String>,
    reply: Option<BTreeMap<String, toml::Value>>,
    timeout: Option<String>,
    latency_from: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawRepeat {
    Times(u32),
    Range(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBodyMatch {
    contains: Option<String>,
    pointer: Option<String>,
    equals: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    pointer: Option<String>,
    cookie: Option<String>,
    equals: Option<toml::Value>,
    #[serde(default = "yes")]
    exists: bool,
}

fn yes() -> bool {
    true
}

/// A loaded, validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub file: String,
    pub name: String,
    pub description: Option<String>,
    pub base_url: Option<String>,
    pub seed: Option<Seed>,
    pub hammer: Option<Hammer>,
    /// `[[teardown]]`: steps run once per seeded user after the load
    /// (hammer at the end of a run, `seed --teardown USERS` later): a logout.
    pub teardown: Vec<Step>,
}

/// The `[seed]` section: how to make users.
#[derive(Clone, Debug)]
pub struct Seed {
    pub users: u64,
    /// Number of the first user (`{n}` runs from `first` to `first + users - 1`).
    pub first: u64,
    pub user: Template,
    pub password: Template,
    pub concurrency: Option<usize>,
    pub retries: Option<u32>,
    pub register: Option<Request>,
    pub login: Option<Request>,
    pub setup: Vec<Request>,
}

/// The `[hammer]` section: the request mix and the workload defaults.
#[derive(Clone, Debug, Default)]
pub struct Hammer {
    pub think: Option<Think>,
    pub vus: Option<u64>,
    pub duration: Option<Duration>,
    pub stages: Option<Vec<Stage>>,
    pub rate: Option<f64>,
    pub rate_stages: Option<Vec<Stage>>,
    pub users: Option<u64>,
    pub spawn_rate: Option<f64>,
    pub timeout: Option<Duration>,
    pub auth: Auth,
    pub requests: Vec<Request>,
    /// `[[hammer.flows]]`: journeys drawn by weight beside the single requests.
    pub flows: Vec<Flow>,
    /// `[hammer.websocket]`: how WebSocket connections open.
    pub websocket: WsSettings,
}

/// `[hammer.websocket]`: connection start-up and its cap, for every
/// `ws_connect` of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsSettings {
    /// Connections open in groups of this many…
    pub stagger_every: u64,
    /// …one group per this long (TaskForge: 10 per 100 ms); zero: no stagger.
    pub stagger_wait: Duration,
    /// At most this many open at once; a `ws_connect` beyond it fails.
    pub max_connections: usize,
}

impl Default for WsSettings {
    fn default() -> WsSettings {
        WsSettings {
            stagger_every: 1,
            stagger_wait: Duration::ZERO,
            max_connections: 100_000,
        }
    }
}

/// A user journey: ordered steps run as one iteration, timed as one
/// transaction.
#[derive(Clone, Debug)]
pub struct Flow {
    pub name: String,
    pub weight: u32,
    /// Run by this many VUs of its own, each looping over it for the whole
    /// run, outside the weighted mix (long-lived WebSocket subscribers);
    /// users are dealt to them round-robin.
    pub vus: Option<u64>,
    pub on_failure: OnFailure,
    pub steps: Vec<Step>,
    /// Line of the flow's `name`.
    pub line: usize,
}

/// What a failed step does to its flow iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnFailure {
    /// End the iteration at the failing step (a journey whose login failed
    /// does not go on).
    #[default]
    Stop,
    /// Go on with the next step; the iteration still counts as failed.
    Continue,
}

/// One step of a flow or of the teardown.
#[derive(Clone, Debug)]
pub enum Step {
    Request(Box<Request>),
    Think(Think),
    /// Flow values, `{flow:NAME}`: each a JSON template rendered in order.
    Set {
        values: Vec<(String, JsonTemplate)>,
        line: usize,
    },
    Loop(Loop),
    Ws(Box<Ws>),
}

/// A WebSocket step: it works on one of the VU's named connections, which
/// stay open from their `ws_connect` until a `ws_close`, a drop, or the
/// run's end (across the flow's iterations: a `ws_connect` to a connection
/// that is open goes on with it).
#[derive(Clone, Debug)]
pub struct Ws {
    /// `socket`: which of the VU's connections; default `ws`.
    pub socket: String,
    /// The step's event name.
    pub name: String,
    pub action: WsAction,
    /// Handshake (connect) or reply (send, await) timeout; default: the
    /// run's request timeout.
    pub timeout: Option<Duration>,
    pub line: usize,
}

#[derive(Clone, Debug)]
pub enum WsAction {
    Connect {
        path: Template,
        headers: Vec<(String, Template)>,
        /// Send the user's token as `Authorization: Bearer`.
        auth: bool,
        /// A JSON pointer to the sender's Unix-epoch-nanosecond timestamp
        /// in received messages: their events' latency is then delivery
        /// time (receipt minus that stamp).
        latency_from: Option<String>,
    },
    Send {
        message: WsMessage,
        /// Send again at this period for the rest of the run, each on its
        /// schedule (lateness is the event's lag, as in the open model).
        every: Option<Duration>,
        /// Wait for the reply that matches: the event times the round trip.
        reply: Option<WsMatch>,
    },
    Await(WsMatch),
    Close,
}

/// What a WebSocket step sends: text as written, or a JSON value.
#[derive(Clone, Debug)]
pub enum WsMessage {
    Text(Template),
    Json(JsonTemplate),
}

/// JSON pointers of a received message and the values they must hold.
#[derive(Clone, Debug)]
pub struct WsMatch(pub Vec<(String, JsonTemplate)>);

impl Ws {
    /// Every template of the step.
    pub fn templates(&self) -> Vec<&Template> {
        let mut all = Vec::new();
        match &self.action {
            WsAction::Connect { path, headers, .. } => {
                all.push(path);
                all.extend(headers.iter().map(|(_, t)| t));
            }
            WsAction::Send { message, reply, .. } => {
                match message {
                    WsMessage::Text(t) => all.push(t),
                    WsMessage::Json(j) => j.each_template(&mut |t| all.push(t)),
                }
                for (_, t) in reply.iter().flat_map(|m| &m.0) {
                    t.each_template(&mut |t| all.push(t));
                }
            }
            WsAction::Await(m) => {
                for (_, t) in &m.0 {
                    t.each_template(&mut |t| all.push(t));
                }
            }
            WsAction::Close => {}
        }
        all
    }
}

impl Step {
    /// Calls `f` on every request of `steps`, loops' included, in order.
    pub fn each_request<'s>(steps: &'s [Step], f: &mut impl FnMut(&'s Request)) {
        for step in steps {
            match step {
                Step::Request(r) => f(r),
                Step::Loop(l) => Step::each_request(&l.steps, f),
                Step::Think(_) | Step::Set { .. } | Step::Ws(_) => {}
            }
        }
    }
}

/// Steps run `repeat` times; the count is `{i}` (from 1) in their templates,
/// and `{flow:COUNTER}` when the loop names a counter.
#[derive(Clone, Debug)]
pub struct Loop {
    pub repeat: Repeat,
    pub counter: Option<String>,
    pub steps: Vec<Step>,
    pub line: usize,
}

/// How many times a loop runs: a fixed count or a uniform draw from a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    Times(u32),
    Range(u32, u32),
}

impl Repeat {
    pub fn parse(text: &str) -> Result<Repeat, String> {
        let bad = || format!("repeat `{text}`: write a count (3) or a range (\"1..30\")");
        let (low, high) = text.split_once("..").ok_or_else(bad)?;
        let low: u32 = low.trim().parse().map_err(|_| bad())?;
        let high: u32 = high.trim().parse().map_err(|_| bad())?;
        if low > high {
            return Err(format!("repeat `{text}`: the range is empty"));
        }
        Ok(Repeat::Range(low, high))
    }

    pub fn sample<R: rand::Rng>(self, rng: &mut R) -> u32 {
        match self {
            Repeat::Times(n) => n,
            Repeat::Range(low, high) => rng.gen_range(low..=high),
        }
    }
}

/// How hammer keeps a user's token valid.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    /// Refresh this long before the token expires.
    pub refresh_before: Option<Duration>,
    pub refresh: Option<Request>,
    /// Re-login when refreshing fails; defaults to the seed's login request.
    pub login: Option<Request>,
    /// Statuses that mean "the token is no longer good"; default `[401]`.
    pub reauth_on: Vec<u16>,
}

/// A request body.
#[derive(Clone, Debug)]
pub enum Body {
    None,
    Json(JsonTemplate),
    Form(Vec<(String, Template)>),
    Raw(Template),
}

/// A response check: the JSON value at `pointer` exists (or not), or equals
/// a value; or, with `cookie`, the user's jar holds (or not) that cookie
/// after the response.
#[derive(Clone, Debug)]
pub struct Check {
    pub pointer: String,
    pub cookie: Option<String>,
    /// A JSON template: `equals = "{flow:task_id}"` compares with a value
    /// an earlier step captured, with its type.
    pub equals: Option<JsonTemplate>,
    pub exists: bool,
}

/// A match on a response body: it contains a text, or the JSON value at a
/// pointer equals a value (or exists, without `equals`).
#[derive(Clone, Debug, PartialEq)]
pub enum BodyMatch {
    Contains(String),
    Pointer {
        pointer: String,
        equals: Option<serde_json::Value>,
    },
}

impl BodyMatch {
    pub fn matches(&self, body: &[u8]) -> bool {
        match self {
            BodyMatch::Contains(text) => body
                .windows(text.len().max(1))
                .any(|w| w == text.as_bytes()),
            BodyMatch::Pointer { pointer, equals } => {
                let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
                    return false;
                };
                match (json.pointer(pointer), equals) {
                    (Some(got), Some(want)) => got == want,
                    (Some(_), None) => true,
                    (None, _) => false,
                }
            }
        }
    }
}

/// One request of a seed step or of the hammer mix.
#[derive(Clone, Debug)]
pub struct Request {
    /// Endpoint template used to group events (`GET /api/v1/tasks/{id}`).
    pub name: String,
    pub method: String,
    pub path: Template,
    pub query: Vec<(String, Template)>,
    pub headers: Vec<(String, Template)>,
    pub body: Body,
    /// `Content-Type` of the body: given, or `application/json` for `json`
    /// and `application/x-www-form-urlencoded` for `form`; none for `body`.
    pub content_type: Option<String>,
    /// Statuses that count as success; empty means any 2xx.
    pub expect: Vec<u16>,
    /// Statuses that mean "already exists" (seed: register again is fine).
    pub exists: Vec<u16>,
    /// With `exists`, the body must match too: a 400 "already registered" is
    /// an existing user, a 400 "password too short" a failure.
    pub exists_when: Option<BodyMatch>,
    /// var name → JSON pointer: set the var from the response.
    pub capture: Vec<(String, String)>,
    /// list var name → JSON pointer: append the response value to the list.
    pub append: Vec<(String, String)>,
    /// list vars whose picked value this request consumes (e.g. after a delete).
    pub remove: Vec<String>,
    pub checks: Vec<Check>,
    pub max_latency: Option<Duration>,
    pub weight: u32,
    pub repeat: u32,
    /// Send the user's bearer token (when it has one).
    pub auth: bool,
    /// Line of the request's `path` in the scenario file, for error messages.
    pub line: usize,
}

impl Request {
    /// Whether `status` counts as success for this request.
    pub fn status_ok(&self, status: u16) -> bool {
        if self.expect.is_empty() {
            (200..300).contains(&status)
        } else {
            self.expect.contains(&status)
        }
    }

    /// Var lists this request reads, and so needs non-empty to be sent.
    pub fn needed_vars(&self) -> Vec<&str> {
        let mut vars: Vec<&str> = self.path.vars().collect();
        for (_, t) in self.query.iter().chain(self.headers.iter()) {
            vars.extend(t.vars());
        }
        vars.sort_unstable();
        vars.dedup();
        vars
    }

    /// Every template of the request: path, query, headers and body.
    pub fn templates(&self) -> Vec<&Template> {
        let mut all = vec![&self.path];
        all.extend(self.query.iter().chain(&self.headers).map(|(_, t)| t));
        match &self.body {
            Body::None => {}
            Body::Json(json) => json.each_template(&mut |t| all.push(t)),
            Body::Form(fields) => all.extend(fields.iter().map(|(_, t)| t)),
            Body::Raw(t) => all.push(t),
        }
        for check in &self.checks {
            if let Some(equals) = &check.equals {
                equals.each_template(&mut |t| all.push(t));
            }
        }
        all
    }

    /// Whether `status` with `body` means "already exists".
    pub fn existed(&self, status: u16, body: &[u8]) -> bool {
        self.exists.contains(&status) && self.exists_when.as_ref().is_none_or(|m| m.matches(body))
    }
}

/// Names a capture sets on the user itself, never as a var or flow value.
pub const CREDENTIALS: [&str; 4] = ["token", "refresh_token", "expires_in", "expires_at"];

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        Scenario::parse(&text, &file)
    }

    /// Parses scenario text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let located = Locator { text, file };
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| located.line_of(s.start)).unwrap_or(0);
            located.error(line, e.message().trim().to_string())
        })?;
        let seed = raw.seed.map(|s| located.seed(s)).transpose()?;
        let hammer = raw.hammer.map(|h| located.hammer(h)).transpose()?;
        let teardown = located.steps(raw.teardown, "teardown", 0)?;
        if let Some(Step::Ws(ws)) = teardown.iter().find(|s| matches!(s, Step::Ws(_))) {
            return Err(located.error(
                ws.line,
                "teardown: WebSocket steps belong to [[hammer.flows]] (the teardown closes nothing: connections close at the run's end)",
            ));
        }
        if let Some(url) = &raw.base_url {
            check_base_url(url).map_err(|m| located.error(located.line_of_key("base_url"), m))?;
        }
        Ok(Scenario {
            file: file.to_string(),
            name: raw.name.unwrap_or_else(|| {
                Path::new(file)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }),
            description: raw.description,
            base_url: raw.base_url,
            seed,
            hammer,
            teardown,
        })
    }

    /// The target: `--target` if given, else the scenario's `base_url`.
    pub fn target(&self, flag: Option<&str>) -> Result<String, String> {
        let url = flag
            .map(str::to_string)
            .or_else(|| self.base_url.clone())
            .ok_or_else(|| {
                format!(
                    "{}: no base_url in the scenario and no --target given",
                    self.file
                )
            })?;
        check_base_url(&url)?;
        Ok(url.trim_end_matches('/').to_string())
    }
}

/// A target must be an http(s) URL.
pub fn check_base_url(url: &str) -> Result<(), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(format!(
            "base_url `{url}` must start with http:// or https://"
        ))
    }
}

struct Locator<'a> {
    text: &'a str,
    file: &'a str,
}

impl Locator<'_> {
    fn line_of(&self, byte: usize) -> usize {
        self.text[..byte.min(self.text.len())].matches('\n').count() + 1
    }

    fn line_of_key(&self, key: &str) -> usize {
        self.text
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map(|i| i + 1)
            .unwrap_or(0)
    }

    /// The line of a table's header: `seed.login` → `[seed.login]`,
    /// `hammer.requests[2]` → the third `[[hammer.requests]]`.
    fn line_of_table(&self, field: &str) -> usize {
        let (name, nth) = match field.strip_suffix(']').and_then(|f| f.rsplit_once('[')) {
            Some((name, n)) => (format!("[[{name}]]"), n.parse().unwrap_or(0)),
            None => (format!("[{field}]"), 0),
        };
        self.text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with(&name))
            .nth(nth)
            .map_or(0, |(i, _)| i + 1)
    }

    fn error(&self, line: usize, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }

    fn template(&self, spanned: &Spanned<String>, field: &str) -> Result<Template, ScenarioError> {
        Template::parse(spanned.get_ref())
            .map_err(|m| self.error(self.line_of(spanned.span().start), format!("{field}: {m}")))
    }

    fn duration(&self, spanned: &Spanned<String>, field: &str) -> Result<Duration, ScenarioError> {
        self.value::<_, str, _>(spanned, field, parse_duration)
    }

    /// Parses a value with the shared parser, its error located at the value.
    fn value<T, V: ?Sized, P>(
        &self,
        spanned: &Spanned<impl std::borrow::Borrow<V>>,
        field: &str,
        parse: P,
    ) -> Result<T, ScenarioError>
    where
        P: FnOnce(&V) -> Result<T, String>,
    {
        parse(spanned.get_ref().borrow())
            .map_err(|m| self.error(self.line_of(spanned.span().start), format!("{field}: {m}")))
    }

    fn seed(&self, raw: RawSeed) -> Result<Seed, ScenarioError> {
        let default_user = Spanned::new(0..0, "loadtest{n}@example.com".to_string());
        let default_password = Spanned::new(0..0, "LoadTest-{n}-pass".to_string());
        let seed = Seed {
            users: raw.users.unwrap_or(10),
            first: raw.first.unwrap_or(1),
            user: self.template(raw.user.as_ref().unwrap_or(&default_user), "seed.user")?,
            password: self.template(
                raw.password.as_ref().unwrap_or(&default_password),
                "seed.password",
            )?,
            concurrency: raw.concurrency,
            retries: raw.retries,
            register: raw
                .register
                .map(|r| self.request(r, "seed.register"))
                .transpose()?,
            login: raw
                .login
                .map(|r| self.request(r, "seed.login"))
                .transpose()?,
            setup: raw
                .setup
                .into_iter()
                .enumerate()
                .map(|(i, r)| self.request(r, &format!("seed.setup[{i}]")))
                .collect::<Result<_, _>>()?,
        };
        if seed.concurrency == Some(0) {
            return Err(self.error(
                self.line_of_key("concurrency"),
                "seed.concurrency must be at least 1",
            ));
        }
        Ok(seed)
    }

    fn hammer(&self, raw: RawHammer) -> Result<Hammer, ScenarioError> {
        let auth = match raw.auth {
            None => Auth::default(),
            Some(a) => Auth {
                refresh_before: a
                    .refresh_before
                    .as_ref()
                    .map(|d| self.duration(d, "hammer.auth.refresh_before"))
                    .transpose()?,
                refresh: a
                    .refresh
                    .map(|r| self.request(r, "hammer.auth.refresh"))
                    .transpose()?,
                login: a
                    .login
                    .map(|r| self.request(r, "hammer.auth.login"))
                    .transpose()?,
                reauth_on: a.reauth_on.unwrap_or_else(|| vec![401]),
            },
        };
        let requests: Vec<Request> = raw
            .requests
            .into_iter()
            .enumerate()
            .map(|(i, r)| self.request(r, &format!("hammer.requests[{i}]")))
            .collect::<Result<_, _>>()?;
        let flows: Vec<Flow> = raw
            .flows
            .into_iter()
            .enumerate()
            .map(|(i, f)| self.flow(f, &format!("hammer.flows[{i}]")))
            .collect::<Result<_, _>>()?;
        // A flow on VUs of its own is outside the mix.
        let mixed = flows.iter().filter(|f| f.vus.is_none());
        let weights = requests
            .iter()
            .map(|r| r.weight)
            .chain(mixed.clone().map(|f| f.weight));
        let mix_given = !requests.is_empty() || mixed.count() > 0;
        if mix_given && weights.clone().all(|w| w == 0) {
            let line = requests.first().map_or_else(|| flows[0].line, |r| r.line);
            return Err(self.error(line, "hammer: every request and flow has weight 0"));
        }
        for (i, flow) in flows.iter().enumerate() {
            let clash = requests.iter().any(|r| r.name == flow.name)
                || flows[..i].iter().any(|f| f.name == flow.name);
            if clash {
                return Err(self.error(
                    flow.line,
                    format!(
                        "flow `{}`: the name is taken by a request or another flow; \
                         events and thresholds tell them apart by name",
                        flow.name
                    ),
                ));
            }
        }
        Ok(Hammer {
            think: raw
                .think
                .as_ref()
                .map(|t| self.value::<_, str, _>(t, "hammer.think", Think::parse))
                .transpose()?,
            vus: raw
                .vus
                .as_ref()
                .map(|v| {
                    self.value(v, "hammer.vus", |&n: &u64| {
                        (n > 0).then_some(n).ok_or("must be at least 1".to_string())
                    })
                })
                .transpose()?,
            duration: raw
                .duration
                .as_ref()
                .map(|d| self.value::<_, str, _>(d, "hammer.duration", workload::run_length))
                .transpose()?,
            stages: raw
                .stages
                .as_ref()
                .map(|s| self.value::<_, str, _>(s, "hammer.stages", workload::parse_stages))
                .transpose()?,
            rate: raw
                .rate
                .as_ref()
                .map(|r| self.value(r, "hammer.rate", workload::RateValue::per_second))
                .transpose()?,
            rate_stages: raw
                .rate_stages
                .as_ref()
                .map(|s| self.value::<_, str, _>(s, "hammer.rate_stages", workload::parse_stages))
                .transpose()?,
            users: raw.users,
            spawn_rate: raw
                .spawn_rate
                .as_ref()
                .map(|r| {
                    self.value(r, "hammer.spawn_rate", |&r: &f64| {
                        workload::positive_rate(r)
                    })
                })
                .transpose()?,
            timeout: raw
                .timeout
                .as_ref()
                .map(|d| self.duration(d, "hammer.timeout"))
                .transpose()?,
            auth,
            requests,
            flows,
            websocket: raw
                .websocket
                .map(|w| self.websocket(w))
                .transpose()?
                .unwrap_or_default(),
        })
    }

    fn websocket(&self, raw: RawWebsocket) -> Result<WsSettings, ScenarioError> {
        let line = self.line_of_table("hammer.websocket");
        let mut settings = WsSettings::default();
        if let Some(every) = raw.stagger_every {
            if every == 0 {
                return Err(self.error(line, "hammer.websocket.stagger_every: must be at least 1"));
            }
            settings.stagger_every = every;
        }
        if let Some(wait) = &raw.stagger_wait {
            settings.stagger_wait =
                self.value::<_, str, _>(wait, "hammer.websocket.stagger_wait", |t| {
                    parse_duration(t)
                })?;
        }
        if let Some(max) = raw.max_connections {
            if max == 0 {
                return Err(
                    self.error(line, "hammer.websocket.max_connections: must be at least 1")
                );
            }
            settings.max_connections = max;
        }
        Ok(settings)
    }

    fn flow(&self, raw: RawFlow, field: &str) -> Result<Flow, ScenarioError> {
        let line = self.line_of(raw.name.span().start);
        let on_failure = match raw.on_failure.as_ref().map(|s| (s.get_ref().as_str(), s)) {
            None | Some(("stop", _)) => OnFailure::Stop,
            Some(("continue", _)) => OnFailure::Continue,
            Some((other, spanned)) => {
                return Err(self.error(
                    self.line_of(spanned.span().start),
                    format!("{field}.on_failure: `{other}` is not `stop` or `continue`"),
                ))
            }
        };
        let name = raw.name.into_inner();
        if name.trim().is_empty() {
            return Err(self.error(line, format!("{field}: the name is empty")));
        }
        let steps = self.steps(raw.steps, &format!("{field}.steps"), line)?;
        if steps.is_empty() {
            return Err(self.error(line, format!("{field} (`{name}`): no steps")));
        }
        let vus = match &raw.vus {
            None => None,
            Some(_) if raw.weight.is_some() => {
                return Err(self.error(
                    line,
                    format!("{field} (`{name}`): a flow with `vus` runs on VUs of its own, outside the mix; it takes no `weight`"),
                ))
            }
            Some(v) => Some(self.value(v, &format!("{field}.vus"), |&n: &u64| {
                (n > 0).then_some(n).ok_or("must be at least 1".to_string())
            })?),
        };
        Ok(Flow {
            name,
            vus,
            weight: if vus.is_some() {
                0
            } else {
                raw.weight.unwrap_or(1)
            },
            on_failure,
            steps,
            line,
        })
    }

    fn steps(
        &self,
        raw: Vec<RawRequest>,
        field: &str,
        line: usize,
    ) -> Result<Vec<Step>, ScenarioError> {
        raw.into_iter()
            .enumerate()
            .map(|(i, r)| self.step(r, &format!("{field}[{i}]"), line))
            .collect()
    }

    /// One flow step; `outer` is the enclosing line, for steps with no line of their own.
    fn step(&self, mut raw: RawRequest, field: &str, outer: usize) -> Result<Step, ScenarioError> {
        let line = raw
            .path
            .as_ref()
            .map(|p| p.span().start)
            .or(raw.think.as_ref().map(|t| t.span().start))
            .or(raw.set.as_ref().map(|t| t.span().start))
            .or(raw.repeat.as_ref().map(|t| t.span().start))
            .or(raw.ws_connect.as_ref().map(|t| t.span().start))
            .or(raw.ws_send.as_ref().map(|t| t.span().start))
            .or(raw.ws_await.as_ref().map(|t| t.span().start))
            .or(raw.ws_close.as_ref().map(|t| t.span().start))
            .map_or(outer, |at| self.line_of(at));
        let err = |m: String| self.error(line, format!("{field}: {m}"));
        if raw.weight.is_some() {
            return Err(err(
                "weight is for [[hammer.requests]] and [[hammer.flows]], not for steps".into(),
            ));
        }
        let only = |raw: &RawRequest, what: &str, allowed: &[&str]| {
            let extra: Vec<&str> = raw
                .keys()
                .into_iter()
                .filter(|k| !allowed.contains(k))
                .collect();
            if extra.is_empty() {
                Ok(())
            } else {
                Err(err(format!(
                    "a {what} step takes no {}",
                    extra
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let ws_given = [
            raw.ws_connect.is_some(),
            raw.ws_send.is_some(),
            raw.ws_await.is_some(),
            raw.ws_close.is_some(),
        ];
        match ws_given.iter().filter(|&&g| g).count() {
            0 => {}
            1 => return self.ws(raw, &err, line).map(|ws| Step::Ws(Box::new(ws))),
            _ => {
                return Err(err(
                    "a step is one of ws_connect, ws_send, ws_await and ws_close".into(),
                ))
            }
        }
        let repeat = raw
            .repeat
            .take()
            .map(|r| match r.into_inner() {
                RawRepeat::Times(n) => Ok(Repeat::Times(n)),
                RawRepeat::Range(text) => Repeat::parse(&text).map_err(err),
            })
            .transpose()?;
        let counter = raw.counter.take();
        if let Some(steps) = raw.steps.take() {
            only(&raw, "loop", &[])?;
            let Some(repeat) = repeat else {
                return Err(err(
                    "a loop (`steps`) needs `repeat`, e.g. repeat = \"1..30\"".into(),
                ));
            };
            let steps = self.steps(steps, &format!("{field}.steps"), line)?;
            if steps.is_empty() {
                return Err(err("a loop with no steps".into()));
            }
            return Ok(Step::Loop(Loop {
                repeat,
                counter,
                steps,
                line,
            }));
        }
        if let Some(think) = raw.think.take() {
            only(&raw, "think", &[])?;
            if repeat.is_some() || counter.is_some() {
                return Err(err("a think step takes no `repeat` or `counter`".into()));
            }
            return Ok(Step::Think(self.value::<_, str, _>(
                &think,
                field,
                Think::parse,
            )?));
        }
        if let Some(set) = raw.set.take() {
            only(&raw, "set", &[])?;
            if repeat.is_some() || counter.is_some() {
                return Err(err("a set step takes no `repeat` or `counter`".into()));
            }
            let values = set
                .into_inner()
                .into_iter()
                .map(|(name, value)| {
                    let json =
                        serde_json::to_value(value).map_err(|e| err(format!("set.{name}: {e}")))?;
                    JsonTemplate::parse(&json)
                        .map(|t| (name.clone(), t))
                        .map_err(|m| err(format!("set.{name}: {m}")))
                })
                .collect::<Result<_, _>>()?;
            return Ok(Step::Set { values, line });
        }
        if raw.path.is_none() {
            return Err(err(
                "a step is a request (`path`), a `think`, a `set`, a loop (`repeat` and `steps`), \
                 or a WebSocket step (ws_connect, ws_send, ws_await, ws_close)"
                    .into(),
            ));
        }
        let request = Step::Request(Box::new(self.request(raw, field)?));
        Ok(match repeat {
            None if counter.is_some() => return Err(err("`counter` needs `repeat`".into())),
            None => request,
            Some(repeat) => Step::Loop(Loop {
                repeat,
                counter,
                steps: vec![request],
                line,
            }),
        })
    }

    /// A WebSocket step (exactly one of its four keys is given).
    fn ws(
        &self,
        mut raw: RawRequest,
        err: &dyn Fn(String) -> ScenarioError,
        line: usize,
    ) -> Result<Ws, ScenarioError> {
        let socket = raw.socket.take().unwrap_or_else(|| "ws".to_string());
        if socket.trim().is_empty() {
            return Err(err("socket: the name is empty".into()));
        }
        let timeout = raw
            .timeout
            .take()
            .map(|t| parse_duration(&t).map_err(|m| err(format!("timeout: {m}"))))
            .transpose()?;
        if timeout.is_some_and(|t| t.is_zero()) {
            return Err(err("timeout: must be more than 0".into()));
        }
        let matcher = |map: BTreeMap<String, toml::Value>, what: &str| {
            if map.is_empty() {
                return Err(err(format!(
                    "{what}: give JSON pointers and values, e.g. {{ \"/type\" = \"subscribed\" }}"
                )));
            }
            map.into_iter()
                .map(|(pointer, value)| {
                    if !pointer.starts_with('/') {
                        return Err(err(format!(
                            "{what}: `{pointer}` is not a JSON pointer (they start with `/`)"
                        )));
                    }
                    let json = serde_json::to_value(value).unwrap_or_default();
                    JsonTemplate::parse(&json)
                        .map(|t| (pointer.clone(), t))
                        .map_err(|m| err(format!("{what}.{pointer}: {m}")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(WsMatch)
        };
        let keys = raw.keys();
        let only = |what: &str, allowed: &[&str]| {
            let extra: Vec<String> = keys
                .iter()
                .filter(|k| !allowed.contains(k) && !["socket", "timeout", "name"].contains(k))
                .map(|k| format!("`{k}`"))
                .collect();
            if extra.is_empty() {
                Ok(())
            } else {
                Err(err(format!("a {what} step takes no {}", extra.join(", "))))
            }
        };
        let (action, default_name) = if let Some(path) = raw.ws_connect.take() {
            only(
                "ws_connect",
                &["ws_connect", "headers", "auth", "latency_from"],
            )?;
            if !path.get_ref().starts_with('/') {
                return Err(err(format!(
                    "ws_connect: `{}` must be a path starting with `/` (the target's scheme and host are used, ws:// for http://, wss:// for https://)",
                    path.get_ref()
                )));
            }
            if let Some(p) = &raw.latency_from {
                if !p.starts_with('/') {
                    return Err(err(format!(
                        "latency_from: `{p}` is not a JSON pointer (they start with `/`)"
                    )));
                }
            }
            let headers = raw
                .headers
                .into_iter()
                .map(|(k, v)| {
                    Template::parse(&v)
                        .map(|t| (k.clone(), t))
                        .map_err(|m| err(format!("headers.{k}: {m}")))
                })
                .collect::<Result<_, _>>()?;
            (
                WsAction::Connect {
                    path: Template::parse(path.get_ref())
                        .map_err(|m| err(format!("ws_connect: {m}")))?,
                    headers,
                    auth: raw.auth.unwrap_or(true),
                    latency_from: raw.latency_from,
                },
                format!("WS {socket} connect"),
            )
        } else if let Some(message) = raw.ws_send.take() {
            only("ws_send", &["ws_send", "every", "reply"])?;
            let message = match message.into_inner() {
                toml::Value::String(text) => WsMessage::Text(Template::parse(&text).map_err(|m| {
                    let hint = if text.trim_start().starts_with('{') {
                        " (for JSON, give the message as a table, ws_send = { type = \"ping\" }, or write `{{` and `}}` for literal braces)"
                    } else {
                        ""
                    };
                    err(format!("ws_send: {m}{hint}"))
                })?),
                other => {
                    let json = serde_json::to_value(other).unwrap_or_default();
                    WsMessage::Json(
                        JsonTemplate::parse(&json).map_err(|m| err(format!("ws_send: {m}")))?,
                    )
                }
            };
            let every = raw
                .every
                .map(|t| parse_duration(&t).map_err(|m| err(format!("every: {m}"))))
                .transpose()?;
            if every.is_some_and(|t| t.is_zero()) {
                return Err(err("every: must be more than 0".into()));
            }
            let reply = raw.reply.map(|m| matcher(m, "reply")).transpose()?;
            (
                WsAction::Send {
                    message,
                    every,
                    reply,
                },
                format!("WS {socket} send"),
            )
        } else if let Some(wanted) = raw.ws_await.take() {
            only("ws_await", &["ws_await"])?;
            (
                WsAction::Await(matcher(wanted.into_inner(), "ws_await")?),
                format!("WS {socket} await"),
            )
        } else {
            let closed = raw.ws_close.take().expect("one ws key is given");
            only("ws_close", &["ws_close"])?;
            if timeout.is_some() {
                return Err(err("a ws_close step takes no `timeout`".into()));
            }
            // `ws_close = "feed"` names the socket itself.
            let socket = if closed.get_ref().is_empty() {
                socket
            } else {
                closed.into_inner()
            };
            return Ok(Ws {
                name: raw.name.unwrap_or_else(|| format!("WS {socket} close")),
                socket,
                action: WsAction::Close,
                timeout: None,
                line,
            });
        };
        Ok(Ws {
            name: raw.name.unwrap_or(default_name),
            socket,
            action,
            timeout,
            line,
        })
    }

    fn request(&self, mut raw: RawRequest, field: &str) -> Result<Request, ScenarioError> {
        let Some(path) = raw.path.take() else {
            return Err(self.error(
                self.line_of_table(field),
                format!("{field}: missing field `path`"),
            ));
        };
        let line = self.line_of(path.span().start);
        let err = |m: String| self.error(line, format!("{field}: {m}"));
        for (present, key) in [
            (raw.think.is_some(), "think"),
            (raw.set.is_some(), "set"),
            (raw.steps.is_some(), "steps"),
            (raw.counter.is_some(), "counter"),
            (raw.ws_connect.is_some(), "ws_connect"),
            (raw.ws_send.is_some(), "ws_send"),
            (raw.ws_await.is_some(), "ws_await"),
            (raw.ws_close.is_some(), "ws_close"),
        ] {
            if present {
                return Err(err(format!(
                    "`{key}` belongs to flow steps ([[hammer.flows.steps]])"
                )));
            }
        }
        for (present, key) in [
            (raw.socket.is_some(), "socket"),
            (raw.every.is_some(), "every"),
            (raw.reply.is_some(), "reply"),
            (raw.timeout.is_some(), "timeout"),
            (raw.latency_from.is_some(), "latency_from"),
        ] {
            if present {
                return Err(err(format!(
                    "`{key}` belongs to WebSocket steps (ws_connect, ws_send, ws_await)"
                )));
            }
        }
        let repeat = match raw.repeat.take().map(Spanned::into_inner) {
            None => 1,
            Some(RawRepeat::Times(n)) => n,
            Some(RawRepeat::Range(text)) => {
                return Err(err(format!(
                    "repeat `{text}`: a range is for flow steps; a seed step repeats a fixed count"
                )))
            }
        };
        let method = raw
            .method
            .unwrap_or_else(|| "GET".into())
            .to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(err(format!("method `{method}` is not an HTTP method")));
        }
        if !path.get_ref().starts_with('/') {
            return Err(err(format!(
                "path `{}` must start with `/`",
                path.get_ref()
            )));
        }
        let pairs = |map: BTreeMap<String, String>,
                     what: &str|
         -> Result<Vec<(String, Template)>, ScenarioError> {
            map.into_iter()
                .map(|(k, v)| {
                    Template::parse(&v)
                        .map(|t| (k.clone(), t))
                        .map_err(|m| err(format!("{what}.{k}: {m}")))
                })
                .collect()
        };
        let bodies = [raw.json.is_some(), raw.form.is_some(), raw.body.is_some()];
        if bodies.iter().filter(|&&b| b).count() > 1 {
            return Err(err("give only one of json, form and body".into()));
        }
        let (body, content_type) = if let Some(json) = raw.json {
            let value = serde_json::to_value(json).map_err(|e| err(format!("json: {e}")))?;
            (
                Body::Json(JsonTemplate::parse(&value).map_err(|m| err(format!("json: {m}")))?),
                Some("application/json"),
            )
        } else if let Some(form) = raw.form {
            (
                Body::Form(pairs(form, "form")?),
                Some("application/x-www-form-urlencoded"),
            )
        } else if let Some(text) = raw.body {
            (
                Body::Raw(Template::parse(&text).map_err(|m| err(format!("body: {m}")))?),
                None,
            )
        } else {
            (Body::None, None)
        };
        let content_type = raw.content_type.or(content_type.map(str::to_string));
        let exists_when =
            match raw.exists_when {
                None => None,
                Some(_) if raw.exists.is_empty() => {
                    return Err(err(
                        "exists_when needs `exists` (the statuses it refines)".into()
                    ))
                }
                Some(RawBodyMatch {
                    contains: Some(text),
                    pointer: None,
                    equals: None,
                }) if !text.is_empty() => Some(BodyMatch::Contains(text)),
                Some(RawBodyMatch {
                    contains: None,
                    pointer: Some(pointer),
                    equals,
                }) if pointer.is_empty() || pointer.starts_with('/') => Some(BodyMatch::Pointer {
                    pointer,
                    equals: equals.map(|v| serde_json::to_value(v).unwrap_or_default()),
                }),
                Some(_) => return Err(err(
                    "exists_when: give `contains = \"text\"`, or `pointer = \"/json/pointer\"` \
                     (with `equals` for a value)"
                        .into(),
                )),
            };
        let checks = raw
            .checks
            .into_iter()
            .map(|c| {
                let pointer = match (c.pointer, &c.cookie) {
                    (Some(p), None) => p,
                    (None, Some(_)) if c.equals.is_none() => String::new(),
                    _ => {
                        return Err(err(
                            "checks: give `pointer` (with `equals` or `exists`) or `cookie` \
                             (with `exists`)"
                                .into(),
                        ))
                    }
                };
                if !(pointer.is_empty() || pointer.starts_with('/')) {
                    return Err(err(format!(
                        "checks: pointer `{pointer}` must be empty or start with `/`"
                    )));
                }
                let equals = c
                    .equals
                    .map(|v| {
                        let value = serde_json::to_value(v).unwrap_or_default();
                        JsonTemplate::parse(&value).map_err(|m| err(format!("checks: equals: {m}")))
                    })
                    .transpose()?;
                Ok(Check {
                    pointer,
                    cookie: c.cookie,
                    equals,
                    exists: c.exists,
                })
            })
            .collect::<Result<_, _>>()?;
        for pointer in raw.capture.values().chain(raw.append.values()) {
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                return Err(err(format!(
                    "JSON pointer `{pointer}` must be empty or start with `/`"
                )));
            }
        }
        let max_latency = raw
            .max_latency
            .map(|d| parse_duration(&d).map_err(|m| err(format!("max_latency: {m}"))))
            .transpose()?;
        let name = raw
            .name
            .unwrap_or_else(|| format!("{method} {}", path.get_ref()));
        Ok(Request {
            name,
            method,
            path: Template::parse(path.get_ref()).map_err(|m| err(format!("path: {m}")))?,
            query: pairs(raw.query, "query")?,
            headers: pairs(raw.headers, "headers")?,
            body,
            content_type,
            expect: raw.expect,
            exists: raw.exists,
            exists_when,
            capture: raw.capture.into_iter().collect(),
            append: raw.append.into_iter().collect(),
            remove: raw.remove,
            checks,
            max_latency,
            weight: raw.weight.unwrap_or(1),
            repeat,
            auth: raw.auth.unwrap_or(true),
            line,
        })
    }
}

impl RawRequest {
    /// The keys given, by their scenario names.
    fn keys(&self) -> Vec<&'static str> {
        let r = self;
        [
            (r.name.is_some(), "name"),
            (r.method.is_some(), "method"),
            (r.path.is_some(), "path"),
            (!r.query.is_empty(), "query"),
            (!r.headers.is_empty(), "headers"),
            (r.json.is_some(), "json"),
            (r.form.is_some(), "form"),
            (r.body.is_some(), "body"),
            (r.content_type.is_some(), "content_type"),
            (!r.expect.is_empty(), "expect"),
            (!r.exists.is_empty(), "exists"),
            (r.exists_when.is_some(), "exists_when"),
            (!r.capture.is_empty(), "capture"),
            (!r.append.is_empty(), "append"),
            (!r.remove.is_empty(), "remove"),
            (!r.checks.is_empty(), "checks"),
            (r.max_latency.is_some(), "max_latency"),
            (r.weight.is_some(), "weight"),
            (r.repeat.is_some(), "repeat"),
            (r.auth.is_some(), "auth"),
            (r.think.is_some(), "think"),
            (r.set.is_some(), "set"),
            (r.counter.is_some(), "counter"),
            (r.steps.is_some(), "steps"),
            (r.ws_connect.is_some(), "ws_connect"),
            (r.ws_send.is_some(), "ws_send"),
            (r.ws_await.is_some(), "ws_await"),
            (r.ws_close.is_some(), "ws_close"),
            (r.socket.is_some(), "socket"),
            (r.every.is_some(), "every"),
            (r.reply.is_some(), "reply"),
            (r.timeout.is_some(), "timeout"),
            (r.latency_from.is_some(), "latency_from"),
        ]
        .into_iter()
        .filter_map(|(present, key)| present.then_some(key))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
base_url = "http://127.0.0.1:8080"

[seed]
users = 3

[seed.login]
method = "POST"
path = "/api/v1/auth/login"
json = { email = "{user}", password = "{password}" }
capture = { token = "/access_token" }

[[seed.setup]]
repeat = 20
method = "POST"
path = "/api/v1/tasks/"
json = { title = "Task {i}" }
append = { task_ids = "/id" }

[hammer]
think = "1s..3s"

[[hammer.requests]]
name = "GET /api/v1/tasks/{id}"
weight = 30
path = "/api/v1/tasks/{var:task_ids}"
"#;

    #[test]
    fn loads_a_scenario() {
        let s = Scenario::parse(GOOD, "t.toml").unwrap();
        let seed = s.seed.unwrap();
        assert_eq!(seed.users, 3);
        assert_eq!(seed.setup[0].repeat, 20);
        let hammer = s.hammer.unwrap();
        assert_eq!(hammer.requests[0].name, "GET /api/v1/tasks/{id}");
        assert_eq!(hammer.requests[0].needed_vars(), vec!["task_ids"]);
        assert_eq!(hammer.requests[0].line, 26);
    }

    #[test]
    fn a_typo_names_file_and_line() {
        let bad = GOOD.replace("weight = 30", "wieght = 30");
        let err = Scenario::parse(&bad, "t.toml").unwrap_err();
        assert_eq!(err.line, 25, "{err}");
        assert!(err.to_string().starts_with("t.toml:25: "), "{err}");
        assert!(err.message.contains("wieght"), "{err}");
    }

    #[test]
    fn bad_toml_and_bad_templates_name_the_line() {
        let err = Scenario::parse("base_url = \"http://x\"\n[seed\n", "t.toml").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let bad = GOOD.replace("{var:task_ids}", "{var:task_ids");
        let err = Scenario::parse(&bad, "t.toml").unwrap_err();
        assert_eq!(err.line, 26, "{err}");
        assert!(err.message.contains("hammer.requests[0]: path"), "{err}");
    }

    const WS_FLOW: &str = r#"
[hammer]
[hammer.websocket]
stagger_every = 10
stagger_wait = "100ms"
max_connections = 60

[[hammer.requests]]
path = "/health"

[[hammer.flows]]
name = "subscriber"
vus = 5
[[hammer.flows.steps]]
ws_connect = "/api/v1/ws?token={token}"
socket = "feed"
latency_from = "/ts"
[[hammer.flows.steps]]
ws_send = { type = "subscribe", taskId = "{var:task_ids}" }
socket = "feed"
every = "2s"
reply = { "/type" = "subscribed" }
timeout = "3s"
"#;

    #[test]
    fn websocket_steps_parse() {
        let s = Scenario::parse(WS_FLOW, "t.toml").unwrap();
        let h = s.hammer.unwrap();
        assert_eq!(
            h.websocket,
            WsSettings {
                stagger_every: 10,
                stagger_wait: Duration::from_millis(100),
                max_connections: 60
            }
        );
        let flow = &h.flows[0];
        assert_eq!((flow.vus, flow.weight), (Some(5), 0));
        let Step::Ws(connect) = &flow.steps[0] else {
            panic!("a ws step")
        };
        assert_eq!(
            (connect.socket.as_str(), connect.name.as_str()),
            ("feed", "WS feed connect")
        );
        assert_eq!(connect.line, 15);
        assert!(
            matches!(&connect.action, WsAction::Connect { latency_from: Some(p), auth: true, .. } if p == "/ts")
        );
        let Step::Ws(send) = &flow.steps[1] else {
            panic!("a ws step")
        };
        assert_eq!(send.timeout, Some(Duration::from_secs(3)));
        let WsAction::Send {
            every,
            reply,
            message,
        } = &send.action
        else {
            panic!("a send")
        };
        assert_eq!(*every, Some(Duration::from_secs(2)));
        assert_eq!(reply.as_ref().unwrap().0[0].0, "/type");
        assert!(matches!(message, WsMessage::Json(_)));
        assert_eq!(send.templates().len(), 1, "taskId is the one placeholder");
    }

    #[test]
    fn websocket_mistakes_name_the_line() {
        let cases = [
            ("ws_connect = \"/api/v1/ws?token={token}\"\nsocket = \"feed\"\nlatency_from = \"/ts\"", "ws_connect = \"/ws\"\npath = \"/x\"", "a ws_connect step takes no `path`"),
            ("every = \"2s\"", "every = \"0s\"", "every: must be more than 0"),
            ("reply = { \"/type\" = \"subscribed\" }", "reply = { \"type\" = \"subscribed\" }", "not a JSON pointer"),
            ("vus = 5", "vus = 5\nweight = 2", "it takes no `weight`"),
            ("ws_connect = \"/api/v1/ws?token={token}\"", "ws_connect = \"ws://x/y\"", "must be a path starting with `/`"),
            ("max_connections = 60", "max_connections = 0", "max_connections: must be at least 1"),
        ];
        for (from, to, wanted) in cases {
            let text = WS_FLOW.replacen(from, to, 1);
            assert_ne!(text, WS_FLOW, "{from}");
            let err = Scenario::parse(&text, "t.toml").unwrap_err();
            assert!(err.to_string().contains(wanted), "{from} → {to}: {err}");
            assert!(err.line > 0, "{err}");
        }
        let err = Scenario::parse(
            &WS_FLOW.replace(
                "[[hammer.requests]]\npath = \"/health\"",
                "[[hammer.requests]]\npath = \"/health\"\nsocket = \"feed\"",
            ),
            "t.toml",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("belongs to WebSocket steps"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod shipped {
    #[test]
    fn every_shipped_scenario_loads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                super::Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
                seen += 1;
            }
        }
        assert!(seen >= 1);
    }
}
