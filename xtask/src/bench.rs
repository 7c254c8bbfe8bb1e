//! `cargo xtask bench`: seqlab's training throughput beside PyTorch eager on
//! the same libtorch, per workload, written to `results/BENCH.md`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workloads (`seqlab bench <name>` and `bench/peers/peers.py <name>`).
pub const WORKLOADS: [&str; 9] = [
    "toy-seq2one",
    "temporal-order-hard",
    "imdb-lstm",
    "imdb-rnn",
    "mnist-bilstm-ae",
    "seq2seq-sine",
    "sweep-rnn-tanh",
    "sweep-lstm",
    "sweep-gru",
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
    keras: bool,
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
        keras: true,
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
            "--no-keras" => o.keras = false,
            "--out" => o.out = root.join(value()?),
            other => return Err(format!("unknown bench option {other:?}")),
        }
    }
    Ok(o)
}

/// A peer's Python packages, installed into `.bench/<dir>` once.
struct PeerEnv {
    dir: &'static str,
    /// A file that exists once the install is complete.
    marker: &'static str,
    packages: &'static [&'static str],
    what: &'static str,
}

const TORCH_ENV: PeerEnv = PeerEnv {
    dir: "py",
    marker: "torch/version.py",
    packages: &[PEER_TORCH],
    what: "the PyTorch peer (about 4.6 GB)",
};
/// Keras 3 with JAX's CPU build (XLA-compiled training steps).
const KERAS_JAX_ENV: PeerEnv = PeerEnv {
    dir: "keras-jax",
    marker: "keras/__init__.py",
    packages: &["keras==3.15.1", "jax[cpu]==0.10.2"],
    what: "the Keras + JAX peer (about 300 MB)",
};
/// Keras 3 with TensorFlow's CPU build.
const KERAS_TF_ENV: PeerEnv = PeerEnv {
    dir: "keras-tf",
    marker: "tensorflow/__init__.py",
    packages: &["keras==3.15.1", "tensorflow-cpu==2.21.0"],
    what: "the Keras + TensorFlow peer (about 900 MB)",
};

/// Installs a peer's packages into `.bench/<dir>` once (staging folder, then rename).
fn peer_env_path(root: &Path, env: &PeerEnv) -> Result<PathBuf, String> {
    let dir = root.join(".bench").join(env.dir);
    if dir.join(env.marker).is_file() {
        return Ok(dir);
    }
    let python = crate::libtorch::find_python().ok_or("no Python with pip found for the peers")?;
    let staging = root.join(".bench").join(format!("{}.partial", env.dir));
    let _ = fs::remove_dir_all(&staging);
    println!(
        "xtask: installing {} for {} into {} (once)",
        env.packages.join(" "),
        env.what,
        dir.display()
    );
    let ok = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--only-binary=:all:", "--target"])
        .arg(&staging)
        .args(env.packages)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let _ = fs::remove_dir_all(&staging);
        return Err(format!(
            "pip could not install {} into {}",
            env.packages.join(" "),
            staging.display()
        ));
    }
    fs::rename(&staging, &dir)
        .map_err(|e| format!("cannot move {} into place: {e}", staging.display()))?;
    Ok(dir)
}

/// The number after `"key":` in a one-line JSON object.
pub fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = json[at..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// The `true` or `false` after `"key":` in a one-line JSON object.
pub fn json_bool(json: &str, key: &str) -> Option<bool> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = json[at..].trim_start();
    if rest.starts_with("true") {
        Some(true)
    } else if rest.starts_with("false") {
        Some(false)
    } else {
        None
    }
}

