//! `report.html`: one self-contained, interactive page for one run or
//! several side by side.
//!
//! The tables, the header and every "what is missing" note are written
//! here as plain HTML (they print and read without JavaScript); the charts
//! are data (the same [`crate::series`] the PNGs draw) that `report.js`
//! draws with the vendored uPlot. Nothing is fetched when the page opens:
//! uPlot, the styles and the data are all inside the file.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use plotters::style::RGBColor;
use records::metric::{Metric, LATENCY_COLUMNS};
use records::{Summary, ThresholdResult};
use serde::Serialize;
use serde_json::{json, Value};

use crate::run::{self, Entry, Run};
use crate::{nines, series, style, Overlays};

const UPLOT_JS: &str = include_str!("../vendor/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../vendor/uplot/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("../vendor/uplot/LICENSE");
const REPORT_JS: &str = include_str!("report.js");
const REPORT_CSS: &str = include_str!("report.css");

/// Points per time series: enough for a wide screen, and what keeps a
/// one-hour, 50-endpoint report under 300 KB.
pub const MAX_POINTS: usize = 600;

/// Steps of a percentile-spectrum curve (the PNG's 400 would double the size
/// for no visible gain).
const SPECTRUM_STEPS: usize = 120;

/// Endpoints drawn one by one in the report's charts; the table lists all.
const MAX_CURVES: usize = crate::single::MAX_SERIES;

/// The metrics the verdict table shows for each endpoint.
const VERDICT_ROWS: [Metric; 5] = [
    Metric::P50,
    Metric::P95,
    Metric::P99,
    Metric::ErrorRate,
    Metric::Rps,
];

/// Writes the report of `runs` (each with its overlays) to `path`.
pub fn write(runs: &[Run], overlays: &[Overlays], path: &Path) -> anyhow::Result<()> {
    let html = render(runs, overlays)?;
    std::fs::write(path, html).with_context(|| format!("writing {}", path.display()))
}

/// The whole page.
pub fn render(runs: &[Run], overlays: &[Overlays]) -> anyhow::Result<String> {
    let mut body = String::new();
    let mut charts: Vec<Value> = Vec::new();
    let title = match runs {
        [one] => format!("Load test report — {}", one.label),
        _ => format!(
            "Load test comparison — {}",
            runs.iter()
                .map(|r| r.label.as_str())
                .collect::<Vec<_>>()
                .join(" vs ")
        ),
    };
    let _ = write!(body, "<h1>{}</h1>", esc(&title));
    if runs.len() > 1 {
        comparison(&mut body, &mut charts, runs);
    }
    for (i, r) in runs.iter().enumerate() {
        let overlay = overlays.get(i).copied().unwrap_or_default();
        one_run(&mut body, &mut charts, r, i, overlay, runs.len() > 1);
    }
    let data = json!({ "charts": charts });
    let records = json!({ "runs": runs.iter().map(embedded).collect::<Vec<_>>() });
    let mut page = String::with_capacity(body.len() + UPLOT_JS.len() + 64 * 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\
         <title>{}</title><style>{UPLOT_CSS}\n{REPORT_CSS}</style></head><body>\
         <main>{body}</main>\
         <footer>Written by chart {}. Charts drawn with uPlot, embedded under its licence: \
         <details><summary>uPlot licence (MIT)</summary><pre>{}</pre></details></footer>\
         <script type=\"application/json\" id=\"chart-data\">{}</script>\
         <script type=\"application/json\" id=\"summary-records\">{}</script>\
         <script>{UPLOT_JS}</script><script>{REPORT_JS}</script></body></html>\n",
        esc(&title),
        env!("CARGO_PKG_VERSION"),
        esc(UPLOT_LICENSE),
        script_json(&data)?,
        script_json(&records)?,
    );
    Ok(page)
}

/// One run's sections: header, thresholds, table, charts, errors.
fn one_run(
    out: &mut String,
    charts: &mut Vec<Value>,
    run: &Run,
    index: usize,
    overlays: Overlays,
    several: bool,
) {
    let _ = write!(out, "<section class=\"run\" id=\"run-{index}\">");
    if several {
        let _ = write!(out, "<h2>Run: {}</h2>", esc(&run.label));
    }
    header(out, run);
    thresholds(out, &run.thresholds);
    endpoint_table(out, run);
    let id = |what: &str| format!("r{index}-{what}");

    let _ = write!(out, "<h3>Over time</h3>");
    if !run.intervals.iter().any(|i| i.count > 0) {
        note(
            out,
            "No interval records with requests: nothing to draw over time \
             (aggregate writes them with --format ndjson).",
        );
    } else {
        let colors = [style::P50, style::P95, style::P99];
        let lines = series::latency(run, MAX_POINTS)
            .into_iter()
            .zip(colors)
            .map(|(s, c)| line(s.name, c, &s.points))
            .collect();
        let unresolved = series::unresolved_intervals(run);
        let remark = (unresolved > 0).then(|| {
            format!(
                "{unresolved} intervals had fewer than 100 requests: their p99 (and p95 under 20) \
                 is left out, as it would only be the interval's slowest request."
            )
        });
        chart(
            out,
            charts,
            &id("latency"),
            "Latency per interval",
            "time",
            "latency (ms)",
            None,
            lines,
            remark,
        );
        let t = series::throughput(run, MAX_POINTS);
        let lines = vec![
            line("requests/s", style::OK, &t.rps),
            line("failures/s", style::ERROR, &t.failures),
            right(line("active virtual users", style::VUS, &t.vus)),
        ];
        chart(
            out,
            charts,
            &id("throughput"),
            "Requests and failures per second, active virtual users",
            "time",
            "per second",
            Some("virtual users"),
            lines,
            None,
        );
        let codes = series::statuses(run, MAX_POINTS);
        if codes.is_empty() {
            note(
                out,
                "Status codes over time: this summary's intervals carry no status counts \
                 (made by an older aggregate); the table has them for the whole run.",
            );
        } else {
            let lines = codes
                .iter()
                .enumerate()
                .map(|(k, (code, points))| {
                    let color = match code.as_bytes().first() {
                        Some(b'2') if k == 0 => style::OK,
                        Some(b'5') | Some(b'n') => style::ERROR,
                        _ => style::PALETTE[(k + 4) % style::PALETTE.len()],
                    };
                    line_owned(format!("status {code}"), color, points)
                })
                .collect();
            chart(
                out,
                charts,
                &id("status"),
                "Responses per second by status code",
                "time",
                "per second",
                None,
                lines,
                None,
            );
        }
    }
    if let Some(polls) = overlays.polls {
        pg_chart(out, charts, run, polls, &id("pg"));
    }
    if let Some(hosts) = overlays.hosts {
        host_chart(out, charts, run, hosts, &id("host"));
    }
    spectrum(out, charts, run, &id("spectrum"));
    omission(out, charts, run, &id("omission"));
    errors(out, run);
    out.push_str("</section>");
}

fn header(out: &mut String, run: &Run) {
    let mut facts: Vec<(&str, String)> = Vec::new();
    let info = run.info.clone().unwrap_or_default();
    facts.push(("run", esc(&run.label)));
    facts.push((
        "scenario",
        esc(info.scenario.as_deref().unwrap_or("not recorded")),
    ));
    let labels: Vec<String> = info
        .labels
        .iter()
        .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
        .collect();
    if !labels.is_empty() {
        facts.push(("labels", labels.join(", ")));
    }
    let (start, end) = (run.start_ns(), run.end_ns());
    facts.push((
        "start – end",
        format!(
            "<time data-ns=\"{start}\">{start} ns</time> – <time data-ns=\"{end}\">{end} ns</time> (UTC)"
        ),
    ));
    let ns = |v: u64| records::format_ns(v as f64);
    facts.push((
        "load window",
        match info.drain_ns {
            0 => format!("{}, no drain recorded after it", ns(run.duration_ns())),
            d => format!("{} then {} drain", ns(run.duration_ns()), ns(d)),
        },
    ));
    let max_vus = run.intervals.iter().map(|i| i.vus).max().unwrap_or(0);
    let model = if info.scheduled > 0 {
        format!(
            "open model: {} arrivals scheduled, {} dropped (all VUs busy), {} cancelled; up to {max_vus} VUs active",
            records::units::thousands(info.scheduled as f64),
            records::units::thousands(info.dropped as f64),
            records::units::thousands(info.cancelled as f64),
        )
    } else if info.vus_not_started > 0 {
        format!(
            "closed model: up to {max_vus} virtual users active; {} never started (their turn came, the generator did not get to them)",
            records::units::thousands(info.vus_not_started as f64),
        )
    } else if max_vus > 0 {
        format!("closed model: up to {max_vus} virtual users active")
    } else {
        "not recorded (no VU counts in the intervals)".into()
    };
    facts.push(("load model", model));
    if !info.tools.is_empty() {
        let tools: Vec<String> = info
            .tools
            .iter()
            .map(|(k, v)| format!("{} {}", esc(k), esc(v)))
            .collect();
        facts.push(("tools", tools.join(", ")));
    }
    out.push_str("<dl class=\"facts\">");
    for (k, v) in facts {
        let _ = write!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str("</dl>");
    if run.info.is_none() {
        note(
            out,
            "The summary has no run record: start, scenario and load model are unknown.",
        );
    }
    if info.cpu_bound {
        warn(
            out,
            "hammer was CPU-bound during this run: latencies include generator delay.",
        );
    }
    if info.skipped_lines > 0 {
        warn(
            out,
            &format!(
                "{} input lines were skipped as invalid (--skip-invalid).",
                info.skipped_lines
            ),
        );
    }
}

/// The pass/fail banner with each threshold's measured value.
fn thresholds(out: &mut String, results: &[ThresholdResult]) {
    if results.is_empty() {
        out.push_str(
            "<div class=\"banner none\">No thresholds were set (aggregate --threshold).</div>",
        );
        return;
    }
    let failed = results.iter().filter(|t| !t.ok).count();
    let (class, verdict) = if failed == 0 {
        ("pass", "PASS: every threshold held".to_string())
    } else {
        (
            "fail",
            format!("FAIL: {failed} of {} thresholds crossed", results.len()),
        )
    };
    let _ = write!(
        out,
        "<div class=\"banner {class}\"><strong>{verdict}</strong><ul>"
    );
    for t in results {
        let metric = t
            .expr
            .find(['<', '>', '='])
            .and_then(|at| Metric::parse(&t.expr[..at]));
        let value = metric.map_or_else(|| format!("{}", t.value), |m| m.show(t.value));
        let _ = write!(
            out,
            "<li class=\"{}\">{} <code>{}</code>: measured {}</li>",
            if t.ok { "ok" } else { "crossed" },
            if t.ok { "✓" } else { "✗" },
            esc(&t.expr),
            esc(&value)
        );
    }
    out.push_str("</ul></div>");
}

/// The sortable table: every endpoint, the total first.
fn endpoint_table(out: &mut String, run: &Run) {
    let _ = write!(out, "<h3>Endpoints</h3>");
    if run.endpoints.is_empty() {
        note(
            out,
            "The summary has no endpoint records: no requests were recorded.",
        );
    }
    let slow_above = 2.0 * run.total.stats.latency.p95_ns as f64;
    out.push_str(
        "<div class=\"scroll\"><table class=\"sortable endpoints\"><thead><tr>\
         <th data-type=\"text\">endpoint</th><th>requests</th><th>failures</th><th>failure rate</th><th>req/s</th>",
    );
    for m in LATENCY_COLUMNS {
        let _ = write!(out, "<th>{}</th>", m.label());
    }
    out.push_str("<th data-type=\"text\">status codes</th><th data-type=\"text\">marks</th></tr></thead><tbody>");
    for (e, total) in
        std::iter::once((&run.total, true)).chain(run.endpoints.iter().map(|e| (e, false)))
    {
        row(out, e, total, slow_above);
    }
    out.push_str("</tbody></table></div>");
    let _ = write!(
        out,
        "<p class=\"legend\">Latencies are response times (corrected for coordinated omission). \
         “-”: too few requests to resolve that percentile (p99.9 needs 1,000). \
         Marks: <span class=\"mark failing\">failing</span> any failed request; \
         <span class=\"mark slow\">slow</span> p95 above twice the run's p95 ({}). Click a column to sort.</p>",
        records::format_ns(slow_above)
    );
    flow_table(out, run);
}

/// Flows (user journeys): one row per flow, an iteration per "request",
/// their rate the transactions per second, their latencies the journeys'
/// durations from the scheduled start; the failing steps in the last columns.
fn flow_table(out: &mut String, run: &Run) {
    if run.flows.is_empty() {
        return;
    }
    let _ = write!(out, "<h3>Flows</h3>");
    out.push_str(
        "<div class=\"scroll\"><table class=\"sortable flows\"><thead><tr>\
         <th data-type=\"text\">flow</th><th>iterations</th><th>failed</th><th>failure rate</th><th>iterations/s (TPS)</th>",
    );
    for m in LATENCY_COLUMNS {
        let _ = write!(out, "<th>{}</th>", m.label());
    }
    out.push_str("<th data-type=\"text\">failed at</th><th data-type=\"text\">marks</th></tr></thead><tbody>");
    let slow_above = f64::INFINITY;
    for e in &run.flows {
        // The last columns show where iterations failed (a flow's
        // error_kinds are its failing steps), not status codes.
        let mut shown = e.clone();
        shown.stats.status = std::mem::take(&mut shown.stats.error_kinds);
        row(out, &shown, false, slow_above);
    }
    out.push_str("</tbody></table></div>");
    note(
        out,
        "One iteration is one journey, timed as one transaction from its scheduled start \
         (think steps included); \"failed at\" names the step where failed iterations stopped.",
    );
}

fn row(out: &mut String, e: &Entry, total: bool, slow_above: f64) {
    let s = &e.stats;
    let class = if total { " class=\"total\"" } else { "" };
    let _ = write!(out, "<tr{class}><td data-v=\"{0}\">{0}</td>", esc(&s.name));
    let cell = |out: &mut String, m: Metric, v: f64, show: bool| {
        let text = if show { m.show(v) } else { "-".into() };
        let _ = write!(
            out,
            "<td data-v=\"{}\">{}</td>",
            if show { v } else { -1.0 },
            esc(&text)
        );
    };
    for m in [
        Metric::Count,
        Metric::ErrorCount,
        Metric::ErrorRate,
        Metric::Rps,
    ] {
        cell(out, m, m.value(s), true);
    }
    for m in LATENCY_COLUMNS {
        cell(out, m, m.value(s), s.count > 0 && m.resolved_by(s.count));
    }
    let codes: Vec<String> = s
        .status
        .iter()
        .map(|(c, n)| {
            let class = match c.as_bytes().first() {
                Some(b'2') | Some(b'3') => "ok",
                _ => "bad",
            };
            format!(
                "<span class=\"{class}\">{}: {}</span>",
                esc(c),
                records::units::thousands(*n as f64)
            )
        })
        .collect();
    let _ = write!(
        out,
        "<td data-v=\"{}\">{}</td>",
        codes.len(),
        codes.join(" ")
    );
    let mut marks = Vec::new();
    if s.errors > 0 {
        marks.push("<span class=\"mark failing\">failing</span>");
    }
    if !total && s.count > 0 && s.latency.p95_ns as f64 > slow_above && slow_above > 0.0 {
        marks.push("<span class=\"mark slow\">slow</span>");
    }
    if s.count == 0 {
        marks.push("<span class=\"mark\">no requests</span>");
    } else if s.errors == s.count {
        marks.push("<span class=\"mark failing\">no successes</span>");
    }
    let _ = write!(
        out,
        "<td data-v=\"{}\">{}</td></tr>",
        marks.len(),
        marks.join(" ")
    );
}

/// Errors by endpoint and kind: each distinct error (status code or
/// detail) with when it was first and last seen, from the summary's
/// `failures`; by kind alone for summaries that predate them.
fn errors(out: &mut String, run: &Run) {
    let _ = write!(out, "<h3>Errors</h3>");
    if run.total.stats.errors == 0 {
        note(out, "No failed requests.");
        return;
    }
    let start = run.start_ns();
    // Seconds into the run, for the first/last seen columns.
    let at = |ns: u64| {
        if ns == 0 {
            ("-".to_string(), 0.0)
        } else {
            let secs = ns.saturating_sub(start) as f64 / 1e9;
            (format!("+{secs:.1} s"), secs)
        }
    };
    let grouped = run.endpoints.iter().any(|e| !e.stats.failures.is_empty());
    out.push_str(
        "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th data-type=\"text\">endpoint</th>\
         <th data-type=\"text\">error</th><th>count</th><th>share of its requests</th>\
         <th>first seen</th><th>last seen</th></tr></thead><tbody>",
    );
    let mut rows: Vec<(&str, String, u64, u64, u64)> = Vec::new();
    for e in &run.endpoints {
        if grouped {
            for g in &e.stats.failures {
                let what = match (&g.detail, g.status) {
                    (_, s) if g.kind == "status" => format!("status {s}"),
                    (Some(d), _) => format!("{}: {d}", g.kind),
                    (None, _) => g.kind.clone(),
                };
                rows.push((&e.stats.name, what, g.count, g.first_ns, g.last_ns));
            }
        } else {
            for (kind, n) in &e.stats.error_kinds {
                rows.push((&e.stats.name, kind.clone(), *n, 0, 0));
            }
        }
    }
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(b.0)));
    for (name, what, n, first, last) in &rows {
        let count = run.find(name).map_or(0, |e| e.stats.count).max(1);
        let share = *n as f64 / count as f64;
        let (first, first_v) = at(*first);
        let (last, last_v) = at(*last);
        let _ = write!(
            out,
            "<tr><td data-v=\"{0}\">{0}</td><td data-v=\"{1}\">{1}</td><td data-v=\"{n}\">{2}</td>\
             <td data-v=\"{share}\">{3}</td><td data-v=\"{first_v}\">{first}</td>\
             <td data-v=\"{last_v}\">{last}</td></tr>",
            esc(name),
            esc(what),
            records::units::thousands(*n as f64),
            records::units::percent(share)
        );
    }
    out.push_str("</tbody></table></div>");
    if rows.is_empty() {
        note(
            out,
            "The summary counts failures but not their kinds (no error_kinds).",
        );
    } else if !grouped {
        note(
            out,
            "First and last seen: not in this summary (made by an aggregate that kept only \
             counts per kind); the throughput chart's failures/s shows when they happened.",
        );
    }
}

