//! Training-throughput workloads for `seqlab bench` (driven by `cargo xtask
//! bench`, which runs the PyTorch peers in `bench/peers/` beside them).
//!
//! Each workload is one of the chapter's models with its batch size and
//! optimiser, trained by seqlab's own fit loop on a fixed, seeded stream of
//! batches built once as tensors (no shuffling, no validation). Throughput
//! is samples per second over the median epoch after warm-up epochs. The
//! PyTorch peers build the same models, batches and optimisers; the shapes
//! below are the contract between the two.

use crate::ExperimentError;
use seqlab_data::sine_pairs::{self, WindowConfig};
use seqlab_models::autoencoder::{autoencoder, AutoencoderConfig};
use seqlab_models::classifier::{seq_classifier, SeqClassifierConfig};
use seqlab_models::recurrent::{RecurrentInit, RecurrentKind};
use seqlab_models::sentiment::{sentiment_classifier, SentimentConfig};
use seqlab_models::seq2seq::{encoder_decoder, EncoderDecoderConfig, TeacherForced};
use seqlab_train::fit::{fit, FitConfig};
use seqlab_train::objective::Loss;
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::progress::Verbosity;
use seqlab_train::runtime::{set_threads, AllocatorSetup, ThreadChoice, ThreadHint};
use seqlab_train::seed_all;
use seqlab_train::tensors::{to_tensors, TensorData};
use serde::Serialize;
use tch::nn::{ModuleT, Path, VarStore};
use tch::{Device, Kind, Tensor};

/// The workloads, in the order `cargo xtask bench` runs them.
pub const WORKLOADS: [&str; 9] = [
    "toy-seq2one",
    "temporal-order-hard",
    "imdb-lstm",
    "imdb-rnn",
    "mnist-bilstm-ae",
    "seq2seq-sine",
    "sweep-rnn-tanh",
    "sweep-lstm",
    "sweep-gru",
];

/// How long to measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchOptions {
    /// Untimed epochs first.
    pub warmup: usize,
    /// Timed epochs (the median is reported).
    pub epochs: usize,
    /// Divide every workload's samples per epoch by this (1 = full size; tests use more).
    pub shrink: usize,
    /// How the process set up `malloc` (recorded in the result).
    pub allocator: AllocatorSetup,
    /// Intra-op threads (`auto`: the workload's [`thread_hint`]).
    pub threads: ThreadChoice,
}

/// One workload's measurement.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// Workload name.
    pub workload: String,
    /// `seqlab`.
    pub framework: &'static str,
    /// Samples per epoch.
    pub samples: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Seconds of each timed epoch.
    pub epoch_seconds: Vec<f64>,
    /// Median epoch seconds.
    pub median_seconds: f64,
    /// `samples / median_seconds`.
    pub samples_per_second: f64,
    /// Intra-op threads libtorch used.
    pub threads: usize,
    /// Why that many: `choice` (`--threads`), `environment` (`OMP_NUM_THREADS`) or `hint` (the workload's).
    pub threads_source: &'static str,
    /// The recurrent layers' CPU kernel: `fused` or `libtorch` (`SEQLAB_RNN_KERNEL`).
    pub rnn_kernel: &'static str,
    /// The `malloc` setup: `tuned`, `system`, `user` or `unsupported` (see `seqlab_train::runtime`).
    pub allocator: &'static str,
    /// glibc `M_MMAP_THRESHOLD` of the tuned setup (so that a peer can be run with the same).
    pub malloc_mmap_threshold: usize,
    /// glibc `M_TRIM_THRESHOLD` of the tuned setup.
    pub malloc_trim_threshold: usize,
    /// `malloc` asked for transparent huge pages (glibc's `glibc.malloc.hugetlb=1`).
    pub malloc_huge_pages: bool,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Random one-hot sequences `[n, steps, features]` and labels in `0..classes`.
fn one_hot_data(n: i64, steps: i64, features: i64, classes: i64, device: Device) -> TensorData {
    let idx = Tensor::randint(features, [n, steps], (Kind::Int64, device));
    let x = idx.one_hot(features).to_kind(Kind::Float);
    let y = Tensor::randint(classes, [n], (Kind::Int64, device));
    TensorData { x, y }
}

/// The intra-op threads that suit workload `name`, as its experiment's
/// (see `seqlab_train::runtime`): the hint of the experiment it comes from
/// in the registry, so that the two never disagree.
pub fn thread_hint(name: &str) -> ThreadHint {
    experiment_of(name).map_or(ThreadHint::PerCore, |e| e.threads)
}

