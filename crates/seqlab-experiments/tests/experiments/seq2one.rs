//! The sequence-to-one toy task: quick run, reproducibility, option checks.

use crate::common::*;
use seqlab_experiments::runner::run;
use seqlab_experiments::seq2one::Seq2One;
use seqlab_experiments::{find, RunOptions};
use seqlab_train::History;
use std::path::Path;

#[test]
fn quick_seq2one_rnn_beats_feed_forward_and_writes_every_file() {
    let _serial = torch_serial();
    let dir = scratch("quick");
    let outcome = find("seq2one").unwrap().run(&opts(&dir)).unwrap();
    let out = dir.join("seq2one");
    assert_eq!(outcome.dir, out);
    for f in [
        "metrics.json",
        "timing.json",
        "models.txt",
        "ff_as_published.png",
        "ff_corrected.png",
        "rnn.png",
        "ff_as_published_history.csv",
        "ff_corrected_history.csv",
        "rnn_history.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
        assert!(outcome.files.iter().any(|g| g == f), "{f} not reported");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let acc = |run: &str| m["runs"][run]["test_accuracy"].as_f64().unwrap();
    // The sequence model beats the feed-forward net trained as the post trains it, on held-out data.
    assert!(acc("rnn") > 0.95, "rnn {}", acc("rnn"));
    assert!(
        acc("rnn") > acc("ff_as_published") + 0.3,
        "rnn {} vs ff {}",
        acc("rnn"),
        acc("ff_as_published")
    );
    assert_eq!(m["runs"]["ff_as_published"]["train_samples_per_epoch"], 60);
    assert_eq!(m["profile"], "quick");
    assert_eq!(m["targets"].as_array().unwrap().len(), 3);

    let h =
        History::from_csv(&std::fs::read_to_string(out.join("rnn_history.csv")).unwrap()).unwrap();
    assert_eq!(h.len(), 10);
    assert_eq!(
        h.columns(),
        ["loss", "accuracy", "val_loss", "val_accuracy"]
    );
    assert!(h.last("loss").unwrap() < h.column("loss").unwrap()[0]);

    for png in ["ff_as_published.png", "ff_corrected.png", "rnn.png"] {
        let (w, h, ink, colours) = png_stats(&out.join(png));
        assert_eq!((w, h), (1100, 440), "{png}");
        assert!(
            ink > 0.02 && colours > 20,
            "{png} looks blank: ink {ink}, colours {colours}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(seqlab_io::TEMP_PREFIX)
        })
        .collect();
    assert!(leftovers.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn same_seed_gives_identical_histories_and_metrics() {
    let _serial = torch_serial();
    let read = |d: &Path, f: &str| std::fs::read_to_string(d.join("seq2one").join(f)).unwrap();
    let (a, b) = (scratch("det-a"), scratch("det-b"));
    run::<Seq2One>(&tiny(), &opts(&a)).unwrap();
    run::<Seq2One>(&tiny(), &opts(&b)).unwrap();
    for f in [
        "ff_as_published_history.csv",
        "ff_corrected_history.csv",
        "rnn_history.csv",
    ] {
        assert_eq!(
            read(&a, f),
            read(&b, f),
            "{f} differs between two runs with the same seed"
        );
    }
    // metrics.json too, but for the run id that ties it to its folder.
    let metrics = |d: &Path| {
        let mut m: serde_json::Value = serde_json::from_str(&read(d, "metrics.json")).unwrap();
        assert!(m["run_id"].as_str().unwrap().starts_with("seq2one-seed42-"));
        m.as_object_mut().unwrap().remove("run_id");
        m
    };
    assert_eq!(
        metrics(&a),
        metrics(&b),
        "metrics.json differs between two runs with the same seed"
    );
    let c = scratch("det-c");
    run::<Seq2One>(
        &tiny(),
        &RunOptions {
            seed: 7,
            ..opts(&c)
        },
    )
    .unwrap();
    assert_ne!(read(&a, "rnn_history.csv"), read(&c, "rnn_history.csv"));
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn epochs_override_and_bad_options() {
    let _serial = torch_serial();
    let dir = scratch("epochs");
    run::<Seq2One>(
        &tiny(),
        &RunOptions {
            epochs: Some(1),
            ..opts(&dir)
        },
    )
    .unwrap();
    let h = std::fs::read_to_string(dir.join("seq2one").join("ff_corrected_history.csv")).unwrap();
    assert_eq!(h.lines().count(), 2, "header and one epoch");
    let err = run::<Seq2One>(
        &tiny(),
        &RunOptions {
            epochs: Some(0),
            ..opts(&dir)
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("--epochs"), "{err}");
    let err = find("nope").err().unwrap().to_string();
    assert!(err.contains("nope") && err.contains("seq2one"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
