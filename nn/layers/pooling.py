"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d`` and ``AdaptiveAvgPool1d/2d`` (PyTorch's arguments)."""
from __future__ import annotations

from .. import functional_conv as Fc
from ..module import Module


class _MaxPool(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPool):
    """Max over windows of (N, C, L) or unbatched (C, L)."""

    def forward(self, x):
        return Fc._max_pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices, 1, "MaxPool1d")


class MaxPool2d(_MaxPool):
    """Max over windows of (N, C, H, W) or unbatched (C, H, W); ``return_indices`` gives h * W + w per channel
    plane, as PyTorch."""

    def forward(self, x):
        return Fc._max_pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices, 2, "MaxPool2d")


class AvgPool1d(Module):
    """Mean over windows of (N, C, L) or unbatched (C, L)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        return Fc._avg_pool(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            None, 1, "AvgPool1d")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over windows of (N, C, H, W) or unbatched (C, H, W)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        return Fc._avg_pool(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override, 2, "AvgPool2d")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Mean over PyTorch's adaptive bins of (N, C, L) or (C, L) to length ``output_size``."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return Fc._adaptive(x, self.output_size, 1, "AdaptiveAvgPool1d")

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(AdaptiveAvgPool1d):
    """Mean over PyTorch's adaptive bins of (N, C, H, W) or (C, H, W) to ``output_size`` (1 gives global average
    pooling)."""

    def forward(self, x):
        return Fc._adaptive(x, self.output_size, 2, "AdaptiveAvgPool2d")
