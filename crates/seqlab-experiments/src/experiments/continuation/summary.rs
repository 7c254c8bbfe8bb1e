//! What the summary over seeds adds: the measurements of each seed, and
//! paragraphs over seeds on the third slip, targets against batch size and
//! the flat line (the thread's own questions are in [`super::questions`]).

use super::ContinuationDetails;
use crate::aggregate::{SeedResult, SummaryExtra};
use crate::experiment::SummaryContext;
use crate::runner::Measurement;
use crate::ExperimentError;
use seqlab_metrics::SeedSpread;
use std::fmt::Write as _;

/// A flat line: a spread within a sequence below this share of the truth's.
pub const FLAT_SHARE: f64 = 0.1;

/// One number of a seed's details (`None` where the seed lacks it).
pub(super) type Pick<'a> = Box<dyn Fn(&ContinuationDetails) -> Option<f64> + 'a>;

/// A run's MSE relative to the baseline.
pub(super) fn ratio(run: &str) -> Pick<'_> {
    Box::new(move |d| Some(d.asker.get(run)?.ratio_to_baseline))
}

/// A run's spread within a sequence (`late`: of the values fed back longer).
fn spread(run: &str, late: bool) -> Pick<'_> {
    Box::new(move |d| {
        let m = d.asker.get(run)?;
        Some(if late {
            m.late_spread
        } else {
            m.within_sequence_spread
        })
    })
}

/// A run's last one-step validation loss against the next values.
fn next_value_loss(run: &str) -> Pick<'_> {
    Box::new(move |d| Some(d.asker.get(run)?.final_next_value_loss))
}

/// The change of MSE / baseline from run `from` to run `to`.
fn change<'a>(from: &'a str, to: &'a str) -> Pick<'a> {
    Box::new(move |d| {
        Some(d.asker.get(to)?.ratio_to_baseline - d.asker.get(from)?.ratio_to_baseline)
    })
}

/// The paired changes the summary reads: what, from, to.
pub const CHANGES: [(&str, &str, &str); 4] = [
    (
        "the targets fix alone, at the posted batches of 3, prediction as posted",
        "as_posted",
        "targets_fixed_batch_3",
    ),
    (
        "batches of 16 reshuffled instead of 3 in order, targets fixed, prediction as posted",
        "targets_fixed_batch_3",
        "targets_fixed",
    ),
    (
        "the targets fix, at the posted batches of 3, prediction fixed",
        "prediction_fixed",
        "both_fixed_batch_3",
    ),
    (
        "batches of 16 reshuffled instead of 3 in order, both fixed",
        "both_fixed_batch_3",
        "both_fixed",
    ),
];

/// The spreads the flat-line question reads: label, run, fed back longer.
const FLAT_CANDIDATES: [(&str, &str, bool); 5] = [
    ("as_posted", "as_posted", false),
    (
        "as_posted_trainable_state",
        "as_posted_trainable_state",
        false,
    ),
    ("as_posted, fed back longer", "as_posted", true),
    (
        "as_posted_trainable_state, fed back longer",
        "as_posted_trainable_state",
        true,
    ),
    (
        "prediction_fixed (the identity model reads all five seeds)",
        "prediction_fixed",
        false,
    ),
];

/// Per seed: each run relative to the baseline, the spreads of the flat-line
/// question, and the paired changes of targets against batch size.
pub fn measurements(details: &ContinuationDetails) -> Vec<Measurement> {
    let mut out: Vec<Measurement> = details
        .asker
        .iter()
        .map(|(name, m)| {
            Measurement::new(
                &format!("asker's model, {name}: MSE / baseline"),
                m.ratio_to_baseline,
            )
        })
        .collect();
    out.push(Measurement::new(
        "true continuations: spread within a sequence",
        details.truth_within_sequence_spread,
    ));
    for (label, run, late) in FLAT_CANDIDATES {
        if let Some(v) = spread(run, late)(details) {
            out.push(Measurement::new(
                &format!("asker's model, {label}: spread within a sequence"),
                v,
            ));
        }
    }
    for (what, from, to) in CHANGES {
        if let Some(v) = change(from, to)(details) {
            out.push(Measurement::new(
                &format!("{what} ({to} − {from}): change of MSE / baseline"),
                v,
            ));
        }
    }
    out
}

