//! The temporal order task (Hochreiter & Schmidhuber 1997, experiment 6a), in
//! the version of a PyTorch course.
//!
//! A sequence starts with `B`, ends with `E`, and every other position is
//! uniform over the distractors `a b c d`, except two positions `t1 < t2` that
//! hold `X` or `Y`. The class is the pair in order: `(X,X)=Q=0`, `(X,Y)=R=1`,
//! `(Y,X)=S=2`, `(Y,Y)=U=3`. The sequence length, `t1` and `t2` are drawn
//! uniformly from half-open ranges that depend on the [`Difficulty`].
//!
//! Each symbol is one-hot encoded in the order `X Y a b c d B E`
//! ([`SYMBOLS`]). Sequences have different lengths, so they are
//! **pre-padded** with all-zero rows to the level's
//! [`Difficulty::padded_len`]: the last row is always `E`, and a classifier
//! reads the output at the last step. A data set has inputs of shape
//! `[n, padded_len, 8]` and class-label targets.
//!
//! The course trains on fresh random batches every epoch ("1000 sequences an
//! epoch": 31 batches of 32); [`FreshBatches`] reproduces that.
//!
//! ```
//! use seqlab_data::temporal_order::{self, Difficulty};
//! let d: Difficulty = "easy".parse().unwrap();
//! assert_eq!(d.padded_len(), 9);
//! let x = temporal_order::encode("BbXcYaE", d.padded_len()).unwrap();
//! assert_eq!(x.len(), 9 * 8);
//! assert!(x[..2 * 8].iter().all(|&v| v == 0.0)); // two rows of pre-padding
//! assert_eq!(temporal_order::decode(&x).unwrap(), "BbXcYaE");
//! assert_eq!(temporal_order::CLASSES[temporal_order::label_of("BbXcYaE").unwrap()], 'R');
//!
//! let (train, test) = temporal_order::generate_split(100, 20, d, 7).unwrap();
//! assert_eq!(train.inputs().shape(), &[100, 9, 8]);
//! assert_eq!(test.len(), 20);
//! ```

use crate::onehot::Alphabet;
use crate::rng::{self, SeqRng};
use crate::{Array, DataError, Dataset, Targets};
use rand::Rng;
use std::fmt;
use std::str::FromStr;

/// The symbols in one-hot order: relevant `X Y`, distractors `a b c d`,
/// start `B`, end `E`.
pub const SYMBOLS: [char; 8] = ['X', 'Y', 'a', 'b', 'c', 'd', 'B', 'E'];
const ALPHABET: Alphabet = Alphabet {
    symbols: &SYMBOLS,
    name: "XYabcdBE",
};
/// Number of one-hot features per step.
pub const N_FEATURES: usize = 8;
/// Class names in label order: `Q=(X,X)`, `R=(X,Y)`, `S=(Y,X)`, `U=(Y,Y)`.
pub const CLASSES: [char; 4] = ['Q', 'R', 'S', 'U'];
/// Batch size of the course.
pub const COURSE_BATCH_SIZE: usize = 32;
/// Batches per epoch in the course (31 x 32 = 992, "1000 sequences an epoch").
pub const COURSE_BATCHES_PER_EPOCH: usize = 31;

const START: char = 'B';
const END: char = 'E';

/// The difficulty levels of the course. All ranges are half-open `(lo, hi)`.
///
/// | level | length | t1 | t2 | padded length |
/// | --- | --- | --- | --- | --- |
/// | `Easy` | [7, 9) | [1, 3) | [4, 6) | 9 |
/// | `Normal` | [30, 41) | [2, 6) | [20, 28) | 41 |
/// | `Moderate` | [60, 81) | [10, 21) | [45, 55) | 81 |
/// | `Hard` (the 1997 paper) | [100, 111) | [10, 21) | [50, 61) | 111 |
/// | `Nightmare` | [300, 501) | [10, 81) | [250, 291) | 501 |
///
/// Parses case-insensitively from and displays as `easy`, `normal`,
/// `moderate`, `hard`, `nightmare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Difficulty {
    /// Length 7-8; the course's first experiment.
    Easy,
    /// Length 30-40.
    Normal,
    /// Length 60-80.
    Moderate,
    /// Length 100-110, as in the 1997 paper.
    Hard,
    /// Length 300-500.
    Nightmare,
}

