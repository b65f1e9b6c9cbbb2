"""Convolution and pooling on sliding windows.

``sliding_windows(x, kernel, stride, dilation)`` views an (N, C, H, W) array as (N, C, Ho, Wo, kH, kW)
windows without copying; its adjoint ``fold_windows`` adds window gradients back into (N, C, H, W),
one strided slice per kernel offset. Each is the other's backward, so every order of derivative is
recorded through the same two ops. ``conv2d`` is one op (the windows as im2col columns times the
weights in one matrix product); its recorded backward is written with that pair and matmul, so it is
differentiable again. ``window_max`` is max pooling (the first maximum of a window wins, as in
PyTorch); average pooling is a sum over the windows.

The plain (NumPy) backward and the forwards have faster paths that compute the same values: a stride-1
input gradient folded by flat shifts of one product, BLAS operands with cache-friendly row strides, window
rows copied as byte blocks, and max pooling's rows and float32 2x2 gradients handled over whole arrays. Each
says what it measured; bench/README.md ("cnn_train_step, round 2") has the figures.
"""
from __future__ import annotations

import sys

import numpy as np

from ..tensor import Tensor
from .base import INPUT, Op, TensorLike, as_tensor_arg, dual
from .reduce import sum as _sum
from .shape import pad


def _pair(v, what: str, fn: str) -> tuple[int, int]:
    """An int or a pair of ints as a pair of positive ints."""
    if isinstance(v, (int, np.integer)):
        pair = (v, v)
    elif isinstance(v, (tuple, list)):
        pair = tuple(v)
    else:
        raise TypeError(f"{fn}: {what} must be a positive int or a pair of positive ints, got {v!r}")
    if len(pair) != 2 or any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1 for p in pair):
        raise ValueError(f"{fn}: {what} must be a positive int or a pair of positive ints, got {v!r}")
    return int(pair[0]), int(pair[1])


def window_count(size: int, kernel: int, stride: int, dilation: int) -> int:
    """How many windows of ``kernel`` (dilated) fit along an axis of ``size`` at ``stride``."""
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _offset_slice(i, k_out, stride, dilation):
    """The input positions kernel offset ``i`` reads for ``k_out`` windows."""
    start = i * dilation
    return slice(start, start + stride * (k_out - 1) + 1, stride)


def _windows_np(x, kernel=(1, 1), stride=(1, 1), dilation=(1, 1)):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = window_count(h, kh, sh, dh), window_count(w, kw, sw, dw)
    s = x.strides
    return np.lib.stride_tricks.as_strided(x, (n, c, ho, wo, kh, kw),
                                           (s[0], s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw), writeable=False)


def _fold_np(g, shape=(), stride=(1, 1), dilation=(1, 1)):
    if g.strides[1] > g.strides[0]:  # channel-major windows (a convolution's gradient): add in that order
        out = np.zeros((shape[1], shape[0]) + tuple(shape[2:]), dtype=g.dtype).transpose(1, 0, 2, 3)
    else:
        out = np.zeros(shape, dtype=g.dtype)
    _, _, ho, wo, kh, kw = g.shape
    for i in range(kh):
        rows = _offset_slice(i, ho, stride[0], dilation[0])
        for j in range(kw):
            out[:, :, rows, _offset_slice(j, wo, stride[1], dilation[1])] += g[:, :, :, :, i, j]
    return out


class Windows(Op):
    """x (N, C, H, W) as windows (N, C, Ho, Wo, kH, kW), a zero-copy strided view; the backward folds
    the windows' gradient back (``fold_windows``)."""

    name = "sliding_windows"
    rule = "∂windows(x)[n,c,p,q,i,j]/∂x[n,c,sp+di,sq+dj] = 1"

    def forward(self, x, kernel=(1, 1), stride=(1, 1), dilation=(1, 1)):
        self.saved = (x.shape, stride, dilation)
        return _windows_np(x, kernel, stride, dilation)

    def backward(self, g):
        shape, stride, dilation = self.saved
        return _fold(g, shape=shape, stride=stride, dilation=dilation)


