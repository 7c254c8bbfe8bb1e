//! A target: a number compared with what a source prints, or with one of
//! seqlab's own goals, and the rule that judges it over seeds.
//!
//! Two kinds, kept apart in the data and in the report:
//!
//! - **published**: the source prints a number (`published_value`), quoted
//!   with where it prints it (`source`). Over seeds the reproduction is
//!   judged by one rule ([`Verdict`]): *consistent* when the published
//!   number lies in the seeds' 95% interval for the mean (widened by the
//!   published number's own rounding: half a unit of its last digit),
//!   *above* when the whole interval lies above it, *below* when below.
//! - **goal**: seqlab's own expectation (a stretch goal, a qualitative
//!   claim made explicit): passes when the mean over seeds is in its
//!   accepted range.
//!
//! An interval never runs past the range the measure can take (`bounds`,
//! e.g. `[0, 1]` for an accuracy): it is clipped there. Where a bounded
//! measure's seeds split into two groups (the largest gap between
//! neighbouring values exceeds both half their range and a quarter of the
//! measure's range), the interval is not meaningful: the report shows the
//! per-seed values, and the verdict uses the seeds' range instead.

use crate::common::fmt_number;
use serde::{Deserialize, Serialize};

/// Whether a target compares with a published number or is seqlab's own goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// The source prints the number.
    Published,
    /// seqlab's own expectation.
    Goal,
}

/// A published number, what we expect of our reproduction, and what we measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// What is measured.
    pub what: String,
    /// The source's number, as published.
    pub published: String,
    /// The published number as a value on the measurement's scale, where
    /// the source gives one (`about 46%` is 0.46); `None` where it gives
    /// none ("keeps working", "not published").
    pub published_value: Option<f64>,
    /// Accepted range for the measurement.
    pub expected: String,
    /// Lower end of the accepted range (`None`: unbounded).
    pub lo: Option<f64>,
    /// Upper end of the accepted range (`None`: unbounded).
    pub hi: Option<f64>,
    /// The measurement (written as `null` when not a number).
    #[serde(deserialize_with = "crate::record::nan_from_null")]
    pub measured: f64,
    /// Whether the measurement is in the accepted range.
    pub pass: bool,
    /// Published comparison or goal (absent in older files: published
    /// where there is a `published_value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TargetKind>,
    /// Where the source prints the published number (source and section).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The range the measure can take (an accuracy: `[0, 1]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds: Option<[f64; 2]>,
}

impl Target {
    /// A count the source prints (parameters of a model summary), compared
    /// exactly: met when `counted == printed`, with `printed` as the
    /// published value.
    pub fn count(what: &str, published: &str, counted: i64, printed: i64) -> Self {
        Self::within(
            what,
            published,
            counted as f64,
            printed as f64,
            printed as f64,
        )
        .published_at(printed as f64)
    }

    /// A target met when `lo <= measured <= hi` (`f64::MIN`/`f64::MAX` for no bound).
    pub fn within(what: &str, published: &str, measured: f64, lo: f64, hi: f64) -> Self {
        let expected = match (lo > f64::MIN, hi < f64::MAX) {
            (true, true) if lo == hi => format!("exactly {lo}"),
            (true, true) => format!("{lo} to {hi}"),
            (true, false) => format!(">= {lo}"),
            (false, true) => format!("<= {hi}"),
            (false, false) => "any".to_string(),
        };
        Self {
            what: what.to_string(),
            published: published.to_string(),
            published_value: None,
            expected,
            lo: (lo > f64::MIN).then_some(lo),
            hi: (hi < f64::MAX).then_some(hi),
            measured,
            pass: Self::accepts(lo, hi, measured),
            kind: None,
            source: None,
            bounds: None,
        }
    }

    /// Published comparison or goal: as set, else published where the
    /// source's number is recorded.
    pub fn kind(&self) -> TargetKind {
        self.kind.unwrap_or(match self.published_value {
            Some(_) => TargetKind::Published,
            None => TargetKind::Goal,
        })
    }

    /// Marks the target as seqlab's own goal (not a published number).
    pub fn goal(mut self) -> Self {
        self.kind = Some(TargetKind::Goal);
        self
    }

    /// Says where the source prints the published number.
    pub fn source(mut self, location: &str) -> Self {
        self.source = Some(location.to_string());
        self
    }

    /// The range the measure can take (intervals are clipped to it).
    pub fn bounds(mut self, lo: f64, hi: f64) -> Self {
        self.bounds = Some([lo, hi]);
        self
    }

    fn accepts(lo: f64, hi: f64, x: f64) -> bool {
        (lo..=hi).contains(&x)
    }

    /// Whether `x` (for example a mean over seeds) is in the accepted range.
    pub fn range_contains(&self, x: f64) -> bool {
        Self::accepts(self.lo.unwrap_or(f64::MIN), self.hi.unwrap_or(f64::MAX), x)
    }

    /// Records the published number as a value (see [`Target::published_value`]);
    /// the target becomes a published comparison unless marked a goal.
    pub fn published_at(mut self, value: f64) -> Self {
        self.published_value = Some(value);
        self
    }

