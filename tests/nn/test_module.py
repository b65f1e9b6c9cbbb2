"""Module system: registration, traversal, modes, state_dict round trips and every load error, repr."""
import copy
import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd.engine import add_observer, remove_observer


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.register_buffer("steps", np.zeros((), dtype=np.int64))
        self.register_buffer("cache", np.zeros(2, dtype=np.float32), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.bn(self.fc(x)).relu() * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.block(x))


# ----------------------------------------------------------------------------- registration


def test_parameter_is_a_tensor_requiring_grad():
    p = nn.Parameter(np.zeros((2, 3), dtype=np.float32))
    assert isinstance(p, ag.Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float32 and p.shape == (2, 3)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    frozen = nn.Parameter([1.0, 2.0], requires_grad=False)
    assert not frozen.requires_grad and frozen.dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.arange(3))
    # Ops on a Parameter give plain Tensors.
    assert type(p * 2) is ag.Tensor


def test_attribute_assignment_registers_parameters_modules_buffers():
    b = Block()
    assert list(b._parameters) == ["scale"]
    assert list(b._modules) == ["fc", "bn"]
    assert list(b._buffers) == ["steps", "cache"]
    assert b.note == "plain attribute" and "note" not in b._parameters
    names = [n for n, _ in b.named_parameters()]
    assert names == ["scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias"]
    assert [n for n, _ in b.named_buffers()] == ["steps", "cache", "bn.running_mean", "bn.running_var",
                                                  "bn.num_batches_tracked"]


def test_reassigning_and_deleting_keeps_registries_in_sync():
    m = nn.Linear(2, 2)
    new_w = nn.Parameter(np.zeros((2, 2), dtype=np.float32))
    m.weight = new_w
    assert m.weight is new_w and m._parameters["weight"] is new_w
    m.bias = None
    assert m.bias is None and "bias" in m._parameters
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="cannot assign 'ndarray' as parameter 'weight'"):
        m.weight = np.zeros((2, 2))
    del m.weight
    assert "weight" not in m._parameters and not hasattr(m, "weight")


def test_assigning_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_register_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="nn.Parameter or None"):
        m.register_parameter("w", ag.tensor([1.0]))
    with pytest.raises(TypeError, match="buffer"):
        m.register_buffer("b", [1, 2])
    m.x = 3
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("x", np.zeros(1))
    with pytest.raises(TypeError, match="not a Module"):
        m.add_module("child", 5)


def test_buffer_assignment_accepts_arrays_and_tensors():
    m = nn.Module()
    m.register_buffer("b", np.zeros(2))
    m.b = np.ones(2)
    assert isinstance(m.b, ag.Tensor) and m._buffers["b"] is m.b
    np.testing.assert_array_equal(m.state_dict()["b"], [1, 1])
    with pytest.raises(TypeError, match="buffer 'b'"):
        m.b = "text"


def test_shared_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    # state_dict lists each place the module appears, as PyTorch does.
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_children_modules_and_apply_order():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Block", "Linear", "BatchNorm1d", "Linear"]
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "BatchNorm1d", "Block", "Linear", "Net"]


def test_parameters_recurse_false():
    net = Net()
    assert list(net.parameters(recurse=False)) == []
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]
    assert next(n for n, _ in net.named_parameters(prefix="model")) == "model.block.scale"


# ----------------------------------------------------------------------------- modes, grads, dtypes


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(TypeError):
        net.train("no")


def test_zero_grad_sets_none_or_zeros():
    net = Net()
    x = ag.tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32))
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_num_parameters():
    net = Net()
    assert net.num_parameters() == (3 * 4 + 4) + (4 + 4) + 1 + 4 * 2
    net.block.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 8


def test_double_and_float_cast_parameters_buffers_and_grads():
    net = Net()
    x = ag.tensor(np.ones((4, 3), dtype=np.float32))
    net(x).sum().backward()
    net.double()
    for t in list(net.parameters()) + [net.block.bn.running_mean, net.block.bn.running_var]:
        assert t.dtype == np.float64
    assert all(p.grad.dtype == np.float64 for p in net.parameters())
    assert net.block.bn.num_batches_tracked.dtype == np.int64  # integer buffers untouched
    assert net(x.astype(np.float64)).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    with pytest.raises(TypeError, match="floating"):
        net.to(np.int32)


