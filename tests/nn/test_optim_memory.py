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