/// HdrHistogram's percentile spectrum per endpoint, each curve cut where
/// its count stops resolving (the PNG's rule, [`crate::single::curve_of`]).
fn spectrum(out: &mut String, charts: &mut Vec<Value>, run: &Run, id: &str) {
    let _ = write!(out, "<h3>Latency by percentile</h3>");
    if run.total.hist.is_empty() {
        note(
            out,
            "No successful or failed request has a latency: no percentile spectrum.",
        );
        return;
    }
    let x_max = nines::x_max(run.total.stats.count);
    let mut lines = vec![line(
        "all endpoints",
        style::TEXT,
        &curve(&run.total, x_max),
    )];
    let top = run::top_endpoints(run, MAX_CURVES);
    for (i, e) in top.iter().enumerate().filter(|_| top.len() > 1) {
        lines.push(line_owned(
            style::truncate(&e.stats.name, 48),
            style::series_color(i),
            &curve(e, x_max),
        ));
    }
    let remark = format!(
        "x: percentile on a log scale of nines (90%, 99%, 99.9%…). Each curve stops where its \
         request count stops resolving (p99 needs 100 requests, p99.9 1,000){}.",
        if run.endpoints.len() > MAX_CURVES + 1 {
            format!(
                "; {} endpoints beyond the busiest {MAX_CURVES} are merged as “others”",
                run.endpoints.len() - MAX_CURVES
            )
        } else {
            String::new()
        }
    );
    chart(
        out,
        charts,
        id,
        "Latency by percentile",
        "nines",
        "latency (ms)",
        None,
        lines,
        Some(remark),
    );
}

