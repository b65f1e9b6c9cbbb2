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


def draw_network(mlp, max_neurons: int = 32, show_weights: bool | None = None, show_biases: bool = True,
                 rankdir: str = "LR") -> Drawing:
    """Neuron-and-layer diagram of a small MLP: circles per neuron, an edge per weight (colour = sign,
    width = magnitude). ``show_weights`` writes each weight on its edge (default: when at most 24 edges).

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
    if show_weights is None:
        show_weights = n_edges <= 24
    wmax = max(float(np.max(np.abs(w))) for w, *_ in layers) or 1.0

    dot = Drawing(name="network", graph_attr={**S.GRAPH, "rankdir": rankdir, "splines": "line", "nodesep": "0.12",
                                              "ranksep": "1.2", "ordering": "out"},
                  node_attr={**S.NODE, "shape": "circle", "fixedsize": "true", "width": "0.45", "style": "filled",
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
        with dot.subgraph(name=f"cluster_layer{li}") as sub:
            sub.attr(label=title, style="rounded", color="#bbbbbb", fontsize="10", rank="same")
            for j in range(n):
                attrs = {"fillcolor": fill, "color": "#555555"}
                if li == len(sizes) - 1:
                    attrs.update(S.OUTPUT)  # as the output in every other drawing (amber means a parameter)
                if li == 0:
                    text = f"x{j + 1}"
                else:
                    b = layers[li - 1][1]
                    text = f"{b[j]:.2g}" if show_biases and b is not None else ""
                    attrs["tooltip"] = f"{layers[li - 1][2]}: neuron {j}" + (f", bias {b[j]:.4g}" if b is not None
                                                                              else "")
                sub.node(f"n{li}_{j}", text, **attrs)
    legend = "edges: weights (blue \u2265 0, red < 0, width \u221d |w|)"
    if show_biases and any(b is not None for _, b, *_ in layers):
        legend += "; number in a neuron: its bias"
    dot.attr(label=legend, labelloc="b", fontsize="9", fontcolor="#555555")
    for li, (w, _, lname, _) in enumerate(layers, start=1):
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                v = float(w[i, j])
                attrs = {"color": S.POSITIVE if v >= 0 else S.NEGATIVE,
                         "penwidth": f"{0.3 + 3.7 * abs(v) / wmax:.3f}",
                         "tooltip": f"{lname}: weight[{i}, {j}] = {v:.4g}"}
                if show_weights:  # near the receiving neuron, in the edge's colour, so it reads as that edge's
                    attrs.update(label=f"{v:.2g}", fontcolor=attrs["color"], decorate="true")
                dot.edge(f"n{li - 1}_{j}", f"n{li}_{i}", **attrs)
    return dot
