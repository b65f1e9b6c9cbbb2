"""Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd import Tensor

from .optimizer import Optimizer, _check_nonneg, _subtract


class SGD(Optimizer):
    """PyTorch's SGD: g += wd·θ; b = μ·b + (1-τ)·g (b = g at the first step); g = g + μ·b if nesterov else b;
    θ -= lr·g. ``maximize`` negates the gradient before weight decay."""

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                                      "nesterov": nesterov, "maximize": maximize})

    def _validate(self, group):
        super()._validate(group)
        _check_nonneg("SGD", "momentum", group["momentum"])
        _check_nonneg("SGD", "dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum="
                             f"{group['momentum']}, dampening={group['dampening']}")

    def _update(self, group, params: list[Tensor]) -> None:
        lr, mu, tau, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        if mu == 0 and wd == 0 and not group["maximize"]:  # plain SGD, θ -= lr·g: the loop below with nothing else
            for p in params:  # (``_grad`` and ``_subtract`` written out: one call per parameter fewer each)
                data, g = p._data, p.grad._data
                if g.dtype != data.dtype:
                    g = g.astype(data.dtype)
                np.subtract(data, np.multiply(g, lr, out=self._scratch(p)), out=data)
                p._updated()
            return
        for p in params:
            g = self._grad(p, group["maximize"])  # may be p.grad's own array: never written into
            d = self._scratch(p)  # reused work space, so the update allocates no temporaries
            if wd != 0:
                g = np.add(np.multiply(p.data, wd, out=d), g, out=d)
            if mu != 0:
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype, copy=True)
                else:
                    buf *= mu
                    buf += g if tau == 0 else np.multiply(g, 1 - tau, out=d)  # (nesterov has tau == 0)
                if not group["nesterov"]:
                    g = buf
                elif g is d:  # weight decay already fills the work space
                    g = np.add(d, np.multiply(buf, mu, out=self._scratch(p, 1)), out=d)
                else:
                    g = np.add(np.multiply(buf, mu, out=d), g, out=d)
            _subtract(p, np.multiply(g, lr, out=d))
