"""Fully connected layers: ``Linear`` (y = x Wᵀ + b) and ``Identity``."""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd.checks import float_dtype
from autograd.ops.affine import linear as _linear

from .. import functional as F
from .. import init
from ..module import Module, Parameter


def _non_negative_int(value, what: str, cls: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{cls}: {what} must be a non-negative integer, got {value!r}")
    return int(value)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for an optional activation)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x Wᵀ + b with ``weight`` (out_features, in_features) and ``bias`` (out_features,).

    Both start as U(-1/√in_features, 1/√in_features), PyTorch's default (kaiming_uniform_ with
    a = √5 for the weight).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None) -> None:
        super().__init__()
        self.in_features = _non_negative_int(in_features, "in_features", "Linear")
        self.out_features = _non_negative_int(out_features, "out_features", "Linear")
        dtype = float_dtype(dtype, "Linear")
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw weight and bias from PyTorch's default distributions."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        shape = x.shape if isinstance(x, ag.Tensor) else np.shape(x)
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: input of shape {shape} has last dimension "
                             f"{shape[-1] if shape else 'none'}, expected in_features={self.in_features}")
        if type(x) is ag.Tensor:  # (nothing to convert: straight to the op, which checks the parameters' shapes)
            return _linear(x, self.weight, self.bias)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
