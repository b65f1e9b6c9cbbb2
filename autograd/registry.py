"""The op registry: the one table of every differentiable op, how to call it and where it is defined.

Each ``OpEntry`` names a public function, binds its fixed parameters into a callable taking
Tensors (several entries per op where parameters change the code path), gives each input's
``Domain`` and the ``shapes`` kind used to draw valid shapes, and lists the ``Op`` classes it
exercises. The property tests (gradcheck and gradgradcheck on every entry), the hypothesis
strategies of ``autograd.testing`` and the coverage test all read this table; nothing else
keeps a list of ops. Public functions that have no gradient are listed in ``NON_DIFFERENTIABLE``;
the rest of the public API (transforms, checks, grad-mode switches) in ``NOT_OPS``.

Packages that define their own ``Op`` subclasses (fused layers in ``nn``) add them with ``register``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import ops
from .function import Function, _FunctionNode
from .functional import _Alias, grad
from .op import Op, _OnceDifferentiable
from .ops import affine as _lin
from .ops import attention as _at
from .ops import conv as _cv
from .ops import elementwise as _ew
from .ops import index as _ix
from .ops import linalg as _la
from .ops import reduce as _rd
from .ops import shape as _sh
from .ops import special as _sp


@dataclass(frozen=True)
class Domain:
    """Where an input's values may be drawn so the op is smooth there (finite differences agree).

    Values lie in [low, high], at least ``margin`` away from each point in ``avoid`` (kinks,
    poles). ``distinct``: the elements of all distinct inputs of one call are pairwise at least
    ``margin`` apart (no ties for max/min/maximum/minimum). ``integer``: an index array with
    values in [low, high] (valid for any axis of length >= ``high + 1``; negatives count from
    the end); it is not differentiated.
    """

    name: str
    low: float = -2.0
    high: float = 2.0
    avoid: tuple[float, ...] = ()
    margin: float = 0.0
    distinct: bool = False
    integer: bool = False

    def contains(self, values) -> bool:
        """Whether every element of ``values`` lies in this domain (ties not checked)."""
        v = np.asarray(values)
        if self.integer:
            return v.dtype.kind in "iu" and bool(np.all((v >= self.low) & (v <= self.high)))
        if not np.all(np.isfinite(v)) or not np.all((v >= self.low) & (v <= self.high)):
            return False
        return all(np.all(np.abs(v - p) >= self.margin) for p in self.avoid)


REAL = Domain("real")
POSITIVE = Domain("positive", low=0.2, high=3.0)
NONZERO = Domain("nonzero", avoid=(0.0,), margin=0.2)
UNIT = Domain("unit interval (-1, 1)", low=-0.9, high=0.9)
ABOVE_MINUS_ONE = Domain("greater than -1", low=-0.6, high=3.0)
NO_POLES = Domain("away from the poles of tan", low=-1.2, high=1.2)
DISTINCT = Domain("real, no ties", margin=0.1, distinct=True)
AWAY_FROM_BOUNDS = Domain("real, away from the clip bounds -0.5 and 0.5", avoid=(-0.5, 0.5), margin=0.1)
AWAY_FROM_ZERO_AND_HALF = Domain("real, away from 0 and 0.5", avoid=(0.0, 0.5), margin=0.1)
INDEX = Domain("integer index (repeats and negatives)", low=-2, high=1, integer=True)

DOMAINS = MappingProxyType({d.name: d for d in (REAL, POSITIVE, NONZERO, UNIT, ABOVE_MINUS_ONE, NO_POLES, DISTINCT,
                                                 AWAY_FROM_BOUNDS, AWAY_FROM_ZERO_AND_HALF, INDEX)})

CLIP_LO, CLIP_HI = -0.5, 0.5


@dataclass(frozen=True)
class OpEntry:
    """One way of calling one differentiable op.

    ``fn`` takes one Tensor per domain in ``domains`` (in order) with every other parameter bound.
    ``shapes`` names how to draw input shapes (see ``SHAPE_KINDS``); ``shape_opts`` refines it.
    ``reference`` computes the same values with NumPy alone (the forward tests compare against it).
    """

    name: str
    variant: str
    fn: Callable
    domains: tuple[Domain, ...]
    shapes: str
    ops: tuple[type[Op], ...]
    shape_opts: Mapping = field(default_factory=dict)
    second_order: bool = True
    reference: Callable | None = None  # the same call written directly in NumPy (ndarrays in and out)

    @property
    def arity(self) -> int:
        return len(self.domains)

    @property
    def id(self) -> str:
        """Unique name: ``name[variant]``."""
        return f"{self.name}[{self.variant}]" if self.variant else self.name

    def __repr__(self):
        return f"<OpEntry {self.id}>"


SHAPE_KINDS = MappingProxyType({
    "elementwise": "one shape per input, mutually broadcastable (a single shape for one input); "
                   "opts min_ndim, max_ndim, min_side, max_side",
    "reduction": "one input of any shape (reductions, softmax); opts as elementwise",
    "shape": "one input of any shape (reshaping, padding, repeating); opts as elementwise plus size_one_axes "
             "(axes forced to length 1) and even_last (last axis of even length)",
    "index": "one input of any shape, indexed by an index built from its shape; opts as elementwise",
    "same": "every input has the same shape (concatenate, stack); opts as elementwise",
    "matmul": "two shapes NumPy's matmul accepts; opt form in vv, mv, vm, mm, batched",
    "einsum": "shapes fitting opt subscripts (label sizes drawn, '...' broadcast)",
    "take": "a tensor with axis 0 of length >= 2, and any index shape",
    "conv": "an input (N, C, H, W) and, with opt weight, a weight (O, C/groups, kH, kW) (kernel drawn in 1..3 "
            "unless opt kernel) and with opt bias a bias (O,); H, W drawn so the (dilated) kernel fits the input "
            "padded by opt padding (top, bottom, left, right); opts stride, dilation, groups, weight, bias, kernel",
})


# ----------------------------------------------------------------------------- helpers bound by entries


def _pattern(shape):
    """A fixed boolean mask of ``shape`` (alternating, so both branches of where are used)."""
    return (np.arange(math.prod(shape)).reshape(shape) % 2 == 0) if shape else np.array(True)


def _where(a, b):
    return ops.where(_pattern(np.broadcast_shapes(a.shape, b.shape)), a, b)


def _repeated_rows(x):
    """Advanced index along axis 0 with a repeat and a negative index: [0, -1, 0]."""
    return x[np.array([0, -1, 0])]


def _mask_rows(x):
    return x[_pattern(x.shape)]


def _mixed_index(x):
    return x[..., np.array([0, 0]), None] if x.ndim >= 1 else x[None]


def _scatter(x):
    """scatter_add of x's rows into 2 rows (even rows to 0, odd to 1): repeated indices accumulate."""
    index = np.arange(x.shape[0]) % 2
    return ops.scatter_add(x, (2,) + x.shape[1:], index)


