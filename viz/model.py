"""``draw_model``: the op graph of one forward call, grouped into one cluster per module.

The model runs once on ``example_input`` under an engine observer; every recorded op carries
the stack of modules it ran inside (``Op.scope``), named through ``model.named_modules()``.
Modules deeper than ``depth`` collapse to one box each; unrolled loops (an RNN's time steps,
a stack of identical blocks) are drawn once inside a dashed "×n" cluster. With the defaults
the depth is picked so the drawing stays under ``max_nodes`` nodes. Running the model changes
nothing: parameters, buffers (e.g. BatchNorm running statistics) and the random generator are
restored afterwards. In eval mode a module's buffers (BatchNorm's running statistics) are drawn where
they are used, and scalar constants (the exponent of ``power``) are written on their op.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor

from . import _style as S
from ._fold import fused_groups
from ._format import constant_text, label, one_line, params_text, shape_text, value_text
from ._modelrun import Analysis, run_model
from ._walk import TENSORS, collect_ops, input_items
from .graph import _RANKDIRS, _new_drawing
from .render import Drawing

__all__ = ["draw_model"]


# --------------------------------------------------------------------------- drawing
def _module_title(an: Analysis, m) -> str:
    """``name (Class)``, with ``×n calls`` for a module called repeatedly or a name range for folded copies."""
    nm = an.name(m)
    others = an.aliases.get(id(m), [])
    if others:
        names = [nm] + [an.name(x) for x in others]
        text = f"{names[0]} \u2026 {names[-1]}" if len(names) > 2 else " + ".join(names)
        return f"{text} ({type(m).__name__} \u00d7{len(names)})"
    calls = an.calls.get(id(m), 1)
    return f"{nm} ({type(m).__name__})" + (f" \u00d7{calls} calls" if calls > 1 else "")


def _param_count(m) -> int:
    try:
        return int(sum(p.data.size for p in m.parameters()))
    except (AttributeError, TypeError):
        return 0


# Names for the constant argument of ops where the constant is the op's own setting.
_CONSTANT_NAMES = {"power": {1: "exponent"}}


def _constants_text(op) -> str | None:
    """The scalar constants an op computes with (``exponent = 2`` for ``x ** 2``, ``input 1 = 0.5``)."""
    parts = []
    for i, x in enumerate(input_items(op)):
        if isinstance(x, TENSORS) or np.ndim(x) != 0:
            continue
        what = _CONSTANT_NAMES.get(op.name, {}).get(i, f"input {i}")
        parts.append(f"{what} = {constant_text(x, 1)}")
    return ", ".join(parts) or None


def _param_arrays(params: dict):
    """The ndarrays among an op's keyword parameters, including inside index tuples."""
    for v in params.values():
        for item in v if isinstance(v, tuple) else (v,):
            if isinstance(item, np.ndarray):
                yield item


