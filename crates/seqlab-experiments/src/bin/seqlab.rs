//! The `seqlab` command-line tool: a thin layer over `seqlab-experiments`.

// Doc comments here are the CLI's --help text, where `<experiment>` is meant literally.
#![allow(rustdoc::invalid_html_tags)]

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use seqlab_data::mnist::Split;
use seqlab_data::sine_pairs::FunctionPair;
use seqlab_data::temporal_order::Difficulty;
use seqlab_experiments::imdb::{PredictOptions, Predictor};
use seqlab_experiments::inspect::{inspect, InspectOptions, DATASETS};
use seqlab_experiments::jobs::{parse_seeds_arg, run_jobs, JobLimit};
use seqlab_experiments::reproduce::{
    aggregate_all, plan, prune_seed_folders, write_runs, PlanOptions, SeedChoice,
};
use seqlab_experiments::{aggregate, find, Experiment, RunOptions, EXPERIMENTS};
use seqlab_train::device::DeviceChoice;
use seqlab_train::runtime::ThreadChoice;
use std::path::PathBuf;
use std::process::ExitCode;

const ENVIRONMENT_HELP: &str = "Environment:
  SEQLAB_DATA_DIR   data directory for MNIST and IMDb (default ./data; --data-dir wins)
  SEQLAB_OFFLINE    1: never download a missing data file
  SEQLAB_MALLOC     tuned (default: glibc malloc set up for training loops, same results, fewer
                    page faults) or system (glibc's defaults); own GLIBC_TUNABLES/MALLOC_* settings
                    are always kept
  OMP_NUM_THREADS   libtorch's intra-op threads when --threads is auto (the default); unset, each
                    experiment picks its own (1 for the small LSTMs, else one per core); seeded
                    results are reproducible at the same thread count. Like --threads, a whole
                    number from 1 to 4 per core: any other value is an error naming the variable";

/// Reproduce the classic recurrent-network experiments on libtorch.
#[derive(Parser, Debug)]
#[command(name = "seqlab", version, after_help = ENVIRONMENT_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the experiments.
    List {
        /// Print only the names, one per line.
        #[arg(long)]
        names: bool,
    },
    /// Run one experiment and write results/<experiment>/.
    ///
    /// With --seeds, every seed runs as its own process (up to --jobs at
    /// once) into results/<experiment>/seeds/<seed>/, and
    /// results/<experiment>/metrics.json then summarises the seeds: per
    /// target the values, mean, standard deviation, range and a 95% interval
    /// for the mean (Student's t); the verdict is judged on the mean.
    Run {
        /// Experiment name (see `seqlab list`).
        experiment: String,
        /// Device: cpu, cuda or auto (cuda if available).
        #[arg(long, default_value = "cpu", value_parser = parse_device)]
        device: DeviceChoice,
        /// Seed for data, initialisation and shuffling (the first seed of `--seeds N`).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Several seeds: a list (42,43,44), a range (42..46), or a count N (N seeds from --seed).
        #[arg(long)]
        seeds: Option<String>,
        /// With --seeds: run only this seed of the set, in this process (what each job runs).
        #[arg(long, requires = "seeds")]
        only_seed: Option<u64>,
        /// With --seeds: processes at once, auto (as many as the cores allow given the experiment's threads) or N.
        #[arg(long, default_value = "auto")]
        jobs: JobLimit,
        /// Override the number of epochs of every training run.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        epochs: Option<u64>,
        /// Folder under which <experiment>/ is written.
        #[arg(long, default_value = "results")]
        results_dir: PathBuf,
        /// Small settings that finish in seconds.
        #[arg(long)]
        quick: bool,
        /// Print only the final summary, not every epoch.
        #[arg(long, short)]
        quiet: bool,
        /// Data directory for real data sets (default: $SEQLAB_DATA_DIR, else ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Intra-op CPU threads: auto (OMP_NUM_THREADS if set, else 1 for the small models and one per core for the others) or a number.
        #[arg(long, default_value = "auto")]
        threads: ThreadChoice,
    },
    /// Print decoded samples of a data set and their labels.
    #[command(after_help = datasets_help())]
    Data {
        /// Data set: ab-order, temporal-order, continuation, sine, mnist or imdb.
        dataset: String,
        /// Number of samples to print.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        n: u64,
        /// Temporal-order difficulty: easy, normal, moderate, hard or nightmare.
        #[arg(long, default_value = "easy", value_parser = parse_difficulty)]
        difficulty: Difficulty,
        /// Seed of the generated data sets.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Function pair of the sine data set: sin-cos, damped or power.
        #[arg(long, default_value = "sin-cos", value_parser = parse_pair)]
        pair: FunctionPair,
        /// Split of MNIST or IMDb: train or test.
        #[arg(long, default_value = "train", value_parser = parse_split)]
        split: Split,
        /// Data directory for real data sets (default: $SEQLAB_DATA_DIR, else ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Measure training throughput of one workload; prints one JSON line (used by `cargo xtask bench`).
    Bench {
        /// Workload: toy-seq2one, temporal-order-hard, imdb-lstm, mnist-bilstm-ae or seq2seq-sine.
        workload: String,
        /// Device: cpu, cuda or auto.
        #[arg(long, default_value = "cpu", value_parser = parse_device)]
        device: DeviceChoice,
        /// Untimed epochs first.
        #[arg(long, default_value_t = 1)]
        warmup: usize,
        /// Timed epochs (the median is reported).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
        epochs: u64,
        /// Divide the samples per epoch by this (a tiny run for tests).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        shrink: u64,
        /// Intra-op CPU threads: auto (OMP_NUM_THREADS if set, else 1 for the small models and one per core for the others) or a number.
        #[arg(long, default_value = "auto")]
        threads: ThreadChoice,
    },
    /// Run every experiment (or those named), several seeds each, then write the report.
    ///
    /// Without --seed or --seeds: each experiment's own number of seeds (5;
    /// 3 for the MNIST autoencoders; 2 with --quick) from seed 42. With
    /// --seed N alone: that one seed, as `seqlab run` writes it. Continues
    /// past failures, writes <results-dir>/reproduce-all.tsv and REPORT.md,
    /// and exits non-zero if any run failed.
    ReproduceAll {
        /// Device: cpu, cuda or auto.
        #[arg(long, default_value = "cpu", value_parser = parse_device)]
        device: DeviceChoice,
        /// Small settings (2 seeds each unless --seeds says otherwise).
        #[arg(long)]
        quick: bool,
        /// Only these experiments (comma-separated), still in the registry's order.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// One seed only (single-seed results, as `seqlab run --seed`), or the first seed of a count given to --seeds.
        #[arg(long)]
        seed: Option<u64>,
        /// Seeds for every experiment: a list (42,43), a range (42..46) or a count N.
        #[arg(long)]
        seeds: Option<String>,
        /// Processes at once: auto (jobs x threads <= cores) or N.
        #[arg(long, default_value = "auto")]
        jobs: JobLimit,
        /// Intra-op CPU threads per process: auto or a number.
        #[arg(long, default_value = "auto")]
        threads: ThreadChoice,
        /// Override the number of epochs of every training run.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        epochs: Option<u64>,
        /// Folder under which every <experiment>/ is written.
        #[arg(long, default_value = "results")]
        results_dir: PathBuf,
        /// Data directory for real data sets (default: $SEQLAB_DATA_DIR, else ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Print one self-contained shell command per (experiment, seed) and run nothing
        /// (for GNU parallel, xargs -P or a cluster's job array; then `seqlab report`).
        #[arg(long)]
        plan: bool,
    },
    /// Write <results-dir>/REPORT.md from the experiments' results there.
    ///
    /// Experiments with seed folders are summarised first from whatever
    /// seeds exist (the report names the missing ones).
    Report {
        /// Folder holding the experiments' folders.
        #[arg(long, default_value = "results")]
        results_dir: PathBuf,
    },
    /// Score reviews with a trained IMDb model (run `seqlab run imdb-lstm` first).
    ///
    /// Prints, per review, the probability that it is positive and the label
    /// at the threshold (by default the Youden-optimal one saved with the
    /// model), then the review's first words. After a multi-seed run the
    /// model of the lowest seed (results/<experiment>/seeds/<seed>/) is used.
    /// The model's files must be its run's (as manifest.json lists them) and
    /// its weights finite, or nothing is scored.
    #[command(group = clap::ArgGroup::new("input").required(true).multiple(true))]
    Predict {
        /// The trained model: imdb-lstm or imdb-rnn.
        experiment: String,
        /// A review to score (repeat for several).
        #[arg(long, group = "input")]
        text: Vec<String>,
        /// A file with one review per line (blank lines are skipped; `-` reads stdin).
        #[arg(long, group = "input")]
        file: Option<PathBuf>,
        /// Folder holding <experiment>/ with the saved model.
        #[arg(long, default_value = "results")]
        results_dir: PathBuf,
        /// Decision threshold on the probability (default: the one saved with the model).
        #[arg(long, value_parser = parse_probability)]
        threshold: Option<f64>,
        /// Device: cpu, cuda or auto (cuda if available).
        #[arg(long, default_value = "cpu", value_parser = parse_device)]
        device: DeviceChoice,
    },
}

/// Writes a line to stdout for a command whose output is its result
/// (`list`, `data`, `report`, `predict`): a closed pipe (`seqlab list |
/// head -1`) ends the program quietly with success, like other Unix tools;
/// any other write error (a full disk) is an error.
macro_rules! out {
    ($($t:tt)*) => {
        emit(format_args!($($t)*), true)?
    };
}

/// Like [`out!`] without the line break.
macro_rules! out_raw {
    ($($t:tt)*) => {
        emit(format_args!($($t)*), false)?
    };
}

fn emit(args: std::fmt::Arguments, newline: bool) -> Result<()> {
    use std::io::Write as _;
    let mut o = std::io::stdout().lock();
    let r = o
        .write_fmt(args)
        .and_then(|_| if newline { o.write_all(b"\n") } else { Ok(()) })
        .and_then(|_| o.flush());
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(anyhow::anyhow!("cannot write to standard output: {e}")),
    }
}

