//! `EarlyStopping` and `ReduceLROnPlateau` with Keras' exact semantics
//! (Keras 3, `keras/src/callbacks/early_stopping.py` and
//! `reduce_lr_on_plateau.py`).
//!
//! Both are pure state machines over the monitored value of each epoch, so
//! they can be tested (and reused) without a model. The fit loop feeds them
//! and acts on their decisions.
//!
//! ```
//! use seqlab_train::callbacks::{EarlyStopping, Mode};
//! let mut es = EarlyStopping::new("val_loss", Mode::Min, 0.0, 2);
//! let losses = [1.0, 0.8, 0.9, 0.85, 0.7];
//! let stop_at = losses.iter().enumerate().position(|(e, &l)| es.on_epoch_end(e, l).stop);
//! assert_eq!(stop_at, Some(3)); // two epochs without improvement after epoch 1
//! assert_eq!(es.best_epoch(), Some(1));
//! ```

/// Whether smaller or larger values of the monitored quantity are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Smaller is better (losses).
    Min,
    /// Larger is better (accuracies, AUC).
    Max,
}

impl Mode {
    /// Keras' `mode="auto"`: `Max` for names containing `acc` or `auc`, else `Min`.
    pub fn auto(monitor: &str) -> Mode {
        let m = monitor.to_ascii_lowercase();
        if m.contains("acc") || m.contains("auc") {
            Mode::Max
        } else {
            Mode::Min
        }
    }

    fn initial_best(self) -> f64 {
        match self {
            Mode::Min => f64::INFINITY,
            Mode::Max => f64::NEG_INFINITY,
        }
    }
}

/// What [`EarlyStopping::on_epoch_end`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyStoppingDecision {
    /// The epoch improved on the best value: snapshot the weights now.
    pub improved: bool,
    /// Stop training after this epoch.
    pub stop: bool,
}

/// Keras `EarlyStopping(monitor, min_delta, patience, mode, baseline, restore_best_weights, start_from_epoch)`.
///
/// Per epoch: `wait += 1`; if the value improves on the best
/// (`current + |min_delta| < best` in min mode, `current - |min_delta| > best`
/// in max mode; the first epoch always improves because `best` starts at
/// ±inf), it becomes the best, and `wait` resets to 0 when it also beats the
/// baseline (if any); otherwise training stops once `wait >= patience` (and
/// epoch > 0). With restore-best, the weights of the best epoch are restored
/// at the end of training whether or not it stopped early (Keras 3).
#[derive(Debug, Clone)]
pub struct EarlyStopping {
    monitor: String,
    mode: Mode,
    min_delta: f64,
    patience: usize,
    baseline: Option<f64>,
    restore_best_weights: bool,
    start_from_epoch: usize,
    best: f64,
    best_epoch: Option<usize>,
    wait: usize,
    stopped_epoch: Option<usize>,
}

impl EarlyStopping {
    /// Monitors `monitor` in `mode`; restores the best weights by default.
    pub fn new(monitor: impl Into<String>, mode: Mode, min_delta: f64, patience: usize) -> Self {
        Self {
            monitor: monitor.into(),
            mode,
            min_delta: min_delta.abs(),
            patience,
            baseline: None,
            restore_best_weights: true,
            start_from_epoch: 0,
            best: mode.initial_best(),
            best_epoch: None,
            wait: 0,
            stopped_epoch: None,
        }
    }

    /// Only reset patience when the value also beats `baseline`.
    pub fn with_baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// Whether to restore the best epoch's weights at the end of training.
    pub fn with_restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// Ignore epochs before `epoch` (warm-up).
    pub fn with_start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }

    /// The monitored quantity's name.
    pub fn monitor(&self) -> &str {
        &self.monitor
    }

    /// Whether the best weights are restored at the end.
    pub fn restore_best_weights(&self) -> bool {
        self.restore_best_weights
    }

    /// The best value seen so far.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// The 0-based epoch of the best value, if any.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    /// Epochs since the last improvement.
    pub fn wait(&self) -> usize {
        self.wait
    }

    /// The 0-based epoch at which training was stopped, if it was.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }

    fn is_improvement(&self, current: f64, reference: f64) -> bool {
        match self.mode {
            Mode::Min => current + self.min_delta < reference,
            Mode::Max => current - self.min_delta > reference,
        }
    }

    /// Feeds the monitored value of `epoch` (0-based).
    pub fn on_epoch_end(&mut self, epoch: usize, current: f64) -> EarlyStoppingDecision {
        let none = EarlyStoppingDecision {
            improved: false,
            stop: false,
        };
        if epoch < self.start_from_epoch {
            return none;
        }
        // Keras: if best weights were never set, the current weights are the best.
        let first = self.best_epoch.is_none();
        if first {
            self.best_epoch = Some(epoch);
        }
        self.wait += 1;
        if self.is_improvement(current, self.best) {
            self.best = current;
            self.best_epoch = Some(epoch);
            if self
                .baseline
                .is_none_or(|b| self.is_improvement(current, b))
            {
                self.wait = 0;
            }
            return EarlyStoppingDecision {
                improved: true,
                stop: false,
            };
        }
        let stop = self.wait >= self.patience && epoch > 0;
        if stop {
            self.stopped_epoch = Some(epoch);
        }
        EarlyStoppingDecision {
            improved: first,
            stop,
        }
    }
}

