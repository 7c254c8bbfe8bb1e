//! Training and measuring the asker's next-step model
//! ([`seqlab_models::next_step`]) for one [`AskerRun`].

use super::runs::{AskerRun, TrainingTargets};
use super::Data;
use crate::experiment::SeedContext;
use crate::ExperimentError;
use seqlab_data::continuation::{ContinuationSet, N_SEEDS, N_STEPS};
use seqlab_models::next_step::{next_step_lstm, NextStepConfig, NextStepLstm};
use seqlab_models::Model;
use seqlab_train::callbacks::{Callback, Control, EpochEnd};
use seqlab_train::fit::{fit_stream, fit_with_callbacks, FitReport};
use seqlab_train::objective::Loss;
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::tensors::TensorData;
use seqlab_train::TrainError;
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{TchError, Tensor};

/// Steps the model feeds back its own output to see where it settles
/// ([`AskerMetrics::late_spread`] reads the last [`N_STEPS`] of them).
pub const FED_BACK_STEPS: usize = 20;

/// The numbers of one training of the asker's model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AskerMetrics {
    /// What the run is.
    pub what: String,
    /// What the model was trained to predict.
    pub training_targets: String,
    /// How the continuation is predicted.
    pub prediction: String,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Whether batches were reshuffled every epoch (else the posted order).
    pub shuffled: bool,
    /// Optimiser steps per epoch.
    pub updates_per_epoch: usize,
    /// Whether the LSTM's initial state was trained.
    pub trainable_state: bool,
    /// Width of the first dense layer and the LSTM.
    pub width: i64,
    /// Epochs.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Parameters, counted as Flux and Keras count them (a trained initial
    /// state included).
    pub parameters: i64,
    /// MSE of the five predicted values on the validation sequences.
    pub validation_mse: f64,
    /// `validation_mse` over the predict-the-mean baseline's.
    pub ratio_to_baseline: f64,
    /// Mean over validation sequences of the standard deviation of the five predictions.
    pub within_sequence_spread: f64,
    /// The same spread over the last five of [`FED_BACK_STEPS`] values the
    /// model feeds back (where its prediction settles).
    pub late_spread: f64,
    /// The last epoch's one-step loss on the validation sequences against
    /// the next values (teacher-forced, whatever the run trained on).
    pub final_next_value_loss: f64,
    /// The continuation's error before training and after each epoch, where recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_epoch: Option<PerEpoch>,
    /// Wall time of training.
    pub training_seconds: f64,
}

/// The continuation predicted the run's way, scored before training
/// (index 0) and after each epoch (index `e`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerEpoch {
    /// MSE of the five predicted values against the truth, on the training sequences.
    pub train_mse: Vec<f64>,
    /// The same on the validation sequences.
    pub val_mse: Vec<f64>,
    /// Mean squared difference between the five predicted values and the
    /// 5th seed (their departure from a flat line where the seeds end), on
    /// the training sequences.
    pub train_departure: Vec<f64>,
    /// The same on the validation sequences.
    pub val_departure: Vec<f64>,
}

/// One trained run of the asker's model.
pub(super) struct AskerTrained<'a> {
    pub run: &'a AskerRun,
    pub metrics: AskerMetrics,
    /// Its five values per validation sequence, flattened.
    pub prediction: Vec<f32>,
}

/// Trains one run of the asker's model, writes its history and measures
/// its continuation of the validation set.
pub(super) fn train_asker<'a>(
    run: &'a AskerRun,
    ctx: &mut SeedContext<'_>,
    data: &Data,
    baseline: f64,
) -> Result<AskerTrained<'a>, ExperimentError> {
    seqlab_train::seed_all(ctx.seed);
    let mut vs = VarStore::new(ctx.device);
    let shape = NextStepConfig {
        width: run.width,
        trainable_state: run.trainable_state,
        ..NextStepConfig::forum()
    };
    let m = next_step_lstm(vs.root() / "asker", &shape)?;
    let epochs = ctx.epochs_or(run.epochs)?;
    let label = format!("asker {}", run.name);
    let mut fc = ctx.base_fit(
        label,
        epochs,
        run.batch_size,
        OptimizerConfig::adam(run.lr),
        Loss::Mse,
    );
    fc.shuffle = run.shuffle;
    let (report, per_epoch) = fit_run(run, &mut vs, &m, data, fc)?;
    ctx.out
        .write_history(&format!("asker_{}", run.name), &report.history)?;
    let p = asker_prediction(&m, &data.next_val.x, run.slipped_prediction, N_STEPS)?;
    let prediction = Vec::<f32>::try_from(&p.f_reshape([-1])?)?;
    let late = asker_prediction(&m, &data.next_val.x, run.slipped_prediction, FED_BACK_STEPS)?
        .f_narrow(1, (FED_BACK_STEPS - N_STEPS) as i64, N_STEPS as i64)?;
    let validation_mse = mean_squared_error(&prediction, data.val.continuation.data());
    let metrics = AskerMetrics {
        what: run.what.to_string(),
        training_targets: run.targets.describe().into(),
        prediction: prediction_method(run.slipped_prediction).into(),
        batch_size: run.batch_size,
        shuffled: run.shuffle,
        updates_per_epoch: data.train.len().div_ceil(run.batch_size.max(1)),
        trainable_state: run.trainable_state,
        width: run.width,
        epochs,
        lr: run.lr,
        parameters: m.summary(&[9, 1]).total_keras_params(),
        validation_mse,
        ratio_to_baseline: validation_mse / baseline,
        within_sequence_spread: within_spread(&prediction),
        late_spread: within_spread(&Vec::<f32>::try_from(&late.f_reshape([-1])?)?),
        final_next_value_loss: report.history.last("val_loss").unwrap_or(f64::NAN),
        per_epoch,
        training_seconds: report.seconds,
    };
    Ok(AskerTrained {
        run,
        metrics,
        prediction,
    })
}

