"""Every op's public function, by family; ``Tensor`` methods are bound here too."""
from .elementwise import (abs, add, astype, clip, cos, divide, equal, exp, floor_divide, greater, greater_equal,
                          less, less_equal, log, log1p, maximum, minimum, multiply, negative, not_equal, power,
                          relu, sigmoid, sign, sin, sqrt, subtract, tan, tanh, where)
from .index import getitem, scatter_add, take
from .linalg import matmul
from .reduce import (argmax, argmin, broadcast_to, log_softmax, logsumexp, max, mean, min, prod, softmax, std,
                     sum, var)
from .shape import (concatenate, expand_dims, flatten, pad, repeat, reshape, split, squeeze, stack, swapaxes,
                    tile, transpose)
from ..tensor import Tensor

# Methods that are exactly the module function with the tensor first (t.exp() == exp(t)).
METHODS = ("exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sign", "clip",
           "sum", "mean", "prod", "max", "min", "var", "std", "logsumexp", "argmax", "argmin",
           "softmax", "log_softmax", "reshape", "transpose", "swapaxes", "squeeze", "expand_dims", "flatten",
           "broadcast_to", "repeat", "tile", "take", "matmul", "maximum", "minimum", "pad")

for _name in METHODS:
    setattr(Tensor, _name, globals()[_name])
del _name
