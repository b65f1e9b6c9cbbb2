"""The engine's mechanism, not its ops: saved values by role, freeing, version counters, several outputs,
threads, and the declared node interface. Each test pins down a way an engine can give a wrong answer
without an error."""
import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd import Function, Tensor
from autograd.mode import add_observer, module_scope, remove_observer
from autograd.op import Edge, Input, Op, Output


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def second_derivative(fn, x):
    """d/dx sum(d/dx sum(fn(x))) by grad of grad."""
    return ag.grad(lambda t: ag.grad(lambda u: fn(u).sum())(t).sum())(x)


# ----------------------------------------------------------------------------- saved values by role


class SquareSavingAView(Op):
    """x² whose forward saves a view of its input as a plain array (the old README's pattern)."""

    name = "square_view"

    def forward(self, x):
        self.saved = (x.reshape(x.shape),)
        return x * x

    def backward(self, g):
        (x,) = self.saved
        return 2 * g * x


class SquareByRole(Op):
    """x² saving its input by role: the same backward code gives the right second derivative."""

    name = "square_role"

    def forward(self, x):
        self.saved = (Input(0),)
        return x * x

    def backward(self, g):
        (x,) = self.saved
        return 2 * g * x


class ExpByOutputRole(Op):
    """e^x saving its output by role."""

    name = "exp_role"

    def forward(self, x):
        self.saved = (Output(),)
        return np.exp(x)

    def backward(self, g):
        return g * self.saved[0]


def test_an_op_saving_a_view_gives_a_clear_error_for_second_order_not_zero():
    x = leaf([3.0])
    np.testing.assert_allclose(ag.grad(lambda t: SquareSavingAView.apply(t).sum())(x).data, [6.0])  # first order
    with pytest.raises(RuntimeError, match=r"square_view: saved value 0 is a plain array sharing memory with input 0"
                                           r".*Input\(i\)"):
        second_derivative(SquareSavingAView.apply, x)
    with pytest.raises(RuntimeError, match="cannot be differentiated again"):
        y = SquareSavingAView.apply(x).sum()
        y.backward(create_graph=True)
        x.grad.sum().backward()


def test_saving_by_role_gives_correct_higher_derivatives():
    x = leaf([3.0, -1.5])
    np.testing.assert_allclose(second_derivative(SquareByRole.apply, x).data, [2.0, 2.0])
    np.testing.assert_allclose(second_derivative(ExpByOutputRole.apply, x).data, np.exp(x.data))
    assert ag.gradgradcheck(SquareByRole.apply, (leaf([0.7, -0.2]),))
    assert ag.gradgradcheck(ExpByOutputRole.apply, (leaf([0.7, -0.2]),))


def test_the_same_array_behind_two_inputs_is_told_apart_by_position():
    x = leaf([2.0, 3.0])
    d = x.detach()
    # d²/dx² of x * x.detach() is 0: the detached factor is a constant even though it is the same array.
    np.testing.assert_allclose(second_derivative(lambda t: t * d, x).data, [0.0, 0.0])
    np.testing.assert_allclose(second_derivative(lambda t: t * t, x).data, [2.0, 2.0])


class NumpyInBackward(Op):
    """relu whose backward uses np.where on what it saved: fine on arrays, drops the graph on Tensors."""

    name = "numpy_relu"

    def forward(self, x):
        self.saved = (Input(0),)
        return np.maximum(x, 0)

    def backward(self, g):
        (x,) = self.saved
        return np.where(x > 0, g, 0)


def test_a_numpy_function_on_a_tensor_in_a_recorded_backward_raises():
    x = leaf([1.0, -2.0])
    NumpyInBackward.apply(x).sum().backward()  # plain backward: ndarrays, fine
    np.testing.assert_allclose(x.grad.data, [1.0, 0.0])
    with pytest.raises(TypeError, match="backward of op 'numpy_relu' is being recorded"):
        ag.grad(lambda t: NumpyInBackward.apply(t).sum())(leaf([1.0, -2.0]))
    np.testing.assert_allclose(np.asarray(x), x.data)  # outside a recorded backward np.asarray still works