/// Fits the model on the run's targets: one fixed training set (with the
/// per-epoch recorder when asked), or, for the targets as written, next
/// values in epoch 1 and the identity after.
fn fit_run(
    run: &AskerRun,
    vs: &mut VarStore,
    m: &NextStepLstm,
    data: &Data,
    fc: seqlab_train::fit::FitConfig,
) -> Result<(FitReport, Option<PerEpoch>), ExperimentError> {
    let next = asker_training_data(&data.next_train, false)?;
    let identity = asker_training_data(&data.next_train, true)?;
    if run.targets == TrainingTargets::NextThenInputs {
        if run.per_epoch {
            return Err(ExperimentError::InvalidOption(format!(
                "asker run {}: the per-epoch record needs one fixed training set",
                run.name
            )));
        }
        let mut epoch_data = |epoch: usize| -> Result<TensorData, TrainError> {
            let d = if run.targets.identity_at(epoch) {
                &identity
            } else {
                &next
            };
            Ok(d.shallow_clone())
        };
        let r = fit_stream(vs, m, &mut epoch_data, Some(&data.asker_val), fc)?;
        return Ok((r, None));
    }
    let train = if run.targets.identity_at(0) {
        identity
    } else {
        next
    };
    if !run.per_epoch {
        return Ok((
            fit_with_callbacks(vs, m, &train, Some(&data.asker_val), fc, &mut [])?,
            None,
        ));
    }
    let mut recorder = Recorder::new(m, run.slipped_prediction, data)?;
    let r = fit_with_callbacks(
        vs,
        m,
        &train,
        Some(&data.asker_val),
        fc,
        &mut [&mut recorder],
    )?;
    Ok((r, Some(recorder.record)))
}

/// After every epoch, the continuation predicted the run's way, scored on
/// the training and the validation sequences.
struct Recorder<'a> {
    model: &'a NextStepLstm,
    slipped: bool,
    data: &'a Data,
    record: PerEpoch,
}

impl<'a> Recorder<'a> {
    /// A recorder that has scored the untrained model (index 0).
    fn new(model: &'a NextStepLstm, slipped: bool, data: &'a Data) -> Result<Self, TchError> {
        let mut r = Self {
            model,
            slipped,
            data,
            record: PerEpoch::default(),
        };
        r.score()?;
        Ok(r)
    }

    fn score(&mut self) -> Result<(), TchError> {
        let d = self.data;
        let mut scored = Vec::new();
        for (x, set) in [(&d.next_train.x, &d.train), (&d.next_val.x, &d.val)] {
            let p = asker_prediction(self.model, x, self.slipped, N_STEPS)?;
            let p = Vec::<f32>::try_from(&p.f_reshape([-1])?)?;
            let flat = fifth_seed_flat(set);
            scored.push((
                mean_squared_error(&p, set.continuation.data()),
                mean_squared_error(&p, &flat),
            ));
        }
        let r = &mut self.record;
        r.train_mse.push(scored[0].0);
        r.train_departure.push(scored[0].1);
        r.val_mse.push(scored[1].0);
        r.val_departure.push(scored[1].1);
        Ok(())
    }
}

impl Callback for Recorder<'_> {
    fn on_epoch_end(&mut self, _end: &EpochEnd<'_>) -> Result<Control, TrainError> {
        self.score()?;
        Ok(Control::Continue)
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

/// The training data of the asker's model from the next-step view of a set
/// (`x` = values 1 to 9, `y` = values 2 to 10, both `[n, 9, 1]`): the
/// inputs, and the targets the loss scores (the five steps after the
/// warm-up). With `identity`, what the posted `batchSequences` returns (and
/// the raw sequences do at those steps): the targets are the *inputs* of
/// those steps.
pub fn asker_training_data(next: &TensorData, identity: bool) -> Result<TensorData, TchError> {
    let warmup = NextStepConfig::forum().warmup;
    let steps = next.x.size()[1] - warmup;
    let source = if identity { &next.x } else { &next.y };
    Ok(TensorData {
        x: next.x.copy(),
        y: source.f_narrow(1, warmup, steps)?.copy(),
    })
}

/// The asker's continuation of each sequence from `x` (values 1 to 9,
/// `[n, 9, 1]`): `steps` values, `[n, steps]`. With `slipped`, as the posted
/// `predictSequence` does it: a reset model reads only the 5th seed.
/// Otherwise it reads all five seeds first.
pub fn asker_prediction(
    model: &NextStepLstm,
    x: &Tensor,
    slipped: bool,
    steps: usize,
) -> Result<Tensor, TchError> {
    let context = if slipped {
        x.f_narrow(1, N_SEEDS as i64 - 1, 1)?
    } else {
        x.f_narrow(1, 0, N_SEEDS as i64)?
    };
    Ok(model.continue_from(&context, steps as i64))
}

/// The flat line where each sequence of `set` leaves off: its 5th seed
/// repeated for every continuation step, flattened like the predictions.
pub fn fifth_seed_flat(set: &ContinuationSet) -> Vec<f32> {
    (0..set.len())
        .flat_map(|i| std::iter::repeat_n(set.seeds.row(i)[N_SEEDS - 1], N_STEPS))
        .collect()
}

/// Mean squared difference of two equally long slices (NaN when empty).
pub fn mean_squared_error(a: &[f32], b: &[f32]) -> f64 {
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    sum / a.len().min(b.len()) as f64
}

/// Mean over sequences of the (population) standard deviation of their
/// `N_STEPS` values.
pub fn within_spread(values: &[f32]) -> f64 {
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
