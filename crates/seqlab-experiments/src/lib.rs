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
pub mod experiment;
pub mod imdb;
pub mod inspect;
pub mod jobs;
mod legacy;
pub mod length_sweep;
pub mod mnist_ae;
pub mod readme;
pub mod record;
pub mod report;
pub mod reproduce;
pub mod runner;
pub mod seq2one;
pub mod seq2seq;
pub mod temporal_order;

pub use experiment::Experiment;
use seqlab_train::device::DeviceChoice;
use seqlab_train::runtime::{set_threads, ThreadChoice, ThreadHint};
use std::path::{Path, PathBuf};

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
    /// A result could not be turned into JSON.
    #[error("cannot serialise {what}: {message}")]
    Serialise { what: String, message: String },
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

/// An experiment in the registry: its facts, and its typed parts behind
/// plain function pointers (see [`register`]).
#[derive(Clone, Copy)]
pub struct Registered {
    /// Name used on the command line and as the results folder.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    differences: &'static [&'static str],
    /// The intra-op threads its models suit (see `seqlab_train::runtime`).
    pub threads: ThreadHint,
    /// Seeds of its full multi-seed run (`cargo xtask reproduce-all`).
    pub full_seeds: usize,
    /// An experiment whose seeds its summary reads (it runs after it).
    pub after: Option<&'static str>,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Typed {
        run: fn(&RunOptions) -> Result<RunOutcome, ExperimentError>,
        summarise: fn(&Path, bool) -> Result<Option<record::Summary>, ExperimentError>,
        seed_view: fn(&Path) -> Result<record::SeedView, ExperimentError>,
    },
    Legacy(legacy::Legacy),
}

fn run_profile<E: Experiment>(opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
    runner::run::<E>(&E::config(opts.quick), opts)
}

fn seed_view_of<E: Experiment>(dir: &Path) -> Result<record::SeedView, ExperimentError> {
    record::SeedView::read(
        dir,
        record::SeedParts {
            settings: E::settings,
            epochs: E::epochs,
            notes: E::notes,
        },
    )
}

/// The registry entry of experiment `E`.
pub const fn register<E: Experiment>() -> Registered {
    Registered {
        name: E::NAME,
        description: E::DESCRIPTION,
        differences: E::DIFFERENCES,
        threads: E::THREADS,
        full_seeds: E::FULL_SEEDS,
        after: E::AFTER,
        kind: Kind::Typed {
            run: run_profile::<E>,
            summarise: aggregate::aggregate::<E>,
            seed_view: seed_view_of::<E>,
        },
    }
}

impl Registered {
    /// An entry for an experiment not yet converted to [`Experiment`].
    const fn legacy(
        name: &'static str,
        description: &'static str,
        run_seed: runner::SeedRun,
        aggregate: Option<legacy::AggregateHook>,
        threads: ThreadHint,
        full_seeds: usize,
        after: Option<&'static str>,
    ) -> Self {
        Self {
            name,
            description,
            differences: &[],
            threads,
            full_seeds,
            after,
            kind: Kind::Legacy(legacy::Legacy {
                run_seed,
                aggregate,
            }),
        }
    }

    /// Runs one seed of the profile `opts` asks for (with the process's
    /// thread count as it is) and writes its folder ([`RunOptions::out_dir`]).
    pub fn run(&self, opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
        match self.kind {
            Kind::Typed { run, .. } => run(opts),
            Kind::Legacy(l) => runner::run_into(self.name, opts, |out| (l.run_seed)(opts, out)),
        }
    }

    /// Where the reproduction differs from its source, and why.
    pub fn differences(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Typed { .. } => self.differences,
            Kind::Legacy(_) => legacy::differences(self.name),
        }
    }

    /// Sets libtorch's intra-op threads from `opts.threads` and the
    /// experiment's [`ThreadHint`], then runs it. This is what `seqlab run`
    /// does; `metrics.json` records the thread count used.
    pub fn start(&self, opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
        set_threads(opts.threads, self.threads)?;
        self.run(opts)
    }

    /// Summarises the seeds under `<results_dir>/<name>/seeds/` (see
    /// [`aggregate::aggregate`]); `None` where there are none.
    pub fn summarise(
        &self,
        results_dir: &Path,
        allow_mixed: bool,
    ) -> Result<Option<record::Summary>, ExperimentError> {
        match self.kind {
            Kind::Typed { summarise, .. } => summarise(results_dir, allow_mixed),
            Kind::Legacy(l) => {
                legacy::aggregate(&results_dir.join(self.name), l.aggregate, allow_mixed)
            }
        }
    }

    /// One seed's folder as the report reads it.
    pub fn seed_view(&self, dir: &Path) -> Result<record::SeedView, ExperimentError> {
        match self.kind {
            Kind::Typed { seed_view, .. } => seed_view(dir),
            Kind::Legacy(_) => legacy::seed_view(dir),
        }
    }
}

