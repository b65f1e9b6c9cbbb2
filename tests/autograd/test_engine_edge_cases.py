"""Engine edge cases, each checked against a hand computation or a closed form: reuse of one tensor,
diamonds, leaves as outputs, 0-d and empty tensors, bad gradient= arguments, misbehaving hooks,
retain_grad on views, repeated backward, third order, threads, memory release, indexing corners,
non-contiguous inputs, and a float32 random composition of registry ops."""
import gc
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Tensor, gradcheck, registry
from autograd.testing import tensors

F64 = np.float64


def test_intermediate_values_are_freed_after_backward_while_the_output_is_held():
    x = Tensor(np.linspace(-1, 1, 200_000), requires_grad=True)
    h = x * 2.0
    e = h.exp()
    h_data, e_data = weakref.ref(h.data.base), weakref.ref(e.data.base)  # .data of a recorded value: a view
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


def test_intermediates_the_caller_still_holds_keep_their_values_and_shared_ones_are_freed_last():
    x = Tensor(np.linspace(0.1, 1, 50_000), requires_grad=True)
    kept = x.exp()  # held by the caller: must stay intact
    shared = x * 3.0  # used by three ops, then dropped by the caller
    shared_data = weakref.ref(shared.data)
    loss = (kept * shared).sum() + (shared * shared).sum()
    expected_kept = np.exp(x.data)
    del shared
    loss.backward()
    gc.collect()
    np.testing.assert_array_equal(kept.data, expected_kept)
    assert shared_data() is None
    np.testing.assert_allclose(x.grad.data, 3 * np.exp(x.data) + np.exp(x.data) * 3 * x.data + 18 * 3 * x.data / 3)


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


# ----------------------------------------------------------------------------- graph shapes


def test_one_tensor_used_many_times_accumulates_every_use():
    x = Tensor(np.array([-1.5, 0.5, 2.0]), requires_grad=True)
    (x * x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * x.data ** 2)
    x.grad = None
    (x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])
    x.grad = None
    y = x * 1.0
    (y + y * y + y * y * y).sum().backward()  # non-leaf reused: 1 + 2y + 3y²
    np.testing.assert_allclose(x.grad.data, 1 + 2 * x.data + 3 * x.data ** 2)


def test_diamond_and_double_diamond():
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    a = x.sin()
    b, c = a * 2.0, a.exp()
    d = b * c  # 2 sin(x) e^{sin x}
    e, f = d + 1.0, d * d
    (e * f).sum().backward()  # (d + 1) d² -> (3d² + 2d) d'
    s = np.sin(x.data)
    dv = 2 * s * np.exp(s)
    ddx = (2 * np.cos(x.data) * np.exp(s)) * (1 + s)
    np.testing.assert_allclose(x.grad.data, (3 * dv ** 2 + 2 * dv) * ddx)


def test_a_leaf_that_is_also_an_output():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * 3.0).sum()
    from autograd.engine import run_backward

    run_backward([x, y], [np.array([10.0, 20.0]), np.array(1.0)])
    np.testing.assert_array_equal(x.grad.data, [13.0, 23.0])
    s = Tensor(2.5, requires_grad=True)
    s.backward()
    assert s.grad.shape == () and s.grad.item() == 1.0


def test_backward_on_0d_and_on_empty_tensors():
    x = Tensor(np.float64(1.5), requires_grad=True)
    (x * x).backward()
    assert x.grad.shape == () and x.grad.item() == 3.0
    e = Tensor(np.zeros((0, 3)), requires_grad=True)
    (e * 2.0).sum().backward()
    assert e.grad.shape == (0, 3) and e.grad.dtype == F64
    e.grad = None
    (e.exp() * 2.0).backward(np.zeros((0, 3)))
    assert e.grad.shape == (0, 3)
    with pytest.raises(RuntimeError, match="pass gradient= of that shape"):
        (e * 2.0).backward()  # no implicit gradient for an empty (not one-element) output