# ----------------------------------------------------------------------------- state_dict


def test_state_dict_keys_values_and_copies():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["block.scale", "block.steps", "block.fc.weight", "block.fc.bias", "block.bn.weight",
                        "block.bn.bias", "block.bn.running_mean", "block.bn.running_var",
                        "block.bn.num_batches_tracked", "head.weight"]
    assert "block.cache" not in sd  # non-persistent buffer
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    np.testing.assert_array_equal(sd["block.fc.weight"], net.block.fc.weight.data)
    sd["block.fc.weight"][...] = 7  # a copy: the model is untouched
    assert not np.any(net.block.fc.weight.data == 7)
    kept = net.state_dict(keep_vars=True)
    assert kept["head.weight"] is net.head.weight


def test_state_dict_round_trip_restores_every_value():
    a, b = Net(), Net()
    x = ag.tensor(np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32))
    a(x)  # moves BatchNorm running statistics
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va, vb)
        assert va.dtype == vb.dtype
    a.eval()
    b.eval()
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_copies_into_existing_arrays_and_casts_dtype():
    m = nn.Linear(2, 3)
    w_obj, w_arr = m.weight, m.weight.data
    sd = {"weight": np.arange(6, dtype=np.float64).reshape(3, 2), "bias": [1, 2, 3]}
    result = m.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert m.weight is w_obj and m.weight.data is w_arr
    assert m.weight.dtype == np.float32 and m.bias.dtype == np.float32
    np.testing.assert_array_equal(m.weight.data, [[0, 1], [2, 3], [4, 5]])
    sd["weight"][0, 0] = 99  # no aliasing with the given arrays
    assert m.weight.data[0, 0] == 0
    m.load_state_dict({"weight": ag.tensor(np.ones((3, 2))), "bias": np.zeros(3)})
    assert np.all(m.weight.data == 1)


def _snapshot(m):
    return {k: v.copy() for k, v in m.state_dict().items()}


def test_load_state_dict_names_every_missing_and_unexpected_key_and_changes_nothing():
    net = Net()
    before = _snapshot(net)
    sd = {k: np.zeros_like(v) for k, v in net.state_dict().items()}
    del sd["block.fc.bias"], sd["head.weight"]
    sd["extra.weight"] = np.zeros(3)
    sd["block.other"] = np.zeros(1)
    with pytest.raises(KeyError) as exc:
        net.load_state_dict(sd)
    assert isinstance(exc.value, nn.StateDictError)
    msg = str(exc.value)
    for key in ("'block.fc.bias'", "'head.weight'", "'extra.weight'", "'block.other'"):
        assert key in msg
    assert "missing keys" in msg and "unexpected keys" in msg
    assert not msg.startswith('"')  # reads plainly, not as a quoted repr
    for k, v in _snapshot(net).items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_names_every_mis_shaped_key():
    net = Net()
    before = _snapshot(net)
    sd = net.state_dict()
    sd["block.fc.weight"] = np.zeros((3, 4))
    sd["head.weight"] = np.zeros(8)
    sd["block.fc.bias"] = np.full(4, 5.0)  # valid, but must not be applied when another key fails
    with pytest.raises(ValueError) as exc:
        net.load_state_dict(sd)
    msg = str(exc.value)
    assert "block.fc.weight: expected shape (4, 3), got (3, 4)" in msg
    assert "head.weight: expected shape (2, 4), got (8,)" in msg
    np.testing.assert_array_equal(net.block.fc.bias.data, before["block.fc.bias"])


def test_load_state_dict_reports_all_problem_kinds_together():
    m = nn.Linear(2, 2)
    with pytest.raises(KeyError) as exc:
        m.load_state_dict({"weight": np.zeros((5, 5)), "nope": np.zeros(1)})
    msg = str(exc.value)
    assert "'bias'" in msg and "'nope'" in msg and "weight: expected shape (2, 2), got (5, 5)" in msg


