"""The one switch an op reads (``state.plain_scope``) agrees with grad mode, anomaly mode, observers, capture
and the module scope in every combination, and each fast path it selects behaves as the general path does."""
import itertools
import threading

import numpy as np
import pytest

import autograd as ag
from autograd.mode import add_observer, module_scope, remove_observer, state


class _Recorder:
    """An observer that lists the ops it is told about."""

    def __init__(self):
        self.forward = []

    def on_forward(self, op, out):
        self.forward.append(op.name)

    def on_backward(self, op, grads_out, grads_in):
        pass


def _expected(grad_on, anomaly, observers, tracer, scope):
    if anomaly or observers or tracer is not None:
        return None
    return scope if grad_on else False


@pytest.mark.parametrize("grad_on, anomaly, observed, traced, scoped",
                         list(itertools.product([True, False], repeat=5)))
def test_plain_scope_follows_every_switch(grad_on, anomaly, observed, traced, scoped):
    saved = (state.grad_enabled, state.anomaly, state.observers, state.tracer, state.scope)
    try:
        # Set the switches in both orders: the derived value may not depend on which was set last.
        for order in (0, 1):
            values = [("grad_enabled", grad_on), ("anomaly", object() if anomaly else False),
                      ("observers", (_Recorder(),) if observed else ()), ("tracer", object() if traced else None),
                      ("scope", ("block",) if scoped else ())]
            for name, value in (values if order == 0 else values[::-1]):
                setattr(state, name, value)
            assert state.plain_scope == _expected(state.grad_enabled, state.anomaly, state.observers,
                                                  state.tracer, state.scope)
            assert state.watched == (anomaly or observed or traced)
    finally:
        for name, value in zip(("grad_enabled", "anomaly", "observers", "tracer", "scope"), saved):
            setattr(state, name, value)
    assert state.plain_scope == ()


def test_no_grad_records_nothing_and_restores_recording():
    x = ag.tensor(np.array([0.5, -1.0]), requires_grad=True)
    with ag.no_grad():
        assert state.plain_scope is False
        y = (x * 2.0).tanh()
        assert y.grad_fn is None and not y.requires_grad
        np.testing.assert_allclose(y.data, np.tanh(np.array([1.0, -2.0])))
    assert state.plain_scope == ()
    z = (x * 2.0).tanh()
    assert z.grad_fn is not None and z.requires_grad


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_anomaly_mode_still_checks_forwards_under_no_grad():
    x = ag.tensor(np.array([-1.0]), requires_grad=True)
    with ag.no_grad():
        with pytest.warns(RuntimeWarning):
            ag.log(x)  # NaN with a warning only: nothing watches
    with ag.detect_anomaly(), ag.no_grad():
        assert state.plain_scope is None
        with pytest.raises(RuntimeError, match="log"):
            ag.log(x)


def test_observers_see_recorded_ops_only():
    rec = _Recorder()
    x = ag.tensor(np.array([0.5]), requires_grad=True)
    add_observer(rec)
    try:
        assert state.plain_scope is None
        x.tanh()
        with ag.no_grad():
            x.sigmoid()
        ag.tensor(np.array([1.0])).exp()  # no input requires grad: no node
    finally:
        remove_observer(rec)
    assert rec.forward == ["tanh"]
    assert state.plain_scope == ()


def test_module_scope_reaches_recorded_nodes():
    x = ag.tensor(np.array([0.5]), requires_grad=True)
    with module_scope("outer"), module_scope("inner"):
        assert state.plain_scope == ("outer", "inner")
        y = x.tanh()
    assert y.grad_fn.scope == ("outer", "inner")
    assert x.tanh().grad_fn.scope == ()


def test_each_thread_has_its_own_switch():
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def other():
        seen["start"] = state.plain_scope
        with ag.no_grad():
            seen["inside"] = state.plain_scope
            entered.set()
            release.wait(5)
        seen["after"] = state.plain_scope

    t = threading.Thread(target=other)
    with module_scope("main"):
        t.start()
        assert entered.wait(5)
        assert state.plain_scope == ("main",)  # the other thread's no_grad does not reach this one
        release.set()
        t.join(5)
    assert seen == {"start": (), "inside": False, "after": ()}


