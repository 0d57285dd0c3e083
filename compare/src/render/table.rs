//! Aligned text for a terminal (and `summary.txt`), benchstat-like: one block
//! per endpoint, one line per metric, `~` where nothing changed that matters.

use std::fmt::Write as _;

use std::time::Duration;

use records::units::{columns, format_duration, Align};

use super::{change, p, p_is, value, verdict};
use crate::sidebyside::{SideBySide, LINES};
use crate::verdict::{EndpointComparison, Report, Verdict};

pub fn report(r: &Report) -> String {
    // The verdict first: it is what a person (or a CI log) looks for.
    let mut out = format!("{}\n\n", super::tally(r));
    let _ = writeln!(out, "baseline: {}    current: {}", r.baseline, r.current);
    let _ = writeln!(
        out,
        "alpha {} (Holm-corrected over {} endpoint{}), limits: {}",
        r.settings.alpha,
        r.family,
        if r.family == 1 { "" } else { "s" },
        super::limits(r)
    );
    if let Some(warning) = r.cpu_warning() {
        let _ = writeln!(out, "{warning}");
    }
    for e in r.endpoints.iter().filter(|e| !e.rows.is_empty()) {
        out.push('\n');
        endpoint(&mut out, e, r.settings.min_count);
    }
    let listed: Vec<String> = r
        .endpoints
        .iter()
        .filter(|e| matches!(e.status, Verdict::Added | Verdict::Removed))
        .map(|e| {
            let n = e.count_baseline.max(e.count_current);
            format!("  {:<8} {} ({n} requests)", e.status.as_str(), e.name)
        })
        .collect();
    if !listed.is_empty() {
        out.push('\n');
        for line in listed {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

fn endpoint(out: &mut String, e: &EndpointComparison, min_count: u64) {
    let _ = writeln!(
        out,
        "{}    {} → {} requests",
        e.name, e.count_baseline, e.count_current
    );
    if e.status == Verdict::Insufficient {
        let _ = writeln!(
            out,
            "  insufficient data: at least {min_count} requests a side are needed for a verdict"
        );
    }
    if let Some(l) = e.latency {
        let mw = l.mann_whitney;
        let _ = writeln!(
            out,
            "  latency: Mann-Whitney {} (Holm {}), A={:.3}, Cliff's delta={:+.3}; Kolmogorov-Smirnov D={:.3}, {}",
            p_is(mw.p_value),
            p(l.p_adjusted),
            mw.a(),
            mw.cliffs_delta(),
            l.ks.d,
            p_is(l.ks.p_value)
        );
    }
    if let Some(t) = e.errors {
        let _ = writeln!(
            out,
            "  errors: {} {} (Holm {})",
            t.test.method.name(),
            p_is(t.test.p_value),
            p(t.p_adjusted)
        );
    }
    let mut rows = vec![vec![
        "metric".to_string(),
        "baseline".into(),
        "current".into(),
        "change".into(),
        "p(Holm)".into(),
        "verdict".into(),
    ]];
    for row in &e.rows {
        rows.push(vec![
            row.metric.to_string(),
            value(row.metric, row.baseline),
            value(row.metric, row.current),
            change(row.metric, row.change),
            row.p_adjusted.map(p).unwrap_or_default(),
            verdict(row),
        ]);
    }
    out.push_str(&columns(
        &rows,
        &[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Left,
        ],
        "  ",
    ));
}

/// Seed 000's summary: each run's metrics, and each later run's difference from the first.
pub fn side_by_side(s: &SideBySide) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Comparison: {}", s.labels.join(" vs "));
    for (label, d) in s.labels.iter().zip(&s.durations_ns) {
        let length = format_duration(Duration::from_nanos(*d));
        let _ = writeln!(out, "  {label}: {length} run");
    }
    let first = &s.labels[0];
    for section in &s.sections {
        out.push('\n');
        let _ = writeln!(out, "{}", section.name);
        let mut header = vec!["".to_string(), s.labels[0].clone()];
        for label in &s.labels[1..] {
            header.push(label.clone());
            header.push(format!("vs {first}"));
        }
        let mut rows = vec![header];
        for (i, line) in LINES.iter().enumerate() {
            let cell = |run: usize| section.values[run].as_ref().map(|v| v[i]);
            let mut row = vec![line.label().to_string(), value(*line, cell(0))];
            for run in 1..s.labels.len() {
                row.push(value(*line, cell(run)));
                row.push(match (cell(0), cell(run)) {
                    (Some(a), Some(b)) => change(*line, line.change(a, b)),
                    _ => "-".into(),
                });
            }
            rows.push(row);
        }
        out.push_str(&columns(&rows, &[Align::Left, Align::Right], "  "));
        for (run, test) in section.tests.iter().enumerate() {
            if let Some((mw, adjusted)) = test {
                let _ = writeln!(
                    out,
                    "  {} vs {first}: latency {} (Mann-Whitney {}, Holm-corrected; A={:.3})",
                    s.labels[run],
                    if *adjusted < s.alpha { "differs" } else { "~" },
                    p_is(*adjusted),
                    mw.a()
                );
            }
        }
    }
    out
}