class _Layout:
    """Display units at a given depth (op nodes and module boxes), their clusters and edges."""

    def __init__(self, an: Analysis, roots, inputs, depth: int, show_params: bool, expand: bool = False):
        self.an, self.depth = an, depth
        self.unit_of = {}
        self.units = {}  # node id -> (kind, payload, cluster path); kind "op", "box" or "call" (a fused loss)
        groups, group_of = ({}, {}) if expand else fused_groups(an.ops)
        op_index = {op: k for k, op in enumerate(an.ops)}
        box_ids = {}
        blocks_by_depth = sorted(an.blocks, key=lambda b: (b.depth, -len(b.unit)))
        block_of_op = {}
        for b in blocks_by_depth:
            for op in b.unit:
                block_of_op.setdefault(op, []).append(b)
        for k, op in enumerate(an.ops):
            rep = an.canon[op]
            if rep is not op:
                continue
            chain = an.chain[op]
            if depth == 0:
                mod_path, box = (), an.model
            elif len(chain) >= depth:
                mod_path, box = chain[:depth - 1], chain[depth - 1]
            else:
                mod_path, box = chain, None
            path = self._cluster_path(mod_path, box, op, block_of_op.get(op, []))
            if box is not None:
                nid = box_ids.setdefault(id(box), f"m{len(box_ids)}")
                if nid not in self.units:
                    self.units[nid] = ("box", box, path)
            elif op in group_of:  # one node for the whole call, in the cluster of the call's first op
                first = group_of[op]
                nid = f"f{op_index[first]}"
                if nid not in self.units:
                    self.units[nid] = ("call", groups[first], path)
            else:
                nid = f"op{k}"
                self.units[nid] = ("op", op, path)
            self.unit_of[op] = nid
        for op in an.ops:
            self.unit_of[op] = self.unit_of[an.canon[op]]
        self.params = {}
        self.edges: dict[tuple, dict] = {}
        self.inputs = [(f"in{i}", t) for i, t in enumerate(inputs) if isinstance(t, Tensor)]
        input_ids = {id(t): nid for nid, t in self.inputs}
        param_names = {}
        if show_params and hasattr(an.model, "named_parameters"):
            param_names = {id(p): n for n, p in an.model.named_parameters()}
        index_inputs = {id(t.data): (nid, t) for nid, t in self.inputs if t.dtype.kind in "iub"}
        loop_sources = set()
        for op in an.ops:
            dst = self.unit_of[op]
            state = getattr(type(op), "recurrent_state", None)  # a fused recurrent layer: its loop is inside
            if state and self.units[dst][0] == "op":
                steps = op.outputs[0].shape[0] if op.outputs and op.outputs[0].shape else "T"
                self.edges[(dst, dst, True)] = {"shape": None, "label": f"{state}: step t−1 → t, ×{steps}"}
            for v in _param_arrays(op.params):  # integer inputs arrive as indices (an Embedding lookup)
                if id(v) in index_inputs:
                    nid, t = index_inputs[id(v)]
                    self._edge(nid, dst, t.shape, False)
            for x in input_items(op):
                if not isinstance(x, TENSORS):
                    continue
                if x.grad_fn is not None and x.grad_fn in self.unit_of:
                    src = self.unit_of[x.grad_fn]
                    if src == dst:  # inside one box, or one op folded onto itself: a time step feeding the next
                        if x.grad_fn is not op and self.units[dst][0] == "op" and src not in loop_sources:
                            loop_sources.add(src)
                            self._edge(src, dst, x.shape, True)
                        continue
                    loop = self._is_loop(x.grad_fn, op)
                    if loop:
                        if src in loop_sources:
                            continue  # one dashed "next" edge per source says it; more only tangle the picture
                        loop_sources.add(src)
                    self._edge(src, dst, x.shape, loop)
                elif id(x) in input_ids:
                    self._edge(input_ids[id(x)], dst, x.shape, False)
                elif id(x) in param_names and self.units[dst][0] in ("op", "call"):
                    pid = self.params.setdefault(id(x), (f"p{len(self.params)}", x, param_names[id(x)],
                                                         self.units[dst][2]))[0]
                    self._edge(pid, dst, None, False)
        self.buffers = []  # (node id, tensor, name, cluster path): running statistics read in eval mode
        if show_params:
            self._add_buffers()
        self.outputs = []
        for i, t in enumerate(roots):
            oid = f"out{i}"
            self.outputs.append((oid, t))
            if t.grad_fn is not None and t.grad_fn in self.unit_of:
                self._edge(self.unit_of[t.grad_fn], oid, t.shape, False)
            elif id(t) in input_ids:
                self._edge(input_ids[id(t)], oid, t.shape, False)

    def _add_buffers(self):
        """A module in eval mode computes with its buffers (BatchNorm's running mean and variance) outside
        the graph; draw each float buffer next to the module's first op, with an edge into it."""
        an = self.an
        for name, m in an.model.named_modules():
            if getattr(m, "training", True) or not hasattr(m, "named_buffers"):
                continue
            bufs = [(n, t) for n, t in m.named_buffers(recurse=False)
                    if isinstance(t, Tensor) and t.dtype.kind == "f"]
            first = next((op for op in an.ops if any(x is m for x in an.chain[op])), None)
            if not bufs or first is None:
                continue
            dst = self.unit_of[first]
            path = self.units[dst][2]
            for n, t in bufs:
                bid = f"b{len(self.buffers)}"
                self.buffers.append((bid, t, f"{name}.{n}" if name else n, path))
                self._edge(bid, dst, None, False)

    def _cluster_path(self, mod_path, box, op, blocks):
        """Cluster keys from outermost in: module clusters, with repeat clusters where they belong."""
        path = []
        full = tuple(mod_path) + ((box,) if box is not None and box is not self.an.model else ())
        for level in range(len(full) + 1):
            for b in blocks:
                if b.depth == level and (level == len(full) or id(full[level]) in b.contained):
                    path.append(("block", b))
            if level < len(mod_path):
                path.append(("module", mod_path[level]))
        return tuple(path)

    def _is_loop(self, producer, consumer) -> bool:
        """An edge that goes back once repetitions are folded: from one time step into the next."""
        return self.an.resolve(consumer).order <= self.an.resolve(producer).order

    def _edge(self, src, dst, shape, loop):
        key = (src, dst, loop)
        if key not in self.edges:
            self.edges[key] = {"shape": shape}

    def node_count(self) -> int:
        return len(self.units) + len(self.params) + len(self.inputs) + len(self.outputs) + len(self.buffers)

    # ------------------------------------------------------------------ emit DOT
    def draw(self, rankdir: str, show_shapes: bool, title: str) -> Drawing:
        an = self.an
        dot = _new_drawing("model", rankdir)
        dot.attr(label=title, labelloc="t", fontsize="12")
        tree: dict = {"children": {}, "nodes": []}

        def place(path, emit):
            node = tree
            for key in path:
                k = (key[0], id(key[1]))
                node = node["children"].setdefault(k, {"key": key, "children": {}, "nodes": []})
            node["nodes"].append(emit)

        for nid, (kind, payload, path) in self.units.items():
            if kind == "op":
                lab = label(payload.name, params_text(payload.name, payload.params), _constants_text(payload))
                place(path, (nid, {"label": lab, **S.OP}))
            elif kind == "call":
                call, members = payload
                lab = label(call.function_name, f"{len(members)} ops folded (expand=True shows them)")
                tip = f"{call.function_name}: " + ", ".join(m.name for m in members)
                place(path, (nid, {"label": lab, "tooltip": tip[:300], **S.OP,
                                   **{k: v for k, v in S.MODULE_BOX.items() if k in ("shape", "fillcolor", "color")}}))
            else:
                m = payload
                n_par = _param_count(m)
                lab = label(_module_title(an, m) if m is not an.model else type(m).__name__,
                            f"{n_par:,} params" if n_par else None)
                lines = repr(m).splitlines()
                tip = lines[0] if len(lines) == 1 else f"{type(m).__name__}: {len(list(m.modules())) - 1} submodules"
                place(path, (nid, {"label": lab, "tooltip": tip[:300], **S.MODULE_BOX}))
        for pid, p, pname, path in self.params.values():
            place(path, (pid, {"label": label(pname.rsplit(".", 1)[-1], shape_text(p.shape)), **S.PARAM,
                               "fontsize": "9"}))
        for bid, t, bname, path in self.buffers:
            value = value_text(t.data, 4)
            place(path, (bid, {"label": label(bname.rsplit(".", 1)[-1], shape_text(t.shape), value and one_line(value)),
                               "tooltip": f"buffer {bname}, read in eval mode (not trained)", **S.BUFFER}))
        for nid, t in self.inputs:
            dot.node(nid, label("input", shape_text(t.shape) + " " + t.dtype.name), **S.INPUT)
        for oid, t in self.outputs:
            dot.node(oid, label("output", shape_text(t.shape) + " " + t.dtype.name), **{**S.TENSOR, **S.OUTPUT})

        counter = [0]

        def emit(node, graph):
            for nid, attrs in node["nodes"]:
                graph.node(nid, **attrs)
            for child in node["children"].values():
                kind, obj = child["key"]
                counter[0] += 1
                with graph.subgraph(name=f"cluster_{counter[0]}") as sub:
                    if kind == "module":
                        sub.attr(label=_module_title(an, obj), **S.MODULE_CLUSTER)
                    else:
                        sub.attr(label=f"repeated \u00d7{obj.count}" if obj.chained else
                                 f"\u00d7{obj.count} side by side", **S.REPEAT_CLUSTER)
                    emit(child, sub)

        emit(tree, dot)
        for (src, dst, loop), info in self.edges.items():
            attrs = {}
            if show_shapes and info["shape"] is not None:
                attrs["label"] = shape_text(info["shape"])
            if loop:
                attrs.update(style="dashed", constraint="false", color="#6a55a0")
                attrs["label"] = info.get("label") or (attrs.get("label", "") + " next").strip()
            dot.edge(src, dst, **attrs)
        dot.depth = self.depth
        dot.node_count = self.node_count()
        return dot


