"""Tensor: construction and dtype policy, attributes, conversion, detach, operators, repr."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import Tensor


@pytest.fixture
def float64_default():
    ag.set_default_dtype(np.float64)
    yield
    ag.set_default_dtype(np.float32)


# ----------------------------------------------------------------------------- dtype policy


@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([[1, 2.5]], np.float32), ((1.0, 2.0), np.float32),
    (3, np.int64), ([1, 2], np.int64), (True, np.bool_), ([True, False], np.bool_),
    (np.array([1, 2], dtype=np.int32), np.int32), (np.array([1.0]), np.float64),
    (np.array([1.0], dtype=np.float16), np.float16), (np.float64(2.0), np.float64), (np.float32(2.0), np.float32),
])
def test_dtype_policy(data, dtype):
    t = Tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, np.asarray(data))


def test_tensor_function_is_the_constructor():
    t = ag.tensor([1.0, 2.0], requires_grad=True, name="w")
    assert isinstance(t, Tensor) and t.requires_grad and t.name == "w" and t.dtype == np.float32


def test_default_dtype_switch(float64_default):
    assert ag.get_default_dtype() == np.float64
    assert Tensor(1.5).dtype == np.float64 and Tensor([1, 2]).dtype == np.int64
    assert (Tensor([1.0]) * 2.0).dtype == np.float64


def test_set_default_dtype_rejects_non_float():
    with pytest.raises(TypeError, match="floating dtype, got int32"):
        ag.set_default_dtype(np.int32)
    assert ag.get_default_dtype() == np.float32


def test_explicit_dtype_and_ndarray_kept_without_copy():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    a = np.array([1.0, 2.0])
    assert Tensor(a).data is a


def test_invalid_data_raises_type_error():
    for bad in ("abc", [None], [1 + 2j], np.array(["a"]), {"a": 1}):
        with pytest.raises(TypeError, match="tensor: "):
            Tensor(bad)


def test_requires_grad_on_int_or_bool_tensor_raises_type_error():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got int64"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="got bool"):
        Tensor([True]).requires_grad_()


def test_python_scalars_are_weak_in_binary_ops():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    for y in (x * 2.0, 2.0 * x, x + 1, x / 3.0, x - 0.5, 1.5 - x, x ** 2.0, 2.0 ** x, 1 / x):
        assert y.dtype == np.float32
    assert (Tensor([1, 2]) * 2).dtype == np.int64
    assert (Tensor([1, 2]) * 0.5).dtype == np.float64  # NumPy: int array * Python float


# ----------------------------------------------------------------------------- attributes and conversion


def test_attributes():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.float64
    assert x.is_leaf and x.grad is None and x.grad_fn is None and x.name == "x"
    np.testing.assert_array_equal(x.T.data, x.data.T)
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn.name == "multiply"
    y.name = "y"
    assert y.name == "y" and y.grad_fn.output_name(0) == "y"


def test_conversions():
    x = Tensor(np.array([[1.5, 2.5]]))
    assert x.numpy() is x.data
    assert x.tolist() == [[1.5, 2.5]]
    assert Tensor([4.0]).item() == 4.0 and isinstance(Tensor([4.0]).item(), float)
    assert float(Tensor(2.5)) == 2.5 and int(Tensor(3)) == 3 and bool(Tensor(1.0))
    assert len(x) == 1 and [r.shape for r in Tensor(np.zeros((3, 2)))] == [(2,)] * 3
    np.testing.assert_array_equal(np.asarray(x), x.data)
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    assert [10, 20, 30][Tensor(1)] == 20
    with pytest.raises(ValueError, match="only one-element tensors.*shape \\(1, 2\\)"):
        x.item()
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(Tensor(1.0))
    with pytest.raises(TypeError, match="only integer tensors"):
        [1, 2][Tensor(1.0)]


def test_detach_shares_data_and_cuts_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.data, y.data)
    z = (d * x).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # no gradient through d


def test_requires_grad_():
    x = Tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="non-leaf"):
        (Tensor([1.0], requires_grad=True) * 2).requires_grad_(False)


def test_retain_grad_on_leaf_is_noop_and_requires_grad():
    x = Tensor([1.0], requires_grad=True)
    x.retain_grad()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).retain_grad()


def test_identity_hash_and_elementwise_eq():
    x = Tensor([1.0, 2.0])
    assert {x: "v"}[x] == "v"
    eq = x == Tensor([1.0, 3.0])
    assert isinstance(eq, Tensor) and eq.dtype == np.bool_ and eq.tolist() == [True, False]


# ----------------------------------------------------------------------------- operators


def test_operators_values_and_reflected_forms():
    a = Tensor(np.array([1.0, 2.0, 4.0]))
    b = np.array([2.0, 4.0, 8.0])
    cases = [(a + b, a.data + b), (b + a, b + a.data), (a - b, a.data - b), (b - a, b - a.data),
             (a * b, a.data * b), (a / b, a.data / b), (b / a, b / a.data), (a ** 2, a.data ** 2),
             (2 ** a, 2 ** a.data), (a // 3, a.data // 3), (7 // a, 7 // a.data), (-a, -a.data), (+a, a.data),
             (abs(-a), a.data), (a @ b, a.data @ b), (b @ a, b @ a.data)]
    for got, want in cases:
        assert isinstance(got, Tensor)
        np.testing.assert_allclose(got.data, want)


def test_comparisons_are_boolean_and_carry_no_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for got, want in [(x < 2, [True, False, False]), (x <= 2, [True, True, False]), (x > 2, [False, False, True]),
                      (x >= 2, [False, True, True]), (x == 2, [False, True, False]), (x != 2, [True, False, True])]:
        assert got.dtype == np.bool_ and not got.requires_grad and got.grad_fn is None
        assert got.tolist() == want


def test_floor_divide_has_no_gradient():
    x = Tensor([3.0, 7.0], requires_grad=True)
    assert not (x // 2).requires_grad


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=3), elements=st.floats(-3, 3)))
def test_property_sum_of_products_gradient(a):
    x = Tensor(a.copy(), requires_grad=True)
    ((x * x).sum() + (x * 3.0).sum()).backward()
    np.testing.assert_allclose(x.grad.data, 2 * a + 3)


# ----------------------------------------------------------------------------- repr


def test_repr():
    assert repr(Tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(Tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(Tensor([1, 2])) == "tensor([1, 2], dtype=int64)"
    assert repr(Tensor(np.array([0.5]))) == "tensor([0.5], dtype=float64)"
    y = Tensor([1.0], requires_grad=True) * 2
    assert repr(y) == "tensor([2.], grad_fn=<multiply>)"
    y.name = "y"
    assert repr(y) == "tensor([2.], grad_fn=<multiply>, name='y')"
    assert repr(Tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
