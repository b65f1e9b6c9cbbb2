"""Check analytic gradients against central finite differences (first and second order).

``gradcheck`` builds the full Jacobian of ``fn`` twice — once by back-propagating a one-hot
cotangent per output element, once by central differences ``(f(x + eps) - f(x - eps)) / 2eps``
per input element — and compares them entry by entry. Finite differences are only
meaningful in float64, so float32 inputs that require grad are rejected.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .checks import number
from .engine import enable_grad, run_backward
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numeric Jacobians disagree (raised by ``gradcheck``/``gradgradcheck``)."""


def gradcheck(fn: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare ``fn``'s analytic Jacobian with central finite differences for every input that requires grad.

    ``fn(*inputs)`` returns a Tensor or a tuple of Tensors. Raises ``GradcheckError`` naming the
    input, the worst (output element, input element) pair and both values; returns True otherwise.
    The caller's tensors are neither mutated nor given a ``.grad``.
    """
    _check_tolerances("gradcheck", eps, atol, rtol)
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be callable, got {type(fn).__name__}")
    inputs = _as_input_tuple(inputs)
    xs, diff = _fresh_inputs("gradcheck", inputs)
    if not diff:
        raise ValueError("gradcheck: no input is a Tensor that requires grad, so there is nothing to check")

    with enable_grad():
        outs = _outputs("gradcheck", fn(*xs))
    for j, o in enumerate(outs):
        if o.requires_grad and o.dtype != np.float64:
            raise TypeError(f"gradcheck: output {j} has dtype {o.dtype}; finite differences are only meaningful in "
                            "float64, so fn must not cast its result to a lower precision")
    analytic = _analytic_jacobians(outs, [xs[i] for i in diff])
    numeric = _numeric_jacobians(fn, xs, diff, [o.shape for o in outs], eps)

    for k, i in enumerate(diff):
        _compare(i, xs[i].shape, [o.shape for o in outs], analytic[k], numeric[k], atol, rtol)
    return True


def gradgradcheck(fn: Callable, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck the map ``(inputs, v) -> vjp(fn, inputs)(v)`` built with create_graph.

    ``grad_outputs`` (one per float output of ``fn``) default to random float64 values drawn from a
    generator seeded with ``seed``; they are checked as inputs too, like the primal inputs.
    """
    _check_tolerances("gradgradcheck", eps, atol, rtol)
    if not callable(fn):
        raise TypeError(f"gradgradcheck: fn must be callable, got {type(fn).__name__}")
    inputs = _as_input_tuple(inputs)
    xs, diff = _fresh_inputs("gradgradcheck", inputs)
    if not diff:
        raise ValueError("gradgradcheck: no input is a Tensor that requires grad, so there is nothing to check")
    with enable_grad():
        outs = _outputs("gradgradcheck", fn(*xs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        vs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outs]
    else:
        grad_outputs = _as_input_tuple(grad_outputs)
        if len(grad_outputs) != len(outs):
            raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for {len(outs)} outputs of fn")
        vs = []
        for j, (v, o) in enumerate(zip(grad_outputs, outs)):
            arr = np.array(v.data if isinstance(v, Tensor) else v, dtype=np.float64)
            if arr.shape != o.shape:
                raise ValueError(f"gradgradcheck: grad_outputs[{j}] has shape {arr.shape} but output {j} has "
                                 f"shape {o.shape}")
            vs.append(Tensor(arr, requires_grad=True))
    n_in = len(inputs)

    def first_derivative(*args):
        primal, cot = args[:n_in], args[n_in:]
        res = _outputs("gradgradcheck", fn(*primal))
        wrt = [primal[i] for i in diff]
        roots = [(o, v) for o, v in zip(res, cot) if o.requires_grad]
        if not roots:
            return tuple(Tensor._wrap(np.zeros_like(w.data)) for w in wrt)
        grads = run_backward([o for o, _ in roots], [v for _, v in roots], retain_graph=True, create_graph=True,
                             inputs=wrt, allow_unused=True)
        return tuple(Tensor._wrap(np.zeros_like(w.data)) if g is None else g for g, w in zip(grads, wrt))

    return gradcheck(first_derivative, tuple(inputs) + tuple(vs), eps=eps, atol=atol, rtol=rtol)


# ----------------------------------------------------------------------------- helpers


def _check_tolerances(name, eps, atol, rtol):
    number(eps, "eps", name, low=0, low_open=True)
    number(atol, "atol", name, low=0)
    number(rtol, "rtol", name, low=0)


def _as_input_tuple(inputs):
    if isinstance(inputs, Tensor) or not isinstance(inputs, Sequence):
        return (inputs,)
    return tuple(inputs)


def _fresh_inputs(name, inputs):
    """Private float64 leaves standing in for the caller's tensors (so theirs are never touched)."""
    xs = []
    diff = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.dtype != np.float64:
                raise TypeError(f"{name}: input {i} has dtype {x.dtype} and requires grad; finite differences are "
                                "only meaningful in float64: pass inputs created with dtype=np.float64 "
                                "(or call .astype(np.float64) on them)")
            xs.append(Tensor(x.data.copy(), requires_grad=True))
            diff.append(i)
        else:
            xs.append(x)
    return xs, diff


def _outputs(name, result):
    outs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    for j, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"{name}: fn must return a Tensor or a tuple of Tensors, but output {j} is "
                            f"{type(o).__name__}")
    return outs


def _analytic_jacobians(outs, wrt):
    """One (n_out_total, x.size) matrix per input, filled row by row with one backward per output element."""
    n_out = sum(o.size for o in outs)
    jac = [np.zeros((n_out, w.size)) for w in wrt]
    row = 0
    for o in outs:
        if not o.requires_grad or not np.issubdtype(o.dtype, np.floating):
            row += o.size
            continue
        for k in range(o.size):
            seed = np.zeros(o.shape, dtype=o.dtype)
            seed.flat[k] = 1
            grads = run_backward([o], [seed], retain_graph=True, inputs=wrt, allow_unused=True)
            for j, g in enumerate(grads):
                if g is not None:
                    jac[j][row] = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=np.float64).ravel()
            row += 1
    return jac


