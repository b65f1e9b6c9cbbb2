"""``linear``, the affine map x Wᵀ + b, as one node (what ``nn.Linear`` records), instead of a transpose,
a matmul and a broadcast add; its gradients are made directly in their final shapes, so none needs a copy or a sum."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .base import INPUT, Op, TensorLike, as_tensor_arg


class Linear(Op):
    """x Wᵀ + b, x of shape (..., in), W (out, in), b (out,); d/dx = g W, d/dW = gᵀx and d/db = Σ g over
    the leading axes of x."""

    name = "linear"
    rule = "d/dx = g·W, d/dW = gᵀ·x (leading axes summed), d/db = Σ g"

    def forward(self, x, w, b=None):
        self.saved = (INPUT[0], INPUT[1])
        if x.ndim > 2:  # one (batch·…, in) @ (in, out) product: a single BLAS call
            out = np.matmul(x.reshape(math.prod(x.shape[:-1]), w.shape[1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            out = np.matmul(x, w.T)
        if b is None:
            return out
        if b.dtype == out.dtype:
            return np.add(out, b, out=out)  # out is fresh: add the bias in place
        return out + b

    def backward(self, g):
        x, w = self.saved
        n_out, n_in = w.shape
        rows = math.prod(x.shape[:-1])  # every leading axis of x is a row of the batch (explicit: sizes may be 0)
        g2 = g.reshape(rows, n_out)
        gw = g2.T @ x.reshape(rows, n_in) if self.needs_grad(1) else None
        if len(self._inputs) == 3:
            gb = g2.sum(axis=0) if self.needs_grad(2) else None
        # gx last, so it is still in cache for the next node's backward (about 1% of an MLP step)
        gx = (g2 @ w).reshape(x.shape) if self.needs_grad(0) else None  # (a single BLAS call too)
        return (gx, gw) if len(self._inputs) == 2 else (gx, gw, gb)


def linear(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None) -> Tensor:
    """``x @ weight.T + bias`` as one node; ``weight`` (out_features, in_features), ``bias`` (out_features,)."""
    x, w = as_tensor_arg(x, "linear"), as_tensor_arg(weight, "linear")
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input shape {x.shape} does not match weight shape {w.shape} "
                         f"(the input's last dimension must be in_features={w.shape[1]})")
    if bias is None:
        return Linear.apply(x, w)
    b = as_tensor_arg(bias, "linear")
    if b.shape != (w.shape[0],):
        raise ValueError(f"linear: bias shape {b.shape} does not match weight shape {w.shape} "
                         f"(expected ({w.shape[0]},))")
    return Linear.apply(x, w, b)
