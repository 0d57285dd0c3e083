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
    Total(Stats),
    Interval(Interval),
    Threshold(ThresholdResult),
    Comparison(Comparison),
    Pg(crate::PgSample),
    Host(crate::HostSample),
    Process(crate::ProcessSample),
    HostSummary(crate::HostSummary),
    #[serde(other)]
    Unknown,
}

/// Metadata about one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// First event's send time, Unix epoch nanoseconds.
    pub start: u64,
    /// Last event's completion time, Unix epoch nanoseconds.
    pub end: u64,
    pub duration_ns: u64,
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
}

impl Stats {
    pub fn error_rate(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        }
    }
}

/// One time-series bucket over all endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Bucket start, Unix epoch nanoseconds.
    pub start: u64,
    pub secs: f64,
    pub count: u64,
    pub errors: u64,
    pub rps: f64,
    pub p50_ns: u64,
    pub p95_ns: u64,
    pub p99_ns: u64,
    #[serde(default)]
    pub max_ns: u64,
    /// Distinct virtual users seen sending in this bucket (summed over shards).
    #[serde(default)]
    pub vus: u64,
    /// The bucket's response-time histogram (2 significant digits; HdrHistogram
    /// V2 + deflate, base64), so `aggregate --merge` combines buckets exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hist: Option<String>,
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
