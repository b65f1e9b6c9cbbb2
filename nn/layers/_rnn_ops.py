"""Fused recurrent ops, forward and backward side by side: a whole LSTM or GRU layer (one direction) as one graph
node (``lstm_layer``, ``gru_layer``), and one LSTM or GRU step (``lstm_cell``, ``gru_cell``, used by the cells).

The input projection ``gx = x Wᵢₕᵀ + b`` is computed outside, for all time steps at once; the ops do the
recurrent product ``h Wₕₕᵀ``, the gates and the state update. A layer's backward is one NumPy BPTT loop over
the gate values its forward kept. Under ``create_graph=True`` the backward recomputes them from the inputs with
graph ops instead, so the same formulas are recorded and give second derivatives. A plain tanh/relu/sigmoid
RNN step needs no fused op (three graph ops: matmul, add, activation).
"""
from __future__ import annotations

import numpy as np

import autograd as ag
from autograd.op import INPUT, Op
from autograd.ops.base import as_tensor_arg
from autograd.ops.elementwise import stable_sigmoid
from autograd.tensor import Tensor


def _zeros_like(ref, g):
    """A zero gradient shaped like ``ref``, as an array or (under create_graph) a constant Tensor."""
    return ag.zeros_like(ref) if isinstance(ref, Tensor) else np.zeros_like(g if g is not None else ref)


def _array(g):
    """A gradient handed in as a Tensor outside create_graph (a user's ``gradient=``), as its array."""
    return g._data if isinstance(g, Tensor) else g


class LSTMCellOp(Op):
    """One LSTM step: a = gx + h Wᵀ (gates i, f, g, o), c' = σ(f)⊙c + σ(i)⊙tanh(g), h' = σ(o)⊙tanh(c')."""

    name = "lstm_cell"
    rule = ("∂c'/∂c = f;  ∂h'/∂c' = o(1 − tanh²c');  ∂/∂a_i = i(1 − i)·g,  ∂/∂a_f = f(1 − f)·c,  "
            "∂/∂a_g = (1 − g²)·i,  ∂/∂a_o = o(1 − o)·tanh c';  ∂a/∂h = W,  ∂a/∂W = h")

    def forward(self, gx, h, c, w):
        a = h @ w.T
        a += gx
        n = h.shape[-1]
        a[:, :2 * n] = stable_sigmoid(a[:, :2 * n])
        a[:, 3 * n:] = stable_sigmoid(a[:, 3 * n:])
        np.tanh(a[:, 2 * n:3 * n], out=a[:, 2 * n:3 * n])
        i, f, g, o = a[:, :n], a[:, n:2 * n], a[:, 2 * n:3 * n], a[:, 3 * n:]
        c_new = f * c
        c_new += i * g
        tc = np.tanh(c_new)
        self.saved = (INPUT[0], INPUT[1], INPUT[2], INPUT[3], a, tc)
        return o * tc, c_new

    def backward(self, gh, gc):
        gx, h, c, w, acts, tc = self.saved
        if isinstance(h, Tensor):
            return self._recorded(gx, h, c, w, gh, gc)
        gh, gc = _array(gh), _array(gc)
        n = h.shape[-1]
        i, f, g, o = acts[:, :n], acts[:, n:2 * n], acts[:, 2 * n:3 * n], acts[:, 3 * n:]
        dc = np.zeros_like(c) if gc is None else gc.copy()
        da = np.empty_like(acts)
        if gh is not None:
            dc += gh * o * (1 - tc * tc)
            da[:, 3 * n:] = gh * tc * o * (1 - o)
        else:
            da[:, 3 * n:] = 0
        da[:, :n] = dc * g * i * (1 - i)
        da[:, n:2 * n] = dc * c * f * (1 - f)
        da[:, 2 * n:3 * n] = dc * i * (1 - g * g)
        return (da if self.needs_grad(0) else None,
                da @ w if self.needs_grad(1) else None,
                dc * f if self.needs_grad(2) else None,
                da.T @ h if self.needs_grad(3) else None)

    @staticmethod
    def _recorded(gx, h, c, w, gh, gc):
        """The same backward in graph ops (gates recomputed from the inputs), for higher derivatives."""
        n = h.shape[-1]
        a = gx + h @ w.T
        i, f, o = ag.sigmoid(a[:, :n]), ag.sigmoid(a[:, n:2 * n]), ag.sigmoid(a[:, 3 * n:])
        g = ag.tanh(a[:, 2 * n:3 * n])
        tc = ag.tanh(f * c + i * g)
        gh = _zeros_like(h, None) if gh is None else gh
        dc = gh * o * (1 - tc * tc) + (0 if gc is None else gc)
        da = ag.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                             gh * tc * o * (1 - o)], axis=1)
        return da, da @ w, dc * f, da.T @ h


