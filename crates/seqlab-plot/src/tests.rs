//! End-to-end tests: render real PNGs, decode them and check the pixels.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::*;

/// A unique scratch folder under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "seqlab-plot-test-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    /// Names of all entries in the folder (temporary files included).
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A decoded RGB image.
struct Img {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Img {
    fn at(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let o = (y * self.w + x) * 3;
        (self.px[o], self.px[o + 1], self.px[o + 2])
    }

    fn pixels(&self) -> impl Iterator<Item = (u8, u8, u8)> + '_ {
        self.px.chunks(3).map(|c| (c[0], c[1], c[2]))
    }

    fn count(&self, pred: impl Fn((u8, u8, u8)) -> bool) -> usize {
        self.pixels().filter(|p| pred(*p)).count()
    }

    fn count_near(&self, color: (u8, u8, u8), tol: i32) -> usize {
        self.count(|p| near(p, color, tol))
    }

    fn non_white(&self) -> usize {
        self.count(|p| p != (255, 255, 255))
    }

    fn distinct(&self) -> usize {
        self.pixels().collect::<HashSet<_>>().len()
    }

    /// Bounding box `(x0, y0, x1, y1)` (inclusive) of the matching pixels.
    fn bbox(&self, pred: impl Fn((u8, u8, u8)) -> bool) -> Option<(usize, usize, usize, usize)> {
        let mut b: Option<(usize, usize, usize, usize)> = None;
        for y in 0..self.h {
            for x in 0..self.w {
                if pred(self.at(x, y)) {
                    b = Some(match b {
                        None => (x, y, x, y),
                        Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
                    });
                }
            }
        }
        b
    }
}

fn near(p: (u8, u8, u8), c: (u8, u8, u8), tol: i32) -> bool {
    (p.0 as i32 - c.0 as i32).abs() <= tol
        && (p.1 as i32 - c.1 as i32).abs() <= tol
        && (p.2 as i32 - c.2 as i32).abs() <= tol
}

fn decode(bytes: &[u8]) -> Img {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().expect("valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("valid PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    Img {
        w: info.width as usize,
        h: info.height as usize,
        px: buf,
    }
}

fn decode_file(path: &Path) -> Img {
    decode(&std::fs::read(path).expect("PNG file exists"))
}

fn rgb_img(fig: &Figure) -> Img {
    let (w, h) = fig.size();
    Img {
        w: w as usize,
        h: h as usize,
        px: fig.render_rgb().unwrap(),
    }
}

fn two_series_chart() -> LineChart {
    let x: Vec<f64> = (0..50).map(f64::from).collect();
    let a: Vec<f64> = x.iter().map(|v| (v / 8.0).sin()).collect();
    let b: Vec<f64> = x.iter().map(|v| (v / 8.0).cos() * 0.8).collect();
    LineChart::new("Two series")
        .x_label("step")
        .y_label("value")
        .series(Series::from_xy("sin", &x, &a).unwrap().color(0))
        .series(Series::from_xy("cos", &x, &b).unwrap().color(3))
}

#[test]
fn line_chart_png_has_requested_size_and_content() {
    let dir = Scratch::new("line");
    let path = dir.path("line.png");
    two_series_chart().save_png(&path, 640, 450).unwrap();
    let img = decode_file(&path);
    assert_eq!((img.w, img.h), (640, 450));
    assert!(
        img.non_white() > img.w * img.h / 50,
        "only {} non-white pixels",
        img.non_white()
    );
    assert!(img.distinct() > 20, "only {} colours", img.distinct());
    assert_eq!(dir.entries(), vec!["line.png".to_string()]);
}

#[test]
fn two_series_show_both_palette_colours() {
    let img = decode(
        &two_series_chart()
            .legend(LegendPosition::Hidden)
            .render_png(640, 450)
            .unwrap(),
    );
    for c in [palette_color(0), palette_color(3)] {
        let n = img.count_near(c, 0);
        assert!(n > 100, "colour {c:?} appears in only {n} pixels");
    }
    // A colour that is not used must not appear.
    assert_eq!(img.count_near(palette_color(2), 0), 0);
}

#[test]
fn automatic_colours_skip_explicit_ones_and_bands_follow_their_series() {
    let chart = LineChart::new("c")
        .series(Series::from_y("a", &[1.0, 2.0]).color(0))
        .series(Series::from_y("b", &[1.0, 2.0]))
        .series(Series::from_y("c", &[1.0, 2.0]))
        .band(Band::new(
            "b",
            vec![0.0, 1.0],
            vec![0.5, 1.5],
            vec![1.5, 2.5],
        ))
        .band(Band::new(
            "other",
            vec![0.0, 1.0],
            vec![0.5, 1.5],
            vec![1.5, 2.5],
        ));
    let (series, bands) = chart.colors();
    assert_eq!(series, vec![0, 1, 2]);
    assert_eq!(bands, vec![1, 3]);
}

/// Runs of consecutive pixels near `color` along row `y`: (start, length).
fn runs(img: &Img, y: usize, color: (u8, u8, u8)) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for x in 0..img.w {
        let on = near(img.at(x, y), color, 40);
        match (on, start) {
            (true, None) => start = Some(x),
            (false, Some(s)) => {
                out.push((s, x - s));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, img.w - s));
    }
    out
}

