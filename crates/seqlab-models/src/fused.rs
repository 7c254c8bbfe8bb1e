//! A fused CPU kernel for recurrent layers (RNN tanh, RNN relu, GRU and
//! LSTM): the whole sequence of one layer and direction in one autograd
//! node, forward and backward written out (`csrc/fused_rnn.cpp`, compiled
//! against the same libtorch by this crate's build script).
//!
//! At the chapter's sizes a recurrent step is a few thousand multiply-adds,
//! and the work around them sets the speed: libtorch's CPU `rnn_tanh`,
//! `rnn_relu` and `gru` run several ATen ops and autograd nodes per step,
//! and its LSTM (oneDNN's fused primitive) pays a large set-up per call.
//! Here the input projection of all steps is one matrix product, each step
//! is plain loops over memory (a small register-blocked matrix product and
//! the gates' element-wise work, vectorised, with an AVX2 build chosen at
//! load time where the CPU has it), and the weight gradients are one matrix
//! product each. Nothing is copied around a call: the kernel reads the
//! sequence batch-first in either direction and writes the outputs in the
//! sequence's time order, leaves them out when only the final state is
//! wanted ([`LayerOptions::outputs`]), and takes an input repeated at every
//! step as one vector per sequence ([`LayerInput::Repeated`]), projected
//! once. [`rnn_stack`] stacks layers and directions exactly as
//! libtorch's functions do (PyTorch's weight names, gate order and
//! equations; dropout between layers), so it is a drop-in replacement on
//! CPU for `float32` inputs; on other devices or types the callers keep
//! libtorch's kernels (cuDNN fuses on CUDA).
//!
//! Results equal libtorch's to float tolerance (tests below, forward and
//! backward), and are bit-for-bit the same from run to run on one machine,
//! whatever the thread count: a step's rows may be split over threads, but
//! each row's arithmetic is the same.

use crate::recurrent::RecurrentKind;
use crate::ModelError;
use std::ffi::{c_char, CStr};
use tch::{Device, Kind, Tensor};
use torch_sys::C_tensor;

extern "C" {
    fn seqlab_fused_rnn(
        x: *const C_tensor,
        h0: *const C_tensor,
        c0: *const C_tensor,
        w_ih: *const C_tensor,
        w_hh: *const C_tensor,
        b_ih: *const C_tensor,
        b_hh: *const C_tensor,
        mode: i64,
        flags: i64,
        steps: i64,
        out: *mut *mut C_tensor,
        last: *mut *mut C_tensor,
        last_c: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn seqlab_fused_rnn_free_message(message: *mut c_char);
}

/// The environment variable that chooses the CPU kernel of recurrent
/// layers: `fused` (this module, the default) or `libtorch` (libtorch's own
/// `rnn_tanh`, `rnn_relu`, `gru` and `lstm`). `libtorch` also turns off
/// seqlab's batch normalisation and Adam kernels ([`crate::norm_kernel`],
/// [`crate::optim_kernel`]), whose results equal libtorch's anyway.
pub const KERNEL_VAR: &str = "SEQLAB_RNN_KERNEL";

/// The CPU kernel that serves recurrent layers in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// This module's kernel.
    Fused,
    /// libtorch's own functions.
    Libtorch,
}

impl Kernel {
    /// The name `SEQLAB_RNN_KERNEL` takes, and that run records show.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Fused => "fused",
            Kernel::Libtorch => "libtorch",
        }
    }

    /// Reads a `SEQLAB_RNN_KERNEL` value: unset or empty means fused.
    pub fn parse(value: Option<&str>) -> Result<Kernel, ModelError> {
        Self::parse_or_message(value).map_err(ModelError::InvalidConfig)
    }

    fn parse_or_message(value: Option<&str>) -> Result<Kernel, String> {
        match value.unwrap_or("").trim() {
            "" | "fused" => Ok(Kernel::Fused),
            "libtorch" => Ok(Kernel::Libtorch),
            other => Err(format!(
                "{KERNEL_VAR}={other:?}: expected \"fused\" or \"libtorch\""
            )),
        }
    }
}

/// The kernel `SEQLAB_RNN_KERNEL` asks for, read once per process; an
/// unknown value is an error that names the variable.
pub fn kernel() -> Result<Kernel, ModelError> {
    static CHOICE: std::sync::OnceLock<Result<Kernel, String>> = std::sync::OnceLock::new();
    CHOICE
        .get_or_init(|| {
            let value = std::env::var(KERNEL_VAR).ok();
            Kernel::parse_or_message(value.as_deref())
        })
        .clone()
        .map_err(ModelError::InvalidConfig)
}