class GRUCellOp(Op):
    """One GRU step (PyTorch's form): r, z = σ(gx_rz + (h Wᵀ + b)_rz), n = tanh(gx_n + r⊙(h Wₙᵀ + bₙ)),
    h' = (1 − z)⊙n + z⊙h. ``b`` (the hidden-hidden bias) may be None."""

    name = "gru_cell"
    rule = ("∂h'/∂h = z + (…)W;  ∂h'/∂z = h − n;  ∂h'/∂n = 1 − z;  ∂n/∂u = 1 − n²;  ∂u/∂r = W_hn h + b_hn;  "
            "∂σ(v)/∂v = σ(1 − σ)")

    def forward(self, gx, h, w, b=None):
        n = h.shape[-1]
        hh = h @ w.T
        if b is not None:
            hh += b
        rz = stable_sigmoid(gx[:, :2 * n] + hh[:, :2 * n])
        r, z = rz[:, :n], rz[:, n:]
        hn = hh[:, 2 * n:]
        cand = np.tanh(gx[:, 2 * n:] + r * hn)
        self.saved = (INPUT[0], INPUT[1], INPUT[2], INPUT[3], rz, cand, hn)
        return cand + z * (h - cand)

    def backward(self, gh):
        gx, h, w, b, rz, cand, hn = self.saved
        if isinstance(h, Tensor):
            return self._recorded(gx, h, w, b, gh)
        gh = _array(gh)
        n = h.shape[-1]
        r, z = rz[:, :n], rz[:, n:]
        dan = gh * (1 - z) * (1 - cand * cand)
        dgx = np.empty(gx.shape, np.result_type(gx, gh))
        dgx[:, :n] = dan * hn * r * (1 - r)
        dgx[:, n:2 * n] = gh * (h - cand) * z * (1 - z)
        dgx[:, 2 * n:] = dan
        dhh = dgx.copy()
        dhh[:, 2 * n:] *= r
        return (dgx if self.needs_grad(0) else None,
                gh * z + dhh @ w if self.needs_grad(1) else None,
                dhh.T @ h if self.needs_grad(2) else None,
                dhh.sum(axis=0) if b is not None and self.needs_grad(3) else None)

    @staticmethod
    def _recorded(gx, h, w, b, gh):
        """The same backward in graph ops (gates recomputed from the inputs), for higher derivatives."""
        n = h.shape[-1]
        hh = h @ w.T
        if b is not None:
            hh = hh + b
        r, z = ag.sigmoid(gx[:, :n] + hh[:, :n]), ag.sigmoid(gx[:, n:2 * n] + hh[:, n:2 * n])
        hn = hh[:, 2 * n:]
        cand = ag.tanh(gx[:, 2 * n:] + r * hn)
        dan = gh * (1 - z) * (1 - cand * cand)
        dar, daz = dan * hn * r * (1 - r), gh * (h - cand) * z * (1 - z)
        dgx = ag.concatenate([dar, daz, dan], axis=1)
        dhh = ag.concatenate([dar, daz, dan * r], axis=1)
        return dgx, gh * z + dhh @ w, dhh.T @ h, None if b is None else dhh.sum(axis=0)


def _gate_affine(n, dtype):
    """Per-column scale and shift so that tanh(scale·a)·scale + shift is σ on gates i, f, o and tanh on g."""
    scale = np.full(4 * n, 0.5, dtype)
    scale[2 * n:3 * n] = 1
    shift = np.full(4 * n, 0.5, dtype)
    shift[2 * n:3 * n] = 0
    return scale, shift


