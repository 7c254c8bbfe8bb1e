//! ROC curve, area under it, and the Youden-optimal threshold.

use serde::{Deserialize, Serialize};

use crate::confusion::check_binary_inputs;
use crate::error::{check_finite, MetricsError, Result};
use crate::labels::Label;

/// A receiver operating characteristic curve, as scikit-learn's
/// `roc_curve(y_true, y_score, drop_intermediate=False)` returns it.
///
/// The three vectors are parallel. Point `i` is the classifier "positive iff
/// `score >= thresholds[i]`", with false-positive rate `fpr[i]` and
/// true-positive rate `tpr[i]`. `thresholds[0]` is `+inf` (nothing predicted
/// positive, the point `(0, 0)`); the following thresholds are the distinct
/// scores in decreasing order, so `fpr` and `tpr` are non-decreasing and the
/// last point is `(1, 1)`. Tied scores enter together, which draws a
/// diagonal segment.
///
/// # Serialisation
/// Serialises as `{"fpr": [...], "tpr": [...], "thresholds": [...]}` with all
/// points kept. Because JSON has no infinity (and `serde_json` would write
/// `null`), non-finite thresholds are written as strings: the first threshold
/// is the JSON string `"inf"`, the others are plain numbers. Reading accepts
/// numbers and the strings `"inf"`, `"-inf"`, `"nan"` (case-insensitive);
/// this needs a self-describing format such as JSON.
///
/// ```
/// let roc = seqlab_metrics::roc_curve(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
/// let json = serde_json::to_string(&roc).unwrap();
/// assert_eq!(
///     json,
///     r#"{"fpr":[0.0,0.0,0.5,0.5,1.0],"tpr":[0.0,0.5,0.5,1.0,1.0],"thresholds":["inf",0.8,0.4,0.35,0.1]}"#
/// );
/// let back: seqlab_metrics::RocCurve = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, roc);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// False-positive rate `FP / N` of each point, non-decreasing.
    pub fpr: Vec<f64>,
    /// True-positive rate `TP / P` of each point, non-decreasing.
    pub tpr: Vec<f64>,
    /// Decision threshold of each point, decreasing; the first is `+inf`.
    #[serde(with = "crate::serde_float::vec")]
    pub thresholds: Vec<f64>,
}

impl RocCurve {
    /// Number of points on the curve.
    pub fn len(&self) -> usize {
        self.fpr.len()
    }

    /// Whether the curve has no points (never true for a curve returned by
    /// [`roc_curve`]).
    pub fn is_empty(&self) -> bool {
        self.fpr.is_empty()
    }
}

/// One ROC point: the classifier "positive iff `score >= threshold`" after
/// all samples with a score `>= threshold` have been counted.
struct CumulativePoint {
    threshold: f64,
    tp: usize,
    fp: usize,
}

/// Validates the inputs and returns, per distinct score (decreasing), the
/// cumulative true- and false-positive counts, plus `(P, N)`.
fn cumulative_points<S: Copy + Into<f64>, T: Label>(
    scores: &[S],
    truth: &[T],
) -> Result<(Vec<CumulativePoint>, usize, usize)> {
    let (scores, truth) = check_binary_inputs(scores, truth)?;
    let (scores, truth) = (scores.as_slice(), truth.as_slice());
    let positives = truth.iter().filter(|&&t| t).count();
    let negatives = truth.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(MetricsError::SingleClass {
            positives,
            negatives,
        });
    }

    let mut pairs: Vec<(f64, bool)> = scores.iter().copied().zip(truth.iter().copied()).collect();
    // Decreasing score. All scores are finite here; `total_cmp` puts -0.0
    // right after 0.0, and the `!=` below treats them as one tied score.
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));

    let mut points = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    let nexts = pairs.iter().skip(1).map(Some).chain(std::iter::once(None));
    for (&(score, positive), next) in pairs.iter().zip(nexts) {
        if positive {
            tp += 1;
        } else {
            fp += 1;
        }
        // Close the group of tied scores at its last member.
        if !matches!(next, Some(&(next_score, _)) if next_score == score) {
            points.push(CumulativePoint {
                threshold: score + 0.0, // normalises -0.0 to 0.0
                tp,
                fp,
            });
        }
    }
    Ok((points, positives, negatives))
}

