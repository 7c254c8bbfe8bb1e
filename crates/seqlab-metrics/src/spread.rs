//! Summaries of one number measured over several seeds: mean, sample
//! standard deviation, range, and a 95% confidence interval for the mean
//! from Student's t distribution.

use crate::error::{MetricsError, Result};
use serde::{Deserialize, Serialize};

/// Two-sided 97.5% quantiles of Student's t for 1 to 30 degrees of freedom
/// (the usual table; e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The 97.5% quantile of Student's t with `df` degrees of freedom (the
/// factor of a two-sided 95% interval); `None` for `df == 0`. Exact to the
/// table's three decimals up to 30; beyond, the Cornish-Fisher expansion
/// `z + (z^3 + z) / (4 df)` (within 0.002 of the exact value).
pub fn t_quantile_975(df: usize) -> Option<f64> {
    match df {
        0 => None,
        1..=30 => T_975.get(df - 1).copied(),
        _ => {
            let z = 1.959_964;
            Some(z + (z * z * z + z) / (4.0 * df as f64))
        }
    }
}

/// Mean, spread and 95% interval of one number over several seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedSpread {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divides by `n - 1`); 0 for one value.
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// 95% confidence interval for the mean, `mean ± t(0.975, n-1) sd / sqrt(n)`;
    /// `None` for a single value.
    pub ci95: Option<[f64; 2]>,
}

impl SeedSpread {
    /// Summarises `values` (one per seed). Errors on an empty slice or a
    /// non-finite value, naming its position.
    pub fn of(values: &[f64]) -> Result<Self> {
        if values.is_empty() {
            return Err(MetricsError::Empty { what: "values" });
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(MetricsError::NonFinite {
                what: "values",
                index,
                value,
            });
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let ci95 = t_quantile_975(n - 1).map(|t| {
            let half = t * sd / (n as f64).sqrt();
            [mean - half, mean + half]
        });
        Ok(Self {
            n,
            mean,
            sd,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ci95,
        })
    }

    /// Where `x` falls relative to the values' range `[min, max]`.
    pub fn position_of(&self, x: f64) -> RangePosition {
        if x < self.min {
            RangePosition::Below
        } else if x > self.max {
            RangePosition::Above
        } else {
            RangePosition::Inside
        }
    }
}

/// Where a number lies relative to the range of the seeds' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RangePosition {
    /// Smaller than every seed's value.
    Below,
    /// Between the smallest and the largest value, both included.
    Inside,
    /// Larger than every seed's value.
    Above,
}

impl RangePosition {
    /// `below`, `inside` or `above`.
    pub fn name(self) -> &'static str {
        match self {
            RangePosition::Below => "below",
            RangePosition::Inside => "inside",
            RangePosition::Above => "above",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_the_imdb_rnn_aucs_by_hand() {
        // 0.914, 0.931, 0.918: mean 0.921, deviations -0.007, 0.010, -0.003,
        // squares sum 1.58e-4, sd sqrt(7.9e-5) = 0.0088882, t(2) = 4.303.
        let s = SeedSpread::of(&[0.914, 0.931, 0.918]).unwrap();
        assert_eq!(s.n, 3);
        assert!((s.mean - 0.921).abs() < 1e-12);
        assert!((s.sd - 7.9e-5f64.sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max), (0.914, 0.931));
        let half = 4.303 * 7.9e-5f64.sqrt() / 3f64.sqrt();
        let [lo, hi] = s.ci95.unwrap();
        assert!((lo - (0.921 - half)).abs() < 1e-12 && (hi - (0.921 + half)).abs() < 1e-12);
        assert_eq!(s.position_of(0.92), RangePosition::Inside);
        assert_eq!(s.position_of(0.90), RangePosition::Below);
        assert_eq!(s.position_of(0.94).name(), "above");
    }

    #[test]
    fn one_value_has_no_interval_and_bad_input_is_an_error() {
        let s = SeedSpread::of(&[0.5]).unwrap();
        assert_eq!((s.sd, s.ci95), (0.0, None));
        assert_eq!(
            SeedSpread::of(&[]).unwrap_err(),
            MetricsError::Empty { what: "values" }
        );
        let err = SeedSpread::of(&[1.0, f64::NAN]).unwrap_err().to_string();
        assert!(err.contains("values[1]"), "{err}");
    }

    #[test]
    fn t_quantiles_match_the_table_and_approach_the_normal() {
        assert_eq!(t_quantile_975(0), None);
        assert_eq!(t_quantile_975(4), Some(2.776));
        assert_eq!(t_quantile_975(30), Some(2.042));
        // Exact values: t(40) = 2.0211, t(120) = 1.9799.
        assert!((t_quantile_975(40).unwrap() - 2.0211).abs() < 0.002);
        assert!((t_quantile_975(120).unwrap() - 1.9799).abs() < 0.001);
    }
}