class LSTMLayerOp(Op):
    """A whole LSTM layer in one direction: outputs (T, B, H), h_T, c_T from gx (T, B, 4H), h₀, c₀, Wₕₕ.

    Back-propagation through time is one NumPy loop over the saved gates, and ∂L/∂Wₕₕ = Σₜ daₜᵀ hₜ₋₁ one
    matrix product at the end. ``mask`` (T, B, 1) bool or None: where False, the state passes through unchanged
    and the output is zero (a sequence that ended, or in reverse has not yet started)."""

    name = "lstm_layer"
    recurrent_state = "h, c"  # drawings show the loop over time steps as an edge from this node to itself
    rule = ("per step as lstm_cell: ∂c_t/∂c_{t−1} = f_t (the additive path), ∂h_t/∂c_t = o_t(1 − tanh²c_t); "
            "∂L/∂W_hh = Σ_t ∂L/∂a_tᵀ h_{t−1}")

    def forward(self, gx, h, c, w, mask=None, reverse=False):
        T, n = gx.shape[0], h.shape[-1]
        acts = np.empty(gx.shape, np.result_type(gx, h, w))
        out = np.empty(gx.shape[:2] + (n,), acts.dtype)
        tcs, h_prev, c_prev = np.empty_like(out), np.empty_like(out), np.empty_like(out)
        wt = np.ascontiguousarray(w.T)  # BLAS is faster on a contiguous right operand
        scale, shift = _gate_affine(n, acts.dtype)
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            h_prev[t], c_prev[t] = h, c
            a = acts[t]
            np.matmul(h, wt, out=a)
            a += gx[t]
            a *= scale  # σ(x) = (1 + tanh(x/2))/2: one tanh for all four gates
            np.tanh(a, out=a)
            a *= scale
            a += shift
            c_new = a[:, n:2 * n] * c
            c_new += a[:, :n] * a[:, 2 * n:3 * n]
            np.tanh(c_new, out=tcs[t])
            h_new = a[:, 3 * n:] * tcs[t]
            if mask is None:
                out[t], h, c = h_new, h_new, c_new
            else:
                m = mask[t]
                out[t] = h_new * m
                h, c = np.where(m, h_new, h), np.where(m, c_new, c)
        self.saved = (INPUT[0], INPUT[1], INPUT[2], INPUT[3], mask, reverse, acts, tcs, h_prev, c_prev)
        return out, np.array(h, copy=True), np.array(c, copy=True)

    def backward(self, g_out, g_h, g_c):
        gx, h0, c0, w, mask, reverse, acts, tcs, h_prev, c_prev = self.saved
        if isinstance(w, Tensor):
            return _lstm_layer_recorded(gx, h0, c0, w, mask, reverse, g_out, g_h, g_c)
        g_out, g_h, g_c = _array(g_out), _array(g_h), _array(g_c)
        T, n = gx.shape[0], h0.shape[-1]
        dh = np.zeros(h0.shape, acts.dtype) if g_h is None else g_h
        dc = np.zeros(h0.shape, acts.dtype) if g_c is None else g_c
        da_all = np.empty_like(acts)
        for t in (range(T) if reverse else range(T - 1, -1, -1)):
            a, tc = acts[t], tcs[t]
            i, f, g, o = a[:, :n], a[:, n:2 * n], a[:, 2 * n:3 * n], a[:, 3 * n:]
            dhn = dh if g_out is None else dh + g_out[t]
            if mask is not None:
                m = mask[t]
                dh_pass, dc_pass = np.where(m, 0, dh), np.where(m, 0, dc)
                dhn, dc = dhn * m, dc * m
            dc = dc + dhn * o * (1 - tc * tc)
            da = da_all[t]
            da[:, :n] = dc * g * i * (1 - i)
            da[:, n:2 * n] = dc * c_prev[t] * f * (1 - f)
            da[:, 2 * n:3 * n] = dc * i * (1 - g * g)
            da[:, 3 * n:] = dhn * tc * o * (1 - o)
            dh = da @ w
            dc = dc * f
            if mask is not None:
                dh += dh_pass
                dc += dc_pass
        dw = None
        if self.needs_grad(3):
            dw = da_all.reshape(-1, 4 * n).T @ h_prev.reshape(-1, n)
        return (da_all if self.needs_grad(0) else None, dh if self.needs_grad(1) else None,
                dc if self.needs_grad(2) else None, dw, None)


