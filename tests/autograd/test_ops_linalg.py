"""matmul and einsum: forward values against NumPy, gradients to second order, error messages."""
import numpy as np
import pytest

import autograd
from autograd import Tensor
from autograd.gradcheck import gradcheck, gradgradcheck

EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i...->...", [(3, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("iij->ji", [(3, 3, 2)]),
    (",i->i", [(), (3,)]),
    ("ij,ij->ij", [(3, 1), (3, 4)]),
    ("ba", [(2, 3)]),
    ("aB", [(2, 3)]),
    ("iji->j", [(2, 3, 2)]),
    ("...", [(2, 3)]),
    ("i...i", [(3, 2, 3)]),
    ("i j , j k -> i k", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("subscripts,shapes", EINSUM_CASES)
def test_einsum_matches_numpy_and_gradchecks(subscripts, shapes):
    rng = np.random.default_rng(0)
    xs = [Tensor(rng.normal(size=s), requires_grad=True) for s in shapes]
    out = autograd.einsum(subscripts, *xs)
    ref = np.einsum(subscripts, *[x.data for x in xs])
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)

    def f(*a):
        return autograd.einsum(subscripts, *a)

    assert gradcheck(f, xs)
    assert gradgradcheck(f, xs)


def test_einsum_trace_gradient_is_identity():
    x = Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    autograd.einsum("ii", x).backward()
    np.testing.assert_array_equal(x.grad.data, np.eye(3))


def test_einsum_same_tensor_twice_accumulates():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    autograd.einsum("i,i->", x, x).backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_einsum_float32_stays_float32():
    a = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b = Tensor(np.ones((3, 4), np.float32), requires_grad=True)
    out = autograd.einsum("ij,jk->ik", a, b)
    assert out.dtype == np.float32
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    np.testing.assert_allclose(a.grad.data, np.full((2, 3), 4.0))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (3,)], [(3,), (3, 2)], [(2, 3), (3, 4)],
                                    [(2, 1, 2, 3), (4, 3, 2)], [(4, 3), (2, 3, 1)]])
def test_matmul_matches_numpy_and_gradchecks(shapes):
    rng = np.random.default_rng(1)
    a, b = (Tensor(rng.normal(size=s), requires_grad=True) for s in shapes)
    np.testing.assert_allclose((a @ b).data, a.data @ b.data, rtol=1e-12)
    assert gradcheck(autograd.matmul, (a, b))
    assert gradgradcheck(autograd.matmul, (a, b))


def test_matmul_with_ndarray_operand():
    a = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    w = np.arange(3.0)
    out = autograd.matmul(a, w)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.data, np.broadcast_to(w, (2, 3)))
    np.testing.assert_allclose((w @ a.T).data, w @ a.data.T)
