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
//! `metrics.json` and `timing.json`; the summary over seeds
//! ([`Experiment::summarise`]) writes the seeds' `accuracy_vs_length.png`
//! with bands and the per-length table.

use crate::aggregate::{SeedResult, SpreadPoint, Summaries, SummaryExtra};
use crate::common::Target;
use crate::experiment::{Experiment, Outcome, SeedContext, SummaryContext};
use crate::record::{settings_of, Setting};
use crate::ExperimentError;
use seqlab_data::ab_order;
use seqlab_models::classifier::{seq_classifier, SeqClassifierConfig};
use seqlab_models::recurrent::{RecurrentInit, RecurrentKind};
use seqlab_plot::{LegendPosition, LineChart};
use seqlab_train::fit::fit;
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::runtime::ThreadHint;
use seqlab_train::seed_all;
use seqlab_train::tensors::{to_tensors, TensorData};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use tch::nn::VarStore;

/// The experiment's name and results folder.
pub const NAME: &str = "length-sweep";

/// What the sweep adds to the sources, and how it is run.
pub const DIFFERENCES: &[&str] = &[
    "Not in the sources: an added sweep with equal width and budget for the three cells and Keras initialisation; each seed trains every length and cell once, and the plot over seeds shows the mean with a band from the worst to the best seed.",
];

/// The sequence-length sweep (see the module documentation).
pub struct LengthSweep;

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

/// One seed's own part of `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LengthSweepDetails {
    /// The settings the seed ran with (epochs after `--epochs`).
    pub settings: SweepSettings,
    /// Cell -> length -> test accuracy.
    #[serde(deserialize_with = "lengths_from_text")]
    pub test_accuracy: BTreeMap<String, BTreeMap<usize, f64>>,
}

/// Reads cell -> length -> value with the lengths as JSON writes them, as
/// text (serde cannot read them as numbers inside the flattened details).
fn lengths_from_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, BTreeMap<usize, f64>>, D::Error> {
    use serde::de::Error as _;
    let text = BTreeMap::<String, BTreeMap<String, f64>>::deserialize(d)?;
    text.into_iter()
        .map(|(cell, by_length)| {
            let by_length = by_length
                .into_iter()
                .map(|(length, v)| Ok((length.parse().map_err(D::Error::custom)?, v)))
                .collect::<Result<_, D::Error>>()?;
            Ok((cell, by_length))
        })
        .collect()
}

/// The settings a seed ran with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepSettings {
    /// Sequence lengths.
    pub lengths: Vec<usize>,
    /// Cell names.
    pub cells: Vec<String>,
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
    /// Optimiser, described.
    pub optimizer: String,
    /// Gradient-norm clipping.
    pub clip_grad_norm: f64,
    /// Weight initialisation.
    pub init: String,
}

/// One training run: a row of `runs.csv` (written and read back through this type).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRun {
    /// Sequence length.
    pub length: usize,
    /// Cell name.
    pub cell: String,
    /// Accuracy on the training set at the last epoch.
    pub train_accuracy: f64,
    /// Accuracy on the test set after training.
    pub test_accuracy: f64,
}

impl SweepRun {
    /// `runs.csv`'s header.
    pub const HEADER: &'static str = "length,cell,train_accuracy,test_accuracy";

    /// `runs.csv` of `runs`: the header, then one line per run.
    pub fn to_csv(runs: &[SweepRun]) -> String {
        let mut csv = format!("{}\n", Self::HEADER);
        for r in runs {
            let _ = writeln!(
                csv,
                "{},{},{},{}",
                r.length, r.cell, r.train_accuracy, r.test_accuracy
            );
        }
        csv
    }

    /// Reads a `runs.csv` that [`SweepRun::to_csv`] wrote; another header or
    /// a line that does not parse is an error naming the file.
    pub fn read_csv(path: &Path) -> Result<Vec<SweepRun>, ExperimentError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let saved = |message: String| ExperimentError::Saved {
            path: path.to_path_buf(),
            message,
        };
        let mut lines = text.lines();
        if lines.next() != Some(Self::HEADER) {
            return Err(saved(format!(
                "its header is not {:?} (written by an older seqlab? rerun it)",
                Self::HEADER
            )));
        }
        lines
            .enumerate()
            .map(|(n, line)| {
                Self::parse(line)
                    .ok_or_else(|| saved(format!("line {} is not a run: {line:?}", n + 2)))
            })
            .collect()
    }

    fn parse(line: &str) -> Option<SweepRun> {
        let mut fields = line.split(',');
        let run = SweepRun {
            length: fields.next()?.parse().ok()?,
            cell: fields.next()?.to_string(),
            train_accuracy: fields.next()?.parse().ok()?,
            test_accuracy: fields.next()?.parse().ok()?,
        };
        fields.next().is_none().then_some(run)
    }
}

