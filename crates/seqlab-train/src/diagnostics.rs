//! Optional per-step diagnostics of the optimiser ([`FitConfig::record_steps`](crate::fit::FitConfig::record_steps)):
//! for every mini-batch step, the gradient norm before clipping, the size of
//! the update the step made, and the optimiser's second-moment state.
//!
//! libtorch does not expose its optimisers' state, so the second moment is
//! a shadow kept here from the same gradients the step uses (after
//! clipping): `v = decay * v + (1 - decay) * g * g`, starting from zero,
//! with RMSprop's `alpha` or Adam's `beta2` as the decay (Adam's `v` as
//! stored, without its bias correction). RMSprop divides the gradient by
//! `sqrt(v) + eps`; the update itself is measured, not derived: the change
//! of every trainable value across the step. Recording reads the gradients
//! and values only, so a run trains identically with and without it.

use crate::optim::{Optimizer, OptimizerKind};
use crate::TrainError;
use tch::Tensor;

/// One optimiser step, measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based mini-batch within the epoch.
    pub batch: usize,
    /// The mini-batch's training loss (before the step).
    pub loss: f64,
    /// Joint 2-norm of all gradients before clipping.
    pub grad_norm: f64,
    /// 2-norm of the change of all trainable values made by the step.
    pub update_norm: f64,
    /// Largest absolute change of a single value.
    pub update_max: f64,
    /// Median over the trainable values of `sqrt(v)`, the second-moment
    /// average the step divided by (NaN for SGD, which keeps none).
    pub rms_median: f64,
    /// Smallest `sqrt(v)` over the trainable values (NaN for SGD).
    pub rms_min: f64,
}

/// The CSV header [`StepRecord::line`] writes under.
pub const STEP_HEADER: &str =
    "epoch,batch,loss,grad_norm,update_norm,update_max,rms_median,rms_min";

impl StepRecord {
    /// The record as a CSV line (numbers to six significant digits).
    pub fn line(&self) -> String {
        let n = |x: f64| format!("{x:.5e}");
        format!(
            "{},{},{},{},{},{},{},{}\n",
            self.epoch,
            self.batch,
            n(self.loss),
            n(self.grad_norm),
            n(self.update_norm),
            n(self.update_max),
            n(self.rms_median),
            n(self.rms_min)
        )
    }

    /// `records` as a CSV with [`STEP_HEADER`].
    pub fn to_csv(records: &[StepRecord]) -> String {
        let mut s = format!("{STEP_HEADER}\n");
        s.extend(records.iter().map(StepRecord::line));
        s
    }

    /// Parses a CSV written by [`StepRecord::to_csv`].
    pub fn from_csv(text: &str) -> Result<Vec<StepRecord>, TrainError> {
        let bad = |line: usize, why: &str| {
            TrainError::InvalidConfig(format!("steps CSV line {line}: {why}"))
        };
        let mut lines = text.lines();
        if lines.next() != Some(STEP_HEADER) {
            return Err(bad(1, "not the header seqlab writes"));
        }
        lines
            .enumerate()
            .map(|(i, l)| Self::parse(l).ok_or_else(|| bad(i + 2, "not a step record")))
            .collect()
    }

    fn parse(line: &str) -> Option<StepRecord> {
        let f: Vec<&str> = line.split(',').collect();
        let [epoch, batch, rest @ ..] = f.as_slice() else {
            return None;
        };
        let x: Vec<f64> = rest.iter().map(|v| v.parse().ok()).collect::<Option<_>>()?;
        let [loss, grad_norm, update_norm, update_max, rms_median, rms_min] = x.as_slice() else {
            return None;
        };
        Some(StepRecord {
            epoch: epoch.parse().ok()?,
            batch: batch.parse().ok()?,
            loss: *loss,
            grad_norm: *grad_norm,
            update_norm: *update_norm,
            update_max: *update_max,
            rms_median: *rms_median,
            rms_min: *rms_min,
        })
    }
}

/// Measures the steps of one fit (see the module documentation).
pub(crate) struct StepProbe {
    /// The second moment's decay, if the optimiser keeps one.
    decay: Option<f64>,
    /// The shadow second moment, from the first step on.
    v: Option<Tensor>,
    /// The values before the step under way.
    before: Option<Tensor>,
    /// The gradient norm before clipping of the step under way.
    grad_norm: f64,
}

impl StepProbe {
    /// A probe for an optimiser of `kind`.
    pub(crate) fn new(kind: OptimizerKind) -> Self {
        let decay = match kind {
            OptimizerKind::RmsProp { alpha, .. } => Some(alpha),
            OptimizerKind::Adam { beta2, .. } => Some(beta2),
            OptimizerKind::Sgd { .. } => None,
        };
        Self {
            decay,
            v: None,
            before: None,
            grad_norm: f64::NAN,
        }
    }

    /// After the backward pass, before clipping: the gradient norm.
    pub(crate) fn before_clip(&mut self, opt: &mut Optimizer) -> Result<(), TrainError> {
        self.grad_norm = opt.grad_norm()?;
        Ok(())
    }

    /// After clipping, before the step: the second moment with this step's
    /// gradient, and the values before the step.
    pub(crate) fn before_step(&mut self, opt: &mut Optimizer) -> Result<(), TrainError> {
        if let Some(decay) = self.decay {
            let g = opt.flat_grad()?;
            let g2 = g.f_mul(&g)?.f_mul_scalar(1.0 - decay)?;
            let v = match self.v.take() {
                Some(v) => v.f_mul_scalar(decay)?.f_add(&g2)?,
                None => g2,
            };
            self.v = Some(v);
        }
        self.before = Some(opt.flat_values()?);
        Ok(())
    }

    /// After the step: the step's record.
    pub(crate) fn after_step(
        &mut self,
        opt: &Optimizer,
        epoch: usize,
        batch: usize,
        loss: f64,
    ) -> Result<StepRecord, TrainError> {
        let after = opt.flat_values()?;
        let (update_norm, update_max) = match self.before.take() {
            Some(before) => {
                let d = after.f_sub(&before)?;
                (
                    d.f_norm()?.f_double_value(&[])?,
                    d.f_abs()?.f_max()?.f_double_value(&[])?,
                )
            }
            None => (f64::NAN, f64::NAN),
        };
        let (rms_median, rms_min) = match &self.v {
            Some(v) if v.numel() > 0 => {
                let rms = v.f_sqrt()?;
                (
                    rms.f_median()?.f_double_value(&[])?,
                    rms.f_min()?.f_double_value(&[])?,
                )
            }
            _ => (f64::NAN, f64::NAN),
        };
        Ok(StepRecord {
            epoch,
            batch,
            loss,
            grad_norm: self.grad_norm,
            update_norm,
            update_max,
            rms_median,
            rms_min,
        })
    }
}