/// The kernel that serves recurrent layers in this process (see
/// [`kernel`]; an invalid choice counts as fused here, and the binaries
/// refuse it at start-up).
pub fn active() -> Kernel {
    kernel().unwrap_or(Kernel::Fused)
}

/// Whether this module's kernel serves recurrent layers in this process.
pub fn enabled() -> bool {
    active() == Kernel::Fused
}

/// Whether the fused kernel serves tensors like `xs` (CPU, `float32`).
pub fn supports(xs: &Tensor) -> bool {
    xs.device() == Device::Cpu && xs.kind() == Kind::Float
}

fn mode(kind: RecurrentKind) -> i64 {
    match kind {
        RecurrentKind::RnnTanh => 0,
        RecurrentKind::RnnRelu => 1,
        RecurrentKind::Gru => 2,
        RecurrentKind::Lstm => 3,
    }
}

/// A layer's input.
#[derive(Debug, Clone, Copy)]
pub enum LayerInput<'a> {
    /// A sequence `[batch, steps, features]`.
    Sequence(&'a Tensor),
    /// One vector per sequence, `[batch, features]`, the input at each of
    /// `steps` steps (what a Keras `RepeatVector` feeds a layer): its
    /// projection is computed once, and its gradient is the sum over the
    /// steps, with no `[batch, steps, features]` tensor made either way.
    Repeated {
        /// `[batch, features]`.
        x: &'a Tensor,
        /// The number of steps.
        steps: i64,
    },
}

impl<'a> LayerInput<'a> {
    /// The input tensor (`[batch, steps, features]` or `[batch, features]`).
    pub fn tensor(&self) -> &'a Tensor {
        match *self {
            LayerInput::Sequence(x) | LayerInput::Repeated { x, .. } => x,
        }
    }

    /// The input as a sequence `[batch, steps, features]`: a repeated one
    /// expanded along its steps (a view, nothing copied; a negative step
    /// count gives none).
    pub fn as_sequence(&self) -> Tensor {
        match *self {
            LayerInput::Sequence(x) => x.shallow_clone(),
            LayerInput::Repeated { x, steps } => {
                let size = x.size();
                x.unsqueeze(1)
                    .expand([size[0], steps.max(0), size[size.len() - 1]], false)
            }
        }
    }
}

/// How a layer runs over its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerOptions {
    /// Read the sequence from its last step to its first (the reverse
    /// direction of a bidirectional layer); the outputs stay in the
    /// sequence's own time order, as libtorch's reverse direction gives them.
    pub reverse: bool,
    /// Return the output of every step; without, [`LayerOutput::outputs`]
    /// is `None` (for callers that only use the final states).
    pub outputs: bool,
}

/// A layer's (or a stack's) results, every one tracked by autograd.
#[derive(Debug)]
pub struct LayerOutput {
    /// The output of every step, `[batch, steps, hidden]` (a stack: its last
    /// layer's, both directions concatenated), when asked for.
    pub outputs: Option<Tensor>,
    /// The final hidden state, `[batch, hidden]` (a stack: every layer's and
    /// direction's, `[layers * directions, batch, hidden]`).
    pub h: Tensor,
    /// An LSTM's final cell state, shaped like `h`.
    pub c: Option<Tensor>,
}

