//! `--merge`: summaries in, one summary out. Endpoint histograms are added,
//! counts summed, extremes combined and time-series buckets with the same
//! start joined, so merging shard summaries gives exactly what aggregating
//! all their events at once gives.

use std::io::BufRead;

use records::{hist, InputError, LineReader, Stats, Summary};

use crate::tally::{narrow_into, EndpointTally, Tally, MAX_INTERVALS};

/// What reading one summary input found.
#[derive(Debug, Default)]
pub struct MergeInput {
    pub records: u64,
    /// Interval records without a histogram (from an older aggregate): their
    /// counts merge, their percentiles cannot.
    pub intervals_without_hist: u64,
}

/// Reads one summary stream into `tally`.
pub fn read_summaries<R: BufRead>(
    reader: &mut LineReader<R>,
    tally: &mut Tally,
    interval_from_input: &mut bool,
) -> Result<MergeInput, InputError> {
    let mut seen = MergeInput::default();
    while let Some(record) = reader.next_record::<Summary>() {
        let record = record?;
        let result = match record {
            Summary::Run(run) => {
                add_run(tally, &run, interval_from_input);
                Ok(())
            }
            Summary::Endpoint(stats) => add_endpoint(tally, &stats),
            Summary::Interval(interval) => {
                let width = tally.interval_ns as f64 / 1e9;
                if (interval.secs - width).abs() > 1e-9 {
                    Err(format!(
                        "interval of {}s cannot merge with intervals of {}s",
                        interval.secs, width
                    ))
                } else if let Some(t) = tally.interval_at(interval.start) {
                    t.count += interval.count;
                    t.errors += interval.errors;
                    t.max_ns = t.max_ns.max(interval.max_ns);
                    t.vus_done += interval.vus;
                    match &interval.hist {
                        Some(text) => hist::decode(text)
                            .map(|h| narrow_into(&mut t.hist, &h))
                            .map_err(|e| format!("field `hist`: {e}")),
                        None => {
                            seen.intervals_without_hist += 1;
                            Ok(())
                        }
                    }
                } else {
                    Err(format!(
                        "more than {MAX_INTERVALS} time-series intervals in the summaries"
                    ))
                }
            }
            // Totals are recomputed from the endpoints; thresholds are
            // evaluated anew; other kinds are not aggregate's.
            _ => Ok(()),
        };
        if let Err(message) = result {
            let err = reader.malformed(message);
            if reader.skipping_invalid() {
                reader.note_skip(err.to_string());
                continue;
            }
            return Err(err);
        }
        seen.records += 1;
    }
    Ok(seen)
}

fn add_run(tally: &mut Tally, run: &records::RunInfo, interval_from_input: &mut bool) {
    if run.start != 0 || run.end != 0 {
        tally.start = tally.start.min(run.start);
        tally.end = tally.end.max(run.end);
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

fn add_endpoint(tally: &mut Tally, stats: &Stats) -> Result<(), String> {
    let response = hist::decode(&stats.hist).map_err(|e| format!("field `hist`: {e}"))?;
    if response.len() != stats.count {
        return Err(format!(
            "field `hist` holds {} values but `count` is {}",
            response.len(),
            stats.count
        ));
    }
    let service = match (&stats.service, &stats.service_hist) {
        (Some(latency), Some(text)) => {
            tally.any_lag = true;
            let h = hist::decode(text).map_err(|e| format!("field `service_hist`: {e}"))?;
            Some((latency.min_ns, latency.max_ns, h))
        }
        (None, None) => None,
        _ => return Err("`service` and `service_hist` must come together".into()),
    };
    let mut part = match service {
        Some((min, max, h)) => {
            let mut part = EndpointTally::with_histograms(stats.name.clone(), response, Some(h));
            if stats.count > 0 {
                part.service_min_ns = min;
                part.service_max_ns = max;
            }
            part
        }
        None => {
            let mut part = EndpointTally::with_histograms(stats.name.clone(), response, None);
            // Without lag, service time is response time.
            if stats.count > 0 {
                part.service_min_ns = stats.latency.min_ns;
                part.service_max_ns = stats.latency.max_ns;
            }
            part
        }
    };
    part.count = stats.count;
    for (kind, n) in &stats.error_kinds {
        part.add_error(kind, *n);
    }
    part.errors = part.errors.max(stats.errors);
    for (code, n) in &stats.status {
        let code: u16 = code
            .parse()
            .map_err(|_| format!("field `status`: `{code}` is not an HTTP status"))?;
        part.add_status(code, *n);
    }
    part.bytes_in = stats.bytes_in;
    part.bytes_out = stats.bytes_out;
    if stats.count > 0 {
        part.min_ns = stats.latency.min_ns;
        part.max_ns = stats.latency.max_ns;
    }
    tally.endpoint(&stats.name).absorb(&part);
    Ok(())
}
