"""Run every benchmark and print one Markdown table (`python -m bench.run [--json PATH]`)."""
from __future__ import annotations

import argparse
import importlib
import json
import platform

import numpy as np

SUITES = ("bench.overhead", "bench.mlp", "bench.bench_viz", "bench.attention",
          "bench.lstm", "bench.targets")
SUITES += ("bench.cnn",)  # convolutions and pooling
SUITES += ("bench.capture",)


def _one_blas_thread() -> str:
    """Pin NumPy's BLAS to one thread (PyTorch is pinned to one too): a like-for-like comparison
    that the other core's load cannot disturb."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return "BLAS threads not pinned (threadpoolctl missing)"
    threadpool_limits(1)
    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})" for i in threadpool_info()
            if i.get("user_api") == "blas"]
    return "1 BLAS thread: " + ", ".join(blas)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--only", nargs="*", help="module names to run (default: all)")
    args = parser.parse_args(argv)
    rows = []
    limits = _one_blas_thread()
    for name in SUITES:
        if args.only and name.split(".")[-1] not in args.only:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            print(f"(skipping {name}: {e})")
            continue
        rows.extend(module.run())
    print(f"\nPython {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}, {limits}\n")
    cols = ["benchmark", "graphgrad", "baseline", "result"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
