"""Function transforms: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``.

Each transform evaluates ``f`` on private copies of the differentiated arguments and asks the
engine for gradients with ``run_backward(..., inputs=...)``; nothing is accumulated into anyone's
``.grad``. When grad mode is on at call time the backward is recorded (``create_graph``), so the
results can be differentiated again: ``grad(grad(f))`` and ``hessian`` work by composition. A
Tensor argument that requires grad is linked to its private copy by an identity node, so results
stay differentiable with respect to the caller's tensors too.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .dtypes import get_default_dtype, is_floating, to_array
from .engine import enable_grad, is_grad_enabled, run_backward
from .op import Op
from .ops.shape import stack
from .tensor import Tensor


class _Alias(Op):
    """Identity: the private copy of a differentiated argument, still linked to the caller's tensor."""

    name = "identity"

    def forward(self, a):
        return a.view()

    rule = "∂identity(a)/∂a = 1"
    def backward(self, g):
        return g


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """``grad(f)(*args)`` is d f(*args) / d args[argnums] for a scalar-valued ``f``; a tuple when argnums is."""
    _check_callable("grad", f)
    value_and_grad_f = value_and_grad(f, argnums, _name="grad")

    def grad_f(*args, **kwargs):
        return value_and_grad_f(*args, **kwargs)[1]

    _name_like(grad_f, f, "grad")
    return grad_f


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, *, _name: str = "value_and_grad") -> Callable:
    """Like ``grad`` but returns ``(f(*args), gradient)`` from one forward pass."""
    _check_callable(_name, f)
    argnums = _check_argnums(_name, argnums)

    def value_and_grad_f(*args, **kwargs):
        nums = _normalize_argnums(_name, argnums, len(args))
        create = is_grad_enabled()
        args, wrt = _prepare(_name, args, nums, create)
        with enable_grad():
            out = f(*args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"grad: f must return a scalar Tensor, got {type(out).__name__}")
        if out.size != 1:
            raise ValueError(f"grad: f must return a scalar (one-element) Tensor, got shape {out.shape}; "
                             "use jacobian or vjp for non-scalar outputs")
        grads = _grads([out], [np.ones(out.shape, out.dtype)], wrt, create)
        return out, tuple(grads) if isinstance(argnums, tuple) else grads[0]

    _name_like(value_and_grad_f, f, "value_and_grad")
    return value_and_grad_f


