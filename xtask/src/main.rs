//! `cargo xtask`: seqlab's orchestration, free of libtorch and of dependencies.
//!
//! - `setup`: make libtorch 2.11.0 available (LIBTORCH, or wheels from the package index into `.libtorch/`).
//! - `test`: setup, then every test of the workspace.
//! - `run <experiment> [seqlab run options]`: setup, then the experiment in a release build.
//! - `reproduce-all [opts]`: `seqlab reproduce-all` from a release build: every registered
//!   experiment (or those named) over several seeds, as separate processes side by side, then
//!   the summaries and `REPORT.md`.

mod bench;
mod device;
mod libtorch;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  setup                      make libtorch 2.11.0 available (uses LIBTORCH if set, else installs the
                             PyPI wheels torch==2.11.0 + two CUDA runtime wheels into .libtorch/)
  test                       setup, then run every test of the workspace (cargo test --workspace);
                             SEQLAB_DATA_DIR defaults to ../shared/data when that folder exists
  run <experiment> [opts]    setup, then `seqlab run <experiment> [opts]` from a release build
                             (opts: --device cpu|cuda|auto --seed N --seeds N|LIST --jobs auto|N
                             --epochs N --results-dir DIR --quick --threads auto|N)
  reproduce-all [opts]       setup, then `seqlab reproduce-all [opts]` from a release build: every
                             registered experiment, 5 seeds each (3 for the MNIST autoencoders, 2
                             with --quick) as separate processes, up to --jobs at once, the longest
                             (by the last reproduce-all.tsv) first;
                             continues past failures, summarises each experiment's seeds, writes
                             <results-dir>/reproduce-all.tsv and REPORT.md, exits non-zero if any run
                             failed (opts: --device cpu|cuda|auto --quick --only a,b --seed N
                             --seeds N|LIST --jobs auto|N --threads auto|N --epochs N --results-dir DIR
                             --data-dir DIR --plan; see `seqlab reproduce-all --help`)
  bench [opts]               setup, then training throughput of seqlab and of its peers per workload:
                             PyTorch eager (bench/peers/peers.py), Keras 3 on JAX and on TensorFlow
                             (bench/peers/keras_peers.py; CPU only), each installed into .bench/ once;
                             writes results/BENCH.md (opts: --device cpu|cuda --workload W --warmup N
                             --epochs N --shrink N --rounds N --no-peer --no-keras --out FILE)
  device-bundle [opts]       build the bundle that runs the chapter on a CUDA machine with PyTorch 2.11
                             (no Rust there): seqlab built with --features cuda, the data, run.sh
                             (bench/device/run.sh), the PyTorch peer, SHA256SUMS; in .device/; prints
                             what travels (tracked tree + bundle) and fails above 60 MiB
                             (opts: --out DIR --data-dir DIR --dry-run: the CPU debug binary instead,
                             for DEVICE_DRY_RUN=1 bash .device/run.sh here)
  device-import FILE...      unpack what run.sh returned (gpu-results.tar.gz, cpu-quick.tar.gz,
                             device.log) into results/gpu/ (text files only) and regenerate REPORT.md
                             and BENCH.md's GPU section (opts: --results-dir DIR --seqlab BIN)
  device-dry-run             the bundle with the CPU binary, DEVICE_DRY_RUN=1 run.sh (every kind of
                             step, one epoch, under a minute), and its import into a copy of results/
                             in target/device-dry/ (part of `test`)
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
        Some("device-bundle") => {
            libtorch::setup(&root()).and_then(|_| device::bundle(&args[1..], &root()).map(|_| ()))
        }
        Some("device-import") => device::import(&args[1..], &root()),
        Some("device-dry-run") => device_dry_run(),
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
    status(&mut cmd, "cargo test")?;
    outside_example()?;
    device_dry_run()
}

/// The workspace's target folder.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The experiments the dry run's quick step leaves out (every other
/// registered one runs: `run.sh` lists them with `seqlab list --names`).
const DRY_RUN_SKIP: [&str; 2] = ["imdb-rnn", "imdb-lstm"];

