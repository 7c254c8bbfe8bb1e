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

/// Prefix of the temporary files [`write_atomic_with`] creates (and of
/// [`StagingDir`]'s folders). Those whose process is certainly gone are
/// leftovers of an interrupted write and may be deleted (see
/// [`remove_stale_temp_files`]).
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
    /// Another live process holds the folder's lock.
    #[error("{path} is being written by another run ({holder}); wait for it to finish, or write elsewhere with --results-dir")]
    Locked { path: PathBuf, holder: String },
    /// The lock file could not be created or locked.
    #[error("cannot lock {path}")]
    Lock {
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
    let mut tmp_name = format!("{TEMP_PREFIX}{}-{n}-", Owner::me().tag());
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
/// it is removed and `path` is left untouched. Temporaries of `path` left
/// by a killed process (see [`remove_stale_temp_files`]) are removed first.
pub fn write_atomic_with<E: std::fmt::Display>(
    path: impl AsRef<Path>,
    produce: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    ensure_parent(path)?;
    let tmp = temp_path_for(path)?;
    // Earlier attempts at this file whose process was killed (a summary
    // written into a folder no run prepares): best effort, never an error.
    if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let _ = remove_stale(parent, Some(&name.to_string_lossy()));
    }
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

/// Leftovers of another machine (or of an older seqlab whose temporaries do
/// not say which machine made them) are removed only once they are this old:
/// their process cannot be asked whether it still runs, and no seqlab run
/// leaves its temporaries untouched for a week.
pub const FOREIGN_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// This process as temporary names record it: the machine (a hash of the
/// host name, the boot id and the PID namespace, so that a copy of the
/// same pid on another node, after a reboot, or in another container
/// differs), the process id, and the process's start time (clock ticks
/// since boot, so that a later process that reuses the pid differs).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    machine: String,
    pid: u32,
    start: u64,
}

/// What is known about this machine.
#[derive(Debug)]
struct Machine {
    /// `m` and 16 hex digits.
    token: String,
    /// The host name and boot id, for the lock file's holder line.
    description: String,
    /// Whether `/proc` shows this process's PID namespace, so that the
    /// processes of same-machine temporaries can be looked up there.
    can_judge: bool,
    /// This process's start time (0 where unknown).
    start: u64,
}

fn read_trimmed(path: &str) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Field 22 of `/proc/<pid>/stat`: the start time in clock ticks since boot.
fn start_time(pid: &str) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn machine() -> &'static Machine {
    static MACHINE: std::sync::OnceLock<Machine> = std::sync::OnceLock::new();
    MACHINE.get_or_init(|| {
        let host = read_trimmed("/proc/sys/kernel/hostname")
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "unknown-host".into());
        let boot = read_trimmed("/proc/sys/kernel/random/boot_id");
        let pidns = fs::read_link("/proc/self/ns/pid")
            .ok()
            .map(|p| p.to_string_lossy().into_owned());
        // /proc/self names this process as the mounted /proc's namespace sees it.
        let proc_is_ours = fs::read_link("/proc/self")
            .is_ok_and(|p| p.as_os_str() == std::process::id().to_string().as_str());
        let start = start_time("self").unwrap_or(0);
        let key = format!(
            "{host}\0{}\0{}",
            boot.as_deref().unwrap_or(""),
            pidns.as_deref().unwrap_or("")
        );
        Machine {
            token: format!("m{:016x}", fnv1a(key.as_bytes())),
            description: format!("{host}, boot {}", boot.as_deref().unwrap_or("unknown")),
            can_judge: boot.is_some() && pidns.is_some() && proc_is_ours && start > 0,
            start,
        }
    })
}

impl Owner {
    fn me() -> Self {
        Self {
            machine: machine().token.clone(),
            pid: std::process::id(),
            start: machine().start,
        }
    }

    /// The name fields: `m<hash>-<pid>-<start>`.
    fn tag(&self) -> String {
        format!("{}-{}-{}", self.machine, self.pid, self.start)
    }

