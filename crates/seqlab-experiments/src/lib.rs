//! The chapter's experiments, one module each, and what they share.
//!
//! Each experiment is a config (full and `--quick` profiles) plus a `run`
//! that trains, evaluates and writes `results/<name>/`: history CSVs,
//! `metrics.json` (on CPU a pure function of the seed and the thread count),
//! `timing.json` (wall times), model summaries and PNG plots. Every file is
//! written atomically.
//!
//! The registry ([`EXPERIMENTS`]) is what `seqlab list`, `seqlab run` and
//! `cargo xtask reproduce-all` iterate over.

#![warn(missing_docs)]

pub mod bench;
pub mod common;
pub mod continuation;
pub mod imdb;
pub mod inspect;
pub mod length_sweep;
pub mod mnist_ae;
pub mod report;
pub mod seq2one;
pub mod seq2seq;
pub mod temporal_order;

use seqlab_train::device::DeviceChoice;
use seqlab_train::runtime::{set_threads, ThreadChoice, ThreadHint};
use std::path::PathBuf;

/// The libtorch version seqlab is built against (tch 0.24 requires exactly this one).
pub const LIBTORCH_VERSION: &str = "2.11.0";

/// Options shared by every experiment, parsed once from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Device to train on.
    pub device: DeviceChoice,
    /// Seed for data, initialisation and shuffling.
    pub seed: u64,
    /// Overrides the number of epochs of every training run of the experiment.
    pub epochs: Option<usize>,
    /// Folder under which `<experiment>/` is written.
    pub results_dir: PathBuf,
    /// Small settings that finish in seconds (tests, CI).
    pub quick: bool,
    /// Print per-epoch progress.
    pub verbose: bool,
    /// Data directory for real data sets (`--data-dir`; else `SEQLAB_DATA_DIR`, else `data/`).
    pub data_dir: Option<PathBuf>,
    /// Intra-op CPU threads; [`Experiment::start`] applies it (`run` alone does not).
    pub threads: ThreadChoice,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            device: DeviceChoice::Cpu,
            seed: 42,
            epochs: None,
            results_dir: PathBuf::from("results"),
            quick: false,
            verbose: true,
            data_dir: None,
            threads: ThreadChoice::Auto,
        }
    }
}

