"""Run the overhead benchmark's 200-op chain N times (forward, or forward + backward), for instruction counts.

    PYTHONHASHSEED=0 valgrind --tool=callgrind python -m bench.chain_steps step 1
    PYTHONHASHSEED=0 valgrind --tool=callgrind python -m bench.chain_steps step 101

(difference of the two totals) / (100 × 200) is the instructions per op; ``fwd`` instead of ``step``
counts the forward pass alone, ``nograd`` the forward under ``no_grad``, ``numpy`` the same chain and its
backward by hand in NumPy. Instruction counts barely move with machine load, unlike timings.
"""
from __future__ import annotations

import sys

import numpy as np

import autograd as ag

from .overhead import N_OPS, SIZE, _numpy_step


def main(mode: str, repeats: int) -> None:
    if mode == "numpy":
        a = np.random.default_rng(0).standard_normal(SIZE).astype(np.float32)
        for _ in range(repeats):
            _numpy_step(a)
        return
    x = ag.tensor(np.random.default_rng(0).standard_normal(SIZE).astype(np.float32), requires_grad=True)
    with ag.set_grad_enabled(mode != "nograd"):
        for _ in range(repeats):
            y = x
            for _ in range(N_OPS // 4):
                y = (y * 1.01).tanh()
                y = (y + 0.1).sigmoid()
            if mode == "step":
                y.sum().backward()
            x.grad = None


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("fwd", "nograd", "step", "numpy"):
        raise SystemExit("usage: python -m bench.chain_steps fwd|nograd|step|numpy N")
    main(sys.argv[1], int(sys.argv[2]))