/// The ROC curve of `scores` (higher = more positive) against `truth`.
///
/// Identical to scikit-learn's `roc_curve(truth, scores,
/// drop_intermediate=False)` (scikit-learn ≥ 1.3, where the first threshold
/// is `inf`): one point per distinct score plus the leading `(0, 0)` point at
/// threshold `+inf`. See [`RocCurve`].
///
/// ```
/// // scikit-learn's documented example: y = [1, 1, 2, 2] with pos_label = 2.
/// let roc = seqlab_metrics::roc_curve(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
/// assert_eq!(roc.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
/// assert_eq!(roc.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
/// assert_eq!(roc.thresholds, vec![f64::INFINITY, 0.8, 0.4, 0.35, 0.1]);
/// ```
///
/// # Errors
/// [`MetricsError::LengthMismatch`] / [`MetricsError::Empty`] for mismatched
/// or empty inputs, [`MetricsError::NonFinite`] for a NaN or infinite score,
/// [`MetricsError::SingleClass`] if `truth` is all `true` or all `false`.
pub fn roc_curve<S: Copy + Into<f64>, T: Label>(scores: &[S], truth: &[T]) -> Result<RocCurve> {
    let (points, positives, negatives) = cumulative_points(scores, truth)?;
    let (p, n) = (positives as f64, negatives as f64);
    let len = points.len() + 1;
    let mut roc = RocCurve {
        fpr: Vec::with_capacity(len),
        tpr: Vec::with_capacity(len),
        thresholds: Vec::with_capacity(len),
    };
    roc.fpr.push(0.0);
    roc.tpr.push(0.0);
    roc.thresholds.push(f64::INFINITY);
    for point in &points {
        roc.fpr.push(point.fp as f64 / n);
        roc.tpr.push(point.tp as f64 / p);
        roc.thresholds.push(point.threshold);
    }
    Ok(roc)
}

/// Checks that a (possibly hand-built) curve is usable: parallel vectors,
/// at least one point, finite rates, no NaN threshold, `fpr` non-decreasing.
fn check_curve(roc: &RocCurve) -> Result<()> {
    let n = roc.fpr.len();
    for (name, len) in [("tpr", roc.tpr.len()), ("thresholds", roc.thresholds.len())] {
        if len != n {
            return Err(MetricsError::LengthMismatch {
                left: "fpr",
                left_len: n,
                right: name,
                right_len: len,
            });
        }
    }
    if n == 0 {
        return Err(MetricsError::Empty { what: "fpr" });
    }
    check_finite("fpr", &roc.fpr)?;
    check_finite("tpr", &roc.tpr)?;
    if let Some(index) = roc.thresholds.iter().position(|t| t.is_nan()) {
        return Err(MetricsError::NonFinite {
            what: "thresholds",
            index,
            value: f64::NAN,
        });
    }
    if let Some(i) = roc.fpr.windows(2).position(|w| w.first() > w.get(1)) {
        return Err(MetricsError::InvalidCurve(format!(
            "fpr decreases between points {i} and {}",
            i + 1
        )));
    }
    Ok(())
}

