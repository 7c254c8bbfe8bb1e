//! Sequence autoencoders: an encoder that reads a sequence into a latent
//! vector (sequence-to-vector) and a decoder that unrolls a latent vector
//! into a sequence (vector-to-sequence), usable together or on their own.
//!
//! The book's MNIST models read a 28x28 image as 28 steps of 28 pixels:
//! - encoder: `Dropout -> LSTM or BiLSTM (final state; both directions
//!   concatenated, the backward one after reading the whole sequence) ->
//!   BatchNorm -> Dropout -> Dense(latent, sigmoid)`;
//! - decoder: `Dropout -> RepeatVector(steps) -> LSTM or BiLSTM (every step)
//!   -> BatchNorm over features -> time-distributed Dense(features)`.
//!
//! The decoder's [`nn::ModuleT`] output is *logits* `[batch, steps,
//! features]`; [`SeqDecoder::decode`] applies the book's sigmoid. Training
//! with binary cross-entropy on logits is the book's loss, computed stably.
//! The encoder and decoder live under their own variable-store paths
//! (`<path>/encoder`, `<path>/decoder`), so each can be saved and loaded
//! alone. Layers start from Keras' defaults.

use crate::dropout::dropout;
use crate::keras::{self, BatchNorm};
use crate::recurrent::{recurrent, Recurrent, RecurrentConfig, RecurrentInit, RecurrentKind};
use crate::summary::{Summary, SummaryRow};
use crate::{Model, ModelError};
use std::borrow::Borrow;
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

/// Configuration of a [`SeqEncoder`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EncoderConfig {
    /// Features per input step.
    pub features: i64,
    /// LSTM units per direction.
    pub hidden: i64,
    /// Read the sequence in both directions.
    pub bidirectional: bool,
    /// Dropout on the input sequence (training only).
    pub input_dropout: f64,
    /// Dropout after batch norm (training only).
    pub latent_dropout: f64,
    /// Size of the latent vector.
    pub latent: i64,
}

/// Configuration of a [`SeqDecoder`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DecoderConfig {
    /// Size of the latent vector.
    pub latent: i64,
    /// Output steps (the latent vector is repeated this many times).
    pub steps: i64,
    /// LSTM units per direction.
    pub hidden: i64,
    /// Run the LSTM in both directions.
    pub bidirectional: bool,
    /// Dropout on the latent vector (training only).
    pub input_dropout: f64,
    /// Features per output step.
    pub features: i64,
}

/// Configuration of an [`Autoencoder`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AutoencoderConfig {
    /// The encoder.
    pub encoder: EncoderConfig,
    /// The decoder.
    pub decoder: DecoderConfig,
}

impl AutoencoderConfig {
    /// The book's LSTM autoencoder with a 2-D latent space (Keras: 10,950 parameters).
    pub fn lstm_book() -> Self {
        Self {
            encoder: EncoderConfig {
                features: 28,
                hidden: 28,
                bidirectional: false,
                input_dropout: 0.1,
                latent_dropout: 0.1,
                latent: 2,
            },
            decoder: DecoderConfig {
                latent: 2,
                steps: 28,
                hidden: 28,
                bidirectional: false,
                input_dropout: 0.0,
                features: 28,
            },
        }
    }

    /// The book's BiLSTM autoencoder with a 100-D latent space (Keras: 49,408 parameters).
    pub fn bilstm_book() -> Self {
        Self {
            encoder: EncoderConfig {
                features: 28,
                hidden: 28,
                bidirectional: true,
                input_dropout: 0.5,
                latent_dropout: 0.5,
                latent: 100,
            },
            decoder: DecoderConfig {
                latent: 100,
                steps: 28,
                hidden: 28,
                bidirectional: true,
                input_dropout: 0.1,
                features: 28,
            },
        }
    }
}

fn check_dropout(what: &str, p: f64) -> Result<(), ModelError> {
    if (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(ModelError::InvalidConfig(format!(
            "{what} must be in [0, 1), got {p}"
        )))
    }
}

fn lstm(
    path: &nn::Path,
    input: i64,
    hidden: i64,
    bidirectional: bool,
) -> Result<Recurrent, ModelError> {
    let mut c = RecurrentConfig::new(RecurrentKind::Lstm, input, hidden);
    c.bidirectional = bidirectional;
    c.init = RecurrentInit::Keras;
    recurrent(path / "lstm", &c)
}

