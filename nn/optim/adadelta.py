"""Adadelta: step sizes from the ratio of running RMS of past updates to running RMS of gradients."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, _check_range, _subtract


class Adadelta(Optimizer):
    """PyTorch's Adadelta: g += wd·θ; v = ρ·v + (1-ρ)·g²; Δ = √(u + eps)/√(v + eps)·g;
    u = ρ·u + (1-ρ)·Δ²; θ -= lr·Δ."""

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False):
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize})

    def _validate(self, group):
        super()._validate(group)
        _check_range("Adadelta", "rho", group["rho"], 0.0, 1.0, hi_open=False)

    def _update(self, group, params: list[Tensor]) -> None:
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        for p in params:
            g = self._grad(p, group["maximize"])  # may be p.grad's own array: never written into
            d, e, f = self._scratch(p, 0), self._scratch(p, 1), self._scratch(p, 2)  # reused: no temporaries
            if wd != 0:
                g = np.add(np.multiply(p.data, wd, out=d), g, out=d)
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": np.zeros_like(p.data),
                                         "acc_delta": np.zeros_like(p.data)}
            state["step"] += 1
            v, u = state["square_avg"], state["acc_delta"]
            v *= rho
            v += np.multiply(np.multiply(g, g, out=e), 1 - rho, out=e)
            delta = np.sqrt(np.add(u, eps, out=e), out=e)
            delta /= np.sqrt(np.add(v, eps, out=f), out=f)
            delta *= g
            u *= rho
            u += np.multiply(np.multiply(delta, delta, out=f), 1 - rho, out=f)
            _subtract(p, np.multiply(delta, lr, out=delta))
