//! One summary file read into one type, with one validation policy: the
//! reader behind `compare`, `chart` and `aggregate --merge`, so the three
//! accept and refuse the same files.
//!
//! The policy is the strictest sensible one. A file is refused (exit 2, file
//! and line named) when an endpoint or total record
//! - has more errors than requests, or error kinds or status codes adding up
//!   to more than its count;
//! - carries a histogram that does not decode (an empty `hist` included), or
//!   that holds a different number of values than `count`;
//! - has a rate that is negative or not a number, or `min_ns` above `max_ns`;
//! - has `service` without `service_hist` or the other way round;
//! - names an endpoint already seen in the same file (a second total or run
//!   record likewise): concatenated summaries are combined with
//!   `aggregate --merge`, which adds files, not repeated lines;
//!
//! or when an interval record has a width that is not a positive number, more
//! errors than requests, or a histogram that does not decode or match its count.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use hdrhistogram::Histogram;

use crate::ndjson::{InputError, LineReader};
use crate::{hist, Interval, RunInfo, Stats, Summary, ThresholdResult};

/// The name of the all-endpoints record and row (Locust's `stats.csv` name).
pub const TOTAL: &str = "Aggregated";

/// An endpoint's (or the total's) statistics with their decoded histograms.
#[derive(Clone, Debug)]
pub struct Entry {
    pub stats: Stats,
    /// Response time (corrected for coordinated omission).
    pub hist: Histogram<u64>,
    /// Service time, when the events carried a lag.
    pub service_hist: Option<Histogram<u64>>,
}

impl Entry {
    /// An endpoint with no requests: what a run that lacks `name` shows.
    pub fn empty(name: &str) -> Entry {
        Entry {
            stats: Stats {
                name: name.to_string(),
                ..Stats::default()
            },
            hist: hist::new_histogram(),
            service_hist: None,
        }
    }
}

/// One summary stream, validated.
#[derive(Clone, Debug)]
pub struct Run {
    /// What the run is called in reports: the run record's `label`, or the
    /// file name without its extension (see [`default_label`]).
    pub label: String,
    pub path: String,
    pub info: Option<RunInfo>,
    /// In file order.
    pub endpoints: Vec<Entry>,
    /// Flows (user journeys), in file order; never part of the total.
    pub flows: Vec<Entry>,
    /// The `total` record, or one merged from the endpoints when the file has none.
    pub total: Entry,
    /// In file order; each one's histogram was checked to decode.
    pub intervals: Vec<Interval>,
    /// Each interval's histogram as the check decoded it (`None` in older
    /// summaries without one), so a merge does not decode it again.
    pub interval_hists: Vec<Option<Histogram<u64>>>,
    pub thresholds: Vec<ThresholdResult>,
}

impl Run {
    /// Reads a summary file (`-` for stdin). Errors name the file and line.
    pub fn load(path: &str) -> Result<Run, InputError> {
        let mut reader = crate::ndjson::open(path)?;
        Run::read(&mut reader, path)
    }

