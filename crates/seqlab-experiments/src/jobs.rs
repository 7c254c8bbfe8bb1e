//! Seeds as separate processes: the plan of (experiment, seed) commands,
//! and a runner that starts them side by side on this machine.
//!
//! Every (experiment, seed) is one `seqlab run <experiment> --seeds <set>
//! --only-seed <seed>` process that writes only its own folder
//! (`<results>/<experiment>/seeds/<seed>/`); nothing but the inputs is
//! shared, so the results do not depend on how many run at once. The same
//! commands can be handed to any scheduler ([`Job::shell_line`], printed by
//! `seqlab reproduce-all --plan`); this module's [`run_jobs`] is the
//! one-machine case: at most [`JobLimit`] at once, by default as many as
//! the cores allow given each job's thread count (jobs × threads ≤ cores).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many jobs may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobLimit {
    /// As many as fit the cores: the running jobs' thread counts add up to
    /// at most the number of cores (one job always runs).
    #[default]
    Auto,
    /// Exactly this many at most, whatever their thread counts.
    Fixed(NonZeroUsize),
}

impl std::str::FromStr for JobLimit {
    type Err = String;

    /// `auto` or a whole number from 1 to 4 per core of this machine.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(seqlab_train::runtime::parse_auto_count(s, "jobs")?
            .map_or(JobLimit::Auto, JobLimit::Fixed))
    }
}

/// Parses a seed list: `42,43,44`, a range `42..46` (both ends included),
/// or a mix (`1,5..7`). Duplicates are dropped; order is ascending.
pub fn parse_seed_list(s: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("expected seeds such as 42,43,44 or 42..46, got {s:?}");
    let mut seeds = std::collections::BTreeSet::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once("..") {
            Some((a, b)) => {
                let (a, b): (u64, u64) = (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim()
                        .trim_start_matches('=')
                        .parse()
                        .map_err(|_| bad())?,
                );
                if b < a || b - a >= 10_000 {
                    return Err(format!(
                        "seed range {part:?} must go upwards and hold at most 10000 seeds"
                    ));
                }
                seeds.extend(a..=b);
            }
            None => {
                seeds.insert(part.parse::<u64>().map_err(|_| bad())?);
            }
        }
    }
    if seeds.is_empty() {
        return Err(bad());
    }
    Ok(seeds.into_iter().collect())
}

/// The seeds of `--seeds`: a bare number `N` means N seeds from `first`
/// (`5` with `first` 42 is 42..46); anything with a comma or `..` is a list
/// ([`parse_seed_list`]; one seed alone is written `7,` or `7..7`).
pub fn parse_seeds_arg(s: &str, first: u64) -> Result<Vec<u64>, String> {
    let t = s.trim();
    if !t.contains(',') && !t.contains("..") {
        let n: u64 = t.parse().map_err(|_| {
            format!("expected a number of seeds (5) or a list (42,43 or 42..46), got {s:?}")
        })?;
        if n == 0 || n > 10_000 {
            return Err(format!("the number of seeds must be 1 to 10000, got {n}"));
        }
        let Some(last) = first.checked_add(n - 1) else {
            return Err(format!(
                "{n} seeds from seed {first} would go past the largest seed, {}; start from a lower --seed",
                u64::MAX
            ));
        };
        return Ok((first..=last).collect());
    }
    parse_seed_list(t)
}

/// Seeds as `42..46` when consecutive, else `42,44,47` (what `--seeds` reads back).
pub fn format_seed_list(seeds: &[u64]) -> String {
    let consecutive = seeds.windows(2).all(|w| w[1] == w[0] + 1);
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if consecutive && seeds.len() > 2 => format!("{a}..{b}"),
        _ => {
            let mut s = seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            if seeds.len() == 1 {
                s.push(',');
            }
            s
        }
    }
}

