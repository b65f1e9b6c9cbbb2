"""Learning-rate schedulers: the lr of every epoch against the closed form, resuming, and validation."""
import math

import numpy as np
import pytest

import autograd as ag
from nn import optim
from nn.optim import lr_scheduler


def make_opt(lr=0.1, groups=1):
    params = [ag.Tensor(np.array([1.0]), requires_grad=True) for _ in range(groups)]
    return optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(params)], lr=lr)


def lrs_over(sched, opt, epochs):
    """The lr in use during each epoch 0..epochs-1 (scheduler stepped at the end of every epoch)."""
    seen = []
    for _ in range(epochs):
        seen.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    return np.array(seen)


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (3, 0.1), (4, 0.9)])
def test_steplr_closed_form(step_size, gamma):
    opt = make_opt(groups=2)
    sched = lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    got = lrs_over(sched, opt, 13)
    expected = np.array([[base * gamma ** (e // step_size) for base in (0.1, 0.2)] for e in range(13)])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_steplr_reproduces_the_seed_schedule():
    """Seed T5: 0.01, then 0.001 after 10k iterations, then 0.0001 (a step every 10k, gamma 0.1)."""
    opt = make_opt(lr=0.01)
    sched = lr_scheduler.StepLR(opt, step_size=10_000, gamma=0.1)
    lrs = []
    for it in range(25_000):
        if it % 5000 == 0:
            lrs.append(sched.get_last_lr()[0])
        sched.step()
    np.testing.assert_allclose(lrs, [0.01, 0.01, 0.001, 0.001, 0.0001], rtol=1e-9)


@pytest.mark.parametrize("gamma", [0.5, 0.95])
def test_exponentiallr_closed_form(gamma):
    opt = make_opt(groups=2)
    sched = lr_scheduler.ExponentialLR(opt, gamma=gamma)
    got = lrs_over(sched, opt, 10)
    expected = np.array([[base * gamma ** e for base in (0.1, 0.2)] for e in range(10)])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("T_max, eta_min", [(5, 0.0), (10, 0.01), (1, 0.001)])
def test_cosine_closed_form_including_past_T_max(T_max, eta_min):
    opt = make_opt(groups=2)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
    epochs = 3 * T_max + 2
    got = lrs_over(sched, opt, epochs)
    expected = np.array([[eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2 for base in (0.1, 0.2)]
                         for e in range(epochs)])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_get_last_lr_and_initial_lr():
    opt = make_opt()
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert sched.get_last_lr() == [0.1] and opt.param_groups[0]["initial_lr"] == 0.1
    sched.step()
    assert sched.get_last_lr() == [pytest.approx(0.05)] and sched.last_epoch == 1


def test_state_dict_round_trip_resumes_the_schedule():
    """Checkpoint optimiser and scheduler at epoch 3; a fresh pair loaded from it continues identically."""
    opt = make_opt()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0.001)
    for _ in range(3):
        sched.step()
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_sd and sched_sd["last_epoch"] == 3
    rest = []
    for _ in range(4):
        sched.step()
        rest.append(sched.get_last_lr()[0])

    opt2 = make_opt()
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=6, eta_min=0.001)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    rest2 = []
    for _ in range(4):
        sched2.step()
        rest2.append(sched2.get_last_lr()[0])
    np.testing.assert_allclose(rest2, rest, rtol=1e-12)
    np.testing.assert_allclose(rest, [0.001 + 0.099 * (1 + math.cos(math.pi * e / 6)) / 2 for e in range(4, 8)])


def test_resuming_with_last_epoch_needs_initial_lr():
    opt = make_opt()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=4)
    opt.param_groups[0]["initial_lr"] = 0.1
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    assert sched.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 5 / 10)) / 2 * 0.1)


@pytest.mark.parametrize("make, match", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.5), "step_size"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=-1), "gamma"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=3, eta_min=-1), "eta_min"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make(make_opt())
    with pytest.raises(TypeError, match="optimiser"):
        lr_scheduler.StepLR(object(), step_size=1)


@pytest.mark.parametrize("name, kw", [("StepLR", {"step_size": 3, "gamma": 0.5}), ("ExponentialLR", {"gamma": 0.9}),
                                      ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.01})])
def test_schedules_match_pytorch_when_installed(name, kw):
    torch = pytest.importorskip("torch")
    opt = make_opt(lr=0.1)
    sched = getattr(lr_scheduler, name)(opt, **kw)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    ours, theirs = [], []
    for _ in range(14):
        ours.append(sched.get_last_lr()[0])
        theirs.append(tsched.get_last_lr()[0])
        topt.step()
        sched.step()
        tsched.step()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
