"""Fuzz every public nn Module class (from ``nn.__all__``, one constructor recipe each), every ``nn.functional``
function, every initialiser, optimiser and scheduler: bad constructor arguments, bad inputs (dtypes, None,
NaN/inf, empty and 0-d, wrong shapes) and bad keyword values must give a result or a TypeError/ValueError/
RuntimeError naming the class or function.

A new public layer needs ONE line in ``RECIPES`` (its constructor arguments and the shapes of a valid input);
``test_every_public_module_class_has_a_recipe`` lists the classes that have none.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np
import pytest
from _fuzz import Tally, run

import autograd as ag
import nn
import nn.functional as F
from nn import init, optim
from nn.optim import lr_scheduler

RNG = np.random.default_rng(0)


def ints(shape, high):
    """An input of integer indices in [0, high)."""
    return lambda: RNG.integers(0, high, size=shape)


def probs(shape):
    return lambda: RNG.uniform(0.05, 0.95, size=shape).astype(np.float32)


def signs(shape):
    return lambda: np.where(RNG.random(shape) > 0.5, 1.0, -1.0).astype(np.float32)


def log_probs(shape):
    return lambda: np.log(RNG.dirichlet(np.ones(shape[-1]), size=shape[:-1])).astype(np.float32)


@dataclass(frozen=True)
class R:
    """A constructor recipe: arguments for the class, and its inputs for one valid forward call (each a shape of
    float32 normal values, or a callable making the value)."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    inputs: tuple = ((8, 4),)
    passthrough: bool = False  # returns its input unchanged (Identity), so nothing is refused


# One line per public nn Module class. Layers added later: add their line here (e.g.
# "Conv2d": R((3, 4, 3), inputs=((2, 3, 8, 8),)),  "LSTM": R((4, 5), inputs=((6, 2, 4),)),).
RECIPES = {
    "Linear": R((4, 3)),
    "MLP": R(([4, 5, 3],)),
    "Flatten": R(inputs=((2, 3, 4),)),
    "Identity": R(passthrough=True),
    "Dropout": R((0.5,)),
    "BatchNorm1d": R((4,)),
    "BatchNorm2d": R((3,), inputs=((2, 3, 4, 4),)),
    "LayerNorm": R((4,)),
    "Embedding": R((10, 3), inputs=(ints((5,), 10),)),
    "ReLU": R(), "LeakyReLU": R(), "PReLU": R(), "ELU": R(), "Sigmoid": R(), "Tanh": R(), "SiLU": R(),
    "Swish": R(), "GELU": R(), "Softmax": R(), "LogSoftmax": R(),
    "Sequential": R((nn.Linear(4, 3), nn.Tanh())),
    "MSELoss": R(inputs=((8, 4), (8, 4))), "L1Loss": R(inputs=((8, 4), (8, 4))),
    "BCELoss": R(inputs=(probs((8,)), probs((8,)))), "BCEWithLogitsLoss": R(inputs=((8,), probs((8,)))),
    "CrossEntropyLoss": R(inputs=((8, 5), ints((8,), 5))), "NLLLoss": R(inputs=(log_probs((8, 5)), ints((8,), 5))),
    "HingeLoss": R(inputs=((8,), signs((8,)))), "MultiMarginLoss": R(inputs=((8, 5), ints((8,), 5))),
    "Conv1d": R((3, 4, 3), inputs=((2, 3, 8),)), "Conv2d": R((3, 4, 3), inputs=((2, 3, 8, 8),)),
    "MaxPool1d": R((2,), inputs=((2, 3, 8),)), "MaxPool2d": R((2,), inputs=((2, 3, 8, 8),)),
    "AvgPool1d": R((2,), inputs=((2, 3, 8),)), "AvgPool2d": R((2,), inputs=((2, 3, 8, 8),)),
    "AdaptiveAvgPool1d": R((3,), inputs=((2, 3, 8),)), "AdaptiveAvgPool2d": R(((3, 2),), inputs=((2, 3, 8, 8),)),
    "ResidualBlock": R((3, 4), {"stride": 2}, inputs=((2, 3, 8, 8),)),
    "RNN": R((4, 5), inputs=((6, 2, 4),)), "LSTM": R((4, 5), inputs=((6, 2, 4),)),
    "GRU": R((4, 5), inputs=((6, 2, 4),)), "RNNCell": R((4, 5), inputs=((2, 4),)),
    "LSTMCell": R((4, 5), inputs=((2, 4),)), "GRUCell": R((4, 5), inputs=((2, 4),)),
    "MultiheadAttention": R((4, 2), inputs=((5, 2, 4), (3, 2, 4), (3, 2, 4))),
    "TransformerEncoderLayer": R((4, 2, 8), inputs=((5, 2, 4),)),
    "TransformerEncoder": R((nn.TransformerEncoderLayer(4, 2, 8), 2), inputs=((5, 2, 4),)),
    "PositionalEncoding": R((4, 16), inputs=((5, 2, 4),)),
    "SelfAttentionUnit": R((4, 2, 8), inputs=((2, 5, 4),)),
    "GuidedAttentionUnit": R((4, 2, 8), inputs=((2, 5, 4), (2, 3, 4))),
    "SGA": R((4, 2, 8), inputs=((2, 5, 4), (2, 3, 4))),
    "MCAEncoderDecoder": R((4, 2, 1, 8), inputs=((2, 5, 4), (2, 3, 4))),
    "AttentionalReduction": R((4, 8, 6), inputs=((2, 5, 4),)),
    "CoAttentionClassifier": R((4, 2, 3, 1, 8), inputs=((2, 5, 4), (2, 3, 4))),
}
NOT_CALLABLE = {"Module": "the abstract base class", "ModuleList": "a container without forward",
                "ModuleDict": "a container without forward"}


