//! `cargo xtask`: seqlab's orchestration, free of libtorch and of dependencies.
//!
//! - `setup`: make libtorch 2.11.0 available (LIBTORCH, or wheels from the package index into `.libtorch/`).
//! - `test`: setup, then every test of the workspace.
//! - `run <experiment> [seqlab run options]`: setup, then the experiment in a release build.
//! - `reproduce-all [--device D] [--quick] [--only a,b] [--seed N] [--results-dir DIR]`: every
//!   registered experiment (or those named), then `seqlab report`.

mod bench;
mod libtorch;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  setup                      make libtorch 2.11.0 available (uses LIBTORCH if set, else installs the
                             PyPI wheels torch==2.11.0 + two CUDA runtime wheels into .libtorch/)
  test                       setup, then run every test of the workspace (cargo test --workspace);
                             SEQLAB_DATA_DIR defaults to ../shared/data when that folder exists
  run <experiment> [opts]    setup, then `seqlab run <experiment> [opts]` from a release build
                             (opts: --device cpu|cuda|auto --seed N --epochs N --results-dir DIR --quick
                             --threads auto|N)
  reproduce-all [opts]       setup, then run every registered experiment, cheapest first, continue past
                             failures, print a summary table, write <results-dir>/REPORT.md, and exit
                             non-zero if any failed (opts: --device cpu|cuda|auto --quick --only a,b
                             --seed N --results-dir DIR --threads auto|N)
  bench [opts]               setup, then training throughput of seqlab and of a PyTorch eager peer
                             (bench/peers/peers.py; PyTorch 2.11.0 installed into .bench/ once) per
                             workload; writes results/BENCH.md (opts: --device cpu|cuda --workload W
                             --warmup N --epochs N --shrink N --rounds N --no-peer --out FILE)
  help                       this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => libtorch::setup(&root()).map(|_| ()),
        Some("test") => test(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("reproduce-all") => reproduce_all(&args[1..]),
        Some("bench") => libtorch::setup(&root())
            .and_then(|_| build_seqlab(&features_for(&args[1..])))
            .and_then(|seqlab| bench::bench(&args[1..], &root(), &seqlab)),
        Some("help") | Some("--help") | Some("-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives in `<root>/xtask`).
fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn status(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn test(args: &[String]) -> Result<(), String> {
    libtorch::setup(&root())?;
    let mut cmd = cargo();
    cmd.args(["test", "--workspace"]).args(args);
    // Tests read the real data sets from the shared reference data beside the checkout when it is there.
    let shared = root().join("..").join("shared").join("data");
    if std::env::var_os("SEQLAB_DATA_DIR").is_none() && shared.is_dir() {
        println!("xtask: SEQLAB_DATA_DIR={}", shared.display());
        cmd.env("SEQLAB_DATA_DIR", &shared);
    }
    // With a data folder known, a test that cannot find its data fails instead of skipping.
    if std::env::var_os("SEQLAB_DATA_DIR").is_some() || shared.is_dir() {
        cmd.env("SEQLAB_REQUIRE_DATA", "1");
    }
    println!("xtask: running cargo test --workspace {}", args.join(" "));
    status(&mut cmd, "cargo test")
}

/// Builds the `seqlab` binary in release mode and returns its path.
fn build_seqlab(features: &[String]) -> Result<PathBuf, String> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "-p",
        "seqlab-experiments",
        "--bin",
        "seqlab",
    ]);
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    status(&mut cmd, "cargo build --release (seqlab)")?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    Ok(target.join("release").join("seqlab"))
}

/// `--features cuda` when the device flag asks for CUDA and SEQLAB_CUDA=1 opts in to CUDA linking.
fn features_for(args: &[String]) -> Vec<String> {
    let wants_gpu = args
        .windows(2)
        .any(|w| w[0] == "--device" && (w[1] == "cuda" || w[1] == "auto"));
    if wants_gpu && std::env::var("SEQLAB_CUDA").is_ok_and(|v| v == "1") {
        vec!["cuda".into()]
    } else {
        Vec::new()
    }
}