/// What [`ReduceLrOnPlateau::on_epoch_end`] decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateauDecision {
    /// The new learning rate, if it was reduced at this epoch.
    pub new_lr: Option<f64>,
}

/// Keras `ReduceLROnPlateau(monitor, factor, patience, mode, min_delta, cooldown, min_lr)`.
///
/// Per epoch: if in cooldown, decrement the cooldown counter and reset
/// `wait`; on improvement (`current < best - min_delta` in min mode,
/// absolute delta) take the new best and reset `wait`; otherwise, if not in
/// cooldown, `wait += 1`, and when `wait >= patience` and `lr > min_lr`,
/// set `lr = max(lr * factor, min_lr)`, start the cooldown and reset `wait`.
#[derive(Debug, Clone)]
pub struct ReduceLrOnPlateau {
    monitor: String,
    mode: Mode,
    factor: f64,
    patience: usize,
    min_delta: f64,
    cooldown: usize,
    min_lr: f64,
    best: f64,
    wait: usize,
    cooldown_counter: usize,
}

impl ReduceLrOnPlateau {
    /// Keras defaults besides the arguments: `min_delta = 1e-4`, `cooldown = 0`, `min_lr = 0`.
    ///
    /// `factor` must be in (0, 1); anything else is rejected.
    pub fn new(
        monitor: impl Into<String>,
        mode: Mode,
        factor: f64,
        patience: usize,
    ) -> Result<Self, crate::TrainError> {
        if !(factor > 0.0 && factor < 1.0) {
            return Err(crate::TrainError::InvalidConfig(format!(
                "ReduceLROnPlateau factor must be in (0, 1), got {factor}"
            )));
        }
        Ok(Self {
            monitor: monitor.into(),
            mode,
            factor,
            patience,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: mode.initial_best(),
            wait: 0,
            cooldown_counter: 0,
        })
    }