    /// Reads a summary stream. Under `--skip-invalid` (the reader's setting)
    /// a record that breaks the policy is skipped and counted instead.
    pub fn read<R: BufRead>(reader: &mut LineReader<R>, path: &str) -> Result<Run, InputError> {
        reader.expect(crate::ndjson::Stream::Summaries);
        let mut run = Run {
            label: String::new(),
            path: path.to_string(),
            info: None,
            endpoints: Vec::new(),
            flows: Vec::new(),
            total: Entry::empty(TOTAL),
            intervals: Vec::new(),
            interval_hists: Vec::new(),
            thresholds: Vec::new(),
        };
        // Which line first held each endpoint name, the total and the run record.
        let mut first_line: BTreeMap<(u8, String), u64> = BTreeMap::new();
        let mut total = None;
        let mut records = 0u64;
        while let Some(record) = reader.next_record::<Summary>() {
            let record = record?;
            let line = reader.line_number();
            let mut once = |slot: u8, name: &str, what: &str| match first_line
                .insert((slot, name.to_string()), line)
            {
                Some(first) => Err(format!(
                    "{what} appears twice (first on line {first}); combine summaries \
                     with `aggregate --merge`, which adds whole files"
                )),
                None => Ok(()),
            };
            let checked = match record {
                Summary::Run(info) => once(0, "", "the run record").map(|()| {
                    run.info = Some(info);
                }),
                Summary::Endpoint(stats) => {
                    once(1, &stats.name, &format!("endpoint `{}`", stats.name))
                        .and_then(|()| entry(stats))
                        .map(|e| run.endpoints.push(e))
                }
                Summary::Flow(stats) => once(3, &stats.name, &format!("flow `{}`", stats.name))
                    .and_then(|()| entry(stats))
                    .map(|e| run.flows.push(e)),
                Summary::Total(stats) => once(2, "", "the total record")
                    .and_then(|()| entry(stats))
                    .map(|e| total = Some(e)),
                Summary::Interval(interval) => check_interval(&interval).map(|hist| {
                    run.intervals.push(interval);
                    run.interval_hists.push(hist);
                }),
                Summary::Threshold(t) => {
                    run.thresholds.push(t);
                    Ok(())
                }
                // Comparisons, samples and kinds from newer tools are not a run's.
                _ => continue,
            };
            match checked {
                Ok(()) => records += 1,
                Err(message) => {
                    let err = reader.malformed(message);
                    if !reader.skipping_invalid() {
                        return Err(err);
                    }
                    reader.note_skip(err.to_string());
                }
            }
        }
        if records == 0 {
            return Err(InputError::Missing {
                source_name: reader.source_name().to_string(),
                message: "no summary records: expected the output of `aggregate` \
                          (`aggregate events.ndjson > summary.ndjson`)"
                    .into(),
            });
        }
        run.total = total
            .unwrap_or_else(|| Entry::merged(TOTAL, &run.endpoints.iter().collect::<Vec<_>>()));
        run.label = run
            .info
            .as_ref()
            .and_then(|i| i.labels.get("label"))
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| default_label(path));
        Ok(run)
    }

    /// The endpoint called `name`, else the flow, or the total for
    /// [`TOTAL`] when nothing else has that name.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.endpoints
            .iter()
            .chain(&self.flows)
            .find(|e| e.stats.name == name)
            .or_else(|| (name == TOTAL).then_some(&self.total))
    }

    /// When the run started, Unix epoch ns: the run record's start, else the
    /// first interval's.
    pub fn start_ns(&self) -> u64 {
        self.info
            .as_ref()
            .map(|i| i.start)
            .filter(|&s| s > 0)
            .or_else(|| self.intervals.iter().map(|i| i.start).min())
            .unwrap_or(0)
    }

    /// How long the run lasted: what its run record says (aggregate's
    /// measure, the one every tool prints), else the span of its intervals.
    pub fn duration_ns(&self) -> u64 {
        match &self.info {
            Some(info) => info.duration_ns,
            None => self.end_ns() - self.start_ns(),
        }
    }

    /// The end of the data: the run record's end or the last interval's,
    /// whichever is later; never before the start.
    pub fn end_ns(&self) -> u64 {
        let from_info = self.info.as_ref().map_or(0, |i| i.end);
        let from_intervals = self
            .intervals
            .iter()
            .map(|i| i.start.saturating_add((i.secs * 1e9) as u64))
            .max()
            .unwrap_or(0);
        from_info.max(from_intervals).max(self.start_ns())
    }

    /// Seconds from the run's start to the middle of the part of `interval`
    /// inside the load window: a partial first bucket is drawn at the middle
    /// of the time it covers, not half a bucket before the run began.
    pub fn interval_x(&self, interval: &Interval) -> f64 {
        let start = self.start_ns();
        let from = interval.start.max(start);
        (from - start) as f64 / 1e9 + interval.active() / 2.0
    }
}

