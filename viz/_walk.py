"""Read-only walks over the recorded graph, through the declared node interface only
(``Tensor.grad_fn`` -> ``node.inputs`` edges -> producer nodes)."""
from __future__ import annotations

from autograd import Tensor

from .record import recorded_value


class NodeOutput:
    """Output ``output_index`` of node ``grad_fn`` as drawings see a non-leaf input: shape, dtype, and the
    value while the node holds it (None once backward has freed it; never zeros)."""

    __slots__ = ("grad_fn", "output_index")
    requires_grad = True
    grad = None

    def __init__(self, node, index):
        self.grad_fn, self.output_index = node, index

    shape = property(lambda self: self.grad_fn.outputs[self.output_index].shape)
    dtype = property(lambda self: self.grad_fn.outputs[self.output_index].dtype)

    @property
    def data(self):
        return output_data(self.grad_fn, self.output_index)


TENSORS = (Tensor, NodeOutput)  # what an input item is when it is not a constant


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


def input_items(op) -> list:
    """One item per input of ``op``: the leaf Tensor, a ``NodeOutput`` for a non-leaf input, or the constant."""
    items = []
    for edge in op.inputs:
        if edge.kind == "node":
            items.append(NodeOutput(edge.node, edge.index))
        else:
            items.append(edge.tensor if edge.kind == "leaf" else edge.value)
    return items


def collect_ops(roots) -> list:
    """Every op node that the ``roots`` depend on, in forward execution order (``node.order``)."""
    seen = set()
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    ops = []
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        ops.append(op)
        for edge in op.inputs:
            if edge.node is not None and edge.node not in seen:
                stack.append(edge.node)
    ops.sort(key=lambda op: op.order)
    return ops


def tensor_inputs(op):
    """``(position, Tensor or NodeOutput)`` for each non-constant input of ``op``."""
    return [(i, t) for i, t in enumerate(input_items(op)) if isinstance(t, TENSORS)]


def output_data(op, k: int = 0):
    """Output ``k``'s value, or None once backward has freed it (unless ``viz.record()`` kept a copy)."""
    if not op.freed:
        return op.output_value(k)
    return recorded_value(op, k)
