//! Writes one example PNG of each kind to a folder (default
//! `/tmp/seqlab-plot-gallery`, or the first argument).
//!
//! ```text
//! cargo run -p seqlab-plot --example gallery [-- OUT_DIR]
//! ```

use seqlab_plot::{
    Band, Figure, GrayImage, ImageGrid, LegendPosition, LineChart, PlotError, ScatterChart, Series,
};
use std::path::Path;

/// Deterministic pseudo-random numbers in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// A stroke from one (row, col) point to another.
type Stroke = ((f64, f64), (f64, f64));

/// A crude 28x28 "digit": strokes drawn as thick segments.
fn digit(d: usize) -> GrayImage {
    let segs: &[Stroke] = match d % 4 {
        0 => &[
            ((6.0, 10.0), (6.0, 18.0)),
            ((6.0, 18.0), (22.0, 18.0)),
            ((22.0, 18.0), (22.0, 10.0)),
            ((22.0, 10.0), (6.0, 10.0)),
        ],
        1 => &[((5.0, 14.0), (23.0, 14.0)), ((5.0, 14.0), (9.0, 10.0))],
        2 => &[
            ((6.0, 9.0), (6.0, 19.0)),
            ((6.0, 19.0), (14.0, 19.0)),
            ((14.0, 19.0), (22.0, 9.0)),
            ((22.0, 9.0), (22.0, 19.0)),
        ],
        _ => &[
            ((4.0, 8.0), (14.0, 8.0)),
            ((14.0, 8.0), (14.0, 20.0)),
            ((4.0, 20.0), (24.0, 20.0)),
        ],
    };
    GrayImage::from_fn(28, 28, |r, c| {
        let p = (r as f64, c as f64);
        let dist = segs
            .iter()
            .map(|&(a, b)| {
                let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                let t =
                    (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                ((p.0 - a.0 - t * dx).powi(2) + (p.1 - a.1 - t * dy).powi(2)).sqrt()
            })
            .fold(f64::INFINITY, f64::min);
        (1.0 - (dist - 1.0) / 1.5).clamp(0.0, 1.0) as f32
    })
}

fn main() -> Result<(), PlotError> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "/tmp/seqlab-plot-gallery".into()),
    );
    let mut rng = Lcg(42);
    let loss = training_curves(&dir, &mut rng)?;
    dense_curve(&dir, &mut rng)?;
    let acc = length_bands(&dir)?;
    let latent = latent_space(&dir, &mut rng)?;
    let grid = reconstructions(&dir)?;
    figures(&dir, loss, acc, latent, grid)?;
    println!("wrote gallery to {}", dir.display());
    Ok(())
}

/// 1. Training curves: solid train, dashed test, two models; and on a log scale.
fn training_curves(dir: &Path, rng: &mut Lcg) -> Result<LineChart, PlotError> {
    let epochs: Vec<f64> = (1..=30).map(f64::from).collect();
    let curve = |scale: f64, floor: f64, rng: &mut Lcg| -> Vec<f64> {
        epochs
            .iter()
            .map(|e| floor + scale * (-e / 6.0).exp() + 0.02 * rng.next())
            .collect::<Vec<_>>()
    };
    let loss = LineChart::new("Training loss")
        .x_label("epoch")
        .y_label("cross-entropy")
        .series(Series::from_xy("LSTM train", &epochs, &curve(2.0, 0.05, rng))?.color(0))
        .series(
            Series::from_xy("LSTM test", &epochs, &curve(1.9, 0.25, rng))?
                .color(0)
                .dashed(),
        )
        .series(Series::from_xy("GRU train", &epochs, &curve(2.1, 0.08, rng))?.color(1))
        .series(
            Series::from_xy("GRU test", &epochs, &curve(2.0, 0.3, rng))?
                .color(1)
                .dashed(),
        );
    loss.save_png(dir.join("line.png"), 640, 450)?;
    let log_loss = LineChart {
        title: "Training loss (log scale)".into(),
        ..loss.clone()
    };
    log_loss
        .log_y(true)
        .save_png(dir.join("line_log.png"), 640, 450)?;
    Ok(loss)
}

