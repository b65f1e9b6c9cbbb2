"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` (per channel, running statistics) and ``LayerNorm``."""
from __future__ import annotations

import numpy as np

from autograd.checks import float_dtype, number

from .. import functional as F
from .. import init
from ..module import Module, Parameter
from .linear import _non_negative_int


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d: learned per-channel ``weight``/``bias`` and running statistics buffers.

    Buffers ``running_mean`` (zeros), ``running_var`` (ones, updated with the unbiased batch variance)
    and ``num_batches_tracked`` match PyTorch's names. Training normalises with the batch's biased
    variance; eval mode uses the running statistics.
    """

    _ndims: tuple[int, ...] = ()
    _shapes = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = _non_negative_int(num_features, "num_features", name)
        eps = number(eps, "eps", name, low=0, low_open=True)
        if momentum is not None:
            momentum = number(momentum, "momentum", name, low=0, high=1)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = float_dtype(dtype, name)
        c = self.num_features
        if affine:
            self.weight = Parameter(np.ones(c, dtype=dtype))
            self.bias = Parameter(np.zeros(c, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, dtype=dtype))
            self.register_buffer("running_var", np.ones(c, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, the scale to 1 and the shift to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        x = F._tensor(x, type(self).__name__)
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected input of shape {self._shapes} with "
                             f"C={self.num_features}, got {x.shape}")
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=self.training or not self.track_running_stats,
                            momentum=self.momentum, eps=self.eps, num_batches_tracked=self.num_batches_tracked)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs, per channel C."""

    _ndims = (2, 3)
    _shapes = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs, per channel C."""

    _ndims = (4,)
    _shapes = "(N, C, H, W)"


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dimensions of each sample, then scale and shift.

    ``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape`` when ``elementwise_affine``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=None) -> None:
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
        if isinstance(ns, (str, bytes)) or not isinstance(ns, (tuple, list)):
            raise TypeError(f"LayerNorm: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}")
        ns = tuple(ns)
        if not ns or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in ns):
            raise ValueError(f"LayerNorm: normalized_shape must be positive integers, got {normalized_shape!r}")
        self.normalized_shape = tuple(int(s) for s in ns)
        self.eps = number(eps, "eps", "LayerNorm", low=0, low_open=True)
        self.elementwise_affine = elementwise_affine
        dtype = float_dtype(dtype, "LayerNorm")
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Scale back to 1 and shift to 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