def module_classes() -> dict[str, type]:
    """Every public nn Module class: those in ``nn.__all__`` (and ``nn.layers.__all__`` if it has one)."""
    names = list(nn.__all__) + list(getattr(getattr(nn, "layers", None), "__all__", []))
    return {n: getattr(nn, n, None) or getattr(nn.layers, n) for n in dict.fromkeys(names)
            if isinstance(getattr(nn, n, None) or getattr(getattr(nn, "layers", None), n, None), type)
            and issubclass(getattr(nn, n, None) or getattr(nn.layers, n), nn.Module)}


def test_every_public_module_class_has_a_recipe():
    missing = sorted(set(module_classes()) - set(RECIPES) - set(NOT_CALLABLE))
    assert not missing, ("public nn Module classes without a fuzz recipe; add one line each to RECIPES in "
                         f"tests/fuzz/test_fuzz_nn.py: {missing}")


F_NAMES = {n for n, f in vars(F).items() if callable(f) and not n.startswith("_")
           and getattr(f, "__module__", "").startswith("nn.")}
MODULE_NAMES = set(module_classes())


def _value(spec):
    return spec() if callable(spec) else RNG.normal(size=spec).astype(np.float32)


def _values(recipe):
    return [_value(s) for s in recipe.inputs]


BAD_INPUTS = {
    "float64": lambda x: x.astype(np.float64), "int64": lambda x: np.round(x).astype(np.int64),
    "bool": lambda x: x > 0, "complex": lambda x: x.astype(np.complex64), "object": lambda x: x.astype(object),
    "str": lambda x: x.astype(str), "None": lambda x: None, "string": lambda x: "abc",
    "nan": lambda x: np.where(np.arange(x.size).reshape(x.shape) == 0, np.nan, x).astype(x.dtype),
    "inf": lambda x: np.full_like(x, np.inf), "huge": lambda x: (x * 1e30).astype(x.dtype),
    "empty batch": lambda x: x[:0], "0-d": lambda x: np.asarray(x.flat[0]), "extra axis": lambda x: x[None],
    "missing axis": lambda x: x[0], "last dim short": lambda x: x[..., :-1] if x.ndim and x.shape[-1] > 1 else x[:0],
    "list": lambda x: x.tolist(), "transposed": lambda x: x.T,
}
BAD_INDEX_INPUTS = {
    "float": lambda i: i.astype(np.float32), "out of range": lambda i: i + 1000, "negative": lambda i: i - 1000,
    "empty": lambda i: i[:0], "0-d": lambda i: np.asarray(i.flat[0]), "None": lambda i: None,
    "bool": lambda i: i > 2, "str": lambda i: i.astype(str),
}
BAD_ARGUMENTS = {"str": "a", "negative": -1, "float": 1.5, "None": None, "nan": float("nan"), "inf": float("inf"),
                 "zero": 0, "list": [], "bool": True, "object()": object(), "complex": 1j}


