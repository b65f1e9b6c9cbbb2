"""Tensor creation with NumPy's signatures: zeros ones full zeros_like ones_like arange linspace eye.

A shape is a tuple or ints (``zeros((2, 3))`` or ``zeros(2, 3)``); ``dtype=None`` means the
default float dtype (``arange`` with only int arguments gives int64, like NumPy), and
``requires_grad`` makes the result a leaf that collects gradients.
"""
from __future__ import annotations

import numpy as np

from .dtypes import get_default_dtype, real_dtype, to_array
from .random import _leaf, shape_arg
from .tensor import Tensor


def _dtype(dtype, name="tensor"):
    if dtype is None:
        return get_default_dtype()
    return real_dtype(dtype, name)


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _leaf("zeros", np.zeros(shape_arg("zeros", shape), _dtype(dtype, "zeros")), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones; ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _leaf("ones", np.ones(shape_arg("ones", shape), _dtype(dtype, "ones")), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (default float dtype unless ``dtype`` is given)."""
    shape = shape_arg("full", (shape,))
    d = _dtype(dtype, "full")
    return _leaf("full", _filled("full", shape, fill_value, d), requires_grad)


def _filled(name, shape, fill_value, dtype):
    """``np.full``, refusing fill values that are not real numbers (a complex one would lose its imaginary part)."""
    fill = fill_value.data if isinstance(fill_value, Tensor) else fill_value
    kind = np.asarray(fill).dtype.kind if isinstance(fill, (int, float, complex, np.generic, np.ndarray)) else "O"
    if kind not in "biuf":
        raise TypeError(f"{name}: fill_value must be a real number, got {fill_value!r}")
    try:
        return np.full(shape, fill, dtype)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: cannot fill shape {shape} with {fill_value!r}") from None


def _like(name, x, dtype):
    arr = x.data if isinstance(x, Tensor) else to_array(x, who=name)
    return arr.shape, arr.dtype if dtype is None else _dtype(dtype, name)


def zeros_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape and (unless given) dtype of ``x``."""
    shape, d = _like("zeros_like", x, dtype)
    return _leaf("zeros_like", np.zeros(shape, d), requires_grad)


def ones_like(x, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape and (unless given) dtype of ``x``."""
    shape, d = _like("ones_like", x, dtype)
    return _leaf("ones_like", np.ones(shape, d), requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with the shape and (unless given) dtype of ``x``."""
    shape, d = _like("full_like", x, dtype)
    return _leaf("full_like", _filled("full_like", shape, fill_value, d), requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop) (``arange(n)`` is 0..n-1); int64 for int arguments."""
    if stop is None:
        start, stop = 0, start
    for v in (start, stop, step):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"arange: start, stop and step must be numbers, got {v!r}")
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        all_int = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if all_int else get_default_dtype()
    return _leaf("arange", np.arange(start, stop, step, dtype=_dtype(dtype, "arange")), requires_grad)


def linspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None, requires_grad: bool = False) -> Tensor:
    """``num`` evenly spaced values from start to stop (inclusive unless ``endpoint=False``)."""
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"linspace: num must be a non-negative int, got {num!r}")
    for v in (start, stop):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"linspace: start and stop must be numbers, got {v!r}")
    return _leaf("linspace", np.linspace(start, stop, int(num), endpoint=bool(endpoint)).astype(
        _dtype(dtype, "linspace")), requires_grad)


def eye(N: int, M: int | None = None, k: int = 0, dtype=None, requires_grad: bool = False) -> Tensor:
    """An N x M matrix with ones on diagonal ``k`` and zeros elsewhere."""
    for name, v in (("N", N), ("M", M if M is not None else N), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"eye: {name} must be an int, got {v!r}")
    if N < 0 or (M is not None and M < 0):
        raise ValueError(f"eye: N and M must be non-negative, got N={N}, M={M}")
    return _leaf("eye", np.eye(N, M, k, dtype=_dtype(dtype, "eye")), requires_grad)
