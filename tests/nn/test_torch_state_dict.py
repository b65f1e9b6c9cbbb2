"""PyTorch weights both ways, per layer family: the same architecture in both libraries, weights moved each
way key for key, then outputs and gradients (input and every parameter) compared."""
import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _randomize_torch(tm):
    """Move every floating parameter away from its init so a key mix-up cannot go unnoticed."""
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.from_numpy(RNG.normal(0.3, 0.5, size=tuple(p.shape)).astype(np.float32)))


def _randomize_ours(m):
    with ag.no_grad():
        for p in m.parameters():
            p.copy_(RNG.normal(-0.2, 0.6, size=p.shape).astype(np.float32))


def _close(actual, want, atol, err_msg=""):
    """float32 agreement: ``atol`` relative to the largest value of ``want`` (rounding grows with the values'
    size, and small entries are sums of large terms that cancel), plus a relative 1e-5."""
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(actual, want, atol=atol * scale, rtol=1e-5, err_msg=err_msg)


def _compare(m, tm, x, integer_input=False, atol=1e-5):
    """Outputs, the input's gradient and every parameter's gradient agree (float32)."""
    xt = torch.from_numpy(x.copy())
    if not integer_input:
        xt.requires_grad_(True)
    out_t = tm(xt)
    g = RNG.normal(size=tuple(out_t.shape)).astype(np.float32)
    (out_t * torch.from_numpy(g)).sum().backward()
    xa = ag.tensor(x, requires_grad=not integer_input)
    out = m(xa)
    assert out.dtype == np.float32
    _close(out.data, out_t.detach().numpy(), atol)
    (out * g).sum().backward()
    if not integer_input:
        _close(xa.grad.data, xt.grad.numpy(), atol)
    torch_grads = {k: p.grad for k, p in tm.named_parameters()}
    ours = dict(m.named_parameters())
    assert set(ours) == set(torch_grads)
    for k, p in ours.items():
        _close(p.grad.data, torch_grads[k].numpy(), atol, err_msg=k)


def _both_ways(make_ours, make_torch, x, integer_input=False, train_steps=None):
    """torch -> graphgrad through from_torch_state_dict, and graphgrad -> torch through to_torch_state_dict."""
    tm, m = make_torch(), make_ours()
    _randomize_torch(tm)
    if train_steps:
        train_steps(tm, m, "torch")
    sd = nn.from_torch_state_dict(tm.state_dict())
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert list(sd) == list(tm.state_dict())
    m.load_state_dict(sd)
    _compare(m, tm, x, integer_input)

    tm2, m2 = make_torch(), make_ours()
    _randomize_ours(m2)
    if train_steps:
        train_steps(tm2, m2, "ours")
    tsd = nn.to_torch_state_dict(m2)
    assert all(isinstance(v, torch.Tensor) for v in tsd.values())
    result = tm2.load_state_dict(tsd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    _compare(m2, tm2, x, integer_input)


def test_linear_and_mlp():
    x = RNG.normal(size=(5, 4)).astype(np.float32)
    _both_ways(lambda: nn.Linear(4, 3), lambda: torch.nn.Linear(4, 3), x)
    _both_ways(lambda: nn.MLP([4, 8, 6, 3], activation="tanh"),
               lambda: torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 6),
                                           torch.nn.Tanh(), torch.nn.Linear(6, 3)), x)


def _training_batches(shape):
    """A few training-mode batches on the side that owns the weights, so running stats are not the initial ones."""
    def run(tm, m, who):
        for _ in range(3):
            xb = RNG.normal(1.0, 2.0, size=shape).astype(np.float32)
            if who == "torch":
                tm.train()
                tm(torch.from_numpy(xb))
            else:
                m.train()
                m(ag.tensor(xb))
        tm.eval()
        m.eval()
    return run


