"""Per-op overhead: a 200-op elementwise chain on 16-element float32 tensors, forward + backward.

graphgrad is compared with raw NumPy doing the same forward and the hand-written backward.
The chain cycles through multiply-by-constant, tanh, add-constant and sigmoid (50 of each).
"""
from __future__ import annotations

import numpy as np

import autograd as ag

from .timing import per_call_us

N_OPS = 200
SIZE = 16


def _graphgrad_step(x):
    y = x
    for _ in range(N_OPS // 4):
        y = (y * 1.01).tanh()
        y = (y + 0.1).sigmoid()
    y.sum().backward()
    x.grad = None


def _numpy_step(a):
    saved = []
    y = a
    for _ in range(N_OPS // 4):
        y = y * np.float32(1.01)
        y = np.tanh(y)
        saved.append(("tanh", y))
        y = y + np.float32(0.1)
        y = 1 / (1 + np.exp(-y))
        saved.append(("sigmoid", y))
    g = np.ones_like(y)
    for kind, out in reversed(saved):
        if kind == "sigmoid":
            g = g * out * (1 - out)  # then the add's backward is the identity
        else:
            g = g * (1 - out * out)
            g = g * np.float32(1.01)
    return g


def run() -> list[dict]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(SIZE).astype(np.float32)
    x = ag.tensor(a, requires_grad=True)
    ours = per_call_us(lambda: _graphgrad_step(x), number=200)
    base = per_call_us(lambda: _numpy_step(a), number=200)
    return [{
        "benchmark": f"{N_OPS}-op elementwise chain, {SIZE} float32, fwd+bwd",
        "graphgrad": f"{ours / N_OPS:.2f} µs/op",
        "baseline": f"NumPy {base / N_OPS:.2f} µs/op",
        "result": f"+{(ours - base) / N_OPS:.2f} µs/op over NumPy (target ≤ 4)",
    }]
