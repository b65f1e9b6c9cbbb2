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
