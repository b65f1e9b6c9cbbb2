"""``Optimizer``: the parameter groups, per-parameter state and checkpointing shared by every optimiser.

Subclasses implement ``_update(group, params_with_grad)`` with vectorised NumPy and write each
parameter once through the tracked ``_subtract(p, delta)``/``p.copy_`` (in its own dtype, under ``no_grad``), so a
backward that still needs the old value raises instead of reading the new one. Everything here follows
``torch.optim.Optimizer``: ``param_groups`` is a list of dicts (``'params'`` plus hyperparameters),
``state`` maps a parameter to a dict of its buffers, and ``state_dict()`` refers to parameters by
their position across groups so a checkpoint loads into a freshly built optimiser.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd import Tensor, enable_grad
from autograd.mode import state

from ..utils import _write_grad

_EXTRA_GROUP_KEYS = {"initial_lr", "name", "param_names"}  # set by schedulers, or labels users add


class Optimizer:
    """Base class: holds ``param_groups`` and ``state``; ``step()`` applies the subclass's update rule."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts, got a single Tensor; "
                            "pass [tensor] or model.parameters()")
        if isinstance(params, dict):
            params = [params]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered sequence, not a set (their order defines "
                            "state_dict indices); use a list or model.parameters()")
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts, "
                            f"got {type(params).__name__}") from None
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (``{'params': [...], 'lr': ...}``); missing hyperparameters take the defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be an ordered sequence, not a set (their order defines "
                            "state_dict indices); use a list")
        params = list(params)
        seen = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimise Tensors, but parameter {i} of the group is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimise a non-leaf Tensor (parameter {i} of the group, shape "
                                 f"{p.shape}); use a leaf created with requires_grad=True or detach() it")
            if not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"{name}: can only optimise floating-point Tensors, parameter {i} has dtype {p.dtype}")
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) appears twice in the same group")
            seen.add(id(p))
        for other in self.param_groups:
            if any(id(q) in seen for q in other["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = {k: v for k, v in param_group.items() if k != "params"}
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        unknown = sorted(set(group) - set(self.defaults) - _EXTRA_GROUP_KEYS)
        if unknown:
            raise TypeError(f"{name}: unknown hyperparameter(s) {unknown} in parameter group; "
                            f"expected some of {sorted(self.defaults)}")
        self._validate(group)
        group["params"] = params
        self.param_groups.append(group)

    def _validate(self, group: dict[str, Any]) -> None:
        """Raise ValueError naming a hyperparameter outside its range (subclasses extend this)."""
        _check_nonneg(type(self).__name__, "lr", group["lr"])
        if "weight_decay" in group:
            _check_nonneg(type(self).__name__, "weight_decay", group["weight_decay"])
        if "eps" in group:
            _check_nonneg(type(self).__name__, "eps", group["eps"])

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (``None`` by default, or zeros with ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:  # zeroed in place, or replaced by zeros if recorded with create_graph (read-only)
                    _write_grad(p, 0)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; ``closure`` re-evaluates the loss first and is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work = []
        for group in self.param_groups:
            live = [p for p in group["params"] if p.grad is not None]
            for p in live:  # check every gradient and parameter before changing anything
                if not isinstance(p.grad, Tensor):
                    raise TypeError(f"{type(self).__name__}.step: the gradient of the parameter of shape {p.shape} "
                                    f"is a {type(p.grad).__name__}; .grad must be a Tensor (or None)")
                if p.grad._data.shape != p._data.shape:
                    raise ValueError(f"{type(self).__name__}.step: gradient of shape {p.grad.shape} does not match "
                                     f"its parameter of shape {p.shape}")
                if not p._data.flags.writeable:
                    raise RuntimeError(f"{type(self).__name__}.step: parameter of shape {p.shape} has a read-only "
                                       "array and cannot be updated in place")
            if live:
                work.append((group, live))
        previous, state.grad_enabled = state.grad_enabled, False  # (``no_grad()``'s work, without its object)
        try:
            for group, live in work:
                self._update(group, live)
        finally:
            state.grad_enabled = previous
        return loss

    def _update(self, group: dict[str, Any], params: list[Tensor]) -> None:
        raise NotImplementedError

    _views = None  # the work space's view per (dtype, slot, shape), made by the first ``_scratch``

    def _scratch(self, p: Tensor, slot: int = 0) -> np.ndarray:
        """Work space of ``p``'s shape and dtype for an update's intermediate values: per dtype and ``slot``
        one buffer, as large as the largest parameter, shared by all (never part of ``state``); its view for
        each shape is kept, and dropped when the buffer grows."""
        data = p._data
        views = self._views
        if views is None:
            views = self._views = {}
        view = views.get((data.dtype, slot, data.shape))
        if view is None:
            work = self.__dict__.setdefault("_work", {})
            buf = work.get((data.dtype, slot))
            if buf is None or buf.size < data.size:
                buf = work[data.dtype, slot] = np.empty(data.size, dtype=data.dtype)
                for key in [k for k in views if k[:2] == (data.dtype, slot)]:
                    del views[key]
            view = views[data.dtype, slot, data.shape] = buf[:data.size].reshape(data.shape)
        return view

    def _grad(self, p: Tensor, maximize: bool) -> np.ndarray:
        """The gradient as an array in the parameter's dtype, negated for ``maximize`` (a fresh array then)."""
        g = p.grad._data  # (``step`` checked that it is a Tensor; only read here)
        if g.dtype != p._data.dtype:
            g = g.astype(p._data.dtype)
        return -g if maximize else g

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {name: array or number}}, 'param_groups': [{..., 'params': [indices]}]}``, copied."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and buffers from ``state_dict()``; nothing changes if it does not fit."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' "
                             "(as returned by state_dict())")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter groups, "
                             f"this optimiser has {len(self.param_groups)}")
        by_index = {}
        for gi, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {gi} has {len(saved['params'])} "
                                 f"parameters in the state dict but {len(group['params'])} here")
            for idx, p in zip(saved["params"], group["params"]):
                by_index[int(idx)] = p
        new_state = {}
        for key, buffers in state_dict["state"].items():
            idx = int(key)
            if idx not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for parameter index {idx}, which no group lists")
            p = by_index[idx]
            restored = {}
            for bname, value in buffers.items():
                if isinstance(value, np.ndarray) and value.ndim > 0:
                    if value.shape != p.shape:
                        raise ValueError(f"{name}.load_state_dict: state '{bname}' of parameter {idx} has shape "
                                         f"{value.shape}, the parameter has shape {p.shape}")
                    value = value.astype(p.dtype, copy=True)
                elif isinstance(value, (np.ndarray, np.generic)):
                    value = value.item()  # 0-d arrays (e.g. after nn.load of a flat file) back to numbers
                restored[bname] = value
            new_state[p] = restored
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            # Known hyperparameters come from the checkpoint, missing ones stay as they are; keys this
            # optimiser does not use (e.g. PyTorch's 'foreach' or 'fused') are dropped.
            merged = {k: v for k, v in group.items() if k != "params"}
            merged.update({k: _plain(v) for k, v in saved.items() if k in self.defaults or k in _EXTRA_GROUP_KEYS})
            merged["params"] = group["params"]
            self._validate({**self.defaults, **merged})
            new_groups.append(merged)
        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _plain(value):
    """Turn loaded NumPy scalars / 0-d arrays / arrays of hyperparameters back into Python values."""
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else tuple(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return tuple(value)
    return value


def _subtract(p: Tensor, delta: np.ndarray) -> None:
    """``p -= delta`` in place (``delta`` in p's shape and dtype), counted as a change of ``p`` so a backward that
    saved its old value raises: ``p.sub_`` without the checks ``step`` made once for every parameter."""
    np.subtract(p._data, delta, out=p._data)
    p._updated()


def _check_nonneg(opt: str, key: str, value) -> None:
    """ValueError unless ``value`` is a real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or math.isnan(value) or value < 0:
        raise ValueError(f"{opt}: invalid {key} {value!r} (must be a number >= 0)")


def _check_range(opt: str, key: str, value, lo: float, hi: float, hi_open: bool = True) -> None:
    """ValueError unless lo <= value < hi (or <= hi)."""
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool) \
        and lo <= value and (value < hi if hi_open else value <= hi)
    if not ok:
        bracket = ")" if hi_open else "]"
        raise ValueError(f"{opt}: invalid {key} {value!r} (must be in [{lo}, {hi}{bracket})")
