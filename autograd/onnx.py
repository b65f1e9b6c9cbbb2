"""ONNX export: run a model once under recording, read the graph through the declared node interface
(``node.name``, ``inputs`` edges, ``params``, ``outputs``, ``scope``) and write an ONNX model.

Each op's exporter is one small function in ``EXPORTERS`` (keyed by the node's ``name``) that emits ONNX
nodes through an ``OpExport`` context; ``NOT_EXPORTABLE`` says why the others cannot be exported, and a
test fails when a registered op is in neither. An exporter reads the node's params and inputs and writes
its outputs::

    @exporter("softmax")
    def _softmax(ctx):
        ctx.add("Softmax", [ctx.input(0)], ctx.outputs, axis=int(ctx.params["axis"]))
 Parameters become initializers named by their state_dict
keys; module scopes become node names (``"layers.0/matmul_3"``).

The forward is traced twice, the second time with other values (and dynamic axes one longer): the two
ONNX graphs must be identical, so a value computed outside the graph from the input (``x.data > 0``) or a
shape computed from a dynamic axis raises instead of being frozen into the file. The check sees what
changes between the two traces (rolled values scaled by 0.8): it catches the usual cases, it is not a proof.
Needs the ``onnx`` extra (``pip install 'graphgrad[onnx]'``; ``onnxruntime`` to run the result).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("autograd.onnx needs the onnx package: pip install 'graphgrad[onnx]' (or pip install onnx)"
                      ) from exc

from .function import _FunctionNode
from .mode import enable_grad
from .tensor import Tensor

__all__ = ["EXPORTERS", "NOT_EXPORTABLE", "ExportError", "OpExport", "export", "exporter"]

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax over one axis, ReduceSum/Split/Squeeze/Unsqueeze taking axes as inputs
_INT64_MAX, _INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def _contiguous(a):
    """``a`` as a C-ordered array of the same shape (np.ascontiguousarray makes 0-d arrays 1-d)."""
    return np.asarray(a, order="C")


class ExportError(ValueError):
    """An op or a graph that ONNX export cannot express; the message names the op and its module."""


# ----------------------------------------------------------------------------- the op table

EXPORTERS: dict[str, Callable[[OpExport], None]] = {}

NOT_EXPORTABLE: dict[str, str] = {
    "function": "a user autograd.Function runs arbitrary NumPy code in its forward; write it with autograd ops, "
                "or add an exporter for it to autograd.onnx.EXPORTERS",
    "once_differentiable": "a gradient computed outside the graph (engine plumbing of a backward pass)",
}
NOT_EXPORTABLE.update({  # autograd/_capture_ops.py: effects a captured step repeats, absent from inference graphs
    "draw": "a random draw (rand/randn) is not part of an inference graph",
    "dropout_mask": "dropout is the identity in eval mode, the mode a model is exported in",
    "stat_write": "running statistics are updated in training only, never in an exported (eval) graph",
})
NOT_EXPORTABLE["class_pick"] = ("picking each row's target class belongs to a loss (nn/_class_ops.py), "
                                 "not to an inference graph")
NOT_EXPORTABLE["softmax_cross_entropy"] = ("a loss against class targets (nn/_class_ops.py), not part of an "
                                           "inference graph")


def exporter(*names: str):
    """Register the decorated function as the exporter of the ops called ``names``."""
    def register(fn):
        for name in names:
            EXPORTERS[name] = fn
        return fn
    return register


class OpExport:
    """What an exporter sees of one graph node, and how it emits ONNX nodes for it."""

    def __init__(self, builder: _Builder, node, peer, node_name: str, outputs: list[str]):
        self._b = builder
        self.node = node
        self.peer = peer  # the same node in the checking trace (other input values, longer dynamic axes)
        self.name = node_name
        self.outputs = outputs  # the ONNX names the node's outputs must get
        self.params = node.params
        self.opset = builder.opset
        self.out_dtype = node.outputs[0].dtype
        self._count = 0
        self._types: dict[str, int] = {}

    # ---- reading the node
    def value(self, i: int, peer: bool = False):
        """Input ``i``'s value in this trace, or with ``peer`` in the other one (an ndarray or a Python number)."""
        return self._b.edge_value((self.peer if peer else self.node).inputs[i])

    def is_constant(self, i: int) -> bool:
        """Whether input ``i`` is a fixed value (a constant or a leaf that is neither a graph input nor state)."""
        return self._b.edge_source(self.node.inputs[i]) is None

    def input(self, i: int, dtype=None) -> str:
        """The ONNX name of input ``i``, cast to ``dtype`` when given (constants are cast, values get a Cast)."""
        return self._b.edge_name(self.node.inputs[i], self, i, dtype)

    def shape(self, i: int) -> tuple:
        """Input ``i``'s shape in this trace."""
        return tuple(self.node.inputs[i].shape)

    def graph_input(self, array) -> str | None:
        """The name of the graph input whose array ``array`` is (integer indices read from it), or None."""
        return self._b.array_input(array)

    def graph_inputs(self, peer: bool = False) -> list[tuple[str, np.ndarray]]:
        """``(name, array)`` of every graph input, in this trace or with ``peer`` in the other one."""
        return self._b.peer_arrays if peer else self._b.input_arrays

    # ---- emitting
    def fail(self, reason: str):
        """Raise an ExportError naming this op and where in the model it is."""
        raise ExportError(f"autograd.onnx.export: op '{self.node.name}' {self._b.where(self.node)} cannot be "
                          f"exported: {reason}")

    def add(self, op_type: str, inputs: Sequence[str], outputs: Sequence[str] | int | None = None, **attrs):
        """Emit one ONNX node; ``outputs`` are names, a count of fresh names, or None for one fresh name."""
        if outputs is None or isinstance(outputs, int):
            outputs = [self.fresh() for _ in range(outputs or 1)]
        self._types[op_type] = k = self._types.get(op_type, 0) + 1
        name = f"{self.name}/{op_type}" + (f"_{k}" if k > 1 else "")
        self._b.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def fresh(self) -> str:
        """A new intermediate value name, unique within this node."""
        self._count += 1
        return f"{self.name}.t{self._count}"

    def const(self, value, dtype=None, hint: str = "c") -> str:
        """An initializer holding ``value`` (cast to ``dtype``); returns its name."""
        self._count += 1
        return self._b.initializer(f"{self.name}.{hint}{self._count}", np.asarray(value, dtype=dtype))

    def ints(self, values) -> str:
        """An int64 1-D initializer (shapes, axes, pads)."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), hint="i")

    def reduce(self, op_type: str, x: str, axes, keepdims: bool, output: str | None = None) -> str:
        """``Reduce*`` over ``axes`` with axes as an attribute or input, as the opset wants."""
        outs = [output] if output else None
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.add(op_type, [x, self.ints(axes)], outs, keepdims=int(keepdims))
        return self.add(op_type, [x], outs, axes=list(axes), keepdims=int(keepdims))


# ----------------------------------------------------------------------------- exporters

def _elementwise(op_type):
    def export(ctx: OpExport):
        ins = [ctx.input(i, ctx.out_dtype) for i in range(len(ctx.node.inputs))]
        ctx.add(op_type, ins, ctx.outputs)
    return export


for _name, _type in (("add", "Add"), ("subtract", "Sub"), ("multiply", "Mul"), ("divide", "Div"),
                     ("power", "Pow"), ("maximum", "Max"), ("minimum", "Min"), ("negative", "Neg"), ("exp", "Exp"),
                     ("log", "Log"), ("sqrt", "Sqrt"), ("abs", "Abs"), ("sign", "Sign"), ("sin", "Sin"),
                     ("cos", "Cos"), ("tan", "Tan"), ("tanh", "Tanh"), ("sigmoid", "Sigmoid"), ("relu", "Relu"),
                     ("erf", "Erf"), ("matmul", "MatMul"), ("identity", "Identity")):
    EXPORTERS[_name] = _elementwise(_type)


@exporter("log1p")
def _log1p(ctx):
    ctx.add("Log", [ctx.add("Add", [ctx.input(0, ctx.out_dtype), ctx.const(1, ctx.out_dtype)])], ctx.outputs)


@exporter("where")
def _where(ctx):
    """A condition computed from input 1 as ``x > 0`` (leaky_relu, prelu, elu) becomes ``Greater(x, 0)``; one
    computed from an integer graph input as ``i == k`` (Embedding's padding_idx) becomes ``Equal(i, k)``.
    Either is recognised only when it holds in both traces."""
    a, b = ctx.input(1, ctx.out_dtype), ctx.input(2, ctx.out_dtype)
    found = _index_mask(ctx, False) if ctx.is_constant(0) else None
    if ctx.is_constant(0) and not ctx.is_constant(1) and all(_is_positive_mask(ctx, peer) for peer in (False, True)):
        c = ctx.add("Greater", [ctx.input(1), ctx.const(0, np.asarray(ctx.value(1)).dtype)])
    elif found is not None and found == _index_mask(ctx, True):
        name, k, dtype, extra = found
        c = ctx.add("Equal", [name, ctx.const(k, dtype)])
        if extra:
            c = ctx.add("Unsqueeze", [c, ctx.ints(range(-extra, 0))])
    else:
        c = ctx.input(0, np.bool_)
    ctx.add("Where", [c, a, b], ctx.outputs)


def _index_mask(ctx, peer):
    """``(input name, k, dtype, trailing axes)`` when the condition is ``(i == k)[..., None...]`` for an integer
    graph input ``i`` in this trace (or the other one), else None."""
    cond = np.asarray(ctx.value(0, peer))
    for name, a in ctx.graph_inputs(peer):
        extra = cond.ndim - a.ndim
        if a.dtype.kind not in "iu" or extra < 0 or cond.shape != a.shape + (1,) * extra or not cond.any():
            continue
        hits = np.unique(a[cond.reshape(a.shape)])
        if len(hits) == 1 and np.array_equal(cond.reshape(a.shape), a == hits[0]):
            return name, int(hits[0]), a.dtype, extra
    return None


def _is_positive_mask(ctx, peer):
    """Whether the condition is ``x > 0`` for input 1, in this trace or the other one."""
    cond, x = np.asarray(ctx.value(0, peer)), np.asarray(ctx.value(1, peer))
    return cond.shape == x.shape and np.array_equal(cond, x > 0)


@exporter("clip")
def _clip(ctx):
    x = ctx.input(0, ctx.out_dtype)
    lo, hi = ctx.params.get("lo"), ctx.params.get("hi")
    if lo is not None:
        x = ctx.add("Max", [x, ctx.const(lo, ctx.out_dtype)], None if hi is not None else ctx.outputs)
    if hi is not None:
        ctx.add("Min", [x, ctx.const(hi, ctx.out_dtype)], ctx.outputs)


@exporter("astype")
def _astype(ctx):
    ctx.add("Cast", [ctx.input(0)], ctx.outputs, to=helper.np_dtype_to_tensor_dtype(np.dtype(ctx.params["dtype"])))


def _reduction(op_type):
    def export(ctx):
        axes, keepdims = ctx.params.get("axis", ()), ctx.params.get("keepdims", False)
        if not axes:  # a 0-d input, or no axis to reduce
            ctx.add("Identity", [ctx.input(0)], ctx.outputs)
        else:
            ctx.reduce(op_type, ctx.input(0), axes, keepdims, ctx.outputs[0])
    return export


for _name, _type in (("sum", "ReduceSum"), ("mean", "ReduceMean"), ("prod", "ReduceProd"), ("max", "ReduceMax"),
                     ("min", "ReduceMin")):
    EXPORTERS[_name] = _reduction(_type)


@exporter("logsumexp")
def _logsumexp(ctx):
    """m + log(sum(exp(x - m))) with m the max: stable for large values, as graphgrad computes it."""
    axes, keepdims = ctx.params["axis"], ctx.params["keepdims"]
    x = ctx.input(0)
    if not axes:
        return ctx.add("Identity", [x], ctx.outputs)
    m = ctx.reduce("ReduceMax", x, axes, True)
    s = ctx.reduce("ReduceSum", ctx.add("Exp", [ctx.add("Sub", [x, m])]), axes, keepdims)
    if not keepdims:
        m = ctx.add("Squeeze", [m, ctx.ints(axes)])
    ctx.add("Add", [ctx.add("Log", [s]), m], ctx.outputs)


@exporter("var", "std")
def _var(ctx):
    """mean((x - mean(x))²) · n / (n - ddof), square-rooted for std."""
    axes, keepdims, ddof = ctx.params["axis"], ctx.params["keepdims"], ctx.params.get("ddof", 0)
    x = ctx.input(0)
    n = int(np.prod([ctx.shape(0)[a] for a in axes]))
    is_var = ctx.node.name == "var"
    d = ctx.add("Sub", [x, ctx.reduce("ReduceMean", x, axes, True)])
    out = ctx.outputs[0] if is_var and not ddof else None
    v = ctx.reduce("ReduceMean", ctx.add("Mul", [d, d]), axes, keepdims, out)
    if ddof:
        v = ctx.add("Mul", [v, ctx.const(n / (n - ddof), ctx.out_dtype)], ctx.outputs if is_var else None)
    if not is_var:
        ctx.add("Sqrt", [v], ctx.outputs)


@exporter("softmax", "log_softmax")
def _softmax(ctx):
    ctx.add("Softmax" if ctx.node.name == "softmax" else "LogSoftmax", [ctx.input(0)], ctx.outputs,
            axis=int(ctx.params["axis"]))


@exporter("reshape")
def _reshape(ctx):
    """Axes kept from the input at the same place are written 0 (copy: a dynamic batch stays dynamic); one
    remaining axis is -1 (inferred), or of several the one whose length changes with a dynamic axis (the
    (N·L, E) of a Linear on (N, L, E))."""
    src, dst = ctx.shape(0), tuple(ctx.params["shape"])
    rest = [i for i, s in enumerate(dst) if not (i < len(src) and s == src[i])]
    if any(dst[i] == 0 for i in rest):
        ctx.fail(f"a reshape from {src} to {dst} creates an axis of length 0")
    spec = [dst[i] if i in rest else 0 for i in range(len(dst))]
    other = tuple(ctx.peer.params["shape"]) if ctx.peer is not None else dst
    changed = [i for i in rest if len(other) == len(dst) and other[i] != dst[i]]
    if len(rest) == 1:
        spec[rest[0]] = -1
    elif len(changed) == 1:
        spec[changed[0]] = -1
    ctx.add("Reshape", [ctx.input(0), ctx.ints(spec)], ctx.outputs)


@exporter("transpose")
def _transpose(ctx):
    if not ctx.params["axes"]:
        return ctx.add("Identity", [ctx.input(0)], ctx.outputs)
    ctx.add("Transpose", [ctx.input(0)], ctx.outputs, perm=[int(a) for a in ctx.params["axes"]])


@exporter("linear")
def _linear(ctx):
    """x Wᵀ + b (nn.Linear's node): MatMul with the transposed weight, then Add of the bias if there is one."""
    wt = ctx.add("Transpose", [ctx.input(1, ctx.out_dtype)], perm=[1, 0])
    if len(ctx.node.inputs) == 2:
        return ctx.add("MatMul", [ctx.input(0, ctx.out_dtype), wt], ctx.outputs)
    ctx.add("Add", [ctx.add("MatMul", [ctx.input(0, ctx.out_dtype), wt]), ctx.input(2, ctx.out_dtype)], ctx.outputs)


@exporter("broadcast_to")
def _broadcast_to(ctx):
    """Expand; an axis the input already has at full length is written 1 (kept as it is, so it may be dynamic)."""
    src, dst = ctx.shape(0), tuple(ctx.params["shape"])
    lead = len(dst) - len(src)
    spec = [1 if i >= lead and src[i - lead] == s else s for i, s in enumerate(dst)]
    ctx.add("Expand", [ctx.input(0), ctx.ints(spec)], ctx.outputs)


@exporter("concatenate")
def _concatenate(ctx):
    ins = [ctx.input(i, ctx.out_dtype) for i in range(len(ctx.node.inputs))]
    ctx.add("Concat", ins, ctx.outputs, axis=int(ctx.params["axis"]))


@exporter("pad")
def _pad(ctx):
    width = ctx.params["pad_width"]
    if not ctx.shape(0):
        return ctx.add("Identity", [ctx.input(0)], ctx.outputs)
    pads = [int(lo) for lo, _ in width] + [int(hi) for _, hi in width]
    value = ctx.const(ctx.params.get("constant_values", 0), ctx.out_dtype)
    ctx.add("Pad", [ctx.input(0), ctx.ints(pads), value], ctx.outputs, mode="constant")


@exporter("split", "unbind")
def _split(ctx):
    axis, bounds = int(ctx.params["axis"]), ctx.params["bounds"]
    sizes = [int(hi - lo) for lo, hi in zip(bounds[:-1], bounds[1:])]
    if ctx.node.name == "split":
        return ctx.add("Split", [ctx.input(0), ctx.ints(sizes)], ctx.outputs, axis=axis)
    pieces = ctx.add("Split", [ctx.input(0), ctx.ints(sizes)], len(sizes), axis=axis)
    for piece, out in zip(pieces if len(sizes) > 1 else [pieces], ctx.outputs):
        ctx.add("Squeeze", [piece, ctx.ints([axis])], [out])


@exporter("einsum")
def _einsum(ctx):
    subscripts = ctx.params["subscripts"]
    terms = subscripts.split("->")[0].split(",")
    if any(len(set(t.replace(".", ""))) != len(t.replace(".", "")) for t in terms):
        ctx.fail(f"einsum {subscripts!r} repeats a label within one operand (a diagonal), which ONNX Runtime's "
                 "Einsum does not support")
    ins = [ctx.input(i, ctx.out_dtype) for i in range(len(ctx.node.inputs))]
    ctx.add("Einsum", ins, ctx.outputs, equation=subscripts)


@exporter("getitem")
def _getitem(ctx):
    """Basic indexing as Slice/Squeeze/Unsqueeze; one integer array on one axis as Gather (Embedding)."""
    index = ctx.params["index"]
    items = index if isinstance(index, tuple) else (index,)
    ndim = len(ctx.shape(0))
    if ctx.params.get("basic"):
        return _basic_index(ctx, items, ndim)
    arrays = [k for k, it in enumerate(items) if isinstance(it, np.ndarray)]
    lead = items[:arrays[0]] if len(arrays) == 1 else ()
    if len(arrays) != 1 or any(not _full(s) for s in lead) or any(not _full(s) for s in items[arrays[0] + 1:]):
        ctx.fail(f"only an integer array along one axis (x[idx], take) is exported; got the index {_describe(index)}")
    idx = items[arrays[0]]
    if idx.dtype.kind not in "iu":
        ctx.fail(f"a {idx.dtype} mask selects a number of elements that depends on the values; "
                 f"index {_describe(index)}")
    name = ctx.graph_input(idx)
    if name is None:
        name = ctx.const(idx, np.int64, hint="index")
    elif idx.dtype != np.int64:
        name = ctx.add("Cast", [name], to=TensorProto.INT64)
    ctx.add("Gather", [ctx.input(0), name], ctx.outputs, axis=arrays[0])


@exporter("scatter_add")
def _scatter_add(ctx):
    """zeros(shape) with g added at rows ``index`` (one integer array on axis 0): ScatterND with reduction add."""
    index, shape = ctx.params["index"], tuple(ctx.params["shape"])
    if ctx.params.get("basic") or not isinstance(index, np.ndarray) or index.dtype.kind not in "iu":
        ctx.fail(f"only an integer array on axis 0 is exported; got the index {_describe(index)}")
    if ctx.opset < 16:
        ctx.fail(f"ScatterND with reduction='add' needs opset 16 or later, got opset {ctx.opset}")
    target = index.shape + shape[1:]
    g = ctx.input(0, ctx.out_dtype)
    if ctx.shape(0) != target:
        g = ctx.add("Expand", [g, ctx.ints(target)])
    rows = ctx.graph_input(index)  # negative rows count from the end, as in NumPy
    if rows:
        rows = ctx.add("Mod", [ctx.add("Cast", [rows], to=TensorProto.INT64), ctx.const(shape[0], np.int64)])
    else:
        rows = ctx.const(index % shape[0], np.int64, hint="index")
    where = ctx.add("Unsqueeze", [rows, ctx.ints([-1])])
    ctx.add("ScatterND", [ctx.const(np.zeros(shape), ctx.out_dtype, hint="zeros"), where, g], ctx.outputs,
            reduction="add")


def _full(item):
    return isinstance(item, slice) and item == slice(None)


def _describe(index):
    items = index if isinstance(index, tuple) else (index,)
    return "(" + ", ".join(f"array{it.shape} of {it.dtype}" if isinstance(it, np.ndarray) else repr(it)
                           for it in items) + ")"


def _basic_index(ctx, items, ndim):
    """Slices on their axes, integers sliced then squeezed, None unsqueezed at its output position."""
    if any(it is Ellipsis for it in items):
        k = items.index(Ellipsis)
        used = sum(1 for it in items if it is not None and it is not Ellipsis)
        items = items[:k] + (slice(None),) * (ndim - used) + items[k + 1:]
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    ax = out = 0
    for it in items:
        if it is None:
            unsqueeze.append(out)
            out += 1
            continue
        if isinstance(it, slice):
            if it != slice(None):
                step = 1 if it.step is None else int(it.step)
                lo, hi = (0, _INT64_MAX) if step > 0 else (_INT64_MAX, _INT64_MIN)
                starts.append(lo if it.start is None else int(it.start))
                ends.append(hi if it.stop is None else int(it.stop))
                axes.append(ax)
                steps.append(step)
            out += 1
        else:
            i = int(it)
            starts.append(i)
            ends.append(_INT64_MAX if i == -1 else i + 1)
            axes.append(ax)
            steps.append(1)
            squeeze.append(ax)
        ax += 1
    x = ctx.input(0)
    if axes:
        x = ctx.add("Slice", [x, ctx.ints(starts), ctx.ints(ends), ctx.ints(axes), ctx.ints(steps)])
    if squeeze:
        x = ctx.add("Squeeze", [x, ctx.ints(squeeze)])
    if unsqueeze:
        x = ctx.add("Unsqueeze", [x, ctx.ints(unsqueeze)])
    ctx.add("Identity", [x], ctx.outputs)


# ----------------------------------------------------------------------------- the graph builder

class _Builder:
    """One trace turned into ONNX nodes and initializers."""

    def __init__(self, opset, inputs, peer_inputs, input_names, state, module_names):
        self.opset = opset
        self.nodes: list = []
        self.inits: dict[str, np.ndarray] = {}
        self.inputs = {id(t): name for t, name in zip(inputs, input_names)}
        self.input_arrays = [(name, t.data) for t, name in zip(inputs, input_names)]
        self.peer_arrays = [(name, t.data) for t, name in zip(peer_inputs, input_names)]
        self.state = state  # id(Tensor) -> (state_dict key, Tensor)
        self.module_names = module_names
        self.values: dict[tuple[int, int], str] = {}  # (id(node), output index) -> ONNX name
        self.per_node: list[tuple] = []  # (node, its OpExport, first ONNX node index, new initializers): compared

    def where(self, node) -> str:
        """Where in the model ``node`` ran, for error messages."""
        if not node.scope:
            return "(at the top level of the exported function)"
        m = node.scope[-1]
        path = self.module_names.get(id(m))
        if path is None:
            return f"in a module of type {type(m).__name__}"
        return f"in module '{path}' ({type(m).__name__})" if path else f"in the top-level module ({type(m).__name__})"

    def scope_path(self, node) -> str:
        """The dotted name of the innermost named module ``node`` ran in ("" at the top level)."""
        for m in reversed(node.scope):
            path = self.module_names.get(id(m))
            if path is not None:
                return path or ""
        return "/".join(type(m).__name__ for m in node.scope)

    def initializer(self, name, array):
        self.inits[name] = _contiguous(array)
        return name

    def array_input(self, array):
        """The graph input whose array ``array`` is (an integer input used as an index), or None."""
        return next((name for name, a in self.input_arrays if a is array), None)

    def edge_source(self, edge):
        """The ONNX name an edge reads when it is a graph value, a graph input or state; None for a constant."""
        if edge.kind == "node":
            return self.values[(id(edge.node), edge.index)]
        if edge.kind == "leaf":
            if id(edge.tensor) in self.inputs:
                return self.inputs[id(edge.tensor)]
            if id(edge.tensor) in self.state:
                key, t = self.state[id(edge.tensor)]
                return self.initializer(key, t.data)
        return None

    def edge_value(self, edge):
        if edge.kind == "node":
            return edge.node.output_value(edge.index)
        return edge.tensor.data if edge.kind == "leaf" else edge.value

    def edge_name(self, edge, ctx, i, dtype):
        name = self.edge_source(edge)
        if name is None:  # a constant: a view of a state buffer keeps its key, anything else gets its own name
            value = np.asarray(self.edge_value(edge))
            key = self._state_view(value)
            if key is not None and (dtype is None or np.dtype(dtype) == value.dtype):
                name = self.initializer(key, self.state_value(key))
                if value.shape != self.inits[key].shape:
                    name = ctx.add("Reshape", [name, ctx.ints(value.shape)])
                return name
            self.inits[f"{ctx.name}.in{i}"] = _contiguous(value if dtype is None else value.astype(dtype))
            return f"{ctx.name}.in{i}"
        if dtype is not None and np.dtype(dtype) != edge.dtype:
            return ctx.add("Cast", [name], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))
        return name

    def state_value(self, key):
        return next(t.data for k, t in self.state.values() if k == key)

    def _state_view(self, value):
        """The state_dict key of the buffer ``value`` is a reshaped view of (BatchNorm's running_mean), or None."""
        if not isinstance(value, np.ndarray) or value.base is None:
            return None
        for key, t in self.state.values():
            a = t.data
            if a.size == value.size and a.size and np.shares_memory(a, value) and \
                    np.array_equal(a.reshape(-1), value.reshape(-1)):
                return key
        return None

    def run(self, ops, peers, outputs, output_names):
        """Emit every op in forward order, then Identity nodes for outputs that are not an op's own output."""
        targets = {}
        for t, name in zip(outputs, output_names):
            key = (id(t.grad_fn), t.output_index) if t.grad_fn is not None else None
            if key is not None and key not in targets:
                targets[key] = name
        counts: dict[str, int] = {}
        for node, peer in zip(ops, peers):
            path = self.scope_path(node)
            counts[path] = counts.get(path, 0) + 1
            node_name = f"{path}/{node.name}_{counts[path]}" if path else f"{node.name}_{counts[path]}"
            outs = [targets.get((id(node), k), f"{node_name}:{k}") for k in range(len(node.outputs))]
            for k, name in enumerate(outs):
                self.values[(id(node), k)] = name
            fn = EXPORTERS.get(node.name)
            ctx = OpExport(self, node, peer, node_name, outs)
            if fn is None:
                default = NOT_EXPORTABLE["function"] if isinstance(node, _FunctionNode) else \
                    "it has no exporter in autograd.onnx.EXPORTERS (add one there)"
                ctx.fail(NOT_EXPORTABLE.get(node.name, default))
            first, before = len(self.nodes), set(self.inits)
            fn(ctx)
            self.per_node.append((node, ctx, first, sorted(set(self.inits) - before)))
        for t, name in zip(outputs, output_names):  # an output already named by its op, or an Identity
            key = (id(t.grad_fn), t.output_index) if t.grad_fn is not None else None
            if key is not None and targets.get(key) == name:
                continue
            src = self.values[key] if key is not None else self._leaf_name(t, name)
            self.nodes.append(helper.make_node("Identity", [src], [name], name=f"{name}/Identity"))

    def _leaf_name(self, t, out_name):
        if id(t) in self.inputs:
            return self.inputs[id(t)]
        if id(t) in self.state:
            key, s = self.state[id(t)]
            return self.initializer(key, s.data)
        return self.initializer(f"{out_name}.value", t.data)


# ----------------------------------------------------------------------------- export

def _as_inputs(example_inputs):
    items = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    arrays = []
    for k, x in enumerate(items):
        a = x.data if isinstance(x, Tensor) else np.asarray(x)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"autograd.onnx.export: example input {k} must be a Tensor or a numeric array, got "
                            f"{type(x).__name__} of dtype {a.dtype}")
        arrays.append(np.array(a, copy=True))
    if not arrays:
        raise ValueError("autograd.onnx.export: example_inputs must hold at least one input")
    return arrays


