//! The targets of one seed: the tutorial's statements, seqlab's own
//! expectations, and the goals of the HARD LSTM's corrections.

use super::details::LevelResult;
use crate::common::Target;
use std::collections::BTreeMap;

/// Where the tutorial prints its statements.
pub(super) const COURSE: &str = "the PyTorch course's temporal-order tutorial";

/// The tutorial's statements, and seqlab's own expectations (labelled so:
/// the tutorial prints no LSTM number, no MODERATE level and no epoch count).
pub(super) fn targets(levels: &BTreeMap<String, LevelResult>) -> Vec<Target> {
    let get = |level: &str, model: &str| levels.get(level).and_then(|l| l.models.get(model));
    let acc = |t: Target| t.bounds(0.0, 1.0);
    let mut t = Vec::new();
    if let Some(m) = get("easy_10", "rnn") {
        t.push(acc(Target::within(
            "EASY, 10 epochs: RNN(4) test accuracy",
            "\"about 50% accuracy\"",
            m.final_test_accuracy,
            0.40,
            0.70,
        )
        .published_at(0.5)
        .source(COURSE)));
    }
    if let Some(m) = get("easy_100", "rnn") {
        t.push(acc(Target::within(
            "EASY, 100 epochs: RNN(4) test accuracy",
            "\"100% accuracy, though taking longer time to train\"",
            m.final_test_accuracy,
            0.99,
            1.0,
        )
        .published_at(1.0)
        .source(COURSE)));
    }
    if let Some(m) = get("easy_100", "lstm") {
        let epoch = m.first_epoch_at_100.map_or(f64::INFINITY, |e| e as f64);
        t.push(
            Target::within(
                "EASY: first epoch with 100% test accuracy, LSTM(4)",
                "seqlab's expectation: within 30 epochs (the tutorial gives no epoch count)",
                epoch,
                1.0,
                30.0,
            )
            .goal(),
        );
    }
    t.extend(longer_sequences(levels));
    t.extend(corrections(levels));
    t
}

/// "For a longer sequence, RNNs fail to memorize", and LSTMs solve it: the
/// tutorial's claims with seqlab's criteria (its own levels and numbers).
fn longer_sequences(levels: &BTreeMap<String, LevelResult>) -> Vec<Target> {
    let get = |level: &str, model: &str| levels.get(level).and_then(|l| l.models.get(model));
    let mut t = Vec::new();
    if let Some(m) = get("moderate_100", "lstm") {
        t.push(
            Target::within(
                "MODERATE, 100 epochs: LSTM(12) test accuracy",
                "seqlab's criterion for \"LSTMs solve this\": at least 99% (the tutorial has no MODERATE level)",
                m.final_test_accuracy,
                0.99,
                1.0,
            )
            .goal()
            .bounds(0.0, 1.0),
        );
    }
    if let Some(m) = get("hard", "lstm") {
        t.push(
            Target::within(
                "HARD: LSTM best test accuracy during training",
                "seqlab's criterion for \"LSTMs solve this\": at least 99% at some epoch",
                m.best_test_accuracy,
                0.99,
                1.0,
            )
            .goal()
            .bounds(0.0, 1.0),
        );
        t.push(
            Target::within(
                "HARD: LSTM test accuracy after the last epoch",
                "seqlab's criterion: still at least 99% after 100 epochs",
                m.final_test_accuracy,
                0.99,
                1.0,
            )
            .goal()
            .bounds(0.0, 1.0),
        );
    }
    if let Some(m) = get("hard", "rnn") {
        t.push(
            Target::within(
                "HARD: RNN test accuracy",
                "\"for a longer sequence, RNNs fail to memorize\"; seqlab's criterion for failing: below 60% (chance: 25%)",
                m.final_test_accuracy,
                0.0,
                0.60,
            )
            .goal()
            .source(COURSE)
            .bounds(0.0, 1.0),
        );
    }
    t
}

/// seqlab's goal for each correction of the HARD LSTM: the weights it ends
/// with are at least 99% right on the test set.
fn corrections(levels: &BTreeMap<String, LevelResult>) -> Vec<Target> {
    let Some(hard) = levels.get("hard") else {
        return Vec::new();
    };
    let goal = |what: &str, value: f64| {
        Target::within(
            what,
            "seqlab's criterion: at least 99%, as every seed reaches during training",
            value,
            0.99,
            1.0,
        )
        .goal()
        .bounds(0.0, 1.0)
    };
    let mut t = Vec::new();
    if let Some(m) = hard.models.get("lstm_restore_best") {
        t.push(goal(
            "HARD, corrected (restore-best on validation): LSTM test accuracy of the kept weights",
            m.final_test_accuracy,
        ));
    }
    if let Some(m) = hard.models.get("lstm_lr_decay") {
        t.push(goal(
            "HARD, corrected (learning rate decayed on plateau): LSTM test accuracy after the last epoch",
            m.final_test_accuracy,
        ));
    }
    t
}