def test_retain_grad_on_views():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    v, row = x.T, x[1]
    v.retain_grad()
    row.retain_grad()
    ((v * v).sum() + (row * 10.0).sum()).backward()
    np.testing.assert_array_equal(v.grad.data, 2 * x.data.T)
    np.testing.assert_array_equal(row.grad.data, [10.0, 10.0, 10.0])
    np.testing.assert_array_equal(x.grad.data, 2 * x.data + np.array([[0.0], [10.0]]))
    assert not np.shares_memory(v.grad.data, x.grad.data)


def test_backward_twice_with_retain_graph_accumulates_exactly_twice():
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        x = Tensor(rng.standard_normal((4, 3)).astype(dtype), requires_grad=True)
        y = (x.tanh() @ x.T).logsumexp()
        y.backward(retain_graph=True)
        once = x.grad.data.copy()
        y.backward()
        np.testing.assert_array_equal(x.grad.data, once + once)  # bitwise: same numbers added twice
        assert x.grad.dtype == dtype


# ----------------------------------------------------------------------------- higher order


def test_third_derivative_of_sin_by_create_graph():
    pts = np.array([-2.0, -0.4, 0.0, 0.9, 3.0])
    x = Tensor(pts, requires_grad=True)
    x.sin().sum().backward(create_graph=True)
    g1 = x.grad
    np.testing.assert_allclose(g1.data, np.cos(pts))
    x.grad = None
    g1.sum().backward(create_graph=True)
    g2 = x.grad
    np.testing.assert_allclose(g2.data, -np.sin(pts))
    x.grad = None
    g2.sum().backward()
    np.testing.assert_allclose(x.grad.data, -np.cos(pts), rtol=1e-14)


def test_third_derivative_of_sin_by_grad_composition():
    from autograd import grad

    d3 = grad(lambda t: grad(lambda u: grad(lambda v: v.sin().sum())(u).sum())(t).sum())
    pts = np.array([-1.0, 0.25, 2.0])
    np.testing.assert_allclose(d3(Tensor(pts)).data, -np.cos(pts), rtol=1e-14)


def test_grad_of_grad_with_argnums_tuple():
    from autograd import grad

    def f(a, b):
        return (a * a * b + b.exp() * a).sum()  # df/da = 2ab + e^b, df/db = a² + a e^b

    a, b = Tensor(np.array([1.0, -2.0])), Tensor(np.array([0.5, 0.1]))
    ga, gb = grad(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga.data, 2 * a.data * b.data + np.exp(b.data))
    np.testing.assert_allclose(gb.data, a.data ** 2 + a.data * np.exp(b.data))
    # d/da and d/db of sum(df/da) = sum(2ab + e^b): (2b, 2a + e^b)
    haa, hab = grad(lambda a, b: grad(f, argnums=(0, 1))(a, b)[0].sum(), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(haa.data, 2 * b.data)
    np.testing.assert_allclose(hab.data, 2 * a.data + np.exp(b.data))


def test_no_grad_inside_a_function_passed_to_grad_treats_that_part_as_constant():
    from autograd import grad, no_grad

    def f(a):
        with no_grad():
            c = a * 3.0  # a constant as far as differentiation goes
        return (a * c).sum()

    x = Tensor(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(grad(f)(x).data, 3 * x.data)  # not 6x


def test_threads_running_backward_concurrently_on_separate_graphs():
    n_threads, results, errors = 8, {}, []
    barrier = threading.Barrier(n_threads)

    def work(k):
        try:
            x = Tensor(np.linspace(-1, 1, 50) + k, requires_grad=True)
            y = x
            for _ in range(200):
                y = (y * 0.5).sin() + x
            barrier.wait()
            y.sum().backward()
            results[k] = (x.data.copy(), x.grad.data.copy())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(n_threads):  # each against the same computation done alone, by hand
        xs, got = results[k]
        y, dy = xs.copy(), np.ones_like(xs)
        for _ in range(200):
            dy = np.cos(y * 0.5) * 0.5 * dy + 1.0
            y = np.sin(y * 0.5) + xs
        np.testing.assert_allclose(got, dy, rtol=1e-12)


def test_a_leaf_hook_runs_once_with_the_total_gradient_of_all_uses():
    seen = []
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (x * 2.0 + x * 3.0 + x).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [6.0, 6.0])
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])