def _leaves(arrays):
    """Fresh leaf Tensors for one trace: floating inputs require grad, so everything they reach is recorded."""
    return [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]


def _outputs(result):
    items = result if isinstance(result, (tuple, list)) else (result,)
    if not items or not all(isinstance(t, Tensor) for t in items):
        raise TypeError(f"autograd.onnx.export: the model must return a Tensor or a tuple of Tensors, got "
                        f"{type(result).__name__}")
    return list(items)


def _collect(outputs):
    """Every node the outputs depend on, in creation order (through ``node.inputs`` only)."""
    seen, stack, ops = set(), [t.grad_fn for t in outputs if t.grad_fn is not None], []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        ops.append(node)
        stack.extend(e.node for e in node.inputs if e.kind == "node" and id(e.node) not in seen)
    return sorted(ops, key=lambda n: n.order)


def _check_names(names, n, default, what):
    if names is None:
        return [f"{default}_{k}" if n > 1 else default for k in range(n)]
    names = list(names)
    if len(names) != n or len(set(names)) != n or not all(isinstance(s, str) and s for s in names):
        raise ValueError(f"autograd.onnx.export: {what} must be {n} distinct non-empty strings, got {names!r}")
    return names


def _dynamic(dynamic_axes, names, shapes):
    """``{name: {axis: dim name}}`` from torch-style ``dynamic_axes`` (axes as a list or a dict)."""
    out = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(f"autograd.onnx.export: dynamic_axes names {name!r}, which is not an input or output "
                             f"name ({', '.join(names)})")
        axes = axes if isinstance(axes, Mapping) else {a: f"{name}_dim{a}" for a in axes}
        ndim = len(shapes[name]) if name in shapes else None
        fixed = {}
        for a, dim in axes.items():
            if isinstance(a, bool) or not isinstance(a, int) or ndim is not None and not -ndim <= a < ndim:
                raise ValueError(f"autograd.onnx.export: dynamic axis {a!r} of {name!r} is not an axis of shape "
                                 f"{shapes.get(name)}")
            fixed[a % ndim if ndim else a] = str(dim)
        out[name] = fixed
    return out


