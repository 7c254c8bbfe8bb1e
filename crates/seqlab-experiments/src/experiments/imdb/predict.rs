//! `seqlab predict`: loading the saved model of a results folder and scoring reviews.

use super::protocols::*;
use super::saved::{check_finite, read_saved, SavedModel};
use super::*;
use crate::ExperimentError;
use seqlab_data::text::TextEncoder;
use seqlab_models::sentiment::{sentiment_classifier, SentimentClassifier};
use seqlab_train::checkpoint::load_weights;
use std::path::{Path, PathBuf};
use tch::nn::VarStore;
use tch::{Device, Tensor};

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

/// Loads the saved model of `opts.experiment` and scores `texts`.
pub fn predict<T: AsRef<str>>(
    opts: &PredictOptions,
    texts: &[T],
) -> Result<Vec<Prediction>, ExperimentError> {
    Predictor::load(opts)?.predict(texts)
}
