//! Batch normalisation in training mode on the CPU, through this crate's
//! own kernel (`csrc/batch_norm.cpp`): equal to the bit to libtorch's
//! `batch_norm` where libtorch runs it with one thread, several times
//! faster at the chapter's sizes (a few thousand rows of 28 or 56
//! features), and one autograd node.
//!
//! [`serves`] says when it applies; [`BatchNorm`](crate::keras::BatchNorm)
//! calls libtorch otherwise, and when `SEQLAB_RNN_KERNEL=libtorch` asks for
//! libtorch's kernels throughout.

use crate::ModelError;
use std::ffi::c_char;
use tch::{Device, Kind, Tensor};
use torch_sys::C_tensor;

extern "C" {
    fn seqlab_batch_norm_train(
        x: *const C_tensor,
        w: *const C_tensor,
        b: *const C_tensor,
        running_mean: *const C_tensor,
        running_var: *const C_tensor,
        momentum: f64,
        eps: f64,
        out: *mut *mut C_tensor,
    ) -> *mut c_char;
}

/// Whether the kernel serves a training batch `x` `[rows, features]`: a
/// contiguous `float32` CPU tensor of at least two rows, in a process whose
/// recurrent layers use the fused kernels, with libtorch on one thread (the
/// arithmetic this kernel reproduces; with more threads libtorch splits
/// the sums, and its own kernel runs).
pub fn serves(x: &Tensor) -> bool {
    crate::fused::enabled()
        && x.device() == Device::Cpu
        && x.kind() == Kind::Float
        && x.dim() == 2
        && x.size()[0] > 1
        && x.is_contiguous()
        && tch::get_num_threads() == 1
}

/// The parameters and moving statistics of one batch normalisation.
pub struct Params<'a> {
    /// Scale `[features]` (gamma).
    pub weight: &'a Tensor,
    /// Shift `[features]` (beta).
    pub bias: &'a Tensor,
    /// Moving mean `[features]`, updated in place.
    pub running_mean: &'a Tensor,
    /// Moving variance `[features]`, updated in place.
    pub running_var: &'a Tensor,
    /// Weight of the batch in the moving averages (libtorch's momentum).
    pub momentum: f64,
    /// Added to the variance.
    pub eps: f64,
}

