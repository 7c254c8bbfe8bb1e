//! The pictures: four validation sequences with each model's continuation
//! (per seed), and the as-posted run's continuation error per epoch (over seeds).

use super::asker::{AskerTrained, PerEpoch};
use super::ContinuationDetails;
use crate::aggregate::SeedResult;
use crate::ExperimentError;
use seqlab_data::continuation::{ContinuationSet, N_SEEDS, N_STEPS};
use seqlab_plot::{Figure, LegendPosition, LineChart, Series};
use std::path::Path;

/// The runs of the asker's model drawn in `sequences.png`, with their colours.
pub const SHOWN: [(&str, usize); 5] = [
    ("as_posted", 3),
    ("as_posted_trainable_state", 1),
    ("targets_fixed_as_written", 4),
    ("both_fixed", 5),
    ("both_fixed_more_epochs", 6),
];

/// Each continuation step's mean over the training sequences (the baseline's prediction).
pub fn step_means(train: &ContinuationSet) -> Vec<f64> {
    let mut means = [0.0; N_STEPS];
    for i in 0..train.len() {
        for (m, &v) in means.iter_mut().zip(train.continuation.row(i)) {
            *m += f64::from(v);
        }
    }
    let n = train.len().max(1) as f64;
    means.iter().map(|m| m / n).collect()
}

/// What `sequences.png` draws besides the validation set.
pub(super) struct Continuations<'a> {
    pub asker: &'a [AskerTrained<'a>],
    pub encoder_decoder: &'a [f32],
    pub baseline: &'a [f64],
}

/// Four validation sequences (chosen by the seed, not by fit): the seeds,
/// the truth, the baseline, the encoder-decoder's and some of the asker's runs.
pub(super) fn plot_continuations(
    val: &ContinuationSet,
    shown: &Continuations<'_>,
    seed: u64,
    path: &Path,
) -> Result<(), ExperimentError> {
    let mut rng = seqlab_data::rng::stream(seed, seqlab_data::rng::streams::SPLIT);
    let picks = rand::seq::index::sample(&mut rng, val.len(), 4.min(val.len())).into_vec();
    let runs: Vec<&str> = SHOWN.iter().map(|(n, _)| *n).collect();
    let mut fig = Figure::new(1600, 1000)
        .title(format!(
            "Four validation sequences: the truth (dots, under the others), the per-step training mean, the encoder-decoder, and the asker's model in {} of its {} runs ({})",
            runs.len(),
            shown.asker.len(),
            runs.join(", ")
        ))
        .grid(2, 2);
    for &i in &picks {
        fig = fig.panel(sequence_panel(val, shown, i)?);
    }
    Ok(fig.save_png(path)?)
}

/// One validation sequence's panel.
fn sequence_panel(
    val: &ContinuationSet,
    shown: &Continuations<'_>,
    i: usize,
) -> Result<LineChart, ExperimentError> {
    let full: Vec<f64> = val.full.row(i).iter().map(|&v| f64::from(v)).collect();
    let t_seeds: Vec<f64> = (1..=N_SEEDS).map(|t| t as f64).collect();
    let t_cont: Vec<f64> = (N_SEEDS..=N_SEEDS + N_STEPS).map(|t| t as f64).collect();
    // Continuations are drawn from the last seed on, so the curves join up.
    let joined = |values: &[f32]| -> Vec<f64> {
        std::iter::once(full[N_SEEDS - 1])
            .chain(
                values[i * N_STEPS..(i + 1) * N_STEPS]
                    .iter()
                    .map(|&v| f64::from(v)),
            )
            .collect()
    };
    let mut chart = LineChart::new(format!(
        "validation #{i} (4th seed {:+.2}: slope {:+.2})",
        full[3],
        full[3] / 2.0
    ))
    .x_label("step")
    .y_label("value")
    .legend(LegendPosition::OutsideRight)
    .series(Series::from_xy("seeds", &t_seeds, &full[..N_SEEDS])?.color(7))
    // Drawn first, with dots, so that a model on it leaves it visible.
    .series(
        Series::from_xy("true", &t_cont, &full[N_SEEDS - 1..])?
            .color(2)
            .dashed()
            .markers(),
    )
    .series(
        Series::from_xy(
            "per-step training mean (baseline)",
            &t_cont[1..],
            shown.baseline,
        )?
        .color(8)
        .dashed(),
    );
    for (name, color) in SHOWN {
        if let Some(a) = shown.asker.iter().find(|a| a.run.name == name) {
            let s = Series::from_xy(format!("asker: {name}"), &t_cont, &joined(&a.prediction))?;
            chart = chart.series(s.color(color));
        }
    }
    let ed = Series::from_xy("encoder-decoder", &t_cont, &joined(shown.encoder_decoder))?;
    Ok(chart.series(ed.color(0)))
}

/// The as-posted run's continuation error per epoch (epoch 0: before
/// training), on the training and the validation sequences: each seed faint,
/// the mean over seeds bold. `None` when no seed recorded it.
pub(super) fn plot_error_per_epoch(
    seeds: &[SeedResult<ContinuationDetails>],
    run: &str,
    path: &Path,
) -> Result<Option<()>, ExperimentError> {
    let records: Vec<(&ContinuationDetails, &PerEpoch)> = seeds
        .iter()
        .filter_map(|s| {
            let d = &s.metrics.details;
            Some((d, d.asker.get(run)?.per_epoch.as_ref()?))
        })
        .collect();
    if records.is_empty() {
        return Ok(None);
    }
    let mut chart = LineChart::new(format!(
        "{run}: MSE of the predicted continuation (predictSequence as posted) against the truth, per epoch (0 = before training); faint: each of {} seeds, bold: their mean; dashed: the mean error of a flat line at the 5th seed",
        records.len()
    ))
    .x_label("epoch")
    .y_label("MSE of the five predicted values")
    .legend(LegendPosition::OutsideRight);
    type Curve<'a> = (&'a [f64], f64);
    let sets: [(&str, usize, Vec<Curve<'_>>); 2] = [
        (
            "training sequences",
            3,
            records
                .iter()
                .map(|(d, p)| (p.train_mse.as_slice(), d.fifth_seed_flat_mse_train))
                .collect(),
        ),
        (
            "validation sequences",
            0,
            records
                .iter()
                .map(|(d, p)| (p.val_mse.as_slice(), d.fifth_seed_flat_mse_val))
                .collect(),
        ),
    ];
    for (name, color, curves) in sets {
        for (c, _) in &curves {
            chart = chart.series(Series::from_y("", c).color(color).faint());
        }
        let n = curves.iter().map(|(c, _)| c.len()).min().unwrap_or(0);
        let k = curves.len() as f64;
        let mean: Vec<f64> = (0..n)
            .map(|e| curves.iter().map(|(c, _)| c[e]).sum::<f64>() / k)
            .collect();
        let flat = curves.iter().map(|(_, f)| f).sum::<f64>() / k;
        chart = chart
            .series(Series::from_y(format!("{name} (mean)"), &mean).color(color))
            .series(
                Series::from_y(format!("{name}: flat line"), &vec![flat; n])
                    .color(color)
                    .dashed(),
            );
    }
    chart.save_png(path, 1200, 600)?;
    Ok(Some(()))
}
