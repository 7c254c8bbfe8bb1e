//! End-to-end tests of the experiments and the `seqlab` binary on tiny settings.

use seqlab_experiments::seq2one::{run_with, Seq2OneConfig};
use seqlab_experiments::{find, RunOptions};
use seqlab_train::History;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("seqlab-exp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn opts(dir: &Path) -> RunOptions {
    RunOptions {
        results_dir: dir.to_path_buf(),
        verbose: false,
        quick: true,
        ..RunOptions::default()
    }
}

fn tiny() -> Seq2OneConfig {
    Seq2OneConfig {
        n_train: 300,
        n_test: 300,
        ff_epochs: 3,
        rnn_epochs: 2,
        rnn_hidden: vec![32, 32],
        ..Seq2OneConfig::quick()
    }
}

/// Decodes a PNG and returns (width, height, share of non-white pixels, distinct colours).
fn png_stats(path: &Path) -> (u32, u32, f64, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let non_white = px
        .iter()
        .filter(|p| p.iter().take(3).any(|&c| c < 250))
        .count();
    let distinct: std::collections::HashSet<Vec<u8>> = px.iter().map(|p| p.to_vec()).collect();
    (
        info.width,
        info.height,
        non_white as f64 / px.len() as f64,
        distinct.len(),
    )
}

#[test]
fn quick_seq2one_rnn_beats_feed_forward_and_writes_every_file() {
    let dir = scratch("quick");
    let outcome = (find("seq2one").unwrap().run)(&opts(&dir)).unwrap();
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
    let read = |d: &Path, f: &str| std::fs::read_to_string(d.join("seq2one").join(f)).unwrap();
    let (a, b) = (scratch("det-a"), scratch("det-b"));
    run_with(&tiny(), &opts(&a)).unwrap();
    run_with(&tiny(), &opts(&b)).unwrap();
    for f in [
        "ff_as_published_history.csv",
        "ff_corrected_history.csv",
        "rnn_history.csv",
        "metrics.json",
    ] {
        assert_eq!(
            read(&a, f),
            read(&b, f),
            "{f} differs between two runs with the same seed"
        );
    }
    let c = scratch("det-c");
    run_with(
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
    let dir = scratch("epochs");
    run_with(
        &tiny(),
        &RunOptions {
            epochs: Some(1),
            ..opts(&dir)
        },
    )
    .unwrap();
    let h = std::fs::read_to_string(dir.join("seq2one").join("ff_corrected_history.csv")).unwrap();
    assert_eq!(h.lines().count(), 2, "header and one epoch");
    let err = run_with(
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

fn seqlab(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn cli_lists_and_rejects_bad_input_with_clear_errors() {
    let (ok, stdout, _) = seqlab(&["list"]);
    assert!(ok && stdout.contains("seq2one"), "{stdout}");
    let (ok, _, stderr) = seqlab(&["run", "nope"]);
    assert!(
        !ok && stderr.contains("unknown experiment \"nope\"") && stderr.contains("seq2one"),
        "{stderr}"
    );
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--device", "tpu"]);
    assert!(!ok && stderr.contains("cpu, cuda or auto"), "{stderr}");
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--epochs", "0"]);
    assert!(!ok && stderr.contains("--epochs"), "{stderr}");
    if !tch::Cuda::is_available() {
        let dir = scratch("cli-cuda");
        let (ok, _, stderr) = seqlab(&[
            "run",
            "seq2one",
            "--quick",
            "--device",
            "cuda",
            "--results-dir",
            dir.to_str().unwrap(),
        ]);
        assert!(!ok && stderr.contains("CUDA was requested"), "{stderr}");
        assert!(
            !dir.join("seq2one").join("metrics.json").exists(),
            "no results after a device error"
        );
    }
    let (ok, stdout, _) = seqlab(&["run", "--help"]);
    assert!(
        ok && stdout.contains("--results-dir") && stdout.contains("--quick"),
        "{stdout}"
    );
}
