//! The `seqlab` command-line tool: a thin layer over `seqlab-experiments`.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use seqlab_experiments::{find, RunOptions, EXPERIMENTS};
use seqlab_train::device::DeviceChoice;
use std::path::PathBuf;
use std::process::ExitCode;

/// Reproduce the classic recurrent-network experiments on libtorch.
#[derive(Parser, Debug)]
#[command(name = "seqlab", version)]
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
    },
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
    match cli.command {
        Command::List { names } => {
            for e in EXPERIMENTS {
                if names {
                    println!("{}", e.name);
                } else {
                    println!("{:<12} {}", e.name, e.description);
                }
            }
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
        } => {
            let exp = find(&experiment)?;
            let opts = RunOptions {
                device,
                seed,
                epochs: epochs.map(|e| e as usize),
                results_dir,
                quick,
                verbose: !quiet,
            };
            let outcome =
                (exp.run)(&opts).with_context(|| format!("experiment {} failed", exp.name))?;
            println!(
                "\n{} finished; results in {}",
                exp.name,
                outcome.dir.display()
            );
            for line in &outcome.headline {
                println!("  {line}");
            }
            if !outcome.targets_met {
                println!("  (some targets were missed; see metrics.json)");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