fn curve(e: &Entry, x_max: f64) -> series::Points {
    crate::single::curve_of(e, x_max, SPECTRUM_STEPS)
}

/// Coordinated omission: response time (from the intended send) against
/// service time (from the actual send); the gap is the generator's send lag.
fn omission(out: &mut String, charts: &mut Vec<Value>, run: &Run, id: &str) {
    let open = run.info.as_ref().is_some_and(|i| i.scheduled > 0);
    let Some(service) = &run.total.service_hist else {
        if open {
            note(out, "Open-model run, but the events carried no send lag: no coordinated-omission panel.");
        }
        return;
    };
    let _ = write!(
        out,
        "<h3>Coordinated omission: response vs service time</h3>"
    );
    let x_max = nines::x_max(run.total.stats.count);
    let service_entry = Entry {
        stats: run.total.stats.clone(),
        hist: service.clone(),
        service_hist: None,
    };
    let response = curve(&run.total, x_max);
    let service = curve(&service_entry, x_max);
    // The lag at each percentile: how far behind schedule sends were.
    let lag: series::Points = response
        .iter()
        .zip(&service)
        .map(|(r, s)| (r.0, (r.1 - s.1).max(0.0)))
        .collect();
    let lines = vec![
        line(
            "response time (from the intended send)",
            style::P99,
            &response,
        ),
        line("service time (from the actual send)", style::P50, &service),
        line("difference: send lag", style::VUS, &lag),
    ];
    let s = run.total.stats.service.clone().unwrap_or_default();
    let remark = format!(
        "p99 response {} vs service {}: when the response curve rises above the service curve, \
         requests waited to be sent (a closed-loop tool would not have counted that wait).",
        records::format_ns(run.total.stats.latency.p99_ns as f64),
        records::format_ns(s.p99_ns as f64)
    );
    chart(
        out,
        charts,
        id,
        "Response vs service time, by percentile",
        "nines",
        "latency (ms)",
        None,
        lines,
        Some(remark),
    );
}

