//! Figures: one or more panels in a grid, rendered to PNG.

use std::path::Path;

use plotters::prelude::*;

use crate::cartesian::{draw_title, Area};
use crate::images::{apply_blits, Blit};
use crate::style::WHITE;
use crate::{ImageGrid, LineChart, PlotError, ScatterChart};

/// Largest accepted figure side in pixels.
pub const MAX_SIDE: u32 = 16384;

/// One cell of a [`Figure`].
#[derive(Debug, Clone, PartialEq)]
pub enum Panel {
    /// A line chart (with optional bands).
    Line(LineChart),
    /// A scatter chart.
    Scatter(ScatterChart),
    /// A grid of grayscale images.
    Images(ImageGrid),
}

impl From<LineChart> for Panel {
    fn from(c: LineChart) -> Panel {
        Panel::Line(c)
    }
}

impl From<ScatterChart> for Panel {
    fn from(c: ScatterChart) -> Panel {
        Panel::Scatter(c)
    }
}

impl From<ImageGrid> for Panel {
    fn from(c: ImageGrid) -> Panel {
        Panel::Images(c)
    }
}

impl Panel {
    fn validate(&self) -> Result<(), PlotError> {
        match self {
            Panel::Line(c) => c.validate(),
            Panel::Scatter(c) => c.validate(),
            Panel::Images(c) => c.validate(),
        }
    }

    fn draw<'a>(&'a self, area: &Area, blits: &mut Vec<Blit<'a>>) -> Result<(), PlotError> {
        match self {
            Panel::Line(c) => c.draw(area),
            Panel::Scatter(c) => c.draw(area),
            Panel::Images(c) => c.draw(area, blits),
        }
    }
}

/// A PNG image holding several panels in a `rows` x `cols` grid of equal
/// cells, filled row by row; cells without a panel stay white.
///
/// ```
/// use seqlab_plot::{Figure, LineChart, Series};
/// let loss = LineChart::new("Loss").series(Series::from_y("train", &[1.0, 0.5, 0.3]));
/// let acc = LineChart::new("Accuracy").series(Series::from_y("test", &[0.5, 0.8, 0.9]));
/// let png = Figure::new(1000, 450).grid(1, 2).panel(loss).panel(acc).render_png().unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    width: u32,
    height: u32,
    grid: Option<(usize, usize)>,
    title: String,
    panels: Vec<Panel>,
}

impl Figure {
    /// An empty `width` x `height` pixel figure. 1000x450 suits two panels
    /// side by side, 640x450 a single one.
    pub fn new(width: u32, height: u32) -> Figure {
        Figure {
            width,
            height,
            grid: None,
            title: String::new(),
            panels: Vec::new(),
        }
    }

    /// Lays the panels out in `rows` x `cols` cells (default: one row with
    /// one cell per panel).
    pub fn grid(mut self, rows: usize, cols: usize) -> Figure {
        self.grid = Some((rows, cols));
        self
    }

    /// A title above all panels (bold, 22 px).
    pub fn title(mut self, title: impl Into<String>) -> Figure {
        self.title = title.into();
        self
    }

    /// Adds a panel (a [`LineChart`], [`ScatterChart`], [`ImageGrid`] or
    /// [`Panel`]) in the next free cell.
    pub fn panel(mut self, panel: impl Into<Panel>) -> Figure {
        self.panels.push(panel.into());
        self
    }

    /// The panels added so far.
    pub fn panels(&self) -> &[Panel] {
        &self.panels
    }

    /// `(width, height)` in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn validate(&self) -> Result<(usize, usize), PlotError> {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 {
            return Err(PlotError::ZeroSize {
                width: w,
                height: h,
            });
        }
        if w > MAX_SIDE || h > MAX_SIDE {
            return Err(PlotError::InvalidInput(format!(
                "figure size {w}x{h} exceeds {MAX_SIDE} px per side"
            )));
        }
        if self.panels.is_empty() {
            return Err(PlotError::Empty {
                what: "figure (no panels)".to_string(),
            });
        }
        let (rows, cols) = self.grid.unwrap_or((1, self.panels.len()));
        if rows == 0 || cols == 0 {
            return Err(PlotError::InvalidInput(format!(
                "figure grid {rows}x{cols} has no cells"
            )));
        }
        if self.panels.len() > rows.saturating_mul(cols) {
            return Err(PlotError::InvalidInput(format!(
                "{} panels do not fit in a {rows}x{cols} grid",
                self.panels.len()
            )));
        }
        for p in &self.panels {
            p.validate()?;
        }
        Ok((rows, cols))
    }

    /// Renders the figure to raw RGB8 pixels, row-major from the top-left,
    /// `width * height * 3` bytes.
    pub fn render_rgb(&self) -> Result<Vec<u8>, PlotError> {
        let (rows, cols) = self.validate()?;
        let (w, h) = (self.width, self.height);
        let mut buf = vec![255u8; w as usize * h as usize * 3];
        let mut blits = Vec::new();
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(PlotError::draw)?;
            let body = if self.title.is_empty() {
                root.clone()
            } else {
                draw_title(&root, &self.title)?
            };
            let cells = body.split_evenly((rows, cols));
            for (panel, cell) in self.panels.iter().zip(&cells) {
                panel.draw(cell, &mut blits)?;
            }
            root.present().map_err(PlotError::draw)?;
        }
        apply_blits(&mut buf, w, h, &blits);
        Ok(buf)
    }

    /// The number of panels added so far.
    pub fn panel_count(&self) -> usize {
        self.panels.len()
    }

    /// Renders the figure to PNG bytes.
    pub fn render_png(&self) -> Result<Vec<u8>, PlotError> {
        let rgb = self.render_rgb()?;
        encode_png(&rgb, self.width, self.height)
    }

    /// Renders the figure and writes it atomically to `path` (creating the
    /// parent folder). If anything fails, nothing is written: an existing
    /// file at `path` is left unchanged and no temporary file remains.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        let png = self.render_png()?;
        seqlab_io::write_atomic(path, &png).map_err(|source| PlotError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Encodes RGB8 pixels as a PNG.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    let e = |e: png::EncodingError| PlotError::Encode(e.to_string());
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // Charts are mostly flat colour: the best deflate level with a
        // filter chosen per row makes files about a third smaller (the
        // committed results travel to the device machine within a budget).
        enc.set_compression(png::Compression::Best);
        enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = enc.write_header().map_err(e)?;
        writer.write_image_data(rgb).map_err(e)?;
        writer.finish().map_err(e)?;
    }
    Ok(out)
}