/// 1b. A dense per-step curve with a smoothed overlay.
fn dense_curve(dir: &Path, rng: &mut Lcg) -> Result<(), PlotError> {
    let mut raw = Vec::new();
    let mut smooth = Vec::new();
    let mut ema = 2.3;
    for step in 0..2000 {
        let v = 0.2 + 2.1 * (-(step as f64) / 400.0).exp() + 0.15 * rng.normal();
        ema = 0.98 * ema + 0.02 * v;
        raw.push((step as f64, v));
        smooth.push((step as f64, ema));
    }
    LineChart::new("Per-step loss")
        .x_label("step")
        .y_label("loss")
        .series(Series::new("raw", raw).color(7))
        .series(Series::new("EMA 0.98", smooth).color(3))
        .save_png(dir.join("line_dense.png"), 640, 450)
}

/// 2. Accuracy vs sequence length with bands over seeds.
fn length_bands(dir: &Path) -> Result<LineChart, PlotError> {
    let lengths: [f64; 6] = [10.0, 20.0, 50.0, 100.0, 200.0, 500.0];
    let mut acc = LineChart::new("Accuracy vs sequence length")
        .x_label("sequence length")
        .y_label("test accuracy")
        .y_range(0.0, 1.05);
    for (name, decay) in [("RNN", 60.0f64), ("LSTM", 300.0), ("GRU", 250.0)] {
        let mean: Vec<f64> = lengths
            .iter()
            .map(|l| 0.1 + 0.88 * (-l / decay).exp())
            .collect();
        let spread: Vec<f64> = lengths.iter().map(|l| 0.02 + 0.06 * (l / 500.0)).collect();
        let lower: Vec<f64> = mean.iter().zip(&spread).map(|(m, s)| m - s).collect();
        let upper: Vec<f64> = mean
            .iter()
            .zip(&spread)
            .map(|(m, s)| (m + s).min(1.0))
            .collect();
        acc = acc.mean_with_band(name, &lengths, &mean, &lower, &upper)?;
    }
    acc = acc.series(
        Series::new("chance", vec![(10.0, 0.1), (500.0, 0.1)])
            .color(7)
            .dashed(),
    );
    acc.save_png(dir.join("bands.png"), 640, 450)?;
    Ok(acc)
}

/// 3. Latent space coloured by digit.
fn latent_space(dir: &Path, rng: &mut Lcg) -> Result<ScatterChart, PlotError> {
    let mut points = Vec::new();
    let mut labels = Vec::new();
    for d in 0..10usize {
        let angle = d as f64 / 10.0 * std::f64::consts::TAU;
        for _ in 0..150 {
            points.push((
                3.0 * angle.cos() + 0.7 * rng.normal(),
                3.0 * angle.sin() + 0.7 * rng.normal(),
            ));
            labels.push(d);
        }
    }
    let latent = ScatterChart::from_labels("Latent space (VAE, 2-D)", &points, &labels)?
        .x_label("z\u{2081}")
        .y_label("z\u{2082}");
    latent.save_png(dir.join("scatter.png"), 640, 450)?;
    Ok(latent)
}

/// 4. Image grid: inputs and reconstructions.
fn reconstructions(dir: &Path) -> Result<ImageGrid, PlotError> {
    let mut grid = ImageGrid::new("Reconstructions").columns(8);
    for i in 0..16 {
        let img = digit(i);
        let caption = if i < 8 {
            format!("input {i}")
        } else {
            format!("recon {}", i - 8)
        };
        grid = grid.image(img, caption);
    }
    grid.save_png(dir.join("images.png"), 1000, 450)?;
    Ok(grid)
}

/// 5. Figures: two panels side by side, a 2x2 figure, and a band alone.
fn figures(
    dir: &Path,
    loss: LineChart,
    acc: LineChart,
    latent: ScatterChart,
    grid: ImageGrid,
) -> Result<(), PlotError> {
    Figure::new(1000, 450)
        .grid(1, 2)
        .panel(loss.clone())
        .panel(acc.clone())
        .save_png(dir.join("figure_1x2.png"))?;
    let band_only = LineChart::new("Band only")
        .band(Band::new(
            "min..max",
            vec![0.0, 1.0, 2.0, 3.0],
            vec![0.0, 0.2, 0.1, 0.3],
            vec![1.0, 1.2, 0.9, 1.4],
        ))
        .series(Series::new("constant", vec![(0.0, 0.5), (3.0, 0.5)]))
        .legend(LegendPosition::OutsideRight);
    Figure::new(1200, 900)
        .title("seqlab gallery")
        .grid(2, 2)
        .panel(loss)
        .panel(acc)
        .panel(latent)
        .panel(grid.columns(0))
        .save_png(dir.join("figure_2x2.png"))?;
    band_only.save_png(dir.join("band_only.png"), 640, 450)
}
