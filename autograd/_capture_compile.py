"""How ``autograd.capture`` turns a recorded step into straight-line Python: per op an inline NumPy kernel
(``_KERNELS``) or a call of its ``forward``/``backward``, the engine's gradient sums and its accumulation into
``.grad``, with each value deleted after its last use."""
from __future__ import annotations

import re

import numpy as np

from .engine import _grad_lock, accumulate_grad, unbroadcast
from .op import _as_outputs
from .ops import affine as _af
from .ops import elementwise as _ew
from .ops import linalg as _la
from .ops import reduce as _rd
from .ops import shape as _sh
from .ops.base import keepdims_shape
from .ops.reduce import _broadcast_to_np
from .tensor import Tensor

_SLOT, _LEAF, _CONST = 0, 1, 2  # how a step's argument is referenced: a recorded value, a leaf Tensor, a constant


def _returned_slots(returned, out):
    if returned is not None:
        if returned[0] == "slot":
            out.add(returned[1])
        else:
            for r in returned[1]:
                _returned_slots(r, out)
    return out


def _compile(program):
    """Python source for the whole step, straight-line: per forward op an inline kernel (``_KERNELS``) or a call
    of its ``forward``, per backward the same, the engine's sums and its accumulation into ``.grad``."""
    c = _Compiler(program)
    c.forward()
    if program.plan is not None:
        c.backward()
    keep = sorted(_returned_slots(program.returned, set()))
    c.lines = _free_after_last_use(c.lines, {f"s{k}" for k in keep})
    c.lines.append("    return {" + ", ".join(f"{k}: s{k}" for k in keep) + "}")
    if c.uses_errstate:
        c.lines.insert(1, "    with errstate(over='ignore'): eobj = ecv.get()" if _ERR_VAR is not None else
                       "    pass")
    program.source = "\n".join(c.lines)  # (kept for reading: what a replay runs)
    program.buffers = c.buffers
    exec(compile(program.source, "<capture>", "exec"), c.ns)  # noqa: S102  (source built above from the recording)
    return c.ns["run"]


_LOCAL = re.compile(r"\b(?:s|sp|m|g|t|q)\d+\b")


def _free_after_last_use(lines, keep):
    """``lines`` with ``del`` statements after each local value's last use (as the engine frees a node's values
    once its backward ran), so a replay's peak memory is eager's, not every value of the step at once."""
    last = {}
    statements = []  # (first line, last line) of each statement: a ``with`` header and its body are one
    for k, line in enumerate(lines):
        if k and (line.startswith("        ") or line.startswith("    finally:")) and statements:
            statements[-1] = (statements[-1][0], k)
        else:
            statements.append((k, k))
    for n, (a, b) in enumerate(statements):
        for line in lines[a:b + 1]:
            for name in _LOCAL.findall(line):
                last[name] = n
    dead = {}
    for name, n in last.items():
        if name not in keep:
            dead.setdefault(n, []).append(name)
    out = []
    for n, (a, b) in enumerate(statements):
        out += lines[a:b + 1]
        if n and n in dead:
            out.append(f"    del {', '.join(sorted(dead[n]))}")
    return out


