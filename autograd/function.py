"""``Function``: user-defined differentiable operations written with NumPy.

A subclass gives ``forward(ctx, *arrays)`` and ``backward(ctx, *grad_outputs)`` as static
methods working on ndarrays; ``MyOp.apply(*args)`` runs it on Tensors and records one graph
node (an ``Op``) named after the class. Several outputs are supported: the node's value is
the float outputs packed into one flat array and each output Tensor is a slice of it, so
the engine's one-gradient-per-edge rule holds and unused outputs get zero gradients.

The backward works on ndarrays, so it cannot be recorded: under ``create_graph=True`` the
gradients it returns are marked as not differentiable again (like PyTorch's
``once_differentiable``) and differentiating through them raises RuntimeError.
"""
from __future__ import annotations

import numpy as np

from .dtypes import is_floating, to_array
from .engine import no_grad
from .op import Op
from .tensor import Tensor


class FunctionCtx:
    """What ``forward`` hands to ``backward``: saved arrays, flags and any attribute you set."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._non_differentiable = ()
        self._layout = None
        self._single_constant = False
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
        ids = tuple(id(o.data if isinstance(o, Tensor) else o) for o in outputs)
        self._non_differentiable = self._non_differentiable + ids


class Function:
    """Base class of user-defined ops: subclass with static ``forward`` and ``backward``, call ``apply``.

    ``forward(ctx, *args)`` receives ndarrays where Tensors were passed (other arguments as they
    are) and returns an ndarray or a tuple of them. ``backward(ctx, *grad_outputs)`` receives one
    ndarray per output and returns one gradient (ndarray or None) per argument of ``apply``.
    """

    _node_cls = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._node_cls = type(cls.__name__ + "Node", (_FunctionNode,), {"name": cls.__name__, "function": cls})

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
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        packed = cls._node_cls.apply(*args, ctx=ctx)
        node = packed.grad_fn
        if node is not None:
            node.params = {}  # the ctx is an implementation detail, not a parameter to display
        layout = ctx._layout
        if layout is None:  # a single output: the node's value is the output itself
            return Tensor._make(packed.data) if node is not None and ctx._single_constant else packed
        outs = []
        for k, (entry, const) in enumerate(zip(layout.entries, layout.constants)):
            if const is not None:
                outs.append(Tensor._make(const))
            else:
                start, stop, shape, dtype = entry
                outs.append(_Unpack.apply(packed, index=k, start=start, stop=stop, shape=shape, dtype=dtype))
        layout.constants = [None] * len(layout.entries)  # the node keeps only shapes, not constant outputs
        return tuple(outs)


class _Layout:
    """Where each output lives: ``(start, stop, shape, dtype)`` in the packed array, or, for an output
    carrying no gradient, ``(None, None, shape, dtype)`` with the array in ``constants`` until apply returns."""

    __slots__ = ("constants", "entries")

    def __init__(self, entries, constants):
        self.entries, self.constants = entries, constants


class _FunctionNode(Op):
    """The graph node of one ``Function.apply`` call."""

    name = "function"
    function = Function

    def forward(self, *arrays, ctx=None):
        fn = self.function
        self.saved = (ctx,)
        with no_grad():
            result = fn.forward(ctx, *arrays)
        if isinstance(result, tuple):
            return self._pack(ctx, [_as_output(fn, k, r) for k, r in enumerate(result)])
        out = _as_output(fn, 0, result)
        ctx._single_constant = not is_floating(out.dtype) or id(out) in ctx._non_differentiable
        return out

    def _pack(self, ctx, outs):
        """Concatenate the differentiable (float) outputs into one flat array; remember the layout."""
        differentiable = [is_floating(o.dtype) and id(o) not in ctx._non_differentiable for o in outs]
        floats = [o.dtype for o, d in zip(outs, differentiable) if d]
        dtype = np.result_type(*floats) if floats else np.dtype(np.float64)
        entries, constants, pieces, start = [], [], [], 0
        for o, d in zip(outs, differentiable):
            if d:
                entries.append((start, start + o.size, o.shape, o.dtype))
                constants.append(None)
                pieces.append(o.reshape(-1))
                start += o.size
            else:
                entries.append((None, None, o.shape, o.dtype))
                constants.append(o)
        ctx._layout = _Layout(entries, constants)
        return np.concatenate(pieces).astype(dtype, copy=False) if pieces else np.zeros(0, dtype)

    def run_backward(self, g, create_graph):
        """Call the user's NumPy backward; under create_graph wrap its results as once-differentiable."""
        ctx = self.saved[0]
        fn = self.function
        garr = g.data if isinstance(g, Tensor) else g
        layout = ctx._layout
        if layout is None:
            grad_outputs = (garr,)
        else:
            grad_outputs = tuple(
                np.zeros(shape, dtype if is_floating(dtype) else garr.dtype) if start is None
                else garr[start:stop].reshape(shape).astype(dtype, copy=False)
                for start, stop, shape, dtype in layout.entries)
        with no_grad():
            result = fn.backward(ctx, *grad_outputs)
        grads = self._check_grads(result)
        if not create_graph:
            return grads
        inputs = [x for x in self.inputs if isinstance(x, Tensor) and x.requires_grad]
        return tuple(None if gi is None else _once_differentiable(fn.__name__, gi, g, inputs) for gi in grads)

    def _check_grads(self, result):
        """One gradient per input, None where the input needs none, each in the input's shape and dtype."""
        fn = self.function
        grads = result if isinstance(result, tuple) else (result,)
        if len(grads) != len(self.inputs):
            raise RuntimeError(f"{fn.__name__}.backward returned {len(grads)} gradient(s) but apply got "
                               f"{len(self.inputs)} argument(s); return one per argument (None for no gradient)")
        out = []
        for i, (x, gi) in enumerate(zip(self.inputs, grads)):
            if gi is None or not (isinstance(x, Tensor) and x.requires_grad):
                out.append(None)
                continue
            gi = np.asarray(gi.data if isinstance(gi, Tensor) else gi)
            if gi.shape != x.shape:
                try:
                    if np.broadcast_shapes(gi.shape, x.shape) != gi.shape:
                        raise ValueError
                except ValueError:
                    raise RuntimeError(f"{fn.__name__}.backward returned a gradient of shape {gi.shape} for "
                                       f"argument {i} of shape {x.shape}") from None
            out.append(gi.astype(x.dtype, copy=False))
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


