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
//! Each experiment trains the model three times, under three protocols:
//! - **book**: validation on the test set, as the book does. Early stopping
//!   and the LR schedule then look at the test set, and so does the choice
//!   of the decision threshold (Youden's J on the test ROC).
//! - **held-out**: validation on 20% of the training reviews (a seeded,
//!   stratified split); the threshold is chosen on that validation split;
//!   the test set is touched once, at the end.
//! - **test-validated**: the held-out protocol's training reviews,
//!   initialisation and shuffling, validated on the test set; its paired
//!   difference with the held-out protocol is the effect of validating on
//!   the test set alone.
//!
//! The book protocol's model is the one saved (`model.safetensors`, with
//! `vocabulary.tsv` and `model.json` beside it) and served by
//! `seqlab predict`.
//!
//! The module by concern: `config` (the full and quick profiles of
//! [`ImdbConfig`]), `protocols` (encoding, training and scoring one protocol),
//! `run` (one seed as named steps), `details` (what `metrics.json` records,
//! the targets read from it), `plots`, `saved` (the saved model's
//! description and checks), `predict` ([`Predictor`], what `seqlab predict`
//! serves) and `summary` (the summary over seeds).

mod config;
mod details;
mod plots;
mod predict;
mod protocols;
mod run;
mod saved;
mod summary;

pub use config::ImdbConfig;
pub use details::{ImdbDetails, ImdbSettings, Parameters};
pub use predict::{model_dir, predict, PredictOptions, Prediction, Predictor};
pub use protocols::{ProtocolEffect, ProtocolMetrics, Scored};
pub use saved::SavedModel;

use crate::aggregate::{SeedResult, SummaryExtra};
use crate::common::Target;
use crate::experiment::{Experiment, Outcome, SeedContext, SummaryContext};
use crate::record::{settings_of, Setting};
use crate::ExperimentError;
use seqlab_models::recurrent::RecurrentKind;
use seqlab_train::runtime::ThreadHint;
use serde::{Deserialize, Serialize};
use std::path::Path;

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

/// The book's published numbers for one model.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Published {
    /// ROC AUC on the test set.
    pub auc: f64,
    /// Balanced accuracy at the Youden-optimal threshold.
    pub balanced_accuracy: f64,
    /// The Youden-optimal threshold on the probability (absent in older files).
    #[serde(default)]
    pub youden_threshold: f64,
    /// Confusion matrix, rows = truth (negative, positive), columns = prediction.
    pub confusion: [[u64; 2]; 2],
    /// Total parameters of the book's Keras summary.
    pub keras_params: i64,
    /// The recurrent layer's parameters in that summary.
    pub keras_recurrent_params: i64,
    /// When the book's validation loss starts rising.
    pub overfits_after_epoch: usize,
    /// The training loss the book's log prints after the first epoch
    /// (absent in older files).
    #[serde(default)]
    pub first_epoch_loss: f64,
}

/// What the book reports for `kind` (SimpleRNN or LSTM).
pub fn published(kind: RecurrentKind) -> Published {
    match kind {
        RecurrentKind::Lstm => Published {
            auc: 0.93,
            balanced_accuracy: 0.8544,
            youden_threshold: 0.4425,
            confusion: [[10459, 2041], [1598, 10902]],
            keras_params: 652_577,
            keras_recurrent_params: 12_416,
            overfits_after_epoch: 1,
            first_epoch_loss: 0.3150,
        },
        _ => Published {
            auc: 0.92,
            balanced_accuracy: 0.8382,
            youden_threshold: 0.817,
            confusion: [[10273, 2227], [1818, 10682]],
            keras_params: 643_265,
            keras_recurrent_params: 3_104,
            overfits_after_epoch: 3,
            first_epoch_loss: 0.3542,
        },
    }
}

/// A model's cell name (`SimpleRNN`, `LSTM`, from `imdb SimpleRNN`) and
/// what the book reports for it.
pub(super) fn book_for(model: &str) -> (&str, Published) {
    let cell = model.trim_start_matches("imdb ");
    let kind = if cell == "LSTM" {
        RecurrentKind::Lstm
    } else {
        RecurrentKind::RnnTanh
    };
    (cell, published(kind))
}

