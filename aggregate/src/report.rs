//! The result of one statistics pass, ready for any renderer: the summary
//! records (`run`, `endpoint`, `total`, `interval`, `threshold`) plus the
//! slow/error endpoint report.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use records::{hist, Interval, Phase, RunInfo, ShardRun, Stats, Summary, ThresholdResult};
use serde::Serialize;

use crate::tally::{new_interval_histogram, widen, EndpointTally, Tally};

pub use records::hist::QUANTILES;

/// One time-series bucket, with what renderers need beyond the record. A
/// day of 1-second buckets is 86,400 rows, so a row keeps only numbers and
/// its histogram's encoding; [`Report::interval_records`] makes the `interval`
/// records from them as a renderer writes them, and [`quantiles`](Self::quantiles)
/// decodes the histogram again for the one renderer that needs them all.
/// A row is no larger than the tally's bucket it is made from, so the
/// buckets become rows in place, without a second array.
#[derive(Debug)]
pub struct IntervalRow {
    pub start: u64,
    pub active_secs: f64,
    pub count: u64,
    pub errors: u64,
    pub max_ns: u64,
    pub bytes_in: u64,
    pub vus: u64,
    status: Box<[(u16, u64)]>,
    /// [`hist::encode_raw`] of the bucket's histogram.
    hist: Box<[u8]>,
    /// Each at most `max_ns`, like all of [`quantiles`](Self::quantiles).
    pub p50_ns: u64,
    pub p95_ns: u64,
    pub p99_ns: u64,
    /// Over all buckets up to and including this one (Locust's "Total" columns).
    pub cumulative_p50_ns: u64,
    pub cumulative_mean_ns: f64,
    pub cumulative_min_ns: u64,
}

impl IntervalRow {
    /// The bucket's `interval` record (`secs` wide; the same for every row,
    /// so no row keeps it).
    pub fn record(&self, secs: f64) -> Interval {
        Interval {
            start: self.start,
            secs,
            active_secs: self.active_secs,
            count: self.count,
            errors: self.errors,
            rps: self.count as f64 / self.active_secs,
            p50_ns: self.p50_ns,
            p95_ns: self.p95_ns,
            p99_ns: self.p99_ns,
            max_ns: self.max_ns,
            bytes_in: self.bytes_in,
            vus: self.vus,
            status: self
                .status
                .iter()
                .map(|(code, n)| (code.to_string(), *n))
                .collect(),
            hist: Some(hist::base64_of(&self.hist)),
        }
    }

    /// The bucket's [`QUANTILES`], each at most `max_ns`; `None` when its
    /// histogram is empty.
    pub fn quantiles(&self) -> Option<[u64; 10]> {
        let h = hist::decode_raw(&self.hist).expect("a row decodes what the tally encoded");
        (!h.is_empty()).then(|| QUANTILES.map(|q| at_most(&h, q, self.max_ns)))
    }
}

/// A bucket's quantile, clamped to its exact maximum.
fn at_most(h: &Histogram<u64>, q: f64, max_ns: u64) -> u64 {
    h.value_at_quantile(q).min(max_ns)
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
        total_stats.vus_not_started = arrivals.vus_not_started;

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
                let vus = t.vus();
                let (h, raw) = t.hist.finish();
                hist::merge(&mut cumulative, &h);
                cumulative_max = cumulative_max.max(t.max_ns);
                IntervalRow {
                    start,
                    active_secs: active_secs(start),
                    count: t.count,
                    errors: t.errors,
                    max_ns: t.max_ns,
                    bytes_in: t.bytes_in,
                    vus,
                    status: t.status.into_boxed_slice(),
                    hist: raw,
                    p50_ns: at_most(&h, 0.5, t.max_ns),
                    p95_ns: at_most(&h, 0.95, t.max_ns),
                    p99_ns: at_most(&h, 0.99, t.max_ns),
                    cumulative_p50_ns: at_most(&cumulative, 0.5, cumulative_max),
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
            vus_not_started: arrivals.vus_not_started,
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

    /// The `interval` records, in time order, made one at a time.
    pub fn interval_records(&self) -> impl Iterator<Item = Interval> + '_ {
        let secs = self.run.interval_secs;
        self.intervals.iter().map(move |row| row.record(secs))
    }

    /// Whether the headline latencies have a service-time counterpart (open model).
    pub fn has_service(&self) -> bool {
        self.total.service.is_some()
    }

    /// The records of `--format ndjson`, in stream order, made one at a
    /// time (all of a day's interval records at once would be ~100 MB).
    pub fn records(&self) -> impl Iterator<Item = Summary> + '_ {
        std::iter::once(Summary::Run(self.run.clone()))
            .chain(self.endpoints.iter().cloned().map(Summary::Endpoint))
            .chain(self.flows.iter().cloned().map(Summary::Flow))
            .chain(std::iter::once(Summary::Total(self.total.clone())))
            .chain(self.interval_records().map(Summary::Interval))
            .chain(self.shards.iter().cloned().map(Summary::Shard))
            .chain(self.thresholds.iter().cloned().map(Summary::Threshold))
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
        vus_not_started: 0,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::IntervalTally;

    /// Rows are collected from the tally's buckets in place (std reuses a
    /// vector's buffer when the new items are no larger): a day of rows
    /// would otherwise need a second array of ~20 MB beside the first.
    #[test]
    fn a_row_fits_in_its_bucket() {
        eprintln!(
            "row {} bytes, bucket {} bytes",
            std::mem::size_of::<IntervalRow>(),
            std::mem::size_of::<(u64, IntervalTally)>()
        );
        assert!(std::mem::size_of::<IntervalRow>() <= std::mem::size_of::<(u64, IntervalTally)>());
        assert_eq!(
            std::mem::align_of::<IntervalRow>(),
            std::mem::align_of::<(u64, IntervalTally)>()
        );
    }
}