/// One process to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Experiment name.
    pub experiment: String,
    /// Its seed.
    pub seed: u64,
    /// Intra-op threads it will use (for the cores budget).
    pub threads: usize,
    /// The program (an absolute path to `seqlab`).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Where its output goes.
    pub log: PathBuf,
    /// A job (by index) that must have ended before this one starts: the
    /// same seed of an experiment whose result this one reads.
    pub after: Option<usize>,
}

/// `s` as one POSIX shell word: as it is when it holds only safe
/// characters, else in single quotes (a `'` inside written `'\''`).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

impl Job {
    /// The job as one self-contained POSIX shell command line (absolute
    /// paths). A plan holds one job per line, so a path or argument with a
    /// line break or another control character, or a path that is not
    /// UTF-8 text, is refused (naming it) rather than split or rewritten.
    pub fn shell_line(&self, cwd: &Path) -> Result<String, String> {
        let word = |what: &str, s: &std::ffi::OsStr| {
            match s.to_str() {
            Some(s) if !s.chars().any(char::is_control) => Ok(shell_quote(s)),
            _ => Err(format!(
                "cannot write {what} {:?} into a plan line: it holds a line break, a control character or bytes that are not UTF-8; use a folder whose path is plain text",
                Path::new(s).display().to_string()
            )),
        }
        };
        let mut line = format!("cd {} && ", word("the current folder", cwd.as_os_str())?);
        line.push_str(&word("the program path", self.program.as_os_str())?);
        for a in &self.args {
            line.push(' ');
            line.push_str(&word("the argument", a.as_ref())?);
        }
        Ok(line)
    }
}

/// How one job ended.
#[derive(Debug, Clone, PartialEq)]
pub struct JobResult {
    /// Exit status 0.
    pub ok: bool,
    /// Wall time of the process.
    pub seconds: f64,
}

/// What a running job last reported (from its per-epoch lines).
#[derive(Debug, Clone, Default, PartialEq)]
struct Progress {
    label: String,
    epoch: usize,
    epochs: usize,
    seconds: f64,
}

/// Reads `label epoch 3/10 - 0.5s - ...` (the fit loop's per-epoch line).
fn parse_epoch_line(line: &str, p: &mut Progress) {
    let Some((label, rest)) = line.split_once(" epoch ") else {
        return;
    };
    let mut parts = rest.split(" - ");
    let (Some(count), Some(secs)) = (parts.next(), parts.next()) else {
        return;
    };
    let Some((e, n)) = count.split_once('/') else {
        return;
    };
    let (Ok(e), Ok(n), Ok(s)) = (
        e.trim().parse::<usize>(),
        n.trim().parse::<usize>(),
        secs.trim().trim_end_matches('s').parse::<f64>(),
    ) else {
        return;
    };
    if p.label != label {
        p.seconds = 0.0;
    }
    p.label = label.to_string();
    p.epoch = e;
    p.epochs = n;
    p.seconds += s;
}

fn minutes(s: f64) -> String {
    if s >= 60.0 {
        format!("{} min {:02.0} s", (s / 60.0).floor(), s % 60.0)
    } else {
        format!("{s:.0} s")
    }
}

impl Progress {
    fn describe(&self) -> String {
        if self.epochs == 0 {
            return "starting".into();
        }
        let per = self.seconds / self.epoch.max(1) as f64;
        let left = per * self.epochs.saturating_sub(self.epoch) as f64;
        format!(
            "{} epoch {}/{}, ETA {} (at most: early stopping may end it sooner)",
            self.label,
            self.epoch,
            self.epochs,
            minutes(left)
        )
    }
}

struct Running {
    index: usize,
    child: Child,
    started: Instant,
    progress: Arc<Mutex<Progress>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn spawn(job: &Job) -> std::io::Result<Running> {
    if let Some(parent) = job.log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let log = Arc::new(Mutex::new(std::fs::File::create(&job.log)?));
    let mut command = Command::new(&job.program);
    command
        .args(&job.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    end_with_parent(&mut command);
    let mut child = command.spawn()?;
    let progress = Arc::new(Mutex::new(Progress::default()));
    let mut readers = Vec::new();
    let streams: Vec<Box<dyn std::io::Read + Send>> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    for stream in streams {
        let (log, progress) = (Arc::clone(&log), Arc::clone(&progress));
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Ok(mut f) = log.lock() {
                    let _ = writeln!(f, "{line}");
                }
                if let Ok(mut p) = progress.lock() {
                    parse_epoch_line(&line, &mut p);
                }
            }
        }));
    }
    Ok(Running {
        index: 0,
        child,
        started: Instant::now(),
        progress,
        readers,
    })
}