fn pg_chart(
    out: &mut String,
    charts: &mut Vec<Value>,
    run: &Run,
    polls: &[crate::pg::Poll],
    id: &str,
) {
    let _ = write!(out, "<h3>PostgreSQL</h3>");
    let Some(pg) = series::pg(run, polls, MAX_POINTS) else {
        note(
            out,
            "No PostgreSQL sample (--pg) falls within this run's time window.",
        );
        return;
    };
    // The first three stack to the connections open; hovering shows each
    // state's own count.
    let mut lines: Vec<Value> = pg
        .states
        .iter()
        .zip(style::PG_STATES)
        .enumerate()
        .map(|(i, (s, c))| {
            let mut l = line(s.name, c, &s.points);
            if i < 3 {
                l["stack"] = json!(true);
            }
            l
        })
        .collect();
    lines.push(right(line("utilization %", style::VUS, &pg.utilization)));
    chart(
        out,
        charts,
        id,
        "PostgreSQL connections by state (active, idle in transaction and idle stacked)",
        "time",
        "connections",
        Some(&format!(
            "utilization ({})",
            crate::pg::utilization_of(polls)
        )),
        lines,
        None,
    );
}

fn host_chart(
    out: &mut String,
    charts: &mut Vec<Value>,
    run: &Run,
    hosts: &crate::host::Samples,
    id: &str,
) {
    let _ = write!(out, "<h3>Host</h3>");
    let lines = series::host(run, hosts, MAX_POINTS);
    if lines.is_empty() {
        note(
            out,
            "No host sample (--host) falls within this run's time window.",
        );
        return;
    }
    let lines = lines
        .iter()
        .enumerate()
        .map(|(i, (name, points))| line_owned(name.clone(), style::series_color(i), points))
        .collect();
    chart(
        out,
        charts,
        id,
        "CPU (% of all cores for the host, of one core per process)",
        "time",
        "CPU %",
        None,
        lines,
        None,
    );
}