pub fn json_string(json: &str, key: &str) -> Option<String> {
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

/// One configuration measured in every round.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// seqlab as shipped (malloc tuned, each workload's thread count).
    Seqlab,
    /// seqlab with libtorch's and glibc's defaults (`SEQLAB_MALLOC=system`,
    /// `--threads` = cores): the "before" of its runtime settings.
    SeqlabDefaults,
    /// PyTorch eager as installed.
    Peer,
    /// PyTorch eager with seqlab's runtime settings (`GLIBC_TUNABLES`, `OMP_NUM_THREADS`).
    PeerSameSettings,
    /// Keras 3 on JAX, `model.fit` as its users run it.
    KerasJax,
    /// Keras 3 on TensorFlow, `model.fit` as its users run it.
    KerasTensorflow,
    /// seqlab with libtorch's recurrent kernels instead of its fused one
    /// (`SEQLAB_RNN_KERNEL=libtorch`): the "before" of the fused kernel.
    SeqlabLibtorchKernels,
}

/// The configurations compared with seqlab in the headline ratio.
const PEERS: [Variant; 3] = [Variant::Peer, Variant::KerasJax, Variant::KerasTensorflow];

impl Variant {
    fn is_peer(self) -> bool {
        !matches!(
            self,
            Variant::Seqlab | Variant::SeqlabDefaults | Variant::SeqlabLibtorchKernels
        )
    }
}

fn median(v: &[f64]) -> Option<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    (!s.is_empty()).then(|| {
        if s.len() % 2 == 1 {
            s[s.len() / 2]
        } else {
            (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
        }
    })
}

fn geomean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| (v.iter().map(|r| r.ln()).sum::<f64>() / v.len() as f64).exp())
}

/// Per-round ratios `a / b` (runs of one round are adjacent, so they share the machine's state).
fn round_ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}x"))
}

fn fmt_rate(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.0}"))
}

/// The table against every peer: each one's samples/s and seqlab over the
/// fastest peer of each round (the median of those per-round ratios).
fn peers_table(workloads: &[String], rates: &[Vec<Vec<f64>>], versions: &[String]) -> String {
    let mut md = format!(
        "\n## Against every peer\n\nPyTorch eager as above; Keras 3 ({}) on JAX and on TensorFlow (CPU wheels, installed into `.bench/`), \
         each trained as its users run it: `model.fit` on NumPy arrays with the batch size, optimiser and loss above, no \
         shuffling, the backend's default compilation (XLA on JAX, `tf.function` on TensorFlow) and threads; epoch times \
         from a callback (`bench/peers/keras_peers.py`). Target: seqlab at least 1.0x the best peer on every workload, \
         geometric mean at least 1.3x.\n\n\
         | workload | seqlab samples/s | PyTorch | Keras + JAX | Keras + TensorFlow | **seqlab / best peer** | seqlab, libtorch's recurrent kernels | gain of the fused kernel |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        if versions.is_empty() { "-".to_string() } else { versions.join(", ") }
    );
    let mut ratios = Vec::new();
    let mut gains = Vec::new();
    for (i, w) in workloads.iter().enumerate() {
        let of = |v: Variant| &rates[v as usize][i];
        // seqlab over the fastest peer of each round.
        let per_round: Vec<f64> = of(Variant::Seqlab)
            .iter()
            .enumerate()
            .filter_map(|(r, ours)| {
                let best = PEERS
                    .iter()
                    .filter_map(|&p| of(p).get(r).copied())
                    .fold(f64::NAN, f64::max);
                (best > 0.0).then(|| ours / best)
            })
            .collect();
        let ratio = median(&per_round);
        let gain = median(&round_ratios(
            of(Variant::Seqlab),
            of(Variant::SeqlabLibtorchKernels),
        ));
        ratios.push(ratio);
        gains.push(gain);
        md.push_str(&format!(
            "| {w} | {} | {} | {} | {} | **{}** | {} | {} |\n",
            fmt_rate(median(of(Variant::Seqlab))),
            fmt_rate(median(of(Variant::Peer))),
            fmt_rate(median(of(Variant::KerasJax))),
            fmt_rate(median(of(Variant::KerasTensorflow))),
            fmt_ratio(ratio),
            fmt_rate(median(of(Variant::SeqlabLibtorchKernels))),
            fmt_ratio(gain),
        ));
    }
    let geo = |v: &[Option<f64>]| geomean(&v.iter().flatten().copied().collect::<Vec<_>>());
    md.push_str(&format!(
        "| **geometric mean** | | | | | **{}** | | {} |\n",
        fmt_ratio(geo(&ratios)),
        fmt_ratio(geo(&gains)),
    ));
    md
}

