"""Run the MLP benchmark's steps N times, for instruction counts (load-independent, unlike timings).

    PYTHONHASHSEED=0 valgrind --tool=callgrind python -m bench.mlp_steps train 1
    PYTHONHASHSEED=0 valgrind --tool=callgrind python -m bench.mlp_steps train 11

(difference of the two totals) / 10 is the instructions per step: ``train`` is a full ``nn`` training
step (forward, cross-entropy, backward, SGD), ``ops`` the forward + backward written with autograd ops,
``numpy`` the training step written by hand in NumPy (``bench.targets``), ``loss`` the step's cross-entropy
alone (forward + backward on its (128, 10) scores), ``sgd`` the optimiser's step alone (the MLP's six
parameters, their gradients fixed) and ``toy`` the ``train`` step at sizes 4-4-4-3, batch 2, where the
arrays are tiny and nearly every instruction is the engine's and the layers' own bookkeeping.
"""
from __future__ import annotations

import sys

import numpy as np

import autograd as ag

from .mlp import BATCH, SIZES, _graphgrad_fwd_bwd, _params, _train_step_graphgrad

TOY_SIZES, TOY_BATCH = (4, 4, 4, 3), 2


def main(mode: str, repeats: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    rng = np.random.default_rng(0)
    sizes, batch = (TOY_SIZES, TOY_BATCH) if mode == "toy" else (SIZES, BATCH)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], batch)
    ws, bs = _params(rng)
    xt, yt = ag.tensor(x), ag.tensor(labels)
    if mode == "numpy":
        from .targets import _numpy_mlp_step

        for _ in range(repeats):
            _numpy_mlp_step(x, labels, ws, bs, 1e-3)
        return
    if mode == "ops":
        tw = [ag.tensor(w, requires_grad=True) for w in ws]
        tb = [ag.tensor(b, requires_grad=True) for b in bs]
        for _ in range(repeats):
            _graphgrad_fwd_bwd(xt, tw, tb)
        return
    import nn
    from nn import optim

    model = nn.MLP(list(sizes), activation="relu")
    opt = optim.SGD(model.parameters(), lr=0.01)
    if mode == "loss":
        z = ag.tensor(rng.standard_normal((BATCH, SIZES[-1])).astype(np.float32), requires_grad=True)
        for _ in range(repeats):
            z.grad = None
            nn.functional.cross_entropy(z, yt).backward()
        return
    if mode == "sgd":
        for p in model.parameters():
            p.grad = ag.tensor(rng.standard_normal(p.shape).astype(np.float32))
        for _ in range(repeats):
            opt.step()
        return
    for _ in range(repeats):
        _train_step_graphgrad(model, opt, nn.functional.cross_entropy, xt, yt)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("ops", "train", "numpy", "loss", "sgd", "toy"):
        raise SystemExit("usage: python -m bench.mlp_steps ops|train|numpy|loss|sgd|toy N")
    main(sys.argv[1], int(sys.argv[2]))