/// The plot of the as-posted error per epoch, and the paragraphs.
pub fn summarise(
    seeds: &[SeedResult<ContinuationDetails>],
    ctx: SummaryContext<'_>,
) -> Result<SummaryExtra, ExperimentError> {
    let mut files = Vec::new();
    let name = "as_posted_continuation_error.png";
    if super::plot::plot_error_per_epoch(seeds, "as_posted", &ctx.dir.join(name))?.is_some() {
        files.push(name.to_string());
    }
    let report = [
        third_slip(seeds),
        targets_or_batch(seeds),
        flat_line(seeds),
        super::questions::thread_questions(seeds),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(SummaryExtra {
        files,
        report,
        ..SummaryExtra::default()
    })
}

/// Every seed's value of `pick`, or `None` when a seed lacks it.
pub(super) fn per_seed(
    seeds: &[SeedResult<ContinuationDetails>],
    pick: &Pick<'_>,
) -> Option<Vec<f64>> {
    seeds.iter().map(|s| pick(&s.metrics.details)).collect()
}

/// "mean ± sd" of `values` (the value alone for one seed).
pub(super) fn mean_sd(values: &[f64], digits: usize) -> String {
    match SeedSpread::of(values) {
        Ok(s) if s.n > 1 => format!("{:.digits$} ± {:.digits$}", s.mean, s.sd),
        Ok(s) => format!("{:.digits$}", s.mean),
        Err(_) => "n/a".into(),
    }
}

/// The mean of `values` (NaN when empty).
pub(super) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// A Markdown table with one column per seed and a last column "mean ± sd";
/// `None` when a seed lacks a value.
pub(super) fn seed_table(
    seeds: &[SeedResult<ContinuationDetails>],
    rows: &[(String, Pick<'_>)],
    digits: usize,
) -> Option<String> {
    let mut s = String::from("| |");
    for seed in seeds {
        let _ = write!(s, " seed {} |", seed.seed);
    }
    s.push_str(" mean ± sd |\n|---|");
    s.push_str(&"---|".repeat(seeds.len() + 1));
    s.push('\n');
    for (label, pick) in rows {
        let values = per_seed(seeds, pick)?;
        let _ = write!(s, "| {label} |");
        for v in &values {
            let _ = write!(s, " {v:.digits$} |");
        }
        let _ = writeln!(s, " {} |", mean_sd(&values, digits));
    }
    Some(s)
}

/// How many of `values` satisfy `test`, as "k of n".
pub(super) fn count(values: &[f64], test: impl Fn(f64) -> bool) -> String {
    format!(
        "{} of {}",
        values.iter().filter(|&&v| test(v)).count(),
        values.len()
    )
}

/// The third slip: batchSequences fixed with the loop's `ytrain` line kept.
fn third_slip(seeds: &[SeedResult<ContinuationDetails>]) -> Option<String> {
    let runs = ["as_posted", "targets_fixed_as_written", "targets_fixed"];
    let mut rows: Vec<(String, Pick<'_>)> = Vec::new();
    for run in runs {
        rows.push((format!("{run}: MSE / baseline"), ratio(run)));
    }
    for run in runs {
        rows.push((
            format!("{run}: last one-step validation loss (next values)"),
            next_value_loss(run),
        ));
    }
    let identity: Pick<'_> = Box::new(|d| Some(d.identity_next_value_loss));
    rows.push((
        "the identity (each input as its next value): one-step validation loss".into(),
        identity,
    ));
    let table = seed_table(seeds, &rows, 4)?;
    let ratios: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| per_seed(seeds, &ratio(r)))
        .collect::<Option<_>>()?;
    let written = per_seed(seeds, &next_value_loss(runs[1]))?;
    let fixed = per_seed(seeds, &next_value_loss(runs[2]))?;
    let identity_loss = per_seed(seeds, &rows[rows.len() - 1].1)?;
    let nearer: Vec<f64> = (0..written.len())
        .map(|i| {
            f64::from(u8::from(
                (written[i] - identity_loss[i]).abs() < (written[i] - fixed[i]).abs(),
            ))
        })
        .collect();
    let reading = if 2 * nearer.iter().filter(|&&x| x > 0.5).count() > nearer.len() {
        "from epoch 2 it is taught the identity, and its one-step loss ends where the identity's does"
    } else {
        "its one-step loss does not end nearer the identity's in most seeds"
    };
    Some(format!(
        "**The third slip: the targets fixed as written.** Inside the epoch loop the posted code has `ytrain = [makeSequence(x0[i],seqLength) for i in 1:nTrains]`, which rebinds the global training targets after the first epoch. With `batchSequences` as posted it changes nothing (the batches come from `xtrain`); with `batchSequences` using its argument (`targets_fixed_as_written`), epoch 1 trains on the next values and epochs 2 onwards on these raw ten-value sequences, whose value at each scored step is that step's input: the identity again. In Julia, epoch 2 would stop with an error (`x[i][e][:,1]` on a `Float32`); the run shows what the line means numerically. Its MSE / baseline is {} over seeds (as_posted {}, targets_fixed {}); its last one-step loss against the next values is nearer the identity's own (each input taken as its next value) than targets_fixed's in {} seeds: {reading}. `targets_fixed` is the fix: `batchSequences` uses its argument and the line is removed.\n\n{table}",
        mean_sd(&ratios[1], 3),
        mean_sd(&ratios[0], 3),
        mean_sd(&ratios[2], 3),
        count(&nearer, |x| x > 0.5),
    ))
}

/// Targets against batch size: the fixes at the posted batches of 3.
fn targets_or_batch(seeds: &[SeedResult<ContinuationDetails>]) -> Option<String> {
    let first = &seeds.first()?.metrics.details.asker;
    let updates = |run: &str| first.get(run).map(|m| (m.batch_size, m.updates_per_epoch));
    let ((small, small_updates), (large, large_updates)) =
        (updates("targets_fixed_batch_3")?, updates("targets_fixed")?);
    let mut lines = Vec::new();
    let mut effects = Vec::new();
    for (what, from, to) in CHANGES {
        let v = per_seed(seeds, &change(from, to))?;
        let interval = SeedSpread::of(&v).ok().and_then(|s| s.ci95);
        let shown = interval.map_or(String::new(), |[lo, hi]| {
            format!(", 95% interval [{lo:.3}, {hi:.3}]")
        });
        lines.push(format!(
            "- {what} (`{to}` − `{from}`): {}{shown} (lower in {} seeds)",
            mean_sd(&v, 3),
            count(&v, |x| x < 0.0)
        ));
        effects.push(interval);
    }
    let loss_small = per_seed(seeds, &next_value_loss("both_fixed_batch_3"))?;
    let loss_large = per_seed(seeds, &next_value_loss("both_fixed"))?;
    let gain: Vec<f64> = loss_small
        .iter()
        .zip(&loss_large)
        .map(|(a, b)| b - a)
        .collect();
    let fixed_ratios = [ratio("both_fixed_batch_3"), ratio("both_fixed")]
        .iter()
        .map(|p| per_seed(seeds, p).map(|v| mean(&v)))
        .collect::<Option<Vec<f64>>>()?;
    let rows: Vec<(String, Pick<'_>)> = [
        "as_posted",
        "targets_fixed_batch_3",
        "targets_fixed",
        "prediction_fixed",
        "both_fixed_batch_3",
        "both_fixed",
    ]
    .into_iter()
    .map(|r| (format!("{r}: MSE / baseline"), ratio(r)))
    .collect();
    let table = seed_table(seeds, &rows, 4)?;
    let verdict = batch_verdict(&effects, &gain, &fixed_ratios);
    Some(format!(
        "**Targets or batch size.** The fix's `batchSequences(ytrain, {large})` makes batches of {large} ({large_updates} updates per epoch) where the posted code makes batches of {small} ({small_updates}). Run at the posted batches of {small} in the posted order, the fixes differ from the slipped runs in the targets alone. Changes of MSE / baseline, paired by seed (mean ± sd over seeds, Student's t interval for the mean):\n\n{}\n\nWith both slips fixed, the last one-step validation loss against the next values is {} at batches of {small} and {} at batches of {large}, lower at batches of {small} in {} seeds. {verdict}\n\n{table}",
        lines.join("\n"),
        mean_sd(&loss_small, 4),
        mean_sd(&loss_large, 4),
        count(&gain, |x| x > 0.0),
    ))
}

/// Which effect is which, from the 95% intervals of the paired changes
/// (targets, batch, targets with the prediction fixed, batch with the
/// prediction fixed), the seeds' one-step losses at batch 16 less those at
/// batch 3, and the mean ratios of both_fixed at batch 3 and at batch 16.
fn batch_verdict(effects: &[Option<[f64; 2]>], loss_gain: &[f64], fixed: &[f64]) -> String {
    let above = |e: &Option<[f64; 2]>| e.is_some_and(|[lo, _]| lo > 0.0);
    let below = |e: &Option<[f64; 2]>| e.is_some_and(|[_, hi]| hi < 0.0);
    let ([t, b, t2, b2], [at_3, at_16]) = (effects, fixed) else {
        return String::new();
    };
    let mut s = String::new();
    if above(t) {
        s.push_str("With the prediction as posted, the targets fix makes the continuation worse (interval above 0): a model that learned the next value extrapolates a slope it cannot know from the 5th seed alone. ");
    }
    let better_steps = 2 * loss_gain.iter().filter(|&&x| x > 0.0).count() > loss_gain.len();
    let batch_clear = [b, b2].iter().any(|e| above(e) || below(e));
    s.push_str(match (better_steps, batch_clear) {
        (true, false) => "The batches of 3 learn the next value better in most seeds, but the change of the continuation's error from batches of 3 to 16 is not distinguishable from 0 over these seeds, with the prediction as posted or fixed. ",
        (true, true) => "The batches of 3 learn the next value better in most seeds, and the change of the continuation's error from batches of 3 to 16 is distinguishable from 0 in at least one pairing. ",
        (false, _) => "The batches of 3 do not learn the next value better in most seeds. ",
    });
    let targets_clear = if above(t2) || below(t2) {
        "is"
    } else {
        "is not"
    };
    s.push_str(&format!(
        "With the prediction fixed, the targets' change {targets_clear} distinguishable from 0. Both fixed, the model stays at {at_3:.3} of the baseline's error at batches of 3 and {at_16:.3} at batches of 16 on average: "
    ));
    s.push_str(if above(b2) {
        "part of what looked like a model too small for 20 epochs is the fix's batch size."
    } else {
        "the fix's batch size does not explain the model staying near the baseline; it is too small or too briefly trained at either batch size (the variants with more epochs, a larger rate or more width are in the table above)."
    });
    s
}

/// The flat line: which candidate's spread falls below the criterion.
fn flat_line(seeds: &[SeedResult<ContinuationDetails>]) -> Option<String> {
    let truth_spread: Pick<'_> = Box::new(|d| Some(d.truth_within_sequence_spread));
    let truth = per_seed(seeds, &truth_spread)?;
    let limit = FLAT_SHARE * mean(&truth);
    let mut lines = Vec::new();
    let mut flat_everywhere = Vec::new();
    let mut flat_nowhere = Vec::new();
    for (label, run, late) in FLAT_CANDIDATES {
        let v = per_seed(seeds, &spread(run, late))?;
        let flat: Vec<f64> = v.iter().zip(&truth).map(|(s, t)| s / t).collect();
        lines.push(format!(
            "- {label}: {} (flat in {} seeds)",
            mean_sd(&v, 3),
            count(&flat, |x| x < FLAT_SHARE)
        ));
        if flat.iter().all(|&x| x < FLAT_SHARE) {
            flat_everywhere.push(label);
        }
        if flat.iter().all(|&x| x >= FLAT_SHARE) {
            flat_nowhere.push(label);
        }
    }
    let list = |labels: &[&str]| {
        if labels.is_empty() {
            "none".to_string()
        } else {
            labels.join("; ")
        }
    };
    let verdict = format!(
        "Flat in every seed: {}. Flat in no seed: {}.",
        list(&flat_everywhere),
        list(&flat_nowhere)
    );
    Some(format!(
        "**The flat line.** The asker saw a horizontal line (\"the estimate doesn't change\"). Flux 0.11/0.12 trained the LSTM's initial state, which seqlab's `as_posted` starts at zeros; `as_posted_trainable_state` trains it as Flux did. \"Fed back longer\" is the spread of values {} to {} when the model keeps feeding back its own output for {} values (the asker's plot shows the first four). seqlab's criterion for a flat line: a spread within a sequence below {FLAT_SHARE} of the truth's (the truth's: {}; {FLAT_SHARE} of its mean: {limit:.3}). Spread of the predicted values, mean ± sd over seeds:\n\n{}\n\n{verdict}",
        super::FED_BACK_STEPS - seqlab_data::continuation::N_STEPS + 1,
        super::FED_BACK_STEPS,
        super::FED_BACK_STEPS,
        mean_sd(&truth, 3),
        lines.join("\n"),
    ))
}
