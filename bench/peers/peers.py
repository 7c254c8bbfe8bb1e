"""PyTorch eager peers of seqlab's bench workloads (`cargo xtask bench`).

Each workload builds the same model, batch size, optimiser and batch stream
shapes as `crates/seqlab-experiments/src/bench.rs`, trains it with a plain
eager loop (zero_grad, forward, loss, backward, optional clipping, step,
loss.item() per batch, the same per-step work as seqlab's fit loop), and
prints one JSON line: samples per epoch, seconds of each timed epoch, the
median and samples per second.

usage: python3 peers.py WORKLOAD [--device cpu|cuda] [--warmup N] [--epochs N] [--shrink N]
"""

import argparse
import json
import math
import statistics
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F


def keras_init_lstm(lstm, forget_bias=1.0):
    """Keras' LSTM initialisation: Glorot input weights, orthogonal recurrent, zero biases, forget bias."""
    for name, p in lstm.named_parameters():
        if name.startswith("weight_ih"):
            nn.init.xavier_uniform_(p)
        elif name.startswith("weight_hh"):
            nn.init.orthogonal_(p)
        elif name.startswith("bias_ih"):
            nn.init.zeros_(p)
            h = p.shape[0] // 4
            with torch.no_grad():
                p[h : 2 * h] = forget_bias
        elif name.startswith("bias_hh"):
            nn.init.zeros_(p)


def keras_init_rnn(rnn):
    """Keras' SimpleRNN/GRU initialisation: Glorot input weights, orthogonal recurrent, zero biases."""
    for name, p in rnn.named_parameters():
        if name.startswith("weight_ih"):
            nn.init.xavier_uniform_(p)
        elif name.startswith("weight_hh"):
            nn.init.orthogonal_(p)
        else:
            nn.init.zeros_(p)


def recurrent(cell, size, hidden):
    """One recurrent layer of the given cell, batch first."""
    if cell == "rnn_relu":
        return nn.RNN(size, hidden, nonlinearity="relu", batch_first=True)
    if cell == "rnn_tanh":
        return nn.RNN(size, hidden, nonlinearity="tanh", batch_first=True)
    if cell == "gru":
        return nn.GRU(size, hidden, batch_first=True)
    return nn.LSTM(size, hidden, batch_first=True)


class SeqClassifier(nn.Module):
    """Stacked recurrent layers (one module each), read at the last step, then a dense head."""

    def __init__(self, cell, features, hidden, classes, keras=False):
        super().__init__()
        layers, size = [], features
        for h in hidden:
            layer = recurrent(cell, size, h)
            if keras:
                keras_init_lstm(layer) if cell == "lstm" else keras_init_rnn(layer)
            layers.append(layer)
            size = h
        self.layers = nn.ModuleList(layers)
        self.head = nn.Linear(size, classes)

    def forward(self, x):
        for layer in self.layers:
            x, _ = layer(x)
        return self.head(x[:, -1])


class Sentiment(nn.Module):
    """Embedding(10000, 64) -> Dropout .3 -> LSTM(32) or SimpleRNN(32) -> BatchNorm -> Dropout .2 -> Dense(1)."""

    def __init__(self, cell="lstm"):
        super().__init__()
        self.embedding = nn.Embedding(10_000, 64)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        self.lstm = recurrent(cell, 64, 32)
        keras_init_lstm(self.lstm) if cell == "lstm" else keras_init_rnn(self.lstm)
        self.norm = nn.BatchNorm1d(32, eps=1e-3, momentum=0.01)
        self.dense = nn.Linear(32, 1)

    def forward(self, ids):
        x = F.dropout(self.embedding(ids), 0.3, self.training)
        _, h = self.lstm(x)
        h = h[0] if isinstance(h, tuple) else h
        h = F.dropout(self.norm(h[-1]), 0.2, self.training)
        return self.dense(h)


class BiLstmAutoencoder(nn.Module):
    """The book's BiLSTM autoencoder (latent 100), logits out."""

    def __init__(self):
        super().__init__()
        self.enc = nn.LSTM(28, 28, batch_first=True, bidirectional=True)
        self.enc_norm = nn.BatchNorm1d(56, eps=1e-3, momentum=0.01)
        self.enc_dense = nn.Linear(56, 100)
        self.dec = nn.LSTM(100, 28, batch_first=True, bidirectional=True)
        self.dec_norm = nn.BatchNorm1d(56, eps=1e-3, momentum=0.01)
        self.dec_dense = nn.Linear(56, 28)
        keras_init_lstm(self.enc)
        keras_init_lstm(self.dec)

    def forward(self, x):
        x = F.dropout(x, 0.5, self.training)
        _, (h, _) = self.enc(x)
        h = torch.cat([h[-2], h[-1]], dim=1)
        h = F.dropout(self.enc_norm(h), 0.5, self.training)
        z = torch.sigmoid(self.enc_dense(h))
        z = F.dropout(z, 0.1, self.training)
        rep = z.unsqueeze(1).expand(-1, 28, -1).contiguous()
        out, _ = self.dec(rep)
        out = self.dec_norm(out.transpose(1, 2)).transpose(1, 2)
        return self.dec_dense(out)


