//! Multi-seed runs: parallel seed processes, kept seeds, locks, the plan.

use crate::common::*;
use std::path::Path;
use std::process::Command;

#[test]
fn seeds_in_parallel_processes_match_a_sequential_run_and_are_summarised() {
    let (a, b) = (scratch("seeds-par"), scratch("seeds-seq"));
    for (dir, jobs) in [(&a, "2"), (&b, "1")] {
        run_seeds_7_and_9(dir, jobs);
    }
    assert_parallel_seeds_match_sequential(&a, &b);
    assert_summary_over_seeds_7_and_9(&a);
    assert_a_later_run_replaces_the_seeds(&a);
    let (ok, _, err) = seqlab(&["run", "continuation", "--seeds", "7,9", "--only-seed", "8"]);
    assert!(
        !ok && err.contains("--only-seed 8 is not one of --seeds 7,9"),
        "{err}"
    );
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

/// Runs continuation with seeds 7 and 9 into `dir`, `jobs` at a time.
fn run_seeds_7_and_9(dir: &Path, jobs: &str) {
    let (ok, stdout, err) = seqlab(&[
        "run",
        "continuation",
        "--quick",
        "--epochs",
        "3",
        "--seeds",
        "7,9",
        "--jobs",
        jobs,
        "--results-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "--jobs {jobs}: {err}");
    assert!(stdout.contains("continuation (2 seeds)"), "{stdout}");
    assert!(stdout.contains(" over 2 seeds, range ["), "{stdout}");
}

fn assert_parallel_seeds_match_sequential(a: &Path, b: &Path) {
    for seed in ["7", "9"] {
        let (pa, pb) = (
            a.join("continuation/seeds").join(seed),
            b.join("continuation/seeds").join(seed),
        );
        let (ra, rb) = (seed_results(&pa), seed_results(&pb));
        assert!(ra.contains_key("metrics.json") && ra.contains_key("train_history.csv"));
        assert_eq!(
            ra, rb,
            "seed {seed}: two jobs at once differ from one at a time"
        );
        assert!(seqlab_experiments::common::verify_manifest(&pa).is_empty());
        let m = read_json(&pa.join("metrics.json"));
        assert_eq!(m["seed"].to_string(), seed);
        assert_eq!(m["seed_set"], serde_json::json!([7, 9]));
        assert_eq!(m["threads"], 1);
    }
}

/// The summary: per target the two values, their mean, spread and interval.
fn assert_summary_over_seeds_7_and_9(a: &Path) {
    let s = read_json(&a.join("continuation/metrics.json"));
    assert_eq!(s["seeds"], serde_json::json!([7, 9]));
    let t = &s["targets"][0];
    let (v7, v9) = (
        t["values"]["7"].as_f64().unwrap(),
        t["values"]["9"].as_f64().unwrap(),
    );
    assert!((t["mean"].as_f64().unwrap() - (v7 + v9) / 2.0).abs() < 1e-12);
    assert!((t["sd"].as_f64().unwrap() - (v7 - v9).abs() / 2f64.sqrt()).abs() < 1e-12);
    assert_eq!(t["n"], 2);
    assert_eq!(t["ci95"].as_array().unwrap().len(), 2);
    // The verdict is the target's accepted range applied to the mean.
    let lo = t["lo"].as_f64().unwrap_or(f64::MIN);
    let hi = t["hi"].as_f64().unwrap_or(f64::MAX);
    assert_eq!(
        t["pass"],
        serde_json::json!((lo..=hi).contains(&t["mean"].as_f64().unwrap()))
    );
}

/// A later run with other seeds replaces the folder's seeds.
fn assert_a_later_run_replaces_the_seeds(a: &Path) {
    let (ok, _, err) = seqlab(&[
        "run",
        "continuation",
        "--quick",
        "--epochs",
        "2",
        "--seeds",
        "9,",
        "--quiet",
        "--results-dir",
        a.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(!a.join("continuation/seeds/7").exists());
}

#[test]
fn a_failed_multi_seed_run_keeps_the_earlier_seeds_until_a_run_of_new_ones_succeeds() {
    let dir = scratch("seeds-keep");
    let d = dir.to_str().unwrap().to_string();
    let run = |seeds: &str| {
        seqlab(&[
            "run",
            "continuation",
            "--quick",
            "--epochs",
            "1",
            "--seeds",
            seeds,
            "--results-dir",
            &d,
        ])
    };
    let (ok, _, err) = run("7,8");
    assert!(ok, "{err}");
    let exp = dir.join("continuation");
    let lock = |seed: u64| seqlab_io::DirLock::acquire(exp.join("seeds").join(seed.to_string()));
    // Every seed of the new run fails (this test holds their folders).
    let held = (lock(9).unwrap(), lock(10).unwrap());
    let (ok, stdout, err) = run("9,10");
    assert!(!ok && err.contains("continuation seed 9"), "{err}");
    assert!(!err.contains("removed the folders"), "{err}");
    for seed in ["7", "8"] {
        assert!(exp.join("seeds").join(seed).join("metrics.json").is_file());
    }
    assert_eq!(summary_seeds(&exp), serde_json::json!([7, 8]));
    // The earlier summary is not printed as this run's result.
    assert!(
        stdout.contains("none of this run's seeds finished")
            && !stdout.contains("PASS")
            && !stdout.contains("MISS"),
        "{stdout}"
    );
    // One of the two fails: the earlier seeds stay, and the summary covers every folder there.
    drop(held.0);
    let (ok, stdout, err) = run("9,10");
    assert!(!ok && err.contains("continuation seed 10"), "{err}");
    assert_eq!(summary_seeds(&exp), serde_json::json!([7, 8, 9]));
    assert!(
        stdout.contains("earlier seeds [7, 8] were kept"),
        "{stdout}"
    );
    drop(held.1);
    // A run whose seeds all finish replaces the earlier ones.
    let (ok, _, err) = run("9,");
    assert!(ok, "{err}");
    assert!(err.contains("removed the folders of seeds"), "{err}");
    assert!(!exp.join("seeds/7").exists() && !exp.join("seeds/10").exists());
    assert_eq!(summary_seeds(&exp), serde_json::json!([9]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn seed_jobs_lock_their_experiment_and_end_when_their_run_is_killed() {
    let dir = scratch("seeds-kill");
    let d = dir.to_str().unwrap().to_string();
    let (ok, _, err) = seqlab_owned(&continuation_args(&d, "5,", "1"));
    assert!(ok, "{err}");
    let exp = dir.join("continuation");
    let job = a_seed_job_locks_its_experiment(&exp, &d);
    a_killed_multi_seed_run_ends_its_jobs(&exp, &d, job);
    // Nothing of the killed run was committed, and the earlier seed is untouched.
    assert!(!exp.join("seeds/7/metrics.json").exists() && !exp.join("seeds/8").exists());
    assert_eq!(summary_seeds(&exp), serde_json::json!([5]));
    assert!(exp.join("seeds/5/metrics.json").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A quiet quick continuation run into results folder `d`.
fn continuation_args(d: &str, seeds: &str, epochs: &str) -> Vec<String> {
    [
        "run",
        "continuation",
        "--quick",
        "--quiet",
        "--epochs",
        epochs,
        "--seeds",
        seeds,
    ]
    .iter()
    .map(|a| a.to_string())
    .chain(["--results-dir".to_string(), d.to_string()])
    .collect()
}

fn seqlab_owned(args: &[String]) -> (bool, String, String) {
    seqlab(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Starts seqlab with `args`, its output discarded.
fn spawn_quiet(args: Vec<String>) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// How many staging folders the experiment's seeds folder holds.
fn staging(exp: &Path) -> usize {
    std::fs::read_dir(exp.join("seeds"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with(seqlab_io::TEMP_PREFIX)
        })
        .count()
}

/// One seed job of a plan, as a scheduler starts it (no parent of seqlab's), holds the
/// experiment against a single-seed run and the report; killed afterwards. Its process id.
fn a_seed_job_locks_its_experiment(exp: &Path, d: &str) -> u32 {
    let mut a = continuation_args(d, "7,8", "100000");
    a.extend(["--only-seed".into(), "7".into()]);
    let mut job = spawn_quiet(a);
    let lock7 = exp.join("seeds/.7.lock");
    wait_for("the seed job's lock", || {
        lock_holder(&lock7) == Some(job.id())
    });
    wait_for("the seed job's staging folder", || staging(exp) == 1);
    // A single-seed run would replace the folder that holds the job's staging folder.
    let (ok, _, err) = seqlab(&[
        "run",
        "continuation",
        "--quick",
        "--epochs",
        "1",
        "--results-dir",
        d,
    ]);
    assert!(
        !ok && err.contains("continuation is being written by another run"),
        "{err}"
    );
    assert_eq!(staging(exp), 1, "the live staging folder was removed");
    // The report leaves the folder alone and says so.
    let (ok, _, err) = seqlab(&["report", "--results-dir", d]);
    assert!(ok && err.contains("skipped continuation"), "{err}");
    job.kill().unwrap();
    job.wait().unwrap();
    job.id()
}

/// A multi-seed run killed while its seeds train: they end with it. `job` is the
/// earlier, killed seed job, whose lock files must not be taken for theirs.
fn a_killed_multi_seed_run_ends_its_jobs(exp: &Path, d: &str, job: u32) {
    let mut parent = spawn_quiet(continuation_args(d, "7,8", "100000"));
    wait_for("both seeds' jobs", || {
        [7, 8].iter().all(|s| {
            lock_holder(&exp.join(format!("seeds/.{s}.lock")))
                .is_some_and(|pid| pid != job && pid != parent.id() && !ended(pid))
        })
    });
    let workers: Vec<u32> = [7, 8]
        .iter()
        .filter_map(|s| lock_holder(&exp.join(format!("seeds/.{s}.lock"))))
        .collect();
    let (ok, _, err) = seqlab_owned(&continuation_args(d, "9,", "1"));
    assert!(
        !ok && err.contains("seeds is being written by another run"),
        "{err}"
    );
    parent.kill().unwrap();
    parent.wait().unwrap();
    wait_for("the jobs to end with their parent", || {
        workers.iter().all(|&p| ended(p))
    });
}

#[test]
fn the_plan_runs_under_xargs_and_the_report_names_missing_seeds() {
    let dir = scratch("plan");
    let results = dir.join("my results");
    let plan = plan_three_seeds(&results);
    run_plan_under_xargs(&dir, &plan);
    std::fs::remove_dir_all(results.join("seq2seq-power/seeds/43")).unwrap();
    assert_report_names_the_missing_seed(&results);
    assert_report_names_a_corrupt_seed_file(&results);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The plan of seq2seq-power over three seeds: one line per seed, and a quoted closing hint.
fn plan_three_seeds(results: &Path) -> String {
    let (ok, plan, err) = seqlab(&[
        "reproduce-all",
        "--plan",
        "--only",
        "seq2seq-power",
        "--quick",
        "--epochs",
        "2",
        "--seeds",
        "3",
        "--results-dir",
        results.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = plan.lines().collect();
    assert_eq!(lines.len(), 3, "{plan}");
    for (line, seed) in lines.iter().zip([42, 43, 44]) {
        assert!(
            line.contains(" run seq2seq-power --seeds 42..44 --only-seed ")
                && line.contains(&format!("--only-seed {seed} "))
                && line.contains(env!("CARGO_BIN_EXE_seqlab")),
            "{line}"
        );
    }
    // The closing hint is a shell command too: its paths are quoted.
    assert!(
        err.contains(&format!(" report --results-dir '{}'", results.display())),
        "{err}"
    );
    plan
}

/// What a user does with the plan: two at a time under xargs.
fn run_plan_under_xargs(dir: &Path, plan: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("plan.txt"), plan).unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg("xargs -d '\\n' -P 2 -n 1 sh -c < plan.txt > xargs.log 2>&1")
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(dir.join("xargs.log")).unwrap_or_default()
    );
}

fn assert_report_names_the_missing_seed(results: &Path) {
    let (ok, stdout, err) = seqlab(&["report", "--results-dir", results.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("summarised seq2seq-power: 2 seeds; missing seeds 43"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(results.join("REPORT.md")).unwrap();
    assert!(
        report.contains("**Missing seeds** (planned, no folder yet): 43."),
        "{report}"
    );
    assert!(report.contains("| 42,44 (2) |"), "seeds column");
    assert!(report.contains("verdict (on the mean)"));
    assert!(
        report.contains("(seq2seq-power/seeds/42/windows.png)"),
        "first seed's pictures"
    );
}

/// A corrupt seed file is an error that names it, not "not run yet",
/// and the report goes on with the experiments after it.
fn assert_report_names_a_corrupt_seed_file(results: &Path) {
    std::fs::write(
        results.join("seq2seq-power/seeds/42/metrics.json"),
        "{ half",
    )
    .unwrap();
    let (ok, _, err) = seqlab(&["report", "--results-dir", results.to_str().unwrap()]);
    assert!(
        !ok && err.contains("seeds/42/metrics.json") && err.contains("JSON"),
        "{err}"
    );
    let report = std::fs::read_to_string(results.join("REPORT.md")).unwrap();
    assert!(
        report.contains("| [seq2seq-power](#seq2seq-power) | **unreadable**")
            && report.contains("| [temporal-order](#temporal-order) | not run")
            && report.contains("seeds/42/metrics.json"),
        "{report}"
    );
}
