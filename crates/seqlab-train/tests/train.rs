//! Integration tests of the training engine on real (tiny) training runs.

use seqlab_data::ab_order;
use seqlab_models::classifier::{seq_classifier, SeqClassifierConfig};
use seqlab_models::recurrent::RecurrentKind;
use seqlab_train::callbacks::{EarlyStopping, Mode, ReduceLrOnPlateau};
use seqlab_train::checkpoint::{load_weights, save_weights};
use seqlab_train::device::DeviceChoice;
use seqlab_train::fit::{evaluate, fit, predict, FitConfig};
use seqlab_train::objective::{Loss, Metric};
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::progress::Verbosity;
use seqlab_train::tensors::{to_tensors, TensorData};
use seqlab_train::{seed_all, TrainError};
use std::cell::Cell;
use tch::nn::{self, Module, ModuleT};
use tch::{Device, Tensor};

/// libtorch's random generator is global to the process: tests that seed it
/// and build models must not interleave, or their initial weights differ.
fn torch_serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn data(n: usize, seq_len: usize, seed: u64) -> (TensorData, TensorData) {
    let (tr, te) = ab_order::generate_split(n, n, seq_len, seed).unwrap();
    (
        to_tensors(&tr, Device::Cpu).unwrap(),
        to_tensors(&te, Device::Cpu).unwrap(),
    )
}

fn config(epochs: usize) -> FitConfig {
    let mut c = FitConfig::new(epochs, 32, OptimizerConfig::adam(3e-3), Loss::CrossEntropy);
    c.metrics = vec![Metric::Accuracy];
    c.verbosity = Verbosity::Silent;
    c.seed = 5;
    c
}

fn train_once(seed: u64) -> (String, f64) {
    seed_all(seed);
    let (train, test) = data(400, 8, seed);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = seq_classifier(
        vs.root(),
        &SeqClassifierConfig::stacked(5, RecurrentKind::Gru, &[24], 4),
    )
    .unwrap();
    let report = fit(&mut vs, &net, &train, Some(&test), config(12)).unwrap();
    (
        report.history.to_csv(),
        report.history.last("val_accuracy").unwrap(),
    )
}

#[test]
fn learns_the_ab_task_and_is_reproducible() {
    let _serial = torch_serial();
    let (csv_a, acc) = train_once(3);
    // Four balanced classes: chance is 25%.
    assert!(acc > 0.9, "held-out accuracy {acc}");
    let (csv_b, _) = train_once(3);
    assert_eq!(csv_a, csv_b, "same seed, different history");
    let (csv_c, _) = train_once(4);
    assert_ne!(csv_a, csv_c);
    assert!(csv_a.starts_with("epoch,loss,accuracy,val_loss,val_accuracy,lr\n"));
}

#[test]
fn restore_best_leaves_the_best_epochs_weights() {
    let _serial = torch_serial();
    seed_all(1);
    let (train, test) = data(200, 8, 1);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = seq_classifier(
        vs.root(),
        &SeqClassifierConfig::stacked(5, RecurrentKind::Lstm, &[16], 4),
    )
    .unwrap();
    let mut cfg = config(8);
    cfg.optimizer = OptimizerConfig::adam(3e-2); // noisy on purpose
    cfg.early_stopping = Some(EarlyStopping::new("val_loss", Mode::Min, 0.0, 100));
    let report = fit(&mut vs, &net, &train, Some(&test), cfg).unwrap();
    let val = report.history.column("val_loss").unwrap();
    let (best_i, best) =
        val.iter().enumerate().fold(
            (0, f64::INFINITY),
            |a, (i, &v)| if v < a.1 { (i, v) } else { a },
        );
    assert_eq!(report.restored_epoch, Some(best_i + 1));
    assert_eq!(report.stopped_epoch, None);
    let now = evaluate(&net, &test, Loss::CrossEntropy, &[], 32)
        .unwrap()
        .loss;
    assert!(
        (now - best).abs() < 1e-5,
        "after restore {now}, best {best}"
    );
}

#[test]
fn early_stopping_stops_and_plateau_reduces_the_learning_rate() {
    let _serial = torch_serial();
    seed_all(2);
    let (train, test) = data(100, 6, 2);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = seq_classifier(
        vs.root(),
        &SeqClassifierConfig::stacked(5, RecurrentKind::RnnTanh, &[8], 4),
    )
    .unwrap();
    let mut cfg = config(30);
    // A learning rate so small that no epoch improves the loss by 1e-4.
    cfg.optimizer = OptimizerConfig::sgd(1e-9);
    cfg.reduce_lr = Some(ReduceLrOnPlateau::new("val_loss", Mode::Min, 0.5, 1).unwrap());
    cfg.early_stopping = Some(EarlyStopping::new("val_loss", Mode::Min, 1e-4, 3));
    let report = fit(&mut vs, &net, &train, Some(&test), cfg).unwrap();
    assert_eq!(report.stopped_epoch, Some(4));
    assert_eq!(
        report.history.learning_rates(),
        vec![1e-9, 1e-9, 5e-10, 2.5e-10]
    );
}

