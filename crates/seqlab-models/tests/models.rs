//! Integration tests for seqlab-models: layers checked against known numbers
//! (a hand calculation and an independent step-by-step reference written
//! here), not only shapes.

use seqlab_models::autoencoder::{autoencoder, AutoencoderConfig, DecoderConfig, EncoderConfig};
use seqlab_models::classifier::{seq_classifier, LayerSpec, SeqClassifierConfig};
use seqlab_models::feedforward::{feed_forward, FeedForwardConfig};
use seqlab_models::next_step::{next_step_lstm, NextStepConfig};
use seqlab_models::recurrent::{
    recurrent, RecurrentConfig, RecurrentInit, RecurrentKind, RecurrentState,
};
use seqlab_models::sentiment::{sentiment_classifier, SentimentConfig};
use seqlab_models::seq2seq::{encoder_decoder, EncoderDecoderConfig, FreeRunning, TeacherForced};
use seqlab_models::{Model, ModelError};
use tch::nn::ModuleT;
use tch::{nn, Device, Kind, Tensor};

fn to_vec(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

/// Sets every weight of `vs` to a fixed pattern so the test does not depend on the initialiser.
fn fix_weights(vs: &nn::VarStore) {
    let mut names: Vec<_> = vs.variables().into_iter().collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    tch::no_grad(|| {
        for (k, (_, t)) in names.iter().enumerate() {
            let n = t.numel() as i64;
            let vals = Tensor::arange(n, (Kind::Float, Device::Cpu))
                .f_add_scalar(k as f64 * 7.0)
                .unwrap();
            let mut t = t.shallow_clone();
            t.copy_(&((vals * 0.37).sin().reshape(t.size()) * 0.5));
        }
    });
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `W x` for a row-major `[rows, cols]` matrix.
fn matvec(w: &[f64], x: &[f64], rows: usize) -> Vec<f64> {
    let cols = x.len();
    (0..rows)
        .map(|r| (0..cols).map(|c| w[r * cols + c] * x[c]).sum())
        .collect()
}

/// One direction of one layer, written out step by step from the equations.
fn reference_layer(
    kind: RecurrentKind,
    p: &[Vec<f64>],
    xs: &[Vec<f64>],
    hidden: usize,
) -> Vec<Vec<f64>> {
    let (w_ih, w_hh, b_ih, b_hh) = (&p[0], &p[1], &p[2], &p[3]);
    let g = kind.gates() as usize * hidden;
    let mut h = vec![0.0; hidden];
    let mut c = vec![0.0; hidden];
    let mut outs = Vec::new();
    for x in xs {
        let gi: Vec<f64> = matvec(w_ih, x, g)
            .iter()
            .zip(b_ih)
            .map(|(a, b)| a + b)
            .collect();
        let gh: Vec<f64> = matvec(w_hh, &h, g)
            .iter()
            .zip(b_hh)
            .map(|(a, b)| a + b)
            .collect();
        h = match kind {
            RecurrentKind::RnnRelu => (0..hidden).map(|j| (gi[j] + gh[j]).max(0.0)).collect(),
            RecurrentKind::RnnTanh => (0..hidden).map(|j| (gi[j] + gh[j]).tanh()).collect(),
            RecurrentKind::Lstm => {
                let s = |k: usize, j: usize| gi[k * hidden + j] + gh[k * hidden + j];
                let mut nh = vec![0.0; hidden];
                for j in 0..hidden {
                    let (i, f, gg, o) = (
                        sigmoid(s(0, j)),
                        sigmoid(s(1, j)),
                        s(2, j).tanh(),
                        sigmoid(s(3, j)),
                    );
                    c[j] = f * c[j] + i * gg;
                    nh[j] = o * c[j].tanh();
                }
                nh
            }
            RecurrentKind::Gru => (0..hidden)
                .map(|j| {
                    let r = sigmoid(gi[j] + gh[j]);
                    let z = sigmoid(gi[hidden + j] + gh[hidden + j]);
                    let n = (gi[2 * hidden + j] + r * gh[2 * hidden + j]).tanh();
                    (1.0 - z) * n + z * h[j]
                })
                .collect(),
        };
        outs.push(h.clone());
    }
    outs
}

fn input(batch: i64, steps: i64, features: i64) -> Tensor {
    let n = batch * steps * features;
    (Tensor::arange(n, (Kind::Float, Device::Cpu)) * 0.61)
        .cos()
        .reshape([batch, steps, features])
}

fn sequences(xs: &Tensor) -> Vec<Vec<Vec<f64>>> {
    let s = xs.size();
    let flat = to_vec(xs);
    (0..s[0] as usize)
        .map(|b| {
            (0..s[1] as usize)
                .map(|t| {
                    let start = (b * s[1] as usize + t) * s[2] as usize;
                    flat[start..start + s[2] as usize].to_vec()
                })
                .collect()
        })
        .collect()
}

fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() < 1e-5, "{what}: element {i}: {x} vs {y}");
    }
}

