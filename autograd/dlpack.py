"""DLPack exchange: hand a Tensor's array to another library (NumPy, PyTorch, ...) without a copy, and back.

The rule: what crosses is the array, never the graph. A Tensor that requires grad is exported detached
(its values only; the other side gets no gradient and its writes are not counted by the version counter,
like raw NumPy writes into ``.data``). A read-only array (a value computed by a recorded op, or a view
of one) is not exported as it is: the DLPack read-only flag is ignored by some consumers (PyTorch), which
would let them write into a value a backward still needs. Ask for a copy (``copy=True``) instead.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor


def to_dlpack(t: Tensor, stream=None, max_version=None, dl_device=None, copy=None):
    """The DLPack capsule of ``t``'s array (``Tensor.__dlpack__``); BufferError for a read-only array unless
    ``copy=True``."""
    a = t._data
    if copy:
        a = a.copy()
    elif t.grad_fn is not None or not a.flags.writeable:
        what = f"the output of recorded op '{t.grad_fn.name}'" if t.grad_fn is not None else "a read-only array"
        raise BufferError(
            f"Tensor.__dlpack__: this tensor (shape {t.shape}, {t.dtype}) is {what}; it is not shared because "
            "a consumer could write into a value the graph still needs. Pass copy=True (np.from_dlpack(t, "
            "copy=True), torch.from_dlpack(t, copy=True)) for a copy")
    kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device)) if v is not None}
    return a.__dlpack__(stream=stream, **kwargs)


def from_dlpack(obj, copy: bool | None = None) -> Tensor:
    """A leaf Tensor sharing memory with ``obj`` (anything with ``__dlpack__``: a NumPy array, a PyTorch tensor
    on the CPU, another Tensor); ``copy=True`` copies. A PyTorch tensor requiring grad must be detached first."""
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a NumPy array, a PyTorch tensor, a "
                        f"Tensor), got {type(obj).__name__}")
    a = np.from_dlpack(obj, copy=copy)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"from_dlpack: cannot make a tensor from an array of dtype {a.dtype}")
    return Tensor._wrap(a)