def vjp(f: Callable, *primals) -> tuple:
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns ``cotangent @ J`` for every primal, as a tuple.

    ``f`` may return a Tensor or a tuple of Tensors; the cotangent then has the same structure.
    """
    _check_callable("vjp", f)
    create = is_grad_enabled()
    _, wrt = _prepare("vjp", primals, range(len(primals)), create)
    with enable_grad():
        out = f(*wrt)
    outs = _as_outputs("vjp", out)

    def vjp_fn(cotangent):
        cots = cotangent if isinstance(out, (tuple, list)) else (cotangent,)
        if isinstance(out, (tuple, list)) and (not isinstance(cotangent, (tuple, list)) or len(cotangent) != len(outs)):
            raise ValueError(f"vjp: f returned {len(outs)} outputs, so the cotangent must be a tuple of "
                             f"{len(outs)} values")
        cots = [_cotangent("vjp", c, o, k) for k, (c, o) in enumerate(zip(cots, outs))]
        return tuple(_grads(outs, cots, wrt, create))

    return out, vjp_fn


def jvp(f: Callable, primals, tangents) -> tuple:
    """``(f(*primals), J @ tangents)``: the directional derivative of ``f`` along ``tangents``.

    Computed by the double-vjp trick: ``u -> vjp(u)`` is linear in ``u`` and its vjp with
    cotangent ``tangents`` is ``J @ tangents``.
    """
    _check_callable("jvp", f)
    primals = _as_tuple(primals)
    tangents = _as_tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents")
    create = is_grad_enabled()
    _, wrt = _prepare("jvp", primals, range(len(primals)), create)
    tans = []
    for k, (t, x) in enumerate(zip(tangents, wrt)):
        tv = t if isinstance(t, Tensor) else Tensor._wrap(to_array(t, x.dtype))
        if tv.shape != x.shape:
            raise ValueError(f"jvp: tangent {k} has shape {tv.shape} but primal {k} has shape {x.shape}")
        tans.append(tv if tv.dtype == x.dtype else tv.astype(x.dtype))
    with enable_grad():
        out = f(*wrt)
        outs = _as_outputs("jvp", out)
        dummies = [Tensor(np.zeros(o.shape, o.dtype), requires_grad=True) if is_floating(o.dtype) else None
                   for o in outs]
        live = [(o, u) for o, u in zip(outs, dummies) if o.requires_grad and u is not None]
        if live:
            vjps = run_backward([o for o, _ in live], [u for _, u in live], retain_graph=True, create_graph=True,
                                inputs=wrt, allow_unused=True)
        else:
            vjps = [None] * len(wrt)
        roots = [(v, t) for v, t in zip(vjps, tans) if v is not None and v.requires_grad]
    wanted = [u for o, u in live]
    outs_t = [None] * len(wanted)
    if roots:
        outs_t = run_backward([v for v, _ in roots], [t if create else t.data for _, t in roots], retain_graph=True,
                              create_graph=create, inputs=wanted, allow_unused=True)
    by_dummy = {id(u): t for u, t in zip(wanted, outs_t)}
    tangent_out = tuple(_zeros_if_none(None if u is None else by_dummy.get(id(u)), o) for u, o in zip(dummies, outs))
    return out, tangent_out if isinstance(out, (tuple, list)) else tangent_out[0]


def jacobian(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """``jacobian(f)(*args)`` has shape ``out.shape + arg.shape``; tuples when f returns or argnums is a tuple.

    With both tuples the result is indexed ``[output][argnum]``. One backward per output element.
    """
    _check_callable("jacobian", f)
    argnums = _check_argnums("jacobian", argnums)

    def jacobian_f(*args, **kwargs):
        nums = _normalize_argnums("jacobian", argnums, len(args))
        create = is_grad_enabled()
        args, wrt = _prepare("jacobian", args, nums, create)
        with enable_grad():
            out = f(*args, **kwargs)
        outs = _as_outputs("jacobian", out)
        per_output = []
        for o in outs:
            rows = []
            for k in range(o.size):
                seed = np.zeros(o.shape, o.dtype)
                seed.flat[k] = 1
                rows.append(_grads([o], [seed], wrt, create))
            jacs = tuple(_assemble(o, x, [r[j] for r in rows], create) for j, x in enumerate(wrt))
            per_output.append(jacs if isinstance(argnums, tuple) else jacs[0])
        return tuple(per_output) if isinstance(out, (tuple, list)) else per_output[0]

    _name_like(jacobian_f, f, "jacobian")
    return jacobian_f


def hessian(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """``hessian(f)(*args)`` of a scalar ``f``: shape ``arg.shape + arg.shape`` (``[i][j]`` blocks for a tuple)."""
    _check_callable("hessian", f)
    argnums = _check_argnums("hessian", argnums)

    def scalar_f(*args, **kwargs):
        out = f(*args, **kwargs)
        if not isinstance(out, Tensor) or out.size != 1:
            shape = out.shape if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(f"hessian: f must return a scalar (one-element) Tensor, got {shape}")
        return out.reshape(())

    inner = jacobian(jacobian(scalar_f, argnums), argnums)

    def hessian_f(*args, **kwargs):
        _prepare("hessian", args, _normalize_argnums("hessian", argnums, len(args)), False)  # errors name hessian
        return inner(*args, **kwargs)

    _name_like(hessian_f, f, "hessian")
    return hessian_f


# ----------------------------------------------------------------------------- helpers


def _check_callable(name, f):
    """TypeError naming the transform unless ``f`` can be called."""
    if not callable(f):
        raise TypeError(f"{name}: f must be a callable returning Tensors, got {type(f).__name__}")


def _check_argnums(name, argnums):
    """``argnums`` as given (a list becomes a tuple), or TypeError if it is not an int or ints."""
    if isinstance(argnums, list):
        argnums = tuple(argnums)
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums or any(not isinstance(n, (int, np.integer)) or isinstance(n, bool) for n in nums):
        raise TypeError(f"{name}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    return argnums


def _normalize_argnums(name, argnums, nargs):
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    out = []
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"{name}: argnums {n} is out of range for a call with {nargs} positional argument(s)")
        out.append(int(n) % nargs)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: argnums {argnums!r} repeats an argument")
    return out


def _prepare(name, args, nums, create):
    """Replace the differentiated arguments by private float Tensors that require grad.

    Returns the new argument tuple and the list of private tensors (in ``nums`` order). The
    caller's tensors are never mutated; one that requires grad is linked through an identity
    node when the result must stay differentiable.
    """
    args = list(args)
    wrt = []
    for n in nums:
        a = args[n]
        if isinstance(a, Tensor):
            if not is_floating(a.dtype):
                data = a.data.astype(get_default_dtype())
            elif a.requires_grad and create:
                x = _Alias.apply(a)
                args[n] = x
                wrt.append(x)
                continue
            else:
                data = a.data
        else:
            try:
                data = to_array(a, who=name)
            except TypeError:
                data = None
            if data is None or data.dtype.kind not in "fiub":
                dtype = f" with dtype {a.dtype}" if isinstance(a, np.ndarray) else ""
                raise TypeError(f"{name}: cannot differentiate with respect to argument {n} of type "
                                f"{type(a).__name__}{dtype}; pass a Tensor, or an ndarray or number of a real dtype")
            if not is_floating(data.dtype):
                data = data.astype(get_default_dtype())
        x = Tensor._wrap(data)
        x.requires_grad = True
        args[n] = x
        wrt.append(x)
    return tuple(args), wrt


def _grads(roots, seeds, wrt, create):
    """Gradients of ``roots`` (with cotangents ``seeds``) w.r.t. ``wrt``; zeros where unused."""
    live = [(r, s if create or not isinstance(s, Tensor) else s.data) for r, s in zip(roots, seeds) if r.requires_grad]
    if not live:
        return [_zeros(x) for x in wrt]
    with enable_grad():
        res = run_backward([r for r, _ in live], [s for _, s in live], retain_graph=True, create_graph=create,
                           inputs=wrt, allow_unused=True)
    return [_zeros(x) if g is None else _in_dtype(g if isinstance(g, Tensor) else Tensor._wrap(g), x.dtype)
            for g, x in zip(res, wrt)]


def _in_dtype(g, dtype):
    """A gradient in its input's dtype (a float32 argument gets a float32 gradient)."""
    return g if g.dtype == dtype else g.astype(dtype)


