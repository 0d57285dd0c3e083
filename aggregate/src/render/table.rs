//! The human table (k6/wrk-like): what people read at the end of a run.

use std::io::{self, Write};

use records::metric::LATENCY_COLUMNS;
use records::units::{columns, percent, Align};
use records::{format_ns, Latency, Metric, Stats};

use super::Render;
use crate::report::Report;

pub struct Table;

/// Writes rows in columns: those before `right_from` left-aligned (names,
/// words), the rest right-aligned (numbers).
/// The per-shard breakdown of a merge: a slow or failing shard stands out.
fn shards_section(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(out, "{} shards", report.shards.len())?;
    let mut rows = vec![[
        "shard", "requests", "req/s", "errors", "p50", "p95", "p99", "max", "from",
    ]
    .map(String::from)
    .to_vec()];
    for s in &report.shards {
        let ns = |v: u64| format_ns(v as f64);
        rows.push(vec![
            s.shard.map_or("-".into(), |s| s.to_string()),
            s.count.to_string(),
            format!("{:.1}", s.rps),
            s.errors.to_string(),
            ns(s.p50_ns),
            ns(s.p95_ns),
            ns(s.p99_ns),
            ns(s.max_ns),
            s.source.clone(),
        ]);
    }
    let mut align = vec![Align::Left];
    align.extend([Align::Right; 7]);
    align.push(Align::Left);
    out.write_all(columns(&rows, &align, "  ").as_bytes())
}

fn write_rows(out: &mut dyn Write, rows: &[Vec<String>], right_from: usize) -> io::Result<()> {
    let mut align = vec![Align::Left; right_from];
    align.push(Align::Right);
    out.write_all(columns(rows, &align, "  ").as_bytes())
}

fn latency_section(
    out: &mut dyn Write,
    title: &str,
    report: &Report,
    pick: &dyn Fn(&Stats) -> Latency,
) -> io::Result<()> {
    writeln!(out, "{title}")?;
    let all: Vec<&Stats> = report.endpoints.iter().chain([&report.total]).collect();
    latency_rows(out, ["endpoint", "reqs", "fail", "rps"], &all, pick)?;
    if report
        .endpoints
        .iter()
        .any(|s| LATENCY_COLUMNS.iter().any(|m| !m.resolved_by(s.count)))
    {
        writeln!(
            out,
            "  -: too few requests for that percentile (p99 needs 100, p99.9 1,000)"
        )?;
    }
    Ok(())
}

/// One row per endpoint or flow: its name, count, failure rate and rate,
/// then the latency columns, `-` past what its count resolves.
fn latency_rows(
    out: &mut dyn Write,
    head: [&str; 4],
    all: &[&Stats],
    pick: &dyn Fn(&Stats) -> Latency,
) -> io::Result<()> {
    let mut head: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    head.extend(LATENCY_COLUMNS.iter().map(|m| m.label().to_string()));
    let mut rows = vec![head];
    for s in all {
        let mut row = vec![
            s.name.clone(),
            s.count.to_string(),
            percent(s.error_rate()),
            format!("{:.1}", s.rps),
        ];
        let latency = pick(s);
        row.extend(LATENCY_COLUMNS.map(|m| {
            if m.resolved_by(s.count) {
                format_ns(m.of_latency(&latency).unwrap_or_default())
            } else {
                "-".to_string()
            }
        }));
        rows.push(row);
    }
    write_rows(out, &rows, 1)
}

/// Flows: iterations, failed ones, iterations per second (TPS) and the
/// journeys' durations; then where failed iterations failed.
fn flows_section(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(
        out,
        "flows (one iteration = one transaction; duration from its scheduled start, think steps included)"
    )?;
    let all: Vec<&Stats> = report.flows.iter().collect();
    latency_rows(out, ["flow", "iters", "fail", "tps"], &all, &|s| {
        s.latency.clone()
    })?;
    let failing: Vec<Vec<String>> = report
        .flows
        .iter()
        .flat_map(|f| {
            f.error_kinds
                .iter()
                .map(|(step, n)| vec![f.name.clone(), format!("failed at {step}"), n.to_string()])
        })
        .collect();
    if !failing.is_empty() {
        write_rows(out, &failing, 2)?;
    }
    Ok(())
}

/// Where the time of a request went: connection set-up (on the requests that
/// opened a connection) and time to first byte, as k6 and oha show them.
fn phases_section(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(
        out,
        "timing breakdown (connect: TCP and TLS set-up, on new connections; ttfb: send to first byte)"
    )?;
    let quantiles = [Metric::P50, Metric::P95, Metric::P99];
    let mut head = vec!["endpoint".to_string(), "connects".to_string()];
    head.extend(quantiles.iter().map(|m| format!("connect {}", m.label())));
    head.extend(quantiles.iter().map(|m| format!("ttfb {}", m.label())));
    let mut rows = vec![head];
    let cells = |phase: &Option<records::Phase>| -> Vec<String> {
        quantiles
            .iter()
            .map(|m| match phase {
                Some(p) if m.resolved_by(p.count) => {
                    format_ns(m.of_latency(&p.latency).unwrap_or_default())
                }
                _ => "-".to_string(),
            })
            .collect()
    };
    for s in report.endpoints.iter().chain([&report.total]) {
        let mut row = vec![
            s.name.clone(),
            s.connect.as_ref().map_or(0, |p| p.count).to_string(),
        ];
        row.extend(cells(&s.connect));
        row.extend(cells(&s.ttfb));
        rows.push(row);
    }
    write_rows(out, &rows, 1)
}

