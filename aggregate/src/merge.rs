//! `--merge`: summaries in, one summary out. Endpoint histograms are added,
//! counts summed, extremes combined and time-series buckets with the same
//! start joined, so merging shard summaries gives exactly what aggregating
//! all their events at once gives. Within one file an endpoint may appear
//! once (the reader's policy); across files, endpoints of the same name add up.
//!
//! Each input is one shard of the merged run ([`Shards`]): it gets a row in
//! the per-shard breakdown, and inputs that cannot be parts of one run (a
//! shard of another run, the same shard twice) are refused.

use std::io::BufRead;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use records::run::{Entry, Run};
use records::{bad_input, hist, LineReader, Shard, ShardRun};

use crate::tally::{narrow_into, EndpointTally, Tally, MAX_INTERVALS};

/// What reading one summary input found.
#[derive(Debug, Default)]
pub struct MergeInput {
    /// Interval records without a histogram (from an older aggregate): their
    /// counts merge, their percentiles cannot.
    pub intervals_without_hist: u64,
}

/// Reads one summary stream (checked by [`records::run`], the reader compare
/// and chart use) into `tally`.
pub fn read_summaries<R: BufRead>(
    reader: &mut LineReader<R>,
    tally: &mut Tally,
    shards: &mut Shards,
    interval_from_input: &mut bool,
) -> anyhow::Result<MergeInput> {
    let source = reader.source_name().to_string();
    let run = Run::read(reader, &source)?;
    shards.add(&run, &source)?;
    if let Some(info) = &run.info {
        add_run(tally, info, interval_from_input);
    }
    for entry in &run.endpoints {
        let part = tally_of(entry, tally);
        tally.endpoint(&entry.stats.name).absorb(&part);
    }
    for entry in &run.flows {
        let part = tally_of(entry, tally);
        tally.flow(&entry.stats.name).absorb(&part);
    }
    // Totals are recomputed from the endpoints; thresholds are evaluated anew.
    let mut seen = MergeInput::default();
    for (interval, decoded) in run.intervals.iter().zip(&run.interval_hists) {
        let fail =
            |why: String| bad_input(format!("{source}: interval at {}: {why}", interval.start));
        let width = tally.interval_ns as f64 / 1e9;
        if (interval.secs - width).abs() > 1e-9 {
            return Err(fail(format!(
                "{}s wide; it cannot merge with intervals of {width}s",
                interval.secs
            )));
        }
        let Some(t) = tally.interval_at(interval.start) else {
            return Err(fail(format!(
                "more than {MAX_INTERVALS} time-series intervals in the summaries"
            )));
        };
        t.count += interval.count;
        t.errors += interval.errors;
        for (code, n) in &interval.status {
            if let Ok(code) = code.parse::<u16>() {
                t.add_status(code, *n);
            }
        }
        t.max_ns = t.max_ns.max(interval.max_ns);
        t.bytes_in = t.bytes_in.saturating_add(interval.bytes_in);
        t.vus_done += interval.vus;
        match decoded {
            Some(h) => narrow_into(t.hist.open(), h),
            None => seen.intervals_without_hist += 1,
        }
    }
    Ok(seen)
}