/// Makes the job end when this process ends, however it ends (`kill`,
/// a crash): on Linux the kernel sends it SIGTERM when its parent dies
/// (`PR_SET_PDEATHSIG`), so no orphaned job commits a seed after its run
/// was stopped. A job whose parent is already gone when it starts ends at once.
#[cfg(target_os = "linux")]
fn end_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getpid before the fork; in the child only async-signal-safe
    // calls (prctl, getppid, _exit), and no memory is allocated.
    let parent = unsafe { libc::getpid() };
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// Elsewhere jobs outlive a killed parent (no portable way to tie them).
#[cfg(not(target_os = "linux"))]
fn end_with_parent(_: &mut Command) {}

/// The last `n` lines of a file (for a failed job's message).
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs `jobs` on this machine, at most `limit` at once (`cores` is the
/// budget of [`JobLimit::Auto`]), and returns how each ended, in the same
/// order. A job that cannot start, or fails, does not stop the others.
///
/// On a terminal, stderr shows one line per running job (experiment, seed,
/// the current training run's epoch and ETA) under a total line, redrawn in
/// place; elsewhere it gets one plain line per start and end. Each job's
/// own output goes to its log file.
pub fn run_jobs(jobs: &[Job], limit: JobLimit, cores: usize) -> Vec<JobResult> {
    let live = std::io::stderr().is_terminal();
    let mut results: Vec<Option<JobResult>> = vec![None; jobs.len()];
    let mut started = vec![false; jobs.len()];
    let mut running: Vec<Running> = Vec::new();
    let mut drawn = 0usize;
    let t0 = Instant::now();
    let mut err = std::io::stderr();
    loop {
        // Start what fits, in order (a later job may pass one that must wait).
        for (i, job) in jobs.iter().enumerate() {
            if started[i]
                || job
                    .after
                    .is_some_and(|a| results.get(a).is_some_and(Option::is_none))
            {
                continue;
            }
            let busy: usize = running.iter().map(|r| jobs[r.index].threads).sum();
            let fits = match limit {
                JobLimit::Auto => running.is_empty() || busy + job.threads <= cores,
                JobLimit::Fixed(n) => running.len() < n.get(),
            };
            if !fits {
                continue;
            }
            started[i] = true;
            match spawn(job) {
                Ok(mut r) => {
                    r.index = i;
                    if !live {
                        let _ = writeln!(
                            err,
                            "started {} seed {} ({} thread{}; log {})",
                            job.experiment,
                            job.seed,
                            job.threads,
                            if job.threads == 1 { "" } else { "s" },
                            job.log.display()
                        );
                    }
                    running.push(r);
                }
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "FAILED {} seed {}: cannot start {}: {e}",
                        job.experiment,
                        job.seed,
                        job.program.display()
                    );
                    results[i] = Some(JobResult {
                        ok: false,
                        seconds: 0.0,
                    });
                }
            }
        }
        // Collect what ended.
        let mut ended = Vec::new();
        running.retain_mut(|r| match r.child.try_wait() {
            Ok(Some(status)) => {
                ended.push((r.index, status.success(), r.started.elapsed().as_secs_f64()));
                for h in r.readers.drain(..) {
                    let _ = h.join();
                }
                false
            }
            Ok(None) => true,
            Err(_) => {
                ended.push((r.index, false, r.started.elapsed().as_secs_f64()));
                false
            }
        });
        if live && drawn > 0 {
            let _ = write!(err, "\x1b[{drawn}A\x1b[J");
            drawn = 0;
        }
        for (i, ok, seconds) in ended {
            let job = &jobs[i];
            if ok {
                let _ = writeln!(
                    err,
                    "ok     {} seed {} ({})",
                    job.experiment,
                    job.seed,
                    minutes(seconds)
                );
            } else {
                let _ = writeln!(
                    err,
                    "FAILED {} seed {} ({}); last lines of {}:\n{}",
                    job.experiment,
                    job.seed,
                    minutes(seconds),
                    job.log.display(),
                    tail(&job.log, 12)
                );
            }
            results[i] = Some(JobResult { ok, seconds });
        }
        let done = results.iter().filter(|r| r.is_some()).count();
        if done == jobs.len() {
            break;
        }
        if live {
            let mut block = String::new();
            for r in &running {
                let job = &jobs[r.index];
                let p = r.progress.lock().map(|p| p.describe()).unwrap_or_default();
                block.push_str(&format!("  {} seed {}: {p}\n", job.experiment, job.seed));
            }
            let failed = results.iter().flatten().filter(|r| !r.ok).count();
            block.push_str(&format!(
                "  jobs: {done}/{} done ({failed} failed), {} running; elapsed {}\n",
                jobs.len(),
                running.len(),
                minutes(t0.elapsed().as_secs_f64())
            ));
            drawn = block.lines().count();
            let _ = write!(err, "{block}");
        }
        let _ = err.flush();
        std::thread::sleep(Duration::from_millis(if live { 500 } else { 200 }));
    }
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or(JobResult {
                ok: false,
                seconds: 0.0,
            })
        })
        .collect()
}

