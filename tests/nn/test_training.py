"""nn.fit / evaluate / History / EarlyStopping / progress output, on tiny problems with values computed by hand."""
import io
import sys

import numpy as np
import pytest

import autograd as ag
import nn
from nn import optim
from nn.data import DataLoader, TensorDataset


def linear_data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X @ np.array([[2.0], [-1.0]]) + 0.5).astype(np.float64)
    return X, y


def linear_model(w=(0.0, 0.0), b=0.0):
    m = nn.Linear(2, 1, dtype=np.float64)
    m.weight.data[...] = np.array([w])
    m.bias.data[...] = b
    return m


def test_epoch_loss_is_the_sample_weighted_mean_over_unequal_batches():
    """With lr = 0 nothing changes, so the epoch loss is exactly the full-data MSE (batches of 5, 5, 2)."""
    X, y = linear_data(12)
    model = linear_model((0.3, -0.2), 0.1)
    h = nn.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), DataLoader(TensorDataset(X, y), 5),
               epochs=2, progress=False)
    pred = X @ np.array([[0.3], [-0.2]]) + 0.1
    expected = np.mean((pred - y) ** 2)
    assert h.history["loss"] == pytest.approx([expected, expected], rel=1e-12)
    assert h.epoch == [0, 1] and len(h) == 2 and list(h.history) == ["loss"]


def test_one_sgd_epoch_matches_the_hand_computation():
    """One full batch: logged loss is before the step; val_loss is the new weights on validation data."""
    X, y = linear_data(8)
    Xv, yv = linear_data(4, seed=1)
    model = linear_model()
    lr = 0.1
    h = nn.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr), DataLoader(TensorDataset(X, y), 8),
               val_loader=DataLoader(TensorDataset(Xv, yv), 3), epochs=1, progress=False)
    w, b = np.zeros((2, 1)), 0.0
    r = X @ w + b - y
    loss0 = np.mean(r ** 2)
    w = w - lr * (2 / len(X)) * X.T @ r
    b = b - lr * (2 / len(X)) * r.sum()
    val = np.mean((Xv @ w + b - yv) ** 2)
    assert h["loss"][0] == pytest.approx(loss0, rel=1e-12)
    assert h["val_loss"][0] == pytest.approx(val, rel=1e-12)
    np.testing.assert_allclose(model.weight.data, w.T, rtol=1e-12)


def test_loss_decreases_on_a_learnable_problem():
    ag.manual_seed(0)
    X, y = linear_data(64)
    model = nn.Linear(2, 1, dtype=np.float64)
    h = nn.fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.05),
               DataLoader(TensorDataset(X, y), 16, shuffle=True), epochs=60, progress=False)
    assert h["loss"][-1] < 0.01 * h["loss"][0]
    assert all(b <= a * 1.05 for a, b in zip(h["loss"][:10], h["loss"][1:11]))


def test_metrics_match_numpy_and_history_keys():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 4)).astype(np.float32)
    labels = rng.integers(0, 3, size=30)
    model = nn.Linear(4, 3)
    calls = []

    def mean_abs(out, target):
        calls.append(out.shape)
        return float(np.abs(out.data).mean())

    h = nn.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.0),
               DataLoader(TensorDataset(X, labels), 7), val_loader=(ag.Tensor(X), ag.Tensor(labels)),
               metrics=["accuracy", mean_abs], epochs=1, progress=False)
    assert list(h.history) == ["loss", "accuracy", "mean_abs", "val_loss", "val_accuracy", "val_mean_abs"]
    scores = X @ model.weight.data.T + model.bias.data
    acc = np.mean(scores.argmax(1) == labels)
    assert h["accuracy"][0] == pytest.approx(acc) and h["val_accuracy"][0] == pytest.approx(acc)
    assert h["val_mean_abs"][0] == pytest.approx(np.abs(scores).mean(), rel=1e-5)
    assert h["mean_abs"][0] == pytest.approx(np.abs(scores).mean(), rel=1e-5)  # batch means, size-weighted
    assert calls[0] == (7, 3)


