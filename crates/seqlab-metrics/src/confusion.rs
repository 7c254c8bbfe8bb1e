//! Confusion matrices and the metrics derived from them, plus the binary
//! (score + threshold) helpers.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{check_finite, check_pair, MetricsError, Result};
use crate::labels::{binary, classes, Label};

/// A square confusion matrix of `u64` counts, indexed `[truth][predicted]`.
///
/// Rows are true classes and columns predicted classes, as in scikit-learn's
/// `confusion_matrix`. For a binary problem (class 0 = negative, 1 =
/// positive) the layout is therefore `[[TN, FP], [FN, TP]]`.
///
/// The matrix is always `n_classes × n_classes` with `n_classes >= 1`; this
/// is checked by every constructor and by deserialisation.
///
/// # Serialisation
/// Serialises as `{"n_classes": n, "counts": [[...], ...]}` (rows = truth).
/// Deserialisation rejects an empty, non-square or inconsistent matrix.
///
/// ```
/// use seqlab_metrics::ConfusionMatrix;
/// // predicted, truth
/// let cm = ConfusionMatrix::from_labels(&[0, 1, 1, 1], &[0, 0, 1, 1], 2).unwrap();
/// assert_eq!(cm.to_rows(), vec![vec![1, 1], vec![0, 2]]); // [[TN FP] [FN TP]]
/// assert_eq!(cm.accuracy().unwrap(), 0.75);
/// assert_eq!(cm.recall(0).unwrap(), 0.5);
/// assert_eq!(cm.precision(1).unwrap(), 2.0 / 3.0);
/// assert_eq!(cm.balanced_accuracy().unwrap(), 0.75);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ConfusionMatrix {
    n_classes: usize,
    counts: Vec<Vec<u64>>,
}

/// Unvalidated serialised form of [`ConfusionMatrix`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfusionMatrixRepr {
    n_classes: usize,
    counts: Vec<Vec<u64>>,
}

impl<'de> Deserialize<'de> for ConfusionMatrix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let repr = ConfusionMatrixRepr::deserialize(deserializer)?;
        if repr.counts.len() != repr.n_classes {
            return Err(serde::de::Error::custom(format!(
                "invalid confusion matrix: n_classes is {} but counts has {} rows",
                repr.n_classes,
                repr.counts.len()
            )));
        }
        ConfusionMatrix::from_counts(repr.counts).map_err(serde::de::Error::custom)
    }
}

/// Checks that `class` is a valid label for `n_classes` classes.
fn check_label(what: &'static str, index: usize, value: usize, n_classes: usize) -> Result<()> {
    if value < n_classes {
        Ok(())
    } else {
        Err(MetricsError::LabelOutOfRange {
            what,
            index,
            value,
            n_classes,
        })
    }
}

/// Sum of counts without overflow.
fn sum_u128<'a>(values: impl Iterator<Item = &'a u64>) -> u128 {
    values.map(|&v| u128::from(v)).sum()
}

impl ConfusionMatrix {
    /// An all-zero `n_classes × n_classes` matrix, to be filled with
    /// [`record`](Self::record).
    ///
    /// # Errors
    /// [`MetricsError::InvalidClassCount`] if `n_classes == 0`.
    pub fn new(n_classes: usize) -> Result<Self> {
        if n_classes == 0 {
            return Err(MetricsError::InvalidClassCount { n_classes });
        }
        Ok(Self {
            n_classes,
            counts: vec![vec![0; n_classes]; n_classes],
        })
    }

    /// Counts the pairs `(truth[i], predicted[i])`.
    ///
    /// Note the argument order: `predicted` first, like [`accuracy`](crate::accuracy);
    /// the counts are nevertheless indexed `[truth][predicted]`.
    ///
    /// # Errors
    /// [`MetricsError::InvalidClassCount`] if `n_classes == 0`,
    /// [`MetricsError::LengthMismatch`] / [`MetricsError::Empty`] for
    /// mismatched or empty slices (an empty evaluation set is treated as a
    /// caller bug; use [`new`](Self::new) for an empty matrix), and
    /// [`MetricsError::LabelOutOfRange`] for the first label `>= n_classes`
    /// (checked in `predicted`, then in `truth`).
    pub fn from_labels<P: Label, T: Label>(
        predicted: &[P],
        truth: &[T],
        n_classes: usize,
    ) -> Result<Self> {
        let mut cm = Self::new(n_classes)?;
        check_pair("predicted", predicted.len(), "truth", truth.len())?;
        let predicted = classes("predicted", predicted)?;
        let truth = classes("truth", truth)?;
        for (index, &value) in predicted.iter().enumerate() {
            check_label("predicted", index, value, n_classes)?;
        }
        for (index, &value) in truth.iter().enumerate() {
            check_label("truth", index, value, n_classes)?;
        }
        for (&p, &t) in predicted.iter().zip(&truth) {
            cm.record(p, t)?;
        }
        Ok(cm)
    }

