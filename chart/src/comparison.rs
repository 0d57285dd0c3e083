//! The charts comparing two or more runs: response time, throughput, failure
//! rate and percentiles side by side, a summary table and `summary_table.txt`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plotters::prelude::*;

use crate::bars::{self, BarChart, BarSeries};
use crate::canvas::{self, draw_err, ms_text, tick, Area, TimeAxis};
use crate::lttb::lttb;
use crate::nines;
use crate::run::{self, Entry, Run};
use crate::single::{self, Curve};
use crate::style::{self, Fonts};
use crate::table;
use crate::Options;
use records::units::percent;

/// Endpoints drawn one by one in comparisons before the rest become "others".
pub const MAX_ENDPOINTS: usize = 8;

/// Writes the five comparison PNGs and summary_table.txt into `dir`.
pub fn render(runs: &[Run], dir: &Path, opts: &Options) -> anyhow::Result<Vec<PathBuf>> {
    type Draw = fn(&[Run], &Path, &Options) -> anyhow::Result<()>;
    let charts: [(&str, Draw); 5] = [
        ("response_time_comparison.png", response_time),
        ("throughput_comparison.png", throughput),
        ("failure_rate_comparison.png", failure_rate),
        ("percentile_comparison.png", percentiles),
        ("summary_table.png", table::summary_table),
    ];
    let mut out = Vec::new();
    for (name, draw) in charts {
        let path = dir.join(name);
        draw(runs, &path, opts).with_context(|| format!("writing {}", path.display()))?;
        out.push(path);
    }
    let path = dir.join("summary_table.txt");
    std::fs::write(&path, table::summary_text(runs))
        .with_context(|| format!("writing {}", path.display()))?;
    out.push(path);
    Ok(out)
}

/// "mono vs micro", or "4 runs" when the labels would not fit a title.
fn versus(runs: &[Run]) -> String {
    let joined = runs
        .iter()
        .map(|r| r.label.as_str())
        .collect::<Vec<_>>()
        .join(" vs ");
    if runs.len() <= 3 && joined.chars().count() <= 60 {
        joined
    } else {
        format!("{} runs", runs.len())
    }
}

fn run_legend(runs: &[Run]) -> Vec<(String, RGBColor)> {
    runs.iter()
        .enumerate()
        .map(|(i, r)| (style::truncate(&r.label, 40), style::series_color(i)))
        .collect()
}

/// Per run: the total first (when `with_total`), then the busiest endpoints and "others".
fn rows(runs: &[Run], with_total: bool) -> (Vec<String>, Vec<Vec<Entry>>) {
    let refs: Vec<&Run> = runs.iter().collect();
    let names = run::ranked_names(&refs);
    let mut groups = run::group(&refs, &names, MAX_ENDPOINTS);
    if with_total {
        for (g, r) in groups.iter_mut().zip(runs) {
            let mut total = r.total.clone();
            total.stats.name = "all endpoints".into();
            g.insert(0, total);
        }
    }
    let categories = groups
        .first()
        .map(|g| g.iter().map(|e| e.stats.name.clone()).collect())
        .unwrap_or_default();
    (categories, groups)
}

fn series_per_run(
    runs: &[Run],
    groups: &[Vec<Entry>],
    value: impl Fn(&Entry) -> f64,
) -> Vec<BarSeries> {
    runs.iter()
        .zip(groups)
        .enumerate()
        .map(|(i, (r, g))| {
            BarSeries::new(
                r.label.clone(),
                style::series_color(i),
                g.iter().map(&value).collect(),
            )
        })
        .collect()
}