def test_load_state_dict_non_strict_returns_incompatible_keys_but_still_checks_shapes():
    m = nn.Linear(2, 2)
    res = m.load_state_dict({"weight": np.ones((2, 2)), "other": np.ones(1)}, strict=False)
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["other"]
    assert np.all(m.weight.data == 1)
    with pytest.raises(ValueError, match="weight: expected shape"):
        m.load_state_dict({"weight": np.ones(3)}, strict=False)


def test_load_state_dict_rejects_non_numeric_values():
    m = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="weight"):
        m.load_state_dict({"weight": np.array([["a"]]), "bias": np.zeros(1)})
    with pytest.raises(TypeError, match="mapping"):
        m.load_state_dict([("weight", np.zeros((1, 1)))])


def test_pytorch_style_keys_for_a_sequential_model():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                        "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"]
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes["0.weight"] == (8, 4) and shapes["1.num_batches_tracked"] == ()


# ----------------------------------------------------------------------------- calling, scope, hooks


def test_call_pushes_module_scope_on_recorded_ops():
    net = Net()

    class Recorder:
        def __init__(self):
            self.scopes = []

        def on_forward(self, op, out):
            self.scopes.append((op.name, op.scope))

        def on_backward(self, *a):
            pass

    rec = Recorder()
    add_observer(rec)
    try:
        net(ag.tensor(np.ones((3, 3), dtype=np.float32)))
    finally:
        remove_observer(rec)
    assert rec.scopes, "ops were recorded"
    assert all(scope[0] is net for _, scope in rec.scopes)
    assert any(scope[-1] is net.block.fc for _, scope in rec.scopes)
    assert any(scope[-1] is net.head for _, scope in rec.scopes)
    from autograd.engine import state
    assert state.scope == ()  # restored after the call


def test_scope_restored_after_exception():
    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Boom()(1)
    from autograd.engine import state
    assert state.scope == ()


def test_forward_hooks_can_replace_inputs_and_outputs():
    m = nn.Linear(2, 2)
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: seen.append(out.shape) or out + 1)
    out = m(ag.tensor(np.ones((1, 2), dtype=np.float32)))
    np.testing.assert_allclose(out.data, m.bias.data[None] + 1, rtol=1e-6)
    assert seen == [(1, 2)]
    h1.remove()
    h2.remove()
    x = np.ones((1, 2), dtype=np.float32)
    np.testing.assert_allclose(m(x).data, x @ m.weight.data.T + m.bias.data, rtol=1e-6)


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(1)


# ----------------------------------------------------------------------------- containers


def test_sequential_indexing_slicing_append_delete():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    seq.append(c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    del seq[1]
    assert list(seq) == [a, c] and list(seq._modules) == ["0", "1"]
    with pytest.raises(IndexError, match="out of range"):
        seq[5]
    x = np.ones((4, 2), dtype=np.float32)
    np.testing.assert_allclose(seq(x).data, (x @ a.weight.data.T + a.bias.data) @ c.weight.data.T + c.bias.data,
                               rtol=1e-5)


def test_sequential_rejects_a_list_with_a_hint():
    with pytest.raises(TypeError, match=r"Sequential\(\*layers\)"):
        nn.Sequential([nn.ReLU()])


def test_sequential_from_ordered_dict_uses_names():
    from collections import OrderedDict

    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert seq.fc is seq[0]


def test_module_list_and_dict_register_children():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.insert(0, nn.Linear(1, 2))
    ml.append(nn.Tanh())
    assert len(ml) == 5 and ml[0].out_features == 2
    assert len(list(ml.parameters())) == 8
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2", "3"]
    with pytest.raises(NotImplementedError, match="container"):
        ml(1)
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    assert list(md) == ["enc", "dec"] and "enc" in md and md["dec"].in_features == 3
    assert list(md.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    md.pop("enc")
    assert list(md.keys()) == ["dec"]


# ----------------------------------------------------------------------------- repr, copies


def test_repr_shows_structure_and_parameter_counts():
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))
    text = repr(model)
    assert text.splitlines() == [
        "Sequential(",
        "  (0): Linear(in_features=784, out_features=256, bias=True)  # 200,960 params",
        "  (1): ReLU()",
        "  (2): Dropout(p=0.3)",
        "  (3): Linear(in_features=256, out_features=10, bias=True)  # 2,570 params",
        ")  # 203,530 params in total",
    ]
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"


