//! Horizontal grouped bars: one row per endpoint, one bar per series.
//!
//! Horizontal because endpoint names are long (`PATCH /api/v1/tasks/{id}/complete`)
//! and read well only when they are not rotated.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::canvas::{self, tick, Area};
use crate::style::{self, Fonts};

/// One bar per category, in one colour.
pub struct BarSeries {
    pub label: String,
    pub color: RGBColor,
    pub values: Vec<f64>,
}

impl BarSeries {
    pub fn new(label: impl Into<String>, color: RGBColor, values: Vec<f64>) -> BarSeries {
        BarSeries {
            label: label.into(),
            color,
            values,
        }
    }
}

pub struct BarChart<'a> {
    pub title: &'a str,
    pub categories: &'a [String],
    pub series: &'a [BarSeries],
    pub x_desc: &'a str,
    /// Formats the value written at the end of each bar.
    pub format: fn(f64) -> String,
    /// A note per category written right of the plot (error rates, counts).
    pub notes: Option<&'a [(String, RGBColor)]>,
    /// Whether to write the category names left of the bars (off for the
    /// second and third panels of a side-by-side comparison).
    pub names: bool,
    /// Whether to draw the series legend under the title (off when the
    /// caller draws one legend for several panels).
    pub legend: bool,
    pub empty_message: &'a str,
    /// The width of the names column when `names` is set (default: what
    /// [`names_width`] gives); panels side by side pass the one they planned
    /// their widths with, so their plots come out equally wide.
    pub name_width: Option<u32>,
    /// The largest value the x axis must show: panels side by side pass
    /// their common largest so their bars compare; `None`: this chart's own.
    pub x_max: Option<f64>,
}

/// The width the category names take at the left of a bar chart `width` wide.
pub fn names_width(categories: &[String], fonts: &Fonts, width: u32) -> u32 {
    let longest = categories
        .iter()
        .map(|c| style::text_width(&style::truncate(c, NAME_CHARS), fonts.label))
        .max()
        .unwrap_or(0);
    (longest + fonts.px(16.0)).min(width * 2 / 5)
}

/// Longest category name kept whole.
const NAME_CHARS: usize = 42;

impl BarChart<'_> {
    pub fn draw(&self, area: &Area, fonts: &Fonts) -> anyhow::Result<()> {
        let err = |e| records::fault(format!("drawing bars: {e:?}"));
        let n = self.categories.len();
        let has_data = self
            .series
            .iter()
            .any(|s| s.values.iter().any(|v| v.is_finite() && *v > 0.0));
        if n == 0 || self.series.is_empty() || !has_data {
            let inner = canvas::titled(area, self.title, fonts)?;
            return canvas::no_data(&inner, self.empty_message, fonts);
        }
        let (w, _) = area.dim_in_pixel();
        let names: Vec<String> = self
            .categories
            .iter()
            .map(|c| style::truncate(c, NAME_CHARS))
            .collect();
        let name_width = if self.names {
            self.name_width
                .unwrap_or_else(|| names_width(self.categories, fonts, w))
        } else {
            fonts.px(10.0)
        };
        let note_width = self.notes.map_or(fonts.px(20.0), |notes| {
            notes
                .iter()
                .map(|(s, _)| style::text_width(s, fonts.small))
                .max()
                .unwrap_or(0)
                + fonts.px(20.0)
        });
        let max = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
            .max(self.x_max.unwrap_or(0.0));
        // Room right of the longest bar for its value.
        let x_hi = if max > 0.0 { max * 1.18 } else { 1.0 };
        let rows = n as f64;
        let area = &canvas::titled(area, self.title, fonts)?;
        let legend: Vec<(String, RGBColor)> = self
            .series
            .iter()
            .map(|s| (style::truncate(&s.label, NAME_CHARS), s.color))
            .collect();
        let area = &if self.legend {
            canvas::legend_row(area, &legend, fonts)?
        } else {
            area.clone()
        };
        let mut chart = ChartBuilder::on(area)
            .margin(fonts.px(12.0))
            .margin_top(fonts.px(4.0))
            .margin_right(note_width)
            .x_label_area_size(fonts.px(52.0))
            .y_label_area_size(name_width)
            .build_cartesian_2d(0.0..x_hi, 0.0..rows)
            .map_err(err)?;
        canvas::mesh(&mut chart, fonts)
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(self.x_desc)
            .x_label_formatter(&tick)
            .draw()
            .map_err(err)?;
        // Category i fills the band [rows - i - 1, rows - i], busiest on top.
        let k = self.series.len() as f64;
        let band = 0.8 / k;
        let bar = |i: usize, s: usize| {
            let top = rows - i as f64 - 0.1 - s as f64 * band;
            (top - band, top)
        };
        let bar_px = {
            let (_, a) = chart.backend_coord(&(0.0, 0.0));
            let (_, b) = chart.backend_coord(&(0.0, band));
            (a - b).abs()
        };
        let value_font = fonts.small.min(f64::from(bar_px.max(1)) * 0.95);
        for (s, series) in self.series.iter().enumerate() {
            let color = series.color;
            chart
                .draw_series(series.values.iter().enumerate().map(|(i, &v)| {
                    let (y0, y1) = bar(i, s);
                    let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
                    Rectangle::new([(0.0, y0), (v, y1)], color.filled())
                }))
                .map_err(err)?;
            if value_font >= 9.0 {
                let style = canvas::text_style(value_font).pos(Pos::new(HPos::Left, VPos::Center));
                let format = self.format;
                chart
                    .draw_series(series.values.iter().enumerate().map(|(i, &v)| {
                        let (y0, y1) = bar(i, s);
                        // Not a number: a value the data cannot give (a p99
                        // of 50 requests) is "-", as in the tables, not a 0.
                        let text = if v.is_finite() {
                            format(v.max(0.0))
                        } else {
                            "-".to_string()
                        };
                        let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
                        EmptyElement::at((v, (y0 + y1) / 2.0))
                            + Text::new(text, (4, 0), style.clone())
                    }))
                    .map_err(err)?;
            }
        }
        let base = area.get_base_pixel();
        let local = |c: &(f64, f64)| {
            let (x, y) = chart.backend_coord(c);
            (x - base.0, y - base.1)
        };
        if self.names {
            let style = canvas::text_style(fonts.label).pos(Pos::new(HPos::Right, VPos::Center));
            for (i, name) in names.iter().enumerate() {
                let (x, y) = local(&(0.0, rows - i as f64 - 0.5));
                area.draw(&Text::new(
                    name.as_str(),
                    (x - fonts.px(8.0) as i32, y),
                    style.clone(),
                ))
                .map_err(err)?;
            }
        }
        if let Some(notes) = self.notes {
            for (i, (note, color)) in notes.iter().enumerate() {
                let (x, y) = local(&(x_hi, rows - i as f64 - 0.5));
                let style = canvas::text_style(fonts.small)
                    .color(color)
                    .pos(Pos::new(HPos::Left, VPos::Center));
                area.draw(&Text::new(
                    note.as_str(),
                    (x + fonts.px(10.0) as i32, y),
                    style,
                ))
                .map_err(err)?;
            }
        }
        Ok(())
    }
}
