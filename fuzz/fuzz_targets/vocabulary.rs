//! Vocabulary files (`Vocabulary::parse`, what `Vocabulary::load` runs on a
//! file's text) on arbitrary UTF-8: never panics, errors name the file and a
//! line, and what parses survives a save/load round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqlab_data::text::Vocabulary;
use seqlab_data::LoadError;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match Vocabulary::parse(s, Path::new("fuzz.tsv")) {
        Ok(v) => {
            let dir =
                std::env::temp_dir().join(format!("seqlab-fuzz-vocab-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join("v.tsv");
            if v.save(&file).is_ok() {
                assert_eq!(Vocabulary::load(&file).ok(), Some(v));
            }
        }
        Err(e) => {
            assert!(matches!(e, LoadError::BadLine { .. }), "{e}");
            assert!(e.to_string().starts_with("fuzz.tsv: line "));
        }
    }
});
