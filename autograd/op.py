"""``Op``: one differentiable operation, its forward and backward side by side, and the graph node it records.

``forward(*arrays, **params)`` computes on ndarrays and sets ``self.saved`` to what the backward
needs: ``Input(i)`` for input i, ``Output(k)`` for output k (``Output()`` for the only one), or any
other value, kept as a constant. ``backward(g)`` returns one gradient per positional input (a
single value for one input, a tuple otherwise; None where there is none). An op with several
outputs returns a tuple from ``forward`` and receives one gradient per output in ``backward(*gs)``,
None for an output that received none.

Backward code is written once for two modes. Normally ``g`` and ``self.saved`` hold ndarrays. Under
``create_graph=True`` the engine hands the same code Tensors: every ``Input``/``Output`` entry of
``saved`` is that value as a graph Tensor, so the backward is recorded and can be differentiated
again. Constants stay constants, so a saved plain array that shares memory with an input or output
(a view, ``x.reshape(...)``) would silently give wrong higher derivatives: it raises instead.
"""
from __future__ import annotations

import itertools
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from .anomaly import check_forward
from .mode import state
from .tensor import Tensor

_order = itertools.count()


class Input:
    """``saved`` entry: input ``index`` of the op (its value; a graph Tensor under create_graph)."""

    __slots__ = ("index",)

    def __new__(cls, index: int = 0):
        return _INPUTS[index] if 0 <= index < len(_INPUTS) else cls._make(index)

    @classmethod
    def _make(cls, index):
        self = object.__new__(cls)
        self.index = index
        return self

    def __repr__(self):
        return f"Input({self.index})"


class Output(Input):
    """``saved`` entry: output ``index`` of the op (its value; a graph Tensor under create_graph)."""

    __slots__ = ()

    def __new__(cls, index: int = 0):
        return _OUTPUTS[index] if 0 <= index < len(_OUTPUTS) else cls._make(index)

    def __repr__(self):
        return f"Output({self.index})"


