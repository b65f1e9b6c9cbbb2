"""A measuring stick, not an engine: the least Python that records the overhead benchmark's chain and
back-propagates through it, to show how much of graphgrad's per-op cost is Python itself and how much is design.

One node class with five fields, a Tensor with four, the four backward formulas inline in the walk, and none of
what users rely on: no version counters, hooks, scopes, shape checks, freed-graph errors or other ops. It
computes the same ufuncs as ``bench.overhead`` (and its gradient is checked against that hand-written step).

    python -m bench.floor_engine                  # µs per op against PyTorch (when installed) and hand NumPy
    PYTHONHASHSEED=0 valgrind --tool=callgrind python -m bench.floor_engine step 1   # and ... step 21
"""
from __future__ import annotations

import sys
from heapq import heappop, heappush
from itertools import count

import numpy as np

from .overhead import N_OPS, SIZE, _numpy_step

_clock = count()
_ONE = np.float32(1)
MUL, ADD, TANH, SIGMOID = range(4)


class _Tensor:
    __slots__ = ("data", "grad", "node")


class _Node:
    __slots__ = ("kind", "producer", "out", "order", "constant")


def _record(kind, out, x, constant=None):
    t = object.__new__(_Tensor)
    t.data, t.grad = out, None
    n = object.__new__(_Node)
    n.kind, n.producer, n.out, n.order, n.constant = kind, x.node, out, next(_clock), constant
    t.node = n
    return t


def _mul(x, c):
    c = np.asarray(c, x.data.dtype)
    return _record(MUL, np.multiply(x.data, c), x, c)


def _add(x, c):
    return _record(ADD, np.add(x.data, np.asarray(c, x.data.dtype)), x)


def _tanh(x):
    return _record(TANH, np.tanh(x.data), x)


def _sigmoid(x):
    e = np.exp(-x.data)
    np.add(e, _ONE, out=e)
    return _record(SIGMOID, np.reciprocal(e, out=e), x)


def _backward(y):
    """The gradient of sum(y) reaching the chain's start (the walk of ``autograd.engine``, cut to the bone)."""
    grads = {y.node: np.ones_like(y.data)}
    queue = [(-y.node.order, y.node)]
    g = None
    while queue:
        n = heappop(queue)[1]
        g = grads.pop(n)
        if n.kind == MUL:
            g = g * n.constant
        elif n.kind == TANH:
            g = g * (_ONE - n.out * n.out)
        elif n.kind == SIGMOID:
            g = g * n.out * (_ONE - n.out)
        n.out = None
        p = n.producer
        if p is not None:
            if p in grads:
                grads[p] = grads[p] + g
            else:
                grads[p] = g
                heappush(queue, (-p.order, p))
    return g


def _leaf(a):
    t = object.__new__(_Tensor)
    t.data, t.grad, t.node = a, None, None
    return t


def step(x):
    """The chain of ``bench.overhead`` (50 × multiply, tanh, add, sigmoid) forward and backward."""
    y = x
    for _ in range(N_OPS // 4):
        y = _sigmoid(_add(_tanh(_mul(y, 1.01)), 0.1))
    return _backward(y)


def main() -> None:
    from .timing import per_call_us

    a = np.random.default_rng(0).standard_normal(SIZE).astype(np.float32)
    x = _leaf(a)
    np.testing.assert_allclose(step(x), _numpy_step(a), rtol=1e-5)  # the same gradient as the hand-written step
    ours = per_call_us(lambda: step(x), number=200) / N_OPS
    base = per_call_us(lambda: _numpy_step(a), number=200) / N_OPS
    line = f"floor engine {ours:.2f} µs/op, hand NumPy {base:.2f} µs/op ({ours / base:.2f}x)"
    try:
        import torch
    except ImportError:
        print(line)
        return
    torch.set_num_threads(1)
    xt = torch.tensor(a, requires_grad=True)

    def torch_step():
        y = xt
        for _ in range(N_OPS // 4):
            y = ((y * 1.01).tanh() + 0.1).sigmoid()
        y.sum().backward()
        xt.grad = None

    theirs = per_call_us(torch_step, number=200) / N_OPS
    print(f"{line}, PyTorch {theirs:.2f} µs/op ({ours / theirs:.2f}x)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "step":
        leaf = _leaf(np.random.default_rng(0).standard_normal(SIZE).astype(np.float32))
        for _ in range(int(sys.argv[2])):
            step(leaf)
    elif len(sys.argv) == 1:
        main()
    else:
        raise SystemExit("usage: python -m bench.floor_engine [step N]")
