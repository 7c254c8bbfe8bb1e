//! Shared drawing of a cartesian panel: title, axes with nice ticks, grid,
//! plot frame and a legend in a white box.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::geom::Rect;
use crate::style::{
    label_text, tick_text, title_text, LegendPosition, LineStyle, TITLE_SIZE, WHITE,
};
use crate::text::{HAlign, VAlign};
use crate::ticks::Axis;
use crate::PlotError;

pub(crate) type Area<'b> = DrawingArea<BitMapBackend<'b>, Shift>;
pub(crate) type Coord = Cartesian2d<Axis, Axis>;
pub(crate) type Chart<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Coord>;

/// Dash and gap length of dashed lines in pixels.
pub(crate) const DASH: (i32, i32) = (10, 6);
/// Opacity of band fills.
pub(crate) const BAND_ALPHA: f64 = 0.22;

const TITLE_H: u32 = TITLE_SIZE as u32 + 16;
const LEGEND_PAD: i32 = 8;
const LEGEND_ROW: i32 = 21;
const LEGEND_GLYPH: i32 = 30;
const LEGEND_INSET: i32 = 10;

/// What a legend entry shows next to its label.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Glyph {
    Line(LineStyle),
    LineOverBand(LineStyle),
    Band,
    Marker,
}

#[derive(Debug, Clone)]
pub(crate) struct LegendEntry {
    pub label: String,
    pub color: RGBColor,
    pub glyph: Glyph,
}

/// Everything [`draw_cartesian`] needs besides the data drawing itself.
pub(crate) struct Axes<'s> {
    pub title: &'s str,
    pub x_label: &'s str,
    pub y_label: &'s str,
    /// Visible x range (drawing space).
    pub x: (f64, f64),
    /// Visible y range (drawing space: log10 of the value when `y_log`).
    pub y: (f64, f64),
    pub y_log: bool,
    pub legend: LegendPosition,
    pub entries: Vec<LegendEntry>,
    /// Data geometry (drawing space) the legend should avoid: polylines, and
    /// single points as one-element vectors.
    pub occupancy: Vec<Vec<(f64, f64)>>,
}

/// Draws a bold title centred at the top of `area`, shrunk to fit its
/// width if needed, and returns the area below it.
pub(crate) fn draw_title<'b>(area: &Area<'b>, title: &str) -> Result<Area<'b>, PlotError> {
    let (w, _) = area.dim_in_pixel();
    let (top, body) = area.split_vertically(TITLE_H);
    let mut style = title_text();
    let (tw, _) = style.measure(title)?;
    let avail = f64::from(w.saturating_sub(16).max(1));
    if tw > avail {
        style = style.resized((TITLE_SIZE * avail / tw).max(10.0));
    }
    style.draw(
        &top,
        title,
        (w as i32 / 2, TITLE_H as i32 / 2 + 1),
        (HAlign::Center, VAlign::Center),
        false,
    )?;
    Ok(body)
}

struct LegendBox {
    w: i32,
    h: i32,
}

fn legend_box(entries: &[LegendEntry]) -> Result<Option<LegendBox>, PlotError> {
    if entries.is_empty() {
        return Ok(None);
    }
    let style = tick_text();
    let mut text_w = 0;
    for e in entries {
        text_w = text_w.max(style.measure(&e.label)?.0 as i32);
    }
    Ok(Some(LegendBox {
        w: 2 * LEGEND_PAD + LEGEND_GLYPH + 8 + text_w,
        h: 2 * LEGEND_PAD + LEGEND_ROW * entries.len() as i32 - 4,
    }))
}

