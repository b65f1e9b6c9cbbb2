"""Operands, dtype= and astype refuse object/str/bytes/datetime/complex arrays with a TypeError naming the op;
integer and bool inputs to float functions compute in float; sizes must be ints."""
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor

BAD_ARRAYS = {
    "object": np.array([1.0, 2.0], dtype=object),
    "str": np.array(["a", "b"]),
    "bytes": np.array([b"a", b"b"]),
    "datetime": np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
    "complex": np.array([1j, 2j]),
}


@pytest.fixture(params=list(BAD_ARRAYS))
def bad(request):
    return BAD_ARRAYS[request.param]


def _x():
    return Tensor([1.0, 2.0], requires_grad=True)


@pytest.mark.parametrize("name, call", [
    ("add", lambda x, b: x + b), ("add", lambda x, b: b + x), ("multiply", lambda x, b: x * b),
    ("subtract", lambda x, b: ag.subtract(b, x)), ("divide", lambda x, b: x / b), ("power", lambda x, b: x ** b),
    ("maximum", lambda x, b: ag.maximum(x, b)), ("where", lambda x, b: ag.where(np.array([True, False]), x, b)),
    ("matmul", lambda x, b: ag.matmul(x, b)), ("concatenate", lambda x, b: ag.concatenate([x, b])),
    ("stack", lambda x, b: ag.stack([x, b])), ("einsum", lambda x, b: ag.einsum("i,i->", x, b)),
    ("max", lambda x, b: ag.max(b)), ("sum", lambda x, b: ag.sum(b)), ("mean", lambda x, b: ag.mean(b)),
    ("exp", lambda x, b: ag.exp(b)), ("reshape", lambda x, b: ag.reshape(b, (2, 1))),
    ("softmax", lambda x, b: ag.softmax(b)), ("getitem", lambda x, b: ag.getitem(b, 0)),
    ("tensor", lambda x, b: Tensor(b)), ("less", lambda x, b: x < b),
])
def test_every_ndarray_operand_of_an_unsupported_dtype_is_a_type_error_naming_the_op(bad, name, call):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning would mean the imaginary part was dropped
        with pytest.raises(TypeError, match=rf"^{name}: "):
            call(_x(), bad)


@pytest.mark.parametrize("dtype", [object, str, bytes, "datetime64[D]", complex, np.complex64])
@pytest.mark.parametrize("name, call", [
    ("tensor", lambda d: Tensor([1.0], dtype=d)), ("astype", lambda d: _x().astype(d)),
    ("astype", lambda d: ag.astype(np.ones(2), d)), ("zeros", lambda d: ag.zeros(2, dtype=d)),
    ("ones", lambda d: ag.ones(2, dtype=d)), ("full", lambda d: ag.full((2,), 1.0, dtype=d)),
    ("zeros_like", lambda d: ag.zeros_like(_x(), dtype=d)), ("rand", lambda d: ag.rand(2, dtype=d)),
    ("randn", lambda d: ag.randn(2, dtype=d)),
])
def test_dtype_arguments_of_an_unsupported_kind_are_a_type_error_naming_the_function(name, call, dtype):
    with pytest.raises(TypeError, match=rf"^{name}: "):
        call(dtype)


@pytest.mark.parametrize("call, name", [(lambda: ag.zeros(2, dtype="foo"), "zeros"),
                                        (lambda: ag.rand(2, dtype="foo"), "rand"),
                                        (lambda: ag.randn(2, dtype=None.__class__), "randn"),
                                        (lambda: _x().astype("foo"), "astype")])
def test_an_unknown_dtype_is_a_type_error_naming_the_function(call, name):
    with pytest.raises(TypeError, match=rf"^{name}: "):
        call()


def test_complex_values_are_refused_consistently():
    x = _x()
    with pytest.raises(TypeError, match="multiply"):
        x * np.array([1j, 2j])
    assert x.grad is None
    with pytest.raises(TypeError, match="^full: fill_value must be a real number"):
        ag.full((2,), 1j)
    with pytest.raises(TypeError, match="^full_like: fill_value"):
        ag.full_like(x, 1 + 2j)
    with pytest.raises(TypeError, match="complex"):
        Tensor(np.complex64(1j))


def test_object_operand_never_makes_an_object_tensor_with_a_grad_fn():
    with pytest.raises(TypeError, match="^add: an array of dtype object"):
        Tensor([1.0, 2.0], requires_grad=True) + np.array([1.0, 2.0], dtype=object)


# ----------------------------------------------------------------------------- int and bool into float functions


