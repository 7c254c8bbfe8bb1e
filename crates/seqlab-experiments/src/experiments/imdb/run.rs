//! One seed: prepare the reviews, train the three protocols, write the artefacts, the details.

use super::*;
use super::{config::*, protocols::*, saved::*};
use crate::common::{ResultsDir, Target};
use crate::experiment::{Outcome, SeedContext};
use crate::ExperimentError;
use seqlab_data::datadir::DataDir;
use seqlab_data::rng::streams;
use seqlab_data::split::stratified_split;
use seqlab_data::text::{Side, TextEncoder, Vocabulary};
use seqlab_metrics::RocCurve;
use seqlab_models::summary::thousands;
use seqlab_models::summary::Summary as ModelSummary;
use seqlab_models::Model;
use seqlab_plot::{Figure, LineChart, Series};
use seqlab_train::checkpoint::save_weights;
use seqlab_train::optim::OptimizerConfig;
use seqlab_train::History;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use tch::Device;

/// One seed's details in `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImdbDetails {
    /// The settings the seed ran with.
    pub settings: ImdbSettings,
    /// Parameter counts: libtorch's, Keras', the book's.
    pub parameters: Parameters,
    /// Per protocol (`book`, `held_out`, `test_validated`): its numbers.
    pub protocols: BTreeMap<String, ProtocolMetrics>,
    /// Test-validated minus held-out protocol.
    pub protocol_effect: ProtocolEffect,
    /// What the book prints for this model.
    pub published: Published,
}

/// The settings of one seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImdbSettings {
    /// The model's name (`imdb SimpleRNN`, `imdb LSTM`).
    pub model: String,
    /// Words kept by the Keras indexing.
    pub num_words: usize,
    /// Most frequent words skipped.
    pub skip_top: usize,
    /// Ids per review.
    pub maxlen: usize,
    /// Words of the vocabulary ranked on the training reviews.
    pub vocabulary_words: usize,
    /// Embedding width.
    pub embedding_dim: i64,
    /// Recurrent units.
    pub hidden_size: i64,
    /// Dropout after the embedding.
    pub embedding_dropout: f64,
    /// Dropout before the output layer.
    pub head_dropout: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// The optimiser.
    pub optimizer: String,
    /// Epochs at most.
    pub max_epochs: usize,
    /// EarlyStopping, described.
    pub early_stopping: String,
    /// ReduceLROnPlateau, described.
    pub reduce_lr: String,
    /// Share of the training reviews the held-out protocol validates on.
    pub val_fraction: f64,
    /// Training reviews.
    pub train_reviews: usize,
    /// Test reviews.
    pub test_reviews: usize,
}

/// Parameter counts of the model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Parameters {
    /// As libtorch stores them.
    pub libtorch: i64,
    /// As Keras counts them (one bias per recurrent layer).
    pub keras_count: i64,
    /// The book's summary.
    pub book: i64,
    /// Trainable (libtorch).
    pub trainable: i64,
    /// Why the counts differ.
    pub explanation: String,
}

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
    out.write_json(MODEL_FILE, &saved)?;
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

/// The terminal lines after the targets.
fn headline(d: &ImdbDetails) -> Vec<String> {
    let get = |k: &str| d.protocols.get(k);
    let (Some(b), Some(h), Some(p)) = (get("book"), get("held_out"), get("test_validated")) else {
        return Vec::new();
    };
    vec![
        format!(
            "held-out protocol: AUC {:.4}, balanced accuracy {:.2}% (threshold {:.3} chosen on the validation split); book protocol: AUC {:.4}, {:.2}%",
            h.test.auc,
            h.test.balanced_accuracy * 100.0,
            h.test.threshold,
            b.test.auc,
            b.test.balanced_accuracy * 100.0
        ),
        format!(
            "validating on the test set, same {} training reviews: AUC {:+.4}, balanced accuracy {:+.2} points against the held-out protocol",
            h.train_reviews,
            d.protocol_effect.auc,
            d.protocol_effect.balanced_accuracy * 100.0
        ),
        format!(
            "best epochs {} (book), {} (held-out) and {} (test-validated); epochs run {}, {} and {}",
            b.best_epoch, h.best_epoch, p.best_epoch, b.epochs_run, h.epochs_run, p.epochs_run
        ),
    ]
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
    let targets = targets(&details);
    Ok(Outcome::new(details, targets)
        .timing(timing)
        .headline(lines))
}

