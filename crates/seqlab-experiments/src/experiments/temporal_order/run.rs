//! One seed's run: every level's models trained on fresh batches, tested
//! after each epoch, their histories, step diagnostics and plots written.

use super::config::{Correction, Level, ModelSpec, TemporalOrderConfig};
use super::details::{LevelResult, ModelResult};
use super::diagnosis::diagnose;
use crate::experiment::SeedContext;
use crate::ExperimentError;
use seqlab_data::temporal_order::{self, FreshBatches};
use seqlab_models::classifier::{seq_classifier, SeqClassifierConfig};
use seqlab_plot::{Figure, LineChart, Series};
use seqlab_train::callbacks::{Callback, Control, EpochEnd, ReduceLrOnPlateau};
use seqlab_train::diagnostics::StepRecord;
use seqlab_train::fit::{evaluate, fit_stream_with_callbacks, FitReport};
use seqlab_train::history::EpochRecord;
use seqlab_train::objective::{Loss, Metric};
use seqlab_train::tensors::{to_tensors, TensorData};
use seqlab_train::{seed_all, History, TrainError};
use std::collections::BTreeMap;
use std::path::Path;
use tch::nn::{ModuleT, VarStore};
use tch::Tensor;

/// Test and validation passes: sequences per batch.
const EVAL_BATCH: usize = 500;

/// Trains every model of `level` on fresh batches, writes their histories
/// (and step diagnostics where recorded) and the level's plot; returns its
/// result and the wall times by run.
pub(super) fn run_level(
    config: &TemporalOrderConfig,
    level: &Level,
    ctx: &mut SeedContext<'_>,
) -> Result<(LevelResult, Vec<(String, f64)>), ExperimentError> {
    let epochs = ctx.epochs_or(level.epochs)?;
    let (_, test) = temporal_order::generate_split(0, config.n_test, level.difficulty, ctx.seed)?;
    let test = to_tensors(&test, ctx.device)?;
    let mut histories = Vec::new();
    let mut models = BTreeMap::new();
    let mut timing = Vec::new();
    for spec in &level.models {
        let trained = train_model(config, level, spec, epochs, &test, ctx)?;
        let stem = format!("{}_{}", level.name, spec.label);
        write_run(ctx, &stem, spec, &trained)?;
        timing.push((stem, trained.report.seconds));
        let result = model_result(level, spec, &trained);
        models.insert(spec.label.to_string(), result);
        if plotted(spec) {
            histories.push((spec, trained.report.history));
        }
    }
    let png = ctx.out.path(&format!("{}.png", level.name));
    plot_level(level, &histories, &png)?;
    let result = LevelResult {
        difficulty: level.difficulty.to_string(),
        epochs,
        optimizer: level.optimizer.describe(),
        clip_grad_norm: level.clip_grad_norm,
        batch_size: config.batch_size,
        batches_per_epoch: config.batches_per_epoch,
        n_test: config.n_test,
        models,
    };
    Ok((result, timing))
}

/// Whether a run gets its own panel: not restore-best, whose training (and
/// so its test accuracy per epoch) is the as-configured run's.
pub(super) fn plotted(spec: &ModelSpec) -> bool {
    !matches!(spec.correction, Some(Correction::RestoreBest { .. }))
}

/// One trained model: its parameter count, the fit's report, and for
/// restore-best the epoch it kept.
struct Trained {
    params: i64,
    report: FitReport,
    kept: Option<Kept>,
}

/// What restore-best kept: the epoch, its validation numbers per epoch,
/// and the test accuracy of the kept weights.
struct Kept {
    epoch: usize,
    validation_accuracy: f64,
    test_accuracy: f64,
    validation: History,
}

/// Writes a run's history, its step diagnostics if recorded, and for
/// restore-best its validation history.
fn write_run(
    ctx: &mut SeedContext<'_>,
    stem: &str,
    spec: &ModelSpec,
    trained: &Trained,
) -> Result<(), ExperimentError> {
    ctx.out.write_history(stem, &trained.report.history)?;
    if spec.record_steps {
        let csv = StepRecord::to_csv(&trained.report.steps);
        ctx.out
            .write_gzip(&format!("{stem}_diagnostics.csv.gz"), &csv)?;
    }
    if let Some(kept) = &trained.kept {
        ctx.out
            .write_text(&format!("{stem}_validation.csv"), &kept.validation.to_csv())?;
    }
    Ok(())
}