@pytest.mark.parametrize("shape", [(6, 3), (6, 3, 5), (4, 3, 2, 3)])
def test_batchnorm_running_stats_and_counter(shape):
    ours, theirs = (nn.BatchNorm1d, torch.nn.BatchNorm1d) if len(shape) < 4 else (nn.BatchNorm2d,
                                                                                   torch.nn.BatchNorm2d)
    x = RNG.normal(0.5, 1.5, size=shape).astype(np.float32)
    _both_ways(lambda: ours(3), lambda: theirs(3), x, train_steps=_training_batches(shape))
    # the counter and statistics crossed exactly, in both directions, with their dtypes
    tm, m = theirs(3), ours(3)
    _training_batches(shape)(tm, m, "torch")
    sd = nn.from_torch_state_dict(tm.state_dict())
    assert sd["num_batches_tracked"].dtype == np.int64 and int(sd["num_batches_tracked"]) == 3
    m.load_state_dict(tm.state_dict())  # torch tensors accepted directly
    np.testing.assert_array_equal(m.running_var.data, tm.running_var.numpy())
    back = nn.to_torch_state_dict(m)
    assert back["num_batches_tracked"].dtype == torch.int64 and back["num_batches_tracked"].shape == ()
    assert back["num_batches_tracked"].item() == 3
    # training mode too: batch statistics, and the running statistics update the same way
    m.train()
    tm.train()
    _compare(m, tm, x)
    np.testing.assert_allclose(m.running_mean.data, tm.running_mean.numpy(), atol=1e-6)
    np.testing.assert_allclose(m.running_var.data, tm.running_var.numpy(), atol=1e-5)
    assert int(m.num_batches_tracked.data) == tm.num_batches_tracked.item() == 4


def test_layernorm():
    x = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    _both_ways(lambda: nn.LayerNorm(5), lambda: torch.nn.LayerNorm(5), x)
    _both_ways(lambda: nn.LayerNorm((4, 5)), lambda: torch.nn.LayerNorm((4, 5)), x)


def test_embedding():
    idx = RNG.integers(0, 7, size=(3, 4)).astype(np.int64)
    _both_ways(lambda: nn.Embedding(7, 5), lambda: torch.nn.Embedding(7, 5), idx, integer_input=True)


def test_prelu_shared_and_per_channel():
    x = RNG.normal(size=(4, 3, 2)).astype(np.float32)
    _both_ways(lambda: nn.PReLU(), lambda: torch.nn.PReLU(), x)
    _both_ways(lambda: nn.PReLU(3), lambda: torch.nn.PReLU(3), x)


def test_load_state_dict_takes_torch_parameters_requiring_grad():
    tm = torch.nn.Linear(3, 2)
    m = nn.Linear(3, 2)
    m.load_state_dict(dict(tm.named_parameters()))  # Parameters require grad; they are detached on the way
    np.testing.assert_array_equal(m.weight.data, tm.weight.detach().numpy())
    assert m.weight.dtype == np.float32


def test_copies_not_views():
    tm = torch.nn.Linear(2, 2)
    sd = nn.from_torch_state_dict(tm.state_dict())
    with torch.no_grad():
        tm.weight.zero_()
    assert np.any(sd["weight"] != 0)
    m = nn.Linear(2, 2)
    tsd = nn.to_torch_state_dict(m)
    tsd["weight"].zero_()
    assert np.any(m.weight.data != 0)


def test_errors_name_the_key():
    with pytest.raises(TypeError, match="from_torch_state_dict: expected a mapping"):
        nn.from_torch_state_dict([1, 2])
    with pytest.raises(TypeError, match="key 'w'.*bfloat16"):
        nn.from_torch_state_dict({"w": torch.zeros(2, dtype=torch.bfloat16)})
    with pytest.raises(TypeError, match="key 'w'"):
        nn.from_torch_state_dict({"w": "text"})
    with pytest.raises(TypeError, match="to_torch_state_dict: expected an nn.Module"):
        nn.to_torch_state_dict({"w": np.zeros(2)})


def test_numpy_state_dict_accepted():
    m = nn.Linear(2, 3)
    sd = nn.from_torch_state_dict(m.state_dict())
    n = nn.Linear(2, 3)
    n.load_state_dict(sd)
    np.testing.assert_array_equal(n.bias.data, m.bias.data)


def test_to_torch_without_torch_says_so(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "torch", None)  # what an environment without PyTorch looks like to import
    with pytest.raises(ImportError, match="to_torch_state_dict: PyTorch is not installed"):
        nn.to_torch_state_dict(nn.Linear(2, 2))


# ----------------------------------------------------------------------------- convolution, recurrent, attention

