//! The charts of one run: latency and throughput over time, the percentile
//! distribution, the per-endpoint summary, and PostgreSQL activity.

use std::path::Path;

use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::bars::{BarChart, BarSeries};
use crate::canvas::{self, draw_err, ms_text, tick, Area, TimeAxis};
use crate::nines;
use crate::pg::Poll;
use crate::run::{self, Entry, Run};
use crate::series;
use crate::style::{self, Fonts};
use crate::Options;
use records::units::percent;

/// Endpoints drawn one by one before the rest become "others": with
/// "others" that is ten lines, one per palette colour.
pub const MAX_SERIES: usize = 9;

type Chart<'a, 'b, Y> = ChartContext<'a, crate::text::Backend<'b>, Cartesian2d<RangedCoordf64, Y>>;

/// Draws latency p50/p95/p99 per interval, with intervals that had errors shaded.
pub fn latency_over_time(run: &Run, path: &Path, opts: &Options) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let root = canvas::canvas(path, (opts.width, opts.height))?;
    let title = format!("Latency over time — {}", run.label);
    latency_panel(&root, run, &title, false, opts, &fonts)?;
    root.present().map_err(draw_err(path))?;
    Ok(())
}

fn latency_panel(
    area: &Area,
    run: &Run,
    title: &str,
    right_axis: bool,
    opts: &Options,
    fonts: &Fonts,
) -> anyhow::Result<()> {
    if !run.intervals.iter().any(|i| i.count > 0) {
        let inner = canvas::titled(area, title, fonts)?;
        return canvas::no_data(
            &inner,
            "no requests in any interval: nothing to draw",
            fonts,
        );
    }
    let axis = TimeAxis::for_duration(run::axis_secs(run));
    let colors = [style::P50, style::P95, style::P99];
    let lines: Vec<Line> = series::latency(run, opts.max_points())
        .into_iter()
        .zip(colors)
        .map(|(s, color)| {
            // Say why a line is missing rather than leave a silent legend entry.
            let name = match (s.name, s.points.is_empty()) {
                ("p95", true) => "p95 (no interval had the 20 requests it needs)",
                ("p99", true) => "p99 (no interval had the 100 requests it needs)",
                (name, _) => name,
            };
            (name, color, series::scaled(&s.points, |x| axis.x(x)))
        })
        .collect();
    let x_range = 0.0..axis.x(run::axis_secs(run));
    let ys = lines.iter().flat_map(|(_, _, p)| p.iter().map(|&(_, y)| y));
    let mut builder = ChartBuilder::on(area);
    builder.caption(
        canvas::fit_title(title, opts.width, fonts),
        canvas::bold_style(fonts.title),
    );
    // With `right_axis`, leaves the room the panel below uses for its second
    // axis, so both time axes align.
    canvas::time_frame(&mut builder, right_axis, fonts);
    let errors = error_buckets(run, &axis, opts.max_points());
    if opts.log_scale {
        let (lo, hi) = canvas::log_bounds(ys);
        let chart = builder
            .build_cartesian_2d(x_range, (lo..hi).log_scale())
            .map_err(|e| records::fault(format!("{e:?}")))?;
        draw_latency(chart, &lines, &errors, (lo, hi, true), axis, fonts)
    } else {
        let hi = canvas::upper(ys.fold(0.0, f64::max));
        // Dense lines can fill every corner: then the legend gets room on top.
        let fr: Vec<Vec<(f64, f64)>> = lines
            .iter()
            .map(|l| canvas::fractions(&l.2, x_range.clone(), 0.0..hi, false))
            .collect();
        let entries = lines.len() + usize::from(!errors.is_empty());
        let size = canvas::legend_size(entries, 40, canvas::plot_estimate(area), fonts);
        let hi = hi * canvas::legend_headroom(&fr, size);
        let chart = builder
            .build_cartesian_2d(x_range, 0.0..hi)
            .map_err(|e| records::fault(format!("{e:?}")))?;
        draw_latency(chart, &lines, &errors, (0.0, hi, false), axis, fonts)
    }
}

/// Splits `root` for an activity chart: the run's latency over time on top,
/// titled `title`, with room on the right for the second axis of the panel
/// below, which is returned, so both share one time axis.
pub(crate) fn under_latency<'a>(
    root: &Area<'a>,
    run: &Run,
    title: &str,
    opts: &Options,
    fonts: &Fonts,
) -> anyhow::Result<Area<'a>> {
    let (top, bottom) = root.split_vertically(opts.height * 45 / 100);
    latency_panel(&top, run, title, true, opts, fonts)?;
    Ok(bottom)
}

