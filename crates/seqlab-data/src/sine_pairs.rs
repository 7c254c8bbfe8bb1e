//! Windows of function pairs for an encoder-decoder with teacher forcing
//! (after the Keras blog's sequence-to-sequence post).
//!
//! A grid of `points` values of `x` spans the pair's domain (both ends
//! included). Window `i` covers grid indices `i..i + window`; the encoder reads
//! the input function there, the decoder predicts the target function there.
//! With teacher forcing the decoder is fed the target shifted right by one
//! step with a leading 0 ([`shift_right`]). As in the post there are
//! `points - window` windows (76 for 100 points and windows of 24): the last
//! window, which would end exactly on the final grid point, is not used.
//!
//! Everything here is deterministic; there is no seed.
//!
//! ```
//! use seqlab_data::sine_pairs::{self, FunctionPair, WindowConfig};
//! let w = sine_pairs::windows(&WindowConfig::new(FunctionPair::SinCos)).unwrap();
//! assert_eq!(w.len(), 76);
//! assert_eq!(w.encoder_input.shape(), &[76, 24, 1]);
//! assert!(w.encoder_input.row(0)[0].abs() < 1e-6); // sin(-2 pi)
//! assert_eq!(w.decoder_input.row(0)[0], 0.0);
//! assert_eq!(w.decoder_input.row(0)[1], w.decoder_target.row(0)[0]);
//! assert_eq!(w.teacher_forcing().inputs().shape(), &[76, 24, 2]);
//! ```

use crate::{Array, DataError, Dataset, Targets};
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// Points on the grid in the post.
pub const DEFAULT_POINTS: usize = 100;
/// Window length in the post.
pub const DEFAULT_WINDOW: usize = 24;

/// The input/target function pairs of the post.
///
/// Parses case-insensitively from and displays as `sin-cos`, `damped`,
/// `power`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FunctionPair {
    /// `sin x -> cos x` on `[-2 pi, 2 pi]` (the post's main example).
    SinCos,
    /// Damped oscillation `exp(-x/5) cos x -> exp(-x/5) sin x` on `[0, 5 pi]`.
    Damped,
    /// `x^2 -> x^0.5` on `[0, 1.5]`.
    Power,
}

impl FunctionPair {
    /// All pairs, in the post's order.
    pub const ALL: [FunctionPair; 3] = [
        FunctionPair::SinCos,
        FunctionPair::Damped,
        FunctionPair::Power,
    ];

    /// The name used by [`FromStr`] and [`fmt::Display`].
    pub fn name(self) -> &'static str {
        match self {
            FunctionPair::SinCos => "sin-cos",
            FunctionPair::Damped => "damped",
            FunctionPair::Power => "power",
        }
    }

    /// The closed interval `(lo, hi)` the grid spans.
    pub fn domain(self) -> (f64, f64) {
        match self {
            FunctionPair::SinCos => (-2.0 * PI, 2.0 * PI),
            FunctionPair::Damped => (0.0, 5.0 * PI),
            FunctionPair::Power => (0.0, 1.5),
        }
    }

    /// The encoder's input function at `x`.
    pub fn input(self, x: f64) -> f64 {
        match self {
            FunctionPair::SinCos => x.sin(),
            FunctionPair::Damped => (-x / 5.0).exp() * x.cos(),
            FunctionPair::Power => x * x,
        }
    }

    /// The decoder's target function at `x` (NaN for the power pair at
    /// negative `x`, which is outside its domain).
    pub fn target(self, x: f64) -> f64 {
        match self {
            FunctionPair::SinCos => x.cos(),
            FunctionPair::Damped => (-x / 5.0).exp() * x.sin(),
            FunctionPair::Power => x.powf(0.5),
        }
    }

    /// A one-line description: the mapping and the domain.
    pub fn description(self) -> &'static str {
        match self {
            FunctionPair::SinCos => "sin x -> cos x on [-2pi, 2pi]",
            FunctionPair::Damped => "exp(-x/5) cos x -> exp(-x/5) sin x on [0, 5pi]",
            FunctionPair::Power => "x^2 -> x^0.5 on [0, 1.5]",
        }
    }
}

