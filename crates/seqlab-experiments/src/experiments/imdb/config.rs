//! The IMDb experiments' settings: the full and quick profiles.

use crate::common::ValLossCallbacks;
use crate::ExperimentError;
use seqlab_data::text::KerasIndex;
use seqlab_models::recurrent::RecurrentKind;
use seqlab_models::sentiment::SentimentConfig;

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

    pub(super) fn validate(&self) -> Result<(), ExperimentError> {
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

    pub(super) fn index(&self) -> KerasIndex {
        KerasIndex::with_limits(self.num_words, self.skip_top)
    }
}
