"""Shared helpers for the examples: data checks, standardisation, and writing results under one folder."""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np


def single_thread_blas():
    """Limit BLAS to one thread while the example trains (a context manager).

    Its matrices are tiny: extra BLAS threads only add synchronisation, and on a busy 2-core machine
    (e.g. tests running in parallel) spinning BLAS threads slow each product down a hundredfold.
    Uses threadpoolctl, which scikit-learn (needed for the data anyway) depends on.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def require_sklearn(example: str):
    """Import scikit-learn's datasets module or stop with an error naming the extra to install."""
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(f"the {example} example needs scikit-learn for its data set: "
                          "pip install 'graphgrad[data]' (or pip install scikit-learn)") from None
    return datasets


def standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale features to zero mean and unit variance using the training rows' statistics only; float32."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0
    return [((a - mean) / std).astype(np.float32) for a in (train, *others)]


def write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj, indent=2) + "\n")
    return path


def write_curves(history, path: Path) -> tuple[Path | None, str | None]:
    """Save the loss/metric curves as PNG; returns (path, None) or (None, why it was skipped)."""
    try:
        fig = history.plot()
    except ImportError as e:
        return None, str(e)
    fig.savefig(path, dpi=110)
    return path, None


def write_model_graph(model, example_input, path: Path) -> tuple[Path | None, str | None]:
    """Draw the model's op graph grouped by module with ``viz.draw_model`` and save it as SVG."""
    try:
        import viz
    except ImportError as e:
        return None, f"the viz package is not importable ({e})"
    if not (hasattr(viz, "draw_model") and hasattr(viz, "to_svg")):
        return None, "this viz has no draw_model/to_svg yet"
    was_training = model.training
    model.eval()
    try:
        svg = viz.to_svg(viz.draw_model(model, example_input))
    except Exception as e:  # noqa: BLE001 -- results are already written: report the drawing problem, keep them
        return None, f"viz could not draw or render the model graph ({type(e).__name__}: {e})"
    finally:
        model.train(was_training)
    path.write_text(svg)
    return path, None


def report(out_dir: Path, written: dict[str, Path | None], skipped: dict[str, str], stream=None) -> None:
    """Print where every result went (and why anything was skipped)."""
    import sys

    stream = stream or sys.stdout
    stream.write(f"\nResults written to {os.path.abspath(out_dir)}:\n")
    for what, path in written.items():
        if path is not None:
            stream.write(f"  {what:<14} {path}\n")
    for what, why in skipped.items():
        stream.write(f"  {what:<14} skipped: {why}\n")
    stream.flush()
