//! `cargo xtask device-bundle` and `cargo xtask device-import`: the chapter
//! on a CUDA machine that has PyTorch 2.11 but no Rust.
//!
//! The bundle (`.device/` by default, ignored by git) holds the `seqlab`
//! binary built with the `cuda` feature (gzip), the data the runs need, the
//! PyTorch peer, `run.sh` (from `bench/device/run.sh`) and `SHA256SUMS` over
//! all of it. What travels to a GPU machine is the tracked tree plus the
//! bundle: the total is printed and must stay under [`TRAVEL_BUDGET_MIB`].
//! `run.sh` returns `gpu-results.tar.gz`, `cpu-quick.tar.gz` and `device.log`;
//! `device-import` unpacks their text files into `results/gpu/` and
//! regenerates `REPORT.md` (with `seqlab report`) and the GPU section of
//! `BENCH.md`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The most that may travel to the device machine: the tracked tree plus the bundle.
pub const TRAVEL_BUDGET_MIB: f64 = 60.0;
/// The most the tracked tree may hold (checked by a test), so that the bundle fits beside it.
#[cfg_attr(not(test), allow(dead_code))]
pub const TRACKED_BUDGET_MIB: f64 = 14.0;
/// The folder under the results folder that holds imported device results.
pub const GPU_DIR: &str = "gpu";
/// The MNIST files the bundle carries, under `mnist/`.
const MNIST: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];
/// The labelled IMDb archive the bundle carries (the full `aclImdb_v1.tar.gz` is 84 MB).
const IMDB: &str = "aclImdb_labeled.tar.gz";
/// Extensions of the files `device-import` keeps (no pictures, no weights).
const KEPT: [&str; 7] = ["json", "jsonl", "csv", "tsv", "txt", "log", "md"];

const MIB: f64 = 1024.0 * 1024.0;

struct BundleOptions {
    out: PathBuf,
    dry_run: bool,
    data_dir: Option<PathBuf>,
}

fn parse_bundle(args: &[String], root: &Path) -> Result<BundleOptions, String> {
    let mut o = BundleOptions {
        out: root.join(".device"),
        dry_run: false,
        data_dir: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--out" => o.out = root.join(value()?),
            "--data-dir" => o.data_dir = Some(root.join(value()?)),
            "--dry-run" => o.dry_run = true,
            other => return Err(format!("unknown device-bundle option {other:?}")),
        }
    }
    Ok(o)
}

/// `cargo xtask device-bundle [--out DIR] [--data-dir DIR] [--dry-run]`.
///
/// `--dry-run` stages the CPU (debug) binary instead of the CUDA one, for
/// `DEVICE_DRY_RUN=1 bash <out>/run.sh` on this machine.
pub fn bundle(args: &[String], root: &Path) -> Result<PathBuf, String> {
    let o = parse_bundle(args, root)?;
    let data = data_source(o.data_dir.as_deref(), root)?;
    let binary = if o.dry_run {
        crate::build_seqlab_debug()?
    } else {
        crate::build_seqlab(&["cuda".to_string()])?
    };
    let staging = o.out.with_extension("partial");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(staging.join("data").join("mnist"))
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
    stage(&o, root, &data, &binary, &staging).inspect_err(|_| {
        let _ = fs::remove_dir_all(&staging);
    })?;
    let _ = fs::remove_dir_all(&o.out);
    fs::rename(&staging, &o.out)
        .map_err(|e| format!("cannot move {} into place: {e}", staging.display()))?;
    let bundle = dir_bytes(&o.out);
    let tracked = tracked_bytes(root)?;
    let total = (bundle + tracked) as f64 / MIB;
    println!(
        "xtask: bundle {} ({:.1} MiB) + working tree ({:.1} MiB) = {total:.1} MiB travelling (budget {TRAVEL_BUDGET_MIB} MiB)",
        o.out.display(),
        bundle as f64 / MIB,
        tracked as f64 / MIB
    );
    if total > TRAVEL_BUDGET_MIB {
        return Err(format!(
            "{total:.1} MiB would travel to the device, more than {TRAVEL_BUDGET_MIB} MiB: shrink the tracked tree or the bundle"
        ));
    }
    println!(
        "xtask: on a CUDA machine with PyTorch 2.11: OUT=<folder> bash {}/run.sh",
        o.out.strip_prefix(root).unwrap_or(&o.out).display()
    );
    Ok(o.out)
}

