//! Drawing plumbing shared by the charts: the PNG canvas, titles, the
//! "no data" panel, the time axis and number formats, and the pieces every
//! plot is built of (frame, mesh, right axis, lines, markers, legend).

use std::ops::Range;
use std::path::Path;

use plotters::chart::{DualCoordChartContext, MeshStyle, SecondaryMeshStyle};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use records::units::thousands;

use crate::style::{self, Fonts, FONT};

pub type Area<'a> = DrawingArea<crate::text::Backend<'a>, Shift>;

/// Anything plotters can fail with, as an anyhow error naming the file.
pub fn draw_err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| records::fault(format!("drawing {}: {e:?}", path.display()))
}

/// A white canvas of `size` that becomes the PNG at `path` on `present`.
pub fn canvas(path: &Path, size: (u32, u32)) -> anyhow::Result<Area<'_>> {
    style::register_fonts();
    let root = crate::text::Backend(BitMapBackend::new(path, size)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err(path))?;
    Ok(root)
}

pub fn text_style(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&style::TEXT)
}

pub fn bold_style(size: f64) -> TextStyle<'static> {
    (FONT, size, FontStyle::Bold)
        .into_font()
        .color(&style::TEXT)
}

/// `title` shortened with `…` to fit `width` pixels at the title size.
pub fn fit_title(title: &str, width: u32, fonts: &Fonts) -> String {
    style::truncate(title, (f64::from(width) / (fonts.title * 0.62)) as usize)
}

/// Draws a bold title across the top of `area`; returns the area below it.
pub fn titled<'a>(area: &Area<'a>, title: &str, fonts: &Fonts) -> anyhow::Result<Area<'a>> {
    let (w, _) = area.dim_in_pixel();
    let top = fonts.px(8.0);
    area.margin(top, 0, 0, 0)
        .titled(&fit_title(title, w, fonts), bold_style(fonts.title))
        .map_err(|e| records::fault(format!("drawing title: {e:?}")))
}

/// Draws a centred, wrapping row of colour swatches and labels at the top of
/// `area`; returns the area below. Used where a legend inside the plot would
/// cover data (bars reach every edge).
pub fn legend_row<'a>(
    area: &Area<'a>,
    items: &[(String, RGBColor)],
    fonts: &Fonts,
) -> anyhow::Result<Area<'a>> {
    let (w, _) = area.dim_in_pixel();
    let swatch = fonts.px(18.0) as i32;
    let gap = fonts.px(26.0) as i32;
    let line = (fonts.legend * 1.7).ceil() as i32;
    let widths: Vec<i32> = items
        .iter()
        .map(|(label, _)| swatch + 6 + style::text_width(label, fonts.legend) as i32)
        .collect();
    // Greedy lines, each centred.
    let mut lines: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    for (i, &iw) in widths.iter().enumerate() {
        let last = lines.last_mut().unwrap();
        if !last.is_empty() && used + gap + iw > w as i32 - 40 {
            lines.push(vec![i]);
            used = iw;
        } else {
            used += if last.is_empty() { iw } else { gap + iw };
            last.push(i);
        }
    }
    let err = |e| records::fault(format!("drawing legend: {e:?}"));
    let text = text_style(fonts.legend).pos(Pos::new(HPos::Left, VPos::Center));
    for (row, members) in lines.iter().enumerate() {
        let total: i32 = members.iter().map(|&i| widths[i]).sum::<i32>()
            + gap * (members.len() as i32 - 1).max(0);
        let mut x = (w as i32 - total) / 2;
        let y = row as i32 * line + line / 2;
        for &i in members {
            let (label, color) = &items[i];
            area.draw(&Rectangle::new(
                [(x, y - swatch / 3), (x + swatch, y + swatch / 3)],
                color.filled(),
            ))
            .map_err(err)?;
            area.draw(&Text::new(
                label.as_str(),
                (x + swatch + 6, y),
                text.clone(),
            ))
            .map_err(err)?;
            x += widths[i] + gap;
        }
    }
    let height = (lines.len() as i32 * line + line / 3) as u32;
    Ok(area.split_vertically(height).1)
}