#[test]
fn relu_rnn_matches_hand_calculation() {
    // One unit, one feature: h_t = relu(0.5 x_t + 0.5 h_{t-1} + 0.1 + 0.0).
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = recurrent(
        vs.root(),
        &RecurrentConfig::new(RecurrentKind::RnnRelu, 1, 1),
    )
    .unwrap();
    tch::no_grad(|| {
        for (t, v) in layer.weights().iter().zip([0.5, 0.5, 0.1, 0.0]) {
            t.shallow_clone()
                .copy_(&Tensor::from_slice(&[v as f32]).reshape(t.size()));
        }
    });
    let xs = Tensor::from_slice(&[1.0f32, 2.0, 3.0, -9.0]).reshape([1, 4, 1]);
    let (out, state) = layer.forward(&xs, None, false);
    // 0.6; 1.0 + 0.3 + 0.1 = 1.4; 1.5 + 0.7 + 0.1 = 2.3; -4.5 + 1.15 + 0.1 < 0 -> 0.
    assert_close(&to_vec(&out), &[0.6, 1.4, 2.3, 0.0], "relu rnn outputs");
    assert_close(&to_vec(state.h()), &[0.0], "relu rnn final state");
}

#[test]
fn every_kind_matches_the_reference_equations() {
    for kind in [
        RecurrentKind::RnnRelu,
        RecurrentKind::RnnTanh,
        RecurrentKind::Lstm,
        RecurrentKind::Gru,
    ] {
        let (hidden, features) = (3usize, 2i64);
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = recurrent(
            vs.root() / "l",
            &RecurrentConfig::new(kind, features, hidden as i64),
        )
        .unwrap();
        fix_weights(&vs);
        let xs = input(2, 5, features);
        let (out, state) = layer.forward(&xs, None, false);
        assert_eq!(out.size(), [2, 5, 3]);
        let p: Vec<Vec<f64>> = layer.weights().iter().map(to_vec).collect();
        let mut expected = Vec::new();
        let mut last = Vec::new();
        for seq in sequences(&xs) {
            let outs = reference_layer(kind, &p, &seq, hidden);
            last.extend(outs.last().unwrap().clone());
            expected.extend(outs.concat());
        }
        assert_close(&to_vec(&out), &expected, kind.name());
        assert_close(&to_vec(state.h()), &last, kind.name());
        assert_eq!(state.c().is_some(), kind == RecurrentKind::Lstm);
    }
}

#[test]
fn bidirectional_lstm_concatenates_forward_and_backward_final_states() {
    let hidden = 2usize;
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = RecurrentConfig {
        bidirectional: true,
        ..RecurrentConfig::new(RecurrentKind::Lstm, 3, hidden as i64)
    };
    let layer = recurrent(vs.root() / "bi", &cfg).unwrap();
    fix_weights(&vs);
    let xs = input(1, 4, 3);
    let (out, state) = layer.forward(&xs, None, false);
    assert_eq!(out.size(), [1, 4, 4]);
    let p: Vec<Vec<f64>> = layer.weights().iter().map(to_vec).collect();
    let seq = &sequences(&xs)[0];
    let fwd = reference_layer(RecurrentKind::Lstm, &p[0..4], seq, hidden);
    let rev_in: Vec<Vec<f64>> = seq.iter().rev().cloned().collect();
    let bwd = reference_layer(RecurrentKind::Lstm, &p[4..8], &rev_in, hidden);
    // The backward state after reading the whole sequence (from the end back to step 0).
    let expected_last: Vec<f64> = fwd
        .last()
        .unwrap()
        .iter()
        .chain(bwd.last().unwrap())
        .copied()
        .collect();
    assert_close(
        &to_vec(&layer.last_hidden(&state)),
        &expected_last,
        "bi last hidden",
    );
    // Output at step 0 holds the forward state at 0 and the backward state at 0 (its last step).
    let out0: Vec<f64> = to_vec(&out.get(0).get(0));
    let expected0: Vec<f64> = fwd[0].iter().chain(bwd.last().unwrap()).copied().collect();
    assert_close(&out0, &expected0, "bi output step 0");
}

