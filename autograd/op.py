"""``Op``: one differentiable operation, its forward and backward side by side, and the graph node it records.

``forward(*arrays, **params)`` computes on ndarrays and sets ``self.saved`` to what the backward
needs: ``Input(i)`` for input i, ``Output(k)`` for output k (``Output()`` for the only one), or any
other value, kept as a constant. ``backward(g)`` reads ``self.saved`` with those entries replaced by
their values and returns one gradient per positional input (a single value for one input, a tuple
otherwise; None where there is none). An op with several outputs returns a tuple from ``forward``
and receives one gradient per output in ``backward(*gs)``, None for an output that received none.

Backward code is written once for two modes. Normally ``g`` and ``self.saved`` hold ndarrays. Under
``create_graph=True`` the engine hands the same code Tensors: every ``Input``/``Output`` entry of
``saved`` is that value as a graph Tensor, so the backward is recorded and can be differentiated
again. Constants stay constants, so a saved plain array that shares memory with an input or output
(a view, ``x.reshape(...)``) would silently give wrong higher derivatives: it raises instead.

A node keeps, for each input, where it came from (an edge to the producing node and output, a leaf
Tensor, or a constant) and, until backward frees it, the input and output arrays.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from .anomaly import check_forward
from .mode import state
from .tensor import Tensor, clock, read_only


class Input:
    """``saved`` entry: input ``index`` of the op (its value; a graph Tensor under create_graph)."""

    __slots__ = ("index",)

    def __new__(cls, index: int = 0):
        if type(index) is int and 0 <= index < 8:
            return _INPUTS[index]
        return cls._make(index)

    @classmethod
    def _make(cls, index):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise TypeError(f"{cls.__name__}: index must be a non-negative int, got {index!r}")
        self = object.__new__(cls)
        self.index = int(index)
        return self

    def __repr__(self):
        return f"{type(self).__name__}({self.index})"


class Output(Input):
    """``saved`` entry: output ``index`` of the op (its value; a graph Tensor under create_graph)."""

    __slots__ = ()

    def __new__(cls, index: int = 0):
        if type(index) is int and 0 <= index < 8:
            return _OUTPUTS[index]
        return cls._make(index)


NO_PARAMS = MappingProxyType({})  # the params of a node given none (read-only, so one is shared)
new = object.__new__  # (a local name: nodes and Tensors are made this way on the hot path)

# The first few, made once: ``INPUT[i]`` is ``Input(i)`` without a call (what the built-in ops use).
INPUT = _INPUTS = tuple(Input._make(i) for i in range(8))
OUTPUT = _OUTPUTS = tuple(Output._make(i) for i in range(8))
# ``saved`` of an op that keeps just its output (tanh, sigmoid, exp, ...): its backward is handed the node's
# outputs tuple itself, with nothing to resolve or check (a recorded output cannot be changed in place).
SAVE_OUTPUT = (OUTPUT[0],)


# A non-leaf input is kept as a plain tuple ``(producing node, which of its outputs, version counter)``;
# the counter is the one the input shared with a tensor it views (None otherwise: its value was read-only).
# ``InputEdge`` is that tuple type; a constant that is itself a tuple is kept wrapped in ``_TupleConstant``.
InputEdge = tuple


class _TupleConstant:
    """A positional constant that is a tuple, kept apart from the edge tuples."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Edge(NamedTuple):
    """Where one input of a node came from: output ``index`` of ``node``, a ``tensor`` with no producer
    (a leaf, which may or may not require grad), or a constant ``value`` (a number or an array)."""

    node: Op | None
    index: int | None
    tensor: Tensor | None
    value: object
    shape: tuple
    dtype: np.dtype | None

    @property
    def kind(self) -> str:
        """``"node"``, ``"leaf"`` or ``"constant"``."""
        return "node" if self.node is not None else "leaf" if self.tensor is not None else "constant"