/// Fills `area` with a framed message, for charts without data to draw.
pub fn no_data(area: &Area, message: &str, fonts: &Fonts) -> anyhow::Result<()> {
    let (w, h) = area.dim_in_pixel();
    let pad = fonts.px(40.0) as i32;
    area.draw(&Rectangle::new(
        [(pad, pad / 2), (w as i32 - pad, h as i32 - pad)],
        style::GRID.stroke_width(2),
    ))
    .map_err(|e| records::fault(format!("drawing: {e:?}")))?;
    let centre = Pos::new(HPos::Center, VPos::Center);
    area.draw(&Text::new(
        style::truncate(message, (f64::from(w) / (fonts.axis * 0.62)) as usize),
        (w as i32 / 2, h as i32 / 2),
        text_style(fonts.axis).pos(centre),
    ))
    .map_err(|e| records::fault(format!("drawing: {e:?}")))?;
    Ok(())
}

/// What plotters fails with on `DB`.
pub type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Plain x and y axes of numbers.
pub type Xy = Cartesian2d<RangedCoordf64, RangedCoordf64>;

/// Series with at most this many points also get a marker per point, so one
/// or two intervals still show up.
pub const MARK_BELOW: usize = 40;

/// Frames a plot on a run's time axis: margins, label areas and, on the
/// right, either room for a second axis's labels or a margin. Panels stacked
/// on one time axis (latency above host or PostgreSQL activity) line up
/// because both are framed here with `right_axis`.
pub fn time_frame<'x, 'a, 'b, DB: DrawingBackend>(
    builder: &'x mut ChartBuilder<'a, 'b, DB>,
    right_axis: bool,
    fonts: &Fonts,
) -> &'x mut ChartBuilder<'a, 'b, DB> {
    builder
        .margin(fonts.px(12.0))
        .x_label_area_size(fonts.px(52.0))
        .y_label_area_size(fonts.px(84.0));
    if right_axis {
        builder.right_y_label_area_size(fonts.px(84.0));
    } else {
        builder.margin_right(fonts.px(30.0));
    }
    builder
}

/// A time plot over `x` with a second y axis on the right: `0..y_hi` on the
/// left, `0..y2_hi` on the right.
pub fn two_axes<'a, DB: DrawingBackend>(
    builder: &mut ChartBuilder<'a, '_, DB>,
    x: Range<f64>,
    y_hi: f64,
    y2_hi: f64,
    fonts: &Fonts,
) -> DrawResult<DualCoordChartContext<'a, DB, Xy, Xy>, DB> {
    Ok(time_frame(builder, true, fonts)
        .build_cartesian_2d(x.clone(), 0.0..y_hi)?
        .set_secondary_coord(x, 0.0..y2_hi))
}

/// The mesh every plot draws: a light grid, axis descriptions at
/// `fonts.axis` and tick labels at `fonts.label`. The caller adds what is
/// its own and draws it.
pub fn mesh<'a, 'b, DB, X, Y, XT, YT>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    fonts: &Fonts,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
{
    let mut mesh = chart.configure_mesh();
    mesh.axis_desc_style(text_style(fonts.axis))
        .label_style(text_style(fonts.label))
        .light_line_style(style::GRID.mix(0.25))
        .max_light_lines(4);
    mesh
}

/// [`mesh`] of a plot over a run's time: `axis` described under x, `y_desc`
/// beside y, both ticks as [`tick`] writes them.
pub fn time_mesh<'a, 'b, DB, Y>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    axis: &TimeAxis,
    y_desc: &str,
    fonts: &Fonts,
) -> MeshStyle<'a, 'b, RangedCoordf64, Y, DB>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut mesh = mesh(chart, fonts);
    mesh.x_desc(axis.desc)
        .y_desc(y_desc)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick);
    mesh
}

/// The right axis of a [`two_axes`] plot, described `y_desc`.
pub fn right_axis<'a, 'b, DB: DrawingBackend>(
    chart: &'b mut DualCoordChartContext<'a, DB, Xy, Xy>,
    y_desc: &str,
    fonts: &Fonts,
) -> SecondaryMeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB> {
    let mut axis = chart.configure_secondary_axes();
    axis.y_desc(y_desc)
        .y_label_formatter(&tick)
        .axis_desc_style(text_style(fonts.axis))
        .label_style(text_style(fonts.label));
    axis
}

/// A legend entry's swatch: a line `len` pixels long in `color`.
fn swatch(color: RGBColor, len: i32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new([(x, y), (x + len, y)], color.stroke_width(3))
}

/// Draws `points` as a solid line `width` wide, named `label` in the legend.
pub fn line<DB, CT>(
    chart: &mut ChartContext<'_, DB, CT>,
    points: &[(f64, f64)],
    color: RGBColor,
    width: u32,
    label: impl Into<String>,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend,
    CT: CoordTranslate<From = (f64, f64)>,
{
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            color.stroke_width(width),
        ))?
        .label(label)
        .legend(swatch(color, 20));
    Ok(())
}

