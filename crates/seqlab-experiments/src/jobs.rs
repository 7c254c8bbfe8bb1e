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
//! A job's output goes to its log as it is; its training progress comes
//! back as typed events through a file of its own (`SEQLAB_PROGRESS_FILE`,
//! see [`seqlab_train::progress`]), never by reading the log.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use seqlab_train::progress::{ProgressEvent, ProgressReader, PROGRESS_FILE_ENV};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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
    /// How long it is expected to take, in seconds (from an earlier run's
    /// record), for the order in which [`run_jobs`] starts jobs; `None`:
    /// unknown.
    pub expected_seconds: Option<f64>,
}

/// The order in which [`run_jobs`] considers jobs: longest path to the end
/// first (a job's expected time plus the longest of the jobs that wait for
/// it), so that the long jobs and their followers do not end up running
/// alone at the end while other cores idle. Jobs of unknown length come
/// first (they may be long); ties keep the plan's order. Without any
/// expectation this is the plan's order.
pub fn start_order(jobs: &[Job]) -> Vec<usize> {
    let mut path: Vec<f64> = jobs
        .iter()
        .map(|j| j.expected_seconds.unwrap_or(f64::INFINITY))
        .collect();
    // A job waits only for an earlier one, so one pass from the end suffices.
    for i in (0..jobs.len()).rev() {
        if let Some(a) = jobs[i].after.filter(|&a| a < i) {
            let through = jobs[a].expected_seconds.unwrap_or(f64::INFINITY) + path[i];
            path[a] = path[a].max(through);
        }
    }
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|&a, &b| path[b].total_cmp(&path[a]).then(a.cmp(&b)));
    order
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
    /// When it started, in seconds after [`run_jobs`] began (so that the
    /// run's own wall time and each experiment's span can be told).
    pub started: f64,
}

fn minutes(s: f64) -> String {
    if s >= 60.0 {
        format!("{} min {:02.0} s", (s / 60.0).floor(), s % 60.0)
    } else {
        format!("{s:.0} s")
    }
}

/// The progress file of a job: next to its log (`42.log` has
/// `42.progress.jsonl`), there while the job runs.
fn progress_path(log: &Path) -> PathBuf {
    log.with_extension("progress.jsonl")
}

/// A job that was started and has not been seen to end.
struct Running {
    index: usize,
    child: Child,
    started: Instant,
    progress: PathBuf,
    reader: Option<ProgressReader>,
    last: Option<ProgressEvent>,
}

impl Running {
    /// Takes in the events the job sent since the last call.
    fn poll_progress(&mut self) {
        if let Some(event) = self.reader.as_mut().and_then(|r| r.read_events().pop()) {
            self.last = Some(event);
        }
    }

    /// Where the job's current training run stands, in words.
    fn describe(&self) -> String {
        let Some(e) = &self.last else {
            return "starting".into();
        };
        let loss = e.loss.map(|l| format!(", loss {l:.4}")).unwrap_or_default();
        let eta = e.eta_s.map_or_else(|| "unknown".into(), minutes);
        format!(
            "{} epoch {}/{}{loss}, ETA {eta} (at most: early stopping may end it sooner)",
            e.run, e.epoch, e.epochs
        )
    }

    /// Batches of the current training run done, and in all.
    fn position(&self) -> (u64, u64) {
        self.last.as_ref().map_or((0, 1), |e| {
            let done = e.epoch.saturating_sub(1) * e.batches + e.batch;
            (done as u64, (e.epochs * e.batches).max(1) as u64)
        })
    }
}