/// Fills the staging folder: binary, data, scripts, facts and checksums.
fn stage(
    o: &BundleOptions,
    root: &Path,
    data: &Path,
    binary: &Path,
    dir: &Path,
) -> Result<(), String> {
    // Without its debug information (the debug build's is 100 MB), then compressed.
    let plain = dir.join("seqlab");
    crate::status(
        Command::new("objcopy")
            .arg("--strip-debug")
            .arg(binary)
            .arg(&plain),
        "objcopy --strip-debug of the seqlab binary",
    )?;
    crate::status(
        Command::new("gzip").args(["-9", "-n"]).arg(&plain),
        "gzip of the seqlab binary",
    )?;
    for f in MNIST {
        copy(
            &data.join("mnist").join(f),
            &dir.join("data").join("mnist").join(f),
        )?;
    }
    copy(&data.join(IMDB), &dir.join("data").join(IMDB))?;
    copy(&root.join("bench/device/run.sh"), &dir.join("run.sh"))?;
    copy(&root.join("bench/peers/peers.py"), &dir.join("peers.py"))?;
    let workloads: String = crate::bench::WORKLOADS
        .iter()
        .map(|w| format!("{w}\n"))
        .collect();
    write(&dir.join("workloads.txt"), &workloads)?;
    let facts = format!(
        "seqlab {} ({}), built {}\nbinary: {}\n",
        git_commit(root),
        if o.dry_run {
            "dry run: CPU debug binary"
        } else {
            "release, --features cuda"
        },
        command_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]).unwrap_or_default(),
        binary.display()
    );
    write(&dir.join("bundle.txt"), &facts)?;
    let mut files = vec!["seqlab.gz".to_string(), "run.sh".into(), "peers.py".into()];
    files.push("workloads.txt".into());
    files.extend(MNIST.iter().map(|f| format!("data/mnist/{f}")));
    files.push(format!("data/{IMDB}"));
    let sums = Command::new("sha256sum")
        .args(&files)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run sha256sum: {e}"))?;
    if !sums.status.success() {
        return Err(format!(
            "sha256sum failed: {}",
            String::from_utf8_lossy(&sums.stderr)
        ));
    }
    fs::write(dir.join("SHA256SUMS"), &sums.stdout)
        .map_err(|e| format!("cannot write SHA256SUMS: {e}"))
}

/// The data folder: `--data-dir`, else `SEQLAB_DATA_DIR`, else `data/`, else `../shared/data`;
/// the first that holds every file the bundle needs.
fn data_source(flag: Option<&Path>, root: &Path) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match flag {
        Some(d) => vec![d.to_path_buf()],
        None => std::env::var_os("SEQLAB_DATA_DIR")
            .map(PathBuf::from)
            .into_iter()
            .chain([
                root.join("data"),
                root.join("..").join("shared").join("data"),
            ])
            .collect(),
    };
    let missing = |d: &Path| -> Vec<String> {
        MNIST
            .iter()
            .map(|f| format!("mnist/{f}"))
            .chain([IMDB.to_string()])
            .filter(|f| !d.join(f).is_file())
            .collect()
    };
    if let Some(found) = candidates.iter().find(|d| missing(d).is_empty()) {
        return Ok(found.clone());
    }
    let first = &candidates[0];
    let mut why = format!(
        "no data folder holds what the bundle needs; {} lacks {}",
        first.display(),
        missing(first).join(", ")
    );
    if first.join("aclImdb_v1.tar.gz").is_file() && !first.join(IMDB).is_file() {
        why.push_str(&format!(
            ". The bundle carries the labelled reviews only (the full archive is 84 MB); make them with: \
             tar -xzf aclImdb_v1.tar.gz --wildcards 'aclImdb/t*/pos/*' 'aclImdb/t*/neg/*' && tar -czf {IMDB} aclImdb"
        ));
    }
    Err(why + " (give the folder with --data-dir or SEQLAB_DATA_DIR)")
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn git_commit(root: &Path) -> String {
    command_line(
        "git",
        &[
            "-C",
            &root.to_string_lossy(),
            "describe",
            "--always",
            "--dirty",
        ],
    )
    .unwrap_or_else(|| "(not a git checkout)".into())
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// Bytes of the working tree that travels to the device: tracked files plus
/// untracked files git does not ignore.
pub fn tracked_bytes(root: &Path) -> Result<u64, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git ls-files failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .filter_map(|p| fs::symlink_metadata(root.join(String::from_utf8_lossy(p).as_ref())).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum())
}

