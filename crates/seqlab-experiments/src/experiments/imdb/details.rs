//! One seed's details in `metrics.json` (settings, parameter counts, the
//! protocols' numbers), and what is read from them: the targets and the
//! terminal's headline.

use super::protocols::{ProtocolEffect, ProtocolMetrics, Scored};
use super::Published;
use crate::common::Target;
use seqlab_models::recurrent::RecurrentKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One seed's details in `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImdbDetails {
    /// The settings the seed ran with.
    pub settings: ImdbSettings,
    /// Parameter counts: libtorch's, Keras', the book's.
    pub parameters: Parameters,
    /// Per protocol (`book`, `held_out`, `test_validated`): its numbers.
    pub protocols: BTreeMap<String, ProtocolMetrics>,
    /// Test-validated minus held-out protocol.
    pub protocol_effect: ProtocolEffect,
    /// What the book prints for this model.
    pub published: Published,
}

/// The settings of one seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImdbSettings {
    /// The model's name (`imdb SimpleRNN`, `imdb LSTM`).
    pub model: String,
    /// Words kept by the Keras indexing.
    pub num_words: usize,
    /// Most frequent words skipped.
    pub skip_top: usize,
    /// Ids per review.
    pub maxlen: usize,
    /// Words of the vocabulary ranked on the training reviews.
    pub vocabulary_words: usize,
    /// Embedding width.
    pub embedding_dim: i64,
    /// Recurrent units.
    pub hidden_size: i64,
    /// Dropout after the embedding.
    pub embedding_dropout: f64,
    /// Dropout before the output layer.
    pub head_dropout: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// The optimiser.
    pub optimizer: String,
    /// Epochs at most.
    pub max_epochs: usize,
    /// EarlyStopping, described.
    pub early_stopping: String,
    /// ReduceLROnPlateau, described.
    pub reduce_lr: String,
    /// Share of the training reviews the held-out protocol validates on.
    pub val_fraction: f64,
    /// Training reviews.
    pub train_reviews: usize,
    /// Test reviews.
    pub test_reviews: usize,
}

/// Parameter counts of the model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Parameters {
    /// As libtorch stores them.
    pub libtorch: i64,
    /// As Keras counts them (one bias per recurrent layer).
    pub keras_count: i64,
    /// The book's summary.
    pub book: i64,
    /// Trainable (libtorch).
    pub trainable: i64,
    /// Why the counts differ.
    pub explanation: String,
}

/// The book's Youden threshold and confusion matrix (as its two rates:
/// specificity and sensitivity, whose mean is the balanced accuracy).
fn confusion_targets(cell: &str, book: &Published, test: &Scored) -> Vec<Target> {
    let [[tn, fp], [fn_, tp]] = book.confusion;
    let rate = |hit: u64, miss: u64| hit as f64 / (hit + miss).max(1) as f64;
    let measured = |row: usize, col: usize| -> f64 {
        let r = test.confusion.get(row);
        let hit = r.and_then(|r| r.get(col)).copied().unwrap_or(0);
        let miss = r.and_then(|r| r.get(1 - col)).copied().unwrap_or(0);
        if hit + miss == 0 {
            f64::NAN
        } else {
            rate(hit, miss)
        }
    };
    let source = format!("the book's IMDb {cell} confusion matrix at the Youden threshold");
    vec![
        Target::within(
            &format!("{cell} Youden threshold (book protocol)"),
            &format!("threshold {}", book.youden_threshold),
            test.threshold,
            0.0,
            1.0,
        )
        .published_at(book.youden_threshold)
        .source(&format!("the book's IMDb {cell} results"))
        .bounds(0.0, 1.0),
        Target::within(
            &format!("{cell} specificity at the Youden threshold (book protocol)"),
            &format!(
                "[[{tn} {fp}] [{fn_} {tp}]]: {tn} of {} negative reviews",
                tn + fp
            ),
            measured(0, 0),
            0.0,
            1.0,
        )
        .published_at(rate(tn, fp))
        .source(&source)
        .bounds(0.0, 1.0),
        Target::within(
            &format!("{cell} sensitivity at the Youden threshold (book protocol)"),
            &format!(
                "[[{tn} {fp}] [{fn_} {tp}]]: {tp} of {} positive reviews",
                fn_ + tp
            ),
            measured(1, 1),
            0.0,
            1.0,
        )
        .published_at(rate(tp, fn_))
        .source(&source)
        .bounds(0.0, 1.0),
    ]
}

