//! Recurrent layers: Elman RNN (relu or tanh), LSTM and GRU.
//!
//! One struct, [`Recurrent`], covers the four kinds. Its weights are laid out
//! exactly like PyTorch's `nn.RNN`/`nn.LSTM`/`nn.GRU` (`weight_ih_l{k}`,
//! `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, `_reverse` for the
//! backward direction; gate order `i f g o` for the LSTM and `r z n` for the
//! GRU), so weights exported from PyTorch load by name. The forward pass is
//! one whole-sequence kernel call per layer and direction, not a step loop:
//! on the CPU seqlab's own ([`crate::fused`]), elsewhere (or with
//! `SEQLAB_RNN_KERNEL=libtorch`) libtorch's `rnn_tanh`, `rnn_relu`, `gru`
//! and `lstm`.
//!
//! Unlike `tch::nn::lstm`, the training flag (which switches inter-layer
//! dropout) is passed at every call, so dropout really switches off at
//! evaluation.
//!
//! Equations (per step, per layer):
//! - RNN: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, `act` = relu or tanh;
//! - LSTM: `i,f,g,o` = `σ,σ,tanh,σ(W_ih x + b_ih + W_hh h + b_hh)`,
//!   `c' = f c + i g`, `h' = o tanh(c')`;
//! - GRU: `r,z = σ(W_i x + b_i + W_h h + b_h)`,
//!   `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`, `h' = (1 - z) n + z h`.

use crate::fused::LayerInput;
use crate::shape::Dim;
use crate::ModelError;
use std::borrow::Borrow;
use tch::{nn, Tensor};

/// Which recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RecurrentKind {
    /// Elman RNN with ReLU activation.
    RnnRelu,
    /// Elman RNN with tanh activation (Keras `SimpleRNN`).
    RnnTanh,
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit.
    Gru,
}

impl RecurrentKind {
    /// Number of gate blocks in the weight matrices.
    pub fn gates(self) -> i64 {
        match self {
            RecurrentKind::RnnRelu | RecurrentKind::RnnTanh => 1,
            RecurrentKind::Lstm => 4,
            RecurrentKind::Gru => 3,
        }
    }

    /// A short display name (`RNN(relu)`, `RNN(tanh)`, `LSTM`, `GRU`).
    pub fn name(self) -> &'static str {
        match self {
            RecurrentKind::RnnRelu => "RNN(relu)",
            RecurrentKind::RnnTanh => "RNN(tanh)",
            RecurrentKind::Lstm => "LSTM",
            RecurrentKind::Gru => "GRU",
        }
    }

    /// cuDNN's mode number (see PyTorch's `rnn.cpp`).
    fn cudnn_mode(self) -> i64 {
        match self {
            RecurrentKind::RnnRelu => 0,
            RecurrentKind::RnnTanh => 1,
            RecurrentKind::Lstm => 2,
            RecurrentKind::Gru => 3,
        }
    }
}

/// How to initialise the weights.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum RecurrentInit {
    /// PyTorch's default: every weight and bias uniform in `±1/sqrt(hidden)`.
    #[default]
    PyTorch,
    /// Keras' default: Glorot-uniform input weights, orthogonal recurrent
    /// weights, zero biases, and a forget-gate bias of 1 for the LSTM.
    Keras,
    /// Flux's default (`LSTMCell`, `RNNCell`, `GRUCell`): Glorot-uniform input
    /// *and* recurrent weights (each over its own `[gates * hidden, fan_in]`
    /// shape), zero biases, and a forget-gate bias of 1 for the LSTM.
    Flux,
    /// PyTorch's weights, with the LSTM's forget-gate bias set to
    /// `forget_bias` (in `b_ih`; the forget block of `b_hh` is zero). A large
    /// value (3 to 5) makes the initial cell state decay slowly, so that
    /// information can survive gaps of ~100 steps before training has
    /// learned to keep it. Other cells ignore it.
    LongMemory {
        /// Initial forget-gate bias.
        forget_bias: f64,
    },
}

