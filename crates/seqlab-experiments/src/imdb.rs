//! IMDb sentiment (the book's sections on SimpleRNN and LSTM review
//! classifiers, with Keras' IMDb indexing): two experiments, `imdb-rnn`
//! and `imdb-lstm`, that differ only in the recurrent cell.
//!
//! From the raw reviews: a vocabulary ranked on the 25,000 training reviews,
//! Keras indexing with 10,000 words and the top 20 skipped, rows of 128 ids
//! (pre-padding, pre-truncation). The model is
//! [`seqlab_models::sentiment`]: `Embedding(10000, 64) -> Dropout(0.3) ->
//! SimpleRNN(32) | LSTM(32) -> BatchNorm -> Dropout(0.2) -> Dense(1, sigmoid)`,
//! trained with Adam (1e-3), binary cross-entropy, batch 100, up to 1,000
//! epochs, EarlyStopping(val_loss, patience 7, restore best) and
//! ReduceLROnPlateau(val_loss, factor 0.5, patience 3, min_delta 1e-4).
//!
//! Each experiment trains the model twice, under two protocols:
//! - **book**: validation on the test set, as the book does. Early stopping
//!   and the LR schedule then look at the test set, and so does the choice
//!   of the decision threshold (Youden's J on the test ROC).
//! - **held-out**: validation on 20% of the training reviews (a seeded,
//!   stratified split); the threshold is chosen on that validation split;
//!   the test set is touched once, at the end.
//!
//! The book protocol's model is the one saved (`model.safetensors`, with
//! `vocabulary.tsv` and `model.json` beside it) and served by
//! `seqlab predict`.

use crate::aggregate::{AggregateExtra, SeedFolder};
use crate::common::{base_fit, epochs_or, ResultsDir, Target, ValLossCallbacks};
use crate::runner::{run_into, SeedOutcome};
use crate::{ExperimentError, RunOptions, RunOutcome};
use seqlab_data::datadir::DataDir;
use seqlab_data::imdb::Review;
use seqlab_data::rng::streams;
use seqlab_data::split::{stratified_sample, stratified_split};
use seqlab_data::text::{KerasIndex, Side, TextEncoder, Vocabulary};
use seqlab_metrics::{
    balanced_accuracy_at, binary_confusion, roc_curve, youden_threshold, RocCurve, SeedSpread,
};
use seqlab_models::recurrent::{RecurrentInit, RecurrentKind};
use seqlab_models::sentiment::{sentiment_classifier, SentimentClassifier, SentimentConfig};
use seqlab_models::summary::thousands;
use seqlab_models::Model;
use seqlab_plot::{Figure, LineChart, Series};
use seqlab_train::checkpoint::{load_weights, save_weights};
use seqlab_train::fit::{fit, predict as predict_logits, FitConfig, FitReport};
use seqlab_train::objective::{Loss, Metric};
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::seed_all;
use seqlab_train::tensors::TensorData;
use seqlab_train::History;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tch::nn::VarStore;
use tch::{Device, Tensor};

/// The SimpleRNN experiment.
pub const RNN_NAME: &str = "imdb-rnn";
/// The LSTM experiment.
pub const LSTM_NAME: &str = "imdb-lstm";

/// The saved model's weights, in the results folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The saved vocabulary (`word<TAB>count`, rank order), beside the weights.
pub const VOCABULARY_FILE: &str = "vocabulary.tsv";
/// The saved model description read by [`predict`].
pub const MODEL_FILE: &str = "model.json";

/// The experiment's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ImdbConfig {
    /// The model (cell, sizes, dropouts, initialisation).
    pub model: SentimentConfig,
    /// Keras `num_words`: ids kept are below this.
    pub num_words: usize,
    /// Keras `skip_top`: ids below this become OOV.
    pub skip_top: usize,
    /// Row length after padding and truncation (both at the front).
    pub maxlen: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Upper bound on epochs (early stopping ends training before).
    pub max_epochs: usize,
    /// Adam's initial learning rate.
    pub lr: f64,
    /// EarlyStopping and ReduceLROnPlateau on val_loss.
    pub callbacks: ValLossCallbacks,
    /// Fraction of the training reviews held out for validation in the held-out protocol.
    pub val_fraction: f64,
    /// Use only this many training reviews (a seeded balanced sample); `None`: all.
    pub train_reviews: Option<usize>,
    /// Use only this many test reviews (a seeded balanced sample); `None`: all.
    pub test_reviews: Option<usize>,
}

impl ImdbConfig {
    /// The book's settings on all 50,000 reviews.
    pub fn full(kind: RecurrentKind) -> Self {
        Self {
            model: SentimentConfig::book(kind),
            num_words: 10_000,
            skip_top: 20,
            maxlen: 128,
            batch_size: 100,
            max_epochs: 1_000,
            lr: 1e-3,
            callbacks: ValLossCallbacks::book(7, 3),
            val_fraction: 0.2,
            train_reviews: None,
            test_reviews: None,
        }
    }

    /// 4,000 training and 1,000 test reviews, at most 4 epochs: seconds on a CPU.
    pub fn quick(kind: RecurrentKind) -> Self {
        Self {
            max_epochs: 4,
            train_reviews: Some(4_000),
            test_reviews: Some(1_000),
            ..Self::full(kind)
        }
    }

    fn validate(&self) -> Result<(), ExperimentError> {
        let bad = |m: String| Err(ExperimentError::InvalidOption(m));
        if !(self.val_fraction > 0.0 && self.val_fraction < 1.0) {
            return bad(format!(
                "validation fraction must be in (0, 1), got {}",
                self.val_fraction
            ));
        }
        if self.maxlen == 0 || self.batch_size == 0 {
            return bad("maxlen and batch size must be at least 1".into());
        }
        if self.num_words as i64 > self.model.vocab_size {
            return bad(format!(
                "num_words {} exceeds the embedding's {} rows",
                self.num_words, self.model.vocab_size
            ));
        }
        if matches!(self.train_reviews, Some(n) if n < 10)
            || matches!(self.test_reviews, Some(n) if n < 2)
        {
            return bad("use at least 10 training and 2 test reviews".into());
        }
        Ok(())
    }

    fn index(&self) -> KerasIndex {
        KerasIndex::with_limits(self.num_words, self.skip_top)
    }
}