impl Experiment for LengthSweep {
    type Config = LengthSweepConfig;
    type Details = LengthSweepDetails;
    const NAME: &'static str = NAME;
    const DESCRIPTION: &'static str =
        "A/B-order task at lengths 12 to 200: RNN(tanh) vs LSTM vs GRU, equal width and budget";
    const DIFFERENCES: &'static [&'static str] = DIFFERENCES;
    const ABOUT: &'static str = r#"The A/B-order task of `seq2one` (the class is the order of two marker letters, `A` or `B`, among distractors) at lengths 12, 25, 50, 100, 150 and 200, with the markers anywhere in the sequence. Three cells, RNN(tanh), LSTM and GRU, each one layer of 32 units with a Dense(4) head on its last step. Each trains on 2,000 sequences and is tested on 1,000, for 20 epochs with Adam (lr 2e-3) and the gradient norm clipped at 1.

It tests the claim, which the Flux post invites, that vanilla RNNs degrade as the distance between the relevant symbols grows while gated cells do not. Each seed's `runs.csv` has the train and test accuracy of every length and cell; the experiment's folder has the test accuracy over seeds (`test_accuracy_over_seeds.csv`) and its plot against length."#;
    const THREADS: ThreadHint = ThreadHint::Single;
    const FULL_SEEDS: usize = 5;

    fn config(quick: bool) -> LengthSweepConfig {
        if quick {
            LengthSweepConfig::quick()
        } else {
            LengthSweepConfig::full()
        }
    }

    fn run_seed(
        config: &LengthSweepConfig,
        ctx: &mut SeedContext<'_>,
    ) -> Result<Outcome<LengthSweepDetails>, ExperimentError> {
        if config.lengths.is_empty() || config.kinds.is_empty() {
            return Err(ExperimentError::InvalidOption(
                "the sweep needs at least one length and cell".into(),
            ));
        }
        let epochs = ctx.epochs_or(config.epochs)?;
        let mut runs = Vec::new();
        let mut timing = Vec::new();
        for &length in &config.lengths {
            let data = LengthData::prepare(config, length, ctx)?;
            for &kind in &config.kinds {
                let (run, seconds) = train_cell(config, epochs, kind, &data, ctx)?;
                timing.push((format!("{length}/{}", run.cell), seconds));
                runs.push(run);
            }
        }
        ctx.out.write_text("runs.csv", &SweepRun::to_csv(&runs))?;
        let title = format!(
            "A/B-order task: test accuracy vs sequence length ({} hidden units, {epochs} epochs, seed {})",
            config.hidden, ctx.seed
        );
        plot_sweep(
            &curves(&runs),
            &title,
            &ctx.out.path("accuracy_vs_length.png"),
        )?;
        let details = LengthSweepDetails {
            settings: settings(config, epochs),
            test_accuracy: accuracy_table(&runs),
        };
        Ok(Outcome::new(details).timing(timing))
    }

    fn targets(details: &LengthSweepDetails) -> Option<Vec<Target>> {
        Some(targets(&details.test_accuracy, &details.settings.lengths))
    }

    fn settings(details: &LengthSweepDetails) -> Vec<Setting> {
        settings_of(&details.settings)
    }

    fn epochs(details: &LengthSweepDetails) -> Vec<(String, usize)> {
        vec![("every length and cell".into(), details.settings.epochs)]
    }

    fn summarise(
        seeds: &[SeedResult<LengthSweepDetails>],
        ctx: SummaryContext<'_>,
    ) -> Result<SummaryExtra, ExperimentError> {
        let mut runs = Vec::new();
        for seed in seeds {
            runs.extend(SweepRun::read_csv(&seed.dir.join("runs.csv"))?);
        }
        let curves = curves(&runs);
        let settings = seeds.first().map(|s| &s.metrics.details.settings);
        let hidden = settings.map_or(String::new(), |s| s.hidden.to_string());
        let epochs = settings.map_or(String::new(), |s| s.epochs.to_string());
        let title = format!(
            "A/B-order task: test accuracy vs sequence length ({hidden} hidden units, {epochs} epochs, {} seeds; band: worst to best seed)",
            seeds.len()
        );
        plot_sweep(&curves, &title, &ctx.dir.join("accuracy_vs_length.png"))?;
        let csv = over_seeds_csv(&curves);
        seqlab_io::write_atomic(ctx.dir.join("test_accuracy_over_seeds.csv"), csv.as_bytes())?;
        Ok(SummaryExtra {
            files: vec![
                "accuracy_vs_length.png".into(),
                "test_accuracy_over_seeds.csv".into(),
            ],
            ..SummaryExtra::default()
        })
    }
}

/// One length's training and test sets, as tensors.
struct LengthData {
    length: usize,
    train: TensorData,
    test: TensorData,
}

impl LengthData {
    fn prepare(
        config: &LengthSweepConfig,
        length: usize,
        ctx: &SeedContext<'_>,
    ) -> Result<Self, ExperimentError> {
        let (train, test) =
            ab_order::generate_split(config.n_train, config.n_test, length, ctx.seed)?;
        Ok(Self {
            length,
            train: to_tensors(&train, ctx.device)?,
            test: to_tensors(&test, ctx.device)?,
        })
    }
}

