//! The seed-conditioned continuation (the Flux forum question "Where am I
//! wrong?"): five seeds uniform in `[-1, 1]`, then five values, each the
//! previous one plus half the fourth seed; 1,000 training and 100
//! validation sequences. The asker's next-step model collapsed to the
//! unconditional mean of each step, and the thread never found out why.
//!
//! **As posted, then corrected.** The asker's model
//! (`Chain(Dense(1,3), LSTM(3,3), Dense(3,5,relu), Dense(5,1))`,
//! [`seqlab_models::next_step`], Flux's initialisation), loss (reset, feed
//! the first four values, score the prediction after each of the remaining
//! steps against the next value) and optimiser (the code does not print
//! `opt`; Flux's usual `ADAM()`, learning rate 1e-3, is used) are run with
//! the two slips of the printed code, each alone fixed, and both fixed:
//! - **training targets**: `batchSequences(x, batchSize)` starts with
//!   `x = copy(xtrain)` and `batchSize = 3`, ignoring both arguments, so
//!   `ytraine = batchSequences(ytraine, 16)` returns unshuffled batches of 3
//!   of the *inputs*: the model is taught the identity;
//! - **prediction**: `predictSequence` resets the model and calls
//!   `m(seq[i-1])` only from `i = nSeeds + 1`: seeds 1 to 4 never pass
//!   through the model, so its state knows nothing of the fourth seed, the
//!   only one that sets the slope.
//!
//! Then the smallest changes of the asker's own architecture (more epochs,
//! a larger learning rate, more width) are measured apart from the fixes,
//! and the recommended model: an LSTM encoder whose final state starts an
//! LSTM decoder that produces the five values autoregressively
//! ([`seqlab_models::seq2seq`], 32 units), trained free running, Adam 3e-3
//! with the rate halved on validation plateaus, MSE, batch 32, early
//! stopping restoring the best epoch.

use crate::common::{plot_history, Target, ValLossCallbacks};
use crate::experiment::{Experiment, Outcome, SeedContext};
use crate::record::Setting;
use crate::runner::Measurement;
use crate::ExperimentError;
use seqlab_data::continuation::{self, ContinuationSet, N_SEEDS, N_STEPS};
use seqlab_metrics::mse;
use seqlab_models::next_step::{next_step_lstm, NextStepConfig, NextStepLstm};
use seqlab_models::recurrent::RecurrentInit;
use seqlab_models::seq2seq::{encoder_decoder, EncoderDecoderConfig, FreeRunning};
use seqlab_models::Model;
use seqlab_plot::{Figure, LineChart, Series};
use seqlab_train::fit::fit;
use seqlab_train::objective::Loss;
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::runtime::ThreadHint;
use seqlab_train::tensors::{to_tensors, TensorData};
use seqlab_train::{seed_all, History};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::nn::VarStore;

/// The experiment name.
pub const NAME: &str = "continuation";

/// Where the reproduction differs from the thread, and what its numbers mean.
pub const DIFFERENCES: &[&str] = &[
    "Scoring: the asker's predictSequence returns seqLength - 1 = 4 predicted values per sequence; seqlab scores all 5 continuation steps (the baseline too), so its errors cover one step more than the asker's plot.",
    "As posted: the asker's Chain(Dense(1,3), LSTM(3,3), Dense(3,5,relu), Dense(5,1)) with Flux's initialisation (Glorot-uniform weights, zero biases, LSTM forget-gate bias 1), its loss and data, ADAM() (lr 1e-3; the post does not print opt), 20 epochs, with both slips of the printed code: batchSequences(x, batchSize) starts with x = copy(xtrain) and batchSize = 3, so ytraine = batchSequences(ytraine, 16) is unshuffled batches of 3 of the inputs (the model learns the identity); predictSequence resets the model and calls m(seq[i-1]) only from i = nSeeds + 1, so seeds 1 to 4, and with them the 4th seed that sets the slope, never reach the model's state.",
    "Each slip is then fixed alone, both together, and the smallest changes of the asker's own architecture (200 epochs, learning rate 1e-2, width 16) are measured apart from the fixes; the recommended model is an LSTM encoder-decoder that reads the seeds and produces the continuation autoregressively.",
    "Loss: the asker's loss resets the model, feeds the first four values and scores the prediction after each of the steps 5 to 9 against the next value; here the mean of those squared errors, where the post sums them (Adam is invariant to that constant factor). libtorch's LSTM keeps two bias vectors where Flux's keeps one (both start at Flux's values).",
    "mean_baseline_mse predicts, for each step, that step's mean over the training sequences: what the asker's model converged to.",
    "within_sequence_spread: the standard deviation of the five predicted values within a sequence, averaged over the validation sequences (a flat prediction has 0; truth_within_sequence_spread is the true continuations' own).",
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
    /// The asker's model: as posted, each fix, and the learnability variants.
    pub asker_runs: Vec<AskerRun>,
}

