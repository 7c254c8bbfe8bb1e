//! Layers and models for seqlab on tch (libtorch).
//!
//! Constructors are plain functions taking a [`tch::nn::Path`] and a config,
//! like `tch::nn::linear`:
//!
//! - [`recurrent`]: one fused recurrent layer family (Elman RNN with relu or
//!   tanh, LSTM, GRU), batch-first, running libtorch's whole-sequence kernels
//!   (`rnn_relu`, `rnn_tanh`, `lstm`, `gru`; cuDNN on a GPU).
//! - [`autoencoder`]: sequence-to-vector encoders and vector-to-sequence
//!   decoders (LSTM or BiLSTM), alone or as an autoencoder.
//! - [`feedforward`]: a multi-layer perceptron over flattened inputs.
//! - [`classifier`]: a sequence-to-one classifier, a stack of recurrent
//!   layers read at the last step, followed by a dense head.
//! - [`keras`]: dense, embedding and batch-norm layers with Keras' defaults.
//! - [`sentiment`]: the book's IMDb review classifier (embedding, SimpleRNN
//!   or LSTM, batch norm, dense).
//! - [`seq2seq`]: the encoder-decoder LSTM with teacher-forced,
//!   autoregressive and zero-fed decoding.
//! - [`next_step`]: a step-by-step next-value model (dense, LSTM, dense),
//!   the Flux forum's continuation model.
//! - [`summary`]: a Keras-like model summary with libtorch and Keras
//!   parameter counts.
//!
//! ```no_run
//! use seqlab_models::classifier::{seq_classifier, SeqClassifierConfig};
//! use seqlab_models::recurrent::RecurrentKind;
//! use seqlab_models::Model;
//! use tch::nn::ModuleT;
//!
//! let vs = tch::nn::VarStore::new(tch::Device::Cpu);
//! let cfg = SeqClassifierConfig::stacked(5, RecurrentKind::RnnRelu, &[128, 128], 4);
//! let net = seq_classifier(&vs.root() / "seq2one", &cfg).unwrap();
//! let logits = net.forward_t(&tch::Tensor::zeros([32, 12, 5], tch::kind::FLOAT_CPU), false);
//! assert_eq!(logits.size(), [32, 4]);
//! println!("{}", net.summary(&[12, 5]));
//! ```

#![warn(missing_docs)]

pub mod autoencoder;
pub mod classifier;
pub mod dropout;
pub mod feedforward;
pub mod fused;
pub mod keras;
pub mod next_step;
pub mod norm_kernel;
pub mod optim_kernel;
pub mod recurrent;
pub mod sentiment;
pub mod seq2seq;
pub mod shape;
pub mod summary;

/// The `tch` this crate is built on (libtorch bindings, `=0.24.0` for
/// libtorch 2.11), re-exported so that a project using seqlab needs no
/// `tch` dependency (and no version pin) of its own: `use seqlab_models::tch;`.
pub use tch;

pub use summary::{Summary, SummaryRow};

/// Errors from building models.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration value outside its allowed range.
    #[error("invalid model configuration: {0}")]
    InvalidConfig(String),
    /// An input of the wrong rank or sizes.
    #[error("{what}: expected input of shape {expected}, found {found:?}")]
    Shape {
        /// The model or layer, e.g. `LSTM layer "encoder.rnn"`.
        what: String,
        /// The expected shape, e.g. `[batch, steps, 1]`.
        expected: String,
        /// The input's shape.
        found: Vec<i64>,
    },
    /// An input of the wrong element type, on the wrong device, or with
    /// values outside the model's range (token ids past the embedding).
    #[error("{what}: {problem}")]
    Input {
        /// The model or layer.
        what: String,
        /// What is wrong with the input.
        problem: String,
    },
    /// libtorch refused an operation (its message, without the C++ backtrace).
    #[error("libtorch: {}", shape::torch_message(&.0.to_string()))]
    Torch(#[from] tch::TchError),
}

/// A trainable model: a [`tch::nn::ModuleT`] that can describe itself and
/// check its input.
pub trait Model: tch::nn::ModuleT {
    /// A Keras-like summary for inputs whose per-sample shape (without the
    /// batch dimension) is `sample_shape`.
    fn summary(&self, sample_shape: &[i64]) -> Summary;

    /// Checks rank, sizes, element type and device of an input batch (see
    /// [`shape`]). `forward_t` runs this check first and panics with its
    /// message; [`try_forward_t`](Model::try_forward_t) returns it.
    fn check_input(&self, xs: &tch::Tensor) -> Result<(), ModelError>;

    /// `forward_t` with the input checked first: a wrong input is an
    /// [`ModelError::Shape`] or [`ModelError::Input`], never a panic.
    fn try_forward_t(&self, xs: &tch::Tensor, train: bool) -> Result<tch::Tensor, ModelError> {
        self.check_input(xs)?;
        Ok(self.forward_t(xs, train))
    }
}

/// A model configuration that can be saved with the weights and build its
/// model again: what seqlab-train's `save_checkpoint` and
/// `load_checkpoint` need to rebuild a model from a file alone.
///
/// Implemented for every model configuration of this crate; `KIND` names
/// the model in the checkpoint's JSON, so that loading a checkpoint with
/// the wrong configuration type is an error that says what the file holds.
pub trait ModelConfig: serde::Serialize + serde::de::DeserializeOwned {
    /// The model this configuration builds.
    type Model: Model;
    /// The model's name in checkpoint files, e.g. `"SeqClassifier"`.
    const KIND: &'static str;
    /// Builds the model under `path` (the constructor function).
    fn build(&self, path: &tch::nn::Path<'_>) -> Result<Self::Model, ModelError>;
}

macro_rules! model_config {
    ($($config:ty => $model:ty, $kind:literal, $build:path;)*) => {$(
        impl ModelConfig for $config {
            type Model = $model;
            const KIND: &'static str = $kind;
            fn build(&self, path: &tch::nn::Path<'_>) -> Result<Self::Model, ModelError> {
                $build(path, self)
            }
        }
    )*};
}

model_config! {
    classifier::SeqClassifierConfig => classifier::SeqClassifier, "SeqClassifier", classifier::seq_classifier;
    feedforward::FeedForwardConfig => feedforward::FeedForward, "FeedForward", feedforward::feed_forward;
    sentiment::SentimentConfig => sentiment::SentimentClassifier, "SentimentClassifier", sentiment::sentiment_classifier;
    autoencoder::EncoderConfig => autoencoder::SeqEncoder, "SeqEncoder", autoencoder::seq_encoder;
    autoencoder::DecoderConfig => autoencoder::SeqDecoder, "SeqDecoder", autoencoder::seq_decoder;
    autoencoder::AutoencoderConfig => autoencoder::Autoencoder, "Autoencoder", autoencoder::autoencoder;
    next_step::NextStepConfig => next_step::NextStepLstm, "NextStepLstm", next_step::next_step_lstm;
}

/// Unit tests that seed or draw from libtorch's global generator hold this
/// while they run: tests run on several threads, and a draw in one would
/// shift the numbers another test seeded for.
#[cfg(test)]
pub(crate) fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
