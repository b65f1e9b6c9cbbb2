"""The backward engine: grad mode, recording rules, long chains, accumulation, hooks, graph release."""
import sys
import threading

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.engine import run_backward, state
from autograd.op import Input


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ----------------------------------------------------------------------------- grad mode


def test_grad_mode_context_managers_nest_and_restore():
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        with ag.enable_grad():
            assert ag.is_grad_enabled()
        assert not ag.is_grad_enabled()
        with ag.set_grad_enabled(True):
            assert ag.is_grad_enabled()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    with ag.set_grad_enabled(False):
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(KeyError), ag.no_grad():
        raise KeyError("boom")
    assert ag.is_grad_enabled()


def test_set_grad_enabled_as_a_call_switches_immediately():
    mode = ag.set_grad_enabled(False)
    try:
        assert not ag.is_grad_enabled()
    finally:
        mode.__exit__(None, None, None)
    assert ag.is_grad_enabled()


def test_grad_mode_decorators():
    @ag.no_grad()
    def off():
        return ag.is_grad_enabled()

    @ag.set_grad_enabled(False)
    def off2():
        return ag.is_grad_enabled()

    assert ag.is_grad_enabled()  # decorating must not switch anything
    assert off() is False and off2() is False
    assert ag.is_grad_enabled()

    @ag.enable_grad()
    def on():
        return ag.is_grad_enabled()

    with ag.no_grad():
        assert on() is True
        assert not ag.is_grad_enabled()
    assert off.__name__ == "off"


def test_grad_mode_is_thread_local():
    started, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with ag.no_grad():
            started.set()
            release.wait()
            seen["worker"] = ag.is_grad_enabled()

    th = threading.Thread(target=worker)
    th.start()
    started.wait()
    # the other thread is inside no_grad right now; this thread still records
    x = leaf([1.0])
    y = x * 2
    seen["main"] = ag.is_grad_enabled()
    release.set()
    th.join()
    assert seen == {"worker": False, "main": True}
    assert y.grad_fn is not None


def test_new_thread_starts_with_grad_enabled_even_if_parent_is_off():
    seen = []
    with ag.no_grad():
        th = threading.Thread(target=lambda: seen.append(ag.is_grad_enabled()))
        th.start()
        th.join()
    assert seen == [True]


# ----------------------------------------------------------------------------- recording


def test_nothing_recorded_without_requires_grad():
    a = Tensor(np.array([1.0, 2.0]))
    b = (a * 3).exp().sum()
    assert b.grad_fn is None and not b.requires_grad and b.is_leaf


def test_nothing_recorded_under_no_grad():
    a = leaf([1.0, 2.0])
    with ag.no_grad():
        b = (a * 3).exp().sum()
    assert b.grad_fn is None and not b.requires_grad
    np.testing.assert_allclose(b.data, np.exp(3.0) + np.exp(6.0))


def test_recorded_graph_metadata():
    a = leaf([1.0, 2.0])
    b = a * 3
    node = b.grad_fn
    first, second = node.inputs
    assert node.name == "multiply" and first.kind == "leaf" and first.tensor is a
    assert second.kind == "constant" and second.value == 3
    assert node.outputs == ((b.shape, b.dtype),) and node.params == {} and not node.freed
    c = b.exp()
    (edge,) = c.grad_fn.inputs
    assert c.grad_fn.order > node.order and edge.kind == "node" and edge.node is node and edge.index == 0


def test_backward_on_tensor_not_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.array(1.0)).backward()


# ----------------------------------------------------------------------------- long chains


def test_100000_op_chain_backpropagates_without_recursion():
    limit = sys.getrecursionlimit()
    x = leaf([1.0, 2.0], dtype=np.float32)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y = y * 2.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    assert sys.getrecursionlimit() == limit


def test_deep_chain_of_mixed_ops_value():
    x = leaf([0.5])
    y = x
    for _ in range(20_000):
        y = (y + 1.0) - 1.0
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0])


# ----------------------------------------------------------------------------- accumulation


