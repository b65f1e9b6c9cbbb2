"""autograd.testing: strategies respect shapes, dtypes and domains; check_gradients passes correct
functions and catches wrong first and second derivatives with a readable error."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Function, GradcheckError, Tensor, registry
from autograd.op import Op
from autograd.testing import broadcastable_shapes, check_gradients, domain, op_inputs, shapes, tensors


@given(shapes(min_ndim=1, max_ndim=3, max_side=4, max_size=20))
def test_shapes_respect_their_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(1 <= s <= 4 for s in shape) and int(np.prod(shape)) <= 20


@given(broadcastable_shapes(n=3))
def test_broadcastable_shapes_broadcast(shape_triple):
    assert len(shape_triple) == 3
    np.broadcast_shapes(*shape_triple)


@given(tensors(shape=(2, 3), dtype=np.float32, domain="positive"))
def test_tensors_with_fixed_shape_dtype_and_domain(x):
    assert isinstance(x, Tensor) and x.shape == (2, 3) and x.dtype == np.float32 and x.requires_grad
    assert np.all(x.data >= registry.POSITIVE.low - 1e-6) and np.all(x.data <= registry.POSITIVE.high + 1e-6)


@given(tensors(shape=shapes(max_ndim=2), domain="nonzero", requires_grad=False))
def test_tensors_with_drawn_shape_avoid_the_domain_kinks(x):
    assert x.ndim <= 2 and not x.requires_grad
    assert registry.NONZERO.contains(x.data)


@given(tensors(shape=4, elements=st.sampled_from([1.0, 2.0])))
def test_tensors_elements_override_the_domain(x):
    assert x.shape == (4,)
    assert set(np.unique(x.data)) <= {1.0, 2.0}


@given(tensors(shape=(5,), domain="distinct"))
def test_distinct_domain_has_no_ties(x):
    v = np.sort(x.data)
    assert np.all(np.diff(v) >= registry.DISTINCT.margin)


@given(op_inputs("maximum"))
def test_op_inputs_for_maximum_have_no_ties_across_inputs(inputs):
    a, b = inputs
    assert a.dtype == np.float64 and a.requires_grad and b.requires_grad
    np.broadcast_shapes(a.shape, b.shape)
    both = np.concatenate([a.data.ravel(), b.data.ravel()])
    assert len(np.unique(both)) == both.size


@given(op_inputs("log"))
def test_op_inputs_for_log_are_positive(inputs):
    (x,) = inputs
    assert registry.POSITIVE.contains(x.data)


@given(op_inputs("take[axis=0]"))
def test_op_inputs_for_take_give_valid_integer_indices(inputs):
    x, idx = inputs
    assert isinstance(idx, np.ndarray) and idx.dtype.kind == "i"
    assert x.shape[0] >= 2 and np.all((idx >= -2) & (idx <= 1))
    autograd.take(x, idx, axis=0)  # valid


@given(op_inputs(registry.get("einsum[...ij,...jk->...ik]")))
def test_op_inputs_for_einsum_fit_the_subscripts(inputs):
    a, b = inputs
    assert a.shape[-1] == b.shape[-2]
    np.broadcast_shapes(a.shape[:-2], b.shape[:-2])


def test_domain_lookup():
    assert domain("positive") is registry.POSITIVE
    assert domain(registry.UNIT) is registry.UNIT
    with pytest.raises(ValueError, match="domain: unknown domain 'complex'"):
        domain("complex")


# ----------------------------------------------------------------------------- check_gradients


def softplus(x):
    return autograd.log1p(autograd.exp(x))


@given(tensors(domain="real"))
def test_check_gradients_passes_a_correct_function(x):
    check_gradients(softplus, x)


@given(tensors(shape=broadcastable_shapes(2).map(lambda s: s[0])), tensors(shape=(), domain="positive"))
def test_check_gradients_with_two_inputs(x, y):
    check_gradients(lambda a, b: (a * b).sum() / b, x, y)


class WrongCube(Function):
    """x³ with a wrong backward (2x² instead of 3x²)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * x * g


class FrozenSquare(Op):
    """x² whose backward uses a saved constant 2x: right first derivative, second derivative lost."""

    name = "frozen_square"

    def forward(self, a):
        self.saved = (2 * a,)  # a new array, so create_graph cannot link it back to x
        return a * a

    def backward(self, g):
        return g * self.saved[0]


def test_check_gradients_catches_a_wrong_first_derivative():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="check_gradients: first derivatives of WrongCube.apply are wrong "
                                             r"for inputs of shapes \(\(2,\)\)") as info:
        check_gradients(WrongCube.apply, x, order=1)
    assert "analytic" in str(info.value) and "numeric" in str(info.value)


def test_check_gradients_catches_a_wrong_second_derivative():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    check_gradients(FrozenSquare.apply, x, order=1)  # first order is right
    with pytest.raises(GradcheckError, match="check_gradients: second derivatives of FrozenSquare.apply"):
        check_gradients(FrozenSquare.apply, x)


def test_check_gradients_rejects_a_bad_order():
    with pytest.raises(ValueError, match="check_gradients: order must be 1 or 2, got 3"):
        check_gradients(softplus, Tensor(np.zeros(2), requires_grad=True), order=3)
