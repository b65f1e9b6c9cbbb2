"""nn's in-place writes (optimiser steps, nn.init, load_state_dict, casts, clipping, zero_grad, running
statistics) go through tracked methods: versions move, a stale backward raises, values stay exact."""
import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn import init, optim
from nn.utils import clip_grad_norm_, clip_grad_value_

STALE = r"'linear'.*modified by an in-place operation"  # nn.Linear records one fused linear node

OPTIMISERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "sgd_nesterov_wd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, weight_decay=0.01),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "adadelta": lambda ps: optim.Adadelta(ps, weight_decay=0.01),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adam_amsgrad_wd": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.01),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
}


def _data(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return ag.tensor(rng.normal(size=(5, 3)).astype(dtype)), ag.tensor(rng.normal(size=(5, 2)).astype(dtype))


def _mlp(seed=0):
    ag.manual_seed(seed)
    return nn.MLP([3, 4, 2], activation="tanh")


def _loss(model, x, y):
    return F.mse_loss(model(x), y)


# --------------------------------------------------------------------------- (a) step before backward


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_step_between_forward_and_backward_raises(name):
    model, (x, y) = _mlp(), _data()
    opt = OPTIMISERS[name](model.parameters())
    _loss(model, x, y).backward()  # a gradient from an earlier backward, so step() changes every parameter
    loss = _loss(model, x, y)
    opt.step()
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_step_on_linear_before_backward_names_the_linear_node():
    ag.manual_seed(1)
    lin, (x, y) = nn.Linear(3, 2), _data()
    opt = optim.SGD(lin.parameters(), lr=0.5)
    _loss(lin, x, y).backward()
    loss = _loss(lin, x, y)
    opt.step()
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


# --------------------------------------------------------------------------- (b), (c) init and loading


@pytest.mark.parametrize("fill", [
    lambda w: init.constant_(w, 5), lambda w: init.normal_(w), lambda w: init.uniform_(w, -1, 1),
    lambda w: init.xavier_uniform_(w), lambda w: init.kaiming_normal_(w), lambda w: init.trunc_normal_(w),
    lambda w: init.orthogonal_(w), lambda w: init.sparse_(w, 0.5), lambda w: init.zeros_(w),
], ids=["constant", "normal", "uniform", "xavier_uniform", "kaiming_normal", "trunc_normal", "orthogonal",
        "sparse", "zeros"])
def test_init_between_forward_and_backward_raises(fill):
    ag.manual_seed(2)
    lin, (x, y) = nn.Linear(3, 2), _data()
    loss = _loss(lin, x, y)
    before = lin.weight._version
    fill(lin.weight)
    assert lin.weight._version == before + 1
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_init_writes_the_values_in_the_parameters_dtype():
    w = nn.Parameter(np.zeros((2, 3), dtype=np.float32))
    assert init.constant_(w, 5) is w
    np.testing.assert_array_equal(w.data, np.full((2, 3), 5, dtype=np.float32))
    assert w.dtype == np.float32 and w.is_leaf and w.requires_grad


def test_init_refuses_a_recorded_output():
    w = nn.Parameter(np.ones((2, 2), dtype=np.float32))
    y = w * 2
    with pytest.raises(RuntimeError, match="constant_.*recorded op"):
        init.constant_(y, 0)
    np.testing.assert_array_equal(y.data, np.full((2, 2), 2, dtype=np.float32))


def test_reset_parameters_between_forward_and_backward_raises():
    ag.manual_seed(3)
    lin, (x, y) = nn.Linear(3, 2), _data()
    loss = _loss(lin, x, y)
    lin.reset_parameters()
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_load_state_dict_between_forward_and_backward_raises():
    model, (x, y) = _mlp(), _data()
    saved = _mlp(seed=7).state_dict()
    loss = _loss(model, x, y)
    model.load_state_dict(saved)
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, saved[key])


def test_load_state_dict_casts_and_bumps_each_version_once():
    model = _mlp()
    versions = {k: p._version for k, p in model.named_parameters()}
    model.load_state_dict({k: v.astype(np.float64) + 1 for k, v in model.state_dict().items()})
    for k, p in model.named_parameters():
        assert p.dtype == np.float32 and p._version == versions[k] + 1


def test_cast_between_forward_and_backward_raises():
    model, (x, y) = _mlp(), _data()
    loss = _loss(model, x, y)
    model.double()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


# --------------------------------------------------------------------------- (d) the normal order is exact


