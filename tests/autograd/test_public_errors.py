"""Every public autograd function, driven from the registry's lists of names: a wrong type (str, None, a
plain object) in place of any tensor argument, and a bad axis where there is one, raise TypeError or
ValueError whose message starts with the function's name; nothing is recorded and no global state changes."""
import inspect
import re

import numpy as np
import pytest

import autograd
from autograd import Tensor, registry

BAD_VALUES = {"str": "abc", "None": None, "object": object()}


def X():
    return Tensor(np.arange(6.0).reshape(2, 3) + 1, requires_grad=True)


class T:
    """Marks a tensor argument in a call template (the slot a bad value is put in)."""

    def __init__(self, make=X):
        self.make = make


class Seq:
    """Marks a sequence-of-tensors argument (concatenate, stack): the whole sequence and one item are replaced."""


# A valid call of every public function: positional template and keyword arguments.
CALLS = {
    "abs": (T(),), "cos": (T(),), "erf": (T(),), "exp": (T(),), "log": (T(),), "log1p": (T(),),
    "negative": (T(),), "relu": (T(),), "sigmoid": (T(),), "sign": (T(),), "sin": (T(),), "sqrt": (T(),),
    "tan": (T(),), "tanh": (T(),), "flatten": (T(),),
    "add": (T(), T()), "subtract": (T(), T()), "multiply": (T(), T()), "divide": (T(), T()), "power": (T(), T()),
    "maximum": (T(), T()), "minimum": (T(), T()), "floor_divide": (T(), T()),
    "equal": (T(), T()), "not_equal": (T(), T()), "less": (T(), T()), "less_equal": (T(), T()),
    "greater": (T(), T()), "greater_equal": (T(), T()),
    "where": (np.array([True, False, True]), T(), T()),
    "clip": (T(), 0.0, 1.0), "astype": (T(), np.float32),
    "sum": (T(),), "mean": (T(),), "prod": (T(),), "max": (T(),), "min": (T(),), "logsumexp": (T(),),
    "var": (T(),), "std": (T(),), "argmax": (T(),), "argmin": (T(),), "softmax": (T(),), "log_softmax": (T(),),
    "masked_softmax": (T(),),
    "reshape": (T(), (3, 2)), "transpose": (T(),), "swapaxes": (T(), 0, 1), "squeeze": (T(),),
    "expand_dims": (T(), 0), "broadcast_to": (T(), (2, 2, 3)), "repeat": (T(), 2), "tile": (T(), 2),
    "concatenate": (Seq(),), "stack": (Seq(),), "split": (T(), [1]), "unbind": (T(),), "pad": (T(), 1),
    "getitem": (T(), 0), "take": (T(), np.array([0, 1])), "scatter_add": (T(), (4, 3), np.array([0, 0])),
    "matmul": (T(), T(lambda: Tensor(np.ones((3, 2)), requires_grad=True))),
    "linear": (T(), T(lambda: Tensor(np.ones((4, 3)), requires_grad=True))), "einsum": ("ij,kj->ik", T(), T()),
    "zeros_like": (T(),), "ones_like": (T(),), "full_like": (T(), 2.0),
    "zeros": ((2, 3),), "ones": ((2, 3),), "full": ((2, 3), 1.0), "rand": (2, 3), "randn": (2, 3),
    "randint": (0, 5, (2,)), "arange": (0, 5), "linspace": (0.0, 1.0, 5), "eye": (3,),
    # Transforms and checks take a function first.
    "grad": (lambda x: (x * x).sum(),), "value_and_grad": (lambda x: (x * x).sum(),),
    "jacobian": (lambda x: x * x,), "hessian": (lambda x: (x * x).sum(),),
    "vjp": (lambda x: x * x, T()), "jvp": (lambda x: x * x, (X(),), (X(),)),
    "gradcheck": (lambda x: x * x, (Tensor(np.ones(2), requires_grad=True),)),
    "gradgradcheck": (lambda x: x * x, (Tensor(np.ones(2), requires_grad=True),)),
    "tensor": (T(lambda: [1.0, 2.0]),), "Tensor": (T(lambda: [1.0, 2.0]),),
    "from_numpy": (T(lambda: np.ones(3)),),
    "from_dlpack": (T(lambda: np.ones(3)),),
    "manual_seed": (0,), "set_default_dtype": (np.float32,), "set_grad_enabled": (True,),
    "detect_anomaly": (True,),
    # Convolution and pooling (autograd.ops.conv): (N, C, H, W) inputs.
    "conv2d": (T(lambda: Tensor(np.ones((1, 2, 4, 4)), requires_grad=True)),
               T(lambda: Tensor(np.ones((3, 2, 2, 2)), requires_grad=True))),
    "max_pool2d": (T(lambda: Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)), 2),
    "avg_pool2d": (T(lambda: Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)), 2),
    "sliding_windows": (T(lambda: Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)), 2),
    "fold_windows": (T(lambda: Tensor(np.ones((1, 1, 3, 3, 2, 2)), requires_grad=True)), (1, 1, 4, 4)),
}
# Creation functions: the shape (or the numbers) are what a wrong type goes into.
NUMERIC_FIRST = {"zeros", "ones", "full", "rand", "randn", "randint", "arange", "linspace", "eye", "manual_seed",
                 "set_default_dtype", "set_grad_enabled", "detect_anomaly"}
