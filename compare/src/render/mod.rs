//! Formatting only: every renderer reads a finished [`crate::verdict::Report`]
//! or [`crate::sidebyside::SideBySide`] and decides nothing.

pub mod markdown;
pub mod ndjson;
pub mod table;

use crate::metric::{Limits, Metric};
use crate::verdict::{Report, Row};

/// A metric's value as people read it; `-` where a run lacks it.
pub fn value(metric: Metric, v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| metric.show(v))
}

/// A change as people read it: `+23.0%`, `+4.90pp`, `n/a`.
pub fn change(metric: Metric, change: Option<f64>) -> String {
    metric.show_change(change)
}

/// A p-value short and honest: `0.034`, `2e-12`, `<1e-300`.
pub fn p(p: f64) -> String {
    if p == 0.0 {
        "<1e-300".into()
    } else if p >= 0.001 {
        format!("{p:.3}")
    } else {
        format!("{p:.0e}")
    }
}

/// `p=0.034`, `p<1e-300`.
pub fn p_is(value: f64) -> String {
    let text = p(value);
    if text.starts_with('<') {
        format!("p{text}")
    } else {
        format!("p={text}")
    }
}

/// `regression (limit +20%)` and friends. A metric without a limit is shown
/// but never judged, so its verdict cell stays empty rather than claiming `~`.
pub fn verdict(row: &Row) -> String {
    let v = row.verdict.as_str();
    match row.limit {
        Some(limit) => format!("{v} (limit {})", Limits::describe(row.metric, limit)),
        None if row.verdict == crate::verdict::Verdict::Same => String::new(),
        None => v.to_string(),
    }
}

/// `p95 +20%, errors +1pp`
pub fn limits(report: &Report) -> String {
    let parts: Vec<String> = report
        .settings
        .limits
        .iter()
        .map(|(m, a)| format!("{m} {}", Limits::describe(m, a)))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// `2 regressions, 1 improvement` / `no regression`.
pub fn tally(report: &Report) -> String {
    use crate::verdict::Verdict::*;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    let r = report.count(Regression);
    parts.push(if r == 0 {
        "no regression".to_string()
    } else {
        plural(r, "regression", "regressions")
    });
    let i = report.count(Improvement);
    if i > 0 {
        parts.push(plural(i, "improvement", "improvements"));
    }
    for (status, one, many) in [
        (
            Insufficient,
            "endpoint with insufficient data",
            "endpoints with insufficient data",
        ),
        (Added, "endpoint added", "endpoints added"),
        (Removed, "endpoint removed", "endpoints removed"),
    ] {
        let n = report.with_status(status).count();
        if n > 0 {
            parts.push(plural(n, one, many));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(p(0.0341), "0.034");
        assert_eq!(p(2.3e-12), "2e-12");
        assert_eq!(p(0.0), "<1e-300");
        assert_eq!(change(Metric::P95, Some(0.23)), "+23.0%");
        assert_eq!(change(Metric::ErrorRate, Some(4.9)), "+4.90pp");
        assert_eq!(value(Metric::ErrorRate, Some(0.001)), "0.10%");
        assert_eq!(value(Metric::P50, Some(1_843_000.0)), "1.84ms");
        assert_eq!(value(Metric::Rps, Some(12.34)), "12.3/s");
    }
}
