//! `seqlab data`: print decoded samples of a data set, to see what the
//! models see.

use crate::ExperimentError;
use seqlab_data::datadir::DataDir;
use seqlab_data::mnist::Split;
use seqlab_data::sine_pairs::{self, FunctionPair, WindowConfig};
use seqlab_data::temporal_order::{self, Difficulty};
use seqlab_data::text::{TextEncoder, Vocabulary};
use seqlab_data::{ab_order, continuation};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The data sets `seqlab data` knows.
pub const DATASETS: [(&str, &str); 6] = [
    (
        "ab-order",
        "A/B-order toy task: letter sequences and their class",
    ),
    (
        "temporal-order",
        "temporal order task (--difficulty): sequences like BbXcXcbE and their class Q/R/S/U",
    ),
    (
        "continuation",
        "seed-conditioned continuation: five seeds and the five values that follow",
    ),
    (
        "sine",
        "encoder-decoder windows of a function pair (--pair sin-cos|damped|power)",
    ),
    (
        "mnist",
        "MNIST digits as 28 rows of 28 pixels (--split train|test), drawn as text",
    ),
    (
        "imdb",
        "IMDb reviews: text, Keras-style token ids and the decoded words",
    ),
];

/// What to show.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// Number of samples.
    pub n: usize,
    /// Seed of the generated data sets.
    pub seed: u64,
    /// Temporal-order difficulty.
    pub difficulty: Difficulty,
    /// Sine-pair function pair.
    pub pair: FunctionPair,
    /// MNIST / IMDb split.
    pub split: Split,
    /// Data directory (`--data-dir`), else `SEQLAB_DATA_DIR`, else `data/`.
    pub data_dir: Option<PathBuf>,
}

impl Default for InspectOptions {
    fn default() -> Self {
        Self {
            n: 5,
            seed: 42,
            difficulty: Difficulty::Easy,
            pair: FunctionPair::SinCos,
            split: Split::Train,
            data_dir: None,
        }
    }
}

