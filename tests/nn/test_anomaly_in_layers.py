"""detect_anomaly inside nn layers names the user's line (the innermost frame outside the library), the nn
function the op ran in, and whether the NaN was already in an input or parameter."""
import inspect

import numpy as np
import pytest

import autograd as ag
import nn

HERE = __file__


def _line():
    return inspect.currentframe().f_back.f_lineno


def test_a_nan_parameter_in_a_layer_is_reported_at_the_users_line_and_named():
    lin = nn.Linear(3, 2)
    with ag.no_grad():
        lin.weight.data[0, 0] = np.nan
    with pytest.raises(RuntimeError) as e, ag.detect_anomaly():
        line = _line() + 1
        lin(np.ones((1, 3), np.float32))
    msg = str(e.value)
    assert f"created at {HERE}:{line} in test_a_nan_parameter" in msg
    assert "(in nn/functional.py:" in msg and "in linear)" in msg
    assert "was already in input 1 of the op (a parameter 'Linear.weight' of shape (2, 3)), not produced by it" in msg


def test_a_nan_in_the_input_batch_is_reported_as_already_there():
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    x = np.array([[np.nan, 1.0]], np.float32)
    with pytest.raises(RuntimeError, match=r"the NaN was already in input 0 of the op \(an input tensor of "
                                            r"shape \(1, 2\)\)"), ag.detect_anomaly():
        model(x)


def test_an_op_producing_nan_from_finite_inputs_says_so():
    x = ag.Tensor(np.array([-1.0]), requires_grad=True)
    with pytest.raises(RuntimeError) as e, ag.detect_anomaly(), np.errstate(invalid="ignore"):
        line = _line() + 1
        ag.log(x)
    assert f"{HERE}:{line}" in str(e.value) and "its inputs were all finite, so this op produced it" in str(e.value)


def test_backward_anomaly_in_a_layer_names_the_users_line():
    lin = nn.Linear(2, 1)
    x = ag.Tensor(np.array([[0.0, 1.0]], np.float32))
    with pytest.raises(RuntimeError) as e, ag.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        line = _line() + 1
        out = ag.sqrt(lin(x) * 0.0)
        out.sum().backward()
    assert "backward of op 'sqrt'" in str(e.value) and f"{HERE}:{line}" in str(e.value)
