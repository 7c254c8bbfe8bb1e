//! Progress output: an indicatif bar per epoch on a terminal, and one
//! Keras-like summary line per epoch whether or not output is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much the fit loop prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Nothing.
    Silent,
    /// A progress bar per epoch (only when stderr is a terminal) and one
    /// summary line per epoch on stdout.
    #[default]
    Epochs,
}

pub(crate) struct EpochProgress {
    bar: Option<ProgressBar>,
}

impl EpochProgress {
    pub(crate) fn start(
        verbosity: Verbosity,
        label: &str,
        epoch: usize,
        epochs: usize,
        batches: usize,
    ) -> Self {
        if verbosity == Verbosity::Silent {
            return Self { bar: None };
        }
        let target = ProgressDrawTarget::stderr();
        if target.is_hidden() {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(batches as u64), target);
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("{label} epoch {epoch}/{epochs}"));
        Self { bar: Some(bar) }
    }

    pub(crate) fn batch_done(&self, running_loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("loss {running_loss:.4}"));
            bar.inc(1);
        }
    }

    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The Keras-like line for one epoch.
pub(crate) fn epoch_line(
    label: &str,
    epoch: usize,
    epochs: usize,
    seconds: f64,
    columns: &[String],
    values: &[f64],
    lr: f64,
) -> String {
    let mut s = format!("{label} epoch {epoch}/{epochs} - {seconds:.1}s");
    for (c, v) in columns.iter().zip(values) {
        s.push_str(&format!(" - {c}: {v:.4}"));
    }
    s.push_str(&format!(" - lr: {lr:.3e}"));
    s
}

/// Prints `line` on stdout and carries on whatever happens to it: a
/// training run whose terminal or pipe went away (`seqlab run ... | head`)
/// keeps training and still writes its results. Every progress line of the
/// fit loop goes through it.
pub fn say(line: impl std::fmt::Display) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}
