//! A fused CPU kernel for RNN (tanh, relu) and GRU layers: the whole
//! sequence of one layer and direction in one autograd node, forward and
//! backward written out (`csrc/fused_rnn.cpp`, compiled against the same
//! libtorch by this crate's build script).
//!
//! libtorch's CPU `rnn_tanh`, `rnn_relu` and `gru` run several small ATen
//! ops and autograd nodes per step; at the chapter's sizes their overhead,
//! not arithmetic, sets the speed (the LSTM already has oneDNN's fused
//! kernel). Here the input projection of all steps is one matrix product,
//! each step one small matrix product plus a loop for the element-wise
//! work, and the backward pass the same. [`rnn_stack`] stacks layers and
//! directions exactly as libtorch's functions do (PyTorch's weight names,
//! gate order and equations; dropout between layers), so it is a drop-in
//! replacement on CPU for `float32` inputs; on other devices or types the
//! callers keep libtorch's kernels (cuDNN fuses on CUDA).

use crate::recurrent::RecurrentKind;
use crate::ModelError;
use std::ffi::{c_char, CStr};
use tch::{Device, Kind, Tensor};
use torch_sys::C_tensor;

extern "C" {
    fn seqlab_fused_rnn(
        x: *const C_tensor,
        h0: *const C_tensor,
        w_ih: *const C_tensor,
        w_hh: *const C_tensor,
        b_ih: *const C_tensor,
        b_hh: *const C_tensor,
        mode: i64,
        out: *mut *mut C_tensor,
        last: *mut *mut C_tensor,
    ) -> *mut c_char;
    fn seqlab_fused_rnn_free_message(message: *mut c_char);
}

/// The environment variable that chooses the CPU kernel of RNN and GRU
/// layers: `fused` (this module) or `libtorch` (the default for now: the
/// committed results were computed with libtorch's kernels, and a run is
/// bit-for-bit reproducible only with the kernel it was made with).
pub const KERNEL_VAR: &str = "SEQLAB_RNN_KERNEL";

/// Whether `SEQLAB_RNN_KERNEL=fused` asks for this kernel (read once).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var(KERNEL_VAR).is_ok_and(|v| v == "fused"))
}

/// Whether the fused kernel serves `kind` on tensors like `xs` (CPU, `float32`).
pub fn supports(kind: RecurrentKind, xs: &Tensor) -> bool {
    kind != RecurrentKind::Lstm && xs.device() == Device::Cpu && xs.kind() == Kind::Float
}

fn mode(kind: RecurrentKind) -> Result<i64, ModelError> {
    match kind {
        RecurrentKind::RnnTanh => Ok(0),
        RecurrentKind::RnnRelu => Ok(1),
        RecurrentKind::Gru => Ok(2),
        RecurrentKind::Lstm => Err(ModelError::InvalidConfig(
            "the fused kernel serves RNN and GRU layers, not the LSTM".into(),
        )),
    }
}

/// One layer, one direction: `x` `[batch, steps, input]` from `h0`
/// `[batch, hidden]`, with PyTorch's `weight_ih`, `weight_hh`, `bias_ih`,
/// `bias_hh`. Returns the outputs `[batch, steps, hidden]` and the final
/// state `[batch, hidden]`, both tracked by autograd.
pub fn rnn_layer(
    kind: RecurrentKind,
    x: &Tensor,
    h0: &Tensor,
    w: &[Tensor],
) -> Result<(Tensor, Tensor), ModelError> {
    let [w_ih, w_hh, b_ih, b_hh] = w else {
        return Err(ModelError::InvalidConfig(format!(
            "a fused layer needs 4 weight tensors, got {}",
            w.len()
        )));
    };
    let mode = mode(kind)?;
    let (x, h0) = (x.contiguous(), h0.contiguous());
    let mut out: *mut C_tensor = std::ptr::null_mut();
    let mut last: *mut C_tensor = std::ptr::null_mut();
    // SAFETY: every pointer is a live tch tensor (a `torch::Tensor*`) for
    // the duration of the call; on success the C++ side hands over two new
    // tensors, which `Tensor::from_ptr` then owns; on failure it returns a
    // malloc'd message and writes no tensor.
    let message = unsafe {
        seqlab_fused_rnn(
            x.as_ptr(),
            h0.as_ptr(),
            w_ih.as_ptr(),
            w_hh.as_ptr(),
            b_ih.as_ptr(),
            b_hh.as_ptr(),
            mode,
            &mut out,
            &mut last,
        )
    };
    if !message.is_null() {
        // SAFETY: a NUL-terminated string from the C++ side, freed there.
        let text = unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned();
        unsafe { seqlab_fused_rnn_free_message(message) };
        return Err(ModelError::Input {
            what: format!("fused {} layer", kind.name()),
            problem: crate::shape::torch_message(&text),
        });
    }
    // SAFETY: both were set to new tensors, owned from here on.
    Ok(unsafe { (Tensor::from_ptr(out), Tensor::from_ptr(last)) })
}

