//! End-to-end tests of the experiments and the `seqlab` binary on tiny settings.

use seqlab_experiments::seq2one::{run_with, Seq2OneConfig};
use seqlab_experiments::{find, RunOptions};
use seqlab_train::runtime::ThreadHint;
use seqlab_train::History;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `predict` fuzz target's fixture and check, run here on its seeds.
#[path = "../../../fuzz/src/predict.rs"]
mod fuzz_predict;

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
    run_with(&tiny(), &opts(&a)).unwrap();
    run_with(&tiny(), &opts(&b)).unwrap();
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
    seqlab_env(args, &[])
}

/// Runs the binary with extra environment variables, and without the
/// caller's own malloc and thread settings (so that the setup is seqlab's).
fn seqlab_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .env_remove("SEQLAB_MALLOC")
        .env_remove("GLIBC_TUNABLES")
        .env_remove("OMP_NUM_THREADS")
        .envs(env.iter().copied())
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
    let (ok, stdout, _) = seqlab(&["--help"]);
    for var in ["SEQLAB_DATA_DIR", "SEQLAB_MALLOC", "OMP_NUM_THREADS"] {
        assert!(ok && stdout.contains(var), "--help lacks {var}: {stdout}");
    }
    let (ok, _, stderr) = seqlab(&["run", "nope"]);
    assert!(
        !ok && stderr.contains("unknown experiment \"nope\"") && stderr.contains("seq2one"),
        "{stderr}"
    );
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--device", "tpu"]);
    assert!(!ok && stderr.contains("cpu, cuda or auto"), "{stderr}");
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--epochs", "0"]);
    assert!(!ok && stderr.contains("--epochs"), "{stderr}");
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--threads", "0"]);
    assert!(
        !ok && stderr.contains("--threads") && stderr.contains("auto or a positive whole number"),
        "{stderr}"
    );
    // A thread count far beyond the cores is refused before anything runs.
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--threads", "1000"]);
    assert!(!ok && stderr.contains("4 per core"), "{stderr}");
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--seeds", "1,2", "--jobs", "1000"]);
    assert!(
        !ok && stderr.contains("--jobs") && stderr.contains("4 per core"),
        "{stderr}"
    );
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
    // A plan line is one line: a path with a line break is refused, naming it.
    let (ok, stdout, stderr) = seqlab(&[
        "reproduce-all",
        "--plan",
        "--only",
        "seq2one",
        "--results-dir",
        "/tmp/two\nlines",
    ]);
    assert!(
        !ok && stdout.is_empty() && stderr.contains("line break") && stderr.contains("two\\nlines"),
        "{stderr}"
    );
    // A symlinked run folder would become a real folder while its target kept the old run.
    let dir = scratch("cli-link");
    let target = dir.join("elsewhere");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("metrics.json"), "{}").unwrap();
    std::fs::create_dir_all(dir.join("results")).unwrap();
    std::os::unix::fs::symlink(&target, dir.join("results/continuation")).unwrap();
    let (ok, _, stderr) = seqlab(&[
        "run",
        "continuation",
        "--quick",
        "--epochs",
        "1",
        "--results-dir",
        dir.join("results").to_str().unwrap(),
    ]);
    assert!(
        !ok && stderr.contains("is a symbolic link") && stderr.contains(target.to_str().unwrap()),
        "{stderr}"
    );
    assert!(std::fs::symlink_metadata(dir.join("results/continuation"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(target.join("metrics.json")).unwrap(),
        "{}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let (ok, stdout, _) = seqlab(&["run", "--help"]);
    assert!(
        ok && stdout.contains("--results-dir") && stdout.contains("--quick"),
        "{stdout}"
    );
}

/// The shared reference data, when this checkout has it beside it (or
/// `SEQLAB_DATA_DIR` names it). Without it a test skips, unless
/// `SEQLAB_REQUIRE_DATA` is set (`cargo xtask test` sets it): then it fails.
fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SEQLAB_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let imdb = dir.join("aclImdb").is_dir()
        || seqlab_data::imdb::ARCHIVE_NAMES
            .iter()
            .any(|n| dir.join(n).is_file());
    let present = dir.join("mnist").is_dir() && imdb;
    assert!(
        present || std::env::var_os("SEQLAB_REQUIRE_DATA").is_none(),
        "SEQLAB_REQUIRE_DATA is set but {} lacks mnist/ or the IMDb archive",
        dir.display()
    );
    if !present {
        eprintln!("skipped: no shared data beside the checkout and SEQLAB_DATA_DIR unset");
    }
    present.then_some(dir)
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
    let outcome = find("temporal-order").unwrap().run(&opts(&dir)).unwrap();
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
        n_train: 200,
        n_test: 100,
        epochs: 2,
        hidden: 8,
        ..LengthSweepConfig::quick()
    };
    let outcome = run_with(&config, &opts(&dir)).unwrap();
    let csv = std::fs::read_to_string(outcome.dir.join("runs.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    // One seed: every length and cell once.
    assert_eq!(rows.len(), 2 * 3, "{csv}");
    assert!(rows.iter().all(|r| r.split(',').count() == 5));
    assert!(rows.iter().any(|r| r.starts_with("10,GRU,42,")));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outcome.dir.join("metrics.json")).unwrap())
            .unwrap();
    let acc = m["test_accuracy"]["LSTM"]["10"].as_f64().unwrap();
    assert!(rows
        .iter()
        .any(|r| r.starts_with("10,LSTM,42,") && r.ends_with(&format!(",{acc}"))));
    let (w, h, ink, _) = png_stats(&outcome.dir.join("accuracy_vs_length.png"));
    assert!((w, h) == (1000, 520) && ink > 0.02);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Reads a CSV file with a header into rows of fields.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = if path.extension().is_some_and(|x| x == "gz") {
        use std::io::Read as _;
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        std::fs::read_to_string(path).unwrap()
    };
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn quick_imdb_lstm_learns_writes_every_file_and_serves_predictions() {
    use seqlab_experiments::imdb::{self, ImdbConfig, PredictOptions, Predictor};
    use seqlab_models::recurrent::RecurrentKind;
    let Some(data) = shared_data() else {
        return;
    };
    let _serial = torch_serial();
    let dir = scratch("imdb");
    let config = ImdbConfig {
        train_reviews: Some(3_000),
        test_reviews: Some(800),
        max_epochs: 3,
        ..ImdbConfig::quick(RecurrentKind::Lstm)
    };
    let o = RunOptions {
        data_dir: Some(data.clone()),
        ..opts(&dir)
    };
    let outcome = imdb::run_with(&config, &o).unwrap();
    let out = dir.join("imdb-lstm");
    for f in [
        "book_history.csv",
        "held_out_history.csv",
        "test_validated_history.csv",
        "manifest.json",
        "loss.png",
        "roc.png",
        "metrics.json",
        "timing.json",
        "predictions.csv.gz",
        "model.safetensors",
        "vocabulary.tsv",
        "model.json",
        "model.txt",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
        assert!(outcome.files.iter().any(|g| g == f), "{f} not reported");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    // The model learns: AUC on test reviews it never saw is clearly above chance, in both protocols.
    for p in ["book", "held_out"] {
        let t = &m["protocols"][p]["test"];
        let auc = t["auc"].as_f64().unwrap();
        assert!(auc > 0.7, "{p}: AUC {auc}");
        let bal = t["balanced_accuracy"].as_f64().unwrap();
        assert!(bal > 0.6 && bal <= 1.0, "{p}: balanced accuracy {bal}");
        let confusion: Vec<u64> = t["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
            .collect();
        assert_eq!(
            confusion.iter().sum::<u64>(),
            800,
            "{p}: confusion {confusion:?}"
        );
        let runs = m["protocols"][p]["epochs_run"].as_u64().unwrap();
        let best = m["protocols"][p]["best_epoch"].as_u64().unwrap();
        assert!((1..=3).contains(&runs) && (1..=runs).contains(&best));
        assert!(m["protocols"][p]["training_seconds"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(m["protocols"]["held_out"]["train_reviews"], 2_400);
    // The paired protocol fits the held-out protocol's reviews and validates on the test set.
    assert_eq!(m["protocols"]["test_validated"]["train_reviews"], 2_400);
    assert_eq!(m["protocols"]["test_validated"]["validation_reviews"], 800);
    let diff = m["protocols"]["test_validated"]["test"]["auc"]
        .as_f64()
        .unwrap()
        - m["protocols"]["held_out"]["test"]["auc"].as_f64().unwrap();
    assert_eq!(m["protocol_effect"]["auc"].as_f64().unwrap(), diff);
    assert!(seqlab_experiments::common::verify_manifest(&out).is_empty());
    assert_eq!(m["protocols"]["held_out"]["validation_reviews"], 600);
    assert_eq!(m["parameters"]["keras_count"], 652_577);
    assert_eq!(m["parameters"]["book"], 652_577);
    assert_eq!(m["parameters"]["libtorch"], 652_705);

    // Histories carry the learning rate; one row per epoch run.
    let h =
        History::from_csv(&std::fs::read_to_string(out.join("book_history.csv")).unwrap()).unwrap();
    assert_eq!(
        h.len() as u64,
        m["protocols"]["book"]["epochs_run"].as_u64().unwrap()
    );
    assert_eq!(
        h.columns(),
        ["loss", "accuracy", "val_loss", "val_accuracy"]
    );
    assert_eq!(h.learning_rates()[0], 1e-3);
    assert!(std::fs::read_to_string(out.join("book_history.csv"))
        .unwrap()
        .starts_with("epoch,loss,accuracy,val_loss,val_accuracy,lr\n"));

    // predictions.csv.gz: one row per test review; its AUC is the reported one.
    let (header, rows) = read_csv(&out.join("predictions.csv.gz"));
    assert_eq!(
        header,
        [
            "id",
            "label",
            "probability",
            "probability_held_out",
            "probability_test_validated"
        ]
    );
    assert_eq!(rows.len(), 800);
    let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), 800, "review ids are unique");
    assert!(rows[0][0].starts_with("test/neg/"));
    let scores: Vec<f64> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
    let truth: Vec<bool> = rows.iter().map(|r| r[1] == "1").collect();
    assert_eq!(truth.iter().filter(|&&t| t).count(), 400);
    assert!(scores.iter().all(|p| (0.0..=1.0).contains(p)));
    let auc = seqlab_metrics::roc_auc(&scores, &truth).unwrap();
    let reported = m["protocols"]["book"]["test"]["auc"].as_f64().unwrap();
    assert!((auc - reported).abs() < 1e-3, "{auc} vs {reported}");

    for (png, size) in [("loss.png", (1500, 460)), ("roc.png", (760, 700))] {
        let (w, h, ink, colours) = png_stats(&out.join(png));
        assert_eq!((w, h), size, "{png}");
        assert!(
            ink > 0.02 && colours > 20,
            "{png} looks blank: ink {ink}, colours {colours}"
        );
    }

    // The saved model, reloaded from its files, reproduces the run's probabilities.
    let reviews = seqlab_data::datadir::DataDir::at(&data).imdb().unwrap();
    let find_text = |id: &str| {
        reviews
            .test
            .iter()
            .find(|r| {
                format!(
                    "test/{}/{}_{}",
                    if r.positive { "pos" } else { "neg" },
                    r.id,
                    r.rating
                ) == id
            })
            .unwrap()
            .text
            .clone()
    };
    let picked = [&rows[0], &rows[1], &rows[799]];
    let texts: Vec<String> = picked.iter().map(|r| find_text(&r[0])).collect();
    let popts = PredictOptions {
        experiment: "imdb-lstm".into(),
        results_dir: dir.clone(),
        threshold: None,
        device: tch::Device::Cpu,
    };
    let predictor = Predictor::load(&popts).unwrap();
    let got = predictor.predict(&texts).unwrap();
    for (p, row) in got.iter().zip(&picked) {
        let want: f64 = row[2].parse().unwrap();
        assert!(
            (p.probability - want).abs() < 1e-5,
            "{} vs {want}",
            p.probability
        );
        assert_eq!(p.positive, p.probability >= predictor.threshold());
        assert!(p.tokens_used > 0 && p.tokens_used <= 128);
    }

    // The CLI: --text and --file, and a clear error without a trained model.
    let review_file = dir.join("reviews.txt");
    std::fs::write(&review_file, format!("{}\n\n{}\n", texts[0], texts[1])).unwrap();
    let (ok, stdout, stderr) = seqlab(&[
        "predict",
        "imdb-lstm",
        "--text",
        "A wonderful, moving film with brilliant acting.",
        "--file",
        review_file.to_str().unwrap(),
        "--results-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].contains("threshold"), "{stdout}");
    let first: f64 = lines[2].split_whitespace().next().unwrap().parse().unwrap();
    assert!(
        (first - rows[0][2].parse::<f64>().unwrap()).abs() < 1e-3,
        "{stdout}"
    );
    let empty = scratch("imdb-empty");
    let (ok, _, stderr) = seqlab(&[
        "predict",
        "imdb-lstm",
        "--text",
        "good",
        "--results-dir",
        empty.to_str().unwrap(),
    ]);
    assert!(
        !ok && stderr.contains("no trained model for imdb-lstm")
            && stderr.contains("model.json")
            && stderr.contains("seqlab run imdb-lstm"),
        "{stderr}"
    );
    let (ok, _, stderr) = seqlab(&["predict", "seq2one", "--text", "good"]);
    assert!(!ok && stderr.contains("imdb-rnn"), "{stderr}");
    let (ok, _, stderr) = seqlab(&[
        "predict",
        "imdb-lstm",
        "--file",
        empty.join("none.txt").to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("none.txt"), "{stderr}");
    // A review without words is an error, not a silent 0.5.
    let err = predictor
        .predict(&["good film", "?!  ..."])
        .unwrap_err()
        .to_string();
    assert!(err.contains("review 2 has no words"), "{err}");
    // Every field of model.json is checked, naming the file and the field.
    let model_json = out.join("model.json");
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model_json).unwrap()).unwrap();
    // Loads with `original` changed at `fields`; the error, or why there is none.
    let refusal = |fields: &[(&str, serde_json::Value)]| {
        let mut m = original.clone();
        for (field, value) in fields {
            m[*field] = value.clone();
        }
        std::fs::write(&model_json, m.to_string()).unwrap();
        // Listed in the manifest as it now is: the checks behind the manifest's.
        write_manifest(&out);
        match Predictor::load(&popts) {
            Ok(_) => format!("accepted: {fields:?}"),
            Err(e) => e.to_string(),
        }
    };
    for (field, value) in [
        ("maxlen", serde_json::json!(0)),
        ("maxlen", serde_json::json!(100_000_000_000u64)),
        ("index_from", serde_json::json!(-100)),
        ("skip_top", serde_json::json!(99_999)),
        ("threshold", serde_json::json!(5)),
        ("weights", serde_json::json!("../../etc/passwd")),
    ] {
        let err = refusal(&[(field, value)]);
        assert!(
            !err.starts_with("accepted") && err.contains("model.json") && err.contains(field),
            "{field}: {err}"
        );
    }
    // Weights of another model size: the variable and both shapes, no C++
    // backtrace (a smaller model, so that the weights file is large enough).
    let err = refusal(&[("hidden_size", serde_json::json!(16))]);
    assert!(
        err.contains("model.safetensors") && err.contains("shape"),
        "{err}"
    );
    assert!(
        !err.contains("frame #") && err.lines().count() <= 2,
        "{err}"
    );
    // A huge model within each field's bounds (10 million rows of 4,096
    // values: 160 GB) next to small weights is refused before anything is
    // allocated.
    let err = refusal(&[
        ("vocab_size", serde_json::json!(10_000_000)),
        ("embedding_dim", serde_json::json!(4096)),
    ]);
    assert!(
        err.contains("model.json") && err.contains("not this model's"),
        "{err}"
    );
    std::fs::write(&model_json, original.to_string()).unwrap();
    write_manifest(&out);
    // A corrupt weights file is an error naming it, not a panic.
    std::fs::write(out.join("model.safetensors"), b"not a checkpoint").unwrap();
    let err = Predictor::load(&popts).unwrap_err().to_string();
    assert!(err.contains("model.safetensors"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tiny_imdb_simple_rnn_beats_chance_on_held_out_reviews() {
    use seqlab_experiments::imdb::{self, ImdbConfig};
    use seqlab_models::recurrent::RecurrentKind;
    let Some(data) = shared_data() else {
        return;
    };
    let _serial = torch_serial();
    let dir = scratch("imdb-rnn");
    let config = ImdbConfig {
        train_reviews: Some(3_000),
        test_reviews: Some(600),
        max_epochs: 3,
        ..ImdbConfig::quick(RecurrentKind::RnnTanh)
    };
    let o = RunOptions {
        data_dir: Some(data),
        ..opts(&dir)
    };
    imdb::run_with(&config, &o).unwrap();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("imdb-rnn/metrics.json")).unwrap())
            .unwrap();
    let auc = m["protocols"]["held_out"]["test"]["auc"].as_f64().unwrap();
    assert!(auc > 0.6, "SimpleRNN held-out AUC {auc}");
    assert_eq!(m["parameters"]["keras_count"], 643_265);
    assert!(m["settings"]["model"]
        .as_str()
        .unwrap()
        .contains("SimpleRNN"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Standard deviation of the gray level (0-255) of a PNG's pixels.
fn png_gray_std(path: &Path) -> f64 {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let gray: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| p.iter().take(3).map(|&c| f64::from(c)).sum::<f64>() / 3.0)
        .collect();
    let mean = gray.iter().sum::<f64>() / gray.len() as f64;
    (gray.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gray.len() as f64).sqrt()
}

#[test]
fn tiny_mnist_autoencoders_learn_draw_and_round_trip_through_saved_halves() {
    use seqlab_experiments::mnist_ae::{self, AeConfig};
    use seqlab_models::autoencoder::AutoencoderConfig;
    let Some(data) = shared_data() else {
        return;
    };
    let _serial = torch_serial();
    let dir = scratch("mnist-ae");
    let o = RunOptions {
        data_dir: Some(data.clone()),
        ..opts(&dir)
    };
    let tiny = |model| AeConfig {
        test_images: Some(500),
        generated: 10,
        ..AeConfig::quick(model)
    };
    let lstm = tiny(AutoencoderConfig::lstm_book());
    let outcome = mnist_ae::run_with(&lstm, &o).unwrap();
    let out = dir.join("mnist-lstm-ae");
    let pngs = [
        "loss.png",
        "originals.png",
        "reconstructions.png",
        "latent.png",
        "generated.png",
        "class_means.png",
    ];
    for f in pngs.iter().chain(&[
        "metrics.json",
        "train_history.csv",
        "model.txt",
        "encoder.safetensors",
        "decoder.safetensors",
    ]) {
        assert!(out.join(f).is_file(), "{f} missing");
        assert!(outcome.files.iter().any(|g| g == f), "{f} not reported");
    }
    for f in pngs {
        let std = png_gray_std(&out.join(f));
        assert!(std > 20.0, "{f} looks blank: gray std {std}");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let r = &m["run"];
    let f = |k: &str| r[k].as_f64().unwrap();
    // The loss falls, and reconstructions beat predicting the mean image.
    assert!(f("best_val_bce") < f("first_epoch_val_bce") - 0.05, "{r}");
    assert!(f("reconstruction_mse") < f("mean_image_mse"), "{r}");
    assert_eq!(m["parameters"]["keras_count"], 10_950);

    // The saved halves reload on their own and reproduce the reconstructions.
    let dd = seqlab_data::datadir::DataDir::at(&data);
    let test = dd.mnist(seqlab_data::mnist::Split::Test).unwrap();
    let rows = seqlab_data::split::stratified_sample(
        &test.labels,
        500,
        42,
        seqlab_data::rng::streams::TEST_DATA,
    );
    let x = seqlab_train::tensors::array_to_tensor(
        &test.images.select(&rows).unwrap(),
        tch::Device::Cpu,
    )
    .unwrap();
    let cfg = AutoencoderConfig::lstm_book();
    let (_evs, encoder) = mnist_ae::load_encoder(
        &cfg.encoder,
        &out.join("encoder.safetensors"),
        tch::Device::Cpu,
    )
    .unwrap();
    let (_dvs, decoder) = mnist_ae::load_decoder(
        &cfg.decoder,
        &out.join("decoder.safetensors"),
        tch::Device::Cpu,
    )
    .unwrap();
    assert_eq!(m["settings"]["test_images"], rows.len());
    let z = encoder.encode(&x);
    assert_eq!(z.size(), [rows.len() as i64, 2]);
    let rec = decoder.decode(&z);
    let mse = (&rec - &x)
        .square()
        .mean(tch::Kind::Double)
        .double_value(&[]);
    assert!(
        (mse - f("reconstruction_mse")).abs() < 1e-6,
        "{mse} vs {}",
        f("reconstruction_mse")
    );
    // A decoder file is not an encoder.
    let err = mnist_ae::load_encoder(
        &cfg.encoder,
        &out.join("decoder.safetensors"),
        tch::Device::Cpu,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("decoder.safetensors") && err.contains("ae.decoder"),
        "{err}"
    );

    // The BiLSTM autoencoder compares itself with the LSTM one in the same results folder.
    let bi = AeConfig {
        max_epochs: 3,
        ..tiny(AutoencoderConfig::bilstm_book())
    };
    mnist_ae::run_with(&bi, &o).unwrap();
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("mnist-bilstm-ae/metrics.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["parameters"]["keras_count"], 49_408);
    assert_eq!(m["parameters"]["encoder_keras_count"], 18_692);
    assert_eq!(m["parameters"]["decoder_keras_count"], 30_716);
    let targets = m["targets"].as_array().unwrap();
    assert!(
        targets
            .iter()
            .any(|t| t["what"].as_str().unwrap().contains("LSTM autoencoder")),
        "{m}"
    );
    assert!(
        !dir.join("mnist-bilstm-ae/latent.png").exists(),
        "no 2-D scatter for a 100-D latent space"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tiny_seq2seq_teacher_forced_loss_falls_and_both_decodings_are_reported() {
    use seqlab_data::sine_pairs::FunctionPair;
    use seqlab_experiments::seq2seq::{self, Seq2SeqConfig};
    let _serial = torch_serial();
    let dir = scratch("seq2seq");
    for pair in FunctionPair::ALL {
        assert!(find(seq2seq::name_of(pair)).is_ok(), "{pair} is registered");
    }
    let config = Seq2SeqConfig {
        post_epochs: 6,
        improved_tf_epochs: 8,
        improved_fr_epochs: 4,
        ..Seq2SeqConfig::full(FunctionPair::SinCos)
    };
    seq2seq::run_with(&config, &opts(&dir)).unwrap();
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
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["windows"], 76);
    assert_eq!(m["parameters"]["keras_count"], 46_276);
    for r in ["post", "improved"] {
        let tf = m["recipes"][r]["teacher_forced_mse"].as_f64().unwrap();
        let ar = m["recipes"][r]["autoregressive_mse"].as_f64().unwrap();
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
    assert_eq!(m["recipes"]["improved"]["epochs"], 12);
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
    let h = History::from_csv(&std::fs::read_to_string(out.join("train_history.csv")).unwrap())
        .unwrap();
    assert_eq!(h.columns(), ["loss", "val_loss"]);
    assert!(png_gray_std(&out.join("sequences.png")) > 10.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Removes, at every depth, the fields that may differ between two runs of
/// the same seed: those named `*seconds` (wall times) and the run id.
fn strip_timings(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|k, _| !k.ends_with("seconds") && k != "run_id");
            m.values_mut().for_each(strip_timings);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_timings),
        _ => {}
    }
}

/// Every `metrics.json` under `dir`, without wall times and run ids.
fn metrics_without_timings(dir: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    seqlab_experiments::EXPERIMENTS
        .iter()
        .filter_map(|e| {
            let text = std::fs::read_to_string(dir.join(e.name).join("metrics.json")).ok()?;
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            strip_timings(&mut v);
            Some((e.name.to_string(), v))
        })
        .collect()
}

#[test]
fn quick_profile_of_everything_is_reproducible_and_fully_reported() {
    use seqlab_experiments::report::{write_report, REPORT_FILE};
    let Some(data) = shared_data() else {
        return;
    };
    let _serial = torch_serial();
    let (a, b) = (scratch("all-a"), scratch("all-b"));
    let mut files = Vec::new();
    for dir in [&a, &b] {
        let o = RunOptions {
            data_dir: Some(data.clone()),
            ..opts(dir)
        };
        for e in seqlab_experiments::EXPERIMENTS {
            let outcome = e.run(&o).unwrap_or_else(|err| panic!("{}: {err}", e.name));
            if dir == &a {
                files.push((e.name, outcome.files));
            }
        }
    }
    // Same seed, same metrics (wall times aside), for every experiment.
    let (ma, mb) = (metrics_without_timings(&a), metrics_without_timings(&b));
    assert_eq!(ma.len(), seqlab_experiments::EXPERIMENTS.len());
    for (name, v) in &ma {
        assert_eq!(
            Some(v),
            mb.get(name),
            "{name}: metrics differ between two quick runs"
        );
    }
    // The report names every experiment, embeds every PNG, and every file it points at exists.
    let report_path = write_report(&a).unwrap();
    assert_eq!(report_path, a.join(REPORT_FILE));
    let report = std::fs::read_to_string(&report_path).unwrap();
    for (name, written) in &files {
        assert!(
            report.contains(&format!("## {name}\n")),
            "{name} missing from the report"
        );
        assert!(!written.is_empty());
        for f in written {
            assert!(
                a.join(name).join(f).is_file(),
                "{name}/{f} reported but missing"
            );
            if f.ends_with(".png") {
                assert!(
                    report.contains(&format!("({name}/{f})")),
                    "{name}/{f} not in the report"
                );
            }
        }
    }
    assert!(report.contains("| quick |"), "profile column");
    assert!(!report.contains("Not run yet"));
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

/// Every result file in `dir` (temporaries aside) is complete: JSON parses,
/// CSV rows all have the header's width, PNGs decode. Returns the temporaries.
fn assert_results_complete(dir: &Path) -> Vec<String> {
    let mut temps = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(seqlab_io::TEMP_PREFIX) {
            temps.push(name);
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if name.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{name} is not complete JSON: {e}"));
        } else if name.ends_with(".csv") {
            let text = String::from_utf8(bytes).unwrap();
            let widths: Vec<usize> = text.lines().map(|l| l.split(',').count()).collect();
            assert!(
                widths.len() > 1 && widths.iter().all(|&w| w == widths[0]),
                "{name} is ragged"
            );
            assert!(text.ends_with('\n'), "{name} lacks its last line break");
        } else if name.ends_with(".png") {
            let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
                .read_info()
                .unwrap();
            let mut buf = vec![0; reader.output_buffer_size()];
            reader
                .next_frame(&mut buf)
                .unwrap_or_else(|e| panic!("{name} does not decode: {e}"));
        }
    }
    temps
}

#[test]
fn a_killed_run_leaves_no_half_written_result_and_the_next_run_starts_clean() {
    let dir = scratch("kill");
    let args = [
        "run",
        "continuation",
        "--quick",
        "--quiet",
        "--results-dir",
        dir.to_str().unwrap(),
    ];
    let (ok, _, err) = seqlab(&args);
    assert!(ok, "{err}");
    let out = dir.join("continuation");
    assert!(assert_results_complete(&out).is_empty());
    // `seqlab run` gives the small LSTMs one thread, and metrics.json says so.
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["threads"], 1, "{metrics}");
    for delay_ms in [150, 400, 700, 1000] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_seqlab"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Under every final name: the old file or the new one, complete.
        assert_results_complete(&out);
    }
    let (ok, _, err) = seqlab(&args);
    assert!(ok, "{err}");
    assert!(
        assert_results_complete(&out).is_empty(),
        "the next run removes the temporaries of killed runs"
    );
    // The staging folders of killed runs, beside the results folder, too.
    let staged: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(seqlab_io::TEMP_PREFIX))
        .collect();
    assert!(staged.is_empty(), "{staged:?}");
    assert!(seqlab_experiments::common::verify_manifest(&out).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_experiment_without_its_data_fails_with_the_loaders_message_and_writes_nothing() {
    let empty = scratch("exp-no-data");
    std::fs::create_dir_all(&empty).unwrap();
    let results = empty.join("results");
    for (experiment, needle) in [
        ("imdb-rnn", "aclImdb_v1.tar.gz"),
        ("mnist-lstm-ae", "train-images-idx3-ubyte"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_seqlab"))
            .args([
                "run",
                experiment,
                "--quick",
                "--data-dir",
                empty.to_str().unwrap(),
            ])
            .args(["--results-dir", results.to_str().unwrap()])
            .env("SEQLAB_OFFLINE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.contains(&format!("experiment {experiment} failed"))
                && err.contains(needle)
                && err.contains(empty.to_str().unwrap()),
            "{err}"
        );
        assert!(
            !results.join(experiment).exists(),
            "{experiment}: results written without data"
        );
    }
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn bench_harness_runs_every_workload_on_a_tiny_setting() {
    for w in seqlab_experiments::bench::WORKLOADS {
        let (ok, out, err) = seqlab(&[
            "bench", w, "--shrink", "50", "--warmup", "0", "--epochs", "2",
        ]);
        assert!(ok, "{w}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["workload"], *w);
        assert_eq!(v["epoch_seconds"].as_array().unwrap().len(), 2);
        let sps = v["samples_per_second"].as_f64().unwrap();
        assert!(sps.is_finite() && sps > 0.0, "{w}: {sps}");
        assert_eq!(v["allocator"], "tuned", "{w}");
        // Each workload's own thread count: one for the small LSTMs.
        assert_eq!(v["threads_source"], "hint", "{w}");
        if seqlab_experiments::bench::thread_hint(w) == ThreadHint::Single {
            assert_eq!(v["threads"], 1, "{w}");
        }
    }
    // An explicit count wins over the hint, and OMP_NUM_THREADS over the hint.
    let tiny_seq2seq = [
        "bench",
        "seq2seq-sine",
        "--shrink",
        "50",
        "--warmup",
        "0",
        "--epochs",
        "1",
    ];
    let with_flag = [&tiny_seq2seq[..], &["--threads", "2"]].concat();
    for (args, env, source) in [
        (&with_flag[..], None, "choice"),
        (
            &tiny_seq2seq[..],
            Some(("OMP_NUM_THREADS", "2")),
            "environment",
        ),
    ] {
        let (ok, out, err) = seqlab_env(args, env.as_slice());
        assert!(ok, "{source}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(
            (v["threads"].as_u64(), v["threads_source"].as_str()),
            (Some(2), Some(source))
        );
    }
    let (ok, _, err) = seqlab(&["bench", "nope"]);
    assert!(!ok && err.contains("toy-seq2one"), "{err}");
    // The allocator setup is recorded, and the user's choice is kept.
    let tiny = [
        "bench",
        "toy-seq2one",
        "--shrink",
        "50",
        "--warmup",
        "0",
        "--epochs",
        "1",
    ];
    for (env, expected) in [
        (("SEQLAB_MALLOC", "system"), "system"),
        (
            ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072"),
            "user",
        ),
    ] {
        let (ok, out, err) = seqlab_env(&tiny, &[env]);
        assert!(ok, "{env:?}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["allocator"], expected, "{env:?}");
    }
    let (ok, _, err) = seqlab_env(&tiny, &[("SEQLAB_MALLOC", "fast")]);
    assert!(!ok && err.contains("SEQLAB_MALLOC=\"fast\""), "{err}");
}

/// The files of one seed folder that must not depend on how the seeds were
/// scheduled: every history CSV, and metrics.json without wall times and run id.
fn seed_results(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with("_history.csv") {
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        } else if name == "metrics.json" {
            let mut m: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            strip_timings(&mut m);
            out.insert(name, m.to_string());
        }
    }
    out
}

#[test]
fn seeds_in_parallel_processes_match_a_sequential_run_and_are_summarised() {
    let (a, b) = (scratch("seeds-par"), scratch("seeds-seq"));
    for (dir, jobs) in [(&a, "2"), (&b, "1")] {
        let (ok, stdout, err) = seqlab(&[
            "run",
            "continuation",
            "--quick",
            "--epochs",
            "3",
            "--seeds",
            "7,9",
            "--jobs",
            jobs,
            "--results-dir",
            dir.to_str().unwrap(),
        ]);
        assert!(ok, "--jobs {jobs}: {err}");
        assert!(stdout.contains("continuation (2 seeds)"), "{stdout}");
        assert!(stdout.contains(" over 2 seeds, range ["), "{stdout}");
    }
    for seed in ["7", "9"] {
        let (pa, pb) = (
            a.join("continuation/seeds").join(seed),
            b.join("continuation/seeds").join(seed),
        );
        let (ra, rb) = (seed_results(&pa), seed_results(&pb));
        assert!(ra.contains_key("metrics.json") && ra.contains_key("train_history.csv"));
        assert_eq!(
            ra, rb,
            "seed {seed}: two jobs at once differ from one at a time"
        );
        assert!(seqlab_experiments::common::verify_manifest(&pa).is_empty());
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(pa.join("metrics.json")).unwrap())
                .unwrap();
        assert_eq!(m["seed"].to_string(), seed);
        assert_eq!(m["seed_set"], serde_json::json!([7, 9]));
        assert_eq!(m["threads"], 1);
    }
    // The summary: per target the two values, their mean, spread and interval.
    let s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(a.join("continuation/metrics.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(s["seeds"], serde_json::json!([7, 9]));
    let t = &s["targets"][0];
    let (v7, v9) = (
        t["values"]["7"].as_f64().unwrap(),
        t["values"]["9"].as_f64().unwrap(),
    );
    assert!((t["mean"].as_f64().unwrap() - (v7 + v9) / 2.0).abs() < 1e-12);
    assert!((t["sd"].as_f64().unwrap() - (v7 - v9).abs() / 2f64.sqrt()).abs() < 1e-12);
    assert_eq!(t["n"], 2);
    assert_eq!(t["ci95"].as_array().unwrap().len(), 2);
    // The verdict is the target's accepted range applied to the mean.
    let lo = t["lo"].as_f64().unwrap_or(f64::MIN);
    let hi = t["hi"].as_f64().unwrap_or(f64::MAX);
    assert_eq!(
        t["pass"],
        serde_json::json!((lo..=hi).contains(&t["mean"].as_f64().unwrap()))
    );
    // A later run with other seeds replaces the folder's seeds.
    let (ok, _, err) = seqlab(&[
        "run",
        "continuation",
        "--quick",
        "--epochs",
        "2",
        "--seeds",
        "9,",
        "--quiet",
        "--results-dir",
        a.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(!a.join("continuation/seeds/7").exists());
    let (ok, _, err) = seqlab(&["run", "continuation", "--seeds", "7,9", "--only-seed", "8"]);
    assert!(
        !ok && err.contains("--only-seed 8 is not one of --seeds 7,9"),
        "{err}"
    );
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

fn summary_seeds(exp: &Path) -> serde_json::Value {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(exp.join("metrics.json")).unwrap()).unwrap();
    m["seeds"].clone()
}

#[test]
fn a_failed_multi_seed_run_keeps_the_earlier_seeds_until_a_run_of_new_ones_succeeds() {
    let dir = scratch("seeds-keep");
    let d = dir.to_str().unwrap().to_string();
    let run = |seeds: &str| {
        seqlab(&[
            "run",
            "continuation",
            "--quick",
            "--epochs",
            "1",
            "--seeds",
            seeds,
            "--results-dir",
            &d,
        ])
    };
    let (ok, _, err) = run("7,8");
    assert!(ok, "{err}");
    let exp = dir.join("continuation");
    let lock = |seed: u64| seqlab_io::DirLock::acquire(exp.join("seeds").join(seed.to_string()));
    // Every seed of the new run fails (this test holds their folders).
    let held = (lock(9).unwrap(), lock(10).unwrap());
    let (ok, stdout, err) = run("9,10");
    assert!(!ok && err.contains("continuation seed 9"), "{err}");
    assert!(!err.contains("removed the folders"), "{err}");
    for seed in ["7", "8"] {
        assert!(exp.join("seeds").join(seed).join("metrics.json").is_file());
    }
    assert_eq!(summary_seeds(&exp), serde_json::json!([7, 8]));
    // The earlier summary is not printed as this run's result.
    assert!(
        stdout.contains("none of this run's seeds finished")
            && !stdout.contains("PASS")
            && !stdout.contains("MISS"),
        "{stdout}"
    );
    // One of the two fails: the earlier seeds stay, and the summary covers every folder there.
    drop(held.0);
    let (ok, stdout, err) = run("9,10");
    assert!(!ok && err.contains("continuation seed 10"), "{err}");
    assert_eq!(summary_seeds(&exp), serde_json::json!([7, 8, 9]));
    assert!(
        stdout.contains("earlier seeds [7, 8] were kept"),
        "{stdout}"
    );
    drop(held.1);
    // A run whose seeds all finish replaces the earlier ones.
    let (ok, _, err) = run("9,");
    assert!(ok, "{err}");
    assert!(err.contains("removed the folders of seeds"), "{err}");
    assert!(!exp.join("seeds/7").exists() && !exp.join("seeds/10").exists());
    assert_eq!(summary_seeds(&exp), serde_json::json!([9]));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The process that holds a folder's lock, as its lock file names it.
fn lock_holder(lock_file: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(lock_file).ok()?;
    // "process <pid> on <host>: <command>"
    text.strip_prefix("process ")?
        .split([' ', ':'])
        .next()?
        .parse()
        .ok()
}

/// Whether process `pid` has ended (gone, or a zombie nobody has reaped yet).
fn ended(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
        s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z'))
    })
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let t0 = std::time::Instant::now();
    while !done() {
        assert!(t0.elapsed().as_secs() < 60, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn seed_jobs_lock_their_experiment_and_end_when_their_run_is_killed() {
    let dir = scratch("seeds-kill");
    let d = dir.to_str().unwrap().to_string();
    let args = |seeds: &str, epochs: &str| -> Vec<String> {
        [
            "run",
            "continuation",
            "--quick",
            "--quiet",
            "--epochs",
            epochs,
            "--seeds",
            seeds,
        ]
        .iter()
        .map(|a| a.to_string())
        .chain(["--results-dir".to_string(), d.clone()])
        .collect()
    };
    let (ok, _, err) = seqlab(
        &args("5,", "1")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(ok, "{err}");
    let exp = dir.join("continuation");
    let spawn = |a: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_seqlab"))
            .args(a)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // One seed job of a plan, as a scheduler starts it: no parent of seqlab's.
    let mut a = args("7,8", "100000");
    a.extend(["--only-seed".into(), "7".into()]);
    let mut job = spawn(a);
    let lock7 = exp.join("seeds/.7.lock");
    wait_for("the seed job's lock", || {
        lock_holder(&lock7) == Some(job.id())
    });
    let staging = || {
        std::fs::read_dir(exp.join("seeds"))
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().starts_with(seqlab_io::TEMP_PREFIX)
            })
            .count()
    };
    wait_for("the seed job's staging folder", || staging() == 1);
    // A single-seed run would replace the folder that holds the job's staging folder.
    let (ok, _, err) = seqlab(&[
        "run",
        "continuation",
        "--quick",
        "--epochs",
        "1",
        "--results-dir",
        &d,
    ]);
    assert!(
        !ok && err.contains("continuation is being written by another run"),
        "{err}"
    );
    assert_eq!(staging(), 1, "the live staging folder was removed");
    // The report leaves the folder alone and says so.
    let (ok, _, err) = seqlab(&["report", "--results-dir", &d]);
    assert!(ok && err.contains("skipped continuation"), "{err}");
    job.kill().unwrap();
    job.wait().unwrap();
    // A multi-seed run killed while its seeds train: they end with it.
    let mut parent = spawn(args("7,8", "100000"));
    wait_for("both seeds' jobs", || {
        [7, 8].iter().all(|s| {
            lock_holder(&exp.join(format!("seeds/.{s}.lock")))
                .is_some_and(|pid| pid != job.id() && pid != parent.id() && !ended(pid))
        })
    });
    let workers: Vec<u32> = [7, 8]
        .iter()
        .filter_map(|s| lock_holder(&exp.join(format!("seeds/.{s}.lock"))))
        .collect();
    let (ok, _, err) = seqlab(
        &args("9,", "1")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(
        !ok && err.contains("seeds is being written by another run"),
        "{err}"
    );
    parent.kill().unwrap();
    parent.wait().unwrap();
    wait_for("the jobs to end with their parent", || {
        workers.iter().all(|&p| ended(p))
    });
    // Nothing of the killed run was committed, and the earlier seed is untouched.
    assert!(!exp.join("seeds/7/metrics.json").exists() && !exp.join("seeds/8").exists());
    assert_eq!(summary_seeds(&exp), serde_json::json!([5]));
    assert!(exp.join("seeds/5/metrics.json").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_plan_runs_under_xargs_and_the_report_names_missing_seeds() {
    let dir = scratch("plan");
    let results = dir.join("my results");
    let (ok, plan, err) = seqlab(&[
        "reproduce-all",
        "--plan",
        "--only",
        "seq2seq-power",
        "--quick",
        "--epochs",
        "2",
        "--seeds",
        "3",
        "--results-dir",
        results.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = plan.lines().collect();
    assert_eq!(lines.len(), 3, "{plan}");
    for (line, seed) in lines.iter().zip([42, 43, 44]) {
        assert!(
            line.contains(" run seq2seq-power --seeds 42..44 --only-seed ")
                && line.contains(&format!("--only-seed {seed} "))
                && line.contains(env!("CARGO_BIN_EXE_seqlab")),
            "{line}"
        );
    }
    // The closing hint is a shell command too: its paths are quoted.
    assert!(
        err.contains(&format!(" report --results-dir '{}'", results.display())),
        "{err}"
    );
    // What a user does with it: two at a time under xargs, then the report.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plan.txt"), &plan).unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg("xargs -d '\\n' -P 2 -n 1 sh -c < plan.txt > xargs.log 2>&1")
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(dir.join("xargs.log")).unwrap_or_default()
    );
    std::fs::remove_dir_all(results.join("seq2seq-power/seeds/43")).unwrap();
    let (ok, stdout, err) = seqlab(&["report", "--results-dir", results.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("summarised seq2seq-power: 2 seeds; missing seeds 43"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(results.join("REPORT.md")).unwrap();
    assert!(
        report.contains("**Missing seeds** (planned, no folder yet): 43."),
        "{report}"
    );
    assert!(report.contains("| 42,44 (2) |"), "seeds column");
    assert!(report.contains("verdict (on the mean)"));
    assert!(
        report.contains("(seq2seq-power/seeds/42/windows.png)"),
        "first seed's pictures"
    );
    // A corrupt seed file is an error that names it, not "not run yet",
    // and the report goes on with the other experiments.
    std::fs::create_dir_all(results.join("seq2one")).unwrap();
    std::fs::write(
        results.join("seq2one/metrics.json"),
        r#"{"experiment": "seq2one", "profile": "quick", "seed": 1, "targets": [{"what": "x", "measured": 0.5, "pass": true}]}"#,
    )
    .unwrap();
    std::fs::write(
        results.join("seq2seq-power/seeds/42/metrics.json"),
        "{ half",
    )
    .unwrap();
    let (ok, _, err) = seqlab(&["report", "--results-dir", results.to_str().unwrap()]);
    assert!(
        !ok && err.contains("seeds/42/metrics.json") && err.contains("JSON"),
        "{err}"
    );
    let report = std::fs::read_to_string(results.join("REPORT.md")).unwrap();
    assert!(
        report.contains("| [seq2one](#seq2one) | 1/1 pass")
            && report.contains("| [seq2seq-power](#seq2seq-power) | **unreadable**")
            && report.contains("seeds/42/metrics.json"),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_closed_pipe_ends_quietly_a_full_disk_is_an_error_and_training_carries_on() {
    let bin = env!("CARGO_BIN_EXE_seqlab");
    let dir = scratch("pipe");
    let sh = |script: String| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("set -o pipefail; {script}"))
            .env_remove("OMP_NUM_THREADS")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for cmd in ["list", "data ab-order --n 2000"] {
        let (code, stdout, stderr) = sh(format!("'{bin}' {cmd} | head -1"));
        assert_eq!(code, Some(0), "{cmd}: {stderr}");
        assert_eq!(stdout.lines().count(), 1);
        assert!(!stderr.contains("panicked"), "{cmd}: {stderr}");
    }
    let (code, _, stderr) = sh(format!("'{bin}' list > /dev/full"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output") && !stderr.contains("panicked"),
        "{stderr}"
    );
    // The report's file is written before anything is printed: a reader
    // that has gone already does not cost the file.
    let seed = dir.join("continuation/seeds/7");
    std::fs::create_dir_all(&seed).unwrap();
    std::fs::write(
        seed.join("metrics.json"),
        r#"{"experiment": "continuation", "profile": "quick", "seed": 7, "targets": []}"#,
    )
    .unwrap();
    let (code, _, stderr) = sh(format!(
        "'{bin}' report --results-dir '{}' | {{ exec 0<&-; sleep 1; }}",
        dir.display()
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(dir.join("REPORT.md").is_file(), "{stderr}");
    std::fs::remove_dir_all(dir.join("continuation")).unwrap();
    // A plan that could not be written is an error, not an empty success.
    let (code, _, stderr) = sh(format!(
        "'{bin}' reproduce-all --plan --only seq2one --quick --results-dir '{}' > /dev/full",
        dir.display()
    ));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cannot write the plan"), "{stderr}");
    // A training run whose output is cut keeps going and writes its results.
    let (code, _, stderr) = sh(format!(
        "'{bin}' run continuation --quick --epochs 2 --results-dir '{}' | head -1",
        dir.display()
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(dir.join("continuation/metrics.json").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_run_into_a_folder_in_use_fails_naming_the_first_and_the_first_finishes_whole() {
    let dir = scratch("lock");
    let args = [
        "run",
        "seq2seq-power",
        "--quick",
        "--quiet",
        "--results-dir",
        dir.to_str().unwrap(),
    ];
    // An earlier multi-seed result there, which the first run replaces whole.
    let old_seed = dir.join("seq2seq-power/seeds/7");
    std::fs::create_dir_all(&old_seed).unwrap();
    std::fs::write(
        old_seed.join("metrics.json"),
        r#"{"experiment": "seq2seq-power", "profile": "quick", "seed": 7, "targets": []}"#,
    )
    .unwrap();
    let mut first = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first run holds the folder (its lock file names it).
    let lock = dir.join(".seq2seq-power.lock");
    let t0 = std::time::Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|s| s.contains("seqlab")) {
        assert!(
            t0.elapsed().as_secs() < 60,
            "the first run never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The report does not summarise the seeds of a folder being replaced.
    let (ok, _, err) = seqlab(&["report", "--results-dir", dir.to_str().unwrap()]);
    assert!(ok && err.contains("skipped seq2seq-power"), "{err}");
    let (ok, _, err) = seqlab(&args);
    assert!(!ok, "a second run into the same folder succeeded");
    assert!(
        err.contains("seq2seq-power is being written by another run")
            && err.contains(&format!("process {}", first.id())),
        "{err}"
    );
    assert!(first.wait().unwrap().success());
    let out = dir.join("seq2seq-power");
    assert!(seqlab_experiments::common::verify_manifest(&out).is_empty());
    // A file from elsewhere is flagged by the report.
    std::fs::write(out.join("loss.png"), b"not this run's").unwrap();
    let (ok, _, err) = seqlab(&["report", "--results-dir", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    let report = std::fs::read_to_string(dir.join("REPORT.md")).unwrap();
    assert!(
        report.contains("**files disagree**") && report.contains("loss.png differs"),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_non_utf8_path_is_used_as_given_or_refused_clearly_never_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("non-utf8");
    std::fs::create_dir_all(&dir).unwrap();
    let odd = dir.join(std::ffi::OsStr::from_bytes(b"r\xff"));
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_seqlab"))
            .args(args)
            .env_remove("OMP_NUM_THREADS")
            .output()
            .unwrap()
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    // One seed: the path is used as it is.
    let out = run(&[
        os("run"),
        os("seq2one"),
        os("--quick"),
        os("--quiet"),
        os("--epochs"),
        os("1"),
        os("--results-dir"),
        odd.as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(odd.join("seq2one/metrics.json").is_file());
    // Several seeds (paths become text for each process): refused, exit 1, no panic.
    let out = run(&[
        os("run"),
        os("seq2one"),
        os("--quick"),
        os("--seeds"),
        os("2"),
        os("--results-dir"),
        odd.as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--results-dir") && err.contains("not valid UTF-8"),
        "{err}"
    );
    // A data directory that does not exist: the loader's message, no panic.
    let out = run(&[
        os("data"),
        os("imdb"),
        os("--data-dir"),
        odd.join("data").as_os_str(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An error while stderr is full is lost, not a panic: the exit status stays 1.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(["predict", "seq2one", "--text", "good"])
        .stderr(full)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_says_what_is_wrong_with_its_folder() {
    let dir = scratch("report-folder");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("results.txt");
    std::fs::write(&file, b"").unwrap();
    let (ok, _, err) = seqlab(&["report", "--results-dir", file.to_str().unwrap()]);
    assert!(!ok && err.contains("is a file, not a folder"), "{err}");
    let (ok, _, err) = seqlab(&[
        "report",
        "--results-dir",
        dir.join("none").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("does not exist"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_invalid_omp_num_threads_is_an_error_naming_it_not_a_silent_default() {
    for bad in ["0", "abc", "-1", "1.5"] {
        let (ok, _, err) = seqlab_env(&["list", "--names"], &[("OMP_NUM_THREADS", bad)]);
        assert!(
            !ok && err.contains(&format!("OMP_NUM_THREADS=\"{bad}\" is not understood")),
            "{bad}: {err}"
        );
    }
    let (ok, out, err) = seqlab_env(&["list", "--names"], &[("OMP_NUM_THREADS", "1")]);
    assert!(ok && out.contains("seq2one"), "{err}");
}

/// Writes `manifest.json` in `dir` with the hash of every file there, as a run does.
fn write_manifest(dir: &Path) {
    let mut files = serde_json::Map::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name != "manifest.json" && path.is_file() {
            let hash = seqlab_experiments::common::sha256_hex(&std::fs::read(&path).unwrap());
            files.insert(name, hash.into());
        }
    }
    let manifest = serde_json::json!({"run_id": "test", "files": files});
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
}

/// A small saved LSTM (or SimpleRNN) review model with its vocabulary,
/// `model.json` and manifest in `dir`; `nan` puts a NaN in its weights.
fn tiny_model(dir: &Path, kind: seqlab_models::recurrent::RecurrentKind, nan: bool) {
    use seqlab_models::recurrent::{RecurrentInit, RecurrentKind};
    use seqlab_models::sentiment::{sentiment_classifier, SentimentConfig};
    std::fs::create_dir_all(dir).unwrap();
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let cfg = SentimentConfig {
        vocab_size: 20,
        embedding_dim: 4,
        kind,
        hidden_size: 3,
        embedding_dropout: 0.3,
        head_dropout: 0.2,
        init: RecurrentInit::Keras,
    };
    sentiment_classifier(vs.root() / "imdb", &cfg).unwrap();
    if nan {
        let mut vars: Vec<_> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let _ = tch::no_grad(|| vars[0].1.fill_(f64::NAN));
    }
    seqlab_train::checkpoint::save_weights(&vs, dir.join("model.safetensors")).unwrap();
    // Every word once: equal counts, so only the file's order ranks them.
    let words = "a wonderful moving film the plot was dull and boring acting";
    let vocab = seqlab_data::text::Vocabulary::build([seqlab_data::text::tokenize(words)]);
    vocab.save(&dir.join("vocabulary.tsv")).unwrap();
    let (experiment, cell) = match kind {
        RecurrentKind::Lstm => ("imdb-lstm", "LSTM"),
        _ => ("imdb-rnn", "SimpleRNN"),
    };
    let model = serde_json::json!({
        "experiment": experiment, "cell": cell, "vocab_size": 20, "embedding_dim": 4,
        "hidden_size": 3, "embedding_dropout": 0.3, "head_dropout": 0.2, "num_words": 20,
        "skip_top": 0, "start_char": 1, "oov_char": 2, "index_from": 3, "maxlen": 16,
        "threshold": 0.5, "weights": "model.safetensors", "vocabulary": "vocabulary.tsv",
        "protocol": "book"
    });
    std::fs::write(dir.join("model.json"), model.to_string()).unwrap();
    write_manifest(dir);
}

#[test]
fn predict_refuses_files_that_are_not_the_models() {
    use seqlab_experiments::imdb::{PredictOptions, Predictor};
    use seqlab_models::recurrent::RecurrentKind;
    let _serial = torch_serial();
    let results = scratch("predict-files");
    let dir = results.join("imdb-lstm");
    let opts = PredictOptions {
        experiment: "imdb-lstm".into(),
        results_dir: results.clone(),
        threshold: None,
        device: tch::Device::Cpu,
    };
    let refused = || match Predictor::load(&opts) {
        Ok(p) => format!("accepted: {:?}", p.predict(&["A wonderful, moving film."])),
        Err(e) => e.to_string(),
    };
    tiny_model(&dir, RecurrentKind::Lstm, false);
    let review = "A wonderful, moving film.";
    let p = Predictor::load(&opts).unwrap().predict(&[review]).unwrap();
    assert!((0.0..=1.0).contains(&p[0].probability));
    // Two lines of equal count swapped: the words' ids change, the model is not this one.
    let vocab = dir.join("vocabulary.tsv");
    let original = std::fs::read_to_string(&vocab).unwrap();
    let mut lines: Vec<&str> = original.lines().collect();
    lines.swap(0, 1);
    let mut damaged = vec![lines.join("\n") + "\n", String::new()];
    damaged.push(original[..original.len() / 2].to_string());
    for text in damaged {
        std::fs::write(&vocab, &text).unwrap();
        let err = refused();
        assert!(
            err.contains("vocabulary.tsv") && err.contains("differs from the file of the run"),
            "{text:?}: {err}"
        );
    }
    std::fs::write(&vocab, &original).unwrap();
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    let err = refused();
    assert!(
        err.contains("manifest.json") && err.contains("belong together"),
        "{err}"
    );
    // NaN weights, even listed in the manifest: refused, naming the file and variable.
    tiny_model(&dir, RecurrentKind::Lstm, true);
    let err = refused();
    assert!(
        err.contains("model.safetensors") && err.contains("NaN"),
        "{err}"
    );
    // A SimpleRNN folder copied as imdb-lstm, whole (manifest and all).
    std::fs::remove_dir_all(&dir).unwrap();
    tiny_model(&dir, RecurrentKind::RnnTanh, false);
    let err = refused();
    assert!(
        err.contains("model.json") && err.contains("the model of imdb-rnn, not of imdb-lstm"),
        "{err}"
    );
    std::fs::remove_dir_all(&results).unwrap();
}

#[test]
fn predict_fuzz_seeds_score_or_fail_with_a_message_naming_the_model() {
    let _serial = torch_serial();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/predict");
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    seeds.sort();
    let (mut scored, mut refused) = (0, 0);
    for path in seeds {
        let bytes = std::fs::read(&path).unwrap();
        let reject = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("reject-"));
        // check() panics on a broken rule (a panic, a backtrace, an error
        // that names no file, a probability outside [0, 1]).
        match fuzz_predict::check(&bytes) {
            Ok(p) => {
                assert!(!reject, "{} was scored {p}", path.display());
                scored += 1;
            }
            Err(e) => {
                assert!(reject, "seed {}: {e}", path.display());
                refused += 1;
            }
        }
        // Damaged copies never panic either.
        for at in [bytes.len() / 4, bytes.len() / 2] {
            let mut broken = bytes.clone();
            if let Some(b) = broken.get_mut(at) {
                *b ^= 0x21;
            }
            let _ = fuzz_predict::check(&broken);
        }
    }
    assert!(
        scored >= 2 && refused >= 4,
        "{scored} scored, {refused} refused"
    );
    let _ = std::fs::remove_dir_all(fuzz_predict::fixture());
}
