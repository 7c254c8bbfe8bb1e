//! The thread's other questions, answered seed by seed from the as-posted
//! run's error per epoch ([`super::PerEpoch`]): why the training error rises
//! over the first epochs, and whether the validation error is below it.

use super::summary::{count, mean_sd};
use super::{ContinuationDetails, PerEpoch};
use crate::aggregate::SeedResult;

/// The run whose error per epoch answers the questions.
const RUN: &str = "as_posted";
/// The thread's "first 7 epochs".
const FIRST_EPOCHS: usize = 7;

/// One seed's answers.
struct SeedAnswer {
    /// Epochs (2 onwards) whose training error is above the previous epoch's.
    rises: Vec<usize>,
    /// Largest gap between (error − departure) and the flat line's error, epochs 1 onwards.
    identity_gap: f64,
    /// Epochs (1 onwards) whose validation error is below the training error.
    val_below: usize,
    epochs: usize,
    /// Training error at epoch 7 above that at epoch 1.
    rose_by_7: bool,
    /// Departure from the flat line before training, after epoch 1, at the error's peak.
    departure: [f64; 3],
    seed: u64,
    /// Training error before training and after each epoch.
    train: Vec<f64>,
    /// Training and validation sequences.
    sizes: (usize, usize),
    /// Mean over epochs 1 onwards of validation less training error, and
    /// its two parts: the flat-line errors' difference and the departures'.
    gap: [f64; 3],
    line: String,
}

/// The questions' paragraph; `None` when no seed recorded the run per epoch.
pub(super) fn thread_questions(seeds: &[SeedResult<ContinuationDetails>]) -> Option<String> {
    let answers: Vec<SeedAnswer> = seeds
        .iter()
        .filter_map(|s| answer(s.seed, &s.metrics.details))
        .collect();
    if answers.is_empty() {
        return None;
    }
    let lines: Vec<&str> = answers.iter().map(|a| a.line.as_str()).collect();
    Some(format!(
        "**The thread's training and validation error.** The thread asks why the training MSE rises over the first {FIRST_EPOCHS} epochs and whether the validation error is lower than the training error. The fit's own loss is against the run's identity targets and falls from the first epoch; the error the asker plotted is not in the part of the thread seqlab could read, so seqlab takes the MSE of the continuation predicted as posted (`predictSequence`) against the truth, on the training and on the validation sequences, before training (epoch 0) and after every epoch ({RUN}; the picture `as_posted_continuation_error.png`). The departure is the mean squared difference between the predicted values and the 5th seed, a flat line where the seeds end.\n\n{}\n\n{}\n\n{}",
        lines.join("\n"),
        why_it_rises(&answers),
        validation_below(&answers),
    ))
}

/// Is `test` true for the answer, as 1 or 0 (for [`count`]).
fn flags(answers: &[SeedAnswer], test: impl Fn(&SeedAnswer) -> bool) -> Vec<f64> {
    answers
        .iter()
        .map(|a| f64::from(u8::from(test(a))))
        .collect()
}

/// The rise over seeds, and why.
fn why_it_rises(answers: &[SeedAnswer]) -> String {
    let gap = answers.iter().map(|a| a.identity_gap).fold(0.0, f64::max);
    let rose = flags(answers, |a| a.rose_by_7);
    let all_rising = flags(answers, |a| {
        (2..=FIRST_EPOCHS).all(|e| a.rises.contains(&e))
    });
    let pulled = flags(answers, |a| a.departure[1] < a.departure[0]);
    let drifted = flags(answers, |a| a.departure[2] > a.departure[1]);
    let early: Vec<f64> = answers.iter().map(|a| a.departure[0]).collect();
    let first: Vec<f64> = answers.iter().map(|a| a.departure[1]).collect();
    let peak: Vec<f64> = answers.iter().map(|a| a.departure[2]).collect();
    let all = |v: &[f64]| v.iter().all(|&x| x > 0.5);
    let carried = if all(&pulled) {
        ": learning the identity carries the 5th seed forward"
    } else {
        ""
    };
    let drift = if all(&drifted) {
        ": the values the model feeds back to itself drift away from the 5th seed again, and the error follows that drift"
    } else {
        ""
    };
    let epochs = answers.iter().map(|a| a.train.len()).min().unwrap_or(0);
    let mean: Vec<f64> = (0..epochs)
        .map(|e| answers.iter().map(|a| a.train[e]).sum::<f64>() / answers.len() as f64)
        .collect();
    let last_rise = (2..epochs).take_while(|&e| mean[e] > mean[e - 1]).last();
    let mean_rise = match last_rise {
        Some(e) => format!(
            "; their mean rises from epoch 1 ({:.3}) at every epoch to epoch {e} ({:.3})",
            mean[1], mean[e]
        ),
        None => String::new(),
    };
    format!(
        "Over seeds, the training error is higher after epoch {FIRST_EPOCHS} than after epoch 1 in {}, and rises at every epoch from 2 to {FIRST_EPOCHS} in {}{mean_rise}. Why it moves: the prediction as posted never sees the 4th seed, so the error the slope causes is the flat line's whatever the model learns, and the model adds its departure from the flat line, which cannot depend on the slope either: error = the flat line's error + departure, to within {gap:.3} at every epoch of every seed. The departure falls in epoch 1 in {} (from {} before training to {} after epoch 1{carried}) and is larger at the error's peak than after epoch 1 in {} ({}){drift}.",
        count(&rose, |x| x > 0.5),
        count(&all_rising, |x| x > 0.5),
        count(&pulled, |x| x > 0.5),
        mean_sd(&early, 3),
        mean_sd(&first, 3),
        count(&drifted, |x| x > 0.5),
        mean_sd(&peak, 3),
    )
}

