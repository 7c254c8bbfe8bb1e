//! The three protocols: encoding the reviews, training under one protocol, scoring the test set.

use super::config::*;
use crate::experiment::SeedContext;
use crate::ExperimentError;
use seqlab_data::imdb::Review;
use seqlab_data::split::stratified_sample;
use seqlab_data::text::TextEncoder;
use seqlab_metrics::{
    balanced_accuracy_at, binary_confusion, roc_curve, youden_threshold, RocCurve,
};
use seqlab_models::sentiment::{sentiment_classifier, SentimentClassifier};
use seqlab_train::fit::{fit, predict as predict_logits, FitConfig, FitReport};
use seqlab_train::objective::{Loss, Metric};
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::seed_all;
use seqlab_train::tensors::TensorData;
use seqlab_train::History;
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Tensor};

/// Encoded reviews as tensors, with the reviews' file names.
pub(super) struct Encoded {
    pub(super) data: TensorData,
    pub(super) ids: Vec<String>,
    pub(super) labels: Vec<bool>,
}

impl Encoded {
    pub(super) fn new(
        encoder: &TextEncoder,
        reviews: &[&Review],
        split: &str,
        device: Device,
    ) -> Result<Self, ExperimentError> {
        let texts: Vec<&str> = reviews.iter().map(|r| r.text.as_str()).collect();
        let (ids, shape) = encoder.encode(&texts);
        let x = Tensor::f_from_slice(&ids)?
            .f_reshape([shape[0] as i64, shape[1] as i64])?
            .f_to_device(device)?;
        let labels: Vec<i64> = reviews.iter().map(|r| r.label()).collect();
        let y = Tensor::f_from_slice(&labels)?.f_to_device(device)?;
        Ok(Self {
            data: TensorData { x, y },
            ids: reviews.iter().map(|r| review_id(split, r)).collect(),
            labels: reviews.iter().map(|r| r.positive).collect(),
        })
    }

    pub(super) fn subset(&self, rows: &[usize]) -> Result<Self, ExperimentError> {
        let idx: Vec<i64> = rows.iter().map(|&i| i as i64).collect();
        let idx = Tensor::f_from_slice(&idx)?.f_to_device(self.data.x.device())?;
        Ok(Self {
            data: self.data.select(&idx),
            ids: rows.iter().map(|&i| self.ids[i].clone()).collect(),
            labels: rows.iter().map(|&i| self.labels[i]).collect(),
        })
    }
}

/// `test/pos/1234_8`: the review's path in the archive without `.txt`
/// (ids repeat across the four folders).
pub(super) fn review_id(split: &str, r: &Review) -> String {
    format!(
        "{split}/{}/{}_{}",
        if r.positive { "pos" } else { "neg" },
        r.id,
        r.rating
    )
}

/// A seeded stratified sample of `n` reviews (all when `n` is `None`), in the original order.
pub(super) fn sample(reviews: &[Review], n: Option<usize>, seed: u64, stream: u64) -> Vec<&Review> {
    let labels: Vec<bool> = reviews.iter().map(|r| r.positive).collect();
    stratified_sample(&labels, n.unwrap_or(usize::MAX), seed, stream)
        .into_iter()
        .map(|i| &reviews[i])
        .collect()
}

/// Threshold-dependent results of a set of scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scored {
    /// ROC AUC.
    pub auc: f64,
    /// The decision threshold on the probability (predict positive iff `p >= threshold`).
    pub threshold: f64,
    /// Where the threshold was chosen: the test set or the validation split.
    pub threshold_from: String,
    /// Balanced accuracy at the threshold.
    pub balanced_accuracy: f64,
    /// Plain accuracy at the threshold.
    pub accuracy: f64,
    /// Confusion matrix at the threshold: rows = truth (negative, positive), columns = prediction.
    pub confusion: Vec<Vec<u64>>,
}

pub(super) fn score(
    probs: &[f64],
    truth: &[bool],
    threshold: f64,
    from: &'static str,
) -> Result<(Scored, RocCurve), ExperimentError> {
    let roc = roc_curve(probs, truth)?;
    let auc = seqlab_metrics::auc(&roc)?;
    let confusion = binary_confusion(probs, truth, threshold)?;
    Ok((
        Scored {
            auc,
            threshold,
            threshold_from: from.to_string(),
            balanced_accuracy: balanced_accuracy_at(probs, truth, threshold)?,
            accuracy: confusion.accuracy()?,
            confusion: confusion.to_rows(),
        },
        roc,
    ))
}

