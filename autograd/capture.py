"""``capture(fn)``: record a training step once, forward and backward, and replay it without the graph.

The first two calls with a new signature (the shapes and dtypes of the array arguments, the other
arguments, grad mode, the modules' parameters and train/eval flags) run ``fn`` eagerly while a recorder
notes every op (``Op.apply`` tells it), the one ``backward`` call and the order the engine visits the
nodes and sums their gradients. The two recordings must agree: the same ops with the same parameters and
the same constants (a constant that changed between the calls was computed from the data outside the
ops, so it cannot be replayed; the signature then stays eager, with a one-time warning). Later calls
replay straight-line Python generated from the recording, in the recorded order, with no Tensor or node
made: the common ops (add, multiply, tanh, sigmoid, relu, sum, transpose, 2-D matmul and linear) are inlined
as the same NumPy calls their ``forward``/``backward`` make, with what those decide per call (which inputs
need a gradient, dtype tests, NumPy's error state) decided once; the others call the recorded Op's
``forward``/``backward``. Results of inlined forwards of 1 MiB or more are written (``out=``) into buffers
made once per signature, except for what a replay hands out (what ``fn`` returns, and every value sharing its
memory), which is new on every call; gradients stay new arrays, and one that is (a view of) a buffer is
copied before it is stored in ``.grad``. Gradients are summed in the engine's order and stored as the engine's
``accumulate_grad`` does (a new transposed product is kept as it is, not copied), so every value is bitwise
identical to eager. Parameters and buffers are read live (an optimiser step between
calls is seen); random draws made by ops (``Draw``, ``DropoutMask``) draw fresh numbers in eager's order.

Not replayed, so refused (eager with a one-time warning): hooks, ``retain_grad``, ``retain_graph``,
``create_graph``, ``backward(inputs=...)``, ``autograd.grad``, anomaly mode, observers (``viz.record``),
more than one backward, in-place changes of a tensor's value during the call (an optimiser step inside
``fn``), ``.grad`` changed after backward. Python control flow that depends on the data is not seen:
``check=N`` re-records every N calls and raises if the ops changed. A replay reuses the recorded Op objects
and its buffers, so one captured function runs in one thread at a time; the buffers hold one step's
activations per signature for as long as the captured function lives.
"""
from __future__ import annotations

import functools
import warnings
from heapq import heappop, heappush

import numpy as np

from ._capture_compile import _CONST, _LEAF, _SLOT, _compile
from ._capture_ops import CAPTURE_OPS, Draw, DropoutMask, StatWrite  # noqa: F401  (re-exported: the public names)
from .mode import state
from .op import Input, InputEdge, Output
from .tensor import Tensor

__all__ = ["capture", "Draw", "DropoutMask", "StatWrite", "CAPTURE_OPS", "CaptureChanged"]


MAX_SIGNATURES = 16  # recordings kept per captured function


class CaptureChanged(RuntimeError):
    """``capture(fn, check=N)``: a re-recording found different ops than the recording being replayed."""



# ----------------------------------------------------------------------------- recording



class _Unsupported(Exception):
    """Something the call did that a replay cannot honour (the reason is the message)."""


