//! What one seed records in `metrics.json` (read back through the same
//! types), and the settings table made from it.

use super::diagnosis::StepDiagnosis;
use crate::record::Setting;
use seqlab_data::temporal_order::Difficulty;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One seed's own part of `metrics.json`: the results of each level.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemporalOrderDetails {
    /// Level name (`easy_10`, ...) -> its settings and results.
    pub levels: BTreeMap<String, LevelResult>,
}

/// One level's settings and its models' results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LevelResult {
    /// Task difficulty (`easy`, `moderate`, `hard`).
    pub difficulty: String,
    /// Epochs trained (after `--epochs`).
    pub epochs: usize,
    /// Optimiser, described.
    pub optimizer: String,
    /// Gradient-norm clipping, if any.
    pub clip_grad_norm: Option<f64>,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Fresh batches per epoch.
    pub batches_per_epoch: usize,
    /// Held-out test sequences.
    pub n_test: usize,
    /// Model label (`rnn`, `lstm`, `lstm_restore_best`, ...) -> its results.
    pub models: BTreeMap<String, ModelResult>,
}

/// The numbers of one model in one level.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelResult {
    /// Cell and width, e.g. `LSTM, hidden 4`.
    pub model: String,
    /// Trainable parameters.
    pub params: i64,
    /// Epochs trained.
    pub epochs: usize,
    /// Training accuracy of the last epoch (on that epoch's fresh batches).
    pub final_train_accuracy: f64,
    /// Test accuracy of the weights the run ends with: those after the last
    /// epoch, or for [`Correction::RestoreBest`](super::Correction::RestoreBest)
    /// those of the epoch it kept.
    pub final_test_accuracy: f64,
    /// Best test accuracy over the epochs.
    pub best_test_accuracy: f64,
    /// First epoch (1-based) with 100% test accuracy, if any.
    pub first_epoch_at_100: Option<usize>,
    /// The correction this run applies, in words (absent: as configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<String>,
    /// Restore-best: the epoch whose weights the run ends with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_epoch: Option<usize>,
    /// Restore-best: the validation accuracy of the kept epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_validation_accuracy: Option<f64>,
    /// Epochs after which the learning rate was reduced (a schedule's run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lr_reduced_after: Vec<usize>,
    /// The steps' diagnosis, where the run recorded its steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<StepDiagnosis>,
}

/// The levels in the order they run: easiest first, then shorter budgets.
pub(super) fn easiest_first(details: &TemporalOrderDetails) -> Vec<(&String, &LevelResult)> {
    let rank = |level: &LevelResult| {
        let difficulty = level.difficulty.parse::<Difficulty>().ok();
        let rank = Difficulty::ALL.iter().position(|d| Some(*d) == difficulty);
        (rank, level.epochs)
    };
    let mut levels: Vec<_> = details.levels.iter().collect();
    levels.sort_by_key(|(_, level)| rank(level));
    levels
}

/// The settings table: the levels in words, the corrections, the data sizes.
pub(super) fn settings(details: &TemporalOrderDetails) -> Vec<Setting> {
    let levels = easiest_first(details);
    let names: Vec<&str> = levels.iter().map(|(name, _)| name.as_str()).collect();
    let mut settings = vec![Setting::new("levels", names.join(", "))];
    settings.extend(
        levels
            .iter()
            .map(|(name, level)| Setting::new(*name, describe_level(level))),
    );
    for (name, level) in &levels {
        for (label, m) in &level.models {
            if let Some(c) = &m.correction {
                settings.push(Setting::new(format!("{name}_{label}"), c));
            }
        }
    }
    if let Some(level) = details.levels.values().next() {
        settings.push(Setting::new("batch_size", level.batch_size));
        settings.push(Setting::new("batches_per_epoch", level.batches_per_epoch));
        settings.push(Setting::new("n_test", level.n_test));
    }
    settings
}

/// One level, in words: difficulty, sequence lengths, models, budget.
fn describe_level(level: &LevelResult) -> String {
    let lengths = level
        .difficulty
        .parse::<Difficulty>()
        .map(|d| {
            let (lo, hi) = d.length_range();
            format!(" (lengths {lo}-{})", hi - 1)
        })
        .unwrap_or_default();
    let models: Vec<&str> = level
        .models
        .values()
        .filter(|m| m.correction.is_none())
        .map(|m| m.model.as_str())
        .collect();
    let clip = level
        .clip_grad_norm
        .map(|c| format!(", gradient norm clipped at {c}"))
        .unwrap_or_default();
    format!(
        "{}{lengths}: {}; {} epochs; {}{clip}",
        level.difficulty,
        models.join(" / "),
        level.epochs,
        level.optimizer
    )
}
