"""``ResidualBlock``: two 3×3 same convolutions with BatchNorm and ReLU, plus a shortcut (C6)."""
from __future__ import annotations

from .. import functional as F
from ..module import Module
from .containers import Sequential
from .conv import Conv2d
from .linear import Identity
from .norm import BatchNorm2d


class ResidualBlock(Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the basic block of ResNet.

    The shortcut is the identity, or a 1×1 convolution with BatchNorm when the stride or the channel
    count changes the shape. ``conv1`` carries the stride.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, dtype=None) -> None:
        super().__init__()
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False, dtype=dtype)
        self.bn1 = BatchNorm2d(out_channels, dtype=dtype)
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, bias=False, dtype=dtype)
        self.bn2 = BatchNorm2d(out_channels, dtype=dtype)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = Sequential(Conv2d(in_channels, out_channels, 1, stride=stride, bias=False, dtype=dtype),
                                       BatchNorm2d(out_channels, dtype=dtype))
        else:
            self.shortcut = Identity()

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))