struct ImportOptions {
    files: Vec<PathBuf>,
    results: PathBuf,
    seqlab: Option<PathBuf>,
}

fn parse_import(args: &[String], root: &Path) -> Result<ImportOptions, String> {
    let mut o = ImportOptions {
        files: Vec::new(),
        results: root.join("results"),
        seqlab: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--results-dir" => o.results = root.join(value()?),
            "--seqlab" => o.seqlab = Some(root.join(value()?)),
            s if s.starts_with("--") => return Err(format!("unknown device-import option {s:?}")),
            file => o.files.push(root.join(file)),
        }
    }
    if o.files.is_empty() {
        return Err("device-import needs the files run.sh returned (gpu-results.tar.gz, and cpu-quick.tar.gz and device.log if there)".into());
    }
    Ok(o)
}

/// `cargo xtask device-import FILE... [--results-dir DIR] [--seqlab BIN]`.
pub fn import(args: &[String], root: &Path) -> Result<(), String> {
    let o = parse_import(args, root)?;
    let dest = o.results.join(GPU_DIR);
    let staging = o.results.join(".gpu.partial");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
    unpack_all(&o.files, &staging).inspect_err(|_| {
        let _ = fs::remove_dir_all(&staging);
    })?;
    let old = o.results.join(".gpu.old");
    let _ = fs::remove_dir_all(&old);
    if dest.exists() {
        fs::rename(&dest, &old)
            .map_err(|e| format!("cannot move {} aside: {e}", dest.display()))?;
    }
    fs::rename(&staging, &dest)
        .map_err(|e| format!("cannot move {} into place: {e}", dest.display()))?;
    let _ = fs::remove_dir_all(&old);
    println!("xtask: device results in {}", dest.display());
    let seqlab = match o.seqlab {
        Some(b) => b,
        None => {
            crate::libtorch::setup(root)?;
            crate::build_seqlab(&[])?
        }
    };
    crate::status(
        Command::new(&seqlab)
            .arg("report")
            .arg("--results-dir")
            .arg(&o.results),
        "seqlab report",
    )?;
    let bench = o.results.join("BENCH.md");
    let text =
        fs::read_to_string(&bench).unwrap_or_else(|_| "# seqlab: training throughput\n".into());
    let section = gpu_bench_section(&dest);
    write(&bench, &with_gpu_section(&text, &section))?;
    println!("xtask: wrote {} and REPORT.md", bench.display());
    Ok(())
}

/// Unpacks each archive into `dir` (and copies a plain log), keeping only text files.
fn unpack_all(files: &[PathBuf], dir: &Path) -> Result<(), String> {
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !f.is_file() {
            return Err(format!("{}: no such file", f.display()));
        }
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            crate::status(
                Command::new("tar")
                    .arg("-xzf")
                    .arg(f)
                    .arg("-C")
                    .arg(dir)
                    .arg("--no-same-owner"),
                &format!("tar -xzf {}", f.display()),
            )?;
        } else if name.ends_with(".log") {
            copy(f, &dir.join(&name))?;
        } else {
            return Err(format!(
                "{}: neither a .tar.gz nor a .log from run.sh",
                f.display()
            ));
        }
    }
    prune(dir);
    for needed in ["machine.tsv", "steps.tsv"] {
        if !dir.join(needed).is_file() {
            return Err(format!(
                "the archives hold no {needed}: they are not from bench/device/run.sh"
            ));
        }
    }
    Ok(())
}

