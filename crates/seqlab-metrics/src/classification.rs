//! Label-level classification metrics: accuracy and logits → classes.

use crate::error::{check_pair, MetricsError, Result};
use crate::labels::{classes, Label};

/// Fraction of positions where `predicted[i] == truth[i]`, in `[0, 1]`.
///
/// Labels are compared as class indices; no class range is needed. Any
/// [`Label`] type works, and the two sides may differ (`usize` predictions
/// from [`argmax_rows`] against the `i64` labels of a data set).
///
/// # Errors
/// [`MetricsError::LengthMismatch`] if the slices differ in length,
/// [`MetricsError::Empty`] if they are empty, [`MetricsError::InvalidLabel`]
/// for a negative label.
///
/// ```
/// let acc = seqlab_metrics::accuracy(&[0usize, 1, 1, 2], &[0i64, 1, 2, 2]).unwrap();
/// assert_eq!(acc, 0.75);
/// ```
pub fn accuracy<P: Label, T: Label>(predicted: &[P], truth: &[T]) -> Result<f64> {
    check_pair("predicted", predicted.len(), "truth", truth.len())?;
    let predicted = classes("predicted", predicted)?;
    let truth = classes("truth", truth)?;
    let correct = predicted.iter().zip(&truth).filter(|(p, t)| p == t).count();
    Ok(correct as f64 / truth.len() as f64)
}

/// Index of the largest score in each row of a row-major `rows × n_classes`
/// score matrix (logits or probabilities), i.e. the predicted class per row.
///
/// Ties go to the lowest index (like `numpy.argmax`). Infinite scores are
/// ordered normally (`-inf` works as a mask); NaN is rejected because it has
/// no order. Works for any element type that converts losslessly to `f64`
/// (`f32`, `f64`, small integers); the order is unchanged by the conversion.
///
/// # Errors
/// [`MetricsError::InvalidClassCount`] if `n_classes == 0`,
/// [`MetricsError::Empty`] if `scores` is empty,
/// [`MetricsError::RaggedScores`] if `scores.len()` is not a multiple of
/// `n_classes`, [`MetricsError::NonFinite`] (with the flat index) for a NaN.
///
/// ```
/// let logits: [f32; 6] = [0.1, 2.0, -1.0, /* row 2 */ 3.0, 3.0, 0.0];
/// let classes = seqlab_metrics::argmax_rows(&logits, 3).unwrap();
/// assert_eq!(classes, vec![1, 0]); // the tie in row 2 goes to class 0
/// ```
pub fn argmax_rows<T: Copy + Into<f64>>(scores: &[T], n_classes: usize) -> Result<Vec<usize>> {
    if n_classes == 0 {
        return Err(MetricsError::InvalidClassCount { n_classes });
    }
    if scores.is_empty() {
        return Err(MetricsError::Empty { what: "scores" });
    }
    if !scores.chunks_exact(n_classes).remainder().is_empty() {
        return Err(MetricsError::RaggedScores {
            len: scores.len(),
            n_classes,
        });
    }
    let mut out = Vec::with_capacity(scores.len() / n_classes);
    for (row_index, row) in scores.chunks_exact(n_classes).enumerate() {
        let mut best_class = 0;
        let mut best = f64::NEG_INFINITY;
        for (class, &score) in row.iter().enumerate() {
            let value: f64 = score.into();
            if value.is_nan() {
                return Err(MetricsError::NonFinite {
                    what: "scores",
                    index: row_index * n_classes + class,
                    value,
                });
            }
            // Strict `>` keeps the first (lowest) index on ties; `class == 0`
            // makes a row of all `-inf` pick class 0.
            if class == 0 || value > best {
                best = value;
                best_class = class;
            }
        }
        out.push(best_class);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_known_values() {
        assert_eq!(accuracy(&[1, 2, 3], &[1, 2, 3]).unwrap(), 1.0);
        assert_eq!(accuracy(&[0, 0, 0, 0], &[1, 1, 1, 1]).unwrap(), 0.0);
        assert_eq!(accuracy(&[0, 1, 0, 1, 1], &[0, 1, 1, 1, 0]).unwrap(), 0.6);
    }

    #[test]
    fn accuracy_errors() {
        let err = accuracy(&[0, 1, 2], &[0, 1]).unwrap_err();
        assert!(matches!(
            err,
            MetricsError::LengthMismatch {
                left_len: 3,
                right_len: 2,
                ..
            }
        ));
        let msg = err.to_string();
        assert!(msg.contains('3') && msg.contains('2'), "{msg}");
        assert!(msg.contains("predicted") && msg.contains("truth"), "{msg}");

        let err = accuracy::<usize, usize>(&[], &[]).unwrap_err();
        assert_eq!(err, MetricsError::Empty { what: "predicted" });
        assert!(err.to_string().contains("empty"));
    }

    #[test]
    fn argmax_rows_basic_and_ties() {
        let s: [f32; 9] = [0.1, 0.7, 0.2, 5.0, -1.0, 5.0, 1.0, 1.0, 1.0];
        assert_eq!(argmax_rows(&s, 3).unwrap(), vec![1, 0, 0]);
        // One column: every row predicts class 0.
        assert_eq!(argmax_rows(&[3.0f32, -2.0], 1).unwrap(), vec![0, 0]);
        // f64 works too, and infinities are ordered.
        let s = [f64::NEG_INFINITY, f64::NEG_INFINITY, -1.0, f64::INFINITY];
        assert_eq!(argmax_rows(&s, 2).unwrap(), vec![0, 1]);
    }

    #[test]
    fn argmax_rows_errors() {
        assert_eq!(
            argmax_rows(&[1.0f32], 0).unwrap_err(),
            MetricsError::InvalidClassCount { n_classes: 0 }
        );
        assert_eq!(
            argmax_rows::<f32>(&[], 2).unwrap_err(),
            MetricsError::Empty { what: "scores" }
        );
        let err = argmax_rows(&[1.0f32; 5], 2).unwrap_err();
        assert_eq!(
            err,
            MetricsError::RaggedScores {
                len: 5,
                n_classes: 2
            }
        );
        assert!(err.to_string().contains('5'));
        let err = argmax_rows(&[1.0f32, 2.0, 3.0, f32::NAN], 2).unwrap_err();
        assert!(matches!(
            err,
            MetricsError::NonFinite {
                what: "scores",
                index: 3,
                ..
            }
        ));
        assert!(err.to_string().contains("scores[3]"), "{err}");
    }
}
