"""``MultiheadAttention``: PyTorch's module (parameters, masks, return values) on autograd ops.

A query row whose keys are all masked gets zero attention weights, so its attention output is
``out_proj.bias`` (PyTorch's module gives NaN there); forward and backward stay finite.
"""
from __future__ import annotations

import numpy as np

import autograd as ag
from autograd.checks import float_dtype
from autograd.tensor import Tensor

from .. import functional as F
from .. import init
from ..functional_attention import attention
from ..module import Module, Parameter
from .linear import Linear


def _shape(x):
    return tuple(x.shape) if isinstance(x, (Tensor, np.ndarray)) else np.shape(x)


class MultiheadAttention(Module):
    """Multi-head attention: heads_i = softmax(Q W_qᵢ (K W_kᵢ)ᵀ / √d + mask) V W_vᵢ, concatenated, then ``out_proj``.

    Parameters as PyTorch: ``in_proj_weight`` (3E, E) when key and value have ``embed_dim`` features, else
    ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim); ``in_proj_bias`` (3E);
    ``out_proj`` (a Linear E -> E); ``bias_k``/``bias_v`` (1, 1, E) with ``add_bias_kv``. Inputs are
    (L, N, E) or, with ``batch_first``, (N, L, E), or unbatched (L, E). ``forward`` returns
    ``(attn_output, attn_weights or None)``; boolean masks are True where attention is NOT allowed.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, dtype=None) -> None:
        super().__init__()
        for what, val in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"MultiheadAttention: {what} must be a positive integer, got {val!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        F._check_p(dropout, "MultiheadAttention")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        for what, val in (("kdim", kdim), ("vdim", vdim)):
            if val is not None and (isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1):
                raise ValueError(f"MultiheadAttention: {what} must be a positive integer or None, got {val!r}")
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.add_zero_attn = add_zero_attn
        dtype = float_dtype(dtype, "MultiheadAttention")
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * E, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype=dtype))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's init: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # ------------------------------------------------------------------ checks

    def _name(self) -> str:
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}, " \
               f"batch_first={self.batch_first})"

    def _check_inputs(self, query, key, value) -> bool:
        """Validate the three shapes; True when batched."""
        qs, ks, vs = _shape(query), _shape(key), _shape(value)
        name = self._name()
        if len(qs) not in (2, 3) or len(ks) != len(qs) or len(vs) != len(qs):
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(f"{name}: query, key and value must all be 3-D {layout} or all 2-D unbatched (L, E), "
                             f"got shapes {qs}, {ks}, {vs}")
        for what, s, d in (("query", qs, self.embed_dim), ("key", ks, self.kdim), ("value", vs, self.vdim)):
            if s[-1] != d:
                raise ValueError(f"{name}: {what} of shape {s} must have {d} features in its last dimension "
                                 f"({'embed_dim' if what == 'query' else what[0] + 'dim'}={d})")
        batched = len(qs) == 3
        seq = 1 if batched and self.batch_first else 0
        if ks[seq] != vs[seq]:
            raise ValueError(f"{name}: key of shape {ks} and value of shape {vs} must have the same sequence "
                             f"length (dimension {seq})")
        if batched:
            b = 0 if self.batch_first else 1
            if not qs[b] == ks[b] == vs[b]:
                raise ValueError(f"{name}: query {qs}, key {ks} and value {vs} have batch sizes {qs[b]}, {ks[b]}, "
                                 f"{vs[b]} along dimension {b}; they must agree (is batch_first={self.batch_first} "
                                 f"right for these inputs?)")
        for what, x in (("query", query), ("key", key), ("value", value)):
            dt = x.dtype if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x).dtype
            pdt = self.out_proj.weight.dtype
            if dt.kind != "f":
                raise TypeError(f"{name}: {what} must be floating point, got dtype {dt}")
            if dt != pdt:
                raise TypeError(f"{name}: {what} has dtype {dt} but the module's parameters are {pdt}; "
                                f"cast the input or call .to({dt})")
        return batched

    def _masks(self, attn_mask, key_padding_mask, N: int, L: int, S: int, batched: bool):
        """(keep bool ndarray or None, additive float or None), each broadcastable to (N, H, L, S)."""
        name, H = self._name(), self.num_heads
        keep = additive = None

        def merge(m, shaped):
            nonlocal keep, additive
            arr = m.data if isinstance(m, Tensor) else np.asarray(m)
            if arr.dtype == np.bool_:
                k = ~arr.reshape(shaped)
                keep = k if keep is None else keep & k
            elif arr.dtype.kind == "f":
                a = m.reshape(shaped) if isinstance(m, Tensor) else arr.reshape(shaped)
                additive = a if additive is None else additive + a
            else:
                raise TypeError(f"{name}: masks must be boolean or floating point, got dtype {arr.dtype}")

        if attn_mask is not None:
            s = _shape(attn_mask)
            if s == (L, S):
                merge(attn_mask, (1, 1, L, S))
            elif s == (N * H if batched else H, L, S):
                merge(attn_mask, (N, H, L, S))
            else:
                raise ValueError(f"{name}: attn_mask of shape {s} must be (L, S)=({L}, {S}) or "
                                 f"({'N·num_heads' if batched else 'num_heads'}, L, S)=({N * H}, {L}, {S})")
        if key_padding_mask is not None:
            s = _shape(key_padding_mask)
            want = (N, S) if batched else (S,)
            if s != want:
                raise ValueError(f"{name}: key_padding_mask of shape {s} must be "
                                 f"{'(N, S)' if batched else '(S,)'}={want}")
            merge(key_padding_mask, (N, 1, 1, S))
        return keep, additive

    # ------------------------------------------------------------------ forward

    def _project(self, query, key, value):
        """q, k, v = the three input projections (one matmul and a 3-way split for self-attention)."""
        b = self.in_proj_bias
        E = self.embed_dim
        if self._qkv_same_embed_dim and query is key and key is value:
            return tuple(ag.split(F.linear(query, self.in_proj_weight, b), 3, axis=-1))
        if self._qkv_same_embed_dim:
            w_q, w_k, w_v = ag.split(self.in_proj_weight, 3, axis=0)
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b_q, b_k, b_v = ag.split(b, 3, axis=0) if b is not None else (None, None, None)
        if self._qkv_same_embed_dim and key is value:
            w_kv = ag.concatenate([w_k, w_v], axis=0)
            b_kv = ag.concatenate([b_k, b_v], axis=0) if b is not None else None
            k, v = ag.split(F.linear(key, w_kv, b_kv), [E], axis=-1)
            return F.linear(query, w_q, b_q), k, v
        return F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        """(attn_output, attn_weights): output shaped like query; weights (N, L, S), or (N, num_heads, L, S)
        when not ``average_attn_weights``, or None when not ``need_weights``."""
        batched = self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError(f"{self._name()}: is_causal=True is a hint that attn_mask is the causal mask; "
                             f"pass attn_mask too")
        q, k, v = (F._tensor(t, "MultiheadAttention") for t in (query, key, value))
        same_kv, same_qk = key is value, query is key
        if not batched:
            q, k, v = q.reshape((1,) + q.shape), k.reshape((1,) + k.shape), v.reshape((1,) + v.shape)
        elif not self.batch_first:
            q, k, v = q.swapaxes(0, 1), k.swapaxes(0, 1), v.swapaxes(0, 1)
        if same_kv:
            v = k
            if same_qk:
                q = k
        N, L, S = q.shape[0], q.shape[1], k.shape[1]
        keep, additive = self._masks(attn_mask, key_padding_mask, N, L, S, batched)
        q, k, v = self._project(q, k, v)
        if self.bias_k is not None:
            k = ag.concatenate([k, ag.broadcast_to(self.bias_k, (N, 1, self.embed_dim))], axis=1)
            v = ag.concatenate([v, ag.broadcast_to(self.bias_v, (N, 1, self.embed_dim))], axis=1)
            keep, additive = _pad_masks(keep, additive)
        if self.add_zero_attn:
            zeros = np.zeros((N, 1, self.embed_dim), dtype=k.dtype)
            k, v = ag.concatenate([k, zeros], axis=1), ag.concatenate([v, zeros], axis=1)
            keep, additive = _pad_masks(keep, additive)
        heads = self._heads
        out, weights = attention(heads(q), heads(k), heads(v), keep, additive, self.dropout, self.training)
        out = self.out_proj(out.transpose(0, 2, 1, 3).reshape(N, L, self.embed_dim))
        if not batched:
            out = out.reshape(L, self.embed_dim)
        elif not self.batch_first:
            out = out.swapaxes(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights if batched else weights.reshape(weights.shape[1:]))

    def _heads(self, x):
        """(N, T, E) -> (N, num_heads, T, head_dim)."""
        n, t = x.shape[0], x.shape[1]
        return x.reshape(n, t, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")


def _pad_masks(keep, additive):
    """Append one always-allowed key (the bias_k / zero-attention slot) to both masks."""
    if keep is not None:
        keep = np.concatenate([keep, np.ones(keep.shape[:-1] + (1,), dtype=bool)], axis=-1)
    if additive is not None:
        pad = np.zeros(additive.shape[:-1] + (1,), dtype=additive.dtype)
        additive = ag.concatenate([additive, pad], axis=-1) if isinstance(additive, Tensor) else \
            np.concatenate([additive, pad], axis=-1)
    return keep, additive
