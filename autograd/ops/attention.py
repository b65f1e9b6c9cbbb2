"""The softmax attention needs: ``masked_softmax`` over the last axis, where fully masked rows are zeros."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import SAVE_OUTPUT, Op, TensorLike, as_tensor_arg


class MaskedSoftmax(Op):
    """Softmax over the last axis where ``keep`` is True (and the score is not -inf); 0 elsewhere.

    A row with nothing kept is all zeros. d/da = s (g - sum(g s)), which is 0 wherever s is 0.
    """

    name = "masked_softmax"
    rule = "∂sᵢ/∂aⱼ = sᵢ(δᵢⱼ − sⱼ) over kept keys; sᵢ = 0 (and its gradient 0) where masked"

    def forward(self, a, keep=None):
        if keep is not None:
            a = np.where(keep, a, -np.inf)
        m = np.max(a, axis=-1, keepdims=True, initial=-np.inf)  # initial: an empty last axis is allowed
        m = np.where(np.isfinite(m), m, 0).astype(a.dtype, copy=False)
        e = np.exp(a - m)
        total = np.sum(e, axis=-1, keepdims=True)
        self.saved = SAVE_OUTPUT
        return e / np.where(total > 0, total, 1).astype(a.dtype, copy=False)

    def backward(self, g):
        (s,) = self.saved
        gs = g * s
        return gs - s * gs.sum(axis=-1, keepdims=True)


def masked_softmax(x: TensorLike, keep=None) -> Tensor:
    """Softmax of ``x`` over the last axis, only over entries where the boolean ``keep`` (broadcast to x's
    shape) is True and x is not -inf; rows with nothing left are all zeros (no NaN, zero gradient)."""
    x = as_tensor_arg(x, "masked_softmax")
    if x.ndim == 0:
        raise ValueError("masked_softmax: input must have at least one dimension, got a 0-d tensor")
    if x.dtype.kind != "f":
        raise TypeError(f"masked_softmax: expected a floating-point input, got dtype {x.dtype}")
    if keep is not None:
        keep = np.asarray(keep._data if isinstance(keep, Tensor) else keep)
        if keep.dtype != np.bool_:
            raise TypeError(f"masked_softmax: keep must be a boolean mask, got dtype {keep.dtype}")
        try:
            keep = np.broadcast_to(keep, x.shape)
        except ValueError:
            raise ValueError(f"masked_softmax: keep mask of shape {keep.shape} does not broadcast to the "
                             f"input's shape {x.shape}") from None
    return MaskedSoftmax.apply(x, keep=keep)