/// The book's numbers for this model, and seqlab's stretch goal.
pub(super) fn targets(d: &ImdbDetails) -> Vec<Target> {
    let Some(b) = d.protocols.get("book") else {
        return Vec::new();
    };
    let (cell, book) = super::book_for(&d.settings.model);
    let mut targets = vec![
        Target::within(
            &format!("{cell} ROC AUC (book protocol)"),
            &format!("AUC {:.2}", book.auc),
            b.test.auc,
            book.auc,
            1.0,
        )
        .published_at(book.auc)
        .source(&format!("the book's IMDb {cell} results"))
        .bounds(0.0, 1.0),
        Target::within(
            &format!("{cell} balanced accuracy at the Youden threshold (book protocol)"),
            &format!("balanced accuracy {:.2}%", book.balanced_accuracy * 100.0),
            b.test.balanced_accuracy,
            book.balanced_accuracy,
            1.0,
        )
        .published_at(book.balanced_accuracy)
        .source(&format!(
            "the book's IMDb {cell} results, at the Youden-optimal threshold"
        ))
        .bounds(0.0, 1.0),
        Target::count(
            &format!("{cell} Keras-counted parameters"),
            &format!("{} total parameters", book.keras_params),
            d.parameters.keras_count,
            book.keras_params,
        )
        .source("the book's model summary"),
        Target::within(
            &format!("{cell} epoch of the lowest validation loss (book protocol)"),
            &format!("overfits after epoch {}", book.overfits_after_epoch),
            b.best_epoch as f64,
            1.0,
            f64::MAX,
        )
        .published_at(book.overfits_after_epoch as f64)
        .source(&format!("the book's IMDb {cell} results"))
        .bounds(1.0, f64::MAX),
    ];
    targets.extend(confusion_targets(cell, &book, &b.test));
    if cell == "SimpleRNN" {
        targets.extend(toy_simple_rnn());
    }
    if cell == "LSTM" {
        targets.push(
            Target::within(
                "LSTM ROC AUC, stretch (book protocol)",
                "seqlab's stretch goal: AUC at least 0.94 (the book prints 0.93)",
                b.test.auc,
                0.94,
                1.0,
            )
            .goal()
            .bounds(0.0, 1.0),
        );
    }
    targets
}

/// The book's first recurrent example, before the IMDb model: a Keras
/// `SimpleRNN(10)` on 5 steps of 2 features, whose summary prints 130
/// parameters. seqlab's SimpleRNN layer of that shape, counted as Keras
/// counts (one bias vector), against it. `None` only if the layer cannot be
/// built, which would be a bug.
fn toy_simple_rnn() -> Option<Target> {
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let config = seqlab_models::recurrent::RecurrentConfig::new(RecurrentKind::RnnTanh, 2, 10);
    let layer = seqlab_models::recurrent::recurrent(vs.root() / "toy", &config).ok()?;
    Some(
        Target::count(
            "the book's toy SimpleRNN(10) on 5 steps of 2 features: Keras-counted parameters",
            "\"Total params: 130\", \"Trainable params: 130\"",
            layer.keras_params(),
            130,
        )
        .source(
            "the book's chapter on recurrent networks, section \"Simple RNNs\", model.summary()",
        ),
    )
}

/// The terminal lines after the targets.
pub(super) fn headline(d: &ImdbDetails) -> Vec<String> {
    let get = |k: &str| d.protocols.get(k);
    let (Some(b), Some(h), Some(p)) = (get("book"), get("held_out"), get("test_validated")) else {
        return Vec::new();
    };
    vec![
        format!(
            "held-out protocol: AUC {:.4}, balanced accuracy {:.2}% (threshold {:.3} chosen on the validation split); book protocol: AUC {:.4}, {:.2}%",
            h.test.auc,
            h.test.balanced_accuracy * 100.0,
            h.test.threshold,
            b.test.auc,
            b.test.balanced_accuracy * 100.0
        ),
        format!(
            "validating on the test set, same {} training reviews: AUC {:+.4}, balanced accuracy {:+.2} points against the held-out protocol",
            h.train_reviews,
            d.protocol_effect.auc,
            d.protocol_effect.balanced_accuracy * 100.0
        ),
        format!(
            "best epochs {} (book), {} (held-out) and {} (test-validated); epochs run {}, {} and {}",
            b.best_epoch, h.best_epoch, p.best_epoch, b.epochs_run, h.epochs_run, p.epochs_run
        ),
    ]
}