/// Trains one model of `level` from the seed on freshly drawn batches,
/// testing after every epoch, with its correction if it has one.
fn train_model(
    config: &TemporalOrderConfig,
    level: &Level,
    spec: &ModelSpec,
    epochs: usize,
    test: &TensorData,
    ctx: &SeedContext<'_>,
) -> Result<Trained, ExperimentError> {
    seed_all(ctx.seed);
    let mut vs = VarStore::new(ctx.device);
    let cfg = SeqClassifierConfig {
        init: level.init,
        ..SeqClassifierConfig::stacked(
            temporal_order::N_FEATURES as i64,
            spec.kind,
            &[spec.hidden],
            4,
        )
    };
    // A correction's variables are named as the run it corrects (`lstm`),
    // so that both lay out their optimiser's buffer alike.
    let name = spec.label.split('_').next().unwrap_or(spec.label);
    let net = seq_classifier(vs.root() / name, &cfg)?;
    let params = vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    let epoch_size = config.batch_size * config.batches_per_epoch;
    let mut fresh = FreshBatches::new(level.difficulty, epoch_size, ctx.seed)?;
    let label = format!("{}/{}", level.name, spec.label);
    let mut fit_config = ctx.classification_fit(label, epochs, config.batch_size, level.optimizer);
    fit_config.shuffle = false; // every epoch's sequences are freshly drawn
    fit_config.clip_grad_norm = level.clip_grad_norm;
    fit_config.eval_batch_size = EVAL_BATCH;
    fit_config.record_steps = spec.record_steps;
    if let Some(Correction::LrDecayOnPlateau { factor, patience }) = spec.correction {
        fit_config.reduce_lr = Some(ReduceLrOnPlateau::new("loss", factor, patience)?);
    }
    let mut keep = match spec.correction {
        Some(Correction::RestoreBest { n_validation }) => {
            let val =
                temporal_order::generate_validation(n_validation, level.difficulty, ctx.seed)?;
            Some(KeepBest::new(&net, to_tensors(&val, ctx.device)?))
        }
        _ => None,
    };
    let mut callbacks: Vec<&mut dyn Callback> = keep.iter_mut().map(|k| k as _).collect();
    let device = ctx.device;
    let report = fit_stream_with_callbacks(
        &mut vs,
        &net,
        &mut |_| to_tensors(&fresh.next_batch(), device),
        Some(test),
        fit_config,
        &mut callbacks,
    )?;
    let kept = keep.map(|k| k.restore(&vs, &net, test)).transpose()?;
    Ok(Trained {
        params,
        report,
        kept,
    })
}

/// Restore-best's callback: after every epoch, the loss and accuracy on
/// the validation sequences, and a copy of the weights at each new lowest
/// validation loss.
struct KeepBest<'a> {
    model: &'a dyn ModuleT,
    data: TensorData,
    history: History,
    best: Option<BestEpoch>,
}

/// The epoch of lowest validation loss so far, with a copy of its weights.
struct BestEpoch {
    epoch: usize,
    loss: f64,
    accuracy: f64,
    weights: Vec<(String, Tensor)>,
}

impl<'a> KeepBest<'a> {
    fn new(model: &'a dyn ModuleT, data: TensorData) -> Self {
        let columns = vec!["validation_loss".into(), "validation_accuracy".into()];
        Self {
            model,
            data,
            history: History::new(columns),
            best: None,
        }
    }

    /// Puts the kept weights back into `vs` and tests them.
    fn restore(
        self,
        vs: &VarStore,
        net: &dyn ModuleT,
        test: &TensorData,
    ) -> Result<Kept, ExperimentError> {
        let Some(BestEpoch {
            epoch,
            accuracy: validation_accuracy,
            weights,
            ..
        }) = self.best
        else {
            return Err(ExperimentError::InvalidOption(
                "restore-best kept no epoch (no epoch was trained)".into(),
            ));
        };
        let vars = vs.variables();
        tch::no_grad(|| -> Result<(), TrainError> {
            for (name, saved) in &weights {
                if let Some(var) = vars.get(name) {
                    var.shallow_clone().f_copy_(saved)?;
                }
            }
            Ok(())
        })?;
        let e = evaluate(
            net,
            test,
            Loss::CrossEntropy,
            &[Metric::Accuracy],
            EVAL_BATCH,
        )?;
        Ok(Kept {
            epoch,
            validation_accuracy,
            test_accuracy: e.get("accuracy").unwrap_or(f64::NAN),
            validation: self.history,
        })
    }
}

