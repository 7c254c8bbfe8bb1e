//! Colours, fonts and the small style enums shared by all charts.

use plotters::style::RGBColor;

use crate::text::Text;

/// The colour palette (matplotlib's "tab10"), as `(r, g, b)`.
///
/// [`Series::color`](crate::Series::color), [`Band::color`](crate::Band::color)
/// and scatter groups index into it (modulo its length).
pub const PALETTE: [(u8, u8, u8); 10] = [
    (0x1f, 0x77, 0xb4), // blue
    (0xff, 0x7f, 0x0e), // orange
    (0x2c, 0xa0, 0x2c), // green
    (0xd6, 0x27, 0x28), // red
    (0x94, 0x67, 0xbd), // purple
    (0x8c, 0x56, 0x4b), // brown
    (0xe3, 0x77, 0xc2), // pink
    (0x7f, 0x7f, 0x7f), // grey
    (0xbc, 0xbd, 0x22), // olive
    (0x17, 0xbe, 0xcf), // cyan
];

/// The palette colour for `index` (wraps around after [`PALETTE`]'s length).
pub fn palette_color(index: usize) -> (u8, u8, u8) {
    PALETTE[index % PALETTE.len()]
}

pub(crate) fn rgb(index: usize) -> RGBColor {
    let (r, g, b) = palette_color(index);
    RGBColor(r, g, b)
}

/// How a [`Series`](crate::Series) line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineStyle {
    /// A continuous line.
    #[default]
    Solid,
    /// A dashed line (10 px dashes, 6 px gaps).
    Dashed,
}

/// Where a chart's legend goes. Series (or groups) with an empty name are
/// left out of the legend; a chart with no named series has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegendPosition {
    /// Inside the plot, in the first corner (upper right, upper left, lower
    /// right, lower left) that covers no data; outside on the right when
    /// every corner would hide data or the legend is large.
    #[default]
    Auto,
    /// Inside the plot, upper left corner.
    UpperLeft,
    /// Inside the plot, upper right corner.
    UpperRight,
    /// Inside the plot, lower left corner.
    LowerLeft,
    /// Inside the plot, lower right corner.
    LowerRight,
    /// To the right of the plot (the plot gets narrower).
    OutsideRight,
    /// No legend.
    Hidden,
}

/// Title font size in pixels.
pub(crate) const TITLE_SIZE: f64 = 22.0;
/// Axis label font size in pixels.
pub(crate) const LABEL_SIZE: f64 = 16.0;
/// Tick label, legend and caption font size in pixels.
pub(crate) const TICK_SIZE: f64 = 14.0;

pub(crate) const TEXT: RGBColor = RGBColor(25, 25, 25);
pub(crate) const WHITE: RGBColor = RGBColor(255, 255, 255);

/// Bold 22 px titles.
pub(crate) fn title_text() -> Text {
    Text::new(TITLE_SIZE, TEXT).bold()
}

/// 16 px axis labels.
pub(crate) fn label_text() -> Text {
    Text::new(LABEL_SIZE, TEXT)
}

/// 14 px tick labels, legend entries and captions.
pub(crate) fn tick_text() -> Text {
    Text::new(TICK_SIZE, TEXT)
}
