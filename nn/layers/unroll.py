"""``unroll``: run a recurrent module as an explicit loop of its cells, so every hidden state h_t is a Tensor.

The fused LSTM and GRU layers hide h_1 … h_T inside one node; to measure ∂L/∂h_t per time step (vanishing gradients,
SEEDS R3) or draw the unrolled graph, step the same parameters one cell at a time instead. The cells share
the module's Parameters, so gradients land in the module as usual.
"""
from __future__ import annotations

import autograd as ag

from .recurrent import _RNNBase
from .rnn_cells import GRUCell, LSTMCell, RNNCell


def cells_of(module: _RNNBase) -> list:
    """One cell per layer sharing ``module``'s Parameters (unidirectional modules only)."""
    if not isinstance(module, _RNNBase):
        raise TypeError(f"unroll: expected an nn.RNN, nn.LSTM or nn.GRU, got {type(module).__name__}")
    if module.bidirectional:
        raise ValueError(f"unroll: {module!r} is bidirectional; unroll steps one direction only")
    cells = []
    for layer in range(module.num_layers):
        width = module.input_size if layer == 0 else module.hidden_size
        kind = {"LSTM": LSTMCell, "GRU": GRUCell}.get(module.mode)
        cell = (kind(width, module.hidden_size, module.bias, dtype=module.weight_ih_l0.dtype) if kind else
                RNNCell(width, module.hidden_size, module.bias, module.nonlinearity, dtype=module.weight_ih_l0.dtype))
        for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if module.bias else ()):
            setattr(cell, name, getattr(module, f"{name}_l{layer}"))
        cells.append(cell)
    return cells


def unroll(module: _RNNBase, input, hx=None, retain: bool = True):
    """(output, states): the module's output (seq_len, batch, hidden) computed step by step, and the last
    layer's hidden states h_1 … h_T as a list of Tensors (``retain_grad()`` called on each when ``retain``).
    ``batch_first`` is honoured; ``hx`` as the module takes it; dropout between layers is not applied."""
    x = module._check_input(input)  # (T, B, I)
    cells = cells_of(module)
    n = module.num_layers
    if module.mode == "LSTM":
        h0 = module._initial(None if hx is None else hx[0], x, "h_0")
        c0 = module._initial(None if hx is None else hx[1], x, "c_0")
    else:
        h0, c0 = module._initial(hx, x, "h_0"), [None] * n
    layer_in = list(ag.unbind(x, 0))
    for k, cell in enumerate(cells):
        h, c = h0[k], c0[k]
        outs = []
        for x_t in layer_in:
            if module.mode == "LSTM":
                h, c = cell(x_t, None if h is None else (h, c if c is not None else ag.zeros_like(h)))
            else:
                h = cell(x_t, h)
            outs.append(h)
        layer_in = outs
    if retain:
        for h in layer_in:
            if h.requires_grad:
                h.retain_grad()
    output = ag.stack(layer_in, 0)
    return (output.swapaxes(0, 1) if module.batch_first else output), layer_in
