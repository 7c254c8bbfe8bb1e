//! `manifest.json`: the run id and the SHA-256 of every file a run wrote,
//! so that a reader can check that a folder's files belong together.

use crate::ExperimentError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A run folder's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The run's id (also in its `metrics.json`).
    pub run_id: String,
    /// File name (relative to the folder) -> SHA-256 in lower-case hex.
    pub files: BTreeMap<String, String>,
}

/// The run id a `metrics.json` carries.
#[derive(Deserialize)]
struct RunId {
    run_id: Option<String>,
}

/// The file in every run folder that lists its files with their hashes.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The SHA-256 of `bytes` in lower-case hex, as `manifest.json` records it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a run folder against its `manifest.json`: every listed file
/// exists with the recorded SHA-256, and `metrics.json` carries the
/// manifest's run id. Returns the problems found (empty: the folder is one
/// run's, whole); a folder without a manifest is one problem.
///
/// Weights (`.safetensors`) and pictures (`.png`) may be absent: the
/// repository's committed results leave out the weights (too large) and
/// the pictures of every seed but the first (a run draws them again), so a
/// fresh clone lacks them. Files that are present must still match.
pub fn verify_manifest(dir: &Path) -> Vec<String> {
    let path = dir.join(MANIFEST_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return vec![format!("{} is missing", path.display())];
    };
    let Ok(manifest) = serde_json::from_str::<Manifest>(&text) else {
        return vec![format!(
            "{} is not a manifest seqlab writes",
            path.display()
        )];
    };
    let mut problems = Vec::new();
    let run_id = manifest.run_id.as_str();
    for (name, hash) in &manifest.files {
        let file = dir.join(name);
        match std::fs::read(&file) {
            Ok(bytes) if sha256_hex(&bytes) == *hash => {}
            Ok(_) => problems.push(format!(
                "{} differs from the run {run_id} that the manifest describes",
                file.display()
            )),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && file
                        .extension()
                        .is_some_and(|x| x == "safetensors" || x == "png") => {}
            Err(_) => problems.push(format!("{} is missing", file.display())),
        }
    }
    let metrics = dir.join("metrics.json");
    let metrics_id = std::fs::read_to_string(&metrics)
        .ok()
        .and_then(|t| serde_json::from_str::<RunId>(&t).ok())
        .and_then(|m| m.run_id);
    if metrics_id.as_deref() != Some(run_id) {
        problems.push(format!(
            "{} belongs to run {}, the manifest to run {run_id}",
            metrics.display(),
            metrics_id.as_deref().unwrap_or("(none)")
        ));
    }
    problems
}

/// Checks that each of `files` (names in `dir`) is listed in the folder's
/// `manifest.json` with the SHA-256 it has now: that the files are the
/// ones the run wrote, together. The error names the first file that is
/// missing from the manifest or differs (or the manifest itself).
pub fn check_manifest_lists(dir: &Path, files: &[&str]) -> Result<(), ExperimentError> {
    let path = dir.join(MANIFEST_FILE);
    let saved = |path: &Path, message: String| ExperimentError::Saved {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        saved(
            &path,
            format!("{e}; without it nothing shows that the folder's files belong together"),
        )
    })?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| saved(&path, format!("not a manifest seqlab writes ({e})")))?;
    let run_id = manifest.run_id.as_str();
    for name in files {
        let file = dir.join(name);
        let Some(want) = manifest.files.get(*name) else {
            return Err(saved(
                &file,
                format!("not listed in {MANIFEST_FILE}, so not a file of the run {run_id}"),
            ));
        };
        let bytes = std::fs::read(&file).map_err(|e| saved(&file, e.to_string()))?;
        if sha256_hex(&bytes) != *want {
            return Err(saved(
                &file,
                format!(
                    "differs from the file of the run {run_id} that {MANIFEST_FILE} describes \
                     (SHA-256 mismatch): changed, damaged or copied from another run; \
                     restore the folder or train again"
                ),
            ));
        }
    }
    Ok(())
}
