//! Seed-conditioned continuation (a question on the Flux discourse forum).
//!
//! Five seeds are drawn uniformly from `[-1, 1]`; each following value is the
//! previous value plus `0.5` times the **fourth** seed (`seeds[3]`), for five
//! continuation steps, so a full sequence holds ten values:
//!
//! ```text
//! full = s0 s1 s2 s3 s4 | s4 + 0.5 s3, s4 + 2 (0.5 s3), ..., s4 + 5 (0.5 s3)
//! ```
//!
//! The question trained on 1,000 sequences and validated on 100
//! ([`DEFAULT_TRAIN`], [`DEFAULT_VAL`]). Its model collapsed to predicting the
//! unconditional mean of each step; [`mean_baseline_mse`] is the MSE of that
//! prediction, the number a working model must beat.
//!
//! Two views of the data: [`ContinuationSet::seq2seq`] (the five seeds in,
//! the five continuation values out) and [`ContinuationSet::next_step`]
//! (next-value prediction over the full sequence, teacher-forced).
//!
//! ```
//! use seqlab_data::continuation;
//! let c = continuation::continue_from(&[0.1, -0.2, 0.3, 0.4, -0.5]);
//! let expected = [-0.3, -0.1, 0.1, 0.3, 0.5];
//! assert!(c.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6));
//!
//! let (train, val) = continuation::generate_split(
//!     continuation::DEFAULT_TRAIN, continuation::DEFAULT_VAL, 3).unwrap();
//! assert_eq!(train.full.shape(), &[1000, 10]);
//! assert_eq!(val.seq2seq().inputs().shape(), &[100, 5, 1]);
//! assert!(continuation::mean_baseline_mse(&train, &val) > 0.5);
//! ```

use crate::rng;
use crate::{Array, DataError, Dataset, Targets};
use rand::Rng;

/// Number of seed values.
pub const N_SEEDS: usize = 5;
/// Number of continuation steps.
pub const N_STEPS: usize = 5;
/// Length of a full sequence (seeds then continuation).
pub const FULL_LEN: usize = N_SEEDS + N_STEPS;
/// Index of the seed whose half is the step size (the fourth seed).
pub const STEP_SEED: usize = 3;
/// Training sequences in the question.
pub const DEFAULT_TRAIN: usize = 1000;
/// Validation sequences in the question.
pub const DEFAULT_VAL: usize = 100;

/// The five continuation values of `seeds`: each is the previous value
/// (starting from the last seed) plus `0.5 * seeds[3]`, accumulated step by
/// step in `f32`.
pub fn continue_from(seeds: &[f32; N_SEEDS]) -> [f32; N_STEPS] {
    let step = 0.5 * seeds[STEP_SEED];
    let mut value = seeds[N_SEEDS - 1];
    let mut out = [0.0f32; N_STEPS];
    for v in &mut out {
        value += step;
        *v = value;
    }
    out
}

/// `n` generated sequences in several layouts. All arrays have the sample
/// dimension first and describe the same sequences in the same order.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuationSet {
    /// The seeds, `[n, 5]`.
    pub seeds: Array,
    /// Seeds followed by the continuation, `[n, 10]`.
    pub full: Array,
    /// The continuation, `[n, 5]`.
    pub continuation: Array,
    /// `full[..9]` as a sequence of scalars, `[n, 9, 1]`.
    pub next_inputs: Array,
    /// `full[1..]` as a sequence of scalars, `[n, 9, 1]`: the value following
    /// each input step.
    pub next_targets: Array,
}

impl ContinuationSet {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.seeds.len()
    }

    /// True if there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sequence-to-sequence view: inputs are the seeds as a sequence of
    /// scalars `[n, 5, 1]`, targets ([`Targets::Values`]) the continuation
    /// `[n, 5]`.
    pub fn seq2seq(&self) -> Dataset {
        let inputs = Array::new(self.seeds.data().to_vec(), vec![self.len(), N_SEEDS, 1]);
        inputs
            .and_then(|x| Dataset::new(x, Targets::Values(self.continuation.clone())))
            .unwrap_or_else(|e| unreachable!("shapes agree by construction: {e}"))
    }

    /// Next-step view: inputs [`next_inputs`](Self::next_inputs) `[n, 9, 1]`,
    /// targets ([`Targets::Values`]) [`next_targets`](Self::next_targets)
    /// `[n, 9, 1]`.
    pub fn next_step(&self) -> Dataset {
        Dataset::new(
            self.next_inputs.clone(),
            Targets::Values(self.next_targets.clone()),
        )
        .unwrap_or_else(|e| unreachable!("shapes agree by construction: {e}"))
    }
}

