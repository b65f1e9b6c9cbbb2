"""Modular co-attention (MCAN, Yu et al. 2019): self-attention (SA), guided attention (GA), SGA, the MCA
encoder-decoder stack, attentional reduction and a classifier on two inputs.

All modules are batch_first: x (N, Lx, d_model), y (N, Ly, d_model). Masks are key padding masks
(N, L), True = padding (ignored), as ``MultiheadAttention``'s ``key_padding_mask``. Every sub-layer is
``norm(z + dropout(sublayer(z)))`` (post-norm, as MCAN).
"""
from __future__ import annotations

import numpy as np

import autograd as ag

from .. import functional as F
from ..module import Module
from .activation import ReLU
from .attention import MultiheadAttention
from .containers import ModuleList, Sequential
from .dropout import Dropout
from .linear import Linear
from .mlp import MLP
from .norm import LayerNorm


def _ffn(d_model: int, dim_feedforward: int, dropout: float) -> Sequential:
    """Position-wise feed-forward: Linear -> ReLU -> Dropout -> Linear."""
    return Sequential(Linear(d_model, dim_feedforward), ReLU(), Dropout(dropout), Linear(dim_feedforward, d_model))


class GuidedAttentionUnit(Module):
    """GA (N4): queries from x, keys and values from the guide y: x = norm1(x + MHA(x, y, y)); x = norm2(x + FFN(x))."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1) -> None:
        super().__init__()
        self.attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.ffn = _ffn(d_model, dim_feedforward, dropout)
        self.norm1, self.norm2 = LayerNorm(d_model), LayerNorm(d_model)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)

    def forward(self, x, y, y_mask=None, need_weights: bool = False):
        """``x`` (N, Lx, d) attends over ``y`` (N, Ly, d); returns x, or (x, weights (N, heads, Lx, Ly))."""
        a, w = self.attn(x, y, y, key_padding_mask=y_mask, need_weights=need_weights, average_attn_weights=False)
        x = self.norm1(x + self.dropout1(a))
        x = self.norm2(x + self.dropout2(self.ffn(x)))
        return (x, w) if need_weights else x


class SelfAttentionUnit(GuidedAttentionUnit):
    """SA (N3): x = norm1(x + MHA(x, x, x)); x = norm2(x + FFN(x)). Every position attends to its own input:
    guided attention with x as its own guide."""

    def forward(self, x, x_mask=None, need_weights: bool = False):
        """``x`` (N, L, d); returns x, or (x, weights (N, heads, L, L)) with ``need_weights``."""
        return super().forward(x, x, x_mask, need_weights)


class SGA(Module):
    """Self-guided attention (MCAN's decoder layer): self-attention over x, then guided attention of x over
    y, then FFN, each with residual + LayerNorm (``self_attn``, ``guided_attn``, ``ffn``, ``norm1..3``)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.guided_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.ffn = _ffn(d_model, dim_feedforward, dropout)
        self.norm1, self.norm2, self.norm3 = LayerNorm(d_model), LayerNorm(d_model), LayerNorm(d_model)
        self.dropout1, self.dropout2, self.dropout3 = Dropout(dropout), Dropout(dropout), Dropout(dropout)

    def forward(self, x, y, x_mask=None, y_mask=None, need_weights: bool = False):
        """Returns x, or (x, (self weights (N, h, Lx, Lx), guided weights (N, h, Lx, Ly))) with ``need_weights``."""
        a, ws = self.self_attn(x, x, x, key_padding_mask=x_mask, need_weights=need_weights,
                               average_attn_weights=False)
        x = self.norm1(x + self.dropout1(a))
        a, wg = self.guided_attn(x, y, y, key_padding_mask=y_mask, need_weights=need_weights,
                                 average_attn_weights=False)
        x = self.norm2(x + self.dropout2(a))
        x = self.norm3(x + self.dropout3(self.ffn(x)))
        return (x, (ws, wg)) if need_weights else x


class MCAEncoderDecoder(Module):
    """MCA stack (N5) in MCAN's encoder-decoder form: ``num_layers`` SA units encode x (e.g. the question),
    then ``num_layers`` SGA layers decode y (e.g. image regions), each guided by the final x."""

    def __init__(self, d_model: int, nhead: int, num_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1) -> None:
        super().__init__()
        if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
            raise ValueError(f"MCAEncoderDecoder: num_layers must be a positive integer, got {num_layers!r}")
        self.encoder = ModuleList([SelfAttentionUnit(d_model, nhead, dim_feedforward, dropout)
                                   for _ in range(num_layers)])
        self.decoder = ModuleList([SGA(d_model, nhead, dim_feedforward, dropout) for _ in range(num_layers)])

    def forward(self, x, y, x_mask=None, y_mask=None, need_weights: bool = False):
        """(x, y) encoded; with ``need_weights`` also the decoder's guided-attention maps, one (N, h, Ly, Lx)
        per layer (which x positions each y position looked at)."""
        for sa in self.encoder:
            x = sa(x, x_mask)
        maps = []
        for sga in self.decoder:
            if need_weights:
                y, (_, wg) = sga(y, x, y_mask, x_mask, need_weights=True)
                maps.append(wg)
            else:
                y = sga(y, x, y_mask, x_mask)
        return (x, y, maps) if need_weights else (x, y)


class AttentionalReduction(Module):
    """Pool a sequence (N, L, d) to (N, out_features): an MLP scores each position (``glimpses`` scores),
    a softmax over positions (padding excluded) weights them, the weighted sums are merged by a Linear."""

    def __init__(self, d_model: int, hidden: int = 512, out_features: int = 1024, glimpses: int = 1,
                 dropout: float = 0.1) -> None:
        super().__init__()
        for what, val in (("d_model", d_model), ("glimpses", glimpses)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"AttentionalReduction: {what} must be a positive integer, got {val!r}")
        self.glimpses = int(glimpses)
        self.mlp = Sequential(Linear(d_model, hidden), ReLU(), Dropout(dropout), Linear(hidden, self.glimpses))
        self.linear_merge = Linear(d_model * self.glimpses, out_features)

    def forward(self, x, mask=None, need_weights: bool = False):
        """Returns (N, out_features), or with ``need_weights`` also the position weights (N, glimpses, L)."""
        x = F._tensor(x, "AttentionalReduction")
        if x.ndim != 3:
            raise ValueError(f"AttentionalReduction: input of shape {x.shape} must be (N, L, d_model)")
        if x.dtype.kind == "f" and x.dtype != self.linear_merge.weight.dtype:
            raise TypeError(f"AttentionalReduction: input has dtype {x.dtype} but the module's parameters are "
                            f"{self.linear_merge.weight.dtype}")
        keep = None
        if mask is not None:
            m = np.asarray(mask.data if isinstance(mask, ag.Tensor) else mask)
            if m.shape != x.shape[:2] or m.dtype != np.bool_:
                raise ValueError(f"AttentionalReduction: mask of shape {m.shape} (dtype {m.dtype}) must be a "
                                 f"boolean (N, L)={x.shape[:2]} padding mask")
            keep = ~m[:, None, :]
        w = ag.masked_softmax(self.mlp(x).swapaxes(1, 2), keep)  # (N, glimpses, L)
        pooled = ag.matmul(w, x).reshape(x.shape[0], self.glimpses * x.shape[2])
        out = self.linear_merge(pooled)
        return (out, w) if need_weights else out


class CoAttentionClassifier(Module):
    """MCAN's head on two inputs: MCA encoder-decoder, attentional reduction of each, sum, LayerNorm, MLP.

    x (N, Lx, d_model) and y (N, Ly, d_model) are already embedded (e.g. word embeddings and projected
    image-patch features); returns class scores (N, num_classes).
    """

    def __init__(self, d_model: int, nhead: int, num_classes: int, num_layers: int = 2,
                 dim_feedforward: int = 512, dropout: float = 0.1, flat_out: int | None = None,
                 classifier_hidden: int | None = None) -> None:
        super().__init__()
        if isinstance(d_model, bool) or not isinstance(d_model, (int, np.integer)) or d_model < 1:
            raise ValueError(f"CoAttentionClassifier: d_model must be a positive integer, got {d_model!r}")
        flat_out = flat_out or 2 * d_model
        self.mca = MCAEncoderDecoder(d_model, nhead, num_layers, dim_feedforward, dropout)
        self.reduce_x = AttentionalReduction(d_model, d_model, flat_out, dropout=dropout)
        self.reduce_y = AttentionalReduction(d_model, d_model, flat_out, dropout=dropout)
        self.norm = LayerNorm(flat_out)
        self.classifier = MLP([flat_out, classifier_hidden or flat_out, num_classes], dropout=dropout)

    def forward(self, x, y, x_mask=None, y_mask=None):
        x, y = self.mca(x, y, x_mask, y_mask)
        return self.classifier(self.norm(self.reduce_x(x, x_mask) + self.reduce_y(y, y_mask)))
