"""nn.save is atomic (a failed or concurrent save never leaves a partial file) and nn.load refuses every
damaged or foreign file with one ValueError naming the path."""
import errno
import io
import json
import os
import threading
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from nn.serialization import load, save

CORRUPT = r"nn\.load: '.*' is corrupt or not a graphgrad file: "


def _ckpt(seed=0):
    rng = np.random.default_rng(seed)
    return {"model": {"w": rng.normal(size=(3, 2)).astype(np.float32), "b": np.zeros(2, np.float32)},
            "step": seed, "betas": (0.9, 0.999)}


def _same(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    else:
        assert a == b


def _zip(path, members):
    """A zip file holding ``members`` (name -> bytes or ndarray)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, value in members.items():
            if isinstance(value, np.ndarray):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, value, allow_pickle=False)
                value = buf.getvalue()
            zf.writestr(name, value)


def _manifest(tree):
    return np.array(json.dumps({"format": "graphgrad-npz-1", "tree": tree}))


# ----------------------------------------------------------------------------- atomic save


def test_a_save_failing_half_way_keeps_the_previous_checkpoint_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save(_ckpt(0), path)
    real = np.lib.format.write_array
    calls = []

    def disk_full(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    with pytest.raises(OSError, match="No space"):
        save(_ckpt(1), path)
    monkeypatch.undo()
    _same(load(path), _ckpt(0))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_a_value_that_cannot_be_saved_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(_ckpt(0), path)
    with pytest.raises(TypeError, match="nn.save"):
        save({"model": _ckpt(1)["model"], "f": lambda: 0}, path)
    _same(load(path), _ckpt(0))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_two_threads_saving_to_one_path_leave_one_whole_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    big = [{"x": np.full(20000, i, np.float64), "i": i} for i in range(2)]
    for _ in range(8):
        barrier = threading.Barrier(2)

        def work(i):
            barrier.wait()
            save(big[i], path)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out = load(path)
        assert out["i"] in (0, 1) and np.array_equal(out["x"], big[out["i"]]["x"])
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_save_keeps_the_permissions_of_an_existing_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(_ckpt(0), path)
    os.chmod(path, 0o640)
    save(_ckpt(1), path)
    assert os.stat(path).st_mode & 0o777 == 0o640


# ----------------------------------------------------------------------------- damaged and foreign files


def test_every_single_byte_overwritten_loads_the_same_or_raises_the_corrupt_error(tmp_path):
    path = tmp_path / "c.npz"
    ckpt = _ckpt(3)
    save(ckpt, path)
    raw = path.read_bytes()
    bad = tmp_path / "bad.npz"
    refused = 0
    for i in range(len(raw)):
        damaged = bytearray(raw)
        damaged[i] ^= 0x5A
        bad.write_bytes(bytes(damaged))
        try:
            out = load(bad)
        except ValueError as e:
            assert f"nn.load: '{bad}' is corrupt or not a graphgrad file" in str(e) or "nn.load: " in str(e), str(e)
            refused += 1
        else:
            _same(out, ckpt)  # the byte was one the reader never uses (a timestamp, a padding space)
    assert refused > len(raw) // 2


@pytest.mark.parametrize("keep", [0, 2, 10, 30, 100, 300, -200, -22, -1])
def test_a_truncated_file_raises_the_corrupt_error(tmp_path, keep):
    path = tmp_path / "c.npz"
    save(_ckpt(0), path)
    raw = path.read_bytes()
    path.write_bytes(raw[:keep])
    with pytest.raises(ValueError, match=CORRUPT):
        load(path)


def test_a_file_of_just_pk_is_corrupt_not_pickled(tmp_path):
    (tmp_path / "pk.npz").write_bytes(b"PK")
    with pytest.raises(ValueError, match=CORRUPT) as e:
        load(tmp_path / "pk.npz")
    assert "pickle" not in str(e.value)


def test_a_manifest_naming_a_missing_entry_is_corrupt(tmp_path):
    _zip(tmp_path / "m.npz", {"__graphgrad__.npy": _manifest({"d": [["w", {"a": "w"}]]})})
    with pytest.raises(ValueError, match=CORRUPT + ".*missing"):
        load(tmp_path / "m.npz")


def test_an_entry_the_manifest_does_not_name_is_corrupt(tmp_path):
    _zip(tmp_path / "m.npz", {"__graphgrad__.npy": _manifest({"d": []}), "w.npy": np.ones(2)})
    with pytest.raises(ValueError, match=CORRUPT + ".*not in the manifest"):
        load(tmp_path / "m.npz")


@pytest.mark.parametrize("manifest", [
    np.array("{not json"), np.array(json.dumps([1, 2])), np.array(json.dumps({"format": "graphgrad-npz-1"})),
    _manifest({"d": "x"}), _manifest({"d": [["k"]]}), _manifest({"q": 1}), _manifest([1]),
    _manifest({"v": [1, 2]}), _manifest({"v": 1.0, "t": "float", "x": 2}), _manifest({"l": [{"a": 3}]}),
    np.ones(3),
], ids=["json", "list", "no tree", "dict not list", "short item", "unknown", "tree list", "value list",
        "extra key", "array name int", "not a string"])
def test_a_damaged_manifest_is_corrupt(tmp_path, manifest):
    _zip(tmp_path / "m.npz", {"__graphgrad__.npy": manifest})
    with pytest.raises(ValueError, match=CORRUPT):
        load(tmp_path / "m.npz")


def test_members_other_than_npy_are_refused(tmp_path):
    _zip(tmp_path / "m.npz", {"w.npy": np.ones(2), "notes.txt": b"hello"})
    with pytest.raises(ValueError, match=CORRUPT + ".*notes.txt.*not a .npy"):
        load(tmp_path / "m.npz")


def test_a_member_that_is_not_an_array_is_corrupt(tmp_path):
    _zip(tmp_path / "m.npz", {"w.npy": b"\x93NUMPY garbage"})
    with pytest.raises(ValueError, match=CORRUPT):
        load(tmp_path / "m.npz")


def test_pickled_members_are_refused_by_the_corrupt_error(tmp_path):
    np.savez(tmp_path / "p.npz", o=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=CORRUPT + ".*pickle"):
        load(tmp_path / "p.npz")


# ----------------------------------------------------------------------------- structures


def test_a_self_referencing_dict_is_a_value_error_naming_the_key_path(tmp_path):
    d = {"model": {"w": np.ones(2)}}
    d["model"]["again"] = {"inner": d}
    with pytest.raises(ValueError, match=r"nn\.save: the dict at 'model/again/inner' contains itself"):
        save(d, tmp_path / "c.npz")
    lst = [1]
    lst.append(lst)
    with pytest.raises(ValueError, match=r"nn\.save: the list at 'x/1' contains itself"):
        save({"x": lst}, tmp_path / "c.npz")
    assert not os.listdir(tmp_path)


def test_a_shared_but_acyclic_value_is_saved_twice(tmp_path):
    w = {"a": np.ones(2)}
    save({"x": w, "y": w}, tmp_path / "c.npz")
    out = load(tmp_path / "c.npz")
    assert np.array_equal(out["x"]["a"], out["y"]["a"])


def test_an_ordered_dict_round_trips_as_one(tmp_path):
    sd = OrderedDict([("b", np.ones(1)), ("a", {"inner": OrderedDict([("z", 1), ("y", 2)])})])
    save({"state": sd, "plain": {"k": 1}}, tmp_path / "c.npz")
    out = load(tmp_path / "c.npz")
    assert type(out["state"]) is OrderedDict and list(out["state"]) == ["b", "a"]
    assert type(out["state"]["a"]["inner"]) is OrderedDict and list(out["state"]["a"]["inner"]) == ["z", "y"]
    assert type(out["plain"]) is dict and type(out) is dict
