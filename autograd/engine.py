"""The backward pass, in three parts: plan which nodes run, run them, accumulate into leaves.

The graph is made of ``Op`` nodes (see ``autograd.op``); each Tensor produced by an op points
at it through ``grad_fn`` and its ``output_index``; each node knows, per input, the producing
node and output (an edge), a leaf Tensor, or a constant. A node is always recorded after the nodes
whose outputs it consumes, so visiting nodes newest first (a heap keyed by creation order) runs each
one after all its consumers have sent their gradient, with no dependency counts; the walk is a
loop, so a chain of any length never touches Python's recursion limit.
"""
from __future__ import annotations

import threading
from heapq import heappop, heappush

import numpy as np

from .anomaly import check_backward
from .mode import (  # noqa: F401  (re-exported: the grad-mode API used to live here)
    add_observer,
    enable_grad,
    is_grad_enabled,
    module_scope,
    no_grad,
    remove_observer,
    set_grad_enabled,
    state,
)
from .op import SAVE_OUTPUT, InputEdge, shapes_and_dtypes
from .tensor import Tensor

_grad_lock = threading.Lock()  # one accumulation into a .grad at a time, from any thread


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


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None, allow_unused=False):
    """Back-propagate ``root_grads`` from the Tensors ``roots``.

    Without ``inputs`` gradients accumulate into ``.grad`` of the leaves (and of tensors that called
    ``retain_grad``). With ``inputs`` (a sequence of Tensors) nothing is accumulated and the
    gradients with respect to them are returned, like ``torch.autograd.grad``. With
    ``create_graph`` the backward computations are themselves recorded, so the returned gradients
    can be differentiated again.
    """
    if state.tracer is not None:  # autograd.capture is recording this call (see autograd/capture.py)
        state.tracer.on_backward_call(roots, root_grads, retain_graph, create_graph, inputs)
    walk = _Walk(retain_graph, create_graph, inputs)
    previous = state.grad_enabled
    state.grad_enabled = bool(create_graph)
    try:
        walk.seed(roots, root_grads)
        if walk.targets is not None:
            walk.plan()
        walk.run()
        return walk.finish(allow_unused)
    finally:
        state.grad_enabled = previous


def backward_into_grads(roots, root_grads, retain_graph=False, create_graph=False, inputs=None):
    """``Tensor.backward``: accumulate into every leaf's ``.grad``, or (``inputs``) only into theirs."""
    if inputs is None:
        run_backward(roots, root_grads, retain_graph, create_graph)
        return
    grads = run_backward(roots, root_grads, retain_graph, create_graph, inputs=inputs, allow_unused=True)
    done = set()
    for t, g in zip(inputs, grads):
        if g is not None and id(t) not in done:
            done.add(id(t))
            accumulate_grad(t, g, create_graph, copy=True)


class _Targets:
    """The tensors ``inputs=`` asks gradients for: leaves by identity, others by (node, output index)."""

    def __init__(self, inputs):
        self.leaves = {}
        self.outputs = {}
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor) or not t.requires_grad:
                raise RuntimeError(f"grad: input {i} does not require grad, so no gradient can be taken for it")
            if t.grad_fn is None:
                self.leaves.setdefault(id(t), []).append(i)
            else:
                self.outputs.setdefault((t.grad_fn, t._index), []).append(i)
        self.results = [None] * len(inputs)


