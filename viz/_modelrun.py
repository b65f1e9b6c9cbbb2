"""Running a model once under an observer, and analysing the ops it recorded for ``draw_model``.

Each op's module chain comes from ``Op.scope`` (the modules it ran inside, pushed by
``Module.__call__``), named through ``model.named_modules()``. Unrolled loops are found as
tandem repeats of op signatures and folded onto their first repetition.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from autograd import Tensor
from autograd.engine import enable_grad

from ._format import params_text
from ._repeats import tandem_blocks
from ._walk import as_tensor_roots
from .record import Recording, record

_DIGITS = re.compile(r"^\d+$")


# --------------------------------------------------------------------------- running the model
def _prepare_inputs(example_input):
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    prepared = []
    for a in args:
        if isinstance(a, (np.ndarray, Tensor)):
            data = a.data if isinstance(a, Tensor) else a
            t = Tensor(data)
            if data.dtype.kind == "f":
                t.requires_grad_(True)  # so ops on the input are recorded too; the caller's tensor is untouched
            prepared.append(t)
        else:
            prepared.append(a)
    return prepared


class _Preserved:
    """Snapshot of a model's parameter/buffer arrays and the random generator, restored after the run."""

    def __init__(self, model):
        self.items = []
        state = model.state_dict(keep_vars=True) if hasattr(model, "state_dict") else {}
        for t in state.values():
            if isinstance(t, Tensor):
                self.items.append((t, t.data, np.array(t.data, copy=True)))
        self.rng = None
        try:
            from autograd.random import generator
            self.gen = generator()
            self.rng = self.gen.bit_generator.state
        except (ImportError, AttributeError):
            self.gen = None

    def restore(self):
        for t, arr, copy in self.items:
            if not np.array_equal(arr, copy, equal_nan=arr.dtype.kind == "f"):
                np.copyto(arr, copy)
            if t.data is not arr:
                t.data = arr
        if self.gen is not None and self.rng is not None:
            self.gen.bit_generator.state = self.rng


def run_model(model, example_input) -> tuple[Recording, list, list]:
    inputs = _prepare_inputs(example_input)
    saved = _Preserved(model)
    try:
        with enable_grad(), record() as rec:
            result = model(*inputs)
    finally:
        saved.restore()
    roots = as_tensor_roots(result, "draw_model")
    return rec, roots, inputs


# --------------------------------------------------------------------------- structure
@dataclass
class Block:
    """A repeated run: ``unit`` (the first repetition's ops) happened ``count`` times inside ``context``."""

    depth: int            # chain length of the context module path
    unit: list
    count: int
    contained: set = field(default_factory=set)  # ids of child modules whose ops all lie in the unit
    key: str = ""
    chained: bool = True  # each repetition feeds the next (a loop); else independent copies


