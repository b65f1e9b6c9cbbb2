"""The ops of the class-index losses (``cross_entropy``, ``nll_loss``): picking each row's target class, and
softmax cross-entropy as one node. Both take the targets as an input, check their range on every call (a
captured replay included) and are registered, so the property tests gradcheck them to second order."""
from __future__ import annotations

import numpy as np

from autograd.op import INPUT, Op
from autograd.ops.base import as_float
from autograd.ops.elementwise import _exp
from autograd.ops.index import _scatter_add  # getitem's backward: the same values, recorded under create_graph
from autograd.ops.reduce import _short_rows, finite_max
from autograd.tensor import Tensor


def check_class_range(t: np.ndarray, x_shape: tuple, fn: str, ignore_index: int | None) -> None:
    """ValueError naming ``fn`` unless every class index (but ``ignore_index``) lies in [0, C)."""
    c = x_shape[1] if len(x_shape) >= 2 else x_shape[0]
    check = t if ignore_index is None else t[t != ignore_index]
    if check.size and (check.min() < 0 or check.max() >= c):
        bad = np.unique(check[(check < 0) | (check >= c)])
        raise ValueError(f"{fn}: target class indices must be in [0, {c}) for input shape {x_shape}, got "
                         f"{bad[:5].tolist()}" + ("" if ignore_index is None else f" (ignore_index={ignore_index})"))


def _targets(name, a, target, ignore_index, fn, x_shape):
    """(rows, classes) picking each row's target of a (M, C) ``a``, class 0 where it is ``ignore_index``; 1 where
    a row counts and 0 where not (in ``a``'s dtype; None when every row counts), and whether all do; the counted
    targets checked to lie in [0, C) (errors name ``fn`` and ``x_shape``)."""
    if a.ndim != 2 or target.size != a.shape[0]:
        raise ValueError(f"{name}: expects (M, C) values and M targets, got shapes {a.shape} and {target.shape}")
    tf, c = target.reshape(-1), a.shape[1]
    can_ignore = ignore_index is not None and 0 <= ignore_index < c
    if tf.size and not can_ignore and _all_below(tf, c):  # the common case: every row counts
        return (np.arange(tf.shape[0]), tf), None, True
    valid = tf != ignore_index
    every = valid.all()
    check = tf if every else tf[valid]
    if check.size and (check.min() < 0 or check.max() >= c):
        check_class_range(target, a.shape if x_shape is None else x_shape, fn, ignore_index)  # raises, naming them
    return (np.arange(tf.shape[0]), tf if every else np.where(valid, tf, 0)), valid.astype(a.dtype), every


def _all_below(t: np.ndarray, c: int) -> bool:
    """Whether every class index in ``t`` lies in [0, c), with one max: viewed as unsigned, a negative is huge."""
    if t.dtype.kind == "i":
        t = t.view(t.dtype.str.replace("i", "u"))  # (same size and byte order)
    elif t.dtype.kind != "u":
        return bool(t.min() >= 0 and t.max() < c)
    return bool(t.max() < c)


class ClassPick(Op):
    """``a[n, target[n]]`` for a (M, C) ``a`` and M class indices (any shape), ``a[n, 0]`` where the target is
    ``ignore_index``; and, as a second output without gradient, 1 where the target counts and 0 where it is
    ignored (in ``a``'s dtype). The target is an input, so a captured replay reads each call's targets and checks
    their range (an error names ``fn`` and the loss's input shape ``x_shape``). The backward adds the gradient
    at the picked places, as ``getitem``'s does."""

    name = "class_pick"

    def forward(self, a, target, ignore_index=-100, fn="class_pick", x_shape=None):
        index, counted, every = _targets(self.name, a, target, ignore_index, fn, x_shape)
        self.saved = (a.shape, index)
        return a[index], (np.ones(target.size, dtype=a.dtype) if every else counted)

    rule = "∂a[n, tₙ]/∂a = 1 at the picked element of each row, 0 elsewhere"
    def backward(self, g, g_counted):
        shape, index = self.saved
        if g is None:
            return None, None
        return _scatter_add(g, shape=shape, index=index, basic=False), None


