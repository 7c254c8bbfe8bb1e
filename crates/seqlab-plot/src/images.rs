//! Grids of grayscale images (e.g. MNIST digits and reconstructions).

use std::path::Path;

use crate::cartesian::{draw_title, Area};
use crate::figure::Figure;
use crate::style::{tick_text, TICK_SIZE};
use crate::text::{HAlign, VAlign};
use crate::PlotError;

/// A grayscale image with values in `[0, 1]`, stored row-major: pixel
/// (row `r`, column `c`) is `pixels[r * width + c]`, and row 0 is the top.
/// Values outside `[0, 1]` are clamped when drawn.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GrayImage {
    /// Number of columns.
    pub width: usize,
    /// Number of rows.
    pub height: usize,
    /// `width * height` intensities, row-major, row 0 at the top.
    pub pixels: Vec<f32>,
}

impl GrayImage {
    /// An image from row-major pixels (checked when drawn).
    pub fn new(width: usize, height: usize, pixels: Vec<f32>) -> GrayImage {
        GrayImage {
            width,
            height,
            pixels,
        }
    }

    /// An image whose pixel (row, col) is `f(row, col)`.
    pub fn from_fn(
        width: usize,
        height: usize,
        mut f: impl FnMut(usize, usize) -> f32,
    ) -> GrayImage {
        let mut pixels = Vec::with_capacity(width * height);
        for r in 0..height {
            for c in 0..width {
                pixels.push(f(r, c));
            }
        }
        GrayImage {
            width,
            height,
            pixels,
        }
    }

    /// The value at (row, col).
    ///
    /// # Panics
    /// If the position is outside the image.
    pub fn get(&self, row: usize, col: usize) -> f32 {
        assert!(
            row < self.height && col < self.width,
            "pixel ({row}, {col}) outside {}x{} image",
            self.width,
            self.height
        );
        self.pixels[row * self.width + col]
    }
}

/// Images laid out in a grid of tiles with optional captions below them.
///
/// Tiles are drawn in grayscale like MNIST: 0 is black, 1 is white (no
/// colour map), on the white figure background. Every tile is scaled by
/// the same factor, an integer one (nearest neighbour, so pixels stay crisp)
/// whenever the images fit at least at their native size; 28x28 digits are
/// therefore shown as e.g. 4x-enlarged blocks. Images are neither flipped
/// nor transposed: row 0 is at the top of its tile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageGrid {
    /// Title above the grid; empty for none.
    pub title: String,
    /// The images, placed row by row (left to right, then down).
    pub images: Vec<GrayImage>,
    /// Either empty (no captions) or one caption per image (empty strings
    /// leave a tile uncaptioned).
    pub captions: Vec<String>,
    /// Tiles per row; 0 chooses the count that gives the largest tiles.
    pub columns: usize,
}

/// Where one image goes in the final pixel buffer (filled in after plotters
/// has finished, straight into the RGB buffer, so tiles are pixel-exact).
pub(crate) struct Blit<'a> {
    pub image: &'a GrayImage,
    pub x: i64,
    pub y: i64,
    pub w: usize,
    pub h: usize,
}

const GAP: i64 = 8;
const MARGIN: i64 = 10;
const CAPTION_H: i64 = TICK_SIZE as i64 + 8;

impl ImageGrid {
    /// An empty grid with a title.
    pub fn new(title: impl Into<String>) -> ImageGrid {
        ImageGrid {
            title: title.into(),
            ..ImageGrid::default()
        }
    }

    /// Adds an image with a caption (may be empty). Do not mix with filling
    /// `images` directly without captions.
    pub fn image(mut self, image: GrayImage, caption: impl Into<String>) -> ImageGrid {
        self.images.push(image);
        self.captions.push(caption.into());
        self
    }

    /// Sets the number of tiles per row (0 = automatic).
    pub fn columns(mut self, columns: usize) -> ImageGrid {
        self.columns = columns;
        self
    }

    /// Renders this grid alone as a `width` x `height` PNG (in memory).
    pub fn render_png(&self, width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
        Figure::new(width, height).panel(self.clone()).render_png()
    }

    /// Renders this grid alone and writes it atomically to `path`.
    pub fn save_png(
        &self,
        path: impl AsRef<Path>,
        width: u32,
        height: u32,
    ) -> Result<(), PlotError> {
        Figure::new(width, height)
            .panel(self.clone())
            .save_png(path)
    }

    fn what(&self, i: usize) -> String {
        if self.title.is_empty() {
            format!("image {i}")
        } else {
            format!("image {i} in grid {:?}", self.title)
        }
    }

