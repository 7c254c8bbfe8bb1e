//! The crate's error type, and how the binary prints an error with its causes.

use std::path::PathBuf;

/// Errors from running an experiment.
#[allow(missing_docs)] // variant fields are named for what they hold; each message says how
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// No experiment has this name.
    #[error("unknown experiment {name:?}; available: {available}")]
    Unknown { name: String, available: String },
    /// Invalid options.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] seqlab_train::TrainError),
    /// Building a model failed.
    #[error(transparent)]
    Model(#[from] seqlab_models::ModelError),
    /// Generating or loading data failed.
    #[error(transparent)]
    Data(#[from] seqlab_data::DataError),
    /// A data set could not be fetched or loaded.
    #[error(transparent)]
    Dataset(#[from] seqlab_data::datadir::DatasetError),
    /// Computing a metric failed.
    #[error(transparent)]
    Metrics(#[from] seqlab_metrics::MetricsError),
    /// Drawing a plot failed.
    #[error(transparent)]
    Plot(#[from] seqlab_plot::PlotError),
    /// Writing a result file failed.
    #[error(transparent)]
    Io(#[from] seqlab_io::IoError),
    /// libtorch refused an operation.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
    /// No trained model has been saved for an experiment yet.
    #[error("no trained model for {experiment}: {} does not exist; train one first with `seqlab run {experiment} --results-dir {}`", path.display(), results_dir.display())]
    NoTrainedModel {
        path: PathBuf,
        experiment: String,
        results_dir: PathBuf,
    },
    /// A saved model file is unreadable or inconsistent.
    #[error("{}: {message}", path.display())]
    Saved { path: PathBuf, message: String },
    /// Preparing the results folder failed.
    #[error("cannot prepare results folder {path}")]
    ResultsDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A result could not be turned into JSON.
    #[error("cannot serialise {what}: {message}")]
    Serialise { what: String, message: String },
    /// Reading a file or listing a folder of results failed.
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One line for an error and its causes, as the `seqlab` binary prints it:
/// the messages joined by ": ", leaving out a cause whose text the line
/// already holds (an I/O error's "(os error 2)" quoted by the error that
/// wraps it is printed once), with control characters escaped (see
/// [`seqlab_data::load_error::printable`]) so that text read from a file
/// cannot drive the terminal.
pub fn error_line<I, S>(messages: I) -> String
where
    I: IntoIterator<Item = S>,
    S: std::fmt::Display,
{
    let mut line = String::new();
    for m in messages {
        let m = m.to_string();
        if m.is_empty() || line.contains(&m) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&m);
    }
    seqlab_data::load_error::printable(&line).into_owned()
}

#[cfg(test)]
mod error_line_tests {
    #[test]
    fn a_quoted_cause_is_printed_once_and_control_bytes_are_escaped() {
        let io = "No such file or directory (os error 2)";
        let outer = format!("r/vocabulary.tsv: I/O error: {io}");
        assert_eq!(
            super::error_line([outer.as_str(), io]),
            "r/vocabulary.tsv: I/O error: No such file or directory (os error 2)"
        );
        assert_eq!(super::error_line(["a", "b"]), "a: b");
        assert_eq!(
            super::error_line(["bad entry \u{1b}[31mred"]),
            "bad entry \\u{1b}[31mred"
        );
    }
}