def _fields(t):
    return {name: getattr(t, name) for name in ag.Tensor.__slots__ if name not in ("__weakref__", "_data")}


def test_fast_paths_fill_every_tensor_field_as_wrap_does():
    # ``Op.apply`` writes ``Tensor._wrap`` out on its hot paths: a field added to Tensor must be set there too.
    x = ag.tensor(np.array([0.5, -1.0]), requires_grad=True)
    with ag.no_grad():
        plain = x.tanh()
    assert _fields(plain) == _fields(ag.Tensor._wrap(plain.data))
    constant = ag.tensor(np.array([0.5])).tanh()  # grad mode on, no input requires grad
    assert _fields(constant) == _fields(ag.Tensor._wrap(constant.data))
    recorded = x.tanh()
    assert _fields(recorded) == _fields(ag.Tensor._wrap(recorded.data, recorded.grad_fn, 0, None))


@pytest.mark.parametrize("grad_on, anomaly, observed", list(itertools.product([True, False], repeat=3)))
def test_push_and_pop_scope_keep_the_switch_derived_under_every_mode(grad_on, anomaly, observed):
    """push_scope/pop_scope (what Module.__call__ uses) touch only the scope, yet the switch stays what the
    switches say, also when a mode changes inside the pushed scope and is restored after it is popped."""
    rec = _Recorder()
    expect = lambda: _expected(state.grad_enabled, state.anomaly, state.observers, state.tracer, state.scope)  # noqa: E731
    with ag.set_grad_enabled(grad_on), (ag.detect_anomaly() if anomaly else module_scope("x")):
        if observed:
            add_observer(rec)
        try:
            base = state.scope
            outer = state.push_scope("a")
            assert outer == base and state.scope == base + ("a",) and state.plain_scope == expect()
            inner = state.push_scope("b")
            assert state.scope == base + ("a", "b") and state.plain_scope == expect()
            with ag.set_grad_enabled(not grad_on):  # a switch inside the scope sees it, and restores it
                assert state.plain_scope == expect()
                third = state.push_scope("c")
                assert state.plain_scope == expect()
                state.pop_scope(third)
            assert state.plain_scope == expect()
            state.pop_scope(inner)
            assert state.scope == base + ("a",) and state.plain_scope == expect()
            state.pop_scope(outer)
            assert state.scope == base and state.plain_scope == expect()
        finally:
            if observed:
                remove_observer(rec)
    assert state.scope == () and state.plain_scope == ()


def test_a_scope_popped_under_another_mode_is_still_restored():
    """A generator may leave a scope while no_grad (entered after the push) is active: the switch follows."""
    x = ag.tensor(np.array([0.5]), requires_grad=True)
    prev = state.push_scope("block")
    with ag.no_grad():
        state.pop_scope(prev)
        assert state.plain_scope is False and state.scope == ()
    assert state.plain_scope == ()
    assert x.tanh().grad_fn.scope == ()


def test_a_module_call_restores_the_scope_when_forward_raises_and_records_inside_it():
    import nn

    seen = []

    class Tagged(nn.Module):
        def forward(self, x, fail=False):
            seen.append((state.scope, state.plain_scope))
            if fail:
                raise ValueError("bad input")
            return x.tanh()

    m = Tagged()
    x = ag.tensor(np.array([0.5]), requires_grad=True)
    assert m(x).grad_fn.scope == (m,) and seen.pop() == ((m,), (m,))
    with pytest.raises(ValueError, match="bad input"):
        m(x, fail=True)
    assert seen.pop() == ((m,), (m,)) and state.scope == () and state.plain_scope == ()
    with ag.no_grad():
        assert m(x).grad_fn is None  # the scope is pushed; nothing is recorded
        assert seen.pop() == ((m,), False) and state.plain_scope is False
    assert state.scope == () and state.plain_scope == ()