# ----------------------------------------------------------------------------- indexing corners


def _index_grad(index, shape=(3, 4, 5), dtype=np.float32):
    """Gradient of sum(w * x[index]) for a fixed weight w, and the same scatter-add done by hand with np.add.at."""
    base = np.arange(np.prod(shape), dtype=dtype).reshape(shape) / 7
    x = Tensor(base.copy(), requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.data, base[index])
    w = (np.arange(y.size, dtype=dtype).reshape(y.shape) + 1).astype(dtype)
    (y * w).sum().backward()
    expected = np.zeros(shape, dtype)
    np.add.at(expected, index if not isinstance(index, list) else tuple(index), w)
    return x.grad, expected


@pytest.mark.parametrize("index", [
    (slice(None, None, -1),),
    (slice(-1, 0, -2), slice(None, None, 3)),
    (Ellipsis, slice(-2, None)),
    (None, 1, Ellipsis, None, -1),
    (slice(None), None, slice(1, 3)),
    (np.array([2, -1, 2, 0, 2]),),  # repeats and a negative index accumulate
    (slice(None), np.array([[0, 0], [3, -4]])),  # -4 is 0 again
    (np.array([1, 1]), slice(None), np.array([4, 4])),  # advanced axes split by a slice
    (Ellipsis, np.array([0, 0, 0]), None),
], ids=lambda i: repr(i).replace(" ", ""))
def test_getitem_corners_float32_scatter_add_back(index):
    grad, expected = _index_grad(index)
    assert grad.dtype == np.float32
    np.testing.assert_array_equal(grad.data, expected)


def test_getitem_boolean_masks_float32():
    base = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    x = Tensor(base, requires_grad=True)
    mask = base > 0.1
    (x[mask] * 3.0).sum().backward()  # ndarray mask
    np.testing.assert_array_equal(x.grad.data, np.where(mask, 3.0, 0.0).astype(np.float32))
    x.grad = None
    (x[x > 0.1] ** 2).sum().backward()  # Tensor mask
    np.testing.assert_array_equal(x.grad.data, np.where(mask, 2 * base, 0.0))
    x.grad = None
    rows = np.array([True, False, True])
    x[rows, 1:].sum().backward()  # a row mask and a slice
    expected = np.zeros((3, 4), np.float32)
    expected[[0, 2], 1:] = 1
    np.testing.assert_array_equal(x.grad.data, expected)
    assert x.grad.dtype == np.float32


def test_ops_on_non_contiguous_inputs():
    rng = np.random.default_rng(3)
    raw = rng.standard_normal((5, 4))
    view = raw.T  # Fortran-ordered, not C-contiguous
    assert not view.flags.c_contiguous
    x = Tensor(view, requires_grad=True)
    w = Tensor(rng.standard_normal((5, 2)), requires_grad=True)
    strided = Tensor(raw[::2, ::-1], requires_grad=True)  # negative and > 1 strides
    out = (x.exp() @ w).tanh().sum() + (strided * strided.T.T).sum() + x.T[1:, ::2].sum()
    out.backward()
    th = np.tanh(np.exp(view) @ w.data)
    dz = 1 - th ** 2
    np.testing.assert_allclose(w.grad.data, np.exp(view).T @ dz)
    expected_x = np.exp(view) * (dz @ w.data.T)
    expected_x.T[1:, ::2] += 1
    np.testing.assert_allclose(x.grad.data, expected_x)
    np.testing.assert_allclose(strided.grad.data, 2 * raw[::2, ::-1])
    np.testing.assert_array_equal(raw, view.T)  # the inputs were not written to


# ----------------------------------------------------------------------------- float32 random composition

