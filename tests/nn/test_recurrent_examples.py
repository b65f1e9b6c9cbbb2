"""The recurrent examples on tiny configurations: their data are what they say, and a short run writes its
results (the recorded figures in the docstrings come from the full runs)."""
import json

import numpy as np
import pytest

import autograd as ag
from nn.examples import adding_problem, char_lm, window_vs_rnn


def test_adding_problem_batches_mark_one_value_in_each_half():
    x, y = adding_problem.make_batch(np.random.default_rng(0), 16, 10)
    assert x.shape == (10, 16, 2) and y.shape == (16, 1) and x.dtype == np.float32
    marks = x[..., 1]
    assert np.all(marks[:5].sum(axis=0) == 1) and np.all(marks[5:].sum(axis=0) == 1)
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * marks).sum(axis=0), rtol=1e-6)


def test_adding_problem_short_run_writes_metrics(tmp_path):
    metrics = adding_problem.run(tmp_path, steps=4, seq_len=10, progress=False)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert set(saved["models"]) == {"tanh RNN", "GRU", "LSTM (forget bias 1)", "LSTM (default init)"}
    for label, norms in saved["grad_norms_at_init"].items():
        assert len(norms) == 10 and norms[0] < norms[-1], label  # gradients shrink going back in time at init
    assert metrics["models"]["GRU"]["test_mse"] > 0


def test_lstm_forget_bias_is_set_in_bias_ih_only():
    ag.manual_seed(0)
    m = adding_problem.Model("LSTM", forget_bias=1.0)
    H = adding_problem.HIDDEN
    assert np.all(m.rnn.bias_ih_l0.data[H:2 * H] == 1.0)
    assert np.abs(m.rnn.bias_hh_l0.data).max() <= 1 / np.sqrt(H)


def test_windows_hold_the_last_three_bits():
    x = np.arange(1, 6, dtype=np.float32)[:, None]  # one sequence 1..5
    w = window_vs_rnn.windows(x)
    np.testing.assert_array_equal(w[:, 0], [[0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
    xb, yb = window_vs_rnn.make_batch(np.random.default_rng(0), 4, 5)
    np.testing.assert_array_equal(yb[5:], xb[:-5])
    assert np.all(yb[:5] == -1)


@pytest.mark.slow
def test_window_cannot_reach_past_three_steps_but_an_rnn_can():
    r = window_vs_rnn.run(delays=(5,), steps=150)
    assert abs(r[5]["windowed"] - 0.5) < 0.03 and r[5]["rnn"] > 0.95


def test_char_lm_streams_and_a_short_run(tmp_path):
    ids = np.arange(10)
    np.testing.assert_array_equal(char_lm.streams(ids, 3), [[0, 3, 6], [1, 4, 7], [2, 5, 8]])
    text = char_lm.load_text()
    assert len(text) > 400_000 and set(text) <= {chr(c) for c in range(32, 127)} | {"\n"}
    m = char_lm.run(tmp_path, minutes=5, max_steps=3, hidden=16, sample_length=20, progress=False)
    assert m["steps"] == 3 and np.isfinite(m["val_loss_nats"])
    assert m["val_loss_nats"] < m["val_loss_nats_before"]
    for s in m["samples"].values():
        assert s.startswith("The ") and len(s) == 24
    assert (tmp_path / "samples.txt").read_text().count("temperature") == 3
