//! `seqlab predict`'s path on an arbitrary `model.json` and review:
//! `imdb::Predictor::load` then `predict`, next to fixed small weights and a
//! vocabulary (an LSTM's in `model.safetensors`, a SimpleRNN's in
//! `rnn.safetensors`, so that the input can name either or describe neither).
//!
//! Input: the bytes of `model.json`, then a `0xFF` byte (never part of
//! UTF-8), then the review.
//!
//! The folder's `manifest.json` is rewritten to match each input, so that
//! inputs reach the checks behind the manifest's.
//!
//! Checks: never panics or aborts (a `model.json` describing a huge model
//! must not allocate it); an error names a file of the model's folder or
//! says the review has no words, and carries no libtorch backtrace; a
//! prediction is a probability in [0, 1] that agrees with the threshold,
//! and counts at most `maxlen` tokens.
//!
//! The same weights are written by `fixture` for seqlab-experiments' stable
//! test over the seed corpus, which includes this file as a module; it
//! depends only on crates that seqlab-experiments depends on.

use seqlab_experiments::imdb::{self, PredictOptions, Predictor};
use seqlab_models::recurrent::{RecurrentInit, RecurrentKind};
use seqlab_models::sentiment::{sentiment_classifier, SentimentConfig};
use seqlab_models::tch::nn::VarStore;
use seqlab_models::tch::Device;
use std::path::PathBuf;
use std::sync::OnceLock;

const EXPERIMENT: &str = "imdb-lstm";

/// Writes the weights and the vocabulary once; returns the results folder.
pub fn fixture() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let results =
            std::env::temp_dir().join(format!("seqlab-fuzz-predict-{}", std::process::id()));
        let dir = results.join(EXPERIMENT);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        for (kind, file) in [
            (RecurrentKind::Lstm, "model.safetensors"),
            (RecurrentKind::RnnTanh, "rnn.safetensors"),
        ] {
            let vs = VarStore::new(Device::Cpu);
            let cfg = SentimentConfig {
                vocab_size: 20,
                embedding_dim: 4,
                kind,
                hidden_size: 3,
                embedding_dropout: 0.3,
                head_dropout: 0.2,
                init: RecurrentInit::Keras,
            };
            sentiment_classifier(vs.root() / "imdb", &cfg).expect("fixture model");
            seqlab_train::checkpoint::save_weights(&vs, dir.join(file)).expect("fixture weights");
        }
        let words = "the a film good bad great awful plot acting was is and of it movie story";
        let vocab = seqlab_data::text::Vocabulary::build([seqlab_data::text::tokenize(words)]);
        vocab
            .save(&dir.join("vocabulary.tsv"))
            .expect("fixture vocabulary");
        results
    })
}

/// Writes `manifest.json` listing every file of the fixture's folder with
/// its hash, as a run does, so that inputs reach the checks past the
/// manifest's.
fn write_manifest(dir: &std::path::Path) {
    let files: Vec<String> = [
        imdb::MODEL_FILE,
        "model.safetensors",
        "rnn.safetensors",
        "vocabulary.tsv",
    ]
    .iter()
    .map(|name| {
        let bytes = std::fs::read(dir.join(name)).expect("fixture file");
        // Plain ASCII names and hex digits: nothing to escape.
        format!(
            "\"{name}\": \"{}\"",
            seqlab_experiments::common::sha256_hex(&bytes)
        )
    })
    .collect();
    let manifest = format!(
        "{{\"run_id\": \"fuzz\", \"files\": {{{}}}}}",
        files.join(", ")
    );
    std::fs::write(
        dir.join(seqlab_experiments::common::MANIFEST_FILE),
        manifest,
    )
    .expect("write manifest.json");
}

/// Runs one input through `Predictor::load` and `predict` and checks the outcome
/// (see the module docs). Panics on a violation; returns the probability,
/// or the error's text.
pub fn check(data: &[u8]) -> Result<f64, String> {
    let results = fixture();
    let (json, review) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let dir = results.join(EXPERIMENT);
    std::fs::write(dir.join(imdb::MODEL_FILE), json).expect("write model.json");
    write_manifest(&dir);
    let opts = PredictOptions {
        experiment: EXPERIMENT.into(),
        results_dir: results.clone(),
        threshold: None,
        device: Device::Cpu,
    };
    let folder = results.join(EXPERIMENT).display().to_string();
    let check_error = |e: &dyn std::fmt::Display| -> Result<f64, String> {
        let text = e.to_string();
        assert!(
            text.contains(&folder) || text.contains("has no words"),
            "the error names no file of the model: {text}"
        );
        assert!(
            !text.contains("frame #") && !text.contains("Exception raised from"),
            "a libtorch backtrace reached the message: {text}"
        );
        Err(text)
    };
    let predictor = match Predictor::load(&opts) {
        Ok(p) => p,
        Err(e) => return check_error(&e),
    };
    let text = String::from_utf8_lossy(review);
    match predictor.predict(&[text.as_ref()]) {
        Ok(preds) => {
            assert_eq!(preds.len(), 1);
            let p = &preds[0];
            assert!((0.0..=1.0).contains(&p.probability), "{p:?}");
            assert_eq!(p.positive, p.probability >= predictor.threshold(), "{p:?}");
            assert!(p.tokens_used <= predictor.saved().maxlen, "{p:?}");
            assert!(p.unknown_tokens <= p.tokens_used, "{p:?}");
            Ok(p.probability)
        }
        Err(e) => check_error(&e),
    }
}
