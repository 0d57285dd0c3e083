//! The result of one statistics pass, ready for any renderer: the summary
//! records (`run`, `endpoint`, `total`, `interval`, `threshold`) plus the
//! slow/error endpoint report.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use records::{hist, Interval, Phase, RunInfo, ShardRun, Stats, Summary, ThresholdResult};
use serde::Serialize;

use crate::tally::{new_interval_histogram, widen, EndpointTally, Tally};

pub use records::hist::QUANTILES;

/// One time-series bucket, with what renderers need beyond the record.
#[derive(Debug)]
pub struct IntervalRow {
    pub record: Interval,
    /// The bucket's [`QUANTILES`]; `None` when its histogram is empty.
    pub quantiles: Option<[u64; 10]>,
    /// Over all buckets up to and including this one (Locust's "Total" columns).
    pub cumulative_p50_ns: u64,
    pub cumulative_mean_ns: f64,
    pub cumulative_min_ns: u64,
}

/// An endpoint that is slow (p95 above `--slow`) or failing (error rate above 1%).
#[derive(Clone, Debug, Serialize)]
pub struct SlowEndpoint {
    pub name: String,
    pub count: u64,
    pub p95_ns: u64,
    pub error_rate: f64,
    /// `slow`, `errors`, or both.
    pub reasons: Vec<&'static str>,
}

/// Error rate above which an endpoint is reported as failing.
pub const FAILING_ERROR_RATE: f64 = 0.01;

#[derive(Debug)]
pub struct Report {
    pub run: RunInfo,
    pub endpoints: Vec<Stats>,
    /// Flows' iterations (`rps` is iterations per second: TPS).
    pub flows: Vec<Stats>,
    pub total: Stats,
    pub intervals: Vec<IntervalRow>,
    pub thresholds: Vec<ThresholdResult>,
    /// Why each broken threshold broke, for people (parallel to `thresholds`).
    pub threshold_notes: Vec<String>,
    pub slow_limit_ns: u64,
    pub slow: Vec<SlowEndpoint>,
    /// A merge of several inputs: one row per input (`run.shards` of them).
    pub shards: Vec<ShardRun>,
}

