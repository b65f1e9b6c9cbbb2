"""A matplotlib Figure that shows itself in Jupyter even when pyplot (and its inline backend) was never imported.

A bare ``matplotlib.figure.Figure`` only displays as ``<Figure size ...>`` unless the inline backend has
registered its formatter, which happens on ``import matplotlib.pyplot``. This subclass adds ``_repr_png_``
so ``history.plot()`` as a cell's last line draws the curves either way (with the inline backend active,
its own formatter still takes precedence).
"""
from __future__ import annotations

import io
from functools import cache
from typing import Any


@cache
def _figure_class() -> type:
    from matplotlib.figure import Figure

    class DisplayFigure(Figure):
        """``matplotlib.figure.Figure`` with a PNG representation for IPython/Jupyter."""

        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", bbox_inches="tight")
            return buf.getvalue()

    return DisplayFigure


def new_figure(**kwargs: Any):
    """A new Figure (``kwargs`` as ``matplotlib.figure.Figure``) that displays inline in Jupyter."""
    return _figure_class()(**kwargs)
