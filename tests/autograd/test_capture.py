"""autograd.capture: a replayed step is bitwise identical to eager; guards re-record; what cannot be replayed is
refused (eager with a warning) or raises."""
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.capture import CaptureChanged


def _side_by_side(make, batches, steps=20, lr_decay=False):
    """Run the same training eagerly and captured; every loss, gradient, parameter and buffer must match."""
    runs = []
    for captured in (False, True):
        model, opt, loss_fn = make()

        def step(*batch):
            opt.zero_grad()
            loss = loss_fn(model, *batch)
            loss.backward()
            return loss

        f = ag.capture(step) if captured else step
        ag.manual_seed(7)
        record = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback to eager
            for i in range(steps):
                loss = f(*batches[i % len(batches)])
                if lr_decay:
                    opt.param_groups[0]["lr"] *= 0.9
                opt.step()
                record.append([loss.data.copy()] + [p.grad.data.copy() for p in model.parameters()]
                              + [v.copy() for v in model.state_dict().values()])
        runs.append((record, f))
    (eager, _), (captured, f) = runs
    for i, (a, b) in enumerate(zip(eager, captured)):
        for j, (u, v) in enumerate(zip(a, b)):
            assert u.dtype == v.dtype and np.array_equal(u, v), f"step {i}, value {j}"
    sig = next(iter(f._signatures.values()))
    assert len(f._signatures) == 1 and sig.program is not None and not sig.eager
    return f


def _batches(shape_x, shape_y, n=4, seed=0, classes=None):
    rs = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rs.standard_normal(shape_x).astype(np.float32)
        y = rs.standard_normal(shape_y).astype(np.float32)
        out.append((x, y))
    return out


def _mse(model, x, y):
    return nn.functional.mse_loss(model(ag.tensor(x)), ag.tensor(y))


def _mlp():
    ag.manual_seed(0)
    m = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    return m, nn.optim.SGD(m.parameters(), lr=0.1, momentum=0.9), _mse


def test_mlp_with_dropout_and_batchnorm_replays_bitwise():
    _side_by_side(_mlp, _batches((8, 6), (8, 3)), lr_decay=True)


def test_cnn_replays_bitwise():
    def make():
        ag.manual_seed(0)
        m = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3))
        return m, nn.optim.Adam(m.parameters(), lr=1e-2), _mse
    _side_by_side(make, _batches((3, 2, 8, 8), (3, 3)))


def test_lstm_replays_bitwise():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 5, batch_first=True)
            self.head = nn.Linear(5, 2)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    def make():
        ag.manual_seed(0)
        m = Net()
        return m, nn.optim.SGD(m.parameters(), lr=0.05), _mse
    _side_by_side(make, _batches((4, 6, 3), (4, 2)))


def test_attention_replays_bitwise():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
            self.head = nn.Linear(8, 1)

        def forward(self, x):
            out, _ = self.attn(x, x, x)
            return self.head(out.mean(axis=1))

    def make():
        ag.manual_seed(0)
        m = Net()
        return m, nn.optim.Adam(m.parameters(), lr=1e-2), _mse
    _side_by_side(make, _batches((2, 5, 8), (2, 1)))


def _class_batches(n_classes, ignored=-100):
    """Batches of 6 samples and integer targets; the later ones with a target set to ``ignored``."""
    rs = np.random.default_rng(1)
    out = []
    for i in range(5):
        t = rs.integers(0, n_classes, 6)
        if i >= 2:
            t[i] = ignored
        out.append((rs.standard_normal((6, 5)).astype(np.float32), t))
    return out


@pytest.mark.parametrize("kw", [{}, {"weight": np.array([0.5, 2.0, 1.0, 1.5])}, {"label_smoothing": 0.1},
                                {"ignore_index": 2, "reduction": "sum"}])
def test_cross_entropy_replays_new_targets_bitwise(kw):
    def make():
        ag.manual_seed(0)
        m = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4))
        return m, nn.optim.SGD(m.parameters(), lr=0.1), \
            lambda model, x, t: nn.functional.cross_entropy(model(ag.tensor(x)), t, **kw)
    _side_by_side(make, _class_batches(4, kw.get("ignore_index", -100)))


