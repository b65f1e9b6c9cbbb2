"""``nn.functional`` (imported as ``F``): stateless layers, activations and losses on autograd ops.

Axes are named ``dim`` as in PyTorch. Every function accepts Tensors, ndarrays and (where it
makes sense) Python scalars, keeps float32 as float32, and is differentiable through the
autograd ops it is written with (no fused ops of its own; `linear` is autograd's one fused linear node).
"""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd.checks import array, number
from autograd.ops.affine import linear as _linear
from autograd.tensor import Tensor

from .losses import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
)

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _tensor(x, fn: str) -> Tensor:
    """``x`` as a Tensor (ndarrays and numbers converted with autograd's dtype policy)."""
    if isinstance(x, Tensor):
        return x
    try:
        return ag.tensor(x)
    except TypeError:
        raise TypeError(f"{fn}: expected a Tensor, ndarray or number, got {type(x).__name__}") from None
    except ValueError as e:
        raise ValueError(f"{fn}: {str(e).partition(': ')[2] or e}") from None


def _check_float(x: Tensor, fn: str) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: expected a floating-point input, got dtype {x.dtype}")


# ----------------------------------------------------------------------------- layers


def linear(input, weight, bias=None) -> Tensor:
    """``input @ weight.T + bias`` with ``weight`` of shape (out_features, in_features), as PyTorch: one node
    (``autograd.linear``, which checks the shapes), not a transpose, a matmul and an add."""
    x, w = _tensor(input, "linear"), _tensor(weight, "linear")
    return _linear(x, w, None if bias is None else _tensor(bias, "linear"))


def dropout(input, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by 1/(1-p).

    The mask is drawn from ``autograd.random.generator()``, so ``autograd.manual_seed`` makes it
    repeatable. Returns ``input`` unchanged when not ``training`` or when ``p == 0``.
    """
    _check_p(p, "dropout")
    x = _tensor(input, "dropout")
    if not training or p == 0:
        return x
    _check_float(x, "dropout")
    if p == 1:
        return x * np.zeros(x.shape, dtype=x.dtype)
    from autograd.capture import DropoutMask  # an op, so a captured step draws a fresh mask on each replay

    return x * DropoutMask.apply(shape=x.shape, p=p, dtype=x.dtype)


def _check_p(p, fn: str) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: probability p must be a number between 0 and 1, got {p!r}")


def embedding(input, weight, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input`` indices.

    Positions equal to ``padding_idx`` read that row but send no gradient to it, as in PyTorch.
    """
    w = _tensor(weight, "embedding")
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {w.shape}")
    idx = array(input, "embedding", "indices")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    n = w.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)]
        raise ValueError(f"embedding: index {int(bad.flat[0])} is out of range for {n} embeddings "
                         f"(valid indices are 0..{n - 1})")
    out = w[idx]
    if padding_idx is not None:
        padding_idx = _padding_index(padding_idx, n, "embedding")
        pad = idx == padding_idx
        if pad.any() and isinstance(out, Tensor) and out.requires_grad:
            out = ag.where(pad[..., None], w.data[padding_idx], out)
    return out


def _padding_index(padding_idx: int, n: int, fn: str) -> int:
    if isinstance(padding_idx, (bool, np.bool_)) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"{fn}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -n <= padding_idx < n:
        raise ValueError(f"{fn}: padding_idx {padding_idx} must be within num_embeddings ({n})")
    return padding_idx % n