impl Difficulty {
    /// All levels, easiest first.
    pub const ALL: [Difficulty; 5] = [
        Difficulty::Easy,
        Difficulty::Normal,
        Difficulty::Moderate,
        Difficulty::Hard,
        Difficulty::Nightmare,
    ];

    /// The lowercase name (`"easy"`, ...), as parsed and displayed.
    pub fn name(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy",
            Difficulty::Normal => "normal",
            Difficulty::Moderate => "moderate",
            Difficulty::Hard => "hard",
            Difficulty::Nightmare => "nightmare",
        }
    }

    /// Half-open range `(lo, hi)` of the sequence length, `B` and `E` included.
    pub fn length_range(self) -> (usize, usize) {
        match self {
            Difficulty::Easy => (7, 9),
            Difficulty::Normal => (30, 41),
            Difficulty::Moderate => (60, 81),
            Difficulty::Hard => (100, 111),
            Difficulty::Nightmare => (300, 501),
        }
    }

    /// Half-open range `(lo, hi)` of the first marker position `t1` (0-based,
    /// position 0 being `B`).
    pub fn t1_range(self) -> (usize, usize) {
        match self {
            Difficulty::Easy => (1, 3),
            Difficulty::Normal => (2, 6),
            Difficulty::Moderate | Difficulty::Hard => (10, 21),
            Difficulty::Nightmare => (10, 81),
        }
    }

    /// Half-open range `(lo, hi)` of the second marker position `t2`.
    pub fn t2_range(self) -> (usize, usize) {
        match self {
            Difficulty::Easy => (4, 6),
            Difficulty::Normal => (20, 28),
            Difficulty::Moderate => (45, 55),
            Difficulty::Hard => (50, 61),
            Difficulty::Nightmare => (250, 291),
        }
    }

    /// The length every sequence is pre-padded to: 9, 41, 81, 111, 501 (the
    /// upper end of the length range, so there is always at least one
    /// padding row).
    pub fn padded_len(self) -> usize {
        match self {
            Difficulty::Easy => 9,
            Difficulty::Normal => 41,
            Difficulty::Moderate => 81,
            Difficulty::Hard => 111,
            Difficulty::Nightmare => 501,
        }
    }
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Difficulty {
    type Err = DataError;

    /// Parses a level name, ignoring case and surrounding white space.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Difficulty::ALL
            .into_iter()
            .find(|d| d.name() == wanted)
            .ok_or_else(|| DataError::InvalidParameter {
                what: "difficulty",
                why: format!(
                    "unknown level {s:?}; expected one of {}",
                    Difficulty::ALL.map(Difficulty::name).join(", ")
                ),
            })
    }
}

/// Draws one sequence and its class (`0..4`) for level `d`.
///
/// In order: the length, uniform in [`Difficulty::length_range`]; `t1` and
/// `t2`, uniform in their ranges; the distractors `a`-`d` for every position;
/// `B` first and `E` last; the class, uniform over the four; and the `X`/`Y`
/// letters of the class written at `t1` and `t2`. The ranges of every level
/// keep `0 < t1 < t2 < length - 1`.
pub fn sample_sequence<R: Rng + ?Sized>(rng: &mut R, d: Difficulty) -> (String, usize) {
    let (len_lo, len_hi) = d.length_range();
    let (t1_lo, t1_hi) = d.t1_range();
    let (t2_lo, t2_hi) = d.t2_range();
    let length = rng.gen_range(len_lo..len_hi);
    let t1 = rng.gen_range(t1_lo..t1_hi);
    let t2 = rng.gen_range(t2_lo..t2_hi);
    let mut letters: Vec<char> = (0..length).map(|_| SYMBOLS[rng.gen_range(2..6)]).collect();
    letters[0] = START;
    letters[length - 1] = END;
    let class = rng.gen_range(0..4usize);
    let (first, second) = match class {
        0 => ('X', 'X'),
        1 => ('X', 'Y'),
        2 => ('Y', 'X'),
        _ => ('Y', 'Y'),
    };
    letters[t1] = first;
    letters[t2] = second;
    (letters.into_iter().collect(), class)
}

