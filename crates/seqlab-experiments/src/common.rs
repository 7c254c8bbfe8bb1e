//! What every experiment shares: the results folder, JSON and text output,
//! history plots, and targets compared with the published numbers.

use crate::{ExperimentError, RunOptions, RunOutcome, LIBTORCH_VERSION};
use seqlab_train::callbacks::{EarlyStopping, ReduceLrOnPlateau};
use seqlab_train::device::device_name;
use seqlab_train::fit::FitConfig;
use seqlab_train::History;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Device;

/// The folder one run of an experiment writes, staged: files go into a
/// hidden sibling of the destination, and [`ResultsDir::commit`] puts the
/// whole folder in place in one step, so a reader sees the previous run or
/// this one, complete, never a mix (see [`seqlab_io::StagingDir`]).
#[derive(Debug)]
pub struct ResultsDir {
    stage: seqlab_io::StagingDir,
    files: Vec<String>,
    _lock: seqlab_io::DirLock,
    _experiment_lock: Option<seqlab_io::DirLock>,
}

impl ResultsDir {
    /// Stages the folder of `name` for this run ([`RunOptions::out_dir`]),
    /// after removing leftovers of killed runs beside it (those whose
    /// process is gone; a concurrent run's are kept).
    ///
    /// One seed of a multi-seed run also holds the experiment's folder
    /// shared ([`seqlab_io::DirLock::acquire_shared`]): seeds run side by
    /// side, but no single-seed run, summary or report replaces the folder
    /// that holds their staging folders until they are done.
    pub fn prepare(opts: &RunOptions, name: &str) -> Result<Self, ExperimentError> {
        let experiment_lock = match opts.seed_set {
            Some(_) => Some(seqlab_io::DirLock::acquire_shared(
                opts.results_dir.join(name),
            )?),
            None => None,
        };
        let mut dir = Self::prepare_at(&opts.out_dir(name))?;
        dir._experiment_lock = experiment_lock;
        Ok(dir)
    }

    /// Stages the folder `dest`, holding its lock ([`seqlab_io::DirLock`])
    /// until the folder is committed or dropped: a second run into the same
    /// folder fails at once with a message naming this one.
    pub fn prepare_at(dest: &Path) -> Result<Self, ExperimentError> {
        let err = |source| ExperimentError::ResultsDir {
            path: dest.to_path_buf(),
            source,
        };
        let lock = seqlab_io::DirLock::acquire(dest)?;
        refuse_symlink(dest)?;
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(err)?;
            seqlab_io::remove_stale_temp_files(parent).map_err(err)?;
        }
        // Leftovers of the file-by-file writes of older versions.
        seqlab_io::remove_stale_temp_files(dest).map_err(err)?;
        Ok(Self {
            stage: seqlab_io::StagingDir::new(dest)?,
            files: Vec::new(),
            _lock: lock,
            _experiment_lock: None,
        })
    }

    /// The folder the run will become once committed.
    pub fn dir(&self) -> &Path {
        self.stage.dest()
    }

    /// Files written so far, relative to the folder.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The path (in the staging folder) to write `file` at, recorded as written.
    pub fn path(&mut self, file: &str) -> PathBuf {
        self.files.push(file.to_string());
        self.stage.path().join(file)
    }

    /// Writes text compressed with gzip (level 9, no file name or time in
    /// the header, so equal text gives equal bytes); for large tables.
    pub fn write_gzip(&mut self, file: &str, text: &str) -> Result<(), ExperimentError> {
        let path = self.path(file);
        Ok(seqlab_io::write_atomic(path, &gzip(text.as_bytes()))?)
    }

    /// Writes text.
    pub fn write_text(&mut self, file: &str, text: &str) -> Result<(), ExperimentError> {
        let path = self.path(file);
        Ok(seqlab_io::write_atomic(path, text.as_bytes())?)
    }

    /// Writes pretty-printed JSON.
    pub fn write_json<T: Serialize>(
        &mut self,
        file: &str,
        value: &T,
    ) -> Result<(), ExperimentError> {
        let text = crate::record::to_json_text(value, file)?;
        self.write_text(file, &text)
    }

    /// Writes a history as `<stem>_history.csv` and its timings as `<stem>_timing.csv`.
    pub fn write_history(&mut self, stem: &str, history: &History) -> Result<(), ExperimentError> {
        self.write_text(&format!("{stem}_history.csv"), &history.to_csv())?;
        self.write_text(&format!("{stem}_timing.csv"), &history.timing_csv())
    }

    /// Writes `manifest.json`: the run id and the SHA-256 of every file
    /// written so far, so that a reader can check that the folder's files
    /// belong together (see [`verify_manifest`]).
    pub fn write_manifest(&mut self, run_id: &str) -> Result<(), ExperimentError> {
        let mut files = std::collections::BTreeMap::new();
        for name in &self.files {
            let path = self.stage.path().join(name);
            let bytes = std::fs::read(&path).map_err(|source| ExperimentError::Read {
                path: path.clone(),
                source,
            })?;
            files.insert(name.clone(), sha256_hex(&bytes));
        }
        let manifest = crate::manifest::Manifest {
            run_id: run_id.to_string(),
            files,
        };
        self.write_json(MANIFEST_FILE, &manifest)
    }

    /// Puts the folder in place (replacing the previous run's whole) and
    /// returns the outcome. Dropping a `ResultsDir` without committing it
    /// (an error part-way) leaves the previous folder as it was.
    pub fn commit(
        self,
        headline: Vec<String>,
        targets_met: bool,
    ) -> Result<RunOutcome, ExperimentError> {
        let dir = self.stage.dest().to_path_buf();
        self.stage.commit()?;
        Ok(RunOutcome {
            dir,
            files: self.files,
            headline,
            targets_met,
        })
    }
}