type Line = (&'static str, RGBColor, Vec<(f64, f64)>);

fn draw_latency<'a, 'b: 'a, Y>(
    mut chart: Chart<'a, 'b, Y>,
    lines: &[Line],
    errors: &[(f64, f64, f64)],
    (lo, hi, log): (f64, f64, bool),
    axis: TimeAxis,
    fonts: &Fonts,
) -> anyhow::Result<()>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let err = |e| records::fault(format!("drawing latency: {e:?}"));
    canvas::time_mesh(&mut chart, &axis, "latency (ms)", fonts)
        .draw()
        .map_err(err)?;
    if !errors.is_empty() {
        chart
            .draw_series(errors.iter().map(|&(x0, x1, rate)| {
                let alpha = 0.08 + 0.4 * (rate * 5.0).min(1.0);
                Rectangle::new([(x0, lo), (x1, hi)], style::ERROR.mix(alpha).filled())
            }))
            .map_err(err)?
            .label("intervals with errors (darker = more)")
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 6), (x + 20, y + 6)],
                    style::ERROR.mix(0.4).filled(),
                )
            });
    }
    for (name, color, points) in lines {
        canvas::line(&mut chart, points, *color, fonts.line(points.len()), *name).map_err(err)?;
        chart
            .draw_series(canvas::marks(points, *color, fonts.px(4.0)))
            .map_err(err)?;
    }
    let mut labels: Vec<&str> = lines.iter().map(|l| l.0).collect();
    if !errors.is_empty() {
        labels.push("intervals with errors (darker = more)");
    }
    let placed: Vec<canvas::Placed> = lines
        .iter()
        .map(|l| canvas::Placed {
            points: &l.2,
            y: lo..hi,
            log_y: log,
        })
        .collect();
    legend(&mut chart, &placed, &labels, fonts)
}

/// Pixel-wide buckets of intervals that had errors: (x0, x1, worst error rate).
fn error_buckets(run: &Run, axis: &TimeAxis, buckets: usize) -> Vec<(f64, f64, f64)> {
    let span = axis.x(run::axis_secs(run)).max(f64::MIN_POSITIVE);
    let width = span / buckets.max(1) as f64;
    let mut out: Vec<(f64, f64, f64)> = Vec::new();
    for i in run.intervals.iter().filter(|i| i.errors > 0) {
        let rate = i.errors as f64 / i.count.max(i.errors) as f64;
        let start = axis.x(i.start.saturating_sub(run.start_ns()) as f64 / 1e9);
        let end = start + axis.x(i.secs).max(width);
        match out.last_mut() {
            // Merge neighbours narrower than a pixel bucket into one band.
            Some(last) if start - last.0 < width => {
                last.1 = last.1.max(end);
                last.2 = last.2.max(rate);
            }
            _ => out.push((start, end, rate)),
        }
    }
    out
}

/// The legend, in the plot corner with the least data.
fn legend<'a, 'b: 'a, Y>(
    chart: &mut Chart<'a, 'b, Y>,
    lines: &[canvas::Placed],
    labels: &[&str],
    fonts: &Fonts,
) -> anyhow::Result<()>
where
    Y: Ranged<ValueType = f64>,
{
    let plot = chart.plotting_area().dim_in_pixel();
    let corner = canvas::place_legend(lines, chart.x_range(), labels, plot, fonts);
    canvas::legend_in(chart, corner, fonts)
        .map_err(|e| records::fault(format!("drawing legend: {e:?}")))
}