/// One-hot encodes `seq` into `padded_len * 8` values, **pre-padded** with
/// all-zero rows: the sequence occupies the last rows, so the last row is
/// its last symbol (`E` for generated sequences).
///
/// Fails with [`DataError::InvalidParameter`] if `seq` has more than
/// `padded_len` symbols, and with [`DataError::UnknownSymbol`] (naming the
/// symbol and its 0-based position in `seq`) for a symbol outside [`SYMBOLS`].
pub fn encode(seq: &str, padded_len: usize) -> Result<Vec<f32>, DataError> {
    ALPHABET.encode(seq, Some(padded_len))
}

/// Decodes one-hot rows (a multiple of 8 values) back into symbols, dropping
/// the all-zero padding rows (wherever they are, though [`encode`] only puts
/// them in front).
///
/// Fails with [`DataError::NotOneHot`] for a row that is neither all-zero nor
/// one-hot (`position` is the row index in `onehot`, padding included), and
/// with [`DataError::InvalidParameter`] if the length is not a multiple of 8.
pub fn decode(onehot: &[f32]) -> Result<String, DataError> {
    ALPHABET.decode(onehot, true)
}

/// The class label of a sequence from its `X`/`Y` letters in order of
/// appearance: `XX=0`, `XY=1`, `YX=2`, `YY=3`.
///
/// Fails for a symbol outside [`SYMBOLS`] or unless there are exactly two
/// `X`/`Y` letters. The other symbols are not checked (a sequence need not
/// start with `B` or end with `E`).
pub fn label_of(seq: &str) -> Result<usize, DataError> {
    let mut marks = Vec::new();
    for (position, symbol) in seq.chars().enumerate() {
        if ALPHABET.index(symbol, position)? < 2 {
            marks.push(symbol);
        }
    }
    match marks.as_slice() {
        ['X', 'X'] => Ok(0),
        ['X', 'Y'] => Ok(1),
        ['Y', 'X'] => Ok(2),
        ['Y', 'Y'] => Ok(3),
        _ => Err(DataError::InvalidParameter {
            what: "sequence",
            why: format!(
                "{seq:?} must hold exactly two X/Y letters, it holds {}",
                marks.len()
            ),
        }),
    }
}

/// Draws `n` sequences from `rng` into a data set (inputs `[n, padded_len, 8]`).
fn sample_dataset<R: Rng + ?Sized>(rng: &mut R, n: usize, d: Difficulty) -> Dataset {
    let padded = d.padded_len();
    let mut data = Vec::with_capacity(n * padded * N_FEATURES);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let (seq, class) = sample_sequence(rng, d);
        // Generated sequences use only SYMBOLS and are shorter than padded_len.
        data.extend(
            encode(&seq, padded)
                .unwrap_or_else(|e| unreachable!("generated sequence encodes: {e}")),
        );
        labels.push(class as i64);
    }
    Array::new(data, vec![n, padded, N_FEATURES])
        .and_then(|x| Dataset::new(x, Targets::Classes(labels)))
        .unwrap_or_else(|e| unreachable!("shapes agree by construction: {e}"))
}

/// Generates `n` sequences of level `d` from `seed` (on the
/// [`rng::streams::TRAIN_DATA`] stream).
///
/// Inputs have shape `[n, padded_len, 8]`, pre-padded; targets are class
/// labels `0..4`. The result is the same as the first batch of
/// [`FreshBatches::new`]`(d, n, seed)`. Use [`generate_split`] for a test set
/// independent of the training data.
pub fn generate(n: usize, d: Difficulty, seed: u64) -> Result<Dataset, DataError> {
    Ok(sample_dataset(
        &mut rng::stream(seed, rng::streams::TRAIN_DATA),
        n,
        d,
    ))
}

