"""``nn.save`` / ``nn.load``: state dicts (possibly nested, e.g. ``{'model': ..., 'optimizer': ...}``) in a
NumPy ``.npz`` file that is read back with ``allow_pickle=False`` — loading a file never runs code.

Layout: every array is one ``.npz`` entry whose name is its key path with ``/`` between levels; ``%``,
``/`` and control characters inside a key are percent-encoded (``%25``, ``%2F``), so the flattening is
reversible and the file is readable with plain ``np.load``. One extra entry, ``__graphgrad__``, holds a JSON
description of the tree: dict key types (str or int), lists versus tuples, and the exact Python scalars
(bool, int, float, str, None).
A round trip gives back equal keys, equal container types (``OrderedDict`` too), and arrays with identical
dtypes and values.

``save`` is atomic: it writes a temporary file in the target's directory, flushes and fsyncs it, then renames it
over the target, so a failed or concurrent save never leaves a partial file. ``load`` checks the file against its
manifest and raises ``ValueError("nn.load: '<path>' is corrupt or not a graphgrad file: ...")`` for any damage.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
import urllib.parse
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from autograd import Tensor

__all__ = ["load", "save"]

_MANIFEST = "__graphgrad__"
_FORMAT = "graphgrad-npz-1"


def _escape(key: str) -> str:
    """Percent-encode '%', '/' and control characters (zip names stop at NUL) in one key."""
    return "".join(f"%{ord(c):02X}" if c in "%/" or ord(c) < 32 or ord(c) == 127 else c for c in key)


def _unescape(key: str) -> str:
    return urllib.parse.unquote(key)


def _float_json(x: float):
    """JSON has no inf/nan: keep them as tagged strings; ``repr`` of other floats round-trips exactly."""
    if math.isfinite(x):
        return x
    return {"f": repr(x)}


def _encode(obj, path: str, arrays: dict[str, np.ndarray], active: set[int] | None = None):
    """Describe ``obj`` as JSON, moving arrays into ``arrays`` under their key path. ``active`` holds the
    containers on the current path, so a container inside itself is a ValueError naming where."""
    where = path or "<root>"
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError(f"nn.save: the array at '{where}' has dtype object, which cannot be saved without "
                            "pickle; convert it to a numeric or string dtype")
        return {"a": _store(arrays, path, obj)}
    if isinstance(obj, np.generic):
        if isinstance(obj, np.object_):
            raise TypeError(f"nn.save: unsupported NumPy object scalar at '{where}'")
        return {"s": _store(arrays, path, np.asarray(obj))}  # NumPy scalar: comes back as the same NumPy scalar type
    if obj is None or isinstance(obj, (bool, str)):
        return {"v": obj}
    if isinstance(obj, int):
        return {"v": obj}
    if isinstance(obj, float):
        return {"v": _float_json(obj), "t": "float"}
    if not isinstance(obj, (dict, list, tuple)):
        raise TypeError(f"nn.save: cannot save a value of type {type(obj).__name__} at '{where}'; supported are "
                        "dicts (str/int keys), lists, tuples, Tensors, NumPy arrays and scalars, and Python "
                        "bool/int/float/str/None")
    active = set() if active is None else active
    if id(obj) in active:
        raise ValueError(f"nn.save: the {type(obj).__name__} at '{where}' contains itself (a reference cycle); "
                         "a checkpoint must be a tree")
    active.add(id(obj))
    try:
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if isinstance(k, bool) or not isinstance(k, (str, int)):
                    raise TypeError(f"nn.save: dict keys must be str or int, got {type(k).__name__} {k!r} "
                                    f"at '{where}'")
                segment = _escape(str(k))
                child = f"{path}/{segment}" if path else segment
                items.append([k, _encode(v, child, arrays, active)])
            return {"d": items, "o": 1} if isinstance(obj, OrderedDict) else {"d": items}
        kind = "l" if isinstance(obj, list) else "t"
        return {kind: [_encode(v, f"{path}/{i}" if path else str(i), arrays, active) for i, v in enumerate(obj)]}
    finally:
        active.discard(id(obj))


def _store(arrays: dict[str, np.ndarray], path: str, value: np.ndarray) -> str:
    """Add an entry named by its key path (made unique if keys 1 and '1' met at one level)."""
    name, n = path, 1
    while name in arrays or name == _MANIFEST:
        name, n = f"{path}~{n}", n + 1
    arrays[name] = value
    return name


class _Corrupt(Exception):
    """Raised inside ``load``; becomes the one ValueError that names the file."""


def _decode(node, arrays, used: set[str]):
    """Rebuild the tree, checking every node's form and that each array it names exists and is used once."""
    if not isinstance(node, dict) or len(node) not in (1, 2):
        raise _Corrupt(f"bad structure entry {node!r:.80}")
    if "a" in node or "s" in node:
        name = node.get("a", node.get("s"))
        if not isinstance(name, str) or name not in arrays or name in used:
            raise _Corrupt(f"the manifest names entry {name!r:.80}, which is missing or named twice")
        used.add(name)
        if "a" in node:
            return arrays[name]
        if arrays[name].shape != ():
            raise _Corrupt(f"scalar entry {name!r} has shape {arrays[name].shape}")
        return arrays[name][()]
    if "v" in node:
        v = node["v"]
        if node.get("t") == "float":
            if isinstance(v, dict) and isinstance(v.get("f"), str) and v["f"] in ("inf", "-inf", "nan"):
                return float(v["f"])
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
            raise _Corrupt(f"bad float entry {node!r:.80}")
        if len(node) != 1 or not (v is None or isinstance(v, (bool, int, float, str))):
            raise _Corrupt(f"bad value entry {node!r:.80}")
        return v
    if "d" in node:
        items = node["d"]
        if not isinstance(items, list):
            raise _Corrupt(f"bad dict entry {node!r:.80}")
        out = OrderedDict() if node.get("o") == 1 else {}
        for item in items:
            if (not isinstance(item, list) or len(item) != 2 or isinstance(item[0], bool)
                    or not isinstance(item[0], (str, int))):
                raise _Corrupt(f"bad dict item {item!r:.80}")
            out[item[0]] = _decode(item[1], arrays, used)
        return out
    for kind, cls in (("l", list), ("t", tuple)):
        if kind in node and len(node) == 1 and isinstance(node[kind], list):
            return cls(_decode(v, arrays, used) for v in node[kind])
    raise _Corrupt(f"bad structure entry {node!r:.80}")


