"""Deterministic edge cases: ties, kinks, bounds, repeated and empty indices, masks, large magnitudes,
zeros in prod, and the functions without gradients, each against a hand computation."""
import math
import warnings

import numpy as np
import pytest

import autograd
from autograd import Tensor, registry


def _leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def _grad(fn, x, *, gradient=None):
    out = fn(x)
    out.backward(gradient)
    return out, x.grad.data


# ----------------------------------------------------------------------------- ties and kinks (API.md detail 3)


@pytest.mark.parametrize("fn,expected", [
    (autograd.max, [0.0, 0.5, 0.5, 0.0]),
    (autograd.min, [0.0, 0.0, 0.0, 1.0]),
])
def test_max_min_split_the_gradient_evenly_among_ties(fn, expected):
    x = _leaf([1.0, 3.0, 3.0, 0.5])
    _, g = _grad(fn, x)
    np.testing.assert_array_equal(g, expected)


def test_min_three_way_tie_along_an_axis_with_keepdims():
    x = _leaf([[2.0, 2.0, 2.0], [5.0, 1.0, 4.0]])
    out, g = _grad(lambda t: autograd.min(t, axis=1, keepdims=True), x, gradient=np.array([[3.0], [1.0]]))
    np.testing.assert_array_equal(out.data, [[2.0], [1.0]])
    np.testing.assert_allclose(g, [[1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])


def test_max_over_a_tuple_of_axes_with_ties():
    x = _leaf(np.array([[[1.0, 7.0], [7.0, 0.0]], [[2.0, 2.0], [2.0, 2.0]]]))
    _, g = _grad(lambda t: autograd.max(t, axis=(1, 2)), x, gradient=np.array([1.0, 1.0]))
    np.testing.assert_allclose(g, [[[0, 0.5], [0.5, 0]], [[0.25, 0.25], [0.25, 0.25]]])


@pytest.mark.parametrize("fn", [autograd.maximum, autograd.minimum])
def test_maximum_minimum_give_half_to_each_side_on_ties(fn):
    a = _leaf([1.0, 2.0, 3.0])
    b = _leaf(2.0)  # broadcast: b collects its share from every position
    fn(a, b).sum().backward()
    if fn is autograd.maximum:
        np.testing.assert_array_equal(a.grad.data, [0.0, 0.5, 1.0])
        np.testing.assert_array_equal(b.grad.data, 1.5)
    else:
        np.testing.assert_array_equal(a.grad.data, [1.0, 0.5, 0.0])
        np.testing.assert_array_equal(b.grad.data, 1.5)


@pytest.mark.parametrize("fn,x,expected", [
    (autograd.relu, [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
    (autograd.abs, [-1.0, 0.0, 2.0], [-1.0, 0.0, 1.0]),
    (autograd.sign, [-1.0, 0.0, 2.0], [0.0, 0.0, 0.0]),
])
def test_kinks_have_gradient_zero_at_zero(fn, x, expected):
    t = _leaf(x)
    fn(t).sum().backward()
    np.testing.assert_array_equal(t.grad.data, expected)


def test_clip_passes_the_gradient_at_the_bounds_and_inside_only():
    x = _leaf([-2.0, -1.0, 0.0, 1.0, 3.0])
    out = autograd.clip(x, -1.0, 1.0)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [-1.0, -1.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clip_with_array_bounds_and_one_sided():
    x = _leaf([0.0, 5.0, -5.0])
    autograd.clip(x, lo=np.array([1.0, 0.0, -6.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0])


# ----------------------------------------------------------------------------- indexing


def test_repeated_advanced_indices_accumulate():
    x = _leaf([10.0, 20.0, 30.0])
    out = x[np.array([0, 0, 2, 0])]
    out.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(out.data, [10.0, 10.0, 30.0, 10.0])
    np.testing.assert_array_equal(x.grad.data, [7.0, 0.0, 3.0])


def test_repeated_pairs_of_indices_in_two_dimensions_accumulate():
    x = _leaf(np.arange(6.0).reshape(2, 3))
    x[[1, 1, 0], [2, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1, 0, 0], [0, 0, 2]])


def test_take_and_repeat_accumulate_like_scatter_add():
    x = _leaf([1.0, 2.0])
    autograd.take(x, [1, 1, -1, 0]).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 3.0])
    y = _leaf([[1.0, 2.0]])
    autograd.repeat(y, [3, 1], axis=1).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[3.0, 1.0]])


