"""gradcheck / gradgradcheck: they pass correct gradients, catch wrong ones precisely, and leave inputs alone."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import GradcheckError, Tensor, gradcheck, gradgradcheck
from autograd.op import Op


def t64(a, requires_grad=True):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


class WrongSquare(Op):
    """x**2 with a backward off by a factor of 2 (g * x instead of 2 g x)."""

    name = "wrong_square"

    def forward(self, a):
        self.saved = (a,)
        return a * a

    def backward(self, g):
        return g * self.saved[0]


class SquareWrongSecondOrder(Op):
    """x**2 whose backward is right in value but built from a constant, so second order is wrong."""

    name = "square_const_backward"

    def forward(self, a):
        self.saved = (a.copy(),)  # a copy is never swapped for the input Tensor: backward sees a constant
        return a * a

    def backward(self, g):
        return g * (2 * self.saved[0])


def test_exported_names():
    assert ag.gradcheck is gradcheck and ag.gradgradcheck is gradgradcheck
    assert issubclass(ag.GradcheckError, AssertionError)


def test_passes_on_correct_gradients_with_several_inputs_and_outputs():
    rng = np.random.default_rng(0)
    a, b = t64(rng.standard_normal((3, 2))), t64(rng.standard_normal(2))
    assert gradcheck(lambda x, y: ((x * y).exp().sum(axis=0), x @ y), (a, b)) is True
    assert gradgradcheck(lambda x, y: ((x * y).exp().sum(axis=0), x @ y.sin()), (a, b)) is True


def test_catches_wrong_backward_and_names_input_and_element():
    x = t64([0.5, -1.0, 2.0])
    y = t64([1.0, 1.0, 1.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda p, q: q + WrongSquare.apply(p), (x, y))
    msg = str(info.value)
    assert "input 0" in msg and "shape (3,)" in msg
    # worst error |analytic - numeric| = |x| at x = 2.0, i.e. element 2: analytic 2, numeric 4
    assert "output element (2,), input element (2,)" in msg
    assert "analytic 2.0" in msg and "numeric 4.0" in msg
    assert "3 of 9 entries differ" in msg


def test_names_output_index_when_fn_has_several_outputs():
    x = t64([[1.0, 3.0]])
    with pytest.raises(GradcheckError, match=r"input 0 .*output 1 element \(0, 1\), input element \(0, 1\)"):
        gradcheck(lambda p: (p * 1.0, WrongSquare.apply(p)), (x,))


def test_gradgradcheck_catches_wrong_second_derivative_that_gradcheck_accepts():
    x = t64([0.3, -1.2])
    assert gradcheck(lambda p: SquareWrongSecondOrder.apply(p), (x,))
    with pytest.raises(GradcheckError, match="input 0"):
        gradgradcheck(lambda p: SquareWrongSecondOrder.apply(p), (x,))


def test_gradgradcheck_with_given_grad_outputs():
    x = t64([0.3, -1.2, 2.0])
    assert gradgradcheck(lambda p: p ** 3, (x,), grad_outputs=(np.array([1.0, 2.0, -1.0]),))
    with pytest.raises(ValueError, match="grad_outputs\\[0\\] has shape \\(2,\\) but output 0 has shape \\(3,\\)"):
        gradgradcheck(lambda p: p ** 3, (x,), grad_outputs=(np.ones(2),))
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        gradgradcheck(lambda p: p ** 3, (x,), grad_outputs=(np.ones(3), np.ones(3)))


def test_rejects_float32_inputs_that_require_grad():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="input 0 has dtype float32.*float64"):
        gradcheck(lambda p: p * 2, (x,))
    with pytest.raises(TypeError, match="float64"):
        gradgradcheck(lambda p: p * 2, (x,))
    # a float32 constant input is fine
    assert gradcheck(lambda p, c: p * c, (t64([1.0, 2.0]), Tensor(np.ones(2, dtype=np.float32))))


def test_leaves_user_inputs_untouched():
    data = np.array([0.5, 1.5])
    x = t64(data.copy())
    calls = []
    x.register_hook(lambda g: calls.append(g))
    assert gradcheck(lambda p: (p ** 2).sum(), (x,))
    assert gradgradcheck(lambda p: (p ** 2).sum(), (x,))
    assert x.grad is None and not calls
    np.testing.assert_array_equal(x.data, data)


def test_constant_and_non_tensor_inputs_are_passed_through():
    x = t64([1.0, 2.0])
    assert gradcheck(lambda p, k, c: p * k + c, (x, 3.0, t64([5.0, 6.0], requires_grad=False)))


def test_unused_input_and_output_independent_of_input():
    x, y = t64([1.0, 2.0]), t64([3.0])
    assert gradcheck(lambda p, q: p * 2, (x, y))  # q unused: zero Jacobian both ways
    assert gradcheck(lambda p: (p * 2, Tensor(np.ones(2))), (x,))


def test_single_tensor_instead_of_tuple_and_0d_input():
    assert gradcheck(lambda p: p.exp(), t64(0.3))


def test_argument_errors():
    with pytest.raises(ValueError, match="nothing to check"):
        gradcheck(lambda p: p * 2, (t64([1.0], requires_grad=False),))
    with pytest.raises(TypeError, match="output 0 is ndarray"):
        gradcheck(lambda p: p.data * 2, (t64([1.0]),))
    with pytest.raises(ValueError, match="eps must be positive"):
        gradcheck(lambda p: p * 2, (t64([1.0]),), eps=0)


def test_detects_nan_gradient_against_finite_numeric():
    class NanGrad(Op):
        name = "nan_grad"

        def forward(self, a):
            return a * 1.0

        def backward(self, g):
            return g * np.nan

    with pytest.raises(GradcheckError, match=r"analytic nan vs numeric 0\.99"):
        gradcheck(lambda p: NanGrad.apply(p), (t64([1.0]),))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-2, 2), min_size=1, max_size=4), st.sampled_from(["exp", "sin", "tanh", "sigmoid"]))
def test_property_elementwise_ops_pass_first_and_second_order(values, op):
    x = t64(values)
    fn = getattr(ag, op)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0.5, 2), min_size=2, max_size=4))
def test_property_wrong_backward_always_caught(values):
    with pytest.raises(GradcheckError):
        gradcheck(lambda p: WrongSquare.apply(p), (t64(values),))


def test_rejects_low_precision_outputs_and_handles_identity_and_empty():
    x = t64([1.0, 2.0])
    with pytest.raises(TypeError, match="output 0 has dtype float32"):
        gradcheck(lambda p: p.astype(np.float32) * 1.0, (x,))
    assert gradcheck(lambda p: p, (x,)) and gradgradcheck(lambda p: p, (x,))
    e = t64(np.zeros((0, 3)))
    assert gradcheck(lambda p: p.sum(axis=0), (e,)) and gradgradcheck(lambda p: (p * p).sum(axis=0), (e,))
