//! The chapter's experiments, one module each, and what they share.
//!
//! Every experiment has one shape (see [`runner`]): a config (full and
//! `--quick` profiles) plus a per-seed function that trains, evaluates,
//! writes its artefacts and returns a typed [`runner::SeedOutcome`]. The
//! generic layer writes `results/<name>/` for a single seed (history CSVs,
//! `metrics.json`, on CPU a pure function of the seed and the thread count;
//! `timing.json`, model summaries and PNG plots), or
//! `results/<name>/seeds/<seed>/` per seed of a multi-seed run, which
//! [`aggregate`] summarises into `results/<name>/metrics.json` (mean,
//! spread, 95% interval per target). Every folder is staged and put in place
//! whole.
//!
//! The registry ([`EXPERIMENTS`]) is what `seqlab list`, `seqlab run`,
//! `seqlab reproduce-all` and `cargo xtask reproduce-all` iterate over.

#![warn(missing_docs)]

pub mod aggregate;
pub mod bench;
pub mod common;
pub mod continuation;
pub mod device;
pub mod imdb;
pub mod inspect;
pub mod jobs;
pub mod length_sweep;
pub mod mnist_ae;
pub mod readme;
pub mod report;
pub mod reproduce;
pub mod runner;
pub mod seq2one;
pub mod seq2seq;
pub mod temporal_order;

use seqlab_train::device::DeviceChoice;
use seqlab_train::runtime::{set_threads, ThreadChoice, ThreadHint};
use std::path::PathBuf;

/// One line for an error and its causes, as the `seqlab` binary prints it:
/// the messages joined by ": ", leaving out a cause whose text the line
/// already holds (an I/O error's "(os error 2)" quoted by the error that
/// wraps it is printed once), with control characters escaped (see
/// [`seqlab_data::load_error::printable`]) so that text read from a file
/// cannot drive the terminal.
pub fn error_line<I, S>(messages: I) -> String
where
    I: IntoIterator<Item = S>,
    S: std::fmt::Display,
{
    let mut line = String::new();
    for m in messages {
        let m = m.to_string();
        if m.is_empty() || line.contains(&m) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&m);
    }
    seqlab_data::load_error::printable(&line).into_owned()
}

#[cfg(test)]
mod error_line_tests {
    #[test]
    fn a_quoted_cause_is_printed_once_and_control_bytes_are_escaped() {
        let io = "No such file or directory (os error 2)";
        let outer = format!("r/vocabulary.tsv: I/O error: {io}");
        assert_eq!(
            super::error_line([outer.as_str(), io]),
            "r/vocabulary.tsv: I/O error: No such file or directory (os error 2)"
        );
        assert_eq!(super::error_line(["a", "b"]), "a: b");
        assert_eq!(
            super::error_line(["bad entry \u{1b}[31mred"]),
            "bad entry \\u{1b}[31mred"
        );
    }
}

/// The libtorch version seqlab is built against (tch 0.24 requires exactly this one).
pub const LIBTORCH_VERSION: &str = "2.11.0";

/// Options shared by every experiment, parsed once from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Device to train on.
    pub device: DeviceChoice,
    /// Seed for data, initialisation and shuffling.
    pub seed: u64,
    /// When this run is one seed of a multi-seed run: all of that run's
    /// seeds. The run then writes `<results_dir>/<name>/seeds/<seed>/`
    /// instead of `<results_dir>/<name>/`.
    pub seed_set: Option<Vec<u64>>,
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
            seed_set: None,
            epochs: None,
            results_dir: PathBuf::from("results"),
            quick: false,
            verbose: true,
            data_dir: None,
            threads: ThreadChoice::Auto,
        }
    }
}