/// Settings of a stack of fused layers, as libtorch's `rnn_tanh`/`gru` take them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StackConfig {
    /// RNN tanh, RNN relu or GRU.
    pub kind: RecurrentKind,
    /// Layers.
    pub num_layers: i64,
    /// Two directions per layer.
    pub bidirectional: bool,
    /// Dropout on every layer's output but the last, when training.
    pub dropout: f64,
    /// Training mode (dropout on).
    pub train: bool,
}

/// Layers and directions over `xs` `[batch, steps, input]` from `h0`
/// `[layers * directions, batch, hidden]`, with the weights in libtorch's
/// flat order (per layer, per direction: `w_ih, w_hh, b_ih, b_hh`).
/// Returns the last layer's outputs `[batch, steps, hidden * directions]`
/// and every final state `[layers * directions, batch, hidden]`, as
/// libtorch's `rnn_tanh`/`rnn_relu`/`gru` with `batch_first` do.
pub fn rnn_stack(
    c: StackConfig,
    xs: &Tensor,
    h0: &Tensor,
    weights: &[Tensor],
) -> Result<(Tensor, Tensor), ModelError> {
    let dirs = if c.bidirectional { 2 } else { 1 };
    let expected = (c.num_layers * dirs * 4) as usize;
    if weights.len() != expected {
        return Err(ModelError::InvalidConfig(format!(
            "{} layers of {dirs} direction(s) need {expected} weight tensors, got {}",
            c.num_layers,
            weights.len()
        )));
    }
    let mut input = xs.shallow_clone();
    let mut finals = Vec::with_capacity((c.num_layers * dirs) as usize);
    for layer in 0..c.num_layers {
        let mut outs = Vec::with_capacity(dirs as usize);
        for d in 0..dirs {
            let idx = layer * dirs + d;
            let w = &weights[(idx * 4) as usize..(idx * 4 + 4) as usize];
            let h = h0.get(idx);
            if d == 0 {
                let (o, last) = rnn_layer(c.kind, &input, &h, w)?;
                outs.push(o);
                finals.push(last);
            } else {
                // The reverse direction reads the sequence from its end.
                let (o, last) = rnn_layer(c.kind, &input.flip([1]), &h, w)?;
                outs.push(o.flip([1]));
                finals.push(last);
            }
        }
        let mut out = if outs.len() == 1 {
            outs.remove(0)
        } else {
            Tensor::cat(&outs, 2)
        };
        if layer + 1 < c.num_layers && c.dropout > 0.0 && c.train {
            out = out.dropout(c.dropout, c.train);
        }
        input = out;
    }
    Ok((input, Tensor::stack(&finals, 0)))
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
        let gates = if kind == RecurrentKind::Gru { 3 } else { 1 };
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

    type Kernel =
        fn(&Tensor, &Tensor, &[Tensor], bool, i64, f64, bool, bool, bool) -> (Tensor, Tensor);

    fn libtorch_kernel(kind: RecurrentKind) -> Kernel {
        match kind {
            RecurrentKind::Gru => Tensor::gru::<Tensor>,
            RecurrentKind::RnnRelu => Tensor::rnn_relu::<Tensor>,
            _ => Tensor::rnn_tanh::<Tensor>,
        }
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    /// Outputs, final states and the gradients of a loss on both, with
    /// respect to the input, the initial state and every weight, equal
    /// libtorch's own kernel's to float tolerance.
    fn matches_libtorch(kind: RecurrentKind, layers: i64, bidirectional: bool) {
        tch::manual_seed(7);
        let (batch, steps, input, hidden) = (3, 6, 4, 5);
        let dirs = if bidirectional { 2 } else { 1 };
        let w = weights(kind, input, hidden, layers, dirs);
        let x = Tensor::randn([batch, steps, input], (Kind::Float, Device::Cpu))
            .set_requires_grad(true);
        let h0 = (Tensor::randn([layers * dirs, batch, hidden], (Kind::Float, Device::Cpu)) * 0.5)
            .set_requires_grad(true);
        let target = Tensor::randn([batch, steps, hidden * dirs], (Kind::Float, Device::Cpu));
        let run = |fused: bool| -> (Tensor, Tensor, Vec<Tensor>) {
            let (out, h) = if fused {
                let c = StackConfig {
                    kind,
                    num_layers: layers,
                    bidirectional,
                    dropout: 0.0,
                    train: true,
                };
                rnn_stack(c, &x, &h0, &w).expect("fused stack")
            } else {
                libtorch_kernel(kind)(&x, &h0, &w, true, layers, 0.0, true, bidirectional, true)
            };
            let loss = out.mse_loss(&target, Reduction::Mean) + h.square().sum(Kind::Float) * 0.3;
            let mut inputs = vec![x.shallow_clone(), h0.shallow_clone()];
            inputs.extend(w.iter().map(Tensor::shallow_clone));
            let grads = Tensor::run_backward(&[loss], &inputs, false, false);
            (out.detach(), h.detach(), grads)
        };
        let (out_a, h_a, g_a) = run(true);
        let (out_b, h_b, g_b) = run(false);
        let what = format!(
            "{} layers {layers} bidirectional {bidirectional}",
            kind.name()
        );
        assert!(
            max_diff(&out_a, &out_b) < 1e-5,
            "{what}: outputs differ by {}",
            max_diff(&out_a, &out_b)
        );
        assert!(
            max_diff(&h_a, &h_b) < 1e-5,
            "{what}: final states differ by {}",
            max_diff(&h_a, &h_b)
        );
        let names = ["input", "initial state"];
        for (i, (a, b)) in g_a.iter().zip(&g_b).enumerate() {
            let d = max_diff(a, b);
            let scale = b.abs().max().double_value(&[]).max(1.0);
            let name = names
                .get(i)
                .map_or_else(|| format!("weight {}", i - 2), |n| n.to_string());
            assert!(
                d / scale < 1e-4,
                "{what}: gradient of the {name} differs by {d}"
            );
        }
    }

    #[test]
    fn rnn_tanh_matches_libtorch_forward_and_backward() {
        matches_libtorch(RecurrentKind::RnnTanh, 1, false);
        matches_libtorch(RecurrentKind::RnnTanh, 2, true);
    }

    #[test]
    fn rnn_relu_matches_libtorch_forward_and_backward() {
        matches_libtorch(RecurrentKind::RnnRelu, 1, false);
        matches_libtorch(RecurrentKind::RnnRelu, 2, true);
    }

    #[test]
    fn gru_matches_libtorch_forward_and_backward() {
        matches_libtorch(RecurrentKind::Gru, 1, false);
        matches_libtorch(RecurrentKind::Gru, 2, true);
        matches_libtorch(RecurrentKind::Gru, 3, false);
    }

    /// One tanh step by hand: h = tanh(x w_ih + b_ih + h0 w_hh + b_hh).
    #[test]
    fn one_tanh_step_by_hand() {
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
        let w = weights(RecurrentKind::RnnTanh, 4, 5, 1, 1);
        let x = Tensor::zeros([2, 3, 7], (Kind::Float, Device::Cpu)); // 7 inputs, weights want 4
        let h0 = Tensor::zeros([2, 5], (Kind::Float, Device::Cpu));
        let err = rnn_layer(RecurrentKind::RnnTanh, &x, &h0, &w)
            .unwrap_err()
            .to_string();
        assert!(err.contains("fused RNN(tanh) layer"), "{err}");
        assert!(!err.contains("Exception raised from"), "{err}");
        assert!(rnn_layer(RecurrentKind::Lstm, &x, &h0, &w).is_err());
        assert!(rnn_layer(RecurrentKind::Gru, &x, &h0, &w[..3]).is_err());
    }
}
