//! `cargo xtask bench`: seqlab's training throughput beside PyTorch eager on
//! the same libtorch, per workload, written to `results/BENCH.md`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workloads (`seqlab bench <name>` and `bench/peers/peers.py <name>`).
const WORKLOADS: [&str; 5] = [
    "toy-seq2one",
    "temporal-order-hard",
    "imdb-lstm",
    "mnist-bilstm-ae",
    "seq2seq-sine",
];

/// The peer's PyTorch, from the package index (with its CUDA wheels: about 4.6 GB).
const PEER_TORCH: &str = "torch==2.11.0";

/// Training FLOPs per IMDb sample: the LSTM's two matrix products per step,
/// `2 * 4H(in + H)` forward with H = 32, in = 64, over 128 steps, times 3
/// for forward plus backward (the dense layers and element-wise work are
/// left out, so this is a lower bound).
const IMDB_FLOP_PER_SAMPLE: f64 = 3.0 * 128.0 * 2.0 * 4.0 * 32.0 * (64.0 + 32.0);

struct Options {
    device: String,
    workloads: Vec<String>,
    warmup: u32,
    epochs: u32,
    shrink: u32,
    rounds: u32,
    peer: bool,
    out: PathBuf,
}

fn parse(args: &[String], root: &Path) -> Result<Options, String> {
    let mut o = Options {
        device: "cpu".into(),
        workloads: WORKLOADS.iter().map(|w| w.to_string()).collect(),
        warmup: 1,
        epochs: 5,
        shrink: 1,
        rounds: 5,
        peer: true,
        out: root.join("results").join("BENCH.md"),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--device" => o.device = value()?,
            "--workload" => {
                let w = value()?;
                if !WORKLOADS.contains(&w.as_str()) {
                    return Err(format!(
                        "unknown workload {w:?}; available: {}",
                        WORKLOADS.join(", ")
                    ));
                }
                o.workloads = vec![w];
            }
            "--warmup" | "--epochs" | "--shrink" | "--rounds" => {
                let v = value()?;
                let n: u32 = v
                    .parse()
                    .map_err(|_| format!("{a} needs a whole number, got {v:?}"))?;
                match a.as_str() {
                    "--warmup" => o.warmup = n,
                    "--epochs" if n >= 1 => o.epochs = n,
                    "--shrink" if n >= 1 => o.shrink = n,
                    "--rounds" if n >= 1 => o.rounds = n,
                    _ => return Err(format!("{a} must be at least 1")),
                }
            }
            "--no-peer" => o.peer = false,
            "--out" => o.out = root.join(value()?),
            other => return Err(format!("unknown bench option {other:?}")),
        }
    }
    Ok(o)
}

/// Installs the peer's PyTorch into `.bench/py` once (staging folder, then rename).
fn peer_python_path(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join(".bench").join("py");
    if dir.join("torch").join("version.py").is_file() {
        return Ok(dir);
    }
    let python =
        crate::libtorch::find_python().ok_or("no Python with pip found for the PyTorch peer")?;
    let staging = root.join(".bench").join("py.partial");
    let _ = fs::remove_dir_all(&staging);
    println!(
        "xtask: installing {PEER_TORCH} for the PyTorch peer into {} (about 4.6 GB, once)",
        dir.display()
    );
    let ok = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--target",
        ])
        .arg(&staging)
        .arg(PEER_TORCH)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let _ = fs::remove_dir_all(&staging);
        return Err(format!(
            "pip could not install {PEER_TORCH} into {}",
            staging.display()
        ));
    }
    fs::rename(&staging, &dir)
        .map_err(|e| format!("cannot move {} into place: {e}", staging.display()))?;
    Ok(dir)
}

