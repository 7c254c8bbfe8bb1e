//! Progress output: an indicatif bar per epoch on a terminal, one Keras-like
//! summary line per epoch whether or not output is a terminal, and, for a
//! parent process that asked for it, typed progress events.
//!
//! # The progress channel
//!
//! A parent that runs `seqlab` processes side by side (`seqlab run
//! --seeds`, `seqlab reproduce-all`) sets [`PROGRESS_FILE_ENV`]
//! (`SEQLAB_PROGRESS_FILE`) on each child to a path of its choosing. Every
//! fit loop of that child then appends one [`ProgressEvent`] per line to
//! that file as JSON (JSON Lines: `{"run":"lstm","epoch":3,"epochs":10,
//! "batch":40,"batches":79,"loss":0.5132,"eta_s":61.2}`), whatever the
//! fit's [`Verbosity`]; the parent reads them back with a
//! [`ProgressReader`]. The human output (the epoch lines on stdout) is
//! left as it is, for the job's log.
//!
//! Why a file: it is the simplest channel that is robust here. The child
//! needs no inherited descriptor (which `std::process::Command` would close
//! on exec) and no reader thread in the parent; a parent that has gone
//! away costs the child nothing (no broken pipe: it keeps training); the
//! parent polls the file in the loop where it polls the child's exit; and
//! each event goes out as one `write` of a whole line to a file opened for
//! appending, so a reader sees at worst a line not yet complete, which it
//! keeps until its line break arrives. Progress is best-effort: a file that
//! cannot be opened or written stops the events, never the training.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The environment variable through which a parent process asks for
/// progress events: a file path the fit loop appends [`ProgressEvent`]s to.
pub const PROGRESS_FILE_ENV: &str = "SEQLAB_PROGRESS_FILE";

/// Least time between two events of one epoch (its first and last batch
/// are always sent).
const EVENT_INTERVAL: Duration = Duration::from_millis(250);

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

/// Where a training run stands: one line of the progress channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEvent {
    /// The training run's label ([`FitConfig::label`](crate::fit::FitConfig::label)).
    pub run: String,
    /// The current epoch, from 1.
    pub epoch: usize,
    /// The run's number of epochs (at most: early stopping may end it sooner).
    pub epochs: usize,
    /// Batches of this epoch done, from 1.
    pub batch: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// Mean training loss of this epoch so far (absent when not finite).
    pub loss: Option<f64>,
    /// Seconds the run still needs at this pace if it runs all its epochs
    /// (absent when not known).
    pub eta_s: Option<f64>,
}

/// Appends [`ProgressEvent`]s to a progress file, one JSON line each.
#[derive(Debug)]
pub struct ProgressWriter {
    file: File,
}

impl ProgressWriter {
    /// Opens (creating it if needed) `path` for appending.
    pub fn append(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self { file })
    }

    /// The writer [`PROGRESS_FILE_ENV`] asks for, if it is set and its file
    /// can be opened.
    pub fn from_env() -> Option<Self> {
        let path = std::env::var_os(PROGRESS_FILE_ENV).filter(|p| !p.is_empty())?;
        Self::append(Path::new(&path)).ok()
    }

    /// Writes `event` as one line, in a single write.
    pub fn write(&mut self, event: &ProgressEvent) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }
}

/// Reads the [`ProgressEvent`]s that a [`ProgressWriter`] appends to a file,
/// as they arrive.
#[derive(Debug)]
pub struct ProgressReader {
    file: File,
    pending: Vec<u8>,
}

impl ProgressReader {
    /// Opens `path` to read its events from the start.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: File::open(path)?,
            pending: Vec::new(),
        })
    }

    /// The events whose lines were completed since the last call, in order.
    /// A last line without its line break yet is kept for the next call; a
    /// line that is not an event (cut short or garbled) is skipped.
    pub fn read_events(&mut self) -> Vec<ProgressEvent> {
        // A read error leaves whatever was read before it for the next call.
        let _ = self.file.read_to_end(&mut self.pending);
        let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let complete: Vec<u8> = self.pending.drain(..=end).collect();
        complete
            .split(|&b| b == b'\n')
            .filter_map(|line| serde_json::from_slice(line).ok())
            .collect()
    }
}

/// A fit loop's progress: the bar of the current epoch on a terminal, and
/// the events of the progress channel when a parent asked for them.
pub(crate) struct FitProgress {
    verbosity: Verbosity,
    label: String,
    epochs: usize,
    started: Instant,
    bar: Option<ProgressBar>,
    channel: Option<ProgressWriter>,
    epoch: usize,
    batches: usize,
    last_event: Option<Instant>,
}

impl FitProgress {
    /// Progress of a run of `epochs` epochs labelled `label`, starting now.
    pub(crate) fn new(verbosity: Verbosity, label: &str, epochs: usize) -> Self {
        Self {
            verbosity,
            label: label.to_string(),
            epochs,
            started: Instant::now(),
            bar: None,
            channel: ProgressWriter::from_env(),
            epoch: 0,
            batches: 0,
            last_event: None,
        }
    }

