"""ONNX export of CNN, recurrent and Transformer models, run in onnxruntime and matched against graphgrad
(float32, 1e-5): a residual CNN with BatchNorm2d in eval at several batch sizes (dynamic batch axis), LSTM and
GRU classifiers (bidirectional, two layers, with and without lengths), a Transformer encoder layer."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from autograd import onnx as agx  # noqa: E402

RNG = np.random.default_rng(5)
BATCH = {"input": {0: "batch"}, "output": {0: "batch"}}


def _x(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def _check(model, path, example, others=(), dynamic_axes=None):
    """Export at ``example``; onnxruntime must match graphgrad there and at ``others`` (other batch sizes)."""
    proto = agx.export(model, example, path, dynamic_axes=dynamic_axes)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    for x in (example, *others):
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
        want = model(ag.tensor(x)).data
        assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return proto


class SmallResNet(nn.Module):
    """Stem (conv, BatchNorm2d, ReLU), two residual blocks (the second a projection with stride 2), a grouped
    dilated convolution, max and average pooling, a linear head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.Sequential(nn.ResidualBlock(8, 8), nn.ResidualBlock(8, 16, stride=2))
        self.grouped = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4)
        self.pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16, 5))

    def forward(self, x):
        return self.head(self.pool(self.grouped(self.blocks(self.stem(x)))))


def test_residual_cnn_with_batchnorm_in_eval_and_a_dynamic_batch(tmp_path):
    ag.manual_seed(0)
    m = SmallResNet()
    m.train()
    for _ in range(3):  # running statistics far from their initial 0 and 1
        m(ag.tensor(RNG.normal(1.5, 2.0, size=(6, 2, 8, 8)).astype(np.float32)))
    bn = m.stem[1]
    assert not np.allclose(bn.running_mean.data, 0.0) and not np.allclose(bn.running_var.data, 1.0)
    proto = _check(m, tmp_path / "cnn.onnx", _x(3, 2, 8, 8), others=(_x(1, 2, 8, 8), _x(7, 2, 8, 8)),
                   dynamic_axes=BATCH)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    kinds = {n.op_type for n in proto.graph.node}
    assert {"Conv", "MaxPool"} <= kinds
    assert any(n.op_type == "Conv" and any(a.name == "group" and a.i == 4 for a in n.attribute)
               for n in proto.graph.node)
    assert "blocks.1.shortcut.0.weight" in {i.name for i in proto.graph.initializer}


class RecurrentClassifier(nn.Module):
    """A 2-layer bidirectional LSTM or GRU over (batch, seq, features); the final states of the last layer's two
    directions feed a Linear. ``lengths`` (fixed) runs each sequence over its own length."""

    def __init__(self, kind, lengths=None):
        super().__init__()
        self.rnn = getattr(nn, kind)(4, 6, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(12, 3)
        self.lengths = lengths

    def forward(self, x):
        _, state = self.rnn(x, lengths=self.lengths)
        h_n = state[0] if isinstance(state, tuple) else state
        return self.fc(ag.concatenate([h_n[-2], h_n[-1]], axis=1))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("lengths", [None, [5, 2, 4]], ids=["full", "lengths"])
def test_recurrent_classifier_as_onnx_lstm_gru_nodes(tmp_path, kind, lengths):
    ag.manual_seed(1)
    m = RecurrentClassifier(kind, lengths)
    proto = _check(m, tmp_path / "rnn.onnx", _x(3, 5, 4))
    nodes = [n for n in proto.graph.node if n.op_type == kind]
    assert len(nodes) == 4  # two layers, two directions: one ONNX node each
    assert sorted(dict((a.name, a.s) for a in n.attribute)["direction"] for n in nodes) == \
        [b"forward", b"forward", b"reverse", b"reverse"]


def test_transformer_encoder_layer_in_eval(tmp_path):
    ag.manual_seed(2)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.2, batch_first=True)
    _check(layer, tmp_path / "enc.onnx", _x(2, 5, 8), others=(_x(1, 5, 8), _x(4, 5, 8)), dynamic_axes=BATCH)
    pre = nn.TransformerEncoderLayer(8, 4, dim_feedforward=12, dropout=0.2, activation="gelu", norm_first=True)
    _check(pre, tmp_path / "pre.onnx", _x(6, 3, 8))  # (seq, batch, d_model), pre-norm, GELU


class _Padded(nn.Module):
    """Positional encoding, then a two-layer encoder stack (final LayerNorm) with a fixed key padding mask."""

    def __init__(self):
        super().__init__()
        self.pe = nn.PositionalEncoding(8, 16, dropout=0.3, batch_first=True)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
                                             norm=nn.LayerNorm(8))

    def forward(self, x):
        mask = np.array([[False] * 5, [False] * 3 + [True] * 2])
        return self.encoder(self.pe(x), src_key_padding_mask=mask)


def test_transformer_encoder_with_positions_and_a_padding_mask(tmp_path):
    ag.manual_seed(3)
    proto = _check(_Padded(), tmp_path / "padded.onnx", _x(2, 5, 8))
    assert any(n.op_type == "Where" for n in proto.graph.node)  # the mask


def test_conv1d_and_1d_pooling_dynamic_batch(tmp_path):
    ag.manual_seed(4)
    m = nn.Sequential(nn.Conv1d(2, 4, 3, padding="same"), nn.MaxPool1d(2), nn.AvgPool1d(2, ceil_mode=True),
                      nn.AdaptiveAvgPool1d(3), nn.Flatten(), nn.Linear(12, 2))
    _check(m, tmp_path / "cnn1d.onnx", _x(3, 2, 11), others=(_x(1, 2, 11), _x(6, 2, 11)), dynamic_axes=BATCH)