/// The book's published numbers for one model.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Published {
    /// ROC AUC on the test set.
    pub auc: f64,
    /// Balanced accuracy at the Youden-optimal threshold.
    pub balanced_accuracy: f64,
    /// Confusion matrix, rows = truth (negative, positive), columns = prediction.
    pub confusion: [[u64; 2]; 2],
    /// Total parameters of the book's Keras summary.
    pub keras_params: i64,
    /// The recurrent layer's parameters in that summary.
    pub keras_recurrent_params: i64,
    /// When the book's validation loss starts rising.
    pub overfits_after_epoch: usize,
}

/// What the book reports for `kind` (SimpleRNN or LSTM).
pub fn published(kind: RecurrentKind) -> Published {
    match kind {
        RecurrentKind::Lstm => Published {
            auc: 0.93,
            balanced_accuracy: 0.8544,
            confusion: [[10459, 2041], [1598, 10902]],
            keras_params: 652_577,
            keras_recurrent_params: 12_416,
            overfits_after_epoch: 1,
        },
        _ => Published {
            auc: 0.92,
            balanced_accuracy: 0.8382,
            confusion: [[10273, 2227], [1818, 10682]],
            keras_params: 643_265,
            keras_recurrent_params: 3_104,
            overfits_after_epoch: 3,
        },
    }
}

/// One seed of `imdb-rnn` (the registry's entry).
pub fn run_seed_rnn(
    opts: &RunOptions,
    out: &mut ResultsDir,
) -> Result<SeedOutcome, ExperimentError> {
    seed_kind(RecurrentKind::RnnTanh, opts, out)
}

/// One seed of `imdb-lstm` (the registry's entry).
pub fn run_seed_lstm(
    opts: &RunOptions,
    out: &mut ResultsDir,
) -> Result<SeedOutcome, ExperimentError> {
    seed_kind(RecurrentKind::Lstm, opts, out)
}

fn seed_kind(
    kind: RecurrentKind,
    opts: &RunOptions,
    out: &mut ResultsDir,
) -> Result<SeedOutcome, ExperimentError> {
    let config = if opts.quick {
        ImdbConfig::quick(kind)
    } else {
        ImdbConfig::full(kind)
    };
    seed_run(&config, opts, out)
}

/// The experiment name for a recurrent cell.
pub fn name_of(kind: RecurrentKind) -> &'static str {
    match kind {
        RecurrentKind::Lstm => LSTM_NAME,
        _ => RNN_NAME,
    }
}

/// Encoded reviews as tensors, with the reviews' file names.
struct Encoded {
    data: TensorData,
    ids: Vec<String>,
    labels: Vec<bool>,
}

impl Encoded {
    fn new(
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

    fn subset(&self, rows: &[usize]) -> Result<Self, ExperimentError> {
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
fn review_id(split: &str, r: &Review) -> String {
    format!(
        "{split}/{}/{}_{}",
        if r.positive { "pos" } else { "neg" },
        r.id,
        r.rating
    )
}

/// A seeded stratified sample of `n` reviews (all when `n` is `None`), in the original order.
fn sample(reviews: &[Review], n: Option<usize>, seed: u64, stream: u64) -> Vec<&Review> {
    let labels: Vec<bool> = reviews.iter().map(|r| r.positive).collect();
    stratified_sample(&labels, n.unwrap_or(usize::MAX), seed, stream)
        .into_iter()
        .map(|i| &reviews[i])
        .collect()
}

/// Threshold-dependent results of a set of scores.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    /// ROC AUC.
    pub auc: f64,
    /// The decision threshold on the probability (predict positive iff `p >= threshold`).
    pub threshold: f64,
    /// Where the threshold was chosen: the test set or the validation split.
    pub threshold_from: &'static str,
    /// Balanced accuracy at the threshold.
    pub balanced_accuracy: f64,
    /// Plain accuracy at the threshold.
    pub accuracy: f64,
    /// Confusion matrix at the threshold: rows = truth (negative, positive), columns = prediction.
    pub confusion: Vec<Vec<u64>>,
}

fn score(
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
            threshold_from: from,
            balanced_accuracy: balanced_accuracy_at(probs, truth, threshold)?,
            accuracy: confusion.accuracy()?,
            confusion: confusion.to_rows(),
        },
        roc,
    ))
}

/// Per-protocol numbers in `metrics.json`.
#[derive(Debug, Clone, Serialize)]
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

struct Trained {
    metrics: ProtocolMetrics,
    history: History,
    probs: Vec<f64>,
    roc: RocCurve,
    vs: VarStore,
}

fn fit_config(
    config: &ImdbConfig,
    opts: &RunOptions,
    label: &str,
) -> Result<FitConfig, ExperimentError> {
    let mut fc = base_fit(
        opts,
        label.to_string(),
        epochs_or(opts, config.max_epochs)?,
        config.batch_size,
        OptimizerConfig::keras_adam(config.lr),
        Loss::BinaryCrossEntropyWithLogits,
    );
    fc.metrics = vec![Metric::BinaryAccuracy { threshold: 0.0 }];
    fc.eval_batch_size = 1_000;
    config.callbacks.install(&mut fc)?;
    Ok(fc)
}

fn build(
    config: &ImdbConfig,
    device: Device,
) -> Result<(VarStore, SentimentClassifier), ExperimentError> {
    let vs = VarStore::new(device);
    let model = sentiment_classifier(vs.root() / "imdb", &config.model)?;
    Ok((vs, model))
}

fn probabilities(model: &SentimentClassifier, x: &Tensor) -> Result<Vec<f64>, ExperimentError> {
    let logits = predict_logits(model, x, 1_000)?;
    let p = logits
        .f_sigmoid()?
        .f_reshape([-1])?
        .f_to_kind(tch::Kind::Double)?;
    Ok(Vec::<f64>::try_from(&p)?)
}

