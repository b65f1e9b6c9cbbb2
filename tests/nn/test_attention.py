"""scaled_dot_product_attention and MultiheadAttention: values and gradients against a NumPy reference,
mask semantics, all-masked rows, stability, gradcheck, PyTorch parity (state_dict key for key), errors."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

rng = np.random.default_rng(3)


def _np_sdpa(q, k, v, keep=None, add=None, scale=None):
    """NumPy reference: forward values and a hand-written backward for the upstream gradient G."""
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if add is not None:
        s = s + add
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    m = s.max(-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0))
    t = e.sum(-1, keepdims=True)
    p = e / np.where(t > 0, t, 1)
    out = p @ v

    def backward(g):
        dp = g @ np.swapaxes(v, -1, -2)
        dv = np.swapaxes(p, -1, -2) @ g
        ds = p * (dp - (dp * p).sum(-1, keepdims=True))
        return ds @ k * scale, np.swapaxes(ds, -1, -2) @ q * scale, dv

    return out, p, backward


def _leaves(*arrays):
    return [ag.tensor(a, requires_grad=True) for a in arrays]


# ----------------------------------------------------------------------------- SDPA against NumPy


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal"])
def test_sdpa_values_and_gradients_match_numpy(mask):
    q, k, v = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 6, 7))
    keep = add = attn_mask = None
    is_causal = mask == "causal"
    if mask == "bool":
        keep = attn_mask = rng.random((4, 6)) > 0.3
        keep[:, 0] = True
    elif mask == "float":
        add = attn_mask = rng.normal(size=(3, 4, 6))
    elif is_causal:
        keep = np.tril(np.ones((4, 6), bool))
    out, _, back = _np_sdpa(q, k, v, keep, add)
    tq, tk, tv = _leaves(q, k, v)
    got = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=attn_mask, is_causal=is_causal)
    np.testing.assert_allclose(got.data, out, rtol=1e-10, atol=1e-12)
    g = rng.normal(size=out.shape)
    got.backward(ag.tensor(g))
    for t, want in zip((tq, tk, tv), back(g)):
        np.testing.assert_allclose(t.grad.data, want, rtol=1e-9, atol=1e-12)


def test_sdpa_custom_scale_and_float32_stays_float32():
    q, k, v = (rng.normal(size=(3, 4)).astype(np.float32) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, scale=0.3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, _np_sdpa(q, k, v, scale=0.3)[0], rtol=1e-5, atol=1e-6)
    mask = rng.normal(size=(3, 3))  # a float64 additive mask does not promote float32 scores
    assert F.scaled_dot_product_attention(q, k, v, attn_mask=mask).dtype == np.float32


def test_bool_mask_is_the_additive_mask_with_minus_infinity():
    q, k, v = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 3))
    keep = rng.random((2, 4, 5)) > 0.4
    keep[..., 2] = True
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    b = F.scaled_dot_product_attention(q, k, v, attn_mask=np.where(keep, 0.0, -np.inf))
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12)
    causal = F.scaled_dot_product_attention(q, k[:, :4], v[:, :4], is_causal=True)
    explicit = F.scaled_dot_product_attention(q, k[:, :4], v[:, :4], attn_mask=np.tril(np.ones((4, 4), bool)))
    np.testing.assert_allclose(causal.data, explicit.data, rtol=1e-12)
    # the first causal query sees only key 0, so it returns value 0
    np.testing.assert_allclose(causal.data[:, 0], v[:, 0], rtol=1e-12)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_all_masked_row_gives_zeros_and_finite_gradients(kind):
    q, k, v = _leaves(rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2)))
    keep = np.ones((3, 5), bool)
    keep[1] = False
    mask = keep if kind == "bool" else np.where(keep, 0.0, -np.inf)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    np.testing.assert_array_equal(out.data[1], 0.0)
    (out * out).sum().backward()
    for t in (q, k, v):
        assert np.isfinite(t.grad.data).all()
    np.testing.assert_array_equal(q.grad.data[1], 0.0)
    ref = _np_sdpa(q.data[[0, 2]], k.data, v.data)[0]
    np.testing.assert_allclose(out.data[[0, 2]], ref, rtol=1e-12)


def test_huge_logits_stay_finite():
    q = _leaves(np.array([[1e4, 0.0], [0.0, -1e4]]))[0]
    k = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    v = np.eye(3)
    out = F.scaled_dot_product_attention(q, k, v, scale=1.0)
    np.testing.assert_allclose(out.data, [[0, 1, 0], [0.5, 0.5, 0]], atol=1e-12)
    out.sum().backward()
    assert np.isfinite(q.grad.data).all()
    s = ag.masked_softmax(ag.tensor(np.array([1e4, 1e4 - 1.0, -1e4])))
    np.testing.assert_allclose(s.data, [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0], rtol=1e-12)


def test_sdpa_gradcheck_first_and_second_order_float64():
    q, k, v = _leaves(rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3)))
    keep = rng.random((3, 5)) > 0.3
    keep[:, 0] = True
    keep[2] = False  # one all-masked row too

    def f(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=keep)

    assert ag.gradcheck(f, (q, k, v))
    assert ag.gradgradcheck(f, (q, k, v))


def test_sdpa_dropout_zeroes_weights_and_is_repeatable():
    q, k, v = rng.normal(size=(6, 4)), rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
    ag.manual_seed(1)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ag.manual_seed(1)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.allclose(a.data, F.scaled_dot_product_attention(q, k, v).data)


# ----------------------------------------------------------------------------- errors


def test_sdpa_errors_name_the_function_and_shapes():
    q, k, v = np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 5, 6))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: query of shape \(2, 3, 4\) and key of "
                                         r"shape \(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, np.zeros((2, 5, 3)), v)
    with pytest.raises(ValueError, match=r"key of shape \(2, 5, 4\) and value of shape \(2, 4, 6\)"):
        F.scaled_dot_product_attention(q, k, np.zeros((2, 4, 6)))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 4\) does not broadcast.*\(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 4), bool))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), bool), is_causal=True)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.scaled_dot_product_attention(np.zeros(4), k, v)
    with pytest.raises(TypeError, match="boolean or floating"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), int))


def test_multihead_attention_errors_name_the_module_and_shapes():
    with pytest.raises(ValueError, match="embed_dim=10 must be divisible by num_heads=3"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(8, 2)
    x = np.zeros((5, 2, 8), np.float32)
    with pytest.raises(ValueError, match=r"MultiheadAttention\(embed_dim=8.*key of shape \(5, 2, 6\) must have 8"):
        m(x, np.zeros((5, 2, 6), np.float32), x)
    with pytest.raises(ValueError, match=r"key of shape \(5, 2, 8\) and value of shape \(4, 2, 8\)"):
        m(x, x, np.zeros((4, 2, 8), np.float32))
    # batch_first confusion: (N, L, E) given to a sequence-first module with a differently shaped key
    with pytest.raises(ValueError, match=r"batch sizes 2, 3, 3 along dimension 1.*batch_first=False"):
        m(x, np.zeros((5, 3, 8), np.float32), np.zeros((5, 3, 8), np.float32))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(5, 2\) must be \(N, S\)=\(2, 5\)"):
        m(x, x, x, key_padding_mask=np.zeros((5, 2), bool))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(5, 4\) must be \(L, S\)=\(5, 5\)"):
        m(x, x, x, attn_mask=np.zeros((5, 4), bool))
    with pytest.raises(ValueError, match="all be 3-D"):
        m(x, x[0], x[0])
    with pytest.raises(TypeError, match="dtype float64 but the module's parameters are float32"):
        m(x.astype(np.float64), x, x)
    with pytest.raises(TypeError, match="query must be floating point, got dtype int64"):
        m(np.zeros((5, 2, 8), np.int64), x, x)
    with pytest.raises(ValueError, match="is_causal=True is a hint"):
        m(x, x, x, is_causal=True)


# ----------------------------------------------------------------------------- MultiheadAttention


def test_multihead_attention_parameters_and_init():
    ag.manual_seed(0)
    m = nn.MultiheadAttention(64, 4)
    assert list(m.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    bound = np.sqrt(6 / (64 + 192))  # xavier_uniform_ on (192, 64)
    w = m.in_proj_weight.data
    assert w.shape == (192, 64) and np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_array_equal(m.in_proj_bias.data, 0.0)
    np.testing.assert_array_equal(m.out_proj.bias.data, 0.0)
    assert isinstance(m.out_proj, nn.Linear)
    m2 = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True, bias=False)
    assert sorted(m2.state_dict()) == ["bias_k", "bias_v", "k_proj_weight", "out_proj.weight", "q_proj_weight",
                                       "v_proj_weight"]
    assert m2.k_proj_weight.shape == (8, 3) and m2.v_proj_weight.shape == (8, 5) and m2.bias_k.shape == (1, 1, 8)


def test_multihead_attention_matches_a_numpy_reference():
    m = nn.MultiheadAttention(6, 2, batch_first=True).double()
    x = rng.normal(size=(2, 4, 6))
    pad = np.array([[False, False, False, True], [False] * 4])
    out, w = m(x, x, x, key_padding_mask=pad, average_attn_weights=False)
    W, b = m.in_proj_weight.data, m.in_proj_bias.data
    q, k, v = (t.reshape(2, 4, 2, 3).transpose(0, 2, 1, 3) for t in np.split(x @ W.T + b, 3, axis=-1))
    o, p, _ = _np_sdpa(q, k, v, keep=~pad[:, None, None, :])
    ref = o.transpose(0, 2, 1, 3).reshape(2, 4, 6) @ m.out_proj.weight.data.T + m.out_proj.bias.data
    np.testing.assert_allclose(out.data, ref, rtol=1e-10)
    np.testing.assert_allclose(w.data, p, rtol=1e-10)
    np.testing.assert_array_equal(w.data[0, :, :, 3], 0.0)


def test_key_padding_mask_equals_the_per_batch_attn_mask_and_all_masked_rows_are_finite():
    m = nn.MultiheadAttention(4, 2).double()
    x = ag.tensor(rng.normal(size=(3, 2, 4)), requires_grad=True)
    pad = np.array([[False, True, False], [True, True, True]])  # batch 1: every key padded
    a, wa = m(x, x, x, key_padding_mask=pad)
    full = np.repeat(np.broadcast_to(pad[:, None, :], (2, 3, 3)), 2, axis=0)  # (N·H, L, S)
    b, wb = m(x, x, x, attn_mask=full)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12)
    np.testing.assert_allclose(wa.data, wb.data, rtol=1e-12)
    np.testing.assert_allclose(a.data[:, 1], np.broadcast_to(m.out_proj.bias.data, (3, 4)))  # documented result
    np.testing.assert_array_equal(wa.data[1], 0.0)
    a.sum().backward()
    assert np.isfinite(x.grad.data).all() and all(np.isfinite(p.grad.data).all() for p in m.parameters())
    float_pad = np.where(pad, -np.inf, 0.0)
    np.testing.assert_allclose(m(x, x, x, key_padding_mask=float_pad)[0].data, a.data, rtol=1e-12)


def test_multihead_attention_gradcheck_float64():
    m = nn.MultiheadAttention(4, 2, add_bias_kv=True).double()
    q, k = _leaves(rng.normal(size=(2, 1, 4)), rng.normal(size=(3, 1, 4)))
    mask = np.array([[False, True, False], [False, False, True]])

    def f(q, k, *params):
        return m(q, k, k, attn_mask=mask)[0]

    assert ag.gradcheck(f, (q, k, m.in_proj_weight, m.bias_k))


def test_multihead_attention_second_order_and_unbatched_equals_batched():
    m = nn.MultiheadAttention(4, 2).double()
    x = ag.tensor(rng.normal(size=(3, 1, 4)), requires_grad=True)
    assert ag.gradgradcheck(lambda x: m(x, x, x)[0], (x,))
    out, w = m(x.data[:, 0], x.data[:, 0], x.data[:, 0])  # unbatched (L, E)
    ob, wb = m(x.data, x.data, x.data)
    np.testing.assert_allclose(out.data, ob.data[:, 0], rtol=1e-12)
    np.testing.assert_allclose(w.data, wb.data[0], rtol=1e-12)


# ----------------------------------------------------------------------------- against PyTorch


def _torch_pair(**kw):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(**kw)
    m = nn.MultiheadAttention(**kw)
    result = m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return torch, tm, m


def _compare(torch, tm, m, arrays, same=(), **kw):
    """Run both modules on the same inputs; compare outputs, weights and every gradient."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    gs = [ag.tensor(a, requires_grad=True) for a in arrays]
    targs = [ts[i] for i in (same or range(3))]
    gargs = [gs[i] for i in (same or range(3))]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    to, tw = tm(*targs, **tkw)
    go, gw = m(*gargs, **kw)
    np.testing.assert_allclose(go.data, to.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert (gw is None) == (tw is None)
    cot = rng.normal(size=go.shape).astype(np.float32)
    tloss, gloss = (to * torch.tensor(cot)).sum(), (go * cot).sum()
    if tw is not None:
        np.testing.assert_allclose(gw.data, tw.detach().numpy(), rtol=1e-4, atol=1e-6)
        tloss, gloss = tloss + (tw ** 2).sum(), gloss + (gw ** 2).sum()
    tloss.backward()
    gloss.backward()
    for t, g in zip(ts, gs):
        np.testing.assert_allclose(g.grad.data, t.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(m.get_parameter(name).grad.data, p.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)


def _x(*shape):
    return rng.normal(size=shape).astype(np.float32)


def test_against_torch_self_attention_sequence_first():
    torch, tm, m = _torch_pair(embed_dim=8, num_heads=2)
    _compare(torch, tm, m, [_x(5, 3, 8)], same=(0, 0, 0))


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
def test_against_torch_cross_attention_batch_first_with_masks_per_head_weights():
    torch, tm, m = _torch_pair(embed_dim=8, num_heads=4, batch_first=True)
    pad = np.zeros((2, 6), bool)
    pad[0, 4:] = True
    _compare(torch, tm, m, [_x(2, 3, 8), _x(2, 6, 8), _x(2, 6, 8)], key_padding_mask=pad,
             attn_mask=_x(3, 6), average_attn_weights=False)


def test_against_torch_kdim_vdim_add_bias_kv_and_need_weights_false():
    torch, tm, m = _torch_pair(embed_dim=8, num_heads=2, kdim=3, vdim=5, add_bias_kv=True)
    mask = np.zeros((4, 7), bool)
    mask[:, 1] = True
    _compare(torch, tm, m, [_x(4, 2, 8), _x(7, 2, 3), _x(7, 2, 5)], attn_mask=mask)
    _compare(torch, tm, m, [_x(4, 2, 8), _x(7, 2, 3), _x(7, 2, 5)], need_weights=False)


def test_against_torch_shared_key_value_unbatched_and_zero_attn_no_bias():
    torch, tm, m = _torch_pair(embed_dim=6, num_heads=3, add_zero_attn=True, bias=False)
    _compare(torch, tm, m, [_x(4, 6), _x(5, 6)], same=(0, 1, 1), attn_mask=_x(3, 4, 5))
