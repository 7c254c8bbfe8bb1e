//! The `seqlab` command-line tool: a thin layer over `seqlab-experiments`.

// Doc comments here are the CLI's --help text, where `<experiment>` is meant literally.
#![allow(rustdoc::invalid_html_tags)]

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use seqlab_data::mnist::Split;
use seqlab_data::sine_pairs::FunctionPair;
use seqlab_data::temporal_order::Difficulty;
use seqlab_experiments::imdb::{PredictOptions, Predictor};
use seqlab_experiments::inspect::{inspect, InspectOptions, DATASETS};
use seqlab_experiments::jobs::{parse_seeds_arg, run_jobs, JobLimit};
use seqlab_experiments::record::Summary;
use seqlab_experiments::reproduce::{
    aggregate_all, plan, prune_seed_folders, write_runs, PlanOptions, SeedChoice,
};
use seqlab_experiments::{aggregate, find, Registered, RunOptions, EXPERIMENTS};
use seqlab_train::device::DeviceChoice;
use seqlab_train::runtime::ThreadChoice;
use std::path::PathBuf;
use std::process::ExitCode;

const ENVIRONMENT_HELP: &str = "Environment:
  SEQLAB_DATA_DIR   data directory for MNIST and IMDb (default ./data; --data-dir wins)
  SEQLAB_OFFLINE    1: never download a missing data file
  SEQLAB_MALLOC     tuned (default: glibc malloc set up for training loops, same results, fewer
                    page faults; the IMDb and MNIST experiments start once more with
                    glibc.malloc.hugetlb=1 where the kernel gives huge pages on request),
                    thresholds (the same without huge pages) or system (glibc's defaults); own
                    GLIBC_TUNABLES/MALLOC_* settings are always kept
  OMP_NUM_THREADS   libtorch's intra-op threads when --threads is auto (the default); unset, each
                    experiment picks its own (1 for every one of the chapter's); seeded results are
                    reproducible at the same thread count. Like --threads, a whole number from 1
                    to 4 per core: any other value is an error naming the variable
  SEQLAB_RNN_KERNEL fused (default: seqlab's whole-sequence CPU kernel for RNN, GRU and LSTM
                    layers; its batch normalisation and Adam, equal to libtorch's to the bit) or
                    libtorch (libtorch's own); the two agree to float tolerance, not bit for
                    bit, and every run records which it used";

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
    List(ListArgs),
    /// Run one experiment and write results/<experiment>/.
    ///
    /// With --seeds, every seed runs as its own process (up to --jobs at
    /// once) into results/<experiment>/seeds/<seed>/, and
    /// results/<experiment>/metrics.json then summarises the seeds: per
    /// target the values, mean, standard deviation, range and a 95% interval
    /// for the mean (Student's t); the verdict is judged on the mean.
    Run(RunArgs),
    /// Print decoded samples of a data set and their labels.
    #[command(after_help = datasets_help())]
    Data(DataArgs),
    /// Measure training throughput of one workload; prints one JSON line (used by `cargo xtask bench`).
    Bench(BenchArgs),
    /// Run every experiment (or those named), several seeds each, then write the report.
    ///
    /// Without --seed or --seeds: each experiment's own number of seeds (5;
    /// 3 for the MNIST autoencoders; 2 with --quick) from seed 42. With
    /// --seed N alone: that one seed, as `seqlab run` writes it. Jobs whose
    /// seed took longest in <results-dir>/reproduce-all.tsv start first.
    /// Continues past failures, writes <results-dir>/reproduce-all.tsv and
    /// REPORT.md, and exits non-zero if any run failed.
    ReproduceAll(ReproduceAllArgs),
    /// Write <results-dir>/REPORT.md from the experiments' results there.
    ///
    /// Experiments with seed folders are summarised first from whatever
    /// seeds exist (the report names the missing ones). An experiment that
    /// another run is writing is skipped (its summary is left as it was),
    /// and one whose files cannot be read is flagged in the report, which
    /// goes on with the others; the exit status is then non-zero.
    Report(ReportArgs),
    /// Score reviews with a trained IMDb model (run `seqlab run imdb-lstm` first).
    ///
    /// Prints, per review, the probability that it is positive and the label
    /// at the threshold (by default the Youden-optimal one saved with the
    /// model), then the review's first words. After a multi-seed run the
    /// model of the lowest seed (results/<experiment>/seeds/<seed>/) is used.
    /// The model's files must be its run's (as manifest.json lists them) and
    /// its weights finite, or nothing is scored.
    #[command(group = clap::ArgGroup::new("input").required(true).multiple(true))]
    Predict(PredictArgs),
}

/// The flags of `seqlab list`.
#[derive(Args, Debug)]
struct ListArgs {
    /// Print only the names, one per line.
    #[arg(long)]
    names: bool,
}

/// The flags of `seqlab run`.
#[derive(Args, Debug)]
struct RunArgs {
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
    /// Intra-op CPU threads: auto (OMP_NUM_THREADS if set, else the experiment's own: 1 for each of the chapter's) or a number.
    #[arg(long, default_value = "auto")]
    threads: ThreadChoice,
}

/// The flags of `seqlab data`.
#[derive(Args, Debug)]
struct DataArgs {
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
}

/// The flags of `seqlab bench`.
#[derive(Args, Debug)]
struct BenchArgs {
    /// Workload: toy-seq2one, temporal-order-hard, imdb-lstm, imdb-rnn, mnist-bilstm-ae, seq2seq-sine, sweep-rnn-tanh, sweep-lstm or sweep-gru.
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
    /// Intra-op CPU threads: auto (OMP_NUM_THREADS if set, else the experiment's own: 1 for each of the chapter's) or a number.
    #[arg(long, default_value = "auto")]
    threads: ThreadChoice,
}

/// The flags of `seqlab reproduce-all`.
#[derive(Args, Debug)]
struct ReproduceAllArgs {
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
}

/// The flags of `seqlab report`.
#[derive(Args, Debug)]
struct ReportArgs {
    /// Folder holding the experiments' folders.
    #[arg(long, default_value = "results")]
    results_dir: PathBuf,
    /// Also rewrite the generated table of experiments in this README (between its markers).
    #[arg(long)]
    readme: Option<PathBuf>,
    /// Summarise seeds even where their settings differ (profile, device, threads,
    /// --epochs); each difference is listed in the summary and flagged in the report.
    #[arg(long)]
    allow_mixed_settings: bool,
}

/// The flags of `seqlab predict`.
#[derive(Args, Debug)]
struct PredictArgs {
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

/// Rewrites the generated table of experiments in `readme` from `results_dir`.
fn update_readme(readme: &std::path::Path, results_dir: &std::path::Path) -> Result<()> {
    use seqlab_experiments::readme;
    let text = std::fs::read_to_string(readme)
        .with_context(|| format!("cannot read {}", readme.display()))?;
    let block = readme::summary(results_dir)?;
    let new = readme::with_block(&text, &block).with_context(|| {
        format!(
            "{} has no generated table: put the lines {:?} and {:?} where it goes",
            readme.display(),
            readme::BEGIN,
            readme::END
        )
    })?;
    seqlab_io::write_atomic(readme, new.as_bytes())
        .with_context(|| format!("cannot write {}", readme.display()))?;
    Ok(())
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
    // Training that suits huge pages for malloc starts once more with them
    // (glibc reads its tunables only at start-up); same results, faster steps.
    if wants_huge_pages(&cli.command) {
        seqlab_train::runtime::restart_with_huge_pages()?;
    }
    // Before any tensor exists: fewer page faults per training step, same results.
    let allocator = seqlab_train::runtime::tune_allocator()?;
    // A bad OMP_NUM_THREADS would silently become libtorch's default.
    seqlab_train::runtime::omp_num_threads()?;
    // A misspelt SEQLAB_RNN_KERNEL would silently become the default kernel.
    seqlab_models::fused::kernel()?;
    match cli.command {
        Command::List(args) => list(&args),
        Command::Data(args) => data(args),
        Command::Run(args) => run(args),
        Command::ReproduceAll(args) => reproduce_all(args),
        Command::Bench(args) => bench(args, allocator),
        Command::Report(args) => report(
            &args.results_dir,
            args.readme.as_deref(),
            args.allow_mixed_settings,
        ),
        Command::Predict(args) => predict(args),
    }
}

/// The command trains, in this process, an experiment or workload that
/// declares huge pages (`Experiment::HUGE_PAGES`); a multi-seed run's own
/// process only starts the seeds, each of which decides for itself.
fn wants_huge_pages(command: &Command) -> bool {
    match command {
        Command::Run(args) => {
            (args.seeds.is_none() || args.only_seed.is_some())
                && find(&args.experiment).is_ok_and(|e| e.huge_pages)
        }
        Command::Bench(args) => seqlab_experiments::bench::huge_pages_hint(&args.workload),
        _ => false,
    }
}

/// `seqlab list`: the experiments, with their descriptions or names only.
fn list(args: &ListArgs) -> Result<ExitCode> {
    let width = EXPERIMENTS.iter().map(|e| e.name.len()).max().unwrap_or(0);
    for e in EXPERIMENTS {
        if args.names {
            out!("{}", e.name);
        } else {
            out!("{:<width$}  {}", e.name, e.description);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `seqlab data`: decoded samples of a data set.
fn data(args: DataArgs) -> Result<ExitCode> {
    let opts = InspectOptions {
        n: args.n as usize,
        seed: args.seed,
        difficulty: args.difficulty,
        pair: args.pair,
        split: args.split,
        data_dir: args.data_dir,
    };
    out_raw!("{}", inspect(&args.dataset, &opts)?);
    Ok(ExitCode::SUCCESS)
}

/// What `seqlab run` is to do, its flags checked.
enum RunPlan {
    /// One seed in this process (`--seed`, or one `--only-seed` of a set).
    One(&'static Registered, RunOptions),
    /// Every seed of the set as its own process, up to this many at once.
    Seeds(&'static Registered, SeedChoice, RunOptions, JobLimit),
}

impl RunArgs {
    /// Checks the experiment and the seeds (in that order) and makes the options.
    fn into_plan(self) -> Result<RunPlan> {
        let exp = find(&self.experiment)?;
        let seed_set = match &self.seeds {
            Some(s) => Some(parse_seeds_arg(s, self.seed).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let mut opts = RunOptions {
            device: self.device,
            seed: self.seed,
            seed_set: None,
            epochs: self.epochs.map(|e| e as usize),
            results_dir: self.results_dir,
            quick: self.quick,
            verbose: !self.quiet,
            data_dir: self.data_dir,
            threads: self.threads,
        };
        match (seed_set, self.only_seed) {
            (Some(set), None) => {
                return Ok(RunPlan::Seeds(exp, SeedChoice::List(set), opts, self.jobs))
            }
            (Some(set), Some(one)) => {
                if !set.contains(&one) {
                    anyhow::bail!(
                        "--only-seed {one} is not one of --seeds {}",
                        self.seeds.unwrap_or_default()
                    );
                }
                opts.seed = one;
                opts.seed_set = Some(set);
            }
            (None, _) => {}
        }
        Ok(RunPlan::One(exp, opts))
    }
}

/// `seqlab run`: one seed here, or every seed of `--seeds` as its own process.
fn run(args: RunArgs) -> Result<ExitCode> {
    match args.into_plan()? {
        RunPlan::Seeds(exp, choice, opts, jobs) => run_many(&[exp], &choice, &opts, jobs, false),
        RunPlan::One(exp, opts) => run_one(exp, &opts),
    }
}

/// Runs one seed of `exp` in this process and prints where its results are.
fn run_one(exp: &Registered, opts: &RunOptions) -> Result<ExitCode> {
    let outcome = exp
        .start(opts)
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

impl ReproduceAllArgs {
    /// The experiments to run: those of `--only` (each checked), in the registry's order.
    fn experiments(&self) -> Result<Vec<&'static Registered>> {
        for name in &self.only {
            find(name)?;
        }
        Ok(EXPERIMENTS
            .iter()
            .filter(|e| self.only.is_empty() || self.only.iter().any(|n| n == e.name))
            .collect())
    }

    /// The seeds of `--seed` and `--seeds`.
    fn seed_choice(&self) -> Result<SeedChoice> {
        Ok(match (&self.seeds, self.seed) {
            (Some(s), first) => SeedChoice::List(
                parse_seeds_arg(s, first.unwrap_or(42)).map_err(anyhow::Error::msg)?,
            ),
            (None, Some(one)) => SeedChoice::Single(one),
            (None, None) => SeedChoice::Default(42),
        })
    }
}

/// `seqlab reproduce-all`: every chosen experiment's seeds, then the
/// report; or, with `--plan`, only their command lines.
fn reproduce_all(args: ReproduceAllArgs) -> Result<ExitCode> {
    let chosen = args.experiments()?;
    let choice = args.seed_choice()?;
    let opts = RunOptions {
        device: args.device,
        epochs: args.epochs.map(|e| e as usize),
        results_dir: args.results_dir,
        quick: args.quick,
        verbose: true,
        data_dir: args.data_dir,
        threads: args.threads,
        ..RunOptions::default()
    };
    if args.plan {
        print_plan(&chosen, &choice, &opts)?;
        return Ok(ExitCode::SUCCESS);
    }
    run_many(&chosen, &choice, &opts, args.jobs, true)
}

/// `seqlab bench`: one workload's throughput as a JSON line.
fn bench(args: BenchArgs, allocator: seqlab_train::runtime::AllocatorSetup) -> Result<ExitCode> {
    let opts = seqlab_experiments::bench::BenchOptions {
        warmup: args.warmup,
        epochs: args.epochs as usize,
        shrink: args.shrink as usize,
        allocator,
        threads: args.threads,
    };
    let result =
        seqlab_experiments::bench::run_workload(&args.workload, args.device.resolve()?, &opts)?;
    out!("{}", serde_json::to_string(&result)?);
    Ok(ExitCode::SUCCESS)
}

/// `seqlab predict`: scores the reviews of `--text` and `--file`.
fn predict(args: PredictArgs) -> Result<ExitCode> {
    let mut text = args.text;
    if let Some(path) = &args.file {
        let from_file = read_reviews(path)?;
        if from_file.is_empty() {
            anyhow::bail!("{} holds no reviews (one per line)", path.display());
        }
        text.extend(from_file);
    }
    let opts = PredictOptions {
        experiment: args.experiment,
        results_dir: args.results_dir,
        threshold: args.threshold,
        device: args.device.resolve()?,
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
        print_prediction(p, review)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One review's line of `seqlab predict`.
fn print_prediction(p: &seqlab_experiments::imdb::Prediction, review: &str) -> Result<()> {
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
    Ok(())
}

/// `seqlab report`: summarises every experiment's seeds, writes REPORT.md,
/// and only then prints (a closed stdout ends the output, never the files).
fn report(
    results_dir: &std::path::Path,
    readme: Option<&std::path::Path>,
    allow_mixed: bool,
) -> Result<ExitCode> {
    match std::fs::metadata(results_dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => anyhow::bail!(
            "results folder {} is a file, not a folder",
            results_dir.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("results folder {} does not exist", results_dir.display())
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read results folder {}", results_dir.display()))
        }
    }
    let all: Vec<&Registered> = EXPERIMENTS.iter().collect();
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (name, summary) in aggregate_all(results_dir, &all, allow_mixed) {
        match summary {
            Ok(summary) => lines.push(summary_line(&name, &summary)),
            Err(seqlab_experiments::ExperimentError::Io(e @ seqlab_io::IoError::Locked { .. })) => {
                let e = seqlab_experiments::error_line([e.to_string()]);
                note!("skipped {name}: {e}; its summary was left as it was");
            }
            Err(e) => errors.push(format!(
                "cannot summarise {name}: {}",
                seqlab_experiments::error_line(anyhow::Error::from(e).chain())
            )),
        }
    }
    let (path, unreadable) = seqlab_experiments::report::write_report_checked(results_dir)?;
    errors.extend(unreadable);
    if let Some(readme) = readme {
        update_readme(readme, results_dir)?;
    }
    for e in &errors {
        note!("error: {e}");
    }
    for line in lines {
        out!("{line}");
    }
    out!("wrote {}", path.display());
    if let Some(readme) = readme {
        out!("updated the table of experiments in {}", readme.display());
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `summarised <name>: 3 seeds; missing seeds 43`, and warnings.
fn summary_line(name: &str, summary: &Summary) -> String {
    let mut line = format!("summarised {name}: {} seeds", summary.seeds.len());
    if !summary.missing_seeds.is_empty() {
        let missing: Vec<String> = summary.missing_seeds.iter().map(u64::to_string).collect();
        line.push_str(&format!("; missing seeds {}", missing.join(", ")));
    }
    for warning in summary.seed_problems.iter().chain(&summary.mixed_settings) {
        line.push_str(&format!("\n  WARNING {warning}"));
    }
    line
}

/// `reproduce-all --plan`: one shell line per job on stdout, then a hint on
/// stderr. Any failed write (a full disk, a closed pipe) is an error: a
/// plan cut short must not look complete.
fn print_plan(chosen: &[&Registered], choice: &SeedChoice, opts: &RunOptions) -> Result<()> {
    use std::io::Write as _;
    let o = plan_options(opts)?;
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let mut text = String::new();
    for job in plan(chosen, choice, &o)? {
        text.push_str(&job.shell_line(&cwd).map_err(anyhow::Error::msg)?);
        text.push('\n');
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write the plan to standard output")?;
    let quote = |p: &std::path::Path| seqlab_experiments::jobs::shell_quote(&p.to_string_lossy());
    note!(
        "then summarise whatever seeds have finished: {} report --results-dir {}",
        quote(&o.program),
        quote(&o.results_dir)
    );
    Ok(())
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
    experiments: &[&Registered],
    choice: &SeedChoice,
    opts: &RunOptions,
    limit: JobLimit,
    report: bool,
) -> Result<ExitCode> {
    let o = plan_options(opts)?;
    let jobs = plan(experiments, choice, &o)?;
    let multi_seed = !matches!(choice, SeedChoice::Single(_));
    let (_owner, shared) = if multi_seed {
        lock_experiments(experiments, &o.results_dir)?
    } else {
        (Vec::new(), Vec::new())
    };
    let started = std::time::Instant::now();
    let results = run_jobs(&jobs, limit, o.cores);
    // The summaries below take the experiment's lock exclusively.
    drop(shared);
    let wall = started.elapsed().as_secs_f64();
    let mut failed: Vec<String> = jobs
        .iter()
        .zip(&results)
        .filter(|(_, r)| !r.ok)
        .map(|(j, _)| format!("{} seed {}", j.experiment, j.seed))
        .collect();
    if report {
        write_runs(&o.results_dir, &jobs, &results)?;
    }
    // Summaries of whatever seeds finished; a failed summary is reported, not fatal to the others.
    if multi_seed {
        for e in experiments {
            if let Err(err) = summarise_after_run(e, &o.results_dir, &jobs, &results) {
                note!("error: cannot summarise {}: {err}", e.name);
                failed.push(format!("{} (summary)", e.name));
            }
        }
        if opts.quick {
            say!("  (quick profile: the targets are meant for the full profile)");
        }
    }
    if report {
        print_run_table(experiments, &jobs, &results, wall, failed.len());
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

/// Locks for a multi-seed run, held to its end: per experiment its `seeds/`
/// folder (one multi-seed run per experiment at a time), and its folder,
/// shared while the seeds run, so that no single-seed run or report
/// replaces it under them. Returns (owner locks, shared locks).
fn lock_experiments(
    experiments: &[&Registered],
    results_dir: &std::path::Path,
) -> Result<(Vec<seqlab_io::DirLock>, Vec<seqlab_io::DirLock>)> {
    let (mut owner, mut shared) = (Vec::new(), Vec::new());
    for e in experiments {
        let dir = results_dir.join(e.name);
        owner.push(seqlab_io::DirLock::acquire(dir.join(aggregate::SEEDS_DIR))?);
        shared.push(seqlab_io::DirLock::acquire_shared(&dir)?);
    }
    Ok((owner, shared))
}

/// The table of `reproduce-all`: jobs, failures and seconds per experiment,
/// then the total (`failed` counts the failed summaries too).
fn print_run_table(
    experiments: &[&Registered],
    jobs: &[seqlab_experiments::jobs::Job],
    results: &[seqlab_experiments::jobs::JobResult],
    wall: f64,
    failed: usize,
) {
    let by_experiment = seqlab_experiments::jobs::seconds_by_experiment(jobs, results);
    say!(
        "\n{:<16} {:>5} {:>8} {:>12}",
        "experiment",
        "jobs",
        "failed",
        "seconds"
    );
    for e in experiments {
        let mine = || {
            jobs.iter()
                .zip(results)
                .filter(|(j, _)| j.experiment == e.name)
        };
        let n = mine().count();
        let bad = mine().filter(|(_, r)| !r.ok).count();
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
        failed
    );
}

/// After the seeds of `e` ran: once every one of them succeeded, removes
/// the seed folders of earlier runs that are not in this run's list (never
/// before, so a failed or interrupted run keeps the previous results); then
/// summarises whatever seed folders exist. A summary is printed as this
/// run's only if at least one of its seeds finished.
fn summarise_after_run(
    e: &Registered,
    results_dir: &std::path::Path,
    jobs: &[seqlab_experiments::jobs::Job],
    results: &[seqlab_experiments::jobs::JobResult],
) -> Result<()> {
    let mine: Vec<(u64, bool)> = jobs
        .iter()
        .zip(results)
        .filter(|(j, _)| j.experiment == e.name)
        .map(|(j, r)| (j.seed, r.ok))
        .collect();
    let planned: Vec<u64> = mine.iter().map(|(s, _)| *s).collect();
    let failed: Vec<u64> = mine.iter().filter(|(_, ok)| !ok).map(|(s, _)| *s).collect();
    if failed.is_empty() {
        let removed = prune_seed_folders(results_dir, e.name, &planned)?;
        if !removed.is_empty() {
            note!(
                "{}: removed the folders of seeds {removed:?} (not in this run's seeds, which all finished)",
                e.name
            );
        }
    }
    let Some(summary) = e.summarise(results_dir, false)? else {
        return Ok(());
    };
    let present: Vec<u64> = summary.seeds.clone();
    let dir = results_dir.join(e.name);
    if failed.len() == planned.len() {
        say!(
            "\n{}: none of this run's seeds finished; {} still summarises the earlier seeds {present:?}",
            e.name,
            dir.join("metrics.json").display()
        );
        return Ok(());
    }
    say!(
        "\n{} ({} seeds): results in {}",
        e.name,
        present.len(),
        dir.display()
    );
    let earlier: Vec<u64> = present
        .iter()
        .copied()
        .filter(|s| !planned.contains(s))
        .collect();
    if !earlier.is_empty() {
        say!("  (seeds {failed:?} failed, so the earlier seeds {earlier:?} were kept and are part of this summary)");
    }
    for line in aggregate::headline(&summary) {
        say!("  {line}");
    }
    Ok(())
}
