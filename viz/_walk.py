"""Read-only walks over the recorded graph (``Tensor.grad_fn`` -> ``Op.inputs`` -> ...)."""
from __future__ import annotations

from autograd import Tensor


def as_tensor_roots(out, fn: str) -> list[Tensor]:
    """The Tensors to draw from: one Tensor, or a (nested) tuple/list/dict of them."""
    found: list[Tensor] = []
    stack = [out]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            found.append(x)
        elif isinstance(x, (tuple, list)):
            stack.extend(reversed(x))
        elif isinstance(x, dict):
            stack.extend(reversed(list(x.values())))
    if not found:
        raise TypeError(f"{fn}: expected a Tensor (or a tuple/list of Tensors), got {type(out).__name__}")
    return found


def collect_ops(roots) -> list:
    """Every op node that the ``roots`` depend on, in forward execution order (``op.seq``)."""
    seen = set()
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    ops = []
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        ops.append(op)
        for t in op.inputs:
            if isinstance(t, Tensor) and t.grad_fn is not None and t.grad_fn not in seen:
                stack.append(t.grad_fn)
    ops.sort(key=lambda op: op.seq)
    return ops


def tensor_inputs(op):
    """``(position, Tensor)`` for each Tensor input of ``op``."""
    return [(i, t) for i, t in enumerate(op.inputs) if isinstance(t, Tensor)]
