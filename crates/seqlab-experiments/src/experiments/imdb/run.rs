//! One seed: prepare the reviews, train the three protocols, write the artefacts, the details.

use super::details::{headline, ImdbDetails, ImdbSettings, Parameters};
use super::plots::{plot_losses, plot_roc};
use super::*;
use super::{config::*, protocols::*, saved::*};
use crate::common::ResultsDir;
use crate::experiment::{Outcome, SeedContext};
use crate::ExperimentError;
use seqlab_data::datadir::DataDir;
use seqlab_data::rng::streams;
use seqlab_data::split::stratified_split;
use seqlab_data::text::{Side, TextEncoder, Vocabulary};
use seqlab_models::summary::thousands;
use seqlab_models::summary::Summary as ModelSummary;
use seqlab_models::Model;
use seqlab_train::checkpoint::save_weights;
use seqlab_train::optim::OptimizerConfig;
use std::collections::BTreeMap;
use tch::Device;

/// The reviews of one seed, encoded, and the held-out protocol's split.
struct Prepared {
    train: Encoded,
    test: Encoded,
    fit_part: Encoded,
    val_part: Encoded,
    encoder: TextEncoder,
    vocabulary_words: usize,
}

/// The three protocols' trained models.
struct Protocols {
    book: Trained,
    held_out: Trained,
    paired: Trained,
}

/// Samples, ranks the vocabulary on the training reviews, encodes both
/// sets and splits the training reviews for the held-out protocol.
fn prepare(config: &ImdbConfig, ctx: &SeedContext<'_>) -> Result<Prepared, ExperimentError> {
    let data = DataDir::resolve(ctx.data_dir.as_deref()).imdb()?;
    let train_reviews = sample(
        &data.train,
        config.train_reviews,
        ctx.seed,
        streams::TRAIN_DATA,
    );
    let test_reviews = sample(
        &data.test,
        config.test_reviews,
        ctx.seed,
        streams::TEST_DATA,
    );
    let full_vocab = Vocabulary::from_texts(train_reviews.iter().map(|r| r.text.as_str()));
    let index = config.index();
    // Words of rank above num_words - index_from - 1 are OOV anyway: keep only what the model can see.
    let kept_words = config
        .num_words
        .saturating_sub(usize::try_from(index.index_from).unwrap_or(0) + 1);
    let encoder = TextEncoder {
        vocab: full_vocab.truncated(kept_words),
        index,
        maxlen: config.maxlen,
        padding: Side::Pre,
        truncating: Side::Pre,
    };
    let train = Encoded::new(&encoder, &train_reviews, "train", ctx.device)?;
    let test = Encoded::new(&encoder, &test_reviews, "test", ctx.device)?;
    let (fit_rows, val_rows) =
        stratified_split(&train.labels, config.val_fraction, ctx.seed, streams::SPLIT)?;
    Ok(Prepared {
        fit_part: train.subset(&fit_rows)?,
        val_part: train.subset(&val_rows)?,
        train,
        test,
        encoder,
        vocabulary_words: full_vocab.len(),
    })
}

/// The model's summary with both parameter counts, and why they differ.
fn describe_model(config: &ImdbConfig) -> Result<(ModelSummary, String), ExperimentError> {
    let (_, probe) = build(config, Device::Cpu)?;
    let summary = probe.summary(&[config.maxlen as i64]);
    let book = published(config.model.kind);
    let explanation = format!(
        "libtorch counts {} parameters, Keras would count {}, the book's summary shows {}. The difference is the recurrent layer's second bias vector: libtorch keeps b_ih and b_hh ({} x {} = {} values), Keras one. BatchNormalization counts 4 values per feature in both, 2 of them (moving mean and variance) not trained.",
        summary.total_params(),
        summary.total_keras_params(),
        book.keras_params,
        config.model.kind.gates(),
        config.model.hidden_size,
        summary.total_params() - summary.total_keras_params(),
    );
    Ok((summary, explanation))
}

