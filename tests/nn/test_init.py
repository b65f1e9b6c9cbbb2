"""nn.init: gains, fan rules, distribution statistics on large tensors, bounds, orthogonality, sparsity."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn import init


def _param(*shape, dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


@pytest.fixture(autouse=True)
def _seed():
    ag.manual_seed(42)


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fan_in_and_fan_out_rules():
    assert init._calculate_fan_in_and_fan_out(_param(30, 20)) == (20, 30)
    assert init._calculate_fan_in_and_fan_out(_param(16, 8, 3, 3)) == (8 * 9, 16 * 9)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_param(5))


def test_simple_fills_keep_dtype_and_identity():
    p = _param(3, 4)
    assert init.constant_(p, 2.5) is p and np.all(p.data == 2.5) and p.dtype == np.float32
    init.ones_(p)
    assert np.all(p.data == 1)
    init.zeros_(p)
    assert np.all(p.data == 0)
    init.eye_(p)
    np.testing.assert_array_equal(p.data, np.eye(3, 4))
    arr = np.empty((2, 2))
    init.constant_(arr, 3.0)  # plain ndarrays are filled in place too
    assert np.all(arr == 3.0)


def test_no_graph_is_recorded():
    p = _param(10, 10)
    init.normal_(p)
    assert p.grad_fn is None and p.is_leaf and p.grad is None


def test_uniform_and_normal_statistics():
    p = _param(500, 400)
    init.uniform_(p, -2.0, 3.0)
    assert p.data.min() >= -2.0 and p.data.max() <= 3.0
    assert p.data.mean() == pytest.approx(0.5, abs=0.01)
    assert p.data.var() == pytest.approx(25 / 12, rel=0.01)
    init.normal_(p, mean=1.0, std=0.5)
    assert p.data.mean() == pytest.approx(1.0, abs=0.005)
    assert p.data.std() == pytest.approx(0.5, rel=0.01)


def _trunc_moments(mean, std, a, b):
    """Mean and variance of N(mean, std²) truncated to [a, b] (closed form)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
    z = cdf(beta) - cdf(alpha)
    m = mean + std * (phi(alpha) - phi(beta)) / z
    v = std ** 2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z - ((phi(alpha) - phi(beta)) / z) ** 2)
    return m, v


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, 0.0, 10.0),
                                          (0.0, 1.0, 4.0, 6.0), (0.0, 1.0, -0.01, 0.01)])
def test_trunc_normal_bounds_and_moments(mean, std, a, b):
    p = _param(400, 500, dtype=np.float64)
    init.trunc_normal_(p, mean=mean, std=std, a=a, b=b)
    assert p.data.min() >= a and p.data.max() <= b
    m, v = _trunc_moments(mean, std, a, b)
    assert p.data.mean() == pytest.approx(m, abs=0.01 * math.sqrt(v) + 1e-12)
    assert p.data.var() == pytest.approx(v, rel=0.02)


def test_trunc_normal_arguments():
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(_param(2, 2), a=1.0, b=-1.0)
    with pytest.raises(ValueError, match="std must be positive"):
        init.trunc_normal_(_param(2, 2), std=0.0)


def test_xavier_statistics():
    p = _param(300, 500)  # fan_in 500, fan_out 300
    init.xavier_uniform_(p, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 800)
    assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.99 * bound
    assert p.data.var() == pytest.approx(bound ** 2 / 3, rel=0.02)
    init.xavier_normal_(p)
    assert p.data.std() == pytest.approx(math.sqrt(2 / 800), rel=0.01)


def test_kaiming_statistics_and_modes():
    p = _param(200, 800)  # fan_in 800, fan_out 200
    init.kaiming_normal_(p, nonlinearity="relu")
    assert p.data.std() == pytest.approx(math.sqrt(2 / 800), rel=0.01)
    init.kaiming_normal_(p, mode="fan_out", nonlinearity="relu")
    assert p.data.std() == pytest.approx(math.sqrt(2 / 200), rel=0.01)
    init.kaiming_uniform_(p, a=math.sqrt(5))  # PyTorch's Linear default: bound 1/sqrt(fan_in)
    assert np.abs(p.data).max() <= 1 / math.sqrt(800) and np.abs(p.data).max() > 0.99 / math.sqrt(800)
    init.kaiming_uniform_(p, mode="fan_out", nonlinearity="tanh")
    bound = 5 / 3 * math.sqrt(3 / 200)
    assert p.data.var() == pytest.approx(bound ** 2 / 3, rel=0.02)
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(p, mode="fan_avg")


def test_conv_shaped_fans():
    w = _param(64, 32, 3, 3)
    init.kaiming_normal_(w, nonlinearity="relu")
    assert w.data.std() == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.02)


def test_sparse_zeroes_the_same_count_in_every_column():
    p = _param(100, 300)
    init.sparse_(p, sparsity=0.25, std=0.5)
    zeros_per_column = (p.data == 0).sum(axis=0)
    assert np.all(zeros_per_column == 25)
    nz = p.data[p.data != 0]
    assert nz.std() == pytest.approx(0.5, rel=0.02)
    # Different columns zero different rows.
    assert len({tuple(np.flatnonzero(p.data[:, j] == 0)) for j in range(20)}) > 1
    with pytest.raises(ValueError, match="only 2-D"):
        init.sparse_(_param(2, 2, 2), 0.1)


@pytest.mark.parametrize("shape", [(6, 6), (4, 10), (10, 4), (8, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    p = _param(*shape, dtype=np.float64)
    init.orthogonal_(p, gain=2.0)
    flat = p.data.reshape(shape[0], -1) / 2.0
    rows, cols = flat.shape
    if rows <= cols:
        np.testing.assert_allclose(flat @ flat.T, np.eye(rows), atol=1e-12)
    else:
        np.testing.assert_allclose(flat.T @ flat, np.eye(cols), atol=1e-12)


def test_dirac_preserves_channels():
    w = _param(4, 2, 3, 3)
    init.dirac_(w)
    assert w.data[0, 0, 1, 1] == 1 and w.data[1, 1, 1, 1] == 1 and w.data.sum() == 2


def test_repeatable_with_manual_seed_and_errors():
    a, b = _param(5, 5), _param(5, 5)
    ag.manual_seed(9)
    init.xavier_normal_(a)
    ag.manual_seed(9)
    init.xavier_normal_(b)
    np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(TypeError, match="Tensor or ndarray"):
        init.normal_([1.0, 2.0])
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(_param(2), 1.0, 0.0)
