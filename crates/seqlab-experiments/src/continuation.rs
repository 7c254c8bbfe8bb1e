//! The seed-conditioned continuation (the Flux forum question; REFERENCE
//! section 4): five seeds uniform in `[-1, 1]`, then five values, each the
//! previous one plus half the fourth seed. The asker's next-step model
//! collapsed to the unconditional mean of each step.
//!
//! The model here reads the five seeds with an LSTM encoder whose final
//! state starts an LSTM decoder that produces the five continuation values
//! autoregressively (from 0, feeding back each prediction):
//! [`seqlab_models::seq2seq`] with 32 units. It trains free running (on its
//! own fed-back outputs, as it is used), Adam 3e-3 with the rate halved on
//! validation plateaus, MSE, batch 32, on 1,000 sequences, validated on 100
//! others, with early stopping restoring the best epoch.

use crate::common::{base_fit, epochs_or, plot_history, ResultsDir, Target, ValLossCallbacks};
use crate::runner::{run_into, SeedOutcome};
use crate::{ExperimentError, RunOptions, RunOutcome};
use seqlab_data::continuation::{self, N_SEEDS, N_STEPS};
use seqlab_metrics::mse;
use seqlab_models::recurrent::RecurrentInit;
use seqlab_models::seq2seq::{encoder_decoder, EncoderDecoderConfig, FreeRunning};
use seqlab_models::Model;
use seqlab_plot::{Figure, LineChart, Series};
use seqlab_train::fit::fit;
use seqlab_train::objective::Loss;
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::seed_all;
use seqlab_train::tensors::to_tensors;
use serde::Serialize;
use tch::nn::VarStore;

/// The experiment name.
pub const NAME: &str = "continuation";

/// The experiment's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuationConfig {
    /// Training sequences (the question: 1,000).
    pub n_train: usize,
    /// Validation sequences (the question: 100).
    pub n_val: usize,
    /// LSTM units of the encoder and the decoder.
    pub hidden: i64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Adam's initial learning rate.
    pub lr: f64,
    /// Upper bound on epochs.
    pub max_epochs: usize,
    /// EarlyStopping and ReduceLROnPlateau on the validation MSE.
    pub callbacks: ValLossCallbacks,
}

impl ContinuationConfig {
    /// The question's data, up to 500 epochs.
    pub fn full() -> Self {
        Self {
            n_train: continuation::DEFAULT_TRAIN,
            n_val: continuation::DEFAULT_VAL,
            hidden: 32,
            batch_size: 32,
            lr: 3e-3,
            max_epochs: 500,
            callbacks: ValLossCallbacks {
                patience: 40,
                min_delta: 0.0,
                lr_factor: 0.5,
                lr_patience: 10,
                lr_min_delta: 0.0,
                min_lr: 1e-6,
            },
        }
    }

    /// 30 epochs: seconds on a CPU.
    pub fn quick() -> Self {
        Self {
            max_epochs: 30,
            ..Self::full()
        }
    }
}

/// One seed with the full or quick settings (the registry's entry).
pub fn run_seed(opts: &RunOptions, out: &mut ResultsDir) -> Result<SeedOutcome, ExperimentError> {
    let config = if opts.quick {
        ContinuationConfig::quick()
    } else {
        ContinuationConfig::full()
    };
    seed_run(&config, opts, out)
}

/// Runs the experiment with explicit settings and writes its folder.
pub fn run_with(
    config: &ContinuationConfig,
    opts: &RunOptions,
) -> Result<RunOutcome, ExperimentError> {
    run_into(NAME, opts, |out| seed_run(config, opts, out))
}

