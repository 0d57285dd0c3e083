//! Locust-compatible CSV files (`stats.csv`, `stats_history.csv`,
//! `failures.csv`), so pandas scripts written for Locust keep working.
//!
//! Response times are milliseconds as in Locust, with three decimals rather
//! than Locust's whole milliseconds (loopback latencies are often below 1 ms).

use std::io::{self, Write};

use records::Stats;

use super::{ms, Render};
use crate::report::{Report, QUANTILES};

/// The `stats.csv` header, byte for byte as Locust writes it.
pub const LOCUST_STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";

const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";

const FAILURES_HEADER: &str = "Method,Name,Error,Occurrences";

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
        ms(l.p50_ns as f64),
        ms(l.mean_ns),
        ms(l.min_ns as f64),
        ms(l.max_ns as f64),
        format!("{avg_size:.2}"),
        format!("{:.3}", s.rps),
        format!("{:.3}", s.failures_per_s),
    ];
    row.extend(l.quantiles().iter().map(|&v| ms(v as f64)));
    row.push(ms(l.max_ns as f64));
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

/// `stats_history.csv`: one `Aggregated` row per interval, with running totals.
pub struct LocustHistory;

impl Render for LocustHistory {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{HISTORY_HEADER}")?;
        let mut w = csv_writer(out);
        let (mut total_count, mut total_errors, mut total_max) = (0u64, 0u64, 0u64);
        for row in &report.intervals {
            let i = &row.record;
            total_count += i.count;
            total_errors += i.errors;
            total_max = total_max.max(i.max_ns);
            let mut fields = vec![
                (i.start / 1_000_000_000).to_string(),
                i.vus.to_string(),
                String::new(),
                report.total.name.clone(),
                format!("{:.3}", i.rps),
                format!("{:.3}", i.errors as f64 / i.secs),
            ];
            match &row.quantiles {
                Some(qs) => fields.extend(qs.iter().map(|&v| ms(v as f64))),
                None => fields.extend(std::iter::repeat_n("N/A".to_string(), QUANTILES.len())),
            }
            fields.push(ms(i.max_ns as f64));
            fields.push(total_count.to_string());
            fields.push(total_errors.to_string());
            fields.push(ms(row.cumulative_p50_ns as f64));
            fields.push(ms(row.cumulative_mean_ns));
            fields.push(ms(row.cumulative_min_ns as f64));
            fields.push(ms(total_max as f64));
            // Content size is not kept per interval.
            fields.push("N/A".to_string());
            w.write_record(fields)?;
        }
        w.flush()
    }
}

/// `failures.csv`: one row per endpoint and error kind.
pub struct LocustFailures;

impl Render for LocustFailures {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{FAILURES_HEADER}")?;
        let mut w = csv_writer(out);
        for s in &report.endpoints {
            let (method, path) = split_method(&s.name);
            let mut kinds: Vec<(&String, &u64)> = s.error_kinds.iter().collect();
            kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (kind, n) in kinds {
                w.write_record([method, path, kind.as_str(), &n.to_string()])?;
            }
        }
        // Arrivals never sent have no endpoint yet; Locust has no word for
        // them, so they are one row of their own on the total.
        if report.run.dropped > 0 {
            w.write_record([
                "",
                records::run::TOTAL,
                "dropped: arrival not sent, every VU busy",
                &report.run.dropped.to_string(),
            ])?;
        }
        w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_leading_method_only() {
        assert_eq!(split_method("GET /api/v1/tasks"), ("GET", "/api/v1/tasks"));
        assert_eq!(split_method("login flow"), ("", "login flow"));
        assert_eq!(split_method("/health"), ("", "/health"));
    }
}
