"""Elementwise ops: forward on arrays, backward beside it (see ``autograd.op`` for the two modes).

Binary ops broadcast like NumPy; the engine sums each gradient back to its input's
shape with ``engine.unbroadcast``, so backward here returns full-shape gradients.
"""
from __future__ import annotations

import math

import numpy as np

from ..dtypes import real_dtype
from ..op import unary_entry
from ..tensor import Tensor
from .base import (
    FLOAT_DTYPES,
    INPUT,
    ONE,
    OUTPUT,
    SAVE_OUTPUT,
    ZERO,
    Op,
    TensorLike,
    as_float,
    as_index_array,
    as_operand,
    as_tensor_arg,
    dual,
    scalar_operand,
)


def _check_broadcast(name, a, b):
    """ValueError naming the op and both shapes when ``a`` and ``b`` do not broadcast together."""
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise ValueError(f"{name}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together") from None


def _binary_forward(name, fn, a, b):
    try:
        return fn(a, b)
    except ValueError:
        raise ValueError(f"{name}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together") from None


# ----------------------------------------------------------------------------- binary


class Add(Op):
    """a + b; the gradient passes unchanged to both sides."""

    name = "add"

    def forward(self, a, b):
        return np.add(a, b)  # shapes that do not broadcast: the public function says so

    rule = "∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1"
    def backward(self, g):
        return g, g


class Subtract(Op):
    """a - b; d/da = 1, d/db = -1."""

    name = "subtract"

    def forward(self, a, b):
        return np.subtract(a, b)  # shapes that do not broadcast: the public function says so

    rule = "∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1"
    def backward(self, g):
        return g, -g


class Multiply(Op):
    """a * b; d/da = b, d/db = a."""

    name = "multiply"

    def forward(self, a, b):
        self.saved = (INPUT[0], INPUT[1])
        return np.multiply(a, b)  # shapes that do not broadcast: the public function says so

    rule = "∂(a·b)/∂a = b, ∂(a·b)/∂b = a"
    def backward(self, g):
        a, b = self.saved
        return (g * b if self.needs_grad(0) else None), (g * a if self.needs_grad(1) else None)


class Scale(Op):
    """a · c for a Tensor a and a Python number c (kept as a 0-d array of a's dtype); d/da = c. Drawn and exported
    as multiply. It keeps only c, as PyTorch does for a number: a's gradient does not depend on a's value."""

    name = "multiply"
    __slots__ = ("factor",)

    def forward(self, a, c):
        self.factor = c
        return np.multiply(a, c)

    rule = "∂(a·c)/∂a = c"
    def backward(self, g):
        return g * self.factor, None


class Divide(Op):
    """a / b; d/da = 1/b, d/db = -a/b²."""

    name = "divide"

    def forward(self, a, b):
        self.saved = (INPUT[0], INPUT[1])
        return np.true_divide(a, b)  # shapes that do not broadcast: the public function says so

    rule = "∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²"
    def backward(self, g):
        a, b = self.saved
        ga = g / b if self.needs_grad(0) else None
        gb = -g * a / (b * b) if self.needs_grad(1) else None
        return ga, gb


