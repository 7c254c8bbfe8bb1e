//! The chapter's experiments, one module each, and the generic layer they share.
//!
//! Every experiment implements one trait, [`Experiment`]: a typed config
//! with its full and `--quick` profiles, a per-seed run that trains,
//! evaluates, writes its artefacts and returns a typed
//! [`experiment::Outcome`], and its own prose (what it reproduces, where it
//! differs from the source). The generic layer writes `results/<name>/` for
//! a single seed (history CSVs, `metrics.json`, on CPU a pure function of
//! the seed and the thread count; `timing.json`, `manifest.json`, model
//! summaries and PNG plots), or `results/<name>/seeds/<seed>/` per seed of
//! a multi-seed run, which [`aggregate`] summarises into
//! `results/<name>/metrics.json` (mean, spread, 95% interval per target).
//! Every results file is a serde type ([`record`]); every folder is staged
//! and put in place whole.
//!
//! The registry ([`EXPERIMENTS`]) is what `seqlab list`, `seqlab run`,
//! `seqlab reproduce-all`, the report and `cargo xtask reproduce-all`
//! iterate over; [`register`] turns an [`Experiment`] into its entry.

#![warn(missing_docs)]

pub mod aggregate;
pub mod bench;
pub mod common;
pub mod device;
mod error;
pub mod experiment;
pub mod experiments;
pub mod inspect;
pub mod jobs;
pub mod manifest;
mod options;
pub mod readme;
pub mod record;
mod registry;
pub mod report;
pub mod reproduce;
pub mod runner;
pub mod seeds;
pub mod target;

pub use error::{error_line, ExperimentError};
pub use experiment::Experiment;
pub use experiments::{
    continuation, imdb, length_sweep, mnist_ae, seq2one, seq2seq, temporal_order,
};
pub use options::{RunOptions, RunOutcome, LIBTORCH_VERSION};
pub use registry::{find, register, Registered, EXPERIMENTS};