/// Every experiment, cheapest first (the order `reproduce-all` runs them in;
/// `mnist-bilstm-ae` after `mnist-lstm-ae`, whose result it compares with).
pub const EXPERIMENTS: &[Registered] = &[
    Registered::legacy(
        seq2one::NAME,
        "A/B-order toy task: feed-forward net (as published and corrected) vs two stacked RNN(relu) layers",
        seq2one::run_seed,
        None,
        ThreadHint::PerCore,
        5,
        None,
    ),
    Registered::legacy(
        continuation::NAME,
        "seed-conditioned continuation (Flux forum): the asker's model as posted (two slips), each fix, then an LSTM encoder-decoder; vs the predict-the-mean baseline",
        continuation::run_seed,
        None,
        ThreadHint::Single,
        5,
        None,
    ),
    Registered::legacy(
        "seq2seq-sin-cos",
        "encoder-decoder LSTM with teacher forcing, sin -> cos windows: the post's zero-fed decoding as published, then fed back, then an improved recipe",
        seq2seq::run_seed_sin_cos,
        None,
        ThreadHint::Single,
        5,
        None,
    ),
    Registered::legacy(
        "seq2seq-damped",
        "encoder-decoder LSTM, exp(-x/5) cos x -> exp(-x/5) sin x: as published (the sin -> cos model, zero-fed), then corrected",
        seq2seq::run_seed_damped,
        None,
        ThreadHint::Single,
        5,
        None,
    ),
    Registered::legacy(
        "seq2seq-power",
        "encoder-decoder LSTM, x^2 -> x^0.5: as published (the sin -> cos model, zero-fed), then corrected",
        seq2seq::run_seed_power,
        None,
        ThreadHint::Single,
        5,
        None,
    ),
    Registered::legacy(
        temporal_order::NAME,
        "temporal order task (Hochreiter & Schmidhuber 1997): RNN vs LSTM at EASY, MODERATE and HARD",
        temporal_order::run_seed,
        Some(temporal_order::aggregate),
        ThreadHint::Single,
        5,
        None,
    ),
    Registered::legacy(
        imdb::RNN_NAME,
        "IMDb reviews: Embedding + SimpleRNN(32) with early stopping and LR on plateau; ROC/AUC; book, held-out and test-validated protocols",
        imdb::run_seed_rnn,
        Some(imdb::aggregate),
        ThreadHint::PerCore,
        5,
        None,
    ),
    Registered::legacy(
        imdb::LSTM_NAME,
        "IMDb reviews: Embedding + LSTM(32) with early stopping and LR on plateau; ROC/AUC; book, held-out and test-validated protocols",
        imdb::run_seed_lstm,
        Some(imdb::aggregate),
        ThreadHint::PerCore,
        5,
        None,
    ),
    Registered::legacy(
        mnist_ae::LSTM_NAME,
        "MNIST rows: LSTM autoencoder with a 2-D latent space; reconstructions, latent scatter, generation",
        mnist_ae::run_seed_lstm,
        None,
        ThreadHint::PerCore,
        3,
        None,
    ),
    Registered::legacy(
        mnist_ae::BILSTM_NAME,
        "MNIST rows: BiLSTM autoencoder with a 100-D latent space; vector-to-sequence and sequence-to-sequence",
        mnist_ae::run_seed_bilstm,
        None,
        ThreadHint::PerCore,
        3,
        Some(mnist_ae::LSTM_NAME),
    ),
    Registered::legacy(
        length_sweep::NAME,
        "A/B-order task at lengths 12 to 200: RNN(tanh) vs LSTM vs GRU, equal width and budget",
        length_sweep::run_seed,
        Some(length_sweep::aggregate),
        ThreadHint::Single,
        5,
        None,
    ),
];

/// Looks an experiment up by name.
pub fn find(name: &str) -> Result<&'static Registered, ExperimentError> {
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
