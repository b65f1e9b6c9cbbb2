"""Single recurrent steps as modules: ``RNNCell``, ``LSTMCell``, ``GRUCell`` (PyTorch's names, layouts and init).

Parameters ``weight_ih`` (G·hidden, input), ``weight_hh`` (G·hidden, hidden), ``bias_ih`` and ``bias_hh``
(G·hidden,) with the gate blocks stacked in PyTorch's order: LSTM i, f, g, o (G = 4); GRU r, z, n (G = 3);
RNN one block. All start as U(−1/√hidden, 1/√hidden).
"""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd.checks import float_dtype

from .. import functional as F
from .. import init
from ..module import Module, Parameter
from ._rnn_ops import gru_cell_step, lstm_cell_step, rnn_cell_step
from .linear import _non_negative_int

ACTIVATIONS = {"tanh": ag.tanh, "relu": ag.relu, "sigmoid": ag.sigmoid}


def activation_of(nonlinearity, who: str):
    """The elementwise function named ``nonlinearity`` ('tanh', 'relu' or 'sigmoid')."""
    if not isinstance(nonlinearity, str) or nonlinearity not in ACTIVATIONS:
        raise ValueError(f"{who}: nonlinearity must be one of {sorted(ACTIVATIONS)}, got {nonlinearity!r}")
    return ACTIVATIONS[nonlinearity]


def as_float_input(x, params_dtype, who: str):
    """``x`` as a float Tensor of the parameters' dtype (a different float dtype is a TypeError, never a cast)."""
    x = F._tensor(x, who)
    if x.dtype.kind != "f":
        raise TypeError(f"{who}: expected a floating-point input, got dtype {x.dtype}")
    if x.dtype != params_dtype:
        raise TypeError(f"{who}: input dtype {x.dtype} does not match the parameters' dtype {params_dtype}; "
                        f"convert one of them (module.to(np.{x.dtype}) or x.astype(np.{params_dtype}))")
    return x


def check_state(h, shape, what: str, who: str, dtype, hint: str = ""):
    """A state Tensor of exactly ``shape`` and ``dtype``; a clear ValueError otherwise."""
    h = as_float_input(h, dtype, f"{who} ({what})")
    if h.shape != tuple(shape):
        raise ValueError(f"{who}: {what} of shape {h.shape} does not match the expected shape {tuple(shape)}{hint}")
    return h


def uniform_init(module: Module, hidden_size: int) -> None:
    """Every parameter from U(−1/√hidden, 1/√hidden), PyTorch's default for recurrent layers."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class _Cell(Module):
    """Shared parameters and checks of the three cells; ``gates`` blocks of ``hidden_size`` rows each."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None) -> None:
        super().__init__()
        who = type(self).__name__
        self.input_size = _non_negative_int(input_size, "input_size", who)
        self.hidden_size = _non_negative_int(hidden_size, "hidden_size", who)
        self.bias = bool(bias)
        dtype = float_dtype(dtype, who)
        rows = self.gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((rows, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((rows, self.hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(rows, dtype=dtype))
            self.bias_hh = Parameter(np.empty(rows, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw every parameter from U(−1/√hidden, 1/√hidden)."""
        uniform_init(self, self.hidden_size)

    def _input(self, x):
        x = as_float_input(x, self.weight_ih.dtype, type(self).__name__)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input of shape {x.shape} must be 2-D (batch, input_size="
                             f"{self.input_size})" + ("; for one unbatched vector add a batch axis: x[None]"
                                                      if x.ndim == 1 else ""))
        return x

    def _state(self, h, x, what):
        if h is None:
            return ag.zeros((x.shape[0], self.hidden_size), dtype=x.dtype)
        return check_state(h, (x.shape[0], self.hidden_size), what, type(self).__name__, x.dtype,
                           " (batch, hidden_size)")

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_Cell):
    """h' = f(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ) with f = tanh, relu or sigmoid (SEEDS R2: s = Ux + Wh, h = f(s))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None) -> None:
        activation = activation_of(nonlinearity, "RNNCell")
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity, self._activation = nonlinearity, activation

    def forward(self, input, hx=None):
        x = self._input(input)
        h = self._state(hx, x, "hx")
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        if self.bias_hh is not None:
            gx = gx + self.bias_hh
        return rnn_cell_step(gx, h, self.weight_hh.T, self._activation)

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTMCell(_Cell):
    """(h', c') with gates i, f, g, o: c' = σ(f)⊙c + σ(i)⊙tanh(g), h' = σ(o)⊙tanh(c') (SEEDS R4); one fused node."""

    gates = 4

    def forward(self, input, hx=None):
        x = self._input(input)
        if hx is None:
            h = c = self._state(None, x, "h")
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTMCell: hx must be a pair (h, c), got {type(hx).__name__}")
            h, c = self._state(hx[0], x, "h"), self._state(hx[1], x, "c")
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        if self.bias_hh is not None:
            gx = gx + self.bias_hh
        return lstm_cell_step(gx, h, c, self.weight_hh)


class GRUCell(_Cell):
    """h' = (1 − z)⊙n + z⊙h with r, z = σ(·) and n = tanh(Wᵢₙx + bᵢₙ + r⊙(Wₕₙh + bₕₙ)) (SEEDS R5); one fused node."""

    gates = 3

    def forward(self, input, hx=None):
        x = self._input(input)
        h = self._state(hx, x, "hx")
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        return gru_cell_step(gx, h, self.weight_hh, self.bias_hh)
