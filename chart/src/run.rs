//! One run's summary, read from aggregate's NDJSON, and the endpoint
//! groupings the charts draw (top N by count, the rest as "others").

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;
use hdrhistogram::Histogram;
use records::{Interval, Latency, RunInfo, Stats, Summary, ThresholdResult};

/// An endpoint's (or the total's) statistics with its decoded histogram.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub stats: Stats,
    /// `None` when the summary carried no (or an empty) histogram.
    pub hist: Option<Histogram<u64>>,
}

/// Everything the charts need from one summary file.
#[derive(Clone, Debug)]
pub struct Run {
    pub path: String,
    pub label: String,
    pub info: Option<RunInfo>,
    /// Sorted by count, busiest first.
    pub endpoints: Vec<Endpoint>,
    /// The `total` record, or one merged from the endpoints when it is missing.
    pub total: Endpoint,
    /// Sorted by start.
    pub intervals: Vec<Interval>,
    pub thresholds: Vec<ThresholdResult>,
}

impl Run {
    /// Reads a summary file (`-` for stdin). Bad lines name file and line (exit 2).
    pub fn load(path: &str) -> anyhow::Result<Run> {
        let mut reader = records::ndjson::open(path)?;
        let mut info = None;
        let mut endpoints = Vec::new();
        let mut total = None;
        let mut intervals = Vec::new();
        let mut thresholds = Vec::new();
        let mut seen = 0u64;
        while let Some(record) = reader.next_record::<Summary>() {
            match record? {
                Summary::Run(run) => {
                    seen += 1;
                    info.get_or_insert(run);
                }
                Summary::Endpoint(stats) => {
                    seen += 1;
                    let hist = decode(&stats).map_err(|e| reader.malformed(e))?;
                    endpoints.push(Endpoint { stats, hist });
                }
                Summary::Total(stats) => {
                    seen += 1;
                    let hist = decode(&stats).map_err(|e| reader.malformed(e))?;
                    total = Some(Endpoint { stats, hist });
                }
                Summary::Interval(interval) => {
                    seen += 1;
                    intervals.push(interval);
                }
                Summary::Threshold(t) => {
                    seen += 1;
                    thresholds.push(t);
                }
                Summary::Comparison(_) | Summary::Pg(_) | Summary::Unknown => {}
            }
        }
        if seen == 0 {
            return Err(records::bad_input(format!(
                "{}: no summary records (expected `aggregate --format ndjson` output)",
                reader.source_name()
            )));
        }
        endpoints.sort_by(|a, b| {
            b.stats
                .count
                .cmp(&a.stats.count)
                .then_with(|| a.stats.name.cmp(&b.stats.name))
        });
        intervals.sort_by_key(|i| i.start);
        let total = match total {
            Some(total) => total,
            None => Endpoint::merged("Aggregated", &endpoints.iter().collect::<Vec<_>>()),
        };
        let label = info
            .as_ref()
            .and_then(|i| i.labels.get("label"))
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| stem(path));
        Ok(Run {
            path: path.to_string(),
            label,
            info,
            endpoints,
            total,
            intervals,
            thresholds,
        })
    }

    /// The run's start, Unix epoch ns: the run record's, else the first interval's.
    pub fn start_ns(&self) -> u64 {
        self.info
            .as_ref()
            .map(|i| i.start)
            .filter(|&s| s > 0)
            .or_else(|| self.intervals.first().map(|i| i.start))
            .unwrap_or(0)
    }

    /// The run's end, Unix epoch ns.
    pub fn end_ns(&self) -> u64 {
        let from_info = self.info.as_ref().map(|i| i.end).unwrap_or(0);
        let from_intervals = self
            .intervals
            .last()
            .map(|i| i.start.saturating_add((self.interval_secs(i) * 1e9) as u64))
            .unwrap_or(0);
        from_info.max(from_intervals).max(self.start_ns())
    }

    /// Seconds the run lasted (at least 1, so axes always have a width).
    pub fn duration_s(&self) -> f64 {
        let from_info = self
            .info
            .as_ref()
            .map(|i| i.duration_ns as f64 / 1e9)
            .unwrap_or(0.0);
        let span = (self.end_ns() - self.start_ns()) as f64 / 1e9;
        from_info.max(span).max(1.0)
    }

    /// An interval's width in seconds, never zero (older or odd summaries).
    pub fn interval_secs(&self, interval: &Interval) -> f64 {
        if interval.secs.is_finite() && interval.secs > 0.0 {
            interval.secs
        } else {
            self.info
                .as_ref()
                .map(|i| i.interval_secs)
                .filter(|s| s.is_finite() && *s > 0.0)
                .unwrap_or(1.0)
        }
    }

    /// Seconds from the run's start to the middle of `interval`, the x of its point.
    pub fn interval_x(&self, interval: &Interval) -> f64 {
        interval.start.saturating_sub(self.start_ns()) as f64 / 1e9
            + self.interval_secs(interval) / 2.0
    }

    /// The `max` busiest endpoints, then the rest merged as one "others" entry.
    pub fn top_endpoints(&self, max: usize) -> Vec<Endpoint> {
        let names: Vec<&str> = self
            .endpoints
            .iter()
            .map(|e| e.stats.name.as_str())
            .collect();
        group(&[self], &names, max).pop().unwrap_or_default()
    }
}

