//! Losses and metrics computed on model outputs.

use crate::TrainError;
use tch::{Kind, Reduction, Tensor};

/// Keras' epsilon for clipping probabilities in binary cross-entropy.
pub const BCE_EPSILON: f64 = 1e-7;

/// A training loss (mean over the batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Softmax cross-entropy on logits `[batch, classes]` against `i64` labels `[batch]`.
    CrossEntropy,
    /// Binary cross-entropy on probabilities (after a sigmoid) against 0/1
    /// targets of the same shape (labels are converted to float); the
    /// probabilities are clipped to `[1e-7, 1 - 1e-7]` like Keras.
    BinaryCrossEntropy,
    /// Binary cross-entropy on logits (numerically stable).
    BinaryCrossEntropyWithLogits,
    /// Mean squared error.
    Mse,
    /// Keras' `categorical_crossentropy` on probabilities, exactly as Keras
    /// computes it: the output is divided by its own sum over the last axis,
    /// clipped to `[1e-7, 1 - 1e-7]`, and the loss is `-sum(target *
    /// log(p))` over the last axis, averaged over the rest. On a single
    /// output unit the division makes `p = 1` whatever the model computes:
    /// the loss is a constant and every gradient is zero (nothing trains).
    /// Here to reproduce sources that compile such a model.
    KerasCategoricalCrossEntropy,
}

impl Loss {
    /// The loss of `output` against `target`.
    pub fn compute(self, output: &Tensor, target: &Tensor) -> Tensor {
        match self {
            Loss::CrossEntropy => output.cross_entropy_for_logits(target),
            Loss::BinaryCrossEntropy => {
                let t = float_like(target, output);
                output
                    .clamp(BCE_EPSILON, 1.0 - BCE_EPSILON)
                    .binary_cross_entropy(&t, None::<Tensor>, Reduction::Mean)
            }
            Loss::BinaryCrossEntropyWithLogits => {
                let t = float_like(target, output);
                output.binary_cross_entropy_with_logits(
                    &t,
                    None::<Tensor>,
                    None::<Tensor>,
                    Reduction::Mean,
                )
            }
            Loss::Mse => output.mse_loss(&float_like(target, output), Reduction::Mean),
            Loss::KerasCategoricalCrossEntropy => {
                let t = float_like(target, output);
                let p = (output / output.sum_dim_intlist(-1, true, output.kind()))
                    .clamp(BCE_EPSILON, 1.0 - BCE_EPSILON);
                -(t * p.log())
                    .sum_dim_intlist(-1, false, output.kind())
                    .mean(output.kind())
            }
        }
    }
}

fn float_like(target: &Tensor, output: &Tensor) -> Tensor {
    target.to_kind(output.kind()).reshape(output.size())
}

/// A metric reported per epoch next to the loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Fraction of samples whose arg-max class equals the label.
    Accuracy,
    /// Fraction of samples with `(output >= threshold) == (target >= 0.5)`;
    /// use 0.5 on probabilities, 0.0 on logits.
    BinaryAccuracy {
        /// Decision threshold on the model output.
        threshold: f64,
    },
    /// Area under the ROC curve over the whole epoch (column `auc`, so
    /// `val_auc` can be monitored), for binary targets 0/1 and a model that
    /// gives one score per sample (`[n]` or `[n, 1]`: a logit or a
    /// probability, the AUC is the same) or two class logits (`[n, 2]`,
    /// scored by their difference). Ties count one half. NaN when the
    /// samples hold a single class.
    Auc,
}