def _lstm_layer_recorded(gx, h, c, w, mask, reverse, g_out, g_h, g_c):
    """LSTMLayerOp's backward in graph ops: the forward recomputed step by step, then the same BPTT loop."""
    T, n = gx.shape[0], h.shape[-1]
    order = range(T - 1, -1, -1) if reverse else range(T)
    steps = {}
    for t in order:
        a = gx[t] + h @ w.T
        i, f, o = ag.sigmoid(a[:, :n]), ag.sigmoid(a[:, n:2 * n]), ag.sigmoid(a[:, 3 * n:])
        g = ag.tanh(a[:, 2 * n:3 * n])
        c_new = f * c + i * g
        tc = ag.tanh(c_new)
        steps[t] = (h, c, i, f, g, o, tc)
        h_new = o * tc
        if mask is None:
            h, c = h_new, c_new
        else:
            h, c = ag.where(mask[t], h_new, h), ag.where(mask[t], c_new, c)
    dh = ag.zeros_like(h) if g_h is None else g_h
    dc = ag.zeros_like(c) if g_c is None else g_c
    das, dw = {}, 0
    for t in reversed(order):
        h_p, c_p, i, f, g, o, tc = steps[t]
        dhn = dh if g_out is None else dh + g_out[t]
        if mask is not None:
            m = mask[t].astype(gx.dtype)
            dh_pass, dc_pass = dh * (1 - m), dc * (1 - m)
            dhn, dc = dhn * m, dc * m
        dc = dc + dhn * o * (1 - tc * tc)
        da = ag.concatenate([dc * g * i * (1 - i), dc * c_p * f * (1 - f), dc * i * (1 - g * g),
                             dhn * tc * o * (1 - o)], axis=1)
        das[t] = da
        dw = dw + da.T @ h_p
        dh, dc = da @ w, dc * f
        if mask is not None:
            dh, dc = dh + dh_pass, dc + dc_pass
    return ag.stack([das[t] for t in range(T)], 0), dh, dc, dw, None


def _floats(fn, **tensors):
    """The tensors as Tensors of one floating dtype (None kept); a TypeError naming ``fn`` otherwise."""
    out = {k: None if t is None else as_tensor_arg(t, fn) for k, t in tensors.items()}
    dtypes = {k: t.dtype for k, t in out.items() if t is not None}
    if any(d.kind != "f" for d in dtypes.values()) or len(set(dtypes.values())) > 1:
        raise TypeError(f"{fn}: expected floating-point tensors of one dtype, got "
                        + ", ".join(f"{k} {d}" for k, d in dtypes.items()))
    return out.values()


def lstm_layer(gx, h0, c0, w_hh, mask=None, reverse=False):
    """(outputs (T, B, H), h_T, c_T) of one LSTM layer and direction over the projections ``gx``; one node."""
    gx, h0, c0, w_hh = _floats("lstm_layer", gx=gx, h0=h0, c0=c0, w_hh=w_hh)
    return LSTMLayerOp.apply(gx, h0, c0, w_hh, mask, reverse=reverse)