impl fmt::Display for FunctionPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FunctionPair {
    type Err = DataError;

    /// Parses a pair name, ignoring case and surrounding white space.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        FunctionPair::ALL
            .into_iter()
            .find(|p| p.name() == wanted)
            .ok_or_else(|| DataError::InvalidParameter {
                what: "function pair",
                why: format!(
                    "unknown pair {s:?}; expected one of {}",
                    FunctionPair::ALL.map(FunctionPair::name).join(", ")
                ),
            })
    }
}

/// How to cut a function pair into windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowConfig {
    /// The function pair.
    pub pair: FunctionPair,
    /// Points on the grid over the domain, both ends included (100 in the post).
    pub points: usize,
    /// Steps per window (24 in the post).
    pub window: usize,
}

impl WindowConfig {
    /// The post's settings for `pair`: 100 points, windows of 24.
    pub fn new(pair: FunctionPair) -> Self {
        Self {
            pair,
            points: DEFAULT_POINTS,
            window: DEFAULT_WINDOW,
        }
    }
}

impl Default for WindowConfig {
    /// The post's main example: [`FunctionPair::SinCos`], 100 points, windows of 24.
    fn default() -> Self {
        Self::new(FunctionPair::SinCos)
    }
}

/// The windows of one function pair, `n = points - window` of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// The grid: `points` values from the domain's start to its end, inclusive.
    pub x: Vec<f64>,
    /// The first grid index of each window (`0..n`).
    pub starts: Vec<usize>,
    /// The input function over each window, `[n, window, 1]`.
    pub encoder_input: Array,
    /// [`shift_right`] of each window's target, `[n, window, 1]`.
    pub decoder_input: Array,
    /// The target function over each window, `[n, window, 1]`.
    pub decoder_target: Array,
}

impl Windows {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True if there are no windows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Teacher-forcing training data in one [`Dataset`]. Inputs have shape
    /// `[n, window, 2]`: at each step, feature 0 is the encoder input and
    /// feature 1 the decoder input (the shifted target). Targets
    /// ([`Targets::Values`]) are the decoder targets `[n, window, 1]`. A model
    /// splits the inputs on the last axis: feature 0 for the encoder, feature 1
    /// for the decoder.
    pub fn teacher_forcing(&self) -> Dataset {
        let enc = self.encoder_input.data();
        let dec = self.decoder_input.data();
        let mut data = Vec::with_capacity(2 * enc.len());
        for (&e, &d) in enc.iter().zip(dec) {
            data.push(e);
            data.push(d);
        }
        let shape = vec![self.len(), self.encoder_input.shape()[1], 2];
        Array::new(data, shape)
            .and_then(|x| Dataset::new(x, Targets::Values(self.decoder_target.clone())))
            .unwrap_or_else(|e| unreachable!("shapes agree by construction: {e}"))
    }
}

/// `target` delayed by one step with a leading 0: `[0, t0, t1, ..., t(n-2)]`
/// (same length; empty stays empty).
pub fn shift_right(target: &[f32]) -> Vec<f32> {
    if target.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(target.len());
    out.push(0.0);
    out.extend_from_slice(&target[..target.len() - 1]);
    out
}

/// `points` evenly spaced values from `lo` to `hi`, both included exactly.
fn linspace(lo: f64, hi: f64, points: usize) -> Vec<f64> {
    let step = (hi - lo) / (points - 1) as f64;
    (0..points)
        .map(|i| {
            if i + 1 == points {
                hi
            } else {
                lo + step * i as f64
            }
        })
        .collect()
}