impl Entry {
    /// Counts, rates and histograms summed: a total from its endpoints, or
    /// the "others" of a chart.
    pub fn merged(name: &str, parts: &[&Entry]) -> Entry {
        let mut entry = Entry::empty(name);
        let stats = &mut entry.stats;
        for p in parts {
            stats.count = stats.count.saturating_add(p.stats.count);
            stats.errors = stats.errors.saturating_add(p.stats.errors);
            stats.rps += p.stats.rps;
            stats.failures_per_s += p.stats.failures_per_s;
            stats.bytes_in = stats.bytes_in.saturating_add(p.stats.bytes_in);
            stats.bytes_out = stats.bytes_out.saturating_add(p.stats.bytes_out);
            hist::merge(&mut entry.hist, &p.hist);
        }
        if !entry.hist.is_empty() {
            entry.stats.latency = hist::latency(&entry.hist);
        }
        entry
    }
}

/// Decodes an endpoint's histograms and checks its figures against each other.
fn entry(stats: Stats) -> Result<Entry, String> {
    let name = &stats.name;
    let hist = decode("hist", name, &stats.hist, stats.count)?;
    if stats.errors > stats.count {
        return Err(format!(
            "`{name}` has more errors ({}) than requests ({})",
            stats.errors, stats.count
        ));
    }
    for (field, counts) in [
        ("error_kinds", &stats.error_kinds),
        ("status", &stats.status),
    ] {
        let sum = counts.values().fold(0u64, |a, b| a.saturating_add(*b));
        if sum > stats.count {
            return Err(format!(
                "field `{field}` of `{name}` counts {sum} requests but `count` is {}",
                stats.count
            ));
        }
    }
    let grouped = stats
        .failures
        .iter()
        .fold(0u64, |a, g| a.saturating_add(g.count));
    if grouped > stats.errors {
        return Err(format!(
            "field `failures` of `{name}` counts {grouped} errors but `errors` is {}",
            stats.errors
        ));
    }
    for code in stats.status.keys() {
        if code.parse::<u16>().is_err() {
            return Err(format!(
                "field `status` of `{name}`: `{code}` is not an HTTP status"
            ));
        }
    }
    for (field, rate) in [("rps", stats.rps), ("failures_per_s", stats.failures_per_s)] {
        if !rate.is_finite() || rate < 0.0 {
            return Err(format!("field `{field}` of `{name}` is not a rate: {rate}"));
        }
    }
    if stats.count > 0 && stats.latency.min_ns > stats.latency.max_ns {
        return Err(format!(
            "`{name}` has min_ns {} above max_ns {}",
            stats.latency.min_ns, stats.latency.max_ns
        ));
    }
    for (field, phase) in [("connect", &stats.connect), ("ttfb", &stats.ttfb)] {
        if let Some(phase) = phase {
            if phase.count > stats.count {
                return Err(format!(
                    "field `{field}` of `{name}` counts {} requests but `count` is {}",
                    phase.count, stats.count
                ));
            }
            decode(&format!("{field}.hist"), name, &phase.hist, phase.count)?;
        }
    }
    let service_hist = match (&stats.service, &stats.service_hist) {
        (Some(_), Some(text)) => Some(decode("service_hist", name, text, stats.count)?),
        (None, None) => None,
        _ => {
            return Err(format!(
                "`{name}`: `service` and `service_hist` must come together"
            ))
        }
    };
    Ok(Entry {
        stats,
        hist,
        service_hist,
    })
}

fn decode(field: &str, name: &str, text: &str, count: u64) -> Result<Histogram<u64>, String> {
    let h = hist::decode(text).map_err(|e| format!("field `{field}` of `{name}`: {e}"))?;
    if h.len() != count {
        return Err(format!(
            "field `{field}` of `{name}` holds {} values but `count` is {count}",
            h.len()
        ));
    }
    Ok(h)
}

fn check_interval(interval: &Interval) -> Result<Option<Histogram<u64>>, String> {
    if !interval.secs.is_finite() || interval.secs <= 0.0 {
        return Err(format!(
            "interval at {}: width `secs` must be a positive number of seconds, not {}",
            interval.start, interval.secs
        ));
    }
    if !interval.active_secs.is_finite()
        || interval.active_secs < 0.0
        || interval.active_secs > interval.secs * (1.0 + 1e-9)
    {
        return Err(format!(
            "interval at {}: `active_secs` {} must lie between 0 and its width {}",
            interval.start, interval.active_secs, interval.secs
        ));
    }
    if interval.errors > interval.count {
        return Err(format!(
            "interval at {}: more errors ({}) than requests ({})",
            interval.start, interval.errors, interval.count
        ));
    }
    if !interval.rps.is_finite() || interval.rps < 0.0 {
        return Err(format!(
            "interval at {}: field `rps` is not a rate: {}",
            interval.start, interval.rps
        ));
    }
    interval
        .hist
        .as_ref()
        .map(|text| {
            decode(
                "hist",
                &format!("interval at {}", interval.start),
                text,
                interval.count,
            )
        })
        .transpose()
}