/// Configuration of a [`Recurrent`] layer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecurrentConfig {
    /// Cell type.
    pub kind: RecurrentKind,
    /// Features per input step.
    pub input_size: i64,
    /// Hidden units per direction.
    pub hidden_size: i64,
    /// Stacked layers inside this module (1 = a single layer).
    pub num_layers: i64,
    /// Run a backward direction too and concatenate both outputs.
    pub bidirectional: bool,
    /// Dropout between stacked layers (training only).
    pub dropout: f64,
    /// Weight initialisation.
    pub init: RecurrentInit,
}

impl RecurrentConfig {
    /// A single-layer, one-direction layer with PyTorch initialisation.
    pub fn new(kind: RecurrentKind, input_size: i64, hidden_size: i64) -> Self {
        Self {
            kind,
            input_size,
            hidden_size,
            num_layers: 1,
            bidirectional: false,
            dropout: 0.0,
            init: RecurrentInit::PyTorch,
        }
    }

    fn directions(&self) -> i64 {
        if self.bidirectional {
            2
        } else {
            1
        }
    }

    fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::InvalidConfig(m));
        if self.input_size < 1 {
            return bad(format!(
                "recurrent input size must be at least 1, got {}",
                self.input_size
            ));
        }
        if self.hidden_size < 1 {
            return bad(format!(
                "recurrent hidden size must be at least 1, got {}",
                self.hidden_size
            ));
        }
        if self.num_layers < 1 {
            return bad(format!(
                "recurrent layer count must be at least 1, got {}",
                self.num_layers
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!(
                "recurrent dropout must be in [0, 1), got {}",
                self.dropout
            ));
        }
        Ok(())
    }
}

/// The recurrent state after (or before) a sequence: `h` of shape
/// `[layers * directions, batch, hidden]`, plus `c` for the LSTM.
#[derive(Debug)]
pub enum RecurrentState {
    /// RNN and GRU state.
    H(Tensor),
    /// LSTM state `(h, c)`.
    HC(Tensor, Tensor),
}

impl RecurrentState {
    /// The hidden state `h`.
    pub fn h(&self) -> &Tensor {
        match self {
            RecurrentState::H(h) | RecurrentState::HC(h, _) => h,
        }
    }

    /// The LSTM cell state, if any.
    pub fn c(&self) -> Option<&Tensor> {
        match self {
            RecurrentState::H(_) => None,
            RecurrentState::HC(_, c) => Some(c),
        }
    }
}

/// A recurrent layer (see the module docs).
#[derive(Debug)]
pub struct Recurrent {
    config: RecurrentConfig,
    flat_weights: Vec<Tensor>,
}