def module_cases():
    """(case, names, call) for every recipe: a valid call, bad inputs, then each constructor argument made bad."""
    for name, recipe in RECIPES.items():
        cls = module_classes().get(name) or getattr(nn, name)
        names = {name} | F_NAMES | MODULE_NAMES

        def valid(cls=cls, recipe=recipe):
            out = cls(*recipe.args, **recipe.kwargs)(*_values(recipe))
            if isinstance(out, ag.Tensor) and out.requires_grad:
                out.sum().backward()
            return out

        yield f"{name} valid", names, valid, "value"
        for pos, spec in enumerate(recipe.inputs):
            integer = np.asarray(_value(spec)).dtype.kind in "iu"
            for label, change in (BAD_INDEX_INPUTS if integer else BAD_INPUTS).items():
                def call(cls=cls, recipe=recipe, pos=pos, change=change):
                    values = _values(recipe)
                    values[pos] = change(values[pos])
                    return cls(*recipe.args, **recipe.kwargs)(*values)

                must_fail = label in ("complex", "object", "str", "None", "string", "float") and not recipe.passthrough
                yield f"{name} input {pos} {label}", names, call, "error" if must_fail else "any"
        params = [p for p in inspect.signature(cls.__init__).parameters.values()
                  if p.name != "self" and not p.name.startswith("_") and p.kind not in (p.VAR_POSITIONAL,
                                                                                        p.VAR_KEYWORD)]
        for i, p in enumerate(params):
            for label, bad in BAD_ARGUMENTS.items():
                def build(cls=cls, recipe=recipe, i=i, p=p, bad=bad):
                    args, kwargs = list(recipe.args), dict(recipe.kwargs)
                    if i < len(args):
                        args[i] = bad
                    else:
                        kwargs[p.name] = bad
                    return cls(*args, **kwargs)(*_values(recipe))

                yield f"{name}({p.name}=<{label}>)", names, build, "any"


def test_modules_with_bad_inputs_and_constructor_arguments():
    tally = Tally()
    for case, names, call, expect in module_cases():
        ok, out = run(tally, case, names, call, index_ok=False)
        if ok and expect == "error":
            tally.fail(case, f"accepted it and returned {type(out).__name__}")
        elif not ok and expect == "value" and case not in tally.failures:
            tally.fail(case, "a valid call raised")
        elif ok and expect == "value" and isinstance(out, ag.Tensor) and out.dtype.kind == "f" \
                and out.dtype != np.float32:
            tally.fail(case, f"float32 model and input gave {out.dtype}")
    assert not tally.failures, tally.report()


# ----------------------------------------------------------------------------- nn.functional

X = RNG.normal(size=(8, 4)).astype(np.float32)
F_ARGS = {
    "linear": (X, RNG.normal(size=(3, 4)).astype(np.float32)), "embedding": (np.array([1, 2]), X),
    "layer_norm": (X, 4), "batch_norm": (X,), "prelu": (X, np.full(1, 0.25, np.float32)),
    "mse_loss": (X, X), "l1_loss": (X, X), "binary_cross_entropy": (probs((8,))(), probs((8,))()),
    "binary_cross_entropy_with_logits": (X[:, 0], probs((8,))()), "cross_entropy": (X, ints((8,), 4)()),
    "nll_loss": (log_probs((8, 4))(), ints((8,), 4)()), "hinge_loss": (X[:, 0], signs((8,))()),
    "multi_margin_loss": (X, ints((8,), 4)()),
    "conv1d": (RNG.normal(size=(2, 3, 8)).astype(np.float32), RNG.normal(size=(4, 3, 3)).astype(np.float32)),
    "conv2d": (RNG.normal(size=(2, 3, 6, 6)).astype(np.float32), RNG.normal(size=(4, 3, 3, 3)).astype(np.float32)),
    "max_pool1d": (RNG.normal(size=(2, 3, 8)).astype(np.float32), 2),
    "max_pool2d": (RNG.normal(size=(2, 3, 6, 6)).astype(np.float32), 2),
    "avg_pool1d": (RNG.normal(size=(2, 3, 8)).astype(np.float32), 2),
    "avg_pool2d": (RNG.normal(size=(2, 3, 6, 6)).astype(np.float32), 2),
    "adaptive_avg_pool1d": (RNG.normal(size=(2, 3, 8)).astype(np.float32), 3),
    "adaptive_avg_pool2d": (RNG.normal(size=(2, 3, 6, 6)).astype(np.float32), (3, 2)),
    "scaled_dot_product_attention": tuple(RNG.normal(size=(2, n, 4)).astype(np.float32) for n in (5, 3, 3)),
}
BAD_OPERANDS = {"None": None, "str": "abc", "object array": np.array([1.0], dtype=object),
                "str array": np.array(["a"]), "complex array": np.array([1j]), "ragged": [[1.0], [2.0, 3.0]],
                "dict": {}, "set": {1.0}}
