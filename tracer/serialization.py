"""``tracer.save`` / ``tracer.load``: nested dicts/lists of tensors, arrays and numbers in a zip.

The structure is stored as JSON and the tensors as plain ``.npy`` arrays in a zip. A file to
load is untrusted input: it is read with ``zipfile`` and our own checks, never unpickled,
executed or eval'ed, nothing is extracted or written, and every size is checked against a
budget before it is allocated, so a hostile file can at worst fail to load, with a clear
``LoadError``.
"""
from __future__ import annotations

import json
import os
import re
import stat
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from ir import dtypes
from ir.serialize import MAX_BYTES, MAX_RANK, RAISE_LIMIT, Budget, parse_json, size_text
from tracer.core.tensor import Tensor, as_device, device, require_cpu
from tracer.nn.module import Module
from tracer.nn.parameter import Parameter

_STRUCTURE = "__tracegrad_structure__"
FORMAT = "tracegrad.save/1"

#: Limit on the structure's JSON nesting: about 3 levels per nested container.
MAX_DEPTH = 200
_ENTRY = re.compile(r"[A-Za-z0-9_]+\.npy")
_KINDS = {"tensor": {"param", "requires_grad"}, "array": set(), "dict": {"ordered"}, "list": set(), "tuple": set(),
          "value": set()}


class LoadError(RuntimeError):
    """A file that is not a tracegrad save, or is truncated, corrupted or over a limit.

    A ``RuntimeError``, as what ``torch.load`` raises for a file it cannot read."""


# -- saving -----------------------------------------------------------------------------------
def _encode(obj, arrays: dict):
    if isinstance(obj, Tensor):
        key = f"t{len(arrays)}"
        arrays[key] = np.ascontiguousarray(obj._value)
        return {"tensor": key, "param": isinstance(obj, Parameter), "requires_grad": obj.requires_grad}
    if isinstance(obj, np.ndarray):
        if obj.dtype not in [d.np for d in dtypes.ALL]:
            raise TypeError(f"tracer.save: cannot save a numpy array of dtype {obj.dtype} (tensor dtypes only: "
                            f"{', '.join(d.name for d in dtypes.ALL)})")
        key = f"t{len(arrays)}"
        arrays[key] = np.ascontiguousarray(obj)
        return {"array": key}
    if isinstance(obj, Module):
        raise TypeError(f"tracer.save: cannot save a whole {type(obj).__name__} module (that would need pickle); "
                        "save its state_dict() and load it into a new instance with load_state_dict()")
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
    """Save ``obj`` (e.g. a ``state_dict`` or a checkpoint dict) to the path or binary file
    object ``f``, as torch.save does: a path is written exactly as given (``model.pt`` stays
    ``model.pt``; the content is a zip of ``.npy`` arrays and a JSON structure record).
    Nothing is written when ``obj`` holds something unsaveable."""
    arrays: dict = {}
    structure = {"format": FORMAT, "root": _encode(obj, arrays)}
    arrays[_STRUCTURE] = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    with open(f, "wb") as file:  # np.savez given a path would append ".npz"
        np.savez(file, **arrays)


