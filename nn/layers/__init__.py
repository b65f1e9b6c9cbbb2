"""Layers: every ``nn`` Module class except the losses (in ``nn.losses``)."""
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, PReLU, ReLU, Sigmoid, SiLU, Softmax, Swish, Tanh
from .attention import MultiheadAttention
from .coattention import (
    SGA,
    AttentionalReduction,
    CoAttentionClassifier,
    GuidedAttentionUnit,
    MCAEncoderDecoder,
    SelfAttentionUnit,
)
from .containers import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Identity, Linear
from .mlp import MLP
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .recurrent import GRU, LSTM, RNN
from .rnn_cells import GRUCell, LSTMCell, RNNCell
from .transformer import PositionalEncoding, TransformerEncoder, TransformerEncoderLayer

__all__ = [
           "ELU",
           "GELU",
           "MLP",
           "MultiheadAttention",
           "SGA",
           "AttentionalReduction",
           "CoAttentionClassifier",
           "GuidedAttentionUnit",
           "MCAEncoderDecoder",
           "SelfAttentionUnit",
           "PositionalEncoding",
           "TransformerEncoder",
           "TransformerEncoderLayer",
           "BatchNorm1d",
           "BatchNorm2d",
           "Dropout",
           "Embedding",
           "Flatten",
           "Identity",
           "LayerNorm",
           "LeakyReLU",
           "Linear",
           "LogSoftmax",
           "ModuleDict",
           "ModuleList",
           "PReLU",
           "ReLU",
           "Sequential",
           "SiLU",
           "Sigmoid",
           "Softmax",
           "Swish",
           "Tanh",
           # recurrent
           "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell",
]

# ---- convolution, pooling, residual blocks ----
from .conv import Conv1d, Conv2d  # noqa: E402
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d  # noqa: E402
from .residual import ResidualBlock  # noqa: E402

__all__ += ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "Conv1d", "Conv2d", "MaxPool1d",
            "MaxPool2d", "ResidualBlock"]
