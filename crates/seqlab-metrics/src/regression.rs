//! Regression metrics.

use crate::error::{check_pair, MetricsError, Result};

/// Validates the pair and yields `pred[i] - target[i]` in `f64`.
fn differences<T: Copy + Into<f64>>(pred: &[T], target: &[T]) -> Result<Vec<f64>> {
    check_pair("pred", pred.len(), "target", target.len())?;
    let mut out = Vec::with_capacity(pred.len());
    for (index, (&p, &t)) in pred.iter().zip(target).enumerate() {
        let (p, t): (f64, f64) = (p.into(), t.into());
        if !p.is_finite() {
            return Err(MetricsError::NonFinite {
                what: "pred",
                index,
                value: p,
            });
        }
        if !t.is_finite() {
            return Err(MetricsError::NonFinite {
                what: "target",
                index,
                value: t,
            });
        }
        out.push(p - t);
    }
    Ok(out)
}

/// Mean squared error `mean((pred[i] - target[i])²)`.
///
/// Generic over the element type: `f32` and `f64` (and anything else that
/// converts losslessly to `f64`). The sum is always accumulated in `f64` and
/// the result is `f64`, so `f32` inputs lose no precision in the reduction.
/// (Finite inputs so large that their squared difference overflows give
/// `inf`, not an error.)
///
/// ```
/// use seqlab_metrics::mse;
/// assert_eq!(mse(&[1.0, 2.0, 3.0], &[1.0, 0.0, 6.0]).unwrap(), 13.0 / 3.0);
/// let pred: Vec<f32> = vec![0.5, 1.5];
/// let target: Vec<f32> = vec![0.0, 1.0];
/// assert_eq!(mse(&pred, &target).unwrap(), 0.25);
/// ```
///
/// # Errors
/// [`MetricsError::LengthMismatch`] / [`MetricsError::Empty`] for mismatched
/// or empty slices, [`MetricsError::NonFinite`] for a NaN or infinite value
/// (naming `pred` or `target` and the index).
pub fn mse<T: Copy + Into<f64>>(pred: &[T], target: &[T]) -> Result<f64> {
    let diffs = differences(pred, target)?;
    let sum: f64 = diffs.iter().map(|d| d * d).sum();
    Ok(sum / diffs.len() as f64)
}

/// Mean absolute error `mean(|pred[i] - target[i]|)`; generic like [`mse`].
///
/// ```
/// assert_eq!(seqlab_metrics::mae(&[1.0f32, 2.0, 3.0], &[1.0, 0.0, 6.0]).unwrap(), 5.0 / 3.0);
/// ```
///
/// # Errors
/// As [`mse`].
pub fn mae<T: Copy + Into<f64>>(pred: &[T], target: &[T]) -> Result<f64> {
    let diffs = differences(pred, target)?;
    let sum: f64 = diffs.iter().map(|d| d.abs()).sum();
    Ok(sum / diffs.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_and_mae_known_values() {
        assert_eq!(mse(&[0.0, 0.0], &[3.0, 4.0]).unwrap(), 12.5);
        assert_eq!(mae(&[0.0, 0.0], &[3.0, -4.0]).unwrap(), 3.5);
        assert_eq!(mse(&[2.5f64], &[2.5]).unwrap(), 0.0);
        // f32 inputs, f64 accumulation: 0.1f32 is not 0.1, but the result is
        // exactly the f64 square of the f32 difference.
        let d = f64::from(0.1f32);
        assert_eq!(mse(&[0.1f32], &[0.0f32]).unwrap(), d * d);
        assert_eq!(
            mse(&[1.0f32, 2.0, 3.0], &[1.0, 0.0, 6.0]).unwrap(),
            13.0 / 3.0
        );
        // f32 and f64 agree on values exactly representable in both.
        let a = [0.5f32, -1.25, 3.0];
        let b = [1.0f32, 0.75, -2.0];
        let a64: Vec<f64> = a.iter().map(|&x| f64::from(x)).collect();
        let b64: Vec<f64> = b.iter().map(|&x| f64::from(x)).collect();
        assert_eq!(mse(&a, &b).unwrap(), mse(&a64, &b64).unwrap());
        assert_eq!(mse(&a, &b).unwrap(), (0.25 + 4.0 + 25.0) / 3.0);
    }

    #[test]
    fn regression_errors() {
        let err = mse(&[1.0, 2.0], &[1.0]).unwrap_err();
        assert_eq!(
            err,
            MetricsError::LengthMismatch {
                left: "pred",
                left_len: 2,
                right: "target",
                right_len: 1
            }
        );
        assert!(err
            .to_string()
            .contains("pred has 2 elements but target has 1"));
        assert_eq!(
            mae::<f32>(&[], &[]).unwrap_err(),
            MetricsError::Empty { what: "pred" }
        );
        let err = mse(&[1.0f32, f32::INFINITY], &[0.0, 0.0]).unwrap_err();
        assert_eq!(
            err,
            MetricsError::NonFinite {
                what: "pred",
                index: 1,
                value: f64::INFINITY
            }
        );
        let err = mae(&[1.0, 2.0, 3.0], &[0.0, 0.0, f64::NAN]).unwrap_err();
        assert!(err.to_string().contains("target[2] is NaN"), "{err}");
    }
}