class _Walk:
    """One backward pass: gradient buffers per node and sums per leaf."""

    def __init__(self, retain_graph, create_graph, inputs):
        self.retain_graph = retain_graph
        self.create_graph = create_graph
        self.targets = None if inputs is None else _Targets(inputs)
        self.grads = {}     # node -> one gradient (or None) per output, summed over consumers; in it = queued
        self.needed = None  # with inputs=: the nodes that lead to a wanted tensor
        self.leaves = {}    # id(leaf) -> [leaf, summed gradient]: hooks and .grad see each leaf's total once
        self.handed = set()  # ids of arrays the caller holds or already stored as some .grad (never alias two)

    # ------------------------------------------------------------------ 1. seed (and, for inputs=, plan)
    def seed(self, roots, root_grads):
        """Gradients arriving at each root's node (or directly at a leaf root)."""
        for i, (t, g) in enumerate(zip(roots, root_grads)):
            if not t.requires_grad:
                raise RuntimeError(f"backward: output {i} does not require grad (no input it depends on requires "
                                   "grad, or it was computed under no_grad); call requires_grad_() on an input")
            if g.shape != t.shape:
                raise ValueError(f"backward: gradient has shape {g.shape} but the tensor has shape {t.shape}")
            if self.create_graph:
                g = g if isinstance(g, Tensor) else Tensor._wrap(np.asarray(g))
            else:
                self.handed.add(id(g))  # the caller may hold this array: copy before storing it
            if t.grad_fn is None:
                self._add_leaf(t, g)
            else:
                self._add(t.grad_fn, t._index, g)

    def plan(self):
        """With ``inputs=``: find the nodes reachable from the roots that lead to a wanted tensor."""
        reached = set(self.grads)
        stack = list(reached)
        while stack:
            for x in stack.pop()._inputs:
                if type(x) is InputEdge and x[0] not in reached:
                    reached.add(x[0])
                    stack.append(x[0])
        self.needed = _leading_to(reached, self.targets)

    # ------------------------------------------------------------------ 2. run
    def run(self):
        """Visit each reached node once, newest first: by then every consumer of its outputs has run."""
        grads_of, needed, create_graph = self.grads, self.needed, self.create_graph
        queue = [(-n._order, n) for n in grads_of]
        queue.sort()
        watch, free = self.targets is not None, not self.retain_graph
        anomaly, observers = state.anomaly, state.observers
        while queue:
            node = heappop(queue)[1]
            grads = grads_of.pop(node)
            rec = node._rec  # [edges, arrays, outputs, order, freed meta, extras] (see ``Op``)
            if watch or rec[5]:
                self._received(node, grads)
            if needed is not None and node not in needed:
                continue  # leads to no wanted tensor; nor can its producers, so they are never reached
            inputs = rec[0]
            if grads[0] is not None or any(g is not None for g in grads):
                saved = node.saved
                fast = not create_graph and (not saved or saved is SAVE_OUTPUT)
                if not fast:
                    in_grads = node.run_backward(grads, create_graph)  # roles to resolve, or a recorded backward
                else:  # nothing saved, or just the output: ``run_backward``'s commonest case, written out here
                    outs = rec[2]
                    if outs is None:
                        node._raise_freed()
                    if saved:
                        node.saved = outs  # (the tuple itself: a recorded output cannot change in place)
                    try:  # (one gradient: a plain call, with no argument tuple to make)
                        in_grads = node.backward(grads[0]) if len(grads) == 1 else node.backward(*grads)
                    finally:
                        node.saved = saved
                    if type(in_grads) is not tuple:
                        in_grads = (in_grads,)
                    if len(in_grads) != len(inputs):
                        node._check_count(in_grads)
                if anomaly:
                    check_backward(node, in_grads)
                if observers:
                    for obs in observers:
                        obs.on_backward(node, tuple(grads), in_grads)
            else:
                in_grads = (None,) * len(inputs)  # nothing arrived: visit the producers all the same
                fast = False
            # Send each input's gradient along its edge; the first edge to reach a producer queues it.
            arrays = rec[1] or inputs  # freed (None): no gradient to send
            for x, a, g in zip(inputs, arrays, in_grads):
                if type(x) is InputEdge:
                    producer = x[0]
                    if g is not None and g.shape != a.shape:
                        g = unbroadcast(g, a.shape)
                    buf = grads_of.get(producer)
                    if buf is None:  # (its freed meta: the producer was freed by an earlier backward)
                        made = producer._rec
                        n = len(made[2]) if made[2] is not None else len(made[4]) // 2
                        grads_of[producer] = [g] if n == 1 else [g if i == x[1] else None for i in range(n)]
                        heappush(queue, (-made[3], producer))
                    elif g is not None:
                        k = x[1]
                        buf[k] = g if buf[k] is None else buf[k] + g
                elif g is not None and isinstance(x, Tensor) and x.requires_grad:  # a leaf (else a constant)
                    self._add_leaf(x, g if g.shape == a.shape else unbroadcast(g, a.shape))
            if free:
                if fast:  # (``release``, written out: nothing in ``saved`` holds a value, so only the arrays go)
                    out = outs[0]  # (``shapes_and_dtypes``, written out for one output)
                    rec[4] = (out.shape, out.dtype) if len(outs) == 1 else shapes_and_dtypes(outs)
                    rec[1] = rec[2] = None
                else:
                    node.release()

    def _received(self, node, grads):
        """Run the hooks on what arrived at ``node``'s outputs (in place); fill retain_grad tensors and wanted
        results."""
        extra = node._extra or {}
        for k, hooks in extra.get("hooks", {}).items():
            if grads[k] is not None and hooks:
                grads[k] = _run_hooks(hooks, grads[k], self.create_graph, node._output_info(k).dtype)
        targets = self.targets
        if targets is None:  # grad(inputs=...) fills no .grad
            for k, ref in extra.get("retained", {}).items():
                t = ref()
                if t is not None and grads[k] is not None:
                    accumulate_grad(t, grads[k], self.create_graph, copy=True)
        if targets is not None and targets.outputs:
            for k, g in enumerate(grads):
                for i in targets.outputs.get((node, k), ()):
                    targets.results[i] = g

    def _add(self, node, k, g):
        buf = self.grads.get(node)
        if buf is None:
            buf = self.grads[node] = [None] * node._n_outputs()
        buf[k] = g if buf[k] is None else buf[k] + g

    def _add_leaf(self, t, g):
        entry = self.leaves.get(id(t))
        if entry is None:
            self.leaves[id(t)] = [t, g]
        else:
            entry[1] = entry[1] + g

    # ------------------------------------------------------------------ 3. accumulate into leaves
    def finish(self, allow_unused):
        """Run leaf hooks, then store each leaf's total in ``.grad`` (or return the wanted gradients)."""
        targets = self.targets
        for t, g in self.leaves.values():
            if t._hooks:
                g = _run_hooks(t._hooks, g, self.create_graph, t.dtype)
            if targets is not None:
                for i in targets.leaves.get(id(t), ()):
                    targets.results[i] = g
                continue
            shared = id(g) in self.handed
            self.handed.add(id(g))
            accumulate_grad(t, g, self.create_graph, copy=shared)
        if targets is None:
            return None
        for i, r in enumerate(targets.results):
            if r is None and not allow_unused:
                raise RuntimeError(f"grad: input {i} is not used to compute the output; "
                                   "pass allow_unused=True to get None for it")
        return targets.results