CALLABLE_FIRST = {"grad", "value_and_grad", "jacobian", "hessian", "vjp", "jvp", "gradcheck", "gradgradcheck"}
CALLS["capture"] = (lambda: None,)  # autograd.capture wraps a step function
CALLABLE_FIRST |= {"capture"}
# Public names that take no argument a wrong type could go into, are exception/context classes, or take
# a graph-free callable by design.
NOT_CHECKED = {"Function", "FunctionCtx", "GradcheckError", "no_grad", "enable_grad", "is_grad_enabled",
               "is_anomaly_enabled", "get_default_dtype", "get_rng_state", "set_rng_state"}

# Registry names of ops that other packages register (nn's fused recurrent steps) are not autograd functions.
PUBLIC = sorted({n for n in registry.names() if hasattr(autograd, n)} | registry.NON_DIFFERENTIABLE | registry.NOT_OPS)
CHECKED = [n for n in PUBLIC if n not in NOT_CHECKED]


def test_every_public_function_has_a_call_template():
    missing = [n for n in CHECKED if n not in CALLS]
    assert not missing, f"public autograd functions without a call template here: {missing}"


def _materialize(template):
    return [a.make() if isinstance(a, T) else [X(), X()] if isinstance(a, Seq) else a for a in template]


def _slots(name):
    """(label, args) for every way of putting a wrong type into ``name``'s call."""
    template = CALLS[name]
    out = []
    for i, a in enumerate(template):
        first_plain = i == 0 and (name in NUMERIC_FIRST or name in CALLABLE_FIRST)
        if not (isinstance(a, (T, Seq)) or first_plain):
            continue
        for label, bad in BAD_VALUES.items():
            args = _materialize(template)
            args[i] = bad
            out.append((f"arg {i} {label}", args))
            if isinstance(a, Seq):
                args = _materialize(template)
                args[i] = [X(), bad]
                out.append((f"arg {i} item {label}", args))
    return out


CASES = [(n, label, args) for n in CHECKED if n in CALLS for label, args in _slots(n)]


def _call(name, args):
    fn = getattr(autograd, name)
    result = fn(*args)
    if name in ("grad", "value_and_grad", "jacobian", "hessian"):
        result = result(X())  # the transform is only applied when called
    return result


def test_templates_are_valid_calls():
    for name in CHECKED:
        if name in CALLS:
            _call(name, _materialize(CALLS[name]))
    assert autograd.is_grad_enabled() and autograd.get_default_dtype() == np.float32


