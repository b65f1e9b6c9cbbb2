"""Grad mode and the backward pass: an iterative, topologically ordered walk over the graph.

The graph is made of ``Op`` nodes (see ``autograd.op``); each Tensor produced by an op
points at it through ``grad_fn``. ``run_backward`` visits nodes in reverse topological
order with an explicit work list, so a chain of any length never touches Python's
recursion limit.
"""
from __future__ import annotations

import functools
import inspect
import threading

import numpy as np


class _ThreadState(threading.local):
    """Per-thread switches read on every op: grad mode, anomaly mode, module scope, observers."""

    grad_enabled = True
    anomaly = False
    scope = ()
    observers = ()


state = _ThreadState()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for differentiation (the default)."""
    return state.grad_enabled


class _GradMode:
    """Base of the grad-mode switches: a context manager that is also a decorator."""

    mode = True

    def __enter__(self):
        # A stack, so one instance can be entered again while already active (``with ng: ... with ng:``).
        self.__dict__.setdefault("_prevs", []).append(state.grad_enabled)
        state.grad_enabled = self.mode

    def __exit__(self, *exc):
        state.grad_enabled = self._prevs.pop()
        return False

    def __call__(self, fn):
        mode = self.mode

        def switch():
            return _Switch(mode)

        if inspect.isgeneratorfunction(fn):
            return _generator_in_mode(fn, switch)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with switch():
                return fn(*args, **kwargs)

        return wrapper


class _Switch:
    """Set grad mode to ``mode`` inside, restore the previous one on exit (what the decorators use)."""

    __slots__ = ("mode", "_prev")

    def __init__(self, mode):
        self.mode = mode

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False


def _generator_in_mode(fn, switch):
    """Decorate a generator function so its body runs in the mode each time it resumes (not only when
    the generator object is created), while the caller's code between items keeps its own mode."""

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
        self.mode = bool(mode)
        self._prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __enter__(self):
        pass  # already switched in __init__, like torch.set_grad_enabled

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        state.grad_enabled = self._prev  # used as a decorator: switch only while fn runs, not from now on
        return super().__call__(fn)


class module_scope:
    """Tag every op recorded inside with a module path (used by ``viz.draw_model``)."""

    __slots__ = ("name", "_prev")

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self._prev = state.scope
        state.scope = self._prev + (self.name,)

    def __exit__(self, *exc):
        state.scope = self._prev
        return False


def add_observer(observer) -> None:
    """Register an object told about each forward op and backward step in this thread.

    ``observer.on_forward(op, out_tensor)`` runs after an op is recorded;
    ``observer.on_backward(op, grad_output, grad_inputs)`` runs after each node's backward.
    Observers only read; they must not change values.
    """
    state.observers = state.observers + (observer,)


def remove_observer(observer) -> None:
    """Unregister an observer added with ``add_observer``."""
    state.observers = tuple(o for o in state.observers if o is not observer)


# --------------------------------------------------------------------------- backward


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes NumPy broadcasting added or stretched, back to ``shape``.

    The single helper every binary op relies on (the engine applies it on each edge).
    Works for ndarrays and for Tensors (when the backward pass is being recorded).
    """
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != gshape[i + lead] for i, s in enumerate(shape)):
        raise RuntimeError(f"internal: gradient of shape {gshape} cannot be reduced to input shape {shape}")
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(shape)
    return grad


def _sum_grads(a, b):
    """Add two gradient contributions (arrays, Tensors, or per-output tuples of them)."""
    if isinstance(a, tuple):
        return tuple(y if x is None else x if y is None else x + y for x, y in zip(a, b))
    return a + b


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None, allow_unused=False):
    """Back-propagate ``root_grads`` from the Tensors ``roots``.

    Without ``inputs`` gradients accumulate into ``.grad`` of the leaves (and of tensors
    that called ``retain_grad``). With ``inputs`` (a sequence of Tensors) nothing is
    accumulated and the gradients with respect to them are returned, like
    ``torch.autograd.grad``. With ``create_graph`` the backward computations are themselves
    recorded, so the returned gradients can be differentiated again.
    """
    from .tensor import Tensor

    prev_mode = state.grad_enabled
    state.grad_enabled = bool(create_graph)
    try:
        return _run(Tensor, roots, root_grads, retain_graph, create_graph, inputs, allow_unused)
    finally:
        state.grad_enabled = prev_mode


def _as_grad_value(Tensor, g, create_graph):
    """Graph mode works on Tensors, plain mode on ndarrays; convert an op's result to the mode."""
    if create_graph:
        return g if isinstance(g, Tensor) else Tensor._make(np.asarray(g))
    return g.data if isinstance(g, Tensor) else g


