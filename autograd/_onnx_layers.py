"""ONNX exporters of the layer ops: masked softmax, convolution and pooling windows, and the fused recurrent ops
(``lstm_layer``/``gru_layer`` and their one-step cells as ONNX ``LSTM``/``GRU`` nodes). Registered into
``autograd.onnx.EXPORTERS`` on import."""
from __future__ import annotations

import numpy as np

from .onnx import exporter


@exporter("masked_softmax")
def _masked_softmax(ctx):
    """softmax over the last axis of where(keep, a, -inf), with m = 0 for a row that is all -inf and the sum 1
    there, so a fully masked row is zeros (as graphgrad computes it)."""
    dt = ctx.out_dtype
    a = ctx.input(0)
    keep = ctx.params.get("keep")
    if keep is not None:
        keep = np.asarray(keep)
        for ax, (n, stride) in enumerate(zip(keep.shape, keep.strides)):  # an axis broadcast in: length 1
            if stride == 0 and n > 1:
                keep = keep[(slice(None),) * ax + (slice(0, 1),)]
        a = ctx.add("Where", [ctx.const(keep, np.bool_, hint="keep"), a, ctx.const(-np.inf, dt)])
    m = ctx.reduce("ReduceMax", a, [-1], True)
    m = ctx.add("Where", [ctx.add("IsInf", [m]), ctx.const(0, dt), m])
    e = ctx.add("Exp", [ctx.add("Sub", [a, m])])
    total = ctx.reduce("ReduceSum", e, [-1], True)
    total = ctx.add("Where", [ctx.add("Greater", [total, ctx.const(0, dt)]), total, ctx.const(1, dt)])
    ctx.add("Div", [e, total], ctx.outputs)


@exporter("conv2d")
def _conv2d(ctx):
    """ONNX Conv: graphgrad's padding (top, bottom, left, right) is ONNX's pads (top, left, bottom, right)."""
    p = ctx.params
    top, bottom, left, right = (int(v) for v in p.get("padding", (0, 0, 0, 0)))
    ins = [ctx.input(0), ctx.input(1, ctx.out_dtype)]
    if len(ctx.node.inputs) > 2 and ctx.value(2) is not None:
        ins.append(ctx.input(2, ctx.out_dtype))
    ctx.add("Conv", ins, ctx.outputs, kernel_shape=list(ctx.shape(1)[2:]),
            strides=[int(s) for s in p.get("stride", (1, 1))], pads=[top, left, bottom, right],
            dilations=[int(d) for d in p.get("dilation", (1, 1))], group=int(p.get("groups", 1)))


@exporter("window_max")
def _window_max(ctx):
    """ONNX MaxPool over the (already padded) input."""
    p = ctx.params
    ctx.add("MaxPool", [ctx.input(0)], ctx.outputs, kernel_shape=[int(k) for k in p["kernel"]],
            strides=[int(s) for s in p["stride"]], dilations=[int(d) for d in p["dilation"]])


