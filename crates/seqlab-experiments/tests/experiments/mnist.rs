//! MNIST autoencoders on tiny settings: learning, pictures, saved halves.

use crate::common::*;
use seqlab_experiments::aggregate::aggregate;
use seqlab_experiments::mnist_ae::{self, AeConfig, AeDetails, MnistBilstmAe, MnistLstmAe};
use seqlab_experiments::runner::run;
use seqlab_experiments::{Experiment, RunOptions, RunOutcome};
use seqlab_models::autoencoder::AutoencoderConfig;
use std::path::Path;

/// The pictures every run draws (the latent scatter only for a 2-D latent space).
const PNGS: [&str; 6] = [
    "loss.png",
    "originals.png",
    "reconstructions.png",
    "latent.png",
    "generated.png",
    "class_means.png",
];

/// The quick profile on 500 test images, 10 generated.
fn tiny(model: AutoencoderConfig) -> AeConfig {
    AeConfig {
        test_images: Some(500),
        generated: 10,
        ..AeConfig::quick(model)
    }
}

fn details(out: &Path) -> AeDetails {
    serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
}

/// Every file is written and reported, and no picture is blank.
fn assert_artefacts(outcome: &RunOutcome, out: &Path) {
    for f in PNGS.iter().chain(&[
        "metrics.json",
        "train_history.csv",
        "model.txt",
        "encoder.safetensors",
        "decoder.safetensors",
    ]) {
        assert!(out.join(f).is_file(), "{f} missing");
        assert!(outcome.files.iter().any(|g| g == f), "{f} not reported");
    }
    for f in PNGS {
        let std = png_gray_std(&out.join(f));
        assert!(std > 20.0, "{f} looks blank: gray std {std}");
    }
}

/// The saved halves reload on their own and reproduce the reconstructions;
/// a decoder file is not an encoder.
fn assert_halves_round_trip(data: &Path, out: &Path, d: &AeDetails) {
    let test = seqlab_data::datadir::DataDir::at(data)
        .mnist(seqlab_data::mnist::Split::Test)
        .unwrap();
    let rows = seqlab_data::split::stratified_sample(
        &test.labels,
        500,
        42,
        seqlab_data::rng::streams::TEST_DATA,
    );
    assert_eq!(d.settings.test_images, rows.len());
    let x = seqlab_train::tensors::array_to_tensor(
        &test.images.select(&rows).unwrap(),
        tch::Device::Cpu,
    )
    .unwrap();
    let cfg = AutoencoderConfig::lstm_book();
    let cpu = tch::Device::Cpu;
    let (_evs, encoder) =
        mnist_ae::load_encoder(&cfg.encoder, &out.join("encoder.safetensors"), cpu).unwrap();
    let (_dvs, decoder) =
        mnist_ae::load_decoder(&cfg.decoder, &out.join("decoder.safetensors"), cpu).unwrap();
    let z = encoder.encode(&x);
    assert_eq!(z.size(), [rows.len() as i64, 2]);
    let mse = (&decoder.decode(&z) - &x)
        .square()
        .mean(tch::Kind::Double)
        .double_value(&[]);
    let recorded = d.run.reconstruction_mse;
    assert!((mse - recorded).abs() < 1e-6, "{mse} vs {recorded}");
    let err = mnist_ae::load_encoder(&cfg.encoder, &out.join("decoder.safetensors"), cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("decoder.safetensors") && err.contains("ae.decoder"),
        "{err}"
    );
}

/// What the comparison with the LSTM autoencoder is called.
const VS_LSTM: &str = "relative to the LSTM autoencoder";

/// The BiLSTM autoencoder's counts, no 2-D scatter, and no comparison in
/// its seed: the summary over seeds makes it, pairing the LSTM
/// autoencoder's seed of the same number.
fn assert_bilstm(dir: &Path, o: &RunOptions) {
    let bi = AeConfig {
        max_epochs: 3,
        ..tiny(AutoencoderConfig::bilstm_book())
    };
    let out = run::<MnistBilstmAe>(&bi, o).unwrap().dir;
    let d = details(&out);
    let p = d.parameters;
    assert_eq!(
        (p.keras_count, p.encoder_keras_count, p.decoder_keras_count),
        (49_408, 18_692, 30_716)
    );
    assert_eq!(p.non_trainable, Some(224));
    assert_eq!(p.keras_trainable(), Some(49_184));
    assert!(
        !out.join("latent.png").exists(),
        "no 2-D scatter for a 100-D latent space"
    );
    let seed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert!(!seed.to_string().contains(VS_LSTM), "{seed}");

    let summary = aggregate::<MnistBilstmAe>(dir, false).unwrap().unwrap();
    let t = summary.targets.iter().find(|t| t.what.contains(VS_LSTM));
    let t = t.unwrap_or_else(|| panic!("{:?}", summary.targets));
    let lstm = details(&o.out_dir(MnistLstmAe::NAME)).run.best_val_bce;
    let ratio = t.values["42"].unwrap();
    assert!((ratio - d.run.best_val_bce / lstm).abs() < 1e-12, "{ratio}");

    // Without the LSTM autoencoder's seeds, the report says so.
    std::fs::remove_dir_all(dir.join(MnistLstmAe::NAME)).unwrap();
    let summary = aggregate::<MnistBilstmAe>(dir, false).unwrap().unwrap();
    assert!(!summary.targets.iter().any(|t| t.what.contains(VS_LSTM)));
    assert!(
        summary
            .report_paragraphs
            .iter()
            .any(|p| p.contains("No comparison with the LSTM autoencoder for seed(s) 42")),
        "{:?}",
        summary.report_paragraphs
    );
}

#[test]
fn tiny_mnist_autoencoders_learn_draw_and_round_trip_through_saved_halves() {
    let Some(data) = shared_data() else {
        return;
    };
    let _serial = torch_serial();
    let dir = scratch("mnist-ae");
    // One seed of a seed set: the summary over seeds pairs the two experiments.
    let o = RunOptions {
        data_dir: Some(data.clone()),
        seed_set: Some(vec![42]),
        ..opts(&dir)
    };
    let outcome = run::<MnistLstmAe>(&tiny(AutoencoderConfig::lstm_book()), &o).unwrap();
    let out = outcome.dir.clone();
    assert_artefacts(&outcome, &out);
    let d = details(&out);
    // The loss falls, and reconstructions beat predicting the mean image.
    let r = &d.run;
    assert!(r.best_val_bce < r.first_epoch_val_bce - 0.05, "{r:?}");
    assert!(r.reconstruction_mse < r.mean_image_mse, "{r:?}");
    assert_eq!(d.parameters.keras_count, 10_950);
    // Keras' split: the two batch norms' moving statistics are not trained,
    // and the book's summary prints the trainable count.
    assert_eq!(d.parameters.non_trainable, Some(112));
    let targets = MnistLstmAe::targets(&d).unwrap_or_default();
    let trainable = targets
        .iter()
        .find(|t| t.what == "Keras-counted trainable parameters");
    let trainable = trainable.unwrap_or_else(|| panic!("{targets:?}"));
    assert_eq!(trainable.measured, 10_838.0);
    assert_eq!(trainable.published_value, Some(10_838.0));
    assert_halves_round_trip(&data, &out, &d);
    assert_bilstm(&dir, &o);
    std::fs::remove_dir_all(&dir).unwrap();
}