def _broadcast_up(x):
    return ops.broadcast_to(x, (2,) + tuple(2 if s == 1 else s for s in x.shape))


def _reverse_reshape(x):
    return ops.reshape(x, x.shape[::-1])


def _last_first(x):
    return ops.transpose(x, *([x.ndim - 1] + list(range(x.ndim - 1))))


# ----------------------------------------------------------------------------- the table

_R, _P, _N, _D = REAL, POSITIVE, NONZERO, DISTINCT
_ENTRIES: list[OpEntry] = []


def register(entry: OpEntry) -> OpEntry:
    """Add an entry to the registry (ids must be unique); returns it."""
    if any(e.id == entry.id for e in _ENTRIES):
        raise ValueError(f"register: an entry with id {entry.id!r} already exists")
    if entry.shapes not in SHAPE_KINDS:
        raise ValueError(f"register: unknown shape kind {entry.shapes!r}; known: {', '.join(SHAPE_KINDS)}")
    _ENTRIES.append(entry)
    return entry


def _add(name, variant, fn, domains, shapes, op_classes, ref=None, **opts):
    register(OpEntry(name, variant, fn, tuple(domains), shapes, tuple(op_classes), shape_opts=opts, reference=ref))


# Elementwise, binary (NumPy broadcasting) and with Python scalars (weak typing).
_add("add", "", ops.add, (_R, _R), "elementwise", [_ew.Add], ref=np.add)
_add("add", "scalar", lambda a: 1.5 + a, (_R,), "elementwise", [_ew.Add], ref=lambda a: 1.5 + a)
_add("subtract", "", ops.subtract, (_R, _R), "elementwise", [_ew.Subtract], ref=np.subtract)
_add("subtract", "scalar", lambda a: 1.5 - a, (_R,), "elementwise", [_ew.Subtract], ref=lambda a: 1.5 - a)
_add("multiply", "", ops.multiply, (_R, _R), "elementwise", [_ew.Multiply], ref=np.multiply)
_add("multiply", "scalar", lambda a: a * -2.5, (_R,), "elementwise", [_ew.Scale], ref=lambda a: a * -2.5)
_add("multiply", "scalar first", lambda a: -2.5 * a, (_R,), "elementwise", [_ew.Multiply], ref=lambda a: -2.5 * a)
_add("divide", "", ops.divide, (_R, _N), "elementwise", [_ew.Divide], ref=np.divide)
_add("divide", "scalar numerator", lambda b: 2.0 / b, (_N,), "elementwise", [_ew.Divide], ref=lambda b: 2.0 / b)
_add("power", "", ops.power, (_P, _R), "elementwise", [_ew.Power], ref=np.power)
_add("power", "integer exponent", lambda a: a ** 3, (_R,), "elementwise", [_ew.Power], ref=lambda a: a * a * a)
_add("power", "fractional exponent", lambda a: a ** -1.5, (_P,), "elementwise", [_ew.Power],
     ref=lambda a: 1 / (a * np.sqrt(a)))
