fn main() {
    seqlab_build::link_libtorch();
    compile_kernels();
}

/// Compiles `csrc/fused_rnn.cpp` (the fused recurrent layer and dropout mask, see
/// `src/fused.rs`) and `csrc/batch_norm.cpp` (batch normalisation in training
/// mode, see `src/keras.rs`) and `csrc/adam.cpp` (libtorch's Adam step in
/// one pass, see `src/optim_kernel.rs`) against the libtorch that torch-sys links, with the same
/// C++ standard and ABI as torch-sys's own shim. Always optimised: the
/// element-wise loops are the point of it, also in debug builds.
fn compile_kernels() {
    // Every source, header and included kernel file of the folder.
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    let Some(root) = seqlab_build::libtorch_root() else {
        panic!("seqlab-models: cannot find libtorch (neither DEP_TCH_LIBTORCH_LIB nor LIBTORCH is set)");
    };
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    cc::Build::new()
        .cpp(true)
        .file("csrc/fused_rnn.cpp")
        .file("csrc/batch_norm.cpp")
        .file("csrc/adam.cpp")
        .include(root.join("include"))
        .include(
            root.join("include")
                .join("torch")
                .join("csrc")
                .join("api")
                .join("include"),
        )
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .opt_level(3)
        .flag("-ffp-contract=fast")
        // No errno from sqrt (Adam's square roots are of non-negative
        // values), so its loop vectorises to one instruction per vector.
        .flag("-fno-math-errno")
        // GCC notes that 32-byte vectors change the calling convention; every
        // function taking them is inlined, so no call crosses builds.
        .flag("-Wno-psabi")
        .warnings(false)
        .compile("seqlab_fused_rnn");
}