def test_binary_accuracy_and_accuracy_functions():
    from nn.metrics import accuracy, binary_accuracy

    assert binary_accuracy(np.array([[0.9], [0.2], [0.51], [0.5]]), np.array([1.0, 0.0, 0.0, 0.0])) == (3, 4)
    assert accuracy(np.array([[1, 2, 0], [3, 0, 1]]), np.array([1, 1])) == (1, 2)
    assert accuracy(np.array([[1, 2, 0], [3, 0, 1]]), np.array([[0, 1, 0], [1, 0, 0]])) == (2, 2)  # one-hot
    with pytest.raises(ValueError, match="binary_accuracy"):
        accuracy(np.array([[0.3], [0.8]]), np.array([0, 1]))
    with pytest.raises(ValueError, match="one value per sample"):
        binary_accuracy(np.zeros((4, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="unknown metric"):
        nn.fit(nn.Linear(1, 1), nn.MSELoss(), optim.SGD(nn.Linear(1, 1).parameters()), [], metrics=["f1"])


class Spy(nn.Module):
    """Records the mode and grad mode each forward runs in."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 1, dtype=np.float64)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, ag.is_grad_enabled()))
        return self.lin(x)


def test_train_mode_for_training_eval_and_no_grad_for_validation():
    X, y = linear_data(6)
    spy = Spy()
    nn.fit(spy, nn.MSELoss(), optim.SGD(spy.parameters(), lr=0.01), DataLoader(TensorDataset(X, y), 3),
           val_loader=DataLoader(TensorDataset(X, y), 6), epochs=2, progress=False)
    assert spy.seen == [(True, True), (True, True), (False, False)] * 2
    assert spy.training  # left in training mode


class Recorder(nn.Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, logs):
        self.events.append("begin")

    def on_epoch_begin(self, epoch, logs):
        self.events.append(f"e{epoch}")

    def on_batch_end(self, batch, logs):
        self.events.append(f"b{batch}")

    def on_epoch_end(self, epoch, logs):
        self.events.append(f"end{epoch}:{sorted(logs)}")

    def on_train_end(self, logs):
        self.events.append("done")


def test_callback_order_context_and_stop_training():
    X, y = linear_data(4)
    model = linear_model()
    opt = optim.SGD(model.parameters(), lr=0.01)
    rec = Recorder()
    stopper = nn.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(stopper, "stop_training", epoch == 1))
    h = nn.fit(model, nn.MSELoss(), opt, DataLoader(TensorDataset(X, y), 2), epochs=5, callbacks=[rec, stopper],
               progress=False)
    assert rec.events == ["begin", "e0", "b0", "b1", "end0:['loss']", "e1", "b0", "b1", "end1:['loss']", "done"]
    assert rec.model is model and rec.optimizer is opt and rec.history is h and len(h) == 2


def test_scheduler_is_stepped_per_epoch_and_lr_logged():
    X, y = linear_data(4)
    model = linear_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    h = nn.fit(model, nn.MSELoss(), opt, DataLoader(TensorDataset(X, y), 4), epochs=5, scheduler=sched,
               progress=False)
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


# --------------------------------------------------------------------------- early stopping


class Weights:
    """A stand-in model: its 'weights' are the epoch number, so restoring is easy to see."""

    def __init__(self):
        self.w = np.array(-1.0)

    def state_dict(self):
        return {"w": self.w.copy()}

    def load_state_dict(self, sd):
        self.w = sd["w"].copy()


def drive(es, values, model=None):
    model = model or Weights()
    es._bind(model, None, None)
    es.on_train_begin({})
    for epoch, v in enumerate(values):
        model.w = np.array(float(epoch))
        es.on_epoch_end(epoch, {"val_loss": v, "val_accuracy": -v})
        if es.stop_training:
            break
    es.on_train_end({})
    return model


def test_early_stopping_patience_min_delta_and_restore():
    es = nn.EarlyStopping(patience=2, min_delta=0.001, restore_best_weights=True)
    model = drive(es, [5.0, 4.0, 4.5, 3.9995, 4.2, 1.0])
    assert es.stopped_epoch == 3 and es.best_epoch == 1 and es.best == 4.0
    assert model.w == 1.0  # weights of the best epoch are back


def test_early_stopping_patience_zero_and_no_restore():
    es = nn.EarlyStopping(patience=0)
    model = drive(es, [3.0, 2.0, 2.5, 1.0])
    assert es.stopped_epoch == 2 and model.w == 2.0


def test_early_stopping_max_mode_and_auto():
    es = nn.EarlyStopping(monitor="val_accuracy", patience=1)
    assert es.mode == "max"
    drive(es, [3.0, 2.0, 2.5, 2.4])  # accuracy -3, -2, -2.5, -2.4: best -2 at epoch 1, stop at 2
    assert es.best_epoch == 1 and es.stopped_epoch == 2
    assert nn.EarlyStopping(monitor="val_loss", mode="max").mode == "max"


def test_early_stopping_restores_at_the_end_even_without_stopping():
    es = nn.EarlyStopping(patience=10, restore_best_weights=True)
    model = drive(es, [3.0, 1.0, 2.0])
    assert es.stopped_epoch is None and model.w == 1.0


def test_early_stopping_errors():
    with pytest.raises(ValueError, match="mode"):
        nn.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience"):
        nn.EarlyStopping(patience=-1)
    es = nn.EarlyStopping()
    es._bind(Weights(), None, None)
    es.on_train_begin({})
    with pytest.raises(ValueError, match="val_loader"):
        es.on_epoch_end(0, {"loss": 1.0})


def test_fit_with_early_stopping_stops_and_restores_best_weights():
    """Train towards y = 2x - 1 while validating against y = -2x + 1: validation gets worse every epoch
    after the first, so training stops after `patience` more epochs and the epoch-0 weights come back."""
    x = np.linspace(-1, 1, 8).reshape(-1, 1)
    model = nn.Linear(1, 1, dtype=np.float64)
    model.weight.data[...] = 0.0
    model.bias.data[...] = 0.0
    snapshots = []
    snap = nn.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(model.weight.data.copy()))
    es = nn.EarlyStopping(patience=2, restore_best_weights=True)
    h = nn.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
               DataLoader(TensorDataset(x, 2 * x - 1), 8), val_loader=(ag.Tensor(x), ag.Tensor(-2 * x + 1)),
               epochs=50, callbacks=[snap, es], progress=False)
    assert len(h) == 3 and es.stopped_epoch == 2 and es.best_epoch == 0
    assert h["val_loss"][0] < h["val_loss"][1] < h["val_loss"][2]
    np.testing.assert_array_equal(model.weight.data, snapshots[0])
    assert not np.array_equal(snapshots[2], snapshots[0])


# --------------------------------------------------------------------------- progress output


def tiny_fit(progress, epochs=2):
    X, y = linear_data(6)
    model = linear_model()
    return nn.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), DataLoader(TensorDataset(X, y), 2),
                  val_loader=(ag.Tensor(X), ag.Tensor(y)), epochs=epochs, progress=progress)


def test_not_a_tty_prints_one_summary_line_per_epoch(capsys):
    h = tiny_fit(True, epochs=3)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "\r" not in "".join(lines)
    assert lines[0].startswith("Epoch 1/3") and f"loss {h['loss'][0]:.4f}" in lines[0]
    assert f"val_loss {h['val_loss'][2]:.4f}" in lines[2]


def test_progress_false_prints_nothing(capsys):
    tiny_fit(False)
    assert capsys.readouterr().out == ""


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_tty_redraws_one_line_per_epoch_in_place(monkeypatch):
    stream = FakeTTY()
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setattr(nn.ProgressBar, "interval", 0.0)
    tiny_fit(True, epochs=2)
    text = stream.getvalue()
    assert text.count("\n") == 2  # one finished line per epoch
    first = text.split("\n")[0]
    assert first.count("\r") == 4  # 3 batch redraws + the final epoch line
    assert "1/3" in first and "3/3" in first and "[" in first and "val_loss" in first.split("\r")[-1]


def test_interrupted_training_finishes_the_progress_line(monkeypatch):
    stream = FakeTTY()
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setattr(nn.ProgressBar, "interval", 0.0)
    X, y = linear_data(6)
    model = linear_model()

    def loss_fn(out, target):
        if len(loss_fn.calls) == 2:
            raise KeyboardInterrupt
        loss_fn.calls.append(1)
        return nn.functional.mse_loss(out, target)

    loss_fn.calls = []
    with pytest.raises(KeyboardInterrupt):
        nn.fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.01), DataLoader(TensorDataset(X, y), 2), epochs=2)
    text = stream.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1 and "2/3" in text


# --------------------------------------------------------------------------- History and errors


def test_history_plot_and_missing_matplotlib(monkeypatch):
    h = tiny_fit(False, epochs=3)
    fig = h.plot()
    assert len(fig.axes) == 1 and [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["loss",
                                                                                                   "val_loss"]
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), h["val_loss"])
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"graphgrad\[plot\]"):
        h.plot()
    with pytest.raises(KeyError, match="available"):
        h["accuracy"]


@pytest.mark.parametrize("kwargs, err, match", [
    ({"epochs": -1}, ValueError, "epochs"),
    ({"loss_fn": 3}, TypeError, "loss_fn"),
    ({"optimizer": object()}, TypeError, "optimizer"),
    ({"train_loader": 5}, TypeError, "train_loader"),
    ({"loss_fn": lambda out, t: (out - t) ** 2}, ValueError, "scalar"),
    ({"train_loader": [ag.Tensor(np.zeros((2, 2)))]}, TypeError, "inputs..., target"),
    ({"callbacks": [lambda: None]}, TypeError, "Callback"),
])
def test_fit_argument_errors(kwargs, err, match):
    X, y = linear_data(4)
    model = linear_model()
    args = {"model": model, "loss_fn": nn.MSELoss(), "optimizer": optim.SGD(model.parameters(), lr=0.1),
            "train_loader": DataLoader(TensorDataset(X, y), 2), "progress": False, **kwargs}
    with pytest.raises(err, match=match):
        nn.fit(**args)


def test_evaluate_restores_training_mode():
    X, y = linear_data(4)
    model = linear_model((1.0, 1.0))
    res = nn.evaluate(model, nn.MSELoss(), (ag.Tensor(X), ag.Tensor(y)))
    assert res["loss"] == pytest.approx(np.mean((X.sum(1, keepdims=True) - y) ** 2))
    assert model.training
