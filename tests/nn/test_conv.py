"""Conv1d / Conv2d and F.conv1d / F.conv2d: output sizes (SEEDS C2, C5), values and gradients against a
loop-over-positions NumPy reference, PyTorch parity, initialisation, BatchNorm2d on conv outputs, errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
import nn.functional as F
from autograd.testing import check_gradients

RNG = np.random.default_rng(0)


# ----------------------------------------------------------------------------- a naive reference


def naive_conv2d(x, w, b, stride, pads, dilation, groups):
    """Output, and a function giving (dx, dw, db) for an output gradient, by looping over output positions."""
    (sh, sw), (dh, dw_), (t, bt, lf, rt) = stride, dilation, pads
    xp = np.pad(x, ((0, 0), (0, 0), (t, bt), (lf, rt)))
    n, c, hp, wp = xp.shape
    o, cg, kh, kw = w.shape
    og = o // groups
    ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw_ * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))

    def patch(arr, p, q, k):
        g = k // og
        return arr[:, g * cg:(g + 1) * cg, p * sh:p * sh + dh * (kh - 1) + 1:dh, q * sw:q * sw + dw_ * (kw - 1) + 1:dw_]

    for p in range(ho):
        for q in range(wo):
            for k in range(o):
                out[:, k, p, q] = (patch(xp, p, q, k) * w[k]).sum(axis=(1, 2, 3)) + (0 if b is None else b[k])

    def grads(gout):
        dxp, dwt = np.zeros_like(xp), np.zeros_like(w)
        for p in range(ho):
            for q in range(wo):
                for k in range(o):
                    gk = gout[:, k, p, q][:, None, None, None]
                    dwt[k] += (patch(xp, p, q, k) * gk).sum(axis=0)
                    patch(dxp, p, q, k)[...] += gk * w[k]  # a view into dxp: adds in place
        db = None if b is None else gout.sum(axis=(0, 2, 3))
        return dxp[:, :, t:t + x.shape[2], lf:lf + x.shape[3]], dwt, db

    return out, grads


def _pads(padding, kernel, dilation):
    if padding == "same":
        tot = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return (tot[0] // 2, tot[0] - tot[0] // 2, tot[1] // 2, tot[1] - tot[1] // 2)
    if padding == "full":
        return tuple(d * (k - 1) for k, d in zip(kernel, dilation) for _ in range(2))
    if padding == "valid":
        return (0, 0, 0, 0)
    p = (padding, padding) if isinstance(padding, int) else padding
    return (p[0], p[0], p[1], p[1])


def _random_config(rng):
    groups = int(rng.choice([1, 1, 2, 3]))
    cg, og = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    stride = tuple(int(s) for s in rng.integers(1, 3, 2))
    padding = rng.choice(["int", "tuple", "same", "valid", "full"])
    if padding == "same":
        stride = (1, 1)
    padding = {"int": int(rng.integers(0, 3)), "tuple": (int(rng.integers(0, 3)), int(rng.integers(0, 3)))}.get(
        padding, padding)
    h, w = (int(s) + dilation[i] * (kernel[i] - 1) for i, s in enumerate(rng.integers(1, 6, 2)))
    return dict(n=int(rng.integers(1, 3)), c=groups * cg, o=groups * og, hw=(h, w), kernel=kernel, stride=stride,
                padding=padding, dilation=dilation, groups=groups, bias=bool(rng.integers(0, 2)))


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_values_and_gradients_match_the_loop_reference(seed):
    rng = np.random.default_rng(seed)
    cfg = _random_config(rng)
    x = rng.standard_normal((cfg["n"], cfg["c"]) + cfg["hw"])
    w = rng.standard_normal((cfg["o"], cfg["c"] // cfg["groups"]) + cfg["kernel"])
    b = rng.standard_normal(cfg["o"]) if cfg["bias"] else None
    ref, ref_grads = naive_conv2d(x, w, b, cfg["stride"], _pads(cfg["padding"], cfg["kernel"], cfg["dilation"]),
                                  cfg["dilation"], cfg["groups"])
    xt, wt = ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)
    bt = None if b is None else ag.tensor(b, requires_grad=True)
    out = F.conv2d(xt, wt, bt, cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"])
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(ref.shape)
    out.backward(g)
    dx, dw, db = ref_grads(g)
    np.testing.assert_allclose(xt.grad.data, dx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(wt.grad.data, dw, rtol=1e-10, atol=1e-10)
    if b is not None:
        np.testing.assert_allclose(bt.grad.data, db, rtol=1e-10, atol=1e-10)


def test_conv1d_is_conv2d_on_a_single_row():
    x, w, b = RNG.standard_normal((2, 4, 9)), RNG.standard_normal((6, 2, 3)), RNG.standard_normal(6)
    out = F.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2)
    ref, _ = naive_conv2d(x[:, :, None], w[:, :, None], b, (1, 2), (0, 0, 1, 1), (1, 2), 2)
    np.testing.assert_allclose(out.data, ref[:, :, 0], rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- output sizes (SEEDS C2, C5)


@pytest.mark.parametrize("m", [5, 8, 11])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("d", [1, 2])
def test_narrow_same_wide_and_dilated_sizes_follow_the_formulas(m, k, d):
    eff = k + (k - 1) * (d - 1)  # C5: the dilated kernel's effective size
    if eff > m:
        return
    x = ag.zeros((1, 1, m, m))
    w = ag.zeros((1, 1, k, k))
    assert F.conv2d(x, w, padding="valid", dilation=d).shape[2:] == (m - eff + 1,) * 2  # C2 narrow: M - K + 1
    assert F.conv2d(x, w, padding="same", dilation=d).shape[2:] == (m, m)  # C2 same: M
    assert F.conv2d(x, w, padding="full", dilation=d).shape[2:] == (m + eff - 1,) * 2  # C2 wide: M + K - 1
    if d == 1 and k % 2 == 1:
        assert F.conv2d(x, w, padding=(k - 1) // 2).shape[2:] == (m, m)  # same is P = (K - 1) / 2
        assert F.conv2d(x, w, padding=k - 1).shape[2:] == (m + k - 1,) * 2  # wide is P = K - 1
    for s in (2, 3):
        assert F.conv2d(x, w, stride=s, dilation=d).shape[2:] == ((m - eff) // s + 1,) * 2


def test_same_with_an_even_kernel_pads_the_extra_at_the_end():
    x = RNG.standard_normal((1, 1, 5, 6))
    w = RNG.standard_normal((1, 1, 2, 4))
    ref, _ = naive_conv2d(x, w, None, (1, 1), (0, 1, 1, 2), (1, 1), 1)
    np.testing.assert_allclose(F.conv2d(x, w, padding="same").data, ref, rtol=1e-12)


# ----------------------------------------------------------------------------- layers


def test_conv2d_layer_layout_and_default_initialisation():
    conv = nn.Conv2d(8, 12, (3, 5), groups=4)
    assert conv.weight.shape == (12, 2, 3, 5) and conv.bias.shape == (12,)
    fan_in = 2 * 3 * 5
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=√5): gain √(2/6) · √(3/fan_in) = 1/√fan_in
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.weight.data).max() > 0.9 * bound
    assert np.abs(conv.bias.data).max() <= bound
    assert abs(conv.weight.data.std() - bound / math.sqrt(3)) < 0.15 * bound
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    assert nn.Conv1d(3, 4, 5, bias=False).weight.shape == (4, 3, 5) and nn.Conv1d(3, 4, 5, bias=False).bias is None


@pytest.mark.parametrize("groups, dilation", [(1, 1), (2, 1), (1, 2)])
def test_a_long_batch_takes_the_blocked_weight_gradient_and_shifted_input_gradient(groups, dilation):
    """Thousands of output positions with few channels: the weight gradient is summed over column blocks and the
    stride-1 input gradient is folded by flat shifts; both against the loop reference."""
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((6, 2, 40, 41)), rng.standard_normal((4, 2 // groups, 3, 3)), rng.standard_normal(4)
    pads = _pads(dilation, (3, 3), (dilation, dilation))
    ref, ref_grads = naive_conv2d(x, w, b, (1, 1), pads, (dilation, dilation), groups)
    xt, wt, bt = (ag.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, 1, dilation, dilation, groups)
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(ref.shape)
    out.backward(g)
    for got, want in zip((xt.grad, wt.grad, bt.grad), ref_grads(g)):
        np.testing.assert_allclose(got.data, want, rtol=1e-10, atol=1e-10)


def test_float32_stays_float32_through_conv_and_its_gradients():
    conv = nn.Conv2d(2, 3, 3, padding=1, dtype=np.float32)
    x = ag.tensor(RNG.standard_normal((2, 2, 5, 5)).astype(np.float32), requires_grad=True)
    out = conv(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32 and conv.weight.grad.dtype == np.float32


def _torch_conv(torch, ours):
    cls = torch.nn.Conv2d if isinstance(ours, nn.Conv2d) else torch.nn.Conv1d
    theirs = cls(ours.in_channels, ours.out_channels, ours.kernel_size, ours.stride, ours.padding, ours.dilation,
                 ours.groups, ours.bias is not None, dtype=torch.float64)
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    return theirs


@pytest.mark.parametrize("args", [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=(2, 3), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
    dict(in_channels=6, out_channels=6, kernel_size=3, padding="same", groups=6, bias=False),  # depthwise
    dict(in_channels=2, out_channels=3, kernel_size=4, padding="same", dilation=2),
    dict(in_channels=2, out_channels=3, kernel_size=2, padding="valid", stride=3),
])
@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("batch", [(2,), ()], ids=["batched", "unbatched"])
def test_conv_layers_match_pytorch(args, dims, batch):
    torch = pytest.importorskip("torch")
    if dims == 1:
        args = {k: (v[0] if isinstance(v, tuple) else v) for k, v in args.items()}
    ours = (nn.Conv2d if dims == 2 else nn.Conv1d)(**args, dtype=np.float64)
    theirs = _torch_conv(torch, ours)
    x = RNG.standard_normal(batch + (args["in_channels"],) + (9,) * dims)
    xt, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(xt), theirs(tx)
    assert out.shape == tuple(tout.shape) and out.ndim == x.ndim
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    if ours.bias is not None:
        np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_batchnorm2d_on_conv_outputs_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1, dtype=np.float64), nn.BatchNorm2d(5, dtype=np.float64))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3, padding=1), torch.nn.BatchNorm2d(5)).double()
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    x = RNG.standard_normal((4, 3, 6, 6))
    xt, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(xt), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-10)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours[0].weight.grad.data, theirs[0].weight.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours[1].running_var.data, theirs[1].running_var.numpy(), rtol=1e-10)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-9, atol=1e-10)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("make, call, match", [
    (lambda: nn.Conv2d(3, 4, 3), lambda m: m(ag.zeros((1, 2, 5, 5))),
     r"Conv2d: input of shape \(1, 2, 5, 5\) has 2 channels, expected in_channels=3"),
    (lambda: nn.Conv2d(1, 4, 3), lambda m: m(ag.zeros((3, 28, 28))),  # unbatched (C, H, W): C = 3
     r"Conv2d: input of shape \(3, 28, 28\) has 3 channels, expected in_channels=1"),
    (lambda: nn.Conv2d(1, 4, 3), lambda m: m(ag.zeros((28, 28))),
     r"Conv2d: input of shape \(28, 28\) must be 4-D \(N, C, H, W\) or 3-D \(C, H, W\) \(unbatched\)"),
    (lambda: nn.Conv2d(1, 4, 3), lambda m: m(ag.zeros((1, 1, 1, 8, 8))),
     r"Conv2d: input of shape \(1, 1, 1, 8, 8\) must be 4-D \(N, C, H, W\) or 3-D"),
    (lambda: nn.Conv1d(1, 4, 3), lambda m: m(ag.zeros((1, 1, 4, 4))),
     r"Conv1d: input of shape \(1, 1, 4, 4\) must be 3-D \(N, C, L\)"),
    (lambda: nn.Conv2d(1, 1, 5), lambda m: m(ag.zeros((1, 1, 4, 6))),
     r"Conv2d: kernel of size \(5, 5\).*larger than the padded input of shape \(1, 1, 4, 6\) with padding"),
    (lambda: nn.Conv2d(1, 1, 3, dilation=3), lambda m: m(ag.zeros((1, 1, 6, 6))),
     r"Conv2d: kernel of size \(3, 3\) \(dilation \(3, 3\), effective \(7, 7\)\) is larger"),
])
def test_bad_inputs_name_the_layer_shapes_and_argument(make, call, match):
    with pytest.raises(ValueError, match=match):
        call(make())


@pytest.mark.parametrize("kwargs, match", [
    (dict(stride=0), r"Conv2d: stride must be positive, got 0"),
    (dict(dilation=(1, -1)), r"Conv2d: dilation must be positive, got \(1, -1\)"),
    (dict(groups=4), r"Conv2d: groups=4 must divide in_channels=6 and out_channels=8"),
    (dict(padding="same", stride=2), r"Conv2d: padding='same' is not supported for strided convolutions"),
    (dict(padding="middle"), r"Conv2d: padding must be an int, a tuple or one of"),
    (dict(padding=-1), r"Conv2d: padding must be non-negative, got -1"),
    (dict(kernel_size=0), r"Conv2d: kernel_size must be positive, got 0"),
])
def test_bad_constructor_arguments(kwargs, match):
    args = dict(in_channels=6, out_channels=8, kernel_size=3) | kwargs
    with pytest.raises(ValueError, match=match):
        nn.Conv2d(**args)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_other_padding_modes_are_not_implemented_and_say_which(mode):
    with pytest.raises(NotImplementedError, match=f"Conv2d: padding_mode='{mode}' is not implemented"):
        nn.Conv2d(1, 1, 3, padding_mode=mode)


def test_functional_errors_name_the_function_and_shapes():
    x, w = ag.zeros((2, 6, 5, 5)), ag.zeros((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(2, 6, 5, 5\) has 6 channels, but weight of "
                                         r"shape \(4, 3, 3, 3\) with groups=1 expects 3"):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match=r"conv2d: out_channels=4 .* not divisible by groups=\d"):
        F.conv2d(ag.zeros((2, 3, 5, 5)), ag.zeros((4, 1, 3, 3)), groups=3)
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(3,\) must be \(4,\)"):
        F.conv2d(ag.zeros((2, 3, 5, 5)), w, ag.zeros(3))
    with pytest.raises(TypeError, match=r"conv2d: input dtype float32 does not match weight dtype float64"):
        F.conv2d(ag.zeros((1, 3, 5, 5), dtype=np.float32), ag.zeros((4, 3, 3, 3), dtype=np.float64))
    with pytest.raises(TypeError, match=r"conv2d: bias dtype float64 does not match input dtype float32"):
        F.conv2d(ag.zeros((1, 3, 5, 5), dtype=np.float32), ag.zeros((4, 3, 3, 3), dtype=np.float32),
                 ag.zeros(4, dtype=np.float64))


# ----------------------------------------------------------------------------- drawn configurations, second order

@settings(max_examples=10)
@given(data=st.data())
def test_conv2d_gradients_first_and_second_order_on_drawn_configurations(data):
    groups = data.draw(st.sampled_from([1, 2]), label="groups")
    kernel = tuple(data.draw(st.integers(1, 2), label="kernel") for _ in range(2))
    stride = tuple(data.draw(st.integers(1, 2), label="stride") for _ in range(2))
    dilation = tuple(data.draw(st.integers(1, 2), label="dilation") for _ in range(2))
    padding = data.draw(st.one_of(st.integers(0, 1), st.sampled_from(["valid", "full"])), label="padding")
    sides = tuple(d * (k - 1) + 1 + data.draw(st.integers(0, 1)) for k, d in zip(kernel, dilation))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    x = ag.tensor(rng.standard_normal((1, groups) + sides), requires_grad=True)
    w = ag.tensor(rng.standard_normal((groups, 1) + kernel), requires_grad=True)
    b = ag.tensor(rng.standard_normal(groups), requires_grad=True)
    check_gradients(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups), x, w, b)


def test_bench_cnn_step_matches_the_numpy_floor_and_pytorch():
    """bench/cnn.py's step in float32 (channel-major conv outputs, 2x2 pools, a C-ordered gradient from Flatten:
    the layouts the fast paths are for): nn's SGD step moves every parameter as the hand-written NumPy step and
    PyTorch's do."""
    from bench import cnn

    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, 8)
    start = cnn._params(np.random.default_rng(0))
    by_hand = {k: v.copy() for k, v in start.items()}
    cnn.numpy_train_step(by_hand, x, labels)
    model = cnn.graphgrad_model(start)
    opt = nn.optim.SGD(model.parameters(), lr=cnn.LR)
    F.cross_entropy(model(ag.tensor(x)), ag.tensor(labels)).backward()
    opt.step()
    ours = [p.data for p in model.parameters()]
    for got, (key, want) in zip(ours, by_hand.items()):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=key)
        assert not np.array_equal(want, start[key])  # the step moved it
    torch = pytest.importorskip("torch")
    tmodel = cnn._torch_model(torch, start)
    topt = torch.optim.SGD(tmodel.parameters(), lr=cnn.LR)
    torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(labels)).backward()
    topt.step()
    for got, want in zip(ours, tmodel.parameters()):
        np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-5, atol=1e-6)
