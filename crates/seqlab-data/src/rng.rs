//! The seeded random number generator used by every generator and shuffler.
//!
//! ChaCha8 is portable and stable across platforms and `rand` versions, so a
//! seed gives the same data everywhere. [`stream`] derives independent
//! generators for different purposes from one user seed (data, shuffling,
//! splits), so changing one use does not shift the others.

use rand::SeedableRng;
pub use rand_chacha::ChaCha8Rng as SeqRng;

/// Well-known stream ids, so that data generation and shuffling from the same
/// user seed never share random numbers.
pub mod streams {
    /// Training data.
    pub const TRAIN_DATA: u64 = 1;
    /// Test / held-out data.
    pub const TEST_DATA: u64 = 2;
    /// Per-epoch shuffling of mini-batches.
    pub const SHUFFLE: u64 = 3;
    /// Validation splits.
    pub const SPLIT: u64 = 4;
}

/// A generator for `seed`, on the sub-stream `stream`.
pub fn stream(seed: u64, stream: u64) -> SeqRng {
    let mut rng = SeqRng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}
