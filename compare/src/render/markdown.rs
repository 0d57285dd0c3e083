//! A pull-request comment: the verdict first, the gated metrics in one table,
//! everything else folded away.

use std::fmt::Write as _;

use super::{change, p, value};
use crate::sidebyside::{SideBySide, LINES};
use crate::verdict::{Report, Row, Verdict};

pub fn report(r: &Report) -> String {
    let mut out = String::new();
    let mark = if r.has_regression() { "❌" } else { "✅" };
    let _ = writeln!(out, "### {mark} Performance: {}\n", super::tally(r));
    let _ = writeln!(
        out,
        "`{}` → `{}`; significance α = {} (Mann–Whitney U for latency, Holm-corrected over {} endpoint{}); limits: {}.\n",
        esc(&r.baseline),
        esc(&r.current),
        r.settings.alpha,
        r.family,
        if r.family == 1 { "" } else { "s" },
        super::limits(r)
    );
    if let Some(warning) = r.cpu_warning() {
        let _ = writeln!(out, "> ⚠️ {warning}\n");
    }
    let gated: Vec<(&str, &Row)> = r
        .endpoints
        .iter()
        .flat_map(|e| {
            e.rows
                .iter()
                .filter(|row| row.limit.is_some() || row.verdict == Verdict::Regression)
                .map(move |row| (e.name.as_str(), row))
        })
        .collect();
    if !gated.is_empty() {
        table(&mut out, &gated);
    }
    for (status, title) in [
        (Verdict::Added, "Added"),
        (Verdict::Removed, "Removed"),
        (Verdict::Insufficient, "Insufficient data (no verdict)"),
    ] {
        let names: Vec<String> = r
            .with_status(status)
            .map(|e| {
                format!(
                    "`{}` ({} → {})",
                    esc(&e.name),
                    e.count_baseline,
                    e.count_current
                )
            })
            .collect();
        if !names.is_empty() {
            let _ = writeln!(out, "\n**{title}:** {}", names.join(", "));
        }
    }
    let all: Vec<(&str, &Row)> = r
        .endpoints
        .iter()
        .flat_map(|e| e.rows.iter().map(move |row| (e.name.as_str(), row)))
        .collect();
    if !all.is_empty() {
        let _ = writeln!(out, "\n<details><summary>All metrics</summary>\n");
        table(&mut out, &all);
        let _ = writeln!(out, "\n</details>");
    }
    out
}

fn table(out: &mut String, rows: &[(&str, &Row)]) {
    let _ = writeln!(
        out,
        "| endpoint | metric | baseline | current | change | p (Holm) | verdict |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|");
    for (name, row) in rows {
        let verdict = match row.verdict {
            Verdict::Regression => format!("**{}**", super::verdict(row)),
            _ => super::verdict(row),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            esc(name),
            row.metric,
            value(row.metric, row.baseline),
            value(row.metric, row.current),
            change(row.metric, row.change),
            row.p_adjusted.map(p).unwrap_or_default(),
            verdict
        );
    }
}

pub fn side_by_side(s: &SideBySide) -> String {
    let mut out = String::new();
    let first = &s.labels[0];
    let _ = writeln!(
        out,
        "### Comparison: {}",
        s.labels
            .iter()
            .map(|l| esc(l))
            .collect::<Vec<_>>()
            .join(" vs ")
    );
    for section in &s.sections {
        let _ = writeln!(out, "\n#### `{}`\n", esc(&section.name));
        let mut header = format!("| | {} |", esc(first));
        let mut rule = "|---|---:|".to_string();
        for label in &s.labels[1..] {
            let _ = write!(header, " {} | vs {} |", esc(label), esc(first));
            rule.push_str("---:|---:|");
        }
        let _ = writeln!(out, "{header}\n{rule}");
        for (i, line) in LINES.iter().enumerate() {
            let cell = |run: usize| section.values[run].as_ref().map(|v| v[i]);
            let _ = write!(out, "| {} | {} |", line.label(), value(*line, cell(0)));
            for run in 1..s.labels.len() {
                let diff = match (cell(0), cell(run)) {
                    (Some(a), Some(b)) => change(*line, line.change(a, b)),
                    _ => "-".into(),
                };
                let _ = write!(out, " {} | {} |", value(*line, cell(run)), diff);
            }
            out.push('\n');
        }
    }
    out
}

/// Markdown table cells cannot hold `|`, and backticks would end the code span.
fn esc(text: &str) -> String {
    text.replace('|', "\\|").replace('`', "'")
}