class Power(Op):
    """a ** b; d/da = b a^(b-1), d/db = a^b log a (defined for a > 0)."""

    name = "power"

    def forward(self, a, b):
        self.saved = (INPUT[0], INPUT[1], OUTPUT[0])
        return np.power(a, b)  # shapes that do not broadcast: the public function says so

    rule = "∂(aᵖ)/∂a = p·aᵖ⁻¹, ∂(aᵖ)/∂p = aᵖ·ln a"
    def backward(self, g):
        a, b, out = self.saved
        scalar_a, scalar_b = isinstance(a, (int, float)), isinstance(b, (int, float))
        a_np = a if scalar_a else np.asarray(_value(a))
        b_np = b if scalar_b else np.asarray(_value(b))
        dtype = out.dtype
        if not self.needs_grad(0):
            ga = None
        elif scalar_b and b == 0:
            ga = g * 0  # d/da a**0 = 0, also at a = 0
        elif scalar_b:
            ga = g * b * a ** (b - 1)
        else:
            # Where a == 0 and b == 0 the gradient is 0 (a**0 is constant), not 0 * inf: evaluate a**(b-1) at 1 there.
            fix = ((a_np == 0) & (b_np == 0)).astype(dtype)
            ga = g * b * (a + fix) ** (b - 1) if fix.any() else g * b * a ** (b - 1)
        if not self.needs_grad(1):
            gb = None
        elif scalar_a:  # a Python base stays a weak scalar (no float64 upcast)
            if a > 0:
                gb = g * out * math.log(a)
            else:  # 0 ** b is flat in b where b >= 0 (like PyTorch); a negative base has no real logarithm
                log_a = np.where(b_np >= 0, 0.0, -np.inf) if a == 0 else np.full(np.shape(b_np), np.nan)
                gb = g * out * log_a.astype(dtype)
        else:
            # d/db a**b = a**b log a, taken as 0 where a == 0 and b >= 0 (a**b is 0 or 1 there, like PyTorch):
            # evaluate the logarithm at 1 there instead of multiplying 0 by -inf.
            fix = ((a_np == 0) & (b_np >= 0)).astype(dtype)
            gb = g * out * _log(a + fix) if fix.any() else g * out * _log(a)
        return ga, gb


def _value(x):
    """The ndarray behind a Tensor (saved values are Tensors while the backward is being recorded)."""
    return x._data if isinstance(x, Tensor) else x


def _tie_weights(a, b, out_dtype):
    """Share of the gradient that goes to ``a`` in maximum(a, b): 1 where a wins, 1/2 on ties."""
    return np.asarray(np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)), dtype=out_dtype)


class Maximum(Op):
    """Elementwise max; on a tie each side gets half the gradient."""

    name = "maximum"

    def forward(self, a, b):
        out = _binary_forward("maximum", np.maximum, a, b)
        self.saved = (_tie_weights(np.asarray(a), np.asarray(b), out.dtype),)
        return out

    rule = "∂max(a, b)/∂a = 1 where a > b, 0 where a < b, ½ at a tie (b: the rest)"
    def backward(self, g):
        (w,) = self.saved
        return g * w, g * (1 - w)


class Minimum(Op):
    """Elementwise min; on a tie each side gets half the gradient."""

    name = "minimum"

    def forward(self, a, b):
        out = _binary_forward("minimum", np.minimum, a, b)
        self.saved = (_tie_weights(np.asarray(b), np.asarray(a), out.dtype),)
        return out

    rule = "∂min(a, b)/∂a = 1 where a < b, 0 where a > b, ½ at a tie (b: the rest)"
    def backward(self, g):
        (w,) = self.saved
        return g * w, g * (1 - w)


class Where(Op):
    """where(cond, a, b): the gradient goes to a where cond holds and to b elsewhere."""

    name = "where"

    def forward(self, cond, a, b):
        try:
            out = np.where(cond, a, b)
        except ValueError:
            raise ValueError(f"where: shapes {np.shape(cond)}, {np.shape(a)} and {np.shape(b)} "
                             "cannot be broadcast together") from None
        self.saved = (INPUT[0],)
        return out

    rule = "∂where(c, a, b)/∂a = 1 where c, else 0; ∂/∂b = 1 where not c"
    def backward(self, g):
        (cond,) = self.saved
        zero = np.zeros((), dtype=g.dtype)
        return None, _where(cond, g, zero), _where(cond, zero, g)


# ----------------------------------------------------------------------------- unary


class Negative(Op):
    """-a; d/da = -1."""

    name = "negative"

    def forward(self, a):
        try:
            return np.negative(a)
        except TypeError:  # bool (kept off the common path: no dtype test per call)
            raise TypeError(f"negative: not defined for a tensor of dtype {np.asarray(a).dtype} (NumPy refuses "
                            "it too); use ~x.data for logical not, or cast first, e.g. x.astype(np.float32)") from None

    rule = "∂(−a)/∂a = −1"
    def backward(self, g):
        return -g


