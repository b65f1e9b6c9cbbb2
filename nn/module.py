"""``Module`` and ``Parameter``: the containers every layer is built from.

A Module owns Parameters (trainable Tensors), buffers (state such as BatchNorm's running
statistics, saved but not trained) and child Modules, each registered by plain attribute
assignment. Names, ``state_dict`` keys and defaults follow PyTorch so a PyTorch state_dict
converted to NumPy arrays loads key for key.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import autograd as ag
from autograd.engine import module_scope
from autograd.mode import state
from autograd.tensor import Tensor

from .interop import as_numpy, is_torch_tensor
from .utils import _write_grad


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable; ``requires_grad`` is True by default."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True, dtype=None, name=None):
        if data is None:
            data = np.empty(0, dtype=dtype or ag.get_default_dtype())
        super().__init__(data.data if isinstance(data, Tensor) else data, dtype=dtype, name=name)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        p = Parameter(self.data.copy(), requires_grad=self.requires_grad, name=self._name)
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self.requires_grad, None, self._name))


class StateDictError(KeyError):
    """Missing or unexpected keys in ``load_state_dict`` (a KeyError whose message reads plainly)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _Handle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_key")
    _next = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self._key = _Handle._next
        _Handle._next += 1

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


class Module:
    """Base class of every layer and model: subclass it, assign layers in ``__init__``, define ``forward``."""

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        """The computation; subclasses define it and callers use ``module(...)``, which runs the hooks and scope."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        """Run ``forward`` with this module on the scope stack (so drawings can group its ops)."""
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        if self._parameters:
            _check_input_dtype(self, args)
        prev = state.push_scope(self)  # (module_scope's work without its object: this runs for every layer call)
        try:
            return self.forward(*args, **kwargs)
        except (ValueError, TypeError) as e:
            _note_module_path(e, self)
            raise
        finally:
            state.pop_scope(prev)

    def _call_with_hooks(self, args, kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            r = hook(self, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
        if self._parameters:
            _check_input_dtype(self, args)
        with module_scope(self):
            try:
                out = self.forward(*args, **kwargs)
            except (ValueError, TypeError) as e:
                _note_module_path(e, self)
                raise
        for hook in list(self._forward_hooks.values()):
            r = hook(self, args, out)
            if r is not None:
                out = r
        return out

    def register_forward_pre_hook(self, hook: Callable) -> _Handle:
        """Call ``hook(module, args)`` before forward; a returned value replaces the arguments."""
        h = _Handle(self._forward_pre_hooks)
        self._forward_pre_hooks[h._key] = hook
        return h

    def register_forward_hook(self, hook: Callable) -> _Handle:
        """Call ``hook(module, args, output)`` after forward; a returned value replaces the output."""
        h = _Handle(self._forward_hooks)
        self._forward_hooks[h._key] = hook
        return h

    # ------------------------------------------------------------------ registration
    def _check_init(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call "
                                 f"(call super().__init__() first in {type(self).__name__}.__init__)")

    def _check_name(self, kind: str, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain '.', got {name!r}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a Parameter (or None, for an absent optional one such as ``bias=False``) under ``name``."""
        self._check_init("parameters")
        self._check_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' as parameter '{name}' "
                            "(nn.Parameter or None expected)")
        if name in self.__dict__ and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        self._remove_name(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | np.ndarray | None, persistent: bool = True) -> None:
        """Add state that is saved in ``state_dict`` (unless ``persistent=False``) but not trained."""
        self._check_init("buffers")
        self._check_name("buffer", name)
        if name in self.__dict__ and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            if not isinstance(tensor, np.ndarray):
                raise TypeError(f"cannot assign '{type(tensor).__name__}' as buffer '{name}' "
                                "(Tensor, ndarray or None expected)")
            tensor = Tensor(tensor)
        self._remove_name(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (attribute assignment does the same)."""
        self._check_init("child modules")
        self._check_name("module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if name in self.__dict__ and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._remove_name(name)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def _remove_name(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent.discard(name)
        self._modules.pop(name, None)

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if isinstance(value, Parameter):
            self._check_init("parameters")
            self._remove_name(name)
            d.pop(name, None)
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self._check_init("child modules")
            self._remove_name(name)
            d.pop(name, None)
            self.add_module(name, value)
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            self._parameters[name] = None
            object.__setattr__(self, name, None)
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(nn.Module or None expected)")
            self._modules[name] = None
            object.__setattr__(self, name, None)
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                if not isinstance(value, np.ndarray):
                    raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                    "(Tensor, ndarray or None expected)")
                value = Tensor(value)
            self._buffers[name] = value
            object.__setattr__(self, name, value)
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if "_parameters" in self.__dict__:
            self._remove_name(name)
        object.__delattr__(self, name)

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module and every descendant, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct children."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct child modules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, attr: str, prefix: str, recurse: bool):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, v in getattr(m, attr).items():
                if v is None or id(v) in seen:
                    continue
                seen.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + name, v

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs, each shared parameter once (names as in ``state_dict``)."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter of this module and (by default) its descendants, each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer of this module and (by default) its descendants."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The descendant at dotted path ``target`` ("" is this module), e.g. ``"block.fc"``."""
        m = self
        for i, part in enumerate(target.split(".") if target else []):
            child = m._modules.get(part)
            if child is None:
                where = ".".join(target.split(".")[:i]) or type(self).__name__
                raise AttributeError(f"get_submodule: {where} has no child module {part!r} (path {target!r})")
            m = child
        return m

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target``, e.g. ``"block.fc.weight"``."""
        mod_path, _, name = target.rpartition(".")
        m = self.get_submodule(mod_path)
        p = m._parameters.get(name)
        if p is None:
            raise AttributeError(f"get_parameter: {type(m).__name__} has no parameter {name!r} (path {target!r})")
        return p

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of parameter elements (only those with requires_grad when ``trainable_only``)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Switch this module and all descendants to training mode (or eval with ``mode=False``)."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode is expected to be a bool, got {mode!r}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode: Dropout is the identity, BatchNorm uses running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (e.g. to freeze a pretrained part)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (``.grad = None``, or zeros with ``set_to_none=False``)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:  # zeroed in place, or replaced by zeros if recorded with create_graph (read-only)
                _write_grad(p, 0)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every descendant (children first) and then on this module; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype
    def to(self, dtype) -> Module:
        """Cast every floating-point parameter, gradient and buffer to ``dtype`` (in place); returns self.

        Each cast assigns ``.data``, which counts as an in-place change (a pending backward then raises)."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: expected a floating dtype, got {dtype}")
        for m in self.modules():
            for t in list(m._parameters.values()) + list(m._buffers.values()):
                if t is not None and t.data.dtype.kind == "f" and t.data.dtype != dtype:
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad = ag.from_numpy(t.grad.data.astype(dtype))
        return self

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32."""
        return self.to(np.float32)

    def half(self) -> Module:
        """Cast floating-point parameters and buffers to float16."""
        return self.to(np.float16)

    # ------------------------------------------------------------------ state
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers by dotted name, as copied ndarrays (Tensors with ``keep_vars``)."""
        out = OrderedDict()
        for mod_prefix, m in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            dot = mod_prefix + "." if mod_prefix else ""
            for name, p in m._parameters.items():
                if p is not None:
                    out[dot + name] = p if keep_vars else p.data.copy()
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent:
                    out[dot + name] = b if keep_vars else b.data.copy()
        return out

    def _state_targets(self) -> OrderedDict:
        """Every parameter and persistent buffer Tensor by its state_dict key (shared ones under each name)."""
        out = OrderedDict()
        for mod_prefix, m in self.named_modules(remove_duplicate=False):
            dot = mod_prefix + "." if mod_prefix else ""
            for name, p in m._parameters.items():
                if p is not None:
                    out[dot + name] = p
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent:
                    out[dot + name] = b
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into the parameters and buffers, cast to each one's dtype.

        Everything is checked before anything changes: with ``strict`` missing or unexpected keys
        raise ``StateDictError`` (a KeyError); mis-shaped values raise ValueError even when not
        strict. Each message names every offending key. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got {type(state_dict).__name__}")
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        bad_shape, bad_type, values = [], [], {}
        for key, t in targets.items():
            if key not in state_dict:
                continue
            raw = state_dict[key]
            raw = raw.data if isinstance(raw, Tensor) else as_numpy(raw, key, "load_state_dict") \
                if is_torch_tensor(raw) else raw
            try:
                arr = np.asarray(raw)
            except Exception:  # noqa: BLE001 - anything NumPy cannot convert is reported below
                arr = None
            if arr is None or arr.dtype.kind not in "biuf":
                bad_type.append(f"{key} ({type(raw).__name__})")
                continue
            if arr.shape != t.shape:
                bad_shape.append(f"{key}: expected shape {t.shape}, got {arr.shape}")
                continue
            values[key] = arr
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
        if bad_shape:
            problems.append("shape mismatch for " + "; ".join(bad_shape))
        if bad_type:
            problems.append("values that are not numeric arrays: " + ", ".join(bad_type))
        if problems:
            msg = f"load_state_dict for {type(self).__name__}: " + "; ".join(problems)
            if strict and (missing or unexpected):
                raise StateDictError(msg)
            if bad_type:
                raise TypeError(msg)
            raise ValueError(msg)
        with ag.no_grad():  # tracked writes: a backward still needing an old value will raise
            for key, arr in values.items():
                t = targets[key]
                if t.data.flags.writeable:
                    t.copy_(arr)
                else:
                    t.data = arr.astype(t.dtype, copy=True)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (its configuration)."""
        return ""

    def __repr__(self) -> str:
        return self._repr(top=True)

    def _repr(self, top: bool) -> str:
        head = type(self).__name__ + "(" + self.extra_repr()
        children = [(n, m) for n, m in self._modules.items() if m is not None]
        if not children:
            return head + ")"
        lines = [head]
        for name, m in children:
            body = m._repr(top=False)
            count = Module.num_parameters(m)
            if count and not m._modules:
                body += "  # " + _count_text(m)
            lines.append("  (" + name + "): " + body.replace("\n", "\n  "))
        closing = ")"
        if Module.num_parameters(self):
            closing += "  # " + _count_text(self) + (" in total" if top else "")
        lines.append(closing)
        return "\n".join(lines)


def _check_input_dtype(module: Module, args: tuple) -> None:
    """The dtype rule: a module with floating-point parameters called on a floating input of another dtype
    raises (as PyTorch does) instead of silently computing in the wider one. Every layer gets it from ``__call__``."""
    for p in module._parameters.values():
        if p is not None:
            own = p._data.dtype
            if own.kind == "f":
                break
    else:
        return  # no floating-point parameter
    for i, a in enumerate(args):
        d = a._data.dtype if isinstance(a, Tensor) else a.dtype if isinstance(a, np.ndarray) else None
        if d is own or d is None:  # (NumPy's built-in dtypes are shared objects: the common case is one test)
            continue
        if d.kind == "f" and d != own:
            which = "input" if len(args) == 1 else f"input {i}"
            raise TypeError(f"{type(module).__name__}: {which} has dtype {d} but the module's parameters are {own}; "
                            f"nothing is cast silently: convert the input (x.astype(np.{own})) or the model "
                            f"(model.to(np.{d}))")


def _note_module_path(exc: BaseException, module: Module) -> None:
    """Attach (or extend) a note naming the module path in which ``exc`` was raised, outermost first.

    Each enclosing Module's ``__call__`` adds itself, so the traceback of a shape error deep in a
    model ends with e.g. ``raised inside MLP → (2): Linear(in_features=5, out_features=2, bias=True)``.
    """
    if not hasattr(exc, "add_note"):  # Python 3.10: notes do not exist; the message itself still names the op
        return
    try:
        path = exc.__dict__.setdefault("_nn_module_path", [])
    except AttributeError:  # an exception type without a __dict__
        return
    if path and path[-1] is module:  # the same module re-raising through a nested call
        return
    path.append(module)
    chain = [path[-1]]
    parts = [type(path[-1]).__name__]
    for child in reversed(path[:-1]):
        parent = chain[-1]
        name = next((n for n, c in parent._modules.items() if c is child), None)
        parts.append(f"({name}): {child!r}" if name is not None and not child._modules
                     else f"({name}): {type(child).__name__}" if name is not None else type(child).__name__)
        chain.append(child)
    if len(path) == 1 and not module._modules:
        parts = [repr(module)]
    note = "raised inside " + " → ".join(parts)
    notes = exc.__dict__.get("__notes__")
    old = exc.__dict__.get("_nn_module_note")
    if notes is not None and old in notes:
        notes[notes.index(old)] = note
    else:
        exc.add_note(note)
    exc.__dict__["_nn_module_note"] = note


def _count_text(m: Module) -> str:
    total = Module.num_parameters(m)  # unbound: a layer may shadow the name (PReLU.num_parameters is an int)
    trainable = Module.num_parameters(m, trainable_only=True)
    text = f"{total:,} param" + ("" if total == 1 else "s")
    if trainable != total:
        text += f" ({trainable:,} trainable)"
    return text