/// Generates independent training and test sets of `n_train` and `n_test`
/// sequences (the [`rng::streams::TRAIN_DATA`] and
/// [`rng::streams::TEST_DATA`] streams of `seed`). The training set equals
/// [`generate`]`(n_train, d, seed)`.
pub fn generate_split(
    n_train: usize,
    n_test: usize,
    d: Difficulty,
    seed: u64,
) -> Result<(Dataset, Dataset), DataError> {
    Ok((
        sample_dataset(&mut rng::stream(seed, rng::streams::TRAIN_DATA), n_train, d),
        sample_dataset(&mut rng::stream(seed, rng::streams::TEST_DATA), n_test, d),
    ))
}

/// Generates `n` validation sequences of level `d` from the
/// [`rng::streams::SPLIT`] stream of `seed`: independent of the training
/// data ([`generate`], [`FreshBatches`]) and of the test set
/// ([`generate_split`]) of the same seed, for choosing among a run's
/// epochs without looking at the test set.
pub fn generate_validation(n: usize, d: Difficulty, seed: u64) -> Result<Dataset, DataError> {
    Ok(sample_dataset(
        &mut rng::stream(seed, rng::streams::SPLIT),
        n,
        d,
    ))
}

/// The course's stream of fresh training batches: every call draws a new
/// random batch, so no sequence is seen twice (with high probability).
///
/// Deterministic given the seed: two streams with the same level, batch size
/// and seed give the same batches in the same order. The stream uses the
/// [`rng::streams::TRAIN_DATA`] stream of the seed, so its first batch equals
/// [`generate`]`(batch_size, d, seed)`; draw the test set from
/// [`generate_split`] (the test stream) to keep it independent.
///
/// ```
/// use seqlab_data::temporal_order::{Difficulty, FreshBatches, COURSE_BATCH_SIZE, COURSE_BATCHES_PER_EPOCH};
/// let mut batches = FreshBatches::new(Difficulty::Easy, COURSE_BATCH_SIZE, 1).unwrap();
/// let epoch = batches.epoch(COURSE_BATCHES_PER_EPOCH);
/// assert_eq!(epoch.len(), 31);
/// assert_eq!(epoch[0].inputs().shape(), &[32, 9, 8]);
/// assert_ne!(epoch[0], epoch[1]);
/// ```
#[derive(Debug, Clone)]
pub struct FreshBatches {
    difficulty: Difficulty,
    batch_size: usize,
    rng: SeqRng,
}

impl FreshBatches {
    /// A stream of batches of `batch_size` sequences of level `d`; fails if
    /// `batch_size` is 0.
    pub fn new(d: Difficulty, batch_size: usize, seed: u64) -> Result<Self, DataError> {
        if batch_size == 0 {
            return Err(DataError::InvalidParameter {
                what: "batch size",
                why: "fresh batches need at least one sequence each".into(),
            });
        }
        Ok(Self {
            difficulty: d,
            batch_size,
            rng: rng::stream(seed, rng::streams::TRAIN_DATA),
        })
    }

    /// The level of the sequences.
    pub fn difficulty(&self) -> Difficulty {
        self.difficulty
    }

    /// Sequences per batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// A new random batch: inputs `[batch_size, padded_len, 8]`, class labels.
    pub fn next_batch(&mut self) -> Dataset {
        sample_dataset(&mut self.rng, self.batch_size, self.difficulty)
    }