class SoftmaxCrossEntropy(Op):
    """Cross-entropy of (M, C) scores ``z`` against M class indices in one node: −log softmax(z)[n, tₙ] per row
    (0 for a row whose target is ``ignore_index``), summed, averaged over the counted rows (NaN when none
    counts, with a zero gradient, as PyTorch), or per row: what ``cross_entropy`` computes without class
    weights or smoothing."""

    name = "softmax_cross_entropy"

    def forward(self, z, target, ignore_index=-100, reduction="mean", fn="cross_entropy", x_shape=None):
        z = as_float(z)
        index, counted, every = _targets(self.name, z, target, ignore_index, fn, x_shape)
        # Short rows (few classes, many rows) are reduced down the columns of a transposed copy, where NumPy is
        # several times faster (``_short_rows``); ``axis`` is the class axis of ``w`` and ``at`` picks the targets.
        axis = 0 if _short_rows(z, (1,)) else 1
        w, at = (z.T.copy(), index[::-1]) if axis == 0 else (z, index)
        m, finite = finite_max(w, (axis,))
        shifted = w - m
        e = np.exp(shifted)  # at most 1: no overflow
        s = e.sum(axis=axis, keepdims=True)  # at least 1 where the row's max is finite
        if finite:
            log_s, softmax = np.log(s), np.divide(e, s, out=e)
        else:  # an all -inf row: log(0) = -inf and 0 / 0 = NaN are the right answers there
            with np.errstate(divide="ignore", invalid="ignore"):
                log_s, softmax = np.log(s), np.divide(e, s, out=e)
        losses = log_s.reshape(-1) - shifted[at]  # −log softmax at the target, every digit of (z − m) kept
        if not every:
            losses = losses * counted
        one = z.dtype.type(1)
        if reduction == "none":
            per_row, out = (one if every else counted), losses
        elif reduction == "sum":
            per_row, out = (one if every else counted), losses.sum()
        else:
            n = z.dtype.type(index[1].size) if every else counted.sum()  # (the same scalar the sum gives)
            if n:
                per_row, out = (one / n if every else counted / n), losses.sum() / n
            else:  # no row counts: a NaN mean (0 / 0) and a zero gradient, as PyTorch
                with np.errstate(invalid="ignore"):
                    per_row, out = counted, losses.sum() / n
        # softmax for a plain backward; z and the constant shift m (softmax does not depend on it) for a recorded one
        self.saved = (INPUT[0], m.reshape(-1, 1), index, per_row, softmax, axis)
        return np.asarray(out, dtype=z.dtype)

    rule = "∂L/∂zₙ = (softmax(zₙ) − onehot(tₙ))·g, per counted row (÷ their number for the mean)"
    def backward(self, g):
        z, m, index, per_row, softmax, axis = self.saved
        scale = per_row * g  # one number (every row counts, a reduced loss) or one per row
        if isinstance(g, Tensor):  # recorded (create_graph): softmax again from z, so its own derivative is too
            e = _exp(z - m)
            onehot = np.zeros(z.shape, dtype=z.dtype)
            onehot[index] = 1
            return (e / e.sum(axis=1, keepdims=True) - onehot) * scale.reshape(-1, 1), None
        if axis == 0:  # softmax is (classes, rows) (see forward): the gradient is its transpose
            grad = softmax * scale
            grad[index[::-1]] -= scale
            return grad.T, None
        grad = softmax * (scale if np.ndim(scale) == 0 else scale.reshape(-1, 1))
        grad[index] -= scale
        return grad, None


# ----------------------------------------------------------------------------- registry entries


def _pick_targets(shape):
    """Class indices for a (M, C) input, one of them ignore_index (-100) when M > 1 (zeros for other ranks)."""
    if len(shape) != 2:
        return np.zeros(shape[:1], dtype=np.int64)
    t = np.arange(shape[0]) % shape[1]
    if t.size > 1:
        t[1] = -100
    return t


def _pick_reference(a):
    t = _pick_targets(a.shape)
    return a[np.arange(t.size), np.where(t == -100, 0, t)]


def _cross_entropy_reference(a, reduction):
    """The same loss in NumPy: log_softmax by log-sum-exp, the ignored row left out."""
    t = _pick_targets(a.shape)
    logp = a - a.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    counted = t != -100
    losses = np.where(counted, -logp[np.arange(t.size), np.where(counted, t, 0)], 0.0)
    return {"none": losses, "sum": losses.sum(), "mean": losses.sum() / counted.sum()}[reduction]


def _register():
    from autograd.registry import REAL, OpEntry, register

    two_d = {"min_ndim": 2, "max_ndim": 2}
    register(OpEntry("class_pick", "one target ignored", lambda a: ClassPick.apply(a, _pick_targets(a.shape))[0],
                     (REAL,), "index", (ClassPick,), shape_opts=two_d, reference=_pick_reference))
    for reduction in ("mean", "sum", "none"):
        register(OpEntry(
            "softmax_cross_entropy", f"{reduction}, one target ignored",
            lambda a, r=reduction: SoftmaxCrossEntropy.apply(a, _pick_targets(a.shape), reduction=r),
            (REAL,), "index", (SoftmaxCrossEntropy,), shape_opts=two_d,
            reference=lambda a, r=reduction: _cross_entropy_reference(a, r)))


_register()