def _free_interval(dom):
    """The longest part of [low, high] at least ``margin`` from every avoided point, shrunk a little."""
    cuts = sorted(p for p in dom.avoid if dom.low < p < dom.high)
    edges = [dom.low] + [v for p in cuts for v in (p - dom.margin, p + dom.margin)] + [dom.high]
    lo, hi = max(zip(edges[::2], edges[1::2]), key=lambda s: s[1] - s[0])
    pad = 0.05 * (hi - lo)
    return lo + pad, hi - pad


def _fits(entry, shape):
    o = entry.shape_opts
    if not o.get("min_ndim", 0) <= len(shape) <= o.get("max_ndim", len(shape)):
        return False
    if shape and min(shape) < o.get("min_side", 1):
        return False
    if shape and max(shape) > o.get("max_side", max(shape)):  # e.g. a fixed mask covers at most max_side
        return False
    if any(a >= len(shape) or shape[a] != 1 for a in o.get("size_one_axes", ())):
        return False
    return not (o.get("even_last") and (not shape or shape[-1] % 2))


# One-input entries whose domain is an interval (no tie-free or index inputs); astype casts by request.
CHAIN = [e for e in registry.entries() if e.arity == 1 and e.shapes in ("elementwise", "reduction", "shape", "index")
         and not e.domains[0].distinct and not e.domains[0].integer and e.name != "astype"]


