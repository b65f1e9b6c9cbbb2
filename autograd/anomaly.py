"""Anomaly detection: find the op whose forward or backward first produced NaN or inf.

Inside ``detect_anomaly()`` every op records where it was created (the first stack frame
outside the autograd package, as "file:line in function"), its forward output is checked,
and during backward every gradient it returns is checked. The first non-finite value raises
RuntimeError naming the op and that location. The mode is thread-local and costs nothing
when off (the hot path only tests one flag).
"""
from __future__ import annotations

import functools
import inspect
import os
import sys

import numpy as np

from .mode import PerThreadRestore, generator_in_mode, state

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class detect_anomaly(PerThreadRestore):
    """Context manager (and decorator) that raises at the first NaN/inf produced by an op's forward or backward.

    ``check_nan=False`` only records where ops were created (cheaper), so other errors can name them.
    """

    def __init__(self, check_nan: bool = True):
        if not isinstance(check_nan, (bool, np.bool_)):
            raise TypeError(f"detect_anomaly: check_nan must be a bool, got {type(check_nan).__name__}")
        super().__init__()
        self.check_nan = bool(check_nan)

    def __enter__(self):
        self._remember(state.anomaly)
        state.anomaly = self
        return self

    def __exit__(self, *exc):
        state.anomaly = self._recall()
        return False

    def __call__(self, fn):
        check_nan = self.check_nan
        if inspect.isgeneratorfunction(fn):
            return generator_in_mode(fn, lambda: detect_anomaly(check_nan))

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(check_nan):
                return fn(*args, **kwargs)

        return wrapper

    def __bool__(self):
        return True


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` in this thread."""
    return bool(state.anomaly)


def creation_site() -> str:
    """The first stack frame outside the autograd package, as "file:line in function"."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown location>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def check_forward(op, outputs) -> str:
    """Where ``op`` was created (returned); RuntimeError naming it if one of its outputs has NaN or inf."""
    site = creation_site()
    mode = state.anomaly
    if not getattr(mode, "check_nan", True):
        return site
    for k, out in enumerate(outputs):
        problem = _non_finite(out)
        if problem:
            which = "its forward output" if len(outputs) == 1 else f"forward output {k}"
            raise RuntimeError(f"detect_anomaly: op '{op.name}' produced {problem} in {which} "
                               f"(shape {np.shape(out)}); the op was created at {site}")
    return site


def check_backward(node, in_grads) -> None:
    """Raise RuntimeError if a gradient returned by ``node``'s backward has NaN or inf."""
    mode = state.anomaly
    if not getattr(mode, "check_nan", True):
        return
    for i, g in enumerate(in_grads):
        if g is None:
            continue
        problem = _non_finite(getattr(g, "data", g))
        if problem:
            where = node.site or ("an unknown location (it was created outside "
                                                          "detect_anomaly; enter it before the forward pass)")
            raise RuntimeError(f"detect_anomaly: the backward of op '{node.name}' returned {problem} in the "
                               f"gradient for input {i} (shape {np.shape(g)}); the op was created at {where}")


def _non_finite(a) -> str:
    """'' when all values are finite (or not floating point), else which of NaN/inf occur."""
    a = np.asarray(a)
    if a.dtype.kind not in "fc" or a.size == 0:
        return ""
    if np.isfinite(a).all():
        return ""
    has_nan = bool(np.isnan(a).any())
    has_inf = bool(np.isinf(a).any())
    return "NaN and inf" if has_nan and has_inf else "NaN" if has_nan else "inf"
