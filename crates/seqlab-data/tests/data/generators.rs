//! Statistical and cross-module tests of the temporal-order, continuation and
//! sine-pair generators. Every seed is fixed, so these tests are deterministic;
//! the tolerances are several standard deviations wide so that a correct
//! generator passes for any seed.

use seqlab_data::temporal_order::{self, Difficulty, FreshBatches};
use seqlab_data::{continuation, sine_pairs, Targets};

/// Summary of one generated temporal-order data set.
struct Observed {
    lengths: Vec<usize>,
    t1: Vec<usize>,
    t2: Vec<usize>,
    classes: [usize; 4],
}

fn observe(d: Difficulty, n: usize, seed: u64) -> Observed {
    let data = temporal_order::generate(n, d, seed).unwrap();
    let padded = d.padded_len();
    assert_eq!(data.inputs().shape(), &[n, padded, 8]);
    let labels = data.class_labels().unwrap();
    let mut obs = Observed {
        lengths: Vec::new(),
        t1: Vec::new(),
        t2: Vec::new(),
        classes: [0; 4],
    };
    for (i, &label) in labels.iter().enumerate() {
        let row = data.inputs().row(i);
        let seq = temporal_order::decode(row).unwrap();
        let chars: Vec<char> = seq.chars().collect();
        let len = chars.len();
        // Pre-padding: the first padded - len rows are all zero, the rest are
        // one-hot, the last row is E.
        let pad = padded - len;
        assert!(pad >= 1, "{d}: no padding row for length {len}");
        assert!(
            row[..pad * 8].iter().all(|&v| v == 0.0),
            "{d}: padding not in front"
        );
        assert_eq!(&row[(padded - 1) * 8..], &[0., 0., 0., 0., 0., 0., 0., 1.]);
        assert_eq!(chars[0], 'B', "{seq}");
        assert_eq!(chars[len - 1], 'E', "{seq}");
        let marks: Vec<usize> = (0..len)
            .filter(|&p| matches!(chars[p], 'X' | 'Y'))
            .collect();
        assert_eq!(marks.len(), 2, "{seq}");
        for (p, &c) in chars.iter().enumerate().take(len - 1).skip(1) {
            if !marks.contains(&p) {
                assert!(('a'..='d').contains(&c), "{d}: {c:?} at {p} in {seq}");
            }
        }
        // The letters at the markers agree with the label.
        let pair = (chars[marks[0]], chars[marks[1]]);
        let expected = match pair {
            ('X', 'X') => 0,
            ('X', 'Y') => 1,
            ('Y', 'X') => 2,
            _ => 3,
        };
        assert_eq!(label, expected, "{seq}");
        assert_eq!(temporal_order::label_of(&seq).unwrap() as i64, label);
        obs.lengths.push(len);
        obs.t1.push(marks[0]);
        obs.t2.push(marks[1]);
        obs.classes[label as usize] += 1;
    }
    obs
}

fn assert_covers(name: &str, d: Difficulty, values: &[usize], (lo, hi): (usize, usize)) {
    let min = *values.iter().min().unwrap();
    let max = *values.iter().max().unwrap();
    assert!(
        min >= lo && max < hi,
        "{d} {name}: [{min}, {max}] outside [{lo}, {hi})"
    );
    assert_eq!(min, lo, "{d} {name}: low end never reached");
    assert_eq!(max, hi - 1, "{d} {name}: high end never reached");
}

