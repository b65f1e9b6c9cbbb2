"""Activation functions as modules (each wraps the ``nn.functional`` function of the same name)."""
from __future__ import annotations

import numpy as np

from autograd.checks import float_dtype, number

from .. import functional as F
from ..init import constant_
from ..module import Module, Parameter


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope`` * x otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = number(negative_slope, "negative_slope", "LeakyReLU")

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """Leaky ReLU whose slope is learned: one shared slope, or one per channel (dim 1) of the input."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None) -> None:
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (int, np.integer)) \
                or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive integer, got {num_parameters!r}")
        self.num_parameters = int(num_parameters)
        self.init = number(init, "init", "PReLU")
        self.weight = Parameter(np.full(self.num_parameters, self.init, dtype=float_dtype(dtype, "PReLU")))

    def reset_parameters(self) -> None:
        """Set every slope back to ``init``."""
        constant_(self.weight, self.init)

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x for x > 0, ``alpha`` (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = number(alpha, "alpha", "ELU")

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), stable for large |x|."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    """Softmax along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class SiLU(Module):
    """x * sigmoid(x)."""

    def forward(self, x):
        return F.silu(x)


class Swish(Module):
    """x * sigmoid(beta * x); with ``learnable=True`` beta is a Parameter named ``beta``."""

    def __init__(self, beta: float = 1.0, learnable: bool = False, dtype=None) -> None:
        super().__init__()
        self.learnable = bool(learnable)
        if self.learnable:
            self.beta = Parameter(np.full(1, number(beta, "beta", "Swish"), dtype=float_dtype(dtype, "Swish")))
        else:
            self.beta = number(beta, "beta", "Swish")

    def forward(self, x):
        return F.swish(x, self.beta)

    def extra_repr(self) -> str:
        beta = float(self.beta.data[0]) if self.learnable else self.beta
        return f"beta={beta:g}" + (", learnable=True" if self.learnable else "")


class GELU(Module):
    """x Φ(x): exact with erf (``approximate='none'``), or the ``'tanh'`` or ``'sigmoid'`` approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh", "sigmoid"):
            raise ValueError(f"GELU: approximate must be 'none', 'tanh' or 'sigmoid', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


_BY_NAME = {
    "relu": ReLU, "leaky_relu": LeakyReLU, "prelu": PReLU, "elu": ELU, "sigmoid": Sigmoid, "tanh": Tanh,
    "silu": SiLU, "swish": Swish, "gelu": GELU, "softmax": Softmax, "log_softmax": LogSoftmax,
}


def make_activation(spec, who: str = "make_activation") -> Module | None:
    """A fresh activation module from a name ('relu', 'tanh', ...; None or 'identity' for none),
    a Module class or factory, or a Module instance (copied, so layers never share a learned slope)."""
    import copy

    if spec is None or (isinstance(spec, str) and spec in ("identity", "linear", "none")):
        return None
    if isinstance(spec, str):
        try:
            return _BY_NAME[spec.lower()]()
        except KeyError:
            raise ValueError(f"{who}: unknown activation {spec!r}; choose one of {sorted(_BY_NAME)} or pass a Module "
                             "class") from None
    if isinstance(spec, Module):
        return copy.deepcopy(spec)
    if callable(spec):
        m = spec()
        if not isinstance(m, Module):
            raise TypeError(f"{who}: activation factory {spec!r} returned {type(m).__name__}, not a Module")
        return m
    raise TypeError(f"{who}: activation must be a name, a Module class or a Module, got {type(spec).__name__}")
