//! The files a run and a summary write, as types: `metrics.json` of one
//! seed ([`SeedMetrics`]) and of a summary over seeds ([`Summary`]).
//!
//! Only this boundary knows JSON: the runner writes these types, the
//! summary and the report read them back through the same types, and a
//! file that does not fit is an error naming it.

use crate::common::{RunInfo, Target};
use crate::runner::Measurement;
use crate::target::{TargetKind, Verdict};
use crate::ExperimentError;
use seqlab_metrics::RangePosition;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One seed's `metrics.json`: run facts, the experiment's details, targets
/// and numbers without a target. The keys are written sorted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedMetrics<D> {
    /// Experiment, profile, seed, device, libtorch, threads, `--epochs`, seed set.
    #[serde(flatten)]
    pub info: RunInfo,
    /// This run's id (also in `manifest.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The experiment's own part.
    #[serde(flatten)]
    pub details: D,
    /// Numbers compared with the sources.
    pub targets: Vec<Target>,
    /// Numbers without a target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measurements: Vec<Measurement>,
}

/// Details of an experiment one does not know: every key is skipped. The
/// generic layer reads run facts and targets through `SeedMetrics<Unknown>`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Unknown {}

/// One setting of a run, as the report's settings table prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// Its name.
    pub name: String,
    /// Its value, printed.
    pub value: String,
}

impl Setting {
    /// A setting.
    pub fn new(name: impl Into<String>, value: impl std::fmt::Display) -> Self {
        Self {
            name: name.into(),
            value: value.to_string(),
        }
    }
}

/// The settings of a plain settings struct, one per field in field order
/// (strings as they are, other values as compact JSON: `[128,128]`).
pub fn settings_of<T: Serialize>(settings: &T) -> Vec<Setting> {
    let fields = match serde_json::to_value(settings) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => return Vec::new(),
    };
    fields
        .into_iter()
        .map(|(name, v)| match v {
            serde_json::Value::String(s) => Setting { name, value: s },
            other => Setting {
                name,
                value: other.to_string(),
            },
        })
        .collect()
}

/// Reads a JSON file into `T`: a missing file, invalid JSON, or JSON of
/// another shape is an error naming the file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| ExperimentError::Saved {
        path: path.to_path_buf(),
        message: if e.is_syntax() || e.is_eof() {
            format!("not valid JSON: {e}")
        } else {
            format!("not the results seqlab writes: {e}")
        },
    })
}

/// Pretty JSON with sorted keys and a final newline, as every results file.
pub fn to_json_text<T: Serialize>(value: &T, what: &str) -> Result<String, ExperimentError> {
    let value = serde_json::to_value(value).map_err(|e| ExperimentError::Serialise {
        what: what.to_string(),
        message: e.to_string(),
    })?;
    let mut text =
        serde_json::to_string_pretty(&value).map_err(|e| ExperimentError::Serialise {
            what: what.to_string(),
            message: e.to_string(),
        })?;
    text.push('\n');
    Ok(text)
}

/// `measured` written as `null` (JSON has no NaN) reads back as NaN.
pub(crate) fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A number's spread over seeds (absent where a seed lacks a finite value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// 95% confidence interval for the mean (none for one seed).
    pub ci95: Option<[f64; 2]>,
}

/// One target summarised over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSummary {
    /// What is measured.
    pub what: String,
    /// The source's number, as published.
    pub published: String,
    /// The published number as a value, where the source gives one.
    pub published_value: Option<f64>,
    /// Accepted range, in words.
    pub expected: String,
    /// Lower end of the accepted range.
    pub lo: Option<f64>,
    /// Upper end of the accepted range.
    pub hi: Option<f64>,
    /// Per-seed values (seed as text: JSON keys are strings).
    pub values: std::collections::BTreeMap<String, Option<f64>>,
    /// Seeds whose own value is in the accepted range.
    pub seeds_passing: usize,
    /// Values summarised.
    pub n: usize,
    /// Mean, sd, range and interval, where every seed has a finite value.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<Spread>,
    /// Where the published value falls relative to the seeds' range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_position: Option<RangePosition>,
    /// A published comparison or seqlab's own goal.
    pub kind: TargetKind,
    /// Where the source prints the published number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The range the measure can take (the interval is clipped to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds: Option<[f64; 2]>,
    /// The seeds split into two groups: the interval is not meaningful.
    #[serde(default)]
    pub split: bool,
    /// A published comparison's verdict (see [`crate::target`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Whether the mean is in the accepted range (for a published
    /// comparison: whether the verdict is `consistent`).
    pub pass: bool,
    /// Why there is no spread (a seed without a finite value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One number without a target summarised over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementSummary {
    /// What is measured.
    pub what: String,
    /// Per-seed values.
    pub values: std::collections::BTreeMap<String, Option<f64>>,
    /// Values summarised.
    pub n: usize,
    /// Mean, sd, range and interval, where every seed has a finite value.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<Spread>,
    /// Why there is no spread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A setting over seeds: one value, or one per seed where they differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingSummary {
    /// Its name.
    pub name: String,
    /// The value every seed shares (absent where they differ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Seed -> value, where the seeds differ.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub by_seed: std::collections::BTreeMap<String, String>,
}