/// One seed with explicit settings: trains, evaluates, writes the artefacts into `out`.
pub fn seed_run(
    config: &ContinuationConfig,
    opts: &RunOptions,
    out: &mut ResultsDir,
) -> Result<SeedOutcome, ExperimentError> {
    let device = opts.device.resolve()?;
    let (train, val) = continuation::generate_split(config.n_train, config.n_val, opts.seed)?;
    let train_t = to_tensors(&train.seq2seq(), device)?;
    let val_t = to_tensors(&val.seq2seq(), device)?;

    seed_all(opts.seed);
    let mut vs = VarStore::new(device);
    let model = FreeRunning(encoder_decoder(
        vs.root() / "continuation",
        &EncoderDecoderConfig {
            input_features: 1,
            output_features: 1,
            hidden: config.hidden,
            init: RecurrentInit::Keras,
        },
    )?);
    let summary = model.summary(&[N_SEEDS as i64, 1]);
    if opts.verbose {
        println!("\n{summary}");
    }
    let mut fc = base_fit(
        opts,
        "continuation".into(),
        epochs_or(opts, config.max_epochs)?,
        config.batch_size,
        OptimizerConfig::keras_adam(config.lr),
        Loss::Mse,
    );
    config.callbacks.install(&mut fc)?;
    let report = fit(&mut vs, &model, &train_t, Some(&val_t), fc)?;
    let history = report.history;

    // Validation predictions with the restored weights: five autoregressive steps.
    let pred = model.0.predict(&val_t.x, N_STEPS as i64);
    let pred = Vec::<f32>::try_from(&pred.f_reshape([-1])?)?;
    let truth = val.continuation.data();
    let model_mse = mse(&pred, truth)?;
    let baseline = continuation::mean_baseline_mse(&train, &val);
    let ratio = model_mse / baseline;

    out.write_history("train", &history)?;
    plot_history(
        &history,
        "Seed-conditioned continuation: MSE per epoch",
        "validation",
        &out.path("loss.png"),
    )?;
    // Five validation sequences, chosen by the seed (not by how well they fit).
    let mut rng = seqlab_data::rng::stream(opts.seed, seqlab_data::rng::streams::SPLIT);
    let picks = rand::seq::index::sample(&mut rng, val.len(), 5.min(val.len())).into_vec();
    let mut fig = Figure::new(1500, 860)
        .title("Five validation sequences: seeds, true continuation (dashed) and the model's")
        .grid(2, 3);
    for &i in &picks {
        let full: Vec<f64> = val.full.row(i).iter().map(|&v| f64::from(v)).collect();
        let t_seeds: Vec<f64> = (1..=N_SEEDS).map(|t| t as f64).collect();
        let t_cont: Vec<f64> = (N_SEEDS..=N_SEEDS + N_STEPS).map(|t| t as f64).collect();
        // Continuations are drawn from the last seed on, so the curves join up.
        let mut true_cont = vec![full[N_SEEDS - 1]];
        true_cont.extend(&full[N_SEEDS..]);
        let mut model_cont = vec![full[N_SEEDS - 1]];
        model_cont.extend(
            pred[i * N_STEPS..(i + 1) * N_STEPS]
                .iter()
                .map(|&v| f64::from(v)),
        );
        fig = fig.panel(
            LineChart::new(format!("validation #{i}"))
                .x_label("step")
                .y_label("value")
                .series(Series::from_xy("seeds", &t_seeds, &full[..N_SEEDS])?.color(7))
                .series(
                    Series::from_xy("true", &t_cont, &true_cont)?
                        .color(2)
                        .dashed(),
                )
                .series(Series::from_xy("model", &t_cont, &model_cont)?.color(0)),
        );
    }
    fig.save_png(out.path("sequences.png"))?;
    out.write_text("model.txt", &summary.to_string())?;

    let targets = vec![Target::within(
        "validation MSE relative to the predict-the-mean baseline",
        "the asker's model stuck at the baseline (ratio 1)",
        ratio,
        0.0,
        0.01,
    )
    .published_at(1.0)];
    let headline = vec![format!(
        "validation MSE {model_mse:.3e} vs mean baseline {baseline:.4} after {} epochs",
        history.len()
    )];
    #[derive(Serialize)]
    struct Metrics {
        n_train: usize,
        n_val: usize,
        model: String,
        parameters: i64,
        validation_mse: f64,
        mean_baseline_mse: f64,
        ratio_to_baseline: f64,
        epochs_run: usize,
        best_epoch: Option<usize>,
        training_seconds: f64,
        notes: Vec<&'static str>,
    }
    let metrics = Metrics {
            n_train: config.n_train,
            n_val: config.n_val,
            model: format!(
                "LSTM({0}) encoder over the 5 seeds; its final (h, c) start an LSTM({0}) decoder that produces the 5 values autoregressively from 0, trained free running",
                config.hidden
            ),
            parameters: summary.total_params(),
            validation_mse: model_mse,
            mean_baseline_mse: baseline,
            ratio_to_baseline: ratio,
            epochs_run: history.len(),
            best_epoch: report.restored_epoch,
            training_seconds: report.seconds,
            notes: vec![
                "mean_baseline_mse predicts, for each step, that step's mean over the training sequences: what the asker's model converged to.",
                "training_seconds are wall times; every other number depends only on the seed on a CPU.",
            ],
        };
    Ok(SeedOutcome::new(device, targets, &metrics)?
        .timing([("training", report.seconds)])
        .headline(headline))
}
