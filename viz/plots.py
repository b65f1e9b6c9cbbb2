"""matplotlib plots for the ideas the drawings cannot show: activation curves and their derivatives,
training curves, gradient norms per layer or per time step, attention heatmaps.

Every function returns a ``matplotlib.figure.Figure`` (shown inline in Jupyter) and accepts
``ax=`` to draw into an existing Axes instead. Needs the ``plot`` extra (matplotlib).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from autograd import Tensor

__all__ = ["activation_functions", "plot_activations", "plot_attention", "plot_grad_norms", "plot_history",
           "plot_weights"]
__all__ += ["plot_gradient_norms"]


def _figure(ax, figsize):
    """(figure, axes): a new Figure, or the one ``ax`` belongs to."""
    try:
        import matplotlib.figure  # noqa: F401 - fail early with the install hint
    except ImportError:
        raise ImportError("viz.plots needs matplotlib, which is not installed; install it with "
                          "pip install 'graphgrad[plot]' (or pip install matplotlib)") from None
    if ax is not None:
        return ax.figure, ax
    from nn._figure import new_figure

    fig = new_figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def activation_functions() -> dict[str, Callable]:
    """The activations of the course material by name, as autograd functions of a Tensor."""
    import nn.functional as F

    return {
        "sigmoid": F.sigmoid,
        "tanh": F.tanh,
        "relu": F.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
        "elu": F.elu,
        "silu": F.silu,
        "gelu": F.gelu,
        "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    }


def _derivative(fn, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) elementwise, by one backward pass of sum(f(x)) through autograd."""
    x = Tensor(xs.copy(), requires_grad=True)
    y = fn(x)
    if not isinstance(y, Tensor) or y.shape != x.shape:
        raise ValueError(f"plot_activations: an activation must map a Tensor of shape {x.shape} to one of the same "
                         f"shape, got {getattr(y, 'shape', type(y).__name__)}")
    y.sum().backward()
    return y.data.copy(), (x.grad.data.copy() if x.grad is not None else np.zeros_like(xs))


def plot_activations(activations=None, x=None, derivatives: bool = True, ax=None, figsize=(9, 3.6)):
    """Activation functions (solid) and their derivatives (dashed), the derivatives computed with autograd.

    ``activations``: names from ``activation_functions()``, or a mapping name -> function
    (default: sigmoid, tanh, relu, leaky_relu, elu, gelu). ``x``: the points (default -6..6).
    With ``ax`` both go on that Axes; otherwise functions left, derivatives right.
    """
    known = activation_functions()
    if activations is None:
        activations = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu"]
    if isinstance(activations, Mapping):
        fns = dict(activations)
    else:
        unknown = [a for a in activations if a not in known]
        if unknown:
            raise ValueError(f"plot_activations: unknown activation(s) {unknown}; known: {sorted(known)}")
        fns = {a: known[a] for a in activations}
    xs = np.linspace(-6, 6, 601) if x is None else np.asarray(x.data if isinstance(x, Tensor) else x)
    xs = xs.astype(np.float64) if xs.dtype.kind != "f" else xs
    if xs.ndim != 1:
        raise ValueError(f"plot_activations: x must be 1-D, got shape {xs.shape}")
    if ax is None and derivatives:
        fig, _ = _figure(None, figsize)
        fig.clear()
        ax_f, ax_d = fig.subplots(1, 2)
    else:
        fig, ax_f = _figure(ax, figsize)
        ax_d = ax_f
    for name, fn in fns.items():
        y, dy = _derivative(fn, xs)
        line = ax_f.plot(xs, y, label=name)[0]
        if derivatives:
            ax_d.plot(xs, dy, linestyle="--", color=line.get_color(), label=f"{name}'")
    ax_f.set_title("activation" if ax_d is not ax_f else "activation (solid) and derivative (dashed)")
    ax_f.set_xlabel("x")
    ax_f.grid(alpha=0.3)
    ax_f.legend(fontsize=8)
    if derivatives and ax_d is not ax_f:
        ax_d.set_title("derivative (autograd)")
        ax_d.set_xlabel("x")
        ax_d.grid(alpha=0.3)
        ax_d.legend(fontsize=8)
    return fig