    /// Sets the absolute improvement threshold.
    pub fn with_min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// Epochs to wait after a reduction before counting again.
    pub fn with_cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The floor of the learning rate.
    pub fn with_min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }

    /// The monitored quantity's name.
    pub fn monitor(&self) -> &str {
        &self.monitor
    }

    /// Epochs without improvement counted so far.
    pub fn wait(&self) -> usize {
        self.wait
    }

    /// The best value seen so far.
    pub fn best(&self) -> f64 {
        self.best
    }

    fn in_cooldown(&self) -> bool {
        self.cooldown_counter > 0
    }

    fn improves(&self, current: f64) -> bool {
        match self.mode {
            Mode::Min => current < self.best - self.min_delta,
            Mode::Max => current > self.best + self.min_delta,
        }
    }

    /// Feeds the monitored value of an epoch and the learning rate in use.
    pub fn on_epoch_end(&mut self, current: f64, lr: f64) -> PlateauDecision {
        if self.in_cooldown() {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.improves(current) {
            self.best = current;
            self.wait = 0;
        } else if !self.in_cooldown() {
            self.wait += 1;
            if self.wait >= self.patience && lr > self.min_lr {
                let new_lr = (lr * self.factor).max(self.min_lr);
                self.cooldown_counter = self.cooldown;
                self.wait = 0;
                return PlateauDecision {
                    new_lr: Some(new_lr),
                };
            }
        }
        PlateauDecision { new_lr: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epochs (0-based) at which early stopping stops, and the best epoch.
    fn run_es(mut es: EarlyStopping, values: &[f64]) -> (Option<usize>, Option<usize>) {
        for (e, &v) in values.iter().enumerate() {
            if es.on_epoch_end(e, v).stop {
                return (Some(e), es.best_epoch());
            }
        }
        (None, es.best_epoch())
    }

    /// The learning rate after each epoch.
    fn run_plateau(mut p: ReduceLrOnPlateau, lr0: f64, values: &[f64]) -> Vec<f64> {
        let mut lr = lr0;
        values
            .iter()
            .map(|&v| {
                if let Some(n) = p.on_epoch_end(v, lr).new_lr {
                    lr = n;
                }
                lr
            })
            .collect()
    }

    #[test]
    fn early_stopping_patience_counts_epochs_without_improvement() {
        let es = EarlyStopping::new("val_loss", Mode::Min, 0.0, 3);
        // best at epoch 2; epochs 3, 4, 5 do not improve -> stop at 5.
        assert_eq!(
            run_es(es, &[1.0, 0.9, 0.5, 0.6, 0.7, 0.55, 0.1]),
            (Some(5), Some(2))
        );
    }

    #[test]
    fn early_stopping_patience_zero_and_one_stop_at_first_bad_epoch() {
        // Keras increments wait before testing, so patience 0 and 1 agree.
        for p in [0, 1] {
            let es = EarlyStopping::new("val_loss", Mode::Min, 0.0, p);
            assert_eq!(
                run_es(es, &[1.0, 0.9, 0.95, 0.1]),
                (Some(2), Some(1)),
                "patience {p}"
            );
        }
        // Patience 0 never stops at the first epoch.
        let mut es = EarlyStopping::new("val_loss", Mode::Min, 0.0, 0);
        assert!(!es.on_epoch_end(0, f64::NAN).stop);
    }

    #[test]
    fn early_stopping_ties_and_min_delta_are_not_improvements() {
        // A tie is not an improvement (strict comparison).
        let es = EarlyStopping::new("val_loss", Mode::Min, 0.0, 2);
        assert_eq!(run_es(es, &[1.0, 1.0, 1.0, 0.5]), (Some(2), Some(0)));
        // An improvement smaller than min_delta does not count.
        let es = EarlyStopping::new("val_loss", Mode::Min, 0.1, 2);
        assert_eq!(run_es(es, &[1.0, 0.95, 0.91, 0.5]), (Some(2), Some(0)));
        // Exactly min_delta better is still not strictly better: 0.875 + 0.125 < 1.0 is false.
        let es = EarlyStopping::new("val_loss", Mode::Min, 0.125, 1);
        assert_eq!(run_es(es, &[1.0, 0.875, 0.5]), (Some(1), Some(0)));
        // Just over min_delta better is an improvement.
        let es = EarlyStopping::new("val_loss", Mode::Min, 0.125, 1);
        assert_eq!(run_es(es, &[1.0, 0.75, 0.5]), (None, Some(2)));
        // Negative min_delta is taken by absolute value, like Keras.
        let es = EarlyStopping::new("val_loss", Mode::Min, -0.1, 2);
        assert_eq!(run_es(es, &[1.0, 0.95, 0.91, 0.5]), (Some(2), Some(0)));
    }

    #[test]
    fn early_stopping_max_mode_and_auto() {
        let es = EarlyStopping::new("val_accuracy", Mode::auto("val_accuracy"), 0.0, 2);
        assert_eq!(run_es(es, &[0.5, 0.7, 0.7, 0.69, 0.9]), (Some(3), Some(1)));
        assert_eq!(Mode::auto("val_loss"), Mode::Min);
        assert_eq!(Mode::auto("val_auc"), Mode::Max);
    }

    #[test]
    fn early_stopping_baseline_keeps_wait_running() {
        // Improvements that do not beat the baseline do not reset wait.
        let es = EarlyStopping::new("val_loss", Mode::Min, 0.0, 3).with_baseline(0.5);
        assert_eq!(run_es(es, &[0.9, 0.8, 0.7, 0.6]), (None, Some(3)));
        let es = EarlyStopping::new("val_loss", Mode::Min, 0.0, 3).with_baseline(0.5);
        assert_eq!(run_es(es, &[0.9, 0.8, 0.7, 0.7]), (Some(3), Some(2)));
    }

    #[test]
    fn early_stopping_start_from_epoch_ignores_warm_up() {
        let es = EarlyStopping::new("val_loss", Mode::Min, 0.0, 1).with_start_from_epoch(2);
        assert_eq!(run_es(es, &[0.1, 0.2, 0.5, 0.6]), (Some(3), Some(2)));
    }

    #[test]
    fn early_stopping_reports_first_epoch_as_best_and_snapshot() {
        let mut es = EarlyStopping::new("val_loss", Mode::Min, 0.0, 5);
        let d = es.on_epoch_end(0, 3.0);
        assert_eq!(
            d,
            EarlyStoppingDecision {
                improved: true,
                stop: false
            }
        );
        assert_eq!((es.best(), es.best_epoch(), es.wait()), (3.0, Some(0), 0));
        let d = es.on_epoch_end(1, 4.0);
        assert_eq!(
            d,
            EarlyStoppingDecision {
                improved: false,
                stop: false
            }
        );
        assert_eq!(es.wait(), 1);
    }

    #[test]
    fn plateau_reduces_after_patience_bad_epochs() {
        let p = ReduceLrOnPlateau::new("val_loss", Mode::Min, 0.5, 3).unwrap();
        let lrs = run_plateau(p, 1e-3, &[1.0, 0.9, 0.9, 0.95, 0.91, 0.92, 0.93, 0.94, 0.8]);
        // bad epochs 2, 3, 4 -> reduce at epoch 4; bad 5, 6, 7 -> reduce at 7.
        assert_eq!(
            lrs,
            vec![1e-3, 1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 5e-4, 2.5e-4, 2.5e-4]
        );
    }

    #[test]
    fn plateau_min_delta_is_absolute() {
        // 0.99995 is within 1e-4 of 1.0: not an improvement.
        let p = ReduceLrOnPlateau::new("val_loss", Mode::Min, 0.5, 1).unwrap();
        assert_eq!(
            run_plateau(p, 1.0, &[1.0, 0.99995, 0.9]),
            vec![1.0, 0.5, 0.5]
        );
        let p = ReduceLrOnPlateau::new("val_loss", Mode::Min, 0.5, 1)
            .unwrap()
            .with_min_delta(0.0);
        assert_eq!(
            run_plateau(p, 1.0, &[1.0, 0.99995, 0.99995]),
            vec![1.0, 1.0, 0.5]
        );
    }

    #[test]
    fn plateau_patience_zero_reduces_on_every_bad_epoch() {
        let p = ReduceLrOnPlateau::new("val_loss", Mode::Min, 0.5, 0).unwrap();
        // Improvement at epoch 0, bad at 1 and 2.
        assert_eq!(run_plateau(p, 1.0, &[1.0, 1.0, 1.0]), vec![1.0, 0.5, 0.25]);
    }

    #[test]
    fn plateau_cooldown_skips_counting() {
        let p = ReduceLrOnPlateau::new("val_loss", Mode::Min, 0.5, 1)
            .unwrap()
            .with_cooldown(2);
        // epoch 1 bad -> reduce, cooldown 2; epoch 2: cooldown 2->1, no count;
        // epoch 3: cooldown 1->0, then counts (not in cooldown any more) -> wait 1 -> reduce.
        assert_eq!(
            run_plateau(p, 1.0, &[1.0, 1.0, 1.0, 1.0, 1.0]),
            vec![1.0, 0.5, 0.5, 0.25, 0.25]
        );
    }

    #[test]
    fn plateau_respects_min_lr() {
        let p = ReduceLrOnPlateau::new("val_loss", Mode::Min, 0.1, 1)
            .unwrap()
            .with_min_lr(0.05);
        // 1.0 -> 0.1 -> max(0.01, 0.05) = 0.05 -> stays (lr not > min_lr).
        assert_eq!(
            run_plateau(p, 1.0, &[1.0, 2.0, 2.0, 2.0, 2.0]),
            vec![1.0, 0.1, 0.05, 0.05, 0.05]
        );
    }

    #[test]
    fn plateau_improvement_resets_wait_and_ties_do_not() {
        let mut p = ReduceLrOnPlateau::new("val_loss", Mode::Min, 0.5, 2).unwrap();
        assert_eq!(p.on_epoch_end(1.0, 1.0).new_lr, None);
        assert_eq!(p.on_epoch_end(1.0, 1.0).new_lr, None); // tie: wait 1
        assert_eq!(p.wait(), 1);
        assert_eq!(p.on_epoch_end(0.5, 1.0).new_lr, None); // improvement: wait 0
        assert_eq!(p.wait(), 0);
        assert_eq!(p.on_epoch_end(0.5, 1.0).new_lr, None);
        assert_eq!(p.on_epoch_end(0.5, 1.0).new_lr, Some(0.5));
    }

    #[test]
    fn plateau_max_mode() {
        let p = ReduceLrOnPlateau::new("val_accuracy", Mode::Max, 0.5, 1).unwrap();
        assert_eq!(run_plateau(p, 1.0, &[0.5, 0.6, 0.6]), vec![1.0, 1.0, 0.5]);
    }

    #[test]
    fn plateau_rejects_bad_factor() {
        assert!(ReduceLrOnPlateau::new("val_loss", Mode::Min, 1.0, 1).is_err());
        assert!(ReduceLrOnPlateau::new("val_loss", Mode::Min, 0.0, 1).is_err());
    }
}
