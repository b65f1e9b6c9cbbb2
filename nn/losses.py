"""Loss functions (also exported by ``nn.functional``) and their Module forms, as PyTorch defines them.

Every loss takes ``reduction='mean'|'sum'|'none'``. Prediction and target shapes must match
exactly: a (N, 1) prediction is never silently broadcast against a (N,) target. Targets and
class weights are constants (no gradient flows to them unless a target Tensor requires grad in
the regression losses); float32 inputs give float32 losses.
"""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd.checks import array, integer, number
from autograd.op import Op
from autograd.ops.index import _scatter_add  # getitem's backward: the same values, recorded under create_graph
from autograd.tensor import Tensor

from ._fused import fused
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")
_LOG_FLOOR = -100.0  # PyTorch clamps log(p) in binary cross-entropy at -100
_TINY = math.exp(_LOG_FLOOR)


# ----------------------------------------------------------------------------- shared checks


def _check_reduction(reduction: str, fn: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _input(x, fn: str) -> Tensor:
    """The prediction as a floating-point Tensor."""
    if not isinstance(x, Tensor):
        if x is None or isinstance(x, (str, bytes)):
            raise TypeError(f"{fn}: input must be a Tensor, ndarray or number, got {type(x).__name__}")
        try:
            x = ag.tensor(x)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{fn}: input {str(e).partition(': ')[2] or e}") from None
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {x.dtype}")
    return x


def _float_target(target, x: Tensor, fn: str, what: str = "target"):
    """The target in the input's dtype (a Tensor stays a Tensor), shape checked without broadcasting."""
    if isinstance(target, Tensor):
        t = target if target.dtype == x.dtype else target.astype(x.dtype)
    else:
        if target is None:
            raise TypeError(f"{fn}: {what} must be a Tensor, ndarray or number, got None")
        t = array(target, fn, what)
        if t.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: {what} must be numeric, got dtype {t.dtype}")
        t = t.astype(x.dtype, copy=False)
    if t.shape != x.shape:
        raise ValueError(f"{fn}: input shape {x.shape} and {what} shape {t.shape} must be equal "
                         "(losses do not broadcast; reshape one of them)")
    return t


def _constant(w, x: Tensor, fn: str, what: str) -> np.ndarray:
    """A weight-like constant in the input's dtype, required to broadcast to the input's shape."""
    arr = array(w, fn, what)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: {what} must be numeric, got dtype {arr.dtype}")
    try:
        ok = np.broadcast_shapes(arr.shape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{fn}: {what} shape {arr.shape} does not broadcast to the input shape {x.shape}")
    return arr.astype(x.dtype, copy=False)


def _data(t):
    return t.data if isinstance(t, Tensor) else t


# ----------------------------------------------------------------------------- regression


@fused("∂L/∂x = 2(x − t) per element (/ N for the mean)")
def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean squared error: (input - target)² reduced per ``reduction``."""
    _check_reduction(reduction, "mse_loss")
    x = _input(input, "mse_loss")
    d = x - _float_target(target, x, "mse_loss")
    return _reduce(d * d, reduction)


@fused("∂L/∂x = sign(x − t) per element (/ N for the mean)")
def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean absolute error: |input - target| reduced per ``reduction``."""
    _check_reduction(reduction, "l1_loss")
    x = _input(input, "l1_loss")
    return _reduce(ag.abs(x - _float_target(target, x, "l1_loss")), reduction)


# ----------------------------------------------------------------------------- binary classification


def _clamped_log(p: Tensor) -> Tensor:
    """log(p) clamped below at -100 (as PyTorch), with no NaN gradient where p is 0."""
    d = p.data
    if np.all(d > _TINY):
        return ag.log(p)
    positive = d > 0
    safe = ag.where(positive, p, 1.0)
    return ag.where(positive, ag.clip(ag.log(safe), lo=_LOG_FLOOR), _LOG_FLOOR)


@fused("∂L/∂p = (p − t) / (p(1 − p)) per element (times weight, / N for the mean)")
def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1]; each log clamped at -100.

    ``weight`` (broadcast to the input's shape) rescales each element's loss.
    """
    fn = "binary_cross_entropy"
    _check_reduction(reduction, fn)
    p = _input(input, fn)
    t = _float_target(target, p, fn)
    d = p.data
    if d.size and not np.all((d >= 0) & (d <= 1)):
        bad = d[~((d >= 0) & (d <= 1))]
        raise ValueError(f"{fn}: input must hold probabilities in [0, 1], but {bad.size} of {d.size} values are "
                         f"outside (e.g. {bad.flat[0]!r}); apply sigmoid first or use "
                         "binary_cross_entropy_with_logits on the raw scores")
    loss = -(t * _clamped_log(p) + (1.0 - t) * _clamped_log(1.0 - p))
    if weight is not None:
        loss = loss * _constant(weight, p, fn, "weight")
    return _reduce(loss, reduction)


@fused("∂L/∂x = σ(x) − t per element (without pos_weight; times weight, / N for the mean)")
def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Binary cross-entropy on raw scores x, computed stably as (1 - t) x + c softplus(-x).

    Here softplus(-x) = max(-x, 0) + log1p(exp(-|x|)) never overflows and c = 1 + (pos_weight - 1) t
    (c = 1 without ``pos_weight``), which is PyTorch's definition; the gradient is exact at x = 0.
    """
    fn = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, fn)
    x = _input(input, fn)
    t = _float_target(target, x, fn)
    nonneg = x.data >= 0
    neg_x = -x
    # softplus(-x) = max(-x, 0) + log1p(exp(-|x|)); the where branches give d/dx = -sigmoid(-x) everywhere,
    # including x = 0. The max part is added to (1 - t) x first so that they cancel exactly when x << 0.
    relu_neg = ag.where(nonneg, 0.0, neg_x)
    log_part = ag.log1p(ag.exp(ag.where(nonneg, neg_x, x)))
    if pos_weight is not None:
        pw = _constant(pos_weight, x, fn, "pos_weight")
        c = 1.0 + (pw - 1.0) * t
        loss = ((1.0 - t) * x + c * relu_neg) + c * log_part
    else:
        loss = ((1.0 - t) * x + relu_neg) + log_part
    if weight is not None:
        loss = loss * _constant(weight, x, fn, "weight")
    return _reduce(loss, reduction)


@fused("∂L/∂x = −y where y·x < margin, else 0 (/ N for the mean)")
def hinge_loss(input, target, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """Binary hinge loss max(0, margin - y x) for labels y in {-1, +1}."""
    fn = "hinge_loss"
    _check_reduction(reduction, fn)
    x = _input(input, fn)
    margin = number(margin, "margin", fn)
    y = _float_target(target, x, fn)
    yd = _data(y)
    if yd.size and not np.all((yd == 1) | (yd == -1)):
        bad = np.unique(yd[(yd != 1) & (yd != -1)])
        raise ValueError(f"{fn}: target labels must be -1 or +1, got {bad[:5].tolist()}"
                         + (" (map 0/1 labels with 2 * y - 1)" if np.all(np.isin(yd, (0, 1, -1))) else ""))
    return _reduce(ag.relu(margin - y * x), reduction)


# ----------------------------------------------------------------------------- multi-class


def _class_target(target, x: Tensor, fn: str, ignore_index: int | None, check_range: bool = True) -> np.ndarray:
    """Integer class indices shaped (N, d1, ...) for an input (N, C, d1, ...), each in [0, C) (the range is
    checked here unless ``check_range`` is False: ``ClassPick`` checks it on every call, replays included)."""
    if target is None:
        raise TypeError(f"{fn}: target must hold integer class indices, got None")
    if ignore_index is not None:
        integer(ignore_index, "ignore_index", fn)
    t = array(target, fn, "target")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{fn}: target must hold integer class indices, got dtype {t.dtype} "
                        "(class-probability targets are not supported; convert labels with .astype(int))")
    want = x.shape[:1] + x.shape[2:] if x.ndim >= 2 else ()
    if t.shape != want:
        raise ValueError(f"{fn}: input shape {x.shape} expects target shape {want}, got {t.shape}")
    if check_range:
        _check_class_range(t, x.shape, fn, ignore_index)
    return t


def _check_class_range(t: np.ndarray, x_shape: tuple, fn: str, ignore_index: int | None) -> None:
    """ValueError naming ``fn`` unless every class index (but ``ignore_index``) lies in [0, C)."""
    c = x_shape[1] if len(x_shape) >= 2 else x_shape[0]
    check = t if ignore_index is None else t[t != ignore_index]
    if check.size and (check.min() < 0 or check.max() >= c):
        bad = np.unique(check[(check < 0) | (check >= c)])
        raise ValueError(f"{fn}: target class indices must be in [0, {c}) for input shape {x_shape}, got "
                         f"{bad[:5].tolist()}" + ("" if ignore_index is None else f" (ignore_index={ignore_index})"))


class ClassPick(Op):
    """``a[n, target[n]]`` for a (M, C) ``a`` and M class indices (any shape), ``a[n, 0]`` where the target is
    ``ignore_index``; and, as a second output without gradient, 1 where the target counts and 0 where it is
    ignored (in ``a``'s dtype). The target is an input, so a captured replay reads each call's targets and checks
    their range (an error names ``fn`` and the loss's input shape ``x_shape``). The backward adds the gradient
    at the picked places, as ``getitem``'s does."""

    name = "class_pick"

    def forward(self, a, target, ignore_index=-100, fn="class_pick", x_shape=None):
        _check_class_range(target, a.shape if x_shape is None else x_shape, fn, ignore_index)
        tf = target.reshape(-1)
        valid = tf != ignore_index
        index = (np.arange(tf.shape[0]), tf if valid.all() else np.where(valid, tf, 0))
        self.saved = (a.shape, index)
        return a[index], valid.astype(a.dtype)

    rule = "∂a[n, tₙ]/∂a = 1 at the picked element of each row, 0 elsewhere"
    def backward(self, g, g_counted):
        shape, index = self.saved
        if g is None:
            return None, None
        return _scatter_add(g, shape=shape, index=index, basic=False), None


def _pick_targets(shape):
    """Class indices for a (M, C) input, one of them ignore_index (-100) when M > 1."""
    if len(shape) != 2:
        raise ValueError(f"class_pick: input must be 2-D (rows, classes), got shape {shape}")
    t = np.arange(shape[0]) % shape[1]
    if t.size > 1:
        t[1] = -100
    return t


def _pick_reference(a):
    t = _pick_targets(a.shape)
    return a[np.arange(t.size), np.where(t == -100, 0, t)]


def _register():
    from autograd.registry import REAL, OpEntry, register

    register(OpEntry("class_pick", "one target ignored", lambda a: ClassPick.apply(a, _pick_targets(a.shape))[0],
                     (REAL,), "index", (ClassPick,), shape_opts={"min_ndim": 2, "max_ndim": 2},
                     reference=_pick_reference))


_register()


def _class_weight(weight, c: int, x: Tensor, fn: str):
    if weight is None:
        return None
    w = array(weight, fn, "weight")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: weight must be numeric, got dtype {w.dtype}")
    if w.shape != (c,):
        raise ValueError(f"{fn}: weight must have shape ({c},), one value per class, got {w.shape}")
    return w.astype(x.dtype, copy=False)


def _classes_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C); (N, C) and (C,) pass through (the latter as (1, C))."""
    if x.ndim == 1:
        return x.reshape(1, x.shape[0])
    if x.ndim == 2:
        return x
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    return x.transpose(*perm).reshape(-1, x.shape[1])


def _nll(logp: Tensor, t: np.ndarray, weight, ignore_index: int, reduction: str, label_smoothing: float = 0.0,
         fn: str = "nll_loss", x_shape=None) -> Tensor:
    """Negative log-likelihood of class indices ``t`` under log-probabilities ``logp`` (checked but for the
    targets' range, which ``ClassPick`` checks). Whatever is read from ``t`` is computed by ops taking it as an
    input, in one graph whatever the targets are, so a captured replay honours each call's targets."""
    c = logp.shape[1] if logp.ndim >= 2 else logp.shape[0]
    x_shape = logp.shape if x_shape is None else x_shape
    lp = _classes_last(logp)
    picked, valid = ClassPick.apply(lp, t, ignore_index=ignore_index, fn=fn, x_shape=x_shape)  # valid: 1 or 0
    w_t = valid if weight is None else ClassPick.apply(np.broadcast_to(weight, lp.shape), t,
                                                       ignore_index=ignore_index, fn=fn, x_shape=x_shape)[0] * valid
    losses = -(picked * w_t)  # (x·1 is x bitwise: -picked where every target counts)
    smooth = None
    if label_smoothing > 0:
        smooth = -(lp * weight).sum(axis=1) if weight is not None else -lp.sum(axis=1)
        smooth = smooth * valid
    if reduction == "none":
        out = losses if smooth is None else (1.0 - label_smoothing) * losses + (label_smoothing / c) * smooth
        return out.reshape(t.shape)
    total = losses.sum()
    if smooth is not None:
        total = (1.0 - label_smoothing) * total + (label_smoothing / c) * smooth.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):  # every target ignored: NaN, as PyTorch
        return total / w_t.sum()  # over the counted targets (their summed weights): the mean's quotient


