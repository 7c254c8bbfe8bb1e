//! The seed's pictures: losses and learning rates per epoch, and the test ROC.

use crate::ExperimentError;
use seqlab_metrics::RocCurve;
use seqlab_plot::{Figure, LineChart, Series};
use seqlab_train::History;
use std::path::Path;

/// `loss.png`: the book and held-out protocols' losses, each with its
/// restored epoch marked, and both learning-rate schedules.
pub(super) fn plot_losses(
    title: &str,
    book: (&History, usize),
    held_out: (&History, usize),
    path: &Path,
) -> Result<(), ExperimentError> {
    let mut lr = LineChart::new("Learning rate (ReduceLROnPlateau)")
        .x_label("epoch")
        .y_label("learning rate (log scale)")
        .log_y(true);
    for (h, name, color) in [
        (book.0, "book protocol", 0),
        (held_out.0, "held-out protocol", 2),
    ] {
        let s = Series::from_xy(name, &epochs(h), &h.learning_rates())?.color(color);
        lr = lr.series(if color == 2 { s.dashed() } else { s });
    }
    Figure::new(1500, 460)
        .title(title)
        .grid(1, 3)
        .panel(loss_panel(
            book.0,
            "Book protocol: validation = test set",
            book.1,
        )?)
        .panel(loss_panel(
            held_out.0,
            "Held-out protocol: validation = 20% of train",
            held_out.1,
        )?)
        .panel(lr)
        .save_png(path)?;
    Ok(())
}

/// The epochs of `h`, as x values.
fn epochs(h: &History) -> Vec<f64> {
    h.epochs().iter().map(|e| e.epoch as f64).collect()
}

/// Column `col` of `h` per epoch, if it has one.
fn curve(
    h: &History,
    col: &str,
    name: &str,
    color: usize,
) -> Result<Option<Series>, ExperimentError> {
    Ok(match h.column(col) {
        Some(y) => Some(Series::from_xy(name, &epochs(h), &y)?.color(color)),
        None => None,
    })
}

/// One protocol's training and validation loss, and a vertical marker at
/// the restored epoch spanning the plotted losses.
fn loss_panel(h: &History, what: &str, best: usize) -> Result<LineChart, ExperimentError> {
    let mut c = LineChart::new(what)
        .x_label("epoch")
        .y_label("binary cross-entropy");
    if let Some(s) = curve(h, "loss", "train", 0)? {
        c = c.series(s);
    }
    if let Some(s) = curve(h, "val_loss", "validation", 1)? {
        c = c.series(s.dashed());
    }
    let all: Vec<f64> = ["loss", "val_loss"]
        .iter()
        .filter_map(|col| h.column(col))
        .flatten()
        .filter(|v| v.is_finite())
        .collect();
    if let (Some(lo), Some(hi)) = (
        all.iter().copied().reduce(f64::min),
        all.iter().copied().reduce(f64::max),
    ) {
        let x = best as f64;
        // Headroom above the curves keeps the legend inside the plot.
        c = c.y_range(0.0, hi * 1.4);
        c = c.series(
            Series::from_xy(format!("best epoch {best}"), &[x, x], &[lo, hi])?
                .color(7)
                .dashed(),
        );
    }
    Ok(c)
}

/// `roc.png`: the test ROC of each `(name, curve, AUC)`.
pub(super) fn plot_roc(
    title: &str,
    curves: &[(&str, &RocCurve, f64)],
    path: &Path,
) -> Result<(), ExperimentError> {
    let series: Vec<seqlab_plot::RocSeries<'_>> = curves
        .iter()
        .map(|(name, roc, auc)| seqlab_plot::RocSeries {
            name,
            fpr: &roc.fpr,
            tpr: &roc.tpr,
            auc: *auc,
        })
        .collect();
    Ok(seqlab_plot::plot_roc(title, &series, path, 760, 700)?)
}
