"""``Op``: one differentiable operation, its forward and backward side by side.

An op's ``forward(*arrays, **params)`` computes on ndarrays and stores in ``self.saved``
what the backward needs. ``backward(g)`` returns the gradient for each positional input
(a single value for one input, a tuple otherwise; None where there is none).

Backward code is written once for two modes. Normally ``g`` and ``self.saved`` hold
ndarrays and the backward is plain NumPy. Under ``create_graph=True`` the engine hands the
same code Tensors instead: every saved array that is an input's or the output's data is
replaced by that Tensor, so the backward is recorded and can be differentiated again.
Operators (``* / + - @``), ndarray-style methods (``.sum``, ``.reshape``, ...) and the
functions in ``autograd.ops.dual`` work on both kinds.
"""
from __future__ import annotations

import itertools
import sys

import numpy as np

from .engine import state
from .tensor import Tensor  # tensor.py defines Tensor before it imports the ops

_sequence = itertools.count()
_placeholders = {}  # (shape, dtype) -> zero-stride stand-in for a released output


class Op:
    """A node of the graph: the operation that produced a Tensor, with its inputs."""

    __slots__ = ("inputs", "saved", "params", "out", "seq", "scope", "hooks", "retained", "released",
                 "out_name", "created_at", "_views", "__weakref__")
    name = "op"  # display name, set per subclass

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, g):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **params):
        """Run the op on Tensors/arrays/scalars; record a node when some input requires grad."""
        op = cls.__new__(cls)
        op.saved = ()
        record = False
        arrays = []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a.requires_grad:
                    record = True
            else:
                arrays.append(a)
        views = None
        if record and len(arrays) > 1 and (len(arrays) > 2 or arrays[0] is arrays[1] and args[0] is not args[1]):
            views = _separate_shared_arrays(args, arrays)
        out = op.forward(*arrays, **params)
        if type(out) is not np.ndarray:
            out = np.asarray(out)  # NumPy returns scalars for 0-d results
        st = state
        if not (record and st.grad_enabled):
            t = Tensor._make(out)
            if st.anomaly:
                from .anomaly import check_forward
                check_forward(op, out, None)
            return t
        op.inputs = args
        op.params = params
        op.out = out
        op.seq = next(_sequence)
        op.scope = st.scope
        op.hooks = None
        op.retained = None
        op.released = False
        op.out_name = None
        op.created_at = None
        op._views = views
        t = Tensor._make(out, op)
        if st.anomaly:
            from .anomaly import check_forward
            check_forward(op, out, t)
        if st.observers:
            for obs in st.observers:
                obs.on_forward(op, t)
        return t

    def run_backward(self, g, create_graph):
        """Call ``backward`` in the requested mode and return one gradient per input."""
        if not create_graph:
            grads = self.backward(g)
            return (grads,) if len(self.inputs) == 1 else grads
        plain = self.saved
        self.saved = self._saved_as_tensors()
        try:
            grads = self.backward(g)
        finally:
            self.saved = plain
        if len(self.inputs) == 1:
            grads = (grads,)
        return tuple(None if gi is None else gi if isinstance(gi, Tensor) else Tensor._make(np.asarray(gi))
                     for gi in grads)

    def _saved_as_tensors(self):
        """Saved arrays that are an input's or the output's data, replaced by those Tensors."""
        by_id = {}
        for t in self.inputs:
            if isinstance(t, Tensor):
                by_id.setdefault(id(t.data), t)
        if self._views:
            by_id.update(self._views)
        if self.out is not None and id(self.out) not in by_id:
            by_id[id(self.out)] = Tensor._make(self.out, self)
        return tuple(by_id.get(id(s), s) if isinstance(s, np.ndarray) else s for s in self.saved)

    def release(self):
        """Free the saved arrays and the output value, keeping shapes and dtypes (for drawings).

        Non-leaf inputs stop holding values too: one that nothing else refers to has its value replaced
        by a zero-stride placeholder of the same shape and dtype; one still referred to elsewhere (by the
        caller or by other nodes) is swapped, in this node only, for a value-less stand-in with the same
        ``grad_fn``. So after backward the graph keeps no intermediate result alive.
        """
        self.saved = ()
        self._views = None
        out = self.out
        if out is not None:
            stand_in = _placeholders.get((out.shape, out.dtype))
            self.out = stand_in if stand_in is not None else _placeholder(out.shape, out.dtype)
        inputs = self.inputs
        shared = False
        for t in inputs:
            if type(t) is not Tensor or t.grad_fn is None:
                continue  # constants and leaves belong to the caller
            # References: this tuple, the loop variable and getrefcount's argument (one more per repeat).
            rc = _refcount(t)
            if rc <= 3 or rc <= 2 + len(inputs) and rc <= 2 + _count(inputs, t):
                data = t.data
                stand_in = _placeholders.get((data.shape, data.dtype))
                t.data = stand_in if stand_in is not None else _placeholder(data.shape, data.dtype)
            else:
                shared = True
        if shared:
            self.inputs = tuple([_released_input(x) for x in inputs])
        self.released = True

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` needs a gradient (lets a backward skip work it would throw away)."""
        t = self.inputs[i]
        return isinstance(t, Tensor) and t.requires_grad

    def __repr__(self):
        return f"<{self.name} backward>"


def _placeholder(shape, dtype):
    """A zero-stride read-only array of ``shape`` and ``dtype`` standing in for a freed value (shared)."""
    key = (shape, dtype)
    stand_in = _placeholders.get(key)
    if stand_in is None:
        if len(_placeholders) > 4096:
            _placeholders.clear()
        stand_in = _placeholders[key] = np.broadcast_to(np.zeros((), dtype), shape)
    return stand_in


def _count(items, x):
    """How many times ``x`` itself (by identity) is in ``items``."""
    n = 0
    for y in items:
        if y is x:
            n += 1
    return n


# Without reference counts (not CPython), non-leaf inputs are never taken to be unreferenced.
_refcount = getattr(sys, "getrefcount", lambda _: 1 << 30)


def _released_input(x):
    """``x`` itself when it is a leaf or a constant; for a non-leaf, a value-less stand-in with its grad_fn."""
    if type(x) is not Tensor or x.grad_fn is None:
        return x
    data = x.data
    t = object.__new__(Tensor)
    t.data = _placeholder(data.shape, data.dtype)
    t.grad = None
    t.grad_fn = x.grad_fn
    t.requires_grad = True
    t._name = None
    t._hooks = None
    return t


def _separate_shared_arrays(args, arrays):
    """Give each input Tensor its own array object when two Tensors wrap the same one (``x * x.detach()``).

    Recorded backward (create_graph) maps saved arrays back to input Tensors by identity; with one
    array behind two Tensors it could not tell which was saved. A later Tensor gets a view instead;
    the returned ``{id(view): Tensor}`` (None when nothing was shared) is kept as the op's ``_views``.
    """
    first = {}
    views = None
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and first.setdefault(id(a.data), a) is not a:
            v = arrays[i] = a.data.view()
            if views is None:
                views = {}
            views[id(v)] = a
    return views
