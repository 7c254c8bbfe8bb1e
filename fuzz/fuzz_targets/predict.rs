//! `seqlab predict` on an arbitrary `model.json` and review: see
//! `seqlab_fuzz::predict`. Build and run with `--features predict` (it
//! links libtorch).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = seqlab_fuzz::predict::check(data);
});