/// The device bundle's dry run: the bundle with the CPU binary, `run.sh`
/// under `DEVICE_DRY_RUN=1` (every step, tiny settings, under a minute), then
/// `device-import` of what it returned into a copy of `results/`, whose
/// REPORT.md and BENCH.md must gain the GPU sections.
fn device_dry_run() -> Result<(), String> {
    let root = root();
    let work = target_dir().join("device-dry");
    let _ = std::fs::remove_dir_all(&work);
    let libtorch = libtorch::setup(&root)?;
    let path = |p: &str| work.join(p).to_string_lossy().into_owned();
    let bundle = device::bundle(&["--dry-run".into(), "--out".into(), path("bundle")], &root)?;
    let started = std::time::Instant::now();
    println!("xtask: dry run of the device bundle (DEVICE_DRY_RUN=1 bash run.sh)");
    status(
        Command::new("bash")
            .arg(bundle.join("run.sh"))
            .env("OUT", work.join("out"))
            .env("DEVICE_DRY_RUN", "1")
            // Every kind of step, within a minute on two cores: the IMDb
            // experiments train on 3,200 reviews even with one epoch (10-20 s
            // each), so they run in the real device run only (their code is
            // tested by the crates' tests).
            .env("DEVICE_SKIP", DRY_RUN_SKIP.join(" "))
            .env("DEVICE_FULL", "mnist-bilstm-ae")
            .env("SEQLAB_TORCH_DIR", &libtorch),
        "the device bundle's dry run",
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if !work.join("out").join("gpu-results.tar.gz").is_file() {
        return Err("the device dry run returned no gpu-results.tar.gz".into());
    }
    println!("xtask: the dry run took {seconds:.1} s");
    if seconds > 60.0 {
        return Err(format!(
            "the device dry run took {seconds:.1} s, more than a minute"
        ));
    }
    device::check_dry_run(&work, &root, &target_dir().join("debug").join("seqlab"))
}

/// Builds and runs `examples/outside`, a project outside the workspace
/// that uses the crates as a user's project does, and checks what it
/// promises: it starts without
/// `LD_LIBRARY_PATH` (the rpath from `seqlab_build::link_libtorch`), it
/// pulls no download stack, and it writes its files.
fn outside_example() -> Result<(), String> {
    let root = root();
    let dir = root.join("examples").join("outside");
    // The workspace's target folder, so that libtorch's C++ shim and tch,
    // already built for the tests, are not built again.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let manifest = dir.join("Cargo.toml");
    let mut cmd = cargo();
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target);
    println!("xtask: building examples/outside (a project outside the workspace)");
    status(&mut cmd, "cargo build (examples/outside)")?;
    let lock = std::fs::read_to_string(dir.join("Cargo.lock"))
        .map_err(|e| format!("examples/outside/Cargo.lock: {e}"))?;
    for heavy in ["ureq", "rustls", "ring"] {
        if lock.contains(&format!("name = \"{heavy}\"")) {
            return Err(format!(
                "examples/outside pulls {heavy}: a seqlab crate depends on seqlab-data's download feature"
            ));
        }
    }
    let out = target.join("outside-example");
    let _ = std::fs::remove_dir_all(&out);
    let mut run = Command::new(target.join("debug").join("rising-sine"));
    run.arg(&out).env_remove("LD_LIBRARY_PATH");
    println!("xtask: running examples/outside without LD_LIBRARY_PATH");
    status(&mut run, "examples/outside")?;
    for file in [
        "history.png",
        "roc.png",
        "history.csv",
        "best.safetensors",
        "model.safetensors",
        "model.json",
    ] {
        if !out.join(file).is_file() {
            return Err(format!("examples/outside did not write {file}"));
        }
    }
    Ok(())
}

/// Builds the `seqlab` binary in debug mode (what the tests use) and returns its path.
fn build_seqlab_debug() -> Result<PathBuf, String> {
    let mut cmd = cargo();
    cmd.args(["build", "-p", "seqlab-experiments", "--bin", "seqlab"]);
    status(&mut cmd, "cargo build (seqlab)")?;
    Ok(target_dir().join("debug").join("seqlab"))
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
    Ok(target_dir().join("release").join("seqlab"))
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

/// `seqlab reproduce-all` from a release build: the plan of (experiment,
/// seed) processes, run side by side, summarised, reported (see its
/// `--help`). With `--plan` only the commands are printed on stdout.
fn reproduce_all(args: &[String]) -> Result<(), String> {
    libtorch::setup(&root())?;
    let seqlab = build_seqlab(&features_for(args))?;
    status(
        Command::new(&seqlab)
            .current_dir(root())
            .arg("reproduce-all")
            .args(args),
        "seqlab reproduce-all",
    )
}