def test_input_and_output_markers_are_shared_and_validated():
    assert Input(0) is Input(0) and Output(1) is Output(1) and Input(0) is not Output(0)
    assert repr(Input(12)) == "Input(12)" and Input(12).index == 12
    with pytest.raises(TypeError, match="Input: index must be a non-negative int"):
        Input(-1)


# ----------------------------------------------------------------------------- freeing after backward


def test_held_tensors_keep_their_values_after_backward():
    x = leaf(np.linspace(-1, 1, 50))
    h = x.exp()
    t = h.tanh()
    loss = (t * h).sum()
    loss.backward()
    np.testing.assert_allclose(h.data, np.exp(x.data))
    np.testing.assert_allclose(t.data, np.tanh(np.exp(x.data)))
    assert h.grad_fn.freed and t.grad_fn.freed and loss.grad_fn.freed


def test_a_tensor_reachable_only_by_weakref_is_gone_or_intact_never_zeros():
    x = leaf(np.arange(1.0, 6.0))
    h = x * 2
    ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    loss.backward()
    gc.collect()
    survivor = ref()
    assert survivor is None or np.array_equal(survivor.data, 2 * x.data)
    np.testing.assert_allclose(x.grad.data, 8 * x.data)


def test_a_freed_node_reports_shapes_and_refuses_values_and_a_second_backward():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    h = x.sin()
    loss = (h * 3).sum()
    node = h.grad_fn
    np.testing.assert_allclose(node.output_value(0), np.sin(x.data))
    loss.backward()
    assert node.freed and node.outputs[0].shape == (2, 2) and node.outputs[0].dtype == np.float64
    with pytest.raises(RuntimeError, match=r"sin: the value of output 0 \(shape \(2, 2\), float64\) was freed"):
        node.output_value(0)
    (edge,) = loss.grad_fn.inputs
    assert edge.kind == "node" and edge.shape == (2, 2) and edge.node.name == "multiply"
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_freed_graph_does_not_keep_intermediate_arrays_alive():
    x = leaf(np.ones(1000))
    h = x.exp()
    array = weakref.ref(h.data.base if h.data.base is not None else h.data)
    loss = (h.tanh() * 2).sum()
    del h
    loss.backward()
    gc.collect()
    assert array() is None  # the graph behind loss no longer holds the intermediate value


# ----------------------------------------------------------------------------- version counters


def test_changing_a_saved_leaf_in_place_before_backward_raises_naming_op_and_tensor():
    w = leaf([1.0, 2.0, 3.0])
    w.name = "w"
    x = Tensor(np.array([4.0, 5.0, 6.0]))
    loss = (w * x).sum()
    with ag.no_grad():
        w.sub_(1.0)
    assert w._version == 1
    with pytest.raises(RuntimeError, match=r"input 0 of op 'multiply' \(a leaf tensor named 'w'; shape \(3,\)\)"
                                           r".*modified by an in-place operation"):
        loss.backward()


def test_assigning_data_between_forward_and_backward_raises():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    w.data = np.array([5.0, 6.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_a_write_through_a_view_is_seen_by_the_op_that_saved_the_view():
    w = leaf(np.arange(6.0).reshape(2, 3))
    x = Tensor(np.ones((4, 2)))
    out = x @ w.T.T  # matmul saves a view of w
    with ag.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match="input 1 of op 'matmul'.*modified by an in-place operation"):
        out.sum().backward()


def test_writing_into_a_recorded_value_fails_at_once():
    x = leaf([1.0, 2.0])
    h = x.exp()
    with pytest.raises(ValueError, match="read-only"):
        h.data[...] = 0
    with pytest.raises(RuntimeError, match="copy_: this tensor is the output of recorded op 'exp'"):
        h.copy_(np.zeros(2))


def test_writes_after_backward_and_untracked_values_are_fine():
    w = leaf([1.0, 2.0])
    loss = (w + 3).sum()  # add saves nothing, so a change to w cannot affect this gradient
    with ag.no_grad():
        w.add_(1.0)
    loss.backward()
    np.testing.assert_allclose(w.grad.data, [1.0, 1.0])
    loss = (w * w).sum()
    loss.backward()
    with ag.no_grad():
        w.sub_(w.grad, alpha=0.5)  # an optimiser step after backward
    np.testing.assert_allclose(w.data, [2.0 - 0.5 * (1 + 4), 3.0 - 0.5 * (1 + 6)])  # .grad accumulated


def test_inplace_methods_check_grad_mode_shape_and_count_versions():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="fill_: a leaf tensor that requires grad cannot be changed in place"):
        w.fill_(0.0)
    with ag.no_grad():
        w.copy_(np.array([3.0, 4.0])).mul_(2).add_(1).div_(1.0).zero_()
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    assert w._version == 5 and w.detach()._version == 5
    with ag.no_grad(), pytest.raises(ValueError, match=r"copy_: a value of shape \(3,\) cannot be copied into a "
                                                         r"tensor of shape \(2,\)"):
        w.copy_(np.ones(3))
    with pytest.raises(TypeError, match="Tensor.data: expected an ndarray or a Tensor, got list"):
        w.data = [1.0, 2.0]