/// Creates a recurrent layer under `path`.
pub fn recurrent<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    config: &RecurrentConfig,
) -> Result<Recurrent, ModelError> {
    let path = path.borrow();
    config.validate()?;
    let h = config.hidden_size;
    let gate_dim = config.kind.gates() * h;
    let dirs = config.directions();
    let mut flat_weights = Vec::new();
    for layer in 0..config.num_layers {
        for dir in 0..dirs {
            let in_dim = if layer == 0 {
                config.input_size
            } else {
                h * dirs
            };
            let suffix = if dir == 1 { "_reverse" } else { "" };
            let glorot = |fan_in: i64| {
                let limit = (6.0 / (fan_in + gate_dim) as f64).sqrt();
                nn::Init::Uniform {
                    lo: -limit,
                    up: limit,
                }
            };
            let (w_ih_init, w_hh_init, b_init) = match config.init {
                RecurrentInit::PyTorch | RecurrentInit::LongMemory { .. } => {
                    let bound = 1.0 / (h as f64).sqrt();
                    let u = nn::Init::Uniform {
                        lo: -bound,
                        up: bound,
                    };
                    (u, u, u)
                }
                RecurrentInit::Keras => (
                    glorot(in_dim),
                    nn::Init::Orthogonal { gain: 1.0 },
                    nn::Init::Const(0.0),
                ),
                RecurrentInit::Flux => (glorot(in_dim), glorot(h), nn::Init::Const(0.0)),
            };
            flat_weights.push(path.f_var(
                &format!("weight_ih_l{layer}{suffix}"),
                &[gate_dim, in_dim],
                w_ih_init,
            )?);
            flat_weights.push(path.f_var(
                &format!("weight_hh_l{layer}{suffix}"),
                &[gate_dim, h],
                w_hh_init,
            )?);
            let b_ih = path.f_var(&format!("bias_ih_l{layer}{suffix}"), &[gate_dim], b_init)?;
            let b_hh = path.f_var(&format!("bias_hh_l{layer}{suffix}"), &[gate_dim], b_init)?;
            if config.kind == RecurrentKind::Lstm {
                // The forget gate is the second block (gate order i f g o).
                let forget = match config.init {
                    RecurrentInit::Keras | RecurrentInit::Flux => Some(1.0),
                    RecurrentInit::LongMemory { forget_bias } => Some(forget_bias),
                    RecurrentInit::PyTorch => None,
                };
                if let Some(value) = forget {
                    tch::no_grad(|| -> Result<(), tch::TchError> {
                        let _ = b_ih.narrow(0, h, h).f_fill_(value)?;
                        let _ = b_hh.narrow(0, h, h).f_fill_(0.0)?;
                        Ok(())
                    })?;
                }
            }
            flat_weights.push(b_ih);
            flat_weights.push(b_hh);
        }
    }
    if path.device().is_cuda() && tch::Cuda::cudnn_is_available() {
        // Lay the weights out in one contiguous cuDNN buffer once, as PyTorch does.
        let _ = Tensor::f_internal_cudnn_rnn_flatten_weight(
            &flat_weights,
            4,
            config.input_size,
            config.kind.cudnn_mode(),
            h,
            0,
            config.num_layers,
            true,
            config.bidirectional,
        )?;
    }
    Ok(Recurrent {
        config: config.clone(),
        flat_weights,
    })
}

impl Recurrent {
    /// The layer's configuration.
    pub fn config(&self) -> &RecurrentConfig {
        &self.config
    }

    /// Output features per step (`hidden * directions`).
    pub fn output_size(&self) -> i64 {
        self.config.hidden_size * self.config.directions()
    }

    /// Number of parameters as libtorch stores them (two bias vectors).
    pub fn num_params(&self) -> i64 {
        self.flat_weights.iter().map(|t| t.numel() as i64).sum()
    }

    /// Number of parameters as Keras counts them (one bias vector per
    /// direction and layer): `gates * H * (in + H + 1)`.
    pub fn keras_params(&self) -> i64 {
        let bias_per_block = self.config.kind.gates() * self.config.hidden_size;
        self.num_params() - bias_per_block * self.config.num_layers * self.config.directions()
    }

    /// The weights in libtorch's flat order.
    pub fn weights(&self) -> &[Tensor] {
        &self.flat_weights
    }

    /// A zero state for a batch of `batch` sequences.
    pub fn zero_state(&self, batch: i64) -> RecurrentState {
        let shape = [
            self.config.num_layers * self.config.directions(),
            batch,
            self.config.hidden_size,
        ];
        let w = &self.flat_weights[0];
        let z = Tensor::zeros(shape, (w.kind(), w.device()));
        match self.config.kind {
            RecurrentKind::Lstm => RecurrentState::HC(z.shallow_clone(), z),
            _ => RecurrentState::H(z),
        }
    }

    /// Checks that `xs` is `[batch, steps, input_size]` (both at least 1)
    /// with the weights' element type and device, and that `state`, if
    /// given, is `[layers * directions, batch, hidden]`.
    pub fn check_input(
        &self,
        xs: &Tensor,
        state: Option<&RecurrentState>,
    ) -> Result<(), ModelError> {
        let c = &self.config;
        let what = format!("{} layer", c.kind.name());
        let like = &self.flat_weights[0];
        crate::shape::expect(
            &what,
            xs,
            &[Dim::Any("batch"), Dim::Any("steps"), Dim::Is(c.input_size)],
            like,
            false,
        )?;
        if let Some(state) = state {
            let dims = [
                Dim::Is(c.num_layers * c.directions()),
                Dim::Is(xs.size()[0]),
                Dim::Is(c.hidden_size),
            ];
            let what = format!("{what}'s initial state");
            crate::shape::expect(&what, state.h(), &dims, like, false)?;
            if let RecurrentState::HC(_, cell) = state {
                crate::shape::expect(&what, cell, &dims, like, false)?;
            }
        }
        Ok(())
    }

