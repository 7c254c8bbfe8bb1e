//! REPORT.md's section on a device run: what `bench/device/run.sh` measured
//! on a CUDA machine (imported into `results/gpu/` by `cargo xtask
//! device-import`) beside the CPU's numbers.
//!
//! `results/gpu/` holds `machine.tsv` (the machine's facts), `steps.tsv`
//! (each step's status and process wall time), `quick/<experiment>/` (every
//! experiment with `--quick` on the device), `full/<experiment>/` (full
//! settings, seed 42), `quick-cpu/<experiment>/` (the quick runs again on
//! the same machine's CPU) and `bench.jsonl`. Only text files are imported.

use crate::EXPERIMENTS;
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::Path;

/// The folder of imported device results, under the results folder.
pub const GPU_DIR: &str = "gpu";

/// What the section needs of a run's `metrics.json`.
#[derive(Debug, Deserialize)]
struct Metrics {
    #[serde(default)]
    targets: Vec<TargetLine>,
}

/// One target of `metrics.json`.
#[derive(Debug, Deserialize)]
struct TargetLine {
    what: String,
    pass: bool,
}

/// What the section needs of a run's `timing.json`.
#[derive(Debug, Deserialize)]
struct Timing {
    total: f64,
}

/// One run's verdicts and time, when its files are there.
struct RunFacts {
    targets: Vec<TargetLine>,
    seconds: Option<f64>,
}

