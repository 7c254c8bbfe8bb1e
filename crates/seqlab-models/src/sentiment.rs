//! The book's review classifier: token ids in, one logit out.
//!
//! `Embedding(vocab, dim) -> Dropout -> SimpleRNN or LSTM (last step) ->
//! BatchNorm -> Dropout -> Dense(1)`. Input `[batch, steps]` of `i64` token
//! ids in `0..vocab` (0 = padding, fed through like Keras without masking);
//! output `[batch, 1]` *logits*: the book's `Dense(1, sigmoid)` is
//! [`SentimentClassifier::probabilities`], and training uses binary
//! cross-entropy on logits, which is the same loss computed stably.
//! Dropout and batch statistics apply only when `train` is true.
//!
//! Every layer starts from Keras' defaults (see [`crate::keras`]; the
//! recurrent layer uses [`RecurrentInit::Keras`]), so the model starts
//! where the book's did.

use crate::dropout::dropout;
use crate::keras::{self, BatchNorm};
use crate::recurrent::{recurrent, Recurrent, RecurrentConfig, RecurrentInit, RecurrentKind};
use crate::summary::{shape_str, Summary, SummaryRow};
use crate::{Model, ModelError};
use std::borrow::Borrow;
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

/// Configuration of a [`SentimentClassifier`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SentimentConfig {
    /// Embedding rows (token ids are in `0..vocab_size`).
    pub vocab_size: i64,
    /// Embedding width.
    pub embedding_dim: i64,
    /// Recurrent cell: [`RecurrentKind::RnnTanh`] (Keras `SimpleRNN`) or [`RecurrentKind::Lstm`].
    pub kind: RecurrentKind,
    /// Recurrent units.
    pub hidden_size: i64,
    /// Dropout on the embedded sequence.
    pub embedding_dropout: f64,
    /// Dropout after batch norm, before the dense layer.
    pub head_dropout: f64,
    /// Recurrent weight initialisation.
    pub init: RecurrentInit,
}

impl SentimentConfig {
    /// The book's model: `Embedding(10000, 64)`, `Dropout(0.3)`, 32 units,
    /// `BatchNorm`, `Dropout(0.2)`, `Dense(1)`, Keras initialisation.
    pub fn book(kind: RecurrentKind) -> Self {
        Self {
            vocab_size: 10_000,
            embedding_dim: 64,
            kind,
            hidden_size: 32,
            embedding_dropout: 0.3,
            head_dropout: 0.2,
            init: RecurrentInit::Keras,
        }
    }

    fn validate(&self) -> Result<(), ModelError> {
        for (what, p) in [
            ("embedding dropout", self.embedding_dropout),
            ("head dropout", self.head_dropout),
        ] {
            if !(0.0..1.0).contains(&p) {
                return Err(ModelError::InvalidConfig(format!(
                    "{what} must be in [0, 1), got {p}"
                )));
            }
        }
        Ok(())
    }

    /// The Keras layer name of the recurrent cell.
    pub fn keras_layer(&self) -> &'static str {
        match self.kind {
            RecurrentKind::RnnTanh => "SimpleRNN",
            RecurrentKind::RnnRelu => "SimpleRNN(relu)",
            RecurrentKind::Lstm => "LSTM",
            RecurrentKind::Gru => "GRU",
        }
    }
}

/// The review classifier (see the module docs).
#[derive(Debug)]
pub struct SentimentClassifier {
    config: SentimentConfig,
    embedding: nn::Embedding,
    rnn: Recurrent,
    norm: BatchNorm,
    dense: nn::Linear,
}

/// Creates a [`SentimentClassifier`] under `path`.
pub fn sentiment_classifier<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    config: &SentimentConfig,
) -> Result<SentimentClassifier, ModelError> {
    let path = path.borrow();
    config.validate()?;
    let embedding = keras::embedding(path / "embedding", config.vocab_size, config.embedding_dim)?;
    let mut rc = RecurrentConfig::new(config.kind, config.embedding_dim, config.hidden_size);
    rc.init = config.init;
    let rnn = recurrent(path / "rnn", &rc)?;
    let norm = keras::batch_norm(path / "batch_norm", rnn.output_size())?;
    let dense = keras::dense(path / "dense", rnn.output_size(), 1)?;
    Ok(SentimentClassifier {
        config: config.clone(),
        embedding,
        rnn,
        norm,
        dense,
    })
}

impl SentimentClassifier {
    /// The configuration.
    pub fn config(&self) -> &SentimentConfig {
        &self.config
    }

    /// The probability of a positive review, `sigmoid(logit)`, in evaluation
    /// mode: `[batch, steps]` ids to `[batch]`.
    pub fn probabilities(&self, ids: &Tensor) -> Tensor {
        tch::no_grad(|| self.forward_t(ids, false).sigmoid().reshape([-1]))
    }
}

impl ModuleT for SentimentClassifier {
    fn forward_t(&self, ids: &Tensor, train: bool) -> Tensor {
        crate::shape::or_panic(crate::Model::check_input(self, ids));
        let x = dropout(
            &self.embedding.forward(ids),
            self.config.embedding_dropout,
            train,
        );
        let state = self.rnn.final_state(&x, None, train);
        let h = self.rnn.last_hidden(&state);
        let h = dropout(
            &self.norm.forward_t(&h, train),
            self.config.head_dropout,
            train,
        );
        self.dense.forward(&h)
    }
}

impl Model for SentimentClassifier {
    /// Token ids `[batch, steps]` (Int64) in `0..vocab_size`.
    fn check_input(&self, ids: &Tensor) -> Result<(), ModelError> {
        use crate::shape::Dim;
        let what = "sentiment classifier";
        crate::shape::expect(
            what,
            ids,
            &[Dim::Any("batch"), Dim::Any("steps")],
            &self.embedding.ws,
            true,
        )?;
        let (lo, hi) = tch::no_grad(|| (ids.min().int64_value(&[]), ids.max().int64_value(&[])));
        if lo < 0 || hi >= self.config.vocab_size {
            return Err(ModelError::Input {
                what: what.into(),
                problem: format!(
                    "token ids must be in 0..{} (the embedding's rows), found ids from {lo} to {hi}",
                    self.config.vocab_size
                ),
            });
        }
        Ok(())
    }

    /// `sample_shape` is `[steps]`.
    fn summary(&self, sample_shape: &[i64]) -> Summary {
        let steps = sample_shape.first().copied().unwrap_or(-1);
        let c = &self.config;
        let h = self.rnn.output_size();
        let emb = c.vocab_size * c.embedding_dim;
        let rows = vec![
            SummaryRow {
                name: "embedding".into(),
                layer: "Embedding".into(),
                output_shape: shape_str(&[steps, c.embedding_dim]),
                params: emb,
                keras_params: emb,
                non_trainable: 0,
            },
            keras::plain_row("dropout", "Dropout", &[steps, c.embedding_dim]),
            SummaryRow {
                name: "rnn".into(),
                layer: c.keras_layer().into(),
                output_shape: shape_str(&[h]),
                params: self.rnn.num_params(),
                keras_params: self.rnn.keras_params(),
                non_trainable: 0,
            },
            self.norm.row("batch_norm", &[h]),
            keras::plain_row("dropout_1", "Dropout", &[h]),
            keras::dense_row("dense", &self.dense, &[1]),
        ];
        Summary {
            name: format!("imdb {}", c.keras_layer()),
            rows,
        }
    }
}