    /// Epoch `epoch` (from 1) of `batches` batches begins.
    pub(crate) fn start_epoch(&mut self, epoch: usize, batches: usize) {
        self.end_epoch();
        (self.epoch, self.batches, self.last_event) = (epoch, batches, None);
        if self.verbosity == Verbosity::Silent {
            return;
        }
        let target = ProgressDrawTarget::stderr();
        if target.is_hidden() {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(batches as u64), target);
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("{} epoch {epoch}/{}", self.label, self.epochs));
        self.bar = Some(bar);
    }

    /// Batch `batch` (from 1) of the epoch is done; the epoch's mean loss
    /// so far is `running_loss`.
    pub(crate) fn batch_done(&mut self, batch: usize, running_loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("loss {running_loss:.4}"));
            bar.inc(1);
        }
        self.send(batch, running_loss);
    }

    /// Sends an event if a parent asked for them and one is due.
    fn send(&mut self, batch: usize, loss: f64) {
        let Some(channel) = self.channel.as_mut() else {
            return;
        };
        let now = Instant::now();
        let due = batch == 1
            || batch >= self.batches
            || self
                .last_event
                .is_none_or(|t| now.duration_since(t) >= EVENT_INTERVAL);
        if !due {
            return;
        }
        self.last_event = Some(now);
        let done = (self.epoch.saturating_sub(1) as f64
            + batch as f64 / self.batches.max(1) as f64)
            / self.epochs.max(1) as f64;
        let elapsed = now.duration_since(self.started).as_secs_f64();
        let event = ProgressEvent {
            run: self.label.clone(),
            epoch: self.epoch,
            epochs: self.epochs,
            batch,
            batches: self.batches,
            loss: Some(loss).filter(|l| l.is_finite()),
            eta_s: Some(elapsed * (1.0 - done) / done).filter(|s| s.is_finite() && *s >= 0.0),
        };
        if channel.write(&event).is_err() {
            self.channel = None;
        }
    }

    /// The epoch's batches are over (or failed): clears its bar.
    pub(crate) fn end_epoch(&mut self) {
        if let Some(bar) = self.bar.take() {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(epoch: usize, batch: usize) -> ProgressEvent {
        ProgressEvent {
            run: "lstm".into(),
            epoch,
            epochs: 10,
            batch,
            batches: 4,
            loss: Some(0.25),
            eta_s: Some(12.5),
        }
    }

    #[test]
    fn events_round_trip_through_the_channel_and_bad_lines_are_skipped() {
        let dir = std::env::temp_dir().join(format!("seqlab-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("job.progress.jsonl");
        let _ = std::fs::remove_file(&path);
        let mut writer = ProgressWriter::append(&path).unwrap();
        let mut reader = ProgressReader::open(&path).unwrap();
        assert!(reader.read_events().is_empty());

        writer.write(&event(1, 1)).unwrap();
        writer.write(&event(1, 2)).unwrap();
        assert_eq!(reader.read_events(), vec![event(1, 1), event(1, 2)]);
        assert!(reader.read_events().is_empty(), "each event is read once");

        // A line still being written is held back until its line break comes.
        let mut line = serde_json::to_vec(&event(1, 3)).unwrap();
        line.push(b'\n');
        let (head, rest) = line.split_at(line.len() / 2);
        let mut raw = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        raw.write_all(head).unwrap();
        assert!(reader.read_events().is_empty());
        raw.write_all(rest).unwrap();
        assert_eq!(reader.read_events(), vec![event(1, 3)]);

        // A garbled line, a line of another shape and a blank line are skipped, not fatal.
        raw.write_all(b"{\"run\": \"lstm\", \"epo\n{\"run\":1}\n\nepoch 2/10 - 0.5s\n")
            .unwrap();
        writer.write(&event(2, 1)).unwrap();
        assert_eq!(reader.read_events(), vec![event(2, 1)]);

        // Values JSON cannot hold are sent as absent.
        let odd = ProgressEvent {
            loss: None,
            eta_s: None,
            ..event(2, 2)
        };
        writer.write(&odd).unwrap();
        assert_eq!(reader.read_events(), vec![odd]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fit_sends_events_only_when_due() {
        let dir = std::env::temp_dir().join(format!("seqlab-fit-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fit.progress.jsonl");
        let _ = std::fs::remove_file(&path);
        let mut progress = FitProgress::new(Verbosity::Silent, "rnn", 2);
        progress.channel = Some(ProgressWriter::append(&path).unwrap());
        for epoch in 1..=2 {
            progress.start_epoch(epoch, 100);
            for batch in 1..=100 {
                progress.batch_done(batch, f64::NAN);
            }
            progress.end_epoch();
        }
        let events = ProgressReader::open(&path).unwrap().read_events();
        // The first and last batch of each epoch at least; not every batch.
        assert!(events.len() >= 4 && events.len() < 200, "{}", events.len());
        let first = &events[0];
        assert_eq!(
            (first.run.as_str(), first.epoch, first.batch),
            ("rnn", 1, 1)
        );
        assert_eq!(first.loss, None, "a NaN loss is sent as absent");
        let last = events.last().unwrap();
        assert_eq!(
            (last.epoch, last.epochs, last.batch, last.batches),
            (2, 2, 100, 100)
        );
        assert_eq!(last.eta_s, Some(0.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