fn draw_legend(
    area: &Area,
    (x, y): (i32, i32),
    b: &LegendBox,
    entries: &[LegendEntry],
) -> Result<(), PlotError> {
    let d = |e| PlotError::draw(e);
    area.draw(&Rectangle::new(
        [(x, y), (x + b.w, y + b.h)],
        WHITE.filled(),
    ))
    .map_err(d)?;
    area.draw(&Rectangle::new(
        [(x, y), (x + b.w, y + b.h)],
        RGBColor(190, 190, 190),
    ))
    .map_err(d)?;
    let text = tick_text();
    for (i, e) in entries.iter().enumerate() {
        let cy = y + LEGEND_PAD + LEGEND_ROW * i as i32 + (LEGEND_ROW - 4) / 2;
        let gx0 = x + LEGEND_PAD;
        let gx1 = gx0 + LEGEND_GLYPH;
        let line = |style: LineStyle| {
            let y = cy as f64 - 1.0;
            stroke(area, &[(gx0 as f64, y), (gx1 as f64, y)], e.color, style)
        };
        let band = || {
            area.draw(&Rectangle::new(
                [(gx0, cy - 6), (gx1, cy + 6)],
                e.color.mix(BAND_ALPHA + 0.1).filled(),
            ))
            .map_err(d)
        };
        match e.glyph {
            Glyph::Line(s) => line(s)?,
            Glyph::LineOverBand(s) => {
                band()?;
                line(s)?;
            }
            Glyph::Band => band()?,
            Glyph::Marker => {
                area.draw(&Circle::new(((gx0 + gx1) / 2, cy), 5, e.color.filled()))
                    .map_err(d)?;
            }
        }
        text.draw(
            area,
            &e.label,
            (gx1 + 8, cy),
            (HAlign::Left, VAlign::Center),
            false,
        )?;
    }
    Ok(())
}

/// Splits a pixel polyline into dashes of `on` px separated by `off` px
/// gaps; the pattern runs on across vertices.
pub(crate) fn dashes(points: &[(f64, f64)], on: f64, off: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let Some(&first) = points.first() else {
        return out;
    };
    let mut drawing = true;
    let mut left = on;
    let mut current = vec![first];
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut pos = 0.0;
        while pos < len {
            let step = left.min(len - pos);
            pos += step;
            left -= step;
            let t = pos / len;
            let p = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            if drawing {
                current.push(p);
            }
            if left <= 1e-9 {
                if drawing {
                    out.push(std::mem::take(&mut current));
                    left = off;
                } else {
                    current = vec![p];
                    left = on;
                }
                drawing = !drawing;
            }
        }
    }
    if drawing && current.len() > 1 {
        out.push(current);
    }
    out
}

/// Strokes a pixel polyline about 2 px wide: each segment is
/// drawn as two anti-aliased 1 px lines one pixel apart (across the
/// segment's main direction), which looks smoother than plotters' polygon
/// fill for wide lines.
pub(crate) fn stroke(
    area: &Area,
    points: &[(f64, f64)],
    color: RGBColor,
    style: LineStyle,
) -> Result<(), PlotError> {
    let runs = match style {
        LineStyle::Solid => vec![points.to_vec()],
        LineStyle::Dashed => dashes(points, DASH.0 as f64, DASH.1 as f64),
    };
    let pen = color.stroke_width(1);
    for run in runs {
        for w in run.windows(2) {
            let a = (w[0].0.round() as i32, w[0].1.round() as i32);
            let b = (w[1].0.round() as i32, w[1].1.round() as i32);
            let (dx, dy) = ((b.0 - a.0).abs(), (b.1 - a.1).abs());
            let off = if dx >= dy { (0, 1) } else { (1, 0) };
            area.draw(&PathElement::new(vec![a, b], pen))
                .map_err(PlotError::draw)?;
            area.draw(&PathElement::new(
                vec![(a.0 + off.0, a.1 + off.1), (b.0 + off.0, b.1 + off.1)],
                pen,
            ))
            .map_err(PlotError::draw)?;
        }
    }
    Ok(())
}

/// What the data-drawing callback of [`draw_cartesian`] gets: the chart
/// (data coordinates) and the visible rectangle for clipping.
pub(crate) struct Plot<'x, 'a, 'b> {
    pub chart: &'x Chart<'a, 'b>,
    pub rect: Rect,
    pixels: Area<'b>,
    base: (i32, i32),
}

