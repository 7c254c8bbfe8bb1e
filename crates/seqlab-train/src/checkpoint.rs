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
    load_matching(vs, path, "this model", |_| true)
}

fn under(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// Saves the variables of `vs` whose names start with `prefix.` (one
/// submodule, e.g. the `encoder` of an autoencoder) to `path`
/// (`.safetensors`), atomically. Names keep their prefix, so the file loads
/// into any store that builds the submodule under the same path.
pub fn save_weights_under(
    vs: &VarStore,
    prefix: &str,
    path: impl AsRef<Path>,
) -> Result<(), TrainError> {
    let path = path.as_ref();
    if path.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        return Err(TrainError::InvalidConfig(format!(
            "checkpoint {} must have the .safetensors extension",
            path.display()
        )));
    }
    let mut named: Vec<(String, tch::Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(n, _)| under(n, prefix))
        .collect();
    if named.is_empty() {
        return Err(TrainError::InvalidConfig(format!(
            "no variables under {prefix:?} to save to {}",
            path.display()
        )));
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(seqlab_io::write_atomic_with(path, |tmp| {
        tch::Tensor::write_safetensors(&named, tmp)
    })?)
}

/// Loads a file written by [`save_weights_under`] into the variables of `vs`
/// under `prefix.`: every such variable must be in the file with the same
/// shape, and the file must hold nothing else. Errors name the file and the
/// variable.
pub fn load_weights_under(
    vs: &VarStore,
    prefix: &str,
    path: impl AsRef<Path>,
) -> Result<(), TrainError> {
    let path = path.as_ref();
    if !path.is_file() {
        return Err(TrainError::Checkpoint {
            path: path.to_path_buf(),
            message: "no such file (train the model first)".into(),
        });
    }
    load_matching(vs, path, &format!("{prefix:?} of this model"), |n| {
        under(n, prefix)
    })
}

/// Copies the file's tensors into the variables that `wanted` selects,
/// after checking that the names and shapes agree, so that a checkpoint of
/// another model is an error naming the variable and both shapes (not a
/// libtorch backtrace).
fn load_matching(
    vs: &VarStore,
    path: &Path,
    scope: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<(), TrainError> {
    let fail = |message: String| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message,
    };
    let saved = tch::Tensor::read_safetensors(path).map_err(|e| {
        let first = e.to_string();
        let first = first.lines().next().unwrap_or_default().to_string();
        fail(format!("not a readable safetensors file: {first}"))
    })?;
    let vars = vs.variables();
    let wanted: Vec<&String> = vars.keys().filter(|n| wanted(n)).collect();
    if let Some((extra, _)) = saved.iter().find(|(n, _)| !wanted.contains(&n)) {
        return Err(fail(format!(
            "holds {extra:?}, which is not a variable of {scope}"
        )));
    }
    tch::no_grad(|| {
        for name in wanted {
            let Some((_, value)) = saved.iter().find(|(n, _)| n == name) else {
                return Err(fail(format!("lacks the variable {name:?}")));
            };
            let var = &vars[name];
            if var.size() != value.size() {
                return Err(fail(format!(
                    "{name:?} has shape {:?} in the file but {:?} in the model",
                    value.size(),
                    var.size()
                )));
            }
            var.shallow_clone()
                .f_copy_(value)
                .map_err(|e| fail(e.to_string()))?;
        }
        Ok(())
    })
}
