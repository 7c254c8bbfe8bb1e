//! glibc's `malloc`, which libtorch's CPU allocator uses for every tensor,
//! set up for a training loop: [`tune_allocator`] and
//! [`restart_with_huge_pages`].
//!
//! With glibc's defaults, blocks of more than 128 KiB (raised dynamically, up
//! to 32 MiB, as such blocks are freed) come from `mmap` and go back with
//! `munmap`, and the top of the heap is returned to the system as soon as
//! 128 KiB of it is free. A training step allocates and frees the same
//! activations and gradients every time, so with the defaults the kernel maps,
//! zero-fills and unmaps the same pages again on every step. On the 2-core
//! benchmark machine that page-fault work was a quarter of the MNIST BiLSTM
//! autoencoder's CPU time, and whether a run hit it depended on the order in
//! which blocks happened to be freed (so throughput was bimodal from run to
//! run). [`tune_allocator`] serves blocks up to 32 MiB from the heap and keeps
//! up to 1 GiB of freed heap for reuse; the process then keeps its peak heap
//! instead of returning it between steps.
//!
//! That heap is then some hundreds of MiB of 4 KiB pages, walked over and over
//! by every step. [`restart_with_huge_pages`] starts the program again with
//! glibc's `glibc.malloc.hugetlb=1` tunable (glibc reads tunables only when a
//! program starts), so that `malloc` asks the kernel for transparent huge
//! pages (2 MiB) wherever the system allows them on request (`madvise`
//! mode). On the 2-core benchmark machine, alternating, that made the IMDb
//! LSTM train 1.5-10% faster and the MNIST BiLSTM autoencoder 1-4%; the
//! small models ran 6-13% slower, so only the experiments that walk much
//! memory ask for it.
//!
//! Neither changes a value: results are bit-identical with and without them.
//! A user's own glibc settings win: with `GLIBC_TUNABLES` naming a
//! `glibc.malloc.` tunable, or any of the `MALLOC_*` variables set, nothing is
//! changed. `SEQLAB_MALLOC` chooses: `tuned` (the default: both),
//! `thresholds` (the thresholds without huge pages) or `system` (glibc's
//! defaults); the last two measure the difference.

use crate::TrainError;

/// Blocks up to this size come from the heap (glibc's largest allowed value on 64-bit).
pub const MMAP_THRESHOLD: usize = 32 << 20;
/// Freed heap up to this size is kept for reuse instead of returned to the system.
pub const TRIM_THRESHOLD: usize = 1 << 30;

/// The environment variable that selects the allocator setup.
pub const ENV: &str = "SEQLAB_MALLOC";

/// glibc's tunable that has `malloc` ask for transparent huge pages (glibc
/// 2.35 and later).
pub const HUGE_PAGES_TUNABLE: &str = "glibc.malloc.hugetlb=1";

/// Set by [`restart_with_huge_pages`] to the `GLIBC_TUNABLES` value it
/// started the program with: while the two agree, those tunables are
/// seqlab's own, not the user's (child processes inherit both).
pub const RESTART_MARKER: &str = "SEQLAB_MALLOC_TUNABLES";

/// What [`tune_allocator`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocatorSetup {
    /// `malloc` now uses [`MMAP_THRESHOLD`] and [`TRIM_THRESHOLD`] (and huge
    /// pages where [`huge_pages`] says so).
    Tuned,
    /// `SEQLAB_MALLOC=system`: glibc's defaults were kept.
    System,
    /// The user's own glibc malloc settings were kept.
    User,
    /// Not glibc (or glibc refused the settings): nothing was changed.
    Unsupported,
}

impl AllocatorSetup {
    /// A one-word name (`tuned`, `system`, `user`, `unsupported`), as benchmarks record it.
    pub fn name(self) -> &'static str {
        match self {
            AllocatorSetup::Tuned => "tuned",
            AllocatorSetup::System => "system",
            AllocatorSetup::User => "user",
            AllocatorSetup::Unsupported => "unsupported",
        }
    }
}

/// glibc reads its malloc environment variables (`MALLOC_ARENA_MAX`,
/// `MALLOC_TRIM_THRESHOLD_`, ...) under this prefix; any one set counts as
/// the user's own choice.
const MALLOC_VAR_PREFIX: &str = "MALLOC_";