_INPUTS = tuple(Input._make(i) for i in range(8))
_OUTPUTS = tuple(Output._make(i) for i in range(8))


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

    __slots__ = ("_edges", "saved", "_roles", "_versions", "_alias", "_params", "_outs", "_meta", "_order",
                 "_scope", "_site", "_hooks", "_retained", "_names", "_freed", "__weakref__")
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
                arrays.append(a._data)
                if a.requires_grad:
                    record = True
            else:
                arrays.append(a)
        out = op.forward(*arrays, **params)
        several = type(out) is tuple
        outs = _as_outputs(out if several else (out,), arrays)
        st = state
        if not (record and st.grad_enabled):
            tensors = tuple(Tensor._wrap(o) for o in outs)
            if st.anomaly:
                check_forward(op, outs)
            return tensors if several else tensors[0]
        op._record(args, arrays, outs, params, st)
        tensors = op._output_tensors(args, arrays, outs)
        if st.anomaly:
            op._site = check_forward(op, outs)
        result = tensors if several else tensors[0]
        for obs in st.observers:
            obs.on_forward(op, result)
        return result

    # ------------------------------------------------------------------ recording (forward)
    def _record(self, args, arrays, outs, params, st):
        """Keep what backward and the node interface need: input edges, saved values, output metadata."""
        edges = []
        for a in args:
            if isinstance(a, Tensor):
                edges.append((a.grad_fn, a._index, a) if a.grad_fn is None else (a.grad_fn, a._index, None))
            else:
                edges.append((None, None, a))
        self._edges = edges
        self._params = params
        self._outs = outs
        self._meta = tuple(OutputInfo(o.shape, o.dtype) for o in outs)
        self._order = next(_order)
        self._scope = st.scope
        self._site = self._hooks = self._retained = self._names = self._alias = None
        self._freed = False
        self._roles = self._versions = ()

    def _output_tensors(self, args, arrays, outs):
        """One Tensor per output; their arrays become read-only, and a view of an input shares its version."""
        tensors = []
        for k, o in enumerate(outs):
            vbox = None
            if o.base is not None:
                for a, x in zip(arrays, args):
                    if isinstance(x, Tensor) and type(a) is np.ndarray and np.may_share_memory(o, a):
                        vbox = x._vbox
                        break
            o.flags.writeable = False
            tensors.append(Tensor._wrap(o, self, k, vbox))
        if self.saved:
            self._freeze_saved(args, arrays, tensors)
        return tuple(tensors)

    def _freeze_saved(self, args, arrays, tensors):
        """Replace ``Input``/``Output`` entries of ``saved`` by their values; note their roles and versions."""
        values, roles, versions = [], [], []
        for pos, item in enumerate(self.saved):
            kind = type(item)
            if kind is Input:
                src = args[item.index]
                values.append(arrays[item.index])
                roles.append((pos, "input", item.index))
                if isinstance(src, Tensor):
                    versions.append((pos, src._vbox, src._vbox[0]))
            elif kind is Output:
                values.append(tensors[item.index]._data)
                roles.append((pos, "output", item.index))
                box = tensors[item.index]._vbox
                versions.append((pos, box, box[0]))
            else:
                values.append(item)
                if type(item) is np.ndarray and self._alias is None and (item.base is not None or
                                                                         any(item is a for a in arrays)):
                    self._alias = _aliased(pos, item, args, arrays, tensors)
        self.saved = tuple(values)
        self._roles = tuple(roles)
        self._versions = tuple(versions)

    # ------------------------------------------------------------------ backward
    def run_backward(self, grads, create_graph):
        """Call ``backward`` with one gradient per output; return one gradient per input."""
        if self._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (op '{self.name}'); its saved values "
                "were freed after the first backward. Pass retain_graph=True to the first backward "
                "if you need to backward through the graph again.")
        self._check_versions()
        if not create_graph:
            result = self.backward(*grads)
        else:
            result = self._recorded_backward(grads)
        result = result if type(result) is tuple else (result,)
        if len(result) != len(self._edges):
            raise RuntimeError(f"{self.name}: backward returned {len(result)} gradient(s) for "
                               f"{len(self._edges)} input(s)")
        if create_graph:
            result = tuple(g if g is None or isinstance(g, Tensor) else Tensor._wrap(np.asarray(g)) for g in result)
        return result

    def _recorded_backward(self, grads):
        """The backward with saved roles as graph Tensors, so what it computes is recorded too."""
        if self._alias is not None:
            raise RuntimeError(f"{self.name}: saved value {self._alias}, so under create_graph it would be taken "
                               "for a constant and higher derivatives would be wrong. Save the input or output by "
                               "role instead: self.saved = (Input(i), ...) or (Output(k), ...)")
        plain = self.saved
        values = list(plain)
        for pos, role, i in self._roles:
            values[pos] = self._input_tensor(i, plain[pos]) if role == "input" else Tensor._wrap(plain[pos], self, i)
        grads = tuple(g if g is None or isinstance(g, Tensor) else Tensor._wrap(g) for g in grads)
        self.saved = tuple(values)
        previous, state.backward_node = state.backward_node, self
        try:
            return self.backward(*grads)
        finally:
            state.backward_node = previous
            self.saved = plain

    def _input_tensor(self, i, value):
        """Input ``i`` as a graph Tensor: the leaf itself, a Tensor routed to its producer, or the constant."""
        producer, index, leaf = self._edges[i]
        if producer is not None:
            return Tensor._wrap(value, producer, index)
        return leaf if isinstance(leaf, Tensor) else value

    def _check_versions(self):
        for pos, box, version in self._versions:
            if box[0] != version:
                role = next(f"{r} {i}" for p, r, i in self._roles if p == pos)
                raise RuntimeError(
                    f"backward: {role} of op '{self.name}', saved for its backward, was modified by an in-place "
                    f"operation after the forward pass ({self._describe(role)}; now at version {box[0]}, saved at "
                    f"version {version}). Run the forward pass again after changing it, or change a copy.")

    def _describe(self, role):
        kind, i = role.split()
        i = int(i)
        if kind == "output":
            shape, dtype = self._meta[i]
            return f"a tensor of shape {shape}, {dtype}"
        producer, index, leaf = self._edges[i]
        what = f"output {index} of op '{producer.name}'" if producer is not None else "a leaf tensor"
        t = leaf if isinstance(leaf, Tensor) else None
        named = f" named {t.name!r}" if t is not None and t.name else ""
        shape = t.shape if t is not None else producer._meta[index].shape
        return f"{what}{named} of shape {shape}"

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` needs a gradient (lets a backward skip work it would throw away)."""
        producer, _, leaf = self._edges[i]
        return producer is not None or isinstance(leaf, Tensor) and leaf.requires_grad

    def release(self):
        """Free the saved values and the output values; shapes and dtypes stay readable."""
        self.saved = ()
        self._outs = None
        self._versions = ()
        self._freed = True

    # ------------------------------------------------------------------ per-output bookkeeping for Tensors
    def _output_hooks(self, k):
        if self._hooks is None:
            self._hooks = {}
        return self._hooks.setdefault(k, [])

    def _retain(self, k, ref):
        if self._retained is None:
            self._retained = {}
        self._retained[k] = ref

    def retained_tensor(self, k: int = 0):
        """The live Tensor for output ``k`` that called ``retain_grad()``, or None."""
        ref = self._retained.get(k) if self._retained else None
        return ref() if ref is not None else None

    def _set_output_name(self, k, name):
        if self._names is None:
            self._names = {}
        self._names[k] = name

    def output_name(self, k: int = 0):
        """The name given to output ``k`` (``t.name = ...``), or None."""
        return self._names.get(k) if self._names else None

    # ------------------------------------------------------------------ the declared, read-only interface
    @property
    def inputs(self) -> tuple[Edge, ...]:
        """One ``Edge`` per positional input, in order."""
        edges = []
        for producer, index, x in self._edges:
            if producer is not None:
                shape, dtype = producer._meta[index]
                edges.append(Edge(producer, index, None, None, shape, dtype))
            elif isinstance(x, Tensor):
                edges.append(Edge(None, None, x, None, x.shape, x.dtype))
            else:
                edges.append(Edge(None, None, None, x, np.shape(x), getattr(x, "dtype", None)))
        return tuple(edges)

    params = property(lambda self: MappingProxyType(self._params),
                      doc="The op's keyword parameters (axis, shape, ...), read-only.")
    outputs = property(lambda self: self._meta, doc="One ``OutputInfo(shape, dtype)`` per output.")
    freed = property(lambda self: self._freed, doc="True once backward has freed the saved and output values.")
    scope = property(lambda self: self._scope, doc="The modules the op ran inside, outermost first.")
    order = property(lambda self: self._order, doc="Creation order: a larger number was recorded later.")
    site = property(lambda self: self._site,
                    doc="Where the op was created ('file:line in function'), recorded under detect_anomaly; else None.")

    def output_value(self, k: int = 0) -> np.ndarray:
        """The (read-only) value of output ``k``; RuntimeError once backward has freed it."""
        if self._freed:
            shape, dtype = self._meta[k]
            raise RuntimeError(f"{self.name}: the value of output {k} (shape {shape}, {dtype}) was freed by "
                               "backward; pass retain_graph=True to keep it")
        return self._outs[k]

    def __repr__(self):
        return f"<{self.name} backward>"


def _aliased(pos, item, args, arrays, tensors):
    """A description when plain saved array ``item`` shares memory with a differentiable input or an output."""
    for i, (a, x) in enumerate(zip(arrays, args)):
        if isinstance(x, Tensor) and x.requires_grad and np.may_share_memory(item, a):
            return f"{pos} is a plain array sharing memory with input {i}"
    for k, t in enumerate(tensors):
        if np.may_share_memory(item, t._data):
            return f"{pos} is a plain array sharing memory with output {k}"
    return None


def _as_outputs(outs, arrays):
    """Each result as an ndarray (NumPy returns scalars for 0-d results), never an input's own array object."""
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
