//! A next-step model over a scalar series: `Dense(1, w)`, `LSTM(w, w)`,
//! `Dense(w, 5, relu)`, `Dense(5, 1)`, applied step by step with the LSTM's
//! state carried along (Flux's `Chain(Dense(1,3), LSTM(3,3),
//! Dense(3,5,relu), Dense(5,1))` has `w = 3`).
//!
//! Training reads a whole sequence at once (`[batch, steps, 1]`), which is
//! the same as stepping a reset model through it; its output
//! ([`nn::ModuleT`]) is the model's prediction at the steps after the first
//! `warmup` ones, the steps a loss that "feeds the first values, then
//! scores the rest" looks at. Prediction ([`NextStepLstm::continue_from`])
//! feeds a context, then feeds back its own outputs.
//!
//! Initialisation follows Flux's defaults: Glorot-uniform weights and zero
//! biases for the dense layers; for the LSTM Glorot-uniform input and
//! recurrent weights, zero biases and a forget-gate bias of 1
//! ([`RecurrentInit::Flux`]).

use crate::keras;
use crate::recurrent::{recurrent, Recurrent, RecurrentConfig, RecurrentInit, RecurrentKind};
use crate::summary::{shape_str, Summary, SummaryRow};
use crate::{Model, ModelError};
use std::borrow::Borrow;
use tch::nn::{self, Module};
use tch::Tensor;

/// Settings of a [`NextStepLstm`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NextStepConfig {
    /// Width of the first dense layer and of the LSTM (3 in the forum's model).
    pub width: i64,
    /// Width of the ReLU layer after the LSTM (5 in the forum's model).
    pub relu_width: i64,
    /// Steps whose outputs the training output leaves out (they only warm
    /// up the state); the forum's loss feeds `nSeeds - 1 = 4` values first.
    pub warmup: i64,
    /// LSTM initialisation.
    pub init: RecurrentInit,
}

impl NextStepConfig {
    /// The forum's model: width 3, ReLU width 5, warm-up 4, Flux's initialisation.
    pub fn forum() -> Self {
        Self {
            width: 3,
            relu_width: 5,
            warmup: 4,
            init: RecurrentInit::Flux,
        }
    }
}

/// The model; see the module documentation.
#[derive(Debug)]
pub struct NextStepLstm {
    config: NextStepConfig,
    embed: nn::Linear,
    lstm: Recurrent,
    hidden: nn::Linear,
    out: nn::Linear,
}

/// Builds a [`NextStepLstm`] under `path`.
pub fn next_step_lstm<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    config: &NextStepConfig,
) -> Result<NextStepLstm, ModelError> {
    let path = path.borrow();
    if config.warmup < 0 {
        return Err(ModelError::InvalidConfig(format!(
            "warm-up steps must be at least 0, got {}",
            config.warmup
        )));
    }
    let w = config.width;
    Ok(NextStepLstm {
        config: config.clone(),
        embed: keras::dense(path / "dense_in", 1, w)?,
        lstm: recurrent(
            path / "lstm",
            &RecurrentConfig {
                init: config.init,
                ..RecurrentConfig::new(RecurrentKind::Lstm, w, w)
            },
        )?,
        hidden: keras::dense(path / "dense_relu", w, config.relu_width)?,
        out: keras::dense(path / "dense_out", config.relu_width, 1)?,
    })
}

impl NextStepLstm {
    /// The settings.
    pub fn config(&self) -> &NextStepConfig {
        &self.config
    }

    /// The prediction after every step of `xs` `[batch, steps, 1]`,
    /// `[batch, steps, 1]`, from `state` (zeros when `None`: a reset
    /// model), and the state after the last step.
    pub fn steps(
        &self,
        xs: &Tensor,
        state: Option<&crate::recurrent::RecurrentState>,
        train: bool,
    ) -> (Tensor, crate::recurrent::RecurrentState) {
        let (h, state) = self.lstm.forward(&self.embed.forward(xs), state, train);
        let y = self.out.forward(&self.hidden.forward(&h).relu());
        (y, state)
    }

    /// Continues each series of `context` `[batch, k, 1]` (k ≥ 1) for
    /// `steps` values: a reset model reads the whole context, its output
    /// after the last context value is the first prediction, and each
    /// prediction is fed back for the next. Returns `[batch, steps]`,
    /// without gradients.
    pub fn continue_from(&self, context: &Tensor, steps: i64) -> Tensor {
        tch::no_grad(|| {
            let (ys, mut state) = self.steps(context, None, false);
            let k = ys.size()[1];
            let mut y = ys.narrow(1, k - 1, 1);
            let mut outs = vec![y.shallow_clone()];
            for _ in 1..steps {
                let (next, s) = self.steps(&y, Some(&state), false);
                state = s;
                y = next;
                outs.push(y.shallow_clone());
            }
            Tensor::cat(&outs, 1).squeeze_dim(2)
        })
    }
}

impl nn::ModuleT for NextStepLstm {
    /// Predictions at the steps after the warm-up: `[batch, steps - warmup, 1]`.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        crate::shape::or_panic(crate::Model::check_input(self, xs));
        let (ys, _) = self.steps(xs, None, train);
        let steps = ys.size()[1];
        let skip = self.config.warmup.min(steps);
        ys.narrow(1, skip, steps - skip)
    }
}

impl Model for NextStepLstm {
    /// `[batch, steps, 1]`.
    fn check_input(&self, xs: &Tensor) -> Result<(), ModelError> {
        use crate::shape::Dim;
        crate::shape::expect(
            "next-step LSTM",
            xs,
            &[Dim::Any("batch"), Dim::Any("steps"), Dim::Is(1)],
            &self.embed.ws,
            false,
        )
    }

    fn summary(&self, sample_shape: &[i64]) -> Summary {
        let steps = sample_shape.first().copied().unwrap_or(-1);
        let c = &self.config;
        Summary {
            name: format!(
                "next-step LSTM: Dense(1, {w}), LSTM({w}, {w}), Dense({w}, {r}, relu), Dense({r}, 1)",
                w = c.width,
                r = c.relu_width
            ),
            rows: vec![
                keras::dense_row("dense_in", &self.embed, &[steps, c.width]),
                SummaryRow {
                    name: "lstm".into(),
                    layer: "LSTM".into(),
                    output_shape: shape_str(&[steps, c.width]),
                    params: self.lstm.num_params(),
                    keras_params: self.lstm.keras_params(),
                    non_trainable: 0,
                },
                keras::dense_row("dense_relu", &self.hidden, &[steps, c.relu_width]),
                keras::dense_row("dense_out", &self.out, &[steps, 1]),
            ],
        }
    }
}
