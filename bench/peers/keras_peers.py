"""Keras 3 peers of seqlab's bench workloads (`cargo xtask bench`), on the
backend named by KERAS_BACKEND (jax or tensorflow).

Each workload builds the same model as `crates/seqlab-experiments/src/bench.rs`
and `peers.py` (layers, widths, Keras' own initialisation, which is the
family seqlab's Keras-initialised models use), the same batch size,
optimiser, loss and data shapes, and trains it as a Keras user would:
`model.fit` on NumPy arrays, no shuffling, the backend's defaults (XLA
compilation on JAX, `tf.function` on TensorFlow). It prints one JSON line:
samples per epoch, seconds of each timed epoch (from a callback), the
median and samples per second.

usage: KERAS_BACKEND=jax python3 keras_peers.py WORKLOAD [--warmup N] [--epochs N] [--shrink N]
"""

import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import keras
from keras import layers


def one_hot(rng, n, steps, features, classes):
    idx = rng.integers(0, features, size=(n, steps))
    x = np.eye(features, dtype="float32")[idx]
    return x, rng.integers(0, classes, size=(n,)).astype("int64")


def classifier(cell, steps, features, hidden, classes, **cell_args):
    """Stacked recurrent layers read at the last step, then a dense head with logits."""
    inputs = keras.Input((steps, features))
    x = inputs
    for i, h in enumerate(hidden):
        last = i == len(hidden) - 1
        x = cell(h, return_sequences=not last, **cell_args)(x)
    return keras.Model(inputs, layers.Dense(classes)(x))


def sentiment(cell):
    """Embedding(10000, 64) -> Dropout .3 -> cell(32) -> BatchNorm -> Dropout .2 -> Dense(1) logit."""
    inputs = keras.Input((128,), dtype="int64")
    x = layers.Embedding(10_000, 64)(inputs)
    x = layers.Dropout(0.3)(x)
    x = cell(32)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(inputs, layers.Dense(1)(x))


def bilstm_autoencoder():
    """The book's BiLSTM autoencoder (latent 100), logits out."""
    inputs = keras.Input((28, 28))
    x = layers.Dropout(0.5)(inputs)
    x = layers.Bidirectional(layers.LSTM(28))(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.5)(x)
    z = layers.Dense(100, activation="sigmoid")(x)
    z = layers.Dropout(0.1)(z)
    x = layers.RepeatVector(28)(z)
    x = layers.Bidirectional(layers.LSTM(28, return_sequences=True))(x)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, layers.Dense(28)(x))


def encoder_decoder():
    """LSTM(75) encoder whose final (h, c) start an LSTM(75) decoder; Dense(1); teacher forcing."""
    enc_in = keras.Input((24, 1))
    dec_in = keras.Input((24, 1))
    _, h, c = layers.LSTM(75, return_state=True)(enc_in)
    out = layers.LSTM(75, return_sequences=True)(dec_in, initial_state=[h, c])
    return keras.Model([enc_in, dec_in], layers.Dense(1)(out))


def sine_windows():
    xs = np.linspace(-2 * math.pi, 2 * math.pi, 100)
    enc, dec_in, tgt = [], [], []
    for s in range(100 - 24):
        w = xs[s : s + 24]
        t = np.cos(w)
        enc.append(np.sin(w))
        tgt.append(t)
        dec_in.append(np.concatenate([[0.0], t[:-1]]))
    f = lambda a: np.asarray(a, dtype="float32")[:, :, None]
    return f(enc), f(dec_in), f(tgt)


SPARSE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
BINARY = keras.losses.BinaryCrossentropy(from_logits=True)


def build(name, shrink, rng):
    """(model, x, y, batch, optimiser, loss)."""
    if name == "toy-seq2one":
        x, y = one_hot(rng, 6400 // shrink, 12, 5, 4)
        m = classifier(layers.SimpleRNN, 12, 5, [128, 128], 4, activation="relu")
        return m, x, y, 32, keras.optimizers.Adam(1e-3), SPARSE
    if name == "temporal-order-hard":
        x, y = one_hot(rng, 3200 // shrink, 111, 8, 4)
        m = classifier(layers.LSTM, 111, 8, [12], 4, unit_forget_bias=False,
                       bias_initializer=forget_bias(3.0, 12))
        opt = keras.optimizers.RMSprop(1e-3, rho=0.99, epsilon=1e-8, global_clipnorm=1.0)
        return m, x, y, 32, opt, SPARSE
    if name in ("imdb-lstm", "imdb-rnn"):
        n = 5000 // shrink
        x = rng.integers(0, 10_000, size=(n, 128)).astype("int64")
        y = rng.integers(0, 2, size=(n, 1)).astype("float32")
        cell = layers.LSTM if name == "imdb-lstm" else layers.SimpleRNN
        return sentiment(cell), x, y, 100, keras.optimizers.Adam(1e-3), BINARY
    if name == "mnist-bilstm-ae":
        x = rng.random((6000 // shrink, 28, 28), dtype="float32")
        return bilstm_autoencoder(), x, x, 100, keras.optimizers.Adam(1e-3), BINARY
    if name == "seq2seq-sine":
        enc, dec, tgt = sine_windows()
        reps = max(10 // shrink, 1)
        x = [np.tile(enc, (reps, 1, 1)), np.tile(dec, (reps, 1, 1))]
        y = np.tile(tgt, (reps, 1, 1))
        return encoder_decoder(), x, y, 10, keras.optimizers.Adam(1e-3), "mse"
    if name in ("sweep-rnn-tanh", "sweep-lstm", "sweep-gru"):
        cell = {"sweep-rnn-tanh": layers.SimpleRNN, "sweep-lstm": layers.LSTM, "sweep-gru": layers.GRU}[name]
        x, y = one_hot(rng, 2000 // shrink, 200, 5, 4)
        m = classifier(cell, 200, 5, [32], 4)
        return m, x, y, 32, keras.optimizers.Adam(2e-3, global_clipnorm=1.0), SPARSE
    raise SystemExit(f"unknown workload {name!r}")


def forget_bias(value, units):
    """An LSTM bias initialiser: zeros, with `value` on the forget gate (Keras' gate order i, f, c, o)."""

    def init(shape, dtype=None):
        b = np.zeros(shape, dtype="float32")
        b[units : 2 * units] = value
        return b

    return init


class EpochTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--device", default="cpu", choices=["cpu"])
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--shrink", type=int, default=1)
    a = ap.parse_args()
    keras.utils.set_random_seed(42)
    rng = np.random.default_rng(42)
    model, x, y, batch, opt, loss = build(a.workload, max(a.shrink, 1), rng)
    model.compile(optimizer=opt, loss=loss)
    timer = EpochTimes()
    model.fit(x, y, batch_size=batch, epochs=a.warmup + a.epochs, shuffle=False, verbose=0, callbacks=[timer])
    times = timer.times[a.warmup :]
    med = statistics.median(times)
    n = len(y)
    backend = keras.backend.backend()
    versions = {"keras": keras.__version__}
    if backend == "jax":
        import jax

        versions["jax"] = jax.__version__
    elif backend == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    print(json.dumps({
        "workload": a.workload,
        "framework": f"keras-{backend}",
        "samples": n,
        "batch": batch,
        "epoch_seconds": times,
        "median_seconds": med,
        "samples_per_second": n / med,
        "threads": os.environ.get("OMP_NUM_THREADS", "backend default"),
        **versions,
    }))


if __name__ == "__main__":
    main()