/// One training of the asker's model.
#[derive(Debug, Clone, PartialEq)]
pub struct AskerRun {
    /// Run name (files `asker_<name>_*`).
    pub name: &'static str,
    /// What it is, for the report.
    pub what: &'static str,
    /// The `batchSequences` slip: targets are the inputs, batches of 3, unshuffled.
    pub slipped_targets: bool,
    /// The `predictSequence` slip: only the 5th seed passes through the model.
    pub slipped_prediction: bool,
    /// Epochs.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Width of the first dense layer and the LSTM (the asker's: 3).
    pub width: i64,
}

impl AskerRun {
    /// The posted code: both slips, 20 epochs, `ADAM()`, width 3.
    pub fn as_posted(epochs: usize) -> Self {
        Self {
            name: "as_posted",
            what: "as posted: both slips (identity targets in batches of 3; prediction from the 5th seed alone)",
            slipped_targets: true,
            slipped_prediction: true,
            epochs,
            lr: 1e-3,
            width: 3,
        }
    }

    /// The posted runs for `epochs`, then the variants with `long` epochs.
    pub fn all(epochs: usize, long: usize) -> Vec<Self> {
        let posted = Self::as_posted(epochs);
        let fixed = Self {
            name: "both_fixed",
            what: "both slips fixed (next-value targets, batches of 16 reshuffled each epoch; prediction reads all five seeds)",
            slipped_targets: false,
            slipped_prediction: false,
            ..posted.clone()
        };
        vec![
            posted.clone(),
            Self {
                name: "targets_fixed",
                what: "only the training-target slip fixed (prediction still from the 5th seed alone)",
                slipped_targets: false,
                ..posted.clone()
            },
            Self {
                name: "prediction_fixed",
                what: "only the prediction slip fixed (still trained on identity targets in batches of 3)",
                slipped_prediction: false,
                ..posted
            },
            fixed.clone(),
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
                ..fixed
            },
        ]
    }
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
    /// true five values (absent in results written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth_within_sequence_spread: Option<f64>,
}

impl Experiment for Continuation {
    type Config = ContinuationConfig;
    type Details = ContinuationDetails;
    const NAME: &'static str = NAME;
    const DESCRIPTION: &'static str = "seed-conditioned continuation (Flux forum): the asker's model as posted (two slips), each fix, then an LSTM encoder-decoder; vs the predict-the-mean baseline";
    const DIFFERENCES: &'static [&'static str] = DIFFERENCES;
    const ABOUT: &'static str = r#"Each sequence starts with five seeds drawn uniformly from [-1, 1]; five values follow, each the previous one plus half the 4th seed. 1,000 training and 100 validation sequences. The question from the Flux forum: the asker's small LSTM model collapsed to predicting each step's mean, and the thread never found out why. The runs answer it step by step:

- `as_posted`: the asker's model and code as printed, both slips included.
- `targets_fixed` and `prediction_fixed`: each slip fixed alone, to show what each does.
- `both_fixed`: both slips fixed, with the posted budget.
- `both_fixed_more_epochs`, `both_fixed_lr_0.01`, `both_fixed_width_16`: one change each to the asker's own setup, to tell a model that is too small or trained too briefly from a wrong one.
- `encoder_decoder`: the recommended model, which reads the five seeds before it produces the continuation (its layout is under the settings).

