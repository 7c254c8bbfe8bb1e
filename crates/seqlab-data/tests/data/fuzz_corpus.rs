//! The fuzz targets' seed corpus (`fuzz/seeds/<target>/`), run on stable:
//! every seed is a valid input that must load and pass the checks the fuzz
//! targets make, except the `reject-*` seeds, small files that must stop at
//! a decompression limit (so the fuzzer starts next to that code). The
//! targets' code paths thus stay built and exercised in CI without nightly.

use seqlab_data::LoadError;

/// The `imdb_folder` target's tree format and check (std, tar and seqlab-data only).
#[path = "../../../../fuzz/src/tree.rs"]
mod tree;

use seqlab_data::text::{self, KerasIndex, Vocabulary};
use seqlab_data::{imdb, mnist};
use std::path::{Path, PathBuf};

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

fn is_reject(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("reject-"))
}

#[test]
fn idx_seeds_parse_to_consistent_arrays() {
    let (mut images, mut labels) = (0, 0);
    for (path, bytes) in seeds("idx") {
        if is_reject(&path) {
            let err = mnist::gunzip_if_needed(bytes, &path).unwrap_err();
            assert!(matches!(err, LoadError::InflatesTooFar { .. }), "{err}");
            continue;
        }
        let plain = mnist::gunzip_if_needed(bytes, &path).unwrap();
        if let Ok(img) = mnist::parse_idx_images(&plain, &path) {
            assert_eq!(img.pixels.len(), img.count * img.rows * img.cols);
            assert!(img.count > 0);
            images += 1;
        } else {
            let l = mnist::parse_idx_labels(&plain, &path).unwrap_or_else(|e| {
                panic!("seed {} is neither images nor labels: {e}", path.display())
            });
            assert!(l.iter().all(|&v| v <= 9));
            labels += 1;
        }
    }
    assert!(
        images >= 2 && labels >= 1,
        "{images} image seeds, {labels} label seeds"
    );
}

#[test]
fn imdb_archive_seeds_load_with_both_classes_in_both_splits() {
    for (path, bytes) in seeds("imdb_archive") {
        if is_reject(&path) {
            let err = imdb::load_archive_reader(bytes.as_slice(), &path).unwrap_err();
            assert!(matches!(err, LoadError::InflatesTooFar { .. }), "{err}");
            continue;
        }
        let d = imdb::load_archive_reader(bytes.as_slice(), &path)
            .unwrap_or_else(|e| panic!("seed {}: {e}", path.display()));
        for split in [&d.train, &d.test] {
            assert!(split.iter().any(|r| r.positive) && split.iter().any(|r| !r.positive));
            assert!(split.iter().all(|r| (1..=10).contains(&r.rating)));
        }
        // The same bytes with a flipped byte in the middle never panic.
        let mut broken = bytes.clone();
        if let Some(b) = broken.get_mut(bytes.len() / 2) {
            *b ^= 0x55;
        }
        let _ = imdb::load_archive_reader(broken.as_slice(), Path::new("broken"));
    }
}

#[test]
fn tokenizer_seeds_round_trip() {
    for (path, bytes) in seeds("tokenizer") {
        let s = std::str::from_utf8(&bytes).unwrap();
        let tokens = text::tokenize(s);
        assert!(!tokens.is_empty());
        assert_eq!(text::tokenize(&tokens.join(" ")), tokens);
        let vocab = Vocabulary::build([&tokens]);
        let k = KerasIndex::default();
        let back = k.decode(&vocab, &k.encode(&vocab, &tokens));
        assert_eq!(back.get(1..), Some(tokens.as_slice()), "{}", path.display());
    }
}

#[test]
fn vocabulary_seeds_parse_and_survive_save_and_load() {
    let dir = std::env::temp_dir().join(format!("seqlab-seed-vocab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (path, bytes) in seeds("vocabulary") {
        let s = std::str::from_utf8(&bytes).unwrap();
        let v = Vocabulary::parse(s, &path).unwrap_or_else(|e| panic!("seed: {e}"));
        assert!(v.len() >= 3, "{}", path.display());
        let file = dir.join("v.tsv");
        v.save(&file).unwrap();
        assert_eq!(Vocabulary::load(&file).unwrap(), v);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn imdb_folder_seeds_load_from_disk_as_from_the_same_tree_archived() {
    let (mut loaded, mut rejected) = (0, 0);
    for (path, bytes) in seeds("imdb_folder") {
        // check_folder panics if the folder and the archive disagree.
        match tree::check_folder(&bytes) {
            Ok(d) => {
                assert!(!is_reject(&path), "{} loaded", path.display());
                assert!(!d.train.is_empty() && !d.test.is_empty());
                loaded += 1;
            }
            Err(e) => {
                assert!(is_reject(&path), "seed {}: {e}", path.display());
                rejected += 1;
            }
        }
        // Damaged copies of the tree never panic and still agree.
        for at in [bytes.len() / 3, bytes.len() / 2] {
            let mut broken = bytes.clone();
            if let Some(b) = broken.get_mut(at) {
                *b ^= 0x55;
            }
            let _ = tree::check_folder(&broken);
        }
    }
    assert!(
        loaded >= 2 && rejected >= 2,
        "{loaded} loaded, {rejected} rejected"
    );
}

#[test]
fn tree_records_stay_inside_the_scratch_folder() {
    let recs = tree::parse(b"../../etc/x\x01a\0/abs/./y/\0\0a//b\x01c");
    let paths: Vec<&[u8]> = recs.iter().map(|r| r.path.as_slice()).collect();
    assert_eq!(paths, [&b"etc/x"[..], b"abs/y", b"a/b"]);
    assert_eq!(recs[1].content, None);
    assert_eq!(recs[2].content.as_deref(), Some(&b"c"[..]));
}
