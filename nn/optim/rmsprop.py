"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, _check_nonneg, _check_range


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
            g = self._grad(p, group["maximize"])
            if wd != 0:
                g = g + wd * p.data
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
            v += (1 - alpha) * (g * g)
            if group["centered"]:
                m = state["grad_avg"]
                m *= alpha
                m += (1 - alpha) * g
                avg = np.sqrt(v - m * m)
            else:
                avg = np.sqrt(v)
            avg += eps
            if mu > 0:
                buf = state.setdefault("momentum_buffer", np.zeros_like(p.data))
                buf *= mu
                buf += g / avg
                p.sub_(lr * buf)
            else:
                p.sub_(lr * g / avg)
