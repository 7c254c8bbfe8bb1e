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

/// What [`save_checkpoint`] writes next to the weights: `<stem>.json`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CheckpointMeta {
    /// `ModelConfig::KIND`.
    model: String,
    /// The path in the variable store the model was built under ("" for the root).
    prefix: String,
    /// The configuration.
    config: serde_json::Value,
}

/// The JSON file beside a checkpoint's weights: `model.safetensors` ->
/// `model.json`.
pub fn config_path(weights: &Path) -> std::path::PathBuf {
    weights.with_extension("json")
}

/// The variables (names and shapes) of `vs`, sorted by name.
fn layout(vs: &VarStore) -> Vec<(String, Vec<i64>)> {
    let mut vars: Vec<(String, Vec<i64>)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.size()))
        .collect();
    vars.sort();
    vars
}

/// The variables a model built from `config` under `prefix` has.
fn layout_of<C: seqlab_models::ModelConfig>(
    config: &C,
    prefix: &str,
) -> Result<Vec<(String, Vec<i64>)>, TrainError> {
    let vs = VarStore::new(tch::Device::Cpu);
    let root = vs.root();
    let path = if prefix.is_empty() {
        root
    } else {
        root / prefix
    };
    config.build(&path)?;
    Ok(layout(&vs))
}

/// Saves the model's weights to `path` (`.safetensors`) and its
/// configuration to `path` with the `.json` extension, both atomically, so
/// that [`load_checkpoint`] can rebuild the model from the files alone.
///
/// The model must have been built from `config` at the root of `vs` or
/// under one path below it (`vs.root() / "net"`); anything else in `vs` is
/// an error, checked before writing, so that a checkpoint always rebuilds.
pub fn save_checkpoint<C: seqlab_models::ModelConfig>(
    vs: &VarStore,
    config: &C,
    path: impl AsRef<Path>,
) -> Result<(), TrainError> {
    let path = path.as_ref();
    let have = layout(vs);
    // The one path every variable lies under, if there is one.
    let common = match have.first().and_then(|(n, _)| n.split_once('.')) {
        Some((first, _)) if have.iter().all(|(n, _)| under(n, first)) => first.to_string(),
        _ => String::new(),
    };
    let prefix = if layout_of(config, "")? == have {
        String::new()
    } else if !common.is_empty() && layout_of(config, &common)? == have {
        common
    } else {
        return Err(TrainError::Checkpoint {
            path: path.to_path_buf(),
            message: format!(
                "the variables of this store (names and shapes) are not those of the {} this \
                 configuration builds (build the model from this configuration at the store's root \
                 or under one path)",
                C::KIND
            ),
        });
    };
    let unwritable = |e: serde_json::Error| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: format!("cannot write the configuration: {e}"),
    };
    let meta = CheckpointMeta {
        model: C::KIND.to_string(),
        prefix,
        config: serde_json::to_value(config).map_err(unwritable)?,
    };
    let text = serde_json::to_string_pretty(&meta).map_err(unwritable)?;
    save_weights(vs, path)?;
    seqlab_io::write_atomic(config_path(path), text.as_bytes())?;
    Ok(())
}

/// Rebuilds a model saved by [`save_checkpoint`]: reads the configuration
/// beside `path`, builds the model on `device` and loads the weights.
/// Returns the variable store, the model and its configuration.
///
/// # Errors
/// [`TrainError::Checkpoint`] naming the file when the JSON is missing,
/// unreadable, holds another kind of model than `C`, or a configuration
/// the model refuses, and when the weights do not fit the model (naming the
/// variable and both shapes).
pub fn load_checkpoint<C: seqlab_models::ModelConfig>(
    path: impl AsRef<Path>,
    device: tch::Device,
) -> Result<(VarStore, C::Model, C), TrainError> {
    let path = path.as_ref();
    let json = config_path(path);
    let fail = |message: String| TrainError::Checkpoint {
        path: json.clone(),
        message,
    };
    let text = std::fs::read_to_string(&json).map_err(|e| {
        fail(if e.kind() == std::io::ErrorKind::NotFound {
            "no such file: a checkpoint is the weights plus this JSON file (save it with save_checkpoint)".into()
        } else {
            e.to_string()
        })
    })?;
    let meta: CheckpointMeta = serde_json::from_str(&text)
        .map_err(|e| fail(format!("not a checkpoint description: {e}")))?;
    if meta.model != C::KIND {
        return Err(fail(format!("holds a {}, not a {}", meta.model, C::KIND)));
    }
    let config: C = serde_json::from_value(meta.config)
        .map_err(|e| fail(format!("the {} configuration does not parse: {e}", C::KIND)))?;
    let mut vs = VarStore::new(device);
    let model = {
        let root = vs.root();
        let at = if meta.prefix.is_empty() {
            root
        } else {
            root / meta.prefix.as_str()
        };
        config
            .build(&at)
            .map_err(|e| fail(format!("the configuration is refused: {e}")))?
    };
    load_weights(&mut vs, path)?;
    Ok((vs, model, config))
}
