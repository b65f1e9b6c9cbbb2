"""``History``: what ``fit`` returns — per-epoch lists of every logged number, and a plot of them."""
from __future__ import annotations

import math
from typing import Any


class History:
    """``history.history['loss'][e]`` is the mean training loss of epoch ``e``; likewise ``val_loss`` and metrics."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}

    def _append(self, epoch: int, logs: dict[str, float]) -> None:
        n = len(self.epoch)
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, [math.nan] * n).append(float(value))
        for key, values in self.history.items():
            if len(values) < n + 1:
                values.append(math.nan)

    def __getitem__(self, key: str) -> list[float]:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"History: no '{key}' logged; available: {sorted(self.history)}") from None

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self)} epochs{': ' + last if last else ''})"

    def plot(self, keys: list[str] | None = None, figsize: tuple[float, float] | None = None):
        """A matplotlib Figure with one panel per quantity (loss, each metric), training and validation curves.

        ``keys`` picks the quantities (default: each training quantity, its ``val_*`` curve in the same
        panel, and the learning rate when a scheduler changed it).
        Needs matplotlib (``pip install 'graphgrad[plot]'``).
        """
        try:
            import matplotlib.figure  # noqa: F401 - fail early with the install hint
        except ImportError:
            raise ImportError("History.plot needs matplotlib, which is not installed; install it with "
                              "pip install 'graphgrad[plot]' (or pip install matplotlib)") from None
        if not self.epoch:
            raise ValueError("History.plot: nothing to plot, no epoch was recorded")
        if keys is None:
            keys = [k for k in self.history if not k.startswith("val_") and k != "lr"] or list(self.history)
            if "lr" in self.history and "lr" not in keys and len(set(self.history["lr"])) > 1:
                keys.append("lr")  # a scheduler changed the learning rate: show its schedule too
        else:
            unknown = [k for k in keys if k not in self.history]
            if unknown:
                raise KeyError(f"History.plot: no {unknown} logged; available: {sorted(self.history)}")
        from ._figure import new_figure

        fig = new_figure(figsize=figsize or (5 * len(keys), 3.6), layout="constrained")
        axes = fig.subplots(1, len(keys), squeeze=False)[0]
        xs = [e + 1 for e in self.epoch]
        for ax, key in zip(axes, keys):
            ax.plot(xs, self.history[key], marker="o", markersize=2.5, label=key)
            if "val_" + key in self.history:
                ax.plot(xs, self.history["val_" + key], marker="o", markersize=2.5, label="val_" + key)
            ax.set_xlabel("epoch")
            ax.set_title(key)
            ax.grid(alpha=0.3)
            ax.legend()
        return fig