Each run is judged by its validation MSE over the five predicted values, divided by that of the predict-the-mean baseline, and by how much its predictions vary within a sequence."#;
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
        let png = ctx.out.path("sequences.png");
        plot_continuations(&data.val, &asker, &recommended.prediction, ctx.seed, &png)?;
        ctx.out.write_text("model.txt", &recommended.summary)?;
        let timing: Vec<(String, f64)> = std::iter::once(("training".into(), recommended.seconds))
            .chain(
                asker
                    .iter()
                    .map(|a| (format!("asker_{}", a.run.name), a.seconds)),
            )
            .collect();
        let measurements = measurements(&asker);
        let headline = headline(&recommended, baseline, &asker);
        let details = ContinuationDetails {
            n_train: config.n_train,
            n_val: config.n_val,
            mean_baseline_mse: baseline,
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
            truth_within_sequence_spread: Some(within_spread(data.val.continuation.data())),
        };
        Ok(Outcome::new(details)
            .timing(timing)
            .measurements(measurements)
            .headline(headline))
    }

    fn targets(details: &ContinuationDetails) -> Option<Vec<Target>> {
        Some(targets(details))
    }

    fn settings(details: &ContinuationDetails) -> Vec<Setting> {
        let mut settings = vec![
            Setting::new("n_train", details.n_train),
            Setting::new("n_val", details.n_val),
            Setting::new("model", &details.model),
            Setting::new("parameters", details.parameters),
        ];
        settings.extend(details.asker.iter().map(|(name, m)| {
            Setting::new(
                format!("asker_{name}"),
                format!("width {}, Adam lr {}", m.width, m.lr),
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
        details
            .truth_within_sequence_spread
            .map(|s| {
                format!("The true continuations' spread within a sequence (the standard deviation of its five values, averaged over the validation sequences) is {s:.2}; a flat prediction has 0.")
            })
            .into_iter()
            .collect()
    }
}

/// The question's data: the training and validation sets, and their
/// tensors as the encoder-decoder and the asker's next-step model read them.
struct Data {
    train: ContinuationSet,
    val: ContinuationSet,
    /// Seeds -> continuation.
    seq2seq_train: TensorData,
    seq2seq_val: TensorData,
    /// Values 1 to 9 -> values 2 to 10.
    next_train: TensorData,
    next_val: TensorData,
    /// The asker's validation loss data (the fixed targets).
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
            asker_val: asker_training_data(&next_val, false)?.0,
            next_val,
            train,
            val,
        })
    }
}

/// The trained encoder-decoder.
struct Recommended {
    summary: String,
    parameters: i64,
    history: History,
    best_epoch: Option<usize>,
    seconds: f64,
    /// Its five values per validation sequence, flattened.
    prediction: Vec<f32>,
    validation_mse: f64,
}

/// Trains the encoder-decoder with the validation callbacks, writes its
/// history and loss plot, and predicts the validation continuations with
/// the restored weights (five autoregressive steps).
fn train_encoder_decoder(
    config: &ContinuationConfig,
    ctx: &mut SeedContext<'_>,
    data: &Data,
) -> Result<Recommended, ExperimentError> {
    seed_all(ctx.seed);
    let mut vs = VarStore::new(ctx.device);
    let shape = EncoderDecoderConfig {
        input_features: 1,
        output_features: 1,
        hidden: config.hidden,
        init: RecurrentInit::Keras,
    };
    let model = FreeRunning(encoder_decoder(vs.root() / "continuation", &shape)?);
    let summary = model.summary(&[N_SEEDS as i64, 1]);
    if ctx.verbose {
        seqlab_train::progress::say(format_args!("\n{summary}"));
    }
    let epochs = ctx.epochs_or(config.max_epochs)?;
    let optimizer = OptimizerConfig::keras_adam(config.lr);
    let mut fc = ctx.base_fit(
        "continuation".into(),
        epochs,
        config.batch_size,
        optimizer,
        Loss::Mse,
    );
    config.callbacks.install(&mut fc)?;
    let report = fit(
        &mut vs,
        &model,
        &data.seq2seq_train,
        Some(&data.seq2seq_val),
        fc,
    )?;
    let pred = model.0.predict(&data.seq2seq_val.x, N_STEPS as i64);
    let prediction = Vec::<f32>::try_from(&pred.f_reshape([-1])?)?;
    ctx.out.write_history("train", &report.history)?;
    plot_history(
        &report.history,
        "Seed-conditioned continuation, encoder-decoder: MSE per epoch",
        "validation",
        &ctx.out.path("loss.png"),
    )?;
    Ok(Recommended {
        summary: summary.to_string(),
        parameters: summary.total_params(),
        validation_mse: mse(&prediction, data.val.continuation.data())?,
        history: report.history,
        best_epoch: report.restored_epoch,
        seconds: report.seconds,
        prediction,
    })
}

