"""Classification metrics for ``fit``: each returns ``(number correct, number counted)`` for one batch so
epoch values are exact sample-weighted means."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from autograd import Tensor, from_numpy

__all__ = ["accuracy", "binary_accuracy", "resolve_metrics"]


def _arr(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def accuracy(output, target) -> tuple[int, int]:
    """Multi-class accuracy: argmax of the class scores (last axis) against class indices or one-hot rows."""
    out, tgt = _arr(output), _arr(target)
    if out.ndim < 1 or out.shape[-1] < 2:
        raise ValueError(f"accuracy: expected class scores of shape (N, C) with C >= 2, got {out.shape}; "
                         "for one probability per sample use 'binary_accuracy'")
    pred = out.argmax(axis=-1)
    if tgt.shape == out.shape:  # one-hot or probability targets
        tgt = tgt.argmax(axis=-1)
    if tgt.shape != pred.shape:
        raise ValueError(f"accuracy: output {out.shape} needs target class indices of shape {pred.shape}, "
                         f"got {tgt.shape}")
    return int(np.count_nonzero(pred == tgt)), int(pred.size)


def binary_accuracy(output, target, threshold: float = 0.5) -> tuple[int, int]:
    """Binary accuracy: probability > ``threshold`` predicts 1, compared with 0/1 targets."""
    out, tgt = _arr(output), _arr(target)
    if out.size != tgt.size or (out.ndim and tgt.ndim and out.shape[0] != tgt.shape[0]):
        raise ValueError(f"binary_accuracy: output {out.shape} and target {tgt.shape} must hold one value per "
                         "sample each")
    pred = out.reshape(-1) > threshold
    truth = tgt.reshape(-1) > threshold
    return int(np.count_nonzero(pred == truth)), int(pred.size)


_NAMED = {"accuracy": accuracy, "acc": accuracy, "binary_accuracy": binary_accuracy}


def _mean_metric(fn: Callable) -> Callable[[np.ndarray, np.ndarray], tuple[float, int]]:
    """Wrap a user ``fn(output, target) -> float`` (a batch mean) into the (sum, count) form."""

    def wrapped(out, tgt):
        n = out.shape[0] if out.ndim else 1
        value = fn(from_numpy(out), from_numpy(tgt))
        return float(value.item() if isinstance(value, Tensor) else value) * n, n

    return wrapped


def resolve_metrics(metrics: Sequence | dict | None) -> list[tuple[str, Callable]]:
    """``[(log name, fn returning (sum, count))]`` from names, callables or a {name: callable} dict."""
    if metrics is None:
        return []
    if isinstance(metrics, (str, Callable)) and not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    items = metrics.items() if isinstance(metrics, dict) else [(None, m) for m in metrics]
    out = []
    for name, m in items:
        if isinstance(m, str):
            if m not in _NAMED:
                raise ValueError(f"fit: unknown metric {m!r}; known: {sorted(_NAMED)} or pass a callable")
            out.append((name or ("accuracy" if m == "acc" else m), _NAMED[m]))
        elif callable(m):
            if m in (accuracy, binary_accuracy):
                out.append((name or m.__name__, m))
            else:
                out.append((name or getattr(m, "__name__", "metric"), _mean_metric(m)))
        else:
            raise TypeError(f"fit: a metric must be a name or a callable, got {type(m).__name__}")
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ValueError(f"fit: duplicate metric names {names}")
    return out
