//! Every quick profile reproducible and reported; killed runs; missing data.

use crate::common::*;
use seqlab_experiments::RunOptions;
use std::process::Command;

#[test]
fn quick_profile_of_everything_is_reproducible_and_fully_reported() {
    use seqlab_experiments::report::{write_report, REPORT_FILE};
    let Some(data) = shared_data() else {
        return;
    };
    let _serial = torch_serial();
    let (a, b) = (scratch("all-a"), scratch("all-b"));
    let mut files = Vec::new();
    for dir in [&a, &b] {
        let o = RunOptions {
            data_dir: Some(data.clone()),
            ..opts(dir)
        };
        for e in seqlab_experiments::EXPERIMENTS {
            let outcome = e.run(&o).unwrap_or_else(|err| panic!("{}: {err}", e.name));
            if dir == &a {
                files.push((e.name, outcome.files));
            }
        }
    }
    // Same seed, same metrics (wall times aside), for every experiment.
    let (ma, mb) = (metrics_without_timings(&a), metrics_without_timings(&b));
    assert_eq!(ma.len(), seqlab_experiments::EXPERIMENTS.len());
    for (name, v) in &ma {
        assert_eq!(
            Some(v),
            mb.get(name),
            "{name}: metrics differ between two quick runs"
        );
    }
    // The report names every experiment, embeds every PNG, and every file it points at exists.
    let report_path = write_report(&a).unwrap();
    assert_eq!(report_path, a.join(REPORT_FILE));
    let report = std::fs::read_to_string(&report_path).unwrap();
    for (name, written) in &files {
        assert!(
            report.contains(&format!("## {name}\n")),
            "{name} missing from the report"
        );
        assert!(!written.is_empty());
        for f in written {
            assert!(
                a.join(name).join(f).is_file(),
                "{name}/{f} reported but missing"
            );
            if f.ends_with(".png") {
                assert!(
                    report.contains(&format!("({name}/{f})")),
                    "{name}/{f} not in the report"
                );
            }
        }
    }
    assert!(report.contains("| quick |"), "profile column");
    assert!(!report.contains("Not run yet"));
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn a_killed_run_leaves_no_half_written_result_and_the_next_run_starts_clean() {
    let dir = scratch("kill");
    let args = [
        "run",
        "continuation",
        "--quick",
        "--quiet",
        "--results-dir",
        dir.to_str().unwrap(),
    ];
    let (ok, _, err) = seqlab(&args);
    assert!(ok, "{err}");
    let out = dir.join("continuation");
    assert!(assert_results_complete(&out).is_empty());
    // `seqlab run` gives the small LSTMs one thread, and metrics.json says so.
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["threads"], 1, "{metrics}");
    for delay_ms in [150, 400, 700, 1000] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_seqlab"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Under every final name: the old file or the new one, complete.
        assert_results_complete(&out);
    }
    let (ok, _, err) = seqlab(&args);
    assert!(ok, "{err}");
    assert!(
        assert_results_complete(&out).is_empty(),
        "the next run removes the temporaries of killed runs"
    );
    // The staging folders of killed runs, beside the results folder, too.
    let staged: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(seqlab_io::TEMP_PREFIX))
        .collect();
    assert!(staged.is_empty(), "{staged:?}");
    assert!(seqlab_experiments::common::verify_manifest(&out).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_experiment_without_its_data_fails_with_the_loaders_message_and_writes_nothing() {
    let empty = scratch("exp-no-data");
    std::fs::create_dir_all(&empty).unwrap();
    let results = empty.join("results");
    for (experiment, needle) in [
        ("imdb-rnn", "aclImdb_v1.tar.gz"),
        ("mnist-lstm-ae", "train-images-idx3-ubyte"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_seqlab"))
            .args([
                "run",
                experiment,
                "--quick",
                "--data-dir",
                empty.to_str().unwrap(),
            ])
            .args(["--results-dir", results.to_str().unwrap()])
            .env("SEQLAB_OFFLINE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.contains(&format!("experiment {experiment} failed"))
                && err.contains(needle)
                && err.contains(empty.to_str().unwrap()),
            "{err}"
        );
        assert!(
            !results.join(experiment).exists(),
            "{experiment}: results written without data"
        );
    }
    std::fs::remove_dir_all(&empty).unwrap();
}
