//! The error type of the file loaders ([`crate::mnist`], [`crate::imdb`],
//! [`crate::text`] vocabulary files).
//!
//! See [`LoadError`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Errors from reading and checking data files.
///
/// Every variant names the file it is about (and the archive entry when there
/// is one) and says what is wrong with it, so the message alone is enough to
/// find the problem:
///
/// ```
/// use seqlab_data::{mnist, LoadError};
/// use std::path::Path;
/// let err = mnist::parse_idx_labels(&[0, 0, 8, 3, 0, 0, 0, 0], Path::new("labels.idx")).unwrap_err();
/// assert!(matches!(err, LoadError::BadMagic { expected: 0x801, found: 0x803, .. }));
/// assert_eq!(
///     err.to_string(),
///     "labels.idx: wrong magic number: expected 0x00000801, found 0x00000803"
/// );
/// ```
///
/// Sizes are byte counts. `entry` fields hold the path of an entry inside an
/// archive (`None` when the file is not an archive).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// None of the candidate file names exist.
    #[error("{what} not found; tried: {}", list_paths(tried))]
    MissingFile {
        /// What was looked for, e.g. "MNIST train images".
        what: String,
        /// Every path that was tried, in order.
        tried: Vec<PathBuf>,
    },
    /// A path exists but is the wrong kind of thing (a folder where a file
    /// is expected, or a file where a folder is).
    #[error("{}: {found}, not {expected}", path.display())]
    WrongKind {
        /// The path.
        path: PathBuf,
        /// What was expected here, e.g. "a file (MNIST file train-images-idx3-ubyte)".
        expected: String,
        /// What is there: "a folder", "a file" or "neither a file nor a folder".
        found: &'static str,
    },
    /// The file holds no bytes at all (an interrupted download or copy).
    #[error("{}: the file is empty (0 bytes); an interrupted download or copy? Replace it with a complete copy", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A file on disk is larger than anything of its kind may be, so it is
    /// not read at all (a stray or hostile file, not part of the data set).
    #[error("{}: {size} bytes, more than {limit}, {why}; not read (a stray or hostile file, not the data set)", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The most bytes accepted.
        limit: u64,
        /// Where the limit comes from.
        why: String,
    },
    /// The operating system could not read (or write) the file.
    #[error("{}{}: I/O error: {source}", path.display(), at(entry))]
    Io {
        /// The file.
        path: PathBuf,
        /// The archive entry being read, if any.
        entry: Option<String>,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the expected magic number.
    #[error("{}: wrong magic number: expected 0x{expected:08x}, found 0x{found:08x}", path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number of the expected format.
        expected: u32,
        /// The first four bytes, big-endian.
        found: u32,
    },
    /// The file ends before its header or data does.
    #[error("{}: truncated {part}: expected {expected} bytes, found {actual}", path.display())]
    Truncated {
        /// The file (decompressed content when it was gzip-compressed).
        path: PathBuf,
        /// "header" or "data".
        part: &'static str,
        /// Bytes the header says the file must hold (saturated at `u64::MAX`).
        expected: u64,
        /// Bytes it holds.
        actual: u64,
    },
    /// The file holds more bytes than its header accounts for.
    #[error("{}: {} unexpected trailing bytes: expected {expected} bytes, found {actual}", path.display(), actual.saturating_sub(*expected))]
    TrailingData {
        /// The file (decompressed content when it was gzip-compressed).
        path: PathBuf,
        /// Bytes the header accounts for.
        expected: u64,
        /// Bytes it holds.
        actual: u64,
    },
    /// Decompressing would produce more than the format allows; it was
    /// stopped there, before holding the rest in memory.
    #[error("{}{}: decompresses to more than {limit} bytes, {why}; stopped there (a corrupt or hostile file, not the data set)", path.display(), at(entry))]
    InflatesTooFar {
        /// The file.
        path: PathBuf,
        /// Archive entry, if the file is an archive.
        entry: Option<String>,
        /// The most bytes accepted.
        limit: u64,
        /// Where the limit comes from.
        why: String,
    },
    /// A data set holds more than any real copy of it does (too many
    /// entries, reviews or bytes in all); reading stopped there, before
    /// holding the rest in memory.
    #[error("{}{}: more than {limit} {what}, {why}; stopped there (a corrupt or hostile file, not the data set)", path.display(), at(entry))]
    TooMuch {
        /// The archive or folder.
        path: PathBuf,
        /// The entry (or file) that went past the limit.
        entry: Option<String>,
        /// What is counted, e.g. "bytes of reviews".
        what: &'static str,
        /// The most accepted.
        limit: u64,
        /// Where the limit comes from.
        why: &'static str,
    },
    /// The gzip stream cannot be decompressed (bad header, bad data, bad CRC, cut short).
    #[error("{}{}: corrupt gzip data: {reason}", path.display(), at(entry))]
    CorruptGzip {
        /// The compressed file.
        path: PathBuf,
        /// The archive entry being read when the stream broke, if any.
        entry: Option<String>,
        /// What the decompressor reported.
        reason: String,
    },
    /// The tar archive is malformed (bad header, entry cut short).
    #[error("{}{}: corrupt tar archive: {reason}", path.display(), at(entry))]
    CorruptArchive {
        /// The archive.
        path: PathBuf,
        /// The entry being read, if any.
        entry: Option<String>,
        /// What the tar reader reported.
        reason: String,
    },
    /// The data has other dimensions than the format requires (e.g. images not 28x28).
    #[error("{}: wrong dimensions: expected {expected}, found {found}", path.display())]
    DimensionMismatch {
        /// The file.
        path: PathBuf,
        /// The required dimensions, e.g. "28x28".
        expected: String,
        /// The dimensions in the file.
        found: String,
    },
    /// A class label outside the allowed range.
    #[error("{}: label {label} of record {index} is outside 0..={max}", path.display())]
    InvalidLabel {
        /// The label file.
        path: PathBuf,
        /// Record number (0-based).
        index: usize,
        /// The label found.
        label: u8,
        /// The largest allowed label.
        max: u8,
    },
    /// The image file and the label file hold different numbers of records.
    #[error("{} holds {n_images} images but {} holds {n_labels} labels", images.display(), labels.display())]
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// Records in the image file.
        n_images: usize,
        /// The label file.
        labels: PathBuf,
        /// Records in the label file.
        n_labels: usize,
    },
    /// The archive or folder lacks folders the data set needs.
    #[error("{}: missing folders: {}", path.display(), missing.join(", "))]
    MissingFolders {
        /// The archive or folder.
        path: PathBuf,
        /// Each missing folder, e.g. "aclImdb/test/neg".
        missing: Vec<String>,
    },
    /// A file whose name does not follow the data set's naming scheme.
    #[error("{}: bad entry name {entry:?}: {why}", path.display())]
    BadEntryName {
        /// The archive or folder.
        path: PathBuf,
        /// The entry (archive path or file path).
        entry: String,
        /// What is wrong with it.
        why: String,
    },
    /// Two entries describe the same record.
    #[error("{}: duplicate entries {first:?} and {second:?}", path.display())]
    DuplicateEntry {
        /// The archive or folder.
        path: PathBuf,
        /// One entry.
        first: String,
        /// The other.
        second: String,
    },
    /// Text that is not valid UTF-8.
    #[error("{}{}: not valid UTF-8 (first invalid byte at offset {valid_up_to})", path.display(), at(entry))]
    NotUtf8 {
        /// The file or archive.
        path: PathBuf,
        /// The archive entry, if any.
        entry: Option<String>,
        /// Length of the valid prefix in bytes.
        valid_up_to: usize,
    },
    /// A data set (or part of one) without any records.
    #[error("{}: empty data set: no {what}", path.display())]
    Empty {
        /// The file, archive or folder.
        path: PathBuf,
        /// What is missing, e.g. "reviews in aclImdb/train/pos".
        what: String,
    },
    /// The file content does not have the canonical checksum.
    #[error("{}: {algorithm} checksum mismatch: expected {expected}, found {actual}", path.display())]
    Checksum {
        /// The file.
        path: PathBuf,
        /// "md5" or "sha256".
        algorithm: &'static str,
        /// The canonical checksum (lowercase hex).
        expected: String,
        /// The checksum of the file (lowercase hex).
        actual: String,
    },
    /// A line of a text file that does not have the expected format.
    #[error("{}: line {line}: {why}", path.display())]
    BadLine {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// Writing a file (atomically) failed.
    #[error(transparent)]
    Write(#[from] seqlab_io::IoError),
}

/// What a path is expected to be (see [`LoadError::WrongKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file.
    File,
    /// A folder.
    Folder,
}

