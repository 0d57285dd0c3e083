//! The look shared by every chart: the shipped font, colours, text sizes and
//! how long names are shortened.

use std::sync::Once;

use plotters::style::{FontStyle, RGBColor};

/// The family every text style asks for; registered from the `dejavu` crate,
/// so no system font, fontconfig or freetype is ever needed.
pub const FONT: &str = "sans-serif";

static REGISTER: Once = Once::new();

/// Registers the shipped DejaVu Sans with plotters; call before drawing.
pub fn register_fonts() {
    REGISTER.call_once(|| {
        // The bytes are a valid TrueType font compiled into the binary; a
        // failure here would be a packaging bug, caught by every chart test.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Tableau 10: distinct, colour-blind tolerant, readable on white.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub const P50: RGBColor = PALETTE[0];
pub const P95: RGBColor = PALETTE[1];
pub const P99: RGBColor = PALETTE[4];
pub const MEAN: RGBColor = PALETTE[2];
pub const OK: RGBColor = PALETTE[2];
pub const ERROR: RGBColor = PALETTE[3];
pub const VUS: RGBColor = PALETTE[7];
pub const TEXT: RGBColor = RGBColor(30, 30, 30);
/// PostgreSQL sessions, in [`crate::series::PgLines`] order: active, idle
/// in transaction, idle, waiting on a lock.
pub const PG_STATES: [RGBColor; 4] = [PALETTE[0], PALETTE[1], PALETTE[2], ERROR];
pub const GRID: RGBColor = RGBColor(200, 200, 200);

/// The colour of the `i`th series (runs, endpoints), cycling.
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Text sizes scaled to the image, so `--size 2560x1440` stays legible.
#[derive(Clone, Copy, Debug)]
pub struct Fonts {
    pub title: f64,
    pub axis: f64,
    pub label: f64,
    pub legend: f64,
    pub small: f64,
}

impl Fonts {
    pub fn for_size(width: u32, height: u32) -> Fonts {
        let scale = (f64::from(width) / 1280.0)
            .min(f64::from(height) / 720.0)
            .clamp(0.6, 4.0);
        Fonts {
            title: 28.0 * scale,
            axis: 19.0 * scale,
            label: 16.0 * scale,
            legend: 16.0 * scale,
            small: 14.0 * scale,
        }
    }

    /// The stroke of a time-series line of `points` points. Dense jagged
    /// series get one-pixel lines: plotters joins wide segments with
    /// unlimited miters, which shoot far out of the plot at sharp spikes.
    pub fn line(&self, points: usize) -> u32 {
        if points > 120 {
            1
        } else {
            self.px(2.0)
        }
    }

    /// Pixels per unit of scale, for margins and marker sizes.
    pub fn px(&self, base: f64) -> u32 {
        (base * self.label / 16.0).round().max(1.0) as u32
    }
}

/// Shortens `name` to at most `max` characters, ending in `…` when cut.
pub fn truncate(name: &str, max: usize) -> String {
    let max = max.max(2);
    if name.chars().count() <= max {
        return name.to_string();
    }
    let mut out: String = name.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Rough pixel width of `text` at `size` px: DejaVu Sans averages ~0.6 em.
pub fn text_width(text: &str, size: f64) -> u32 {
    (text.chars().count() as f64 * size * 0.6).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_long_names_with_an_ellipsis() {
        assert_eq!(truncate("GET /a", 10), "GET /a");
        let cut = truncate("GET /api/v1/tasks/{id}/complete", 12);
        assert_eq!(cut.chars().count(), 12);
        assert!(cut.ends_with('…'));
        assert!(cut.starts_with("GET /api/v1"));
        // multi-byte characters are counted, not bytes
        assert_eq!(truncate("ééééé", 3), "éé…");
    }

    #[test]
    fn fonts_scale_with_the_image() {
        let small = Fonts::for_size(640, 360);
        let big = Fonts::for_size(2560, 1440);
        assert!(big.title > 2.0 * small.title * 0.99);
        assert!(Fonts::for_size(100, 100).label >= 16.0 * 0.6);
    }
}