/// The environment as the allocator setup reads it.
#[derive(Debug, Default, Clone)]
struct AllocEnv {
    seqlab_malloc: Option<String>,
    glibc_tunables: Option<String>,
    marker: Option<String>,
    malloc_var_set: bool,
}

impl AllocEnv {
    fn read() -> Self {
        Self {
            seqlab_malloc: std::env::var(ENV).ok(),
            glibc_tunables: std::env::var("GLIBC_TUNABLES").ok(),
            marker: std::env::var(RESTART_MARKER).ok(),
            malloc_var_set: std::env::vars_os()
                .any(|(k, _)| k.to_str().is_some_and(|k| k.starts_with(MALLOC_VAR_PREFIX))),
        }
    }

    /// `GLIBC_TUNABLES` is the one [`restart_with_huge_pages`] set.
    fn restarted(&self) -> bool {
        self.marker.is_some() && self.marker == self.glibc_tunables
    }
}

/// What to do, decided from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Set the thresholds; `huge_pages`: wanted (`tuned`) or not (`thresholds`).
    Tune { huge_pages: bool },
    /// Leave `malloc` alone, for this reason.
    Keep(AllocatorSetup),
}

fn decide(env: &AllocEnv) -> Result<Plan, TrainError> {
    let huge_pages = match env.seqlab_malloc.as_deref().map(str::trim) {
        None | Some("") | Some("tuned") => true,
        Some("thresholds") => false,
        Some("system") => return Ok(Plan::Keep(AllocatorSetup::System)),
        Some(other) => {
            return Err(TrainError::InvalidConfig(format!(
                "{ENV}={other:?} is not understood; use tuned (the default), thresholds or system"
            )))
        }
    };
    if env.restarted() {
        return Ok(Plan::Tune { huge_pages });
    }
    let user_tunables = env
        .glibc_tunables
        .as_deref()
        .is_some_and(|t| t.contains("glibc.malloc."));
    if user_tunables || env.malloc_var_set {
        return Ok(Plan::Keep(AllocatorSetup::User));
    }
    Ok(Plan::Tune { huge_pages })
}

/// Sets up `malloc` for training (see the module documentation) unless the
/// environment says otherwise. Call it once at the start of `main`, before
/// other threads exist (after [`restart_with_huge_pages`]); the `seqlab`
/// binary does.
///
/// Fails only on an unknown `SEQLAB_MALLOC` value.
pub fn tune_allocator() -> Result<AllocatorSetup, TrainError> {
    match decide(&AllocEnv::read())? {
        Plan::Tune { .. } => Ok(apply()),
        Plan::Keep(kept) => Ok(kept),
    }
}

/// Whether this process's `malloc` asks for huge pages: it was started by
/// [`restart_with_huge_pages`] and `SEQLAB_MALLOC` still wants them.
pub fn huge_pages() -> bool {
    let env = AllocEnv::read();
    env.restarted() && matches!(decide(&env), Ok(Plan::Tune { huge_pages: true }))
}

/// Starts this program again, same arguments, with glibc's huge-page
/// tunable added to `GLIBC_TUNABLES` (see the module documentation), where
/// [`tune_allocator`] would tune, the kernel gives huge pages on request,
/// glibc knows the tunable, and it has not happened yet. Call it first
/// thing in `main`, before other threads exist; a library has no reason
/// to. Returns when it does not restart (the program then goes on as it
/// was, without huge pages); starting the program a second time costs a
/// few hundred milliseconds, so call it only for work that trains.
///
/// Fails only on an unknown `SEQLAB_MALLOC` value.
pub fn restart_with_huge_pages() -> Result<(), TrainError> {
    let env = AllocEnv::read();
    if env.restarted() || decide(&env)? != (Plan::Tune { huge_pages: true }) {
        return Ok(());
    }
    if !huge_pages_possible() {
        return Ok(());
    }
    let tunables = match env.glibc_tunables.as_deref() {
        Some(t) if !t.trim().is_empty() => format!("{t}:{HUGE_PAGES_TUNABLE}"),
        _ => HUGE_PAGES_TUNABLE.to_string(),
    };
    exec_self(&tunables);
    Ok(())
}