/// A linear model that starts returning NaN after a number of forward calls.
#[derive(Debug)]
struct Faulty {
    lin: nn::Linear,
    calls: Cell<usize>,
    nan_from: usize,
}

impl ModuleT for Faulty {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        self.calls.set(self.calls.get() + 1);
        let y = self.lin.forward(&xs.flatten(1, -1));
        if self.calls.get() >= self.nan_from {
            y * f64::NAN
        } else {
            y
        }
    }
}

#[test]
fn nan_loss_is_an_error_naming_epoch_and_batch_and_keeps_good_weights() {
    let _serial = torch_serial();
    seed_all(3);
    let (train, _) = data(64, 4, 3); // 2 batches per epoch
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = Faulty {
        lin: nn::linear(vs.root() / "lin", 20, 4, Default::default()),
        calls: Cell::new(0),
        nan_from: 4,
    };
    let mut cfg = config(5);
    cfg.optimizer = OptimizerConfig::sgd(0.1);
    // Epoch 1: calls 1-2 (train); epoch 2: call 3 fine, call 4 NaN.
    let err = fit(&mut vs, &net, &train, None, cfg).unwrap_err();
    match err {
        TrainError::NonFiniteLoss {
            epoch,
            batch,
            value,
        } => {
            assert_eq!((epoch, batch), (2, 2));
            assert!(value.is_nan());
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(err_text(2, 2).contains("epoch 2, batch 2"));
    // The weights are those at the end of epoch 1: finite.
    for (name, t) in vs.variables() {
        assert!(
            bool::try_from(t.isfinite().all()).unwrap(),
            "{name} is not finite"
        );
    }
}

fn err_text(epoch: usize, batch: usize) -> String {
    TrainError::NonFiniteLoss {
        epoch,
        batch,
        value: f64::NAN,
    }
    .to_string()
}

#[test]
fn checkpoints_round_trip_and_errors_name_the_file() {
    let _serial = torch_serial();
    seed_all(4);
    let dir = std::env::temp_dir().join(format!("seqlab-train-ckpt-{}", std::process::id()));
    let path = dir.join("model.safetensors");
    let cfg = SeqClassifierConfig::stacked(5, RecurrentKind::Lstm, &[8], 4);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = seq_classifier(vs.root() / "m", &cfg).unwrap();
    save_weights(&vs, &path).unwrap();
    let x = Tensor::randn([3, 6, 5], tch::kind::FLOAT_CPU);
    let y1 = predict(&net, &x, 2).unwrap();

    let mut vs2 = nn::VarStore::new(Device::Cpu);
    let net2 = seq_classifier(vs2.root() / "m", &cfg).unwrap();
    load_weights(&mut vs2, &path).unwrap();
    let y2 = net2.forward_t(&x, false);
    assert!(y1.allclose(&y2, 1e-6, 1e-6, false));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "temporary file left behind"
    );

    let missing = dir.join("nope.safetensors");
    let err = load_weights(&mut vs2, &missing).unwrap_err().to_string();
    assert!(
        err.contains("nope.safetensors") && err.contains("train the model first"),
        "{err}"
    );
    std::fs::write(dir.join("bad.safetensors"), b"garbage").unwrap();
    let err = load_weights(&mut vs2, dir.join("bad.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.safetensors"), "{err}");
    assert!(save_weights(&vs, dir.join("model.bin")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_configuration_is_rejected_before_training() {
    let _serial = torch_serial();
    let (train, test) = data(40, 4, 5);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = seq_classifier(
        vs.root(),
        &SeqClassifierConfig::stacked(5, RecurrentKind::Gru, &[4], 4),
    )
    .unwrap();
    let mut cfg = config(2);
    cfg.early_stopping = Some(EarlyStopping::new("val_auc", Mode::Max, 0.0, 1));
    let err = fit(&mut vs, &net, &train, Some(&test), cfg)
        .unwrap_err()
        .to_string();
    assert!(err.contains("val_auc") && err.contains("val_loss"), "{err}");
    let mut cfg = config(2);
    cfg.batch_size = 0;
    assert!(fit(&mut vs, &net, &train, None, cfg).is_err());
    let mut cfg = config(0);
    cfg.epochs = 0;
    assert!(fit(&mut vs, &net, &train, None, cfg).is_err());
    let mut cfg = config(1);
    cfg.optimizer = OptimizerConfig::adam(-1.0);
    assert!(fit(&mut vs, &net, &train, None, cfg)
        .unwrap_err()
        .to_string()
        .contains("learning rate"));
}

#[test]
fn device_choice_parses_and_cuda_is_an_error_without_a_gpu() {
    assert_eq!("CPU".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
    assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
    assert!("tpu"
        .parse::<DeviceChoice>()
        .unwrap_err()
        .to_string()
        .contains("cpu, cuda or auto"));
    if !tch::Cuda::is_available() {
        let err = DeviceChoice::Cuda.resolve().unwrap_err().to_string();
        assert!(err.contains("--device cpu"), "{err}");
        assert_eq!(DeviceChoice::Auto.resolve().unwrap(), Device::Cpu);
    }
}
