//! Process-level settings that make training faster: the `malloc` setup
//! ([`tune_allocator`] and [`restart_with_huge_pages`], in [`allocator`];
//! neither changes a result) and the number of intra-op threads
//! ([`set_threads`]).
//!
//! [`set_threads`] gives the small recurrent models one intra-op thread.
//! Their per-step matrix products (a few hundred thousand multiply-adds or
//! fewer) are too small to split: on the 2-core benchmark machine a second
//! thread gained at most 5-7% while both cores were free, and halved the
//! throughput whenever the machine's other core was busy, because each of
//! the thousands of small parallel sections per step waits for the slower
//! thread. One thread runs at the same speed in both cases. Since seqlab's
//! fused recurrent kernel (`seqlab_models::fused`), whose steps run in one
//! thread, every experiment of the chapter declares one thread: a second gained
//! 0-20% per job (IMDb SimpleRNN the most), while two one-thread jobs side by
//! side double the throughput of a multi-seed run. [`ThreadHint::PerCore`]
//! remains for models whose products are large enough to split. The thread count can change
//! floating-point sums, so it is recorded with every result; an explicit
//! count (`--threads`) or `OMP_NUM_THREADS` always wins.

use crate::TrainError;
use std::num::NonZeroUsize;

pub mod allocator;
pub use allocator::{
    huge_pages, huge_pages_possible, restart_with_huge_pages, tune_allocator, AllocatorSetup, ENV,
    MMAP_THRESHOLD, TRIM_THRESHOLD,
};

/// How many intra-op threads suit a model (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadHint {
    /// One thread: the model's matrix products are too small to split.
    Single,
    /// libtorch's default: one thread per core.
    PerCore,
}

/// The user's choice of intra-op threads (`--threads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadChoice {
    /// `OMP_NUM_THREADS` if it is set, else the model's [`ThreadHint`].
    #[default]
    Auto,
    /// Exactly this many.
    Fixed(std::num::NonZeroUsize),
}

/// The most intra-op threads a choice may ask for on a machine with
/// `cores` cores: four per core. More only make the threads wait for each
/// other (1,000 threads on 2 cores turned a 1.4 s run into minutes).
pub fn max_threads(cores: usize) -> usize {
    4 * cores.max(1)
}

/// This machine's cores as the standard library sees them (1 if unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Parses `auto` (`None`) or a count of `what` (`threads`, `jobs`) from 1
/// to [`max_threads`] of this machine's [`cores`], with errors that say
/// what is expected and, for a count too large, how many cores there are.
pub fn parse_auto_count(s: &str, what: &str) -> Result<Option<NonZeroUsize>, String> {
    let n: NonZeroUsize = match s.trim() {
        "auto" => return Ok(None),
        n => n.parse().map_err(|_| {
            format!("expected auto or a positive whole number of {what}, got {s:?}")
        })?,
    };
    let cores = cores();
    if n.get() > max_threads(cores) {
        return Err(format!(
            "{n} {what} is more than this machine can use: it has {cores} cores, and at most {} {what} (4 per core) are accepted",
            max_threads(cores)
        ));
    }
    Ok(Some(n))
}

impl std::str::FromStr for ThreadChoice {
    type Err = String;

    /// `auto` or a whole number from 1 to [`max_threads`] of this machine's cores.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(parse_auto_count(s, "threads")?.map_or(ThreadChoice::Auto, ThreadChoice::Fixed))
    }
}

/// Where the thread count [`set_threads`] left came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadSource {
    /// An explicit [`ThreadChoice::Fixed`].
    Choice,
    /// The user's `OMP_NUM_THREADS`.
    Environment,
    /// The model's [`ThreadHint`].
    Hint,
}

impl ThreadSource {
    /// A one-word name (`choice`, `environment`, `hint`), as benchmarks record it.
    pub fn name(self) -> &'static str {
        match self {
            ThreadSource::Choice => "choice",
            ThreadSource::Environment => "environment",
            ThreadSource::Hint => "hint",
        }
    }
}

/// What [`set_threads`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadSetup {
    /// libtorch's intra-op threads from now on.
    pub threads: usize,
    /// Why.
    pub source: ThreadSource,
}

/// The environment variable that sets the intra-op threads when the
/// choice is [`ThreadChoice::Auto`].
pub const OMP_ENV: &str = "OMP_NUM_THREADS";

/// Parses a value of [`OMP_ENV`] by `--threads`' rules (a whole number from
/// 1 to [`max_threads`]); empty counts as unset.
fn parse_omp(value: &str) -> Result<Option<NonZeroUsize>, TrainError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let parsed = match value.trim() {
        "auto" => Err(format!(
            "expected a positive whole number of threads, got {value:?}"
        )),
        v => parse_auto_count(v, "threads"),
    };
    parsed.map_err(|why| {
        TrainError::InvalidConfig(format!(
            "{OMP_ENV}={value:?} is not understood ({why}); set it to a number of threads, or unset it"
        ))
    })
}

/// The thread count [`OMP_ENV`] asks for: `None` when it is unset or empty,
/// an error naming the variable when it is not a whole number from 1 to
/// [`max_threads`] (libtorch would silently use its default instead).
pub fn omp_num_threads() -> Result<Option<NonZeroUsize>, TrainError> {
    match std::env::var_os(OMP_ENV) {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Some(v) => parse_omp(v),
            None => Err(TrainError::InvalidConfig(format!(
                "{OMP_ENV}={v:?} is not understood (not UTF-8); set it to a number of threads, or unset it"
            ))),
        },
    }
}

