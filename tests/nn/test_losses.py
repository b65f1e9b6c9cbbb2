"""Losses: values against NumPy for every reduction, gradients by gradcheck, and every bad-input error."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
import nn
import nn.functional as F

REDUCTIONS = ("mean", "sum", "none")
rng = np.random.default_rng(1234)


def _reduce(v, reduction):
    return v.mean() if reduction == "mean" else v.sum() if reduction == "sum" else v


def _log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(x / 2))


def _t(x):
    return ag.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


# ----------------------------------------------------------------------------- regression


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1_values(reduction):
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(F.mse_loss(x, y, reduction=reduction).data, _reduce((x - y) ** 2, reduction),
                               rtol=1e-12)
    np.testing.assert_allclose(F.l1_loss(x, y, reduction=reduction).data, _reduce(np.abs(x - y), reduction),
                               rtol=1e-12)
    np.testing.assert_allclose(nn.MSELoss(reduction)(x, y).data, _reduce((x - y) ** 2, reduction), rtol=1e-12)
    np.testing.assert_allclose(nn.L1Loss(reduction)(x, y).data, _reduce(np.abs(x - y), reduction), rtol=1e-12)


def test_regression_gradients():
    x, y = _t(rng.normal(size=(3, 2))), _t(rng.normal(size=(3, 2)))
    for fn in (F.mse_loss, F.l1_loss):
        for reduction in REDUCTIONS:
            assert ag.gradcheck(lambda a, b, fn=fn, r=reduction: fn(a, b, reduction=r), [x, y])
    loss = F.mse_loss(x, y)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * (x.data - y.data) / 6, rtol=1e-12)


def test_float32_is_kept_even_with_float64_targets():
    x = ag.tensor(rng.normal(size=(5,)).astype(np.float32), requires_grad=True)
    y = rng.normal(size=(5,))  # float64 target must not upcast the loss
    for loss in (F.mse_loss(x, y), F.l1_loss(x, y), F.binary_cross_entropy_with_logits(x, (y > 0) * 1.0),
                 F.hinge_loss(x, np.sign(y)), F.binary_cross_entropy(F.sigmoid(x), (y > 0) * 1.0)):
        assert loss.dtype == np.float32
    logits = ag.tensor(rng.normal(size=(4, 3)).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([0, 1, 2, 1]), weight=np.ones(3), label_smoothing=0.1)
    assert loss.dtype == np.float32
    loss.backward()
    assert logits.grad.dtype == np.float32


# ----------------------------------------------------------------------------- binary


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_values(reduction):
    p = rng.uniform(0.05, 0.95, size=(6, 2))
    y = rng.uniform(size=(6, 2)).round()
    w = rng.uniform(0.5, 2.0, size=(2,))
    ref = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy(p, y, reduction=reduction).data, _reduce(ref, reduction),
                               rtol=1e-12)
    np.testing.assert_allclose(F.binary_cross_entropy(p, y, weight=w, reduction=reduction).data,
                               _reduce(ref * w, reduction), rtol=1e-12)
    np.testing.assert_allclose(nn.BCELoss(weight=w, reduction=reduction)(p, y).data, _reduce(ref * w, reduction),
                               rtol=1e-12)


def test_binary_cross_entropy_clamps_log_at_minus_100_without_nan_gradients():
    p = _t([0.0, 1.0, 0.0, 1.0, 1e-50])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    with np.errstate(all="raise"):
        loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 100.0, 100.0, 100.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.data))
    np.testing.assert_allclose(p.grad.data[:2], [1.0, -1.0])  # d/dp of -log(1-p) at 0 and of -log(p) at 1


def test_binary_cross_entropy_gradient_and_gradcheck():
    p = _t(rng.uniform(0.1, 0.9, size=(4,)))
    y = np.array([0.0, 1.0, 0.3, 1.0])
    assert ag.gradcheck(lambda a: F.binary_cross_entropy(a, y, weight=np.array([1.0, 2.0, 0.5, 1.0])), [p])
    F.binary_cross_entropy(p, y, reduction="sum").backward()
    np.testing.assert_allclose(p.grad.data, (p.data - y) / (p.data * (1 - p.data)), rtol=1e-10)


def test_binary_cross_entropy_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\].*1\.5"):
        F.binary_cross_entropy(np.array([0.2, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(np.array([np.nan]), np.array([1.0]))
    with pytest.raises(ValueError, match="with_logits"):
        nn.BCELoss()(np.array([-0.1]), np.array([0.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_values(reduction):
    x = rng.normal(scale=3, size=(5, 3))
    y = rng.uniform(size=(5, 3)).round()
    pw = np.array([1.0, 2.0, 0.5])
    w = rng.uniform(0.5, 1.5, size=(5, 1))
    s = _sigmoid(x)
    ref = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    ref_pw = -(pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y, reduction=reduction).data,
                               _reduce(ref, reduction), rtol=1e-10)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction,
                                                                  pos_weight=pw).data,
                               _reduce(ref_pw * w, reduction), rtol=1e-10)
    np.testing.assert_allclose(nn.BCEWithLogitsLoss(weight=w, reduction=reduction, pos_weight=pw)(x, y).data,
                               _reduce(ref_pw * w, reduction), rtol=1e-10)


def test_bce_with_logits_is_stable_and_exact_at_zero():
    x = _t([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [1000.0, np.log1p(np.exp(-40.0)), np.log(2), np.log1p(np.exp(-40.0)),
                                           1000.0], rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, _sigmoid(x.data) - y, atol=1e-15)  # includes x = 0: 0.5 - 1
    z = _t([0.0, 0.0])
    F.binary_cross_entropy_with_logits(z, np.array([0.0, 1.0]), pos_weight=np.array([3.0]),
                                       reduction="sum").backward()
    np.testing.assert_allclose(z.grad.data, [0.5, 3 * (0.5 - 1)])


def test_bce_with_logits_gradcheck_and_gradgradcheck():
    x = _t(rng.normal(size=(3, 2)))
    y = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.2]])
    fn = lambda a: F.binary_cross_entropy_with_logits(a, y, pos_weight=np.array([2.0, 0.5]))
    assert ag.gradcheck(fn, [x])
    assert ag.gradgradcheck(fn, [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_loss_values(reduction):
    x = rng.normal(size=(7,))
    y = np.where(rng.uniform(size=7) > 0.5, 1.0, -1.0)
    for margin in (1.0, 0.5):
        ref = np.maximum(0, margin - y * x)
        np.testing.assert_allclose(F.hinge_loss(x, y, margin=margin, reduction=reduction).data,
                                   _reduce(ref, reduction), rtol=1e-12)
        np.testing.assert_allclose(nn.HingeLoss(margin, reduction)(x, y.astype(int)).data, _reduce(ref, reduction),
                                   rtol=1e-12)
    xt = _t(np.array([0.3, -2.0, 1.5]))
    assert ag.gradcheck(lambda a: F.hinge_loss(a, np.array([1, -1, -1])), [xt])


def test_hinge_loss_rejects_labels_other_than_plus_minus_one():
    with pytest.raises(ValueError, match=r"hinge_loss: target labels must be -1 or \+1, got \[0(\.0)?\].*2 \* y - 1"):
        F.hinge_loss(np.array([0.1, 0.2]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"got \[0.5\]"):
        F.hinge_loss(np.array([0.1]), np.array([0.5]))


# ----------------------------------------------------------------------------- multi-class


def _ce_reference(x, t, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """Cross-entropy as -Σ_c w_c q_c log p_c with the smoothed target q, classes on axis 1."""
    c = x.shape[1]
    logp = _log_softmax(x, 1)
    w = np.ones(c) if weight is None else weight
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    onehot = np.moveaxis(np.eye(c)[safe], -1, 1)
    q = (1 - eps) * onehot + eps / c
    wshape = (1, c) + (1,) * (x.ndim - 2)
    per = -(w.reshape(wshape) * q * logp).sum(axis=1) * valid
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    return per.sum() / (w[safe] * valid).sum()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 3, 2, 3)])
def test_cross_entropy_values(shape, reduction):
    x = rng.normal(scale=2, size=shape)
    tshape = shape[:1] + shape[2:]
    t = rng.integers(0, shape[1], size=tshape)
    np.testing.assert_allclose(F.cross_entropy(x, t, reduction=reduction).data,
                               _ce_reference(x, t, reduction=reduction),
                               rtol=1e-10)
    w = rng.uniform(0.2, 2.0, size=shape[1])
    t2 = t.copy()
    t2.flat[0] = -100
    for eps in (0.0, 0.2):
        np.testing.assert_allclose(
            F.cross_entropy(x, t2, weight=w, reduction=reduction, label_smoothing=eps).data,
            _ce_reference(x, t2, w, reduction=reduction, eps=eps), rtol=1e-10)
        np.testing.assert_allclose(
            nn.CrossEntropyLoss(weight=w, ignore_index=1, reduction=reduction, label_smoothing=eps)(x, t).data,
            _ce_reference(x, t, w, ignore_index=1, reduction=reduction, eps=eps), rtol=1e-10)


def test_cross_entropy_unbatched_input():
    x = rng.normal(size=4)
    np.testing.assert_allclose(F.cross_entropy(x, np.array(2)).data, -_log_softmax(x, 0)[2], rtol=1e-12)
    assert F.cross_entropy(x, np.array(2), reduction="none").shape == ()


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    x = _t(rng.normal(size=(5, 3)))
    t = np.array([0, 2, 1, 1, 0])
    F.cross_entropy(x, t).backward()
    p = np.exp(_log_softmax(x.data, 1))
    np.testing.assert_allclose(x.grad.data, (p - np.eye(3)[t]) / 5, rtol=1e-10)


def test_cross_entropy_and_nll_gradcheck():
    x = _t(rng.normal(size=(4, 3, 2)))
    t = np.array([[0, 2], [1, -100], [2, 2], [0, 1]])
    w = np.array([0.5, 1.0, 2.0])
    for kw in ({}, {"weight": w}, {"label_smoothing": 0.3}, {"weight": w, "label_smoothing": 0.1,
                                                             "reduction": "none"}):
        assert ag.gradcheck(lambda a, kw=kw: F.cross_entropy(a, t, **kw), [x])
    assert ag.gradgradcheck(lambda a: F.cross_entropy(a, t, weight=w), [x])
    assert ag.gradcheck(lambda a: F.nll_loss(a, t, weight=w), [x])


def _ce_by_indexing(x, t, reduction):
    """cross_entropy without weight or smoothing as it was computed before the targets were an op's input:
    an index built in NumPy, getitem, and a mean (all targets counted) or a sum over the counted ones."""
    lp = ag.log_softmax(x, axis=1)
    valid = t != -100
    picked = lp[np.arange(t.size), np.where(valid, t, 0)]
    if valid.all():
        losses = -picked
        return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses
    losses = -(picked * valid.astype(lp.dtype))
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / float(valid.sum())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignored", [False, True])
def test_cross_entropy_loss_is_bitwise_that_of_indexing_and_its_gradient_softmax_minus_onehot(dtype, reduction,
                                                                                              ignored):
    z = rng.normal(scale=3, size=(7, 5)).astype(dtype)
    t = rng.integers(0, 5, 7)
    if ignored:
        t[[1, 4]] = -100
    got, want = (ag.tensor(z, requires_grad=True) for _ in range(2))
    a, b = F.cross_entropy(got, t, reduction=reduction), _ce_by_indexing(want, t, reduction)
    assert [n.name for n in _nodes(a)] == ["softmax_cross_entropy"]  # the common case is one node
    (a.sum() if reduction == "none" else a).backward()
    (b.sum() if reduction == "none" else b).backward()
    assert a.dtype == b.dtype and a.data.tobytes() == b.data.tobytes()
    counted = t != -100
    p = np.exp(z.astype(np.float64) - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    closed = (p - np.eye(5)[np.where(counted, t, 0)]) * counted[:, None]
    if reduction == "mean":
        closed /= counted.sum()
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(got.grad.data, closed, rtol=tol, atol=tol)
    np.testing.assert_allclose(got.grad.data, want.grad.data, rtol=tol, atol=tol)


def _nodes(t):
    """The graph's nodes below ``t`` (each once)."""
    seen, stack = [], [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.append(node)
            stack.extend(e.node for e in node.inputs)
    return seen


def test_cross_entropy_all_targets_ignored_gives_nan_mean_and_zero_sum():
    x = rng.normal(size=(2, 3))
    t = np.array([-100, -100])
    assert np.isnan(F.cross_entropy(x, t).item())
    assert F.cross_entropy(x, t, reduction="sum").item() == 0.0
    z = ag.tensor(x, requires_grad=True)
    F.cross_entropy(z, t).backward()  # PyTorch: a NaN mean, but no row contributes to the gradient
    np.testing.assert_array_equal(z.grad.data, np.zeros_like(x))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_values(reduction):
    logp = _log_softmax(rng.normal(size=(5, 4)), 1)
    t = np.array([3, 0, 1, 1, 2])
    w = np.array([1.0, 0.5, 2.0, 1.5])
    per = -w[t] * logp[np.arange(5), t]
    ref = per.sum() / w[t].sum() if reduction == "mean" else _reduce(per, reduction)
    np.testing.assert_allclose(F.nll_loss(logp, t, weight=w, reduction=reduction).data, ref, rtol=1e-12)
    np.testing.assert_allclose(nn.NLLLoss(weight=w, reduction=reduction)(logp, t).data, ref, rtol=1e-12)
    np.testing.assert_allclose(F.nll_loss(logp, t, reduction=reduction).data,
                               _reduce(-logp[np.arange(5), t], reduction), rtol=1e-12)


def _multi_margin_reference(x, t, p=1, margin=1.0, weight=None):
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != t[i]:
                term = max(0.0, margin - x[i, t[i]] + x[i, j]) ** p
                out[i] += term * (1.0 if weight is None else weight[t[i]])
    return out / c


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_values(p, reduction):
    x = rng.normal(size=(6, 4))
    t = rng.integers(0, 4, size=6)
    w = rng.uniform(0.5, 2, size=4)
    for margin, weight in ((1.0, None), (0.5, w)):
        ref = _reduce(_multi_margin_reference(x, t, p, margin, weight), reduction)
        np.testing.assert_allclose(F.multi_margin_loss(x, t, p=p, margin=margin, weight=weight,
                                                       reduction=reduction).data, ref, rtol=1e-12)
        np.testing.assert_allclose(nn.MultiMarginLoss(p, margin, weight, reduction)(x, t).data, ref, rtol=1e-12)
    assert ag.gradcheck(lambda a: F.multi_margin_loss(a, t, p=p, weight=w), [_t(x)])
    np.testing.assert_allclose(F.multi_margin_loss(x[0], np.array(t[0])).data,
                               _multi_margin_reference(x[:1], t[:1])[0], rtol=1e-12)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits,
                                F.hinge_loss])