# ----------------------------------------------------------------------------- nodes with several outputs


def test_split_is_one_node_with_one_tensor_per_piece():
    x = leaf(np.arange(12.0).reshape(4, 3))
    pieces = ag.split(x, [1, 3])
    assert [p.shape for p in pieces] == [(1, 3), (2, 3), (1, 3)]
    node = pieces[0].grad_fn
    assert all(p.grad_fn is node for p in pieces) and [p.output_index for p in pieces] == [0, 1, 2]
    assert node.name == "split" and len(node.outputs) == 3
    (pieces[0].sum() * 2 + (pieces[2] * pieces[2]).sum()).backward()
    expected = np.zeros((4, 3))
    expected[0] = 2
    expected[3] = 2 * x.data[3]
    np.testing.assert_allclose(x.grad.data, expected)


def test_unbind_and_methods():
    x = leaf(np.arange(6.0).reshape(2, 3))
    rows = x.unbind()
    assert len(rows) == 2 and rows[1].shape == (3,) and rows[0].grad_fn.name == "unbind"
    cols = x.unbind(axis=1)
    (rows[1].sum() + 10 * cols[0].sum()).backward()
    np.testing.assert_allclose(x.grad.data, [[10.0, 0.0, 0.0], [11.0, 1.0, 1.0]])
    assert [p.shape for p in x.split(3, axis=1)] == [(2, 1)] * 3
    assert ag.unbind(Tensor(np.zeros((0, 2)))) == ()
    with pytest.raises(ValueError, match="split: split points \\[2, 1\\] must be in increasing order"):
        ag.split(x, [2, 1], axis=1)


class _GradientCounter:
    """Observer counting gradient arrays of one shape that node backwards produce."""

    def __init__(self, shape):
        self.shape, self.count, self.missing = shape, 0, []

    def on_forward(self, node, outputs):
        pass

    def on_backward(self, node, grad_outputs, grad_inputs):
        self.count += sum(1 for g in grad_inputs if g is not None and g.shape == self.shape)
        if node.name == "split":
            self.missing.append([g is None for g in grad_outputs])


def test_a_four_way_split_back_propagates_one_full_size_array():
    x = leaf(np.ones((8, 5)))
    counter = _GradientCounter(x.shape)
    add_observer(counter)
    try:
        q, k, v, o = ag.split(x, 4)
        (q * 1 + k * 2 + v * 3 + o * 4).sum().backward()
    finally:
        remove_observer(counter)
    assert counter.count == 1  # the split node's joined gradient, not one zero-padded array per piece
    np.testing.assert_allclose(x.grad.data, np.repeat([1.0, 2.0, 3.0, 4.0], 2)[:, None] * np.ones((8, 5)))


def test_a_four_way_split_backward_peak_memory_is_about_one_gradient():
    x = leaf(np.ones((4, 250_000)))  # 8 MB
    pieces = ag.split(x, 4)
    loss = sum((p * float(i + 1)).sum() for i, p in enumerate(pieces))
    tracemalloc.start()
    try:
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The pieces' gradients (8 MB in all) and the joined gradient (8 MB) with some slack; four zero-padded
    # full-size arrays summed would need at least 32 MB.
    assert peak < 2.6 * x.data.nbytes, peak


