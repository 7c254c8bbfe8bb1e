//! IDX parsing (MNIST) on arbitrary bytes: never panics, and what parses is consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqlab_data::mnist;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.idx");
    match mnist::parse_idx_images(data, path) {
        Ok(img) => assert_eq!(img.pixels.len(), img.count * img.rows * img.cols),
        Err(e) => assert!(e.to_string().contains("fuzz.idx")),
    }
    match mnist::parse_idx_labels(data, path) {
        Ok(labels) => assert!(labels.iter().all(|&l| l <= 9)),
        Err(e) => assert!(e.to_string().contains("fuzz.idx")),
    }
    // The same bytes as (possibly) gzip-compressed content.
    if let Ok(plain) = mnist::gunzip_if_needed(data.to_vec(), path) {
        let _ = mnist::parse_idx_images(&plain, path);
    }
    // An image file and a label file cut from the input at a point it chooses.
    if let Some((&cut, rest)) = data.split_first() {
        let mid = usize::from(cut).min(rest.len());
        let (images, labels) = rest.split_at(mid);
        match mnist::Mnist::from_idx_bytes(images, labels, Path::new("img"), Path::new("lbl")) {
            Ok(m) => {
                assert_eq!(m.images.shape(), &[m.len(), 28, 28]);
                assert_eq!(m.label_counts().iter().sum::<usize>(), m.len());
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
