//! `EarlyStopping` and `ReduceLROnPlateau` with Keras' exact semantics
//! (Keras 3, `keras/src/callbacks/early_stopping.py` and
//! `reduce_lr_on_plateau.py`).
//!
//! Both are pure state machines over the monitored value of each epoch, so
//! they can be tested (and reused) without a model. The fit loop feeds them
//! and acts on their decisions.
//!
//! Besides them, [`fit_with_callbacks`](crate::fit::fit_with_callbacks)
//! takes callbacks of your own: anything that implements [`Callback`],
//! such as [`ModelCheckpoint`] (Keras `ModelCheckpoint`) and [`CsvLogger`]
//! (Keras `CSVLogger`).
//!
//! ```
//! use seqlab_train::callbacks::EarlyStopping;
//! // Mode::Auto (the default): "val_loss" is minimised.
//! let mut es = EarlyStopping::new("val_loss", 0.0, 2).unwrap();
//! let losses = [1.0, 0.8, 0.9, 0.85, 0.7];
//! let stop_at = losses.iter().enumerate().position(|(e, &l)| es.on_epoch_end(e, l).stop);
//! assert_eq!(stop_at, Some(3)); // two epochs without improvement after epoch 1
//! assert_eq!(es.best_epoch(), Some(1));
//! ```

use crate::checkpoint::save_weights;
use crate::history::History;
use crate::TrainError;
use std::path::{Path, PathBuf};
use tch::nn::VarStore;

/// Whether smaller or larger values of the monitored quantity are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Decided by the monitored name, like Keras' `mode="auto"`: larger is
    /// better for names containing `acc` or `auc`, smaller otherwise.
    #[default]
    Auto,
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

    /// `Min` or `Max` for `monitor` (`Auto` decided by the name).
    pub fn resolve(self, monitor: &str) -> Mode {
        match self {
            Mode::Auto => Mode::auto(monitor),
            m => m,
        }
    }

    fn initial_best(self) -> f64 {
        match self {
            Mode::Max => f64::NEG_INFINITY,
            _ => f64::INFINITY,
        }
    }
}

