"""erf: forward against the standard library's erf, dtype policy, first and second derivatives."""
import math

import numpy as np
import pytest

import autograd
from autograd import Tensor


def _reference_erf(x):
    return np.array([math.erf(v) for v in np.ravel(x)]).reshape(np.shape(x))


def test_erf_matches_math_erf_to_float64_precision():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-6, 6, 20000), rng.uniform(-0.5, 0.5, 5000),
                        np.logspace(-300, 1.5, 2000), -np.logspace(-300, 1.5, 2000),
                        [0.0, 0.46875, -0.46875, 4.0, -4.0, 26.0, 27.0, 1e-310]])
    got = autograd.erf(x).data
    ref = _reference_erf(x)
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 2e-15


def test_erf_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0])
    out = autograd.erf(x).data
    assert out[0] == 1.0 and out[1] == -1.0 and np.isnan(out[2])
    assert out[3] == 0.0 and math.copysign(1.0, out[4]) == -1.0


def test_erf_keeps_float32_and_method_matches_function():
    x = Tensor(np.linspace(-3, 3, 13, dtype=np.float32), requires_grad=True)
    y = x.erf()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, _reference_erf(x.data.astype(np.float64)), rtol=1e-6, atol=1e-7)
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, 2 / math.sqrt(math.pi) * np.exp(-x.data.astype(np.float64) ** 2),
                               rtol=1e-6)


def test_erf_accepts_python_scalars_and_lists():
    assert autograd.erf(0.5).dtype == autograd.get_default_dtype()
    np.testing.assert_allclose(autograd.erf([0.5, -1.0]).data, [math.erf(0.5), math.erf(-1.0)], rtol=1e-6)


@pytest.mark.parametrize("x0", [-2.5, -0.3, 0.0, 0.7, 3.0])
def test_erf_first_and_second_derivative(x0):
    x = Tensor(np.array(x0), requires_grad=True)
    y = autograd.erf(x)
    y.backward(create_graph=True)
    d1 = x.grad
    np.testing.assert_allclose(d1.data, 2 / math.sqrt(math.pi) * math.exp(-x0 * x0), rtol=1e-13)
    x.grad = None
    d1.backward()
    np.testing.assert_allclose(x.grad.data, -4 * x0 / math.sqrt(math.pi) * math.exp(-x0 * x0), rtol=1e-12,
                               atol=1e-15)
