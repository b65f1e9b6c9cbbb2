"""detect_anomaly: the first NaN/inf in a forward or backward names the op and the line that created it."""
import inspect
import threading

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor, detect_anomaly

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns about the NaN/inf we provoke


def here(offset=1):
    """'this_file:line' of the caller's line plus ``offset``."""
    frame = inspect.currentframe().f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno + offset}"


def test_forward_nan_names_op_and_creation_line():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError) as info:
        loc = here()
        x.log()
    msg = str(info.value)
    assert "op 'log'" in msg and "NaN" in msg and "forward" in msg
    assert f"{loc} in test_forward_nan_names_op_and_creation_line" in msg


def test_forward_inf_also_detected_even_without_grad():
    with detect_anomaly(), pytest.raises(RuntimeError, match="op 'divide' produced inf"):
        ag.divide(Tensor(np.array([1.0])), Tensor(np.array([0.0])))


def test_backward_inf_names_op_and_creation_line():
    x = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with detect_anomaly():
        loc = here()
        y = x.sqrt()  # forward is finite; d sqrt / dx = inf at 0
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert "backward of op 'sqrt' returned inf" in msg and "input 0" in msg
    assert f"{loc} in test_backward_inf_names_op_and_creation_line" in msg


def test_backward_nan_through_chain_names_first_bad_op():
    x = Tensor(np.array([0.0]), requires_grad=True)
    with detect_anomaly():
        y = (x.sqrt() * 0.0).sum()  # 0 * inf = NaN appears in sqrt's backward
        with pytest.raises(RuntimeError, match="backward of op 'sqrt' returned NaN"):
            y.backward()


def test_backward_check_when_graph_built_outside_names_unknown_location():
    x = Tensor(np.array([0.0]), requires_grad=True)
    y = x.sqrt().sum()
    with detect_anomaly(), pytest.raises(RuntimeError, match="unknown location .*enter it before the forward"):
        y.backward()


def test_no_checks_outside_the_context():
    x = Tensor(np.array([-1.0]), requires_grad=True)
    y = x.log()  # NaN, silently, like NumPy
    assert np.isnan(y.data).all()
    assert not ag.is_anomaly_enabled()


def test_check_nan_false_only_records_location():
    x = Tensor(np.array([-1.0]), requires_grad=True)
    with detect_anomaly(check_nan=False):
        loc = here()
        y = x.log()
    assert y.grad_fn.site.startswith(loc)


def test_decorator_nesting_and_restoring():
    @detect_anomaly()
    def f(t):
        assert ag.is_anomaly_enabled()
        return t.log()

    with pytest.raises(RuntimeError, match="op 'log'"):
        f(Tensor(np.array([-1.0])))
    assert not ag.is_anomaly_enabled()
    with detect_anomaly():
        with detect_anomaly(check_nan=False):
            Tensor(np.array([-1.0])).log()  # inner mode does not check
        assert ag.is_anomaly_enabled()
        with pytest.raises(RuntimeError):
            Tensor(np.array([-1.0])).log()
    assert not ag.is_anomaly_enabled()


def test_thread_local():
    seen = {}
    inside = threading.Event()
    done = threading.Event()

    def other():
        inside.wait()
        seen["enabled"] = ag.is_anomaly_enabled()
        seen["value"] = Tensor(np.array([-1.0])).log().data[0]  # must not raise here
        done.set()

    th = threading.Thread(target=other)
    th.start()
    with detect_anomaly():
        inside.set()
        done.wait()
    th.join()
    assert seen["enabled"] is False and np.isnan(seen["value"])


def test_finite_values_pass_and_values_unchanged():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with detect_anomaly():
        y = (x.exp() * x).sum()
        y.backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data) * (1 + x.data))
