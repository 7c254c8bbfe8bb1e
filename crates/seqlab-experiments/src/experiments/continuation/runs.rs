//! The trainings of the asker's model: as posted, each slip fixed, the
//! third slip as written, the fixes at the posted batch size, a trained
//! initial state, and the learnability variants.

/// The posted batch size (`batchSize = 3` inside `batchSequences`).
pub const POSTED_BATCH: usize = 3;
/// The batch size of the fixed `batchSequences(ytrain, 16)`.
pub const FIXED_BATCH: usize = 16;

/// What the asker's model is trained to predict at the five scored steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingTargets {
    /// The posted `batchSequences` (it starts with `x = copy(xtrain)`):
    /// the inputs themselves, so the model learns the identity.
    Inputs,
    /// The next value of each step: `batchSequences` uses its argument, and
    /// the loop's `ytrain = [makeSequence(x0[i],seqLength) ...]` line is gone.
    NextValues,
    /// `batchSequences` uses its argument but the loop's line stays: epoch 1
    /// trains on the next values, epochs 2 onwards on the raw ten-value
    /// sequences it binds to `ytrain`, whose value at each scored step is
    /// that step's input (the identity again).
    NextThenInputs,
}

impl TrainingTargets {
    /// Whether epoch `epoch` (0-based) trains on the inputs (the identity).
    pub fn identity_at(self, epoch: usize) -> bool {
        match self {
            TrainingTargets::Inputs => true,
            TrainingTargets::NextValues => false,
            TrainingTargets::NextThenInputs => epoch > 0,
        }
    }

    /// In words, for the metrics.
    pub fn describe(self) -> &'static str {
        match self {
            TrainingTargets::Inputs => {
                "the inputs themselves (batchSequences returns batches of xtrain)"
            }
            TrainingTargets::NextValues => "the next value of each step",
            TrainingTargets::NextThenInputs => {
                "the next value of each step in epoch 1; from epoch 2 the raw sequences the loop binds to ytrain, whose value at each scored step is its input"
            }
        }
    }
}

/// One training of the asker's model.
#[derive(Debug, Clone, PartialEq)]
pub struct AskerRun {
    /// Run name (files `asker_<name>_*`).
    pub name: &'static str,
    /// What it is, for the report.
    pub what: &'static str,
    /// What the loss scores the outputs against.
    pub targets: TrainingTargets,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Reshuffle the sequences every epoch (else the posted order).
    pub shuffle: bool,
    /// The `predictSequence` slip: only the 5th seed passes through the model.
    pub slipped_prediction: bool,
    /// The LSTM's initial state is trained (Flux 0.11/0.12), not zeros.
    pub trainable_state: bool,
    /// Epochs.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Width of the first dense layer and the LSTM (the asker's: 3).
    pub width: i64,
    /// Record the continuation's error on the training and validation
    /// sequences before training and after every epoch.
    pub per_epoch: bool,
}

impl AskerRun {
    /// The posted code: both slips, batches of 3 in the posted order, 20
    /// epochs, `ADAM()`, width 3, a zero initial state.
    pub fn as_posted(epochs: usize) -> Self {
        Self {
            name: "as_posted",
            what: "as posted: both slips (identity targets in batches of 3; prediction from the 5th seed alone)",
            targets: TrainingTargets::Inputs,
            batch_size: POSTED_BATCH,
            shuffle: false,
            slipped_prediction: true,
            trainable_state: false,
            epochs,
            lr: 1e-3,
            width: 3,
            per_epoch: true,
        }
    }

    /// Every run: the posted ones for `epochs`, `both_fixed_more_epochs` for `long`.
    pub fn all(epochs: usize, long: usize) -> Vec<Self> {
        let posted = Self::as_posted(epochs);
        let fixed_targets = Self {
            name: "targets_fixed",
            what: "the fix of the training targets alone (batchSequences uses its argument: batches of 16, reshuffled each epoch; the loop's ytrain line removed); prediction still from the 5th seed alone",
            targets: TrainingTargets::NextValues,
            batch_size: FIXED_BATCH,
            shuffle: true,
            per_epoch: false,
            ..posted.clone()
        };
        let fixed = Self {
            name: "both_fixed",
            what: "both slips fixed (next-value targets, batches of 16 reshuffled each epoch; prediction reads all five seeds)",
            slipped_prediction: false,
            ..fixed_targets.clone()
        };
        let mut runs = vec![
            posted.clone(),
            Self {
                name: "as_posted_trainable_state",
                what: "as posted, with the LSTM's initial state trained as Flux 0.11/0.12 did (zeros at first; reset! returns to it)",
                trainable_state: true,
                per_epoch: false,
                ..posted.clone()
            },
            Self {
                name: "targets_fixed_as_written",
                what: "batchSequences fixed, with the loop's line ytrain = [makeSequence(x0[i],seqLength) for i in 1:nTrains] kept: next-value targets in epoch 1, the identity from epoch 2 (Julia would stop there with an error); prediction from the 5th seed alone",
                targets: TrainingTargets::NextThenInputs,
                ..fixed_targets.clone()
            },
            fixed_targets.clone(),
            Self {
                name: "targets_fixed_batch_3",
                what: "the targets fix alone at the posted batches of 3 in the posted order: only the targets differ from as_posted",
                batch_size: POSTED_BATCH,
                shuffle: false,
                ..fixed_targets
            },
            Self {
                name: "prediction_fixed",
                what: "only the prediction slip fixed (still trained on identity targets in batches of 3)",
                slipped_prediction: false,
                per_epoch: false,
                ..posted
            },
            fixed.clone(),
            Self {
                name: "both_fixed_batch_3",
                what: "both fixed at the posted batches of 3 in the posted order: only the targets differ from prediction_fixed",
                batch_size: POSTED_BATCH,
                shuffle: false,
                ..fixed.clone()
            },
        ];
        runs.extend(Self::variants(&fixed, long));
        runs
    }

    /// One change each to the fixed model: more epochs, a larger learning
    /// rate, more width.
    fn variants(fixed: &Self, long: usize) -> Vec<Self> {
        vec![
            Self {
                name: "both_fixed_more_epochs",
                what: "both fixed, and more epochs",
                epochs: long,
                ..fixed.clone()
            },
            Self {
                name: "both_fixed_lr_0.01",
                what: "both fixed, and Adam's learning rate 1e-2",
                lr: 1e-2,
                ..fixed.clone()
            },
            Self {
                name: "both_fixed_width_16",
                what: "both fixed, and width 16 (Dense(1,16), LSTM(16,16), Dense(16,5,relu), Dense(5,1))",
                width: 16,
                ..fixed.clone()
            },
        ]
    }
}
