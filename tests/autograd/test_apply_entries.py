"""``unary_entry`` and ``Op.apply2`` (the unary and binary ops' entries) give exactly what ``Op.apply`` gives: the
same values, the same node fields (edges, arrays, params, scope, saved roles), the same version counters, the
same gradients, for Tensors and arrays in either place; and they hand every other kind of call to ``apply``."""
import numpy as np
import pytest

import autograd as ag
from autograd.mode import module_scope
from autograd.op import NO_PARAMS, Op, unary_entry
from autograd.ops.elementwise import Add, Multiply, Tanh


class _Identity(Op):
    """Hands back its input array itself (the output must share the input's version counter)."""

    name = "identity_view"

    def forward(self, a):
        return a

    def backward(self, g):
        return g


class _FirstView(Op):
    """A view of its first input, plus the second: the output's version counter is the first input's."""

    name = "first_view"

    def forward(self, a, b):
        return a.reshape(a.shape)

    def backward(self, g):
        return g, None


class _Pair(Op):
    """Two outputs (the general path): a + b and a - b."""

    name = "pair"

    def forward(self, a, b):
        return a + b, a - b

    def backward(self, g_sum, g_diff):
        g_sum = 0 if g_sum is None else g_sum
        g_diff = 0 if g_diff is None else g_diff
        return g_sum + g_diff, g_sum - g_diff


def _node_fields(t, operands):
    """The node's fields with each edge, leaf and array named by the operand it came from (None: no node)."""
    n = t.grad_fn
    if n is None:
        return None

    def which(value):
        return next(k for k, v in enumerate(operands) if v is value or isinstance(v, ag.Tensor) and v._data is value)

    def producer(node):
        return next(k for k, v in enumerate(operands) if isinstance(v, ag.Tensor) and v.grad_fn is node)

    edges = [("edge", producer(e[0]), e[1], e[2]) if type(e) is tuple else ("input", which(e)) for e in n._inputs]
    return (type(n), edges, [which(a) for a in n._arrays], dict(n._params), n._scope, n.saved, n._extra,
            len(n._outs))


def _tensor_fields(t):
    return (t.requires_grad, t._index, t._name, t._hooks, t.grad, t._vbox is None)


def _inputs():
    """Fresh operands of every kind: a leaf requiring grad, one not, a non-leaf, an array, a 0-d array."""
    leaf = ag.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    plain = ag.tensor(np.array([1.0, 2.0, 3.0]))
    inner = leaf * 2.0
    return {"leaf": leaf, "plain": plain, "inner": inner, "array": np.array([0.25, 0.5, 0.75]),
            "zero_d": np.array(1.5)}


@pytest.mark.parametrize("mode", ["grad", "no_grad", "scope", "anomaly"])
@pytest.mark.parametrize("kind", ["leaf", "plain", "inner"])
def test_unary_entry_is_apply(mode, kind):
    def run(entry):
        x = _inputs()[kind]
        if mode == "no_grad":
            with ag.no_grad():
                return x, entry(x)
        if mode == "scope":
            with module_scope("block"):
                return x, entry(x)
        if mode == "anomaly":
            with ag.detect_anomaly():
                return x, entry(x)
        return x, entry(x)

    (x1, fast), (x2, general) = run(unary_entry(Tanh)), run(Tanh.apply)
    np.testing.assert_array_equal(fast.data, general.data)
    assert _tensor_fields(fast) == _tensor_fields(general)
    assert _node_fields(fast, [x1]) == _node_fields(general, [x2])
    assert (fast.grad_fn is None) == (mode == "no_grad" or kind == "plain")
    if fast.requires_grad:
        fast.sum().backward()
        general.sum().backward()
        leaf1, leaf2 = (x1, x2) if x1.grad_fn is None else (x1.grad_fn._inputs[0], x2.grad_fn._inputs[0])
        np.testing.assert_allclose(leaf1.grad.data, leaf2.grad.data)


@pytest.mark.parametrize("mode", ["grad", "no_grad", "anomaly"])
@pytest.mark.parametrize("a_kind, b_kind", [("leaf", "plain"), ("leaf", "leaf"), ("inner", "array"),
                                            ("inner", "zero_d"), ("plain", "array"), ("plain", "inner"),
                                            ("leaf", "inner"), ("array", "leaf"), ("zero_d", "inner"),
                                            ("array", "plain"), ("array", "zero_d")])
