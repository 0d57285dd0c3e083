//! Test fixtures: summary streams built from latencies drawn from known
//! distributions, the way `aggregate` would have written them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use records::hist::{encode, merge, new_histogram, record};
use records::{RunInfo, Stats, Summary};
use statrs::distribution::LogNormal;

/// `n` latencies in ns, log-normal with the given median and shape, times `scale`.
pub fn lognormal(seed: u64, n: usize, median_ms: f64, sigma: f64, scale: f64) -> Vec<u64> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let dist = LogNormal::new((median_ms * 1e6).ln(), sigma).unwrap();
    (0..n)
        .map(|_| (rng.sample(dist) * scale).round().max(1.0) as u64)
        .collect()
}

/// `n` latencies drawn uniformly from a handful of values: heavy ties.
pub fn choice(seed: u64, n: usize, values: &[u64]) -> Vec<u64> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..n)
        .map(|_| values[rng.gen_range(0..values.len())])
        .collect()
}

/// An endpoint record for `samples`, `errors` of them failed, over `secs` seconds.
pub fn stats(name: &str, samples: &[u64], errors: u64, secs: f64) -> Stats {
    let mut h = new_histogram();
    for &v in samples {
        record(&mut h, v);
    }
    stats_of(name, &h, errors, secs)
}

/// Fills a record's fields from its histogram, as aggregate does.
pub fn stats_of(name: &str, h: &hdrhistogram::Histogram<u64>, errors: u64, secs: f64) -> Stats {
    let count = h.len();
    Stats {
        name: name.to_string(),
        count,
        errors,
        rps: count as f64 / secs,
        failures_per_s: errors as f64 / secs,
        latency: records::hist::latency(h),
        hist: encode(h),
        ..Stats::default()
    }
}

/// Writes a summary stream: a run record, the endpoints, and their total.
pub fn write_summary(path: &Path, label: Option<&str>, endpoints: &[Stats], secs: f64) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = records::ndjson::Writer::new(file);
    let mut info = RunInfo {
        start: 1_764_000_000_000_000_000,
        duration_ns: (secs * 1e9) as u64,
        ..RunInfo::default()
    };
    info.end = info.start + info.duration_ns;
    if let Some(label) = label {
        info.labels.insert("label".into(), label.into());
    }
    w.write(&Summary::Run(info)).unwrap();
    let mut total = new_histogram();
    let mut errors = 0;
    for e in endpoints {
        w.write(&Summary::Endpoint(e.clone())).unwrap();
        merge(&mut total, &records::hist::decode(&e.hist).unwrap());
        errors += e.errors;
    }
    let total = stats_of("Aggregated", &total, errors, secs);
    w.write(&Summary::Total(total)).unwrap();
    w.flush().unwrap();
}

/// A scratch directory holding summary files.
pub struct Dir(pub tempfile::TempDir);

impl Dir {
    pub fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Writes `name` with these endpoints over 60 s; returns its path as a string.
    pub fn summary(&self, name: &str, endpoints: &[Stats]) -> String {
        let path = self.path(name);
        write_summary(&path, None, endpoints, 60.0);
        path.to_string_lossy().into_owned()
    }
}

/// Runs the compare binary.
pub fn compare(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_compare"))
        .args(args)
        .output()
        .unwrap()
}

/// The `comparison` records of an NDJSON report.
pub fn comparisons(out: &Output) -> Vec<records::Comparison> {
    records::ndjson::read_from(&out.stdout[..], "stdout")
        .unwrap()
        .into_iter()
        .map(|s: Summary| match s {
            Summary::Comparison(c) => c,
            other => panic!("not a comparison record: {other:?}"),
        })
        .collect()
}

/// The record for `name` and `metric`.
pub fn find<'a>(
    records: &'a [records::Comparison],
    name: &str,
    metric: &str,
) -> &'a records::Comparison {
    records
        .iter()
        .find(|c| c.name == name && c.metric == metric)
        .unwrap_or_else(|| panic!("no {metric} record for {name}"))
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
