//! The seed-conditioned continuation (the Flux forum question "How to train
//! Flux to learn a sequence conditional to some initial seeds?"): five seeds
//! uniform in `[-1, 1]`, then five values, each the previous one plus half
//! the fourth seed; 1,000 training and 100 validation sequences. The
//! asker's next-step model collapsed to the unconditional mean of each
//! step, and the thread never found out why.
//!
//! **As posted, then corrected.** The asker's model
//! (`Chain(Dense(1,3), LSTM(3,3), Dense(3,5,relu), Dense(5,1))`,
//! [`seqlab_models::next_step`], Flux's initialisation), loss (reset, feed
//! the first four values, score the prediction after each of the remaining
//! steps against the next value) and optimiser (the code does not print
//! `opt`; Flux's usual `ADAM()`, learning rate 1e-3, is used) are run with
//! the slips of the printed code, each alone fixed, and both fixed
//! ([`runs::AskerRun::all`]):
//! - **training targets**: `batchSequences(x, batchSize)` starts with
//!   `x = copy(xtrain)` and `batchSize = 3`, ignoring both arguments, so
//!   `ytraine = batchSequences(ytraine, 16)` returns unshuffled batches of 3
//!   of the *inputs*: the model is taught the identity;
//! - **the targets rebound** (masked by the first): inside the epoch loop,
//!   `ytrain = [makeSequence(x0[i],seqLength) for i in 1:nTrains]` rebinds
//!   the global targets to the raw ten-value sequences after the first
//!   epoch; once `batchSequences` uses its argument, epochs 2 onwards score
//!   each step against its own input (the identity again);
//! - **prediction**: `predictSequence` resets the model and calls
//!   `m(seq[i-1])` only from `i = nSeeds + 1`: seeds 1 to 4 never pass
//!   through the model, so its state knows nothing of the fourth seed, the
//!   only one that sets the slope.
//!
//! The fixes change the batch size from 3 to 16 (fewer updates per epoch),
//! so they also run at batches of 3 in the posted order. Flux 0.11/0.12
//! trained the LSTM's initial state; a run with that tests whether it
//! gives the asker's flat line. Then the smallest changes of the asker's
//! own architecture (more epochs, a larger learning rate, more width) are
//! measured apart from the fixes, and the recommended model: an LSTM
//! encoder whose final state starts an LSTM decoder that produces the five
//! values autoregressively ([`seqlab_models::seq2seq`], 32 units), trained
//! free running, Adam 3e-3 with the rate halved on validation plateaus,
//! MSE, batch 32, early stopping restoring the best epoch.

mod asker;
mod encoder_decoder;
mod plot;
mod questions;
pub mod runs;
mod summary;

pub use asker::{
    asker_prediction, asker_training_data, fifth_seed_flat, mean_squared_error, within_spread,
    AskerMetrics, PerEpoch, FED_BACK_STEPS,
};
pub use plot::step_means;
pub use runs::{AskerRun, TrainingTargets};

use crate::aggregate::{SeedResult, SummaryExtra};
use crate::common::{Target, ValLossCallbacks};
use crate::experiment::{Experiment, Outcome, SeedContext, SummaryContext};
use crate::record::Setting;
use crate::runner::Measurement;
use crate::ExperimentError;
use asker::{train_asker, AskerTrained};
use encoder_decoder::{train_encoder_decoder, Recommended};
use seqlab_data::continuation::{self, ContinuationSet};
use seqlab_train::runtime::ThreadHint;
use seqlab_train::tensors::{to_tensors, TensorData};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The experiment name.
pub const NAME: &str = "continuation";