class Exp(Op):
    """e^a; d/da = e^a (the saved output)."""

    name = "exp"

    def forward(self, a):
        self.saved = SAVE_OUTPUT
        return np.exp(a)

    rule = "∂exp(a)/∂a = exp(a)"
    def backward(self, g):
        return g * self.saved[0]


class Log(Op):
    """Natural logarithm; d/da = 1/a."""

    name = "log"

    def forward(self, a):
        self.saved = (INPUT[0],)
        return np.log(a)

    rule = "∂ln(a)/∂a = 1/a"
    def backward(self, g):
        return g / self.saved[0]


class Log1p(Op):
    """log(1 + a), accurate near 0; d/da = 1/(1 + a)."""

    name = "log1p"

    def forward(self, a):
        self.saved = (INPUT[0],)
        return np.log1p(a)

    rule = "∂ln(1 + a)/∂a = 1/(1 + a)"
    def backward(self, g):
        return g / (1 + self.saved[0])


class Sqrt(Op):
    """Square root; d/da = 1/(2 sqrt(a))."""

    name = "sqrt"

    def forward(self, a):
        self.saved = SAVE_OUTPUT
        return np.sqrt(a)

    rule = "∂√a/∂a = 1/(2√a)"
    def backward(self, g):
        return g / (2 * self.saved[0])


class Abs(Op):
    """|a|; gradient sign(a), which is 0 at 0."""

    name = "abs"

    def forward(self, a):
        self.saved = (np.sign(a) if a.dtype.kind != "b" else a,)  # bool: no gradient, |a| is a
        return np.abs(a)

    rule = "∂|a|/∂a = sign(a) (0 at 0)"
    def backward(self, g):
        return g * self.saved[0]


class Sign(Op):
    """sign(a); its gradient is zero everywhere it exists."""

    name = "sign"

    def forward(self, a):
        try:
            return np.sign(a)
        except TypeError:  # bool
            raise TypeError(f"sign: not defined for a tensor of dtype {np.asarray(a).dtype}; cast it first, e.g. "
                            "x.astype(np.float32)") from None

    rule = "∂sign(a)/∂a = 0"
    def backward(self, g):
        return g * 0


class Sin(Op):
    """Sine; d/da = cos(a)."""

    name = "sin"

    def forward(self, a):
        self.saved = (INPUT[0],)
        return np.sin(a)

    rule = "∂sin(a)/∂a = cos(a)"
    def backward(self, g):
        return g * _cos(self.saved[0])


class Cos(Op):
    """Cosine; d/da = -sin(a)."""

    name = "cos"

    def forward(self, a):
        self.saved = (INPUT[0],)
        return np.cos(a)

    rule = "∂cos(a)/∂a = −sin(a)"
    def backward(self, g):
        return -g * _sin(self.saved[0])


class Tan(Op):
    """tan; d/da = 1 + tan²."""

    name = "tan"

    def forward(self, a):
        self.saved = SAVE_OUTPUT
        return np.tan(a)

    rule = "∂tan(a)/∂a = 1 + tan²(a)"
    def backward(self, g):
        out = self.saved[0]
        return g * (1 + out * out)


class Tanh(Op):
    """tanh; d/da = 1 - tanh²."""

    name = "tanh"

    def forward(self, a):
        self.saved = SAVE_OUTPUT
        return np.tanh(a)

    rule = "∂tanh(u)/∂u = 1 − tanh²(u)"
    def backward(self, g):
        out = self.saved[0]
        return g * (ONE.get(out.dtype, 1) - out * out)


@np.errstate(over="ignore")  # (as a decorator it costs half what a ``with`` block does, on every call)
def stable_sigmoid(a):
    """1 / (1 + e^-a), relatively accurate in both tails: where e^-a overflows to inf the exact
    result underflows to 0, which is what 1/inf gives, so the overflow warning is silenced."""
    e = np.exp(-a)
    if type(e) is np.ndarray:
        np.add(e, ONE.get(e.dtype, 1), out=e)
        return np.reciprocal(e, out=e)
    return np.asarray(1 / (1 + e))