def test_cross_entropy_replay_checks_the_targets_range():
    m = nn.Linear(5, 4)

    def step(x, t):
        loss = nn.functional.cross_entropy(m(ag.tensor(x)), t)
        loss.backward()
        return loss

    f = ag.capture(step)
    x = np.ones((3, 5), np.float32)
    for _ in range(3):
        f(x, np.array([0, 1, 2]))
    assert next(iter(f._signatures.values())).program is not None
    with pytest.raises(ValueError, match=r"cross_entropy: target class indices must be in \[0, 4\) for input "
                                         r"shape \(3, 4\), got \[4\]"):
        f(x, np.array([0, 4, 2]))


def _kernel_step(params, returns):
    """A step through every op the replay inlines (transpose, matmul, linear, add, multiply, relu, tanh, sigmoid,
    sum), on arrays large enough for out= buffers; it returns the loss and intermediate values (one a view)."""
    w, b, v, c = params

    def step(x):
        for p in params:
            p.grad = None
        h = (ag.tensor(x) @ w.T + b).relu()
        k = ag.linear(h, v, c).tanh() * 1.5
        y = k.sigmoid() * 2.0 + h
        loss, flat = (y * y).sum(), k.reshape(-1)
        loss.backward()
        return (loss, h, flat)[:returns]
    return step


@pytest.mark.parametrize("returns", [1, 3])
def test_inlined_kernels_with_buffers_replay_bitwise_and_never_overwrite_what_was_handed_out(returns, monkeypatch):
    import sys
    monkeypatch.setattr(sys.modules["autograd._capture_compile"], "_BUFFER_MIN_BYTES", 4096)  # buffers for these sizes
    rs = np.random.default_rng(0)
    shapes = [(48, 40), (48,), (48, 48), (48,)]
    values = [rs.standard_normal(s).astype(np.float32) for s in shapes]
    batches = [rs.standard_normal((64, 40)).astype(np.float32) for _ in range(6)]
    runs = []
    for captured in (False, True):
        params = [ag.tensor(a.copy(), requires_grad=True) for a in values]
        step = _kernel_step(params, returns)
        f = ag.capture(step) if captured else step
        held, copies = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for x in batches:
                out = f(x)
                out = out if isinstance(out, tuple) else (out,)
                arrays = [o.data for o in out] + [p.grad.data for p in params]
                held.append(arrays)
                copies.append([a.copy() for a in arrays])
        for h, cp in zip(held, copies):  # what a call handed out is as it was, after all the later calls
            assert all(np.array_equal(a, b) for a, b in zip(h, cp))
        runs.append((copies, f))
    (eager, _), (replayed, f) = runs
    for i, (a, b) in enumerate(zip(eager, replayed)):
        assert all(u.dtype == v.dtype and u.tobytes() == v.tobytes() for u, v in zip(a, b)), f"call {i}"
    program = next(iter(f._signatures.values())).program
    assert program.buffers and "np.matmul" in program.source and "f0(" not in program.source


def test_a_replay_frees_values_after_their_last_use_as_eager_does():
    import tracemalloc

    w = ag.tensor(np.ones(50_000), requires_grad=True)

    def step():
        w.grad = None
        y = w
        for _ in range(10):
            y = ag.exp(y * 0.5) * 0.5  # exp is called, not inlined: its values are new arrays on every call
        loss = y.sum()
        loss.backward()
        return loss

    peaks = []
    for f in (step, ag.capture(step)):
        for _ in range(3):
            f()
        tracemalloc.start()
        f()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] <= peaks[0]


@pytest.mark.parametrize("error_state", ["context variable", "np.errstate"])
def test_inlined_sigmoid_ignores_overflow_as_eager_and_restores_the_error_state(error_state, monkeypatch):
    import sys
    if error_state == "np.errstate":  # the path taken where NumPy keeps its error state elsewhere
        monkeypatch.setattr(sys.modules["autograd._capture_compile"], "_ERR_VAR", None)
    w = ag.tensor(np.array([-1000.0, -3.0, 0.5, 2.0], np.float32), requires_grad=True)

    def step(x):
        w.grad = None
        loss = (w * ag.tensor(x)).sigmoid().sum()
        loss.backward()
        return loss

    f = ag.capture(step)
    with warnings.catch_warnings(), np.errstate(over="raise"):
        warnings.simplefilter("error")
        for k in range(4):
            x = np.full(4, 1.0 + k, np.float32)
            got, g = f(x).data.copy(), w.grad.data.copy()
            want = step(x).data
            assert got.tobytes() == want.tobytes() and g.tobytes() == w.grad.data.tobytes()
        assert np.geterr()["over"] == "raise"
    assert "np.exp" in next(iter(f._signatures.values())).program.source