class OutputInfo(NamedTuple):
    """Shape and dtype of one output of a node (kept after its value is freed)."""

    shape: tuple
    dtype: np.dtype


class Op:
    """A node of the graph: the operation that produced one or more Tensors, and where its inputs came from.

    The read-only interface that drawings, export and tests use: ``name``, ``inputs`` (``Edge``s),
    ``params``, ``outputs`` (``OutputInfo``s), ``output_value(k)``, ``freed``, ``scope``, ``order`` and
    ``site``. Everything else is private to the engine.
    """

    __slots__ = ("_rec", "__dict__", "__weakref__")
    name = "op"  # display name, set per subclass
    # Class defaults, overridden on a node only when it has its own (each is one attribute write fewer per op):
    saved = ()  # what the backward needs, set by ``forward`` (see the module docstring)
    _params = NO_PARAMS  # keyword parameters
    _scope = ()  # the modules the op ran inside (none: outside every module)
    rule = ""  # the local derivative rule as text, set per subclass next to its backward (drawn by viz)

    # A recorded node's engine fields are kept together in one list, ``_rec``: [input edges, input arrays,
    # outputs, creation order, what is kept of the outputs once freed, extras]. The backward walk and ``_output``
    # then touch one attribute of the ~75 node classes (a read on a line that sees many classes costs ~250
    # instructions, a list item ~15). The fields by name, for everything else:
    _inputs = property(lambda self: self._rec[0])
    _arrays = property(lambda self: self._rec[1])
    _outs = property(lambda self: self._rec[2])  # None once freed
    _order = property(lambda self: self._rec[3])
    _meta = property(lambda self: self._rec[4])  # each output's shape then dtype, in one flat tuple, once freed
    _extra = property(lambda self: self._rec[5])  # hooks, retain_grad, names, creation site (a dict) once one is used

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, g):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **params):
        """Run the op on Tensors/arrays/scalars; record a node when some input requires grad."""
        op = new(cls)
        record = False
        arrays = []
        edges = []  # per input: an edge to its producer, the leaf Tensor, or the constant
        for a in args:
            if type(a) is Tensor or isinstance(a, Tensor):  # (the exact type first: no call on the common path)
                arrays.append(a._data)
                if a.requires_grad:
                    record = True
                    if a.grad_fn is not None:
                        edges.append((a.grad_fn, a._index, a._vbox))
                        continue
            else:
                arrays.append(a)
                if type(a) is tuple:
                    a = _TupleConstant(a)
            edges.append(a)
        out = op.forward(*arrays, **params) if params else op.forward(*arrays)
        return _output(op, out, args, arrays, edges, params, record)

    @classmethod
    def apply2(cls, a, b):
        """``apply(a, b)`` for two operands, each a Tensor or an ndarray, and no parameters, without the general
        argument loop (the binary ops' entry); anything else goes to ``apply``."""
        kind = type(a)
        if kind is Tensor:
            x = a._data
            ea = a if a.grad_fn is None else (a.grad_fn, a._index, a._vbox)
            record = a.requires_grad
        elif kind is np.ndarray:
            x = ea = a
            record = False
        else:
            return cls.apply(a, b)
        kind = type(b)
        if kind is Tensor:
            y = b._data
            eb = b if b.grad_fn is None else (b.grad_fn, b._index, b._vbox)
            record = record or b.requires_grad
        elif kind is np.ndarray:
            y = eb = b
        else:
            return cls.apply(a, b)
        op = new(cls)
        return _output(op, op.forward(x, y), (a, b), (x, y), (ea, eb), NO_PARAMS, record)

    def _apply_general(self, args, edges, arrays, outs, params, record, single):
        """The rest of ``apply`` for an op with several outputs, or while something watches (capture, anomaly
        mode, observers; grad mode on or off): the Tensor (``single``) or a tuple of one Tensor per output."""
        st = state
        if st.tracer is not None:  # autograd.capture is recording this call (autograd/capture.py)
            st.tracer.on_op(self, args, arrays, outs, params)
        if not (record and st.grad_enabled):
            if st.anomaly:
                check_forward(self, outs, arrays)
            return Tensor._wrap(outs[0]) if single else tuple([Tensor._wrap(o) for o in outs])
        self._record(edges, arrays, outs, params, st)
        tensors = tuple([Tensor._wrap(o, self, k, _output_version(o, args, arrays)) for k, o in enumerate(outs)])
        result = tensors[0] if single else tensors
        for obs in st.observers:
            obs.on_forward(self, result)
        return result

    def _record(self, edges, arrays, outs, params, st):
        """Keep what backward and the node interface need: the input edges and arrays, the outputs, the params."""
        self._rec = [edges, arrays, outs, next(clock), None, None]  # (the fields are named in the class body)
        if params:
            self._params = params
        scope = st.scope
        if scope:
            self._scope = scope
        if self.saved is SAVE_OUTPUT and len(outs) > 1:  # the walk hands a SAVE_OUTPUT node all its outputs
            self.saved = (OUTPUT[0],)  # (the same roles, resolved one by one)
        if st.anomaly:
            self._note("site", check_forward(self, outs))

    # ------------------------------------------------------------------ backward
    def run_backward(self, grads, create_graph):
        """Call ``backward`` with one gradient per output; return one gradient per input."""
        inputs, arrays, outs, order, _, _ = self._rec
        if outs is None:
            self._raise_freed()
        spec = self.saved
        if create_graph:
            result = self._recorded_backward(spec, grads)
            result = result if type(result) is tuple else (result,)
            self._check_count(result)
            return tuple(g if g is None or isinstance(g, Tensor) else Tensor._wrap(np.asarray(g)) for g in result)
        if spec:  # the saved values as arrays (``_saved_values``, written out on this hot path)
            values = []
            for item in spec:
                kind = type(item)
                if kind is Output:
                    item = outs[item.index]
                elif kind is Input:
                    i = item.index
                    x = inputs[i]
                    box = x[2] if type(x) is InputEdge else x._vbox if isinstance(x, Tensor) else None
                    if box is not None and box[1] > order:
                        self._raise_modified(i)
                    item = arrays[i]
                values.append(item)
            self.saved = values
            try:
                result = self.backward(grads[0]) if len(grads) == 1 else self.backward(*grads)
            finally:
                self.saved = spec
        else:
            result = self.backward(grads[0]) if len(grads) == 1 else self.backward(*grads)
        if type(result) is tuple:
            if len(result) != len(inputs):
                self._check_count(result)
            return result
        if len(inputs) != 1:
            self._check_count((result,))
        return (result,)

    def _check_count(self, result):
        if len(result) != len(self._inputs):
            raise RuntimeError(f"{self.name}: backward returned {len(result)} gradient(s) for "
                               f"{len(self._inputs)} input(s)")

    def _raise_freed(self):
        raise RuntimeError(
            f"Trying to backward through the graph a second time (op '{self.name}'); its saved values "
            "were freed after the first backward. Pass retain_graph=True to the first backward "
            "if you need to backward through the graph again.")

    def _recorded_backward(self, spec, grads):
        """The backward with saved roles and gradients as graph Tensors, so what it computes is recorded too."""
        alias = self._aliased_constant(spec)
        if alias:  # right in value, wrong if differentiated again: compute plainly and refuse a further backward
            self.saved = self._saved_values(spec, False)
            try:
                result = self.backward(*[g._data if isinstance(g, Tensor) else g for g in grads])
            finally:
                self.saved = spec
            result = result if type(result) is tuple else (result,)
            link = [g for g in grads if isinstance(g, Tensor)] + self._graph_inputs()
            return tuple(None if r is None else once_differentiable(np.asarray(r), link[0], link[1:], alias)
                         for r in result)
        self.saved = self._saved_values(spec, True)
        previous, state.backward_node = state.backward_node, self
        try:
            return self.backward(*[g if g is None or isinstance(g, Tensor) else Tensor._wrap(g) for g in grads])
        finally:
            state.backward_node = previous
            self.saved = spec

    def _saved_values(self, spec, create_graph):
        """``saved`` with each ``Input``/``Output`` entry replaced by its array, or under create_graph by
        its graph Tensor (the input itself, or an output routed back to this node). A saved input changed
        in place since this node was recorded raises: the backward would silently use the new value."""
        inputs, order = self._inputs, self._order
        values = []
        for item in spec:
            kind = type(item)
            if kind is Input:
                i = item.index
                x = inputs[i]
                if type(x) is InputEdge or isinstance(x, Tensor):
                    box = x[2] if type(x) is InputEdge else x._vbox
                    if box is not None and box[1] > order:
                        self._raise_modified(i)
                    if not create_graph:
                        x = self._arrays[i]
                    elif type(x) is InputEdge:
                        x = Tensor._wrap(self._arrays[i], x[0], x[1])  # routes its gradient to the producer
                else:
                    x = self._arrays[i]  # a constant, as it was passed
                values.append(x)
            elif kind is Output:
                o = self._outs[item.index]
                values.append(Tensor._wrap(o, self, item.index) if create_graph else o)
            else:
                values.append(item)
        return tuple(values)

    def _raise_modified(self, i):
        x = self._inputs[i]
        if isinstance(x, Tensor):
            what, box = "a leaf tensor" + (f" named {x.name!r}" if x.name else ""), x._vbox
        else:
            what, box = f"output {x[1]} of op '{x[0].name}', a view of a tensor that was changed", x[2]
        raise RuntimeError(
            f"backward: input {i} of op '{self.name}' ({what}; shape {np.shape(self._arrays[i])}), saved for its "
            f"backward, was modified by an in-place operation after the forward pass (it is at version {box[0]}). "
            "Run the forward pass again after changing it, or change a copy.")

    def _aliased_constant(self, spec):
        """Why the backward cannot be recorded: a plain saved array that is really an input's or output's memory
        (under create_graph it would be taken for a constant, so higher derivatives would be wrong); or ''."""
        for pos, item in enumerate(spec):
            if type(item) is not np.ndarray:
                continue
            what = next((f"input {i}" for i in range(len(self._inputs)) if self.needs_grad(i)
                         and np.may_share_memory(item, self._arrays[i])), None)
            what = what or next((f"output {k}" for k, o in enumerate(self._outs) if np.may_share_memory(item, o)),
                                None)
            if what:
                return (f"{self.name}: saved value {pos} is a plain array sharing memory with {what}, so its "
                        "backward cannot be differentiated again (the array would be taken for a constant). Save it "
                        "by role instead: self.saved = (Input(i), ...) or (Output(k), ...)")
        return ""

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` needs a gradient (lets a backward skip work it would throw away)."""
        x = self._rec[0][i]
        return type(x) is InputEdge or isinstance(x, Tensor) and x.requires_grad

    def _graph_inputs(self):
        """The inputs that need a gradient, as graph Tensors (to link a computed gradient to them)."""
        return [x if isinstance(x, Tensor) else Tensor._wrap(read_only(a), x[0], x[1])
                for x, a in zip(self._inputs, self._arrays) if type(x) is InputEdge or
                isinstance(x, Tensor) and x.requires_grad]

    def release(self):
        """Free the saved values and the input and output arrays; keep the graph's structure (edges, shapes
        and dtypes) for drawings and for clear errors."""
        rec = self._rec
        rec[4] = shapes_and_dtypes(rec[2])
        self.saved = ()
        rec[1] = rec[2] = None  # (``_freed`` from now on)

    def _output_info(self, k):
        outs = self._outs
        if outs is None:
            return OutputInfo(*self._meta[2 * k:2 * k + 2])
        return OutputInfo(outs[k].shape, outs[k].dtype)

    def _n_outputs(self):
        return len(self._outs) if self._outs is not None else len(self._meta) // 2

    # ------------------------------------------------------------------ per-output bookkeeping for Tensors
    def _note(self, key, value):
        rec = self._rec
        if rec[5] is None:
            rec[5] = {}
        rec[5][key] = value

    def _per_output(self, key):
        """The per-output table ``key`` (hooks, retained, names), created on first use."""
        rec = self._rec
        if rec[5] is None:
            rec[5] = {}
        return rec[5].setdefault(key, {})

    def _noted(self, key, k):
        table = self._extra.get(key) if self._extra else None
        return table.get(k) if table else None

    def _output_hooks(self, k):
        return self._per_output("hooks").setdefault(k, [])

    def _retain(self, k, ref):
        self._per_output("retained")[k] = ref

    def retained_tensor(self, k: int = 0):
        """The live Tensor for output ``k`` that called ``retain_grad()``, or None."""
        ref = self._noted("retained", k)
        return ref() if ref is not None else None

    def _set_output_name(self, k, name):
        self._per_output("names")[k] = name

    def output_name(self, k: int = 0):
        """The name given to output ``k`` (``t.name = ...``), or None."""
        return self._noted("names", k)

    # ------------------------------------------------------------------ the declared, read-only interface
    @property
    def inputs(self) -> tuple[Edge, ...]:
        """One ``Edge`` per positional input, in order."""
        edges = []
        for x in self._inputs:
            if type(x) is InputEdge:
                shape, dtype = x[0]._output_info(x[1])
                edges.append(Edge(x[0], x[1], None, None, shape, dtype))
            elif isinstance(x, Tensor):
                edges.append(Edge(None, None, x, None, x.shape, x.dtype))
            else:
                value = x.value if type(x) is _TupleConstant else x
                edges.append(Edge(None, None, None, value, np.shape(value), getattr(value, "dtype", None)))
        return tuple(edges)

    params = property(lambda self: MappingProxyType(self._params),
                      doc="The op's keyword parameters (axis, shape, ...), read-only.")
    outputs = property(lambda self: tuple(self._output_info(k) for k in range(self._n_outputs())),
                       doc="One ``OutputInfo(shape, dtype)`` per output.")
    _freed = property(lambda self: self._rec[2] is None)
    freed = property(lambda self: self._rec[2] is None, doc="True once backward has freed the saved and output values.")
    scope = property(lambda self: self._scope, doc="The modules the op ran inside, outermost first.")
    order = property(lambda self: self._order, doc="Creation order: a larger number was recorded later.")
    site = property(lambda self: self._extra.get("site") if self._extra else None,
                    doc="Where the op was created ('file:line in function'), recorded under detect_anomaly; else None.")

    def output_value(self, k: int = 0) -> np.ndarray:
        """The value of output ``k`` (a read-only view); RuntimeError once backward has freed it."""
        if self._freed:
            shape, dtype = self._meta[2 * k:2 * k + 2]
            raise RuntimeError(f"{self.name}: the value of output {k} (shape {shape}, {dtype}) was freed by "
                               "backward; pass retain_graph=True to keep it")
        return read_only(self._outs[k])

    def __repr__(self):
        return f"<{self.name} backward>"


class _OnceDifferentiable(Op):
    """A gradient computed outside the graph (a Function's NumPy backward, an op saving a plain view of its
    input): right in value, linked to what it depends on, and refusing to be differentiated again."""

    name = "once_differentiable"

    def forward(self, *arrays, value=None, reason=""):
        return value

    def backward(self, g):
        raise RuntimeError(self._params["reason"])


def once_differentiable(value, grad_output, inputs, reason):
    """Wrap ``value`` so it depends on ``grad_output`` and ``inputs`` but a backward through it raises ``reason``."""
    t = _OnceDifferentiable.apply(grad_output, *inputs, value=value, reason=reason)
    if t.grad_fn is not None:
        t.grad_fn._params = {"reason": reason}  # drop the value itself from the node's parameters
    return t




def unary_entry(cls, convert=None):
    """``cls.apply`` for one argument and no parameters, as a plain function (a unary op's public function): a
    Tensor takes the short path here, with no argument loop and one call fewer; anything else goes through
    ``convert`` (when given) to ``apply``. The node and Tensor are the same as ``apply``'s."""

    def entry(x):
        if type(x) is not Tensor:
            return cls.apply(x if convert is None else convert(x))
        op = new(cls)
        a = x._data
        edge = x if x.grad_fn is None else (x.grad_fn, x._index, x._vbox)
        return _output(op, op.forward(a), (x,), (a,), (edge,), NO_PARAMS, x.requires_grad)

    return entry


def _output(op, out, args, arrays, edges, params, record):
    """What ``apply`` (and ``unary_entry``, ``apply2``) do once ``forward`` has run: the output Tensor, with ``op``
    recorded as its node when an input requires grad and grad mode is on; several outputs or a watcher go to the
    general path. (A module function: one call from each entry, with no method lookup on the many node classes.)"""
    if type(out) is not np.ndarray:
        if type(out) is tuple:
            return op._apply_general(args, edges, arrays, _as_outputs(out, arrays), params, record, False)
        out = np.asarray(out)  # NumPy returns scalars for 0-d results
    scope = state.plain_scope  # (one thread-local read for grad mode, watchers and scope)
    if scope is None:  # anomaly mode, an observer or a capture watching
        return op._apply_general(args, edges, arrays, (out,), params, record, True)
    if not record or scope is False:  # no input requires grad, or grad mode is off
        t = new(Tensor)  # (``Tensor._wrap(out)``, written out on this hot path)
        t._data = out
        t.grad = t.grad_fn = t._name = t._hooks = t._vbox = None
        t._index = 0
        t.requires_grad = False
        return t
    # What backward and the node interface need (as in _record, written out on this hot path).
    op._rec = [edges, arrays, (out,), next(clock), None, None]
    if params:
        op._params = params
    if scope:
        op._scope = scope
    vbox = None
    if out.base is not None:  # a view of an input shares the input's version counter
        vbox = _shared_version(out, args, arrays)
    else:
        for a in arrays:
            if out is a:  # the input array itself, handed back
                vbox = _shared_version(out, args, arrays)
    t = new(Tensor)  # (``Tensor._wrap(out, op, 0, vbox)``, written out on this hot path)
    t._data = out
    t.grad = t._name = t._hooks = None
    t.grad_fn = op
    t._index = 0
    t.requires_grad = True
    t._vbox = vbox
    return t


def shapes_and_dtypes(outs):
    """What a freed node keeps of its outputs (its ``_meta``): each one's shape then dtype, in one flat tuple."""
    return (outs[0].shape, outs[0].dtype) if len(outs) == 1 else tuple([x for o in outs for x in (o.shape, o.dtype)])


def _shared_version(out, args, arrays):
    """The version counter of the input Tensor whose memory ``out`` views (a write to one changes both)."""
    for a, x in zip(arrays, args):
        if isinstance(x, Tensor) and type(a) is np.ndarray and np.may_share_memory(out, a):
            return x._version_box()
    return None


def _output_version(out, args, arrays):
    """The version counter ``out`` shares with an input Tensor it views or is; None for a new array."""
    if out.base is not None or any(out is a for a in arrays):
        return _shared_version(out, args, arrays)
    return None


def _as_outputs(outs, arrays):
    """Each of several results as an ndarray (NumPy returns scalars for 0-d), never an input's own array."""
    fixed = []
    for o in outs:
        if type(o) is not np.ndarray:
            o = np.asarray(o)
        for a in arrays:
            if o is a:
                o = o.view()
                break
        fixed.append(o)
    return tuple(fixed)