/// The experiment name for a recurrent cell.
pub fn name_of(kind: RecurrentKind) -> &'static str {
    match kind {
        RecurrentKind::Lstm => LSTM_NAME,
        _ => RNN_NAME,
    }
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

/// Where the reproduction differs from the book, and the protocols it adds.
pub const DIFFERENCES: &[&str] = &[
    "The vocabulary is ranked on the training reviews only, with seqlab's tokenizer (lowercase, <br /> and punctuation removed, apostrophes kept inside words); Keras never published the tokenizer behind imdb.npz, so word ranks and the 10,000-word cut differ slightly from the book's.",
    "libtorch's LSTM/RNN keep two bias vectors: 32 (SimpleRNN) or 128 (LSTM) more stored parameters than Keras counts; the Keras-counted totals equal the book's.",
    "libtorch's batch norm updates its moving variance with the unbiased batch variance (Keras: biased).",
    "The model outputs a logit and trains with binary cross-entropy on logits; its sigmoid is the book's Dense(1, sigmoid) output.",
    "book protocol: early stopping, the LR schedule and the Youden threshold all look at the test set, as the book does (all 25,000 training reviews). held-out protocol: they look at a stratified 20% of the training reviews; the test set is scored once at the end. test-validated protocol: the held-out protocol's same training reviews, initialisation and shuffling, validated on the test set; its paired difference with the held-out protocol (protocol_effect) is the effect of validating on the test set alone.",
    "training_seconds are wall times (they vary between runs); every other number depends only on the seed on a CPU.",
];

/// How `imdb-rnn` and `imdb-lstm` work (they differ only in the recurrent cell).
pub const ABOUT: &str = r#"Sentiment of IMDb reviews, from the raw `aclImdb` reviews (25,000 training, 25,000 test): a vocabulary ranked on the training reviews, Keras-style indexing that keeps 10,000 words and skips the 20 most frequent, and 128 word ids per review (padded and truncated at the front). The model is the book's, initialised like Keras: Embedding(10,000, 64), Dropout(0.3), SimpleRNN(32) (`imdb-rnn`) or LSTM(32) (`imdb-lstm`), BatchNorm, Dropout(0.2), Dense(1, sigmoid). Adam (lr 1e-3), binary cross-entropy, batch 100, up to 1,000 epochs, early stopping and the learning rate halved on a plateau of the validation loss. Measures: the test ROC AUC, and the balanced accuracy at the Youden-optimal threshold.

Each seed trains the model three times, under the protocols defined in the differences below: the **book protocol** is the comparison with the book; the **held-out protocol** is an estimate whose choices never look at the test set; the **test-validated protocol** differs from the held-out one only in the reviews it validates on, so their paired difference is what validating on the test set changes.

A seed's folder holds the three training histories, `loss.png`, `roc.png`, `metrics.json`, `predictions.csv.gz` (one row per test review: its id, label and probability under each protocol; pandas and `zcat` read it as it is) and the book protocol's model (`model.safetensors`, not committed, with `vocabulary.tsv` and `model.json`). Score your own reviews with it (after a multi-seed run, the lowest seed's model is used):

```sh
seqlab run imdb-lstm    # trains and saves the model
seqlab predict imdb-lstm --text "A wonderful, moving film." --text "Dull and far too long."
seqlab predict imdb-lstm --file reviews.txt    # one review per line; - reads stdin
```

It prints each review's probability of being positive and its label at the Youden threshold saved with the model (`--threshold` overrides). Before serving it checks that the files are the run's: `model.json` names the experiment, the run's `manifest.json` lists the weights and the vocabulary with the SHA-256 they have now, and every weight is finite; otherwise it refuses, naming the file."#;

/// The IMDb SimpleRNN experiment.
#[derive(Debug, Clone, Copy)]
pub struct ImdbRnn;

/// The IMDb LSTM experiment.
#[derive(Debug, Clone, Copy)]
pub struct ImdbLstm;

/// The two experiments differ only in the recurrent cell.
macro_rules! imdb_experiment {
    ($ty:ty, $name:expr, $kind:expr, $after:expr, $description:expr) => {
        impl Experiment for $ty {
            type Config = ImdbConfig;
            type Details = ImdbDetails;
            const NAME: &'static str = $name;
            const DESCRIPTION: &'static str = $description;
            const DIFFERENCES: &'static [&'static str] = DIFFERENCES;
            const ABOUT: &'static str = ABOUT;
            const THREADS: ThreadHint = ThreadHint::Single;
            const HUGE_PAGES: bool = true;
            const FULL_SEEDS: usize = 5;
            const AFTER: Option<&'static str> = $after;

            fn config(quick: bool) -> ImdbConfig {
                if quick {
                    ImdbConfig::quick($kind)
                } else {
                    ImdbConfig::full($kind)
                }
            }

            fn run_seed(
                config: &ImdbConfig,
                ctx: &mut SeedContext<'_>,
            ) -> Result<Outcome<ImdbDetails>, ExperimentError> {
                run::seed_run(config, ctx)
            }

            fn targets(details: &ImdbDetails) -> Option<Vec<Target>> {
                Some(details::targets(details))
            }

            fn settings(details: &ImdbDetails) -> Vec<Setting> {
                let p = &details.parameters;
                let mut settings = settings_of(&details.settings);
                settings.push(Setting::new(
                    "Keras-counted parameters",
                    crate::common::keras_split(p.keras_count, Some(p.libtorch - p.trainable)),
                ));
                settings
            }

            fn epochs(details: &ImdbDetails) -> Vec<(String, usize)> {
                details
                    .protocols
                    .iter()
                    .map(|(name, p)| (name.clone(), p.epochs_run))
                    .collect()
            }

            fn summarise(
                seeds: &[SeedResult<ImdbDetails>],
                ctx: SummaryContext<'_>,
            ) -> Result<SummaryExtra, ExperimentError> {
                summary::summarise(seeds, ctx)
            }
        }
    };
}