/// One layer, one direction, over `input` from `h0` `[batch, hidden]` (and
/// for an LSTM `c0`, same shape), with PyTorch's `weight_ih`, `weight_hh`,
/// `bias_ih`, `bias_hh`.
pub fn layer(
    kind: RecurrentKind,
    input: LayerInput,
    h0: &Tensor,
    c0: Option<&Tensor>,
    w: &[Tensor],
    options: LayerOptions,
) -> Result<LayerOutput, ModelError> {
    let [w_ih, w_hh, b_ih, b_hh] = w else {
        return Err(ModelError::InvalidConfig(format!(
            "a fused layer needs 4 weight tensors, got {}",
            w.len()
        )));
    };
    let lstm = kind == RecurrentKind::Lstm;
    if lstm != c0.is_some() {
        return Err(ModelError::InvalidConfig(format!(
            "a fused {} layer {} a cell state",
            kind.name(),
            if lstm { "needs" } else { "takes no" }
        )));
    }
    let (x, steps) = match input {
        LayerInput::Sequence(x) => (x, -1),
        LayerInput::Repeated { x, steps } => (x, steps),
    };
    let flags = i64::from(options.reverse) | (i64::from(options.outputs) << 1);
    let h0 = h0.contiguous();
    let c0 = c0.map(Tensor::contiguous);
    let mut out: *mut C_tensor = std::ptr::null_mut();
    let mut last: *mut C_tensor = std::ptr::null_mut();
    let mut last_c: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: every pointer is a live tch tensor (a `torch::Tensor*`) for
    // the duration of the call, or null where the C++ side expects null (no
    // cell state but for an LSTM); on success it hands over new tensors
    // (two, three for an LSTM), which `Tensor::from_ptr` then owns; on
    // failure it returns a malloc'd message and writes no tensor.
    let message = unsafe {
        seqlab_fused_rnn(
            x.as_ptr(),
            h0.as_ptr(),
            c0.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            w_ih.as_ptr(),
            w_hh.as_ptr(),
            b_ih.as_ptr(),
            b_hh.as_ptr(),
            mode(kind),
            flags,
            steps,
            &mut out,
            &mut last,
            if lstm {
                &mut last_c
            } else {
                std::ptr::null_mut()
            },
        )
    };
    check(message, || format!("fused {} layer", kind.name()))?;
    // SAFETY: set to new tensors (the cell only for an LSTM), owned from here on.
    let (out, h, c) = unsafe {
        (
            Tensor::from_ptr(out),
            Tensor::from_ptr(last),
            lstm.then(|| Tensor::from_ptr(last_c)),
        )
    };
    Ok(LayerOutput {
        outputs: options.outputs.then_some(out),
        h,
        c,
    })
}

/// Whether `x` `[batch, steps, features]` is expanded along its steps (stride
/// 0): the same values at every step.
fn constant_in_time(x: &Tensor) -> bool {
    x.dim() == 3 && x.size()[1] > 1 && x.stride()[1] == 0
}

/// Success for a null `message` from the C++ side, else its text (freed
/// here) as an input error about `what`.
pub(crate) fn check(message: *mut c_char, what: impl FnOnce() -> String) -> Result<(), ModelError> {
    match take_message(message) {
        None => Ok(()),
        Some(text) => Err(ModelError::Input {
            what: what(),
            problem: crate::shape::torch_message(&text),
        }),
    }
}

/// The text of an error message from the C++ side (and frees it), or `None`
/// for a null pointer (success).
pub(crate) fn take_message(message: *mut c_char) -> Option<String> {
    if message.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string the C++ side allocated for us; it is
    // read once and freed by the same side's allocator.
    let text = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    unsafe { seqlab_fused_rnn_free_message(message) };
    Some(text)
}

/// One RNN or GRU layer: [`layer`] without a cell state, returning the
/// outputs and the final state.
pub fn rnn_layer(
    kind: RecurrentKind,
    x: &Tensor,
    h0: &Tensor,
    w: &[Tensor],
) -> Result<(Tensor, Tensor), ModelError> {
    let options = LayerOptions {
        reverse: false,
        outputs: true,
    };
    let r = layer(kind, LayerInput::Sequence(x), h0, None, w, options)?;
    let outputs = r
        .outputs
        .ok_or_else(|| ModelError::InvalidConfig("the fused layer returned no outputs".into()))?;
    Ok((outputs, r.h))
}

/// Settings of a stack of fused layers, as libtorch's `rnn_tanh`/`gru`/`lstm` take them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StackConfig {
    /// RNN tanh, RNN relu, GRU or LSTM.
    pub kind: RecurrentKind,
    /// Layers.
    pub num_layers: i64,
    /// Two directions per layer.
    pub bidirectional: bool,
    /// Dropout on every layer's output but the last, when training.
    pub dropout: f64,
    /// Training mode (dropout on).
    pub train: bool,
    /// Return the last layer's outputs at every step; without, the stack's
    /// [`LayerOutput::outputs`] is `None` and no time is spent on them.
    pub outputs: bool,
}

