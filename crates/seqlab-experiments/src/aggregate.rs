//! Several seeds of one experiment, summarised.
//!
//! A multi-seed run writes one folder per seed,
//! `<results>/<experiment>/seeds/<seed>/`, each a complete single-seed
//! result (written by [`crate::runner`]). [`aggregate`] reads whatever seed
//! folders exist, through the experiment's own types
//! ([`SeedMetrics`](crate::record::SeedMetrics)`<E::Details>`), and writes beside `seeds/` the
//! [`Summary`] (`metrics.json`):
//!
//! - the run facts the seeds share, the seeds present and missing, the
//!   settings (shared, or per seed where a seeded sample sets them), and
//!   the epochs each training run took per seed;
//! - for every target the per-seed values with their mean, sample standard
//!   deviation, minimum, maximum and a 95% confidence interval for the mean
//!   (Student's t with n - 1 degrees of freedom). The verdict is the
//!   accepted range applied to the **mean**; the number of seeds that pass
//!   alone is recorded too, and so is where the published number falls
//!   relative to the seeds' range (below, inside, above);
//! - what the experiment's [`Experiment::summarise`] adds: plots over
//!   seeds, paired comparisons, its own numbers and report paragraphs.
//!
//! The seeds must agree on the profile, device, libtorch, thread count and
//! `--epochs`; a folder that disagrees, or whose `metrics.json` cannot be
//! read, is an error that names it.

use crate::common::{fmt_number, RunInfo, Target};
use crate::experiment::{Experiment, SummaryContext};
use crate::record::{
    to_json_text, EpochsSummary, MeasurementSummary, Setting, SettingSummary, SharedFacts, Spread,
    Summary, TargetSummary,
};
use crate::runner::Measurement;
use crate::target::{clip, splits, TargetKind, Verdict};
use crate::ExperimentError;
use seqlab_metrics::SeedSpread;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use crate::seeds::{
    load_seeds, scan_seed_folders, seed_folders, SeedResult, SeedScan, SEEDS_DIR,
};

/// How the interval is computed, as `metrics.json` and the report say it.
pub const INTERVAL_METHOD: &str =
    "95% confidence interval for the mean: mean ± t(0.975, n-1) · sd / √n (Student's t)";

/// How a target's verdict over seeds is reached.
pub const VERDICT_RULE: &str = "a published number is judged against the seeds' 95% interval for the mean (clipped to the range the measure can take; the seeds' range where they split into two groups), allowing the published number's own rounding: consistent when inside, above or below when the whole interval is; one of seqlab's own goals passes when the mean over seeds is in its accepted range";

/// What an experiment adds to the summary of its seeds.
#[derive(Debug, Clone, Default)]
pub struct SummaryExtra {
    /// Files written into the experiment's folder (names relative to it).
    pub files: Vec<String>,
    /// Targets over seeds besides the seeds' own (paired comparisons).
    pub targets: Vec<TargetSummary>,
    /// Numbers without a target over seeds besides the seeds' own.
    pub measurements: Vec<MeasurementSummary>,
    /// Markdown paragraphs for the report, after the targets table.
    pub report: Vec<String>,
    /// The experiment's own numbers over seeds (its typed summary, serialised).
    pub details: serde_json::Value,
}

/// One point of a summarised curve: `(x, mean, min, max)` over seeds.
pub type SpreadPoint = (usize, f64, f64, f64);

/// Values of several named series at integer positions (for example test
/// accuracy per cell and sequence length), collected over seeds.
#[derive(Debug, Clone, Default)]
pub struct Summaries {
    order: Vec<String>,
    values: BTreeMap<(String, usize), Vec<f64>>,
}

impl Summaries {
    /// Adds one seed's value of `series` at `x`.
    pub fn push(&mut self, series: &str, x: usize, value: f64) {
        if !self.order.iter().any(|s| s == series) {
            self.order.push(series.to_string());
        }
        self.values
            .entry((series.to_string(), x))
            .or_default()
            .push(value);
    }

