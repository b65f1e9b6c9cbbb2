"""Multi-layer, optionally bidirectional recurrent layers ``RNN``, ``LSTM``, ``GRU`` as in PyTorch.

``forward(input, hx=None, lengths=None)``: ``input`` is (seq_len, batch, input_size), or (batch, seq_len,
input_size) with ``batch_first=True``. Returns ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``) with
``output`` (seq_len, batch, num_directions·hidden) and ``h_n`` (num_layers·num_directions, batch, hidden).
``lengths`` (one int per batch element, 1 ≤ length ≤ seq_len) runs each sequence only over its first
``length`` steps, as PyTorch's packed sequences do: ``h_n`` is each sequence's true final state (the reverse
direction starts at the sequence's own last step) and ``output`` is zero past each sequence's end.
A 2-D input is refused with a hint to add the batch axis (PyTorch would read it as one unbatched sequence):
an input of the wrong rank is more often a mistake than a request.

Parameter names and layouts are PyTorch's (``weight_ih_l0``, ``weight_hh_l0_reverse``, ``bias_ih_l1``...), so
a PyTorch state_dict loads key for key. Per layer and direction the input projection for all time steps is
one matrix product; an LSTM or GRU layer is then one fused node (its backward one BPTT loop), an RNN step
three ops.
"""
from __future__ import annotations

import numpy as np

import autograd as ag
from autograd.checks import float_dtype

from .. import functional as F
from ..module import Module, Parameter
from ._rnn_ops import gru_layer, lstm_layer, rnn_cell_step
from .linear import _non_negative_int
from .rnn_cells import activation_of, as_float_input, check_state, uniform_init

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


