"""Every bad argument is refused where the object is built or the function called, by a TypeError (wrong kind of
value) or ValueError (out of range) whose message names the public function or class and the argument."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn import init, optim


def _w(shape=(3, 4)):
    return nn.Parameter(np.ones(shape, np.float32))


def _x(shape=(2, 3)):
    return np.ones(shape, np.float32)


def _gc(**kw):
    return ag.gradcheck(lambda t: t.sum(), [ag.Tensor(np.ones(2), requires_grad=True)], **kw)


def _stepper_goto(frame):
    import viz

    x = ag.Tensor(np.ones(2), requires_grad=True)
    return viz.Stepper((x * 2).sum()).goto(frame)


def _step_with_list_grad():
    p = _w((2,))
    opt = optim.SGD([p], lr=0.1)
    p.grad = [1.0, 2.0]
    opt.step()


CASES = [
    # constructors
    (ValueError, r"^MLP: dropout must be non-negative", lambda: nn.MLP([2, 3, 1], dropout=-0.1)),
    (TypeError, r"^MLP: dropout must be a number", lambda: nn.MLP([2, 3, 1], dropout="a")),
    (TypeError, r"^MLP: sizes must be a sequence", lambda: nn.MLP(None)),
    (ValueError, r"^LayerNorm: eps must be positive", lambda: nn.LayerNorm(3, eps=-1)),
    (TypeError, r"^LayerNorm: eps must be a number", lambda: nn.LayerNorm(3, eps="a")),
    (TypeError, r"^BatchNorm1d: eps must be a number", lambda: nn.BatchNorm1d(3, eps="a")),
    (TypeError, r"^BatchNorm2d: momentum must be a number", lambda: nn.BatchNorm2d(3, momentum="a")),
    (TypeError, r"^SGD: params must be an ordered sequence, not a set", lambda: optim.SGD({_w()}, lr=0.1)),
    (TypeError, r"^CrossEntropyLoss: weight must be numeric", lambda: nn.CrossEntropyLoss(weight="abc")),
    (TypeError, r"^CrossEntropyLoss: ignore_index must be an int", lambda: nn.CrossEntropyLoss(ignore_index="a")),
    (TypeError, r"^Embedding: padding_idx must be an int or None", lambda: nn.Embedding(10, 3, padding_idx=1.5)),
    (TypeError, r"^LeakyReLU: negative_slope must be a number", lambda: nn.LeakyReLU("a")),
    (TypeError, r"^ELU: alpha must be a number", lambda: nn.ELU("a")),
    (TypeError, r"^PReLU: init must be a number", lambda: nn.PReLU(init="a")),
    # init
    (TypeError, r"^constant_: val must be a number", lambda: init.constant_(_w(), None)),
    (ValueError, r"^normal_: std must be a finite number", lambda: init.normal_(_w(), std=float("nan"))),
    (TypeError, r"^normal_: std must be a number", lambda: init.normal_(_w(), std="a")),
    (TypeError, r"^uniform_: a must be a number", lambda: init.uniform_(_w(), a="a")),
    (TypeError, r"^trunc_normal_: a must be a number", lambda: init.trunc_normal_(_w(), a="x")),
    (TypeError, r"^orthogonal_: gain must be a number", lambda: init.orthogonal_(_w(), gain="a")),
    (TypeError, r"^xavier_uniform_: gain must be a number", lambda: init.xavier_uniform_(_w(), gain=None)),
    (ValueError, r"^xavier_uniform_: fan in and fan out", lambda: init.xavier_uniform_(_w((3,)))),
    (ValueError, r"^xavier_normal_: fan in and fan out", lambda: init.xavier_normal_(_w((3,)))),
    (ValueError, r"^kaiming_uniform_: fan in and fan out", lambda: init.kaiming_uniform_(_w((3,)))),
    (ValueError, r"^kaiming_normal_: fan in and fan out", lambda: init.kaiming_normal_(_w((3,)))),
    # functions
    (TypeError, r"^cross_entropy: ignore_index must be an int",
     lambda: F.cross_entropy(_x(), np.array([0, 1]), ignore_index="a")),
    (TypeError, r"^nll_loss: ignore_index must be an int",
     lambda: F.nll_loss(_x(), np.array([0, 1]), ignore_index=1.5)),
    (TypeError, r"^cross_entropy: weight must be numeric",
     lambda: F.cross_entropy(_x(), np.array([0, 1]), weight="abc")),
    (TypeError, r"^hinge_loss: margin must be a number", lambda: F.hinge_loss(_x(), _x(), margin="a")),
    (TypeError, r"^leaky_relu: negative_slope must be a number", lambda: F.leaky_relu(_x(), "a")),
    (TypeError, r"^elu: alpha must be a number", lambda: F.elu(_x(), "a")),
    (ValueError, r"^layer_norm: weight shape \(4,\) does not match normalized_shape \(3,\)",
     lambda: F.layer_norm(_x(), 3, np.ones(4, np.float32))),
    (ValueError, r"^layer_norm: bias shape \(4,\) does not match normalized_shape \(3,\)",
     lambda: F.layer_norm(_x(), 3, None, np.ones(4, np.float32))),
    (TypeError, r"^layer_norm: eps must be a number", lambda: F.layer_norm(_x(), 3, eps="a")),
    (TypeError, r"^batch_norm: eps must be a number", lambda: F.batch_norm(_x(), training=True, eps="a")),
    (TypeError, r"^clip_grad_norm_: max_norm must be a number", lambda: nn.utils.clip_grad_norm_([_w()], max_norm="a")),
    (TypeError, r"^clip_grad_norm_: norm_type must be a number", lambda: nn.utils.clip_grad_norm_([_w()], 1.0, "x")),
    (TypeError, r"^clip_grad_value_: clip_value must be a number", lambda: nn.utils.clip_grad_value_([_w()], None)),
    (TypeError, r"^SGD\.step: the gradient of the parameter of shape \(2,\) is a list", _step_with_list_grad),
    (TypeError, r"^gradcheck: eps must be a number", lambda: _gc(eps="a")),
    (TypeError, r"^gradcheck: rtol must be a number", lambda: _gc(rtol=None)),
    (TypeError, r"^gradcheck: atol must be a number", lambda: _gc(atol="0")),
    (TypeError, r"^Stepper\.goto: the frame must be an int", lambda: _stepper_goto("a")),
    (TypeError, r"^register_hook: the hook must be callable",
     lambda: ag.Tensor([1.0], requires_grad=True).register_hook(5)),
    (TypeError, r"^zeros: 'foo' is not a NumPy dtype", lambda: ag.zeros(2, dtype="foo")),
    (TypeError, r"^rand: 'foo' is not a NumPy dtype", lambda: ag.rand(dtype="foo")),
]
LOSSES = ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
          "nll_loss", "hinge_loss"]
for _name in LOSSES:
    CASES.append((TypeError, rf"^{_name}: input must be", lambda n=_name: getattr(F, n)(None, np.ones(2, np.float32))))
    CASES.append((TypeError, rf"^{_name}: input must be", lambda n=_name: getattr(F, n)("ab", np.ones(2, np.float32))))
    CASES.append((TypeError, rf"^{_name}: target must", lambda n=_name: getattr(F, n)(_x((2, 2)), None)))


@pytest.mark.parametrize("exc, match, call", CASES, ids=[c[1].strip("^").split(":")[0] + f"-{i}"
                                                          for i, c in enumerate(CASES)])
def test_bad_arguments_are_named(exc, match, call):
    with pytest.raises(exc, match=match):
        call()


def test_xavier_of_an_empty_matrix_is_a_no_op_not_a_zero_division():
    w = _w((0, 0))
    assert init.xavier_uniform_(w) is w and init.xavier_normal_(w) is w


def test_a_failed_constructor_argument_check_leaves_good_calls_working():
    assert nn.LayerNorm(3, eps=1e-3).eps == 1e-3
    assert nn.MLP([2, 3, 1], dropout=0.5)[2].p == 0.5
    assert nn.Embedding(10, 3, padding_idx=np.int64(1)).padding_idx == 1
    assert nn.utils.clip_grad_norm_([_w()], max_norm=np.float32(1.0), norm_type="inf") is not None