@pytest.mark.parametrize("name, label, args", CASES, ids=[f"{n}-{lab}" for n, lab, _ in CASES])
def test_wrong_type_raises_naming_the_function(name, label, args):
    with pytest.raises((TypeError, ValueError)) as info:
        _call(name, args)
    assert re.match(rf"{name.lower()}\b", str(info.value).lower()), \
        f"{name}({label}) raised {type(info.value).__name__}: {info.value}"
    assert autograd.is_grad_enabled(), f"{name}({label}) switched grad mode off"
    assert autograd.get_default_dtype() == np.float32, f"{name}({label}) changed the default dtype"


def _has_axis(name):
    fn = getattr(autograd, name, None)
    try:
        return fn is not None and "axis" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


AXIS_NAMES = [n for n in PUBLIC if _has_axis(n)]
BAD_AXES = {"str": ("a", TypeError), "float": (1.5, TypeError), "too big": (7, ValueError),
            "too negative": (-8, ValueError), "tuple with str": ((0, "a"), TypeError)}


def test_the_functions_with_an_axis_are_found():
    assert {"sum", "mean", "max", "softmax", "concatenate", "stack", "split", "take", "repeat", "squeeze",
            "expand_dims", "argmax"} <= set(AXIS_NAMES)


@pytest.mark.parametrize("bad", list(BAD_AXES), ids=list(BAD_AXES))
@pytest.mark.parametrize("name", AXIS_NAMES)
def test_bad_axis_raises_naming_the_function(name, bad):
    axis, expected = BAD_AXES[bad]
    fn = getattr(autograd, name)
    position = list(inspect.signature(fn).parameters).index("axis")
    args = _materialize(CALLS[name])[:position]  # axis is given by keyword
    with pytest.raises((TypeError, ValueError)) as info:
        fn(*args, axis=axis)
    assert re.match(rf"{name}\b", str(info.value)), f"{name}(axis={axis!r}) raised: {info.value}"
    single_axis_only = not isinstance(axis, tuple)
    if single_axis_only:
        assert isinstance(info.value, expected), f"{name}(axis={axis!r}) raised {type(info.value).__name__}"


def test_comparison_with_none_is_false_not_an_error():
    x = X()
    assert (x == None) is False  # noqa: E711 - the point of the test
    assert (x != None) is True  # noqa: E711
    assert x not in [None]


@pytest.mark.parametrize("call, exc, message", [
    (lambda: autograd.reshape(X(), "a"), TypeError, "reshape: shape must be ints"),
    (lambda: autograd.clip(X(), "a", 1.0), TypeError, "clip: lo and hi must be numbers"),
    (lambda: autograd.astype(X(), "no such dtype"), TypeError, "astype: 'no such dtype' is not a NumPy dtype"),
    (lambda: autograd.var(X(), ddof=-1), ValueError, "var: ddof must be non-negative, got -1"),
    (lambda: autograd.std(X(), ddof=1.5), TypeError, "std: ddof must be an int, got 1.5"),
    (lambda: autograd.scatter_add(X(), (1,), np.array([0, 0])), ValueError,
     r"scatter_add: values of shape \(2, 3\) do not fit the indexed part of shape \(2,\)"),
    (lambda: autograd.scatter_add(X(), "ab", np.array([0, 0])), TypeError, "scatter_add: shape must be a tuple"),
    (lambda: autograd.scatter_add(X(), (4, 3), np.array([0, 9])), IndexError, "scatter_add: index 9"),
    (lambda: autograd.zeros_like(X(), dtype="no such dtype"), TypeError, "zeros_like: 'no such dtype'"),
], ids=["reshape shape", "clip bound", "astype dtype", "var ddof", "std ddof", "scatter_add fit",
        "scatter_add shape", "scatter_add index", "zeros_like dtype"])
def test_bad_other_arguments_raise_naming_the_function(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
