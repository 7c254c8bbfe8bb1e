//! Encoder-decoder LSTMs for sequence-to-sequence regression (the Keras
//! seq2seq post): an encoder LSTM reads the input sequence; its final
//! `(h, c)` initialise a decoder LSTM whose every step goes through a
//! linear dense layer.
//!
//! The decoder runs in two distinct ways, kept apart in the API:
//! - [`EncoderDecoder::teacher_forced`]: the decoder reads a given input
//!   sequence (at training time, the target shifted right by one step with a
//!   leading 0) in one fused call;
//! - [`EncoderDecoder::autoregressive`]: the decoder starts from a given
//!   first input (0 in the post) and feeds back each prediction, with its
//!   state, one step at a time.
//!
//! Two [`nn::ModuleT`] wrappers train one or the other with the fit loop
//! (move the model from one to the other with `.0`):
//! [`TeacherForced`] reads `[batch, steps, in + out]` (encoder features,
//! then the shifted targets), [`FreeRunning`] reads the encoder features
//! only and decodes as many steps as the input has.

use crate::keras;
use crate::recurrent::{recurrent, Recurrent, RecurrentConfig, RecurrentInit, RecurrentKind};
use crate::summary::{shape_str, Summary, SummaryRow};
use crate::{Model, ModelError};
use std::borrow::Borrow;
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

/// Configuration of an [`EncoderDecoder`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EncoderDecoderConfig {
    /// Features per encoder step.
    pub input_features: i64,
    /// Features per decoder step (input and output).
    pub output_features: i64,
    /// LSTM units of both the encoder and the decoder.
    pub hidden: i64,
    /// Weight initialisation of both LSTMs.
    pub init: RecurrentInit,
}

impl EncoderDecoderConfig {
    /// The post's model: scalar in and out, 75 units, Keras initialisation
    /// (Keras: 46,276 parameters).
    pub fn post() -> Self {
        Self {
            input_features: 1,
            output_features: 1,
            hidden: 75,
            init: RecurrentInit::Keras,
        }
    }
}

/// The encoder-decoder (see the module docs).
#[derive(Debug)]
pub struct EncoderDecoder {
    config: EncoderDecoderConfig,
    encoder: Recurrent,
    decoder: Recurrent,
    dense: nn::Linear,
}

/// Creates an [`EncoderDecoder`] under `path`.
pub fn encoder_decoder<'a, P: Borrow<nn::Path<'a>>>(
    path: P,
    config: &EncoderDecoderConfig,
) -> Result<EncoderDecoder, ModelError> {
    let path = path.borrow();
    let lstm = |name: &str, input: i64| {
        let mut c = RecurrentConfig::new(RecurrentKind::Lstm, input, config.hidden);
        c.init = config.init;
        recurrent(path / name, &c)
    };
    let encoder = lstm("encoder", config.input_features)?;
    let decoder = lstm("decoder", config.output_features)?;
    let dense = keras::dense(path / "dense", config.hidden, config.output_features)?;
    Ok(EncoderDecoder {
        config: config.clone(),
        encoder,
        decoder,
        dense,
    })
}