    /// [`forward`](Self::forward) with the input checked first
    /// ([`check_input`](Self::check_input)): a wrong shape is an error.
    pub fn try_forward(
        &self,
        xs: &Tensor,
        state: Option<&RecurrentState>,
        train: bool,
    ) -> Result<(Tensor, RecurrentState), ModelError> {
        self.check_input(xs, state)?;
        Ok(self.forward_unchecked(xs, state, train))
    }

    /// Runs the whole sequence `xs` of shape `[batch, steps, features]`.
    ///
    /// Returns the outputs of the last layer at every step
    /// (`[batch, steps, hidden * directions]`) and the final state. `state`
    /// defaults to zeros. `train` switches inter-layer dropout.
    ///
    /// # Panics
    /// On an input that [`check_input`](Self::check_input) refuses, with its
    /// message (no libtorch backtrace); [`try_forward`](Self::try_forward)
    /// returns the error instead.
    pub fn forward(
        &self,
        xs: &Tensor,
        state: Option<&RecurrentState>,
        train: bool,
    ) -> (Tensor, RecurrentState) {
        crate::shape::or_panic(self.check_input(xs, state));
        self.forward_unchecked(xs, state, train)
    }

    /// Only the final state of [`forward`](Self::forward) (same checks and
    /// panics): the fused kernel then spends no time on the outputs, which
    /// an encoder or a classifier does not read.
    pub fn final_state(
        &self,
        xs: &Tensor,
        state: Option<&RecurrentState>,
        train: bool,
    ) -> RecurrentState {
        crate::shape::or_panic(self.check_input(xs, state));
        self.run(LayerInput::Sequence(xs), state, train, false).1
    }

    /// [`forward`](Self::forward) over `z` `[batch, input_size]` fed at
    /// each of `steps` steps (what a Keras `RepeatVector` makes), without
    /// materialising the repeated sequence: the fused kernel projects `z`
    /// once, and its gradient is the sum over the steps. Panics, as
    /// `forward` does, on a `z`, `steps` (at least 1) or state of the wrong shape.
    pub fn forward_repeated(
        &self,
        z: &Tensor,
        steps: i64,
        state: Option<&RecurrentState>,
        train: bool,
    ) -> (Tensor, RecurrentState) {
        let c = &self.config;
        let what = format!("{} layer's repeated input", c.kind.name());
        let dims = [Dim::Any("batch"), Dim::Is(c.input_size)];
        let like = &self.flat_weights[0];
        crate::shape::or_panic(crate::shape::expect(&what, z, &dims, like, false));
        let input = LayerInput::Repeated { x: z, steps };
        crate::shape::or_panic(self.check_input(&input.as_sequence(), state));
        let (out, state) = self.run(input, state, train, true);
        (
            out.unwrap_or_else(|| unreachable!("outputs were asked for")),
            state,
        )
    }

    fn forward_unchecked(
        &self,
        xs: &Tensor,
        state: Option<&RecurrentState>,
        train: bool,
    ) -> (Tensor, RecurrentState) {
        let (out, state) = self.run(LayerInput::Sequence(xs), state, train, true);
        (
            out.unwrap_or_else(|| unreachable!("outputs were asked for")),
            state,
        )
    }

