//! The HARD LSTM's collapses over seeds: the per-seed columns of the
//! diagnosis, the finding in words (generated from the numbers), and the
//! steps around each seed's worst collapse, plotted.

use super::details::TemporalOrderDetails;
use super::diagnosis::{median, StepDiagnosis, LARGE_UPDATE, SPIKE_LOSS};
use super::summary::hard;
use crate::aggregate::SeedResult;
use crate::common::fmt_number;
use crate::ExperimentError;
use seqlab_plot::{Figure, LegendPosition, LineChart, Series};
use seqlab_train::diagnostics::StepRecord;
use std::path::Path;

/// Steps shown before and after the worst onset (two epochs of 31 each way).
const WINDOW: usize = 62;

/// The diagnosis columns of the per-seed table (see `summary::hard_lstm_per_seed`).
pub(super) fn row(d: Option<&StepDiagnosis>) -> String {
    let Some(d) = d else {
        return "- | - | - | - | - | -".into();
    };
    let rms = match d.solved_epoch {
        Some(_) => ratio(d.quiet_rms / d.learning_rms),
        None => "-".into(),
    };
    let Some(o) = d.worst_onset() else {
        return format!("0 | - | - | - | - | {rms}");
    };
    format!(
        "{} | {}.{}: {} -> {} | {} | {} | {} | {rms}",
        d.onsets.len(),
        o.epoch,
        o.batch,
        fmt_number(o.loss),
        fmt_number(o.next_loss),
        ratio(o.grad_norm / d.quiet_grad_norm),
        ratio(o.update_norm / d.quiet_update_norm),
        ratio(o.update_max / d.update_cap.unwrap_or(f64::NAN)),
    )
}

/// The pooled numbers of the finding: over every onset of every seed.
struct Pooled {
    seeds: usize,
    seeds_with_onsets: usize,
    onsets: usize,
    grad_ratio: f64,
    update_ratio: f64,
    cap_fraction: f64,
    onset_loss: f64,
    next_loss: f64,
    above_clip: usize,
    rms_ratio: f64,
    large: usize,
    large_followed: usize,
}

fn pooled(diagnoses: &[&StepDiagnosis], clip: f64) -> Pooled {
    let per_onset = |f: &dyn Fn(&StepDiagnosis, &super::diagnosis::Onset) -> f64| {
        median(
            diagnoses
                .iter()
                .flat_map(|d| d.onsets.iter().map(|o| f(d, o)))
                .collect(),
        )
    };
    Pooled {
        seeds: diagnoses.len(),
        seeds_with_onsets: diagnoses.iter().filter(|d| !d.onsets.is_empty()).count(),
        onsets: diagnoses.iter().map(|d| d.onsets.len()).sum(),
        grad_ratio: per_onset(&|d, o| o.grad_norm / d.quiet_grad_norm),
        update_ratio: per_onset(&|d, o| o.update_norm / d.quiet_update_norm),
        cap_fraction: per_onset(&|d, o| o.update_max / d.update_cap.unwrap_or(f64::NAN)),
        onset_loss: per_onset(&|_, o| o.loss),
        next_loss: per_onset(&|_, o| o.next_loss),
        above_clip: diagnoses
            .iter()
            .flat_map(|d| &d.onsets)
            .filter(|o| o.grad_norm > clip)
            .count(),
        rms_ratio: median(
            diagnoses
                .iter()
                .map(|d| d.quiet_rms / d.learning_rms)
                .collect(),
        ),
        large: diagnoses.iter().map(|d| d.large_updates).sum(),
        large_followed: diagnoses.iter().map(|d| d.large_updates_followed).sum(),
    }
}

/// A ratio to three significant digits (`104`, `17.3`, `0.699`).
pub(super) fn ratio(x: f64) -> String {
    match x.abs() {
        a if a >= 100.0 => format!("{x:.0}"),
        a if a >= 10.0 => format!("{x:.1}"),
        a if a >= 1.0 => format!("{x:.2}"),
        _ => format!("{x:.3}"),
    }
}

