"""Explained backward steps: the chain rule at one node, as text a student can check by hand.

For node ``y = f(u, ...)`` receiving ``∂L/∂y`` the step sends ``∂L/∂u = ∂L/∂y · ∂y/∂u`` to each input.
The rule ``∂y/∂u`` is the op's own text (``node.rule``, declared next to its backward). For an
elementwise op the local derivative's value is shown too: the gradient sent divided by the one received
(exact where the received gradient is non-zero; ``nan`` marks where it is zero and says nothing). For the other
families (matmul, linear, reductions, shape ops, softmax) ``_derive`` writes the product out with the operand's value.
"""
from __future__ import annotations

import numpy as np

from ._derive import derivation
from ._format import one_line, summary_text

# Ops whose output element i depends on element i of each (broadcast) input only: sent = received ⊙ local.
ELEMENTWISE = frozenset({
    "add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "where", "negative", "exp", "log",
    "log1p", "sqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "clip", "astype", "erf",
    "identity"})


def local_derivative(received, sent):
    """∂y/∂u elementwise from what an elementwise node received and sent (nan where nothing was received)."""
    g = np.asarray(received, dtype=np.float64)
    s = np.asarray(sent, dtype=np.float64)
    if g.shape != s.shape:
        g = np.broadcast_to(g, s.shape) if np.broadcast_shapes(g.shape, s.shape) == s.shape else None
    if g is None:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(g != 0, s / np.where(g != 0, g, 1.0), np.nan)


def explain_step(op, received: tuple, sent: tuple, inputs: list, mx: int) -> list[str]:
    """Caption lines for one backward step of ``op`` (the title says what it received): its rule, and per
    input the product that gives that input's gradient. ``inputs``: ``(name or None, shape)`` per input of ``op``."""
    outs = [(k, g) for k, g in enumerate(received) if g is not None]
    lines = []
    if op.rule:
        lines.append(f"local rule: {op.rule}")
    lines.append("chain rule: \u2202L/\u2202input = \u2202L/\u2202y \u00b7 \u2202y/\u2202input, "
                 "with g = \u2202L/\u2202y received")
    elementwise = op.name in ELEMENTWISE and len(outs) == 1
    for i, s in enumerate(sent):
        if s is None:
            continue
        name, shape = inputs[i] if i < len(inputs) else (None, np.shape(s))
        head = f"  input {i} ({name})" if name else f"  input {i}"
        name = name or f"input {i}"
        result = one_line(summary_text(s, mx))
        if tuple(np.shape(s)) != tuple(shape):
            result += f", summed over the broadcast axes to shape {tuple(shape)}"
        local = local_derivative(outs[0][1], s) if elementwise else None
        if local is not None and local.size <= mx:
            d = one_line(summary_text(local, mx))
            lines.append(f"{head}: \u2202y/\u2202{name} = {d}; \u2202L/\u2202{name} = "
                         f"{one_line(summary_text(outs[0][1], mx))} \u2299 {d} = {result}")
        elif len(outs) == 1 and (how := derivation(op, i, outs[0][1], s, [n for n, _ in inputs], mx)):
            lines.append(f"{head}: \u2202L/\u2202{name} = {how} = {result}")
        else:
            lines.append(f"{head}: \u2202L/\u2202{name} = {result}")
    return lines
