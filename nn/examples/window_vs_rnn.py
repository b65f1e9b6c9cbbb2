"""SEEDS R1 made concrete: a feed-forward net that sees a window of 3 steps versus a recurrent net (weights
shared across time) on the same per-step task.

    python -m nn.examples.window_vs_rnn [--steps 400]

Task: a random bit sequence x_1 … x_30; at every step t the target is x_{t−d}, the bit d steps back (steps
t ≤ d are not scored). With d = 2 the answer is inside the window (x_{t−2}, x_{t−1}, x_t), so both models can
learn it; with d = 5 it is outside, so the windowed net can do no better than chance (50%), while the RNN can
carry the bit in its state. Windowed net: MLP([3, 32, 2]) on each window (zero-padded at the start). RNN:
``nn.RNN(1, 32)`` (tanh) → Linear(32, 2) at every step. Both: cross-entropy, Adam (lr 1e-2), batch 32.

Recorded on 2026-12-02 (seed 0, 400 steps each; per-step accuracy on 2,000 fresh sequences):

| delay d | windowed FFN (window 3) | tanh RNN |
|---|---|---|
| 2 (inside the window) | 100.0% | 100.0% |
| 5 (outside the window) | 49.8% (chance) | 100.0% |
"""
from __future__ import annotations

import argparse

import numpy as np

import autograd as ag
import nn

from ._common import single_thread_blas

SEQ_LEN, WINDOW, HIDDEN = 30, 3, 32


def make_batch(rng, batch: int, delay: int):
    """(x (SEQ_LEN, batch) bits as float32, y (SEQ_LEN, batch) int64 with y_t = x_{t−delay}, or −1 unscored)."""
    x = rng.integers(0, 2, (SEQ_LEN, batch))
    y = np.full_like(x, -1)
    y[delay:] = x[:-delay]
    return x.astype(np.float32), y


def windows(x: np.ndarray) -> np.ndarray:
    """(SEQ_LEN, batch, WINDOW): at step t the bits x_{t−2}, x_{t−1}, x_t (zeros before the start)."""
    padded = np.concatenate([np.zeros((WINDOW - 1,) + x.shape[1:], x.dtype), x])
    return np.stack([padded[k:k + x.shape[0]] for k in range(WINDOW)], axis=-1)


class Windowed(nn.Module):
    """The same MLP applied to every window of 3 steps: no state, no memory beyond the window."""

    def __init__(self):
        super().__init__()
        self.mlp = nn.MLP([WINDOW, HIDDEN, 2])

    def forward(self, x):
        return self.mlp(ag.tensor(windows(x)))


class Recurrent(nn.Module):
    """A tanh RNN and a per-step linear read-out: h_t = tanh(U x_t + W h_{t−1} + b), o_t = V h_t."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(1, HIDDEN)
        self.out = nn.Linear(HIDDEN, 2)

    def forward(self, x):
        h, _ = self.rnn(ag.tensor(x[..., None]))
        return self.out(h)


def _loss(model, x, y):
    logits = model(x)
    keep = (y.reshape(-1) >= 0)
    flat = logits.reshape(-1, 2)[np.flatnonzero(keep)]
    return nn.functional.cross_entropy(flat, y.reshape(-1)[keep])


def accuracy(model, delay: int, seed: int, n: int = 2000) -> float:
    x, y = make_batch(np.random.default_rng(seed + 100), n, delay)
    with ag.no_grad():
        pred = model(x).data.argmax(axis=-1)
    keep = y >= 0
    return float(np.mean(pred[keep] == y[keep]))


def train(model, delay: int, steps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        x, y = make_batch(rng, 32, delay)
        loss = _loss(model, x, y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return accuracy(model, delay, seed)


def run(delays=(2, 5), steps: int = 400, seed: int = 0) -> dict:
    """{delay: {"windowed": accuracy, "rnn": accuracy}}."""
    results = {}
    with single_thread_blas():
        for d in delays:
            ag.manual_seed(seed)
            results[d] = {"windowed": train(Windowed(), d, steps, seed), "rnn": train(Recurrent(), d, steps, seed)}
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for d, r in run(steps=args.steps, seed=args.seed).items():
        print(f"delay {d}: windowed FFN {r['windowed']:.3f}, tanh RNN {r['rnn']:.3f}")


if __name__ == "__main__":
    main()
