//! Classification and regression metrics for seqlab, in pure Rust (no tch).
//!
//! * labels: [`accuracy`], [`argmax_rows`] (logits → predicted classes);
//! * [`ConfusionMatrix`] (`[truth][predicted]`, like scikit-learn) with
//!   accuracy, per-class recall / precision and balanced accuracy;
//! * binary scores: [`binary_confusion`] and [`balanced_accuracy_at`]
//!   (positive iff `score >= threshold`);
//! * ROC: [`roc_curve`] (scikit-learn's `roc_curve(drop_intermediate=False)`),
//!   [`auc`] / [`roc_auc`] (ties count one half, = Mann–Whitney), and the
//!   Youden-optimal threshold [`youden_threshold`];
//! * regression: [`mse`], [`mae`] (for `f32` and `f64`);
//! * over seeds: [`SeedSpread`] (mean, sample sd, range, Student-t 95%
//!   interval for the mean) and [`RangePosition`] of a published number.
//!
//! Labels may be any [`Label`] type: the `i64` class indices of a seqlab
//! data set, `usize` predictions, or `bool` for binary truth (where a class
//! index must be 0 or 1); scores may be `f32` or `f64`.
//!
//! Every function that looks at caller data returns
//! `Result<_, `[`MetricsError`]`>` and never panics; the error message names
//! the argument, index and value at fault.
//!
//! ```
//! use seqlab_metrics::{argmax_rows, roc_auc, roc_curve, youden_threshold, ConfusionMatrix};
//!
//! // Two-class logits for four samples, row-major.
//! let logits: [f32; 8] = [2.0, -1.0, 0.3, 0.9, -0.5, 1.5, 1.0, 0.2];
//! let truth = [0, 1, 1, 1];
//! let predicted = argmax_rows(&logits, 2)?;
//! assert_eq!(predicted, vec![0, 1, 1, 0]);
//!
//! let cm = ConfusionMatrix::from_labels(&predicted, &truth, 2)?;
//! assert_eq!(cm.to_rows(), vec![vec![1, 0], vec![1, 2]]); // [[TN FP] [FN TP]]
//! assert_eq!(cm.balanced_accuracy()?, (1.0 + 2.0 / 3.0) / 2.0);
//!
//! // Scores for the positive class and the ROC curve.
//! let scores = [0.1, 0.4, 0.35, 0.8];
//! let positive = [false, false, true, true];
//! let roc = roc_curve(&scores, &positive)?;
//! assert_eq!(roc.thresholds, vec![f64::INFINITY, 0.8, 0.4, 0.35, 0.1]);
//! assert_eq!(roc_auc(&scores, &positive)?, 0.75);
//! assert_eq!(youden_threshold(&roc)?.threshold, 0.8);
//! # Ok::<(), seqlab_metrics::MetricsError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod classification;
mod confusion;
mod error;
mod labels;
mod regression;
mod roc;
mod serde_float;
mod spread;

pub use classification::{accuracy, argmax_rows};
pub use confusion::{balanced_accuracy_at, binary_confusion, ConfusionMatrix};
pub use error::{MetricsError, Result};
pub use labels::Label;
pub use regression::{mae, mse};
pub use roc::{auc, roc_auc, roc_curve, youden_threshold, RocCurve, YoudenPoint};
pub use spread::{t_quantile, t_quantile_975, RangePosition, SeedSpread};
