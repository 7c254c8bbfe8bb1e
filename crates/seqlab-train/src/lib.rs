//! The seqlab training engine on tch (libtorch).
//!
//! - [`fit()`](fit::fit): epochs over seeded, shuffled mini-batches; loss and
//!   metrics (accuracy, AUC) on training and validation data (given, or a
//!   Keras-like `validation_split`); a [`History`] per epoch; [`callbacks`]
//!   with Keras' exact `EarlyStopping` and `ReduceLROnPlateau` semantics,
//!   `ModelCheckpoint`, `CsvLogger` and your own ([`callbacks::Callback`],
//!   through [`fit_with_callbacks`](fit::fit_with_callbacks)); restore-best;
//!   a clear error on a NaN or infinite loss, and on an input the model
//!   cannot take ([`TrainError::Forward`], see [`guard`]).
//! - predictions as plain vectors: [`predict_proba`](fit::predict_proba),
//!   [`predict_positive`](fit::predict_positive),
//!   [`predict_classes`](fit::predict_classes).
//! - [`progress`]: an indicatif bar on a terminal plus one Keras-like line
//!   per epoch, and typed progress events (JSON lines) for a parent process
//!   that asks for them through `SEQLAB_PROGRESS_FILE`.
//! - [`checkpoint`]: `.safetensors` weights, written atomically; with the
//!   model's configuration beside them ([`checkpoint::save_checkpoint`],
//!   [`checkpoint::load_checkpoint`]) a model rebuilds from its files alone.
//! - [`tensors`]: `seqlab-data` data sets as tensors on a device.
//! - [`device`]: `cpu`, `cuda` or `auto`, with an error when CUDA is missing.
//! - [`runtime`]: process settings that speed training up without changing
//!   results (glibc `malloc` tuned for a training loop).
//!
//! ```no_run
//! use seqlab_train::{fit::{fit, FitConfig}, objective::{Loss, Metric}, optim::OptimizerConfig, tensors::to_tensors};
//! use seqlab_models::classifier::{seq_classifier, SeqClassifierConfig};
//! use seqlab_models::recurrent::RecurrentKind;
//!
//! seqlab_train::seed_all(42);
//! let (train, test) = seqlab_data::ab_order::generate_split(1000, 1000, 12, 42).unwrap();
//! let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
//! let net = seq_classifier(vs.root(), &SeqClassifierConfig::stacked(5, RecurrentKind::Lstm, &[32], 4)).unwrap();
//! let mut cfg = FitConfig::new(10, 32, OptimizerConfig::adam(1e-3), Loss::CrossEntropy);
//! cfg.metrics = vec![Metric::Accuracy];
//! let train = to_tensors(&train, tch::Device::Cpu).unwrap();
//! let test = to_tensors(&test, tch::Device::Cpu).unwrap();
//! let report = fit(&mut vs, &net, &train, Some(&test), cfg).unwrap();
//! println!("{}", report.history.to_csv());
//! ```

#![warn(missing_docs)]

pub mod callbacks;
pub mod checkpoint;
pub mod device;
pub mod diagnostics;
pub mod fit;
pub mod guard;
pub mod history;
pub mod objective;
pub mod optim;
pub mod progress;
pub mod runtime;
pub mod tensors;

pub use history::History;

use std::path::PathBuf;
/// The `tch` this crate is built on (`=0.24.0`, libtorch 2.11), re-exported
/// so that a project using seqlab needs no `tch` dependency of its own.
pub use tch;

/// Errors from training.
#[allow(missing_docs)] // variant fields are named for what they hold; each message says how
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A configuration value outside its allowed range.
    #[error("invalid training configuration: {0}")]
    InvalidConfig(String),
    /// The loss became NaN or infinite; the best (or last good) weights were restored.
    #[error("the loss became {value} at epoch {epoch}, batch {batch}; training stopped and the best weights so far were kept")]
    NonFiniteLoss {
        epoch: usize,
        batch: usize,
        value: f64,
    },
    /// A validation loss or metric came out NaN or infinite.
    #[error("{label}: the validation {what} is {value} after epoch {epoch} (the training loss was finite); check the validation inputs for NaN/inf values, and a model with batch normalisation for a training set whose size leaves a last batch of one sample (change the batch size or the number of samples by one); the best weights so far were kept")]
    NonFiniteValidation {
        label: String,
        what: String,
        epoch: usize,
        value: f64,
    },
    /// CUDA was requested but libtorch has no CUDA device.
    #[error(
        "CUDA was requested but libtorch reports no CUDA device: this machine has no usable GPU, or this binary \
         was built without CUDA linking (build with `--features cuda` against a CUDA libtorch); use --device cpu or auto"
    )]
    NoCuda,
    /// A checkpoint could not be loaded.
    #[error("cannot load checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    /// The model (or the loss) failed on an input: a wrong shape, type or
    /// device, with the model's or libtorch's message (no C++ backtrace).
    #[error("{during}: the model failed on an input of shape {input:?}: {message}")]
    Forward {
        during: String,
        input: Vec<i64>,
        message: String,
    },
    /// A model error (its input check, or a configuration it refused).
    #[error(transparent)]
    Model(#[from] seqlab_models::ModelError),
    /// libtorch refused an operation (its message, without the C++ backtrace).
    #[error("libtorch: {}", seqlab_models::shape::torch_message(&.0.to_string()))]
    Torch(#[from] tch::TchError),
    /// Writing a result file failed.
    #[error(transparent)]
    Io(#[from] seqlab_io::IoError),
    /// The data could not be batched or converted.
    #[error(transparent)]
    Data(#[from] seqlab_data::DataError),
}

/// Seeds libtorch's random number generators (initialisation, dropout).
///
/// libtorch's generator is global to the process: two fits that build
/// models or use dropout in parallel threads draw from the same generator
/// and are not reproducible. Run seeded fits one at a time.
pub fn seed_all(seed: u64) {
    tch::manual_seed(seed as i64);
}
