"""Findings of a user review of nn: each test pins one behaviour a student or researcher relies on."""
from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn


def test_repr_of_a_model_holding_prelu():
    # PReLU.num_parameters is an int attribute (PyTorch's name); the parameter count must not call it
    m = nn.Sequential(nn.Linear(3, 4), nn.PReLU(), nn.Linear(4, 1))
    text = repr(m)
    assert "(1): PReLU(num_parameters=1)  # 1 param\n" in text
    assert text.endswith(f")  # {3 * 4 + 4 + 1 + 4 + 1} params in total")


def test_wrong_feature_count_names_the_layer_and_its_path():
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(5, 2)))
    with pytest.raises(ValueError, match=r"Linear\(in_features=5, out_features=2, bias=True\): input of shape "
                                         r"\(2, 4\) has last dimension 4, expected in_features=5") as info:
        m(ag.randn(2, 3))
    assert info.value.__notes__ == [
        "raised inside Sequential → (2): Sequential → (0): Linear(in_features=5, out_features=2, bias=True)"]


def test_module_path_note_is_added_once_per_call_chain():
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError) as info:
        lin(np.ones((1, 4), dtype=np.float32))
    assert info.value.__notes__ == ["raised inside Linear(in_features=3, out_features=2, bias=True)"]


def test_history_plot_displays_in_jupyter_without_pyplot():
    # a bare matplotlib Figure shows only '<Figure size ...>' unless pyplot's inline backend is active
    pytest.importorskip("matplotlib")
    formatters = pytest.importorskip("IPython.core.formatters")
    h = nn.History()
    h._append(0, {"loss": 1.0, "val_loss": 1.5})
    h._append(1, {"loss": 0.5, "val_loss": 0.75})
    fig = h.plot()
    png = formatters.PNGFormatter()(fig)
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), [1.5, 0.75])


def _layer_pairs(torch):
    tnn = torch.nn
    return [
        (nn.Linear(3, 4), tnn.Linear(3, 4)),
        (nn.Linear(3, 4, bias=False), tnn.Linear(3, 4, bias=False)),
        (nn.BatchNorm1d(4), tnn.BatchNorm1d(4)),
        (nn.BatchNorm1d(4, affine=False), tnn.BatchNorm1d(4, affine=False)),
        (nn.BatchNorm1d(4, track_running_stats=False), tnn.BatchNorm1d(4, track_running_stats=False)),
        (nn.BatchNorm2d(4), tnn.BatchNorm2d(4)),
        (nn.LayerNorm(4), tnn.LayerNorm(4)),
        (nn.LayerNorm((2, 3), elementwise_affine=False), tnn.LayerNorm((2, 3), elementwise_affine=False)),
        (nn.Embedding(5, 2), tnn.Embedding(5, 2)),
        (nn.PReLU(3), tnn.PReLU(3)),
        (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm1d(3)),
         tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Dropout(0.1), tnn.BatchNorm1d(3))),
    ]


def test_state_dict_keys_shapes_dtypes_match_pytorch_and_load_key_for_key():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    for ours, theirs in _layer_pairs(torch):
        mine, ref = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(ref), type(ours).__name__
        for key, value in ref.items():
            arr = value.numpy()
            assert mine[key].shape == arr.shape and mine[key].dtype == arr.dtype, (type(ours).__name__, key)
        ours.load_state_dict({k: v.numpy() for k, v in ref.items()})
        for key, value in ours.state_dict().items():
            np.testing.assert_array_equal(value, ref[key].numpy())
    bn = nn.BatchNorm1d(2)
    assert bn.state_dict()["num_batches_tracked"].dtype == np.int64  # PyTorch's torch.long


def test_fit_with_scheduler_and_early_stopping_on_val_accuracy():
    import nn.functional as F
    from nn import optim
    from nn.data import DataLoader, TensorDataset

    ag.manual_seed(0)
    x = ag.randn(120, 3)
    y = (x[:, 0] > 0).astype("int64")
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
    opt = optim.SGD(model.parameters(), lr=0.2)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    stop = nn.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)
    assert stop.mode == "max"  # auto: an accuracy improves upwards
    h = nn.fit(model, F.cross_entropy, opt, DataLoader(TensorDataset(x[:90], y[:90]), batch_size=30),
               (x[90:], y[90:]), epochs=30, metrics=["accuracy"], scheduler=sched, callbacks=[stop], progress=False)
    acc = h["val_accuracy"]
    best = int(np.argmax(acc))  # first best epoch
    assert len(acc) == best + 1 + 2 < 30  # stopped exactly patience epochs after the best
    assert h["lr"] == [0.2 * 0.5 ** (e // 2) for e in range(len(acc))]
    # restored weights give the best epoch's validation accuracy again (dropout off in evaluation)
    again = nn.evaluate(model, F.cross_entropy, (x[90:], y[90:]), metrics=["accuracy"])
    assert again["accuracy"] == pytest.approx(acc[best])


def test_history_plot_shows_the_learning_rate_only_when_a_scheduler_changed_it():
    pytest.importorskip("matplotlib")
    h = nn.History()
    for e, lr in enumerate([0.1, 0.1, 0.05]):
        h._append(e, {"loss": 1.0 / (e + 1), "lr": lr})
    fig = h.plot()
    assert [ax.get_title() for ax in fig.axes] == ["loss", "lr"]
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), [0.1, 0.1, 0.05])
    flat = nn.History()
    for e in range(3):
        flat._append(e, {"loss": 1.0, "lr": 0.1})
    assert [ax.get_title() for ax in flat.plot().axes] == ["loss"]


def test_batchnorm_on_a_last_batch_of_one_suggests_drop_last():
    from nn.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(ag.randn(5, 3), ag.zeros(5)), batch_size=4)
    last = list(loader)[-1][0]
    assert last.shape == (1, 3)
    with pytest.raises(ValueError, match=r"got input shape \(1, 3\) \(a last batch of one sample\? pass "
                                         r"drop_last=True to the DataLoader\)") as info:
        nn.Sequential(nn.BatchNorm1d(3))(last)
    assert info.value.__notes__ == ["raised inside Sequential → (0): BatchNorm1d(3, eps=1e-05, momentum=0.1, "
                                    "affine=True, track_running_stats=True)"]
    assert [b[0].shape[0] for b in DataLoader(TensorDataset(ag.randn(5, 3), ag.zeros(5)), batch_size=4,
                                              drop_last=True)] == [4]
