//! Several seeds of one experiment, summarised.
//!
//! A multi-seed run writes one folder per seed,
//! `<results>/<experiment>/seeds/<seed>/`, each a complete single-seed
//! result (written by [`crate::runner::run_into`]). [`aggregate`] reads
//! whatever seed folders exist and writes, beside `seeds/`:
//!
//! - `metrics.json`: the run facts the seeds share, the seeds present and
//!   missing, and for every target the per-seed values with their mean,
//!   sample standard deviation, minimum, maximum and a 95% confidence
//!   interval for the mean (Student's t with n - 1 degrees of freedom). The
//!   verdict is the accepted range applied to the **mean**; the number of
//!   seeds that pass alone is recorded too, and so is where the published
//!   number falls relative to the seeds' range (below, inside, above).
//! - what the experiment's [`AggregateHook`] adds: plots over seeds (bands,
//!   faint per-seed curves under the mean), paired comparisons.
//!
//! The seeds must agree on the profile, device, libtorch and thread count;
//! a folder that disagrees, or whose `metrics.json` cannot be read, is an
//! error that names it. Settings that differ by seed (sizes that depend on a
//! seeded sample) are listed per seed under `settings_by_seed`.

use crate::common::fmt_number;
use crate::ExperimentError;
use seqlab_metrics::SeedSpread;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The folder under an experiment's folder that holds one folder per seed.
pub const SEEDS_DIR: &str = "seeds";

/// How the interval is computed, as `metrics.json` and the report say it.
pub const INTERVAL_METHOD: &str =
    "95% confidence interval for the mean: mean ± t(0.975, n-1) · sd / √n (Student's t)";

/// One seed's complete folder.
#[derive(Debug, Clone)]
pub struct SeedFolder {
    /// The seed.
    pub seed: u64,
    /// Its folder.
    pub dir: PathBuf,
    /// Its `metrics.json`.
    pub metrics: Value,
}

/// What an experiment adds to the summary of its seeds.
#[derive(Debug, Clone, Default)]
pub struct AggregateExtra {
    /// Files written into the experiment's folder (names relative to it).
    pub files: Vec<String>,
    /// Extra top-level entries of the summary's `metrics.json`.
    pub metrics: Map<String, Value>,
    /// Markdown paragraphs for the report, after the targets table.
    pub report: Vec<String>,
}

/// An experiment's own part of the summary: gets the seed folders (sorted
/// by seed, at least one) and the experiment's folder to write into.
pub type AggregateHook = fn(&[SeedFolder], &Path) -> Result<AggregateExtra, ExperimentError>;

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

/// Reads a run's or a summary's `metrics.json`: a missing file, invalid
/// JSON, or JSON that is not an object is an error naming the file.
pub fn read_metrics(path: &Path) -> Result<Value, ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(ExperimentError::Saved {
            path: path.to_path_buf(),
            message: "not a JSON object of results".into(),
        }),
        Err(e) => Err(ExperimentError::Saved {
            path: path.to_path_buf(),
            message: format!("not valid JSON: {e}"),
        }),
    }
}

/// The seed folders of an experiment, and those left out.
#[derive(Debug, Clone, Default)]
pub struct SeedScan {
    /// The seed folders that count, sorted by seed.
    pub folders: Vec<SeedFolder>,
    /// One line per folder left out, saying why (a name that is not the
    /// canonical decimal seed, a symbolic link, a `seed` inside that is
    /// not the folder's name, a run id that another folder holds too).
    pub problems: Vec<String>,
}

/// The seed folders under `<experiment_dir>/seeds/`, sorted by seed (those
/// that count; see [`scan_seed_folders`] for those left out).
pub fn seed_folders(experiment_dir: &Path) -> Result<Vec<SeedFolder>, ExperimentError> {
    Ok(scan_seed_folders(experiment_dir)?.folders)
}

