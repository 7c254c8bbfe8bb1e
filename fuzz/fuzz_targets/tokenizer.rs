//! Tokenizer, vocabulary and Keras indexing on arbitrary UTF-8: never panics,
//! tokens are normalised, and encode/decode round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqlab_data::text::{self, KerasIndex, Side, Vocabulary};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let tokens = text::tokenize(s);
    for t in &tokens {
        assert!(!t.is_empty());
        assert!(!t.starts_with('\'') && !t.ends_with('\''), "{t:?}");
        assert!(t.chars().all(|c| c.is_alphanumeric() || c == '\''), "{t:?}");
    }
    // Tokenizing tokens again changes nothing.
    assert_eq!(text::tokenize(&tokens.join(" ")), tokens);

    let vocab = Vocabulary::build([&tokens]);
    let all = KerasIndex::default();
    let ids = all.encode(&vocab, &tokens);
    let back = all.decode(&vocab, &ids);
    assert_eq!(back.first().map(String::as_str), Some(text::START_TOKEN));
    assert_eq!(&back[1..], tokens.as_slice());

    // Settings taken from the input, extreme values included.
    let b = |i: usize| data.get(i).copied().unwrap_or(0);
    let index = KerasIndex {
        num_words: (b(0) % 4 != 0).then_some(usize::from(b(1))),
        skip_top: usize::from(b(2) % 8),
        start_char: (b(3) % 3 != 0).then_some(i64::from(b(4) as i8)),
        oov_char: (b(5) % 3 != 0).then_some(i64::from(b(6) as i8)),
        index_from: match b(7) % 4 {
            0 => i64::MAX,
            1 => i64::MIN,
            _ => i64::from(b(8) as i8),
        },
    };
    let ids = index.encode(&vocab, &tokens);
    let _ = index.decode(&vocab, &ids);
    let _ = index.input_dim(&vocab);
    let maxlen = usize::from(b(9) % 16);
    let side = |x: u8| if x % 2 == 0 { Side::Pre } else { Side::Post };
    let padded = text::pad_sequences(&[ids.clone()], maxlen, side(b(10)), side(b(11)), -1);
    assert!(padded.iter().all(|r| r.len() == maxlen));
    let (flat, shape) = text::pad_sequences_flat(&[ids], maxlen, side(b(10)), side(b(11)), -1);
    assert_eq!(flat.len(), shape[0] * shape[1]);
    assert_eq!(flat, padded.concat());

    // The same text read as a vocabulary file.
    if let Ok(v) = Vocabulary::parse(s, Path::new("fuzz.tsv")) {
        for (rank, (w, _)) in v.iter().enumerate() {
            assert_eq!(v.rank(w), Some(rank + 1));
        }
    }
});
