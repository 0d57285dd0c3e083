//! The key figures of several runs side by side: `summary_table.png` and
//! `summary_table.txt` share one set of rows, so they never disagree.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use std::time::Duration;

use records::units::{columns, format_duration, percent, thousands, Align};
use records::Metric;

use crate::canvas::{self, draw_err, tick};
use crate::run::{self, Run};
use crate::style::{self, Fonts};
use crate::Options;

/// A row of the summary: a metric of the run's total (from the one metric
/// list every tool shares), or the run's length.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Row {
    Total(Metric),
    Duration,
}

const ROWS: [Row; 13] = [
    Row::Total(Metric::Count),
    Row::Total(Metric::ErrorCount),
    Row::Total(Metric::ErrorRate),
    Row::Total(Metric::Rps),
    Row::Total(Metric::Mean),
    Row::Total(Metric::Min),
    Row::Total(Metric::P50),
    Row::Total(Metric::P90),
    Row::Total(Metric::P95),
    Row::Total(Metric::P99),
    Row::Total(Metric::P999),
    Row::Total(Metric::Max),
    Row::Duration,
];

impl Row {
    fn name(self) -> &'static str {
        match self {
            Row::Total(m) => m.label(),
            Row::Duration => "duration",
        }
    }

    /// The row's figure for a run; `None` for a percentile its request
    /// count cannot resolve (shown as `-`, never compared).
    fn value(self, run: &Run) -> Option<f64> {
        match self {
            Row::Total(m) => m
                .resolved_by(run.total.stats.count)
                .then(|| m.value(&run.total.stats)),
            Row::Duration => Some(run.duration_ns() as f64 / 1e9),
        }
    }

    fn show(self, v: Option<f64>) -> String {
        match (self, v) {
            (_, None) => "-".into(),
            (Row::Total(m), Some(v)) => m.show(v),
            (Row::Duration, Some(v)) => format_duration(Duration::from_secs_f64(v.max(0.0))),
        }
    }

    /// The change from the baseline's `base` as text, and whether it is
    /// better (`Some(true)`), worse (`Some(false)`) or neither (`None`).
    /// Rows without a direction (request count, duration) show none.
    fn change(self, base: Option<f64>, v: Option<f64>) -> Option<(String, Option<bool>)> {
        let (Row::Total(metric), Some(base), Some(v)) = (self, base, v) else {
            return None;
        };
        let higher_is_worse = metric.higher_is_worse()?;
        let change = metric.change(base, v)?;
        let better = (change != 0.0).then_some((change > 0.0) != higher_is_worse);
        Some((metric.show_change(Some(change)), better))
    }
}

/// Draws the key figures as a table: one row per metric, one column per run,
/// changes against the first run in green (better) or red (worse).
pub fn summary_table(runs: &[Run], path: &Path, opts: &Options) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let root = canvas::canvas(path, (opts.width, opts.height))?;
    let title = format!(
        "Summary — {} runs, changes against {}",
        runs.len(),
        runs[0].label
    );
    let area = canvas::titled(&root, &title, &fonts)?;
    let err = |e| records::fault(format!("drawing summary table: {e:?}"));
    let (w, h) = area.dim_in_pixel();
    let pad = fonts.px(30.0) as i32;
    let (w, h) = (w as i32 - 2 * pad, h as i32 - pad);
    let rows = ROWS.len() as i32 + 1;
    let row_h = (h / rows).min((fonts.label * 3.0) as i32);
    let name_w = w / 5;
    let col_w = (w - name_w) / runs.len().max(1) as i32;
    let show_change = runs.len() <= 4;
    // Cells shrink their text when many runs share the width.
    let size = fonts.label.min(f64::from(col_w.max(1)) / 14.0).max(9.0);
    let left = Pos::new(HPos::Left, VPos::Center);
    let right = Pos::new(HPos::Right, VPos::Center);
    let centre = Pos::new(HPos::Center, VPos::Center);
    for row in 0..rows {
        let y = row * row_h;
        let fill = if row == 0 {
            RGBColor(235, 238, 243)
        } else if row % 2 == 0 {
            RGBColor(247, 247, 247)
        } else {
            WHITE
        };
        area.draw(&Rectangle::new(
            [(pad, y), (pad + w, y + row_h)],
            fill.filled(),
        ))
        .map_err(err)?;
    }
    area.draw(&Rectangle::new(
        [(pad, 0), (pad + w, rows * row_h)],
        style::GRID.stroke_width(1),
    ))
    .map_err(err)?;
    let mid = row_h / 2;
    area.draw(&Text::new(
        "metric",
        (pad + 10, mid),
        canvas::bold_style(size).pos(left),
    ))
    .map_err(err)?;
    for (c, run) in runs.iter().enumerate() {
        let x = pad + name_w + c as i32 * col_w;
        let label = style::truncate(&run.label, (f64::from(col_w) / (size * 0.62)) as usize - 2);
        let swatch = (size * 0.7) as i32;
        let tw = style::text_width(&label, size) as i32;
        let sx = x + (col_w - tw - swatch - 6) / 2;
        area.draw(&Rectangle::new(
            [(sx, mid - swatch / 2), (sx + swatch, mid + swatch / 2)],
            style::series_color(c).filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            label,
            (sx + swatch + 6, mid),
            canvas::bold_style(size).pos(left),
        ))
        .map_err(err)?;
    }
    for (r, row) in ROWS.iter().enumerate() {
        let y = (r as i32 + 1) * row_h + mid;
        area.draw(&Text::new(
            row.name(),
            (pad + 10, y),
            canvas::text_style(size).pos(left),
        ))
        .map_err(err)?;
        let base = row.value(&runs[0]);
        for (c, run) in runs.iter().enumerate() {
            let x = pad + name_w + c as i32 * col_w;
            let v = row.value(run);
            let text = row.show(v);
            let change = if c > 0 && show_change {
                row.change(base, v)
            } else {
                None
            };
            match change {
                None => {
                    area.draw(&Text::new(
                        text,
                        (x + col_w / 2, y),
                        canvas::text_style(size).pos(centre),
                    ))
                    .map_err(err)?;
                }
                Some((delta, better)) => {
                    let split = x + col_w * 11 / 20;
                    area.draw(&Text::new(
                        text,
                        (split, y),
                        canvas::text_style(size).pos(right),
                    ))
                    .map_err(err)?;
                    let color = match better {
                        Some(true) => RGBColor(30, 130, 50),
                        Some(false) => style::ERROR,
                        None => style::VUS,
                    };
                    area.draw(&Text::new(
                        format!("({delta})"),
                        (split + 8, y),
                        canvas::text_style(size * 0.9).color(&color).pos(left),
                    ))
                    .map_err(err)?;
                }
            }
        }
    }
    root.present().map_err(draw_err(path))
}