impl<'b> Plot<'_, '_, 'b> {
    /// Strokes a data-space polyline (already clipped).
    pub fn line(
        &self,
        points: &[(f64, f64)],
        color: RGBColor,
        style: LineStyle,
    ) -> Result<(), PlotError> {
        let px: Vec<(f64, f64)> = points
            .iter()
            .map(|p| {
                let (x, y) = self.chart.backend_coord(p);
                ((x - self.base.0) as f64, (y - self.base.1) as f64)
            })
            .collect();
        stroke(&self.pixels, &px, color, style)
    }

    /// Draws any plotters element in data coordinates.
    pub fn draw<'e, E>(&self, element: &'e E) -> Result<(), PlotError>
    where
        &'e E: plotters::element::PointCollection<'e, (f64, f64)>,
        E: plotters::element::Drawable<BitMapBackend<'b>>,
    {
        self.chart
            .plotting_area()
            .draw(element)
            .map_err(PlotError::draw)
    }
}

/// Our axes are plotters coordinates over exactly our range. Grid lines,
/// ticks and labels are drawn by [`draw_axes`], not by plotters' mesh.
impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.lo) / (self.hi - self.lo);
        let len = (limit.1 - limit.0) as f64;
        let p = limit.0 as f64 + len * t;
        p.round().clamp(-1e6, 1e6) as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Pixel layout of the chart inside `chart_area`, and the axes.
struct Layout {
    x_axis: Axis,
    y_axis: Axis,
    x_area: u32,
    y_area: u32,
    top: u32,
    right: u32,
    /// Widest y tick label in pixels.
    y_tick_w: i32,
    /// Height of a tick label in pixels.
    tick_h: i32,
}

const MARGIN_LEFT: u32 = 6;
const MARGIN_BOTTOM: u32 = 4;
/// Length of the tick marks outside the plot frame.
const TICK_LEN: i32 = 5;
/// Distance from the frame to the tick labels.
const TICK_GAP: i32 = 8;
/// Distance between tick labels and the axis label.
const DESC_GAP: i32 = 7;

fn layout(chart_area: &Area, axes: &Axes) -> Result<Layout, PlotError> {
    let (cw, ch) = chart_area.dim_in_pixel();
    let tick = tick_text();
    let tick_h = tick.measure("0")?.1 as i32;
    let desc_h = label_text().measure("0")?.1 as i32;
    let x_area = (TICK_GAP
        + tick_h
        + if axes.x_label.is_empty() {
            4
        } else {
            DESC_GAP + desc_h + 4
        }) as u32;
    let top = 12;
    let too_small = || {
        PlotError::InvalidInput(format!(
            "a {cw}x{ch} px panel is too small for chart {:?}",
            axes.title
        ))
    };
    let plot_h = ch as i64 - (x_area + top + MARGIN_BOTTOM) as i64;
    if plot_h < 30 {
        return Err(too_small());
    }
    let y_axis = Axis::new(axes.y.0, axes.y.1, axes.y_log, (plot_h / 50) as usize);
    let mut y_tick_w = 0;
    for l in &y_axis.labels {
        y_tick_w = y_tick_w.max(tick.measure(l)?.0 as i32);
    }
    let y_area = (TICK_GAP
        + y_tick_w
        + if axes.y_label.is_empty() {
            6
        } else {
            DESC_GAP + desc_h + 4
        }) as u32;
    // First guess of the right margin, then fit the x tick labels.
    let mut right = 16;
    let mut max_ticks = 10usize;
    loop {
        let plot_w = cw as i64 - (MARGIN_LEFT + y_area + right) as i64;
        if plot_w < 30 {
            return Err(too_small());
        }
        max_ticks = max_ticks.min((plot_w / 65).max(2) as usize);
        let x_axis = Axis::new(axes.x.0, axes.x.1, false, max_ticks);
        let mut widest = 0;
        for l in &x_axis.labels {
            widest = widest.max(tick.measure(l)?.0 as i64);
        }
        let last_w = match x_axis.labels.last() {
            Some(l) => tick.measure(l)?.0 as u32,
            None => 0,
        };
        let needed_right = (last_w / 2 + 6).max(16);
        let spacing = if x_axis.ticks.len() > 1 {
            plot_w / (x_axis.ticks.len() as i64 - 1).max(1)
        } else {
            plot_w
        };
        if needed_right > right {
            right = needed_right;
            continue;
        }
        if widest + 12 > spacing && max_ticks > 2 {
            max_ticks -= 1;
            continue;
        }
        return Ok(Layout {
            x_axis,
            y_axis,
            x_area,
            y_area,
            top,
            right,
            y_tick_w,
            tick_h,
        });
    }
}

