"""Matrix products: batched, broadcasting ``matmul`` (NumPy's rules, 1-D operands included)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import INPUT, Input, Op, TensorLike, as_tensor_arg
from .reduce import broadcast_to


def _swap_last(x):
    return x.swapaxes(-1, -2)


class Matmul(Op):
    """a @ b; d/da = g @ bᵀ, d/db = aᵀ @ g (batch axes are summed back by the engine)."""

    name = "matmul"

    def forward(self, a, b):
        self.saved = (INPUT[0], INPUT[1])
        return np.matmul(a, b)

    rule = "∂(A·B)/∂A: ∂L/∂A = ∂L/∂Y·Bᵀ, ∂L/∂B = Aᵀ·∂L/∂Y"
    def backward(self, g):
        a, b = self.saved
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if self.needs_grad(0) else None), (g * a if self.needs_grad(1) else None)
        # Promote 1-D operands to matrices the way NumPy does, and g to match.
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))
        ga = gb = None
        if self.needs_grad(0):
            ga = g @ _swap_last(b2)
            if a.ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if self.needs_grad(1):
            gb = _swap_last(a2) @ g
            if b.ndim == 1:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb


def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    """Matrix product with NumPy's rules: batch axes broadcast, 1-D operands are promoted."""
    a, b = as_tensor_arg(a, "matmul"), as_tensor_arg(b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align ({k_a} != {k_b})")
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: batch dimensions of shapes {a.shape} and {b.shape} cannot be broadcast") from None
    return Matmul.apply(a, b)


# ----------------------------------------------------------------------------- einsum

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_np(subscripts, *arrays):
    """np.einsum; contraction-order optimisation (BLAS) pays off beyond two operands or small arrays."""
    optimize = len(arrays) > 2 or (len(arrays) == 2 and max(np.size(a) for a in arrays) > 256)
    return np.einsum(subscripts, *arrays, optimize=optimize)


class Einsum(Op):
    """Einstein summation over explicit single-letter labels (no ellipsis: the public function
    expands it). The gradient of operand i is another einsum: the output gradient contracted with
    the other operands, with a ones vector for each label summed only in operand i and an
    identity matrix for each repeated label of operand i (a diagonal)."""

    name = "einsum"

    def forward(self, *arrays, subscripts=""):
        self.saved = (subscripts, *(Input(i) for i in range(len(arrays))))
        return np.asarray(_einsum_np(subscripts, *arrays))

    rule = "∂einsum/∂x: the gradient contracted with the other operands (einsum with x's subscripts)"
    def backward(self, g):
        subscripts, *arrays = self.saved
        ins, out = subscripts.split("->")
        terms = ins.split(",")
        grads = tuple(_einsum_operand_grad(g, out, terms, arrays, i) if self.needs_grad(i) else None
                      for i in range(len(terms)))
        return grads[0] if len(grads) == 1 else grads


def _einsum_operand_grad(g, out, terms, arrays, i):
    """d(einsum)/d(operand i) applied to ``g``, as one einsum call."""
    target = terms[i]
    sizes = {c: n for c, n in zip(target, arrays[i].shape)}
    in_subs = [out] + [t for j, t in enumerate(terms) if j != i]
    in_ops = [g] + [a for j, a in enumerate(arrays) if j != i]
    available = set("".join(in_subs))
    fresh = iter(c for c in _LETTERS if c not in set("".join(terms) + out))
    result = []
    seen = set()
    for c in target:
        if c in seen:  # a repeated label: the gradient lives on the diagonal
            f = next(fresh)
            in_subs.append(c + f)
            in_ops.append(np.eye(sizes[c], dtype=g.dtype))
            result.append(f)
            continue
        seen.add(c)
        result.append(c)
        if c not in available:  # summed only here: the gradient is constant along this axis
            in_subs.append(c)
            in_ops.append(np.ones(sizes[c], dtype=g.dtype))
            available.add(c)
    return _einsum(",".join(in_subs) + "->" + "".join(result), *in_ops)


def _einsum(subscripts, *arrays):
    """einsum for backward code: records an Einsum when some operand is a Tensor, else NumPy."""
    if any(isinstance(a, Tensor) for a in arrays):
        return Einsum.apply(*arrays, subscripts=subscripts)
    return np.asarray(_einsum_np(subscripts, *arrays))


def _parse_einsum(subscripts, shapes):
    """Validate ``subscripts`` against the operand shapes; return explicit input terms, output,
    and for each operand the shape it must be broadcast to (ellipsis and size-1 labels)."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"einsum: subscripts {subscripts!r} contain '->' more than once")
    ins, arrow, out = spec.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands but {len(shapes)} were given")
    for term in terms + ([out] if arrow else []):
        body = term.replace("...", "", 1)
        bad = [c for c in body if c not in _LETTERS]
        if bad:
            raise ValueError(f"einsum: invalid character {bad[0]!r} in subscripts {subscripts!r} "
                             "(labels are letters, '...' at most once per operand)")
    used = set(ins.replace(".", "").replace(",", ""))
    # Ellipsis: right-aligned broadcast of the dimensions it stands for in each operand.
    ell_shapes = []
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        n_labels = len(term.replace("...", ""))
        if "..." in term:
            if len(shape) < n_labels:
                raise ValueError(f"einsum: operand {k} of shape {shape} has fewer dimensions than the "
                                 f"{n_labels} labels of {term!r}")
            start = term.index("...")  # labels before '...' are one character each
            ell_shapes.append(tuple(shape[start:start + len(shape) - n_labels]))
        elif len(shape) != n_labels:
            raise ValueError(f"einsum: operand {k} of shape {shape} has {len(shape)} dimensions but "
                             f"{term!r} has {n_labels} labels")
        else:
            ell_shapes.append(None)
    present = [s for s in ell_shapes if s is not None]
    try:
        ell = np.broadcast_shapes(*present) if present else ()
    except ValueError:
        raise ValueError(f"einsum: the '...' dimensions {', '.join(map(str, present))} cannot be broadcast "
                         "together") from None
    free = [c for c in _LETTERS if c not in used]
    if len(free) < len(ell):
        raise ValueError(f"einsum: too many labels in {subscripts!r}")
    ell_letters = "".join(free[:len(ell)])
    explicit = []
    for term, es in zip(terms, ell_shapes):
        explicit.append(term if es is None else term.replace("...", ell_letters[len(ell) - len(es):]))
    if arrow:
        if "..." in out:
            out = out.replace("...", ell_letters)
        elif ell:
            raise ValueError(f"einsum: output {out!r} of {subscripts!r} needs '...' for the broadcast "
                             f"dimensions {ell}")
        for c in out:
            if c in ell_letters:
                continue
            if out.count(c) > 1:
                raise ValueError(f"einsum: output label {c!r} appears more than once in {subscripts!r}")
            if c not in used:
                raise ValueError(f"einsum: output label {c!r} of {subscripts!r} appears in no operand")
    else:
        counts = "".join(explicit)
        out = ell_letters + "".join(sorted(c for c in used if counts.count(c) == 1))  # NumPy: ASCII order
    # Label sizes: equal, or 1 (broadcast like NumPy).
    sizes = {}
    for k, (term, shape) in enumerate(zip(explicit, shapes)):
        own = {}
        for c, n in zip(term, shape):  # a label repeated within one operand (a diagonal) has one size there
            if own.setdefault(c, n) != n:
                raise ValueError(f"einsum: label {c!r} is repeated in operand {k} with sizes {own[c]} and {n} "
                                 f"(shape {shape}); a diagonal needs equal sizes")
        for c, n in zip(term, shape):
            m = sizes.get(c)
            if m is None or m == 1:
                sizes[c] = n
            elif n not in (1, m):
                raise ValueError(f"einsum: label {c!r} has size {m} in one operand and {n} in operand {k} "
                                 f"(shapes {', '.join(map(str, shapes))})")
    targets = [tuple(sizes[c] for c in term) for term in explicit]
    return explicit, out, targets


def einsum(subscripts: str, *operands: TensorLike) -> Tensor:
    """Einstein summation with NumPy's rules: implicit or explicit ('->') output, '...' broadcasting,
    repeated labels (diagonals, traces); differentiable in every operand to any order."""
    operands = [as_tensor_arg(o, "einsum") for o in operands]
    if not operands:
        raise ValueError("einsum: at least one operand is required")
    terms, out, targets = _parse_einsum(subscripts, [o.shape for o in operands])
    # Labels repeated within one operand take its diagonal; collapse any size-1 broadcast first.
    operands = [o if o.shape == t else broadcast_to(o, t) for o, t in zip(operands, targets)]
    return Einsum.apply(*operands, subscripts=",".join(terms) + "->" + out)
