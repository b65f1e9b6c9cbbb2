"""Engine edge cases, each checked against a hand computation or a closed form: reuse of one tensor,
diamonds, leaves as outputs, 0-d and empty tensors, bad gradient= arguments, misbehaving hooks,
retain_grad on views, repeated backward, third order, threads, memory release, indexing corners,
non-contiguous inputs, and a float32 random composition of registry ops."""
import gc
import weakref

import numpy as np
import pytest

from autograd import Tensor

F64 = np.float64


def test_intermediate_values_are_freed_after_backward_while_the_output_is_held():
    x = Tensor(np.linspace(-1, 1, 200_000), requires_grad=True)
    h = x * 2.0
    e = h.exp()
    h_data, e_data = weakref.ref(h.data), weakref.ref(e.data)
    loss = e.sum()
    del h, e
    gc.collect()
    assert h_data() is not None and e_data() is not None  # the graph keeps them for backward
    loss.backward()
    gc.collect()
    assert h_data() is None, "x * 2 is still referenced by the released graph"
    assert e_data() is None, "exp's saved output is still referenced by the released graph"
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(2 * x.data))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
