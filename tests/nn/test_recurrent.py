"""RNN, LSTM, GRU and their cells: the cell equations against NumPy written here (SEEDS R2, R4, R5), the
sequence modules against a loop of cells, variable lengths against each sequence run alone, gradcheck in
float64, PyTorch with its state_dict loaded key for key, a 2,000-step backward, and the errors."""
import tracemalloc

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import gradcheck

RNG = np.random.default_rng(0)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ----------------------------------------------------------------------------- NumPy references (R2, R4, R5)

def np_rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh, f=np.tanh):
    """R2: s_t = U x_t + W h_{t-1} (+ biases), h_t = f(s_t)."""
    return f(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def np_lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """R4: input, forget, candidate, output gates; the additive cell update c' = f c + i g."""
    z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    n = h.shape[1]
    i, f, g, o = sigmoid(z[:, :n]), sigmoid(z[:, n:2 * n]), np.tanh(z[:, 2 * n:3 * n]), sigmoid(z[:, 3 * n:])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


def np_gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """R5: reset gate r, update gate z, candidate n = tanh(W_in x + b_in + r (W_hn h + b_hn))."""
    n = h.shape[1]
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = sigmoid(gi[:, :n] + gh[:, :n])
    z = sigmoid(gi[:, n:2 * n] + gh[:, n:2 * n])
    cand = np.tanh(gi[:, 2 * n:] + r * gh[:, 2 * n:])
    return (1 - z) * cand + z * h


def _weights(cell):
    return [p.data.astype(np.float64) for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]


@pytest.mark.parametrize("nonlinearity,f", [("tanh", np.tanh), ("relu", lambda s: np.maximum(s, 0)),
                                            ("sigmoid", sigmoid)])
def test_rnn_cell_matches_numpy(nonlinearity, f):
    cell = nn.RNNCell(3, 5, nonlinearity=nonlinearity, dtype=np.float64)
    x, h = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 5))
    np.testing.assert_allclose(cell(x, h).data, np_rnn_cell(x, h, *_weights(cell), f=f), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cell(x).data, np_rnn_cell(x, 0 * h, *_weights(cell), f=f), rtol=1e-12, atol=1e-12)


def test_lstm_cell_matches_numpy():
    cell = nn.LSTMCell(3, 5, dtype=np.float64)
    x, h, c = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
    h1, c1 = cell(x, (h, c))
    rh, rc = np_lstm_cell(x, h, c, *_weights(cell))
    np.testing.assert_allclose(h1.data, rh, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c1.data, rc, rtol=1e-12, atol=1e-12)


def test_gru_cell_matches_numpy():
    cell = nn.GRUCell(3, 5, dtype=np.float64)
    x, h = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 5))
    np.testing.assert_allclose(cell(x, h).data, np_gru_cell(x, h, *_weights(cell)), rtol=1e-12, atol=1e-12)


def test_cells_without_bias_have_no_bias_parameters():
    for cls in (nn.RNNCell, nn.LSTMCell, nn.GRUCell):
        cell = cls(3, 4, bias=False)
        assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh"]
        out = cell(np.ones((2, 3), np.float32))
        assert (out[0] if isinstance(out, tuple) else out).shape == (2, 4)


def test_parameter_names_shapes_and_default_init():
    m = nn.LSTM(3, 100, num_layers=2, bidirectional=True)
    sd = m.state_dict()
    assert list(sd)[:8] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse",
                            "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"]
    assert sd["weight_ih_l0"].shape == (400, 3) and sd["weight_ih_l1"].shape == (400, 200)
    assert sd["weight_hh_l1_reverse"].shape == (400, 100) and sd["bias_hh_l1"].shape == (400,)
    assert nn.GRU(3, 7).weight_hh_l0.shape == (21, 7) and nn.RNN(3, 7).weight_ih_l0.shape == (7, 3)
    w = np.concatenate([p.data.ravel() for p in m.parameters()])
    assert w.dtype == np.float32 and np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.099  # U(-1/√100, 1/√100)
    assert abs(w.mean()) < 0.002 and abs(w.std() - 0.1 / np.sqrt(3)) < 0.002


# ----------------------------------------------------------------------------- sequence modules vs cells

CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}


