//! End-to-end tests of the experiments and the `seqlab` binary on tiny settings.

use seqlab_experiments::seq2one::{run_with, Seq2OneConfig};
use seqlab_experiments::{find, RunOptions};
use seqlab_train::History;
use std::path::{Path, PathBuf};
use std::process::Command;

/// libtorch's random generator is global to the process: tests that seed it
/// and build models must not interleave, or their initial weights differ.
fn torch_serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

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
    let _serial = torch_serial();
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
    let _serial = torch_serial();
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
    let _serial = torch_serial();
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

/// The shared reference data, when this checkout has it beside it.
fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SEQLAB_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    dir.join("mnist").is_dir().then_some(dir)
}

#[test]
fn data_command_prints_decoded_samples_with_their_labels() {
    let (ok, out, _) = seqlab(&[
        "data",
        "temporal-order",
        "--difficulty",
        "hard",
        "--n",
        "3",
        "--seed",
        "1",
    ]);
    assert!(ok, "{out}");
    let samples: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(samples.len(), 3, "{out}");
    for line in samples {
        let (seq, class) = line.split_once(" -> ").unwrap();
        assert!(
            (100..111).contains(&seq.len()) && seq.starts_with('B') && seq.ends_with('E'),
            "{line}"
        );
        assert!(["Q", "R", "S", "U"].contains(&class), "{line}");
    }
    let (ok, out, _) = seqlab(&["data", "ab-order", "--n", "2"]);
    assert!(
        ok && out.lines().count() == 3 && out.contains(" -> "),
        "{out}"
    );
    let (ok, out, _) = seqlab(&["data", "sine", "--pair", "damped", "--n", "1"]);
    assert!(ok && out.contains("76 windows of 24 steps"), "{out}");
    let (ok, out, _) = seqlab(&["data", "continuation", "--n", "1"]);
    assert!(ok && out.contains("seeds") && out.contains("->"), "{out}");

    let (ok, _, err) = seqlab(&["data", "temporal-order", "--difficulty", "impossible"]);
    assert!(!ok && err.contains("nightmare"), "{err}");
    let (ok, _, err) = seqlab(&["data", "cifar"]);
    assert!(
        !ok && err.contains("unknown data set") && err.contains("imdb"),
        "{err}"
    );
    let (ok, _, err) = seqlab(&["data", "mnist", "--split", "validation"]);
    assert!(!ok && err.contains("train or test"), "{err}");
}

#[test]
fn data_command_names_the_missing_file_and_where_it_looked() {
    let empty = scratch("no-data");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(["data", "imdb", "--data-dir", empty.to_str().unwrap()])
        // The test must not download 80 MB on a machine that can reach the internet.
        .env("SEQLAB_OFFLINE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for needle in [
        "SEQLAB_OFFLINE",
        "aclImdb_v1.tar.gz",
        "aclImdb_labeled.tar.gz",
        empty.to_str().unwrap(),
        "7c2ac02c03563afcf9b574c7e56c153a",
        "ai.stanford.edu",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "a failed download left something behind"
    );
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn data_command_reads_the_real_data_sets_when_present() {
    let Some(dir) = shared_data() else {
        eprintln!("skipped: no shared data beside the checkout and SEQLAB_DATA_DIR unset");
        return;
    };
    let dir = dir.to_str().unwrap();
    let (ok, out, err) = seqlab(&[
        "data",
        "mnist",
        "--split",
        "test",
        "--n",
        "1",
        "--data-dir",
        dir,
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("10000 images") && out.contains("image 0: label 7"),
        "{out}"
    );
    // The first test digit is a 7: ink in the top bar (rows 8-9) and a stroke further down.
    let rows: Vec<&str> = out.lines().skip(2).take(28).collect();
    assert_eq!(rows.len(), 28);
    assert!(
        rows[8].matches('@').count() >= 4 && rows[20].trim().len() >= 2,
        "{}",
        rows.join("\n")
    );
    assert!(
        rows[0].trim().is_empty() && rows[27].trim().is_empty(),
        "digit not centred/upright"
    );
}

#[test]
fn quick_temporal_order_lstm_beats_rnn_on_hard() {
    let _serial = torch_serial();
    let dir = scratch("temporal");
    let outcome = (find("temporal-order").unwrap().run)(&opts(&dir)).unwrap();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outcome.dir.join("metrics.json")).unwrap())
            .unwrap();
    let acc = |setting: &str, model: &str| {
        m["settings"][setting]["models"][model]["final_test_accuracy"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(m["settings"]["hard"]["difficulty"], "hard");
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
    use seqlab_experiments::length_sweep::{run_with, LengthSweepConfig};
    let dir = scratch("sweep");
    let config = LengthSweepConfig {
        lengths: vec![6, 10],
        seeds: 2,
        n_train: 200,
        n_test: 100,
        epochs: 2,
        hidden: 8,
        ..LengthSweepConfig::quick()
    };
    let outcome = run_with(&config, &opts(&dir)).unwrap();
    let csv = std::fs::read_to_string(outcome.dir.join("runs.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2 * 3 * 2, "{csv}");
    assert!(rows.iter().all(|r| r.split(',').count() == 5));
    assert!(rows.iter().any(|r| r.starts_with("10,GRU,43,")));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outcome.dir.join("metrics.json")).unwrap())
            .unwrap();
    let s = &m["test_accuracy"]["LSTM"]["10"];
    assert!(
        s["min"].as_f64().unwrap() <= s["mean"].as_f64().unwrap()
            && s["mean"].as_f64().unwrap() <= s["max"].as_f64().unwrap()
    );
    let (w, h, ink, _) = png_stats(&outcome.dir.join("accuracy_vs_length.png"));
    assert!((w, h) == (1000, 520) && ink > 0.02);
    std::fs::remove_dir_all(&dir).unwrap();
}