fn horizontal_line_runs(style: LineStyle) -> Vec<(usize, usize)> {
    let chart = LineChart::new("")
        .series(Series::new("h", vec![(0.0, 0.5), (10.0, 0.5)]).style(style))
        .x_range(0.0, 10.0)
        .y_range(0.0, 1.0)
        .legend(LegendPosition::Hidden);
    let img = rgb_img(&Figure::new(640, 300).panel(chart));
    let c = palette_color(0);
    let row = (0..img.h)
        .max_by_key(|&y| (0..img.w).filter(|&x| near(img.at(x, y), c, 40)).count())
        .unwrap();
    runs(&img, row, c)
}

#[test]
fn dashed_lines_have_gaps_and_solid_lines_do_not() {
    let dashed = horizontal_line_runs(LineStyle::Dashed);
    assert!(
        dashed.len() >= 15,
        "only {} dashes: {dashed:?}",
        dashed.len()
    );
    for w in dashed.windows(2) {
        let gap = w[1].0 - (w[0].0 + w[0].1);
        assert!((4..=10).contains(&gap), "gap of {gap} px in {dashed:?}");
    }
    // All dashes but the last (which may be cut short) are about 10 px.
    for &(_, len) in &dashed[..dashed.len() - 1] {
        assert!((8..=13).contains(&len), "dash of {len} px in {dashed:?}");
    }
    let solid = horizontal_line_runs(LineStyle::Solid);
    assert_eq!(solid.len(), 1, "solid line is broken: {solid:?}");
    assert!(solid[0].1 > 400);
}

#[test]
fn explicit_range_clips_lines_to_the_plot() {
    // The series leaves the y range upwards; nothing of it may appear in
    // the top 40 px (title area) or outside the plot frame.
    let chart = LineChart::new("Clipped")
        .series(Series::new("s", vec![(0.0, 0.0), (1.0, 10.0), (2.0, 0.0)]))
        .y_range(0.0, 1.0)
        .legend(LegendPosition::Hidden);
    let img = rgb_img(&Figure::new(500, 400).panel(chart));
    let c = palette_color(0);
    let (_, y0, _, _) = img.bbox(|p| near(p, c, 40)).expect("line visible");
    assert!(y0 > 45, "line drawn up to y = {y0}");
}

#[test]
fn constant_series_and_single_point_render() {
    let chart = LineChart::new("Constant")
        .series(Series::from_y("flat", &[0.7; 5]))
        .series(Series::new("one point", vec![(2.0, 0.71)]));
    let img = decode(&chart.render_png(500, 350).unwrap());
    assert!(img.count_near(palette_color(0), 0) > 100);
    assert!(img.count_near(palette_color(1), 30) > 5);
    // The flat line lies near the vertical middle of the figure.
    let (_, y0, _, y1) = img.bbox(|p| p == palette_color(0)).unwrap();
    let mid = (y0 + y1) / 2;
    assert!(mid > 100 && mid < 300, "flat line at y = {mid}");
}

