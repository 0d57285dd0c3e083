//! The PNG backend: plotters' bitmap backend with text laid out by us.
//!
//! plotters 0.3.7's ab_glyph text drawing places each glyph's bitmap at the
//! pen position but ignores the glyph's left side bearing (`px_bounds().min.x`),
//! so glyphs with a wide bearing sit too far left and the gap after them
//! opens up: "GE T", "DELE TE", "p5 0". [`Backend`] hands everything to the
//! bitmap backend except text, which it draws with each glyph at its pen
//! position plus its bearing, from the same DejaVu Sans and with the same
//! sizes, vertical placement and width estimate plotters uses, so layouts
//! are unchanged.

use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef, ScaleFont as _};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
};

/// [`BitMapBackend`] with correct glyph spacing.
pub struct Backend<'a>(pub BitMapBackend<'a>);

type Error<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

fn font(style: FontStyle) -> &'static FontRef<'static> {
    static REGULAR: OnceLock<FontRef<'static>> = OnceLock::new();
    static BOLD: OnceLock<FontRef<'static>> = OnceLock::new();
    let (cell, bytes) = match style {
        FontStyle::Bold => (&BOLD, dejavu::sans::bold()),
        _ => (&REGULAR, dejavu::sans::regular()),
    };
    cell.get_or_init(|| FontRef::try_from_slice(bytes).expect("DejaVu Sans is a valid font"))
}

/// Calls `pixel(x, y, coverage)` for every pixel of `text` at `size` px, the
/// origin at the left of the text and half a size above the glyph tops'
/// reference (plotters' convention).
fn rasterize(text: &str, size: f32, style: FontStyle, mut pixel: impl FnMut(i32, i32, f32)) {
    let font = font(style).as_scaled(size);
    let mut pen = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            pen += font.kern(p, id);
        }
        prev = Some(id);
        let glyph = id.with_scale_and_position(size, ab_glyph::point(pen, 0.0));
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            let x0 = bounds.min.x.floor() as i32;
            let y0 = (size / 2.0 + bounds.min.y) as i32;
            outline.draw(|x, y, coverage| pixel(x0 + x as i32, y0 + y as i32, coverage));
        }
        pen += font.h_advance(id);
    }
}

/// The text's width and height as plotters estimates them (its advance
/// widths and kerning; height size / 1.24), so layouts stay as they were.
fn layout(text: &str, size: f32, style: FontStyle) -> (i32, i32) {
    let font = font(style).as_scaled(size);
    let mut width = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        width += font.h_advance(id);
        if let Some(p) = prev {
            width += font.kern(p, id);
        }
        prev = Some(id);
    }
    (width as i32, (size / 1.24) as i32)
}

impl<'a> DrawingBackend for Backend<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error<'a>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error<'a>> {
        self.0.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error<'a>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error<'a>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Error<'a>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error<'a>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), Error<'a>> {
        let (w, h) = layout(text, style.size() as f32, style.style());
        Ok((w.max(0) as u32, h.max(0) as u32))
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), Error<'a>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let size = style.size() as f32;
        let (width, height) = layout(text, size, style.style());
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let turn = style.transform();
        let (w, h) = self.get_size();
        let mut result = Ok(());
        rasterize(text, size, style.style(), |x, y, coverage| {
            let (x, y) = turn.transform(x + dx, y + dy);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if result.is_ok() && x >= 0 && y >= 0 && x < w as i32 && y < h as i32 {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(coverage),
                    rgb: color.rgb,
                };
                result = self.0.draw_pixel((x, y), c);
            }
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns with ink, left to right, of `text` at `size`.
    fn inked_columns(text: &str, size: f32) -> Vec<i32> {
        let mut cols = std::collections::BTreeSet::new();
        rasterize(text, size, FontStyle::Normal, |x, _, c| {
            if c > 0.3 {
                cols.insert(x);
            }
        });
        cols.into_iter().collect()
    }

    /// The widest run of blank columns between the first and last ink.
    fn widest_gap(text: &str, size: f32) -> i32 {
        let cols = inked_columns(text, size);
        cols.windows(2).map(|w| w[1] - w[0] - 1).max().unwrap_or(0)
    }

    #[test]
    fn letters_of_a_word_are_evenly_spaced() {
        // "GET" was drawn "GE T": the gap before T was 3 to 4 px at 15 px,
        // wider than the word space. Within a word no gap may reach half the
        // width of a space.
        for word in ["GET", "DELETE", "requests", "p50", "120"] {
            let gap = widest_gap(word, 15.0);
            assert!(gap <= 2, "{word}: a {gap} px gap inside the word");
        }
        // A space is still a space.
        assert!(widest_gap("GET /api", 15.0) >= 3);
    }

    #[test]
    fn the_width_estimate_covers_the_ink() {
        for text in ["GET /api/v1/tasks/{id}", "latency (ms)", "99.999%"] {
            let (w, _) = layout(text, 15.0, FontStyle::Normal);
            let cols = inked_columns(text, 15.0);
            let (first, last) = (cols[0], *cols.last().unwrap());
            assert!(
                first >= -1 && last <= w + 1,
                "{text}: ink {first}..{last}, width {w}"
            );
        }
    }
}