/// The same figures as plain text, then p95 and failure rate per endpoint.
pub fn summary_text(runs: &[Run]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "loadpipe run comparison ({} runs)\n", runs.len());
    for (i, r) in runs.iter().enumerate() {
        let _ = writeln!(
            out,
            "  [{}] {}: {} ({} requests over {})",
            i + 1,
            r.label,
            r.path,
            thousands(r.total.stats.count as f64),
            Row::Duration.show(Row::Duration.value(r))
        );
    }
    let _ = writeln!(out);
    let header: Vec<String> = std::iter::once("metric".to_string())
        .chain(runs.iter().map(|r| r.label.clone()))
        .collect();
    let mut table = vec![header.clone()];
    let base = &runs[0];
    for row in ROWS {
        let b = row.value(base);
        let mut cells = vec![row.name().to_string()];
        for (c, r) in runs.iter().enumerate() {
            let v = row.value(r);
            let mut cell = row.show(v);
            if c > 0 {
                if let Some((delta, _)) = row.change(b, v) {
                    let _ = write!(cell, " ({delta})");
                }
            }
            cells.push(cell);
        }
        table.push(cells);
    }
    out.push_str(&columns(&table, &[Align::Left, Align::Right], ""));

    let refs: Vec<&Run> = runs.iter().collect();
    let names = run::ranked_names(&refs);
    let groups = run::group(&refs, &names, 20);
    for (title, cell) in [
        (
            "p95 latency by endpoint",
            (|e: &run::Entry| {
                if e.stats.count == 0 {
                    "-".to_string()
                } else {
                    Metric::P95.show(Metric::P95.value(&e.stats))
                }
            }) as fn(&run::Entry) -> String,
        ),
        ("failure rate by endpoint", |e| {
            if e.stats.count == 0 {
                "-".to_string()
            } else {
                format!(
                    "{} of {}",
                    percent(e.stats.error_rate()),
                    thousands(e.stats.count as f64)
                )
            }
        }),
    ] {
        let _ = writeln!(out, "\n{title}:\n");
        let mut table = vec![std::iter::once("endpoint".to_string())
            .chain(runs.iter().map(|r| r.label.clone()))
            .collect::<Vec<_>>()];
        if let Some(first) = groups.first() {
            for (i, e) in first.iter().enumerate() {
                let mut row = vec![style::truncate(&e.stats.name, 50)];
                row.extend(groups.iter().map(|g| cell(&g[i])));
                table.push(row);
            }
        }
        out.push_str(&columns(&table, &[Align::Left, Align::Right], ""));
    }
    let thresholds: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            r.thresholds.iter().map(move |t| {
                format!(
                    "  {}: {} {} (measured {})",
                    r.label,
                    t.expr,
                    if t.ok { "ok" } else { "BROKEN" },
                    tick(&t.value)
                )
            })
        })
        .collect();
    if !thresholds.is_empty() {
        let _ = writeln!(out, "\nthresholds:\n{}", thresholds.join("\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_know_which_way_is_better() {
        let p95 = Row::Total(Metric::P95);
        assert_eq!(
            p95.change(Some(10.0), Some(12.0)),
            Some(("+20.0%".into(), Some(false)))
        );
        assert_eq!(
            Row::Total(Metric::Rps).change(Some(10.0), Some(12.0)),
            Some(("+20.0%".into(), Some(true)))
        );
        assert_eq!(Row::Total(Metric::Rps).change(Some(0.0), Some(12.0)), None);
        assert_eq!(
            Row::Total(Metric::ErrorRate).change(Some(0.01), Some(0.005)),
            Some(("-0.50pp".into(), Some(true)))
        );
        assert_eq!(
            p95.change(Some(10.0), Some(10.0)),
            Some(("+0.0%".into(), None))
        );
        assert_eq!(Row::Total(Metric::Count).change(Some(1.0), Some(2.0)), None);
        assert_eq!(Row::Duration.change(Some(1.0), Some(2.0)), None);
    }
}