/// Reads the seed folders under `<experiment_dir>/seeds/`. A folder counts
/// once, and only as the run it holds: its name must be the seed written
/// the canonical way (`42`, not `042` or `+42`), it must be a real folder
/// (not a symbolic link), the `seed` in its `metrics.json` must be that
/// seed, and no earlier folder may hold the same run id; the others are
/// left out and named in [`SeedScan::problems`]. Other names (logs, locks,
/// staging folders of runs in progress) are skipped; a counted folder
/// without a readable `metrics.json` is an error naming it.
pub fn scan_seed_folders(experiment_dir: &Path) -> Result<SeedScan, ExperimentError> {
    let root = experiment_dir.join(SEEDS_DIR);
    let entries = match std::fs::read_dir(&root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SeedScan::default()),
        Err(source) => return Err(ExperimentError::Read { path: root, source }),
    };
    let mut scan = SeedScan::default();
    for entry in entries {
        let entry = entry.map_err(|source| ExperimentError::Read {
            path: root.clone(),
            source,
        })?;
        let name = entry.file_name();
        let Some(seed) = name.to_str().and_then(|n| n.parse::<u64>().ok()) else {
            continue;
        };
        let dir = entry.path();
        let kind = entry
            .file_type()
            .map_err(|source| ExperimentError::ResultsDir {
                path: dir.clone(),
                source,
            })?;
        if kind.is_symlink() {
            scan.problems.push(format!(
                "{} is a symbolic link, not a seed's own folder; left out",
                dir.display()
            ));
            continue;
        }
        if !kind.is_dir() {
            continue;
        }
        if name.to_str() != Some(seed.to_string().as_str()) {
            scan.problems.push(format!(
                "{} is not a seed folder name (seqlab writes seed {seed} as {}); left out",
                dir.display(),
                root.join(seed.to_string()).display()
            ));
            continue;
        }
        let metrics = read_metrics(&dir.join("metrics.json"))?;
        if metrics["seed"].as_u64() != Some(seed) {
            scan.problems.push(format!(
                "{} holds the run of seed {}, not of seed {seed} (a copy?); left out",
                dir.display(),
                metrics["seed"]
            ));
            continue;
        }
        scan.folders.push(SeedFolder { seed, dir, metrics });
    }
    scan.folders.sort_by_key(|s| s.seed);
    let mut ids = BTreeMap::new();
    let mut problems = Vec::new();
    scan.folders.retain(|s| {
        let Some(id) = s.metrics["run_id"].as_str() else {
            return true;
        };
        match ids.insert(id.to_string(), s.seed) {
            Some(first) => {
                ids.insert(id.to_string(), first);
                problems.push(format!(
                    "{} holds run {id}, which seed {first}'s folder holds too (a copy?); left out",
                    s.dir.display()
                ));
                false
            }
            None => true,
        }
    });
    scan.problems.extend(problems);
    Ok(scan)
}

/// Run facts every seed must share.
const SHARED: [&str; 6] = [
    "experiment",
    "profile",
    "device",
    "libtorch",
    "threads",
    "epochs_override",
];

/// Settings whose value depends on the seed (for example the size of a
/// vocabulary ranked on a seeded sample): key -> seed -> value.
fn settings_by_seed(seeds: &[SeedFolder]) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(first) = seeds
        .first()
        .and_then(|s| s.metrics["settings"].as_object())
    else {
        return out;
    };
    for key in first.keys() {
        if seeds
            .iter()
            .any(|s| s.metrics["settings"][key] != first[key])
        {
            let per_seed: Map<String, Value> = seeds
                .iter()
                .map(|s| (s.seed.to_string(), s.metrics["settings"][key].clone()))
                .collect();
            out.insert(key.clone(), Value::Object(per_seed));
        }
    }
    out
}