    /// Builds a matrix from rows of counts, `rows[truth][predicted]`.
    ///
    /// ```
    /// use seqlab_metrics::ConfusionMatrix;
    /// let cm = ConfusionMatrix::from_counts(vec![vec![10273, 2227], vec![1818, 10682]]).unwrap();
    /// assert_eq!(format!("{:.4}", cm.balanced_accuracy().unwrap()), "0.8382");
    /// ```
    ///
    /// # Errors
    /// [`MetricsError::InvalidMatrix`] if `rows` is empty or not square.
    pub fn from_counts(rows: Vec<Vec<u64>>) -> Result<Self> {
        let n_classes = rows.len();
        if n_classes == 0 {
            return Err(MetricsError::InvalidMatrix(
                "no rows (at least one class is needed)".to_string(),
            ));
        }
        if let Some((row, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != n_classes) {
            return Err(MetricsError::InvalidMatrix(format!(
                "not square: {n_classes} rows but row {row} has {} entries",
                r.len()
            )));
        }
        Ok(Self {
            n_classes,
            counts: rows,
        })
    }

    /// Adds one sample with true class `truth` predicted as `predicted`.
    ///
    /// Argument order is `(predicted, truth)`, as in
    /// [`from_labels`](Self::from_labels) and [`accuracy`](crate::accuracy)
    /// (unlike [`count`](Self::count), which follows the matrix indexing).
    /// Counts saturate at `u64::MAX` instead of overflowing.
    ///
    /// # Errors
    /// [`MetricsError::ClassOutOfRange`] if either label is `>= n_classes`
    /// (the matrix is then unchanged).
    pub fn record(&mut self, predicted: usize, truth: usize) -> Result<()> {
        let n_classes = self.n_classes;
        let bad = if truth >= n_classes { truth } else { predicted };
        let cell = self
            .counts
            .get_mut(truth)
            .and_then(|row| row.get_mut(predicted))
            .ok_or(MetricsError::ClassOutOfRange {
                class: bad,
                n_classes,
            })?;
        *cell = cell.saturating_add(1);
        Ok(())
    }

    /// Number of classes (the matrix is `n_classes × n_classes`).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The counts, `counts()[truth][predicted]`.
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }

    /// An owned copy of the counts, rows = true class.
    pub fn to_rows(&self) -> Vec<Vec<u64>> {
        self.counts.clone()
    }

    /// The count of samples of true class `truth` predicted as `predicted`,
    /// i.e. `counts()[truth][predicted]` (argument order = matrix indexing).
    ///
    /// # Errors
    /// [`MetricsError::ClassOutOfRange`] if either index is `>= n_classes`.
    pub fn count(&self, truth: usize, predicted: usize) -> Result<u64> {
        let n_classes = self.n_classes;
        let bad = if truth >= n_classes { truth } else { predicted };
        self.counts
            .get(truth)
            .and_then(|row| row.get(predicted))
            .copied()
            .ok_or(MetricsError::ClassOutOfRange {
                class: bad,
                n_classes,
            })
    }

    /// Total number of samples (sum of all counts), saturating at `u64::MAX`.
    pub fn total(&self) -> u64 {
        let total = sum_u128(self.counts.iter().flatten());
        u64::try_from(total).unwrap_or(u64::MAX)
    }

    /// Fraction of samples on the diagonal.
    ///
    /// # Errors
    /// [`MetricsError::Empty`] if the matrix holds no samples.
    pub fn accuracy(&self) -> Result<f64> {
        let total = sum_u128(self.counts.iter().flatten());
        if total == 0 {
            return Err(MetricsError::Empty {
                what: "confusion matrix",
            });
        }
        let diagonal = sum_u128(self.counts.iter().enumerate().filter_map(|(i, r)| r.get(i)));
        Ok(diagonal as f64 / total as f64)
    }

