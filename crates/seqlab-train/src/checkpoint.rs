//! Weights saved as `.safetensors`, written atomically.

use crate::TrainError;
use std::path::Path;
use tch::nn::VarStore;

/// Saves every variable of `vs` to `path` (which should end in `.safetensors`).
///
/// The file is written to a temporary name and renamed, so an interrupted
/// save never leaves a truncated checkpoint.
pub fn save_weights(vs: &VarStore, path: impl AsRef<Path>) -> Result<(), TrainError> {
    let path = path.as_ref();
    if path.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        return Err(TrainError::InvalidConfig(format!(
            "checkpoint {} must have the .safetensors extension",
            path.display()
        )));
    }
    Ok(seqlab_io::write_atomic_with(path, |tmp| vs.save(tmp))?)
}

/// Loads weights saved by [`save_weights`] into `vs` (names and shapes must match).
pub fn load_weights(vs: &mut VarStore, path: impl AsRef<Path>) -> Result<(), TrainError> {
    let path = path.as_ref();
    if !path.is_file() {
        return Err(TrainError::Checkpoint {
            path: path.to_path_buf(),
            message: "no such file (train the model first)".into(),
        });
    }
    vs.load(path).map_err(|e| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