/// Mean, median and p95 per endpoint, one panel each, one bar per run.
pub fn response_time(runs: &[Run], path: &Path, opts: &Options) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let root = canvas::canvas(path, (opts.width, opts.height))?;
    let title = format!("Response time by endpoint — {}", versus(runs));
    let area = canvas::titled(&root, &title, &fonts)?;
    let area = canvas::legend_row(&area, &run_legend(runs), &fonts)?;
    let (categories, groups) = rows(runs, true);
    let (w, _) = area.dim_in_pixel();
    let names = bars::names_width(&categories, &fonts, w * 2 / 3);
    // Equal plot widths: the left panel adds the names column, the others
    // their narrow label margin (BarChart's 10 px), to the same share.
    let pad = fonts.px(10.0);
    let share = w.saturating_sub(names + 2 * pad) / 3;
    let (left, rest) = area.split_horizontally(names + share);
    let (middle, right) = rest.split_horizontally(pad + share);
    type Panel<'p, 'a> = (&'p Area<'a>, &'static str, fn(&Entry) -> f64);
    let panels: [Panel; 3] = [
        (&left, "mean", |e| e.stats.latency.mean_ns / 1e6),
        (&middle, "median (p50)", |e| {
            nines::ms(e.stats.latency.p50_ns as f64)
        }),
        (&right, "p95", |e| nines::ms(e.stats.latency.p95_ns as f64)),
    ];
    let small = Fonts {
        title: fonts.axis,
        ..fonts
    };
    let all: Vec<Vec<BarSeries>> = panels
        .iter()
        .map(|(_, _, value)| {
            series_per_run(runs, &groups, |e| {
                if e.stats.count > 0 {
                    value(e)
                } else {
                    0.0
                }
            })
        })
        .collect();
    // One x scale for the three panels, so a bar compares across them.
    let x_max = all
        .iter()
        .flatten()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    for (i, ((panel, name, _), series)) in panels.into_iter().zip(&all).enumerate() {
        BarChart {
            title: name,
            categories: &categories,
            series,
            x_desc: "latency (ms), shared scale",
            format: ms_text,
            notes: None,
            names: i == 0,
            legend: false,
            empty_message: "no requests",
            name_width: Some(names),
            x_max: Some(x_max),
        }
        .draw(panel, &small)?;
    }
    root.present().map_err(draw_err(path))
}

/// Requests per second over time (top) and per endpoint (bottom).
pub fn throughput(runs: &[Run], path: &Path, opts: &Options) -> anyhow::Result<()> {
    over_time_and_bars(
        runs,
        path,
        opts,
        Metric {
            title: "Throughput",
            y_desc: "requests per second (req/s)",
            per_interval: |i| {
                if i.rps > 0.0 {
                    i.rps
                } else {
                    i.count as f64 / i.secs
                }
            },
            per_endpoint: |e| e.stats.rps,
            whole_run: |r| format!("{} req/s", tick(&r.total.stats.rps)),
            format: |v| format!("{} req/s", tick(&v)),
            with_total: false,
            empty: "no requests in any run",
        },
    )
}

/// Failure rate over time (top) and per endpoint (bottom).
pub fn failure_rate(runs: &[Run], path: &Path, opts: &Options) -> anyhow::Result<()> {
    over_time_and_bars(
        runs,
        path,
        opts,
        Metric {
            title: "Failure rate",
            y_desc: "failed requests (%)",
            per_interval: |i| {
                if i.count == 0 {
                    0.0
                } else {
                    i.errors as f64 * 100.0 / i.count.max(i.errors) as f64
                }
            },
            per_endpoint: |e| e.stats.error_rate() * 100.0,
            whole_run: |r| format!("{} failed", percent(r.total.stats.error_rate())),
            format: |v| percent(v / 100.0),
            with_total: true,
            empty: "no failed requests in any run",
        },
    )
}

struct Metric {
    title: &'static str,
    y_desc: &'static str,
    per_interval: fn(&records::Interval) -> f64,
    per_endpoint: fn(&Entry) -> f64,
    whole_run: fn(&Run) -> String,
    format: fn(f64) -> String,
    with_total: bool,
    empty: &'static str,
}