/// Draws `points` dashed against the right axis of a [`two_axes`] plot,
/// named `label` in the legend beside a swatch `swatch_len` pixels long.
pub fn dashed_right<DB: DrawingBackend>(
    chart: &mut DualCoordChartContext<'_, DB, Xy, Xy>,
    points: &[(f64, f64)],
    color: RGBColor,
    label: impl Into<String>,
    swatch_len: i32,
    fonts: &Fonts,
) -> DrawResult<(), DB> {
    chart
        .draw_secondary_series(DashedLineSeries::new(
            points.iter().copied(),
            fonts.px(8.0),
            fonts.px(5.0),
            color.stroke_width(fonts.line(points.len())),
        ))?
        .label(label)
        .legend(swatch(color, swatch_len));
    Ok(())
}

/// A dot of `radius` on every point of a short series (see [`MARK_BELOW`]);
/// none on a longer one.
pub fn marks(points: &[(f64, f64)], color: RGBColor, radius: u32) -> Vec<Circle<(f64, f64), u32>> {
    if points.len() <= MARK_BELOW {
        points
            .iter()
            .map(|&p| Circle::new(p, radius, color.filled()))
            .collect()
    } else {
        Vec::new()
    }
}

/// Draws the legend box inside the plot at `position`, `margin` pixels from
/// its edges, labels at `size`.
pub fn legend_at<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    margin: u32,
    size: f64,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .margin(margin)
        .label_font(text_style(size))
        .background_style(WHITE.mix(0.85))
        .border_style(style::GRID)
        .draw()
}

/// A legend in the corner `corner` (see [`legend_corner`]), in the legend's font.
pub fn legend_in<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    corner: SeriesLabelPosition,
    fonts: &Fonts,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    legend_at(chart, corner, fonts.px(10.0), fonts.legend)
}

/// Series of one plot in plot fractions: x and y from 0 (left, bottom) to
/// 1 (right, top), whatever axis (left or right, linear or log) each uses.
pub fn fractions(
    points: &[(f64, f64)],
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    log_y: bool,
) -> Vec<(f64, f64)> {
    let f = |v: f64, r: &std::ops::Range<f64>, log: bool| {
        let (v, lo, hi) = if log {
            (
                v.max(1e-12).ln(),
                r.start.max(1e-12).ln(),
                r.end.max(1e-12).ln(),
            )
        } else {
            (v, r.start, r.end)
        };
        if hi > lo {
            (v - lo) / (hi - lo)
        } else {
            0.0
        }
    };
    points
        .iter()
        .map(|&(px, py)| (f(px, &x, false), f(py, &y, log_y)))
        .collect()
}

/// The plot corner a legend of `size` (fractions of the plot's width and
/// height) covers least data in: each series' lines (given as
/// [`fractions`]) sampled along every segment, so a long straight stretch
/// with two points still counts. Ties go to upper left, upper right, lower
/// right, lower left, in that order.
pub fn legend_corner(series: &[Vec<(f64, f64)>], size: (f64, f64)) -> SeriesLabelPosition {
    let (w, h) = (size.0.clamp(0.05, 1.0), size.1.clamp(0.05, 1.0));
    let corners = [
        (SeriesLabelPosition::UpperLeft, 0.0, 1.0 - h),
        (SeriesLabelPosition::UpperRight, 1.0 - w, 1.0 - h),
        (SeriesLabelPosition::LowerRight, 1.0 - w, 0.0),
        (SeriesLabelPosition::LowerLeft, 0.0, 0.0),
    ];
    let mut hits = [0usize; 4];
    let mut count = |x: f64, y: f64| {
        for (i, &(_, x0, y0)) in corners.iter().enumerate() {
            if x >= x0 && x <= x0 + w && y >= y0 && y <= y0 + h {
                hits[i] += 1;
            }
        }
    };
    const STEPS: usize = 16;
    for line in series {
        if let [only] = line.as_slice() {
            count(only.0, only.1);
        }
        for pair in line.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            for k in 0..STEPS {
                let t = k as f64 / STEPS as f64;
                count(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            }
        }
        if let Some(&(x, y)) = line.last() {
            count(x, y);
        }
    }
    let best = (0..4).min_by_key(|&i| (hits[i], i)).unwrap_or(0);
    corners[best].0.clone()
}

/// A plot's size inside `area` before it is built: the area less the
/// usual axis label room, for [`legend_size`].
pub fn plot_estimate(area: &Area) -> (u32, u32) {
    let (w, h) = area.dim_in_pixel();
    (w * 8 / 10, h * 75 / 100)
}