/// Starts `job` (the `index`-th) with its output going to its log and its
/// progress events ([`PROGRESS_FILE_ENV`]) to its progress file.
fn spawn(job: &Job, index: usize) -> std::io::Result<Running> {
    if let Some(parent) = job.log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let log = std::fs::File::create(&job.log)?;
    let stdout = log.try_clone()?;
    let progress = progress_path(&job.log);
    std::fs::File::create(&progress)?;
    let mut command = Command::new(&job.program);
    command
        .args(&job.args)
        .env(PROGRESS_FILE_ENV, &progress)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(log);
    end_with_parent(&mut command);
    let child = command.spawn().inspect_err(|_| {
        let _ = std::fs::remove_file(&progress);
    })?;
    Ok(Running {
        index,
        child,
        started: Instant::now(),
        reader: ProgressReader::open(&progress).ok(),
        progress,
        last: None,
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
/// Each job's output (stdout and stderr) goes to its log file, and its
/// training runs report their progress as typed events through a file next
/// to it (set in the job's [`PROGRESS_FILE_ENV`]; see
/// [`seqlab_train::progress`]), removed when the job ends. On a terminal,
/// stderr shows a bar per running job (experiment, seed, the current
/// training run's epoch, loss and ETA) above a total bar; elsewhere it gets
/// one plain line per start and end.
pub fn run_jobs(jobs: &[Job], limit: JobLimit, cores: usize) -> Vec<JobResult> {
    let mut pool = Pool::new(jobs, limit, cores);
    loop {
        pool.start_ready();
        pool.collect_ended();
        if pool.all_done() {
            break;
        }
        pool.display.update(jobs, &mut pool.running, &pool.results);
        std::thread::sleep(POLL);
    }
    pool.display.finish();
    pool.results
        .into_iter()
        .map(|r| {
            r.unwrap_or(JobResult {
                ok: false,
                seconds: 0.0,
                started: 0.0,
            })
        })
        .collect()
}

/// How often [`run_jobs`] looks at its jobs.
const POLL: Duration = Duration::from_millis(200);

/// The state of [`run_jobs`].
struct Pool<'a> {
    jobs: &'a [Job],
    limit: JobLimit,
    cores: usize,
    results: Vec<Option<JobResult>>,
    started: Vec<bool>,
    /// Job indices in the order they are considered ([`start_order`]).
    order: Vec<usize>,
    /// When the pool began: job start times are offsets from it.
    began: Instant,
    running: Vec<Running>,
    display: Display,
}

impl<'a> Pool<'a> {
    fn new(jobs: &'a [Job], limit: JobLimit, cores: usize) -> Self {
        Self {
            jobs,
            limit,
            cores,
            results: vec![None; jobs.len()],
            started: vec![false; jobs.len()],
            order: start_order(jobs),
            began: Instant::now(),
            running: Vec::new(),
            display: Display::new(std::io::stderr().is_terminal(), jobs.len()),
        }
    }

    fn all_done(&self) -> bool {
        self.results.iter().all(Option::is_some)
    }

    /// Whether job `i` may start now: not started, the job it waits for
    /// ended, and room for it under the limit.
    fn may_start(&self, i: usize) -> bool {
        let job = &self.jobs[i];
        let waits = job
            .after
            .is_some_and(|a| self.results.get(a).is_some_and(Option::is_none));
        if self.started[i] || waits {
            return false;
        }
        let busy: usize = self
            .running
            .iter()
            .map(|r| self.jobs[r.index].threads)
            .sum();
        match self.limit {
            JobLimit::Auto => self.running.is_empty() || busy + job.threads <= self.cores,
            JobLimit::Fixed(n) => self.running.len() < n.get(),
        }
    }

    /// Starts what fits, in [`start_order`] (a later job may pass one that
    /// must wait).
    fn start_ready(&mut self) {
        for k in 0..self.order.len() {
            let i = self.order[k];
            let job = &self.jobs[i];
            if !self.may_start(i) {
                continue;
            }
            self.started[i] = true;
            match spawn(job, i) {
                Ok(r) => {
                    self.display.started(i, job);
                    self.running.push(r);
                }
                Err(e) => {
                    self.display.line(format_args!(
                        "FAILED {} seed {}: cannot start {}: {e}",
                        job.experiment,
                        job.seed,
                        job.program.display()
                    ));
                    self.results[i] = Some(JobResult {
                        ok: false,
                        seconds: 0.0,
                        started: self.began.elapsed().as_secs_f64(),
                    });
                }
            }
        }
    }

    /// Records and reports the jobs that ended, and removes their progress files.
    fn collect_ended(&mut self) {
        let mut ended = Vec::new();
        self.running.retain_mut(|r| {
            let ok = match r.child.try_wait() {
                Ok(None) => return true,
                Ok(Some(status)) => status.success(),
                Err(_) => false,
            };
            let _ = std::fs::remove_file(&r.progress);
            let started = r.started.duration_since(self.began).as_secs_f64();
            ended.push((r.index, ok, r.started.elapsed().as_secs_f64(), started));
            false
        });
        for (i, ok, seconds, started) in ended {
            self.display.ended(i, &self.jobs[i], ok, seconds);
            self.results[i] = Some(JobResult {
                ok,
                seconds,
                started,
            });
        }
    }
}

/// What [`run_jobs`] shows on stderr: plain lines, or live bars on a terminal.
enum Display {
    Lines,
    Live(Live),
}

/// The bars of a terminal: one per running job (by index) above the total.
struct Live {
    multi: MultiProgress,
    total: ProgressBar,
    bars: BTreeMap<usize, ProgressBar>,
    since: Instant,
}

impl Display {
    fn new(live: bool, jobs: usize) -> Self {
        if !live {
            return Display::Lines;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(jobs as u64));
        total.set_style(bar_style("  jobs [{bar:30}] {pos}/{len} done {msg}"));
        Display::Live(Live {
            multi,
            total,
            bars: BTreeMap::new(),
            since: Instant::now(),
        })
    }

    /// A line on stderr, above the bars if there are any; a closed or full
    /// stderr loses it.
    fn line(&self, text: std::fmt::Arguments) {
        let write = || {
            let _ = writeln!(std::io::stderr(), "{text}");
        };
        match self {
            Display::Lines => write(),
            Display::Live(live) => live.multi.suspend(write),
        }
    }

    /// Job `index` started: a line, or a bar of its own.
    fn started(&mut self, index: usize, job: &Job) {
        match self {
            Display::Lines => self.line(format_args!(
                "started {} seed {} ({} thread{}; log {})",
                job.experiment,
                job.seed,
                job.threads,
                if job.threads == 1 { "" } else { "s" },
                job.log.display()
            )),
            Display::Live(live) => {
                let bar = ProgressBar::new(1)
                    .with_style(bar_style("  {prefix} [{bar:30}] {msg}"))
                    .with_prefix(format!("{} seed {}", job.experiment, job.seed))
                    .with_message("starting");
                let bar = live.multi.insert_before(&live.total, bar);
                live.bars.insert(index, bar);
            }
        }
    }

    /// Job `index` ended: its bar goes, and a line says how it ended.
    fn ended(&mut self, index: usize, job: &Job, ok: bool, seconds: f64) {
        if let Display::Live(live) = self {
            if let Some(bar) = live.bars.remove(&index) {
                bar.finish_and_clear();
                live.multi.remove(&bar);
            }
        }
        if ok {
            self.line(format_args!(
                "ok     {} seed {} ({})",
                job.experiment,
                job.seed,
                minutes(seconds)
            ));
        } else {
            self.line(format_args!(
                "FAILED {} seed {} ({}); last lines of {}:\n{}",
                job.experiment,
                job.seed,
                minutes(seconds),
                job.log.display(),
                tail(&job.log, 12)
            ));
        }
    }

    /// Redraws the bars from the running jobs' latest events.
    fn update(&mut self, jobs: &[Job], running: &mut [Running], results: &[Option<JobResult>]) {
        let Display::Live(live) = self else {
            return;
        };
        for r in running.iter_mut() {
            r.poll_progress();
            if let Some(bar) = live.bars.get(&r.index) {
                let (pos, len) = r.position();
                bar.set_length(len);
                bar.set_position(pos);
                bar.set_message(r.describe());
            }
        }
        let done = results.iter().flatten().count();
        let failed = results.iter().flatten().filter(|r| !r.ok).count();
        live.total.set_length(jobs.len() as u64);
        live.total.set_position(done as u64);
        live.total.set_message(format!(
            "({failed} failed), {} running; elapsed {}",
            running.len(),
            minutes(live.since.elapsed().as_secs_f64())
        ));
    }

    /// Clears the bars (the lines printed stay).
    fn finish(self) {
        if let Display::Live(live) = self {
            for bar in live.bars.values() {
                bar.finish_and_clear();
            }
            live.total.finish_and_clear();
            let _ = live.multi.clear();
        }
    }
}

/// An indicatif style from `template` (the plain default if it is wrong).
fn bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
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
    fn jobs_run_side_by_side_within_the_limit_and_failures_are_reported() {
        let dir = std::env::temp_dir().join(format!("seqlab-jobs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let jobs = jobs_run_side_by_side_and_a_failure_is_logged(&dir);
        jobs_run_one_at_a_time_in_order_when_asked(&dir);
        a_job_of_two_threads_on_two_cores_runs_alone(&dir);
        each_job_is_told_its_own_progress_file(&dir);
        the_longest_expected_job_starts_first(&dir);
        shell_lines_quote_and_refuse_what_would_split_them(&jobs[2]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A job of experiment "demo" that runs `script` under /bin/sh, logging to `dir`.
    fn job(dir: &Path, seed: u64, script: &str) -> Job {
        Job {
            experiment: "demo".into(),
            seed,
            threads: 1,
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            log: dir.join(format!("{seed}.log")),
            after: None,
            expected_seconds: None,
        }
    }

    /// Each of the first two jobs waits (up to 5 s) for the other to have
    /// started: both succeed only if they run at the same time. The third
    /// fails. The jobs.
    fn jobs_run_side_by_side_and_a_failure_is_logged(dir: &Path) -> Vec<Job> {
        let d = dir.display();
        let wait_for = |mine: &str, other: &str| {
            format!("touch {d}/{mine}; echo one epoch 1/1 - 0.1s; i=0; while [ ! -e {d}/{other} ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; [ -e {d}/{other} ]")
        };
        let jobs = vec![
            job(dir, 1, &wait_for("a", "b")),
            job(dir, 2, &wait_for("b", "a")),
            Job {
                after: Some(0),
                ..job(dir, 3, "echo broken >&2; exit 3")
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
        jobs
    }

    /// One at a time when asked, in order: the second starts after the first ended.
    fn jobs_run_one_at_a_time_in_order_when_asked(dir: &Path) {
        let d = dir.display();
        let one = JobLimit::Fixed(NonZeroUsize::new(1).unwrap());
        let serial = vec![
            job(dir, 4, &format!("touch {d}/c; sleep 0.3; [ ! -e {d}/e ]")),
            job(dir, 5, &format!("[ -e {d}/c ] && touch {d}/e")),
        ];
        let results = run_jobs(&serial, one, 2);
        assert!(results.iter().all(|r| r.ok), "{results:?}");
    }

    /// A job of two threads on two cores runs alone under auto.
    fn a_job_of_two_threads_on_two_cores_runs_alone(dir: &Path) {
        let d = dir.display();
        let wide = vec![
            Job {
                threads: 2,
                ..job(dir, 6, &format!("touch {d}/f; sleep 0.3; [ ! -e {d}/g ]"))
            },
            job(dir, 7, &format!("[ -e {d}/f ] && touch {d}/g")),
        ];
        assert!(run_jobs(&wide, JobLimit::Auto, 2).iter().all(|r| r.ok));
    }

    /// Each job is told its own progress file, next to its log, removed when it ended.
    fn each_job_is_told_its_own_progress_file(dir: &Path) {
        let told = vec![job(
            dir,
            8,
            r#"case "$SEQLAB_PROGRESS_FILE" in */8.progress.jsonl) echo '{"run":1}' >> "$SEQLAB_PROGRESS_FILE";; *) exit 1;; esac"#,
        )];
        assert!(run_jobs(&told, JobLimit::Auto, 2)[0].ok);
        assert!(dir.join("8.log").exists() && !dir.join("8.progress.jsonl").exists());
    }

    /// One at a time, the job expected to take longest starts first,
    /// although planned last.
    fn the_longest_expected_job_starts_first(dir: &Path) {
        let d = dir.display();
        let one = JobLimit::Fixed(NonZeroUsize::new(1).unwrap());
        let jobs = vec![
            Job {
                expected_seconds: Some(1.0),
                ..job(dir, 9, &format!("[ -e {d}/long ] && touch {d}/short"))
            },
            Job {
                expected_seconds: Some(100.0),
                ..job(dir, 10, &format!("[ ! -e {d}/short ] && touch {d}/long"))
            },
        ];
        let results = run_jobs(&jobs, one, 2);
        assert!(results.iter().all(|r| r.ok), "{results:?}");
    }

    #[test]
    fn start_order_puts_the_longest_path_first() {
        let dir = Path::new("/nonexistent");
        let with = |seed, expected: Option<f64>, after| Job {
            expected_seconds: expected,
            after,
            ..job(dir, seed, "true")
        };
        // 0 -> 3 make a path of 60 s, longer than 2's 50 s although 2 is
        // the longest single job; 1 is unknown, so first; 4 and 5 tie.
        let jobs = vec![
            with(0, Some(20.0), None),
            with(1, None, None),
            with(2, Some(50.0), None),
            with(3, Some(40.0), Some(0)),
            with(4, Some(5.0), None),
            with(5, Some(5.0), None),
        ];
        assert_eq!(start_order(&jobs), vec![1, 0, 2, 3, 4, 5]);
        // Without expectations: the plan's order.
        let plain: Vec<Job> = (0..4).map(|s| with(s, None, None)).collect();
        assert_eq!(start_order(&plain), vec![0, 1, 2, 3]);
    }

    /// `broken`: the failing job, `sh -c 'echo broken >&2; exit 3'`.
    fn shell_lines_quote_and_refuse_what_would_split_them(broken: &Job) {
        use std::os::unix::ffi::OsStrExt;
        let line = broken.shell_line(Path::new("/tmp/a b")).unwrap();
        assert_eq!(
            line,
            "cd '/tmp/a b' && /bin/sh -c 'echo broken >&2; exit 3'"
        );
        // One job per line: a line break or a byte that is not UTF-8 is refused, not split or rewritten.
        let err = broken.shell_line(Path::new("/tmp/a\nb")).unwrap_err();
        assert!(
            err.contains("current folder") && err.contains("a\\nb"),
            "{err}"
        );
        let odd = Job {
            args: vec!["--results-dir".into(), "/r/x\ry".into()],
            ..broken.clone()
        };
        assert!(odd
            .shell_line(Path::new("/tmp"))
            .unwrap_err()
            .contains("argument"));
        let bad = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/\xff"));
        let err = broken.shell_line(bad).unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
    }
}
