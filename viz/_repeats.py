"""Find repeated runs (tandem repeats) in a sequence, to draw an unrolled loop once with "×n".

An RNN over 50 time steps or a stack of 20 identical blocks records the same pattern of ops
over and over; ``find_repeat`` finds the longest stretch made of one unit repeated.
"""
from __future__ import annotations

_MAX_PERIOD = 400  # units longer than this are not searched for (the search is O(length x period))


def find_repeat(sigs: list, accept=None) -> tuple[int, int, int] | None:
    """``(start, period, count)`` of the run ``sigs[start:start + period * count]`` made of one unit
    repeated ``count >= 2`` times, covering the most elements (shortest unit on ties); None if none.

    ``accept(start, period, count)`` can veto candidates (e.g. repetitions that do not feed each other).
    """
    n = len(sigs)
    best = None  # (coverage, -period, start, period, count)
    for p in range(1, min(n // 2, _MAX_PERIOD) + 1):
        if best is not None and best[0] == n:
            break
        run_start, run = 0, 0
        for j in range(n - p + 1):
            match = j < n - p and sigs[j] == sigs[j + p]
            if match:
                if run == 0:
                    run_start = j
                run += 1
                continue
            if run >= p:
                count = (run + p) // p
                cand = (count * p, -p, run_start, p, count)
                if (best is None or cand[:2] > best[:2]) and (accept is None or accept(run_start, p, count)):
                    best = cand
            run = 0
    if best is None:
        return None
    return best[2], best[3], best[4]


def tandem_blocks(sigs: list, accept=None) -> list[tuple[int, int, int]]:
    """All repeated runs, non-overlapping: the best one, then recursively inside its unit and on both sides.

    ``accept(start, period, count)`` (absolute positions) vetoes candidates, as in ``find_repeat``.
    """
    out = []
    stack = [(0, len(sigs))]
    while stack:
        lo, hi = stack.pop()
        if hi - lo < 2:
            continue
        found = find_repeat(sigs[lo:hi], None if accept is None else
                            (lambda st, p, c, lo=lo: accept(st + lo, p, c)))
        if found is None:
            continue
        start, p, count = found
        start += lo
        out.append((start, p, count))
        stack.append((lo, start))
        stack.append((start + p * count, hi))
        stack.append((start, start + p))  # loops nested inside the unit
    out.sort()
    return out