def test_zero_dimensional_values_replay_as_arrays():
    w = ag.tensor(np.float32(1.5), requires_grad=True)
    v = ag.tensor(np.ones(3, np.float32), requires_grad=True)

    def step():
        w.grad = v.grad = None
        a = (w * 2.0 + 1.0).tanh().relu()
        loss = (v * a).sum() + a
        loss.backward()
        return loss, a

    f = ag.capture(step)
    got = [[t.data for t in f()] + [w.grad.data, v.grad.data] for _ in range(4)]
    want = [t.data for t in step()] + [w.grad.data, v.grad.data]
    for values in got:
        assert all(type(a) is np.ndarray and a.tobytes() == b.tobytes() for a, b in zip(values, want))


def test_dropout_masks_differ_between_replays_and_equal_eager():
    x = ag.tensor(np.ones((4, 50), dtype=np.float32))
    w = ag.tensor(np.ones((4, 50), dtype=np.float32), requires_grad=True)

    def step():
        w.grad = None
        y = nn.functional.dropout(x * w, 0.5)
        y.sum().backward()
        return y

    ag.manual_seed(3)
    eager = [step().data.copy() for _ in range(5)]
    f = ag.capture(step)
    ag.manual_seed(3)
    captured = [f().data.copy() for _ in range(5)]
    assert f._signatures[next(iter(f._signatures))].program is not None
    for a, b in zip(eager, captured):
        assert np.array_equal(a, b)
    assert not np.array_equal(captured[3], captured[4])  # two replays draw different masks
    assert np.array_equal(w.grad.data, (captured[4] != 0) * 2.0)


def test_randn_inside_a_step_draws_afresh():
    w = ag.tensor(np.ones(3), requires_grad=True)
    f = ag.capture(lambda: (w * ag.randn(3)).sum())
    ag.manual_seed(1)
    got = [f().item() for _ in range(4)]
    ag.manual_seed(1)
    want = [(np.ones(3) * ag.randn(3).data).sum() for _ in range(4)]
    assert got == want and len(set(got)) == 4


def _linear_step():
    w = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)

    def step(x):
        w.grad = None
        loss = (ag.tensor(x) @ w.T).sum()
        loss.backward()
        return loss
    return w, step


def test_new_shapes_dtypes_and_grad_mode_record_anew():
    w, step = _linear_step()
    f = ag.capture(step)
    for x in (np.ones((4, 3)), np.ones((5, 3)), np.ones((4, 3), np.float32)):
        for _ in range(3):
            loss = f(x)
            assert loss.item() == (x @ w.data.T).sum()
            assert np.array_equal(w.grad.data, np.broadcast_to(x.sum(0), (2, 3)))
    assert len(f._signatures) == 3
    with ag.no_grad():
        g = ag.capture(lambda x: ag.tensor(x) @ w.T)
        g(np.ones((1, 3)))
    g(np.ones((1, 3)))
    assert len(g._signatures) == 2


def test_parameters_are_read_live_and_parameter_set_changes_record_anew():
    model = nn.Linear(3, 2)
    f = ag.capture(lambda x: model(ag.tensor(x)).sum())
    x = np.ones((2, 3), np.float32)
    for _ in range(3):
        f(x)
    with ag.no_grad():
        model.weight.add_(1.0)
    assert f(x).item() == pytest.approx(float((x @ model.weight.data.T + model.bias.data).sum()))
    model.bias.requires_grad_(False)
    f(x)
    model.weight = nn.Parameter(np.zeros((2, 3), np.float32))
    assert f(x).item() == pytest.approx(float(model.bias.data.sum() * 2))
    assert len(f._signatures) == 3