/// The book's Youden threshold and confusion matrix (as its two rates:
/// specificity and sensitivity, whose mean is the balanced accuracy).
fn confusion_targets(cell: &str, book: &Published, test: &Scored) -> Vec<Target> {
    let [[tn, fp], [fn_, tp]] = book.confusion;
    let rate = |hit: u64, miss: u64| hit as f64 / (hit + miss).max(1) as f64;
    let measured = |row: usize, col: usize| -> f64 {
        let r = test.confusion.get(row);
        let hit = r.and_then(|r| r.get(col)).copied().unwrap_or(0);
        let miss = r.and_then(|r| r.get(1 - col)).copied().unwrap_or(0);
        if hit + miss == 0 {
            f64::NAN
        } else {
            rate(hit, miss)
        }
    };
    let source = format!("the book's IMDb {cell} confusion matrix at the Youden threshold");
    vec![
        Target::within(
            &format!("{cell} Youden threshold (book protocol)"),
            &format!("threshold {}", book.youden_threshold),
            test.threshold,
            0.0,
            1.0,
        )
        .published_at(book.youden_threshold)
        .source(&format!("the book's IMDb {cell} results"))
        .bounds(0.0, 1.0),
        Target::within(
            &format!("{cell} specificity at the Youden threshold (book protocol)"),
            &format!(
                "[[{tn} {fp}] [{fn_} {tp}]]: {tn} of {} negative reviews",
                tn + fp
            ),
            measured(0, 0),
            0.0,
            1.0,
        )
        .published_at(rate(tn, fp))
        .source(&source)
        .bounds(0.0, 1.0),
        Target::within(
            &format!("{cell} sensitivity at the Youden threshold (book protocol)"),
            &format!(
                "[[{tn} {fp}] [{fn_} {tp}]]: {tp} of {} positive reviews",
                fn_ + tp
            ),
            measured(1, 1),
            0.0,
            1.0,
        )
        .published_at(rate(tp, fn_))
        .source(&source)
        .bounds(0.0, 1.0),
    ]
}

