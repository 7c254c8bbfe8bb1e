//! What every run is asked for, parsed once from the command line, and what it reports back.

use crate::aggregate;
use seqlab_train::device::DeviceChoice;
use seqlab_train::runtime::ThreadChoice;
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
    /// Intra-op CPU threads; [`Registered::start`](crate::Registered::start) applies it (`run` alone does not).
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