#[test]
fn temporal_order_statistics_every_level() {
    let n = 4000;
    for (k, d) in Difficulty::ALL.into_iter().enumerate() {
        let obs = observe(d, n, 100 + k as u64);
        assert_covers("length", d, &obs.lengths, d.length_range());
        assert_covers("t1", d, &obs.t1, d.t1_range());
        assert_covers("t2", d, &obs.t2, d.t2_range());
        // Each class has probability 1/4: 1000 expected, sd about 27.4.
        assert!(
            obs.classes.iter().all(|&c| (880..=1120).contains(&c)),
            "{d}: {:?}",
            obs.classes
        );
        // Lengths are uniform: the mean is near the middle of the range
        // (sd of the mean is below 1 even for Nightmare).
        let (lo, hi) = d.length_range();
        let mean = obs.lengths.iter().sum::<usize>() as f64 / n as f64;
        let mid = (lo + hi - 1) as f64 / 2.0;
        let sd = (((hi - lo) * (hi - lo)) as f64 / 12.0 / n as f64).sqrt();
        assert!(
            (mean - mid).abs() < 5.0 * sd + 0.01,
            "{d}: mean length {mean}, expected {mid}"
        );
    }
}

#[test]
fn distractors_are_uniform() {
    let data = temporal_order::generate(2000, Difficulty::Normal, 5).unwrap();
    let mut counts = [0usize; 4];
    for i in 0..data.len() {
        for c in temporal_order::decode(data.inputs().row(i))
            .unwrap()
            .chars()
        {
            if let Some(k) = "abcd".find(c) {
                counts[k] += 1;
            }
        }
    }
    let total: usize = counts.iter().sum();
    let expected = total as f64 / 4.0;
    let sd = (total as f64 * 0.25 * 0.75).sqrt();
    for c in counts {
        assert!((c as f64 - expected).abs() < 5.0 * sd, "{counts:?}");
    }
}

#[test]
fn temporal_order_is_seeded() {
    let d = Difficulty::Moderate;
    assert_eq!(
        temporal_order::generate(64, d, 9).unwrap(),
        temporal_order::generate(64, d, 9).unwrap()
    );
    assert_ne!(
        temporal_order::generate(64, d, 9).unwrap(),
        temporal_order::generate(64, d, 10).unwrap()
    );
    let (train, test) = temporal_order::generate_split(64, 64, d, 9).unwrap();
    assert_eq!(train, temporal_order::generate(64, d, 9).unwrap());
    assert_ne!(train, test);
    assert_eq!(test.inputs().shape(), &[64, 81, 8]);
    assert!(matches!(test.targets(), Targets::Classes(c) if c.len() == 64));
}

#[test]
fn fresh_batches_are_new_each_call_and_seeded() {
    let d = Difficulty::Easy;
    let mut a = FreshBatches::new(d, temporal_order::COURSE_BATCH_SIZE, 3).unwrap();
    let mut b = FreshBatches::new(d, temporal_order::COURSE_BATCH_SIZE, 3).unwrap();
    let mut c = FreshBatches::new(d, temporal_order::COURSE_BATCH_SIZE, 4).unwrap();
    let first = a.next_batch();
    let second = a.next_batch();
    assert_eq!(first.inputs().shape(), &[32, 9, 8]);
    assert_ne!(first, second);
    assert_eq!(first, b.next_batch());
    assert_eq!(second, b.next_batch());
    assert_ne!(first, c.next_batch());
    let ea = a.epoch(temporal_order::COURSE_BATCHES_PER_EPOCH);
    let eb = b.epoch(temporal_order::COURSE_BATCHES_PER_EPOCH);
    assert_eq!(ea.len(), 31);
    assert_eq!(ea, eb);
    assert_ne!(ea, a.epoch(31));
    // All 31 batches of an epoch differ from one another.
    for i in 0..ea.len() {
        for j in i + 1..ea.len() {
            assert_ne!(ea[i], ea[j], "batches {i} and {j}");
        }
    }
    // The first batch equals generate() with the same seed.
    let mut f = FreshBatches::new(d, 32, 3).unwrap();
    assert_eq!(f.next_batch(), temporal_order::generate(32, d, 3).unwrap());
}

