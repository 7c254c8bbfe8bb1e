//! `results/REPORT.md`: every experiment's published numbers beside the
//! measured ones, with pass/miss marks, run facts and the pictures.
//!
//! The report is built only from the files the experiments wrote, read
//! through their types ([`crate::record`]): a summary over seeds
//! ([`Summary`]) or one seed's `metrics.json` ([`SeedView`]), `timing.json`
//! and the PNGs. It can be regenerated at any time with `seqlab report`;
//! `cargo xtask reproduce-all` does so after every run and adds its status
//! table (`reproduce-all.tsv`).

use crate::aggregate::{INTERVAL_METHOD, SEEDS_DIR, VERDICT_RULE};
use crate::common::{fmt_number, Target};
use crate::record::{read_json, SeedView, SettingSummary, Summary, TargetSummary};
use crate::runner::Measurement;
use crate::target::{TargetKind, Verdict};
use crate::{ExperimentError, Registered, EXPERIMENTS};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The report's file name, in the results folder.
pub const REPORT_FILE: &str = "REPORT.md";
/// The status table `cargo xtask reproduce-all` writes: `name<TAB>ok|failed<TAB>seconds`.
pub const RUNS_FILE: &str = "reproduce-all.tsv";

/// What an experiment's folder holds, read through its types.
#[derive(Debug, Clone)]
pub enum Results {
    /// No `metrics.json` yet.
    NotRun,
    /// One seed's results.
    Single(Box<SeedView>),
    /// A summary over seeds (`seeds/<seed>/` beside it).
    Seeds(Box<Summary>),
}

impl Results {
    /// Reads `<results_dir>/<name>/`: a summary where `seeds/` is there,
    /// else one seed's results; an error naming a file that does not fit.
    pub fn read(results_dir: &Path, e: &Registered) -> Result<Self, ExperimentError> {
        let dir = results_dir.join(e.name);
        if !dir.join("metrics.json").exists() {
            return Ok(Results::NotRun);
        }
        if dir.join(SEEDS_DIR).is_dir() {
            // A summary is shown only while every seed it summarises can be read.
            crate::aggregate::seed_folders(&dir)?;
            let summary: Summary = read_json(&dir.join("metrics.json"))?;
            return Ok(Results::Seeds(Box::new(summary)));
        }
        Ok(Results::Single(Box::new(e.seed_view(&dir)?)))
    }

    /// The verdicts: published comparisons by outcome, goals met.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        match self {
            Results::NotRun => {}
            Results::Single(v) => {
                for x in &v.metrics.targets {
                    t.count(x.verdict(), x.pass);
                }
            }
            Results::Seeds(s) => {
                for x in &s.targets {
                    t.count(x.verdict, x.pass);
                }
            }
        }
        t
    }

    /// The seed column: `42`, or `42..46 (5)` for a summary of seeds.
    pub fn seeds_cell(&self) -> String {
        match self {
            Results::NotRun => "-".into(),
            Results::Single(v) => v.metrics.info.seed.to_string(),
            Results::Seeds(s) => format!(
                "{} ({})",
                crate::jobs::format_seed_list(&s.seeds).trim_end_matches(','),
                s.seeds.len()
            ),
        }
    }
}

/// The verdicts of an experiment's targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Published numbers inside the seeds' interval.
    pub consistent: usize,
    /// Published numbers below the whole interval (the reproduction is higher).
    pub above: usize,
    /// Published numbers above the whole interval (the reproduction is lower).
    pub below: usize,
    /// seqlab's own goals met.
    pub goals_met: usize,
    /// seqlab's own goals.
    pub goals: usize,
}

impl Tally {
    fn count(&mut self, verdict: Option<Verdict>, pass: bool) {
        match verdict {
            Some(Verdict::Consistent) => self.consistent += 1,
            Some(Verdict::Above) => self.above += 1,
            Some(Verdict::Below) => self.below += 1,
            None => {
                self.goals += 1;
                self.goals_met += usize::from(pass);
            }
        }
    }

