//! The summary over seeds: every seed's ROC under the mean, and the paired protocol effect.

use super::details::ImdbDetails;
use super::protocols::*;
use super::*;
use crate::experiment::SummaryContext;
use crate::record::TargetSummary;
use crate::ExperimentError;
use seqlab_metrics::{roc_curve, RocCurve, SeedSpread};
use seqlab_plot::{LineChart, Series};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The protocols of one seed, in `metrics.json` and predictions-table order.
pub(super) const PROTOCOLS: [(&str, &str); 3] = [
    ("book", "book protocol"),
    ("held_out", "held-out protocol"),
    ("test_validated", "test-validated, same training reviews"),
];

/// The true-positive rate of `roc` at false-positive rate `fpr` (the
/// highest point of the step curve at or left of it).
pub(super) fn tpr_at(roc: &RocCurve, fpr: f64) -> f64 {
    roc.fpr
        .iter()
        .zip(&roc.tpr)
        .filter(|(f, _)| **f <= fpr)
        .map(|(_, t)| *t)
        .fold(0.0, f64::max)
}

/// Labels and the three protocols' probabilities of one seed's test reviews.
fn read_predictions(path: &Path) -> Result<(Vec<bool>, [Vec<f64>; 3]), ExperimentError> {
    let rows = PredictionRow::read_all(path)?;
    let labels = rows.iter().map(|r| r.positive).collect();
    let column = |k: usize| rows.iter().map(|r| r.probabilities[k]).collect();
    Ok((labels, [column(0), column(1), column(2)]))
}

/// One protocol's test AUC and balanced accuracy over seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProtocolOverSeeds {
    /// Test ROC AUC.
    pub test_auc: SeedSpread,
    /// Test balanced accuracy at the protocol's threshold.
    pub test_balanced_accuracy: SeedSpread,
}

/// A paired difference over seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairedOverSeeds {
    /// Per seed, in seed order.
    pub per_seed: Vec<f64>,
    /// Their summary.
    pub summary: SeedSpread,
}

/// What validating on the test set alone changes, over seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EffectOverSeeds {
    /// What is compared.
    pub what: String,
    /// The training reviews both protocols fit.
    pub train_reviews: usize,
    /// Test AUC difference.
    pub auc: PairedOverSeeds,
    /// Balanced-accuracy difference.
    pub balanced_accuracy: PairedOverSeeds,
}

/// The IMDb summary's own numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImdbSummary {
    /// Per protocol.
    pub protocols_over_seeds: BTreeMap<String, ProtocolOverSeeds>,
    /// Test-validated minus held-out protocol.
    pub protocol_effect_over_seeds: EffectOverSeeds,
}

/// Per protocol index, the seeds' true-positive rates summed on a grid of
/// false-positive rates.
type TprSums = Vec<(usize, Vec<f64>)>;

/// Every seed's ROC (book and held-out protocols, faint) on `chart`, and
/// the sums behind their mean curves.
fn roc_curves(
    seeds: &[SeedResult<ImdbDetails>],
    grid: &[f64],
    mut chart: LineChart,
) -> Result<(LineChart, TprSums), ExperimentError> {
    let mut sums: TprSums = Vec::new();
    for seed in seeds {
        let (labels, probs) = read_predictions(&seed.dir.join(PREDICTIONS_FILE))?;
        // The book and held-out protocols: the comparison the report draws.
        for (i, p) in probs.iter().enumerate().take(2) {
            let roc = roc_curve(p, &labels)?;
            chart = chart.series(Series::from_xy("", &roc.fpr, &roc.tpr)?.color(i).faint());
            let at: Vec<f64> = grid.iter().map(|&f| tpr_at(&roc, f)).collect();
            match sums.iter_mut().find(|(j, _)| *j == i) {
                Some((_, sum)) => sum.iter_mut().zip(&at).for_each(|(s, a)| *s += a),
                None => sums.push((i, at)),
            }
        }
    }
    Ok((chart, sums))
}

/// A protocol's numbers over seeds, from their typed details.
fn protocol_over_seeds(
    seeds: &[SeedResult<ImdbDetails>],
    key: &str,
) -> Result<ProtocolOverSeeds, ExperimentError> {
    let values = |f: fn(&Scored) -> f64| -> Vec<f64> {
        seeds
            .iter()
            .map(|s| {
                s.metrics
                    .details
                    .protocols
                    .get(key)
                    .map_or(f64::NAN, |p| f(&p.test))
            })
            .collect()
    };
    Ok(ProtocolOverSeeds {
        test_auc: SeedSpread::of(&values(|t| t.auc))?,
        test_balanced_accuracy: SeedSpread::of(&values(|t| t.balanced_accuracy))?,
    })
}

