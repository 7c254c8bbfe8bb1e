//! Datasets and batching for seqlab, with no dependency on tch.
//!
//! Everything here works on plain `Vec<f32>` storage plus a shape, so the
//! crate can feed any framework. Conversion to `tch::Tensor` lives in
//! `seqlab-train` (`seqlab_train::tensors`).
//!
//! - [`Array`]: a dense row-major `f32` array with a shape.
//! - [`Dataset`]: inputs plus targets (class labels or real values), with
//!   subsetting and splitting.
//! - [`batch`]: seeded per-epoch shuffling into mini-batches of indices.
//! - [`rng`]: the seeded random number generator every generator uses.
//!
//! Generated data sets (seeded, with encode and decode helpers):
//! - [`ab_order`]: the A/B-order sequence-to-one toy task (Flux blog post).
//! - [`temporal_order`]: Hochreiter & Schmidhuber's temporal-order task at
//!   five difficulties, as a fixed data set or the course's fresh batches.
//! - [`continuation`]: the seed-conditioned continuation (Flux forum).
//! - [`sine_pairs`]: encoder-decoder windows of three function pairs (Keras
//!   seq2seq post).
//!
//! Real data, read from files (errors are [`LoadError`]s naming the file):
//! - [`mnist`]: IDX files, raw or gzip-compressed; images as 28 rows of 28.
//! - [`imdb`]: the Large Movie Review Dataset, streamed from its `.tar.gz`
//!   or read from an extracted folder.
//! - [`text`]: tokenizer, frequency-ranked vocabulary, Keras' IMDb indexing
//!   and `pad_sequences`.
//! - [`datadir`]: the data directory (`--data-dir`, `SEQLAB_DATA_DIR`,
//!   `data/`) and checksummed downloads of missing files ([`fetch`],
//!   feature `download`).
//!
//! ```
//! use seqlab_data::ab_order;
//! let train = ab_order::generate(1000, 12, 7).unwrap();
//! assert_eq!(train.inputs().shape(), &[1000, 12, 5]);
//! let first = ab_order::decode(train.inputs().row(0)).unwrap();
//! let label = train.class_labels().unwrap()[0] as usize;
//! assert_eq!(ab_order::label_of(&first).unwrap(), label);
//! ```

#![warn(missing_docs)]

pub mod ab_order;
pub mod batch;
pub mod checksum;
pub mod continuation;
pub mod datadir;
mod dataset;
#[cfg(feature = "download")]
pub mod fetch;
pub mod imdb;
pub mod load_error;
pub mod mnist;
mod onehot;
pub mod rng;
pub mod sine_pairs;
pub mod split;
pub mod temporal_order;
pub mod text;

pub use load_error::LoadError;

/// The `rand` this crate is built on (0.8), re-exported for
/// [`rng::SeqRng`]: `use seqlab_data::rand::Rng;` gives `gen_range` and
/// friends without a `rand` dependency (and version pin) of your own.
pub use rand;

pub use dataset::{Array, Dataset, Targets};

/// Errors from building, generating or slicing data sets.
#[allow(missing_docs)] // variant fields are named for what they hold; each message says how
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DataError {
    /// The storage length does not match the product of the shape.
    #[error("array of shape {shape:?} needs {expected} values, got {actual}")]
    ShapeMismatch {
        shape: Vec<usize>,
        expected: usize,
        actual: usize,
    },
    /// Inputs and targets disagree on the number of samples.
    #[error("inputs hold {inputs} samples but targets hold {targets}")]
    CountMismatch { inputs: usize, targets: usize },
    /// An index outside the data set.
    #[error("sample index {index} is out of range for a data set of {len} samples")]
    IndexOutOfRange { index: usize, len: usize },
    /// A parameter outside its allowed range (the message says which).
    #[error("invalid {what}: {why}")]
    InvalidParameter { what: &'static str, why: String },
    /// A symbol that the task's alphabet does not contain.
    #[error("unknown symbol {symbol:?} at position {position} (alphabet: {alphabet})")]
    UnknownSymbol {
        symbol: char,
        position: usize,
        alphabet: &'static str,
    },
    /// A one-hot row that is not one-hot.
    #[error("row {position} is not a one-hot vector")]
    NotOneHot { position: usize },
    /// The operation needs class labels but the targets are real values (or the reverse).
    #[error("expected {expected} targets")]
    WrongTargets { expected: &'static str },
}
