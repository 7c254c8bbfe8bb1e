//! The A/B-order sequence-to-one toy task (from a Flux blog post).
//!
//! A sequence over the letters `A B X Y Z` holds an `A` or a `B` at exactly
//! two positions (the letters drawn with replacement: AA, AB, BA, BB; the two
//! positions drawn without replacement); every other position is uniform over
//! `X Y Z`. The class is the pair in the order it appears: `AA=0, AB=1,
//! BA=2, BB=3`. Each letter is one-hot encoded in the order `A B X Y Z`, so a
//! sample has shape `[seq_len, 5]`.
//!
//! ```
//! use seqlab_data::ab_order;
//! let x = ab_order::encode("XBZZAYXXYZZX").unwrap();
//! assert_eq!(x.len(), 12 * 5);
//! assert_eq!(ab_order::decode(&x).unwrap(), "XBZZAYXXYZZX");
//! assert_eq!(ab_order::CLASSES[ab_order::label_of("XBZZAYXXYZZX").unwrap()], "BA");
//! ```

use crate::onehot::Alphabet;
use crate::{rng, Array, DataError, Dataset, Targets};
use rand::seq::index::sample;
use rand::Rng;

/// The alphabet in one-hot order.
pub const ALPHABET: [char; 5] = ['A', 'B', 'X', 'Y', 'Z'];
const LETTERS: Alphabet = Alphabet {
    symbols: &ALPHABET,
    name: "ABXYZ",
};
/// Number of one-hot features per step.
pub const N_FEATURES: usize = ALPHABET.len();
/// Class names in label order.
pub const CLASSES: [&str; 4] = ["AA", "AB", "BA", "BB"];
/// Sequence length of the post.
pub const DEFAULT_SEQ_LEN: usize = 12;

/// One-hot encodes a sequence of letters into `len * 5` values.
pub fn encode(sequence: &str) -> Result<Vec<f32>, DataError> {
    LETTERS.encode(sequence, None)
}

/// Decodes one-hot rows (`len * 5` values) back into letters.
pub fn decode(onehot: &[f32]) -> Result<String, DataError> {
    LETTERS.decode(onehot, false)
}

/// The class label of a sequence: the two A/B letters in order of appearance.
pub fn label_of(sequence: &str) -> Result<usize, DataError> {
    let mut marks = Vec::new();
    for (position, symbol) in sequence.chars().enumerate() {
        match LETTERS.index(symbol, position)? {
            0 | 1 => marks.push(symbol),
            _ => {}
        }
    }
    match marks.as_slice() {
        ['A', 'A'] => Ok(0),
        ['A', 'B'] => Ok(1),
        ['B', 'A'] => Ok(2),
        ['B', 'B'] => Ok(3),
        _ => Err(DataError::InvalidParameter {
            what: "sequence",
            why: format!(
                "{sequence:?} must hold exactly two A/B letters, it holds {}",
                marks.len()
            ),
        }),
    }
}

/// Draws one sequence of `seq_len` letters and its class.
pub fn sample_sequence<R: Rng + ?Sized>(rng: &mut R, seq_len: usize) -> (String, usize) {
    let mut letters: Vec<char> = (0..seq_len)
        .map(|_| ALPHABET[rng.gen_range(2..5)])
        .collect();
    let class = rng.gen_range(0..4usize);
    let mut positions = sample(rng, seq_len, 2).into_vec();
    positions.sort_unstable();
    let (first, second) = match class {
        0 => ('A', 'A'),
        1 => ('A', 'B'),
        2 => ('B', 'A'),
        _ => ('B', 'B'),
    };
    letters[positions[0]] = first;
    letters[positions[1]] = second;
    (letters.into_iter().collect(), class)
}

/// Generates `n` one-hot sequences of length `seq_len` (at least 2) from `seed`.
///
/// Inputs have shape `[n, seq_len, 5]`; targets are class labels `0..4`.
/// Use different seeds (or [`generate_split`]) for training and test data.
pub fn generate(n: usize, seq_len: usize, seed: u64) -> Result<Dataset, DataError> {
    generate_stream(n, seq_len, seed, rng::streams::TRAIN_DATA)
}