/// A run's folder is replaced whole, link and all: a symbolic link there
/// would become a real folder while its target kept the stale run, so it
/// is refused, naming the target.
fn refuse_symlink(dest: &Path) -> Result<(), ExperimentError> {
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => {
            let target = std::fs::read_link(dest)
                .map_or_else(|_| "?".to_string(), |t| t.display().to_string());
            Err(ExperimentError::Saved {
                path: dest.to_path_buf(),
                message: format!(
                    "is a symbolic link (to {target}); seqlab replaces a run's folder whole and would replace the link, not its target: remove the link, or move its target in its place"
                ),
            })
        }
        _ => Ok(()),
    }
}

/// A CSV file that seqlab wrote (header line, comma-separated fields, no
/// quoting), read back for a summary over seeds.
#[derive(Debug, Clone)]
pub struct CsvTable {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// `bytes` compressed with gzip at level 9, with an empty header (no name, time 0).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// A text file's content, decompressed when its name ends in `.gz`.
pub(crate) fn read_text_maybe_gzip(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    if path.extension().is_some_and(|x| x == "gz") {
        flate2::read::GzDecoder::new(file).read_to_string(&mut text)?;
    } else {
        std::io::BufReader::new(file).read_to_string(&mut text)?;
    }
    Ok(text)
}

impl CsvTable {
    /// Reads `path` (gzip-compressed when its name ends in `.gz`); a missing
    /// or unreadable file is an error naming it.
    pub fn read(path: &Path) -> Result<Self, ExperimentError> {
        let text = read_text_maybe_gzip(path).map_err(|source| ExperimentError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut lines = text.lines();
        let header = lines
            .next()
            .unwrap_or_default()
            .split(',')
            .map(str::to_string)
            .collect();
        let rows = lines
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    fn index(&self, name: &str) -> Result<usize, ExperimentError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ExperimentError::Saved {
                path: self.path.clone(),
                message: format!("no column {name:?} (written by an older seqlab? rerun it)"),
            })
    }

    /// The column `name` as text, one value per row.
    pub fn column(&self, name: &str) -> Result<Vec<&str>, ExperimentError> {
        let i = self.index(name)?;
        self.rows
            .iter()
            .enumerate()
            .map(|(n, r)| {
                r.get(i)
                    .map(String::as_str)
                    .ok_or_else(|| ExperimentError::Saved {
                        path: self.path.clone(),
                        message: format!("line {} has no column {name:?}", n + 2),
                    })
            })
            .collect()
    }

