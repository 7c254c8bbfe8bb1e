//! Seeded, stratified splits and samples of labelled data sets.
//!
//! Both functions work on the labels alone and return row indices in
//! increasing order, so the caller slices whatever holds the samples
//! (vectors, tensors). Each class is shuffled with its own draws from one
//! seeded [`crate::rng::stream`], and `round(fraction * class size)` of its
//! rows are taken, so every class keeps its share.

use crate::rng;
use crate::DataError;
use rand::seq::SliceRandom;

/// Splits rows into `(kept, held_out)` with `fraction` of every class held
/// out, drawn from `rng::stream(seed, stream)`. `fraction` must be in `[0, 1]`.
pub fn stratified_split<T: Ord + Copy>(
    labels: &[T],
    fraction: f64,
    seed: u64,
    stream: u64,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(DataError::InvalidParameter {
            what: "split fraction",
            why: format!("must be in [0, 1], got {fraction}"),
        });
    }
    let mut classes: Vec<T> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let mut rng = rng::stream(seed, stream);
    let mut kept = Vec::with_capacity(labels.len());
    let mut held = Vec::new();
    for class in classes {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        let n = ((rows.len() as f64) * fraction).round() as usize;
        held.extend_from_slice(&rows[..n]);
        kept.extend_from_slice(&rows[n..]);
    }
    kept.sort_unstable();
    held.sort_unstable();
    Ok((kept, held))
}

/// A stratified sample of about `n` rows (every class in proportion;
/// rounding may add or drop one row per class); all rows when `n` is at
/// least their number.
pub fn stratified_sample<T: Ord + Copy>(
    labels: &[T],
    n: usize,
    seed: u64,
    stream: u64,
) -> Vec<usize> {
    if n >= labels.len() {
        return (0..labels.len()).collect();
    }
    let fraction = n as f64 / labels.len() as f64;
    // fraction is in [0, 1), so the split cannot fail.
    stratified_split(labels, fraction, seed, stream).map_or_else(|_| Vec::new(), |(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_class_shares_and_is_seeded() {
        // 30 negatives, 10 positives.
        let labels: Vec<bool> = (0..40).map(|i| i % 4 == 0).collect();
        let (kept, held) = stratified_split(&labels, 0.2, 7, 4).unwrap();
        assert_eq!(held.len(), 8);
        assert_eq!(held.iter().filter(|&&i| labels[i]).count(), 2);
        assert_eq!(kept.len() + held.len(), 40);
        let mut all: Vec<usize> = kept.iter().chain(&held).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..40).collect::<Vec<_>>(), "a partition of the rows");
        assert!(held.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(stratified_split(&labels, 0.2, 7, 4).unwrap().1, held);
        assert_ne!(stratified_split(&labels, 0.2, 8, 4).unwrap().1, held);
        assert_ne!(stratified_split(&labels, 0.2, 7, 5).unwrap().1, held);
        assert!(stratified_split(&labels, 1.5, 7, 4).is_err());
        assert_eq!(
            stratified_split(&labels, 0.0, 7, 4).unwrap().1,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn sample_is_balanced_on_balanced_labels() {
        let labels: Vec<u8> = (0..1000).map(|i| (i >= 500) as u8).collect();
        let s = stratified_sample(&labels, 100, 1, 1);
        assert_eq!(s.len(), 100);
        assert_eq!(s.iter().filter(|&&i| labels[i] == 1).count(), 50);
        assert_eq!(stratified_sample(&labels, 5000, 1, 1).len(), 1000);
    }
}
