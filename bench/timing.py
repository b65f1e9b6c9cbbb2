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


def best_cpu_ms(fns: dict, rounds: int = 15) -> dict:
    """Fastest single call of each function over ``rounds`` rounds that call each once in turn, in CPU time of
    this process (ms): time spent descheduled while other jobs load the machine is not counted, and a load that
    drifts during the run hits all of them alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.process_time()
            fn()
            best[name] = min(best[name], (time.process_time() - start) * 1000)
    return best
