//! Optimiser configuration ([`OptimizerConfig`]) and the optimiser the fit
//! loop steps ([`Optimizer`], which also keeps the current learning rate).

use crate::TrainError;
use seqlab_models::optim_kernel::{self, AdamState};
use tch::nn;
use tch::{COptimizer, Tensor};

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

    /// RMSprop with Keras' defaults (rho 0.9, epsilon 1e-7, no momentum), for
    /// sources that compile with Keras' `rmsprop`. libtorch adds epsilon
    /// after the square root of the squared-gradient average.
    pub fn keras_rmsprop(lr: f64) -> Self {
        Self {
            kind: OptimizerKind::RmsProp {
                alpha: 0.9,
                eps: 1e-7,
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

    /// Builds the optimiser over the trainable variables of `vs` (see
    /// [`Optimizer`]: they are moved into one flat buffer).
    pub fn build(&self, vs: &nn::VarStore) -> Result<Optimizer, TrainError> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(TrainError::InvalidConfig(format!(
                "learning rate must be positive, got {}",
                self.lr
            )));
        }
        Optimizer::new(*self, vs)
    }

    /// libtorch's optimiser of this kind, with nothing added to it yet.
    fn c_optimizer(&self, lr: f64) -> Result<COptimizer, TrainError> {
        Ok(match self.kind {
            OptimizerKind::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => COptimizer::adam(lr, beta1, beta2, weight_decay, eps, false)?,
            OptimizerKind::RmsProp {
                alpha,
                eps,
                momentum,
            } => COptimizer::rms_prop(lr, alpha, eps, 0.0, momentum, false)?,
            OptimizerKind::Sgd { momentum } => COptimizer::sgd(lr, momentum, 0.0, 0.0, false)?,
        })
    }
}

/// The optimiser [`fit`](crate::fit::fit) steps: libtorch's own C++ Adam,
/// RMSprop or SGD over **one flat tensor** that holds every trainable
/// variable, instead of one tensor per variable.
///
/// libtorch's optimisers loop over their parameters and run about eight
/// small element-wise operations per parameter and step (Adam: two moment
/// updates, a square root, a division, two additions, the update itself),
/// so a two-layer RNN with ten parameter tensors costs some eighty
/// operator calls per step, most of them on a few thousand numbers. Here
/// [`OptimizerConfig::build`] copies the variables into one buffer and makes
/// each variable a view of its slice, and after the first backward pass the
/// gradients are moved the same way into one gradient buffer, which autograd
/// then accumulates into in place. A step is then the same eight operations
/// once, zeroing the gradients is one `zero_`, and gradient-norm clipping is
/// one norm and one multiplication. Adam (without weight decay, on a CPU
/// `float32` buffer) goes further: seqlab's kernel does libtorch's
/// arithmetic in three passes over memory instead of eight
/// ([`Optimizer::uses_adam_kernel`]).
///
/// The arithmetic per number is libtorch's. The chapter's experiments
/// reproduced byte for byte with it; in principle a number can differ in its
/// last bit, because libtorch's vectorised and scalar loops may round fused
/// operations differently and which loop a number meets depends on where it
/// sits in the tensor. A variable keeps its name, shape and
/// values, so checkpoints and [`VarStore`](nn::VarStore) calls see no
/// difference. If a trainable variable gets no gradient in the first step
/// (a layer the model does not use), or the variables do not share one
/// device and floating-point type, the optimiser steps each variable on its
/// own, as libtorch does, and skips variables without a gradient.
pub struct Optimizer {
    config: OptimizerConfig,
    lr: f64,
    mode: Mode,
}

enum Mode {
    /// Every variable is a view of `params`; `grads` is set up by the first step.
    Flat {
        /// The trainable variables, in the order of their slices.
        vars: Vec<Tensor>,
        /// The buffer the variables are views of; its gradient is the gradient buffer.
        params: Tensor,
        /// libtorch's optimiser over `params` alone.
        opt: COptimizer,
        /// The gradient buffer, once the variables' gradients are views of it.
        grads: Option<Tensor>,
        /// Adam through seqlab's kernel (equal to libtorch's to the bit),
        /// where it serves this buffer: set up at the first step.
        adam: Option<AdamState>,
    },
    /// libtorch's optimiser over each variable.
    PerVariable {
        /// The trainable variables.
        vars: Vec<Tensor>,
        /// libtorch's optimiser over them.
        opt: COptimizer,
    },
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &self.mode {
            Mode::Flat { vars, .. } => format!("flat over {} variables", vars.len()),
            Mode::PerVariable { .. } => "per variable".to_string(),
        };
        f.debug_struct("Optimizer")
            .field("config", &self.config)
            .field("lr", &self.lr)
            .field("mode", &mode)
            .finish()
    }
}