fn lstm_row(rnn: &Recurrent, shape: &[i64]) -> SummaryRow {
    SummaryRow {
        name: "lstm".into(),
        layer: if rnn.config().bidirectional {
            "Bidirectional LSTM".into()
        } else {
            "LSTM".into()
        },
        output_shape: crate::summary::shape_str(shape),
        params: rnn.num_params(),
        keras_params: rnn.keras_params(),
        non_trainable: 0,
    }
}

/// Sequence to vector (see the module docs).
#[derive(Debug)]
pub struct SeqEncoder {
    config: EncoderConfig,
    rnn: Recurrent,
    norm: BatchNorm,
    dense: nn::Linear,
}

/// Creates a [`SeqEncoder`] under `path`.
pub fn seq_encoder<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    config: &EncoderConfig,
) -> Result<SeqEncoder, ModelError> {
    let path = path.borrow();
    check_dropout("encoder input dropout", config.input_dropout)?;
    check_dropout("encoder latent dropout", config.latent_dropout)?;
    let rnn = lstm(path, config.features, config.hidden, config.bidirectional)?;
    let norm = keras::batch_norm(path / "batch_norm", rnn.output_size())?;
    let dense = keras::dense(path / "dense", rnn.output_size(), config.latent)?;
    Ok(SeqEncoder {
        config: config.clone(),
        rnn,
        norm,
        dense,
    })
}

impl SeqEncoder {
    /// The configuration.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// The latent vectors (after the sigmoid) of `xs` `[batch, steps, features]`
    /// in evaluation mode: `[batch, latent]`.
    pub fn encode(&self, xs: &Tensor) -> Tensor {
        tch::no_grad(|| self.forward_t(xs, false))
    }

    /// Summary rows for inputs of `steps` steps.
    pub fn rows(&self, steps: i64) -> Vec<SummaryRow> {
        let c = &self.config;
        let h = self.rnn.output_size();
        vec![
            keras::plain_row("dropout", "Dropout", &[steps, c.features]),
            lstm_row(&self.rnn, &[h]),
            self.norm.row("batch_norm", &[h]),
            keras::plain_row("dropout_1", "Dropout", &[h]),
            keras::dense_row("dense", &self.dense, &[c.latent]),
        ]
    }
}

impl ModuleT for SeqEncoder {
    /// The latent vector, sigmoid applied: `[batch, latent]`.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        crate::shape::or_panic(Model::check_input(self, xs));
        let x = dropout(xs, self.config.input_dropout, train);
        let state = self.rnn.final_state(&x, None, train);
        let h = self.rnn.last_hidden(&state);
        let h = dropout(
            &self.norm.forward_t(&h, train),
            self.config.latent_dropout,
            train,
        );
        self.dense.forward(&h).sigmoid()
    }
}

impl Model for SeqEncoder {
    /// `[batch, steps, features]`.
    fn check_input(&self, xs: &Tensor) -> Result<(), ModelError> {
        self.rnn.check_input(xs, None)
    }

    fn summary(&self, sample_shape: &[i64]) -> Summary {
        Summary {
            name: "encoder".into(),
            rows: self.rows(sample_shape.first().copied().unwrap_or(-1)),
        }
    }
}

/// Vector to sequence (see the module docs).
#[derive(Debug)]
pub struct SeqDecoder {
    config: DecoderConfig,
    rnn: Recurrent,
    norm: BatchNorm,
    dense: nn::Linear,
}

/// Creates a [`SeqDecoder`] under `path`.
pub fn seq_decoder<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    config: &DecoderConfig,
) -> Result<SeqDecoder, ModelError> {
    let path = path.borrow();
    check_dropout("decoder input dropout", config.input_dropout)?;
    if config.steps < 1 {
        return Err(ModelError::InvalidConfig(format!(
            "decoder steps must be at least 1, got {}",
            config.steps
        )));
    }
    let rnn = lstm(path, config.latent, config.hidden, config.bidirectional)?;
    let norm = keras::batch_norm(path / "batch_norm", rnn.output_size())?;
    let dense = keras::dense(path / "dense", rnn.output_size(), config.features)?;
    Ok(SeqDecoder {
        config: config.clone(),
        rnn,
        norm,
        dense,
    })
}