def _second_inputs(arrays, names, dynamic):
    """Other values for the checking trace: rolled, scaled by 0.8 if floating, dynamic axes one longer."""
    out = []
    for a, name in zip(arrays, names):
        b = a
        for axis in dynamic.get(name, {}):
            n = b.shape[axis]
            b = np.take(b, np.arange(n + 1) % max(n, 1), axis=axis) if n else b
        b = np.roll(b.reshape(-1), 1).reshape(b.shape)
        out.append((b * 0.8).astype(b.dtype) if b.dtype.kind == "f" else b)
    return out


def _value_info(name, dtype, shape, dims):
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)),
                                         [dims.get(k, s) for k, s in enumerate(shape)])


def _trace(call, arrays):
    """Run the forward on fresh leaves; returns (inputs, outputs, the nodes in creation order)."""
    inputs = _leaves(arrays)
    with enable_grad():
        outputs = _outputs(call(*inputs))
    return inputs, outputs, _collect(outputs)


def _same_ops(ops1, ops2):
    if len(ops1) != len(ops2) or any(n1.name != n2.name for n1, n2 in zip(ops1, ops2)):
        raise ExportError(f"autograd.onnx.export: the recorded graph changes with the input ({len(ops1)} ops "
                          f"for the example inputs, {len(ops2)} for other values or a longer dynamic axis); "
                          "data-dependent control flow cannot be exported")


