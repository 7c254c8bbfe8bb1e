//! The fit loop.

use crate::callbacks::{Callback, Control, EarlyStopping, EpochEnd, ReduceLrOnPlateau};
use crate::diagnostics::{StepProbe, StepRecord};
use crate::guard::guarded;
use crate::history::{EpochRecord, History};
use crate::objective::{Loss, Metric};
use crate::optim::OptimizerConfig;
use crate::progress::{epoch_line, FitProgress, Verbosity};
use crate::tensors::TensorData;
use crate::TrainError;
use seqlab_data::batch::EpochBatches;
use std::time::Instant;
use tch::nn::{ModuleT, VarStore};
use tch::Tensor;

/// Everything the fit loop needs besides the model and the data.
#[derive(Debug, Clone)]
pub struct FitConfig {
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Reshuffle the training samples every epoch (seeded).
    pub shuffle: bool,
    /// Seed of the per-epoch shuffling.
    pub seed: u64,
    /// Optimiser and initial learning rate.
    pub optimizer: OptimizerConfig,
    /// Training loss.
    pub loss: Loss,
    /// Metrics reported next to the loss (on training and validation data).
    pub metrics: Vec<Metric>,
    /// Keras `EarlyStopping`, if any.
    pub early_stopping: Option<EarlyStopping>,
    /// Keras `ReduceLROnPlateau`, if any.
    pub reduce_lr: Option<ReduceLrOnPlateau>,
    /// Clip the global gradient norm to this value, if set.
    pub clip_grad_norm: Option<f64>,
    /// Batch size for validation passes (defaults to `batch_size` when 0).
    pub eval_batch_size: usize,
    /// Keras' `validation_split`: when no validation data is given, hold
    /// out this fraction of the training samples (the last ones, before any
    /// shuffling, as Keras does) for validation. 0 (the default) holds out
    /// nothing; giving both a split and validation data is an error.
    pub validation_split: f64,
    /// Output.
    pub verbosity: Verbosity,
    /// Name shown in progress lines.
    pub label: String,
    /// Measure every optimiser step into [`FitReport::steps`] (see
    /// [`crate::diagnostics`]); off by default. Training is the same either way.
    pub record_steps: bool,
}

impl FitConfig {
    /// A configuration with these defaults: shuffling on with seed 0 (the
    /// same order every run; set `seed` to vary it), no metrics, no early
    /// stopping, no learning-rate schedule, no gradient clipping, validation
    /// batches of `batch_size`, no validation split, one line printed per
    /// epoch, label `"train"`, no step diagnostics.
    pub fn new(epochs: usize, batch_size: usize, optimizer: OptimizerConfig, loss: Loss) -> Self {
        Self {
            epochs,
            batch_size,
            shuffle: true,
            seed: 0,
            optimizer,
            loss,
            metrics: Vec::new(),
            early_stopping: None,
            reduce_lr: None,
            clip_grad_norm: None,
            eval_batch_size: 0,
            validation_split: 0.0,
            verbosity: Verbosity::Epochs,
            label: "train".into(),
            record_steps: false,
        }
    }
}

/// What [`fit`] returns.
#[derive(Debug, Clone)]
pub struct FitReport {
    /// Per-epoch history.
    pub history: History,
    /// 1-based epoch whose weights the model holds at the end, when
    /// early stopping restored the best weights.
    pub restored_epoch: Option<usize>,
    /// 1-based epoch at which early stopping stopped training.
    pub stopped_epoch: Option<usize>,
    /// Wall-clock seconds of the whole fit.
    pub seconds: f64,
    /// Every optimiser step, measured, when [`FitConfig::record_steps`] is
    /// set (else empty).
    pub steps: Vec<StepRecord>,
}

/// Loss and metrics of a model on a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Mean loss.
    pub loss: f64,
    /// `(name, value)` per metric.
    pub metrics: Vec<(String, f64)>,
}