/// One trained run of the asker's model.
struct AskerTrained<'a> {
    run: &'a AskerRun,
    metrics: AskerMetrics,
    seconds: f64,
    /// Its five values per validation sequence, flattened.
    prediction: Vec<f32>,
}

/// Trains one run of the asker's model (with or without each slip),
/// writes its history and measures its continuation of the validation set.
fn train_asker<'a>(
    run: &'a AskerRun,
    ctx: &mut SeedContext<'_>,
    data: &Data,
    baseline: f64,
) -> Result<AskerTrained<'a>, ExperimentError> {
    let (train_data, batch_size, shuffle) =
        asker_training_data(&data.next_train, run.slipped_targets)?;
    seed_all(ctx.seed);
    let mut vs = VarStore::new(ctx.device);
    let shape = NextStepConfig {
        width: run.width,
        ..NextStepConfig::forum()
    };
    let m = next_step_lstm(vs.root() / "asker", &shape)?;
    let epochs = ctx.epochs_or(run.epochs)?;
    let optimizer = OptimizerConfig::adam(run.lr);
    let label = format!("asker {}", run.name);
    let mut fc = ctx.base_fit(label, epochs, batch_size, optimizer, Loss::Mse);
    fc.shuffle = shuffle;
    let r = fit(&mut vs, &m, &train_data, Some(&data.asker_val), fc)?;
    ctx.out
        .write_history(&format!("asker_{}", run.name), &r.history)?;
    let p = asker_prediction(&m, &data.next_val.x, run.slipped_prediction)?;
    let prediction = Vec::<f32>::try_from(&p.f_reshape([-1])?)?;
    let validation_mse = mse(&prediction, data.val.continuation.data())?;
    let metrics = AskerMetrics {
        what: run.what.to_string(),
        training_targets: training_targets(run.slipped_targets).into(),
        prediction: prediction_method(run.slipped_prediction).into(),
        width: run.width,
        epochs,
        lr: run.lr,
        parameters: m.summary(&[9, 1]).total_keras_params(),
        validation_mse,
        ratio_to_baseline: validation_mse / baseline,
        within_sequence_spread: within_spread(&prediction),
        training_seconds: r.seconds,
    };
    Ok(AskerTrained {
        run,
        metrics,
        seconds: r.seconds,
        prediction,
    })
}

/// What the asker's model is trained to predict, with or without the `batchSequences` slip.
fn training_targets(slipped: bool) -> &'static str {
    if slipped {
        "the inputs themselves (batchSequences returns batches of xtrain), batches of 3, never shuffled"
    } else {
        "the next value of each step, batches of 16, reshuffled every epoch"
    }
}

/// How the asker's model continues a sequence, with or without the `predictSequence` slip.
fn prediction_method(slipped: bool) -> &'static str {
    if slipped {
        "a reset model reads only the 5th seed, then feeds back its outputs"
    } else {
        "a reset model reads all five seeds, then feeds back its outputs"
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

/// Each run of the asker's model relative to the baseline, in run order.
fn measurements(asker: &[AskerTrained<'_>]) -> Vec<Measurement> {
    asker
        .iter()
        .map(|a| {
            Measurement::new(
                &format!("asker's model, {}: MSE / baseline", a.run.name),
                a.metrics.ratio_to_baseline,
            )
        })
        .collect()
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
                "asker's model, {}: MSE {:.4} = {:.3} x the baseline ({} epochs, lr {}, width {}; spread within a sequence {:.4})",
                a.run.name, m.validation_mse, m.ratio_to_baseline, m.epochs, m.lr, m.width, m.within_sequence_spread
            )
        }))
        .collect()
}