class _Unpack(Op):
    """Output ``k`` of a multi-output Function: a slice of the packed array, reshaped and cast back."""

    name = "function_output"

    def forward(self, packed, index=0, start=0, stop=0, shape=(), dtype=None):
        self.saved = (packed.size, start, stop, packed.dtype)
        return packed[start:stop].reshape(shape).astype(dtype, copy=False)

    def backward(self, g):
        size, start, stop, dtype = self.saved
        if isinstance(g, Tensor):
            from .ops.shape import pad
            return pad(g.astype(dtype).reshape(-1), ((start, size - stop),))
        full = np.zeros(size, dtype)
        full[start:stop] = g.reshape(-1)
        return full


class _OnceDifferentiable(Op):
    """A gradient produced by a Function's NumPy backward: correct in value, not differentiable again."""

    name = "function_backward"

    def forward(self, *arrays, value=None, function=""):
        return value

    def backward(self, g):
        raise RuntimeError(
            f"{self.params['function']}: its backward is written with NumPy and cannot be differentiated again "
            "(it is once-differentiable); write the op with autograd operations instead of Function to get "
            "higher-order derivatives")


def _once_differentiable(function_name, value, grad_output, inputs):
    """Wrap a NumPy-computed gradient so it depends on the graph but refuses a further backward."""
    t = _OnceDifferentiable.apply(grad_output, *inputs, value=value, function=function_name)
    if t.grad_fn is not None:
        t.grad_fn.params = {"function": function_name}  # drop the value itself from the node's parameters
    return t