    /// Per series (in first-seen order): `(x, mean, min, max)` by increasing `x`.
    pub fn curves(&self) -> Vec<(String, Vec<SpreadPoint>)> {
        self.order
            .iter()
            .map(|name| {
                let points = self
                    .values
                    .iter()
                    .filter(|((s, _), _)| s == name)
                    .map(|((_, x), v)| {
                        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
                        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
                        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        (*x, mean, min, max)
                    })
                    .collect();
                (name.clone(), points)
            })
            .collect()
    }

    /// How many values `series` has at `x`.
    pub fn count(&self, series: &str, x: usize) -> usize {
        self.values
            .get(&(series.to_string(), x))
            .map_or(0, Vec::len)
    }
}

/// The run facts of a seed that every other seed must share.
fn shared_facts(info: &RunInfo) -> SharedFacts {
    SharedFacts {
        experiment: info.experiment.clone(),
        profile: info.profile.clone(),
        device: info.device.clone(),
        libtorch: info.libtorch.clone(),
        threads: info.threads,
        epochs_override: info.epochs_override,
        cpus: info.cpu.iter().cloned().collect(),
    }
}

/// The shared facts by name, printed, for messages.
fn facts_by_name(f: &SharedFacts) -> [(&'static str, String); 6] {
    [
        ("experiment", format!("{:?}", f.experiment)),
        ("profile", format!("{:?}", f.profile)),
        ("device", format!("{:?}", f.device)),
        ("libtorch", format!("{:?}", f.libtorch)),
        ("threads", f.threads.to_string()),
        (
            "epochs_override",
            f.epochs_override
                .map_or_else(|| "none".to_string(), |e| e.to_string()),
        ),
    ]
}

/// The seeds' shared run facts that differ from the first seed's: one line
/// each, naming the folder and the field.
fn differing_settings<D>(seeds: &[SeedResult<D>]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Some(first) = seeds.first() else {
        return out;
    };
    let base = facts_by_name(&shared_facts(&first.metrics.info));
    for s in &seeds[1..] {
        let mine = facts_by_name(&shared_facts(&s.metrics.info));
        for ((key, theirs), (_, value)) in base.iter().zip(mine.iter()) {
            if theirs != value {
                out.push((
                    s.dir.join("metrics.json"),
                    format!(
                        "its {key} ({value}) differs from seed {}'s ({theirs})",
                        first.seed
                    ),
                ));
            }
        }
    }
    out
}

/// The seeds with a folder, the seeds planned (every seed's `seed_set`
/// and the present ones) and those planned without a folder.
fn seeds_present_planned_missing<D>(
    seeds: &[SeedResult<D>],
) -> (Vec<u64>, BTreeSet<u64>, Vec<u64>) {
    let present: Vec<u64> = seeds.iter().map(|s| s.seed).collect();
    let planned: BTreeSet<u64> = seeds
        .iter()
        .flat_map(|s| s.metrics.info.seed_set.clone().unwrap_or_default())
        .chain(present.iter().copied())
        .collect();
    let missing = planned
        .iter()
        .copied()
        .filter(|s| !present.contains(s))
        .collect();
    (present, planned, missing)
}

/// Settings over seeds: one value where every seed agrees, else one per seed.
fn settings_summary(per_seed: &[(u64, Vec<Setting>)]) -> Vec<SettingSummary> {
    let mut names: Vec<String> = Vec::new();
    for (_, settings) in per_seed {
        for s in settings {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let values: BTreeMap<String, String> = per_seed
                .iter()
                .map(|(seed, settings)| {
                    let value = settings
                        .iter()
                        .find(|s| s.name == name)
                        .map(|s| s.value.clone());
                    (seed.to_string(), value.unwrap_or_else(|| "-".into()))
                })
                .collect();
            let distinct: BTreeSet<&String> = values.values().collect();
            match (distinct.len(), distinct.first()) {
                (1, Some(v)) => SettingSummary {
                    name,
                    value: Some((*v).clone()),
                    by_seed: BTreeMap::new(),
                },
                _ => SettingSummary {
                    name,
                    value: None,
                    by_seed: values,
                },
            }
        })
        .collect()
}

/// Epochs per training run over seeds, in the first seed's order of runs.
fn epochs_summary(per_seed: &[(u64, Vec<(String, usize)>)]) -> Vec<EpochsSummary> {
    let mut out: Vec<EpochsSummary> = Vec::new();
    for (seed, runs) in per_seed {
        for (run, epochs) in runs {
            let i = match out.iter().position(|e| &e.run == run) {
                Some(i) => i,
                None => {
                    out.push(EpochsSummary {
                        run: run.clone(),
                        by_seed: BTreeMap::new(),
                    });
                    out.len() - 1
                }
            };
            out[i].by_seed.insert(seed.to_string(), *epochs);
        }
    }
    out
}

/// Mean, sd, range and interval of values that are all finite; else why not,
/// naming the seed.
fn spread_of(values: &[(u64, f64)]) -> Result<(usize, Spread, SeedSpread), String> {
    let numbers: Vec<f64> = values.iter().map(|(_, v)| *v).collect();
    match SeedSpread::of(&numbers) {
        Ok(s) => Ok((
            s.n,
            Spread {
                mean: s.mean,
                sd: s.sd,
                min: s.min,
                max: s.max,
                ci95: s.ci95,
            },
            s,
        )),
        Err(seqlab_metrics::MetricsError::NonFinite { index, value, .. }) => {
            let seed = values.get(index).map_or(0, |(s, _)| *s);
            Err(format!(
                "seed {seed}'s value is {value}, not a finite number (seeds/{seed}/metrics.json)"
            ))
        }
        Err(other) => Err(other.to_string()),
    }
}

fn value_map(values: &[(u64, f64)]) -> BTreeMap<String, Option<f64>> {
    values
        .iter()
        .map(|(seed, v)| (seed.to_string(), v.is_finite().then_some(*v)))
        .collect()
}

/// The seeds' values where a seed has the item, and the seeds without it.
fn present_and_absent<T>(
    per_seed: &[(u64, Option<&T>)],
    value: fn(&T) -> f64,
) -> (Vec<(u64, f64)>, Vec<u64>) {
    let values = per_seed
        .iter()
        .filter_map(|(seed, t)| t.map(|t| (*seed, value(t))))
        .collect();
    let absent = per_seed
        .iter()
        .filter(|(_, t)| t.is_none())
        .map(|(s, _)| *s)
        .collect();
    (values, absent)
}

/// One target over seeds: `first` describes it (what, published, range);
/// `per_seed` holds each seed's own target of the same `what`, or `None`
/// where a seed lacks it (then there is no spread, and the summary says so).
pub fn summarise_target(first: &Target, per_seed: &[(u64, Option<&Target>)]) -> TargetSummary {
    let (values, absent) = present_and_absent(per_seed, |t| t.measured);
    let mut out = TargetSummary {
        what: first.what.clone(),
        published: first.published.clone(),
        published_value: first.published_value,
        expected: first.expected.clone(),
        lo: first.lo,
        hi: first.hi,
        values: value_map(&values),
        seeds_passing: per_seed
            .iter()
            .filter(|(_, t)| t.is_some_and(|t| t.pass))
            .count(),
        n: values.len(),
        spread: None,
        published_position: None,
        kind: first.kind(),
        source: first.source.clone(),
        bounds: first.bounds,
        split: false,
        verdict: None,
        pass: false,
        problem: None,
    };
    if !absent.is_empty() {
        out.problem = Some(format!("no value at seeds {absent:?}"));
        return out;
    }
    match spread_of(&values) {
        Ok((n, mut spread, s)) => {
            out.n = n;
            spread.ci95 = spread.ci95.map(|ci| clip(ci, first.bounds));
            let numbers: Vec<f64> = values.iter().map(|(_, v)| *v).collect();
            out.split = splits(&numbers, first.bounds);
            out.published_position = first.published_value.map(|p| s.position_of(p));
            out.verdict = match (out.kind, first.published_value) {
                (TargetKind::Published, Some(p)) => Some(Verdict::of(
                    p,
                    match spread.ci95 {
                        Some(ci) if !out.split => ci,
                        _ => [spread.min, spread.max],
                    },
                )),
                _ => None,
            };
            out.pass = match out.verdict {
                Some(v) => v == Verdict::Consistent,
                None => first.range_contains(spread.mean),
            };
            out.spread = Some(spread);
        }
        Err(problem) => out.problem = Some(problem),
    }
    out
}

/// A target over seeds from one target per seed (a paired comparison
/// computed by an experiment's summary); `None` for no seeds.
pub fn summarise_targets(per_seed: &[(u64, Target)]) -> Option<TargetSummary> {
    let first = &per_seed.first()?.1;
    let refs: Vec<(u64, Option<&Target>)> = per_seed.iter().map(|(s, t)| (*s, Some(t))).collect();
    Some(summarise_target(first, &refs))
}

/// One number without a target over seeds (see [`summarise_target`]).
pub fn summarise_measurement(
    first: &Measurement,
    per_seed: &[(u64, Option<&Measurement>)],
) -> MeasurementSummary {
    let (values, absent) = present_and_absent(per_seed, |m| m.measured);
    let mut out = MeasurementSummary {
        what: first.what.clone(),
        values: value_map(&values),
        n: values.len(),
        spread: None,
        problem: None,
    };
    if !absent.is_empty() {
        out.problem = Some(format!("no value at seeds {absent:?}"));
        return out;
    }
    match spread_of(&values) {
        Ok((n, spread, _)) => {
            out.n = n;
            out.spread = Some(spread);
        }
        Err(problem) => out.problem = Some(problem),
    }
    out
}

/// The `i`-th item of a seed's list, or the one of the same `what`.
fn same_item<'a, T>(
    list: &'a [T],
    index: usize,
    what: &str,
    what_of: fn(&T) -> &str,
) -> Option<&'a T> {
    list.iter()
        .find(|t| what_of(t) == what)
        .or(list.get(index))
        .filter(|t| what_of(t) == what)
}