_add("power", "scalar base", lambda b: 2.0 ** b, (_R,), "elementwise", [_ew.Power], ref=lambda b: np.exp2(b))
_add("maximum", "", ops.maximum, (_D, _D), "elementwise", [_ew.Maximum], ref=np.maximum)
_add("minimum", "", ops.minimum, (_D, _D), "elementwise", [_ew.Minimum], ref=np.minimum)
_add("where", "fixed mask", _where, (_R, _R), "elementwise", [_ew.Where],
     ref=lambda a, b: np.where(_pattern(np.broadcast_shapes(a.shape, b.shape)), a, b))
# Elementwise, unary.
_add("negative", "", ops.negative, (_R,), "elementwise", [_ew.Negative], ref=np.negative)
_add("exp", "", ops.exp, (_R,), "elementwise", [_ew.Exp], ref=np.exp)
_add("log", "", ops.log, (_P,), "elementwise", [_ew.Log], ref=np.log)
_add("log1p", "", ops.log1p, (ABOVE_MINUS_ONE,), "elementwise", [_ew.Log1p], ref=np.log1p)
_add("sqrt", "", ops.sqrt, (_P,), "elementwise", [_ew.Sqrt], ref=np.sqrt)
_add("abs", "", ops.abs, (_N,), "elementwise", [_ew.Abs], ref=np.abs)
_add("sign", "", ops.sign, (_N,), "elementwise", [_ew.Sign], ref=np.sign)
_add("sin", "", ops.sin, (_R,), "elementwise", [_ew.Sin], ref=np.sin)
_add("cos", "", ops.cos, (_R,), "elementwise", [_ew.Cos], ref=np.cos)
_add("tan", "", ops.tan, (NO_POLES,), "elementwise", [_ew.Tan], ref=np.tan)
_add("tanh", "", ops.tanh, (_R,), "elementwise", [_ew.Tanh], ref=np.tanh)
_add("sigmoid", "", ops.sigmoid, (_R,), "elementwise", [_ew.Sigmoid], ref=lambda x: 1 / (1 + np.exp(-x)))
_add("relu", "", ops.relu, (_N,), "elementwise", [_ew.Relu], ref=lambda x: np.maximum(x, 0.0))
_add("erf", "", ops.erf, (_R,), "elementwise", [_sp.Erf], ref=np.vectorize(math.erf, otypes=[np.float64]))
_add("clip", "lo and hi", lambda x: ops.clip(x, CLIP_LO, CLIP_HI), (AWAY_FROM_BOUNDS,), "elementwise", [_ew.Clip],
     ref=lambda x: np.clip(x, CLIP_LO, CLIP_HI))
_add("clip", "lo only", lambda x: ops.clip(x, lo=CLIP_LO), (AWAY_FROM_BOUNDS,), "elementwise", [_ew.Clip],
     ref=lambda x: np.maximum(x, CLIP_LO))
_add("clip", "hi only", lambda x: ops.clip(x, hi=CLIP_HI), (AWAY_FROM_BOUNDS,), "elementwise", [_ew.Clip],
     ref=lambda x: np.minimum(x, CLIP_HI))
_add("astype", "float64", lambda x: ops.astype(x, np.float64), (_R,), "elementwise", [_ew.AsType],
     ref=lambda x: x.astype(np.float64))


def _np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


# Reductions: axis None / int / negative int / tuple, keepdims.
for _name, _cls, _dom, _ref in (("sum", _rd.Sum, _R, np.sum), ("mean", _rd.Mean, _R, np.mean),
                                ("prod", _rd.Prod, _N, np.prod), ("max", _rd.Max, _D, np.max),
                                ("min", _rd.Min, _D, np.min), ("logsumexp", _rd.LogSumExp, _R, _np_logsumexp)):
    _f = getattr(ops, _name)
    _add(_name, "axis=None", _f, (_dom,), "reduction", [_cls], ref=_ref)
    _add(_name, "axis=0", lambda x, _f=_f: _f(x, axis=0), (_dom,), "reduction", [_cls],
         ref=lambda x, _r=_ref: _r(x, axis=0), min_ndim=1)
    _add(_name, "axis=-1, keepdims", lambda x, _f=_f: _f(x, axis=-1, keepdims=True), (_dom,), "reduction", [_cls],
         ref=lambda x, _r=_ref: _r(x, axis=-1, keepdims=True), min_ndim=1)
    _add(_name, "axis=(0, -1)", lambda x, _f=_f: _f(x, axis=(0, -1)), (_dom,), "reduction", [_cls],
         ref=lambda x, _r=_ref: _r(x, axis=(0, -1)), min_ndim=2)