def test_empty_slice_gives_zero_gradient_of_the_right_shape():
    x = _leaf(np.ones((3, 2)))
    out = x[2:2]
    assert out.shape == (0, 2)
    (out.sum() + x[0, 0]).backward()
    np.testing.assert_array_equal(x.grad.data, [[1, 0], [0, 0], [0, 0]])


def test_sum_of_empty_is_zero_and_split_with_empty_pieces():
    x = _leaf(np.ones((0, 3)))
    s = x.sum()
    assert s.item() == 0.0
    s.backward()
    assert x.grad.shape == (0, 3)
    y = _leaf([1.0, 2.0, 3.0])
    parts = autograd.split(y, [0, 3])
    assert [p.shape for p in parts] == [(0,), (3,), (0,)]
    parts[1].sum().backward()
    np.testing.assert_array_equal(y.grad.data, [1, 1, 1])


def test_boolean_mask_selects_and_routes_gradient():
    x = _leaf([[1.0, -2.0], [-3.0, 4.0]])
    picked = x[x.data > 0]
    np.testing.assert_array_equal(picked.data, [1.0, 4.0])
    picked.backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(x.grad.data, [[10, 0], [0, 20]])


def test_boolean_tensor_mask_and_where():
    x = _leaf([1.0, -2.0, 3.0])
    mask = x > 0  # a boolean Tensor
    x[mask].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 0, 1])
    x.grad = None
    autograd.where(mask, x, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 0, 1])


def test_second_order_through_repeated_indices():
    x = _leaf([1.0, 2.0])
    y = (x[np.array([0, 0, 1])] ** 2).sum()  # = 2 x0² + x1²
    (gx,) = autograd.grad(lambda t: (t[np.array([0, 0, 1])] ** 2).sum(), argnums=(0,))(x)
    np.testing.assert_allclose(gx.data, [4.0, 4.0])
    y.backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 2.0])


# ----------------------------------------------------------------------------- large magnitudes


@pytest.fixture
def no_float_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
            yield


@pytest.mark.usefixtures("no_float_warnings")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_is_exact_for_huge_and_tiny_inputs(dtype):
    x = _leaf([[1000.0, 1000.0], [-1000.0, -1000.0]], dtype)
    out = autograd.logsumexp(x, axis=1)
    np.testing.assert_allclose(out.data, [1000 + math.log(2), -1000 + math.log(2)], rtol=1e-6)
    assert out.dtype == dtype
    out.sum().backward()
    # float32 resolves 1000 + log 2 only to ~6e-5, which bounds the gradient's accuracy there
    np.testing.assert_allclose(x.grad.data, 0.5, rtol=1e-4 if dtype == np.float32 else 1e-12)


