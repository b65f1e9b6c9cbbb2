"""Convolution layers ``Conv1d`` and ``Conv2d``: PyTorch's arguments, weight layout (out, in/groups, *kernel),
default initialisation and output sizes."""
from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd.checks import float_dtype

from .. import init
from ..functional_conv import _conv, _ints, check_rank, conv_padding
from ..module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared construction and checks; subclasses set ``_dims``."""

    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=None) -> None:
        super().__init__()
        name, d = type(self).__name__, self._dims
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}: {what} must be a positive integer, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: padding_mode={padding_mode!r} is not implemented (only 'zeros')")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _ints(kernel_size, d, "kernel_size", name, 1)
        self.stride = _ints(stride, d, "stride", name, 1)
        self.dilation = _ints(dilation, d, "dilation", name, 1)
        conv_padding(padding, self.kernel_size, self.stride, self.dilation, name)  # checks 'same' with stride > 1
        self.padding = padding if isinstance(padding, str) else _ints(padding, d, "padding", name, 0)
        self.padding_mode = padding_mode
        dtype = float_dtype(dtype, type(self).__name__)
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels // groups) + self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=√5) for the weight, U(±1/√fan_in) for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        name = type(self).__name__
        shape = x.shape if isinstance(x, ag.Tensor) else np.shape(x)
        check_rank(shape, self._dims, name)
        channels = shape[-self._dims - 1]
        if channels != self.in_channels:
            raise ValueError(f"{name}: input of shape {shape} has {channels} channels, expected "
                             f"in_channels={self.in_channels}")
        return _conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups, self._dims,
                     name)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution of (N, C_in, L) to (N, C_out, L_out), or unbatched (C_in, L) to (C_out, L_out); weight
    (out, in/groups, k)."""

    _dims = 1


class Conv2d(_ConvNd):
    """2-D convolution of (N, C_in, H, W) to (N, C_out, H_out, W_out), or unbatched (C_in, H, W) to
    (C_out, H_out, W_out); weight (out, in/groups, kH, kW).

    H_out = ⌊(H + p_top + p_bottom − d(k − 1) − 1) / s⌋ + 1, and likewise W_out.
    """

    _dims = 2