class _Compiler:
    """Builds the replay's source: names ``s<slot>`` for values, ``g<k>``/``t<j>`` for gradients, ``B<slot>`` for
    the out= buffers of the kernels' results (made once, at compilation)."""

    def __init__(self, program):
        self.program = program
        self.rec = program.rec
        self.ns = {"nd": np.ndarray, "asarray": np.asarray, "as_outputs": _as_outputs, "unb": unbroadcast,
                   "acc": accumulate_grad, "store": _store, "ones": np.ones, "Tensor": Tensor, "np": np,
                   "errstate": np.errstate, "ecv": _ERR_VAR}
        self.lines = [f"def run({', '.join(f's{s}' for s in program.in_slots)}):"]
        self.exprs = []          # per step: the source of each argument
        self.kernel_of = {}      # step -> kernel used for it
        self.uses_errstate = False
        self.owned = False       # (per backward step) whether the kernel may write over the arriving gradient
        self.buffers = {}        # slot -> preallocated array
        self.ns["bufids"] = self.bufids = set()
        self.unbuffered = self._handed_slots()

    # ------------------------------------------------------------------ what the user may hold
    def _handed_slots(self):
        """Slots whose arrays a replay hands out (what fn returns, the root gradient), and every slot whose recorded
        value shares memory with one of them (a view's base): these are never written into a buffer."""
        rec = self.rec
        handed = _returned_slots(self.program.returned, set())
        if self.program.plan is not None and self.program.plan[4] is not None:
            handed.add(self.program.plan[4])
        out = set(handed)
        arrays = rec.arrays
        for s in handed:
            a = arrays[s]
            for k, b in enumerate(arrays):
                if k not in out and type(b) is np.ndarray and b.size and np.may_share_memory(a, b):
                    out.add(k)
        return out

    def value(self, ref):
        """The recorded value of an argument reference."""
        kind, x = ref
        return self.rec.arrays[x] if kind == _SLOT else x._data if kind == _LEAF else x

    def buffer(self, slot):
        """``, out=B<slot>`` (a buffer made now with the recorded value's shape and dtype), or '' where the slot is
        handed out or too small to be worth it."""
        a = self.rec.arrays[slot]
        if slot in self.unbuffered or type(a) is not np.ndarray or a.nbytes < _BUFFER_MIN_BYTES:
            return ""
        b = self.buffers[slot] = np.empty(a.shape, a.dtype)
        self.bufids.add(id(b))
        self.ns[f"B{slot}"] = b
        return f", out=B{slot}"

    def scratch(self, name, like):
        """A buffer for a kernel's own saved value (a mask), shaped like ``like``; '' when too small."""
        if like.nbytes < _BUFFER_MIN_BYTES:
            return ""
        b = np.empty(like.shape, like.dtype)
        self.bufids.add(id(b))
        self.ns[name] = b
        return f", out={name}"

    # ------------------------------------------------------------------ forward
    def forward(self):
        ns, lines, program = self.ns, self.lines, self.program
        for i, (op, refs, dyn, outs, params) in enumerate(program.steps):
            args = []
            for j, (kind, x) in enumerate(refs):
                if kind == _SLOT:
                    args.append(f"s{x}")
                elif kind == _LEAF:
                    ns[f"l{i}_{j}"] = x
                    args.append(f"l{i}_{j}._data")
                else:
                    ns[f"c{i}_{j}"] = x
                    args.append(f"c{i}_{j}")
            self.exprs.append(args)
            kernel = _KERNELS.get(type(op))
            if kernel is not None and not dyn and len(outs) == 1 and kernel.applies(self, i, op, refs, params):
                self.kernel_of[i] = kernel
                lines += [f"    {x}" for x in kernel.forward(self, i, args, f"s{outs[0]}", outs[0], params)]
                continue
            self._generic_forward(i, op, args, dyn, outs, params)

    def _generic_forward(self, i, op, args, dyn, outs, params):
        ns, lines = self.ns, self.lines
        ns[f"o{i}"], ns[f"f{i}"], ns[f"p{i}"] = op, op.forward, params
        call = f"f{i}({', '.join(args)}"
        if dyn:
            lines.append(f"    p = dict(p{i})")
            lines += [f"    p[{k!r}] = s{slot}" for k, slot in dyn]
            call += ", **p)" if args else "**p)"
        elif params:
            call += ", **p" + str(i) + ")" if args else "**p" + str(i) + ")"
        else:
            call += ")"
        if len(outs) == 1:  # (a forward returning a 1-tuple gives one output too)
            lines.append(f"    x = {call}")
            lines.append(f"    s{outs[0]} = x if x.__class__ is nd else as_outputs(x, [{', '.join(args)}])[0] "
                         "if x.__class__ is tuple else asarray(x)")
        else:
            lines.append(f"    {', '.join(f's{o}' for o in outs)}, = as_outputs({call}, [{', '.join(args)}])")
        if self.program.plan is not None and self.rec.specs[i]:
            lines.append(f"    sp{i} = o{i}.saved")

    # ------------------------------------------------------------------ backward
    def backward(self):
        ns, lines, program = self.ns, self.lines, self.program
        visits, order, root_buf, nbuf, rgslot, rgrad = program.plan
        root = self.rec.backward[0]
        if rgslot is not None:
            lines.append(f"    g{root_buf} = s{rgslot}")
        elif _is_ones(rgrad):
            ns["root_shape"], ns["root_dtype"] = root.shape, root.dtype
            lines.append(f"    g{root_buf} = ones(root_shape, dtype=root_dtype)")
        else:
            ns["root_grad"] = rgrad
            lines.append(f"    g{root_buf} = root_grad")
        lines.append(f"    handed = {{id(g{root_buf})}}")
        filled, totals = {root_buf}, set()
        fresh = {}  # gradient name -> whether its array is new and referenced by nothing else
        for step, outs_in, routes in visits:
            if outs_in is None:
                continue
            got = self._backward_of(step, outs_in, routes, fresh)
            for kind, j, i in routes:
                src, new = got[i]
                ns[f"sh{step}_{i}"] = _arg_shape(program, step, i)
                lines.append(f"    x = {src}")
                recorded = self.rec.grad_shapes[id(program.steps[step][0])][i]
                if recorded != ns[f"sh{step}_{i}"]:
                    lines.append(f"    x = {_unbroadcast_source('x', recorded, ns[f'sh{step}_{i}'])}")
                    new = True  # (summed over the broadcast axes: a new array)
                name = f"t{j}" if kind else f"g{j}"
                seen = totals if kind else filled
                if j not in seen:
                    lines.append(f"    {name} = x")
                    fresh[name] = new
                else:
                    lines.append(f"    {name} = {name} + x")
                    fresh[name] = True
                seen.add(j)
        for j, t in enumerate(order):
            if j not in totals:
                continue
            ns[f"L{j}"] = t
            lines.append(f"    store(L{j}, t{j}, handed, bufids, {fresh[f't{j}']})")

    def _backward_of(self, step, outs_in, routes, fresh):
        """Per input: (source of its gradient, whether that is a new array nothing else references)."""
        lines, ns, program = self.lines, self.ns, self.program
        op = program.steps[step][0]
        kernel = self.kernel_of.get(step)
        if kernel is not None:
            (g,) = [f"g{b}" for b in outs_in]
            value = self.rec.arrays[program.steps[step][3][0]]
            # The arriving gradient may be written over: new, referenced by nothing else, of the output's layout.
            self.owned = fresh.get(g, False) and self.rec.grad_outs.get(id(op)) == ((value.shape, value.dtype),)
            srcs = kernel.backward(self, step, g, self.exprs[step], f"s{program.steps[step][3][0]}",
                                   [op.needs_grad(i) for i in range(len(op._inputs))],
                                   program.steps[step][4])
            lines += [f"    {x}" for x in srcs[0]]
            taken = [i for _, _, i in routes]
            out = {}
            for i in taken:
                src, how = srcs[1][i]
                out[i] = (src, how == "new" or how == "pass" and fresh.get(g, False) and
                          sum(1 for k in taken if srcs[1][k][1] == "pass") == 1)
            return out
        spec = self.rec.specs[step]
        outs = program.steps[step][3]
        if spec:
            items = [self.exprs[step][k] if kind == 0 else f"s{outs[k]}" if kind == 1 else f"sp{step}[{k}]"
                     for kind, k in spec]
            lines.append(f"    o{step}.saved = [{', '.join(items)}]")
        gs = ", ".join("None" if b is None else f"g{b}" for b in outs_in)
        ns[f"b{step}"] = op.backward
        lines.append(f"    r = b{step}({gs})")
        if spec:
            lines.append(f"    o{step}.saved = ()")  # (its values are freed as eager frees them)
        lines.append("    if r.__class__ is not tuple: r = (r,)")
        return {i: (f"r[{i}]", False) for _, _, i in routes}


