"""``MLP``: a multi-layer perceptron as a ``Sequential`` of Linear layers and activations."""
from __future__ import annotations

import itertools

import numpy as np

from autograd.checks import number

from ..module import Module
from .activation import make_activation
from .containers import Sequential
from .dropout import Dropout
from .linear import Linear


class MLP(Sequential):
    """Fully connected layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Each hidden Linear is followed by ``activation`` (a name such as 'relu', 'tanh', 'gelu', a
    Module class, or None) and, if ``dropout > 0``, a Dropout; after the last Linear comes
    ``output_activation`` (none by default, so the output is raw scores). Being a Sequential, its
    children are numbered in that order, so state_dict keys are those of the equivalent PyTorch
    ``nn.Sequential``: for ``MLP([784, 256, 10])`` they are ``0.weight``, ``0.bias`` (Linear),
    ``2.weight``, ``2.bias`` (Linear; ``1`` is the ReLU). ``linears`` lists the Linear layers.
    """

    def __init__(self, sizes, activation="relu", output_activation=None, bias: bool = True,
                 dropout: float = 0.0, dtype=None) -> None:
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise TypeError(f"MLP: sizes must be a sequence of at least two positive ints (input, ..., output), "
                            f"got {sizes!r}")
        sizes = list(sizes)
        dropout = number(dropout, "dropout", "MLP", low=0, high=1)
        if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1
                                 for s in sizes):
            raise ValueError(f"MLP: sizes must be at least two positive integers (input, ..., output), got {sizes!r}")
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(Linear(int(n_in), int(n_out), bias=bias, dtype=dtype))
            last = i == len(sizes) - 2
            act = make_activation(output_activation if last else activation, "MLP")
            if act is not None:
                layers.append(act)
            if not last and dropout > 0:
                layers.append(Dropout(dropout))
        super().__init__(*layers)
        self.sizes = tuple(int(s) for s in sizes)

    @property
    def linears(self) -> list[Linear]:
        """The Linear layers, input side first."""
        return [m for m in self if isinstance(m, Linear)]