impl Metric {
    /// Column name (`accuracy`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy | Metric::BinaryAccuracy { .. } => "accuracy",
            Metric::Auc => "auc",
        }
    }

    /// The ranking scores (higher = more positive) and binary labels of a
    /// batch, for [`Metric::Auc`].
    pub fn scores(
        self,
        output: &Tensor,
        target: &Tensor,
    ) -> Result<(Vec<f64>, Vec<bool>), TrainError> {
        let size = output.size();
        let score = match size.as_slice() {
            [_] | [_, 1] => output.f_reshape([-1])?,
            [_, 2] => output.f_select(1, 1)?.f_sub(&output.f_select(1, 0)?)?,
            _ => {
                return Err(TrainError::InvalidConfig(format!(
                    "the auc metric needs one score per sample or two class logits, the model gave {size:?}"
                )))
            }
        };
        let scores = Vec::<f64>::try_from(score.f_to_kind(Kind::Double)?)?;
        let labels = Vec::<f64>::try_from(target.f_to_kind(Kind::Double)?.f_reshape([-1])?)?;
        if labels.len() != scores.len() {
            return Err(TrainError::InvalidConfig(format!(
                "the auc metric got {} scores but {} targets",
                scores.len(),
                labels.len()
            )));
        }
        Ok((scores, labels.iter().map(|&t| t >= 0.5).collect()))
    }

    /// The number of correct samples in a batch and the batch size
    /// (0 hits for [`Metric::Auc`], which is not a count; see [`scores`](Self::scores)).
    pub fn correct(self, output: &Tensor, target: &Tensor) -> (f64, f64) {
        let n = output.size()[0] as f64;
        let hits = match self {
            Metric::Auc => return (0.0, n),
            Metric::Accuracy => output
                .argmax(-1, false)
                .eq_tensor(target)
                .to_kind(Kind::Float)
                .sum(Kind::Double),
            Metric::BinaryAccuracy { threshold } => {
                let t = target.to_kind(Kind::Float).reshape(output.size()).ge(0.5);
                output
                    .ge(threshold)
                    .eq_tensor(&t)
                    .to_kind(Kind::Float)
                    .mean(Kind::Double)
                    * n
            }
        };
        (hits.double_value(&[]), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_match_hand_values() {
        let logits = Tensor::from_slice(&[0.0f32, 0.0, 2.0, 0.0]).reshape([2, 2]);
        let labels = Tensor::from_slice(&[0i64, 0]);
        // ln 2 and ln(1 + e^-2) averaged.
        let ce = Loss::CrossEntropy
            .compute(&logits, &labels)
            .double_value(&[]);
        let expected = (2f64.ln() + (1.0 + (-2f64).exp()).ln()) / 2.0;
        assert!((ce - expected).abs() < 1e-6, "{ce} vs {expected}");

        let p = Tensor::from_slice(&[0.8f32, 0.0]).reshape([2, 1]);
        let t = Tensor::from_slice(&[1i64, 0]);
        let bce = Loss::BinaryCrossEntropy.compute(&p, &t).double_value(&[]);
        let expected = (-(0.8f64.ln()) - (1.0 - BCE_EPSILON).ln()) / 2.0;
        assert!((bce - expected).abs() < 1e-6, "{bce} vs {expected}");

        let z = Tensor::from_slice(&[0.0f32]);
        let bcel = Loss::BinaryCrossEntropyWithLogits
            .compute(&z, &Tensor::from_slice(&[1.0f32]))
            .double_value(&[]);
        assert!((bcel - 2f64.ln()).abs() < 1e-6);

        let mse = Loss::Mse.compute(
            &Tensor::from_slice(&[1.0f32, 3.0]),
            &Tensor::from_slice(&[0.0f32, 1.0]),
        );
        assert!((mse.double_value(&[]) - 2.5).abs() < 1e-6);

        // Keras' categorical cross-entropy: two classes by hand ...
        let p = Tensor::from_slice(&[1.0f32, 3.0]).reshape([1, 2]);
        let t = Tensor::from_slice(&[0.0f32, 1.0]).reshape([1, 2]);
        let cce = Loss::KerasCategoricalCrossEntropy
            .compute(&p, &t)
            .double_value(&[]);
        assert!((cce + 0.75f64.ln()).abs() < 1e-6, "{cce}");
        // ... and on one unit the output is divided by itself: a constant
        // loss, -t log(1 - 1e-7) in float32, and no gradient at all.
        let y = Tensor::from_slice(&[0.3f32, -2.0, 5.0])
            .reshape([3, 1])
            .set_requires_grad(true);
        let t = Tensor::from_slice(&[0.5f32, -0.25, 1.0]).reshape([3, 1]);
        let loss = Loss::KerasCategoricalCrossEntropy.compute(&y, &t);
        let keep = f64::from(1.0f32 - 1e-7f32);
        let want = -(0.5 - 0.25 + 1.0) / 3.0 * keep.ln();
        assert!((loss.double_value(&[]) - want).abs() < 1e-12, "{loss}");
        loss.backward();
        assert_eq!(y.grad().abs().max().double_value(&[]), 0.0);
    }

    #[test]
    fn accuracies_count_hits() {
        let logits = Tensor::from_slice(&[0.1f32, 0.9, 0.8, 0.2, 0.3, 0.7]).reshape([3, 2]);
        let labels = Tensor::from_slice(&[1i64, 1, 1]);
        assert_eq!(Metric::Accuracy.correct(&logits, &labels), (2.0, 3.0));
        let p = Tensor::from_slice(&[0.9f32, 0.4, 0.5, 0.1]);
        let t = Tensor::from_slice(&[1i64, 1, 0, 0]);
        assert_eq!(
            Metric::BinaryAccuracy { threshold: 0.5 }.correct(&p, &t),
            (2.0, 4.0)
        );
    }
}