/// One target (or, from `list` "measurements", one number without a
/// target) summarised over seeds.
fn summarise_target(list: &str, first: &Value, seeds: &[SeedFolder], index: usize) -> Value {
    let what = first["what"].as_str().unwrap_or_default();
    let mut values = Map::new();
    let mut numbers = Vec::new();
    let mut passing = 0;
    let mut absent = Vec::new();
    for s in seeds {
        let t = s.metrics[list]
            .as_array()
            .and_then(|ts| {
                ts.iter()
                    .find(|t| t["what"] == first["what"])
                    .or(ts.get(index))
            })
            .filter(|t| t["what"] == first["what"]);
        match t {
            Some(t) => {
                let v = t["measured"].as_f64().unwrap_or(f64::NAN);
                values.insert(s.seed.to_string(), t["measured"].clone());
                numbers.push(v);
                if t["pass"] == Value::Bool(true) {
                    passing += 1;
                }
            }
            None => absent.push(s.seed),
        }
    }
    let lo = first["lo"].as_f64().unwrap_or(f64::MIN);
    let hi = first["hi"].as_f64().unwrap_or(f64::MAX);
    let mut out = json!({
        "what": what,
        "published": first["published"],
        "published_value": first["published_value"],
        "expected": first["expected"],
        "lo": first["lo"],
        "hi": first["hi"],
        "values": values,
        "seeds_passing": passing,
    });
    match SeedSpread::of(&numbers) {
        Ok(spread) if absent.is_empty() => {
            let position = first["published_value"]
                .as_f64()
                .map(|p| spread.position_of(p).name());
            out["n"] = json!(spread.n);
            out["mean"] = json!(spread.mean);
            out["sd"] = json!(spread.sd);
            out["min"] = json!(spread.min);
            out["max"] = json!(spread.max);
            out["ci95"] = json!(spread.ci95);
            out["published_position"] = json!(position);
            out["pass"] = json!((lo..=hi).contains(&spread.mean));
        }
        Ok(_) => {
            out["n"] = json!(numbers.len());
            out["pass"] = json!(false);
            out["problem"] = json!(format!("no value at seeds {absent:?}"));
        }
        Err(e) => {
            out["n"] = json!(numbers.len());
            out["pass"] = json!(false);
            out["problem"] = json!(match e {
                seqlab_metrics::MetricsError::NonFinite { index, value, .. } => {
                    let seed = seeds
                        .iter()
                        .filter(|s| !absent.contains(&s.seed))
                        .nth(index)
                        .map_or_else(|| "?".to_string(), |s| s.seed.to_string());
                    format!("seed {seed}'s value is {value}, not a finite number (seeds/{seed}/metrics.json)")
                }
                other => other.to_string(),
            });
        }
    }
    out
}

/// The summary of whatever seeds exist under `experiment_dir`: writes its
/// `metrics.json` (and the hook's files) there and returns it; `None`
/// where no seed folder exists. Top-level files that neither the summary
/// nor the hook wrote (left by an earlier single-seed run into the same
/// folder) are removed, so the folder holds one run's results.
///
/// It holds the experiment folder's lock while it works, so it fails with
/// [`seqlab_io::IoError::Locked`] while a run writes there (a single-seed
/// run, or seeds in progress). Seeds whose settings differ
/// (profile, device, libtorch, threads, `--epochs`) are refused, naming
/// the field; [`aggregate_mixed`] merges them anyway.
pub fn aggregate(
    experiment_dir: &Path,
    hook: Option<AggregateHook>,
) -> Result<Option<Value>, ExperimentError> {
    summarise(experiment_dir, hook, false)
}

/// [`aggregate`] that merges seeds whose settings differ, listing each
/// difference under `mixed_settings` in the summary (the report flags them).
pub fn aggregate_mixed(
    experiment_dir: &Path,
    hook: Option<AggregateHook>,
) -> Result<Option<Value>, ExperimentError> {
    summarise(experiment_dir, hook, true)
}

/// The seeds' shared run facts that differ from the first seed's: one line
/// each, naming the folder and the field.
fn differing_settings(seeds: &[SeedFolder]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Some(first) = seeds.first() else {
        return out;
    };
    for s in &seeds[1..] {
        for key in SHARED {
            if s.metrics[key] != first.metrics[key] {
                out.push((
                    s.dir.join("metrics.json"),
                    format!(
                        "its {key} ({}) differs from seed {}'s ({})",
                        s.metrics[key], first.seed, first.metrics[key]
                    ),
                ));
            }
        }
    }
    out
}

