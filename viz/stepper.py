"""``Stepper``: walk through the forward pass op by op, then the backward pass node by node.

Forward frames follow execution order (``node.order``). Backward frames follow the order the
engine actually visits nodes: the Stepper runs the backward itself under an observer, with
``retain_graph=True`` and ``inputs=`` the leaves, so nothing is accumulated into any ``.grad``
and the user's graph stays usable (``retain_grad`` tensors keep their old ``.grad``). Hooks
registered on the graph do run during that backward, exactly as in a real one.
"""
from __future__ import annotations

import html
import itertools
from pathlib import Path

import numpy as np

from autograd import Tensor, no_grad
from autograd.engine import add_observer, remove_observer, run_backward, unbroadcast

from ._explain import explain_step
from ._format import meta_text, one_line, params_text, summary_text, value_text
from ._stepper_html import apply_state, focus_svg, inline_svg, page_fragment, with_style
from ._walk import TENSORS, input_items
from .graph import ForwardGraph, Highlight, _check_options, output_id
from .record import Recording
from .render import Drawing

__all__ = ["Frame", "Stepper"]

_instances = itertools.count()


class Frame:
    """One step: which op ran (or was back-propagated), a one-line ``title``, the caption ``details`` under it,
    and the emphasis it puts on the shared layout (``to_svg``); ``drawing`` is the step as its own Digraph."""

    __slots__ = ("_build", "_drawing", "_owner", "_svg", "details", "index", "node", "op", "phase", "state",
                 "title")

    def __init__(self, index, phase, op, node, title, details, build, state, owner):
        self.index = index
        self.phase = phase  # "forward" or "backward"
        self.op = op
        self.node = node  # id of the highlighted op node in the drawing
        self.title = title
        self.details = details
        self.state = state  # what the page needs: current node, touched nodes and edges, pending, changed grads
        self._build = build
        self._owner = owner
        self._drawing = None
        self._svg = None

    @property
    def text(self) -> str:
        """Title and details, as one caption."""
        return self.title + ("\n" + self.details if self.details else "")

    @property
    def drawing(self) -> Drawing:
        """This step as a ``graphviz.Digraph`` of its own (its DOT source; laid out on its own when rendered)."""
        if self._drawing is None:
            self._drawing = self._build()
        return self._drawing

    def to_svg(self) -> str:
        """The shared layout with this step's emphasis: every node where every other frame draws it."""
        if self._svg is None:
            self._svg = self._owner._frame_svg(self.index)
        return self._svg

    svg = property(to_svg, doc="The frame rendered as SVG text.")

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def __repr__(self):
        return f"<Frame {self.index} {self.title}>"


class _RetainedGrads:
    """Save and restore ``.grad`` of ``retain_grad`` tensors around the Stepper's own backward."""

    def __init__(self, ops):
        self.saved = []
        for op in ops:
            for k in range(len(op.outputs)):
                t = op.retained_tensor(k)
                if t is not None:
                    g = t.grad
                    self.saved.append((t, g, None if g is None else np.array(g.data, copy=True)))

    def restore(self):
        for t, g, data in self.saved:
            if g is not None and g.grad_fn is None and not np.array_equal(g.data, data):
                with no_grad():
                    g.copy_(data)
            t.grad = g


def _value_lines(graph, op, mx) -> list[str]:
    """A forward frame's note on the values ``op`` made: each small one, or that backward freed them."""
    values = [graph.value(op, j) for j in range(len(op.outputs))]
    if all(v is None for v in values):
        return ["values freed by an earlier backward (shape and dtype shown)"] if op.freed else []
    several = len(values) > 1
    lines = []
    for j, v in enumerate(values):
        shown = value_text(v, mx) if v is not None else "freed" if op.freed else None
        if shown is not None:
            lines.append(f"value {j} = {one_line(shown)}" if several else f"value = {one_line(shown)}")
    return lines


def _received_text(rec: Recording, op, mx) -> str:
    """The gradient ``op`` received (one line); for a node with several outputs, each one that received some."""
    outs = rec.received_outputs[op]
    if len(outs) == 1:
        return one_line(summary_text(outs[0], mx))
    return ", ".join(f"{one_line(summary_text(g, mx))} at output {k}" for k, g in enumerate(outs) if g is not None)


