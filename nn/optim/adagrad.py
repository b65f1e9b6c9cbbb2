"""Adagrad: per-coordinate learning rates scaled by the root of the summed squared gradients."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, _check_nonneg, _subtract


class Adagrad(Optimizer):
    """PyTorch's Adagrad: clr = lr / (1 + (t-1)·lr_decay); g += wd·θ; s += g²; θ -= clr·g / (√s + eps)."""

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False):
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                      "initial_accumulator_value": initial_accumulator_value, "eps": eps,
                                      "maximize": maximize})

    def _validate(self, group):
        super()._validate(group)
        _check_nonneg("Adagrad", "lr_decay", group["lr_decay"])
        _check_nonneg("Adagrad", "initial_accumulator_value", group["initial_accumulator_value"])

    def _init_state(self, p, group):
        if p not in self.state:
            self.state[p] = {"step": 0, "sum": np.full(p.shape, group["initial_accumulator_value"], dtype=p.dtype)}
        return self.state[p]

    def add_param_group(self, param_group):
        """Add a group and create its accumulators up front, as PyTorch does."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group)

    def _update(self, group, params: list[Tensor]) -> None:
        lr, decay, wd, eps = group["lr"], group["lr_decay"], group["weight_decay"], group["eps"]
        for p in params:
            state = self._init_state(p, group)
            state["step"] += 1
            g = self._grad(p, group["maximize"])  # may be p.grad's own array: never written into
            d, e = self._scratch(p, 0), self._scratch(p, 1)  # reused work space: no temporaries
            if wd != 0:
                g = np.add(np.multiply(p.data, wd, out=d), g, out=d)
            clr = lr / (1 + (state["step"] - 1) * decay)
            s = state["sum"]
            s += np.multiply(g, g, out=e)
            denom = np.sqrt(s, out=e)
            denom += eps
            _subtract(p, np.divide(np.multiply(g, clr, out=d), denom, out=d))