def _leading_to(nodes, targets):
    """The nodes with a path to a wanted tensor (oldest first, so each node's producers are decided first)."""
    needed = set()
    for node in sorted(nodes, key=lambda n: n._order):
        for x in node._inputs:
            if type(x) is InputEdge:
                hit = x[0] in needed or (x[0], x[1]) in targets.outputs
            else:
                hit = isinstance(x, Tensor) and id(x) in targets.leaves
            if hit:
                needed.add(node)
                break
    return needed


def _as_grad_value(g, create_graph):
    """Graph mode works on Tensors, plain mode on ndarrays; convert a hook's result to the mode."""
    if create_graph:
        return g if isinstance(g, Tensor) else Tensor._wrap(np.asarray(g))
    return g._data if isinstance(g, Tensor) else g


def _run_hooks(hooks, g, create_graph, dtype):
    """Pass gradient ``g`` through the hooks of a tensor of ``dtype``; a returned value must have g's shape
    and g's or the tensor's dtype (they differ where a float32 tensor feeds a float64 op)."""
    for h in tuple(hooks):
        r = h(g if create_graph else Tensor._wrap(g))
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
        g = _as_grad_value(r, create_graph)
    return g


def accumulate_grad(t, g, create_graph, copy=False):
    """Add gradient ``g`` into ``t.grad``, in ``t``'s dtype, never aliasing another array; thread-safe."""
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    with _grad_lock:
        old = t.grad
        if create_graph:
            if g.grad_fn is None:  # a constant may be shared by several leaves or be a read-only view: own a copy
                g = Tensor._wrap(np.array(g._data, copy=True))
            t.grad = g if old is None else old + g
        elif old is None or old._data.shape != t._data.shape:
            # Own the array: a gradient may be shared by several inputs or be a read-only view.
            flags = g.flags
            own = copy or not flags.owndata or not flags.writeable
            t.grad = Tensor._wrap(np.array(g, copy=True) if own else g)
        elif old.grad_fn is not None or not old._data.flags.writeable:
            t.grad = Tensor._wrap(old._data + g)  # old is part of a recorded graph (create_graph): add out of place
        else:
            np.add(old._data, g, out=old._data)
