//! The one shape every experiment has: the [`Experiment`] trait.
//!
//! An experiment is a type that names itself, describes itself once (what it
//! reproduces, where it differs from its source), builds its typed config
//! for the full and the `--quick` profile, and runs one seed of that config
//! in a [`SeedContext`], returning a typed [`Outcome`]: the measured values
//! with their targets, numbers without a target, its own details
//! (`Details`, written to `metrics.json` and read back through the same
//! type), wall times and terminal lines. Over several seeds,
//! [`Experiment::summarise`] adds what the generic summary cannot know
//! (plots over seeds, paired comparisons), again from the typed details.
//!
//! [`register`](crate::registry::register) turns an implementation into a registry entry
//! ([`crate::Registered`]); [`crate::EXPERIMENTS`] lists them all, and it
//! is the only place that names them.

use crate::aggregate::{SeedResult, SummaryExtra};
use crate::common::{ResultsDir, Target};
use crate::record::Setting;
use crate::runner::Measurement;
use crate::{ExperimentError, RunOptions};
use seqlab_train::fit::FitConfig;
use seqlab_train::objective::{Loss, Metric};
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::progress::Verbosity;
use seqlab_train::runtime::ThreadHint;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tch::Device;

/// What one seed of a run gets: the seed, the device, the data, options
/// that shape training, and the folder to write its artefacts into.
#[derive(Debug)]
pub struct SeedContext<'a> {
    /// Seed for data, initialisation and shuffling.
    pub seed: u64,
    /// Device to train on (resolved: `auto` has become CPU or CUDA).
    pub device: Device,
    /// `--epochs`: overrides the epochs of every training run.
    pub epochs: Option<usize>,
    /// Print per-epoch progress.
    pub verbose: bool,
    /// Data directory for the real data sets (`None`: `SEQLAB_DATA_DIR`, else `data/`).
    pub data_dir: Option<PathBuf>,
    /// The staged folder this seed writes (committed whole by the runner).
    pub out: &'a mut ResultsDir,
}

impl SeedContext<'_> {
    /// The context of `opts` writing into `out`.
    pub fn new<'a>(
        opts: &RunOptions,
        out: &'a mut ResultsDir,
    ) -> Result<SeedContext<'a>, ExperimentError> {
        Ok(SeedContext {
            seed: opts.seed,
            device: opts.device.resolve()?,
            epochs: opts.epochs,
            verbose: opts.verbose,
            data_dir: opts.data_dir.clone(),
            out,
        })
    }

    /// The epochs of a training run: `--epochs` if given (at least 1), else `default`.
    pub fn epochs_or(&self, default: usize) -> Result<usize, ExperimentError> {
        match self.epochs {
            Some(0) => Err(ExperimentError::InvalidOption(
                "--epochs must be at least 1".into(),
            )),
            Some(n) => Ok(n),
            None => Ok(default),
        }
    }

    /// Progress lines per epoch when verbose, else silence.
    pub fn verbosity(&self) -> Verbosity {
        if self.verbose {
            Verbosity::Epochs
        } else {
            Verbosity::Silent
        }
    }

    /// Fit settings every experiment shares: shuffling seeded by the seed,
    /// a label for progress lines, and those lines when verbose.
    pub fn base_fit(
        &self,
        label: String,
        epochs: usize,
        batch_size: usize,
        optimizer: OptimizerConfig,
        loss: Loss,
    ) -> FitConfig {
        let mut config = FitConfig::new(epochs, batch_size, optimizer, loss);
        config.seed = self.seed;
        config.label = label;
        config.verbosity = self.verbosity();
        config
    }

    /// [`SeedContext::base_fit`] for classification: cross-entropy with
    /// accuracy reported.
    pub fn classification_fit(
        &self,
        label: String,
        epochs: usize,
        batch_size: usize,
        optimizer: OptimizerConfig,
    ) -> FitConfig {
        let mut config = self.base_fit(label, epochs, batch_size, optimizer, Loss::CrossEntropy);
        config.metrics = vec![Metric::Accuracy];
        config
    }
}

/// What one seed measured, typed; the runner writes it to `metrics.json`
/// (run facts, `details`, `targets`, `measurements`) and `timing.json`.
#[derive(Debug, Clone)]
pub struct Outcome<D> {
    /// The experiment's own numbers and settings.
    pub details: D,
    /// Numbers compared with the sources, with their accepted ranges, where
    /// [`Experiment::targets`] does not derive them from the details.
    pub targets: Vec<Target>,
    /// Numbers without a target (a finding reported with its spread over seeds).
    pub measurements: Vec<Measurement>,
    /// Wall times in seconds by part (`timing.json` adds the `total`).
    pub timing: Vec<(String, f64)>,
    /// Terminal lines after the target lines.
    pub headline: Vec<String>,
}

impl<D> Outcome<D> {
    /// An outcome with `details` and nothing else yet. Its targets are
    /// [`Experiment::targets`] of the details where the experiment derives
    /// them so (then the runner does); else add them with [`Outcome::targets`].
    pub fn new(details: D) -> Self {
        Self {
            details,
            targets: Vec::new(),
            measurements: Vec::new(),
            timing: Vec::new(),
            headline: Vec::new(),
        }
    }

