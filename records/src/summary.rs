use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One line of a summary stream (aggregate → compare, chart), told apart by `kind`.
///
/// Readers skip kinds they do not know, so new kinds can be added without
/// breaking older tools.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Summary {
    Run(RunInfo),
    Endpoint(Stats),
    /// A flow's iterations (user journeys), shaped like an endpoint: `count`
    /// iterations, `errors` failed ones, `rps` iterations per second (TPS),
    /// latencies the journey's duration from its scheduled start, and
    /// `error_kinds` the failing step's name to count.
    Flow(Stats),
    Total(Stats),
    Interval(Interval),
    Threshold(ThresholdResult),
    Comparison(Comparison),
    Pg(crate::PgSample),
    Host(crate::HostSample),
    Process(crate::ProcessSample),
    HostSummary(crate::HostSummary),
    Shard(ShardRun),
    #[serde(other)]
    Unknown,
}

/// Metadata about one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Start of the load: hammer's first scheduled send, else the first
    /// event's send time; Unix epoch nanoseconds.
    pub start: u64,
    /// Last event's completion time, Unix epoch nanoseconds.
    pub end: u64,
    /// The load window: from `start` to the end of hammer's schedule (else
    /// the last send). Every rate is per second of it, in every tool.
    pub duration_ns: u64,
    /// After the load window, the time the requests still in flight took to
    /// complete (`end` is `start + duration_ns + drain_ns`).
    #[serde(default)]
    pub drain_ns: u64,
    /// Open model: arrivals that came due, from hammer's `load` record.
    #[serde(default)]
    pub scheduled: u64,
    /// Open model: arrivals not sent because every VU was busy.
    #[serde(default)]
    pub dropped: u64,
    /// Open model: arrivals not sent because the run was stopped.
    #[serde(default)]
    pub cancelled: u64,
    /// Closed model: VUs the stages called for that never ran (hammer's
    /// `load` record), when not 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub vus_not_started: u64,
    /// hammer was CPU-bound during the run: latencies include generator delay.
    #[serde(default)]
    pub cpu_bound: bool,
    /// Tool name to version, e.g. `{"aggregate":"0.1.0"}`.
    #[serde(default)]
    pub tools: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Free-form labels (`label` names the run in comparisons and charts).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Input lines skipped as invalid under `--skip-invalid`.
    #[serde(default)]
    pub skipped_lines: u64,
    /// Width of the time-series intervals in seconds.
    #[serde(default)]
    pub interval_secs: f64,
    /// The shard of a many-machine run this summary is (`hammer --shard I/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::Shard>,
    /// A merge of shard summaries (`aggregate --merge`): how many it holds
    /// (each has a `shard` record); 0 otherwise.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shards: u64,
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One input of a merge (`kind: shard`): the per-shard breakdown, so a slow
/// or failing shard (machine, zone, network path) shows beside the whole.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardRun {
    /// `I/N`, when the input named its shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::Shard>,
    /// The input it came from, as given to `aggregate --merge`.
    pub source: String,
    /// Its run record's load window, Unix epoch ns.
    pub start: u64,
    pub duration_ns: u64,
    pub count: u64,
    pub errors: u64,
    pub rps: f64,
    pub p50_ns: u64,
    pub p95_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
    #[serde(default)]
    pub dropped: u64,
}

/// Latency percentiles of one distribution, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub min_ns: u64,
    pub mean_ns: f64,
    pub stdev_ns: f64,
    pub max_ns: u64,
    pub p50_ns: u64,
    pub p66_ns: u64,
    pub p75_ns: u64,
    pub p80_ns: u64,
    pub p90_ns: u64,
    pub p95_ns: u64,
    pub p98_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub p9999_ns: u64,
}

/// Statistics for one endpoint (`kind: endpoint`) or for all of them (`kind: total`).
///
/// The top-level latency fields are the headline: response time corrected for
/// coordinated omission (`lag_ns + latency_ns`). When any event carried a lag,
/// `service` holds service time (`latency_ns` alone) next to it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub name: String,
    pub count: u64,
    pub errors: u64,
    #[serde(default)]
    pub error_kinds: BTreeMap<String, u64>,
    /// Status code (as a string, JSON keys are strings) to count; "0" is no response.
    #[serde(default)]
    pub status: BTreeMap<String, u64>,
    #[serde(default)]
    pub bytes_in: u64,
    #[serde(default)]
    pub bytes_out: u64,
    pub rps: f64,
    #[serde(default)]
    pub failures_per_s: f64,
    /// Arrivals scheduled for this endpoint (or, in the total, for the run)
    /// that were never sent: all VUs busy (open model). They have no latency.
    #[serde(default)]
    pub dropped: u64,
    /// In the total only: closed-model VUs the stages called for that never
    /// ran (see [`RunInfo::vus_not_started`]), when not 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub vus_not_started: u64,
    #[serde(flatten)]
    pub latency: Latency,
    /// Service-time percentiles, present when the events carried `lag_ns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Latency>,
    /// The response-time histogram: HdrHistogram V2 + deflate, base64.
    pub hist: String,
    /// The service-time histogram, when `service` is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_hist: Option<String>,
    /// Connection set-up times, over the requests that opened a connection
    /// (events' `connect_ns`), when any did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<Phase>,
    /// Times to first byte (events' `ttfb_ns`), when any event had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttfb: Option<Phase>,
    /// Each distinct error (kind, status, detail) with its count and when it
    /// was first and last seen; absent in summaries from before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<ErrorGroup>,
    /// Requests per protocol (`h2`, `http/1.1`), present when any of them
    /// was not HTTP/1.1 (events' `proto`); absent means all HTTP/1.1.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub protocols: BTreeMap<String, u64>,
}