#[allow(clippy::too_many_arguments)]
fn train_protocol(
    config: &ImdbConfig,
    opts: &RunOptions,
    device: Device,
    label: &str,
    validation: &str,
    train: &Encoded,
    val: &Encoded,
    test: &Encoded,
    threshold_on_validation: bool,
) -> Result<Trained, ExperimentError> {
    seed_all(opts.seed);
    let (mut vs, model) = build(config, device)?;
    let report: FitReport = fit(
        &mut vs,
        &model,
        &train.data,
        Some(&val.data),
        fit_config(config, opts, label)?,
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

/// `model.json`: everything [`predict`] needs besides the weights and the vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    /// Experiment that trained it.
    pub experiment: String,
    /// `SimpleRNN` or `LSTM`.
    pub cell: String,
    /// Embedding rows.
    pub vocab_size: i64,
    /// Embedding width.
    pub embedding_dim: i64,
    /// Recurrent units.
    pub hidden_size: i64,
    /// Dropout after the embedding (training only).
    pub embedding_dropout: f64,
    /// Dropout before the dense layer (training only).
    pub head_dropout: f64,
    /// Keras `num_words`.
    pub num_words: usize,
    /// Keras `skip_top`.
    pub skip_top: usize,
    /// Keras `start_char`.
    pub start_char: Option<i64>,
    /// Keras `oov_char`.
    pub oov_char: Option<i64>,
    /// Keras `index_from`.
    pub index_from: i64,
    /// Row length; padding and truncation are both at the front.
    pub maxlen: usize,
    /// The Youden-optimal threshold found at training time.
    pub threshold: f64,
    /// Weights file, relative to this file.
    pub weights: String,
    /// Vocabulary file, relative to this file.
    pub vocabulary: String,
    /// Protocol the weights come from.
    pub protocol: String,
}

impl SavedModel {
    /// Checks every field against the bounds a model seqlab trains can
    /// have, so that a damaged or hand-edited `model.json` is an error that
    /// names the file and the field, before anything is allocated.
    pub fn validate(&self, path: &Path) -> Result<(), ExperimentError> {
        let bad = |field: &str, value: String, expected: &str| ExperimentError::Saved {
            path: path.to_path_buf(),
            message: format!("field {field} is {value}, expected {expected}"),
        };
        let int = |field: &str, v: i64, lo: i64, hi: i64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(bad(
                    field,
                    v.to_string(),
                    &format!("a whole number from {lo} to {hi}"),
                ))
            }
        };
        int("vocab_size", self.vocab_size, 2, 10_000_000)?;
        int("embedding_dim", self.embedding_dim, 1, 4096)?;
        int("hidden_size", self.hidden_size, 1, 4096)?;
        int("num_words", self.num_words as i64, 2, self.vocab_size)?;
        int(
            "skip_top",
            self.skip_top as i64,
            0,
            self.num_words as i64 - 1,
        )?;
        int("index_from", self.index_from, 0, 1000)?;
        int("maxlen", self.maxlen as i64, 1, 100_000)?;
        for (field, v) in [("start_char", self.start_char), ("oov_char", self.oov_char)] {
            if let Some(v) = v {
                int(field, v, 0, self.index_from.max(0) + 2)?;
            }
        }
        for (field, v) in [
            ("embedding_dropout", self.embedding_dropout),
            ("head_dropout", self.head_dropout),
        ] {
            if !(0.0..1.0).contains(&v) {
                return Err(bad(field, v.to_string(), "a number in [0, 1)"));
            }
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(bad(
                "threshold",
                self.threshold.to_string(),
                "a probability in [0, 1]",
            ));
        }
        for (field, v) in [("weights", &self.weights), ("vocabulary", &self.vocabulary)] {
            let plain = Path::new(v)
                .file_name()
                .is_some_and(|n| n == std::ffi::OsStr::new(v.as_str()));
            if !plain {
                return Err(bad(
                    field,
                    format!("{v:?}"),
                    "a file name in the model's folder",
                ));
            }
        }
        self.kind(path).map(|_| ())
    }

    /// The fewest parameters the described model has: the embedding and the
    /// recurrent weight matrices (biases, batch normalisation and the dense
    /// layer come on top).
    fn min_parameters(&self, path: &Path) -> Result<u64, ExperimentError> {
        let gates = self.kind(path)?.gates() as u64;
        let (v, e, h) = (
            self.vocab_size as u64,
            self.embedding_dim as u64,
            self.hidden_size as u64,
        );
        Ok(v * e + gates * h * (e + h))
    }

    /// Refuses a weights file too small for the described model before the
    /// model is allocated, so that a `model.json` describing a huge model
    /// (within each field's bounds, e.g. 10 million rows of 4,096 values)
    /// next to ordinary weights is an error, not an allocation of hundreds
    /// of gigabytes. Weights are 32-bit floats.
    fn check_weights_size(&self, path: &Path, weights: &Path) -> Result<(), ExperimentError> {
        let params = self.min_parameters(path)?;
        let need = 4 * params;
        let have = std::fs::metadata(weights)
            .map_err(|e| ExperimentError::Saved {
                path: weights.to_path_buf(),
                message: e.to_string(),
            })?
            .len();
        if have < need {
            return Err(ExperimentError::Saved {
                path: path.to_path_buf(),
                message: format!(
                    "describes a model with at least {params} parameters ({need} bytes as 32-bit floats), \
                     but its weights file {} holds {have} bytes: the weights are not this model's",
                    weights.display()
                ),
            });
        }
        Ok(())
    }

    fn kind(&self, path: &Path) -> Result<RecurrentKind, ExperimentError> {
        match self.cell.as_str() {
            "SimpleRNN" => Ok(RecurrentKind::RnnTanh),
            "LSTM" => Ok(RecurrentKind::Lstm),
            other => Err(ExperimentError::Saved {
                path: path.to_path_buf(),
                message: format!("unknown cell {other:?} (expected SimpleRNN or LSTM)"),
            }),
        }
    }

    fn sentiment_config(&self, path: &Path) -> Result<SentimentConfig, ExperimentError> {
        Ok(SentimentConfig {
            vocab_size: self.vocab_size,
            embedding_dim: self.embedding_dim,
            kind: self.kind(path)?,
            hidden_size: self.hidden_size,
            embedding_dropout: self.embedding_dropout,
            head_dropout: self.head_dropout,
            init: RecurrentInit::Keras,
        })
    }

    fn encoder(&self, vocab: Vocabulary) -> TextEncoder {
        TextEncoder {
            vocab,
            index: KerasIndex {
                num_words: Some(self.num_words),
                skip_top: self.skip_top,
                start_char: self.start_char,
                oov_char: self.oov_char,
                index_from: self.index_from,
            },
            maxlen: self.maxlen,
            padding: Side::Pre,
            truncating: Side::Pre,
        }
    }
}

