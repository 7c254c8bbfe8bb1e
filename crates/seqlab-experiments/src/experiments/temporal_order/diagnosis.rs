//! The diagnosis of a run's late collapses from its recorded steps
//! ([`seqlab_train::diagnostics::StepRecord`]): what the optimiser did at
//! the step after which a solved model's batch loss jumped.
//!
//! After the first epoch at 100% test accuracy the model sits on a plateau
//! of tiny losses. A *quiet* step is one of those epochs' steps whose batch
//! loss is below [`QUIET_LOSS`]; an *onset* is a quiet step followed by a
//! batch whose loss is at least [`SPIKE_LOSS`] (near chance's ln 4): the
//! step that started a collapse. For each onset the diagnosis keeps the
//! gradient norm before clipping, the update the step made, and the
//! optimiser's `sqrt(v)` before it, to compare with the quiet steps'
//! medians and with RMSprop's ceiling on one value's change in one step,
//! `lr / sqrt(1 - alpha)` (the step's own squared gradient enters `v`
//! with weight `1 - alpha` before the division).

use seqlab_train::diagnostics::StepRecord;
use seqlab_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};

/// Batch loss below which a step after the model solved the task is quiet.
pub const QUIET_LOSS: f64 = 0.01;
/// Batch loss from which the batch after a quiet step counts as a collapse.
pub const SPIKE_LOSS: f64 = 1.0;
/// How many times the quiet median update a large update is.
pub const LARGE_UPDATE: f64 = 10.0;

/// What the recorded steps of one run say about its collapses (a number
/// without data, such as a median over no quiet steps, is NaN: `null` in
/// `metrics.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepDiagnosis {
    /// Steps recorded.
    pub steps: usize,
    /// First epoch at 100% test accuracy (the quiet steps come after it).
    pub solved_epoch: Option<usize>,
    /// Median `sqrt(v)` (the per-step median over the values) while the
    /// model learned: epochs 2 to `solved_epoch`.
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub learning_rms: f64,
    /// Quiet steps (see the module documentation).
    pub quiet_steps: usize,
    /// Median gradient norm before clipping over the quiet steps.
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub quiet_grad_norm: f64,
    /// Median update norm over the quiet steps.
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub quiet_update_norm: f64,
    /// Median `sqrt(v)` over the quiet steps.
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub quiet_rms: f64,
    /// RMSprop's ceiling `lr / sqrt(1 - alpha)` on one value's change in
    /// one step (`None` for other optimisers).
    pub update_cap: Option<f64>,
    /// Quiet steps whose update norm is at least [`LARGE_UPDATE`] times
    /// the quiet median.
    pub large_updates: usize,
    /// Of those, the ones followed by a batch loss of at least [`SPIKE_LOSS`].
    pub large_updates_followed: usize,
    /// Every onset, in order.
    pub onsets: Vec<Onset>,
}

/// The step that started a collapse.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Onset {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based mini-batch.
    pub batch: usize,
    /// Its batch loss (below [`QUIET_LOSS`]).
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub loss: f64,
    /// The next batch's loss (at least [`SPIKE_LOSS`]).
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub next_loss: f64,
    /// Gradient norm before clipping.
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub grad_norm: f64,
    /// Median `sqrt(v)` after the step before it.
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub rms_before: f64,
    /// Norm of the update the step made.
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub update_norm: f64,
    /// Largest change of one value.
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub update_max: f64,
}

/// The median of `values` (NaN for none; the mean of the middle two for an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|x| !x.is_nan());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n % 2 {
        1 => values[n / 2],
        _ => 0.5 * (values[n / 2 - 1] + values[n / 2]),
    }
}

/// RMSprop's ceiling on one value's change in one step, `lr / sqrt(1 - alpha)`.
pub fn update_cap(optimizer: &OptimizerConfig) -> Option<f64> {
    match optimizer.kind {
        OptimizerKind::RmsProp { alpha, .. } => Some(optimizer.lr / (1.0 - alpha).sqrt()),
        _ => None,
    }
}

/// Diagnoses `steps` of a run whose test accuracy first reached 100% at
/// `solved_epoch`, stepped by `optimizer`.
pub fn diagnose(
    steps: &[StepRecord],
    solved_epoch: Option<usize>,
    optimizer: &OptimizerConfig,
) -> StepDiagnosis {
    let solved = solved_epoch.unwrap_or(usize::MAX);
    let learning = steps.iter().filter(|s| s.epoch >= 2 && s.epoch <= solved);
    let quiet: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].epoch > solved && steps[i].loss < QUIET_LOSS)
        .collect();
    let of_quiet =
        |f: fn(&StepRecord) -> f64| median(quiet.iter().map(|&i| f(&steps[i])).collect());
    let quiet_update_norm = of_quiet(|s| s.update_norm);
    let next_spikes = |i: usize| steps.get(i + 1).is_some_and(|n| n.loss >= SPIKE_LOSS);
    let large: Vec<usize> = quiet
        .iter()
        .copied()
        .filter(|&i| steps[i].update_norm >= LARGE_UPDATE * quiet_update_norm)
        .collect();
    let onsets = quiet
        .iter()
        .copied()
        .filter(|&i| next_spikes(i))
        .map(|i| onset(steps, i))
        .collect();
    StepDiagnosis {
        steps: steps.len(),
        solved_epoch,
        learning_rms: median(learning.map(|s| s.rms_median).collect()),
        quiet_steps: quiet.len(),
        quiet_grad_norm: of_quiet(|s| s.grad_norm),
        quiet_update_norm,
        quiet_rms: of_quiet(|s| s.rms_median),
        update_cap: update_cap(optimizer),
        large_updates: large.len(),
        large_updates_followed: large.iter().filter(|&&i| next_spikes(i)).count(),
        onsets,
    }
}

