"""``Dropout``: inverted dropout in training, the identity in eval mode."""
from __future__ import annotations

from .. import functional as F
from ..module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` during training and scale the rest by 1/(1-p)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        F._check_p(p, "Dropout")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
