//! The optional per-step diagnostics of the fit loop (`FitConfig::record_steps`).

use seqlab_data::ab_order;
use seqlab_models::classifier::{seq_classifier, SeqClassifierConfig};
use seqlab_models::recurrent::RecurrentKind;
use seqlab_train::diagnostics::StepRecord;
use seqlab_train::fit::{fit, FitConfig, FitReport};
use seqlab_train::objective::{Loss, Metric};
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::progress::Verbosity;
use seqlab_train::seed_all;
use seqlab_train::tensors::to_tensors;
use tch::nn;
use tch::Device;

/// libtorch's random generator is global to the process: tests that seed it
/// and build models must not interleave.
fn torch_serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Three epochs of an LSTM(8) on 96 AB-order sequences in batches of 32.
fn train(optimizer: OptimizerConfig, clip: Option<f64>, record_steps: bool) -> FitReport {
    seed_all(7);
    let (tr, te) = ab_order::generate_split(96, 64, 8, 7).expect("data");
    let train = to_tensors(&tr, Device::Cpu).expect("tensors");
    let test = to_tensors(&te, Device::Cpu).expect("tensors");
    let mut vs = nn::VarStore::new(Device::Cpu);
    let cfg = SeqClassifierConfig::stacked(5, RecurrentKind::Lstm, &[8], 4);
    let net = seq_classifier(vs.root(), &cfg).expect("model");
    let mut c = FitConfig::new(3, 32, optimizer, Loss::CrossEntropy);
    c.metrics = vec![Metric::Accuracy];
    c.verbosity = Verbosity::Silent;
    c.clip_grad_norm = clip;
    c.record_steps = record_steps;
    fit(&mut vs, &net, &train, Some(&test), c).expect("fit")
}

#[test]
fn recording_steps_changes_nothing_and_measures_every_step() {
    let _serial = torch_serial();
    let plain = train(OptimizerConfig::rmsprop(1e-3), Some(0.05), false);
    let probed = train(OptimizerConfig::rmsprop(1e-3), Some(0.05), true);
    assert!(plain.steps.is_empty());
    assert_eq!(plain.history.to_csv(), probed.history.to_csv());
    let at: Vec<(usize, usize)> = probed.steps.iter().map(|s| (s.epoch, s.batch)).collect();
    assert_eq!(
        at,
        [
            (1, 1),
            (1, 2),
            (1, 3),
            (2, 1),
            (2, 2),
            (2, 3),
            (3, 1),
            (3, 2),
            (3, 3)
        ]
    );
    // The norm is the one before clipping: above the clip of 0.05.
    assert!(
        probed.steps.iter().all(|s| s.grad_norm > 0.05),
        "{:?}",
        probed.steps
    );
}

#[test]
fn a_first_rmsprop_step_divides_by_a_tenth_of_the_gradient() {
    let _serial = torch_serial();
    // v = (1 - 0.99) g^2 after one step, so sqrt(v) = |g| / 10 and a value
    // with a gradient well above eps moves by 10 lr, whatever the clip.
    let first = train(OptimizerConfig::rmsprop(1e-3), Some(0.05), true).steps[0];
    assert!((first.update_max - 1e-2).abs() < 1e-5, "{first:?}");
    assert!(first.rms_min >= 0.0 && first.rms_median > 0.0, "{first:?}");
}

#[test]
fn an_sgd_step_is_the_learning_rate_times_the_gradient_and_keeps_no_second_moment() {
    let _serial = torch_serial();
    let steps = train(OptimizerConfig::sgd(0.1), None, true).steps;
    for s in &steps {
        let expected = 0.1 * s.grad_norm;
        assert!((s.update_norm - expected).abs() < 1e-4 * expected, "{s:?}");
        assert!(s.rms_median.is_nan() && s.rms_min.is_nan());
    }
}

#[test]
fn step_records_round_trip_through_their_csv() {
    let _serial = torch_serial();
    let steps = train(OptimizerConfig::rmsprop(1e-3), Some(1.0), true).steps;
    let csv = StepRecord::to_csv(&steps);
    let back = StepRecord::from_csv(&csv).expect("parse");
    assert_eq!(StepRecord::to_csv(&back), csv);
    assert_eq!(back.len(), steps.len());
    assert!(StepRecord::from_csv("epoch,loss\n1,2\n").is_err());
    let truncated = csv.lines().take(2).collect::<Vec<_>>().join("\n") + "\n1,2,3\n";
    assert!(StepRecord::from_csv(&truncated).is_err());
}