def _check_class_input(input, fn: str) -> Tensor:
    x = _input(input, fn)
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have a class dimension ((C,), (N, C) or (N, C, d1, ...)), got a scalar")
    return x


@fused("∂L/∂z = softmax(z) − onehot(target) per row (the smoothed target with label_smoothing; / N for the mean)")
def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of raw scores (N, C) or (N, C, d1, ...) against integer class indices.

    Fuses a stable log_softmax over dim 1 with the negative log-likelihood. ``weight`` rescales
    classes ('mean' divides by the summed weights of the targets), targets equal to
    ``ignore_index`` contribute nothing, and ``label_smoothing`` ε mixes in the uniform
    distribution: (1 - ε) NLL + ε/C Σ_c -w_c log p_c, as PyTorch defines it.
    """
    fn = "cross_entropy"
    _check_reduction(reduction, fn)
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    x = _check_class_input(input, fn)
    t = _class_target(target, x, fn, ignore_index, check_range=False)
    w = _class_weight(weight, x.shape[1] if x.ndim >= 2 else x.shape[0], x, fn)
    logp = ag.log_softmax(x, axis=1 if x.ndim >= 2 else 0)
    return _nll(logp, t, w, ignore_index, reduction, float(label_smoothing), fn, x.shape)


@fused("∂L/∂x[n, c] = −w_c for c = target[n], else 0 (/ Σ w_target for the mean)")
def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -w[t] * input[n, t] for log-probabilities (N, C) or (N, C, d1, ...)."""
    fn = "nll_loss"
    _check_reduction(reduction, fn)
    x = _check_class_input(input, fn)
    t = _class_target(target, x, fn, ignore_index, check_range=False)
    w = _class_weight(weight, x.shape[1] if x.ndim >= 2 else x.shape[0], x, fn)
    return _nll(x, t, w, ignore_index, reduction, 0.0, fn, x.shape)