/// The number after `"key":` in a one-line JSON object.
fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = json[at..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

fn json_string(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = json[at..].trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn run_json(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .map(str::to_string)
        .ok_or_else(|| format!("{what} printed no result"))
}

fn cpu_model() -> (String, Option<f64>) {
    let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let model = field("model name").unwrap_or_else(|| "unknown CPU".into());
    let flags = field("flags").unwrap_or_default();
    let mhz: Option<f64> = field("cpu MHz").and_then(|v| v.parse().ok());
    // FP32 FLOPs per cycle and core: two FMA units of 16 (AVX-512) or 8 (AVX2) lanes.
    let per_cycle = if flags.split(' ').any(|f| f == "avx512f") {
        64.0
    } else if flags.split(' ').any(|f| f == "fma") {
        32.0
    } else {
        return (model, None);
    };
    (model, mhz.map(|m| m / 1000.0 * per_cycle))
}

pub fn bench(args: &[String], root: &Path, seqlab: &Path) -> Result<(), String> {
    let o = parse(args, root)?;
    let peer_path = if o.peer {
        Some(peer_python_path(root)?)
    } else {
        None
    };
    let python = crate::libtorch::find_python().unwrap_or_else(|| "python3".into());
    let common = [
        "--warmup".to_string(),
        o.warmup.to_string(),
        "--epochs".into(),
        o.epochs.to_string(),
        "--shrink".into(),
        o.shrink.to_string(),
    ];
    let mut torch_version = String::from("-");
    let mut threads = String::from("-");
    // Rounds alternate seqlab and the peer, so that a noisy neighbour on a
    // shared machine slows both alike; each side reports its median round.
    let mut ours_all: Vec<Vec<f64>> = vec![Vec::new(); o.workloads.len()];
    let mut peer_all: Vec<Vec<f64>> = vec![Vec::new(); o.workloads.len()];
    let mut samples_of = vec![f64::NAN; o.workloads.len()];
    for round in 1..=o.rounds {
        for (i, w) in o.workloads.iter().enumerate() {
            println!("xtask: bench {w}, round {round} of {}", o.rounds);
            let ours = run_json(
                Command::new(seqlab)
                    .arg("bench")
                    .arg(w)
                    .args(["--device", &o.device])
                    .args(&common),
                "seqlab bench",
            )?;
            ours_all[i].push(
                json_number(&ours, "samples_per_second")
                    .ok_or("seqlab bench: no samples_per_second")?,
            );
            threads = json_number(&ours, "threads").map_or(threads, |t| format!("{t}"));
            samples_of[i] = json_number(&ours, "samples").unwrap_or(f64::NAN);
            if let Some(p) = &peer_path {
                let peer = run_json(
                    Command::new(&python)
                        .env("PYTHONPATH", p)
                        .env("PYTHONWARNINGS", "ignore")
                        .arg(root.join("bench").join("peers").join("peers.py"))
                        .arg(w)
                        .args(["--device", &o.device])
                        .args(&common),
                    "the PyTorch peer",
                )?;
                torch_version = json_string(&peer, "torch").unwrap_or(torch_version);
                peer_all[i].push(
                    json_number(&peer, "samples_per_second")
                        .ok_or("peer: no samples_per_second")?,
                );
            }
        }
    }
    let median = |v: &[f64]| -> Option<f64> {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        (!s.is_empty()).then(|| {
            if s.len() % 2 == 1 {
                s[s.len() / 2]
            } else {
                (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
            }
        })
    };
    let rows: Vec<(String, f64, f64, Option<f64>)> = o
        .workloads
        .iter()
        .enumerate()
        .map(|(i, w)| {
            (
                w.clone(),
                samples_of[i],
                median(&ours_all[i]).unwrap_or(f64::NAN),
                median(&peer_all[i]),
            )
        })
        .collect();
    // The ratio of each round (adjacent runs share the machine's state), then their median.
    let round_ratios: Vec<Vec<f64>> = (0..o.workloads.len())
        .map(|i| {
            ours_all[i]
                .iter()
                .zip(&peer_all[i])
                .map(|(a, b)| a / b)
                .collect()
        })
        .collect();
    let ratios: Vec<f64> = round_ratios.iter().filter_map(|r| median(r)).collect();
    let geomean = (!ratios.is_empty())
        .then(|| (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp());
    let (cpu, peak) = cpu_model();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut md = String::from("# seqlab vs PyTorch eager: training throughput\n\n");
    md.push_str(&format!(
        "Written by `cargo xtask bench{}`. Machine: {cpu}, {cores} logical CPUs; device {}; libtorch threads {threads}; \
         seqlab on tch 0.24 / libtorch 2.11.0, PyTorch {torch_version} (the PyPI wheel). Each number is samples per second \
         over the median of {} timed epochs after {} warm-up epoch(s), on a fixed batch stream built once as tensors, \
         and the median of {} rounds that alternate seqlab and PyTorch; both sides train the same model with the same batch size, optimiser and loss, and read the loss once per step.\n\n",
        args.iter().map(|a| format!(" {a}")).collect::<String>(),
        o.device,
        o.epochs,
        o.warmup,
        o.rounds
    ));
    md.push_str("| workload | samples/epoch | seqlab samples/s | PyTorch samples/s | seqlab / PyTorch (median of rounds) | ratio per round |\n| --- | --- | --- | --- | --- | --- |\n");
    for (i, (w, samples, ours, peer)) in rows.iter().enumerate() {
        let per_round: Vec<String> = round_ratios[i].iter().map(|r| format!("{r:.2}")).collect();
        md.push_str(&format!(
            "| {w} | {samples:.0} | {ours:.0} | {} | {} | {} |\n",
            peer.map_or("-".into(), |p| format!("{p:.0}")),
            median(&round_ratios[i]).map_or("-".into(), |r| format!("{r:.2}x")),
            per_round.join(", ")
        ));
    }
    if let Some(g) = geomean {
        md.push_str(&format!("| **geometric mean** | | | | **{g:.2}x** | |\n"));
    }
    if let Some((_, _, ours, peer)) = rows.iter().find(|r| r.0 == "imdb-lstm") {
        let gflops = ours * IMDB_FLOP_PER_SAMPLE / 1e9;
        md.push_str(&format!(
            "\nIMDb LSTM: about {:.1} MFLOP of LSTM matrix products per training sample (forward and backward), so seqlab \
             sustains **{gflops:.2} GFLOP/s**{}{}.\n",
            IMDB_FLOP_PER_SAMPLE / 1e6,
            peer.map_or(String::new(), |p| format!(" (PyTorch {:.2})", p * IMDB_FLOP_PER_SAMPLE / 1e9)),
            match peak {
                Some(pk) => format!(
                    " against an FP32 peak of about {:.0} GFLOP/s for all {cores} CPUs ({:.1}%); batches of 100 sequences \
                     of 32 units make small matrices, so the recurrence is bound by latency, not arithmetic",
                    pk * cores as f64,
                    100.0 * gflops / (pk * cores as f64)
                ),
                None => String::new(),
            }
        ));
    }
    if let Ok(notes) = fs::read_to_string(root.join("bench").join("NOTES.md")) {
        md.push('\n');
        md.push_str(&notes);
    }
    if let Some(parent) = o.out.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let tmp = o.out.with_file_name(".seqlab-tmp-BENCH.md");
    fs::write(&tmp, &md)
        .and_then(|_| fs::rename(&tmp, &o.out))
        .map_err(|e| format!("cannot write {}: {e}", o.out.display()))?;
    print!("\n{md}");
    println!("xtask: wrote {}", o.out.display());
    Ok(())
}
