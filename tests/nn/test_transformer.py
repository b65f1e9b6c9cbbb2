"""TransformerEncoderLayer / TransformerEncoder against a NumPy reference and PyTorch (eval mode, weights
loaded key for key), PositionalEncoding's closed form, errors, and a tiny learning check."""
import copy

import numpy as np
import pytest

import autograd as ag
import nn

rng = np.random.default_rng(5)


def _np_layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * w + b


def _np_encoder_layer(m, x, norm_first):
    """NumPy forward of a batch_first TransformerEncoderLayer (eval mode, relu) from its parameters."""
    p = {k: np.asarray(v.data if isinstance(v, ag.Tensor) else v) for k, v in m.state_dict().items()}
    H = m.self_attn.num_heads
    N, L, E = x.shape
    D = E // H

    def sa(h):
        q, k, v = (t.reshape(N, L, H, D).transpose(0, 2, 1, 3)
                   for t in np.split(h @ p["self_attn.in_proj_weight"].T + p["self_attn.in_proj_bias"], 3, -1))
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D)
        e = np.exp(s - s.max(-1, keepdims=True))
        o = (e / e.sum(-1, keepdims=True)) @ v
        return o.transpose(0, 2, 1, 3).reshape(N, L, E) @ p["self_attn.out_proj.weight"].T + \
            p["self_attn.out_proj.bias"]

    def ff(h):
        a = np.maximum(h @ p["linear1.weight"].T + p["linear1.bias"], 0)
        return a @ p["linear2.weight"].T + p["linear2.bias"]

    def n1(h):
        return _np_layer_norm(h, p["norm1.weight"], p["norm1.bias"])

    def n2(h):
        return _np_layer_norm(h, p["norm2.weight"], p["norm2.bias"])

    if norm_first:
        x = x + sa(n1(x))
        return x + ff(n2(x))
    x = n1(x + sa(x))
    return n2(x + ff(x))


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_numpy(norm_first):
    m = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=norm_first).double().eval()
    x = rng.normal(size=(2, 5, 8))
    np.testing.assert_allclose(m(x).data, _np_encoder_layer(m, x, norm_first), rtol=1e-10, atol=1e-12)


def test_encoder_layer_submodule_names_and_deep_copies():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    assert [n for n, _ in layer.named_children()] == ["self_attn", "linear1", "dropout", "linear2", "norm1",
                                                       "norm2", "dropout1", "dropout2"]
    enc = nn.TransformerEncoder(layer, 3)
    assert [n for n, _ in enc.named_children()] == ["layers"]
    assert "layers.2.self_attn.in_proj_weight" in enc.state_dict()
    w0, w1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert w0 is not w1 and w0 is not layer.linear1.weight
    np.testing.assert_array_equal(w0.data, layer.linear1.weight.data)
    with ag.no_grad():
        w0.fill_(0.0)
    assert not np.all(w1.data == 0)


def test_encoder_gradcheck_float64():
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu", batch_first=True).double()
    enc = nn.TransformerEncoder(layer, 2)
    x = ag.tensor(rng.normal(size=(1, 3, 4)), requires_grad=True)
    mask = np.triu(np.ones((3, 3), bool), 1)
    assert ag.gradcheck(lambda x: enc(x, mask=mask), (x,))


