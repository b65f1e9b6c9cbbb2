"""The two real-data examples reach their accuracy targets and write their results (slow: they train)."""
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd as ag
import nn

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_digits_demo_reaches_97_percent_and_writes_results(tmp_path):
    from nn.examples import digits

    metrics = digits.run(tmp_path, progress=False)
    assert metrics["test_accuracy"] >= 0.97
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["test_accuracy"] == metrics["test_accuracy"] and saved["n_test"] == 360
    assert np.trace(np.array(saved["confusion_matrix"])) == round(saved["test_accuracy"] * 360)
    history = json.loads((tmp_path / "history.json").read_text())
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(history)
    assert history["epoch"] == list(range(1, 41)) and history["loss"][-1] < history["loss"][0]
    if pytest.importorskip("matplotlib"):
        assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    try:
        import viz
        has_viz = hasattr(viz, "draw_model")
    except ImportError:
        has_viz = False
    if has_viz:
        root = ET.fromstring((tmp_path / "model.svg").read_text())
        assert root.tag.endswith("svg")

    # the saved weights reload into a fresh model with the same test accuracy
    model = digits.build_model()
    model.load_state_dict(nn.load(tmp_path / "model.npz"))
    data = digits.load_data(0)
    res = nn.evaluate(model, nn.CrossEntropyLoss(label_smoothing=0.1),
                      (ag.Tensor(data["X_test"]), ag.Tensor(data["y_test"])), metrics=["accuracy"])
    assert res["accuracy"] == metrics["test_accuracy"]


def test_digits_cli_prints_where_results_went(tmp_path, capsys):
    from nn.examples import digits

    assert digits.main(["--out", str(tmp_path / "run"), "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "Test accuracy" in out and str(tmp_path / "run") in out
    for name in ("metrics.json", "history.json", "model.npz"):
        assert f"{tmp_path / 'run' / name}" in out and (tmp_path / "run" / name).exists()


@pytest.mark.slow
def test_breast_cancer_pipeline_reaches_95_percent_with_early_stopping(tmp_path):
    from nn.examples import breast_cancer

    metrics = breast_cancer.run(tmp_path, progress=False)
    assert metrics["test_accuracy"] >= 0.95
    assert metrics["epochs_run"] < 200 and metrics["stopped_epoch"] == metrics["epochs_run"]
    assert metrics["best_epoch"] == metrics["epochs_run"] - 5  # patience 5
    history = json.loads((tmp_path / "history.json").read_text())
    assert {"loss", "binary_accuracy", "val_loss", "val_binary_accuracy"} <= set(history)
    best = metrics["best_epoch"] - 1
    assert history["val_loss"][best] == pytest.approx(metrics["best_val_loss"])
    # later epochs may be a little lower, but never by more than min_delta = 0.001
    assert min(history["val_loss"][best:]) > metrics["best_val_loss"] - 0.001


def test_breast_cancer_model_is_the_seed_architecture():
    from nn.examples import breast_cancer

    model = breast_cancer.build_model(30)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["BatchNorm1d", "Linear", "ReLU", "BatchNorm1d", "Dropout", "Linear", "ReLU", "BatchNorm1d",
                     "Dropout", "Linear", "Sigmoid"]
    assert [m.out_features for m in model if isinstance(m, nn.Linear)] == [256, 256, 1]
    assert all(m.p == 0.3 for m in model if isinstance(m, nn.Dropout))
