"""``draw_graph`` (the forward graph) and ``draw_backward`` (the graph gradients flow through).

Both only read the declared node interface (``inputs``, ``params``, ``outputs``, ``output_value``,
``freed``, ``order``) and what tensors hold (``.data``, ``.grad``); drawing never changes the graph,
values or gradients. A freed value is drawn as its shape and dtype, never as zeros.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autograd import Tensor
from autograd.engine import unbroadcast

from . import _style as S
from ._derive import derivation
from ._explain import ELEMENTWISE, local_derivative
from ._fold import fused_groups
from ._format import constant_text, label, meta_text, one_line, params_text, summary_text, value_text
from ._names import module_paths, op_location, tensor_namer
from ._walk import TENSORS, as_tensor_roots, collect_ops, input_items, output_data, tensor_inputs
from .record import received_gradient, sent_gradients
from .render import Drawing

__all__ = ["ForwardGraph", "draw_backward", "draw_graph"]

_RANKDIRS = ("TB", "LR", "BT", "RL")
# Ops whose inputs can be swapped: their edges need no position label.
_COMMUTATIVE = frozenset({"add", "multiply", "maximum", "minimum"})


def _check_options(fn, rankdir, max_value_elements):
    if rankdir not in _RANKDIRS:
        raise ValueError(f"{fn}: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if not isinstance(max_value_elements, (int, np.integer)) or isinstance(max_value_elements, bool) \
            or max_value_elements < 0:
        raise ValueError(f"{fn}: max_value_elements must be a non-negative int, got {max_value_elements!r}")


def _new_drawing(name: str, rankdir: str) -> Drawing:
    return Drawing(name=name, graph_attr={**S.GRAPH, "rankdir": rankdir}, node_attr=dict(S.NODE),
                   edge_attr=dict(S.EDGE))


def known_gradient(op, k: int = 0):
    """The gradient output ``k`` of ``op`` received, when something kept it (retain_grad or a recording)."""
    t = op.retained_tensor(k)
    if t is not None and t.grad is not None:
        return t.grad.data
    return received_gradient(op, k)


@dataclass
class Highlight:
    """Per-frame emphasis the Stepper puts on a forward drawing."""

    current: set = field(default_factory=set)        # op nodes being run / back-propagated now
    pending_from: int | None = None                  # ops from this forward index on have not run yet (faded)
    touched: set = field(default_factory=set)        # node ids read or written by this step
    current_edges: set = field(default_factory=set)  # (src id, dst id)
    grads: dict = field(default_factory=dict)        # node id -> gradient text
    caption: str = ""
    backward: bool = False                           # current edges point the way gradients flow


class ForwardGraph:
    """The walked forward graph with stable node ids: ``op{k}`` for the k-th op run, ``t{k}`` (then
    ``t{k}_{j}``) for its outputs, ``in{n}`` for leaf tensors, ``c{k}_{i}`` for constant argument ``i`` of op ``k``.

    A leaf used by more than ``share_limit`` ops (a weight reused at every time step) is drawn
    once per use: one node wired to hundreds of ranks makes Graphviz's layout quadratic. Unless ``expand``,
    the ops of one call of a fused function (``cross_entropy``; tagged in ``node.scope``) are folded into
    one node, drawn under the id of the call's first op (``groups``: that op -> the call's ops).
    """

    def __init__(self, out, names=None, fn: str = "draw_graph", share_limit: int = 8, expand: bool = False):
        self.roots = as_tensor_roots(out, fn)
        self._root_of = {(t.grad_fn, t.output_index): t for t in self.roots if t.grad_fn is not None}
        self.ops = collect_ops(self.roots)
        self.name_of = tensor_namer(names, self.ops, fn)
        self.module_paths = module_paths(self.ops)
        self.index = {op: k for k, op in enumerate(self.ops)}
        self.leaves: list[tuple[str, Tensor]] = []
        self._leaf_ids: dict[int, str] = {}
        self._use_ids: dict[tuple[int, int], str] = {}  # (id(leaf), op index) -> node id, for per-use copies
        self.consts: list[tuple[str, object]] = []
        self.edges: list[tuple[str, str, str | None]] = []
        uses: dict[int, int] = {}  # id(leaf) -> how many ops read it (an op reading it twice, x + x, counts once)
        for op in self.ops:
            for key in {id(x) for x in input_items(op) if isinstance(x, Tensor)}:
                uses[key] = uses.get(key, 0) + 1
        for op in self.ops:
            k = self.index[op]
            commutative = op.name in _COMMUTATIVE or len(tensor_inputs(op)) + self._n_consts(op) < 2
            for i, x in enumerate(input_items(op)):
                pos = None if commutative else str(i)
                if isinstance(x, Tensor) and x.grad_fn is None and uses.get(id(x), 0) > share_limit:
                    nid = f"in{len(self.leaves)}"
                    self.leaves.append((nid, x))
                    self._use_ids[(id(x), k)] = nid
                    self._leaf_ids.setdefault(id(x), nid)
                    self.edges.append((nid, f"op{k}", pos))
                elif isinstance(x, TENSORS):
                    self.edges.append((self.tensor_id(x), f"op{k}", pos))
                else:
                    cid = f"c{k}_{i}"
                    self.consts.append((cid, x))
                    self.edges.append((cid, f"op{k}", pos))
            for j in range(len(op.outputs)):
                self.edges.append((f"op{k}", output_id(k, j), None))
        for t in self.roots:
            if t.grad_fn is None:
                self.tensor_id(t)
        self.hidden: set[str] = set()  # node ids folded away
        self.groups: dict = {}  # first op of a folded call -> (the call, its ops)
        self.group_of: dict = {}  # op -> first op of its folded call
        if not expand:
            self._fold_calls()

    def _fold_calls(self):
        """Fold the ops of each fused-function call (two or more ops) into the node of its first op."""
        groups, _ = fused_groups(self.ops)
        root_ids = {self.tensor_id(t) for t in self.roots}
        for rep, (call, members) in groups.items():
            mine = {f"op{self.index[op]}" for op in members}
            outs = {output_id(self.index[op], j) for op in members for j in range(len(op.outputs))}
            used_outside = {src for src, dst, _ in self.edges if src in outs and dst not in mine} | (outs & root_ids)
            consts = {src for src, dst, _ in self.edges if dst in mine and src.startswith("c")}
            self.hidden |= (mine - {f"op{self.index[rep]}"}) | (outs - used_outside) | consts
            self.groups[rep] = (call, members)
            for op in members:
                self.group_of[op] = rep
        if not self.groups:
            return
        edges, seen = [], set()
        for src, dst, pos in self.edges:
            src2 = f"op{self.index[self.group_of[self.ops[int(src[2:])]]]}" if src in self._op_ids() else src
            dst2 = f"op{self.index[self.group_of[self.ops[int(dst[2:])]]]}" if dst in self._op_ids() else dst
            if src2 in self.hidden or dst2 in self.hidden or src2 == dst2:
                continue
            if (src2, dst2) != (src, dst):
                pos = None
            if (src2, dst2, pos) not in seen:
                seen.add((src2, dst2, pos))
                edges.append((src2, dst2, pos))
        self.edges = edges
        self.consts = [(cid, v) for cid, v in self.consts if cid not in self.hidden]

    def _op_ids(self):
        """Node ids of the ops inside a folded call."""
        if not hasattr(self, "_member_ids"):
            self._member_ids = {f"op{self.index[op]}" for op in self.group_of}
        return self._member_ids

    def rep(self, op):
        """The op whose node stands for ``op``: the first op of its folded call, or itself."""
        return self.group_of.get(op, op)

    @staticmethod
    def _n_consts(op):
        return sum(1 for x in input_items(op) if not isinstance(x, TENSORS))

    def tensor_id(self, t: Tensor, consumer=None) -> str:
        """The node id of a tensor: its producing op's output node, or its leaf node (the copy drawn
        for ``consumer`` when the leaf is drawn once per use)."""
        if t.grad_fn is not None and t.grad_fn in self.index:
            return output_id(self.index[t.grad_fn], t.output_index)
        key = id(t)
        if consumer is not None and (key, self.index.get(consumer)) in self._use_ids:
            return self._use_ids[(key, self.index[consumer])]
        if key not in self._leaf_ids:
            nid = f"in{len(self.leaves)}"
            self._leaf_ids[key] = nid
            self.leaves.append((nid, t))
        return self._leaf_ids[key]

    def value(self, op, j: int = 0):
        """Output ``j`` of ``op``: a root tensor's own array, else the node's value (None once freed)."""
        root = self._root_of.get((op, j))
        return root.data if root is not None else output_data(op, j)

    def leaf_ids(self, t: Tensor) -> list[str]:
        """Every node drawn for leaf ``t`` (one, or one per use)."""
        return [nid for nid, x in self.leaves if x is t]

    def __len__(self) -> int:
        """Number of nodes in the drawing."""
        return 2 * len(self.ops) + len(self.leaves) + len(self.consts)

    # ------------------------------------------------------------------ building the Digraph
    def _tensor_name(self, t: Tensor | None, op=None, j: int = 0) -> str | None:
        if t is not None:
            return self.name_of(t)
        if op is not None:
            return op.output_name(j)
        return None

    def build(self, rankdir="TB", show_values=True, max_value_elements=8, show_grads=False,
              highlight: Highlight | None = None, name="forward", ids: bool = False) -> Drawing:
        """The Digraph: op nodes (ellipses) and tensor nodes (boxes), leaves styled by kind.

        ``ids`` gives every SVG node its node id and every edge ``e{n}`` (its place in ``edges``), so a
        page can restyle one rendered layout frame by frame."""
        hl = highlight or Highlight()
        nid_attr = (lambda nid: {"id": nid}) if ids else (lambda nid: {})
        dot = _new_drawing(name, rankdir)
        if hl.caption:
            dot.attr(label=hl.caption, labelloc="t", labeljust="l", fontsize="12")
        root_ids = {self.tensor_id(t) for t in self.roots}
        pending_ids = set()

        def grad_line(nid, grad):
            if nid in hl.grads:
                return "grad " + hl.grads[nid]
            if show_grads and grad is not None:
                return "grad " + summary_text(grad, max_value_elements)
            return None

        for nid, t in self.leaves:
            style = S.PARAM if t.requires_grad else S.INPUT
            kind = "parameter" if t.requires_grad else "input"
            val = value_text(t.data, max_value_elements) if show_values else None
            g = t.grad.data if t.grad is not None else None
            attrs = dict(style)
            if nid in root_ids:
                attrs.update(S.OUTPUT)
            if nid in hl.touched:
                attrs.update(S.TOUCHED)
            dot.node(nid, label(self._tensor_name(t) or kind, meta_text(t.data), val, grad_line(nid, g)),
                     tooltip=kind, **_klass(nid, hl), **attrs, **nid_attr(nid))
        for cid, value in self.consts:
            dot.node(cid, label(constant_text(value, max_value_elements)), tooltip="constant", **S.CONST,
                     **nid_attr(cid))
        for op in self.ops:
            k = self.index[op]
            oid = f"op{k}"
            pending = hl.pending_from is not None and k >= hl.pending_from
            if oid in self.hidden:  # folded into its call's node: only its outputs used outside are drawn
                if pending:
                    pending_ids.update(output_id(k, j) for j in range(len(op.outputs)))
                self._outputs(dot, op, k, root_ids, hl, pending, show_values, max_value_elements, show_grads,
                              grad_line, nid_attr)
                continue
            attrs = dict(S.OP)
            if op.freed:
                attrs["style"] = "filled,dashed"
            if pending:
                attrs.update(S.PENDING)
                pending_ids.update([oid] + [output_id(k, j) for j in range(len(op.outputs))])
            if op in hl.current:
                attrs.update(S.CURRENT)
            tip = f"{op.name} (step {k + 1} of the forward pass)"
            where = op_location(op, self.module_paths)
            if where:
                tip += f", in {where}"
            if op.site:
                tip += f", created at {op.site}"
            text = label(op.name, params_text(op.name, op.params))
            if op in self.groups:
                call, members = self.groups[op]
                attrs.update({k_: v for k_, v in S.MODULE_BOX.items() if k_ in ("shape", "fillcolor", "color")})
                if op in hl.current:
                    attrs.update(S.CURRENT)
                text = label(call.function_name, f"{len(members)} ops folded (expand=True shows them)")
                tip = f"{call.function_name}: " + ", ".join(m.name for m in members)
            dot.node(oid, text, tooltip=tip, **_klass(oid, hl, op), **attrs, **nid_attr(oid))
            self._outputs(dot, op, k, root_ids, hl, pending, show_values, max_value_elements, show_grads, grad_line,
                          nid_attr)
        for n, (src, dst, pos) in enumerate(self.edges):
            attrs = {"id": f"e{n}"} if ids else {}
            if pos is not None:
                attrs["label"] = pos
            if (src, dst) in hl.current_edges:
                attrs.update(S.CURRENT_EDGE)
                if hl.backward:
                    attrs["dir"] = "back"
            elif src in pending_ids or dst in pending_ids:
                attrs.update(S.PENDING_EDGE)
            dot.edge(src, dst, **attrs)
        return dot

    def _outputs(self, dot, op, k, root_ids, hl, pending, show_values, max_value_elements, show_grads, grad_line,
                 nid_attr):
        """The tensor nodes of ``op``'s outputs (those not folded away)."""
        for j, info in enumerate(op.outputs):
            tid = output_id(k, j)
            if tid in self.hidden:
                continue
            root = self._root_of.get((op, j))
            data = self.value(op, j)
            val = value_text(data, max_value_elements) if show_values and data is not None and not pending else None
            tattrs = dict(S.TENSOR)
            if tid in root_ids:
                tattrs.update(S.OUTPUT)
            if pending:
                tattrs.update(S.PENDING)
            if tid in hl.touched:
                tattrs.update(S.TOUCHED)
            g = known_gradient(op, j) if show_grads else None
            freed_tip = ("freed after backward: value kept by viz.record()" if data is not None else
                         "freed after backward: shape and dtype kept, values gone")
            dot.node(tid, label(self._tensor_name(root, op, j), meta_text(info), val, grad_line(tid, g)),
                     tooltip=freed_tip if op.freed and root is None else "tensor", **_klass(tid, hl), **tattrs,
                     **nid_attr(tid))