# std is not differentiable where all values of a group are equal: draw tie-free values.
for _name, _cls, _dom, _ref in (("var", _rd.Var, _R, np.var), ("std", _rd.Std, _D, np.std)):
    _f = getattr(ops, _name)
    _add(_name, "axis=None", _f, (_dom,), "reduction", [_cls], ref=_ref, min_ndim=1, min_side=2)
    _add(_name, "axis=-1, ddof=1", lambda x, _f=_f: _f(x, axis=-1, ddof=1), (_dom,), "reduction", [_cls],
         ref=lambda x, _r=_ref: _r(x, axis=-1, ddof=1), min_ndim=1, min_side=2)
    _add(_name, "axis=(0, 1), keepdims", lambda x, _f=_f: _f(x, axis=(0, 1), keepdims=True), (_dom,), "reduction",
         [_cls], ref=lambda x, _r=_ref: _r(x, axis=(0, 1), keepdims=True), min_ndim=2, min_side=2)
_add("prod", "with zeros", lambda x: ops.prod(x * (x > 0.5).data, axis=-1), (AWAY_FROM_ZERO_AND_HALF,), "reduction",
     [_rd.Prod],
     ref=lambda x: np.prod(x * (x > 0.5), axis=-1), min_ndim=1)


def _np_softmax(x, axis):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


_add("softmax", "axis=-1", ops.softmax, (_R,), "reduction", [_rd.Softmax], ref=lambda x: _np_softmax(x, -1),
     min_ndim=1)
_add("softmax", "axis=0", lambda x: ops.softmax(x, axis=0), (_R,), "reduction", [_rd.Softmax],
     ref=lambda x: _np_softmax(x, 0), min_ndim=1)
_add("log_softmax", "axis=-1", ops.log_softmax, (_R,), "reduction", [_rd.LogSoftmax],
     ref=lambda x: np.log(_np_softmax(x, -1)), min_ndim=1)
_add("log_softmax", "axis=0", lambda x: ops.log_softmax(x, axis=0), (_R,), "reduction", [_rd.LogSoftmax],
     ref=lambda x: np.log(_np_softmax(x, 0)), min_ndim=1)


def _np_masked_softmax(x, keep=None):
    x = np.where(keep, x, -np.inf) if keep is not None else x
    m = np.max(x, axis=-1, keepdims=True, initial=-np.inf)
    e = np.exp(x - np.where(np.isfinite(m), m, 0))
    t = e.sum(-1, keepdims=True)
    return e / np.where(t > 0, t, 1)


_KEEP = np.array([True, False, True, True, False, True])  # a mask along the last axis (length <= 6)
_add("masked_softmax", "last axis", ops.masked_softmax, (_R,), "reduction", [_at.MaskedSoftmax], ref=_np_masked_softmax,
     min_ndim=1)
_add("masked_softmax", "keep", lambda x: ops.masked_softmax(x, _KEEP[: x.shape[-1]]), (_R,), "reduction",
     [_at.MaskedSoftmax], ref=lambda x: _np_masked_softmax(x, _KEEP[: x.shape[-1]]), min_ndim=1, max_side=6)

# Shape ops.
_add("reshape", "flat -1", lambda x: ops.reshape(x, -1), (_R,), "shape", [_sh.Reshape],
     ref=lambda x: x.reshape(-1))
_add("reshape", "reversed shape", _reverse_reshape, (_R,), "shape", [_sh.Reshape],
     ref=lambda x: x.reshape(x.shape[::-1]))
_add("transpose", "reverse", ops.transpose, (_R,), "shape", [_sh.Transpose], ref=np.transpose)
_add("transpose", "last axis first", _last_first, (_R,), "shape", [_sh.Transpose],
     ref=lambda x: np.moveaxis(x, -1, 0), min_ndim=1)
_add("swapaxes", "0, -1", lambda x: ops.swapaxes(x, 0, -1), (_R,), "shape", [_sh.Transpose],
     ref=lambda x: np.swapaxes(x, 0, -1), min_ndim=1)
_add("squeeze", "all", ops.squeeze, (_R,), "shape", [_sh.Reshape], ref=np.squeeze)
_add("squeeze", "axis=0", lambda x: ops.squeeze(x, 0), (_R,), "shape", [_sh.Reshape],
     ref=lambda x: np.squeeze(x, 0), min_ndim=1, size_one_axes=(0,))