pub fn bench(args: &[String], root: &Path, seqlab: &Path) -> Result<(), String> {
    let o = parse(args, root)?;
    let peer_path = if o.peer {
        Some(peer_env_path(root, &TORCH_ENV)?)
    } else {
        None
    };
    // Keras runs on the CPU here (its GPU builds are other wheels).
    let keras = o.peer && o.keras && o.device == "cpu";
    let keras_paths = if keras {
        Some((
            peer_env_path(root, &KERAS_JAX_ENV)?,
            peer_env_path(root, &KERAS_TF_ENV)?,
        ))
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
    let mut variants: Vec<Variant> = if o.peer {
        vec![
            Variant::Seqlab,
            Variant::Peer,
            Variant::SeqlabDefaults,
            Variant::PeerSameSettings,
        ]
    } else {
        vec![Variant::Seqlab, Variant::SeqlabDefaults]
    };
    if keras {
        variants.extend([Variant::KerasJax, Variant::KerasTensorflow]);
    }
    variants.push(Variant::SeqlabLibtorchKernels);
    let mut keras_versions: Vec<String> = Vec::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut torch_version = String::from("-");
    // seqlab's thread count per workload, as its bench reports it; the peer with the same settings gets it too.
    let mut threads = vec![String::from("-"); o.workloads.len()];
    // seqlab's own malloc settings, as its bench reports them; the tuned peer gets the same.
    let mut tunables: Option<String> = None;
    // rates[variant][workload] = samples/s of each round. Rounds alternate the
    // variants, so that a noisy neighbour on a shared machine slows all alike.
    let mut rates = vec![vec![Vec::<f64>::new(); o.workloads.len()]; 7];
    let mut samples_of = vec![f64::NAN; o.workloads.len()];
    for round in 1..=o.rounds {
        for (i, w) in o.workloads.iter().enumerate() {
            println!("xtask: bench {w}, round {round} of {}", o.rounds);
            for &v in &variants {
                let peers = root.join("bench").join("peers");
                let (mut cmd, what) = match (v, &keras_paths) {
                    (Variant::KerasJax | Variant::KerasTensorflow, Some((jax, tf))) => {
                        let (path, backend) = if v == Variant::KerasJax {
                            (jax, "jax")
                        } else {
                            (tf, "tensorflow")
                        };
                        let mut c = Command::new(&python);
                        c.env("PYTHONPATH", path)
                            .env("KERAS_BACKEND", backend)
                            .env("TF_CPP_MIN_LOG_LEVEL", "2")
                            .env("PYTHONWARNINGS", "ignore")
                            .arg(peers.join("keras_peers.py"));
                        (c, "a Keras peer")
                    }
                    _ if v.is_peer() => {
                        let mut c = Command::new(&python);
                        c.env("PYTHONPATH", peer_path.as_deref().unwrap_or(root))
                            .env("PYTHONWARNINGS", "ignore")
                            .arg(peers.join("peers.py"));
                        (c, "the PyTorch peer")
                    }
                    _ => {
                        let mut c = Command::new(seqlab);
                        c.arg("bench");
                        (c, "seqlab bench")
                    }
                };
                cmd.arg(w).args(["--device", &o.device]).args(&common);
                // Every configuration starts from glibc's defaults and seqlab's default kernel, plus only its own setting
                // (glibc reads GLIBC_TUNABLES and every MALLOC_* variable).
                for (key, _) in std::env::vars_os() {
                    if key.to_str().is_some_and(|k| {
                        k == "GLIBC_TUNABLES"
                            || k.starts_with("SEQLAB_MALLOC")
                            || k == "SEQLAB_RNN_KERNEL"
                            || k.starts_with("MALLOC_")
                    }) {
                        cmd.env_remove(key);
                    }
                }
                match v {
                    Variant::SeqlabLibtorchKernels => {
                        cmd.env("SEQLAB_RNN_KERNEL", "libtorch");
                    }
                    Variant::SeqlabDefaults => {
                        cmd.env("SEQLAB_MALLOC", "system")
                            .args(["--threads", &cores.to_string()]);
                    }
                    Variant::PeerSameSettings => {
                        let t = tunables
                            .as_deref()
                            .ok_or("seqlab bench did not report its malloc settings")?;
                        cmd.env("GLIBC_TUNABLES", t)
                            .env("OMP_NUM_THREADS", &threads[i]);
                    }
                    _ => {}
                }
                let json = run_json(&mut cmd, what)?;
                let rate = json_number(&json, "samples_per_second")
                    .ok_or_else(|| format!("{what}: no samples_per_second"))?;
                rates[v as usize][i].push(rate);
                match v {
                    Variant::Seqlab => {
                        threads[i] = json_number(&json, "threads")
                            .map(|t| format!("{t}"))
                            .ok_or_else(|| {
                                format!("seqlab bench did not report its threads: {json}")
                            })?;
                        samples_of[i] = json_number(&json, "samples").unwrap_or(f64::NAN);
                        if json_string(&json, "allocator").as_deref() != Some("tuned") {
                            return Err(format!("seqlab bench did not tune malloc: {json}"));
                        }
                        if let (Some(m), Some(t)) = (
                            json_number(&json, "malloc_mmap_threshold"),
                            json_number(&json, "malloc_trim_threshold"),
                        ) {
                            // The peers get seqlab's whole malloc setup, huge pages included.
                            let huge = if json_bool(&json, "malloc_huge_pages") == Some(true) {
                                ":glibc.malloc.hugetlb=1"
                            } else {
                                ""
                            };
                            tunables = Some(format!(
                                "glibc.malloc.mmap_threshold={m:.0}:glibc.malloc.trim_threshold={t:.0}{huge}"
                            ));
                        }
                    }
                    Variant::KerasJax | Variant::KerasTensorflow => {
                        for key in ["keras", "jax", "tensorflow"] {
                            if let Some(version) = json_string(&json, key) {
                                let line = format!("{key} {version}");
                                if !keras_versions.contains(&line) {
                                    keras_versions.push(line);
                                }
                            }
                        }
                    }
                    _ if v.is_peer() => {
                        torch_version = json_string(&json, "torch").unwrap_or(torch_version);
                    }
                    _ => {}
                }
            }
        }
    }
    let rate = |v: Variant, i: usize| median(&rates[v as usize][i]);
    let ratio_rounds = |a: Variant, b: Variant, i: usize| {
        round_ratios(&rates[a as usize][i], &rates[b as usize][i])
    };
    let n = o.workloads.len();
    let main: Vec<Vec<f64>> = (0..n)
        .map(|i| ratio_rounds(Variant::Seqlab, Variant::Peer, i))
        .collect();
    let median_ratios = |b: Variant| -> Vec<Option<f64>> {
        (0..n)
            .map(|i| median(&ratio_rounds(Variant::Seqlab, b, i)))
            .collect()
    };
    let settings_gain = median_ratios(Variant::SeqlabDefaults);
    let fair = median_ratios(Variant::PeerSameSettings);
    let main_med: Vec<Option<f64>> = main.iter().map(|r| median(r)).collect();
    let geo = |v: &[Option<f64>]| geomean(&v.iter().flatten().copied().collect::<Vec<_>>());
    let (cpu, peak) = cpu_model();
    let mut md = String::from(if keras {
        "# seqlab vs PyTorch eager and Keras 3: training throughput\n\n"
    } else {
        "# seqlab vs PyTorch eager: training throughput\n\n"
    });
    md.push_str(&format!(
        "Written by `cargo xtask bench{}`. Machine: {cpu}, {cores} logical CPUs; device {}; seqlab on tch 0.24 / libtorch \
         2.11.0, PyTorch {torch_version} (the PyPI wheel). Each number is samples per second over the median of {} timed epochs \
         after {} warm-up epoch(s), on a fixed batch stream built once as tensors, and the median of {} rounds; every round runs \
         each configuration once, back to back, and the ratios are the medians of the per-round ratios. Both sides train the \
         same model with the same batch size, optimiser and loss, and read the loss once per step.\n\n\
         - **seqlab**: as shipped: flat optimiser buffers (`seqlab_train::optim`), glibc malloc tuned at start-up and each \
         workload's thread count (`seqlab_train::runtime`, see below).\n\
         - **PyTorch**: PyTorch eager as installed (libtorch's default threads: one per core). **seqlab / PyTorch** is the \
         comparison the targets refer to.\n\
         - **defaults** columns: seqlab with glibc's default malloc (`SEQLAB_MALLOC=system`) and `--threads {cores}` (libtorch's \
         default), and the gain of the runtime settings over that.\n\
         - **PyTorch, same settings**: PyTorch run with seqlab's malloc settings (`GLIBC_TUNABLES={}`) and its thread count \
         (`OMP_NUM_THREADS`); the last column is what is left of seqlab's lead when PyTorch gets the same process settings.\n\n",
        args.iter().map(|a| format!(" {a}")).collect::<String>(),
        o.device,
        o.epochs,
        o.warmup,
        o.rounds,
        tunables.as_deref().unwrap_or("-"),
    ));
    md.push_str(
        "| workload | samples/epoch | seqlab threads | seqlab samples/s | PyTorch samples/s | **seqlab / PyTorch** | ratio per round \
         | seqlab, defaults | gain of the settings | PyTorch, same settings | seqlab / PyTorch, same settings |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for (i, w) in o.workloads.iter().enumerate() {
        let per_round: Vec<String> = main[i].iter().map(|r| format!("{r:.2}")).collect();
        md.push_str(&format!(
            "| {w} | {:.0} | {} | {} | {} | **{}** | {} | {} | {} | {} | {} |\n",
            samples_of[i],
            threads[i],
            fmt_rate(rate(Variant::Seqlab, i)),
            fmt_rate(rate(Variant::Peer, i)),
            fmt_ratio(main_med[i]),
            if per_round.is_empty() {
                "-".into()
            } else {
                per_round.join(", ")
            },
            fmt_rate(rate(Variant::SeqlabDefaults, i)),
            fmt_ratio(settings_gain[i]),
            fmt_rate(rate(Variant::PeerSameSettings, i)),
            fmt_ratio(fair[i]),
        ));
    }
    md.push_str(&format!(
        "| **geometric mean** | | | | | **{}** | | | {} | | {} |\n",
        fmt_ratio(geo(&main_med)),
        fmt_ratio(geo(&settings_gain)),
        fmt_ratio(geo(&fair)),
    ));
    if keras {
        md.push_str(&peers_table(&o.workloads, &rates, &keras_versions));
    }
    let rows: Vec<(String, f64, f64, Option<f64>)> = o
        .workloads
        .iter()
        .enumerate()
        .map(|(i, w)| {
            (
                w.clone(),
                samples_of[i],
                rate(Variant::Seqlab, i).unwrap_or(f64::NAN),
                rate(Variant::Peer, i),
            )
        })
        .collect();
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
    // A device run imported earlier keeps its section (`cargo xtask device-import`).
    let gpu = root.join("results").join(crate::device::GPU_DIR);
    if gpu.join("machine.tsv").is_file() {
        md = crate::device::with_gpu_section(&md, &crate::device::gpu_bench_section(&gpu));
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