imdb_experiment!(
    ImdbRnn,
    RNN_NAME,
    RecurrentKind::RnnTanh,
    None,
    "IMDb reviews: Embedding + SimpleRNN(32) with early stopping and LR on plateau; ROC/AUC; book, held-out and test-validated protocols"
);
imdb_experiment!(
    ImdbLstm,
    LSTM_NAME,
    RecurrentKind::Lstm,
    // Its summary compares it with the SimpleRNN seed by seed.
    Some(RNN_NAME),
    "IMDb reviews: Embedding + LSTM(32) with early stopping and LR on plateau; ROC/AUC; book, held-out and test-validated protocols"
);

/// One row of `predictions.csv.gz`: a test review's id, its label and the
/// probability each protocol gives it. Written and read by this type alone.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionRow {
    /// The review's id, e.g. `test/pos/1234_8`.
    pub id: String,
    /// Whether the review is positive.
    pub positive: bool,
    /// The probability under the book, held-out and test-validated protocols.
    pub probabilities: [f64; 3],
}

impl PredictionRow {
    /// The header line.
    pub fn header() -> String {
        format!("id,label,{}\n", PREDICTION_COLUMNS.join(","))
    }

    /// The row as a line (probabilities with six decimals).
    pub fn line(&self) -> String {
        let [a, b, c] = self.probabilities;
        format!(
            "{},{},{a:.6},{b:.6},{c:.6}\n",
            self.id,
            u8::from(self.positive)
        )
    }

    /// Reads the rows of `predictions.csv.gz`; an error names the file and line.
    pub fn read_all(path: &Path) -> Result<Vec<Self>, ExperimentError> {
        let bad = |n: usize, what: &str| ExperimentError::Saved {
            path: path.to_path_buf(),
            message: format!("line {n}: {what}"),
        };
        let text =
            crate::common::read_text_maybe_gzip(path).map_err(|source| ExperimentError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        let mut lines = text.lines();
        if lines.next().map(|h| format!("{h}\n")) != Some(Self::header()) {
            return Err(bad(1, "not the header seqlab writes"));
        }
        lines
            .enumerate()
            .map(|(i, l)| Self::parse(l).ok_or_else(|| bad(i + 2, "not a prediction row")))
            .collect()
    }

    fn parse(line: &str) -> Option<Self> {
        let mut f = line.split(',');
        let id = f.next()?.to_string();
        let positive = match f.next()? {
            "1" => true,
            "0" => false,
            _ => return None,
        };
        let mut p = [0.0; 3];
        for x in &mut p {
            *x = f.next()?.parse().ok()?;
        }
        f.next().is_none().then_some(Self {
            id,
            positive,
            probabilities: p,
        })
    }
}