#[test]
fn final_state_and_repeated_input_give_what_forward_gives() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = RecurrentConfig {
        bidirectional: true,
        num_layers: 2,
        ..RecurrentConfig::new(RecurrentKind::Lstm, 3, 4)
    };
    let layer = recurrent(vs.root() / "bi", &cfg).unwrap();
    let xs = input(2, 5, 3);
    let (out, state) = layer.forward(&xs, None, false);
    let alone = layer.final_state(&xs, None, false);
    assert!(
        alone.h().equal(state.h()),
        "final_state's h differs from forward's"
    );
    assert!(alone.c().unwrap().equal(state.c().unwrap()));
    // A vector fed at every step, as a RepeatVector does: the same as its expansion.
    let z = input(2, 1, 3).squeeze_dim(1);
    let (rep_out, rep_state) = layer.forward_repeated(&z, 5, None, false);
    let (exp_out, exp_state) = layer.forward(&z.unsqueeze(1).expand([2, 5, 3], false), None, false);
    assert_eq!(rep_out.size(), [2, 5, 8]);
    assert!(rep_out.equal(&exp_out) && rep_state.h().equal(exp_state.h()));
    assert!(
        !rep_out.equal(&out.narrow(0, 0, 2)),
        "a repeated input is not the sequence"
    );
}

#[test]
fn initial_state_is_used() {
    let vs = nn::VarStore::new(Device::Cpu);
    let layer = recurrent(vs.root(), &RecurrentConfig::new(RecurrentKind::Gru, 2, 3)).unwrap();
    let xs = input(2, 3, 2);
    let zero = layer.forward(&xs, None, false).0;
    let h0 = RecurrentState::H(Tensor::ones([1, 2, 3], (Kind::Float, Device::Cpu)));
    let from_ones = layer.forward(&xs, Some(&h0), false).0;
    assert!(f64::try_from((zero - from_ones).abs().max()).unwrap() > 1e-3);
}

#[test]
fn classifier_shapes_and_parameter_counts() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = SeqClassifierConfig::stacked(5, RecurrentKind::RnnRelu, &[128, 128], 4);
    let net = seq_classifier(vs.root() / "seq2one", &cfg).unwrap();
    let y = net.forward_t(&input(7, 12, 5), true);
    assert_eq!(y.size(), [7, 4]);
    let s = net.summary(&[12, 5]);
    // 128 (5 + 128 + 2) = 17,280; 128 (128 + 128 + 2) = 33,024; 128 * 4 + 4 = 516.
    assert_eq!(
        s.rows.iter().map(|r| r.params).collect::<Vec<_>>(),
        vec![17_280, 33_024, 516]
    );
    assert_eq!(
        s.rows.iter().map(|r| r.keras_params).collect::<Vec<_>>(),
        vec![17_152, 32_896, 516]
    );
    assert_eq!(
        s.total_params(),
        vs.variables()
            .values()
            .map(|t| t.numel() as i64)
            .sum::<i64>()
    );
    assert_eq!(s.rows[0].output_shape, "(None, 12, 128)");
    assert_eq!(s.rows[1].output_shape, "(None, 128)");
    let text = s.to_string();
    assert!(
        text.contains("rnn1 (RNN(relu))") && text.contains("Total params: 50,820"),
        "{text}"
    );

    // The book's IMDb LSTM(32) over a 64-d embedding: Keras counts 12,416.
    let vs = nn::VarStore::new(Device::Cpu);
    let lstm = recurrent(
        vs.root(),
        &RecurrentConfig::new(RecurrentKind::Lstm, 64, 32),
    )
    .unwrap();
    assert_eq!((lstm.num_params(), lstm.keras_params()), (12_544, 12_416));
}

#[test]
fn bidirectional_classifier_reads_both_directions() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = SeqClassifierConfig {
        input_size: 3,
        layers: vec![LayerSpec {
            kind: RecurrentKind::Gru,
            hidden_size: 4,
            bidirectional: true,
        }],
        num_classes: 2,
        init: RecurrentInit::PyTorch,
    };
    let net = seq_classifier(vs.root(), &cfg).unwrap();
    assert_eq!(net.forward_t(&input(5, 6, 3), false).size(), [5, 2]);
    assert_eq!(net.summary(&[6, 3]).rows[1].params, 8 * 2 + 2);
}

#[test]
fn keras_init_sets_forget_bias_and_zero_biases() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = RecurrentConfig {
        init: RecurrentInit::Keras,
        ..RecurrentConfig::new(RecurrentKind::Lstm, 3, 2)
    };
    let layer = recurrent(vs.root(), &cfg).unwrap();
    assert_eq!(
        to_vec(&layer.weights()[2]),
        vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    );
    assert_eq!(to_vec(&layer.weights()[3]), vec![0.0; 8]);
}

