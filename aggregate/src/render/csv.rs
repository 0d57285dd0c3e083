use std::io::{self, Write};

use records::metric::QUANTILE_METRICS;
use records::Stats;

use super::{ms, Render};
use crate::report::Report;

/// One row per endpoint and one for the total; latencies in milliseconds.
pub struct Csv;

const HEADER: [&str; 22] = [
    "kind",
    "name",
    "count",
    "errors",
    "error_rate",
    "rps",
    "failures_per_s",
    "bytes_in",
    "bytes_out",
    "min_ms",
    "mean_ms",
    "p50_ms",
    "p66_ms",
    "p75_ms",
    "p80_ms",
    "p90_ms",
    "p95_ms",
    "p98_ms",
    "p99_ms",
    "p99.9_ms",
    "p99.99_ms",
    "max_ms",
];

fn row(kind: &str, s: &Stats) -> Vec<String> {
    let l = &s.latency;
    let mut row = vec![
        kind.to_string(),
        s.name.clone(),
        s.count.to_string(),
        s.errors.to_string(),
        format!("{:.6}", s.error_rate()),
        format!("{:.3}", s.rps),
        format!("{:.3}", s.failures_per_s),
        s.bytes_in.to_string(),
        s.bytes_out.to_string(),
        ms(l.min_ns as f64),
        ms(l.mean_ns),
    ];
    // A percentile the count cannot resolve is left empty (Locust's own
    // columns, in the locust renderer, stay filled as Locust fills them).
    row.extend(QUANTILE_METRICS.iter().map(|&(m, _)| {
        if m.resolved_by(s.count) {
            ms(l.quantile(m).unwrap_or(0) as f64)
        } else {
            String::new()
        }
    }));
    row.push(ms(l.max_ns as f64));
    row
}

impl Render for Csv {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(HEADER)?;
        for s in &report.endpoints {
            w.write_record(row("endpoint", s))?;
        }
        w.write_record(row("total", &report.total))?;
        w.flush()
    }
}