/// The endpoint names of several runs, busiest (summed over runs) first.
pub fn ranked_names(runs: &[&Run]) -> Vec<String> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    let mut order = Vec::new();
    for run in runs {
        for e in &run.endpoints {
            let entry = counts.entry(e.stats.name.as_str()).or_insert_with(|| {
                order.push(e.stats.name.as_str());
                0
            });
            *entry = entry.saturating_add(e.stats.count);
        }
    }
    order.sort_by(|a, b| counts[b].cmp(&counts[a]).then_with(|| a.cmp(b)));
    order.into_iter().map(str::to_string).collect()
}

/// For each run, one entry per name among the first `max` of `names` (empty
/// stats where the run lacks it), then "others (N endpoints)" merging the rest.
pub fn group<S: AsRef<str>>(runs: &[&Run], names: &[S], max: usize) -> Vec<Vec<Endpoint>> {
    // With one name too many, drawing it beats an "others" of one.
    let shown = if names.len() <= max + 1 {
        names.len()
    } else {
        max
    };
    runs.iter()
        .map(|run| {
            let by_name: HashMap<&str, &Endpoint> = run
                .endpoints
                .iter()
                .map(|e| (e.stats.name.as_str(), e))
                .collect();
            let mut out: Vec<Endpoint> = names[..shown]
                .iter()
                .map(|n| {
                    by_name
                        .get(n.as_ref())
                        .map(|e| (*e).clone())
                        .unwrap_or_else(|| Endpoint::empty(n.as_ref()))
                })
                .collect();
            if shown < names.len() {
                let rest: Vec<&Endpoint> = names[shown..]
                    .iter()
                    .filter_map(|n| by_name.get(n.as_ref()).copied())
                    .collect();
                let label = format!("others ({} endpoints)", names.len() - shown);
                out.push(Endpoint::merged(&label, &rest));
            }
            out
        })
        .collect()
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint::empty("")
    }
}

impl Endpoint {
    pub fn empty(name: &str) -> Endpoint {
        Endpoint {
            stats: Stats {
                name: name.to_string(),
                ..Stats::default()
            },
            hist: None,
        }
    }

    /// Sums counts and rates; latency comes from the merged histograms when
    /// every part has one, otherwise from count-weighted headline figures.
    pub fn merged(name: &str, parts: &[&Endpoint]) -> Endpoint {
        let mut stats = Stats {
            name: name.to_string(),
            ..Stats::default()
        };
        for p in parts {
            stats.count = stats.count.saturating_add(p.stats.count);
            stats.errors = stats.errors.saturating_add(p.stats.errors);
            stats.rps += p.stats.rps;
            stats.failures_per_s += p.stats.failures_per_s;
            stats.bytes_in = stats.bytes_in.saturating_add(p.stats.bytes_in);
            stats.bytes_out = stats.bytes_out.saturating_add(p.stats.bytes_out);
        }
        let hist = if !parts.is_empty() && parts.iter().all(|p| p.hist.is_some()) {
            let mut h = records::hist::new_histogram();
            for p in parts {
                if let Some(ph) = &p.hist {
                    records::hist::merge(&mut h, ph);
                }
            }
            Some(h)
        } else {
            None
        };
        stats.latency = match &hist {
            Some(h) => records::hist::latency(h),
            None => weighted_latency(parts),
        };
        Endpoint { stats, hist }
    }
}

