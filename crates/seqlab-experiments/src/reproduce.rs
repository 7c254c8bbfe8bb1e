//! Many experiments and seeds at once: the plan of processes behind
//! `seqlab run <experiment> --seeds ...` and `seqlab reproduce-all`, and what
//! follows the runs (the seeds' summaries, the status table, the report).

use crate::aggregate::SEEDS_DIR;
use crate::jobs::{format_seed_list, Job, JobResult};
use crate::record::Summary;
use crate::report::{read_runs, RunRow, RUNS_FILE};
use crate::{ExperimentError, Registered};
use seqlab_train::device::DeviceChoice;
use seqlab_train::runtime::{planned_threads, ThreadChoice};
use std::path::{Path, PathBuf};

/// Which seeds to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedChoice {
    /// One seed, written to `<results>/<experiment>/` as a single-seed run.
    Single(u64),
    /// These seeds for every experiment, each to `seeds/<seed>/`, then summarised.
    List(Vec<u64>),
    /// Each experiment's own number of seeds ([`Registered::full_seeds`], or
    /// 2 with `--quick`) from this first seed.
    Default(u64),
}

/// Settings passed to every process of a plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The `seqlab` binary (absolute).
    pub program: PathBuf,
    /// Results folder (absolute).
    pub results_dir: PathBuf,
    /// Data folder (absolute), if the user named one.
    pub data_dir: Option<PathBuf>,
    /// Device.
    pub device: DeviceChoice,
    /// Small settings.
    pub quick: bool,
    /// Epoch override.
    pub epochs: Option<usize>,
    /// Threads per process.
    pub threads: ThreadChoice,
    /// Number of cores (for `auto` threads of per-core experiments).
    pub cores: usize,
}

/// Folder (in the results folder) for the logs of single-seed jobs.
pub const LOGS_DIR: &str = "logs";

/// Seeds each experiment runs with under the quick profile's default.
pub const QUICK_SEEDS: usize = 2;

/// The seeds `choice` gives experiment `e`.
pub fn seeds_for(e: &Registered, choice: &SeedChoice, quick: bool) -> Vec<u64> {
    match choice {
        SeedChoice::Single(s) => vec![*s],
        SeedChoice::List(l) => l.clone(),
        SeedChoice::Default(first) => {
            let n = if quick { QUICK_SEEDS } else { e.full_seeds };
            (*first..first.saturating_add(n as u64)).collect()
        }
    }
}

fn device_arg(d: DeviceChoice) -> &'static str {
    match d {
        DeviceChoice::Cpu => "cpu",
        DeviceChoice::Cuda => "cuda",
        DeviceChoice::Auto => "auto",
    }
}

/// A path as a job's argument: refused, naming it, where it is not UTF-8
/// text (the job would otherwise write to a rewritten path).
fn path_arg(what: &str, path: &Path) -> Result<String, ExperimentError> {
    path.to_str().map(str::to_string).ok_or_else(|| {
        ExperimentError::InvalidOption(format!(
            "{what} {} is not UTF-8 text, which seqlab cannot pass to its seed processes; use a folder whose path is plain text",
            path.display()
        ))
    })
}

/// One process per (experiment, seed), in the registry's order and by
/// increasing seed; an experiment that reads another's result of the same
/// seed ([`Registered::after`]) waits for that job. Each job carries the
/// time its seed took in the results folder's last record
/// (`reproduce-all.tsv`), by which [`crate::jobs::run_jobs`] starts the
/// longest first. A results or data
/// folder whose path is not UTF-8 is an error.
pub fn plan(
    experiments: &[&Registered],
    choice: &SeedChoice,
    o: &PlanOptions,
) -> Result<Vec<Job>, ExperimentError> {
    let results_arg = path_arg("the results folder", &o.results_dir)?;
    let data_arg = match &o.data_dir {
        Some(d) => Some(path_arg("the data folder", d)?),
        None => None,
    };
    let record = read_runs(&o.results_dir);
    let mut jobs: Vec<Job> = Vec::new();
    for e in experiments {
        let seeds = seeds_for(e, choice, o.quick);
        for &seed in &seeds {
            let mut args = vec!["run".to_string(), e.name.to_string()];
            let log = match choice {
                SeedChoice::Single(_) => {
                    args.extend(["--seed".into(), seed.to_string()]);
                    o.results_dir
                        .join(LOGS_DIR)
                        .join(format!("{}-{seed}.log", e.name))
                }
                _ => {
                    args.extend([
                        "--seeds".into(),
                        format_seed_list(&seeds),
                        "--only-seed".into(),
                        seed.to_string(),
                    ]);
                    o.results_dir
                        .join(e.name)
                        .join(SEEDS_DIR)
                        .join(format!("{seed}.log"))
                }
            };
            args.extend([
                "--results-dir".into(),
                results_arg.clone(),
                "--device".into(),
                device_arg(o.device).into(),
                "--threads".into(),
                match o.threads {
                    ThreadChoice::Auto => "auto".into(),
                    ThreadChoice::Fixed(n) => n.to_string(),
                },
            ]);
            if o.quick {
                args.push("--quick".into());
            }
            if let Some(n) = o.epochs {
                args.extend(["--epochs".into(), n.to_string()]);
            }
            if let Some(d) = &data_arg {
                args.extend(["--data-dir".into(), d.clone()]);
            }
            let after = e.after.and_then(|name| {
                jobs.iter()
                    .position(|j| j.experiment == name && j.seed == seed)
            });
            jobs.push(Job {
                expected_seconds: expected_seconds(&record, e.name, seed),
                experiment: e.name.to_string(),
                seed,
                threads: planned_threads(o.threads, e.threads, o.cores),
                program: o.program.clone(),
                args,
                log,
                after,
            });
        }
    }
    Ok(jobs)
}

