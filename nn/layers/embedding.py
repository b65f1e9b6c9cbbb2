"""``Embedding``: a lookup table of learned vectors indexed by integers."""
from __future__ import annotations

import numpy as np

import autograd as ag
from autograd.checks import float_dtype

from .. import functional as F
from .. import init
from ..module import Module, Parameter
from .linear import _non_negative_int


class Embedding(Module):
    """``weight`` (num_embeddings, embedding_dim) drawn from N(0, 1); ``forward(indices)`` returns its rows.

    The row ``padding_idx`` (if given) starts at zero and receives no gradient.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 _weight=None, dtype=None) -> None:
        super().__init__()
        self.num_embeddings = _non_negative_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _non_negative_int(embedding_dim, "embedding_dim", "Embedding")
        self.padding_idx = None if padding_idx is None else F._padding_index(padding_idx, self.num_embeddings,
                                                                              "Embedding")
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(np.empty(shape, dtype=float_dtype(dtype, "Embedding")))
            self.reset_parameters()
        else:
            w = np.asarray(getattr(_weight, "data", _weight))
            if w.shape != shape:
                raise ValueError(f"Embedding: _weight shape {w.shape} does not match {shape}")
            self.weight = Parameter(w.copy())

    def reset_parameters(self) -> None:
        """Redraw the table from N(0, 1) and zero the padding row."""
        values = init.normal_(np.empty(self.weight.shape, dtype=self.weight.dtype))
        if self.padding_idx is not None:
            values[self.padding_idx] = 0
        with ag.no_grad():
            self.weight.copy_(values)  # one tracked write of the whole table

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None) -> Embedding:
        """An Embedding holding a copy of the 2-D ``embeddings``; frozen (no gradient) by default."""
        w = np.asarray(getattr(embeddings, "data", embeddings))
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {w.shape}")
        m = cls(w.shape[0], w.shape[1], padding_idx=padding_idx, _weight=w)
        m.weight.requires_grad_(not freeze)
        return m

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
