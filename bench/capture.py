"""Captured steps (``autograd.capture``) vs the same computation written by hand in NumPy, interleaved in one run.

1. the MLP benchmark's 784-256-256-10 ReLU MLP at batch 128, forward + backward into ``.grad`` (and eager);
2. the overhead benchmark's 200-op elementwise chain (16 float32), forward + backward.
The MLP runs first: after the chain's many small allocations the same replay measured about twice as slow
(glibc malloc's state; with freed memory kept, ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` large, both
orders agree).
"""
from __future__ import annotations

import numpy as np

import autograd as ag

from .mlp import BATCH, SIZES, _numpy_fwd_bwd, _params
from .overhead import N_OPS, SIZE, _numpy_step
from .timing import per_call_us


def _chain(x):
    def step():
        x.grad = None
        y = x
        for _ in range(N_OPS // 4):
            y = (y * 1.01).tanh()
            y = (y + 0.1).sigmoid()
        y.sum().backward()
    return step


def _mlp(xt, ws, bs):
    def step():
        for p in ws + bs:
            p.grad = None
        h = xt
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w.T + b
            if i < len(ws) - 1:
                h = h.relu()
        h.sum().backward()
    return step


def _interleaved(a, b, number, rounds=5):
    """Best per-call time of ``a`` and of ``b``, measured in alternating rounds (the load hits both alike)."""
    ta = tb = float("inf")
    for _ in range(rounds):
        ta = min(ta, per_call_us(a, number=number, repeat=1))
        tb = min(tb, per_call_us(b, number=number, repeat=1))
    return ta, tb


def run() -> list[dict]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    ws, bs = _params(rng)
    tw = [ag.tensor(w, requires_grad=True) for w in ws]
    tb = [ag.tensor(b, requires_grad=True) for b in bs]
    eager = _mlp(ag.tensor(x), tw, tb)
    mlp = ag.capture(eager)
    hand = lambda: _numpy_fwd_bwd(x, ws, bs)  # noqa: E731
    ours, base = _interleaved(mlp, hand, number=20)
    plain, base2 = _interleaved(eager, hand, number=20)
    rows = [{
        "benchmark": "captured MLP 784-256-256-10 ReLU, batch 128, fwd+bwd",
        "graphgrad": f"{ours / 1000:.3f} ms (eager {plain / 1000:.3f} ms)",
        "baseline": f"NumPy by hand {base / 1000:.3f} ms ({base2 / 1000:.3f} ms)",
        "result": f"{ours / base:.2f}x NumPy (target ≤ 1.05x); eager {plain / base2:.2f}x",
    }]
    a = rng.standard_normal(SIZE).astype(np.float32)
    chain = ag.capture(_chain(ag.tensor(a, requires_grad=True)))
    ours, base = _interleaved(chain, lambda: _numpy_step(a), number=200)
    rows.append({
        "benchmark": f"captured {N_OPS}-op elementwise chain, {SIZE} float32, fwd+bwd",
        "graphgrad": f"{ours / N_OPS:.2f} µs/op",
        "baseline": f"NumPy by hand {base / N_OPS:.2f} µs/op",
        "result": f"{ours / base:.2f}x NumPy (target ≤ 1.5x)",
    })
    return rows