/// The seeds with a folder, the seeds planned (every seed's `seed_set`
/// and the present ones) and those planned without a folder.
fn seeds_present_planned_missing(seeds: &[SeedFolder]) -> (Vec<u64>, BTreeSet<u64>, Vec<u64>) {
    let present: Vec<u64> = seeds.iter().map(|s| s.seed).collect();
    let planned: BTreeSet<u64> = seeds
        .iter()
        .flat_map(|s| {
            s.metrics["seed_set"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_u64).collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .chain(present.iter().copied())
        .collect();
    let missing: Vec<u64> = planned
        .iter()
        .copied()
        .filter(|s| !present.contains(s))
        .collect();
    (present, planned, missing)
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

fn summarise(
    experiment_dir: &Path,
    hook: Option<AggregateHook>,
    allow_mixed: bool,
) -> Result<Option<Value>, ExperimentError> {
    if !experiment_dir.join(SEEDS_DIR).is_dir() {
        return Ok(None);
    }
    let _lock = seqlab_io::DirLock::acquire(experiment_dir)?;
    let scan = scan_seed_folders(experiment_dir)?;
    let seeds = scan.folders;
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
    let summarise = |list: &str| -> Vec<Value> {
        first.metrics[list]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .enumerate()
                    .map(|(i, t)| summarise_target(list, t, &seeds, i))
                    .collect()
            })
            .unwrap_or_default()
    };
    let targets = summarise("targets");
    let mut measurements = summarise("measurements");
    for m in &mut measurements {
        if let Value::Object(m) = m {
            for k in [
                "pass",
                "seeds_passing",
                "lo",
                "hi",
                "expected",
                "published",
                "published_value",
                "published_position",
            ] {
                m.remove(k);
            }
        }
    }

    let mut metrics = Map::new();
    for key in SHARED {
        metrics.insert(key.into(), first.metrics[key].clone());
    }
    let mut settings = first.metrics["settings"].clone();
    let varying = settings_by_seed(&seeds);
    if let Value::Object(map) = &mut settings {
        for key in varying.keys() {
            map.remove(key);
        }
    }
    metrics.insert("settings".into(), settings);
    if !varying.is_empty() {
        metrics.insert("settings_by_seed".into(), Value::Object(varying));
    }
    if !mixed.is_empty() {
        let lines: Vec<String> = mixed
            .iter()
            .map(|(path, what)| format!("{}: {what}", path.display()))
            .collect();
        metrics.insert("mixed_settings".into(), json!(lines));
    }
    if !scan.problems.is_empty() {
        metrics.insert("seed_problems".into(), json!(scan.problems));
    }
    metrics.insert("seeds".into(), json!(present));
    metrics.insert("seed_set".into(), json!(planned));
    metrics.insert("missing_seeds".into(), json!(missing));
    metrics.insert("interval".into(), json!(INTERVAL_METHOD));
    metrics.insert(
        "verdict_rule".into(),
        json!("a target passes when the mean over seeds is in its accepted range"),
    );
    metrics.insert("targets".into(), Value::Array(targets));
    if !measurements.is_empty() {
        metrics.insert("measurements".into(), Value::Array(measurements));
    }
    if let Some(notes) = first.metrics.get("notes") {
        metrics.insert("notes".into(), notes.clone());
    }
    let extra = match hook {
        Some(hook) => hook(&seeds, experiment_dir)?,
        None => AggregateExtra::default(),
    };
    metrics.extend(extra.metrics);
    metrics.insert("extra_files".into(), json!(extra.files));
    metrics.insert("report_paragraphs".into(), json!(extra.report));
    let metrics = Value::Object(metrics);
    let mut text = serde_json::to_string_pretty(&metrics)
        .map_err(|e| ExperimentError::InvalidOption(format!("cannot serialise metrics: {e}")))?;
    text.push('\n');
    seqlab_io::write_atomic(experiment_dir.join("metrics.json"), text.as_bytes())?;
    remove_other_files(experiment_dir, &extra.files);
    Ok(Some(metrics))
}

/// Terminal lines for a summary: one per target, judged on the mean.
pub fn headline(summary: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for t in summary["targets"].as_array().into_iter().flatten() {
        let mark = if t["pass"] == Value::Bool(true) {
            "PASS"
        } else {
            "MISS"
        };
        let what = t["what"].as_str().unwrap_or_default();
        let line = match (t["mean"].as_f64(), t["sd"].as_f64()) {
            (Some(mean), Some(sd)) => format!(
                "{mark} {what}: mean {} ± {} over {} seeds, range [{}, {}] (expected {}; published {})",
                fmt_number(mean),
                fmt_number(sd),
                t["n"],
                fmt_number(t["min"].as_f64().unwrap_or(f64::NAN)),
                fmt_number(t["max"].as_f64().unwrap_or(f64::NAN)),
                t["expected"].as_str().unwrap_or_default(),
                t["published"].as_str().unwrap_or_default(),
            ),
            _ => format!(
                "{mark} {what}: {}",
                t["problem"].as_str().unwrap_or("no values")
            ),
        };
        lines.push(line);
    }
    for key in ["seed_problems", "mixed_settings"] {
        for p in summary[key].as_array().into_iter().flatten() {
            lines.push(format!("WARNING {}", p.as_str().unwrap_or_default()));
        }
    }
    if let Some(missing) = summary["missing_seeds"]
        .as_array()
        .filter(|m| !m.is_empty())
    {
        lines.push(format!(
            "missing seeds (no folder yet): {}",
            missing
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let root = std::env::temp_dir().join(format!("seqlab-agg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        // 0.38 misses alone; the mean 0.44 passes.
        for (seed, v) in [(1, 0.38), (2, 0.46), (3, 0.48)] {
            seed_dir(&root, seed, v, &[1, 2, 3, 4]);
        }
        std::fs::write(root.join("stale_single_seed.png"), b"x").unwrap();
        let m = aggregate(&root, None).unwrap().unwrap();
        let t = &m["targets"][0];
        assert_eq!(t["n"], 3);
        assert!((t["mean"].as_f64().unwrap() - 0.44).abs() < 1e-12);
        assert_eq!(t["pass"], true);
        assert_eq!(t["seeds_passing"], 2);
        assert_eq!(t["published_position"], "inside");
        assert_eq!(t["values"]["1"], 0.38);
        assert_eq!(m["seeds"], json!([1, 2, 3]));
        assert_eq!(m["missing_seeds"], json!([4]));
        assert!(root.join("metrics.json").is_file());
        assert!(!root.join("stale_single_seed.png").exists());
        let lines = headline(&m);
        assert!(
            lines[0].starts_with("PASS acc: mean 0.4400 ± "),
            "{lines:?}"
        );
        assert!(lines[1].contains("missing seeds") && lines[1].contains('4'));

        // A seed run with other settings is refused, naming its folder.
        let odd = root.join(SEEDS_DIR).join("9");
        std::fs::create_dir_all(&odd).unwrap();
        std::fs::write(
            odd.join("metrics.json"),
            json!({"experiment": "demo", "profile": "quick", "seed": 9}).to_string(),
        )
        .unwrap();
        let err = aggregate(&root, None).unwrap_err().to_string();
        assert!(
            err.contains("seeds/9/metrics.json") && err.contains("profile"),
            "{err}"
        );
        std::fs::write(odd.join("metrics.json"), "{ half").unwrap();
        let err = aggregate(&root, None).unwrap_err().to_string();
        assert!(
            err.contains("seeds/9/metrics.json") && err.contains("JSON"),
            "{err}"
        );
        std::fs::remove_dir_all(&root).unwrap();
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
        // An experiment of the registry, so that the report shows it.
        let root = results.join("seq2one");
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
        let m = aggregate(&root, None).unwrap().unwrap();
        assert_eq!(m["seeds"], json!([42, 43, 44]));
        assert_eq!(m["targets"][0]["n"], 3);
        assert!((m["targets"][0]["mean"].as_f64().unwrap() - 0.45).abs() < 1e-12);
        let problems = m["seed_problems"].to_string();
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
        let report = crate::report::render(&results);
        assert!(
            report.contains("**seed folders left out or mixed**")
                && report.contains("seeds/042 is not"),
            "{report}"
        );
        std::fs::remove_dir_all(&results).unwrap();
    }

    #[test]
    fn seeds_run_with_other_settings_are_not_merged_unless_asked_and_a_bad_value_names_its_seed() {
        let root = std::env::temp_dir().join(format!("seqlab-agg-mixed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (seed, epochs) in [(1, 4), (2, 4), (3, 1)] {
            seed_dir(&root, seed, 0.5, &[1, 2, 3]);
            edit_metrics(&root.join(SEEDS_DIR).join(seed.to_string()), |m| {
                m["epochs_override"] = json!(epochs);
            });
        }
        let err = aggregate(&root, None).unwrap_err().to_string();
        assert!(
            err.contains("seeds/3/metrics.json")
                && err.contains("epochs_override (1) differs from seed 1's (4)")
                && err.contains("--allow-mixed-settings"),
            "{err}"
        );
        assert!(!root.join("metrics.json").exists());
        let m = aggregate_mixed(&root, None).unwrap().unwrap();
        assert_eq!(m["targets"][0]["n"], 3);
        assert!(
            m["mixed_settings"].to_string().contains("epochs_override"),
            "{m}"
        );
        // A value that is not a number is named by its seed, not by a position.
        edit_metrics(&root.join(SEEDS_DIR).join("2"), |m| {
            m["targets"][0]["measured"] = Value::Null;
        });
        let m = aggregate_mixed(&root, None).unwrap().unwrap();
        let problem = m["targets"][0]["problem"].as_str().unwrap();
        assert!(
            problem.contains("seed 2's value") && !problem.contains("values["),
            "{problem}"
        );
        std::fs::remove_dir_all(&root).unwrap();
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
