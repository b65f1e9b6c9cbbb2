"""Engine edge cases, each checked against a hand computation or a closed form: reuse of one tensor,
diamonds, leaves as outputs, 0-d and empty tensors, bad gradient= arguments, misbehaving hooks,
retain_grad on views, repeated backward, third order, threads, memory release, indexing corners,
non-contiguous inputs, and a float32 random composition of registry ops."""
import gc
import weakref

import numpy as np
import pytest

from autograd import Tensor

F64 = np.float64


def test_intermediate_values_are_freed_after_backward_while_the_output_is_held():
    x = Tensor(np.linspace(-1, 1, 200_000), requires_grad=True)
    h = x * 2.0
    e = h.exp()
    h_data, e_data = weakref.ref(h.data), weakref.ref(e.data)
    loss = e.sum()
    del h, e
    gc.collect()
    assert h_data() is not None and e_data() is not None  # the graph keeps them for backward
    loss.backward()
    gc.collect()
    assert h_data() is None, "x * 2 is still referenced by the released graph"
    assert e_data() is None, "exp's saved output is still referenced by the released graph"
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(2 * x.data))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


# ----------------------------------------------------------------------------- gradient= and hooks


@pytest.mark.parametrize("bad", [np.array(["a", "b", "c"]), np.ones(3, dtype=complex), np.array([None] * 3),
                                 "abc", object()], ids=["str array", "complex", "object array", "str", "object"])
def test_backward_gradient_of_a_non_real_dtype_is_a_type_error(bad):
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match="backward: gradient"):
        (x * 2).backward(bad)
    assert x.grad is None


@pytest.mark.parametrize("bad", [np.ones(4), np.ones((3, 1)), np.ones(())], ids=["longer", "extra axis", "0-d"])
def test_backward_gradient_of_the_wrong_shape_is_a_value_error(bad):
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"backward: gradient has shape .* but the tensor has shape \(3,\)"):
        (x * 2).backward(bad)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("gdtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("xdtype", [np.float32, np.float64])
def test_backward_gradient_of_another_real_dtype_is_cast_to_the_output_dtype(xdtype, gdtype, create_graph):
    x = Tensor(np.array([1.0, 2.0, 3.0], dtype=xdtype), requires_grad=True)
    y = x * x
    y.backward(Tensor(np.array([1, 2, 3], dtype=gdtype)), create_graph=create_graph)
    assert x.grad.dtype == xdtype
    np.testing.assert_allclose(x.grad.data, [2.0, 8.0, 18.0])


def _plain(g):
    return g.data if isinstance(g, Tensor) else g


@pytest.mark.parametrize("on", ["leaf", "non-leaf"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_hook_returning_another_shape_raises_naming_the_shapes(on, create_graph):
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    (x if on == "leaf" else y).register_hook(lambda g: Tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"hook .* returned a gradient of shape \(4,\) .* shape \(3,\)"):
        (y * 3.0).sum().backward(create_graph=create_graph)
    assert x.grad is None


@pytest.mark.parametrize("on", ["leaf", "non-leaf"])
def test_hook_returning_another_dtype_raises_naming_the_dtypes(on):
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    (x if on == "leaf" else y).register_hook(lambda g: _plain(g).astype(np.float32))
    with pytest.raises(TypeError, match="hook .* returned a gradient of dtype float32 .* float64"):
        (y * 3.0).sum().backward()
    assert x.grad is None


@pytest.mark.parametrize("result", ["text", 2.0, [1.0, 1.0, 1.0]], ids=["str", "float", "list"])
def test_hook_returning_something_that_is_not_an_array_raises(result):
    x = Tensor(np.ones(3), requires_grad=True)
    x.register_hook(lambda g: result)
    with pytest.raises(TypeError, match="hook .* must return a Tensor, an ndarray or None"):
        (x * 3.0).sum().backward()


def test_hook_may_return_an_ndarray_or_tensor_of_the_same_shape_and_dtype():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: _plain(g) * 10)  # an ndarray
    x.register_hook(lambda g: g + 1)  # a Tensor
    (y * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [61.0, 61.0, 61.0])  # 3 -> 30 at y, -> 60 at x, + 1
