//! Scatter charts coloured by group.

use std::path::Path;

use plotters::prelude::*;

use crate::cartesian::{draw_cartesian, Area, Axes, Glyph, LegendEntry};
use crate::figure::Figure;
use crate::line::check_range;
use crate::style::{rgb, LegendPosition};
use crate::ticks::padded_range;
use crate::PlotError;

/// A scatter plot whose points are coloured by group (group `i` gets
/// palette colour `i`), e.g. a 2-D latent space coloured by digit.
///
/// Groups may be empty (they keep their colour slot, so colours stay stable
/// when a class is missing, and are left out of the legend), but the chart
/// as a whole needs at least one point. Groups with an empty name are left
/// out of the legend. With many groups the [`LegendPosition::Auto`] legend
/// goes to the right of the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterChart {
    /// Title above the plot; empty for none.
    pub title: String,
    /// x axis label; empty for none.
    pub x_label: String,
    /// y axis label; empty for none.
    pub y_label: String,
    /// `(name, points)` per group, drawn in order (later groups on top).
    pub groups: Vec<(String, Vec<(f64, f64)>)>,
    /// Marker radius in pixels (1 to 50; default 3).
    pub point_size: u32,
    /// Visible x range; `None` = from the data with a 5 % margin.
    pub x_range: Option<(f64, f64)>,
    /// Visible y range; `None` = from the data with a 5 % margin.
    pub y_range: Option<(f64, f64)>,
    /// Where the legend goes.
    pub legend: LegendPosition,
}

impl Default for ScatterChart {
    fn default() -> ScatterChart {
        ScatterChart {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            groups: Vec::new(),
            point_size: 3,
            x_range: None,
            y_range: None,
            legend: LegendPosition::Auto,
        }
    }
}

impl ScatterChart {
    /// An empty scatter chart with a title.
    pub fn new(title: impl Into<String>) -> ScatterChart {
        ScatterChart {
            title: title.into(),
            ..ScatterChart::default()
        }
    }

    /// Groups `points` by integer `labels` (e.g. digits): group `k` holds
    /// the points labelled `k` and is named `"k"`, for every `k` from 0 to
    /// the largest label, so label `k` always has palette colour `k`.
    pub fn from_labels(
        title: impl Into<String>,
        points: &[(f64, f64)],
        labels: &[usize],
    ) -> Result<ScatterChart, PlotError> {
        if points.len() != labels.len() {
            return Err(PlotError::LengthMismatch {
                what: "labels of the scatter points".to_string(),
                expected: points.len(),
                found: labels.len(),
            });
        }
        let n = labels.iter().max().map_or(0, |m| m + 1);
        let mut groups: Vec<(String, Vec<(f64, f64)>)> =
            (0..n).map(|k| (k.to_string(), Vec::new())).collect();
        for (p, &l) in points.iter().zip(labels) {
            groups[l].1.push(*p);
        }
        Ok(ScatterChart {
            title: title.into(),
            groups,
            ..ScatterChart::default()
        })
    }

    /// Sets the x axis label.
    pub fn x_label(mut self, label: impl Into<String>) -> ScatterChart {
        self.x_label = label.into();
        self
    }

    /// Sets the y axis label.
    pub fn y_label(mut self, label: impl Into<String>) -> ScatterChart {
        self.y_label = label.into();
        self
    }

    /// Adds a group.
    pub fn group(mut self, name: impl Into<String>, points: Vec<(f64, f64)>) -> ScatterChart {
        self.groups.push((name.into(), points));
        self
    }

    /// Sets the marker radius in pixels.
    pub fn point_size(mut self, radius: u32) -> ScatterChart {
        self.point_size = radius;
        self
    }

    /// Sets the visible x range.
    pub fn x_range(mut self, min: f64, max: f64) -> ScatterChart {
        self.x_range = Some((min, max));
        self
    }

    /// Sets the visible y range.
    pub fn y_range(mut self, min: f64, max: f64) -> ScatterChart {
        self.y_range = Some((min, max));
        self
    }

    /// Sets the legend position.
    pub fn legend(mut self, position: LegendPosition) -> ScatterChart {
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

    pub(crate) fn validate(&self) -> Result<(), PlotError> {
        if self.groups.iter().all(|(_, p)| p.is_empty()) {
            return Err(PlotError::Empty {
                what: format!("scatter chart {:?}", self.title),
            });
        }
        if !(1..=50).contains(&self.point_size) {
            return Err(PlotError::InvalidInput(format!(
                "point_size {} of scatter chart {:?} must be between 1 and 50",
                self.point_size, self.title
            )));
        }
        for (name, points) in &self.groups {
            for (i, &(x, y)) in points.iter().enumerate() {
                for v in [x, y] {
                    if !v.is_finite() {
                        let what = if self.title.is_empty() {
                            format!("group {name:?}")
                        } else {
                            format!("group {name:?} in chart {:?}", self.title)
                        };
                        return Err(PlotError::NonFinite {
                            what,
                            index: i,
                            value: v,
                        });
                    }
                }
            }
        }
        check_range("x_range", self.x_range, false, &self.title)?;
        check_range("y_range", self.y_range, false, &self.title)?;
        Ok(())
    }

    pub(crate) fn draw(&self, area: &Area) -> Result<(), PlotError> {
        let all = || self.groups.iter().flat_map(|(_, p)| p.iter());
        let extent = |f: fn(&(f64, f64)) -> f64| {
            let (a, b) = all()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(v), b.max(v))
                });
            padded_range(a, b)
        };
        let x = self.x_range.unwrap_or_else(|| extent(|p| p.0));
        let y = self.y_range.unwrap_or_else(|| extent(|p| p.1));
        let entries = self
            .groups
            .iter()
            .enumerate()
            .filter(|(_, (name, points))| !name.is_empty() && !points.is_empty())
            .map(|(i, (name, _))| LegendEntry {
                label: name.clone(),
                color: rgb(i),
                glyph: Glyph::Marker,
            })
            .collect();
        let occupancy = all().map(|p| vec![*p]).collect();
        let axes = Axes {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
            x,
            y,
            y_log: false,
            legend: self.legend,
            entries,
            occupancy,
        };
        let r = self.point_size;
        draw_cartesian(area, &axes, |plot| {
            for (i, (_, points)) in self.groups.iter().enumerate() {
                let style = rgb(i).mix(0.8).filled();
                for p in points.iter().filter(|p| plot.rect.contains(**p)) {
                    plot.draw(&Circle::new(*p, r, style))?;
                }
            }
            Ok(())
        })
    }
}