def _unbroadcast_source(x, gshape, shape):
    """The source of ``unbroadcast(x, shape)`` for a gradient of shape ``gshape``: the same sum and reshape."""
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != gshape[i + lead] for i, s in enumerate(shape)):
        raise RuntimeError(f"internal: gradient of shape {gshape} cannot be reduced to input shape {shape}")
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    src = f"{x}.sum(axis={axes!r}, keepdims=True)" if axes else x
    return f"{src}.reshape({shape!r})" if lead else src


def _store(t, g, handed, bufids, fresh):
    """Store leaf ``t``'s summed gradient as ``accumulate_grad`` does; a ``fresh`` array (a new one, or a view of a
    new one such as a transposed product) is kept without the copy accumulate_grad makes of views. A gradient
    that is (a view of) a replay buffer, or that went to another leaf already, is copied."""
    base = g.base
    key = id(g) if base is None else id(base)
    shared = key in handed or key in bufids or id(g) in handed
    handed.add(key)
    handed.add(id(g))
    if fresh and not shared and g.dtype == t.dtype and g.flags.writeable:
        with _grad_lock:
            old = t.grad
            if old is None or old.shape != t.shape:
                t.grad = Tensor._wrap(g)
                return
        # (a .grad to add into: as accumulate_grad does)
    accumulate_grad(t, g, False, copy=shared)


