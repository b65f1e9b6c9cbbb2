"""Matrix products: batched, broadcasting ``matmul`` (NumPy's rules, 1-D operands included)."""
from __future__ import annotations

import numpy as np

from .base import Op, as_tensor_arg


def _swap_last(x):
    return x.swapaxes(-1, -2)


class Matmul(Op):
    """a @ b; d/da = g @ bᵀ, d/db = aᵀ @ g (batch axes are summed back by the engine)."""

    name = "matmul"

    def forward(self, a, b):
        self.saved = (a, b)
        return np.matmul(a, b)

    def backward(self, g):
        a, b = self.saved
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if self.needs_grad(0) else None), (g * a if self.needs_grad(1) else None)
        # Promote 1-D operands to matrices the way NumPy does, and g to match.
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))
        ga = gb = None
        if self.needs_grad(0):
            ga = g @ _swap_last(b2)
            if a.ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if self.needs_grad(1):
            gb = _swap_last(a2) @ g
            if b.ndim == 1:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb


def matmul(a, b):
    """Matrix product with NumPy's rules: batch axes broadcast, 1-D operands are promoted."""
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align ({k_a} != {k_b})")
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of shapes {a.shape} and {b.shape} cannot be broadcast") from None
    return Matmul.apply(a, b)
