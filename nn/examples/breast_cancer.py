"""Seed T12's binary-classification pipeline, on scikit-learn's breast-cancer data (569 tumours, 30 features).

    python -m nn.examples.breast_cancer --out runs/breast_cancer

As in the seed (there: hotel cancellations): standardise the numeric features, then
BatchNorm -> Linear 256 ReLU -> BatchNorm -> Dropout 0.3 -> Linear 256 ReLU -> BatchNorm -> Dropout 0.3
-> Linear 1 sigmoid, trained with Adam on binary cross-entropy, tracking binary accuracy, batch 512,
up to 200 epochs with ``EarlyStopping(patience=5, min_delta=0.001, restore_best_weights=True)`` on
the validation loss; the loss/val_loss and accuracy curves come from the training history.
Test accuracy >= 95%. Written under ``--out``: metrics.json, history.json, curves.png.
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

from ._common import report, require_sklearn, single_thread_blas, standardise, write_curves, write_json


def load_data(seed: int = 0) -> dict[str, np.ndarray]:
    """Stratified 60/20/20 train/validation/test split; standardised float32 features, (N, 1) float32 targets."""
    datasets = require_sklearn("breast_cancer")
    from sklearn.model_selection import train_test_split

    X, y = datasets.load_breast_cancer(return_X_y=True)
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=0.25, stratify=y_rest,
                                                      random_state=seed)
    X_train, X_val, X_test = standardise(X_train, X_val, X_test)

    def col(v):
        return v.astype(np.float32).reshape(-1, 1)

    return {"X_train": X_train, "y_train": col(y_train), "X_val": X_val, "y_val": col(y_val),
            "X_test": X_test, "y_test": col(y_test)}


def build_model(n_features: int = 30) -> nn.Sequential:
    """The seed's network, layer for layer."""
    return nn.Sequential(
        nn.BatchNorm1d(n_features),
        nn.Linear(n_features, 256), nn.ReLU(),
        nn.BatchNorm1d(256),
        nn.Dropout(0.3),
        nn.Linear(256, 256), nn.ReLU(),
        nn.BatchNorm1d(256),
        nn.Dropout(0.3),
        nn.Linear(256, 1), nn.Sigmoid(),
    )


def run(out_dir: str | Path | None = None, max_epochs: int = 200, seed: int = 0, progress: bool = True
        ) -> dict[str, Any]:
    """Train with early stopping and evaluate; write results under ``out_dir`` when given. Returns the metrics."""
    with single_thread_blas():
        return _run(out_dir, max_epochs, seed, progress)


def _run(out_dir, max_epochs, seed, progress) -> dict[str, Any]:
    ag.manual_seed(seed)
    d = load_data(seed)
    train_loader = nn.data.DataLoader(nn.data.TensorDataset(d["X_train"], d["y_train"]), batch_size=512,
                                      shuffle=True)
    val_loader = nn.data.DataLoader(nn.data.TensorDataset(d["X_val"], d["y_val"]), batch_size=512)
    model = build_model(d["X_train"].shape[1])
    loss_fn = nn.BCELoss()
    optimizer = nn.optim.Adam(model.parameters())
    early = nn.EarlyStopping(monitor="val_loss", patience=5, min_delta=0.001, restore_best_weights=True)
    if progress:
        print(f"Training the T12 network on breast cancer: {len(d['y_train'])} train / {len(d['y_val'])} "
              f"validation / {len(d['y_test'])} test, up to {max_epochs} epochs with early stopping")
    t0 = time.perf_counter()
    history = nn.fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=max_epochs,
                     callbacks=[early], metrics=["binary_accuracy"], progress=progress)
    seconds = time.perf_counter() - t0
    test = nn.evaluate(model, loss_fn, (ag.Tensor(d["X_test"]), ag.Tensor(d["y_test"])),
                       metrics=["binary_accuracy"])
    metrics = {
        "dataset": "sklearn.datasets.load_breast_cancer", "test_accuracy": test["binary_accuracy"],
        "test_loss": test["loss"], "epochs_run": len(history),
        "stopped_epoch": None if early.stopped_epoch is None else early.stopped_epoch + 1,
        "best_epoch": None if early.best_epoch is None else early.best_epoch + 1, "best_val_loss": early.best,
        "train_seconds": round(seconds, 3), "seed": seed,
        "n_train": len(d["y_train"]), "n_val": len(d["y_val"]), "n_test": len(d["y_test"]),
    }
    if progress:
        print(f"Stopped after {metrics['epochs_run']} epochs (best val_loss {early.best:.4f} at epoch "
              f"{metrics['best_epoch']}, weights restored); test accuracy {metrics['test_accuracy']:.4f}")
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = {"metrics": write_json(out / "metrics.json", metrics),
                   "history": write_json(out / "history.json", {"epoch": [e + 1 for e in history.epoch],
                                                                **history.history})}
        skipped = {}
        written["curves"], why = write_curves(history, out / "curves.png")
        if why:
            skipped["curves"] = why
        if progress:
            report(out, written, skipped)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nn.examples.breast_cancer",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/breast_cancer", help="folder for the results")
    parser.add_argument("--epochs", type=int, default=200, help="maximum number of epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    run(args.out, max_epochs=args.epochs, seed=args.seed, progress=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