def plot_history(history, keys: Sequence[str] | None = None, ax=None, figsize=(6, 3.6), logy: bool = False,
                 best: str | None = "auto", early_stopping=None, stopped_epoch: int | None = None):
    """Training curves from an ``nn.History`` or a dict of per-epoch lists; ``val_<key>`` in its own colour.

    ``keys`` picks what to plot (default: every key that is not ``val_*``). All curves share one Axes.
    ``best`` marks the best epoch of that curve (``"auto"``: the monitored quantity of ``early_stopping``, else
    ``val_loss``, else ``loss``; lowest for a loss or error, highest otherwise; None for no mark). With an
    ``nn.EarlyStopping`` callback that stopped training, or ``stopped_epoch`` (1-based, as on the axis), a
    vertical line marks the epoch training stopped at.
    """
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping):
        raise TypeError(f"plot_history: expected an nn.History or a dict of lists, got {type(history).__name__}")
    if keys is None:
        keys = [k for k in data if not str(k).startswith("val_") and k != "lr"] or list(data)
    unknown = [k for k in keys if k not in data]
    if unknown:
        raise KeyError(f"plot_history: no {unknown} in the history; available: {sorted(data)}")
    if not keys or not any(len(data[k]) for k in keys):
        raise ValueError("plot_history: nothing to plot, the history is empty")
    fig, ax = _figure(ax, figsize)
    colours = iter([f"C{i}" for i in range(10)] * 4)
    for k in keys:
        ys = np.asarray(data[k], dtype=float)
        ax.plot(np.arange(1, len(ys) + 1), ys, marker="o", markersize=2.5, label=k, color=next(colours))
        if f"val_{k}" in data:
            vs = np.asarray(data[f"val_{k}"], dtype=float)
            ax.plot(np.arange(1, len(vs) + 1), vs, marker="s", markersize=2.5, linestyle="--",
                    color=next(colours), label=f"val_{k}")
    if best == "auto":
        watched = getattr(early_stopping, "monitor", None)
        best = next((k for k in (watched, "val_loss", "loss") if k in data and len(data[k])), None)
    if best is not None:
        if best not in data:
            raise KeyError(f"plot_history: best={best!r} is not in the history; available: {sorted(data)}")
        vs = np.asarray(data[best], dtype=float)
        mode = getattr(early_stopping, "mode", None) if best == getattr(early_stopping, "monitor", None) else None
        lower = mode == "min" if mode in ("min", "max") else not ("acc" in str(best) or "score" in str(best))
        i = int(np.nanargmin(vs) if lower else np.nanargmax(vs))
        ax.plot([i + 1], [vs[i]], marker="*", markersize=12, color="black", linestyle="none",
                label=f"best {best}: epoch {i + 1} ({vs[i]:.4g})")
    stop = stopped_epoch
    if stop is None and getattr(early_stopping, "stopped_epoch", None) is not None:
        stop = int(early_stopping.stopped_epoch) + 1  # callbacks count epochs from 0, the axis from 1
    if stop is not None:
        ax.axvline(stop, color="#777777", linestyle=":", label=f"early stop: epoch {stop}")
    ax.set_xlabel("epoch")
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_weights(net, ax=None, figsize=None, cmap: str = "RdBu"):
    """Each Linear layer's weight matrix (out x in) as a heat map, zero white, blue positive, red negative:
    the weights ``draw_network`` leaves off when they cannot be written legibly on the edges."""
    from .network import _layers, neuron_names

    layers = _layers(net)
    sizes = [layers[0][0].shape[1]] + [w.shape[0] for w, *_ in layers]
    names = neuron_names(sizes)
    if ax is not None and len(layers) > 1:
        raise ValueError(f"plot_weights: {len(layers)} weight matrices need a new figure, do not pass ax=")
    if ax is None:
        fig, _ = _figure(None, figsize or (3.2 * len(layers) + 0.8, 3.2))
        fig.clear()
        axes = fig.subplots(1, len(layers), squeeze=False)[0]
    else:
        fig, first = _figure(ax, figsize)
        axes = [first]
    vmax = max(float(np.max(np.abs(w))) for w, *_ in layers) or 1.0
    for li, (a, (w, _, lname, _)) in enumerate(zip(axes, layers), start=1):
        im = a.imshow(w, cmap=cmap, vmin=-vmax, vmax=vmax, aspect="auto")
        a.set_xticks(range(w.shape[1]), names[li - 1], fontsize=7)
        a.set_yticks(range(w.shape[0]), names[li], fontsize=7)
        a.set_title(lname, fontsize=9)
        a.set_xlabel("from")
        a.set_ylabel("to")
        if w.size <= 64:
            for (i, j), v in np.ndenumerate(w):
                a.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=list(axes), shrink=0.8)
    return fig


def _norm(g) -> float:
    a = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=np.float64)
    return float(np.sqrt(np.sum(a * a)))