impl Optimizer {
    fn new(config: OptimizerConfig, vs: &nn::VarStore) -> Result<Self, TrainError> {
        let lr = config.lr;
        let vars = vs.trainable_variables();
        let kind = vars.first().map(|v| (v.device(), v.kind()));
        let flat_ok = !vars.is_empty()
            && vars.iter().all(|v| {
                Some((v.device(), v.kind())) == kind && v.is_floating_point() && !v.is_sparse()
            });
        if !flat_ok {
            return Self::per_variable(config, vars, lr);
        }
        let params = tch::no_grad(|| -> Result<Tensor, TrainError> {
            let pieces: Vec<Tensor> = vars
                .iter()
                .map(|v| v.detach().f_reshape([-1]))
                .collect::<Result<_, _>>()?;
            let params = Tensor::f_cat(&pieces, 0)?;
            for (v, view) in vars.iter().zip(slices(&params, &vars)?) {
                v.shallow_clone().set_data(&view);
            }
            Ok(params)
        })?;
        // libtorch's optimiser steps a parameter only if it has a gradient:
        // give the buffer one. It becomes the gradient buffer; the first step
        // overwrites all of it with the variables' gradients (`settle`).
        // (with_grad: `fit` may be called from inside a no_grad block.)
        let params = params.f_set_requires_grad(true)?;
        tch::with_grad(|| params.f_sum(params.kind())?.f_backward())?;
        let mut opt = config.c_optimizer(lr)?;
        opt.add_parameters(&params, 0)?;
        // Gradients left from an earlier fit of these variables must not be
        // accumulated into: start them from zero (they are moved into the
        // buffer at the first step).
        for v in &vars {
            let mut g = v.grad();
            if g.defined() {
                let _ = tch::no_grad(|| g.f_zero_())?;
            }
        }
        Ok(Self {
            config,
            lr,
            mode: Mode::Flat {
                vars,
                params,
                opt,
                grads: None,
                adam: None,
            },
        })
    }

    /// libtorch's optimiser over each of `vars`.
    fn per_variable(
        config: OptimizerConfig,
        vars: Vec<Tensor>,
        lr: f64,
    ) -> Result<Self, TrainError> {
        let mut opt = config.c_optimizer(lr)?;
        for v in &vars {
            opt.add_parameters(v, 0)?;
        }
        Ok(Self {
            config,
            lr,
            mode: Mode::PerVariable { vars, opt },
        })
    }

    /// Whether the variables live in one flat buffer (false: stepped one by one).
    pub fn is_flat(&self) -> bool {
        matches!(self.mode, Mode::Flat { .. })
    }