def _run_hooks(Tensor, hooks, g, create_graph, dtype):
    """Pass gradient ``g`` through the hooks of a tensor of ``dtype``; a returned value must have g's shape
    and g's or the tensor's dtype (they differ where a float32 tensor feeds a float64 op)."""
    for h in tuple(hooks):
        r = h(g if create_graph else Tensor._make(g))
        if r is None:
            continue
        name = getattr(h, "__qualname__", None) or repr(h)
        if not isinstance(r, (Tensor, np.ndarray)):
            raise TypeError(f"register_hook: hook {name} must return a Tensor, an ndarray or None, "
                            f"got {type(r).__name__}")
        if r.shape != g.shape:
            raise ValueError(f"register_hook: hook {name} returned a gradient of shape {r.shape} for a tensor of "
                             f"shape {g.shape}")
        if r.dtype != g.dtype and r.dtype != dtype:
            raise TypeError(f"register_hook: hook {name} returned a gradient of dtype {r.dtype} for a gradient of "
                            f"dtype {g.dtype}; return it in the same dtype (cast with .astype)")
        g = _as_grad_value(Tensor, r, create_graph)
    return g


def _run(Tensor, roots, root_grads, retain_graph, create_graph, inputs, allow_unused):
    observers = state.observers
    anomaly = state.anomaly
    # Which tensors the caller wants gradients for: leaves by identity, non-leaves by node.
    wanted_leaf = {}
    wanted_node = {}
    results = None
    if inputs is not None:
        results = [None] * len(inputs)
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor) or not t.requires_grad:
                raise RuntimeError(f"grad: input {i} does not require grad, so no gradient can be taken for it")
            if t.grad_fn is None:
                wanted_leaf.setdefault(id(t), []).append(i)
            else:
                wanted_node.setdefault(t.grad_fn, []).append(i)

    handed = set()  # ids of arrays already stored as some .grad in this pass (never alias two)

    leaf_grads = {}  # id(leaf) -> [leaf, summed gradient]: hooks and .grad see each leaf's total once

    def deliver_leaf(t, g):
        entry = leaf_grads.get(id(t))
        if entry is None:
            leaf_grads[id(t)] = [t, g]
        else:
            entry[1] = entry[1] + g

    def finish_leaf(t, g):
        if t._hooks:
            g = _run_hooks(Tensor, t._hooks, g, create_graph, t.dtype)
        if results is not None:
            for i in wanted_leaf.get(id(t), ()):
                results[i] = g
            return
        shared = id(g) in handed
        handed.add(id(g))
        _accumulate_into(t, g, create_graph, copy=shared)

    # 1. Seed: gradients arriving at each root's node (or directly at a leaf root).
    grads = {}
    for i, (t, g) in enumerate(zip(roots, root_grads)):
        if not t.requires_grad:
            raise RuntimeError(f"backward: output {i} does not require grad (no input it depends on requires "
                               "grad, or it was computed under no_grad); call requires_grad_() on an input")
        if g.shape != t.shape:
            raise ValueError(f"backward: gradient has shape {g.shape} but the tensor has shape {t.shape}")
        if create_graph:
            g = g if isinstance(g, Tensor) else Tensor._make(np.asarray(g))
        else:
            handed.add(id(g))  # the caller may hold this array: copy before storing it
        node = t.grad_fn
        if node is None:
            deliver_leaf(t, g)
        else:
            grads[node] = _sum_grads(grads[node], g) if node in grads else g

    # 2. Count, for every node reachable from the roots, how many edges feed it gradient.
    pending = {}
    stack = list(grads)
    seen = set(stack)
    while stack:
        node = stack.pop()
        for t in node.inputs:
            if isinstance(t, Tensor) and t.requires_grad:
                parent = t.grad_fn
                if parent is not None:
                    pending[parent] = pending.get(parent, 0) + 1
                    if parent not in seen:
                        seen.add(parent)
                        stack.append(parent)

    # With inputs=, only nodes that lead to a wanted input run (the rest, e.g. a caller's graph
    # behind a non-leaf input, may be large or already released).
    needed = _needed_nodes(Tensor, seen, wanted_leaf, wanted_node) if results is not None else None

    # 3. Visit nodes once all their gradient has arrived (Kahn's algorithm, newest first).
    ready = sorted((n for n in grads if n not in pending), key=lambda n: n.seq)
    while ready:
        node = ready.pop()
        g = grads.pop(node)
        if needed is not None and node not in needed and node not in wanted_node:
            continue  # leads to no wanted input; its parents cannot either, so they are never reached
        if node.hooks:
            g = _run_hooks(Tensor, node.hooks, g, create_graph, node.out.dtype)
        if node.retained is not None and results is None:  # grad(inputs=...) fills no .grad
            t = node.retained()
            if t is not None:
                _accumulate_into(t, g, create_graph, copy=True)
        if wanted_node and node in wanted_node:
            for i in wanted_node[node]:
                results[i] = g
            if node not in needed:
                continue  # a wanted input whose own inputs lead to no other wanted input: stop here
        if node.released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (op '{node.name}'); its saved values "
                "were freed after the first backward. Pass retain_graph=True to the first backward "
                "if you need to backward through the graph again.")
        in_grads = node.run_backward(g, create_graph)
        if anomaly:
            from .anomaly import check_backward
            check_backward(node, in_grads)
        if observers:
            for obs in observers:
                obs.on_backward(node, g, in_grads)
        if not retain_graph:
            node.release()
        for t, gi in zip(node.inputs, in_grads):
            if gi is None or type(t) is not Tensor and not isinstance(t, Tensor) or not t.requires_grad:
                continue
            if gi.shape != t.data.shape:
                gi = unbroadcast(gi, t.data.shape)
            parent = t.grad_fn
            if parent is None:
                deliver_leaf(t, gi)
                continue
            if parent in grads:
                grads[parent] = _sum_grads(grads[parent], gi)
            else:
                grads[parent] = gi
            left = pending[parent] - 1
            pending[parent] = left
            if not left:
                ready.append(parent)

    for t, g in leaf_grads.values():
        finish_leaf(t, g)

    if results is not None:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(f"grad: input {i} is not used to compute the output; "
                                   "pass allow_unused=True to get None for it")
        return results
    return None


