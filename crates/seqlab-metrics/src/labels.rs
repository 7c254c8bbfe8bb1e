//! The label and score types the metrics accept, so that the labels a data
//! set holds (`i64` class indices in `seqlab_data::Targets::Classes`,
//! `usize` from [`argmax_rows`](crate::argmax_rows), `bool` for binary
//! truth) and the scores a model gives (`f32` or `f64`) go in as they are.

use crate::error::{MetricsError, Result};

/// A class label: a whole number from 0, or a `bool` (`false` = class 0,
/// `true` = class 1).
pub trait Label: Copy {
    /// The class index, or `None` for a value that is no class (a negative
    /// number).
    fn class(self) -> Option<usize>;
    /// The value as written in an error message.
    fn show(self) -> String;
}

macro_rules! unsigned_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            fn class(self) -> Option<usize> {
                usize::try_from(self).ok()
            }
            fn show(self) -> String {
                self.to_string()
            }
        }
    )*};
}
unsigned_label!(usize, u8, u16, u32, u64, i8, i16, i32, i64);

impl Label for bool {
    fn class(self) -> Option<usize> {
        Some(usize::from(self))
    }
    fn show(self) -> String {
        self.to_string()
    }
}

/// The class indices of `labels`; the first value that is no class is an
/// error naming `what` and its index.
pub(crate) fn classes<L: Label>(what: &'static str, labels: &[L]) -> Result<Vec<usize>> {
    labels
        .iter()
        .enumerate()
        .map(|(index, &l)| {
            l.class().ok_or_else(|| MetricsError::InvalidLabel {
                what,
                index,
                value: l.show(),
                expected: "a class index (a whole number from 0)",
            })
        })
        .collect()
}

/// `labels` as binary truth (class 1 = positive); anything but 0, 1,
/// `false` or `true` is an error naming `what` and its index.
pub(crate) fn binary<L: Label>(what: &'static str, labels: &[L]) -> Result<Vec<bool>> {
    labels
        .iter()
        .enumerate()
        .map(|(index, &l)| match l.class() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(MetricsError::InvalidLabel {
                what,
                index,
                value: l.show(),
                expected: "a binary label (0 or 1, false or true)",
            }),
        })
        .collect()
}

/// `scores` as `f64` (lossless from `f32`).
pub(crate) fn scores<S: Copy + Into<f64>>(scores: &[S]) -> Vec<f64> {
    scores.iter().map(|&s| s.into()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_type_maps_to_the_same_classes() {
        assert_eq!(classes("t", &[0i64, 2, 1]).unwrap(), [0, 2, 1]);
        assert_eq!(classes("t", &[0usize, 2, 1]).unwrap(), [0, 2, 1]);
        assert_eq!(classes("t", &[false, true]).unwrap(), [0, 1]);
        let err = classes("truth", &[0i64, -3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid label: truth[1] is -3, expected a class index (a whole number from 0)"
        );
        assert_eq!(binary("truth", &[1u8, 0]).unwrap(), [true, false]);
        let err = binary("truth", &[0i64, 1, 2]).unwrap_err();
        assert!(err.to_string().contains("truth[2] is 2"), "{err}");
    }

    #[test]
    fn metrics_take_data_set_labels_and_f32_scores_as_they_are() {
        // i64 labels (seqlab_data::Targets::Classes) and f32 probabilities.
        let labels: Vec<i64> = vec![0, 1, 1, 0];
        let probs: Vec<f32> = vec![0.2, 0.9, 0.6, 0.7];
        let bools: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
        let wide: Vec<f64> = probs.iter().map(|&p| f64::from(p)).collect();
        assert_eq!(
            crate::roc_auc(&probs, &labels).unwrap(),
            crate::roc_auc(&wide, &bools).unwrap()
        );
        assert_eq!(crate::roc_auc(&probs, &labels).unwrap(), 0.75);
        let predicted: Vec<usize> = vec![0, 1, 1, 1];
        assert_eq!(crate::accuracy(&predicted, &labels).unwrap(), 0.75);
        let cm = crate::binary_confusion(&probs, &labels, 0.5).unwrap();
        assert_eq!(cm.to_rows(), vec![vec![1, 1], vec![0, 2]]);
        let err = crate::roc_curve(&probs, &[0i64, 1, 3, 0]).unwrap_err();
        assert!(err.to_string().contains("truth[2] is 3"), "{err}");
    }
}