def plot_grad_norms(source, ax=None, figsize=(7, 3.6), logy: bool = True, title: str | None = None):
    """Gradient L2 norms: per parameter of a module (bars), per key of a mapping (bars), or per time step
    of a sequence of gradients or numbers (a line) — the picture of vanishing or exploding gradients.

    For a module, parameters without ``.grad`` (no backward yet) are skipped; norms are read, never changed.
    """
    if hasattr(source, "named_parameters"):
        items = [(n, p.grad) for n, p in source.named_parameters() if p.grad is not None]
        if not items:
            raise ValueError("plot_grad_norms: no parameter has a gradient yet; call loss.backward() first")
        kind = "bar"
    elif isinstance(source, Mapping):
        items = [(str(k), v) for k, v in source.items() if v is not None]
        kind = "bar"
    elif isinstance(source, (Sequence, np.ndarray)):
        items = [(str(i), v) for i, v in enumerate(source)]
        kind = "line"
    else:
        raise TypeError(f"plot_grad_norms: expected a module, a mapping or a sequence, got {type(source).__name__}")
    if not items:
        raise ValueError("plot_grad_norms: nothing to plot")
    norms = np.array([float(v) if np.isscalar(v) else _norm(v) for _, v in items])
    fig, ax = _figure(ax, figsize)
    if kind == "bar":
        ax.bar(range(len(norms)), norms, color="#4a78a8")
        ax.set_xticks(range(len(norms)), [n for n, _ in items], rotation=60, ha="right", fontsize=8)
        ax.set_ylabel("gradient norm")
    else:
        ax.plot(np.arange(len(norms)), norms, marker="o", markersize=3)
        ax.set_xlabel("time step")
        ax.set_ylabel("gradient norm")
    if logy and np.all(norms > 0):
        ax.set_yscale("log")
    ax.set_title(title or ("gradient norm per parameter" if kind == "bar" else "gradient norm per time step"))
    ax.grid(alpha=0.3)
    return fig


def plot_gradient_norms(series, ax=None, figsize=(7, 3.6), logy: bool = True, title: str | None = None):
    """‖∂L/∂h_t‖ against the time step t for several models on one axes (vanishing gradients, SEEDS R3).

    ``series`` maps a label to a sequence over time steps of gradients (Tensors, arrays, e.g. ``h.grad`` of
    each step's hidden state) or of numbers; a single such sequence is drawn unlabelled.
    """
    if not isinstance(series, Mapping):
        series = {"": series}
    if not series:
        raise ValueError("plot_gradient_norms: nothing to plot")
    fig, ax = _figure(ax, figsize)
    positive = True
    for label, steps in series.items():
        if not isinstance(steps, (Sequence, np.ndarray)) or len(steps) == 0:
            raise TypeError(f"plot_gradient_norms: {label!r} must be a non-empty sequence of gradients or numbers, "
                            f"got {type(steps).__name__}")
        if any(g is None for g in steps):
            raise ValueError(f"plot_gradient_norms: {label!r} has a step without a gradient (None); call "
                             "retain_grad() on each hidden state before backward")
        norms = np.array([float(g) if np.isscalar(g) else _norm(g) for g in steps])
        positive &= bool(np.all(norms > 0))
        ax.plot(np.arange(1, len(norms) + 1), norms, label=label or None)
    ax.set_xlabel("time step t")
    ax.set_ylabel("‖∂L/∂h_t‖")
    if logy and positive:
        ax.set_yscale("log")
    if any(series):
        ax.legend(fontsize=8)
    ax.set_title(title or "gradient norm per time step")
    ax.grid(alpha=0.3)
    return fig


def plot_attention(weights, x_labels=None, y_labels=None, ax=None, figsize=None, cmap: str = "viridis",
                   title: str | None = None):
    """Heatmap of attention weights (queries down, keys across); a 3-D array draws one panel per head.

    A 4-D array (batch, heads, queries, keys) uses its first batch element.
    """
    w = np.asarray(weights.data if isinstance(weights, Tensor) else weights, dtype=np.float64)
    if w.ndim == 4:
        w = w[0]
    if w.ndim not in (2, 3):
        raise ValueError(f"plot_attention: expected weights of shape (queries, keys) or (heads, queries, keys), "
                         f"got {w.shape}")
    heads = w[None] if w.ndim == 2 else w
    if ax is not None and len(heads) > 1:
        raise ValueError(f"plot_attention: {len(heads)} heads need a new figure, do not pass ax=")
    nq, nk = heads.shape[1:]
    for lab, n, what in ((x_labels, nk, "x_labels (keys)"), (y_labels, nq, "y_labels (queries)")):
        if lab is not None and len(lab) != n:
            raise ValueError(f"plot_attention: {what} has {len(lab)} entries for {n} positions")
    if ax is None:
        fig, first = _figure(None, figsize or (3.2 * len(heads) + 0.8, 3.2))
        fig.clear()
        axes = fig.subplots(1, len(heads), squeeze=False)[0]
    else:
        fig, first = _figure(ax, figsize)
        axes = [first]
    for h, (a, m) in enumerate(zip(axes, heads)):
        im = a.imshow(m, cmap=cmap, aspect="auto", vmin=0.0, vmax=max(1e-12, float(m.max())))
        a.set_xlabel("key")
        a.set_ylabel("query")
        if x_labels is not None:
            a.set_xticks(range(nk), [str(s) for s in x_labels], rotation=60, fontsize=8)
        if y_labels is not None:
            a.set_yticks(range(nq), [str(s) for s in y_labels], fontsize=8)
        a.set_title(title if title and len(heads) == 1 else (f"head {h}" if len(heads) > 1 else "attention"))
    fig.colorbar(im, ax=list(axes), shrink=0.8)
    return fig