def _compare(b1, b2):
    """Raise naming the first op whose ONNX nodes or constants differ between the two traces."""
    ends1 = [p[2] for p in b1.per_node[1:]] + [len(b1.nodes)]
    ends2 = [p[2] for p in b2.per_node[1:]] + [len(b2.nodes)]
    for (node, ctx, s1, i1), e1, (_, _, s2, i2), e2 in zip(b1.per_node, ends1, b2.per_node, ends2):
        same_nodes = [n.SerializeToString() for n in b1.nodes[s1:e1]] == [n.SerializeToString() for n in
                                                                            b2.nodes[s2:e2]]
        changed = [k for k in i1 if _differs(b1, b2, k)]
        if not same_nodes or changed or i1 != i2:
            given = [k for k in changed if k.startswith(ctx.name + ".in")]
            what = (f"its input constant {given[0]!r} (shape {b1.inits[given[0]].shape}) changed when the input "
                    f"changed: {_OUTSIDE}" if given else "its ONNX form depends on the input's values or on the "
                    "length of a dynamic axis (a shape computed from x.shape)")
            ctx.fail(what + "; ONNX would freeze it. Write it with autograd ops on the input, or export without "
                            "that dynamic axis")
    changed = [k for k in b1.inits if _differs(b1, b2, k)]  # an output that is itself such a constant
    if changed or len(b1.nodes) != len(b2.nodes):
        raise ExportError(f"autograd.onnx.export: the value {changed[0] if changed else 'of an output'!r} changed "
                          f"when the input changed: {_OUTSIDE}; ONNX would freeze it")


