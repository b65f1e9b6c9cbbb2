"""Per-thread switches read on every op: grad mode, anomaly mode, module scope, observers.

Each thread has its own ``state``. A grad-mode context manager keeps the modes it replaced per
thread, so one ``no_grad()`` instance may be entered again while active, and from several threads
at once, and every exit restores what the matching enter in the same thread replaced.
"""
from __future__ import annotations

import functools
import inspect
import threading

import numpy as np


class _ThreadState(threading.local):
    """The switches of one thread (``threading.local``: every thread starts from these defaults).

    ``plain_scope`` is derived from the others so that an op reads one switch: None while anomaly mode, an
    observer or a capture watches; else False in grad mode off, and the module scope while ops are recorded."""

    backward_node = None      # the node whose backward is being recorded (create_graph), if any
    watched = False           # anomaly, observers or a capture recording
    plain_scope = ()
    _grad_enabled = True
    _scope = ()               # modules the current op runs inside, outermost first
    _anomaly = False
    _observers = ()
    _tracer = None

    def _changed(self):
        self.watched = watched = bool(self._anomaly) or bool(self._observers) or self._tracer is not None
        self.plain_scope = None if watched else self._scope if self._grad_enabled else False

    def push_scope(self, entry):
        """Enter ``entry`` (a module or call) and return the scope to restore; the cheap path of ``scope = ...``
        (each thread-local access costs about 100 ns: a scope change moves only the scope, so only it is touched)."""
        prev = self._scope
        self._scope = scope = prev + (entry,)
        plain = self.plain_scope
        if plain is not None and plain is not False:  # recording and unwatched: it is the scope
            self.plain_scope = scope
        return prev

    def pop_scope(self, prev):
        """Restore the scope ``push_scope`` returned."""
        self._scope = prev
        plain = self.plain_scope
        if plain is not None and plain is not False:
            self.plain_scope = prev

    def _setter(name):
        def set_value(self, value):
            setattr(self, name, value)
            self._changed()
        return set_value

    def _set_grad_enabled(self, value):
        """Grad mode alone changes what ``plain_scope`` is, not what watches (the setter run by every no_grad)."""
        self._grad_enabled = value
        self.plain_scope = None if self.watched else self._scope if value else False

    grad_enabled = property(lambda self: self._grad_enabled, _set_grad_enabled,
                            doc="Whether new operations are recorded.")
    scope = property(lambda self: self._scope, _setter("_scope"),
                     doc="The modules the current op runs inside, outermost first.")
    anomaly = property(lambda self: self._anomaly, _setter("_anomaly"),
                       doc="False, or the active ``detect_anomaly`` instance.")
    observers = property(lambda self: self._observers, _setter("_observers"),
                         doc="Objects told about each forward op and backward step.")
    tracer = property(lambda self: self._tracer, _setter("_tracer"),
                      doc="autograd.capture's recorder while it records a call (autograd/capture.py), or None.")
    del _setter


state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for differentiation (the default)."""
    return state.grad_enabled


# --------------------------------------------------------------------------- grad mode


class PerThreadRestore:
    """What a context manager's enters replaced, kept per thread, so one instance may be entered again while
    active and from several threads, and each exit restores what the matching enter in its thread replaced."""

    def __init__(self):
        self._previous = {}  # thread id -> replaced values, innermost last

    def _remember(self, value):
        self._previous.setdefault(threading.get_ident(), []).append(value)

    def _recall(self):
        thread = threading.get_ident()
        stack = self._previous[thread]
        value = stack.pop()
        if not stack:
            del self._previous[thread]
        return value


class _GradMode(PerThreadRestore):
    """Base of the grad-mode switches: a context manager that is also a decorator."""

    mode = True

    def __enter__(self):
        self._remember(state.grad_enabled)
        state.grad_enabled = self.mode

    def __exit__(self, *exc):
        state.grad_enabled = self._recall()
        return False

    def __call__(self, fn):
        mode = self.mode
        if inspect.isgeneratorfunction(fn):
            return generator_in_mode(fn, lambda: _Switch(mode))

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _Switch(mode):
                return fn(*args, **kwargs)

        return wrapper


class _Switch(_GradMode):
    """Set grad mode to ``mode`` inside and restore it on exit (what the decorators use)."""

    def __init__(self, mode):
        super().__init__()
        self.mode = mode


def generator_in_mode(fn, switch):
    """Decorate a generator function so its body runs inside ``switch()`` each time it resumes (not only
    when the generator object is created), while the caller's code between items keeps its own mode."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with switch():
                item = gen.send(None)
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    with switch():
                        gen.close()
                    raise
                except BaseException as exc:
                    with switch():
                        item = gen.throw(exc)
                else:
                    with switch():
                        item = gen.send(sent)
        except StopIteration as stop:
            return stop.value

    return wrapper


class no_grad(_GradMode):
    """Do not record operations (inference, optimiser updates). Thread-local."""

    mode = False


class enable_grad(_GradMode):
    """Record operations even inside ``no_grad``. Thread-local."""

    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording off now; as a context it restores on exit."""

    def __init__(self, mode: bool):
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__}")
        super().__init__()
        self.mode = bool(mode)
        self._thread = threading.get_ident()
        self._prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __enter__(self):
        pass  # already switched in __init__, like torch.set_grad_enabled

    def __exit__(self, *exc):
        if threading.get_ident() == self._thread:
            state.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        state.grad_enabled = self._prev  # used as a decorator: switch only while fn runs, not from now on
        return super().__call__(fn)


# --------------------------------------------------------------------------- scopes and observers


class module_scope:
    """Tag every op recorded inside with a module path (read back as ``node.scope``)."""

    __slots__ = ("name", "_prev")

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self._prev = state.push_scope(self.name)

    def __exit__(self, *exc):
        state.pop_scope(self._prev)
        return False


def add_observer(observer) -> None:
    """Register an object told about each forward op and backward step in this thread.

    ``observer.on_forward(node, outputs)`` runs after a node is recorded (``outputs``: its output
    Tensor, or a tuple of them for a node with several outputs);
    ``observer.on_backward(node, grad_outputs, grad_inputs)`` runs after each node's backward, with one
    gradient per output and per input (None where there is none). Observers only read.
    """
    state.observers = state.observers + (observer,)


def remove_observer(observer) -> None:
    """Unregister an observer added with ``add_observer``."""
    state.observers = tuple(o for o in state.observers if o is not observer)
