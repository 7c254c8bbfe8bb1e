//! The error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while validating, drawing, encoding or
/// writing a plot. Whatever the error, no PNG (and no temporary file) is
/// left at the destination, and an existing file there is left unchanged.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// plotters failed while drawing (its message is kept).
    #[error("drawing the plot failed: {0}")]
    Draw(String),
    /// Encoding the rendered pixels as PNG failed.
    #[error("encoding the plot as PNG failed: {0}")]
    Encode(String),
    /// Writing the finished PNG failed.
    #[error("cannot write plot to {}", path.display())]
    Write {
        /// The destination that could not be written.
        path: PathBuf,
        /// The underlying atomic-write error.
        #[source]
        source: seqlab_io::IoError,
    },
    /// The figure (or a chart's requested size) has a zero dimension.
    #[error("figure size {width}x{height} has a zero dimension")]
    ZeroSize {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
    },
    /// A series, band, group, image or chart that needs data has none.
    /// `what` names it, e.g. `series "train" in chart "Loss"`.
    #[error("{what} is empty")]
    Empty {
        /// Which input is empty.
        what: String,
    },
    /// A value is NaN or infinite. `what` names the series (or band, group,
    /// image) and `index` is the position of the offending point or pixel.
    #[error("{what}: value at index {index} is not finite ({value})")]
    NonFinite {
        /// Which input holds the value.
        what: String,
        /// Index of the point (or pixel) in that input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// Two inputs that must have the same length do not.
    #[error("{what}: expected {expected} values, found {found}")]
    LengthMismatch {
        /// Which input has the wrong length.
        what: String,
        /// The length it should have.
        expected: usize,
        /// The length it has.
        found: usize,
    },
    /// Any other invalid input (bad axis range, non-positive value on a log
    /// axis, more panels than grid cells, figure too small, ...).
    #[error("invalid plot input: {0}")]
    InvalidInput(String),
}

impl PlotError {
    pub(crate) fn draw<E: std::fmt::Display>(e: E) -> PlotError {
        PlotError::Draw(e.to_string())
    }
}
