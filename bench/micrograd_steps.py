"""Run micrograd's demo training step (``bench.targets``) N times, for instruction counts (load-independent).

    PYTHONHASHSEED=0 valgrind --tool=callgrind python -m bench.micrograd_steps graphgrad 10
    PYTHONHASHSEED=0 valgrind --tool=callgrind python -m bench.micrograd_steps graphgrad 50

(difference of the two totals) / 40 is the instructions per step (5 against 25 steps still counts warm-up and
collector work that later steps do not pay, which moved one comparison by 2.5%); ``torch`` runs PyTorch's step
instead (its instructions are mostly C++, so they compare less directly than timings do).
"""
from __future__ import annotations

import sys

from .targets import _torch, micrograd_steps


def main(which: str, repeats: int) -> None:
    step = micrograd_steps(_torch() if which == "torch" else None)[which]
    for _ in range(repeats):
        step()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("graphgrad", "torch"):
        raise SystemExit("usage: python -m bench.micrograd_steps graphgrad|torch N")
    main(sys.argv[1], int(sys.argv[2]))
