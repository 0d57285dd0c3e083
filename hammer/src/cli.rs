//! The command line (`Args`, as clap parses it) and the settings it resolves
//! to (`Config`), with the scenario's `[hammer]` values as defaults and the
//! flags winning over them.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use records::scenario::{Body, Flow, Request, Step};
use records::template::Template;
use records::{bad_input, parse_duration, workload, Scenario, Shard};

use crate::client::{ClientOptions, Target};
use crate::pacer::Pacer;
use crate::stages::{Stages, FOREVER};
use crate::vu::Think;

const AFTER_HELP: &str = concat!(
    "\
Examples:
  seed -s scenarios/tasktracker.toml --users 50 \\
    | hammer -s scenarios/tasktracker.toml --vus 50 --duration 1m | aggregate
  hammer -s scenarios/tasktracker.toml --users-file users.ndjson --stages 30s:50,1m:50,10s:0
  hammer -s scenarios/tasktracker.toml --users-file users.ndjson --rate 200 --duration 30s
  hammer --url http://127.0.0.1:8080/health --vus 50 --duration 10s > events.ndjson

stdout carries one Event (NDJSON) per request; stderr a live line when it is
a terminal and a closing summary: requests and rate over the load window (the
duration or stages), the drain of requests still in flight after it, errors,
and in the open model what became of every arrival:
  hammer: 2500 requests in 5.00s (500.0 req/s), drain 1.20s, 0 errors (0.00%),
    2500 scheduled = 2500 sent + 0 dropped + 0 cancelled
(dropped: every VU busy; cancelled: due after a signal stopped the run). In
the closed model, VUs whose turn came in the stages but that never ran (a
spike shorter than the timer, a starved generator) are counted as
`N VUs not started`. When hammer's worker threads need more than ~90% of
their cores for 3 s it warns that it is CPU-bound. Exit 3 means the target
was unreachable at start, or TLS with it failed (one line names the
certificate problem).

",
    records::exit_status_help!()
);

