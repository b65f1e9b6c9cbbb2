"""Co-attention units (SA, GA, SGA, MCA encoder-decoder, attentional reduction, classifier) against NumPy
references built from their parameters, padding invariance, gradcheck, errors, a tiny learning check."""
import numpy as np
import pytest

import autograd as ag
import nn

rng = np.random.default_rng(11)


def _p(module):
    return {k: np.asarray(v.data if isinstance(v, ag.Tensor) else v) for k, v in module.state_dict().items()}


def _np_mha(p, pre, x, y, pad=None, heads=2):
    """batch_first multi-head attention of queries x over y (keys = values), True in pad = ignored key."""
    E = x.shape[-1]
    D = E // heads
    W, b = p[pre + "in_proj_weight"], p[pre + "in_proj_bias"]

    def split(t):
        return t.reshape(t.shape[0], t.shape[1], heads, D).transpose(0, 2, 1, 3)

    q, k, v = split(x @ W[:E].T + b[:E]), split(y @ W[E:2 * E].T + b[E:2 * E]), split(y @ W[2 * E:].T + b[2 * E:])
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D)
    if pad is not None:
        s = np.where(pad[:, None, None, :], -np.inf, s)
    e = np.exp(s - s.max(-1, keepdims=True))
    o = (e / e.sum(-1, keepdims=True)) @ v
    o = o.transpose(0, 2, 1, 3).reshape(x.shape)
    return o @ p[pre + "out_proj.weight"].T + p[pre + "out_proj.bias"]


def _np_ln(p, pre, x):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5) * p[pre + "weight"] + p[pre + "bias"]


def _np_ffn(p, pre, x):
    h = np.maximum(x @ p[pre + "0.weight"].T + p[pre + "0.bias"], 0)
    return h @ p[pre + "3.weight"].T + p[pre + "3.bias"]


def _np_sa(p, pre, x, pad=None):
    x = _np_ln(p, pre + "norm1.", x + _np_mha(p, pre + "attn.", x, x, pad))
    return _np_ln(p, pre + "norm2.", x + _np_ffn(p, pre + "ffn.", x))


def _np_sga(p, pre, x, y, x_pad=None, y_pad=None):
    x = _np_ln(p, pre + "norm1.", x + _np_mha(p, pre + "self_attn.", x, x, x_pad))
    x = _np_ln(p, pre + "norm2.", x + _np_mha(p, pre + "guided_attn.", x, y, y_pad))
    return _np_ln(p, pre + "norm3.", x + _np_ffn(p, pre + "ffn.", x))


def _x(*shape):
    return rng.normal(size=shape)


def test_self_attention_unit_matches_numpy_with_padding():
    m = nn.SelfAttentionUnit(4, 2, 8).double().eval()
    x, pad = _x(2, 5, 4), np.array([[0, 0, 0, 1, 1], [0] * 5], bool)
    out, w = m(x, pad, need_weights=True)
    np.testing.assert_allclose(out.data, _np_sa(_p(m), "", x, pad), rtol=1e-10, atol=1e-12)
    assert w.shape == (2, 2, 5, 5)
    np.testing.assert_array_equal(w.data[0, :, :, 3:], 0.0)


def test_self_attention_unit_is_a_post_norm_transformer_encoder_layer():
    sa = nn.SelfAttentionUnit(8, 2, 16, dropout=0.0).double()
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    rename = {"attn.": "self_attn.", "ffn.0.": "linear1.", "ffn.3.": "linear2."}
    sd = {}
    for k, v in _p(sa).items():
        for a, b in rename.items():
            if k.startswith(a):
                k = b + k[len(a):]
        sd[k] = v
    layer.load_state_dict(sd)
    x = _x(3, 4, 8)
    np.testing.assert_allclose(sa(x).data, layer(x).data, rtol=1e-12)


def test_guided_attention_unit_matches_numpy_and_queries_come_from_x():
    m = nn.GuidedAttentionUnit(4, 2, 8).double().eval()
    x, y, y_pad = _x(2, 3, 4), _x(2, 6, 4), np.array([[0, 0, 1, 0, 0, 1], [0] * 6], bool)
    out, w = m(x, y, y_pad, need_weights=True)
    p = _p(m)
    ref = _np_ln(p, "norm1.", x + _np_mha(p, "attn.", x, y, y_pad))
    ref = _np_ln(p, "norm2.", ref + _np_ffn(p, "ffn.", ref))
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-12)
    assert out.shape == x.shape and w.shape == (2, 2, 3, 6)
    np.testing.assert_allclose(w.data.sum(-1), 1.0)


