"""``nn.save`` / ``nn.load``: state dicts (possibly nested, e.g. ``{'model': ..., 'optimizer': ...}``) in a
NumPy ``.npz`` file that is read back with ``allow_pickle=False`` — loading a file never runs code.

Layout: every array is one ``.npz`` entry whose name is its key path with ``/`` between levels; ``%``,
``/`` and control characters inside a key are percent-encoded (``%25``, ``%2F``), so the flattening is
reversible and the file is readable with plain ``np.load``. One extra entry, ``__graphgrad__``, holds a JSON
description of the tree: dict key types (str or int), lists versus tuples, and the exact Python scalars
(bool, int, float, str, None).
A round trip gives back equal keys, equal container types, and arrays with identical dtypes and values.
"""
from __future__ import annotations

import json
import math
import os
import urllib.parse
import zipfile
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


def _encode(obj, path: str, arrays: dict[str, np.ndarray]):
    """Describe ``obj`` as JSON, moving arrays into ``arrays`` under their key path."""
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
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"nn.save: dict keys must be str or int, got {type(k).__name__} {k!r} at '{where}'")
            segment = _escape(str(k))
            child = f"{path}/{segment}" if path else segment
            items.append([k, _encode(v, child, arrays)])
        return {"d": items}
    if isinstance(obj, (list, tuple)):
        kind = "l" if isinstance(obj, list) else "t"
        return {kind: [_encode(v, f"{path}/{i}" if path else str(i), arrays) for i, v in enumerate(obj)]}
    raise TypeError(f"nn.save: cannot save a value of type {type(obj).__name__} at '{where}'; supported are "
                    "dicts (str/int keys), lists, tuples, Tensors, NumPy arrays and scalars, and Python "
                    "bool/int/float/str/None")


def _store(arrays: dict[str, np.ndarray], path: str, value: np.ndarray) -> str:
    """Add an entry named by its key path (made unique if keys 1 and '1' met at one level)."""
    name, n = path, 1
    while name in arrays or name == _MANIFEST:
        name, n = f"{path}~{n}", n + 1
    arrays[name] = value
    return name


def _decode(node, arrays):
    if "a" in node:
        return arrays[node["a"]]
    if "s" in node:
        return arrays[node["s"]][()]
    if "v" in node:
        v = node["v"]
        if node.get("t") == "float":
            return float(v["f"]) if isinstance(v, dict) else float(v)
        return v
    if "d" in node:
        return {k: _decode(v, arrays) for k, v in node["d"]}
    if "l" in node:
        return [_decode(v, arrays) for v in node["l"]]
    if "t" in node:
        return tuple(_decode(v, arrays) for v in node["t"])
    raise ValueError(f"nn.load: corrupt structure entry {node!r}")


def save(obj: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a (nested) state dict to ``path`` as ``.npz``; arrays are stored exactly, never pickled."""
    if not isinstance(obj, dict):
        raise TypeError(f"nn.save: expected a state dict (dict), got {type(obj).__name__}")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, "", arrays)
    arrays[_MANIFEST] = np.array(json.dumps({"format": _FORMAT, "tree": tree}, allow_nan=False))
    # Written entry by entry (what np.savez does) so that keys such as 'file' cannot clash with its arguments.
    with zipfile.ZipFile(os.fspath(path), "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by ``save`` (or any pickle-free ``.npz``: then a dict nested by ``/`` in names)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic == b"\x93NUMPY":
        raise ValueError(f"nn.load: '{path}' is a single .npy array, not a saved state dict")
    if not magic.startswith(b"PK"):
        raise ValueError(f"nn.load: '{path}' is not an .npz file (it does not start with a zip header)")
    try:
        npz = np.load(path, allow_pickle=False)
        with npz:
            arrays = {name: npz[name] for name in npz.files}
    except zipfile.BadZipFile as e:
        raise ValueError(f"nn.load: '{path}' is not an .npz file ({e})") from None
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise ValueError(f"nn.load: '{path}' holds pickled objects, which are never loaded (allow_pickle=False)"
                             ) from None
        raise
    manifest = arrays.pop(_MANIFEST, None)
    if manifest is None:
        return _unflatten(arrays)
    meta = json.loads(manifest.item())
    if meta.get("format") != _FORMAT:
        raise ValueError(f"nn.load: '{path}' has unknown format {meta.get('format')!r} (expected {_FORMAT!r})")
    return _decode(meta["tree"], arrays)


def _unflatten(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Nest plain ``.npz`` entries by the ``/`` in their names."""
    out: dict[str, Any] = {}
    for name, value in arrays.items():
        *parents, leaf = [_unescape(s) for s in name.split("/")]
        node = out
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ValueError(f"nn.load: entry '{name}' conflicts with an array of the same prefix")  # noqa: TRY004
        node[leaf] = value
    return out
