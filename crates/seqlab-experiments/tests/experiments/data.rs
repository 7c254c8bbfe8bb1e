//! `seqlab data`: decoded samples, missing files, the real data sets.

use crate::common::*;
use std::process::Command;

#[test]
fn data_command_prints_decoded_samples_with_their_labels() {
    let (ok, out, _) = seqlab(&[
        "data",
        "temporal-order",
        "--difficulty",
        "hard",
        "--n",
        "3",
        "--seed",
        "1",
    ]);
    assert!(ok, "{out}");
    let samples: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(samples.len(), 3, "{out}");
    for line in samples {
        let (seq, class) = line.split_once(" -> ").unwrap();
        assert!(
            (100..111).contains(&seq.len()) && seq.starts_with('B') && seq.ends_with('E'),
            "{line}"
        );
        assert!(["Q", "R", "S", "U"].contains(&class), "{line}");
    }
    let (ok, out, _) = seqlab(&["data", "ab-order", "--n", "2"]);
    assert!(
        ok && out.lines().count() == 3 && out.contains(" -> "),
        "{out}"
    );
    let (ok, out, _) = seqlab(&["data", "sine", "--pair", "damped", "--n", "1"]);
    assert!(ok && out.contains("76 windows of 24 steps"), "{out}");
    let (ok, out, _) = seqlab(&["data", "continuation", "--n", "1"]);
    assert!(ok && out.contains("seeds") && out.contains("->"), "{out}");

    let (ok, _, err) = seqlab(&["data", "temporal-order", "--difficulty", "impossible"]);
    assert!(!ok && err.contains("nightmare"), "{err}");
    let (ok, _, err) = seqlab(&["data", "cifar"]);
    assert!(
        !ok && err.contains("unknown data set") && err.contains("imdb"),
        "{err}"
    );
    let (ok, _, err) = seqlab(&["data", "mnist", "--split", "validation"]);
    assert!(!ok && err.contains("train or test"), "{err}");
}

#[test]
fn data_command_names_the_missing_file_and_where_it_looked() {
    let empty = scratch("no-data");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(["data", "imdb", "--data-dir", empty.to_str().unwrap()])
        // The test must not download 80 MB on a machine that can reach the internet.
        .env("SEQLAB_OFFLINE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for needle in [
        "SEQLAB_OFFLINE",
        "aclImdb_v1.tar.gz",
        "aclImdb_labeled.tar.gz",
        empty.to_str().unwrap(),
        "7c2ac02c03563afcf9b574c7e56c153a",
        "ai.stanford.edu",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "a failed download left something behind"
    );
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn data_command_reads_the_real_data_sets_when_present() {
    let Some(dir) = shared_data() else {
        return;
    };
    let dir = dir.to_str().unwrap();
    let (ok, out, err) = seqlab(&[
        "data",
        "mnist",
        "--split",
        "test",
        "--n",
        "1",
        "--data-dir",
        dir,
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("10000 images") && out.contains("image 0: label 7"),
        "{out}"
    );
    // The first test digit is a 7: ink in the top bar (rows 8-9) and a stroke further down.
    let rows: Vec<&str> = out.lines().skip(2).take(28).collect();
    assert_eq!(rows.len(), 28);
    assert!(
        rows[8].matches('@').count() >= 4 && rows[20].trim().len() >= 2,
        "{}",
        rows.join("\n")
    );
    assert!(
        rows[0].trim().is_empty() && rows[27].trim().is_empty(),
        "digit not centred/upright"
    );
}
