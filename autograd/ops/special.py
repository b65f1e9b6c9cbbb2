"""Special functions: the error function ``erf`` (needed by the exact GELU).

The forward is W. J. Cody's rational Chebyshev approximation (Math. Comp. 23, 1969,
as in his CALERF routine): three rational functions covering |x| <= 0.46875,
0.46875 < |x| <= 4 and |x| > 4, accurate to about 1e-16 relative in float64.
Computed in float64 and returned in the input's floating dtype.
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .base import INPUT, Op, TensorLike, as_tensor_arg, dual
from .elementwise import _exp

# |x| <= 0.46875: erf(x) = x * P(x²) / Q(x²)
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
# 0.46875 < |x| <= 4: erfc(x) = exp(-x²) * P(x) / Q(x)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
# |x| > 4: erfc(x) = exp(-x²) / x * (1/sqrt(pi) + P(1/x²) / Q(1/x²) / x²)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_INV_SQRT_PI = 0.56418958354775628695
_THRESH = 0.46875
_XBIG = 26.543  # erfc(x) underflows to 0 in float64 beyond this
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _exp_neg_square(y):
    """exp(-y²) with y² split as (y rounded to 1/16)² + rest, which keeps it accurate for large y."""
    ysq = np.trunc(y * 16.0) / 16.0
    rest = (y - ysq) * (y + ysq)
    return np.exp(-ysq * ysq) * np.exp(-rest)


def _erfc_mid(y):
    """erfc(y) for 0.46875 < y <= 4."""
    num = _C[8] * y
    den = y
    for c, d in zip(_C[:7], _D[:7]):
        num = (num + c) * y
        den = (den + d) * y
    return _exp_neg_square(y) * (num + _C[7]) / (den + _D[7])


def _erfc_tail(y):
    """erfc(y) for y > 4 (0 beyond the float64 underflow point)."""
    y = np.minimum(y, _XBIG)
    inv = 1.0 / (y * y)
    num = _P[5] * inv
    den = inv
    for p, q in zip(_P[:4], _Q[:4]):
        num = (num + p) * inv
        den = (den + q) * inv
    r = inv * (num + _P[4]) / (den + _Q[4])
    return _exp_neg_square(y) * (_INV_SQRT_PI - r) / y


def erf_numpy(x) -> np.ndarray:
    """erf of an array by Cody's approximation; float dtypes are kept, others give float64."""
    x = np.asarray(x)
    out_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    xd = x.astype(np.float64)
    y = np.abs(xd)
    out = np.empty_like(xd)
    small = y <= _THRESH
    mid = (y > _THRESH) & (y <= 4.0)
    tail = y > 4.0  # NaN falls in none of the three
    if np.any(small):
        xs = xd[small]
        ysq = xs * xs
        num = _A[4] * ysq
        den = ysq
        for a, b in zip(_A[:3], _B[:3]):
            num = (num + a) * ysq
            den = (den + b) * ysq
        out[small] = xs * (num + _A[3]) / (den + _B[3])
    if np.any(mid):
        out[mid] = np.copysign(1.0 - _erfc_mid(y[mid]), xd[mid])
    if np.any(tail):
        out[tail] = np.copysign(1.0 - _erfc_tail(y[tail]), xd[tail])
    nan = np.isnan(xd)
    if np.any(nan):
        out[nan] = np.nan
    return out.astype(out_dtype, copy=False)


class Erf(Op):
    """Error function; d/dx erf(x) = 2/sqrt(pi) exp(-x²)."""

    name = "erf"

    def forward(self, a):
        self.saved = (INPUT[0],)
        return erf_numpy(a)

    rule = "∂erf(a)/∂a = 2/√π·exp(−a²)"
    def backward(self, g):
        a = self.saved[0]
        return g * (_exp(-(a * a)) * TWO_OVER_SQRT_PI)


_erf = dual(erf_numpy, Erf, "erf")


def erf(x: TensorLike) -> Tensor:
    """Elementwise error function erf(x) = 2/sqrt(pi) ∫₀ˣ exp(-t²) dt; differentiable."""
    return Erf.apply(as_tensor_arg(x, "erf"))