# -- reading arrays ---------------------------------------------------------------------------
class _Archive:
    """The zip's entries, checked once (safe flat names, no duplicates, declared sizes within
    the budget), and a reader of one ``.npy`` entry that charges the budget before allocating."""

    def __init__(self, zf: zipfile.ZipFile, where: str, budget: Budget):
        self.zf, self.where, self.budget = zf, where, budget
        self.entries = {}
        for info in zf.infolist():
            if not _ENTRY.fullmatch(info.filename):
                raise LoadError(f"{where}: unsafe or unexpected entry name {info.filename[:80]!r} "
                                "(a tracegrad save holds only flat NAME.npy entries)")
            if info.filename in self.entries:
                raise LoadError(f"{where}: the entry {info.filename!r} appears twice")
            self.entries[info.filename] = info
        declared = sum(info.file_size for info in self.entries.values())
        if declared > budget.limit:
            raise LoadError(f"{where}: its entries declare {size_text(declared)} of data, more than the load's "
                            f"max_bytes limit of {size_text(budget.limit)}; {RAISE_LIMIT} (nothing was decompressed)")

    def array(self, key: str, at: str) -> np.ndarray:
        """The array of entry ``key``.npy; ``at`` says where the structure refers to it."""
        info = self.entries.get(f"{key}.npy")
        if info is None:
            raise LoadError(f"{self.where}: {at}: tensor {key!r} is missing from the file")
        what = f"{self.where}: entry {info.filename!r}"
        try:
            with self.zf.open(info) as f:
                return _read_npy(f, info, self.budget, what)
        except LoadError:
            raise
        except (ValueError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as err:
            # ValueError: a malformed .npy magic; RuntimeError: an encrypted entry
            raise LoadError(f"{what}: unreadable ({type(err).__name__}: {str(err)[:200]}); the file is "
                            "truncated or corrupted") from None


def _npy_header(f, what: str):
    """Shape, Fortran order and dtype from a ``.npy`` header (NumPy's parser, which reads a
    Python literal with ``ast.literal_eval`` and a 10 kB header cap: never ``eval``)."""
    version = np.lib.format.read_magic(f)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise LoadError(f"{what}: unsupported .npy format version {version}")
    try:
        return readers[version](f, max_header_size=10000)
    except (ValueError, SyntaxError) as err:
        raise LoadError(f"{what}: malformed .npy header (a dict literal of 'descr', 'fortran_order' and "
                        f"'shape' of at most 10000 bytes is expected; {str(err).splitlines()[0][:120]})") from None


def _checked_dtype(dtype: np.dtype, what: str) -> np.dtype:
    native = dtype.newbyteorder("=") if dtype.byteorder in "<>" else dtype
    if native.hasobject or native not in [d.np for d in dtypes.ALL]:
        raise LoadError(f"{what}: dtype {dtype} is not a tensor dtype "
                        f"(expected one of {', '.join(d.name for d in dtypes.ALL)})")
    return native


def _checked_shape(shape, what: str) -> tuple[int, ...]:
    if len(shape) > MAX_RANK or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise LoadError(f"{what}: malformed shape {str(shape)[:80]}")
    return shape


def _read_npy(f, info: zipfile.ZipInfo, budget: Budget, what: str) -> np.ndarray:
    """One array. Its header must agree with the entry's declared size, the budget is charged
    before allocating, and exactly that many bytes are read (a lying zip header cannot make the
    decompressor produce more: ``zipfile`` stops at the declared size and checks the CRC)."""
    shape, fortran, dtype = _npy_header(f, what)
    shape, native = _checked_shape(shape, what), _checked_dtype(dtype, what)
    count = int(np.prod(shape, dtype=object))
    nbytes = count * dtype.itemsize
    if f.tell() + nbytes != info.file_size:
        raise LoadError(f"{what}: its header claims shape {list(shape)} ({size_text(nbytes)}) but the "
                        f"entry holds {size_text(max(info.file_size - f.tell(), 0))} of data")
    budget.take(nbytes, f"{what}: an array of shape {list(shape)}")
    flat = np.empty(count, dtype)
    view = memoryview(flat.view(np.uint8))
    got = 0
    while got < nbytes:
        n = f.readinto(view[got:])
        if not n:
            raise LoadError(f"{what}: truncated ({got} of {nbytes} data bytes)")
        got += n
    if f.read(1):  # reading to the end also makes zipfile check the CRC
        raise LoadError(f"{what}: trailing data after the array")
    if dtype.kind == "b" and count and flat.view(np.uint8).max() > 1:
        raise LoadError(f"{what}: a bool array holds bytes other than 0 and 1")
    arr = flat.reshape(shape[::-1]).transpose() if fortran else flat.reshape(shape)
    return np.ascontiguousarray(arr, dtype=native)


# -- reading the structure ----------------------------------------------------------------------
def _kind_of(node, at: str) -> str:
    """Which of tensor/dict/list/tuple/value an entry is, checking it has exactly that key and
    only that kind's flags."""
    if not isinstance(node, dict):
        raise LoadError(f"{at}: malformed entry {str(node)[:60]!r} (expected an object)")
    kinds = [k for k in node if k in _KINDS]
    if len(kinds) != 1 or set(node) - {kinds[0]} - _KINDS[kinds[0]]:
        raise LoadError(f"{at}: malformed entry with keys {sorted(node)[:10]}")
    return kinds[0]


def _flag(node, name: str, default: bool, at: str) -> bool:
    value = node.get(name, default)
    if not isinstance(value, bool):
        raise LoadError(f"{at}: {name!r} must be true or false, got {str(value)[:40]}")
    return value


def _items(node, kind: str, at: str) -> list:
    items = node[kind]
    if not isinstance(items, list):
        raise LoadError(f"{at}: {kind!r} must be a list, got {type(items).__name__}")
    return items


def _tensor(node, archive: _Archive, at: str) -> Tensor:
    key = node["tensor"]
    if not isinstance(key, str) or key == _STRUCTURE or not _ENTRY.fullmatch(f"{key}.npy"):
        raise LoadError(f"{at}: malformed tensor reference {str(key)[:60]!r}")
    param = _flag(node, "param", False, at)
    grad = _flag(node, "requires_grad", param, at)  # a parameter requires grad unless it says not
    value = archive.array(key, at)
    try:
        if param:
            return Parameter(Tensor._wrap(value), requires_grad=grad)
        t = Tensor._wrap(value)
        return t.requires_grad_() if grad else t
    except (RuntimeError, TypeError, ValueError) as err:
        raise LoadError(f"{at}: {err}") from None


def _pair(item, at: str):
    if not (isinstance(item, list) and len(item) == 2):
        raise LoadError(f"{at}: a dict item must be a [key, value] pair")
    key = item[0]
    if not (isinstance(key, (str, int)) and not isinstance(key, bool)):
        raise LoadError(f"{at}: dict keys must be strings or integers, got {type(key).__name__}")
    return key, item[1]


def _decode(node, archive: _Archive, at: str):
    """The object an entry describes. Recursion is bounded: the JSON was depth-checked."""
    kind = _kind_of(node, at)
    if kind == "tensor":
        return _tensor(node, archive, at)
    if kind == "array":
        key = node["array"]
        if not isinstance(key, str) or key == _STRUCTURE or not _ENTRY.fullmatch(f"{key}.npy"):
            raise LoadError(f"{at}: malformed array reference {str(key)[:60]!r}")
        return archive.array(key, at)
    if kind == "dict":
        cls = OrderedDict if _flag(node, "ordered", False, at) else dict
        pairs = [_pair(item, at) for item in _items(node, "dict", at)]
        return cls((k, _decode(v, archive, f"{at}[{k!r}]")) for k, v in pairs)
    if kind in ("list", "tuple"):
        values = [_decode(v, archive, f"{at}[{i}]") for i, v in enumerate(_items(node, kind, at))]
        return values if kind == "list" else tuple(values)
    value = node["value"]
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise LoadError(f"{at}: a 'value' must be a number, string, bool or null, got {type(value).__name__}")
    return value


def _structure(archive: _Archive):
    if f"{_STRUCTURE}.npy" not in archive.entries:
        raise LoadError(f"{archive.where}: not a tracegrad save file (no structure record)")
    raw = archive.array(_STRUCTURE, "the structure record")
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise LoadError(f"{archive.where}: the structure record is not a byte string")
    structure = parse_json(raw.tobytes(), f"{archive.where}: structure record", MAX_DEPTH, archive.budget)
    if not isinstance(structure, dict) or structure.get("format") != FORMAT or set(structure) != {"format", "root"}:
        shown = structure.get("format") if isinstance(structure, dict) else type(structure).__name__
        raise LoadError(f"{archive.where}: unsupported format {str(shown)[:60]!r} (expected {FORMAT!r})")
    return structure["root"]


def _where(f) -> str:
    return str(getattr(f, "name", f) if not isinstance(f, (str, bytes)) and hasattr(f, "read") else f)


def load(f, map_location=None, weights_only=True, max_bytes: int = MAX_BYTES):
    """Load what ``save`` wrote.

    The file is untrusted input: nothing in it is unpickled, executed or eval'ed, and nothing
    is extracted or written. Loading is always weights-only, so ``weights_only=False`` changes
    nothing (there is no code in a file to trust).

    Args:
        f: a path or a seekable binary file object.
        map_location: where tensors go, as torch: None, ``"cpu"``, a CPU ``device``, a dict
            mapping ``"cpu"`` to one of those, or a callable ``(tensor, "cpu") -> tensor``. A
            CUDA target raises torch's CPU-only ``RuntimeError``; other devices are refused.
        max_bytes: the memory the load may use (default ``ir.serialize.MAX_BYTES``, 1 GiB): the zip's
            directory, the entries' declared sizes, every array as its header is read, and the
            parsed structure record are checked against it before anything is allocated or
            decompressed (a zip bomb is refused unopened). Raise it for a bigger file you trust.

    Returns:
        The saved object: tensors, ``Parameter``s, numbers, strings, None, and dicts
        (``OrderedDict`` kept), lists and tuples of them.

    Raises:
        LoadError: (a ``RuntimeError``, as torch's) the file is not a zip or not a tracegrad
            save; it is truncated or fails its CRC; an entry name is not a flat ``NAME.npy``
            (path traversal is refused); an array's dtype is not a tensor dtype or its header
            disagrees with its size; the data exceeds ``max_bytes``; the structure record is
            nested deeper than ``MAX_DEPTH`` levels or malformed. The message names the file
            and the entry.
        OSError: the file cannot be opened.
    """
    where = _where(f)
    relocate = _relocation(map_location)
    if hasattr(f, "read"):
        return _relocated(_load(f, where, max_bytes), relocate)
    with open(f, "rb") as file:  # a missing file is an OSError, as in torch, not a LoadError
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):  # zipfile would read /dev/zero forever
            raise LoadError(f"{where}: not a regular file (a tracegrad save is a zip file on disk)")
        return _relocated(_load(file, where, max_bytes), relocate)