impl Evaluation {
    /// The value of a metric by name (`loss` included).
    pub fn get(&self, name: &str) -> Option<f64> {
        if name == "loss" {
            return Some(self.loss);
        }
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }
}

/// `(start, len)` of consecutive batches of at most `batch_size` over `n` samples.
fn batch_ranges(n: i64, batch_size: usize) -> impl Iterator<Item = (i64, i64)> {
    let size = (batch_size as i64).max(1);
    (0..n)
        .step_by(size as usize)
        .map(move |start| (start, size.min(n - start)))
}

/// A copy of every variable, for restoring best (or last good) weights.
struct Snapshot(Vec<(String, Tensor)>);

impl Snapshot {
    fn take(vs: &VarStore) -> Self {
        tch::no_grad(|| {
            Snapshot(
                vs.variables()
                    .into_iter()
                    .map(|(n, t)| (n, t.detach().copy()))
                    .collect(),
            )
        })
    }

    fn restore(&self, vs: &VarStore) -> Result<(), TrainError> {
        let vars = vs.variables();
        tch::no_grad(|| {
            for (name, saved) in &self.0 {
                if let Some(var) = vars.get(name) {
                    var.shallow_clone().f_copy_(saved)?;
                }
            }
            Ok(())
        })
    }
}

/// Accumulates a sample-weighted mean loss, metric hit counts, and for
/// [`Metric::Auc`] the scores and labels of every sample.
struct Accumulator {
    loss_sum: f64,
    hits: Vec<f64>,
    ranked: Vec<(Vec<f64>, Vec<bool>)>,
    metrics: Vec<Metric>,
    n: f64,
}

impl Accumulator {
    fn new(metrics: &[Metric]) -> Self {
        Self {
            loss_sum: 0.0,
            hits: vec![0.0; metrics.len()],
            ranked: vec![(Vec::new(), Vec::new()); metrics.len()],
            metrics: metrics.to_vec(),
            n: 0.0,
        }
    }

    fn add(&mut self, loss: f64, output: &Tensor, target: &Tensor) -> Result<(), TrainError> {
        let n = output.size().first().copied().unwrap_or(0) as f64;
        self.loss_sum += loss * n;
        self.n += n;
        for ((h, r), m) in self
            .hits
            .iter_mut()
            .zip(&mut self.ranked)
            .zip(&self.metrics)
        {
            if *m == Metric::Auc {
                let (scores, labels) = m.scores(output, target)?;
                r.0.extend(scores);
                r.1.extend(labels);
            } else {
                *h += m.correct(output, target).0;
            }
        }
        Ok(())
    }

    fn loss(&self) -> f64 {
        self.loss_sum / self.n.max(1.0)
    }

    /// Each metric's value; an AUC over a single class is NaN.
    fn metric_values(&self) -> Vec<f64> {
        self.metrics
            .iter()
            .zip(self.hits.iter().zip(&self.ranked))
            .map(|(m, (h, (scores, labels)))| {
                if *m == Metric::Auc {
                    seqlab_metrics::roc_auc(scores, labels).unwrap_or(f64::NAN)
                } else {
                    h / self.n.max(1.0)
                }
            })
            .collect()
    }

    fn values(&self) -> Vec<f64> {
        let mut v = vec![self.loss()];
        v.extend(self.metric_values());
        v
    }
}

/// Checks that inputs and targets have the same number of samples.
fn check_pairing(what: &str, data: &TensorData) -> Result<(), TrainError> {
    let (xs, ys) = (data.x.size(), data.y.size());
    match (xs.first(), ys.first()) {
        (Some(a), Some(b)) if a == b => Ok(()),
        _ => Err(TrainError::InvalidConfig(format!(
            "{what}: inputs of shape {xs:?} and targets of shape {ys:?} do not hold the same number of samples"
        ))),
    }
}

