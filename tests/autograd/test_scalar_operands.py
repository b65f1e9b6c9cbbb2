"""Python numbers meeting float Tensors are passed to NumPy as 0-d arrays of the Tensor's dtype (a faster path
for NumPy's ufuncs); the results must be exactly what NumPy's own weak scalar typing gives."""
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd.ops.base import constant_like, scalar_operand

NUMBERS = [1.01, 0.1, -0.0, 0.0, 3, -7, 2**40, 2**70, 1e300, -1e-320, float("inf"), float("nan")]
FLOATS = [np.float16, np.float32, np.float64]


def _same(ours, theirs):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


def _numpy_with_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, sorted(str(w.message) for w in caught)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide"])
def test_number_operands_give_numpys_values_dtypes_and_warnings(name, number, dtype):
    a = np.array([1.5, -2.0, 0.0, 3.25], dtype=dtype)
    ufunc = getattr(np, name)
    op = getattr(ag, name)
    for ours_fn, theirs_fn in [(lambda: op(ag.tensor(a), number), lambda: ufunc(a, number)),
                               (lambda: op(number, ag.tensor(a)), lambda: ufunc(number, a))]:
        theirs, their_warnings = _numpy_with_warnings(theirs_fn)
        ours, our_warnings = _numpy_with_warnings(lambda: ours_fn().numpy())
        _same(ours, theirs)
        assert our_warnings == their_warnings


def test_number_operand_gradients_stay_in_the_tensors_dtype():
    x = ag.tensor(np.array([0.5, -1.0], np.float32), requires_grad=True)
    y = (2.5 - x * 1.01) / 4
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.full(2, np.float32(-1.01) / np.float32(4), np.float32))
    # the second derivative of x * c is 0 and of c / x is 2c / x³, with c kept a constant
    second = ag.grad(lambda z: ag.grad(lambda w: (3.0 / w).sum())(z).sum())
    np.testing.assert_allclose(second(ag.tensor(np.array([2.0]))).numpy(), [2 * 3.0 / 8])
    assert np.all(ag.grad(lambda w: ag.grad(lambda v: (v * 1.01).sum())(w).sum())(ag.tensor([1.0, 2.0])).numpy() == 0)


def test_non_float_tensors_keep_numbers_as_numbers():
    i = ag.tensor(np.array([1, 2], np.int32))
    assert scalar_operand(3, i.dtype) == 3 and type(scalar_operand(3, i.dtype)) is int
    assert (i * 1.5).dtype == np.multiply(np.array([1, 2], np.int32), 1.5).dtype
    assert (i + 1).dtype == np.int32
    b = np.array([True, False])
    assert constant_like(0, b) == 0 and type(constant_like(0, b)) is int


def test_constant_like_is_a_read_only_zero_d_array_of_the_dtype():
    for dtype in FLOATS:
        one = constant_like(1, np.zeros(2, dtype))
        assert one.shape == () and one.dtype == dtype and one == 1
        assert constant_like(1, np.zeros(3, dtype)) is one  # made once per dtype
        with pytest.raises(ValueError):
            one[()] = 2
    t = ag.tensor(np.zeros(2, np.float32))
    assert constant_like(0, t).dtype == np.float32


def test_a_drawn_number_constant_reads_as_the_number():
    from viz._format import constant_text
    assert constant_text(np.array(2.0, np.float32), 4) == "2.0"
    assert constant_text(np.array(1.01, np.float32), 4) == "1.01"


def test_the_constant_tables_are_what_constant_like_gives():
    from autograd.ops.base import FLOAT_DTYPES, ONE, ZERO
    assert set(ONE) == set(ZERO) == set(FLOAT_DTYPES)
    for dtype in FLOAT_DTYPES:
        x = np.zeros(1, dtype)
        assert ONE[dtype] is constant_like(1, x) and ZERO[dtype] is constant_like(0, x)
    with pytest.raises(ValueError, match="constant_like: only 0 and 1"):
        constant_like(2, np.zeros(1))


def test_a_byte_swapped_float_array_gets_the_number_and_the_same_gradients():
    swapped = np.array([-2.0, 0.5, 3.0], dtype=">f8")
    assert constant_like(1, swapped) == 1 and type(constant_like(1, swapped)) is int
    native = swapped.astype("<f8")
    for fn in (ag.sigmoid, ag.tanh, ag.relu):
        xs, xn = ag.tensor(swapped, requires_grad=True), ag.tensor(native, requires_grad=True)
        fn(xs).sum().backward()
        fn(xn).sum().backward()
        np.testing.assert_array_equal(xs.grad.numpy(), xn.grad.numpy())
