"""Weight initialisers, in place on a Tensor's data, with PyTorch's names, defaults and fan rules.

Every random draw comes from ``autograd.random.generator()`` (so ``autograd.manual_seed`` makes
them repeatable). A Tensor is filled with the tracked ``copy_`` under ``no_grad`` (its version moves, so a
pending backward that saved the old values raises), keeping its dtype; nothing is recorded in the graph.
A Tensor with a read-only array gets a new array instead. Each function returns the tensor it filled.
"""
from __future__ import annotations

import math

import numpy as np

from autograd.checks import number
from autograd.mode import no_grad
from autograd.tensor import Tensor

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def _rng() -> np.random.Generator:
    from autograd.random import generator

    return generator()


def _array(tensor, fn: str) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"{fn}: expected a Tensor or ndarray to fill, got {type(tensor).__name__}")


def _fill(tensor, values, fn: str):
    """Write ``values`` into the tensor in place (tracked ``copy_``), in its dtype; returns the tensor."""
    arr = _array(tensor, fn)
    if arr.dtype.kind not in "fc" and fn not in ("constant_", "zeros_", "ones_", "eye_"):
        raise TypeError(f"{fn}: can only fill floating-point tensors, got dtype {arr.dtype}")
    if not isinstance(tensor, Tensor):
        if not arr.flags.writeable:
            raise ValueError(f"{fn}: the array is read-only")
        arr[...] = values
    elif tensor.grad_fn is not None:
        raise RuntimeError(f"{fn}: cannot fill the output of recorded op '{tensor.grad_fn.name}' (shape "
                           f"{tensor.shape}) in place; initialise a leaf tensor such as a Parameter")
    elif arr.flags.writeable:
        with no_grad():
            tensor.copy_(values)
    else:
        tensor.data = np.array(np.broadcast_to(values, arr.shape), dtype=arr.dtype)
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh), √2 (relu),
    √(2 / (1 + slope²)) (leaky_relu, default slope 0.01), 3/4 (selu)."""
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool) and math.isfinite(param):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor, fn: str = "fan computation") -> tuple[int, int]:
    """fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field (receptive = prod(shape[2:]))."""
    shape = _array(tensor, fn).shape
    if len(shape) < 2:
        raise ValueError(f"{fn}: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
                         f"(shape {shape})")
    receptive = int(np.prod(shape[2:], dtype=np.int64)) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode: str, fn: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{fn}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, fn)
    return fan_in if mode == "fan_in" else fan_out


# ----------------------------------------------------------------------------- simple fills


def constant_(tensor, val: float):
    """Fill with the value ``val``."""
    if isinstance(val, Tensor):
        val = val.data
    if val is None or isinstance(val, str) or np.asarray(val).dtype.kind not in "biuf":
        raise TypeError(f"constant_: val must be a number, got {val!r}")
    return _fill(tensor, val, "constant_")


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0, "zeros_")


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1, "ones_")


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (keeps the input's scale in a Linear layer)."""
    arr = _array(tensor, "eye_")
    if arr.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {arr.shape}")
    return _fill(tensor, np.eye(*arr.shape), "eye_")


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    """Fill with draws from U(a, b)."""
    a, b = number(a, "a", "uniform_"), number(b, "b", "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: expects a <= b, got a={a}, b={b}")
    arr = _array(tensor, "uniform_")
    return _fill(tensor, _rng().uniform(a, b, arr.shape), "uniform_")


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    """Fill with draws from N(mean, std²)."""
    mean, std = number(mean, "mean", "normal_"), number(std, "std", "normal_", low=0)
    arr = _array(tensor, "normal_")
    return _fill(tensor, _rng().normal(mean, std, arr.shape), "normal_")