/// Drive an HTTP load from seeded users and write one Event per request.
#[derive(Debug, Parser)]
#[command(name = "hammer", version, about, after_help = AFTER_HELP)]
#[command(group(clap::ArgGroup::new("spawning").multiple(true)))]
pub struct Args {
    /// Scenario file whose [hammer] section gives the request mix.
    #[arg(
        short = 's',
        long,
        value_name = "FILE",
        required_unless_present = "url"
    )]
    pub scenario: Option<PathBuf>,

    /// Base URL of the target; overrides the scenario's base_url.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    /// User records (NDJSON, as seed writes them); stdin when the scenario needs users.
    #[arg(long, value_name = "FILE")]
    pub users_file: Option<String>,

    /// Not hammer's flag: `--users N` is seed's count of users to create;
    /// given to hammer it is an error that names what hammer takes instead.
    #[arg(long, value_name = "N", hide = true)]
    pub users: Option<String>,

    /// Ad-hoc mode: hit this one URL, no scenario (events are named `METHOD /path`).
    #[arg(long, value_name = "URL", conflicts_with_all = ["scenario", "target"])]
    pub url: Option<String>,

    /// Ad-hoc mode: the request method.
    #[arg(
        short = 'X',
        long,
        value_name = "METHOD",
        default_value = "GET",
        requires = "url"
    )]
    pub method: String,

    /// Ad-hoc mode: a request header, `Name: value` (repeatable). A `Host`
    /// header replaces the URL's (a virtual host reached by address).
    #[arg(
        short = 'H',
        long = "header",
        value_name = "NAME: VALUE",
        requires = "url"
    )]
    pub headers: Vec<String>,

    /// Ad-hoc mode: the request body.
    #[arg(
        long,
        value_name = "TEXT",
        requires = "url",
        conflicts_with = "body_file"
    )]
    pub body: Option<String>,

    /// Ad-hoc mode: read the request body from a file.
    #[arg(long, value_name = "FILE", requires = "url")]
    pub body_file: Option<PathBuf>,

    /// How long to run (default 30s, or until --requests/--iterations are done).
    #[arg(short = 'd', long, value_name = "DURATION")]
    pub duration: Option<String>,

    /// Closed model: this many virtual users, each with its own connection (default 1).
    #[arg(long, value_name = "N", conflicts_with_all = ["stages", "spawn_users"])]
    pub vus: Option<u64>,

    /// Closed model: ramp the VU count linearly between targets, k6-style.
    #[arg(long, value_name = "DURATION:VUS,...", conflicts_with_all = ["duration", "spawn_users"])]
    pub stages: Option<String>,

    /// Closed model, Locust-style: start this many users at --spawn-rate, then hold them.
    #[arg(long, value_name = "N", requires = "spawn_rate", group = "spawning")]
    pub spawn_users: Option<u64>,

    /// Locust-style: users started per second (with --spawn-users or a --preset).
    #[arg(long, value_name = "USERS/s", requires = "spawning")]
    pub spawn_rate: Option<f64>,

    /// A standard load, users started at 10/s then held (Locust-style);
    /// --vus, --stages, --spawn-users, --rate, --duration, --spawn-rate override
    /// its parts.
    #[arg(long, value_enum, value_name = "NAME", group = "spawning")]
    pub preset: Option<Preset>,

    /// Open model: arrivals at this rate, whatever the target's speed: `500`
    /// or `500/s` (per second), `30000/m`, `10000/h`.
    #[arg(long, value_name = "RATE", conflicts_with_all = ["vus", "stages", "spawn_users", "rate_stages"])]
    pub rate: Option<String>,

    /// Open model: ramp the arrival rate linearly between targets (from 0);
    /// targets are rates as for --rate (`10s:100,30s:30000/m`).
    #[arg(long, value_name = "DURATION:N/s,...", conflicts_with_all = ["vus", "stages", "spawn_users", "duration"])]
    pub rate_stages: Option<String>,

    /// Open model: at most this many requests in flight (over all shards, each
    /// holding its share); arrivals beyond are counted as dropped.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_vus: u64,

    /// Requests per VU, then it stops.
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,

    /// Requests in all, then the run stops (with no think time: a burst).
    #[arg(short = 'n', long, value_name = "N")]
    pub requests: Option<u64>,

    /// Think time between a VU's requests: `1s..3s` (uniform), `2s`, or `0s`.
    #[arg(long, value_name = "MIN..MAX")]
    pub think: Option<String>,

    /// Per-request timeout, connecting included (default 10s or the scenario's).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Timeout for making a connection.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub connect_timeout: String,

    /// Longest response body read; longer ones are `body` errors.
    #[arg(long, value_name = "BYTES", default_value = "10M")]
    pub max_body: String,

    /// A new connection for every request.
    #[arg(long)]
    pub no_keepalive: bool,

    /// Local addresses to open connections from, in turn: a list
    /// (`127.0.0.2,127.0.0.3`) or a range (`127.0.0.1-127.0.0.8`). Each
    /// address has its own ephemeral ports, so more than ~28,000
    /// connections to one target need several (k6's --local-ips).
    #[arg(long, value_name = "IPS")]
    pub local_ips: Option<String>,

    /// Speak HTTP/2 (prior knowledge over http://, ALPN over https://,
    /// falling back to HTTP/1.1 when the server offers only that); events
    /// say `"proto":"h2"`.
    #[arg(long)]
    pub http2: bool,

    /// Worker threads, each with its own runtime (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// On SIGINT/SIGTERM or at the end, wait this long for requests in flight (the drain).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub grace: String,

    /// Write events to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Show the live line even when stderr is not a terminal.
    #[arg(long, conflicts_with = "quiet")]
    pub progress: bool,

    /// No live line and no summary on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Seed for the random choices (request mix, think times, template values).
    #[arg(long, value_name = "N")]
    pub random_seed: Option<u64>,

    /// Most values each user's list var keeps (the IDs `append` collects,
    /// e.g. the tasks POSTs created): appending to a full list drops its
    /// oldest value, so a run that keeps creating holds bounded memory. A
    /// list the users file gives longer does not grow. 0 keeps every value.
    #[arg(long, value_name = "N", default_value_t = crate::vu::DEFAULT_LIST_MAX)]
    pub list_max: usize,

    /// Run only the named requests and flows of the scenario's mix (repeat
    /// the flag for several), each keeping its weight among those chosen.
    #[arg(long, value_name = "NAME", conflicts_with = "url")]
    pub only: Vec<String>,

    /// A smoke test before the load: run every request and flow of the mix
    /// once, in order, for the first user; a PASS/FAIL line per step with its
    /// reason and `N passed, M failed`; exit 1 if any failed. The requests are
    /// real (a list pick takes the newest value: a delete after a create removes
    /// what the check made); events only with -o FILE.
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,

    /// Check the scenario without a target: parse it, render every template
    /// with placeholder values, and report vars no step makes, flow values
    /// used before they are set, and the like (file and line); exit 2 if any.
    #[arg(long, requires = "scenario", conflicts_with = "url")]
    pub dry_run: bool,

    /// Run shard I of N (from 0) of one many-machine run: VU j, arrival k and
    /// request k are shard (j or k) mod N's, so N shards are the single run.
    #[arg(long, value_name = "I/N", conflicts_with = "shards")]
    pub shard: Option<String>,

    /// Run one of N shards, its index I from $JOB_COMPLETION_INDEX (a
    /// Kubernetes Indexed Job's), so every pod has the same command line.
    #[arg(long, value_name = "N")]
    pub shards: Option<u64>,

    /// Start the load at this wall-clock instant (RFC 3339, e.g.
    /// 2026-12-03T15:00:00Z, or Unix seconds), so every shard's window is the
    /// same; more than 1s past it already is exit 2.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,

    /// Last, as its help heading holds for the flags after it.
    #[command(flatten)]
    pub tls: records::tls::TlsArgs,
}