impl Render for Table {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let mut out = io::BufWriter::new(out);
        let out: &mut dyn Write = &mut out;
        let run = &report.run;
        let total = &report.total;
        writeln!(
            out,
            "{} requests in {} ({:.1}/s), {} failed ({}), {} endpoints{}",
            total.count,
            records::units::format_duration(std::time::Duration::from_nanos(run.duration_ns)),
            total.rps,
            total.errors,
            percent(total.error_rate()),
            report.endpoints.len(),
            match report.flows.len() {
                0 => String::new(),
                n => format!(
                    ", {} flow iterations in {n} flow{}",
                    report.flows.iter().map(|f| f.count).sum::<u64>(),
                    if n == 1 { "" } else { "s" }
                ),
            },
        )?;
        write!(out, "run {} .. {}", utc(run.start), utc(run.end))?;
        for (k, v) in &run.labels {
            write!(out, "  {k}={v}")?;
        }
        if let Some(scenario) = &run.scenario {
            write!(out, "  scenario={scenario}")?;
        }
        writeln!(out)?;
        if run.drain_ns > 0 {
            writeln!(
                out,
                "rates per second of the load window; in-flight requests then took {} (drain)",
                format_ns(run.drain_ns as f64)
            )?;
        }
        if run.scheduled > 0 || run.dropped > 0 || run.cancelled > 0 {
            writeln!(
                out,
                "arrivals: {} scheduled, {} sent, {} dropped (all VUs busy), {} cancelled (stopped)",
                run.scheduled,
                run.scheduled.saturating_sub(run.dropped + run.cancelled),
                run.dropped,
                run.cancelled
            )?;
        }
        if run.vus_not_started > 0 {
            writeln!(
                out,
                "WARNING: {} VUs never started: their turn came in the stages, but the \
                 generator did not get to them before their stage fell or the run ended",
                run.vus_not_started
            )?;
        }
        if run.cpu_bound {
            writeln!(
                out,
                "WARNING: hammer was CPU-bound: latencies include generator delay; \
                 use more --threads, machines or a lower rate"
            )?;
        }
        if run.skipped_lines > 0 {
            writeln!(out, "skipped {} invalid input lines", run.skipped_lines)?;
        }
        if let Some(shard) = run.shard {
            writeln!(out, "shard {shard} of a many-machine run")?;
        }
        // Only when something was not HTTP/1.1, so HTTP/1.1 runs read as before.
        if !total.protocols.is_empty() {
            let mix: Vec<String> = total
                .protocols
                .iter()
                .map(|(proto, n)| {
                    let share = *n as f64 / total.count.max(1) as f64;
                    format!("{proto} {n} ({})", percent(share))
                })
                .collect();
            writeln!(out, "protocols: {}", mix.join(", "))?;
        }
        writeln!(out)?;
        if !report.shards.is_empty() {
            shards_section(out, report)?;
            writeln!(out)?;
        }

        let headline = if report.has_service() {
            "response time (from the scheduled send: corrected for coordinated omission)"
        } else {
            "response time"
        };
        latency_section(out, headline, report, &|s| s.latency.clone())?;
        if report.has_service() {
            writeln!(out)?;
            latency_section(
                out,
                "service time (from the actual send; hides queueing, not the headline)",
                report,
                &|s| s.service.clone().unwrap_or_default(),
            )?;
        }

        if !report.flows.is_empty() {
            writeln!(out)?;
            flows_section(out, report)?;
        }

        if report
            .endpoints
            .iter()
            .any(|s| s.connect.is_some() || s.ttfb.is_some())
        {
            writeln!(out)?;
            phases_section(out, report)?;
        }

        writeln!(out)?;
        writeln!(out, "status codes")?;
        let mut rows = Vec::new();
        for s in report.endpoints.iter().chain([total]) {
            let codes: Vec<String> = s
                .status
                .iter()
                .map(|(code, n)| {
                    let code = if code == "0" { "none" } else { code.as_str() };
                    format!("{code}:{n}")
                })
                .collect();
            rows.push(vec![s.name.clone(), codes.join(" ")]);
        }
        write_rows(out, &rows, 2)?;

        if total.errors > 0 {
            writeln!(out)?;
            writeln!(out, "errors")?;
            let mut rows = Vec::new();
            for s in &report.endpoints {
                for (kind, n) in &s.error_kinds {
                    rows.push(vec![s.name.clone(), kind.clone(), n.to_string()]);
                }
            }
            write_rows(out, &rows, 2)?;
        }

        writeln!(out)?;
        writeln!(
            out,
            "slow or failing endpoints (p95 > {} or errors > 1%)",
            format_ns(report.slow_limit_ns as f64)
        )?;
        if report.slow.is_empty() {
            writeln!(out, "  none")?;
        } else {
            let rows: Vec<Vec<String>> = report
                .slow
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        format!("p95 {}", format_ns(s.p95_ns as f64)),
                        format!("errors {}", percent(s.error_rate)),
                        s.reasons.join("+"),
                    ]
                })
                .collect();
            write_rows(out, &rows, 4)?;
        }

        if !report.thresholds.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "thresholds ({} of {} broken)",
                report.broken_thresholds(),
                report.thresholds.len()
            )?;
            let rows: Vec<Vec<String>> = report
                .thresholds
                .iter()
                .zip(&report.threshold_notes)
                .map(|(t, shown)| {
                    vec![
                        format!("{} {}", if t.ok { "ok  " } else { "FAIL" }, t.expr),
                        shown.clone(),
                    ]
                })
                .collect();
            write_rows(out, &rows, 2)?;
        }
        out.flush()
    }
}

/// Unix epoch nanoseconds as `2025-11-24T16:00:00.123Z`.
pub(crate) fn utc(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let millis = ns % 1_000_000_000 / 1_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(1_764_000_000_123_000_000), "2025-11-24T16:00:00.123Z");
        assert_eq!(utc(951_782_400_000_000_000), "2000-02-29T00:00:00.000Z");
    }
}