/// Wall seconds per experiment: the sum over its jobs.
pub fn seconds_by_experiment(jobs: &[Job], results: &[JobResult]) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for (j, r) in jobs.iter().zip(results) {
        *m.entry(j.experiment.clone()).or_insert(0.0) += r.seconds;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_lists_and_counts_parse_and_print_back() {
        assert_eq!(parse_seed_list("42..46").unwrap(), vec![42, 43, 44, 45, 46]);
        assert_eq!(parse_seed_list("3, 1,2,2").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seed_list("1,5..7").unwrap(), vec![1, 5, 6, 7]);
        assert_eq!(parse_seed_list("7..=8").unwrap(), vec![7, 8]);
        for bad in ["", "a", "5..1", "1..x", "0..20000"] {
            assert!(parse_seed_list(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_seeds_arg("3", 42).unwrap(), vec![42, 43, 44]);
        assert_eq!(parse_seeds_arg("7,", 42).unwrap(), vec![7]);
        assert!(parse_seeds_arg("0", 42).unwrap_err().contains("1 to 10000"));
        // Counting past the largest seed is an error, not fewer seeds.
        let err = parse_seeds_arg("3", u64::MAX - 1).unwrap_err();
        assert!(
            err.contains("3 seeds from seed 18446744073709551614") && err.contains("largest seed"),
            "{err}"
        );
        assert_eq!(
            parse_seeds_arg("2", u64::MAX - 1).unwrap(),
            vec![u64::MAX - 1, u64::MAX]
        );
        assert_eq!(format_seed_list(&[42, 43, 44]), "42..44");
        assert_eq!(format_seed_list(&[1, 3]), "1,3");
        assert_eq!(format_seed_list(&[7]), "7,");
        for s in [vec![42, 43, 44], vec![1, 3], vec![7]] {
            assert_eq!(parse_seed_list(&format_seed_list(&s)).unwrap(), s);
        }
        assert_eq!("auto".parse::<JobLimit>(), Ok(JobLimit::Auto));
        assert!("0".parse::<JobLimit>().unwrap_err().contains("positive"));
        assert!("100000"
            .parse::<JobLimit>()
            .unwrap_err()
            .contains("4 per core"));
    }

    #[test]
    fn epoch_lines_give_the_run_and_its_eta() {
        let mut p = Progress::default();
        for e in 1..=3 {
            parse_epoch_line(
                &format!("rnn epoch {e}/10 - 2.0s - loss: 0.1 - lr: 1e-3"),
                &mut p,
            );
        }
        assert_eq!((p.label.as_str(), p.epoch, p.epochs), ("rnn", 3, 10));
        // 2 s per epoch, 7 epochs to go.
        assert!(
            p.describe().contains("epoch 3/10, ETA 14 s"),
            "{}",
            p.describe()
        );
        parse_epoch_line("not an epoch line", &mut p);
        parse_epoch_line("ff epoch 1/4 - 2.0s", &mut p);
        assert_eq!((p.label.as_str(), p.seconds), ("ff", 2.0));
    }

    #[test]
    fn jobs_run_side_by_side_within_the_limit_and_failures_are_reported() {
        let dir = std::env::temp_dir().join(format!("seqlab-jobs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let job = |seed: u64, script: &str| Job {
            experiment: "demo".into(),
            seed,
            threads: 1,
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            log: dir.join(format!("{seed}.log")),
            after: None,
        };
        let d = dir.display();
        // Each of the first two waits (up to 5 s) for the other to have
        // started: both succeed only if they run at the same time.
        let wait_for = |mine: &str, other: &str| {
            format!("touch {d}/{mine}; echo one epoch 1/1 - 0.1s; i=0; while [ ! -e {d}/{other} ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; [ -e {d}/{other} ]")
        };
        std::fs::create_dir_all(&dir).unwrap();
        let jobs = vec![
            job(1, &wait_for("a", "b")),
            job(2, &wait_for("b", "a")),
            Job {
                after: Some(0),
                ..job(3, "echo broken >&2; exit 3")
            },
        ];
        let results = run_jobs(&jobs, JobLimit::Auto, 2);
        assert!(
            results[0].ok && results[1].ok,
            "not side by side: {results:?}"
        );
        assert!(!results[2].ok);
        assert!(std::fs::read_to_string(dir.join("3.log"))
            .unwrap()
            .contains("broken"));
        assert!(std::fs::read_to_string(dir.join("1.log"))
            .unwrap()
            .contains("epoch 1/1"));
        // One at a time when asked, in order: the second starts after the first ended.
        let one = JobLimit::Fixed(NonZeroUsize::new(1).unwrap());
        let serial = vec![
            job(4, &format!("touch {d}/c; sleep 0.3; [ ! -e {d}/e ]")),
            job(5, &format!("[ -e {d}/c ] && touch {d}/e")),
        ];
        let results = run_jobs(&serial, one, 2);
        assert!(results.iter().all(|r| r.ok), "{results:?}");
        // A job of two threads on two cores runs alone under auto.
        let wide = vec![
            Job {
                threads: 2,
                ..job(6, &format!("touch {d}/f; sleep 0.3; [ ! -e {d}/g ]"))
            },
            job(7, &format!("[ -e {d}/f ] && touch {d}/g")),
        ];
        assert!(run_jobs(&wide, JobLimit::Auto, 2).iter().all(|r| r.ok));
        let line = jobs[2].shell_line(Path::new("/tmp/a b")).unwrap();
        assert_eq!(
            line,
            "cd '/tmp/a b' && /bin/sh -c 'echo broken >&2; exit 3'"
        );
        // One job per line: a line break or a byte that is not UTF-8 is refused, not split or rewritten.
        let err = jobs[2].shell_line(Path::new("/tmp/a\nb")).unwrap_err();
        assert!(
            err.contains("current folder") && err.contains("a\\nb"),
            "{err}"
        );
        let odd = Job {
            args: vec!["--results-dir".into(), "/r/x\ry".into()],
            ..jobs[2].clone()
        };
        assert!(odd
            .shell_line(Path::new("/tmp"))
            .unwrap_err()
            .contains("argument"));
        {
            use std::os::unix::ffi::OsStrExt;
            let bad = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/\xff"));
            let err = jobs[2].shell_line(bad).unwrap_err();
            assert!(err.contains("not UTF-8"), "{err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