    pub(crate) fn validate(&self) -> Result<(), PlotError> {
        if self.images.is_empty() {
            return Err(PlotError::Empty {
                what: format!("image grid {:?}", self.title),
            });
        }
        if !self.captions.is_empty() && self.captions.len() != self.images.len() {
            return Err(PlotError::LengthMismatch {
                what: format!("captions of image grid {:?}", self.title),
                expected: self.images.len(),
                found: self.captions.len(),
            });
        }
        for (i, img) in self.images.iter().enumerate() {
            if img.width == 0 || img.height == 0 {
                return Err(PlotError::Empty {
                    what: format!("{} ({}x{})", self.what(i), img.width, img.height),
                });
            }
            let n = img.width.checked_mul(img.height).ok_or_else(|| {
                PlotError::InvalidInput(format!(
                    "{}: {}x{} is too large",
                    self.what(i),
                    img.width,
                    img.height
                ))
            })?;
            if img.pixels.len() != n {
                return Err(PlotError::LengthMismatch {
                    what: format!("pixels of {} ({}x{})", self.what(i), img.width, img.height),
                    expected: n,
                    found: img.pixels.len(),
                });
            }
            if let Some((j, v)) = img.pixels.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(PlotError::NonFinite {
                    what: self.what(i),
                    index: j,
                    value: f64::from(*v),
                });
            }
        }
        Ok(())
    }

    fn has_captions(&self) -> bool {
        self.captions.iter().any(|c| !c.is_empty())
    }

    /// Scale factor for `cols` columns in an `aw` x `ah` area.
    fn scale_for(&self, cols: usize, aw: i64, ah: i64) -> f64 {
        let n = self.images.len();
        let rows = n.div_ceil(cols) as i64;
        let cols = cols as i64;
        let cap = if self.has_captions() { CAPTION_H } else { 0 };
        let mw = self.images.iter().map(|i| i.width).max().unwrap_or(1) as f64;
        let mh = self.images.iter().map(|i| i.height).max().unwrap_or(1) as f64;
        let cell_w = (aw - GAP * (cols - 1)) as f64 / cols as f64;
        let cell_h = (ah - GAP * (rows - 1)) as f64 / rows as f64 - cap as f64;
        let f = (cell_w / mw).min(cell_h / mh);
        if f >= 1.0 {
            f.floor()
        } else {
            f
        }
    }

    pub(crate) fn draw<'a>(
        &'a self,
        area: &Area,
        blits: &mut Vec<Blit<'a>>,
    ) -> Result<(), PlotError> {
        let body = if self.title.is_empty() {
            area.clone()
        } else {
            draw_title(area, &self.title)?
        };
        let (bw, bh) = body.dim_in_pixel();
        let (aw, ah) = (bw as i64 - 2 * MARGIN, bh as i64 - 2 * MARGIN);
        let n = self.images.len();
        let cols = if self.columns > 0 {
            self.columns
        } else {
            // Largest tiles; on ties, the fewest empty cells, then fewer columns.
            (1..=n)
                .max_by(|&a, &b| {
                    let (sa, sb) = (self.scale_for(a, aw, ah), self.scale_for(b, aw, ah));
                    let waste = |c: usize| n.div_ceil(c) * c - n;
                    sa.total_cmp(&sb)
                        .then(waste(b).cmp(&waste(a)))
                        .then(b.cmp(&a))
                })
                .unwrap_or(1)
        };
        let rows = n.div_ceil(cols);
        let f = self.scale_for(cols, aw, ah);
        let mw = self.images.iter().map(|i| i.width).max().unwrap_or(1);
        let mh = self.images.iter().map(|i| i.height).max().unwrap_or(1);
        let tw = (mw as f64 * f).round() as i64;
        let th = (mh as f64 * f).round() as i64;
        if aw <= 0 || ah <= 0 || tw < 1 || th < 1 {
            return Err(PlotError::InvalidInput(format!(
                "a {bw}x{bh} px panel is too small for the {n} images of grid {:?}",
                self.title
            )));
        }
        let cap = if self.has_captions() { CAPTION_H } else { 0 };
        let block_w = cols as i64 * tw + (cols as i64 - 1) * GAP;
        let block_h = rows as i64 * (th + cap) + (rows as i64 - 1) * GAP;
        let (bx, by) = body.get_base_pixel();
        let x0 = MARGIN + (aw - block_w).max(0) / 2;
        let y0 = MARGIN + (ah - block_h).max(0) / 2;
        for (i, img) in self.images.iter().enumerate() {
            let (r, c) = ((i / cols) as i64, (i % cols) as i64);
            let cell_x = x0 + c * (tw + GAP);
            let cell_y = y0 + r * (th + cap + GAP);
            let w = ((img.width as f64 * f).round() as i64).max(1);
            let h = ((img.height as f64 * f).round() as i64).max(1);
            // Smaller images are centred in their tile.
            let x = cell_x + (tw - w) / 2;
            let y = cell_y + (th - h) / 2;
            blits.push(Blit {
                image: img,
                x: bx as i64 + x,
                y: by as i64 + y,
                w: w as usize,
                h: h as usize,
            });
            if let Some(caption) = self.captions.get(i).filter(|c| !c.is_empty()) {
                let mut style = tick_text();
                let (cw, _) = style.measure(caption)?;
                let avail = (tw + GAP - 2).max(1) as f64;
                if cw > avail {
                    style = style.resized((TICK_SIZE * avail / cw).max(8.0));
                }
                let at = ((cell_x + tw / 2) as i32, (cell_y + th + 4) as i32);
                style.draw(&body, caption, at, (HAlign::Center, VAlign::Top), false)?;
            }
        }
        Ok(())
    }
}

/// Copies the images into the RGB buffer (nearest neighbour, clipped to the
/// buffer), 0 = black, 1 = white.
pub(crate) fn apply_blits(buf: &mut [u8], width: u32, height: u32, blits: &[Blit]) {
    let (bw, bh) = (width as i64, height as i64);
    for b in blits {
        let img = b.image;
        for dy in 0..b.h {
            let py = b.y + dy as i64;
            if py < 0 || py >= bh {
                continue;
            }
            let sr = (dy * img.height / b.h).min(img.height - 1);
            for dx in 0..b.w {
                let px = b.x + dx as i64;
                if px < 0 || px >= bw {
                    continue;
                }
                let sc = (dx * img.width / b.w).min(img.width - 1);
                let v = img.pixels[sr * img.width + sc].clamp(0.0, 1.0);
                let g = (v * 255.0).round() as u8;
                let o = ((py * bw + px) * 3) as usize;
                buf[o..o + 3].copy_from_slice(&[g, g, g]);
            }
        }
    }
}