class Fold(Op):
    """The adjoint of ``Windows``: every window's values added back at the positions it covers; the
    backward takes the windows of the gradient."""

    name = "fold_windows"
    rule = "∂fold(g)[n,c,h,w]/∂g[n,c,p,q,i,j] = 1 where h = sp+di, w = sq+dj"

    def forward(self, g, shape=(), stride=(1, 1), dilation=(1, 1)):
        self.saved = (g.shape[4:], stride, dilation)
        return _fold_np(g, shape=shape, stride=stride, dilation=dilation)

    def backward(self, gg):
        kernel, stride, dilation = self.saved
        return _windows(gg, kernel=kernel, stride=stride, dilation=dilation)


_windows = dual(_windows_np, Windows, "sliding_windows")
_fold = dual(_fold_np, Fold, "fold_windows")


def _first_max(x, axis, k, count, stride, dilation):
    """Max over ``k`` dilated offsets along ``axis`` (``count`` windows), and which offset held it (first wins)."""
    lead = (slice(None),) * axis
    first = x[lead + (_offset_slice(0, count, stride, dilation),)]
    if k == 1:
        return first.copy(), np.zeros(first.shape, np.int8)
    v = x[lead + (_offset_slice(1, count, stride, dilation),)]
    arg = (v > first).view(np.int8)  # strict: the first maximum keeps the gradient, as in PyTorch
    if k > 127:  # offsets beyond int8
        arg = arg.astype(np.int32)
    out = np.maximum(first, v)
    for j in range(2, k):
        v = x[lead + (_offset_slice(j, count, stride, dilation),)]
        arg = arg + (v > out) * (j - arg)  # arithmetic: np.where or copyto(where=) is several times slower
        np.maximum(out, v, out=out)
    return out, arg


def _route(g, arg, like, axis, k, stride, dilation):
    """The backward of ``_first_max``: ``g`` put along ``axis`` at the offset ``arg`` names, in an array
    shaped (and laid out) like ``like``. Windows that do not overlap are written straight into place."""
    lead = (slice(None),) * axis
    count, size = g.shape[axis], like.shape[axis]
    disjoint = stride >= dilation * (k - 1) + 1
    covered = disjoint and dilation == 1 and stride == k and count * k == size
    into = np.empty_like(like, dtype=g.dtype) if covered else np.zeros_like(like, dtype=g.dtype)
    for j in range(k):
        where = into[lead + (_offset_slice(j, count, stride, dilation),)]
        if k == 1:
            where[...] = g
        elif disjoint:
            np.multiply(g, arg == j, out=where)
        else:
            where += g * (arg == j)
    return into


def _plane_major(a):
    """A contiguous (N, C, H, W) array's elements as a 1-D view with each (H, W) plane innermost, row after row,
    and the axis order that lays it out that way; None when the memory is not laid out so."""
    order = sorted((0, 1), key=lambda i: -a.strides[i]) + [2, 3]
    t = a.transpose(order)
    return (t.reshape(-1), order) if t.flags.c_contiguous else None


def _row_max(rows, k, count, stride, dilation):
    """``_first_max`` over axis 2 of (N, C, H, Wo) by shifted views of the whole flat array (contiguous and
    vectorised; every row's maximum is taken where the windows need every ``stride``-th), the windows' rows then
    read off in ``rows``' layout. Plain ``_first_max`` where that does not apply or would do more work."""
    flat = _plane_major(rows) if 2 <= k <= 127 and stride <= 2 else None
    if flat is None:
        return _first_max(rows, 2, k, count, stride, dilation)
    flat, order = flat
    shift, n = dilation * rows.shape[3], flat.size - (k - 1) * dilation * rows.shape[3]
    out, arg = np.empty(flat.size, rows.dtype), np.empty(flat.size, np.int8)
    o, a = out[:n], arg[:n]
    np.greater(flat[shift:shift + n], flat[:n], out=a.view(np.bool_))  # strict: the first maximum wins
    np.maximum(flat[:n], flat[shift:shift + n], out=o)
    for j in range(2, k):
        v = flat[j * shift:j * shift + n]
        a += (v > o) * (j - a)
        np.maximum(o, v, out=o)
    windows = (slice(None), slice(None), _offset_slice(0, count, stride, 1))
    inverse = tuple(order.index(i) for i in range(4))
    out, arg = (b.reshape(tuple(rows.shape[i] for i in order)).transpose(inverse)[windows] for b in (out, arg))
    return out, arg.copy(order="K")  # the maxima as a view; the offsets compact for the backward's masks


