"""Recurrent models stay legible when drawn: 50 time steps fold into one node or one "×50" cluster, and the
recurrent edge (a step feeding the next) is drawn; ‖∂L/∂h_t‖ per time step plots for several models."""
import numpy as np
import pytest

import autograd as ag
import nn
import viz
from nn.layers.unroll import unroll


class Head(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.rnn = getattr(nn, kind)(8, 16)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[-1])


def _loops(drawing):
    return [line for line in drawing.source.splitlines() if "->" in line and "dashed" in line]


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_fifty_steps_stay_small_with_the_recurrent_edge_drawn(kind):
    d = viz.draw_model(Head(kind), ag.randn(50, 2, 8))
    assert d.node_count <= 25  # 50 steps unrolled would be hundreds of nodes
    loops = _loops(d)
    assert len(loops) == 1
    if kind == "LSTM":  # one fused node for the whole layer; its loop over time is a self-edge
        assert "lstm_layer" in d.source and "h, c: step t−1 → t, ×50" in loops[0]
    elif kind == "GRU":
        assert "gru_layer" in d.source and "h: step t−1 → t, ×50" in loops[0]
    else:  # the steps fold into one cluster and the edge from one step to the next is drawn dashed
        assert "repeated ×50" in d.source and "(2, 16) next" in loops[0]
    assert viz.to_svg(d).lstrip().startswith("<")


class Unrolled(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 4)

    def forward(self, x):
        out, _ = unroll(self.rnn, x)
        return out[-1]


def test_an_unrolled_lstm_folds_its_fifty_cells():
    d = viz.draw_model(Unrolled(), ag.randn(50, 2, 3))
    assert d.node_count <= 25
    assert "repeated ×50" in d.source and "lstm_cell" in d.source
    assert len(_loops(d)) >= 1


def test_plot_gradient_norms_per_time_step():
    plots = pytest.importorskip("viz.plots")
    pytest.importorskip("matplotlib")
    series = {}
    for kind in ("RNN", "LSTM"):
        m = getattr(nn, kind)(2, 4, dtype=np.float64)
        _, states = unroll(m, ag.randn(6, 3, 2, dtype=np.float64))
        (states[-1] ** 2).sum().backward()
        series[kind] = [h.grad for h in states]
    fig = plots.plot_gradient_norms(series)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["RNN", "LSTM"]
    expected = [np.linalg.norm(g.data) for g in series["RNN"]]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), expected)
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), np.arange(1, 7))
    with pytest.raises(ValueError, match="retain_grad"):
        plots.plot_gradient_norms({"x": [None, None]})
