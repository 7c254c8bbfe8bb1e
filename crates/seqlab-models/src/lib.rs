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
pub mod feedforward;
pub mod keras;
pub mod next_step;
pub mod recurrent;
pub mod sentiment;
pub mod seq2seq;
pub mod summary;

pub use summary::{Summary, SummaryRow};

/// Errors from building models.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration value outside its allowed range.
    #[error("invalid model configuration: {0}")]
    InvalidConfig(String),
    /// libtorch refused an operation.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// A trainable model: a [`tch::nn::ModuleT`] that can describe itself.
pub trait Model: tch::nn::ModuleT {
    /// A Keras-like summary for inputs whose per-sample shape (without the
    /// batch dimension) is `sample_shape`.
    fn summary(&self, sample_shape: &[i64]) -> Summary;
}
