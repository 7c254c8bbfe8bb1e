//! Text rendering with the embedded DejaVu Sans, straight through
//! `ab_glyph` (plotters' own ab_glyph text drops each glyph's side bearing,
//! which makes letter spacing visibly uneven at small sizes).

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use plotters::style::{Color, RGBColor};

use crate::cartesian::Area;
use crate::PlotError;

/// Each glyph of `text` with its horizontal caret position (kerning
/// applied), and the total advance width.
fn layout<F: Font, S: ScaleFont<F>>(font: &S, text: &str) -> (Vec<(GlyphId, f32)>, f32) {
    let mut caret = 0.0f32;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            caret += font.kern(p, id);
        }
        glyphs.push((id, caret));
        caret += font.h_advance(id);
        prev = Some(id);
    }
    (glyphs, caret)
}

struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

fn fonts() -> Result<&'static Fonts, PlotError> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some(Fonts {
                regular: FontRef::try_from_slice(dejavu::sans::regular()).ok()?,
                bold: FontRef::try_from_slice(dejavu::sans::bold()).ok()?,
            })
        })
        .as_ref()
        .ok_or_else(|| PlotError::Draw("the embedded DejaVu Sans font is invalid".into()))
}

/// Font size (pixel height from descender to ascender), weight and colour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text {
    pub size: f64,
    pub bold: bool,
    pub color: RGBColor,
}

/// Horizontal anchor of a text box (on screen, also for vertical text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HAlign {
    Left,
    Center,
    Right,
}

/// Vertical anchor of a text box (on screen, also for vertical text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VAlign {
    Top,
    Center,
}

impl Text {
    pub fn new(size: f64, color: RGBColor) -> Text {
        Text {
            size,
            bold: false,
            color,
        }
    }

    pub fn bold(self) -> Text {
        Text { bold: true, ..self }
    }

    pub fn resized(self, size: f64) -> Text {
        Text { size, ..self }
    }

    fn font(&self) -> Result<&'static FontRef<'static>, PlotError> {
        let f = fonts()?;
        Ok(if self.bold { &f.bold } else { &f.regular })
    }

    /// Width and height in pixels of `text` laid out horizontally.
    pub fn measure(&self, text: &str) -> Result<(f64, f64), PlotError> {
        let font = self.font()?.as_scaled(PxScale::from(self.size as f32));
        let (_, caret) = layout(&font, text);
        Ok((
            caret.ceil() as f64,
            (font.ascent() - font.descent()).ceil() as f64,
        ))
    }

    /// Draws `text` anchored at `pos` (pixel coordinates of `area`).
    /// `upward` rotates it by 90 degrees to read from bottom to top.
    pub fn draw(
        &self,
        area: &Area,
        text: &str,
        pos: (i32, i32),
        (h, v): (HAlign, VAlign),
        upward: bool,
    ) -> Result<(), PlotError> {
        if text.is_empty() {
            return Ok(());
        }
        let font = self.font()?.as_scaled(PxScale::from(self.size as f32));
        let (tw, th) = self.measure(text)?;
        let (sw, sh) = if upward { (th, tw) } else { (tw, th) };
        let sx = pos.0
            - match h {
                HAlign::Left => 0,
                HAlign::Center => (sw / 2.0).round() as i32,
                HAlign::Right => sw as i32,
            };
        let sy = pos.1
            - match v {
                VAlign::Top => 0,
                VAlign::Center => (sh / 2.0).round() as i32,
            };
        for (id, caret) in layout(&font, text).0 {
            let glyph = id.with_scale_and_position(font.scale(), point(caret, font.ascent()));
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            let mut pixels = Vec::new();
            outline.draw(|gx, gy, coverage| {
                if coverage > 0.0 {
                    pixels.push((gx, gy, coverage.min(1.0)));
                }
            });
            for (gx, gy, coverage) in pixels {
                // (u, v): position in the horizontal text box.
                let u = b.min.x as i32 + gx as i32;
                let v = b.min.y as i32 + gy as i32;
                let (x, y) = if upward {
                    (sx + v, sy + tw as i32 - 1 - u)
                } else {
                    (sx + u, sy + v)
                };
                area.draw_pixel((x, y), &self.color.mix(f64::from(coverage)))
                    .map_err(PlotError::draw)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::{BitMapBackend, IntoDrawingArea};

    /// Renders `text` on a white 100x100 canvas and returns, per ink pixel
    /// (red channel below 128), its (x, y).
    fn ink(text: &str, upward: bool) -> Vec<(usize, usize)> {
        let mut buf = vec![255u8; 100 * 100 * 3];
        {
            let area = BitMapBackend::with_buffer(&mut buf, (100, 100)).into_drawing_area();
            Text::new(40.0, RGBColor(0, 0, 0))
                .draw(
                    &area,
                    text,
                    (50, 50),
                    (HAlign::Center, VAlign::Center),
                    upward,
                )
                .unwrap();
            area.present().unwrap();
        }
        (0..100 * 100)
            .filter(|i| buf[i * 3] < 128)
            .map(|i| (i % 100, i / 100))
            .collect()
    }

    #[test]
    fn measure_grows_with_text_and_uses_the_pixel_height() {
        let t = Text::new(20.0, RGBColor(0, 0, 0));
        let (w1, h) = t.measure("a").unwrap();
        let (w2, _) = t.measure("aaaa").unwrap();
        assert!(w2 > 3.5 * w1 && w2 < 4.5 * w1, "{w1} {w2}");
        assert!((19.0..=21.0).contains(&h), "{h}");
        assert!(t.bold().measure("aaaa").unwrap().0 > w2);
    }

    #[test]
    fn horizontal_text_is_centred_on_its_anchor() {
        let px = ink("T", false);
        assert!(px.len() > 50);
        let cx = px.iter().map(|p| p.0).sum::<usize>() as f64 / px.len() as f64;
        assert!((cx - 50.0).abs() < 4.0, "centre x {cx}");
        // The bar of the T is at the top: the top rows hold the widest ink.
        let top = px.iter().map(|p| p.1).min().unwrap();
        let bottom = px.iter().map(|p| p.1).max().unwrap();
        let width_at = |y: usize| px.iter().filter(|p| p.1 == y).count();
        assert!(width_at(top + 1) > 3 * width_at(bottom - 1));
    }

    #[test]
    fn upward_text_reads_from_bottom_to_top() {
        // Rotated counter-clockwise, the bar of a T is on the left.
        let px = ink("T", true);
        let left = px.iter().map(|p| p.0).min().unwrap();
        let right = px.iter().map(|p| p.0).max().unwrap();
        let height_at = |x: usize| px.iter().filter(|p| p.0 == x).count();
        assert!(height_at(left + 1) > 3 * height_at(right - 1));
        // "L." : the first letter is at the bottom.
        let px = ink("L..", true);
        let dots_y = px.iter().map(|p| p.1).min().unwrap();
        let l_y = px.iter().map(|p| p.1).max().unwrap();
        assert!(l_y - dots_y > 20);
        let width_at = |y: usize| px.iter().filter(|p| p.1 == y).count();
        // The L's long stroke is horizontal at the bottom when rotated.
        assert!(width_at(l_y - 2) > 15, "{}", width_at(l_y - 2));
    }
}
