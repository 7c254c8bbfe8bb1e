//! Line charts with optional filled bands.

use std::path::Path;

use plotters::prelude::*;

use crate::cartesian::{draw_cartesian, Area, Axes, Glyph, LegendEntry, BAND_ALPHA};
use crate::figure::Figure;
use crate::geom::{clip_polygon, clip_polyline};
use crate::style::{rgb, LegendPosition, LineStyle, PALETTE};
use crate::ticks::padded_range;
use crate::PlotError;

/// Points in drawing space.
type Polyline = Vec<(f64, f64)>;

/// One line of a [`LineChart`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend label; an empty name keeps the series out of the legend.
    pub name: String,
    /// `(x, y)` points, drawn in the given order (not sorted).
    pub points: Vec<(f64, f64)>,
    /// Solid or dashed.
    pub style: LineStyle,
    /// Index into [`PALETTE`](crate::PALETTE); `None` takes the next palette
    /// colour not used explicitly by another series or band of the chart.
    pub color: Option<usize>,
    /// Drawn pale (its colour mixed three parts in four with white), for
    /// many individual curves under a summary curve, such as one per seed.
    pub faint: bool,
    /// A dot at every point, for series measured at a few x values only.
    pub markers: bool,
}

/// How much of a faint series' colour is kept (the rest is white).
const FAINT_KEEP: f64 = 0.25;

fn faded(c: RGBColor, faint: bool) -> RGBColor {
    if !faint {
        return c;
    }
    let mix = |v: u8| (f64::from(v) * FAINT_KEEP + 255.0 * (1.0 - FAINT_KEEP)).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

impl Series {
    /// A solid series with an automatic colour.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
            ..Series::default()
        }
    }

    /// A series from separate x and y slices, which must have equal lengths.
    pub fn from_xy(name: impl Into<String>, x: &[f64], y: &[f64]) -> Result<Series, PlotError> {
        let name = name.into();
        if x.len() != y.len() {
            return Err(PlotError::LengthMismatch {
                what: format!("y values of series {name:?}"),
                expected: x.len(),
                found: y.len(),
            });
        }
        Ok(Series::new(
            name,
            x.iter().copied().zip(y.iter().copied()).collect(),
        ))
    }

    /// A series of y values at x = 0, 1, 2, ...
    pub fn from_y(name: impl Into<String>, y: &[f64]) -> Series {
        Series::new(
            name,
            y.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect(),
        )
    }

    /// Sets the line style.
    pub fn style(mut self, style: LineStyle) -> Series {
        self.style = style;
        self
    }

    /// Makes the line dashed.
    pub fn dashed(self) -> Series {
        self.style(LineStyle::Dashed)
    }

    /// Sets the palette colour index.
    pub fn color(mut self, index: usize) -> Series {
        self.color = Some(index);
        self
    }

    /// Draws a dot at every point (see [`Series::markers`]).
    pub fn markers(mut self) -> Series {
        self.markers = true;
        self
    }

    /// Draws the line pale (see [`Series::faint`]); give it an empty name
    /// to keep it out of the legend.
    pub fn faint(mut self) -> Series {
        self.faint = true;
        self
    }
}

/// A translucent filled area between `lower` and `upper` over `x`, drawn
/// behind all lines of a [`LineChart`] (e.g. min..max or mean ± std over
/// seeds).
///
/// A band whose `color` is `None` and whose `name` equals the name of a
/// series of the same chart takes that series' colour and shares its legend
/// entry (a line over a shaded box); see [`LineChart::mean_with_band`].
/// Otherwise it gets its own colour and legend entry (unless its name is
/// empty). The area is the polygon through `(x[i], upper[i])` forwards and
/// `(x[i], lower[i])` backwards, so `x` should be sorted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Band {
    /// Legend label, or the name of the series this band belongs to.
    pub name: String,
    /// x positions.
    pub x: Vec<f64>,
    /// Lower edge, one value per x.
    pub lower: Vec<f64>,
    /// Upper edge, one value per x.
    pub upper: Vec<f64>,
    /// Index into [`PALETTE`](crate::PALETTE); see the type docs for `None`.
    pub color: Option<usize>,
}