#[derive(Serialize)]
struct Metrics {
    settings: Settings,
    parameters: Parameters,
    protocols: BTreeMap<&'static str, ProtocolMetrics>,
    protocol_effect: ProtocolEffect,
    published: Published,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct Settings {
    model: String,
    num_words: usize,
    skip_top: usize,
    maxlen: usize,
    vocabulary_words: usize,
    embedding_dim: i64,
    hidden_size: i64,
    embedding_dropout: f64,
    head_dropout: f64,
    batch_size: usize,
    optimizer: String,
    max_epochs: usize,
    early_stopping: String,
    reduce_lr: String,
    val_fraction: f64,
    train_reviews: usize,
    test_reviews: usize,
}

#[derive(Serialize)]
struct Parameters {
    libtorch: i64,
    keras_count: i64,
    book: i64,
    trainable: i64,
    explanation: String,
}

/// Runs one of the two experiments with explicit settings and writes its folder.
pub fn run_with(config: &ImdbConfig, opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
    run_into(name_of(config.model.kind), opts, |out| {
        seed_run(config, opts, out)
    })
}

/// One seed with explicit settings: the three protocols, their files in `out`.
pub fn seed_run(
    config: &ImdbConfig,
    opts: &RunOptions,
    out: &mut ResultsDir,
) -> Result<SeedOutcome, ExperimentError> {
    config.validate()?;
    let kind = config.model.kind;
    let name = name_of(kind);
    let device = opts.device.resolve()?;
    let data = DataDir::resolve(opts.data_dir.as_deref()).imdb()?;
    let train_reviews = sample(
        &data.train,
        config.train_reviews,
        opts.seed,
        streams::TRAIN_DATA,
    );
    let test_reviews = sample(
        &data.test,
        config.test_reviews,
        opts.seed,
        streams::TEST_DATA,
    );
    let full_vocab = Vocabulary::from_texts(train_reviews.iter().map(|r| r.text.as_str()));
    let index = config.index();
    // Words of rank above num_words - index_from - 1 are OOV anyway: keep only what the model can see.
    let kept_words = config
        .num_words
        .saturating_sub(usize::try_from(index.index_from).unwrap_or(0) + 1);
    let encoder = TextEncoder {
        vocab: full_vocab.truncated(kept_words),
        index,
        maxlen: config.maxlen,
        padding: Side::Pre,
        truncating: Side::Pre,
    };
    let train = Encoded::new(&encoder, &train_reviews, "train", device)?;
    let test = Encoded::new(&encoder, &test_reviews, "test", device)?;
    let (fit_rows, val_rows) = stratified_split(
        &train.labels,
        config.val_fraction,
        opts.seed,
        streams::SPLIT,
    )?;
    let fit_part = train.subset(&fit_rows)?;
    let val_part = train.subset(&val_rows)?;
    drop(data);

    let (_, probe) = build(config, Device::Cpu)?;
    let summary = probe.summary(&[config.maxlen as i64]);
    let book = published(kind);
    let cell = config.model.keras_layer();
    let explanation = format!(
        "libtorch counts {} parameters, Keras would count {}, the book's summary shows {}. The difference is the recurrent layer's second bias vector: libtorch keeps b_ih and b_hh ({} x {} = {} values), Keras one. BatchNormalization counts 4 values per feature in both, 2 of them (moving mean and variance) not trained.",
        summary.total_params(),
        summary.total_keras_params(),
        book.keras_params,
        config.model.kind.gates(),
        config.model.hidden_size,
        summary.total_params() - summary.total_keras_params(),
    );
    let summary_text = format!("{summary}{explanation}\n");
    if opts.verbose {
        seqlab_train::progress::say(format_args!("\n{summary_text}"));
    }

    let book_run = train_protocol(
        config,
        opts,
        device,
        &format!("{cell} book protocol"),
        "the test set (as in the book)",
        &train,
        &test,
        &test,
        false,
    )?;
    let held_out = train_protocol(
        config,
        opts,
        device,
        &format!("{cell} held-out protocol"),
        &format!(
            "{:.0}% of the training reviews (stratified, seeded)",
            config.val_fraction * 100.0
        ),
        &fit_part,
        &val_part,
        &test,
        true,
    )?;
    // The held-out protocol's training reviews, initialisation and shuffling,
    // validated on the test set: the paired difference with `held_out` is the
    // effect of validating on the test set alone.
    let paired = train_protocol(
        config,
        opts,
        device,
        &format!("{cell} test-validated protocol"),
        &format!(
            "the test set, fitting the held-out protocol's {} training reviews",
            fit_part.ids.len()
        ),
        &fit_part,
        &test,
        &test,
        false,
    )?;

    // Files: histories, plots, predictions, weights, vocabulary, model description.
    out.write_history("book", &book_run.history)?;
    out.write_history("held_out", &held_out.history)?;
    out.write_history("test_validated", &paired.history)?;
    plot_losses(
        &format!("IMDb {cell}: loss per epoch"),
        (&book_run.history, book_run.metrics.best_epoch),
        (&held_out.history, held_out.metrics.best_epoch),
        &out.path("loss.png"),
    )?;
    plot_roc(
        &format!(
            "IMDb {cell}: ROC on the {} test reviews",
            thousands(test.ids.len() as i64)
        ),
        &[
            ("book protocol", &book_run.roc, book_run.metrics.test.auc),
            (
                "held-out protocol",
                &held_out.roc,
                held_out.metrics.test.auc,
            ),
            (
                "test-validated, same training reviews",
                &paired.roc,
                paired.metrics.test.auc,
            ),
        ],
        &out.path("roc.png"),
    )?;
    out.write_gzip(
        PREDICTIONS_FILE,
        &predictions_csv(&test, &[&book_run.probs, &held_out.probs, &paired.probs]),
    )?;
    save_weights(&book_run.vs, out.path(WEIGHTS_FILE))?;
    encoder
        .vocab
        .save(&out.path(VOCABULARY_FILE))
        .map_err(seqlab_data::datadir::DatasetError::from)?;
    let saved = SavedModel {
        experiment: name.to_string(),
        cell: cell.to_string(),
        vocab_size: config.model.vocab_size,
        embedding_dim: config.model.embedding_dim,
        hidden_size: config.model.hidden_size,
        embedding_dropout: config.model.embedding_dropout,
        head_dropout: config.model.head_dropout,
        num_words: config.num_words,
        skip_top: config.skip_top,
        start_char: index.start_char,
        oov_char: index.oov_char,
        index_from: index.index_from,
        maxlen: config.maxlen,
        threshold: book_run.metrics.test.threshold,
        weights: WEIGHTS_FILE.to_string(),
        vocabulary: VOCABULARY_FILE.to_string(),
        protocol: "book (best val_loss on the test set)".to_string(),
    };
    out.write_json(MODEL_FILE, &saved)?;
    out.write_text("model.txt", &summary_text)?;

    let b = &book_run.metrics;
    let h = &held_out.metrics;
    let (auc_target, bal_target) = (book.auc, book.balanced_accuracy);
    let mut targets = vec![
        Target::within(
            &format!("{cell} ROC AUC (book protocol)"),
            &format!("{auc_target:.2}"),
            b.test.auc,
            auc_target,
            1.0,
        )
        .published_at(auc_target),
        Target::within(
            &format!("{cell} balanced accuracy at the Youden threshold (book protocol)"),
            &format!("{:.2}%", bal_target * 100.0),
            b.test.balanced_accuracy,
            bal_target,
            1.0,
        )
        .published_at(bal_target),
        Target::within(
            &format!("{cell} Keras-counted parameters"),
            &format!("{}", book.keras_params),
            summary.total_keras_params() as f64,
            book.keras_params as f64,
            book.keras_params as f64,
        )
        .published_at(book.keras_params as f64),
    ];
    if kind == RecurrentKind::Lstm {
        targets.push(
            Target::within(
                "LSTM ROC AUC, stretch (book protocol)",
                "0.93 (stretch goal 0.94)",
                b.test.auc,
                0.94,
                1.0,
            )
            .published_at(0.93),
        );
    }
    let p = &paired.metrics;
    let effect = ProtocolEffect {
        auc: p.test.auc - h.test.auc,
        balanced_accuracy: p.test.balanced_accuracy - h.test.balanced_accuracy,
    };
    let mut headline = vec![format!(
        "held-out protocol: AUC {:.4}, balanced accuracy {:.2}% (threshold {:.3} chosen on the validation split); book protocol: AUC {:.4}, {:.2}%",
        h.test.auc,
        h.test.balanced_accuracy * 100.0,
        h.test.threshold,
        b.test.auc,
        b.test.balanced_accuracy * 100.0
    )];
    headline.push(format!(
        "validating on the test set, same {} training reviews: AUC {:+.4}, balanced accuracy {:+.2} points against the held-out protocol",
        fit_part.ids.len(),
        effect.auc,
        effect.balanced_accuracy * 100.0
    ));
    headline.push(format!(
        "best epochs {} (book), {} (held-out) and {} (test-validated); epochs run {}, {} and {}",
        b.best_epoch, h.best_epoch, p.best_epoch, b.epochs_run, h.epochs_run, p.epochs_run
    ));

    let metrics = Metrics {
        settings: Settings {
            model: summary.name.clone(),
            num_words: config.num_words,
            skip_top: config.skip_top,
            maxlen: config.maxlen,
            vocabulary_words: full_vocab.len(),
            embedding_dim: config.model.embedding_dim,
            hidden_size: config.model.hidden_size,
            embedding_dropout: config.model.embedding_dropout,
            head_dropout: config.model.head_dropout,
            batch_size: config.batch_size,
            optimizer: OptimizerConfig::keras_adam(config.lr).describe(),
            max_epochs: epochs_or(opts, config.max_epochs)?,
            early_stopping: config.callbacks.describe_early_stopping(),
            reduce_lr: config.callbacks.describe_reduce_lr(),
            val_fraction: config.val_fraction,
            train_reviews: train.ids.len(),
            test_reviews: test.ids.len(),
        },
        parameters: Parameters {
            libtorch: summary.total_params(),
            keras_count: summary.total_keras_params(),
            book: book.keras_params,
            trainable: summary.trainable_params(),
            explanation,
        },
        protocols: BTreeMap::from([
            ("book", book_run.metrics.clone()),
            ("held_out", held_out.metrics.clone()),
            ("test_validated", paired.metrics.clone()),
        ]),
        protocol_effect: effect,
        published: book,
        notes: vec![
            "The vocabulary is ranked on the training reviews only, with seqlab's tokenizer (lowercase, <br /> and punctuation removed, apostrophes kept inside words); Keras never published the tokenizer behind imdb.npz, so word ranks and the 10,000-word cut differ slightly from the book's.".into(),
            "book protocol: early stopping, the LR schedule and the Youden threshold all look at the test set, as the book does. held-out protocol: they look at a validation split of the training reviews; the test set is scored once at the end.".into(),
            "test_validated: the held-out protocol's training reviews, initialisation and shuffling, but early stopping, the LR schedule and the threshold look at the test set. protocol_effect = test_validated - held_out: what validating on the test set alone changes.".into(),
            "The model outputs a logit and trains with binary cross-entropy on logits; its sigmoid is the book's Dense(1, sigmoid) output.".into(),
            "training_seconds are wall times (they vary between runs); every other number depends only on the seed on a CPU.".into(),
        ],
    };
    Ok(SeedOutcome::new(device, targets, &metrics)?
        .timing([
            ("book_training", b.training_seconds),
            ("held_out_training", h.training_seconds),
            ("test_validated_training", p.training_seconds),
        ])
        .headline(headline))
}

/// Test-set differences, test-validated minus held-out protocol (same
/// training reviews, initialisation and shuffling).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ProtocolEffect {
    /// ROC AUC difference.
    pub auc: f64,
    /// Balanced-accuracy difference (as a fraction).
    pub balanced_accuracy: f64,
}