def _std_normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _truncated_standard_normal(n: int, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` exact draws from N(0, 1) conditioned on [lo, hi], by rejection sampling.

    When the interval holds a fair share of the mass, normal draws are kept if they fall inside;
    otherwise (a far tail or a thin slice) uniform proposals on the interval are accepted with
    probability exp(-(z² - c²) / 2), c being the point of the interval closest to 0.
    """
    mass = _std_normal_cdf(hi) - _std_normal_cdf(lo)
    out = np.empty(n)
    filled = 0
    if mass >= 0.05:
        while filled < n:
            need = n - filled
            z = rng.standard_normal(int(need / mass * 1.1) + 16)
            z = z[(z >= lo) & (z <= hi)][:need]
            out[filled:filled + z.size] = z
            filled += z.size
        return out
    # Beyond about 40/|c| from the nearest bound the density is below e^-40 of its peak: cut there.
    c = 0.0 if lo <= 0 <= hi else (lo if lo > 0 else hi)
    span = 40.0 / max(abs(c), 1.0)
    lo_eff, hi_eff = max(lo, c - span), min(hi, c + span)
    peak = math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
    accept_rate = mass / ((hi_eff - lo_eff) * peak) if mass > 0 and peak > 0 else 0.0
    accept_rate = min(max(accept_rate, 1 / 40), 1.0)  # far tails: mass underflows, the rate is still >= 1/40
    while filled < n:
        need = n - filled
        z = rng.uniform(lo_eff, hi_eff, int(need / accept_rate * 1.1) + 16)
        accept = rng.random(z.size) <= np.exp(-(z * z - c * c) / 2)
        z = z[accept][:need]
        out[filled:filled + z.size] = z
        filled += z.size
    return out


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0):
    """Fill with draws from N(mean, std²) truncated to [a, b] (absolute bounds, as PyTorch); exact."""
    mean = number(mean, "mean", "trunc_normal_")
    std = number(std, "std", "trunc_normal_", low=0, low_open=True)
    a, b = number(a, "a", "trunc_normal_", finite=False), number(b, "b", "trunc_normal_", finite=False)
    if not a < b:
        raise ValueError(f"trunc_normal_: expects a < b, got a={a}, b={b}")
    arr = _array(tensor, "trunc_normal_")
    z = _truncated_standard_normal(arr.size, (a - mean) / std, (b - mean) / std, _rng())
    values = np.clip(mean + std * z, a, b).reshape(arr.shape)
    return _fill(tensor, values, "trunc_normal_")


# ----------------------------------------------------------------------------- scaled initialisers


def xavier_uniform_(tensor, gain: float = 1.0):
    """Glorot uniform: U(-bound, bound) with bound = gain √(6 / (fan_in + fan_out))."""
    gain = number(gain, "gain", "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_uniform_")
    bound = abs(gain) * math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return _fill(tensor, _rng().uniform(-bound, bound, _array(tensor, "xavier_uniform_").shape), "xavier_uniform_")


def xavier_normal_(tensor, gain: float = 1.0):
    """Glorot normal: N(0, std²) with std = gain √(2 / (fan_in + fan_out))."""
    gain = number(gain, "gain", "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_normal_")
    std = abs(gain) * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return _fill(tensor, _rng().normal(0.0, std, _array(tensor, "xavier_normal_").shape), "xavier_normal_")


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """He uniform: U(-bound, bound) with bound = gain √(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode, "kaiming_uniform_")
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan) if fan else 0.0
    return _fill(tensor, _rng().uniform(-bound, bound, _array(tensor, "kaiming_uniform_").shape), "kaiming_uniform_")


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """He normal: N(0, std²) with std = gain / √fan, gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode, "kaiming_normal_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return _fill(tensor, _rng().normal(0.0, std, _array(tensor, "kaiming_normal_").shape), "kaiming_normal_")


def sparse_(tensor, sparsity: float, std: float = 0.01):
    """2-D only: N(0, std²) values with ceil(sparsity * rows) entries of every column set to zero."""
    arr = _array(tensor, "sparse_")
    if arr.ndim != 2:
        raise ValueError(f"sparse_: only 2-D tensors are supported, got shape {arr.shape}")
    sparsity = number(sparsity, "sparsity", "sparse_", low=0, high=1)
    std = number(std, "std", "sparse_", low=0)
    rows, cols = arr.shape
    num_zeros = math.ceil(sparsity * rows)
    rng = _rng()
    values = rng.normal(0.0, std, (rows, cols))
    if num_zeros:
        # A random permutation of the rows per column; its first num_zeros entries are zeroed.
        order = np.argsort(rng.random((rows, cols)), axis=0)[:num_zeros]
        values[order, np.arange(cols)] = 0.0
    return _fill(tensor, values, "sparse_")


def orthogonal_(tensor, gain: float = 1.0):
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, scaled by ``gain``.

    Tensors with more than 2 dimensions are treated as (shape[0], rest flattened).
    """
    gain = number(gain, "gain", "orthogonal_")
    arr = _array(tensor, "orthogonal_")
    if arr.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape {arr.shape}")
    if arr.size == 0:
        return tensor
    rows = arr.shape[0]
    cols = arr.size // rows
    flat = _rng().standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    q = q * d  # makes the decomposition unique, so q is uniformly (Haar) distributed
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(arr.shape), "orthogonal_")


def dirac_(tensor, groups: int = 1):
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta (identity on the first channels)."""
    arr = _array(tensor, "dirac_")
    if arr.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3, 4 and 5-D tensors are supported, got shape {arr.shape}")
    if arr.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({arr.shape[0]}) must be divisible by groups ({groups})")
    out_per_group = arr.shape[0] // groups
    n = min(out_per_group, arr.shape[1])
    values = np.zeros(arr.shape)
    centre = tuple(s // 2 for s in arr.shape[2:])
    for g in range(groups):
        for d in range(n):
            values[(g * out_per_group + d, d) + centre] = 1.0
    return _fill(tensor, values, "dirac_")
