//! `results/REPORT.md`: every experiment's published numbers beside the
//! measured ones, with pass/miss marks, run facts and the pictures.
//!
//! The report is built only from the files the experiments wrote
//! (`metrics.json`, `timing.json`, the PNGs), so it can be regenerated at
//! any time with `seqlab report`; `cargo xtask reproduce-all` does so after
//! every run and adds its status table (`reproduce-all.tsv`).

use crate::common::fmt_number;
use crate::{ExperimentError, EXPERIMENTS};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The report's file name, in the results folder.
pub const REPORT_FILE: &str = "REPORT.md";
/// The status table `cargo xtask reproduce-all` writes: `name<TAB>ok|failed<TAB>seconds`.
pub const RUNS_FILE: &str = "reproduce-all.tsv";

/// Where the reproduction differs from its source, and why.
fn differences(name: &str) -> &'static [&'static str] {
    match name {
        "seq2one" => &[
            "The post's feed-forward loop trains on the first 60 samples only (an indexing slip); it is reproduced as published and also run corrected.",
        ],
        "temporal-order" => &[
            "HARD: with PyTorch's or Keras' initialisation the LSTM stayed at chance for 300 epochs, so it starts with a forget-gate bias of 3 and clips the gradient norm at 1; the RNN gets the same budget.",
        ],
        "length-sweep" => &[
            "Not in the sources: an added sweep with equal width and budget for the three cells and Keras initialisation; each seed trains every length and cell once, and the plot over seeds shows the mean with a band from the worst to the best seed.",
        ],
        "imdb-rnn" | "imdb-lstm" => &[
            "libtorch's LSTM/RNN keep two bias vectors: 32 (SimpleRNN) or 128 (LSTM) more stored parameters than Keras counts; the Keras-counted totals equal the book's.",
            "libtorch's batch norm updates its moving variance with the unbiased batch variance (Keras: biased).",
            "Besides the book's protocol (all 25,000 training reviews, validation on the test set), a held-out protocol validates on 20% of the training reviews, and a test-validated protocol fits the held-out protocol's same reviews with the same seed but validates on the test set: their paired difference is the effect of validating on the test set alone.",
        ],
        "mnist-lstm-ae" | "mnist-bilstm-ae" => &[
            "The reconstruction pictures show the first test image of each digit; each caption names its index in the MNIST test file (the book's single example is test image 9).",
            "EarlyStopping ignores gains below 1e-4: with Keras' default of 0, training runs for hundreds of epochs at learning rates near 1e-7 on gains of about 1e-6.",
            "libtorch's LSTMs keep two bias vectors (more stored parameters than Keras counts); the Keras-counted totals equal the book's.",
        ],
        "seq2seq-sin-cos" => &[
            "As published (zero-fed decoding): the post's get_output_data writes each prediction to the global dy (dy[0, 0, 0] = y_output), never to the decoder input _dy, so the decoder reads 0 at every step; this is the decoding behind the post's \"captured the shape somehow\" picture. Corrected one at a time: fed-back decoding (the same model), then the improved recipe (longer teacher forcing, then free-running fine-tuning on its own fed-back outputs).",
            "The post prints no seed; the same seeds initialise every run of one seed here.",
        ],
        "seq2seq-damped" | "seq2seq-power" => &[
            "As published: main() compiles these pairs with rmsprop and categorical_crossentropy; on one linear output Keras divides the output by its own sum (= 1), so the loss is constant and nothing trains (checked: RMSprop with Keras' defaults for 3 epochs, the largest weight change). main() then plots with the global prediction models of the first (sin -> cos) training: the sin -> cos model decodes the new inputs, zero-fed, which explains the post's \"180 degrees out of phase\" remark.",
            "Corrected one at a time: (1) fed-back decoding of that sin -> cos model; (2) the pair trained on its own windows with the post's Adam and MSE (fed back); (3) the improved recipe.",
        ],
        "continuation" => &[
            "As posted: the asker's Chain(Dense(1,3), LSTM(3,3), Dense(3,5,relu), Dense(5,1)), its loss and data, ADAM() (lr 1e-3; opt is not printed) and Flux's initialisation, 20 epochs, with both slips of the printed code: batchSequences(x, batchSize) starts with x = copy(xtrain) and batchSize = 3, so the targets are unshuffled batches of 3 of the inputs (the model learns the identity); predictSequence calls m(seq[i-1]) only from i = nSeeds + 1, so seeds 1 to 4, and with them the 4th seed that sets the slope, never reach the model's state.",
            "Each slip is then fixed alone, both together, and the smallest changes of the asker's own architecture (200 epochs, learning rate 1e-2, width 16) are measured apart from the fixes; the recommended model is an LSTM encoder-decoder that reads the seeds and produces the continuation autoregressively.",
            "Loss: the mean of the squared errors over the five scored steps, where the post sums them (Adam is invariant to that constant factor); libtorch's LSTM has two bias vectors where Flux's has one (both start at Flux's values).",
        ],
        _ => &[],
    }
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Every numeric field whose name mentions epochs, with its JSON path.
fn epoch_fields(v: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    let Value::Object(map) = v else {
        return;
    };
    for (k, v) in map {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if k.contains("epoch") && v.is_number() {
            out.push((path, v.to_string()));
        } else if v.is_object() {
            epoch_fields(v, &path, out);
        }
    }
}

fn fmt_measured(v: &Value) -> String {
    v.as_f64().map_or_else(|| v.to_string(), fmt_number)
}

/// How many of a `metrics.json`'s targets pass.
pub(crate) fn targets_passed(targets: &[Value]) -> usize {
    targets
        .iter()
        .filter(|t| t["pass"] == Value::Bool(true))
        .count()
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
}

/// Reads `reproduce-all.tsv` from `results_dir` (`experiment<TAB>seed<TAB>ok|failed<TAB>seconds`;
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
            Some(RunRow {
                name,
                seed,
                ok,
                seconds,
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

/// The seed column: `42`, or `42..46 (5)` for a summary of seeds.
pub(crate) fn seeds_cell(m: &Value) -> String {
    match m["seeds"].as_array() {
        Some(seeds) => {
            let list: Vec<u64> = seeds.iter().filter_map(Value::as_u64).collect();
            format!(
                "{} ({})",
                crate::jobs::format_seed_list(&list).trim_end_matches(','),
                list.len()
            )
        }
        None => m["seed"].to_string(),
    }
}

/// Wall time of a folder: its `timing.json` total, or the sum of its seeds' totals.
fn wall_of(dir: &Path, m: &Value) -> String {
    if let Some(seeds) = m["seeds"].as_array() {
        let total: f64 = seeds
            .iter()
            .filter_map(|s| {
                read_json(
                    &dir.join(crate::aggregate::SEEDS_DIR)
                        .join(s.to_string())
                        .join("timing.json"),
                )
            })
            .filter_map(|t| t["total"].as_f64())
            .sum();
        return format!("{} (sum over seeds)", minutes(total));
    }
    read_json(&dir.join("timing.json"))
        .and_then(|t| t["total"].as_f64())
        .map(minutes)
        .unwrap_or_else(|| "-".into())
}

fn num(v: &Value) -> String {
    v.as_f64().map_or_else(|| "-".into(), fmt_number)
}

/// The targets table of a summary over seeds.
fn seeds_table(m: &Value, targets: &[Value]) -> String {
    let mut t = String::from(
        "| verdict (on the mean) | what | published | expected | mean ± sd | [min, max] | 95% interval for the mean | n | seeds passing | published vs the seeds' range |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for x in targets {
        let mark = if x["pass"] == Value::Bool(true) {
            "PASS"
        } else {
            "**MISS**"
        };
        let (spread, range, interval) = match x["mean"].as_f64() {
            Some(_) => (
                format!("{} ± {}", num(&x["mean"]), num(&x["sd"])),
                format!("[{}, {}]", num(&x["min"]), num(&x["max"])),
                match x["ci95"].as_array() {
                    Some(ci) if ci.len() == 2 => format!("[{}, {}]", num(&ci[0]), num(&ci[1])),
                    _ => "-".into(),
                },
            ),
            None => (
                x["problem"].as_str().unwrap_or("no values").to_string(),
                "-".into(),
                "-".into(),
            ),
        };
        let position = x["published_position"]
            .as_str()
            .map_or("no number published".to_string(), |p| {
                format!("{p} ({})", num(&x["published_value"]))
            });
        let _ = writeln!(
            t,
            "| {mark} | {} | {} | {} | {spread} | {range} | {interval} | {} | {}/{} | {position} |",
            x["what"].as_str().unwrap_or(""),
            x["published"].as_str().unwrap_or(""),
            x["expected"].as_str().unwrap_or(""),
            x["n"],
            x["seeds_passing"],
            x["n"],
        );
    }
    let _ = write!(
        t,
        "\n{} Seeds: {}.",
        m["interval"]
            .as_str()
            .unwrap_or(crate::aggregate::INTERVAL_METHOD),
        seeds_cell(m)
    );
    if let Some(missing) = m["missing_seeds"].as_array().filter(|a| !a.is_empty()) {
        let _ = write!(
            t,
            " **Missing seeds** (planned, no folder yet): {}.",
            missing
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    t.push_str("\n\n");
    t
}

/// Numbers measured without a target: one value, or their spread over seeds.
fn measurements_table(ms: &[Value], multi: bool) -> String {
    let mut t = if multi {
        String::from("Measured without a target:\n\n| what | mean ± sd | [min, max] | 95% interval for the mean | n |\n| --- | --- | --- | --- | --- |\n")
    } else {
        String::from("Measured without a target:\n\n| what | measured |\n| --- | --- |\n")
    };
    for x in ms {
        let what = x["what"].as_str().unwrap_or("");
        if multi {
            let interval = match x["ci95"].as_array() {
                Some(ci) if ci.len() == 2 => format!("[{}, {}]", num(&ci[0]), num(&ci[1])),
                _ => "-".into(),
            };
            let _ = writeln!(
                t,
                "| {what} | {} ± {} | [{}, {}] | {interval} | {} |",
                num(&x["mean"]),
                num(&x["sd"]),
                num(&x["min"]),
                num(&x["max"]),
                x["n"]
            );
        } else {
            let _ = writeln!(t, "| {what} | {} |", num(&x["measured"]));
        }
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
/// seeds (`metrics.json` with a `seeds` list, beside `seeds/<seed>/`); the
/// report reads whichever is there. A `metrics.json` that cannot be read is
/// flagged in its section, naming it, and the others are reported as usual.
pub fn render(results_dir: &Path) -> String {
    render_checked(results_dir).0
}

/// [`render`], and one line per experiment whose results could not be read.
pub fn render_checked(results_dir: &Path) -> (String, Vec<String>) {
    let runs = read_runs(results_dir);
    let mut s = String::from("# seqlab: the chapter reproduced\n\n");
    s.push_str("Generated by `seqlab report` (run by `cargo xtask reproduce-all`) from the files in this folder. ");
    s.push_str("For each experiment: the source's published number beside the measured one, PASS or MISS, the run's settings and facts, where the reproduction differs from the source, and its pictures. ");
    s.push_str("Where several seeds ran, every number with a target is summarised over the seeds (mean, sample standard deviation, range, and a 95% confidence interval for the mean from Student's t with n - 1 degrees of freedom), the verdict is the accepted range applied to the mean, and the report says where the published number falls relative to the seeds' range.\n\n");
    s.push_str("| experiment | targets | profile | seeds | device | CPU threads | libtorch | wall time | last reproduce-all |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    let mut sections = String::new();
    let mut problems = Vec::new();
    for e in EXPERIMENTS {
        let (mut row, mut section) = (String::new(), String::new());
        match render_experiment(results_dir, e, &runs, &mut row, &mut section) {
            Ok(()) => {
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

/// One experiment's row of the overview table (into `s`) and its section
/// (into `sections`); an error where its files cannot be read.
fn render_experiment(
    results_dir: &Path,
    e: &crate::Experiment,
    runs: &[RunRow],
    s: &mut String,
    sections: &mut String,
) -> Result<(), ExperimentError> {
    let dir = results_dir.join(e.name);
    let status = status_of(runs, e.name);
    let metrics_path = dir.join("metrics.json");
    if !metrics_path.exists() {
        let _ = writeln!(
            s,
            "| [{0}](#{0}) | not run | | | | | | | {status} |",
            e.name
        );
        let _ = write!(
            sections,
            "## {}\n\n{}\n\nNot run yet (no `{}/metrics.json`).\n\n",
            e.name, e.description, e.name
        );
        return Ok(());
    }
    let m = crate::aggregate::read_metrics(&metrics_path)?;
    let targets = m["targets"].as_array().cloned().unwrap_or_default();
    let passed = targets_passed(&targets);
    let wall = wall_of(&dir, &m);
    let field = |k: &str| {
        m[k].as_str()
            .map(str::to_string)
            .unwrap_or_else(|| m[k].to_string())
    };
    let threads = m["threads"]
        .as_i64()
        .map_or_else(|| "-".to_string(), |t| t.to_string());
    let multi = m["seeds"].is_array();
    // Every run folder is checked against its manifest: files of another run are flagged.
    let problems: Vec<String> = if multi {
        m["seeds"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|seed| {
                crate::common::verify_manifest(
                    &dir.join(crate::aggregate::SEEDS_DIR).join(seed.to_string()),
                )
            })
            .collect()
    } else {
        crate::common::verify_manifest(&dir)
    };
    let left_out: Vec<&str> = ["seed_problems", "mixed_settings"]
        .iter()
        .flat_map(|k| m[*k].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let _ = writeln!(
        s,
        "| [{name}](#{name}) | {passed}/{} pass{}{}{} | {} | {} | {} | {threads} | {} | {wall} | {status} |",
        targets.len(),
        if multi { " (means)" } else { "" },
        if problems.is_empty() { "" } else { ", **files disagree**" },
        if left_out.is_empty() { "" } else { ", **seed folders left out or mixed**" },
        field("profile"),
        seeds_cell(&m),
        field("device"),
        field("libtorch"),
        name = e.name,
    );

    let _ = write!(sections, "## {}\n\n{}\n\n", e.name, e.description);
    sections.push_str(&warnings(&problems, &left_out));
    if multi {
        sections.push_str(&seeds_table(&m, &targets));
    } else if !targets.is_empty() {
        sections.push_str(&single_seed_table(&targets));
    }
    if let Some(ms) = m["measurements"].as_array().filter(|a| !a.is_empty()) {
        sections.push_str(&measurements_table(ms, multi));
    }
    for p in m["report_paragraphs"].as_array().into_iter().flatten() {
        if let Some(p) = p.as_str() {
            let _ = writeln!(sections, "{}\n", p.trim_end());
        }
    }
    let _ = writeln!(
        sections,
        "Run: profile {}, seed{} {}, device {} ({threads} CPU threads), libtorch {}, wall time {wall}.\n",
        field("profile"),
        if multi { "s" } else { "" },
        seeds_cell(&m),
        field("device"),
        field("libtorch")
    );
    settings_and_pictures(results_dir, e, &m, sections)
}

/// The warnings of an experiment's section: files that do not belong to
/// the run their manifest describes, seed folders left out or merged.
fn warnings(problems: &[String], left_out: &[&str]) -> String {
    let mut sections = String::new();
    if !problems.is_empty() {
        sections.push_str("**Warning: this folder's files do not all belong to the run its manifest describes** (an interrupted or concurrent run, or a file changed by hand); rerun the experiment:\n\n");
        for p in problems {
            let _ = writeln!(sections, "- {p}");
        }
        sections.push('\n');
    }
    if !left_out.is_empty() {
        sections.push_str("**Warning: seed folders left out of this summary, or merged although their settings differ:**\n\n");
        for p in left_out {
            let _ = writeln!(sections, "- {p}");
        }
        sections.push('\n');
    }
    sections
}

/// The targets table of one seed's results.
fn single_seed_table(targets: &[Value]) -> String {
    let mut sections = String::from(
        "| | what | published | expected | measured |\n| --- | --- | --- | --- | --- |\n",
    );
    for t in targets {
        let mark = if t["pass"] == Value::Bool(true) {
            "PASS"
        } else {
            "**MISS**"
        };
        let _ = writeln!(
            sections,
            "| {mark} | {} | {} | {} | {} |",
            t["what"].as_str().unwrap_or(""),
            t["published"].as_str().unwrap_or(""),
            t["expected"].as_str().unwrap_or(""),
            fmt_measured(&t["measured"]),
        );
    }
    sections.push('\n');
    sections
}

/// The settings, epochs, differences from the source and pictures of an
/// experiment's section (pictures of one seed: the folder itself, or the
/// first seed's, and those over all seeds).
fn settings_and_pictures(
    results_dir: &Path,
    e: &crate::Experiment,
    m: &Value,
    sections: &mut String,
) -> Result<(), ExperimentError> {
    let dir = results_dir.join(e.name);
    let multi = m["seeds"].is_array();
    if let Some(settings) = m["settings"].as_object() {
        sections.push_str("Settings: ");
        let parts: Vec<String> = settings
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {}",
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                )
            })
            .collect();
        sections.push_str(&parts.join("; "));
        sections.push_str(".\n\n");
    }
    if let Some(by_seed) = m["settings_by_seed"].as_object() {
        let parts: Vec<String> = by_seed.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(
            sections,
            "Settings that depend on the seed: {}.\n",
            parts.join("; ")
        );
    }
    let first_seed = m["seeds"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_u64);
    // Epochs and pictures of one seed: the folder itself, or the first seed's.
    let (seed_dir, seed_rel, seed_metrics) = match first_seed {
        Some(seed) => {
            let rel = format!("{}/{}/{seed}", e.name, crate::aggregate::SEEDS_DIR);
            let d = results_dir.join(&rel);
            let sm = crate::aggregate::read_metrics(&d.join("metrics.json"))?;
            (d, rel, sm)
        }
        None => (dir.clone(), e.name.to_string(), m.clone()),
    };
    let mut epochs = Vec::new();
    epoch_fields(&seed_metrics, "", &mut epochs);
    if !epochs.is_empty() {
        let parts: Vec<String> = epochs.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let which = first_seed.map_or(String::new(), |s| format!(" (seed {s})"));
        let _ = writeln!(sections, "Epochs{which}: {}.\n", parts.join("; "));
    }
    let diffs = differences(e.name);
    let notes: Vec<String> = m["notes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !diffs.is_empty() || !notes.is_empty() {
        sections.push_str("Differences from the source and notes:\n\n");
        for d in diffs {
            let _ = writeln!(sections, "- {d}");
        }
        for n in notes {
            let _ = writeln!(sections, "- {n}");
        }
        sections.push('\n');
    }
    if multi {
        let pngs = png_names(&dir);
        if !pngs.is_empty() {
            sections.push_str("Over all seeds:\n\n");
        }
        for p in pngs {
            let _ = writeln!(sections, "![{0}/{p}]({0}/{p})\n", e.name);
        }
    }
    let pngs = png_names(&seed_dir);
    if let (Some(seed), false) = (first_seed, pngs.is_empty()) {
        let _ = writeln!(sections, "Seed {seed} alone:\n");
    }
    for p in pngs {
        let _ = writeln!(sections, "![{seed_rel}/{p}]({seed_rel}/{p})\n");
    }
    Ok(())
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