class Stepper:
    """Step through how ``out`` was computed (forward) and differentiated (backward), one node per frame.

    The graph is laid out once and every frame only restyles it, so nodes never move. Each backward step
    explains the chain rule at its node: the op's local rule (``node.rule``), the local derivative's value (for
    elementwise ops; the operand of a matrix product, the 1/n of a mean, the reshape or transpose back, softmax's
    correction term), and the product with the incoming gradient that each input receives.
    Outside Jupyter use ``.frames``, ``len()``, ``.step()`` and ``.save_html(path)``; in Jupyter
    the Stepper displays as a slider with buttons (ipywidgets), which ``step()``/``goto()`` move, or as the
    same self-contained HTML page when ipywidgets is missing. ``gradient`` seeds a non-scalar output's
    backward; ``backward=False`` steps through the forward pass only. Parameters are labelled by their
    ``state_dict`` keys; ``names`` (a Module or a mapping name -> Tensor) as in ``draw_graph``. A fused
    function (``cross_entropy``) is one step and one box; ``expand=True`` steps through the ops inside it.
    """

    def __init__(self, out, gradient=None, backward: bool = True, rankdir: str = "TB", show_values: bool = True,
                 max_value_elements: int = 8, names=None, expand: bool = False):
        if not isinstance(out, Tensor):
            raise TypeError(f"Stepper: expected a Tensor, got {type(out).__name__}")
        _check_options("Stepper", rankdir, max_value_elements)
        if out.grad_fn is None:
            raise ValueError("Stepper: this tensor was not produced by recorded operations (it is a leaf, or was "
                             "computed under no_grad / from inputs that do not require grad): nothing to step through")
        self.out = out
        self._graph = ForwardGraph(out, names, fn="Stepper", expand=expand)
        self._opts = {"rankdir": rankdir, "show_values": show_values, "max_value_elements": max_value_elements}
        self._uid = f"gg{next(_instances)}"
        self._edge_index = {}
        for n, (src, dst, _) in enumerate(self._graph.edges):
            self._edge_index.setdefault((src, dst), []).append(n)
        self._reserved: dict[str, str] = {}  # node id -> the longest gradient text it shows (its reserved line)
        self._base_svg: str | None = None
        self._sliders: list = []
        self.recording: Recording | None = None
        self.frames: list[Frame] = []
        self._forward_frames()
        if backward:
            self._backward_frames(gradient)
        self.position = -1

    # ------------------------------------------------------------------ frames
    def _edges(self, pairs) -> list[int]:
        return sorted(n for p in pairs for n in self._edge_index.get(p, ()))

    def _make_frame(self, phase, op, title, details, hl, changed):
        opts = self._opts
        index = len(self.frames)
        node = f"op{self._graph.index[op]}"
        hl.caption = title
        for nid, text in changed.items():
            if len(text) > len(self._reserved.get(nid, "")):
                self._reserved[nid] = text
        state = {"c": node, "t": sorted(hl.touched - {node}), "e": self._edges(hl.current_edges),
                 "p": -1 if hl.pending_from is None else hl.pending_from, "b": int(hl.backward), "g": changed}

        def build():
            if hl.backward:  # the gradients known at this step, gathered when the drawing is asked for
                hl.grads = {nid: text for nid, text in self._grads_at(index).items() if text}
            return self._graph.build(highlight=hl, name=f"{phase}_{index}", **opts)

        self.frames.append(Frame(index, phase, op, node, title, details, build, state, self))

    def _units(self):
        """The steps: every op, except that a folded call (a fused loss) is one step, under its first op."""
        g = self._graph
        return [op for op in g.ops if g.rep(op) is op]

    def _visible_outputs(self, op):
        """``(tensor id, member op, output index)`` for the drawn outputs of a step (all of a folded call's)."""
        g = self._graph
        members = g.groups[op][1] if op in g.groups else [op]
        return [(output_id(g.index[m], j), m, j) for m in members for j in range(len(m.outputs))
                if output_id(g.index[m], j) not in g.hidden]

    def _forward_frames(self):
        g = self._graph
        units = self._units()
        mx = self._opts["max_value_elements"]
        into: dict[str, list] = {}
        for src, dst, _ in g.edges:
            into.setdefault(dst, []).append((src, dst))
        for u, op in enumerate(units):
            k = g.index[op]
            ins = into.get(f"op{k}", [])
            outs = self._visible_outputs(op)
            last = max(g.index[m] for m in g.groups[op][1]) if op in g.groups else k
            hl = Highlight(current={op}, pending_from=last + 1, touched={s for s, _ in ins} | {t for t, _, _ in outs},
                           current_edges=set(ins) | {(f"op{k}", t) for t, _, _ in outs})
            made = ", ".join(meta_text(m.outputs[j]) for _, m, j in outs)
            if op in g.groups:
                call, members = g.groups[op]
                what = f"{call.function_name} ({len(members)} ops folded)"
                lines = [f"value = {one_line(value_text(v, mx))}" for _, m, j in outs
                         if (v := g.value(m, j)) is not None and value_text(v, mx) is not None]
            else:
                params = one_line(params_text(op.name, op.params))
                what = op.name + (f" ({params})" if params else "")
                lines = _value_lines(g, op, mx)
            title = f"forward {u + 1}/{len(units)}: {what} -> {made}"
            self._make_frame("forward", op, title, "\n".join(lines), hl, {})

    def _backward_frames(self, gradient):
        out, g = self.out, self._graph
        if any(op.freed for op in g.ops):
            raise RuntimeError("Stepper: the graph's saved values were freed by an earlier backward(); call "
                               "backward(retain_graph=True), build the Stepper before backward(), or pass "
                               "backward=False to step through the forward pass only")
        if gradient is None:
            if out.size != 1:
                raise ValueError(f"Stepper: the output has shape {out.shape}; pass gradient= of that shape to seed "
                                 "the backward pass, or backward=False")
            seed = np.ones(out.shape, dtype=out.dtype)
        else:
            seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=out.dtype)
            if seed.shape != out.shape:
                raise ValueError(f"Stepper: gradient has shape {seed.shape} but the output has shape {out.shape}")
        leaves = list({id(t): t for _, t in g.leaves if t.requires_grad}.values())
        rec = Recording(keep_forward=False)
        retained = _RetainedGrads(g.ops)
        add_observer(rec)
        try:
            run_backward([out], [seed], retain_graph=True, inputs=leaves, allow_unused=True)
        finally:
            remove_observer(rec)
            retained.restore()
        self.recording = rec
        mx = self._opts["max_value_elements"]
        grads: dict[str, str] = {}
        sums: dict[str, np.ndarray] = {}  # gradient each tensor node has received so far
        left = {}  # folded call -> how many of its ops the backward still visits
        for op in rec.backward:
            left[g.rep(op)] = left.get(g.rep(op), 0) + 1
        total = len(left)
        step: dict = {}  # what the current (possibly folded) step has gathered so far
        m = 0
        for op in rec.backward:
            rep = g.rep(op)
            if not step or step["rep"] is not rep:
                step = {"rep": rep, "changed": {}, "touched": set(), "edges": set(), "inputs": {}, "sent": {}}
            k_rep = g.index[rep]
            changed = step["changed"]
            for tid, member, j in self._visible_outputs(op) if op is rep or rep in g.groups else ():
                if member is not op:
                    continue
                received = rec.received_outputs[op][j]
                step["touched"].add(tid)
                step["edges"].add((f"op{k_rep}", tid))
                if received is not None and grads.get(tid) != (text := one_line(summary_text(received, mx))):
                    grads[tid] = changed[tid] = text
            sent = rec.sent[op]
            for i, x in enumerate(input_items(op)):
                if not isinstance(x, TENSORS):
                    step["inputs"].setdefault(("const", i), (None, np.shape(x)))
                    continue
                src = g.tensor_id(x, op)
                if src in g.hidden:
                    continue  # a tensor inside a folded call
                name = g.name_of(x) if isinstance(x, Tensor) else x.grad_fn.output_name(x.output_index)
                if name is None and rep in g.groups:  # say what it is: the output of which op, or an input
                    name = f"{g.rep(x.grad_fn).name} output" if x.grad_fn is not None else "input"
                step["inputs"].setdefault(src if rep in g.groups else ("pos", i), (name, x.shape))
                step["touched"].add(src)
                step["edges"].add((src, f"op{k_rep}"))
                gi = sent[i] if i < len(sent) else None
                if gi is not None and x.requires_grad:
                    gi = unbroadcast(gi, x.shape) if gi.shape != x.shape else gi
                    step["sent"][src] = gi if src not in step["sent"] else step["sent"][src] + gi
                    key = id(x) if x.grad_fn is None else src  # a leaf drawn once per use shows one total
                    sums[key] = gi if key not in sums else sums[key] + gi
                    for nid in (g.leaf_ids(x) if x.grad_fn is None else (src,)):
                        grads[nid] = changed[nid] = one_line(summary_text(sums[key], mx))
            left[rep] -= 1
            if left[rep]:
                continue  # a folded call is one step, shown once all its ops have run
            m += 1
            hl = Highlight(current={rep}, touched=step["touched"], current_edges=step["edges"], backward=True)
            if rep in g.groups:
                call, members = g.groups[rep]
                got = [rec.received_outputs[mb][j] for _, mb, j in self._visible_outputs(rep)
                       if mb in rec.received_outputs]
                got_text = ", ".join(one_line(summary_text(x, mx)) for x in got if x is not None)
                title = f"backward {m}/{total}: {call.function_name} receives grad {got_text}"
                lines = [f"folded: {', '.join(mb.name for mb in members)} (Stepper(..., expand=True) steps "
                         "through them)", f"rule: {call.rule}"]
                for src, (name, _shape) in step["inputs"].items():
                    if src in step["sent"]:
                        who = name or src
                        lines.append(f"  input ({who}): \u2202L/\u2202{who} = "
                                     f"{one_line(summary_text(step['sent'][src], mx))}")
                details = "\n".join(lines)
            else:
                inputs = [step["inputs"].get(("pos", i), step["inputs"].get(("const", i), (None, ())))
                          for i in range(len(rep.inputs))]
                title = f"backward {m}/{total}: {rep.name} receives grad {_received_text(rec, rep, mx)}"
                details = "\n".join(explain_step(rep, rec.received_outputs[rep], sent, inputs, mx))
            self._make_frame("backward", rep, title, details, hl, changed)
            step = {}

    # ------------------------------------------------------------------ the shared layout
    def base_svg(self) -> str:
        """The graph laid out once, with room for every gradient line any frame shows."""
        if self._base_svg is None:
            hl = Highlight(grads=dict(self._reserved))
            drawing = self._graph.build(highlight=hl, name="stepper", ids=True, **self._opts)
            self._base_svg = with_style(drawing.to_svg())
        return self._base_svg

    def _grads_at(self, i: int) -> dict:
        grads = dict.fromkeys(self._reserved, "")
        for f in self.frames[:i + 1]:
            grads.update(f.state["g"])
        return grads

    def _frame_svg(self, i: int) -> str:
        st = self.frames[i].state
        classes = {nid: "touched" for nid in st["t"]}
        p = st["p"]
        if p >= 0:
            g = self._graph
            for k in range(p, len(g.ops)):
                classes[f"op{k}"] = "pending"
                for j in range(len(g.ops[k].outputs)):
                    classes[output_id(k, j)] = "pending"
            for n, (src, dst, _) in enumerate(g.edges):
                if classes.get(src) == "pending" or classes.get(dst) == "pending":
                    classes[f"e{n}"] = "pending"
        classes[st["c"]] = "current"
        for n in st["e"]:
            classes[f"e{n}"] = "current back" if st["b"] else "current"
        return apply_state(self.base_svg(), classes, self._grads_at(i))

    # ------------------------------------------------------------------ navigation
    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i) -> Frame:
        return self.frames[i]

    def __iter__(self):
        return iter(self.frames)

    @property
    def current(self) -> Frame:
        """The frame at the cursor (the first one before any ``step()``)."""
        return self.frames[max(self.position, 0)]

    def step(self, n: int = 1) -> Frame:
        """Move the cursor ``n`` frames (backwards when negative, clamped to the ends), and every displayed
        widget with it; return that frame."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"Stepper.step: n must be an int, got {n!r}")
        self.position = int(min(max(self.position + n, 0), len(self.frames) - 1))
        self._sync()
        return self.frames[self.position]

    def goto(self, i: int) -> Frame:
        """Jump to frame ``i`` (negative counts from the end), moving every displayed widget too."""
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise TypeError(f"Stepper.goto: the frame must be an int, got {i!r}")
        if not -len(self.frames) <= i < len(self.frames):
            raise IndexError(f"Stepper.goto: frame {i} out of range for {len(self.frames)} frames")
        self.position = int(i % len(self.frames))
        self._sync()
        return self.frames[self.position]

    def reset(self) -> None:
        """Back to before the first frame."""
        self.position = -1
        self._sync()

    def _sync(self):
        for slider in self._sliders:
            slider.value = max(self.position, 0) + 1  # the slider counts steps from 1, as the captions do

    def to_svg(self) -> str:
        """The current frame as SVG (so ``viz.to_svg(stepper)`` works)."""
        return self.current.to_svg()

    def __repr__(self):
        nf = sum(f.phase == "forward" for f in self.frames)
        return f"<Stepper: {nf} forward and {len(self.frames) - nf} backward frames, at {self.position}>"

    # ------------------------------------------------------------------ HTML and Jupyter
    def _repr_html_(self) -> str:
        """The stepper as an HTML fragment: the SVG once, per-frame states, a range slider and buttons."""
        frames = [{**f.state, "title": f.title, "details": f.details} for f in self.frames]
        edges = [[src, dst] for src, dst, _ in self._graph.edges]
        return page_fragment(self._uid, self.base_svg(), frames, edges, max(self.position, 0))

    def save_html(self, path) -> Path:
        """Write one self-contained page (the SVG once, a slider, no network access) and return its path."""
        path = Path(path)
        page = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                '<title>graphgrad stepper</title></head>\n<body>\n' + self._repr_html_() + '\n</body></html>\n')
        path.write_text(page, encoding="utf-8")
        return path

    def widget(self):
        """An ipywidgets box: buttons and a slider (steps 1..n, as the captions count) driving the view; the
        graph is cut to a window holding the current node, the caption below it (needs ``ipywidgets``)."""
        try:
            import ipywidgets as W
        except ImportError as e:
            raise ImportError("Stepper.widget needs ipywidgets: pip install \"graphgrad[notebooks]\"") from e
        n = len(self.frames)
        slider = W.IntSlider(value=max(self.position, 0) + 1, min=1, max=n, description="step")
        prev, nxt = W.Button(description="\u25c0", layout=W.Layout(width="3em")), \
            W.Button(description="\u25b6", layout=W.Layout(width="3em"))
        count = W.Label(value=f"of {n}")
        view, caption = W.HTML(), W.HTML()

        def show(step):
            i = step - 1
            self.position = i
            f = self.frames[i]
            view.value = inline_svg(focus_svg(f.to_svg()), f"{self._uid}w_")
            caption.value = (f'<pre style="white-space:pre-wrap;margin:0"><b>step {step} / {n} \u00b7 '
                             f'{html.escape(f.title)}</b>\n{html.escape(f.details)}</pre>')

        slider.observe(lambda change: show(change["new"]), names="value")
        prev.on_click(lambda _: setattr(slider, "value", max(slider.value - 1, 1)))
        nxt.on_click(lambda _: setattr(slider, "value", min(slider.value + 1, n)))
        show(slider.value)
        self._sliders.append(slider)
        return W.VBox([W.HBox([prev, slider, nxt, count]), view, caption])

    def _ipython_display_(self):
        from IPython.display import HTML, display

        try:
            box = self.widget()
        except ImportError:
            display(HTML(self._repr_html_()))
        else:
            display(box)