/// Whether huge pages suit workload `name`: as for its experiment (see
/// [`crate::experiment::Experiment::HUGE_PAGES`]).
pub fn huge_pages_hint(name: &str) -> bool {
    experiment_of(name).is_some_and(|e| e.huge_pages)
}

/// The registered experiment workload `name` comes from.
fn experiment_of(name: &str) -> Option<&'static crate::Registered> {
    let experiment = match name {
        "toy-seq2one" => crate::seq2one::NAME,
        "temporal-order-hard" => crate::temporal_order::NAME,
        "seq2seq-sine" => "seq2seq-sin-cos",
        "sweep-rnn-tanh" | "sweep-lstm" | "sweep-gru" => crate::length_sweep::NAME,
        other => other,
    };
    crate::find(experiment).ok()
}

/// A workload ready to train: its batch stream, model and training settings.
struct Workload {
    data: TensorData,
    model: Box<dyn ModuleT>,
    batch: usize,
    optimizer: OptimizerConfig,
    loss: Loss,
    clip: Option<f64>,
}

/// Two stacked RNN(relu) layers of 128 over 12 one-hot steps of 5 letters; Adam.
fn toy_seq2one(root: &Path, device: Device, shrink: i64) -> Result<Workload, ExperimentError> {
    Ok(Workload {
        data: one_hot_data(6_400 / shrink, 12, 5, 4, device),
        model: Box::new(seq_classifier(
            root / "m",
            &SeqClassifierConfig::stacked(5, RecurrentKind::RnnRelu, &[128, 128], 4),
        )?),
        batch: 32,
        optimizer: OptimizerConfig::adam(1e-3),
        loss: Loss::CrossEntropy,
        clip: None,
    })
}

/// LSTM(12) over 111 one-hot steps of 8 symbols; RMSprop, gradient norm clipped at 1.
fn temporal_order_hard(
    root: &Path,
    device: Device,
    shrink: i64,
) -> Result<Workload, ExperimentError> {
    let mut cfg = SeqClassifierConfig::stacked(8, RecurrentKind::Lstm, &[12], 4);
    cfg.init = RecurrentInit::LongMemory { forget_bias: 3.0 };
    Ok(Workload {
        data: one_hot_data(3_200 / shrink, 111, 8, 4, device),
        model: Box::new(seq_classifier(root / "m", &cfg)?),
        batch: 32,
        optimizer: OptimizerConfig::rmsprop(1e-3),
        loss: Loss::CrossEntropy,
        clip: Some(1.0),
    })
}

/// The book's IMDb LSTM or SimpleRNN on 128 token ids; Adam (Keras epsilon), BCE on logits.
fn imdb(
    root: &Path,
    kind: RecurrentKind,
    device: Device,
    shrink: i64,
) -> Result<Workload, ExperimentError> {
    let n = 5_000 / shrink;
    Ok(Workload {
        data: TensorData {
            x: Tensor::randint(10_000, [n, 128], (Kind::Int64, device)),
            y: Tensor::randint(2, [n], (Kind::Int64, device)),
        },
        model: Box::new(sentiment_classifier(
            root / "m",
            &SentimentConfig::book(kind),
        )?),
        batch: 100,
        optimizer: OptimizerConfig::keras_adam(1e-3),
        loss: Loss::BinaryCrossEntropyWithLogits,
        clip: None,
    })
}

/// The length sweep's cells at its longest length: one layer of 32 units
/// over 200 one-hot steps of the A/B-order alphabet, Keras initialisation;
/// Adam 2e-3, gradient norm clipped at 1.
fn sweep(
    root: &Path,
    kind: RecurrentKind,
    device: Device,
    shrink: i64,
) -> Result<Workload, ExperimentError> {
    let features = seqlab_data::ab_order::N_FEATURES as i64;
    let cfg = SeqClassifierConfig {
        init: RecurrentInit::Keras,
        ..SeqClassifierConfig::stacked(features, kind, &[32], 4)
    };
    Ok(Workload {
        data: one_hot_data(2_000 / shrink, 200, features, 4, device),
        model: Box::new(seq_classifier(root / "m", &cfg)?),
        batch: 32,
        optimizer: OptimizerConfig::adam(2e-3),
        loss: Loss::CrossEntropy,
        clip: Some(1.0),
    })
}