#[test]
fn log_axis_renders_and_rejects_non_positive_values() {
    let chart = LineChart::new("Log")
        .series(Series::from_y("loss", &[10.0, 1.0, 0.1, 0.01]))
        .log_y(true);
    let img = decode(&chart.render_png(500, 350).unwrap());
    assert!(img.count_near(palette_color(0), 0) > 50);
    let bad = chart.series(Series::from_y("zero", &[1.0, 0.0]));
    match bad.render_png(500, 350) {
        Err(PlotError::InvalidInput(m)) => {
            assert!(m.contains("zero") && m.contains("index 1"), "{m}")
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn bands_are_translucent_and_behind_the_mean_line() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let chart = LineChart::new("Band")
        .mean_with_band("m", &x, &[0.5; 4], &[0.2; 4], &[0.8; 4])
        .unwrap()
        .legend(LegendPosition::Hidden);
    let img = rgb_img(&Figure::new(500, 350).panel(chart));
    let (r, g, b) = palette_color(0);
    let a = 0.22;
    let blend = |c: u8| (c as f64 * a + 255.0 * (1.0 - a)).round() as u8;
    let fill = (blend(r), blend(g), blend(b));
    assert!(
        img.count_near(fill, 4) > 5000,
        "band fill {fill:?} covers {} px",
        img.count_near(fill, 4)
    );
    // The opaque mean line is drawn over the band.
    assert!(img.count_near(palette_color(0), 0) > 100);
}

#[test]
fn scatter_colours_points_by_group() {
    let pts: Vec<(f64, f64)> = (0..200)
        .map(|i| ((i % 20) as f64, (i / 20) as f64))
        .collect();
    let labels: Vec<usize> = (0..200).map(|i| if i % 20 < 10 { 0 } else { 4 }).collect();
    let chart = ScatterChart::from_labels("Latent", &pts, &labels)
        .unwrap()
        .point_size(4);
    assert_eq!(chart.groups.len(), 5, "groups 0..=4, some empty");
    let img = decode(&chart.render_png(640, 450).unwrap());
    assert_eq!((img.w, img.h), (640, 450));
    for k in [0, 4] {
        let (r, g, b) = palette_color(k);
        let blend = |c: u8| (c as f64 * 0.8 + 255.0 * 0.2).round() as u8;
        let c = (blend(r), blend(g), blend(b));
        assert!(img.count_near(c, 6) > 300, "group {k}");
    }
    // Empty groups draw nothing.
    let (r, g, b) = palette_color(2);
    assert_eq!(img.count_near((r, g, b), 30), 0);
}

/// Renders one image alone in a grid (no title, no captions) and returns
/// the decoded PNG.
fn lone_tile(image: GrayImage, w: u32, h: u32) -> Img {
    let grid = ImageGrid {
        images: vec![image],
        ..ImageGrid::default()
    };
    decode(&grid.render_png(w, h).unwrap())
}

#[test]
fn image_grid_keeps_orientation() {
    // White block in rows 0..4, columns 0..10 (wider than tall) of an
    // otherwise black 28x28 image.
    let img = GrayImage::from_fn(28, 28, |r, c| if r < 4 && c < 10 { 1.0 } else { 0.0 });
    let png = lone_tile(img, 300, 300);
    let (x0, y0, x1, y1) = png.bbox(|p| p == (0, 0, 0)).expect("black tile");
    let (tw, th) = (x1 - x0 + 1, y1 - y0 + 1);
    assert_eq!(tw, th, "tile is square");
    assert_eq!(tw % 28, 0, "integer upscaling");
    let f = tw / 28;
    assert!(f >= 5, "28x28 upscaled to {tw} px in a 300 px figure");
    let src = |r: usize, c: usize| png.at(x0 + c * f + f / 2, y0 + r * f + f / 2);
    assert_eq!(src(1, 8), (255, 255, 255), "top-left block is white");
    assert_eq!(src(3, 0), (255, 255, 255));
    assert_eq!(src(8, 1), (0, 0, 0), "not transposed");
    assert_eq!(src(1, 20), (0, 0, 0), "top-right is black");
    assert_eq!(src(20, 1), (0, 0, 0), "not flipped vertically");
    assert_eq!(src(27, 27), (0, 0, 0));
}

#[test]
fn image_grid_maps_every_pixel_exactly() {
    // 5 wide, 3 tall, every pixel a different gray (none white).
    let img = GrayImage::from_fn(5, 3, |r, c| (r * 5 + c) as f32 / 16.0);
    let png = lone_tile(img.clone(), 200, 200);
    let (x0, y0, x1, y1) = png.bbox(|p| p != (255, 255, 255)).expect("tile visible");
    let f = (x1 - x0 + 1) / 5;
    assert_eq!(x1 - x0 + 1, 5 * f);
    assert_eq!(y1 - y0 + 1, 3 * f, "3 rows tall, 5 columns wide");
    for r in 0..3 {
        for c in 0..5 {
            let g = (img.get(r, c) * 255.0).round() as u8;
            for (dx, dy) in [(0, 0), (f - 1, 0), (0, f - 1), (f - 1, f - 1)] {
                assert_eq!(
                    png.at(x0 + c * f + dx, y0 + r * f + dy),
                    (g, g, g),
                    "pixel ({r}, {c})"
                );
            }
        }
    }
}

#[test]
fn image_grid_lays_out_tiles_with_captions() {
    let digit = GrayImage::from_fn(28, 28, |r, _| if r == 14 { 1.0 } else { 0.0 });
    let mut grid = ImageGrid::new("Digits").columns(5);
    for i in 0..10 {
        grid = grid.image(digit.clone(), format!("#{i}"));
    }
    let png = decode(&grid.render_png(1000, 450).unwrap());
    // Count tiles as runs of black pixels along a row through the first
    // row of tiles.
    let (x0, y0, _, y1) = png.bbox(|p| p == (0, 0, 0)).unwrap();
    let row_y = y0 + 2;
    let mut tiles = 0;
    let mut inside = false;
    for x in x0..png.w {
        let black = png.at(x, row_y) == (0, 0, 0);
        if black && !inside {
            tiles += 1;
        }
        inside = black;
    }
    assert_eq!(tiles, 5, "five columns");
    // Tiles are at least 3x enlarged and the two rows stack vertically.
    let first_w = (x0..png.w)
        .take_while(|&x| png.at(x, row_y) == (0, 0, 0))
        .count();
    assert!(first_w >= 84, "tile only {first_w} px wide");
    assert!(y1 - y0 > 2 * first_w, "two rows of tiles");
    let (bx0, by0) = (x0, y0);
    // Captions: dark text pixels right below the first tile.
    let caption_px = (by0 + first_w..by0 + first_w + 22)
        .flat_map(|y| (bx0..bx0 + first_w).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = png.at(x, y);
            p.0 < 160 && p != (0, 0, 0)
        })
        .count();
    assert!(caption_px > 10, "caption under the tile ({caption_px} px)");
}

#[test]
fn figure_lays_out_panels_in_a_grid() {
    let dir = Scratch::new("figure");
    let path = dir.path("sub/fig.png");
    let scatter = ScatterChart::new("S").group("a", vec![(0.0, 0.0), (1.0, 1.0)]);
    let grid = ImageGrid::new("I").image(GrayImage::new(2, 2, vec![0.0, 1.0, 1.0, 0.0]), "x");
    Figure::new(1000, 800)
        .title("All")
        .grid(2, 2)
        .panel(two_series_chart())
        .panel(scatter)
        .panel(grid)
        .save_png(&path)
        .unwrap();
    let img = decode_file(&path);
    assert_eq!((img.w, img.h), (1000, 800));
    // Something is drawn in each of the three occupied quadrants and the
    // fourth stays white.
    let quadrant = |qx: usize, qy: usize| {
        let mut n = 0;
        for y in qy * 400 + 40..(qy + 1) * 400 {
            for x in qx * 500..(qx + 1) * 500 {
                n += usize::from(img.at(x, y) != (255, 255, 255));
            }
        }
        n
    };
    assert!(quadrant(0, 0) > 2000);
    assert!(quadrant(1, 0) > 2000);
    assert!(quadrant(0, 1) > 2000);
    assert_eq!(quadrant(1, 1), 0);
}

#[test]
fn figure_rejects_bad_grids() {
    let c = two_series_chart();
    let too_many = Figure::new(800, 400)
        .grid(1, 1)
        .panel(c.clone())
        .panel(c.clone());
    assert!(matches!(
        too_many.render_png(),
        Err(PlotError::InvalidInput(_))
    ));
    let zero = Figure::new(800, 400).grid(0, 2).panel(c.clone());
    assert!(matches!(zero.render_png(), Err(PlotError::InvalidInput(_))));
    assert!(matches!(
        Figure::new(800, 400).render_png(),
        Err(PlotError::Empty { .. })
    ));
    assert!(matches!(
        Figure::new(40, 30).panel(c).render_png(),
        Err(PlotError::InvalidInput(_))
    ));
}

/// Saves `chart` into a fresh folder, expects `check` to accept the error,
/// and verifies that the folder is still empty (no PNG, no temp file).
fn assert_fails_cleanly(chart: &LineChart, w: u32, h: u32, check: impl Fn(&PlotError) -> bool) {
    let dir = Scratch::new("fail");
    let err = chart
        .save_png(dir.path("plot.png"), w, h)
        .expect_err("drawing must fail");
    assert!(check(&err), "unexpected error: {err:?}");
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
}

#[test]
fn empty_series_is_rejected() {
    let chart = LineChart::new("Loss").series(Series::new("train", vec![]));
    assert_fails_cleanly(
        &chart,
        640,
        450,
        |e| matches!(e, PlotError::Empty { what } if what.contains("train") && what.contains("Loss")),
    );
    assert_fails_cleanly(&LineChart::new("Nothing"), 640, 450, |e| {
        matches!(e, PlotError::Empty { .. })
    });
}

#[test]
fn non_finite_values_name_series_and_index() {
    let chart = LineChart::new("Loss")
        .series(Series::from_y("ok", &[1.0, 2.0]))
        .series(Series::from_y("test", &[1.0, 0.5, f64::NAN, 0.2]));
    assert_fails_cleanly(
        &chart,
        640,
        450,
        |e| matches!(e, PlotError::NonFinite { what, index: 2, value } if what.contains("\"test\"") && value.is_nan()),
    );
    let msg = chart.render_png(640, 450).unwrap_err().to_string();
    assert!(msg.contains("test") && msg.contains("index 2"), "{msg}");
    let inf = LineChart::new("x").series(Series::new("s", vec![(f64::INFINITY, 1.0)]));
    assert_fails_cleanly(&inf, 640, 450, |e| {
        matches!(e, PlotError::NonFinite { index: 0, .. })
    });
}

#[test]
fn zero_size_is_rejected() {
    let chart = two_series_chart();
    assert_fails_cleanly(&chart, 0, 450, |e| {
        matches!(
            e,
            PlotError::ZeroSize {
                width: 0,
                height: 450
            }
        )
    });
    assert_fails_cleanly(&chart, 640, 0, |e| matches!(e, PlotError::ZeroSize { .. }));
}

#[test]
fn mismatched_lengths_are_rejected() {
    assert!(matches!(
        Series::from_xy("s", &[1.0, 2.0], &[1.0]),
        Err(PlotError::LengthMismatch {
            expected: 2,
            found: 1,
            ..
        })
    ));
    assert!(matches!(
        LineChart::new("c").mean_with_band("m", &[1.0, 2.0], &[1.0, 2.0], &[0.0], &[3.0, 3.0]),
        Err(PlotError::LengthMismatch { .. })
    ));
    let band = LineChart::new("c").band(Band::new("b", vec![1.0, 2.0], vec![0.0, 0.0], vec![1.0]));
    assert_fails_cleanly(
        &band,
        640,
        450,
        |e| matches!(e, PlotError::LengthMismatch { what, expected: 2, found: 1 } if what.contains("upper")),
    );
    let pixels = ImageGrid::new("g").image(GrayImage::new(3, 3, vec![0.0; 8]), "");
    assert!(matches!(
        pixels.render_png(300, 300),
        Err(PlotError::LengthMismatch {
            expected: 9,
            found: 8,
            ..
        })
    ));
    let captions = ImageGrid {
        images: vec![GrayImage::new(1, 1, vec![0.0]); 2],
        captions: vec!["only one".into()],
        ..ImageGrid::default()
    };
    assert!(matches!(
        captions.render_png(300, 300),
        Err(PlotError::LengthMismatch {
            expected: 2,
            found: 1,
            ..
        })
    ));
    assert!(matches!(
        ScatterChart::from_labels("s", &[(0.0, 0.0)], &[]),
        Err(PlotError::LengthMismatch { .. })
    ));
}

#[test]
fn invalid_images_and_ranges_are_rejected() {
    let nan = ImageGrid::new("g").image(GrayImage::new(2, 1, vec![0.0, f32::NAN]), "");
    assert!(matches!(
        nan.render_png(300, 300),
        Err(PlotError::NonFinite { index: 1, .. })
    ));
    let empty = ImageGrid::new("g").image(GrayImage::new(0, 5, vec![]), "");
    assert!(matches!(
        empty.render_png(300, 300),
        Err(PlotError::Empty { .. })
    ));
    let range = two_series_chart().y_range(1.0, 1.0);
    assert!(matches!(
        range.render_png(300, 300),
        Err(PlotError::InvalidInput(_))
    ));
    let scatter = ScatterChart::new("s").group("a", vec![]);
    assert!(matches!(
        scatter.render_png(300, 300),
        Err(PlotError::Empty { .. })
    ));
}

#[test]
fn failed_draw_leaves_existing_png_unchanged() {
    let dir = Scratch::new("keep");
    let path = dir.path("plot.png");
    two_series_chart().save_png(&path, 400, 300).unwrap();
    let before = std::fs::read(&path).unwrap();
    let bad = LineChart::new("bad").series(Series::from_y("s", &[1.0, f64::NAN]));
    assert!(bad.save_png(&path, 400, 300).is_err());
    assert!(bad.save_png(&path, 0, 300).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(dir.entries(), vec!["plot.png".to_string()]);
}

#[test]
fn write_errors_name_the_path() {
    let dir = Scratch::new("write");
    std::fs::write(dir.path("file"), b"not a folder").unwrap();
    let path = dir.path("file").join("plot.png");
    let err = two_series_chart().save_png(&path, 400, 300).unwrap_err();
    assert!(matches!(err, PlotError::Write { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(dir.entries(), vec!["file".to_string()]);
}

#[test]
fn legend_has_a_white_box_in_the_free_corner() {
    // Data only in the lower left; the legend goes to the upper right.
    let chart = LineChart::new("")
        .series(Series::new(
            "a long legend label",
            vec![(0.0, 0.0), (1.0, 0.1)],
        ))
        .x_range(0.0, 10.0)
        .y_range(0.0, 10.0);
    let img = rgb_img(&Figure::new(600, 400).panel(chart));
    // The legend's line glyph (palette colour 0) shows up in the upper right
    // quarter, next to the data in the lower left.
    let c = palette_color(0);
    let upper_right = (img.w / 2..img.w)
        .flat_map(|x| (0..img.h / 2).map(move |y| (x, y)))
        .filter(|&(x, y)| near(img.at(x, y), c, 30))
        .count();
    assert!(upper_right > 20, "legend glyph not in the upper right");
    // Grid lines do not show through the legend box: left of and above
    // the glyph's first pixel, inside the box, everything is pure white.
    let (gx, gy) = (0..img.h / 2)
        .flat_map(|y| (img.w / 2..img.w).map(move |x| (x, y)))
        .find(|&(x, y)| near(img.at(x, y), c, 30))
        .unwrap();
    assert_eq!(img.at(gx - 4, gy), (255, 255, 255));
    assert_eq!(img.at(gx + 10, gy - 5), (255, 255, 255));
}

#[test]
fn a_wide_legend_with_no_free_corner_goes_where_it_hides_least() {
    // Lines along the top edge, along the right half of the bottom edge,
    // and a short stub in the lower left: every corner hides some data, and
    // the legend is too wide to go outside, so it takes the lower left.
    let top: Vec<(f64, f64)> = (0..=20).map(|i| (f64::from(i) / 2.0, 9.0)).collect();
    let bottom: Vec<(f64, f64)> = (10..=20).map(|i| (f64::from(i) / 2.0, 1.0)).collect();
    let chart = LineChart::new("")
        .series(Series::new("a legend label long enough to be wide", top))
        .series(Series::new("b", bottom))
        .series(Series::new("c", vec![(0.2, 0.2), (0.4, 0.8)]))
        .x_range(0.0, 10.0)
        .y_range(0.0, 10.0);
    let img = rgb_img(&Figure::new(420, 400).panel(chart));
    let c = palette_color(0);
    let lower_left = (0..img.w / 2)
        .flat_map(|x| (img.h / 2..img.h).map(move |y| (x, y)))
        .filter(|&(x, y)| near(img.at(x, y), c, 30))
        .count();
    assert!(lower_left > 20, "legend glyph not in the lower left");
}

#[test]
fn outside_legend_and_many_groups_fit() {
    let mut chart = ScatterChart::new("Ten groups");
    for k in 0..10 {
        chart = chart.group(format!("digit {k}"), vec![(k as f64, (k * k) as f64)]);
    }
    let img = decode(&chart.render_png(640, 450).unwrap());
    assert_eq!((img.w, img.h), (640, 450));
    // Each group's marker colour appears (in the plot and the legend).
    for k in 0..10 {
        assert!(img.count_near(palette_color(k), 40) > 10, "group {k}");
    }
}

#[test]
fn fonts_render_text() {
    // A chart with only text-heavy parts: title and labels must produce
    // dark anti-aliased pixels (no panic without system fonts).
    let chart = LineChart::new("TITLE TEXT")
        .x_label("x label")
        .y_label("y label")
        .series(Series::from_y("", &[0.0, 1.0]));
    let img = decode(&chart.render_png(500, 300).unwrap());
    let title_dark = (0..40)
        .flat_map(|y| (0..img.w).map(move |x| (x, y)))
        .filter(|&(x, y)| img.at(x, y).0 < 100)
        .count();
    assert!(
        title_dark > 100,
        "title text missing ({title_dark} dark px)"
    );
}

#[test]
fn markers_draw_a_dot_at_every_point() {
    let chart = |markers: bool| {
        let s = Series::new("s", vec![(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)]).color(0);
        let c = LineChart::new("markers").series(if markers { s.markers() } else { s });
        decode(&c.render_png(400, 300).unwrap())
    };
    let colour = crate::PALETTE[0];
    let (plain, dotted) = (chart(false), chart(true));
    let near = |img: &Img| img.count_near((colour.0, colour.1, colour.2), 40);
    // Three dots of radius 4 add well over 3 * 20 pixels of the series' colour.
    assert!(
        near(&dotted) > near(&plain) + 60,
        "{} vs {}",
        near(&dotted),
        near(&plain)
    );
}