    fn check_class(&self, class: usize) -> Result<()> {
        if class < self.n_classes {
            Ok(())
        } else {
            Err(MetricsError::ClassOutOfRange {
                class,
                n_classes: self.n_classes,
            })
        }
    }

    /// Diagonal entry of `class` (0 if out of range; callers check first).
    fn diagonal(&self, class: usize) -> u64 {
        self.counts
            .get(class)
            .and_then(|row| row.get(class))
            .copied()
            .unwrap_or(0)
    }

    /// Recall (sensitivity, true-positive rate) of `class`:
    /// `counts[class][class] / sum(counts[class][..])`.
    ///
    /// For a binary matrix, `recall(1)` is the sensitivity and `recall(0)`
    /// the specificity.
    ///
    /// # Errors
    /// [`MetricsError::ClassOutOfRange`] for a bad class,
    /// [`MetricsError::Undefined`] if the class has no true samples.
    pub fn recall(&self, class: usize) -> Result<f64> {
        self.check_class(class)?;
        let row_sum = self.counts.get(class).map_or(0, |r| sum_u128(r.iter()));
        if row_sum == 0 {
            return Err(MetricsError::Undefined {
                metric: "recall",
                class,
                reason: "no samples have this true class",
            });
        }
        Ok(self.diagonal(class) as f64 / row_sum as f64)
    }

    /// Precision of `class`: `counts[class][class] / sum(counts[..][class])`.
    ///
    /// # Errors
    /// [`MetricsError::ClassOutOfRange`] for a bad class,
    /// [`MetricsError::Undefined`] if no sample was predicted as `class`.
    pub fn precision(&self, class: usize) -> Result<f64> {
        self.check_class(class)?;
        let col_sum = sum_u128(self.counts.iter().filter_map(|r| r.get(class)));
        if col_sum == 0 {
            return Err(MetricsError::Undefined {
                metric: "precision",
                class,
                reason: "no samples were predicted as this class",
            });
        }
        Ok(self.diagonal(class) as f64 / col_sum as f64)
    }

    /// Balanced accuracy: the mean of the per-class recalls over the classes
    /// that have at least one true sample (classes absent from the truth are
    /// skipped, as scikit-learn's `balanced_accuracy_score` does).
    ///
    /// For a binary matrix this is `(sensitivity + specificity) / 2`.
    ///
    /// # Errors
    /// [`MetricsError::Empty`] if the matrix holds no samples.
    pub fn balanced_accuracy(&self) -> Result<f64> {
        let mut sum = 0.0;
        let mut present = 0usize;
        for (class, row) in self.counts.iter().enumerate() {
            let row_sum = sum_u128(row.iter());
            if row_sum > 0 {
                let hits = row.get(class).copied().unwrap_or(0);
                sum += hits as f64 / row_sum as f64;
                present += 1;
            }
        }
        if present == 0 {
            return Err(MetricsError::Empty {
                what: "confusion matrix",
            });
        }
        Ok(sum / present as f64)
    }
}

/// Checks binary-classification inputs shared by the score-based functions
/// and returns them as `f64` scores and `bool` truth.
pub(crate) fn check_binary_inputs<S: Copy + Into<f64>, T: Label>(
    scores: &[S],
    truth: &[T],
) -> Result<(Vec<f64>, Vec<bool>)> {
    check_pair("scores", scores.len(), "truth", truth.len())?;
    let scores = crate::labels::scores(scores);
    check_finite("scores", &scores)?;
    Ok((scores, binary("truth", truth)?))
}

