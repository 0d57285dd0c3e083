//! Drawing plumbing shared by the charts: the PNG canvas, titles, the
//! "no data" panel, the time axis and number formats.

use std::path::Path;

use plotters::coord::Shift;
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