impl Band {
    /// A band with an automatic colour.
    pub fn new(name: impl Into<String>, x: Vec<f64>, lower: Vec<f64>, upper: Vec<f64>) -> Band {
        Band {
            name: name.into(),
            x,
            lower,
            upper,
            color: None,
        }
    }

    /// Sets the palette colour index.
    pub fn color(mut self, index: usize) -> Band {
        self.color = Some(index);
        self
    }
}

/// A line chart: several [`Series`] and [`Band`]s on shared axes.
///
/// Build it with the chaining methods or as a struct literal with
/// `..LineChart::default()`. Axis ranges not set are computed from the data
/// (series and bands) with a 5 % margin; a constant series gets a non-zero
/// range around its value. Lines outside explicit ranges are clipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Title above the plot (bold, 22 px); empty for none.
    pub title: String,
    /// x axis label; empty for none.
    pub x_label: String,
    /// y axis label; empty for none.
    pub y_label: String,
    /// The lines, drawn in order (later ones on top).
    pub series: Vec<Series>,
    /// Filled bands, drawn behind all lines.
    pub bands: Vec<Band>,
    /// Visible x range `(min, max)`; `None` = from the data.
    pub x_range: Option<(f64, f64)>,
    /// Visible y range `(min, max)`; `None` = from the data.
    pub y_range: Option<(f64, f64)>,
    /// Logarithmic y axis (all y values, band edges and `y_range` must then
    /// be positive).
    pub log_y: bool,
    /// Where the legend goes.
    pub legend: LegendPosition,
}