/// One row per test review: `id,label` and one probability per protocol
/// ([`PREDICTION_COLUMNS`]); gzip-compressed (pandas and `zcat` read it as it is).
pub const PREDICTIONS_FILE: &str = "predictions.csv.gz";

/// Columns of the predictions table after `id,label`: one probability per protocol.
pub const PREDICTION_COLUMNS: [&str; 3] = [
    "probability",
    "probability_held_out",
    "probability_test_validated",
];

fn predictions_csv(test: &Encoded, probs: &[&[f64]; 3]) -> String {
    let mut s = format!("id,label,{}\n", PREDICTION_COLUMNS.join(","));
    for (i, id) in test.ids.iter().enumerate() {
        s.push_str(&format!("{id},{}", u8::from(test.labels[i])));
        for p in probs {
            s.push_str(&format!(",{:.6}", p.get(i).copied().unwrap_or(f64::NAN)));
        }
        s.push('\n');
    }
    s
}

fn plot_losses(
    title: &str,
    book: (&History, usize),
    held_out: (&History, usize),
    path: &Path,
) -> Result<(), ExperimentError> {
    let curve = |h: &History,
                 col: &str,
                 name: &str,
                 color: usize|
     -> Result<Option<Series>, ExperimentError> {
        let x: Vec<f64> = h.epochs().iter().map(|e| e.epoch as f64).collect();
        Ok(match h.column(col) {
            Some(y) => Some(Series::from_xy(name, &x, &y)?.color(color)),
            None => None,
        })
    };
    let panel = |h: &History, what: &str, best: usize| -> Result<LineChart, ExperimentError> {
        let mut c = LineChart::new(what)
            .x_label("epoch")
            .y_label("binary cross-entropy");
        if let Some(s) = curve(h, "loss", "train", 0)? {
            c = c.series(s);
        }
        if let Some(s) = curve(h, "val_loss", "validation", 1)? {
            c = c.series(s.dashed());
        }
        // A vertical marker at the restored epoch, spanning the plotted losses.
        let all: Vec<f64> = ["loss", "val_loss"]
            .iter()
            .filter_map(|col| h.column(col))
            .flatten()
            .filter(|v| v.is_finite())
            .collect();
        if let (Some(lo), Some(hi)) = (
            all.iter().copied().reduce(f64::min),
            all.iter().copied().reduce(f64::max),
        ) {
            let x = best as f64;
            // Headroom above the curves keeps the legend inside the plot.
            c = c.y_range(0.0, hi * 1.4);
            c = c.series(
                Series::from_xy(format!("best epoch {best}"), &[x, x], &[lo, hi])?
                    .color(7)
                    .dashed(),
            );
        }
        Ok(c)
    };
    let mut lr = LineChart::new("Learning rate (ReduceLROnPlateau)")
        .x_label("epoch")
        .y_label("learning rate")
        .log_y(true);
    for (h, name, color) in [
        (book.0, "book protocol", 0),
        (held_out.0, "held-out protocol", 2),
    ] {
        let x: Vec<f64> = h.epochs().iter().map(|e| e.epoch as f64).collect();
        let s = Series::from_xy(name, &x, &h.learning_rates())?.color(color);
        lr = lr.series(if color == 2 { s.dashed() } else { s });
    }
    Figure::new(1500, 460)
        .title(title)
        .grid(1, 3)
        .panel(panel(
            book.0,
            "Book protocol: validation = test set",
            book.1,
        )?)
        .panel(panel(
            held_out.0,
            "Held-out protocol: validation = 20% of train",
            held_out.1,
        )?)
        .panel(lr)
        .save_png(path)?;
    Ok(())
}