fn add_run(tally: &mut Tally, run: &records::RunInfo, interval_from_input: &mut bool) {
    if run.start != 0 || run.end != 0 {
        tally.start = tally.start.min(run.start);
        tally.end = tally.end.max(run.end);
        tally.add_load(&records::Load {
            start: run.start,
            end: run.start.saturating_add(run.duration_ns),
            scheduled: run.scheduled,
            sent: run
                .scheduled
                .saturating_sub(run.dropped.saturating_add(run.cancelled)),
            dropped: run.dropped,
            cancelled: run.cancelled,
            vus_not_started: run.vus_not_started,
            cpu_bound: run.cpu_bound,
            shard: run.shard,
        });
    }
    if *interval_from_input && run.interval_secs > 0.0 {
        // The first summary fixes the bucket width; later ones must match
        // it (their interval records are checked one by one).
        tally.interval_ns = (run.interval_secs * 1e9).round().max(1.0) as u64;
        *interval_from_input = false;
    }
    for (k, v) in &run.labels {
        tally.labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for (k, v) in &run.tools {
        if k != "aggregate" {
            tally.tools.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if tally.scenario.is_none() {
        tally.scenario = run.scenario.clone();
    }
    tally.skipped_lines += run.skipped_lines;
}

/// A summary's endpoint (or flow) as a tally to add.
fn tally_of(entry: &Entry, tally: &mut Tally) -> EndpointTally {
    let stats = &entry.stats;
    let mut part = EndpointTally::with_histograms(
        stats.name.clone(),
        entry.hist.clone(),
        entry.service_hist.clone(),
    );
    if let Some(service) = &stats.service {
        tally.any_lag = true;
        if stats.count > 0 {
            part.service_min_ns = service.min_ns;
            part.service_max_ns = service.max_ns;
        }
    } else if stats.count > 0 {
        // Without lag, service time is response time.
        part.service_min_ns = stats.latency.min_ns;
        part.service_max_ns = stats.latency.max_ns;
    }
    part.count = stats.count;
    for (kind, n) in &stats.error_kinds {
        part.add_error(kind, *n);
    }
    for g in &stats.failures {
        part.add_failure(
            &g.kind,
            g.status,
            g.detail.as_deref(),
            g.count,
            (g.first_ns, g.last_ns),
        );
    }
    part.errors = part.errors.max(stats.errors);
    for (code, n) in &stats.status {
        // The reader checked every code is a status.
        if let Ok(code) = code.parse::<u16>() {
            part.add_status(code, *n);
        }
    }
    // The reader checked these decode.
    let decode = |p: &Option<records::Phase>| p.as_ref().and_then(|p| hist::decode(&p.hist).ok());
    part.add_phases(
        decode(&stats.connect).as_ref(),
        decode(&stats.ttfb).as_ref(),
    );
    for (proto, n) in &stats.protocols {
        part.add_protocol(proto, *n);
    }
    part.bytes_in = stats.bytes_in;
    part.bytes_out = stats.bytes_out;
    if stats.count > 0 {
        part.min_ns = stats.latency.min_ns;
        part.max_ns = stats.latency.max_ns;
    }
    part
}

/// The inputs of a merge as shards of one run: one [`ShardRun`] each (a few
/// numbers, so memory stays flat in the number of shards), and what tells
/// them apart from parts of other runs.
#[derive(Debug, Default)]
pub struct Shards {
    pub runs: Vec<ShardRun>,
    /// Per input: its scenario and a fingerprint of its whole distribution.
    seen: Vec<(Option<String>, u64)>,
}

/// Windows whose starts differ by more than this, or whose lengths differ
/// by more than [`WINDOW_SPREAD`], disagree: the merged rate is then over a
/// span no shard ran for alone. `--start-at` makes starts equal to the ns.
pub const START_SPREAD_NS: u64 = 100_000_000;
pub const WINDOW_SPREAD: f64 = 0.01;
/// Missing shards named in the warning; the rest are counted.
const MISSING_SHOWN: usize = 8;

impl Shards {
    /// Takes in one input, refusing one that cannot belong with the others.
    pub fn add(&mut self, run: &Run, source: &str) -> anyhow::Result<()> {
        let info = run.info.clone().unwrap_or_default();
        let total = &run.total.stats;
        let fingerprint = {
            let mut h = DefaultHasher::new();
            (
                info.shard,
                &info.scenario,
                info.start,
                info.duration_ns,
                total.count,
            )
                .hash(&mut h);
            total.hist.hash(&mut h);
            h.finish()
        };
        let row = ShardRun {
            shard: info.shard,
            source: source.to_string(),
            start: info.start,
            duration_ns: info.duration_ns,
            count: total.count,
            errors: total.errors,
            rps: total.rps,
            p50_ns: total.latency.p50_ns,
            p95_ns: total.latency.p95_ns,
            p99_ns: total.latency.p99_ns,
            max_ns: total.latency.max_ns,
            dropped: total.dropped,
        };
        for (other, (scenario, print)) in self.runs.iter().zip(&self.seen) {
            let both = format!("{} and {source}", other.source);
            if *print == fingerprint {
                return Err(bad_input(format!(
                    "{both} are the same summary (a shard file given twice?); merge each shard once"
                )));
            }
            if let (Some(a), Some(b)) = (other.shard, row.shard) {
                if a.count != b.count {
                    return Err(bad_input(format!(
                        "{both} are shards {a} and {b}: not one run (they split it {} and {} ways)",
                        a.count, b.count
                    )));
                }
                if a == b {
                    return Err(bad_input(format!(
                        "{both} are both shard {a}: a shard appears twice (from two runs, or copied)"
                    )));
                }
            }
            if let (Some(a), Some(b)) = (scenario, &info.scenario) {
                if a != b {
                    return Err(bad_input(format!(
                        "{both} are from different scenarios (`{a}`, `{b}`): not shards of one run"
                    )));
                }
            }
            let (a_end, b_end) = (other.start + other.duration_ns, row.start + row.duration_ns);
            if other.duration_ns > 0
                && row.duration_ns > 0
                && (row.start >= a_end || other.start >= b_end)
            {
                return Err(bad_input(format!(
                    "{both} did not run at the same time (their load windows do not overlap; \
                     they started {} apart): not shards of one run",
                    records::format_ns(row.start.abs_diff(other.start) as f64)
                )));
            }
        }
        self.runs.push(row);
        self.seen.push((info.scenario, fingerprint));
        Ok(())
    }

    /// What is wrong with the set as a whole: shards missing (by their
    /// `I/N` names, or against `expect`), windows that disagree. With
    /// `expect`, a missing shard is an error; otherwise every finding is a
    /// warning for stderr.
    pub fn check(&self, expect: Option<u64>) -> anyhow::Result<Vec<String>> {
        let mut warnings = Vec::new();
        let named: Vec<Shard> = self.runs.iter().filter_map(|r| r.shard).collect();
        let count = expect.or_else(|| named.first().map(|s| s.count));
        if let Some(n) = count {
            if let Some(s) = named.iter().find(|s| s.count != n) {
                return Err(bad_input(format!(
                    "--expect-shards {n}, but the inputs are shards of {} (shard {s})",
                    s.count
                )));
            }
            let missing: Vec<String> = (0..n)
                .filter(|&i| !named.iter().any(|s| s.index == i))
                .map(|i| format!("{i}/{n}"))
                .collect();
            let short = if named.len() == self.runs.len() {
                (!missing.is_empty()).then(|| {
                    // A hundred names would hide the message; the first few tell.
                    let shown = missing.len().min(MISSING_SHOWN);
                    let more = match missing.len() - shown {
                        0 => String::new(),
                        n => format!(" and {n} more"),
                    };
                    format!("shards {}{more} are missing", missing[..shown].join(", "))
                })
            } else {
                (self.runs.len() as u64 != n)
                    .then(|| format!("{} inputs for {n} shards", self.runs.len()))
            };
            if let Some(short) = short {
                let message = format!("{short}: the merged run is not the whole run");
                if expect.is_some() {
                    return Err(bad_input(message));
                }
                warnings.push(message);
            }
        }
        if let (Some(first), Some(last)) = (
            self.runs.iter().min_by_key(|r| r.start),
            self.runs.iter().max_by_key(|r| r.start),
        ) {
            if last.start - first.start > START_SPREAD_NS {
                warnings.push(format!(
                    "the shards' windows disagree: {} started {} after {} (use hammer --start-at)",
                    last.source,
                    records::format_ns((last.start - first.start) as f64),
                    first.source
                ));
            }
        }
        let lengths = || self.runs.iter().map(|r| r.duration_ns);
        if let (Some(short), Some(long)) = (lengths().min(), lengths().max()) {
            if long > 0 && (long - short) as f64 > long as f64 * WINDOW_SPREAD {
                warnings.push(format!(
                    "the shards' windows disagree: their load windows last from {} to {}",
                    records::format_ns(short as f64),
                    records::format_ns(long as f64)
                ));
            }
        }
        Ok(warnings)
    }
}
