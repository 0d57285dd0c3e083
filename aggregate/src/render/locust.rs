//! Locust-compatible CSV files (`stats.csv`, `stats_history.csv`,
//! `failures.csv`, `exceptions.csv`), so pandas scripts written for Locust
//! keep working and see the same columns and types.
//!
//! Locust's median and percentile columns are whole milliseconds, which
//! Locust rounds to two significant digits ([`locust_ms`]); they are written
//! so here too. Min, max and average stay exact (three decimals, as loadpipe's
//! loopback latencies are often below 1 ms); the exact percentiles are in
//! summary.ndjson and `--format csv`.

use std::io::{self, Write};

use records::Stats;

use super::{ms, Render};
use crate::report::{Report, QUANTILES};

/// The `stats.csv` header, byte for byte as Locust writes it.
pub const LOCUST_STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";

const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";

const FAILURES_HEADER: &str = "Method,Name,Error,Occurrences,First Seen,Last Seen";

const EXCEPTIONS_HEADER: &str = "Count,Message,Traceback,Nodes";

const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

/// Locust keeps the method apart (`Type`) from the path (`Name`); loadpipe
/// names endpoints `GET /path`, so a leading method is split off.
fn split_method(name: &str) -> (&str, &str) {
    match name.split_once(' ') {
        Some((method, path)) if METHODS.contains(&method) => (method, path),
        _ => ("", name),
    }
}

/// A response time as Locust keeps it in its percentile buckets: whole
/// milliseconds below 100 ms, then two significant digits (147 → 150,
/// 3432 → 3400, 58760 → 59000), halves to even as Python's `round` does.
pub fn locust_ms(ns: u64) -> u64 {
    let ms = ns as f64 / 1e6;
    let step = if ms < 100.0 {
        1.0
    } else if ms < 1000.0 {
        10.0
    } else if ms < 10_000.0 {
        100.0
    } else {
        1000.0
    };
    ((ms / step).round_ties_even() * step) as u64
}

/// Unix epoch nanoseconds as Locust writes times in failures.csv:
/// `2025-11-24T16:00:00Z`; empty when unknown.
fn locust_time(ns: u64) -> String {
    if ns == 0 {
        return String::new();
    }
    let with_millis = super::table::utc(ns);
    format!("{}Z", &with_millis[..19])
}

fn csv_writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out)
}

/// `stats.csv`: one row per endpoint, then the `Aggregated` row.
pub struct LocustStats;

fn stats_row(type_: &str, name: &str, s: &Stats) -> Vec<String> {
    let l = &s.latency;
    let avg_size = if s.count > 0 {
        s.bytes_in as f64 / s.count as f64
    } else {
        0.0
    };
    let mut row = vec![
        type_.to_string(),
        name.to_string(),
        s.count.to_string(),
        s.errors.to_string(),
        locust_ms(l.p50_ns).to_string(),
        ms(l.mean_ns),
        ms(l.min_ns as f64),
        ms(l.max_ns as f64),
        format!("{avg_size:.2}"),
        format!("{:.3}", s.rps),
        format!("{:.3}", s.failures_per_s),
    ];
    row.extend(l.quantiles().iter().map(|&v| locust_ms(v).to_string()));
    row.push(locust_ms(l.max_ns).to_string());
    row
}

impl Render for LocustStats {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{LOCUST_STATS_HEADER}")?;
        let mut w = csv_writer(out);
        for s in &report.endpoints {
            let (method, path) = split_method(&s.name);
            w.write_record(stats_row(method, path, s))?;
        }
        w.write_record(stats_row("", &report.total.name, &report.total))?;
        w.flush()
    }
}

/// `stats_history.csv`: an all-zero row at the start of the load, as Locust
/// writes before its first request, then one `Aggregated` row per interval,
/// with running totals. The percentile columns are the interval's own.
pub struct LocustHistory;

