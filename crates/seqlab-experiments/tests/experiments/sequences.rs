//! The temporal-order task and the length sweep on tiny settings.

use crate::common::*;
use seqlab_experiments::find;
use seqlab_experiments::length_sweep::{LengthSweep, LengthSweepConfig, SweepRun};
use seqlab_experiments::record::{read_json, SeedMetrics};
use seqlab_experiments::runner::run;
use seqlab_experiments::temporal_order::{TemporalOrder, TemporalOrderDetails};
use seqlab_experiments::Experiment;
use seqlab_train::History;

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
    std::fs::remove_dir_all(&dir).unwrap();
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