/// Evaluates `model` on `data` in evaluation mode without gradients.
pub fn evaluate(
    model: &dyn ModuleT,
    data: &TensorData,
    loss: Loss,
    metrics: &[Metric],
    batch_size: usize,
) -> Result<Evaluation, TrainError> {
    if batch_size == 0 {
        return Err(TrainError::InvalidConfig(
            "evaluation batch size must be at least 1".into(),
        ));
    }
    check_pairing("evaluate", data)?;
    let acc = tch::no_grad(|| {
        let mut acc = Accumulator::new(metrics);
        for (start, len) in batch_ranges(data.len(), batch_size) {
            let b = data.narrow(start, len);
            let (out, l) = guarded(
                || format!("evaluate, samples {start}..{}", start + len),
                &b.x.size(),
                || {
                    let out = model.forward_t(&b.x, false);
                    let l = loss.compute(&out, &b.y).double_value(&[]);
                    (out, l)
                },
            )?;
            acc.add(l, &out, &b.y)?;
        }
        Ok::<_, TrainError>(acc)
    })?;
    Ok(Evaluation {
        loss: acc.loss(),
        metrics: metrics
            .iter()
            .zip(acc.metric_values())
            .map(|(m, v)| (m.name().to_string(), v))
            .collect(),
    })
}

/// Runs `model` on `x` in evaluation mode without gradients, in batches, and
/// concatenates the outputs.
pub fn predict(model: &dyn ModuleT, x: &Tensor, batch_size: usize) -> Result<Tensor, TrainError> {
    if batch_size == 0 {
        return Err(TrainError::InvalidConfig(
            "prediction batch size must be at least 1".into(),
        ));
    }
    let n = x.size().first().copied().unwrap_or(0);
    if n == 0 {
        return Err(TrainError::InvalidConfig(format!(
            "predict: the input of shape {:?} holds no samples",
            x.size()
        )));
    }
    tch::no_grad(|| {
        let outs = batch_ranges(n, batch_size)
            .map(|(start, len)| {
                let b = x.narrow(0, start, len);
                guarded(
                    || format!("predict, samples {start}..{}", start + len),
                    &b.size(),
                    || model.forward_t(&b, false),
                )
            })
            .collect::<Result<Vec<Tensor>, TrainError>>()?;
        Ok(Tensor::f_cat(&outs, 0)?)
    })
}

/// What a model's outputs are, which decides how they become probabilities
/// (named after the loss they are trained with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outputs {
    /// Class logits `[n, classes]` (trained with [`Loss::CrossEntropy`]): softmax.
    ClassLogits,
    /// One logit per sample, `[n]` or `[n, 1]` (trained with
    /// [`Loss::BinaryCrossEntropyWithLogits`]): sigmoid.
    BinaryLogit,
    /// One probability per sample, `[n]` or `[n, 1]` (the model ends in a
    /// sigmoid; trained with [`Loss::BinaryCrossEntropy`]): as they are.
    BinaryProbability,
}

/// Class probabilities of every sample of `x`, as plain vectors: one row
/// per sample, one probability per class (two for a binary model:
/// `[1 - p, p]`). Runs [`predict`] in batches of `batch_size`.
pub fn predict_proba(
    model: &dyn ModuleT,
    x: &Tensor,
    batch_size: usize,
    outputs: Outputs,
) -> Result<Vec<Vec<f64>>, TrainError> {
    let out = predict(model, x, batch_size)?;
    let n = out.size().first().copied().unwrap_or(0);
    let probs = match outputs {
        Outputs::ClassLogits => {
            if out.dim() != 2 {
                return Err(TrainError::InvalidConfig(format!(
                    "predict_proba: class logits must be [samples, classes], the model gave {:?}",
                    out.size()
                )));
            }
            out.f_softmax(-1, tch::Kind::Double)?
        }
        Outputs::BinaryLogit | Outputs::BinaryProbability => {
            let p = binary_column(&out)?;
            let p = if outputs == Outputs::BinaryLogit {
                p.f_sigmoid()?
            } else {
                p
            };
            Tensor::f_cat(&[p.f_neg()?.f_add_scalar(1.0)?, p], 1)?
        }
    };
    let width = probs.size().get(1).copied().unwrap_or(0);
    let flat: Vec<f64> =
        Vec::<f64>::try_from(probs.f_to_kind(tch::Kind::Double)?.f_reshape([-1])?)?;
    Ok(flat
        .chunks(width.max(1) as usize)
        .take(n as usize)
        .map(<[f64]>::to_vec)
        .collect())
}

