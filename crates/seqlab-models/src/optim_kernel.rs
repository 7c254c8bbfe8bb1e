//! libtorch's Adam step in three passes over memory (`csrc/adam.cpp`), for
//! `seqlab-train`'s optimiser: over one flat `float32` CPU buffer of
//! parameters, equal to the bit to `torch::optim::Adam` (no weight decay,
//! no AMSGrad), which runs eight element-wise operators per step, each one
//! a pass over every parameter and its moments.

use crate::ModelError;
use std::ffi::c_char;
use tch::Tensor;
use torch_sys::C_tensor;

extern "C" {
    fn seqlab_adam_step(
        params: *const C_tensor,
        grads: *const C_tensor,
        exp_avg: *const C_tensor,
        exp_avg_sq: *const C_tensor,
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        step: i64,
    ) -> *mut c_char;
}

/// Adam's fixed settings, as libtorch's `AdamOptions` takes them (the
/// learning rate is given at each step: schedules change it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the square root of the second moment.
    pub eps: f64,
}

/// Adam over one flat parameter buffer: its settings, moments and the
/// steps taken.
#[derive(Debug)]
pub struct AdamState {
    adam: Adam,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    steps: i64,
}

impl AdamState {
    /// Zero moments for `params`, no step taken (libtorch's initial state).
    pub fn new(params: &Tensor, adam: Adam) -> Result<Self, ModelError> {
        let zeros = || tch::no_grad(|| params.f_zeros_like());
        Ok(Self {
            adam,
            exp_avg: zeros()?,
            exp_avg_sq: zeros()?,
            steps: 0,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> i64 {
        self.steps
    }

    /// One step at learning rate `lr` on `params` (updated in place) with
    /// `grads`: both contiguous `float32` CPU tensors of the moments' size.
    pub fn step(&mut self, lr: f64, params: &Tensor, grads: &Tensor) -> Result<(), ModelError> {
        let step = self.steps + 1;
        let a = self.adam;
        // SAFETY: every pointer is a live tch tensor (a `torch::Tensor*`)
        // for the duration of the call; the C++ side checks their type,
        // device, layout and size before writing into params and the
        // moments, and returns a malloc'd message on failure.
        let message = unsafe {
            seqlab_adam_step(
                params.as_ptr(),
                grads.as_ptr(),
                self.exp_avg.as_ptr(),
                self.exp_avg_sq.as_ptr(),
                lr,
                a.beta1,
                a.beta2,
                a.eps,
                step,
            )
        };
        crate::fused::check(message, || "Adam step".into())?;
        self.steps = step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Several steps (the bias corrections change with each) at sizes
    /// below, at and past whole vectors, against libtorch's own Adam.
    #[test]
    fn equals_libtorch_adam_to_the_bit() {
        let _rng = crate::rng_lock();
        tch::manual_seed(5);
        let (lr, adam) = (
            1e-3,
            Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-7,
            },
        );
        for n in [1, 7, 8, 33, 1000, 65_541] {
            let start = Tensor::randn([n], (Kind::Float, Device::Cpu));
            let theirs = start.copy().set_requires_grad(true);
            let ours = start.copy();
            let mut opt =
                tch::COptimizer::adam(lr, adam.beta1, adam.beta2, 0.0, adam.eps, false).unwrap();
            opt.add_parameters(&theirs, 0).unwrap();
            let mut state = AdamState::new(&ours, adam).unwrap();
            for step in 0..6 {
                let g = Tensor::randn([n], (Kind::Float, Device::Cpu)) * (0.1 + step as f64);
                // The gradient of sum(theirs * g) is g, exactly.
                opt.zero_grad().unwrap();
                (&theirs * &g).sum(Kind::Float).backward();
                opt.step().unwrap();
                state.step(lr, &ours, &g).unwrap();
                assert!(
                    ours.equal(&theirs.detach()),
                    "size {n}, step {}: parameters differ from libtorch's Adam",
                    step + 1
                );
            }
        }
    }

    #[test]
    fn a_buffer_of_another_size_is_an_error_naming_the_step() {
        let p = Tensor::zeros([4], (Kind::Float, Device::Cpu));
        let adam = Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        };
        let mut state = AdamState::new(&p, adam).unwrap();
        let g = Tensor::zeros([3], (Kind::Float, Device::Cpu));
        let err = state.step(1e-3, &p, &g).unwrap_err().to_string();
        assert!(
            err.contains("Adam step") && err.contains("of 4 values"),
            "{err}"
        );
        assert_eq!(state.steps(), 0);
    }
}