/// seed 000's test configurations (the TaskTracker suite this project
/// reproduces), as `--preset` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// 30 users for 30s: a baseline.
    Quick,
    /// 50 users for 1m.
    Standard,
    /// 100 users for 5m: normal usage.
    Medium,
    /// 200 users for 10m: high load.
    Stress,
    /// 100 users for 30m: stability.
    Endurance,
}

impl Preset {
    /// Users started per second, as in seed 000.
    pub const SPAWN_RATE: f64 = 10.0;

    /// Its users and how long it holds them.
    pub fn load(self) -> (u64, Duration) {
        let (users, secs) = match self {
            Preset::Quick => (30, 30),
            Preset::Standard => (50, 60),
            Preset::Medium => (100, 5 * 60),
            Preset::Stress => (200, 10 * 60),
            Preset::Endurance => (100, 30 * 60),
        };
        (users, Duration::from_secs(secs))
    }

    /// Fills in the flags the command line left out.
    fn apply(self, args: &mut Args) {
        let (users, length) = self.load();
        let shaped = args.vus.is_some()
            || args.stages.is_some()
            || args.spawn_users.is_some()
            || args.rate.is_some()
            || args.rate_stages.is_some();
        if !shaped {
            args.spawn_users = Some(users);
            args.spawn_rate = Some(args.spawn_rate.unwrap_or(Preset::SPAWN_RATE));
        }
        if args.duration.is_none() && args.stages.is_none() && args.rate_stages.is_none() {
            args.duration = Some(format!("{}s", length.as_secs()));
        }
    }
}

/// Where User records come from.
#[derive(Clone, Debug, PartialEq)]
pub enum UsersFrom {
    /// Nothing needs a user: one anonymous user.
    Nobody,
    Stdin,
    File(String),
}

#[derive(Debug)]
pub enum Workload {
    Closed {
        stages: Stages,
        iterations: Option<u64>,
        requests: Option<u64>,
    },
    Open {
        pacer: Pacer,
        end: Duration,
        max_vus: u64,
        /// Arrivals in all, across shards: arrival k is sent while k < requests.
        requests: Option<u64>,
    },
}

impl Workload {
    /// When arrivals or VUs stop by schedule.
    pub fn end(&self) -> Duration {
        match self {
            Workload::Closed { stages, .. } => stages.end(),
            Workload::Open { end, .. } => *end,
        }
    }

    /// The most VUs the run (closed model: all shards) can have.
    pub fn peak_vus(&self) -> u64 {
        match self {
            Workload::Closed { stages, .. } => stages.peak().ceil() as u64,
            Workload::Open { max_vus, .. } => *max_vus,
        }
    }

    /// The most VUs `shard` can have: its share of the closed model's peak
    /// (the open model's `max_vus` is the shard's already).
    pub fn shard_vus(&self, shard: Shard) -> u64 {
        match self {
            Workload::Closed { .. } => shard.share(self.peak_vus()),
            Workload::Open { max_vus, .. } => *max_vus,
        }
    }
}

/// Everything a run needs, resolved.
#[derive(Debug)]
pub struct Config {
    pub target: Arc<Target>,
    pub requests: Vec<Request>,
    pub flows: Vec<Flow>,
    /// `[hammer.websocket]`: connection stagger and cap.
    pub websocket: records::scenario::WsSettings,
    /// The scenario's `[[teardown]]`, run per seeded user after the load.
    pub teardown: Vec<Step>,
    pub refresh: Option<Request>,
    pub login: Option<Request>,
    pub refresh_before: Duration,
    pub reauth_on: Vec<u16>,
    /// `--check`: each entry once, no load.
    pub check: bool,
    pub users: UsersFrom,
    pub workload: Workload,
    pub think: Think,
    pub client: ClientOptions,
    pub threads: usize,
    pub grace: Duration,
    pub output: Option<PathBuf>,
    pub live: bool,
    pub terminal: bool,
    pub quiet: bool,
    pub random_seed: u64,
    /// `--list-max`.
    pub list_max: usize,
    pub shard: Shard,
    /// `--start-at`, Unix epoch ns.
    pub start_at: Option<u64>,
}

fn duration(name: &str, text: &str) -> anyhow::Result<Duration> {
    flag(name, parse_duration(text))
}

