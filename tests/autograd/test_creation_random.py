"""Creation functions (NumPy signatures, default float dtype) and the one seeded generator."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import Tensor


@pytest.fixture
def float64_default():
    ag.set_default_dtype(np.float64)
    yield
    ag.set_default_dtype(np.float32)


@pytest.mark.parametrize("fn, value", [(ag.zeros, 0.0), (ag.ones, 1.0)])
def test_zeros_ones_shape_forms_dtype_and_values(fn, value):
    for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
        assert isinstance(t, Tensor) and t.shape == (2, 3) and t.dtype == np.float32
        np.testing.assert_array_equal(t.data, np.full((2, 3), value))
        assert not t.requires_grad and t.is_leaf
    assert fn(4).shape == (4,) and fn().shape == () and fn(0, 2).shape == (0, 2)
    assert fn(2, dtype=np.int32).dtype == np.int32
    t = fn(2, requires_grad=True)
    assert t.requires_grad and t.grad is None


def test_default_dtype_is_followed(float64_default):
    for t in (ag.zeros(2), ag.ones(2), ag.full(2, 1.5), ag.eye(2), ag.linspace(0, 1, 3), ag.rand(2), ag.randn(2),
              ag.arange(0.0, 1.0, 0.5)):
        assert t.dtype == np.float64


def test_shape_errors():
    with pytest.raises(ValueError, match="zeros: negative dimension -1 in shape \\(2, -1\\)"):
        ag.zeros(2, -1)
    with pytest.raises(TypeError, match="ones: shape must be ints"):
        ag.ones(2.5)
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        ag.zeros(2, dtype=np.int64, requires_grad=True)


def test_full_and_like_functions():
    np.testing.assert_array_equal(ag.full((2, 2), 7).data, np.full((2, 2), 7.0))
    assert ag.full(3, 7).dtype == np.float32 and ag.full(3, 7, dtype=np.int64).dtype == np.int64
    x = Tensor(np.arange(6, dtype=np.float64).reshape(2, 3))
    z = ag.zeros_like(x)
    assert z.shape == (2, 3) and z.dtype == np.float64 and not z.data.any()
    o = ag.ones_like(np.zeros((4,), np.int32))
    assert o.dtype == np.int32 and o.data.tolist() == [1, 1, 1, 1]
    assert ag.ones_like([[1.0, 2.0]]).dtype == np.float32  # a list follows the dtype policy
    assert ag.zeros_like(x, dtype=np.float32).dtype == np.float32
    f = ag.full_like(x, 2.5, requires_grad=True)
    assert f.requires_grad and f.data.tolist() == [[2.5] * 3] * 2


def test_arange():
    a = ag.arange(5)
    assert a.dtype == np.int64 and a.data.tolist() == [0, 1, 2, 3, 4]
    assert ag.arange(2, 8, 3).data.tolist() == [2, 5]
    b = ag.arange(0, 1, 0.25)
    assert b.dtype == np.float32 and b.data.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert ag.arange(3, dtype=np.float64).dtype == np.float64
    assert ag.arange(3.0, requires_grad=True).requires_grad
    assert ag.arange(5, 0, -2).data.tolist() == [5, 3, 1]
    with pytest.raises(ValueError, match="step must not be zero"):
        ag.arange(0, 5, 0)
    with pytest.raises(TypeError, match="must be numbers"):
        ag.arange("5")


def test_linspace_and_eye():
    np.testing.assert_allclose(ag.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(ag.linspace(0, 1, 4, endpoint=False).data, [0, 0.25, 0.5, 0.75])
    assert ag.linspace(0, 1).shape == (50,)
    with pytest.raises(ValueError, match="num must be a non-negative int"):
        ag.linspace(0, 1, -1)
    np.testing.assert_array_equal(ag.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(ag.eye(2, 3, k=1).data, [[0, 1, 0], [0, 0, 1]])
    with pytest.raises(TypeError, match="eye: N must be an int"):
        ag.eye(2.0)


def test_rand_randn_randint_values_and_dtypes():
    ag.manual_seed(0)
    u = ag.rand(1000)
    assert u.dtype == np.float32 and u.data.min() >= 0 and u.data.max() < 1
    assert abs(u.data.mean() - 0.5) < 0.05
    n = ag.randn(2000, dtype=np.float64)
    assert n.dtype == np.float64 and abs(n.data.mean()) < 0.1 and abs(n.data.std() - 1) < 0.1
    assert ag.randn(2, 3).shape == (2, 3) and ag.rand((2, 3)).shape == (2, 3) and ag.rand().shape == ()
    assert ag.randn(2, requires_grad=True).requires_grad
    assert ag.rand(3, dtype=np.float16).dtype == np.float16
    with pytest.raises(TypeError, match="rand: dtype must be a floating dtype"):
        ag.rand(2, dtype=np.int64)
    r = ag.randint(3, 7, size=(100,))
    assert r.dtype == np.int64 and r.data.min() >= 3 and r.data.max() < 7 and set(r.data.tolist()) == {3, 4, 5, 6}
    assert ag.randint(2, size=5).data.max() < 2
    with pytest.raises(ValueError, match="high \\(3\\) must be greater than low \\(3\\)"):
        ag.randint(3, 3)


@given(st.integers(0, 2 ** 32))
def test_manual_seed_repeats_draws_and_matches_default_rng(seed):
    gen = ag.random.generator()
    ag.manual_seed(seed)
    assert ag.random.generator() is gen  # reseeded in place: references kept elsewhere stay valid
    first = (ag.randn(3, dtype=np.float64).data, ag.rand(2, dtype=np.float64).data, gen.integers(0, 100, 4))
    ag.manual_seed(seed)
    second = (ag.randn(3, dtype=np.float64).data, ag.rand(2, dtype=np.float64).data, gen.integers(0, 100, 4))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    ref = np.random.default_rng(seed)
    np.testing.assert_array_equal(first[0], ref.standard_normal(3))


def test_rng_state_roundtrip_and_seed_errors():
    ag.manual_seed(5)
    state = ag.get_rng_state()
    a = ag.rand(4).data
    ag.set_rng_state(state)
    np.testing.assert_array_equal(ag.rand(4).data, a)
    with pytest.raises(TypeError, match="seed must be an int"):
        ag.manual_seed(1.5)
    with pytest.raises(ValueError, match="non-negative"):
        ag.manual_seed(-1)
