"""``Function``: user-defined differentiable operations written with NumPy.

A subclass gives ``forward(ctx, *arrays)`` and ``backward(ctx, *grad_outputs)`` as static
methods working on ndarrays; ``MyOp.apply(*args)`` runs it on Tensors and records one graph
node named after the class. A forward returning a tuple makes a node with several outputs, one
Tensor each; an output that received no gradient reaches ``backward`` as zeros of its shape.

The backward works on ndarrays, so it cannot be recorded: under ``create_graph=True`` the
gradients it returns are marked as not differentiable again (like PyTorch's
``once_differentiable``) and differentiating through them raises RuntimeError.
"""
from __future__ import annotations

import numpy as np

from .dtypes import get_default_dtype, is_floating, to_array
from .mode import no_grad
from .op import Input, Op, once_differentiable
from .tensor import Tensor


class FunctionCtx:
    """What ``forward`` hands to ``backward``: saved arrays, flags and any attribute you set."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._non_differentiable = ()
        self._released = False

    def save_for_backward(self, *values) -> None:
        """Keep ``values`` (ndarrays, Tensors' data or None) for ``backward`` as ``ctx.saved_tensors``."""
        self._saved = tuple(v.data if isinstance(v, Tensor) else v for v in values)

    @property
    def saved_tensors(self) -> tuple:
        """The values given to ``save_for_backward``, in order."""
        if self._released:
            raise RuntimeError("saved_tensors: the saved values were freed after backward; "
                               "pass retain_graph=True to the first backward to keep them")
        return self._saved

    def mark_non_differentiable(self, *outputs) -> None:
        """Declare outputs (the arrays ``forward`` returns) that carry no gradient, like indices."""
        self._non_differentiable += tuple(o.data if isinstance(o, Tensor) else o for o in outputs)


class Function:
    """Base class of user-defined ops: subclass with static ``forward`` and ``backward``, call ``apply``.

    ``forward(ctx, *args)`` receives ndarrays where Tensors were passed (other arguments as they
    are) and returns an ndarray or a tuple of them. ``backward(ctx, *grad_outputs)`` receives one
    ndarray per output and returns one gradient (ndarray or None) per argument of ``apply``.
    """

    _node_cls = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._node_cls = type(cls.__name__ + "Node", (_FunctionNode,), {"name": cls.__name__, "function": cls,
                                                            "rule": getattr(cls, "rule", _FunctionNode.rule)})

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must define @staticmethod forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function subclasses must define @staticmethod backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args) -> Tensor | tuple[Tensor, ...]:
        """Run ``forward`` on the arrays behind ``args``; record a node when an input requires grad."""
        if cls._node_cls is None:
            raise TypeError("Function.apply: subclass Function and call apply on the subclass")
        for a in args:  # the same dtype check as every op's operands (object, str, complex... refused)
            if isinstance(a, np.ndarray) and a.dtype.kind not in "biuf":
                raise TypeError(f"{cls.__name__}.apply: an array of dtype {a.dtype} is not supported (tensors hold "
                                "bool, integer or floating values)")
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        out = cls._node_cls.apply(*args, ctx=ctx)
        outs = out if isinstance(out, tuple) else (out,)
        node = outs[0].grad_fn
        if node is None:
            return out
        node._params = {}  # the ctx is an implementation detail, not a parameter to display
        # Outputs that carry no gradient (integers, marked ones) are plain Tensors, like PyTorch's.
        outs = tuple(t if d else Tensor._wrap(t.data) for t, d in zip(outs, ctx._differentiable))
        return outs if isinstance(out, tuple) else outs[0]


class _FunctionNode(Op):
    """The graph node of one ``Function.apply`` call: one output per array ``forward`` returns."""

    name = "function"
    function = Function

    def forward(self, *arrays, ctx=None):
        fn = self.function
        with no_grad():
            result = fn.forward(ctx, *arrays)
        several = isinstance(result, tuple)
        outs = tuple(_as_output(fn, k, r) for k, r in enumerate(result if several else (result,)))
        ctx._differentiable = tuple(is_floating(o.dtype) and not any(o is m for m in ctx._non_differentiable)
                                    for o in outs)
        # The ctx, and the inputs it saved (by role, so an in-place change to one before backward is caught).
        self.saved = (ctx, *[Input(i) for i, a in enumerate(arrays) if any(v is a for v in ctx._saved)])
        return outs if several else outs[0]

    rule = "as written in the Function's backward (give the Function class a `rule` to show it)"
    def run_backward(self, grads, create_graph):
        """Call the user's NumPy backward; under create_graph wrap its results as once-differentiable."""
        if self._freed:
            self._raise_freed()
        self._saved_values(self.saved, False)  # raises if an input the ctx saved was changed in place
        ctx = self.saved[0]
        fn = self.function
        plain = [g.data if isinstance(g, Tensor) else g for g in grads]
        fallback = next((g.dtype for g in plain if g is not None), get_default_dtype())
        grad_outputs = tuple(
            np.zeros(shape, dtype if is_floating(dtype) else fallback) if g is None else g.astype(dtype, copy=False)
            if is_floating(dtype) else g for g, (shape, dtype) in zip(plain, self.outputs))
        with no_grad():
            result = fn.backward(ctx, *grad_outputs)
        in_grads = self._check_grads(result)
        if not create_graph:
            return in_grads
        g = next(g for g in grads if g is not None)
        inputs = self._graph_inputs()
        reason = (f"{fn.__name__}: its backward is written with NumPy and cannot be differentiated again (it is "
                  "once-differentiable); write the op with autograd operations instead of Function to get "
                  "higher-order derivatives")
        return tuple(None if gi is None else once_differentiable(gi, g, inputs, reason) for gi in in_grads)

    def _check_grads(self, result):
        """One gradient per input, None where the input needs none, each in the input's shape and dtype."""
        fn = self.function
        grads = result if isinstance(result, tuple) else (result,)
        edges = self.inputs
        if len(grads) != len(edges):
            raise RuntimeError(f"{fn.__name__}.backward returned {len(grads)} gradient(s) but apply got "
                               f"{len(edges)} argument(s); return one per argument (None for no gradient)")
        out = []
        for i, (edge, gi) in enumerate(zip(edges, grads)):
            if gi is None or not self.needs_grad(i):
                out.append(None)
                continue
            gi = np.asarray(gi.data if isinstance(gi, Tensor) else gi)
            if gi.shape != edge.shape:
                try:
                    if np.broadcast_shapes(gi.shape, edge.shape) != gi.shape:
                        raise ValueError
                except ValueError:
                    raise RuntimeError(f"{fn.__name__}.backward returned a gradient of shape {gi.shape} for "
                                       f"argument {i} of shape {edge.shape}") from None
            out.append(gi.astype(edge.dtype, copy=False))
        return tuple(out)

    def release(self):
        ctx = self.saved[0] if self.saved else None
        if ctx is not None:
            ctx._saved = ()
            ctx._released = True
        super().release()


def _as_output(fn, k, value):
    """An output of ``forward`` as an ndarray, with a clear error for anything else."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (int, float, bool, np.generic)):
        return to_array(value)
    raise TypeError(f"{fn.__name__}.forward must return an ndarray or a tuple of ndarrays, but output {k} is "
                    f"{type(value).__name__}")