impl EncoderDecoder {
    /// Checks `[batch, steps, features]` where features is `in + out`
    /// (`with_targets`) or, for free running, `in` or `in + out`.
    fn check_features(
        &self,
        xs: &Tensor,
        what: &str,
        with_targets: bool,
    ) -> Result<(), ModelError> {
        use crate::shape::Dim;
        let (i, o) = (self.config.input_features, self.config.output_features);
        let like = &self.dense.ws;
        let dims = |f| [Dim::Any("batch"), Dim::Any("steps"), Dim::Is(f)];
        if with_targets || crate::shape::expect(what, xs, &dims(i), like, false).is_err() {
            crate::shape::expect(what, xs, &dims(i + o), like, false)
        } else {
            Ok(())
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EncoderDecoderConfig {
        &self.config
    }

    /// Teacher forcing: encodes `enc_in` `[batch, steps_in, in]` and decodes
    /// the given `dec_in` `[batch, steps_out, out]` in one call;
    /// returns `[batch, steps_out, out]`.
    pub fn teacher_forced(&self, enc_in: &Tensor, dec_in: &Tensor, train: bool) -> Tensor {
        let state = self.encoder.final_state(enc_in, None, train);
        let (out, _) = self.decoder.forward(dec_in, Some(&state), train);
        self.dense.forward(&out)
    }

    /// Autoregressive decoding: encodes `enc_in`, then runs the decoder one
    /// step at a time for `steps` steps, starting from `first` `[batch, out]`
    /// and feeding back each prediction with the decoder's state. Returns
    /// `[batch, steps, out]`. Gradients flow through the whole loop (call it
    /// under `tch::no_grad` for inference).
    pub fn autoregressive(
        &self,
        enc_in: &Tensor,
        first: &Tensor,
        steps: i64,
        train: bool,
    ) -> Tensor {
        let mut state = self.encoder.final_state(enc_in, None, train);
        let mut y = first.unsqueeze(1);
        let mut outs = Vec::with_capacity(steps.max(0) as usize);
        for _ in 0..steps {
            let (out, next) = self.decoder.forward(&y, Some(&state), train);
            y = self.dense.forward(&out);
            outs.push(y.shallow_clone());
            state = next;
        }
        if outs.is_empty() {
            return first.unsqueeze(1).narrow(1, 0, 0);
        }
        Tensor::cat(&outs, 1)
    }

    /// Zero-fed decoding, as the Keras post's inference code runs: encodes
    /// `enc_in`, then steps the decoder `steps` times, each time with the
    /// input 0 and the state of the step before; the predictions are never
    /// fed back (the post's loop writes them to a global array, not to the
    /// decoder's next input). Returns `[batch, steps, out]`, without
    /// gradients.
    pub fn zero_fed(&self, enc_in: &Tensor, steps: i64) -> Tensor {
        tch::no_grad(|| {
            let mut state = self.encoder.final_state(enc_in, None, false);
            let zero = Tensor::zeros(
                [enc_in.size()[0], 1, self.config.output_features],
                (enc_in.kind(), enc_in.device()),
            );
            let mut outs = Vec::with_capacity(steps.max(0) as usize);
            for _ in 0..steps {
                let (out, next) = self.decoder.forward(&zero, Some(&state), false);
                outs.push(self.dense.forward(&out));
                state = next;
            }
            if outs.is_empty() {
                return zero.narrow(1, 0, 0);
            }
            Tensor::cat(&outs, 1)
        })
    }

    /// Autoregressive predictions from a zero first input, without gradients.
    pub fn predict(&self, enc_in: &Tensor, steps: i64) -> Tensor {
        tch::no_grad(|| {
            let first = Tensor::zeros(
                [enc_in.size()[0], self.config.output_features],
                (enc_in.kind(), enc_in.device()),
            );
            self.autoregressive(enc_in, &first, steps, false)
        })
    }

    fn split(&self, xs: &Tensor) -> (Tensor, Tensor) {
        let i = self.config.input_features;
        let o = self.config.output_features;
        (xs.narrow(2, 0, i), xs.narrow(2, i, o))
    }
}

/// A [`nn::ModuleT`] view that trains with teacher forcing: input
/// `[batch, steps, in + out]` (encoder features, then the shifted target).
#[derive(Debug)]
pub struct TeacherForced(pub EncoderDecoder);

impl ModuleT for TeacherForced {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        crate::shape::or_panic(Model::check_input(self, xs));
        let (enc, dec) = self.0.split(xs);
        self.0.teacher_forced(&enc, &dec, train)
    }
}

/// A [`nn::ModuleT`] view that decodes autoregressively from 0 for as many
/// steps as the input has: input `[batch, steps, in]` or `[batch, steps,
/// in + out]` (extra features, such as teacher-forcing inputs, are ignored).
#[derive(Debug)]
pub struct FreeRunning(pub EncoderDecoder);

impl ModuleT for FreeRunning {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        crate::shape::or_panic(Model::check_input(self, xs));
        let enc = xs.narrow(2, 0, self.0.config.input_features);
        let size = xs.size();
        let first = Tensor::zeros(
            [size[0], self.0.config.output_features],
            (xs.kind(), xs.device()),
        );
        self.0.autoregressive(&enc, &first, size[1], train)
    }
}

impl Model for TeacherForced {
    /// `[batch, steps, input_features + output_features]`.
    fn check_input(&self, xs: &Tensor) -> Result<(), ModelError> {
        self.0
            .check_features(xs, "teacher-forced encoder-decoder", true)
    }

    fn summary(&self, sample_shape: &[i64]) -> Summary {
        self.0.summary_for(sample_shape)
    }
}

impl Model for FreeRunning {
    /// `[batch, steps, input_features]` (or with the teacher-forcing
    /// features too, which are ignored).
    fn check_input(&self, xs: &Tensor) -> Result<(), ModelError> {
        self.0
            .check_features(xs, "free-running encoder-decoder", false)
    }

    fn summary(&self, sample_shape: &[i64]) -> Summary {
        self.0.summary_for(sample_shape)
    }
}

impl EncoderDecoder {
    /// A Keras-like summary for samples of shape `[steps, ...]`.
    pub fn summary_for(&self, sample_shape: &[i64]) -> Summary {
        let steps = sample_shape.first().copied().unwrap_or(-1);
        let c = &self.config;
        let row = |name: &str, rnn: &Recurrent, shape: &[i64]| SummaryRow {
            name: name.into(),
            layer: "LSTM".into(),
            output_shape: shape_str(shape),
            params: rnn.num_params(),
            keras_params: rnn.keras_params(),
            non_trainable: 0,
        };
        Summary {
            name: format!("encoder-decoder LSTM({})", c.hidden),
            rows: vec![
                row("encoder", &self.encoder, &[c.hidden]),
                row("decoder", &self.decoder, &[steps, c.hidden]),
                keras::dense_row("dense", &self.dense, &[steps, c.output_features]),
            ],
        }
    }
}
