"""Max, average and adaptive pooling (1-D and 2-D): values and gradients against a loop-over-windows NumPy
reference, PyTorch parity (ceil mode, padding, indices), sizes (SEEDS C4) and errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
import nn.functional as F
from autograd.testing import check_gradients

RNG = np.random.default_rng(1)


def _distinct(shape, rng):
    """Values without ties (a shuffled grid), so each window's maximum is unique."""
    return rng.permutation(np.arange(math.prod(shape)) * 0.37 - 3.0).reshape(shape)


def naive_pool(x, kernel, stride, padding, reduce):
    """Pooled values and the gradient for an output gradient, window by window (floor mode)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    fill = -np.inf if reduce == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.zeros(x.shape[:2] + (ho, wo))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for p in range(ho):
                for q in range(wo):
                    win = xp[n, c, p * sh:p * sh + kh, q * sw:q * sw + kw]
                    out[n, c, p, q] = win.max() if reduce == "max" else win.mean()

    def grad(g):
        dxp = np.zeros_like(xp)
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                for p in range(ho):
                    for q in range(wo):
                        win = dxp[n, c, p * sh:p * sh + kh, q * sw:q * sw + kw]
                        if reduce == "max":
                            i, j = np.unravel_index(np.argmax(xp[n, c, p * sh:p * sh + kh, q * sw:q * sw + kw]),
                                                    (kh, kw))
                            win[i, j] += g[n, c, p, q]
                        else:
                            win += g[n, c, p, q] / (kh * kw)
        return dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]

    return out, grad


@pytest.mark.parametrize("reduce", ["max", "avg"])
@pytest.mark.parametrize("seed", range(6))
def test_pooling_values_and_gradients_match_the_loop_reference(reduce, seed):
    rng = np.random.default_rng(seed)
    kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
    stride = tuple(int(s) for s in rng.integers(1, 4, 2))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    x = _distinct((2, 3) + tuple(int(s) for s in rng.integers(4, 8, 2)), rng)
    ref, ref_grad = naive_pool(x, kernel, stride, padding, reduce)
    xt = ag.tensor(x, requires_grad=True)
    fn = F.max_pool2d if reduce == "max" else F.avg_pool2d
    out = fn(xt, kernel, stride, padding)
    np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(ref.shape)
    out.backward(g)
    np.testing.assert_allclose(xt.grad.data, ref_grad(g), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 2), (3, 1), ((2, 3), (2, 1))])
@pytest.mark.parametrize("layout", ["C", "channel-major"])
def test_float32_max_pool_routes_gradients_exactly_with_ties(kernel, stride, layout):
    """The float32 2x2 path (gradients moved as 64-bit pairs) and the whole-array row maxima, in both memory
    layouts a conv gives or a reshape gives, with many ties: each gradient lands on the first maximum of its
    window, as the loop reference (and PyTorch) put it; bit for bit where windows are disjoint."""
    rng = np.random.default_rng(7)
    shape = (3, 4, 8, 10)
    x = rng.integers(-2, 3, shape).astype(np.float32)  # five values: ties in most windows
    if layout == "channel-major":
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    kernel2, stride2 = (kernel,) * 2 if isinstance(kernel, int) else kernel, (stride,) * 2 if isinstance(
        stride, int) else stride
    ref, ref_grad = naive_pool(x.astype(np.float64), kernel2, stride2, (0, 0), "max")
    xt = ag.tensor(x, requires_grad=True)
    out = F.max_pool2d(xt, kernel, stride)
    np.testing.assert_array_equal(out.data, ref.astype(np.float32))
    g = rng.standard_normal(ref.shape).astype(np.float32)
    out.backward(g)
    assert xt.grad.dtype == np.float32
    expected = ref_grad(g.astype(np.float64)).astype(np.float32)
    if all(s >= k for k, s in zip(kernel2, stride2)):  # disjoint windows: every gradient is moved, not summed
        np.testing.assert_array_equal(xt.grad.data, expected)
    else:
        np.testing.assert_allclose(xt.grad.data, expected, rtol=1e-6, atol=1e-6)


def test_max_pool_indices_are_flat_per_channel_plane():
    x = _distinct((1, 2, 4, 4), RNG)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.dtype == np.int64 and idx.shape == out.shape
    flat = x.reshape(1, 2, 16)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.data.reshape(1, 2, 4), axis=2).reshape(out.shape),
                                  out.data)


def test_global_max_pool_with_a_wide_kernel_finds_the_maximum():
    x = ag.tensor(_distinct((1, 1, 2, 200), RNG), requires_grad=True)
    out, idx = F.max_pool2d(x, (2, 200), return_indices=True)
    assert out.item() == x.data.max() and idx.item() == int(x.data.argmax())
    out.backward()
    np.testing.assert_array_equal(x.grad.data.reshape(-1), np.eye(400)[int(x.data.argmax())])


def test_max_pool_gives_a_tie_to_the_first_maximum_as_pytorch():
    x = ag.tensor(np.zeros((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_pooling_halves_a_feature_map_c4():
    x = ag.randn(2, 3, 28, 28)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 14, 14)
    assert nn.AvgPool2d(2)(x).shape == (2, 3, 14, 14)
    assert nn.MaxPool2d(3, stride=2, padding=1)(x).shape == (2, 3, 14, 14)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)


_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), ceil_mode=True),
    dict(kernel_size=2, stride=3, ceil_mode=True),
]


@pytest.mark.parametrize("kwargs", _CASES)
@pytest.mark.parametrize("dims", [1, 2])
def test_max_pool_matches_pytorch_with_indices(kwargs, dims):
    torch = pytest.importorskip("torch")
    if dims == 1:
        kwargs = {k: (v[0] if isinstance(v, tuple) else v) for k, v in kwargs.items()}
    x = _distinct((2, 3) + (9,) * (dims - 1) + (8,), RNG)
    xt, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    layer = (nn.MaxPool2d if dims == 2 else nn.MaxPool1d)(**kwargs, return_indices=True)
    out, idx = layer(xt)
    tout, tidx = getattr(torch.nn.functional, f"max_pool{dims}d")(tx, **kwargs, return_indices=True)
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_dilated_max_pool_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = _distinct((1, 2, 9, 10), RNG)
    out, idx = F.max_pool2d(x, (2, 3), stride=(2, 1), padding=1, dilation=(2, 2), return_indices=True)
    tout, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), (2, 3), (2, 1), 1, (2, 2), return_indices=True)
    np.testing.assert_array_equal(out.data, tout.numpy())
    np.testing.assert_array_equal(idx.data, tidx.numpy())


@pytest.mark.parametrize("kwargs", _CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dims", [1, 2])
def test_avg_pool_matches_pytorch(kwargs, count_include_pad, dims):
    torch = pytest.importorskip("torch")
    if dims == 1:
        kwargs = {k: (v[0] if isinstance(v, tuple) else v) for k, v in kwargs.items()}
    x = RNG.standard_normal((2, 3) + (9,) * (dims - 1) + (8,))
    xt, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = (nn.AvgPool2d if dims == 2 else nn.AvgPool1d)(**kwargs, count_include_pad=count_include_pad)(xt)
    tout = getattr(torch.nn.functional, f"avg_pool{dims}d")(tx, **kwargs, count_include_pad=count_include_pad)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_avg_pool_divisor_override_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((1, 2, 6, 7))
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 2, 1, divisor_override=5).data,
                               torch.nn.functional.avg_pool2d(torch.tensor(x), 3, 2, 1, divisor_override=5).numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("output_size", [1, 3, (2, 5), (4, None), (7, 7)])
def test_adaptive_avg_pool_matches_pytorch(output_size):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 7, 10))
    xt, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = nn.AdaptiveAvgPool2d(output_size)(xt), torch.nn.AdaptiveAvgPool2d(output_size)(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    if isinstance(output_size, int):
        np.testing.assert_allclose(nn.AdaptiveAvgPool1d(output_size)(x[:, :, 0]).data,
                                   torch.nn.AdaptiveAvgPool1d(output_size)(torch.tensor(x[:, :, 0])).numpy(),
                                   rtol=1e-12)


_UNBATCHED = [  # (ours, PyTorch's, arguments): every pooling that PyTorch runs on (C, L) or (C, H, W)
    ("MaxPool1d", "MaxPool1d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)),
    ("MaxPool2d", "MaxPool2d", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), return_indices=True)),
    ("MaxPool2d", "MaxPool2d", dict(kernel_size=2)),
    ("AvgPool1d", "AvgPool1d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("AvgPool2d", "AvgPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("AdaptiveAvgPool1d", "AdaptiveAvgPool1d", dict(output_size=3)),
    ("AdaptiveAvgPool2d", "AdaptiveAvgPool2d", dict(output_size=(2, 3))),
    ("AdaptiveAvgPool2d", "AdaptiveAvgPool2d", dict(output_size=1)),
]


@pytest.mark.parametrize("ours, theirs, kwargs", _UNBATCHED)
def test_unbatched_pooling_matches_pytorch(ours, theirs, kwargs):
    torch = pytest.importorskip("torch")
    shape = (3, 8) if ours.endswith("1d") else (3, 7, 8)
    x = _distinct(shape, RNG)
    xt, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = getattr(nn, ours)(**kwargs)(xt), getattr(torch.nn, theirs)(**kwargs)(tx)
    if kwargs.get("return_indices"):
        (out, idx), (tout, tidx) = out, tout
        assert idx.shape == tuple(tidx.shape)
        np.testing.assert_array_equal(idx.data, tidx.numpy())
    assert out.shape == tuple(tout.shape) and out.ndim == len(shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert xt.grad.shape == shape
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_unbatched_pooling_equals_a_batch_of_one():
    x = _distinct((2, 6, 6), RNG)
    for f in (lambda v: F.max_pool2d(v, 2), lambda v: F.avg_pool2d(v, 3, 1, 1), lambda v: F.adaptive_avg_pool2d(v, 4)):
        np.testing.assert_array_equal(f(x).data, f(x[None]).data[0])
    np.testing.assert_array_equal(F.max_pool1d(x[0], 2, return_indices=True)[1].data,
                                  F.max_pool1d(x[:1], 2, return_indices=True)[1].data[0])


def test_pooling_keeps_float32():
    x = ag.tensor(RNG.standard_normal((1, 2, 6, 6)).astype(np.float32), requires_grad=True)
    for layer in (nn.MaxPool2d(2), nn.AvgPool2d(3, 2, 1, ceil_mode=True), nn.AdaptiveAvgPool2d(4)):
        out = layer(x)
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32
        x.grad = None


@pytest.mark.parametrize("call, match", [
    (lambda: nn.MaxPool2d(2)(ag.zeros((8, 8))),
     r"MaxPool2d: input of shape \(8, 8\) must be 4-D \(N, C, H, W\) or 3-D \(C, H, W\) \(unbatched\)"),
    (lambda: F.max_pool2d(ag.zeros((1, 1, 1, 8, 8)), 2), r"max_pool2d: input of shape \(1, 1, 1, 8, 8\) must be 4-D"),
    (lambda: nn.MaxPool1d(2)(ag.zeros(8)), r"MaxPool1d: input of shape \(8,\) must be 3-D \(N, C, L\) or 2-D \(C, L\)"),
    (lambda: F.avg_pool1d(ag.zeros((1, 1, 1, 8)), 2), r"avg_pool1d: input of shape \(1, 1, 1, 8\) must be 3-D"),
    (lambda: nn.AvgPool2d(2)(ag.zeros(8)), r"AvgPool2d: input of shape \(8,\) must be 4-D \(N, C, H, W\) or 3-D"),
    (lambda: nn.AdaptiveAvgPool1d(2)(ag.zeros(8)), r"AdaptiveAvgPool1d: input of shape \(8,\) must be 3-D"),
    (lambda: nn.AdaptiveAvgPool2d(2)(ag.zeros((4, 4))), r"AdaptiveAvgPool2d: input of shape \(4, 4\) must be 4-D"),
    (lambda: nn.MaxPool2d(3, padding=2)(ag.zeros((1, 1, 8, 8))), r"MaxPool2d: padding 2 should be at most half"),
    (lambda: nn.AvgPool2d(5)(ag.zeros((1, 1, 4, 8))), r"AvgPool2d: kernel_size \(5, 5\).*larger than the input"),
    (lambda: nn.MaxPool1d(2, stride=0)(ag.zeros((1, 1, 8))), r"MaxPool1d: stride must be positive, got 0"),
    (lambda: nn.AdaptiveAvgPool2d(0)(ag.zeros((1, 1, 4, 4))), r"AdaptiveAvgPool2d: output_size must be positive"),
])
def test_bad_pooling_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@settings(max_examples=10)
@given(data=st.data())
def test_pooling_gradients_first_and_second_order_on_drawn_configurations(data):
    kernel = tuple(data.draw(st.integers(1, 3), label="kernel") for _ in range(2))
    stride = tuple(data.draw(st.integers(1, 3), label="stride") for _ in range(2))
    padding = tuple(data.draw(st.integers(0, k // 2), label="padding") for k in kernel)
    ceil_mode = data.draw(st.booleans(), label="ceil_mode")
    sides = tuple(k + data.draw(st.integers(0, 2)) for k in kernel)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    x = ag.tensor(_distinct((1, 2) + sides, rng), requires_grad=True)
    check_gradients(lambda x: F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode), x)
    check_gradients(lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode), x)
