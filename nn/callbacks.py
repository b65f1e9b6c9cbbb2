"""Callbacks that ``fit`` calls around epochs and batches: ``EarlyStopping`` (seed T8), ``LambdaCallback``
and the ``ProgressBar`` that ``fit(progress=True)`` adds."""
from __future__ import annotations

import copy
import math
import shutil
import time
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

__all__ = ["Callback", "EarlyStopping", "LambdaCallback", "ProgressBar"]


class Callback:
    """Base class. ``fit`` sets ``model``, ``optimizer`` and ``history`` before training; setting
    ``self.stop_training = True`` in a hook ends training after the current epoch."""

    model: Any = None
    optimizer: Any = None
    history: Any = None
    stop_training: bool = False

    def _bind(self, model, optimizer, history) -> None:
        self.model, self.optimizer, self.history = model, optimizer, history

    def on_train_begin(self, logs: dict[str, float]) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, float]) -> None:
        """Before epoch ``epoch`` (0-based)."""

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        """After each training step; ``logs`` holds the running means of this epoch so far."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """After an epoch and its validation; ``logs`` holds the epoch's numbers (``loss``, ``val_loss``, ...)."""

    def on_train_end(self, logs: dict[str, float]) -> None:
        """After the last epoch (also after an early stop)."""


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_train_begin: Callable | None = None, on_epoch_begin: Callable | None = None,
                 on_batch_end: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_end: Callable | None = None):
        for name, fn in (("on_train_begin", on_train_begin), ("on_epoch_begin", on_epoch_begin),
                         ("on_batch_end", on_batch_end), ("on_epoch_end", on_epoch_end),
                         ("on_train_end", on_train_end)):
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback: {name} must be callable, got {type(fn).__name__}")
                setattr(self, name, fn)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs in a row.

    ``mode`` is 'min', 'max' or 'auto' (max for names containing 'acc', else min). With
    ``restore_best_weights`` the model gets back the weights (and buffers) of its best epoch when training
    ends, whether it stopped early or ran out of epochs. ``best``, ``best_epoch`` and ``stopped_epoch``
    (None if it did not stop) are kept for inspection.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, mode: str = "auto",
                 restore_best_weights: bool = False):
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"EarlyStopping: mode must be 'min', 'max' or 'auto', got {mode!r}")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative integer, got {patience!r}")
        if not isinstance(min_delta, (int, float)) or math.isnan(min_delta):
            raise ValueError(f"EarlyStopping: min_delta must be a number, got {min_delta!r}")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None

    def _improved(self, current: float) -> bool:
        if math.isnan(current):
            return False
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def on_train_begin(self, logs):
        self._reset()

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            hint = " (pass val_loader to fit to get validation numbers)" if self.monitor.startswith("val_") else ""
            raise ValueError(f"EarlyStopping: monitored quantity '{self.monitor}' is not logged; available: "
                             f"{sorted(logs)}{hint}")
        current = float(logs[self.monitor])
        if self._improved(current):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights and self.model is not None:
                self.best_weights = copy.deepcopy(self.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.stop_training = True

    def on_train_end(self, logs):
        if self.restore_best_weights and self.best_weights is not None and self.model is not None:
            self.model.load_state_dict(self.best_weights)


def _fmt(logs: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in logs.items())


class ProgressBar(Callback):
    """Per-epoch progress: on a terminal one line redrawn in place; otherwise one summary line per epoch."""

    width = 24
    interval = 0.1  # seconds between redraws on a terminal

    def __init__(self, stream: TextIO | None = None):
        import sys

        self.stream = stream or sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())

    def on_train_begin(self, logs):
        self.epochs = self.history.params.get("epochs") if self.history is not None else None
        self.steps = self.history.params.get("steps") if self.history is not None else None

    def on_epoch_begin(self, epoch, logs):
        self.t0 = time.perf_counter()
        self.last_draw = -math.inf
        self.last_len = 0
        self.epoch = epoch

    def _prefix(self) -> str:
        total = f"/{self.epochs}" if self.epochs else ""
        return f"Epoch {self.epoch + 1}{total}"

    def _write_line(self, text: str, final: bool) -> None:
        if not final:  # a line longer than the terminal would wrap, and '\r' could not redraw it
            width = shutil.get_terminal_size((100, 20)).columns - 1
            text = text[:width]
        pad = max(0, self.last_len - len(text))
        self.stream.write("\r" + text + " " * pad + ("\n" if final else ""))
        self.stream.flush()
        self.last_len = len(text)

    def on_batch_end(self, batch, logs):
        if not self.tty:
            return
        now = time.perf_counter()
        done = batch + 1
        if now - self.last_draw < self.interval and done != self.steps:
            return
        self.last_draw = now
        if self.steps:
            filled = int(self.width * done / self.steps)
            bar = "[" + "=" * max(filled - 1, 0) + (">" if filled < self.width else "=") * (filled > 0)
            bar = bar.ljust(self.width + 1, ".") + "]"
            count = f"{done}/{self.steps}"
        else:
            bar, count = "", f"{done}"
        self._write_line(f"{self._prefix()} {bar} {count}  {now - self.t0:.1f}s  {_fmt(logs)}", final=False)

    def close(self) -> None:
        """Finish a half-drawn line (training was interrupted)."""
        if self.tty and getattr(self, "last_len", 0):
            self.stream.write("\n")
            self.stream.flush()
            self.last_len = 0

    def on_epoch_end(self, epoch, logs):
        elapsed = time.perf_counter() - self.t0
        if self.tty:
            steps = f"{self.steps}/{self.steps}" if self.steps else ""
            bar = "[" + "=" * self.width + "]" if self.steps else ""
            self._write_line(f"{self._prefix()} {bar} {steps}  {elapsed:.1f}s  {_fmt(logs)}", final=True)
            self.last_len = 0
        else:
            self.stream.write(f"{self._prefix()}  {elapsed:.1f}s  {_fmt(logs)}\n")
            self.stream.flush()
