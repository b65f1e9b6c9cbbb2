"""Gradient clipping (seed T11): rescale or clamp parameters' ``.grad`` in place before an optimiser step.

Writes go through the tracked ``Tensor.copy_`` (so they bump the gradient's version); a gradient that is
read-only, such as one recorded by ``backward(create_graph=True)``, is replaced by a new, detached Tensor.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd import Tensor, from_numpy, no_grad
from autograd.checks import number

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters: Tensor | Iterable[Tensor], fn: str) -> list[Tensor]:
    """The parameters that have a gradient (a single Tensor is accepted too)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    if isinstance(parameters, (str, bytes)) or not hasattr(parameters, "__iter__"):
        raise TypeError(f"{fn}: expected a Tensor or an iterable of Tensors, got {type(parameters).__name__}")
    out = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: expected Tensors, got {type(p).__name__} at position {i}")
        if p.grad is not None:
            out.append(p)
    return out


def _write_grad(p: Tensor, values) -> None:
    """Set ``p.grad`` to ``values`` in place (tracked), or replace it if it is recorded or read-only."""
    g = p.grad
    if g.grad_fn is None and g.data.flags.writeable:
        with no_grad():
            g.copy_(values)
    else:  # e.g. a create_graph gradient: cut it from its graph rather than write into a recorded value
        p.grad = from_numpy(np.array(np.broadcast_to(values, g.shape), dtype=g.dtype))


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float | str = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint ``norm_type`` norm is at most ``max_norm``; return that norm.

    The joint norm is the norm of the vector of per-parameter norms (``inf`` = largest absolute entry);
    gradients are multiplied by ``max_norm / (norm + 1e-6)`` when that is below 1, as in PyTorch.
    """
    if isinstance(norm_type, str) and norm_type.lower() in ("inf", "+inf", "infinity"):
        norm_type = math.inf
    p = number(norm_type, "norm_type", "clip_grad_norm_", low=0, low_open=True, finite=False)
    max_norm = number(max_norm, "max_norm", "clip_grad_norm_", low=0, finite=False)
    params = _with_grads(parameters, "clip_grad_norm_")
    grads = [p.grad.data for p in params]
    if not grads:
        return from_numpy(np.array(0.0, dtype=np.float32))
    dtype = np.result_type(*grads)
    largest = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    if math.isinf(p) or largest == 0 or not math.isfinite(largest):
        total = largest
    else:  # scaled by the largest magnitude first, so squaring 1e200 does not overflow to inf
        norms = np.array([np.linalg.norm(g.ravel().astype(np.float64) / largest, ord=p) for g in grads])
        total = float(np.linalg.norm(norms, ord=p)) * largest
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total {p}-norm of the gradients is {total}, so they cannot be "
                           "clipped; set error_if_nonfinite=False to proceed anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p, g in zip(params, grads):
            _write_grad(p, g * coef)
    return from_numpy(np.array(total, dtype=dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]`` in place."""
    c = number(clip_value, "clip_value", "clip_grad_value_", low=0, finite=False)
    for p in _with_grads(parameters, "clip_grad_value_"):
        _write_grad(p, np.clip(p.grad.data, -c, c))