/// Validation against training error over seeds, and why.
fn validation_below(answers: &[SeedAnswer]) -> String {
    let mostly_below = flags(answers, |a| 2 * a.val_below > a.epochs);
    let answer = if 2 * mostly_below.iter().filter(|&&x| x > 0.5).count() > answers.len() {
        "yes"
    } else {
        "no"
    };
    let rest = |a: &SeedAnswer| a.gap[0] - a.gap[1] - a.gap[2];
    let rest_largest = flags(answers, |a| {
        rest(a).abs() > a.gap[1].abs().max(a.gap[2].abs())
    });
    let flat_largest = flags(answers, |a| {
        a.gap[1].abs() > a.gap[2].abs().max(rest(a).abs())
    });
    let parts: Vec<String> = answers
        .iter()
        .map(|a| {
            let [g, f, d] = a.gap;
            format!(
                "seed {}: {g:+.3} = {f:+.3} (flat lines) {d:+.3} (departures) {:+.3} (cross term)",
                a.seed,
                rest(a)
            )
        })
        .collect();
    format!(
        "The validation error is below the training error at most epochs in {}: the thread's second question is answered {answer} in most seeds. By the sum above, validation less training error, averaged over the epochs, splits into the two samples' flat-line errors' difference (which slopes each sample happens to have), their departures' difference (how far the fed-back values drift from each sample's 5th seeds) and the sum's cross term, which vanishes only on average (it is the sample's covariance between the drift, a function of the 5th seed, and the slope, set by the 4th): {}. The flat lines' part is the largest in {}, the cross term in {}. All three are chance properties of a sample of {} validation against {} training sequences; the model never reads the 4th seed, so the gap says nothing about generalisation.",
        count(&mostly_below, |x| x > 0.5),
        parts.join("; "),
        count(&flat_largest, |x| x > 0.5),
        count(&rest_largest, |x| x > 0.5),
        answers[0].sizes.1,
        answers[0].sizes.0,
    )
}

/// One seed's answers, from its as-posted error per epoch.
fn answer(seed: u64, d: &ContinuationDetails) -> Option<SeedAnswer> {
    let p: &PerEpoch = d.asker.get(RUN)?.per_epoch.as_ref()?;
    let (tm, vm, td) = (&p.train_mse, &p.val_mse, &p.train_departure);
    let epochs = tm.len().checked_sub(1)?;
    if epochs < 1
        || [vm, td, &p.val_departure]
            .iter()
            .any(|v| v.len() != tm.len())
    {
        return None;
    }
    let rises: Vec<usize> = (2..=epochs).filter(|&e| tm[e] > tm[e - 1]).collect();
    let (peak, peak_value) = (1..=epochs)
        .map(|e| (e, tm[e]))
        .fold((1, f64::MIN), |best, x| if x.1 > best.1 { x } else { best });
    let flat = d.fifth_seed_flat_mse_train;
    let identity_gap = (1..=epochs)
        .map(|e| (tm[e] - td[e] - flat).abs())
        .fold(0.0, f64::max);
    let val_below = (1..=epochs).filter(|&e| vm[e] < tm[e]).count();
    let rose_by_7 = epochs >= FIRST_EPOCHS && tm[FIRST_EPOCHS] > tm[1];
    let vd = &p.val_departure;
    let mean_over = |f: &dyn Fn(usize) -> f64| (1..=epochs).map(f).sum::<f64>() / epochs as f64;
    let gap = [
        mean_over(&|e| vm[e] - tm[e]),
        d.fifth_seed_flat_mse_val - flat,
        mean_over(&|e| vd[e] - td[e]),
    ];
    let line = format!(
        "- seed {seed}: training error {:.3} before training, {:.3} after epoch 1; rises in epochs {} ({} of {}), highest {peak_value:.3} after epoch {peak}, {:.3} after epoch {epochs}. Departure from the flat line: {:.3} before training, {:.3} after epoch 1, {:.3} after epoch {peak}; the flat line's error {flat:.3}. Validation error below training after {val_below} of {epochs} epochs (flat-line error: validation {:.3}, training {flat:.3}; per-step-mean baseline: validation {:.3}, training {:.3}).",
        tm[0],
        tm[1],
        ranges(&rises),
        rises.len(),
        epochs.saturating_sub(1),
        tm[epochs],
        td[0],
        td[1],
        td[peak],
        d.fifth_seed_flat_mse_val,
        d.mean_baseline_mse,
        d.mean_baseline_mse_train,
    );
    Some(SeedAnswer {
        departure: [td[0], td[1], td[peak]],
        seed,
        train: tm.clone(),
        sizes: (d.n_train, d.n_val),
        gap,
        rises,
        identity_gap,
        val_below,
        epochs,
        rose_by_7,
        line,
    })
}

/// Sorted epochs as ranges: `2-4, 10, 12-17` ("none" when empty).
fn ranges(epochs: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < epochs.len() {
        let start = epochs[i];
        let mut end = start;
        while i + 1 < epochs.len() && epochs[i + 1] == end + 1 {
            i += 1;
            end = epochs[i];
        }
        parts.push(if end == start {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn epochs_are_written_as_ranges() {
        assert_eq!(ranges(&[2, 3, 4, 10, 12, 13]), "2-4, 10, 12-13");
        assert_eq!(ranges(&[]), "none");
        assert_eq!(ranges(&[7]), "7");
    }
}