fn read_run(dir: &Path) -> Option<RunFacts> {
    let text = std::fs::read_to_string(dir.join("metrics.json")).ok()?;
    let metrics: Metrics = serde_json::from_str(&text).ok()?;
    let seconds = std::fs::read_to_string(dir.join("timing.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Timing>(&t).ok())
        .map(|t| t.total);
    Some(RunFacts {
        targets: metrics.targets,
        seconds,
    })
}

/// `key<TAB>value` lines.
fn read_pairs(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn verdicts(run: Option<&RunFacts>) -> String {
    run.map_or("not run".into(), |r| {
        let passed = r.targets.iter().filter(|t| t.pass).count();
        format!("{passed}/{} pass", r.targets.len())
    })
}

fn time_of(run: Option<&RunFacts>) -> String {
    run.and_then(|r| r.seconds)
        .map_or("-".into(), crate::report::minutes)
}

/// Targets whose verdict differs between two runs of one experiment.
fn differing(name: &str, a: Option<&RunFacts>, b: Option<&RunFacts>, out: &mut Vec<String>) {
    let (Some(a), Some(b)) = (a, b) else {
        return;
    };
    for t in &a.targets {
        if let Some(u) = b.targets.iter().find(|u| u.what == t.what) {
            if u.pass != t.pass {
                let mark = |p: bool| if p { "PASS" } else { "MISS" };
                out.push(format!(
                    "{name}: {}: {} on the device, {} on the CPU",
                    t.what,
                    mark(t.pass),
                    mark(u.pass)
                ));
            }
        }
    }
}

/// The section, or `None` when `results_dir` holds no device results.
pub fn section(results_dir: &Path) -> Option<String> {
    let gpu = results_dir.join(GPU_DIR);
    let facts = read_pairs(&gpu.join("machine.tsv"));
    if facts.is_empty() {
        return None;
    }
    let fact = |k: &str| {
        facts
            .iter()
            .find(|(key, _)| key == k)
            .map_or("-".to_string(), |(_, v)| v.clone())
    };
    let dry = fact("dry_run") == "1";
    let dev = if dry {
        "dry run (CPU)".to_string()
    } else {
        fact("device")
    };
    let mut s = String::from("## On the device\n\n");
    let _ = writeln!(
        s,
        "Imported by `cargo xtask device-import` into `results/{GPU_DIR}/` from a run of `bench/device/run.sh` on {}: GPU {}, \
         PyTorch {} (its libtorch ran seqlab), {} CPU cores ({}); bundle {}. Times are each run's own `timing.json` total \
         (training and evaluation, without start-up); the throughput comparison with PyTorch eager on the device is in BENCH.md.\n",
        fact("date"), fact("gpu"), fact("torch"), fact("cores"), fact("cpu"), fact("bundle"),
    );
    if dry {
        s.push_str("**This is a dry run** (`DEVICE_DRY_RUN=1`: every step on this machine's CPU with one epoch): it shows that the bundle, the script and the import work, not GPU numbers.\n\n");
    }
    let _ = writeln!(
        s,
        "| experiment | settings | {dev}: targets | {dev}: time | CPU: targets | CPU: time | CPU run |\n| --- | --- | --- | --- | --- | --- | --- |"
    );
    let mut differ = Vec::new();
    s.push_str(&quick_rows(&gpu, &mut differ));
    s.push_str(&full_rows(results_dir, &gpu, &mut differ));
    s.push('\n');
    steps_not_done(&gpu, &mut s);
    if differ.is_empty() {
        s.push_str("No target's verdict differs between the device and the CPU.\n\n");
    } else {
        s.push_str("Targets whose verdict differs between the device and the CPU:\n\n");
        for d in differ {
            let _ = writeln!(s, "- {d}");
        }
        s.push('\n');
    }
    Some(s)
}

/// One row per experiment of the quick runs: on the device and on its CPU.
fn quick_rows(gpu: &Path, differ: &mut Vec<String>) -> String {
    let mut s = String::new();
    for e in EXPERIMENTS {
        let on_device = read_run(&gpu.join("quick").join(e.name));
        let on_cpu = read_run(&gpu.join("quick-cpu").join(e.name));
        let _ = writeln!(
            s,
            "| {} | quick | {} | {} | {} | {} | {} |",
            e.name,
            verdicts(on_device.as_ref()),
            time_of(on_device.as_ref()),
            verdicts(on_cpu.as_ref()),
            time_of(on_cpu.as_ref()),
            if on_cpu.is_some() {
                "the same machine's CPU"
            } else {
                "-"
            },
        );
        differing(e.name, on_device.as_ref(), on_cpu.as_ref(), differ);
    }
    s
}

/// One row per experiment run at full settings on the device (seed 42),
/// beside this report's CPU run of seed 42.
fn full_rows(results_dir: &Path, gpu: &Path, differ: &mut Vec<String>) -> String {
    let mut s = String::new();
    for e in EXPERIMENTS {
        let Some(on_device) = read_run(&gpu.join("full").join(e.name)) else {
            continue;
        };
        let cpu_dir = results_dir
            .join(e.name)
            .join(crate::aggregate::SEEDS_DIR)
            .join("42");
        let on_cpu = read_run(&cpu_dir);
        let _ = writeln!(
            s,
            "| {} | full, seed 42 | {} | {} | {} | {} | {} |",
            e.name,
            verdicts(Some(&on_device)),
            time_of(Some(&on_device)),
            verdicts(on_cpu.as_ref()),
            time_of(on_cpu.as_ref()),
            if on_cpu.is_some() {
                format!("`{}/seeds/42` (this report's CPU run)", e.name)
            } else {
                "-".into()
            },
        );
        differing(e.name, Some(&on_device), on_cpu.as_ref(), differ);
    }
    s
}

/// The steps of `steps.tsv` that did not end `ok`.
fn steps_not_done(gpu: &Path, s: &mut String) {
    let text = std::fs::read_to_string(gpu.join("steps.tsv")).unwrap_or_default();
    let not_done: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            match f.as_slice() {
                [step, what, device, status, seconds] if *status != "ok" => {
                    let how = match *status {
                        "timeout" => format!("stopped at its time cap after {seconds} s"),
                        "failed" => format!("failed after {seconds} s (see device.log)"),
                        "no-time" => "not started: the run's time was spent".to_string(),
                        "no-peer" => "not run: no importable PyTorch for the peer".to_string(),
                        other => format!("{other} after {seconds} s"),
                    };
                    Some(format!("{step} {what} on {device}: {how}"))
                }
                _ => None,
            }
        })
        .collect();
    if !not_done.is_empty() {
        s.push_str("Steps that did not finish (each step has a time cap so that the whole run fits its window):\n\n");
        for n in not_done {
            let _ = writeln!(s, "- {n}");
        }
        s.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("seqlab-device-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn write_run(dir: &Path, pass: bool, total: f64) {
        std::fs::create_dir_all(dir).unwrap();
        let metrics = serde_json::json!({
            "targets": [{"what": "test accuracy", "pass": pass, "measured": 0.9}],
        });
        std::fs::write(dir.join("metrics.json"), metrics.to_string()).unwrap();
        std::fs::write(dir.join("timing.json"), format!("{{\"total\": {total}}}")).unwrap();
    }

    #[test]
    fn no_device_results_no_section() {
        assert!(section(&scratch("none")).is_none());
    }

    #[test]
    fn the_section_sets_device_beside_cpu_and_names_what_differs_or_failed() {
        let root = scratch("some");
        let gpu = root.join(GPU_DIR);
        std::fs::create_dir_all(&gpu).unwrap();
        std::fs::write(
            gpu.join("machine.tsv"),
            "date\t2026-12-04\ndevice\tcuda\ndry_run\t0\ngpu\tNVIDIA H200\ntorch\t2.11.0+cu130\ncores\t16\n",
        )
        .unwrap();
        std::fs::write(
            gpu.join("steps.tsv"),
            "step\twhat\tdevice\tstatus\tseconds\nquick\tseq2one\tcuda\tok\t3.0\nfull\tmnist-bilstm-ae\tcuda\ttimeout\t200.0\nquick-cpu\tlength-sweep\tcpu\tno-time\t0\n",
        )
        .unwrap();
        write_run(&gpu.join("quick").join("seq2one"), true, 2.5);
        write_run(&gpu.join("quick-cpu").join("seq2one"), false, 70.0);
        write_run(&gpu.join("full").join("imdb-lstm"), true, 40.0);
        write_run(
            &root.join("imdb-lstm").join("seeds").join("42"),
            true,
            151.7,
        );
        let s = section(&root).unwrap();
        assert!(s.contains("GPU NVIDIA H200"), "{s}");
        assert!(s.contains("| seq2one | quick | 1/1 pass | 2.5 s | 0/1 pass | 1 min 10 s | the same machine's CPU |"), "{s}");
        assert!(
            s.contains("| imdb-lstm | full, seed 42 | 1/1 pass | 40.0 s | 1/1 pass | 2 min 32 s |"),
            "{s}"
        );
        assert!(s.contains("| imdb-rnn | quick | not run |"), "{s}");
        assert!(
            s.contains("seq2one: test accuracy: PASS on the device, MISS on the CPU"),
            "{s}"
        );
        assert!(
            s.contains("full mnist-bilstm-ae on cuda: stopped at its time cap after 200.0 s"),
            "{s}"
        );
        assert!(
            s.contains("quick-cpu length-sweep on cpu: not started: the run's time was spent"),
            "{s}"
        );
        assert!(!s.contains("dry run"), "{s}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