def save(obj: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a (nested) state dict to ``path`` as ``.npz``, atomically; arrays are stored exactly, never pickled."""
    if not isinstance(obj, dict):
        raise TypeError(f"nn.save: expected a state dict (dict), got {type(obj).__name__}")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, "", arrays)
    arrays[_MANIFEST] = np.array(json.dumps({"format": _FORMAT, "tree": tree}, allow_nan=False))
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw:
            # Entry by entry (what np.savez does) so that keys such as 'file' cannot clash with its arguments.
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                for name, arr in arrays.items():
                    with zf.open(name + ".npy", "w", force_zip64=True) as f:
                        np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _file_mode(path: str) -> int:
    """The permissions to give the new file: the old file's, else what the umask allows (mkstemp uses 0600)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by ``save`` (or any pickle-free ``.npz``: then a dict nested by ``/`` in names).

    Any damage, or a file that is not one of these, is a ValueError naming the path."""
    path = os.fspath(path)
    with open(path, "rb") as f:  # a missing file stays FileNotFoundError
        magic = f.read(6)
    try:
        return _load(path, magic)
    except _Corrupt as e:
        raise ValueError(f"nn.load: '{path}' is corrupt or not a graphgrad file: {e}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, AttributeError, TypeError, ValueError, EOFError,
            OSError, UnicodeDecodeError, RecursionError, OverflowError, NotImplementedError, MemoryError) as e:
        raise ValueError(f"nn.load: '{path}' is corrupt or not a graphgrad file: {type(e).__name__}: {e}") from None


def _load(path: str, magic: bytes):
    if magic == b"\x93NUMPY":
        raise _Corrupt("it is a single .npy array, not a saved state dict")
    if not magic.startswith(b"PK"):
        raise _Corrupt("it is not an .npz file (it does not start with a zip header)")
    arrays = {}
    with zipfile.ZipFile(path) as zf:
        _check_entry_count(path, len(zf.infolist()))
        for info in zf.infolist():
            if not info.filename.endswith(".npy") or info.is_dir():
                raise _Corrupt(f"member {info.filename!r} is not a .npy array")
            with zf.open(info) as f:  # reading checks each member's CRC
                try:
                    arr = np.lib.format.read_array(f, allow_pickle=False)
                except ValueError as e:
                    if "pickle" in str(e).lower():
                        raise _Corrupt(f"member {info.filename!r} holds pickled objects, which are never loaded "
                                       "(allow_pickle=False)") from None
                    raise
                if f.read(1):
                    raise _Corrupt(f"member {info.filename!r} has data after its array")
            name = info.filename[:-4]
            if name in arrays:
                raise _Corrupt(f"member {info.filename!r} appears twice")
            arrays[name] = arr
    manifest = arrays.pop(_MANIFEST, None)
    if manifest is None:
        return _unflatten(arrays)
    if manifest.shape != () or manifest.dtype.kind != "U":
        raise _Corrupt("the manifest is not a JSON string")
    meta = json.loads(manifest.item())
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        fmt = meta.get("format") if isinstance(meta, dict) else None
        raise _Corrupt(f"unknown format {fmt!r} (expected {_FORMAT!r})")
    used: set[str] = set()
    out = _decode(meta.get("tree"), arrays, used)
    if not isinstance(out, dict):
        raise _Corrupt("the saved object is not a dict")
    if used != set(arrays):
        raise _Corrupt(f"entries {sorted(set(arrays) - used)[:5]} are not in the manifest")
    return out


def _check_entry_count(path: str, found: int) -> None:
    """The zip directory must list as many members as its end record says (a damaged entry can hide the rest)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 65557))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise _Corrupt("no end-of-directory record")
    total = int.from_bytes(tail[at + 10:at + 12], "little")
    if total != 0xFFFF and total != found:
        raise _Corrupt(f"the zip directory lists {found} of its {total} members")


def _unflatten(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Nest plain ``.npz`` entries by the ``/`` in their names."""
    out: dict[str, Any] = {}
    for name, value in arrays.items():
        *parents, leaf = [_unescape(s) for s in name.split("/")]
        node = out
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise _Corrupt(f"entry '{name}' conflicts with an array of the same prefix")
        if isinstance(node.get(leaf), dict):
            raise _Corrupt(f"entry '{name}' conflicts with entries under the same prefix")
        node[leaf] = value
    return out