impl LoadError {
    /// The error for `path` when it exists but is not the `want`ed kind
    /// (`expected` says what belongs there); `None` when it is that kind or
    /// does not exist at all.
    pub(crate) fn wrong_kind(path: &Path, want: Kind, expected: impl Into<String>) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        let found = match (meta.is_dir(), meta.is_file()) {
            (true, _) if want == Kind::Folder => return None,
            (_, true) if want == Kind::File => return None,
            (true, _) => "a folder",
            (_, true) => "a file",
            _ => "neither a file nor a folder",
        };
        Some(LoadError::WrongKind {
            path: path.to_path_buf(),
            expected: expected.into(),
            found,
        })
    }

    /// Reads the whole file `what` (e.g. "vocabulary file") at `path`: a
    /// missing file is [`LoadError::MissingFile`], a folder in its place
    /// [`LoadError::WrongKind`], anything else [`LoadError::Io`].
    pub(crate) fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, LoadError> {
        std::fs::read(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                LoadError::MissingFile {
                    what: what.to_string(),
                    tried: vec![path.to_path_buf()],
                }
            } else {
                Self::wrong_kind(path, Kind::File, format!("a file ({what})"))
                    .unwrap_or_else(|| LoadError::io(path, e))
            }
        })
    }

    /// An I/O error on a plain file.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        LoadError::Io {
            path: path.to_path_buf(),
            entry: None,
            source,
        }
    }
}