class GRULayerOp(Op):
    """A whole GRU layer in one direction: outputs (T, B, H) and h_T from gx = x Wᵢₕᵀ + bᵢₕ (T, B, 3H), h₀, Wₕₕ
    and bₕₕ (or None). BPTT is one NumPy loop; ∂L/∂Wₕₕ and ∂L/∂bₕₕ one product and one sum after it. ``mask`` as
    in ``LSTMLayerOp``."""

    name = "gru_layer"
    rule = "per step as gru_cell; ∂L/∂W_hh = Σ_t ∂L/∂(h_{t−1}W_hhᵀ)ᵀ h_{t−1}"
    recurrent_state = "h"  # drawings show the loop over time steps as an edge from this node to itself

    def forward(self, gx, h, w, b=None, mask=None, reverse=False):
        T, n = gx.shape[0], h.shape[-1]
        dt = np.result_type(gx, h, w)
        out = np.empty(gx.shape[:2] + (n,), dt)
        rz, cand, hn, h_prev = (np.empty(gx.shape[:2] + (2 * n,), dt), np.empty_like(out), np.empty_like(out),
                                np.empty_like(out))
        wt = np.ascontiguousarray(w.T)
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            h_prev[t] = h
            hh = h @ wt
            if b is not None:
                hh += b
            hn[t] = hh[:, 2 * n:]
            a = rz[t]
            np.add(gx[t, :, :2 * n], hh[:, :2 * n], out=a)
            a *= 0.5  # σ(x) = (1 + tanh(x/2))/2
            np.tanh(a, out=a)
            a *= 0.5
            a += 0.5
            k = cand[t]
            np.multiply(a[:, :n], hn[t], out=k)
            k += gx[t, :, 2 * n:]
            np.tanh(k, out=k)
            h_new = h - k
            h_new *= a[:, n:]
            h_new += k
            if mask is None:
                out[t], h = h_new, h_new
            else:
                out[t] = np.where(mask[t], h_new, 0)  # exactly 0 past a length, even where h_new overflowed
                h = np.where(mask[t], h_new, h)
        self.saved = (INPUT[0], INPUT[1], INPUT[2], INPUT[3], mask, reverse, rz, cand, hn, h_prev)
        return out, np.array(h, copy=True)

    def backward(self, g_out, g_h):
        gx, h0, w, b, mask, reverse, rz, cand, hn, h_prev = self.saved
        if isinstance(w, Tensor):
            return _gru_layer_recorded(gx, h0, w, b, mask, reverse, g_out, g_h)
        g_out, g_h = _array(g_out), _array(g_h)
        T, n = gx.shape[0], h0.shape[-1]
        dh = np.zeros(h0.shape, rz.dtype) if g_h is None else g_h
        dgx = np.empty(gx.shape, rz.dtype)
        dhh = np.empty_like(dgx)
        for t in (range(T) if reverse else range(T - 1, -1, -1)):
            r, z, k = rz[t, :, :n], rz[t, :, n:], cand[t]
            dhn = dh if g_out is None else dh + g_out[t]
            if mask is not None:
                dh_pass = np.where(mask[t], 0, dh)
                dhn = dhn * mask[t]
            dan = dhn * (1 - z) * (1 - k * k)
            d = dgx[t]
            d[:, :n] = dan * hn[t] * r * (1 - r)
            d[:, n:2 * n] = dhn * (h_prev[t] - k) * z * (1 - z)
            d[:, 2 * n:] = dan
            e = dhh[t]
            e[:, :2 * n] = d[:, :2 * n]
            np.multiply(dan, r, out=e[:, 2 * n:])
            dh = dhn * z + e @ w
            if mask is not None:
                dh += dh_pass
        flat = dhh.reshape(-1, 3 * n)
        dw = flat.T @ h_prev.reshape(-1, n) if self.needs_grad(2) else None
        db = flat.sum(axis=0) if b is not None and self.needs_grad(3) else None
        return dgx if self.needs_grad(0) else None, dh if self.needs_grad(1) else None, dw, db, None


def _gru_layer_recorded(gx, h, w, b, mask, reverse, g_out, g_h):
    """GRULayerOp's backward in graph ops: the forward recomputed step by step, then the same BPTT loop."""
    T, n = gx.shape[0], h.shape[-1]
    order = range(T - 1, -1, -1) if reverse else range(T)
    steps = {}
    for t in order:
        hh = h @ w.T
        if b is not None:
            hh = hh + b
        r, z = ag.sigmoid(gx[t][:, :n] + hh[:, :n]), ag.sigmoid(gx[t][:, n:2 * n] + hh[:, n:2 * n])
        hn = hh[:, 2 * n:]
        k = ag.tanh(gx[t][:, 2 * n:] + r * hn)
        steps[t] = (h, r, z, k, hn)
        h_new = k + z * (h - k)
        h = h_new if mask is None else ag.where(mask[t], h_new, h)
    dh = ag.zeros_like(h) if g_h is None else g_h
    dgxs, dw, db = {}, 0, 0
    for t in reversed(order):
        h_p, r, z, k, hn = steps[t]
        dhn = dh if g_out is None else dh + g_out[t]
        if mask is not None:
            m = mask[t].astype(gx.dtype)
            dh_pass, dhn = dh * (1 - m), dhn * m
        dan = dhn * (1 - z) * (1 - k * k)
        dar, daz = dan * hn * r * (1 - r), dhn * (h_p - k) * z * (1 - z)
        dgxs[t] = ag.concatenate([dar, daz, dan], axis=1)
        e = ag.concatenate([dar, daz, dan * r], axis=1)
        dw = dw + e.T @ h_p
        db = db + e.sum(axis=0)
        dh = dhn * z + e @ w
        if mask is not None:
            dh = dh + dh_pass
    return ag.stack([dgxs[t] for t in range(T)], 0), dh, dw, None if b is None else db, None