/// Area under a ROC curve by the trapezoid rule over its points.
///
/// For a curve from [`roc_curve`] this equals the Mann–Whitney statistic
/// `U / (P · N)`: the probability that a random positive scores higher than
/// a random negative, a tie counting one half (the diagonal segments of tied
/// scores contribute exactly that half).
///
/// ```
/// let roc = seqlab_metrics::roc_curve(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
/// assert_eq!(seqlab_metrics::auc(&roc).unwrap(), 0.75);
/// ```
///
/// # Errors
/// For a hand-built curve: [`MetricsError::LengthMismatch`] if the three
/// vectors differ in length, [`MetricsError::Empty`] if they are empty,
/// [`MetricsError::InvalidCurve`] for a single point or a decreasing `fpr`,
/// [`MetricsError::NonFinite`] for a non-finite rate or a NaN threshold.
pub fn auc(roc: &RocCurve) -> Result<f64> {
    check_curve(roc)?;
    if roc.len() < 2 {
        return Err(MetricsError::InvalidCurve(
            "at least two points are needed to compute an area".to_string(),
        ));
    }
    let xs = roc.fpr.windows(2);
    let ys = roc.tpr.windows(2);
    let area = xs
        .zip(ys)
        .map(|(x, y)| match (x, y) {
            ([x0, x1], [y0, y1]) => (x1 - x0) * (y0 + y1) / 2.0,
            _ => 0.0, // unreachable: windows(2) yields pairs
        })
        .sum();
    Ok(area)
}

/// ROC AUC of `scores` against `truth`: the same trapezoid as
/// `auc(&roc_curve(scores, truth)?)`, but accumulated in exact integer
/// arithmetic and divided once at the end, so it is the correctly rounded
/// Mann–Whitney `U / (P · N)` (ties count one half). It may differ from the
/// floating-point [`auc`] in the last bits.
///
/// ```
/// // All scores tied: the curve is the diagonal, AUC exactly 0.5.
/// let auc = seqlab_metrics::roc_auc(&[0.3; 4], &[true, false, false, true]).unwrap();
/// assert_eq!(auc, 0.5);
/// ```
///
/// # Errors
/// As [`roc_curve`].
pub fn roc_auc<S: Copy + Into<f64>, T: Label>(scores: &[S], truth: &[T]) -> Result<f64> {
    let (points, positives, negatives) = cumulative_points(scores, truth)?;
    // Twice the area in units of 1/(P·N): sum of dFP · (TP_prev + TP).
    let mut twice_area: u128 = 0;
    let (mut prev_tp, mut prev_fp) = (0u128, 0u128);
    for point in &points {
        let (tp, fp) = (point.tp as u128, point.fp as u128);
        twice_area += (fp - prev_fp) * (prev_tp + tp);
        prev_tp = tp;
        prev_fp = fp;
    }
    let denominator = 2.0 * positives as f64 * negatives as f64;
    Ok(twice_area as f64 / denominator)
}

/// The ROC point chosen by Youden's J statistic, see [`youden_threshold`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct YoudenPoint {
    /// Decision threshold: predict positive iff `score >= threshold`.
    /// Serialised like [`RocCurve::thresholds`] (`"inf"` if infinite).
    #[serde(with = "crate::serde_float::scalar")]
    pub threshold: f64,
    /// True-positive rate (sensitivity) at that threshold.
    pub tpr: f64,
    /// False-positive rate (1 − specificity) at that threshold.
    pub fpr: f64,
    /// Youden's J = `tpr − fpr` = sensitivity + specificity − 1
    /// = 2 · balanced accuracy − 1.
    pub j: f64,
}

