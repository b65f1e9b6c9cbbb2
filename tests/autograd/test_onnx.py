"""ONNX export of whole models: run in onnxruntime and matched against graphgrad (float32, 1e-5), with a dynamic
batch axis checked at another batch size; names (state_dict keys, module scopes); errors that name the op."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from autograd import onnx as agx  # noqa: E402

RNG = np.random.default_rng(0)
BATCH = {"input": {0: "batch"}, "output": {0: "batch"}}


def _x(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def _run(model, path, *arrays):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, arrays)))


def _check(model, path, example, others=(), dynamic_axes=BATCH):
    """Export at ``example``, then compare onnxruntime with graphgrad at it and at ``others`` (other batch sizes)."""
    proto = agx.export(model, example, path, dynamic_axes=dynamic_axes)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    model.eval()
    for x in (example, *others):
        (got,) = _run(model, path, x)
        want = model(ag.tensor(x)).data
        assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return proto


def _trained_batchnorm_stats(model, width):
    """A few training batches so BatchNorm's running statistics are far from their initial 0 and 1."""
    model.train()
    for _ in range(3):
        model(ag.tensor(RNG.normal(2.0, 3.0, size=(8, width)).astype(np.float32)))
    model.eval()


def test_mlp_relu_dynamic_batch(tmp_path):
    ag.manual_seed(0)
    m = nn.MLP([6, 16, 8, 3])
    proto = _check(m, tmp_path / "mlp.onnx", _x(4, 6), others=(_x(1, 6), _x(13, 6)))
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 6
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_mlp_batchnorm_eval_layernorm_gelu_softmax(tmp_path):
    ag.manual_seed(1)
    m = nn.Sequential(nn.Linear(5, 12), nn.BatchNorm1d(12), nn.GELU(), nn.Dropout(0.5), nn.Linear(12, 12),
                      nn.LayerNorm(12), nn.GELU(approximate="tanh"), nn.Linear(12, 4), nn.Softmax(dim=-1))
    _trained_batchnorm_stats(m, 5)
    assert not np.allclose(m[1].running_var.data, 1.0)
    m.train()  # export traces in eval mode and leaves the mode as it found it
    _check(m, tmp_path / "bn.onnx", _x(7, 5), others=(_x(2, 5), _x(20, 5)))
    m.train()
    agx.export(m, _x(3, 5), None)
    assert m.training and m[1].training


@pytest.mark.parametrize("act", [nn.Tanh(), nn.Sigmoid(), nn.SiLU(), nn.ELU(0.7), nn.LeakyReLU(0.2), nn.PReLU(10),
                                 nn.LogSoftmax(dim=1), nn.Swish()], ids=lambda a: type(a).__name__)
def test_mlp_activations(tmp_path, act):
    ag.manual_seed(2)
    m = nn.Sequential(nn.Linear(4, 10), act, nn.Linear(10, 3))
    _check(m, tmp_path / "act.onnx", _x(5, 4), others=(_x(11, 4),))


def test_flatten_embedding_as_gather(tmp_path):
    ag.manual_seed(3)

    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 4)
            self.flat = nn.Flatten()
            self.out = nn.Linear(12, 2)

        def forward(self, idx):
            return self.out(self.flat(self.emb(idx)))

    m = Bag()
    idx = RNG.integers(0, 20, size=(5, 3))
    proto = agx.export(m, idx, tmp_path / "emb.onnx", dynamic_axes=BATCH)
    assert "Gather" in {n.op_type for n in proto.graph.node}
    for batch in (idx, RNG.integers(0, 20, size=(9, 3))):
        (got,) = _run(m, tmp_path / "emb.onnx", batch)
        np.testing.assert_allclose(got, m(ag.tensor(batch)).data, rtol=1e-5, atol=1e-5)


def test_batchnorm2d_eval_and_flatten_images(tmp_path):
    ag.manual_seed(8)
    m = nn.Sequential(nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 3), nn.ReLU())
    m.train()
    for _ in range(2):
        m(ag.tensor(RNG.normal(1.0, 2.0, size=(5, 3, 2, 2)).astype(np.float32)))
    _check(m, tmp_path / "flat.onnx", _x(2, 3, 2, 2), others=(_x(6, 3, 2, 2),))


