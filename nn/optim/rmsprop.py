"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, _check_nonneg, _check_range, _subtract


class RMSprop(Optimizer):
    """PyTorch's RMSprop: v = α·v + (1-α)·g²; with ``centered`` subtract the squared running mean of g;
    d = √v + eps; θ -= lr·g/d, or with momentum b = μ·b + g/d, θ -= lr·b."""

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *, maximize: bool = False):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                                  "momentum": momentum,
                                      "centered": centered, "maximize": maximize})

    def _validate(self, group):
        super()._validate(group)
        _check_range("RMSprop", "alpha", group["alpha"], 0.0, 1.0, hi_open=False)
        _check_nonneg("RMSprop", "momentum", group["momentum"])

    def _update(self, group, params: list[Tensor]) -> None:
        lr, alpha, eps, wd, mu = group["lr"], group["alpha"], group["eps"], group["weight_decay"], group["momentum"]
        for p in params:
            g = self._grad(p, group["maximize"])  # may be p.grad's own array: never written into
            d, e = self._scratch(p, 0), self._scratch(p, 1)  # reused work space: no temporaries
            if wd != 0:
                g = np.add(np.multiply(p.data, wd, out=d), g, out=d)
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": np.zeros_like(p.data)}
                if mu > 0:
                    state["momentum_buffer"] = np.zeros_like(p.data)
                if group["centered"]:
                    state["grad_avg"] = np.zeros_like(p.data)
            state["step"] += 1
            v = state["square_avg"]
            v *= alpha
            v += np.multiply(np.multiply(g, g, out=e), 1 - alpha, out=e)
            if group["centered"]:
                m = state["grad_avg"]
                m *= alpha
                m += np.multiply(g, 1 - alpha, out=e)
                avg = np.sqrt(np.subtract(v, np.multiply(m, m, out=e), out=e), out=e)
            else:
                avg = np.sqrt(v, out=e)
            avg += eps
            if mu > 0:
                buf = state.get("momentum_buffer")
                if buf is None:  # (momentum switched on after the first step)
                    buf = state["momentum_buffer"] = np.zeros_like(p.data)
                buf *= mu
                buf += np.divide(g, avg, out=d)
                _subtract(p, np.multiply(buf, lr, out=d))
            else:
                _subtract(p, np.divide(np.multiply(g, lr, out=d), avg, out=d))