def _compose(x, picks, n_ops=20):
    """Apply ``n_ops`` entries chosen by ``picks`` (cycled), each on the running value squashed into its
    domain; an entry that does not fit the running shape (or would empty it or blow it up) is passed over."""
    applied = []
    for j in range(50 * n_ops):
        if len(applied) == n_ops:
            break
        entry = CHAIN[(picks[j % len(picks)] + j // len(picks)) % len(CHAIN)]
        if not _fits(entry, x.shape):
            continue
        lo, hi = _free_interval(entry.domains[0])
        out = entry.fn(x.sigmoid() * (hi - lo) + lo)
        out = out[0] if isinstance(out, tuple) else out
        if out.size == 0 or out.size > 96:
            continue
        x = out
        applied.append(entry.id)
    return x, applied


@settings(max_examples=25)
@given(x=tensors(dtype=np.float32), picks=st.lists(st.integers(0, 10 ** 6), min_size=20, max_size=20))
def test_float32_through_a_random_20_op_composition(x, picks):
    out32, applied = _compose(x, picks)
    assert len(applied) == 20
    assert out32.dtype == np.float32, f"upcast after {applied}"
    w = np.linspace(-1, 1, out32.size).reshape(out32.shape)
    (out32 * w.astype(np.float32)).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == x.shape

    x64 = Tensor(x.data.astype(np.float64), requires_grad=True)
    out64, applied64 = _compose(x64, picks)
    assert applied64 == applied
    np.testing.assert_allclose(out32.data, out64.data, rtol=2e-3, atol=2e-4 * max(1.0, np.abs(out64.data).max()))
    (out64 * w).sum().backward()
    scale = max(1.0, float(np.abs(x64.grad.data).max()))
    np.testing.assert_allclose(x.grad.data, x64.grad.data, rtol=5e-3, atol=5e-4 * scale, err_msg=str(applied))
    # The float64 chain itself is right (finite differences), so float32 is close to the truth.
    gradcheck(lambda t: (_compose(t, picks)[0] * w).sum(), (x64.detach().requires_grad_(),), atol=1e-5, rtol=1e-3)


def test_second_order_sees_a_detached_or_rewrapped_copy_as_a_constant():
    from autograd import grad

    pts = np.array([1.5, -2.0, 0.5])
    # f = x * c with c = x's value but cut from the graph: f' = c, f'' = 0 (not 1).
    for cut in (lambda t: t.detach(), lambda t: Tensor(t.data)):
        d2 = grad(lambda t: grad(lambda u: (u * cut(u)).sum())(t).sum())
        x = Tensor(pts.copy(), requires_grad=True)
        x.sin().sum()  # unrelated graph on the same leaf
        first = grad(lambda u: (u * cut(u)).sum())(x)
        np.testing.assert_array_equal(first.data, pts)
        np.testing.assert_array_equal(d2(x).data, np.zeros(3))  # f' does not depend on x at all
    # Two leaves wrapping one array are still two variables: d²(x*y)/dx dy = 1.
    x = Tensor(pts.copy(), requires_grad=True)
    y = Tensor(x.data, requires_grad=True)
    (x * y).sum().backward(create_graph=True)
    gx = x.grad
    x.grad = y.grad = None
    gx.sum().backward()
    np.testing.assert_array_equal(y.grad.data, np.ones(3))
    assert x.grad is None


def test_backward_with_inputs_accumulates_only_into_them():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    h = a * b
    unused = Tensor(np.ones(2), requires_grad=True)
    loss = (h * h).sum()
    loss.backward(inputs=[b, h, unused], retain_graph=True)
    assert a.grad is None and unused.grad is None
    np.testing.assert_array_equal(b.grad.data, 2 * h.data * a.data)
    np.testing.assert_array_equal(h.grad.data, 2 * h.data)
    loss.backward(inputs=b)
    np.testing.assert_array_equal(b.grad.data, 4 * h.data * a.data)
    with pytest.raises(TypeError, match="backward: inputs"):
        loss.backward(inputs=["b"])


def test_a_hook_that_removes_itself_does_not_skip_the_next_one():
    calls = []
    x = Tensor(np.ones(2), requires_grad=True)
    handle = None

    def once(g):
        calls.append("once")
        handle.remove()

    handle = x.register_hook(once)
    x.register_hook(lambda g: calls.append("second"))
    (x * 2.0).sum().backward()
    (x * 2.0).sum().backward()
    assert calls == ["once", "second", "second"]


def test_a_hook_may_return_the_gradient_in_its_tensors_dtype_in_a_mixed_precision_graph():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    h = x * 2.0  # float32
    seen = []
    h.register_hook(lambda g: seen.append(g.dtype) or g.data.astype(np.float32) * 10)
    (h * np.array([1.0, 1.0])).sum().backward()  # the float64 weight makes h's gradient float64
    assert seen == [np.float64]
    np.testing.assert_array_equal(x.grad.data, [20.0, 20.0])
    assert x.grad.dtype == np.float32


def test_grad_mode_decorators_on_generator_functions_hold_inside_the_body_only():
    from autograd import enable_grad, is_grad_enabled, no_grad

    x = Tensor(np.ones(2), requires_grad=True)

    @no_grad()
    def gen():
        for k in range(3):
            got = yield (x * k, is_grad_enabled())
            assert got == "sent" or got is None

    g = gen()
    outs = [next(g)]
    assert is_grad_enabled()  # the caller's mode between items
    outs.append(g.send("sent"))
    outs.extend(g)
    assert [(o.requires_grad, mode) for o, mode in outs] == [(False, False)] * 3
    assert is_grad_enabled()

    @enable_grad()
    def inner():
        yield x * 2

    with no_grad():
        (y,) = list(inner())
        assert not is_grad_enabled()
    assert y.requires_grad and is_grad_enabled()


def test_detect_anomaly_decorating_a_generator_function_checks_inside_its_body():
    from autograd import detect_anomaly, is_anomaly_enabled

    @detect_anomaly()
    def gen():
        yield is_anomaly_enabled()
        with np.errstate(invalid="ignore"):
            yield (Tensor(np.array([-1.0]), requires_grad=True)).log()  # NaN: must raise here

    g = gen()
    assert next(g) is True
    assert not is_anomaly_enabled()
    with pytest.raises(RuntimeError, match="log"):
        next(g)


def test_one_grad_mode_instance_entered_twice_restores_the_outer_mode():
    from autograd import enable_grad, is_grad_enabled, no_grad

    ng, eg = no_grad(), enable_grad()
    with ng:
        with ng:
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()  # a single saved mode would have been overwritten by the inner entry
    with ng:
        with eg:
            with ng:
                assert not is_grad_enabled()
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()