def test_repr_nested_and_frozen_counts():
    net = Net()
    net.head.requires_grad_(False)
    lines = repr(net).splitlines()
    assert lines[0] == "Net("
    assert lines[1] == "  (block): Block("
    assert "    (fc): Linear(in_features=3, out_features=4, bias=True)  # 16 params" in lines
    assert "  )  # 25 params" in lines
    assert lines[-2] == "  (head): Linear(in_features=4, out_features=2, bias=False)  # 8 params (0 trainable)"
    assert lines[-1] == ")  # 33 params (25 trainable) in total"


def test_deepcopy_and_pickle_give_independent_equal_models():
    net = Net()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert clone.block.fc.weight is not net.block.fc.weight
        assert isinstance(clone.block.fc.weight, nn.Parameter)
        for (k, v), (k2, v2) in zip(net.state_dict().items(), clone.state_dict().items()):
            assert k == k2
            np.testing.assert_array_equal(v, v2)
        clone.block.fc.weight.data[...] = 0
        assert not np.all(net.block.fc.weight.data == 0)


# ----------------------------------------------------------------------------- optional: PyTorch parity


def test_pytorch_state_dict_loads_key_for_key_and_back():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    theirs = tnn.Sequential(tnn.Linear(4, 8), tnn.BatchNorm1d(8), tnn.ReLU(), tnn.Dropout(0.2), tnn.Linear(8, 6),
                            tnn.LayerNorm(6), tnn.PReLU(), tnn.Linear(6, 3, bias=False))
    ours = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 6),
                         nn.LayerNorm(6), nn.PReLU(), nn.Linear(6, 3, bias=False))
    theirs(torch.randn(10, 4))  # move the running statistics away from their initial values
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})  # strict: same keys and shapes
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.eval()
    ours.eval()
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    fresh = tnn.Sequential(tnn.Linear(4, 8), tnn.BatchNorm1d(8), tnn.ReLU(), tnn.Dropout(0.2), tnn.Linear(8, 6),
                           tnn.LayerNorm(6), tnn.PReLU(), tnn.Linear(6, 3, bias=False))
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert int(fresh[1].num_batches_tracked) == 1


def test_mlp_keys_match_an_equivalent_pytorch_sequential():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    theirs = tnn.Sequential(tnn.Linear(5, 7), tnn.ReLU(), tnn.Linear(7, 7), tnn.ReLU(), tnn.Linear(7, 2))
    mlp = nn.MLP([5, 7, 7, 2])
    mlp.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(3, 5)).astype(np.float32)
    np.testing.assert_allclose(mlp(x).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5), seed=st.integers(0, 2**31))
def test_state_dict_round_trip_for_any_mlp(sizes, seed):
    ag.manual_seed(seed)
    a, b = nn.MLP(sizes), nn.MLP(sizes)
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(seed).normal(size=(3, sizes[0])).astype(np.float32)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert len(a.state_dict()) == 2 * (len(sizes) - 1)
    assert a.num_parameters() == sum(i * o + o for i, o in itertools.pairwise(sizes))


def test_get_submodule_and_get_parameter():
    net = Net()
    assert net.get_submodule("") is net
    assert net.get_submodule("block.fc") is net.block.fc
    assert net.get_parameter("block.fc.weight") is net.block.fc.weight
    assert net.get_parameter("block.scale") is net.block.scale
    with pytest.raises(AttributeError, match="block has no child module 'conv'"):
        net.get_submodule("block.conv")
    with pytest.raises(AttributeError, match="Linear has no parameter 'bias'"):
        net.get_parameter("head.bias")