class Analysis:
    """Module chains, repeat grouping and call counts for the ops of one forward call."""

    def __init__(self, model, ops, group_repeats: bool):
        self.model = model
        self.ops = ops
        self.names = {id(m): name for name, m in model.named_modules()}
        self.modules = {id(m): m for _, m in model.named_modules()}
        self.chain = {op: self._chain(op) for op in ops}
        self.canon = {op: op for op in ops}
        self.blocks: list[Block] = []
        self.aliases: dict[int, list] = {}  # id(module drawn) -> modules it stands for (other repetitions)
        if group_repeats:
            self._group(ops, 0)
        self.calls = self._count_calls()

    def resolve(self, op):
        """The op drawn for ``op``: its first-repetition counterpart, through nested repeats."""
        while self.canon[op] is not op:
            op = self.canon[op]
        return op

    def _chain(self, op):
        scope = [m for m in op.scope if getattr(m, "function_name", None) is None]  # modules only
        start = 0
        for i, m in enumerate(scope):
            if m is self.model:
                start = i + 1
        return tuple(scope[start:])

    def name(self, m) -> str:
        return self.names.get(id(m)) or f"?{type(m).__name__}"

    def _sig(self, op, depth):
        rel = tuple((type(m).__name__, "#" if _DIGITS.match(self.name(m).rsplit(".", 1)[-1]) else
                     self.name(m).rsplit(".", 1)[-1]) for m in self.chain[op][depth:])
        return op.name, rel, tuple((o.shape, np.dtype(o.dtype).str) for o in op.outputs)

    def _group(self, ops, depth):
        """Compress repeats among ``ops`` (all inside one module path of length ``depth``), then recurse."""
        reps = [op for op in ops if self.canon[op] is op]
        if len(reps) >= 2:
            sigs = [self._sig(op, depth) for op in reps]

            def chained(start, p, count):
                """Each repetition consumes something the previous one produced (a loop, not parallel copies)."""
                for j in range(1, count):
                    prev = set(reps[start + (j - 1) * p:start + j * p])
                    if not any(edge.node in prev for o in reps[start + j * p:start + (j + 1) * p]
                               for edge in o.inputs):
                        return False
                return True

            def foldable(start, p, count):
                """A loop, or at least three side-by-side copies configured identically; copies that differ
                in their parameters (an LSTM's gates sliced from one matrix) are distinct roles, kept apart."""
                if chained(start, p, count):
                    return True
                texts = [params_text(o.name, o.params) for o in reps[start:start + p * count]]
                return count >= 3 and all(texts[i] == texts[i % p] for i in range(p, p * count))

            for start, p, count in sorted(tandem_blocks(sigs, foldable), key=lambda b: -b[1] * b[2]):  # outer first
                unit = reps[start:start + p]
                if any(self.canon[op] is not op for op in unit):
                    continue  # already folded by an enclosing repeat found first
                region = reps[start:start + p * count]
                bdepth = depth  # a loop entirely inside one child module belongs inside that child's cluster
                while all(len(self.chain[o]) > bdepth for o in region) and \
                        len({id(self.chain[o][bdepth]) for o in region}) == 1:
                    bdepth += 1
                block = Block(bdepth, unit, count, key=f"rep{len(self.blocks)}", chained=chained(start, p, count))
                for j in range(1, count):
                    for k in range(p):
                        op, rep = reps[start + j * p + k], unit[k]
                        self.canon[op] = rep
                        for m, m0 in zip(self.chain[op], self.chain[rep]):
                            if m is not m0:
                                lst = self.aliases.setdefault(id(m0), [])
                                if all(x is not m for x in lst):
                                    lst.append(m)
                inside = Counter(id(self.chain[o][bdepth]) for o in unit if len(self.chain[o]) > bdepth)
                total = Counter(id(self.chain[o][bdepth]) for o in self.ops
                                if self.canon[o] is o and len(self.chain[o]) > bdepth)
                block.contained = {c for c, n in inside.items() if total[c] == n}
                self.blocks.append(block)
        by_child: dict[int, list] = {}
        for op in ops:
            if self.canon[op] is op and len(self.chain[op]) > depth:
                by_child.setdefault(id(self.chain[op][depth]), []).append(op)
        for child_ops in by_child.values():
            self._group(child_ops, depth + 1)

    def _count_calls(self) -> dict[int, int]:
        """Calls per module: distinct scope tuples of its own ops (each call pushes a new tuple)."""
        direct: dict[int, set] = {}
        for op in self.ops:
            if op.scope and self.chain[op]:
                direct.setdefault(id(self.chain[op][-1]), set()).add(id(op.scope))
        calls = {}
        for mid, m in self.modules.items():
            n = len(direct.get(mid, ()))
            if n == 0:
                n = max((len(direct.get(id(d), ())) for d in m.modules()), default=0) \
                    if hasattr(m, "modules") else 0
            calls[mid] = max(n, 1)
        return calls

    @property
    def max_level(self) -> int:
        return max((len(c) for c in self.chain.values()), default=0)