/// Trains the book, held-out and test-validated protocols.
fn train_protocols(
    config: &ImdbConfig,
    ctx: &SeedContext<'_>,
    data: &Prepared,
) -> Result<Protocols, ExperimentError> {
    let cell = config.model.keras_layer();
    let book = train_protocol(
        config,
        ctx,
        &format!("{cell} book protocol"),
        "the test set (as in the book)",
        (&data.train, &data.test, &data.test),
        false,
    )?;
    let held_out = train_protocol(
        config,
        ctx,
        &format!("{cell} held-out protocol"),
        &format!(
            "{:.0}% of the training reviews (stratified, seeded)",
            config.val_fraction * 100.0
        ),
        (&data.fit_part, &data.val_part, &data.test),
        true,
    )?;
    // The held-out protocol's training reviews, initialisation and shuffling,
    // validated on the test set: the paired difference with `held_out` is the
    // effect of validating on the test set alone.
    let paired = train_protocol(
        config,
        ctx,
        &format!("{cell} test-validated protocol"),
        &format!(
            "the test set, fitting the held-out protocol's {} training reviews",
            data.fit_part.ids.len()
        ),
        (&data.fit_part, &data.test, &data.test),
        false,
    )?;
    Ok(Protocols {
        book,
        held_out,
        paired,
    })
}

/// Histories, the loss and ROC plots and the test predictions.
fn write_curves(
    cell: &str,
    data: &Prepared,
    p: &Protocols,
    out: &mut ResultsDir,
) -> Result<(), ExperimentError> {
    out.write_history("book", &p.book.history)?;
    out.write_history("held_out", &p.held_out.history)?;
    out.write_history("test_validated", &p.paired.history)?;
    plot_losses(
        &format!("IMDb {cell}: loss per epoch"),
        (&p.book.history, p.book.metrics.best_epoch),
        (&p.held_out.history, p.held_out.metrics.best_epoch),
        &out.path("loss.png"),
    )?;
    plot_roc(
        &format!(
            "IMDb {cell}: ROC on the {} test reviews",
            thousands(data.test.ids.len() as i64)
        ),
        &[
            ("book protocol", &p.book.roc, p.book.metrics.test.auc),
            (
                "held-out protocol",
                &p.held_out.roc,
                p.held_out.metrics.test.auc,
            ),
            (
                "test-validated, same training reviews",
                &p.paired.roc,
                p.paired.metrics.test.auc,
            ),
        ],
        &out.path("roc.png"),
    )?;
    out.write_gzip(
        PREDICTIONS_FILE,
        &predictions_csv(
            &data.test,
            &[&p.book.probs, &p.held_out.probs, &p.paired.probs],
        ),
    )
}

/// The book protocol's model, for `seqlab predict`: weights, vocabulary,
/// its description, and the summary.
fn write_model(
    config: &ImdbConfig,
    data: &Prepared,
    book: &Trained,
    summary_text: &str,
    out: &mut ResultsDir,
) -> Result<(), ExperimentError> {
    save_weights(&book.vs, out.path(WEIGHTS_FILE))?;
    data.encoder
        .vocab
        .save(&out.path(VOCABULARY_FILE))
        .map_err(seqlab_data::datadir::DatasetError::from)?;
    let index = config.index();
    let saved = SavedModel {
        experiment: name_of(config.model.kind).to_string(),
        cell: config.model.keras_layer().to_string(),
        vocab_size: config.model.vocab_size,
        embedding_dim: config.model.embedding_dim,
        hidden_size: config.model.hidden_size,
        embedding_dropout: config.model.embedding_dropout,
        head_dropout: config.model.head_dropout,
        num_words: config.num_words,
        skip_top: config.skip_top,
        start_char: index.start_char,
        oov_char: index.oov_char,
        index_from: index.index_from,
        maxlen: config.maxlen,
        threshold: book.metrics.test.threshold,
        weights: WEIGHTS_FILE.to_string(),
        vocabulary: VOCABULARY_FILE.to_string(),
        protocol: "book (best val_loss on the test set)".to_string(),
    };
    // In the fields' order, as `model.json` has always been written (write_json sorts keys).
    let text = serde_json::to_string_pretty(&saved).map_err(|e| ExperimentError::Serialise {
        what: MODEL_FILE.into(),
        message: e.to_string(),
    })?;
    out.write_text(MODEL_FILE, &format!("{text}\n"))?;
    out.write_text("model.txt", summary_text)
}

