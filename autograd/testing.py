"""Property-based testing of gradients: hypothesis strategies built from the op registry's domains.

Write ``@given(tensors(domain="positive")) def test(x): check_gradients(my_fn, x)`` to check a
function's first and second derivatives against finite differences on drawn inputs.
``op_inputs("log")`` draws valid inputs for any registry entry. Needs ``hypothesis``
(``pip install graphgrad[test]``).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("autograd.testing needs hypothesis: pip install 'graphgrad[test]' (or pip install hypothesis)"
                      ) from exc

from . import registry
from .registry import Domain, OpEntry
from .tensor import Tensor

__all__ = ["broadcastable_shapes", "check_gradients", "domain", "op_inputs", "shapes", "tensors"]

MAX_SIDE = 3
MAX_SIZE = 24  # elements per drawn tensor: gradgradcheck costs grow with the square of this

_ALIASES = {"real": registry.REAL, "positive": registry.POSITIVE, "nonzero": registry.NONZERO,
            "unit": registry.UNIT, "distinct": registry.DISTINCT, "index": registry.INDEX}


def domain(spec: str | Domain) -> Domain:
    """A ``Domain`` from itself or a name: real, positive, nonzero, unit, distinct, index (or a full name)."""
    if isinstance(spec, Domain):
        return spec
    found = _ALIASES.get(spec) or registry.DOMAINS.get(spec)
    if found is None:
        raise ValueError(f"domain: unknown domain {spec!r}; known: {', '.join(sorted(_ALIASES))}")
    return found


_resolve_domain = domain  # ``tensors`` has a parameter named ``domain``


# ----------------------------------------------------------------------------- shapes


def _size_ok(shape, max_size):
    return math.prod(shape) <= max_size


def shapes(min_ndim: int = 0, max_ndim: int = 4, min_side: int = 1, max_side: int = MAX_SIDE,
           max_size: int = MAX_SIZE) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes (0-d included, size-1 axes likely) with at most ``max_size`` elements."""
    return hnp.array_shapes(min_dims=min_ndim, max_dims=max_ndim, min_side=min_side, max_side=max_side).filter(
        lambda s: _size_ok(s, max_size))


