"""Layers: values against NumPy (Linear, MLP, BatchNorm, LayerNorm, Embedding), Dropout statistics, errors."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

rng = np.random.default_rng(7)


# ----------------------------------------------------------------------------- Linear, MLP, Flatten


def test_linear_shapes_defaults_and_values():
    m = nn.Linear(5, 3)
    assert m.weight.shape == (3, 5) and m.bias.shape == (3,)
    assert m.weight.dtype == np.float32 and m.weight.requires_grad
    assert list(m.state_dict()) == ["weight", "bias"]
    x = rng.normal(size=(4, 5)).astype(np.float32)
    y = m(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, x @ m.weight.data.T + m.bias.data, rtol=1e-5, atol=1e-6)
    x3 = rng.normal(size=(2, 4, 5)).astype(np.float32)  # extra leading dims are batch dims
    np.testing.assert_allclose(m(x3).data, x3 @ m.weight.data.T + m.bias.data, rtol=1e-5, atol=1e-6)
    nb = nn.Linear(5, 3, bias=False)
    assert nb.bias is None and list(nb.state_dict()) == ["weight"]
    np.testing.assert_allclose(nb(x).data, x @ nb.weight.data.T, rtol=1e-5, atol=1e-6)


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    ag.manual_seed(0)
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (m.weight.data, m.bias.data):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.95 * bound
    # U(-b, b) has variance b²/3.
    np.testing.assert_allclose(m.weight.data.var(), bound ** 2 / 3, rtol=0.02)


def test_linear_is_repeatable_under_manual_seed():
    ag.manual_seed(3)
    a = nn.Linear(4, 4).weight.data.copy()
    ag.manual_seed(3)
    b = nn.Linear(4, 4).weight.data.copy()
    np.testing.assert_array_equal(a, b)


def test_linear_gradients_match_closed_form_and_gradcheck():
    m = nn.Linear(3, 2, dtype=np.float64)
    x = ag.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    g = rng.normal(size=(4, 2))
    m(x).backward(g)
    np.testing.assert_allclose(m.weight.grad.data, g.T @ x.data, rtol=1e-12)
    np.testing.assert_allclose(m.bias.grad.data, g.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, g @ m.weight.data, rtol=1e-12)
    w = ag.tensor(m.weight.data.copy(), requires_grad=True)
    b = ag.tensor(m.bias.data.copy(), requires_grad=True)
    assert ag.gradcheck(F.linear, [x, w, b])


def test_linear_errors_name_the_shapes():
    m = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"Linear\(in_features=3, out_features=2, bias=True\): input of shape "
                                         r"\(4, 5\) has last dimension 5, expected in_features=3"):
        m(np.ones((4, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=r"linear: input shape \(4, 5\) does not match weight shape \(2, 3\)"):
        F.linear(np.ones((4, 5)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"bias shape \(3,\)"):
        F.linear(np.ones((1, 3)), np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="non-negative integer"):
        nn.Linear(-1, 2)


@pytest.mark.parametrize("kind", ["tensor", "ndarray"])
def test_linear_module_checks_replaced_parameters_for_either_input_kind(kind):
    m = nn.Linear(3, 2)
    a = rng.normal(size=(4, 3)).astype(np.float32)
    x = ag.tensor(a) if kind == "tensor" else a
    np.testing.assert_allclose(m(x).data, a @ m.weight.data.T + m.bias.data, rtol=1e-6)
    m.bias = nn.Parameter(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"linear: bias shape \(3,\) does not match weight shape \(2, 3\)"):
        m(x)
    m.weight = nn.Parameter(np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"linear: input shape \(4, 3\) does not match weight shape \(2, 4\)"):
        m(x)


def test_mlp_structure_keys_and_forward_vs_numpy():
    ag.manual_seed(1)
    mlp = nn.MLP([4, 8, 6, 3], activation="tanh")
    assert [type(m).__name__ for m in mlp] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert mlp.sizes == (4, 8, 6, 3)
    assert [(lin.in_features, lin.out_features) for lin in mlp.linears] == [(4, 8), (8, 6), (6, 3)]
    assert list(mlp.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    x = rng.normal(size=(5, 4)).astype(np.float32)
    h = x
    for i, lin in enumerate(mlp.linears):
        h = h @ lin.weight.data.T + lin.bias.data
        if i < 2:
            h = np.tanh(h)
    np.testing.assert_allclose(mlp(x).data, h, rtol=1e-5, atol=1e-6)


def test_mlp_options_output_activation_dropout_and_classes():
    mlp = nn.MLP([2, 3, 1], activation=nn.LeakyReLU, output_activation="sigmoid", dropout=0.2, bias=False)
    assert [type(m).__name__ for m in mlp] == ["Linear", "LeakyReLU", "Dropout", "Linear", "Sigmoid"]
    assert list(mlp.state_dict()) == ["0.weight", "3.weight"]
    shared = nn.PReLU()
    mlp2 = nn.MLP([2, 3, 3, 1], activation=shared)
    slopes = [m.weight for m in mlp2 if isinstance(m, nn.PReLU)]
    assert len(slopes) == 2 and slopes[0] is not slopes[1]  # each layer gets its own copy
    assert len(nn.MLP([3, 1], activation=None)) == 1
    with pytest.raises(ValueError, match="at least two positive integers"):
        nn.MLP([3])
    with pytest.raises(ValueError, match="unknown activation 'swoosh'"):
        nn.MLP([3, 2, 1], activation="swoosh")


def test_mlp_repr_and_training_reduces_loss():
    ag.manual_seed(2)
    mlp = nn.MLP([2, 16, 1], dtype=np.float64)
    assert repr(mlp).splitlines()[-1] == ")  # 65 params in total"
    head = mlp[:2]
    assert type(head) is nn.Sequential and list(head) == list(mlp)[:2]
    x = rng.normal(size=(64, 2))
    y = (x[:, :1] * x[:, 1:] > 0).astype(np.float64)
    first = None
    for _ in range(200):
        loss = F.binary_cross_entropy_with_logits(mlp(x), y)
        first = first if first is not None else loss.item()
        mlp.zero_grad()
        loss.backward()
        for p in mlp.parameters():
            p.data -= 0.5 * p.grad.data
    assert loss.item() < 0.6 * first


def test_flatten_and_identity():
    x = rng.normal(size=(2, 3, 4, 5))
    np.testing.assert_array_equal(nn.Flatten()(x).data, x.reshape(2, 60))
    np.testing.assert_array_equal(nn.Flatten(0, 1)(x).data, x.reshape(6, 4, 5))
    np.testing.assert_array_equal(nn.Flatten(1, 2)(x).data, x.reshape(2, 12, 5))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    with pytest.raises(ValueError, match="start_dim 2 comes after end_dim 1"):
        F.flatten(x, 2, 1)
    with pytest.raises(ValueError, match="dim 4 is out of range"):
        F.flatten(x, 4)
    t = ag.tensor(x)
    assert nn.Identity(1, key=2)(t) is t


# ----------------------------------------------------------------------------- Dropout


def test_dropout_zeroes_fraction_p_and_preserves_the_mean():
    ag.manual_seed(0)
    x = ag.tensor(np.ones((400, 500), dtype=np.float32), requires_grad=True)
    d = nn.Dropout(0.3)
    y = d(x)
    zeros = np.mean(y.data == 0)
    assert abs(zeros - 0.3) < 0.005
    np.testing.assert_allclose(y.data[y.data != 0], 1 / 0.7, rtol=1e-6)
    assert abs(y.data.mean() - 1.0) < 0.01
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # gradient uses the same mask and scale


def test_dropout_identity_in_eval_and_edge_probabilities():
    x = ag.tensor(rng.normal(size=(3, 4)))
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    assert F.dropout(x, 0.9, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="dropout"):
        F.dropout(x, -0.1)


def test_dropout_is_repeatable_under_manual_seed():
    x = np.ones((10, 10))
    ag.manual_seed(5)
    a = F.dropout(x, 0.5).data
    ag.manual_seed(5)
    b = F.dropout(x, 0.5).data
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- BatchNorm


def _bn_reference(x, axes, eps=1e-5):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def test_batchnorm1d_parameters_buffers_and_repr():
    bn = nn.BatchNorm1d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    np.testing.assert_array_equal(bn.weight.data, np.ones(4))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(4))
    assert bn.num_batches_tracked.data.dtype == np.int64 and bn.num_batches_tracked.item() == 0
    assert repr(bn) == "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    plain = nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    assert plain.state_dict() == {} and plain.weight is None


@pytest.mark.parametrize("shape,axes", [((8, 3), (0,)), ((4, 3, 5), (0, 2))])
def test_batchnorm1d_train_values_and_running_stats_after_two_steps(shape, axes):
    bn = nn.BatchNorm1d(3, momentum=0.2)
    bn.weight.data[:] = [1.0, 2.0, 0.5]
    bn.bias.data[:] = [0.0, -1.0, 3.0]
    cshape = (1, 3) + (1,) * (len(shape) - 2)
    rm, rv = np.zeros(3), np.ones(3)
    n = int(np.prod([shape[a] for a in axes]))
    for _ in range(2):
        x = rng.normal(loc=2.0, scale=3.0, size=shape).astype(np.float32)
        y = bn(x)
        expected = _bn_reference(x.astype(np.float64), axes) * bn.weight.data.reshape(cshape) + \
            bn.bias.data.reshape(cshape)
        np.testing.assert_allclose(y.data, expected, rtol=1e-4, atol=1e-4)
        rm = 0.8 * rm + 0.2 * x.mean(axis=axes)
        rv = 0.8 * rv + 0.2 * x.var(axis=axes) * n / (n - 1)  # unbiased in the running estimate
    np.testing.assert_allclose(bn.running_mean.data, rm, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, rv, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 2
    assert bn.running_mean.dtype == np.float32


def test_batchnorm_eval_uses_running_statistics():
    bn = nn.BatchNorm1d(2)
    bn.running_mean.data[:] = [1.0, -2.0]
    bn.running_var.data[:] = [4.0, 0.25]
    bn.weight.data[:] = [2.0, 1.0]
    bn.bias.data[:] = [0.5, 0.0]
    bn.eval()
    x = rng.normal(size=(5, 2)).astype(np.float32)
    expected = (x - [1.0, -2.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5) * [2.0, 1.0] + [0.5, 0.0]
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-5)
    before = bn.state_dict()
    bn(x)
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v, before[k])  # eval never touches the statistics
    single = bn(x[:1])  # one sample is fine in eval
    assert single.shape == (1, 2)


def test_batchnorm_cumulative_average_when_momentum_is_none():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    xs = [rng.normal(size=(6, 2)) for _ in range(3)]
    for x in xs:
        bn(x)
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.mean(axis=0) for x in xs], axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, np.mean([x.var(axis=0, ddof=1) for x in xs], axis=0),
                               rtol=1e-5)


def test_batchnorm_without_running_stats_always_uses_the_batch():
    bn = nn.BatchNorm1d(3, track_running_stats=False, dtype=np.float64).eval()
    x = rng.normal(size=(6, 3))
    np.testing.assert_allclose(bn(x).data, _bn_reference(x, (0,)), rtol=1e-6)


def test_batchnorm2d_values_and_gradcheck():
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    x = rng.normal(size=(2, 3, 4, 4))
    np.testing.assert_allclose(bn(x).data, _bn_reference(x, (0, 2, 3)), rtol=1e-10, atol=1e-12)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    xt = ag.tensor(rng.normal(size=(3, 2, 2, 2)), requires_grad=True)
    w = ag.tensor(np.array([1.5, 0.5]), requires_grad=True)
    b = ag.tensor(np.array([0.1, -0.2]), requires_grad=True)
    assert ag.gradcheck(lambda t, w, b: F.batch_norm(t, None, None, w, b, training=True), [xt, w, b])
    assert ag.gradgradcheck(lambda t: F.batch_norm(t, None, None, training=True), [xt])


def test_batchnorm_input_errors():
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected input of shape \(N, C\) or \(N, C, L\) with C=3, "
                                         r"got \(4, 2\)"):
        nn.BatchNorm1d(3)(np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape \(N, C, H, W\)"):
        nn.BatchNorm2d(3)(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=2.0)


# ----------------------------------------------------------------------------- LayerNorm


def test_layernorm_values_parameters_and_gradcheck():
    ln = nn.LayerNorm((3, 4), dtype=np.float64)
    assert ln.weight.shape == (3, 4) and list(ln.state_dict()) == ["weight", "bias"]
    ln.weight.data[...] = rng.uniform(0.5, 1.5, size=(3, 4))
    ln.bias.data[...] = rng.normal(size=(3, 4))
    x = rng.normal(size=(2, 3, 4))
    expected = _bn_reference(x, (1, 2)) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(ln(x).data, expected, rtol=1e-10, atol=1e-12)
    ln1 = nn.LayerNorm(4, elementwise_affine=False)
    assert list(ln1.parameters()) == []
    np.testing.assert_allclose(ln1(x.astype(np.float32)).data, _bn_reference(x, (2,)), rtol=1e-4, atol=1e-5)
    xt = ag.tensor(rng.normal(size=(2, 5)), requires_grad=True)
    w = ag.tensor(rng.uniform(0.5, 1.5, size=5), requires_grad=True)
    assert ag.gradcheck(lambda t, w: F.layer_norm(t, 5, w), [xt, w])
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
    with pytest.raises(ValueError, match=r"layer_norm: input shape \(2, 3, 4\) does not end with normalized_shape"):
        nn.LayerNorm(3)(x.astype(np.float32))


# ----------------------------------------------------------------------------- Embedding


def test_embedding_lookup_gradient_and_init():
    ag.manual_seed(0)
    emb = nn.Embedding(10, 3)
    assert emb.weight.shape == (10, 3) and list(emb.state_dict()) == ["weight"]
    idx = np.array([[1, 2, 1], [9, 0, 1]])
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    out.sum().backward()
    counts = np.bincount(idx.ravel(), minlength=10)[:, None] * np.ones((1, 3))
    np.testing.assert_array_equal(emb.weight.grad.data, counts)  # repeated indices accumulate
    big = nn.Embedding(1000, 100)
    assert abs(big.weight.data.mean()) < 0.01 and abs(big.weight.data.std() - 1.0) < 0.01


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    emb = nn.Embedding(5, 2, padding_idx=0)
    np.testing.assert_array_equal(emb.weight.data[0], [0, 0])
    idx = ag.tensor(np.array([0, 3, 0, 4]))
    emb(idx).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.data[0], [0, 0])
    np.testing.assert_array_equal(emb.weight.grad.data[3], [1, 1])
    assert repr(emb) == "Embedding(5, 2, padding_idx=0)"
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


def test_embedding_from_pretrained_and_errors():
    table = np.arange(6, dtype=np.float64).reshape(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(np.array([2, 0])).data, [[4, 5], [0, 1]])
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="index 3 is out of range for 3 embeddings"):
        emb(np.array([0, 3]))
    with pytest.raises(ValueError, match="padding_idx 7"):
        nn.Embedding(3, 2, padding_idx=7)


# ----------------------------------------------------------------------------- optional: PyTorch parity


def test_batchnorm_and_layernorm_match_pytorch_over_training_steps():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.BatchNorm1d(3, momentum=0.3), nn.LayerNorm(3)).double()
    theirs = torch.nn.Sequential(torch.nn.BatchNorm1d(3, momentum=0.3), torch.nn.LayerNorm(3)).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for _ in range(3):
        x = rng.normal(loc=1.0, scale=2.0, size=(5, 3, 4))  # (N, C, L); LayerNorm then sees (N, L, C)
        xt = torch.tensor(x, requires_grad=True)
        ref = theirs[1](theirs[0](xt).transpose(1, 2))
        g = rng.normal(size=ref.shape)
        ref.backward(torch.from_numpy(g))
        xo = ag.tensor(x, requires_grad=True)
        out = ours[1](ours[0](xo).transpose(0, 2, 1))
        out.backward(g)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-12, err_msg=k)
    ours.eval()
    theirs.eval()
    x = rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(ours[0](x).data, theirs[0](torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
