"""The Module dtype rule: a module with floating-point parameters called on input of another floating dtype raises
a TypeError naming the module, both dtypes and the fix; nothing is cast silently. Containers pass input through to
layers that check themselves, and every parameterised layer gets the rule from Module.__call__."""
import re

import numpy as np
import pytest

import autograd as ag
import nn
from nn.data import DataLoader, TensorDataset

LAYERS = {
    "Linear": lambda: nn.Linear(4, 3), "BatchNorm1d": lambda: nn.BatchNorm1d(4), "LayerNorm": lambda: nn.LayerNorm(4),
    "PReLU": lambda: nn.PReLU(),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_a_float64_batch_into_a_float32_layer_names_layer_dtypes_and_fix(name):
    layer = LAYERS[name]()
    x = np.random.default_rng(0).normal(size=(5, 4))  # float64, as sklearn gives
    with pytest.raises(TypeError, match=rf"^{name}: input has dtype float64 but the module's parameters are float32; "
                                        r".*x\.astype\(np\.float32\).*model\.to\(np\.float64\)"):
        layer(x)
    with pytest.raises(TypeError, match=rf"^{name}: "):
        layer(ag.Tensor(x))
    out = layer(x.astype(np.float32))
    assert out.dtype == np.float32
    assert layer.to(np.float64)(x).dtype == np.float64


def test_inside_a_container_the_layer_that_owns_the_parameters_is_named():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(TypeError, match="^Linear: input has dtype float16"):
        model(np.ones((1, 4), np.float16))
    mlp = nn.MLP([4, 3, 2])
    with pytest.raises(TypeError, match="^Linear: input has dtype float64"):
        mlp(np.ones((1, 4)))


def test_int_input_and_parameter_free_modules_are_not_affected():
    emb = nn.Embedding(5, 2)
    assert emb(np.array([1, 2])).dtype == np.float32
    assert nn.ReLU()(np.ones(3)).dtype == np.float64  # no parameters: NumPy's dtype rules


def test_the_rule_holds_for_a_user_module_with_its_own_parameters_and_with_hooks():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.ones(3, np.float32))

        def forward(self, x):
            return x * self.w

    m = Scale()
    with pytest.raises(TypeError, match="^Scale: input has dtype float64"):
        m(np.ones(3))
    m.register_forward_pre_hook(lambda mod, args: (args[0].astype(np.float32),))
    assert m(np.ones(3)).dtype == np.float32  # a pre-hook may cast first; the rule applies to what forward gets


def test_tensor_dataset_casts_floating_tensors_once_when_asked():
    x, y = np.random.default_rng(0).normal(size=(8, 4)), np.arange(8) % 2
    ds = TensorDataset(x, y, dtype=np.float32)
    assert ds.tensors[0].dtype == np.float32 and ds.tensors[1].dtype == y.dtype
    np.testing.assert_array_equal(ds.tensors[0].data, x.astype(np.float32))
    xb, _ = next(iter(DataLoader(ds, batch_size=4)))
    assert nn.Linear(4, 2)(xb).dtype == np.float32
    with pytest.raises(TypeError, match="^TensorDataset: dtype must be a floating dtype"):
        TensorDataset(x, dtype=np.int64)
    with pytest.raises(TypeError, match="^TensorDataset: 'foo' is not a NumPy dtype"):
        TensorDataset(x, dtype="foo")


def test_the_rule_compares_dtypes_by_value_not_identity():
    layer = nn.Linear(3, 2)
    swapped = np.ones((1, 3), np.dtype(np.float32).newbyteorder())  # float32 by kind and size, another byte order
    with pytest.raises(TypeError, match=rf"^Linear: input has dtype {re.escape(str(swapped.dtype))} but the module's "
                                        "parameters are float32"):
        layer(swapped)
    tagged = np.ones((1, 3), np.dtype(np.float32, metadata={"unit": "m"}))  # an equal dtype, another object
    assert tagged.dtype is not np.dtype(np.float32)
    np.testing.assert_allclose(layer(tagged).data, layer(np.ones((1, 3), np.float32)).data)


def test_the_rule_takes_the_first_floating_parameter_after_integer_ones():
    class Counted(nn.Module):
        def __init__(self):
            super().__init__()
            self.count = nn.Parameter(np.zeros(3, np.int64), requires_grad=False)
            self.w = nn.Parameter(np.ones(3, np.float32))

        def forward(self, x):
            return x * self.w

    with pytest.raises(TypeError, match="^Counted: input has dtype float64 but the module's parameters are float32"):
        Counted()(np.ones(3))
    assert Counted()(np.ones(3, np.float32)).dtype == np.float32