def test_apply2_is_apply(mode, a_kind, b_kind):
    def run(entry):
        ops = _inputs()
        a, b = ops[a_kind], ops[b_kind]
        if mode == "no_grad":
            with ag.no_grad():
                return ops, entry(a, b)
        if mode == "anomaly":
            with ag.detect_anomaly():
                return ops, entry(a, b)
        return ops, entry(a, b)

    (ops1, fast), (ops2, general) = run(Multiply.apply2), run(Multiply.apply)
    np.testing.assert_array_equal(fast.data, general.data)
    assert _tensor_fields(fast) == _tensor_fields(general)
    assert _node_fields(fast, [ops1[a_kind], ops1[b_kind]]) == _node_fields(general, [ops2[a_kind], ops2[b_kind]])
    if fast.requires_grad:
        fast.sum().backward()
        general.sum().backward()
        assert (ops1["leaf"].grad is None) == (ops2["leaf"].grad is None)
        if ops1["leaf"].grad is not None:
            np.testing.assert_array_equal(ops1["leaf"].grad.data, ops2["leaf"].grad.data)


def test_they_take_no_params_and_share_one_read_only_mapping():
    x = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert x.tanh().grad_fn._params is NO_PARAMS and (x * 2.0).grad_fn._params is NO_PARAMS
    assert dict(x.tanh().grad_fn.params) == {}
    with pytest.raises(TypeError):
        NO_PARAMS["axis"] = 0  # shared by many nodes, so it cannot be changed


def test_everything_else_goes_to_apply():
    x = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    # a Python number on either side: apply's own conversions and errors
    assert np.allclose(Add.apply2(1.0, x).data, [2.0, 3.0])
    assert np.allclose(Add.apply2(x, 1.0).data, [2.0, 3.0])
    assert np.allclose(unary_entry(Tanh)(np.array([0.0])).data, [0.0])
    converted = unary_entry(Tanh, lambda v: np.asarray(v, dtype=np.float32))([0.5])  # ``convert`` runs first
    assert converted.dtype == np.float32 and np.allclose(converted.data, np.tanh(np.float32(0.5)))
    assert ag.tanh([0.0, 1.0]).dtype == ag.get_default_dtype()  # the public function converts with the dtype policy
    with pytest.raises(ValueError, match="add: shapes"):
        ag.add(x, np.ones(3))


def test_a_view_or_the_input_itself_shares_the_version_counter():
    x = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    same = unary_entry(_Identity)(x)
    assert same._vbox is x._vbox is not None
    view = _FirstView.apply2(x, ag.tensor(np.array([0.0, 0.0])))
    assert view._vbox is x._vbox
    inner = x * 1.0
    assert _FirstView.apply2(inner, np.zeros(2))._vbox is inner._vbox  # None: a recorded output is read-only


def test_several_outputs_take_the_general_path():
    a = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = ag.tensor(np.array([3.0, 5.0]), requires_grad=True)
    s, d = _Pair.apply2(a, b)
    assert s.grad_fn is d.grad_fn and (s.output_index, d.output_index) == (0, 1)
    (s.sum() + 2 * d.sum()).backward()
    np.testing.assert_allclose(a.grad.data, [3.0, 3.0])
    np.testing.assert_allclose(b.grad.data, [-1.0, -1.0])


def test_capture_sees_calls_through_them():
    w = ag.tensor(np.array([0.5, -0.5]), requires_grad=True)

    @ag.capture
    def step(x):
        loss = ((x * w).tanh() + 1.0).sum()
        loss.backward()
        return loss

    for k in range(3):
        w.grad = None
        x = ag.tensor(np.array([1.0, 2.0]) * (k + 1))
        loss = step(x)
        expected = (np.tanh(x.data * w.data) + 1).sum()
        np.testing.assert_allclose(loss.data, expected)
        np.testing.assert_allclose(w.grad.data, x.data * (1 - np.tanh(x.data * w.data) ** 2))


def test_the_class_defaults_of_a_node_are_per_node_once_set():
    """``saved`` and the params start as class defaults, the rare per-output notes as None; setting them on one
    node (a hook, a name, params) leaves every other node as it was."""
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    a, b = x.tanh(), x.tanh()
    assert a.grad_fn.params == {} and a.grad_fn._params is NO_PARAMS and a.grad_fn._extra is None
    assert (x + 1.0).grad_fn.saved == () and Op.saved == ()
    seen = []
    a.register_hook(lambda g: seen.append(g.numpy().copy()))
    a.name = "first"
    assert b.grad_fn._extra is None and b.name is None and a.grad_fn._extra is not None
    s = ag.sum(x, axis=0)
    assert dict(s.grad_fn.params) == {"axis": (0,), "keepdims": False} and Op._params is NO_PARAMS
    with pytest.raises(TypeError):
        s.grad_fn.params["axis"] = 1
    (a + b).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 - np.tanh([1.0, -2.0]) ** 2), rtol=1e-6)
