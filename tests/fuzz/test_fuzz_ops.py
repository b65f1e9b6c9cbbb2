"""Fuzz every differentiable op (from the op registry) and every public autograd function and Tensor method (from
the public API lists) with wrong dtypes, None, NaN/inf, empty and 0-d arrays, huge values, wrong shapes and wrong
keyword types. New registry entries and new public functions join automatically."""
from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest
from _fuzz import Tally, mismatch, named, reference, run
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Tensor, registry
from autograd.ops import METHODS
from autograd.ops import __all__ as OPS_ALL
from autograd.testing import op_inputs

ENTRIES = registry.entries()
PUBLIC = set(OPS_ALL) | set(registry.NON_DIFFERENTIABLE) | {"tensor", "backward", "getitem"}
INDEX_OPS = {"getitem", "take", "scatter_add"}
N_BASES = 2  # valid inputs per entry that every mutation is applied to

# ----------------------------------------------------------------------------- valid inputs per registry entry


@functools.lru_cache(maxsize=None)
def base_inputs(entry_id: str) -> tuple[tuple[np.ndarray, ...], ...]:
    """Two valid inputs for the entry (its domains and shape kind), drawn once and reproducibly."""
    got = []

    @settings(max_examples=10, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(op_inputs(registry.get(entry_id)))
    def collect(xs):
        got.append(tuple(np.array(x.data if isinstance(x, Tensor) else x) for x in xs))

    collect()
    by_size = sorted(got, key=lambda xs: sum(x.size for x in xs))
    return (by_size[-1], by_size[len(by_size) // 2])[:N_BASES]


# ----------------------------------------------------------------------------- mutations of one input


def _nan(x, v=np.nan):
    y = np.array(x, dtype=np.float64)
    if y.size:
        y.flat[0] = v
    return y


def _zero_d(x):
    return np.asarray(x.flat[0] if x.size else 1.0, dtype=x.dtype)


def _empty(x):
    return x[:0] if x.ndim else np.zeros((0,), x.dtype)


FLOAT_MUTATIONS = {  # name -> (change, whether a returned value is compared with NumPy's)
    "float64": (lambda x: x, True),
    "float32": (lambda x: x.astype(np.float32), True),
    "int64": (lambda x: np.round(x * 2).astype(np.int64), True),
    "int32": (lambda x: np.round(x * 2).astype(np.int32), True),
    "uint8": (lambda x: np.abs(np.round(x * 60)).astype(np.uint8), True),
    "bool": (lambda x: x > 0, True),
    "nan": (_nan, True),
    "+inf": (lambda x: _nan(x, np.inf), True),
    "-inf": (lambda x: _nan(x, -np.inf), True),
    "huge": (lambda x: x * 1e300, True),
    "huge float32": (lambda x: (x * 1e37).astype(np.float32), True),
    "tiny": (lambda x: x * 1e-30, True),
    "zeros": (lambda x: np.zeros_like(x), True),
    "negative": (lambda x: -np.abs(x) - 1, True),
    "0-d": (_zero_d, True),
    "empty": (_empty, True),
    "extra axis": (lambda x: x[None], True),
    "transposed": (lambda x: x.T, True),
    "reversed view": (lambda x: x[..., ::-1] if x.ndim else x, True),
    "read-only": (lambda x: np.broadcast_to(x, x.shape), True),
}
INDEX_MUTATIONS = {
    "float index": (lambda i: i.astype(np.float64) + 0.5, False),
    "bool index": (lambda i: i > 0, None),
    "out of range": (lambda i: i + 1000, False),
    "int32 index": (lambda i: i.astype(np.int32), True),
    "empty index": (lambda i: i.reshape(-1)[:0], True),
    "0-d index": (lambda i: np.asarray(i.flat[0] if i.size else 0), True),
}


def mutated_calls(entry, xs):
    """(label, arrays) for every mutation of every input of ``entry`` applied to the valid ``xs``."""
    for pos, dom in enumerate(entry.domains):
        table = INDEX_MUTATIONS if dom.integer else FLOAT_MUTATIONS
        for label, (change, compare) in table.items():
            arrays = list(xs)
            arrays[pos] = change(xs[pos])
            yield f"input {pos} {label}", arrays, compare


def _tensors(entry, arrays, grad):
    return [a if dom.integer else Tensor(a, requires_grad=grad and a.dtype.kind == "f")
            for a, dom in zip(arrays, entry.domains)]


def check_entry(tally: Tally, entry, k: int, label: str, arrays, compare):
    """One call of ``entry`` on ``arrays``: outcome, value against NumPy, dtype kept, then a backward."""
    case = f"{entry.id} #{k} {label} {[a.dtype.str + str(a.shape) for a in arrays]}"
    names = PUBLIC | {entry.name}
    grad = all(a.dtype.kind == "f" for a, d in zip(arrays, entry.domains) if not d.integer)
    ok, out = run(tally, case, names, lambda: entry.fn(*_tensors(entry, arrays, grad)),
                  index_ok=entry.name in INDEX_OPS or entry.name in ("take",))
    if not ok:
        return
    if compare is False:
        tally.fail(case, "returned a value for an input that must be refused")
        return
    if entry.reference is not None and compare:
        why = _against_numpy(entry, out, arrays)
        if why:
            tally.fail(case, why)
            return
    floats = {a.dtype for a, d in zip(arrays, entry.domains) if not d.integer}
    if floats == {np.dtype(np.float32)} and entry.name != "astype":
        for o in (out if isinstance(out, tuple) else (out,)):
            if o.dtype.kind == "f" and o.dtype != np.float32:
                tally.fail(case, f"float32 input gave a {o.dtype} result")
    if grad:
        _check_backward(tally, case + " backward", entry, arrays)


# Where the library deliberately differs from NumPy (as PyTorch does): reductions of a 0-d tensor over axis 0 or -1.
DELIBERATE = {"reduction of a 0-d tensor over axis 0": lambda entry, arrays: entry.shapes == "reduction"
              and any(a.ndim == 0 for a in arrays) and "axis=None" not in entry.variant}


def _against_numpy(entry, out, arrays) -> str:
    """'' when ``out`` is what NumPy computes on the same arrays, or (for integer and bool inputs, which NumPy's
    reference may wrap or refuse) on the same values in float64."""
    ref_ok, ref = reference(entry.reference, arrays)
    why = mismatch(out, ref, arrays) if ref_ok else "returned a value where NumPy raises"
    if why and any(a.dtype.kind in "biu" for a, d in zip(arrays, entry.domains) if not d.integer):
        as_float = [a if d.integer else a.astype(np.float64) for a, d in zip(arrays, entry.domains)]
        ref_ok, ref = reference(entry.reference, as_float)
        why = (mismatch(out, ref, as_float) if ref_ok else why) if ref_ok else why
    if why and any(rule(entry, arrays) for rule in DELIBERATE.values()):
        return ""
    return why


def _check_backward(tally, case, entry, arrays):
    xs = _tensors(entry, arrays, True)

    def go():
        outs = entry.fn(*xs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        live = [o for o in outs if o.requires_grad]
        if live:
            total = live[0].sum()
            for o in live[1:]:
                total = total + o.sum()
            total.backward()
        return None

    ok, _ = run(tally, case, PUBLIC | {entry.name}, go, index_ok=entry.name in INDEX_OPS)
    if ok:
        for i, x in enumerate(xs):
            if isinstance(x, Tensor) and x.grad is not None and (x.grad.shape != x.shape or x.grad.dtype != x.dtype):
                tally.fail(case, f"gradient of input {i} is {x.grad.dtype}{x.grad.shape} for {x.dtype}{x.shape}")


def enumerated_cases():
    """Every (entry, base input, mutation) the enumerated fuzz runs: what the case count reports."""
    for entry in ENTRIES:
        for k, xs in enumerate(base_inputs(entry.id)):
            for label, arrays, compare in mutated_calls(entry, xs):
                yield entry, k, label, arrays, compare


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_registry_entry_under_bad_inputs(entry):
    tally = Tally()
    for k, xs in enumerate(base_inputs(entry.id)):
        for label, arrays, compare in mutated_calls(entry, xs):
            check_entry(tally, entry, k, label, arrays, compare)
    assert not tally.failures, tally.report()
    assert sum(" backward" not in c for c in tally.cases) == forward_cases(entry)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_inputs_and_mutations_drawn_by_hypothesis(data):
    entry = data.draw(st.sampled_from(ENTRIES), label="entry")
    xs = tuple(np.array(x.data if isinstance(x, Tensor) else x) for x in data.draw(op_inputs(entry)))
    calls = list(mutated_calls(entry, xs))
    label, arrays, compare = data.draw(st.sampled_from(calls), label="mutation")
    tally = Tally()
    check_entry(tally, entry, -1, label, arrays, compare)
    assert not tally.failures, tally.report()


# ----------------------------------------------------------------------------- public functions, by signature

X = np.arange(6.0, dtype=np.float32).reshape(2, 3) / 7 - 0.3
X4 = np.arange(64.0, dtype=np.float32).reshape(2, 2, 4, 4) / 63 - 0.4  # (N, C, H, W) for convolution and pooling

# Valid positional arguments where a single tensor is not enough; any other public function is called as f(X).
VALID_ARGS = {
    "add": (X, X), "subtract": (X, X), "multiply": (X, X), "divide": (X, X + 2), "power": (X + 1, X),
    "maximum": (X, X.T[:1].T), "minimum": (X, 0.0), "floor_divide": (X, 0.5), "less": (X, 0.0),
    "less_equal": (X, X), "greater": (X, 0.1), "greater_equal": (X, X), "equal": (X, X), "not_equal": (X, 0.0),
    "where": (X > 0, X, -X), "clip": (X, -0.1, 0.1), "astype": (X, np.float64), "matmul": (X, X.T),
    "linear": (X, X, X[:, 0]),
    "einsum": ("ij,kj->ik", X, X), "concatenate": ([X, X],), "stack": ([X, X],), "split": (X, 3, 1),
    "reshape": (X, (3, 2)), "broadcast_to": (X, (4, 2, 3)), "repeat": (X, 2), "tile": (X, (2, 1)),
    "pad": (X, 1), "getitem": (X, (0, slice(None, 2))), "take": (X, [0, 2], 1),
    "scatter_add": (X, (4, 3), [0, 2]), "swapaxes": (X, 0, 1), "expand_dims": (X, 0),
    "full": ((2, 3), 1.5), "full_like": (X, 2.0), "arange": (5,), "linspace": (0.0, 1.0, 5), "eye": (3,),
    "zeros": (2, 3), "ones": (2, 3), "rand": (2, 3), "randn": (2, 3), "randint": (5, 10, (3,)),
    "zeros_like": (X,), "ones_like": (X,),
    "conv2d": (X4, X4[:3, :2]), "max_pool2d": (X4, 2), "avg_pool2d": (X4, 2), "sliding_windows": (X4, 2),
    "fold_windows": (np.ones((2, 2, 2, 2, 2, 2), np.float32), (2, 2, 3, 3)),
}
BAD_OPERANDS = {
    "None": None, "str": "abc", "bytes": b"ab", "dict": {"a": 1}, "set": {1.0, 2.0}, "object()": object(),
    "complex scalar": 1j, "object array": np.array([1.0, 2.0], dtype=object), "str array": np.array(["a", "b"]),
    "bytes array": np.array([b"a", b"b"]), "datetime array": np.array(["2020-01-01"], dtype="datetime64[D]"),
    "complex array": np.array([1j, 2.0]), "ragged list": [[1.0, 2.0], [3.0]], "list of str": ["a", "b"],
    "complex64 scalar": np.complex64(1j), "timedelta array": np.array([1, 2], dtype="timedelta64[s]"),
}
BAD_KEYWORDS = {"str": "a", "float": 1.5, "negative": -7, "None": None, "list": [], "object()": object(),
                "nan": float("nan"), "big": 10 ** 6, "bool": True, "complex": 2j, "tuple of str": ("a",)}
_NO_OPERAND = {"arange", "linspace", "eye", "zeros", "ones", "full", "rand", "randn", "randint"}


def public_functions():
    """Every public autograd array function: the registry's names, the non-differentiable ones, creation."""
    names = sorted((set(OPS_ALL) | set(registry.NON_DIFFERENTIABLE)) & set(dir(ag)))
    return [(n, getattr(ag, n)) for n in names]


def _keywords(fn, n_args=0):
    """Names of ``fn``'s parameters that have defaults and are not among its first ``n_args`` positional ones."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []
    if any(p.kind == p.VAR_POSITIONAL for p in params[:n_args]):
        n_args = 0
    return [p.name for i, p in enumerate(params) if p.default is not inspect.Parameter.empty
            and p.kind != p.VAR_KEYWORD and (i >= n_args or p.kind == p.KEYWORD_ONLY)]


def api_cases():
    """(case, name, call, must_fail) for every public function: a bad first operand, then bad keywords."""
    for name, fn in public_functions():
        args = VALID_ARGS.get(name, (X,))
        yield f"{name} valid", name, lambda fn=fn, a=args: fn(*a), False
        for label, bad in BAD_OPERANDS.items():
            if name in _NO_OPERAND and label in ("set", "dict"):  # a shape given as a set/dict: refused too
                pass
            sequence_ok = name in ("concatenate", "stack") and label == "ragged list"  # pieces of any length
            yield f"{name}(<{label}>)", name, lambda fn=fn, a=args, b=bad: fn(b, *a[1:]), not sequence_ok
            if len(args) >= 2 and name not in _NO_OPERAND and name not in ("where", "einsum"):
                yield f"{name}(x, <{label}>)", name, lambda fn=fn, a=args, b=bad: fn(a[0], b, *a[2:]), \
                    name not in ("clip", "astype", "split", "repeat", "tile", "pad", "reshape", "broadcast_to",
                                 "getitem", "take", "swapaxes", "expand_dims", "full_like", "scatter_add")
        for kw in _keywords(fn, len(args)):
            for label, bad in BAD_KEYWORDS.items():
                yield f"{name}({kw}=<{label}>)", name, lambda fn=fn, a=args, k=kw, b=bad: fn(*a, **{k: b}), False


def method_cases():
    """Tensor methods with bad keyword values, and operators with bad operands."""
    t = Tensor(X)
    for name in METHODS:
        meth = getattr(t, name)
        args = VALID_ARGS.get(name, (X,))[1:]
        for kw in _keywords(getattr(ag, name), len(args) + 1):
            for label, bad in BAD_KEYWORDS.items():
                yield f"Tensor.{name}({kw}=<{label}>)", name, lambda m=meth, a=args, k=kw, b=bad: m(*a, **{k: b}), \
                    False
    for op, name in (("__add__", "add"), ("__mul__", "multiply"), ("__truediv__", "divide"), ("__pow__", "power"),
                     ("__matmul__", "matmul"), ("__lt__", "less"), ("__getitem__", "getitem"),
                     ("__radd__", "add"), ("__rsub__", "subtract")):
        for label, bad in BAD_OPERANDS.items():
            if op == "__getitem__" and label in ("None",):
                continue  # t[None] adds an axis, as NumPy
            yield f"Tensor.{op}(<{label}>)", name, lambda o=op, b=bad: getattr(t, o)(b), op != "__getitem__"


def _total(t):
    return (t * t).sum()


# The rest of the public API that takes arrays: conversions, transforms, checks (registry.NOT_OPS).
TRANSFORMS = {
    "tensor": lambda b: ag.tensor(b), "Tensor": lambda b: Tensor(b), "from_numpy": lambda b: ag.from_numpy(b),
    "grad": lambda b: ag.grad(_total)(b), "value_and_grad": lambda b: ag.value_and_grad(_total)(b),
    "vjp": lambda b: ag.vjp(lambda t: t * 2, b), "jvp": lambda b: ag.jvp(lambda t: t * 2, (b,), (b,)),
    "jacobian": lambda b: ag.jacobian(lambda t: t * 2)(b), "hessian": lambda b: ag.hessian(_total)(b),
    "gradcheck": lambda b: ag.gradcheck(_total, [b]), "gradgradcheck": lambda b: ag.gradgradcheck(_total, [b]),
}


def transform_cases():
    """Conversions and transforms with every bad operand: refused, naming the function."""
    for name, call in TRANSFORMS.items():
        yield f"{name} valid", name, lambda c=call: c(X.astype(np.float64)), False
        for label, bad in BAD_OPERANDS.items():
            if name == "from_numpy" and not isinstance(bad, np.ndarray):
                continue
            yield f"{name}(<{label}>)", {name, "tensor"} if name == "Tensor" else name, \
                lambda c=call, b=bad: c(b), True


def test_public_functions_and_methods_with_bad_operands_and_keywords():
    tally = Tally()
    for case, name, call, must_fail in list(api_cases()) + list(method_cases()) + list(transform_cases()):
        name = name if isinstance(name, set) else {name}
        ok, out = run(tally, case, name, call, index_ok=bool(name & INDEX_OPS))
        if ok and must_fail:
            tally.fail(case, f"accepted it and returned {type(out).__name__}")
    assert not tally.failures, tally.report()


def test_every_public_function_has_a_valid_call():
    """A new public function that f(X) cannot call needs one line in VALID_ARGS (so it is fuzzed at all)."""
    missing = []
    for name, fn in public_functions():
        try:
            with np.errstate(all="ignore"):
                fn(*VALID_ARGS.get(name, (X,)))
        except TypeError as e:
            if not named(e, {name}) or "argument" in str(e):
                missing.append(f"{name}: {e}")
    assert not missing, "add a VALID_ARGS entry in tests/fuzz/test_fuzz_ops.py for:\n" + "\n".join(missing)


def forward_cases(entry) -> int:
    """How many forward calls the enumerated fuzz makes for ``entry`` (backward calls come on top)."""
    return N_BASES * sum(len(INDEX_MUTATIONS if d.integer else FLOAT_MUTATIONS) for d in entry.domains)


def case_counts() -> dict[str, int]:
    """Distinct enumerated cases: registry forward calls, and public functions and methods."""
    return {"registry ops": sum(forward_cases(e) for e in ENTRIES),
            "functions, methods and transforms": len(list(api_cases())) + len(list(method_cases()))
            + len(list(transform_cases()))}
