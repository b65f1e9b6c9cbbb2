"""Adadelta: step sizes from the ratio of running RMS of past updates to running RMS of gradients."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, _check_range


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
            g = self._grad(p, group["maximize"])
            if wd != 0:
                g = g + wd * p.data
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": np.zeros_like(p.data),
                                         "acc_delta": np.zeros_like(p.data)}
            state["step"] += 1
            v, u = state["square_avg"], state["acc_delta"]
            v *= rho
            v += (1 - rho) * (g * g)
            delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * (delta * delta)
            p.sub_(lr * delta)