@pytest.mark.usefixtures("no_float_warnings")
def test_softmax_and_log_softmax_at_large_magnitude():
    x = _leaf([1000.0, 0.0, -1000.0])
    s = autograd.softmax(x)
    np.testing.assert_array_equal(s.data, [1.0, 0.0, 0.0])
    ls = autograd.log_softmax(x)
    np.testing.assert_allclose(ls.data, [0.0, -1000.0, -2000.0])
    ls.backward(np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(x.grad.data, [0.0, 0.0, 0.0], atol=1e-300)


@pytest.mark.usefixtures("no_float_warnings")
def test_sigmoid_saturates_without_overflow():
    x = _leaf([-1000.0, 0.0, 1000.0])
    y = autograd.sigmoid(x)
    np.testing.assert_array_equal(y.data, [0.0, 0.5, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.25, 0.0])


@pytest.mark.usefixtures("no_float_warnings")
def test_logsumexp_of_all_minus_infinity_or_empty_is_minus_infinity():
    assert autograd.logsumexp(np.array([-np.inf, -np.inf])).item() == -np.inf
    x = _leaf(np.zeros((2, 0)))
    out = autograd.logsumexp(x, axis=1)
    np.testing.assert_array_equal(out.data, [-np.inf, -np.inf])
    out.sum().backward()
    assert x.grad.shape == (2, 0)


# ----------------------------------------------------------------------------- prod with zeros, var/std


@pytest.mark.parametrize("x,expected", [([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]), ([0.0, 5.0, 0.0], [0.0, 0.0, 0.0]),
                                        ([2.0, 4.0, 0.5], [2.0, 1.0, 8.0])])
def test_prod_gradient_is_the_product_of_the_others(x, expected):
    t = _leaf(x)
    autograd.prod(t).backward()
    np.testing.assert_allclose(t.grad.data, expected)


def test_prod_second_derivative_with_a_zero():
    x = _leaf([2.0, 0.0, 3.0])
    autograd.prod(x).backward(create_graph=True)
    g = x.grad
    x.grad = None
    g[1].backward()  # d/dx of (x0 * x2) = [x2, 0, x0]
    np.testing.assert_allclose(x.grad.data, [3.0, 0.0, 2.0])


def test_var_and_std_with_ddof_match_closed_forms():
    x = _leaf([1.0, 2.0, 4.0])
    v = autograd.var(x, ddof=1)
    np.testing.assert_allclose(v.data, 7 / 3)
    v.backward()
    np.testing.assert_allclose(x.grad.data, 2 * (x.data - 7 / 3) / 2)
    x.grad = None
    s = autograd.std(x)
    sd = math.sqrt(14 / 9)
    np.testing.assert_allclose(s.data, sd)
    s.backward()
    np.testing.assert_allclose(x.grad.data, (x.data - 7 / 3) / (3 * sd))


# ----------------------------------------------------------------------------- no-gradient functions


@pytest.mark.parametrize("name", ["less", "less_equal", "greater", "greater_equal", "equal", "not_equal"])
def test_comparisons_are_boolean_and_record_nothing(name):
    a = _leaf([1.0, 2.0, 3.0])
    out = getattr(autograd, name)(a, 2.0)
    np.testing.assert_array_equal(out.data, getattr(np, name)(a.data, 2.0))
    assert out.dtype == bool and not out.requires_grad and out.grad_fn is None


def test_operators_for_comparisons_and_floor_divide():
    a = _leaf([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((a < 2).data, [True, False, False])
    np.testing.assert_array_equal((a == np.array([1.0, 0.0, 3.0])).data, [True, False, True])
    q = a // 2.0
    np.testing.assert_array_equal(q.data, [0.0, 1.0, 1.0])
    assert not q.requires_grad and q.dtype == np.float64
    np.testing.assert_array_equal((7.0 // a).data, [7.0, 3.0, 2.0])


def test_argmax_argmin_return_first_index_of_ties_as_int():
    x = _leaf([[1.0, 5.0, 5.0], [0.0, 0.0, -1.0]])
    np.testing.assert_array_equal(autograd.argmax(x, axis=1).data, [1, 0])
    np.testing.assert_array_equal(autograd.argmin(x, axis=1).data, [0, 2])
    assert autograd.argmax(x).item() == 1
    assert autograd.argmax(x, axis=0, keepdims=True).shape == (1, 3)
    assert autograd.argmin(x).dtype.kind == "i" and not autograd.argmin(x).requires_grad


def test_non_differentiable_list_matches_behaviour():
    x = _leaf([1.0, 2.0])
    for name in ("less", "greater", "equal", "floor_divide", "argmax", "argmin"):
        assert name in registry.NON_DIFFERENTIABLE
        fn = getattr(autograd, name)
        out = fn(x) if name.startswith("arg") else fn(x, 1.5)
        assert out.grad_fn is None


# ----------------------------------------------------------------------------- inputs of every kind


UNARY = [e for e in registry.entries() if e.variant == "" and e.arity == 1 and hasattr(autograd, e.name)]


@pytest.mark.parametrize("entry", UNARY, ids=lambda e: e.name)
def test_unary_functions_accept_python_scalars_lists_and_ndarrays(entry):
    fn = getattr(autograd, entry.name)
    v = 0.5 if entry.domains[0].contains(0.5) else 1.5
    out = fn(v)
    assert out.dtype == autograd.get_default_dtype()  # Python floats become the default dtype
    np.testing.assert_allclose(out.data, entry.reference(np.float64(v)), rtol=1e-6)
    np.testing.assert_allclose(fn([v, v]).data, entry.reference(np.array([v, v])), rtol=1e-6)
    arr = np.array([v, v], dtype=np.float64)
    res = fn(arr)
    assert res.dtype == np.float64 and not res.requires_grad
    np.testing.assert_allclose(res.data, entry.reference(arr), rtol=1e-15)


DIRECT = [e for e in registry.entries() if e.fn is getattr(autograd, e.name, None)]


@pytest.mark.parametrize("entry", DIRECT, ids=lambda e: e.id)
def test_public_functions_accept_plain_ndarrays(entry):
    rng = np.random.default_rng(0)
    shapes = [(2, 3), (3,)] if entry.shapes == "elementwise" else [(2, 3), (3, 2)]
    shapes = shapes[:entry.arity] if entry.arity > 1 else [(2, 3)]
    if entry.shape_opts.get("form") in ("vv", "mv"):
        shapes = [(3,), (3,)] if entry.shape_opts["form"] == "vv" else [(2, 3), (3,)]
    args = []
    for s, d in zip(shapes, entry.domains):
        if d.distinct:
            args.append(rng.permutation(np.arange(math.prod(s), dtype=np.float64)).reshape(s) * 0.3 - 1)
        else:
            v = rng.uniform(d.low, d.high, s)
            for p in d.avoid:
                v = np.where(np.abs(v - p) < d.margin, p + 2 * d.margin, v)
            args.append(v)
    out = entry.fn(*args)
    assert isinstance(out, Tensor) and not out.requires_grad and out.dtype == np.float64
    np.testing.assert_allclose(out.data, entry.reference(*args), rtol=1e-12, atol=1e-12)


def test_methods_are_the_module_functions():
    x = _leaf([[0.5, 1.5], [2.5, 0.25]])
    np.testing.assert_array_equal(x.exp().data, autograd.exp(x).data)
    np.testing.assert_array_equal(x.erf().data, autograd.erf(x).data)
    np.testing.assert_array_equal(x.sum(axis=0).data, autograd.sum(x, axis=0).data)
    np.testing.assert_array_equal(x.transpose().data, x.data.T)
    np.testing.assert_array_equal(x.transpose(1, 0).data, x.data.T)
    np.testing.assert_array_equal(x.reshape(4).data, x.data.reshape(4))
    np.testing.assert_array_equal(x.reshape((1, 4)).data, x.data.reshape(1, 4))
    np.testing.assert_array_equal(x.clip(0.5, 1.0).data, np.clip(x.data, 0.5, 1.0))
    np.testing.assert_array_equal(x.softmax(axis=0).data, autograd.softmax(x, axis=0).data)
    np.testing.assert_array_equal(x.T.data, x.data.T)


def test_clip_bounds_may_be_tensors_and_get_no_gradient():
    x = _leaf([0.0, 2.0, -3.0], np.float32)
    lo = Tensor(np.float32(-1.0), requires_grad=True)
    out = autograd.clip(x, lo, Tensor([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(out.data, [0.0, 1.0, -1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 0.0])
    assert x.grad.dtype == np.float32 and lo.grad is None


def test_concatenate_with_axis_none_flattens_like_numpy():
    a, b = _leaf([[1.0, 2.0]]), _leaf([3.0])
    out = autograd.concatenate([a, b], axis=None)
    np.testing.assert_array_equal(out.data, np.concatenate([a.data, b.data], axis=None))
    out.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad.data, [[1.0, 2.0]])
    np.testing.assert_array_equal(b.grad.data, [3.0])


def test_relu_keeps_a_boolean_mask_for_its_backward_not_its_output():
    """A max-pool after a ReLU does not keep the ReLU's output: the mask (a quarter of float32's bytes) is what
    stays alive until the backward, which keeps a CNN step's peak memory lower (bench/README, eighth round)."""
    x = autograd.tensor(np.array([[0.5, -1.0], [0.0, 2.0]], dtype=np.float32), requires_grad=True)
    y = x.relu()
    (mask,) = y.grad_fn.saved
    assert mask.dtype == np.bool_ and mask.shape == x.shape
    y.backward(np.full((2, 2), 3.0, dtype=np.float32))
    np.testing.assert_array_equal(x.grad.data, [[3.0, 0.0], [0.0, 3.0]])
