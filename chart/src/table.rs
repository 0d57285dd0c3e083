//! The key figures of several runs side by side: `summary_table.png` and
//! `summary.txt` share one set of rows, so they never disagree.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::canvas::{self, draw_err, ms_text, pct_text, thousands, tick};
use crate::run::{self, Run};
use crate::style::{self, Fonts};
use crate::Options;

/// How a figure compares with the first run's.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Change {
    /// Relative change; `true` when higher is better.
    Relative(bool),
    /// Difference in percentage points (rates); higher is worse.
    Points,
    None,
}

struct Metric {
    name: &'static str,
    value: fn(&Run) -> f64,
    format: fn(f64) -> String,
    change: Change,
}

fn ms_of(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn ms_cell(v: f64) -> String {
    format!("{} ms", ms_text(v))
}

const METRICS: &[Metric] = &[
    Metric {
        name: "Requests",
        value: |r| r.total.stats.count as f64,
        format: thousands,
        change: Change::None,
    },
    Metric {
        name: "Failed requests",
        value: |r| r.total.stats.errors as f64,
        format: thousands,
        change: Change::None,
    },
    Metric {
        name: "Failure rate",
        value: |r| r.total.stats.error_rate(),
        format: pct_text,
        change: Change::Points,
    },
    Metric {
        name: "Throughput",
        value: |r| r.total.stats.rps,
        format: |v| format!("{} req/s", tick(&v)),
        change: Change::Relative(true),
    },
    Metric {
        name: "Mean",
        value: |r| r.total.stats.latency.mean_ns / 1e6,
        format: ms_cell,
        change: Change::Relative(false),
    },
    Metric {
        name: "Min",
        value: |r| ms_of(r.total.stats.latency.min_ns),
        format: ms_cell,
        change: Change::Relative(false),
    },
    Metric {
        name: "Median (p50)",
        value: |r| ms_of(r.total.stats.latency.p50_ns),
        format: ms_cell,
        change: Change::Relative(false),
    },
    Metric {
        name: "p90",
        value: |r| ms_of(r.total.stats.latency.p90_ns),
        format: ms_cell,
        change: Change::Relative(false),
    },
    Metric {
        name: "p95",
        value: |r| ms_of(r.total.stats.latency.p95_ns),
        format: ms_cell,
        change: Change::Relative(false),
    },
    Metric {
        name: "p99",
        value: |r| ms_of(r.total.stats.latency.p99_ns),
        format: ms_cell,
        change: Change::Relative(false),
    },
    Metric {
        name: "p99.9",
        value: |r| ms_of(r.total.stats.latency.p999_ns),
        format: ms_cell,
        change: Change::Relative(false),
    },
    Metric {
        name: "Max",
        value: |r| ms_of(r.total.stats.latency.max_ns),
        format: ms_cell,
        change: Change::Relative(false),
    },
    Metric {
        name: "Duration",
        value: |r| r.duration_s(),
        format: |v| format!("{} s", tick(&v)),
        change: Change::None,
    },
];

/// A change against the baseline as text, and whether it is better (Some(true)),
/// worse (Some(false)) or neutral (None).
fn change_text(change: Change, base: f64, v: f64) -> Option<(String, Option<bool>)> {
    match change {
        Change::None => None,
        Change::Points => {
            let pp = (v - base) * 100.0;
            if pp.abs() < 0.005 {
                return Some(("±0 pp".into(), None));
            }
            Some((format!("{pp:+.2} pp"), Some(pp < 0.0)))
        }
        Change::Relative(higher_better) => {
            if base <= 0.0 {
                return None;
            }
            let rel = (v - base) / base * 100.0;
            if rel.abs() < 0.05 {
                return Some(("±0%".into(), None));
            }
            Some((format!("{rel:+.1}%"), Some((rel > 0.0) == higher_better)))
        }
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
    let err = |e| anyhow::anyhow!("drawing summary table: {e:?}");
    let (w, h) = area.dim_in_pixel();
    let pad = fonts.px(30.0) as i32;
    let (w, h) = (w as i32 - 2 * pad, h as i32 - pad);
    let rows = METRICS.len() as i32 + 1;
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
    for (r, metric) in METRICS.iter().enumerate() {
        let y = (r as i32 + 1) * row_h + mid;
        area.draw(&Text::new(
            metric.name,
            (pad + 10, y),
            canvas::text_style(size).pos(left),
        ))
        .map_err(err)?;
        let base = (metric.value)(&runs[0]);
        for (c, run) in runs.iter().enumerate() {
            let x = pad + name_w + c as i32 * col_w;
            let v = (metric.value)(run);
            let text = (metric.format)(v);
            let change = if c > 0 && show_change {
                change_text(metric.change, base, v)
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
            "  [{}] {}: {} ({} requests over {} s)",
            i + 1,
            r.label,
            r.path,
            thousands(r.total.stats.count as f64),
            tick(&r.duration_s())
        );
    }
    let _ = writeln!(out);
    let header: Vec<String> = std::iter::once("metric".to_string())
        .chain(runs.iter().map(|r| r.label.clone()))
        .collect();
    let mut table = vec![header.clone()];
    let base = &runs[0];
    for metric in METRICS {
        let b = (metric.value)(base);
        let mut row = vec![metric.name.to_string()];
        for (c, r) in runs.iter().enumerate() {
            let v = (metric.value)(r);
            let mut cell = (metric.format)(v);
            if c > 0 {
                if let Some((delta, _)) = change_text(metric.change, b, v) {
                    let _ = write!(cell, " ({delta})");
                }
            }
            row.push(cell);
        }
        table.push(row);
    }
    out.push_str(&columns(&table));

    let refs: Vec<&Run> = runs.iter().collect();
    let names = run::ranked_names(&refs);
    let groups = run::group(&refs, &names, 20);
    for (title, cell) in [
        (
            "p95 latency by endpoint",
            (|e: &run::Endpoint| {
                if e.stats.count == 0 {
                    "-".to_string()
                } else {
                    ms_cell(ms_of(e.stats.latency.p95_ns))
                }
            }) as fn(&run::Endpoint) -> String,
        ),
        ("failure rate by endpoint", |e| {
            if e.stats.count == 0 {
                "-".to_string()
            } else {
                format!(
                    "{} of {}",
                    pct_text(e.stats.error_rate()),
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
        out.push_str(&columns(&table));
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

/// Left-aligned first column, right-aligned others, two spaces apart.
fn columns(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c == 0 {
                let _ = write!(line, "{cell:<w$}", w = widths[0]);
            } else {
                let _ = write!(line, "  {cell:>w$}", w = widths[c]);
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
    fn changes_know_which_way_is_better() {
        assert_eq!(
            change_text(Change::Relative(false), 10.0, 12.0),
            Some(("+20.0%".into(), Some(false)))
        );
        assert_eq!(
            change_text(Change::Relative(true), 10.0, 12.0),
            Some(("+20.0%".into(), Some(true)))
        );
        assert_eq!(change_text(Change::Relative(true), 0.0, 12.0), None);
        assert_eq!(
            change_text(Change::Points, 0.01, 0.005),
            Some(("-0.50 pp".into(), Some(true)))
        );
        assert_eq!(change_text(Change::None, 1.0, 2.0), None);
    }

    #[test]
    fn columns_align() {
        let t = columns(&[
            vec!["a".into(), "1".into()],
            vec!["long name".into(), "1234".into()],
        ]);
        assert_eq!(t, "a             1\nlong name  1234\n");
    }
}
