"""Helpers shared by the op families: argument conversion, axis checks, dual functions."""
from __future__ import annotations

import numpy as np

from ..dtypes import refuse_dtype, to_array
from ..op import INPUT, OUTPUT, SAVE_OUTPUT, Input, Op, Output  # noqa: F401  (re-exported for the op families)
from ..tensor import Tensor

_SCALARS = (int, float, bool)

# What public op functions accept: Tensors, ndarrays, Python numbers and (nested) lists of numbers.
TensorLike = Tensor | np.ndarray | float | int | bool | list
Axis = int | tuple[int, ...] | None


def as_operand(x, who: str = "tensor"):
    """A Tensor or ndarray unchanged; a Python number kept as-is (NumPy's weak scalar typing);
    anything else (lists, NumPy scalars) converted with the dtype policy. Errors name ``who``."""
    if isinstance(x, Tensor) or type(x) in _SCALARS:
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":  # object, str, bytes, datetime, complex
            refuse_dtype(who, x.dtype)
        return x
    return to_array(x, who=who)


def as_tensor_arg(x, who: str = "tensor"):
    """Like ``as_operand`` but a lone Python number becomes a 0-d array of the default dtype."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            refuse_dtype(who, x.dtype)
        return x
    return to_array(x, who=who)


# The float dtypes whose Python-number operands become 0-d arrays of their own dtype (see ``constant_like``).
FLOAT_DTYPES = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64, np.longdouble))


def _read_only_scalar(value, dtype):
    """``value`` as a 0-d array of ``dtype`` that nothing can write into (it is shared)."""
    c = np.array(value, dtype)
    c.flags.writeable = False
    return c


# 0 and 1 as read-only 0-d arrays of each float dtype, made once, for formulas such as ``1 - s`` on arrays or
# Tensors (see ``scalar_operand``): ``ONE.get(x.dtype, 1)`` is 1 in x's float dtype and the number itself for
# any other dtype. (A dict lookup: on the per-op hot paths a function call costs several times as much.)
ZERO = {d: _read_only_scalar(0, d) for d in FLOAT_DTYPES}
ONE = {d: _read_only_scalar(1, d) for d in FLOAT_DTYPES}


def scalar_operand(value, dtype):
    """A Python number paired with an array of float ``dtype`` as a 0-d array of that dtype: the same cast
    NumPy's weak scalar typing makes (float32 stays float32), done once, because a ufunc takes about as long
    again to resolve a Python scalar as to compute on a small array. Other dtypes keep the number as it is."""
    return np.array(value, dtype) if dtype in FLOAT_DTYPES else value


def constant_like(value, x):
    """0 or 1 as a read-only 0-d array of ``x``'s float dtype (``ZERO``/``ONE``); the number itself for other
    dtypes."""
    if value == 0 or value == 1:
        return (ONE if value else ZERO).get(x.dtype, value)
    raise ValueError(f"constant_like: only 0 and 1 are kept, got {value!r}")


def as_index_array(x, who: str, what: str) -> np.ndarray:
    """``np.asarray(x)`` for an argument that is not an operand (indices, repeats, bounds, a condition);
    a ragged list is a ValueError naming ``who`` and ``what``."""
    try:
        return np.asarray(x._data if isinstance(x, Tensor) else x)
    except ValueError as e:
        raise ValueError(f"{who}: {what} cannot be a ragged nested list ({e})") from None


def as_float(a: np.ndarray) -> np.ndarray:
    """Integer and bool arrays as the float dtype NumPy's ufuncs give them, for functions defined on reals
    (sigmoid, softmax, logsumexp): negating a uint8 wraps and an int cannot hold -inf."""
    return a.astype(np.result_type(a.dtype, np.float16)) if a.dtype.kind in "biu" else a


def shape_of(x):
    """Shape of a Tensor or ndarray; () for a Python number."""
    return x.shape if isinstance(x, (Tensor, np.ndarray)) else ()


def normalize_axes(op_name, axis, ndim):
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of distinct axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{op_name}: axis must be an int or a tuple of ints, got {axis!r}")
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op_name}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{op_name}: axis {a} is out of bounds for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op_name}: repeated axis in {axis!r}")
    return tuple(sorted(out)) if ndim else ()


def normalize_axis(op_name, axis, ndim):
    """A single axis as a non-negative int, with a clear error when out of range."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op_name}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op_name}: axis {axis} is out of bounds for a tensor with {ndim} dimensions")
    return int(axis) % ndim


def keepdims_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (where a reduced gradient is reshaped to)."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def dual(numpy_fn, op_cls, name=None):
    """A function that records ``op_cls`` when given a Tensor and calls NumPy otherwise.

    Backward code uses these so one implementation serves plain and recorded backward.
    """

    def fn(*args, **params):
        for a in args:
            if isinstance(a, Tensor):
                return op_cls.apply(*args, **params)
        return numpy_fn(*args, **params)

    fn.__name__ = name or numpy_fn.__name__
    return fn


def check_broadcast(op_name, *shapes):
    """The broadcast shape of ``shapes``, or a ValueError naming the op and shapes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op_name}: shapes {', '.join(map(str, shapes))} cannot be broadcast together") from None