/// The probability of class 1 (the positive class) for every sample of
/// `x`: `sigmoid(logit)`, the probability itself, or the softmax of class 1
/// for two-class logits. The scores [`seqlab_metrics::roc_curve`] takes.
pub fn predict_positive(
    model: &dyn ModuleT,
    x: &Tensor,
    batch_size: usize,
    outputs: Outputs,
) -> Result<Vec<f64>, TrainError> {
    let rows = predict_proba(model, x, batch_size, outputs)?;
    rows.iter()
        .map(|r| match r.as_slice() {
            [_, p] => Ok(*p),
            other => Err(TrainError::InvalidConfig(format!(
                "predict_positive needs a binary model, this one gives {} classes",
                other.len()
            ))),
        })
        .collect()
}

/// The most probable class of every sample of `x` (ties to the lower
/// class), as `i64` like the labels of a seqlab data set.
pub fn predict_classes(
    model: &dyn ModuleT,
    x: &Tensor,
    batch_size: usize,
    outputs: Outputs,
) -> Result<Vec<i64>, TrainError> {
    let rows = predict_proba(model, x, batch_size, outputs)?;
    Ok(rows
        .iter()
        .map(|r| {
            let mut best = 0;
            for (i, p) in r.iter().enumerate() {
                if *p > r[best] {
                    best = i;
                }
            }
            best as i64
        })
        .collect())
}

/// `[n]` or `[n, 1]` as `[n, 1]`.
fn binary_column(out: &Tensor) -> Result<Tensor, TrainError> {
    let size = out.size();
    match size.as_slice() {
        [n] => Ok(out.f_reshape([*n, 1])?.f_to_kind(tch::Kind::Double)?),
        [_, 1] => Ok(out.f_to_kind(tch::Kind::Double)?),
        _ => Err(TrainError::InvalidConfig(format!(
            "a binary model gives one value per sample ([n] or [n, 1]), this one gave {size:?}"
        ))),
    }
}

fn column_names(metrics: &[Metric], with_val: bool) -> Vec<String> {
    let mut cols = vec!["loss".to_string()];
    cols.extend(metrics.iter().map(|m| m.name().to_string()));
    if with_val {
        let train = cols.clone();
        cols.extend(train.iter().map(|c| format!("val_{c}")));
    }
    cols
}

/// Trains `model` (whose variables live in `vs`) on `train`, validating on
/// `val` after every epoch (or on the `config.validation_split` fraction of
/// `train` held out).
///
/// The loop shuffles with `config.seed`, steps the optimiser per
/// mini-batch, records loss, metrics and learning rate per epoch, and feeds
/// the callbacks. With early stopping and restore-best, the weights of the
/// best epoch are restored at the end (also when training ran to the last
/// epoch). A non-finite loss stops training with
/// [`TrainError::NonFiniteLoss`] after restoring the best weights so far
/// (or those of the last completed epoch). An input the model cannot take
/// (wrong shape, type or device) is [`TrainError::Forward`], not a panic.
pub fn fit(
    vs: &mut VarStore,
    model: &dyn ModuleT,
    train: &TensorData,
    val: Option<&TensorData>,
    config: FitConfig,
) -> Result<FitReport, TrainError> {
    fit_with_callbacks(vs, model, train, val, config, &mut [])
}