_add("expand_dims", "axis=0", lambda x: ops.expand_dims(x, 0), (_R,), "shape", [_sh.Reshape],
     ref=lambda x: np.expand_dims(x, 0))
_add("expand_dims", "axis=(0, -1)", lambda x: ops.expand_dims(x, (0, -1)), (_R,), "shape", [_sh.Reshape],
     ref=lambda x: np.expand_dims(x, (0, -1)))
_add("flatten", "", ops.flatten, (_R,), "shape", [_sh.Reshape], ref=lambda x: x.flatten())
_add("broadcast_to", "new axis, size-1 stretched", _broadcast_up, (_R,), "shape", [_rd.BroadcastTo],
     ref=lambda x: np.broadcast_to(x, (2,) + tuple(2 if s == 1 else s for s in x.shape)))
_add("repeat", "axis=None", lambda x: ops.repeat(x, 2), (_R,), "shape", [_ix.Getitem],
     ref=lambda x: np.repeat(x, 2))
_add("repeat", "axis=0, counts", lambda x: ops.repeat(x, np.arange(x.shape[0]) % 3, axis=0), (_R,), "shape",
     [_ix.Getitem], ref=lambda x: np.repeat(x, np.arange(x.shape[0]) % 3, axis=0), min_ndim=1)
_add("tile", "(2,)", lambda x: ops.tile(x, 2), (_R,), "shape", [_sh.Reshape, _rd.BroadcastTo],
     ref=lambda x: np.tile(x, 2))
_add("tile", "(2, 1, 2)", lambda x: ops.tile(x, (2, 1, 2)), (_R,), "shape", [_sh.Reshape, _rd.BroadcastTo],
     ref=lambda x: np.tile(x, (2, 1, 2)))
_add("concatenate", "axis=0", lambda a, b: ops.concatenate([a, b]), (_R, _R), "same", [_sh.Concatenate],
     ref=lambda a, b: np.concatenate([a, b]), min_ndim=1)
_add("concatenate", "axis=-1, three", lambda a, b, c: ops.concatenate([a, b, c], axis=-1), (_R, _R, _R), "same",
     [_sh.Concatenate], ref=lambda a, b, c: np.concatenate([a, b, c], axis=-1), min_ndim=1)
_add("stack", "axis=0", lambda a, b: ops.stack([a, b]), (_R, _R), "same", [_sh.Concatenate],
     ref=lambda a, b: np.stack([a, b]))
_add("stack", "axis=-1", lambda a, b: ops.stack([a, b], axis=-1), (_R, _R), "same", [_sh.Concatenate],
     ref=lambda a, b: np.stack([a, b], axis=-1))
_add("concatenate", "one tensor", lambda a: ops.concatenate([a]), (_R,), "same", [_sh.Concatenate],
     ref=lambda a: np.concatenate([a]), min_ndim=1)
_add("stack", "one tensor", lambda a: ops.stack([a]), (_R,), "same", [_sh.Concatenate],
     ref=lambda a: np.stack([a]))
# Several outputs from one node: every output is used, or (first only) the others get no gradient.
_add("split", "points [1]", lambda x: tuple(ops.split(x, [1])), (_R,), "shape", [_sh.Split],
     ref=lambda x: tuple(np.split(x, [1])), min_ndim=1)
_add("split", "2 sections, axis=-1", lambda x: tuple(ops.split(x, 2, axis=-1)), (_R,), "shape",
     [_sh.Split], ref=lambda x: tuple(np.split(x, 2, axis=-1)), min_ndim=1, even_last=True)
_add("split", "points [0, 1], first piece unused", lambda x: tuple(ops.split(x, [0, 1])[1:]), (_R,), "shape",
     [_sh.Split], ref=lambda x: tuple(np.split(x, [0, 1])[1:]), min_ndim=1)
_add("split", "2 sections, only the last used", lambda x: ops.split(x, 2, axis=-1)[-1], (_R,), "shape",
     [_sh.Split], ref=lambda x: np.split(x, 2, axis=-1)[-1], min_ndim=1, even_last=True)
_add("unbind", "axis=0", lambda x: tuple(ops.unbind(x)), (_R,), "shape", [_sh.Unbind],
     ref=lambda x: tuple(x[i] for i in range(x.shape[0])), min_ndim=1)
_add("unbind", "axis=-1, only the first used", lambda x: ops.unbind(x, axis=-1)[0], (_R,), "shape", [_sh.Unbind],
     ref=lambda x: x[..., 0], min_ndim=1)
_add("pad", "constant", lambda x: ops.pad(x, 1, constant_values=0.5), (_R,), "shape", [_sh.Pad],
     ref=lambda x: np.pad(x, 1, constant_values=0.5) if x.ndim else x.copy())