BAD_KEYWORDS = {"str": "a", "float": 1.5, "negative": -3, "None": None, "list": [], "nan": float("nan"),
                "bool": True, "object()": object()}


def _defaults(fn, n_args):
    params = list(inspect.signature(fn).parameters.values())
    return [p.name for i, p in enumerate(params) if i >= n_args and p.default is not inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def functional_cases():
    for name in sorted(F_NAMES):
        fn = getattr(F, name)
        args = F_ARGS.get(name, (X,))
        yield f"F.{name} valid", {name}, lambda fn=fn, a=args: fn(*a), "value"
        for label, bad in BAD_OPERANDS.items():  # each required argument in turn made bad, the others valid
            for pos in range(len(args)):
                where = ", ".join(["x"] * pos + [f"<{label}>"])
                yield f"F.{name}({where})", {name}, \
                    lambda fn=fn, a=args, b=bad, i=pos: fn(*a[:i], b, *a[i + 1:]), "error"
        for kw in _defaults(fn, len(args)):
            for label, bad in BAD_KEYWORDS.items():
                yield f"F.{name}({kw}=<{label}>)", {name}, lambda fn=fn, a=args, k=kw, b=bad: fn(*a, **{k: b}), "any"


def test_functional_with_bad_operands_and_keywords():
    tally = Tally()
    for case, names, call, expect in functional_cases():
        ok, out = run(tally, case, names, call)
        if ok and expect == "error":
            tally.fail(case, f"accepted it and returned {type(out).__name__}")
        elif not ok and expect == "value" and case not in tally.failures:
            tally.fail(case, "a valid call raised")
    assert not tally.failures, tally.report()


# ----------------------------------------------------------------------------- init, optim, schedulers, utils

INIT_NAMES = sorted(n for n, f in vars(init).items() if callable(f) and n.endswith("_") and not n.startswith("_")
                    and getattr(f, "__module__", "") == "nn.init")
INIT_ARGS = {"sparse_": (0.5,), "dirac_": ()}
INIT_TENSORS = {
    "matrix": lambda: nn.Parameter(np.zeros((3, 4), np.float32)),
    "conv weight": lambda: nn.Parameter(np.zeros((2, 2, 3, 3), np.float32)),
    "1-D": lambda: nn.Parameter(np.zeros(4, np.float32)), "0-d": lambda: nn.Parameter(np.zeros((), np.float32)),
    "empty": lambda: nn.Parameter(np.zeros((0, 4), np.float32)), "int ndarray": lambda: np.zeros((3, 4), np.int64),
    "float ndarray": lambda: np.zeros((3, 4)), "None": lambda: None, "list": lambda: [[0.0, 1.0]],
    "str": lambda: "w", "recorded output": lambda: ag.Tensor(np.ones((3, 4)), requires_grad=True) * 2,
}


def init_cases():
    for name in INIT_NAMES:
        fn = getattr(init, name)
        args = INIT_ARGS.get(name, ())
        if name == "constant_":
            args = (0.5,)
        for label, make in INIT_TENSORS.items():
            yield f"init.{name}(<{label}>)", {name}, lambda fn=fn, m=make, a=args: fn(m(), *a)
        for kw in _defaults(fn, 1 + len(args)):
            for label, bad in BAD_KEYWORDS.items():
                yield f"init.{name}({kw}=<{label}>)", {name, "calculate_gain"}, \
                    lambda fn=fn, a=args, k=kw, b=bad: fn(INIT_TENSORS["matrix"](), *a, **{k: b})


def _optimizers():
    return {n: c for n, c in vars(optim).items() if isinstance(c, type) and issubclass(c, optim.Optimizer)
            and c is not optim.Optimizer}


def _schedulers():
    return {n: c for n, c in vars(lr_scheduler).items() if isinstance(c, type)
            and issubclass(c, lr_scheduler.LRScheduler) and c is not lr_scheduler.LRScheduler}


SCHEDULER_ARGS = {"StepLR": (2,), "ExponentialLR": (0.9,), "CosineAnnealingLR": (5,)}
BAD_PARAMS = {"None": None, "str": "abc", "empty": [], "floats": [1.0, 2.0], "set": {1}, "tensor": "TENSOR",
              "int tensor": [ag.Tensor([1, 2])], "non-leaf": "NONLEAF"}


def _param():
    p = nn.Parameter(np.ones(3, np.float32))
    p.grad = ag.Tensor(np.full(3, 0.5, np.float32))
    return p


def optim_cases():
    for name, cls in _optimizers().items():
        names = {name, f"{name}.step"}

        def step(cls=cls, **kw):
            p = _param()
            opt = cls([p], **kw)
            opt.step()
            return p

        yield f"{name} valid", names, step
        for label, bad in BAD_PARAMS.items():
            def make(cls=cls, bad=bad):
                if bad == "TENSOR":
                    bad = _param()
                elif bad == "NONLEAF":
                    bad = [ag.Tensor(np.ones(2), requires_grad=True) * 2]
                return cls(bad)

            yield f"{name}(params=<{label}>)", names, make
        for kw in _defaults(cls.__init__, 2):
            for label, bad in BAD_KEYWORDS.items():
                yield f"{name}({kw}=<{label}>)", names, lambda s=step, k=kw, b=bad: s(**{k: b})
    for name, cls in _schedulers().items():
        args = SCHEDULER_ARGS.get(name, ())

        def sched(cls=cls, args=args, **kw):
            opt = optim.SGD([_param()], lr=0.1)
            s = cls(opt, *args, **kw)
            for _ in range(3):
                opt.step()
                s.step()
            return opt.param_groups[0]["lr"]

        yield f"{name} valid", {name}, sched
        for i in range(len(args)):
            for label, bad in BAD_KEYWORDS.items():
                yield f"{name}(arg {i}=<{label}>)", {name}, \
                    lambda c=cls, a=args, i=i, b=bad: c(optim.SGD([_param()], lr=0.1), *a[:i], b, *a[i + 1:])
        for kw in _defaults(cls.__init__, 2 + len(args)):
            for label, bad in BAD_KEYWORDS.items():
                yield f"{name}({kw}=<{label}>)", {name}, lambda s=sched, k=kw, b=bad: s(**{k: b})
        yield f"{name}(optimizer=<str>)", {name}, lambda c=cls, a=args: c("opt", *a)


def utils_cases():
    for name in ("clip_grad_norm_", "clip_grad_value_"):
        fn = getattr(nn.utils, name)
        yield f"{name} valid", {name}, lambda fn=fn: fn([_param()], 1.0)
        for label, bad in {**BAD_KEYWORDS, "inf": float("inf")}.items():
            yield f"{name}(<{label}>)", {name}, lambda fn=fn, b=bad: fn([_param()], b)
        for label, bad in BAD_PARAMS.items():
            yield f"{name}(params=<{label}>)", {name}, lambda fn=fn, b=bad: fn(b if b not in ("TENSOR", "NONLEAF")
                                                                              else _param(), 1.0)
    for kw in ("batch_size", "shuffle", "drop_last"):
        for label, bad in BAD_KEYWORDS.items():
            yield f"DataLoader({kw}=<{label}>)", {"DataLoader"}, \
                lambda k=kw, b=bad: list(nn.data.DataLoader(nn.data.TensorDataset(X), **{k: b}))
    for label, bad in BAD_OPERANDS.items():
        yield f"TensorDataset(<{label}>)", {"TensorDataset", "tensor"}, lambda b=bad: nn.data.TensorDataset(b)


@pytest.mark.parametrize("part", ["init", "optim", "utils"])
def test_initialisers_optimisers_schedulers_and_utils(part):
    cases = {"init": init_cases, "optim": optim_cases, "utils": utils_cases}[part]
    tally = Tally()
    for case, names, call in cases():
        run(tally, case, names, call)
        if case.endswith(" valid") and case not in tally.failures and case in tally.cases:
            ok, _ = run(Tally(), case, names, call)
            if not ok:
                tally.fail(case, "a valid call raised")
    assert not tally.failures, tally.report()


def case_counts() -> dict[str, int]:
    return {"nn modules": len(list(module_cases())), "nn.functional": len(list(functional_cases())),
            "init, optim, schedulers, utils": len(list(init_cases())) + len(list(optim_cases()))
            + len(list(utils_cases()))}
