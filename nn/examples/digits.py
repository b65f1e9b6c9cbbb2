"""The README demo: an MLP classifies scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes).

    python -m nn.examples.digits --out runs/demo

Standardises the 64 pixel features (statistics of the training rows only), holds out a stratified
20% test set and 10% of the rest for validation (``nn.data.random_split``), trains
``MLP([64, 256, 128, 10])`` with dropout using cross-entropy (label smoothing 0.1), AdamW and a cosine
learning-rate schedule, then reports test accuracy (>= 97%; a few seconds on 2 cores). Written under
``--out``: metrics.json, history.json, model.npz (``nn.save`` of the weights), curves.png (matplotlib)
and model.svg (the op graph grouped by module, from ``viz.draw_model``).
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

from ._common import (
    report,
    require_sklearn,
    single_thread_blas,
    standardise,
    write_curves,
    write_json,
    write_model_graph,
)

SIZES = [64, 256, 128, 10]


def load_data(seed: int = 0, test_size: float = 0.2) -> dict[str, np.ndarray]:
    """Digits split into standardised float32 train/test features and int64 labels (stratified, seeded)."""
    datasets = require_sklearn("digits")
    from sklearn.model_selection import train_test_split

    X, y = datasets.load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    X_train, X_test = standardise(X_train, X_test)
    return {"X_train": X_train, "y_train": y_train.astype(np.int64), "X_test": X_test,
            "y_test": y_test.astype(np.int64)}


def build_model() -> nn.Module:
    """The classifier: 64 pixels -> 256 -> 128 -> 10 class scores, ReLU and dropout 0.2 between layers."""
    return nn.MLP(SIZES, activation="relu", dropout=0.2)


def confusion_matrix(pred: np.ndarray, truth: np.ndarray, n: int = 10) -> list[list[int]]:
    """Counts of (true class, predicted class)."""
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (truth, pred), 1)
    return m.tolist()


def run(out_dir: str | Path | None = None, epochs: int = 40, seed: int = 0, batch_size: int = 32,
        progress: bool = True) -> dict[str, Any]:
    """Train and evaluate; write results under ``out_dir`` when given. Returns the metrics dict."""
    with single_thread_blas():
        return _run(out_dir, epochs, seed, batch_size, progress)


def _run(out_dir, epochs, seed, batch_size, progress) -> dict[str, Any]:
    ag.manual_seed(seed)
    data = load_data(seed)
    full = nn.data.TensorDataset(data["X_train"], data["y_train"])
    n_val = len(full) // 10
    train_set, val_set = nn.data.random_split(full, [len(full) - n_val, n_val])
    train_loader = nn.data.DataLoader(train_set, batch_size=batch_size, shuffle=True)
    val_loader = nn.data.DataLoader(val_set, batch_size=256)

    model = build_model()
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = nn.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if progress:
        print(f"Training MLP{SIZES} on digits: {len(train_set)} train / {len(val_set)} validation / "
              f"{len(data['y_test'])} test images, {epochs} epochs")
    t0 = time.perf_counter()
    history = nn.fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=epochs, metrics=["accuracy"],
                     progress=progress, scheduler=scheduler)
    seconds = time.perf_counter() - t0

    X_test, y_test = ag.Tensor(data["X_test"]), ag.Tensor(data["y_test"])
    test = nn.evaluate(model, loss_fn, (X_test, y_test), metrics=["accuracy"])
    model.eval()
    with ag.no_grad():
        pred = model(X_test).data.argmax(axis=1)
    metrics = {
        "dataset": "sklearn.datasets.load_digits", "model": f"MLP({SIZES}, relu, dropout=0.2)",
        "test_accuracy": test["accuracy"], "test_loss": test["loss"],
        "final_train_accuracy": history["accuracy"][-1], "final_val_accuracy": history["val_accuracy"][-1],
        "epochs": len(history), "train_seconds": round(seconds, 3), "seed": seed,
        "n_train": len(train_set), "n_val": len(val_set), "n_test": len(y_test),
        "parameters": int(sum(p.size for p in model.parameters())),
        "confusion_matrix": confusion_matrix(pred, data["y_test"]),
    }
    if progress:
        print(f"Test accuracy {metrics['test_accuracy']:.4f} (loss {metrics['test_loss']:.4f}) "
              f"after {seconds:.1f}s of training")
    if out_dir is not None:
        _write(Path(out_dir), model, history, metrics, X_test[:8], verbose=progress)
    return metrics


def _write(out: Path, model, history, metrics, example_input, verbose: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    written = {"metrics": write_json(out / "metrics.json", metrics),
               "history": write_json(out / "history.json", {"epoch": [e + 1 for e in history.epoch],
                                                            **history.history})}
    nn.save(model.state_dict(), out / "model.npz")
    written["weights"] = out / "model.npz"
    skipped = {}
    written["curves"], why = write_curves(history, out / "curves.png")
    if why:
        skipped["curves"] = why
    written["model graph"], why = write_model_graph(model, example_input, out / "model.svg")
    if why:
        skipped["model graph"] = why
    if verbose:
        report(out, written, skipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nn.examples.digits", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/digits", help="folder for the results (default: runs/digits)")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)

    run(args.out, epochs=args.epochs, seed=args.seed, progress=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
