"""PyTorch state_dicts both ways: parameter and buffer names, shapes and layouts already match PyTorch's,
so moving weights is converting each value (torch tensor <-> NumPy array), key for key.

``from_torch_state_dict`` needs no torch import (it converts whatever it is given); ``to_torch_state_dict``
imports torch when called and says so clearly when it is not installed.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from autograd import Tensor


def is_torch_tensor(value) -> bool:
    """Whether ``value`` is a torch tensor (told without importing torch)."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach") and hasattr(value, "numpy")


def as_numpy(value, key: str = "", fn: str = "from_torch_state_dict") -> np.ndarray:
    """One state_dict value (torch tensor, graphgrad Tensor, ndarray, number) as a NumPy array of the same dtype.

    A torch tensor is detached and moved to the CPU; dtypes NumPy lacks (bfloat16, complex32...) raise TypeError."""
    where = f" for key {key!r}" if key else ""
    if is_torch_tensor(value):
        t = value.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        try:
            return t.numpy()
        except TypeError as e:
            raise TypeError(f"{fn}: cannot convert the torch tensor{where} of dtype {t.dtype} to NumPy ({e}); "
                            "convert it first, e.g. .float()") from None
    if isinstance(value, Tensor):
        return value.data
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: the value{where} is not a numeric array (got {type(value).__name__}, dtype {a.dtype})")
    return a


def from_torch_state_dict(state_dict) -> OrderedDict:
    """A PyTorch ``state_dict`` (torch tensors or NumPy arrays) as an OrderedDict of NumPy arrays (copies), in
    the same order and dtypes (``num_batches_tracked`` stays int64), ready for ``Module.load_state_dict``."""
    if not hasattr(state_dict, "items"):
        raise TypeError(f"from_torch_state_dict: expected a mapping of names to tensors, got "
                        f"{type(state_dict).__name__}")
    out = OrderedDict()
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"from_torch_state_dict: keys must be strings, got {key!r}")
        out[key] = np.array(as_numpy(value, key), copy=True)
    return out


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch_state_dict: PyTorch is not installed; install it (pip install torch) to "
                          "convert a state_dict to torch tensors, or use module.state_dict() for NumPy arrays"
                          ) from None
    return torch


def to_torch_state_dict(module) -> OrderedDict:
    """The module's ``state_dict()`` as torch tensors (own memory, same dtypes), for ``torch_model.load_state_dict``."""
    if not hasattr(module, "state_dict"):
        raise TypeError(f"to_torch_state_dict: expected an nn.Module, got {type(module).__name__}")
    torch = _torch()
    return OrderedDict((k, torch.from_numpy(np.asarray(v, order="C"))) for k, v in module.state_dict().items())
