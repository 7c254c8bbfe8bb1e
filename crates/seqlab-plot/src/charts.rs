//! Ready-made charts of training results: a training history (loss and
//! accuracy per epoch) and ROC curves. They take plain slices, so any
//! training loop can use them; with seqlab-train, pass
//! `history.epoch_numbers()` and `|name| history.column(name)`.

use crate::{Figure, LegendPosition, LineChart, PlotError, Series};
use std::path::Path;

/// How far past 0 and 1 the axes of a ROC chart reach, so that the parts
/// of a curve on x = 0 or y = 1 (every good classifier has them) are drawn
/// inside the plot area instead of on its frame.
pub const ROC_PAD: f64 = 0.02;

/// The two-panel figure of a training history: loss (log scale when it
/// falls over more than two decades) and, when the history has an
/// `accuracy` column, accuracy. Training curves are solid, validation
/// curves (columns prefixed `val_`, labelled `val_name`) dashed.
///
/// `column(name)` returns a column of the history (`loss`, `val_loss`,
/// `accuracy`, `val_accuracy`), one value per entry of `epochs`, or `None`
/// when the history lacks it. A history without a `loss` column is an
/// error.
pub fn history_figure(
    epochs: &[f64],
    column: impl Fn(&str) -> Option<Vec<f64>>,
    title: &str,
    val_name: &str,
) -> Result<Figure, PlotError> {
    history_figure_named(epochs, column, title, "train", val_name)
}

/// [`history_figure`] with the training curves' legend entry named
/// `train_name` (for example to say which samples it was measured on).
pub fn history_figure_named(
    epochs: &[f64],
    column: impl Fn(&str) -> Option<Vec<f64>>,
    title: &str,
    train_name: &str,
    val_name: &str,
) -> Result<Figure, PlotError> {
    let curve = |col: &str, name: &str, color: usize, dashed: bool| match column(col) {
        Some(values) => {
            let s = Series::from_xy(name, epochs, &values)?.color(color);
            Ok(Some(if dashed { s.dashed() } else { s }))
        }
        None => Ok::<_, PlotError>(None),
    };
    let train_loss = curve("loss", train_name, 0, false)?.ok_or_else(|| {
        PlotError::InvalidInput("a training history needs a \"loss\" column".into())
    })?;
    // Losses that fall over several decades are unreadable on a linear axis.
    let losses: Vec<f64> = ["loss", "val_loss"]
        .iter()
        .filter_map(|c| column(c))
        .flatten()
        .collect();
    let (lo, hi) = losses.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    let log = lo > 0.0 && hi / lo > 100.0;
    let mut loss = LineChart::new(if log { "Loss (log scale)" } else { "Loss" })
        .x_label("epoch")
        .y_label("loss")
        .log_y(log)
        .series(train_loss);
    if let Some(s) = curve("val_loss", val_name, 1, true)? {
        loss = loss.series(s);
    }
    let fig = Figure::new(1100, 440).title(title);
    Ok(match curve("accuracy", train_name, 0, false)? {
        Some(train_acc) => {
            let mut acc = LineChart::new("Accuracy")
                .x_label("epoch")
                .y_label("accuracy")
                .y_range(0.0, 1.02)
                .series(train_acc);
            if let Some(s) = curve("val_accuracy", val_name, 1, true)? {
                acc = acc.series(s);
            }
            fig.grid(1, 2).panel(loss).panel(acc)
        }
        None => fig.grid(1, 1).panel(loss),
    })
}

/// [`history_figure`], saved as a PNG at `path` (written atomically).
pub fn plot_history(
    epochs: &[f64],
    column: impl Fn(&str) -> Option<Vec<f64>>,
    title: &str,
    val_name: &str,
    path: impl AsRef<Path>,
) -> Result<(), PlotError> {
    history_figure(epochs, column, title, val_name)?.save_png(path)
}

/// One ROC curve: its points (false and true positive rates, as
/// `seqlab_metrics::roc_curve` returns them) and its AUC, shown in the legend.
#[derive(Debug, Clone, Copy)]
pub struct RocSeries<'a> {
    /// Legend name (the AUC is appended).
    pub name: &'a str,
    /// False positive rates, in [0, 1].
    pub fpr: &'a [f64],
    /// True positive rates, in [0, 1], one per false positive rate.
    pub tpr: &'a [f64],
    /// Area under the curve.
    pub auc: f64,
}

