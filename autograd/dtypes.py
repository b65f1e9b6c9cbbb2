"""dtype policy: Python scalars and lists become the default float dtype (float32),
int data stays int, bool stays bool, and a NumPy array keeps its dtype."""
from __future__ import annotations

import warnings

import numpy as np

_default = [np.dtype(np.float32)]


def get_default_dtype() -> np.dtype:
    """The float dtype given to Python floats and lists (float32 unless changed)."""
    return _default[0]


def set_default_dtype(dtype) -> None:
    """Change the default float dtype; only float16/32/64 are accepted."""
    if dtype is None:  # np.dtype(None) would silently mean float64
        raise TypeError("set_default_dtype: expected a floating dtype, got None")
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype!r}") from None
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {d}")
    _default[0] = d


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def is_integer(dtype) -> bool:
    return np.dtype(dtype).kind in "iu"


REAL_KINDS = "biuf"  # bool, signed and unsigned integers, floats: what a tensor may hold


def real_dtype(dtype, who: str) -> np.dtype:
    """``np.dtype(dtype)``, or a TypeError naming ``who`` for what is not a dtype or not bool/int/float."""
    if dtype is None:  # np.dtype(None) would silently mean float64
        raise TypeError(f"{who}: dtype must be a NumPy dtype, got None")
    try:
        if isinstance(dtype, str):  # a deprecated alias such as 'a': refused below by our error, not NumPy's warning
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                d = np.dtype(dtype)
        else:
            d = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {dtype!r} is not a NumPy dtype") from None
    if d.kind not in REAL_KINDS:
        raise TypeError(f"{who}: dtype {d} is not supported (tensors hold bool, integer or floating values)")
    return d


def refuse_dtype(who: str, dtype) -> None:
    """The TypeError for an operand array of an unsupported dtype (object, str, bytes, datetime, complex)."""
    raise TypeError(f"{who}: an array of dtype {dtype} is not supported (tensors hold bool, integer or floating "
                    "values)")


def to_array(data, dtype=None, who: str = "tensor") -> np.ndarray:
    """Convert user data to an ndarray following the dtype policy above; errors name ``who`` (the caller)."""
    from .tensor import Tensor

    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):
        arr = data if type(data) is np.ndarray else np.asarray(data)
        if arr.dtype.kind not in REAL_KINDS:
            raise TypeError(f"{who}: cannot make a tensor from an array of dtype {arr.dtype}"
                            + (" (complex values are not supported)" if arr.dtype.kind == "c" else ""))
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
            data = [x.data if isinstance(x, Tensor) else x for x in data]
        try:
            arr = np.asarray(data)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"{who}: cannot make a tensor from nested sequences of different lengths "
                             f"(a ragged list): {e}") from None
        if arr.dtype.kind not in "biufc":  # objects, strings, bytes, datetimes
            raise TypeError(f"{who}: cannot convert {type(data).__name__} to a numeric array (got dtype {arr.dtype})")
        if arr.dtype.kind == "f" and dtype is None:
            arr = arr.astype(get_default_dtype())
        elif arr.dtype.kind == "c":
            raise TypeError(f"{who}: complex values are not supported")
    if dtype is not None:
        arr = arr.astype(real_dtype(dtype, who), copy=False)
    return arr