/// The requests of one endpoint that failed the same way.
///
/// Status errors are told apart by their code alone (so a 401 and a 403 are
/// two groups, whatever their details); other kinds by kind and detail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorGroup {
    /// One of [`crate::ErrorKind`]'s names.
    pub kind: String,
    /// The response's status; 0 when no response came.
    #[serde(default)]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub count: u64,
    /// Completion time of the first and of the last of them, Unix epoch ns
    /// (0 when unknown: merged from a summary that did not keep them).
    #[serde(default)]
    pub first_ns: u64,
    #[serde(default)]
    pub last_ns: u64,
}

/// More distinct details than this on one endpoint and kind are counted
/// together (detail dropped), so a detail that varies per request cannot
/// make the summary grow with the run.
pub const MAX_ERROR_GROUPS: usize = 100;

impl ErrorGroup {
    /// The group an error belongs to: the detail is dropped for status
    /// errors, whose code says what went wrong.
    pub fn key<'a>(
        kind: &'a str,
        status: u16,
        detail: Option<&'a str>,
    ) -> (&'a str, u16, Option<&'a str>) {
        if kind == crate::ErrorKind::Status.as_str() {
            (kind, status, None)
        } else {
            (kind, status, detail)
        }
    }

    /// The error as Locust's failures.csv words it where Locust has a word
    /// (`LocustBadStatusCode(code=404)`), else `kind: detail`.
    pub fn locust_error(&self) -> String {
        match &self.detail {
            _ if self.kind == crate::ErrorKind::Status.as_str() && self.status > 0 => {
                format!("LocustBadStatusCode(code={})", self.status)
            }
            Some(detail) => format!("{}: {detail}", self.kind),
            None => self.kind.clone(),
        }
    }

    /// Takes in `n` more errors of this group, seen from `first_ns` to `last_ns`.
    pub fn add(&mut self, n: u64, first_ns: u64, last_ns: u64) {
        self.count = self.count.saturating_add(n);
        let known = |t: u64| t > 0;
        if known(first_ns) && (!known(self.first_ns) || first_ns < self.first_ns) {
            self.first_ns = first_ns;
        }
        self.last_ns = self.last_ns.max(last_ns);
    }
}

/// One phase of a request (connection set-up, time to first byte) over the
/// requests that had it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// Requests that had this phase.
    pub count: u64,
    #[serde(flatten)]
    pub latency: Latency,
    /// Its histogram (HdrHistogram V2 + deflate, base64), so summaries merge.
    pub hist: String,
}

impl Stats {
    pub fn error_rate(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        }
    }

    /// Dropped arrivals over all arrivals meant for it (sent or dropped).
    pub fn dropped_rate(&self) -> f64 {
        let arrivals = self.count.saturating_add(self.dropped);
        if arrivals == 0 {
            0.0
        } else {
            self.dropped as f64 / arrivals as f64
        }
    }
}

/// One time-series bucket over all endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Bucket start, Unix epoch nanoseconds (buckets are aligned to whole widths).
    pub start: u64,
    /// The bucket's width.
    pub secs: f64,
    /// How much of the bucket lies in the run's load window: less than `secs`
    /// for a first or last bucket the run only partly covers. 0 in older
    /// summaries, which means all of it.
    #[serde(default)]
    pub active_secs: f64,
    pub count: u64,
    pub errors: u64,
    /// Requests per second of the bucket's active time.
    pub rps: f64,
    pub p50_ns: u64,
    pub p95_ns: u64,
    pub p99_ns: u64,
    #[serde(default)]
    pub max_ns: u64,
    /// Response bytes received in the bucket (0 in older summaries).
    #[serde(default)]
    pub bytes_in: u64,
    /// Distinct virtual users seen sending in this bucket (summed over shards).
    #[serde(default)]
    pub vus: u64,
    /// Status code (a string; "0" is no response) to the bucket's count of
    /// it; absent in summaries from before it existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<String, u64>,
    /// The bucket's response-time histogram (2 significant digits; HdrHistogram
    /// V2 + deflate, base64), so `aggregate --merge` combines buckets exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hist: Option<String>,
}

impl Interval {
    /// The seconds of the bucket inside the run's load window (all of it in
    /// summaries that predate `active_secs`).
    pub fn active(&self) -> f64 {
        if self.active_secs > 0.0 {
            self.active_secs
        } else {
            self.secs
        }
    }
}

/// The outcome of one `--threshold` expression.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    pub expr: String,
    /// The measured value, in the metric's base unit (ns, ratio, per second).
    pub value: f64,
    pub ok: bool,
}

/// One endpoint-and-metric line of `compare --format ndjson`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub name: String,
    pub metric: String,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// Relative change (0.23 = +23%), or percentage points for rates.
    pub change: Option<f64>,
    pub p_value: Option<f64>,
    pub effect: Option<f64>,
    /// `regression`, `improvement`, `~`, `insufficient data`, `added`, `removed`.
    pub verdict: String,
}