fn plot_roc(
    title: &str,
    curves: &[(&str, &RocCurve, f64)],
    path: &Path,
) -> Result<(), ExperimentError> {
    let series: Vec<seqlab_plot::RocSeries<'_>> = curves
        .iter()
        .map(|(name, roc, auc)| seqlab_plot::RocSeries {
            name,
            fpr: &roc.fpr,
            tpr: &roc.tpr,
            auc: *auc,
        })
        .collect();
    Ok(seqlab_plot::plot_roc(title, &series, path, 760, 700)?)
}

/// The folder holding an experiment's saved model: `<results>/<experiment>/`
/// after a single-seed run, or the lowest seed's folder under its `seeds/`
/// after a multi-seed run.
pub fn model_dir(results_dir: &Path, experiment: &str) -> PathBuf {
    let dir = results_dir.join(experiment);
    if dir.join(MODEL_FILE).is_file() {
        return dir;
    }
    crate::aggregate::seed_folders(&dir)
        .ok()
        .and_then(|seeds| {
            seeds
                .into_iter()
                .find(|s| s.dir.join(MODEL_FILE).is_file())
                .map(|s| s.dir)
        })
        .unwrap_or(dir)
}

/// Options of [`predict`].
#[derive(Debug, Clone)]
pub struct PredictOptions {
    /// Experiment whose saved model to use (`imdb-rnn` or `imdb-lstm`).
    pub experiment: String,
    /// Folder holding `<experiment>/`.
    pub results_dir: PathBuf,
    /// Decision threshold; `None`: the one saved with the model.
    pub threshold: Option<f64>,
    /// Device to run on.
    pub device: Device,
}

/// One scored review.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Probability that the review is positive.
    pub probability: f64,
    /// `probability >= threshold`.
    pub positive: bool,
    /// Tokens of the review the model saw (after truncation to `maxlen`, without padding).
    pub tokens_used: usize,
    /// Of those, tokens outside the vocabulary (or among the skipped top words).
    pub unknown_tokens: usize,
}

/// A trained review classifier loaded from a results folder.
pub struct Predictor {
    dir: PathBuf,
    saved: SavedModel,
    encoder: TextEncoder,
    model: SentimentClassifier,
    _vs: VarStore,
    device: Device,
    threshold: f64,
}

impl std::fmt::Debug for Predictor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Predictor")
            .field("saved", &self.saved)
            .finish()
    }
}