/// Per-protocol numbers in `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProtocolMetrics {
    /// What the protocol validates on.
    pub validation: String,
    /// Training reviews the model was fitted on.
    pub train_reviews: usize,
    /// Validation reviews.
    pub validation_reviews: usize,
    /// Epoch (1-based) whose weights were restored: the lowest val_loss.
    pub best_epoch: usize,
    /// Epochs trained before early stopping (or the limit).
    pub epochs_run: usize,
    /// The lowest validation loss.
    pub best_val_loss: f64,
    /// Learning rate at the last epoch.
    pub final_lr: f64,
    /// Test-set results.
    pub test: Scored,
    /// Wall time of training (seconds).
    pub training_seconds: f64,
}

pub(super) struct Trained {
    pub(super) metrics: ProtocolMetrics,
    pub(super) history: History,
    pub(super) probs: Vec<f64>,
    pub(super) roc: RocCurve,
    pub(super) vs: VarStore,
}

pub(super) fn fit_config(
    config: &ImdbConfig,
    ctx: &SeedContext<'_>,
    label: &str,
) -> Result<FitConfig, ExperimentError> {
    let mut fc = ctx.base_fit(
        label.to_string(),
        ctx.epochs_or(config.max_epochs)?,
        config.batch_size,
        OptimizerConfig::keras_adam(config.lr),
        Loss::BinaryCrossEntropyWithLogits,
    );
    fc.metrics = vec![Metric::BinaryAccuracy { threshold: 0.0 }];
    fc.eval_batch_size = 1_000;
    config.callbacks.install(&mut fc)?;
    Ok(fc)
}

pub(super) fn build(
    config: &ImdbConfig,
    device: Device,
) -> Result<(VarStore, SentimentClassifier), ExperimentError> {
    let vs = VarStore::new(device);
    let model = sentiment_classifier(vs.root() / "imdb", &config.model)?;
    Ok((vs, model))
}

pub(super) fn probabilities(
    model: &SentimentClassifier,
    x: &Tensor,
) -> Result<Vec<f64>, ExperimentError> {
    let logits = predict_logits(model, x, 1_000)?;
    let p = logits
        .f_sigmoid()?
        .f_reshape([-1])?
        .f_to_kind(tch::Kind::Double)?;
    Ok(Vec::<f64>::try_from(&p)?)
}

/// Trains one protocol: fits `train`, validates on `val` (early stopping,
/// the schedule, and with `threshold_on_validation` the threshold), scores `test`.
pub(super) fn train_protocol(
    config: &ImdbConfig,
    ctx: &SeedContext<'_>,
    label: &str,
    validation: &str,
    (train, val, test): (&Encoded, &Encoded, &Encoded),
    threshold_on_validation: bool,
) -> Result<Trained, ExperimentError> {
    seed_all(ctx.seed);
    let (mut vs, model) = build(config, ctx.device)?;
    let report: FitReport = fit(
        &mut vs,
        &model,
        &train.data,
        Some(&val.data),
        fit_config(config, ctx, label)?,
    )?;
    let history = report.history;
    let val_loss = history.column("val_loss").unwrap_or_default();
    let (best_i, best_val_loss) =
        val_loss
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |b, (i, v)| if v < b.1 { (i, v) } else { b },
            );
    let best_epoch = report.restored_epoch.unwrap_or(best_i + 1);
    let probs = probabilities(&model, &test.data.x)?;
    let (threshold, from) = if threshold_on_validation {
        let val_probs = probabilities(&model, &val.data.x)?;
        let roc = roc_curve(&val_probs, &val.labels)?;
        (youden_threshold(&roc)?.threshold, "validation split")
    } else {
        let roc = roc_curve(&probs, &test.labels)?;
        (
            youden_threshold(&roc)?.threshold,
            "test set (as in the book)",
        )
    };
    let (scored, roc) = score(&probs, &test.labels, threshold, from)?;
    Ok(Trained {
        metrics: ProtocolMetrics {
            validation: validation.to_string(),
            train_reviews: train.ids.len(),
            validation_reviews: val.ids.len(),
            best_epoch,
            epochs_run: history.len(),
            best_val_loss,
            final_lr: history
                .learning_rates()
                .last()
                .copied()
                .unwrap_or(config.lr),
            test: scored,
            training_seconds: report.seconds,
        },
        history,
        probs,
        roc,
        vs,
    })
}

/// Test-set differences, test-validated minus held-out protocol (same
/// training reviews, initialisation and shuffling).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ProtocolEffect {
    /// ROC AUC difference.
    pub auc: f64,
    /// Balanced-accuracy difference (as a fraction).
    pub balanced_accuracy: f64,
}