/// The onset at step `i` (which has a next step).
fn onset(steps: &[StepRecord], i: usize) -> Onset {
    let s = &steps[i];
    Onset {
        epoch: s.epoch,
        batch: s.batch,
        loss: s.loss,
        next_loss: steps.get(i + 1).map_or(f64::NAN, |n| n.loss),
        grad_norm: s.grad_norm,
        rms_before: i
            .checked_sub(1)
            .and_then(|j| steps.get(j))
            .map_or(f64::NAN, |p| p.rms_median),
        update_norm: s.update_norm,
        update_max: s.update_max,
    }
}

impl StepDiagnosis {
    /// The onset whose next batch loss is the highest (the worst collapse).
    pub fn worst_onset(&self) -> Option<&Onset> {
        self.onsets
            .iter()
            .max_by(|a, b| a.next_loss.total_cmp(&b.next_loss))
    }

    /// Medians over the onsets of: gradient norm over the quiet median,
    /// update norm over the quiet median, largest change over the ceiling.
    pub fn onset_ratios(&self) -> Option<[f64; 3]> {
        if self.onsets.is_empty() {
            return None;
        }
        let of = |f: &dyn Fn(&Onset) -> f64| median(self.onsets.iter().map(f).collect());
        Some([
            of(&|o| o.grad_norm / self.quiet_grad_norm),
            of(&|o| o.update_norm / self.quiet_update_norm),
            of(&|o| o.update_max / self.update_cap.unwrap_or(f64::NAN)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(epoch: usize, batch: usize, loss: f64, grad_norm: f64, update_norm: f64) -> StepRecord {
        StepRecord {
            epoch,
            batch,
            loss,
            grad_norm,
            update_norm,
            update_max: update_norm / 10.0,
            rms_median: 1e-3 * epoch as f64,
            rms_min: 0.0,
        }
    }

    /// Epochs 1-2 learn; epoch 3 is quiet but for one onset at batch 3
    /// (a big gradient and update, then a batch loss of 2) and one large
    /// update that is not followed by a spike (batch 5).
    fn steps() -> Vec<StepRecord> {
        let mut s = vec![step(1, 1, 1.4, 1.0, 0.3), step(2, 1, 0.5, 0.5, 0.03)];
        s.push(step(3, 1, 1e-3, 0.01, 0.002));
        s.push(step(3, 2, 1e-3, 0.01, 0.002));
        s.push(step(3, 3, 2e-3, 5.0, 0.2));
        s.push(step(3, 4, 2.0, 9.0, 0.2));
        s.push(step(3, 5, 1e-3, 0.02, 0.05));
        s.push(step(3, 6, 1e-3, 0.01, 0.002));
        s
    }

    #[test]
    fn an_onset_is_a_quiet_step_followed_by_a_spike() {
        let d = diagnose(&steps(), Some(2), &OptimizerConfig::rmsprop(1e-3));
        assert_eq!(d.steps, 8);
        // Batch 4 (loss 2) is not quiet; the other five of epoch 3 are.
        assert_eq!(d.quiet_steps, 5);
        assert_eq!(d.quiet_grad_norm, 0.01);
        assert_eq!(d.quiet_update_norm, 0.002);
        assert_eq!(d.onsets.len(), 1);
        let o = d.onsets[0];
        assert_eq!(
            (o.epoch, o.batch, o.next_loss, o.rms_before),
            (3, 3, 2.0, 3e-3)
        );
        // Two quiet updates of at least ten times the median; one spiked.
        assert_eq!((d.large_updates, d.large_updates_followed), (2, 1));
        assert!((d.update_cap.unwrap() - 1e-2).abs() < 1e-12);
        let [g, u, cap] = d.onset_ratios().unwrap();
        assert!((g - 500.0).abs() < 1e-9 && (u - 100.0).abs() < 1e-9 && (cap - 2.0).abs() < 1e-9);
        assert_eq!(d.worst_onset(), Some(&o));
        // Learning: epoch 2's step alone (epoch 1 is the warm-up).
        assert_eq!(d.learning_rms, 2e-3);
    }

    #[test]
    fn an_unsolved_run_has_no_quiet_steps_and_sgd_no_ceiling() {
        let d = diagnose(&steps(), None, &OptimizerConfig::sgd(0.1));
        assert_eq!((d.quiet_steps, d.onsets.len()), (0, 0));
        assert!(d.quiet_grad_norm.is_nan() && d.update_cap.is_none());
        assert!(d.onset_ratios().is_none());
        assert_eq!(median(vec![3.0, 1.0, f64::NAN, 2.0, 4.0]), 2.5);
    }
}
