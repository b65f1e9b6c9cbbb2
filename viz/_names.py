"""Names for drawn tensors and ops: explicit ``names=`` first, else the model the ops ran in.

``nn.Module.__call__`` tags every op with the modules it ran inside (``Op.scope``, outermost first),
so when a graph came out of a model its parameters can be labelled with their ``state_dict`` keys
(``0.weight``) and backward nodes with the layer they belong to, without the user passing anything.
"""
from __future__ import annotations

from autograd import Tensor


def _named(module, method: str):
    fn = getattr(module, method, None)
    return fn() if callable(fn) else ()


def outer_modules(ops) -> list:
    """The outermost module of each op's scope, each once, in the order first seen."""
    seen, out = set(), []
    for op in ops:
        scope = getattr(op, "scope", ()) or ()
        if scope and id(scope[0]) not in seen and hasattr(scope[0], "named_parameters"):
            seen.add(id(scope[0]))
            out.append(scope[0])
    return out


def explicit_names(names, fn: str) -> dict[int, str]:
    """``{id(tensor): name}`` from a mapping name -> Tensor, or from a Module (its parameters and buffers)."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        items = [*_named(names, "named_parameters"), *_named(names, "named_buffers")]
        return {id(t): str(k) for k, t in items if isinstance(t, Tensor)}
    if not hasattr(names, "items"):
        raise TypeError(f"{fn}: names must be a Module or a mapping of name -> Tensor "
                        f"(e.g. dict(model.named_parameters())), got {type(names).__name__}")
    return {id(t): str(k) for k, t in names.items() if isinstance(t, Tensor)}


def tensor_namer(names, ops, fn: str):
    """A function ``t -> name or None``: an explicit name, else ``t.name``, else the parameter's or
    buffer's key in the model the ops ran in (prefixed by the model's class when several top-level
    models took part, so two ``0.weight`` never read the same)."""
    explicit = explicit_names(names, fn)
    tops = outer_modules(ops)
    auto: dict[int, str] = {}
    for m in tops:
        prefix = f"{type(m).__name__}." if len(tops) > 1 else ""
        for k, t in [*_named(m, "named_parameters"), *_named(m, "named_buffers")]:
            if isinstance(t, Tensor):
                auto.setdefault(id(t), prefix + str(k))

    def name(t) -> str | None:
        if t is None:
            return None
        return explicit.get(id(t)) or t.name or auto.get(id(t))

    return name


def module_paths(ops) -> dict[int, str]:
    """``{id(module): 'qualified.name (Class)'}`` for every module inside the ops' top-level models."""
    tops = outer_modules(ops)
    out: dict[int, str] = {}
    for m in tops:
        prefix = f"{type(m).__name__}." if len(tops) > 1 else ""
        for k, sub in _named(m, "named_modules"):
            if k:
                out.setdefault(id(sub), f"{prefix}{k} ({type(sub).__name__})")
            else:
                out.setdefault(id(sub), type(sub).__name__)
    return out


def op_location(op, paths: dict[int, str]) -> str | None:
    """Where ``op`` ran, as its innermost module's path (``2 (Linear)``), or None outside any model."""
    modules = [m for m in getattr(op, "scope", ()) or () if function_call(m) is None]
    return paths.get(id(modules[-1])) if modules else None


def function_call(entry):
    """A scope entry that tags one call of a composite function (a fused loss), else None."""
    return entry if getattr(entry, "function_name", None) is not None else None
