//! Atomic file output for seqlab.
//!
//! Every result file seqlab writes (PNG, CSV, JSON, safetensors) goes through
//! this crate: the content is written to a hidden temporary file in the same
//! folder, flushed to disk, and renamed over the destination. A reader, or a
//! run that is interrupted half-way, therefore sees either the old file, the
//! complete new file, or nothing; never a truncated file.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("seqlab-io-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("metrics.json");
//! seqlab_io::write_atomic(&path, b"{\"accuracy\": 1.0}").unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"{\"accuracy\": 1.0}");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

#![warn(missing_docs)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of the temporary files [`write_atomic_with`] creates. Files whose
/// name starts with it are leftovers of an interrupted write and may be
/// deleted (see [`remove_stale_temp_files`]).
pub const TEMP_PREFIX: &str = ".seqlab-tmp-";

/// Errors from atomic writes.
#[allow(missing_docs)] // variant fields are named for what they hold; each message says how
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The destination path has no file name (for example `/` or `..`).
    #[error("cannot write {path}: the path has no file name")]
    NoFileName { path: PathBuf },
    /// Creating the destination's folder failed.
    #[error("cannot create folder {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing or syncing the temporary file failed.
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The producer callback failed; nothing was written at the destination.
    #[error("cannot write {path}: {message}")]
    Producer { path: PathBuf, message: String },
    /// The producer returned without creating the temporary file.
    #[error("cannot write {path}: the producer wrote no file")]
    NothingWritten { path: PathBuf },
    /// Renaming the finished temporary file over the destination failed.
    #[error("cannot move the finished file into place at {path}")]
    Rename {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The temporary path used while writing `path`: same folder, hidden name,
/// same extension (libraries such as tch pick the format from it).
pub fn temp_path_for(path: &Path) -> Result<PathBuf, IoError> {
    let name = path.file_name().ok_or_else(|| IoError::NoFileName {
        path: path.to_path_buf(),
    })?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = format!("{TEMP_PREFIX}{}-{n}-", std::process::id());
    tmp_name.push_str(&name.to_string_lossy());
    Ok(path.with_file_name(tmp_name))
}

fn ensure_parent(path: &Path) -> Result<(), IoError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            fs::create_dir_all(parent).map_err(|source| IoError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })
        }
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically, creating the parent folder if needed.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), IoError> {
    let path = path.as_ref();
    write_atomic_with(path, |tmp| {
        let mut file = fs::File::create(tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })
}

/// Writes `path` atomically through a producer that writes a file itself.
///
/// `produce` receives a temporary path in the destination's folder (with the
/// destination's extension) and must create the complete file there. On
/// success the temporary file is synced and renamed to `path`; on any error
/// it is removed and `path` is left untouched.
pub fn write_atomic_with<E: std::fmt::Display>(
    path: impl AsRef<Path>,
    produce: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    ensure_parent(path)?;
    let tmp = temp_path_for(path)?;
    let cleanup = |e: IoError| {
        let _ = fs::remove_file(&tmp);
        e
    };
    if let Err(e) = produce(&tmp) {
        return Err(cleanup(IoError::Producer {
            path: path.to_path_buf(),
            message: e.to_string(),
        }));
    }
    match fs::File::open(&tmp) {
        Ok(f) => f.sync_all().map_err(|source| {
            cleanup(IoError::Write {
                path: path.to_path_buf(),
                source,
            })
        })?,
        Err(_) => {
            return Err(cleanup(IoError::NothingWritten {
                path: path.to_path_buf(),
            }))
        }
    }
    fs::rename(&tmp, path).map_err(|source| {
        cleanup(IoError::Rename {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// Removes leftovers of interrupted atomic writes (files named
/// `TEMP_PREFIX…`) directly inside `dir`. Returns how many were removed.
/// A missing folder counts as clean.
pub fn remove_stale_temp_files(dir: impl AsRef<Path>) -> std::io::Result<usize> {
    let dir = dir.as_ref();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX)
            && entry.file_type()?.is_file()
        {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("seqlab-io-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn writes_creates_parent_and_leaves_no_temp() {
        let dir = scratch("write");
        let path = dir.join("sub").join("a.csv");
        write_atomic(&path, b"x,y\n1,2\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "x,y\n1,2\n");
        let names: Vec<_> = fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.csv")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failed_producer_keeps_old_file_and_removes_temp() {
        let dir = scratch("fail");
        let path = dir.join("plot.png");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |tmp| {
            fs::write(tmp, b"half").unwrap();
            Err("draw failed")
        })
        .unwrap_err();
        assert!(err.to_string().contains("plot.png"), "{err}");
        assert!(err.to_string().contains("draw failed"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temp_path_keeps_extension_and_folder() {
        let tmp = temp_path_for(Path::new("out/model.safetensors")).unwrap();
        assert_eq!(tmp.parent().unwrap(), Path::new("out"));
        assert_eq!(tmp.extension().unwrap(), "safetensors");
        assert!(tmp
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(TEMP_PREFIX));
        assert!(temp_path_for(Path::new("/")).is_err());
    }

    #[test]
    fn producer_that_writes_nothing_is_an_error() {
        let dir = scratch("nothing");
        let path = dir.join("x.json");
        let err = write_atomic_with(&path, |_| Ok::<(), String>(())).unwrap_err();
        assert!(matches!(err, IoError::NothingWritten { .. }));
        assert!(!path.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stale_temp_files_are_removed() {
        let dir = scratch("stale");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(format!("{TEMP_PREFIX}1-0-a.png")), b"").unwrap();
        fs::write(dir.join("keep.png"), b"").unwrap();
        assert_eq!(remove_stale_temp_files(&dir).unwrap(), 1);
        assert!(dir.join("keep.png").exists());
        assert_eq!(remove_stale_temp_files(dir.join("missing")).unwrap(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