/// Layers and directions over `input` from `h0` `[layers * directions,
/// batch, hidden]` (and for an LSTM `c0`, same shape), with the weights in
/// libtorch's flat order (per layer, per direction: `w_ih, w_hh, b_ih,
/// b_hh`). Returns the last layer's outputs `[batch, steps, hidden *
/// directions]` (when `c.outputs`), every final hidden state `[layers *
/// directions, batch, hidden]` and, for an LSTM, every final cell state, as
/// libtorch's functions with `batch_first` do. A sequence expanded along its
/// steps (stride 0) is taken as [`LayerInput::Repeated`].
pub fn rnn_stack(
    c: StackConfig,
    input: LayerInput,
    h0: &Tensor,
    c0: Option<&Tensor>,
    weights: &[Tensor],
) -> Result<LayerOutput, ModelError> {
    let dirs = if c.bidirectional { 2 } else { 1 };
    let expected = (c.num_layers * dirs * 4) as usize;
    if weights.len() != expected {
        return Err(ModelError::InvalidConfig(format!(
            "{} layers of {dirs} direction(s) need {expected} weight tensors, got {}",
            c.num_layers,
            weights.len()
        )));
    }
    let first; // the first step of a sequence expanded along its steps
    let input = match input {
        LayerInput::Sequence(x) if constant_in_time(x) => {
            first = x.select(1, 0);
            LayerInput::Repeated {
                x: &first,
                steps: x.size()[1],
            }
        }
        input => input,
    };
    // The previous layer's outputs, the next one's input.
    let mut carried: Option<Tensor> = None;
    let mut finals = Vec::with_capacity((c.num_layers * dirs) as usize);
    let mut cells = Vec::with_capacity((c.num_layers * dirs) as usize);
    for layer_index in 0..c.num_layers {
        let last_layer = layer_index + 1 == c.num_layers;
        let layer_input = carried.as_ref().map_or(input, LayerInput::Sequence);
        let mut outs = Vec::with_capacity(dirs as usize);
        for d in 0..dirs {
            let idx = layer_index * dirs + d;
            let w = &weights[(idx * 4) as usize..(idx * 4 + 4) as usize];
            let options = LayerOptions {
                reverse: d == 1,
                outputs: !last_layer || c.outputs,
            };
            let cell = c0.map(|c0| c0.get(idx));
            let r = layer(c.kind, layer_input, &h0.get(idx), cell.as_ref(), w, options)?;
            outs.extend(r.outputs);
            finals.push(r.h);
            cells.extend(r.c);
        }
        let out = match outs.len() {
            0 => None,
            1 => outs.pop(),
            _ => Some(Tensor::cat(&outs, 2)),
        };
        carried = match out {
            Some(out) if !last_layer && c.dropout > 0.0 && c.train => {
                Some(crate::dropout::dropout(&out, c.dropout, c.train))
            }
            out => out,
        };
    }
    let cells = (!cells.is_empty()).then(|| Tensor::stack(&cells, 0));
    Ok(LayerOutput {
        outputs: carried,
        h: Tensor::stack(&finals, 0),
        c: cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Reduction;

    /// Weights in libtorch's flat order, requiring gradients.
    fn weights(
        kind: RecurrentKind,
        input: i64,
        hidden: i64,
        layers: i64,
        dirs: i64,
    ) -> Vec<Tensor> {
        let gates = kind.gates();
        let mut w = Vec::new();
        for layer in 0..layers {
            let in_size = if layer == 0 { input } else { hidden * dirs };
            for _ in 0..dirs {
                for shape in [
                    vec![gates * hidden, in_size],
                    vec![gates * hidden, hidden],
                    vec![gates * hidden],
                    vec![gates * hidden],
                ] {
                    w.push(
                        (Tensor::randn(shape.as_slice(), (Kind::Float, Device::Cpu)) * 0.4)
                            .set_requires_grad(true),
                    );
                }
            }
        }
        w
    }

    type LibtorchKernel =
        fn(&Tensor, &Tensor, &[Tensor], bool, i64, f64, bool, bool, bool) -> (Tensor, Tensor);

    fn libtorch_kernel(kind: RecurrentKind) -> LibtorchKernel {
        match kind {
            RecurrentKind::Gru => Tensor::gru::<Tensor>,
            RecurrentKind::RnnRelu => Tensor::rnn_relu::<Tensor>,
            _ => Tensor::rnn_tanh::<Tensor>,
        }
    }

    /// A training-mode stack without dropout.
    fn no_dropout(
        kind: RecurrentKind,
        num_layers: i64,
        bidirectional: bool,
        outputs: bool,
    ) -> StackConfig {
        StackConfig {
            kind,
            num_layers,
            bidirectional,
            dropout: 0.0,
            train: true,
            outputs,
        }
    }

    /// A stack's outputs, final hidden states and final cell states.
    type Results = (Tensor, Tensor, Option<Tensor>);

    /// A stack without dropout on the fused kernel or libtorch's own
    /// (`c0` for an LSTM only), as `rnn_stack` returns it.
    #[allow(clippy::too_many_arguments)]
    fn stack(
        kind: RecurrentKind,
        fused: bool,
        x: &Tensor,
        h0: &Tensor,
        c0: Option<&Tensor>,
        w: &[Tensor],
        layers: i64,
        bidirectional: bool,
    ) -> Results {
        if fused {
            let c = no_dropout(kind, layers, bidirectional, true);
            let r = rnn_stack(c, LayerInput::Sequence(x), h0, c0, w).expect("fused stack");
            return (r.outputs.expect("outputs asked for"), r.h, r.c);
        }
        match c0 {
            Some(c0) => {
                let hx = [h0.shallow_clone(), c0.shallow_clone()];
                let (o, h, c) = x.lstm(&hx, w, true, layers, 0.0, true, bidirectional, true);
                (o, h, Some(c))
            }
            None => {
                let run = libtorch_kernel(kind);
                let (o, h) = run(x, h0, w, true, layers, 0.0, true, bidirectional, true);
                (o, h, None)
            }
        }
    }

    /// The largest difference, over the larger of 1 and `b`'s largest value.
    fn relative_diff(a: &Tensor, b: &Tensor) -> f64 {
        let d = (a - b).abs().max().double_value(&[]);
        d / b.abs().max().double_value(&[]).max(1.0)
    }

    /// Outputs, final states and the gradients of a loss on both, with
    /// respect to the input, the initial state and every weight, equal
    /// libtorch's own kernel's to float tolerance.
    fn matches_libtorch(kind: RecurrentKind, layers: i64, bidirectional: bool) {
        matches_libtorch_sized(kind, layers, bidirectional, (3, 6, 4, 5));
        matches_libtorch_sized(kind, layers, bidirectional, (9, 7, 3, 20));
        // 28 units (the MNIST autoencoders'): a 16-column block, then 12
        // columns taken as two vectors, the second partly past the end; 11
        // rows and 13 inputs: blocks of 6, 4 and 1 rows.
        matches_libtorch_sized(kind, layers, bidirectional, (11, 5, 13, 28));
    }

    /// As [`matches_libtorch`] for `(batch, steps, input, hidden)`.
    fn matches_libtorch_sized(
        kind: RecurrentKind,
        layers: i64,
        bidirectional: bool,
        (batch, steps, input, hidden): (i64, i64, i64, i64),
    ) {
        tch::manual_seed(7);
        let dirs = if bidirectional { 2 } else { 1 };
        let w = weights(kind, input, hidden, layers, dirs);
        let x = Tensor::randn([batch, steps, input], (Kind::Float, Device::Cpu))
            .set_requires_grad(true);
        let h0 = (Tensor::randn([layers * dirs, batch, hidden], (Kind::Float, Device::Cpu)) * 0.5)
            .set_requires_grad(true);
        let c0 = (Tensor::randn([layers * dirs, batch, hidden], (Kind::Float, Device::Cpu)) * 0.5)
            .set_requires_grad(true);
        let target = Tensor::randn([batch, steps, hidden * dirs], (Kind::Float, Device::Cpu));
        let run = |fused: bool| -> (Tensor, Tensor, Option<Tensor>, Vec<Tensor>) {
            let c0 = (kind == RecurrentKind::Lstm).then_some(&c0);
            let (out, h, cell) = stack(kind, fused, &x, &h0, c0, &w, layers, bidirectional);
            let mut loss =
                out.mse_loss(&target, Reduction::Mean) + h.square().sum(Kind::Float) * 0.3;
            if let Some(cell) = &cell {
                loss += cell.sin().sum(Kind::Float) * 0.2;
            }
            let mut inputs = vec![x.shallow_clone(), h0.shallow_clone()];
            inputs.extend(c0.map(Tensor::shallow_clone));
            inputs.extend(w.iter().map(Tensor::shallow_clone));
            let grads = Tensor::run_backward(&[loss], &inputs, false, false);
            (out.detach(), h.detach(), cell.map(|c| c.detach()), grads)
        };
        let (out_a, h_a, c_a, g_a) = run(true);
        let (out_b, h_b, c_b, g_b) = run(false);
        assert_eq!(g_a.len(), g_b.len());
        let what = format!(
            "{} layers {layers} bidirectional {bidirectional}",
            kind.name()
        );
        let mut states = vec![("outputs", out_a, out_b), ("final states", h_a, h_b)];
        if let (Some(a), Some(b)) = (c_a, c_b) {
            states.push(("final cell states", a, b));
        }
        for (name, a, b) in &states {
            let d = relative_diff(a, b);
            assert!(d < 1e-5, "{what}: {name} differ by {d} of their size");
        }
        let names = ["input", "initial state", "initial cell state"];
        let first_weight = if kind == RecurrentKind::Lstm { 3 } else { 2 };
        for (i, (a, b)) in g_a.iter().zip(&g_b).enumerate() {
            let d = relative_diff(a, b);
            let name = if i < first_weight {
                names[i].to_string()
            } else {
                format!("weight {}", i - first_weight)
            };
            assert!(d < 1e-4, "{what}: gradient of the {name} differs by {d}");
        }
    }

    #[test]
    fn rnn_tanh_matches_libtorch_forward_and_backward() {
        let _rng = crate::rng_lock();
        matches_libtorch(RecurrentKind::RnnTanh, 1, false);
        matches_libtorch(RecurrentKind::RnnTanh, 2, true);
    }

    #[test]
    fn rnn_relu_matches_libtorch_forward_and_backward() {
        let _rng = crate::rng_lock();
        matches_libtorch(RecurrentKind::RnnRelu, 1, false);
        matches_libtorch(RecurrentKind::RnnRelu, 2, true);
    }

    #[test]
    fn gru_matches_libtorch_forward_and_backward() {
        let _rng = crate::rng_lock();
        matches_libtorch(RecurrentKind::Gru, 1, false);
        matches_libtorch(RecurrentKind::Gru, 2, true);
        matches_libtorch(RecurrentKind::Gru, 3, false);
    }

    #[test]
    fn lstm_matches_libtorch_forward_and_backward() {
        let _rng = crate::rng_lock();
        matches_libtorch(RecurrentKind::Lstm, 1, false);
        matches_libtorch(RecurrentKind::Lstm, 2, true);
    }

    /// Sizes past the matrix kernel's 4- and 6-row and 16-column blocks, and past
    /// the size where a step's rows are split over threads, still match.
    #[test]
    fn large_layers_match_libtorch() {
        let _rng = crate::rng_lock();
        for kind in [
            RecurrentKind::RnnRelu,
            RecurrentKind::Gru,
            RecurrentKind::Lstm,
        ] {
            matches_libtorch_sized(kind, 1, false, (65, 4, 3, 200));
        }
    }

    /// A stack's forward outputs and all gradients, on `x` (whose gradient
    /// is the first), from a zero state, summed into one loss.
    fn stack_grads(
        kind: RecurrentKind,
        x: &Tensor,
        base: &Tensor,
        w: &[Tensor],
        bidirectional: bool,
        fused: bool,
    ) -> Vec<Tensor> {
        let dirs = if bidirectional { 2 } else { 1 };
        let shape = [dirs, x.size()[0], w[1].size()[1]];
        let h0 = Tensor::zeros(shape, (Kind::Float, Device::Cpu));
        let c0 = (kind == RecurrentKind::Lstm).then_some(&h0);
        let (out, _, _) = stack(kind, fused, x, &h0, c0, w, 1, bidirectional);
        let loss = (out.sin() * out.ones_like().cumsum(1, Kind::Float)).sum(Kind::Float);
        let mut inputs = vec![base.shallow_clone()];
        inputs.extend(w.iter().map(Tensor::shallow_clone));
        let mut grads = Tensor::run_backward(&[&loss], &inputs, false, false);
        grads.insert(0, out.detach());
        grads
    }

    /// An input expanded along its steps (a RepeatVector) takes the kernel's
    /// project-once path; it equals libtorch's kernel on the copied input,
    /// forward and backward, in both directions.
    #[test]
    fn an_input_constant_in_time_matches_libtorch() {
        let _rng = crate::rng_lock();
        for kind in [
            RecurrentKind::RnnTanh,
            RecurrentKind::Gru,
            RecurrentKind::Lstm,
        ] {
            for bidirectional in [false, true] {
                tch::manual_seed(5);
                let dirs = if bidirectional { 2 } else { 1 };
                let w = weights(kind, 6, 9, 1, dirs);
                let z = Tensor::randn([5, 6], (Kind::Float, Device::Cpu)).set_requires_grad(true);
                let expanded = z.unsqueeze(1).expand([5, 7, 6], false);
                assert!(constant_in_time(&expanded));
                let a = stack_grads(kind, &expanded, &z, &w, bidirectional, true);
                let b = stack_grads(kind, &expanded.contiguous(), &z, &w, bidirectional, false);
                for (i, (a, b)) in a.iter().zip(&b).enumerate() {
                    let d = relative_diff(a, b);
                    assert!(
                        d < 1e-5,
                        "{} bidirectional {bidirectional}: result {i} differs by {d}",
                        kind.name()
                    );
                }
            }
        }
    }

    /// The gradients of `loss` with respect to `inputs`.
    fn grads_of(loss: &Tensor, inputs: &[&Tensor]) -> Vec<Tensor> {
        let inputs: Vec<Tensor> = inputs.iter().map(|t| t.shallow_clone()).collect();
        Tensor::run_backward(&[loss], &inputs, false, false)
    }

    /// A stack asked for its final states only gives them, and every
    /// gradient through them, bit for bit as when it also returns outputs.
    #[test]
    fn final_states_alone_equal_the_full_run_bit_for_bit() {
        let _rng = crate::rng_lock();
        for (kind, layers, bidirectional) in [
            (RecurrentKind::Lstm, 2, true),
            (RecurrentKind::Gru, 1, false),
            (RecurrentKind::RnnTanh, 1, true),
        ] {
            tch::manual_seed(11);
            let dirs = if bidirectional { 2 } else { 1 };
            let w = weights(kind, 5, 8, layers, dirs);
            let x = Tensor::randn([6, 9, 5], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let h0 = Tensor::randn([layers * dirs, 6, 8], (Kind::Float, Device::Cpu))
                .set_requires_grad(true);
            let c0 = (kind == RecurrentKind::Lstm).then(|| h0.detach().cos());
            let run = |outputs: bool| {
                let c = no_dropout(kind, layers, bidirectional, outputs);
                let r = rnn_stack(c, LayerInput::Sequence(&x), &h0, c0.as_ref(), &w).unwrap();
                assert_eq!(r.outputs.is_some(), outputs);
                let mut loss = r.h.sin().sum(Kind::Float);
                if let Some(cell) = &r.c {
                    loss += cell.square().sum(Kind::Float);
                }
                let mut inputs = vec![&x, &h0];
                inputs.extend(w.iter());
                let mut all = grads_of(&loss, &inputs);
                all.push(r.h.detach());
                all
            };
            let (full, alone) = (run(true), run(false));
            for (i, (a, b)) in full.iter().zip(&alone).enumerate() {
                assert!(a.equal(b), "{}: result {i} differs", kind.name());
            }
        }
    }

    /// A repeated input ([`LayerInput::Repeated`]) gives the outputs,
    /// states and gradients of its expansion along the steps (a view, which
    /// `rnn_stack` takes as repeated), bit for bit, in both directions: the
    /// expansion's zeros and sums change nothing. (Both equal libtorch's
    /// kernel on the copied sequence to float tolerance:
    /// `an_input_constant_in_time_matches_libtorch`.)
    #[test]
    fn a_repeated_input_equals_its_expansion_bit_for_bit() {
        let _rng = crate::rng_lock();
        for kind in [
            RecurrentKind::Lstm,
            RecurrentKind::Gru,
            RecurrentKind::RnnRelu,
        ] {
            tch::manual_seed(13);
            let w = weights(kind, 6, 9, 1, 2);
            let z = Tensor::randn([5, 6], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let h0 = Tensor::zeros([2, 5, 9], (Kind::Float, Device::Cpu));
            let c0 = (kind == RecurrentKind::Lstm).then(|| h0.shallow_clone());
            let expanded = z.unsqueeze(1).expand([5, 7, 6], false);
            let run = |input: LayerInput| {
                let c = no_dropout(kind, 1, true, true);
                let r = rnn_stack(c, input, &h0, c0.as_ref(), &w).unwrap();
                let out = r.outputs.unwrap();
                let loss = (out.sin() * out.ones_like().cumsum(1, Kind::Float)).sum(Kind::Float)
                    + r.h.square().sum(Kind::Float);
                let mut inputs = vec![&z];
                inputs.extend(w.iter());
                let mut all = grads_of(&loss, &inputs);
                all.extend([out.detach(), r.h.detach()]);
                all
            };
            let repeated = run(LayerInput::Repeated { x: &z, steps: 7 });
            let sequence = run(LayerInput::Sequence(&expanded));
            for (i, (a, b)) in repeated.iter().zip(&sequence).enumerate() {
                assert!(a.equal(b), "{}: result {i} differs", kind.name());
            }
        }
    }

    /// A step's rows and the weight gradients' rows are split over threads
    /// when large enough; the bits do not depend on it.
    #[test]
    fn the_thread_count_changes_no_bit() {
        let _rng = crate::rng_lock();
        tch::manual_seed(9);
        let w = weights(RecurrentKind::Gru, 40, 200, 1, 1);
        let x = Tensor::randn([64, 3, 40], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let before = tch::get_num_threads();
        let run = |threads: i32| {
            tch::set_num_threads(threads);
            stack_grads(RecurrentKind::Gru, &x, &x, &w, false, true)
        };
        let one = run(1);
        let two = run(2);
        tch::set_num_threads(before);
        // Outputs, the input's and the weights' gradients (the biases' are
        // libtorch's own sums).
        for i in [0, 1, 2, 3] {
            assert!(
                one[i].equal(&two[i]),
                "result {i} differs between 1 and 2 threads"
            );
        }
    }

    #[test]
    fn the_kernel_choice_reads_its_variable() {
        let _rng = crate::rng_lock();
        assert_eq!(Kernel::parse(None).unwrap(), Kernel::Fused);
        assert_eq!(Kernel::parse(Some("")).unwrap(), Kernel::Fused);
        assert_eq!(Kernel::parse(Some("fused")).unwrap(), Kernel::Fused);
        assert_eq!(Kernel::parse(Some(" libtorch ")).unwrap(), Kernel::Libtorch);
        let err = Kernel::parse(Some("fast")).unwrap_err().to_string();
        assert!(err.contains("SEQLAB_RNN_KERNEL=\"fast\""), "{err}");
    }

    /// One tanh step by hand: h = tanh(x w_ih + b_ih + h0 w_hh + b_hh).
    #[test]
    fn one_tanh_step_by_hand() {
        let _rng = crate::rng_lock();
        let t = |v: &[f32], shape: &[i64]| Tensor::from_slice(v).reshape(shape);
        let x = t(&[0.5, -1.0], &[1, 1, 2]);
        let h0 = t(&[0.25], &[1, 1]);
        let w = [
            t(&[0.2, 0.4], &[1, 2]),
            t(&[-0.8], &[1, 1]),
            t(&[0.1], &[1]),
            t(&[0.05], &[1]),
        ];
        let (out, last) = rnn_layer(RecurrentKind::RnnTanh, &x, &h0, &w).unwrap();
        // 0.5 * 0.2 - 1.0 * 0.4 + 0.1 + 0.25 * -0.8 + 0.05 = -0.35
        let expected = (-0.35f64).tanh();
        assert!((out.double_value(&[0, 0, 0]) - expected).abs() < 1e-6);
        assert!((last.double_value(&[0, 0]) - expected).abs() < 1e-6);
    }

    #[test]
    fn the_same_inputs_give_the_same_bits() {
        let _rng = crate::rng_lock();
        tch::manual_seed(3);
        let w = weights(RecurrentKind::Gru, 4, 8, 1, 1);
        let x = Tensor::randn([16, 30, 4], (Kind::Float, Device::Cpu));
        let h0 = Tensor::zeros([16, 8], (Kind::Float, Device::Cpu));
        let (a, _) = rnn_layer(RecurrentKind::Gru, &x, &h0, &w).unwrap();
        let (b, _) = rnn_layer(RecurrentKind::Gru, &x, &h0, &w).unwrap();
        assert!(a.equal(&b));
    }

    #[test]
    fn wrong_inputs_are_errors_not_crashes() {
        let _rng = crate::rng_lock();
        let w = weights(RecurrentKind::RnnTanh, 4, 5, 1, 1);
        let x = Tensor::zeros([2, 3, 7], (Kind::Float, Device::Cpu)); // 7 inputs, weights want 4
        let h0 = Tensor::zeros([2, 5], (Kind::Float, Device::Cpu));
        let err = rnn_layer(RecurrentKind::RnnTanh, &x, &h0, &w)
            .unwrap_err()
            .to_string();
        assert!(err.contains("fused RNN(tanh) layer"), "{err}");
        assert!(!err.contains("Exception raised from"), "{err}");
        assert!(rnn_layer(RecurrentKind::Lstm, &x, &h0, &w).is_err()); // no cell state
        let x4 = Tensor::zeros([2, 3, 4], (Kind::Float, Device::Cpu));
        let err = rnn_layer(RecurrentKind::Gru, &x4, &h0, &w)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("weight_hh must be [3 * hidden, hidden]"),
            "{err}"
        );
        let doubles: Vec<Tensor> = w.iter().map(|t| t.to_kind(Kind::Double)).collect();
        let err = rnn_layer(RecurrentKind::RnnTanh, &x4, &h0, &doubles)
            .unwrap_err()
            .to_string();
        assert!(err.contains("weights must be float32 on the CPU"), "{err}");
        let wrong_h0 = Tensor::zeros([3, 5], (Kind::Float, Device::Cpu));
        let err = rnn_layer(RecurrentKind::RnnTanh, &x4, &wrong_h0, &w)
            .unwrap_err()
            .to_string();
        assert!(err.contains("initial state must be [2, 5]"), "{err}");
        assert!(rnn_layer(RecurrentKind::Gru, &x, &h0, &w[..3]).is_err());
    }
}
