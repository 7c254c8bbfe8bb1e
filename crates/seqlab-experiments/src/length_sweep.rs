//! Sequence-length sweep on the A/B-order task: where vanilla RNNs fail and
//! LSTMs and GRUs do not (the sweep the Flux post invites but does not run).
//!
//! For every length and cell type (RNN(tanh), LSTM, GRU), one seed's run
//! trains a one-layer network of the same width with the same budget
//! (data, epochs, optimiser, gradient clipping) and records its test
//! accuracy after the last epoch. Run several seeds
//! (`seqlab run length-sweep --seeds 42..46`) for the spread: the summary
//! over seeds draws the mean per length with a band from the worst to the
//! best seed. The two marker letters can sit anywhere in the sequence, so
//! the gap the network must bridge grows with the length.
//!
//! Every cell starts from Keras' default initialisation (the chapter's
//! framework): Glorot-uniform input weights, orthogonal recurrent weights,
//! zero biases and, for the LSTM, a forget-gate bias of 1. With PyTorch's
//! default (forget-gate bias 0) and 15 epochs the LSTM reached only 61-75%
//! at length 200.
//!
//! Each seed writes `runs.csv` (one row per length and cell),
//! `accuracy_vs_length.png` (its test accuracy against length),
//! `metrics.json` and `timing.json`; [`aggregate`] writes the seeds'
//! `accuracy_vs_length.png` with bands and the per-length table.

