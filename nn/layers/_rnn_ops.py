"""Fused recurrent steps: one graph node per LSTM or GRU time step, forward and backward side by side.

The step's input projection ``gx = x Wᵢₕᵀ + b`` is computed outside (for all time steps at once); the op
does the recurrent product ``h Wₕₕᵀ``, the gates and the state update. The backward uses the gate values
kept by the forward; under ``create_graph=True`` it recomputes them from the inputs with graph ops, so the
same formulas are recorded and give second derivatives. A plain tanh/relu/sigmoid RNN step needs no fused
op (three graph ops: matmul, add, activation).
"""
from __future__ import annotations

import numpy as np

import autograd as ag
from autograd.op import INPUT, Op
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


def lstm_cell_step(gx, h, c, w_hh):
    """(h', c') of one LSTM step from the input projection ``gx`` (B, 4H) and the state; one graph node."""
    return LSTMCellOp.apply(gx, h, c, w_hh)


def gru_cell_step(gx, h, w_hh, b_hh=None):
    """h' of one GRU step from the input projection ``gx`` = x Wᵢₕᵀ + bᵢₕ (B, 3H) and h; one graph node."""
    return GRUCellOp.apply(gx, h, w_hh, b_hh)


def rnn_cell_step(gx, h, w_hh_t, activation):
    """h' = f(gx + h Wₕₕᵀ) of one plain RNN step (``w_hh_t`` is Wₕₕᵀ); three graph ops."""
    return activation(gx + h @ w_hh_t)


# ----------------------------------------------------------------------------- registry entries
# Flat inputs of one fixed length (shape kind "same"), cut into (batch 2, hidden 2) step arguments.

def _np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _lstm_args(a, b, c, d):
    return a.reshape(2, 8), b[:4].reshape(2, 2), c[:4].reshape(2, 2), d.reshape(8, 2)


def _lstm_reference(a, b, c, d):
    gx, h, c, w = _lstm_args(a, b, c, d)
    z = gx + h @ w.T
    i, f, g, o = _np_sigmoid(z[:, :2]), _np_sigmoid(z[:, 2:4]), np.tanh(z[:, 4:6]), _np_sigmoid(z[:, 6:])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


def _gru_args(a, b, c, d=None):
    return a.reshape(2, 6), b[:4].reshape(2, 2), c.reshape(6, 2), None if d is None else d[:6]


def _gru_reference(a, b, c, d=None):
    gx, h, w, bias = _gru_args(a, b, c, d)
    hh = h @ w.T + (0 if bias is None else bias)
    r, z = _np_sigmoid(gx[:, :2] + hh[:, :2]), _np_sigmoid(gx[:, 2:4] + hh[:, 2:4])
    n = np.tanh(gx[:, 4:] + r * hh[:, 4:])
    return (1 - z) * n + z * h


def _register():
    from autograd.registry import REAL, OpEntry, register

    flat = {"min_ndim": 1, "max_ndim": 1}
    register(OpEntry("lstm_cell_step", "batch 2, hidden 2", lambda *t: lstm_cell_step(*_lstm_args(*t)), (REAL,) * 4,
                     "same", (LSTMCellOp,), shape_opts={**flat, "min_side": 16, "max_side": 16},
                     reference=_lstm_reference))
    register(OpEntry("gru_cell_step", "batch 2, hidden 2", lambda *t: gru_cell_step(*_gru_args(*t)), (REAL,) * 4,
                     "same", (GRUCellOp,), shape_opts={**flat, "min_side": 12, "max_side": 12},
                     reference=_gru_reference))
    register(OpEntry("gru_cell_step", "no bias", lambda *t: gru_cell_step(*_gru_args(*t)), (REAL,) * 3,
                     "same", (GRUCellOp,), shape_opts={**flat, "min_side": 12, "max_side": 12},
                     reference=_gru_reference))


_register()