/// The text `seqlab data <name>` prints.
pub fn inspect(name: &str, opts: &InspectOptions) -> Result<String, ExperimentError> {
    match name {
        "ab-order" => ab(opts),
        "temporal-order" => temporal(opts),
        "continuation" => cont(opts),
        "sine" => sine(opts),
        "mnist" => mnist(opts),
        "imdb" => reviews(opts),
        other => Err(ExperimentError::InvalidOption(format!(
            "unknown data set {other:?}; available: {}",
            DATASETS.iter().map(|d| d.0).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn ab(opts: &InspectOptions) -> Result<String, ExperimentError> {
    let d = ab_order::generate(opts.n, ab_order::DEFAULT_SEQ_LEN, opts.seed)?;
    let mut out = format!(
        "A/B-order task, length {}, seed {} (classes {:?})\n",
        ab_order::DEFAULT_SEQ_LEN,
        opts.seed,
        ab_order::CLASSES
    );
    for (i, &label) in d.class_labels()?.iter().enumerate() {
        let _ = writeln!(
            out,
            "{} -> {}",
            ab_order::decode(d.inputs().row(i))?,
            ab_order::CLASSES[label as usize]
        );
    }
    Ok(out)
}

fn temporal(opts: &InspectOptions) -> Result<String, ExperimentError> {
    let level = opts.difficulty;
    let d = temporal_order::generate(opts.n, level, opts.seed)?;
    let (lo, hi) = level.length_range();
    let mut out = format!(
        "temporal order, {level}: length [{lo}, {hi}), t1 {:?}, t2 {:?}, padded to {}, seed {}\n",
        level.t1_range(),
        level.t2_range(),
        level.padded_len(),
        opts.seed
    );
    for (i, &label) in d.class_labels()?.iter().enumerate() {
        let _ = writeln!(
            out,
            "{} -> {}",
            temporal_order::decode(d.inputs().row(i))?,
            temporal_order::CLASSES[label as usize]
        );
    }
    Ok(out)
}

fn fmt_values(v: &[f32]) -> String {
    v.iter()
        .map(|x| format!("{x:+.3}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn cont(opts: &InspectOptions) -> Result<String, ExperimentError> {
    let set = continuation::generate(opts.n, opts.seed)?;
    let mut out = format!(
        "seed-conditioned continuation, seed {} (each value = previous + 0.5 * fourth seed)\n",
        opts.seed
    );
    for i in 0..set.len() {
        let _ = writeln!(
            out,
            "seeds {}  ->  {}",
            fmt_values(set.seeds.row(i)),
            fmt_values(set.continuation.row(i))
        );
    }
    Ok(out)
}

fn sine(opts: &InspectOptions) -> Result<String, ExperimentError> {
    let w = sine_pairs::windows(&WindowConfig::new(opts.pair))?;
    let mut out = format!(
        "{}: {} windows of {} steps\n",
        opts.pair.description(),
        w.len(),
        w.encoder_input.shape()[1]
    );
    for i in 0..opts.n.min(w.len()) {
        let head = |a: &seqlab_data::Array| fmt_values(&a.row(i)[..4.min(a.row_len())]);
        let _ = writeln!(
            out,
            "window {i} (x from {:.3}): encoder {} ... | decoder input {} ... | target {} ...",
            w.x[w.starts[i]],
            head(&w.encoder_input),
            head(&w.decoder_input),
            head(&w.decoder_target)
        );
    }
    Ok(out)
}

/// A 28x28 digit as text, one character per pixel, darkest to brightest.
pub fn ascii_digit(pixels: &[f32], width: usize) -> String {
    const RAMP: &[u8] = b" .:-=+*#%@";
    let mut s = String::new();
    for row in pixels.chunks(width) {
        for &v in row {
            let i = ((v.clamp(0.0, 1.0) * (RAMP.len() - 1) as f32).round()) as usize;
            s.push(RAMP[i] as char);
        }
        s.push('\n');
    }
    s
}

fn mnist(opts: &InspectOptions) -> Result<String, ExperimentError> {
    let dir = DataDir::resolve(opts.data_dir.as_deref());
    let m = dir.mnist(opts.split)?;
    let mut out = format!(
        "MNIST {:?}: {} images of 28 rows x 28 pixels from {}\n",
        opts.split,
        m.len(),
        dir.root().display()
    );
    for i in 0..opts.n.min(m.len()) {
        let _ = writeln!(out, "image {i}: label {}", m.labels[i]);
        out.push_str(&ascii_digit(m.images.row(i), 28));
    }
    Ok(out)
}

fn reviews(opts: &InspectOptions) -> Result<String, ExperimentError> {
    let dir = DataDir::resolve(opts.data_dir.as_deref());
    let data = dir.imdb()?;
    // The book's settings: 10,000 words, the top 20 skipped, 128 tokens, pre-padding and pre-truncation.
    let encoder = TextEncoder::book(Vocabulary::from_texts(seqlab_data::imdb::texts(
        &data.train,
    )));
    let split = match opts.split {
        Split::Train => &data.train,
        Split::Test => &data.test,
    };
    let mut out = format!(
        "IMDb {:?}: {} reviews; vocabulary of {} words from the training split; indexing: num_words 10000, skip_top 20, maxlen 128 (pre)\n",
        opts.split,
        split.len(),
        encoder.vocab.len()
    );
    for review in split.iter().take(opts.n) {
        let (ids, _) = encoder.encode(&[review.text.as_str()]);
        let shown: String = review.text.chars().take(240).collect();
        let _ = writeln!(
            out,
            "\n#{} rating {}/10 {}\ntext:    {shown}{}\nids:     {:?}\ndecoded: {}",
            review.id,
            review.rating,
            if review.positive {
                "positive"
            } else {
                "negative"
            },
            if review.text.chars().count() > 240 {
                " ..."
            } else {
                ""
            },
            ids,
            encoder.index.decode(&encoder.vocab, &ids).join(" ")
        );
    }
    Ok(out)
}