def _route_pairs(g, arg, like):
    """``_route`` over the last axis for 2-wide windows tiling it, on float32 (little-endian): each value's bits
    go into the half of a 64-bit pair that ``arg`` (0 or 1) names, by one shift; the other half is exactly 0.
    None when the layout does not allow it (``like``'s last axis not contiguous)."""
    into = np.empty_like(like, dtype=g.dtype)
    if into.strides[-1] != into.itemsize:
        return None
    np.left_shift(g.view(np.uint32), arg.view(np.uint8) * np.uint8(32), out=into.view(np.uint64), dtype=np.uint64)
    return into


def _laid_out_like(g, a):
    """g in a's memory layout, copied when the layouts differ (NumPy loops over mixed layouts in short runs)."""
    out = np.empty_like(a, dtype=g.dtype)
    if out.strides == g.strides:
        return g
    np.copyto(out, g)
    return out


class WindowMax(Op):
    """Max pooling of x (N, C, H, W) over its windows, separably (over each row's columns, then over rows);
    the gradient goes to each window's first maximum in row-major order."""

    name = "window_max"
    rule = "∂max_window(x)/∂x = 1 at the window's first maximum, 0 elsewhere"

    def forward(self, x, kernel=(1, 1), stride=(1, 1), dilation=(1, 1)):
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        ho, wo = window_count(x.shape[2], kh, sh, dh), window_count(x.shape[3], kw, sw, dw)
        rows, arg_w = _first_max(x, 3, kw, wo, sw, dw)  # (N, C, H, Wo): each row's window maxima
        out, arg_h = _row_max(rows, kh, ho, sh, dh)  # (N, C, Ho, Wo)
        self.saved = (INPUT[0], kernel, stride, dilation, arg_h, arg_w)
        return out

    def backward(self, g):
        x, (kh, kw), stride, dilation, arg_h, arg_w = self.saved
        if isinstance(g, Tensor):  # recorded: a constant one-hot mask times g, folded (linear in g)
            ho = arg_h.shape[2]
            row = (np.arange(ho) * stride[0])[:, None] + arg_h.astype(np.int64) * dilation[0]
            k = arg_h.astype(np.int64) * kw + np.take_along_axis(arg_w, row, axis=2)
            hot = (k[..., None] == np.arange(kh * kw)).reshape(k.shape + (kh, kw))
            return _fold(g.reshape(g.shape + (1, 1)) * hot.astype(g.dtype), shape=x.shape, stride=stride,
                         dilation=dilation)
        rows = _route(_laid_out_like(g, arg_h), arg_h, arg_w, 2, kh, stride[0], dilation[0])
        if (kw, stride[1], dilation[1]) == (2, 2, 1) and 2 * arg_w.shape[3] == x.shape[3] and \
                rows.dtype == np.float32 and sys.byteorder == "little":
            into = _route_pairs(rows, arg_w, x)
            if into is not None:
                return into
        return _route(rows, arg_w, x, 3, kw, stride[1], dilation[1])


def _columns(x, kernel, stride, dilation, groups):
    """im2col: the windows of x as columns (C·kH·kW, N·Ho·Wo), or (groups, C/groups·kH·kW, N·Ho·Wo)."""
    win = _windows(x, kernel=kernel, stride=stride, dilation=dilation)  # a view (N, C, Ho, Wo, kH, kW)
    n, c, ho, wo, kh, kw = win.shape
    rows = c // groups * kh * kw
    return win.transpose((1, 4, 5, 0, 2, 3)).reshape((groups, rows, n * ho * wo) if groups > 1 else
                                                      (rows, n * ho * wo))