def test_no_silent_broadcasting_of_n1_against_n(fn):
    pred = np.full((4, 1), 0.5)
    target = np.ones(4)
    with pytest.raises(ValueError, match=rf"{fn.__name__}: input shape \(4, 1\) and target shape \(4,\) must be equal"):
        fn(pred, target)


def test_cross_entropy_rejects_float_targets():
    with pytest.raises(TypeError, match="cross_entropy: target must hold integer class indices, got dtype float64"):
        F.cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="nll_loss: target must hold integer"):
        F.nll_loss(np.zeros((2, 3)), ag.tensor([0.0, 1.0]))


def test_cross_entropy_rejects_out_of_range_targets():
    with pytest.raises(ValueError, match=r"cross_entropy: target class indices must be in \[0, 3\) for input shape "
                                         r"\(3, 3\), got \[-1, 3\]"):
        F.cross_entropy(np.zeros((3, 3)), np.array([3, -1, 0]))
    with pytest.raises(ValueError, match="ignore_index=-100"):
        F.cross_entropy(np.zeros((2, 3)), np.array([7, -100]))
    with pytest.raises(ValueError, match=r"got \[4\]"):
        F.multi_margin_loss(np.zeros((1, 4)), np.array([4]))


def test_cross_entropy_rejects_mismatched_shapes_and_arguments():
    with pytest.raises(ValueError, match=r"cross_entropy: input shape \(4, 3\) expects target shape \(4,\), got "
                                         r"\(4, 1\)"):
        F.cross_entropy(np.zeros((4, 3)), np.zeros((4, 1), dtype=int))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(np.zeros((4, 3)), np.zeros(4, dtype=int), weight=np.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(np.zeros((4, 3)), np.zeros(4, dtype=int), label_smoothing=1.5)
    with pytest.raises(ValueError, match="scalar"):
        F.cross_entropy(np.zeros(()), np.zeros((), dtype=int))


def test_bad_reduction_and_weight_shapes():
    with pytest.raises(ValueError, match="mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.mse_loss(np.zeros(2), np.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="MSELoss: reduction"):
        nn.MSELoss("max")
    with pytest.raises(ValueError, match=r"weight shape \(3,\) does not broadcast to the input shape \(2, 2\)"):
        F.binary_cross_entropy(np.full((2, 2), 0.5), np.ones((2, 2)), weight=np.ones(3))
    with pytest.raises(TypeError, match="floating point"):
        F.mse_loss(np.arange(3), np.arange(3))
    with pytest.raises(ValueError, match="p must be 1 or 2"):
        F.multi_margin_loss(np.zeros((1, 2)), np.array([0]), p=3)


def test_loss_modules_keep_weights_as_buffers_and_repr():
    ce = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0]), label_smoothing=0.1)
    assert list(ce.state_dict()) == ["weight"]
    assert list(ce.parameters()) == []
    assert repr(ce) == "CrossEntropyLoss(label_smoothing=0.1)"
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=np.ones(3)).state_dict()) == ["pos_weight"]
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    assert repr(nn.HingeLoss()) == "HingeLoss(margin=1.0)"