impl Callback for KeepBest<'_> {
    fn on_epoch_end(&mut self, end: &EpochEnd<'_>) -> Result<Control, TrainError> {
        let e = evaluate(
            self.model,
            &self.data,
            Loss::CrossEntropy,
            &[Metric::Accuracy],
            EVAL_BATCH,
        )?;
        let accuracy = e.get("accuracy").unwrap_or(f64::NAN);
        self.history.push(EpochRecord {
            epoch: end.epoch,
            values: vec![e.loss, accuracy],
            lr: end.lr,
            seconds: 0.0,
        })?;
        if self.best.as_ref().is_none_or(|b| e.loss < b.loss) {
            let weights = tch::no_grad(|| {
                end.vs
                    .variables()
                    .into_iter()
                    .map(|(n, t)| (n, t.detach().copy()))
                    .collect()
            });
            self.best = Some(BestEpoch {
                epoch: end.epoch,
                loss: e.loss,
                accuracy,
                weights,
            });
        }
        Ok(Control::Continue)
    }
}

/// One model's numbers from its history (and steps, and what restore-best kept).
fn model_result(level: &Level, spec: &ModelSpec, trained: &Trained) -> ModelResult {
    let history = &trained.report.history;
    let test = history.column("val_accuracy").unwrap_or_default();
    let first_at_100 = test.iter().position(|&a| a >= 1.0).map(|i| i + 1);
    let lr = history.learning_rates();
    let kept = trained.kept.as_ref();
    ModelResult {
        model: format!("{}, hidden {}", spec.kind.name(), spec.hidden),
        params: trained.params,
        epochs: history.len(),
        final_train_accuracy: history.last("accuracy").unwrap_or(f64::NAN),
        final_test_accuracy: kept.map_or(test.last().copied().unwrap_or(f64::NAN), |k| {
            k.test_accuracy
        }),
        best_test_accuracy: test.iter().copied().fold(f64::NAN, f64::max),
        first_epoch_at_100: first_at_100,
        correction: spec.correction.map(|c| c.describe()),
        kept_epoch: kept.map(|k| k.epoch),
        kept_validation_accuracy: kept.map(|k| k.validation_accuracy),
        lr_reduced_after: (1..lr.len()).filter(|&i| lr[i] < lr[i - 1]).collect(),
        diagnosis: spec
            .record_steps
            .then(|| diagnose(&trained.report.steps, first_at_100, &level.optimizer)),
    }
}

/// `<level>.png` of one seed: train and test accuracy per epoch, a panel per run.
fn plot_level(
    level: &Level,
    histories: &[(&ModelSpec, History)],
    path: &Path,
) -> Result<(), ExperimentError> {
    let mut fig = Figure::new(1100, 440)
        .title(format!(
            "Temporal order, {}: train and test accuracy per epoch ({} fresh sequences per epoch)",
            level.difficulty,
            31 * 32
        ))
        .grid(1, histories.len().max(1));
    for (spec, h) in histories {
        let epochs: Vec<f64> = h.epochs().iter().map(|e| e.epoch as f64).collect();
        let train = h.column("accuracy").unwrap_or_default();
        let test = h.column("val_accuracy").unwrap_or_default();
        let chart = LineChart::new(panel_title(spec))
            .x_label("epoch")
            .y_label("accuracy")
            .y_range(0.0, 1.02)
            .series(Series::from_xy("train", &epochs, &train)?.color(0))
            .series(Series::from_xy("test", &epochs, &test)?.color(1).dashed());
        fig = fig.panel(chart);
    }
    Ok(fig.save_png(path)?)
}

/// A run's panel title: its cell and width, and its correction's short name.
fn panel_title(spec: &ModelSpec) -> String {
    let what = match spec.correction {
        None => "",
        Some(Correction::RestoreBest { .. }) => " (restore-best)",
        Some(Correction::LrDecayOnPlateau { .. }) => " (lr decay on plateau)",
    };
    format!("{}, hidden {}{what}", spec.kind.name(), spec.hidden)
}