/// Errors from running an experiment.
#[allow(missing_docs)] // variant fields are named for what they hold; each message says how
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// No experiment has this name.
    #[error("unknown experiment {name:?}; available: {available}")]
    Unknown { name: String, available: String },
    /// Invalid options.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] seqlab_train::TrainError),
    /// Building a model failed.
    #[error(transparent)]
    Model(#[from] seqlab_models::ModelError),
    /// Generating or loading data failed.
    #[error(transparent)]
    Data(#[from] seqlab_data::DataError),
    /// A data set could not be fetched or loaded.
    #[error(transparent)]
    Dataset(#[from] seqlab_data::datadir::DatasetError),
    /// Computing a metric failed.
    #[error(transparent)]
    Metrics(#[from] seqlab_metrics::MetricsError),
    /// Drawing a plot failed.
    #[error(transparent)]
    Plot(#[from] seqlab_plot::PlotError),
    /// Writing a result file failed.
    #[error(transparent)]
    Io(#[from] seqlab_io::IoError),
    /// libtorch refused an operation.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
    /// No trained model has been saved for an experiment yet.
    #[error("no trained model for {experiment}: {} does not exist; train one first with `seqlab run {experiment} --results-dir {}`", path.display(), results_dir.display())]
    NoTrainedModel {
        path: PathBuf,
        experiment: String,
        results_dir: PathBuf,
    },
    /// A saved model file is unreadable or inconsistent.
    #[error("{}: {message}", path.display())]
    Saved { path: PathBuf, message: String },
    /// Preparing the results folder failed.
    #[error("cannot prepare results folder {path}")]
    ResultsDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a finished experiment reports back.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Folder the experiment wrote.
    pub dir: PathBuf,
    /// Files written, relative to `dir`.
    pub files: Vec<String>,
    /// One line per headline number, for the terminal.
    pub headline: Vec<String>,
    /// Whether every target of the experiment was met.
    pub targets_met: bool,
}

/// A registered experiment.
pub struct Experiment {
    /// Name used on the command line and as the results folder.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Runs it (with the process's thread count as it is).
    pub run: fn(&RunOptions) -> Result<RunOutcome, ExperimentError>,
    /// The intra-op threads its models suit (see `seqlab_train::runtime`).
    pub threads: ThreadHint,
}

impl Experiment {
    /// Sets libtorch's intra-op threads from `opts.threads` and the
    /// experiment's [`ThreadHint`], then runs it. This is what `seqlab run`
    /// does; `metrics.json` records the thread count used.
    pub fn start(&self, opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
        set_threads(opts.threads, self.threads);
        (self.run)(opts)
    }
}

/// Every experiment, cheapest first (the order `reproduce-all` runs them in;
/// `mnist-bilstm-ae` after `mnist-lstm-ae`, whose result it compares with).
pub const EXPERIMENTS: &[Experiment] = &[Experiment {
    name: seq2one::NAME,
    description: "A/B-order toy task: feed-forward net (as published and corrected) vs two stacked RNN(relu) layers",
    run: seq2one::run,
    threads: ThreadHint::PerCore,
}, Experiment {
    name: continuation::NAME,
    description: "seed-conditioned continuation (Flux forum): LSTM encoder-decoder vs the predict-the-mean baseline",
    run: continuation::run,
    threads: ThreadHint::Single,
}, Experiment {
    name: "seq2seq-sin-cos",
    description: "encoder-decoder LSTM with teacher forcing, sin -> cos windows: the post's recipe vs an improved one, autoregressive inference",
    run: seq2seq::run_sin_cos,
    threads: ThreadHint::Single,
}, Experiment {
    name: "seq2seq-damped",
    description: "encoder-decoder LSTM, damped oscillation exp(-x/5) cos x -> exp(-x/5) sin x",
    run: seq2seq::run_damped,
    threads: ThreadHint::Single,
}, Experiment {
    name: "seq2seq-power",
    description: "encoder-decoder LSTM, x^2 -> x^0.5",
    run: seq2seq::run_power,
    threads: ThreadHint::Single,
}, Experiment {
    name: temporal_order::NAME,
    description: "temporal order task (Hochreiter & Schmidhuber 1997): RNN vs LSTM at EASY, MODERATE and HARD",
    run: temporal_order::run,
    threads: ThreadHint::Single,
}, Experiment {
    name: imdb::RNN_NAME,
    description: "IMDb reviews: Embedding + SimpleRNN(32) with early stopping and LR on plateau; ROC/AUC, book vs held-out protocol",
    run: imdb::run_rnn,
    threads: ThreadHint::PerCore,
}, Experiment {
    name: imdb::LSTM_NAME,
    description: "IMDb reviews: Embedding + LSTM(32) with early stopping and LR on plateau; ROC/AUC, book vs held-out protocol",
    run: imdb::run_lstm,
    threads: ThreadHint::PerCore,
}, Experiment {
    name: mnist_ae::LSTM_NAME,
    description: "MNIST rows: LSTM autoencoder with a 2-D latent space; reconstructions, latent scatter, generation",
    run: mnist_ae::run_lstm,
    threads: ThreadHint::PerCore,
}, Experiment {
    name: mnist_ae::BILSTM_NAME,
    description: "MNIST rows: BiLSTM autoencoder with a 100-D latent space; vector-to-sequence and sequence-to-sequence",
    run: mnist_ae::run_bilstm,
    threads: ThreadHint::PerCore,
}, Experiment {
    name: length_sweep::NAME,
    description: "A/B-order task at lengths 12 to 200: RNN(tanh) vs LSTM vs GRU, equal width and budget, several seeds",
    run: length_sweep::run,
    threads: ThreadHint::Single,
}];

/// Looks an experiment up by name.
pub fn find(name: &str) -> Result<&'static Experiment, ExperimentError> {
    EXPERIMENTS
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| ExperimentError::Unknown {
            name: name.to_string(),
            available: EXPERIMENTS
                .iter()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}
