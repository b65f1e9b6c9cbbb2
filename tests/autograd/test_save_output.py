"""``SAVE_OUTPUT``: an op that saves just its output is handed the node's outputs tuple on the plain backward,
and behaves exactly as one saving ``(Output(0),)`` in every mode (retained graph, create_graph, freed graph)."""
import numpy as np
import pytest

import autograd as ag
from autograd.op import OUTPUT, SAVE_OUTPUT, Op, Output


class _TwiceExp(Op):
    """2 eˣ, whose derivative is its own output: d/dx = y."""

    name = "twice_exp"

    def forward(self, a):
        self.saved = self.spec
        return 2 * np.exp(a)

    def backward(self, g):
        (y,) = self.saved
        return g * y


class _ViaConstant(_TwiceExp):
    spec = SAVE_OUTPUT


class _ViaRole(_TwiceExp):
    spec = (Output(0),)


def test_the_constant_is_the_role_tuple():
    assert SAVE_OUTPUT == (OUTPUT[0],) and SAVE_OUTPUT[0] is Output(0)


@pytest.mark.parametrize("op", [_ViaConstant, _ViaRole])
def test_first_and_retained_backward(op):
    x = ag.tensor(np.array([0.5, -2.0, 1.5]), requires_grad=True)
    y = op.apply(x)
    assert y.grad_fn.saved is op.spec  # the role tuple is back in place after each backward
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, 2 * np.exp([0.5, -2.0, 1.5]))
    assert y.grad_fn.saved is op.spec
    y.sum().backward()  # a second pass over the retained graph adds the same again
    np.testing.assert_allclose(x.grad.data, 4 * np.exp([0.5, -2.0, 1.5]))
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()


@pytest.mark.parametrize("op", [_ViaConstant, _ViaRole])
def test_second_order_through_the_saved_output(op):
    x = ag.tensor(np.array([0.5, 1.5]), requires_grad=True)
    first = ag.grad(lambda t: op.apply(t).sum())
    np.testing.assert_allclose(first(x).data, 2 * np.exp(x.data))
    h = ag.grad(lambda t: first(t).sum())(x)
    np.testing.assert_allclose(h.data, 2 * np.exp(x.data))  # the output was routed back as a graph Tensor


def test_builtin_ops_use_it_and_gradcheck():
    x = ag.tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    for fn in (ag.tanh, ag.sigmoid, ag.exp):
        assert fn(x).grad_fn.saved is SAVE_OUTPUT
        assert ag.gradcheck(fn, (x,))


class _ExpAndCopy(Op):
    """Two outputs, eˣ and 3; saving just the first: its backward must see exactly one saved value."""

    name = "exp_and_three"

    def forward(self, a):
        self.saved = SAVE_OUTPUT
        return np.exp(a), np.full_like(a, 3.0)

    def backward(self, g, g_three):
        (y,) = self.saved
        return None if g is None else g * y


def test_an_op_with_several_outputs_sees_only_the_first():
    x = ag.tensor(np.array([0.5, -1.0]), requires_grad=True)
    y, three = _ExpAndCopy.apply(x)
    (y.sum() + three.sum()).backward()
    np.testing.assert_allclose(x.grad.data, np.exp([0.5, -1.0]))