/// One series for [`place_legend`]: its points and the y range (and scale)
/// of the axis it is drawn on.
pub struct Placed<'p> {
    pub points: &'p [(f64, f64)],
    pub y: Range<f64>,
    pub log_y: bool,
}

/// The corner for the legend of a plot of `plot` pixels over `x`, with
/// entries `labels` and series `lines`: the corner with the least data.
pub fn place_legend(
    lines: &[Placed],
    x: Range<f64>,
    labels: &[&str],
    plot: (u32, u32),
    fonts: &Fonts,
) -> SeriesLabelPosition {
    let fracs: Vec<Vec<(f64, f64)>> = lines
        .iter()
        .map(|l| fractions(l.points, x.clone(), l.y.clone(), l.log_y))
        .collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    legend_corner(&fracs, legend_size(labels.len(), longest, plot, fonts))
}

/// A legend's size in plot fractions, for [`legend_corner`]: `entries`
/// lines of legend text, the longest `longest` characters, in a plot of `plot` pixels.
pub fn legend_size(entries: usize, longest: usize, plot: (u32, u32), fonts: &Fonts) -> (f64, f64) {
    // Measured on the drawn legends: a line is about 2 em high, the box
    // sits 10 px (scaled) from the plot's edges, the swatch takes ~3 em.
    let margin = fonts.px(10.0) as f64;
    let w =
        (longest as f64 * fonts.legend * 0.6 + fonts.legend * 4.0 + margin) / plot.0.max(1) as f64;
    let h = (entries as f64 * fonts.legend * 2.0 + fonts.legend + margin) / plot.1.max(1) as f64;
    (w, h)
}

/// How much to raise a linear y axis's top so a legend of `size` fits above
/// the data (`lines` as [`fractions`]) when every corner holds some: 1.0
/// when a corner is free, else what puts the highest point just under the
/// legend's band.
pub fn legend_headroom(lines: &[Vec<(f64, f64)>], size: (f64, f64)) -> f64 {
    let corner = legend_corner(lines, size);
    let free = lines
        .iter()
        .all(|l| fractions_in_corner(l, &corner, size) == 0);
    if free {
        return 1.0;
    }
    let top = lines
        .iter()
        .flat_map(|l| l.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    // A little under the band, so the top point is clear of the box's edge.
    let band = (1.0 - size.1.clamp(0.05, 0.6)) * 0.97;
    (top / band).max(1.0)
}

fn fractions_in_corner(
    line: &[(f64, f64)],
    corner: &SeriesLabelPosition,
    (w, h): (f64, f64),
) -> usize {
    let (x0, y0) = match corner {
        SeriesLabelPosition::UpperRight => (1.0 - w, 1.0 - h),
        SeriesLabelPosition::LowerRight => (1.0 - w, 0.0),
        SeriesLabelPosition::LowerLeft => (0.0, 0.0),
        _ => (0.0, 1.0 - h),
    };
    let inside = |x: f64, y: f64| x >= x0 && x <= x0 + w && y >= y0 && y <= y0 + h;
    let mut n = line.iter().filter(|p| inside(p.0, p.1)).count();
    for pair in line.windows(2) {
        for k in 1..16 {
            let t = k as f64 / 16.0;
            let (x, y) = (
                pair[0].0 + (pair[1].0 - pair[0].0) * t,
                pair[0].1 + (pair[1].1 - pair[0].1) * t,
            );
            n += usize::from(inside(x, y));
        }
    }
    n
}

/// How a run's time axis is labelled: seconds for short runs, minutes for long ones.
#[derive(Clone, Copy, Debug)]
pub struct TimeAxis {
    /// Seconds per axis unit.
    pub per_unit: f64,
    pub desc: &'static str,
}

impl TimeAxis {
    pub fn for_duration(secs: f64) -> TimeAxis {
        if secs > 300.0 {
            TimeAxis {
                per_unit: 60.0,
                desc: "time since start (min)",
            }
        } else {
            TimeAxis {
                per_unit: 1.0,
                desc: "time since start (s)",
            }
        }
    }

    pub fn x(&self, secs: f64) -> f64 {
        secs / self.per_unit
    }
}

/// A number for an axis tick: no more digits than the magnitude needs.
pub fn tick(v: &f64) -> String {
    let v = *v;
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 {
        thousands(v)
    } else if a >= 10.0 {
        trim(format!("{v:.1}"))
    } else if a >= 0.1 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.3}"))
    }
}

