"""viz.plots: derivatives computed with autograd match closed forms; history, norms and heatmaps plot data."""
import numpy as np
import pytest

import autograd as ag
import nn
import viz

plots = pytest.importorskip("viz.plots")
pytest.importorskip("matplotlib")


def test_activation_derivatives_match_closed_forms():
    x = np.linspace(-4, 4, 81)
    fig = plots.plot_activations(["sigmoid", "tanh", "relu", "elu"], x=x)
    ax_f, ax_d = fig.axes
    funcs = {line.get_label(): line.get_ydata() for line in ax_f.lines}
    ders = {line.get_label(): line.get_ydata() for line in ax_d.lines}
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(funcs["sigmoid"], s, rtol=1e-6)
    np.testing.assert_allclose(ders["sigmoid'"], s * (1 - s), rtol=1e-6)
    np.testing.assert_allclose(ders["tanh'"], 1 - np.tanh(x) ** 2, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ders["relu'"], (x > 0).astype(float))
    np.testing.assert_allclose(ders["elu'"], np.where(x > 0, 1.0, np.exp(x)), rtol=1e-6)


def test_custom_activation_mapping_and_single_axes():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    fig = plots.plot_activations({"square": lambda t: t * t}, x=[-1.0, 0.0, 2.0], ax=ax)
    assert fig is ax.figure
    (_f, d) = ax.lines
    np.testing.assert_allclose(d.get_ydata(), [-2.0, 0.0, 4.0])
    with pytest.raises(ValueError, match="unknown activation"):
        plots.plot_activations(["nope"])


def test_history_from_dict_and_from_history_object():
    fig = plots.plot_history({"loss": [1.0, 0.5, 0.25], "val_loss": [1.2, 0.7, 0.5], "acc": [0.5, 0.7, 0.8]},
                             keys=["loss"])
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    assert set(lines) == {"loss", "val_loss", "best val_loss: epoch 3 (0.5)"}
    np.testing.assert_allclose(lines["val_loss"].get_ydata(), [1.2, 0.7, 0.5])
    np.testing.assert_allclose(lines["loss"].get_xdata(), [1, 2, 3])
    h = nn.History()
    h._append(0, {"loss": 2.0})
    h._append(1, {"loss": 1.0})
    fig = plots.plot_history(h)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [2.0, 1.0])
    with pytest.raises(KeyError, match="available"):
        plots.plot_history({"loss": [1.0]}, keys=["acc"])
    with pytest.raises(TypeError):
        plots.plot_history([1, 2])


def test_history_val_curves_have_their_own_colour_and_best_and_stopped_epochs_are_marked():
    """Defect: val_<key> was drawn in <key>'s colour, and nothing showed the best or the stopped epoch."""
    from matplotlib.colors import to_hex

    data = {"loss": [1.0, 0.6, 0.4, 0.3, 0.25], "val_loss": [1.1, 0.7, 0.65, 0.7, 0.8],
            "acc": [0.5, 0.6, 0.7, 0.8, 0.85], "val_acc": [0.5, 0.55, 0.66, 0.6, 0.58]}
    fig = plots.plot_history(data, keys=["loss", "acc"])
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    colours = [to_hex(lines[k].get_color()) for k in ("loss", "val_loss", "acc", "val_acc")]
    assert len(set(colours)) == 4
    star = lines["best val_loss: epoch 3 (0.65)"]
    assert list(star.get_xdata()) == [3] and list(star.get_ydata()) == [0.65]

    cb = nn.EarlyStopping(monitor="val_acc", patience=2)
    cb.on_train_begin({})
    for epoch in range(5):
        cb.on_epoch_end(epoch, {k: v[epoch] for k, v in data.items()})
        if cb.stop_training:
            break
    assert cb.stopped_epoch == 4  # 0-based: the fifth epoch
    fig = plots.plot_history(data, early_stopping=cb)
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    assert list(lines["best val_acc: epoch 3 (0.66)"].get_xdata()) == [3]  # highest accuracy
    assert list(lines["early stop: epoch 5"].get_xdata()) == [5, 5]


def test_weight_heat_maps_show_each_matrix():
    mlp = nn.MLP([3, 4, 1])
    fig = plots.plot_weights(mlp)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    np.testing.assert_array_equal(images[0].get_array(), mlp.linears[0].weight.data)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["x1", "x2", "x3"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["h1", "h2", "h3", "h4"]


def test_grad_norms_per_parameter_and_per_time_step():
    lin = nn.Linear(3, 2)
    x = ag.tensor(np.ones((4, 3), np.float32))
    lin(x).sum().backward()
    grads = {n: p.grad.data.copy() for n, p in lin.named_parameters()}
    fig = plots.plot_grad_norms(lin)
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    np.testing.assert_allclose(heights, [np.linalg.norm(grads["weight"]), np.linalg.norm(grads["bias"])], rtol=1e-6)
    for n, p in lin.named_parameters():
        np.testing.assert_array_equal(p.grad.data, grads[n])  # plotting reads, never changes
    steps = [np.full(2, 0.5 ** t) for t in range(5)]
    fig = plots.plot_grad_norms(steps)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [np.sqrt(2) * 0.5 ** t for t in range(5)])
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="backward"):
        plots.plot_grad_norms(nn.Linear(2, 2))


def test_attention_heatmap_per_head():
    w = np.random.default_rng(0).random((2, 3, 4))
    fig = plots.plot_attention(ag.tensor(w), x_labels=list("abcd"), y_labels=list("xyz"))
    heads = [ax for ax in fig.axes if ax.images]
    assert len(heads) == 2
    np.testing.assert_allclose(heads[1].images[0].get_array(), w[1])
    assert [t.get_text() for t in heads[0].get_xticklabels()] == list("abcd")
    with pytest.raises(ValueError, match="queries"):
        plots.plot_attention(np.ones(3))
    with pytest.raises(ValueError, match="x_labels"):
        plots.plot_attention(np.ones((2, 2)), x_labels=["a"])


def test_plots_is_reachable_as_an_attribute():
    assert viz.plots is plots


def test_plots_display_in_jupyter_without_pyplot():
    formatters = pytest.importorskip("IPython.core.formatters")
    fig = plots.plot_grad_norms({"0.weight": 1.0, "2.weight": 0.5})
    png = formatters.PNGFormatter()(fig)
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