/// `s` with every control character (ESC, BEL, carriage return, ...) but
/// line feed and tab written as an escape (`\u{1b}`), so that text taken
/// from a file (an archive's entry names, a tar reader's message quoting
/// them) cannot move the cursor or recolour a terminal when printed.
///
/// ```
/// assert_eq!(seqlab_data::load_error::printable("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\n");
/// ```
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn at(entry: &Option<String>) -> String {
    match entry {
        Some(e) => format!(" (entry {e:?})"),
        None => String::new(),
    }
}

fn list_paths(paths: &[PathBuf]) -> String {
    let mut s = String::new();
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{}", p.display());
    }
    if s.is_empty() {
        s.push_str("(nothing)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_entry() {
        let e = LoadError::MissingFile {
            what: "MNIST train images".into(),
            tried: vec!["a/x".into(), "a/x.gz".into()],
        };
        assert_eq!(
            e.to_string(),
            "MNIST train images not found; tried: a/x, a/x.gz"
        );
        let e = LoadError::NotUtf8 {
            path: "d.tar.gz".into(),
            entry: Some("aclImdb/train/pos/1_9.txt".into()),
            valid_up_to: 5,
        };
        assert_eq!(
            e.to_string(),
            "d.tar.gz (entry \"aclImdb/train/pos/1_9.txt\"): not valid UTF-8 (first invalid byte at offset 5)"
        );
        let e = LoadError::TrailingData {
            path: "f".into(),
            expected: 10,
            actual: 12,
        };
        assert_eq!(
            e.to_string(),
            "f: 2 unexpected trailing bytes: expected 10 bytes, found 12"
        );
    }
}