    /// `published: 2 consistent, 1 below; goals 3/4`.
    pub fn cell(&self) -> String {
        let mut parts = Vec::new();
        let published = self.consistent + self.above + self.below;
        if published > 0 {
            let mut p = format!("{} consistent", self.consistent);
            if self.above > 0 {
                p.push_str(&format!(", {} above", self.above));
            }
            if self.below > 0 {
                p.push_str(&format!(", **{} below**", self.below));
            }
            parts.push(format!("published: {p}"));
        }
        if self.goals > 0 {
            parts.push(format!("goals {}/{}", self.goals_met, self.goals));
        }
        parts.join("; ")
    }
}

/// `12.3 s`, or `2 min 05 s` from a minute on.
pub(crate) fn minutes(seconds: f64) -> String {
    if seconds >= 60.0 {
        format!("{} min {:02.0} s", (seconds / 60.0).floor(), seconds % 60.0)
    } else {
        format!("{seconds:.1} s")
    }
}

/// One row of the last `reproduce-all` run: one (experiment, seed) process.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// Experiment name.
    pub name: String,
    /// Its seed.
    pub seed: u64,
    /// Whether it succeeded.
    pub ok: bool,
    /// Wall time of the whole `seqlab run` process (build excluded).
    pub seconds: f64,
    /// When it started, in seconds after its `reproduce-all` began (absent
    /// in older files and for rows kept from an earlier run).
    pub started: Option<f64>,
}

/// Reads `reproduce-all.tsv` from `results_dir` (`experiment<TAB>seed<TAB>ok|failed<TAB>seconds`,
/// then optionally `<TAB>started`;
/// empty when absent; malformed lines are skipped).
pub fn read_runs(results_dir: &Path) -> Vec<RunRow> {
    let Ok(text) = std::fs::read_to_string(results_dir.join(RUNS_FILE)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let name = f.next()?.to_string();
            let seed = f.next()?.parse().ok()?;
            let ok = f.next()? == "ok";
            let seconds = f.next()?.parse().ok()?;
            let started = f.next().and_then(|v| v.parse().ok());
            Some(RunRow {
                name,
                seed,
                ok,
                seconds,
                started,
            })
        })
        .collect()
}

/// The status cell of an experiment in the last `reproduce-all`.
fn status_of(runs: &[RunRow], name: &str) -> String {
    let mine: Vec<&RunRow> = runs.iter().filter(|r| r.name == name).collect();
    if mine.is_empty() {
        return "-".into();
    }
    let failed = mine.iter().filter(|r| !r.ok).count();
    let seconds: f64 = mine.iter().map(|r| r.seconds).sum();
    let what = if mine.len() == 1 {
        String::new()
    } else {
        format!("{} runs, ", mine.len())
    };
    if failed == 0 {
        format!("ok ({what}{})", minutes(seconds))
    } else {
        format!("**{failed} FAILED** ({what}{})", minutes(seconds))
    }
}

/// `timing.json`'s total.
#[derive(serde::Deserialize)]
struct Timing {
    total: f64,
}

/// Wall time of a folder: its `timing.json` total, or the sum of its seeds' totals.
fn wall_of(dir: &Path, results: &Results) -> String {
    let total_of = |d: &Path| {
        read_json::<Timing>(&d.join("timing.json"))
            .ok()
            .map(|t| t.total)
    };
    match results {
        Results::Seeds(s) => {
            let total: f64 = s
                .seeds
                .iter()
                .filter_map(|seed| total_of(&dir.join(SEEDS_DIR).join(seed.to_string())))
                .sum();
            format!("{} (sum over seeds)", minutes(total))
        }
        _ => total_of(dir).map_or_else(|| "-".into(), minutes),
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), fmt_number)
}

fn interval(ci: Option<[f64; 2]>) -> String {
    ci.map_or_else(
        || "-".into(),
        |[lo, hi]| format!("[{}, {}]", fmt_number(lo), fmt_number(hi)),
    )
}