    /// The column `name` as numbers; a field that is not a number is an
    /// error naming the line.
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>, ExperimentError> {
        self.column(name)?
            .into_iter()
            .enumerate()
            .map(|(n, v)| {
                v.parse::<f64>().map_err(|_| ExperimentError::Saved {
                    path: self.path.clone(),
                    message: format!("line {}: {v:?} in column {name:?} is not a number", n + 2),
                })
            })
            .collect()
    }
}

/// Keras' summary lines for a model: total, and, where the number of
/// untrained parameters is known, trainable and non-trainable.
pub fn keras_split(total: i64, non_trainable: Option<i64>) -> String {
    use seqlab_models::summary::thousands;
    match non_trainable {
        Some(n) => format!(
            "{} total, {} trainable, {} non-trainable",
            thousands(total),
            thousands(total - n),
            thousands(n)
        ),
        None => format!("{} total", thousands(total)),
    }
}

/// Reads a history CSV written by [`ResultsDir::write_history`].
///
/// # Errors
/// The file cannot be read ([`ExperimentError::Read`], naming it) or is not
/// a history ([`ExperimentError::Saved`], naming it).
pub fn read_history(path: &Path) -> Result<History, ExperimentError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    History::from_csv(&text).map_err(|e| ExperimentError::Saved {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

pub use crate::manifest::{check_manifest_lists, sha256_hex, verify_manifest, MANIFEST_FILE};

/// Keras-style callbacks on `val_loss`: EarlyStopping restoring the best
/// weights, and ReduceLROnPlateau.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValLossCallbacks {
    /// EarlyStopping patience.
    pub patience: usize,
    /// EarlyStopping absolute min_delta (Keras default 0).
    pub min_delta: f64,
    /// ReduceLROnPlateau factor.
    pub lr_factor: f64,
    /// ReduceLROnPlateau patience.
    pub lr_patience: usize,
    /// ReduceLROnPlateau absolute min_delta (Keras default 1e-4).
    pub lr_min_delta: f64,
    /// ReduceLROnPlateau floor (Keras default 0).
    pub min_lr: f64,
}

impl ValLossCallbacks {
    /// The book's early stopping and LR schedule for the IMDb and MNIST
    /// models: EarlyStopping(patience), ReduceLROnPlateau(factor 0.5,
    /// `lr_patience`, min_delta 1e-4), Keras' defaults otherwise.
    pub fn book(patience: usize, lr_patience: usize) -> Self {
        Self {
            patience,
            min_delta: 0.0,
            lr_factor: 0.5,
            lr_patience,
            lr_min_delta: 1e-4,
            min_lr: 0.0,
        }
    }

    /// `val_loss, patience 7, restore best weights` (min_delta shown when not 0).
    pub fn describe_early_stopping(&self) -> String {
        if self.min_delta == 0.0 {
            format!("val_loss, patience {}, restore best weights", self.patience)
        } else {
            format!(
                "val_loss, patience {}, min_delta {}, restore best weights",
                self.patience, self.min_delta
            )
        }
    }

    /// `val_loss, factor 0.5, patience 3, min_delta 0.0001` (min_lr shown when not 0).
    pub fn describe_reduce_lr(&self) -> String {
        let mut s = format!(
            "val_loss, factor {}, patience {}, min_delta {}",
            self.lr_factor, self.lr_patience, self.lr_min_delta
        );
        if self.min_lr != 0.0 {
            s.push_str(&format!(", min_lr {}", self.min_lr));
        }
        s
    }

    /// Installs both callbacks in `fit`.
    pub fn install(&self, fit: &mut FitConfig) -> Result<(), ExperimentError> {
        fit.early_stopping = Some(
            EarlyStopping::new("val_loss", self.min_delta, self.patience)?
                .with_restore_best_weights(true),
        );
        fit.reduce_lr = Some(
            ReduceLrOnPlateau::new("val_loss", self.lr_factor, self.lr_patience)?
                .with_min_delta(self.lr_min_delta)
                .with_min_lr(self.min_lr),
        );
        Ok(())
    }
}

/// Run facts recorded in every `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Experiment name.
    pub experiment: String,
    /// `full` or `quick`.
    pub profile: String,
    /// The seed.
    pub seed: u64,
    /// Device actually used, e.g. `cpu`.
    pub device: String,
    /// libtorch version.
    pub libtorch: String,
    /// libtorch's intra-op CPU threads (they can change floating-point sums).
    pub threads: i32,
    /// `--epochs`, when given: seeds trained with other epochs are not merged.
    #[serde(default)]
    pub epochs_override: Option<usize>,
    /// The CPU model (`/proc/cpuinfo`'s model name; absent elsewhere and in
    /// older files): another CPU family may take other kernel paths, whose
    /// floating-point sums differ in the last bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// The seeds of the multi-seed run this seed belongs to (absent for a single-seed run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_set: Option<Vec<u64>>,
    /// The CPU kernel of the recurrent layers: `fused` (seqlab's) or
    /// `libtorch` (`SEQLAB_RNN_KERNEL`); absent in older files. The two give
    /// the same results to float tolerance, not bit for bit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rnn_kernel: Option<String>,
}

impl RunInfo {
    /// Facts of this run.
    pub fn new(name: &str, opts: &RunOptions, device: Device) -> Self {
        Self {
            experiment: name.to_string(),
            profile: if opts.quick { "quick" } else { "full" }.to_string(),
            seed: opts.seed,
            device: device_name(device),
            libtorch: LIBTORCH_VERSION.to_string(),
            threads: tch::get_num_threads(),
            epochs_override: opts.epochs,
            cpu: cpu_model(),
            seed_set: opts.seed_set.clone(),
            rnn_kernel: Some(seqlab_models::fused::active().name().to_string()),
        }
    }
}

/// This machine's CPU model, from `/proc/cpuinfo` (Linux); `None` elsewhere.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub use crate::target::{Target, TargetKind};

/// A measured number as the reports print it: counts as integers, small
/// values in scientific notation, fractions with four decimals.
pub fn fmt_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else if x != 0.0 && x.abs() < 0.01 {
        format!("{x:.3e}")
    } else {
        format!("{x:.4}")
    }
}

