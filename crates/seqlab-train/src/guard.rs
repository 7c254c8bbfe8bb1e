//! Runs model code so that a panic inside it becomes a [`TrainError`].
//!
//! `tch::nn::ModuleT::forward_t` cannot return an error: seqlab's models
//! panic with a clear message when their input has the wrong shape, and
//! tch's panicking tensor operations panic with libtorch's message plus a
//! C++ backtrace. [`fit`](crate::fit::fit), [`evaluate`](crate::fit::evaluate)
//! and the predict functions run the model through [`guarded`], which
//! catches such a panic and returns [`TrainError::Forward`] with the message
//! alone (the backtrace cut off) and the input's shape. While a guarded call
//! runs, the panic hook prints nothing for that thread, so the user sees
//! the error once, as an error.

use crate::TrainError;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside it becomes [`TrainError::Forward`] naming
/// `during` (e.g. "training batch 3 of epoch 1") and the input's `shape`.
pub fn guarded<T>(
    during: impl FnOnce() -> String,
    shape: &[i64],
    f: impl FnOnce() -> T,
) -> Result<T, TrainError> {
    install_hook();
    let was = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.map_err(|payload| {
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".to_string());
        TrainError::Forward {
            during: during(),
            input: shape.to_vec(),
            message: seqlab_models::shape::torch_message(&text),
        }
    })
}
