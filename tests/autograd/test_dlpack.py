"""DLPack: zero-copy exchange with NumPy and PyTorch, writes seen on both sides, the detached and read-only rules."""
import numpy as np
import pytest

import autograd as ag


def test_numpy_round_trip_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ag.from_dlpack(a)
    assert t.dtype == np.float32 and t.shape == (2, 3) and t.is_leaf and not t.requires_grad
    a[0, 0] = 7.0                       # a write through NumPy is seen by the Tensor
    assert t.data[0, 0] == 7.0
    b = np.from_dlpack(t)
    assert np.shares_memory(b, a)
    with ag.no_grad():
        t.add_(1.0)                     # a write through the Tensor is seen by both arrays
    assert b[0, 0] == 8.0 and a[1, 2] == 6.0
    assert t.__dlpack_device__() == a.__dlpack_device__()


def test_a_tensor_requiring_grad_is_exported_detached():
    w = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = np.from_dlpack(w)
    assert np.shares_memory(b, w.data) and b.flags.writeable
    np.testing.assert_array_equal(b, [1.0, 2.0, 3.0])
    (w * 2).sum().backward()            # the exported array takes no part in the graph
    np.testing.assert_array_equal(w.grad.data, [2.0, 2.0, 2.0])


def test_a_recorded_value_is_refused_unless_copied():
    w = ag.tensor([1.0, -2.0], requires_grad=True)
    h = w * 3
    with pytest.raises(BufferError, match="recorded op 'multiply'.*copy=True"):
        np.from_dlpack(h)
    c = np.from_dlpack(h, copy=True)
    assert not np.shares_memory(c, h.data) and c.flags.writeable
    c[0] = 100.0                        # the copy is the consumer's; the graph's value is unchanged
    np.testing.assert_array_equal(h.data, [3.0, -6.0])
    with pytest.raises(BufferError, match="read-only"):
        np.from_dlpack(h.detach())      # a detached view of a recorded value is still read-only


def test_from_dlpack_rejects_what_has_no_dlpack():
    with pytest.raises(TypeError, match="from_dlpack: expected an object with __dlpack__"):
        ag.from_dlpack([1.0, 2.0])


def test_torch_zero_copy_both_ways():
    torch = pytest.importorskip("torch")
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    t = ag.from_dlpack(x)
    assert t.dtype == np.float32 and t.shape == (2, 3)
    x[1, 1] = -5.0                      # torch writes, graphgrad sees
    assert t.data[1, 1] == -5.0
    y = torch.from_dlpack(t)
    assert y.data_ptr() == x.data_ptr()
    with ag.no_grad():
        t.mul_(2.0)                     # graphgrad writes, torch sees
    assert y[1, 1].item() == -10.0 and x[0, 1].item() == 2.0
    # A parameter requiring grad arrives in torch as a plain tensor (no grad), on the same memory.
    w = ag.tensor([[1.0, 2.0]], requires_grad=True)
    tw = torch.from_dlpack(w)
    assert not tw.requires_grad and tw.data_ptr() == w.data.ctypes.data
    with pytest.raises(BufferError, match="copy=True"):
        torch.from_dlpack(w * 2)
    np.testing.assert_array_equal(torch.from_dlpack(w * 2, copy=True).numpy(), [[2.0, 4.0]])


def test_int_and_float64_dtypes_kept():
    torch = pytest.importorskip("torch")
    i = ag.from_dlpack(torch.tensor([3, 1, 2]))
    assert i.dtype == np.int64
    d = torch.from_dlpack(ag.tensor(np.array([1.5], dtype=np.float64)))
    assert d.dtype == torch.float64