/// Removes every file whose extension is not a kept text one, and every non-file.
fn prune(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => prune(&p),
            Ok(t) if t.is_file() => {
                let keep = p
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| KEPT.contains(&x));
                let hidden = e.file_name().to_string_lossy().starts_with('.');
                if !keep || hidden {
                    let _ = fs::remove_file(&p);
                }
            }
            _ => {
                let _ = fs::remove_file(&p);
            }
        }
    }
}

const BEGIN: &str = "<!-- gpu: written by cargo xtask device-import -->";
const END: &str = "<!-- /gpu -->";

/// `text` with its GPU section replaced by `section` (or `section` appended).
pub fn with_gpu_section(text: &str, section: &str) -> String {
    let block = format!("{BEGIN}\n{section}{END}\n");
    match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => {
            format!(
                "{}{block}{}",
                &text[..b],
                text[e + END.len()..].trim_start_matches('\n')
            )
        }
        _ => format!("{}\n\n{block}", text.trim_end()),
    }
}

/// The machine facts `run.sh` wrote (`key<TAB>value`).
pub fn machine_facts(dir: &Path) -> Vec<(String, String)> {
    fs::read_to_string(dir.join("machine.tsv"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// BENCH.md's GPU section: seqlab and PyTorch eager per workload on the device.
pub fn gpu_bench_section(dir: &Path) -> String {
    let facts = machine_facts(dir);
    let fact = |k: &str| {
        facts
            .iter()
            .find(|(key, _)| key == k)
            .map_or("-", |(_, v)| v.as_str())
    };
    let lines = fs::read_to_string(dir.join("bench.jsonl")).unwrap_or_default();
    let rate = |workload: &str, framework: &str| -> Option<f64> {
        lines
            .lines()
            .filter(|l| {
                crate::bench::json_string(l, "workload").as_deref() == Some(workload)
                    && crate::bench::json_string(l, "framework")
                        .is_some_and(|f| f.starts_with(framework))
            })
            .find_map(|l| crate::bench::json_number(l, "samples_per_second"))
    };
    let dry = fact("dry_run") == "1";
    let mut md = format!(
        "## On {}\n\nImported by `cargo xtask device-import` from `results/gpu/` (a run of `bench/device/run.sh`, {}): GPU {}, \
         device `{}`, PyTorch {}, {} CPU cores ({}). Samples per second of the median timed epoch, one round, seqlab and \
         PyTorch eager (the installed PyTorch) on the same device; target: seqlab / PyTorch at least 1.00x.{}\n\n\
         | workload | seqlab samples/s | PyTorch samples/s | seqlab / PyTorch |\n| --- | --- | --- | --- |\n",
        if dry { "the dry run (CPU, no GPU)" } else { "a GPU" },
        fact("date"),
        fact("gpu"),
        fact("device"),
        fact("torch"),
        fact("cores"),
        fact("cpu"),
        if dry {
            " **A dry run: tiny settings on a CPU, not GPU numbers.**"
        } else {
            ""
        },
    );
    for w in crate::bench::WORKLOADS {
        let (ours, peer) = (rate(w, "seqlab"), rate(w, "pytorch"));
        let fmt = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.0}"));
        let ratio = match (ours, peer) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
            _ => "-".into(),
        };
        md.push_str(&format!(
            "| {w} | {} | {} | {ratio} |\n",
            fmt(ours),
            fmt(peer)
        ));
    }
    md
}

/// After the dry run in `work` (`bundle/`, `out/`): every step must have run
/// (`ok`; the peer may be skipped where no PyTorch is importable), and
/// importing `out/` into a copy of `results/` must give REPORT.md and
/// BENCH.md their GPU sections.
pub fn check_dry_run(work: &Path, root: &Path, seqlab: &Path) -> Result<(), String> {
    let results = work.join("results");
    crate::status(
        Command::new("cp")
            .arg("-a")
            .arg(root.join("results"))
            .arg(&results),
        "copying results/ for the import",
    )?;
    let out = work.join("out");
    let files: Vec<String> = ["gpu-results.tar.gz", "device.log"]
        .iter()
        .map(|f| out.join(f).to_string_lossy().into_owned())
        .chain([
            "--results-dir".into(),
            results.to_string_lossy().into_owned(),
            "--seqlab".into(),
            seqlab.to_string_lossy().into_owned(),
        ])
        .collect();
    import(&files, root)?;
    let steps = fs::read_to_string(results.join(GPU_DIR).join("steps.tsv"))
        .map_err(|e| format!("results/gpu/steps.tsv: {e}"))?;
    let bad: Vec<&str> = steps
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            !(f.get(3) == Some(&"ok")
                || (f.first() == Some(&"bench-peer") && f.get(3) == Some(&"no-peer")))
        })
        .collect();
    if !bad.is_empty() || steps.lines().count() < 2 {
        return Err(format!(
            "steps of the dry run did not succeed:\n{}",
            bad.join("\n")
        ));
    }
    let report =
        fs::read_to_string(results.join("REPORT.md")).map_err(|e| format!("REPORT.md: {e}"))?;
    let bench =
        fs::read_to_string(results.join("BENCH.md")).map_err(|e| format!("BENCH.md: {e}"))?;
    if !report.contains("## On the device") || !report.contains("dry run") {
        return Err("the imported dry run gave REPORT.md no device section".into());
    }
    if !bench.contains(BEGIN) || !bench.contains("| toy-seq2one | ") {
        return Err("the imported dry run gave BENCH.md no GPU section".into());
    }
    println!(
        "xtask: the dry run's archive imports: REPORT.md and BENCH.md have their device sections"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gpu_section_is_replaced_in_place_and_appended_once() {
        let first = with_gpu_section("# Bench\n\nrows\n", "## On a GPU\nA\n");
        assert!(first.starts_with("# Bench\n\nrows\n\n"));
        assert!(first.contains("## On a GPU\nA\n"));
        let again = with_gpu_section(&(first.clone() + "\ntail\n"), "## On a GPU\nB\n");
        assert!(again.contains("## On a GPU\nB\n") && !again.contains("\nA\n"));
        assert!(again.ends_with("tail\n"), "{again}");
        assert_eq!(again.matches(BEGIN).count(), 1);
    }

    /// The tracked tree stays small enough for the bundle to travel beside it
    /// (see ARCHITECTURE.md: the device budget).
    #[test]
    fn the_tracked_tree_stays_under_its_budget() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        if !root.join(".git").exists() {
            eprintln!("not a git checkout: the tracked tree's size cannot be measured");
            return;
        }
        let bytes = tracked_bytes(&root).expect("git ls-files");
        let mib = bytes as f64 / MIB;
        assert!(
            mib <= TRACKED_BUDGET_MIB,
            "the tracked tree holds {mib:.1} MiB, more than its budget of {TRACKED_BUDGET_MIB} MiB: \
             commit fewer pictures or compress large results"
        );
    }

    #[test]
    fn import_refuses_archives_that_are_not_from_run_sh() {
        let dir = std::env::temp_dir().join(format!("seqlab-xtask-import-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("device.log");
        fs::write(&log, "hello").unwrap();
        let unpacked = dir.join("out");
        fs::create_dir_all(&unpacked).unwrap();
        let err = unpack_all(&[log], &unpacked).unwrap_err();
        assert!(err.contains("machine.tsv"), "{err}");
        let err = unpack_all(&[dir.join("nothing.tar.gz")], &unpacked).unwrap_err();
        assert!(err.contains("nothing.tar.gz: no such file"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }
}