/// The numbers of one training of the asker's model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AskerMetrics {
    /// What the run is.
    pub what: String,
    /// What the model was trained to predict, and how batched.
    pub training_targets: String,
    /// How the continuation is predicted.
    pub prediction: String,
    /// Width of the first dense layer and the LSTM.
    pub width: i64,
    /// Epochs.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Parameters, counted as Flux and Keras count them.
    pub parameters: i64,
    /// MSE of the five predicted values on the validation sequences.
    pub validation_mse: f64,
    /// `validation_mse` over the predict-the-mean baseline's.
    pub ratio_to_baseline: f64,
    /// Mean over sequences of the standard deviation of the five predictions.
    pub within_sequence_spread: f64,
    /// Wall time of training.
    pub training_seconds: f64,
}

/// The training data of the asker's model from the next-step view of a set
/// (`x` = values 1 to 9, `y` = values 2 to 10, both `[n, 9, 1]`): the inputs,
/// the targets the loss scores (the five steps after the warm-up), the
/// batch size and whether batches are reshuffled. With `slipped`, what the
/// posted `batchSequences` returns: the targets are the *inputs* of those
/// steps, in batches of 3, never shuffled.
pub fn asker_training_data(
    next: &TensorData,
    slipped: bool,
) -> Result<(TensorData, usize, bool), ExperimentError> {
    let warmup = NextStepConfig::forum().warmup;
    let steps = next.x.size()[1] - warmup;
    if slipped {
        let y = next.x.f_narrow(1, warmup, steps)?.copy();
        Ok((
            TensorData {
                x: next.x.copy(),
                y,
            },
            3,
            false,
        ))
    } else {
        let y = next.y.f_narrow(1, warmup, steps)?.copy();
        Ok((
            TensorData {
                x: next.x.copy(),
                y,
            },
            16,
            true,
        ))
    }
}

/// The asker's continuation of each validation sequence from `x` (values 1
/// to 9, `[n, 9, 1]`): five values, `[n, 5]`. With `slipped`, as the posted
/// `predictSequence` does it: a reset model reads only the 5th seed.
/// Otherwise it reads all five seeds first.
pub fn asker_prediction(
    model: &NextStepLstm,
    x: &tch::Tensor,
    slipped: bool,
) -> Result<tch::Tensor, ExperimentError> {
    let context = if slipped {
        x.f_narrow(1, N_SEEDS as i64 - 1, 1)?
    } else {
        x.f_narrow(1, 0, N_SEEDS as i64)?
    };
    Ok(model.continue_from(&context, N_STEPS as i64))
}

/// Mean over sequences of the standard deviation of their `N_STEPS` values.
fn within_spread(values: &[f32]) -> f64 {
    let rows: Vec<&[f32]> = values.chunks(N_STEPS).collect();
    let spread: f64 = rows
        .iter()
        .map(|r| {
            let m = r.iter().map(|&v| f64::from(v)).sum::<f64>() / r.len() as f64;
            (r.iter().map(|&v| (f64::from(v) - m).powi(2)).sum::<f64>() / r.len() as f64).sqrt()
        })
        .sum();
    spread / rows.len().max(1) as f64
}

