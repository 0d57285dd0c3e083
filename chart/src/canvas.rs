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

pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Anything plotters can fail with, as an anyhow error naming the file.
pub fn draw_err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| records::fault(format!("drawing {}: {e:?}", path.display()))
}

/// A white canvas of `size` that becomes the PNG at `path` on `present`.
pub fn canvas(path: &Path, size: (u32, u32)) -> anyhow::Result<Area<'_>> {
    style::register_fonts();
    let root = BitMapBackend::new(path, size).into_drawing_area();
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

/// The usual legend: upper left, in the legend's font.
pub fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, fonts: &Fonts) -> DrawResult<(), DB>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    legend_at(
        chart,
        SeriesLabelPosition::UpperLeft,
        fonts.px(10.0),
        fonts.legend,
    )
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