def _cell_for(module, layer, reverse):
    suffix = "_reverse" if reverse else ""
    width = module.input_size if layer == 0 else module.hidden_size * module.num_directions
    cell = CELLS[module.mode](width, module.hidden_size, dtype=np.float64)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data = getattr(module, f"{name}_l{layer}{suffix}").data.copy()
    return cell


def _loop_of_cells(module, x, h0=None, c0=None):
    """(T, B, ·) output and final states of a multi-layer bidirectional module, stepped with its cells."""
    finals, cells = [], []
    for layer in range(module.num_layers):
        outs = []
        for d in range(module.num_directions):
            k = layer * module.num_directions + d
            cell = _cell_for(module, layer, d == 1)
            h = np.zeros((x.shape[1], module.hidden_size)) if h0 is None else h0[k]
            c = np.zeros_like(h) if c0 is None else c0[k]
            seq = [None] * x.shape[0]
            for t in (reversed(range(x.shape[0])) if d else range(x.shape[0])):
                if module.mode == "LSTM":
                    h, c = (v.data for v in cell(x[t], (h, c)))
                else:
                    h = cell(x[t], h).data
                seq[t] = h
            outs.append(np.stack(seq))
            finals.append(h)
            cells.append(c)
        x = np.concatenate(outs, axis=2)
    return x, np.stack(finals), np.stack(cells)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_state", [False, True])
def test_two_layer_bidirectional_matches_a_loop_of_cells(mode, with_state):
    m = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    x = RNG.standard_normal((6, 2, 3))
    h0 = RNG.standard_normal((4, 2, 4)) if with_state else None
    c0 = RNG.standard_normal((4, 2, 4)) if with_state else None
    hx = (h0, c0) if mode == "LSTM" and with_state else h0
    out, state = m(x, hx)
    ref_out, ref_h, ref_c = _loop_of_cells(m, x, h0, c0)
    np.testing.assert_allclose(out.data, ref_out, rtol=1e-12, atol=1e-12)
    h_n = state[0] if mode == "LSTM" else state
    np.testing.assert_allclose(h_n.data, ref_h, rtol=1e-12, atol=1e-12)
    if mode == "LSTM":
        np.testing.assert_allclose(state[1].data, ref_c, rtol=1e-12, atol=1e-12)


def test_batch_first_is_a_transpose():
    m = nn.GRU(3, 4, num_layers=2, dtype=np.float64)
    mb = nn.GRU(3, 4, num_layers=2, batch_first=True, dtype=np.float64)
    mb.load_state_dict(m.state_dict())
    x = RNG.standard_normal((5, 2, 3))
    out, h = m(x)
    outb, hb = mb(x.transpose(1, 0, 2))
    np.testing.assert_allclose(outb.data, out.data.transpose(1, 0, 2), rtol=1e-13)
    np.testing.assert_allclose(hb.data, h.data, rtol=1e-13)


def test_dropout_between_layers_only_in_training():
    ag.manual_seed(0)
    m = nn.LSTM(3, 8, num_layers=2, dropout=0.5, dtype=np.float64)
    x = RNG.standard_normal((4, 2, 3))
    m.eval()
    ref, _ = m(x)
    plain = nn.LSTM(3, 8, num_layers=2, dtype=np.float64)
    plain.load_state_dict(m.state_dict())
    np.testing.assert_allclose(plain(x)[0].data, ref.data, rtol=1e-13)
    m.train()
    out, _ = m(x)
    assert not np.allclose(out.data, ref.data)
    one = nn.LSTM(3, 8, num_layers=1, dropout=0.5, dtype=np.float64)  # one layer: nothing between layers
    one.train()
    np.testing.assert_allclose(one(x)[0].data, one.eval()(x)[0].data, rtol=1e-13)


# ----------------------------------------------------------------------------- variable lengths