/// Thresholds `scores` (positive iff `score >= threshold`) and counts the
/// result against `truth` in a 2×2 [`ConfusionMatrix`] with class 0 =
/// negative (`false`) and 1 = positive (`true`): `[[TN, FP], [FN, TP]]`.
///
/// A threshold of `+inf` predicts everything negative and `-inf` everything
/// positive (the two ends of the ROC curve); only NaN is rejected.
///
/// ```
/// let scores = [0.1, 0.4, 0.35, 0.8];
/// let truth = [false, false, true, true];
/// let cm = seqlab_metrics::binary_confusion(&scores, &truth, 0.4).unwrap();
/// assert_eq!(cm.to_rows(), vec![vec![1, 1], vec![1, 1]]); // 0.4 itself is positive
/// ```
///
/// # Errors
/// [`MetricsError::InvalidThreshold`] for a NaN threshold,
/// [`MetricsError::LengthMismatch`] / [`MetricsError::Empty`] for mismatched
/// or empty inputs, [`MetricsError::NonFinite`] for a NaN or infinite score.
pub fn binary_confusion<S: Copy + Into<f64>, T: Label>(
    scores: &[S],
    truth: &[T],
    threshold: f64,
) -> Result<ConfusionMatrix> {
    if threshold.is_nan() {
        return Err(MetricsError::InvalidThreshold { threshold });
    }
    let (scores, truth) = check_binary_inputs(scores, truth)?;
    let mut cm = ConfusionMatrix::new(2)?;
    for (&score, &positive) in scores.iter().zip(&truth) {
        cm.record(usize::from(score >= threshold), usize::from(positive))?;
    }
    Ok(cm)
}