/// The book's BiLSTM autoencoder on 28x28 images; Adam, BCE on logits.
fn mnist_bilstm_ae(root: &Path, device: Device, shrink: i64) -> Result<Workload, ExperimentError> {
    let x = Tensor::rand([6_000 / shrink, 28, 28], (Kind::Float, device));
    Ok(Workload {
        data: TensorData {
            x: x.shallow_clone(),
            y: x,
        },
        model: Box::new(autoencoder(root / "m", &AutoencoderConfig::bilstm_book())?),
        batch: 100,
        optimizer: OptimizerConfig::keras_adam(1e-3),
        loss: Loss::BinaryCrossEntropyWithLogits,
        clip: None,
    })
}

/// The post's encoder-decoder with teacher forcing on sin -> cos windows,
/// 10 passes per epoch; Adam, MSE.
fn seq2seq_sine(root: &Path, device: Device, shrink: i64) -> Result<Workload, ExperimentError> {
    let w = sine_pairs::windows(&WindowConfig::default())?;
    let one = to_tensors(&w.teacher_forcing(), device)?;
    let reps = (10 / shrink).max(1);
    Ok(Workload {
        data: TensorData {
            x: one.x.repeat([reps, 1, 1]),
            y: one.y.repeat([reps, 1, 1]),
        },
        model: Box::new(TeacherForced(encoder_decoder(
            root / "m",
            &EncoderDecoderConfig::post(),
        )?)),
        batch: 10,
        optimizer: OptimizerConfig::keras_adam(1e-3),
        loss: Loss::Mse,
        clip: None,
    })
}

/// Builds workload `name` with its variables in `vs`.
fn build(
    name: &str,
    vs: &VarStore,
    device: Device,
    shrink: i64,
) -> Result<Workload, ExperimentError> {
    let root = &vs.root();
    match name {
        "toy-seq2one" => toy_seq2one(root, device, shrink),
        "temporal-order-hard" => temporal_order_hard(root, device, shrink),
        "imdb-lstm" => imdb(root, RecurrentKind::Lstm, device, shrink),
        "imdb-rnn" => imdb(root, RecurrentKind::RnnTanh, device, shrink),
        "sweep-rnn-tanh" => sweep(root, RecurrentKind::RnnTanh, device, shrink),
        "sweep-lstm" => sweep(root, RecurrentKind::Lstm, device, shrink),
        "sweep-gru" => sweep(root, RecurrentKind::Gru, device, shrink),
        "mnist-bilstm-ae" => mnist_bilstm_ae(root, device, shrink),
        "seq2seq-sine" => seq2seq_sine(root, device, shrink),
        other => Err(ExperimentError::InvalidOption(format!(
            "unknown workload {other:?}; available: {}",
            WORKLOADS.join(", ")
        ))),
    }
}

/// Runs one workload on `device`.
pub fn run_workload(
    name: &str,
    device: Device,
    opts: &BenchOptions,
) -> Result<BenchResult, ExperimentError> {
    if opts.epochs == 0 {
        return Err(ExperimentError::InvalidOption(
            "bench needs at least one timed epoch".into(),
        ));
    }
    let threads = set_threads(opts.threads, thread_hint(name))?;
    seed_all(42);
    let mut vs = VarStore::new(device);
    let w = build(name, &vs, device, opts.shrink.max(1) as i64)?;
    let mut fc = FitConfig::new(opts.warmup + opts.epochs, w.batch, w.optimizer, w.loss);
    fc.shuffle = false;
    fc.clip_grad_norm = w.clip;
    fc.verbosity = Verbosity::Silent;
    let report = fit(&mut vs, w.model.as_ref(), &w.data, None, fc)?;
    let seconds: Vec<f64> = report
        .history
        .epochs()
        .iter()
        .skip(opts.warmup)
        .map(|e| e.seconds)
        .collect();
    let samples = w.data.len() as usize;
    let med = median(&seconds);
    Ok(BenchResult {
        workload: name.to_string(),
        framework: "seqlab",
        samples,
        batch: w.batch,
        epoch_seconds: seconds,
        median_seconds: med,
        samples_per_second: samples as f64 / med,
        threads: threads.threads,
        threads_source: threads.source.name(),
        rnn_kernel: seqlab_models::fused::active().name(),
        allocator: opts.allocator.name(),
        malloc_mmap_threshold: seqlab_train::runtime::MMAP_THRESHOLD,
        malloc_trim_threshold: seqlab_train::runtime::TRIM_THRESHOLD,
        malloc_huge_pages: seqlab_train::runtime::huge_pages(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_workload_takes_its_experiments_thread_hint() {
        let hints: Vec<ThreadHint> = WORKLOADS.iter().map(|w| thread_hint(w)).collect();
        // With the fused recurrent kernel every workload runs best as one
        // thread per job (two jobs share the two cores of the reference machine).
        assert_eq!(hints, [ThreadHint::Single; 9]);
    }
}
