"""Argument checks shared by autograd and nn: a bad argument raises where the function is called, naming the
function and the argument (``TypeError`` for the wrong kind of value, ``ValueError`` for a value out of range)."""
from __future__ import annotations

import math

import numpy as np

_NUMBER = (int, float, np.integer, np.floating)


def number(value, name: str, who: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, finite: bool = True) -> float:
    """``value`` as a float: a real number (not a bool, str or None), not NaN, inf only if ``finite`` is False,
    and within ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    if isinstance(value, (bool, np.bool_, np.timedelta64)) or not isinstance(value, _NUMBER):
        raise TypeError(f"{who}: {name} must be a number, got {value!r}")
    v = float(value)
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{who}: {name} must be a finite number, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        bound = ("positive" if low_open else "non-negative") if low == 0 else f"{'>' if low_open else '>='} {low}"
        raise ValueError(f"{who}: {name} must be {bound}, got {value!r}")
    if high is not None and v > high:
        raise ValueError(f"{who}: {name} must be <= {high}, got {value!r}")
    return v


def float_dtype(dtype, who: str) -> np.dtype:
    """A floating parameter dtype: the default one for None, else a floating NumPy dtype (TypeError naming ``who``)."""
    from .dtypes import get_default_dtype, real_dtype

    if dtype is None:
        return get_default_dtype()
    d = real_dtype(dtype, who)
    if d.kind != "f":
        raise TypeError(f"{who}: dtype must be a floating dtype, got {d}")
    return d


def array(x, who: str, what: str) -> np.ndarray:
    """``np.asarray`` of a non-operand argument (targets, indices, weights); a ragged list is a ValueError naming
    ``who`` and ``what``."""
    try:
        return np.asarray(x.data if hasattr(x, "grad_fn") else x)
    except ValueError as e:
        raise ValueError(f"{who}: {what} cannot be a ragged nested list ({e})") from None


def integer(value, name: str, who: str, *, low: int | None = None) -> int:
    """``value`` as an int (a Python or NumPy integer, not a bool or a float such as 1.5), at least ``low``."""
    if isinstance(value, (bool, np.bool_, np.timedelta64)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an int, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{who}: {name} must be >= {low}, got {value!r}")
    return int(value)
