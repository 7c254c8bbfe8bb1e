//! The registry's entries for experiments not yet converted to
//! [`crate::experiment::Experiment`] (transitional; removed once all are).

use crate::aggregate::{summarise, SeedResult, SummaryExtra, SummaryOf};
use crate::record::{settings_of, SeedView, Setting, Summary};
use crate::runner::SeedRun;
use crate::ExperimentError;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// One seed's complete folder, as untyped JSON.
#[derive(Debug, Clone)]
pub struct SeedFolder {
    /// The seed.
    pub seed: u64,
    /// Its folder.
    pub dir: PathBuf,
    /// Its `metrics.json`.
    pub metrics: Value,
}

/// What an unconverted experiment adds to the summary of its seeds.
#[derive(Debug, Clone, Default)]
pub struct AggregateExtra {
    /// Files written into the experiment's folder (names relative to it).
    pub files: Vec<String>,
    /// Extra entries of the summary.
    pub metrics: Map<String, Value>,
    /// Markdown paragraphs for the report, after the targets table.
    pub report: Vec<String>,
}

/// An unconverted experiment's own part of the summary.
pub type AggregateHook = fn(&[SeedFolder], &Path) -> Result<AggregateExtra, ExperimentError>;

/// The untyped details of an unconverted experiment.
pub type Details = Map<String, Value>;

fn settings(d: &Details) -> Vec<Setting> {
    d.get("settings").map(settings_of).unwrap_or_default()
}

fn notes(d: &Details) -> Vec<String> {
    d.get("notes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn no_epochs(_: &Details) -> Vec<(String, usize)> {
    Vec::new()
}

/// The summary of an unconverted experiment.
pub fn aggregate(
    dir: &Path,
    hook: Option<AggregateHook>,
    allow_mixed: bool,
) -> Result<Option<Summary>, ExperimentError> {
    let how = SummaryOf {
        targets: |_| None,
        measurements: |_| None,
        settings,
        epochs: no_epochs,
        extra: |seeds: &[SeedResult<Details>]| {
            let Some(hook) = hook else {
                return Ok(SummaryExtra::default());
            };
            let folders: Vec<SeedFolder> = seeds
                .iter()
                .map(|s| SeedFolder {
                    seed: s.seed,
                    dir: s.dir.clone(),
                    metrics: serde_json::to_value(&s.metrics).unwrap_or(Value::Null),
                })
                .collect();
            let extra = hook(&folders, dir)?;
            Ok(SummaryExtra {
                files: extra.files,
                report: extra.report,
                details: Value::Object(extra.metrics),
                ..SummaryExtra::default()
            })
        },
    };
    summarise(dir, allow_mixed, how)
}

/// One seed's folder of an unconverted experiment.
pub fn seed_view(dir: &Path) -> Result<SeedView, ExperimentError> {
    SeedView::read(
        dir,
        crate::record::SeedParts {
            targets: |_| None,
            measurements: |_| None,
            settings,
            epochs: no_epochs,
            notes,
        },
    )
}

/// An unconverted experiment's registry data.
#[derive(Clone, Copy)]
pub struct Legacy {
    /// Its per-seed function.
    pub run_seed: SeedRun,
    /// Its hook.
    pub aggregate: Option<AggregateHook>,
}

/// Where the reproduction differs from its source, and why.
pub fn differences(name: &str) -> &'static [&'static str] {
    match name {
        "seq2one" => &[
            "The post's feed-forward loop trains on the first 60 samples only (an indexing slip); it is reproduced as published and also run corrected.",
        ],
        "temporal-order" => &[
            "HARD: with PyTorch's or Keras' initialisation the LSTM stayed at chance for 300 epochs, so it starts with a forget-gate bias of 3 and clips the gradient norm at 1; the RNN gets the same budget.",
        ],
        "length-sweep" => &[
            "Not in the sources: an added sweep with equal width and budget for the three cells and Keras initialisation; each seed trains every length and cell once, and the plot over seeds shows the mean with a band from the worst to the best seed.",
        ],
        "imdb-rnn" | "imdb-lstm" => &[
            "libtorch's LSTM/RNN keep two bias vectors: 32 (SimpleRNN) or 128 (LSTM) more stored parameters than Keras counts; the Keras-counted totals equal the book's.",
            "libtorch's batch norm updates its moving variance with the unbiased batch variance (Keras: biased).",
            "Besides the book's protocol (all 25,000 training reviews, validation on the test set), a held-out protocol validates on 20% of the training reviews, and a test-validated protocol fits the held-out protocol's same reviews with the same seed but validates on the test set: their paired difference is the effect of validating on the test set alone.",
        ],
        "mnist-lstm-ae" | "mnist-bilstm-ae" => &[
            "The reconstruction pictures show the first test image of each digit; each caption names its index in the MNIST test file (the book's single example is test image 9).",
            "EarlyStopping ignores gains below 1e-4: with Keras' default of 0, training runs for hundreds of epochs at learning rates near 1e-7 on gains of about 1e-6.",
            "libtorch's LSTMs keep two bias vectors (more stored parameters than Keras counts); the Keras-counted totals equal the book's.",
        ],
        "seq2seq-sin-cos" => &[
            "As published (zero-fed decoding): the post's get_output_data writes each prediction to the global dy (dy[0, 0, 0] = y_output), never to the decoder input _dy, so the decoder reads 0 at every step; this is the decoding behind the post's \"captured the shape somehow\" picture. Corrected one at a time: fed-back decoding (the same model), then the improved recipe (longer teacher forcing, then free-running fine-tuning on its own fed-back outputs).",
            "The post prints no seed; the same seeds initialise every run of one seed here.",
        ],
        "seq2seq-damped" | "seq2seq-power" => &[
            "As published: main() compiles these pairs with rmsprop and categorical_crossentropy; on one linear output Keras divides the output by its own sum (= 1), so the loss is constant and nothing trains (checked: RMSprop with Keras' defaults for 3 epochs, the largest weight change). main() then plots with the global prediction models of the first (sin -> cos) training: the sin -> cos model decodes the new inputs, zero-fed, which explains the post's \"180 degrees out of phase\" remark.",
            "Corrected one at a time: (1) fed-back decoding of that sin -> cos model; (2) the pair trained on its own windows with the post's Adam and MSE (fed back); (3) the improved recipe.",
        ],
        "continuation" => &[
            "As posted: the asker's Chain(Dense(1,3), LSTM(3,3), Dense(3,5,relu), Dense(5,1)), its loss and data, ADAM() (lr 1e-3; opt is not printed) and Flux's initialisation, 20 epochs, with both slips of the printed code: batchSequences(x, batchSize) starts with x = copy(xtrain) and batchSize = 3, so the targets are unshuffled batches of 3 of the inputs (the model learns the identity); predictSequence calls m(seq[i-1]) only from i = nSeeds + 1, so seeds 1 to 4, and with them the 4th seed that sets the slope, never reach the model's state.",
            "Each slip is then fixed alone, both together, and the smallest changes of the asker's own architecture (200 epochs, learning rate 1e-2, width 16) are measured apart from the fixes; the recommended model is an LSTM encoder-decoder that reads the seeds and produces the continuation autoregressively.",
            "Loss: the mean of the squared errors over the five scored steps, where the post sums them (Adam is invariant to that constant factor); libtorch's LSTM has two bias vectors where Flux's has one (both start at Flux's values).",
        ],
        _ => &[],
    }
}