/// How long the job of `experiment` at `seed` took in the last recorded
/// `reproduce-all` (a successful run of that seed, else the mean of the
/// experiment's successful runs), for the start order only.
fn expected_seconds(record: &[RunRow], experiment: &str, seed: u64) -> Option<f64> {
    let ok: Vec<&RunRow> = record
        .iter()
        .filter(|r| r.ok && r.name == experiment)
        .collect();
    if let Some(r) = ok.iter().find(|r| r.seed == seed) {
        return Some(r.seconds);
    }
    (!ok.is_empty()).then(|| ok.iter().map(|r| r.seconds).sum::<f64>() / ok.len() as f64)
}

/// Removes the seed folders of `experiment` that are not in `seeds` (an
/// earlier multi-seed run that this one replaces), holding the experiment
/// folder's lock; returns the seeds removed. Call it only once the run of
/// `seeds` has succeeded.
pub fn prune_seed_folders(
    results_dir: &Path,
    experiment: &str,
    seeds: &[u64],
) -> Result<Vec<u64>, ExperimentError> {
    let root = results_dir.join(experiment).join(SEEDS_DIR);
    let mut removed = Vec::new();
    if !root.is_dir() {
        return Ok(removed);
    }
    let _lock = seqlab_io::DirLock::acquire(results_dir.join(experiment))?;
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Ok(removed);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let seed = name
            .strip_suffix(".log")
            .unwrap_or(&name)
            .parse::<u64>()
            .ok();
        if let Some(seed) = seed.filter(|s| !seeds.contains(s)) {
            let path = entry.path();
            let r = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            r.map_err(|source| ExperimentError::ResultsDir { path, source })?;
            if !name.ends_with(".log") {
                removed.push(seed);
            }
        }
    }
    Ok(removed)
}

/// Summarises the seeds of every experiment in `experiments` that has seed
/// folders under `results_dir` (merging seeds whose settings differ only
/// with `allow_mixed`); returns `(name, outcome)` for each, so that one
/// experiment that cannot be summarised (a corrupt file, a folder another
/// run is writing) does not stop the others.
pub fn aggregate_all(
    results_dir: &Path,
    experiments: &[&Registered],
    allow_mixed: bool,
) -> Vec<(String, Result<Summary, ExperimentError>)> {
    let mut out = Vec::new();
    for e in experiments {
        match e.summarise(results_dir, allow_mixed) {
            Ok(Some(summary)) => out.push((e.name.to_string(), Ok(summary))),
            Ok(None) => {}
            Err(err) => out.push((e.name.to_string(), Err(err))),
        }
    }
    out
}

/// Writes the status table `reproduce-all.tsv` (one row per job:
/// `experiment<TAB>seed<TAB>ok|failed<TAB>seconds<TAB>started`, the last
/// in seconds after the run began), atomically. Rows of experiments this run
/// did not touch (an `--only` run) are kept.
pub fn write_runs(
    results_dir: &Path,
    jobs: &[Job],
    results: &[JobResult],
) -> Result<(), ExperimentError> {
    let mut text = String::new();
    if let Ok(old) = std::fs::read_to_string(results_dir.join(RUNS_FILE)) {
        for line in old.lines() {
            let name = line.split('\t').next().unwrap_or_default();
            if !line.is_empty() && !jobs.iter().any(|j| j.experiment == name) {
                // Without its start: that was another run's clock.
                let kept: Vec<&str> = line.split('\t').take(4).collect();
                text.push_str(&kept.join("\t"));
                text.push('\n');
            }
        }
    }
    for (j, r) in jobs.iter().zip(results) {
        text.push_str(&format!(
            "{}\t{}\t{}\t{:.1}\t{:.1}\n",
            j.experiment,
            j.seed,
            if r.ok { "ok" } else { "failed" },
            r.seconds,
            r.started
        ));
    }
    Ok(seqlab_io::write_atomic(
        results_dir.join(RUNS_FILE),
        text.as_bytes(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_expects_its_seeds_last_time_else_the_experiments_mean() {
        let row = |name: &str, seed, ok, seconds| RunRow {
            name: name.into(),
            seed,
            ok,
            seconds,
            started: None,
        };
        let record = vec![
            row("a", 42, true, 10.0),
            row("a", 43, true, 30.0),
            row("a", 44, false, 1.0),
            row("b", 42, false, 5.0),
        ];
        assert_eq!(expected_seconds(&record, "a", 43), Some(30.0));
        // A failed run says nothing about the seed's length: the mean of the successful ones.
        assert_eq!(expected_seconds(&record, "a", 44), Some(20.0));
        assert_eq!(expected_seconds(&record, "a", 99), Some(20.0));
        assert_eq!(expected_seconds(&record, "b", 42), None);
        assert_eq!(expected_seconds(&record, "c", 42), None);
    }
}
