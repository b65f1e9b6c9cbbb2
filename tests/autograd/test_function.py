"""Function: user-defined NumPy ops with ctx, several outputs, and a clear once-differentiable limit."""
import numpy as np
import pytest

import autograd as ag
from autograd import Function, Tensor, gradcheck
from autograd.engine import run_backward


def t64(a, requires_grad=True):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


class ScaledMul(Function):
    """k * a * b with a non-Tensor argument k."""

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.save_for_backward(a, b)
        ctx.k = k
        return a * b * k

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (g * b * ctx.k if ctx.needs_input_grad[0] else None,
                g * a * ctx.k if ctx.needs_input_grad[1] else None, None)


class SinCosArgmax(Function):
    """Three outputs: sin, cos (differentiable) and argmax (integer, no gradient)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a), np.cos(a), np.argmax(a)

    @staticmethod
    def backward(ctx, g_sin, g_cos, g_arg):
        (a,) = ctx.saved_tensors
        return g_sin * np.cos(a) - g_cos * np.sin(a)


class Cube(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 3 * g * a ** 2


def test_values_and_gradients_against_hand_computation():
    a, b = t64([1.0, 2.0, 3.0]), t64([4.0, 5.0, 6.0])
    out = ScaledMul.apply(a, b, 2.0)
    np.testing.assert_allclose(out.data, [8.0, 20.0, 36.0])
    assert out.grad_fn.name == "ScaledMul" and out.requires_grad
    out.backward(np.array([1.0, 0.5, 2.0]))
    np.testing.assert_allclose(a.grad.data, [8.0, 5.0, 24.0])
    np.testing.assert_allclose(b.grad.data, [2.0, 2.0, 12.0])


def test_gradcheck_passes_for_function_ops():
    rng = np.random.default_rng(1)
    a, b = t64(rng.standard_normal(4)), t64(rng.standard_normal(4))
    assert gradcheck(lambda p, q: ScaledMul.apply(p, q, 3.0), (a, b))
    assert gradcheck(lambda p: SinCosArgmax.apply(p)[:2], (t64(rng.standard_normal((2, 3))),))


def test_needs_input_grad_and_ndarray_arguments():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, c):
            seen["types"] = (type(a), type(b), type(c))
            seen["needs"] = ctx.needs_input_grad
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    a = t64([1.0, 2.0])
    out = Probe.apply(a, np.array([3.0, 4.0]), "config")
    assert seen["types"] == (np.ndarray, np.ndarray, str)
    assert seen["needs"] == (True, False, False)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0])


def test_multiple_outputs_are_independent_tensors_and_unused_ones_get_zero_gradient():
    x = t64([0.1, 0.7, 0.3])
    s, c, i = SinCosArgmax.apply(x)
    np.testing.assert_allclose(s.data, np.sin(x.data))
    np.testing.assert_allclose(c.data, np.cos(x.data))
    assert i.item() == 1 and i.dtype.kind == "i" and not i.requires_grad
    (s * 2).sum().backward()  # c unused: the backward receives zeros for it
    np.testing.assert_allclose(x.grad.data, 2 * np.cos(x.data))


def test_multiple_outputs_both_used():
    x = t64([0.2, -0.4])
    s, c, _ = SinCosArgmax.apply(x)
    (s * c).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.cos(2 * x.data))


def test_no_graph_without_requires_grad_or_under_no_grad():
    out = Cube.apply(Tensor(np.array([2.0])))
    assert out.grad_fn is None and not out.requires_grad
    with ag.no_grad():
        out = Cube.apply(t64([2.0]))
    assert out.grad_fn is None and out.data[0] == 8.0


def test_float32_stays_float32():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    out = Cube.apply(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [3.0, 12.0])


def test_broadcast_gradient_is_summed_to_input_shape():
    a, b = t64([[1.0, 2.0], [3.0, 4.0]]), t64([10.0])
    ScaledMul.apply(a, b, 1.0).sum().backward()
    np.testing.assert_allclose(b.grad.data, [10.0])


def test_second_order_through_function_raises_clear_error():
    x = t64([1.0, 2.0])
    y = Cube.apply(x).sum()
    (g,) = run_backward([y], [np.ones(())], create_graph=True, inputs=[x])
    np.testing.assert_allclose(g.data, [3.0, 12.0])  # first order is still right under create_graph
    with pytest.raises(RuntimeError, match="Cube: .*cannot be differentiated again"):
        g.sum().backward()


def test_saved_values_released_after_backward():
    x = t64([1.0, 2.0])
    y = Cube.apply(x)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.sum().backward()


def test_retain_graph_allows_two_backwards():
    x = t64([1.0, 2.0])
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 24.0])


def test_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="Bad.backward returned 1 gradient\\(s\\) but apply got 2"):
        Bad.apply(t64([1.0]), t64([2.0])).backward()


def test_wrong_gradient_shape():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return np.ones(5)

    with pytest.raises(RuntimeError, match="gradient of shape \\(5,\\) for argument 0 of shape \\(2,\\)"):
        BadShape.apply(t64([1.0, 2.0])).sum().backward()


def test_forward_must_return_arrays():
    class BadOut(Function):
        @staticmethod
        def forward(ctx, a):
            return "nope"

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="BadOut.forward must return an ndarray"):
        BadOut.apply(t64([1.0]))


def test_mark_non_differentiable():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, a):
            idx = np.argsort(a)
            ctx.idx = idx
            ranks = idx.astype(a.dtype)
            ctx.mark_non_differentiable(ranks)
            return a[idx], ranks

        @staticmethod
        def backward(ctx, g, g_ranks):
            assert not g_ranks.any()
            out = np.zeros_like(g)
            out[ctx.idx] = g
            return out

    x = t64([3.0, 1.0, 2.0])
    values, ranks = SortWithIndex.apply(x)
    assert not ranks.requires_grad
    np.testing.assert_array_equal(values.data, [1.0, 2.0, 3.0])
    (values * t64([1.0, 10.0, 100.0], requires_grad=False)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [100.0, 1.0, 10.0])


def test_base_class_apply_is_rejected():
    with pytest.raises(TypeError, match="subclass Function"):
        Function.apply(t64([1.0]))