    /// Whether the process is certainly gone: same machine, and no process
    /// with this pid, or one that started at another time (a reused pid).
    fn certainly_dead(&self) -> bool {
        let here = machine();
        if !here.can_judge || self.machine != here.token {
            return false;
        }
        if *self == Self::me() {
            return false;
        }
        match start_time(&self.pid.to_string()) {
            Some(start) => start != self.start,
            // No /proc entry: the process is gone unless the kernel says it exists
            // (a /proc mounted with hidepid hides other users' processes).
            None => !process_exists(self.pid),
        }
    }
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_exists(_: u32) -> bool {
    true
}

/// A temporary's name split into its maker (`None` for the names of older
/// seqlab versions, `<pid>-<n>-<file>`, which do not say which machine made
/// them) and the file it was to become; `None` for other names.
fn parse_temp(name: &str) -> Option<(Option<Owner>, &str)> {
    let rest = name.strip_prefix(TEMP_PREFIX)?;
    if rest.starts_with('m') {
        let mut f = rest.splitn(5, '-');
        let (machine, pid, start, n, file) =
            (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
        n.parse::<u64>().ok()?;
        let owner = Owner {
            machine: machine.to_string(),
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        };
        return Some((Some(owner), file));
    }
    let mut f = rest.splitn(3, '-');
    let (pid, n, file) = (f.next()?, f.next()?, f.next()?);
    pid.parse::<u32>().ok()?;
    n.parse::<u64>().ok()?;
    Some((None, file))
}

/// The newest modification time of `path` and (for a folder) the entries
/// directly inside it.
fn newest_change(path: &Path) -> Option<std::time::SystemTime> {
    let meta = fs::symlink_metadata(path).ok()?;
    let mut newest = meta.modified().ok()?;
    if meta.is_dir() {
        for entry in fs::read_dir(path).ok()?.flatten() {
            if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(t);
            }
        }
    }
    Some(newest)
}

/// Whether the temporary at `path`, made by `owner`, is certainly a leftover.
fn is_stale(path: &Path, owner: Option<&Owner>) -> bool {
    if owner.is_some_and(Owner::certainly_dead) {
        return true;
    }
    if owner.is_some_and(|o| o.machine == machine().token && machine().can_judge) {
        // A process of this machine that is still running.
        return false;
    }
    newest_change(path)
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > FOREIGN_STALE_AFTER)
}

/// Removes leftovers of interrupted atomic writes and of interrupted staging
/// folders (entries named `TEMP_PREFIX…`) directly inside `dir`, keeping
/// every one whose process may still be running. Returns how many were
/// removed. A missing folder counts as clean.
///
/// A temporary's name records its machine (host, boot and PID namespace)
/// and its process (pid and start time). One of this machine is removed
/// when no process with its pid runs, or the one that does started at
/// another time (the pid was reused). One of another machine (a node
/// sharing the folder over a network file system, another container) or
/// of an older seqlab (names without the machine) is removed only once
/// nothing in it changed for [`FOREIGN_STALE_AFTER`]: its process cannot
/// be asked.
pub fn remove_stale_temp_files(dir: impl AsRef<Path>) -> std::io::Result<usize> {
    remove_stale(dir.as_ref(), None)
}

