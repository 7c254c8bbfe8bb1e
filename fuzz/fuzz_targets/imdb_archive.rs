//! The IMDb archive reader on arbitrary bytes (gzip-compressed or plain tar),
//! in memory: never panics, and what loads satisfies the documented invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqlab_data::imdb;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    match imdb::load_archive_reader(data, Path::new("fuzz.tar.gz")) {
        Ok(d) => {
            for split in [&d.train, &d.test] {
                assert!(split.iter().any(|r| r.positive));
                assert!(split.iter().any(|r| !r.positive));
                assert!(split
                    .windows(2)
                    .all(|w| (w[0].positive, w[0].id) < (w[1].positive, w[1].id)));
                assert!(split.iter().all(|r| (1..=10).contains(&r.rating)));
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz.tar.gz")),
    }
});