/// A run's name when nothing else names it: the file name without
/// `.ndjson`, `.jsonl` or `.json` (`runs/mono.ndjson` → `mono`); `stdin` for `-`.
pub fn default_label(path: &str) -> String {
    if path == "-" {
        return "stdin".into();
    }
    let name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    for ext in [".ndjson", ".jsonl", ".json"] {
        if let Some(stem) = name.strip_suffix(ext) {
            if !stem.is_empty() {
                return stem.to_string();
            }
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Run, InputError> {
        let mut reader = LineReader::new(text.as_bytes(), "s.ndjson");
        Run::read(&mut reader, "s.ndjson")
    }

    fn endpoint(name: &str, count: u64, errors: u64) -> String {
        let mut h = hist::new_histogram();
        for _ in 0..count {
            hist::record(&mut h, 1_000_000);
        }
        let stats = Stats {
            name: name.into(),
            count,
            errors,
            latency: hist::latency(&h),
            hist: hist::encode(&h),
            ..Stats::default()
        };
        serde_json::to_string(&Summary::Endpoint(stats)).unwrap()
    }

    #[test]
    fn labels_default_to_the_file_name() {
        assert_eq!(default_label("out/mono.ndjson"), "mono");
        assert_eq!(default_label("base.json"), "base");
        assert_eq!(default_label("a.b.jsonl"), "a.b");
        assert_eq!(default_label("run"), "run");
        assert_eq!(default_label("-"), "stdin");
    }

    #[test]
    fn reads_a_good_file() {
        let run = read(&format!(
            "{}\n{}\n",
            endpoint("a", 3, 1),
            endpoint("b", 2, 0)
        ))
        .unwrap();
        assert_eq!(run.endpoints.len(), 2);
        assert_eq!(run.label, "s");
        assert_eq!(run.find("b").unwrap().hist.len(), 2);
    }

    #[test]
    fn refuses_what_disagrees_with_itself() {
        let twice = format!("{}\n{}\n", endpoint("a", 1, 0), endpoint("a", 1, 0));
        let err = read(&twice).unwrap_err().to_string();
        assert!(
            err.starts_with("s.ndjson:2:") && err.contains("twice"),
            "{err}"
        );

        let err = read(&endpoint("a", 1, 5)).unwrap_err().to_string();
        assert!(err.contains("more errors (5) than requests (1)"), "{err}");

        let empty_hist = endpoint("a", 1, 0).replace(
            &format!("\"hist\":\"{}\"", {
                let mut h = hist::new_histogram();
                hist::record(&mut h, 1_000_000);
                hist::encode(&h)
            }),
            "\"hist\":\"\"",
        );
        assert!(empty_hist.contains("\"hist\":\"\""));
        let err = read(&empty_hist).unwrap_err().to_string();
        assert!(err.contains("field `hist` of `a`"), "{err}");

        let err = read("{\"kind\":\"comparison\",\"name\":\"x\",\"metric\":\"p95\",\"baseline\":null,\"current\":null,\"change\":null,\"p_value\":null,\"effect\":null,\"verdict\":\"~\"}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no summary records"), "{err}");
    }

    #[test]
    fn skip_invalid_skips_and_counts() {
        let text = format!("{}\n{}\n", endpoint("a", 1, 5), endpoint("b", 1, 0));
        let mut reader = LineReader::new(text.as_bytes(), "s").skip_invalid(true);
        let run = Run::read(&mut reader, "s").unwrap();
        assert_eq!(run.endpoints.len(), 1);
        assert_eq!(reader.skipped(), 1);
    }
}
