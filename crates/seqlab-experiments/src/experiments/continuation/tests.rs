//! Unit tests of the asker's slips as seqlab models them.

use super::*;
use seqlab_models::next_step::{next_step_lstm, NextStepConfig};
use tch::nn::VarStore;

fn next_view() -> TensorData {
    let (train, _) = continuation::generate_split(10, 2, 7).unwrap();
    to_tensors(&train.next_step(), tch::Device::Cpu).unwrap()
}

#[test]
fn the_posted_batches_teach_the_identity() {
    let next = next_view();
    let slipped = asker_training_data(&next, true).unwrap();
    assert_eq!(slipped.y.size(), [10, 5, 1]);
    // The targets are the inputs of the scored steps, not the next values.
    assert!(slipped.y.equal(&next.x.narrow(1, 4, 5)));
    assert!(!slipped.y.equal(&next.y.narrow(1, 4, 5)));
    let fixed = asker_training_data(&next, false).unwrap();
    assert!(fixed.y.equal(&next.y.narrow(1, 4, 5)));
    // Values 6 to 10: the continuation itself.
    let (train, _) = continuation::generate_split(10, 2, 7).unwrap();
    let cont = Vec::<f32>::try_from(fixed.y.reshape([-1])).unwrap();
    assert_eq!(cont, train.continuation.data());
}

#[test]
fn the_targets_as_written_are_next_values_in_epoch_one_then_the_identity() {
    use TrainingTargets::*;
    let at = |t: TrainingTargets| (0..3).map(|e| t.identity_at(e)).collect::<Vec<_>>();
    assert_eq!(at(Inputs), [true, true, true]);
    assert_eq!(at(NextValues), [false, false, false]);
    assert_eq!(at(NextThenInputs), [false, true, true]);
}

#[test]
fn the_batch_3_fixes_differ_from_the_slipped_runs_in_the_targets_alone() {
    let runs = AskerRun::all(20, 200);
    let get = |name: &str| runs.iter().find(|r| r.name == name).unwrap().clone();
    let pairs = [
        ("as_posted", "targets_fixed_batch_3"),
        ("prediction_fixed", "both_fixed_batch_3"),
    ];
    for (slipped, fixed) in pairs {
        let (a, b) = (get(slipped), get(fixed));
        assert_eq!(
            (a.targets, b.targets),
            (TrainingTargets::Inputs, TrainingTargets::NextValues)
        );
        let same = |r: &AskerRun| {
            (
                r.batch_size,
                r.shuffle,
                r.slipped_prediction,
                r.epochs,
                r.lr,
                r.width,
                r.trainable_state,
            )
        };
        assert_eq!(same(&a), same(&b), "{slipped} / {fixed}");
    }
    let (posted, state) = (get("as_posted"), get("as_posted_trainable_state"));
    assert!(state.trainable_state && !posted.trainable_state);
    assert_eq!((posted.batch_size, posted.shuffle), (3, false));
    let fixed = get("targets_fixed");
    assert_eq!((fixed.batch_size, fixed.shuffle), (16, true));
    assert_eq!(
        get("targets_fixed_as_written").targets,
        TrainingTargets::NextThenInputs
    );
}

#[test]
fn the_posted_prediction_feeds_the_model_nothing_before_the_fifth_seed() {
    let vs = VarStore::new(tch::Device::Cpu);
    let m = next_step_lstm(vs.root(), &NextStepConfig::forum()).unwrap();
    let x = next_view().x;
    // Other values in seeds 1 to 4.
    let other = x.copy();
    let _ = other.narrow(1, 0, 4).fill_(0.9);
    let posted = asker_prediction(&m, &x, true, 5).unwrap();
    assert_eq!(posted.size(), [10, 5]);
    assert!(posted.equal(&asker_prediction(&m, &other, true, 5).unwrap()));
    // Fixed, the first four seeds reach the state and change the continuation.
    let fixed = asker_prediction(&m, &x, false, 5).unwrap();
    assert!(!fixed.equal(&asker_prediction(&m, &other, false, 5).unwrap()));
    assert!(!fixed.equal(&posted));
    // Fed back longer, the first five values are the same.
    let longer = asker_prediction(&m, &x, true, 20).unwrap();
    assert!(longer.narrow(1, 0, 5).equal(&posted));
}

#[test]
fn spread_and_error_of_flat_and_sloped_lines() {
    let flat = [3.0f32; 5];
    assert_eq!(within_spread(&flat), 0.0);
    // 1..5: population sd sqrt(2).
    let sloped = [1.0f32, 2.0, 3.0, 4.0, 5.0];
    assert!((within_spread(&sloped) - 2f64.sqrt()).abs() < 1e-12);
    assert!((mean_squared_error(&flat, &sloped) - 2.0).abs() < 1e-12);
    let (train, _) = continuation::generate_split(10, 2, 7).unwrap();
    let f = fifth_seed_flat(&train);
    assert_eq!(f.len(), 50);
    assert!(f[..5].iter().all(|&v| v == train.seeds.row(0)[4]));
}