def output_id(k: int, j: int) -> str:
    """Node id of output ``j`` of the ``k``-th op: ``t{k}``, then ``t{k}_{j}`` for further outputs."""
    return f"t{k}" if j == 0 else f"t{k}_{j}"


def _klass(nid, hl: Highlight, op=None) -> dict:
    """SVG class for highlighted nodes (Graphviz copies ``class`` into the SVG ``<g>``), so pages can find them."""
    if op is not None and op in hl.current:
        return {"class": "current"}
    return {"class": "touched"} if nid in hl.touched else {}


def draw_graph(out, rankdir: str = "TB", show_values: bool = True, max_value_elements: int = 8,
               show_grads: bool = False, names=None, legend: bool = True, expand: bool = False) -> Drawing:
    """The forward graph that produced ``out``: op nodes and tensor nodes (name, shape, dtype, small values).

    Parameters (leaves requiring grad) are amber, other inputs green, constants grey and dashed,
    the output has a bold green border. Parameters of the model the ops ran in are labelled with
    their ``state_dict`` keys (``0.weight``); ``names`` (a Module, or a mapping name -> Tensor)
    overrides that, e.g. for a graph built outside ``model(...)``. ``show_grads`` adds the gradients known
    after ``backward()``. Edges into non-commutative ops are labelled with the argument position.
    ``legend`` adds a key to the colours under the graph; after ``backward()`` it says which ops lost their
    values (dashed) and how to keep them (``viz.record()``). A fused function such as ``cross_entropy`` is
    drawn as one box, like a module in ``draw_model``; ``expand=True`` draws the ops inside it.
    """
    _check_options("draw_graph", rankdir, max_value_elements)
    graph = ForwardGraph(out, names, expand=expand)
    dot = graph.build(rankdir, show_values, max_value_elements, show_grads)
    if legend:
        freed = any(op.freed for op in graph.ops)
        dot.attr(label=S.FORWARD_LEGEND + (S.FREED_LEGEND if freed else ""), labelloc="b", labeljust="l",
                 fontsize="9", fontcolor="#555555")
    return dot