/// [`fit`] with callbacks of your own (see [`Callback`]), called after each
/// epoch in order, after the built-in early stopping and learning-rate
/// schedule. For example [`ModelCheckpoint`](crate::callbacks::ModelCheckpoint)
/// and [`CsvLogger`](crate::callbacks::CsvLogger).
pub fn fit_with_callbacks(
    vs: &mut VarStore,
    model: &dyn ModuleT,
    train: &TensorData,
    val: Option<&TensorData>,
    config: FitConfig,
    callbacks: &mut [&mut dyn Callback],
) -> Result<FitReport, TrainError> {
    check_pairing("training data", train)?;
    if let Some(v) = val {
        check_pairing("validation data", v)?;
    }
    let split = config.validation_split;
    if split != 0.0 {
        if !(split > 0.0 && split < 1.0) {
            return Err(TrainError::InvalidConfig(format!(
                "validation_split must be in [0, 1), got {split}"
            )));
        }
        if val.is_some() {
            return Err(TrainError::InvalidConfig(
                "give either validation data or a validation_split, not both".into(),
            ));
        }
        // Keras: the first ceil(n * (1 - split)) samples train, the rest validate.
        let n = train.len();
        let keep = ((n as f64) * (1.0 - split)).ceil() as i64;
        if keep < 1 || keep >= n {
            return Err(TrainError::InvalidConfig(format!(
                "validation_split {split} of {n} samples leaves {keep} for training and {} for validation; both need at least one",
                n - keep
            )));
        }
        let (head, tail) = (train.narrow(0, keep), train.narrow(keep, n - keep));
        return run(
            vs,
            model,
            &mut |_| Ok(head.shallow_clone()),
            Some(&tail),
            config,
            callbacks,
        );
    }
    run(
        vs,
        model,
        &mut |_| Ok(train.shallow_clone()),
        val,
        config,
        callbacks,
    )
}

/// Like [`fit`], but the training data of every epoch comes from
/// `epoch_data(epoch)` (0-based): for tasks that draw fresh random
/// sequences each epoch, like the temporal-order course's 31 fresh batches.
/// The data of an epoch is still split into shuffled mini-batches of
/// `config.batch_size`. `validation_split` does not apply (it is an error).
pub fn fit_stream(
    vs: &mut VarStore,
    model: &dyn ModuleT,
    epoch_data: &mut dyn FnMut(usize) -> Result<TensorData, TrainError>,
    val: Option<&TensorData>,
    config: FitConfig,
) -> Result<FitReport, TrainError> {
    fit_stream_with_callbacks(vs, model, epoch_data, val, config, &mut [])
}

/// [`fit_stream`] with callbacks of your own, called after each epoch as in
/// [`fit_with_callbacks`].
pub fn fit_stream_with_callbacks(
    vs: &mut VarStore,
    model: &dyn ModuleT,
    epoch_data: &mut dyn FnMut(usize) -> Result<TensorData, TrainError>,
    val: Option<&TensorData>,
    config: FitConfig,
    callbacks: &mut [&mut dyn Callback],
) -> Result<FitReport, TrainError> {
    if config.validation_split != 0.0 {
        return Err(TrainError::InvalidConfig(
            "validation_split needs one fixed training set; fit_stream draws a new one each epoch"
                .into(),
        ));
    }
    run(vs, model, epoch_data, val, config, callbacks)
}

