"""The fuzz harness: run one call, judge its outcome, remember distinct cases and failures.

A call passes when it returns (and, given a NumPy reference, returns the NumPy-correct value) or raises
TypeError/ValueError/RuntimeError (IndexError for an index out of range) whose message starts with the name of
the public function or class that was called (``"tile: reps must be ..."``). Anything else fails: another
exception type, a message naming some other function or none (NumPy's own), a wrong value, a float32 input
computed in float64, an object dtype in a result.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from autograd import Tensor

ALLOWED = (TypeError, ValueError, RuntimeError)
_PREFIX = re.compile(r"^([A-Za-z_][\w.]*)(?:\(.*?\))?:")  # "tile:", "Linear(in_features=4, ...):"


@dataclass
class Tally:
    """Distinct case ids tried, and the failures among them (case id -> reason)."""

    cases: set = field(default_factory=set)
    failures: dict = field(default_factory=dict)

    def fail(self, case: str, reason: str) -> None:
        self.failures[case] = reason

    def report(self, limit: int = 40) -> str:
        lines = [f"{len(self.failures)} of {len(self.cases)} fuzz cases failed:"]
        lines += [f"  {c}: {r}" for c, r in list(self.failures.items())[:limit]]
        return "\n".join(lines)


def named(exc: BaseException, names) -> bool:
    """Whether the message starts with one of ``names`` followed by ':'."""
    m = _PREFIX.match(str(exc))
    return bool(m) and (m.group(1) in names or m.group(1).split(".")[0] in names)


def run(tally: Tally, case: str, names, call, *, index_ok: bool = False):
    """Run ``call()``; return (True, result) or (False, None) after an acceptable error. Failures are recorded."""
    tally.cases.add(case)
    allowed = ALLOWED + ((IndexError,) if index_ok else ())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow/invalid: NaN and inf are NumPy's answer
            warnings.simplefilter("error", np.exceptions.ComplexWarning)  # a dropped imaginary part is a bug
            with np.errstate(all="ignore"):
                out = call()
    except allowed as e:
        if _from_test_code(e):
            return False, None  # the registry entry's own lambda (e.g. x.shape[0] of a 0-d input): not applicable
        if not named(e, names):
            tally.fail(case, f"{type(e).__name__} not naming {sorted(names)[:3]}: {str(e)[:160]}")
        return False, None
    except Exception as e:  # noqa: BLE001  (every other exception is the finding)
        if _from_test_code(e):
            return False, None
        tally.fail(case, f"raw {type(e).__name__}: {str(e)[:160]}")
        return False, None
    bad = _bad_dtype(out)
    if bad:
        tally.fail(case, bad)
    return True, out


def _from_test_code(exc) -> bool:
    """Whether ``exc`` was raised in a registry entry's lambda itself rather than inside a library function."""
    tb, last = exc.__traceback__, ""
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if any(f"/{p}/" in path for p in ("autograd", "nn", "viz")) and "/tests/" not in path:
            last = path
        tb = tb.tb_next
    return last.endswith("autograd/registry.py")


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _bad_dtype(out) -> str:
    for o in _flat(out):
        if isinstance(o, Tensor) and o.dtype.kind not in "biuf":
            return f"returned a tensor of dtype {o.dtype}"
    return ""


def _array(o):
    return np.asarray(o.data if isinstance(o, Tensor) else o)


_TOL = {np.dtype(np.float16): 2e-2, np.dtype(np.float32): 2e-3, np.dtype(np.float64): 1e-6}


def mismatch(out, ref, inputs) -> str:
    """Why ``out`` differs from the NumPy reference ``ref`` ('' when it agrees). Positions where the reference is
    not finite are not judged (a naive reference overflows where the library's stable formula does not); errors
    are relative to the larger of the result's and the inputs' magnitudes."""
    outs, refs = _flat(out), _flat(ref)
    in_scale = max([float(np.max(np.abs(a[np.isfinite(a)]))) for a in inputs
                    if a.dtype.kind == "f" and np.isfinite(a).any()] or [0.0])
    if len(outs) != len(refs):
        return f"{len(outs)} outputs, NumPy gives {len(refs)}"
    floats = [a.dtype for a in inputs if a.dtype.kind == "f"]
    for o, r in zip(outs, refs):
        o, r = _array(o), np.asarray(r)
        if o.shape != r.shape:
            return f"shape {o.shape}, NumPy gives {r.shape}"
        if o.size == 0:
            continue
        if r.dtype.kind in "biu" and o.dtype.kind in "biu":
            if not np.array_equal(o, r):
                return "integer values differ from NumPy"
            continue
        tol = max([_TOL.get(d, 1e-6) for d in floats + [o.dtype] if d.kind == "f"] or [1e-6])
        o64, r64 = o.astype(np.float64), r.astype(np.float64)
        judged = np.isfinite(r64)
        if not judged.any():
            continue
        scale = max(float(np.max(np.abs(r64[judged]))), in_scale)
        with np.errstate(invalid="ignore"):
            err = np.abs(o64 - r64)
        with np.errstate(invalid="ignore"):
            bad = judged & ~(err <= tol * np.abs(r64) + tol * scale + 1e-200)
        if bad.any():
            i = np.flatnonzero(bad)[0]
            return f"value {o64.flat[i]!r} where NumPy gives {r64.flat[i]!r} (of {bad.sum()} differing)"
    return ""


def reference(fn, arrays):
    """(True, value) from the NumPy reference, or (False, None) if NumPy raises."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return True, fn(*[a.copy() for a in arrays])
    except Exception:  # noqa: BLE001
        return False, None
