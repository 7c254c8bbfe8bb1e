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
mod error;
pub mod experiment;
pub mod imdb;
pub mod inspect;
pub mod jobs;
mod legacy;
pub mod length_sweep;
pub mod manifest;
pub mod mnist_ae;
mod options;
pub mod readme;
pub mod record;
mod registry;
pub mod report;
pub mod reproduce;
pub mod runner;
pub mod seq2one;
pub mod seq2seq;
pub mod temporal_order;

pub use error::{error_line, ExperimentError};
pub use experiment::Experiment;
pub use options::{RunOptions, RunOutcome, LIBTORCH_VERSION};
pub use registry::{find, register, Registered, EXPERIMENTS};