@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_lengths_match_each_sequence_run_alone(mode):
    m = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    lengths = [5, 2, 4]
    x = ag.tensor(RNG.standard_normal((3, 5, 3)), requires_grad=True)
    h0 = RNG.standard_normal((4, 3, 4))
    hx = (h0, 0.5 * h0) if mode == "LSTM" else h0
    out, state = m(x, hx, lengths=lengths)
    h_n = state[0] if mode == "LSTM" else state
    (out.sum() + (h_n * h_n).sum()).backward()
    for b, n in enumerate(lengths):
        xb = ag.tensor(x.data[b:b + 1, :n], requires_grad=True)
        hb = (h0[:, b:b + 1], 0.5 * h0[:, b:b + 1]) if mode == "LSTM" else h0[:, b:b + 1]
        ob, sb = m(xb, hb)
        hnb = sb[0] if mode == "LSTM" else sb
        np.testing.assert_allclose(out.data[b, :n], ob.data[0], rtol=1e-12, atol=1e-12)
        assert np.all(out.data[b, n:] == 0)  # zero output past each sequence's end
        np.testing.assert_allclose(h_n.data[:, b], hnb.data[:, 0], rtol=1e-12, atol=1e-12)
        if mode == "LSTM":
            np.testing.assert_allclose(state[1].data[:, b], sb[1].data[:, 0], rtol=1e-12, atol=1e-12)
        (ob.sum() + (hnb * hnb).sum()).backward()
        np.testing.assert_allclose(x.grad.data[b, :n], xb.grad.data[0], rtol=1e-10, atol=1e-12)
        assert np.all(x.grad.data[b, n:] == 0)  # steps past the end have no influence


def test_full_lengths_change_nothing():
    m = nn.LSTM(3, 4, dtype=np.float64)
    x = RNG.standard_normal((5, 2, 3))
    np.testing.assert_array_equal(m(x, lengths=[5, 5])[0].data, m(x)[0].data)


# ----------------------------------------------------------------------------- gradcheck (float64)

def _functional(module, names):
    """fn(x, h0, *weights) calling ``module`` with ``names`` bound to the given tensors (for gradcheck)."""
    def fn(x, h0, *weights):
        saved = {n: module.__dict__[n] for n in names}
        try:
            for n, w in zip(names, weights):
                object.__setattr__(module, n, w)
            hx = None if h0 is None else ((h0, h0 * 0.5) if module.mode == "LSTM" else h0)
            out, state = module(x, hx)
            h_n = state[0] if module.mode == "LSTM" else state
            return out, h_n
        finally:
            for n, w in saved.items():
                object.__setattr__(module, n, w)
    return fn


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_state", [False, True])
def test_gradcheck_two_layer_bidirectional(mode, with_state):
    m = getattr(nn, mode)(2, 2, num_layers=2, bidirectional=True, dtype=np.float64)
    names = ["weight_ih_l0", "weight_hh_l0_reverse", "bias_hh_l0", "weight_hh_l1", "bias_ih_l1_reverse"]
    weights = [ag.tensor(getattr(m, n).data.copy(), requires_grad=True) for n in names]
    x = ag.tensor(RNG.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = ag.tensor(RNG.standard_normal((4, 2, 2)), requires_grad=True) if with_state else None
    fn = _functional(m, names)
    if with_state:
        assert gradcheck(fn, (x, h0, *weights))
    else:
        assert gradcheck(lambda x, *w: fn(x, None, *w), (x, *weights))


def test_gradcheck_with_lengths_and_second_order_of_a_short_lstm():
    m = nn.LSTM(2, 2, bidirectional=True, dtype=np.float64)
    x = ag.tensor(RNG.standard_normal((3, 2, 2)), requires_grad=True)
    w = ag.tensor(m.weight_hh_l0.data.copy(), requires_grad=True)

    def fn(x, w):
        object.__setattr__(m, "weight_hh_l0", w)
        return m(x, lengths=[3, 2])[0]
    assert gradcheck(fn, (x, w))
    assert ag.gradgradcheck(fn, (x, w))


# ----------------------------------------------------------------------------- PyTorch, state_dict key for key

torch_cases = [("RNN", {"nonlinearity": "tanh"}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {}),
               ("LSTM", {"batch_first": True, "bias": False}), ("GRU", {"batch_first": True})]


@pytest.mark.parametrize("mode,kw", torch_cases, ids=[f"{m}-{k}" for m, k in torch_cases])
@pytest.mark.parametrize("with_state", [False, True])
def test_matches_pytorch_outputs_and_gradients(mode, kw, with_state):
    torch = pytest.importorskip("torch")
    tm = getattr(torch.nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype=torch.float64, **kw)
    m = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, dtype=np.float64, **kw)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    shape = (2, 5, 3) if kw.get("batch_first") else (5, 2, 3)
    x = RNG.standard_normal(shape)
    h0 = RNG.standard_normal((4, 2, 4)) if with_state else None
    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0, requires_grad=True) if with_state else None
    xt = ag.tensor(x, requires_grad=True)
    h0t = ag.tensor(h0, requires_grad=True) if with_state else None
    if mode == "LSTM":
        tout, (th, tc) = tm(tx, (th0, th0 * 2) if with_state else None)
        out, (h, c) = m(xt, (h0t, h0t * 2) if with_state else None)
        tloss, loss = (tout ** 2).sum() + th.sum() + (tc * tc).sum(), (out ** 2).sum() + h.sum() + (c * c).sum()
        np.testing.assert_allclose(c.data, tc.detach().numpy(), rtol=1e-10, atol=1e-12)
    else:
        tout, th = tm(tx, th0)
        out, h = m(xt, h0t)
        tloss, loss = (tout ** 2).sum() + th.sum(), (out ** 2).sum() + h.sum()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.data, th.detach().numpy(), rtol=1e-10, atol=1e-12)
    tloss.backward()
    loss.backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    if with_state:
        np.testing.assert_allclose(h0t.grad.data, th0.grad.numpy(), rtol=1e-9, atol=1e-11)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(getattr(m, name).grad.data, p.grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=name)


