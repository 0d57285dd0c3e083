//! `--format ndjson`: one `comparison` record per endpoint and metric.
//!
//! # Format
//!
//! Every line parses as [`records::Summary::Comparison`]:
//! `{"kind":"comparison","name":"GET /api/v1/tasks","metric":"p95_ns","baseline":3100000.0,"current":4200000.0,"change":0.355,"p_value":2.1e-12,"effect":0.62,"verdict":"regression", ...}`
//! `change` is relative (0.23 = +23%) except for `error_rate`, in percentage
//! points; `p_value` is Mann–Whitney's for latency metrics and the proportion
//! test's for `error_rate` (none for `rps`), before Holm's correction;
//! `effect` is the probability of superiority A. Extra fields readers may
//! use: `p_adjusted` (Holm), `limit`, `ks_d`, `ks_p_value`, `cliffs_delta`,
//! `count_baseline`, `count_current`, `test` (for error rates).
//! Added and removed endpoints get one record with `metric: "count"`.

use serde::Serialize;

use records::Comparison;

use crate::sidebyside::{SideBySide, LINES};
use crate::verdict::{EndpointComparison, Report, Row, Verdict};

#[derive(Serialize)]
struct Record<'a> {
    kind: &'static str,
    #[serde(flatten)]
    comparison: Comparison,
    #[serde(skip_serializing_if = "Option::is_none")]
    p_adjusted: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ks_d: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ks_p_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cliffs_delta: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    test: Option<&'static str>,
    count_baseline: u64,
    count_current: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
}

pub fn report(r: &Report) -> anyhow::Result<String> {
    let mut out = Vec::new();
    {
        let mut w = records::ndjson::Writer::new(&mut out);
        for e in &r.endpoints {
            if e.rows.is_empty() {
                w.write(&presence(e))?;
            }
            for row in &e.rows {
                w.write(&metric(e, row))?;
            }
        }
        w.flush()?;
    }
    Ok(String::from_utf8(out)?)
}

fn presence(e: &EndpointComparison) -> Record<'static> {
    let count = |n: u64, present: bool| present.then_some(n as f64);
    Record {
        kind: "comparison",
        comparison: Comparison {
            name: e.name.clone(),
            metric: "count".into(),
            baseline: count(e.count_baseline, e.status != Verdict::Added),
            current: count(e.count_current, e.status != Verdict::Removed),
            change: None,
            p_value: None,
            effect: None,
            verdict: e.status.as_str().into(),
        },
        p_adjusted: None,
        limit: None,
        ks_d: None,
        ks_p_value: None,
        cliffs_delta: None,
        test: None,
        count_baseline: e.count_baseline,
        count_current: e.count_current,
        baseline_label: None,
        label: None,
    }
}

fn metric(e: &EndpointComparison, row: &Row) -> Record<'static> {
    let latency = row.metric.is_latency().then_some(e.latency).flatten();
    let errors = (row.metric == crate::metric::Metric::ErrorRate)
        .then_some(e.errors)
        .flatten();
    Record {
        kind: "comparison",
        comparison: Comparison {
            name: e.name.clone(),
            metric: row.metric.field().into(),
            baseline: row.baseline,
            current: row.current,
            change: row.change,
            p_value: row.p_value,
            effect: row.effect,
            verdict: row.verdict.as_str().into(),
        },
        p_adjusted: row.p_adjusted,
        limit: row.limit,
        ks_d: latency.map(|l| l.ks.d),
        ks_p_value: latency.map(|l| l.ks.p_value),
        cliffs_delta: latency.map(|l| l.mann_whitney.cliffs_delta()),
        test: errors.map(|t| t.test.method.name()),
        count_baseline: e.count_baseline,
        count_current: e.count_current,
        baseline_label: None,
        label: None,
    }
}

/// Side by side: one record per section, line and later run, against the first run.
pub fn side_by_side(s: &SideBySide) -> anyhow::Result<String> {
    let mut out = Vec::new();
    {
        let mut w = records::ndjson::Writer::new(&mut out);
        for section in &s.sections {
            for run in 1..s.labels.len() {
                let test = section.tests[run];
                for (i, line) in LINES.iter().enumerate() {
                    let first = section.values[0].as_ref().map(|v| v[i]);
                    let this = section.values[run].as_ref().map(|v| v[i]);
                    let change = first.zip(this).and_then(|(a, b)| line.change(a, b));
                    let latency = test.filter(|_| line.is_latency());
                    let verdict = match (first, this) {
                        (None, Some(_)) => "added",
                        (Some(_), None) => "removed",
                        _ => "~",
                    };
                    let count = |v: &Option<Vec<f64>>| v.as_ref().map_or(0, |v| v[0] as u64);
                    w.write(&Record {
                        kind: "comparison",
                        comparison: Comparison {
                            name: section.name.clone(),
                            metric: line.field().into(),
                            baseline: first,
                            current: this,
                            change,
                            p_value: latency.map(|(mw, _)| mw.p_value),
                            effect: latency.map(|(mw, _)| mw.a()),
                            verdict: verdict.into(),
                        },
                        p_adjusted: latency.map(|(_, p)| p),
                        limit: None,
                        ks_d: None,
                        ks_p_value: None,
                        cliffs_delta: latency.map(|(mw, _)| mw.cliffs_delta()),
                        test: None,
                        count_baseline: count(&section.values[0]),
                        count_current: count(&section.values[run]),
                        baseline_label: Some(&s.labels[0]),
                        label: Some(&s.labels[run]),
                    })?;
                }
            }
        }
        w.flush()?;
    }
    Ok(String::from_utf8(out)?)
}