fn check_monitor(what: &str, monitor: &str) -> Result<(), TrainError> {
    if monitor.trim().is_empty() {
        return Err(TrainError::InvalidConfig(format!(
            "{what} needs the name of a history column to monitor (e.g. \"val_loss\")"
        )));
    }
    Ok(())
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
///
/// **Restores the best weights by default**, unlike Keras, whose default
/// is `restore_best_weights=False` (the weights of the last epoch). Call
/// [`with_restore_best_weights(false)`](Self::with_restore_best_weights)
/// for Keras' behaviour. The mode defaults to [`Mode::Auto`].
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
    /// Whether [`new`](Self::new) restores the best weights at the end:
    /// `true` (Keras: `false`).
    pub const RESTORES_BEST_BY_DEFAULT: bool = true;

    /// Monitors `monitor` (a history column such as `val_loss`), counting
    /// an epoch as an improvement when it beats the best by more than
    /// `|min_delta|`, and stops after `patience` epochs without one. Mode
    /// [`Mode::Auto`]; restores the best weights
    /// ([`RESTORES_BEST_BY_DEFAULT`](Self::RESTORES_BEST_BY_DEFAULT)).
    ///
    /// # Errors
    /// An empty monitor name, or a `min_delta` that is NaN or infinite.
    pub fn new(
        monitor: impl Into<String>,
        min_delta: f64,
        patience: usize,
    ) -> Result<Self, TrainError> {
        let monitor = monitor.into();
        check_monitor("EarlyStopping", &monitor)?;
        if !min_delta.is_finite() {
            return Err(TrainError::InvalidConfig(format!(
                "EarlyStopping min_delta must be a finite number, got {min_delta}"
            )));
        }
        let mode = Mode::auto(&monitor);
        Ok(Self {
            monitor,
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
        })
    }

    /// Sets the mode (`Auto` decides by the monitored name).
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode.resolve(&self.monitor);
        self.best = self.mode.initial_best();
        self
    }

    /// The mode in use (`Min` or `Max`, `Auto` resolved).
    pub fn mode(&self) -> Mode {
        self.mode
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
            Mode::Max => current - self.min_delta > reference,
            _ => current + self.min_delta < reference,
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
    ///
    /// The mode is [`Mode::Auto`] ([`with_mode`](Self::with_mode) to set it).
    ///
    /// # Errors
    /// An empty monitor name, or a factor outside (0, 1).
    pub fn new(
        monitor: impl Into<String>,
        factor: f64,
        patience: usize,
    ) -> Result<Self, TrainError> {
        let monitor: String = monitor.into();
        check_monitor("ReduceLROnPlateau", &monitor)?;
        let mode = Mode::auto(&monitor);
        if !(factor > 0.0 && factor < 1.0) {
            return Err(TrainError::InvalidConfig(format!(
                "ReduceLROnPlateau factor must be in (0, 1), got {factor}"
            )));
        }
        Ok(Self {
            monitor,
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

    /// Sets the mode (`Auto` decides by the monitored name).
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode.resolve(&self.monitor);
        self.best = self.mode.initial_best();
        self
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
            Mode::Max => current > self.best + self.min_delta,
            _ => current < self.best - self.min_delta,
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

/// What a [`Callback`] sees after each epoch.
pub struct EpochEnd<'a> {
    /// The epoch just finished, 1-based.
    pub epoch: usize,
    /// The history so far, this epoch included.
    pub history: &'a History,
    /// The model's variables (to save them, for example).
    pub vs: &'a VarStore,
    /// The learning rate in use for the next epoch.
    pub lr: f64,
}

impl EpochEnd<'_> {
    /// This epoch's value of a history column (`loss`, `val_auc`, ...).
    pub fn value(&self, column: &str) -> Option<f64> {
        self.history.last(column)
    }
}

/// A callback's answer: go on, or stop after this epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on training.
    Continue,
    /// Stop after this epoch (as early stopping does).
    Stop,
}

/// Your own code in the fit loop, like a Keras callback or a Lightning
/// hook: pass it to [`fit_with_callbacks`](crate::fit::fit_with_callbacks).
///
/// ```
/// use seqlab_train::callbacks::{Callback, Control, EpochEnd};
/// use seqlab_train::TrainError;
///
/// /// Stops once the training loss is below a target.
/// struct StopBelow(f64);
///
/// impl Callback for StopBelow {
///     fn on_epoch_end(&mut self, end: &EpochEnd<'_>) -> Result<Control, TrainError> {
///         Ok(match end.value("loss") {
///             Some(loss) if loss < self.0 => Control::Stop,
///             _ => Control::Continue,
///         })
///     }
/// }
/// ```
pub trait Callback {
    /// Called after every epoch, after the history got the epoch's values.
    /// An error stops training and is returned by `fit`.
    fn on_epoch_end(&mut self, end: &EpochEnd<'_>) -> Result<Control, TrainError>;

    /// The history column this callback reads, if any: `fit` checks before
    /// the first epoch that the history will have it.
    fn monitor(&self) -> Option<&str> {
        None
    }
}

/// Keras `ModelCheckpoint(filepath, monitor, mode, save_best_only=True)`:
/// saves the weights (`.safetensors`, written atomically) whenever the
/// monitored value improves on the best so far, so that the file always
/// holds the best epoch's weights.
///
/// Keras' default is `save_best_only=False` (save after every epoch):
/// [`every_epoch`](Self::every_epoch) does that.
#[derive(Debug, Clone)]
pub struct ModelCheckpoint {
    path: PathBuf,
    monitor: String,
    mode: Mode,
    best: f64,
    best_epoch: Option<usize>,
    best_only: bool,
}

impl ModelCheckpoint {
    /// Saves to `path` (which must end in `.safetensors`) at each
    /// improvement of `monitor`; mode [`Mode::Auto`].
    ///
    /// # Errors
    /// A path without the `.safetensors` extension, or an empty monitor.
    pub fn new(path: impl AsRef<Path>, monitor: impl Into<String>) -> Result<Self, TrainError> {
        let path = path.as_ref().to_path_buf();
        let monitor = monitor.into();
        check_monitor("ModelCheckpoint", &monitor)?;
        if path.extension().and_then(|e| e.to_str()) != Some("safetensors") {
            return Err(TrainError::InvalidConfig(format!(
                "ModelCheckpoint: {} must have the .safetensors extension",
                path.display()
            )));
        }
        let mode = Mode::auto(&monitor);
        Ok(Self {
            path,
            monitor,
            mode,
            best: mode.initial_best(),
            best_epoch: None,
            best_only: true,
        })
    }

    /// Sets the mode (`Auto` decides by the monitored name).
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode.resolve(&self.monitor);
        self.best = self.mode.initial_best();
        self
    }

    /// Saves after every epoch (Keras' `save_best_only=False`).
    pub fn every_epoch(mut self) -> Self {
        self.best_only = false;
        self
    }

    /// The 1-based epoch whose weights the file holds, if one was saved.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }

    /// The best monitored value so far.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Where the weights go.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Callback for ModelCheckpoint {
    fn on_epoch_end(&mut self, end: &EpochEnd<'_>) -> Result<Control, TrainError> {
        let Some(value) = end.value(&self.monitor) else {
            return Err(TrainError::InvalidConfig(format!(
                "ModelCheckpoint monitors {:?}, but the history only has {}",
                self.monitor,
                end.history.columns().join(", ")
            )));
        };
        let improved = match self.mode {
            Mode::Max => value > self.best,
            _ => value < self.best,
        };
        if improved {
            self.best = value;
        }
        if improved || !self.best_only {
            save_weights(end.vs, &self.path)?;
            self.best_epoch = Some(end.epoch);
        }
        Ok(Control::Continue)
    }

    fn monitor(&self) -> Option<&str> {
        Some(&self.monitor)
    }
}

/// Keras `CSVLogger(filename)`: after every epoch, writes the history so
/// far (`epoch,<columns>,lr`, as [`History::to_csv`]) to a CSV file,
/// replacing it atomically, so that an interrupted run leaves a complete
/// file of the epochs it finished.
#[derive(Debug, Clone)]
pub struct CsvLogger {
    path: PathBuf,
}

impl CsvLogger {
    /// Logs to `path`.
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
        }
    }
}

