//! Dense, embedding and batch-norm layers set up like their Keras
//! defaults, so that models ported from the book start from the same
//! distributions.
//!
//! | layer | Keras default | here |
//! | --- | --- | --- |
//! | `Dense` | Glorot-uniform kernel, zero bias | [`dense`] |
//! | `Embedding` | uniform in `±0.05` | [`embedding`] |
//! | `BatchNormalization` | `gamma = 1`, `beta = 0`, momentum 0.99, epsilon 1e-3, last axis | [`batch_norm`] |
//!
//! Keras' batch-norm momentum is the weight of the *old* moving average
//! (0.99); libtorch's is the weight of the *new* batch statistic, so the
//! same behaviour is libtorch momentum `1 - 0.99 = 0.01`. One difference
//! remains: libtorch updates the moving variance with the unbiased batch
//! variance (`n / (n - 1)` times Keras' biased one), about 1% larger for
//! batches of 100.

use crate::norm_kernel;
use crate::summary::{shape_str, SummaryRow};
use crate::ModelError;
use std::borrow::Borrow;
use tch::{nn, Tensor};

/// Keras' `BatchNormalization` momentum (weight of the old moving average).
pub const KERAS_BN_MOMENTUM: f64 = 0.99;
/// The same as libtorch's momentum (the weight of the batch).
const BN_MOMENTUM: f64 = 1.0 - KERAS_BN_MOMENTUM;
/// Keras' `BatchNormalization` epsilon.
pub const KERAS_BN_EPSILON: f64 = 1e-3;
/// Keras' `Embedding` initialiser bound: uniform in `±0.05`.
pub const KERAS_EMBEDDING_BOUND: f64 = 0.05;

fn positive(what: &str, value: i64) -> Result<(), ModelError> {
    if value < 1 {
        return Err(ModelError::InvalidConfig(format!(
            "{what} must be at least 1, got {value}"
        )));
    }
    Ok(())
}

/// Glorot-uniform bound `sqrt(6 / (fan_in + fan_out))`.
pub fn glorot_bound(fan_in: i64, fan_out: i64) -> f64 {
    (6.0 / (fan_in + fan_out) as f64).sqrt()
}

/// A fully connected layer `x W^T + b` with Keras' initialisation
/// (Glorot-uniform weights, zero bias).
pub fn dense<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    in_dim: i64,
    out_dim: i64,
) -> Result<nn::Linear, ModelError> {
    positive("dense input size", in_dim)?;
    positive("dense output size", out_dim)?;
    let bound = glorot_bound(in_dim, out_dim);
    Ok(nn::linear(
        path,
        in_dim,
        out_dim,
        nn::LinearConfig {
            ws_init: nn::Init::Uniform {
                lo: -bound,
                up: bound,
            },
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        },
    ))
}

/// Parameters of a [`dense`] layer, the same in libtorch and Keras.
pub fn dense_params(layer: &nn::Linear) -> i64 {
    layer.ws.numel() as i64 + layer.bs.as_ref().map_or(0, |b| b.numel() as i64)
}

/// A summary row for a dense layer with output shape `out_shape`.
pub fn dense_row(name: &str, layer: &nn::Linear, out_shape: &[i64]) -> SummaryRow {
    let p = dense_params(layer);
    SummaryRow {
        name: name.to_string(),
        layer: "Dense".into(),
        output_shape: shape_str(out_shape),
        params: p,
        keras_params: p,
        non_trainable: 0,
    }
}

/// A lookup table of `vocab` vectors of `dim` values, uniform in `±0.05`
/// like Keras. Ids must be in `0..vocab`.
pub fn embedding<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    vocab: i64,
    dim: i64,
) -> Result<nn::Embedding, ModelError> {
    positive("embedding vocabulary size", vocab)?;
    positive("embedding dimension", dim)?;
    Ok(nn::embedding(
        path,
        vocab,
        dim,
        nn::EmbeddingConfig {
            ws_init: nn::Init::Uniform {
                lo: -KERAS_EMBEDDING_BOUND,
                up: KERAS_EMBEDDING_BOUND,
            },
            ..Default::default()
        },
    ))
}

