//! Axis ranges and "nice" tick positions with consistent labels.

/// One axis: the visible range (in drawing space: `log10` of the value for a
/// log axis), the tick positions in the same space and their labels.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
    pub labels: Vec<String>,
    /// Minor grid positions (log axes only).
    pub minor: Vec<f64>,
}

impl Axis {
    /// Builds an axis over `lo..hi` (drawing space) with at most about
    /// `max_ticks` labelled ticks.
    pub fn new(lo: f64, hi: f64, log: bool, max_ticks: usize) -> Axis {
        let max_ticks = max_ticks.max(2);
        let (ticks, labels, minor) = if log {
            log_ticks(lo, hi, max_ticks)
        } else {
            let (t, l) = linear_ticks(lo, hi, max_ticks);
            (t, l, Vec::new())
        };
        Axis {
            lo,
            hi,
            ticks,
            labels,
            minor,
        }
    }
}

/// Data extent `(min, max)` to a displayed range with a 5 % margin on each
/// side; a constant extent is widened so the range never has zero height.
pub(crate) fn padded_range(min: f64, max: f64) -> (f64, f64) {
    if max > min {
        let pad = (max - min) * 0.05;
        (min - pad, max + pad)
    } else {
        let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
        (min - pad, max + pad)
    }
}

/// A step from {1, 2, 2.5, 5} x 10^k that is at least `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let exp = raw.log10().floor();
    let base = 10f64.powf(exp);
    let m = raw / base;
    let nm = if m <= 1.0 + 1e-9 {
        1.0
    } else if m <= 2.0 + 1e-9 {
        2.0
    } else if m <= 2.5 + 1e-9 {
        2.5
    } else if m <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nm * base
}

/// Decimal places needed to print multiples of `step` exactly.
fn decimals_for(step: f64) -> usize {
    for d in 0..=12usize {
        let scaled = step * 10f64.powi(d as i32);
        if (scaled - scaled.round()).abs() <= 1e-6 * scaled.abs().max(1.0) {
            return d;
        }
    }
    12
}

fn linear_ticks(lo: f64, hi: f64, max_ticks: usize) -> (Vec<f64>, Vec<String>) {
    let span = hi - lo;
    // The finest nice step that gives at most max_ticks ticks (and at least
    // two when possible).
    let mut step = nice_step(span / (4 * max_ticks) as f64);
    let mut ticks = multiples(lo, hi, step);
    for _ in 0..64 {
        if ticks.len() <= max_ticks {
            break;
        }
        step = nice_step(step * 1.0001);
        ticks = multiples(lo, hi, step);
    }
    if ticks.len() < 2 {
        let fine = nice_step(span / 4.0);
        let t = multiples(lo, hi, fine);
        if t.len() >= 2 {
            step = fine;
            ticks = t;
        }
    }
    let labels = format_linear(&ticks, step);
    (ticks, labels)
}

fn multiples(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let eps = step * 1e-9;
    let start = ((lo - eps) / step).ceil() as i64;
    let end = ((hi + eps) / step).floor() as i64;
    if end < start || end - start > 1000 {
        return Vec::new();
    }
    (start..=end)
        .map(|i| {
            let v = i as f64 * step;
            if v.abs() < eps {
                0.0
            } else {
                v
            }
        })
        .collect()
}

fn format_linear(ticks: &[f64], step: f64) -> Vec<String> {
    let max_abs = ticks.iter().fold(0f64, |m, v| m.max(v.abs()));
    if max_abs > 0.0 && (max_abs >= 1e6 || (step < 1e-4 && max_abs < 1e-3)) {
        // Scientific notation with one shared exponent and as many mantissa
        // decimals as the step needs ("1.0e6", "1.5e6", ...).
        let exp = max_abs.log10().floor() as i32;
        let scale = 10f64.powi(exp);
        let d = decimals_for(step / scale).min(6);
        return ticks
            .iter()
            .map(|v| {
                if *v == 0.0 {
                    "0".to_string()
                } else {
                    format!("{:.d$}e{exp}", v / scale)
                }
            })
            .collect();
    }
    let d = decimals_for(step);
    ticks.iter().map(|v| format!("{v:.d$}")).collect()
}

fn short_sci(v: f64, digits: usize) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let s = format!("{v:.digits$e}");
    // "1.50e3" -> "1.5e3"
    match s.split_once('e') {
        Some((m, e)) if m.contains('.') => {
            let m = m.trim_end_matches('0').trim_end_matches('.');
            format!("{m}e{e}")
        }
        _ => s,
    }
}

/// A compact label for a positive value on a log axis.
pub(crate) fn format_general(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    if (1e-4..1e6).contains(&a) {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        short_sci(v, 3)
    }
}

