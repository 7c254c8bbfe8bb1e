//! Input/output edge cases: closed pipes, full disks, busy folders, non-UTF-8 paths.

use crate::common::*;
use std::process::Command;

#[test]
fn a_closed_pipe_ends_quietly_a_full_disk_is_an_error_and_training_carries_on() {
    let bin = env!("CARGO_BIN_EXE_seqlab");
    let dir = scratch("pipe");
    let sh = |script: String| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("set -o pipefail; {script}"))
            .env_remove("OMP_NUM_THREADS")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for cmd in ["list", "data ab-order --n 2000"] {
        let (code, stdout, stderr) = sh(format!("'{bin}' {cmd} | head -1"));
        assert_eq!(code, Some(0), "{cmd}: {stderr}");
        assert_eq!(stdout.lines().count(), 1);
        assert!(!stderr.contains("panicked"), "{cmd}: {stderr}");
    }
    let (code, _, stderr) = sh(format!("'{bin}' list > /dev/full"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output") && !stderr.contains("panicked"),
        "{stderr}"
    );
    // The report's file is written before anything is printed: a reader
    // that has gone already does not cost the file.
    let seed = dir.join("continuation/seeds/7");
    std::fs::create_dir_all(&seed).unwrap();
    std::fs::write(
        seed.join("metrics.json"),
        r#"{"experiment": "continuation", "profile": "quick", "seed": 7, "targets": []}"#,
    )
    .unwrap();
    let (code, _, stderr) = sh(format!(
        "'{bin}' report --results-dir '{}' | {{ exec 0<&-; sleep 1; }}",
        dir.display()
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(dir.join("REPORT.md").is_file(), "{stderr}");
    std::fs::remove_dir_all(dir.join("continuation")).unwrap();
    // A plan that could not be written is an error, not an empty success.
    let (code, _, stderr) = sh(format!(
        "'{bin}' reproduce-all --plan --only seq2one --quick --results-dir '{}' > /dev/full",
        dir.display()
    ));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("cannot write the plan"), "{stderr}");
    // A training run whose output is cut keeps going and writes its results.
    let (code, _, stderr) = sh(format!(
        "'{bin}' run continuation --quick --epochs 2 --results-dir '{}' | head -1",
        dir.display()
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(dir.join("continuation/metrics.json").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_run_into_a_folder_in_use_fails_naming_the_first_and_the_first_finishes_whole() {
    let dir = scratch("lock");
    let args = [
        "run",
        "seq2seq-power",
        "--quick",
        "--quiet",
        "--results-dir",
        dir.to_str().unwrap(),
    ];
    // An earlier multi-seed result there, which the first run replaces whole.
    let old_seed = dir.join("seq2seq-power/seeds/7");
    std::fs::create_dir_all(&old_seed).unwrap();
    std::fs::write(
        old_seed.join("metrics.json"),
        r#"{"experiment": "seq2seq-power", "profile": "quick", "seed": 7, "targets": []}"#,
    )
    .unwrap();
    let mut first = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first run holds the folder (its lock file names it).
    let lock = dir.join(".seq2seq-power.lock");
    let t0 = std::time::Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|s| s.contains("seqlab")) {
        assert!(
            t0.elapsed().as_secs() < 60,
            "the first run never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The report does not summarise the seeds of a folder being replaced.
    let (ok, _, err) = seqlab(&["report", "--results-dir", dir.to_str().unwrap()]);
    assert!(ok && err.contains("skipped seq2seq-power"), "{err}");
    let (ok, _, err) = seqlab(&args);
    assert!(!ok, "a second run into the same folder succeeded");
    assert!(
        err.contains("seq2seq-power is being written by another run")
            && err.contains(&format!("process {}", first.id())),
        "{err}"
    );
    assert!(first.wait().unwrap().success());
    let out = dir.join("seq2seq-power");
    assert!(seqlab_experiments::common::verify_manifest(&out).is_empty());
    // A file from elsewhere is flagged by the report.
    std::fs::write(out.join("loss.png"), b"not this run's").unwrap();
    let (ok, _, err) = seqlab(&["report", "--results-dir", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    let report = std::fs::read_to_string(dir.join("REPORT.md")).unwrap();
    assert!(
        report.contains("**files disagree**") && report.contains("loss.png differs"),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_non_utf8_path_is_used_as_given_or_refused_clearly_never_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("non-utf8");
    std::fs::create_dir_all(&dir).unwrap();
    let odd = dir.join(std::ffi::OsStr::from_bytes(b"r\xff"));
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_seqlab"))
            .args(args)
            .env_remove("OMP_NUM_THREADS")
            .output()
            .unwrap()
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    // One seed: the path is used as it is.
    let out = run(&[
        os("run"),
        os("seq2one"),
        os("--quick"),
        os("--quiet"),
        os("--epochs"),
        os("1"),
        os("--results-dir"),
        odd.as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(odd.join("seq2one/metrics.json").is_file());
    // Several seeds (paths become text for each process): refused, exit 1, no panic.
    let out = run(&[
        os("run"),
        os("seq2one"),
        os("--quick"),
        os("--seeds"),
        os("2"),
        os("--results-dir"),
        odd.as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--results-dir") && err.contains("not valid UTF-8"),
        "{err}"
    );
    // A data directory that does not exist: the loader's message, no panic.
    let out = run(&[
        os("data"),
        os("imdb"),
        os("--data-dir"),
        odd.join("data").as_os_str(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An error while stderr is full is lost, not a panic: the exit status stays 1.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(["predict", "seq2one", "--text", "good"])
        .stderr(full)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_says_what_is_wrong_with_its_folder() {
    let dir = scratch("report-folder");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("results.txt");
    std::fs::write(&file, b"").unwrap();
    let (ok, _, err) = seqlab(&["report", "--results-dir", file.to_str().unwrap()]);
    assert!(!ok && err.contains("is a file, not a folder"), "{err}");
    let (ok, _, err) = seqlab(&[
        "report",
        "--results-dir",
        dir.join("none").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("does not exist"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_invalid_omp_num_threads_is_an_error_naming_it_not_a_silent_default() {
    for bad in ["0", "abc", "-1", "1.5"] {
        let (ok, _, err) = seqlab_env(&["list", "--names"], &[("OMP_NUM_THREADS", bad)]);
        assert!(
            !ok && err.contains(&format!("OMP_NUM_THREADS=\"{bad}\" is not understood")),
            "{bad}: {err}"
        );
    }
    let (ok, out, err) = seqlab_env(&["list", "--names"], &[("OMP_NUM_THREADS", "1")]);
    assert!(ok && out.contains("seq2one"), "{err}");
}