# ----------------------------------------------------------------------------- kernels

# Smaller results are new arrays on every replay: malloc hands back memory still hot in cache, which beat
# persistent buffers in the MLP benchmark (128 KiB activations: 1.02x against 1.05x hand NumPy).
_BUFFER_MIN_BYTES = 1 << 20

try:  # NumPy's floating-point error state is a context variable: set it directly (np.errstate costs ~1 µs)
    from numpy._core._ufunc_config import _extobj_contextvar as _ERR_VAR
except ImportError:  # pragma: no cover  (another NumPy layout: np.errstate per call)
    _ERR_VAR = None


class _Kernel:
    """Inline NumPy for one op class: the same calls, in the same order, as its ``forward`` and ``backward``
    (so the values are bitwise those of eager), with decisions the op takes per call (``needs_grad``, dtype
    tests) taken once, at compilation. ``backward`` returns (lines, per input (source, "new" | "pass" | None))."""

    def applies(self, c, i, op, refs, params):
        """Whether the inlined code is the op's here; by default where the result has an axis (NumPy's ufuncs
        give a scalar, not the 0-d array an op returns, for 0-d operands)."""
        return np.ndim(c.rec.arrays[c.program.steps[i][3][0]]) > 0


class _Add(_Kernel):
    def forward(self, c, i, args, out, slot, params):
        return [f"{out} = np.add({args[0]}, {args[1]}{c.buffer(slot)})"]

    def backward(self, c, i, g, args, out, needs, params):
        return [], [(g, "pass"), (g, "pass")]


class _Multiply(_Kernel):
    def forward(self, c, i, args, out, slot, params):
        return [f"{out} = np.multiply({args[0]}, {args[1]}{c.buffer(slot)})"]

    def backward(self, c, i, g, args, out, needs, params):
        if c.owned and needs.count(True) == 1:  # g * other, into g itself where the product has g's dtype
            k = needs.index(True)
            other, value = c.value(c.program.steps[i][1][1 - k]), c.rec.arrays[c.program.steps[i][3][0]]
            if np.result_type(value, other) == value.dtype:
                srcs = [(None, None), (None, None)]
                srcs[k] = (g, "new")
                return [f"np.multiply({g}, {args[1 - k]}, out={g})"], srcs
        return [], [(f"{g} * {args[1]}", "new") if needs[0] else (None, None),
                    (f"{g} * {args[0]}", "new") if needs[1] else (None, None)]


class _Tanh(_Kernel):
    def forward(self, c, i, args, out, slot, params):
        return [f"{out} = np.tanh({args[0]}{c.buffer(slot)})"]

    def backward(self, c, i, g, args, out, needs, params):
        if c.owned:
            return [f"np.multiply({g}, 1 - {out} * {out}, out={g})"], [(g, "new")]
        return [], [(f"{g} * (1 - {out} * {out})", "new")]


class _Sigmoid(_Kernel):
    def applies(self, c, i, op, refs, params):
        a = c.value(refs[0])
        return type(a) is np.ndarray and a.ndim > 0 and a.dtype.kind == "f"

    def forward(self, c, i, args, out, slot, params):
        buf = c.buffer(slot)  # stable_sigmoid: exp(-a) with overflow ignored, + 1, reciprocal in place
        c.uses_errstate = True
        first = f"np.negative({args[0]}{buf})" if buf else f"-{args[0]}"
        if _ERR_VAR is None:
            lines = ["with errstate(over='ignore'):", f"    {out} = np.exp({first}{buf})"]
        else:
            lines = ["tok = ecv.set(eobj)", f"try: {out} = np.exp({first}{buf})", "finally: ecv.reset(tok)"]
        return lines + [f"{out} += 1", f"{out} = np.reciprocal({out}, out={out})"]

    def backward(self, c, i, g, args, out, needs, params):
        if c.owned:  # (g · s) · (1 − s), as eager evaluates it
            return [f"np.multiply({g}, {out}, out={g})", f"np.multiply({g}, 1 - {out}, out={g})"], [(g, "new")]
        return [], [(f"{g} * {out} * (1 - {out})", "new")]


class _Relu(_Kernel):
    def forward(self, c, i, args, out, slot, params):
        mask = c.scratch(f"M{i}", c.rec.arrays[slot].astype(bool))
        return [f"m{i} = np.greater({args[0]}, 0{mask})", f"{out} = np.maximum({args[0]}, 0{c.buffer(slot)})"]

    def backward(self, c, i, g, args, out, needs, params):
        if c.owned:
            return [f"np.multiply({g}, m{i}, out={g})"], [(g, "new")]
        return [], [(f"{g} * m{i}", "new")]


