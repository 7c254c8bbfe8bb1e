// The `predict` target links libtorch: embed its folder as an rpath (as
// seqlab's own crates do), so the fuzz binary starts without LD_LIBRARY_PATH.
fn main() {
    if std::env::var_os("CARGO_FEATURE_PREDICT").is_some() {
        seqlab_build::link_libtorch();
    }
}
