//! Summaries of one number measured over several seeds: mean, sample
//! standard deviation, range, and a 95% confidence interval for the mean
//! from Student's t distribution.

use crate::error::{MetricsError, Result};
use serde::{Deserialize, Serialize};

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine coefficients: about 15
/// significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut sum = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        sum += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The continued fraction of the regularised incomplete beta function
/// (modified Lentz), for `x < (a + 1) / (a + b + 2)`.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    d = if d.abs() < TINY { TINY } else { d };
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            d = if d.abs() < TINY { TINY } else { d };
            c = 1.0 + aa / c;
            c = if c.abs() < TINY { TINY } else { c };
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function `I_x(a, b)`.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// `P(T <= t)` for Student's t with `df` degrees of freedom, `t >= 0`.
fn t_cdf(t: f64, df: f64) -> f64 {
    1.0 - 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// The quantile of Student's t with `df` degrees of freedom at probability
/// `p` in `[0.5, 1)`: computed from the distribution function (regularised
/// incomplete beta), by bisection to 1e-12; `None` for `df == 0` or `p`
/// outside that range.
pub fn t_quantile(p: f64, df: usize) -> Option<f64> {
    if df == 0 || !(0.5..1.0).contains(&p) {
        return None;
    }
    let df = df as f64;
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    while hi - lo > 1e-12 * hi.max(1.0) {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (the
/// factor of a two-sided 95% interval), exact to about 1e-12; `None` for
/// `df == 0`.
pub fn t_quantile_975(df: usize) -> Option<f64> {
    t_quantile(0.975, df)
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
        // squares sum 1.58e-4, sd sqrt(7.9e-5) = 0.0088882, t(2) = 4.3027.
        let s = SeedSpread::of(&[0.914, 0.931, 0.918]).unwrap();
        assert_eq!(s.n, 3);
        assert!((s.mean - 0.921).abs() < 1e-12);
        assert!((s.sd - 7.9e-5f64.sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max), (0.914, 0.931));
        let half = t_quantile_975(2).unwrap() * 7.9e-5f64.sqrt() / 3f64.sqrt();
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
    fn t_quantiles_are_exact() {
        assert_eq!(t_quantile_975(0), None);
        // Reference values (scipy.stats.t.ppf(0.975, df), 10 digits).
        for (df, want) in [
            (1, 12.706_204_74),
            (2, 4.302_652_730),
            (4, 2.776_445_105),
            (30, 2.042_272_456),
            (40, 2.021_075_390),
            (120, 1.979_930_405),
        ] {
            let t = t_quantile_975(df).unwrap();
            assert!((t - want).abs() < 1e-8, "df {df}: {t} vs {want}");
        }
        // One degree of freedom is the Cauchy distribution: tan(pi (p - 1/2)).
        let cauchy = (std::f64::consts::PI * 0.45).tan();
        assert!((t_quantile(0.95, 1).unwrap() - cauchy).abs() < 1e-9);
        assert_eq!(t_quantile(1.0, 3), None);
    }
}
