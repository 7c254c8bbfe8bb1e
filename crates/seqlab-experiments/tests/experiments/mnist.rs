//! MNIST autoencoders on tiny settings: learning, pictures, saved halves.

use crate::common::*;
use seqlab_experiments::mnist_ae::{self, AeConfig, AeDetails};
use seqlab_experiments::{RunOptions, RunOutcome};
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

/// The BiLSTM autoencoder's counts, its comparison with the LSTM
/// autoencoder in the same results folder, and no 2-D scatter.
fn assert_bilstm(dir: &Path, o: &RunOptions) {
    let bi = AeConfig {
        max_epochs: 3,
        ..tiny(AutoencoderConfig::bilstm_book())
    };
    mnist_ae::run_with(&bi, o).unwrap();
    let out = dir.join("mnist-bilstm-ae");
    let p = details(&out).parameters;
    assert_eq!(
        (p.keras_count, p.encoder_keras_count, p.decoder_keras_count),
        (49_408, 18_692, 30_716)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let targets = m["targets"].as_array().unwrap();
    assert!(
        targets
            .iter()
            .any(|t| t["what"].as_str().unwrap().contains("LSTM autoencoder")),
        "{m}"
    );
    assert!(
        !out.join("latent.png").exists(),
        "no 2-D scatter for a 100-D latent space"
    );
}

#[test]
fn tiny_mnist_autoencoders_learn_draw_and_round_trip_through_saved_halves() {
    let Some(data) = shared_data() else {
        return;
    };
    let _serial = torch_serial();
    let dir = scratch("mnist-ae");
    let o = RunOptions {
        data_dir: Some(data.clone()),
        ..opts(&dir)
    };
    let outcome = mnist_ae::run_with(&tiny(AutoencoderConfig::lstm_book()), &o).unwrap();
    let out = dir.join("mnist-lstm-ae");
    assert_artefacts(&outcome, &out);
    let d = details(&out);
    // The loss falls, and reconstructions beat predicting the mean image.
    let r = &d.run;
    assert!(r.best_val_bce < r.first_epoch_val_bce - 0.05, "{r:?}");
    assert!(r.reconstruction_mse < r.mean_image_mse, "{r:?}");
    assert_eq!(d.parameters.keras_count, 10_950);
    assert_halves_round_trip(&data, &out, &d);
    assert_bilstm(&dir, &o);
    std::fs::remove_dir_all(&dir).unwrap();
}