#[test]
fn long_memory_init_sets_only_the_lstm_forget_bias() {
    let vs = nn::VarStore::new(Device::Cpu);
    let init = RecurrentInit::LongMemory { forget_bias: 3.0 };
    let cfg = RecurrentConfig {
        init,
        ..RecurrentConfig::new(RecurrentKind::Lstm, 3, 2)
    };
    let layer = recurrent(vs.root() / "lstm", &cfg).unwrap();
    let (b_ih, b_hh) = (to_vec(&layer.weights()[2]), to_vec(&layer.weights()[3]));
    // Gate order i f g o: the forget block is elements 2..4.
    assert_eq!(&b_ih[2..4], &[3.0, 3.0]);
    assert_eq!(&b_hh[2..4], &[0.0, 0.0]);
    let bound = 1.0 / 2f64.sqrt();
    assert!(
        b_ih[..2].iter().chain(&b_ih[4..]).all(|v| v.abs() <= bound),
        "{b_ih:?}"
    );
    // A GRU ignores it: all biases stay inside PyTorch's bound.
    let gru = recurrent(
        vs.root() / "gru",
        &RecurrentConfig {
            init,
            ..RecurrentConfig::new(RecurrentKind::Gru, 3, 2)
        },
    )
    .unwrap();
    assert!(to_vec(&gru.weights()[2]).iter().all(|v| v.abs() <= bound));
}

#[test]
fn feed_forward_matches_manual_mlp() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = FeedForwardConfig {
        input_size: 6,
        hidden: vec![4],
        output_size: 2,
    };
    let net = feed_forward(vs.root() / "ff", &cfg).unwrap();
    fix_weights(&vs);
    let xs = input(1, 3, 2); // flattened to 6 features
    let y = to_vec(&net.forward_t(&xs, false));
    let v = vs.variables();
    let g = |n: &str| to_vec(&v[n]);
    let x = to_vec(&xs);
    let h: Vec<f64> = matvec(&g("ff.dense1.weight"), &x, 4)
        .iter()
        .zip(g("ff.dense1.bias"))
        .map(|(a, b)| (a + b).max(0.0))
        .collect();
    let out: Vec<f64> = matvec(&g("ff.dense2.weight"), &h, 2)
        .iter()
        .zip(g("ff.dense2.bias"))
        .map(|(a, b)| a + b)
        .collect();
    assert_close(&y, &out, "mlp");
    assert_eq!(net.summary(&[3, 2]).total_params(), 6 * 4 + 4 + 4 * 2 + 2);
}

#[test]
fn invalid_configs_are_errors_not_panics() {
    let vs = nn::VarStore::new(Device::Cpu);
    let err = recurrent(vs.root(), &RecurrentConfig::new(RecurrentKind::Lstm, 3, 0)).unwrap_err();
    assert!(
        matches!(err, ModelError::InvalidConfig(ref m) if m.contains("hidden size")),
        "{err}"
    );
    let cfg = RecurrentConfig {
        dropout: 1.5,
        ..RecurrentConfig::new(RecurrentKind::Gru, 3, 2)
    };
    assert!(recurrent(vs.root() / "d", &cfg).is_err());
    let empty = SeqClassifierConfig::stacked(3, RecurrentKind::Lstm, &[], 2);
    assert!(seq_classifier(vs.root() / "c", &empty).is_err());
    let ff = FeedForwardConfig {
        input_size: 0,
        hidden: vec![],
        output_size: 2,
    };
    assert!(feed_forward(vs.root() / "f", &ff)
        .unwrap_err()
        .to_string()
        .contains("at least 1"));
}

#[test]
fn sentiment_classifier_matches_a_hand_computed_forward_pass() {
    for kind in [RecurrentKind::RnnTanh, RecurrentKind::Lstm] {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = SentimentConfig {
            vocab_size: 6,
            embedding_dim: 3,
            hidden_size: 2,
            ..SentimentConfig::book(kind)
        };
        let net = sentiment_classifier(vs.root() / "m", &cfg).unwrap();
        fix_weights(&vs);
        let vars = vs.variables();
        let g = |name: &str| to_vec(&vars[name]);
        // Moving statistics must be a valid variance: set them by hand.
        tch::no_grad(|| {
            vars["m.batch_norm.running_mean"]
                .shallow_clone()
                .copy_(&Tensor::from_slice(&[0.1f32, -0.2]));
            vars["m.batch_norm.running_var"]
                .shallow_clone()
                .copy_(&Tensor::from_slice(&[2.0f32, 0.5]));
        });
        let ids = Tensor::from_slice(&[0i64, 3, 5, 1, 2, 2, 4, 0]).reshape([2, 4]);
        let out = net.forward_t(&ids, false);
        assert_eq!(out.size(), [2, 1]);
        // Evaluation is deterministic: dropout is off.
        assert_eq!(to_vec(&out), to_vec(&net.forward_t(&ids, false)));

        let table = g("m.embedding.weight");
        let p: Vec<Vec<f64>> = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
            .iter()
            .map(|n| g(&format!("m.rnn.{n}")))
            .collect();
        let (gamma, beta) = (g("m.batch_norm.weight"), g("m.batch_norm.bias"));
        let (mean, var): ([f64; 2], [f64; 2]) = ([0.1, -0.2], [2.0, 0.5]);
        let (w, b) = (g("m.dense.weight"), g("m.dense.bias"));
        let id_rows: Vec<i64> = Vec::<i64>::try_from(ids.flatten(0, -1)).unwrap();
        let mut want = Vec::new();
        for row in id_rows.chunks(4) {
            let xs: Vec<Vec<f64>> = row
                .iter()
                .map(|&i| table[i as usize * 3..i as usize * 3 + 3].to_vec())
                .collect();
            let h = reference_layer(kind, &p, &xs, 2).pop().unwrap();
            let z: Vec<f64> = (0..2)
                .map(|j| (h[j] - mean[j]) / (var[j] + 1e-3).sqrt() * gamma[j] + beta[j])
                .collect();
            want.push(w[0] * z[0] + w[1] * z[1] + b[0]);
        }
        assert_close(&to_vec(&out), &want, kind.name());
        let probs = to_vec(&net.probabilities(&ids));
        let want_p: Vec<f64> = want.iter().map(|&l| sigmoid(l)).collect();
        assert_close(&probs, &want_p, "probabilities");
        // Training mode drops units: outputs change between calls.
        let a = to_vec(&net.forward_t(&ids, true));
        let b2 = to_vec(&net.forward_t(&ids, true));
        assert_ne!(a, b2, "dropout is not active in training mode");
    }
}

