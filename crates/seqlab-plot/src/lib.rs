//! PNG plots for seqlab: line charts with shaded bands, scatter charts,
//! grayscale image grids, and figures combining them in a grid.
//!
//! Pure Rust: text is rasterised from the embedded DejaVu Sans font with
//! `ab_glyph` (no system fonts, fontconfig or freetype, no global font
//! registration), shapes are rendered in memory with plotters, encoded with
//! `png` and written atomically with [`seqlab_io::write_atomic`]. All input
//! is validated before anything is drawn, and a failed plot never leaves a
//! partial or temporary file behind and never replaces an existing file.
//!
//! Sizes are in pixels and do not scale with the figure: they are tuned for
//! about 1000x450 for two panels side by side (640x450 for one): titles
//! 22 px bold, axis labels 16 px, tick labels, legends and captions 14 px,
//! 2 px lines (dashed: 10 px dashes, 6 px gaps). Colours come from
//! [`PALETTE`] (matplotlib's tab10). Everything is deterministic (same input,
//! same bytes) and safe to call from several threads.
//!
//! Kinds of panels: [`LineChart`] (with [`Series`] and [`Band`]s, optional
//! log y axis), [`ScatterChart`] and [`ImageGrid`] (of [`GrayImage`]s). Each
//! has `save_png(path, width, height)` and `render_png(width, height)` for a
//! single panel; [`Figure`] puts several in a grid.
//!
//! Ready-made charts ([`charts`]): [`plot_history`] (loss and accuracy per
//! epoch, training solid, validation dashed) and [`plot_roc`] (ROC curves
//! with their AUCs and the chance line, axes padded so that no part of a
//! curve hides under the frame; [`roc_axes`] is that frame alone, for ROC
//! charts of your own).
//!
//! ```
//! use seqlab_plot::{Band, Figure, GrayImage, ImageGrid, LineChart, ScatterChart, Series};
//!
//! let dir = std::env::temp_dir().join(format!("seqlab-plot-doc-{}", std::process::id()));
//! let epochs = [1.0, 2.0, 3.0, 4.0];
//! let loss = LineChart::new("Loss")
//!     .x_label("epoch")
//!     .y_label("cross-entropy")
//!     .series(Series::from_xy("train", &epochs, &[2.0, 1.1, 0.7, 0.5]).unwrap())
//!     .series(Series::from_xy("test", &epochs, &[2.1, 1.3, 1.0, 0.9]).unwrap().dashed());
//! let acc = LineChart::new("Accuracy vs length")
//!     .x_label("sequence length")
//!     .mean_with_band("LSTM", &[10.0, 20.0, 40.0], &[0.9, 0.8, 0.6], &[0.85, 0.7, 0.5], &[0.95, 0.85, 0.7])
//!     .unwrap();
//!
//! // One chart alone ...
//! loss.save_png(dir.join("loss.png"), 640, 450).unwrap();
//! // ... or several panels in one figure.
//! Figure::new(1000, 450).grid(1, 2).panel(loss).panel(acc).save_png(dir.join("both.png")).unwrap();
//!
//! let latent = ScatterChart::from_labels("Latent space", &[(0.0, 1.0), (1.0, 0.5), (0.3, -1.0)], &[0, 1, 1])
//!     .unwrap();
//! latent.save_png(dir.join("latent.png"), 640, 450).unwrap();
//!
//! let digit = GrayImage::from_fn(28, 28, |r, c| if (r as i32 - 14).abs() < 10 && (c as i32 - 14).abs() < 3 { 1.0 } else { 0.0 });
//! ImageGrid::new("Samples").image(digit.clone(), "1").image(digit, "1 again")
//!     .save_png(dir.join("samples.png"), 500, 300).unwrap();
//!
//! let png = std::fs::read(dir.join("both.png")).unwrap();
//! assert_eq!(&png[1..4], b"PNG");
//! # let _ = Band::default();
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

#![warn(missing_docs)]

mod cartesian;
pub mod charts;
mod error;
mod figure;
mod geom;
mod images;
mod line;
mod scatter;
mod style;
mod text;
mod ticks;

#[cfg(test)]
mod tests;

pub use charts::{
    history_figure, history_figure_named, plot_history, plot_roc, roc_axes, roc_chart, RocSeries,
};
pub use error::PlotError;
pub use figure::{Figure, Panel, MAX_SIDE};
pub use images::{GrayImage, ImageGrid};
pub use line::{Band, LineChart, Series};
pub use scatter::ScatterChart;
pub use style::{palette_color, LegendPosition, LineStyle, PALETTE};