/// Where the reproduction differs from the thread, and what its numbers mean.
pub const DIFFERENCES: &[&str] = &[
    "Scoring: the asker's predictSequence returns seqLength - 1 = 4 predicted values per sequence; seqlab scores all 5 continuation steps (the baseline too), so its errors cover one step more than the asker's plot.",
    "As posted: the asker's Chain(Dense(1,3), LSTM(3,3), Dense(3,5,relu), Dense(5,1)) with Flux 0.12's initialisation (Glorot-uniform weights, zero biases, LSTM forget-gate bias 1; Flux 0.11 drew the LSTM's other biases Glorot-uniform too), its loss and data, ADAM() (lr 1e-3; the post does not print opt), 20 epochs, with the slips of the printed code: batchSequences(x, batchSize) starts with x = copy(xtrain) and batchSize = 3, so ytraine = batchSequences(ytraine, 16) is unshuffled batches of 3 of the inputs (the model learns the identity); predictSequence resets the model and calls m(seq[i-1]) only from i = nSeeds + 1, so seeds 1 to 4, and with them the 4th seed that sets the slope, never reach the model's state.",
    "The third slip, masked by the first: inside the epoch loop, ytrain = [makeSequence(x0[i],seqLength) for i in 1:nTrains] rebinds the global training targets (at top level in a REPL or notebook, a loop assigns globals) to the raw ten-value sequences. With batchSequences as posted it changes nothing (the batches come from xtrain). Once batchSequences uses its argument, epoch 1 trains on next values and epochs 2 onwards on those sequences, whose value at each scored step is the step's input. In Julia the batching's x[i][e][:,1] on a Float32 element raises an error at epoch 2; targets_fixed_as_written runs what the line means numerically. targets_fixed is the fix: batchSequences uses its argument and that line is removed.",
    "The fixed batchSequences(ytrain, 16) batches 16 sequences, reshuffled every epoch, so an epoch makes fewer updates than the posted batches of 3 (the settings give each run's). targets_fixed_batch_3 and both_fixed_batch_3 keep the posted batches of 3 in the posted order, so that they differ from as_posted and prediction_fixed only in the targets.",
    "Initial state: Flux 0.11's LSTMCell kept its initial h and c (zeros) among its trained fields, and Flux 0.12's kept state0 = (h, c) (zeros, one column shared by every sequence of a batch); reset! returned the state to them, so training moved them. seqlab's runs start from zeros, except as_posted_trainable_state, which trains them as Flux did (its parameter count includes them).",
    "Each slip is then fixed alone, both together, and the smallest changes of the asker's own architecture (200 epochs, learning rate 1e-2, width 16) are measured apart from the fixes; the recommended model is an LSTM encoder-decoder that reads the seeds and produces the continuation autoregressively.",
    "Loss: the asker's loss resets the model, feeds the first four values and scores the prediction after each of the steps 5 to 9 against the next value; here the mean of those squared errors, where the post sums them (Adam is invariant to that constant factor). libtorch's LSTM keeps two bias vectors where Flux's keeps one (both start at Flux's values).",
    "mean_baseline_mse predicts, for each step, that step's mean over the training sequences: what the asker's model converged to. fifth_seed_flat_mse predicts the 5th seed at every step: a flat line where the sequence leaves off.",
    "within_sequence_spread: the standard deviation of the five predicted values within a sequence, averaged over the validation sequences (a flat prediction has 0; truth_within_sequence_spread is the true continuations' own). late_spread: the same over the last five of the values the model feeds back to itself when it goes on (the flat-line paragraph says how many). seqlab's criterion for a flat line: a spread below a tenth of the truth's.",
    "The thread's training and validation errors: the asker's plotted measure is not in the part of the thread seqlab could read; seqlab takes the MSE of the continuation predicted as posted (predictSequence) against the truth, on the training and on the validation sequences, before training and after every epoch (per_epoch of as_posted).",
    "training_seconds are wall times; every other number depends only on the seed on a CPU.",
];

/// The seed-conditioned continuation (see the module documentation).
pub struct Continuation;

/// The experiment's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuationConfig {
    /// Training sequences (the question: 1,000).
    pub n_train: usize,
    /// Validation sequences (the question: 100).
    pub n_val: usize,
    /// LSTM units of the encoder and the decoder.
    pub hidden: i64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Adam's initial learning rate.
    pub lr: f64,
    /// Upper bound on epochs.
    pub max_epochs: usize,
    /// EarlyStopping and ReduceLROnPlateau on the validation MSE.
    pub callbacks: ValLossCallbacks,
    /// The asker's model: as posted, each fix, and the variants.
    pub asker_runs: Vec<AskerRun>,
}

impl ContinuationConfig {
    /// The question's data, up to 500 epochs.
    pub fn full() -> Self {
        Self {
            n_train: continuation::DEFAULT_TRAIN,
            n_val: continuation::DEFAULT_VAL,
            hidden: 32,
            batch_size: 32,
            lr: 3e-3,
            max_epochs: 500,
            callbacks: ValLossCallbacks {
                patience: 40,
                min_delta: 0.0,
                lr_factor: 0.5,
                lr_patience: 10,
                lr_min_delta: 0.0,
                min_lr: 1e-6,
            },
            asker_runs: AskerRun::all(20, 200),
        }
    }

