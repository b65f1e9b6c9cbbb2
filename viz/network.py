"""``draw_network``: the textbook neuron-and-layer picture of a small fully connected network.

One circle per neuron, layers left to right, one edge per weight: blue for positive, red for
negative, thicker for larger magnitude. Built from the Linear layers' ``weight`` (out, in) and
``bias``; the activation after each layer is named under it.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor

from . import _style as S
from ._format import label
from .render import Drawing

__all__ = ["draw_network"]

_SKIP = frozenset({"Dropout", "Identity", "Flatten"})


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _is_linear(m) -> bool:
    w = getattr(m, "weight", None)
    return isinstance(w, Tensor) and w.ndim == 2 and not list(getattr(m, "children", list)())


def _layers(net):
    """``[(weight (out, in), bias or None, name, activation names)]`` from a module or a list of weights."""
    layers = []
    if isinstance(net, (list, tuple)):
        for i, item in enumerate(net):
            if _is_linear(item):
                b = getattr(item, "bias", None)
                layers.append([_array(item.weight), None if b is None else _array(b), f"layer {i}", []])
            else:
                w = _array(item)
                if w.ndim != 2:
                    raise ValueError(f"draw_network: item {i} must be a Linear layer or a 2-D (out, in) weight, "
                                     f"got shape {w.shape}")
                layers.append([w, None, f"layer {i}", []])
        return layers
    if not hasattr(net, "named_modules"):
        raise TypeError(f"draw_network: expected an MLP / nn.Module or a list of weights, got {type(net).__name__}")
    for name, m in net.named_modules():
        children = list(m.children()) if hasattr(m, "children") else []
        if children:
            continue
        kind = type(m).__name__
        if _is_linear(m):
            b = getattr(m, "bias", None)
            layers.append([_array(m.weight), None if b is None else _array(b), f"{kind} '{name}'" if name else kind,
                           []])
        elif kind not in _SKIP and layers:
            layers[-1][3].append(kind)
    if not layers:
        raise ValueError(f"draw_network: {type(net).__name__} has no Linear layers to draw")
    return layers


def neuron_names(sizes) -> list[list[str]]:
    """``x1..xn`` for the inputs, ``h1..hn`` per hidden layer (``h1.1`` when there are several), ``y1..yn`` out."""
    names = []
    hidden = len(sizes) - 2
    for li, n in enumerate(sizes):
        if li == 0:
            stem = "x"
        elif li == len(sizes) - 1:
            stem = "y"
        else:
            stem = "h" if hidden == 1 else f"h{li}."
        names.append([f"{stem}{j + 1}" for j in range(n)])
    return names


# Layout in inches: layers LAYER_GAP apart, neurons NEURON_GAP apart, first neuron on top (or left).
LAYER_GAP, NEURON_GAP = 2.6, 0.75
_LABEL_W, _LABEL_H = 0.34, 0.14  # room one weight label needs (inches, font size 8)


def _place(li, j, n, rankdir):
    """Position (x, y) in inches of neuron ``j`` of ``n`` in layer ``li``; neuron 0 first (top, or left)."""
    along, across = li * LAYER_GAP, ((n - 1) / 2 - j) * NEURON_GAP
    if rankdir == "LR":
        return along, across
    if rankdir == "RL":
        return -along, across
    if rankdir == "TB":
        return -across, -along
    return -across, along  # BT


def _weight_spots(sizes, rankdir):
    """Where each weight's label goes: on its own edge, at a fraction of the way that depends on the source
    neuron (so labels of one source share a column and never sit where two edges cross at mid-layer)."""
    spots = {}
    for li in range(1, len(sizes)):
        n_in, n_out = sizes[li - 1], sizes[li]
        for j in range(n_in):
            t = 0.22 + 0.56 * (j + 0.5) / n_in
            x0, y0 = _place(li - 1, j, n_in, rankdir)
            for i in range(n_out):
                x1, y1 = _place(li, i, n_out, rankdir)
                spots[(li, i, j)] = (x0 + t * (x1 - x0), y0 + t * (y1 - y0))
    return spots


def _legible(spots) -> bool:
    """No two weight labels overlap (label boxes of ``_LABEL_W`` x ``_LABEL_H`` inches)."""
    pts = sorted(spots.values())
    for a in range(len(pts)):
        for b in range(a + 1, len(pts)):
            if pts[b][0] - pts[a][0] >= _LABEL_W:
                break
            if abs(pts[b][1] - pts[a][1]) < _LABEL_H:
                return False
    return True


def draw_network(mlp, max_neurons: int = 32, show_weights: bool | None = None, show_biases: bool = True,
                 rankdir: str = "LR") -> Drawing:
    """Neuron-and-layer diagram of a small MLP: circles per neuron (x1..xn, h1..hn, y1..yn, first on top),
    an edge per weight (colour = sign, width = magnitude).

    ``show_weights`` writes each weight on its own edge; by default when at most 24 weights and every label
    has room. Without labels the legend points to ``viz.plots.plot_weights`` (a heat map per weight matrix).
    Accepts an ``nn.MLP`` / ``nn.Sequential`` / any module of Linear layers, or a list of Linear
    layers or (out, in) weight matrices. Layers wider than ``max_neurons`` raise a ValueError.
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_network: rankdir must be one of ('TB', 'LR', 'BT', 'RL'), got {rankdir!r}")
    layers = _layers(mlp)
    sizes = [layers[0][0].shape[1]] + [w.shape[0] for w, *_ in layers]
    for i in range(1, len(layers)):
        if layers[i][0].shape[1] != layers[i - 1][0].shape[0]:
            raise ValueError(f"draw_network: {layers[i][2]} expects {layers[i][0].shape[1]} inputs but "
                             f"{layers[i - 1][2]} gives {layers[i - 1][0].shape[0]}: not a chain of fully "
                             "connected layers")
    for li, n in enumerate(sizes):
        if n > max_neurons:
            where = "the input" if li == 0 else layers[li - 1][2]
            raise ValueError(f"draw_network: {where} has {n} neurons, more than max_neurons={max_neurons}; a "
                             "neuron picture that wide is unreadable, use viz.draw_model for large networks "
                             "(or raise max_neurons)")
    n_edges = sum(w.size for w, *_ in layers)
    spots = _weight_spots(sizes, rankdir)
    fits = _legible(spots)
    if show_weights is None:
        show_weights = n_edges <= 24 and fits
    wmax = max(float(np.max(np.abs(w))) for w, *_ in layers) or 1.0
    names = neuron_names(sizes)

    dot = Drawing(name="network", engine="neato",
                  graph_attr={**S.GRAPH, "splines": "line", "outputorder": "edgesfirst"},
                  node_attr={**S.NODE, "shape": "circle", "fixedsize": "true", "width": "0.5", "style": "filled",
                             "fontsize": "8"},
                  edge_attr={**S.EDGE, "arrowhead": "none"})
    for li, n in enumerate(sizes):
        if li == 0:
            title, fill = label("input", f"{n} neurons"), "#ddf0d8"
        else:
            acts = layers[li - 1][3]
            kind = "output" if li == len(sizes) - 1 else f"hidden {li}"
            title = label(kind, f"{n} neuron" + ("s" if n > 1 else ""), ", ".join(acts))
            fill = "#dbe9f6" if li < len(sizes) - 1 else "#ffffff"
        tx, ty = _place(li, -0.9, n, rankdir) if rankdir in ("LR", "RL") else _place(li, -1.4, n, rankdir)
        dot.node(f"layer{li}", title, shape="plaintext", style="", fixedsize="false", fontsize="10",
                 pos=f"{tx:.3f},{ty:.3f}!")
        for j in range(n):
            attrs = {"fillcolor": fill, "color": "#555555"}
            if li == len(sizes) - 1:
                attrs.update(S.OUTPUT)  # as the output in every other drawing (amber means a parameter)
            text = names[li][j]
            if li > 0:
                b = layers[li - 1][1]
                if show_biases and b is not None:
                    text = label(text, f"{b[j]:.2g}")
                attrs["tooltip"] = f"{layers[li - 1][2]}: neuron {j}" + (f", bias {b[j]:.4g}" if b is not None
                                                                          else "")
            x, y = _place(li, j, n, rankdir)
            dot.node(f"n{li}_{j}", text, pos=f"{x:.3f},{y:.3f}!", **attrs)
    legend = "edges: weights (blue \u2265 0, red < 0, width \u221d |w|)"
    if show_biases and any(b is not None for _, b, *_ in layers):
        legend += "; second line in a neuron: its bias"
    if not show_weights:
        legend += "\nweights not written (too many to place legibly): viz.plots.plot_weights(net) draws each " \
                  "weight matrix as a heat map"
    dot.attr(label=legend, labelloc="b", fontsize="9", fontcolor="#555555")
    for li, (w, _, lname, _) in enumerate(layers, start=1):
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                v = float(w[i, j])
                colour = S.POSITIVE if v >= 0 else S.NEGATIVE
                tip = f"{lname}: weight[{i}, {j}] = {v:.4g} ({names[li - 1][j]} \u2192 {names[li][i]})"
                dot.edge(f"n{li - 1}_{j}", f"n{li}_{i}", color=colour, penwidth=f"{0.3 + 3.7 * abs(v) / wmax:.3f}",
                         tooltip=tip)
                if show_weights:  # a label node on this edge's own line, in its colour, on a white ground
                    x, y = spots[(li, i, j)]
                    dot.node(f"w{li}_{i}_{j}", f"{v:.2g}", shape="box", style="filled", fillcolor="white",
                             color="white", fontcolor=colour, fixedsize="false", width="0", height="0",
                             margin="0.01,0.005", fontsize="8", pos=f"{x:.3f},{y:.3f}!", tooltip=tip)
    return dot
