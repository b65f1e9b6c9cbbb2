"""nn.save / nn.load: exact round trips of nested state dicts, pickle-free files, clear errors."""
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from nn.serialization import load, save


def assert_same(a, b):
    """Equal structure, key types, container types, dtypes and bits."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b) and [type(k) for k in a] == [type(k) for k in b]
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_nested_checkpoint_round_trip(tmp_path):
    ckpt = {
        "model": {"fc1.weight": np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32),
                  "fc1.bias": np.zeros(4, np.float32), "bn.num_batches_tracked": np.array(7, dtype=np.int64),
                  "half": np.array([1.5, -2.25], dtype=np.float16)},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": np.arange(6.0).reshape(2, 3)}, 1: {"step": 3}},
                      "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "amsgrad": False, "params": [0, 1],
                                        "name": None}]},
        "epoch": 12, "best": float("inf"), "worst": float("-inf"), "nan": float("nan"), "tag": "run/1 100%",
        "np_scalar": np.float32(0.1), "flags": np.array([True, False]), "names": np.array(["a", "bcd"]),
        "a/b": {"c%d": np.array([1, 2], dtype=np.uint8)}, 3: "int key", "3": "str key", "empty": {},
    }
    save(ckpt, tmp_path / "ckpt.npz")
    assert_same(load(tmp_path / "ckpt.npz"), ckpt)


def test_exact_bits_and_any_path_name(tmp_path):
    x = np.array([0.1, 1 / 3, np.finfo(np.float64).tiny, -0.0, 1e308])
    save({"x": x, "t": ag.Tensor(np.float32([1.0, 2.0]))}, tmp_path / "weights.bin")
    out = load(tmp_path / "weights.bin")  # no '.npz' appended to the name
    assert out["x"].tobytes() == x.tobytes()
    assert out["t"].dtype == np.float32  # Tensors are stored as their arrays


def test_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    save({"model": {"w": np.ones(2)}, "optimizer": {"state": {0: {"m": np.zeros(2)}}}}, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as f:
        assert "model/w" in f.files and "optimizer/state/0/m" in f.files
        np.testing.assert_array_equal(f["model/w"], np.ones(2))


def test_plain_npz_without_manifest_loads_nested(tmp_path):
    np.savez(tmp_path / "plain.npz", **{"a/b": np.ones(2), "a/c": np.zeros(1), "d": np.arange(3)})
    out = load(tmp_path / "plain.npz")
    assert set(out) == {"a", "d"} and set(out["a"]) == {"b", "c"}


def test_key_scheme_is_reversible_for_awkward_keys(tmp_path):
    keys = ["a/b", "a%2Fb", "%", "a.b", "", "~1", "__graphgrad__"]
    d = {k: np.array([i]) for i, k in enumerate(keys)}
    save(d, tmp_path / "k.npz")
    assert_same(load(tmp_path / "k.npz"), d)


@settings(max_examples=30, deadline=None)
@given(arr=hnp.arrays(st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_, np.uint8]),
                      hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
       key=st.text(min_size=1, max_size=8))
def test_any_numeric_array_round_trips(tmp_path_factory, arr, key):
    path = tmp_path_factory.mktemp("h") / "x.npz"
    save({key: arr, "nested": {key: arr}}, path)
    out = load(path)
    assert_same(out, {key: arr, "nested": {key: arr}})


def test_module_like_state_dict_round_trip(tmp_path):
    """A module's state_dict (an OrderedDict of arrays) comes back as an equal dict."""
    from collections import OrderedDict

    sd = OrderedDict([("0.weight", np.ones((2, 2), np.float32)), ("0.bias", np.zeros(2, np.float32))])
    save(sd, tmp_path / "m.npz")
    out = load(tmp_path / "m.npz")
    assert list(out) == list(sd)
    for k in sd:
        assert out[k].dtype == np.float32 and np.array_equal(out[k], sd[k])


@pytest.mark.parametrize("bad, match", [
    ({"f": lambda x: x}, "function"),
    ({"s": {1, 2}}, "set"),
    ({"o": np.array([object()], dtype=object)}, "dtype object"),
    ({(1, 2): np.ones(1)}, "keys must be str or int"),
    ({"c": 1 + 2j}, "complex"),
])
def test_unsupported_values_raise_type_error_naming_the_path(tmp_path, bad, match):
    with pytest.raises(TypeError, match=match):
        save(bad, tmp_path / "bad.npz")
    with pytest.raises(TypeError, match="dict"):
        save([np.ones(1)], tmp_path / "bad.npz")


def test_pickled_and_foreign_files_are_refused(tmp_path):
    np.savez(tmp_path / "p.npz", o=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        load(tmp_path / "p.npz")
    (tmp_path / "t.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not an .npz"):
        load(tmp_path / "t.npz")
    np.save(tmp_path / "one.npy", np.ones(2))
    with pytest.raises(ValueError, match="single .npy"):
        load(tmp_path / "one.npy")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")
    assert zipfile.is_zipfile(tmp_path / "p.npz")