/// Balanced accuracy of the classifier "positive iff `score >= threshold`":
/// `(TPR + TNR) / 2`, or the one defined rate if `truth` holds a single
/// class. Shorthand for
/// `binary_confusion(scores, truth, threshold)?.balanced_accuracy()`.
///
/// ```
/// let scores = [0.1, 0.4, 0.35, 0.8];
/// let truth = [false, false, true, true];
/// let ba = seqlab_metrics::balanced_accuracy_at(&scores, &truth, 0.8).unwrap();
/// assert_eq!(ba, 0.75); // TPR 0.5, TNR 1.0
/// ```
///
/// # Errors
/// As [`binary_confusion`].
pub fn balanced_accuracy_at<S: Copy + Into<f64>, T: Label>(
    scores: &[S],
    truth: &[T],
    threshold: f64,
) -> Result<f64> {
    binary_confusion(scores, truth, threshold)?.balanced_accuracy()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book_matrix() -> ConfusionMatrix {
        ConfusionMatrix::from_counts(vec![vec![10273, 2227], vec![1818, 10682]]).unwrap()
    }

    #[test]
    fn book_confusion_balanced_accuracy() {
        let cm = book_matrix();
        assert_eq!(cm.total(), 25000);
        let ba = cm.balanced_accuracy().unwrap();
        assert!((ba - 0.8382).abs() < 5e-5, "{ba}");
        assert_eq!(format!("{ba:.4}"), "0.8382");
        // Exact value: (10273/12500 + 10682/12500) / 2.
        assert!((ba - (10273.0 + 10682.0) / 25000.0).abs() < 1e-15);
        assert!((cm.recall(0).unwrap() - 0.82184).abs() < 1e-12); // specificity
        assert!((cm.recall(1).unwrap() - 0.85456).abs() < 1e-12); // sensitivity
        assert!((cm.precision(1).unwrap() - 10682.0 / 12909.0).abs() < 1e-15);
        assert!((cm.precision(0).unwrap() - 10273.0 / 12091.0).abs() < 1e-15);
        assert!((cm.accuracy().unwrap() - 0.8382).abs() < 1e-15);
    }

    #[test]
    fn from_labels_layout_is_truth_by_predicted() {
        // predicted, truth
        let cm = ConfusionMatrix::from_labels(&[0, 2, 2, 1, 0, 2], &[0, 0, 2, 1, 1, 2], 3).unwrap();
        assert_eq!(
            cm.to_rows(),
            vec![vec![1, 0, 1], vec![1, 1, 0], vec![0, 0, 2]]
        );
        assert_eq!(cm.counts()[0][2], 1);
        assert_eq!(cm.count(0, 2).unwrap(), 1); // truth 0 predicted 2
        assert_eq!(cm.count(2, 0).unwrap(), 0);
        assert_eq!(cm.n_classes(), 3);
        assert_eq!(cm.total(), 6);
        assert!((cm.accuracy().unwrap() - 4.0 / 6.0).abs() < 1e-15);
        assert_eq!(cm.recall(0).unwrap(), 0.5);
        assert_eq!(cm.recall(1).unwrap(), 0.5);
        assert_eq!(cm.recall(2).unwrap(), 1.0);
        assert_eq!(cm.precision(0).unwrap(), 0.5);
        assert_eq!(cm.precision(1).unwrap(), 1.0);
        assert!((cm.precision(2).unwrap() - 2.0 / 3.0).abs() < 1e-15);
        assert!((cm.balanced_accuracy().unwrap() - 2.0 / 3.0).abs() < 1e-15);
        // Agrees with the free accuracy function.
        assert_eq!(
            cm.accuracy().unwrap(),
            crate::accuracy(&[0, 2, 2, 1, 0, 2], &[0, 0, 2, 1, 1, 2]).unwrap()
        );
    }

    #[test]
    fn balanced_accuracy_skips_absent_classes() {
        // Class 2 never occurs in truth (but is predicted once): it is skipped.
        let cm = ConfusionMatrix::from_labels(&[0, 0, 1, 2], &[0, 0, 1, 1], 3).unwrap();
        assert_eq!(cm.balanced_accuracy().unwrap(), (1.0 + 0.5) / 2.0);
        assert!(matches!(
            cm.recall(2).unwrap_err(),
            MetricsError::Undefined {
                metric: "recall",
                class: 2,
                ..
            }
        ));
        assert_eq!(cm.precision(2).unwrap(), 0.0);
    }

    #[test]
    fn record_and_new() {
        let mut cm = ConfusionMatrix::new(2).unwrap();
        assert_eq!(cm.total(), 0);
        assert_eq!(
            cm.accuracy().unwrap_err(),
            MetricsError::Empty {
                what: "confusion matrix"
            }
        );
        assert!(cm.balanced_accuracy().is_err());
        cm.record(1, 0).unwrap();
        cm.record(1, 1).unwrap();
        assert_eq!(cm.to_rows(), vec![vec![0, 1], vec![0, 1]]);
        let err = cm.record(2, 0).unwrap_err();
        assert_eq!(
            err,
            MetricsError::ClassOutOfRange {
                class: 2,
                n_classes: 2
            }
        );
        assert!(cm.record(0, 5).is_err());
        assert_eq!(cm.total(), 2, "failed record must not change the matrix");
        assert!(matches!(
            cm.precision(0).unwrap_err(),
            MetricsError::Undefined {
                metric: "precision",
                class: 0,
                ..
            }
        ));
    }

    #[test]
    fn saturating_counts_do_not_panic() {
        let mut cm =
            ConfusionMatrix::from_counts(vec![vec![u64::MAX, u64::MAX], vec![1, 0]]).unwrap();
        cm.record(0, 0).unwrap();
        assert_eq!(cm.count(0, 0).unwrap(), u64::MAX);
        assert_eq!(cm.total(), u64::MAX);
        assert!((cm.accuracy().unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn confusion_errors() {
        assert_eq!(
            ConfusionMatrix::new(0).unwrap_err(),
            MetricsError::InvalidClassCount { n_classes: 0 }
        );
        assert_eq!(
            ConfusionMatrix::from_labels(&[0], &[0], 0).unwrap_err(),
            MetricsError::InvalidClassCount { n_classes: 0 }
        );
        let err = ConfusionMatrix::from_labels(&[0, 1], &[0, 1, 1], 2).unwrap_err();
        assert!(matches!(
            err,
            MetricsError::LengthMismatch {
                left_len: 2,
                right_len: 3,
                ..
            }
        ));
        assert!(err.to_string().contains("2 elements") && err.to_string().contains('3'));
        assert_eq!(
            ConfusionMatrix::from_labels::<usize, usize>(&[], &[], 2).unwrap_err(),
            MetricsError::Empty { what: "predicted" }
        );

        let err = ConfusionMatrix::from_labels(&[0, 1, 1], &[0, 1, 7], 2).unwrap_err();
        assert_eq!(
            err,
            MetricsError::LabelOutOfRange {
                what: "truth",
                index: 2,
                value: 7,
                n_classes: 2
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("truth[2]") && msg.contains('7'), "{msg}");

        let err = ConfusionMatrix::from_labels(&[3, 1], &[0, 1], 3).unwrap_err();
        assert!(err.to_string().contains("predicted[0] is 3"), "{err}");

        let cm = book_matrix();
        let err = cm.recall(2).unwrap_err();
        assert_eq!(
            err,
            MetricsError::ClassOutOfRange {
                class: 2,
                n_classes: 2
            }
        );
        assert!(err.to_string().contains("class 2"));
        assert!(cm.precision(5).is_err());
        assert!(matches!(
            cm.count(0, 9).unwrap_err(),
            MetricsError::ClassOutOfRange { class: 9, .. }
        ));

        assert!(matches!(
            ConfusionMatrix::from_counts(vec![]).unwrap_err(),
            MetricsError::InvalidMatrix(_)
        ));
        let err = ConfusionMatrix::from_counts(vec![vec![1, 2], vec![3]]).unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
    }

    #[test]
    fn serde_round_trip() {
        let cm = book_matrix();
        let json = serde_json::to_string(&cm).unwrap();
        assert_eq!(
            json,
            r#"{"n_classes":2,"counts":[[10273,2227],[1818,10682]]}"#
        );
        let back: ConfusionMatrix = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cm);
        assert_eq!(
            back.balanced_accuracy().unwrap(),
            cm.balanced_accuracy().unwrap()
        );

        // Invalid shapes are rejected instead of producing a matrix that could panic.
        for bad in [
            r#"{"n_classes":2,"counts":[[1,2],[3]]}"#,
            r#"{"n_classes":3,"counts":[[1,2],[3,4]]}"#,
            r#"{"n_classes":0,"counts":[]}"#,
        ] {
            let err = serde_json::from_str::<ConfusionMatrix>(bad).unwrap_err();
            assert!(
                err.to_string().contains("invalid confusion matrix"),
                "{err}"
            );
        }
    }

    #[test]
    fn binary_confusion_threshold_is_inclusive() {
        let scores = [0.1, 0.4, 0.35, 0.8];
        let truth = [false, false, true, true];
        let cm = binary_confusion(&scores, &truth, 0.35).unwrap();
        // predicted positive: 0.4 (FP), 0.35 (TP), 0.8 (TP); 0.1 TN.
        assert_eq!(cm.to_rows(), vec![vec![1, 1], vec![0, 2]]);
        let all_neg = binary_confusion(&scores, &truth, f64::INFINITY).unwrap();
        assert_eq!(all_neg.to_rows(), vec![vec![2, 0], vec![2, 0]]);
        let all_pos = binary_confusion(&scores, &truth, f64::NEG_INFINITY).unwrap();
        assert_eq!(all_pos.to_rows(), vec![vec![0, 2], vec![0, 2]]);
        assert_eq!(balanced_accuracy_at(&scores, &truth, 0.35).unwrap(), 0.75);
        assert_eq!(balanced_accuracy_at(&scores, &truth, 0.5).unwrap(), 0.75);
        assert_eq!(balanced_accuracy_at(&scores, &truth, 100.0).unwrap(), 0.5);
        // Single-class truth: balanced accuracy is the one defined recall.
        assert_eq!(
            balanced_accuracy_at(&[0.2, 0.9], &[true, true], 0.5).unwrap(),
            0.5
        );
    }

    #[test]
    fn binary_errors() {
        let err = binary_confusion(&[0.5], &[true], f64::NAN).unwrap_err();
        assert!(matches!(err, MetricsError::InvalidThreshold { threshold } if threshold.is_nan()));
        assert!(err.to_string().contains("threshold"), "{err}");
        assert!(balanced_accuracy_at(&[0.5], &[true], f64::NAN).is_err());

        let err = binary_confusion(&[0.5, 0.2], &[true], 0.5).unwrap_err();
        assert_eq!(
            err,
            MetricsError::LengthMismatch {
                left: "scores",
                left_len: 2,
                right: "truth",
                right_len: 1
            }
        );
        assert_eq!(
            binary_confusion::<f64, bool>(&[], &[], 0.5).unwrap_err(),
            MetricsError::Empty { what: "scores" }
        );
        let err = balanced_accuracy_at(&[0.5, f64::INFINITY], &[true, false], 0.5).unwrap_err();
        assert_eq!(
            err,
            MetricsError::NonFinite {
                what: "scores",
                index: 1,
                value: f64::INFINITY
            }
        );
        assert!(err.to_string().contains("scores[1] is inf"), "{err}");
    }
}