# ----------------------------------------------------------------------------- optional: PyTorch parity


def _torch_case(torch, fn_ours, fn_torch, x, *args, **kwargs):
    xt = torch.tensor(x, requires_grad=True)
    ref = fn_torch(xt, *[torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args],
                   **{k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()})
    ref.sum().backward()
    ours_x = _t(x)
    out = fn_ours(ours_x, *args, **kwargs)
    out.sum().backward()
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_x.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_losses_match_pytorch(reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = rng.normal(size=(6, 4))
    y = rng.normal(size=(6, 4))
    _torch_case(torch, F.mse_loss, tf.mse_loss, x, y, reduction=reduction)
    _torch_case(torch, F.l1_loss, tf.l1_loss, x, y, reduction=reduction)
    p = rng.uniform(0.02, 0.98, size=(6, 4))
    yb = rng.uniform(size=(6, 4)).round()
    w = rng.uniform(0.5, 2.0, size=(4,))
    _torch_case(torch, F.binary_cross_entropy, tf.binary_cross_entropy, p, yb, weight=w, reduction=reduction)
    _torch_case(torch, F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits, x, yb,
                weight=w, pos_weight=np.array([1.0, 3.0, 0.5, 2.0]), reduction=reduction)
    t = rng.integers(0, 4, size=6)
    t[2] = -100
    for eps in (0.0, 0.15):
        _torch_case(torch, F.cross_entropy, tf.cross_entropy, x, t, weight=w, reduction=reduction,
                    label_smoothing=eps)
    x3 = rng.normal(size=(2, 4, 3, 2))
    t3 = rng.integers(0, 4, size=(2, 3, 2))
    _torch_case(torch, F.cross_entropy, tf.cross_entropy, x3, t3, reduction=reduction, label_smoothing=0.1,
                ignore_index=1)
    _torch_case(torch, F.nll_loss, tf.nll_loss, x, t, weight=w, reduction=reduction)
    for pp in (1, 2):
        _torch_case(torch, F.multi_margin_loss, tf.multi_margin_loss, x, np.where(t < 0, 0, t), p=pp, margin=0.7,
                    weight=w, reduction=reduction)


# ----------------------------------------------------------------------------- properties


@given(n=st.integers(1, 6), c=st.integers(2, 5), scale=st.sampled_from([0.1, 3.0, 1e4]), seed=st.integers(0, 2**31))
def test_cross_entropy_is_nll_of_log_softmax_and_finite_for_huge_logits(n, c, scale, seed):
    r = np.random.default_rng(seed)
    x = r.normal(scale=scale, size=(n, c))
    t = r.integers(0, c, size=n)
    ce = F.cross_entropy(x, t, reduction="none").data
    np.testing.assert_allclose(ce, F.nll_loss(F.log_softmax(x, dim=1), t, reduction="none").data, rtol=1e-12)
    np.testing.assert_allclose(ce, _ce_reference(x, t, reduction="none"), rtol=1e-9, atol=1e-12)
    assert np.all(np.isfinite(ce)) and np.all(ce >= 0)
    xt = _t(x)
    F.cross_entropy(xt, t).backward()
    np.testing.assert_allclose(xt.grad.data.sum(axis=1), 0.0, atol=1e-12)  # softmax - onehot rows sum to 0


@given(values=st.lists(st.floats(-15, 15, allow_nan=False), min_size=1, max_size=10), seed=st.integers(0, 2**31))
def test_bce_with_logits_equals_bce_of_sigmoid(values, seed):
    x = np.array(values)
    y = np.random.default_rng(seed).uniform(size=x.shape)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y, reduction="none").data,
                               F.binary_cross_entropy(F.sigmoid(x), y, reduction="none").data, rtol=1e-7, atol=1e-9)


@given(values=st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=10))
def test_hinge_loss_is_zero_exactly_beyond_the_margin(values):
    x = np.array(values)
    y = np.where(x >= 0, 1.0, -1.0)
    loss = F.hinge_loss(x, y, reduction="none").data
    np.testing.assert_array_equal(loss == 0, np.abs(x) >= 1)