#[test]
fn sentiment_summaries_reconcile_with_the_books_keras_counts() {
    // The book's Keras summaries: SimpleRNN model 643,265 (640,000 + 3,104 + 128 + 33),
    // LSTM model 652,577 (12,416 LSTM), counted the Keras way.
    for (kind, keras_rnn, keras_total, torch_total) in [
        (RecurrentKind::RnnTanh, 3_104, 643_265, 643_297),
        (RecurrentKind::Lstm, 12_416, 652_577, 652_705),
    ] {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = sentiment_classifier(vs.root() / "m", &SentimentConfig::book(kind)).unwrap();
        let s = net.summary(&[128]);
        assert_eq!(s.total_keras_params(), keras_total, "{}", s);
        assert_eq!(s.total_params(), torch_total, "{}", s);
        assert_eq!(s.rows[2].keras_params, keras_rnn);
        assert_eq!(s.rows[3].params, 128);
        assert_eq!(
            s.total_params() - s.trainable_params(),
            64,
            "moving mean and variance"
        );
        // The store holds exactly what the summary counts.
        let stored: i64 = vs.variables().values().map(|t| t.numel() as i64).sum();
        assert_eq!(stored, torch_total);
        let text = s.to_string();
        assert!(text.contains("Keras would count"), "{text}");
        assert_eq!(s.rows[0].output_shape, "(None, 128, 64)");
    }
    let vs = nn::VarStore::new(Device::Cpu);
    let bad = SentimentConfig {
        head_dropout: 1.0,
        ..SentimentConfig::book(RecurrentKind::Lstm)
    };
    assert!(sentiment_classifier(vs.root(), &bad)
        .unwrap_err()
        .to_string()
        .contains("head dropout"));
}

/// Sets a batch-norm layer's moving statistics (fix_weights would make the variance negative).
fn set_bn_stats(vs: &nn::VarStore, prefix: &str, mean: &[f32], var: &[f32]) {
    let vars = vs.variables();
    tch::no_grad(|| {
        vars[&format!("{prefix}.running_mean")]
            .shallow_clone()
            .copy_(&Tensor::from_slice(mean));
        vars[&format!("{prefix}.running_var")]
            .shallow_clone()
            .copy_(&Tensor::from_slice(var));
    });
}

