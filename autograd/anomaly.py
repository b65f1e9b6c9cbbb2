"""Anomaly detection: find the op whose forward or backward first produced NaN or inf.

Inside ``detect_anomaly()`` every op records where it was created (the innermost stack frame
outside the library, i.e. the user's line, as "file:line in function", followed by the ``nn``/``viz``
function it ran in, if any), its forward output is checked, and during backward every gradient it
returns is checked. The first non-finite value raises RuntimeError naming the op and that location,
and for a forward, whether the NaN/inf was already in one of its inputs (a parameter, a leaf, a
constant) or the op produced it from finite inputs. The mode is thread-local and costs nothing
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
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The library's packages: frames in them are skipped to find the user's line.
_LIBRARY_DIRS = tuple(os.path.join(_ROOT, p) + os.sep for p in ("autograd", "nn", "viz"))


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
    """The innermost stack frame outside the library (the user's line), as "file:line in function", followed by
    "(in nn/functional.py:57 in linear)" when the op ran inside an nn or viz function."""
    frame = sys._getframe(1)
    inner = None  # the innermost library frame outside autograd: the nn layer or function that ran the op
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_LIBRARY_DIRS):
            break
        if inner is None and not path.startswith(_PACKAGE_DIR):
            inner = frame
        frame = frame.f_back
    if frame is None:
        frame, inner = inner, None
        if frame is None:
            return "<unknown location>"
    site = f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
    if inner is not None:
        rel = os.path.relpath(inner.f_code.co_filename, _ROOT)
        site += f" (in {rel}:{inner.f_lineno} in {inner.f_code.co_name})"
    return site


def _input_note(op, arrays) -> str:
    """Whether the non-finite value was already in an input of ``op`` (naming which), or appeared in it."""
    if arrays is None:
        return ""
    edges = getattr(op, "_inputs", None)
    for i, a in enumerate(arrays):
        problem = _non_finite(a) if isinstance(a, (np.ndarray, np.generic, float)) else ""
        if problem:
            e = edges[i] if edges is not None and i < len(edges) else None
            if type(e) is tuple:
                what = f"the output of op '{e[0].name}'"
            elif e is not None and hasattr(e, "requires_grad"):
                kind = ("a parameter" if type(e).__name__ == "Parameter" else "a leaf tensor" if e.requires_grad
                        else "an input tensor")
                name = getattr(e, "name", None) or _parameter_name(op, e)
                what = kind + (f" {name!r}" if name else "") + f" of shape {np.shape(a)}"
            else:
                what = f"a value of shape {np.shape(a)}"
            return f"; the {problem} was already in input {i} of the op ({what}), not produced by it"
    return "; its inputs were all finite, so this op produced it"


def _parameter_name(op, tensor) -> str:
    """The name of ``tensor`` among the parameters of the innermost module the op ran in ('fc.weight'), or ''."""
    for module in reversed(getattr(op, "_scope", None) or ()):
        named = getattr(module, "named_parameters", None)
        if named is not None:
            for name, p in named():
                if p is tensor:
                    return f"{type(module).__name__}.{name}"
    return ""


def check_forward(op, outputs, arrays=None) -> str:
    """Where ``op`` was created (returned); RuntimeError naming it if one of its outputs has NaN or inf."""
    site = creation_site()
    mode = state.anomaly
    if not getattr(mode, "check_nan", True):
        return site
    for k, out in enumerate(outputs):
        problem = _non_finite(out)
        if problem:
            which = "its forward output" if len(outputs) == 1 else f"forward output {k}"
            if arrays is None:
                arrays = getattr(op, "_arrays", None)
            raise RuntimeError(f"detect_anomaly: op '{op.name}' produced {problem} in {which} "
                               f"(shape {np.shape(out)}); the op was created at {site}{_input_note(op, arrays)}")
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