/// A flag's value from the shared parser, its error naming the flag.
fn flag<T>(name: &str, parsed: Result<T, String>) -> anyhow::Result<T> {
    parsed.map_err(|e| bad_input(format!("{name}: {e}")))
}

/// `10M`, `64k`, `1G` or plain bytes (powers of 1024).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, scale) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (t, 1),
        Some((at, _)) => {
            let scale = match t[at..]
                .to_ascii_lowercase()
                .trim_end_matches("ib")
                .trim_end_matches('b')
            {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                unit => return Err(format!("`{text}`: unknown unit `{unit}`; use k, M or G")),
            };
            (&t[..at], scale)
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 10M"))?;
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))
}

fn escape_braces(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

/// The one request of ad-hoc mode.
fn adhoc_request(args: &Args, url: &str) -> anyhow::Result<(String, Request)> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| bad_input(format!("--url `{url}`: {e}")))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(bad_input(format!(
            "--url `{url}` needs http:// or https:// and a host"
        )));
    };
    let base = format!("{scheme}://{authority}");
    let path = if uri.path().is_empty() {
        "/"
    } else {
        uri.path()
    };
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let method = args.method.to_ascii_uppercase();
    http::Method::from_bytes(method.as_bytes())
        .map_err(|_| bad_input(format!("--method `{}` is not an HTTP method", args.method)))?;
    let template =
        |text: &str| Template::parse(&escape_braces(text)).expect("escaped text is a literal");
    let mut headers = Vec::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| bad_input(format!("--header `{h}` should read `Name: value`")))?;
        let name = name.trim();
        http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad_input(format!("--header `{h}`: `{name}` is not a header name")))?;
        headers.push((name.to_string(), template(value.trim())));
    }
    let body = match (&args.body, &args.body_file) {
        (Some(text), _) => Body::Raw(template(text)),
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| bad_input(format!("--body-file {}: {e}", file.display())))?;
            Body::Raw(template(&text))
        }
        (None, None) => Body::None,
    };
    let request = Request {
        name: format!("{method} {path}"),
        method,
        path: template(path_and_query),
        query: Vec::new(),
        headers,
        body,
        content_type: None,
        expect: Vec::new(),
        exists: Vec::new(),
        exists_when: None,
        capture: Vec::new(),
        append: Vec::new(),
        remove: Vec::new(),
        checks: Vec::new(),
        max_latency: None,
        weight: 1,
        repeat: 1,
        auth: false,
        line: 0,
    };
    Ok((base, request))
}

/// The error for `hammer --users`: in every tool `--users` is a count of
/// users to create (seed's); hammer's VUs and users file have their own flags.
fn not_hammers_users(value: &str) -> String {
    if value.trim().parse::<u64>().is_ok() {
        format!(
            "--users {value}: --users is seed's count of users to create; hammer runs \
             {value} virtual users with --vus {value} (or --spawn-users {value} --spawn-rate R) \
             and reads seed's user records with --users-file FILE"
        )
    } else {
        format!(
            "--users {value}: hammer reads user records with --users-file {value} \
             (--users N is seed's count of users to create)"
        )
    }
}

/// `--only`: keeps the named requests and flows of the mix; a name that is
/// neither is an error listing what there is.
fn only(
    hammer: &mut records::scenario::Hammer,
    names: &[String],
    file: &str,
) -> anyhow::Result<()> {
    for name in names {
        let known = hammer.requests.iter().any(|r| &r.name == name)
            || hammer.flows.iter().any(|f| &f.name == name);
        if !known {
            let all: Vec<String> = hammer
                .requests
                .iter()
                .map(|r| format!("`{}`", r.name))
                .chain(hammer.flows.iter().map(|f| format!("flow `{}`", f.name)))
                .collect();
            return Err(bad_input(format!(
                "--only `{name}`: {file} has no request or flow of that name; it has {}",
                all.join(", ")
            )));
        }
    }
    hammer.requests.retain(|r| names.contains(&r.name));
    hammer.flows.retain(|f| names.contains(&f.name));
    let own_vus = hammer.flows.iter().any(|f| f.vus.is_some());
    if !own_vus
        && hammer
            .requests
            .iter()
            .map(|r| r.weight)
            .chain(hammer.flows.iter().map(|f| f.weight))
            .all(|w| w == 0)
    {
        return Err(bad_input(
            "--only: every chosen request and flow has weight 0",
        ));
    }
    Ok(())
}

