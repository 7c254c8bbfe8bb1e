//! The seed folders of a multi-seed run, read through an experiment's types.
//!
//! `<results>/<experiment>/seeds/<seed>/` holds one seed's complete result;
//! [`scan_seed_folders`] reads whatever folders are there as
//! [`SeedResult`]s, counting each seed once and naming what it leaves out.

use crate::experiment::Experiment;
use crate::record::{read_json, SeedMetrics};
use crate::ExperimentError;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The folder under an experiment's folder that holds one folder per seed.
pub const SEEDS_DIR: &str = "seeds";

/// One seed's complete folder, read through the experiment's types.
#[derive(Debug, Clone)]
pub struct SeedResult<D> {
    /// The seed.
    pub seed: u64,
    /// Its folder.
    pub dir: PathBuf,
    /// Its `metrics.json`.
    pub metrics: SeedMetrics<D>,
}

/// The seed folders of an experiment, and those left out.
#[derive(Debug, Clone)]
pub struct SeedScan<D> {
    /// The seed folders that count, sorted by seed.
    pub folders: Vec<SeedResult<D>>,
    /// One line per folder left out, saying why (a name that is not the
    /// canonical decimal seed, a symbolic link, a `seed` inside that is
    /// not the folder's name, a run id that another folder holds too).
    pub problems: Vec<String>,
}

impl<D> Default for SeedScan<D> {
    fn default() -> Self {
        Self {
            folders: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// The seeds of experiment `E` under `results_dir`, read through its types
/// (for a summary that compares two experiments seed by seed).
pub fn load_seeds<E: Experiment>(
    results_dir: &Path,
) -> Result<Vec<SeedResult<E::Details>>, ExperimentError> {
    Ok(scan_seed_folders(&results_dir.join(E::NAME))?.folders)
}

/// The seed folders under `<experiment_dir>/seeds/` that count, sorted by
/// seed, with their run facts and targets (see [`scan_seed_folders`]).
pub fn seed_folders(
    experiment_dir: &Path,
) -> Result<Vec<SeedResult<crate::record::Unknown>>, ExperimentError> {
    Ok(scan_seed_folders(experiment_dir)?.folders)
}

/// Whether `name` is a seed folder's name, and the seed.
enum FolderName {
    /// Not a number: not a seed folder (logs, locks, staging folders).
    Other,
    /// A number written otherwise than seqlab writes it (`042`, `+42`).
    NotCanonical(u64),
    /// A seed folder's name.
    Seed(u64),
}

fn folder_name(name: &std::ffi::OsStr) -> FolderName {
    match name.to_str().and_then(|n| n.parse::<u64>().ok()) {
        None => FolderName::Other,
        Some(seed) if name.to_str() == Some(seed.to_string().as_str()) => FolderName::Seed(seed),
        Some(seed) => FolderName::NotCanonical(seed),
    }
}

/// Reads the seed folders under `<experiment_dir>/seeds/`. A folder counts
/// once, and only as the run it holds: its name must be the seed written
/// the canonical way (`42`, not `042` or `+42`), it must be a real folder
/// (not a symbolic link), the `seed` in its `metrics.json` must be that
/// seed, and no earlier folder may hold the same run id; the others are
/// left out and named in [`SeedScan::problems`]. Other names (logs, locks,
/// staging folders of runs in progress) are skipped; a counted folder
/// whose `metrics.json` cannot be read as `SeedMetrics<D>` is an error
/// naming it.
pub fn scan_seed_folders<D: DeserializeOwned>(
    experiment_dir: &Path,
) -> Result<SeedScan<D>, ExperimentError> {
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
        if let Some(folder) = seed_folder(&root, &entry, &mut scan.problems)? {
            scan.folders.push(folder);
        }
    }
    scan.folders.sort_by_key(|s| s.seed);
    let problems = drop_copies(&mut scan.folders);
    scan.problems.extend(problems);
    Ok(scan)
}

/// One entry of `seeds/`: the seed's result, or `None` (with a problem
/// line where it looks like a seed's folder but is not one).
fn seed_folder<D: DeserializeOwned>(
    root: &Path,
    entry: &std::fs::DirEntry,
    problems: &mut Vec<String>,
) -> Result<Option<SeedResult<D>>, ExperimentError> {
    let dir = entry.path();
    let seed = match folder_name(&entry.file_name()) {
        FolderName::Other => return Ok(None),
        FolderName::NotCanonical(seed) => {
            if dir.is_dir() {
                problems.push(format!(
                    "{} is not a seed folder name (seqlab writes seed {seed} as {}); left out",
                    dir.display(),
                    root.join(seed.to_string()).display()
                ));
            }
            return Ok(None);
        }
        FolderName::Seed(seed) => seed,
    };
    let kind = entry
        .file_type()
        .map_err(|source| ExperimentError::ResultsDir {
            path: dir.clone(),
            source,
        })?;
    if kind.is_symlink() {
        problems.push(format!(
            "{} is a symbolic link, not a seed's own folder; left out",
            dir.display()
        ));
        return Ok(None);
    }
    if !kind.is_dir() {
        return Ok(None);
    }
    let metrics: SeedMetrics<D> = read_json(&dir.join("metrics.json"))?;
    if metrics.info.seed != seed {
        problems.push(format!(
            "{} holds the run of seed {}, not of seed {seed} (a copy?); left out",
            dir.display(),
            metrics.info.seed
        ));
        return Ok(None);
    }
    Ok(Some(SeedResult { seed, dir, metrics }))
}

/// Keeps the first folder of each run id (sorted by seed); the lines for those dropped.
fn drop_copies<D>(folders: &mut Vec<SeedResult<D>>) -> Vec<String> {
    let mut ids: BTreeMap<String, u64> = BTreeMap::new();
    let mut problems = Vec::new();
    folders.retain(|s| {
        let Some(id) = s.metrics.run_id.as_deref() else {
            return true;
        };
        match ids.get(id) {
            Some(first) => {
                problems.push(format!(
                    "{} holds run {id}, which seed {first}'s folder holds too (a copy?); left out",
                    s.dir.display()
                ));
                false
            }
            None => {
                ids.insert(id.to_string(), s.seed);
                true
            }
        }
    });
    problems
}
