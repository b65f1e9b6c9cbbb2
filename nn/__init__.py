"""graphgrad's neural-network library: Modules, layers, activations, losses and initialisers on autograd.

Names, parameter layouts and defaults follow PyTorch (``nn.Linear(in_features, out_features)``,
``weight`` of shape (out, in), ``running_mean``...), so PyTorch code and state_dicts carry over.
"""
from ._compat import check_autograd as _check_autograd

_check_autograd("nn")

from . import functional, init
from .layers import (
    ELU,
    GELU,
    MLP,
    BatchNorm1d,
    BatchNorm2d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleDict,
    ModuleList,
    PReLU,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Swish,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
)
from .module import IncompatibleKeys, Module, Parameter, StateDictError

__all__ = [
    "ELU", "GELU", "MLP", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "CrossEntropyLoss",
    "Dropout", "Embedding", "Flatten", "HingeLoss", "Identity", "IncompatibleKeys", "L1Loss", "LayerNorm",
    "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleDict", "ModuleList", "MultiMarginLoss",
    "NLLLoss", "PReLU", "Parameter", "ReLU", "Sequential", "SiLU", "Sigmoid", "Softmax", "StateDictError", "Swish",
    "Tanh", "functional", "init",
]

# ---- training stack (optim, data, fit, save/load): appended below by its owner ----
from . import data, metrics, optim, utils
from .callbacks import Callback, EarlyStopping, LambdaCallback, ProgressBar
from .history import History
from .serialization import load, save
from .training import evaluate, fit

__all__ += [
    "Callback", "EarlyStopping", "History", "LambdaCallback", "ProgressBar", "data", "evaluate", "fit", "load",
    "metrics", "optim", "save", "utils",
]
# ---- end of the training-stack block ----

# ---- PyTorch state_dicts both ways (nn/interop.py) ----
from .interop import from_torch_state_dict, to_torch_state_dict

__all__ += ["from_torch_state_dict", "to_torch_state_dict"]

# ---- attention and Transformer encoder (nn/layers/attention.py, transformer.py, coattention.py) ----
from .layers.attention import MultiheadAttention
from .layers.coattention import (
    SGA,
    AttentionalReduction,
    CoAttentionClassifier,
    GuidedAttentionUnit,
    MCAEncoderDecoder,
    SelfAttentionUnit,
)
from .layers.transformer import PositionalEncoding, TransformerEncoder, TransformerEncoderLayer

__all__ += [
    "SGA", "AttentionalReduction", "CoAttentionClassifier", "GuidedAttentionUnit", "MCAEncoderDecoder",
    "MultiheadAttention", "PositionalEncoding", "SelfAttentionUnit", "TransformerEncoder", "TransformerEncoderLayer",
]
# ---- end of the attention block ----

# ---- recurrent layers ----
from .layers import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ += ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]

# ---- convolution, pooling, residual blocks ----
from .layers import (  # noqa: E402
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    MaxPool1d,
    MaxPool2d,
    ResidualBlock,
)

__all__ += ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "Conv1d", "Conv2d", "MaxPool1d",
            "MaxPool2d", "ResidualBlock"]