impl Callback for CsvLogger {
    fn on_epoch_end(&mut self, end: &EpochEnd<'_>) -> Result<Control, TrainError> {
        end.history.write_csv(&self.path)?;
        Ok(Control::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_auto_mode_and_restore_best_unlike_keras() {
        let es = EarlyStopping::new("val_auc", 0.0, 2).unwrap();
        assert_eq!(es.mode(), Mode::Max);
        assert!(es.restore_best_weights());
        assert_eq!(
            es.restore_best_weights(),
            EarlyStopping::RESTORES_BEST_BY_DEFAULT
        );
        assert_eq!(
            EarlyStopping::new("val_loss", 0.0, 2).unwrap().mode(),
            Mode::Min
        );
        let es = EarlyStopping::new("val_loss", 0.0, 2)
            .unwrap()
            .with_mode(Mode::Max);
        assert_eq!(es.mode(), Mode::Max);
        // Both constructors validate, alike.
        assert!(EarlyStopping::new("", 0.0, 2).is_err());
        assert!(EarlyStopping::new("val_loss", f64::NAN, 2).is_err());
        assert!(ReduceLrOnPlateau::new(" ", 0.5, 2).is_err());
        assert!(ModelCheckpoint::new("best.bin", "val_loss").is_err());
        assert!(ModelCheckpoint::new("best.safetensors", "").is_err());
        // Auto mode of the plateau schedule maximises accuracy: rising values are improvements.
        let mut p = ReduceLrOnPlateau::new("val_accuracy", 0.5, 1).unwrap();
        assert_eq!(p.on_epoch_end(0.5, 1.0).new_lr, None);
        assert_eq!(p.on_epoch_end(0.6, 1.0).new_lr, None);
        assert_eq!(p.on_epoch_end(0.55, 1.0).new_lr, Some(0.5));
    }

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
        let es = EarlyStopping::new("val_loss", 0.0, 3).unwrap();
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
            let es = EarlyStopping::new("val_loss", 0.0, p).unwrap();
            assert_eq!(
                run_es(es, &[1.0, 0.9, 0.95, 0.1]),
                (Some(2), Some(1)),
                "patience {p}"
            );
        }
        // Patience 0 never stops at the first epoch.
        let mut es = EarlyStopping::new("val_loss", 0.0, 0).unwrap();
        assert!(!es.on_epoch_end(0, f64::NAN).stop);
    }

