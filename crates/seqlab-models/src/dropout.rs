//! Dropout with a fast mask on the CPU.
//!
//! libtorch draws a CPU dropout mask one element at a time from its
//! Mersenne twister, which at the chapter's sizes costs more than the layer
//! it follows (IMDb's Dropout(0.3) on 100 x 128 x 64 embeddings: about a
//! quarter of a training step). Here the mask is a hash of the element's
//! position and one 64-bit draw from libtorch's default CPU generator, built
//! in parallel with vector instructions (`csrc/fused_steps.inc`): still
//! reproducible with `tch::manual_seed`, the same whatever the thread count,
//! and the same semantics as `Tensor::dropout` (kept elements scaled by
//! `1 / (1 - p)`, identity when not training). Other devices and element
//! types, and `SEQLAB_RNN_KERNEL=libtorch` (seqlab's C++ kernels off), use
//! libtorch's dropout.

use tch::{Device, Kind, Tensor};
use torch_sys::C_tensor;

extern "C" {
    fn seqlab_dropout_mask(
        like: *const C_tensor,
        p: f64,
        out: *mut *mut C_tensor,
    ) -> *mut std::ffi::c_char;
}

/// `xs` with each element zeroed with probability `p` and the others scaled
/// by `1 / (1 - p)` when `train`; `xs` itself otherwise or when `p` is 0.
///
/// # Panics
/// If `p` is not in `[0, 1]` (as `Tensor::dropout` does).
pub fn dropout(xs: &Tensor, p: f64, train: bool) -> Tensor {
    assert!(
        (0.0..=1.0).contains(&p),
        "dropout probability must be in [0, 1], got {p}"
    );
    if !train || p == 0.0 {
        return xs.shallow_clone();
    }
    if p == 1.0 {
        return xs * 0.0;
    }
    if xs.device() != Device::Cpu || xs.kind() != Kind::Float || !crate::fused::enabled() {
        return xs.dropout(p, train);
    }
    xs * mask(xs, p)
}

/// The mask [`dropout`] multiplies by: `1 / (1 - p)` or 0 per element,
/// shaped like `like`, `float32` on the CPU.
fn mask(like: &Tensor, p: f64) -> Tensor {
    let mut out: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: `like` is a live tch tensor for the call; on success the C++
    // side hands over one new tensor, owned by `Tensor::from_ptr`; on
    // failure it writes none and returns a message.
    let message = unsafe { seqlab_dropout_mask(like.as_ptr(), p, &mut out) };
    if let Some(text) = crate::fused::take_message(message) {
        panic!("dropout mask: {}", crate::shape::torch_message(&text));
    }
    // SAFETY: set to a new tensor, owned from here on.
    unsafe { Tensor::from_ptr(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_about_one_minus_p_and_scales_the_kept() {
        let _rng = crate::rng_lock();
        tch::manual_seed(1);
        let x = Tensor::ones([200, 500], (Kind::Float, Device::Cpu));
        let y = dropout(&x, 0.3, true);
        let kept = y
            .ne(0.0)
            .to_kind(Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]);
        // 100,000 draws: the standard error of the share is 0.0014.
        assert!((kept - 0.7).abs() < 0.007, "kept {kept}");
        let max = y.max().double_value(&[]);
        assert!(
            (max - 1.0 / 0.7).abs() < 1e-6,
            "kept values scaled to {max}"
        );
        // Neighbouring elements are not correlated (a weak hash would show here).
        let a = y.narrow(1, 0, 499).ne(0.0).to_kind(Kind::Float);
        let b = y.narrow(1, 1, 499).ne(0.0).to_kind(Kind::Float);
        let both = (&a * &b).mean(Kind::Float).double_value(&[]);
        assert!((both - 0.49).abs() < 0.01, "both kept {both}");
    }

    #[test]
    fn the_seed_decides_the_mask_and_gradients_flow_through_it() {
        let _rng = crate::rng_lock();
        let x = Tensor::randn([7, 9, 5], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        tch::manual_seed(11);
        let a = dropout(&x, 0.5, true);
        tch::manual_seed(11);
        let b = dropout(&x, 0.5, true);
        assert!(a.equal(&b));
        let c = dropout(&x, 0.5, true);
        assert!(!a.equal(&c), "a second draw gives another mask");
        a.sum(Kind::Float).backward();
        let g = x.grad();
        // The gradient is the mask: 2 where kept, 0 where dropped.
        let expected = a.detach().ne(0.0).to_kind(Kind::Float) * 2.0;
        assert!(g.equal(&expected));
    }

    #[test]
    fn no_dropout_outside_training_and_at_the_edges() {
        let _rng = crate::rng_lock();
        let x = Tensor::randn([4, 6], (Kind::Float, Device::Cpu));
        assert!(dropout(&x, 0.5, false).equal(&x));
        assert!(dropout(&x, 0.0, true).equal(&x));
        assert!(dropout(&x, 1.0, true).abs().max().double_value(&[]) == 0.0);
        let d = Tensor::randn([4, 6], (Kind::Double, Device::Cpu));
        assert_eq!(dropout(&d, 0.5, true).kind(), Kind::Double);
    }
}