/// Replaces this process with the same program and arguments, `GLIBC_TUNABLES`
/// and the marker set to `tunables`; returns only if that failed.
#[cfg(unix)]
fn exec_self(tunables: &str) {
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    // exec returns only on failure; the program then goes on without.
    let _failed = command
        .args(args)
        .env("GLIBC_TUNABLES", tunables)
        .env(RESTART_MARKER, tunables)
        .exec();
}

#[cfg(not(unix))]
fn exec_self(_tunables: &str) {}

/// This system can give `malloc` huge pages through the tunable: the kernel
/// gives transparent huge pages on request and glibc knows the tunable.
pub fn huge_pages_possible() -> bool {
    kernel_gives_huge_pages() && glibc_knows_hugetlb()
}

/// Transparent huge pages are on in `always` or `madvise` mode.
fn kernel_gives_huge_pages() -> bool {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|mode| mode.contains("[always]") || mode.contains("[madvise]"))
}

/// glibc 2.35 or later (older ones ignore the tunable: a restart for nothing).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_knows_hugetlb() -> bool {
    // SAFETY: gnu_get_libc_version returns a pointer to a static,
    // NUL-terminated string owned by glibc.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    let mut parts = version.to_str().unwrap_or("").split('.');
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (2, 35)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_knows_hugetlb() -> bool {
    false
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply() -> AllocatorSetup {
    // SAFETY: mallopt only changes glibc's allocation parameters; it is
    // called with glibc's own constants and values within their ranges.
    let ok = unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int) == 1
            && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD as libc::c_int) == 1
    };
    if ok {
        AllocatorSetup::Tuned
    } else {
        AllocatorSetup::Unsupported
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply() -> AllocatorSetup {
    AllocatorSetup::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(seqlab: Option<&str>, tunables: Option<&str>, marker: Option<&str>) -> AllocEnv {
        AllocEnv {
            seqlab_malloc: seqlab.map(String::from),
            glibc_tunables: tunables.map(String::from),
            marker: marker.map(String::from),
            malloc_var_set: false,
        }
    }

    #[test]
    fn the_default_tunes_with_huge_pages_and_the_user_wins() {
        let tune = |huge_pages| Some(Plan::Tune { huge_pages });
        assert_eq!(decide(&env(None, None, None)).ok(), tune(true));
        assert_eq!(decide(&env(Some("tuned"), None, None)).ok(), tune(true));
        assert_eq!(
            decide(&env(Some("thresholds"), None, None)).ok(),
            tune(false)
        );
        assert_eq!(
            decide(&env(Some("system"), None, None)).ok(),
            Some(Plan::Keep(AllocatorSetup::System))
        );
        // Tunables that leave malloc alone are not the user's malloc choice.
        assert_eq!(
            decide(&env(None, Some("glibc.cpu.x86_ibt=off"), None)).ok(),
            tune(true)
        );
        let user = Some(Plan::Keep(AllocatorSetup::User));
        assert_eq!(
            decide(&env(None, Some("glibc.malloc.hugetlb=0"), None)).ok(),
            user
        );
        let mut vars = env(None, None, None);
        vars.malloc_var_set = true;
        assert_eq!(decide(&vars).ok(), user);
        assert!(matches!(
            decide(&env(Some("fast"), None, None)),
            Err(TrainError::InvalidConfig(m)) if m.contains("SEQLAB_MALLOC=\"fast\"")
        ));
    }

    #[test]
    fn a_restart_is_recognised_only_while_the_tunables_match_its_marker() {
        let ours = "glibc.malloc.hugetlb=1";
        let restarted = env(None, Some(ours), Some(ours));
        assert!(restarted.restarted());
        assert_eq!(
            decide(&restarted).ok(),
            Some(Plan::Tune { huge_pages: true })
        );
        // A child given other tunables, or a marker without them: the user's.
        let changed = env(None, Some("glibc.malloc.hugetlb=0"), Some(ours));
        assert!(!changed.restarted());
        assert_eq!(
            decide(&changed).ok(),
            Some(Plan::Keep(AllocatorSetup::User))
        );
        assert!(!env(None, None, Some(ours)).restarted());
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_accepts_the_settings_and_knows_the_huge_page_tunable() {
        assert_eq!(apply(), AllocatorSetup::Tuned);
        // Debian 12's glibc (2.36) here and in CI.
        assert!(glibc_knows_hugetlb());
    }
}
