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
    cfg.early_stopping = Some(EarlyStopping::new("val_loss", 0.0, 100).unwrap());
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
    cfg.reduce_lr = Some(ReduceLrOnPlateau::new("val_loss", 0.5, 1).unwrap());
    cfg.early_stopping = Some(EarlyStopping::new("val_loss", 1e-4, 3).unwrap());
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
    cfg.early_stopping = Some(
        EarlyStopping::new("val_auc", 0.0, 1)
            .unwrap()
            .with_mode(Mode::Max),
    );
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

/// A stacked LSTM classifier and one batch of the A/B task, built from `seed`.
fn lstm_and_batch(seed: u64) -> (nn::VarStore, impl ModuleT, TensorData) {
    seed_all(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = seq_classifier(
        vs.root(),
        &SeqClassifierConfig::stacked(5, RecurrentKind::Lstm, &[16, 8], 4),
    )
    .unwrap();
    let (train, _) = data(64, 12, seed);
    (vs, net, train)
}

#[test]
fn the_flat_optimiser_steps_like_libtorchs_adam_per_variable() {
    let _g = torch_serial();
    let (vs_ref, net_ref, batch) = lstm_and_batch(11);
    let (vs, net, _) = lstm_and_batch(11);
    // tch's nn::Adam: libtorch's C++ Adam with one parameter per variable.
    let mut reference = nn::OptimizerConfig::build(
        nn::Adam {
            beta1: 0.9,
            beta2: 0.999,
            wd: 0.0,
            eps: 1e-8,
            amsgrad: false,
        },
        &vs_ref,
        1e-2,
    )
    .unwrap();
    let mut flat = OptimizerConfig::adam(1e-2).build(&vs).unwrap();
    assert!(flat.is_flat());
    for step in 0..30 {
        reference.zero_grad();
        Loss::CrossEntropy
            .compute(&net_ref.forward_t(&batch.x, true), &batch.y)
            .backward();
        reference.clip_grad_norm(0.5);
        reference.step();
        flat.zero_grad().unwrap();
        Loss::CrossEntropy
            .compute(&net.forward_t(&batch.x, true), &batch.y)
            .backward();
        flat.clip_grad_norm(0.5).unwrap();
        flat.step().unwrap();
        assert!(flat.is_flat(), "step {step}: fell back to per-variable");
        assert!(
            flat.uses_adam_kernel(),
            "step {step}: libtorch's Adam stepped"
        );
    }
    let ours = vs.variables();
    let theirs = vs_ref.variables();
    assert_eq!(ours.len(), 10);
    for (name, r) in &theirs {
        let o = &ours[name];
        assert_eq!(o.size(), r.size(), "{name}");
        let moved = (r - Tensor::zeros_like(r)).abs().max().double_value(&[]);
        let diff = (o - r).abs().max().double_value(&[]);
        // Same arithmetic up to last-bit rounding of fused operations.
        assert!(
            diff < 1e-5,
            "{name}: differs by {diff} (values up to {moved})"
        );
    }
    // The variables are views of one buffer, yet save and load as before.
    let dir = std::env::temp_dir().join(format!("seqlab-flat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("w.safetensors");
    save_weights(&vs, &file).unwrap();
    let (mut fresh, _, _) = lstm_and_batch(12);
    load_weights(&mut fresh, &file).unwrap();
    for (name, t) in fresh.variables() {
        assert!(t.equal(&ours[&name]), "{name} did not round-trip");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_first_adam_step_moves_each_weight_by_the_learning_rate_against_its_gradient() {
    let _g = torch_serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let w = vs
        .root()
        .var_copy("w", &Tensor::from_slice(&[1.0f32, 2.0, -3.0]));
    let b = vs.root().var_copy("b", &Tensor::from_slice(&[0.5f32]));
    let mut opt = OptimizerConfig::adam(0.1).build(&vs).unwrap();
    // d/dw = [2, -1, 4], d/db = -3: Adam's first step is lr * g / (|g| + eps).
    let c = Tensor::from_slice(&[2.0f32, -1.0, 4.0]);
    let loss = (&w * &c).sum(tch::Kind::Float) - &b * 3.0;
    opt.zero_grad().unwrap();
    loss.sum(tch::Kind::Float).backward();
    opt.step().unwrap();
    let got: Vec<f32> = Vec::try_from(&w).unwrap();
    for (g, want) in got.iter().zip([0.9f32, 2.1, -3.1]) {
        assert!((g - want).abs() < 1e-6, "{got:?}");
    }
    assert!((b.double_value(&[0]) - 0.6).abs() < 1e-6);
    // A second step with the gradient now in the buffer: m = 0.19 g, v = 0.001999 g^2,
    // bias-corrected to g and g^2 again, so the same move.
    opt.zero_grad().unwrap();
    ((&w * &c).sum(tch::Kind::Float) - &b * 3.0).backward();
    opt.step().unwrap();
    let got: Vec<f32> = Vec::try_from(&w).unwrap();
    for (g, want) in got.iter().zip([0.8f32, 2.2, -3.2]) {
        assert!((g - want).abs() < 1e-5, "{got:?}");
    }
}

#[test]
fn a_variable_without_a_gradient_is_left_alone() {
    let _g = torch_serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let used = vs
        .root()
        .var_copy("used", &Tensor::from_slice(&[1.0f32, 1.0]));
    let unused = vs.root().var_copy("unused", &Tensor::from_slice(&[5.0f32]));
    let mut opt = OptimizerConfig::adam(0.1).build(&vs).unwrap();
    for _ in 0..3 {
        opt.zero_grad().unwrap();
        used.sum(tch::Kind::Float).backward();
        opt.step().unwrap();
    }
    assert!(
        !opt.is_flat(),
        "an unused variable must switch to per-variable steps"
    );
    assert_eq!(unused.double_value(&[0]), 5.0);
    assert!((used.double_value(&[0]) - 0.7).abs() < 1e-5);
}

#[test]
fn an_optimiser_built_inside_no_grad_still_steps() {
    let _g = torch_serial();
    let vs = nn::VarStore::new(Device::Cpu);
    let w = vs
        .root()
        .var_copy("w", &Tensor::from_slice(&[1.0f32, -1.0]));
    let mut opt = tch::no_grad(|| OptimizerConfig::sgd(0.5).build(&vs)).unwrap();
    assert!(opt.is_flat());
    opt.zero_grad().unwrap();
    (&w * &w).sum(tch::Kind::Float).backward();
    opt.step().unwrap();
    // SGD: w - 0.5 * 2w = 0.
    assert_eq!(Vec::<f32>::try_from(&w).unwrap(), vec![0.0, 0.0]);
}

/// Linear, Keras batch norm, linear: a model whose evaluation depends on the
/// batch norm's moving statistics.
#[derive(Debug)]
struct Normed {
    a: nn::Linear,
    bn: seqlab_models::keras::BatchNorm,
    b: nn::Linear,
}

impl ModuleT for Normed {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let h = self.a.forward(&xs.flatten(1, -1));
        self.b.forward(&self.bn.forward_t(&h, train).relu())
    }
}

#[test]
fn a_last_batch_of_one_sample_under_batch_norm_keeps_the_validation_loss_finite() {
    let _serial = torch_serial();
    seed_all(6);
    // 33 samples, batches of 32: the last batch has one sample.
    let (train, test) = data(33, 4, 6);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = Normed {
        a: nn::linear(vs.root() / "a", 20, 8, Default::default()),
        bn: seqlab_models::keras::batch_norm(vs.root() / "bn", 8).unwrap(),
        b: nn::linear(vs.root() / "b", 8, 4, Default::default()),
    };
    let report = fit(&mut vs, &net, &train, Some(&test), config(3)).unwrap();
    let val = report.history.column("val_loss").unwrap();
    assert!(val.iter().all(|v| v.is_finite()), "{val:?}");
}

#[test]
fn a_non_finite_validation_loss_is_an_error_naming_the_epoch_and_what_to_change() {
    let _serial = torch_serial();
    seed_all(7);
    let (train, test) = data(64, 4, 7);
    let bad = TensorData {
        x: test.x.copy().fill_(f64::NAN),
        y: test.y.copy(),
    };
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = nn::linear(vs.root() / "lin", 20, 4, Default::default());
    let flat = nn::func(move |xs| net.forward(&xs.flatten(1, -1)));
    let mut cfg = config(3);
    cfg.label = "demo".into();
    let err = fit(&mut vs, &flat, &train, Some(&bad), cfg).unwrap_err();
    assert!(
        matches!(err, TrainError::NonFiniteValidation { epoch: 1, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("demo: the validation loss is NaN after epoch 1")
            && text.contains("batch size"),
        "{text}"
    );
}

/// A binary task: is the sum of a random sequence's values positive?
fn binary(n: i64, steps: i64, seed: i64) -> TensorData {
    tch::manual_seed(seed);
    let x = Tensor::randn([n, steps, 1], tch::kind::FLOAT_CPU);
    let y = x
        .sum_dim_intlist(&[1i64, 2][..], false, tch::Kind::Float)
        .gt(0.0)
        .to_kind(tch::Kind::Int64);
    TensorData { x, y }
}

fn binary_net(vs: &nn::VarStore) -> seqlab_models::classifier::SeqClassifier {
    seq_classifier(
        vs.root() / "net",
        &SeqClassifierConfig::stacked(1, RecurrentKind::Gru, &[8], 2),
    )
    .unwrap()
}

#[test]
fn wrong_input_shapes_are_errors_naming_both_shapes_without_a_backtrace() {
    let _serial = torch_serial();
    let data = binary(16, 5, 1);
    let flat = TensorData {
        x: data.x.reshape([16, 5]),
        y: data.y.shallow_clone(),
    };
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = binary_net(&vs);
    let err = fit(&mut vs, &net, &flat, None, config(1)).unwrap_err();
    assert!(matches!(err, TrainError::Forward { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("[batch, steps, 1]")
            && text.contains("[16, 5]")
            && text.contains("epoch 1, batch 1"),
        "{text}"
    );
    assert!(
        !text.contains("frame #") && text.lines().count() == 1,
        "{text}"
    );
    let err = evaluate(&net, &flat, Loss::CrossEntropy, &[], 8)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[batch, steps, 1]") && err.contains("evaluate"),
        "{err}"
    );
    let err = predict(&net, &flat.x, 8).unwrap_err().to_string();
    assert!(
        err.contains("[batch, steps, 1]") && err.contains("predict"),
        "{err}"
    );
    // The model's own check, as a Result.
    use seqlab_models::Model;
    let err = net.try_forward_t(&flat.x, false).unwrap_err();
    assert!(
        matches!(err, seqlab_models::ModelError::Shape { .. }),
        "{err}"
    );
    // Inputs and targets of different lengths are refused before training.
    let short = TensorData {
        x: data.x.shallow_clone(),
        y: data.y.narrow(0, 0, 10),
    };
    let err = fit(&mut vs, &net, &short, None, config(1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("same number of samples"), "{err}");
    // A model of the user's own (no seqlab check) failing inside libtorch:
    // libtorch's message, without its C++ backtrace.
    let lin = nn::linear(vs.root() / "own", 3, 2, Default::default());
    let own = nn::func_t(move |x, _| x.apply(&lin));
    let err = predict(&own, &Tensor::zeros([4, 7], tch::kind::FLOAT_CPU), 2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("predict") && err.contains("[2, 7]"), "{err}");
    assert!(
        !err.contains("frame #") && !err.contains("Exception raised"),
        "{err}"
    );
}

#[test]
fn validation_split_holds_out_the_last_samples_like_keras() {
    let _serial = torch_serial();
    let data = binary(40, 4, 2);
    let run = |split: bool| {
        seed_all(9);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let net = binary_net(&vs);
        let mut cfg = config(3);
        let report = if split {
            cfg.validation_split = 0.25;
            fit(&mut vs, &net, &data, None, cfg)
        } else {
            let (train, val) = (data.narrow(0, 30), data.narrow(30, 10));
            fit(&mut vs, &net, &train, Some(&val), cfg)
        };
        report.unwrap().history.to_csv()
    };
    let by_split = run(true);
    assert!(by_split.contains("val_loss"), "{by_split}");
    assert_eq!(by_split, run(false));
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = binary_net(&vs);
    let mut cfg = config(1);
    cfg.validation_split = 0.25;
    let err = fit(&mut vs, &net, &data, Some(&data), cfg)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not both"), "{err}");
    let mut cfg = config(1);
    cfg.validation_split = 1.0;
    assert!(fit(&mut vs, &net, &data, None, cfg).is_err());
}

#[test]
fn model_checkpoint_csv_logger_val_auc_and_own_callbacks() {
    use seqlab_train::callbacks::{Callback, Control, CsvLogger, EpochEnd, ModelCheckpoint};
    let _serial = torch_serial();
    seed_all(3);
    let (train, val) = (binary(300, 6, 3), binary(100, 6, 4));
    let dir = std::env::temp_dir().join(format!("seqlab-train-callbacks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = binary_net(&vs);
    let mut cfg = config(6);
    cfg.metrics = vec![Metric::Accuracy, Metric::Auc];
    cfg.optimizer = OptimizerConfig::adam(1e-2);
    // The default mode of val_auc is Max (auto).
    cfg.early_stopping = Some(EarlyStopping::new("val_auc", 0.0, 100).unwrap());
    let mut best = ModelCheckpoint::new(dir.join("best.safetensors"), "val_auc").unwrap();
    let mut log = CsvLogger::new(dir.join("history.csv"));
    struct StopAt(usize, usize);
    impl Callback for StopAt {
        fn on_epoch_end(&mut self, end: &EpochEnd<'_>) -> Result<Control, TrainError> {
            self.1 += 1;
            Ok(if end.epoch == self.0 {
                Control::Stop
            } else {
                Control::Continue
            })
        }
    }
    let mut stop = StopAt(4, 0);
    let report = seqlab_train::fit::fit_with_callbacks(
        &mut vs,
        &net,
        &train,
        Some(&val),
        cfg,
        &mut [&mut best, &mut log, &mut stop],
    )
    .unwrap();
    assert_eq!((report.stopped_epoch, stop.1), (Some(4), 4));
    let aucs = report.history.column("val_auc").unwrap();
    assert!(aucs.iter().all(|a| (0.0..=1.0).contains(a)), "{aucs:?}");
    assert!(aucs.iter().cloned().fold(0.0, f64::max) > 0.8, "{aucs:?}");
    // The CSV log is the history.
    let logged = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    assert_eq!(logged, report.history.to_csv());
    // The checkpoint holds the best val_auc epoch: reloaded, it scores that AUC.
    let top = aucs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(best.best(), top);
    let mut vs2 = nn::VarStore::new(Device::Cpu);
    let net2 = binary_net(&vs2);
    load_weights(&mut vs2, best.path()).unwrap();
    let e = evaluate(&net2, &val, Loss::CrossEntropy, &[Metric::Auc], 32).unwrap();
    assert!((e.get("auc").unwrap() - top).abs() < 1e-9, "{e:?} vs {top}");
    // A callback monitoring a column the history lacks fails before training.
    let mut bad = ModelCheckpoint::new(dir.join("x.safetensors"), "val_f1").unwrap();
    let err = seqlab_train::fit::fit_with_callbacks(
        &mut vs,
        &net,
        &train,
        Some(&val),
        config(1),
        &mut [&mut bad],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("val_f1"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn probabilities_come_back_as_plain_vectors() {
    use seqlab_train::fit::{predict_classes, predict_positive, predict_proba, Outputs};
    let _serial = torch_serial();
    seed_all(5);
    let data = binary(10, 4, 5);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = binary_net(&vs);
    let rows = predict_proba(&net, &data.x, 3, Outputs::ClassLogits).unwrap();
    assert_eq!(rows.len(), 10);
    assert!(rows
        .iter()
        .all(|r| r.len() == 2 && (r[0] + r[1] - 1.0).abs() < 1e-9));
    let logits = predict(&net, &data.x, 3).unwrap();
    let want = Vec::<f64>::try_from(logits.softmax(-1, tch::Kind::Double).select(1, 1)).unwrap();
    let p = predict_positive(&net, &data.x, 3, Outputs::ClassLogits).unwrap();
    for (a, b) in p.iter().zip(&want) {
        assert!((a - b).abs() < 1e-9);
    }
    let classes = predict_classes(&net, &data.x, 3, Outputs::ClassLogits).unwrap();
    assert_eq!(
        classes,
        p.iter().map(|&p| i64::from(p > 0.5)).collect::<Vec<_>>()
    );
    // The labels of the data go into the metrics as they are (i64).
    let labels = Vec::<i64>::try_from(&data.y).unwrap();
    assert!(seqlab_metrics::accuracy(&classes, &labels).is_ok());
    // One logit per sample: sigmoid.
    let one = nn::func_t(|x, _| x.sum_dim_intlist(&[1i64, 2][..], false, tch::Kind::Float));
    let p = predict_positive(&one, &data.x, 4, Outputs::BinaryLogit).unwrap();
    let s = Vec::<f64>::try_from(
        data.x
            .sum_dim_intlist(&[1i64, 2][..], false, tch::Kind::Double)
            .sigmoid(),
    )
    .unwrap();
    assert!(p.iter().zip(&s).all(|(a, b)| (a - b).abs() < 1e-6));
    assert!(predict_positive(&net, &data.x, 3, Outputs::BinaryLogit).is_err());
}

#[test]
fn checkpoints_with_their_config_rebuild_the_model() {
    use seqlab_train::checkpoint::{config_path, load_checkpoint, save_checkpoint};
    let _serial = torch_serial();
    seed_all(6);
    let dir = std::env::temp_dir().join(format!("seqlab-train-config-ckpt-{}", std::process::id()));
    let path = dir.join("model.safetensors");
    let cfg = SeqClassifierConfig::stacked(1, RecurrentKind::Gru, &[8], 2);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = binary_net(&vs);
    save_checkpoint(&vs, &cfg, &path).unwrap();
    let (_vs2, net2, cfg2) = load_checkpoint::<SeqClassifierConfig>(&path, Device::Cpu).unwrap();
    assert_eq!(cfg2, cfg);
    let x = binary(5, 4, 6).x;
    assert!(predict(&net, &x, 5).unwrap().allclose(
        &predict(&net2, &x, 5).unwrap(),
        0.0,
        0.0,
        false
    ));
    // Another kind of model: the error says what the file holds.
    let err = load_checkpoint::<seqlab_models::feedforward::FeedForwardConfig>(&path, Device::Cpu)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("model.json") && err.contains("SeqClassifier"),
        "{err}"
    );
    // A configuration that is not the one the store holds is refused at save time.
    let other = SeqClassifierConfig::stacked(1, RecurrentKind::Gru, &[9], 2);
    assert!(save_checkpoint(&vs, &other, dir.join("other.safetensors")).is_err());
    // A hand-edited size: the weights do not fit, naming the variable and the shapes.
    let text = std::fs::read_to_string(config_path(&path)).unwrap();
    std::fs::write(config_path(&path), text.replacen("8", "12", 1)).unwrap();
    let err = load_checkpoint::<SeqClassifierConfig>(&path, Device::Cpu)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("shape") && !err.contains("frame #"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