/// The summary over seeds: `roc.png` (every seed's ROC, faint, under the
/// mean curves; the legend's ± is the sd of the seeds' AUCs, and the mean
/// curve is the mean of the seeds' true-positive rates at each
/// false-positive rate), the protocols' table and the paired effect.
pub(super) fn summarise(
    seeds: &[SeedResult<ImdbDetails>],
    ctx: SummaryContext<'_>,
) -> Result<SummaryExtra, ExperimentError> {
    let out = ctx.dir;
    let cell = seeds
        .first()
        .map_or("model", |s| s.metrics.details.settings.model.as_str())
        .trim_start_matches("imdb ")
        .to_string();
    let grid: Vec<f64> = (0..=200).map(|i| f64::from(i) / 200.0).collect();
    let chart = seqlab_plot::roc_axes(format!(
        "IMDb {cell}: test ROC of {} seeds (faint) and their mean",
        seeds.len()
    ));
    let (mut chart, sums) = roc_curves(seeds, &grid, chart)?;
    let mut table = String::from(
        "| protocol | test AUC, mean ± sd | [min, max] | 95% interval | balanced accuracy, mean ± sd | n |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let mut per_protocol = BTreeMap::new();
    for (i, (key, label)) in PROTOCOLS.iter().enumerate() {
        let p = protocol_over_seeds(seeds, key)?;
        let (auc, bal) = (&p.test_auc, &p.test_balanced_accuracy);
        if let Some((_, sum)) = sums.iter().find(|(j, _)| *j == i) {
            let mean: Vec<f64> = sum.iter().map(|v| v / seeds.len() as f64).collect();
            let legend = format!("{label}: mean (AUC {:.3} ± sd {:.3})", auc.mean, auc.sd);
            chart = chart.series(Series::from_xy(legend, &grid, &mean)?.color(i));
        }
        table.push_str(&table_row(label, auc, bal));
        per_protocol.insert((*key).to_string(), p);
    }
    chart = chart.series(
        Series::from_xy("chance (AUC = 0.5)", &[0.0, 1.0], &[0.0, 1.0])?
            .color(7)
            .dashed(),
    );
    chart.save_png(out.join("roc.png"), 760, 700)?;
    let effect = effect_over_seeds(seeds)?;
    let paragraph = effect_paragraph(&effect);
    let summary = ImdbSummary {
        protocols_over_seeds: per_protocol,
        protocol_effect_over_seeds: effect,
    };
    let gain = lstm_gain(seeds, ctx.results_dir)?;
    let first_loss = first_epoch_loss(seeds)?;
    Ok(SummaryExtra {
        targets: gain.into_iter().chain(first_loss).collect(),
        files: vec!["roc.png".into()],
        report: vec![
            table,
            paragraph,
            "`roc.png`: each seed's test ROC, faint, for the book and held-out protocols; the solid curve is their mean (the seeds' true-positive rates averaged at each false-positive rate, on a grid of 201 rates), and the legend's ± is the standard deviation of the seeds' AUCs.".to_string(),
        ],
        details: serde_json::to_value(&summary).map_err(|e| ExperimentError::Serialise {
            what: "the IMDb summary".into(),
            message: e.to_string(),
        })?,
        ..SummaryExtra::default()
    })
}

/// For the LSTM: its book-protocol balanced accuracy minus the SimpleRNN's,
/// paired by seed (both experiments' seeds must be there), against the
/// book's "gain of about 2%". `None` for the SimpleRNN, or where no seed pairs.
fn lstm_gain(
    seeds: &[SeedResult<ImdbDetails>],
    results_dir: &Path,
) -> Result<Option<TargetSummary>, ExperimentError> {
    let is_lstm = seeds
        .first()
        .is_some_and(|s| s.metrics.details.settings.model.ends_with("LSTM"));
    if !is_lstm {
        return Ok(None);
    }
    // The SimpleRNN's seeds, where they can be read (else no comparison).
    let Ok(rnn) = crate::aggregate::load_seeds::<ImdbRnn>(results_dir) else {
        return Ok(None);
    };
    let book = |s: &ImdbDetails| s.protocols.get("book").map(|p| p.test.balanced_accuracy);
    let pairs: Vec<(u64, Target)> = seeds
        .iter()
        .filter_map(|l| {
            let r = rnn
                .iter()
                .find(|r| r.seed == l.seed && r.metrics.info.profile == l.metrics.info.profile)?;
            let gain = book(&l.metrics.details)? - book(&r.metrics.details)?;
            Some((
                l.seed,
                Target::within(
                    "LSTM minus SimpleRNN balanced accuracy (book protocol, paired by seed)",
                    "\"a gain of about 2%\"",
                    gain,
                    f64::MIN,
                    f64::MAX,
                )
                .published_at(0.02)
                .source("the book, comparing its LSTM with its SimpleRNN")
                .bounds(-1.0, 1.0),
            ))
        })
        .collect();
    Ok(crate::aggregate::summarise_targets(&pairs))
}

/// The book-protocol training loss after the first epoch (each seed's
/// `book_history.csv`) against the loss the book's training log prints.
/// `None` when no seed has that history.
fn first_epoch_loss(
    seeds: &[SeedResult<ImdbDetails>],
) -> Result<Option<TargetSummary>, ExperimentError> {
    let Some(first) = seeds.first() else {
        return Ok(None);
    };
    let (cell, book) = book_for(&first.metrics.details.settings.model);
    let mut pairs = Vec::new();
    for s in seeds {
        let history = crate::common::read_history(&s.dir.join("book_history.csv"))?;
        let Some(&loss) = history.column("loss").as_deref().and_then(<[f64]>::first) else {
            continue;
        };
        pairs.push((
            s.seed,
            Target::within(
                &format!("{cell} training loss after the first epoch (book protocol)"),
                &format!("\"loss: {:.4}\" after epoch 1", book.first_epoch_loss),
                loss,
                0.0,
                f64::MAX,
            )
            .published_at(book.first_epoch_loss)
            .source(&format!("the book's training log of the IMDb {cell} model"))
            .bounds(0.0, f64::MAX),
        ));
    }
    Ok(crate::aggregate::summarise_targets(&pairs))
}

/// One protocol's row of the report's table.
fn table_row(label: &str, auc: &SeedSpread, bal: &SeedSpread) -> String {
    format!(
        "| {label} | {:.4} ± {:.4} | [{:.4}, {:.4}] | {} | {:.2}% ± {:.2} | {} |\n",
        auc.mean,
        auc.sd,
        auc.min,
        auc.max,
        interval(auc, 4, 1.0),
        bal.mean * 100.0,
        bal.sd * 100.0,
        auc.n
    )
}

/// Test-validated minus held-out protocol, paired by seed.
fn effect_over_seeds(
    seeds: &[SeedResult<ImdbDetails>],
) -> Result<EffectOverSeeds, ExperimentError> {
    let paired = |f: fn(&ProtocolEffect) -> f64| -> Result<PairedOverSeeds, ExperimentError> {
        let per_seed: Vec<f64> = seeds
            .iter()
            .map(|s| f(&s.metrics.details.protocol_effect))
            .collect();
        Ok(PairedOverSeeds {
            summary: SeedSpread::of(&per_seed)?,
            per_seed,
        })
    };
    Ok(EffectOverSeeds {
        what: "test_validated minus held_out: same training reviews, initialisation and shuffling; only what early stopping, the LR schedule and the threshold look at differs".into(),
        train_reviews: seeds.first().map_or(0, |s| {
            s.metrics.details.protocols.get("held_out").map_or(0, |p| p.train_reviews)
        }),
        auc: paired(|e| e.auc)?,
        balanced_accuracy: paired(|e| e.balanced_accuracy)?,
    })
}

/// The report's paragraph on the paired protocol effect.
fn effect_paragraph(e: &EffectOverSeeds) -> String {
    let (auc, bal) = (&e.auc.summary, &e.balanced_accuracy.summary);
    format!(
        "What validating on the test set alone changes (test-validated minus held-out protocol, paired by seed: the same {} training reviews, initialisation and shuffling): test AUC {} (95% interval {}), balanced accuracy {} points (95% interval {}), over {} seeds; per seed AUC {}.",
        e.train_reviews,
        signed(auc.mean, auc.sd, 4, 1.0),
        interval(auc, 4, 1.0),
        signed(bal.mean, bal.sd, 2, 100.0),
        interval(bal, 2, 100.0),
        auc.n,
        e.auc.per_seed.iter().map(|d| format!("{d:+.4}")).collect::<Vec<_>>().join(", ")
    )
}

pub(super) fn signed(mean: f64, sd: f64, decimals: usize, scale: f64) -> String {
    format!(
        "{:+.*} ± {:.*}",
        decimals,
        mean * scale,
        decimals,
        sd * scale
    )
}

pub(super) fn interval(s: &SeedSpread, decimals: usize, scale: f64) -> String {
    match s.ci95 {
        Some([lo, hi]) => format!(
            "[{:+.*}, {:+.*}]",
            decimals,
            lo * scale,
            decimals,
            hi * scale
        ),
        None => "-".into(),
    }
}
