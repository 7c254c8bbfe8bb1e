//! Making libtorch 2.11.0 available (from a `LIBTORCH` folder, or PyPI wheels).
//!
//! Order: a `LIBTORCH` set by the user wins (it is checked, never
//! overwritten); otherwise `.libtorch/torch` in the checkout is used if it is
//! complete; otherwise the CPU set of wheels is installed there from the
//! Python package index: `torch==2.11.0` without dependencies plus the two
//! CUDA runtime wheels its `libtorch_cpu.so` needs at load time, unpacked side
//! by side (`.libtorch/torch`, `.libtorch/nvidia`) so the wheel's own RPATH
//! finds them. `.cargo/config.toml` points `LIBTORCH` at `.libtorch/torch`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The libtorch version tch 0.24 requires.
pub const TORCH_VERSION: &str = "2.11.0";
/// The wheels of the CPU set.
pub const WHEELS: [&str; 3] = [
    "torch==2.11.0",
    "nvidia-cuda-runtime==13.0.96",
    "nvidia-cuda-cupti==13.0.85",
];

const POINT_LIBTORCH: &str = "To use a libtorch you already have, set LIBTORCH to its folder (the one holding lib/ and \
include/), for example an unpacked libtorch 2.11.0 archive, or the `torch` folder of a PyTorch 2.11.0 install: \
LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')";

/// Ensures libtorch is available and returns its folder.
pub fn setup(root: &Path) -> Result<PathBuf, String> {
    let default_dir = root.join(".libtorch").join("torch");
    // `cargo xtask` inherits `.cargo/config.toml`'s LIBTORCH, which is our own default folder:
    // only a LIBTORCH pointing elsewhere was set by the user.
    let user_set = std::env::var_os("LIBTORCH")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|d| d != &default_dir);
    if let Some(dir) = user_set {
        let version = check(&dir).map_err(|why| {
            format!(
                "LIBTORCH={} is not a usable libtorch {TORCH_VERSION}: {why}",
                dir.display()
            )
        })?;
        eprintln!("xtask: using LIBTORCH={} ({version})", dir.display());
        return Ok(dir);
    }
    if let Ok(version) = check(&default_dir) {
        eprintln!(
            "xtask: libtorch {version} is set up in {}",
            default_dir.display()
        );
        return Ok(default_dir);
    }
    install(root)?;
    Ok(default_dir)
}

/// Checks a libtorch folder; returns its version.
fn check(dir: &Path) -> Result<String, String> {
    if !dir.join("lib").join("libtorch_cpu.so").is_file() {
        return Err(format!("{} has no lib/libtorch_cpu.so", dir.display()));
    }
    if !dir.join("include").join("torch").is_dir() {
        return Err(format!("{} has no include/torch", dir.display()));
    }
    let version = read_version(dir).ok_or_else(|| {
        format!(
            "cannot tell the version of {} (no build-version or version.py)",
            dir.display()
        )
    })?;
    if version.split('+').next() != Some(TORCH_VERSION) {
        return Err(format!(
            "it is version {version}, tch 0.24 needs {TORCH_VERSION}"
        ));
    }
    Ok(version)
}

/// The version from `build-version` (libtorch archives) or `version.py` (wheels).
fn read_version(dir: &Path) -> Option<String> {
    if let Ok(v) = fs::read_to_string(dir.join("build-version")) {
        return Some(v.trim().to_string());
    }
    let py = fs::read_to_string(dir.join("version.py")).ok()?;
    py.lines().find_map(|l| {
        let rest = l
            .strip_prefix("__version__")?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        Some(rest.trim_matches(|c| c == '\'' || c == '"').to_string())
    })
}

pub(crate) fn find_python() -> Option<String> {
    ["python3", "python"]
        .into_iter()
        .map(str::to_string)
        .find(|py| {
            Command::new(py)
                .args(["-m", "pip", "--version"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
}

fn install(root: &Path) -> Result<(), String> {
    let python = find_python().ok_or_else(|| {
        format!(
            "cannot install libtorch {TORCH_VERSION}: no Python with pip was found (tried `python3 -m pip` and \
             `python -m pip`), and LIBTORCH is not set.\n{POINT_LIBTORCH}"
        )
    })?;
    let staging = root.join(".libtorch.partial");
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| {
            format!(
                "cannot remove the unfinished install {}: {e}",
                staging.display()
            )
        })?;
    }
    let mut cmd = Command::new(&python);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--only-binary=:all:",
        "--no-compile",
        "--disable-pip-version-check",
        "--quiet",
        "--target",
    ])
    .arg(&staging)
    .args(WHEELS);
    let shown = format!(
        "{python} -m pip install --no-deps --only-binary=:all: --target {} {}",
        staging.display(),
        WHEELS.join(" ")
    );
    eprintln!("xtask: installing libtorch {TORCH_VERSION} from the package index (about 545 MB):\n  {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {python}: {e}"))?;
    if !status.success() {
        let _ = fs::remove_dir_all(&staging);
        return Err(format!(
            "pip could not install {} ({status}). What was tried:\n  {shown}\nIf this machine cannot reach the \
             package index (PIP_INDEX_URL and PIP_FIND_LINKS are honoured), install libtorch another way.\n{POINT_LIBTORCH}",
            WHEELS.join(" ")
        ));
    }
    let torch = staging.join("torch");
    let version = read_version(&torch).ok_or_else(|| {
        format!(
            "the installed wheel has no torch/version.py in {}",
            staging.display()
        )
    })?;
    // torch-sys checks `build-version` when present: record the wheel's version there.
    fs::write(torch.join("build-version"), format!("{version}\n"))
        .map_err(|e| format!("cannot write build-version: {e}"))?;
    check(&torch)
        .map_err(|why| format!("the installed wheels are not a usable libtorch: {why}"))?;
    let target = root.join(".libtorch");
    if target.exists() {
        fs::remove_dir_all(&target)
            .map_err(|e| format!("cannot replace {}: {e}", target.display()))?;
    }
    fs::rename(&staging, &target).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            staging.display(),
            target.display()
        )
    })?;
    eprintln!(
        "xtask: libtorch {version} installed in {}",
        target.join("torch").display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("lib")).unwrap();
        fs::create_dir_all(d.join("include").join("torch")).unwrap();
        fs::write(d.join("lib").join("libtorch_cpu.so"), b"").unwrap();
        d
    }

    #[test]
    fn reads_versions_from_wheels_and_archives() {
        let d = scratch("wheel");
        fs::write(
            d.join("version.py"),
            "from typing import Optional\n__version__ = '2.11.0+cu130'\ncuda = '13.0'\n",
        )
        .unwrap();
        assert_eq!(check(&d).unwrap(), "2.11.0+cu130");
        fs::write(d.join("build-version"), "2.10.0+cpu\n").unwrap();
        let err = check(&d).unwrap_err();
        assert!(
            err.contains("2.10.0") && err.contains("needs 2.11.0"),
            "{err}"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn incomplete_folders_are_rejected_with_the_reason() {
        let d = scratch("incomplete");
        assert!(check(&d).unwrap_err().contains("cannot tell the version"));
        fs::remove_file(d.join("lib").join("libtorch_cpu.so")).unwrap();
        assert!(check(&d).unwrap_err().contains("libtorch_cpu.so"));
        fs::remove_dir_all(&d).unwrap();
    }
}