class _RNNBase(Module):
    """Parameters, checks and the layer/direction loop shared by RNN, LSTM and GRU."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, dtype=None) -> None:
        super().__init__()
        who = self.mode
        if proj_size:
            raise NotImplementedError(f"{who}: proj_size={proj_size!r} (projected LSTM states) is not implemented; "
                                      "use proj_size=0 and a Linear layer on the outputs")
        self.input_size = _non_negative_int(input_size, "input_size", who)
        self.hidden_size = _non_negative_int(hidden_size, "hidden_size", who)
        self.num_layers = _non_negative_int(num_layers, "num_layers", who)
        if self.num_layers < 1:
            raise ValueError(f"{who}: num_layers must be at least 1, got {num_layers!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{who}: dropout must be a number in [0, 1], got {dropout!r}")
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout = float(dropout)
        self.proj_size = 0
        dtype = float_dtype(dtype, who)
        rows = _GATES[self.mode] * self.hidden_size
        self._names = []  # per (layer, direction): (w_ih, w_hh, b_ih, b_hh) parameter names, PyTorch's order
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for suffix in ("", "_reverse")[:self.num_directions]:
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                setattr(self, names[0], Parameter(np.empty((rows, width), dtype=dtype)))
                setattr(self, names[1], Parameter(np.empty((rows, self.hidden_size), dtype=dtype)))
                if self.bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    setattr(self, names[2], Parameter(np.empty(rows, dtype=dtype)))
                    setattr(self, names[3], Parameter(np.empty(rows, dtype=dtype)))
                self._names.append(tuple(names))
        self.reset_parameters()

    num_directions = property(lambda self: 2 if self.bidirectional else 1)

    def reset_parameters(self) -> None:
        """Redraw every parameter from U(−1/√hidden, 1/√hidden), PyTorch's default."""
        uniform_init(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """Does nothing (PyTorch compacts cuDNN weights here); kept so PyTorch code runs unchanged."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Per layer and direction, [w_ih, w_hh, b_ih, b_hh] (biases only when ``bias``), as PyTorch."""
        return [[getattr(self, n) for n in names] for names in self._names]

    # ------------------------------------------------------------------ checks
    def _check_input(self, input):
        who = self.mode
        x = as_float_input(input, self.weight_ih_l0.dtype, who)
        layout = "(batch, seq_len, input_size)" if self.batch_first else "(seq_len, batch, input_size)"
        if x.ndim != 3:
            hint = (f"; for one unbatched sequence add a batch axis (x[{'None' if self.batch_first else ':, None'}])"
                    if x.ndim == 2 else "")
            raise ValueError(f"{who}: input of shape {x.shape} must be 3-D {layout} with batch_first="
                             f"{self.batch_first}{hint}")
        if x.shape[2] != self.input_size:
            raise ValueError(f"{who}: input of shape {x.shape} has {x.shape[2]} features on its last axis, expected "
                             f"input_size={self.input_size} {layout}")
        if self.batch_first:
            x = x.swapaxes(0, 1)
        if x.shape[0] == 0:
            raise ValueError(f"{who}: input of shape {tuple(input.shape)} has sequence length 0")
        return x

    def _batch_hint(self, got_batch, x):
        """A note for a batch-size mismatch that looks like batch_first set the wrong way."""
        if got_batch == x.shape[0] and got_batch != x.shape[1]:
            return (f" (the input's {'batch' if self.batch_first else 'sequence'} axis has that size: is "
                    f"batch_first={not self.batch_first} meant?)")
        return ""

    def _initial(self, h, x, what):
        """The initial state ``what`` as one (batch, hidden) Tensor per layer and direction, or Nones."""
        n = self.num_layers * self.num_directions
        if h is None:
            return [None] * n
        shape = (n, x.shape[1], self.hidden_size)
        hint = " (num_layers * num_directions, batch, hidden_size)"
        got = h.shape if isinstance(h, ag.Tensor) else np.shape(h)
        if len(got) == 3 and got[1] != x.shape[1]:
            hint += self._batch_hint(got[1], x)
        h = check_state(h, shape, what, self.mode, x.dtype, hint)
        return list(ag.unbind(h, 0)) if h.requires_grad else [ag.Tensor(h.data[k]) for k in range(n)]

    def _lengths(self, lengths, x):
        """Per batch element its length as an int array, checked against the input's shape."""
        if lengths is None:
            return None
        who = self.mode
        lens = np.asarray(lengths.data if isinstance(lengths, ag.Tensor) else lengths)
        seq, batch = x.shape[0], x.shape[1]
        if lens.ndim != 1 or lens.dtype.kind not in "iu":
            raise TypeError(f"{who}: lengths must be a 1-D sequence of ints (one per batch element), got "
                            f"{lens.dtype} of shape {lens.shape}")
        if lens.shape[0] != batch:
            raise ValueError(f"{who}: lengths has {lens.shape[0]} entries but the batch has {batch} sequences "
                             f"(input shape {tuple(x.swapaxes(0, 1).shape if self.batch_first else x.shape)})"
                             + self._batch_hint(lens.shape[0], x))
        if lens.size and (lens.max() > seq or lens.min() < 1):
            bad = int(lens.max()) if lens.max() > seq else int(lens.min())
            raise ValueError(f"{who}: lengths must lie in [1, seq_len={seq}] (the input's "
                             f"{'second' if self.batch_first else 'first'} axis), got {bad}")
        return lens if lens.min() < seq else None  # every sequence full: nothing to mask

    # ------------------------------------------------------------------ forward
    def forward(self, input, hx=None, lengths=None):
        """``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``); ``hx`` the initial state(s), zeros when None;
        ``lengths`` one true length per batch element (see the module docstring)."""
        x = self._check_input(input)
        if self.mode == "LSTM":
            if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError(f"LSTM: hx must be a pair (h_0, c_0), got {type(hx).__name__}")
            h0 = self._initial(None if hx is None else hx[0], x, "h_0")
            c0 = self._initial(None if hx is None else hx[1], x, "c_0")
        else:
            h0, c0 = self._initial(hx, x, "h_0"), None
        lens = self._lengths(lengths, x)
        masks = None if lens is None else [(t < lens)[:, None] for t in range(x.shape[0])]
        finals, cells = [], []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
            outs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                out, h, c = self._direction(x, k, h0[k], None if c0 is None else c0[k], d == 1, masks)
                outs.append(out)
                finals.append(h)
                cells.append(c)
            x = outs[0] if len(outs) == 1 else ag.concatenate(outs, axis=2)
        output = x.swapaxes(0, 1) if self.batch_first else x
        h_n = ag.stack(finals, 0)
        return (output, (h_n, ag.stack(cells, 0))) if self.mode == "LSTM" else (output, h_n)

    def _direction(self, x, k, h, c, reverse, masks):
        """One layer in one direction over the whole sequence: (outputs (T, B, H), final h, final c)."""
        params = [getattr(self, n) for n in self._names[k]]
        w_ih, w_hh = params[0], params[1]
        b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
        batch = x.shape[1]
        zeros = None
        if h is None or (c is None and self.mode == "LSTM"):
            zeros = ag.zeros((batch, self.hidden_size), dtype=x.dtype)
        h = zeros if h is None else h
        c = (zeros if c is None else c) if self.mode == "LSTM" else None
        seq = x.shape[0]
        flat = x.reshape(seq * batch, x.shape[2])  # one 2-D product for all time steps (faster than a batched one)
        if self.mode == "GRU":
            gx, step_bias = F.linear(flat, w_ih, b_ih), b_hh
        else:
            gx, step_bias = F.linear(flat, w_ih, None if b_ih is None else b_ih + b_hh), None
        gx = gx.reshape(seq, batch, gx.shape[1])
        mask = None if masks is None else np.stack(masks)
        if self.mode == "LSTM":  # the whole layer is one node: BPTT runs as one loop in its backward
            return lstm_layer(gx, h, c, w_hh, mask, reverse)
        if self.mode == "GRU":
            out, h = gru_layer(gx, h, w_hh, step_bias, mask, reverse)
            return out, h, None
        steps = ag.unbind(gx, 0)  # a plain RNN: three graph ops per step
        w = w_hh.T
        outs = [None] * len(steps)
        for t in (range(len(steps) - 1, -1, -1) if reverse else range(len(steps))):
            h_new = rnn_cell_step(steps[t], h, w, self._activation)
            m = None if masks is None or masks[t].all() else masks[t]
            if m is None:
                outs[t], h = h_new, h_new
            else:  # finished (or, in reverse, not yet started) sequences keep their state and output zero
                outs[t] = h_new * m.astype(x.dtype)
                h = ag.where(m, h_new, h)
        return ag.stack(outs, 0), h, None

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(_RNNBase):
    """Elman RNN: h_t = f(x_t Wᵢₕᵀ + bᵢₕ + h_{t−1} Wₕₕᵀ + bₕₕ), f = tanh, relu or sigmoid (SEEDS R2)."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None) -> None:
        activation = activation_of(nonlinearity, "RNN")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, dtype)
        self.nonlinearity, self._activation = nonlinearity, activation

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(_RNNBase):
    """Long short-term memory, gates i, f, g, o (SEEDS R4); returns (output, (h_n, c_n)). ``proj_size`` must be 0."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size,
                         dtype)


class GRU(_RNNBase):
    """Gated recurrent unit, gates r, z, n with PyTorch's n = tanh(Wᵢₙx + bᵢₙ + r⊙(Wₕₙh + bₕₙ)) (SEEDS R5)."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, dtype)