fn generate_stream(n: usize, seed: u64, stream: u64) -> Result<ContinuationSet, DataError> {
    let mut r = rng::stream(seed, stream);
    let mut seeds = Vec::with_capacity(n * N_SEEDS);
    let mut full = Vec::with_capacity(n * FULL_LEN);
    let mut continuation = Vec::with_capacity(n * N_STEPS);
    let mut next_inputs = Vec::with_capacity(n * (FULL_LEN - 1));
    let mut next_targets = Vec::with_capacity(n * (FULL_LEN - 1));
    for _ in 0..n {
        let mut s = [0.0f32; N_SEEDS];
        for v in &mut s {
            *v = r.gen_range(-1.0f32..=1.0);
        }
        let c = continue_from(&s);
        let mut row = [0.0f32; FULL_LEN];
        row[..N_SEEDS].copy_from_slice(&s);
        row[N_SEEDS..].copy_from_slice(&c);
        seeds.extend_from_slice(&s);
        continuation.extend_from_slice(&c);
        full.extend_from_slice(&row);
        next_inputs.extend_from_slice(&row[..FULL_LEN - 1]);
        next_targets.extend_from_slice(&row[1..]);
    }
    Ok(ContinuationSet {
        seeds: Array::new(seeds, vec![n, N_SEEDS])?,
        full: Array::new(full, vec![n, FULL_LEN])?,
        continuation: Array::new(continuation, vec![n, N_STEPS])?,
        next_inputs: Array::new(next_inputs, vec![n, FULL_LEN - 1, 1])?,
        next_targets: Array::new(next_targets, vec![n, FULL_LEN - 1, 1])?,
    })
}

/// Generates `n` sequences from `seed` (on the [`rng::streams::TRAIN_DATA`]
/// stream).
pub fn generate(n: usize, seed: u64) -> Result<ContinuationSet, DataError> {
    generate_stream(n, seed, rng::streams::TRAIN_DATA)
}

/// Generates independent training and validation sets (the
/// [`rng::streams::TRAIN_DATA`] and [`rng::streams::TEST_DATA`] streams of
/// `seed`). The question used [`DEFAULT_TRAIN`] and [`DEFAULT_VAL`]. The
/// training set equals [`generate`]`(n_train, seed)`.
pub fn generate_split(
    n_train: usize,
    n_val: usize,
    seed: u64,
) -> Result<(ContinuationSet, ContinuationSet), DataError> {
    Ok((
        generate_stream(n_train, seed, rng::streams::TRAIN_DATA)?,
        generate_stream(n_val, seed, rng::streams::TEST_DATA)?,
    ))
}

/// The MSE on `val` of predicting, for each continuation step, the mean of
/// that step over `train` (the "unconditional mean" the question's model
/// collapsed to). Averaged over all `n_val * 5` values, in `f64`.
///
/// With seeds uniform in `[-1, 1]` the expected value is about 1.25. Returns
/// NaN if either set is empty.
pub fn mean_baseline_mse(train: &ContinuationSet, val: &ContinuationSet) -> f64 {
    if train.is_empty() || val.is_empty() {
        return f64::NAN;
    }
    let mut means = [0.0f64; N_STEPS];
    for i in 0..train.len() {
        for (m, &v) in means.iter_mut().zip(train.continuation.row(i)) {
            *m += f64::from(v);
        }
    }
    for m in &mut means {
        *m /= train.len() as f64;
    }
    let mut sum = 0.0f64;
    for i in 0..val.len() {
        for (m, &v) in means.iter().zip(val.continuation.row(i)) {
            sum += (f64::from(v) - m).powi(2);
        }
    }
    sum / (val.len() * N_STEPS) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_checked_continuation() {
        let c = continue_from(&[0.1, -0.2, 0.3, 0.4, -0.5]);
        for (a, b) in c.iter().zip([-0.3f32, -0.1, 0.1, 0.3, 0.5]) {
            assert!((a - b).abs() < 1e-6, "{c:?}");
        }
        // The step comes from the fourth seed only.
        assert_eq!(continue_from(&[9.0, 9.0, 9.0, 0.0, 0.25]), [0.25; 5]);
        assert_eq!(
            continue_from(&[0.0, 0.0, 0.0, 1.0, -1.0]),
            [-0.5, 0.0, 0.5, 1.0, 1.5]
        );
    }

    #[test]
    fn shapes_and_layouts_agree() {
        let s = generate(7, 1).unwrap();
        assert_eq!(s.len(), 7);
        assert!(!s.is_empty());
        assert_eq!(s.seeds.shape(), &[7, 5]);
        assert_eq!(s.full.shape(), &[7, 10]);
        assert_eq!(s.continuation.shape(), &[7, 5]);
        assert_eq!(s.next_inputs.shape(), &[7, 9, 1]);
        assert_eq!(s.next_targets.shape(), &[7, 9, 1]);
        for i in 0..7 {
            let full = s.full.row(i);
            assert_eq!(&full[..5], s.seeds.row(i));
            assert_eq!(&full[5..], s.continuation.row(i));
            assert_eq!(s.next_inputs.row(i), &full[..9]);
            assert_eq!(s.next_targets.row(i), &full[1..]);
        }
        let d = s.seq2seq();
        assert_eq!(d.inputs().shape(), &[7, 5, 1]);
        assert_eq!(d.inputs().data(), s.seeds.data());
        assert_eq!(d.targets(), &Targets::Values(s.continuation.clone()));
        let d = s.next_step();
        assert_eq!(d.inputs(), &s.next_inputs);
        assert_eq!(d.targets(), &Targets::Values(s.next_targets.clone()));
        assert!(generate(0, 1).unwrap().is_empty());
    }

    #[test]
    fn baseline_of_empty_sets_is_nan() {
        let e = generate(0, 1).unwrap();
        let s = generate(3, 1).unwrap();
        assert!(mean_baseline_mse(&e, &s).is_nan());
        assert!(mean_baseline_mse(&s, &e).is_nan());
        // Predicting a set's own mean of a single sequence is exact.
        let one = generate(1, 2).unwrap();
        assert_eq!(mean_baseline_mse(&one, &one), 0.0);
    }
}