/// Generates independent training and test sets of `n_train` and `n_test` sequences.
pub fn generate_split(
    n_train: usize,
    n_test: usize,
    seq_len: usize,
    seed: u64,
) -> Result<(Dataset, Dataset), DataError> {
    Ok((
        generate_stream(n_train, seq_len, seed, rng::streams::TRAIN_DATA)?,
        generate_stream(n_test, seq_len, seed, rng::streams::TEST_DATA)?,
    ))
}

fn generate_stream(n: usize, seq_len: usize, seed: u64, stream: u64) -> Result<Dataset, DataError> {
    if seq_len < 2 {
        return Err(DataError::InvalidParameter {
            what: "sequence length",
            why: format!("the A/B-order task needs at least 2 positions, got {seq_len}"),
        });
    }
    let mut r = rng::stream(seed, stream);
    let mut data = Vec::with_capacity(n * seq_len * N_FEATURES);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let (seq, class) = sample_sequence(&mut r, seq_len);
        data.extend(encode(&seq)?);
        labels.push(class as i64);
    }
    Dataset::new(
        Array::new(data, vec![n, seq_len, N_FEATURES])?,
        Targets::Classes(labels),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_and_errors() {
        let x = encode("AXB").unwrap();
        assert_eq!(
            x,
            vec![1., 0., 0., 0., 0., 0., 0., 1., 0., 0., 0., 1., 0., 0., 0.]
        );
        assert_eq!(decode(&x).unwrap(), "AXB");
        assert_eq!(
            encode("AQ").unwrap_err(),
            DataError::UnknownSymbol {
                symbol: 'Q',
                position: 1,
                alphabet: "ABXYZ"
            }
        );
        assert_eq!(
            decode(&[1., 1., 0., 0., 0.]).unwrap_err(),
            DataError::NotOneHot { position: 0 }
        );
        assert!(decode(&[1., 0.]).is_err());
    }

    #[test]
    fn labels_follow_order_of_appearance() {
        assert_eq!(label_of("XAYYB").unwrap(), 1);
        assert_eq!(label_of("BZZA").unwrap(), 2);
        assert_eq!(label_of("AA").unwrap(), 0);
        assert_eq!(label_of("ZBBZ").unwrap(), 3);
        assert!(label_of("XYZA").is_err());
        assert!(label_of("ABA").is_err());
    }

    #[test]
    fn generated_data_is_consistent_seeded_and_balanced() {
        let d = generate(4000, 12, 11).unwrap();
        assert_eq!(d.inputs().shape(), &[4000, 12, 5]);
        let labels = d.class_labels().unwrap();
        let mut counts = [0usize; 4];
        for i in 0..d.len() {
            let seq = decode(d.inputs().row(i)).unwrap();
            assert_eq!(seq.chars().filter(|c| *c == 'A' || *c == 'B').count(), 2);
            assert_eq!(label_of(&seq).unwrap() as i64, labels[i]);
            counts[labels[i] as usize] += 1;
        }
        // Each class has probability 1/4: 1000 expected, sd about 27.
        assert!(
            counts.iter().all(|&c| (880..=1120).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(generate(50, 12, 11).unwrap(), generate(50, 12, 11).unwrap());
        assert_ne!(generate(50, 12, 11).unwrap(), generate(50, 12, 12).unwrap());
        let (tr, te) = generate_split(50, 50, 12, 11).unwrap();
        assert_ne!(tr, te);
        assert!(generate(5, 1, 0).is_err());
    }

    #[test]
    fn marker_positions_cover_the_whole_sequence() {
        let d = generate(3000, 12, 3).unwrap();
        let mut seen = [0usize; 12];
        for i in 0..d.len() {
            for (p, c) in decode(d.inputs().row(i)).unwrap().chars().enumerate() {
                if c == 'A' || c == 'B' {
                    seen[p] += 1;
                }
            }
        }
        // 6000 markers over 12 positions: 500 expected each.
        assert!(seen.iter().all(|&s| (400..=600).contains(&s)), "{seen:?}");
    }
}