/// Every target and measurement of the first seed, over all seeds.
fn targets_over_seeds<D>(seeds: &[SeedResult<D>]) -> (Vec<TargetSummary>, Vec<MeasurementSummary>) {
    let Some(first) = seeds.first() else {
        return (Vec::new(), Vec::new());
    };
    let targets = first
        .metrics
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let per_seed: Vec<(u64, Option<&Target>)> = seeds
                .iter()
                .map(|s| {
                    (
                        s.seed,
                        same_item(&s.metrics.targets, i, &t.what, |t| &t.what),
                    )
                })
                .collect();
            summarise_target(t, &per_seed)
        })
        .collect();
    let measurements = first
        .metrics
        .measurements
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let per_seed: Vec<(u64, Option<&Measurement>)> = seeds
                .iter()
                .map(|s| {
                    (
                        s.seed,
                        same_item(&s.metrics.measurements, i, &m.what, |m| &m.what),
                    )
                })
                .collect();
            summarise_measurement(m, &per_seed)
        })
        .collect();
    (targets, measurements)
}

/// One run per folder: what an earlier single-seed run left at the top of
/// `experiment_dir` goes (not the summary, its `files`, `seeds/`, lock
/// files or the temporaries of runs in progress).
fn remove_other_files(experiment_dir: &Path, files: &[String]) {
    let keep: BTreeSet<String> = files
        .iter()
        .cloned()
        .chain(["metrics.json".to_string(), SEEDS_DIR.to_string()])
        .collect();
    if let Ok(entries) = std::fs::read_dir(experiment_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let lock_file = name.starts_with('.') && name.ends_with(".lock");
            if !keep.contains(&name) && !name.starts_with(seqlab_io::TEMP_PREFIX) && !lock_file {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}

/// The summary of whatever seeds of `E` exist under `results_dir`: writes
/// its `metrics.json` (and the files of [`Experiment::summarise`]) into
/// `<results_dir>/<name>/` and returns it; `None` where no seed folder
/// exists. Top-level files that neither the summary nor the experiment
/// wrote (left by an earlier single-seed run into the same folder) are
/// removed, so the folder holds one run's results.
///
/// It holds the experiment folder's lock while it works, so it fails with
/// [`seqlab_io::IoError::Locked`] while a run writes there. Seeds whose run
/// facts differ (profile, device, libtorch, threads, `--epochs`) are
/// refused, naming the field, unless `allow_mixed`: then they are merged
/// and each difference is listed under `mixed_settings`.
pub fn aggregate<E: Experiment>(
    results_dir: &Path,
    allow_mixed: bool,
) -> Result<Option<Summary>, ExperimentError> {
    let dir = results_dir.join(E::NAME);
    let how = SummaryOf {
        targets: E::targets,
        measurements: E::measurements,
        settings: E::settings,
        epochs: E::epochs,
        extra: |seeds: &[SeedResult<E::Details>]| {
            E::summarise(
                seeds,
                SummaryContext {
                    dir: &dir,
                    results_dir,
                },
            )
        },
    };
    summarise(&dir, allow_mixed, how)
}

/// What the generic summary needs from the experiment.
pub(crate) struct SummaryOf<D, F> {
    pub(crate) targets: fn(&D) -> Option<Vec<Target>>,
    pub(crate) measurements: fn(&D) -> Option<Vec<Measurement>>,
    pub(crate) settings: fn(&D) -> Vec<Setting>,
    pub(crate) epochs: fn(&D) -> Vec<(String, usize)>,
    pub(crate) extra: F,
}

/// Each seed's recorded numbers judged by this version's targets (and its
/// measurements recomputed), where the experiment derives them from its details.
fn rejudge<D, F>(seeds: &mut [SeedResult<D>], how: &SummaryOf<D, F>) {
    for s in seeds {
        if let Some(targets) = (how.targets)(&s.metrics.details) {
            s.metrics.targets = targets;
        }
        if let Some(measurements) = (how.measurements)(&s.metrics.details) {
            s.metrics.measurements = measurements;
        }
    }
}

/// The first seed's run facts, with the CPU models of all seeds.
fn facts_of<D>(first: &SeedResult<D>, seeds: &[SeedResult<D>]) -> SharedFacts {
    let mut facts = shared_facts(&first.metrics.info);
    facts.cpus = seeds
        .iter()
        .filter_map(|s| s.metrics.info.cpu.clone())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    facts
}

pub(crate) fn summarise<D, F>(
    experiment_dir: &Path,
    allow_mixed: bool,
    how: SummaryOf<D, F>,
) -> Result<Option<Summary>, ExperimentError>
where
    D: DeserializeOwned,
    F: FnOnce(&[SeedResult<D>]) -> Result<SummaryExtra, ExperimentError>,
{
    if !experiment_dir.join(SEEDS_DIR).is_dir() {
        return Ok(None);
    }
    let _lock = seqlab_io::DirLock::acquire(experiment_dir)?;
    let scan = scan_seed_folders::<D>(experiment_dir)?;
    let mut seeds = scan.folders;
    rejudge(&mut seeds, &how);
    let Some(first) = seeds.first() else {
        return Ok(None);
    };
    let mixed = differing_settings(&seeds);
    if let (false, Some((path, what))) = (allow_mixed, mixed.first()) {
        return Err(ExperimentError::Saved {
            path: path.clone(),
            message: format!(
                "{what}: the seeds of one experiment must differ in the seed alone; rerun or remove that folder (or merge them anyway: seqlab report --allow-mixed-settings)"
            ),
        });
    }
    let (present, planned, missing) = seeds_present_planned_missing(&seeds);
    let (mut targets, mut measurements) = targets_over_seeds(&seeds);
    let settings: Vec<(u64, Vec<Setting>)> = seeds
        .iter()
        .map(|s| (s.seed, (how.settings)(&s.metrics.details)))
        .collect();
    let epochs: Vec<(u64, Vec<(String, usize)>)> = seeds
        .iter()
        .map(|s| (s.seed, (how.epochs)(&s.metrics.details)))
        .collect();
    let extra = (how.extra)(&seeds)?;
    targets.extend(extra.targets);
    measurements.extend(extra.measurements);
    let summary = Summary {
        facts: facts_of(first, &seeds),
        settings: settings_summary(&settings),
        seeds: present,
        seed_set: planned.into_iter().collect(),
        missing_seeds: missing,
        seed_problems: scan.problems,
        mixed_settings: mixed
            .iter()
            .map(|(path, what)| format!("{}: {what}", path.display()))
            .collect(),
        interval: INTERVAL_METHOD.to_string(),
        verdict_rule: VERDICT_RULE.to_string(),
        targets,
        measurements,
        epochs: epochs_summary(&epochs),
        details: extra.details,
        extra_files: extra.files.clone(),
        report_paragraphs: extra.report,
    };
    let text = to_json_text(&summary, "the summary's metrics.json")?;
    seqlab_io::write_atomic(experiment_dir.join("metrics.json"), text.as_bytes())?;
    remove_other_files(experiment_dir, &extra.files);
    Ok(Some(summary))
}

/// Terminal lines for a summary: one per target, judged on the mean.
pub fn headline(summary: &Summary) -> Vec<String> {
    let mut lines: Vec<String> = summary.targets.iter().map(target_line).collect();
    for p in summary.seed_problems.iter().chain(&summary.mixed_settings) {
        lines.push(format!("WARNING {p}"));
    }
    if !summary.missing_seeds.is_empty() {
        let list: Vec<String> = summary.missing_seeds.iter().map(u64::to_string).collect();
        lines.push(format!(
            "missing seeds (no folder yet): {}",
            list.join(", ")
        ));
    }
    lines
}

fn target_line(t: &TargetSummary) -> String {
    let mark = match t.verdict {
        Some(v) => v.name().to_uppercase(),
        None if t.pass => "PASS".into(),
        None => "MISS".into(),
    };
    match &t.spread {
        Some(s) => format!(
            "{mark} {}: mean {} ± {} over {} seeds, range [{}, {}] (expected {}; published {})",
            t.what,
            fmt_number(s.mean),
            fmt_number(s.sd),
            t.n,
            fmt_number(s.min),
            fmt_number(s.max),
            t.expected,
            t.published,
        ),
        None => format!(
            "{mark} {}: {}",
            t.what,
            t.problem.as_deref().unwrap_or("no values")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Unknown;
    use serde_json::{json, Value};

    /// An experiment with no details, for the generic summary.
    struct Demo;

    impl Experiment for Demo {
        type Config = ();
        type Details = Unknown;
        const NAME: &'static str = "demo";
        const DESCRIPTION: &'static str = "demo";
        const DIFFERENCES: &'static [&'static str] = &[];
        const THREADS: seqlab_train::runtime::ThreadHint =
            seqlab_train::runtime::ThreadHint::Single;
        const FULL_SEEDS: usize = 3;
        fn config(_: bool) {}
        fn run_seed(
            _: &(),
            _: &mut crate::experiment::SeedContext<'_>,
        ) -> Result<crate::experiment::Outcome<Unknown>, ExperimentError> {
            unreachable!("the tests summarise folders written by hand")
        }
        fn settings(_: &Unknown) -> Vec<Setting> {
            Vec::new()
        }
        fn epochs(_: &Unknown) -> Vec<(String, usize)> {
            Vec::new()
        }
    }

    fn seed_dir(root: &Path, seed: u64, measured: f64, set: &[u64]) {
        let dir = root.join(SEEDS_DIR).join(seed.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let m = json!({
            "experiment": "demo", "profile": "full", "device": "cpu", "libtorch": "2.11.0",
            "threads": 1, "settings": {"n": 3}, "seed": seed, "seed_set": set,
            "targets": [{"what": "acc", "published": "about 46%", "published_value": 0.46,
                         "expected": "0.4 to 0.55", "lo": 0.4, "hi": 0.55,
                         "measured": measured, "pass": (0.4..=0.55).contains(&measured)}],
        });
        std::fs::write(dir.join("metrics.json"), m.to_string()).unwrap();
    }

    #[test]
    fn judges_the_mean_and_says_where_the_published_number_falls() {
        let results = std::env::temp_dir().join(format!("seqlab-agg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&results);
        let root = results.join(Demo::NAME);
        // 0.38 misses alone; the mean 0.44 passes.
        for (seed, v) in [(1, 0.38), (2, 0.46), (3, 0.48)] {
            seed_dir(&root, seed, v, &[1, 2, 3, 4]);
        }
        std::fs::write(root.join("stale_single_seed.png"), b"x").unwrap();
        let m = aggregate::<Demo>(&results, false).unwrap().unwrap();
        let t = &m.targets[0];
        assert_eq!(t.n, 3);
        assert!((t.spread.as_ref().unwrap().mean - 0.44).abs() < 1e-12);
        assert!(t.pass);
        assert_eq!(t.seeds_passing, 2);
        assert_eq!(
            t.published_position,
            Some(seqlab_metrics::RangePosition::Inside)
        );
        assert_eq!(t.values["1"], Some(0.38));
        assert_eq!(m.seeds, vec![1, 2, 3]);
        assert_eq!(m.missing_seeds, vec![4]);
        assert!(root.join("metrics.json").is_file());
        assert!(!root.join("stale_single_seed.png").exists());
        let lines = headline(&m);
        // The published 0.46 lies inside the interval: consistent.
        assert!(
            lines[0].starts_with("CONSISTENT acc: mean 0.4400 ± "),
            "{lines:?}"
        );
        assert_eq!(t.verdict, Some(crate::target::Verdict::Consistent));
        assert!(lines[1].contains("missing seeds") && lines[1].contains('4'));

        // A seed run with other settings is refused, naming its folder.
        let odd = root.join(SEEDS_DIR).join("9");
        std::fs::create_dir_all(&odd).unwrap();
        std::fs::write(
            odd.join("metrics.json"),
            json!({"experiment": "demo", "profile": "quick", "device": "cpu", "libtorch": "2.11.0",
                   "threads": 1, "seed": 9, "targets": []})
            .to_string(),
        )
        .unwrap();
        let err = aggregate::<Demo>(&results, false).unwrap_err().to_string();
        assert!(
            err.contains("seeds/9/metrics.json") && err.contains("profile"),
            "{err}"
        );
        std::fs::write(odd.join("metrics.json"), "{ half").unwrap();
        let err = aggregate::<Demo>(&results, false).unwrap_err().to_string();
        assert!(
            err.contains("seeds/9/metrics.json") && err.contains("JSON"),
            "{err}"
        );
        std::fs::remove_dir_all(&results).unwrap();
    }

    fn edit_metrics(dir: &Path, edit: impl FnOnce(&mut Value)) {
        let path = dir.join("metrics.json");
        let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut m);
        std::fs::write(&path, m.to_string()).unwrap();
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for f in std::fs::read_dir(from).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }

    #[test]
    fn a_seed_counts_once_under_its_own_name_and_the_others_are_flagged() {
        let results = std::env::temp_dir().join(format!("seqlab-agg-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&results);
        let root = results.join(Demo::NAME);
        for (seed, v) in [(42, 0.40), (43, 0.50), (44, 0.45)] {
            seed_dir(&root, seed, v, &[42, 43, 44]);
            edit_metrics(&root.join(SEEDS_DIR).join(seed.to_string()), |m| {
                m["run_id"] = json!(format!("run-{seed}"));
            });
        }
        let seeds = root.join(SEEDS_DIR);
        copy_dir(&seeds.join("42"), &seeds.join("042"));
        copy_dir(&seeds.join("43"), &seeds.join("+43"));
        copy_dir(&seeds.join("42"), &seeds.join("47"));
        // A copy whose seed was edited keeps the run id of the run it copies.
        copy_dir(&seeds.join("44"), &seeds.join("48"));
        edit_metrics(&seeds.join("48"), |m| m["seed"] = json!(48));
        std::os::unix::fs::symlink("43", seeds.join("49")).unwrap();
        let demo = crate::register::<Demo>();
        let m = demo.summarise(&results, false).unwrap().unwrap();
        assert_eq!(m.seeds, vec![42, 43, 44]);
        assert_eq!(m.targets[0].n, 3);
        assert!((m.targets[0].spread.as_ref().unwrap().mean - 0.45).abs() < 1e-12);
        let problems = m.seed_problems.join("\n");
        for (folder, why) in [
            ("seeds/042", "not a seed folder name"),
            ("seeds/+43", "not a seed folder name"),
            ("seeds/47", "run of seed 42"),
            ("seeds/48", "run-44"),
            ("seeds/49", "symbolic link"),
        ] {
            assert!(
                problems.contains(&format!("{folder} ")) && problems.contains(why),
                "{folder}: {problems}"
            );
        }
        assert!(headline(&m)
            .iter()
            .any(|l| l.starts_with("WARNING ") && l.contains("seeds/47")));
        let report = crate::report::section(&results, &demo).unwrap();
        assert!(
            report.contains("**seed folders left out or mixed**")
                && report.contains("seeds/042 is not"),
            "{report}"
        );
        std::fs::remove_dir_all(&results).unwrap();
    }

    #[test]
    fn seeds_run_with_other_settings_are_not_merged_unless_asked_and_a_bad_value_names_its_seed() {
        let results = std::env::temp_dir().join(format!("seqlab-agg-mixed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&results);
        let root = results.join(Demo::NAME);
        for (seed, epochs) in [(1, 4), (2, 4), (3, 1)] {
            seed_dir(&root, seed, 0.5, &[1, 2, 3]);
            edit_metrics(&root.join(SEEDS_DIR).join(seed.to_string()), |m| {
                m["epochs_override"] = json!(epochs);
            });
        }
        let err = aggregate::<Demo>(&results, false).unwrap_err().to_string();
        assert!(
            err.contains("seeds/3/metrics.json")
                && err.contains("epochs_override (1) differs from seed 1's (4)")
                && err.contains("--allow-mixed-settings"),
            "{err}"
        );
        assert!(!root.join("metrics.json").exists());
        let m = aggregate::<Demo>(&results, true).unwrap().unwrap();
        assert_eq!(m.targets[0].n, 3);
        assert!(
            m.mixed_settings.join(" ").contains("epochs_override"),
            "{m:?}"
        );
        // A value that is not a number is named by its seed, not by a position.
        edit_metrics(&root.join(SEEDS_DIR).join("2"), |m| {
            m["targets"][0]["measured"] = Value::Null;
        });
        let m = aggregate::<Demo>(&results, true).unwrap().unwrap();
        let problem = m.targets[0].problem.as_deref().unwrap();
        assert!(
            problem.contains("seed 2's value") && !problem.contains("values["),
            "{problem}"
        );
        std::fs::remove_dir_all(&results).unwrap();
    }

    #[test]
    fn summaries_give_mean_and_range_per_position() {
        let mut s = Summaries::default();
        for (v, x) in [(0.5, 12), (0.7, 12), (0.9, 50)] {
            s.push("LSTM", x, v);
        }
        s.push("GRU", 12, 1.0);
        let c = s.curves();
        assert_eq!(c[0].0, "LSTM");
        assert_eq!(c[0].1[0].0, 12);
        assert!((c[0].1[0].1 - 0.6).abs() < 1e-12);
        assert_eq!((c[0].1[0].2, c[0].1[0].3), (0.5, 0.7));
        assert_eq!(c[1].0, "GRU");
        assert_eq!(s.count("LSTM", 12), 2);
    }
}