class _Transpose(_Kernel):
    def applies(self, c, i, op, refs, params):
        return True

    def forward(self, c, i, args, out, slot, params):
        c.ns[f"ax{i}"], c.ns[f"inv{i}"] = params["axes"], tuple(np.argsort(params["axes"]))
        return [f"{out} = {args[0]}.transpose(ax{i})"]

    def backward(self, c, i, g, args, out, needs, params):
        return [], [(f"{g}.transpose(inv{i})", "pass")]


class _Sum(_Kernel):
    def applies(self, c, i, op, refs, params):
        return True  # (a 0-d result is made an array as Op.apply makes it one)

    def forward(self, c, i, args, out, slot, params):
        c.ns[f"ax{i}"], c.ns[f"kd{i}"] = params["axis"], params["keepdims"]
        return [f"{out} = np.add.reduce({args[0]}, axis=ax{i}, keepdims=kd{i})",  # (what np.sum calls)
                f"if {out}.__class__ is not nd: {out} = asarray({out})"]

    def backward(self, c, i, g, args, out, needs, params):
        shape = np.shape(c.value(c.program.steps[i][1][0]))
        c.ns[f"in{i}"] = shape
        c.ns["bcast"] = _broadcast_to_np
        g2 = g if params["keepdims"] else f"{g}.reshape(ks{i})"
        c.ns[f"ks{i}"] = keepdims_shape(shape, params["axis"])
        return [], [(f"bcast({g2}, in{i})", "new")]


class _Matmul(_Kernel):
    def applies(self, c, i, op, refs, params):
        return all(np.ndim(c.value(r)) == 2 for r in refs)

    def forward(self, c, i, args, out, slot, params):
        return [f"{out} = np.matmul({args[0]}, {args[1]}{c.buffer(slot)})"]

    def backward(self, c, i, g, args, out, needs, params):
        return [], [(f"{g} @ {args[1]}.swapaxes(-1, -2)", "new") if needs[0] else (None, None),
                    (f"{args[0]}.swapaxes(-1, -2) @ {g}", "new") if needs[1] else (None, None)]


class _Linear(_Kernel):
    def applies(self, c, i, op, refs, params):
        x, w = c.value(refs[0]), c.value(refs[1])
        if np.ndim(x) != 2 or np.ndim(w) != 2:
            return False
        out = np.result_type(x, w)
        return len(refs) == 2 or np.result_type(out, c.value(refs[2])) == out

    def forward(self, c, i, args, out, slot, params):
        lines = [f"{out} = np.matmul({args[0]}, {args[1]}.T{c.buffer(slot)})"]
        if len(args) == 3:
            lines.append(f"{out} = np.add({out}, {args[2]}, out={out})")
        return lines

    def backward(self, c, i, g, args, out, needs, params):
        x, w = c.value(c.program.steps[i][1][0]), c.value(c.program.steps[i][1][1])
        c.ns[f"r{i}"] = (x.shape[0], w.shape[0])
        lines = [f"q{i} = {g}.reshape(r{i})"]
        srcs = [(f"(q{i} @ {args[1]}).reshape({x.shape!r})", "new") if needs[0] else (None, None),
                (f"q{i}.T @ {args[0]}.reshape({(x.shape[0], w.shape[1])!r})", "new") if needs[1] else (None, None)]
        if len(args) == 3:
            srcs.append((f"q{i}.sum(axis=0)", "new") if needs[2] else (None, None))
        return lines, srcs


_KERNELS = {_ew.Add: _Add(), _ew.Multiply: _Multiply(), _ew.Scale: _Multiply(), _ew.Tanh: _Tanh(),
            _ew.Sigmoid: _Sigmoid(), _ew.Relu: _Relu(), _sh.Transpose: _Transpose(), _rd.Sum: _Sum(),
            _la.Matmul: _Matmul(), _af.Linear: _Linear()}


def _arg_shape(program, step, i):
    """The shape of input ``i`` of a step as recorded (the engine reduces a broadcast gradient to it)."""
    kind, x = program.steps[step][1][i]
    if kind == _SLOT:
        return np.shape(program.rec.arrays[x])
    return np.shape(x._data) if kind == _LEAF else np.shape(x)


def _is_ones(g):
    return type(g) is np.ndarray and g.size == 1 and g.reshape(-1)[0] == 1
