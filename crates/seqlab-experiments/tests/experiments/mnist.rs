//! MNIST autoencoders on tiny settings: learning, pictures, saved halves.

use crate::common::*;
use seqlab_experiments::RunOptions;

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
