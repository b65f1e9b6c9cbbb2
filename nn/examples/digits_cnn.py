"""A small CNN on scikit-learn's 8x8 handwritten digits (the MLP demo's data, as images).

    python -m nn.examples.digits_cnn [--epochs 30] [--out runs/cnn]

Same stratified 80/20 split as ``nn.examples.digits`` (seed 0), pixels scaled to [0, 1] as (N, 1, 8, 8).
Conv(1→32, 3, same) → BN → ReLU → Conv(32→32, 3, same) → BN → ReLU → MaxPool 2 → Conv(32→64, 3, same) →
BN → ReLU → MaxPool 2 → Flatten → Dropout 0.3 → Linear(256→10); AdamW, cosine schedule, batch 64, and
training images shifted by up to one pixel at random. Recorded (seed 0, 30 epochs, one BLAS thread, on a
2-core machine loaded by other jobs): test accuracy 99.44 % (358/360) in 41 s wall clock (18.6 s of CPU).
``--out`` writes metrics.json and filters.png (the first layer's 32 learned 3×3 filters).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
import nn

from ._common import require_sklearn, single_thread_blas, write_json


def load_images(seed: int = 0, test_size: float = 0.2) -> dict[str, np.ndarray]:
    """Digits as float32 (N, 1, 8, 8) images in [0, 1] and int64 labels, split as in ``nn.examples.digits``."""
    datasets = require_sklearn("digits_cnn")
    from sklearn.model_selection import train_test_split

    X, y = datasets.load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    return {"X_train": X_train, "y_train": y_train.astype(np.int64), "X_test": X_test,
            "y_test": y_test.astype(np.int64)}


def build_model(width: int = 32) -> nn.Module:
    """Three same convolutions with BatchNorm and ReLU, two 2×2 max pools, dropout and a linear head."""
    w = width
    return nn.Sequential(
        nn.Conv2d(1, w, 3, padding="same"), nn.BatchNorm2d(w), nn.ReLU(),
        nn.Conv2d(w, w, 3, padding="same"), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding="same"), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(2 * w * 4, 10))


def shift(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by a random offset in {-1, 0, 1}² (zeros shifted in), all at once."""
    n = images.shape[0]
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (8, 8), axis=(2, 3))  # (N, 1, 3, 3, 8, 8)
    dy, dx = rng.integers(0, 3, n), rng.integers(0, 3, n)
    return np.ascontiguousarray(windows[np.arange(n), :, dy, dx])


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of ``X`` classified as ``y`` (eval mode, no graph)."""
    model.eval()
    with ag.no_grad():
        pred = np.concatenate([model(ag.tensor(X[i:i + 256])).data.argmax(axis=1) for i in range(0, len(X), 256)])
    model.train()
    return float((pred == y).mean())


def run(out_dir: str | Path | None = None, epochs: int = 30, seed: int = 0, batch_size: int = 64,
        width: int = 32, progress: bool = True) -> dict[str, Any]:
    """Train and evaluate; returns the metrics (test accuracy, seconds, per-epoch loss)."""
    with single_thread_blas():
        return _run(out_dir, epochs, seed, batch_size, width, progress)


def _run(out_dir, epochs, seed, batch_size, width, progress) -> dict[str, Any]:
    ag.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = load_images(seed)
    model = build_model(width)
    optimizer = nn.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    steps = epochs * -(-len(data["X_train"]) // batch_size)
    schedule = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    loss_fn = nn.CrossEntropyLoss()
    start, losses = time.perf_counter(), []
    for epoch in range(epochs):
        order = rng.permutation(len(data["X_train"]))
        total = 0.0
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            x = ag.tensor(shift(data["X_train"][idx], rng))
            loss = loss_fn(model(x), ag.tensor(data["y_train"][idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        losses.append(total / len(order))
        if progress:
            print(f"epoch {epoch + 1:2d}/{epochs}  loss {losses[-1]:.4f}", file=sys.stderr)
    seconds = time.perf_counter() - start
    metrics = {"test_accuracy": accuracy(model, data["X_test"], data["y_test"]),
               "train_accuracy": accuracy(model, data["X_train"], data["y_train"]),
               "seconds": round(seconds, 1), "epochs": epochs, "train_loss": losses,
               "n_test": int(len(data["y_test"]))}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "metrics.json", metrics)
        _plot_filters(model[0].weight.data, out / "filters.png")
    metrics["model"] = model
    return metrics


def _plot_filters(weights: np.ndarray, path: Path) -> None:
    """The first layer's filters as a grid of small grey images (skipped without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    n = weights.shape[0]
    cols = 8
    fig, axes = plt.subplots(-(-n // cols), cols, figsize=(cols, -(-n // cols)))
    for ax, w in zip(axes.flat, weights[:, 0]):
        ax.imshow(w, cmap="gray")
        ax.axis("off")
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder for metrics.json and filters.png")
    args = parser.parse_args(argv)
    m = run(args.out, epochs=args.epochs, seed=args.seed)
    print(f"test accuracy {m['test_accuracy']:.2%} ({round(m['test_accuracy'] * m['n_test'])}/{m['n_test']}) "
          f"in {m['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