fn over_time_and_bars(runs: &[Run], path: &Path, opts: &Options, m: Metric) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let root = canvas::canvas(path, (opts.width, opts.height))?;
    let (top, bottom) = root.split_vertically(opts.height * 46 / 100);
    let title = format!("{} — {}", m.title, versus(runs));
    let top = canvas::titled(&top, &title, &fonts)?;
    let longest = runs.iter().map(run::axis_secs).fold(1.0, f64::max);
    let axis = TimeAxis::for_duration(longest);
    type Line = (String, RGBColor, Vec<(f64, f64)>);
    let lines: Vec<Line> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let all: Vec<(f64, f64)> = r
                .intervals
                .iter()
                .map(|iv| (axis.x(r.interval_x(iv)), (m.per_interval)(iv)))
                .collect();
            let label = format!(
                "{} (whole run: {})",
                style::truncate(&r.label, 30),
                (m.whole_run)(r)
            );
            (label, style::series_color(i), lttb(&all, opts.max_points()))
        })
        .collect();
    if lines.iter().all(|l| l.2.is_empty()) {
        canvas::no_data(
            &top,
            "no interval records: nothing to draw over time",
            &fonts,
        )?;
    } else {
        let hi = canvas::upper(
            lines
                .iter()
                .flat_map(|l| l.2.iter().map(|p| p.1))
                .fold(0.0, f64::max),
        );
        let err = |e| records::fault(format!("drawing {}: {e:?}", m.title));
        let mut chart = ChartBuilder::on(&top)
            .margin(fonts.px(12.0))
            .margin_right(fonts.px(30.0))
            .x_label_area_size(fonts.px(48.0))
            .y_label_area_size(fonts.px(84.0))
            .build_cartesian_2d(0.0..axis.x(longest), 0.0..hi)
            .map_err(err)?;
        // Two charts share the image: every text here is small.
        let small = Fonts {
            axis: fonts.small,
            label: fonts.small,
            ..fonts
        };
        canvas::time_mesh(&mut chart, &axis, m.y_desc, &small)
            .draw()
            .map_err(err)?;
        for (label, color, points) in &lines {
            let color = *color;
            canvas::line(
                &mut chart,
                points,
                color,
                fonts.line(points.len()),
                label.as_str(),
            )
            .map_err(err)?;
            chart
                .draw_series(canvas::marks(points, color, fonts.px(3.0)))
                .map_err(err)?;
        }
        canvas::legend_at(
            &mut chart,
            SeriesLabelPosition::UpperRight,
            fonts.px(8.0),
            fonts.small,
        )
        .map_err(err)?;
    }
    let (categories, groups) = rows(runs, m.with_total);
    let series = series_per_run(runs, &groups, m.per_endpoint);
    let small = Fonts {
        title: fonts.axis,
        ..fonts
    };
    BarChart {
        title: &format!("{} per endpoint", m.title.to_lowercase()),
        categories: &categories,
        series: &series,
        x_desc: m.y_desc,
        format: m.format,
        notes: None,
        names: true,
        legend: false,
        empty_message: m.empty,
        name_width: None,
        x_max: None,
    }
    .draw(&bottom, &small)?;
    root.present().map_err(draw_err(path))
}

/// Every run's latency distribution on one nines axis.
pub fn percentiles(runs: &[Run], path: &Path, opts: &Options) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let x_max = nines::x_max(runs.iter().map(|r| r.total.stats.count).max().unwrap_or(0));
    let curves = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let l = &r.total.stats.latency;
            Curve {
                label: format!(
                    "{} (p50 {} ms, p99 {} ms)",
                    style::truncate(&r.label, 40),
                    ms_text(nines::ms(l.p50_ns as f64)),
                    ms_text(nines::ms(l.p99_ns as f64))
                ),
                color: style::series_color(i),
                width: fonts.px(3.0),
                points: single::curve_of(&r.total, x_max, crate::nines::STEPS),
            }
        })
        .collect();
    let title = format!("Latency by percentile — {}", versus(runs));
    single::percentile_chart(path, &title, curves, x_max, opts)
}
