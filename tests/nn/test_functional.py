"""nn.functional: the public names, and the stateless forms of the layers (linear, dropout, norms, embedding)."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

rng = np.random.default_rng(11)

API_NAMES = ["relu", "leaky_relu", "prelu", "elu", "sigmoid", "tanh", "softmax", "log_softmax", "silu", "swish",
             "gelu", "linear", "dropout", "mse_loss", "l1_loss", "binary_cross_entropy",
             "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "hinge_loss", "multi_margin_loss",
             "batch_norm", "layer_norm", "embedding", "flatten"]
MODULE_NAMES = ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Linear", "MLP", "Flatten", "Dropout",
                "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding", "Identity", "ReLU", "LeakyReLU", "PReLU", "ELU",
                "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "SiLU", "Swish", "GELU", "MSELoss", "L1Loss", "BCELoss",
                "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "HingeLoss", "MultiMarginLoss"]


@pytest.mark.parametrize("name", API_NAMES)
def test_functional_names_exist(name):
    assert callable(getattr(F, name))


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_names_exist(name):
    assert isinstance(getattr(nn, name), type)
    assert name in nn.__all__


def test_init_names_exist():
    for name in ["constant_", "zeros_", "ones_", "normal_", "uniform_", "trunc_normal_", "xavier_uniform_",
                 "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "sparse_", "orthogonal_", "calculate_gain"]:
        assert callable(getattr(nn.init, name))


def test_functions_accept_tensors_arrays_lists_and_scalars():
    assert F.relu(-2.0).item() == 0.0
    assert F.relu([1.0, -1.0]).dtype == np.float32  # lists follow the default dtype
    np.testing.assert_allclose(F.sigmoid(np.array([0.0])).data, [0.5])
    x = ag.tensor([1.0, -3.0])
    np.testing.assert_allclose(F.leaky_relu(x, 0.5).data, [1.0, -1.5])
    with pytest.raises(TypeError, match="relu"):
        F.relu("text")


def test_linear_functional_without_bias_and_batched():
    x = rng.normal(size=(2, 3, 4))
    w = rng.normal(size=(5, 4))
    np.testing.assert_allclose(F.linear(x, w).data, x @ w.T, rtol=1e-12)
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(x, np.ones(4))


def test_dropout_functional_scales_by_keep_probability():
    ag.manual_seed(1)
    x = np.full((200, 200), 2.0, dtype=np.float32)
    y = F.dropout(x, p=0.25).data
    assert set(np.unique(y)) == {0.0, np.float32(2.0 / 0.75)}
    assert abs(np.mean(y == 0) - 0.25) < 0.01


def test_batch_norm_functional_updates_running_arrays_in_place():
    rm, rv = np.zeros(2), np.ones(2)
    nbt = np.array(0, dtype=np.int64)
    x = rng.normal(size=(10, 2))
    F.batch_norm(x, rm, rv, training=True, momentum=0.5, num_batches_tracked=nbt)
    np.testing.assert_allclose(rm, 0.5 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(rv, 0.5 + 0.5 * x.var(axis=0, ddof=1), rtol=1e-12)
    assert nbt == 1
    out = F.batch_norm(x, rm, rv, training=False)
    np.testing.assert_allclose(out.data, (x - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)
    with pytest.raises(ValueError, match=r"running_mean shape \(3,\) does not match the 2 channels"):
        F.batch_norm(x, np.zeros(3), np.ones(3))


def test_embedding_functional():
    w = ag.tensor(rng.normal(size=(4, 2)), requires_grad=True)
    out = F.embedding(np.array([3, 3, 1]), w, padding_idx=3)
    np.testing.assert_array_equal(out.data, w.data[[3, 3, 1]])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[0, 0], [1, 1], [0, 0], [0, 0]])


def test_softmax_family_matches_autograd_axis_semantics():
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(F.softmax(x, dim=0).data, ag.softmax(x, axis=0).data)
    np.testing.assert_allclose(F.log_softmax(x, dim=1).data, ag.log_softmax(x, axis=1).data)
