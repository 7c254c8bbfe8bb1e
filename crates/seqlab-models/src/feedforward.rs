//! A multi-layer perceptron over flattened inputs.
//!
//! `[batch, d1, d2, ...]` is flattened to `[batch, d1 * d2 * ...]`, then each
//! hidden layer applies `relu(W x + b)`, and the output layer is linear
//! (logits). The toy task's baseline is `60 -> 128 -> 128 -> 4`.

use crate::summary::{shape_str, Summary, SummaryRow};
use crate::{Model, ModelError};
use std::borrow::Borrow;
use tch::{nn, nn::Module, Tensor};

/// Configuration of a [`FeedForward`] network.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedForwardConfig {
    /// Features after flattening one sample.
    pub input_size: i64,
    /// Widths of the hidden (ReLU) layers.
    pub hidden: Vec<i64>,
    /// Width of the linear output layer.
    pub output_size: i64,
}

/// A multi-layer perceptron (see the module docs).
#[derive(Debug)]
pub struct FeedForward {
    config: FeedForwardConfig,
    layers: Vec<nn::Linear>,
}

/// Creates a feed-forward network under `path`.
pub fn feed_forward<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    config: &FeedForwardConfig,
) -> Result<FeedForward, ModelError> {
    let path = path.borrow();
    let mut sizes = vec![config.input_size];
    sizes.extend(&config.hidden);
    sizes.push(config.output_size);
    if let Some(bad) = sizes.iter().find(|&&s| s < 1) {
        return Err(ModelError::InvalidConfig(format!(
            "feed-forward layer sizes must be at least 1, got {bad} in {sizes:?}"
        )));
    }
    let layers = sizes
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            nn::linear(
                path / format!("dense{}", i + 1),
                w[0],
                w[1],
                Default::default(),
            )
        })
        .collect();
    Ok(FeedForward {
        config: config.clone(),
        layers,
    })
}

impl nn::ModuleT for FeedForward {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        crate::shape::or_panic(crate::Model::check_input(self, xs));
        let mut x = xs.flatten(1, -1);
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(&x);
            if i < last {
                x = x.relu();
            }
        }
        x
    }
}

impl Model for FeedForward {
    /// `[batch, ...]` whose dimensions after the first multiply to `input_size`.
    fn check_input(&self, xs: &Tensor) -> Result<(), ModelError> {
        let size = xs.size();
        let features: i64 = size.iter().skip(1).product();
        if size.len() < 2 || size[0] < 1 || features != self.config.input_size {
            return Err(ModelError::Shape {
                what: "feed-forward network".into(),
                expected: format!(
                    "[batch, ...] with {} values per sample",
                    self.config.input_size
                ),
                found: size,
            });
        }
        match self.layers.first() {
            Some(l) => crate::shape::expect(
                "feed-forward network",
                &xs.flatten(1, -1),
                &[
                    crate::shape::Dim::Any("batch"),
                    crate::shape::Dim::Is(features),
                ],
                &l.ws,
                false,
            ),
            None => Ok(()),
        }
    }

    fn summary(&self, _sample_shape: &[i64]) -> Summary {
        let rows = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let params = l.ws.numel() as i64 + l.bs.as_ref().map_or(0, |b| b.numel() as i64);
                let out = l.ws.size()[0];
                SummaryRow {
                    name: format!("dense{}", i + 1),
                    layer: if i + 1 < self.layers.len() {
                        "Dense, relu".into()
                    } else {
                        "Dense".into()
                    },
                    output_shape: shape_str(&[out]),
                    params,
                    keras_params: params,
                    non_trainable: 0,
                }
            })
            .collect();
        Summary {
            name: format!("feed-forward {:?}", self.config.hidden),
            rows,
        }
    }
}
