"""Adam (L2 weight decay folded into the gradient) and AdamW (decoupled weight decay)."""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, _check_range, _subtract


class Adam(Optimizer):
    """PyTorch's Adam: g += wd·θ; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; with ``amsgrad`` v_max =
    max(v_max, v) replaces v; θ -= lr·m̂/(√v̂ + eps) with m̂ = m/(1-β1^t), v̂ = v/(1-β2^t)."""

    _decoupled = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "amsgrad": amsgrad,
                                      "maximize": maximize})

    def _validate(self, group):
        super()._validate(group)
        name = type(self).__name__
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        _check_range(name, "beta parameter at index 0", betas[0], 0.0, 1.0)
        _check_range(name, "beta parameter at index 1", betas[1], 0.0, 1.0)

    def _update(self, group, params: list[Tensor]) -> None:
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        for p in params:
            g = self._grad(p, group["maximize"])  # may be p.grad's own array: never written into
            d, e = self._scratch(p, 0), self._scratch(p, 1)  # reused work space: no temporaries
            if wd != 0 and not self._decoupled:
                g = np.add(np.multiply(p.data, wd, out=d), g, out=d)
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "exp_avg": np.zeros_like(p.data),
                                         "exp_avg_sq": np.zeros_like(p.data)}
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = np.zeros_like(p.data)
            state["step"] += 1
            t = state["step"]
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= b1
            m += np.multiply(g, 1 - b1, out=e)
            v *= b2
            v += np.multiply(np.multiply(g, g, out=e), 1 - b2, out=e)
            if group["amsgrad"]:
                vmax = state.get("max_exp_avg_sq")
                if vmax is None:  # (a state dict loaded from a run without amsgrad)
                    vmax = state["max_exp_avg_sq"] = np.zeros_like(p.data)
                np.maximum(vmax, v, out=vmax)
                v = vmax
            denom = np.sqrt(v, out=e)
            denom /= math.sqrt(1 - b2 ** t)
            denom += eps
            step = np.divide(m, denom, out=e)
            step *= lr / (1 - b1 ** t)
            if wd != 0 and self._decoupled:  # θ·(1 - lr·wd) - step, written once so the version moves by one
                p.copy_(np.subtract(np.multiply(p.data, 1 - lr * wd, out=d), step, out=d))
            else:
                _subtract(p, step)


class AdamW(Adam):
    """PyTorch's AdamW: θ *= 1 - lr·wd (decoupled from the gradient), then the Adam step without L2 in g."""

    _decoupled = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)