def _zeros(x):
    return Tensor._wrap(np.zeros(x.shape, x.dtype))


def _zeros_if_none(g, like):
    if g is None:
        return Tensor._wrap(np.zeros(like.shape, like.dtype))
    return g if isinstance(g, Tensor) else Tensor._wrap(g)


def _assemble(out, x, rows, create):
    """Stack per-output-element gradient rows into a ``out.shape + x.shape`` Jacobian."""
    shape = out.shape + x.shape
    if not rows:
        return Tensor._wrap(np.zeros(shape, x.dtype))
    if create and any(r.requires_grad for r in rows):
        return stack(rows, axis=0).reshape(shape)
    return Tensor._wrap(np.stack([r.data for r in rows]).reshape(shape))


def _as_outputs(name, out):
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"{name}: f must return a Tensor or a tuple of Tensors, but output {k} is "
                            f"{type(o).__name__}")
    return outs


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _cotangent(name, c, out, k):
    """A cotangent for output ``k`` in the output's shape and dtype (a Tensor keeps its graph)."""
    if isinstance(c, Tensor):
        v = c
    else:
        try:
            v = Tensor._wrap(to_array(c, out.dtype))
        except TypeError:
            raise TypeError(f"{name}: cotangent {k} must be a Tensor, ndarray or number, got "
                            f"{type(c).__name__}") from None
    if v.shape != out.shape:
        if v.size == 1 and out.size == 1:
            v = v.reshape(out.shape)
        else:
            raise ValueError(f"{name}: cotangent {k} has shape {v.shape} but the output has shape {out.shape}")
    return v if v.dtype == out.dtype else v.astype(out.dtype)


def _name_like(wrapper, f, prefix):
    name = getattr(f, "__name__", "f")
    wrapper.__name__ = f"{prefix}_{name}"
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = f"{prefix} of {name}."