/// The empty frame of a ROC chart: axis labels, both axes padded by
/// [`ROC_PAD`] beyond [0, 1], the legend at the lower right. [`roc_chart`]
/// draws on it; use it for ROC charts of your own (many faint curves, say).
pub fn roc_axes(title: impl Into<String>) -> LineChart {
    LineChart::new(title)
        .x_label("false positive rate")
        .y_label("true positive rate")
        .x_range(-ROC_PAD, 1.0 + ROC_PAD)
        .y_range(-ROC_PAD, 1.0 + ROC_PAD)
        .legend(LegendPosition::LowerRight)
}

/// A ROC chart ([`roc_axes`]): one line per curve (palette colours in order), the chance
/// diagonal dashed, the legend at the lower right, and both axes padded by
/// [`ROC_PAD`] beyond [0, 1] so that no part of a curve lies on the frame.
pub fn roc_chart(title: &str, curves: &[RocSeries<'_>]) -> Result<LineChart, PlotError> {
    if curves.is_empty() {
        return Err(PlotError::InvalidInput(
            "a ROC chart needs at least one curve".into(),
        ));
    }
    let mut chart = roc_axes(title);
    for (i, c) in curves.iter().enumerate() {
        if let Some(bad) = c
            .fpr
            .iter()
            .chain(c.tpr)
            .find(|v| !(0.0..=1.0).contains(*v))
        {
            return Err(PlotError::InvalidInput(format!(
                "ROC curve {:?}: rate {bad} is outside [0, 1]",
                c.name
            )));
        }
        let label = format!("{} (AUC = {:.3})", c.name, c.auc);
        chart = chart.series(Series::from_xy(label, c.fpr, c.tpr)?.color(i));
    }
    Ok(chart.series(
        Series::from_xy("chance (AUC = 0.5)", &[0.0, 1.0], &[0.0, 1.0])?
            .color(7)
            .dashed(),
    ))
}

/// [`roc_chart`], saved as a `width` x `height` PNG at `path`.
pub fn plot_roc(
    title: &str,
    curves: &[RocSeries<'_>],
    path: impl AsRef<Path>,
    width: u32,
    height: u32,
) -> Result<(), PlotError> {
    roc_chart(title, curves)?.save_png(path, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_axes_reach_past_zero_and_one_so_the_curve_is_not_on_the_frame() {
        let (fpr, tpr) = ([0.0, 0.0, 0.1, 1.0], [0.0, 0.9, 1.0, 1.0]);
        let c = RocSeries {
            name: "m",
            fpr: &fpr,
            tpr: &tpr,
            auc: 0.99,
        };
        let chart = roc_chart("ROC", &[c]).unwrap();
        assert_eq!(chart.x_range, Some((-ROC_PAD, 1.0 + ROC_PAD)));
        assert_eq!(chart.y_range, Some((-ROC_PAD, 1.0 + ROC_PAD)));
        assert!(chart.render_png(400, 400).unwrap().starts_with(b"\x89PNG"));
        let bad = RocSeries {
            fpr: &[0.0, 1.5],
            tpr: &[0.0, 1.0],
            ..c
        };
        assert!(roc_chart("ROC", &[bad])
            .unwrap_err()
            .to_string()
            .contains("1.5"));
        assert!(roc_chart("ROC", &[]).is_err());
    }

    #[test]
    fn history_has_an_accuracy_panel_only_when_recorded_and_needs_a_loss() {
        let epochs = [1.0, 2.0, 3.0];
        let with_acc = |name: &str| match name {
            "loss" => Some(vec![1.0, 0.5, 0.3]),
            "val_loss" => Some(vec![1.1, 0.7, 0.6]),
            "accuracy" => Some(vec![0.5, 0.7, 0.8]),
            _ => None,
        };
        assert_eq!(
            history_figure(&epochs, with_acc, "t", "val")
                .unwrap()
                .panel_count(),
            2
        );
        let loss_only = |name: &str| (name == "loss").then(|| vec![1.0, 0.5, 0.3]);
        assert_eq!(
            history_figure(&epochs, loss_only, "t", "val")
                .unwrap()
                .panel_count(),
            1
        );
        let err = history_figure(&epochs, |_| None, "t", "val").unwrap_err();
        assert!(err.to_string().contains("loss"), "{err}");
        // A column of the wrong length names the series.
        let short = |name: &str| (name == "loss").then(|| vec![1.0]);
        assert!(history_figure(&epochs, short, "t", "val").is_err());
    }
}