type Ticks = (Vec<f64>, Vec<String>, Vec<f64>);

fn log_ticks(lo: f64, hi: f64, max_ticks: usize) -> Ticks {
    let span = hi - lo;
    let first = lo.floor() as i64;
    let last = hi.ceil() as i64;
    let inside = |t: f64| t >= lo - 1e-9 && t <= hi + 1e-9;
    let label = |ticks: &[f64]| -> Vec<String> {
        ticks
            .iter()
            .map(|t| format_general(10f64.powf(*t)))
            .collect()
    };
    // Decades, thinned to at most max_ticks; the rest become light lines.
    let decades: Vec<i64> = (lo.ceil() as i64..=hi.floor() as i64).collect();
    let every = decades.len().div_ceil(max_ticks).max(1) as i64;
    let decade_ticks: Vec<f64> = decades
        .iter()
        .filter(|k| k.rem_euclid(every) == 0)
        .map(|&k| k as f64)
        .collect();
    let mut decade_minor: Vec<f64> = decades
        .iter()
        .filter(|k| k.rem_euclid(every) != 0)
        .map(|&k| k as f64)
        .collect();
    if span <= 8.0 {
        for k in first..=last {
            for m in 2..=9 {
                let t = k as f64 + f64::from(m).log10();
                if inside(t) {
                    decade_minor.push(t);
                }
            }
        }
    }
    if decade_ticks.len() >= 3 {
        let labels = label(&decade_ticks);
        return (decade_ticks, labels, decade_minor);
    }
    // Few decades: mantissas 1, 2, 5 (or 1..9) per decade read better.
    for mantissas in [&[1, 2, 5][..], &[1, 2, 3, 4, 5, 6, 7, 8, 9][..]] {
        let ticks: Vec<f64> = (first..=last)
            .flat_map(|k| {
                mantissas
                    .iter()
                    .map(move |&m| k as f64 + f64::from(m).log10())
            })
            .filter(|t| inside(*t))
            .collect();
        if ticks.len() >= 3 && ticks.len() <= max_ticks {
            let minor = (first..=last)
                .flat_map(|k| (1..=9).map(move |m| k as f64 + f64::from(m).log10()))
                .filter(|t| inside(*t) && !ticks.iter().any(|u| (u - t).abs() < 1e-9))
                .collect();
            let labels = label(&ticks);
            return (ticks, labels, minor);
        }
    }
    if decade_ticks.len() == 2 {
        let labels = label(&decade_ticks);
        return (decade_ticks, labels, decade_minor);
    }
    // Very narrow: linear ticks in value space, mapped to log space.
    let (vlo, vhi) = (10f64.powf(lo), 10f64.powf(hi));
    let (values, labels) = linear_ticks(vlo, vhi, max_ticks);
    let ticks = values.iter().map(|v| v.log10()).collect();
    (ticks, labels, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_nice_and_consistent() {
        let a = Axis::new(-0.05, 1.05, false, 6);
        assert_eq!(a.labels, vec!["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let a = Axis::new(0.0, 1000.0, false, 6);
        assert_eq!(a.labels, vec!["0", "200", "400", "600", "800", "1000"]);
        let a = Axis::new(0.0, 1.0, false, 5);
        assert_eq!(a.labels, vec!["0.00", "0.25", "0.50", "0.75", "1.00"]);
    }

    #[test]
    fn large_and_tiny_values_use_a_shared_exponent() {
        let a = Axis::new(0.9e6, 2.6e6, false, 4);
        assert_eq!(a.labels, vec!["1.0e6", "1.5e6", "2.0e6", "2.5e6"]);
        let a = Axis::new(0.0, 6.0e6, false, 4);
        assert_eq!(a.labels, vec!["0", "2e6", "4e6", "6e6"]);
        let a = Axis::new(1.1e-4, 1.9e-4, false, 5);
        assert_eq!(a.labels, vec!["1.2e-4", "1.4e-4", "1.6e-4", "1.8e-4"]);
    }

    #[test]
    fn log_ticks_use_decades() {
        let a = Axis::new(-3.0, 1.0, true, 8);
        assert_eq!(a.labels, vec!["0.001", "0.01", "0.1", "1", "10"]);
        assert!(!a.minor.is_empty());
        let a = Axis::new(0.0_f64.ln_1p(), 0.5, true, 8);
        assert!(a.ticks.len() >= 2, "{a:?}");
    }

    #[test]
    fn constant_range_is_widened() {
        let (lo, hi) = padded_range(1.0, 1.0);
        assert!(hi > lo);
        let (lo, hi) = padded_range(0.0, 0.0);
        assert!(hi > lo);
    }
}