    /// The outputs (when `outputs`) and the final state over a checked input.
    fn run(
        &self,
        input: LayerInput,
        state: Option<&RecurrentState>,
        train: bool,
        outputs: bool,
    ) -> (Option<Tensor>, RecurrentState) {
        let x = input.tensor();
        let zero;
        let state = match state {
            Some(s) => s,
            None => {
                zero = self.zero_state(x.size()[0]);
                &zero
            }
        };
        if crate::fused::enabled() && crate::fused::supports(x) {
            return self.run_fused(input, state, train, outputs);
        }
        let (out, state) = self.run_libtorch(&input.as_sequence(), state, train);
        (outputs.then_some(out), state)
    }

    fn run_fused(
        &self,
        input: LayerInput,
        state: &RecurrentState,
        train: bool,
        outputs: bool,
    ) -> (Option<Tensor>, RecurrentState) {
        let c = &self.config;
        let stack = crate::fused::StackConfig {
            kind: c.kind,
            num_layers: c.num_layers,
            bidirectional: c.bidirectional,
            dropout: self.dropout(),
            train,
            outputs,
        };
        let (h0, c0) = match state {
            RecurrentState::HC(h, cell) => (h.shallow_clone(), Some(cell.shallow_clone())),
            // An LSTM given only h starts from a zero cell state.
            RecurrentState::H(h) if c.kind == RecurrentKind::Lstm => {
                (h.shallow_clone(), Some(h.zeros_like()))
            }
            RecurrentState::H(h) => (h.shallow_clone(), None),
        };
        // The input was checked; a failure here panics with its message, as
        // libtorch's kernels do (try_forward and the fit loop's guard turn it into an error).
        match crate::fused::rnn_stack(stack, input, &h0, c0.as_ref(), &self.flat_weights) {
            Ok(r) => match r.c {
                Some(cell) => (r.outputs, RecurrentState::HC(r.h, cell)),
                None => (r.outputs, RecurrentState::H(r.h)),
            },
            Err(e) => panic!("{e}"),
        }
    }

    /// Dropout between layers (none for a single layer).
    fn dropout(&self) -> f64 {
        if self.config.num_layers > 1 {
            self.config.dropout
        } else {
            0.0
        }
    }

    fn run_libtorch(
        &self,
        xs: &Tensor,
        state: &RecurrentState,
        train: bool,
    ) -> (Tensor, RecurrentState) {
        let c = &self.config;
        let dropout = self.dropout();
        let w = &self.flat_weights;
        if c.kind == RecurrentKind::Lstm {
            // An LSTM given only h starts from a zero cell state.
            let hx = match state {
                RecurrentState::HC(h, cell) => [h.shallow_clone(), cell.shallow_clone()],
                RecurrentState::H(h) => [h.shallow_clone(), h.zeros_like()],
            };
            let (out, h, cell) = xs.lstm(
                &hx,
                w,
                true,
                c.num_layers,
                dropout,
                train,
                c.bidirectional,
                true,
            );
            return (out, RecurrentState::HC(h, cell));
        }
        type SingleStateKernel =
            fn(&Tensor, &Tensor, &[Tensor], bool, i64, f64, bool, bool, bool) -> (Tensor, Tensor);
        let kernel: SingleStateKernel = match c.kind {
            RecurrentKind::Gru => Tensor::gru::<Tensor>,
            RecurrentKind::RnnRelu => Tensor::rnn_relu::<Tensor>,
            _ => Tensor::rnn_tanh::<Tensor>,
        };
        let (out, h) = kernel(
            xs,
            state.h(),
            w,
            true,
            c.num_layers,
            dropout,
            train,
            c.bidirectional,
            true,
        );
        (out, RecurrentState::H(h))
    }

    /// The final hidden state of the last layer, both directions concatenated:
    /// `[batch, hidden * directions]`. For one direction this equals the
    /// output at the last step; for two it holds the backward direction's
    /// state after it has read the whole sequence.
    pub fn last_hidden(&self, state: &RecurrentState) -> Tensor {
        let h = state.h();
        let dirs = self.config.directions();
        let n = h.size()[0];
        let last = h.narrow(0, n - dirs, dirs); // [dirs, batch, hidden]
        last.permute([1, 0, 2]).reshape([-1, self.output_size()])
    }
}
