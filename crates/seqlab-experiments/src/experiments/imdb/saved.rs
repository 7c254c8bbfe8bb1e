//! The book protocol's saved model: `model.json`'s description, its checks,
//! and reading it back with the weights' check.

use super::predict::PredictOptions;
use crate::ExperimentError;
use seqlab_data::text::{KerasIndex, Side, TextEncoder, Vocabulary};
use seqlab_models::recurrent::{RecurrentInit, RecurrentKind};
use seqlab_models::sentiment::SentimentConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::nn::VarStore;
use tch::Tensor;

/// `model.json`: everything [`Predictor`](super::Predictor) needs besides the weights and the vocabulary.
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
    pub(super) fn min_parameters(&self, path: &Path) -> Result<u64, ExperimentError> {
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
    pub(super) fn check_weights_size(
        &self,
        path: &Path,
        weights: &Path,
    ) -> Result<(), ExperimentError> {
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

    pub(super) fn kind(&self, path: &Path) -> Result<RecurrentKind, ExperimentError> {
        match self.cell.as_str() {
            "SimpleRNN" => Ok(RecurrentKind::RnnTanh),
            "LSTM" => Ok(RecurrentKind::Lstm),
            other => Err(ExperimentError::Saved {
                path: path.to_path_buf(),
                message: format!("unknown cell {other:?} (expected SimpleRNN or LSTM)"),
            }),
        }
    }

    pub(super) fn sentiment_config(&self, path: &Path) -> Result<SentimentConfig, ExperimentError> {
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

    pub(super) fn encoder(&self, vocab: Vocabulary) -> TextEncoder {
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

/// Reads and checks `model.json` (its fields, and that it is
/// `opts.experiment`'s model: a folder of another experiment copied in its
/// place is refused).
pub(super) fn read_saved(
    opts: &PredictOptions,
    model_path: &Path,
) -> Result<SavedModel, ExperimentError> {
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
pub(super) fn check_finite(vs: &VarStore, weights: &Path) -> Result<(), ExperimentError> {
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
