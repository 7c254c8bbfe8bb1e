//! Where data files live, and how missing ones are fetched.
//!
//! The data directory is, in order of precedence: an explicit folder (the
//! `--data-dir` flag of the `seqlab` tool), the `SEQLAB_DATA_DIR`
//! environment variable, or `data/` in the current folder (the checkout's
//! `data/` when run from the repository root).
//!
//! A [`DataFile`] names a file, the other names under which an equivalent
//! copy is accepted, the canonical download URLs and the published checksum.
//! [`DataDir::fetch`] returns the first copy found in the data directory;
//! if there is none it downloads the file (feature `download`), verifying
//! the checksum and never keeping a file that fails it. If that fails too,
//! the error names the file, the folders searched, the URLs tried and the
//! expected checksum. Setting `SEQLAB_OFFLINE=1` disables downloads.
//!
//! ```no_run
//! use seqlab_data::datadir::{DataDir, IMDB_ARCHIVE};
//! let dir = DataDir::resolve(None);
//! let archive = dir.fetch(&IMDB_ARCHIVE).unwrap();
//! println!("IMDb reviews at {}", archive.display());
//! ```

use crate::load_error::Kind;
use std::path::{Path, PathBuf};

/// Environment variable naming the data directory.
pub const ENV_VAR: &str = "SEQLAB_DATA_DIR";
/// The default data directory, relative to the current folder.
pub const DEFAULT_DIR: &str = "data";
/// Environment variable that, set to anything but `0` or empty, disables downloads.
pub const OFFLINE_VAR: &str = "SEQLAB_OFFLINE";

/// True when downloads are disabled by [`OFFLINE_VAR`].
pub fn offline() -> bool {
    std::env::var(OFFLINE_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

pub use crate::checksum::Checksum;

/// A data file: where it goes, what else is accepted, where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFile<'a> {
    /// Path relative to the data directory where a download is stored.
    pub name: &'a str,
    /// Other relative paths accepted in its place (an uncompressed copy, an
    /// extracted folder, a re-packed archive with the same content).
    pub also: &'a [&'a str],
    /// Canonical download URLs, tried in order.
    pub urls: &'a [&'a str],
    /// The published checksum of the downloaded file.
    pub checksum: Checksum<'a>,
}

macro_rules! mnist_file {
    ($name:literal, $canonical:expr) => {
        DataFile {
            name: concat!("mnist/", $name, ".gz"),
            also: &[concat!("mnist/", $name), concat!($name, ".gz"), $name],
            urls: &[
                concat!(
                    "https://ossci-datasets.s3.amazonaws.com/mnist/",
                    $name,
                    ".gz"
                ),
                concat!("http://yann.lecun.com/exdb/mnist/", $name, ".gz"),
            ],
            checksum: Checksum::Md5($canonical.gz_md5),
        }
    };
}

/// The four MNIST files, in the order of [`crate::mnist::FILES`]; downloads
/// are checked against the md5 of the original site's `.gz` files.
pub const MNIST_FILES: [DataFile<'static>; 4] = [
    mnist_file!("train-images-idx3-ubyte", crate::mnist::TRAIN_IMAGES),
    mnist_file!("train-labels-idx1-ubyte", crate::mnist::TRAIN_LABELS),
    mnist_file!("t10k-images-idx3-ubyte", crate::mnist::TEST_IMAGES),
    mnist_file!("t10k-labels-idx1-ubyte", crate::mnist::TEST_LABELS),
];

/// The Large Movie Review Dataset v1.0 (Maas et al. 2011). The labelled-only
/// re-pack `aclImdb_labeled.tar.gz` and an extracted `aclImdb/` folder are
/// accepted in its place.
pub const IMDB_ARCHIVE: DataFile<'static> = DataFile {
    name: "aclImdb_v1.tar.gz",
    also: &["aclImdb_labeled.tar.gz", "aclImdb"],
    urls: &["https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"],
    checksum: Checksum::Md5("7c2ac02c03563afcf9b574c7e56c153a"),
};