def test_sga_and_mca_encoder_decoder_match_numpy():
    m = nn.MCAEncoderDecoder(4, 2, num_layers=2, dim_feedforward=8).double().eval()
    x, y = _x(2, 3, 4), _x(2, 5, 4)
    x_pad, y_pad = np.array([[0, 0, 1], [0, 0, 0]], bool), np.array([[0, 0, 0, 0, 1], [0, 1, 0, 0, 0]], bool)
    gx, gy, maps = m(x, y, x_pad, y_pad, need_weights=True)
    p, rx, ry = _p(m), x, y
    for i in range(2):
        rx = _np_sa(p, f"encoder.{i}.", rx, x_pad)
    for i in range(2):
        ry = _np_sga(p, f"decoder.{i}.", ry, rx, y_pad, x_pad)
    np.testing.assert_allclose(gx.data, rx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gy.data, ry, rtol=1e-10, atol=1e-12)
    assert len(maps) == 2 and maps[0].shape == (2, 2, 5, 3)  # y positions over x positions
    np.testing.assert_array_equal(maps[1].data[0, :, :, 2], 0.0)  # padded x position gets no attention


def test_attentional_reduction_matches_numpy():
    m = nn.AttentionalReduction(4, hidden=6, out_features=5, glimpses=2).double().eval()
    x, pad = _x(2, 4, 4), np.array([[0, 1, 0, 0], [0, 0, 0, 0]], bool)
    out, w = m(x, pad, need_weights=True)
    p = _p(m)
    s = np.maximum(x @ p["mlp.0.weight"].T + p["mlp.0.bias"], 0) @ p["mlp.3.weight"].T + p["mlp.3.bias"]
    s = np.where(pad[:, :, None], -np.inf, s)
    a = np.exp(s - s.max(1, keepdims=True))
    a = a / a.sum(1, keepdims=True)  # (N, L, glimpses)
    pooled = np.einsum("nlg,nld->ngd", a, x).reshape(2, 8)
    np.testing.assert_allclose(out.data, pooled @ p["linear_merge.weight"].T + p["linear_merge.bias"], rtol=1e-10)
    np.testing.assert_allclose(w.data, a.transpose(0, 2, 1), rtol=1e-10)


def test_classifier_ignores_padded_positions_and_gradchecks():
    m = nn.CoAttentionClassifier(4, 2, num_classes=3, num_layers=1, dim_feedforward=6, dropout=0.0).double()
    x, y = _x(2, 3, 4), _x(2, 4, 4)
    x_pad, y_pad = np.array([[0, 0, 1], [0, 0, 0]], bool), np.array([[0, 0, 0, 1], [0, 0, 0, 0]], bool)
    out = m(x, y, x_pad, y_pad)
    assert out.shape == (2, 3)
    x2, y2 = x.copy(), y.copy()
    x2[0, 2] += 100.0
    y2[0, 3] -= 50.0
    np.testing.assert_allclose(m(x2, y2, x_pad, y_pad).data, out.data, rtol=1e-10)
    tx, ty = ag.tensor(x, requires_grad=True), ag.tensor(y, requires_grad=True)
    assert ag.gradcheck(lambda a, b: m(a, b, x_pad, y_pad), (tx, ty))


def test_errors_name_the_module_and_shapes():
    with pytest.raises(ValueError, match="embed_dim=6 must be divisible by num_heads=4"):
        nn.SelfAttentionUnit(6, 4)
    with pytest.raises(ValueError, match="MCAEncoderDecoder: num_layers must be a positive integer"):
        nn.MCAEncoderDecoder(4, 2, num_layers=0)
    m = nn.AttentionalReduction(4, 6, 5)
    with pytest.raises(ValueError, match=r"AttentionalReduction: mask of shape \(2, 3\).*\(N, L\)=\(2, 4\)"):
        m(np.zeros((2, 4, 4), np.float32), np.zeros((2, 3), bool))
    with pytest.raises(TypeError, match="AttentionalReduction: input has dtype float64"):
        m(np.zeros((2, 4, 4)))
    ga = nn.GuidedAttentionUnit(4, 2, 8)
    with pytest.raises(ValueError, match=r"MultiheadAttention.*batch sizes 2, 3, 3"):
        ga(np.zeros((2, 3, 4), np.float32), np.zeros((3, 5, 4), np.float32))


@pytest.mark.slow
def test_tiny_vqa_model_learns_beyond_chance():
    from nn.examples.coattention_vqa import train

    res = train(steps=120, batch=32, seed=0, log=None, d_model=16, nhead=2, dim_feedforward=32)
    assert res["accuracy"] > 0.15  # chance is 1/13 = 0.077 (the full example reaches 100 %)
