"""Every op's public function, by family; ``Tensor`` methods are bound here too."""
from ..tensor import Tensor
from .affine import linear
from .attention import masked_softmax
from .conv import avg_pool2d, conv2d, fold_windows, max_pool2d, sliding_windows
from .elementwise import (
    abs,
    add,
    astype,
    clip,
    cos,
    divide,
    equal,
    exp,
    floor_divide,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    log1p,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    power,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    subtract,
    tan,
    tanh,
    where,
)
from .index import getitem, scatter_add, take
from .linalg import einsum, matmul
from .reduce import argmax, argmin, broadcast_to, log_softmax, logsumexp, max, mean, min, prod, softmax, std, sum, var
from .shape import (
    concatenate,
    expand_dims,
    flatten,
    pad,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    tile,
    transpose,
    unbind,
)
from .special import erf

__all__ = [
    "abs",
    "add",
    "argmax",
    "argmin",
    "astype",
    "avg_pool2d",
    "broadcast_to",
    "clip",
    "concatenate",
    "conv2d",
    "cos",
    "divide",
    "einsum",
    "equal",
    "erf",
    "exp",
    "expand_dims",
    "flatten",
    "floor_divide",
    "fold_windows",
    "getitem",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "log",
    "log1p",
    "log_softmax",
    "masked_softmax",
    "logsumexp",
    "linear",
    "matmul",
    "max",
    "max_pool2d",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "not_equal",
    "pad",
    "power",
    "prod",
    "relu",
    "repeat",
    "reshape",
    "scatter_add",
    "sigmoid",
    "sign",
    "sin",
    "sliding_windows",
    "softmax",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "subtract",
    "sum",
    "swapaxes",
    "take",
    "tan",
    "tanh",
    "tile",
    "transpose",
    "unbind",
    "var",
    "where",
]

# Methods that are exactly the module function with the tensor first (t.exp() == exp(t)).
METHODS = ("exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sign", "clip", "erf",
           "sum", "mean", "prod", "max", "min", "var", "std", "logsumexp", "argmax", "argmin",
           "softmax", "log_softmax", "reshape", "transpose", "swapaxes", "squeeze", "expand_dims", "flatten",
           "broadcast_to", "repeat", "tile", "take", "matmul", "maximum", "minimum", "pad", "split", "unbind")

for _name in METHODS:
    setattr(Tensor, _name, globals()[_name])
del _name

# Operators taking (self, other) in that order are the module functions themselves: one call fewer per op.
OPERATORS = {"__add__": add, "__sub__": subtract, "__mul__": multiply, "__truediv__": divide,
             "__floordiv__": floor_divide, "__pow__": power, "__matmul__": matmul, "__neg__": negative,
             "__abs__": abs, "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
             "__getitem__": getitem}
for _name, _fn in OPERATORS.items():
    setattr(Tensor, _name, _fn)
del _name, _fn
