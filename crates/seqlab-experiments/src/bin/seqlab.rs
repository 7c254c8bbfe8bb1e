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
use seqlab_experiments::{find, RunOptions, EXPERIMENTS};
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
                    results are reproducible at the same thread count";

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
    Run {
        /// Experiment name (see `seqlab list`).
        experiment: String,
        /// Device: cpu, cuda or auto (cuda if available).
        #[arg(long, default_value = "cpu", value_parser = parse_device)]
        device: DeviceChoice,
        /// Seed for data, initialisation and shuffling.
        #[arg(long, default_value_t = 42)]
        seed: u64,
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
    /// Write <results-dir>/REPORT.md from the experiments' results there.
    Report {
        /// Folder holding the experiments' folders.
        #[arg(long, default_value = "results")]
        results_dir: PathBuf,
    },
    /// Score reviews with a trained IMDb model (run `seqlab run imdb-lstm` first).
    ///
    /// Prints, per review, the probability that it is positive and the label
    /// at the threshold (by default the Youden-optimal one saved with the
    /// model), then the review's first words.
    Predict {
        /// The trained model: imdb-lstm or imdb-rnn.
        experiment: String,
        /// A review to score (repeat for several).
        #[arg(long, required_unless_present = "file")]
        text: Vec<String>,
        /// A file with one review per line (blank lines are skipped; `-` reads stdin).
        #[arg(long)]
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
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<ExitCode> {
    let cli = Cli::parse();
    // Before any tensor exists: fewer page faults per training step, same results.
    let allocator = seqlab_train::runtime::tune_allocator()?;
    match cli.command {
        Command::List { names } => {
            let width = EXPERIMENTS.iter().map(|e| e.name.len()).max().unwrap_or(0);
            for e in EXPERIMENTS {
                if names {
                    println!("{}", e.name);
                } else {
                    println!("{:<width$}  {}", e.name, e.description);
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
            print!("{}", inspect(&dataset, &opts)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            experiment,
            device,
            seed,
            epochs,
            results_dir,
            quick,
            quiet,
            data_dir,
            threads,
        } => {
            let exp = find(&experiment)?;
            let opts = RunOptions {
                device,
                seed,
                epochs: epochs.map(|e| e as usize),
                results_dir,
                quick,
                verbose: !quiet,
                data_dir,
                threads,
            };
            let outcome = exp
                .start(&opts)
                .with_context(|| format!("experiment {} failed", exp.name))?;
            println!(
                "\n{} finished; results in {}",
                exp.name,
                outcome.dir.display()
            );
            for line in &outcome.headline {
                println!("  {line}");
            }
            if opts.quick {
                println!("  (quick profile: the targets are meant for the full profile)");
            } else if !outcome.targets_met {
                println!("  (some targets were missed; see metrics.json)");
            }
            Ok(ExitCode::SUCCESS)
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
            println!("{}", serde_json::to_string(&result)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { results_dir } => {
            if !results_dir.is_dir() {
                anyhow::bail!("results folder {} does not exist", results_dir.display());
            }
            let path = seqlab_experiments::report::write_report(&results_dir)?;
            println!("wrote {}", path.display());
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
            println!(
                "probability  label     (threshold {:.3}; {} model from {})",
                predictor.threshold(),
                predictor.saved().cell,
                opts.results_dir.join(&opts.experiment).display()
            );
            for (p, review) in predictions.iter().zip(&text) {
                let shown: String = review.chars().take(60).collect();
                let more = if review.chars().count() > 60 {
                    "..."
                } else {
                    ""
                };
                println!(
                    "{:>11.4}  {:<8}  {shown}{more}",
                    p.probability,
                    if p.positive { "positive" } else { "negative" }
                );
                if p.tokens_used > 0 && p.unknown_tokens == p.tokens_used {
                    println!("             (none of its words is in the model's vocabulary)");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