    /// The next `batches` batches (the course uses
    /// [`COURSE_BATCHES_PER_EPOCH`] per epoch).
    pub fn epoch(&mut self, batches: usize) -> Vec<Dataset> {
        (0..batches).map(|_| self.next_batch()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_match_the_reference_table() {
        let table = [
            (Difficulty::Easy, (7, 9), (1, 3), (4, 6), 9),
            (Difficulty::Normal, (30, 41), (2, 6), (20, 28), 41),
            (Difficulty::Moderate, (60, 81), (10, 21), (45, 55), 81),
            (Difficulty::Hard, (100, 111), (10, 21), (50, 61), 111),
            (Difficulty::Nightmare, (300, 501), (10, 81), (250, 291), 501),
        ];
        for (d, len, t1, t2, padded) in table {
            assert_eq!(d.length_range(), len, "{d}");
            assert_eq!(d.t1_range(), t1, "{d}");
            assert_eq!(d.t2_range(), t2, "{d}");
            assert_eq!(d.padded_len(), padded, "{d}");
            // Markers never collide with each other or with B/E.
            assert!(t1.0 >= 1 && t1.1 <= t2.0 && t2.1 < len.0, "{d}");
        }
    }

    #[test]
    fn difficulty_parses_and_displays() {
        for d in Difficulty::ALL {
            assert_eq!(d.to_string().parse::<Difficulty>().unwrap(), d);
            assert_eq!(
                d.to_string().to_uppercase().parse::<Difficulty>().unwrap(),
                d
            );
        }
        assert_eq!("Hard".parse::<Difficulty>().unwrap(), Difficulty::Hard);
        assert_eq!(Difficulty::Nightmare.to_string(), "nightmare");
        let err = "insane".parse::<Difficulty>().unwrap_err().to_string();
        assert!(err.contains("\"insane\""), "{err}");
        assert!(
            err.contains("easy, normal, moderate, hard, nightmare"),
            "{err}"
        );
    }

    #[test]
    fn encode_pre_pads_and_decode_drops_padding() {
        let x = encode("BXE", 5).unwrap();
        let mut expected = vec![0.0f32; 5 * 8];
        expected[2 * 8 + 6] = 1.0; // B
        expected[3 * 8] = 1.0; // X
        expected[4 * 8 + 7] = 1.0; // E
        assert_eq!(x, expected);
        assert_eq!(decode(&x).unwrap(), "BXE");
        // Exactly as long as the padded length: no padding.
        assert_eq!(decode(&encode("BaYdE", 5).unwrap()).unwrap(), "BaYdE");
        assert_eq!(encode("", 2).unwrap(), vec![0.0; 16]);
        assert_eq!(decode(&[0.0; 16]).unwrap(), "");
    }

    #[test]
    fn encode_and_decode_errors() {
        assert_eq!(
            encode("BaQE", 9).unwrap_err(),
            DataError::UnknownSymbol {
                symbol: 'Q',
                position: 2,
                alphabet: "XYabcdBE"
            }
        );
        let err = encode("BabcdE", 5).unwrap_err().to_string();
        assert!(err.contains('6') && err.contains('5'), "{err}");
        let mut x = encode("BXE", 4).unwrap();
        x[2 * 8 + 3] = 1.0; // row 2 now has two ones
        assert_eq!(
            decode(&x).unwrap_err(),
            DataError::NotOneHot { position: 2 }
        );
        let mut y = encode("BXE", 4).unwrap();
        y[5] = 0.5; // a padding row that is not all zero
        assert_eq!(
            decode(&y).unwrap_err(),
            DataError::NotOneHot { position: 0 }
        );
        assert!(decode(&[0.0; 7]).is_err());
    }

    #[test]
    fn labels_follow_order_of_appearance() {
        assert_eq!(label_of("BaXbXcE").unwrap(), 0);
        assert_eq!(label_of("BXaYE").unwrap(), 1);
        assert_eq!(label_of("BYcXE").unwrap(), 2);
        assert_eq!(label_of("BYYE").unwrap(), 3);
        assert!(label_of("BXabE").is_err());
        assert!(label_of("BXYXE").is_err());
        assert_eq!(
            label_of("BXzYE").unwrap_err(),
            DataError::UnknownSymbol {
                symbol: 'z',
                position: 2,
                alphabet: "XYabcdBE"
            }
        );
    }

    #[test]
    fn validation_sequences_are_neither_training_nor_test_sequences() {
        let d = Difficulty::Easy;
        let val = generate_validation(50, d, 7).unwrap();
        let (train, test) = generate_split(50, 50, d, 7).unwrap();
        assert_eq!(val, generate_validation(50, d, 7).unwrap());
        assert_ne!(val, train);
        assert_ne!(val, test);
        assert_ne!(val, generate_validation(50, d, 8).unwrap());
        assert_eq!(val.inputs().shape(), &[50, d.padded_len(), N_FEATURES]);
    }

    #[test]
    fn fresh_batches_rejects_empty_batches() {
        assert!(FreshBatches::new(Difficulty::Easy, 0, 1).is_err());
        let b = FreshBatches::new(Difficulty::Hard, 3, 1).unwrap();
        assert_eq!((b.difficulty(), b.batch_size()), (Difficulty::Hard, 3));
    }
}