class _Recorder:
    """Told about every op and the backward call while ``fn`` runs eagerly; builds the replay program."""

    def __init__(self, in_arrays, watch=()):
        # The .grad of the leaves a first recording found, as they were when the call began: what fn does to
        # them before backward (zero_grad inside fn) is replayed (``grad_actions``).
        self.watch = [(t, t.grad, None if t.grad is None else t.grad._data.copy()) for t in watch]
        self.grad_actions = None
        self.slot_of = {}      # id(array) -> slot
        self.layout_of = {}    # (address, shape, strides, dtype) -> slot: finds views such as Tensor.data
        self.arrays = []       # slot -> array (kept alive so ids stay unique)
        self.steps = []        # (op, refs, dyn params, out slots, params)
        self.grad_shapes = {}  # id(node) -> the shapes of the gradients its backward returned
        self.grad_outs = {}    # id(node) -> (shape, dtype) of the gradients its backward received
        self.specs = []        # per step: the roles of ``saved`` as forward set them, (kind, index)
        self.written = set()   # ids of tensors written by StatWrite (replayed, so their version may change)
        self.node_step = {}    # id(op) -> step index
        self.leaves = {}       # id(tensor) -> tensor, every leaf read
        self.versions = {}     # id(tensor) -> version when first read
        self.backward = None   # (root slot, root grad ref, retain_graph, create_graph, inputs)
        self.visited = []      # nodes in the order the engine ran their backward, with None-patterns
        self.reason = ""
        self.in_backward = False
        self.in_slots = [self._new_slot(a) for a in in_arrays]

    def _new_slot(self, a):
        s = len(self.arrays)
        self.arrays.append(a)
        self.slot_of[id(a)] = s
        if type(a) is np.ndarray:
            self.layout_of[_layout(a)] = s
        return s

    def fail(self, reason):
        if not self.reason:
            self.reason = reason

    def _slot(self, a):
        """The slot holding ``a`` (or a full view of a slot's array: ``.data`` of a recorded Tensor), or None."""
        s = self.slot_of.get(id(a))
        if s is None and type(a) is np.ndarray and a.base is not None:
            s = self.layout_of.get(_layout(a))
        return s

    def ref(self, x, a):
        s = self._slot(a)
        if s is not None:
            return (_SLOT, s)
        if isinstance(x, Tensor):
            if x.grad_fn is not None:
                self.fail(f"a tensor computed outside fn (by op '{x.grad_fn.name}') is used inside it")
            if id(x) not in self.leaves:
                self.leaves[id(x)] = x
                self.versions[id(x)] = x._version
            return (_LEAF, x)
        return (_CONST, a)

    def on_op(self, op, args, arrays, outs, params):
        if self.in_backward:
            self.fail(f"op '{op.name}' ran during backward (a hook or a Function's backward using Tensors)")
            return
        refs = tuple(self.ref(x, a) for x, a in zip(args, arrays))
        dyn = tuple((k, s) for k, v in params.items() if type(v) is np.ndarray
                    for s in [self._slot(v)] if s is not None)
        if type(op) is StatWrite and refs[0][0] == _LEAF:
            self.written.add(id(refs[0][1]))
        self.node_step[id(op)] = len(self.steps)
        self.steps.append((op, refs, dyn, tuple(self._new_slot(o) for o in outs), params))
        self.specs.append(tuple((0, it.index) if type(it) is Input else (1, it.index) if type(it) is Output
                                else (2, pos) for pos, it in enumerate(op.saved)))

    def on_backward_call(self, roots, root_grads, retain_graph, create_graph, inputs):
        if self.backward is not None:
            self.fail("fn calls backward more than once")
        elif create_graph or retain_graph:
            self.fail("backward with create_graph=True or retain_graph=True")
        elif inputs is not None:
            self.fail("backward(inputs=...) or autograd.grad")
        elif len(roots) != 1 or roots[0].grad_fn is None:
            self.fail("backward of a leaf tensor or of several roots")
        else:
            t, g = roots[0], root_grads[0]
            s = self._slot(t._data)
            gs = self._slot(g)
            if s is None or t._index != 0 and id(t.grad_fn) not in self.node_step:
                self.fail("backward of a tensor computed outside fn")
                return
            self.backward = (t, g, gs)
            self.grad_actions = self._grad_actions()
            self.pre_grads = {key: (x.grad, x.grad._version if x.grad is not None else None)
                              for key, x in self.leaves.items() if x.requires_grad}
        self.in_backward = True

    def _grad_actions(self):
        """Per watched leaf, what fn did to its ``.grad`` before backward: keep, set None, or zero in place."""
        actions = []
        for t, before, value in self.watch:
            now = t.grad
            if now is before and (now is None or np.array_equal(now._data, value)):
                actions.append((t, "keep"))
            elif now is None:
                actions.append((t, "none"))
            elif now is before and not np.any(now._data):
                actions.append((t, "zero"))
            else:
                self.fail(f"fn replaces the .grad of a tensor of shape {t.shape} other than by zero_grad()")
        return actions

    def on_forward(self, node, outputs):  # an observer too, to see the engine's backward order
        pass

    def on_backward(self, node, grad_outputs, grad_inputs):
        self.visited.append((node, tuple(g is None for g in grad_inputs)))
        self.grad_shapes[id(node)] = tuple(None if g is None else np.shape(g) for g in grad_inputs)
        self.grad_outs[id(node)] = tuple(None if g is None else (np.shape(g), np.asarray(g).dtype)
                                         for g in grad_outputs)


