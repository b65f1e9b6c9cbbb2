"""What each change of issue 13 moved: the MLP training step with and without it, interleaved in one run.

    python -m bench.ablation

Configurations: nn.Linear's fused ``linear`` node or the composition it replaced (``matmul(x, w.T) + b``:
a transpose, a matmul and a broadcast add), and SGD's update through the work buffer or the previous
out-of-place ``p.sub_(lr * g)``. Prints best-of-rounds time and tracemalloc peak per configuration.
"""
from __future__ import annotations

import numpy as np

import autograd as ag

from .mlp import BATCH, SIZES
from .targets import interleaved, peak_bytes


def _unfused(x, w, b=None):
    out = ag.matmul(x, w.T)
    return out if b is None else out + b


def _sgd_out_of_place(self, group, params):
    for p in params:
        p.sub_(group["lr"] * self._grad(p, group["maximize"]))


def main() -> None:
    from threadpoolctl import threadpool_limits

    import nn
    import nn.functional as F
    from nn import optim

    threadpool_limits(1)
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    y = ag.tensor(rng.integers(0, SIZES[-1], BATCH))
    model = nn.MLP(list(SIZES), activation="relu")
    opt = optim.SGD(model.parameters(), lr=1e-3)
    fused, in_place = F._linear, optim.SGD._update
    configs = {"fused linear, in-place SGD": (fused, in_place),
               "fused linear, out-of-place SGD": (fused, _sgd_out_of_place),
               "unfused linear, in-place SGD": (_unfused, in_place),
               "unfused linear, out-of-place SGD (before)": (_unfused, _sgd_out_of_place)}

    def step_with(linear, update):
        def step():
            F._linear, optim.SGD._update = linear, update
            try:
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
            finally:
                F._linear, optim.SGD._update = fused, in_place
        return step

    steps = {name: step_with(*c) for name, c in configs.items()}
    times = interleaved(steps, number=10, rounds=15)
    base = times["unfused linear, out-of-place SGD (before)"]
    for name, step in steps.items():
        peak = peak_bytes(step) / 2**20
        print(f"{name:45s} {times[name] * 1e3:7.3f} ms  {times[name] / base:.3f}x  peak {peak:.2f} MiB")


if __name__ == "__main__":
    main()
