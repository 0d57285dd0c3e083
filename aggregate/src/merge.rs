//! `--merge`: summaries in, one summary out. Endpoint histograms are added,
//! counts summed, extremes combined and time-series buckets with the same
//! start joined, so merging shard summaries gives exactly what aggregating
//! all their events at once gives. Within one file an endpoint may appear
//! once (the reader's policy); across files, endpoints of the same name add up.

use std::io::BufRead;

use records::run::{Entry, Run};
use records::{bad_input, hist, LineReader};

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
    interval_from_input: &mut bool,
) -> anyhow::Result<MergeInput> {
    let source = reader.source_name().to_string();
    let run = Run::read(reader, &source)?;
    if let Some(info) = &run.info {
        add_run(tally, info, interval_from_input);
    }
    for entry in &run.endpoints {
        add_endpoint(tally, entry);
    }
    // Totals are recomputed from the endpoints; thresholds are evaluated anew.
    let mut seen = MergeInput::default();
    for interval in &run.intervals {
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
        t.max_ns = t.max_ns.max(interval.max_ns);
        t.bytes_in = t.bytes_in.saturating_add(interval.bytes_in);
        t.vus_done += interval.vus;
        match &interval.hist {
            // Checked to decode when it was read.
            Some(text) => narrow_into(
                &mut t.hist,
                &hist::decode(text).map_err(|e| fail(e.to_string()))?,
            ),
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
            cpu_bound: run.cpu_bound,
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

fn add_endpoint(tally: &mut Tally, entry: &Entry) {
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
    part.bytes_in = stats.bytes_in;
    part.bytes_out = stats.bytes_out;
    if stats.count > 0 {
        part.min_ns = stats.latency.min_ns;
        part.max_ns = stats.latency.max_ns;
    }
    tally.endpoint(&stats.name).absorb(&part);
}