def test_function_with_several_inputs_and_outputs(tmp_path):
    w = ag.tensor(_x(4, 3), requires_grad=True)

    def f(a, b):
        h = ag.concatenate([a, b], axis=1) @ w                          # (N, 3)
        left, right = ag.split(h.transpose(), [1])                       # (1, N), (2, N)
        return ag.stack([right[0], right[1]], axis=-1).reshape(-1, 2, 1), left.sum(axis=0).tanh()

    a, b = _x(5, 1), _x(5, 3)
    dyn = {"input_0": {0: "n"}, "input_1": {0: "n"}, "output_0": {0: "n"}, "output_1": {0: "n"}}
    agx.export(f, (a, b), tmp_path / "f.onnx", dynamic_axes=dyn)
    for n in (5, 8):
        a, b = _x(n, 1), _x(n, 3)
        got = _run(None, tmp_path / "f.onnx", a, b)
        want = f(ag.tensor(a), ag.tensor(b))
        assert len(got) == 2
        for g, t in zip(got, want):
            np.testing.assert_allclose(g, t.data, rtol=1e-5, atol=1e-5)


def test_initializers_are_state_dict_keys_and_nodes_are_named_by_scope(tmp_path):
    ag.manual_seed(4)
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    _trained_batchnorm_stats(m, 3)
    proto = agx.export(m, _x(2, 3), tmp_path / "names.onnx", input_names=["x"], output_names=["logits"])
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    sd = m.state_dict()
    for key in ("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "3.weight", "3.bias"):
        np.testing.assert_array_equal(inits[key], sd[key])
    scopes = {n.name.split("/")[0] for n in proto.graph.node}
    assert {"0", "1", "2", "3"} <= scopes
    assert any(n.name.startswith("0/linear") for n in proto.graph.node)  # nn.Linear records one linear node
    assert [i.name for i in proto.graph.input] == ["x"] and [o.name for o in proto.graph.output] == ["logits"]


def test_opset_18_reductions(tmp_path):
    ag.manual_seed(5)
    m = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.Linear(6, 2))
    proto = agx.export(m, _x(3, 4), tmp_path / "o18.onnx", opset=18)
    assert proto.opset_import[0].version == 18
    x = _x(3, 4)
    (got,) = _run(m, tmp_path / "o18.onnx", x)
    np.testing.assert_allclose(got, m(ag.tensor(x)).data, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- errors


class _Square(ag.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g


class _Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        return _Square.apply(self.lin(x))


def test_unexportable_op_names_the_op_and_the_module():
    m = nn.Sequential(nn.Linear(2, 2), _Custom())
    with pytest.raises(agx.ExportError, match=r"op '_Square' in module '1' \(_Custom\) cannot be exported: "
                                              r"a user autograd.Function"):
        agx.export(m, _x(3, 2), None)


def test_adding_an_exporter_is_one_function_in_the_table(tmp_path, monkeypatch):
    def square(ctx):
        x = ctx.input(0)
        ctx.add("Mul", [x, x], ctx.outputs)

    monkeypatch.setitem(agx.EXPORTERS, "_Square", square)
    ag.manual_seed(6)
    m = nn.Sequential(nn.Linear(2, 2), _Custom())
    _check(m, tmp_path / "custom.onnx", _x(3, 2), others=(_x(5, 2),))


def test_value_computed_outside_the_graph_is_refused():
    def f(x):
        return ag.where(x.data > 0.25, x, 0.0) * 2    # a mask from .data: not x > 0, so it would be frozen

    x = np.array([[0.5, -1.0, 0.1], [2.0, 0.3, -0.2]], dtype=np.float32)
    with pytest.raises(agx.ExportError, match=r"op 'where' .*input constant .*changed when the input changed"):
        agx.export(f, x, None)

    def g(x):
        return (x * (x.data > 0.5)).prod(axis=-1)
    with pytest.raises(agx.ExportError, match=r"op 'multiply'.*changed when the input changed"):
        agx.export(g, x, None)


def test_shape_computed_from_a_dynamic_axis_is_refused():
    def f(x):
        return x.reshape(x.shape[1], x.shape[0])                       # (N, M) -> (M, N): two fixed numbers

    with pytest.raises(agx.ExportError, match=r"op 'reshape'.*length of a dynamic axis"):
        agx.export(f, _x(3, 4), None, dynamic_axes={"input": [0, 1]})
    agx.export(f, _x(3, 4), None)                                      # fine without the dynamic axes


def test_reshape_whose_one_changing_axis_follows_the_batch_is_inferred(tmp_path):
    def f(x):
        return x.reshape(x.shape[0] * 2, 2).tanh()                     # (N, 4) -> (2N, 2): 2N written -1

    proto = agx.export(f, _x(3, 4), tmp_path / "r.onnx", dynamic_axes={"input": [0], "output": [0]})
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param
    x = _x(5, 4)
    (got,) = _run(None, tmp_path / "r.onnx", x)
    np.testing.assert_allclose(got, np.tanh(x.reshape(10, 2)), rtol=1e-6)


def test_control_flow_on_values_is_refused():
    def f(x):
        return x.exp() if x.data[0, 0] > 0 else x.tanh().sin()

    with pytest.raises(agx.ExportError, match="graph changes with the input"):
        agx.export(f, np.array([[1.0, -1.0], [-1.0, -1.0]], dtype=np.float32), None)


def test_argument_errors():
    m = nn.Linear(2, 2)
    x = _x(1, 2)
    with pytest.raises(ValueError, match="opset must be an int from 13"):
        agx.export(m, x, None, opset=11)
    with pytest.raises(ValueError, match="input_names must be 1 distinct"):
        agx.export(m, x, None, input_names=["a", "b"])
    with pytest.raises(ValueError, match="dynamic_axes names 'inp'"):
        agx.export(m, x, None, dynamic_axes={"inp": [0]})
    with pytest.raises(ValueError, match="dynamic axis 2 of 'input'"):
        agx.export(m, x, None, dynamic_axes={"input": [2]})
    with pytest.raises(TypeError, match="must return a Tensor"):
        agx.export(lambda t: t.data, x, None)
    with pytest.raises(TypeError, match="example input 0 must be a Tensor or a numeric array"):
        agx.export(m, ["a"], None)


def test_float64_model_stays_float64(tmp_path):
    ag.manual_seed(7)
    m = nn.Sequential(nn.Linear(3, 5, dtype=np.float64), nn.Tanh(), nn.Linear(5, 2, dtype=np.float64))
    x = RNG.normal(size=(4, 3))
    proto = agx.export(m, x, tmp_path / "f64.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    (got,) = _run(m, tmp_path / "f64.onnx", x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, m(ag.tensor(x)).data, rtol=1e-12, atol=1e-12)


def test_embedding_padding_idx(tmp_path):
    ag.manual_seed(9)
    m = nn.Sequential(nn.Embedding(6, 3, padding_idx=2), nn.Flatten(), nn.Linear(9, 2))
    idx = np.array([[2, 1, 5], [0, 2, 2]])
    proto = agx.export(m, idx, tmp_path / "pad.onnx", dynamic_axes=BATCH)
    assert "Equal" in {n.op_type for n in proto.graph.node}
    for batch in (idx, np.array([[3, 4, 2]]), RNG.integers(0, 6, size=(7, 3))):
        (got,) = _run(m, tmp_path / "pad.onnx", batch)
        np.testing.assert_allclose(got, m(ag.tensor(batch)).data, rtol=1e-5, atol=1e-5)


def test_scatter_add_with_repeated_and_negative_rows(tmp_path):
    def f(g, rows):
        return ag.scatter_add(g, (3, 2), rows)

    g, rows = _x(4, 2), np.array([0, -1, 0, 1])
    agx.export(f, (g, rows), tmp_path / "scatter.onnx")
    got = _run(None, tmp_path / "scatter.onnx", g, rows)[0]
    want = np.zeros((3, 2), np.float32)
    np.add.at(want, rows, g)                                            # independent NumPy computation
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    with pytest.raises(agx.ExportError, match="needs opset 16"):
        agx.export(f, (g, rows), None, opset=15)


def test_an_output_computed_outside_the_graph_is_refused():
    with pytest.raises(agx.ExportError, match=r"'output.value' changed when the input changed.*detach\(\)"):
        agx.export(lambda x: x.detach() * 2, _x(2, 3), None)
    with pytest.raises(agx.ExportError, match=r"op 'add'.*input constant.*changed"):
        agx.export(lambda x: x.exp() + x.detach(), _x(2, 3), None)