impl Predictor {
    /// Loads `<results_dir>/<experiment>/model.json` and the files it names,
    /// after checking that they are the run's: `model.json` is the
    /// experiment's, `manifest.json` lists it, the weights and the
    /// vocabulary with the SHA-256 they have, and every weight is finite.
    pub fn load(opts: &PredictOptions) -> Result<Self, ExperimentError> {
        if opts.experiment != RNN_NAME && opts.experiment != LSTM_NAME {
            return Err(ExperimentError::InvalidOption(format!(
                "predict works with {RNN_NAME} and {LSTM_NAME}, not {:?}",
                opts.experiment
            )));
        }
        let dir = model_dir(&opts.results_dir, &opts.experiment);
        let model_path = dir.join(MODEL_FILE);
        let saved = read_saved(opts, &model_path)?;
        let weights = dir.join(&saved.weights);
        if !weights.exists() {
            return Err(ExperimentError::NoTrainedModel {
                path: weights,
                experiment: opts.experiment.clone(),
                results_dir: opts.results_dir.clone(),
            });
        }
        crate::common::check_manifest_lists(
            &dir,
            &[
                MODEL_FILE,
                saved.weights.as_str(),
                saved.vocabulary.as_str(),
            ],
        )?;
        saved.check_weights_size(&model_path, &weights)?;
        let vocab = seqlab_data::text::Vocabulary::load(&dir.join(&saved.vocabulary))
            .map_err(seqlab_data::datadir::DatasetError::from)?;
        let encoder = saved.encoder(vocab);
        let cfg = saved.sentiment_config(&model_path)?;
        if encoder.input_dim() as i64 > cfg.vocab_size {
            return Err(ExperimentError::Saved {
                path: model_path,
                message: format!(
                    "the indexing produces ids up to {} but the embedding has {} rows",
                    encoder.input_dim() - 1,
                    cfg.vocab_size
                ),
            });
        }
        let mut vs = VarStore::new(opts.device);
        let model = sentiment_classifier(vs.root() / "imdb", &cfg)?;
        load_weights(&mut vs, &weights)?;
        check_finite(&vs, &weights)?;
        let threshold = opts.threshold.unwrap_or(saved.threshold);
        if !(0.0..=1.0).contains(&threshold) {
            return Err(ExperimentError::InvalidOption(format!(
                "threshold must be in [0, 1], got {threshold}"
            )));
        }
        Ok(Self {
            dir,
            saved,
            encoder,
            model,
            _vs: vs,
            device: opts.device,
            threshold,
        })
    }

    /// The saved model's description.
    pub fn saved(&self) -> &SavedModel {
        &self.saved
    }

    /// The folder the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The threshold in use.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Scores each text.
    pub fn predict<T: AsRef<str>>(&self, texts: &[T]) -> Result<Vec<Prediction>, ExperimentError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let raw: Vec<Vec<i64>> = texts.iter().map(|t| self.encoder.ids(t.as_ref())).collect();
        let start = usize::from(self.encoder.index.start_char.is_some());
        if let Some(i) = raw.iter().position(|r| r.len() <= start) {
            return Err(ExperimentError::InvalidOption(format!(
                "review {} has no words (only spaces or punctuation), so there is nothing to score",
                i + 1
            )));
        }
        let (ids, shape) = self.encoder.pad(&raw);
        let x = Tensor::f_from_slice(&ids)?
            .f_reshape([shape[0] as i64, shape[1] as i64])?
            .f_to_device(self.device)?;
        let probs = probabilities(&self.model, &x)?;
        let oov = self.encoder.index.oov_char;
        let maxlen = self.encoder.maxlen;
        Ok(raw
            .iter()
            .zip(probs)
            .map(|(raw, p)| {
                // Pre-truncation keeps the last maxlen ids (the start id goes first).
                let kept = if raw.len() > maxlen {
                    &raw[raw.len() - maxlen..]
                } else {
                    raw.get(start..).unwrap_or_default()
                };
                Prediction {
                    probability: p,
                    positive: p >= self.threshold,
                    tokens_used: kept.len(),
                    unknown_tokens: kept.iter().filter(|&&i| Some(i) == oov).count(),
                }
            })
            .collect())
    }
}

/// Reads and checks `model.json` (its fields, and that it is
/// `opts.experiment`'s model: a folder of another experiment copied in its
/// place is refused).
fn read_saved(opts: &PredictOptions, model_path: &Path) -> Result<SavedModel, ExperimentError> {
    let text = match std::fs::read_to_string(model_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ExperimentError::NoTrainedModel {
                path: model_path.to_path_buf(),
                experiment: opts.experiment.clone(),
                results_dir: opts.results_dir.clone(),
            })
        }
        Err(e) => {
            return Err(ExperimentError::Saved {
                path: model_path.to_path_buf(),
                message: e.to_string(),
            })
        }
    };
    let saved: SavedModel = serde_json::from_str(&text).map_err(|e| ExperimentError::Saved {
        path: model_path.to_path_buf(),
        message: e.to_string(),
    })?;
    saved.validate(model_path)?;
    if saved.experiment != opts.experiment {
        return Err(ExperimentError::Saved {
            path: model_path.to_path_buf(),
            message: format!(
                "field experiment is {:?}: this is the model of {}, not of {} (a folder copied in place of another?)",
                saved.experiment, saved.experiment, opts.experiment
            ),
        });
    }
    Ok(saved)
}

/// Refuses weights holding NaN or infinity (the model would score every
/// review NaN), naming the file and the first such variable.
fn check_finite(vs: &VarStore, weights: &Path) -> Result<(), ExperimentError> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, t) in vars {
        let finite = t.f_isfinite()?.f_all()?.f_int64_value(&[])? == 1;
        if !finite {
            return Err(ExperimentError::Saved {
                path: weights.to_path_buf(),
                message: format!(
                    "variable {name} holds NaN or infinite values: not usable weights"
                ),
            });
        }
    }
    Ok(())
}

/// Loads the saved model of `opts.experiment` and scores `texts`.
pub fn predict<T: AsRef<str>>(
    opts: &PredictOptions,
    texts: &[T],
) -> Result<Vec<Prediction>, ExperimentError> {
    Predictor::load(opts)?.predict(texts)
}

/// The protocols of one seed, in `metrics.json` and predictions-table order.
const PROTOCOLS: [(&str, &str); 3] = [
    ("book", "book protocol"),
    ("held_out", "held-out protocol"),
    ("test_validated", "test-validated, same training reviews"),
];

/// The true-positive rate of `roc` at false-positive rate `fpr` (the
/// highest point of the step curve at or left of it).
fn tpr_at(roc: &RocCurve, fpr: f64) -> f64 {
    roc.fpr
        .iter()
        .zip(&roc.tpr)
        .filter(|(f, _)| **f <= fpr)
        .map(|(_, t)| *t)
        .fold(0.0, f64::max)
}

/// One seed's test labels and per-protocol probabilities from its predictions table.
fn read_predictions(path: &Path) -> Result<(Vec<bool>, Vec<Vec<f64>>), ExperimentError> {
    let table = crate::common::CsvTable::read(path)?;
    let labels = table
        .column("label")?
        .into_iter()
        .map(|l| l == "1")
        .collect();
    let probs = PREDICTION_COLUMNS
        .iter()
        .map(|c| table.numbers(c))
        .collect::<Result<_, _>>()?;
    Ok((labels, probs))
}

