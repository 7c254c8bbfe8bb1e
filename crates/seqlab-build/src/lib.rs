//! Build-script helper shared by the seqlab crates that link libtorch.
//!
//! `torch-sys` reports the libtorch library folder it linked against through
//! the `links = "tch"` metadata, which Cargo exposes to the build scripts of
//! crates that depend on `torch-sys` directly as `DEP_TCH_LIBTORCH_LIB`.
//! [`link_libtorch`] turns that folder into an rpath for the crate's own
//! binaries, tests and examples, so they start without `LD_LIBRARY_PATH`.
//!
//! Call it from `build.rs`:
//!
//! ```no_run
//! seqlab_build::link_libtorch();
//! ```

#![warn(missing_docs)]

use std::env;
use std::path::Path;

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
    let Some(lib_dir) = env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        println!(
            "cargo:warning=torch-sys did not report its libtorch folder; \
             binaries will need LD_LIBRARY_PATH to start (is torch-sys a direct dependency?)"
        );
        return;
    };
    let cuda = env::var_os("CARGO_FEATURE_CUDA").is_some();
    for arg in link_args(Path::new(&lib_dir), cuda) {
        println!("cargo:rustc-link-arg={arg}");
    }
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
