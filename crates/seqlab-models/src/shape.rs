//! Input checks at the models' entry points.
//!
//! Every model of this crate checks the rank, sizes, element type and
//! device of its input before running libtorch, so that a wrong input is a
//! [`ModelError`] naming the model, the expected and the found shape,
//! instead of a libtorch error with a C++ backtrace. [`Model::try_forward_t`]
//! returns it; `ModuleT::forward_t`, whose signature cannot return an
//! error, panics with the same message (seqlab-train's `fit`, `evaluate`
//! and `predict` turn that panic into an error).
//!
//! [`Model::try_forward_t`]: crate::Model::try_forward_t

use crate::ModelError;
use tch::{Kind, Tensor};

/// One dimension of an expected shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Any size of at least 1, named in messages (`batch`, `steps`).
    Any(&'static str),
    /// Exactly this size.
    Is(i64),
}

/// Writes `[batch, steps, 5]`.
pub fn describe(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| match d {
            Dim::Any(name) => (*name).to_string(),
            Dim::Is(n) => n.to_string(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Checks that `x` has the shape `dims`, and the element type and device of
/// `like` (a weight of the model): floating-point inputs of the weights'
/// type when `ids` is false, integer ids when it is true.
pub fn expect(
    what: &str,
    x: &Tensor,
    dims: &[Dim],
    like: &Tensor,
    ids: bool,
) -> Result<(), ModelError> {
    let found = x.size();
    let fits = found.len() == dims.len()
        && found.iter().zip(dims).all(|(&f, d)| match d {
            Dim::Any(_) => f >= 1,
            Dim::Is(n) => f == *n,
        });
    if !fits {
        return Err(ModelError::Shape {
            what: what.to_string(),
            expected: describe(dims),
            found,
        });
    }
    let kind = x.kind();
    if ids {
        if !matches!(kind, Kind::Int64 | Kind::Int) {
            return Err(ModelError::Input {
                what: what.to_string(),
                problem: format!("expected integer token ids (Int64), found {kind:?} values"),
            });
        }
    } else if kind != like.kind() {
        return Err(ModelError::Input {
            what: what.to_string(),
            problem: format!(
                "expected {:?} values (the weights' type), found {kind:?}",
                like.kind()
            ),
        });
    }
    if x.device() != like.device() {
        return Err(ModelError::Input {
            what: what.to_string(),
            problem: format!(
                "the input is on {:?} but the model is on {:?}; move one of them (Tensor::to_device)",
                x.device(),
                like.device()
            ),
        });
    }
    Ok(())
}

/// For `ModuleT::forward_t`, which cannot return an error: panics with the
/// check's message (see the module docs).
pub(crate) fn or_panic(check: Result<(), ModelError>) {
    if let Err(e) = check {
        panic!("{e}");
    }
}

/// libtorch's message without the C++ backtrace that follows it
/// ("Exception raised from ...", "frame #0: ..."), and without tch's
/// `Torch("...")` wrapping when the text is a panic message of tch's
/// panicking API.
pub fn torch_message(text: &str) -> String {
    let inner = match text.find("Torch(\"") {
        Some(i) => unescape(text.get(i + 7..).unwrap_or_default()),
        None => text.to_string(),
    };
    let mut kept = Vec::new();
    for line in inner.lines() {
        let t = line.trim();
        if t.starts_with("Exception raised from") || t.starts_with("frame #") {
            break;
        }
        if !t.is_empty() {
            kept.push(t);
        }
    }
    let joined = kept.join(" ");
    joined
        .strip_suffix("\")")
        .unwrap_or(&joined)
        .trim()
        .to_string()
}

/// Undoes `{:?}` escaping of the common characters.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torch_messages_lose_the_backtrace_and_the_wrapping() {
        let panic_text = "called `Result::unwrap()` on an `Err` value: Torch(\"The size of tensor a (64) must match the size of tensor b (32) at non-singleton dimension 1\\nException raised from infer_size_impl at /pytorch/aten/src/ATen/ExpandUtils.cpp:31 (most recent call first):\\nframe #0: c10::Error::Error(...) + 0x9a\\nframe #1: ...\")";
        assert_eq!(
            torch_message(panic_text),
            "The size of tensor a (64) must match the size of tensor b (32) at non-singleton dimension 1"
        );
        let plain = "input.size(-1) must be equal to input_size. Expected 1, got 40\nException raised from check_input at x.cpp:1\nframe #0: f";
        assert_eq!(
            torch_message(plain),
            "input.size(-1) must be equal to input_size. Expected 1, got 40"
        );
        assert_eq!(torch_message("no backtrace here"), "no backtrace here");
    }

    #[test]
    fn shapes_kinds_and_devices_are_checked_with_both_shapes_named() {
        let w = Tensor::zeros([3], (Kind::Float, tch::Device::Cpu));
        let dims = [Dim::Any("batch"), Dim::Any("steps"), Dim::Is(1)];
        let x = Tensor::zeros([8, 40], (Kind::Float, tch::Device::Cpu));
        let err = expect("LSTM layer", &x, &dims, &w, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "LSTM layer: expected input of shape [batch, steps, 1], found [8, 40]"
        );
        let x = Tensor::zeros([8, 40, 1], (Kind::Float, tch::Device::Cpu));
        assert!(expect("LSTM layer", &x, &dims, &w, false).is_ok());
        let empty = Tensor::zeros([0, 40, 1], (Kind::Float, tch::Device::Cpu));
        assert!(expect("LSTM layer", &empty, &dims, &w, false).is_err());
        let doubles = Tensor::zeros([8, 40, 1], (Kind::Double, tch::Device::Cpu));
        let err = expect("LSTM layer", &doubles, &dims, &w, false).unwrap_err();
        assert!(err.to_string().contains("Double"), "{err}");
        let ids = Tensor::zeros([2, 5], (Kind::Float, tch::Device::Cpu));
        let err = expect("embedding", &ids, &dims[..2], &w, true).unwrap_err();
        assert!(err.to_string().contains("integer token ids"), "{err}");
    }
}