def _needed_nodes(Tensor, nodes, wanted_leaf, wanted_node):
    """Nodes whose backward must run for ``inputs=``: some input leads to a wanted tensor.

    Visited oldest first, so every node's inputs are decided before the node itself.
    """
    needed = set()
    for node in sorted(nodes, key=lambda n: n.seq):
        for t in node.inputs:
            if isinstance(t, Tensor) and t.requires_grad:
                parent = t.grad_fn
                hit = (id(t) in wanted_leaf) if parent is None else (parent in needed or parent in wanted_node)
                if hit:
                    needed.add(node)
                    break
    return needed


def _accumulate_into(t, g, create_graph, copy=False):
    """Add gradient ``g`` into ``t.grad``, in ``t``'s dtype, never aliasing another array."""
    from .tensor import Tensor

    if create_graph:
        if g.dtype != t.dtype:
            g = g.astype(t.dtype)
        if g.grad_fn is None:  # a constant may be shared by several leaves or be a read-only view: own a copy
            g = Tensor._make(np.array(g.data, copy=True))
        t.grad = g if t.grad is None else t.grad + g
        return
    if g.dtype != t.dtype:
        g = g.astype(t.dtype)
    old = t.grad
    if old is None or old.shape != t.shape:
        # Own the array: a gradient may be shared by several inputs or be a read-only view.
        t.grad = Tensor._make(np.array(g, copy=True) if copy or not g.flags.owndata or not g.flags.writeable
                              else g)
    elif old.grad_fn is not None or not old.data.flags.writeable:
        t.grad = Tensor._make(old.data + g)  # old is part of a recorded graph (create_graph): add out of place
    else:
        np.add(old.data, g, out=old.data)
