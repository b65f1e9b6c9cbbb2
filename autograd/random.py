"""The one random generator behind every random draw in autograd, nn and viz.

All packages take their randomness from ``generator()`` at the moment they draw, so
``manual_seed(n)`` makes a whole program repeatable. ``manual_seed`` reseeds the generator
in place, so a reference to it kept elsewhere stays valid.
"""
from __future__ import annotations

import numpy as np

from .dtypes import get_default_dtype, real_dtype
from .tensor import Tensor

_generator = np.random.default_rng()


def generator() -> np.random.Generator:
    """The shared ``np.random.Generator`` (seeded from the OS until ``manual_seed`` is called)."""
    return _generator


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the shared generator: afterwards it draws exactly what ``np.random.default_rng(seed)`` would."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _generator.bit_generator.state = type(_generator.bit_generator)(int(seed)).state
    return _generator


def get_rng_state() -> dict:
    """A copy of the generator's state, to restore later with ``set_rng_state``."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state saved with ``get_rng_state``."""
    try:
        _generator.bit_generator.state = state
    except (TypeError, ValueError) as e:
        raise type(e)(f"set_rng_state: not a state from get_rng_state ({e})") from None


def rand(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1); ``rand(2, 3)`` or ``rand((2, 3))``."""
    shape = shape_arg("rand", shape)
    d = _float_dtype("rand", dtype)
    draw_dtype = d if d in (np.float32, np.float64) else np.float64
    return _leaf("rand", _draw("random", shape, draw_dtype, d), requires_grad)


def randn(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples; ``randn(2, 3)`` or ``randn((2, 3))``."""
    shape = shape_arg("randn", shape)
    d = _float_dtype("randn", dtype)
    draw_dtype = d if d in (np.float32, np.float64) else np.float64
    return _leaf("randn", _draw("standard_normal", shape, draw_dtype, d), requires_grad)


def randint(low: int, high: int | None = None, size=(), dtype=np.int64) -> Tensor:
    """Integers in [low, high) (or [0, low) when high is None), like ``Generator.integers``."""
    if high is None:
        low, high = 0, low
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"randint: low and high must be ints, got {v!r}")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    shape = shape_arg("randint", (size,))
    d = real_dtype(dtype, "randint")
    if d.kind not in "iu":
        raise TypeError(f"randint: dtype must be an integer dtype, got {d}")
    return Tensor(_generator.integers(low, high, size=shape, dtype=d))


def _draw(method, shape, draw_dtype, dtype):
    """``generator().method(shape)`` in ``dtype``, drawn by an op so a captured step (autograd.capture) redraws it."""
    from .capture import Draw

    return Draw.apply(method=method, shape=shape, draw_dtype=draw_dtype, dtype=dtype)._data


def _leaf(name: str, arr: np.ndarray, requires_grad) -> Tensor:
    """A new leaf Tensor of ``arr``; ``requires_grad`` must be a bool and needs a floating dtype."""
    if not isinstance(requires_grad, (bool, np.bool_)):
        raise TypeError(f"{name}: requires_grad must be a bool, got {requires_grad!r}")
    if requires_grad and arr.dtype.kind != "f":
        raise TypeError(f"{name}: only floating-point tensors can require gradients, got dtype {arr.dtype}; "
                        "pass a floating dtype=")
    return Tensor(arr, requires_grad=bool(requires_grad))


def _float_dtype(name, dtype):
    d = get_default_dtype() if dtype is None else real_dtype(dtype, name)
    if d.kind != "f":
        raise TypeError(f"{name}: dtype must be a floating dtype, got {d}")
    return d


def shape_arg(name: str, shape: tuple) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f()`` (0-d); validate every length."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{name}: shape must be ints or a tuple of ints, got {shape!r}")
        if s < 0:
            raise ValueError(f"{name}: negative dimension {s} in shape {tuple(shape)}")
        out.append(int(s))
    return tuple(out)