/// Batch normalisation over the last axis of a `[batch, features]` or
/// `[batch, steps, features]` input (Keras' `axis=-1`), with Keras'
/// defaults. The moving mean and variance are stored in the variable store
/// as non-trainable variables, so checkpoints carry them.
#[derive(Debug)]
pub struct BatchNorm {
    inner: nn::BatchNorm,
    features: i64,
}

/// Creates a [`BatchNorm`] over `features` under `path`.
pub fn batch_norm<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    features: i64,
) -> Result<BatchNorm, ModelError> {
    positive("batch-norm feature count", features)?;
    let inner = nn::batch_norm1d(
        path,
        features,
        nn::BatchNormConfig {
            cudnn_enabled: true,
            eps: KERAS_BN_EPSILON,
            momentum: BN_MOMENTUM,
            affine: true,
            ws_init: nn::Init::Const(1.0),
            bs_init: nn::Init::Const(0.0),
        },
    );
    Ok(BatchNorm { inner, features })
}

impl BatchNorm {
    /// Number of features normalised.
    pub fn features(&self) -> i64 {
        self.features
    }

    /// The moving mean (used at evaluation).
    pub fn running_mean(&self) -> &Tensor {
        &self.inner.running_mean
    }

    /// The moving variance (used at evaluation).
    pub fn running_var(&self) -> &Tensor {
        &self.inner.running_var
    }

    /// A summary row: 4 values per feature, 2 of them (the moving
    /// statistics) not trained, like Keras.
    pub fn row(&self, name: &str, out_shape: &[i64]) -> SummaryRow {
        SummaryRow {
            name: name.to_string(),
            layer: "BatchNormalization".into(),
            output_shape: shape_str(out_shape),
            params: 4 * self.features,
            keras_params: 4 * self.features,
            non_trainable: 2 * self.features,
        }
    }
}

impl BatchNorm {
    /// Training on a batch with one value per feature (a last batch of one
    /// sample): Keras' behaviour. The sample is normalised with its own
    /// statistics (mean itself, biased variance 0), so the output is `beta`,
    /// and the moving variance moves towards that variance, 0. libtorch
    /// would move it towards the *unbiased* variance, `0 / 0`, and every
    /// later evaluation would be NaN; PyTorch's `BatchNorm1d` refuses such a
    /// batch outright.
    #[allow(clippy::assign_op_pattern)] // tch's Tensor has no `*=` by reference
    fn forward_single(&self, xs: &Tensor) -> Tensor {
        let m = 1.0 - KERAS_BN_MOMENTUM;
        let x = xs.reshape([self.features]).detach();
        tch::no_grad(|| {
            let mut mean = self.inner.running_mean.shallow_clone();
            let mut var = self.inner.running_var.shallow_clone();
            let new_mean = &mean * (1.0 - m) + &x * m;
            mean.copy_(&new_mean);
            let new_var = &var * (1.0 - m);
            var.copy_(&new_var);
        });
        // (x - mean) / sqrt(var + eps) * gamma + beta with mean = x: zero
        // gradient to x and gamma, as in Keras.
        // The batch mean of one sample is the sample itself (kept in the graph).
        let mean = xs.shallow_clone();
        let centred = xs - &mean;
        let mut y = centred / KERAS_BN_EPSILON.sqrt();
        if let Some(w) = &self.inner.ws {
            y = y * w;
        }
        if let Some(b) = &self.inner.bs {
            y = y + b;
        }
        y
    }
}

impl nn::ModuleT for BatchNorm {
    /// Normalises the last axis; batch statistics (and a moving-average
    /// update) when `train`, the moving statistics otherwise. A training
    /// batch with a single value per feature is handled as Keras does (see
    /// the type's documentation of `forward_single`).
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let per_feature = xs.numel() as i64 / self.features.max(1);
        if train && per_feature == 1 {
            return self.forward_single(xs);
        }
        if xs.dim() == 3 {
            // Every (sample, step) is one row of [N * L, C]: the same
            // statistics per feature as over [N, C, L], on a contiguous
            // input (libtorch's vectorised path; a transposed [N, C, L]
            // view takes its slow strided one).
            let size = xs.size();
            self.rows(&xs.reshape([-1, self.features]), train)
                .reshape(size.as_slice())
        } else {
            self.rows(xs, train)
        }
    }
}