class _TorchResidualBlock(torch.nn.Module):
    """PyTorch's side of nn.ResidualBlock, same attribute names: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut)."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        T = torch.nn
        self.conv1, self.bn1 = T.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), T.BatchNorm2d(cout)
        self.conv2, self.bn2 = T.Conv2d(cout, cout, 3, padding=1, bias=False), T.BatchNorm2d(cout)
        self.shortcut = T.Sequential(T.Conv2d(cin, cout, 1, stride=stride, bias=False), T.BatchNorm2d(cout)) \
            if stride != 1 or cin != cout else T.Identity()

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


def _eval_outputs_agree(m, tm, x):
    """After the training-mode comparison (which updated both models' running statistics): eval outputs agree."""
    m.eval()
    tm.eval()
    with torch.no_grad():
        want = tm(torch.from_numpy(x)).numpy()
    _close(m(ag.tensor(x)).data, want, 1e-5)


def test_conv2d_residual_blocks_with_batchnorm2d():
    x = RNG.normal(size=(4, 3, 8, 8)).astype(np.float32)

    def ours():
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, dilation=1, groups=1), nn.ResidualBlock(4, 4),
                             nn.ResidualBlock(4, 8, stride=2), nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2))

    def theirs():
        return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), _TorchResidualBlock(4, 4),
                                   _TorchResidualBlock(4, 8, stride=2),
                                   torch.nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2))

    tm, m = theirs(), ours()
    _randomize_torch(tm)
    m.load_state_dict(nn.from_torch_state_dict(tm.state_dict()))
    _compare(m, tm, x, atol=2e-5)
    _eval_outputs_agree(m, tm, x)
    m2, tm2 = ours(), theirs()
    _randomize_ours(m2)
    assert not tm2.load_state_dict(nn.to_torch_state_dict(m2), strict=True).missing_keys
    _compare(m2, tm2, x, atol=2e-5)
    _eval_outputs_agree(m2, tm2, x)
    assert "2.shortcut.1.running_var" in tm2.state_dict()


def _flat(parts, cat):
    return cat([p.reshape(-1) for p in parts])


class _Recurrent:
    """Both libraries' wrappers over one recurrent layer ``rnn``: output, h_n (and c_n) flattened into one
    vector, so one comparison covers every output and its gradient."""

    @staticmethod
    def ours(kind):
        class Wrap(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(nn, kind)(3, 5, num_layers=2, bidirectional=True, batch_first=True)

            def forward(self, x):
                out, state = self.rnn(x)
                parts = [out] + (list(state) if isinstance(state, tuple) else [state])
                return _flat(parts, lambda ps: ag.concatenate(ps, axis=0))
        return Wrap()

    @staticmethod
    def theirs(kind):
        class Wrap(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(torch.nn, kind)(3, 5, num_layers=2, bidirectional=True, batch_first=True)

            def forward(self, x):
                out, state = self.rnn(x)
                parts = [out] + (list(state) if isinstance(state, tuple) else [state])
                return _flat(parts, lambda ps: torch.cat(ps))
        return Wrap()


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_lstm_gru_bidirectional_two_layers(kind):
    x = RNG.normal(size=(2, 6, 3)).astype(np.float32)
    _both_ways(lambda: _Recurrent.ours(kind), lambda: _Recurrent.theirs(kind), x)
    assert "rnn.weight_hh_l1_reverse" in _Recurrent.ours(kind).state_dict()


def test_multihead_attention_and_transformer_encoder_layer():
    x = RNG.normal(size=(2, 5, 8)).astype(np.float32)

    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            out, w = self.attn(x, x, x)
            return ag.concatenate([out.reshape(-1), w.reshape(-1)], axis=0)

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            out, w = self.attn(x, x, x)
            return torch.cat([out.reshape(-1), w.reshape(-1)])

    _both_ways(Ours, Theirs, x)
    _both_ways(lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True),
               lambda: torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True), x)
    _both_ways(lambda: nn.TransformerEncoderLayer(8, 4, dim_feedforward=12, dropout=0.0, activation="gelu",
                                                  norm_first=True),
               lambda: torch.nn.TransformerEncoderLayer(8, 4, dim_feedforward=12, dropout=0.0, activation="gelu",
                                                        norm_first=True), x.swapaxes(0, 1).copy())