class EncoderDecoder(nn.Module):
    """LSTM(75) encoder whose final (h, c) start an LSTM(75) decoder; Dense(1); teacher forcing."""

    def __init__(self):
        super().__init__()
        self.enc = nn.LSTM(1, 75, batch_first=True)
        self.dec = nn.LSTM(1, 75, batch_first=True)
        self.dense = nn.Linear(75, 1)
        keras_init_lstm(self.enc)
        keras_init_lstm(self.dec)

    def forward(self, x):
        _, state = self.enc(x[:, :, :1])
        out, _ = self.dec(x[:, :, 1:2], state)
        return self.dense(out)


def one_hot(n, steps, features, classes, device):
    idx = torch.randint(features, (n, steps), device=device)
    return F.one_hot(idx, features).float(), torch.randint(classes, (n,), device=device)


def sine_windows(device):
    xs = torch.linspace(-2 * math.pi, 2 * math.pi, 100, dtype=torch.float64)
    enc, dec_in, tgt = [], [], []
    for s in range(100 - 24):
        w = xs[s : s + 24]
        enc.append(torch.sin(w))
        t = torch.cos(w)
        tgt.append(t)
        dec_in.append(torch.cat([torch.zeros(1, dtype=torch.float64), t[:-1]]))
    x = torch.stack([torch.stack(enc), torch.stack(dec_in)], dim=2).float()
    y = torch.stack(tgt).unsqueeze(2).float()
    return x.to(device), y.to(device)


def build(name, device, shrink):
    """(model, x, y, batch, optimiser factory, loss fn, clip)."""
    if name == "toy-seq2one":
        x, y = one_hot(6400 // shrink, 12, 5, 4, device)
        model = SeqClassifier("rnn_relu", 5, [128, 128], 4)
        return model, x, y, 32, lambda p: torch.optim.Adam(p, 1e-3), F.cross_entropy, None
    if name == "temporal-order-hard":
        x, y = one_hot(3200 // shrink, 111, 8, 4, device)
        model = SeqClassifier("lstm", 8, [12], 4)
        opt = lambda p: torch.optim.RMSprop(p, 1e-3, alpha=0.99, eps=1e-8)
        return model, x, y, 32, opt, F.cross_entropy, 1.0
    if name in ("imdb-lstm", "imdb-rnn"):
        n = 5000 // shrink
        x = torch.randint(10_000, (n, 128), device=device)
        y = torch.randint(2, (n,), device=device).float().unsqueeze(1)
        loss = F.binary_cross_entropy_with_logits
        model = Sentiment("lstm" if name == "imdb-lstm" else "rnn_tanh")
        return model, x, y, 100, lambda p: torch.optim.Adam(p, 1e-3, eps=1e-7), loss, None
    if name in ("sweep-rnn-tanh", "sweep-lstm", "sweep-gru"):
        cell = {"sweep-rnn-tanh": "rnn_tanh", "sweep-lstm": "lstm", "sweep-gru": "gru"}[name]
        x, y = one_hot(2000 // shrink, 200, 5, 4, device)
        model = SeqClassifier(cell, 5, [32], 4, keras=True)
        return model, x, y, 32, lambda p: torch.optim.Adam(p, 2e-3), F.cross_entropy, 1.0
    if name == "mnist-bilstm-ae":
        x = torch.rand(6000 // shrink, 28, 28, device=device)
        loss = F.binary_cross_entropy_with_logits
        return BiLstmAutoencoder(), x, x, 100, lambda p: torch.optim.Adam(p, 1e-3, eps=1e-7), loss, None
    if name == "seq2seq-sine":
        x, y = sine_windows(device)
        reps = max(10 // shrink, 1)
        x, y = x.repeat(reps, 1, 1), y.repeat(reps, 1, 1)
        return EncoderDecoder(), x, y, 10, lambda p: torch.optim.Adam(p, 1e-3, eps=1e-7), F.mse_loss, None
    sys.exit(f"unknown workload {name!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--shrink", type=int, default=1)
    a = ap.parse_args()
    torch.manual_seed(42)
    device = torch.device(a.device)
    model, x, y, batch, make_opt, loss_fn, clip = build(a.workload, device, max(a.shrink, 1))
    model.to(device).train()
    opt = make_opt(model.parameters())
    n = x.shape[0]
    times = []
    for epoch in range(a.warmup + a.epochs):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        total = 0.0
        for s in range(0, n, batch):
            xb, yb = x[s : s + batch], y[s : s + batch]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            total += loss.item() * xb.shape[0]
        if device.type == "cuda":
            torch.cuda.synchronize()
        if epoch >= a.warmup:
            times.append(time.perf_counter() - start)
    med = statistics.median(times)
    print(json.dumps({
        "workload": a.workload,
        "framework": "pytorch",
        "samples": n,
        "batch": batch,
        "epoch_seconds": times,
        "median_seconds": med,
        "samples_per_second": n / med,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
