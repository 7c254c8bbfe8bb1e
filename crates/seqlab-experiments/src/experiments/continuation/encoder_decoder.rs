//! The recommended model: an LSTM encoder-decoder
//! ([`seqlab_models::seq2seq`]) that reads the five seeds and produces the
//! continuation autoregressively.

use super::{ContinuationConfig, Data};
use crate::common::plot_history;
use crate::experiment::SeedContext;
use crate::ExperimentError;
use seqlab_data::continuation::{N_SEEDS, N_STEPS};
use seqlab_metrics::mse;
use seqlab_models::recurrent::RecurrentInit;
use seqlab_models::seq2seq::{encoder_decoder, EncoderDecoderConfig, FreeRunning};
use seqlab_models::Model;
use seqlab_train::fit::fit;
use seqlab_train::objective::Loss;
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::{seed_all, History};
use tch::nn::VarStore;

/// The trained encoder-decoder.
pub(super) struct Recommended {
    /// Its layer table.
    pub summary: String,
    /// Its parameters.
    pub parameters: i64,
    /// Loss per epoch.
    pub history: History,
    /// The epoch whose weights were restored.
    pub best_epoch: Option<usize>,
    /// Wall time of its training.
    pub seconds: f64,
    /// Its five values per validation sequence, flattened.
    pub prediction: Vec<f32>,
    /// MSE of those values.
    pub validation_mse: f64,
}

/// Trains the encoder-decoder with the validation callbacks, writes its
/// history and loss plot, and predicts the validation continuations with
/// the restored weights (five autoregressive steps).
pub(super) fn train_encoder_decoder(
    config: &ContinuationConfig,
    ctx: &mut SeedContext<'_>,
    data: &Data,
) -> Result<Recommended, ExperimentError> {
    seed_all(ctx.seed);
    let mut vs = VarStore::new(ctx.device);
    let shape = EncoderDecoderConfig {
        input_features: 1,
        output_features: 1,
        hidden: config.hidden,
        init: RecurrentInit::Keras,
    };
    let model = FreeRunning(encoder_decoder(vs.root() / "continuation", &shape)?);
    let summary = model.summary(&[N_SEEDS as i64, 1]);
    if ctx.verbose {
        seqlab_train::progress::say(format_args!("\n{summary}"));
    }
    let epochs = ctx.epochs_or(config.max_epochs)?;
    let optimizer = OptimizerConfig::keras_adam(config.lr);
    let mut fc = ctx.base_fit(
        "continuation".into(),
        epochs,
        config.batch_size,
        optimizer,
        Loss::Mse,
    );
    config.callbacks.install(&mut fc)?;
    let report = fit(
        &mut vs,
        &model,
        &data.seq2seq_train,
        Some(&data.seq2seq_val),
        fc,
    )?;
    let pred = model.0.predict(&data.seq2seq_val.x, N_STEPS as i64);
    let prediction = Vec::<f32>::try_from(&pred.f_reshape([-1])?)?;
    ctx.out.write_history("train", &report.history)?;
    plot_history(
        &report.history,
        "Seed-conditioned continuation, encoder-decoder: MSE per epoch",
        "validation",
        &ctx.out.path("loss.png"),
    )?;
    Ok(Recommended {
        summary: summary.to_string(),
        parameters: summary.total_params(),
        validation_mse: mse(&prediction, data.val.continuation.data())?,
        history: report.history,
        best_epoch: report.restored_epoch,
        seconds: report.seconds,
        prediction,
    })
}