def _title(model, ops) -> str:
    """The model's class and mode, and the layers that recorded no op (e.g. Dropout in eval mode is the
    identity), so a reader does not wonder where they went."""
    mode = "training" if getattr(model, "training", True) else "eval"
    ran = {id(m) for op in ops for m in (op.scope or ())}
    silent = [f"{name} ({type(m).__name__})" for name, m in model.named_modules()
              if name and next(iter(m.children()), None) is None and id(m) not in ran]
    note = None
    if silent:
        shown = ", ".join(silent[:6]) + (f" and {len(silent) - 6} more" if len(silent) > 6 else "")
        note = f"not drawn, no operation recorded (identity here): {shown}"
    return label(f"{type(model).__name__} ({mode} mode)", note)


def draw_model(model, example_input, depth: int | None = None, max_nodes: int = 80, rankdir: str = "TB",
               show_params: bool = True, show_shapes: bool = True, group_repeats: bool | None = None,
               expand: bool = False) -> Drawing:
    """The graph of ``model(example_input)`` with one cluster per module, nested ``depth`` levels deep.

    Modules ``depth`` levels below the model are drawn as one box each (``depth=0``: the whole
    model as one box). With ``depth=None`` the deepest level whose drawing has at most
    ``max_nodes`` nodes is chosen, and repeated runs (time steps, identical blocks) are folded
    into one dashed "×n" cluster when that is needed to fit (``group_repeats`` forces it on or
    off). ``example_input`` may be a tuple of arguments. Edges carry tensor shapes; dashed edges
    labelled "next" carry a value from one repetition into the next (an RNN's hidden state). The
    returned drawing's ``depth`` and ``node_count`` attributes say what was chosen. A fused function the model
    calls (``cross_entropy``) is one node, inside its module's cluster if any; ``expand=True`` draws its ops.
    """
    if not callable(model) or not hasattr(model, "named_modules"):
        raise TypeError(f"draw_model: expected an nn.Module, got {type(model).__name__}")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0):
        raise ValueError(f"draw_model: depth must be None or a non-negative int, got {depth!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1:
        raise ValueError(f"draw_model: max_nodes must be a positive int, got {max_nodes!r}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw_model: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    rec, roots, inputs = run_model(model, example_input)
    ops = collect_ops(roots) if any(t.grad_fn is not None for t in roots) else list(rec.forward)
    title = _title(model, ops)
    analyses = {}

    def analysis(grouped):
        if grouped not in analyses:
            analyses[grouped] = Analysis(model, ops, grouped)
        return analyses[grouped]

    if depth is not None:
        grouped = bool(group_repeats) if group_repeats is not None else False
        lay = _Layout(analysis(grouped), roots, inputs, int(depth), show_params, expand)
        if group_repeats is None and lay.node_count() > max_nodes:
            lay = _Layout(analysis(True), roots, inputs, int(depth), show_params, expand)
        return lay.draw(rankdir, show_shapes, title)
    options = (False, True) if group_repeats is None else (bool(group_repeats),)
    top = analysis(options[0]).max_level + 1
    fallback = None
    for d in range(top, 0, -1):
        for grouped in options:
            lay = _Layout(analysis(grouped), roots, inputs, d, show_params, expand)
            if lay.node_count() <= max_nodes:
                return lay.draw(rankdir, show_shapes, title)
            if fallback is None or lay.node_count() < fallback.node_count():
                fallback = lay
    return fallback.draw(rankdir, show_shapes, title)
