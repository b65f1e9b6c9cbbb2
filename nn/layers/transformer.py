"""Transformer encoder: ``TransformerEncoderLayer``, ``TransformerEncoder`` (as PyTorch's) and the
sinusoidal ``PositionalEncoding`` of "Attention Is All You Need"."""
from __future__ import annotations

import copy
import math

import numpy as np

from autograd.checks import float_dtype

from .. import functional as F
from ..module import Module
from .attention import MultiheadAttention
from .containers import ModuleList
from .dropout import Dropout
from .linear import Linear
from .norm import LayerNorm

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with dropout, a residual and LayerNorm.

    Post-norm (default): x = norm1(x + SA(x)); x = norm2(x + FF(x)). ``norm_first``: x = x + SA(norm1(x));
    x = x + FF(norm2(x)). FF(x) = linear2(dropout(activation(linear1(x)))). Submodule names match PyTorch's
    (self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2), so state_dicts load key for key.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None) -> None:
        super().__init__()
        dtype = float_dtype(dtype, "TransformerEncoderLayer")
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable, "
                                 f"got {activation!r}")
            activation = _ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable, "
                            f"got {type(activation).__name__}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation
        self.batch_first = batch_first

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        """``src`` (S, N, E), or (N, S, E) with batch_first; masks as MultiheadAttention's (True = masked out)."""
        x = F._tensor(src, "TransformerEncoderLayer")
        if x.dtype.kind == "f" and x.dtype != self.linear1.weight.dtype:
            raise TypeError(f"TransformerEncoderLayer: input has dtype {x.dtype} but the layer's parameters are "
                            f"{self.linear1.weight.dtype}; cast the input or call .to({x.dtype})")
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                             need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(out)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` (children ``layers.0`` ...), then an optional ``norm``."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        """``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch compatibility (no effect here)."""
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got {type(encoder_layer).__name__}")
        if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
            raise ValueError(f"TransformerEncoder: num_layers must be a positive integer, got {num_layers!r}")
        if norm is not None and not isinstance(norm, Module):
            raise TypeError(f"TransformerEncoder: norm must be a Module or None, got {type(norm).__name__}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(int(num_layers))])
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        """Run ``src`` through every layer with the same masks, then ``norm``."""
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class PositionalEncoding(Module):
    """x + PE[:L] then dropout, PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).

    Input (L, N, d_model), or (N, L, d_model) with ``batch_first``. The table is the non-persistent buffer
    ``pe`` (max_len, d_model): fixed, not learned, not in the state_dict.
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.1, batch_first: bool = False,
                 dtype=None) -> None:
        super().__init__()
        for what, val in (("d_model", d_model), ("max_len", max_len)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"PositionalEncoding: {what} must be a positive integer, got {val!r}")
        self.d_model, self.max_len, self.batch_first = int(d_model), int(max_len), batch_first
        self.dropout = Dropout(dropout)
        pos = np.arange(max_len, dtype=np.float64)[:, None]
        div = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
        pe = np.zeros((max_len, d_model))
        pe[:, 0::2] = np.sin(pos * div)
        pe[:, 1::2] = np.cos(pos * div[: d_model // 2])
        self.register_buffer("pe", pe.astype(float_dtype(dtype, "PositionalEncoding")), persistent=False)

    def forward(self, x):
        x = F._tensor(x, "PositionalEncoding")
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"PositionalEncoding: input of shape {x.shape} must be "
                             f"{'(N, L, d_model)' if self.batch_first else '(L, N, d_model)'} with "
                             f"d_model={self.d_model}")
        L = x.shape[1] if self.batch_first else x.shape[0]
        if L > self.max_len:
            raise ValueError(f"PositionalEncoding: sequence length {L} of input shape {x.shape} exceeds "
                             f"max_len={self.max_len}")
        pe = self.pe.data[:L].astype(x.dtype, copy=False)
        return self.dropout(x + (pe[None] if self.batch_first else pe[:, None]))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"