    /// 30 epochs of the encoder-decoder, 3 (and 10) of the asker's model: seconds on a CPU.
    pub fn quick() -> Self {
        Self {
            max_epochs: 30,
            asker_runs: AskerRun::all(3, 10),
            ..Self::full()
        }
    }
}

/// One seed's own part of `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContinuationDetails {
    /// Training sequences.
    pub n_train: usize,
    /// Validation sequences.
    pub n_val: usize,
    /// MSE of predicting each step's mean over the training sequences.
    pub mean_baseline_mse: f64,
    /// The same prediction scored on the training sequences.
    pub mean_baseline_mse_train: f64,
    /// MSE of predicting the 5th seed at every step, on the training sequences.
    pub fifth_seed_flat_mse_train: f64,
    /// The same on the validation sequences.
    pub fifth_seed_flat_mse_val: f64,
    /// The one-step loss of the identity (each scored step's input as its
    /// next value) on the validation sequences: where identity targets lead.
    pub identity_next_value_loss: f64,
    /// The asker's model: run name -> its numbers.
    pub asker: BTreeMap<String, AskerMetrics>,
    /// The recommended model, described.
    pub model: String,
    /// Its parameters.
    pub parameters: i64,
    /// Its MSE of the five predicted values on the validation sequences.
    pub validation_mse: f64,
    /// `validation_mse` over `mean_baseline_mse`.
    pub ratio_to_baseline: f64,
    /// Epochs it trained.
    pub epochs_run: usize,
    /// The epoch whose weights were restored.
    pub best_epoch: Option<usize>,
    /// Wall time of its training.
    pub training_seconds: f64,
    /// Mean over the validation sequences of the standard deviation of their
    /// true five values.
    pub truth_within_sequence_spread: f64,
}

impl Experiment for Continuation {
    type Config = ContinuationConfig;
    type Details = ContinuationDetails;
    const NAME: &'static str = NAME;
    const DESCRIPTION: &'static str = "seed-conditioned continuation (Flux forum): the asker's model as posted (three slips), each fix, the fixes at the posted batch size, Flux's trained initial state, then an LSTM encoder-decoder; vs the predict-the-mean baseline";
    const DIFFERENCES: &'static [&'static str] = DIFFERENCES;
    const ABOUT: &'static str = r#"Each sequence starts with five seeds drawn uniformly from [-1, 1]; five values follow, each the previous one plus half the 4th seed. 1,000 training and 100 validation sequences. The question from the Flux forum: the asker's small LSTM model collapsed to predicting each step's mean, and the thread never found out why. The runs answer it step by step:

- `as_posted`: the asker's model and code as printed, the slips included.
- `as_posted_trainable_state`: the same with the LSTM's initial state trained, as the asker's Flux did.
- `targets_fixed_as_written`: `batchSequences` fixed, but the loop's line `ytrain = [makeSequence(x0[i],seqLength) for i in 1:nTrains]` kept, so the targets are the next values in epoch 1 and the identity after.
- `targets_fixed` and `prediction_fixed`: each slip fixed alone (the targets fix removes that line too); `targets_fixed_batch_3`: the targets fix at the posted batches of 3.
- `both_fixed`: both slips fixed, with the posted budget; `both_fixed_batch_3`: at the posted batches of 3.
- `both_fixed_more_epochs`, `both_fixed_lr_0.01`, `both_fixed_width_16`: one change each to the asker's own setup, to tell a model that is too small or trained too briefly from a wrong one.
- `encoder_decoder`: the recommended model, which reads the five seeds before it produces the continuation (its layout is under the settings).