    /// Whether seqlab's Adam kernel steps the variables (from the first
    /// step on; see [`Optimizer::step`]), not libtorch's optimiser.
    pub fn uses_adam_kernel(&self) -> bool {
        matches!(self.mode, Mode::Flat { adam: Some(_), .. })
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Sets the learning rate of the following steps.
    pub fn set_lr(&mut self, lr: f64) -> Result<(), TrainError> {
        match &mut self.mode {
            Mode::Flat { opt, .. } | Mode::PerVariable { opt, .. } => opt.set_learning_rate(lr)?,
        }
        self.lr = lr;
        Ok(())
    }

    /// Clears the gradients before a backward pass.
    pub fn zero_grad(&mut self) -> Result<(), TrainError> {
        match &mut self.mode {
            Mode::Flat {
                grads: Some(grads), ..
            } => {
                let _ = tch::no_grad(|| grads.f_zero_())?;
            }
            // Before the first step the variables' own gradients are either
            // undefined or zeroed by `new`.
            Mode::Flat { grads: None, .. } => {}
            // libtorch's zero_grad sets the gradients to undefined.
            Mode::PerVariable { opt, .. } => opt.zero_grad()?,
        }
        Ok(())
    }

    /// After the first backward pass: moves every variable's gradient into
    /// the gradient buffer (or, if one has none, switches to stepping the
    /// variables one by one).
    fn settle(&mut self) -> Result<(), TrainError> {
        let Mode::Flat {
            vars,
            params,
            grads: grads @ None,
            ..
        } = &mut self.mode
        else {
            return Ok(());
        };
        if vars.iter().any(|v| !v.grad().defined()) {
            let vars = std::mem::take(vars);
            self.mode = Self::per_variable(self.config, vars, self.lr)?.mode;
            return Ok(());
        }
        let buffer = params.grad();
        tch::no_grad(|| -> Result<(), TrainError> {
            for (v, view) in vars.iter().zip(slices(&buffer, vars)?) {
                let mut g = v.grad();
                view.shallow_clone().f_copy_(&g)?;
                g.set_data(&view);
            }
            Ok(())
        })?;
        *grads = Some(buffer);
        Ok(())
    }

    /// The gradients the next [`step`](Self::step) uses: the gradient
    /// buffer, or each variable's defined gradient.
    fn grads(&mut self) -> Result<Vec<Tensor>, TrainError> {
        self.settle()?;
        Ok(match &self.mode {
            Mode::Flat { grads, .. } => grads.iter().map(Tensor::shallow_clone).collect(),
            Mode::PerVariable { vars, .. } => vars
                .iter()
                .map(Tensor::grad)
                .filter(Tensor::defined)
                .collect(),
        })
    }

    /// The joint 2-norm of the gradients `grads` (0 for none).
    fn joint_norm(grads: &[Tensor]) -> Result<f64, TrainError> {
        if grads.is_empty() {
            return Ok(0.0);
        }
        tch::no_grad(|| {
            let norms: Vec<Tensor> = grads.iter().map(Tensor::f_norm).collect::<Result<_, _>>()?;
            Ok(Tensor::f_stack(&norms, 0)?.f_norm()?.f_double_value(&[])?)
        })
    }

    /// The joint 2-norm of the gradients as they are now (after the
    /// backward pass: before any clipping), the norm
    /// [`clip_grad_norm`](Self::clip_grad_norm) compares with its maximum.
    /// Reads the gradients only.
    pub fn grad_norm(&mut self) -> Result<f64, TrainError> {
        let grads = self.grads()?;
        Self::joint_norm(&grads)
    }

    /// Every trainable value as one flat 1-D tensor (a copy), in the order
    /// of the variables; with [`flat_grad`](Self::flat_grad), what
    /// diagnostics compare before and after a step.
    pub fn flat_values(&self) -> Result<Tensor, TrainError> {
        match &self.mode {
            Mode::Flat { params, .. } => flat_copy(vec![params.detach()]),
            Mode::PerVariable { vars, .. } => flat_copy(vars.iter().map(Tensor::detach).collect()),
        }
    }

    /// Every gradient the next step uses as one flat 1-D tensor (a copy).
    pub fn flat_grad(&mut self) -> Result<Tensor, TrainError> {
        let grads = self.grads()?;
        flat_copy(grads)
    }

    /// Scales the gradients so that their joint 2-norm is at most `max`
    /// (the norm of all gradients as one vector, as `clip_grad_norm_` in
    /// PyTorch). Call it after the backward pass, before [`step`](Self::step).
    pub fn clip_grad_norm(&mut self, max: f64) -> Result<(), TrainError> {
        let grads = self.grads()?;
        if grads.is_empty() {
            return Ok(());
        }
        let total = Self::joint_norm(&grads)?;
        tch::no_grad(|| {
            let coef = max / (total + 1e-6);
            if coef < 1.0 {
                for mut g in grads {
                    let _ = g.f_mul_scalar_(coef)?;
                }
            }
            Ok(())
        })
    }

    /// Updates the variables from their gradients. Adam without weight
    /// decay over a flat `float32` CPU buffer runs on seqlab's kernel
    /// (`seqlab_models::optim_kernel`, equal to libtorch's Adam to the bit,
    /// in three passes over memory instead of eight), unless
    /// `SEQLAB_RNN_KERNEL=libtorch`; everything else on libtorch's.
    pub fn step(&mut self) -> Result<(), TrainError> {
        self.settle()?;
        self.set_up_adam_kernel()?;
        let lr = self.lr;
        match &mut self.mode {
            Mode::Flat {
                params,
                grads: Some(grads),
                adam: Some(state),
                ..
            } => state.step(lr, params, grads)?,
            Mode::Flat { opt, .. } | Mode::PerVariable { opt, .. } => opt.step()?,
        }
        Ok(())
    }

    /// Before the first step: gives the flat buffer seqlab's Adam kernel
    /// (`seqlab_models::optim_kernel`: libtorch's arithmetic in three passes
    /// instead of eight) where it serves: Adam without weight decay, on a
    /// contiguous `float32` CPU buffer, with seqlab's kernels on. What
    /// decides does not change, so later steps keep the first's choice.
    fn set_up_adam_kernel(&mut self) -> Result<(), TrainError> {
        let OptimizerKind::Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
        } = self.config.kind
        else {
            return Ok(());
        };
        let Mode::Flat {
            params,
            grads: Some(_),
            adam: state @ None,
            ..
        } = &mut self.mode
        else {
            return Ok(());
        };
        let serves = weight_decay == 0.0
            && seqlab_models::fused::enabled()
            && params.device() == tch::Device::Cpu
            && params.kind() == tch::Kind::Float
            && params.is_contiguous();
        if serves {
            let adam = optim_kernel::Adam { beta1, beta2, eps };
            *state = Some(AdamState::new(params, adam)?);
        }
        Ok(())
    }
}

/// `pieces` flattened and concatenated into one new 1-D tensor.
fn flat_copy(pieces: Vec<Tensor>) -> Result<Tensor, TrainError> {
    if pieces.is_empty() {
        return Ok(Tensor::f_zeros([0], (tch::Kind::Float, tch::Device::Cpu))?);
    }
    tch::no_grad(|| {
        let flat: Vec<Tensor> = pieces
            .iter()
            .map(|t| t.f_reshape([-1]))
            .collect::<Result<_, _>>()?;
        Ok(Tensor::f_cat(&flat, 0)?)
    })
}

/// Views of consecutive slices of the flat `buffer`, shaped like `vars`, in order.
fn slices(buffer: &Tensor, vars: &[Tensor]) -> Result<Vec<Tensor>, TrainError> {
    let mut offset = 0;
    vars.iter()
        .map(|v| {
            let n = v.numel() as i64;
            let view = buffer.f_narrow(0, offset, n)?.f_view(v.size().as_slice())?;
            offset += n;
            Ok(view)
        })
        .collect()
}