impl RunOptions {
    /// The folder a run of experiment `name` writes: `<results_dir>/<name>/`,
    /// or `<results_dir>/<name>/seeds/<seed>/` for one seed of a multi-seed run.
    pub fn out_dir(&self, name: &str) -> PathBuf {
        let dir = self.results_dir.join(name);
        if self.seed_set.is_some() {
            dir.join(aggregate::SEEDS_DIR).join(self.seed.to_string())
        } else {
            dir
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
    /// Reading a file or listing a folder of results failed.
    #[error("cannot read {path}")]
    Read {
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
    /// Its per-seed function (the experiment-specific part).
    pub run_seed: runner::SeedRun,
    /// What it adds when its seeds are summarised (plots over seeds, paired
    /// comparisons); `None` for the generic summary alone.
    pub aggregate: Option<aggregate::AggregateHook>,
    /// The intra-op threads its models suit (see `seqlab_train::runtime`).
    pub threads: ThreadHint,
    /// Seeds of its full multi-seed run (`cargo xtask reproduce-all`).
    pub full_seeds: usize,
    /// An experiment whose result of the same seed this one reads (it runs after it).
    pub after: Option<&'static str>,
}

impl Experiment {
    /// Runs one seed (with the process's thread count as it is) and writes
    /// its folder ([`RunOptions::out_dir`]).
    pub fn run(&self, opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
        runner::run_into(self.name, opts, |out| (self.run_seed)(opts, out))
    }

    /// Sets libtorch's intra-op threads from `opts.threads` and the
    /// experiment's [`ThreadHint`], then runs it. This is what `seqlab run`
    /// does; `metrics.json` records the thread count used.
    pub fn start(&self, opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
        set_threads(opts.threads, self.threads)?;
        self.run(opts)
    }
}

/// Every experiment, cheapest first (the order `reproduce-all` runs them in;
/// `mnist-bilstm-ae` after `mnist-lstm-ae`, whose result it compares with).
pub const EXPERIMENTS: &[Experiment] = &[Experiment {
    name: seq2one::NAME,
    description: "A/B-order toy task: feed-forward net (as published and corrected) vs two stacked RNN(relu) layers",
    run_seed: seq2one::run_seed,
    aggregate: None,
    threads: ThreadHint::PerCore,
    full_seeds: 5,
    after: None,
}, Experiment {
    name: continuation::NAME,
    description: "seed-conditioned continuation (Flux forum): the asker's model as posted (two slips), each fix, then an LSTM encoder-decoder; vs the predict-the-mean baseline",
    run_seed: continuation::run_seed,
    aggregate: None,
    threads: ThreadHint::Single,
    full_seeds: 5,
    after: None,
}, Experiment {
    name: "seq2seq-sin-cos",
    description: "encoder-decoder LSTM with teacher forcing, sin -> cos windows: the post's zero-fed decoding as published, then fed back, then an improved recipe",
    run_seed: seq2seq::run_seed_sin_cos,
    aggregate: None,
    threads: ThreadHint::Single,
    full_seeds: 5,
    after: None,
}, Experiment {
    name: "seq2seq-damped",
    description: "encoder-decoder LSTM, exp(-x/5) cos x -> exp(-x/5) sin x: as published (the sin -> cos model, zero-fed), then corrected",
    run_seed: seq2seq::run_seed_damped,
    aggregate: None,
    threads: ThreadHint::Single,
    full_seeds: 5,
    after: None,
}, Experiment {
    name: "seq2seq-power",
    description: "encoder-decoder LSTM, x^2 -> x^0.5: as published (the sin -> cos model, zero-fed), then corrected",
    run_seed: seq2seq::run_seed_power,
    aggregate: None,
    threads: ThreadHint::Single,
    full_seeds: 5,
    after: None,
}, Experiment {
    name: temporal_order::NAME,
    description: "temporal order task (Hochreiter & Schmidhuber 1997): RNN vs LSTM at EASY, MODERATE and HARD",
    run_seed: temporal_order::run_seed,
    aggregate: Some(temporal_order::aggregate),
    threads: ThreadHint::Single,
    full_seeds: 5,
    after: None,
}, Experiment {
    name: imdb::RNN_NAME,
    description: "IMDb reviews: Embedding + SimpleRNN(32) with early stopping and LR on plateau; ROC/AUC; book, held-out and test-validated protocols",
    run_seed: imdb::run_seed_rnn,
    aggregate: Some(imdb::aggregate),
    threads: ThreadHint::PerCore,
    full_seeds: 5,
    after: None,
}, Experiment {
    name: imdb::LSTM_NAME,
    description: "IMDb reviews: Embedding + LSTM(32) with early stopping and LR on plateau; ROC/AUC; book, held-out and test-validated protocols",
    run_seed: imdb::run_seed_lstm,
    aggregate: Some(imdb::aggregate),
    threads: ThreadHint::PerCore,
    full_seeds: 5,
    after: None,
}, Experiment {
    name: mnist_ae::LSTM_NAME,
    description: "MNIST rows: LSTM autoencoder with a 2-D latent space; reconstructions, latent scatter, generation",
    run_seed: mnist_ae::run_seed_lstm,
    aggregate: None,
    threads: ThreadHint::PerCore,
    full_seeds: 3,
    after: None,
}, Experiment {
    name: mnist_ae::BILSTM_NAME,
    description: "MNIST rows: BiLSTM autoencoder with a 100-D latent space; vector-to-sequence and sequence-to-sequence",
    run_seed: mnist_ae::run_seed_bilstm,
    aggregate: None,
    threads: ThreadHint::PerCore,
    full_seeds: 3,
    after: Some(mnist_ae::LSTM_NAME),
}, Experiment {
    name: length_sweep::NAME,
    description: "A/B-order task at lengths 12 to 200: RNN(tanh) vs LSTM vs GRU, equal width and budget",
    run_seed: length_sweep::run_seed,
    aggregate: Some(length_sweep::aggregate),
    threads: ThreadHint::Single,
    full_seeds: 5,
    after: None,
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
