//! Seeded mini-batching.
//!
//! [`EpochBatches`] yields, for every epoch, the sample indices of each
//! mini-batch. With shuffling on, epoch `e` of seed `s` always gives the same
//! order, whatever happened in earlier epochs, so a resumed or repeated run
//! sees identical batches.

use crate::rng;
use crate::DataError;
use rand::seq::SliceRandom;

/// Plans the mini-batches of each epoch over `n` samples.
#[derive(Debug, Clone)]
pub struct EpochBatches {
    n: usize,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
}

impl EpochBatches {
    /// `n` samples in batches of `batch_size` (the last batch may be smaller).
    pub fn new(n: usize, batch_size: usize, shuffle: bool, seed: u64) -> Result<Self, DataError> {
        if n == 0 {
            return Err(DataError::InvalidParameter {
                what: "data set",
                why: "it has no samples".into(),
            });
        }
        if batch_size == 0 {
            return Err(DataError::InvalidParameter {
                what: "batch size",
                why: "must be at least 1".into(),
            });
        }
        Ok(Self {
            n,
            batch_size,
            shuffle,
            seed,
        })
    }

    /// Number of batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.n.div_ceil(self.batch_size)
    }

    /// The sample order of `epoch` (0-based): a permutation when shuffling, else `0..n`.
    pub fn order(&self, epoch: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.n).collect();
        if self.shuffle {
            let mut r = rng::stream(
                self.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                rng::streams::SHUFFLE,
            );
            idx.shuffle(&mut r);
        }
        idx
    }

    /// The batches of `epoch` as index lists.
    pub fn batches(&self, epoch: usize) -> Vec<Vec<usize>> {
        self.order(epoch)
            .chunks(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_every_sample_once_per_epoch() {
        let b = EpochBatches::new(103, 10, true, 5).unwrap();
        assert_eq!(b.batches_per_epoch(), 11);
        let batches = b.batches(0);
        assert_eq!(batches.len(), 11);
        assert_eq!(batches.last().unwrap().len(), 3);
        let mut all: Vec<usize> = batches.concat();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
    }

    #[test]
    fn shuffling_is_seeded_and_differs_between_epochs() {
        let a = EpochBatches::new(50, 8, true, 1).unwrap();
        let b = EpochBatches::new(50, 8, true, 1).unwrap();
        let c = EpochBatches::new(50, 8, true, 2).unwrap();
        assert_eq!(a.order(3), b.order(3));
        assert_ne!(a.order(0), a.order(1));
        assert_ne!(a.order(0), c.order(0));
        assert_ne!(a.order(0), (0..50).collect::<Vec<_>>());
        let plain = EpochBatches::new(5, 2, false, 1).unwrap();
        assert_eq!(plain.batches(7), vec![vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn rejects_empty_and_zero_batch() {
        assert!(EpochBatches::new(0, 4, true, 0).is_err());
        assert!(EpochBatches::new(4, 0, true, 0).is_err());
    }
}