fn run(
    vs: &mut VarStore,
    model: &dyn ModuleT,
    epoch_data: &mut dyn FnMut(usize) -> Result<TensorData, TrainError>,
    val: Option<&TensorData>,
    config: FitConfig,
    callbacks: &mut [&mut dyn Callback],
) -> Result<FitReport, TrainError> {
    let started = Instant::now();
    let columns = checked_columns(&config, val.is_some(), callbacks)?;
    let eval_batch = if config.eval_batch_size == 0 {
        config.batch_size
    } else {
        config.eval_batch_size
    };
    let mut t = Training::new(vs, model, config)?;
    let mut history = History::new(columns.clone());
    let mut stopped_epoch = None;
    for epoch in 0..t.config.epochs {
        let epoch_start = Instant::now();
        let train = epoch_data(epoch)?;
        let mut values = t.train_epoch(epoch, &train)?;
        if let Some(v) = val {
            values.extend(t.validate(epoch, v, eval_batch)?);
        }
        let seconds = epoch_start.elapsed().as_secs_f64();
        if t.config.verbosity != Verbosity::Silent {
            let line = epoch_line(
                &t.config.label,
                epoch + 1,
                t.config.epochs,
                seconds,
                &columns,
                &values,
                t.opt.lr(),
            );
            crate::progress::say(format_args!("{line}"));
        }
        history.push(EpochRecord {
            epoch: epoch + 1,
            values: values.clone(),
            lr: t.opt.lr(),
            seconds,
        })?;
        if t.end_epoch(epoch, &columns, &values, &history, callbacks)? == Control::Stop {
            stopped_epoch = Some(epoch + 1);
            break;
        }
    }
    let restored_epoch = t.put_back_best()?;
    Ok(FitReport {
        history,
        restored_epoch,
        stopped_epoch,
        seconds: started.elapsed().as_secs_f64(),
        steps: t.steps,
    })
}

/// The history's columns, after checking the settings `run` relies on:
/// at least one epoch, a batch size, and every callback monitoring a column
/// the history has.
fn checked_columns(
    config: &FitConfig,
    with_val: bool,
    callbacks: &[&mut dyn Callback],
) -> Result<Vec<String>, TrainError> {
    if config.epochs == 0 {
        return Err(TrainError::InvalidConfig(
            "epochs must be at least 1".into(),
        ));
    }
    if config.batch_size == 0 {
        return Err(TrainError::InvalidConfig(
            "batch size must be at least 1".into(),
        ));
    }
    let columns = column_names(&config.metrics, with_val);
    for monitor in config
        .early_stopping
        .iter()
        .map(|e| e.monitor())
        .chain(config.reduce_lr.iter().map(|r| r.monitor()))
        .chain(callbacks.iter().filter_map(|c| c.monitor()))
    {
        if !columns.iter().any(|c| c == monitor) {
            return Err(TrainError::InvalidConfig(format!(
                "callback monitors {monitor:?}, but the history only has {}",
                columns.join(", ")
            )));
        }
    }
    Ok(columns)
}

/// What one `fit` carries from epoch to epoch besides the history.
struct Training<'a> {
    vs: &'a VarStore,
    model: &'a dyn ModuleT,
    config: FitConfig,
    opt: crate::optim::Optimizer,
    progress: FitProgress,
    probe: Option<StepProbe>,
    steps: Vec<StepRecord>,
    /// The best epoch (0-based) and its weights, with restore-best.
    best: Option<(usize, Snapshot)>,
    /// The weights after the last completed epoch, without restore-best.
    last_good: Option<Snapshot>,
    /// The last epoch's shuffled data, whose buffers the next one reuses.
    gathered: Option<TensorData>,
}

impl<'a> Training<'a> {
    fn new(
        vs: &'a VarStore,
        model: &'a dyn ModuleT,
        config: FitConfig,
    ) -> Result<Self, TrainError> {
        Ok(Self {
            vs,
            model,
            opt: config.optimizer.build(vs)?,
            progress: FitProgress::new(config.verbosity, &config.label, config.epochs),
            probe: config
                .record_steps
                .then(|| StepProbe::new(config.optimizer.kind)),
            steps: Vec::new(),
            best: None,
            last_good: None,
            gathered: None,
            config,
        })
    }

    fn restores_best(&self) -> bool {
        self.config
            .early_stopping
            .as_ref()
            .is_some_and(|e| e.restore_best_weights())
    }

