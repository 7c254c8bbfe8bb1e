//! The experiment's settings: levels, their models, the corrections of the
//! HARD LSTM, and the full and quick profiles.

use seqlab_data::temporal_order::{self, Difficulty};
use seqlab_models::recurrent::{RecurrentInit, RecurrentKind};
use seqlab_train::optim::OptimizerConfig;

/// A correction of the HARD LSTM as configured, run under its own label
/// next to it (one change each; the as-configured run stays).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Correction {
    /// Trains exactly as configured, evaluates after every epoch on
    /// `n_validation` sequences of the seed's validation stream (never the
    /// test set), and ends with the weights of the epoch of lowest
    /// validation loss: early stopping's restore-best without the stop.
    RestoreBest {
        /// Validation sequences.
        n_validation: usize,
    },
    /// Keras' `ReduceLROnPlateau` on the training loss (of each epoch's
    /// fresh batches): the learning rate times `factor` after `patience`
    /// epochs without an improvement of Keras' `min_delta` (1e-4).
    LrDecayOnPlateau {
        /// Factor of each reduction.
        factor: f64,
        /// Epochs without improvement before a reduction.
        patience: usize,
    },
}

impl Correction {
    /// The correction in words, for settings and labels.
    pub fn describe(&self) -> String {
        match self {
            Correction::RestoreBest { n_validation } => format!(
                "weights of the epoch with the lowest loss on {n_validation} validation sequences (not the test set), restored after the last epoch"
            ),
            Correction::LrDecayOnPlateau { factor, patience } => format!(
                "learning rate times {factor} after {patience} epochs without a training-loss improvement of 1e-4 (Keras' ReduceLROnPlateau on the training loss)"
            ),
        }
    }
}

/// One model of a level.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Short name used in file names (`rnn`, `lstm`, `lstm_restore_best`).
    pub label: &'static str,
    /// Cell type.
    pub kind: RecurrentKind,
    /// Hidden units.
    pub hidden: i64,
    /// Measure every optimiser step and write `<level>_<label>_diagnostics.csv.gz`.
    pub record_steps: bool,
    /// A correction of the level's recipe, if this run is one.
    pub correction: Option<Correction>,
}

/// One training level: a difficulty, its models, a budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// Name used in file names and metrics (`easy_10`, ...).
    pub name: &'static str,
    /// Task difficulty.
    pub difficulty: Difficulty,
    /// Epochs of 31 fresh batches.
    pub epochs: usize,
    /// The models, trained one after the other with the same seed.
    pub models: Vec<ModelSpec>,
    /// Optimiser.
    pub optimizer: OptimizerConfig,
    /// Clip the gradient norm, if set.
    pub clip_grad_norm: Option<f64>,
    /// Weight initialisation of the recurrent layer.
    pub init: RecurrentInit,
}

/// Settings of the experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct TemporalOrderConfig {
    /// The levels, run in order.
    pub levels: Vec<Level>,
    /// Sequences per batch (course: 32).
    pub batch_size: usize,
    /// Fresh batches per epoch (course: 31).
    pub batches_per_epoch: usize,
    /// Held-out test sequences per level.
    pub n_test: usize,
}

/// A model of `kind` and width `hidden` labelled `label`, as configured.
fn model(label: &'static str, kind: RecurrentKind, hidden: i64) -> ModelSpec {
    ModelSpec {
        label,
        kind,
        hidden,
        record_steps: false,
        correction: None,
    }
}

/// The course's pair: an RNN(relu) and an LSTM.
fn pair(rnn_hidden: i64, lstm_hidden: i64) -> Vec<ModelSpec> {
    vec![
        model("rnn", RecurrentKind::RnnRelu, rnn_hidden),
        model("lstm", RecurrentKind::Lstm, lstm_hidden),
    ]
}

/// `models` with every LSTM's steps recorded.
fn diagnosed(mut models: Vec<ModelSpec>) -> Vec<ModelSpec> {
    for m in &mut models {
        m.record_steps = m.kind == RecurrentKind::Lstm;
    }
    models
}

/// The HARD LSTM's corrections (see [`Correction`]), each an LSTM(12);
/// the learning-rate schedule's steps are recorded.
pub fn corrections() -> Vec<ModelSpec> {
    // Restore-best trains as the as-configured run, whose steps are recorded.
    let corrected = |label, correction| ModelSpec {
        record_steps: !matches!(correction, Correction::RestoreBest { .. }),
        correction: Some(correction),
        ..model(label, RecurrentKind::Lstm, 12)
    };
    vec![
        corrected(
            "lstm_restore_best",
            Correction::RestoreBest { n_validation: 1000 },
        ),
        corrected(
            "lstm_lr_decay",
            Correction::LrDecayOnPlateau {
                factor: 0.1,
                patience: 10,
            },
        ),
    ]
}

impl TemporalOrderConfig {
    /// The course's levels plus HARD with its corrections.
    pub fn full() -> Self {
        let course = |name, difficulty, epochs, models| Level {
            name,
            difficulty,
            epochs,
            models,
            optimizer: OptimizerConfig::rmsprop(1e-3),
            clip_grad_norm: None,
            init: RecurrentInit::PyTorch,
        };
        let mut hard = diagnosed(pair(12, 12));
        hard.extend(corrections());
        Self {
            levels: vec![
                course("easy_10", Difficulty::Easy, 10, pair(4, 4)),
                course("easy_100", Difficulty::Easy, 100, pair(4, 4)),
                course(
                    "moderate_100",
                    Difficulty::Moderate,
                    100,
                    diagnosed(pair(12, 12)),
                ),
                Level {
                    clip_grad_norm: Some(1.0),
                    init: RecurrentInit::LongMemory { forget_bias: 3.0 },
                    ..course("hard", Difficulty::Hard, 100, hard)
                },
            ],
            batch_size: temporal_order::COURSE_BATCH_SIZE,
            batches_per_epoch: temporal_order::COURSE_BATCHES_PER_EPOCH,
            n_test: 1000,
        }
    }

    /// Seconds on a CPU: EASY for a few epochs and a short HARD run.
    pub fn quick() -> Self {
        let full = Self::full();
        let mut easy = full.levels[0].clone();
        easy.epochs = 4;
        let mut hard = full.levels[3].clone();
        hard.epochs = 20;
        Self {
            levels: vec![easy, hard],
            n_test: 300,
            ..full
        }
    }
}