impl SeqDecoder {
    /// The configuration.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// The decoded sequences (after the sigmoid) of latent vectors `z`
    /// `[batch, latent]` in evaluation mode: `[batch, steps, features]`.
    pub fn decode(&self, z: &Tensor) -> Tensor {
        tch::no_grad(|| self.forward_t(z, false).sigmoid())
    }

    /// Summary rows.
    pub fn rows(&self) -> Vec<SummaryRow> {
        let c = &self.config;
        let h = self.rnn.output_size();
        let mut rows = Vec::new();
        if c.input_dropout > 0.0 {
            rows.push(keras::plain_row("dropout", "Dropout", &[c.latent]));
        }
        rows.extend([
            keras::plain_row("repeat_vector", "RepeatVector", &[c.steps, c.latent]),
            lstm_row(&self.rnn, &[c.steps, h]),
            self.norm.row("batch_norm", &[c.steps, h]),
            keras::dense_row("time_distributed", &self.dense, &[c.steps, c.features]),
        ]);
        rows
    }
}

impl ModuleT for SeqDecoder {
    /// Logits `[batch, steps, features]`.
    fn forward_t(&self, z: &Tensor, train: bool) -> Tensor {
        crate::shape::or_panic(Model::check_input(self, z));
        let z = dropout(z, self.config.input_dropout, train);
        // Keras' RepeatVector, never materialised: the kernel projects z once.
        let (out, _) = self
            .rnn
            .forward_repeated(&z, self.config.steps, None, train);
        let out = self.norm.forward_t(&out, train);
        self.dense.forward(&out)
    }
}

impl Model for SeqDecoder {
    /// Latent vectors `[batch, latent]`.
    fn check_input(&self, z: &Tensor) -> Result<(), ModelError> {
        crate::shape::expect(
            "decoder",
            z,
            &[
                crate::shape::Dim::Any("batch"),
                crate::shape::Dim::Is(self.config.latent),
            ],
            &self.dense.ws,
            false,
        )
    }

    fn summary(&self, _sample_shape: &[i64]) -> Summary {
        Summary {
            name: "decoder".into(),
            rows: self.rows(),
        }
    }
}

/// An encoder and a decoder trained together (see the module docs).
#[derive(Debug)]
pub struct Autoencoder {
    /// Sequence to vector.
    pub encoder: SeqEncoder,
    /// Vector to sequence.
    pub decoder: SeqDecoder,
}

/// Creates an [`Autoencoder`] with its encoder under `<path>/encoder` and its
/// decoder under `<path>/decoder`.
pub fn autoencoder<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    config: &AutoencoderConfig,
) -> Result<Autoencoder, ModelError> {
    let path = path.borrow();
    if config.encoder.latent != config.decoder.latent {
        return Err(ModelError::InvalidConfig(format!(
            "the encoder's latent size {} differs from the decoder's {}",
            config.encoder.latent, config.decoder.latent
        )));
    }
    Ok(Autoencoder {
        encoder: seq_encoder(path / "encoder", &config.encoder)?,
        decoder: seq_decoder(path / "decoder", &config.decoder)?,
    })
}

impl Autoencoder {
    /// Reconstructions (after the sigmoid) in evaluation mode.
    pub fn reconstruct(&self, xs: &Tensor) -> Tensor {
        tch::no_grad(|| self.forward_t(xs, false).sigmoid())
    }
}

impl ModuleT for Autoencoder {
    /// Reconstruction logits `[batch, steps, features]`.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let z = self.encoder.forward_t(xs, train);
        self.decoder.forward_t(&z, train)
    }
}

impl Model for Autoencoder {
    /// The encoder's input, `[batch, steps, features]`.
    fn check_input(&self, xs: &Tensor) -> Result<(), ModelError> {
        self.encoder.check_input(xs)
    }

    fn summary(&self, sample_shape: &[i64]) -> Summary {
        let mut rows: Vec<SummaryRow> = self
            .encoder
            .rows(sample_shape.first().copied().unwrap_or(-1))
            .into_iter()
            .map(|mut r| {
                r.name = format!("encoder.{}", r.name);
                r
            })
            .collect();
        rows.extend(self.decoder.rows().into_iter().map(|mut r| {
            r.name = format!("decoder.{}", r.name);
            r
        }));
        let kind = if self.encoder.config.bidirectional {
            "BiLSTM"
        } else {
            "LSTM"
        };
        Summary {
            name: format!("{kind} autoencoder (latent {})", self.encoder.config.latent),
            rows,
        }
    }
}