/// [`remove_stale_temp_files`] limited to the temporaries of one file name
/// (`only`), or all of them.
fn remove_stale(dir: &Path, only: Option<&str>) -> std::io::Result<usize> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((owner, file)) = parse_temp(&name) else {
            continue;
        };
        if only.is_some_and(|only| only != file) || !is_stale(&entry.path(), owner.as_ref()) {
            continue;
        }
        let gone = if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())
        } else {
            fs::remove_file(entry.path())
        };
        match gone {
            Ok(()) => removed += 1,
            // Another run removed it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

/// An advisory lock on a folder that a run writes, held until dropped: a
/// second run that asks for the same folder gets [`IoError::Locked`],
/// which names the holder (process id, host and boot, command line). The lock is the
/// kernel's (`flock`) on a hidden file beside the folder
/// (`.<name>.lock`), so it ends with its process, however that ends.
#[derive(Debug)]
pub struct DirLock {
    _file: fs::File,
    path: PathBuf,
}

impl DirLock {
    /// Locks `dest` (a folder, which need not exist yet) for this process.
    pub fn acquire(dest: impl AsRef<Path>) -> Result<Self, IoError> {
        Self::acquire_mode(dest.as_ref(), false)
    }

    /// Locks `dest` shared: any number of shared holders at once (the
    /// writers of folders nested in `dest`), but no exclusive one
    /// ([`DirLock::acquire`]: a writer of `dest` as a whole).
    pub fn acquire_shared(dest: impl AsRef<Path>) -> Result<Self, IoError> {
        Self::acquire_mode(dest.as_ref(), true)
    }

    fn acquire_mode(dest: &Path, shared: bool) -> Result<Self, IoError> {
        ensure_parent(dest)?;
        let name = dest.file_name().ok_or_else(|| IoError::NoFileName {
            path: dest.to_path_buf(),
        })?;
        let path = dest.with_file_name(format!(".{}.lock", name.to_string_lossy()));
        let lock_err = |source| IoError::Lock {
            path: path.clone(),
            source,
        };
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(lock_err)?;
        if !try_lock(&file, shared).map_err(lock_err)? {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            return Err(IoError::Locked {
                path: dest.to_path_buf(),
                holder: if holder.is_empty() {
                    "a process that has not said who it is yet".into()
                } else {
                    holder.to_string()
                },
            });
        }
        // args_os: a path argument need not be UTF-8 (args() would panic).
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let me = format!(
            "process {} on {}: {}",
            std::process::id(),
            machine().description,
            args.join(" ")
        );
        file.set_len(0).map_err(lock_err)?;
        file.write_all(me.as_bytes()).map_err(lock_err)?;
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn try_lock(file: &fs::File, shared: bool) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    let mode = if shared { libc::LOCK_SH } else { libc::LOCK_EX };
    // SAFETY: flock on a file descriptor this process owns; no memory is shared.
    let rc = unsafe { libc::flock(file.as_raw_fd(), mode | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

#[cfg(not(unix))]
fn try_lock(_: &fs::File, _: bool) -> std::io::Result<bool> {
    Ok(true)
}

/// A folder that is filled first and then put in place whole: a reader of
/// the final path sees the previous folder or the complete new one, never a
/// mix of the two.
///
/// [`StagingDir::new`] creates a hidden sibling of the destination
/// (`TEMP_PREFIX<machine>-<pid>-<start>-<n>-<name>`, see
/// [`remove_stale_temp_files`]); [`StagingDir::commit`] swaps it with the
/// destination in one atomic step (`renameat2(RENAME_EXCHANGE)` on Linux;
/// elsewhere, or where the file system refuses the exchange, two renames with
/// a moment in between where the destination is absent) and then deletes the
/// previous folder. Dropped without a commit, it removes itself.
///
/// ```
/// let root = std::env::temp_dir().join(format!("seqlab-io-stage-doc-{}", std::process::id()));
/// let dest = root.join("run");
/// let stage = seqlab_io::StagingDir::new(&dest).unwrap();
/// std::fs::write(stage.path().join("metrics.json"), b"{}").unwrap();
/// stage.commit().unwrap();
/// assert!(dest.join("metrics.json").is_file());
/// # std::fs::remove_dir_all(&root).unwrap();
/// ```
#[derive(Debug)]
pub struct StagingDir {
    staging: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl StagingDir {
    /// Creates the staging folder beside `dest` (and `dest`'s parent if needed).
    pub fn new(dest: impl AsRef<Path>) -> Result<Self, IoError> {
        let dest = dest.as_ref().to_path_buf();
        ensure_parent(&dest)?;
        let staging = temp_path_for(&dest)?;
        fs::create_dir(&staging).map_err(|source| IoError::CreateDir {
            path: staging.clone(),
            source,
        })?;
        Ok(Self {
            staging,
            dest,
            committed: false,
        })
    }

    /// The folder to write into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The folder this one will become.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Puts the staged folder at its destination, replacing what was there.
    pub fn commit(mut self) -> Result<(), IoError> {
        let rename_err = |source| IoError::Rename {
            path: self.dest.clone(),
            source,
        };
        if self.dest.exists() {
            if !exchange(&self.staging, &self.dest) {
                // No atomic exchange here: move the old folder aside first.
                let aside = temp_path_for(&self.dest)?;
                fs::rename(&self.dest, &aside).map_err(rename_err)?;
                fs::rename(&self.staging, &self.dest).map_err(rename_err)?;
                self.committed = true;
                let _ = fs::remove_dir_all(&aside);
                return Ok(());
            }
            // The previous folder now sits at the staging path.
            self.committed = true;
            let _ = fs::remove_dir_all(&self.staging);
            return Ok(());
        }
        fs::rename(&self.staging, &self.dest).map_err(rename_err)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Swaps two existing paths atomically; false where the system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let (Ok(a), Ok(b)) = (
        std::ffi::CString::new(a.as_os_str().as_bytes()),
        std::ffi::CString::new(b.as_os_str().as_bytes()),
    ) else {
        return false;
    };
    // SAFETY: both are valid NUL-terminated paths; the call touches no memory of ours.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    rc == 0
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> bool {
    false
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
    fn a_staged_folder_replaces_the_old_one_whole() {
        let dir = scratch("stage");
        let dest = dir.join("seq2one");
        fs::create_dir_all(&dest).unwrap();
        fs::write(dest.join("old_only.csv"), b"old").unwrap();
        fs::write(dest.join("metrics.json"), b"old").unwrap();
        let stage = StagingDir::new(&dest).unwrap();
        fs::write(stage.path().join("metrics.json"), b"new").unwrap();
        // Until the commit, readers see the old folder untouched.
        assert_eq!(fs::read(dest.join("metrics.json")).unwrap(), b"old");
        stage.commit().unwrap();
        assert_eq!(fs::read(dest.join("metrics.json")).unwrap(), b"new");
        assert!(!dest.join("old_only.csv").exists(), "old file survived");
        // Nothing but the destination is left beside it.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        // A staging folder dropped without commit removes itself.
        let stage = StagingDir::new(&dest).unwrap();
        let path = stage.path().to_path_buf();
        fs::write(path.join("half.csv"), b"x").unwrap();
        drop(stage);
        assert!(!path.exists());
        assert_eq!(fs::read(dest.join("metrics.json")).unwrap(), b"new");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_locked_folder_is_refused_naming_its_holder_until_the_lock_is_dropped() {
        let dir = scratch("lock");
        let dest = dir.join("seq2one");
        let lock = DirLock::acquire(&dest).unwrap();
        assert!(lock.path().ends_with(".seq2one.lock"));
        // flock is per open file: a second open in this process conflicts as another process would.
        let err = DirLock::acquire(&dest).unwrap_err().to_string();
        assert!(
            err.contains("seq2one is being written by another run")
                && err.contains(&format!("process {}", std::process::id()))
                && err.contains(&machine().description),
            "{err}"
        );
        // Shared holders exclude an exclusive one and the other way round, not each other.
        assert!(DirLock::acquire_shared(&dest).is_err());
        drop(lock);
        let shared = (
            DirLock::acquire_shared(&dest).unwrap(),
            DirLock::acquire_shared(&dest).unwrap(),
        );
        assert!(matches!(
            DirLock::acquire(&dest),
            Err(IoError::Locked { .. })
        ));
        drop(shared);
        DirLock::acquire(&dest).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A temporary named as `owner` would name it, for the file `file`.
    fn temp_of(dir: &Path, owner: &Owner, file: &str) -> PathBuf {
        dir.join(format!("{TEMP_PREFIX}{}-0-{file}", owner.tag()))
    }

    /// Sets the modification time of `path` (and of what a folder holds) `days` back.
    fn age(path: &Path, days: u64) {
        let t = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 24 * 3600);
        if path.is_dir() {
            for e in fs::read_dir(path).unwrap() {
                age(&e.unwrap().path(), days);
            }
        }
        fs::File::open(path).unwrap().set_modified(t).unwrap();
    }

    #[test]
    fn only_temporaries_whose_process_is_certainly_gone_are_removed() {
        let dir = scratch("stale");
        fs::create_dir_all(&dir).unwrap();
        assert!(machine().can_judge, "{:?}", machine());
        let me = Owner::me();
        // This machine, no such process: removed (a file and a staging folder).
        let dead = Owner {
            pid: i32::MAX as u32,
            ..me.clone()
        };
        fs::write(temp_of(&dir, &dead, "a.png"), b"").unwrap();
        fs::create_dir(temp_of(&dir, &dead, "run")).unwrap();
        fs::write(temp_of(&dir, &dead, "run").join("x.csv"), b"").unwrap();
        // This process's pid, but another start time: a process that had the pid before.
        let reused = Owner {
            start: me.start + 1,
            ..me.clone()
        };
        fs::write(temp_of(&dir, &reused, "b.png"), b"").unwrap();
        // This process, and a live child: kept.
        let mine = temp_path_for(&dir.join("c.png")).unwrap();
        fs::write(&mine, b"").unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let live = Owner {
            pid,
            start: start_time(&pid.to_string()).unwrap(),
            ..me.clone()
        };
        fs::write(temp_of(&dir, &live, "d.png"), b"").unwrap();
        // Another machine (another node, or this one's other PID namespace)
        // with the same pid, and an older seqlab's name without the machine:
        // kept while recent, removed once a week old.
        let other = Owner {
            machine: "m0123456789abcdef".into(),
            ..me.clone()
        };
        fs::create_dir(temp_of(&dir, &other, "42")).unwrap();
        fs::write(temp_of(&dir, &other, "42").join("easy_10.png"), b"").unwrap();
        let legacy = dir.join(format!("{TEMP_PREFIX}{}-0-e.png", std::process::id()));
        fs::write(&legacy, b"").unwrap();
        fs::write(dir.join("keep.png"), b"").unwrap();
        assert_eq!(remove_stale_temp_files(&dir).unwrap(), 3);
        for kept in [
            &mine,
            &temp_of(&dir, &live, "d.png"),
            &temp_of(&dir, &other, "42"),
            &legacy,
        ] {
            assert!(kept.exists(), "{} was removed", kept.display());
        }
        assert!(dir.join("keep.png").exists());
        age(&temp_of(&dir, &other, "42"), 6);
        assert_eq!(remove_stale_temp_files(&dir).unwrap(), 0, "six days old");
        age(&temp_of(&dir, &other, "42"), 8);
        age(&legacy, 8);
        assert_eq!(remove_stale_temp_files(&dir).unwrap(), 2);
        let _ = child.kill();
        let _ = child.wait();
        // The child is gone now: its temporary goes too.
        assert_eq!(remove_stale_temp_files(&dir).unwrap(), 1);
        assert!(mine.exists());
        assert_eq!(remove_stale_temp_files(dir.join("missing")).unwrap(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_write_removes_killed_attempts_at_the_same_file() {
        let dir = scratch("same-file");
        fs::create_dir_all(&dir).unwrap();
        let dead = Owner {
            pid: i32::MAX as u32,
            ..Owner::me()
        };
        let killed = temp_of(&dir, &dead, "metrics.json");
        let other = temp_of(&dir, &dead, "other.json");
        fs::write(&killed, b"{\"half").unwrap();
        fs::write(&other, b"").unwrap();
        write_atomic(dir.join("metrics.json"), b"{}").unwrap();
        assert!(
            !killed.exists(),
            "the killed summary write's temporary survived"
        );
        assert!(
            other.exists(),
            "another file's temporary is not this write's business"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temporary_names_parse_back() {
        let me = Owner::me();
        let name = format!("{TEMP_PREFIX}{}-7-a-b.png", me.tag());
        assert_eq!(parse_temp(&name), Some((Some(me), "a-b.png")));
        assert_eq!(
            parse_temp(&format!("{TEMP_PREFIX}12-3-x.csv")),
            Some((None, "x.csv"))
        );
        for other in [
            "x.png",
            ".seqlab-tmp-",
            ".seqlab-tmp-m1-2-x.png",
            ".seqlab-tmp-a-1-x",
        ] {
            assert_eq!(parse_temp(other), None, "{other}");
        }
    }
}
