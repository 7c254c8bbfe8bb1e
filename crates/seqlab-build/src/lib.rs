//! Build-script helper shared by the seqlab crates that link libtorch.
//!
//! A binary linked against libtorch needs to find `libtorch_cpu.so` and its
//! siblings when it starts. Cargo gives no dependency a way to set that for
//! the final binary, so the crate that owns the binary (yours) has to say it
//! in its build script. [`link_libtorch`] turns the libtorch library folder
//! into an rpath for the crate's own binaries, tests and examples, so they
//! start without `LD_LIBRARY_PATH`.
//!
//! In your project: `seqlab-build` as a build-dependency, and a `build.rs`
//!
//! ```no_run
//! // build.rs
//! seqlab_build::link_libtorch();
//! ```
//!
//! The folder comes from, in order:
//! 1. `DEP_TCH_LIBTORCH_LIB`: what `torch-sys` reports through its
//!    `links = "tch"` metadata to crates that depend on it directly (the
//!    seqlab crates do; yours may, but need not);
//! 2. the `LIBTORCH` environment variable that `torch-sys` builds against:
//!    `$LIBTORCH/lib`;
//!
//! and otherwise a build warning says that the binary will need
//! `LD_LIBRARY_PATH`.

#![warn(missing_docs)]

use std::env;
use std::path::{Path, PathBuf};

/// Emits the linker arguments that let this crate's binaries and tests find
/// libtorch at run time.
///
/// - always: `-Wl,-rpath,<libtorch lib dir>`;
/// - with the crate's `cuda` feature enabled (`CARGO_FEATURE_CUDA`):
///   `-Wl,--no-as-needed -ltorch_cuda -Wl,--as-needed` so that the CUDA
///   backend of libtorch is linked and `tch::Cuda::is_available()` can be
///   true. Binaries built this way need the CUDA libraries at start-up, which
///   is why it is opt-in.
pub fn link_libtorch() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let reported = env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from);
    let from_env = env::var_os("LIBTORCH").map(|root| Path::new(&root).join("lib"));
    let Some(lib_dir) = libtorch_lib_dir(reported, from_env) else {
        println!(
            "cargo:warning=cannot tell where libtorch is (neither DEP_TCH_LIBTORCH_LIB nor \
             LIBTORCH is set): binaries will need LD_LIBRARY_PATH to start"
        );
        return;
    };
    let cuda = env::var_os("CARGO_FEATURE_CUDA").is_some();
    for arg in link_args(&lib_dir, cuda) {
        println!("cargo:rustc-link-arg={arg}");
    }
}

/// The libtorch folder (the one holding `include/` and `lib/`), found as
/// [`link_libtorch`] finds its library folder; for build scripts that
/// compile C++ against libtorch.
pub fn libtorch_root() -> Option<PathBuf> {
    let reported = env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from);
    let from_env = env::var_os("LIBTORCH").map(|root| Path::new(&root).join("lib"));
    libtorch_lib_dir(reported, from_env).and_then(|lib| lib.parent().map(Path::to_path_buf))
}

/// The libtorch library folder: the one torch-sys reported, else
/// `$LIBTORCH/lib` (see [`link_libtorch`]). A relative `LIBTORCH` (as in a
/// `.cargo/config.toml` `[env]` entry with `relative = true`, which Cargo
/// turns absolute) is kept as given.
pub fn libtorch_lib_dir(reported: Option<PathBuf>, from_env: Option<PathBuf>) -> Option<PathBuf> {
    reported.or(from_env)
}

/// The linker arguments for a libtorch library folder (see [`link_libtorch`]).
pub fn link_args(lib_dir: &Path, cuda: bool) -> Vec<String> {
    let mut args = vec![format!("-Wl,-rpath,{}", lib_dir.display())];
    if cuda {
        args.extend([
            "-Wl,--no-as-needed".to_string(),
            "-ltorch_cuda".to_string(),
            "-Wl,--as-needed".to_string(),
        ]);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_torch_sys_reports_wins_over_libtorch() {
        let reported = Some(PathBuf::from("/a/lib"));
        let env = Some(PathBuf::from("/b/lib"));
        assert_eq!(
            libtorch_lib_dir(reported, env.clone()),
            Some(PathBuf::from("/a/lib"))
        );
        assert_eq!(libtorch_lib_dir(None, env), Some(PathBuf::from("/b/lib")));
        assert_eq!(libtorch_lib_dir(None, None), None);
    }

    #[test]
    fn rpath_always_and_cuda_only_on_request() {
        let dir = Path::new("/opt/libtorch/lib");
        assert_eq!(link_args(dir, false), vec!["-Wl,-rpath,/opt/libtorch/lib"]);
        let cuda = link_args(dir, true);
        assert_eq!(cuda[0], "-Wl,-rpath,/opt/libtorch/lib");
        assert_eq!(
            &cuda[1..],
            ["-Wl,--no-as-needed", "-ltorch_cuda", "-Wl,--as-needed"]
        );
    }
}