    /// Puts back the best weights so far, or those of the last completed
    /// epoch (before a non-finite loss is reported).
    fn restore_fallback(&self) -> Result<(), TrainError> {
        let snapshot = self
            .best
            .as_ref()
            .map(|(_, s)| s)
            .or(self.last_good.as_ref());
        if let Some(s) = snapshot {
            s.restore(self.vs)?;
        }
        Ok(())
    }

    /// The epoch's data in this epoch's order. Reordered once (one gather,
    /// into the last epoch's buffers: nothing of that epoch is alive now),
    /// then each batch is a view: no per-batch index tensor or copy.
    /// Without shuffling the data is used as it is.
    fn arrange(
        &mut self,
        epoch: usize,
        train: &TensorData,
        batches: &EpochBatches,
    ) -> Result<TensorData, TrainError> {
        if !self.config.shuffle {
            return Ok(train.shallow_clone());
        }
        let order: Vec<i64> = batches.order(epoch).into_iter().map(|i| i as i64).collect();
        let order = Tensor::f_from_slice(&order)?.f_to_device(train.x.device())?;
        let data = train.select_into(&order, self.gathered.take())?;
        self.gathered = Some(data.shallow_clone());
        Ok(data)
    }

    /// One epoch of optimiser steps; the training loss and metrics.
    fn train_epoch(&mut self, epoch: usize, train: &TensorData) -> Result<Vec<f64>, TrainError> {
        check_pairing("training data", train)?;
        let batches = EpochBatches::new(
            train.len() as usize,
            self.config.batch_size,
            self.config.shuffle,
            self.config.seed,
        )?;
        let data = self.arrange(epoch, train, &batches)?;
        self.progress
            .start_epoch(epoch + 1, batches.batches_per_epoch());
        let mut acc = Accumulator::new(&self.config.metrics);
        let ranges = batch_ranges(train.len(), self.config.batch_size);
        for (batch_index, (start, len)) in ranges.enumerate() {
            if let Err(e) = self.step(epoch, batch_index + 1, &data.narrow(start, len), &mut acc) {
                self.progress.end_epoch();
                return Err(e);
            }
        }
        self.progress.end_epoch();
        Ok(acc.values())
    }

    /// One optimiser step on batch `batch_no` (1-based), added to `acc`.
    fn step(
        &mut self,
        epoch: usize,
        batch_no: usize,
        b: &TensorData,
        acc: &mut Accumulator,
    ) -> Result<(), TrainError> {
        let (model, loss_fn) = (self.model, self.config.loss);
        let (out, loss, value) = guarded(
            || {
                format!(
                    "{} epoch {}, batch {batch_no}",
                    self.config.label,
                    epoch + 1
                )
            },
            &b.x.size(),
            || {
                let out = model.forward_t(&b.x, true);
                let loss = loss_fn.compute(&out, &b.y);
                let value = loss.double_value(&[]);
                (out, loss, value)
            },
        )?;
        if !value.is_finite() {
            self.restore_fallback()?;
            return Err(TrainError::NonFiniteLoss {
                epoch: epoch + 1,
                batch: batch_no,
                value,
            });
        }
        self.opt.zero_grad()?;
        loss.f_backward()?;
        let at = (epoch + 1, batch_no, value);
        let clip = self.config.clip_grad_norm;
        let record = optimiser_step(&mut self.opt, clip, self.probe.as_mut(), at)?;
        self.steps.extend(record);
        tch::no_grad(|| acc.add(value, &out.detach(), &b.y))?;
        self.progress.batch_done(batch_no, acc.loss());
        Ok(())
    }