/// The epochs one training run took, per seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochsSummary {
    /// The training run.
    pub run: String,
    /// Seed -> epochs.
    pub by_seed: std::collections::BTreeMap<String, usize>,
}

/// The run facts every seed of a summary shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedFacts {
    /// Experiment name.
    pub experiment: String,
    /// `full` or `quick`.
    pub profile: String,
    /// Device used.
    pub device: String,
    /// libtorch version.
    pub libtorch: String,
    /// Intra-op CPU threads.
    pub threads: i32,
    /// `--epochs`, when given.
    pub epochs_override: Option<usize>,
    /// The CPU models the seeds ran on (where recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<String>,
}

/// A summary's `metrics.json`: the seeds' shared facts, settings, every
/// target and measurement over seeds, and what the experiment adds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Facts every seed shares (those of the first seed where mixed).
    #[serde(flatten)]
    pub facts: SharedFacts,
    /// The settings, shared or per seed.
    pub settings: Vec<SettingSummary>,
    /// Seeds summarised.
    pub seeds: Vec<u64>,
    /// Seeds planned (every seed's seed set and the present ones).
    pub seed_set: Vec<u64>,
    /// Seeds planned without a folder.
    pub missing_seeds: Vec<u64>,
    /// Seed folders left out, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seed_problems: Vec<String>,
    /// Differences of run facts merged anyway (`--allow-mixed-settings`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mixed_settings: Vec<String>,
    /// How the interval is computed.
    pub interval: String,
    /// How a verdict is reached.
    pub verdict_rule: String,
    /// Targets over seeds.
    pub targets: Vec<TargetSummary>,
    /// Numbers without a target over seeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measurements: Vec<MeasurementSummary>,
    /// The epochs each training run took, per seed.
    #[serde(default)]
    pub epochs: Vec<EpochsSummary>,
    /// The experiment's own numbers over seeds (see [`crate::aggregate::SummaryExtra`]).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    /// Files the experiment's summary wrote (plots over seeds).
    pub extra_files: Vec<String>,
    /// Its paragraphs for the report.
    pub report_paragraphs: Vec<String>,
}

/// What the report asks of an experiment's details.
#[derive(Debug, Clone, Copy)]
pub struct SeedParts<D> {
    /// Its targets, recomputed from the details where it can.
    pub targets: fn(&D) -> Option<Vec<crate::common::Target>>,
    /// Its numbers without a target, recomputed from the details where it can.
    pub measurements: fn(&D) -> Option<Vec<Measurement>>,
    /// Its settings.
    pub settings: fn(&D) -> Vec<Setting>,
    /// The epochs of each training run.
    pub epochs: fn(&D) -> Vec<(String, usize)>,
    /// Sentences with the run's numbers.
    pub notes: fn(&D) -> Vec<String>,
}

/// One seed's folder as the report reads it: the run facts, targets and
/// measurements, with the settings and epochs the experiment's own types
/// give (see [`crate::Registered::seed_view`]).
#[derive(Debug, Clone)]
pub struct SeedView {
    /// Its `metrics.json` without the experiment's details.
    pub metrics: SeedMetrics<Unknown>,
    /// The settings the run used.
    pub settings: Vec<Setting>,
    /// The epochs each training run took.
    pub epochs: Vec<(String, usize)>,
    /// Sentences about the run that carry its numbers.
    pub notes: Vec<String>,
}

impl SeedView {
    /// Reads `<dir>/metrics.json` through `D` and keeps what the report shows.
    pub fn read<D: DeserializeOwned>(
        dir: &Path,
        parts: SeedParts<D>,
    ) -> Result<Self, crate::ExperimentError> {
        let m: SeedMetrics<D> = read_json(&dir.join("metrics.json"))?;
        let targets = (parts.targets)(&m.details).unwrap_or(m.targets);
        let measurements = (parts.measurements)(&m.details).unwrap_or(m.measurements);
        Ok(Self {
            settings: (parts.settings)(&m.details),
            epochs: (parts.epochs)(&m.details),
            notes: (parts.notes)(&m.details),
            metrics: SeedMetrics {
                info: m.info,
                run_id: m.run_id,
                details: Unknown {},
                targets,
                measurements,
            },
        })
    }
}