impl LineChart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> LineChart {
        LineChart {
            title: title.into(),
            ..LineChart::default()
        }
    }

    /// Sets the x axis label.
    pub fn x_label(mut self, label: impl Into<String>) -> LineChart {
        self.x_label = label.into();
        self
    }

    /// Sets the y axis label.
    pub fn y_label(mut self, label: impl Into<String>) -> LineChart {
        self.y_label = label.into();
        self
    }

    /// Adds a series.
    pub fn series(mut self, series: Series) -> LineChart {
        self.series.push(series);
        self
    }

    /// Adds a band.
    pub fn band(mut self, band: Band) -> LineChart {
        self.bands.push(band);
        self
    }

    /// Adds a mean line with a shaded band from `lower` to `upper` behind it
    /// (same colour, one legend entry). All slices must have `x`'s length.
    pub fn mean_with_band(
        mut self,
        name: impl Into<String>,
        x: &[f64],
        mean: &[f64],
        lower: &[f64],
        upper: &[f64],
    ) -> Result<LineChart, PlotError> {
        let name = name.into();
        for (what, v) in [("mean", mean), ("lower", lower), ("upper", upper)] {
            if v.len() != x.len() {
                return Err(PlotError::LengthMismatch {
                    what: format!("{what} values of {name:?}"),
                    expected: x.len(),
                    found: v.len(),
                });
            }
        }
        self.series.push(Series::from_xy(name.clone(), x, mean)?);
        self.bands
            .push(Band::new(name, x.to_vec(), lower.to_vec(), upper.to_vec()));
        Ok(self)
    }

    /// Draws a dot at every point of every series added so far.
    pub fn with_markers(mut self) -> LineChart {
        for s in &mut self.series {
            s.markers = true;
        }
        self
    }

    /// Sets the visible x range.
    pub fn x_range(mut self, min: f64, max: f64) -> LineChart {
        self.x_range = Some((min, max));
        self
    }

    /// Sets the visible y range.
    pub fn y_range(mut self, min: f64, max: f64) -> LineChart {
        self.y_range = Some((min, max));
        self
    }

    /// Switches the logarithmic y axis on or off.
    pub fn log_y(mut self, on: bool) -> LineChart {
        self.log_y = on;
        self
    }

    /// Sets the legend position.
    pub fn legend(mut self, position: LegendPosition) -> LineChart {
        self.legend = position;
        self
    }

    /// Renders this chart alone as a `width` x `height` PNG (in memory).
    pub fn render_png(&self, width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
        Figure::new(width, height).panel(self.clone()).render_png()
    }

    /// Renders this chart alone and writes it atomically to `path`.
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

    fn what(&self, kind: &str, name: &str) -> String {
        if self.title.is_empty() {
            format!("{kind} {name:?}")
        } else {
            format!("{kind} {name:?} in chart {:?}", self.title)
        }
    }

    /// Checks the data; called before anything is drawn.
    pub(crate) fn validate(&self) -> Result<(), PlotError> {
        if self.series.is_empty() && self.bands.is_empty() {
            return Err(PlotError::Empty {
                what: format!("line chart {:?}", self.title),
            });
        }
        let positive = |what: &str, i: usize, v: f64| {
            if self.log_y && v <= 0.0 {
                Err(PlotError::InvalidInput(format!(
                    "{what}: value at index {i} is {v}, but a log y axis needs positive values"
                )))
            } else {
                Ok(())
            }
        };
        for s in &self.series {
            let what = self.what("series", &s.name);
            if s.points.is_empty() {
                return Err(PlotError::Empty { what });
            }
            for (i, &(x, y)) in s.points.iter().enumerate() {
                for v in [x, y] {
                    if !v.is_finite() {
                        return Err(PlotError::NonFinite {
                            what,
                            index: i,
                            value: v,
                        });
                    }
                }
                positive(&what, i, y)?;
            }
        }
        for b in &self.bands {
            let what = self.what("band", &b.name);
            if b.x.is_empty() {
                return Err(PlotError::Empty { what });
            }
            for (edge, v) in [("lower", &b.lower), ("upper", &b.upper)] {
                if v.len() != b.x.len() {
                    return Err(PlotError::LengthMismatch {
                        what: format!("{what} ({edge} edge)"),
                        expected: b.x.len(),
                        found: v.len(),
                    });
                }
            }
            for (edge, v) in [("x", &b.x), ("lower", &b.lower), ("upper", &b.upper)] {
                for (i, &v) in v.iter().enumerate() {
                    if !v.is_finite() {
                        return Err(PlotError::NonFinite {
                            what: format!("{what} ({edge})"),
                            index: i,
                            value: v,
                        });
                    }
                    if edge != "x" {
                        positive(&format!("{what} ({edge})"), i, v)?;
                    }
                }
            }
        }
        check_range("x_range", self.x_range, false, &self.title)?;
        check_range("y_range", self.y_range, self.log_y, &self.title)?;
        Ok(())
    }

    /// Palette indices of the series and of the bands.
    pub(crate) fn colors(&self) -> (Vec<usize>, Vec<usize>) {
        let n = PALETTE.len();
        let explicit: Vec<usize> = self
            .series
            .iter()
            .filter_map(|s| s.color)
            .chain(self.bands.iter().filter_map(|b| b.color))
            .map(|c| c % n)
            .collect();
        let mut next = 0usize;
        let mut auto = || {
            for _ in 0..n {
                if !explicit.contains(&(next % n)) {
                    break;
                }
                next += 1;
            }
            let c = next % n;
            next += 1;
            c
        };
        let series: Vec<usize> = self
            .series
            .iter()
            .map(|s| s.color.map(|c| c % n).unwrap_or_else(&mut auto))
            .collect();
        let bands = self
            .bands
            .iter()
            .map(|b| match b.color {
                Some(c) => c % n,
                None => match self.series.iter().position(|s| s.name == b.name) {
                    Some(i) => series[i],
                    None => auto(),
                },
            })
            .collect();
        (series, bands)
    }

    /// y as drawn: its log10 on a log scale.
    fn ty(&self, y: f64) -> f64 {
        if self.log_y {
            y.log10()
        } else {
            y
        }
    }

    /// The series' lines and the bands' lower and upper edges, in drawing space.
    fn drawing_space(&self) -> (Vec<Polyline>, Vec<(Polyline, Polyline)>) {
        let lines = self
            .series
            .iter()
            .map(|s| s.points.iter().map(|&(x, y)| (x, self.ty(y))).collect())
            .collect();
        let edge = |xs: &[f64], ys: &[f64]| -> Polyline {
            xs.iter().zip(ys).map(|(&x, &y)| (x, self.ty(y))).collect()
        };
        let band_edges = self
            .bands
            .iter()
            .map(|b| (edge(&b.x, &b.lower), edge(&b.x, &b.upper)))
            .collect();
        (lines, band_edges)
    }

    /// The x and y ranges in drawing space: the ones set, else the data's, padded.
    fn ranges(
        &self,
        lines: &[Polyline],
        band_edges: &[(Polyline, Polyline)],
    ) -> ((f64, f64), (f64, f64)) {
        let all = || {
            lines
                .iter()
                .flatten()
                .chain(band_edges.iter().flat_map(|(lo, hi)| lo.iter().chain(hi)))
        };
        let extent = |f: fn(&(f64, f64)) -> f64| {
            all()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(v), b.max(v))
                })
        };
        let x = match self.x_range {
            Some(r) => r,
            None => {
                let (a, b) = extent(|p| p.0);
                padded_range(a, b)
            }
        };
        let y = match self.y_range {
            Some((a, b)) => (self.ty(a), self.ty(b)),
            None => {
                let (a, b) = extent(|p| p.1);
                if self.log_y && b <= a {
                    (a - 0.5, b + 0.5)
                } else {
                    padded_range(a, b)
                }
            }
        };
        (x, y)
    }

    /// One legend entry per named series (drawn over its band when a band
    /// of the same name and colour goes with it), then one per named band
    /// without such a series.
    fn legend_entries(&self, series_colors: &[usize], band_colors: &[usize]) -> Vec<LegendEntry> {
        let mut entries = Vec::new();
        for (s, &c) in self.series.iter().zip(series_colors) {
            if s.name.is_empty() {
                continue;
            }
            let banded = self
                .bands
                .iter()
                .zip(band_colors)
                .any(|(b, &bc)| b.name == s.name && bc == c);
            entries.push(LegendEntry {
                label: s.name.clone(),
                color: rgb(c),
                glyph: if banded {
                    Glyph::LineOverBand(s.style)
                } else {
                    Glyph::Line(s.style)
                },
            });
        }
        for (b, &c) in self.bands.iter().zip(band_colors) {
            let shared = self
                .series
                .iter()
                .zip(series_colors)
                .any(|(s, &sc)| s.name == b.name && sc == c);
            if !b.name.is_empty() && !shared {
                entries.push(LegendEntry {
                    label: b.name.clone(),
                    color: rgb(c),
                    glyph: Glyph::Band,
                });
            }
        }
        entries
    }

    pub(crate) fn draw(&self, area: &Area) -> Result<(), PlotError> {
        let (series_colors, band_colors) = self.colors();
        let (lines, band_edges) = self.drawing_space();
        let (x, y) = self.ranges(&lines, &band_edges);
        let entries = self.legend_entries(&series_colors, &band_colors);
        let mut occupancy = lines.clone();
        for (lo, hi) in &band_edges {
            occupancy.push(lo.clone());
            occupancy.push(hi.clone());
        }
        let axes = Axes {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            x,
            y,
            y_log: self.log_y,
            legend: self.legend,
            entries,
            occupancy,
        };
        draw_cartesian(area, &axes, |plot| {
            for ((lo, hi), &c) in band_edges.iter().zip(&band_colors) {
                let poly: Vec<(f64, f64)> = hi.iter().chain(lo.iter().rev()).copied().collect();
                let poly = clip_polygon(&poly, &plot.rect);
                if poly.len() >= 3 {
                    plot.draw(&Polygon::new(poly, rgb(c).mix(BAND_ALPHA).filled()))?;
                }
            }
            for ((s, line), &c) in self.series.iter().zip(&lines).zip(&series_colors) {
                for run in clip_polyline(line, &plot.rect) {
                    if run.len() == 1 {
                        plot.draw(&Circle::new(run[0], 3, faded(rgb(c), s.faint).filled()))?;
                    } else {
                        plot.line(&run, faded(rgb(c), s.faint), s.style)?;
                    }
                    if s.markers {
                        for &p in &run {
                            plot.draw(&Circle::new(p, 4, faded(rgb(c), s.faint).filled()))?;
                        }
                    }
                }
            }
            Ok(())
        })
    }
}

/// Validates an explicit axis range.
pub(crate) fn check_range(
    name: &str,
    range: Option<(f64, f64)>,
    log: bool,
    title: &str,
) -> Result<(), PlotError> {
    if let Some((a, b)) = range {
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(PlotError::InvalidInput(format!(
                "{name} ({a}, {b}) of chart {title:?} must be finite with min < max"
            )));
        }
        if log && a <= 0.0 {
            return Err(PlotError::InvalidInput(format!(
                "{name} ({a}, {b}) of chart {title:?} must be positive on a log axis"
            )));
        }
    }
    Ok(())
}