_CUDA_LOAD = ("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
              "If you are running on a CPU-only machine, please use torch.load with "
              "map_location=torch.device('cpu') to map your storages to the CPU.")


def _relocation(map_location):
    """None when tensors stay on the CPU, or the user's callable; checked before the file is
    read, so a CUDA target fails as torch's does on a CPU-only machine."""
    if map_location is None or callable(map_location) and not isinstance(map_location, device):
        return map_location
    target = map_location.get("cpu", "cpu") if isinstance(map_location, dict) else map_location
    d = as_device(target) if isinstance(target, (str, device)) else None
    if d is None:
        raise TypeError(f"tracer.load: map_location must be None, a string, a device, a dict or a callable, "
                        f"got {type(map_location).__name__}")
    if d.type == "cuda":
        raise RuntimeError(_CUDA_LOAD)
    require_cpu(d)
    return None


def _relocated(obj, relocate):
    """``obj`` with every tensor passed through the user's ``map_location`` callable."""
    if relocate is None:
        return obj
    if isinstance(obj, Tensor):
        moved = relocate(obj, "cpu")
        if not isinstance(moved, Tensor):
            raise TypeError(f"tracer.load: map_location returned a {type(moved).__name__}, not a tensor")
        require_cpu(moved.device)
        return moved
    if isinstance(obj, dict):
        return type(obj)((k, _relocated(v, relocate)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_relocated(v, relocate) for v in obj)
    return obj


#: Memory ``zipfile`` takes per byte of central directory, at most (a ``ZipInfo`` of ~400 bytes for
#: each 46-byte record and its name).
_DIRECTORY_COST = 10


def _directory_size(file) -> int:
    """The size of the zip's central directory, from its end record, read before ``zipfile``
    builds an object for every entry (a small file can list millions). 0 if there is no end
    record: ``zipfile`` then reports the damage."""
    start, end = file.tell(), file.seek(0, 2)
    file.seek(max(start, end - 22 - 65535))  # the end record follows at most a 64 KiB comment
    tail = file.read(22 + 65535)  # bounded: a device such as /dev/zero has no end
    at = tail.rfind(b"PK\x05\x06")
    size = struct.unpack_from("<I", tail, at + 12)[0] if 0 <= at <= len(tail) - 22 else 0
    if size == 0xFFFFFFFF and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":  # zip64
        file.seek(struct.unpack_from("<Q", tail, at - 12)[0])
        record = file.read(56)
        size = struct.unpack_from("<Q", record, 40)[0] if record[:4] == b"PK\x06\x06" and len(record) == 56 else 0
    file.seek(start)
    return size


def _load(file, where: str, max_bytes: int):
    budget = Budget(max_bytes, LoadError)
    try:
        budget.take(_directory_size(file) * _DIRECTORY_COST, "the zip's directory of entries")
        with zipfile.ZipFile(file) as zf:
            archive = _Archive(zf, where, budget)
            return _decode(_structure(archive), archive, "root")
    except LoadError as err:
        raise err if str(err).startswith(where) else LoadError(f"{where}: {err}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError,
            RuntimeError, OverflowError) as e:  # RuntimeError: an encrypted entry
        raise LoadError(f"{where}: cannot load ({type(e).__name__}: {e}); the file is truncated, corrupted "
                        "or not a tracegrad save") from None