/// The thread count to set (`None`: libtorch's own default, one thread per
/// core) and why.
fn decide_threads(
    choice: ThreadChoice,
    omp_num_threads: Option<NonZeroUsize>,
    hint: ThreadHint,
) -> (Option<usize>, ThreadSource) {
    match (choice, omp_num_threads) {
        (ThreadChoice::Fixed(n), _) => (Some(n.get()), ThreadSource::Choice),
        (ThreadChoice::Auto, Some(n)) => (Some(n.get()), ThreadSource::Environment),
        (ThreadChoice::Auto, None) => match hint {
            ThreadHint::Single => (Some(1), ThreadSource::Hint),
            ThreadHint::PerCore => (None, ThreadSource::Hint),
        },
    }
}

/// The intra-op thread count [`set_threads`] would set for a model with
/// `hint`, computed without libtorch (for planning processes): `choice`,
/// else a valid `OMP_NUM_THREADS` (an invalid one is [`omp_num_threads`]'s
/// error, which the planning process reports first), else 1 for
/// [`ThreadHint::Single`] and `cores` for [`ThreadHint::PerCore`].
pub fn planned_threads(choice: ThreadChoice, hint: ThreadHint, cores: usize) -> usize {
    let omp = omp_num_threads().ok().flatten();
    decide_threads(choice, omp, hint).0.unwrap_or(cores.max(1))
}

/// Sets libtorch's intra-op thread count for a model with `hint`, unless
/// `choice` or `OMP_NUM_THREADS` says otherwise. Call it before training, as
/// the `seqlab` binary does; [`fit`](crate::fit::fit) never changes it. A
/// later call for another model sets the count again: [`ThreadHint::PerCore`]
/// restores libtorch's default (as it was before the first call), even after
/// a [`ThreadHint::Single`] model in the same process.
///
/// Fails, changing nothing, when `choice` is auto and `OMP_NUM_THREADS` is
/// set to something other than a thread count ([`omp_num_threads`]).
pub fn set_threads(choice: ThreadChoice, hint: ThreadHint) -> Result<ThreadSetup, TrainError> {
    static LIBTORCH_DEFAULT: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    let omp = match choice {
        ThreadChoice::Auto => omp_num_threads()?,
        ThreadChoice::Fixed(_) => None,
    };
    let default = *LIBTORCH_DEFAULT.get_or_init(tch::get_num_threads);
    let (set, source) = decide_threads(choice, omp, hint);
    tch::set_num_threads(set.map_or(default, |n| i32::try_from(n).unwrap_or(i32::MAX)));
    Ok(ThreadSetup {
        threads: usize::try_from(tch::get_num_threads()).unwrap_or(1),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_follow_the_choice_then_the_environment_then_the_hint() {
        let two = ThreadChoice::Fixed(std::num::NonZeroUsize::new(2).unwrap());
        let four = NonZeroUsize::new(4);
        assert_eq!(
            decide_threads(two, four, ThreadHint::Single),
            (Some(2), ThreadSource::Choice)
        );
        assert_eq!(
            decide_threads(ThreadChoice::Auto, four, ThreadHint::Single),
            (Some(4), ThreadSource::Environment)
        );
        assert_eq!(
            decide_threads(ThreadChoice::Auto, None, ThreadHint::Single),
            (Some(1), ThreadSource::Hint)
        );
        assert_eq!(
            decide_threads(ThreadChoice::Auto, None, ThreadHint::PerCore),
            (None, ThreadSource::Hint)
        );
    }

    #[test]
    fn planned_threads_follow_the_same_rules_without_libtorch() {
        let three = ThreadChoice::Fixed(std::num::NonZeroUsize::new(3).unwrap());
        assert_eq!(planned_threads(three, ThreadHint::Single, 8), 3);
        if std::env::var_os("OMP_NUM_THREADS").is_none() {
            assert_eq!(
                planned_threads(ThreadChoice::Auto, ThreadHint::Single, 8),
                1
            );
            assert_eq!(
                planned_threads(ThreadChoice::Auto, ThreadHint::PerCore, 8),
                8
            );
        }
    }

    #[test]
    fn a_per_core_model_gets_libtorchs_default_back_after_a_fixed_count() {
        let default = set_threads(ThreadChoice::Auto, ThreadHint::PerCore)
            .unwrap()
            .threads;
        let one = ThreadChoice::Fixed(std::num::NonZeroUsize::new(1).unwrap());
        assert_eq!(set_threads(one, ThreadHint::PerCore).unwrap().threads, 1);
        let again = set_threads(ThreadChoice::Auto, ThreadHint::PerCore).unwrap();
        assert_eq!(again.threads, default);
    }

    #[test]
    fn thread_choices_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!("auto".parse::<ThreadChoice>(), Ok(ThreadChoice::Auto));
        assert_eq!(
            "3".parse::<ThreadChoice>(),
            Ok(ThreadChoice::Fixed(std::num::NonZeroUsize::new(3).unwrap()))
        );
        let err = "1000000".parse::<ThreadChoice>().unwrap_err();
        assert!(err.contains("cores") && err.contains("4 per core"), "{err}");
        for bad in ["0", "-1", "two", ""] {
            let err = bad.parse::<ThreadChoice>().unwrap_err();
            assert!(
                err.contains("auto or a positive whole number"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn omp_num_threads_follows_the_threads_rules_and_a_bad_value_names_the_variable() {
        assert_eq!(parse_omp("3").unwrap(), NonZeroUsize::new(3));
        assert_eq!(parse_omp(" 2 ").unwrap(), NonZeroUsize::new(2));
        assert_eq!(parse_omp("").unwrap(), None);
        for bad in ["0", "abc", "-1", "1.5", "auto", "4,2", "1000000"] {
            let err = parse_omp(bad).unwrap_err().to_string();
            assert!(
                err.contains(&format!("OMP_NUM_THREADS={bad:?} is not understood")),
                "{bad}: {err}"
            );
        }
    }
}
