//! Running one seed of an experiment into its folder.
//!
//! An experiment ([`crate::experiment::Experiment`]) supplies what is
//! specific to it; [`run`] does the rest: it stages the folder, runs the
//! seed, writes `metrics.json` ([`SeedMetrics`]: the run facts
//! ([`RunInfo`]), the experiment's details, targets, measurements),
//! `timing.json` and `manifest.json`, and commits the folder in one step.
//! [`crate::aggregate`] summarises the seeds of a multi-seed run;
//! [`crate::jobs`] runs seeds as separate processes, side by side; and
//! [`crate::report`] reads the folders back.

use crate::common::{ResultsDir, RunInfo, Target};
use crate::experiment::{Experiment, SeedContext};
use crate::record::SeedMetrics;
use crate::{ExperimentError, RunOptions, RunOutcome};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// A measured number without a target.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Measurement {
    /// What is measured.
    pub what: String,
    /// The value (written as `null` when not a number).
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub measured: f64,
}

impl Measurement {
    /// A measurement.
    pub fn new(what: &str, measured: f64) -> Self {
        Self {
            what: what.to_string(),
            measured,
        }
    }
}

/// Runs one seed of experiment `E` with `config` (the seed, device and
/// folder from `opts`): stages the folder, runs [`Experiment::run_seed`],
/// writes `metrics.json` ([`SeedMetrics`]: run facts, the experiment's
/// details, targets, measurements) and `timing.json`, then puts the folder
/// in place whole. On any error the previous folder is untouched.
pub fn run<E: Experiment>(
    config: &E::Config,
    opts: &RunOptions,
) -> Result<RunOutcome, ExperimentError> {
    let started = Instant::now();
    let mut out = ResultsDir::prepare(opts, E::NAME)?;
    let mut ctx = SeedContext::new(opts, &mut out)?;
    let device = ctx.device;
    let outcome = E::run_seed(config, &mut ctx)?;
    let run_id = new_run_id(E::NAME, opts.seed);
    let targets = E::targets(&outcome.details).unwrap_or(outcome.targets);
    let measurements = E::measurements(&outcome.details).unwrap_or(outcome.measurements);
    let metrics = SeedMetrics {
        info: RunInfo::new(E::NAME, opts, device),
        run_id: Some(run_id.clone()),
        details: outcome.details,
        targets,
        measurements,
    };
    out.write_json("metrics.json", &metrics)?;
    let mut times: BTreeMap<String, f64> = outcome.timing.into_iter().collect();
    times.insert("total".into(), started.elapsed().as_secs_f64());
    out.write_json("timing.json", &times)?;
    out.write_manifest(&run_id)?;
    let targets_met = metrics.targets.iter().all(|t| t.pass);
    let mut headline: Vec<String> = metrics.targets.iter().map(Target::line).collect();
    headline.extend(outcome.headline);
    out.commit(headline, targets_met)
}

/// A run id unique to this run: experiment, seed, start time and process.
fn new_run_id(name: &str, seed: u64) -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{name}-seed{seed}-{ms}-{}", std::process::id())
}
