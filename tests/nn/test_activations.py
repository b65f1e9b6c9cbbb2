"""Activations: F functions and modules against NumPy formulas, gradients by gradcheck, stability."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
import nn
import nn.functional as F

_erf = np.vectorize(math.erf)


def _np_sigmoid(x):
    return 0.5 * (1 + np.tanh(x / 2))  # exact identity, no overflow


def _np_softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


REFERENCES = {
    "relu": (F.relu, nn.ReLU(), lambda x: np.maximum(x, 0)),
    "leaky_relu": (F.leaky_relu, nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (F.elu, nn.ELU(), lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    "elu_2": (lambda x: F.elu(x, 2.0), nn.ELU(2.0), lambda x: np.where(x > 0, x, 2 * np.expm1(np.minimum(x, 0)))),
    "sigmoid": (F.sigmoid, nn.Sigmoid(), _np_sigmoid),
    "tanh": (F.tanh, nn.Tanh(), np.tanh),
    "softmax": (F.softmax, nn.Softmax(), lambda x: _np_softmax(x, -1)),
    "softmax_dim0": (lambda x: F.softmax(x, dim=0), nn.Softmax(dim=0), lambda x: _np_softmax(x, 0)),
    "log_softmax": (F.log_softmax, nn.LogSoftmax(), lambda x: np.log(_np_softmax(x, -1))),
    "log_softmax_dim0": (lambda x: F.log_softmax(x, 0), nn.LogSoftmax(0), lambda x: np.log(_np_softmax(x, 0))),
    "silu": (F.silu, nn.SiLU(), lambda x: x * _np_sigmoid(x)),
    "swish": (F.swish, nn.Swish(), lambda x: x * _np_sigmoid(x)),
    "swish_1.5": (lambda x: F.swish(x, 1.5), nn.Swish(1.5), lambda x: x * _np_sigmoid(1.5 * x)),
    "gelu": (F.gelu, nn.GELU(), lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), nn.GELU("tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    "gelu_sigmoid": (lambda x: F.gelu(x, approximate="sigmoid"), nn.GELU("sigmoid"),
                     lambda x: x * _np_sigmoid(1.702 * x)),
    "prelu": (lambda x: F.prelu(x, np.array([0.25])), nn.PReLU(dtype=np.float64),
              lambda x: np.where(x > 0, x, 0.25 * x)),
}


def _away_from_kinks(rng, shape):
    x = rng.normal(scale=2.0, size=shape)
    x[np.abs(x) < 1e-3] = 0.5
    return x


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_forward_matches_numpy_float64(name):
    fn, module, ref = REFERENCES[name]
    x = _away_from_kinks(np.random.default_rng(0), (4, 5))
    expected = ref(x)
    np.testing.assert_allclose(fn(ag.tensor(x)).data, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(module(x).data, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fn(x).data, expected, rtol=1e-12, atol=1e-14)  # ndarrays accepted


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_float32_stays_float32(name):
    fn, module, ref = REFERENCES[name]
    if name == "prelu":
        module = nn.PReLU()
        fn = module
    x = ag.tensor(_away_from_kinks(np.random.default_rng(1), (3, 4)).astype(np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, ref(x.data.astype(np.float64)), rtol=2e-5, atol=1e-6)
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_gradcheck(name):
    fn, _, _ = REFERENCES[name]
    x = ag.tensor(_away_from_kinks(np.random.default_rng(2), (3, 4)), requires_grad=True)
    assert ag.gradcheck(fn, [x])


@pytest.mark.parametrize("name", ["elu", "silu", "gelu", "gelu_tanh", "sigmoid", "tanh", "swish_1.5", "log_softmax"])
def test_gradgradcheck_smooth_activations(name):
    fn, _, _ = REFERENCES[name]
    x = ag.tensor(_away_from_kinks(np.random.default_rng(3), (2, 3)), requires_grad=True)
    assert ag.gradgradcheck(fn, [x])


def test_gradients_at_zero_match_pytorch_conventions():
    x = ag.tensor(np.zeros(1), requires_grad=True)
    for fn, expected in [(F.relu, 0.0), (F.leaky_relu, 0.01), (F.elu, 1.0), (lambda t: F.elu(t, 3.0), 3.0),
                         (F.gelu, 0.5), (F.silu, 0.5)]:
        x.grad = None
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad.data, [expected], rtol=1e-12)


def test_large_inputs_are_stable_and_gradients_finite():
    x = ag.tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        outs = {
            "sigmoid": F.sigmoid(x), "elu": F.elu(x), "silu": F.silu(x), "gelu": F.gelu(x),
            "gelu_tanh": F.gelu(x, approximate="tanh"), "softmax": F.softmax(x, 0), "log_softmax": F.log_softmax(x, 0),
        }
    np.testing.assert_allclose(outs["sigmoid"].data, [0.0, 1.9287498479639178e-22, 0.5, 1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(outs["elu"].data, [-1.0, -1.0, 0.0, 50.0, 1000.0])
    np.testing.assert_allclose(outs["gelu"].data, [0.0, 0.0, 0.0, 50.0, 1000.0], atol=1e-300)
    np.testing.assert_allclose(outs["log_softmax"].data[-1], 0.0, atol=1e-12)
    for name, out in outs.items():
        x.grad = None
        out.sum().backward()
        assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad.data)), name
    x.grad = None
    F.elu(x).sum().backward()  # the unused exp branch never overflows into a NaN gradient
    np.testing.assert_allclose(x.grad.data, [0.0, math.exp(-50), 1.0, 1.0, 1.0], rtol=1e-12)


@given(st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=8))
def test_tanh_is_two_sigmoid_2x_minus_one(values):
    x = np.array(values)
    np.testing.assert_allclose(F.tanh(x).data, 2 * F.sigmoid(2 * x).data - 1, atol=1e-12)


def test_prelu_per_channel_slopes_are_learned():
    m = nn.PReLU(num_parameters=3, init=0.1, dtype=np.float64)
    assert m.weight.shape == (3,) and np.all(m.weight.data == 0.1)
    assert list(m.state_dict()) == ["weight"]
    x = np.random.default_rng(4).normal(size=(2, 3, 4))
    m.weight.data[:] = [0.1, 0.2, 0.3]
    expected = np.where(x > 0, x, np.array([0.1, 0.2, 0.3])[None, :, None] * x)
    y = m(x)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(m.weight.grad.data, np.where(x > 0, 0, x).sum(axis=(0, 2)), rtol=1e-12)
    assert ag.gradcheck(lambda t, w: F.prelu(t, w), [ag.tensor(x, requires_grad=True),
                                                     ag.tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True)])
    with pytest.raises(ValueError, match="3 slopes but the input of shape \\(2, 4\\) has 4 channels"):
        m(np.ones((2, 4)))
    with pytest.raises(ValueError, match="positive integer"):
        nn.PReLU(0)


def test_swish_learnable_beta_gets_a_gradient():
    m = nn.Swish(beta=2.0, learnable=True, dtype=np.float64)
    assert [n for n, _ in m.named_parameters()] == ["beta"]
    x = np.array([-1.0, 0.5, 2.0])
    y = m(x)
    np.testing.assert_allclose(y.data, x * _np_sigmoid(2 * x), rtol=1e-12)
    y.sum().backward()
    s = _np_sigmoid(2 * x)
    np.testing.assert_allclose(m.beta.grad.data, [np.sum(x * x * s * (1 - s))], rtol=1e-12)
    assert repr(m) == "Swish(beta=2, learnable=True)"
    assert list(nn.Swish().parameters()) == []


def test_softmax_rows_sum_to_one_and_bad_dim():
    x = np.random.default_rng(5).normal(size=(3, 4, 5))
    for dim in (0, 1, 2, -1):
        np.testing.assert_allclose(F.softmax(x, dim=dim).data.sum(axis=dim), 1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="softmax: dim 3 is out of range"):
        F.softmax(x, dim=3)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="'none', 'tanh' or 'sigmoid', got 'erf'"):
        F.gelu(np.ones(2), approximate="erf")
    with pytest.raises(ValueError, match="'none', 'tanh' or 'sigmoid'"):
        nn.GELU("fast")


def test_module_reprs():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.PReLU()) == "PReLU(num_parameters=1)"


def test_activations_match_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = _away_from_kinks(np.random.default_rng(9), (3, 4, 2))
    w = np.array([0.1, 0.2, 0.3, 0.4])
    cases = [
        (F.relu, tf.relu), (F.leaky_relu, tf.leaky_relu), (lambda t: F.elu(t, 1.5), lambda t: tf.elu(t, 1.5)),
        (F.sigmoid, torch.sigmoid), (F.tanh, torch.tanh), (lambda t: F.softmax(t, 1), lambda t: tf.softmax(t, 1)),
        (lambda t: F.log_softmax(t, 1), lambda t: tf.log_softmax(t, 1)), (F.silu, tf.silu), (F.gelu, tf.gelu),
        (lambda t: F.gelu(t, "tanh"), lambda t: tf.gelu(t, approximate="tanh")),
        (lambda t: F.prelu(t, w), lambda t: tf.prelu(t, torch.from_numpy(w))),
    ]
    g = np.random.default_rng(10).normal(size=x.shape)
    for ours_fn, torch_fn in cases:
        xt = torch.tensor(x, requires_grad=True)
        ref = torch_fn(xt)
        ref.backward(torch.from_numpy(g))
        ours_x = ag.tensor(x, requires_grad=True)
        out = ours_fn(ours_x)
        out.backward(g)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ours_x.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-13)