    /// A published comparison's verdict on this one measurement (its value
    /// takes the interval's place); `None` for a goal.
    pub fn verdict(&self) -> Option<Verdict> {
        match (self.kind(), self.published_value) {
            (TargetKind::Published, Some(p)) => {
                Some(Verdict::of(p, [self.measured, self.measured]))
            }
            _ => None,
        }
    }

    /// A one-line report, e.g. `PASS RNN test accuracy: 1.0000 (expected >= 0.99; published 100%)`.
    pub fn line(&self) -> String {
        if let Some(verdict) = self.verdict() {
            return format!(
                "{} {}: {} (published {})",
                verdict.name().to_uppercase(),
                self.what,
                fmt_number(self.measured),
                self.published
            );
        }
        format!(
            "{} {}: {} (expected {}; published {})",
            if self.pass { "PASS" } else { "MISS" },
            self.what,
            fmt_number(self.measured),
            self.expected,
            self.published
        )
    }
}

/// Where the published number falls relative to the seeds' interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The whole interval lies above the published number.
    Above,
    /// The published number lies in the interval (or within its own rounding of it).
    Consistent,
    /// The whole interval lies below the published number.
    Below,
}

impl Verdict {
    /// `above`, `consistent` or `below`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Above => "above",
            Verdict::Consistent => "consistent",
            Verdict::Below => "below",
        }
    }

    /// The verdict for published value `p` and the interval `[lo, hi]`,
    /// allowing `p`'s own rounding.
    pub fn of(p: f64, [lo, hi]: [f64; 2]) -> Self {
        let r = rounding(p);
        if lo - r > p {
            Verdict::Above
        } else if hi + r < p {
            Verdict::Below
        } else {
            Verdict::Consistent
        }
    }
}

/// Half a unit of the last digit of `p` as written (shortest form):
/// `0.46` -> 0.005, `0.8544` -> 0.00005, `652577` -> 0.5.
pub fn rounding(p: f64) -> f64 {
    let text = format!("{}", p.abs());
    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
    0.5 * 10f64.powi(-(decimals as i32))
}

/// `[lo, hi]` clipped to `bounds`.
pub fn clip(interval: [f64; 2], bounds: Option<[f64; 2]>) -> [f64; 2] {
    match bounds {
        Some([blo, bhi]) => [interval[0].max(blo), interval[1].min(bhi)],
        None => interval,
    }
}

/// Whether the values of a bounded measure split into two groups: the
/// largest gap between neighbouring values exceeds both half their range
/// and a quarter of the measure's range (`bounds`). Unbounded: never.
pub fn splits(values: &[f64], bounds: Option<[f64; 2]>) -> bool {
    let Some([blo, bhi]) = bounds else {
        return false;
    };
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 3 {
        return false;
    }
    v.sort_by(f64::total_cmp);
    let range = v[v.len() - 1] - v[0];
    let gap = v.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    gap > 0.5 * range && gap > 0.25 * (bhi - blo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_allows_the_published_rounding_and_nothing_more() {
        assert_eq!(rounding(0.46), 0.005);
        assert!((rounding(0.8544) - 0.000_05).abs() < 1e-15);
        assert_eq!(rounding(652_577.0), 0.5);
        // The post's 46% against the feed-forward seeds' interval [0.392, 0.442].
        assert_eq!(Verdict::of(0.46, [0.3918, 0.4422]), Verdict::Below);
        // 85.44% inside [0.8450, 0.8612].
        assert_eq!(Verdict::of(0.8544, [0.8450, 0.8612]), Verdict::Consistent);
        // 0.92 just under an interval starting at 0.9243, but 0.92 is
        // written to two decimals: anything from 0.915 to 0.925 is 0.92.
        assert_eq!(Verdict::of(0.92, [0.9243, 0.93]), Verdict::Consistent);
        assert_eq!(Verdict::of(0.92, [0.9251, 0.93]), Verdict::Above);
    }

    #[test]
    fn intervals_stay_in_bounds_and_split_seeds_are_recognised() {
        assert_eq!(clip([0.9936, 1.0020], Some([0.0, 1.0])), [0.9936, 1.0]);
        assert_eq!(clip([-3.0, 2.0], None), [-3.0, 2.0]);
        // HARD LSTM: four seeds near 1, one at 0.51.
        assert!(splits(&[1.0, 0.51, 1.0, 1.0, 0.958], Some([0.0, 1.0])));
        // Five AUCs close together do not split, though with three values
        // the largest gap always exceeds half the range.
        assert!(!splits(&[0.914, 0.931, 0.918], Some([0.0, 1.0])));
        // One low seed among five is spread, not two groups.
        assert!(!splits(
            &[0.568, 0.483, 0.504, 0.498, 0.362],
            Some([0.0, 1.0])
        ));
        assert!(!splits(&[1.0, 0.51, 1.0], None));
        let t = Target::within("acc", "about 46%", 0.5, 0.4, 0.55).published_at(0.46);
        assert_eq!(t.kind(), TargetKind::Published);
        assert_eq!(t.clone().goal().kind(), TargetKind::Goal);
        assert_eq!(
            Target::within("x", "", 1.0, 0.0, 2.0).kind(),
            TargetKind::Goal
        );
        // One seed: its value is the interval; 0.5 lies above 0.46 ± 0.005.
        assert!(t.line().starts_with("ABOVE acc: 0.5000"), "{}", t.line());
    }
}
