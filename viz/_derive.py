"""Per op family, how one input's gradient is made from the received gradient ``g``: the operand or factor the
local derivative uses, its value, and the product — written out for matmul/linear, reductions, shape ops and
softmax. Each formatter also computes its product with NumPy from the node's own values; a line is shown only
when that product equals the gradient the engine sent, so a caption never states a value that did not happen.
"""
from __future__ import annotations

import numpy as np

from ._format import one_line, shape_text, summary_text
from ._walk import TENSORS, input_items, output_data


def _t(a):
    """Transpose of the last two axes (a 1-D array stays as it is)."""
    a = np.asarray(a)
    return np.swapaxes(a, -1, -2) if a.ndim >= 2 else a


def _v(arr, mx):
    return one_line(summary_text(arr, mx))


def _kept(g, op):
    """``g`` with the reduced axes of a sum/mean put back as size-1 axes (so it broadcasts to the input)."""
    axes = op.params.get("axis", ())
    if op.params.get("keepdims"):
        return g
    return np.expand_dims(g, tuple(axes)) if axes else g


def _matmul(op, i, g, vals, out, names, mx):
    a, b = vals[0], vals[1]
    if a is None or b is None or np.ndim(a) < 2 or np.ndim(b) < 2:
        return None
    if i == 0:
        nb = names[1] or "B"
        return f"g · {nb}\u1d40 with {nb}\u1d40 = {_v(_t(b), mx)}", np.matmul(g, _t(b))
    na = names[0] or "A"
    return f"{na}\u1d40 · g with {na}\u1d40 = {_v(_t(a), mx)}", np.matmul(_t(a), g)


def _linear(op, i, g, vals, out, names, mx):
    x, w = vals[0], vals[1]
    if x is None or w is None:
        return None
    g2 = np.reshape(g, (-1, w.shape[0]))
    x2 = np.reshape(x, (-1, w.shape[1]))
    if i == 0:
        nw = names[1] or "W"
        return f"g · {nw} with {nw} = {_v(w, mx)}", (g2 @ w).reshape(np.shape(x))
    if i == 1:
        nx = names[0] or "x"
        return f"g\u1d40 · {nx} with {nx} = {_v(x, mx)}", g2.T @ x2
    return f"g summed over its {g2.shape[0]} row(s)", g2.sum(axis=0)


def _sum(op, i, g, vals, out, names, mx):
    shape = np.shape(vals[0])
    return (f"g copied to every summed element (local derivative 1), {shape_text(np.shape(g))} \u2192 "
            f"{shape_text(shape)}", np.broadcast_to(_kept(g, op), shape))


def _mean(op, i, g, vals, out, names, mx):
    shape = np.shape(vals[0])
    n = int(np.prod([shape[a] for a in op.params.get("axis", ())]))
    if n == 0:
        return None
    return (f"g \u00b7 1/n copied to every averaged element, n = {n}, 1/n = {1 / n:.4g}, "
            f"{shape_text(np.shape(g))} \u2192 {shape_text(shape)}", np.broadcast_to(_kept(g, op), shape) / n)


def _reshape(op, i, g, vals, out, names, mx):
    shape = np.shape(vals[0])
    return f"g reshaped {shape_text(np.shape(g))} \u2192 {shape_text(shape)} (local derivative 1)", np.reshape(g, shape)


def _transpose(op, i, g, vals, out, names, mx):
    back = tuple(int(k) for k in np.argsort(op.params.get("axes", ())))
    if len(back) != np.ndim(g):
        return None
    return f"g transposed back with axes {back} (local derivative 1)", np.transpose(g, back)


def _broadcast_to(op, i, g, vals, out, names, mx):
    from autograd.engine import unbroadcast
    shape = np.shape(vals[0])
    return f"g summed over the broadcast axes, {shape_text(np.shape(g))} \u2192 {shape_text(shape)}", \
        unbroadcast(np.asarray(g), shape)


def _softmax(op, i, g, vals, out, names, mx):
    if out is None:
        return None
    axis = op.params.get("axis", -1)
    gs = np.sum(g * out, axis=axis, keepdims=True)
    return (f"s \u2299 (g \u2212 \u03a3 g\u2299s) with s = softmax = {_v(out, mx)}, \u03a3 g\u2299s = {_v(gs, mx)}",
            out * (g - gs))


def _log_softmax(op, i, g, vals, out, names, mx):
    if out is None:
        return None
    axis = op.params.get("axis", -1)
    s = np.exp(out)
    total = np.sum(g, axis=axis, keepdims=True)
    return f"g \u2212 s\u00b7\u03a3g with s = softmax = {_v(s, mx)}, \u03a3g = {_v(total, mx)}", g - s * total


def _getitem(op, i, g, vals, out, names, mx):
    if "index" not in op.params or vals[0] is None:
        return None
    full = np.zeros(np.shape(vals[0]), dtype=np.result_type(g))
    np.add.at(full, op.params["index"], g)
    return "g placed at the selected positions, 0 elsewhere (local derivative 1 there)", full


FORMATTERS = {"matmul": _matmul, "linear": _linear, "sum": _sum, "mean": _mean, "reshape": _reshape,
              "transpose": _transpose, "broadcast_to": _broadcast_to, "softmax": _softmax,
              "log_softmax": _log_softmax, "getitem": _getitem}


def _same(expected, sent) -> bool:
    from autograd.engine import unbroadcast
    e, s = np.asarray(expected, dtype=np.float64), np.asarray(sent, dtype=np.float64)
    if e.shape != s.shape:
        try:
            e = unbroadcast(e, s.shape)
        except RuntimeError:
            return False
    return e.shape == s.shape and np.allclose(e, s, rtol=1e-4, atol=1e-6 * max(1.0, float(np.abs(s).max(initial=0))))


def derivation(op, i: int, g, sent, names, mx: int) -> str | None:
    """How input ``i``'s gradient ``sent`` came from ``g`` at ``op`` (``"g · Bᵀ with Bᵀ = …"``), or None when
    the op has no formatter, its values are gone, or the formatter's product does not reproduce ``sent``."""
    fmt = FORMATTERS.get(op.name)
    if fmt is None or g is None or sent is None:
        return None
    vals = [x.data if isinstance(x, TENSORS) else np.asarray(x) for x in input_items(op)]
    try:
        made = fmt(op, i, np.asarray(g), vals, output_data(op, 0), list(names) + [None] * len(vals), mx)
    except (ValueError, TypeError, IndexError):
        return None
    if made is None or not _same(made[1], sent):
        return None
    return made[0]