def _grad_lines(op, max_value_elements):
    """One ``grad`` line per output of ``op``: the gradient when known, else the output's shape and dtype."""
    several = len(op.outputs) > 1
    lines = []
    for k, info in enumerate(op.outputs):
        g = known_gradient(op, k)
        text = summary_text(g, max_value_elements) if g is not None else meta_text(info)
        lines.append(f"grad {k}: {text}" if several else f"grad {text}")
    return lines


def _outside_outputs(members, ops, roots):
    """``(op, k)`` for the outputs of a folded call's ops that a root is or an op outside the call reads."""
    inside = set(members)
    used = {(t.grad_fn, t.output_index) for t in roots}
    for op in ops:
        if op not in inside:
            used |= {(x.grad_fn, x.output_index) for _, x in tensor_inputs(op) if x.grad_fn is not None}
    return [(m, k) for m in members for k in range(len(m.outputs)) if (m, k) in used]


def draw_backward(out, rankdir: str = "TB", max_value_elements: int = 8, names=None,
                  legend: bool = True, explain: bool = True, expand: bool = False) -> Drawing:
    """The backward graph of ``out``: one node per backward function, edges in the direction gradients flow.

    After ``backward()`` each node shows the gradient it received when known (``retain_grad``
    tensors, or every node when the backward ran inside ``viz.record()`` or a ``Stepper``), and
    each leaf its ``.grad``: values when small, else shape and norm. Nodes whose saved values
    were freed by the backward are dashed. Nodes say which layer they belong to (``in 2 (Linear)``)
    and leaves their ``state_dict`` key; ``names`` (a Module or a mapping) as in ``draw_graph``.
    ``explain`` writes each node's chain rule: its local derivative rule (``node.rule``) and, after a recorded
    backward, the gradient it sent along each edge (incoming gradient times local derivative, written out
    with the operand for matrix products, reductions, shape ops and softmax).
    A fused function such as ``cross_entropy`` is one node with its own rule; ``expand=True`` draws its ops.
    ``legend`` adds a key to the colours under the graph.
    """
    _check_options("draw_backward", rankdir, max_value_elements)
    roots = as_tensor_roots(out, "draw_backward")
    ops = collect_ops(roots)
    name_of = tensor_namer(names, ops, "draw_backward")
    paths = module_paths(ops)
    index = {op: k for k, op in enumerate(ops)}
    groups, group_of = ({}, {}) if expand else fused_groups(ops)
    dot = _new_drawing("backward", rankdir)
    leaves: dict[int, tuple[str, Tensor]] = {}
    mx = max_value_elements

    def leaf_id(t):
        if id(t) not in leaves:
            leaves[id(t)] = (f"acc{len(leaves)}", t)
        return leaves[id(t)][0]

    def node_id(op):
        return f"b{index[group_of.get(op, op)]}"

    def input_name(x):
        return name_of(x) if isinstance(x, Tensor) else x.grad_fn.output_name(x.output_index)

    for r, t in enumerate(roots):
        if not t.requires_grad:
            raise ValueError(f"draw_backward: output {r} (shape {t.shape}) does not require grad, so it has "
                             "no backward graph")
        sid = f"seed{r}"
        nm = name_of(t) or ("output" if len(roots) == 1 else f"output {r}")
        seed = known_gradient(t.grad_fn, t.output_index) if t.grad_fn is not None else None
        dot.node(sid, label(f"start: \u2202{nm}/\u2202{nm}", meta_text(t.data),
                            summary_text(seed, mx) if seed is not None else None),
                 tooltip="the gradient backward starts from", **S.SEED)
        dot.edge(sid, node_id(t.grad_fn) if t.grad_fn is not None else leaf_id(t))

    for op in ops:
        if group_of.get(op, op) is not op:
            continue  # drawn in its call's node
        attrs = dict(S.BACKWARD_OP)
        where = op_location(op, paths)
        if op in groups:
            call, members = groups[op]
            freed = any(m.freed for m in members)
            known = [(m, k, known_gradient(m, k)) for m, k in _outside_outputs(members, ops, roots)]
            grads = [f"grad {summary_text(g, mx) if g is not None else meta_text(m.outputs[k])}" for m, k, g in known]
            lines = [f"{call.function_name} backward", f"{len(members)} ops folded (expand=True shows them)",
                     where and f"in {where}", explain and f"rule: {call.rule}", *grads]
            tip = f"backward of {call.function_name}: " + ", ".join(m.name for m in members)
        else:
            members, freed = [op], op.freed
            out_names = ", ".join(n for n in map(op.output_name, range(len(op.outputs))) if n)
            lines = [f"{op.name} backward", out_names and f"(for {out_names})", where and f"in {where}",
                     explain and op.rule and f"rule: {op.rule}", *_grad_lines(op, mx)]
            tip = f"backward of {op.name}"
        if freed:
            attrs.update(S.FREED)
            lines.append("saved values freed")
        dot.node(node_id(op), label(*lines), tooltip=tip, **attrs)
        edges: dict = {}  # key -> [destination, parts of the label, summed gradient, input's name]
        for m in members:
            sent = sent_gradients(m) if explain else None
            g_in = known_gradient(m, 0) if explain and len(m.outputs) == 1 else None
            for i, x in tensor_inputs(m):
                if not x.requires_grad or (x.grad_fn is not None and node_id(x.grad_fn) == node_id(op)):
                    continue  # no gradient, or an edge inside a folded call
                dst = node_id(x.grad_fn) if x.grad_fn is not None else leaf_id(x)
                key = (dst, x.output_index) if op in groups else i
                entry = edges.setdefault(key, [dst, [], None, input_name(x)])
                if x.grad_fn is not None and len(x.grad_fn.outputs) > 1 and not entry[1]:
                    entry[1].append(f"out {x.output_index}")  # which output of the producer the gradient is for
                gi = sent[i] if sent is not None and i < len(sent) else None
                if gi is None:
                    continue
                if op in groups:
                    gi = unbroadcast(np.asarray(gi), tuple(x.shape))
                    entry[2] = gi if entry[2] is None else entry[2] + gi
                    continue
                how = derivation(m, i, g_in, gi, [input_name(y) if isinstance(y, TENSORS) else None
                                                 for y in input_items(m)], mx) if g_in is not None else None
                if how is None and g_in is not None and m.name in ELEMENTWISE:
                    local = local_derivative(g_in, gi)
                    if local is not None and local.size <= mx:
                        how = f"g \u2299 {one_line(summary_text(local, mx))}"  # g times the local derivative
                entry[1].append(f"\u2202L/\u2202in{i} = " + (f"{how} = " if how else "")
                                + one_line(summary_text(gi, mx)))
        for key, (dst, parts, total, nm) in edges.items():
            if total is not None:
                parts.append(f"\u2202L/\u2202{nm or 'input'} = " + one_line(summary_text(total, mx)))
            extra = {"label": label(*parts)} if parts else {}
            dot.edge(node_id(op), dst, **S.GRAD_EDGE, **extra)
    for nid, t in leaves.values():
        nm = name_of(t) or "leaf"
        grad = ("grad " + summary_text(t.grad.data, mx)) if t.grad is not None else "grad: none yet"
        dot.node(nid, label(f"accumulate into {nm}", meta_text(t.data), grad), tooltip="leaf .grad", **S.ACCUMULATE)
    if legend:
        dot.attr(label=S.BACKWARD_LEGEND, labelloc="b", labeljust="l", fontsize="9", fontcolor="#555555")
    return dot