def _numeric_jacobians(fn, xs, diff, out_shapes, eps):
    """Central differences, perturbing one element of our private copy of each input at a time."""
    n_out = sum(int(np.prod(s)) for s in out_shapes)
    result = []
    for i in diff:
        x = xs[i].data
        jac = np.zeros((n_out, x.size))
        flat = x.reshape(-1)  # a view: x is our own contiguous copy
        for k in range(x.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = _evaluate(fn, xs, out_shapes)
            flat[k] = orig - eps
            minus = _evaluate(fn, xs, out_shapes)
            flat[k] = orig
            jac[:, k] = (plus - minus) / (2 * eps)
        result.append(jac)
    return result


def _evaluate(fn, xs, out_shapes):
    outs = _outputs("gradcheck", fn(*xs))
    shapes = [o.shape for o in outs]
    if shapes != list(out_shapes):
        raise ValueError(f"gradcheck: fn returned outputs of shapes {shapes} for perturbed inputs but "
                         f"{list(out_shapes)} at the original point")
    if not outs:
        return np.zeros(0)
    return np.concatenate([np.asarray(o.data, dtype=np.float64).ravel() for o in outs])


def _compare(i, in_shape, out_shapes, a, n, atol, rtol):
    """Raise GradcheckError for input ``i`` if any Jacobian entry misses the tolerance; name the worst one."""
    if a.size == 0:
        return
    excess = np.abs(a - n) - (atol + rtol * np.abs(n))
    nan_mismatch = np.isnan(a) != np.isnan(n)
    excess = np.where(nan_mismatch, np.inf, np.nan_to_num(excess, nan=-np.inf))
    bad = excess > 0
    if not bad.any():
        return
    r, c = np.unravel_index(np.argmax(excess), excess.shape)
    out_idx, out_elem = _locate(r, out_shapes)
    in_elem = np.unravel_index(c, in_shape) if in_shape else ()
    where = f"output {out_idx} element {tuple(int(v) for v in out_elem)}" if len(out_shapes) > 1 else \
        f"output element {tuple(int(v) for v in out_elem)}"
    msg = (f"gradcheck: Jacobian mismatch for input {i} (shape {in_shape}): worst at {where}, input element "
           f"{tuple(int(v) for v in in_elem)}: analytic {float(a[r, c])!r} vs numeric {float(n[r, c])!r} "
           f"(tolerance atol={atol} + rtol={rtol} * |numeric|); {int(bad.sum())} of {bad.size} entries differ")
    if a.size <= 64:
        msg += f"\nanalytic Jacobian:\n{a}\nnumeric Jacobian:\n{n}"
    raise GradcheckError(msg)


def _locate(row, out_shapes):
    """Map a flat Jacobian row to (output index, element index within that output)."""
    for j, s in enumerate(out_shapes):
        n = int(np.prod(s))
        if row < n:
            return j, (np.unravel_index(row, s) if s else ())
        row -= n
    raise IndexError(row)
