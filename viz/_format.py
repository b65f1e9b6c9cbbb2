"""Short text for drawings: shapes, dtypes, small values, gradient summaries, op parameters."""
from __future__ import annotations

import graphviz
import numpy as np

_MAX_PARAM_CHARS = 28


def shape_text(shape) -> str:
    """``(2, 3)``; a 0-d shape reads ``scalar``."""
    shape = tuple(int(s) for s in shape)
    return "scalar" if shape == () else "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def meta_text(arr) -> str:
    """Shape and dtype on one line, e.g. ``(2, 3) float32``."""
    return f"{shape_text(arr.shape)} {np.dtype(arr.dtype).name}"


def value_text(arr, max_elements: int) -> str | None:
    """The values of a small array (at most ``max_elements`` elements) as compact text, else None."""
    arr = np.asarray(arr)
    if arr.size > max_elements or arr.size == 0:
        return None
    if arr.ndim == 0:
        return f"{arr.item():.4g}" if arr.dtype.kind == "f" else str(arr.item())
    if arr.dtype.kind == "f":
        text = np.array2string(arr, precision=4, suppress_small=True, separator=", ", max_line_width=48)
    else:
        text = np.array2string(arr, separator=", ", max_line_width=48)
    return text


def summary_text(arr, max_elements: int) -> str:
    """Values when small, otherwise shape and L2 norm (what a reader needs to judge a gradient)."""
    arr = np.asarray(arr)
    small = value_text(arr, max_elements)
    if small is not None:
        return small
    norm = float(np.sqrt(np.sum(np.square(arr, dtype=np.float64)))) if arr.size else 0.0
    return f"{shape_text(arr.shape)} \u2016\u00b7\u2016={norm:.4g}"


def one_line(text: str) -> str:
    """A multi-line array text on one line (``[[1., 2.], [3., 4.]]``), for captions and edge labels."""
    return " ".join(part.strip() for part in text.splitlines())


def index_text(index) -> str:
    """An indexing expression as it would be written: ``[:, 0]``, ``[idx(3,)]``."""
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for i in items:
        if isinstance(i, slice):
            s = "" if i.start is None else str(i.start)
            s += ":" + ("" if i.stop is None else str(i.stop))
            if i.step is not None:
                s += ":" + str(i.step)
            parts.append(s)
        elif i is None:
            parts.append("None")
        elif i is Ellipsis:
            parts.append("...")
        elif isinstance(i, np.ndarray):
            parts.append(f"idx{shape_text(i.shape)}" if i.size > 4 else np.array2string(i, separator=","))
        else:
            parts.append(repr(i))
    return "[" + ", ".join(parts) + "]"


# Parameters that pick an implementation or only word an op's error messages (the public function and the
# input shape the class-index losses name), not its configuration.
_INTERNAL_PARAMS = ("basic", "fn", "x_shape")


def params_text(name: str, params: dict) -> str:
    """An op's configuration worth reading (``axis=1``), skipping internals and empty defaults."""
    out = []
    for k, v in params.items():
        if k in _INTERNAL_PARAMS or v is None or v is False or (isinstance(v, tuple) and v == () and k != "shape"):
            continue
        if k == "index":
            text = index_text(v)
        elif isinstance(v, np.ndarray):
            text = f"array{shape_text(v.shape)}"
        elif isinstance(v, (np.dtype, type)):
            text = np.dtype(v).name
        else:
            text = repr(v)
        if len(text) > _MAX_PARAM_CHARS:
            text = text[:_MAX_PARAM_CHARS - 1] + "\u2026"
        out.append(text if k == "index" else f"{k}={text}")
    return ", ".join(out)


def constant_text(value, max_elements: int) -> str:
    """A non-tensor input of an op (Python number or ndarray); a 0-d array reads as the number it holds
    (a Python number meeting a float tensor is kept as one, in the tensor's dtype)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "f":
        return str(value[()])
    if isinstance(value, np.ndarray):
        small = value_text(value, max_elements)
        return small if small is not None else f"array {meta_text(value)}"
    return repr(value)


def label(*lines: str | None) -> str:
    """Join label lines for Graphviz (``\\n`` centred line breaks), dropping empty ones."""
    text = "\\n".join(line.replace("\\", "\\\\").replace("\n", "\\n") for line in lines if line)
    return graphviz.nohtml(text)  # a name like "<x>" is text, not a Graphviz HTML label
