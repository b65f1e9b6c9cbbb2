"""Optimisers: three steps of each algorithm (and its variants) against the update written out by hand in
NumPy from PyTorch's documented algorithm; param groups, validation, state_dict round trips, dtypes."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from nn import optim

STEPS = 3


def grad_at(theta, t):
    """A deterministic gradient that depends on the parameter and the step (so momentum terms matter)."""
    return 0.7 * theta + np.cos(np.arange(theta.size).reshape(theta.shape) + t) - 0.3


def run_opt(cls, theta0, steps=STEPS, maximize=False, **kw):
    """Run the optimiser under test on one parameter with gradients from ``grad_at``."""
    p = ag.Tensor(theta0.copy(), requires_grad=True)
    opt = cls([p], maximize=maximize, **kw) if maximize else cls([p], **kw)
    for t in range(steps):
        p.grad = ag.Tensor(grad_at(p.data, t))
        opt.step()
    return p.data, opt


THETA = np.array([[0.5, -1.5, 2.0], [0.1, 3.0, -0.2]])


# --------------------------------------------------------------------------- references, written from the docs


def ref_sgd(theta, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta = theta.copy()
    b = None
    for t in range(STEPS):
        g = grad_at(theta, t)
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * theta
        if momentum:
            b = g.copy() if t == 0 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
    return theta


def ref_adagrad(theta, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    theta = theta.copy()
    s = np.full_like(theta, initial_accumulator_value)
    for t in range(STEPS):
        g = grad_at(theta, t)
        clr = lr / (1 + t * lr_decay)
        if weight_decay:
            g = g + weight_decay * theta
        s = s + g * g
        theta = theta - clr * g / (np.sqrt(s) + eps)
    return theta


def ref_rmsprop(theta, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    theta = theta.copy()
    v = np.zeros_like(theta)
    gav = np.zeros_like(theta)
    b = np.zeros_like(theta)
    for t in range(STEPS):
        g = grad_at(theta, t)
        if weight_decay:
            g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        vt = v
        if centered:
            gav = alpha * gav + (1 - alpha) * g
            vt = v - gav * gav
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(vt) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(vt) + eps)
    return theta


def ref_adadelta(theta, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    theta = theta.copy()
    v = np.zeros_like(theta)
    u = np.zeros_like(theta)
    for t in range(STEPS):
        g = grad_at(theta, t)
        if weight_decay:
            g = g + weight_decay * theta
        v = rho * v + (1 - rho) * g * g
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * dx * dx
        theta = theta - lr * dx
    return theta


def ref_adam(theta, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False,
             maximize=False):
    b1, b2 = betas
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    vmax = np.zeros_like(theta)
    for t in range(1, STEPS + 1):
        g = grad_at(theta, t - 1)
        if maximize:
            g = -g
        if decoupled:
            theta = theta - lr * weight_decay * theta
        elif weight_decay:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vhat = vmax / (1 - b2 ** t)
        else:
            vhat = v / (1 - b2 ** t)
        theta = theta - lr * mhat / (np.sqrt(vhat) + eps)
    return theta


# --------------------------------------------------------------------------- three steps vs the hand computation

CASES = [
    (optim.SGD, ref_sgd, {"lr": 0.1}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "weight_decay": 0.05}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.Adagrad, ref_adagrad, {}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.5, "lr_decay": 0.1, "weight_decay": 0.02, "initial_accumulator_value": 0.3}),
    (optim.RMSprop, ref_rmsprop, {}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.05, "momentum": 0.8}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.05, "centered": True, "weight_decay": 0.1}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.05, "centered": True, "momentum": 0.5, "alpha": 0.9}),
    (optim.Adadelta, ref_adadelta, {}),
    (optim.Adadelta, ref_adadelta, {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    (optim.Adam, ref_adam, {}),
    (optim.Adam, ref_adam, {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    (optim.Adam, ref_adam, {"lr": 0.1, "amsgrad": True}),
]


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=[f"{c.__name__}-{sorted(kw.items())}" for c, _, kw in CASES])
def test_three_steps_match_the_documented_algorithm(cls, ref, kw):
    got, _ = run_opt(cls, THETA, **kw)
    np.testing.assert_allclose(got, ref(THETA, **kw), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kw", [{}, {"lr": 0.1, "weight_decay": 0.3},
                                {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True}])
def test_adamw_decouples_weight_decay(kw):
    got, _ = run_opt(optim.AdamW, THETA, **kw)
    expected = ref_adam(THETA, decoupled=True, **{"weight_decay": 1e-2, **kw})
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    # and it differs from Adam's L2 form when the decay is large enough to matter
    if kw.get("weight_decay"):
        assert not np.allclose(got, ref_adam(THETA, **kw), rtol=1e-9, atol=0)


def test_amsgrad_uses_the_running_maximum_when_gradients_shrink():
    """With gradients that shrink, v drops below its maximum: amsgrad must then take smaller steps."""
    p = ag.Tensor(np.array([1.0]), requires_grad=True)
    q = ag.Tensor(np.array([1.0]), requires_grad=True)
    a = optim.Adam([p], lr=0.1, betas=(0.0, 0.5), amsgrad=True)
    b = optim.Adam([q], lr=0.1, betas=(0.0, 0.5))
    for g in (10.0, 0.1, 0.1):
        p.grad, q.grad = ag.Tensor(np.array([g])), ag.Tensor(np.array([g]))
        a.step()
        b.step()
    # by hand: the amsgrad denominator keeps v_max = 0.5*100 = 50 from step 1
    v, vmax, x = 0.0, 0.0, 1.0
    for t, g in enumerate((10.0, 0.1, 0.1), start=1):
        v = 0.5 * v + 0.5 * g * g
        vmax = max(vmax, v)
        x -= 0.1 * g / (math.sqrt(vmax / (1 - 0.5 ** t)) + 1e-8)
    assert p.data[0] == pytest.approx(x, rel=1e-12)
    assert abs(1 - p.data[0]) < abs(1 - q.data[0])


@pytest.mark.parametrize("cls, ref, kw", [(optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}),
                                          (optim.Adam, ref_adam, {"lr": 0.1, "weight_decay": 0.1})])
def test_maximize_negates_the_gradient_before_weight_decay(cls, ref, kw):
    got, _ = run_opt(cls, THETA, maximize=True, **kw)
    np.testing.assert_allclose(got, ref(THETA, maximize=True, **kw), rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(1e-4, 1.0), b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999), wd=st.floats(0.0, 0.5),
       amsgrad=st.booleans())
def test_adam_matches_reference_for_any_hyperparameters(lr, b1, b2, wd, amsgrad):
    kw = {"lr": lr, "betas": (b1, b2), "weight_decay": wd, "amsgrad": amsgrad}
    got, _ = run_opt(optim.Adam, THETA, **kw)
    np.testing.assert_allclose(got, ref_adam(THETA, **kw), rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(1e-4, 1.0), mu=st.floats(0.0, 0.99), tau=st.floats(0.0, 1.0), wd=st.floats(0.0, 0.5),
       nesterov=st.booleans())
def test_sgd_matches_reference_for_any_hyperparameters(lr, mu, tau, wd, nesterov):
    if nesterov and mu == 0:
        mu = 0.5
    kw = {"lr": lr, "momentum": mu, "dampening": 0.0 if nesterov else tau, "weight_decay": wd, "nesterov": nesterov}
    got, _ = run_opt(optim.SGD, THETA, **kw)
    np.testing.assert_allclose(got, ref_sgd(THETA, **kw), rtol=1e-10, atol=1e-12)


def test_a_real_loss_is_minimised_through_autograd():
    """SGD on f(w) = sum((w - 3)^2) with gradients from backward: w_{t+1} = w_t - lr * 2 (w_t - 3)."""
    w = ag.Tensor(np.array([0.0, 10.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    expected = np.array([0.0, 10.0])
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((w - 3.0) ** 2).sum()
        loss.backward()
        opt.step()
        expected = expected - 0.1 * 2 * (expected - 3)
    np.testing.assert_allclose(w.data, expected, rtol=1e-12)


# --------------------------------------------------------------------------- mechanics


ALL = [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adadelta, optim.Adam, optim.AdamW]


@pytest.mark.parametrize("cls", ALL)
def test_float32_parameters_stay_float32_and_are_updated_in_place(cls):
    p = ag.Tensor(np.array([1.0, -2.0, 3.0], dtype=np.float32), requires_grad=True)
    data = p.data
    opt = cls([p], lr=0.1, **({"momentum": 0.9} if cls in (optim.SGD, optim.RMSprop) else {}))
    for t in range(STEPS):
        p.grad = ag.Tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32) * (t + 1))
        opt.step()
    assert p.data is data and p.dtype == np.float32
    assert not np.array_equal(p.data, np.array([1.0, -2.0, 3.0], dtype=np.float32))
    for buffers in opt.state.values():
        for v in buffers.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32


@pytest.mark.parametrize("cls", ALL)
def test_params_without_grad_are_skipped(cls):
    p = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    q = ag.Tensor(np.array([5.0]), requires_grad=True)
    opt = cls([p, q], lr=0.1)
    p.grad = ag.Tensor(np.array([1.0, 1.0]))
    opt.step()
    assert q.data[0] == 5.0 and not np.array_equal(p.data, [1.0, 2.0])
    if cls is not optim.Adagrad:  # Adagrad creates its accumulators up front, as PyTorch does
        assert q not in opt.state


def test_param_groups_use_their_own_hyperparameters_and_defaults():
    a = ag.Tensor(np.array([1.0]), requires_grad=True)
    b = ag.Tensor(np.array([1.0]), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    a.grad, b.grad = ag.Tensor(np.array([1.0])), ag.Tensor(np.array([1.0]))
    opt.step()
    assert a.data[0] == pytest.approx(0.9) and b.data[0] == pytest.approx(0.5)
    assert opt.param_groups[1]["momentum"] == 0.0
    c = ag.Tensor(np.array([2.0]), requires_grad=True)
    opt.add_param_group({"params": c, "lr": 1.0})
    c.grad = ag.Tensor(np.array([1.0]))
    opt.step()
    assert c.data[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_zero_grad_sets_none_or_zeros():
    p = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    g = p.grad = ag.Tensor(np.array([3.0, 4.0]))
    opt.zero_grad(set_to_none=False)
    assert p.grad is g
    np.testing.assert_array_equal(p.grad.data, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_closure_is_called_with_grad_enabled_and_its_loss_returned():
    w = ag.Tensor(np.array([2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(4.0)
    assert w.data[0] == pytest.approx(2.0 - 0.25 * 4.0)


@pytest.mark.parametrize("outer", [True, False])
def test_updates_run_with_grad_mode_off_and_step_restores_it_even_on_error(outer):
    class Probe(optim.SGD):
        seen, fail = [], False

        def _update(self, group, params):
            self.seen.append(ag.is_grad_enabled())
            if self.fail:
                raise RuntimeError("update failed")
            super()._update(group, params)

    p = ag.Tensor(np.array([1.0]), requires_grad=True)
    opt = Probe([p], lr=0.5)
    p.grad = ag.Tensor(np.array([2.0]))
    with ag.set_grad_enabled(outer):
        opt.step()
        assert ag.is_grad_enabled() is outer
        Probe.fail = True
        with pytest.raises(RuntimeError, match="update failed"):
            opt.step()
        assert ag.is_grad_enabled() is outer
    assert Probe.seen == [False, False]
    assert p.data[0] == 0.0 and p._version == 1  # the one update that ran, counted as an in-place change


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.SGD([p], lr=-0.1), "lr"),
    (lambda p: optim.SGD([p], momentum=-1), "momentum"),
    (lambda p: optim.SGD([p], weight_decay=-1e-3), "weight_decay"),
    (lambda p: optim.SGD([p], nesterov=True), "nesterov"),
    (lambda p: optim.SGD([p], momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (lambda p: optim.Adam([p], betas=(1.0, 0.999)), "beta parameter at index 0"),
    (lambda p: optim.Adam([p], betas=(0.9, -0.1)), "beta parameter at index 1"),
    (lambda p: optim.Adam([p], eps=-1.0), "eps"),
    (lambda p: optim.AdamW([p], lr=float("nan")), "lr"),
    (lambda p: optim.RMSprop([p], alpha=1.5), "alpha"),
    (lambda p: optim.Adadelta([p], rho=-0.5), "rho"),
    (lambda p: optim.Adagrad([p], lr_decay=-1), "lr_decay"),
    (lambda p: optim.Adagrad([p], initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda p: optim.SGD([], lr=0.1), "empty"),
    (lambda p: optim.SGD([p, p], lr=0.1), "twice"),
    (lambda p: optim.SGD([p * 2], lr=0.1), "non-leaf"),
])
def test_bad_arguments_raise_value_error_naming_them(make, match):
    p = ag.Tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(ValueError, match=match):
        make(p)


def test_bad_types_raise_type_error():
    p = ag.Tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([np.array([1.0])], lr=0.1)
    with pytest.raises(TypeError, match="unknown hyperparameter"):
        optim.SGD([{"params": [p], "betas": (0.9, 0.99)}], lr=0.1)
    with pytest.raises(TypeError, match="floating"):
        optim.SGD([ag.Tensor(np.array([1, 2]))], lr=0.1)


def test_defaults_match_pytorch():
    p = ag.Tensor(np.array([1.0]), requires_grad=True)
    assert optim.SGD([p]).defaults == {"lr": 1e-3, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False,
                                           "maximize": False}
    assert optim.Adagrad([p]).defaults == {"lr": 1e-2, "lr_decay": 0, "weight_decay": 0, "initial_accumulator_value": 0,
                                               "eps": 1e-10, "maximize": False}
    assert optim.RMSprop([p]).defaults == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0, "momentum": 0,
                                               "centered": False, "maximize": False}
    assert optim.Adadelta([p]).defaults == {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0, "maximize": False}
    assert optim.Adam([p]).defaults == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                                        "amsgrad": False, "maximize": False}
    assert optim.AdamW([p]).defaults["weight_decay"] == 1e-2


# --------------------------------------------------------------------------- state_dict


@pytest.mark.parametrize("cls, kw", [(optim.SGD, {"lr": 0.1, "momentum": 0.9}), (optim.Adagrad, {"lr": 0.1}),
                                     (optim.RMSprop, {"momentum": 0.5, "centered": True}), (optim.Adadelta, {}),
                                     (optim.Adam, {"lr": 0.05, "amsgrad": True}), (optim.AdamW, {"lr": 0.05})])
def test_state_dict_round_trip_resumes_identically(cls, kw):
    """Train 2 steps, checkpoint, then: (a) 3 more steps; (b) a fresh optimiser loaded from the checkpoint,
    3 more steps from the same parameters. Both must end bit-identical."""
    def fresh():
        return [ag.Tensor(THETA.copy(), requires_grad=True), ag.Tensor(np.array([1.0, -1.0]), requires_grad=True)]

    def steps(opt, params, ts):
        for t in ts:
            for p in params:
                p.grad = ag.Tensor(grad_at(p.data, t))
            opt.step()

    params = fresh()
    opt = cls(params, **kw)
    steps(opt, params, range(2))
    sd = opt.state_dict()
    snapshot = [p.data.copy() for p in params]
    steps(opt, params, range(2, 5))

    params2 = fresh()
    for p, s in zip(params2, snapshot):
        p.data[...] = s
    opt2 = cls(params2, lr=123.0)  # hyperparameters come from the checkpoint
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    steps(opt2, params2, range(2, 5))
    for a, b in zip(params, params2):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_is_a_copy_and_uses_indices():
    p = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = ag.Tensor(np.array([1.0, 1.0]))
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"} and list(sd["state"]) == [0]
    assert sd["param_groups"][0]["params"] == [0] and sd["state"][0]["step"] == 1
    before = sd["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], before)


def test_load_state_dict_rejects_mismatches_without_changing_anything():
    p = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = ag.Tensor(np.array([1.0, 1.0]))
    opt.step()
    sd = opt.state_dict()
    q = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    other = optim.Adam([q], lr=0.5)
    with pytest.raises(ValueError, match="shape"):
        other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.5 and not other.state
    two = optim.Adam([p, q])
    with pytest.raises(ValueError, match="group 0"):
        two.load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam([{"params": [p]}, {"params": [q]}]).load_state_dict(sd)


def test_state_dict_survives_nn_save_and_load(tmp_path):
    import nn.serialization as ser

    p = ag.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1, amsgrad=True)
    p.grad = ag.Tensor(np.array([1.0, -3.0], dtype=np.float32))
    opt.step()
    ser.save(opt.state_dict(), tmp_path / "opt.npz")
    loaded = ser.load(tmp_path / "opt.npz")
    q = ag.Tensor(p.data.copy(), requires_grad=True)
    opt2 = optim.Adam([q])
    opt2.load_state_dict(loaded)
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999) and opt2.param_groups[0]["amsgrad"] is True
    for t in (p, q):
        t.grad = ag.Tensor(np.array([0.5, 0.5], dtype=np.float32))
    opt.step()
    opt2.step()
    np.testing.assert_array_equal(p.data, q.data)


def test_repr_lists_groups():
    p = ag.Tensor(np.array([1.0]), requires_grad=True)
    text = repr(optim.SGD([p], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


def test_gradient_of_another_dtype_is_cast_and_a_misshaped_one_rejected():
    p = ag.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = ag.Tensor(np.array([0.5, -0.5], dtype=np.float64))
    opt.step()
    assert p.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(p.data, [0.9, 2.1], rtol=1e-6)
    q = ag.Tensor(np.array([5.0], dtype=np.float32), requires_grad=True)
    opt.add_param_group({"params": [q]})
    q.grad = ag.Tensor(np.ones(1, dtype=np.float32))
    p.grad = ag.Tensor(np.ones(3, dtype=np.float32))
    before = (p.data.copy(), q.data.copy())
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\).*shape \(2,\)"):
        opt.step()
    np.testing.assert_array_equal(p.data, before[0])  # nothing moved
    np.testing.assert_array_equal(q.data, before[1])


# --------------------------------------------------------------------------- optional: against PyTorch itself


TORCH_CASES = [(cls.__name__, kw) for cls, _, kw in CASES] + [
    ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.5, "lr_decay": 0.1, "maximize": True}),
    ("Adadelta", {"lr": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("RMSprop", {"lr": 0.05, "centered": True, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.1, "amsgrad": True, "maximize": True}),
    ("AdamW", {}), ("AdamW", {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True}),
]


@pytest.mark.parametrize("name, kw", TORCH_CASES, ids=[f"{n}-{sorted(kw.items())}" for n, kw in TORCH_CASES])
def test_six_steps_match_pytorch_when_installed(name, kw):
    torch = pytest.importorskip("torch")
    p = ag.Tensor(THETA.copy(), requires_grad=True)
    q = torch.tensor(THETA.copy(), dtype=torch.float64, requires_grad=True)
    ours, theirs = getattr(optim, name)([p], **kw), getattr(torch.optim, name)([q], **kw)
    for t in range(6):
        p.grad = ag.Tensor(grad_at(p.data, t))
        q.grad = torch.tensor(grad_at(q.detach().numpy(), t), dtype=torch.float64)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert set(ours.state_dict()["state"].get(0, {})) == set(theirs.state_dict()["state"].get(0, {}))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_a_pytorch_optimizer_state_dict_converted_to_numpy_loads_and_resumes(name):
    torch = pytest.importorskip("torch")
    kw = {"lr": 0.05, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {})}
    q = torch.tensor(THETA.copy(), dtype=torch.float64, requires_grad=True)
    theirs = getattr(torch.optim, name)([q], **kw)
    for t in range(3):
        q.grad = torch.tensor(grad_at(q.detach().numpy(), t), dtype=torch.float64)
        theirs.step()
    sd = theirs.state_dict()
    converted = {"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in sd["state"].items()},
                 "param_groups": sd["param_groups"]}
    p = ag.Tensor(q.detach().numpy().copy(), requires_grad=True)
    ours = getattr(optim, name)([p], lr=1.0)
    ours.load_state_dict(converted)
    assert ours.param_groups[0]["lr"] == 0.05 and "foreach" not in ours.param_groups[0]
    for t in range(3, 6):
        p.grad = ag.Tensor(grad_at(p.data, t))
        q.grad = torch.tensor(grad_at(q.detach().numpy(), t), dtype=torch.float64)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-12, atol=1e-14)
