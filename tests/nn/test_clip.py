"""Gradient clipping (seed T11): total norm values, scaling, inf norm, clamping, errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from nn.utils import clip_grad_norm_, clip_grad_value_


def with_grads(*grads):
    ps = []
    for g in grads:
        p = ag.Tensor(np.zeros_like(g), requires_grad=True)
        p.grad = ag.Tensor(np.array(g, copy=True))
        ps.append(p)
    return ps


def test_norm_is_returned_and_gradients_rescaled():
    ps = with_grads(np.array([3.0, 0.0]), np.array([[0.0], [4.0]]))  # joint 2-norm 5
    total = clip_grad_norm_(ps, max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(ps[0].grad.data, [3.0 * coef, 0.0])
    np.testing.assert_allclose(ps[1].grad.data, [[0.0], [4.0 * coef]])
    joint = math.sqrt(sum((p.grad.data ** 2).sum() for p in ps))
    assert joint == pytest.approx(1.0, rel=1e-5)


def test_small_gradients_are_left_alone():
    ps = with_grads(np.array([0.3, 0.4]))
    assert clip_grad_norm_(ps, max_norm=1.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(ps[0].grad.data, [0.3, 0.4])


@pytest.mark.parametrize("norm_type", [1.0, 3.0, math.inf, "inf"])
def test_other_norms(norm_type):
    g1, g2 = np.array([1.0, -2.0]), np.array([3.0, -4.0, 0.5])
    ps = with_grads(g1, g2)
    total = clip_grad_norm_(ps, max_norm=0.5, norm_type=norm_type).item()
    both = np.concatenate([g1, g2])
    p = float(norm_type)
    expected = np.abs(both).max() if math.isinf(p) else (np.abs(both) ** p).sum() ** (1 / p)
    assert total == pytest.approx(expected)
    np.testing.assert_allclose(ps[1].grad.data, g2 * 0.5 / (expected + 1e-6))


@settings(max_examples=40, deadline=None)
@given(g=hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e3, 1e3)), max_norm=st.floats(0.01, 10))
def test_clipped_norm_never_exceeds_max(g, max_norm):
    ps = with_grads(g)
    total = clip_grad_norm_(ps, max_norm)
    assert total.item() == pytest.approx(np.linalg.norm(g), rel=1e-9, abs=1e-12)
    assert np.linalg.norm(ps[0].grad.data) <= max_norm * (1 + 1e-9) or np.linalg.norm(g) <= max_norm


def test_single_tensor_float32_and_missing_grads():
    p = ag.Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    p.grad = ag.Tensor(np.array([6.0, 8.0], dtype=np.float32))
    q = ag.Tensor(np.zeros(3), requires_grad=True)  # no grad: ignored
    total = clip_grad_norm_([p, q], 5.0)
    assert total.dtype == np.float32 and total.item() == pytest.approx(10.0)
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad.data, [3.0, 4.0], rtol=1e-5)
    assert clip_grad_norm_(q, 1.0).item() == 0.0


def test_nonfinite_norm():
    ps = with_grads(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)


def test_clip_value():
    ps = with_grads(np.array([-3.0, -0.5, 0.0, 0.7, 9.0]), np.array([[2.0, -2.0]]))
    assert clip_grad_value_(ps, 1.0) is None
    np.testing.assert_array_equal(ps[0].grad.data, [-1.0, -0.5, 0.0, 0.7, 1.0])
    np.testing.assert_array_equal(ps[1].grad.data, [[1.0, -1.0]])


@pytest.mark.parametrize("call", [lambda ps: clip_grad_norm_(ps, -1.0), lambda ps: clip_grad_norm_(ps, 1.0, 0),
                                  lambda ps: clip_grad_value_(ps, -0.1)])
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call(with_grads(np.array([1.0])))
    with pytest.raises(TypeError, match="Tensors"):
        clip_grad_value_([np.array([1.0])], 1.0)


def test_clipping_then_sgd_step_uses_clipped_gradient():
    from nn import optim

    w = ag.Tensor(np.array([0.0, 0.0]), requires_grad=True)
    loss = (w * ag.Tensor(np.array([30.0, 40.0]))).sum()
    loss.backward()
    clip_grad_norm_([w], 5.0)
    optim.SGD([w], lr=1.0).step()
    np.testing.assert_allclose(w.data, [-3.0, -4.0], rtol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_matches_pytorch_when_installed(norm_type):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    ps = with_grads(*grads)
    qs = []
    for g in grads:
        q = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        q.grad = torch.tensor(g.copy())
        qs.append(q)
    assert clip_grad_norm_(ps, 0.7, norm_type).item() == pytest.approx(
        torch.nn.utils.clip_grad_norm_(qs, 0.7, norm_type).item(), rel=1e-12)
    for p, q in zip(ps, qs):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)