/// `x` normalised with its own batch statistics, as libtorch's
/// `batch_norm(x, weight, bias, running_mean, running_var, true, momentum,
/// eps)`; tracked by autograd (x, weight and bias).
pub fn train(x: &Tensor, p: &Params<'_>) -> Result<Tensor, ModelError> {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: every pointer is a live tch tensor (a `torch::Tensor*`) for
    // the duration of the call; on success the C++ side hands over one new
    // tensor, which `Tensor::from_ptr` then owns; on failure it returns a
    // malloc'd message and writes no tensor.
    let message = unsafe {
        seqlab_batch_norm_train(
            x.as_ptr(),
            p.weight.as_ptr(),
            p.bias.as_ptr(),
            p.running_mean.as_ptr(),
            p.running_var.as_ptr(),
            p.momentum,
            p.eps,
            &mut out,
        )
    };
    crate::fused::check(message, || "batch normalisation".into())?;
    // SAFETY: set to a new tensor, owned from here on.
    Ok(unsafe { Tensor::from_ptr(out) })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        x: Tensor,
        weight: Tensor,
        bias: Tensor,
        running_mean: Tensor,
        running_var: Tensor,
        upstream: Tensor,
    }

    fn case(rows: i64, features: i64) -> Case {
        let opts = (Kind::Float, Device::Cpu);
        Case {
            // Off-centre and spread out, so the variance's rounding shows.
            x: (Tensor::randn([rows, features], opts) * 3.0 + 1.5).set_requires_grad(true),
            weight: (Tensor::rand([features], opts) + 0.5).set_requires_grad(true),
            bias: Tensor::randn([features], opts).set_requires_grad(true),
            running_mean: Tensor::randn([features], opts),
            running_var: Tensor::rand([features], opts) + 0.5,
            upstream: Tensor::randn([rows, features], opts),
        }
    }

    /// Output, moving statistics, and the gradients of x, weight and bias.
    fn results(c: &Case, kernel: bool) -> Vec<Tensor> {
        let (mean, var) = (c.running_mean.copy(), c.running_var.copy());
        for t in [&c.x, &c.weight, &c.bias] {
            let mut grad = t.grad();
            if grad.defined() {
                let _ = grad.zero_();
            }
        }
        let (momentum, eps) = (0.01, 1e-3);
        let out = if kernel {
            let p = Params {
                weight: &c.weight,
                bias: &c.bias,
                running_mean: &mean,
                running_var: &var,
                momentum,
                eps,
            };
            train(&c.x, &p).unwrap()
        } else {
            Tensor::batch_norm(
                &c.x,
                Some(&c.weight),
                Some(&c.bias),
                Some(&mean),
                Some(&var),
                true,
                momentum,
                eps,
                false,
            )
        };
        (&out * &c.upstream).sum(Kind::Float).backward();
        vec![
            out.detach(),
            mean,
            var,
            c.x.grad(),
            c.weight.grad(),
            c.bias.grad(),
        ]
    }

    /// Equal to libtorch's CPU kernel with one thread, to the bit, at the
    /// chapter's sizes and at channel counts below, at and between whole
    /// vectors.
    #[test]
    fn equals_libtorch_to_the_bit() {
        let _rng = crate::rng_lock();
        let before = tch::get_num_threads();
        tch::set_num_threads(1);
        tch::manual_seed(3);
        let names = [
            "output",
            "moving mean",
            "moving variance",
            "dx",
            "dweight",
            "dbias",
        ];
        for (rows, features) in [
            (2800, 28),
            (2800, 56),
            (100, 28),
            (2, 3),
            (37, 8),
            (513, 17),
        ] {
            let c = case(rows, features);
            let ours = results(&c, true);
            let theirs = results(&c, false);
            for ((a, b), name) in ours.iter().zip(&theirs).zip(names) {
                assert!(
                    a.equal(b),
                    "{name} differs from libtorch's at [{rows}, {features}]"
                );
            }
        }
        tch::set_num_threads(before);
    }

    #[test]
    fn applies_only_where_libtorch_does_this_arithmetic() {
        let _rng = crate::rng_lock();
        let before = tch::get_num_threads();
        tch::set_num_threads(1);
        let opts = (Kind::Float, Device::Cpu);
        assert!(serves(&Tensor::zeros([4, 3], opts)));
        assert!(!serves(&Tensor::zeros([1, 3], opts)), "one row");
        assert!(!serves(&Tensor::zeros([4, 3], (Kind::Double, Device::Cpu))));
        assert!(!serves(&Tensor::zeros([3, 4], opts).tr()), "not contiguous");
        assert!(!serves(&Tensor::zeros([4, 3, 2], opts)), "not rows");
        tch::set_num_threads(2);
        assert!(!serves(&Tensor::zeros([4, 3], opts)), "two threads");
        tch::set_num_threads(before);
    }

    #[test]
    fn a_bad_parameter_is_an_error_naming_it() {
        let opts = (Kind::Float, Device::Cpu);
        let x = Tensor::zeros([4, 3], opts);
        let short = Tensor::ones([2], opts);
        let ok = Tensor::ones([3], opts);
        let p = Params {
            weight: &short,
            bias: &ok,
            running_mean: &ok,
            running_var: &ok,
            momentum: 0.01,
            eps: 1e-3,
        };
        let err = train(&x, &p).unwrap_err().to_string();
        assert!(
            err.contains("batch norm parameters must be contiguous float32 [3]"),
            "{err}"
        );
    }
}