/// Draws requests/s and failures/s per interval, active VUs on a second axis.
pub fn throughput_over_time(run: &Run, path: &Path, opts: &Options) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let root = canvas::canvas(path, (opts.width, opts.height))?;
    let title = format!("Throughput over time — {}", run.label);
    if run.intervals.is_empty() {
        let inner = canvas::titled(&root, &title, &fonts)?;
        let msg = format!(
            "no interval records; whole run: {} req/s, {} failures/s",
            tick(&run.total.stats.rps),
            tick(&run.total.stats.failures_per_s)
        );
        canvas::no_data(&inner, &msg, &fonts)?;
        return root.present().map_err(draw_err(path));
    }
    let axis = TimeAxis::for_duration(run::axis_secs(run));
    let t = series::throughput(run, opts.max_points());
    let x = |p: &[(f64, f64)]| series::scaled(p, |x| axis.x(x));
    let (rps, fails, vus) = (x(&t.rps), x(&t.failures), x(&t.vus));
    let y_hi = canvas::upper(rps.iter().chain(&fails).map(|p| p.1).fold(0.0, f64::max));
    let vu_hi = canvas::upper(vus.iter().map(|p| p.1).fold(0.0, f64::max));
    let x_range = 0.0..axis.x(run::axis_secs(run));
    let labels = ["requests/s", "failures/s", "virtual users (right axis)"];
    // Ramp, plateau, ramp down fills every corner: raise both axes so the
    // legend sits above the plateau.
    let stretch = canvas::legend_headroom(
        &[
            canvas::fractions(&rps, x_range.clone(), 0.0..y_hi, false),
            canvas::fractions(&fails, x_range.clone(), 0.0..y_hi, false),
            canvas::fractions(&vus, x_range.clone(), 0.0..vu_hi, false),
        ],
        canvas::legend_size(labels.len(), 26, canvas::plot_estimate(&root), &fonts),
    );
    let (y_hi, vu_hi) = (y_hi * stretch, vu_hi * stretch);
    let err = |e| records::fault(format!("drawing throughput: {e:?}"));
    let mut builder = ChartBuilder::on(&root);
    builder.caption(
        canvas::fit_title(&title, opts.width, &fonts),
        canvas::bold_style(fonts.title),
    );
    let mut chart = canvas::two_axes(&mut builder, x_range, y_hi, vu_hi, &fonts).map_err(err)?;
    canvas::time_mesh(&mut chart, &axis, "requests per second (req/s)", &fonts)
        .draw()
        .map_err(err)?;
    canvas::right_axis(&mut chart, "active virtual users", &fonts)
        .draw()
        .map_err(err)?;
    let dot = fonts.px(4.0);
    for (name, color, points) in [
        ("requests/s", style::OK, &rps),
        ("failures/s", style::ERROR, &fails),
    ] {
        canvas::line(&mut chart, points, color, fonts.line(points.len()), name).map_err(err)?;
        chart
            .draw_series(canvas::marks(points, color, dot))
            .map_err(err)?;
    }
    let vu_color = style::VUS;
    canvas::dashed_right(
        &mut chart,
        &vus,
        vu_color,
        "virtual users (right axis)",
        20,
        &fonts,
    )
    .map_err(err)?;
    chart
        .draw_secondary_series(canvas::marks(&vus, vu_color, dot))
        .map_err(err)?;
    let placed = [
        canvas::Placed {
            points: &rps,
            y: 0.0..y_hi,
            log_y: false,
        },
        canvas::Placed {
            points: &fails,
            y: 0.0..y_hi,
            log_y: false,
        },
        canvas::Placed {
            points: &vus,
            y: 0.0..vu_hi,
            log_y: false,
        },
    ];
    let plot = chart.plotting_area().dim_in_pixel();
    let corner = canvas::place_legend(&placed, chart.x_range(), &labels, plot, &fonts);
    canvas::legend_in(&mut chart, corner, &fonts).map_err(err)?;
    root.present().map_err(draw_err(path))
}

/// One curve of a percentile plot.
pub struct Curve {
    pub label: String,
    pub color: RGBColor,
    pub width: u32,
    pub points: Vec<(f64, f64)>,
}

/// The percentile curve of an endpoint, from its histogram, on a grid of
/// `steps` over `0..x_max`, stopped where its count stops resolving
/// ([`records::metric::resolved_nines`]: 65 requests say nothing about p99).
/// Curves of one chart share their x values, so the report aligns them.
pub fn curve_of(e: &Entry, x_max: f64, steps: usize) -> Vec<(f64, f64)> {
    if e.hist.is_empty() {
        return Vec::new();
    }
    let resolved = records::metric::resolved_nines(e.hist.len()).max(1.0);
    let mut points = nines::curve(&e.hist, x_max, steps);
    if resolved < x_max {
        points.retain(|p| p.0 <= resolved);
        let at = e.hist.value_at_quantile(nines::q_of(resolved));
        let end = (resolved, nines::ms(e.hist.highest_equivalent(at) as f64));
        if points.last().is_some_and(|p| p.0 < resolved) {
            points.push(end);
        }
    }
    points
}

