//! The temporal-order task and the length sweep on tiny settings.

use crate::common::*;
use seqlab_experiments::find;
use seqlab_experiments::length_sweep::{LengthSweep, LengthSweepConfig, SweepRun};
use seqlab_experiments::record::{read_json, SeedMetrics};
use seqlab_experiments::runner::run;
use seqlab_experiments::temporal_order::{TemporalOrder, TemporalOrderDetails};
use seqlab_experiments::Experiment;
use seqlab_train::diagnostics::StepRecord;
use seqlab_train::History;
use std::io::Read as _;
use std::path::Path;

#[test]
fn quick_temporal_order_lstm_beats_rnn_on_hard() {
    let _serial = torch_serial();
    let dir = scratch("temporal");
    let outcome = find("temporal-order").unwrap().run(&opts(&dir)).unwrap();
    // Read back through the experiment's own types.
    let m: SeedMetrics<TemporalOrderDetails> =
        read_json(&outcome.dir.join("metrics.json")).unwrap();
    let acc = |level: &str, model: &str| m.details.levels[level].models[model].final_test_accuracy;
    assert_eq!(m.details.levels["hard"].difficulty, "hard");
    let settings = TemporalOrder::settings(&m.details);
    assert!(settings.len() < 10, "{settings:?}");
    assert!(
        settings.iter().any(|s| s.value.contains("lengths 100-110")),
        "{settings:?}"
    );
    // Chance is 25%: the RNN stays there on HARD while the LSTM learns.
    assert!(
        acc("hard", "lstm") > acc("hard", "rnn") + 0.2,
        "lstm {} rnn {}",
        acc("hard", "lstm"),
        acc("hard", "rnn")
    );
    assert!(acc("hard", "rnn") < 0.4, "rnn {}", acc("hard", "rnn"));
    for f in [
        "easy_10.png",
        "hard.png",
        "hard_lstm_history.csv",
        "hard_rnn_history.csv",
        "hard_lstm_diagnostics.csv.gz",
        "hard_lstm_lr_decay_history.csv",
        "hard_lstm_restore_best_validation.csv",
        "easy_10_lstm_history.csv",
    ] {
        assert!(outcome.files.iter().any(|g| g == f), "{f} not written");
    }
    let h = History::from_csv(
        &std::fs::read_to_string(outcome.dir.join("hard_lstm_history.csv")).unwrap(),
    )
    .unwrap();
    assert_eq!(h.len(), 20);
    let (w, _, ink, colours) = png_stats(&outcome.dir.join("hard.png"));
    assert!(w == 1100 && ink > 0.02 && colours > 20);
    hard_corrections_ran_as_labelled(&outcome.dir, &m);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The HARD LSTM's steps were recorded and diagnosed, and its two
/// corrections ran as their own runs: restore-best trained exactly as the
/// as-configured LSTM and kept an epoch it chose on validation sequences.
fn hard_corrections_ran_as_labelled(dir: &Path, m: &SeedMetrics<TemporalOrderDetails>) {
    let hard = &m.details.levels["hard"].models;
    let steps = StepRecord::from_csv(&gunzip(&dir.join("hard_lstm_diagnostics.csv.gz"))).unwrap();
    assert_eq!(steps.len(), 20 * 31);
    assert!(steps
        .iter()
        .all(|s| s.grad_norm > 0.0 && s.update_norm > 0.0));
    let diagnosis = hard["lstm"].diagnosis.as_ref().unwrap();
    assert_eq!(diagnosis.steps, steps.len());
    // RMSprop moves no weight by more than lr / sqrt(1 - alpha) in one step.
    let cap = diagnosis.update_cap.unwrap();
    assert!(steps.iter().all(|s| s.update_max <= cap * 1.0001), "{cap}");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    assert_eq!(
        read("hard_lstm_history.csv"),
        read("hard_lstm_restore_best_history.csv")
    );
    let rb = &hard["lstm_restore_best"];
    let kept = rb.kept_epoch.unwrap();
    let validation = History::from_csv(&read("hard_lstm_restore_best_validation.csv")).unwrap();
    let losses = validation.column("validation_loss").unwrap();
    let lowest = losses.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(losses[kept - 1], lowest, "kept epoch {kept} of {losses:?}");
    assert!(rb.correction.as_deref().unwrap().contains("validation"));
    let decay = &hard["lstm_lr_decay"];
    assert!(decay
        .correction
        .as_deref()
        .unwrap()
        .contains("ReduceLROnPlateau"));
    assert!(decay.diagnosis.is_some() && hard["rnn"].diagnosis.is_none());
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn tiny_length_sweep_writes_one_row_per_run_and_a_plot() {
    let _serial = torch_serial();
    let dir = scratch("sweep");
    let config = LengthSweepConfig {
        lengths: vec![6, 10],
        n_train: 200,
        n_test: 100,
        epochs: 2,
        hidden: 8,
        ..LengthSweepConfig::quick()
    };
    let outcome = run::<LengthSweep>(&config, &opts(&dir)).unwrap();
    let csv = std::fs::read_to_string(outcome.dir.join("runs.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    // One seed: every length and cell once (the seed is the folder's, not a column).
    assert_eq!(rows.len(), 2 * 3, "{csv}");
    assert!(rows.iter().all(|r| r.split(',').count() == 4));
    assert!(rows.iter().any(|r| r.starts_with("10,GRU,")));
    // Read back through the row type that wrote it.
    let runs = SweepRun::read_csv(&outcome.dir.join("runs.csv")).unwrap();
    assert_eq!(SweepRun::to_csv(&runs), csv);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outcome.dir.join("metrics.json")).unwrap())
            .unwrap();
    let acc = m["test_accuracy"]["LSTM"]["10"].as_f64().unwrap();
    assert!(rows
        .iter()
        .any(|r| r.starts_with("10,LSTM,") && r.ends_with(&format!(",{acc}"))));
    let (w, h, ink, _) = png_stats(&outcome.dir.join("accuracy_vs_length.png"));
    assert!((w, h) == (1000, 520) && ink > 0.02);
    std::fs::remove_dir_all(&dir).unwrap();
}