impl Report {
    /// Builds the records from a finished tally.
    pub fn build(
        tally: &mut Tally,
        labels: &BTreeMap<String, String>,
        slow_limit_ns: u64,
    ) -> Report {
        let mut endpoints: Vec<&EndpointTally> = tally.endpoints.iter().collect();
        endpoints.sort_by(|a, b| a.name.cmp(&b.name));

        // Rates are per second of the load window (hammer's schedule, else
        // first send → last send), never of the drain after it.
        let (start, load_end, end) = tally.load_window();
        let duration_ns = match load_end - start {
            // One send, or all at once: the completions give the only span.
            0 => end - start,
            window => window,
        };
        let drain_ns = end.saturating_sub(start.saturating_add(duration_ns));
        let secs = duration_ns as f64 / 1e9;

        let mut total = EndpointTally::new(records::run::TOTAL.to_string());
        for e in &endpoints {
            total.absorb(e);
        }
        let endpoint_stats: Vec<Stats> = endpoints
            .iter()
            .map(|e| stats_of(e, secs, tally.any_lag))
            .collect();
        let mut flows: Vec<&EndpointTally> = tally.flows.iter().collect();
        flows.sort_by(|a, b| a.name.cmp(&b.name));
        let flow_stats: Vec<Stats> = flows
            .iter()
            .map(|f| stats_of(f, secs, tally.any_lag))
            .collect();
        let mut total_stats = stats_of(&total, secs, tally.any_lag);
        let arrivals = tally.load.clone().unwrap_or_default();
        total_stats.dropped = arrivals.dropped;

        let interval_secs = tally.interval_ns as f64 / 1e9;
        let window_end = start.saturating_add(duration_ns);
        // The part of a bucket inside the load window: a first or last
        // bucket the run covers only partly has its rate divided by that.
        let width_ns = tally.interval_ns;
        let active_secs = move |bucket: u64| {
            let from = bucket.max(start);
            let to = bucket.saturating_add(width_ns).min(window_end);
            if to > from {
                (to - from) as f64 / 1e9
            } else {
                interval_secs
            }
        };
        // Buckets are taken out of the tally and freed one by one: only their
        // encodings and a few numbers stay for the renderers.
        let mut cumulative = widen(&new_interval_histogram());
        let mut cumulative_max = 0;
        let intervals = tally
            .take_intervals()
            .into_iter()
            .map(|(start, t)| {
                let h = widen(&t.hist);
                let (vus, count, errors, max_ns, bytes_in) =
                    (t.vus(), t.count, t.errors, t.max_ns, t.bytes_in);
                let status: BTreeMap<String, u64> = t
                    .status
                    .iter()
                    .map(|(code, n)| (code.to_string(), *n))
                    .collect();
                drop(t);
                hist::merge(&mut cumulative, &h);
                cumulative_max = cumulative_max.max(max_ns);
                let at = |h: &Histogram<u64>, q: f64, max: u64| h.value_at_quantile(q).min(max);
                let active = active_secs(start);
                IntervalRow {
                    record: Interval {
                        start,
                        secs: interval_secs,
                        active_secs: active,
                        count,
                        errors,
                        rps: count as f64 / active,
                        p50_ns: at(&h, 0.5, max_ns),
                        p95_ns: at(&h, 0.95, max_ns),
                        p99_ns: at(&h, 0.99, max_ns),
                        max_ns,
                        bytes_in,
                        vus,
                        status,
                        hist: Some(hist::encode(&h)),
                    },
                    quantiles: (!h.is_empty()).then(|| QUANTILES.map(|q| at(&h, q, max_ns))),
                    cumulative_p50_ns: at(&cumulative, 0.5, cumulative_max),
                    cumulative_mean_ns: cumulative.mean().min(cumulative_max as f64),
                    cumulative_min_ns: cumulative.min(),
                }
            })
            .collect();

        let mut tools = tally.tools.clone();
        tools.insert("aggregate".into(), env!("CARGO_PKG_VERSION").into());
        let mut all_labels = tally.labels.clone();
        all_labels.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        let run = RunInfo {
            start,
            end,
            duration_ns,
            drain_ns,
            scheduled: arrivals.scheduled,
            dropped: arrivals.dropped,
            cancelled: arrivals.cancelled,
            cpu_bound: arrivals.cpu_bound,
            tools,
            scenario: tally.scenario.clone(),
            labels: all_labels,
            skipped_lines: tally.skipped_lines,
            interval_secs,
            shard: arrivals.shard,
            shards: 0,
        };

        let slow = slow_endpoints(&endpoint_stats, slow_limit_ns);
        Report {
            run,
            endpoints: endpoint_stats,
            flows: flow_stats,
            total: total_stats,
            intervals,
            thresholds: Vec::new(),
            threshold_notes: Vec::new(),
            slow_limit_ns,
            slow,
            shards: Vec::new(),
        }
    }

    /// Makes this the merge of `shards` (two or more inputs): the run record
    /// counts them and each gets its `shard` record.
    pub fn with_shards(mut self, shards: Vec<ShardRun>) -> Report {
        if shards.len() > 1 {
            self.run.shards = shards.len() as u64;
            self.shards = shards;
        }
        self
    }

    /// Whether the headline latencies have a service-time counterpart (open model).
    pub fn has_service(&self) -> bool {
        self.total.service.is_some()
    }

    /// The records of `--format ndjson`, in stream order.
    pub fn records(&self) -> Vec<Summary> {
        let mut out = Vec::with_capacity(self.endpoints.len() + self.intervals.len() + 4);
        out.push(Summary::Run(self.run.clone()));
        out.extend(self.endpoints.iter().cloned().map(Summary::Endpoint));
        out.extend(self.flows.iter().cloned().map(Summary::Flow));
        out.push(Summary::Total(self.total.clone()));
        out.extend(
            self.intervals
                .iter()
                .map(|row| Summary::Interval(row.record.clone())),
        );
        out.extend(self.shards.iter().cloned().map(Summary::Shard));
        out.extend(self.thresholds.iter().cloned().map(Summary::Threshold));
        out
    }