def _counts(shape, kernel, stride, dilation):
    return [(shape[2 + a] - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1 for a in (0, 1)]


@exporter("sliding_windows")
def _sliding_windows(ctx):
    """(N, C, Ho, Wo, kH, kW): one strided Slice per kernel offset, stacked on a last axis and reshaped."""
    kernel, stride, dilation = (tuple(int(v) for v in ctx.params[k]) for k in ("kernel", "stride", "dilation"))
    ho, wo = _counts(ctx.shape(0), kernel, stride, dilation)
    x, pieces = ctx.input(0), []
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            starts = [i * dilation[0], j * dilation[1]]
            ends = [starts[0] + (ho - 1) * stride[0] + 1, starts[1] + (wo - 1) * stride[1] + 1]
            s = ctx.add("Slice", [x, ctx.ints(starts), ctx.ints(ends), ctx.ints([2, 3]), ctx.ints(stride)])
            pieces.append(ctx.add("Unsqueeze", [s, ctx.ints([-1])]))
    stacked = ctx.add("Concat", pieces, axis=-1) if len(pieces) > 1 else pieces[0]
    ctx.add("Reshape", [stacked, ctx.ints([0, 0, 0, 0, kernel[0], kernel[1]])], ctx.outputs)


@exporter("fold_windows")
def _fold_windows(ctx):
    """The adjoint of sliding_windows: each kernel offset's (N, C, Ho, Wo) values spread to every stride-th
    position (zeros between, by Pad and Reshape), shifted to the offset (Pad, negative pads crop), then summed."""
    stride, dilation = (tuple(int(v) for v in ctx.params[k]) for k in ("stride", "dilation"))
    n, c, h, w = (int(s) for s in ctx.params["shape"])
    _, _, ho, wo, kh, kw = ctx.shape(0)
    g, pieces = ctx.input(0), []
    for i in range(kh):
        for j in range(kw):
            s = ctx.add("Slice", [g, ctx.ints([i, j]), ctx.ints([i + 1, j + 1]), ctx.ints([4, 5])])
            s = ctx.add("Reshape", [s, ctx.ints([0, 0, ho, 1, wo, 1])])
            s = ctx.add("Pad", [s, ctx.ints([0] * 9 + [stride[0] - 1, 0, stride[1] - 1])])
            s = ctx.add("Reshape", [s, ctx.ints([0, 0, ho * stride[0], wo * stride[1]])])
            top, left = i * dilation[0], j * dilation[1]
            pads = [0, 0, top, left, 0, 0, h - top - ho * stride[0], w - left - wo * stride[1]]
            pieces.append(ctx.add("Pad", [s, ctx.ints(pads)]))
    ctx.add("Sum", pieces, ctx.outputs)


# ----------------------------------------------------------------------------- recurrent layers

_LSTM_ORDER = [0, 3, 1, 2]  # PyTorch's gate blocks i, f, g, o in ONNX's order i, o, f, c
_GRU_ORDER = [1, 0, 2]  # PyTorch's r, z, n in ONNX's order z, r, h


def _rows(order, n):
    return np.concatenate([np.arange(k * n, (k + 1) * n) for k in order])


def _lengths(ctx, i, batch):
    """sequence_lens (int32, B) from a (T, B, 1) mask that keeps a prefix of each sequence; "" without one."""
    if len(ctx.node.inputs) <= i or ctx.value(i) is None:
        return ""
    mask = np.asarray(ctx.value(i)).reshape(np.shape(ctx.value(i))[0], batch)
    lens = mask.sum(axis=0)
    if not np.array_equal(mask, np.arange(mask.shape[0])[:, None] < lens[None, :]):
        ctx.fail("its mask is not a prefix of each sequence (lengths), which ONNX sequence_lens cannot express")
    return ctx.const(lens, np.int32, hint="lens")


def _recurrent(ctx, op_type, order, gx, h0, c0, w, b, lens, reverse, outputs):
    """One ONNX LSTM/GRU node on the projections gx (T, B, G·H): W is the gate permutation (so X Wᵀ is gx in
    ONNX's gate order), R the recurrent weight with its rows permuted, B only GRU's recurrent bias."""
    dt = ctx.out_dtype
    n = ctx.shape(3 if op_type == "LSTM" else 2)[-1]
    rows = _rows(order, n)
    W = ctx.const(np.eye(len(rows), dtype=dt)[rows][None], dt, hint="W")
    R = ctx.add("Unsqueeze", [ctx.add("Gather", [w, ctx.const(rows, np.int64, hint="rows")], axis=0),
                              ctx.ints([0])])
    bias = ""
    if b is not None:
        rb = ctx.add("Gather", [b, ctx.const(rows, np.int64, hint="rows")], axis=0)
        bias = ctx.add("Unsqueeze", [ctx.add("Concat", [ctx.const(np.zeros(len(rows)), dt), rb], axis=0),
                                     ctx.ints([0])])
    ins = [gx, W, R, bias, lens, ctx.add("Unsqueeze", [h0, ctx.ints([0])])]
    if c0 is not None:
        ins.append(ctx.add("Unsqueeze", [c0, ctx.ints([0])]))
    attrs = {"hidden_size": int(n), "direction": "reverse" if reverse else "forward"}
    if op_type == "GRU":
        attrs["linear_before_reset"] = 1  # PyTorch: n = tanh(gx_n + r ⊙ (h W_hnᵀ + b_hn))
    outs = ctx.add(op_type, ins, 3 if op_type == "LSTM" else 2, **attrs)
    y, states = outs[0], outs[1:]
    for name, value, axis in zip(outputs, [y] + states, [1] + [0] * len(states)):
        if name is not None:
            ctx.add("Squeeze", [value, ctx.ints([axis])], [name])


@exporter("lstm_layer")
def _lstm_layer(ctx):
    batch = ctx.shape(0)[1]
    lens = _lengths(ctx, 4, batch)
    _recurrent(ctx, "LSTM", _LSTM_ORDER, ctx.input(0), ctx.input(1), ctx.input(2), ctx.input(3), None, lens,
               bool(ctx.params.get("reverse")), ctx.outputs)


@exporter("gru_layer")
def _gru_layer(ctx):
    batch = ctx.shape(0)[1]
    b = ctx.input(3) if ctx.value(3) is not None else None
    _recurrent(ctx, "GRU", _GRU_ORDER, ctx.input(0), ctx.input(1), None, ctx.input(2), b, _lengths(ctx, 4, batch),
               bool(ctx.params.get("reverse")), ctx.outputs)


@exporter("lstm_cell")
def _lstm_cell(ctx):
    """One step: an LSTM node over a sequence of length 1; (h', c') are its Y_h and Y_c."""
    gx = ctx.add("Unsqueeze", [ctx.input(0), ctx.ints([0])])
    _recurrent(ctx, "LSTM", _LSTM_ORDER, gx, ctx.input(1), ctx.input(2), ctx.input(3), None, "", False,
               [None] + list(ctx.outputs))


@exporter("gru_cell")
def _gru_cell(ctx):
    gx = ctx.add("Unsqueeze", [ctx.input(0), ctx.ints([0])])
    b = ctx.input(3) if len(ctx.node.inputs) > 3 and ctx.value(3) is not None else None
    _recurrent(ctx, "GRU", _GRU_ORDER, gx, ctx.input(1), None, ctx.input(2), b, "", False,
               [None] + list(ctx.outputs))

