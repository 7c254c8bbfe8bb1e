//! Optimiser configuration.
//!
//! tch optimisers have `set_lr` but no getter; the fit loop keeps the
//! current learning rate itself and records it in the history.

use crate::TrainError;
use tch::nn::{self, OptimizerConfig as _};

/// Which optimiser, with its hyper-parameters (the learning rate is separate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba). PyTorch's defaults are beta1 0.9, beta2 0.999, eps 1e-8; Keras uses eps 1e-7.
    Adam {
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Denominator epsilon.
        eps: f64,
        /// L2 weight decay.
        weight_decay: f64,
    },
    /// RMSprop. PyTorch's defaults are alpha 0.99, eps 1e-8; Keras uses rho 0.9, eps 1e-7.
    RmsProp {
        /// Smoothing constant of the squared-gradient average.
        alpha: f64,
        /// Denominator epsilon.
        eps: f64,
        /// Momentum.
        momentum: f64,
    },
    /// Stochastic gradient descent.
    Sgd {
        /// Momentum.
        momentum: f64,
    },
}

/// An optimiser and its initial learning rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerConfig {
    /// The optimiser.
    pub kind: OptimizerKind,
    /// Initial learning rate.
    pub lr: f64,
}

impl OptimizerConfig {
    /// Adam with PyTorch's defaults (as Flux's `ADAM` and the PyTorch course).
    pub fn adam(lr: f64) -> Self {
        Self {
            kind: OptimizerKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
            },
            lr,
        }
    }

    /// Adam with Keras' defaults (eps 1e-7).
    pub fn keras_adam(lr: f64) -> Self {
        Self {
            kind: OptimizerKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-7,
                weight_decay: 0.0,
            },
            lr,
        }
    }

    /// RMSprop with PyTorch's defaults (alpha 0.99, eps 1e-8).
    pub fn rmsprop(lr: f64) -> Self {
        Self {
            kind: OptimizerKind::RmsProp {
                alpha: 0.99,
                eps: 1e-8,
                momentum: 0.0,
            },
            lr,
        }
    }

    /// Plain SGD.
    pub fn sgd(lr: f64) -> Self {
        Self {
            kind: OptimizerKind::Sgd { momentum: 0.0 },
            lr,
        }
    }

    /// A short description, e.g. `Adam(lr=0.001)`.
    pub fn describe(&self) -> String {
        let name = match self.kind {
            OptimizerKind::Adam { .. } => "Adam",
            OptimizerKind::RmsProp { .. } => "RMSprop",
            OptimizerKind::Sgd { .. } => "SGD",
        };
        format!("{name}(lr={})", self.lr)
    }

    /// Builds the optimiser over the trainable variables of `vs`.
    pub fn build(&self, vs: &nn::VarStore) -> Result<nn::Optimizer, TrainError> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(TrainError::InvalidConfig(format!(
                "learning rate must be positive, got {}",
                self.lr
            )));
        }
        let opt = match self.kind {
            OptimizerKind::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => nn::Adam {
                beta1,
                beta2,
                wd: weight_decay,
                eps,
                amsgrad: false,
            }
            .build(vs, self.lr)?,
            OptimizerKind::RmsProp {
                alpha,
                eps,
                momentum,
            } => nn::RmsProp {
                alpha,
                eps,
                wd: 0.0,
                momentum,
                centered: false,
            }
            .build(vs, self.lr)?,
            OptimizerKind::Sgd { momentum } => nn::Sgd {
                momentum,
                dampening: 0.0,
                wd: 0.0,
                nesterov: false,
            }
            .build(vs, self.lr)?,
        };
        Ok(opt)
    }
}