/// The summary over seeds: `roc.png` with every seed's ROC curve, faint,
/// under the mean curve per protocol; per-protocol test AUC and balanced
/// accuracy over seeds; and the paired effect of validating on the test
/// set (test-validated minus held-out, same training reviews and seeds).
pub fn aggregate(seeds: &[SeedFolder], out: &Path) -> Result<AggregateExtra, ExperimentError> {
    let cell = seeds
        .first()
        .and_then(|s| s.metrics["settings"]["model"].as_str())
        .unwrap_or("model")
        .trim_start_matches("imdb ")
        .to_string();
    let grid: Vec<f64> = (0..=200).map(|i| f64::from(i) / 200.0).collect();
    let mut chart = seqlab_plot::roc_axes(format!(
        "IMDb {cell}: test ROC of {} seeds (faint) and their mean",
        seeds.len()
    ));
    let mut means: Vec<(usize, Vec<f64>)> = Vec::new();
    for seed in seeds {
        let (labels, probs) = read_predictions(&seed.dir.join(PREDICTIONS_FILE))?;
        // The book and held-out protocols: the comparison the report draws.
        for (i, p) in probs.iter().enumerate().take(2) {
            let roc = roc_curve(p, &labels)?;
            chart = chart.series(Series::from_xy("", &roc.fpr, &roc.tpr)?.color(i).faint());
            let at: Vec<f64> = grid.iter().map(|&f| tpr_at(&roc, f)).collect();
            match means.iter_mut().find(|(j, _)| *j == i) {
                Some((_, sum)) => sum.iter_mut().zip(&at).for_each(|(s, a)| *s += a),
                None => means.push((i, at)),
            }
        }
    }
    let mut metrics = Map::new();
    let mut table = String::from(
        "| protocol | test AUC, mean ± sd | [min, max] | 95% interval | balanced accuracy, mean ± sd | n |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let spread_of = |key: &str, field: &str| -> Result<SeedSpread, ExperimentError> {
        let values: Vec<f64> = seeds
            .iter()
            .map(|s| {
                s.metrics["protocols"][key]["test"][field]
                    .as_f64()
                    .unwrap_or(f64::NAN)
            })
            .collect();
        Ok(SeedSpread::of(&values)?)
    };
    let mut per_protocol = Map::new();
    for (i, (key, label)) in PROTOCOLS.iter().enumerate() {
        let auc = spread_of(key, "auc")?;
        let bal = spread_of(key, "balanced_accuracy")?;
        if let Some((_, sum)) = means.iter().find(|(j, _)| *j == i) {
            let mean: Vec<f64> = sum.iter().map(|v| v / seeds.len() as f64).collect();
            chart = chart.series(
                Series::from_xy(
                    format!("{label}: mean (AUC {:.3} ± {:.3})", auc.mean, auc.sd),
                    &grid,
                    &mean,
                )?
                .color(i),
            );
        }
        let _ = writeln!(
            table,
            "| {label} | {:.4} ± {:.4} | [{:.4}, {:.4}] | {} | {:.2}% ± {:.2} | {} |",
            auc.mean,
            auc.sd,
            auc.min,
            auc.max,
            interval(&auc, 4, 1.0),
            bal.mean * 100.0,
            bal.sd * 100.0,
            auc.n
        );
        per_protocol.insert(
            (*key).to_string(),
            json!({"test_auc": auc, "test_balanced_accuracy": bal}),
        );
    }
    chart = chart.series(
        Series::from_xy("chance (AUC = 0.5)", &[0.0, 1.0], &[0.0, 1.0])?
            .color(7)
            .dashed(),
    );
    chart.save_png(out.join("roc.png"), 760, 700)?;
    metrics.insert("protocols_over_seeds".into(), Value::Object(per_protocol));

    let effect = |field: &str| -> Result<(Vec<f64>, SeedSpread), ExperimentError> {
        let d: Vec<f64> = seeds
            .iter()
            .map(|s| {
                s.metrics["protocol_effect"][field]
                    .as_f64()
                    .unwrap_or(f64::NAN)
            })
            .collect();
        let spread = SeedSpread::of(&d)?;
        Ok((d, spread))
    };
    let (auc_d, auc_e) = effect("auc")?;
    let (bal_d, bal_e) = effect("balanced_accuracy")?;
    let train_reviews = seeds.first().map_or(Value::Null, |s| {
        s.metrics["protocols"]["held_out"]["train_reviews"].clone()
    });
    metrics.insert(
        "protocol_effect_over_seeds".into(),
        json!({
            "what": "test_validated minus held_out: same training reviews, initialisation and shuffling; only what early stopping, the LR schedule and the threshold look at differs",
            "train_reviews": train_reviews,
            "auc": {"per_seed": auc_d, "summary": auc_e},
            "balanced_accuracy": {"per_seed": bal_d, "summary": bal_e},
        }),
    );
    let paragraph = format!(
        "What validating on the test set alone changes (test-validated minus held-out protocol, paired by seed: the same {train_reviews} training reviews, initialisation and shuffling): test AUC {} (95% interval {}), balanced accuracy {} points (95% interval {}), over {} seeds; per seed AUC {}.",
        signed(auc_e.mean, auc_e.sd, 4, 1.0),
        interval(&auc_e, 4, 1.0),
        signed(bal_e.mean, bal_e.sd, 2, 100.0),
        interval(&bal_e, 2, 100.0),
        auc_e.n,
        auc_d.iter().map(|d| format!("{d:+.4}")).collect::<Vec<_>>().join(", ")
    );
    Ok(AggregateExtra {
        files: vec!["roc.png".into()],
        metrics,
        report: vec![table, paragraph],
    })
}

fn signed(mean: f64, sd: f64, decimals: usize, scale: f64) -> String {
    format!(
        "{:+.*} ± {:.*}",
        decimals,
        mean * scale,
        decimals,
        sd * scale
    )
}

fn interval(s: &SeedSpread, decimals: usize, scale: f64) -> String {
    match s.ci95 {
        Some([lo, hi]) => format!(
            "[{:+.*}, {:+.*}]",
            decimals,
            lo * scale,
            decimals,
            hi * scale
        ),
        None => "-".into(),
    }
}