    /// The validation loss and metrics after `epoch`; a non-finite one is
    /// an error, after the fallback weights are put back.
    fn validate(
        &self,
        epoch: usize,
        val: &TensorData,
        eval_batch: usize,
    ) -> Result<Vec<f64>, TrainError> {
        let c = &self.config;
        let e = evaluate(self.model, val, c.loss, &c.metrics, eval_batch)?;
        let bad = std::iter::once(("loss".to_string(), e.loss))
            .chain(e.metrics.iter().map(|(n, m)| (n.to_string(), *m)))
            .find(|(_, x)| !x.is_finite());
        if let Some((what, value)) = bad {
            self.restore_fallback()?;
            return Err(TrainError::NonFiniteValidation {
                label: c.label.clone(),
                what,
                epoch: epoch + 1,
                value,
            });
        }
        let mut values = vec![e.loss];
        values.extend(e.metrics.iter().map(|(_, m)| *m));
        Ok(values)
    }

    /// Early stopping, the kept weights, the learning-rate schedule and the
    /// user's callbacks, in that order; whether to stop.
    fn end_epoch(
        &mut self,
        epoch: usize,
        columns: &[String],
        values: &[f64],
        history: &History,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<Control, TrainError> {
        let value_of = |name: &str| {
            columns
                .iter()
                .position(|c| c == name)
                .map(|i| values[i])
                .unwrap_or(f64::NAN)
        };
        let mut stop = false;
        let restore_best = self.restores_best();
        if let Some(es) = self.config.early_stopping.as_mut() {
            let decision = es.on_epoch_end(epoch, value_of(es.monitor()));
            if decision.improved && restore_best {
                self.best = Some((epoch, Snapshot::take(self.vs)));
            }
            stop = decision.stop;
        }
        if !restore_best {
            self.last_good = Some(Snapshot::take(self.vs));
        }
        if let Some(rlr) = self.config.reduce_lr.as_mut() {
            if let Some(new_lr) = rlr
                .on_epoch_end(value_of(rlr.monitor()), self.opt.lr())
                .new_lr
            {
                self.opt.set_lr(new_lr)?;
                if self.config.verbosity != Verbosity::Silent {
                    crate::progress::say(format_args!(
                        "{} epoch {}: ReduceLROnPlateau reducing learning rate to {new_lr:.3e}",
                        self.config.label,
                        epoch + 1
                    ));
                }
            }
        }
        for cb in callbacks.iter_mut() {
            let end = EpochEnd {
                epoch: epoch + 1,
                history,
                vs: self.vs,
                lr: self.opt.lr(),
            };
            if cb.on_epoch_end(&end)? == Control::Stop {
                stop = true;
            }
        }
        Ok(if stop {
            Control::Stop
        } else {
            Control::Continue
        })
    }

    /// After the last epoch: the best weights put back, with restore-best;
    /// the 1-based epoch they are from.
    fn put_back_best(&self) -> Result<Option<usize>, TrainError> {
        let Some((epoch, snapshot)) = &self.best else {
            return Ok(None);
        };
        snapshot.restore(self.vs)?;
        if self.config.verbosity != Verbosity::Silent {
            crate::progress::say(format_args!(
                "{}: restored the weights of epoch {}",
                self.config.label,
                epoch + 1
            ));
        }
        Ok(Some(epoch + 1))
    }
}

/// Clips the gradients (if `clip` is set) and steps `opt`; with a probe,
/// measures the step taken at `(epoch, batch, loss)`.
fn optimiser_step(
    opt: &mut crate::optim::Optimizer,
    clip: Option<f64>,
    mut probe: Option<&mut StepProbe>,
    (epoch, batch, loss): (usize, usize, f64),
) -> Result<Option<StepRecord>, TrainError> {
    if let Some(p) = probe.as_deref_mut() {
        p.before_clip(opt)?;
    }
    if let Some(max) = clip {
        opt.clip_grad_norm(max)?;
    }
    if let Some(p) = probe.as_deref_mut() {
        p.before_step(opt)?;
    }
    opt.step()?;
    probe
        .map(|p| p.after_step(opt, epoch, batch, loss))
        .transpose()
}
