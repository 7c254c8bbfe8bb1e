//! A sequence-to-one classifier: stacked recurrent layers, read at the last
//! step, and a dense head producing class logits.
//!
//! Input `[batch, steps, features]` (batch first); output `[batch, classes]`.
//! Each stacked layer is its own [`Recurrent`] module, so kinds and widths
//! may differ from layer to layer. The head reads the last layer's final
//! hidden state (both directions for a bidirectional layer).

use crate::recurrent::{recurrent, Recurrent, RecurrentConfig, RecurrentInit, RecurrentKind};
use crate::summary::{shape_str, Summary, SummaryRow};
use crate::{Model, ModelError};
use std::borrow::Borrow;
use tch::{nn, nn::Module, Tensor};

/// One layer of the recurrent stack.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerSpec {
    /// Cell type.
    pub kind: RecurrentKind,
    /// Hidden units per direction.
    pub hidden_size: i64,
    /// Read the sequence in both directions.
    pub bidirectional: bool,
}

/// Configuration of a [`SeqClassifier`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeqClassifierConfig {
    /// Features per input step.
    pub input_size: i64,
    /// The recurrent stack, bottom first (at least one layer).
    pub layers: Vec<LayerSpec>,
    /// Number of classes (width of the dense head).
    pub num_classes: i64,
    /// Initialisation of the recurrent weights.
    pub init: RecurrentInit,
}

impl SeqClassifierConfig {
    /// A stack of one-direction layers of the same kind with the given widths.
    pub fn stacked(input_size: i64, kind: RecurrentKind, hidden: &[i64], num_classes: i64) -> Self {
        Self {
            input_size,
            layers: hidden
                .iter()
                .map(|&h| LayerSpec {
                    kind,
                    hidden_size: h,
                    bidirectional: false,
                })
                .collect(),
            num_classes,
            init: RecurrentInit::PyTorch,
        }
    }
}

/// A sequence-to-one classifier (see the module docs).
#[derive(Debug)]
pub struct SeqClassifier {
    config: SeqClassifierConfig,
    layers: Vec<Recurrent>,
    head: nn::Linear,
}

/// Creates a sequence classifier under `path`: layers `rnn1`, `rnn2`, ... and `dense`.
pub fn seq_classifier<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    config: &SeqClassifierConfig,
) -> Result<SeqClassifier, ModelError> {
    let path = path.borrow();
    if config.layers.is_empty() {
        return Err(ModelError::InvalidConfig(
            "a sequence classifier needs at least one recurrent layer".into(),
        ));
    }
    if config.num_classes < 1 {
        return Err(ModelError::InvalidConfig(format!(
            "number of classes must be at least 1, got {}",
            config.num_classes
        )));
    }
    let mut layers = Vec::with_capacity(config.layers.len());
    let mut input = config.input_size;
    for (i, spec) in config.layers.iter().enumerate() {
        let rc = RecurrentConfig {
            bidirectional: spec.bidirectional,
            init: config.init,
            ..RecurrentConfig::new(spec.kind, input, spec.hidden_size)
        };
        let layer = recurrent(path / format!("rnn{}", i + 1), &rc)?;
        input = layer.output_size();
        layers.push(layer);
    }
    let head = nn::linear(
        path / "dense",
        input,
        config.num_classes,
        Default::default(),
    );
    Ok(SeqClassifier {
        config: config.clone(),
        layers,
        head,
    })
}

impl SeqClassifier {
    /// The configuration.
    pub fn config(&self) -> &SeqClassifierConfig {
        &self.config
    }

    /// The recurrent layers, bottom first.
    pub fn layers(&self) -> &[Recurrent] {
        &self.layers
    }
}

impl nn::ModuleT for SeqClassifier {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        crate::shape::or_panic(crate::Model::check_input(self, xs));
        let mut x = xs.shallow_clone();
        let mut last = None;
        for layer in &self.layers {
            let (out, state) = layer.forward(&x, None, train);
            last = Some(layer.last_hidden(&state));
            x = out;
        }
        // At least one layer exists (checked at construction).
        let features = last.unwrap_or(x);
        self.head.forward(&features)
    }
}

impl Model for SeqClassifier {
    /// `[batch, steps, input_size]` of the first layer.
    fn check_input(&self, xs: &Tensor) -> Result<(), ModelError> {
        match self.layers.first() {
            Some(first) => first.check_input(xs, None),
            None => Ok(()),
        }
    }

    fn summary(&self, sample_shape: &[i64]) -> Summary {
        let steps = sample_shape.first().copied().unwrap_or(-1);
        let n = self.layers.len();
        let mut rows: Vec<SummaryRow> = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let c = l.config();
                let shape = if i + 1 < n {
                    vec![steps, l.output_size()]
                } else {
                    vec![l.output_size()]
                };
                let layer = if c.bidirectional {
                    format!("Bidirectional {}", c.kind.name())
                } else {
                    c.kind.name().to_string()
                };
                SummaryRow {
                    name: format!("rnn{}", i + 1),
                    layer,
                    output_shape: shape_str(&shape),
                    params: l.num_params(),
                    keras_params: l.keras_params(),
                    non_trainable: 0,
                }
            })
            .collect();
        let head_params =
            self.head.ws.numel() as i64 + self.head.bs.as_ref().map_or(0, |b| b.numel() as i64);
        rows.push(SummaryRow {
            name: "dense".into(),
            layer: "Dense".into(),
            output_shape: shape_str(&[self.config.num_classes]),
            params: head_params,
            keras_params: head_params,
            non_trainable: 0,
        });
        let kinds: Vec<&str> = self.config.layers.iter().map(|l| l.kind.name()).collect();
        Summary {
            name: format!("sequence classifier [{}]", kinds.join(", ")),
            rows,
        }
    }
}