_add("pad", "constant, per axis", lambda x: ops.pad(x, [(0, 1)] + [(1, 0)] * (x.ndim - 1)), (_R,), "shape",
     [_sh.Pad], ref=lambda x: np.pad(x, [(0, 1)] + [(1, 0)] * (x.ndim - 1)), min_ndim=1)
for _mode in ("edge", "reflect", "symmetric", "wrap"):
    _add("pad", _mode, lambda x, _m=_mode: ops.pad(x, 1, mode=_m), (_R,), "shape", [_ix.Getitem],
         ref=lambda x, _m=_mode: np.pad(x, 1, mode=_m), min_ndim=1, min_side=2)

# Indexing (the backward scatter-adds; repeated indices accumulate).
_add("getitem", "int", lambda x: x[0], (_R,), "index", [_ix.Getitem], ref=lambda x: x[0], min_ndim=1)
_add("getitem", "slices", lambda x: x[::2, 1:], (_R,), "index", [_ix.Getitem], ref=lambda x: x[::2, 1:],
     min_ndim=2)
_add("getitem", "ellipsis and newaxis", lambda x: x[..., None, -1], (_R,), "index", [_ix.Getitem],
     ref=lambda x: x[..., None, -1], min_ndim=1)
_add("getitem", "empty slice", lambda x: x[1:1], (_R,), "index", [_ix.Getitem], ref=lambda x: x[1:1],
     min_ndim=1)
_add("getitem", "repeated index array", _repeated_rows, (_R,), "index", [_ix.Getitem],
     ref=lambda x: x[np.array([0, -1, 0])], min_ndim=1)
_add("getitem", "boolean mask", _mask_rows, (_R,), "index", [_ix.Getitem], ref=lambda x: x[_pattern(x.shape)])
_add("getitem", "mixed advanced", _mixed_index, (_R,), "index", [_ix.Getitem],
     ref=lambda x: x[..., np.array([0, 0]), None] if x.ndim >= 1 else x[None], min_ndim=1)
_add("take", "axis=0", lambda x, i: ops.take(x, i, axis=0), (_R, INDEX), "take", [_ix.Getitem],
     ref=lambda x, i: np.take(x, i, axis=0))
_add("take", "flat", lambda x, i: ops.take(x, i), (_R, INDEX), "take", [_ix.Getitem], ref=np.take)


def _np_scatter(x):
    out = np.zeros((2,) + x.shape[1:], dtype=x.dtype)
    np.add.at(out, np.arange(x.shape[0]) % 2, x)
    return out


_add("scatter_add", "repeated rows", _scatter, (_R,), "index", [_ix.ScatterAdd], ref=_np_scatter, min_ndim=1)

# Matrix products.
for _form in ("vv", "mv", "vm", "mm", "batched"):
    _add("matmul", _form, ops.matmul, (_R, _R), "matmul", [_la.Matmul], ref=np.matmul, form=_form)
for _subs in ("ij,jk->ik", "ii->i", "ii", "ij->j", "bij,bjk->bik", "i,j->ij", "...ij,...jk->...ik", "ij,ij->",
              "ij,jk,kl->il", "i...i->..."):
    _add("einsum", _subs, lambda *xs, _s=_subs: ops.einsum(_s, *xs), (_R,) * (_subs.split("->")[0].count(",") + 1),
         "einsum", [_la.Einsum], ref=lambda *xs, _s=_subs: np.einsum(_s, *xs), subscripts=_subs)

# Linear layers' fused node: x Wᵀ + b (x of any leading shape, 1-D included), and without a bias.
_add("linear", "bias", lambda x, w, b: _lin.linear(x, w, b), (_R, _R, _R), "einsum", [_lin.Linear],
     ref=lambda x, w, b: x @ w.T + b, subscripts="...i,oi,o->...o")
_add("linear", "no bias", lambda x, w: _lin.linear(x, w), (_R, _R), "einsum", [_lin.Linear], ref=lambda x, w: x @ w.T,
     subscripts="...i,oi->...o")

# Convolution and pooling (the sliding-windows pair and window max) over fixed stride, padding, dilation
# and groups, on drawn batch, channel, kernel and spatial sizes. Max pooling draws tie-free values.


