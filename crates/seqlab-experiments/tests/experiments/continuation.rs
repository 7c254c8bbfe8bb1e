//! The seed-conditioned continuation on tiny settings: every run of the
//! asker's model, the third slip's epochs, the per-epoch record, the summary.

use crate::common::*;
use seqlab_data::continuation::generate_split;
use seqlab_experiments::aggregate::aggregate;
use seqlab_experiments::continuation::{
    fifth_seed_flat_mse, AskerRun, Continuation, ContinuationConfig, ContinuationDetails,
};
use seqlab_experiments::record::{read_json, SeedMetrics};
use seqlab_experiments::runner::run;
use seqlab_experiments::RunOptions;
use seqlab_train::History;
use std::path::Path;

/// 60 training and 12 validation sequences, 3 epochs (4 for the longer run).
fn tiny() -> ContinuationConfig {
    ContinuationConfig {
        n_train: 60,
        n_val: 12,
        max_epochs: 3,
        asker_runs: AskerRun::all(3, 4),
        ..ContinuationConfig::quick()
    }
}

fn details(dir: &Path) -> ContinuationDetails {
    let m: SeedMetrics<ContinuationDetails> = read_json(&dir.join("metrics.json")).unwrap();
    m.details
}

fn history(dir: &Path, run: &str) -> History {
    let text = std::fs::read_to_string(dir.join(format!("asker_{run}_history.csv"))).unwrap();
    History::from_csv(&text).unwrap()
}

#[test]
fn tiny_continuation_runs_every_slip_and_fix_and_summarises_them() {
    let _serial = torch_serial();
    let dir = scratch("continuation");
    let mut outs = Vec::new();
    for seed in [42, 43] {
        let o = RunOptions {
            seed,
            seed_set: Some(vec![42, 43]),
            ..opts(&dir)
        };
        outs.push(run::<Continuation>(&tiny(), &o).unwrap().dir);
    }
    let d = details(&outs[0]);
    assert_runs_and_batches(&d);
    assert_flat_line_reference(&d, 42);
    assert_third_slip_epochs(&outs[0]);
    assert_per_epoch_record(&d);
    assert!(outs[0].join("sequences.png").is_file());
    assert_summary(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every configured run, each with its batches and updates per epoch; a
/// trained initial state adds 2 × width parameters.
fn assert_runs_and_batches(d: &ContinuationDetails) {
    let names: Vec<&str> = AskerRun::all(3, 4).iter().map(|r| r.name).collect();
    assert_eq!(d.asker.len(), names.len());
    assert!(names.iter().all(|n| d.asker.contains_key(*n)), "{names:?}");
    let batches = |run: &str| {
        let m = &d.asker[run];
        (m.batch_size, m.updates_per_epoch, m.shuffled)
    };
    assert_eq!(batches("as_posted"), (3, 20, false));
    assert_eq!(batches("targets_fixed_batch_3"), (3, 20, false));
    assert_eq!(batches("both_fixed_batch_3"), (3, 20, false));
    assert_eq!(batches("targets_fixed"), (16, 4, true));
    assert_eq!(batches("targets_fixed_as_written"), (16, 4, true));
    let params = |run: &str| d.asker[run].parameters;
    assert_eq!(params("as_posted_trainable_state"), params("as_posted") + 6);
    assert!(d.asker["as_posted_trainable_state"].trainable_state);
}

/// The flat line's error is the 5th seed against the continuation.
fn assert_flat_line_reference(d: &ContinuationDetails, seed: u64) {
    let (train, val) = generate_split(60, 12, seed).unwrap();
    let by_hand = |set: &seqlab_data::continuation::ContinuationSet| {
        let mut sum = 0.0;
        for i in 0..set.len() {
            let fifth = f64::from(set.seeds.row(i)[4]);
            for &v in set.continuation.row(i) {
                sum += (f64::from(v) - fifth).powi(2);
            }
        }
        sum / (set.len() * 5) as f64
    };
    assert!((d.fifth_seed_flat_mse_train - by_hand(&train)).abs() < 1e-9);
    assert!((d.fifth_seed_flat_mse_val - by_hand(&val)).abs() < 1e-9);
    assert_eq!(d.fifth_seed_flat_mse_val, fifth_seed_flat_mse(&val));
}

/// The targets as written train on next values in epoch 1 (exactly as the
/// fix, same draw, batches and order) and on the identity from epoch 2.
fn assert_third_slip_epochs(out: &Path) {
    let written = history(out, "targets_fixed_as_written");
    let fixed = history(out, "targets_fixed");
    let loss = |h: &History| h.column("loss").unwrap().to_vec();
    let (w, f) = (loss(&written), loss(&fixed));
    assert_eq!(w[0], f[0], "epoch 1 trains on the next values");
    assert!(w[1] != f[1], "from epoch 2 the targets differ: {w:?} {f:?}");
    // At the posted batches, only the targets differ from as_posted.
    let posted = loss(&history(out, "as_posted"));
    let batch_3 = loss(&history(out, "targets_fixed_batch_3"));
    assert!(posted[0] != batch_3[0]);
}

/// The as-posted run's continuation error, before training and per epoch.
fn assert_per_epoch_record(d: &ContinuationDetails) {
    let p = d.asker["as_posted"].per_epoch.as_ref().unwrap();
    for v in [
        &p.train_mse,
        &p.val_mse,
        &p.train_departure,
        &p.val_departure,
    ] {
        assert_eq!(v.len(), 4);
        assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0));
    }
    let last = *p.val_mse.last().unwrap();
    assert!((last - d.asker["as_posted"].validation_mse).abs() < 1e-9);
    assert!(d.asker["targets_fixed"].per_epoch.is_none());
}

/// The summary's picture, paired changes and paragraphs.
fn assert_summary(dir: &Path) {
    let summary = aggregate::<Continuation>(dir, false).unwrap().unwrap();
    assert!(dir
        .join("continuation/as_posted_continuation_error.png")
        .is_file());
    let change = summary
        .measurements
        .iter()
        .find(|m| m.what.contains("targets_fixed_batch_3 − as_posted"))
        .unwrap();
    let seeds = dir.join("continuation/seeds");
    for seed in ["42", "43"] {
        let d = details(&seeds.join(seed));
        let want = d.asker["targets_fixed_batch_3"].ratio_to_baseline
            - d.asker["as_posted"].ratio_to_baseline;
        assert!((change.values[seed].unwrap() - want).abs() < 1e-12);
    }
    let text = summary.report_paragraphs.join("\n");
    for part in [
        "**The third slip",
        "**Targets or batch size.**",
        "**The flat line.**",
        "**The thread's training and validation error.**",
        "- seed 42: training error",
        "- seed 43: training error",
    ] {
        assert!(text.contains(part), "{part} missing:\n{text}");
    }
}