#[test]
fn encode_decode_round_trip_on_samples() {
    let mut rng = seqlab_data::rng::stream(1, 99);
    for d in Difficulty::ALL {
        for _ in 0..50 {
            let (seq, class) = temporal_order::sample_sequence(&mut rng, d);
            let x = temporal_order::encode(&seq, d.padded_len()).unwrap();
            assert_eq!(x.len(), d.padded_len() * 8);
            assert_eq!(temporal_order::decode(&x).unwrap(), seq);
            assert_eq!(temporal_order::label_of(&seq).unwrap(), class);
            // Encoding into a longer padding adds zero rows in front only.
            let y = temporal_order::encode(&seq, d.padded_len() + 3).unwrap();
            assert_eq!(&y[3 * 8..], &x[..]);
            assert!(y[..3 * 8].iter().all(|&v| v == 0.0));
            assert!(temporal_order::encode(&seq, seq.len() - 1).is_err());
        }
    }
}

#[test]
fn continuation_values_ranges_and_baseline() {
    let (train, val) = continuation::generate_split(4000, 2000, 21).unwrap();
    assert_eq!(train.len(), 4000);
    assert_eq!(val.len(), 2000);
    assert_eq!(train.seeds.shape(), &[4000, 5]);
    assert_eq!(val.full.shape(), &[2000, 10]);
    assert_ne!(train.seeds.row(0), val.seeds.row(0));
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for i in 0..train.len() {
        let s = train.seeds.row(i);
        for &v in s {
            assert!((-1.0..=1.0).contains(&v), "seed {v}");
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let c = continuation::continue_from(s.try_into().unwrap());
        assert_eq!(&c[..], train.continuation.row(i));
        // Each step is the previous value plus half the fourth seed, and the
        // continuation stays within |s4| + 2.5 |s3| <= 3.5.
        let full = train.full.row(i);
        for t in 5..10 {
            assert!((full[t] - full[t - 1] - 0.5 * s[3]).abs() < 1e-5);
            assert!(full[t].abs() <= 3.5 + 1e-5);
        }
        let (inp, tgt) = (train.next_inputs.row(i), train.next_targets.row(i));
        for t in 0..8 {
            assert_eq!(tgt[t], inp[t + 1]);
        }
    }
    // Seeds cover the whole interval.
    assert!(lo < -0.99 && hi > 0.99, "[{lo}, {hi}]");
    // Mean of seeds near 0 (sd of the mean over 20,000 values about 0.004).
    let mean = train
        .seeds
        .data()
        .iter()
        .map(|&v| f64::from(v))
        .sum::<f64>()
        / 20000.0;
    assert!(mean.abs() < 0.03, "{mean}");
    // Predicting each step's mean: expected MSE 1/3 + (0.25/3) * 11 = 1.25.
    let mse = continuation::mean_baseline_mse(&train, &val);
    assert!((1.1..1.4).contains(&mse), "{mse}");
    // Seeded.
    assert_eq!(
        continuation::generate(30, 1).unwrap(),
        continuation::generate(30, 1).unwrap()
    );
    assert_ne!(
        continuation::generate(30, 1).unwrap(),
        continuation::generate(30, 2).unwrap()
    );
    assert_eq!(
        continuation::generate(30, 21).unwrap().full.row(0),
        train.full.row(0)
    );
}

#[test]
fn continuation_defaults() {
    let (train, val) =
        continuation::generate_split(continuation::DEFAULT_TRAIN, continuation::DEFAULT_VAL, 0)
            .unwrap();
    assert_eq!((train.len(), val.len()), (1000, 100));
    assert_eq!(val.next_step().inputs().shape(), &[100, 9, 1]);
    assert!(continuation::mean_baseline_mse(&train, &val) > 0.5);
}

#[test]
fn sine_windows_match_the_post() {
    use sine_pairs::{FunctionPair, WindowConfig};
    let w = sine_pairs::windows(&WindowConfig::new(FunctionPair::SinCos)).unwrap();
    assert_eq!(w.len(), 76);
    assert!(!w.is_empty());
    assert_eq!(w.x.len(), 100);
    assert_eq!(w.x[0], -2.0 * std::f64::consts::PI);
    assert_eq!(w.x[99], 2.0 * std::f64::consts::PI);
    assert_eq!(w.starts, (0..76).collect::<Vec<_>>());
    for a in [&w.encoder_input, &w.decoder_input, &w.decoder_target] {
        assert_eq!(a.shape(), &[76, 24, 1]);
    }
    // sin(-2 pi) = 0, cos(-2 pi) = 1.
    assert!(w.encoder_input.row(0)[0].abs() < 1e-6);
    assert!((w.decoder_target.row(0)[0] - 1.0).abs() < 1e-6);
    let step = 4.0 * std::f64::consts::PI / 99.0;
    for i in [0, 1, 40, 75] {
        let (enc, din, dt) = (
            w.encoder_input.row(i),
            w.decoder_input.row(i),
            w.decoder_target.row(i),
        );
        assert_eq!(din[0], 0.0);
        for t in 1..24 {
            assert_eq!(din[t], dt[t - 1]);
        }
        for t in 0..24 {
            let x = -2.0 * std::f64::consts::PI + step * (i + t) as f64;
            assert!(
                (f64::from(enc[t]) - x.sin()).abs() < 1e-6,
                "window {i} step {t}"
            );
            assert!(
                (f64::from(dt[t]) - x.cos()).abs() < 1e-6,
                "window {i} step {t}"
            );
        }
    }
    // Successive windows slide by one grid point.
    assert_eq!(&w.encoder_input.row(1)[..23], &w.encoder_input.row(0)[1..]);
    // The last window ends one point before the grid's end, as in the post.
    let last = w.decoder_target.row(75)[23];
    assert!((f64::from(last) - w.x[98].cos()).abs() < 1e-6);
}

#[test]
fn every_pair_spans_its_domain() {
    use sine_pairs::{FunctionPair, WindowConfig};
    for p in FunctionPair::ALL {
        let w = sine_pairs::windows(&WindowConfig::new(p)).unwrap();
        let (lo, hi) = p.domain();
        assert_eq!((w.x[0], *w.x.last().unwrap()), (lo, hi), "{p}");
        assert!(w.x.windows(2).all(|s| s[1] > s[0]), "{p}");
        let values = [&w.encoder_input, &w.decoder_input, &w.decoder_target];
        assert!(
            values
                .iter()
                .all(|a| a.data().iter().all(|v| v.is_finite())),
            "{p}"
        );
        assert_eq!(w.teacher_forcing().inputs().shape(), &[76, 24, 2]);
    }
    assert_eq!(FunctionPair::Power.domain().0, 0.0);
    let w = sine_pairs::windows(&WindowConfig::new(FunctionPair::Power)).unwrap();
    assert!(w.encoder_input.data().iter().all(|&v| v >= 0.0));
    assert!(w.decoder_target.data().iter().all(|&v| v >= 0.0));
    // x^2 -> x^0.5: target = input^0.25.
    for (&a, &b) in w.encoder_input.data().iter().zip(w.decoder_target.data()) {
        assert!((a.powf(0.25) - b).abs() < 1e-5);
    }
    let d = sine_pairs::windows(&WindowConfig::new(FunctionPair::Damped)).unwrap();
    assert!(d.encoder_input.data().iter().all(|v| v.abs() <= 1.0));
    assert_eq!(
        sine_pairs::WindowConfig::default().pair,
        FunctionPair::SinCos
    );
}

#[test]
fn sine_window_errors() {
    use sine_pairs::{FunctionPair, WindowConfig};
    for (points, window) in [(100, 0), (24, 24), (10, 24), (0, 0)] {
        let c = WindowConfig {
            pair: FunctionPair::SinCos,
            points,
            window,
        };
        assert!(sine_pairs::windows(&c).is_err(), "{points}/{window}");
    }
}
