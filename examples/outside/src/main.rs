//! Is a noisy sine wave rising at its last step? A project outside seqlab's
//! workspace that uses every seqlab crate: its own data set (seqlab-data),
//! an LSTM classifier (seqlab-models), `fit` with early stopping, a
//! learning-rate schedule, a best-AUC checkpoint and a CSV log
//! (seqlab-train), ROC/AUC and accuracy (seqlab-metrics), two PNGs
//! (seqlab-plot), and a checkpoint that rebuilds the model from its file.
//!
//! Run: `cargo run --release -- [output folder]` (default `rising-sine-out`).
//! It exits with an error if the test AUC is not above 0.9.

use seqlab_data::rand::Rng;
use seqlab_data::{rng, Array, Dataset, Targets};
use seqlab_models::classifier::{seq_classifier, SeqClassifierConfig};
use seqlab_models::recurrent::RecurrentKind;
use seqlab_models::tch::{nn::VarStore, Device, Tensor};
use seqlab_models::Model;
use seqlab_train::callbacks::{CsvLogger, EarlyStopping, ModelCheckpoint, ReduceLrOnPlateau};
use seqlab_train::checkpoint::{load_checkpoint, save_checkpoint};
use seqlab_train::fit::{
    fit_with_callbacks, predict_classes, predict_positive, FitConfig, Outputs,
};
use seqlab_train::objective::{Loss, Metric};
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::progress::Verbosity;
use seqlab_train::tensors::to_tensors;
use std::error::Error;
use std::path::PathBuf;

const STEPS: usize = 40;

/// `n` windows of `STEPS` noisy sine values; label 1 when the clean wave
/// rises at the last step.
fn waves(n: usize, seed: u64) -> Result<Dataset, Box<dyn Error>> {
    let mut r = rng::stream(seed, rng::streams::TRAIN_DATA);
    let (mut x, mut y) = (Vec::with_capacity(n * STEPS), Vec::with_capacity(n));
    for _ in 0..n {
        let freq = r.gen_range(0.02..0.08) * std::f64::consts::TAU;
        let phase = r.gen_range(0.0..std::f64::consts::TAU);
        let amp = r.gen_range(0.5..1.5);
        for t in 0..STEPS {
            let clean = amp * (freq * t as f64 + phase).sin();
            x.push((clean + r.gen_range(-0.3..0.3)) as f32);
        }
        let slope = (freq * (STEPS - 1) as f64 + phase).cos();
        y.push(i64::from(slope > 0.0));
    }
    Ok(Dataset::new(
        Array::new(x, vec![n, STEPS, 1])?,
        Targets::Classes(y),
    )?)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        let mut source = e.source();
        while let Some(s) = source {
            eprintln!("  caused by: {s}");
            source = s.source();
        }
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "rising-sine-out".into()),
    );
    std::fs::create_dir_all(&out)?;
    seqlab_train::seed_all(7);
    let device = Device::Cpu;

    // Data: our own generator, as seqlab-data datasets, then tensors.
    let train = to_tensors(&waves(2_000, 1)?, device)?;
    let test_set = waves(500, 2)?;
    let test = to_tensors(&test_set, device)?;

    // Model: one LSTM layer of 16 units read at the last step, two classes.
    let config = SeqClassifierConfig::stacked(1, RecurrentKind::Lstm, &[16], 2);
    let mut vs = VarStore::new(device);
    let model = seq_classifier(vs.root(), &config)?;

    // A wrong input shape is an error naming both shapes, not a panic.
    let flat = Tensor::zeros([4, STEPS as i64], (seqlab_models::tch::Kind::Float, device));
    match model.try_forward_t(&flat, false) {
        Err(e) => println!("a [4, 40] input is refused: {e}"),
        Ok(_) => return Err("a [4, 40] input was accepted".into()),
    }

    // Training: the last 20% of the training windows validate (Keras'
    // validation_split); early stopping and the schedule watch val_loss,
    // the checkpoint keeps the best val_auc epoch, the CSV log every epoch.
    let mut fit = FitConfig::new(30, 64, OptimizerConfig::adam(1e-2), Loss::CrossEntropy);
    fit.metrics = vec![Metric::Accuracy, Metric::Auc];
    fit.validation_split = 0.2;
    fit.seed = 7;
    fit.verbosity = Verbosity::Epochs;
    fit.early_stopping = Some(EarlyStopping::new("val_loss", 1e-4, 4)?);
    fit.reduce_lr = Some(ReduceLrOnPlateau::new("val_loss", 0.5, 2)?);
    let mut best = ModelCheckpoint::new(out.join("best.safetensors"), "val_auc")?;
    let mut log = CsvLogger::new(out.join("history.csv"));
    let report = fit_with_callbacks(
        &mut vs,
        &model,
        &train,
        None,
        fit,
        &mut [&mut best, &mut log],
    )?;
    println!(
        "trained {} epochs; restored epoch {:?}; best val_auc {:.4} at epoch {:?}",
        report.history.len(),
        report.restored_epoch,
        best.best(),
        best.best_epoch()
    );

    // Metrics on the test windows: probabilities as plain vectors, the
    // data set's i64 labels as they are.
    let labels = test_set.class_labels()?;
    let p = predict_positive(&model, &test.x, 256, Outputs::ClassLogits)?;
    let classes = predict_classes(&model, &test.x, 256, Outputs::ClassLogits)?;
    let roc = seqlab_metrics::roc_curve(&p, labels)?;
    let auc = seqlab_metrics::auc(&roc)?;
    let accuracy = seqlab_metrics::accuracy(&classes, labels)?;
    let balanced = seqlab_metrics::balanced_accuracy_at(&p, labels, 0.5)?;
    println!("test AUC {auc:.4}, accuracy {accuracy:.4}, balanced accuracy {balanced:.4}");

    // Plots.
    let h = &report.history;
    seqlab_plot::plot_history(
        &h.epoch_numbers(),
        |column| h.column(column),
        "Rising sine: LSTM(16)",
        "validation (last 20%)",
        out.join("history.png"),
    )?;
    let curve = seqlab_plot::RocSeries {
        name: "LSTM(16)",
        fpr: &roc.fpr,
        tpr: &roc.tpr,
        auc,
    };
    seqlab_plot::plot_roc(
        "Rising sine: test ROC",
        &[curve],
        out.join("roc.png"),
        640,
        600,
    )?;

    // A checkpoint with its configuration: the model rebuilds from the files alone.
    let path = out.join("model.safetensors");
    save_checkpoint(&vs, &config, &path)?;
    let (_vs2, again, _config) = load_checkpoint::<SeqClassifierConfig>(&path, device)?;
    let p2 = predict_positive(&again, &test.x, 256, Outputs::ClassLogits)?;
    let same = p.iter().zip(&p2).all(|(a, b)| a == b);
    println!(
        "checkpoint round trip: {}",
        if same { "identical" } else { "DIFFERENT" }
    );
    if !same {
        return Err("the reloaded model predicts differently".into());
    }
    if auc <= 0.9 {
        return Err(format!("test AUC {auc:.4} is not above 0.9").into());
    }
    println!("wrote {}", out.display());
    Ok(())
}
