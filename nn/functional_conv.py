"""Convolution and pooling with PyTorch's signatures (re-exported by ``nn.functional``).

Arguments are checked and normalised here (int or tuple, padding 'valid' / 'same' / 'full', ceil mode);
the computation is ``autograd.ops.conv``: windows of the input as a zero-copy view, one matrix product
for a convolution, and the windows' adjoint for the input gradient. 1-D forms run the 2-D code on H = 1.
Unbatched input ((C, L) or (C, H, W)) is accepted wherever PyTorch accepts it and gives unbatched results.
"""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd.ops import conv as _cv
from autograd.tensor import Tensor

_PADDING_WORDS = ("valid", "same", "full")


def _as_tensor(x, fn: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    try:
        return ag.tensor(x)
    except TypeError:
        raise TypeError(f"{fn}: expected a Tensor or ndarray, got {type(x).__name__}") from None
    except ValueError as e:
        raise ValueError(f"{fn}: {str(e).partition(': ')[2] or e}") from None


def _ints(value, n: int, what: str, fn: str, low: int) -> tuple[int, ...]:
    """An int or a length-``n`` tuple of ints, each >= ``low``, as a tuple."""
    vals = (value,) * n if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    try:
        vals = tuple(vals)
    except TypeError:
        vals = None
    if vals is None or len(vals) != n or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in vals):
        raise TypeError(f"{fn}: {what} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < low for v in vals):
        kind = "positive" if low == 1 else "non-negative"
        raise ValueError(f"{fn}: {what} must be {kind}, got {value!r}")
    return tuple(int(v) for v in vals)


def conv_padding(padding, kernel, stride, dilation, fn: str) -> tuple[int, ...]:
    """Padding per side (before, after for each spatial axis) for an int, a tuple or 'valid'/'same'/'full'.

    'same' pads d(k-1) in total with the odd one at the end (PyTorch); 'full' pads d(k-1) on both sides.
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding not in _PADDING_WORDS:
            raise ValueError(f"{fn}: padding must be an int, a tuple or one of {_PADDING_WORDS}, got {padding!r}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if padding == "valid":
            return (0,) * (2 * n)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions (stride={stride})")
            return tuple(p for t in totals for p in (t // 2, t - t // 2))
        return tuple(p for t in totals for p in (t, t))
    return tuple(p for p in _ints(padding, n, "padding", fn, 0) for _ in range(2))


def _layouts(dims: int) -> tuple[str, str]:
    """The batched and unbatched layouts of a ``dims``-D convolution or pooling input."""
    return ("(N, C, L)", "(C, L)") if dims == 1 else ("(N, C, H, W)", "(C, H, W)")


def check_rank(shape, dims: int, fn: str) -> None:
    """A ValueError naming ``fn`` unless ``shape`` is batched (N, C, *spatial) or unbatched (C, *spatial)."""
    if len(shape) not in (dims + 1, dims + 2):
        batched, unbatched = _layouts(dims)
        raise ValueError(f"{fn}: input of shape {tuple(shape)} must be {dims + 2}-D {batched} or "
                         f"{dims + 1}-D {unbatched} (unbatched)")


def _batched(x: Tensor, dims: int, fn: str) -> tuple[Tensor, bool]:
    """x with its batch axis: an unbatched input ((C, L) or (C, H, W), as PyTorch accepts) gains one of size 1."""
    check_rank(x.shape, dims, fn)
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: expected a floating-point input, got dtype {x.dtype}")
    return (x.reshape((1,) + x.shape), True) if x.ndim == dims + 1 else (x, False)


def _unbatched(out, unbatched: bool):
    """``out`` without the batch axis ``_batched`` added (results of unbatched input are unbatched)."""
    return out.reshape(out.shape[1:]) if unbatched else out


def _conv(x, weight, bias, stride, padding, dilation, groups, dims: int, fn: str) -> Tensor:
    x, w = _as_tensor(x, fn), _as_tensor(weight, fn)
    x, unbatched = _batched(x, dims, fn)
    if w.ndim != dims + 2:
        raise ValueError(f"{fn}: weight of shape {w.shape} must be {dims + 2}-D "
                         f"(out_channels, in_channels/groups{', kL' if dims == 1 else ', kH, kW'})")
    if w.dtype != x.dtype:
        raise TypeError(f"{fn}: input dtype {x.dtype} does not match weight dtype {w.dtype}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    if x.shape[1] != w.shape[1] * groups:
        raise ValueError(f"{fn}: input of shape {x.shape} has {x.shape[1]} channels, but weight of shape {w.shape} "
                         f"with groups={groups} expects {w.shape[1] * groups}")
    if w.shape[0] % groups:
        raise ValueError(f"{fn}: out_channels={w.shape[0]} (weight of shape {w.shape}) is not divisible by "
                         f"groups={groups}")
    kernel = tuple(w.shape[2:])
    stride = _ints(stride, dims, "stride", fn, 1)
    dilation = _ints(dilation, dims, "dilation", fn, 1)
    pads = conv_padding(padding, kernel, stride, dilation, fn)
    for axis, (k, d) in enumerate(zip(kernel, dilation)):
        size = x.shape[2 + axis] + pads[2 * axis] + pads[2 * axis + 1]
        if d * (k - 1) + 1 > size:
            raise ValueError(f"{fn}: kernel of size {kernel} (dilation {dilation}, effective "
                             f"{tuple(dd * (kk - 1) + 1 for kk, dd in zip(kernel, dilation))}) is larger than the "
                             f"padded input of shape {x.shape} with padding {padding!r}")
    if bias is not None:
        bias = _as_tensor(bias, fn)
        if bias.shape != (w.shape[0],):
            raise ValueError(f"{fn}: bias of shape {bias.shape} must be ({w.shape[0]},) for weight of shape {w.shape}")
        if bias.dtype != x.dtype:
            raise TypeError(f"{fn}: bias dtype {bias.dtype} does not match input dtype {x.dtype}")
    if dims == 1:
        n, c, length = x.shape
        out = _cv.conv2d(x.reshape(n, c, 1, length), w.reshape(w.shape[:2] + (1,) + kernel), bias,
                         stride=(1,) + stride, padding=(0, 0) + pads, dilation=(1,) + dilation, groups=groups, fn=fn)
        return _unbatched(out.reshape(out.shape[0], out.shape[1], out.shape[3]), unbatched)
    return _unbatched(_cv.conv2d(x, w, bias, stride=stride, padding=pads, dilation=dilation, groups=groups, fn=fn),
                      unbatched)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of (N, C, L) or unbatched (C, L) with weight (O, C/groups, kL), as
    ``torch.nn.functional.conv1d``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of (N, C, H, W) or unbatched (C, H, W) with weight (O, C/groups, kH, kW), as
    ``torch.nn.functional.conv2d``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


# ----------------------------------------------------------------------------- pooling


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooled length; in ceil mode the last window must start inside the input or its left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode, dims, fn):
    """Normalised (kernel, stride, padding per side, dilation, ceil overhang per axis) for a pooling call."""
    kernel = _ints(kernel_size, dims, "kernel_size", fn, 1)
    empty = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)  # PyTorch: the kernel size
    stride = kernel if empty else _ints(stride, dims, "stride", fn, 1)
    pads = _ints(padding, dims, "padding", fn, 0)
    dilation = _ints(dilation, dims, "dilation", fn, 1)
    if any(2 * p > k for p, k in zip(pads, kernel)):
        raise ValueError(f"{fn}: padding {padding!r} should be at most half of kernel_size {kernel_size!r}")
    overhang = []
    for axis in range(dims):
        size = x.shape[2 + axis]
        eff = dilation[axis] * (kernel[axis] - 1) + 1
        if eff > size + 2 * pads[axis]:
            raise ValueError(f"{fn}: kernel_size {kernel} (dilation {dilation}) is larger than the input of shape "
                             f"{x.shape} padded by {pads}")
        out = pool_output_size(size, kernel[axis], stride[axis], pads[axis], dilation[axis], ceil_mode)
        overhang.append(max(0, (out - 1) * stride[axis] + eff - size - 2 * pads[axis]))
    return kernel, stride, pads, dilation, tuple(overhang)


def _lift(x, dims):
    """A 1-D pooling input (N, C, L) as (N, C, 1, L)."""
    return x.reshape(x.shape[0], x.shape[1], 1, x.shape[2]) if dims == 1 else x


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims, fn):
    x, unbatched = _batched(_as_tensor(x, fn), dims, fn)
    kernel, stride, pads, dilation, over = _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode, dims, fn)
    if dims == 1:
        kernel, stride, pads, dilation, over = (1,) + kernel, (1,) + stride, (0,) + pads, (1,) + dilation, (0,) + over
    sides = (pads[0], pads[0] + over[0], pads[1], pads[1] + over[1])
    x4 = _lift(x, dims)
    out = _cv.max_pool2d(x4, kernel, stride, sides, dilation, fn=fn)
    if dims == 1:
        out = out.reshape(out.shape[0], out.shape[1], out.shape[3])
    if not return_indices:
        return _unbatched(out, unbatched)
    indices = ag.Tensor(_max_indices(x4.data, kernel, stride, sides, dilation).reshape(out.shape))
    return _unbatched(out, unbatched), _unbatched(indices, unbatched)


def _max_indices(x, kernel, stride, sides, dilation):
    """PyTorch's indices of each window's (first) maximum: h * W + w within its channel plane."""
    top, bottom, left, right = sides
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=-np.inf)
    win = _cv._windows_np(xp, kernel, stride, dilation)
    k = win.reshape(win.shape[:4] + (-1,)).argmax(axis=-1)
    ho, wo = win.shape[2:4]
    h = (np.arange(ho) * stride[0])[:, None] + (k // kernel[1]) * dilation[0] - top
    w = (np.arange(wo) * stride[1])[None, :] + (k % kernel[1]) * dilation[1] - left
    return (h * x.shape[3] + w).astype(np.int64)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over windows of (N, C, L) or unbatched (C, L), as ``torch.nn.functional.max_pool1d`` (indices into L)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over windows of (N, C, H, W) or unbatched (C, H, W), as ``torch.nn.functional.max_pool2d`` (indices
    h * W + w per plane)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, dims, fn):
    x, unbatched = _batched(_as_tensor(x, fn), dims, fn)
    if divisor_override is not None and (isinstance(divisor_override, bool) or
                                         not isinstance(divisor_override, (int, np.integer)) or divisor_override < 1):
        raise ValueError(f"{fn}: divisor_override must be a positive int, got {divisor_override!r}")
    kernel, stride, pads, _, over = _pool_args(x, kernel_size, stride, padding, 1, ceil_mode, dims, fn)
    if dims == 1:
        kernel, stride, pads, over = (1,) + kernel, (1,) + stride, (0,) + pads, (0,) + over
    out = _cv.avg_pool2d(_lift(x, dims), kernel, stride, (pads[0], pads[0], pads[1], pads[1]), over,
                         count_include_pad, divisor_override, fn=fn)
    return _unbatched(out.reshape(out.shape[0], out.shape[1], out.shape[3]) if dims == 1 else out, unbatched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows of (N, C, L) or unbatched (C, L), as ``torch.nn.functional.avg_pool1d``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over windows of (N, C, H, W) or unbatched (C, H, W), as ``torch.nn.functional.avg_pool2d``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                     "avg_pool2d")


def _averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) rows averaging PyTorch's adaptive bins [floor(i·size/out), ceil((i+1)·size/out))."""
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        lo, hi = (i * size) // out, math.ceil((i + 1) * size / out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _adaptive(x, output_size, dims, fn):
    x, unbatched = _batched(_as_tensor(x, fn), dims, fn)
    if output_size is None or isinstance(output_size, (str, bytes)):
        sizes = ()
    elif isinstance(output_size, (int, np.integer)):
        sizes = (output_size,) * dims
    else:
        try:
            sizes = tuple(output_size)
        except TypeError:
            sizes = ()
    if len(sizes) != dims or (dims == 1 and sizes[0] is None):
        raise TypeError(f"{fn}: output_size must be an int or a tuple of {dims}, got {output_size!r}")
    sizes = tuple(x.shape[2 + a] if s is None else s for a, s in enumerate(sizes))
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ValueError(f"{fn}: output_size must be positive, got {output_size!r}")
    if all(s == 1 for s in sizes):
        return _unbatched(ag.mean(x, axis=tuple(range(2, 2 + dims)), keepdims=True), unbatched)
    out = x
    if dims == 2:  # rows: A_h (oh, H) @ x
        out = ag.matmul(_averaging_matrix(x.shape[2], sizes[0], x.dtype), out)
    return _unbatched(ag.matmul(out, _averaging_matrix(x.shape[-1], sizes[-1], x.dtype).T), unbatched)  # x @ A_wᵀ


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Mean over PyTorch's adaptive bins of (N, C, L) or (C, L) giving length ``output_size``."""
    return _adaptive(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Mean over PyTorch's adaptive bins of (N, C, H, W) or (C, H, W) giving ``output_size`` (int, pair; None
    keeps a side)."""
    return _adaptive(input, output_size, 2, "adaptive_avg_pool2d")