/// Grid lines, tick marks, tick labels and axis labels around the plot.
fn draw_axes(area: &Area, chart: &Chart, l: &Layout, axes: &Axes) -> Result<(), PlotError> {
    let d = |e| PlotError::draw(e);
    let (bx, by) = area.get_base_pixel();
    let (x0, y0, x1, y1) = plot_pixels(chart);
    // Inclusive pixel bounds of the plot in `area` coordinates.
    let (x0, y0, x1, y1) = (x0 - bx, y0 - by, x1 - 1 - bx, y1 - 1 - by);
    let xpix = |t: f64| chart.backend_coord(&(t, l.y_axis.lo)).0 - bx;
    let ypix = |t: f64| chart.backend_coord(&(l.x_axis.lo, t)).1 - by;
    let line = |a: (i32, i32), b: (i32, i32), c: RGBColor| {
        area.draw(&PathElement::new(vec![a, b], c)).map_err(d)
    };
    let (light, grid, axis) = (
        RGBColor(240, 240, 240),
        RGBColor(222, 222, 222),
        RGBColor(90, 90, 90),
    );
    for (ticks, color) in [(&l.x_axis.minor, light), (&l.x_axis.ticks, grid)] {
        for x in ticks
            .iter()
            .map(|t| xpix(*t))
            .filter(|x| (x0..=x1).contains(x))
        {
            line((x, y0), (x, y1), color)?;
        }
    }
    for (ticks, color) in [(&l.y_axis.minor, light), (&l.y_axis.ticks, grid)] {
        for y in ticks
            .iter()
            .map(|t| ypix(*t))
            .filter(|y| (y0..=y1).contains(y))
        {
            line((x0, y), (x1, y), color)?;
        }
    }
    let tick = tick_text();
    for (t, label) in l.x_axis.ticks.iter().zip(&l.x_axis.labels) {
        let x = xpix(*t);
        line((x, y1 + 1), (x, y1 + TICK_LEN), axis)?;
        let at = (x, y1 + TICK_GAP);
        tick.draw(area, label, at, (HAlign::Center, VAlign::Top), false)?;
    }
    for (t, label) in l.y_axis.ticks.iter().zip(&l.y_axis.labels) {
        let y = ypix(*t);
        line((x0 - TICK_LEN, y), (x0 - 1, y), axis)?;
        let at = (x0 - TICK_GAP, y);
        tick.draw(area, label, at, (HAlign::Right, VAlign::Center), false)?;
    }
    let desc = label_text();
    if !axes.x_label.is_empty() {
        let at = ((x0 + x1) / 2, y1 + TICK_GAP + l.tick_h + DESC_GAP);
        desc.draw(area, axes.x_label, at, (HAlign::Center, VAlign::Top), false)?;
    }
    if !axes.y_label.is_empty() {
        let at = (x0 - TICK_GAP - l.y_tick_w - DESC_GAP, (y0 + y1) / 2);
        desc.draw(
            area,
            axes.y_label,
            at,
            (HAlign::Right, VAlign::Center),
            true,
        )?;
    }
    Ok(())
}

