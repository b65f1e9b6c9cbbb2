"""Run micrograd's demo training step (``bench.targets``) N times, for instruction counts (load-independent).

    PYTHONHASHSEED=0 valgrind --tool=callgrind python -m bench.micrograd_steps graphgrad 5
    PYTHONHASHSEED=0 valgrind --tool=callgrind python -m bench.micrograd_steps graphgrad 25

(difference of the two totals) / 20 is the instructions per step; ``torch`` runs PyTorch's step instead
(its instructions are mostly C++, so they compare less directly than timings do).
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