def _by_group(a, groups, rows):
    """(O, ...) as (O, rows) or, with groups, (groups, O/groups, rows)."""
    return a.reshape((groups, a.shape[0] // groups, rows) if groups > 1 else (a.shape[0], rows))


def _copy_rows(dst, src):
    """dst[...] = src, each last-axis row moved as one opaque block of bytes when the rows are contiguous in both
    (NumPy's loop over short rows of floats costs about 1.7 times as much: 0.34 against 0.20 ms for the second
    convolution's columns)."""
    if src.dtype == dst.dtype and src.shape == dst.shape and src.ndim and src.shape[-1] > 1 and \
            src.strides[-1] == src.itemsize and dst.strides[-1] == dst.itemsize:
        row = np.dtype((np.void, src.shape[-1] * src.itemsize))
        try:
            np.copyto(dst.view(row), src.view(row))
            return
        except ValueError:  # a layout .view() cannot re-type
            pass
    dst[...] = src


def _zero_padded(x, padding):
    """x (N, C, H, W) inside zeros, ``padding`` = (top, bottom, left, right); x itself when there is none."""
    if not any(padding):
        return x
    if isinstance(x, Tensor):
        return pad(x, ((0, 0), (0, 0), padding[:2], padding[2:]))
    top, bottom, left, right = padding
    out = np.zeros(x.shape[:2] + (x.shape[2] + top + bottom, x.shape[3] + left + right), x.dtype)
    _copy_rows(out[:, :, top:top + x.shape[2], left:left + x.shape[3]], x)
    return out


def _input_grad(w, gm, padded_shape, out_nhw, stride, dilation):
    """fold(Wᵀ G) without the (C·kH·kW, N·Ho·Wo) columns: one (C, O) @ (O, N·Ho·Wo) product per kernel
    offset, added into a channel-major padded buffer (one product's worth of temporary memory)."""
    (n, ho, wo), c = out_nhw, w.shape[1]
    out = np.zeros((c, n) + tuple(padded_shape[2:]), np.result_type(w, gm))
    part = np.empty((c, gm.shape[1]), out.dtype)
    for i in range(w.shape[2]):
        rows = _offset_slice(i, ho, stride[0], dilation[0])
        for j in range(w.shape[3]):
            np.matmul(w[:, :, i, j].T, gm, out=part)
            out[:, :, rows, _offset_slice(j, wo, stride[1], dilation[1])] += part.reshape(c, n, ho, wo)
    return out.transpose(1, 0, 2, 3)


def _row_length(n, itemsize):
    """A row length >= n spanning an odd number of 64-byte lines: BLAS operands whose rows lie a multiple
    of 128 bytes apart collide in the cache (a (144, 32) @ (32, 7168) float32 product takes 25 % longer)."""
    per_line = max(1, 64 // itemsize)
    lines = -(-n // per_line)
    return (lines + 1 - lines % 2) * per_line


def _matrix(lead, n, dtype, zero=False):
    """An uninitialised (or zero) (*lead, n) array whose rows are ``_row_length`` apart (a view of a wider one)."""
    dtype = np.dtype(dtype)
    make = np.zeros if zero else np.empty
    return make(tuple(lead) + (_row_length(n, dtype.itemsize),), dtype)[..., :n]


def _split(a, shape):
    """A view of ``a`` with ``shape`` (never a copy: raises if the strides do not allow it)."""
    view = a.view()
    view.shape = shape
    return view


def _columns_np(xp, kernel, stride, dilation, groups):
    """``_columns`` of an array, copied once into a matrix with cache-friendly rows (see ``_row_length``)."""
    win = _windows_np(xp, kernel, stride, dilation)
    n, c, ho, wo, kh, kw = win.shape
    cols = _matrix((c * kh * kw,), n * ho * wo, xp.dtype)
    _copy_rows(_split(cols, (c, kh, kw, n, ho, wo)), win.transpose((1, 4, 5, 0, 2, 3)))
    return _split(cols, (groups, c // groups * kh * kw, n * ho * wo)) if groups > 1 else cols


def _weight_grad(cols, gm):
    """G Xᵀ as (X Gᵀ)ᵀ (faster with the long axis inside both operands), summed over blocks of about 512 KB of
    columns when the operands are thin: OpenBLAS packs a long thin operand poorly (the first convolution's
    (9, 25088) @ (25088, 16) takes 0.30 ms whole and 0.12 ms in blocks)."""
    rows, length = cols.shape[-2] + gm.shape[-2], cols.shape[-1]
    block = 512 * 1024 // (rows * cols.itemsize) // 256 * 256
    if block < 2048 or block >= length:
        return (cols @ gm.swapaxes(-1, -2)).swapaxes(-1, -2)
    total = cols[..., :block] @ gm[..., :block].swapaxes(-1, -2)
    for start in range(block, length, block):
        total += cols[..., start:start + block] @ gm[..., start:start + block].swapaxes(-1, -2)
    return total.swapaxes(-1, -2)


def _input_grad_shifted(w, g, padded_shape, dilation, groups):
    """fold(Wᵀ G) for stride 1 by flat shifts. G (O, N, Ho, Wo) is laid out row by row, each image's row h side by
    side ((Ho, N, Wp), zeros past Wo), so kernel offset (i, j)'s block of Wᵀ G is added at one shift,
    i·dh·N·Wp + j·dw, of the padded input laid out (C, Hp, N, Wp): nine long 2-D adds. Each offset's block is made
    in turn into one buffer (a ninth of the whole product's memory: the CNN step's peak 16.3 -> 12.8 MiB). The
    result is copied back to the channel-major (C, N, Hp, Wp) order. Needs a finite weight (the zeros then add
    exact zeros)."""
    o, n, ho, wo = g.shape
    c, hp, wp = padded_shape[1:]
    kh, kw = w.shape[2:]
    dtype = np.result_type(w, g)
    row = n * wp  # one row of every image
    length = ho * row
    rows = _matrix((o,), length, dtype, zero=True)
    _copy_rows(_split(rows, (o, ho, n, wp))[..., :wo], g.transpose(0, 2, 1, 3).astype(dtype, copy=False))
    wt = _by_group(w, groups, w.shape[1] * kh * kw).swapaxes(-1, -2)  # (C·kH·kW, O), per group
    wt = wt.reshape(wt.shape[:-2] + (-1, kh, kw, wt.shape[-1]))  # (C, kH, kW, O), per group
    g_rows = _by_group(rows, groups, length)
    spill = (kw - 1) * dilation[1]  # the last column offset's shift past the end
    out = np.zeros((c, hp * row + spill), dtype)
    product = _matrix(wt.shape[:-4] + (wt.shape[-4],), length, dtype)
    for i in range(kh):
        for j in range(kw):
            np.matmul(np.ascontiguousarray(wt[..., i, j, :]), g_rows, out=product)  # (C, O) @ (O, L), per group
            start = i * dilation[0] * row + j * dilation[1]
            out[:, start:start + length] += product.reshape(c, length)  # the groups' rows are the channels' in order
    planes = np.empty((c, n, hp, wp), dtype)
    _copy_rows(planes, _split(out[:, :hp * row], (c, hp, n, wp)).transpose(0, 2, 1, 3))
    return planes.transpose(1, 0, 2, 3)


def _unpad(gx, x_shape, padding):
    """The (N, C, H, W) part of a padded input's gradient."""
    if not any(padding):
        return gx
    return gx[:, :, padding[0]:padding[0] + x_shape[2], padding[2]:padding[2] + x_shape[3]]


class Conv2dOp(Op):
    """Cross-correlation of x (N, C, H, W), zero-padded, with weight (O, C/groups, kH, kW), plus an optional bias.

    With columns X = im2col(pad(x)) and W as (O, C·kH·kW): y = W X + b. The backward is dW = G Xᵀ,
    dx = unpad(fold(Wᵀ G)), db = Σ G; recorded (second order), X is rebuilt from the sliding-windows op.
    """

    name = "conv2d"
    rule = "y = W·im2col(x) + b;  ∂/∂W = G·im2col(x)ᵀ,  ∂/∂x = fold(Wᵀ·G),  ∂/∂b = Σ G"

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        xp = _zero_padded(x, padding)
        n = x.shape[0]
        o, kernel = w.shape[0], w.shape[2:]
        cols = _columns_np(xp, kernel, stride, dilation, groups)
        ho, wo = window_count(xp.shape[2], kernel[0], stride[0], dilation[0]), \
            window_count(xp.shape[3], kernel[1], stride[1], dilation[1])
        wm = _by_group(w, groups, cols.shape[-2])
        out = np.matmul(wm, cols, out=_matrix(wm.shape[:-1], cols.shape[-1], np.result_type(w, cols)))
        if b is not None:  # on the matrix: as a 4-D broadcast over its padded rows it is several times slower
            out += b.reshape(wm.shape[:-1] + (1,))
        out = out.reshape(o, n, ho, wo)
        # The columns are a cache for the plain backward (held in a tuple: unused when the backward is recorded).
        self.saved = (INPUT[0], INPUT[1], (cols,), xp.shape, stride, padding, dilation, groups)
        return out.transpose(1, 0, 2, 3)

    def backward(self, g):
        x, w, (cols,), padded_shape, stride, padding, dilation, groups = self.saved
        if isinstance(g, Tensor):
            return self._backward_recorded(g)
        n, ho, wo = g.shape[0], g.shape[2], g.shape[3]
        gm = _by_group(g.transpose((1, 0, 2, 3)), groups, n * ho * wo)  # free when g is channel-major
        gx = gw = gb = None
        if self.needs_grad(1):
            gw = np.ascontiguousarray(_weight_grad(cols, gm)).reshape(w.shape)
        if self.needs_grad(0):
            gx = self._padded_input_grad(w, g, padded_shape, stride, dilation, groups)
            gx = _unpad(gx, x.shape, padding)
        if self.needs_grad(2):  # a matrix-vector product: three times faster than NumPy's sum over the rows
            gb = (gm @ np.ones(gm.shape[-1], gm.dtype)).reshape(-1)
        return gx, gw, gb

    @staticmethod
    def _padded_input_grad(w, g, padded_shape, stride, dilation, groups):
        """The padded input's gradient, by the fastest fold the configuration allows."""
        n, o, ho, wo = g.shape
        g4 = g.transpose((1, 0, 2, 3))
        if stride == (1, 1) and padded_shape[3] <= 2 * wo and np.isfinite(w).all():  # padding columns at most double
            return _input_grad_shifted(w, g4, padded_shape, dilation, groups)
        if groups == 1:
            return _input_grad(w, g4.reshape(o, n * ho * wo), padded_shape, (n, ho, wo), stride, dilation)
        kernel = w.shape[2:]
        gm = _by_group(g4, groups, n * ho * wo)
        dcols = _by_group(w, groups, w.shape[1] * kernel[0] * kernel[1]).swapaxes(-1, -2) @ gm
        dwin = dcols.reshape((padded_shape[1],) + tuple(kernel) + (n, ho, wo)).transpose((3, 0, 4, 5, 1, 2))
        return _fold_np(dwin, shape=padded_shape, stride=stride, dilation=dilation)

    def _backward_recorded(self, g):
        """The backward as recorded ops (windows, fold, matmul), so it is differentiable again."""
        x, w, _, padded_shape, stride, padding, dilation, groups = self.saved
        kernel = w.shape[2:]
        n, ho, wo = g.shape[0], g.shape[2], g.shape[3]
        gm = _by_group(g.transpose((1, 0, 2, 3)), groups, n * ho * wo)
        gx = gw = gb = None
        if self.needs_grad(1):
            cols = _columns(_zero_padded(x, padding), kernel, stride, dilation, groups)
            gw = (gm @ cols.swapaxes(-1, -2)).reshape(w.shape)
        if self.needs_grad(0):
            dcols = _by_group(w, groups, w.shape[1] * kernel[0] * kernel[1]).swapaxes(-1, -2) @ gm
            dwin = dcols.reshape((x.shape[1],) + tuple(kernel) + (n, ho, wo)).transpose((3, 0, 4, 5, 1, 2))
            gx = _unpad(_fold(dwin, shape=padded_shape, stride=stride, dilation=dilation), x.shape, padding)
        if self.needs_grad(2):
            gb = g.sum(axis=(0, 2, 3))
        return gx, gw, gb


# ----------------------------------------------------------------------------- public functions


def _check_4d(x, fn):
    if x.ndim != 4:
        raise ValueError(f"{fn}: input of shape {x.shape} must be 4-D (N, C, H, W)")


def _check_fits(shape, kernel, stride, dilation, fn, what="input"):
    for axis, k, s, d in zip((2, 3), kernel, stride, dilation):
        if window_count(shape[axis], k, s, d) < 1:
            raise ValueError(f"{fn}: kernel {kernel} with dilation {dilation} (effective size "
                             f"{d * (k - 1) + 1}) is larger than the {what} of shape {shape}")


def sliding_windows(x: TensorLike, kernel_size, stride=1, dilation=1) -> Tensor:
    """Windows of an (N, C, H, W) tensor as a zero-copy (N, C, Ho, Wo, kH, kW) view; differentiable."""
    x = as_tensor_arg(x, "sliding_windows")
    _check_4d(x, "sliding_windows")
    kernel, stride, dilation = (_pair(v, w, "sliding_windows") for v, w in
                                ((kernel_size, "kernel_size"), (stride, "stride"), (dilation, "dilation")))
    _check_fits(x.shape, kernel, stride, dilation, "sliding_windows")
    return Windows.apply(x, kernel=kernel, stride=stride, dilation=dilation)


def fold_windows(g: TensorLike, input_shape, stride=1, dilation=1) -> Tensor:
    """The adjoint of ``sliding_windows``: (N, C, Ho, Wo, kH, kW) window values summed into ``input_shape``."""
    g = as_tensor_arg(g, "fold_windows")
    stride, dilation = _pair(stride, "stride", "fold_windows"), _pair(dilation, "dilation", "fold_windows")
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else ()
    if len(shape) != 4 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise TypeError(f"fold_windows: input_shape must be 4 non-negative ints (N, C, H, W), got {input_shape!r}")
    shape = tuple(int(s) for s in shape)
    if g.ndim != 6 or len(shape) != 4 or g.shape[:2] != shape[:2] or g.shape[2:4] != tuple(
            window_count(shape[2 + a], g.shape[4 + a], stride[a], dilation[a]) for a in (0, 1)):
        raise ValueError(f"fold_windows: windows of shape {g.shape} do not come from an input of shape {shape} "
                         f"with stride {stride} and dilation {dilation}")
    return Fold.apply(g, shape=shape, stride=stride, dilation=dilation)


def window_max(x: TensorLike, kernel_size, stride=None, dilation=1) -> Tensor:
    """The maximum of each window of an (N, C, H, W) tensor (stride defaults to the kernel size)."""
    x = as_tensor_arg(x, "window_max")
    _check_4d(x, "window_max")
    kernel = _pair(kernel_size, "kernel_size", "window_max")
    stride = kernel if stride is None else _pair(stride, "stride", "window_max")
    dilation = _pair(dilation, "dilation", "window_max")
    _check_fits(x.shape, kernel, stride, dilation, "window_max")
    return WindowMax.apply(x, kernel=kernel, stride=stride, dilation=dilation)


# ----------------------------------------------------------------------------- convolution and pooling


def _padded(x, padding, value, fn):
    """x with (top, bottom, left, right) constant padding on its last two axes (x itself when all are 0)."""
    top, bottom, left, right = padding
    if any(p < 0 for p in padding):
        raise ValueError(f"{fn}: padding must be non-negative, got {padding}")
    if not any(padding):
        return x
    try:
        return pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)
    except MemoryError:
        raise ValueError(f"{fn}: padding {padding} of an input of shape {x.shape} needs more memory than "
                         "there is") from None


def _sides(padding, fn: str) -> tuple[int, int, int, int]:
    """Padding as (top, bottom, left, right) from an int, a pair (rows, columns) or four ints, all >= 0."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        sides = (padding,) * 4
    else:
        sides = tuple(padding) if isinstance(padding, (tuple, list)) else ()
        sides = (sides[0], sides[0], sides[1], sides[1]) if len(sides) == 2 else sides
    if len(sides) != 4 or any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0 for p in sides):
        raise ValueError(f"{fn}: padding must be a non-negative int, a pair or (top, bottom, left, right), "
                         f"got {padding!r}")
    return tuple(int(p) for p in sides)


def _pool_params(kernel_size, stride, padding, dilation, fn):
    kernel = _pair(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None else _pair(stride, "stride", fn)
    return kernel, stride, _sides(padding, fn), _pair(dilation, "dilation", fn)


def conv2d(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1, fn: str = "conv2d") -> Tensor:
    """Cross-correlation of x (N, C, H, W) with weight (O, C/groups, kH, kW), PyTorch's layout and sizes.

    ``padding``: an int, a pair, or (top, bottom, left, right) zeros (``nn.functional.conv2d`` adds
    'valid' / 'same' / 'full'). The windows of the padded input, laid out as columns, meet the weight in
    one (batched over groups) matrix product.
    """
    x, w = as_tensor_arg(x, fn), as_tensor_arg(weight, fn)
    _check_4d(x, fn)
    if w.ndim != 4:
        raise ValueError(f"{fn}: weight of shape {w.shape} must be 4-D (out_channels, in_channels/groups, kH, kW)")
    stride, dilation = _pair(stride, "stride", fn), _pair(dilation, "dilation", fn)
    padding = _sides(padding, fn)
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1 or c % groups or \
            o % groups or cg * groups != c:
        raise ValueError(f"{fn}: input of shape {x.shape} (C={c}) does not match weight of shape {w.shape} with "
                         f"groups={groups!r} (need C = weight.shape[1] * groups and out_channels divisible by groups)")
    b = None
    if bias is not None:
        b = as_tensor_arg(bias, fn)
        if b.shape != (o,):
            raise ValueError(f"{fn}: bias of shape {b.shape} must be ({o},) for weight of shape {w.shape}")
    padded = (n, c, x.shape[2] + padding[0] + padding[1], x.shape[3] + padding[2] + padding[3])
    _check_fits(padded, (kh, kw), stride, dilation, fn, "padded input")
    try:
        return Conv2dOp.apply(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=int(groups))
    except MemoryError:
        raise ValueError(f"{fn}: input of shape {x.shape} padded by {padding} needs more memory than there is") \
            from None


def max_pool2d(x: TensorLike, kernel_size, stride=None, padding=0, dilation=1, fn: str = "max_pool2d") -> Tensor:
    """Max over the windows of x (N, C, H, W) padded with -inf (an int, a pair or (top, bottom, left, right));
    stride defaults to the kernel size."""
    x = as_tensor_arg(x, fn)
    _check_4d(x, fn)
    kernel, stride, padding, dilation = _pool_params(kernel_size, stride, padding, dilation, fn)
    low = -np.inf if x.dtype.kind == "f" else False if x.dtype.kind == "b" else np.iinfo(x.dtype).min
    xp = _padded(x, padding, low, fn)  # padding never wins the max
    _check_fits(xp.shape, kernel, stride, dilation, fn, "padded input")
    return WindowMax.apply(xp, kernel=kernel, stride=stride, dilation=dilation)


def avg_pool2d(x: TensorLike, kernel_size, stride=None, padding=0, overhang=(0, 0), count_include_pad: bool = True,
               divisor_override: int | None = None, fn: str = "avg_pool2d") -> Tensor:
    """Mean over the windows of x (N, C, H, W) zero-padded as in ``max_pool2d``, plus ``overhang`` rows and
    columns at the bottom and right (ceil mode) that never count in the divisor."""
    x = as_tensor_arg(x, fn)
    _check_4d(x, fn)
    kernel, stride, (top, bottom, left, right), dilation = _pool_params(kernel_size, stride, padding, 1, fn)
    if not isinstance(overhang, (tuple, list)) or len(overhang) != 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0 for v in overhang):
        raise TypeError(f"{fn}: overhang must be a pair of non-negative ints, got {overhang!r}")
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(
            divisor_override, (int, np.integer)) or divisor_override < 1):
        raise ValueError(f"{fn}: divisor_override must be a positive int or None, got {divisor_override!r}")
    xp = _padded(x, (top, bottom + overhang[0], left, right + overhang[1]), 0, fn)
    _check_fits(xp.shape, kernel, stride, dilation, fn, "padded input")
    sums = _sum(Windows.apply(xp, kernel=kernel, stride=stride, dilation=dilation), axis=(4, 5))
    if divisor_override is not None:
        return sums / float(divisor_override)
    counted = np.pad(np.ones(x.shape[2:], x.dtype), ((top, bottom), (left, right)),
                     constant_values=1 if count_include_pad else 0)
    counted = np.pad(counted, ((0, overhang[0]), (0, overhang[1])))
    divisor = _windows_np(counted[None, None], kernel, stride, dilation).sum(axis=(4, 5))[0, 0]
    return sums / divisor