/// The threshold that maximises Youden's J = `tpr − fpr` over the curve's
/// points, i.e. the threshold of maximal balanced accuracy.
///
/// Ties go to the first point, i.e. the highest threshold, as
/// `thresholds[numpy.argmax(tpr - fpr)]` does.
///
/// **The `+inf` point is never returned** (unless the curve has no finite
/// threshold at all, e.g. a single-point curve): the search runs over the
/// points with a finite threshold only. On a curve from [`roc_curve`] this
/// loses nothing: the `+inf` point has J = 0 and the last point `(1, 1)`
/// also has J = 0, so when the maximal J is 0 the result is the highest
/// finite threshold with J = 0 (in the worst case the lowest score:
/// "predict everything positive"). Whenever numpy's argmax picks a finite
/// threshold, the result is the same as numpy's.
///
/// ```
/// let scores = [0.2, 0.3, 0.6, 0.7, 0.8];
/// let truth = [false, false, true, false, true];
/// let roc = seqlab_metrics::roc_curve(&scores, &truth).unwrap();
/// let best = seqlab_metrics::youden_threshold(&roc).unwrap();
/// assert_eq!(best.threshold, 0.6);
/// assert_eq!((best.tpr, best.fpr), (1.0, 1.0 / 3.0));
/// assert!((best.j - 2.0 / 3.0).abs() < 1e-15);
/// ```
///
/// # Errors
/// As [`auc`] for a malformed hand-built curve (a single point is allowed).
pub fn youden_threshold(roc: &RocCurve) -> Result<YoudenPoint> {
    check_curve(roc)?;
    let points =
        roc.thresholds
            .iter()
            .zip(&roc.tpr)
            .zip(&roc.fpr)
            .map(|((&threshold, &tpr), &fpr)| YoudenPoint {
                threshold,
                tpr,
                fpr,
                j: tpr - fpr,
            });
    let has_finite = roc.thresholds.iter().any(|t| t.is_finite());
    let mut best: Option<YoudenPoint> = None;
    for point in points.filter(|p| !has_finite || p.threshold.is_finite()) {
        // Strict `>` keeps the first maximum (highest threshold).
        let better = match best {
            None => true,
            Some(b) => point.j > b.j,
        };
        if better {
            best = Some(point);
        }
    }
    best.ok_or(MetricsError::Empty { what: "fpr" })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiny deterministic 64-bit LCG (Knuth's MMIX constants).
    struct Lcg(u64);

    impl Lcg {
        fn next_u64(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    /// Brute-force Mann–Whitney AUC: over all (positive, negative) pairs,
    /// 1 if the positive scores higher, 1/2 on a tie.
    fn mann_whitney_auc(scores: &[f64], truth: &[bool]) -> f64 {
        let mut twice_u = 0u64;
        let (mut p, mut n) = (0u64, 0u64);
        for (&sp, &tp) in scores.iter().zip(truth) {
            if tp {
                p += 1;
            } else {
                n += 1;
            }
            if !tp {
                continue;
            }
            for (&sn, &tn) in scores.iter().zip(truth) {
                if tn {
                    continue;
                }
                if sp > sn {
                    twice_u += 2;
                } else if sp == sn {
                    twice_u += 1;
                }
            }
        }
        twice_u as f64 / (2 * p * n) as f64
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn sklearn_documented_example() {
        // sklearn: y = [1, 1, 2, 2], scores = [0.1, 0.4, 0.35, 0.8], pos_label=2
        let scores = [0.1, 0.4, 0.35, 0.8];
        let truth = [false, false, true, true];
        let roc = roc_curve(&scores, &truth).unwrap();
        assert_eq!(roc.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(roc.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(roc.thresholds, vec![f64::INFINITY, 0.8, 0.4, 0.35, 0.1]);
        assert_eq!(roc.len(), 5);
        assert!(!roc.is_empty());
        assert_eq!(auc(&roc).unwrap(), 0.75);
        assert_eq!(roc_auc(&scores, &truth).unwrap(), 0.75);
        assert_eq!(mann_whitney_auc(&scores, &truth), 0.75);
    }

    #[test]
    fn all_scores_tied_is_the_diagonal() {
        let truth = [true, false, false, true, false];
        let roc = roc_curve(&[0.7; 5], &truth).unwrap();
        assert_eq!(roc.fpr, vec![0.0, 1.0]);
        assert_eq!(roc.tpr, vec![0.0, 1.0]);
        assert_eq!(roc.thresholds, vec![f64::INFINITY, 0.7]);
        assert_eq!(auc(&roc).unwrap(), 0.5);
        assert_eq!(roc_auc(&[0.7; 5], &truth).unwrap(), 0.5);
    }

    #[test]
    fn partial_ties_by_hand() {
        // P = {0.9, 0.5}, N = {0.5, 0.5, 0.2}.
        // Pairs: 0.9 beats all 3 negatives -> 3; 0.5 ties two 0.5s -> 2 × 1/2,
        // beats 0.2 -> 1. U = 5, P·N = 6, AUC = 5/6.
        let scores = [0.5, 0.9, 0.2, 0.5, 0.5];
        let truth = [false, true, false, true, false];
        let roc = roc_curve(&scores, &truth).unwrap();
        assert_eq!(roc.thresholds, vec![f64::INFINITY, 0.9, 0.5, 0.2]);
        assert_eq!(roc.tpr, vec![0.0, 0.5, 1.0, 1.0]);
        assert!(close(roc.fpr[2], 2.0 / 3.0));
        assert_eq!(roc.fpr[3], 1.0);
        // The tie group 0.5 is one diagonal step from (0, 1/2) to (2/3, 1).
        assert!(close(auc(&roc).unwrap(), 5.0 / 6.0));
        assert!(close(roc_auc(&scores, &truth).unwrap(), 5.0 / 6.0));
        assert!(close(mann_whitney_auc(&scores, &truth), 5.0 / 6.0));
    }

    #[test]
    fn signed_zero_scores_are_one_tie() {
        let scores = [0.0, -0.0, 1.0, -0.0];
        let truth = [true, false, true, false];
        let roc = roc_curve(&scores, &truth).unwrap();
        assert_eq!(roc.thresholds, vec![f64::INFINITY, 1.0, 0.0]);
        assert!(roc.thresholds[2].is_sign_positive());
        assert_eq!(roc_auc(&scores, &truth).unwrap(), 0.75);
        assert_eq!(mann_whitney_auc(&scores, &truth), 0.75);
    }

    #[test]
    fn trapezoid_matches_mann_whitney_on_pseudo_random_ties() {
        let mut rng = Lcg(0x5eed_1ab5);
        for case in 0..200 {
            let len = 2 + (rng.next_u64() % 60) as usize;
            let levels = 1 + rng.next_u64() % 8; // few levels -> many ties
            let mut scores: Vec<f64> = (0..len)
                .map(|_| (rng.next_u64() % levels) as f64 / levels as f64 - 0.3)
                .collect();
            let mut truth: Vec<bool> = scores
                .iter()
                .map(|&s| rng.next_u64() % 100 < (30 + (s * 40.0) as i64).clamp(5, 95) as u64)
                .collect();
            // Make sure both classes are present.
            truth[0] = true;
            truth[1] = false;
            if case % 10 == 0 {
                scores.iter_mut().for_each(|s| *s = 0.25); // fully tied case
            }

            let expected = mann_whitney_auc(&scores, &truth);
            let roc = roc_curve(&scores, &truth).unwrap();
            let trapezoid = auc(&roc).unwrap();
            let exact = roc_auc(&scores, &truth).unwrap();
            assert!(
                close(trapezoid, expected),
                "case {case}: {trapezoid} vs {expected}"
            );
            assert!(close(exact, expected), "case {case}: {exact} vs {expected}");

            // Structure: (0,0) at +inf first, (1,1) last, thresholds strictly
            // decreasing and equal to the distinct scores.
            assert_eq!((roc.fpr[0], roc.tpr[0]), (0.0, 0.0));
            assert_eq!(roc.thresholds[0], f64::INFINITY);
            assert_eq!((roc.fpr[roc.len() - 1], roc.tpr[roc.len() - 1]), (1.0, 1.0));
            assert!(roc.thresholds.windows(2).all(|w| w[0] > w[1]));
            assert!(roc.fpr.windows(2).all(|w| w[0] <= w[1]));
            assert!(roc.tpr.windows(2).all(|w| w[0] <= w[1]));
            let mut distinct = scores.clone();
            distinct.sort_by(|a, b| b.total_cmp(a));
            distinct.dedup();
            assert_eq!(roc.thresholds[1..], distinct[..]);

            // Each point is the binary confusion matrix at its threshold.
            for i in 1..roc.len() {
                let cm = crate::binary_confusion(&scores, &truth, roc.thresholds[i]).unwrap();
                assert!(close(cm.recall(1).unwrap(), roc.tpr[i]));
                assert!(close(1.0 - cm.recall(0).unwrap(), roc.fpr[i]));
            }
        }
    }

    #[test]
    fn youden_hand_worked() {
        // Sorted: 0.8 T, 0.7 F, 0.6 T, 0.3 F, 0.2 F; P = 2, N = 3.
        // J: inf 0, 0.8 1/2, 0.7 1/2-1/3, 0.6 1-1/3 = 2/3, 0.3 1/3, 0.2 0.
        let scores = [0.2, 0.3, 0.6, 0.7, 0.8];
        let truth = [false, false, true, false, true];
        let roc = roc_curve(&scores, &truth).unwrap();
        let best = youden_threshold(&roc).unwrap();
        assert_eq!(best.threshold, 0.6);
        assert_eq!(best.tpr, 1.0);
        assert!(close(best.fpr, 1.0 / 3.0));
        assert!(close(best.j, 2.0 / 3.0));
        // J = 2·balanced accuracy − 1 at that threshold.
        let ba = crate::balanced_accuracy_at(&scores, &truth, best.threshold).unwrap();
        assert!(close(best.j, 2.0 * ba - 1.0));
        // And no threshold on the curve has a higher balanced accuracy.
        for &t in &roc.thresholds {
            assert!(crate::balanced_accuracy_at(&scores, &truth, t).unwrap() <= ba + 1e-15);
        }
    }

    #[test]
    fn youden_ties_pick_the_highest_threshold() {
        // sklearn example: J = 0, 0.5, 0, 0.5, 0 -> first maximum at 0.8.
        let roc = roc_curve(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        let best = youden_threshold(&roc).unwrap();
        assert_eq!(
            best,
            YoudenPoint {
                threshold: 0.8,
                tpr: 0.5,
                fpr: 0.0,
                j: 0.5
            }
        );
    }

    #[test]
    fn youden_never_returns_inf_when_max_j_is_zero() {
        // Perfectly wrong classifier: J = 0 (inf), -1 (0.9), 0 (0.1).
        // numpy's argmax would give +inf; we give the highest finite
        // threshold with J = 0, i.e. 0.1 ("everything positive").
        let roc = roc_curve(&[0.1, 0.9], &[true, false]).unwrap();
        let best = youden_threshold(&roc).unwrap();
        assert_eq!(best.threshold, 0.1);
        assert_eq!((best.tpr, best.fpr, best.j), (1.0, 1.0, 0.0));
        // All tied: the only finite point.
        let roc = roc_curve(&[0.4, 0.4], &[true, false]).unwrap();
        assert_eq!(youden_threshold(&roc).unwrap().threshold, 0.4);
        // A hand-built single-point curve returns its +inf point.
        let lone = RocCurve {
            fpr: vec![0.0],
            tpr: vec![0.0],
            thresholds: vec![f64::INFINITY],
        };
        assert_eq!(youden_threshold(&lone).unwrap().threshold, f64::INFINITY);
        assert!(matches!(
            auc(&lone).unwrap_err(),
            MetricsError::InvalidCurve(_)
        ));
    }

    #[test]
    fn roc_errors() {
        let err = roc_curve(&[0.1, 0.2], &[true, true]).unwrap_err();
        assert_eq!(
            err,
            MetricsError::SingleClass {
                positives: 2,
                negatives: 0
            }
        );
        assert!(err.to_string().contains("both classes"), "{err}");
        assert!(matches!(
            roc_auc(&[0.1], &[false]).unwrap_err(),
            MetricsError::SingleClass {
                positives: 0,
                negatives: 1
            }
        ));

        let err = roc_curve(&[0.1, 0.2, 0.3], &[true, false]).unwrap_err();
        assert!(matches!(
            err,
            MetricsError::LengthMismatch {
                left_len: 3,
                right_len: 2,
                ..
            }
        ));
        let msg = err.to_string();
        assert!(msg.contains("3 elements") && msg.contains("has 2"), "{msg}");

        assert_eq!(
            roc_auc::<f64, bool>(&[], &[]).unwrap_err(),
            MetricsError::Empty { what: "scores" }
        );

        let err = roc_curve(&[0.1, f64::NAN, 0.3], &[true, false, true]).unwrap_err();
        assert!(matches!(
            err,
            MetricsError::NonFinite {
                what: "scores",
                index: 1,
                ..
            }
        ));
        assert!(err.to_string().contains("scores[1] is NaN"), "{err}");
        assert!(roc_auc(&[f64::NEG_INFINITY, 0.0], &[true, false]).is_err());
    }

    #[test]
    fn malformed_hand_built_curves() {
        let ok = roc_curve(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();

        let mut bad = ok.clone();
        bad.tpr.pop();
        let err = auc(&bad).unwrap_err();
        assert!(matches!(
            err,
            MetricsError::LengthMismatch {
                left_len: 5,
                right_len: 4,
                ..
            }
        ));
        assert!(youden_threshold(&bad).is_err());

        let mut bad = ok.clone();
        bad.thresholds.clear();
        assert!(matches!(
            youden_threshold(&bad).unwrap_err(),
            MetricsError::LengthMismatch {
                right: "thresholds",
                ..
            }
        ));

        let empty = RocCurve {
            fpr: vec![],
            tpr: vec![],
            thresholds: vec![],
        };
        assert!(empty.is_empty());
        assert_eq!(
            auc(&empty).unwrap_err(),
            MetricsError::Empty { what: "fpr" }
        );
        assert!(youden_threshold(&empty).is_err());

        let mut bad = ok.clone();
        bad.fpr[2] = f64::NAN;
        assert!(matches!(
            auc(&bad).unwrap_err(),
            MetricsError::NonFinite {
                what: "fpr",
                index: 2,
                ..
            }
        ));

        let mut bad = ok.clone();
        bad.thresholds[3] = f64::NAN;
        assert!(matches!(
            youden_threshold(&bad).unwrap_err(),
            MetricsError::NonFinite {
                what: "thresholds",
                index: 3,
                ..
            }
        ));

        let mut bad = ok;
        bad.fpr.reverse();
        let err = auc(&bad).unwrap_err();
        assert!(matches!(err, MetricsError::InvalidCurve(_)));
        assert!(err.to_string().contains("fpr decreases"), "{err}");
    }

    #[test]
    fn serde_round_trips() {
        let scores = [0.5, 0.9, 0.2, 0.5, 0.5];
        let truth = [false, true, false, true, false];
        let roc = roc_curve(&scores, &truth).unwrap();
        let json = serde_json::to_string(&roc).unwrap();
        assert!(
            json.contains(r#""thresholds":["inf",0.9,0.5,0.2]"#),
            "{json}"
        );
        let back: RocCurve = serde_json::from_str(&json).unwrap();
        assert_eq!(back, roc);
        assert_eq!(auc(&back).unwrap(), auc(&roc).unwrap());

        let best = youden_threshold(&roc).unwrap();
        let json = serde_json::to_string(&best).unwrap();
        let back: YoudenPoint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, best);

        let lone = YoudenPoint {
            threshold: f64::INFINITY,
            tpr: 0.0,
            fpr: 0.0,
            j: 0.0,
        };
        let json = serde_json::to_string(&lone).unwrap();
        assert_eq!(json, r#"{"threshold":"inf","tpr":0.0,"fpr":0.0,"j":0.0}"#);
        assert_eq!(serde_json::from_str::<YoudenPoint>(&json).unwrap(), lone);
    }
}
