//! The bench harness on a tiny setting.

use crate::common::*;
use seqlab_train::runtime::ThreadHint;

#[test]
fn bench_harness_runs_every_workload_on_a_tiny_setting() {
    for w in seqlab_experiments::bench::WORKLOADS {
        let (ok, out, err) = seqlab(&[
            "bench", w, "--shrink", "50", "--warmup", "0", "--epochs", "2",
        ]);
        assert!(ok, "{w}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["workload"], *w);
        assert_eq!(v["epoch_seconds"].as_array().unwrap().len(), 2);
        let sps = v["samples_per_second"].as_f64().unwrap();
        assert!(sps.is_finite() && sps > 0.0, "{w}: {sps}");
        assert_eq!(v["allocator"], "tuned", "{w}");
        // Huge pages only where the experiment declares them and the system
        // can give them.
        let huge = seqlab_experiments::bench::huge_pages_hint(w)
            && seqlab_train::runtime::huge_pages_possible();
        assert_eq!(v["malloc_huge_pages"], huge, "{w}");
        // Each workload's own thread count: one for the small LSTMs.
        assert_eq!(v["threads_source"], "hint", "{w}");
        if seqlab_experiments::bench::thread_hint(w) == ThreadHint::Single {
            assert_eq!(v["threads"], 1, "{w}");
        }
    }
    // An explicit count wins over the hint, and OMP_NUM_THREADS over the hint.
    let tiny_seq2seq = [
        "bench",
        "seq2seq-sine",
        "--shrink",
        "50",
        "--warmup",
        "0",
        "--epochs",
        "1",
    ];
    let with_flag = [&tiny_seq2seq[..], &["--threads", "2"]].concat();
    for (args, env, source) in [
        (&with_flag[..], None, "choice"),
        (
            &tiny_seq2seq[..],
            Some(("OMP_NUM_THREADS", "2")),
            "environment",
        ),
    ] {
        let (ok, out, err) = seqlab_env(args, env.as_slice());
        assert!(ok, "{source}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(
            (v["threads"].as_u64(), v["threads_source"].as_str()),
            (Some(2), Some(source))
        );
    }
    let (ok, _, err) = seqlab(&["bench", "nope"]);
    assert!(!ok && err.contains("toy-seq2one"), "{err}");
    // The allocator setup is recorded, and the user's choice is kept.
    let tiny = [
        "bench",
        "toy-seq2one",
        "--shrink",
        "50",
        "--warmup",
        "0",
        "--epochs",
        "1",
    ];
    for (env, expected) in [
        (("SEQLAB_MALLOC", "system"), "system"),
        (
            ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072"),
            "user",
        ),
    ] {
        let (ok, out, err) = seqlab_env(&tiny, &[env]);
        assert!(ok, "{env:?}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["allocator"], expected, "{env:?}");
    }
    // SEQLAB_MALLOC=thresholds: tuned, without huge pages.
    let imdb = [
        "bench", "imdb-rnn", "--shrink", "50", "--warmup", "0", "--epochs", "1",
    ];
    let (ok, out, err) = seqlab_env(&imdb, &[("SEQLAB_MALLOC", "thresholds")]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (&v["allocator"], &v["malloc_huge_pages"]),
        (&"tuned".into(), &false.into())
    );
    let (ok, _, err) = seqlab_env(&tiny, &[("SEQLAB_MALLOC", "fast")]);
    assert!(!ok && err.contains("SEQLAB_MALLOC=\"fast\""), "{err}");
}