fn run(args: &[String]) -> Result<(), String> {
    if args.is_empty() {
        return Err(format!("run needs an experiment name\n\n{USAGE}"));
    }
    libtorch::setup(&root())?;
    let seqlab = build_seqlab(&features_for(args))?;
    status(
        Command::new(&seqlab)
            .current_dir(root())
            .arg("run")
            .args(args),
        "seqlab run",
    )
}

fn reproduce_all(args: &[String]) -> Result<(), String> {
    let mut pass = Vec::new();
    let mut only: Option<Vec<String>> = None;
    let mut results_dir = root().join("results");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => pass.push(a.clone()),
            "--device" | "--seed" | "--results-dir" | "--threads" => {
                let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
                if a == "--results-dir" {
                    results_dir = root().join(v);
                }
                pass.push(a.clone());
                pass.push(v.clone());
            }
            "--only" => {
                let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
                only = Some(
                    v.split(',')
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty())
                        .collect(),
                );
            }
            other => return Err(format!("unknown reproduce-all option {other:?}\n\n{USAGE}")),
        }
    }
    libtorch::setup(&root())?;
    let seqlab = build_seqlab(&features_for(&pass))?;
    let list = Command::new(&seqlab)
        .current_dir(root())
        .args(["list", "--names"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", seqlab.display()))?;
    if !list.status.success() {
        return Err(format!(
            "seqlab list failed: {}",
            String::from_utf8_lossy(&list.stderr)
        ));
    }
    let mut names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    if let Some(only) = &only {
        if let Some(bad) = only.iter().find(|n| !names.contains(n)) {
            return Err(format!(
                "--only names an unknown experiment {bad:?}; available: {}",
                names.join(", ")
            ));
        }
        // Keep the registry's order (cheap first; dependencies first).
        names.retain(|n| only.contains(n));
    }
    let started = Instant::now();
    let mut rows = Vec::new();
    for name in &names {
        println!("\n=== {name} ===");
        let t = Instant::now();
        let ok = Command::new(&seqlab)
            .current_dir(root())
            .args(["run", name])
            .args(&pass)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        rows.push((name.clone(), ok, t.elapsed().as_secs_f64()));
    }
    println!("\n{:<16} {:<8} {:>10}", "experiment", "status", "seconds");
    for (name, ok, secs) in &rows {
        println!(
            "{:<16} {:<8} {:>10.1}",
            name,
            if *ok { "ok" } else { "FAILED" },
            secs
        );
    }
    println!(
        "{:<16} {:<8} {:>10.1}",
        "total",
        "",
        started.elapsed().as_secs_f64()
    );
    write_runs(&results_dir, &rows)?;
    let report = Command::new(&seqlab)
        .current_dir(root())
        .arg("report")
        .arg("--results-dir")
        .arg(&results_dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !report {
        return Err("seqlab report failed".into());
    }
    let failed: Vec<&str> = rows.iter().filter(|r| !r.1).map(|r| r.0.as_str()).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} experiment(s) failed: {}",
            failed.len(),
            failed.join(", ")
        ))
    }
}

/// Writes the status table `reproduce-all.tsv` (read by `seqlab report`),
/// through a temporary file and a rename.
fn write_runs(results_dir: &std::path::Path, rows: &[(String, bool, f64)]) -> Result<(), String> {
    let mut text = String::new();
    for (name, ok, secs) in rows {
        text.push_str(&format!(
            "{name}\t{}\t{secs:.1}\n",
            if *ok { "ok" } else { "failed" }
        ));
    }
    std::fs::create_dir_all(results_dir)
        .map_err(|e| format!("cannot create {}: {e}", results_dir.display()))?;
    let path = results_dir.join("reproduce-all.tsv");
    let tmp = results_dir.join(".seqlab-tmp-reproduce-all.tsv");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
