"""Timing helper shared by the benchmarks: best-of-N wall time per call, in microseconds."""
from __future__ import annotations

import time


def per_call_us(fn, number: int, repeat: int = 5, warmup: int = 2) -> float:
    """Best (lowest) average time of ``fn()`` over ``repeat`` runs of ``number`` calls, in µs."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6
