"""Drawing cost: draw_graph and to_svg on a 2,000-node forward graph (1,000 ops and their tensors), and the
Stepper's saved page for a 1,000-op graph (its size and the time to build and write it)."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

import autograd as ag

from .timing import per_call_us

N_OPS = 667  # each op adds an op node, a tensor node and a constant node: about 2,000 nodes


def _chain(n_ops: int):
    x = ag.tensor(np.float32(0.5), requires_grad=True, name="x")
    y = x
    for _ in range(n_ops):
        y = y * 0.999
    return y


def _stepper_page() -> dict:
    """Build a Stepper over a 1,001-op chain (2,002 frames) and write its page: seconds and megabytes."""
    import viz

    x = ag.tensor(np.float32(0.5), requires_grad=True, name="x")
    y = x
    for _ in range(500):
        y = y * 1.0001 + 0.0
    y = y.sum()
    start = time.perf_counter()
    stepper = viz.Stepper(y)
    frames = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        size = stepper.save_html(Path(tmp) / "page.html").stat().st_size
        write = time.perf_counter() - start
    return {"benchmark": f"viz.Stepper page, 1,001-op chain ({len(stepper)} frames)",
            "graphgrad": f"{frames + write:.1f} s", "baseline": f"frames {frames:.1f} s, layout+write {write:.1f} s",
            "result": f"{size / 1e6:.2f} MB page"}


def run() -> list[dict]:
    import viz
    from viz.render import renderer_name

    y = _chain(N_OPS)
    drawing = viz.draw_graph(y)
    n_nodes = len(viz.graph.ForwardGraph(y))
    build = per_call_us(lambda: viz.draw_graph(y), number=3, repeat=3, warmup=1)
    start = time.perf_counter()
    viz.to_svg(drawing)  # includes the one-off start-up of the in-process renderer, if that is the one used
    first = time.perf_counter() - start
    render = per_call_us(lambda: viz.to_svg(drawing), number=1, repeat=3, warmup=0)
    backend = renderer_name()
    return [
        {"benchmark": f"viz.draw_graph, {n_nodes}-node graph (DOT only)",
         "graphgrad": f"{build / 1000:.1f} ms", "baseline": "", "result": ""},
        {"benchmark": f"viz.to_svg of that graph ({backend} renderer)",
         "graphgrad": f"{render / 1000:.1f} ms", "baseline": f"first call {first * 1000:.0f} ms",
         "result": f"{(build + render) / 1000:.0f} ms to draw and render"},
        _stepper_page(),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
