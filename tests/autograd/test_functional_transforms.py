"""grad, value_and_grad, vjp, jvp, jacobian, hessian against closed forms."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import Tensor, grad, hessian, jacobian, jvp, value_and_grad, vjp

floats = st.floats(-2, 2, allow_nan=False, width=64)


def t64(a, requires_grad=False):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_exported():
    for name in ("grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian"):
        assert callable(getattr(ag, name))


def test_grad_of_quadratic_form_and_hessian_closed_form():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)

    def f(v):
        return v @ (Tensor(A) @ v)

    np.testing.assert_allclose(grad(f)(x).data, (A + A.T) @ x, rtol=1e-12)
    H = hessian(f)(x)
    assert H.shape == (4, 4)
    np.testing.assert_allclose(H.data, A + A.T, rtol=1e-12)


def test_value_and_grad_returns_value_from_the_same_pass():
    x = np.array([1.0, 2.0, 3.0])
    value, g = value_and_grad(lambda v: (v ** 2).sum())(x)
    assert value.item() == 14.0
    np.testing.assert_allclose(g.data, 2 * x)


def test_grad_argnums_tuple_returns_tuple_and_negative_argnums():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    gx, gy = grad(lambda a, b: (a * b * b).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx.data, y ** 2)
    np.testing.assert_allclose(gy.data, 2 * x * y)
    np.testing.assert_allclose(grad(lambda a, b: (a * b).sum(), argnums=-1)(x, y).data, x)
    assert isinstance(grad(lambda a, b: (a * b).sum(), argnums=[1])(x, y), tuple)


def test_grad_accepts_scalars_ints_and_kwargs():
    assert grad(lambda a: a ** 3)(2.0).item() == pytest.approx(12.0)
    g = grad(lambda a, scale=1.0: (a * scale).sum())(np.array([1, 2, 3]), scale=4.0)
    assert g.dtype == ag.get_default_dtype()
    np.testing.assert_array_equal(g.data, [4.0, 4.0, 4.0])


def test_unused_argument_gets_zero_gradient():
    g = grad(lambda a, b: (a * 2).sum(), argnums=1)(Tensor(np.ones(2)), np.ones(3))
    np.testing.assert_array_equal(g.data, np.zeros(3))
    g = grad(lambda a: Tensor(np.array(5.0)))(np.ones(2))
    np.testing.assert_array_equal(g.data, np.zeros(2))


def test_grad_errors():
    with pytest.raises(ValueError, match="scalar .* got shape \\(2,\\)"):
        grad(lambda a: a * 2)(np.ones(2))
    with pytest.raises(TypeError, match="must return a scalar Tensor, got float"):
        grad(lambda a: 1.0)(np.ones(2))
    with pytest.raises(ValueError, match="argnums 2 is out of range .* 1 positional"):
        grad(lambda a: a.sum(), argnums=2)(np.ones(2))
    with pytest.raises(TypeError, match="argnums must be an int"):
        grad(lambda a: a.sum(), argnums="0")
    with pytest.raises(TypeError, match="cannot differentiate with respect to argument 0 of type str"):
        grad(lambda a: a)("x")


def test_caller_tensors_not_mutated_and_no_grad_accumulated():
    x = t64([1.0, 2.0], requires_grad=True)
    c = t64([3.0, 4.0])
    g = grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(x, c)
    np.testing.assert_array_equal(g[0].data, [3.0, 4.0])
    assert x.grad is None and c.grad is None and not c.requires_grad and x.is_leaf


def test_results_differentiable_wrt_caller_tensor():
    w = t64([0.5, -1.0, 2.0], requires_grad=True)
    g = grad(lambda v: (v ** 3).sum())(w)  # 3 w^2
    assert g.requires_grad
    g.sum().backward()  # d/dw sum(3 w^2) = 6 w
    np.testing.assert_allclose(w.grad.data, 6 * w.data)


def test_nested_grad_and_jacobian_of_grad_equals_hessian():
    f = lambda v: (v.sin() * v).sum()
    x = np.array([0.3, -0.7])
    d2 = jacobian(grad(f))(x).data
    np.testing.assert_allclose(d2, hessian(f)(x).data, rtol=1e-12)
    np.testing.assert_allclose(np.diag(d2), 2 * np.cos(x) - x * np.sin(x), rtol=1e-12)
    third = grad(lambda v: grad(lambda u: (u ** 4).sum())(v).sum())(np.array([2.0]))
    np.testing.assert_allclose(third.data, [12 * 4.0])


def test_jacobian_of_elementwise_is_diagonal_and_shape_convention():
    x = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    J = jacobian(lambda v: v.tanh())(x)
    assert J.shape == (2, 3, 2, 3)
    expected = np.zeros((6, 6))
    expected[np.arange(6), np.arange(6)] = 1 - np.tanh(x.ravel()) ** 2
    np.testing.assert_allclose(J.data.reshape(6, 6), expected, rtol=1e-12)


def test_jacobian_tuple_outputs_and_argnums():
    a, b = np.array([1.0, 2.0]), np.array([3.0])
    (jaa, jab), (jba, jbb) = jacobian(lambda p, q: (p * q, (p ** 2).sum()), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(jaa.data, np.diag([3.0, 3.0]))
    np.testing.assert_allclose(jab.data, [[1.0], [2.0]])
    np.testing.assert_allclose(jba.data, [2.0, 4.0])
    np.testing.assert_allclose(jbb.data, [0.0])


def test_hessian_blocks_with_argnums_tuple():
    f = lambda p, q: (p * p * q).sum()
    p, q = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    (hpp, hpq), (hqp, hqq) = hessian(f, argnums=(0, 1))(p, q)
    np.testing.assert_allclose(hpp.data, np.diag(2 * q))
    np.testing.assert_allclose(hpq.data, np.diag(2 * p))
    np.testing.assert_allclose(hqp.data, np.diag(2 * p))
    np.testing.assert_allclose(hqq.data, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="hessian: f must return a scalar"):
        hessian(lambda v: v * 2)(p)


def test_vjp_and_jvp_match_jacobian():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    f = lambda v: (Tensor(W) @ v).sin()
    J = jacobian(f)(x).data
    np.testing.assert_allclose(J, np.cos(W @ x)[:, None] * W, rtol=1e-12)
    u = rng.standard_normal(3)
    out, vjp_fn = vjp(f, x)
    np.testing.assert_allclose(out.data, np.sin(W @ x))
    (vx,) = vjp_fn(u)
    np.testing.assert_allclose(vx.data, u @ J, rtol=1e-12)
    (vx2,) = vjp_fn(Tensor(2 * u))  # callable again; a Tensor cotangent works too
    np.testing.assert_allclose(vx2.data, 2 * u @ J, rtol=1e-12)
    v = rng.standard_normal(4)
    out, tangent = jvp(f, (x,), (v,))
    np.testing.assert_allclose(tangent.data, J @ v, rtol=1e-12)


def test_vjp_several_primals_and_outputs():
    _, fn = vjp(lambda a, b: (a * b, a + b), np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    ga, gb = fn((np.array([1.0, 0.0]), np.array([1.0, 1.0])))
    np.testing.assert_allclose(ga.data, [3.0 + 1.0, 1.0])
    np.testing.assert_allclose(gb.data, [1.0 + 1.0, 1.0])
    with pytest.raises(ValueError, match="cotangent must be a tuple of 2"):
        fn(np.ones(2))


def test_vjp_wrong_cotangent_shape():
    _, fn = vjp(lambda a: a * 2, np.ones(3))
    with pytest.raises(ValueError, match="cotangent 0 has shape \\(2,\\) but the output has shape \\(3,\\)"):
        fn(np.ones(2))


def test_jvp_errors_and_identity():
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        jvp(lambda a: a, (np.ones(2),), (np.ones(2), np.ones(2)))
    with pytest.raises(ValueError, match="tangent 0 has shape \\(3,\\) but primal 0 has shape \\(2,\\)"):
        jvp(lambda a: a, (np.ones(2),), (np.ones(3),))
    _, t = jvp(lambda a: a, (np.array([1.0, 2.0]),), (np.array([5.0, 6.0]),))
    np.testing.assert_array_equal(t.data, [5.0, 6.0])
    _, t = jvp(lambda a: Tensor(np.ones(3)), (np.array([1.0, 2.0]),), (np.array([5.0, 6.0]),))
    np.testing.assert_array_equal(t.data, np.zeros(3))


def test_float32_stays_float32():
    x = np.array([1.0, 2.0], dtype=np.float32)
    assert grad(lambda v: (v * 2.0).sum())(x).dtype == np.float32
    assert jacobian(lambda v: v.exp())(x).dtype == np.float32
    assert hessian(lambda v: (v ** 3).sum())(x).dtype == np.float32


def test_under_no_grad_results_are_plain():
    with ag.no_grad():
        g = grad(lambda v: (v ** 2).sum())(t64([1.0, 2.0], requires_grad=True))
        J = jacobian(lambda v: v.exp())(np.array([0.0]))
    assert g.grad_fn is None and not g.requires_grad
    np.testing.assert_array_equal(g.data, [2.0, 4.0])
    np.testing.assert_array_equal(J.data, [[1.0]])
    assert ag.is_grad_enabled()


def test_function_ops_work_first_order_in_transforms():
    class Square(ag.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            return 2 * g * ctx.saved_tensors[0]

    np.testing.assert_allclose(grad(lambda v: Square.apply(v).sum())(np.array([3.0])).data, [6.0])
    with pytest.raises(RuntimeError, match="cannot be differentiated again"):
        hessian(lambda v: Square.apply(v).sum())(np.array([3.0]))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 4), elements=floats), st.data())
def test_property_jvp_equals_jacobian_times_tangent(x, data):
    v = data.draw(hnp.arrays(np.float64, x.shape, elements=floats))
    f = lambda a: (a.sin() * a.sum()).exp()
    J = jacobian(f)(x).data
    _, t = jvp(f, (x,), (v,))
    np.testing.assert_allclose(t.data, J @ v, rtol=1e-9, atol=1e-12)
    _, fn = vjp(f, x)
    np.testing.assert_allclose(fn(v)[0].data, v @ J, rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.tuples(hnp.arrays(np.float64, (n, n), elements=floats),
                                                      hnp.arrays(np.float64, n, elements=floats))))
def test_property_hessian_of_quadratic_form(args):
    A, x = args
    H = hessian(lambda v: v @ (Tensor(A) @ v))(x).data
    np.testing.assert_allclose(H, A + A.T, atol=1e-12)