class Sigmoid(Op):
    """Logistic sigmoid (stable for large |a|); d/da = s(1 - s)."""

    name = "sigmoid"

    def forward(self, a):
        self.saved = SAVE_OUTPUT
        return stable_sigmoid(as_float(a))

    rule = "∂σ(u)/∂u = σ(u)·(1 − σ(u))"
    def backward(self, g):
        s = self.saved[0]
        return g * s * (ONE.get(s.dtype, 1) - s)


class Relu(Op):
    """max(a, 0); gradient 1 where a > 0, else 0 (0 at 0). Saves a boolean mask, a quarter of a float32 output's
    memory: where the output is not kept by its consumer (a max-pool after it), the step's peak stays lower."""

    name = "relu"

    def forward(self, a):
        zero = ZERO.get(a.dtype, 0)
        self.saved = (a > zero,)
        return np.maximum(a, zero)

    rule = "∂relu(u)/∂u = 1 where u > 0, else 0"
    def backward(self, g):
        return g * self.saved[0]


class Clip(Op):
    """clip(a, lo, hi); the gradient passes where lo <= a <= hi."""

    name = "clip"

    def forward(self, a, lo=None, hi=None):
        inside = np.ones(np.shape(a), dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        self.saved = (inside,)
        return np.clip(a, lo, hi)

    rule = "∂clip(a, lo, hi)/∂a = 1 where lo ≤ a ≤ hi, else 0"
    def backward(self, g):
        return g * self.saved[0]


class AsType(Op):
    """Cast to another dtype; the gradient is cast back to the input's dtype."""

    name = "astype"

    def forward(self, a, dtype=None):
        self.saved = (a.dtype,)
        return a.astype(dtype)

    rule = "∂cast(a)/∂a = 1 (the gradient cast back to a's dtype)"
    def backward(self, g):
        return g.astype(self.saved[0])


# Dual functions used by backward code (NumPy for arrays, recorded ops for Tensors).
_sin = dual(np.sin, Sin)
_cos = dual(np.cos, Cos)
_log = dual(np.log, Log)
_exp = dual(np.exp, Exp)
_where = dual(np.where, Where)


# ----------------------------------------------------------------------------- public functions


def _binary(op_cls, numbers_as_arrays=False, by_number=None):
    """The public function of a binary op. With ``numbers_as_arrays`` a Python float or int paired with a
    float Tensor is passed on as a 0-d array of the Tensor's dtype (``scalar_operand``: same values, faster);
    ``by_number`` is the op recorded instead when that number is the second operand (``Scale`` for multiply)."""
    apply = op_cls.apply2
    apply_by_number = (by_number or op_cls).apply2

    def fn(a, b):
        entry = apply
        if type(a) is Tensor:  # the common case first: it is on every operator's path
            kind = type(b)
            if kind is float or kind is int:
                if numbers_as_arrays:  # (``scalar_operand``, written out on this hot path)
                    dtype = a._data.dtype
                    if dtype in FLOAT_DTYPES:
                        b = np.array(b, dtype)
                        entry = apply_by_number
            elif kind is not Tensor:
                b = as_operand(b, op_cls.name)
        elif type(b) is Tensor:
            a = as_operand(a, op_cls.name)
            if numbers_as_arrays and (type(a) is float or type(a) is int):
                a = scalar_operand(a, b._data.dtype)
        else:
            a, b = as_operand(a, op_cls.name), as_operand(b, op_cls.name)
            if not isinstance(a, (Tensor, np.ndarray)) and not isinstance(b, (Tensor, np.ndarray)):
                a = as_tensor_arg(a, op_cls.name)  # two Python numbers: the result follows the default dtype
        try:
            return entry(a, b)
        except ValueError as e:
            _check_broadcast(op_cls.name, a, b)
            raise ValueError(f"{op_cls.name}: {e}") from None

    fn.__name__ = fn.__qualname__ = op_cls.name
    fn.__doc__ = f"Elementwise {op_cls.name} with NumPy broadcasting; differentiable in both arguments."
    fn.__annotations__ = {"a": TensorLike, "b": TensorLike, "return": Tensor}
    return fn


def _unary(op_cls):
    fn = unary_entry(op_cls, lambda x: as_tensor_arg(x, op_cls.name))
    fn.__name__ = fn.__qualname__ = op_cls.name
    fn.__doc__ = (op_cls.__doc__ or f"Elementwise {op_cls.name}.").splitlines()[0]
    fn.__annotations__ = {"x": TensorLike, "return": Tensor}
    return fn


add = _binary(Add, numbers_as_arrays=True)
subtract = _binary(Subtract, numbers_as_arrays=True)
multiply = _binary(Multiply, numbers_as_arrays=True, by_number=Scale)
divide = _binary(Divide, numbers_as_arrays=True)
power = _binary(Power)
maximum = _binary(Maximum)
minimum = _binary(Minimum)

negative = _unary(Negative)
exp = _unary(Exp)
log = _unary(Log)
log1p = _unary(Log1p)
sqrt = _unary(Sqrt)
abs = _unary(Abs)
sign = _unary(Sign)
sin = _unary(Sin)
cos = _unary(Cos)
tan = _unary(Tan)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)
relu = _unary(Relu)


