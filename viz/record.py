"""``viz.record()``: watch forward ops and backward steps through the engine's observers.

Gradients that flow through intermediate nodes are normally thrown away, and backward frees the
values the forward made; a recording keeps a copy of each (keyed weakly by its graph node, so it
lives exactly as long as the graph) for ``draw_graph``, ``draw_backward`` and the ``Stepper`` to show.
"""
from __future__ import annotations

import contextlib
import weakref

import numpy as np

from autograd import Tensor
from autograd.engine import add_observer, remove_observer

# op -> copies of the gradients its outputs received (d root / d output k) in the last recorded backward.
_received: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# op -> copies of the gradients it sent to each input; op -> copies of its output values (recorded forward).
_sent: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_values: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plain(g):
    if g is None:
        return None
    if isinstance(g, Tensor):
        g = g.data
    return np.array(g, copy=True)


class Recording:
    """What happened while the ``record()`` context was open, in the order it happened.

    ``forward``: op nodes in execution order. ``backward``: op nodes in the order the engine
    visited them. ``received[op]``: the gradient of the op's output (of its first output that received
    one, for a node with several; ``received_outputs[op]`` has them all, None where none arrived);
    ``sent[op]``: the gradients it passed to each input (None where an input gets none).
    """

    def __init__(self, keep_forward: bool = True):
        self.forward: list = []
        self.backward: list = []
        self.received: dict = {}
        self.received_outputs: dict = {}
        self.sent: dict = {}
        self._keep_forward = keep_forward

    def on_forward(self, op, out) -> None:
        if self._keep_forward:
            self.forward.append(op)
            outs = out if isinstance(out, tuple) else (out,)
            _values[op] = tuple(np.array(t.data, copy=True) for t in outs)

    def on_backward(self, op, grad_outputs, grad_inputs) -> None:
        outs = tuple(_plain(g) for g in grad_outputs)
        g = next((x for x in outs if x is not None), None)
        self.backward.append(op)
        self.received[op] = g
        self.received_outputs[op] = outs
        self.sent[op] = tuple(_plain(gi) for gi in grad_inputs)
        _received[op] = outs
        _sent[op] = self.sent[op]


@contextlib.contextmanager
def record(keep_forward: bool = True):
    """Context manager yielding a ``Recording`` of the ops run and backward steps taken inside it.

    Gradients seen here are also remembered for ``viz.draw_backward``, which then shows every
    intermediate gradient, not only those of leaves and ``retain_grad`` tensors. With ``keep_forward``
    the values each op made are copied too, so drawings still show them after backward frees the graph.
    """
    rec = Recording(keep_forward)
    add_observer(rec)
    try:
        yield rec
    finally:
        remove_observer(rec)


def received_gradient(op, k: int = 0):
    """The gradient output ``k`` of ``op`` received in the last recorded backward, or None."""
    outs = _received.get(op)
    return outs[k] if outs is not None and k < len(outs) else None


def sent_gradients(op):
    """The gradients ``op`` sent to each of its inputs in the last recorded backward, or None."""
    return _sent.get(op)


def recorded_value(op, k: int = 0):
    """Output ``k`` of ``op`` as it was made inside ``viz.record()``, or None."""
    vals = _values.get(op)
    return vals[k] if vals is not None and k < len(vals) else None
