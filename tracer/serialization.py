"""``tracer.save`` / ``tracer.load``: nested dicts/lists of tensors and numbers in a ``.npz``.

The structure is stored as JSON and the tensors as plain arrays; loading never unpickles
(``allow_pickle=False``), so a hostile file can at worst fail to load, with a clear error.
"""
from __future__ import annotations

import json
import zipfile
from collections import OrderedDict

import numpy as np

from tracer.nn.parameter import Parameter
from tracer.core.tensor import Tensor

_STRUCTURE = "__tracegrad_structure__"
FORMAT = "tracegrad.save/1"


class LoadError(RuntimeError):
    """A file that is not a tracegrad save, or is truncated or corrupted."""


def _encode(obj, arrays: dict):
    if isinstance(obj, Tensor):
        key = f"t{len(arrays)}"
        arrays[key] = np.ascontiguousarray(obj._value)
        return {"tensor": key, "param": isinstance(obj, Parameter), "requires_grad": obj.requires_grad}
    if isinstance(obj, dict):
        return {"dict": [[_key(k), _encode(v, arrays)] for k, v in obj.items()],
                "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, arrays) for v in obj]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, np.generic):
        return {"value": obj.item()}
    raise TypeError(f"tracer.save: cannot save a {type(obj).__name__} (tensors, numbers, strings, "
                    "lists, tuples and dicts only)")


def _key(k):
    if isinstance(k, (str, int)) and not isinstance(k, bool):
        return k
    raise TypeError(f"tracer.save: dict keys must be str or int, got {type(k).__name__}")


def save(obj, f) -> None:
    """Save ``obj`` (e.g. a ``state_dict``) to path or file object ``f`` as ``.npz``."""
    arrays: dict = {}
    structure = {"format": FORMAT, "root": _encode(obj, arrays)}
    arrays[_STRUCTURE] = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    np.savez(f, **arrays)


def _decode(node, arrays):
    if not isinstance(node, dict) or len(node) == 0:
        raise LoadError(f"malformed entry {node!r}")
    if "tensor" in node:
        key = node["tensor"]
        if key not in arrays.files or key == _STRUCTURE:
            raise LoadError(f"tensor {key!r} is missing from the file")
        t = Tensor._wrap(np.array(arrays[key]))
        if node.get("param"):
            return Parameter(t, requires_grad=bool(node.get("requires_grad", True)))
        return t.requires_grad_() if node.get("requires_grad") else t
    if "dict" in node:
        cls = OrderedDict if node.get("ordered") else dict
        return cls((k, _decode(v, arrays)) for k, v in node["dict"])
    if "list" in node:
        return [_decode(v, arrays) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays) for v in node["tuple"])
    if "value" in node:
        return node["value"]
    raise LoadError(f"malformed entry with keys {sorted(node)}")


def load(f, map_location=None, weights_only=True):
    """Load what ``save`` wrote. Raises ``LoadError`` for a truncated, corrupted or foreign file."""
    try:
        with np.load(f, allow_pickle=False) as arrays:
            if _STRUCTURE not in arrays.files:
                raise LoadError(f"{f}: not a tracegrad save file (no structure record)")
            structure = json.loads(bytes(arrays[_STRUCTURE]).decode("utf-8"))
            if not isinstance(structure, dict) or structure.get("format") != FORMAT:
                raise LoadError(f"{f}: unsupported format {structure.get('format') if isinstance(structure, dict) else structure!r}")
            return _decode(structure["root"], arrays)
    except LoadError:
        raise
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, json.JSONDecodeError,
            UnicodeDecodeError, TypeError) as e:
        raise LoadError(f"{f}: cannot load ({type(e).__name__}: {e}); the file is truncated, corrupted "
                        "or not a tracegrad save") from None
