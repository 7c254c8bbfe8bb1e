//! The one shape every experiment has from the outside.
//!
//! An experiment module supplies only what is specific to it: a config with
//! `full()` and `quick()` profiles and a per-seed function
//! ([`SeedRun`]) that trains and evaluates for one seed, writes its own
//! artefacts (histories, plots, model files) into the staged folder it is
//! handed, and returns a typed [`SeedOutcome`]: the measured values with
//! their targets, the experiment's own details and its wall times.
//!
//! Everything else is generic and lives here and in [`crate::aggregate`]:
//! [`run_into`] stages the folder, adds the run facts ([`RunInfo`]) and the
//! targets to `metrics.json`, writes `timing.json` and commits the folder in
//! one step; [`crate::aggregate`] summarises the seeds of a multi-seed run;
//! [`crate::jobs`] runs seeds as separate processes, side by side; and
//! [`crate::report`] reads the folders back.

use crate::common::{ResultsDir, RunInfo, Target};
use crate::experiment::{Experiment, SeedContext};
use crate::record::SeedMetrics;
use crate::{ExperimentError, RunOptions, RunOutcome};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Instant;
use tch::Device;

/// What one seed of an experiment measured, before the generic layer writes it.
#[derive(Debug, Clone)]
pub struct SeedOutcome {
    /// Device the seed ran on.
    pub device: Device,
    /// Published numbers with the measured values and the accepted ranges.
    pub targets: Vec<Target>,
    /// The experiment's own part of `metrics.json` (settings, per-run
    /// numbers, notes): a JSON object whose keys join the run facts.
    pub details: Value,
    /// Numbers without a target (a finding to report with its spread over
    /// seeds, not a verdict): `metrics.json` lists them under `measurements`.
    pub measurements: Vec<Measurement>,
    /// Wall times in seconds by part (`timing.json` adds the `total`).
    pub timing: Vec<(String, f64)>,
    /// Terminal lines after the target lines.
    pub headline: Vec<String>,
}

impl SeedOutcome {
    /// An outcome whose details are `details` serialised (it must serialise to an object).
    pub fn new(
        device: Device,
        targets: Vec<Target>,
        details: &impl Serialize,
    ) -> Result<Self, ExperimentError> {
        let details = serde_json::to_value(details).map_err(|e| {
            ExperimentError::InvalidOption(format!("cannot serialise metrics: {e}"))
        })?;
        Ok(Self {
            device,
            targets,
            details,
            measurements: Vec::new(),
            timing: Vec::new(),
            headline: Vec::new(),
        })
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

/// An experiment's per-seed function: runs the profile `opts` asks for with
/// `opts.seed`, writes its artefacts into `out` and returns its outcome.
pub type SeedRun = fn(&RunOptions, &mut ResultsDir) -> Result<SeedOutcome, ExperimentError>;

/// Runs one seed of experiment `name` into [`RunOptions::out_dir`]:
/// stages the folder, calls `seed_run`, writes `metrics.json` (run facts,
/// the experiment's details, the targets) and `timing.json`, then puts the
/// folder in place whole. On any error the previous folder is untouched.
pub fn run_into(
    name: &str,
    opts: &RunOptions,
    seed_run: impl FnOnce(&mut ResultsDir) -> Result<SeedOutcome, ExperimentError>,
) -> Result<RunOutcome, ExperimentError> {
    let started = Instant::now();
    let mut out = ResultsDir::prepare(opts, name)?;
    let outcome = seed_run(&mut out)?;
    let run_id = new_run_id(name, opts.seed);
    let mut metrics = match serde_json::to_value(RunInfo::new(name, opts, outcome.device)) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    metrics.insert("run_id".into(), Value::String(run_id.clone()));
    match outcome.details {
        Value::Object(details) => metrics.extend(details),
        Value::Null => {}
        other => {
            metrics.insert("details".into(), other);
        }
    }
    metrics.insert(
        "targets".into(),
        serde_json::to_value(&outcome.targets).unwrap_or(Value::Null),
    );
    if !outcome.measurements.is_empty() {
        metrics.insert(
            "measurements".into(),
            serde_json::to_value(&outcome.measurements).unwrap_or(Value::Null),
        );
    }
    out.write_json("metrics.json", &metrics)?;
    let mut times: BTreeMap<String, f64> = outcome.timing.into_iter().collect();
    times.insert("total".into(), started.elapsed().as_secs_f64());
    out.write_json("timing.json", &times)?;
    out.write_manifest(&run_id)?;
    let targets_met = outcome.targets.iter().all(|t| t.pass);
    let mut headline: Vec<String> = outcome.targets.iter().map(Target::line).collect();
    headline.extend(outcome.headline);
    out.commit(headline, targets_met)
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
