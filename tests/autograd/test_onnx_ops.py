"""ONNX export op by op: every registered op is classified exportable or not, and every registry entry whose
op is exportable is exported, run by onnxruntime and matched against graphgrad (float32, 1e-5)."""
import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import nn  # noqa: E402,F401  (nn's ops are registered too)
from autograd import Tensor, registry  # noqa: E402
from autograd import onnx as agx  # noqa: E402
from autograd.testing import op_inputs  # noqa: E402

# Registry variants whose op has an exporter but whose form ONNX cannot express: they must raise ExportError.
UNEXPORTABLE_VARIANTS = {
    "getitem[boolean mask]": "mask selects a number of elements",
    "getitem[mixed advanced]": "only an integer array along one axis",
    "einsum[ii->i]": "repeats a label", "einsum[ii]": "repeats a label", "einsum[i...i->...]": "repeats a label",
}
# x * (x > 0.5).data: a mask computed outside the graph. Export refuses it when the check trace changes the mask,
# which depends on the drawn values; tests/autograd/test_onnx.py checks the refusal on fixed values.
DATA_DEPENDENT = {"prod[with zeros]"}


def _op_names():
    return {c.name for c in registry.covered_ops() | registry.INTERNAL_OPS}


def test_every_registered_op_is_classified():
    names = _op_names()
    unclassified = sorted(n for n in names if n not in agx.EXPORTERS and n not in agx.NOT_EXPORTABLE)
    assert not unclassified, ("registered ops neither in autograd.onnx.EXPORTERS nor in NOT_EXPORTABLE "
                              f"(add an exporter or a reason): {unclassified}")
    both = sorted(set(agx.EXPORTERS) & set(agx.NOT_EXPORTABLE))
    assert not both, f"ops both exportable and not: {both}"
    assert all(isinstance(r, str) and r for r in agx.NOT_EXPORTABLE.values())


def _session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("entry", registry.entries(), ids=lambda e: e.id)
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_entry_runs_in_onnxruntime(entry, data):
    if entry.id in DATA_DEPENDENT:
        pytest.skip("a constant computed from the input's values; see test_onnx.py")
    inputs = data.draw(op_inputs(entry, dtype=np.float32))
    arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
    names = {c.name for c in entry.ops}
    unexportable = entry.id in UNEXPORTABLE_VARIANTS or names & set(agx.NOT_EXPORTABLE)
    if unexportable:
        match = UNEXPORTABLE_VARIANTS.get(entry.id, "cannot be exported")
        with pytest.raises(agx.ExportError, match=match):
            agx.export(entry.fn, arrays, None)
        return
    model = agx.export(entry.fn, arrays, None)
    expected = entry.fn(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    feeds = {i.name: a for i, a in zip(model.graph.input, arrays)}
    got = _session(model).run(None, feeds)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e.data, rtol=1e-5, atol=1e-5)