def test_positional_encoding_closed_form_and_batch_layouts():
    pe = nn.PositionalEncoding(6, max_len=10, dropout=0.0)
    assert "pe" not in pe.state_dict()
    x = np.zeros((4, 2, 6), np.float32)
    out = pe(x).data
    assert out.dtype == np.float32
    p, i = 3, 1
    np.testing.assert_allclose(out[p, 0, 2 * i], np.sin(p / 10000 ** (2 * i / 6)), rtol=1e-6)
    np.testing.assert_allclose(out[p, 1, 2 * i + 1], np.cos(p / 10000 ** (2 * i / 6)), rtol=1e-6)
    np.testing.assert_allclose(out[0, 0], [0, 1, 0, 1, 0, 1], atol=1e-7)
    bf = nn.PositionalEncoding(6, max_len=10, dropout=0.0, batch_first=True)
    np.testing.assert_allclose(bf(x.transpose(1, 0, 2)).data, out.transpose(1, 0, 2))
    odd = nn.PositionalEncoding(5, max_len=3, dropout=0.0)
    assert odd.pe.shape == (3, 5)
    with pytest.raises(ValueError, match=r"PositionalEncoding: sequence length 11 .* exceeds max_len=10"):
        pe(np.zeros((11, 1, 6), np.float32))
    with pytest.raises(ValueError, match=r"PositionalEncoding: input of shape \(4, 2, 5\)"):
        pe(np.zeros((4, 2, 5), np.float32))


def test_errors():
    with pytest.raises(ValueError, match="embed_dim=10 must be divisible by num_heads=4"):
        nn.TransformerEncoderLayer(10, 4)
    with pytest.raises(ValueError, match="activation must be 'relu', 'gelu'"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 0)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True), 1)
    with pytest.raises(TypeError, match="TransformerEncoderLayer: input has dtype float64 but the layer's "
                                        "parameters are float32"):
        enc(np.zeros((2, 5, 8)))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(5, 2\) must be \(N, S\)=\(2, 5\)"):
        enc(np.zeros((2, 5, 8), np.float32), src_key_padding_mask=np.zeros((5, 2), bool))


# ----------------------------------------------------------------------------- against PyTorch


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_matches_torch_in_eval_mode(norm_first, activation, batch_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    kw = dict(dim_feedforward=16, dropout=0.1, activation=activation, batch_first=batch_first, norm_first=norm_first)
    tenc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kw), 2,
                                       norm=torch.nn.LayerNorm(8), enable_nested_tensor=False).eval()
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kw), 2, norm=nn.LayerNorm(8)).eval()
    res = enc.load_state_dict({k: v.detach().numpy() for k, v in tenc.state_dict().items()})
    assert not res.missing_keys and not res.unexpected_keys
    x = rng.normal(size=(3, 4, 8)).astype(np.float32)
    L = x.shape[1] if batch_first else x.shape[0]
    mask = np.triu(np.ones((L, L), bool), 1)
    pad = np.zeros((x.shape[0] if batch_first else x.shape[1], L), bool)
    pad[0, -1] = True
    tx, gx = torch.tensor(x, requires_grad=True), ag.tensor(x, requires_grad=True)
    to = tenc(tx, mask=torch.tensor(mask), src_key_padding_mask=torch.tensor(pad))
    go = enc(gx, mask=mask, src_key_padding_mask=pad)
    np.testing.assert_allclose(go.data, to.detach().numpy(), rtol=1e-4, atol=1e-5)
    cot = rng.normal(size=x.shape).astype(np.float32)
    (to * torch.tensor(cot)).sum().backward()
    (go * cot).sum().backward()
    np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, p in tenc.named_parameters():
        np.testing.assert_allclose(enc.get_parameter(name).grad.data, p.grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)


def test_train_mode_dropout_matches_eval_when_p_is_zero_and_differs_otherwise():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = rng.normal(size=(4, 2, 8)).astype(np.float32)
    ev = copy.deepcopy(layer).eval()
    assert not np.allclose(layer.train()(x).data, ev(x).data)
    zero = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    np.testing.assert_allclose(zero.train()(x).data, zero.eval()(x).data)


@pytest.mark.slow
def test_tiny_encoder_learns_to_copy_a_token_from_another_position():
    """y_t = x_{L-1-t}: only attention can move the token, so the loss drop shows it learned to attend."""
    from nn.examples.transformer_reverse import train

    acc = train(steps=150, length=5, vocab=5, d_model=32, nhead=2, layers=1, batch=32, seed=0, log=None)["accuracy"]
    assert acc > 0.9
