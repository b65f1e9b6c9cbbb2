"""Every registry entry, on hypothesis-drawn shapes and values in its domain: forward equals the
NumPy reference, gradcheck and gradgradcheck pass (float64), and float32 stays float32 end to end."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn  # noqa: F401  (importing registers nn's fused ops)
from autograd import Tensor, engine, registry
from autograd.testing import check_gradients, op_inputs

ENTRIES = registry.entries()


def _graph_ops(outputs):
    """Op classes in the graph behind ``outputs``."""
    seen, stack, found = set(), [o.grad_fn for o in outputs if o.grad_fn is not None], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.add(type(node))
        stack.extend(edge.node for edge in node.inputs if edge.node is not None)
    return found


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
@given(data=st.data())
def test_gradients_first_and_second_order(entry, data):
    inputs = data.draw(op_inputs(entry), label="inputs")
    check_gradients(entry.fn, *inputs, order=2 if entry.second_order else 1)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
@settings(max_examples=5)
@given(data=st.data())
def test_forward_matches_numpy_and_records_declared_ops(entry, data):
    inputs = data.draw(op_inputs(entry), label="inputs")
    outs = _as_tuple(entry.fn(*inputs))
    refs = _as_tuple(entry.reference(*[x.data if isinstance(x, Tensor) else x for x in inputs]))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert o.shape == np.shape(r)
        np.testing.assert_allclose(o.data, r, rtol=1e-12, atol=1e-12)
    recorded = _graph_ops(outs)
    for op_cls in entry.ops:
        assert any(issubclass(r, op_cls) for r in recorded), f"{entry.id} does not record {op_cls.__name__}"


class _DtypeSpy:
    """Observer recording the dtype of every gradient an op's backward produces."""

    def __init__(self):
        self.dtypes = []

    def on_forward(self, op, out):
        pass

    def on_backward(self, op, grad_out, grad_inputs):
        self.dtypes += [(op.name, g.dtype) for g in grad_inputs if g is not None]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@settings(max_examples=3)
@given(data=st.data())
def test_float32_stays_float32(entry, create_graph, data):
    if entry.name == "astype":
        return  # casting to float64 is what it is asked to do
    inputs = data.draw(op_inputs(entry, dtype=np.float32), label="inputs")
    outs = [o for o in _as_tuple(entry.fn(*inputs)) if o.requires_grad]
    for o in _as_tuple(entry.fn(*inputs)):
        assert o.dtype == np.float32, f"{entry.id}: output is {o.dtype}"
    spy = _DtypeSpy()
    engine.add_observer(spy)
    try:
        for o in outs:
            o.backward(np.ones(o.shape, np.float32), retain_graph=True, create_graph=create_graph)
    finally:
        engine.remove_observer(spy)
    assert all(d == np.float32 for _, d in spy.dtypes), f"{entry.id}: upcast in backward {spy.dtypes}"
    for x in inputs:
        if isinstance(x, Tensor) and x.grad is not None:
            assert x.grad.dtype == np.float32