/// A latency in ms with a readable precision: `0.412`, `3.18`, `41.2`, `1,250`.
pub fn ms_text(ms: f64) -> String {
    if ms >= 1000.0 {
        thousands(ms)
    } else if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else if ms >= 1.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.3}")
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The upper end of an axis showing values up to `max`: some headroom, never empty.
pub fn upper(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.12
    } else {
        1.0
    }
}

/// The ends of a log axis covering `values` (positive ones only).
pub fn log_bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi <= 0.0 {
        return (0.001, 1.0);
    }
    let lo = (lo / 1.5).max(0.0001);
    (lo, (hi * 1.5).max(lo * 10.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_goes_where_the_data_is_not() {
        // Throughput ramping up to a plateau at the top: the upper right and
        // upper left are busy, the lower right is empty.
        let ramp = vec![(0.0, 0.1), (0.2, 0.95), (1.0, 0.95)];
        assert_eq!(
            legend_corner(&[ramp], (0.3, 0.25)),
            SeriesLabelPosition::LowerRight
        );
        // A flat line low down, with only its two ends as points: the top is free.
        let low = vec![(0.0, 0.1), (1.0, 0.1)];
        assert_eq!(
            legend_corner(&[low], (0.3, 0.25)),
            SeriesLabelPosition::UpperLeft
        );
        // Latency falling from a cold start to a low plateau: upper right.
        let decay = vec![(0.0, 0.95), (0.3, 0.1), (1.0, 0.1)];
        assert_eq!(
            legend_corner(&[decay], (0.3, 0.25)),
            SeriesLabelPosition::UpperRight
        );
        // Several series: the one on the right axis counts as much as the others.
        let vus = vec![(0.0, 0.0), (0.4, 0.0), (1.0, 0.9)];
        let rps = vec![(0.0, 0.9), (0.5, 0.9)];
        assert_eq!(
            legend_corner(&[rps, vus], (0.3, 0.25)),
            SeriesLabelPosition::LowerRight
        );
    }

    #[test]
    fn a_legend_with_no_free_corner_gets_room_above_the_data() {
        // Ramp up, plateau at the top, ramp down: every corner has data.
        let plateau = vec![(0.0, 0.0), (0.2, 0.95), (0.8, 0.95), (1.0, 0.0)];
        let low = vec![(0.0, 0.05), (1.0, 0.05)];
        let size = (0.3, 0.2);
        let stretch = legend_headroom(&[plateau.clone(), low.clone()], size);
        assert!((stretch - 0.95 / (0.8 * 0.97)).abs() < 1e-9, "{stretch}");
        let raised: Vec<Vec<(f64, f64)>> = [plateau, low]
            .iter()
            .map(|l| l.iter().map(|&(x, y)| (x, y / stretch)).collect())
            .collect();
        assert_eq!(
            legend_headroom(&raised, size),
            1.0,
            "now the top band is free"
        );
        // A free corner needs no room.
        let decay = vec![(0.0, 0.95), (0.3, 0.1), (1.0, 0.1)];
        assert_eq!(legend_headroom(&[decay], size), 1.0);
    }

    #[test]
    fn fractions_follow_the_axis() {
        let f = fractions(&[(5.0, 10.0), (10.0, 100.0)], 0.0..10.0, 1.0..100.0, true);
        assert!((f[0].0 - 0.5).abs() < 1e-12 && (f[0].1 - 0.5).abs() < 1e-12);
        assert!((f[1].1 - 1.0).abs() < 1e-12);
        let lin = fractions(&[(1.0, 50.0)], 0.0..2.0, 0.0..100.0, false);
        assert_eq!(lin, vec![(0.5, 0.5)]);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(tick(&0.0), "0");
        assert_eq!(tick(&2.5), "2.5");
        assert_eq!(tick(&20.0), "20");
        assert_eq!(tick(&12345.0), "12,345");
        assert_eq!(tick(&0.005), "0.005");
        assert_eq!(ms_text(3.14259), "3.14");
        assert_eq!(ms_text(1250.0), "1,250");
    }

    #[test]
    fn axes_never_collapse() {
        assert_eq!(upper(0.0), 1.0);
        assert_eq!(upper(f64::NAN), 1.0);
        let (lo, hi) = log_bounds([0.0, 0.0].into_iter());
        assert!(lo > 0.0 && hi > lo);
        let (lo, hi) = log_bounds([5.0].into_iter());
        assert!(lo < 5.0 && hi > 5.0);
        assert_eq!(TimeAxis::for_duration(3600.0).x(120.0), 2.0);
    }
}
