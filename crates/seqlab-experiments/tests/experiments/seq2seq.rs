//! Encoder-decoder on sine windows, and the forum continuation.

use crate::common::*;
use seqlab_experiments::find;
use seqlab_train::History;

#[test]
fn tiny_seq2seq_teacher_forced_loss_falls_and_both_decodings_are_reported() {
    use seqlab_data::sine_pairs::FunctionPair;
    use seqlab_experiments::seq2seq::{
        self, Seq2SeqConfig, Seq2SeqDamped, Seq2SeqPower, Seq2SeqSinCos,
    };
    use seqlab_experiments::Experiment;
    let _serial = torch_serial();
    let dir = scratch("seq2seq");
    for name in [Seq2SeqSinCos::NAME, Seq2SeqDamped::NAME, Seq2SeqPower::NAME] {
        assert!(find(name).is_ok(), "{name} is registered");
    }
    let config = Seq2SeqConfig {
        post_epochs: 6,
        improved_tf_epochs: 8,
        improved_fr_epochs: 4,
        ..Seq2SeqConfig::full(FunctionPair::SinCos)
    };
    seqlab_experiments::runner::run::<Seq2SeqSinCos>(&config, &opts(&dir)).unwrap();
    let out = dir.join("seq2seq-sin-cos");
    let h =
        History::from_csv(&std::fs::read_to_string(out.join("post_history.csv")).unwrap()).unwrap();
    assert_eq!(h.len(), 6);
    let loss = h.column("loss").unwrap();
    assert!(
        loss[5] < loss[0] / 5.0,
        "teacher-forced loss did not fall: {loss:?}"
    );
    for f in [
        "improved_teacher_forcing_history.csv",
        "improved_free_running_history.csv",
        "model.txt",
        "timing.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let d: seq2seq::Seq2SeqDetails =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(d.windows, 76);
    assert_eq!(d.parameters.keras_count, 46_276);
    for (r, m) in [("post", &d.recipes.post), ("improved", &d.recipes.improved)] {
        let (tf, ar) = (m.teacher_forced_mse, m.autoregressive_mse);
        assert!(tf.is_finite() && ar.is_finite() && tf > 0.0 && ar > 0.0);
        // Feeding back its own outputs is the harder test: not better than teacher forcing here.
        assert!(
            tf != ar,
            "{r}: the two decodings must be measured separately"
        );
        assert!(
            ar < 0.5,
            "{r}: autoregressive MSE {ar} (the cos variance is 0.5)"
        );
    }
    assert_eq!(d.recipes.improved.epochs, 12);
    assert!(d.corrections.own_training.is_none() && d.categorical_crossentropy_check.is_none());
    for png in ["windows.png", "loss.png"] {
        assert!(png_gray_std(&out.join(png)) > 10.0, "{png} looks blank");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quick_continuation_beats_the_mean_baseline_on_held_out_sequences() {
    let _serial = torch_serial();
    let dir = scratch("continuation");
    let outcome = find("continuation").unwrap().run(&opts(&dir)).unwrap();
    let out = dir.join("continuation");
    for f in [
        "metrics.json",
        "train_history.csv",
        "loss.png",
        "sequences.png",
        "model.txt",
    ] {
        assert!(
            outcome.files.iter().any(|g| g == f) && out.join(f).is_file(),
            "{f}"
        );
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let model = m["validation_mse"].as_f64().unwrap();
    let baseline = m["mean_baseline_mse"].as_f64().unwrap();
    assert!(
        baseline > 1.0 && baseline < 1.6,
        "baseline {baseline} (expected about 1.25)"
    );
    assert!(
        model < 0.05 * baseline,
        "model {model} vs baseline {baseline}"
    );
    assert_eq!(m["n_val"], 100);
    // The truth's own spread within a sequence, measured (a flat prediction has 0).
    let spread = m["truth_within_sequence_spread"].as_f64().unwrap();
    assert!(spread > 0.2 && spread < 0.6, "{spread}");
    let h = History::from_csv(&std::fs::read_to_string(out.join("train_history.csv")).unwrap())
        .unwrap();
    assert_eq!(h.columns(), ["loss", "val_loss"]);
    assert!(png_gray_std(&out.join("sequences.png")) > 10.0);
    std::fs::remove_dir_all(&dir).unwrap();
}