    pub fn broken_thresholds(&self) -> usize {
        self.thresholds.iter().filter(|t| !t.ok).count()
    }
}

fn stats_of(e: &EndpointTally, secs: f64, with_service: bool) -> Stats {
    let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let mut error_kinds = BTreeMap::new();
    for (kind, n) in &e.error_kinds {
        *error_kinds.entry(kind.clone()).or_insert(0) += n;
    }
    let mut status = BTreeMap::new();
    for (code, n) in &e.status {
        *status.entry(code.to_string()).or_insert(0) += n;
    }
    Stats {
        name: e.name.clone(),
        count: e.count,
        errors: e.errors,
        error_kinds,
        status,
        bytes_in: e.bytes_in,
        bytes_out: e.bytes_out,
        rps: per_sec(e.count),
        dropped: 0,
        failures_per_s: per_sec(e.errors),
        latency: hist::latency_within(e.response(), e.min_ns, e.max_ns),
        service: with_service
            .then(|| hist::latency_within(e.service(), e.service_min_ns, e.service_max_ns)),
        hist: hist::encode(e.response()),
        service_hist: with_service.then(|| hist::encode(e.service())),
        connect: e.phases.as_ref().and_then(|p| phase(&p.connect)),
        ttfb: e.phases.as_ref().and_then(|p| phase(&p.ttfb)),
        failures: failures_of(e),
        protocols: protocols_of(e),
    }
}

/// Requests per protocol, HTTP/1.1 included, when any was not HTTP/1.1.
fn protocols_of(e: &EndpointTally) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    if e.protocols.is_empty() {
        return out;
    }
    let mut other = 0u64;
    for (proto, n) in &e.protocols {
        *out.entry(proto.clone()).or_insert(0) += n;
        other = other.saturating_add(*n);
    }
    let http1 = e.count.saturating_sub(other);
    if http1 > 0 {
        out.insert(records::event::HTTP1.to_string(), http1);
    }
    out
}

/// The endpoint's error groups, most frequent first. A summary from before
/// groups were kept has only kinds: each kind is then one group, its times unknown.
fn failures_of(e: &EndpointTally) -> Vec<records::ErrorGroup> {
    let mut groups = e.failures.clone();
    for (kind, n) in &e.error_kinds {
        let grouped: u64 = groups
            .iter()
            .filter(|g| &g.kind == kind)
            .map(|g| g.count)
            .sum();
        if *n > grouped {
            groups.push(records::ErrorGroup {
                kind: kind.clone(),
                count: n - grouped,
                ..records::ErrorGroup::default()
            });
        }
    }
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.kind, a.status, &a.detail).cmp(&(&b.kind, b.status, &b.detail)))
    });
    groups
}

/// A phase's record, when any request had it.
fn phase(h: &Histogram<u64>) -> Option<Phase> {
    (!h.is_empty()).then(|| Phase {
        count: h.len(),
        latency: hist::latency(h),
        hist: hist::encode(h),
    })
}

fn slow_endpoints(endpoints: &[Stats], slow_limit_ns: u64) -> Vec<SlowEndpoint> {
    endpoints
        .iter()
        .filter_map(|s| {
            let mut reasons = Vec::new();
            if s.latency.p95_ns > slow_limit_ns {
                reasons.push("slow");
            }
            if s.error_rate() > FAILING_ERROR_RATE {
                reasons.push("errors");
            }
            (!reasons.is_empty()).then(|| SlowEndpoint {
                name: s.name.clone(),
                count: s.count,
                p95_ns: s.latency.p95_ns,
                error_rate: s.error_rate(),
                reasons,
            })
        })
        .collect()
}
