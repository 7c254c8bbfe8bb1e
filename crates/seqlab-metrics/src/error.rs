//! The error type shared by every function of this crate.

/// Everything that can go wrong when computing a metric.
///
/// Every public function of this crate that looks at caller data returns
/// `Result<_, MetricsError>`; none of them panics. The `what`/`left`/`right`
/// fields name the offending argument (for example `"predicted"`, `"truth"`,
/// `"scores"`), so the [`Display`](std::fmt::Display) message alone says what
/// is wrong and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// An input slice (or a confusion matrix) holds no samples.
    #[error("empty input: {what} has no elements")]
    Empty {
        /// Name of the empty argument.
        what: &'static str,
    },

    /// Two inputs that must be paired element by element differ in length.
    #[error("length mismatch: {left} has {left_len} elements but {right} has {right_len}")]
    LengthMismatch {
        /// Name of the first argument.
        left: &'static str,
        /// Length of the first argument.
        left_len: usize,
        /// Name of the second argument.
        right: &'static str,
        /// Length of the second argument.
        right_len: usize,
    },

    /// A label is not a class index (a negative number), or not binary
    /// where a binary label is needed.
    #[error("invalid label: {what}[{index}] is {value}, expected {expected}")]
    InvalidLabel {
        /// Name of the argument holding the label.
        what: &'static str,
        /// Position of the label in that argument.
        index: usize,
        /// The label as written.
        value: String,
        /// What a label must be here.
        expected: &'static str,
    },

    /// A class label is not in `0..n_classes`.
    #[error(
        "label out of range: {what}[{index}] is {value}, but labels must be in 0..{n_classes}"
    )]
    LabelOutOfRange {
        /// Name of the argument holding the label.
        what: &'static str,
        /// Position of the label in that argument.
        index: usize,
        /// The offending label.
        value: usize,
        /// Number of classes; valid labels are `0..n_classes`.
        n_classes: usize,
    },

    /// A ROC curve (or AUC) was requested but the ground truth holds only
    /// positives or only negatives, so one of the two rates is undefined.
    #[error(
        "ROC needs both classes, but truth has {positives} positive and {negatives} negative samples"
    )]
    SingleClass {
        /// Number of `true` entries in the ground truth.
        positives: usize,
        /// Number of `false` entries in the ground truth.
        negatives: usize,
    },

    /// A value that must be finite is NaN or infinite (for
    /// [`argmax_rows`](crate::argmax_rows): NaN).
    #[error("non-finite value: {what}[{index}] is {value}")]
    NonFinite {
        /// Name of the argument holding the value.
        what: &'static str,
        /// Position of the value in that argument (row-major for matrices).
        index: usize,
        /// The offending value.
        value: f64,
    },

    /// A decision threshold is NaN (a NaN threshold classifies nothing
    /// consistently). Infinite thresholds are valid.
    #[error("invalid threshold {threshold}: a decision threshold must not be NaN")]
    InvalidThreshold {
        /// The offending threshold.
        threshold: f64,
    },

    /// The number of classes is zero.
    #[error("invalid number of classes {n_classes}: at least one class is needed")]
    InvalidClassCount {
        /// The offending class count.
        n_classes: usize,
    },

    /// A flat row-major score buffer does not divide into rows of
    /// `n_classes` values.
    #[error("ragged scores: {len} values cannot be split into rows of {n_classes} classes")]
    RaggedScores {
        /// Length of the score buffer.
        len: usize,
        /// Requested row width.
        n_classes: usize,
    },

    /// A class index passed to a [`ConfusionMatrix`](crate::ConfusionMatrix)
    /// method is not in `0..n_classes`.
    #[error("class {class} out of range: the confusion matrix has {n_classes} classes")]
    ClassOutOfRange {
        /// The offending class index.
        class: usize,
        /// Number of classes of the matrix.
        n_classes: usize,
    },

    /// A per-class ratio has a zero denominator (for example the recall of a
    /// class with no true samples).
    #[error("{metric} of class {class} is undefined: {reason}")]
    Undefined {
        /// The metric, e.g. `"recall"`.
        metric: &'static str,
        /// The class it was requested for.
        class: usize,
        /// Why the denominator is zero.
        reason: &'static str,
    },

    /// Confusion-matrix counts that are not a non-empty square matrix.
    #[error("invalid confusion matrix: {0}")]
    InvalidMatrix(String),

    /// A hand-built [`RocCurve`](crate::RocCurve) that cannot be a ROC curve
    /// (too few points, `fpr` decreasing, ...).
    #[error("invalid ROC curve: {0}")]
    InvalidCurve(String),
}

/// Shorthand for `Result<T, MetricsError>`.
pub type Result<T> = std::result::Result<T, MetricsError>;

/// Checks that two paired inputs have the same length and are not empty.
pub(crate) fn check_pair(
    left: &'static str,
    left_len: usize,
    right: &'static str,
    right_len: usize,
) -> Result<()> {
    if left_len != right_len {
        return Err(MetricsError::LengthMismatch {
            left,
            left_len,
            right,
            right_len,
        });
    }
    if left_len == 0 {
        return Err(MetricsError::Empty { what: left });
    }
    Ok(())
}

/// Returns the first non-finite value of `values` as an error.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<()> {
    for (index, &value) in values.iter().enumerate() {
        if !value.is_finite() {
            return Err(MetricsError::NonFinite { what, index, value });
        }
    }
    Ok(())
}
