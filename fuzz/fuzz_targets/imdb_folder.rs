//! The extracted-folder loader (`imdb::load_folder`) on a file tree built
//! from the input, checked against the archive loader on the same tree:
//! see `seqlab_fuzz::tree`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = seqlab_fuzz::tree::check_folder(data);
});