fn weighted_latency(parts: &[&Endpoint]) -> Latency {
    let total = parts
        .iter()
        .fold(0u64, |sum, p| sum.saturating_add(p.stats.count));
    if total == 0 {
        return Latency::default();
    }
    let w = |f: &dyn Fn(&Latency) -> f64| -> f64 {
        parts
            .iter()
            .map(|p| f(&p.stats.latency) * p.stats.count as f64)
            .sum::<f64>()
            / total as f64
    };
    Latency {
        min_ns: parts
            .iter()
            .map(|p| p.stats.latency.min_ns)
            .min()
            .unwrap_or(0),
        max_ns: parts
            .iter()
            .map(|p| p.stats.latency.max_ns)
            .max()
            .unwrap_or(0),
        mean_ns: w(&|l| l.mean_ns),
        p50_ns: w(&|l| l.p50_ns as f64) as u64,
        p90_ns: w(&|l| l.p90_ns as f64) as u64,
        p95_ns: w(&|l| l.p95_ns as f64) as u64,
        p99_ns: w(&|l| l.p99_ns as f64) as u64,
        p999_ns: w(&|l| l.p999_ns as f64) as u64,
        ..Latency::default()
    }
}

fn decode(stats: &Stats) -> Result<Option<Histogram<u64>>, String> {
    if stats.hist.trim().is_empty() {
        return Ok(None);
    }
    records::hist::decode(&stats.hist)
        .map(Some)
        .map_err(|e| format!("field `hist` of {:?}: {e}", stats.name))
}

/// `runs/mono.ndjson` → `mono`.
fn stem(path: &str) -> String {
    if path == "-" {
        return "stdin".into();
    }
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}

/// Reads every run, applying `--label`s in order; duplicate labels get a suffix.
pub fn load_all(paths: &[String], labels: &[String]) -> anyhow::Result<Vec<Run>> {
    if labels.len() > paths.len() {
        return Err(records::bad_input(format!(
            "{} --label values for {} runs; give at most one per run",
            labels.len(),
            paths.len()
        )));
    }
    if paths.iter().filter(|p| p.as_str() == "-").count() > 1 {
        return Err(records::bad_input("stdin (`-`) can be read only once"));
    }
    let mut runs = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let mut run = Run::load(path).with_context(|| format!("reading run {}", i + 1))?;
        if let Some(label) = labels.get(i) {
            run.label = label.clone();
        }
        let base = run.label.clone();
        let mut n = 2;
        while runs.iter().any(|r: &Run| r.label == run.label) {
            run.label = format!("{base} ({n})");
            n += 1;
        }
        runs.push(run);
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str, count: u64, latency_ms: u64) -> Endpoint {
        let mut h = records::hist::new_histogram();
        for _ in 0..count {
            records::hist::record(&mut h, latency_ms * 1_000_000);
        }
        Endpoint {
            stats: Stats {
                name: name.into(),
                count,
                errors: count / 10,
                rps: count as f64,
                latency: records::hist::latency(&h),
                ..Stats::default()
            },
            hist: Some(h),
        }
    }

    fn run(endpoints: Vec<Endpoint>) -> Run {
        let refs: Vec<&Endpoint> = endpoints.iter().collect();
        let total = Endpoint::merged("Aggregated", &refs);
        Run {
            path: "r.ndjson".into(),
            label: "r".into(),
            info: None,
            endpoints,
            total,
            intervals: Vec::new(),
            thresholds: Vec::new(),
        }
    }

    #[test]
    fn hundreds_of_endpoints_become_top_n_and_others() {
        let r = run((0..300)
            .map(|i| endpoint(&format!("e{i}"), 300 - i, 1 + i))
            .collect());
        let top = r.top_endpoints(9);
        assert_eq!(top.len(), 10);
        assert_eq!(top[0].stats.name, "e0");
        let others = &top[9];
        assert_eq!(others.stats.name, "others (291 endpoints)");
        assert_eq!(others.stats.count, (1..=291).sum::<u64>());
        // Merged histograms: the slowest endpoint (e299, 300 ms) is the max.
        assert!(others.stats.latency.max_ns >= 299_000_000);
    }

    #[test]
    fn one_extra_endpoint_is_drawn_rather_than_grouped() {
        let r = run((0..10).map(|i| endpoint(&format!("e{i}"), 10, 1)).collect());
        let top = r.top_endpoints(9);
        assert_eq!(top.len(), 10);
        assert!(top.iter().all(|e| !e.stats.name.starts_with("others")));
    }

    #[test]
    fn runs_missing_an_endpoint_get_an_empty_row() {
        let a = run(vec![endpoint("x", 5, 1), endpoint("y", 3, 1)]);
        let b = run(vec![endpoint("y", 4, 1)]);
        let names = ranked_names(&[&a, &b]);
        assert_eq!(names, ["y", "x"]);
        let groups = group(&[&a, &b], &names, 8);
        assert_eq!(groups[1][1].stats.name, "x");
        assert_eq!(groups[1][1].stats.count, 0);
    }

    #[test]
    fn merging_nothing_is_empty_not_a_panic() {
        let e = Endpoint::merged("none", &[]);
        assert_eq!(e.stats.count, 0);
        assert!(e.hist.is_none());
    }
}
