"""Bad shapes and arguments raise ValueError/TypeError naming the op and the shapes or values,
before anything is recorded in the graph."""
import re

import numpy as np
import pytest

import autograd
from autograd import Tensor, engine


def t(*shape):
    return Tensor(np.ones(shape), requires_grad=True)


CASES = [
    # (id, call, exception, message pattern)
    ("matmul align", lambda: autograd.matmul(t(3, 4), t(5, 2)), ValueError,
     "matmul: shapes (3, 4) and (5, 2) do not align"),
    ("matmul operator", lambda: t(3, 4) @ t(3,), ValueError, "matmul: shapes (3, 4) and (3,) do not align"),
    ("matmul 0-d", lambda: autograd.matmul(t(), t(3)), ValueError,
     "matmul: operands must have at least one dimension, got shapes () and (3,)"),
    ("matmul batch", lambda: autograd.matmul(t(2, 3, 4), t(5, 4, 2)), ValueError,
     "matmul: batch dimensions of shapes (2, 3, 4) and (5, 4, 2) cannot be broadcast"),
    ("add broadcast", lambda: t(2, 3) + t(4), ValueError, "add: shapes (2, 3) and (4,) cannot be broadcast together"),
    ("multiply broadcast", lambda: autograd.multiply(t(2), np.ones(3)), ValueError,
     "multiply: shapes (2,) and (3,) cannot be broadcast"),
    ("maximum broadcast", lambda: autograd.maximum(t(2), t(3)), ValueError, "maximum: shapes (2,) and (3,)"),
    ("where broadcast", lambda: autograd.where(np.ones(2, bool), t(3), t(3)), ValueError,
     "where: shapes (2,), (3,) and (3,) cannot be broadcast"),
    ("where condition dtype", lambda: autograd.where(np.ones(2), t(2), t(2)), TypeError,
     "where: condition must be boolean, got float64"),
    ("reshape size", lambda: t(2, 3).reshape(4), ValueError,
     "reshape: cannot reshape tensor of shape (2, 3) (6 elements) into (4,)"),
    ("reshape two -1", lambda: t(2, 3).reshape(-1, -1), ValueError, "reshape: cannot reshape tensor of shape (2, 3)"),
    ("transpose perm", lambda: t(2, 3).transpose(0, 0), ValueError,
     "transpose: axes (0, 0) are not a permutation of the 2 axes of shape (2, 3)"),
    ("sum axis bounds", lambda: t(2, 3).sum(axis=2), ValueError,
     "sum: axis 2 is out of bounds for a tensor with 2 dimensions"),
    ("mean negative axis bounds", lambda: autograd.mean(t(2, 3), axis=-3), ValueError,
     "mean: axis -3 is out of bounds for a tensor with 2 dimensions"),
    ("max repeated axis", lambda: t(2, 3).max(axis=(1, -1)), ValueError, "max: repeated axis in (1, -1)"),
    ("sum axis type", lambda: t(2, 3).sum(axis=1.5), TypeError, "sum: axis must be an int or a tuple of ints, got 1.5"),
    ("max empty axis", lambda: t(0, 3).max(axis=0), ValueError,
     "max: zero-size reduction over axis (0,) of shape (0, 3)"),
    ("var ddof", lambda: t(2, 3).var(axis=1, ddof=3), ValueError,
     "var: ddof=3 needs more than 3 elements per reduction, but axis (1,) of shape (2, 3) has 3"),
    ("softmax axis", lambda: t(2, 3).softmax(axis=2), ValueError,
     "softmax: axis 2 is out of bounds for a tensor with 2 dimensions"),
    ("log_softmax 0-d", lambda: autograd.log_softmax(t()), ValueError,
     "log_softmax: axis -1 is out of bounds for a tensor with 0 dimensions"),
    ("argmax empty", lambda: autograd.argmax(t(0)), ValueError, "argmax: attempt to get argmax of an empty tensor"),
    ("concatenate shapes", lambda: autograd.concatenate([t(2, 3), t(2, 4)]), ValueError,
     "concatenate: shapes (2, 3), (2, 4) do not match outside axis 0"),
    ("concatenate empty", lambda: autograd.concatenate([]), ValueError, "concatenate: need at least one tensor"),
    ("concatenate 0-d", lambda: autograd.concatenate([t(), t()]), ValueError,
     "concatenate: zero-dimensional tensors cannot be concatenated"),
    ("stack shapes", lambda: autograd.stack([t(2), t(3)]), ValueError,
     "stack: all tensors must have the same shape, got (2,), (3,)"),
    ("split sections", lambda: autograd.split(t(5), 2), ValueError,
     "split: array split does not result in an equal division: axis 0 of length 5 into 2 sections"),
    ("squeeze axis", lambda: t(2, 1).squeeze(0), ValueError,
     "squeeze: cannot select axis 0 of shape (2, 1): its length is not 1"),
    ("expand_dims axis", lambda: t(2).expand_dims(3), ValueError,
     "expand_dims: axis 3 is out of bounds for a tensor with 2 dimensions"),
    ("expand_dims repeated", lambda: t(2).expand_dims((0, 0)), ValueError, "expand_dims: repeated axis in (0, 0)"),
    ("broadcast_to", lambda: t(3).broadcast_to((4,)), ValueError, "broadcast_to: cannot broadcast shape (3,) to (4,)"),
    ("clip order", lambda: t(3).clip(1.0, 0.0), ValueError, "clip: lo (1.0) must not exceed hi (0.0)"),
    ("clip bounds", lambda: autograd.clip(t(3)), ValueError, "clip: at least one of lo and hi must be given"),
    ("repeat negative", lambda: t(3).repeat(-1), ValueError, "repeat: repeats must be non-negative integers, got -1"),
    ("repeat count", lambda: autograd.repeat(t(3), [1, 2], axis=0), ValueError,
     "repeat: 2 repeats do not match axis 0 of length 3"),
    ("tile negative", lambda: t(3).tile(-2), ValueError, "tile: reps must be non-negative, got (-2,)"),
    ("pad mode", lambda: autograd.pad(t(3), 1, mode="mean"), ValueError,
     "pad: mode must be one of ('constant', 'edge', 'reflect', 'symmetric', 'wrap'), got 'mean'"),
    ("pad negative", lambda: autograd.pad(t(3), -1), ValueError, "pad: pad_width must be non-negative, got -1"),
    ("pad width shape", lambda: autograd.pad(t(3), [(1, 2), (3, 4)]), ValueError,
     "pad: pad_width [(1, 2), (3, 4)] does not fit a tensor of shape (3,)"),
    ("take dtype", lambda: autograd.take(t(3), [0.5]), TypeError, "take: indices must be integers, got float64"),
    ("getitem bounds", lambda: t(3)[5], IndexError,
     "getitem: index 5 is out of bounds for axis 0 with size 3 (tensor of shape (3,))"),
    ("einsum operands", lambda: autograd.einsum("ij,jk->ik", t(2, 3)), ValueError,
     "einsum: subscripts 'ij,jk->ik' name 2 operands but 1 were given"),
    ("einsum dims", lambda: autograd.einsum("ij->i", t(2, 3, 4)), ValueError,
     "einsum: operand 0 of shape (2, 3, 4) has 3 dimensions but 'ij' has 2 labels"),
    ("einsum sizes", lambda: autograd.einsum("ij,jk->ik", t(2, 3), t(4, 2)), ValueError,
     "einsum: label 'j' has size 3 in one operand and 4 in operand 1 (shapes (2, 3), (4, 2))"),
    ("einsum char", lambda: autograd.einsum("i1->i", t(2, 3)), ValueError, "einsum: invalid character '1'"),
    ("einsum output label", lambda: autograd.einsum("ij->k", t(2, 3)), ValueError,
     "einsum: output label 'k' of 'ij->k' appears in no operand"),
    ("einsum repeated output", lambda: autograd.einsum("i->ii", t(2)), ValueError,
     "einsum: output label 'i' appears more than once in 'i->ii'"),
    ("einsum ellipsis", lambda: autograd.einsum("...i,...i->...", t(2, 3), t(4, 3)), ValueError,
     r"einsum: the '...' dimensions (2,), (4,) cannot be broadcast together"),
    ("einsum ellipsis output", lambda: autograd.einsum("...i->i", t(2, 3)), ValueError,
     "einsum: output 'i' of '...i->i' needs '...' for the broadcast dimensions (2,)"),
    ("einsum subscripts type", lambda: autograd.einsum(3, t(2)), TypeError, "einsum: subscripts must be a string"),
]


class _Recorder:
    def __init__(self):
        self.ops = []

    def on_forward(self, op, out):
        self.ops.append(op.name)

    def on_backward(self, op, grad_out, grad_inputs):
        pass


@pytest.mark.parametrize("call,exc,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_names_the_op_and_shapes_and_records_nothing(call, exc, pattern):
    rec = _Recorder()
    engine.add_observer(rec)
    try:
        with pytest.raises(exc, match=re.escape(pattern)):
            call()
    finally:
        engine.remove_observer(rec)
    assert rec.ops == [], f"ops were recorded before the error: {rec.ops}"


def test_errors_are_raised_in_no_grad_mode_too():
    with autograd.no_grad(), pytest.raises(ValueError, match=re.escape("matmul: shapes (3, 4) and (5, 2)")):
        autograd.matmul(np.ones((3, 4)), np.ones((5, 2)))