def gru_layer(gx, h0, w_hh, b_hh=None, mask=None, reverse=False):
    """(outputs (T, B, H), h_T) of one GRU layer and direction over the projections ``gx``; one graph node."""
    gx, h0, w_hh, b_hh = _floats("gru_layer", gx=gx, h0=h0, w_hh=w_hh, b_hh=b_hh)
    return GRULayerOp.apply(gx, h0, w_hh, b_hh, mask, reverse=reverse)


def lstm_cell_step(gx, h, c, w_hh):
    """(h', c') of one LSTM step from the input projection ``gx`` (B, 4H) and the state; one graph node."""
    gx, h, c, w_hh = _floats("lstm_cell_step", gx=gx, h=h, c=c, w_hh=w_hh)
    return LSTMCellOp.apply(gx, h, c, w_hh)


def gru_cell_step(gx, h, w_hh, b_hh=None):
    """h' of one GRU step from the input projection ``gx`` = x Wᵢₕᵀ + bᵢₕ (B, 3H) and h; one graph node."""
    gx, h, w_hh, b_hh = _floats("gru_cell_step", gx=gx, h=h, w_hh=w_hh, b_hh=b_hh)
    return GRUCellOp.apply(gx, h, w_hh, b_hh)


def rnn_cell_step(gx, h, w_hh_t, activation):
    """h' = f(gx + h Wₕₕᵀ) of one plain RNN step (``w_hh_t`` is Wₕₕᵀ); three graph ops."""
    return activation(gx + h @ w_hh_t)


# ----------------------------------------------------------------------------- registry entries
# Flat inputs of one fixed length (shape kind "same"), cut into (batch 2, hidden 2) step arguments.

def _np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _lstm_args(a, b):
    """gx (2, 4) from ``a``; h, c (2, 1) and Wₕₕ (4, 1) from ``b``: batch 2, hidden 1."""
    a, b = a.reshape(-1), b.reshape(-1)
    return a.reshape(2, 4), b[:2].reshape(2, 1), b[2:4].reshape(2, 1), b[4:].reshape(4, 1)


def _lstm_reference(a, b):
    gx, h, c, w = _lstm_args(a, b)
    z = gx + h @ w.T
    i, f, g, o = _np_sigmoid(z[:, :1]), _np_sigmoid(z[:, 1:2]), np.tanh(z[:, 2:3]), _np_sigmoid(z[:, 3:])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


def _gru_args(a, b, bias=True):
    """gx (2, 3) from ``a``; h (2, 1), Wₕₕ (3, 1) and bₕₕ (3,) from ``b``: batch 2, hidden 1."""
    a, b = a.reshape(-1), b.reshape(-1)
    return a[:6].reshape(2, 3), b[:2].reshape(2, 1), b[2:5].reshape(3, 1), b[5:8] if bias else None


def _gru_reference(a, b, bias=True):
    gx, h, w, bh = _gru_args(a, b, bias)
    hh = h @ w.T + (0 if bh is None else bh)
    r, z = _np_sigmoid(gx[:, :1] + hh[:, :1]), _np_sigmoid(gx[:, 1:2] + hh[:, 1:2])
    n = np.tanh(gx[:, 2:] + r * hh[:, 2:])
    return (1 - z) * n + z * h


def _layer_args(a):
    """gx (2, B, 4), h₀ and c₀ (B, 1), Wₕₕ (4, 1) cut from one flat ``a``: two steps, hidden 1,
    batch B = 2 for 24 elements, 1 for 14."""
    a = a.reshape(-1)
    b = 2 if a.shape[0] == 24 else 1
    k = 8 * b
    return a[:k].reshape(2, b, 4), a[k:k + b].reshape(b, 1), a[k + b:k + 2 * b].reshape(b, 1), \
        a[k + 2 * b:k + 2 * b + 4].reshape(4, 1)


