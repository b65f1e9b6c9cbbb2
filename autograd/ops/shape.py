"""Shape ops. Reshape, Transpose, Concatenate, Pad and Split (one node, several outputs) are ops; the
rest (squeeze, expand_dims, flatten, swapaxes, stack, unbind, tile, repeat) are built from them and
from indexing, following NumPy's semantics and argument names."""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..tensor import Tensor
from .base import Axis, Op, TensorLike, as_index_array, as_tensor_arg, normalize_axes, normalize_axis
from .index import take
from .reduce import broadcast_to


def _shape_arg(shape, name="reshape"):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` alike; TypeError naming ``name`` for non-ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{name}: shape must be ints or a tuple of ints, got {shape!r}")
    return tuple(int(s) for s in shape)


class Reshape(Op):
    """Same data in a new shape; the gradient is reshaped back."""

    name = "reshape"

    def forward(self, a, shape=()):
        self.saved = (a.shape,)
        return a.reshape(shape)

    rule = "∂reshape(a)/∂a = 1: the gradient reshaped back"
    def backward(self, g):
        return g.reshape(self.saved[0])


class Transpose(Op):
    """Permute axes; the gradient is permuted back with the inverse permutation."""

    name = "transpose"

    def forward(self, a, axes=()):
        self.saved = (tuple(np.argsort(axes)),)
        return a.transpose(axes)

    rule = "∂transpose(a)/∂a = 1: the gradient transposed back"
    def backward(self, g):
        return g.transpose(self.saved[0])


class Concatenate(Op):
    """Join along an existing axis; each input gets its slice of the gradient back."""

    name = "concatenate"

    def forward(self, *arrays, axis=0):
        bounds = np.cumsum([0] + [a.shape[axis] for a in arrays])
        self.saved = (axis, bounds)
        return np.concatenate(arrays, axis=axis)

    rule = "∂concat(a, b, …)/∂a = 1: each input gets its slice of the gradient"
    def backward(self, g):
        axis, bounds = self.saved
        lead = (slice(None),) * axis
        return tuple(g[lead + (slice(int(lo), int(hi)),)] for lo, hi in itertools.pairwise(bounds))


class Pad(Op):
    """Constant padding (``np.pad`` mode 'constant'); the gradient is the un-padded slice."""

    name = "pad"

    def forward(self, a, pad_width=(), constant_values=0):
        self.saved = (tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, a.shape)),)
        if a.ndim == 0:
            return a.copy()  # nothing to pad (np.pad rejects 0-d arrays)
        return np.pad(a, pad_width, mode="constant", constant_values=constant_values)

    rule = "∂pad(a)/∂a = 1: the gradient with the padding cut off"
    def backward(self, g):
        return g[self.saved[0]]


class Split(Op):
    """Cut along ``axis`` at ``bounds`` into views, one output each; the gradient joins the pieces'
    gradients, with zeros only for a piece that received none."""

    name = "split"
    squeeze = False  # Unbind: each piece is one index along the axis, which is dropped

    def forward(self, a, axis=0, bounds=()):
        self.saved = (a.shape, a.dtype, axis, bounds)
        lead = (slice(None),) * axis
        if self.squeeze:
            return tuple(a[lead + (i,)] for i in range(a.shape[axis]))
        return tuple(a[lead + (slice(lo, hi),)] for lo, hi in itertools.pairwise(bounds))

    rule = "∂split(a)ₖ/∂a = 1 on piece k: the pieces' gradients put back together (zeros for none)"
    def backward(self, *grads):
        shape, dtype, axis, bounds = self.saved
        present = next(g for g in grads if g is not None)
        pieces = []
        for g, (lo, hi) in zip(grads, itertools.pairwise(bounds)):
            if g is None:
                g = np.zeros(shape[:axis] + (() if self.squeeze else (hi - lo,)) + shape[axis + 1:], present.dtype)
            pieces.append(g)
        if isinstance(present, Tensor):
            return stack(pieces, axis) if self.squeeze else concatenate(pieces, axis)
        return np.stack(pieces, axis) if self.squeeze else np.concatenate(pieces, axis)


class Unbind(Split):
    """Every index along ``axis`` as its own output (that axis removed); the gradient stacks them back."""

    name = "unbind"
    squeeze = True


# ----------------------------------------------------------------------------- public functions


def reshape(x: TensorLike, *shape: int | tuple[int, ...]) -> Tensor:
    """Same data in a new shape (one dimension may be -1)."""
    x = as_tensor_arg(x, "reshape")
    shape = _shape_arg(shape)
    bad = ValueError(f"reshape: cannot reshape tensor of shape {x.shape} ({x.size} elements) into {shape}")
    if shape.count(-1) > 1 or any(s < -1 for s in shape):
        raise bad
    if -1 in shape:
        known = math.prod([s for s in shape if s != -1])
        if known == 0 or x.size % known:
            raise bad
        new = tuple(x.size // known if s == -1 else s for s in shape)
    else:
        new = shape
    if math.prod(new) != x.size:
        raise bad
    return Reshape.apply(x, shape=new)


def transpose(x: TensorLike, *axes: int | tuple[int, ...]) -> Tensor:
    """Permute axes (NumPy): no axes reverses them, like ``.T``."""
    x = as_tensor_arg(x, "transpose")
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        axes = axes[0]
    if not axes:
        axes = tuple(range(x.ndim - 1, -1, -1))
    axes = tuple(normalize_axis("transpose", a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return Transpose.apply(x, axes=axes)


def swapaxes(x: TensorLike, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    x = as_tensor_arg(x, "swapaxes")
    a1, a2 = normalize_axis("swapaxes", axis1, x.ndim), normalize_axis("swapaxes", axis2, x.ndim)
    perm = list(range(x.ndim))
    perm[a1], perm[a2] = perm[a2], perm[a1]
    return transpose(x, perm)


def squeeze(x: TensorLike, axis: Axis = None) -> Tensor:
    """Remove axes of length 1 (all of them, or those in ``axis``)."""
    x = as_tensor_arg(x, "squeeze")
    if axis is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    axes = normalize_axes("squeeze", axis, x.ndim)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: cannot select axis {a} of shape {x.shape}: its length is not 1")
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in axes))


def expand_dims(x: TensorLike, axis: int | tuple[int, ...]) -> Tensor:
    """Insert length-1 axes at ``axis`` (int or tuple), as in NumPy."""
    x = as_tensor_arg(x, "expand_dims")
    if not isinstance(axis, (int, np.integer, tuple, list)) or isinstance(axis, bool):
        raise TypeError(f"expand_dims: axis must be an int or a tuple of ints, got {axis!r}")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out_ndim = x.ndim + len(axes)
    normalized = [normalize_axis("expand_dims", a, out_ndim) for a in axes]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"expand_dims: repeated axis in {axis!r}")
    axes = set(normalized)
    dims = iter(x.shape)
    return reshape(x, tuple(1 if i in axes else next(dims) for i in range(out_ndim)))


def flatten(x: TensorLike) -> Tensor:
    """All elements in one axis (NumPy's ``flatten``)."""
    x = as_tensor_arg(x, "flatten")
    return reshape(x, (x.size,))


def _tensor_sequence(name, tensors):
    """A list of tensors from a sequence argument, with a clear TypeError for anything else."""
    if isinstance(tensors, (str, bytes, set, frozenset, dict)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{name}: expected a sequence of tensors (a list or tuple), got {type(tensors).__name__}")
    if isinstance(tensors, np.ndarray) and tensors.dtype.kind not in "biuf":
        raise TypeError(f"{name}: an array of dtype {tensors.dtype} is not supported (tensors hold bool, integer or "
                        "floating values)")
    return [as_tensor_arg(t, name) for t in tensors]


def concatenate(tensors, axis: int | None = 0) -> Tensor:
    """Join a sequence of tensors along an existing axis (``axis=None``: flattened first, as in NumPy)."""
    tensors = _tensor_sequence("concatenate", tensors)
    if not tensors:
        raise ValueError("concatenate: need at least one tensor")
    if axis is None:
        tensors, axis = [flatten(t) for t in tensors], 0
    nd = tensors[0].ndim
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    axis = normalize_axis("concatenate", axis, nd)
    ref = tensors[0].shape
    for t in tensors[1:]:
        if t.ndim != nd or any(s != r for i, (s, r) in enumerate(zip(t.shape, ref)) if i != axis):
            raise ValueError(f"concatenate: shapes {', '.join(str(u.shape) for u in tensors)} do not match "
                             f"outside axis {axis}")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    tensors = _tensor_sequence("stack", tensors)
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {', '.join(str(t.shape) for t in tensors)}")
    axis = normalize_axis("stack", axis, tensors[0].ndim + 1)
    return concatenate([expand_dims(t, axis) for t in tensors], axis=axis)


def split(x: TensorLike, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """``np.split``: an int gives equal sections (must divide the axis), a list gives split points.

    One node with one output per piece (each a view), so the backward joins the pieces' gradients once."""
    x = as_tensor_arg(x, "split")
    if x.ndim == 0:
        raise ValueError("split: a zero-dimensional tensor cannot be split")
    axis = normalize_axis("split", axis, x.ndim)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: array split does not result in an equal division: "
                             f"axis {axis} of length {n} into {k} sections")
        points = [n // k * i for i in range(1, k)]
    else:
        if isinstance(indices_or_sections, (str, bytes)) or not hasattr(indices_or_sections, "__iter__"):
            raise TypeError(f"split: indices_or_sections must be an int or a sequence of ints, "
                            f"got {indices_or_sections!r}")
        points = []
        for p in indices_or_sections:
            if isinstance(p, (bool, np.timedelta64)) or not isinstance(p, (int, np.integer)):
                raise TypeError(f"split: split points must be ints, got {indices_or_sections!r}")
            points.append(int(p))
    # As slice bounds, like np.split: negatives count from the end, points past the ends are clipped.
    bounds = tuple([0] + [min(max(p + n if p < 0 else p, 0), n) for p in points] + [n])
    if any(lo > hi for lo, hi in itertools.pairwise(bounds)):
        raise ValueError(f"split: split points {list(indices_or_sections)} must be in increasing order along "
                         f"axis {axis} of length {n}")
    return list(Split.apply(x, axis=axis, bounds=bounds))


def unbind(x: TensorLike, axis: int = 0) -> tuple[Tensor, ...]:
    """Every index along ``axis`` as a tensor without that axis (like ``torch.unbind``); one node, n outputs."""
    x = as_tensor_arg(x, "unbind")
    if x.ndim == 0:
        raise ValueError("unbind: a zero-dimensional tensor has no axis to unbind")
    axis = normalize_axis("unbind", axis, x.ndim)
    n = x.shape[axis]
    if n == 0:
        return ()
    return Unbind.apply(x, axis=axis, bounds=tuple(range(n + 1)))


def repeat(x: TensorLike, repeats, axis: int | None = None) -> Tensor:
    """``np.repeat``: repeat each element (of the flattened tensor when axis is None)."""
    x = as_tensor_arg(x, "repeat")
    reps = as_index_array(repeats, "repeat", "repeats")
    if reps.dtype.kind not in "iu" or np.any(reps < 0) or reps.ndim > 1:
        raise ValueError(f"repeat: repeats must be non-negative integers, got {repeats!r}")
    if axis is None:
        x, axis = flatten(x), 0
    axis = normalize_axis("repeat", axis, x.ndim)
    try:
        index = np.repeat(np.arange(x.shape[axis]), reps)
    except ValueError:
        raise ValueError(f"repeat: {reps.size} repeats do not match axis {axis} of length {x.shape[axis]}") from None
    return take(x, index, axis=axis)


def _int_tuple(name, what, value):
    """An int or a sequence of ints as a tuple of ints; TypeError naming ``name`` otherwise (1.5 or '2')."""
    items = (value,) if isinstance(value, (int, np.integer)) else value
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise TypeError(f"{name}: {what} must be an int or a sequence of ints, got {value!r}")
    items = tuple(items)
    if any(isinstance(r, (bool, np.timedelta64)) or not isinstance(r, (int, np.integer)) for r in items):
        raise TypeError(f"{name}: {what} must be an int or a sequence of ints, got {value!r}")
    return tuple(int(r) for r in items)


def tile(x: TensorLike, reps: int | tuple[int, ...]) -> Tensor:
    """``np.tile``: the whole tensor repeated ``reps`` times along each axis."""
    x = as_tensor_arg(x, "tile")
    reps = _int_tuple("tile", "reps", reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must be non-negative, got {reps}")
    nd = max(x.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    shape = (1,) * (nd - x.ndim) + x.shape
    # (r0, d0, r1, d1, ...) by broadcasting, then merged pairwise into (r0*d0, r1*d1, ...)
    interleaved = reshape(x, tuple(v for s in shape for v in (1, s)))
    big = broadcast_to(interleaved, tuple(v for r, s in zip(reps, shape) for v in (r, s)))
    return reshape(big, tuple(r * s for r, s in zip(reps, shape)))


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x: TensorLike, pad_width, mode: str = "constant", constant_values=0) -> Tensor:
    """``np.pad`` for modes constant, edge, reflect, symmetric and wrap; differentiable."""
    x = as_tensor_arg(x, "pad")
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    pad_width = pad_width._data if isinstance(pad_width, Tensor) else pad_width
    try:
        widths = np.asarray(pad_width)
    except ValueError:  # ragged
        widths = np.asarray(0.5)
    if widths.dtype.kind not in "iu" or isinstance(pad_width, bool):
        raise TypeError(f"pad: pad_width must be ints (an int, (before, after), or one pair per axis), "
                        f"got {pad_width!r}")
    try:
        widths = np.broadcast_to(widths.astype(np.int64), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape {x.shape}") from None
    if np.any(widths < 0):
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    widths = tuple((int(lo), int(hi)) for lo, hi in widths)
    if mode == "constant":
        cv = as_index_array(constant_values, "pad", "constant_values")
        if cv.dtype.kind not in "biuf":
            raise TypeError(f"pad: constant_values must be real numbers, got {constant_values!r}")
        try:
            np.broadcast_to(cv, (x.ndim, 2))
        except ValueError:
            raise ValueError(f"pad: constant_values {constant_values!r} do not fit a tensor of shape {x.shape} "
                             "(a number, (before, after), or one pair per axis)") from None
        return Pad.apply(x, pad_width=widths, constant_values=constant_values)
    out = x
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            if x.shape[axis] == 0:
                raise ValueError(f"pad: cannot pad empty axis {axis} of shape {x.shape} in mode {mode!r}")
            index = np.pad(np.arange(x.shape[axis]), (lo, hi), mode=mode)
            out = take(out, index, axis=axis)
    return out if isinstance(out, Tensor) else Tensor._wrap(out)