/// The finding about the HARD LSTM's collapses, in words, from the seeds'
/// diagnoses: whether the step at a collapse's onset is outsized (at least
/// [`LARGE_UPDATE`] times a quiet step at the median onset), what clipping
/// did there, and whether `v` had decayed to tiny values (below a tenth of
/// its level while learning).
pub(super) fn finding(seeds: &[SeedResult<TemporalOrderDetails>]) -> String {
    let diagnoses: Vec<&StepDiagnosis> = seeds
        .iter()
        .filter_map(|s| hard(s, "lstm")?.diagnosis.as_ref())
        .collect();
    let clip = seeds
        .first()
        .and_then(|s| s.metrics.details.levels.get("hard")?.clip_grad_norm)
        .unwrap_or(f64::INFINITY);
    let p = pooled(&diagnoses, clip);
    if p.onsets == 0 {
        return format!(
            "**Finding.** No collapse onset at any of the {} seeds with recorded steps.",
            p.seeds
        );
    }
    let step = if p.update_ratio >= LARGE_UPDATE {
        format!("confirmed: a collapse starts with an outsized step, at least {LARGE_UPDATE} times a quiet one at the median onset")
    } else {
        format!("not confirmed: at the median onset the step is less than {LARGE_UPDATE} times a quiet one")
    };
    let v = if p.rms_ratio < 0.1 {
        format!("As supposed, v had decayed to tiny values: sqrt(v) on the quiet steps is a median {} of its level while learning.", ratio(p.rms_ratio))
    } else {
        format!("Not as supposed, v had not decayed to tiny values: sqrt(v) on the quiet steps is a median {} of its level while learning. What makes the step large is the gradient's jump against that v, not v's decay.", ratio(p.rms_ratio))
    };
    format!(
        "**Finding.** {} collapse onsets at {} of {} seeds (median batch loss at the onset {}, median loss of the batch after it {}). At the median onset the gradient norm before clipping is {} times the seed's quiet median; the step then moves the weights {} times as far as a quiet step, and its largest change of one weight is {} of RMSprop's ceiling lr/sqrt(1-alpha) = {}. The mechanism is {step}. Clipping the gradient norm at {clip} scaled the gradient at {} of the {} onsets and did not prevent them: RMSprop divides the clipped gradient by the root of its own running squared average, which the quiet steps' small gradients had set, so the step size does not follow the gradient's norm. {v} {} of the {} onsets made a step at least {LARGE_UPDATE} times the quiet median, while of the {} quiet steps that made one, {} were followed by a batch loss of at least {SPIKE_LOSS}: such a step is nearly always where a collapse starts, but it does not always start one. Each value's step is bounded by the learning rate times a constant (the ceiling), and by nothing the clip controls: hence the two corrections below.",
        p.onsets,
        p.seeds_with_onsets,
        p.seeds,
        fmt_number(p.onset_loss),
        fmt_number(p.next_loss),
        ratio(p.grad_ratio),
        ratio(p.update_ratio),
        ratio(p.cap_fraction),
        fmt_number(diagnoses.first().and_then(|d| d.update_cap).unwrap_or(f64::NAN)),
        p.above_clip,
        p.onsets,
        p.large_followed,
        p.onsets,
        p.large,
        p.large_followed,
    )
}

/// `hard_lstm_collapse.png`: for each seed, the steps around its worst
/// onset on a logarithmic axis: batch loss, gradient norm before clipping,
/// update norm and median sqrt(v). Returns the file's name, or `None`
/// where no seed has an onset (then there is no plot).
pub(super) fn plot(
    seeds: &[SeedResult<TemporalOrderDetails>],
    dir: &Path,
) -> Result<Option<String>, ExperimentError> {
    let mut fig = Figure::new(1500, 860)
        .title(format!(
            "Temporal order, HARD, LSTM as configured: the {WINDOW} steps either side of each seed's worst collapse onset (step 0; logarithmic axis)"
        ))
        .grid(2, seeds.len().div_ceil(2).max(1));
    for s in seeds {
        let Some(onset) = hard(s, "lstm")
            .and_then(|m| m.diagnosis.as_ref())
            .and_then(StepDiagnosis::worst_onset)
        else {
            continue;
        };
        let steps = read_steps(&s.dir.join("hard_lstm_diagnostics.csv.gz"))?;
        let Some(at) = steps
            .iter()
            .position(|r| (r.epoch, r.batch) == (onset.epoch, onset.batch))
        else {
            continue;
        };
        let window = &steps[at.saturating_sub(WINDOW)..(at + WINDOW + 1).min(steps.len())];
        let first = at.saturating_sub(WINDOW) as f64 - at as f64;
        let x: Vec<f64> = (0..window.len()).map(|i| first + i as f64).collect();
        let series = |name: &str, f: fn(&StepRecord) -> f64, colour: usize| {
            let y: Vec<f64> = window.iter().map(f).collect();
            Series::from_xy(name, &x, &y).map(|s| s.color(colour))
        };
        let chart = LineChart::new(format!(
            "seed {}: onset at epoch {}, batch {}",
            s.seed, onset.epoch, onset.batch
        ))
        .x_label("step from the onset")
        .y_label("value (log scale)")
        .log_y(true)
        // Headroom above the largest gradient norms for the legend.
        .y_range(1e-5, 1e7)
        .legend(LegendPosition::UpperLeft)
        .series(series("batch loss", |r| r.loss, 0)?)
        .series(series("gradient norm before clipping", |r| r.grad_norm, 1)?)
        .series(series("update norm", |r| r.update_norm, 2)?)
        .series(series("median sqrt(v)", |r| r.rms_median, 3)?.dashed());
        fig = fig.panel(chart);
    }
    if fig.panel_count() == 0 {
        return Ok(None);
    }
    let file = "hard_lstm_collapse.png".to_string();
    fig.save_png(dir.join(&file))?;
    Ok(Some(file))
}

/// A run's recorded steps, read back through [`StepRecord`].
pub(super) fn read_steps(path: &Path) -> Result<Vec<StepRecord>, ExperimentError> {
    let text =
        crate::common::read_text_maybe_gzip(path).map_err(|source| ExperimentError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    StepRecord::from_csv(&text).map_err(|e| ExperimentError::Saved {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
