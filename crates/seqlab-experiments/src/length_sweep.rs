//! Sequence-length sweep on the A/B-order task: where vanilla RNNs fail and
//! LSTMs and GRUs do not (the sweep the Flux post invites but does not run).
//!
//! For every length, cell type (RNN(tanh), LSTM, GRU) and seed, a
//! one-layer network of the same width is trained with the same budget
//! (data, epochs, optimiser, gradient clipping) and its test accuracy after
//! the last epoch is recorded. The two marker letters can sit anywhere in the sequence, so
//! the gap the network must bridge grows with the length.
//!
//! Every cell starts from Keras' default initialisation (the chapter's
//! framework): Glorot-uniform input weights, orthogonal recurrent weights,
//! zero biases and, for the LSTM, a forget-gate bias of 1. With PyTorch's
//! default (forget-gate bias 0) and 15 epochs the LSTM reached only 61-75%
//! at length 200.
//!
//! Writes `runs.csv` (one row per run), `accuracy_vs_length.png` (mean
//! test accuracy against length, with a band from the worst to the best
//! seed), `metrics.json` and `timing.json`.

use crate::common::{classification_fit, epochs_or, ResultsDir, RunInfo, Target};
use crate::{ExperimentError, RunOptions, RunOutcome};
use seqlab_data::ab_order;
use seqlab_models::classifier::{seq_classifier, SeqClassifierConfig};
use seqlab_models::recurrent::{RecurrentInit, RecurrentKind};
use seqlab_plot::{LegendPosition, LineChart};
use seqlab_train::fit::fit;
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::seed_all;
use seqlab_train::tensors::to_tensors;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tch::nn::VarStore;

/// The experiment's name and results folder.
pub const NAME: &str = "length-sweep";

/// Settings of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct LengthSweepConfig {
    /// Sequence lengths.
    pub lengths: Vec<usize>,
    /// Cell types compared.
    pub kinds: Vec<RecurrentKind>,
    /// Hidden units of every network.
    pub hidden: i64,
    /// Number of seeds per (length, cell) pair: `seed, seed + 1, ...`.
    pub seeds: u64,
    /// Training sequences per run.
    pub n_train: usize,
    /// Test sequences per run.
    pub n_test: usize,
    /// Epochs per run.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Gradient-norm clipping (the same for every cell).
    pub clip_grad_norm: f64,
    /// Weight initialisation (the same rule for every cell).
    pub init: RecurrentInit,
}

impl LengthSweepConfig {
    /// Lengths 12 to 200, three cells, three seeds.
    pub fn full() -> Self {
        Self {
            lengths: vec![12, 25, 50, 100, 150, 200],
            kinds: vec![
                RecurrentKind::RnnTanh,
                RecurrentKind::Lstm,
                RecurrentKind::Gru,
            ],
            hidden: 32,
            seeds: 3,
            n_train: 2000,
            n_test: 1000,
            epochs: 20,
            batch_size: 32,
            lr: 2e-3,
            clip_grad_norm: 1.0,
            init: RecurrentInit::Keras,
        }
    }

    /// Two lengths, one seed, little data: seconds on a CPU.
    pub fn quick() -> Self {
        Self {
            lengths: vec![12, 60],
            seeds: 1,
            n_train: 600,
            n_test: 300,
            epochs: 6,
            ..Self::full()
        }
    }
}

/// One training run.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRun {
    /// Sequence length.
    pub length: usize,
    /// Cell name.
    pub cell: &'static str,
    /// Seed.
    pub seed: u64,
    /// Accuracy on the training set at the last epoch.
    pub train_accuracy: f64,
    /// Accuracy on the test set after training.
    pub test_accuracy: f64,
}

#[derive(Serialize)]
struct Summary {
    mean: f64,
    min: f64,
    max: f64,
}

#[derive(Serialize)]
struct Metrics {
    #[serde(flatten)]
    info: RunInfo,
    settings: Settings,
    /// cell -> length -> summary over seeds.
    test_accuracy: BTreeMap<&'static str, BTreeMap<usize, Summary>>,
    targets: Vec<Target>,
}

#[derive(Serialize)]
struct Settings {
    lengths: Vec<usize>,
    cells: Vec<&'static str>,
    hidden: i64,
    seeds: Vec<u64>,
    n_train: usize,
    n_test: usize,
    epochs: usize,
    batch_size: usize,
    optimizer: String,
    clip_grad_norm: f64,
    init: String,
}

/// Runs the sweep with the profile chosen by `opts.quick`.
pub fn run(opts: &RunOptions) -> Result<RunOutcome, ExperimentError> {
    let config = if opts.quick {
        LengthSweepConfig::quick()
    } else {
        LengthSweepConfig::full()
    };
    run_with(&config, opts)
}

fn summarize(values: &[f64]) -> Summary {
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Summary { mean, min, max }
}