#[test]
fn lstm_autoencoder_matches_a_hand_computed_forward_pass() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = AutoencoderConfig {
        encoder: EncoderConfig {
            features: 3,
            hidden: 2,
            bidirectional: false,
            input_dropout: 0.1,
            latent_dropout: 0.1,
            latent: 2,
        },
        decoder: DecoderConfig {
            latent: 2,
            steps: 4,
            hidden: 2,
            bidirectional: false,
            input_dropout: 0.0,
            features: 3,
        },
    };
    let ae = autoencoder(vs.root() / "ae", &cfg).unwrap();
    fix_weights(&vs);
    set_bn_stats(&vs, "ae.encoder.batch_norm", &[0.1, -0.1], &[1.5, 0.7]);
    set_bn_stats(&vs, "ae.decoder.batch_norm", &[-0.2, 0.3], &[0.9, 2.0]);
    let vars = vs.variables();
    let g = |name: &str| to_vec(&vars[name]);
    let lstm = |m: &str| -> Vec<Vec<f64>> {
        ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
            .iter()
            .map(|n| g(&format!("ae.{m}.lstm.{n}")))
            .collect()
    };
    let bn = |m: &str, h: &[f64], mean: [f64; 2], var: [f64; 2]| -> Vec<f64> {
        let (gamma, beta) = (
            g(&format!("ae.{m}.batch_norm.weight")),
            g(&format!("ae.{m}.batch_norm.bias")),
        );
        (0..2)
            .map(|j| (h[j] - mean[j]) / (var[j] + 1e-3).sqrt() * gamma[j] + beta[j])
            .collect()
    };
    let xs = input(2, 5, 3);
    let out = ae.forward_t(&xs, false);
    assert_eq!(out.size(), [2, 4, 3]);
    let z_model = ae.encoder.encode(&xs);
    assert_eq!(z_model.size(), [2, 2]);
    let mut want = Vec::new();
    let mut want_z = Vec::new();
    for seq in sequences(&xs) {
        let h = reference_layer(RecurrentKind::Lstm, &lstm("encoder"), &seq, 2)
            .pop()
            .unwrap();
        let h = bn("encoder", &h, [0.1, -0.1], [1.5, 0.7]);
        let z: Vec<f64> = matvec(&g("ae.encoder.dense.weight"), &h, 2)
            .iter()
            .zip(g("ae.encoder.dense.bias"))
            .map(|(a, b)| sigmoid(a + b))
            .collect();
        want_z.extend(z.clone());
        // RepeatVector: the same latent vector at each of the 4 steps.
        let outs = reference_layer(RecurrentKind::Lstm, &lstm("decoder"), &vec![z; 4], 2);
        for o in outs {
            let o = bn("decoder", &o, [-0.2, 0.3], [0.9, 2.0]);
            want.extend(
                matvec(&g("ae.decoder.dense.weight"), &o, 3)
                    .iter()
                    .zip(g("ae.decoder.dense.bias"))
                    .map(|(a, b)| a + b),
            );
        }
    }
    assert_close(&to_vec(&z_model), &want_z, "latent");
    assert_close(&to_vec(&out), &want, "reconstruction logits");
    let rec = to_vec(&ae.reconstruct(&xs));
    let want_p: Vec<f64> = want.iter().map(|&l| sigmoid(l)).collect();
    assert_close(&rec, &want_p, "reconstruction");
    // The decoder alone, fed the encoder's latent vectors, gives the same images.
    assert_close(
        &to_vec(&ae.decoder.decode(&z_model)),
        &want_p,
        "decoder alone",
    );
}

#[test]
fn autoencoder_summaries_reconcile_with_the_books_keras_counts() {
    for (cfg, keras_total, keras_encoder, trainable) in [
        (AutoencoderConfig::lstm_book(), 10_950, 6_554, 10_838),
        (
            AutoencoderConfig::bilstm_book(),
            49_408,
            18_692,
            49_408 - 2 * (56 + 56),
        ),
    ] {
        let vs = nn::VarStore::new(Device::Cpu);
        let ae = autoencoder(vs.root() / "ae", &cfg).unwrap();
        let s = ae.summary(&[28, 28]);
        assert_eq!(s.total_keras_params(), keras_total, "{s}");
        let enc = ae.encoder.summary(&[28, 28]);
        assert_eq!(enc.total_keras_params(), keras_encoder, "{enc}");
        assert_eq!(
            ae.decoder.summary(&[]).total_keras_params(),
            keras_total - keras_encoder
        );
        // Keras' trainable count: all but the moving statistics (its LSTMs have one bias).
        let non_trainable = s.total_params() - s.trainable_params();
        assert_eq!(keras_total - non_trainable, trainable);
        let stored: i64 = vs.variables().values().map(|t| t.numel() as i64).sum();
        assert_eq!(stored, s.total_params());
        let xs = Tensor::rand([3, 28, 28], (Kind::Float, Device::Cpu));
        assert_eq!(ae.forward_t(&xs, true).size(), [3, 28, 28]);
        assert_eq!(ae.encoder.encode(&xs).size(), [3, cfg.encoder.latent]);
    }
    let vs = nn::VarStore::new(Device::Cpu);
    let mut bad = AutoencoderConfig::lstm_book();
    bad.decoder.latent = 3;
    assert!(autoencoder(vs.root(), &bad)
        .unwrap_err()
        .to_string()
        .contains("latent"));
}

/// One LSTM layer from the equations, from state `(h, c)`: the outputs and the final `(h, c)`.
fn reference_lstm(
    p: &[Vec<f64>],
    xs: &[Vec<f64>],
    mut h: Vec<f64>,
    mut c: Vec<f64>,
) -> (Vec<Vec<f64>>, Vec<f64>, Vec<f64>) {
    let hidden = h.len();
    let mut outs = Vec::new();
    for x in xs {
        let gi = matvec(&p[0], x, 4 * hidden);
        let gh = matvec(&p[1], &h, 4 * hidden);
        let s = |k: usize, j: usize| {
            gi[k * hidden + j] + p[2][k * hidden + j] + gh[k * hidden + j] + p[3][k * hidden + j]
        };
        let mut nh = vec![0.0; hidden];
        for j in 0..hidden {
            let (i, f, g, o) = (
                sigmoid(s(0, j)),
                sigmoid(s(1, j)),
                s(2, j).tanh(),
                sigmoid(s(3, j)),
            );
            c[j] = f * c[j] + i * g;
            nh[j] = o * c[j].tanh();
        }
        h = nh;
        outs.push(h.clone());
    }
    (outs, h, c)
}