def broadcastable_shapes(n: int = 2, min_ndim: int = 0, max_ndim: int = 4, min_side: int = 1,
                         max_side: int = MAX_SIDE, max_size: int = MAX_SIZE) -> st.SearchStrategy[tuple]:
    """Tuples of ``n`` shapes that broadcast together under NumPy's rules (size-1 and missing axes drawn)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_ndim, max_dims=max_ndim, min_side=min_side,
                                             max_side=max_side).filter(
        lambda b: _size_ok(b.result_shape, max_size)).map(lambda b: tuple(b.input_shapes))


# ----------------------------------------------------------------------------- values


def _elements(dom: Domain):
    el = st.floats(dom.low, dom.high, allow_nan=False, allow_infinity=False)
    if dom.avoid:
        el = el.filter(lambda v: all(abs(v - p) >= dom.margin for p in dom.avoid))
    return el


@st.composite
def _distinct_values(draw, n, dom: Domain):
    """``n`` values pairwise at least ``dom.margin`` apart, in random order (a shuffled jittered grid)."""
    spacing = max(dom.margin, 1e-3) * 1.5
    base = (np.arange(n) - (n - 1) / 2) * spacing
    jitter = draw(hnp.arrays(np.float64, n, elements=st.floats(-spacing / 6, spacing / 6)))
    order = draw(st.permutations(range(n)))
    return (base + jitter)[list(order)]


def _array(draw, shape, dom: Domain, dtype, elements=None):
    if dom.integer:
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(int(dom.low), int(dom.high))))
    if dom.distinct and elements is None:
        return draw(_distinct_values(math.prod(shape), dom)).reshape(shape).astype(dtype)
    if elements is not None:
        return draw(hnp.arrays(dtype, shape, elements=elements))
    return draw(hnp.arrays(np.float64, shape, elements=_elements(dom))).astype(dtype)  # drawn in float64, then cast


@st.composite
def tensors(draw, shape=None, dtype=np.float64, elements=None, domain: str | Domain = "real",
            requires_grad: bool = True):
    """Tensors of a given (tuple or int), drawn (``shape=None``) or strategy-drawn shape with values in ``domain``.

    ``elements`` (a hypothesis strategy for one value) overrides the domain. Integer domains give
    index arrays (no grad).
    """
    dom = _resolve_domain(domain)
    if shape is None:
        shape = draw(shapes())
    elif isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    arr = _array(draw, shape, dom, np.dtype(dtype), elements)
    return Tensor(arr, requires_grad=requires_grad and not dom.integer)


# ----------------------------------------------------------------------------- registry entries


def _entry(op) -> OpEntry:
    return op if isinstance(op, OpEntry) else registry.get(op)


def _constrain(shape, opts):
    """Apply an entry's per-axis constraints (size-1 axes, even last axis) to a drawn shape."""
    shape = list(shape)
    for a in opts.get("size_one_axes", ()):
        shape[a] = 1
    if opts.get("even_last") and shape:
        shape[-1] = 2 * max(1, shape[-1] // 2)
    return tuple(shape)


@st.composite
def _matmul_shapes(draw, form):
    m, k, n = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    if form == "vv":
        return (k,), (k,)
    if form == "mv":
        return (m, k), (k,)
    if form == "vm":
        return (k,), (k, n)
    if form == "mm":
        return (m, k), (k, n)
    b1, b2 = draw(broadcastable_shapes(2, max_ndim=2, max_side=2))
    return b1 + (m, k), b2 + (k, n)


@st.composite
def _einsum_shapes(draw, subscripts):
    ins = subscripts.split("->")[0].split(",")
    labels = sorted(set("".join(ins).replace(".", "")))
    size = {c: draw(st.integers(1, MAX_SIDE)) for c in labels}
    with_ell = [t for t in ins if "..." in t]
    ell = iter(draw(broadcastable_shapes(len(with_ell), max_ndim=2, max_side=2)) if with_ell else ())
    out = []
    for t in ins:
        head, dots, tail = t.partition("...")
        out.append(tuple(size[c] for c in head) + (next(ell) if dots else ()) + tuple(size[c] for c in tail))
    return tuple(out)


@st.composite
def _conv_shapes(draw, opts):
    """Tiny conv-like shapes: input (N, C, H, W), then weight (O, C/groups, kH, kW) and bias (O,) if asked."""
    groups = opts.get("groups", 1)
    stride, dilation = opts.get("stride", (1, 1)), opts.get("dilation", (1, 1))
    padding = opts.get("padding", (0, 0, 0, 0))
    kernel = opts.get("kernel") or tuple(draw(st.integers(1, 3 if groups == 1 else 2)) for _ in range(2))
    n, cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    if groups * cg * og * kernel[0] * kernel[1] > MAX_SIZE:  # keep gradgradcheck cheap: a small weight
        cg = og = 1
    c = groups * cg
    sides = []
    for a in (0, 1):
        smallest = max(1, dilation[a] * (kernel[a] - 1) + 1 - padding[2 * a] - padding[2 * a + 1])
        sides.append(draw(st.integers(smallest, smallest + stride[a])))
    if groups > 1 or n * c * sides[0] * sides[1] > MAX_SIZE:  # and a small input
        n = 1
    x = (n, c, *sides)
    if not opts.get("weight"):
        return (x,)
    w = (groups * og, c // groups, *kernel)
    return (x, w, (groups * og,)) if opts.get("bias") else (x, w)


def _entry_shapes(entry: OpEntry):
    opts = dict(entry.shape_opts)
    kind = entry.shapes
    lim = {k: opts[k] for k in ("min_ndim", "max_ndim", "min_side", "max_side") if k in opts}
    if kind in ("reduction", "shape", "index") or (kind == "elementwise" and entry.arity == 1):
        return shapes(**lim).map(lambda s: (_constrain(s, opts),))
    if kind == "elementwise":
        return broadcastable_shapes(entry.arity, **lim).map(lambda ss: tuple(_constrain(s, opts) for s in ss))
    if kind == "same":
        return shapes(**lim).map(lambda s: (_constrain(s, opts),) * entry.arity)
    if kind == "matmul":
        return _matmul_shapes(opts.get("form", "mm"))
    if kind == "einsum":
        return _einsum_shapes(opts["subscripts"])
    if kind == "conv":
        return _conv_shapes(opts)
    if kind == "take":
        first = shapes(min_ndim=1, max_size=MAX_SIZE // 2).map(lambda s: (max(2, s[0]),) + s[1:])
        return st.tuples(first, shapes(max_ndim=2))
    raise ValueError(f"op_inputs: entry {entry.id} has unknown shape kind {kind!r}")


@st.composite
def op_inputs(draw, op: str | OpEntry, dtype=np.float64):
    """Valid inputs for a registry entry (an ``OpEntry`` or its id, e.g. ``"sum[axis=0]"``, or a name
    with one entry): float inputs are Tensors requiring grad, integer-domain inputs are index arrays."""
    entry = _entry(op)
    in_shapes = draw(_entry_shapes(entry))
    distinct = [i for i, d in enumerate(entry.domains) if d.distinct]
    pool = None
    if distinct:  # no ties within or across the inputs that must be tie-free
        total = sum(math.prod(in_shapes[i]) for i in distinct)
        pool = iter(draw(_distinct_values(total, entry.domains[distinct[0]])))
    inputs = []
    for i, (shape, dom) in enumerate(zip(in_shapes, entry.domains)):
        if dom.integer:
            inputs.append(_array(draw, shape, dom, np.int64))
        elif dom.distinct:
            vals = np.array([next(pool) for _ in range(math.prod(shape))], dtype=dtype).reshape(shape)
            inputs.append(Tensor(vals, requires_grad=True))
        else:
            inputs.append(Tensor(_array(draw, shape, dom, np.dtype(dtype)), requires_grad=True))
    return tuple(inputs)


# ----------------------------------------------------------------------------- the property helper


def check_gradients(fn: Callable, *inputs, order: int = 2, eps: float = 1e-6, atol: float = 1e-5,
                    rtol: float = 1e-3) -> None:
    """Check ``fn``'s gradients at ``inputs`` against finite differences: gradcheck, and gradgradcheck
    when ``order`` is 2. Raises ``GradcheckError`` saying which order failed, for which function and shapes."""
    from .gradcheck import GradcheckError, gradcheck, gradgradcheck

    if order not in (1, 2):
        raise ValueError(f"check_gradients: order must be 1 or 2, got {order!r}")
    owner = getattr(fn, "__self__", None)  # a bound classmethod such as MyFunction.apply
    if isinstance(owner, type):
        label = f"{owner.__name__}.{fn.__name__}"
    else:
        label = getattr(fn, "__qualname__", None) or repr(fn)
    shapes_txt = ", ".join(str(x.shape) if hasattr(x, "shape") else repr(x) for x in inputs)
    checks = [("first", gradcheck)] + ([("second", gradgradcheck)] if order == 2 else [])
    for what, check in checks:
        try:
            check(fn, inputs, eps=eps, atol=atol, rtol=rtol)
        except GradcheckError as e:
            raise GradcheckError(f"check_gradients: {what} derivatives of {label} are wrong for inputs of shapes "
                                 f"({shapes_txt}):\n{e}") from None