/// Several runs: compare's verdicts against the first, and overlays.
fn comparison(out: &mut String, charts: &mut Vec<Value>, runs: &[Run]) {
    let _ = write!(
        out,
        "<section class=\"comparison\"><h2>Comparison against {}</h2>",
        esc(&runs[0].label)
    );
    let settings = compare::verdict::Settings::default();
    let mut limits = String::new();
    for current in &runs[1..] {
        let report = compare::verdict::compare(&runs[0], current, &settings);
        limits = compare::render::limits(&report);
        let regressions = report.count(compare::verdict::Verdict::Regression);
        let class = if regressions > 0 { "fail" } else { "pass" };
        let _ = write!(
            out,
            "<h3>{} vs {}</h3><div class=\"banner {class}\">{}</div>",
            esc(&runs[0].label),
            esc(&current.label),
            esc(&compare::render::tally(&report))
        );
        if let Some(w) = report.cpu_warning() {
            warn(out, &w);
        }
        out.push_str(
            "<div class=\"scroll\"><table class=\"sortable verdicts\"><thead><tr><th data-type=\"text\">endpoint</th>\
             <th data-type=\"text\">metric</th><th>baseline</th><th>current</th><th>change</th><th>p</th>\
             <th>effect (A)</th><th data-type=\"text\">verdict</th></tr></thead><tbody>",
        );
        // The total first; per endpoint the rows people decide on (and any
        // metric compare has a limit for), not all nine.
        let mut endpoints: Vec<_> = report.endpoints.iter().collect();
        endpoints.sort_by_key(|e| !e.is_total);
        for e in endpoints {
            if e.rows.is_empty() {
                let _ = write!(
                    out,
                    "<tr><td data-v=\"{0}\">{0}</td><td data-v=\"\"></td><td data-v=\"{1}\">{1}</td><td data-v=\"{2}\">{2}</td>\
                     <td data-v=\"0\"></td><td data-v=\"1\"></td><td data-v=\"0\"></td><td data-v=\"{3}\">{3}</td></tr>",
                    esc(&e.name), e.count_baseline, e.count_current, e.status.as_str()
                );
            }
            for r in e
                .rows
                .iter()
                .filter(|r| VERDICT_ROWS.contains(&r.metric) || r.limit.is_some())
            {
                let num = |v: Option<f64>| v.map_or(f64::NAN, |v| v);
                let verdict = compare::render::verdict(r);
                let _ = write!(
                    out,
                    "<tr class=\"{class}\"><td data-v=\"{0}\">{0}</td><td data-v=\"{1}\">{1}</td>\
                     <td data-v=\"{2}\">{3}</td><td data-v=\"{4}\">{5}</td><td data-v=\"{6}\">{7}</td>\
                     <td data-v=\"{8}\">{9}</td><td data-v=\"{10}\">{11}</td><td data-v=\"{12}\">{12}</td></tr>",
                    esc(&e.name),
                    r.metric.name(),
                    num(r.baseline),
                    compare::render::value(r.metric, r.baseline),
                    num(r.current),
                    compare::render::value(r.metric, r.current),
                    num(r.change),
                    compare::render::change(r.metric, r.change),
                    num(r.p_value),
                    r.p_value.map_or_else(String::new, compare::render::p),
                    num(r.effect),
                    r.effect.map_or_else(String::new, |a| format!("{a:.3}")),
                    esc(&verdict),
                    class = r.verdict.as_str().replace(' ', "-").replace('~', "same"),
                );
            }
        }
        out.push_str("</tbody></table></div>");
    }
    note(
        out,
        &format!(
            "Verdicts as `compare` gives them with its default settings: α {} after Holm's \
             correction, at least {} requests a side, limits {}; a metric without a limit is shown \
             but not judged. Rows: p50, p95, p99, failure rate, throughput. p: Mann–Whitney for \
             latency, a proportion test for failures. Effect (A): the probability that a current \
             request is slower than a baseline one (0.5: no difference).",
            settings.alpha, settings.min_count, limits
        ),
    );
    // The runs' series overlaid, each on its own run's clock.
    let overlay = |what: fn(&Run) -> series::Points| -> Vec<Value> {
        runs.iter()
            .enumerate()
            .map(|(i, r)| line_owned(r.label.clone(), style::series_color(i), &what(r)))
            .collect()
    };
    let p95 = overlay(|r| series::latency(r, MAX_POINTS)[1].points.clone());
    chart(
        out,
        charts,
        "cmp-p95",
        "p95 per interval, every run",
        "time",
        "latency (ms)",
        None,
        p95,
        None,
    );
    let rps = overlay(|r| series::throughput(r, MAX_POINTS).rps);
    chart(
        out,
        charts,
        "cmp-rps",
        "Requests per second, every run",
        "time",
        "req/s",
        None,
        rps,
        None,
    );
    let x_max = runs
        .iter()
        .map(|r| nines::x_max(r.total.stats.count))
        .fold(2.0, f64::max);
    let spectra = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            line_owned(
                r.label.clone(),
                style::series_color(i),
                &curve(&r.total, x_max),
            )
        })
        .collect();
    chart(
        out,
        charts,
        "cmp-spectrum",
        "Latency by percentile, every run",
        "nines",
        "latency (ms)",
        None,
        spectra,
        None,
    );
    out.push_str("</section>");
}