fn build<'a, 'b>(chart_area: &'a Area<'b>, l: &Layout) -> Result<Chart<'a, 'b>, PlotError> {
    ChartBuilder::on(chart_area)
        .margin_top(l.top)
        .margin_bottom(MARGIN_BOTTOM)
        .margin_left(MARGIN_LEFT)
        .margin_right(l.right)
        .x_label_area_size(l.x_area)
        .y_label_area_size(l.y_area)
        .build_cartesian_2d(l.x_axis.clone(), l.y_axis.clone())
        .map_err(PlotError::draw)
}

/// Absolute pixel rectangle `(x0, y0, x1, y1)` (exclusive ends) of the plot.
fn plot_pixels(chart: &Chart) -> (i32, i32, i32, i32) {
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    (xr.start, yr.start, xr.end, yr.end)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Corner {
    UpperRight,
    UpperLeft,
    LowerRight,
    LowerLeft,
}

/// Absolute top-left of the legend box in `corner` of the plot.
fn corner_origin(plot: (i32, i32, i32, i32), b: &LegendBox, corner: Corner) -> (i32, i32) {
    let (x0, y0, x1, y1) = plot;
    let left = x0 + LEGEND_INSET;
    let right = x1 - LEGEND_INSET - b.w;
    let top = y0 + LEGEND_INSET;
    let bottom = y1 - LEGEND_INSET - b.h;
    match corner {
        Corner::UpperRight => (right, top),
        Corner::UpperLeft => (left, top),
        Corner::LowerRight => (right, bottom),
        Corner::LowerLeft => (left, bottom),
    }
}

/// How many samples of the data geometry fall under a legend at `corner`.
fn covered(
    chart: &Chart,
    occupancy: &[Vec<(f64, f64)>],
    plot: (i32, i32, i32, i32),
    b: &LegendBox,
    corner: Corner,
) -> usize {
    let (ox, oy) = corner_origin(plot, b, corner);
    let (rx0, ry0, rx1, ry1) = (ox - 4, oy - 4, ox + b.w + 4, oy + b.h + 4);
    let inside =
        |x: f64, y: f64| x >= rx0 as f64 && x <= rx1 as f64 && y >= ry0 as f64 && y <= ry1 as f64;
    let mut count = 0;
    for poly in occupancy {
        let px: Vec<(f64, f64)> = poly
            .iter()
            .map(|p| {
                let (x, y) = chart.backend_coord(p);
                (x as f64, y as f64)
            })
            .collect();
        if px.len() == 1 {
            count += usize::from(inside(px[0].0, px[0].1));
            continue;
        }
        for w in px.windows(2) {
            let (a, c) = (w[0], w[1]);
            let len = ((c.0 - a.0).powi(2) + (c.1 - a.1).powi(2)).sqrt();
            let steps = (len / 3.0).ceil().max(1.0) as usize;
            for s in 0..=steps {
                let t = s as f64 / steps as f64;
                count += usize::from(inside(a.0 + t * (c.0 - a.0), a.1 + t * (c.1 - a.1)));
            }
        }
    }
    count
}

enum Placement {
    None,
    Inside(Corner),
    Outside,
}

/// Where the legend goes. `Auto` needs the pixel layout: the first corner
/// that hides no data, else outside on the right; when outside would leave
/// the plot less than half the width, the corner hiding the least data.
fn place_legend(
    body: &Area<'_>,
    axes: &Axes,
    legend: Option<&LegendBox>,
) -> Result<Placement, PlotError> {
    let Some(b) = legend else {
        return Ok(Placement::None);
    };
    let mut least_hidden = Corner::UpperRight;
    let placement = match axes.legend {
        LegendPosition::Hidden => Placement::None,
        LegendPosition::UpperLeft => Placement::Inside(Corner::UpperLeft),
        LegendPosition::UpperRight => Placement::Inside(Corner::UpperRight),
        LegendPosition::LowerLeft => Placement::Inside(Corner::LowerLeft),
        LegendPosition::LowerRight => Placement::Inside(Corner::LowerRight),
        LegendPosition::OutsideRight => Placement::Outside,
        LegendPosition::Auto => {
            let full = layout(body, axes)?;
            let chart = build(body, &full)?;
            let plot = plot_pixels(&chart);
            let (pw, ph) = (plot.2 - plot.0, plot.3 - plot.1);
            let (corner, hidden) = [
                Corner::UpperRight,
                Corner::UpperLeft,
                Corner::LowerRight,
                Corner::LowerLeft,
            ]
            .into_iter()
            .map(|c| (c, covered(&chart, &axes.occupancy, plot, b, c)))
            .min_by_key(|(_, n)| *n)
            .unwrap_or((Corner::UpperRight, 0));
            least_hidden = corner;
            let large = b.w as f64 > 0.4 * pw as f64 || b.h as f64 > 0.55 * ph as f64;
            if hidden == 0 && !large {
                Placement::Inside(corner)
            } else {
                Placement::Outside
            }
        }
    };
    let (bw, _) = body.dim_in_pixel();
    // Keep at least half the width for the plot itself.
    if matches!(placement, Placement::Outside) && (b.w + 2 * LEGEND_INSET) as u32 > bw / 2 {
        return Ok(Placement::Inside(least_hidden));
    }
    Ok(placement)
}

/// Draws title, axes, grid and legend around the data that `draw_data`
/// draws (in drawing space; it gets the visible rectangle for clipping).
pub(crate) fn draw_cartesian<'b>(
    area: &Area<'b>,
    axes: &Axes,
    draw_data: impl FnOnce(&Plot<'_, '_, 'b>) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    let d = |e| PlotError::draw(e);
    let body = if axes.title.is_empty() {
        area.clone()
    } else {
        draw_title(area, axes.title)?
    };
    let legend = match axes.legend {
        LegendPosition::Hidden => None,
        _ => legend_box(&axes.entries)?,
    };
    let (bw, _) = body.dim_in_pixel();

    let placement = place_legend(&body, axes, legend.as_ref())?;

    let (chart_area, legend_area) = match (&placement, &legend) {
        (Placement::Outside, Some(b)) => {
            let (c, l) = body.split_horizontally(bw - (b.w + LEGEND_INSET + 6) as u32);
            (c, Some(l))
        }
        _ => (body.clone(), None),
    };
    let l = layout(&chart_area, axes)?;
    let chart = build(&chart_area, &l)?;
    draw_axes(&chart_area, &chart, &l, axes)?;
    let rect = Rect {
        x0: l.x_axis.lo,
        x1: l.x_axis.hi,
        y0: l.y_axis.lo,
        y1: l.y_axis.hi,
    };
    let pixels = chart.plotting_area().strip_coord_spec();
    let base = pixels.get_base_pixel();
    draw_data(&Plot {
        chart: &chart,
        rect,
        pixels,
        base,
    })?;

    // Frame around the plot, drawn over the data's edges.
    let plot = plot_pixels(&chart);
    let (bx, by) = body.get_base_pixel();
    body.draw(&Rectangle::new(
        [
            (plot.0 - bx, plot.1 - by),
            (plot.2 - 1 - bx, plot.3 - 1 - by),
        ],
        RGBColor(90, 90, 90),
    ))
    .map_err(d)?;

    if let Some(b) = &legend {
        match placement {
            Placement::None => {}
            Placement::Inside(corner) => {
                let (ox, oy) = corner_origin(plot, b, corner);
                draw_legend(&body, (ox - bx, oy - by), b, &axes.entries)?;
            }
            Placement::Outside => {
                if let Some(la) = &legend_area {
                    let (_, ly) = la.get_base_pixel();
                    let (_, lh) = la.dim_in_pixel();
                    let y = (plot.1 - ly).min(lh as i32 - b.h - 1).max(0);
                    draw_legend(la, (6, y), b, &axes.entries)?;
                }
            }
        }
    }
    Ok(())
}
