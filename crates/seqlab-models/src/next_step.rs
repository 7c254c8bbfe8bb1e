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
//!
//! A reset model starts from a zero state, unless
//! [`NextStepConfig::trainable_state`] is set: then the LSTM's initial
//! `(h, c)` are parameters (zeros at first, shared by every sequence of a
//! batch) that training updates and a reset returns to, as Flux 0.11 and
//! 0.12 did (their `LSTMCell` kept `h` and `c` (0.11) or `state0` (0.12)
//! among its trainable fields, and `reset!` set the state back to them).

use crate::keras;
use crate::recurrent::{
    recurrent, Recurrent, RecurrentConfig, RecurrentInit, RecurrentKind, RecurrentState,
};
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
    /// The LSTM's initial `(h, c)` are trained parameters (Flux 0.11/0.12's
    /// `Recur`), not zeros; absent in older settings: `false`.
    #[serde(default)]
    pub trainable_state: bool,
}

impl NextStepConfig {
    /// The forum's model: width 3, ReLU width 5, warm-up 4, Flux's initialisation.
    pub fn forum() -> Self {
        Self {
            width: 3,
            relu_width: 5,
            warmup: 4,
            init: RecurrentInit::Flux,
            trainable_state: false,
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
    /// The trained initial `(h, c)`, each `[1, 1, width]`, when
    /// [`NextStepConfig::trainable_state`] is set.
    initial: Option<(Tensor, Tensor)>,
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
    let embed = keras::dense(path / "dense_in", 1, w)?;
    let lstm = recurrent(
        path / "lstm",
        &RecurrentConfig {
            init: config.init,
            ..RecurrentConfig::new(RecurrentKind::Lstm, w, w)
        },
    )?;
    let hidden = keras::dense(path / "dense_relu", w, config.relu_width)?;
    let out = keras::dense(path / "dense_out", config.relu_width, 1)?;
    // Created last and as zeros: the other layers draw the same weights
    // with or without it.
    let initial = config.trainable_state.then(|| {
        let state = path / "lstm_state0";
        (state.zeros("h", &[1, 1, w]), state.zeros("c", &[1, 1, w]))
    });
    Ok(NextStepLstm {
        config: config.clone(),
        embed,
        lstm,
        hidden,
        out,
        initial,
    })
}

impl NextStepLstm {
    /// The settings.
    pub fn config(&self) -> &NextStepConfig {
        &self.config
    }

    /// The prediction after every step of `xs` `[batch, steps, 1]`,
    /// `[batch, steps, 1]`, from `state` (when `None`, a reset model's: the
    /// trained initial state, or zeros), and the state after the last step.
    pub fn steps(
        &self,
        xs: &Tensor,
        state: Option<&RecurrentState>,
        train: bool,
    ) -> (Tensor, RecurrentState) {
        let reset;
        let state = match (state, &self.initial) {
            (None, Some((h, c))) => {
                let shape = [1, xs.size()[0], self.config.width];
                reset = RecurrentState::HC(h.expand(shape, false), c.expand(shape, false));
                Some(&reset)
            }
            (state, _) => state,
        };
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

impl NextStepLstm {
    /// Parameters of the trained initial state (`2 * width`, or 0).
    fn initial_params(&self) -> i64 {
        self.initial
            .as_ref()
            .map_or(0, |(h, c)| h.numel() as i64 + c.numel() as i64)
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
                    params: self.lstm.num_params() + self.initial_params(),
                    keras_params: self.lstm.keras_params() + self.initial_params(),
                    non_trainable: 0,
                },
                keras::dense_row("dense_relu", &self.hidden, &[steps, c.relu_width]),
                keras::dense_row("dense_out", &self.out, &[steps, 1]),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::ModuleT;
    use tch::{Device, Kind};

    /// A forum model under a fresh seed, with or without a trained initial state.
    fn model(trainable_state: bool) -> (nn::VarStore, NextStepLstm) {
        tch::manual_seed(5);
        let vs = nn::VarStore::new(Device::Cpu);
        let config = NextStepConfig {
            trainable_state,
            ..NextStepConfig::forum()
        };
        let m = next_step_lstm(vs.root() / "m", &config).unwrap();
        (vs, m)
    }

    fn inputs() -> Tensor {
        Tensor::linspace(-1.0, 1.0, 18, (Kind::Float, Device::Cpu)).reshape([2, 9, 1])
    }

    #[test]
    fn a_trained_initial_state_starts_at_zero_and_leaves_the_other_weights_alone() {
        let _rng = crate::rng_lock();
        let (vs_zero, zero) = model(false);
        let (vs_state, state) = model(true);
        let vars = vs_state.variables();
        for name in ["m.lstm_state0.h", "m.lstm_state0.c"] {
            assert_eq!(vars[name].size(), [1, 1, 3]);
            assert_eq!(vars[name].abs().sum(Kind::Double).double_value(&[]), 0.0);
        }
        assert_eq!(vars.len(), vs_zero.variables().len() + 2);
        for (name, v) in vs_zero.variables() {
            assert!(v.equal(&vars[&name]), "{name} differs");
        }
        // Zeros at first: the same outputs as a model that starts from zeros.
        let xs = inputs();
        assert!(zero
            .forward_t(&xs, false)
            .equal(&state.forward_t(&xs, false)));
        let params = |m: &NextStepLstm| m.summary(&[9, 1]).total_keras_params();
        assert_eq!(params(&state), params(&zero) + 6);
    }

    #[test]
    fn the_initial_state_is_trained_and_a_reset_returns_to_it() {
        let _rng = crate::rng_lock();
        let (vs, m) = model(true);
        let xs = inputs();
        let h0 = vs.variables()["m.lstm_state0.h"].shallow_clone();
        let c0 = vs.variables()["m.lstm_state0.c"].shallow_clone();
        m.forward_t(&xs, true).square().sum(Kind::Float).backward();
        for t in [&h0, &c0] {
            let g = t.grad();
            assert!(g.defined() && g.abs().sum(Kind::Double).double_value(&[]) > 0.0);
        }
        let before = m.continue_from(&xs.narrow(1, 4, 1), 5);
        tch::no_grad(|| {
            let _ = h0.shallow_clone().fill_(0.5);
        });
        // Both the training view and a reset prediction start from it.
        let after = m.continue_from(&xs.narrow(1, 4, 1), 5);
        assert!(!before.equal(&after));
        let (_, zero) = model(false);
        assert!(!zero.forward_t(&xs, false).equal(&m.forward_t(&xs, false)));
    }
}
