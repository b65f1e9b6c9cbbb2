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
from .transformer import PositionalEncoding, TransformerEncoder, TransformerEncoderLayer
from .recurrent import GRU, LSTM, RNN
from .rnn_cells import GRUCell, LSTMCell, RNNCell

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