/// How the data directory was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirSource {
    /// An explicit folder (`--data-dir`).
    Flag,
    /// The `SEQLAB_DATA_DIR` environment variable.
    Env,
    /// The default `data/`.
    Default,
}

/// A missing data file that could not be fetched: the details, boxed so
/// that `Result`s carrying it stay small.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "data file {} not found (looked for {} in {}); {}. Expected {} from {}. \
     Put the file in the data directory (set it with --data-dir or {ENV_VAR})",
    .0.name, .0.candidates, .0.searched, .0.reason, .0.checksum, .0.urls
)]
pub struct FetchError(pub Box<FetchDetails>);

/// What [`FetchError`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchDetails {
    /// The file's name.
    pub name: String,
    /// Every accepted name, comma-separated.
    pub candidates: String,
    /// The folder searched.
    pub searched: String,
    /// URLs, comma-separated.
    pub urls: String,
    /// The expected checksum.
    pub checksum: String,
    /// Why downloading did not help.
    pub reason: String,
}

/// The data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
    source: DirSource,
}

impl DataDir {
    /// `flag` if given, else `SEQLAB_DATA_DIR`, else `data/`.
    pub fn resolve(flag: Option<&Path>) -> Self {
        if let Some(dir) = flag {
            return Self {
                root: dir.to_path_buf(),
                source: DirSource::Flag,
            };
        }
        match std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) {
            Some(dir) => Self {
                root: PathBuf::from(dir),
                source: DirSource::Env,
            },
            None => Self {
                root: PathBuf::from(DEFAULT_DIR),
                source: DirSource::Default,
            },
        }
    }

    /// A data directory at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            source: DirSource::Flag,
        }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How it was chosen.
    pub fn source(&self) -> DirSource {
        self.source
    }

    /// The first existing copy of `file` (its name, then the accepted alternatives).
    pub fn locate(&self, file: &DataFile<'_>) -> Option<PathBuf> {
        std::iter::once(file.name)
            .chain(file.also.iter().copied())
            .map(|n| self.root.join(n))
            .find(|p| p.exists())
    }

    /// The file's path in the data directory, downloading it if no copy exists.
    ///
    /// A data directory that exists but is a file is
    /// [`crate::LoadError::WrongKind`], not a missing data file.
    pub fn fetch(&self, file: &DataFile<'_>) -> Result<PathBuf, DatasetError> {
        let expected = format!("a folder (the data directory, {})", self.how());
        if let Some(e) = crate::LoadError::wrong_kind(&self.root, Kind::Folder, expected) {
            return Err(e.into());
        }
        if let Some(path) = self.locate(file) {
            return Ok(path);
        }
        let dest = self.root.join(file.name);
        let reason = self.download(file, &dest);
        match reason {
            Ok(()) => Ok(dest),
            Err(reason) => Err(DatasetError::Fetch(FetchError(Box::new(FetchDetails {
                name: file.name.to_string(),
                candidates: std::iter::once(file.name)
                    .chain(file.also.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", "),
                searched: self.describe(),
                urls: file.urls.join(", "),
                checksum: file.checksum.to_string(),
                reason,
            })))),
        }
    }

    fn how(&self) -> &'static str {
        match self.source {
            DirSource::Flag => "given with --data-dir",
            DirSource::Env => "from SEQLAB_DATA_DIR",
            DirSource::Default => "the default data directory",
        }
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.root.display(), self.how())
    }

    #[cfg(feature = "download")]
    fn download(&self, file: &DataFile<'_>, dest: &Path) -> Result<(), String> {
        if offline() {
            return Err(format!("downloads are disabled ({OFFLINE_VAR} is set)"));
        }
        let mut failures = Vec::new();
        for url in file.urls {
            match crate::fetch::download(url, dest, &file.checksum) {
                Ok(_) => return Ok(()),
                Err(e) => failures.push(e.to_string()),
            }
        }
        if failures.is_empty() {
            return Err("no download URL is known".into());
        }
        Err(format!("downloading failed: {}", failures.join("; ")))
    }

    #[cfg(not(feature = "download"))]
    fn download(&self, _file: &DataFile<'_>, _dest: &Path) -> Result<(), String> {
        Err("this build has no download support (feature `download` is off)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("seqlab-datadir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn flag_wins_over_environment_and_default() {
        let d = DataDir::resolve(Some(Path::new("/somewhere")));
        assert_eq!(
            (d.root(), d.source()),
            (Path::new("/somewhere"), DirSource::Flag)
        );
        // The environment is process-global; only check the default when it is unset.
        if std::env::var_os(ENV_VAR).is_none() {
            let d = DataDir::resolve(None);
            assert_eq!(
                (d.root(), d.source()),
                (Path::new("data"), DirSource::Default)
            );
        }
    }

    #[test]
    fn mnist_files_match_the_canonical_names() {
        for (file, canonical) in MNIST_FILES.iter().zip(crate::mnist::FILES) {
            assert_eq!(file.name, format!("mnist/{}.gz", canonical.name));
            assert!(file
                .urls
                .iter()
                .all(|u| u.ends_with(&format!("/{}.gz", canonical.name))));
            assert_eq!(file.checksum, Checksum::Md5(canonical.gz_md5));
        }
    }

    #[test]
    fn locate_prefers_the_name_then_alternatives() {
        let root = scratch("locate");
        let dir = DataDir::at(&root);
        let f = MNIST_FILES[1];
        assert_eq!(dir.locate(&f), None);
        std::fs::write(root.join("train-labels-idx1-ubyte"), b"x").unwrap();
        assert_eq!(dir.locate(&f), Some(root.join("train-labels-idx1-ubyte")));
        std::fs::create_dir_all(root.join("mnist")).unwrap();
        std::fs::write(root.join("mnist/train-labels-idx1-ubyte.gz"), b"x").unwrap();
        assert_eq!(
            dir.locate(&f),
            Some(root.join("mnist/train-labels-idx1-ubyte.gz"))
        );
        std::fs::create_dir_all(root.join("aclImdb")).unwrap();
        assert_eq!(dir.fetch(&IMDB_ARCHIVE).ok(), Some(root.join("aclImdb")));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_data_directory_that_is_a_file_is_named_as_a_file() {
        let root = scratch("is-a-file");
        let file = root.join("data");
        std::fs::write(&file, b"x").unwrap();
        let err = DataDir::at(&file).fetch(&IMDB_ARCHIVE).unwrap_err();
        assert!(
            matches!(
                &err,
                DatasetError::Load(crate::LoadError::WrongKind {
                    found: "a file",
                    ..
                })
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}: a file, not a folder (the data directory, given with --data-dir)",
                file.display()
            )
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn missing_file_error_names_file_folder_urls_and_checksum() {
        let root = scratch("missing");
        let file = DataFile {
            name: "x.bin",
            also: &["y.bin"],
            urls: &[],
            checksum: Checksum::Sha256("abcd"),
        };
        let err = DataDir::at(&root).fetch(&file).unwrap_err().to_string();
        for needle in [
            "x.bin",
            "y.bin",
            root.to_str().unwrap(),
            "sha256:abcd",
            "--data-dir",
            "SEQLAB_DATA_DIR",
        ] {
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }
}

/// A data set that could not be fetched or loaded.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file is missing and could not be downloaded.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A file is present but could not be read.
    #[error(transparent)]
    Load(#[from] crate::LoadError),
}

impl DataDir {
    /// One MNIST split, fetching its two files if needed (into `mnist/`).
    pub fn mnist(&self, split: crate::mnist::Split) -> Result<crate::mnist::Mnist, DatasetError> {
        let files = match split {
            crate::mnist::Split::Train => &MNIST_FILES[0..2],
            crate::mnist::Split::Test => &MNIST_FILES[2..4],
        };
        for file in files {
            self.fetch(file)?;
        }
        Ok(crate::mnist::load_split(&self.root, split)?)
    }

    /// The labelled IMDb reviews, fetching the archive if needed.
    pub fn imdb(&self) -> Result<crate::imdb::Imdb, DatasetError> {
        let path = self.fetch(&IMDB_ARCHIVE)?;
        Ok(crate::imdb::load(&path)?)
    }
}