/// A two-panel PNG of a training history ([`seqlab_plot::plot_history`]):
/// loss, and accuracy if recorded; training curves solid, validation curves
/// (labelled `val_name`) dashed.
pub fn plot_history(
    history: &History,
    title: &str,
    val_name: &str,
    path: &Path,
) -> Result<(), ExperimentError> {
    Ok(seqlab_plot::plot_history(
        &history.epoch_numbers(),
        |name| history.column(name),
        title,
        val_name,
        path,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gzip_table_reads_back_as_the_plain_one() {
        let dir = std::env::temp_dir().join(format!("seqlab-gzip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = "id,label,probability\ntest/neg/0_2,0,0.25\ntest/pos/1_9,1,0.75\n";
        let bytes = gzip(text.as_bytes());
        // No name or time in the header: equal text, equal bytes.
        assert_eq!(bytes, gzip(text.as_bytes()));
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "gzip mtime");
        std::fs::write(dir.join("p.csv.gz"), &bytes).unwrap();
        std::fs::write(dir.join("p.csv"), text).unwrap();
        let (gz, plain) = (
            CsvTable::read(&dir.join("p.csv.gz")).unwrap(),
            CsvTable::read(&dir.join("p.csv")).unwrap(),
        );
        assert_eq!(gz.numbers("probability").unwrap(), vec![0.25, 0.75]);
        assert_eq!(gz.column("id").unwrap(), plain.column("id").unwrap());
        // A plain file named .gz is an error naming it, not garbage.
        std::fs::write(dir.join("bad.csv.gz"), text).unwrap();
        let err = CsvTable::read(&dir.join("bad.csv.gz"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.csv.gz"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn absent_weights_are_no_disagreement_but_changed_ones_are() {
        let dir = std::env::temp_dir().join(format!("seqlab-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let metrics = br#"{"run_id": "r1"}"#;
        std::fs::write(dir.join("metrics.json"), metrics).unwrap();
        let manifest = serde_json::json!({
            "run_id": "r1",
            "files": {
                "metrics.json": sha256_hex(metrics),
                "model.safetensors": sha256_hex(b"weights"),
                "history.csv": sha256_hex(b"epoch\n"),
                "loss.png": sha256_hex(b"picture"),
            }
        });
        std::fs::write(dir.join(MANIFEST_FILE), manifest.to_string()).unwrap();
        std::fs::write(dir.join("history.csv"), b"epoch\n").unwrap();
        // A fresh clone: no weights, no pictures of other seeds (they are not committed).
        assert!(
            verify_manifest(&dir).is_empty(),
            "{:?}",
            verify_manifest(&dir)
        );
        // Weights from another run are a disagreement.
        std::fs::write(dir.join("model.safetensors"), b"other weights").unwrap();
        let problems = verify_manifest(&dir);
        assert!(
            problems.len() == 1 && problems[0].contains("model.safetensors"),
            "{problems:?}"
        );
        // So is a picture from another run.
        std::fs::remove_file(dir.join("model.safetensors")).unwrap();
        std::fs::write(dir.join("loss.png"), b"another picture").unwrap();
        let problems = verify_manifest(&dir);
        assert!(
            problems.len() == 1 && problems[0].contains("loss.png"),
            "{problems:?}"
        );
        std::fs::remove_file(dir.join("loss.png")).unwrap();
        std::fs::write(dir.join("model.safetensors"), b"weights").unwrap();
        // Any other missing file is one too.
        std::fs::remove_file(dir.join("model.safetensors")).unwrap();
        std::fs::remove_file(dir.join("history.csv")).unwrap();
        let problems = verify_manifest(&dir);
        assert!(
            problems.len() == 1 && problems[0].contains("history.csv is missing"),
            "{problems:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn targets_check_their_range_and_explain_themselves() {
        let t = Target::within("RNN test accuracy", "100%", 0.995, 0.99, 1.0);
        assert!(t.pass);
        assert_eq!(t.expected, "0.99 to 1");
        assert_eq!(
            t.line(),
            "PASS RNN test accuracy: 0.9950 (expected 0.99 to 1; published 100%)"
        );
        let t = Target::within("ff", "46%", 0.6, 0.40, 0.55);
        assert!(!t.pass && t.line().starts_with("MISS"));
        assert_eq!(Target::within("x", "", 5.0, 1.0, f64::MAX).expected, ">= 1");
        assert!(Target::within("mse", "", 2.3e-4, 0.0, 1e-3)
            .line()
            .contains(": 2.300e-4 "));
        let count = Target::within("params", "643265", 643_265.0, 643_265.0, 643_265.0);
        assert!(count.pass);
        assert_eq!(
            count.line(),
            "PASS params: 643265 (expected exactly 643265; published 643265)"
        );
        assert!(!Target::within("x", "", f64::NAN, 0.0, 1.0).pass);
        let open = Target::within("x", "about 46%", 0.5, 0.4, f64::MAX).published_at(0.46);
        assert_eq!(
            (open.lo, open.hi, open.published_value),
            (Some(0.4), None, Some(0.46))
        );
        assert!(open.range_contains(7.0) && !open.range_contains(0.39));
    }

    #[test]
    fn results_dir_records_files_and_cleans_leftovers() {
        let root = std::env::temp_dir().join(format!("seqlab-common-{}", std::process::id()));
        // A temporary of this machine whose process is gone (no pid is this large).
        let mine = seqlab_io::temp_path_for(&root.join("demo").join("old.png")).unwrap();
        let name = mine.file_name().unwrap().to_string_lossy().replacen(
            &format!("-{}-", std::process::id()),
            &format!("-{}-", i32::MAX),
            1,
        );
        let stale = root.join("demo").join(name);
        std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
        std::fs::write(&stale, b"half").unwrap();
        let opts = RunOptions {
            results_dir: root.clone(),
            ..RunOptions::default()
        };
        let mut dir = ResultsDir::prepare(&opts, "demo").unwrap();
        assert!(!stale.exists(), "stale temporary file survived");
        dir.write_json("m.json", &serde_json::json!({"a": 1}))
            .unwrap();
        assert_eq!(dir.files(), ["m.json"]);
        assert!(
            !root.join("demo/m.json").exists(),
            "written before the commit"
        );
        dir.commit(Vec::new(), true).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("demo/m.json")).unwrap(),
            "{\n  \"a\": 1\n}\n"
        );
        // A file that cannot be read back for the manifest: the message says so.
        let mut dir = ResultsDir::prepare(&opts, "demo").unwrap();
        let _ = dir.path("gone.png");
        let err = dir.write_manifest("x").unwrap_err().to_string();
        assert!(
            err.starts_with("cannot read ") && err.contains("gone.png") && !err.contains("prepare"),
            "{err}"
        );
        let err = CsvTable::read(&root).unwrap_err().to_string();
        assert_eq!(err, format!("cannot read {}", root.display()));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
