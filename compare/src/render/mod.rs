//! Formatting only: every renderer reads a finished [`crate::verdict::Report`]
//! or [`crate::sidebyside::SideBySide`] and decides nothing.

pub mod markdown;
pub mod ndjson;
pub mod table;

use records::format_ns;

use crate::metric::{Limits, Metric};
use crate::verdict::{Report, Row};

/// A metric's value as people read it.
pub fn value(metric: Metric, v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if metric.is_latency() => format_ns(v),
        Some(v) if metric == Metric::ErrorRate => percent(v),
        Some(v) => rate(v),
    }
}

pub fn percent(ratio: f64) -> String {
    let pct = ratio * 100.0;
    if pct != 0.0 && pct.abs() < 0.01 {
        format!("{pct:.3}%")
    } else {
        format!("{pct:.2}%")
    }
}

pub fn rate(per_s: f64) -> String {
    if per_s >= 100.0 {
        format!("{per_s:.0}/s")
    } else {
        format!("{per_s:.1}/s")
    }
}

/// `+23.0%`, `-4.1%`, `+4.90pp`.
pub fn change(metric: Metric, change: Option<f64>) -> String {
    match change {
        None => "n/a".into(),
        Some(c) if metric == Metric::ErrorRate => format!("{c:+.2}pp"),
        Some(c) => relative(c),
    }
}

pub fn relative(c: f64) -> String {
    format!("{:+.1}%", c * 100.0)
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

/// Columns padded to their widest cell; `right[i]` right-aligns column i.
pub fn columns(rows: &[Vec<String>], right: &[bool], indent: &str) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; n];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(indent);
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                line.push_str("  ");
            }
            if right.get(i).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
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

    #[test]
    fn columns_align_multibyte_units() {
        let rows = vec![
            vec!["a".to_string(), "812µs".to_string()],
            vec!["bbb".to_string(), "1.84ms".to_string()],
        ];
        assert_eq!(
            columns(&rows, &[false, true], ""),
            "a     812µs\nbbb  1.84ms\n"
        );
    }
}