/// A line to stderr that never panics: a closed or full stderr
/// (`2>/dev/full`) loses the line, and the program goes on to its exit
/// status (`eprintln!` would panic).
macro_rules! note {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// A line about a training run: printed if stdout still takes it, and the
/// run carries on either way (see `seqlab_train::progress::say`).
macro_rules! say {
    ($($t:tt)*) => {
        seqlab_train::progress::say(format_args!($($t)*))
    };
}

fn parse_probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("expected a number in [0, 1], got {s:?}")),
    }
}

fn read_reviews(path: &std::path::Path) -> Result<Vec<String>> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read reviews from stdin")?
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read reviews from {}", path.display()))?
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

fn datasets_help() -> String {
    let mut s = String::from("Data sets:\n");
    for (name, what) in DATASETS {
        s.push_str(&format!("  {name:<16} {what}\n"));
    }
    s
}

fn parse_difficulty(s: &str) -> Result<Difficulty, String> {
    s.parse().map_err(|e: seqlab_data::DataError| e.to_string())
}

fn parse_pair(s: &str) -> Result<FunctionPair, String> {
    s.parse().map_err(|e: seqlab_data::DataError| e.to_string())
}

fn parse_split(s: &str) -> Result<Split, String> {
    match s.to_ascii_lowercase().as_str() {
        "train" => Ok(Split::Train),
        "test" => Ok(Split::Test),
        other => Err(format!("unknown split {other:?}: expected train or test")),
    }
}