#[test]
fn encoder_decoder_feeds_back_its_own_predictions_step_by_step() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = EncoderDecoderConfig {
        hidden: 3,
        ..EncoderDecoderConfig::post()
    };
    let model = encoder_decoder(vs.root() / "s2s", &cfg).unwrap();
    fix_weights(&vs);
    let vars = vs.variables();
    let g = |name: &str| to_vec(&vars[name]);
    let lstm = |m: &str| -> Vec<Vec<f64>> {
        ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
            .iter()
            .map(|n| g(&format!("s2s.{m}.{n}")))
            .collect()
    };
    let (w, b) = (g("s2s.dense.weight"), g("s2s.dense.bias"));
    let enc_in = input(2, 6, 1);
    let steps = 5;
    let pred = model.predict(&enc_in, steps);
    assert_eq!(pred.size(), [2, 5, 1], "one output per requested step");
    // By hand: encode, then start from 0 and feed each prediction back.
    let mut want = Vec::new();
    for seq in sequences(&enc_in) {
        let (_, mut h, mut c) = reference_lstm(&lstm("encoder"), &seq, vec![0.0; 3], vec![0.0; 3]);
        let mut y = 0.0;
        for _ in 0..steps {
            let (_, nh, nc) = reference_lstm(&lstm("decoder"), &[vec![y]], h, c);
            (h, c) = (nh, nc);
            y = matvec(&w, &h, 1)[0] + b[0];
            want.push(y);
        }
    }
    assert_close(&to_vec(&pred), &want, "autoregressive outputs");
    // Teacher forcing with the predictions shifted right (leading 0) reproduces them:
    // the decoder really was fed its own previous output.
    let shifted = Tensor::cat(
        &[
            Tensor::zeros([2, 1, 1], (Kind::Float, Device::Cpu)),
            pred.narrow(1, 0, steps - 1),
        ],
        1,
    );
    let tf = model.teacher_forced(&enc_in.narrow(1, 0, 6), &shifted, false);
    assert_close(&to_vec(&tf), &want, "teacher forced on own outputs");
    // A different decoder input changes teacher-forced outputs but not free-running ones.
    let tf_other = model.teacher_forced(&enc_in, &(shifted.shallow_clone() + 1.0), false);
    assert!(to_vec(&tf_other) != want);
    // The fit-loop views: [batch, steps, 2] inputs (encoder feature, shifted target).
    let both = Tensor::cat(&[enc_in.narrow(1, 0, 5), shifted.shallow_clone() + 1.0], 2);
    let tf_view = TeacherForced(model);
    assert_eq!(tf_view.forward_t(&both, false).size(), [2, 5, 1]);
    let free = FreeRunning(tf_view.0);
    let free_out = tch::no_grad(|| free.forward_t(&both, false));
    // Free running ignores the teacher-forcing channel and decodes 5 steps from the first 5 encoder steps.
    assert_close(
        &to_vec(&free_out),
        &to_vec(&free.0.predict(&enc_in.narrow(1, 0, 5), 5)),
        "free-running view",
    );
    assert_eq!(free.0.predict(&enc_in, 0).size(), [2, 0, 1]);
}

#[test]
fn encoder_decoder_parameters_match_the_post() {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = encoder_decoder(vs.root(), &EncoderDecoderConfig::post()).unwrap();
    let s = TeacherForced(model).summary(&[24, 2]);
    assert_eq!(s.total_keras_params(), 46_276, "{s}");
    assert_eq!(s.total_params(), 46_276 + 2 * 4 * 75);
}

#[test]
fn zero_fed_decoding_feeds_the_decoder_zeros_and_only_its_state() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = EncoderDecoderConfig {
        hidden: 3,
        ..EncoderDecoderConfig::post()
    };
    let model = encoder_decoder(vs.root() / "s2s", &cfg).unwrap();
    fix_weights(&vs);
    let vars = vs.variables();
    let g = |name: &str| to_vec(&vars[name]);
    let lstm = |m: &str| -> Vec<Vec<f64>> {
        ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
            .iter()
            .map(|n| g(&format!("s2s.{m}.{n}")))
            .collect()
    };
    let (w, b) = (g("s2s.dense.weight"), g("s2s.dense.bias"));
    let enc_in = input(2, 6, 1);
    let steps = 4;
    let zero_fed = model.zero_fed(&enc_in, steps);
    assert_eq!(zero_fed.size(), [2, 4, 1]);
    // By hand: encode, then every decoder step reads 0; only (h, c) carries on.
    let mut want = Vec::new();
    for seq in sequences(&enc_in) {
        let (_, mut h, mut c) = reference_lstm(&lstm("encoder"), &seq, vec![0.0; 3], vec![0.0; 3]);
        for _ in 0..steps {
            let (_, nh, nc) = reference_lstm(&lstm("decoder"), &[vec![0.0]], h, c);
            (h, c) = (nh, nc);
            want.push(matvec(&w, &h, 1)[0] + b[0]);
        }
    }
    assert_close(&to_vec(&zero_fed), &want, "zero-fed outputs");
    // The same as teacher forcing on an all-zero decoder input, and not the fed-back decoding.
    let zeros = Tensor::zeros([2, steps, 1], (Kind::Float, Device::Cpu));
    let tf = model.teacher_forced(&enc_in, &zeros, false);
    assert_close(&to_vec(&tf), &want, "teacher forced on zeros");
    assert!(
        to_vec(&model.predict(&enc_in, steps)) != want,
        "fed-back decoding differs"
    );
}