def test_lengths_match_pytorch_packed_sequences():
    torch = pytest.importorskip("torch")
    tm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=torch.float64)
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x, lengths = RNG.standard_normal((3, 6, 3)), [6, 3, 1]
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first=True,
                                                     enforce_sorted=False)
    tout, (th, tc) = tm(packed)
    tout, _ = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first=True, total_length=6)
    out, (h, c) = m(x, lengths=lengths)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.data, th.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c.data, tc.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_pytorch(name):
    torch = pytest.importorskip("torch")
    tcell = getattr(torch.nn, name)(3, 4, dtype=torch.float64)
    cell = getattr(nn, name)(3, 4, dtype=np.float64)
    cell.load_state_dict({k: v.detach().numpy() for k, v in tcell.state_dict().items()})
    x, h = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    xt, ht = ag.tensor(x, requires_grad=True), ag.tensor(h, requires_grad=True)
    if name == "LSTMCell":
        tout, out = sum(v.sum() ** 2 for v in tcell(tx, (th, th))), sum(v.sum() ** 2 for v in cell(xt, (ht, ht)))
    else:
        tout, out = (tcell(tx, th) ** 2).sum(), (cell(xt, ht) ** 2).sum()
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
    tout.backward()
    out.backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ht.grad.data, th.grad.numpy(), rtol=1e-10, atol=1e-12)
    for n, p in tcell.named_parameters():
        np.testing.assert_allclose(getattr(cell, n).grad.data, p.grad.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- dtypes, long sequences

def test_float32_stays_float32():
    m = nn.LSTM(3, 4, bidirectional=True)
    x = ag.tensor(RNG.standard_normal((5, 2, 3)).astype(np.float32), requires_grad=True)
    out, (h, c) = m(x, lengths=[5, 3])
    assert out.dtype == h.dtype == c.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32 and m.weight_hh_l0.grad.dtype == np.float32


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_2000_steps_backpropagate_within_the_saved_activations(mode):
    """LSTM, GRU: one fused node per layer; RNN: a chain of 6,000 step nodes (no recursion in the engine)."""
    T, B, H = 2000, 2, 8
    m = getattr(nn, mode)(4, H, dtype=np.float64)
    x = ag.tensor(RNG.standard_normal((T, B, 4)), requires_grad=True)
    tracemalloc.start()
    try:
        out, state = m(x)
        after_forward = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        (out.sum() + (state[1] if mode == "LSTM" else state).sum()).backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert x.grad.shape == (T, B, 4) and np.all(np.isfinite(x.grad.data)) and np.abs(x.grad.data[0]).sum() > 0
    # The activations an LSTM step keeps: gates and input projection (B, 4H each), tanh(c), h and c (B, H each).
    saved = T * B * (4 * H + 4 * H + 3 * H) * 8
    per_step = 4000  # bytes of bookkeeping per step: Tensors, nodes, edges and small-array headers (B·H is tiny)
    assert after_forward < 2 * saved + T * per_step  # linear in T
    assert peak < after_forward + 2 * saved  # the backward holds at most the gradients it is producing


# ----------------------------------------------------------------------------- errors

def test_errors_name_the_module_and_shapes():
    m = nn.LSTM(3, 4, num_layers=2)
    x = np.zeros((5, 2, 3), np.float32)
    with pytest.raises(ValueError, match=r"LSTM: input of shape \(5, 2, 7\).*input_size=3"):
        m(np.zeros((5, 2, 7), np.float32))
    with pytest.raises(ValueError, match=r"LSTM: input of shape \(5, 3\) must be 3-D \(seq_len, batch, input_size\)"):
        m(np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match=r"LSTM: h_0 of shape \(1, 2, 4\).*expected shape \(2, 2, 4\)"):
        m(x, (np.zeros((1, 2, 4), np.float32), np.zeros((2, 2, 4), np.float32)))
    with pytest.raises(ValueError, match=r"LSTM: c_0 of shape \(2, 2, 5\).*\(2, 2, 4\)"):
        m(x, (np.zeros((2, 2, 4), np.float32), np.zeros((2, 2, 5), np.float32)))
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, seq_len=5\].*got 6"):
        m(x, lengths=[6, 2])
    with pytest.raises(ValueError, match=r"lengths has 3 entries but the batch has 2"):
        m(x, lengths=[1, 2, 3])
    with pytest.raises(TypeError, match="LSTM: input has dtype float64 but the module's parameters are float32"):
        m(np.zeros((5, 2, 3)))
    with pytest.raises(NotImplementedError, match="LSTM: proj_size=2"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="RNN: nonlinearity must be one of"):
        nn.RNN(3, 4, nonlinearity="gelu")