def test_gradients_accumulate_across_backwards_until_cleared():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3)
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_diamond_graph_sums_both_paths():
    x = leaf([2.0])
    a = x * 3
    b = x.exp()
    (a * b).sum().backward()  # d/dx 3x e^x = 3 e^x + 3x e^x
    np.testing.assert_allclose(x.grad.data, 3 * np.exp(2.0) * (1 + 2.0))


def test_same_input_twice_and_broadcasting_is_undone():
    x = leaf([[1.0, 2.0, 3.0]])  # (1, 3)
    w = leaf([[1.0], [2.0]])  # (2, 1)
    (x * x + x * w).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * 2 * x.data + w.data.sum())
    np.testing.assert_allclose(w.grad.data, np.full((2, 1), x.data.sum()))


def test_two_leaves_receiving_same_gradient_array_do_not_alias():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data[0] = 100.0
    assert b.grad.data[0] == 1.0


def test_gradient_argument_is_not_aliased():
    a = leaf([1.0, 2.0])
    g = np.array([1.0, 1.0])
    a.backward(g)  # a leaf root receives the caller's array directly
    assert not np.shares_memory(a.grad.data, g)
    a.grad.data[:] = 7
    assert g.tolist() == [1.0, 1.0]


def test_retain_grad_on_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    y = h * h
    y.sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    np.testing.assert_allclose(x.grad.data, 4 * h.data)
    z = x * 5
    (z * 1.0).sum().backward()
    assert z.grad is None  # not retained


# ----------------------------------------------------------------------------- hooks


def test_hook_on_leaf_replaces_gradient_and_can_be_removed():
    x = leaf([1.0, 2.0])
    seen = []

    def hook(g):
        seen.append(g.data.copy())
        return g * 10

    handle = x.register_hook(hook)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(x.grad.data, [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])
    assert len(seen) == 1


def test_hook_on_non_leaf_changes_what_flows_upstream():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.register_hook(lambda g: g * 0.5)
    observed = []
    h.register_hook(lambda g: observed.append(g.data.copy()))  # returning None keeps the gradient
    (h * 4).sum().backward()
    np.testing.assert_allclose(observed[0], [2.0, 2.0])  # hooks run in order: sees the halved gradient
    np.testing.assert_allclose(x.grad.data, [4.0, 4.0])


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).register_hook(lambda g: g)


# ----------------------------------------------------------------------------- graph release


def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(x.data) * (1 + x.data))


def test_saved_values_released_after_backward():
    x = leaf(np.linspace(0, 1, 1000))
    e = x.exp()
    node = e.grad_fn
    assert not node.freed and np.array_equal(node.output_value(0), e.data)
    e.sum().backward()
    assert node.freed and all(isinstance(item, Input) for item in node.saved)  # roles at most: no value kept
    assert node.outputs[0].shape == (1000,)  # shape and dtype kept for drawings, values freed
    with pytest.raises(RuntimeError, match="freed"):
        node.output_value(0)
    np.testing.assert_allclose(e.data, np.exp(x.data))  # the tensor the caller holds keeps its value


def test_saved_values_kept_with_retain_graph():
    x = leaf([1.0])
    e = x.exp()
    e.sum().backward(retain_graph=True)
    assert not e.grad_fn.freed


# ----------------------------------------------------------------------------- gradient argument


def test_non_scalar_backward_without_gradient_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="shape \\(2,\\).*gradient="):
        (x * 2).backward()


def test_gradient_as_tensor_ndarray_or_list():
    for g in (Tensor(np.array([1.0, 2.0])), np.array([1.0, 2.0]), [1.0, 2.0]):
        x = leaf([3.0, 4.0])
        (x * x).backward(g)
        np.testing.assert_allclose(x.grad.data, [6.0, 16.0])


def test_gradient_of_wrong_shape_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match="gradient has shape \\(3,\\) but the tensor has shape \\(2,\\)"):
        (x * 2).backward(np.ones(3))


def test_one_element_non_scalar_backward_is_implicit():
    x = leaf([[3.0]])
    (x * x).backward()
    np.testing.assert_allclose(x.grad.data, [[6.0]])


# ----------------------------------------------------------------------------- dtype