def test_sgd_step_after_backward_matches_the_hand_computation():
    model, (x, y) = _mlp(), _data()
    before = {k: p.data.copy() for k, p in model.named_parameters()}
    opt = optim.SGD(model.parameters(), lr=0.1)
    _loss(model, x, y).backward()
    grads = {k: p.grad.data.copy() for k, p in model.named_parameters()}
    opt.step()
    for k, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[k] - 0.1 * grads[k])
        assert p.dtype == np.float32


def test_sgd_momentum_two_steps_match_the_hand_computation():
    model, (x, y) = _mlp(), _data()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    theta = {k: p.data.copy() for k, p in model.named_parameters()}
    buf = {}
    for _ in range(2):
        opt.zero_grad()
        _loss(model, x, y).backward()
        for k, p in model.named_parameters():
            g = p.grad.data
            buf[k] = g.copy() if k not in buf else 0.9 * buf[k] + g
            theta[k] = theta[k] - 0.1 * buf[k]
        opt.step()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(p.data, theta[k], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_step_after_backward_matches_the_formula(decoupled):
    model, (x, y) = _mlp().double(), _data(dtype=np.float64)
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.1
    cls = optim.AdamW if decoupled else optim.Adam
    opt = cls(model.parameters(), lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    theta = {k: p.data.copy() for k, p in model.named_parameters()}
    m = {k: np.zeros_like(v) for k, v in theta.items()}
    v = {k: np.zeros_like(a) for k, a in theta.items()}
    for t in (1, 2):
        opt.zero_grad()
        _loss(model, x, y).backward()
        for k, p in model.named_parameters():
            g = p.grad.data + (0 if decoupled else wd * theta[k])
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g * g
            m_hat, v_hat = m[k] / (1 - b1 ** t), v[k] / (1 - b2 ** t)
            base = theta[k] * (1 - lr * wd) if decoupled else theta[k]
            theta[k] = base - lr * m_hat / (np.sqrt(v_hat) + eps)
        opt.step()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(p.data, theta[k], rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- (e) one version per step


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_each_step_bumps_each_updated_parameter_once(name):
    model, (x, y) = _mlp(), _data()
    frozen = nn.Parameter(np.ones(3, dtype=np.float32))  # never gets a gradient, so never changes
    opt = OPTIMISERS[name](list(model.parameters()) + [frozen])
    for step in range(1, 3):
        start = {k: p._version for k, p in model.named_parameters()}
        opt.zero_grad()
        _loss(model, x, y).backward()
        opt.step()
        for k, p in model.named_parameters():
            assert p._version == start[k] + 1, (name, k, step)
        assert frozen._version == 0


def test_step_refuses_a_read_only_parameter_before_changing_anything():
    a = nn.Parameter(np.ones(2, dtype=np.float32))
    b = nn.Parameter(np.ones(2, dtype=np.float32))
    locked = np.ones(2, dtype=np.float32)
    locked.flags.writeable = False
    b.data = locked
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    a.grad, b.grad = ag.tensor(np.ones(2, np.float32)), ag.tensor(np.ones(2, np.float32))
    with pytest.raises(RuntimeError, match="SGD.step.*read-only"):
        opt.step()
    np.testing.assert_array_equal(a.data, np.ones(2, dtype=np.float32))
    assert opt.state == {}


# --------------------------------------------------------------------------- (f) zero_grad and clipping


def _create_graph_grad():
    w = nn.Parameter(np.array([1.0, -2.0, 3.0], dtype=np.float32))
    (w ** 3).sum().backward(create_graph=True)
    assert w.grad.grad_fn is not None and not w.grad.data.flags.writeable
    return w


@pytest.mark.parametrize("owner", ["optimizer", "module"])
def test_zero_grad_keeping_a_create_graph_gradient_leaves_zeros(owner):
    w = _create_graph_grad()
    recorded = w.grad
    if owner == "optimizer":
        optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    else:
        holder = nn.Module()
        holder.w = w
        holder.zero_grad(set_to_none=False)
    assert w.grad is not recorded and w.grad.grad_fn is None
    np.testing.assert_array_equal(w.grad.data, np.zeros(3, dtype=np.float32))
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(recorded.data, np.array([3.0, 12.0, 27.0], dtype=np.float32))  # untouched


def test_zero_grad_keeping_a_plain_gradient_zeroes_it_in_place():
    model, (x, y) = _mlp(), _data()
    opt = optim.Adam(model.parameters())
    _loss(model, x, y).backward()
    grads = {k: (p.grad, p.grad._version) for k, p in model.named_parameters()}
    opt.zero_grad(set_to_none=False)
    for k, p in model.named_parameters():
        g, version = grads[k]
        assert p.grad is g and g._version == version + 1
        np.testing.assert_array_equal(g.data, np.zeros(p.shape, dtype=np.float32))


def test_clip_grad_norm_scales_in_place_and_replaces_a_create_graph_gradient():
    w = _create_graph_grad()
    v = nn.Parameter(np.zeros(2, dtype=np.float32))
    v.grad = ag.tensor(np.array([4.0, 0.0], dtype=np.float32))
    plain, version = v.grad, v.grad._version
    recorded = w.grad
    total = math.sqrt(3.0 ** 2 + 12.0 ** 2 + 27.0 ** 2 + 4.0 ** 2)
    norm = clip_grad_norm_([w, v], max_norm=1.0)
    assert norm.item() == pytest.approx(total, rel=1e-6)
    coef = 1.0 / (total + 1e-6)
    np.testing.assert_allclose(w.grad.data, np.array([3.0, 12.0, 27.0]) * coef, rtol=1e-6)
    assert w.grad is not recorded and w.grad.grad_fn is None
    np.testing.assert_array_equal(recorded.data, np.array([3.0, 12.0, 27.0], dtype=np.float32))
    assert v.grad is plain and plain._version == version + 1
    np.testing.assert_allclose(plain.data, np.array([4.0 * coef, 0.0]), rtol=1e-6)


def test_clip_grad_value_clamps_in_place_and_replaces_a_create_graph_gradient():
    w = _create_graph_grad()
    v = nn.Parameter(np.zeros(2, dtype=np.float32))
    v.grad = ag.tensor(np.array([-9.0, 0.5], dtype=np.float32))
    plain = v.grad
    clip_grad_value_([w, v], 5.0)
    np.testing.assert_array_equal(w.grad.data, np.array([3.0, 5.0, 5.0], dtype=np.float32))
    assert w.grad.grad_fn is None
    assert v.grad is plain and plain._version == 1
    np.testing.assert_array_equal(plain.data, np.array([-5.0, 0.5], dtype=np.float32))


# --------------------------------------------------------------------------- buffers and layer resets


def test_batchnorm_running_stats_update_once_per_forward_with_the_formula():
    bn = nn.BatchNorm1d(2)
    x = np.array([[1.0, 2.0], [3.0, -2.0], [5.0, 0.0]], dtype=np.float32)
    versions = [bn.running_mean._version, bn.running_var._version, bn.num_batches_tracked._version]
    bn(ag.tensor(x))
    assert [bn.running_mean._version, bn.running_var._version, bn.num_batches_tracked._version] == \
        [v + 1 for v in versions]
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-6)
    assert int(bn.num_batches_tracked.data) == 1
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.data, [0, 0])
    np.testing.assert_array_equal(bn.running_var.data, [1, 1])
    assert int(bn.num_batches_tracked.data) == 0


def test_batchnorm_reset_parameters_between_forward_and_backward_raises():
    bn = nn.BatchNorm1d(2)
    x = ag.tensor(np.array([[1.0, 2.0], [3.0, -2.0], [5.0, 0.0]], dtype=np.float32))
    out = (bn(x) * ag.tensor(np.array([1.0, 2.0], dtype=np.float32))).sum()
    bn.reset_parameters()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.backward()


def test_prelu_layernorm_and_embedding_resets_are_tracked():
    prelu = nn.PReLU(3, init=0.1)
    with ag.no_grad():
        prelu.weight.fill_(2.0)
    prelu.reset_parameters()
    np.testing.assert_array_equal(prelu.weight.data, np.full(3, 0.1, dtype=np.float32))
    assert prelu.weight._version == 2

    ln = nn.LayerNorm(4)
    ln.reset_parameters()
    np.testing.assert_array_equal(ln.weight.data, np.ones(4, dtype=np.float32))
    assert ln.weight._version == 1 and ln.bias._version == 1

    ag.manual_seed(5)
    emb = nn.Embedding(4, 3, padding_idx=2)
    np.testing.assert_array_equal(emb.weight.data[2], np.zeros(3, dtype=np.float32))
    assert np.all(emb.weight.data[[0, 1, 3]] != 0)
    version = emb.weight._version
    emb.reset_parameters()
    assert emb.weight._version == version + 1
    np.testing.assert_array_equal(emb.weight.data[2], np.zeros(3, dtype=np.float32))
