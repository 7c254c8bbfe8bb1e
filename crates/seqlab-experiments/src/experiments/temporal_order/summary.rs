//! The summary over seeds: each level's test accuracy per epoch over the
//! seeds, the HARD LSTM seed by seed with its corrections, and the goals
//! that need every seed.

use super::collapse::{ratio, read_steps};
use super::details::{LevelResult, ModelResult, TemporalOrderDetails};
use super::diagnosis::{QUIET_LOSS, SPIKE_LOSS};
use super::{collapse, others};
use crate::aggregate::{summarise_targets, SeedResult, SummaryExtra};
use crate::common::{fmt_number, Target};
use crate::experiment::SummaryContext;
use crate::ExperimentError;
use seqlab_plot::{Figure, LineChart, Series};
use std::fmt::Write as _;
use std::path::Path;

/// The summary's plots, tables and notes (see the module documentation).
pub(super) fn summarise(
    seeds: &[SeedResult<TemporalOrderDetails>],
    ctx: SummaryContext<'_>,
) -> Result<SummaryExtra, ExperimentError> {
    let Some(first) = seeds.first() else {
        return Ok(SummaryExtra::default());
    };
    let mut files = Vec::new();
    for (name, level) in &first.metrics.details.levels {
        files.push(plot_level_over_seeds(name, level, seeds, ctx.dir)?);
    }
    let mut report = Vec::new();
    let mut targets = Vec::new();
    if first.metrics.details.levels.contains_key("hard") {
        report.push(hard_lstm_per_seed(seeds));
        report.push(collapse::finding(seeds));
        files.extend(collapse::plot(seeds, ctx.dir)?);
        report.push(corrections_per_seed(seeds)?);
        targets.extend(every_seed_goals(seeds));
    }
    report.push(others::note(seeds, ctx.results_dir));
    Ok(SummaryExtra {
        files,
        report,
        targets,
        ..SummaryExtra::default()
    })
}

/// The HARD model `label` of a seed, if it ran.
pub(super) fn hard<'a>(
    s: &'a SeedResult<TemporalOrderDetails>,
    label: &str,
) -> Option<&'a ModelResult> {
    s.metrics.details.levels.get("hard")?.models.get(label)
}

/// `<level>.png` of the summary over seeds: every seed's test accuracy per
/// epoch (faint), their mean and a band from the worst to the best seed,
/// one panel per run (restore-best, trained as the as-configured run, has
/// none). Returns the file's name.
fn plot_level_over_seeds(
    name: &str,
    level: &LevelResult,
    seeds: &[SeedResult<TemporalOrderDetails>],
    dir: &Path,
) -> Result<String, ExperimentError> {
    let runs: Vec<(&String, &ModelResult)> = level
        .models
        .iter()
        .filter(|(_, m)| m.kept_epoch.is_none())
        .collect();
    let mut fig = Figure::new(1100, 440)
        .title(format!(
            "Temporal order, {}: test accuracy per epoch over {} seeds (faint: each seed; band: worst to best)",
            level.difficulty,
            seeds.len()
        ))
        .grid(1, runs.len().max(1));
    for (label, model) in runs {
        let per_seed = seeds
            .iter()
            .map(|s| test_accuracy(&s.dir.join(format!("{name}_{label}_history.csv"))))
            .collect::<Result<Vec<_>, _>>()?;
        let title = match &model.correction {
            Some(_) => format!(
                "{} ({})",
                model.model,
                label.trim_start_matches("lstm_").replace('_', " ")
            ),
            None => model.model.clone(),
        };
        fig = fig.panel(panel_over_seeds(&title, &per_seed)?);
    }
    let file = format!("{name}.png");
    fig.save_png(dir.join(&file))?;
    Ok(file)
}

/// HARD, LSTM as configured, seed by seed: first epoch at 100%, best and
/// final test accuracy, and the collapses its steps show.
fn hard_lstm_per_seed(seeds: &[SeedResult<TemporalOrderDetails>]) -> String {
    let clip = seeds
        .first()
        .and_then(|s| s.metrics.details.levels.get("hard")?.clip_grad_norm)
        .map_or("without clipping".into(), |c| {
            format!("before clipping at {c}")
        });
    let mut t = format!(
        "HARD, LSTM as configured, seed by seed. A *collapse onset* is a step after the first epoch at 100% whose batch loss is below {QUIET_LOSS} and after which the next batch's loss is at least {SPIKE_LOSS} (chance: ln 4 = {}); *quiet* steps are those epochs' steps with a batch loss below {QUIET_LOSS}. The worst onset is the one followed by the highest batch loss; its gradient norm ({clip}) and update norm are given as multiples of the seed's quiet medians, its largest change of one weight as a fraction of RMSprop's ceiling lr/sqrt(1-alpha), and sqrt(v) (the median over the weights of the root of RMSprop's squared-gradient average) on the quiet steps as a fraction of its median while the model learned (epochs 2 to the first at 100%).\n\n| seed | first epoch at 100% | best test accuracy | final test accuracy | collapse onsets | worst onset (epoch.batch): batch loss -> next | its gradient norm / quiet median | its update norm / quiet median | its largest change / ceiling | quiet sqrt(v) / learning sqrt(v) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        fmt_number(4f64.ln())
    );
    for s in seeds {
        let Some(m) = hard(s, "lstm") else {
            continue;
        };
        let first = m
            .first_epoch_at_100
            .map_or("never".into(), |e| e.to_string());
        let _ = write!(
            t,
            "| {} | {first} | {} | {} | ",
            s.seed,
            fmt_number(m.best_test_accuracy),
            fmt_number(m.final_test_accuracy)
        );
        let _ = writeln!(t, "{} |", collapse::row(m.diagnosis.as_ref()));
    }
    t
}