impl BatchNorm {
    /// `[rows, features]`: in training, this crate's kernel where it gives
    /// libtorch's result ([`norm_kernel::serves`]), else libtorch's.
    fn rows(&self, xs: &Tensor, train: bool) -> Tensor {
        if let (true, Some(weight), Some(bias)) = (train, &self.inner.ws, &self.inner.bs) {
            if norm_kernel::serves(xs) {
                let params = norm_kernel::Params {
                    weight,
                    bias,
                    running_mean: &self.inner.running_mean,
                    running_var: &self.inner.running_var,
                    momentum: BN_MOMENTUM,
                    eps: KERAS_BN_EPSILON,
                };
                // A failure panics with its message, as libtorch's kernel
                // does (the fit loop's guard turns it into an error).
                return match norm_kernel::train(xs, &params) {
                    Ok(out) => out,
                    Err(e) => panic!("{e}"),
                };
            }
        }
        nn::ModuleT::forward_t(&self.inner, xs, train)
    }
}

/// A summary row for a layer without parameters (dropout, repeat, ...).
pub fn plain_row(name: &str, layer: &str, out_shape: &[i64]) -> SummaryRow {
    SummaryRow {
        name: name.to_string(),
        layer: layer.to_string(),
        output_shape: shape_str(out_shape),
        params: 0,
        keras_params: 0,
        non_trainable: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::ModuleT;
    use tch::{Device, Kind};

    #[test]
    fn batch_norm_matches_hand_computed_values_in_both_modes() {
        let _rng = crate::rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let bn = batch_norm(vs.root() / "bn", 2).unwrap();
        // Feature 0: [1, 3] -> mean 2, biased var 1; feature 1: [2, 2] -> mean 2, var 0.
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 2.0]).reshape([2, 2]);
        let y = bn.forward_t(&x, true);
        let got: Vec<f32> = y.flatten(0, -1).try_into().unwrap();
        let s = (1.0f64 + KERAS_BN_EPSILON).sqrt();
        let want = [-1.0 / s, 0.0, 1.0 / s, 0.0];
        for (g, w) in got.iter().zip(want) {
            assert!((f64::from(*g) - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
        // Moving stats moved 1% of the way from (0, 1) to the batch's (mean, unbiased var).
        let mean: Vec<f32> = bn.running_mean().try_into().unwrap();
        let var: Vec<f32> = bn.running_var().try_into().unwrap();
        assert!((mean[0] - 0.02).abs() < 1e-6 && (mean[1] - 0.02).abs() < 1e-6);
        // Feature 0 unbiased var 2: 0.99 * 1 + 0.01 * 2; feature 1: 0.99.
        assert!(
            (var[0] - 1.01).abs() < 1e-6 && (var[1] - 0.99).abs() < 1e-6,
            "{var:?}"
        );
        // Evaluation uses the moving statistics: (x - 0.02) / sqrt(1.01 + eps).
        let e: Vec<f32> = bn.forward_t(&x, false).flatten(0, -1).try_into().unwrap();
        let want0 = (1.0 - 0.02) / (1.01f64 + KERAS_BN_EPSILON).sqrt();
        assert!((f64::from(e[0]) - want0).abs() < 1e-5, "{e:?}");
    }

    #[test]
    fn a_training_batch_of_one_sample_moves_the_statistics_like_keras_and_never_to_nan() {
        let _rng = crate::rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let bn = batch_norm(vs.root() / "bn", 2).unwrap();
        for x in [
            Tensor::from_slice(&[3.0f32, -1.0]).reshape([1, 2]),
            Tensor::from_slice(&[3.0f32, -1.0]).reshape([1, 1, 2]),
        ] {
            let y = bn.forward_t(&x, true);
            // Normalised with its own statistics: gamma * 0 + beta = 0.
            let got: Vec<f32> = y.flatten(0, -1).try_into().unwrap();
            assert_eq!(got, [0.0, 0.0]);
        }
        // Two updates: mean 0 -> 0.03 -> 0.0597 (feature 0), var 1 -> 0.99 -> 0.9801.
        let mean: Vec<f32> = bn.running_mean().try_into().unwrap();
        let var: Vec<f32> = bn.running_var().try_into().unwrap();
        assert!(
            (mean[0] - 0.0597).abs() < 1e-6 && (mean[1] + 0.0199).abs() < 1e-6,
            "{mean:?}"
        );
        assert!(var.iter().all(|v| (v - 0.9801).abs() < 1e-6), "{var:?}");
        let e: Vec<f32> = bn
            .forward_t(&Tensor::from_slice(&[1.0f32, 1.0]).reshape([1, 2]), false)
            .flatten(0, -1)
            .try_into()
            .unwrap();
        assert!(e.iter().all(|v| v.is_finite()), "{e:?}");
        // Gradients reach beta only.
        let x = Tensor::from_slice(&[3.0f32, -1.0])
            .reshape([1, 2])
            .set_requires_grad(true);
        bn.forward_t(&x, true).sum(Kind::Float).backward();
        assert_eq!(x.grad().abs().sum(Kind::Float).double_value(&[]), 0.0);
    }

    #[test]
    fn batch_norm_normalises_the_last_axis_of_sequences() {
        let _rng = crate::rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let bn = batch_norm(vs.root() / "bn", 3).unwrap();
        let x = Tensor::arange(24, (Kind::Float, Device::Cpu)).reshape([2, 4, 3]);
        let y = bn.forward_t(&x, true);
        assert_eq!(y.size(), [2, 4, 3]);
        // Every feature has mean 0 over batch and steps.
        let m: Vec<f32> = y
            .mean_dim(&[0i64, 1][..], false, Kind::Float)
            .try_into()
            .unwrap();
        assert!(m.iter().all(|v| v.abs() < 1e-5), "{m:?}");
        // And a steps-axis stats would differ: feature means of x are 10.5, 11.5, 12.5.
        let rm: Vec<f32> = bn.running_mean().try_into().unwrap();
        assert!(
            (rm[0] - 0.105).abs() < 1e-5 && (rm[2] - 0.125).abs() < 1e-5,
            "{rm:?}"
        );
        // A strided view (a transpose) is normalised as its contiguous copy.
        let t = Tensor::arange(24, (Kind::Float, Device::Cpu)).reshape([2, 3, 4]);
        let view = t.transpose(1, 2);
        assert!(!view.is_contiguous());
        assert!(bn
            .forward_t(&view, false)
            .equal(&bn.forward_t(&view.contiguous(), false)));
    }

    #[test]
    fn keras_initialisers_and_bad_sizes() {
        let _rng = crate::rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let d = dense(vs.root() / "d", 64, 32).unwrap();
        let b = glorot_bound(64, 32);
        assert!(d.ws.abs().max().double_value(&[]) <= b);
        assert!(d.ws.abs().max().double_value(&[]) > 0.5 * b);
        assert_eq!(
            d.bs.as_ref()
                .unwrap()
                .abs()
                .sum(Kind::Float)
                .double_value(&[]),
            0.0
        );
        assert_eq!(dense_params(&d), 64 * 32 + 32);
        let e = embedding(vs.root() / "e", 100, 8).unwrap();
        assert!(e.ws.abs().max().double_value(&[]) <= KERAS_EMBEDDING_BOUND);
        assert!(
            matches!(dense(vs.root() / "x", 0, 3), Err(ModelError::InvalidConfig(m)) if m.contains("dense input size"))
        );
        assert!(embedding(vs.root() / "y", 10, 0).is_err());
        assert!(batch_norm(vs.root() / "z", -1).is_err());
    }
}