/// Draws one latency-by-percentile line per endpoint (top 10, "others") and the total.
pub fn percentile_distribution(run: &Run, path: &Path, opts: &Options) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let x_max = nines::x_max(run.total.stats.count);
    let mut curves = Vec::new();
    let top = run::top_endpoints(run, MAX_SERIES);
    let name_max = 40;
    if top.len() > 1 || top.is_empty() {
        curves.push(Curve {
            label: format!(
                "all endpoints (p99 {} ms)",
                ms_text(nines::ms(run.total.stats.latency.p99_ns as f64))
            ),
            color: style::TEXT,
            width: fonts.px(3.0),
            points: curve_of(&run.total, x_max, nines::STEPS),
        });
    }
    for (i, e) in top.iter().enumerate() {
        curves.push(Curve {
            label: format!(
                "{} (p99 {} ms)",
                style::truncate(&e.stats.name, name_max),
                ms_text(nines::ms(e.stats.latency.p99_ns as f64))
            ),
            color: style::series_color(i),
            width: fonts.px(2.0),
            points: curve_of(e, x_max, nines::STEPS),
        });
    }
    let title = format!("Latency by percentile — {}", run.label);
    percentile_chart(path, &title, curves, x_max, opts)
}

/// Renders a percentile plot of `curves` on the nines axis.
pub fn percentile_chart(
    path: &Path,
    title: &str,
    curves: Vec<Curve>,
    x_max: f64,
    opts: &Options,
) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let root = canvas::canvas(path, (opts.width, opts.height))?;
    let curves: Vec<Curve> = curves
        .into_iter()
        .filter(|c| !c.points.is_empty())
        .collect();
    if curves.is_empty() {
        let inner = canvas::titled(&root, title, &fonts)?;
        canvas::no_data(&inner, "no requests recorded: nothing to draw", &fonts)?;
        return root.present().map_err(draw_err(path));
    }
    let ys = curves.iter().flat_map(|c| c.points.iter().map(|p| p.1));
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(
            canvas::fit_title(title, opts.width, &fonts),
            canvas::bold_style(fonts.title),
        )
        .margin(fonts.px(12.0))
        // The last tick label ("99.999%") is centred on the right edge.
        .margin_right(fonts.px(50.0))
        .x_label_area_size(fonts.px(52.0))
        .y_label_area_size(fonts.px(84.0));
    if opts.log_scale {
        let (lo, hi) = canvas::log_bounds(ys);
        let chart = builder
            .build_cartesian_2d(0.0..x_max, (lo..hi).log_scale())
            .map_err(|e| records::fault(format!("{e:?}")))?;
        draw_curves(chart, &curves, x_max, true, &fonts)?;
    } else {
        let hi = canvas::upper(ys.fold(0.0, f64::max));
        let chart = builder
            .build_cartesian_2d(0.0..x_max, 0.0..hi)
            .map_err(|e| records::fault(format!("{e:?}")))?;
        draw_curves(chart, &curves, x_max, false, &fonts)?;
    }
    root.present().map_err(draw_err(path))
}

fn draw_curves<'a, 'b: 'a, Y>(
    mut chart: Chart<'a, 'b, Y>,
    curves: &[Curve],
    x_max: f64,
    log_y: bool,
    fonts: &Fonts,
) -> anyhow::Result<()>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let err = |e| records::fault(format!("drawing percentiles: {e:?}"));
    canvas::mesh(&mut chart, fonts)
        .x_desc("percentile (log scale of nines)")
        .y_desc("latency (ms)")
        .x_labels(x_max as usize + 1)
        .x_label_formatter(&nines::label)
        .y_label_formatter(&tick)
        .draw()
        .map_err(err)?;
    for c in curves {
        canvas::line(&mut chart, &c.points, c.color, c.width, c.label.as_str()).map_err(err)?;
    }
    let (lo, hi) = (chart.y_range().start, chart.y_range().end);
    // The first curve (the total, drawn thick) again on top, so it stays visible.
    if let Some(c) = curves.first().filter(|_| curves.len() > 1) {
        chart
            .draw_series(LineSeries::new(
                c.points.iter().copied(),
                c.color.stroke_width(c.width),
            ))
            .map_err(err)?;
    }
    let placed: Vec<canvas::Placed> = curves
        .iter()
        .map(|c| canvas::Placed {
            points: &c.points,
            y: lo..hi,
            log_y,
        })
        .collect();
    let labels: Vec<&str> = curves.iter().map(|c| c.label.as_str()).collect();
    legend(&mut chart, &placed, &labels, fonts)
}