def test_batch_first_confusion_is_detected_by_shape():
    m = nn.GRU(3, 4)  # expects (seq_len, batch, input_size)
    x = np.zeros((2, 5, 3), np.float32)  # (batch=2, seq_len=5, 3) handed over by mistake
    with pytest.raises(ValueError, match=r"GRU: h_0 of shape \(1, 2, 4\).*\(1, 5, 4\).*batch_first=True meant"):
        m(x, np.zeros((1, 2, 4), np.float32))
    with pytest.raises(ValueError, match=r"lengths has 2 entries but the batch has 5.*batch_first=True meant"):
        m(x, lengths=[5, 3])


def test_cell_errors():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"LSTMCell: input of shape \(2, 5\) must be 2-D \(batch, input_size=3\)"):
        cell(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"LSTMCell: input of shape \(3,\).*x\[None\]"):
        cell(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"LSTMCell: c of shape \(2, 3\) does not match the expected shape \(2, 4\)"):
        cell(np.zeros((2, 3), np.float32), (np.zeros((2, 4), np.float32), np.zeros((2, 3), np.float32)))
    with pytest.raises(ValueError, match=r"GRUCell: hx of shape \(1, 4\).*\(2, 4\)"):
        nn.GRUCell(3, 4)(np.zeros((2, 3), np.float32), np.zeros((1, 4), np.float32))


def test_bench_numpy_floor_computes_the_same_training_step():
    """bench/lstm.py's hand-written NumPy BPTT (the speed floor) gives the parameters nn's training step gives."""
    from bench import lstm as bench_lstm

    rng = np.random.default_rng(1)
    params = bench_lstm._params(rng)
    x = rng.standard_normal((bench_lstm.SEQ, bench_lstm.BATCH, bench_lstm.INPUT)).astype(np.float32)
    y = rng.integers(0, bench_lstm.CLASSES, bench_lstm.BATCH)
    by_hand = {n: v.copy() for n, v in params.items()}
    bench_lstm.numpy_train_step(by_hand, x, y)
    model, step = bench_lstm.graphgrad_model(params)
    step(ag.tensor(x), ag.tensor(y))
    ours = model.state_dict()
    for name, value in by_hand.items():
        np.testing.assert_allclose(ours["lstm." + name if "_l0" in name else name], value, rtol=1e-5, atol=1e-7)
        assert not np.allclose(value, params[name])  # the step did move every parameter
