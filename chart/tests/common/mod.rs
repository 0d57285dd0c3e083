//! Synthetic summaries for the chart tests and the benchmark: what
//! `aggregate --format ndjson` writes, built directly from recorded latencies.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use records::{Interval, RunInfo, Stats, Summary};

/// What a synthetic run looks like.
#[derive(Clone, Debug)]
pub struct Spec {
    pub label: Option<String>,
    pub endpoints: usize,
    pub intervals: usize,
    /// Requests recorded per endpoint (the busiest; later ones get fewer).
    pub requests: u64,
    /// Milliseconds added to every latency (to make one run slower than another).
    pub slower_ms: f64,
    /// Every n-th request fails (0: none).
    pub error_every: u64,
    /// Endpoint names padded to at least this many characters.
    pub name_len: usize,
    pub seed: u64,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            label: Some("baseline".into()),
            endpoints: 4,
            intervals: 30,
            requests: 2_000,
            slower_ms: 0.0,
            error_every: 50,
            name_len: 0,
            seed: 1,
        }
    }
}

/// Run start: a fixed instant, so tests are reproducible.
pub const START: u64 = 1_764_000_000_000_000_000;

const NAMES: [&str; 6] = [
    "GET /api/v1/tasks/",
    "GET /api/v1/tasks/{id}",
    "POST /api/v1/tasks/",
    "PATCH /api/v1/tasks/{id}/complete",
    "GET /api/v1/stats/",
    "POST /api/v1/auth/login",
];

struct Rng(u64);