/// p50, p95 and p99 per endpoint (ms); a percentile the endpoint's count
/// does not resolve ([`Metric::resolved_by`]: p99 needs 100 requests) is
/// NaN, drawn as "-" with no bar, as the tables show it.
fn summary_bars(rows: &[Entry]) -> Vec<BarSeries> {
    use records::metric::Metric;
    let metric = |m: Metric, f: fn(&records::Latency) -> u64| -> Vec<f64> {
        rows.iter()
            .map(|e| {
                if m.resolved_by(e.stats.count) {
                    nines::ms(f(&e.stats.latency) as f64)
                } else {
                    f64::NAN
                }
            })
            .collect()
    };
    vec![
        BarSeries::new("p50", style::P50, metric(Metric::P50, |l| l.p50_ns)),
        BarSeries::new("p95", style::P95, metric(Metric::P95, |l| l.p95_ns)),
        BarSeries::new("p99", style::P99, metric(Metric::P99, |l| l.p99_ns)),
    ]
}

/// Draws p50/p95/p99 bars per endpoint with each endpoint's error rate and count.
pub fn endpoint_summary(run: &Run, path: &Path, opts: &Options) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let root = canvas::canvas(path, (opts.width, opts.height))?;
    let rows = run::top_endpoints(run, MAX_SERIES);
    let categories: Vec<String> = rows.iter().map(|e| e.stats.name.clone()).collect();
    let series = summary_bars(&rows);
    let notes: Vec<(String, RGBColor)> = rows
        .iter()
        .map(|e| {
            let rate = e.stats.error_rate();
            let color = if rate > 0.0 {
                style::ERROR
            } else {
                style::TEXT
            };
            (
                format!(
                    "{} req · {} errors",
                    records::units::thousands(e.stats.count as f64),
                    percent(rate)
                ),
                color,
            )
        })
        .collect();
    BarChart {
        title: &format!("Latency per endpoint — {}", run.label),
        categories: &categories,
        series: &series,
        x_desc: "latency (ms)",
        format: ms_text,
        notes: Some(&notes),
        names: true,
        legend: true,
        empty_message: "no endpoint records: nothing to draw",
        name_width: None,
        x_max: None,
    }
    .draw(&root, &fonts)?;
    root.present().map_err(draw_err(path))
}