def test_sigmoid_of_unsigned_ints_computes_in_float():
    out = ag.sigmoid(np.array([200, 0], np.uint8))
    assert out.dtype.kind == "f"
    np.testing.assert_allclose(out.data, [1.0, 0.5])
    np.testing.assert_allclose(ag.sigmoid(Tensor([True, False])).data, [1 / (1 + np.exp(-1)), 0.5], rtol=1e-3)


@pytest.mark.parametrize("data", [[1000, 2000], np.array([1000, 2000], np.int32), np.array([3, 250], np.uint8)])
def test_logsumexp_and_log_softmax_of_ints_compute_in_float(data):
    a = np.asarray(data).astype(np.float64)
    m = a.max()
    lse = m + np.log(np.exp(a - m).sum())
    out = ag.logsumexp(Tensor(data))
    assert out.dtype.kind == "f"
    np.testing.assert_allclose(out.data, lse, rtol=1e-3)
    np.testing.assert_allclose(ag.log_softmax(Tensor(data)).data, a - lse, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ag.softmax(Tensor(data)).data, np.exp(a - lse), rtol=1e-3, atol=1e-6)


def test_logsumexp_of_bool_is_a_float():
    out = ag.logsumexp(Tensor([True, False]))
    assert out.dtype.kind == "f"
    np.testing.assert_allclose(out.data, np.log(np.e + 1), rtol=1e-3)


def test_abs_and_sign_of_bool():
    np.testing.assert_array_equal(ag.abs(Tensor([True, False])).data, np.abs(np.array([True, False])))
    with pytest.raises(TypeError, match="^sign: not defined for a tensor of dtype bool"):
        ag.sign(Tensor([True]))


# ----------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("name, call", [
    ("tile", lambda x: ag.tile(x, (1.5, 2))), ("tile", lambda x: ag.tile(x, ("2", 1))),
    ("tile", lambda x: ag.tile(x, 2.0)), ("pad", lambda x: ag.pad(x, 1.5)), ("pad", lambda x: ag.pad(x, "1")),
    ("pad", lambda x: ag.pad(x, [(1.0, 2)])), ("split", lambda x: ag.split(x, [1.5])),
    ("reshape", lambda x: ag.reshape(x, (2.0,))), ("zeros", lambda x: ag.zeros(2.5)),
])
def test_float_or_string_sizes_are_a_type_error_naming_the_function(name, call):
    with pytest.raises(TypeError, match=rf"^{name}: "):
        call(Tensor([1.0, 2.0]))


def test_int_sizes_still_work_like_numpy():
    x = np.arange(4.0).reshape(2, 2)
    np.testing.assert_array_equal(ag.tile(Tensor(x), (2, np.int64(1))).data, np.tile(x, (2, 1)))
    np.testing.assert_array_equal(ag.pad(Tensor(x), np.int32(1)).data, np.pad(x, 1))


# ----------------------------------------------------------------------------- messages


def test_numpy_messages_are_named_by_the_public_function():
    with pytest.raises(ValueError, match="^power: Integers to negative integer powers"):
        Tensor([2, 3]) ** -1
    with pytest.raises(ValueError, match="^getitem: slice step cannot be zero"):
        Tensor([1.0, 2.0])[::0]
    with pytest.raises(ValueError, match=r"^bool: the truth value of a tensor of shape \(2,\) is ambiguous"):
        bool(Tensor([1.0, 2.0]))
    assert bool(Tensor([1.0])) and not bool(Tensor(0.0))
    with pytest.raises(ValueError, match="^tensor: cannot make a tensor from nested sequences of different"):
        Tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="^register_hook: the hook must be callable"):
        Tensor([1.0], requires_grad=True).register_hook(5)


def test_softmax_of_an_empty_array_is_empty():
    assert ag.softmax(Tensor(np.zeros((0,)))).shape == (0,)
    assert ag.softmax(Tensor(np.zeros((2, 0)))).shape == (2, 0)


def test_function_apply_and_transforms_refuse_unsupported_arrays():
    from autograd.registry import _Cube

    for bad in (np.array([1.0], dtype=object), np.array([1j])):
        with pytest.raises(TypeError, match=r"^_Cube\.apply: an array of dtype"):
            _Cube.apply(bad)
        with pytest.raises(TypeError, match=r"^grad: cannot differentiate with respect to argument 0 of type "
                                            r"ndarray with dtype"):
            ag.grad(lambda t: t.sum())(bad)


def test_a_deprecated_dtype_alias_is_our_type_error_without_numpys_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy 2 warns that 'a' is deprecated; the refusal is ours alone
        with pytest.raises(TypeError, match="zeros: dtype .*S.* is not supported"):
            ag.zeros(3, dtype="a")
