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

use std::env;

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
    let lib_dir = std::path::PathBuf::from(lib_dir);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());
    if env::var_os("CARGO_FEATURE_CUDA").is_some() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