def flatten(input, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` .. ``end_dim`` (inclusive) into one."""
    x = _tensor(input, "flatten")
    nd = max(x.ndim, 1)
    s = _dim(start_dim, nd, "flatten")
    e = _dim(end_dim, nd, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    if x.ndim == 0:
        return x.reshape(1)
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1], dtype=np.int64)),) + x.shape[e + 1:]
    return x.reshape(shape)


def _dim(dim: int, ndim: int, fn: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{fn}: dim must be an int, got {dim!r}")
    if not -ndim <= dim < ndim:
        raise ValueError(f"{fn}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return int(dim) % ndim


# ----------------------------------------------------------------------------- activations


def relu(input) -> Tensor:
    """max(x, 0); gradient 0 at 0."""
    return ag.relu(_tensor(input, "relu"))


def leaky_relu(input, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    negative_slope = number(negative_slope, "negative_slope", "leaky_relu")
    x = _tensor(input, "leaky_relu")
    return ag.where(x.data > 0, x, x * negative_slope)


def prelu(input, weight) -> Tensor:
    """Leaky ReLU with a learned slope: one shared (``weight`` of size 1) or one per channel (dim 1)."""
    x, w = _tensor(input, "prelu"), _tensor(weight, "prelu")
    if w.ndim != 1:
        raise ValueError(f"prelu: weight must be 1-D, got shape {w.shape}")
    if w.shape[0] != 1:
        channels = x.shape[1] if x.ndim >= 2 else None
        if channels != w.shape[0]:
            raise ValueError(f"prelu: weight has {w.shape[0]} slopes but the input of shape {x.shape} has "
                             f"{'no channel dimension' if channels is None else f'{channels} channels'} (dim 1)")
        w = w.reshape((w.shape[0],) + (1,) * (x.ndim - 2))
    return ag.where(x.data > 0, x, w * x)


def elu(input, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1); exp sees min(x, 0), so large x never overflows."""
    alpha = number(alpha, "alpha", "elu")
    x = _tensor(input, "elu")
    neg = alpha * (ag.exp(ag.clip(x, hi=0.0)) - 1.0)
    return ag.where(x.data > 0, x, neg)


def sigmoid(input) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    return ag.sigmoid(_tensor(input, "sigmoid"))


def tanh(input) -> Tensor:
    """Hyperbolic tangent."""
    return ag.tanh(_tensor(input, "tanh"))


def softmax(input, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (shifted by the max for stability)."""
    x = _tensor(input, "softmax")
    return ag.softmax(x, axis=_dim(dim, x.ndim, "softmax"))


def log_softmax(input, dim: int = -1) -> Tensor:
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x)."""
    x = _tensor(input, "log_softmax")
    return ag.log_softmax(x, axis=_dim(dim, x.ndim, "log_softmax"))


def silu(input) -> Tensor:
    """x * sigmoid(x) (Swish with beta = 1)."""
    x = _tensor(input, "silu")
    return x * ag.sigmoid(x)


def swish(input, beta=1.0) -> Tensor:
    """x * sigmoid(beta * x); ``beta`` may be a number or a (learnable) Tensor."""
    x = _tensor(input, "swish")
    if not isinstance(beta, Tensor):
        beta = number(beta, "beta", "swish")
    if isinstance(beta, (int, float)) and not isinstance(beta, bool) and beta == 1.0:
        return x * ag.sigmoid(x)
    return x * ag.sigmoid(beta * x)


def gelu(input, approximate: str = "none") -> Tensor:
    """x * Phi(x) with the exact normal CDF via erf (``'none'``), PyTorch's tanh approximation (``'tanh'``),
    or the sigmoid approximation x * sigmoid(1.702 x) (``'sigmoid'``, a graphgrad extension)."""
    x = _tensor(input, "gelu")
    if approximate == "none":
        return 0.5 * x * (1.0 + ag.erf(x * _SQRT_HALF))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + ag.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))))
    if approximate == "sigmoid":
        return x * ag.sigmoid(1.702 * x)
    raise ValueError(f"gelu: approximate must be 'none', 'tanh' or 'sigmoid', got {approximate!r}")


# ----------------------------------------------------------------------------- normalisation


def _shifted(x: Tensor, axes: tuple[int, ...]) -> tuple[Tensor, np.ndarray]:
    """``x - ref`` with ``ref`` the first value of each group along ``axes``, and ref's values. The shifted values
    have the same variance and a mean smaller by ref, but a constant feature becomes exactly 0 (so it normalises
    to exactly 0) and a large common offset no longer rounds away the small differences. ref is taken in the
    graph (a slice of x), so the result stays a function of x alone: an exported graph and a captured replay
    compute it too."""
    ref = x[tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))]
    return x - ref, ref.data


def _stat_array(t):
    return None if t is None else (t.data if isinstance(t, Tensor) else np.asarray(t))


def _write_stat(stat, value) -> None:
    """Update a running statistic in place: tracked (a version bump) for a Tensor buffer, a plain write for an
    ndarray; the write is an op so that a captured step (autograd.capture) repeats it."""
    from autograd.capture import StatWrite

    if isinstance(stat, Tensor):
        stat._check_inplace("copy_")
        with ag.no_grad():
            StatWrite.apply(stat, value)
        stat._updated()
    else:
        StatWrite.apply(np.asarray(stat), value)


def batch_norm(input, running_mean=None, running_var=None, weight=None, bias=None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5, num_batches_tracked=None) -> Tensor:
    """Normalise each channel (dim 1) of (N, C, ...) by its mean and variance, then scale and shift.

    In training (or without running statistics) the batch's own mean and biased variance are used,
    and ``running_mean``/``running_var`` (if given) are updated in place with the unbiased variance:
    r ← (1 - momentum) r + momentum · batch_stat (momentum None: a cumulative average over
    ``num_batches_tracked``, which is incremented in place). Otherwise the running statistics are used.
    """
    x = _tensor(input, "batch_norm")
    _check_float(x, "batch_norm")
    eps = number(eps, "eps", "batch_norm", low=0)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C) or (N, C, ...), got shape {x.shape}")
    c = x.shape[1]
    shape = (1, c) + (1,) * (x.ndim - 2)
    rm, rv = _stat_array(running_mean), _stat_array(running_var)
    for name, arr in (("running_mean", rm), ("running_var", rv)):
        if arr is not None and arr.shape != (c,):
            raise ValueError(f"batch_norm: {name} shape {arr.shape} does not match the {c} channels of input "
                             f"shape {x.shape}")
    if training or rm is None or rv is None:
        axes = (0,) + tuple(range(2, x.ndim))
        n = x.size // c if c else 0
        if training and n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input shape "
                             f"{x.shape} (a last batch of one sample? pass drop_last=True to the DataLoader)")
        xs, ref = _shifted(x, axes)
        mean = xs.mean(axis=axes, keepdims=True)
        var = xs.var(axis=axes, keepdims=True)
        if training and rm is not None and rv is not None:
            nbt = _stat_array(num_batches_tracked)
            with ag.no_grad():  # as ops on the statistics' own arrays, so a captured step repeats them
                if nbt is not None:
                    _write_stat(num_batches_tracked, ag.add(nbt, 1))
                factor = momentum if momentum is not None else 1.0 / float(nbt if nbt is not None else 1)
                _write_stat(running_mean, ag.multiply(rm, 1.0 - factor) + factor * (mean.detach() + ref).reshape(c))
                unbiased = factor * var.detach().reshape(c) * (n / (n - 1))
                _write_stat(running_var, ag.multiply(rv, 1.0 - factor) + unbiased)
        out = (xs - mean) * (var + eps) ** -0.5
    else:
        inv = (1.0 / np.sqrt(rv + eps)).astype(rv.dtype, copy=False)
        out = (x - rm.reshape(shape)) * inv.reshape(shape)
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            p = _tensor(p, "batch_norm")
            if p.shape != (c,):
                raise ValueError(f"batch_norm: {name} shape {p.shape} does not match the {c} channels of input "
                                 f"shape {x.shape}")
            out = out * p.reshape(shape) if name == "weight" else out + p.reshape(shape)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions (biased variance), then scale and shift."""
    x = _tensor(input, "layer_norm")
    _check_float(x, "layer_norm")
    ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    if isinstance(ns, (str, bytes)) or not isinstance(ns, (tuple, list)):
        raise TypeError(f"layer_norm: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}")
    ns = tuple(ns)
    k = len(ns)
    if k == 0 or x.ndim < k or tuple(x.shape[-k:]) != ns:
        raise ValueError(f"layer_norm: input shape {x.shape} does not end with normalized_shape {ns}")
    axes = tuple(range(x.ndim - k, x.ndim))
    xs, _ = _shifted(x, axes)
    mean = xs.mean(axis=axes, keepdims=True)
    var = xs.var(axis=axes, keepdims=True)
    eps = number(eps, "eps", "layer_norm", low=0)
    out = (xs - mean) * (var + eps) ** -0.5
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            p = _tensor(p, "layer_norm")
            if p.shape != ns:
                raise ValueError(f"layer_norm: {name} shape {p.shape} does not match normalized_shape {ns}")
            out = out * p if name == "weight" else out + p
    return out

# ----------------------------------------------------------------------------- attention (nn/functional_attention.py)
from .functional_attention import scaled_dot_product_attention  # noqa: E402,F401

# ---- convolution and pooling (nn/functional_conv.py) ----
from .functional_conv import (  # noqa: E402, F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    max_pool1d,
    max_pool2d,
)
