//! The registry: every experiment of the chapter, and nothing else names them.
//!
//! Adding an experiment means writing its module (a type implementing
//! [`Experiment`]) and one line here.

use crate::experiment::Experiment;
use crate::{aggregate, record, runner, ExperimentError, RunOptions, RunOutcome};
use crate::{continuation, imdb, length_sweep, mnist_ae, seq2one, seq2seq, temporal_order};
use seqlab_train::runtime::{set_threads, ThreadHint};
use std::path::Path;

/// An experiment in the registry: its facts, and its typed parts behind
/// plain function pointers (see [`register`]).
#[derive(Clone, Copy)]
pub struct Registered {
    /// Name used on the command line and as the results folder.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// How it works (Markdown; empty where not written).
    pub about: &'static str,
    /// Where the reproduction differs from its source, and why.
    pub differences: &'static [&'static str],
    /// The intra-op threads its models suit (see `seqlab_train::runtime`).
    pub threads: ThreadHint,
    /// Huge pages for `malloc` suit its training (see [`Experiment::HUGE_PAGES`]).
    pub huge_pages: bool,
    /// Seeds of its full multi-seed run (`cargo xtask reproduce-all`).
    pub full_seeds: usize,
    /// An experiment whose seeds its summary reads (it runs after it).
    pub after: Option<&'static str>,
    /// The `what` of its headline target (`None`: the first target).
    pub headline: Option<&'static str>,
    run_fn: fn(&RunOptions) -> Result<RunOutcome, ExperimentError>,
    summarise_fn: fn(&Path, bool) -> Result<Option<record::Summary>, ExperimentError>,
    seed_view_fn: fn(&Path) -> Result<record::SeedView, ExperimentError>,
}

fn run_profile<E: Experiment>(opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
    runner::run::<E>(&E::config(opts.quick), opts)
}

fn seed_view_of<E: Experiment>(dir: &Path) -> Result<record::SeedView, ExperimentError> {
    record::SeedView::read(
        dir,
        record::SeedParts {
            targets: E::targets,
            measurements: E::measurements,
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
        about: E::ABOUT,
        differences: E::DIFFERENCES,
        threads: E::THREADS,
        huge_pages: E::HUGE_PAGES,
        full_seeds: E::FULL_SEEDS,
        after: E::AFTER,
        headline: E::HEADLINE,
        run_fn: run_profile::<E>,
        summarise_fn: aggregate::aggregate::<E>,
        seed_view_fn: seed_view_of::<E>,
    }
}

impl Registered {
    /// Runs one seed of the profile `opts` asks for (with the process's
    /// thread count as it is) and writes its folder ([`RunOptions::out_dir`]).
    pub fn run(&self, opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
        (self.run_fn)(opts)
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
        (self.summarise_fn)(results_dir, allow_mixed)
    }

    /// One seed's folder as the report reads it.
    pub fn seed_view(&self, dir: &Path) -> Result<record::SeedView, ExperimentError> {
        (self.seed_view_fn)(dir)
    }
}

/// Every experiment, cheapest first (the order `reproduce-all` plans them in,
/// and starts them in without an earlier record of their times;
/// `mnist-bilstm-ae` after `mnist-lstm-ae`, whose result it compares with).
pub const EXPERIMENTS: &[Registered] = &[
    register::<seq2one::Seq2One>(),
    register::<continuation::Continuation>(),
    register::<seq2seq::Seq2SeqSinCos>(),
    register::<seq2seq::Seq2SeqDamped>(),
    register::<seq2seq::Seq2SeqPower>(),
    register::<temporal_order::TemporalOrder>(),
    register::<imdb::ImdbRnn>(),
    register::<imdb::ImdbLstm>(),
    register::<mnist_ae::MnistLstmAe>(),
    register::<mnist_ae::MnistBilstmAe>(),
    register::<length_sweep::LengthSweep>(),
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
