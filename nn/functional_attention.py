"""Scaled dot-product attention, softmax(Q Kᵀ · scale + mask) V, on ``autograd.masked_softmax``.

Re-exported from ``nn.functional`` as ``F.scaled_dot_product_attention`` (PyTorch's signature and mask
meaning: a boolean ``attn_mask`` is True where a query may attend, a float mask is added to the scores).

A query row whose keys are all masked (boolean False everywhere, or -inf added everywhere) gets zero
attention weights and a zero output, with zero gradients, never NaN (as PyTorch's
``scaled_dot_product_attention``; PyTorch's ``MultiheadAttention`` gives NaN there).
"""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd import masked_softmax
from autograd.checks import number
from autograd.tensor import Tensor

# ----------------------------------------------------------------------------- attention


def _as_tensor(x, fn: str, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    try:
        return ag.tensor(x)
    except TypeError:
        raise TypeError(f"{fn}: {what} must be a Tensor or ndarray, got {type(x).__name__}") from None
    except ValueError as e:
        raise ValueError(f"{fn}: {what}: {str(e).partition(': ')[2] or e}") from None


def _mask_array(mask, fn: str, what: str, target: tuple[int, ...]):
    """A mask as (bool ndarray or float Tensor/ndarray) after checking it broadcasts to ``target``."""
    arr = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if arr.dtype != np.bool_ and arr.dtype.kind != "f":
        raise TypeError(f"{fn}: {what} must be boolean or floating point, got dtype {arr.dtype}")
    try:
        np.broadcast_shapes(arr.shape, target)
    except ValueError:
        raise ValueError(f"{fn}: {what} of shape {arr.shape} does not broadcast to the attention scores' shape "
                         f"{target} (..., L, S)") from None
    if len(np.broadcast_shapes(arr.shape, target)) != len(target):
        raise ValueError(f"{fn}: {what} of shape {arr.shape} has more dimensions than the attention scores' "
                         f"shape {target} (..., L, S)")
    return arr if arr.dtype == np.bool_ else mask


def attention(q: Tensor, k: Tensor, v: Tensor, keep=None, additive=None, dropout_p: float = 0.0,
              training: bool = True, scale: float | None = None) -> tuple[Tensor, Tensor]:
    """(softmax_keep(q kᵀ · scale + additive) v, weights) on checked (..., L, E), (..., S, E), (..., S, Ev).

    ``keep`` is a boolean ndarray (True = may attend) and ``additive`` a float mask, each broadcast to
    (..., L, S) or None. Dropout (drawn from ``autograd.random``) applies to the weights, as PyTorch.
    """
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = ag.matmul(q * scale, k.swapaxes(-1, -2))
    if additive is not None:
        if isinstance(additive, np.ndarray):
            additive = additive.astype(scores.dtype, copy=False)
        scores = scores + additive
    weights = masked_softmax(scores, keep)
    if dropout_p > 0 and training:
        from .functional import dropout

        weights = dropout(weights, dropout_p, True)
    return ag.matmul(weights, v), weights


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(Q Kᵀ · scale + mask) V over the last two axes, with PyTorch's signature and mask meaning.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); ``scale`` defaults to
    1/√E. ``attn_mask`` broadcasts to (..., L, S): boolean True = may attend, float = added to the scores.
    ``is_causal`` lets query i attend to keys 0..i only. Rows with every key masked give zeros.
    """
    fn = "scaled_dot_product_attention"
    q, k, v = (_as_tensor(t, fn, n) for t, n in ((query, "query"), (key, "key"), (value, "value")))
    for t, n in ((q, "query"), (k, "key"), (v, "value")):
        if t.ndim < 2:
            raise ValueError(f"{fn}: {n} of shape {t.shape} must have at least 2 dimensions (..., L, E)")
        if t.dtype.kind != "f":
            raise TypeError(f"{fn}: {n} must be floating point, got dtype {t.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{fn}: query of shape {q.shape} and key of shape {k.shape} must have the same last "
                         f"dimension E")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{fn}: key of shape {k.shape} and value of shape {v.shape} must have the same "
                         f"sequence length S (dimension -2)")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{fn}: the batch dimensions of query {q.shape}, key {k.shape} and value {v.shape} "
                         f"do not broadcast") from None
    dropout_p = number(dropout_p, "dropout_p", fn, low=0.0, high=1.0)
    if scale is not None:
        scale = number(scale, "scale", fn)
    L, S = q.shape[-2], k.shape[-2]
    target = tuple(batch) + (L, S)
    keep = additive = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{fn}: pass either attn_mask or is_causal=True, not both")
        keep = np.tril(np.ones((L, S), dtype=bool))
    elif attn_mask is not None:
        m = _mask_array(attn_mask, fn, "attn_mask", target)
        if isinstance(m, np.ndarray) and m.dtype == np.bool_:
            keep = m
        else:
            additive = m
    return attention(q, k, v, keep, additive, dropout_p, True, scale)[0]