/// Whether any request (single, in a flow or in the teardown) needs
/// something only a seeded user has.
fn needs_users(requests: &[Request], flows: &[Flow], teardown: &[Step], has_auth: bool) -> bool {
    let mut all: Vec<&Request> = requests.iter().collect();
    for flow in flows {
        Step::each_request(&flow.steps, &mut |r| all.push(r));
    }
    Step::each_request(teardown, &mut |r| all.push(r));
    has_auth
        || !teardown.is_empty()
        || all.iter().any(|r| {
            r.templates()
                .iter()
                .any(|t| t.vars().next().is_some() || t.uses_token())
        })
}

impl Config {
    pub fn resolve(mut args: Args) -> anyhow::Result<Config> {
        if let Some(value) = &args.users {
            return Err(bad_input(not_hammers_users(value)));
        }
        if let Some(preset) = args.preset {
            preset.apply(&mut args);
        }
        if args.spawn_rate.is_some() && args.spawn_users.is_none() {
            return Err(bad_input(
                "--spawn-rate: this load has no users to spawn (--vus, --stages or --rate shape it)",
            ));
        }
        let (base, requests, hammer, scenario): (_, _, records::scenario::Hammer, _) = if let Some(
            url,
        ) =
            &args.url
        {
            let (base, request) = adhoc_request(&args, url)?;
            (base, vec![request], Default::default(), None)
        } else {
            let file = args.scenario.as_ref().expect("clap requires -s or --url");
            let scenario = Scenario::load(file).map_err(|e| bad_input(e.to_string()))?;
            let hammer: records::scenario::Hammer = scenario
                .hammer
                .clone()
                .ok_or_else(|| bad_input(format!("{}: no [hammer] section", scenario.file)))?;
            if hammer.requests.is_empty() && hammer.flows.is_empty() {
                return Err(bad_input(format!(
                    "{}: [hammer] has no requests or flows; add [[hammer.requests]] or [[hammer.flows]]",
                    scenario.file
                )));
            }
            let base = scenario.target(args.target.as_deref()).map_err(bad_input)?;
            let mut hammer = hammer;
            if !args.only.is_empty() {
                only(&mut hammer, &args.only, &scenario.file)?;
            }
            (base, hammer.requests.clone(), hammer, Some(scenario))
        };
        let target = Target::parse(&base).map_err(bad_input)?;
        let shard = Shard::from_flags(args.shard.as_deref(), args.shards, |name| {
            std::env::var(name).ok()
        })
        .map_err(bad_input)?;
        let start_at = args
            .start_at
            .as_deref()
            .map(|t| flag("--start-at", records::units::parse_time(t)))
            .transpose()?;
        let login = hammer.auth.login.clone().or_else(|| {
            hammer.auth.refresh.as_ref().and(
                scenario
                    .as_ref()
                    .and_then(|s| s.seed.as_ref()?.login.clone()),
            )
        });
        let refresh = hammer.auth.refresh.clone();
        let has_auth = refresh.is_some() || hammer.auth.login.is_some();
        let teardown = scenario
            .as_ref()
            .map(|s| s.teardown.clone())
            .unwrap_or_default();
        let users = match &args.users_file {
            Some(file) => UsersFrom::File(file.clone()),
            None if args.url.is_none()
                && needs_users(&requests, &hammer.flows, &teardown, has_auth) =>
            {
                UsersFrom::Stdin
            }
            None => UsersFrom::Nobody,
        };

        // Workload: flags first, then the scenario's values (already checked
        // where the scenario was read); the flags go through the same parsers.
        let flag_duration = args
            .duration
            .as_deref()
            .map(|d| flag("--duration", workload::run_length(d)))
            .transpose()?;
        let limited = args.requests.is_some() || args.iterations.is_some();
        let run_for = flag_duration.or(hammer.duration).unwrap_or(if limited {
            FOREVER
        } else {
            Duration::from_secs(30)
        });
        let closed_flags =
            args.vus.is_some() || args.stages.is_some() || args.spawn_users.is_some();
        let open = args.rate.is_some()
            || args.rate_stages.is_some()
            || (!closed_flags && (hammer.rate.is_some() || hammer.rate_stages.is_some()));
        let workload = if open {
            let rate = match (&args.rate, &args.rate_stages) {
                (Some(rate), _) => {
                    Stages::constant(flag("--rate", workload::parse_rate(rate))?, run_for)
                }
                (None, Some(text)) => {
                    Stages::new(0.0, &flag("--rate-stages", workload::parse_stages(text))?)
                }
                (None, None) => match (hammer.rate, &hammer.rate_stages) {
                    (Some(rate), _) => Stages::constant(rate, run_for),
                    (None, Some(stages)) => Stages::new(0.0, stages),
                    (None, None) => unreachable!("open model has a rate"),
                },
            };
            if args.max_vus == 0 {
                return Err(bad_input("--max-vus must be at least 1"));
            }
            Workload::Open {
                end: rate.end(),
                pacer: Pacer::new(rate),
                max_vus: shard.share(args.max_vus).max(1),
                requests: args.requests,
            }
        } else {
            let stages = if let Some(text) = &args.stages {
                Stages::new(0.0, &flag("--stages", workload::parse_stages(text))?)
            } else if let (Some(users), Some(rate)) = (args.spawn_users, args.spawn_rate) {
                let rate = flag("--spawn-rate", workload::positive_rate(rate))?;
                Stages::spawn(users as f64, rate, run_for)
            } else if let Some(vus) = args.vus {
                Stages::constant(vus as f64, run_for)
            } else if let Some(stages) = &hammer.stages {
                Stages::new(0.0, stages)
            } else if let (Some(users), Some(rate)) = (hammer.users, hammer.spawn_rate) {
                Stages::spawn(users as f64, rate, run_for)
            } else {
                Stages::constant(hammer.vus.unwrap_or(1) as f64, run_for)
            };
            if stages.peak() < 1.0 {
                return Err(bad_input("the run needs at least one VU"));
            }
            if shard.share(stages.peak().ceil() as u64) == 0 {
                return Err(bad_input(format!(
                    "shard {shard} has no VU: the run peaks at {} VUs, fewer than its {} shards",
                    stages.peak().ceil(),
                    shard.count
                )));
            }
            Workload::Closed {
                stages,
                iterations: args.iterations,
                // Only requests started count, so each shard starts its share.
                requests: args.requests.map(|n| shard.share(n)),
            }
        };

        let think = match &args.think {
            Some(text) => flag("--think", Think::parse(text))?,
            None => hammer.think.unwrap_or_default(),
        };
        let timeout = match &args.timeout {
            Some(t) => duration("--timeout", t)?,
            None => hammer.timeout.unwrap_or(Duration::from_secs(10)),
        };
        let client = ClientOptions {
            timeout,
            connect_timeout: duration("--connect-timeout", &args.connect_timeout)?,
            max_body: parse_bytes(&args.max_body)
                .map_err(|e| bad_input(format!("--max-body: {e}")))?,
            keepalive: !args.no_keepalive,
            http2: args.http2,
            tls: args.tls.load()?,
            local_ips: match &args.local_ips {
                None => Vec::new(),
                Some(text) => {
                    let ips = parse_local_ips(text)
                        .map_err(|e| bad_input(format!("--local-ips `{text}`: {e}")))?;
                    // An address this machine does not have fails here, not
                    // as a connect error on every request.
                    for ip in &ips {
                        std::net::TcpListener::bind((*ip, 0)).map_err(|e| {
                            bad_input(format!(
                                "--local-ips: cannot open connections from {ip}: {e}"
                            ))
                        })?;
                    }
                    ips
                }
            },
            // The open model's latency is the target's: responses are timed
            // by their arrival, not by when a worker woke to read them.
            arrival_stamps: matches!(workload, Workload::Open { .. }),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = args
            .threads
            .unwrap_or(cores)
            .clamp(1, workload.shard_vus(shard).max(1) as usize);
        let terminal = std::io::stderr().is_terminal();
        Ok(Config {
            target: Arc::new(target),
            requests,
            flows: hammer.flows.clone(),
            websocket: hammer.websocket.clone(),
            teardown,
            refresh,
            login,
            refresh_before: hammer
                .auth
                .refresh_before
                .unwrap_or(Duration::from_secs(30)),
            reauth_on: hammer.auth.reauth_on.clone(),
            check: args.check,
            users,
            workload,
            think,
            client,
            threads,
            grace: duration("--grace", &args.grace)?,
            output: args.output,
            live: !args.quiet && (args.progress || terminal),
            terminal,
            quiet: args.quiet,
            random_seed: args.random_seed.unwrap_or_else(rand::random),
            list_max: args.list_max,
            shard,
            start_at,
        })
    }
}

/// `--local-ips`: addresses separated by commas, each an address or an
/// IPv4 range `FIRST-LAST` (at most 65,536 addresses in all).
pub fn parse_local_ips(text: &str) -> Result<Vec<std::net::IpAddr>, String> {
    use std::net::{IpAddr, Ipv4Addr};
    let mut ips = Vec::new();
    for part in text.split(',').map(str::trim) {
        let ip = |s: &str| {
            s.trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("`{s}` is not an IP address"))
        };
        match part.split_once('-') {
            None => ips.push(ip(part)?),
            Some((first, last)) => {
                let (IpAddr::V4(first), IpAddr::V4(last)) = (ip(first)?, ip(last)?) else {
                    return Err(format!("`{part}`: ranges are of IPv4 addresses"));
                };
                let (a, b) = (u32::from(first), u32::from(last));
                if a > b {
                    return Err(format!("`{part}`: the range ends before it starts"));
                }
                if b - a >= 65_536 {
                    return Err(format!("`{part}`: more than 65,536 addresses"));
                }
                ips.extend((a..=b).map(|n| IpAddr::V4(Ipv4Addr::from(n))));
            }
        }
        if ips.len() > 65_536 {
            return Err("more than 65,536 addresses".into());
        }
    }
    Ok(ips)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn local_ips_take_lists_and_ranges() {
        let ips = parse_local_ips("127.0.0.1-127.0.0.3, ::1").unwrap();
        let shown: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
        assert_eq!(shown, ["127.0.0.1", "127.0.0.2", "127.0.0.3", "::1"]);
        for (bad, why) in [
            ("127.0.0.x", "not an IP address"),
            ("127.0.0.5-127.0.0.1", "ends before it starts"),
            ("10.0.0.0-10.2.0.0", "more than 65,536"),
            ("::1-::2", "IPv4"),
        ] {
            let e = parse_local_ips(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    fn resolve(line: &[&str]) -> anyhow::Result<Config> {
        let mut argv = vec!["hammer"];
        argv.extend_from_slice(line);
        Config::resolve(Args::try_parse_from(argv)?)
    }

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn adhoc_mode_names_events_by_method_and_path() {
        let c = resolve(&[
            "--url",
            "http://127.0.0.1:9/a/b?x=1",
            "-X",
            "post",
            "--body",
            "{}",
            "--vus",
            "3",
        ])
        .unwrap();
        assert_eq!(c.requests[0].name, "POST /a/b");
        assert_eq!(c.target.authority, "127.0.0.1:9");
        assert_eq!(c.users, UsersFrom::Nobody);
        assert!(matches!(c.workload, Workload::Closed { .. }));
        assert_eq!(c.workload.end(), Duration::from_secs(30));
        assert_eq!(c.workload.peak_vus(), 3);
    }

    #[test]
    fn workload_flags_resolve() {
        let c = resolve(&[
            "--url",
            "http://127.0.0.1:9/",
            "--rate",
            "200",
            "--duration",
            "5s",
        ])
        .unwrap();
        assert!(matches!(c.workload, Workload::Open { .. }));
        assert_eq!(c.workload.end(), Duration::from_secs(5));
        let c = resolve(&["--url", "http://127.0.0.1:9/", "--requests", "100"]).unwrap();
        assert_eq!(c.workload.end(), FOREVER);
        let c = resolve(&["--url", "http://127.0.0.1:9/", "--stages", "1s:10,1s:0"]).unwrap();
        assert_eq!(c.workload.peak_vus(), 10);
        assert!(resolve(&["--url", "http://127.0.0.1:9/", "--vus", "2", "--rate", "5"]).is_err());
        assert!(resolve(&["--url", "http://127.0.0.1:9/", "--think", "slow"]).is_err());
        assert!(resolve(&["--url", "http://127.0.0.1:9/", "--stages", "1s"]).is_err());
    }

    #[test]
    fn presets_are_seed_000s_table_and_flags_override_them() {
        let url = "http://127.0.0.1:9/";
        for (name, users, secs) in [
            ("quick", 30, 30),
            ("standard", 50, 60),
            ("medium", 100, 300),
            ("stress", 200, 600),
            ("endurance", 100, 1800),
        ] {
            let c = resolve(&["--url", url, "--preset", name]).unwrap();
            assert_eq!(c.workload.peak_vus(), users, "{name}");
            assert_eq!(c.workload.end(), Duration::from_secs(secs), "{name}");
            let Workload::Closed { stages, .. } = &c.workload else {
                panic!("{name}: closed model");
            };
            // started at 10 users a second, then held
            let spawn = Stages::spawn(users as f64, 10.0, Duration::from_secs(secs));
            assert_eq!(stages, &spawn, "{name}");
        }
        let c = resolve(&["--url", url, "--preset", "stress", "--duration", "5s"]).unwrap();
        assert_eq!(
            (c.workload.peak_vus(), c.workload.end()),
            (50, Duration::from_secs(5))
        );
        let c = resolve(&["--url", url, "--preset", "quick", "--vus", "3"]).unwrap();
        assert_eq!(
            (c.workload.peak_vus(), c.workload.end()),
            (3, Duration::from_secs(30))
        );
        let c = resolve(&["--url", url, "--preset", "quick", "--spawn-rate", "30"]).unwrap();
        let Workload::Closed { stages, .. } = &c.workload else {
            panic!("closed model");
        };
        assert_eq!(stages, &Stages::spawn(30.0, 30.0, Duration::from_secs(30)));
        let c = resolve(&["--url", url, "--preset", "medium", "--rate", "20"]).unwrap();
        assert!(matches!(c.workload, Workload::Open { .. }));
        assert_eq!(c.workload.end(), Duration::from_secs(300));
        let err = resolve(&[
            "--url",
            url,
            "--preset",
            "quick",
            "--vus",
            "3",
            "--spawn-rate",
            "5",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("--spawn-rate"), "{err}");
        assert!(resolve(&["--url", url, "--preset", "huge"]).is_err());
    }

    #[test]
    fn rates_take_units_on_the_command_line_and_in_the_scenario() {
        let url = "http://127.0.0.1:9/";
        let open = |line: &[&str]| resolve(line).map(|c| c.workload.end());
        assert!(open(&["--url", url, "--rate", "30000/m", "--duration", "2s"]).is_ok());
        let err = resolve(&["--url", url, "--rate", "500/d"]).unwrap_err();
        assert!(err.to_string().starts_with("--rate: `500/d`"), "{err}");
        let err = resolve(&["--url", url, "--rate-stages", "10s:fast"]).unwrap_err();
        assert!(err.to_string().contains("/m, /h"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        let scenario = |rate: &str| {
            let text = format!(
                "name = \"r\"\nbase_url = \"http://127.0.0.1:9\"\n[hammer]\nrate = {rate}\nduration = \"3s\"\n\n[[hammer.requests]]\npath = \"/\"\n"
            );
            std::fs::write(&file, text).unwrap();
            resolve(&["-s", file.to_str().unwrap()])
        };
        for rate in ["\"36000/h\"", "10", "10.0", "\"600/m\""] {
            let c = scenario(rate).unwrap_or_else(|e| panic!("{rate}: {e}"));
            let Workload::Open { pacer, .. } = &c.workload else {
                panic!("{rate}: open model");
            };
            // 10 arrivals a second for 3 s
            assert!(
                (pacer.expected() - 30.0).abs() < 0.01,
                "{rate}: {}",
                pacer.expected()
            );
        }
        let err = scenario("\"lots\"").unwrap_err().to_string();
        assert!(err.contains(":4:") && err.contains("hammer.rate"), "{err}");
    }

    #[test]
    fn scenarios_bring_their_mix_and_auth() {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/tasktracker.toml");
        let c = resolve(&["-s", file, "--target", "http://127.0.0.1:9"]).unwrap();
        assert_eq!(c.users, UsersFrom::Stdin);
        assert!(c.refresh.is_some() && c.login.is_some());
        assert_eq!(c.think, Think::parse("1s..3s").unwrap());
        assert_eq!(c.requests.len(), 10);
    }

    #[test]
    fn shards_split_vus_stages_and_requests_exactly() {
        let url = "http://127.0.0.1:9/";
        for count in 1..=8u64 {
            for (flag, value) in [
                ("--vus", "1000"),
                ("--vus", "9"),
                ("--stages", "1s:37,1s:0"),
            ] {
                if value == "9" && count > 9 {
                    continue;
                }
                let (mut vus, mut requests, mut max) = (0, 0, 0);
                for index in 0..count {
                    let shard = format!("{index}/{count}");
                    let c = resolve(&["--url", url, flag, value, "-n", "1001", "--shard", &shard])
                        .unwrap();
                    vus += c.workload.shard_vus(c.shard);
                    let Workload::Closed {
                        requests: Some(n), ..
                    } = c.workload
                    else {
                        panic!()
                    };
                    requests += n;
                    let c = resolve(&[
                        "--url",
                        url,
                        "--rate",
                        "5",
                        "--max-vus",
                        "999",
                        "--shard",
                        &shard,
                    ])
                    .unwrap();
                    max += c.workload.shard_vus(c.shard);
                }
                let whole = resolve(&["--url", url, flag, value])
                    .unwrap()
                    .workload
                    .peak_vus();
                assert_eq!(vus, whole, "{flag} {value} over {count}");
                assert_eq!(requests, 1001);
                assert_eq!(max, 999);
            }
        }
        let err = resolve(&["--url", url, "--vus", "2", "--shard", "2/3"]).unwrap_err();
        assert!(err.to_string().contains("shard 2/3 has no VU"), "{err}");
        assert!(resolve(&["--url", url, "--shard", "3/3"]).is_err());
        let err = resolve(&["--url", url, "--start-at", "noon"]).unwrap_err();
        assert!(err.to_string().starts_with("--start-at: `noon`"), "{err}");
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_bytes("10M").unwrap(), 10 << 20);
        assert_eq!(parse_bytes("64k").unwrap(), 64 << 10);
        assert_eq!(parse_bytes("100").unwrap(), 100);
        assert_eq!(parse_bytes("1GiB").unwrap(), 1 << 30);
        assert!(parse_bytes("ten").is_err());
    }
}
