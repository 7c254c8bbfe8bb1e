//! IMDb sentiment: quick LSTM run end to end with predictions, tiny SimpleRNN.

use crate::common::*;
use seqlab_experiments::imdb::{self, ImdbConfig, PredictOptions, Predictor};
use seqlab_experiments::{RunOptions, RunOutcome};
use seqlab_models::recurrent::RecurrentKind;
use seqlab_train::History;
use std::path::{Path, PathBuf};

#[test]
fn quick_imdb_lstm_learns_writes_every_file_and_serves_predictions() {
    let Some(data) = shared_data() else {
        return;
    };
    let _serial = torch_serial();
    let dir = scratch("imdb");
    let (out, outcome) = run_quick_lstm(&data, &dir);
    assert_every_file_written_and_reported(&out, &outcome);
    let m = read_json(&out.join("metrics.json"));
    assert_both_protocols_learn(&m);
    assert_protocol_sizes_and_parameters(&m, &out);
    assert_history_carries_the_learning_rate(&m, &out);
    let rows = assert_predictions_give_the_reported_auc(&m, &out);
    assert_plots_are_drawn(&out);
    let popts = predict_options(&dir);
    let predictor = Predictor::load(&popts).unwrap();
    let texts = assert_saved_model_reproduces_the_run(&data, &predictor, &rows);
    assert_cli_predicts_text_and_file(&dir, &texts, &rows);
    assert_cli_refuses_without_model_or_input();
    // A review without words is an error, not a silent 0.5.
    let err = predictor
        .predict(&["good film", "?!  ..."])
        .unwrap_err()
        .to_string();
    assert!(err.contains("review 2 has no words"), "{err}");
    assert_every_model_json_field_is_checked(&out, &popts);
    // A corrupt weights file is an error naming it, not a panic.
    std::fs::write(out.join("model.safetensors"), b"not a checkpoint").unwrap();
    let err = Predictor::load(&popts).unwrap_err().to_string();
    assert!(err.contains("model.safetensors"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Trains the quick LSTM on 3,000 reviews for up to 3 epochs; its folder and outcome.
fn run_quick_lstm(data: &Path, dir: &Path) -> (PathBuf, RunOutcome) {
    let config = ImdbConfig {
        train_reviews: Some(3_000),
        test_reviews: Some(800),
        max_epochs: 3,
        ..ImdbConfig::quick(RecurrentKind::Lstm)
    };
    let o = RunOptions {
        data_dir: Some(data.to_path_buf()),
        ..opts(dir)
    };
    let outcome = seqlab_experiments::runner::run::<imdb::ImdbLstm>(&config, &o).unwrap();
    (dir.join("imdb-lstm"), outcome)
}

fn assert_every_file_written_and_reported(out: &Path, outcome: &RunOutcome) {
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
}

/// The model learns: AUC on test reviews it never saw is clearly above chance, in both protocols.
fn assert_both_protocols_learn(m: &serde_json::Value) {
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
}

fn assert_protocol_sizes_and_parameters(m: &serde_json::Value, out: &Path) {
    assert_eq!(m["protocols"]["held_out"]["train_reviews"], 2_400);
    // The paired protocol fits the held-out protocol's reviews and validates on the test set.
    assert_eq!(m["protocols"]["test_validated"]["train_reviews"], 2_400);
    assert_eq!(m["protocols"]["test_validated"]["validation_reviews"], 800);
    let diff = m["protocols"]["test_validated"]["test"]["auc"]
        .as_f64()
        .unwrap()
        - m["protocols"]["held_out"]["test"]["auc"].as_f64().unwrap();
    assert_eq!(m["protocol_effect"]["auc"].as_f64().unwrap(), diff);
    assert!(seqlab_experiments::common::verify_manifest(out).is_empty());
    assert_eq!(m["protocols"]["held_out"]["validation_reviews"], 600);
    assert_eq!(m["parameters"]["keras_count"], 652_577);
    assert_eq!(m["parameters"]["book"], 652_577);
    assert_eq!(m["parameters"]["libtorch"], 652_705);
}

/// Histories carry the learning rate; one row per epoch run.
fn assert_history_carries_the_learning_rate(m: &serde_json::Value, out: &Path) {
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
}

/// predictions.csv.gz: one row per test review; its AUC is the reported one. Its rows.
fn assert_predictions_give_the_reported_auc(m: &serde_json::Value, out: &Path) -> Vec<Vec<String>> {
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
    rows
}

fn assert_plots_are_drawn(out: &Path) {
    for (png, size) in [("loss.png", (1500, 460)), ("roc.png", (760, 700))] {
        let (w, h, ink, colours) = png_stats(&out.join(png));
        assert_eq!((w, h), size, "{png}");
        assert!(
            ink > 0.02 && colours > 20,
            "{png} looks blank: ink {ink}, colours {colours}"
        );
    }
}

fn predict_options(dir: &Path) -> PredictOptions {
    PredictOptions {
        experiment: "imdb-lstm".into(),
        results_dir: dir.to_path_buf(),
        threshold: None,
        device: tch::Device::Cpu,
    }
}

/// The texts of the test reviews with prediction ids `ids` ("test/neg/<id>_<rating>").
fn review_texts(data: &Path, ids: &[&str]) -> Vec<String> {
    let reviews = seqlab_data::datadir::DataDir::at(data).imdb().unwrap();
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
    ids.iter().map(|id| find_text(id)).collect()
}

/// The saved model, reloaded from its files, reproduces the run's probabilities.
/// The texts of the reviews it predicted (rows 0, 1 and 799).
fn assert_saved_model_reproduces_the_run(
    data: &Path,
    predictor: &Predictor,
    rows: &[Vec<String>],
) -> Vec<String> {
    let picked = [&rows[0], &rows[1], &rows[799]];
    let ids: Vec<&str> = picked.iter().map(|r| r[0].as_str()).collect();
    let texts = review_texts(data, &ids);
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
    texts
}

/// The CLI: --text and --file.
fn assert_cli_predicts_text_and_file(dir: &Path, texts: &[String], rows: &[Vec<String>]) {
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
}

/// The CLI: a clear error without a trained model, for a model that predicts nothing, and
/// for a missing review file.
fn assert_cli_refuses_without_model_or_input() {
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
}

/// Loads the model with `original` changed at `fields`; the error, or why there is none.
fn refusal(
    out: &Path,
    popts: &PredictOptions,
    original: &serde_json::Value,
    fields: &[(&str, serde_json::Value)],
) -> String {
    let mut m = original.clone();
    for (field, value) in fields {
        m[*field] = value.clone();
    }
    std::fs::write(out.join("model.json"), m.to_string()).unwrap();
    // Listed in the manifest as it now is: the checks behind the manifest's.
    write_manifest(out);
    match Predictor::load(popts) {
        Ok(_) => format!("accepted: {fields:?}"),
        Err(e) => e.to_string(),
    }
}

/// Every field of model.json is checked, naming the file and the field; model.json is
/// restored (and listed in the manifest again) afterwards.
fn assert_every_model_json_field_is_checked(out: &Path, popts: &PredictOptions) {
    let model_json = out.join("model.json");
    let original = read_json(&model_json);
    let refusal = |fields: &[(&str, serde_json::Value)]| refusal(out, popts, &original, fields);
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
    write_manifest(out);
}

#[test]
fn tiny_imdb_simple_rnn_beats_chance_on_held_out_reviews() {
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
    seqlab_experiments::runner::run::<imdb::ImdbRnn>(&config, &o).unwrap();
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