/// Cuts the pair of `config` into windows. Fails if `window` is 0 or
/// `points <= window` (there must be at least one window).
pub fn windows(config: &WindowConfig) -> Result<Windows, DataError> {
    let WindowConfig {
        pair,
        points,
        window,
    } = *config;
    if window < 1 {
        return Err(DataError::InvalidParameter {
            what: "window",
            why: "a window needs at least one step".into(),
        });
    }
    if points <= window {
        return Err(DataError::InvalidParameter {
            what: "points",
            why: format!("{points} grid points leave no window of {window} steps (need more points than steps)"),
        });
    }
    let (lo, hi) = pair.domain();
    let x = linspace(lo, hi, points);
    let n = points - window;
    let starts: Vec<usize> = (0..n).collect();
    let mut enc = Vec::with_capacity(n * window);
    let mut dec_in = Vec::with_capacity(n * window);
    let mut dec_target = Vec::with_capacity(n * window);
    for &s in &starts {
        let xs = &x[s..s + window];
        enc.extend(xs.iter().map(|&v| pair.input(v) as f32));
        let target: Vec<f32> = xs.iter().map(|&v| pair.target(v) as f32).collect();
        dec_in.extend(shift_right(&target));
        dec_target.extend(target);
    }
    Ok(Windows {
        x,
        starts,
        encoder_input: Array::new(enc, vec![n, window, 1])?,
        decoder_input: Array::new(dec_in, vec![n, window, 1])?,
        decoder_target: Array::new(dec_target, vec![n, window, 1])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_display_and_evaluate() {
        for p in FunctionPair::ALL {
            assert_eq!(p.to_string().parse::<FunctionPair>().unwrap(), p);
            assert!(!p.description().is_empty());
        }
        assert_eq!(
            "SIN-COS".parse::<FunctionPair>().unwrap(),
            FunctionPair::SinCos
        );
        let err = "tan".parse::<FunctionPair>().unwrap_err().to_string();
        assert!(err.contains("sin-cos, damped, power"), "{err}");
        assert_eq!(FunctionPair::Power.input(1.5), 2.25);
        assert_eq!(FunctionPair::Power.target(2.25), 1.5);
        assert!((FunctionPair::Damped.input(PI) + (-PI / 5.0).exp()).abs() < 1e-12);
        assert!((FunctionPair::Damped.target(PI / 2.0) - (-PI / 10.0).exp()).abs() < 1e-12);
        assert_eq!(FunctionPair::SinCos.target(0.0), 1.0);
    }

    #[test]
    fn shift_right_delays_by_one() {
        assert_eq!(shift_right(&[1.0, 2.0, 3.0]), vec![0.0, 1.0, 2.0]);
        assert_eq!(shift_right(&[5.0]), vec![0.0]);
        assert!(shift_right(&[]).is_empty());
    }

    #[test]
    fn bad_configs_are_rejected() {
        let mut c = WindowConfig::new(FunctionPair::Damped);
        c.window = 0;
        assert!(matches!(
            windows(&c),
            Err(DataError::InvalidParameter { what: "window", .. })
        ));
        c.window = 10;
        c.points = 10;
        assert!(matches!(
            windows(&c),
            Err(DataError::InvalidParameter { what: "points", .. })
        ));
        c.points = 11;
        let w = windows(&c).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w.x.len(), 11);
    }

    #[test]
    fn teacher_forcing_interleaves_encoder_and_decoder_inputs() {
        let w = windows(&WindowConfig {
            pair: FunctionPair::Power,
            points: 7,
            window: 3,
        })
        .unwrap();
        let d = w.teacher_forcing();
        assert_eq!(d.inputs().shape(), &[4, 3, 2]);
        for i in 0..w.len() {
            let row = d.inputs().row(i);
            for t in 0..3 {
                assert_eq!(row[2 * t], w.encoder_input.row(i)[t]);
                assert_eq!(row[2 * t + 1], w.decoder_input.row(i)[t]);
            }
        }
        assert_eq!(d.targets(), &Targets::Values(w.decoder_target.clone()));
    }
}
