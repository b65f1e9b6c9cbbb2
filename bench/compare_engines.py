"""This checkout's engine against another checkout's (e.g. the engine before v2), timed in alternating processes.

    python -m bench.compare_engines /path/to/other/checkout [pairs]

(``git worktree add /tmp/before e57a5f7`` makes such a checkout.) Each process imports one checkout's
``autograd`` and ``nn`` and times, best of several rounds: the 200-op elementwise chain of ``overhead.py``
(forward + backward, µs per op, with NumPy's time for the same chain beside it, so the engine's own cost
is the difference) and the MLP training step of ``mlp.py`` (784-256-256-10 ReLU, batch 128,
cross-entropy, backward, SGD). Processes of the two checkouts alternate, so machine load hits both
alike; the ratios of the best figures are printed at the end. The workloads are written here, in the
API both engines have, so the two checkouts run the same code.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_WORKLOAD = r'''
import time
import numpy as np
import autograd as ag
import nn
from nn import optim

def best(fn, number, rounds):
    fn()
    b = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        b = min(b, (time.perf_counter() - t) / number)
    return b

a = np.random.default_rng(0).standard_normal(16).astype(np.float32)
x = ag.tensor(a, requires_grad=True)

def chain():
    y = x
    for _ in range(50):
        y = (y * 1.01).tanh()
        y = (y + 0.1).sigmoid()
    y.sum().backward()
    x.grad = None

def chain_numpy():
    acts, y = [], a
    for _ in range(50):
        m = y * 1.01; t = np.tanh(m); s = 1 / (1 + np.exp(-(t + 0.1)))
        acts.append((t, s)); y = s
    g = np.ones_like(y)
    for t, s in reversed(acts):
        g = g * s * (1 - s); g = g * (1 - t * t) * 1.01
    return g

rng = np.random.default_rng(0)
xb = ag.tensor(rng.standard_normal((128, 784)).astype(np.float32))
yb = ag.tensor(rng.integers(0, 10, 128))
model = nn.MLP([784, 256, 256, 10], activation="relu")
opt = optim.SGD(model.parameters(), lr=1e-3)

def mlp_step():
    opt.zero_grad()
    nn.functional.cross_entropy(model(xb), yb).backward()
    opt.step()

c, n = best(chain, 100, 15), best(chain_numpy, 100, 15)
m = best(mlp_step, 20, 10)
print(c / 200 * 1e6, n / 200 * 1e6, m * 1e3)
'''


def _measure(checkout: Path) -> tuple[float, float, float]:
    env = dict(os.environ, PYTHONPATH=str(checkout), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", _WORKLOAD], cwd=checkout, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"compare_engines: the workload failed in {checkout}:\n{out.stderr}")
    chain, numpy, mlp = map(float, out.stdout.split())
    return chain, numpy, mlp


def main(other: str, pairs: int = 3) -> None:
    checkouts = {"other": Path(other).resolve(), "this": Path(__file__).resolve().parent.parent}
    if not (checkouts["other"] / "autograd").is_dir():
        raise SystemExit(f"compare_engines: {other} is not a checkout of the project (no autograd/ in it)")
    runs = {name: [] for name in checkouts}
    for _ in range(pairs):
        for name, path in checkouts.items():
            chain, numpy, mlp = _measure(path)
            runs[name].append((chain, numpy, mlp))
            print(f"{name:5s} chain {chain:.3f} µs/op (NumPy {numpy:.3f}, engine {chain - numpy:.3f})  "
                  f"MLP step {mlp:.3f} ms", flush=True)
    best = {name: [min(r[i] for r in rs) for i in range(3)] + [min(r[0] - r[1] for r in rs)]
            for name, rs in runs.items()}
    this, other_ = best["this"], best["other"]
    print(f"this / other, best of {pairs}: chain {this[0] / other_[0]:.3f}x, engine's own cost per op "
          f"{this[3] / other_[3]:.3f}x, MLP step {this[2] / other_[2]:.3f}x")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit("usage: python -m bench.compare_engines OTHER_CHECKOUT [pairs]")
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 3)