def test_a_leaf_starting_to_require_grad_records_anew():
    w, v = ag.tensor(np.ones(3)), ag.tensor(np.ones(3), requires_grad=True)

    def step():
        loss = (w * v * 2).sum()
        loss.backward()
        return loss

    f = ag.capture(step)
    for _ in range(3):
        f()
    w.requires_grad_(True)
    for _ in range(3):
        w.grad = None
        f()
        assert np.array_equal(w.grad.data, [2.0, 2.0, 2.0])


def test_check_n_raises_when_the_op_sequence_changes():
    w = ag.tensor(np.ones(3), requires_grad=True)
    flip = [False]

    def step():
        y = w * 2
        if flip[0]:  # Python control flow a replay cannot see
            y = ag.exp(y)
        loss = y.sum()
        loss.backward()
        return loss

    f = ag.capture(step, check=4)
    for _ in range(3):
        f()
    flip[0] = True
    with pytest.raises(CaptureChanged, match="differs from the recorded step"):
        f()


@pytest.mark.parametrize("what", ["hook", "retain_graph", "create_graph", "grad", "optimiser", "leaf_hook"])
def test_unsupported_steps_fall_back_to_eager_with_one_warning(what):
    w = ag.tensor(np.ones(3), requires_grad=True)

    def step():
        w.grad = None
        y = w * 3
        if what == "hook":
            y.register_hook(lambda g: g * 2)
        if what == "leaf_hook" and not w._hooks:
            w.register_hook(lambda g: g * 2)
        loss = y.sum()
        if what == "grad":
            loss.backward(inputs=[w])
            return loss
        loss.backward(retain_graph=what == "retain_graph", create_graph=what == "create_graph")
        if what == "optimiser":
            with ag.no_grad():
                w.sub_(w.grad * 0.1)
        return loss

    f = ag.capture(step)
    with pytest.warns(RuntimeWarning, match="eagerly"):
        f()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            f()
    if what in ("hook", "leaf_hook"):
        assert np.array_equal(w.grad.data, [6.0, 6.0, 6.0])  # the hook ran on every call


def test_anomaly_mode_and_observers_run_eagerly():
    w, step = _linear_step()
    f = ag.capture(step)
    with ag.detect_anomaly():
        with pytest.warns(RuntimeWarning, match="anomaly"):
            f(np.ones((2, 3)))
    from viz.record import record
    with record():
        with pytest.warns(RuntimeWarning, match="observer"):
            f(np.ones((2, 3)))


def test_returning_a_python_number_is_refused():
    w = ag.tensor(np.ones(3), requires_grad=True)
    f = ag.capture(lambda: (w * 2).sum().item())
    with pytest.raises(TypeError, match="capture: fn must return"):
        f()


def test_numpy_constants_computed_from_the_data_fall_back_to_eager():
    w = ag.tensor(np.ones(3), requires_grad=True)

    def step(x):
        loss = (w * np.sqrt(x)).sum()  # np.sqrt outside the ops: a replay would freeze it
        loss.backward()
        return loss

    f = ag.capture(step)
    f(np.ones(3))
    with pytest.warns(RuntimeWarning, match="constant computed from the data"):
        f(np.full(3, 4.0))
    assert f(np.full(3, 9.0)).item() == 9.0


def test_decorator_forms():
    w = ag.tensor(np.ones(2), requires_grad=True)

    @ag.capture
    def a():
        return (w * 2).sum()

    @ag.capture(check=2)
    def b():
        return (w * 3).sum()

    assert [a().item() for _ in range(3)] == [4.0] * 3 and [b().item() for _ in range(3)] == [6.0] * 3
    replayed = a()  # what fn returns comes back as a detached Tensor of its value
    assert isinstance(replayed, ag.Tensor) and replayed.grad_fn is None and not replayed.requires_grad
    with pytest.raises(ValueError, match="check"):
        ag.capture(a, check=0)


def test_an_argument_changing_every_call_keeps_the_cache_bounded():
    import sys
    w = ag.tensor(np.ones(2), requires_grad=True)
    f = ag.capture(lambda lr: (w * lr).sum())
    limit = sys.modules["autograd.capture"].MAX_SIGNATURES
    with pytest.warns(RuntimeWarning, match="signatures"):
        values = [f(float(k)).item() for k in range(limit + 3)]
    assert values == [2.0 * k for k in range(limit + 3)] and len(f._signatures) == limit