def test_an_unused_output_receives_none_and_costs_nothing():
    x = leaf(np.arange(8.0))
    counter = _GradientCounter(x.shape)
    add_observer(counter)
    try:
        a, b, c, d = ag.split(x, 4)
        (c * 5).sum().backward()
    finally:
        remove_observer(counter)
    assert counter.missing == [[True, True, False, True]]
    np.testing.assert_allclose(x.grad.data, [0, 0, 0, 0, 5, 5, 0, 0])


class SinCos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x), np.cos(x)

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved_tensors
        return g_sin * np.cos(x) - g_cos * np.sin(x)


def test_function_with_two_outputs_is_one_node_and_an_unused_output_gets_zeros():
    x = leaf([0.3, 1.2])
    s, c = SinCos.apply(x)
    assert s.grad_fn is c.grad_fn and c.output_index == 1 and len(s.grad_fn.outputs) == 2
    (s * 2).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.cos(x.data))


def test_function_inputs_saved_by_ctx_are_version_checked():
    x = leaf([0.3, 1.2])
    s, _ = SinCos.apply(x)
    with ag.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="input 0 of op 'SinCos'.*modified by an in-place operation"):
        s.sum().backward()


class DropsGradient(Function):
    """An identity whose backward returns None: its input gets no gradient through it."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return None


def test_a_none_gradient_still_lets_the_producer_run_for_its_other_consumers():
    x = leaf([1.0, 2.0])
    h = x * 2
    (DropsGradient.apply(h) + h * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 6.0])


@pytest.mark.parametrize("join", [ag.stack, ag.concatenate])
def test_stack_and_concatenate_of_one_tensor_back_propagate(join):
    x = leaf([[1.0, 2.0]])
    (join([x]) * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[3.0, 3.0]])


# ----------------------------------------------------------------------------- threads


def test_two_threads_accumulating_into_one_parameter_lose_nothing():
    w = leaf(np.zeros(64))
    c = Tensor(np.arange(64.0))
    rounds, threads = 150, 4
    start = threading.Barrier(threads)

    def work():
        start.wait()
        for _ in range(rounds):
            (w * c).sum().backward()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    np.testing.assert_array_equal(w.grad.data, rounds * threads * c.data)  # exact: integer-valued sums


def test_one_no_grad_instance_entered_from_two_threads():
    ng = ag.no_grad()
    steps = [threading.Barrier(2) for _ in range(4)]
    seen = {}

    def first():
        with ng:
            steps[0].wait()          # both inside
            steps[1].wait()
        seen["first after exit"] = ag.is_grad_enabled()
        steps[2].wait()              # second is still inside
        steps[3].wait()

    def second():
        steps[0].wait()
        with ng:
            steps[1].wait()
            steps[2].wait()          # first has exited meanwhile
            seen["second inside"] = ag.is_grad_enabled()
        seen["second after exit"] = ag.is_grad_enabled()
        steps[3].wait()

    # second enters after first (steps[0] is passed by first inside ng, second just before entering)
    workers = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert seen == {"first after exit": True, "second inside": False, "second after exit": True}
    assert ag.is_grad_enabled()


def test_one_instance_entered_twice_in_one_thread_and_across_a_generator():
    ng = ag.no_grad()
    with ng:
        with ng:
            assert not ag.is_grad_enabled()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()

    def gen():
        with ng:
            yield ag.is_grad_enabled()

    g = gen()
    assert next(g) is False  # the generator's block is open, so grad mode is off meanwhile
    with ng:  # the same instance entered again by the caller while the generator holds it
        pass
    assert not ag.is_grad_enabled()
    with pytest.raises(StopIteration):
        next(g)  # the generator's exit restores what its own enter replaced
    assert ag.is_grad_enabled()


# ----------------------------------------------------------------------------- the declared node interface


def test_node_interface_names_edges_params_outputs_scope_order_and_site():
    x = leaf(np.ones((2, 3)))
    data = Tensor(np.full((2, 3), 2.0))
    with module_scope("block"):
        h = (x * data).sum(axis=1, keepdims=True)
    node = h.grad_fn
    assert node.name == "sum" and dict(node.params) == {"axis": (1,), "keepdims": True}
    with pytest.raises(TypeError):
        node.params["axis"] = 0  # read-only
    (edge,) = node.inputs
    assert isinstance(edge, Edge) and edge.kind == "node" and edge.node.name == "multiply" and edge.index == 0
    a, b = edge.node.inputs
    assert a.kind == "leaf" and a.tensor is x and b.kind == "leaf" and b.tensor is data and not data.requires_grad
    c = (h * 0.5).grad_fn.inputs[1]
    assert c.kind == "constant" and c.value == 0.5 and c.shape == ()
    assert node.outputs == ((( 2, 1), np.dtype(np.float64)),) and not node.freed
    assert node.scope == ("block",) and edge.node.scope == ("block",) and (h * 1).grad_fn.scope == ()
    assert node.order > edge.node.order and node.site is None
    with ag.detect_anomaly():
        y = x.exp()
    assert y.grad_fn.site.split(":")[0].endswith("test_engine_v2.py")


def test_from_numpy_shares_memory_and_keeps_dtype():
    a = np.arange(4, dtype=np.int32)
    t = ag.from_numpy(a)
    assert t.data is a and t.dtype == np.int32 and not t.requires_grad
    a[0] = 7
    assert t.tolist()[0] == 7
    with pytest.raises(TypeError, match="from_numpy: expected an np.ndarray, got list"):
        ag.from_numpy([1, 2])
    with pytest.raises(TypeError, match="from_numpy: cannot make a tensor from an array of dtype"):
        ag.from_numpy(np.array(["a"]))


def test_a_recorded_value_is_handed_out_read_only_everywhere():
    x = leaf([1.0, 2.0])
    h = x * 3
    for view in (h.data, h.numpy(), np.asarray(h), h.detach().data, h.grad_fn.output_value(0)):
        assert not view.flags.writeable and np.shares_memory(view, h.data)
    assert x.data.flags.writeable  # a leaf's array is the caller's, writable


def test_one_detect_anomaly_instance_across_threads():
    mode = ag.detect_anomaly()
    inside = threading.Barrier(2)
    seen = []

    def work():
        with mode:
            inside.wait()
            seen.append(ag.is_anomaly_enabled())
            inside.wait()
        seen.append(ag.is_anomaly_enabled())

    workers = [threading.Thread(target=work) for _ in range(2)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert seen == [True, True, False, False] and not ag.is_anomaly_enabled()


class ScaleByTuple(Op):
    """x * sum(factors) with the factors passed as a positional tuple constant and saved by role."""

    name = "scale_by_tuple"

    def forward(self, x, factors):
        self.saved = (Input(1),)
        return x * sum(factors)

    def backward(self, g):
        (factors,) = self.saved
        return g * sum(factors), None


def test_a_tuple_constant_input_is_kept_as_it_was_passed():
    x = leaf([1.0, 2.0])
    y = ScaleByTuple.apply(x, (2.0, 1.0))
    assert y.grad_fn.inputs[1].kind == "constant" and y.grad_fn.inputs[1].value == (2.0, 1.0)
    np.testing.assert_allclose(ag.grad(lambda t: ScaleByTuple.apply(t, (2.0, 1.0)).sum())(x).data, [3.0, 3.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


@pytest.mark.parametrize("kind", ["split", "float32 split", "function"])
def test_a_freed_node_with_several_outputs_reports_each_shape_and_dtype(kind):
    class Halves(ag.Function):  # a Function node is freed by its own ``release`` (the ctx goes too)
        @staticmethod
        def forward(ctx, a):
            return a[:1].copy(), a[1:].astype(np.float32)

        @staticmethod
        def backward(ctx, g1, g2):
            return np.concatenate([g1, g2.astype(np.float64)])

    dtype = np.float32 if kind == "float32 split" else np.float64
    x = ag.tensor(np.arange(6.0, dtype=dtype).reshape(3, 2), requires_grad=True)
    first, rest = Halves.apply(x) if kind == "function" else x.split([1], axis=0)
    node = first.grad_fn
    (first.sum() + rest.sum()).backward()
    want = [((1, 2), dtype), ((2, 2), np.float32 if kind == "function" else dtype)]
    assert node.freed and [(o.shape, o.dtype) for o in node.outputs] == want
    with pytest.raises(RuntimeError, match=r"the value of output 1 \(shape \(2, 2\), float(32|64)\) was freed"):
        node.output_value(1)
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 2)))