impl Rng {
    /// xorshift64*: deterministic and dependency-free.
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn endpoint_name(i: usize, min_len: usize) -> String {
    let mut name = if i < NAMES.len() {
        NAMES[i].to_string()
    } else {
        format!("GET /api/v1/resource{i}/{{id}}")
    };
    while name.len() < min_len {
        name.push_str("/very-long-segment");
    }
    name
}

/// The records of one synthetic run: run, endpoints, total, intervals.
pub fn summary(spec: &Spec) -> Vec<Summary> {
    let mut rng = Rng(spec.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let secs = spec.intervals.max(1) as f64;
    let mut total_hist = records::hist::new_histogram();
    let mut out = Vec::new();
    let mut labels = BTreeMap::new();
    if let Some(label) = &spec.label {
        labels.insert("label".to_string(), label.clone());
    }
    out.push(Summary::Run(RunInfo {
        start: START,
        end: START + (secs * 1e9) as u64,
        duration_ns: (secs * 1e9) as u64,
        tools: BTreeMap::from([("aggregate".to_string(), "0.1.0".to_string())]),
        scenario: Some("synthetic".into()),
        labels,
        skipped_lines: 0,
        interval_secs: 1.0,
        ..RunInfo::default()
    }));
    let (mut all_count, mut all_errors) = (0, 0);
    for e in 0..spec.endpoints {
        let mut h = records::hist::new_histogram();
        let count = (spec.requests / (e as u64 + 1)).max(1);
        let base_ms = 2.0 + e as f64 * 1.5 + spec.slower_ms;
        let mut errors = 0;
        for n in 0..count {
            // A long right tail: mostly near the base, a few far out.
            let u = rng.next();
            let ms = base_ms * (1.0 + 0.5 * u) + if u > 0.99 { 40.0 * rng.next() } else { 0.0 };
            records::hist::record(&mut h, (ms * 1e6) as u64);
            if spec.error_every > 0 && n % spec.error_every == spec.error_every - 1 {
                errors += 1;
            }
        }
        records::hist::merge(&mut total_hist, &h);
        all_count += count;
        all_errors += errors;
        out.push(Summary::Endpoint(stats(
            &endpoint_name(e, spec.name_len),
            count,
            errors,
            secs,
            &h,
        )));
    }
    out.push(Summary::Total(stats(
        "Aggregated",
        all_count,
        all_errors,
        secs,
        &total_hist,
    )));
    let per = all_count / spec.intervals.max(1) as u64;
    for i in 0..spec.intervals {
        let t = i as f64;
        let wave = 1.0 + 0.3 * (t / 7.0).sin();
        let spike = if i % 17 == 9 { 4.0 } else { 1.0 };
        let p50 = (2.5 + spec.slower_ms) * wave * 1e6;
        let errors = if spec.error_every > 0 && i % 5 == 2 {
            per / spec.error_every.max(1) + 1
        } else {
            0
        };
        // Throughput ramps up with the users; a slower target serves fewer.
        let ramp = 0.5 + 0.5 * (i as f64 / 10.0).min(1.0);
        let count = (per as f64 * ramp / (1.0 + spec.slower_ms / 10.0)) as u64;
        out.push(Summary::Interval(Interval {
            start: START + i as u64 * 1_000_000_000,
            secs: 1.0,
            active_secs: 1.0,
            count,
            errors: errors.min(count),
            rps: count as f64,
            p50_ns: p50 as u64,
            p95_ns: (p50 * 2.0 * spike) as u64,
            p99_ns: (p50 * 3.5 * spike) as u64,
            max_ns: (p50 * 6.0 * spike) as u64,
            bytes_in: 0,
            vus: (10 + i.min(40)) as u64,
            status: [
                ("200".to_string(), count - errors.min(count)),
                ("500".to_string(), errors.min(count)),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect(),
            hist: None,
        }));
    }
    out
}

fn stats(
    name: &str,
    count: u64,
    errors: u64,
    secs: f64,
    h: &hdrhistogram::Histogram<u64>,
) -> Stats {
    let mut status = BTreeMap::new();
    status.insert("200".to_string(), count - errors);
    if errors > 0 {
        status.insert("500".to_string(), errors);
    }
    Stats {
        name: name.to_string(),
        count,
        errors,
        error_kinds: if errors > 0 {
            BTreeMap::from([("status".to_string(), errors)])
        } else {
            BTreeMap::new()
        },
        status,
        bytes_in: count * 512,
        bytes_out: 0,
        rps: count as f64 / secs,
        failures_per_s: errors as f64 / secs,
        dropped: 0,
        vus_not_started: 0,
        latency: records::hist::latency(h),
        service: None,
        hist: records::hist::encode(h),
        service_hist: None,
        connect: None,
        ttfb: None,
        failures: Vec::new(),
        protocols: BTreeMap::new(),
    }
}

/// Writes records as NDJSON, the way aggregate does.
pub fn write(path: &Path, records: &[Summary]) {
    let file = std::fs::File::create(path).expect("create fixture");
    let mut w = records::ndjson::Writer::new(file);
    for r in records {
        w.write(r).expect("write fixture");
    }
    w.flush().expect("flush fixture");
}

/// PgSamples every second over the run, with a saturation bump in the middle.
pub fn pg_samples(seconds: usize) -> Vec<Summary> {
    (0..seconds)
        .map(|i| {
            let busy = if (seconds / 3..seconds / 2).contains(&i) {
                18
            } else {
                4
            };
            Summary::Pg(records::PgSample {
                ts: START + i as u64 * 1_000_000_000,
                datname: "tasktracker".into(),
                total: 20,
                active: busy,
                idle: 20 - busy - 1,
                idle_in_transaction: 1,
                waiting: u64::from(busy > 10) * 3,
                blocked: 0,
                max_connections: 100,
                utilization: 0.22,
                pool_size: None,
                longest_query_ns: 1_000_000,
                longest_xact_ns: 2_000_000,
                top: Vec::new(),
            })
        })
        .collect()
}

/// hostwatch samples every second over the run: host CPU rising in the
/// middle, and two watched processes (one leaking).
pub fn host_samples(seconds: usize) -> Vec<Summary> {
    let mut out = Vec::new();
    for i in 0..seconds {
        let ts = START + i as u64 * 1_000_000_000;
        let hot = (seconds / 3..seconds / 2).contains(&i);
        out.push(Summary::Host(records::HostSample {
            ts,
            interval_ns: 1_000_000_000,
            cpus: 4,
            cpu_permille: if hot { 850 } else { 300 },
            mem_total_bytes: 8_000_000_000,
            mem_used_bytes: 2_000_000_000,
            mem_available_bytes: 6_000_000_000,
            ..records::HostSample::default()
        }));
        for (pid, watch, rss) in [
            (10, "tasktracker", 30_000_000 + i as u64 * 1_000_000),
            (20, "postgres", 80_000_000),
        ] {
            out.push(Summary::Process(records::ProcessSample {
                ts,
                interval_ns: 1_000_000_000,
                watch: watch.into(),
                pid,
                ppid: 1,
                name: watch.into(),
                cpu_permille: if hot { 1500 } else { 400 },
                rss_bytes: rss,
                threads: 4,
                fds: Some(20),
            }));
        }
    }
    out
}