/// Runs the sweep with explicit settings.
pub fn run_with(
    config: &LengthSweepConfig,
    opts: &RunOptions,
) -> Result<RunOutcome, ExperimentError> {
    if config.lengths.is_empty() || config.kinds.is_empty() || config.seeds == 0 {
        return Err(ExperimentError::InvalidOption(
            "the sweep needs at least one length, cell and seed".into(),
        ));
    }
    let device = opts.device.resolve()?;
    let started = std::time::Instant::now();
    let mut out = ResultsDir::prepare(opts, NAME)?;
    let epochs = epochs_or(opts, config.epochs)?;
    let optimizer = OptimizerConfig::adam(config.lr);
    let seeds: Vec<u64> = (0..config.seeds).map(|i| opts.seed + i).collect();
    let mut runs = Vec::new();
    let mut timing = BTreeMap::new();
    for &length in &config.lengths {
        for &seed in &seeds {
            let (train, test) =
                ab_order::generate_split(config.n_train, config.n_test, length, seed)?;
            let (train, test) = (to_tensors(&train, device)?, to_tensors(&test, device)?);
            for &kind in &config.kinds {
                seed_all(seed);
                let mut vs = VarStore::new(device);
                let cfg = SeqClassifierConfig {
                    init: config.init,
                    ..SeqClassifierConfig::stacked(
                        ab_order::N_FEATURES as i64,
                        kind,
                        &[config.hidden],
                        4,
                    )
                };
                let net = seq_classifier(vs.root() / "net", &cfg)?;
                let label = format!("length {length} {} seed {seed}", kind.name());
                let mut fit_config =
                    classification_fit(opts, label, epochs, config.batch_size, optimizer, seed);
                fit_config.clip_grad_norm = Some(config.clip_grad_norm);
                fit_config.eval_batch_size = 500;
                let report = fit(&mut vs, &net, &train, Some(&test), fit_config)?;
                timing.insert(format!("{length}/{}/{seed}", kind.name()), report.seconds);
                runs.push(SweepRun {
                    length,
                    cell: kind.name(),
                    seed,
                    train_accuracy: report.history.last("accuracy").unwrap_or(f64::NAN),
                    test_accuracy: report.history.last("val_accuracy").unwrap_or(f64::NAN),
                });
            }
        }
    }

    let mut csv = String::from("length,cell,seed,train_accuracy,test_accuracy\n");
    for r in &runs {
        let _ = writeln!(
            csv,
            "{},{},{},{},{}",
            r.length, r.cell, r.seed, r.train_accuracy, r.test_accuracy
        );
    }
    out.write_text("runs.csv", &csv)?;

    let mut table: BTreeMap<&'static str, BTreeMap<usize, Summary>> = BTreeMap::new();
    let mut chart = LineChart::new(format!(
        "A/B-order task: test accuracy vs sequence length ({} hidden units, {epochs} epochs, {} seeds; band: worst to best seed)",
        config.hidden, config.seeds
    ))
    .x_label("sequence length")
    .y_label("test accuracy")
    .y_range(0.0, 1.02)
    .legend(LegendPosition::LowerLeft);
    for &kind in &config.kinds {
        let per_length: Vec<Summary> = config
            .lengths
            .iter()
            .map(|&l| {
                summarize(
                    &runs
                        .iter()
                        .filter(|r| r.length == l && r.cell == kind.name())
                        .map(|r| r.test_accuracy)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let x: Vec<f64> = config.lengths.iter().map(|&l| l as f64).collect();
        let pick = |f: fn(&Summary) -> f64| per_length.iter().map(f).collect::<Vec<f64>>();
        chart = chart.mean_with_band(
            kind.name(),
            &x,
            &pick(|s| s.mean),
            &pick(|s| s.min),
            &pick(|s| s.max),
        )?;
        table.insert(
            kind.name(),
            config.lengths.iter().copied().zip(per_length).collect(),
        );
    }
    chart.save_png(out.path("accuracy_vs_length.png"), 1000, 520)?;

    let targets = targets(&table, config);
    let targets_met = targets.iter().all(|t| t.pass);
    let headline = targets.iter().map(Target::line).collect();
    let metrics = Metrics {
        info: RunInfo::new(NAME, opts, device),
        settings: Settings {
            lengths: config.lengths.clone(),
            cells: config.kinds.iter().map(|k| k.name()).collect(),
            hidden: config.hidden,
            seeds,
            n_train: config.n_train,
            n_test: config.n_test,
            epochs,
            batch_size: config.batch_size,
            optimizer: optimizer.describe(),
            clip_grad_norm: config.clip_grad_norm,
            init: format!("{:?}", config.init),
        },
        test_accuracy: table,
        targets,
    };
    out.write_json("metrics.json", &metrics)?;
    out.finish(timing, started, headline, targets_met)
}

fn targets(
    table: &BTreeMap<&'static str, BTreeMap<usize, Summary>>,
    config: &LengthSweepConfig,
) -> Vec<Target> {
    let (Some(&shortest), Some(&longest)) =
        (config.lengths.iter().min(), config.lengths.iter().max())
    else {
        return Vec::new();
    };
    let mean = |cell: &str, length: usize| {
        table
            .get(cell)
            .and_then(|t| t.get(&length))
            .map_or(f64::NAN, |s| s.mean)
    };
    let mut t = Vec::new();
    let rnn = RecurrentKind::RnnTanh.name();
    if table.contains_key(rnn) {
        t.push(Target::within(
            &format!("RNN(tanh) accuracy drop from length {shortest} to {longest}"),
            "vanilla RNNs degrade with length",
            mean(rnn, shortest) - mean(rnn, longest),
            0.2,
            f64::MAX,
        ));
    }
    for kind in [RecurrentKind::Lstm, RecurrentKind::Gru] {
        if table.contains_key(kind.name()) {
            let worst = config
                .lengths
                .iter()
                .map(|&l| mean(kind.name(), l))
                .fold(f64::INFINITY, f64::min);
            t.push(Target::within(
                &format!(
                    "{} lowest mean test accuracy over lengths {shortest}-{longest}",
                    kind.name()
                ),
                "LSTMs do not degrade",
                worst,
                0.95,
                1.0,
            ));
        }
    }
    t
}
