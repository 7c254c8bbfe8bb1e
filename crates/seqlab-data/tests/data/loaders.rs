//! Integration tests against the real MNIST and IMDb files, when present.
//!
//! The data folder is `$SEQLAB_DATA_DIR` if set, else `../../../shared/data`
//! relative to this crate (the project's offline copies). When the files are
//! absent, each test prints that it was skipped and passes, unless
//! `SEQLAB_REQUIRE_DATA` is set (`cargo xtask test` sets it when it knows a
//! data folder): then a missing file fails the test.

use seqlab_data::imdb::{self, Imdb};
use seqlab_data::mnist::{self, Split};
use seqlab_data::text::{self, KerasIndex, Side, Vocabulary};
use std::path::PathBuf;
use std::sync::OnceLock;

fn data_dir() -> PathBuf {
    match std::env::var_os("SEQLAB_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// Skipping is only allowed when no data folder is required.
fn skip(why: String) {
    assert!(
        std::env::var_os("SEQLAB_REQUIRE_DATA").is_none(),
        "SEQLAB_REQUIRE_DATA is set but {why}"
    );
    println!("skipped: {why}");
}

fn mnist_present(split: Split) -> bool {
    let ok = mnist::locate(&data_dir(), split).is_ok();
    if !ok {
        skip(format!(
            "MNIST {split} files not found in {} (set SEQLAB_DATA_DIR)",
            data_dir().display()
        ));
    }
    ok
}

/// The IMDb reviews, the tokens of the training reviews and their vocabulary.
type Loaded = (Imdb, Vec<Vec<String>>, Vocabulary);

/// The IMDb data, loaded once for all tests (None when absent).
fn imdb_data() -> Option<&'static Loaded> {
    static DATA: OnceLock<Option<Loaded>> = OnceLock::new();
    let data = DATA.get_or_init(|| {
        let dir = data_dir();
        let present = dir.join("aclImdb").is_dir()
            || imdb::ARCHIVE_NAMES.iter().any(|n| dir.join(n).is_file());
        if !present {
            return None;
        }
        let data = imdb::load(&dir).expect("the IMDb data is present and loads");
        let train_tokens: Vec<Vec<String>> =
            data.train.iter().map(|r| text::tokenize(&r.text)).collect();
        let vocab = Vocabulary::build(&train_tokens);
        Some((data, train_tokens, vocab))
    });
    if data.is_none() {
        skip(format!(
            "no aclImdb folder or archive in {} (set SEQLAB_DATA_DIR)",
            data_dir().display()
        ));
    }
    data.as_ref()
}

#[test]
fn mnist_splits_have_canonical_sizes_and_counts() {
    let cases = [
        (
            Split::Train,
            60_000,
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
        ),
        (
            Split::Test,
            10_000,
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
        ),
    ];
    for (split, n, counts) in cases {
        if !mnist_present(split) {
            continue;
        }
        let m = mnist::load_split(&data_dir(), split).unwrap();
        assert_eq!(m.len(), n);
        assert_eq!(m.images.shape(), &[n, 28, 28]);
        assert_eq!(m.label_counts(), counts, "{split}");
        let data = m.images.data();
        assert!(data.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(data.contains(&1.0) && data.contains(&0.0));
        let ds = m.to_dataset().unwrap();
        assert_eq!(ds.len(), n);
        mnist::verify_split(&data_dir(), split).unwrap();
    }
}

#[test]
fn imdb_splits_have_canonical_sizes() {
    let Some((data, _, _)) = imdb_data() else {
        return;
    };
    for (name, split) in [("train", &data.train), ("test", &data.test)] {
        assert_eq!(split.len(), 25_000, "{name}");
        let pos = split.iter().filter(|r| r.positive).count();
        assert_eq!(pos, 12_500, "{name}");
        for r in split {
            if r.positive {
                assert!((7..=10).contains(&r.rating), "{name} {r:?}");
            } else {
                assert!((1..=4).contains(&r.rating), "{name} {r:?}");
            }
            assert!(!r.text.is_empty());
        }
        // Negative first, then by id; ids 0..12499 in each folder.
        assert!(split
            .windows(2)
            .all(|w| (w[0].positive, w[0].id) < (w[1].positive, w[1].id)));
        assert_eq!((split[0].positive, split[0].id), (false, 0));
        assert_eq!((split[24_999].positive, split[24_999].id), (true, 12_499));
        assert_eq!(imdb::labels(split).iter().sum::<i64>(), 12_500);
    }
    assert!(data.train.iter().any(|r| r.text.contains("<br />")));
}

#[test]
fn imdb_vocabulary_from_training_split() {
    let Some((_, tokens, vocab)) = imdb_data() else {
        return;
    };
    let total: usize = tokens.iter().map(Vec::len).sum();
    println!(
        "vocabulary: {} words from {total} training tokens",
        vocab.len()
    );
    println!("most frequent: {:?}", vocab.most_frequent(20));
    assert_eq!(vocab.total_count(), total as u64);
    assert_eq!(vocab.word(1), Some("the"));
    let top: Vec<&str> = vocab.most_frequent(10).iter().map(|(w, _)| *w).collect();
    for w in ["the", "and", "a", "of", "to", "is", "it", "in"] {
        assert!(top.contains(&w), "{w} not in the top 10: {top:?}");
    }
    // Tokenizer decisions visible in the real data.
    // 101,867 `<br />` in the training reviews; "br" survives only from a
    // stray "br />" without its "<" and the abbreviation "BR".
    assert!(
        vocab.count("br").unwrap_or(0) <= 2,
        "<br /> must not become a word"
    );
    assert!(vocab.rank("don't").is_some());
    assert!(vocab.rank("café").is_some());
    // Exact for the canonical reviews and this tokenizer (Keras' own index,
    // built by another tokenizer from both splits, has 88,584 words).
    assert_eq!(vocab.len(), 81_412);
    assert_eq!(total, 5_838_604);
    // Deterministic and independent of the order of the documents.
    assert_eq!(&Vocabulary::build(tokens.iter().rev()), vocab);
    // Save and load give the same vocabulary.
    let path = std::env::temp_dir().join(format!("seqlab-vocab-{}.tsv", std::process::id()));
    vocab.save(&path).unwrap();
    let loaded = Vocabulary::load(&path);
    let _ = std::fs::remove_file(&path);
    assert_eq!(&loaded.unwrap(), vocab);
}

#[test]
fn imdb_encode_decode_round_trip() {
    let Some((data, tokens, vocab)) = imdb_data() else {
        return;
    };
    let index = KerasIndex::default();
    assert_eq!(index.num_words, None);
    assert_eq!(index.skip_top, 0);
    for doc in tokens {
        let ids = index.encode(vocab, doc);
        assert_eq!(ids.len(), doc.len() + 1);
        let back = index.decode(vocab, &ids);
        assert_eq!(back.first().map(String::as_str), Some(text::START_TOKEN));
        assert_eq!(&back[1..], doc.as_slice());
    }
    // Test reviews: words outside the training vocabulary become OOV.
    let mut oov = 0;
    for r in data.test.iter().take(2_000) {
        let doc = text::tokenize(&r.text);
        let back = index.decode(vocab, &index.encode(vocab, &doc));
        for (w, d) in doc.iter().zip(&back[1..]) {
            if d == text::OOV_TOKEN {
                oov += 1;
                assert!(vocab.rank(w).is_none());
            } else {
                assert_eq!(w, d);
            }
        }
    }
    assert!(oov > 0);
    // The book's setting: 10,000 words, skip the top 20, 128 steps.
    let book = KerasIndex::with_limits(10_000, 20);
    let seqs: Vec<Vec<i64>> = tokens.iter().map(|d| book.encode(vocab, d)).collect();
    assert!(seqs
        .iter()
        .flatten()
        .all(|&i| i == 2 || (20..10_000).contains(&i)));
    let (flat, shape) = text::pad_sequences_flat(&seqs, 128, Side::Pre, Side::Pre, 0);
    assert_eq!(shape, [25_000, 128]);
    assert_eq!(flat.len(), 25_000 * 128);
    assert_eq!(book.input_dim(vocab), 10_000);
}
