//! `seqlab predict`: refusing files that are not the model's, the fuzz seeds.

use crate::common::*;
use std::path::PathBuf;

#[test]
fn predict_refuses_files_that_are_not_the_models() {
    use seqlab_experiments::imdb::{PredictOptions, Predictor};
    use seqlab_models::recurrent::RecurrentKind;
    let _serial = torch_serial();
    let results = scratch("predict-files");
    let dir = results.join("imdb-lstm");
    let opts = PredictOptions {
        experiment: "imdb-lstm".into(),
        results_dir: results.clone(),
        threshold: None,
        device: tch::Device::Cpu,
    };
    let refused = || match Predictor::load(&opts) {
        Ok(p) => format!("accepted: {:?}", p.predict(&["A wonderful, moving film."])),
        Err(e) => e.to_string(),
    };
    tiny_model(&dir, RecurrentKind::Lstm, false);
    let review = "A wonderful, moving film.";
    let p = Predictor::load(&opts).unwrap().predict(&[review]).unwrap();
    assert!((0.0..=1.0).contains(&p[0].probability));
    // Two lines of equal count swapped: the words' ids change, the model is not this one.
    let vocab = dir.join("vocabulary.tsv");
    let original = std::fs::read_to_string(&vocab).unwrap();
    let mut lines: Vec<&str> = original.lines().collect();
    lines.swap(0, 1);
    let mut damaged = vec![lines.join("\n") + "\n", String::new()];
    damaged.push(original[..original.len() / 2].to_string());
    for text in damaged {
        std::fs::write(&vocab, &text).unwrap();
        let err = refused();
        assert!(
            err.contains("vocabulary.tsv") && err.contains("differs from the file of the run"),
            "{text:?}: {err}"
        );
    }
    std::fs::write(&vocab, &original).unwrap();
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    let err = refused();
    assert!(
        err.contains("manifest.json") && err.contains("belong together"),
        "{err}"
    );
    // NaN weights, even listed in the manifest: refused, naming the file and variable.
    tiny_model(&dir, RecurrentKind::Lstm, true);
    let err = refused();
    assert!(
        err.contains("model.safetensors") && err.contains("NaN"),
        "{err}"
    );
    // A SimpleRNN folder copied as imdb-lstm, whole (manifest and all).
    std::fs::remove_dir_all(&dir).unwrap();
    tiny_model(&dir, RecurrentKind::RnnTanh, false);
    let err = refused();
    assert!(
        err.contains("model.json") && err.contains("the model of imdb-rnn, not of imdb-lstm"),
        "{err}"
    );
    std::fs::remove_dir_all(&results).unwrap();
}

#[test]
fn predict_fuzz_seeds_score_or_fail_with_a_message_naming_the_model() {
    let _serial = torch_serial();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/predict");
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    seeds.sort();
    let (mut scored, mut refused) = (0, 0);
    for path in seeds {
        let bytes = std::fs::read(&path).unwrap();
        let reject = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("reject-"));
        // check() panics on a broken rule (a panic, a backtrace, an error
        // that names no file, a probability outside [0, 1]).
        match crate::fuzz_predict::check(&bytes) {
            Ok(p) => {
                assert!(!reject, "{} was scored {p}", path.display());
                scored += 1;
            }
            Err(e) => {
                assert!(reject, "seed {}: {e}", path.display());
                refused += 1;
            }
        }
        // Damaged copies never panic either.
        for at in [bytes.len() / 4, bytes.len() / 2] {
            let mut broken = bytes.clone();
            if let Some(b) = broken.get_mut(at) {
                *b ^= 0x21;
            }
            let _ = crate::fuzz_predict::check(&broken);
        }
    }
    assert!(
        scored >= 2 && refused >= 4,
        "{scored} scored, {refused} refused"
    );
    let _ = std::fs::remove_dir_all(crate::fuzz_predict::fixture());
}