_OUTSIDE = ("it was computed from the input's values or shape outside the graph (from .data, .numpy(), .shape, "
            "detach() or under no_grad()) or drawn at random")


def _differs(b1, b2, key):
    a, b = b1.inits[key], b2.inits.get(key)
    return b is None or a.shape != b.shape or a.dtype != b.dtype or not np.array_equal(a, b)


def export(model_or_function, example_inputs, path, input_names=None, output_names=None, dynamic_axes=None,
           opset=None):
    """Write the ONNX model computing ``model_or_function(*example_inputs)`` to ``path`` (None: do not save);
    returns the ``onnx.ModelProto``, checked with ``onnx.checker.check_model``.

    A Module is traced in eval mode (restored afterwards). ``dynamic_axes`` as in PyTorch:
    ``{"input": {0: "batch"}, "output": {0: "batch"}}`` or ``{"input": [0]}``. Inputs are named ``input``
    (``input_0``, ``input_1``... for several) and outputs ``output`` unless named.
    """
    opset = DEFAULT_OPSET if opset is None else opset
    top = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= top:
        raise ValueError(f"autograd.onnx.export: opset must be an int from {MIN_OPSET} to {top}, got {opset!r}")
    if not callable(model_or_function):
        raise TypeError(f"autograd.onnx.export: expected an nn.Module or a function, got "
                        f"{type(model_or_function).__name__}")
    arrays = _as_inputs(example_inputs)
    input_names = _check_names(input_names, len(arrays), "input", "input_names")
    is_module = hasattr(model_or_function, "named_modules") and hasattr(model_or_function, "state_dict")
    state, module_names = {}, {}
    if is_module:
        for key, t in model_or_function.state_dict(keep_vars=True).items():
            state.setdefault(id(t), (key, t))
        module_names = {id(m): name for name, m in model_or_function.named_modules()}
        was_training = model_or_function.training
        model_or_function.eval()
    try:
        ins, outs, ops = _trace(model_or_function, arrays)
        out_names = _check_names(output_names, len(outs), "output", "output_names")
        shapes = dict(zip(input_names, (a.shape for a in arrays))) | {n: t.shape for n, t in zip(out_names, outs)}
        dynamic = _dynamic(dynamic_axes, input_names + out_names, shapes)
        ins2, outs2, ops2 = _trace(model_or_function, _second_inputs(arrays, input_names, dynamic))
    finally:
        if is_module and was_training:
            model_or_function.train()
    _same_ops(ops, ops2)
    if len(outs2) != len(outs):
        raise ExportError(f"autograd.onnx.export: the model returned {len(outs)} outputs, then {len(outs2)} for "
                          "other input values")
    b1, b2 = (_Builder(opset, ins, ins2, input_names, state, module_names),
              _Builder(opset, ins2, ins, input_names, state, module_names))
    b1.run(ops, ops2, outs, out_names)
    b2.run(ops2, ops, outs2, out_names)
    _compare(b1, b2)
    for t, t2, name in zip(outs, outs2, out_names):  # an output axis that changed length is dynamic
        dims = dynamic.setdefault(name, {})
        for k, (s1, s2) in enumerate(zip(t.shape, t2.shape)):
            if s1 != s2 and k not in dims:
                dims[k] = f"{name}_dim{k}"
    graph = helper.make_graph(
        b1.nodes, getattr(model_or_function, "__class__", type(model_or_function)).__name__,
        [_value_info(n, a.dtype, a.shape, dynamic.get(n, {})) for n, a in zip(input_names, arrays)],
        [_value_info(n, t.dtype, t.shape, dynamic.get(n, {})) for n, t in zip(out_names, outs)],
        initializer=[numpy_helper.from_array(a, name) for name, a in b1.inits.items()])
    model = helper.make_model(graph, producer_name="graphgrad", opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = min(model.ir_version, 10)  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        onnx.save(model, os.fspath(path))
    return model


from . import _onnx_layers  # noqa: E402,F401  (the layer ops' exporters register themselves)