/// The corrections next to the as-configured run, seed by seed.
fn corrections_per_seed(
    seeds: &[SeedResult<TemporalOrderDetails>],
) -> Result<String, ExperimentError> {
    let described = |label: &str| {
        seeds
            .iter()
            .find_map(|s| hard(s, label)?.correction.clone())
            .unwrap_or_else(|| "not run".into())
    };
    let mut t = format!(
        "The corrections, each one change alone, next to the as-configured LSTM. *Restore-best* trains exactly as configured (the column *same training* says whether its history file equals the as-configured run's; so `hard.png` gives it no panel of its own) and ends with the {}. *Learning-rate decay*: {}.\n\n| seed | as configured: best / final | restore-best: kept epoch (validation accuracy) | restore-best: test accuracy | same training | lr decay: reduced after epochs | lr decay: best / final | lr decay: collapse onsets |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
        described("lstm_restore_best"),
        described("lstm_lr_decay")
    );
    for s in seeds {
        let (Some(m), rb, lr) = (
            hard(s, "lstm"),
            hard(s, "lstm_restore_best"),
            hard(s, "lstm_lr_decay"),
        ) else {
            continue;
        };
        let pair = |m: &ModelResult| {
            format!(
                "{} / {}",
                fmt_number(m.best_test_accuracy),
                fmt_number(m.final_test_accuracy)
            )
        };
        let dash = || "-".to_string();
        let same = same_history(&s.dir, "hard_lstm", "hard_lstm_restore_best");
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.seed,
            pair(m),
            rb.and_then(|r| Some(format!(
                "{} ({})",
                r.kept_epoch?,
                fmt_number(r.kept_validation_accuracy?)
            )))
            .unwrap_or_else(dash),
            rb.map_or_else(dash, |r| fmt_number(r.final_test_accuracy)),
            if same { "yes" } else { "no" },
            lr.map_or_else(dash, |r| join(&r.lr_reduced_after)),
            lr.map_or_else(dash, pair),
            lr.and_then(|r| r.diagnosis.as_ref())
                .map_or_else(dash, |d| d.onsets.len().to_string()),
        );
    }
    t.push_str(&corrections_in_words(seeds)?);
    Ok(t)
}

/// The corrections over seeds, in words: how often each ends at 99% or
/// more, and for the learning-rate decay the onsets before and after its
/// first reduction.
fn corrections_in_words(
    seeds: &[SeedResult<TemporalOrderDetails>],
) -> Result<String, ExperimentError> {
    let runs = |label: &str| -> Vec<&ModelResult> {
        seeds.iter().filter_map(|s| hard(s, label)).collect()
    };
    let at_99 = |runs: &[&ModelResult]| {
        runs.iter()
            .filter(|m| m.final_test_accuracy >= 0.99)
            .count()
    };
    let (configured, rb, lr) = (
        runs("lstm"),
        runs("lstm_restore_best"),
        runs("lstm_lr_decay"),
    );
    let same = seeds
        .iter()
        .filter(|s| same_history(&s.dir, "hard_lstm", "hard_lstm_restore_best"))
        .count();
    let decay = decay_exposure(seeds)?;
    let (before, after) = (decay.onsets[0], decay.onsets[1]);
    let expected = before as f64 / decay.quiet[0] as f64 * decay.quiet[1] as f64;
    Ok(format!(
        "\nFinal test accuracy of at least 99%: as configured at {} of {} seeds, restore-best at {} of {} (its training equal to the as-configured run's at {same} of {} seeds), learning-rate decay at {} of {}. The decay's collapse onsets: {before} on {} quiet steps before its first reduction, {after} on {} quiet steps after it, where the rate before would have given {}{}: {}; until its first reduction the run trains as configured, collapses included, and the rate falls only once the training loss has stopped improving for the patience.",
        at_99(&configured),
        configured.len(),
        at_99(&rb),
        rb.len(),
        seeds.len(),
        at_99(&lr),
        lr.len(),
        decay.quiet[0],
        decay.quiet[1],
        ratio(expected),
        match decay.never {
            0 => String::new(),
            n => format!(" ({n} runs never reduced it)"),
        },
        match after {
            0 => "at the lower rate no collapse starts, as the mechanism above predicts",
            _ => "collapses go on at the lower rate",
        }
    ))
}