LAYER_MASK = np.arange(2)[:, None, None] < np.array([2, 1])[None, :, None]  # lengths 2 and 1


def _layer_reference(a, mask=None, reverse=False):
    gx, h, c, w = _layer_args(a)
    out = np.zeros(gx.shape[:2] + (1,))
    for t in (range(1, -1, -1) if reverse else range(2)):
        z = gx[t] + h @ w.T
        c_new = _np_sigmoid(z[:, 1:2]) * c + _np_sigmoid(z[:, :1]) * np.tanh(z[:, 2:3])
        h_new = _np_sigmoid(z[:, 3:]) * np.tanh(c_new)
        m = np.ones(h.shape, bool) if mask is None else mask[t]
        out[t] = np.where(m, h_new, 0)
        h, c = np.where(m, h_new, h), np.where(m, c_new, c)
    return out, h, c


def _gru_layer_args(a):
    """gx (2, B, 3), h₀ (B, 1), Wₕₕ (3, 1), bₕₕ (3,) cut from one flat ``a``: two steps, hidden 1, batch B = 2 for
    22 elements, 1 for 13."""
    a = a.reshape(-1)
    b = 2 if a.shape[0] == 22 else 1
    k = 6 * b
    return a[:k].reshape(2, b, 3), a[k:k + b].reshape(b, 1), a[k + b:k + b + 3].reshape(3, 1), a[k + b + 3:k + b + 6]


def _gru_layer_reference(a, mask=None, reverse=False):
    gx, h, w, bias = _gru_layer_args(a)
    out = np.zeros(gx.shape[:2] + (1,))
    for t in (range(1, -1, -1) if reverse else range(2)):
        hh = h @ w.T + bias
        r, z = _np_sigmoid(gx[t][:, :1] + hh[:, :1]), _np_sigmoid(gx[t][:, 1:2] + hh[:, 1:2])
        h_new = (1 - z) * np.tanh(gx[t][:, 2:] + r * hh[:, 2:]) + z * h
        m = np.ones(h.shape, bool) if mask is None else mask[t]
        out[t] = np.where(m, h_new, 0)
        h = np.where(m, h_new, h)
    return out, h


def _register():
    from autograd.registry import REAL, OpEntry, register

    flat = {"min_ndim": 1, "max_ndim": 1}
    register(OpEntry("lstm_cell_step", "batch 2, hidden 1", lambda *t: lstm_cell_step(*_lstm_args(*t)), (REAL,) * 2,
                     "same", (LSTMCellOp,), shape_opts={**flat, "min_side": 8, "max_side": 8},
                     reference=_lstm_reference))
    for variant, bias in (("batch 2, hidden 1", True), ("no bias", False)):
        register(OpEntry("gru_cell_step", variant, lambda *t, bias=bias: gru_cell_step(*_gru_args(*t, bias)),
                         (REAL,) * 2, "same", (GRUCellOp,), shape_opts={**flat, "min_side": 8, "max_side": 8},
                         reference=lambda *t, bias=bias: _gru_reference(*t, bias)))
    for variant, kw, size in (("forward", {}, 13), ("lengths 2, 1, reverse", {"mask": LAYER_MASK, "reverse": True},
                                                        22)):
        register(OpEntry("gru_layer", variant, lambda a, kw=kw: gru_layer(*_gru_layer_args(a), **kw), (REAL,),
                         "same", (GRULayerOp,), shape_opts={**flat, "min_side": size, "max_side": size},
                         reference=lambda a, kw=kw: _gru_layer_reference(a, **kw)))
    masked = {"mask": LAYER_MASK, "reverse": True}
    for variant, kw, size in (("forward", {}, 14), ("lengths 2, 1, reverse", masked, 24)):
        register(OpEntry("lstm_layer", variant, lambda a, kw=kw: lstm_layer(*_layer_args(a), **kw), (REAL,),
                         "same", (LSTMLayerOp,), shape_opts={**flat, "min_side": size, "max_side": size},
                         reference=lambda a, kw=kw: _layer_reference(a, **kw)))

_register()
