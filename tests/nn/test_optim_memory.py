"""Optimiser steps update through reused work buffers: after the first step (which creates the state), a step
allocates no temporary as large as a parameter (the update's intermediates live in ``Optimizer._scratch``)."""
import tracemalloc

import numpy as np
import pytest

import autograd as ag
from nn import optim

N = 100_000  # float32 elements: 400 kB per parameter array

CASES = [
    (optim.SGD, dict(lr=0.1)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01, dampening=0.1)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.Adam, dict(lr=0.01, weight_decay=0.01)),
    (optim.AdamW, dict(lr=0.01, amsgrad=True)),
    (optim.Adagrad, dict(lr=0.1, weight_decay=0.01, lr_decay=0.01)),
    (optim.RMSprop, dict(lr=0.01, weight_decay=0.01)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.9)),
    (optim.Adadelta, dict(weight_decay=0.01)),
]


@pytest.mark.parametrize("cls, kwargs", CASES, ids=lambda c: getattr(c, "__name__", None) or str(c))
def test_a_step_allocates_no_parameter_sized_temporary(cls, kwargs):
    rng = np.random.default_rng(0)
    p = ag.tensor(rng.standard_normal(N).astype(np.float32), requires_grad=True)
    p.grad = ag.tensor(rng.standard_normal(N).astype(np.float32))
    opt = cls([p], **kwargs)
    opt.step()
    opt.step()  # state and work buffers exist from here on
    before = p.data.copy()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        opt.step()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert not np.array_equal(p.data, before)  # the step did update the parameter
    assert peak < p.data.nbytes // 4, f"{cls.__name__}{kwargs}: a step allocated {peak} bytes"


@pytest.mark.parametrize("cls, kwargs", CASES, ids=lambda c: getattr(c, "__name__", None) or str(c))
def test_work_views_follow_shapes_dtypes_and_a_growing_buffer(cls, kwargs):
    """Parameters of several shapes and dtypes share the work buffers through cached views; a later, larger
    parameter grows the buffer (the cached views are dropped) and one of a known size in a new shape gets a view
    of its own. Every update equals the same optimiser run on each parameter alone."""
    rng = np.random.default_rng(1)

    def make(shape, dtype):
        p = ag.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
        p.grad = ag.tensor(rng.standard_normal(shape).astype(dtype))
        return p

    def alone(p):  # a copy of p stepped by its own optimiser
        q = ag.tensor(p.data.copy(), requires_grad=True)
        q.grad = ag.tensor(p.grad.data.copy())
        return q, cls([q], **kwargs)

    shared = [make((3, 4), np.float32), make((12,), np.float32), make((5,), np.float64)]
    solo = [alone(p) for p in shared]
    opt = cls(shared, **kwargs)
    for _ in range(2):
        opt.step()
        for q, o in solo:
            o.step()
    later = [make((7, 9), np.float32), make((2, 6), np.float32)]  # larger than any float32 so far; a new shape
    opt.add_param_group({"params": later})
    shared += later
    solo += [alone(p) for p in later]
    for _ in range(2):
        opt.step()
        for q, o in solo:
            o.step()
    for (dtype, slot, _), view in opt._views.items():  # one buffer per dtype and slot, the grown one
        assert np.shares_memory(view, opt._work[dtype, slot])
    for p, (q, _) in zip(shared, solo):
        assert p.dtype == q.dtype and p.shape == q.shape
        np.testing.assert_array_equal(p.data, q.data)