/// Mean ± sd, range and interval cells of a target over seeds (the
/// per-seed values instead of the interval where the seeds split).
fn spread_cells(x: &TargetSummary) -> (String, String, String) {
    match &x.spread {
        Some(s) if x.split => (
            format!("{} ± {}", fmt_number(s.mean), fmt_number(s.sd)),
            format!("[{}, {}]", fmt_number(s.min), fmt_number(s.max)),
            format!(
                "not meaningful: the seeds split ({})",
                x.values
                    .iter()
                    .map(|(seed, v)| format!("{seed}: {}", num(*v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some(s) => (
            format!("{} ± {}", fmt_number(s.mean), fmt_number(s.sd)),
            format!("[{}, {}]", fmt_number(s.min), fmt_number(s.max)),
            interval(s.ci95),
        ),
        None => (
            x.problem.clone().unwrap_or_else(|| "no values".into()),
            "-".into(),
            "-".into(),
        ),
    }
}

/// The published comparisons over seeds.
fn published_table(targets: &[&TargetSummary]) -> String {
    let mut t = String::from(
        "Compared with the published numbers:\n\n| verdict | what | published (where) | mean ± sd | [min, max] | 95% interval for the mean | n |\n| --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for x in targets {
        let (spread, range, ci) = spread_cells(x);
        let verdict = match x.verdict {
            Some(Verdict::Consistent) => "consistent".to_string(),
            Some(v) => format!("**{}**", v.name()),
            None => "-".into(),
        };
        let published = match &x.source {
            Some(w) => format!("{} ({w})", x.published),
            None => x.published.clone(),
        };
        let _ = writeln!(
            t,
            "| {verdict} | {} | {published} | {spread} | {range} | {ci} | {} |",
            x.what, x.n
        );
    }
    t.push('\n');
    t
}

/// seqlab's own goals over seeds.
fn goals_table(targets: &[&TargetSummary]) -> String {
    let mut t = String::from(
        "seqlab's own goals (not published numbers):\n\n| verdict (on the mean) | what | expectation | accepted | mean ± sd | [min, max] | 95% interval for the mean | n | seeds passing |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for x in targets {
        let mark = if x.pass { "PASS" } else { "**MISS**" };
        let (spread, range, ci) = spread_cells(x);
        let _ = writeln!(
            t,
            "| {mark} | {} | {} | {} | {spread} | {range} | {ci} | {} | {}/{} |",
            x.what, x.published, x.expected, x.n, x.seeds_passing, x.n
        );
    }
    t.push('\n');
    t
}

/// The targets of a summary over seeds: published comparisons, then goals.
fn seeds_table(s: &Summary, seeds_cell: &str) -> String {
    let (published, goals): (Vec<&TargetSummary>, Vec<&TargetSummary>) = s
        .targets
        .iter()
        .partition(|t| t.kind == TargetKind::Published);
    let mut t = String::new();
    if !published.is_empty() {
        t.push_str(&published_table(&published));
    }
    if !goals.is_empty() {
        t.push_str(&goals_table(&goals));
    }
    let _ = write!(t, "{INTERVAL_METHOD}. Seeds: {seeds_cell}.");
    if !s.missing_seeds.is_empty() {
        let list: Vec<String> = s.missing_seeds.iter().map(u64::to_string).collect();
        let _ = write!(
            t,
            " **Missing seeds** (planned, no folder yet): {}.",
            list.join(", ")
        );
    }
    t.push_str("\n\n");
    t
}

/// The targets table of one seed's results.
fn single_seed_table(targets: &[Target]) -> String {
    let mut t = String::from(
        "| verdict | what | published or expected | accepted | measured |\n| --- | --- | --- | --- | --- |\n",
    );
    for x in targets {
        let mark = match x.verdict() {
            Some(Verdict::Consistent) => "consistent".to_string(),
            Some(v) => format!("**{}**", v.name()),
            None if x.pass => "PASS (goal)".to_string(),
            None => "**MISS** (goal)".to_string(),
        };
        let _ = writeln!(
            t,
            "| {mark} | {} | {} | {} | {} |",
            x.what,
            x.published,
            x.expected,
            fmt_number(x.measured),
        );
    }
    t.push('\n');
    t
}

/// Numbers measured without a target: one value, or their spread over seeds.
fn measurements_table(results: &Results) -> String {
    let mut t = String::new();
    match results {
        Results::Seeds(s) if !s.measurements.is_empty() => {
            t.push_str("Measured without a target:\n\n| what | mean ± sd | [min, max] | 95% interval for the mean | n |\n| --- | --- | --- | --- | --- |\n");
            for x in &s.measurements {
                let (mean, range, ci) = match &x.spread {
                    Some(s) => (
                        format!("{} ± {}", fmt_number(s.mean), fmt_number(s.sd)),
                        format!("[{}, {}]", fmt_number(s.min), fmt_number(s.max)),
                        interval(s.ci95),
                    ),
                    None => (
                        x.problem.clone().unwrap_or_default(),
                        "-".into(),
                        "-".into(),
                    ),
                };
                let _ = writeln!(t, "| {} | {mean} | {range} | {ci} | {} |", x.what, x.n);
            }
        }
        Results::Single(v) if !v.metrics.measurements.is_empty() => {
            t.push_str("Measured without a target:\n\n| what | measured |\n| --- | --- |\n");
            for Measurement { what, measured } in &v.metrics.measurements {
                let _ = writeln!(t, "| {what} | {} |", fmt_number(*measured));
            }
        }
        _ => return t,
    }
    t.push('\n');
    t
}

/// A setting's value over seeds: the shared value, or `42: a; 43: b`
/// (shortened where the list would not fit a table cell).
fn setting_value(s: &SettingSummary) -> String {
    if let Some(v) = &s.value {
        return v.clone();
    }
    let per_seed: Vec<String> = s
        .by_seed
        .iter()
        .map(|(seed, v)| format!("{seed}: {v}"))
        .collect();
    let text = per_seed.join("; ");
    if text.chars().count() <= 200 {
        text
    } else {
        format!(
            "differs by seed (see `seeds/<seed>/metrics.json`; seed {})",
            per_seed[0].chars().take(80).collect::<String>()
        )
    }
}

/// The settings as a two-column table.
fn settings_table(settings: &[SettingSummary]) -> String {
    if settings.is_empty() {
        return String::new();
    }
    let mut t = String::from("| setting | value |\n| --- | --- |\n");
    for s in settings {
        let _ = writeln!(
            t,
            "| {} | {} |",
            s.name,
            setting_value(s).replace('|', "\\|")
        );
    }
    t.push('\n');
    t
}

/// A training run and its epochs by seed.
type EpochsBySeed = (String, BTreeMap<String, usize>);

/// The epochs each training run took: one number where the seeds agree.
fn epochs_table(epochs: &[EpochsBySeed]) -> String {
    if epochs.is_empty() {
        return String::new();
    }
    let mut t = String::from("| training run | epochs |\n| --- | --- |\n");
    for (run, by_seed) in epochs {
        let distinct: std::collections::BTreeSet<&usize> = by_seed.values().collect();
        let cell = match (distinct.len(), distinct.first()) {
            (1, Some(n)) => n.to_string(),
            _ => by_seed
                .iter()
                .map(|(seed, n)| format!("{seed}: {n}"))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let _ = writeln!(t, "| {run} | {cell} |");
    }
    t.push('\n');
    t
}

fn png_names(dir: &Path) -> Vec<String> {
    let mut pngs: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|f| f.ok())
                .map(|f| f.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".png") && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    pngs.sort();
    pngs
}

/// Builds the report text for the experiments found under `results_dir`.
///
/// An experiment folder holds either one seed's results or a summary over
/// seeds (beside `seeds/<seed>/`); the report reads whichever is there. A
/// `metrics.json` that cannot be read is flagged in its section, naming
/// it, and the others are reported as usual.
pub fn render(results_dir: &Path) -> String {
    render_checked(results_dir).0
}

const OVERVIEW: &str = "| experiment | targets | profile | seeds | device | CPU threads | libtorch | wall time | last reproduce-all |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";

/// [`render`], and one line per experiment whose results could not be read.
pub fn render_checked(results_dir: &Path) -> (String, Vec<String>) {
    let runs = read_runs(results_dir);
    let mut s = String::from("# seqlab: the chapter reproduced\n\n");
    s.push_str("Generated by `seqlab report` (run by `cargo xtask reproduce-all`) from the files in this folder. ");
    s.push_str("For each experiment: the numbers its source prints beside the measured ones, seqlab's own goals apart from them, the run's settings and facts, where the reproduction differs from the source, and its pictures. ");
    s.push_str("Where several seeds ran, every number is summarised over the seeds: mean, sample standard deviation, range, and a 95% confidence interval for the mean from Student's t with n - 1 degrees of freedom, clipped to the range the measure can take.\n\n");
    let _ = write!(s, "**The verdict rule**, the same everywhere: {VERDICT_RULE}. Where a bounded measure's seeds split into two groups (the largest gap between neighbouring values exceeds both half their range and a quarter of the measure's range) the interval is not meaningful: the per-seed values are shown and the seeds' range takes its place. With one seed, its value takes the interval's place.\n\n");
    s.push_str("**What is reproducible.** On one CPU model, with the same libtorch build, the same recurrent kernel (seqlab's, the default, or libtorch's with `SEQLAB_RNN_KERNEL=libtorch`; each seed's `metrics.json` says which) and the same number of CPU threads, a seed's files are identical from run to run (wall times apart). On another CPU model libtorch and seqlab's kernel may take other code paths (seqlab's has an AVX2 build and a baseline one), whose floating-point sums differ in the last bits; over many epochs those differences grow, so each seed's numbers differ while their distribution over seeds stays the same. That is why verdicts rest on intervals over several seeds, not on one seed's number.\n\n");
    s.push_str(OVERVIEW);
    let mut sections = String::new();
    let mut problems = Vec::new();
    for e in EXPERIMENTS {
        match Results::read(results_dir, e) {
            Ok(results) => {
                let (row, section) = render_experiment(results_dir, e, &results, &runs);
                s.push_str(&row);
                sections.push_str(&section);
            }
            Err(err) => {
                let err = crate::error_line(std::iter::successors(
                    Some(&err as &dyn std::error::Error),
                    |e| e.source(),
                ));
                let _ = writeln!(
                    s,
                    "| [{0}](#{0}) | **unreadable** | | | | | | | {1} |",
                    e.name,
                    status_of(&runs, e.name)
                );
                let _ = write!(
                    sections,
                    "## {}\n\n{}\n\n**Its results could not be read:** {err}\n\n",
                    e.name, e.description
                );
                problems.push(format!("{}: {err}", e.name));
            }
        }
    }
    s.push('\n');
    s.push_str(&sections);
    if let Some(device) = crate::device::section(results_dir) {
        s.push_str(&device);
    }
    (s, problems)
}

/// One experiment's overview row and section, as [`render`] writes them
/// (for an experiment outside the registry too).
pub fn section(results_dir: &Path, e: &Registered) -> Result<String, ExperimentError> {
    let results = Results::read(results_dir, e)?;
    let (row, section) = render_experiment(results_dir, e, &results, &read_runs(results_dir));
    Ok(format!("{row}\n{section}"))
}

/// The run facts a section and the overview print.
struct Facts<'a> {
    cpus: Vec<&'a str>,
    profile: &'a str,
    device: &'a str,
    libtorch: &'a str,
    threads: i32,
}

fn facts(results: &Results) -> Option<Facts<'_>> {
    match results {
        Results::NotRun => None,
        Results::Single(v) => Some(Facts {
            cpus: v.metrics.info.cpu.iter().map(String::as_str).collect(),
            profile: &v.metrics.info.profile,
            device: &v.metrics.info.device,
            libtorch: &v.metrics.info.libtorch,
            threads: v.metrics.info.threads,
        }),
        Results::Seeds(s) => Some(Facts {
            cpus: s.facts.cpus.iter().map(String::as_str).collect(),
            profile: &s.facts.profile,
            device: &s.facts.device,
            libtorch: &s.facts.libtorch,
            threads: s.facts.threads,
        }),
    }
}

/// Files that disagree with their folder's manifest (every seed's folder
/// for a summary), and seed folders left out or merged although mixed.
fn folder_problems(dir: &Path, results: &Results) -> (Vec<String>, Vec<String>) {
    match results {
        Results::Seeds(s) => (
            s.seeds
                .iter()
                .flat_map(|seed| {
                    crate::common::verify_manifest(&dir.join(SEEDS_DIR).join(seed.to_string()))
                })
                .collect(),
            s.seed_problems
                .iter()
                .chain(&s.mixed_settings)
                .cloned()
                .collect(),
        ),
        _ => (crate::common::verify_manifest(dir), Vec::new()),
    }
}

/// One experiment's row of the overview table and its section.
fn render_experiment(
    results_dir: &Path,
    e: &Registered,
    results: &Results,
    runs: &[RunRow],
) -> (String, String) {
    let dir = results_dir.join(e.name);
    let status = status_of(runs, e.name);
    let Some(f) = facts(results) else {
        return (
            format!("| [{0}](#{0}) | not run | | | | | | | {status} |\n", e.name),
            format!(
                "## {}\n\n{}\n\nNot run yet (no `{}/metrics.json`).\n\n",
                e.name, e.description, e.name
            ),
        );
    };
    let tally = results.tally().cell();
    let multi = matches!(results, Results::Seeds(_));
    let wall = wall_of(&dir, results);
    let seeds = results.seeds_cell();
    let (problems, left_out) = folder_problems(&dir, results);
    let row =
        format!(
        "| [{name}](#{name}) | {tally}{}{}{} | {} | {seeds} | {} | {} | {} | {wall} | {status} |\n",
        if multi { " (over seeds)" } else { "" },
        if problems.is_empty() { "" } else { ", **files disagree**" },
        if left_out.is_empty() { "" } else { ", **seed folders left out or mixed**" },
        f.profile,
        f.device,
        f.threads,
        f.libtorch,
        name = e.name,
    );
    let mut section = format!("## {}\n\n{}\n\n", e.name, e.description);
    if !e.about.is_empty() {
        let _ = write!(section, "{}\n\n", e.about.trim_end());
    }
    section.push_str(&warnings(&problems, &left_out));
    section.push_str(&match results {
        Results::Seeds(s) => seeds_table(s, &seeds),
        Results::Single(v) if !v.metrics.targets.is_empty() => {
            single_seed_table(&v.metrics.targets)
        }
        _ => String::new(),
    });
    section.push_str(&measurements_table(results));
    if let Results::Seeds(s) = results {
        for p in &s.report_paragraphs {
            let _ = writeln!(section, "{}\n", p.trim_end());
        }
    }
    let _ = writeln!(
        section,
        "Run: profile {}, seed{} {seeds}, device {} ({} CPU threads{}), libtorch {}, wall time {wall}.\n",
        f.profile,
        if multi { "s" } else { "" },
        f.device,
        f.threads,
        if f.cpus.is_empty() {
            String::new()
        } else {
            format!(" of {}", f.cpus.join(", "))
        },
        f.libtorch
    );
    section.push_str(&settings_and_pictures(results_dir, e, results));
    (row, section)
}

/// The warnings of an experiment's section: files that do not belong to
/// the run their manifest describes, seed folders left out or merged.
fn warnings(problems: &[String], left_out: &[String]) -> String {
    let mut s = String::new();
    if !problems.is_empty() {
        s.push_str("**Warning: this folder's files do not all belong to the run its manifest describes** (an interrupted or concurrent run, or a file changed by hand); rerun the experiment:\n\n");
        for p in problems {
            let _ = writeln!(s, "- {p}");
        }
        s.push('\n');
    }
    if !left_out.is_empty() {
        s.push_str("**Warning: seed folders left out of this summary, or merged although their settings differ:**\n\n");
        for p in left_out {
            let _ = writeln!(s, "- {p}");
        }
        s.push('\n');
    }
    s
}

/// Settings and epochs of a section, over seeds where there are several.
fn settings_and_epochs(results: &Results) -> (Vec<SettingSummary>, Vec<EpochsBySeed>) {
    match results {
        Results::NotRun => (Vec::new(), Vec::new()),
        Results::Single(v) => {
            let seed = v.metrics.info.seed.to_string();
            (
                v.settings
                    .iter()
                    .map(|s| SettingSummary {
                        name: s.name.clone(),
                        value: Some(s.value.clone()),
                        by_seed: BTreeMap::new(),
                    })
                    .collect(),
                v.epochs
                    .iter()
                    .map(|(run, n)| (run.clone(), BTreeMap::from([(seed.clone(), *n)])))
                    .collect(),
            )
        }
        Results::Seeds(s) => (
            s.settings.clone(),
            s.epochs
                .iter()
                .map(|e| (e.run.clone(), e.by_seed.clone()))
                .collect(),
        ),
    }
}

/// The experiment's sentences about one seed's run (the folder's, or the
/// first seed's of a summary), generated from its recorded numbers.
fn notes(results_dir: &Path, e: &Registered, results: &Results) -> String {
    let (seed, notes) = match results {
        Results::Single(v) => (None, v.notes.clone()),
        Results::Seeds(s) => match s.seeds.first() {
            Some(seed) => {
                let dir = results_dir
                    .join(e.name)
                    .join(SEEDS_DIR)
                    .join(seed.to_string());
                (
                    Some(*seed),
                    e.seed_view(&dir).map(|v| v.notes).unwrap_or_default(),
                )
            }
            None => (None, Vec::new()),
        },
        Results::NotRun => (None, Vec::new()),
    };
    if notes.is_empty() {
        return String::new();
    }
    let mut s = match seed {
        Some(seed) => format!("Notes on seed {seed}'s run:\n\n"),
        None => "Notes on the run:\n\n".to_string(),
    };
    for n in notes {
        let _ = writeln!(s, "- {n}");
    }
    s.push('\n');
    s
}

/// The settings, epochs, differences from the source and pictures of an
/// experiment's section (pictures of one seed: the folder itself, or the
/// first seed's, and those over all seeds).
fn settings_and_pictures(results_dir: &Path, e: &Registered, results: &Results) -> String {
    let mut s = String::new();
    let (settings, epochs) = settings_and_epochs(results);
    s.push_str(&settings_table(&settings));
    s.push_str(&epochs_table(&epochs));
    s.push_str(&notes(results_dir, e, results));
    let diffs = e.differences;
    if !diffs.is_empty() {
        s.push_str("Differences from the source:\n\n");
        for d in diffs {
            let _ = writeln!(s, "- {d}");
        }
        s.push('\n');
    }
    let dir = results_dir.join(e.name);
    let first_seed = match results {
        Results::Seeds(summary) => summary.seeds.first().copied(),
        _ => None,
    };
    if first_seed.is_some() {
        let pngs = png_names(&dir);
        if !pngs.is_empty() {
            s.push_str("Over all seeds:\n\n");
        }
        for p in pngs {
            let _ = writeln!(s, "![{0}/{p}]({0}/{p})\n", e.name);
        }
    }
    let (seed_dir, seed_rel): (PathBuf, String) = match first_seed {
        Some(seed) => {
            let rel = format!("{}/{SEEDS_DIR}/{seed}", e.name);
            (results_dir.join(&rel), rel)
        }
        None => (dir, e.name.to_string()),
    };
    let pngs = png_names(&seed_dir);
    if let (Some(seed), false) = (first_seed, pngs.is_empty()) {
        let _ = writeln!(s, "Seed {seed} alone:\n");
    }
    for p in pngs {
        let _ = writeln!(s, "![{seed_rel}/{p}]({seed_rel}/{p})\n");
    }
    s
}

/// Writes `REPORT.md` into `results_dir` (atomically) and returns its path.
pub fn write_report(results_dir: &Path) -> Result<PathBuf, ExperimentError> {
    Ok(write_report_checked(results_dir)?.0)
}

/// [`write_report`], and one line per experiment whose results could not
/// be read (the report flags each in its section and goes on with the others).
pub fn write_report_checked(results_dir: &Path) -> Result<(PathBuf, Vec<String>), ExperimentError> {
    let path = results_dir.join(REPORT_FILE);
    let (text, problems) = render_checked(results_dir);
    seqlab_io::write_atomic(&path, text.as_bytes())?;
    Ok((path, problems))
}