def clip(x: TensorLike, lo=None, hi=None) -> Tensor:
    """Limit values to [lo, hi] (either may be None); gradient passes where lo <= x <= hi."""
    if lo is None and hi is None:
        raise ValueError("clip: at least one of lo and hi must be given")
    lo = lo._data if isinstance(lo, Tensor) else lo  # bounds are constants: no gradient flows to them
    hi = hi._data if isinstance(hi, Tensor) else hi
    for bound in (lo, hi):
        if bound is not None and (isinstance(bound, bool) or as_index_array(bound, "clip", "a bound").dtype.kind
                                  not in "iuf"):
            raise TypeError(f"clip: lo and hi must be numbers (or arrays of numbers), got {bound!r}")
    if lo is not None and hi is not None and np.any(np.asarray(lo) > np.asarray(hi)):
        raise ValueError(f"clip: lo ({lo}) must not exceed hi ({hi})")
    return Clip.apply(as_tensor_arg(x, "clip"), lo=lo, hi=hi)


def where(cond, a: TensorLike, b: TensorLike) -> Tensor:
    """Choose from ``a`` where ``cond`` is true, else from ``b`` (broadcast); cond is not differentiated."""
    cond = as_index_array(cond, "where", "the condition")
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be boolean, got {cond.dtype}")
    a, b = as_operand(a, "where"), as_operand(b, "where")
    if not isinstance(a, (Tensor, np.ndarray)) and not isinstance(b, (Tensor, np.ndarray)):
        a = as_tensor_arg(a, "where")
    return Where.apply(cond, a, b)


def astype(x: TensorLike, dtype) -> Tensor:
    """Cast to ``dtype``; differentiable when both dtypes are floating point."""
    x = as_tensor_arg(x, "astype")
    dtype = real_dtype(dtype, "astype")
    if isinstance(x, Tensor) and x.requires_grad and dtype.kind != "f":
        return Tensor._wrap(x._data.astype(dtype))  # integer/bool results carry no gradient
    return AsType.apply(x, dtype=dtype)


def floor_divide(a: TensorLike, b: TensorLike) -> Tensor:
    """a // b; piecewise constant, so the result carries no gradient."""
    a, b = as_operand(a, "floor_divide"), as_operand(b, "floor_divide")
    av = a._data if isinstance(a, Tensor) else a
    bv = b._data if isinstance(b, Tensor) else b
    return Tensor._wrap(np.asarray(_binary_forward("floor_divide", np.floor_divide, av, bv)))


def _comparison(name, fn):
    def compare(a, b):
        av = a._data if isinstance(a, Tensor) else as_operand(a, name)
        bv = b._data if isinstance(b, Tensor) else as_operand(b, name)
        return Tensor._wrap(np.asarray(_binary_forward(name, fn, av, bv)))

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise {name} as a boolean Tensor (no gradient)."
    return compare


less = _comparison("less", np.less)
less_equal = _comparison("less_equal", np.less_equal)
greater = _comparison("greater", np.greater)
greater_equal = _comparison("greater_equal", np.greater_equal)
equal = _comparison("equal", np.equal)
not_equal = _comparison("not_equal", np.not_equal)
