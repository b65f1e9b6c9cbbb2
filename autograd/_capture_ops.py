"""Ops with effects a captured replay must redo (``autograd.capture``): random draws, dropout masks and the
running statistics of batch normalisation, recorded as ops so every replay draws and updates afresh."""
from __future__ import annotations

import numpy as np

from .op import Op


class Draw(Op):
    """Random numbers from the shared generator (``rand``/``randn``), as an op so a replay draws afresh."""

    name = "draw"

    def forward(self, *, method, shape, draw_dtype, dtype):
        from .random import generator

        return getattr(generator(), method)(shape, dtype=draw_dtype).astype(dtype, copy=False)

    def backward(self, g):
        raise RuntimeError("draw: random numbers have no gradient")


class DropoutMask(Op):
    """The inverted-dropout mask: 1/(1-p) where a uniform draw is >= p, else 0 (drawn afresh on a replay)."""

    name = "dropout_mask"

    def forward(self, *, shape, p, dtype):
        from .random import generator

        dtype = np.dtype(dtype)
        keep = generator().random(shape, dtype=np.float32 if dtype == np.float32 else np.float64) >= p
        return keep.astype(dtype) * np.asarray(1.0 / (1.0 - p), dtype=dtype)

    def backward(self, g):
        raise RuntimeError("dropout_mask: a random mask has no gradient")


class StatWrite(Op):
    """Write ``value`` into the array ``target`` in place (a running statistic), as an op a replay repeats."""

    name = "stat_write"

    def forward(self, target, value):
        np.copyto(target, np.broadcast_to(value, target.shape), casting="unsafe")
        return np.empty(0, dtype=target.dtype)

    def backward(self, g):
        raise RuntimeError("stat_write: an in-place write of a statistic has no gradient")


CAPTURE_OPS = frozenset({Draw, DropoutMask, StatWrite})
