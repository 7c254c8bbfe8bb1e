//! The `seqlab` command line: listing, bad input, clear errors.

use crate::common::*;

#[test]
fn cli_lists_and_rejects_bad_input_with_clear_errors() {
    let (ok, stdout, _) = seqlab(&["list"]);
    assert!(ok && stdout.contains("seq2one"), "{stdout}");
    let (ok, stdout, _) = seqlab(&["--help"]);
    for var in ["SEQLAB_DATA_DIR", "SEQLAB_MALLOC", "OMP_NUM_THREADS"] {
        assert!(ok && stdout.contains(var), "--help lacks {var}: {stdout}");
    }
    assert_bad_options_are_refused();
    if !tch::Cuda::is_available() {
        assert_cuda_without_cuda_is_refused_before_any_result();
    }
    assert_a_plan_path_with_a_line_break_is_refused();
    assert_a_symlinked_run_folder_is_refused();
    let (ok, stdout, _) = seqlab(&["run", "--help"]);
    assert!(
        ok && stdout.contains("--results-dir") && stdout.contains("--quick"),
        "{stdout}"
    );
}

/// An unknown experiment or device, and counts of zero or far beyond the cores.
fn assert_bad_options_are_refused() {
    let (ok, _, stderr) = seqlab(&["run", "nope"]);
    assert!(
        !ok && stderr.contains("unknown experiment \"nope\"") && stderr.contains("seq2one"),
        "{stderr}"
    );
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--device", "tpu"]);
    assert!(!ok && stderr.contains("cpu, cuda or auto"), "{stderr}");
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--epochs", "0"]);
    assert!(!ok && stderr.contains("--epochs"), "{stderr}");
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--threads", "0"]);
    assert!(
        !ok && stderr.contains("--threads") && stderr.contains("auto or a positive whole number"),
        "{stderr}"
    );
    // A thread count far beyond the cores is refused before anything runs.
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--threads", "1000"]);
    assert!(!ok && stderr.contains("4 per core"), "{stderr}");
    let (ok, _, stderr) = seqlab(&["run", "seq2one", "--seeds", "1,2", "--jobs", "1000"]);
    assert!(
        !ok && stderr.contains("--jobs") && stderr.contains("4 per core"),
        "{stderr}"
    );
}

fn assert_cuda_without_cuda_is_refused_before_any_result() {
    let dir = scratch("cli-cuda");
    let (ok, _, stderr) = seqlab(&[
        "run",
        "seq2one",
        "--quick",
        "--device",
        "cuda",
        "--results-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("CUDA was requested"), "{stderr}");
    assert!(
        !dir.join("seq2one").join("metrics.json").exists(),
        "no results after a device error"
    );
}

/// A plan line is one line: a path with a line break is refused, naming it.
fn assert_a_plan_path_with_a_line_break_is_refused() {
    let (ok, stdout, stderr) = seqlab(&[
        "reproduce-all",
        "--plan",
        "--only",
        "seq2one",
        "--results-dir",
        "/tmp/two\nlines",
    ]);
    assert!(
        !ok && stdout.is_empty() && stderr.contains("line break") && stderr.contains("two\\nlines"),
        "{stderr}"
    );
}

/// A symlinked run folder would become a real folder while its target kept the old run.
fn assert_a_symlinked_run_folder_is_refused() {
    let dir = scratch("cli-link");
    let target = dir.join("elsewhere");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("metrics.json"), "{}").unwrap();
    std::fs::create_dir_all(dir.join("results")).unwrap();
    std::os::unix::fs::symlink(&target, dir.join("results/continuation")).unwrap();
    let (ok, _, stderr) = seqlab(&[
        "run",
        "continuation",
        "--quick",
        "--epochs",
        "1",
        "--results-dir",
        dir.join("results").to_str().unwrap(),
    ]);
    assert!(
        !ok && stderr.contains("is a symbolic link") && stderr.contains(target.to_str().unwrap()),
        "{stderr}"
    );
    assert!(std::fs::symlink_metadata(dir.join("results/continuation"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(target.join("metrics.json")).unwrap(),
        "{}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
