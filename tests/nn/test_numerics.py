"""Numerically stable formulations: normalising a constant feature gives exactly 0, log_softmax/cross_entropy/
logsumexp keep float32 accuracy at |x| ≈ 1e4, and clip_grad_norm_ survives gradients of 1e200."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

rng = np.random.default_rng(0)


# ----------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize("value", [10000.1, -3.3, 1e-7, 123456.78, 0.0])
def test_layer_norm_of_a_constant_row_is_exactly_zero(value):
    ln = nn.LayerNorm(64)
    out = ln(np.full((3, 64), value, np.float32))
    assert out.dtype == np.float32
    assert np.all(out.data == 0)


@pytest.mark.parametrize("n", [3, 7, 32, 64])
def test_batch_norm_of_constant_columns_is_exactly_zero_and_running_stats_are_right(n):
    cols = np.array([1e4 + 0.1, -3.3, 7777.7], np.float32)
    x = np.tile(cols, (n, 1))
    bn = nn.BatchNorm1d(3)
    assert np.all(bn(x).data == 0)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * cols, rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.data, 0.9 * np.ones(3), rtol=1e-6)
    bn2 = nn.BatchNorm2d(2)
    assert np.all(bn2(np.full((2, 2, 3, 3), 5000.3, np.float32)).data == 0)


def test_normalisation_at_a_large_offset_matches_float64():
    x64 = 1e4 + rng.normal(size=(4, 32))
    x = x64.astype(np.float32)
    ref = (x.astype(np.float64) - x.astype(np.float64).mean(-1, keepdims=True)) / np.sqrt(
        x.astype(np.float64).var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(nn.LayerNorm(32)(x).data, ref, atol=2e-3)
    refb = (x.astype(np.float64) - x.astype(np.float64).mean(0)) / np.sqrt(x.astype(np.float64).var(0) + 1e-5)
    np.testing.assert_allclose(nn.BatchNorm1d(32)(x).data, refb, atol=2e-3)


def test_shifted_normalisation_keeps_exact_gradients():
    x = ag.tensor(rng.normal(size=(3, 5)) + 50, requires_grad=True)
    w = ag.tensor(rng.uniform(0.5, 1.5, size=5), requires_grad=True)
    assert ag.gradcheck(lambda t, w: F.layer_norm(t, 5, w), [x, w])
    assert ag.gradgradcheck(lambda t: F.layer_norm(t, 5), [x])
    assert ag.gradcheck(lambda t: F.batch_norm(t, None, None, training=True), [x])


# ----------------------------------------------------------------------------- log_softmax family


def _ref_log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(-1, keepdims=True)
    return (x - m) - np.log(np.exp(x - m).sum(-1, keepdims=True))


def _big_scores():
    return (1e4 + rng.normal(size=(8, 10)) * 3).astype(np.float32)


def test_log_softmax_in_float32_at_1e4_keeps_its_digits():
    x = _big_scores()
    out = ag.log_softmax(ag.Tensor(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, _ref_log_softmax(x), atol=2e-6 * 30, rtol=1e-6)
    np.testing.assert_allclose(F.log_softmax(x, dim=-1).data, _ref_log_softmax(x), atol=6e-5, rtol=1e-6)


def test_logsumexp_gradient_in_float32_at_1e4_is_the_exact_softmax():
    x = ag.Tensor(_big_scores(), requires_grad=True)
    ag.logsumexp(x, axis=-1).sum().backward()
    soft = np.exp(_ref_log_softmax(x.data))
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, soft, atol=1e-6, rtol=1e-5)  # was 3.4e-4 off


def test_cross_entropy_and_its_gradient_in_float32_at_1e4():
    x = ag.Tensor(_big_scores(), requires_grad=True)
    y = rng.integers(0, 10, size=8)
    loss = F.cross_entropy(x, y)
    logp = _ref_log_softmax(x.data)
    expected = -logp[np.arange(8), y].mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5)
    loss.backward()
    g = np.exp(logp)
    g[np.arange(8), y] -= 1
    np.testing.assert_allclose(x.grad.data, g / 8, atol=1e-7, rtol=1e-5)


def test_logsumexp_second_order_still_right():
    x = ag.tensor(rng.normal(size=(2, 4)) * 3, requires_grad=True)
    assert ag.gradgradcheck(lambda t: ag.logsumexp(t, axis=1), [x])
    assert ag.gradgradcheck(lambda t: ag.log_softmax(t, axis=0), [x])


# ----------------------------------------------------------------------------- clipping


def test_clip_grad_norm_with_gradients_of_1e200():
    a = ag.Tensor(np.zeros(3), requires_grad=True)
    b = ag.Tensor(np.zeros(4), requires_grad=True)
    a.grad, b.grad = ag.Tensor(np.full(3, 1e200)), ag.Tensor(np.full(4, -2e200))
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    expected = np.sqrt(3 * 1.0 + 4 * 4.0) * 1e200
    np.testing.assert_allclose(total.item(), expected, rtol=1e-12)
    np.testing.assert_allclose(a.grad.data, 1e200 / expected, rtol=1e-6)
    np.testing.assert_allclose(b.grad.data, -2e200 / expected, rtol=1e-6)
    assert np.all(np.isfinite(a.grad.data)) and np.all(a.grad.data != 0)


def test_clip_grad_norm_of_tiny_gradients_and_other_norms():
    a = ag.Tensor(np.zeros(2), requires_grad=True)
    a.grad = ag.Tensor(np.array([3e-200, 4e-200]))
    np.testing.assert_allclose(nn.utils.clip_grad_norm_([a], 1.0).item(), 5e-200, rtol=1e-12)
    a.grad = ag.Tensor(np.array([3e200, -4e200]))
    np.testing.assert_allclose(nn.utils.clip_grad_norm_([a], 1e300, norm_type=1).item(), 7e200, rtol=1e-12)
    np.testing.assert_allclose(nn.utils.clip_grad_norm_([a], 1e300, norm_type="inf").item(), 4e200, rtol=1e-12)