/// The book's numbers for this model, and seqlab's stretch goal.
pub(super) fn targets(d: &ImdbDetails) -> Vec<Target> {
    let Some(b) = d.protocols.get("book") else {
        return Vec::new();
    };
    let cell = d.settings.model.trim_start_matches("imdb ");
    let book = &published(if cell == "LSTM" {
        RecurrentKind::Lstm
    } else {
        RecurrentKind::RnnTanh
    });
    let mut targets = vec![
        Target::within(
            &format!("{cell} ROC AUC (book protocol)"),
            &format!("AUC {:.2}", book.auc),
            b.test.auc,
            book.auc,
            1.0,
        )
        .published_at(book.auc)
        .source(&format!("the book's IMDb {cell} results"))
        .bounds(0.0, 1.0),
        Target::within(
            &format!("{cell} balanced accuracy at the Youden threshold (book protocol)"),
            &format!("balanced accuracy {:.2}%", book.balanced_accuracy * 100.0),
            b.test.balanced_accuracy,
            book.balanced_accuracy,
            1.0,
        )
        .published_at(book.balanced_accuracy)
        .source(&format!(
            "the book's IMDb {cell} results, at the Youden-optimal threshold"
        ))
        .bounds(0.0, 1.0),
        Target::within(
            &format!("{cell} Keras-counted parameters"),
            &format!("{} total parameters", book.keras_params),
            d.parameters.keras_count as f64,
            book.keras_params as f64,
            book.keras_params as f64,
        )
        .published_at(book.keras_params as f64)
        .source("the book's model summary"),
    ];
    targets.extend(confusion_targets(cell, book, &b.test));
    if cell == "LSTM" {
        targets.push(
            Target::within(
                "LSTM ROC AUC, stretch (book protocol)",
                "seqlab's stretch goal: AUC at least 0.94 (the book prints 0.93)",
                b.test.auc,
                0.94,
                1.0,
            )
            .goal()
            .bounds(0.0, 1.0),
        );
    }
    targets
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

pub(super) fn plot_losses(
    title: &str,
    book: (&History, usize),
    held_out: (&History, usize),
    path: &Path,
) -> Result<(), ExperimentError> {
    let curve = |h: &History,
                 col: &str,
                 name: &str,
                 color: usize|
     -> Result<Option<Series>, ExperimentError> {
        let x: Vec<f64> = h.epochs().iter().map(|e| e.epoch as f64).collect();
        Ok(match h.column(col) {
            Some(y) => Some(Series::from_xy(name, &x, &y)?.color(color)),
            None => None,
        })
    };
    let panel = |h: &History, what: &str, best: usize| -> Result<LineChart, ExperimentError> {
        let mut c = LineChart::new(what)
            .x_label("epoch")
            .y_label("binary cross-entropy");
        if let Some(s) = curve(h, "loss", "train", 0)? {
            c = c.series(s);
        }
        if let Some(s) = curve(h, "val_loss", "validation", 1)? {
            c = c.series(s.dashed());
        }
        // A vertical marker at the restored epoch, spanning the plotted losses.
        let all: Vec<f64> = ["loss", "val_loss"]
            .iter()
            .filter_map(|col| h.column(col))
            .flatten()
            .filter(|v| v.is_finite())
            .collect();
        if let (Some(lo), Some(hi)) = (
            all.iter().copied().reduce(f64::min),
            all.iter().copied().reduce(f64::max),
        ) {
            let x = best as f64;
            // Headroom above the curves keeps the legend inside the plot.
            c = c.y_range(0.0, hi * 1.4);
            c = c.series(
                Series::from_xy(format!("best epoch {best}"), &[x, x], &[lo, hi])?
                    .color(7)
                    .dashed(),
            );
        }
        Ok(c)
    };
    let mut lr = LineChart::new("Learning rate (ReduceLROnPlateau)")
        .x_label("epoch")
        .y_label("learning rate (log scale)")
        .log_y(true);
    for (h, name, color) in [
        (book.0, "book protocol", 0),
        (held_out.0, "held-out protocol", 2),
    ] {
        let x: Vec<f64> = h.epochs().iter().map(|e| e.epoch as f64).collect();
        let s = Series::from_xy(name, &x, &h.learning_rates())?.color(color);
        lr = lr.series(if color == 2 { s.dashed() } else { s });
    }
    Figure::new(1500, 460)
        .title(title)
        .grid(1, 3)
        .panel(panel(
            book.0,
            "Book protocol: validation = test set",
            book.1,
        )?)
        .panel(panel(
            held_out.0,
            "Held-out protocol: validation = 20% of train",
            held_out.1,
        )?)
        .panel(lr)
        .save_png(path)?;
    Ok(())
}

pub(super) fn plot_roc(
    title: &str,
    curves: &[(&str, &RocCurve, f64)],
    path: &Path,
) -> Result<(), ExperimentError> {
    let series: Vec<seqlab_plot::RocSeries<'_>> = curves
        .iter()
        .map(|(name, roc, auc)| seqlab_plot::RocSeries {
            name,
            fpr: &roc.fpr,
            tpr: &roc.tpr,
            auc: *auc,
        })
        .collect();
    Ok(seqlab_plot::plot_roc(title, &series, path, 760, 700)?)
}