/// Trains one cell at one length from the seed; returns its row and wall time.
fn train_cell(
    config: &LengthSweepConfig,
    epochs: usize,
    kind: RecurrentKind,
    data: &LengthData,
    ctx: &SeedContext<'_>,
) -> Result<(SweepRun, f64), ExperimentError> {
    seed_all(ctx.seed);
    let mut vs = VarStore::new(ctx.device);
    let cfg = SeqClassifierConfig {
        init: config.init,
        ..SeqClassifierConfig::stacked(ab_order::N_FEATURES as i64, kind, &[config.hidden], 4)
    };
    let net = seq_classifier(vs.root() / "net", &cfg)?;
    let label = format!("length {} {}", data.length, kind.name());
    let optimizer = OptimizerConfig::adam(config.lr);
    let mut fit_config = ctx.classification_fit(label, epochs, config.batch_size, optimizer);
    fit_config.clip_grad_norm = Some(config.clip_grad_norm);
    fit_config.eval_batch_size = 500;
    let report = fit(&mut vs, &net, &data.train, Some(&data.test), fit_config)?;
    let run = SweepRun {
        length: data.length,
        cell: kind.name().to_string(),
        train_accuracy: report.history.last("accuracy").unwrap_or(f64::NAN),
        test_accuracy: report.history.last("val_accuracy").unwrap_or(f64::NAN),
    };
    Ok((run, report.seconds))
}

/// The settings a seed ran with.
fn settings(config: &LengthSweepConfig, epochs: usize) -> SweepSettings {
    SweepSettings {
        lengths: config.lengths.clone(),
        cells: config.kinds.iter().map(|k| k.name().to_string()).collect(),
        hidden: config.hidden,
        n_train: config.n_train,
        n_test: config.n_test,
        epochs,
        batch_size: config.batch_size,
        optimizer: OptimizerConfig::adam(config.lr).describe(),
        clip_grad_norm: config.clip_grad_norm,
        init: format!("{:?}", config.init),
    }
}

/// Cell -> length -> test accuracy.
fn accuracy_table(runs: &[SweepRun]) -> BTreeMap<String, BTreeMap<usize, f64>> {
    let mut table: BTreeMap<String, BTreeMap<usize, f64>> = BTreeMap::new();
    for r in runs {
        table
            .entry(r.cell.clone())
            .or_default()
            .insert(r.length, r.test_accuracy);
    }
    table
}

/// Test accuracy per cell and length, over the seeds whose runs these are.
fn curves(runs: &[SweepRun]) -> Summaries {
    let mut s = Summaries::default();
    for r in runs {
        s.push(&r.cell, r.length, r.test_accuracy);
    }
    s
}

/// `test_accuracy_over_seeds.csv`: cell, length, mean, min, max, n.
fn over_seeds_csv(curves: &Summaries) -> String {
    let mut csv = String::from("cell,length,mean,min,max,n\n");
    for (cell, points) in curves.curves() {
        for (length, mean, min, max) in points {
            let n = curves.count(&cell, length);
            let _ = writeln!(csv, "{cell},{length},{mean},{min},{max},{n}");
        }
    }
    csv
}

/// Mean test accuracy against length per cell, a dot at each measured
/// length, with a band from the worst to the best seed (no band for one seed).
fn plot_sweep(curves: &Summaries, title: &str, path: &Path) -> Result<(), ExperimentError> {
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
    Ok(chart.with_markers().save_png(path, 1000, 520)?)
}

/// Vanilla RNNs degrade with length; LSTMs and GRUs do not.
fn targets(table: &BTreeMap<String, BTreeMap<usize, f64>>, lengths: &[usize]) -> Vec<Target> {
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
        t.push(
            Target::within(
                &format!("RNN(tanh) accuracy drop from length {shortest} to {longest}"),
                "\"vanilla RNNs degrade with length\" (the post invites this sweep); seqlab's criterion for degrading: a drop of at least 20 points",
                mean(rnn, shortest) - mean(rnn, longest),
                0.2,
                f64::MAX,
            )
            .goal()
            .source("the Flux sequence-to-one post, its closing invitation")
            .bounds(-1.0, 1.0),
        );
    }
    for kind in [RecurrentKind::Lstm, RecurrentKind::Gru] {
        if table.contains_key(kind.name()) {
            let worst = lengths
                .iter()
                .map(|&l| mean(kind.name(), l))
                .fold(f64::INFINITY, f64::min);
            let claim = match kind {
                RecurrentKind::Lstm => "\"LSTMs do not\" degrade; seqlab's criterion: at least 95% at every length",
                _ => "seqlab's expectation: GRUs do not degrade either (the post names LSTMs only); at least 95% at every length",
            };
            t.push(
                Target::within(
                    &format!(
                        "{} lowest test accuracy over lengths {shortest}-{longest}",
                        kind.name()
                    ),
                    claim,
                    worst,
                    0.95,
                    1.0,
                )
                .goal()
                .bounds(0.0, 1.0),
            );
        }
    }
    t
}
