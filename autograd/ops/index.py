"""Indexing: basic and advanced ``t[index]``; the backward scatter-adds, so repeated
indices accumulate their gradients."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import Op, TensorLike, as_index_array, as_tensor_arg, dual, normalize_axis

_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def _plain_index(index):
    """Index with Tensors replaced by their arrays and lists by arrays (NumPy semantics)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, list):
        return as_index_array([i._data if isinstance(i, Tensor) else i for i in index], "getitem", "an index")
    return index


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, _BASIC) and not isinstance(i, bool) for i in items)


def _scatter_add_np(g, shape=(), index=(), basic=False):
    out = np.zeros(shape, dtype=g.dtype)
    if basic:
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


class Getitem(Op):
    """x[index]; backward adds the gradient into zeros of x's shape at the same index."""

    name = "getitem"

    def forward(self, a, index=(), basic=False):
        try:
            out = a[index]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor of shape {a.shape})") from None
        except ValueError as e:  # a zero slice step
            raise ValueError(f"getitem: {e} (tensor of shape {a.shape})") from None
        self.saved = (a.shape, index, basic)
        return out

    rule = "∂a[idx]/∂a = 1 at the selected elements, 0 elsewhere (repeats add up)"
    def backward(self, g):
        shape, index, basic = self.saved
        return _scatter_add(g, shape=shape, index=index, basic=basic)


class ScatterAdd(Op):
    """zeros(shape) with g added at ``index`` (the backward of Getitem); its backward is g[index]."""

    name = "scatter_add"

    def forward(self, g, shape=(), index=(), basic=False):
        self.saved = (index,)
        return _scatter_add_np(g, shape=shape, index=index, basic=basic)

    rule = "∂scatter_add(a, idx, v)/∂a = 1, ∂/∂v = the gradient gathered at idx"
    def backward(self, gg):
        return gg[self.saved[0]]


_scatter_add = dual(_scatter_add_np, ScatterAdd, "scatter_add")


def getitem(x: TensorLike, index) -> Tensor:
    """``x[index]`` with NumPy's basic and advanced indexing; differentiable."""
    x = as_tensor_arg(x, "getitem")
    index = _plain_index(index)
    return Getitem.apply(x, index=index, basic=_is_basic(index))


def scatter_add(g: TensorLike, shape: tuple[int, ...], index) -> Tensor:
    """A tensor of zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    index = _plain_index(index)
    g = as_tensor_arg(g, "scatter_add")
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(isinstance(s, (int, np.integer)) for s in shape):
        raise TypeError(f"scatter_add: shape must be a tuple of ints, got {shape!r}")
    shape = tuple(int(s) for s in shape)
    try:
        target = np.broadcast_to(np.zeros((), bool), shape)[index]  # zero-stride: only the index result is made
    except IndexError as e:
        raise IndexError(f"scatter_add: {e} (target shape {shape})") from None
    if not _broadcastable(g.shape, target.shape) or np.broadcast_shapes(g.shape, target.shape) != target.shape:
        raise ValueError(f"scatter_add: values of shape {g.shape} do not fit the indexed part of shape "
                         f"{target.shape} of a tensor of shape {shape}")
    return ScatterAdd.apply(g, shape=shape, index=index, basic=_is_basic(index))


def _broadcastable(a, b):
    """Whether shapes ``a`` and ``b`` broadcast together."""
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def take(x: TensorLike, indices, axis: int | None = None) -> Tensor:
    """``np.take``: elements at integer ``indices`` along ``axis`` (flattened when None)."""
    x = as_tensor_arg(x, "take")
    idx = as_index_array(indices, "take", "indices")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take: indices must be integers, got {idx.dtype}")
    if axis is None:
        x, axis = x.reshape(-1), 0  # flattened (a Tensor or an ndarray: both have reshape)
    axis = normalize_axis("take", axis, x.ndim)
    return getitem(x, (slice(None),) * axis + (idx,))