impl Render for LocustHistory {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{HISTORY_HEADER}")?;
        let mut w = csv_writer(out);
        let name = report.total.name.as_str();
        let na = || std::iter::repeat_n("N/A".to_string(), QUANTILES.len() + 1);
        let mut zero = vec![
            (report.run.start / 1_000_000_000).to_string(),
            "0".into(),
            String::new(),
            name.into(),
            format!("{:.6}", 0.0),
            format!("{:.6}", 0.0),
        ];
        zero.extend(na());
        zero.extend(["0", "0", "0", "0.0", "0", "0", "0"].map(String::from));
        w.write_record(zero)?;
        let (mut total_count, mut total_errors, mut total_max) = (0u64, 0u64, 0u64);
        let mut total_bytes = 0u64;
        for row in &report.intervals {
            let i = &row.record(report.run.interval_secs);
            total_count += i.count;
            total_errors += i.errors;
            total_bytes = total_bytes.saturating_add(i.bytes_in);
            total_max = total_max.max(i.max_ns);
            let mut fields = vec![
                (i.start / 1_000_000_000).to_string(),
                i.vus.to_string(),
                String::new(),
                name.into(),
                format!("{:.6}", i.rps),
                format!("{:.6}", i.errors as f64 / i.active()),
            ];
            match &row.quantiles() {
                Some(qs) => {
                    fields.extend(qs.iter().map(|&v| locust_ms(v).to_string()));
                    fields.push(locust_ms(i.max_ns).to_string());
                }
                None => fields.extend(na()),
            }
            let avg_size = if total_count > 0 {
                total_bytes as f64 / total_count as f64
            } else {
                0.0
            };
            fields.extend([
                total_count.to_string(),
                total_errors.to_string(),
                locust_ms(row.cumulative_p50_ns).to_string(),
                ms(row.cumulative_mean_ns),
                ms(row.cumulative_min_ns as f64),
                ms(total_max as f64),
                format!("{avg_size:.2}"),
            ]);
            w.write_record(fields)?;
        }
        w.flush()
    }
}

/// `failures.csv`: one row per endpoint and distinct error, most frequent
/// first, with when it was first and last seen.
pub struct LocustFailures;

impl Render for LocustFailures {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{FAILURES_HEADER}")?;
        let mut w = csv_writer(out);
        for s in &report.endpoints {
            let (method, path) = split_method(&s.name);
            for g in &s.failures {
                w.write_record([
                    method,
                    path,
                    &g.locust_error(),
                    &g.count.to_string(),
                    &locust_time(g.first_ns),
                    &locust_time(g.last_ns),
                ])?;
            }
        }
        // Arrivals never sent and VUs that never ran have no endpoint;
        // Locust has no word for them, so each is a row of its own on the
        // total.
        for (count, what) in [
            (
                report.run.dropped,
                "dropped: arrival not sent, every VU busy",
            ),
            (
                report.run.vus_not_started,
                "vus_not_started: the stages called for them, they never ran",
            ),
        ] {
            if count > 0 {
                let count = count.to_string();
                w.write_record(["", records::run::TOTAL, what, &count, "", ""])?;
            }
        }
        w.flush()
    }
}

/// `exceptions.csv`: Locust lists the exceptions its Python user code
/// raised; loadpipe runs none, so it is the header alone, as Locust writes
/// it when there were none.
pub struct LocustExceptions;

impl Render for LocustExceptions {
    fn render(&self, _report: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{EXCEPTIONS_HEADER}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_as_locust_buckets() {
        let ms = |v: f64| locust_ms((v * 1e6) as u64);
        // Python: round(0.5) == 0, round(1.5) == 2, round(2.5) == 2
        assert_eq!(
            [ms(0.4), ms(0.5), ms(1.5), ms(2.5), ms(99.4)],
            [0, 0, 2, 2, 99]
        );
        // Locust's own examples: 147 -> 150, 3432 -> 3400, 58760 -> 59000
        assert_eq!([ms(147.0), ms(3432.0), ms(58760.0)], [150, 3400, 59000]);
        assert_eq!(
            [ms(99.6), ms(145.0), ms(155.0), ms(999.0)],
            [100, 140, 160, 1000]
        );
    }

    #[test]
    fn formats_times_as_locust() {
        assert_eq!(
            locust_time(1_764_000_000_123_000_000),
            "2025-11-24T16:00:00Z"
        );
        assert_eq!(locust_time(0), "");
    }

    #[test]
    fn splits_a_leading_method_only() {
        assert_eq!(split_method("GET /api/v1/tasks"), ("GET", "/api/v1/tasks"));
        assert_eq!(split_method("login flow"), ("", "login flow"));
        assert_eq!(split_method("/health"), ("", "/health"));
    }
}
