"""graphgrad's autograd: a Tensor that records a dynamic graph, and reverse-mode
differentiation over it (first and higher order)."""
from . import allocator  # noqa: F401  (glibc keeps freed memory for reuse; GRAPHGRAD_MALLOC=system opts out)
from .dtypes import get_default_dtype, set_default_dtype
from .mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, from_numpy, tensor
from .ops import *  # noqa: F401,F403
from .ops import METHODS as _METHODS  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from .random import get_rng_state, manual_seed, rand, randint, randn, set_rng_state  # noqa: F401
from .anomaly import detect_anomaly, is_anomaly_enabled  # noqa: F401
from .creation import arange, eye, full, full_like, linspace, ones, ones_like, zeros, zeros_like  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
from .functional import grad, hessian, jacobian, jvp, value_and_grad, vjp  # noqa: F401

__graphgrad__ = True  # lets nn and viz tell this package from PyPI's HIPS autograd
__version__ = "0.1.0"
from .dlpack import from_dlpack  # noqa: F401
from .capture import capture  # noqa: F401,E402
