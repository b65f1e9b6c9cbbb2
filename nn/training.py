"""``fit``: the training loop of seeds T3/T8/T12 (epochs of mini-batches, validation, metrics, early
stopping), returning a Keras-style ``History`` of per-epoch numbers.

Each epoch runs ``model.train()`` over ``train_loader`` (forward, loss, ``zero_grad``, ``backward``,
``step``), then ``model.eval()`` under ``no_grad`` over ``val_loader``. Logged values are sample-weighted
means over the epoch: ``loss`` and each metric, and ``val_loss``/``val_<metric>`` for validation.

Progress output (``progress=True``): on a terminal, one line per epoch redrawn in place as batches run
(a bar, batch count, elapsed time, running loss and metrics), finished with the validation numbers.
When stdout is not a terminal (a log file, CI, a pipe) it prints just one summary line per epoch at its
end, so logs stay short. ``progress=False`` prints nothing.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from autograd import Tensor, no_grad

from .callbacks import Callback, EarlyStopping, LambdaCallback, ProgressBar
from .history import History
from .metrics import resolve_metrics

__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback", "ProgressBar", "evaluate", "fit"]


def _split_batch(batch, where: str) -> tuple[tuple, Any]:
    """``(inputs..., target)`` from a loader's batch."""
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise TypeError(f"fit: each batch of {where} must be a tuple (inputs..., target), got "
                        f"{type(batch).__name__}{'' if not isinstance(batch, (tuple, list)) else f' of {len(batch)}'}")
    return tuple(batch[:-1]), batch[-1]


def _batch_size(target) -> int:
    shape = getattr(target, "shape", None)
    return int(shape[0]) if shape else 1


def _as_array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _loss_value(loss, where: str) -> float:
    if not isinstance(loss, Tensor):
        raise TypeError(f"fit: loss_fn must return a Tensor, got {type(loss).__name__} ({where})")
    if loss.size != 1:
        raise ValueError(f"fit: loss_fn must return a scalar loss (reduction='mean' or 'sum'), got shape "
                         f"{loss.shape} ({where})")
    return float(loss.data.reshape(()))


class _Accumulator:
    """Sample-weighted running means of the loss and every metric over one pass."""

    def __init__(self, metrics):
        self.metrics = metrics
        self.n = 0
        self.loss = 0.0
        self.sums = {name: 0.0 for name, _ in metrics}
        self.counts = {name: 0 for name, _ in metrics}

    def add(self, loss: float, out, target, n: int) -> None:
        self.n += n
        self.loss += loss * n
        if self.metrics:
            out_a, tgt_a = _as_array(out), _as_array(target)
            for name, fn in self.metrics:
                total, count = fn(out_a, tgt_a)
                self.sums[name] += total
                self.counts[name] += count

    def logs(self, prefix: str = "") -> dict[str, float]:
        if self.n == 0:
            return {}
        out = {prefix + "loss": self.loss / self.n}
        for name, _ in self.metrics:
            out[prefix + name] = self.sums[name] / self.counts[name] if self.counts[name] else math.nan
        return out


def _as_loader(loader, where: str):
    """A loader, or ``(x, y)`` arrays/Tensors treated as a single batch."""
    if isinstance(loader, tuple) and len(loader) >= 2 and all(isinstance(t, (Tensor, np.ndarray)) for t in loader):
        return [loader]
    if not isinstance(loader, Iterable):
        raise TypeError(f"fit: {where} must be an iterable of (inputs..., target) batches (e.g. a DataLoader), "
                        f"got {type(loader).__name__}")
    return loader


def evaluate(model, loss_fn: Callable, loader, metrics: Sequence | dict | None = None) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``loader`` in eval mode without recording a graph."""
    metric_fns = resolve_metrics(metrics)
    loader = _as_loader(loader, "loader")
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    acc = _Accumulator(metric_fns)
    try:
        with no_grad():
            for i, batch in enumerate(loader):
                inputs, target = _split_batch(batch, "the loader")
                out = model(*inputs)
                acc.add(_loss_value(loss_fn(out, target), f"batch {i}"), out, target, _batch_size(target))
    finally:
        if was_training is not None and hasattr(model, "train"):
            model.train(was_training)
    return acc.logs()


def _train_epoch(model, loss_fn, optimizer, loader, metric_fns, callbacks, epoch: int) -> dict[str, float]:
    """One pass of forward, loss, zero_grad, backward, step over ``loader`` in training mode; the epoch's logs."""
    if hasattr(model, "train"):
        model.train()
    acc = _Accumulator(metric_fns)
    for i, batch in enumerate(loader):
        inputs, target = _split_batch(batch, "train_loader")
        out = model(*inputs)
        loss = loss_fn(out, target)
        value = _loss_value(loss, f"epoch {epoch + 1}, batch {i}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        acc.add(value, out, target, _batch_size(target))
        if callbacks:
            logs = acc.logs()
            for cb in callbacks:
                cb.on_batch_end(i, logs)
    return acc.logs()


def fit(model, loss_fn: Callable, optimizer, train_loader, val_loader=None, epochs: int = 1,
        callbacks: Sequence[Callback] = (), progress: bool = True, metrics: Sequence | dict | None = None,
        scheduler=None) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; return the per-epoch ``History``.

    ``metrics``: names ('accuracy' = argmax over classes, 'binary_accuracy' = probability > 0.5) or
    callables ``fn(output, target) -> float``. ``scheduler`` (an ``nn.optim.lr_scheduler``) steps after each
    epoch and the learning rate is logged as ``lr``. A callback setting ``stop_training = True`` ends
    training after the current epoch. ``val_loader`` may also be an ``(x, y)`` pair used as one batch.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if not callable(loss_fn):
        raise TypeError(f"fit: loss_fn must be callable, got {type(loss_fn).__name__}")
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")):
        raise TypeError(f"fit: optimizer must have step() and zero_grad(), got {type(optimizer).__name__}")
    metric_fns = resolve_metrics(metrics)
    train_loader = _as_loader(train_loader, "train_loader")
    if val_loader is not None:
        val_loader = _as_loader(val_loader, "val_loader")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be nn.Callback instances, got {type(cb).__name__}")
    try:
        steps = len(train_loader)
    except TypeError:
        steps = None
    history = History()
    history.params = {"epochs": int(epochs), "steps": steps}
    if progress:
        callbacks.append(ProgressBar(stream=sys.stdout))
    for cb in callbacks:
        cb._bind(model, optimizer, history)
        cb.stop_training = False

    for cb in callbacks:
        cb.on_train_begin({})
    try:
        for epoch in range(int(epochs)):
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            logs = _train_epoch(model, loss_fn, optimizer, train_loader, metric_fns, callbacks, epoch)
            if val_loader is not None:
                logs.update({"val_" + k: v for k, v in evaluate(model, loss_fn, val_loader, metrics).items()})
            if scheduler is not None:
                logs["lr"] = float(optimizer.param_groups[0]["lr"])
                scheduler.step()
            history._append(epoch, logs)
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if any(cb.stop_training for cb in callbacks):
                break
    except BaseException:  # e.g. Ctrl-C: end a half-drawn progress line before the traceback
        for cb in callbacks:
            if isinstance(cb, ProgressBar):
                cb.close()
        raise
    for cb in callbacks:
        cb.on_train_end({})
    return history