Each run is judged by its validation MSE over the five predicted values, divided by that of the predict-the-mean baseline, and by how much its predictions vary within a sequence. The summary below the tables answers the thread's questions seed by seed."#;
    const THREADS: ThreadHint = ThreadHint::Single;
    const FULL_SEEDS: usize = 5;

    fn config(quick: bool) -> ContinuationConfig {
        if quick {
            ContinuationConfig::quick()
        } else {
            ContinuationConfig::full()
        }
    }

    fn run_seed(
        config: &ContinuationConfig,
        ctx: &mut SeedContext<'_>,
    ) -> Result<Outcome<ContinuationDetails>, ExperimentError> {
        let data = Data::prepare(config, ctx)?;
        let baseline = continuation::mean_baseline_mse(&data.train, &data.val);
        let recommended = train_encoder_decoder(config, ctx, &data)?;
        let mut asker = Vec::new();
        for run in &config.asker_runs {
            asker.push(train_asker(run, ctx, &data, baseline)?);
        }
        let shown = plot::Continuations {
            asker: &asker,
            encoder_decoder: &recommended.prediction,
            baseline: &step_means(&data.train),
        };
        let png = ctx.out.path("sequences.png");
        plot::plot_continuations(&data.val, &shown, ctx.seed, &png)?;
        ctx.out.write_text("model.txt", &recommended.summary)?;
        let timing: Vec<(String, f64)> = std::iter::once(("training".into(), recommended.seconds))
            .chain(
                asker
                    .iter()
                    .map(|a| (format!("asker_{}", a.run.name), a.metrics.training_seconds)),
            )
            .collect();
        let headline = headline(&recommended, baseline, &asker);
        let details = details(config, &data, baseline, &recommended, asker)?;
        Ok(Outcome::new(details).timing(timing).headline(headline))
    }

    fn targets(details: &ContinuationDetails) -> Option<Vec<Target>> {
        Some(targets(details))
    }

    fn measurements(details: &ContinuationDetails) -> Option<Vec<Measurement>> {
        Some(summary::measurements(details))
    }

    fn settings(details: &ContinuationDetails) -> Vec<Setting> {
        let mut settings = vec![
            Setting::new("n_train", details.n_train),
            Setting::new("n_val", details.n_val),
            Setting::new("model", &details.model),
            Setting::new("parameters", details.parameters),
        ];
        settings.extend(details.asker.iter().map(|(name, m)| {
            let state = if m.trainable_state {
                ", trained initial state"
            } else {
                ""
            };
            let order = if m.shuffled {
                "reshuffled"
            } else {
                "in the posted order"
            };
            Setting::new(
                format!("asker_{name}"),
                format!(
                    "width {}, Adam lr {}, batches of {} {order} ({} updates per epoch){state}",
                    m.width, m.lr, m.batch_size, m.updates_per_epoch
                ),
            )
        }));
        settings
    }

    fn epochs(details: &ContinuationDetails) -> Vec<(String, usize)> {
        std::iter::once(("encoder-decoder".to_string(), details.epochs_run))
            .chain(
                details
                    .asker
                    .iter()
                    .map(|(name, m)| (format!("asker_{name}"), m.epochs)),
            )
            .collect()
    }

    fn notes(details: &ContinuationDetails) -> Vec<String> {
        vec![format!(
            "The true continuations' spread within a sequence (the standard deviation of its five values, averaged over the validation sequences) is {:.3}; a flat prediction has 0. Predicting each step's training mean scores an MSE of {:.4} on the validation and {:.4} on the training sequences; predicting the 5th seed at every step (a flat line where the seeds end) {:.4} and {:.4}.",
            details.truth_within_sequence_spread,
            details.mean_baseline_mse,
            details.mean_baseline_mse_train,
            details.fifth_seed_flat_mse_val,
            details.fifth_seed_flat_mse_train
        )]
    }

    fn summarise(
        seeds: &[SeedResult<ContinuationDetails>],
        ctx: SummaryContext<'_>,
    ) -> Result<SummaryExtra, ExperimentError> {
        summary::summarise(seeds, ctx)
    }
}