fn parse_device(s: &str) -> Result<DeviceChoice, String> {
    s.parse()
        .map_err(|e: seqlab_train::TrainError| e.to_string())
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(err) => {
            note!("error: {}", seqlab_experiments::error_line(err.chain()));
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<ExitCode> {
    let cli = Cli::parse();
    // Before any tensor exists: fewer page faults per training step, same results.
    let allocator = seqlab_train::runtime::tune_allocator()?;
    // A bad OMP_NUM_THREADS would silently become libtorch's default.
    seqlab_train::runtime::omp_num_threads()?;
    match cli.command {
        Command::List { names } => {
            let width = EXPERIMENTS.iter().map(|e| e.name.len()).max().unwrap_or(0);
            for e in EXPERIMENTS {
                if names {
                    out!("{}", e.name);
                } else {
                    out!("{:<width$}  {}", e.name, e.description);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Data {
            dataset,
            n,
            difficulty,
            seed,
            pair,
            split,
            data_dir,
        } => {
            let opts = InspectOptions {
                n: n as usize,
                seed,
                difficulty,
                pair,
                split,
                data_dir,
            };
            out_raw!("{}", inspect(&dataset, &opts)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            experiment,
            device,
            seed,
            seeds,
            only_seed,
            jobs,
            epochs,
            results_dir,
            quick,
            quiet,
            data_dir,
            threads,
        } => {
            let exp = find(&experiment)?;
            let seed_set = match &seeds {
                Some(s) => Some(parse_seeds_arg(s, seed).map_err(anyhow::Error::msg)?),
                None => None,
            };
            let mut opts = RunOptions {
                device,
                seed,
                seed_set: None,
                epochs: epochs.map(|e| e as usize),
                results_dir,
                quick,
                verbose: !quiet,
                data_dir,
                threads,
            };
            match (seed_set, only_seed) {
                (Some(set), None) => {
                    let choice = SeedChoice::List(set);
                    return run_many(&[exp], &choice, &opts, jobs, false);
                }
                (Some(set), Some(one)) => {
                    if !set.contains(&one) {
                        anyhow::bail!(
                            "--only-seed {one} is not one of --seeds {}",
                            seeds.unwrap_or_default()
                        );
                    }
                    opts.seed = one;
                    opts.seed_set = Some(set);
                }
                (None, _) => {}
            }
            let outcome = exp
                .start(&opts)
                .with_context(|| format!("experiment {} failed", exp.name))?;
            say!(
                "\n{} finished; results in {}",
                exp.name,
                outcome.dir.display()
            );
            for line in &outcome.headline {
                say!("  {line}");
            }
            if opts.quick {
                say!("  (quick profile: the targets are meant for the full profile)");
            } else if !outcome.targets_met {
                say!("  (some targets were missed; see metrics.json)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ReproduceAll {
            device,
            quick,
            only,
            seed,
            seeds,
            jobs,
            threads,
            epochs,
            results_dir,
            data_dir,
            plan: plan_only,
        } => {
            let mut chosen: Vec<&Experiment> = Vec::new();
            for name in &only {
                find(name)?;
            }
            for e in EXPERIMENTS {
                if only.is_empty() || only.iter().any(|n| n == e.name) {
                    chosen.push(e);
                }
            }
            let choice = match (&seeds, seed) {
                (Some(s), first) => SeedChoice::List(
                    parse_seeds_arg(s, first.unwrap_or(42)).map_err(anyhow::Error::msg)?,
                ),
                (None, Some(one)) => SeedChoice::Single(one),
                (None, None) => SeedChoice::Default(42),
            };
            let opts = RunOptions {
                device,
                epochs: epochs.map(|e| e as usize),
                results_dir,
                quick,
                verbose: true,
                data_dir,
                threads,
                ..RunOptions::default()
            };
            if plan_only {
                let o = plan_options(&opts)?;
                let cwd = std::env::current_dir().context("cannot read the current folder")?;
                let mut out = std::io::stdout().lock();
                for job in plan(&chosen, &choice, &o) {
                    use std::io::Write as _;
                    if writeln!(out, "{}", job.shell_line(&cwd)).is_err() {
                        break;
                    }
                }
                note!(
                    "then summarise whatever seeds have finished: {} report --results-dir {}",
                    o.program.display(),
                    o.results_dir.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            run_many(&chosen, &choice, &opts, jobs, true)
        }
        Command::Bench {
            workload,
            device,
            warmup,
            epochs,
            shrink,
            threads,
        } => {
            let opts = seqlab_experiments::bench::BenchOptions {
                warmup,
                epochs: epochs as usize,
                shrink: shrink as usize,
                allocator,
                threads,
            };
            let result =
                seqlab_experiments::bench::run_workload(&workload, device.resolve()?, &opts)?;
            out!("{}", serde_json::to_string(&result)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { results_dir } => {
            match std::fs::metadata(&results_dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => anyhow::bail!(
                    "results folder {} is a file, not a folder",
                    results_dir.display()
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    anyhow::bail!("results folder {} does not exist", results_dir.display())
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot read results folder {}", results_dir.display())
                    })
                }
            }
            let all: Vec<&Experiment> = EXPERIMENTS.iter().collect();
            for (name, summary) in aggregate_all(&results_dir, &all)? {
                let seeds = summary["seeds"].as_array().map_or(0, Vec::len);
                let missing = summary["missing_seeds"]
                    .as_array()
                    .filter(|m| !m.is_empty())
                    .map(|m| {
                        format!(
                            "; missing seeds {}",
                            m.iter()
                                .map(|v| v.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .unwrap_or_default();
                out!("summarised {name}: {seeds} seeds{missing}");
            }
            let path = seqlab_experiments::report::write_report(&results_dir)?;
            out!("wrote {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Predict {
            experiment,
            mut text,
            file,
            results_dir,
            threshold,
            device,
        } => {
            if let Some(path) = &file {
                let from_file = read_reviews(path)?;
                if from_file.is_empty() {
                    anyhow::bail!("{} holds no reviews (one per line)", path.display());
                }
                text.extend(from_file);
            }
            let opts = PredictOptions {
                experiment,
                results_dir,
                threshold,
                device: device.resolve()?,
            };
            let predictor = Predictor::load(&opts)?;
            let predictions = predictor.predict(&text)?;
            out!(
                "probability  label     (threshold {:.3}; {} model from {})",
                predictor.threshold(),
                predictor.saved().cell,
                predictor.dir().display()
            );
            for (p, review) in predictions.iter().zip(&text) {
                let shown: String = review.chars().take(60).collect();
                let more = if review.chars().count() > 60 {
                    "..."
                } else {
                    ""
                };
                out!(
                    "{:>11.4}  {:<8}  {shown}{more}",
                    p.probability,
                    if p.positive { "positive" } else { "negative" }
                );
                if p.tokens_used > 0 && p.unknown_tokens == p.tokens_used {
                    out!("             (none of its words is in the model's vocabulary)");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Absolute paths for the processes of a plan.
fn plan_options(opts: &RunOptions) -> Result<PlanOptions> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let absolute = |p: &std::path::Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        }
    };
    let program = std::env::current_exe().context("cannot find the seqlab binary's path")?;
    let results_dir = absolute(&opts.results_dir);
    let data_dir =
        absolute(seqlab_data::datadir::DataDir::resolve(opts.data_dir.as_deref()).root());
    // Each seed's process and each line of a plan get these paths as text.
    for (what, path) in [
        ("--results-dir", &results_dir),
        ("the data directory", &data_dir),
        ("the seqlab binary's path", &program),
    ] {
        if path.to_str().is_none() {
            anyhow::bail!(
                "{what} {} is not valid UTF-8; a run of several seeds passes it to each seed's \
                 process and to shell lines, so use a UTF-8 path (a single seed's `seqlab run` \
                 takes any path)",
                path.display()
            );
        }
    }
    Ok(PlanOptions {
        program,
        results_dir,
        data_dir: Some(data_dir),
        device: opts.device,
        quick: opts.quick,
        epochs: opts.epochs,
        threads: opts.threads,
        cores: seqlab_train::runtime::cores(),
    })
}

/// Runs every (experiment, seed) of `choice` as its own process, then
/// summarises each experiment's seeds (and, with `report`, writes the
/// status table and REPORT.md). Exits non-zero if any process failed.
fn run_many(
    experiments: &[&Experiment],
    choice: &SeedChoice,
    opts: &RunOptions,
    limit: JobLimit,
    report: bool,
) -> Result<ExitCode> {
    let o = plan_options(opts)?;
    let jobs = plan(experiments, choice, &o);
    // A multi-seed run owns each experiment's folder until its summary is written.
    let mut _locks = Vec::new();
    if !matches!(choice, SeedChoice::Single(_)) {
        for e in experiments {
            _locks.push(seqlab_io::DirLock::acquire(o.results_dir.join(e.name))?);
        }
        for e in experiments {
            let seeds: Vec<u64> = jobs
                .iter()
                .filter(|j| j.experiment == e.name)
                .map(|j| j.seed)
                .collect();
            let removed = prune_seed_folders(&o.results_dir, e.name, &seeds)?;
            if !removed.is_empty() {
                note!(
                    "{}: removed the folders of seeds {removed:?} (not in this run's seeds)",
                    e.name
                );
            }
        }
    }
    let started = std::time::Instant::now();
    let results = run_jobs(&jobs, limit, o.cores);
    let wall = started.elapsed().as_secs_f64();
    let mut failed: Vec<String> = Vec::new();
    for (j, r) in jobs.iter().zip(&results) {
        if !r.ok {
            failed.push(format!("{} seed {}", j.experiment, j.seed));
        }
    }
    if report {
        write_runs(&o.results_dir, &jobs, &results)?;
    }
    // Summaries of whatever seeds finished; a failed summary is reported, not fatal to the others.
    if !matches!(choice, SeedChoice::Single(_)) {
        for e in experiments {
            match aggregate::aggregate(&o.results_dir.join(e.name), e.aggregate) {
                Ok(Some(summary)) => {
                    say!(
                        "\n{} ({} seeds): results in {}",
                        e.name,
                        summary["seeds"].as_array().map_or(0, Vec::len),
                        o.results_dir.join(e.name).display()
                    );
                    for line in aggregate::headline(&summary) {
                        say!("  {line}");
                    }
                }
                Ok(None) => {}
                Err(err) => {
                    note!("error: cannot summarise {}: {err}", e.name);
                    failed.push(format!("{} (summary)", e.name));
                }
            }
        }
        if opts.quick {
            say!("  (quick profile: the targets are meant for the full profile)");
        }
    }
    let by_experiment = seqlab_experiments::jobs::seconds_by_experiment(&jobs, &results);
    if report {
        say!(
            "\n{:<16} {:>5} {:>8} {:>12}",
            "experiment",
            "jobs",
            "failed",
            "seconds"
        );
        for e in experiments {
            let n = jobs.iter().filter(|j| j.experiment == e.name).count();
            let bad = jobs
                .iter()
                .zip(&results)
                .filter(|(j, r)| j.experiment == e.name && !r.ok)
                .count();
            say!(
                "{:<16} {n:>5} {bad:>8} {:>12.1}",
                e.name,
                by_experiment.get(e.name).copied().unwrap_or(0.0)
            );
        }
        say!(
            "{:<16} {:>5} {:>8} {wall:>12.1} (wall clock)",
            "total",
            jobs.len(),
            failed.len()
        );
        let path = seqlab_experiments::report::write_report(&o.results_dir)?;
        say!("wrote {}", path.display());
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        note!("error: {} failed: {}", failed.len(), failed.join(", "));
        Ok(ExitCode::FAILURE)
    }
}