    #[test]
    fn early_stopping_ties_and_min_delta_are_not_improvements() {
        // A tie is not an improvement (strict comparison).
        let es = EarlyStopping::new("val_loss", 0.0, 2).unwrap();
        assert_eq!(run_es(es, &[1.0, 1.0, 1.0, 0.5]), (Some(2), Some(0)));
        // An improvement smaller than min_delta does not count.
        let es = EarlyStopping::new("val_loss", 0.1, 2).unwrap();
        assert_eq!(run_es(es, &[1.0, 0.95, 0.91, 0.5]), (Some(2), Some(0)));
        // Exactly min_delta better is still not strictly better: 0.875 + 0.125 < 1.0 is false.
        let es = EarlyStopping::new("val_loss", 0.125, 1).unwrap();
        assert_eq!(run_es(es, &[1.0, 0.875, 0.5]), (Some(1), Some(0)));
        // Just over min_delta better is an improvement.
        let es = EarlyStopping::new("val_loss", 0.125, 1).unwrap();
        assert_eq!(run_es(es, &[1.0, 0.75, 0.5]), (None, Some(2)));
        // Negative min_delta is taken by absolute value, like Keras.
        let es = EarlyStopping::new("val_loss", -0.1, 2).unwrap();
        assert_eq!(run_es(es, &[1.0, 0.95, 0.91, 0.5]), (Some(2), Some(0)));
    }

    #[test]
    fn early_stopping_max_mode_and_auto() {
        let es = EarlyStopping::new("val_accuracy", 0.0, 2).unwrap();
        assert_eq!(es.mode(), Mode::Max, "auto mode maximises accuracies");
        assert_eq!(run_es(es, &[0.5, 0.7, 0.7, 0.69, 0.9]), (Some(3), Some(1)));
        assert_eq!(Mode::auto("val_loss"), Mode::Min);
        assert_eq!(Mode::auto("val_auc"), Mode::Max);
    }

    #[test]
    fn early_stopping_baseline_keeps_wait_running() {
        // Improvements that do not beat the baseline do not reset wait.
        let es = EarlyStopping::new("val_loss", 0.0, 3)
            .unwrap()
            .with_baseline(0.5);
        assert_eq!(run_es(es, &[0.9, 0.8, 0.7, 0.6]), (None, Some(3)));
        let es = EarlyStopping::new("val_loss", 0.0, 3)
            .unwrap()
            .with_baseline(0.5);
        assert_eq!(run_es(es, &[0.9, 0.8, 0.7, 0.7]), (Some(3), Some(2)));
    }

    #[test]
    fn early_stopping_start_from_epoch_ignores_warm_up() {
        let es = EarlyStopping::new("val_loss", 0.0, 1)
            .unwrap()
            .with_start_from_epoch(2);
        assert_eq!(run_es(es, &[0.1, 0.2, 0.5, 0.6]), (Some(3), Some(2)));
    }

    #[test]
    fn early_stopping_reports_first_epoch_as_best_and_snapshot() {
        let mut es = EarlyStopping::new("val_loss", 0.0, 5).unwrap();
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
        let p = ReduceLrOnPlateau::new("val_loss", 0.5, 3).unwrap();
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
        let p = ReduceLrOnPlateau::new("val_loss", 0.5, 1).unwrap();
        assert_eq!(
            run_plateau(p, 1.0, &[1.0, 0.99995, 0.9]),
            vec![1.0, 0.5, 0.5]
        );
        let p = ReduceLrOnPlateau::new("val_loss", 0.5, 1)
            .unwrap()
            .with_min_delta(0.0);
        assert_eq!(
            run_plateau(p, 1.0, &[1.0, 0.99995, 0.99995]),
            vec![1.0, 1.0, 0.5]
        );
    }

    #[test]
    fn plateau_patience_zero_reduces_on_every_bad_epoch() {
        let p = ReduceLrOnPlateau::new("val_loss", 0.5, 0).unwrap();
        // Improvement at epoch 0, bad at 1 and 2.
        assert_eq!(run_plateau(p, 1.0, &[1.0, 1.0, 1.0]), vec![1.0, 0.5, 0.25]);
    }

    #[test]
    fn plateau_cooldown_skips_counting() {
        let p = ReduceLrOnPlateau::new("val_loss", 0.5, 1)
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
        let p = ReduceLrOnPlateau::new("val_loss", 0.1, 1)
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
        let mut p = ReduceLrOnPlateau::new("val_loss", 0.5, 2).unwrap();
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
        let p = ReduceLrOnPlateau::new("val_accuracy", 0.5, 1)
            .unwrap()
            .with_mode(Mode::Max);
        assert_eq!(run_plateau(p, 1.0, &[0.5, 0.6, 0.6]), vec![1.0, 1.0, 0.5]);
    }

    #[test]
    fn plateau_rejects_bad_factor() {
        assert!(ReduceLrOnPlateau::new("val_loss", 1.0, 1).is_err());
        assert!(ReduceLrOnPlateau::new("val_loss", 0.0, 1).is_err());
    }
}