def _layout(a):
    return (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)


def _values_equal(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    try:
        return bool(a == b) or a is b
    except Exception:  # noqa: BLE001  (an object without a usable ==)
        return a is b


class _Program:
    """A recorded step: the forward steps, the backward plan, the leaf accumulations and what fn returns."""

    def __init__(self, rec, returned):
        self.rec = rec
        self.steps = rec.steps
        self.n = len(rec.arrays)
        self.in_slots = rec.in_slots
        self.returned = returned  # the structure fn returned, with slots for Tensors
        self.grad_leaves = [t for t in rec.leaves.values() if t.requires_grad]
        self.leaf_meta = [(t, t.shape, t.dtype, t.requires_grad) for t in rec.leaves.values()]
        self.plan = self._plan() if rec.backward is not None else None
        self.run = None

    def _plan(self):
        """Simulate the engine's walk (autograd/engine.py ``_Walk.run``) on the recorded graph."""
        rec = self.rec
        root, rgrad, rgslot = rec.backward
        consumed = set()
        stack, seen = [root.grad_fn], {root.grad_fn}
        while stack:
            for x in stack.pop()._inputs:
                if type(x) is InputEdge:
                    p = x[0]
                    consumed.add(p)
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
        for node in seen:
            if id(node) not in rec.node_step:
                raise _Unsupported(f"the graph reaches op '{node.name}' recorded before fn was called")
            if node._extra and (node._extra.get("hooks") or node._extra.get("retained")):
                raise _Unsupported(f"a hook or retain_grad on an output of op '{node.name}'")
        gbuf = {}  # (node, k) -> gradient buffer index

        def buf(node, k):
            return gbuf.setdefault((id(node), k), len(gbuf))

        if root.grad_fn in consumed:
            raise _Unsupported("backward of a tensor that other ops of the graph consume")
        root_buf = buf(root.grad_fn, root._index)
        queue, queued = [(-root.grad_fn._order, root.grad_fn)], {root.grad_fn}  # newest first, as the engine
        visits, leaf_index, order = [], {}, []
        seen = 0
        while queue:
            node = heappop(queue)[1]
            step = rec.node_step[id(node)]
            nout = len(self.steps[step][3])
            outs_in = tuple(gbuf.get((id(node), k)) for k in range(nout))
            ran = any(b is not None for b in outs_in)
            if ran:
                if seen >= len(rec.visited) or rec.visited[seen][0] is not node:
                    raise _Unsupported("the engine's backward order could not be reproduced")
                none_pattern = rec.visited[seen][1]
                seen += 1
            else:
                none_pattern = (True,) * len(node._inputs)
            routes = []
            for i, (x, isnone) in enumerate(zip(node._inputs, none_pattern)):
                if type(x) is not InputEdge:
                    if not isnone and isinstance(x, Tensor) and x.requires_grad:
                        j = leaf_index.setdefault(id(x), len(leaf_index))
                        if j == len(order):
                            order.append(x)
                        routes.append((1, j, i))
                    continue
                producer, k = x[0], x[1]
                if not isnone:
                    routes.append((0, buf(producer, k), i))
                if producer not in queued:
                    queued.add(producer)
                    heappush(queue, (-producer._order, producer))
            visits.append((step, outs_in if ran else None, tuple(routes)))
        if seen != len(rec.visited):
            raise _Unsupported("the engine's backward order could not be reproduced")
        for t in order:
            if t._hooks:
                raise _Unsupported("a hook on a leaf tensor")
        return visits, order, root_buf, len(gbuf), rgslot, rgrad

    def replay(self, in_arrays):
        """Run the recorded step on new arrays; the values of the slots fn returns, by slot."""
        if self.run is None:
            self.run = _compile(self)
            rec = self.rec  # what only the compilation needed: the recorded values
            rec.arrays, rec.slot_of, rec.layout_of, rec.watch = None, None, None, None
        if self.plan is not None:
            for t, action in self.rec.grad_actions or ():  # zero_grad() inside fn, as the recording saw it
                if action == "none":
                    t.grad = None
                elif action == "zero" and t.grad is not None:
                    if t.grad.grad_fn is None and t.grad._data.flags.writeable:
                        t.grad._data[...] = 0
                    else:
                        t.grad = Tensor._wrap(np.zeros(t.shape, t.grad.dtype))
        return self.run(*in_arrays)


# ----------------------------------------------------------------------------- the public wrapper


def _modules(fn, args):
    """The nn Modules ``fn`` can reach directly (bound self, closure cells, globals it names, arguments)."""
    try:
        from nn.module import Module
    except ImportError:  # autograd without nn
        return []
    found = []
    target = fn
    while isinstance(target, functools.partial):
        found += [a for a in target.args if isinstance(a, Module)]
        target = target.func
    if isinstance(getattr(target, "__self__", None), Module):
        found.append(target.__self__)
    code = getattr(target, "__code__", None)
    for cell in getattr(target, "__closure__", None) or ():
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if isinstance(v, Module):
            found.append(v)
    if code is not None:
        g = getattr(target, "__globals__", {})
        found += [g[n] for n in code.co_names if isinstance(g.get(n), Module)]
    found += [a for a in args if isinstance(a, Module)]
    return found


def _module_key(modules):
    key = []
    for m in modules:
        for sub in m.modules():
            key.append((id(sub), sub.training))
        key += [(id(p), p.requires_grad, p.shape, p.dtype) for p in m.parameters()]
    return tuple(key)


def _arg_key(a):
    if isinstance(a, Tensor):
        return ("T", a.shape, a.dtype.str, a.requires_grad)
    if isinstance(a, np.ndarray):
        return ("A", a.shape, a.dtype.str)
    try:
        hash(a)
    except TypeError:
        return ("id", id(a))
    return ("v", type(a).__name__, a)


class _Signature:
    """What is kept per signature: the program, or the reason it runs eagerly."""

    __slots__ = ("program", "eager", "calls", "first")

    def __init__(self):
        self.program = None
        self.eager = ""
        self.calls = 0
        self.first = None  # the first recording, compared with the second


class capture:  # noqa: N801  (used like a function and as a decorator, as autograd.no_grad is)
    """Record ``fn`` (a training step: forward, ``backward``, optionally returning Tensors) and replay it.

    ``check=N`` re-records every N-th call and raises ``CaptureChanged`` if the ops differ. On every
    call the result is what ``fn`` returned with each Tensor replaced by a detached Tensor of its value.
    """

    def __init__(self, fn=None, check=None):
        if check is not None and (isinstance(check, bool) or not isinstance(check, int) or check < 1):
            raise ValueError(f"capture: check must be None or a positive int, got {check!r}")
        self.check = check
        self._signatures = {}
        self._warned = set()
        self.fn = None
        if fn is not None or check is None:  # capture(check=N) alone is the decorator form
            self._set(fn)

    def _set(self, fn):
        if not callable(fn):
            raise TypeError(f"capture: fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        if self.fn is None:  # @capture(check=N)
            if len(args) != 1 or kwargs:
                raise TypeError("capture(check=N) used as a decorator takes the function only")
            self._set(args[0])
            return self
        if kwargs:
            raise TypeError(f"capture: {self.fn.__name__} is called with keyword arguments "
                            f"{sorted(kwargs)}; pass its arguments positionally")
        why = self._eager_reason()
        if why:
            return self._eager(why, args)
        key = (tuple(_arg_key(a) for a in args), state.grad_enabled, _module_key(_modules(self.fn, args)))
        sig = self._signatures.get(key)
        if sig is None:
            if len(self._signatures) >= MAX_SIGNATURES:  # forget the oldest: an argument changing every call
                self._signatures.pop(next(iter(self._signatures)))
                self._note(f"more than {MAX_SIGNATURES} signatures (shapes, dtypes, other arguments); an argument "
                           "that changes on every call (a Python number such as the learning rate) makes every "
                           "call a new recording: pass it as an array or read it inside fn")
            sig = self._signatures[key] = _Signature()
        if sig.eager:
            return self._eager(sig.eager, args)
        sig.calls += 1
        program = sig.program
        if program is not None and not self._live(program):  # a leaf's shape, dtype or grad flag changed: anew
            sig.program = sig.first = program = None
        if program is not None and not (self.check and sig.calls % self.check == 0):
            return _rebuild(program.returned, program.replay(_in_arrays(args)))
        return self._record(sig, args)

    def _live(self, program):
        """The leaves still have the recorded shapes, dtypes, grad flags and no hooks (else record anew)."""
        for t, shape, dtype, requires_grad in program.leaf_meta:
            if t._data.shape != shape or t._data.dtype != dtype or t._hooks or t.requires_grad != requires_grad:
                return False
        return True

    def _eager_reason(self):
        if state.tracer is not None:
            return "a capture inside a captured function runs eagerly"
        if state.anomaly:
            return "anomaly mode is on"
        if state.observers:
            return "an observer (viz.record, a stepper) is watching the ops"
        return ""

    def _warn(self, why):
        if why not in self._warned:
            self._warned.add(why)
            warnings.warn(f"capture({self.fn.__name__}): {why}; running it eagerly (a replay cannot honour this)",
                          RuntimeWarning, stacklevel=3)

    def _note(self, message):
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(f"capture({self.fn.__name__}): {message}", RuntimeWarning, stacklevel=3)

    def _eager(self, why, args):
        self._warn(why)
        return _detached(self.fn(*args))

    def _record(self, sig, args):
        rec = _Recorder(_in_arrays(args), sig.first.grad_leaves if sig.first is not None else
                        sig.program.grad_leaves if sig.program is not None else ())
        previous = state.tracer
        state.tracer = rec
        state.observers = state.observers + (rec,)
        try:
            result = self.fn(*args)
        finally:
            state.tracer = previous
            state.observers = tuple(o for o in state.observers if o is not rec)
        out = _detached(result)
        try:
            returned = _structure(result, rec)
            if rec.reason:
                raise _Unsupported(rec.reason)
            if any(isinstance(a, Tensor) and a.requires_grad for a in args):
                raise _Unsupported("an argument requires grad (its .grad would go to the recorded tensor)")
            for key, t in rec.leaves.items():
                if t._version != rec.versions[key] and key not in rec.written:
                    raise _Unsupported(f"tensor of shape {t.shape} was changed in place during the call (an "
                                       "optimiser step inside fn?); call the optimiser after the captured step")
            program = _Program(rec, returned)
            for t in program.plan[1] if program.plan is not None else ():
                before, version = rec.pre_grads.get(id(t), (None, None))
                g = t.grad
                if g is None or not (g is before and g._version == version or before is None and g._version == 0):
                    raise _Unsupported(f"fn changes the .grad of a tensor of shape {t.shape} after backward")
        except _Unsupported as e:
            sig.eager = str(e)
            self._warn(sig.eager)
            return out
        reference = sig.program or sig.first
        if reference is not None and rec.grad_actions is None and rec.backward is not None:
            sig.eager = "the .grad of the parameters could not be followed"
            self._warn(sig.eager)
            return out
        if reference is not None:
            diff = _difference(reference, program)
            if diff and sig.program is not None:
                raise CaptureChanged(f"capture({self.fn.__name__}): a re-recording differs from the recorded "
                                     f"step: {diff}. Data-dependent Python control flow is not supported")
            if diff:
                sig.eager = f"the two first recordings differ ({diff}): fn depends on the data outside the ops"
                self._warn(sig.eager)
                return out
            sig.program, sig.first = program, None
        else:
            sig.first = program
        return out


def _in_arrays(args):
    return [a._data if isinstance(a, Tensor) else a for a in args if isinstance(a, (Tensor, np.ndarray))]


def _detached(result):
    if isinstance(result, Tensor):
        return Tensor._wrap(result._data)
    if isinstance(result, (tuple, list)):
        return type(result)(_detached(r) for r in result)
    return result


def _structure(result, rec):
    """What fn returned, with a slot in place of each Tensor; anything else but None is refused."""
    if result is None:
        return None
    if isinstance(result, Tensor):
        s = rec._slot(result._data)
        if s is None:
            raise _Unsupported("fn returns a tensor that no op inside it computed")
        return ("slot", s)
    if isinstance(result, (tuple, list)):
        return (type(result), [_structure(r, rec) for r in result])
    raise TypeError(f"capture: fn must return None, a Tensor or a tuple/list of Tensors, got "
                    f"{type(result).__name__} (a Python number would be frozen at its recorded value; return the "
                    "Tensor and call .item() outside)")


def _rebuild(returned, vals):
    if returned is None:
        return None
    if returned[0] == "slot":
        return Tensor._wrap(vals[returned[1]])
    kind, items = returned
    return kind(_rebuild(r, vals) for r in items)


def _difference(a, b):
    """Why two recordings of one signature differ ('' when they agree)."""
    if len(a.steps) != len(b.steps):
        return f"{len(a.steps)} ops, then {len(b.steps)}"
    for i, ((op1, refs1, dyn1, out1, p1), (op2, refs2, dyn2, out2, p2)) in enumerate(zip(a.steps, b.steps)):
        where = f"op {i} ('{op1.name}')"
        if type(op1) is not type(op2):
            return f"op {i} was '{op1.name}', then '{op2.name}'"
        if dyn1 != dyn2 or out1 != out2 or len(refs1) != len(refs2):
            return f"{where} is wired differently"
        dyn = {k for k, _ in dyn1}
        if p1.keys() != p2.keys() or not all(_values_equal(p1[k], p2[k]) for k in p1 if k not in dyn):
            return f"{where} has different parameters"
        for r1, r2 in zip(refs1, refs2):
            if r1[0] != r2[0] or r1[0] == _SLOT and r1[1] != r2[1]:
                return f"{where} is wired differently"
            if r1[0] == _LEAF and r1[1] is not r2[1] and not _values_equal(r1[1]._data, r2[1]._data):
                return f"{where} reads a tensor created in fn from changing data"
            if r1[0] == _CONST and r1[1] is not r2[1] and not _values_equal(r1[1], r2[1]):
                return f"{where} reads a constant computed from the data outside the ops"
    if (a.plan is None) != (b.plan is None):
        return "backward is called in one recording only"
    if a.plan is not None:
        if [v[::2] for v in a.plan[0]] != [v[::2] for v in b.plan[0]] or \
                [id(t) for t in a.plan[1]] != [id(t) for t in b.plan[1]]:
            return "the backward differs"
        if a.plan[4] != b.plan[4] or a.plan[4] is None and not _values_equal(a.plan[5], b.plan[5]):
            return "the gradient given to backward differs"
    if a.returned != b.returned:
        return "fn returns different things"
    return ""


capture.CaptureChanged = CaptureChanged  # reachable as autograd.capture.CaptureChanged