def test_float32_stays_float32_through_forward_and_backward():
    x = leaf([0.5, 1.5], dtype=np.float32)
    w = leaf([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    y = ((w @ x).tanh() * 2.0 + 1).exp().mean() / 3 - x.sum() ** 2
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_float32_grad_even_when_mixed_with_float64_array():
    x = leaf([1.0, 2.0], dtype=np.float32)
    y = (x * np.array([2.0, 3.0])).sum()  # NumPy promotion: the output is float64
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [2.0, 3.0])


# ----------------------------------------------------------------------------- run_backward(inputs=)


def test_run_backward_with_inputs_returns_gradients_without_accumulating():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    h = x * w
    y = (h * h).sum()
    gx, gh = run_backward([y], [np.ones(())], inputs=[x, h])
    np.testing.assert_allclose(gx, 2 * h.data * w.data)
    np.testing.assert_allclose(gh, 2 * h.data)
    assert x.grad is None and w.grad is None


def test_run_backward_unused_input():
    x, z = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="input 1 is not used"):
        run_backward([y], [np.ones(())], retain_graph=True, inputs=[x, z])
    gx, gz = run_backward([y], [np.ones(())], inputs=[x, z], allow_unused=True)
    assert gz is None and gx.tolist() == [2.0]


def test_create_graph_gives_differentiable_grad():
    x = leaf([1.5])
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    np.testing.assert_allclose(g.data, [3 * 1.5 ** 2])
    (gx,) = run_backward([g.sum()], [np.ones(())], inputs=[x])
    np.testing.assert_allclose(gx.data if isinstance(gx, Tensor) else gx, [6 * 1.5])


def test_backward_leaves_grad_mode_unchanged():
    x = leaf([1.0])
    (x * 2).sum().backward(create_graph=True)
    assert state.grad_enabled
    with ag.no_grad():
        y = x * 2
    assert y.grad_fn is None


def test_run_backward_with_inputs_does_not_fill_retained_grads():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    y = (h * h).sum()
    (gx,) = run_backward([y], [np.ones(())], retain_graph=True, inputs=[x])
    np.testing.assert_allclose(gx, 8 * x.data)
    assert h.grad is None and x.grad is None
    y.backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)


def test_run_backward_with_inputs_runs_only_nodes_leading_to_them():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.sum().backward()  # h's node is released now
    calls = []
    h.register_hook(lambda g: calls.append(1))
    y = (h * h).sum()
    (gh,) = run_backward([y], [np.ones(())], inputs=[h])  # must not walk into the released graph behind h
    np.testing.assert_allclose(gh, 2 * h.data)
    assert calls == [1]  # h's own hooks still run, as it is a wanted input
    # a branch that does not lead to the wanted input is not executed at all
    w = leaf([3.0])
    side = w.exp()
    side_calls = []
    side.register_hook(lambda g: side_calls.append(1))
    z = (x * 5).sum() + side.sum()
    (gx,) = run_backward([z], [np.ones(())], inputs=[x])
    np.testing.assert_allclose(gx, [5.0, 5.0])
    assert side_calls == [] and not side.grad_fn.freed


def test_grad_of_non_leaf_stays_differentiable_wrt_caller_leaf():
    w = leaf([1.0, 2.0])
    h = w * 2
    g = ag.grad(lambda v: (v ** 3).sum())(h)  # 3 h^2
    g.sum().backward()  # d/dw sum(3 (2w)^2) = 24 w
    np.testing.assert_allclose(w.grad.data, 24 * w.data)


def test_plain_backward_accumulates_onto_a_create_graph_grad():
    x = leaf([2.0])
    (x ** 3).sum().backward(create_graph=True)  # x.grad = 3x^2 = 12, itself part of a graph
    x.grad.sum().backward()  # adds d(3x^2)/dx = 6x = 12
    np.testing.assert_allclose(x.grad.data, [24.0])
    assert x.grad.grad_fn is None


def test_create_graph_grads_of_two_leaves_do_not_alias():
    a, b = leaf([1.0]), leaf([1.0])
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad and not np.shares_memory(a.grad.data, b.grad.data)
    (a * 5).sum().backward()  # in-place accumulation into a.grad must not touch b.grad
    np.testing.assert_allclose(a.grad.data, [6.0])
    np.testing.assert_allclose(b.grad.data, [1.0])