use crate::aggregate::{AggregateExtra, SeedFolder, SpreadPoint, Summaries};
use crate::common::{classification_fit, epochs_or, CsvTable, ResultsDir, Target};
use crate::runner::{run_into, SeedOutcome};
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
use std::path::Path;
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
    /// Lengths 12 to 200, three cells.
    pub fn full() -> Self {
        Self {
            lengths: vec![12, 25, 50, 100, 150, 200],
            kinds: vec![
                RecurrentKind::RnnTanh,
                RecurrentKind::Lstm,
                RecurrentKind::Gru,
            ],
            hidden: 32,
            n_train: 2000,
            n_test: 1000,
            epochs: 20,
            batch_size: 32,
            lr: 2e-3,
            clip_grad_norm: 1.0,
            init: RecurrentInit::Keras,
        }
    }

    /// Two lengths, little data: seconds on a CPU.
    pub fn quick() -> Self {
        Self {
            lengths: vec![12, 60],
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
struct Metrics {
    settings: Settings,
    /// cell -> length -> test accuracy.
    test_accuracy: BTreeMap<&'static str, BTreeMap<usize, f64>>,
}

#[derive(Serialize)]
struct Settings {
    lengths: Vec<usize>,
    cells: Vec<&'static str>,
    hidden: i64,
    n_train: usize,
    n_test: usize,
    epochs: usize,
    batch_size: usize,
    optimizer: String,
    clip_grad_norm: f64,
    init: String,
}

/// One seed with the profile chosen by `opts.quick` (the registry's entry).
pub fn run_seed(opts: &RunOptions, out: &mut ResultsDir) -> Result<SeedOutcome, ExperimentError> {
    let config = if opts.quick {
        LengthSweepConfig::quick()
    } else {
        LengthSweepConfig::full()
    };
    seed_run(&config, opts, out)
}

/// Runs the sweep for one seed with explicit settings and writes its folder.
pub fn run_with(
    config: &LengthSweepConfig,
    opts: &RunOptions,
) -> Result<RunOutcome, ExperimentError> {
    run_into(NAME, opts, |out| seed_run(config, opts, out))
}

/// One seed of the sweep with explicit settings: every length and cell.
pub fn seed_run(
    config: &LengthSweepConfig,
    opts: &RunOptions,
    out: &mut ResultsDir,
) -> Result<SeedOutcome, ExperimentError> {
    if config.lengths.is_empty() || config.kinds.is_empty() {
        return Err(ExperimentError::InvalidOption(
            "the sweep needs at least one length and cell".into(),
        ));
    }
    let device = opts.device.resolve()?;
    let epochs = epochs_or(opts, config.epochs)?;
    let optimizer = OptimizerConfig::adam(config.lr);
    let mut runs = Vec::new();
    let mut timing = BTreeMap::new();
    for &length in &config.lengths {
        {
            let seed = opts.seed;
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
                    classification_fit(opts, label, epochs, config.batch_size, optimizer);
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

    let mut table: BTreeMap<&'static str, BTreeMap<usize, f64>> = BTreeMap::new();
    for r in &runs {
        table
            .entry(r.cell)
            .or_default()
            .insert(r.length, r.test_accuracy);
    }
    let curves = Summaries::from_runs(&runs);
    plot_sweep(
        &curves,
        &format!(
            "A/B-order task: test accuracy vs sequence length ({} hidden units, {epochs} epochs, seed {})",
            config.hidden, opts.seed
        ),
        &out.path("accuracy_vs_length.png"),
    )?;

    let targets = targets(&table, &config.lengths);
    let metrics = Metrics {
        settings: Settings {
            lengths: config.lengths.clone(),
            cells: config.kinds.iter().map(|k| k.name()).collect(),
            hidden: config.hidden,
            n_train: config.n_train,
            n_test: config.n_test,
            epochs,
            batch_size: config.batch_size,
            optimizer: optimizer.describe(),
            clip_grad_norm: config.clip_grad_norm,
            init: format!("{:?}", config.init),
        },
        test_accuracy: table,
    };
    Ok(SeedOutcome::new(device, targets, &metrics)?.timing(timing))
}

/// Test accuracy per cell and length over seeds.
impl Summaries {
    fn from_runs(runs: &[SweepRun]) -> Self {
        let mut s = Summaries::default();
        for r in runs {
            s.push(r.cell, r.length, r.test_accuracy);
        }
        s
    }
}

/// Mean test accuracy against length per cell, with a band from the worst
/// to the best seed (no band for one seed).
fn plot_sweep(
    curves: &Summaries,
    title: &str,
    path: &std::path::Path,
) -> Result<(), ExperimentError> {
    let mut chart = LineChart::new(title)
        .x_label("sequence length")
        .y_label("test accuracy")
        .y_range(0.0, 1.02)
        .legend(LegendPosition::LowerLeft);
    for (cell, points) in curves.curves() {
        let x: Vec<f64> = points.iter().map(|p| p.0 as f64).collect();
        let pick = |f: fn(&SpreadPoint) -> f64| points.iter().map(f).collect::<Vec<f64>>();
        chart = chart.mean_with_band(cell, &x, &pick(|p| p.1), &pick(|p| p.2), &pick(|p| p.3))?;
    }
    Ok(chart.save_png(path, 1000, 520)?)
}

/// The summary over seeds: `accuracy_vs_length.png` with the seeds' band
/// and `test_accuracy_over_seeds.csv` (cell, length, mean, min, max, n).
pub fn aggregate(seeds: &[SeedFolder], out: &Path) -> Result<AggregateExtra, ExperimentError> {
    let mut curves = Summaries::default();
    for seed in seeds {
        let table = CsvTable::read(&seed.dir.join("runs.csv"))?;
        let lengths = table.numbers("length")?;
        let accuracies = table.numbers("test_accuracy")?;
        for ((cell, length), acc) in table
            .column("cell")?
            .into_iter()
            .zip(lengths)
            .zip(accuracies)
        {
            let cell = [
                RecurrentKind::RnnTanh,
                RecurrentKind::Lstm,
                RecurrentKind::Gru,
            ]
            .into_iter()
            .map(|k| k.name())
            .find(|n| *n == cell)
            .unwrap_or("other");
            curves.push(cell, length as usize, acc);
        }
    }
    let settings = seeds.first().map(|s| &s.metrics["settings"]);
    let hidden = settings.map_or(String::new(), |s| s["hidden"].to_string());
    let epochs = settings.map_or(String::new(), |s| s["epochs"].to_string());
    plot_sweep(
        &curves,
        &format!(
            "A/B-order task: test accuracy vs sequence length ({hidden} hidden units, {epochs} epochs, {} seeds; band: worst to best seed)",
            seeds.len()
        ),
        &out.join("accuracy_vs_length.png"),
    )?;
    let mut csv = String::from("cell,length,mean,min,max,n\n");
    for (cell, points) in curves.curves() {
        for (length, mean, min, max) in points {
            let n = curves.count(&cell, length);
            let _ = writeln!(csv, "{cell},{length},{mean},{min},{max},{n}");
        }
    }
    seqlab_io::write_atomic(out.join("test_accuracy_over_seeds.csv"), csv.as_bytes())?;
    Ok(AggregateExtra {
        files: vec![
            "accuracy_vs_length.png".into(),
            "test_accuracy_over_seeds.csv".into(),
        ],
        ..AggregateExtra::default()
    })
}

fn targets(table: &BTreeMap<&'static str, BTreeMap<usize, f64>>, lengths: &[usize]) -> Vec<Target> {
    let (Some(&shortest), Some(&longest)) = (lengths.iter().min(), lengths.iter().max()) else {
        return Vec::new();
    };
    let mean = |cell: &str, length: usize| {
        table
            .get(cell)
            .and_then(|t| t.get(&length))
            .copied()
            .unwrap_or(f64::NAN)
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
            let worst = lengths
                .iter()
                .map(|&l| mean(kind.name(), l))
                .fold(f64::INFINITY, f64::min);
            t.push(Target::within(
                &format!(
                    "{} lowest test accuracy over lengths {shortest}-{longest}",
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
