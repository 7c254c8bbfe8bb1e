//! The collapses the issue saw on another CPU (MODERATE's LSTM, the length
//! sweep's LSTM): what this run's MODERATE steps and the committed length
//! sweep's runs say about them, in words generated from the data.

use super::details::{ModelResult, TemporalOrderDetails};
use crate::aggregate::SeedResult;
use crate::common::fmt_number;
use crate::length_sweep::SweepRun;
use std::path::Path;

/// The note on MODERATE and on the length sweep.
pub(super) fn note(seeds: &[SeedResult<TemporalOrderDetails>], results_dir: &Path) -> String {
    let mut t = String::from("**The collapses seen on another CPU.** ");
    t.push_str(&moderate(seeds));
    t.push_str("\n\n");
    t.push_str(&length_sweep(results_dir));
    t
}

/// MODERATE's LSTM seed by seed: when it first reached 100%, its final
/// accuracy, its quiet steps and collapse onsets (against HARD's).
fn moderate(seeds: &[SeedResult<TemporalOrderDetails>]) -> String {
    let lstm = |level: &str| -> Vec<(u64, &ModelResult)> {
        seeds
            .iter()
            .filter_map(|s| {
                Some((
                    s.seed,
                    s.metrics.details.levels.get(level)?.models.get("lstm")?,
                ))
            })
            .collect()
    };
    let runs = lstm("moderate_100");
    if runs.is_empty() {
        return "MODERATE did not run here.".into();
    }
    let quiet = |runs: &[(u64, &ModelResult)]| -> usize {
        runs.iter()
            .filter_map(|(_, m)| m.diagnosis.as_ref())
            .map(|d| d.quiet_steps)
            .sum()
    };
    let rows: Vec<String> = runs
        .iter()
        .map(|(seed, m)| {
            let d = m.diagnosis.as_ref();
            format!(
                "seed {seed}: {}, {}, {}, {}",
                m.first_epoch_at_100
                    .map_or("never".into(), |e| format!("epoch {e}")),
                fmt_number(m.final_test_accuracy),
                d.map_or("-".into(), |d| d.quiet_steps.to_string()),
                d.map_or("-".into(), |d| d.onsets.len().to_string())
            )
        })
        .collect();
    let onsets: usize = runs
        .iter()
        .filter_map(|(_, m)| m.diagnosis.as_ref())
        .map(|d| d.onsets.len())
        .sum();
    let unsolved = runs
        .iter()
        .filter(|(_, m)| m.first_epoch_at_100.is_none())
        .count();
    let latest = runs.iter().filter_map(|(_, m)| m.first_epoch_at_100).max();
    let mut t = format!(
        "MODERATE, LSTM, seed by seed (first epoch at 100% test accuracy, final test accuracy, quiet steps, collapse onsets, as defined above): {}. {onsets} onsets in all, on {} quiet steps against HARD's {} over the same seeds; {unsolved} of {} seeds never reach 100%{}. ",
        rows.join("; "),
        quiet(&runs),
        quiet(&lstm("hard")),
        runs.len(),
        latest.map_or(String::new(), |e| format!(
            ", and the latest that does gets there at epoch {e} of {}",
            runs[0].1.epochs
        ))
    );
    t.push_str(if onsets == 0 {
        "So the mechanism is not seen at MODERATE on this CPU, whose LSTM trains without clipping from PyTorch's initialisation and reaches the plateau later. A MODERATE seed that ends far below 100% on another CPU could as well be one that had not learned within the budget as a late collapse; without that run's step record the two cannot be told apart. Restore-best would rescue only the latter (it can keep only an epoch that was good), and a learning-rate decay helps neither a seed still learning nor one whose rate has not yet been reduced."
    } else {
        "The same onsets appear at MODERATE, so the same mechanism can end a MODERATE run low on another CPU, and restore-best on a validation set would apply to it as it does to HARD."
    });
    t
}

/// The committed length sweep's LSTM, seed by seed: the length where its
/// test accuracy is lowest, with the training accuracy of its last epoch.
fn length_sweep(results_dir: &Path) -> String {
    let seeds_dir = results_dir.join(crate::length_sweep::NAME).join("seeds");
    let mut dirs: Vec<_> = std::fs::read_dir(&seeds_dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    let worst: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            let runs = SweepRun::read_csv(&dir.join("runs.csv")).ok()?;
            let w = runs
                .iter()
                .filter(|r| r.cell == "LSTM")
                .min_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))?;
            let seed = dir.file_name()?.to_string_lossy().into_owned();
            Some(format!(
                "seed {seed}: length {}, test {}, training {}",
                w.length,
                fmt_number(w.test_accuracy),
                fmt_number(w.train_accuracy)
            ))
        })
        .collect();
    if worst.is_empty() {
        return "The length sweep's results are not in this results folder.".into();
    }
    format!(
        "The length sweep (read-only here) keeps no per-epoch history: its `runs.csv` holds each run's test accuracy and the training accuracy of its last epoch, so a late spike cannot be told from slow learning there, and it trains with Adam, which also divides each gradient by the root of a running average of its squares (so the same kind of step is possible). Its LSTM's worst length per committed seed: {}. A collapse in the last epoch would show as a last-epoch training accuracy far below the runs around it; restore-best on a validation split would guard against it, but the sweep stays as it is.",
        worst.join("; ")
    )
}