def _np_conv(x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """Cross-correlation as a loop over output positions (the reference for the conv entries)."""
    t, bt, lf, rt = padding
    xp = np.pad(x, ((0, 0), (0, 0), (t, bt), (lf, rt)))
    o, cg, kh, kw = w.shape
    ho = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((x.shape[0], o, ho, wo), dtype=x.dtype)
    og = o // groups
    for p in range(ho):
        for q in range(wo):
            patch = xp[:, :, p * stride[0]:p * stride[0] + dilation[0] * (kh - 1) + 1:dilation[0],
                       q * stride[1]:q * stride[1] + dilation[1] * (kw - 1) + 1:dilation[1]]
            for k in range(o):
                g = k // og
                out[:, k, p, q] = np.einsum("nchw,chw->n", patch[:, g * cg:(g + 1) * cg], w[k])
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def _np_pool(x, reduce, kernel, stride, padding=(0, 0, 0, 0), dilation=(1, 1), value=0.0):
    t, bt, lf, rt = padding
    xp = np.pad(x, ((0, 0), (0, 0), (t, bt), (lf, rt)), constant_values=value)
    ho = (xp.shape[2] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    wo = (xp.shape[3] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    out = np.empty(x.shape[:2] + (ho, wo), dtype=x.dtype)
    for p in range(ho):
        for q in range(wo):
            out[:, :, p, q] = reduce(xp[:, :, p * stride[0]:p * stride[0] + dilation[0] * (kernel[0] - 1) + 1:
                                        dilation[0], q * stride[1]:q * stride[1] + dilation[1] * (kernel[1] - 1) + 1:
                                        dilation[1]], axis=(2, 3))
    return out


_CONV_VARIANTS = (  # variant, stride, padding, dilation, groups, bias
    ("plain", (1, 1), (0, 0, 0, 0), (1, 1), 1, True),
    ("stride 2, padding 1", (2, 2), (1, 1, 1, 1), (1, 1), 1, True),
    ("uneven stride and padding", (1, 2), (0, 1, 2, 0), (1, 1), 1, False),
    ("dilation 2", (1, 1), (1, 1, 0, 0), (2, 2), 1, True),
    ("groups 2", (1, 1), (0, 0, 0, 0), (1, 1), 2, True),
    ("depthwise (groups 3)", (2, 1), (1, 1, 1, 1), (1, 2), 3, False),
)
for _v, _s, _p, _d, _g, _b in _CONV_VARIANTS:
    _add("conv2d", _v, lambda *a, _s=_s, _p=_p, _d=_d, _g=_g: _cv.conv2d(*a, stride=_s, padding=_p, dilation=_d,
                                                                         groups=_g),
         (_R,) * (3 if _b else 2), "conv", [_cv.Conv2dOp],
         ref=lambda *a, _s=_s, _p=_p, _d=_d, _g=_g: _np_conv(*a, stride=_s, padding=_p, dilation=_d, groups=_g),
         weight=True, bias=_b, stride=_s, padding=_p, dilation=_d, groups=_g)
_add("sliding_windows", "kernel 2x3, stride (2, 1), dilation (1, 2)",
     lambda x: _cv.sliding_windows(x, (2, 3), (2, 1), (1, 2)), (_R,), "conv", [_cv.Windows],
     ref=lambda x: _cv._windows_np(x, (2, 3), (2, 1), (1, 2)), kernel=(2, 3), stride=(2, 1), dilation=(1, 2))
_add("fold_windows", "of windows 2x2, stride 1", lambda x: _cv.fold_windows(_cv.sliding_windows(x, 2), x.shape),
     (_R,), "conv", [_cv.Windows, _cv.Fold],
     ref=lambda x: _cv._fold_np(_cv._windows_np(x, (2, 2)), x.shape), kernel=(2, 2))
for _v, _k, _s, _p, _d in (("2x2", (2, 2), (2, 2), (0, 0, 0, 0), (1, 1)),
                           ("3x3 stride 2 padding 1", (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
                           ("overlapping 2x2, dilation (1, 2), padding at the end", (2, 2), (1, 1), (0, 1, 0, 1),
                            (1, 2))):
    _add("max_pool2d", _v, lambda x, _k=_k, _s=_s, _p=_p, _d=_d: _cv.max_pool2d(x, _k, _s, _p, _d), (_D,), "conv",
         [_cv.WindowMax], ref=lambda x, _k=_k, _s=_s, _p=_p, _d=_d: _np_pool(x, np.max, _k, _s, _p, _d, -np.inf),
         kernel=_k, stride=_s, padding=_p, dilation=_d)
for _v, _k, _s, _p in (("2x2", (2, 2), (2, 2), (0, 0, 0, 0)), ("3x2 stride 1 padding 1", (3, 2), (1, 1), (1, 1, 1, 1))):
    _add("avg_pool2d", _v, lambda x, _k=_k, _s=_s, _p=_p: _cv.avg_pool2d(x, _k, _s, _p), (_R,), "conv",
         [_cv.Windows], ref=lambda x, _k=_k, _s=_s, _p=_p: _np_pool(x, np.mean, _k, _s, _p),
         kernel=_k, stride=_s, padding=_p)
_add("avg_pool2d", "ceil overhang, padding not counted", lambda x: _cv.avg_pool2d(
     x, (2, 2), (2, 2), (1, 0, 1, 0), overhang=(1, 1), count_include_pad=False), (_R,), "conv", [_cv.Windows],
     ref=lambda x: _np_pool(np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1))), np.sum, (2, 2), (2, 2), (1, 0, 1, 0))
     / _np_pool(np.pad(np.ones_like(x), ((0, 0), (0, 0), (0, 1), (0, 1))), np.sum, (2, 2), (2, 2), (1, 0, 1, 0)),
     kernel=(2, 2), stride=(2, 2), padding=(1, 1, 1, 1))

# The machinery around ops: grad's differentiable results (an identity alias node) and user Functions
# (NumPy backward, so once differentiable).


class _Cube(Function):
    """x³ with a hand-written NumPy backward: the registry's example of a one-output Function."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * x * g


class _SinCos(Function):
    """(sin x, cos x): the registry's example of a Function with two outputs."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x), np.cos(x)

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved_tensors
        return g_sin * np.cos(x) - g_cos * np.sin(x)


def _grad_of_cube_sum(x):
    return grad(lambda y: (y * y * y).sum())(x)


register(OpEntry("grad", "of sum(x³)", _grad_of_cube_sum, (_R,), "elementwise", (_Alias,),
                 reference=lambda x: 3 * x * x))
register(OpEntry("Function", "one output", _Cube.apply, (_R,), "elementwise", (_FunctionNode,), second_order=False,
                 reference=lambda x: x * x * x))
register(OpEntry("Function", "two outputs", _SinCos.apply, (_R,), "elementwise", (_FunctionNode,),
                 second_order=False, reference=lambda x: (np.sin(x), np.cos(x))))

# Op classes that are plumbing, not operations a user calls: exempt from needing an entry.
INTERNAL_OPS = frozenset({
    _OnceDifferentiable,  # a gradient computed outside the graph (Function, op saving a view); refuses a backward
})
from .capture import CAPTURE_OPS  # noqa: E402  (random draws and statistic writes as ops a replay repeats)

INTERNAL_OPS = INTERNAL_OPS | CAPTURE_OPS


# ----------------------------------------------------------------------------- public functions without gradients

NON_DIFFERENTIABLE = frozenset({
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",  # boolean results
    "floor_divide",  # piecewise constant
    "argmax", "argmin",  # integer results
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "linspace", "eye",  # creation
    "rand", "randn", "randint",  # random draws
})

# The rest of the public API: not array functions at all.
NOT_OPS = frozenset({
    "Tensor", "tensor", "from_numpy", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "get_default_dtype", "set_default_dtype", "manual_seed", "get_rng_state", "set_rng_state",
    "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian",
    "Function", "FunctionCtx", "gradcheck", "gradgradcheck", "GradcheckError", "detect_anomaly", "is_anomaly_enabled",
    "from_dlpack",  # DLPack exchange (autograd/dlpack.py)
    "capture",  # record a training step once and replay it (autograd/capture.py)
})


# ----------------------------------------------------------------------------- queries


def entries(name: str | None = None) -> tuple[OpEntry, ...]:
    """All registry entries, or those of the public function ``name``."""
    found = tuple(e for e in _ENTRIES if name is None or e.name == name)
    if name is not None and not found:
        raise KeyError(f"registry: no differentiable op named {name!r}")
    return found


def get(entry_id: str) -> OpEntry:
    """The entry with id ``name[variant]`` (or a plain name with a single entry)."""
    for e in _ENTRIES:
        if e.id == entry_id:
            return e
    matches = [e for e in _ENTRIES if e.name == entry_id]
    if len(matches) == 1:
        return matches[0]
    raise KeyError(f"registry: no entry {entry_id!r}" + (f"; variants: {[e.id for e in matches]}" if matches else ""))


def names() -> frozenset[str]:
    """Names of the public functions that have registry entries."""
    return frozenset(e.name for e in _ENTRIES)


def covered_ops() -> frozenset[type[Op]]:
    """Every Op class some entry exercises."""
    return frozenset(c for e in _ENTRIES for c in e.ops)


def markdown_table() -> str:
    """The registry as a Markdown table (op, variants, input domains, second order), for the docs."""
    rows = ["| op | variants | input domains | second order checked |", "|---|---|---|---|"]
    for name in dict.fromkeys(e.name for e in _ENTRIES):
        group = entries(name)
        variants = ", ".join(f"`{e.variant}`" if e.variant else "plain" for e in group)
        domains = "; ".join(dict.fromkeys(" × ".join(d.name for d in e.domains) for e in group))
        second = "yes" if all(e.second_order for e in group) else "no (once differentiable)"
        rows.append(f"| `{name}` | {variants} | {domains} | {second} |")
    rows.append("")
    rows.append("No gradient: " + ", ".join(f"`{n}`" for n in sorted(NON_DIFFERENTIABLE)) + ".")
    return "\n".join(rows) + "\n"