/// Four validation sequences (chosen by the seed, not by fit): the seeds,
/// the true continuation and each run's.
fn plot_continuations(
    val: &ContinuationSet,
    asker: &[AskerTrained<'_>],
    encoder_decoder: &[f32],
    seed: u64,
    path: &std::path::Path,
) -> Result<(), ExperimentError> {
    let mut rng = seqlab_data::rng::stream(seed, seqlab_data::rng::streams::SPLIT);
    let picks = rand::seq::index::sample(&mut rng, val.len(), 4.min(val.len())).into_vec();
    let mut fig = Figure::new(1600, 1000)
        .title("Four validation sequences: the seeds, the true continuation (dashed), the asker's model as posted and corrected, and the encoder-decoder")
        .grid(2, 2);
    let shown = [
        "as_posted",
        "targets_fixed",
        "prediction_fixed",
        "both_fixed",
        "both_fixed_more_epochs",
    ];
    for &i in &picks {
        let full: Vec<f64> = val.full.row(i).iter().map(|&v| f64::from(v)).collect();
        let t_seeds: Vec<f64> = (1..=N_SEEDS).map(|t| t as f64).collect();
        let t_cont: Vec<f64> = (N_SEEDS..=N_SEEDS + N_STEPS).map(|t| t as f64).collect();
        // Continuations are drawn from the last seed on, so the curves join up.
        let joined = |values: &[f32]| -> Vec<f64> {
            std::iter::once(full[N_SEEDS - 1])
                .chain(
                    values[i * N_STEPS..(i + 1) * N_STEPS]
                        .iter()
                        .map(|&v| f64::from(v)),
                )
                .collect()
        };
        let mut truth = vec![full[N_SEEDS - 1]];
        truth.extend(&full[N_SEEDS..]);
        let mut chart = LineChart::new(format!(
            "validation #{i} (4th seed {:+.2}: slope {:+.2})",
            full[3],
            full[3] / 2.0
        ))
        .x_label("step")
        .y_label("value")
        .legend(seqlab_plot::LegendPosition::OutsideRight)
        .series(Series::from_xy("seeds", &t_seeds, &full[..N_SEEDS])?.color(7));
        for (k, name) in shown.iter().enumerate() {
            if let Some(a) = asker.iter().find(|a| a.run.name == *name) {
                let color = [3, 1, 4, 5, 6].get(k).copied().unwrap_or(k);
                chart = chart.series(
                    Series::from_xy(
                        format!("asker: {}", a.run.name),
                        &t_cont,
                        &joined(&a.prediction),
                    )?
                    .color(color),
                );
            }
        }
        chart = chart
            .series(Series::from_xy("encoder-decoder", &t_cont, &joined(encoder_decoder))?.color(0))
            // Drawn last, so that it shows over a model that matches it.
            .series(Series::from_xy("true", &t_cont, &truth)?.color(2).dashed());
        fig = fig.panel(chart);
    }
    Ok(fig.save_png(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next_view() -> TensorData {
        let (train, _) = continuation::generate_split(10, 2, 7).unwrap();
        to_tensors(&train.next_step(), tch::Device::Cpu).unwrap()
    }

    #[test]
    fn the_posted_batches_teach_the_identity_in_unshuffled_threes() {
        let next = next_view();
        let (slipped, batch, shuffle) = asker_training_data(&next, true).unwrap();
        assert_eq!((batch, shuffle), (3, false));
        assert_eq!(slipped.y.size(), [10, 5, 1]);
        // The targets are the inputs of the scored steps, not the next values.
        assert!(slipped.y.equal(&next.x.narrow(1, 4, 5)));
        assert!(!slipped.y.equal(&next.y.narrow(1, 4, 5)));
        let (fixed, batch, shuffle) = asker_training_data(&next, false).unwrap();
        assert_eq!((batch, shuffle), (16, true));
        assert!(fixed.y.equal(&next.y.narrow(1, 4, 5)));
        // Values 6 to 10: the continuation itself.
        let (train, _) = continuation::generate_split(10, 2, 7).unwrap();
        let cont = Vec::<f32>::try_from(fixed.y.reshape([-1])).unwrap();
        assert_eq!(cont, train.continuation.data());
    }

    #[test]
    fn the_posted_prediction_feeds_the_model_nothing_before_the_fifth_seed() {
        let vs = VarStore::new(tch::Device::Cpu);
        let m = next_step_lstm(vs.root(), &NextStepConfig::forum()).unwrap();
        let x = next_view().x;
        // Other values in seeds 1 to 4.
        let other = x.copy();
        let _ = other.narrow(1, 0, 4).fill_(0.9);
        let posted = asker_prediction(&m, &x, true).unwrap();
        assert_eq!(posted.size(), [10, 5]);
        assert!(posted.equal(&asker_prediction(&m, &other, true).unwrap()));
        // Fixed, the first four seeds reach the state and change the continuation.
        let fixed = asker_prediction(&m, &x, false).unwrap();
        assert!(!fixed.equal(&asker_prediction(&m, &other, false).unwrap()));
        assert!(!fixed.equal(&posted));
    }
}