/// The seed's details: settings, parameter counts, the protocols' numbers.
fn details(
    config: &ImdbConfig,
    ctx: &SeedContext<'_>,
    data: &Prepared,
    p: &Protocols,
    (summary, explanation): (&ModelSummary, String),
) -> Result<ImdbDetails, ExperimentError> {
    let book = published(config.model.kind);
    Ok(ImdbDetails {
        settings: ImdbSettings {
            model: summary.name.clone(),
            num_words: config.num_words,
            skip_top: config.skip_top,
            maxlen: config.maxlen,
            vocabulary_words: data.vocabulary_words,
            embedding_dim: config.model.embedding_dim,
            hidden_size: config.model.hidden_size,
            embedding_dropout: config.model.embedding_dropout,
            head_dropout: config.model.head_dropout,
            batch_size: config.batch_size,
            optimizer: OptimizerConfig::keras_adam(config.lr).describe(),
            max_epochs: ctx.epochs_or(config.max_epochs)?,
            early_stopping: config.callbacks.describe_early_stopping(),
            reduce_lr: config.callbacks.describe_reduce_lr(),
            val_fraction: config.val_fraction,
            train_reviews: data.train.ids.len(),
            test_reviews: data.test.ids.len(),
        },
        parameters: Parameters {
            libtorch: summary.total_params(),
            keras_count: summary.total_keras_params(),
            book: book.keras_params,
            trainable: summary.trainable_params(),
            explanation,
        },
        protocols: BTreeMap::from([
            ("book".to_string(), p.book.metrics.clone()),
            ("held_out".to_string(), p.held_out.metrics.clone()),
            ("test_validated".to_string(), p.paired.metrics.clone()),
        ]),
        protocol_effect: ProtocolEffect {
            auc: p.paired.metrics.test.auc - p.held_out.metrics.test.auc,
            balanced_accuracy: p.paired.metrics.test.balanced_accuracy
                - p.held_out.metrics.test.balanced_accuracy,
        },
        published: book,
    })
}

/// One seed with explicit settings: the three protocols, their files in `ctx.out`.
pub(super) fn seed_run(
    config: &ImdbConfig,
    ctx: &mut SeedContext<'_>,
) -> Result<Outcome<ImdbDetails>, ExperimentError> {
    config.validate()?;
    let data = prepare(config, ctx)?;
    let (summary, explanation) = describe_model(config)?;
    let summary_text = format!("{summary}{explanation}\n");
    if ctx.verbose {
        seqlab_train::progress::say(format_args!("\n{summary_text}"));
    }
    let trained = train_protocols(config, ctx, &data)?;
    let cell = config.model.keras_layer();
    write_curves(cell, &data, &trained, ctx.out)?;
    write_model(config, &data, &trained.book, &summary_text, ctx.out)?;
    let details = details(config, ctx, &data, &trained, (&summary, explanation))?;
    let timing = [
        ("book_training", trained.book.metrics.training_seconds),
        (
            "held_out_training",
            trained.held_out.metrics.training_seconds,
        ),
        (
            "test_validated_training",
            trained.paired.metrics.training_seconds,
        ),
    ];
    let lines = headline(&details);
    Ok(Outcome::new(details).timing(timing).headline(lines))
}

/// `predictions.csv.gz`'s text: [`PredictionRow`]s of the test reviews.
pub(super) fn predictions_csv(test: &Encoded, probs: &[&[f64]; 3]) -> String {
    let mut s = PredictionRow::header();
    for (i, id) in test.ids.iter().enumerate() {
        let p = |k: usize| probs[k].get(i).copied().unwrap_or(f64::NAN);
        let row = PredictionRow {
            id: id.clone(),
            positive: test.labels[i],
            probabilities: [p(0), p(1), p(2)],
        };
        s.push_str(&row.line());
    }
    s
}