/// The seed's details from its data and trained models.
fn details(
    config: &ContinuationConfig,
    data: &Data,
    baseline: f64,
    recommended: &Recommended,
    asker: Vec<AskerTrained<'_>>,
) -> Result<ContinuationDetails, ExperimentError> {
    let identity = asker_training_data(&data.next_val, true)?;
    let values = |t: &tch::Tensor| Vec::<f32>::try_from(&t.f_reshape([-1])?);
    let identity_next_value_loss =
        mean_squared_error(&values(&identity.y)?, &values(&data.asker_val.y)?);
    Ok(ContinuationDetails {
        n_train: config.n_train,
        n_val: config.n_val,
        mean_baseline_mse: baseline,
        mean_baseline_mse_train: continuation::mean_baseline_mse(&data.train, &data.train),
        fifth_seed_flat_mse_train: fifth_seed_flat_mse(&data.train),
        fifth_seed_flat_mse_val: fifth_seed_flat_mse(&data.val),
        identity_next_value_loss,
        asker: asker
            .into_iter()
            .map(|a| (a.run.name.to_string(), a.metrics))
            .collect(),
        model: format!(
            "LSTM({0}) encoder over the 5 seeds; its final (h, c) start an LSTM({0}) decoder that produces the 5 values autoregressively from 0, trained free running",
            config.hidden
        ),
        parameters: recommended.parameters,
        validation_mse: recommended.validation_mse,
        ratio_to_baseline: recommended.validation_mse / baseline,
        epochs_run: recommended.history.len(),
        best_epoch: recommended.best_epoch,
        training_seconds: recommended.seconds,
        truth_within_sequence_spread: within_spread(data.val.continuation.data()),
    })
}

/// MSE of predicting the 5th seed at every continuation step of `set`.
pub fn fifth_seed_flat_mse(set: &ContinuationSet) -> f64 {
    mean_squared_error(&fifth_seed_flat(set), set.continuation.data())
}

/// The question's data: the training and validation sets, and their
/// tensors as the encoder-decoder and the asker's next-step model read them.
pub(crate) struct Data {
    train: ContinuationSet,
    val: ContinuationSet,
    /// Seeds -> continuation.
    seq2seq_train: TensorData,
    seq2seq_val: TensorData,
    /// Values 1 to 9 -> values 2 to 10.
    next_train: TensorData,
    next_val: TensorData,
    /// The asker's validation loss data (the next values).
    asker_val: TensorData,
}

impl Data {
    fn prepare(
        config: &ContinuationConfig,
        ctx: &SeedContext<'_>,
    ) -> Result<Self, ExperimentError> {
        let (train, val) = continuation::generate_split(config.n_train, config.n_val, ctx.seed)?;
        let next_val = to_tensors(&val.next_step(), ctx.device)?;
        Ok(Self {
            seq2seq_train: to_tensors(&train.seq2seq(), ctx.device)?,
            seq2seq_val: to_tensors(&val.seq2seq(), ctx.device)?,
            next_train: to_tensors(&train.next_step(), ctx.device)?,
            asker_val: asker_training_data(&next_val, false)?,
            next_val,
            train,
            val,
        })
    }
}

/// The thread's observation (as posted, the model collapses to the mean)
/// and the recommended model's goal.
fn targets(details: &ContinuationDetails) -> Vec<Target> {
    let mut targets = Vec::new();
    if let Some(posted) = details.asker.get("as_posted") {
        targets.push(
            Target::within(
                "as posted: validation MSE relative to the predict-the-mean baseline",
                "the asker: \"the estimate doesn't change\" (a horizontal line; no number); seqlab's criterion for no better than the mean: a ratio of at least 0.5",
                posted.ratio_to_baseline,
                0.5,
                f64::MAX,
            )
            .goal()
            .source("the Flux forum question")
            .bounds(0.0, f64::MAX),
        );
    }
    targets.push(
        Target::within(
            "encoder-decoder (recommended): validation MSE relative to the predict-the-mean baseline",
            "seqlab's goal: below 1% of the baseline's error (the thread ends without an answer)",
            details.ratio_to_baseline,
            0.0,
            0.01,
        )
        .goal()
        .bounds(0.0, f64::MAX),
    );
    targets
}

/// Terminal lines: the encoder-decoder, then each run of the asker's model.
fn headline(recommended: &Recommended, baseline: f64, asker: &[AskerTrained<'_>]) -> Vec<String> {
    let first = format!(
        "encoder-decoder: validation MSE {:.3e} vs mean baseline {baseline:.4} after {} epochs",
        recommended.validation_mse,
        recommended.history.len()
    );
    std::iter::once(first)
        .chain(asker.iter().map(|a| {
            let m = &a.metrics;
            format!(
                "asker's model, {}: MSE {:.4} = {:.3} x the baseline ({} epochs, batch {}, lr {}, width {}; spread within a sequence {:.4}, fed back longer {:.4})",
                a.run.name, m.validation_mse, m.ratio_to_baseline, m.epochs, m.batch_size, m.lr, m.width, m.within_sequence_spread, m.late_spread
            )
        }))
        .collect()
}

#[cfg(test)]
mod tests;