/// Draws latency over time above PostgreSQL connections by state and
/// utilization, on one time axis, so spikes line up with pool saturation.
pub fn pg_activity(run: &Run, polls: &[Poll], path: &Path, opts: &Options) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let root = canvas::canvas(path, (opts.width, opts.height))?;
    let title = format!("Latency and PostgreSQL activity — {}", run.label);
    let bottom = under_latency(&root, run, &title, opts, &fonts)?;
    // Samples outside the run still show, on the same axis, up to the run's length.
    let axis = TimeAxis::for_duration(run::axis_secs(run));
    let x_range = 0.0..axis.x(run::axis_secs(run));
    let Some(lines) = series::pg(run, polls, opts.max_points()) else {
        canvas::no_data(
            &bottom,
            "no PostgreSQL samples fall within this run's time window",
            &fonts,
        )?;
        return root.present().map_err(draw_err(path));
    };
    // active, idle in transaction and idle stack to the connections open;
    // waiting on a lock (a part of active) is a line over them.
    let states: Vec<Line> = lines
        .states
        .into_iter()
        .zip(style::PG_STATES)
        .map(|(s, color)| (s.name, color, series::scaled(&s.points, |x| axis.x(x))))
        .collect();
    let bands = series::stacked(&[&states[0].2, &states[1].2, &states[2].2]);
    let tops: Vec<Vec<(f64, f64)>> = bands
        .iter()
        .map(|b| b.iter().map(|&(x, _, hi)| (x, hi)).collect())
        .collect();
    let util = series::scaled(&lines.utilization, |x| axis.x(x));
    let y_hi = canvas::upper(
        tops.iter()
            .chain(std::iter::once(&states[3].2))
            .flat_map(|s| s.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let util_hi = canvas::upper(util.iter().map(|p| p.1).fold(0.0, f64::max)).min(110.0);
    let stretch = {
        let mut fr: Vec<Vec<(f64, f64)>> = tops
            .iter()
            .chain(std::iter::once(&states[3].2))
            .map(|l| canvas::fractions(l, x_range.clone(), 0.0..y_hi, false))
            .collect();
        fr.push(canvas::fractions(
            &util,
            x_range.clone(),
            0.0..util_hi.max(1.0),
            false,
        ));
        canvas::legend_headroom(
            &fr,
            canvas::legend_size(5, 26, canvas::plot_estimate(&bottom), &fonts),
        )
    };
    let (y_hi, util_hi) = (y_hi * stretch, util_hi * stretch);
    let err = |e| records::fault(format!("drawing pg activity: {e:?}"));
    let mut builder = ChartBuilder::on(&bottom);
    let mut chart =
        canvas::two_axes(&mut builder, x_range, y_hi, util_hi.max(1.0), &fonts).map_err(err)?;
    canvas::time_mesh(&mut chart, &axis, "connections", &fonts)
        .draw()
        .map_err(err)?;
    let util_label = format!("utilization ({})", crate::pg::utilization_of(polls));
    canvas::right_axis(&mut chart, &util_label, &fonts)
        .draw()
        .map_err(err)?;
    for ((name, color, _), band) in states.iter().zip(&bands) {
        let outline: Vec<(f64, f64)> = band
            .iter()
            .map(|&(x, _, hi)| (x, hi))
            .chain(band.iter().rev().map(|&(x, lo, _)| (x, lo)))
            .collect();
        let fill = color.mix(0.45).filled();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, fill)))
            .map_err(err)?
            .label(format!("{name} (stacked)"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], fill));
    }
    // Each band's top edge in its full colour, so thin bands still show.
    for ((_, color, _), top) in states.iter().zip(&tops) {
        chart
            .draw_series(LineSeries::new(
                top.iter().copied(),
                color.stroke_width(fonts.px(1.5)),
            ))
            .map_err(err)?;
    }
    let (name, color, waiting) = &states[3];
    canvas::line(
        &mut chart,
        waiting,
        *color,
        fonts.line(waiting.len()),
        *name,
    )
    .map_err(err)?;
    canvas::dashed_right(
        &mut chart,
        &util,
        style::VUS,
        "utilization % (right axis)",
        20,
        &fonts,
    )
    .map_err(err)?;
    let mut placed: Vec<canvas::Placed> = tops
        .iter()
        .chain(std::iter::once(&states[3].2))
        .map(|l| canvas::Placed {
            points: l,
            y: 0.0..y_hi,
            log_y: false,
        })
        .collect();
    placed.push(canvas::Placed {
        points: &util,
        y: 0.0..util_hi.max(1.0),
        log_y: false,
    });
    let mut labels: Vec<&str> = states.iter().map(|l| l.0).collect();
    labels.push("utilization % (right axis)");
    let plot = chart.plotting_area().dim_in_pixel();
    let corner = canvas::place_legend(&placed, chart.x_range(), &labels, plot, &fonts);
    canvas::legend_in(&mut chart, corner, &fonts).map_err(err)?;
    root.present().map_err(draw_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_bars_leave_out_percentiles_a_count_does_not_resolve() {
        let with = |count: u64| {
            let mut e = Entry::empty("GET /x");
            e.stats.count = count;
            e.stats.latency.p50_ns = 1_000_000;
            e.stats.latency.p95_ns = 2_000_000;
            e.stats.latency.p99_ns = 3_000_000;
            e
        };
        let bars = summary_bars(&[with(65), with(100), with(10)]);
        let values = |label: &str| {
            bars.iter()
                .find(|b| b.label == label)
                .unwrap()
                .values
                .clone()
        };
        assert_eq!(values("p50"), [1.0, 1.0, 1.0]);
        let p95 = values("p95");
        assert_eq!(p95[..2], [2.0, 2.0]);
        assert!(p95[2].is_nan(), "p95 of 10 requests: {p95:?}");
        let p99 = values("p99");
        assert!(p99[0].is_nan(), "p99 of 65 requests: {p99:?}");
        assert_eq!(p99[1], 3.0);
    }
}
