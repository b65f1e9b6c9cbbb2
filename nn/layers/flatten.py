"""``Flatten``: merge a range of dimensions (by default all but the batch dimension)."""
from __future__ import annotations

from .. import functional as F
from ..module import Module


class Flatten(Module):
    """Reshape (N, d1, ..., dk) to (N, d1 * ... * dk) (or merge ``start_dim`` .. ``end_dim``)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
