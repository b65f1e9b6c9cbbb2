"""Reductions and the softmax family. ``axis`` is None, an int or a tuple (negatives allowed).

Each backward first reshapes the incoming gradient to keepdims form (``expand``) and
broadcasts it over the reduced axes.
"""
from __future__ import annotations

import math

import numpy as np

from ..engine import unbroadcast
from ..tensor import Tensor
from .base import (
    INPUT,
    OUTPUT,
    Axis,
    Op,
    TensorLike,
    as_float,
    as_tensor_arg,
    dual,
    keepdims_shape,
    normalize_axes,
    normalize_axis,
)
from .elementwise import _exp, _where


def _broadcast_to_np(x, shape):
    """A fresh (writable, owned) array of ``shape`` filled by broadcasting ``x``."""
    out = np.empty(shape, dtype=x.dtype)
    out[...] = x
    return out


class BroadcastTo(Op):
    """Broadcast to a larger shape; backward sums over the stretched axes."""

    name = "broadcast_to"

    def forward(self, a, shape=None):
        self.saved = (np.shape(a),)
        try:
            return np.broadcast_to(a, shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {np.shape(a)} to {shape}") from None

    rule = "∂broadcast(a)/∂a: the gradient summed over the broadcast axes"
    def backward(self, g):
        return unbroadcast(g, self.saved[0])


_broadcast_to = dual(_broadcast_to_np, BroadcastTo, "broadcast_to")


def expand(g, in_shape, axes, keepdims):
    """Gradient of a reduction broadcast back over the reduced axes to the input's shape."""
    if not keepdims:
        g = g.reshape(keepdims_shape(in_shape, axes))
    return _broadcast_to(g, shape=in_shape)


class Sum(Op):
    """Sum over axes; the gradient is broadcast back over the reduced axes."""

    name = "sum"

    def forward(self, a, axis=(), keepdims=False):
        self.saved = (a.shape, axis, keepdims)
        return a.sum(axis=axis, keepdims=keepdims)  # (the method: np.sum's Python wrapper costs a call)

    rule = "∂Σa/∂aᵢ = 1 (the gradient copied to every summed element)"
    def backward(self, g):
        shape, axes, keepdims = self.saved
        return expand(g, shape, axes, keepdims)


class Mean(Op):
    """Mean over axes; the gradient is broadcast back and divided by the group size."""

    name = "mean"

    def forward(self, a, axis=(), keepdims=False):
        self.saved = (a.shape, axis, keepdims)
        return a.mean(axis=axis, keepdims=keepdims)

    rule = "∂mean(a)/∂aᵢ = 1/n (n elements averaged)"
    def backward(self, g):
        shape, axes, keepdims = self.saved
        n = math.prod([shape[i] for i in axes])
        return expand(g, shape, axes, keepdims) / (n or 1)


class Prod(Op):
    """Product; d/da_i = product of the other elements (exact even when some a_j are 0)."""

    name = "prod"

    def forward(self, a, axis=(), keepdims=False):
        self.saved = (INPUT[0], OUTPUT[0], axis, keepdims)
        return np.prod(a, axis=axis, keepdims=keepdims)

    rule = "∂Πa/∂aᵢ = Π_{j≠i} a_j"
    def backward(self, g):
        a, out, axes, keepdims = self.saved
        shape = a.shape
        g_full = expand(g, shape, axes, keepdims)
        a_data = a._data if isinstance(a, Tensor) else a
        if np.all(a_data != 0):
            return g_full * expand(out, shape, axes, keepdims) / a
        return g_full * _prod_of_others(a, axes)


def _prod_of_others(a, axes):
    """For each element, the product of the other elements of its reduction group."""
    shape = a.shape
    kept = [i for i in range(len(shape)) if i not in axes]
    perm = kept + list(axes)
    n = math.prod([shape[i] for i in axes]) if axes else 1
    moved = a.transpose(perm).reshape(tuple(shape[i] for i in kept) + (n,))
    eye = np.eye(n, dtype=bool)
    # rows[..., i, j] = a_j for j != i and 1 on the diagonal; its product over j excludes a_i.
    rows = _where(eye, np.ones((), dtype=a.dtype), _broadcast_to(moved.reshape(moved.shape[:-1] + (1, n)),
                                                                  shape=moved.shape[:-1] + (n, n)))
    others = rows.prod(axis=-1)
    inverse = np.argsort(perm)
    return others.reshape(tuple(shape[i] for i in perm)).transpose(tuple(inverse))


class _Extreme(Op):
    """max/min: the gradient is split evenly among the elements equal to the extreme value."""

    reduce = None

    def forward(self, a, axis=(), keepdims=False):
        if any(a.shape[i] == 0 for i in axis):
            raise ValueError(f"{self.name}: zero-size reduction over axis {axis} of shape {a.shape} has no identity")
        out = type(self).reduce(a, axis=axis, keepdims=keepdims)
        hit = a == (out if keepdims else out.reshape(keepdims_shape(a.shape, axis)))
        share = hit / hit.sum(axis=axis, keepdims=True)
        self.saved = (a.shape, axis, keepdims, share.astype(out.dtype, copy=False))
        return out

    rule = "∂max(a)/∂aᵢ (min alike) = 1/k for the k elements equal to the extreme, else 0"
    def backward(self, g):
        shape, axes, keepdims, share = self.saved
        return expand(g, shape, axes, keepdims) * share


class Max(_Extreme):
    """Maximum over axes; tied maxima share the gradient evenly."""

    name = "max"
    reduce = staticmethod(np.max)


class Min(_Extreme):
    """Minimum over axes; tied minima share the gradient evenly."""

    name = "min"
    reduce = staticmethod(np.min)


class Var(Op):
    """Variance with ``ddof``; d/da = 2 (a - mean) / (n - ddof)."""

    name = "var"

    def forward(self, a, axis=(), keepdims=False, ddof=0):
        self.saved = (INPUT[0], axis, keepdims, ddof)
        return np.var(a, axis=axis, keepdims=keepdims, ddof=ddof)

    rule = "∂var(a)/∂aᵢ = 2(aᵢ − mean(a))/(n − ddof)"
    def backward(self, g):
        a, axes, keepdims, ddof = self.saved
        n = math.prod([a.shape[i] for i in axes])
        centred = a - a.mean(axis=axes, keepdims=True)
        return expand(g, a.shape, axes, keepdims) * centred * (2.0 / (n - ddof))


class Std(Op):
    """Standard deviation with ``ddof``; d/da = (a - mean) / ((n - ddof) std)."""

    name = "std"

    def forward(self, a, axis=(), keepdims=False, ddof=0):
        self.saved = (INPUT[0], OUTPUT[0], axis, keepdims, ddof)
        return np.std(a, axis=axis, keepdims=keepdims, ddof=ddof)

    rule = "∂std(a)/∂aᵢ = (aᵢ − mean(a))/((n − ddof)·std(a))"
    def backward(self, g):
        a, out, axes, keepdims, ddof = self.saved
        n = math.prod([a.shape[i] for i in axes])
        centred = a - a.mean(axis=axes, keepdims=True)
        std = expand(out, a.shape, axes, keepdims)
        flat = np.broadcast_to(np.reshape((out._data if isinstance(out, Tensor) else out) == 0,
                                          keepdims_shape(a.shape, axes)), a.shape)
        if flat.any():  # a group of equal values: gradient 0 there (like PyTorch), not 0 / 0
            flat = flat.astype(centred.dtype)
            return expand(g, a.shape, axes, keepdims) * centred / ((std + flat) * (n - ddof)) * (1 - flat)
        return expand(g, a.shape, axes, keepdims) * centred / (std * (n - ddof))


def _shifted_lse(a, axes):
    """``(m, log(sum(exp(a - m))))`` over ``axes`` with keepdims, m the (finite) max, so exp never overflows
    and ``(a - m) - log_sum`` keeps every digit where ``a - (m + log_sum)`` would round at large |a|."""
    if _short_rows(a, axes):  # NumPy reduces short rows one by one, the leading axis of their transpose at once
        m, log_sum = _shifted_lse(a.reshape(-1, a.shape[-1]).T.copy(), (0,))
        return m.T.reshape(a.shape[:-1] + (1,)), log_sum.T.reshape(a.shape[:-1] + (1,))
    m, finite = finite_max(a, axes)
    if finite:  # every group holds its max, exp(0) = 1: the sum is at least 1
        return m, np.log(np.exp(a - m).sum(axis=axes, keepdims=True))
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer for all -inf (or empty) input
        return m, np.log(np.exp(a - m).sum(axis=axes, keepdims=True))


def finite_max(a, axes):
    """The max over ``axes`` with keepdims, 0 where it is not finite (an all -inf or empty group, an inf, a NaN),
    and whether every one was: the shift that keeps exp(a - m) from overflowing and lets NaN stay NaN."""
    m = a.max(axis=axes, keepdims=True, initial=-np.inf)  # initial: empty groups give -inf, not an error
    if np.logical_and.reduce(np.isfinite(m), axis=None):  # (``.all()`` without its Python wrapper)
        return m, True
    return np.where(np.isfinite(m), m, 0).astype(a.dtype, copy=False), False


def _short_rows(a, axes):
    """Whether ``axes`` is the last axis alone, of at most 32 elements, in 64 rows or more of a C-ordered array:
    there a reduction runs several times faster over the transposed copy (bench/README, "Issue 13, fifth round")."""
    return (a.ndim >= 2 and axes == (a.ndim - 1,) and 0 < a.shape[-1] <= 32 and a.size >= 64 * a.shape[-1]
            and a.flags.c_contiguous)


class LogSumExp(Op):
    """log(sum(exp(a))) computed stably; d/da = softmax(a) over the reduced axes."""

    name = "logsumexp"

    def forward(self, a, axis=(), keepdims=False):
        a = as_float(a)
        m, log_sum = _shifted_lse(a, axis)
        out = (log_sum + m).astype(a.dtype, copy=False)
        if not keepdims:
            out = out.reshape(tuple(s for i, s in enumerate(a.shape) if i not in axis))
        self.saved = (INPUT[0], m, axis, keepdims)
        return out

    rule = "∂logsumexp(a)/∂aᵢ = softmax(a)ᵢ"
    def backward(self, g):
        # softmax(a) as exp(a - m) / sum(exp(a - m)) with the constant shift m: exact at any |a| and any order
        a, m, axes, keepdims = self.saved
        e = _exp(a - m)
        return expand(g, a.shape, axes, keepdims) * (e / e.sum(axis=axes, keepdims=True))


class Softmax(Op):
    """exp(a) / sum(exp(a)) along one axis; d/da = s (g - sum(g s))."""

    name = "softmax"

    def forward(self, a, axis=-1):
        a = as_float(a)
        m = np.max(a, axis=axis, keepdims=True, initial=-np.inf)
        e = np.exp(a - np.where(np.isfinite(m), m, 0))  # an inf or all -inf group: NumPy's NaN/0, not all NaN
        self.saved = (OUTPUT[0], axis)
        return e / np.sum(e, axis=axis, keepdims=True)

    rule = "∂sᵢ/∂a_j = sᵢ(δᵢⱼ − s_j): ∂L/∂a = s ⊙ (g − Σ g ⊙ s)"
    def backward(self, g):
        s, axis = self.saved
        gs = g * s
        return gs - s * gs.sum(axis=axis, keepdims=True)


class LogSoftmax(Op):
    """a - logsumexp(a) along one axis; d/da = g - softmax(a) sum(g)."""

    name = "log_softmax"

    def forward(self, a, axis=-1):
        a = as_float(a)
        self.saved = (OUTPUT[0], axis)
        m, log_sum = _shifted_lse(a, (axis,))
        return ((a - m) - log_sum).astype(a.dtype, copy=False)

    rule = "∂log sᵢ/∂a_j = δᵢⱼ − s_j: ∂L/∂a = g − s·Σg"
    def backward(self, g):
        out, axis = self.saved
        return g - _exp(out) * g.sum(axis=axis, keepdims=True)


# ----------------------------------------------------------------------------- public functions


def _reduction(op_cls, doc):
    def fn(x, axis=None, keepdims=False):
        x = as_tensor_arg(x, op_cls.name)
        return op_cls.apply(x, axis=normalize_axes(op_cls.name, axis, x.ndim), keepdims=bool(keepdims))

    fn.__name__ = fn.__qualname__ = op_cls.name
    fn.__doc__ = doc
    fn.__annotations__ = {"x": TensorLike, "axis": Axis, "keepdims": bool, "return": Tensor}
    return fn


sum = _reduction(Sum, "Sum over ``axis`` (None = all axes).")
mean = _reduction(Mean, "Arithmetic mean over ``axis``.")
prod = _reduction(Prod, "Product over ``axis``.")
max = _reduction(Max, "Maximum over ``axis``; the gradient is shared evenly among tied maxima.")
min = _reduction(Min, "Minimum over ``axis``; the gradient is shared evenly among tied minima.")
logsumexp = _reduction(LogSumExp, "log(sum(exp(x))) over ``axis``, stable for large values.")


def var(x: TensorLike, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom (NumPy's definition)."""
    x = as_tensor_arg(x, "var")
    axes = normalize_axes("var", axis, x.ndim)
    _check_ddof("var", x, axes, ddof)
    return Var.apply(x, axis=axes, keepdims=bool(keepdims), ddof=ddof)


def std(x: TensorLike, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation over ``axis`` with ``ddof`` (NumPy's definition)."""
    x = as_tensor_arg(x, "std")
    axes = normalize_axes("std", axis, x.ndim)
    _check_ddof("std", x, axes, ddof)
    return Std.apply(x, axis=axes, keepdims=bool(keepdims), ddof=ddof)


def _check_ddof(name, x, axes, ddof):
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)):
        raise TypeError(f"{name}: ddof must be an int, got {ddof!r}")
    if ddof < 0:
        raise ValueError(f"{name}: ddof must be non-negative, got {ddof}")
    n = math.prod([x.shape[i] for i in axes])
    if ddof >= n:
        raise ValueError(f"{name}: ddof={ddof} needs more than {ddof} elements per reduction, "
                         f"but axis {axes} of shape {x.shape} has {n}")


def softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (shifted by the max, so large inputs do not overflow)."""
    x = as_tensor_arg(x, "softmax")
    return Softmax.apply(x, axis=normalize_axis("softmax", axis, x.ndim))


def log_softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """log(softmax(x)) along ``axis``, computed as x - logsumexp(x) for stability."""
    x = as_tensor_arg(x, "log_softmax")
    return LogSoftmax.apply(x, axis=normalize_axis("log_softmax", axis, x.ndim))


def broadcast_to(x: TensorLike, shape: int | tuple[int, ...]) -> Tensor:
    """Broadcast ``x`` to ``shape`` (NumPy rules); the gradient is summed back."""
    items = (shape,) if isinstance(shape, (int, np.integer)) else shape
    if isinstance(items, (str, bytes)) or not isinstance(items, (tuple, list)) or any(
            isinstance(s, (bool, np.bool_, np.timedelta64)) or not isinstance(s, (int, np.integer)) for s in items):
        raise TypeError(f"broadcast_to: shape must be an int or a tuple of ints, got {shape!r}")
    shape = tuple(int(s) for s in items)
    if any(s < 0 for s in shape):
        raise ValueError(f"broadcast_to: negative dimension in shape {shape}")
    return BroadcastTo.apply(as_tensor_arg(x, "broadcast_to"), shape=shape)


def argmax(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the maximum (first on ties) as an int Tensor; no gradient."""
    return _arg(np.argmax, "argmax", x, axis, keepdims)


def argmin(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the minimum (first on ties) as an int Tensor; no gradient."""
    return _arg(np.argmin, "argmin", x, axis, keepdims)


def _arg(fn, name, x, axis, keepdims):
    data = x._data if isinstance(x, Tensor) else as_tensor_arg(x, name)
    if axis is not None:
        axis = normalize_axis(name, axis, data.ndim)
    if data.size == 0:
        raise ValueError(f"{name}: attempt to get {name} of an empty tensor")
    return Tensor._wrap(np.asarray(fn(data, axis=axis, keepdims=keepdims)))