    /// Sets the targets, for an experiment that does not derive them from
    /// its details.
    pub fn targets(mut self, targets: Vec<Target>) -> Self {
        self.targets = targets;
        self
    }

    /// Adds wall times (seconds) by part.
    pub fn timing<K: Into<String>>(mut self, parts: impl IntoIterator<Item = (K, f64)>) -> Self {
        self.timing
            .extend(parts.into_iter().map(|(k, v)| (k.into(), v)));
        self
    }

    /// Adds numbers without a target.
    pub fn measurements(mut self, m: Vec<Measurement>) -> Self {
        self.measurements.extend(m);
        self
    }

    /// Adds terminal lines after the target lines.
    pub fn headline(mut self, lines: Vec<String>) -> Self {
        self.headline.extend(lines);
        self
    }
}

/// What the summary of several seeds gets besides the seeds themselves.
#[derive(Debug, Clone, Copy)]
pub struct SummaryContext<'a> {
    /// The experiment's folder (`<results>/<name>/`), to write plots into.
    pub dir: &'a Path,
    /// The results folder, to read another experiment's seeds from (see
    /// [`crate::aggregate::load_seeds`]).
    pub results_dir: &'a Path,
}

/// One experiment of the chapter. See the module documentation.
pub trait Experiment: 'static {
    /// Everything a run is parametrised by; [`Experiment::config`] gives the profiles.
    type Config: Clone + std::fmt::Debug;
    /// The experiment's own part of `metrics.json`, read back through the same type.
    type Details: Serialize + DeserializeOwned;

    /// Name on the command line and of the results folder.
    const NAME: &'static str;
    /// One line: what it reproduces.
    const DESCRIPTION: &'static str;
    /// Where the reproduction differs from its source, and why (the
    /// report's "Differences from the source").
    const DIFFERENCES: &'static [&'static str];
    /// How the experiment works, in a paragraph or two of Markdown (the
    /// report prints it under the description): the task, the models, the
    /// runs. No measured numbers: those come from the results.
    const ABOUT: &'static str = "";
    /// The intra-op threads its models suit (see `seqlab_train::runtime`).
    const THREADS: ThreadHint;
    /// Its training walks over more memory than the caches hold (an IMDb
    /// model's 640,000 embedding weights and their optimiser state, a
    /// 60,000-image epoch), so `seqlab run` starts it with huge pages for
    /// `malloc` (`seqlab_train::runtime::restart_with_huge_pages`; same
    /// results). Measured on the 2-core benchmark machine: 1-10% faster there,
    /// while the small models ran 6-13% slower with them.
    const HUGE_PAGES: bool = false;
    /// Seeds of its full multi-seed run (`cargo xtask reproduce-all`).
    const FULL_SEEDS: usize;
    /// An experiment whose seeds its summary reads (it runs after it).
    const AFTER: Option<&'static str> = None;
    /// The `what` of the target README's table shows for it (default: its first target).
    const HEADLINE: Option<&'static str> = None;

    /// The config of the full profile (`quick == false`) or of `--quick`.
    fn config(quick: bool) -> Self::Config;

    /// Runs one seed of `config`: trains, evaluates, writes its artefacts
    /// into `ctx.out`, returns what it measured.
    fn run_seed(
        config: &Self::Config,
        ctx: &mut SeedContext<'_>,
    ) -> Result<Outcome<Self::Details>, ExperimentError>;

    /// The targets of a seed as a pure function of its recorded details,
    /// where the experiment can give them so (`None`: the targets the run
    /// wrote). The summary and the report judge every seed's recorded
    /// numbers with these, so that what a target quotes, its kind and its
    /// accepted range are this version's, also for results recorded by an
    /// earlier one.
    fn targets(details: &Self::Details) -> Option<Vec<Target>> {
        let _ = details;
        None
    }

    /// Numbers without a target, as a pure function of the recorded
    /// details where the experiment can give them so (`None`: those the run
    /// wrote); used like [`Experiment::targets`].
    fn measurements(details: &Self::Details) -> Option<Vec<Measurement>> {
        let _ = details;
        None
    }

    /// The settings a run used, for the report's settings table.
    fn settings(details: &Self::Details) -> Vec<Setting>;

    /// The epochs each training run of a seed took, by run.
    fn epochs(details: &Self::Details) -> Vec<(String, usize)>;

    /// Sentences about one seed's run that carry its measured numbers (the
    /// report prints them under the settings; static prose belongs in
    /// [`Experiment::DIFFERENCES`]). None by default.
    fn notes(details: &Self::Details) -> Vec<String> {
        let _ = details;
        Vec::new()
    }

    /// What the summary over seeds adds (plots over seeds, paired
    /// comparisons); nothing by default.
    fn summarise(
        seeds: &[SeedResult<Self::Details>],
        ctx: SummaryContext<'_>,
    ) -> Result<SummaryExtra, ExperimentError> {
        let _ = (seeds, ctx);
        Ok(SummaryExtra::default())
    }
}
