"""``Tensor * number`` records ``Scale``: the same values and gradients as ``Multiply`` with the number as a 0-d
array, drawn and exported as multiply, keeping only the number (so a later in-place change of the Tensor is no
error: its gradient does not depend on it, as in PyTorch)."""
import numpy as np
import pytest

import autograd as ag
from autograd.ops.elementwise import Multiply, Scale


def _leaf(values, dtype=np.float64):
    return ag.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("number", [2.5, -3, 0.1])
def test_values_and_gradient_are_multiplys(dtype, number):
    values = [[0.5, -1.25, 3.0], [7.0, 0.0, -2.0]]
    x, x2 = _leaf(values, dtype), _leaf(values, dtype)
    y = x * number
    z = Multiply.apply(x2, np.array(number, dtype))
    assert type(y.grad_fn) is Scale and y.grad_fn.name == "multiply" and y.dtype == dtype
    np.testing.assert_array_equal(y.data, z.data)  # bitwise: the same ufunc on the same operands
    weights = np.arange(6, dtype=dtype).reshape(2, 3)
    (y * ag.tensor(weights)).sum().backward()
    (z * ag.tensor(weights)).sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad.data, x2.grad.data)
    np.testing.assert_array_equal(x.grad.data, weights * np.array(number, dtype))  # d(x·c)/dx = c, by hand


def test_node_shows_the_tensor_then_the_constant():
    x = _leaf([1.0, 2.0])
    node = (x * 0.5).grad_fn
    a, c = node.inputs
    assert a.kind == "leaf" and a.tensor is x
    assert c.kind == "constant" and c.value == 0.5 and c.value.dtype == np.float64 and c.shape == ()
    assert node.rule == "∂(a·c)/∂a = c"


def test_only_the_number_is_kept_so_an_in_place_change_of_the_tensor_is_no_error():
    x = _leaf([1.0, 2.0, 3.0])
    loss = (x * 2.0).sum()
    with ag.no_grad():
        x.add_(1.0)  # the gradient of x·2 does not depend on x
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])
    w = _leaf([1.0, 2.0])
    product = (w * w).sum()  # Multiply keeps both operands: changing one is an error
    with ag.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        product.backward()


def test_higher_derivatives():
    x = _leaf([0.5, -2.0])
    f = lambda t: ((t * 3.0) ** 2).sum()  # noqa: E731  (9 x², so 18 x, then 18)
    np.testing.assert_allclose(ag.grad(f)(x).data, 18 * x.data)
    (g,) = ag.grad(lambda t: ag.grad(f)(t).sum(), argnums=(0,))(x)
    np.testing.assert_allclose(g.data, [18.0, 18.0])
    assert ag.gradgradcheck(lambda t: t * -1.75, (_leaf([0.3, -0.8, 1.9]),))


def test_a_second_backward_through_a_freed_scale_is_refused():
    x = _leaf([1.0, 2.0])
    loss = (x.sin() * 3.0).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    np.testing.assert_allclose(x.grad.data, 3 * np.cos([1.0, 2.0]))


def test_only_a_float_tensor_times_a_number_is_scaled():
    x = _leaf([1.0, 2.0])
    assert type((2.0 * x).grad_fn) is Multiply  # the number first: recorded as written
    assert type((x * np.float64(2.0)).grad_fn) is Multiply  # a NumPy scalar is an array operand
    assert type((x * ag.tensor(2.0)).grad_fn) is Multiply
    ints = ag.tensor(np.array([1, 2], dtype=np.int64))
    np.testing.assert_array_equal((ints * 3).data, [3, 6])
    assert (ints * 3).dtype == np.int64