#[test]
fn next_step_model_matches_a_hand_computed_pass_and_its_context_matters() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = NextStepConfig::forum();
    let model = next_step_lstm(vs.root() / "m", &cfg).unwrap();
    // Flux's initialisation: forget-gate bias 1, other biases 0.
    let vars = vs.variables();
    let b_ih = to_vec(&vars["m.lstm.bias_ih_l0"]);
    assert_eq!(
        b_ih,
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    );
    assert!(to_vec(&vars["m.lstm.bias_hh_l0"]).iter().all(|&v| v == 0.0));
    let whh = to_vec(&vars["m.lstm.weight_hh_l0"]);
    let limit = (6.0f64 / (3.0 + 12.0)).sqrt();
    assert!(whh.iter().all(|v| v.abs() <= limit) && whh.iter().any(|v| v.abs() > 0.1));
    assert_eq!(model.summary(&[9, 1]).total_keras_params(), 6 + 84 + 20 + 6);
    fix_weights(&vs);
    // Keep the ReLU units alive, so the output depends on the input.
    tch::no_grad(|| {
        let _ = vs.variables()["m.dense_relu.bias"]
            .shallow_clone()
            .fill_(1.0);
    });
    let vars = vs.variables();
    let g = |name: &str| to_vec(&vars[name]);
    let p: Vec<Vec<f64>> = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        .iter()
        .map(|n| g(&format!("m.lstm.{n}")))
        .collect();
    let dense = |name: &str, x: &[f64], out: usize| -> Vec<f64> {
        let (w, b) = (g(&format!("m.{name}.weight")), g(&format!("m.{name}.bias")));
        matvec(&w, x, out)
            .iter()
            .zip(&b)
            .map(|(a, b)| a + b)
            .collect()
    };
    let step = |x: f64, h: Vec<f64>, c: Vec<f64>| -> (f64, Vec<f64>, Vec<f64>) {
        let e = dense("dense_in", &[x], 3);
        let (_, h, c) = reference_lstm(&p, &[e], h, c);
        let r: Vec<f64> = dense("dense_relu", &h, 5)
            .iter()
            .map(|v| v.max(0.0))
            .collect();
        (dense("dense_out", &r, 1)[0], h, c)
    };
    let xs = input(2, 9, 1);
    // Training view: outputs after the 4 warm-up steps.
    let out = model.forward_t(&xs, false);
    assert_eq!(out.size(), [2, 5, 1]);
    let mut want = Vec::new();
    for seq in sequences(&xs) {
        let (mut h, mut c) = (vec![0.0; 3], vec![0.0; 3]);
        for (t, x) in seq.iter().enumerate() {
            let (y, nh, nc) = step(x[0], h, c);
            (h, c) = (nh, nc);
            if t >= 4 {
                want.push(y);
            }
        }
    }
    assert_close(&to_vec(&out), &want, "training outputs");
    assert!(
        want.windows(2).any(|w| (w[0] - w[1]).abs() > 1e-3),
        "{want:?}"
    );
    // Continuation: read the context, then feed back each prediction.
    let context = xs.narrow(1, 0, 5);
    let cont = model.continue_from(&context, 3);
    assert_eq!(cont.size(), [2, 3]);
    let mut want = Vec::new();
    for seq in sequences(&context) {
        let (mut h, mut c, mut y) = (vec![0.0; 3], vec![0.0; 3], 0.0);
        for x in &seq {
            (y, h, c) = step(x[0], h, c);
        }
        want.push(y);
        for _ in 1..3 {
            (y, h, c) = step(y, h, c);
            want.push(y);
        }
    }
    assert_close(&to_vec(&cont), &want, "continuation");
    // The state carries the earlier context values: changing them changes the continuation.
    let other = context.copy();
    let _ = other.narrow(1, 0, 4).fill_(0.25);
    assert!(to_vec(&model.continue_from(&other, 3)) != to_vec(&cont));
}