@fused("∂L/∂x[i] = w_y·p·mᵢ^(p−1)/C for i ≠ y with mᵢ = margin − x[y] + x[i] > 0; ∂L/∂x[y] = −Σ of those")
def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge: Σ_{i≠y} w[y] max(0, margin - x[y] + x[i])^p / C per sample (p is 1 or 2)."""
    fn = "multi_margin_loss"
    _check_reduction(reduction, fn)
    margin = number(margin, "margin", fn)
    if p not in (1, 2) or isinstance(p, bool):
        raise ValueError(f"{fn}: p must be 1 or 2, got {p!r}")
    x = _check_class_input(input, fn)
    if x.ndim > 2:
        raise ValueError(f"{fn}: input must be (C,) or (N, C), got shape {x.shape}")
    t = _class_target(target, x, fn, None)
    c = x.shape[-1]
    w = _class_weight(weight, c, x, fn)
    x2 = x.reshape(1, c) if x.ndim == 1 else x
    tf = t.reshape(-1)
    rows = np.arange(tf.shape[0])
    x_y = x2[rows, tf].reshape(-1, 1)
    others = np.ones(x2.shape, dtype=x.dtype)
    others[rows, tf] = 0
    m = ag.relu(margin - x_y + x2) * others
    if p == 2:
        m = m * m
    per_sample = m.sum(axis=1) * (1.0 / c)
    if w is not None:
        per_sample = per_sample * w[tf]
    if x.ndim == 1:
        per_sample = per_sample.reshape(())
    return _reduce(per_sample, reduction)


# ----------------------------------------------------------------------------- modules


class _Loss(Module):
    """Base of the loss modules: holds ``reduction``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss with an optional per-class (or per-element) ``weight`` kept as a buffer, as in PyTorch."""

    def __init__(self, weight=None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else _as_buffer(weight, type(self).__name__))


def _as_buffer(x, who: str) -> Tensor:
    arr = np.array(x.data if isinstance(x, Tensor) else x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: weight must be numeric (one value per class or element), got {x!r:.60}")
    return ag.from_numpy(arr)


class MSELoss(_Loss):
    """Mean squared error (see ``mse_loss``)."""

    def forward(self, input, target):
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (see ``l1_loss``)."""

    def forward(self, input, target):
        return l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities (see ``binary_cross_entropy``)."""

    def forward(self, input, target):
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy on raw scores, stable (see ``binary_cross_entropy_with_logits``)."""

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else _as_buffer(pos_weight, "BCEWithLogitsLoss"))

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of raw scores against class indices (see ``cross_entropy``)."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = integer(ignore_index, "ignore_index", "CrossEntropyLoss")
        self.label_smoothing = number(label_smoothing, "label_smoothing", "CrossEntropyLoss", low=0, high=1)

    def forward(self, input, target):
        return cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        parts = [super().extra_repr()] if self.reduction != "mean" else []
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(parts)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (see ``nll_loss``)."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class HingeLoss(_Loss):
    """Binary hinge loss for ±1 labels (see ``hinge_loss``)."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input, target):
        return hinge_loss(input, target, margin=self.margin, reduction=self.reduction)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [f"margin={self.margin}", super().extra_repr()]))


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss (see ``multi_margin_loss``)."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                 reduction=self.reduction)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [f"p={self.p}", f"margin={self.margin}", super().extra_repr()]))