/// The learning-rate decay's onsets and quiet steps before and after its
/// first reduction, over the seeds, and the runs that never reduced it.
struct Exposure {
    onsets: [usize; 2],
    quiet: [usize; 2],
    never: usize,
}

/// [`Exposure`] from each seed's recorded steps of the decay run.
fn decay_exposure(seeds: &[SeedResult<TemporalOrderDetails>]) -> Result<Exposure, ExperimentError> {
    let mut e = Exposure {
        onsets: [0, 0],
        quiet: [0, 0],
        never: 0,
    };
    for s in seeds {
        let Some(m) = hard(s, "lstm_lr_decay") else {
            continue;
        };
        let first = m.lr_reduced_after.first().copied().unwrap_or(usize::MAX);
        e.never += usize::from(m.lr_reduced_after.is_empty());
        let side = |epoch: usize| usize::from(epoch > first);
        for o in m.diagnosis.iter().flat_map(|d| &d.onsets) {
            e.onsets[side(o.epoch)] += 1;
        }
        let solved = m.first_epoch_at_100.unwrap_or(usize::MAX);
        let steps = read_steps(&s.dir.join("hard_lstm_lr_decay_diagnostics.csv.gz"))?;
        for r in steps
            .iter()
            .filter(|r| r.epoch > solved && r.loss < QUIET_LOSS)
        {
            e.quiet[side(r.epoch)] += 1;
        }
    }
    Ok(e)
}

/// `1, 2, 3`, or `none`.
fn join(epochs: &[usize]) -> String {
    match epochs {
        [] => "none".into(),
        _ => epochs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Whether two runs of a seed wrote the same history file.
fn same_history(dir: &Path, a: &str, b: &str) -> bool {
    let read = |stem: &str| std::fs::read(dir.join(format!("{stem}_history.csv"))).ok();
    matches!((read(a), read(b)), (Some(x), Some(y)) if x == y)
}

/// The goals that need every seed: each HARD LSTM run's lowest test
/// accuracy over the seeds (of the weights it ends with) at least 99%.
fn every_seed_goals(
    seeds: &[SeedResult<TemporalOrderDetails>],
) -> Vec<crate::record::TargetSummary> {
    let runs = [
        ("lstm", "HARD, as configured"),
        (
            "lstm_restore_best",
            "HARD, corrected (restore-best on validation)",
        ),
        (
            "lstm_lr_decay",
            "HARD, corrected (learning rate decayed on plateau)",
        ),
    ];
    runs.iter()
        .filter_map(|(label, what)| {
            let worst = seeds
                .iter()
                .filter_map(|s| Some((s.seed, hard(s, label)?.final_test_accuracy)))
                .min_by(|a, b| a.1.total_cmp(&b.1))?;
            let target = Target::within(
                &format!(
                    "{what}: LSTM's lowest test accuracy over the seeds (at seed {})",
                    worst.0
                ),
                "seqlab's criterion: at least 99% at every seed",
                worst.1,
                0.99,
                1.0,
            )
            .goal()
            .bounds(0.0, 1.0);
            summarise_targets(&[(worst.0, target)])
        })
        .collect()
}

/// The test accuracy per epoch of one model's history CSV.
fn test_accuracy(path: &Path) -> Result<Vec<f64>, ExperimentError> {
    crate::common::read_history(path)?
        .column("val_accuracy")
        .ok_or_else(|| ExperimentError::Saved {
            path: path.to_path_buf(),
            message: "no column \"val_accuracy\"".into(),
        })
}

/// One model's panel: each seed's curve faint, the mean with its band.
fn panel_over_seeds(model: &str, per_seed: &[Vec<f64>]) -> Result<LineChart, ExperimentError> {
    let mut chart = LineChart::new(model)
        .x_label("epoch")
        .y_label("test accuracy")
        .y_range(0.0, 1.02)
        .legend(seqlab_plot::LegendPosition::LowerRight);
    for acc in per_seed {
        let x: Vec<f64> = (1..=acc.len()).map(|e| e as f64).collect();
        chart = chart.series(Series::from_xy("", &x, acc)?.color(0).faint());
    }
    let epochs = per_seed.iter().map(Vec::len).min().unwrap_or(0);
    let x: Vec<f64> = (1..=epochs).map(|e| e as f64).collect();
    let at = |e: usize| per_seed.iter().filter_map(move |a| a.get(e).copied());
    let mean: Vec<f64> = (0..epochs)
        .map(|e| at(e).sum::<f64>() / per_seed.len() as f64)
        .collect();
    let lo: Vec<f64> = (0..epochs)
        .map(|e| at(e).fold(f64::INFINITY, f64::min))
        .collect();
    let hi: Vec<f64> = (0..epochs)
        .map(|e| at(e).fold(f64::NEG_INFINITY, f64::max))
        .collect();
    let label = format!("mean of {} seeds", per_seed.len());
    chart = chart.mean_with_band(label, &x, &mean, &lo, &hi)?;
    // The mean (and its band) in the colour of the faint per-seed lines.
    if let Some(m) = chart.series.last_mut() {
        m.color = Some(0);
    }
    Ok(chart)
}