/// A chart's placeholder and its data for `report.js`.
#[allow(clippy::too_many_arguments)]
fn chart(
    out: &mut String,
    charts: &mut Vec<Value>,
    id: &str,
    title: &str,
    x: &str,
    y: &str,
    y2: Option<&str>,
    lines: Vec<Value>,
    remark: Option<String>,
) {
    let drawn: Vec<Value> = lines
        .into_iter()
        .filter(|l| l["x"].as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    let _ = write!(
        out,
        "<figure class=\"chart\"><figcaption>{}</figcaption>",
        esc(title)
    );
    if drawn.is_empty() {
        note(out, "No data for this chart.");
    } else {
        let _ = write!(out, "<div class=\"plot\" id=\"{id}\"></div>");
        charts.push(json!({ "id": id, "title": title, "x": x, "y": y, "y2": y2, "series": drawn }));
    }
    if let Some(r) = remark {
        let _ = write!(out, "<p class=\"remark\">{}</p>", esc(&r));
    }
    out.push_str("</figure>");
}

fn line(name: &str, color: RGBColor, points: &[(f64, f64)]) -> Value {
    line_owned(name.to_string(), color, points)
}

fn line_owned(name: String, color: RGBColor, points: &[(f64, f64)]) -> Value {
    let (xs, ys): (Vec<f64>, Vec<f64>) = points.iter().map(|&(x, y)| (round(x), round(y))).unzip();
    json!({ "label": name, "color": hex(color), "x": xs, "y": ys })
}

fn right(mut line: Value) -> Value {
    line["scale"] = json!("y2");
    line
}

/// Four significant digits: what a chart can show, and a third of the bytes.
fn round(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return 0.0;
    }
    let digits = 3 - v.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits.clamp(-12, 12));
    (v * scale).round() / scale
}

fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// A run's summary records as aggregate wrote them, for tools that re-read
/// the report; its interval records are left out (the charts carry them
/// downsampled), which keeps an hour-long run's report small.
fn embedded(run: &Run) -> Value {
    let mut records: Vec<Summary> = Vec::new();
    if let Some(info) = &run.info {
        records.push(Summary::Run(info.clone()));
    }
    records.extend(
        run.endpoints
            .iter()
            .map(|e| Summary::Endpoint(e.stats.clone())),
    );
    records.extend(run.flows.iter().map(|e| Summary::Flow(e.stats.clone())));
    records.push(Summary::Total(run.total.stats.clone()));
    records.extend(run.thresholds.iter().cloned().map(Summary::Threshold));
    json!({
        "label": run.label,
        "path": run.path,
        "intervals_left_out": run.intervals.len(),
        "records": records,
    })
}

/// JSON safe inside a `<script>` element: no `<` to close it early
/// (`\u003c` is the same string to a JSON reader).
fn script_json<T: Serialize>(value: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string(value)
        .context("serialising the report's data")?
        .replace('<', "\\u003c"))
}

fn note(out: &mut String, text: &str) {
    let _ = write!(out, "<p class=\"note\">{}</p>", esc(text));
}

fn warn(out: &mut String, text: &str) {
    let _ = write!(out, "<p class=\"warn\">{}</p>", esc(text));
}

/// Text as HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_json_cannot_close_its_script() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let s = script_json(&json!({"name": "</script><b>"})).unwrap();
        assert!(!s.contains('<'), "{s}");
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["name"], "</script><b>");
    }

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(round(1234.5678), 1235.0);
        assert_eq!(round(0.012345), 0.01235);
        assert_eq!(round(-2.5), -2.5);
        assert_eq!(round(0.0), 0.0);
        assert_eq!(round(f64::NAN), 0.0);
    }
}
