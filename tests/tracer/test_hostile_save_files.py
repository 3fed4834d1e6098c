"""tracer.load on hostile files: every malformed file raises LoadError (a RuntimeError, as
torch.load's) naming the file and the entry at fault; sizes are checked before anything is
allocated or decompressed, so a 1.46 MB zip bomb that inflates to 1.5 GB is refused unopened.

Each row of CASES is one file: an id, how to make its bytes, and what the message must say.
Files are written by hand where ``zipfile`` would refuse to write the damage.
"""
import io
import os
import json
import random
import re
import struct
import zipfile
import zlib
from collections import OrderedDict
from functools import cache

import numpy as np
import pytest

import tracer
from tracer import nn

STRUCTURE = "__tracegrad_structure__.npy"


def base_object():
    return {"model": OrderedDict(w=nn.Parameter(tracer.ones(3, 2)), b=tracer.zeros(2)), "step": 3,
            "hist": [1.0, 2.0], "shape": (2, 3), "ids": tracer.arange(4), "mask": tracer.tensor([True, False]),
            7: None}


def base_bytes() -> bytes:
    buf = io.BytesIO()
    tracer.save(base_object(), buf)
    return buf.getvalue()


def base_entries() -> dict:
    """The base save's zip entries, name -> the .npy bytes."""
    with zipfile.ZipFile(io.BytesIO(base_bytes())) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def npy(array, **header) -> bytes:
    """The ``.npy`` bytes of ``array``, with header fields overridden by ``header``."""
    array = np.asarray(array)
    fields = {"descr": np.lib.format.dtype_to_descr(array.dtype), "fortran_order": False, "shape": array.shape}
    fields.update(header)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, fields)
    return buf.getvalue() + array.tobytes()


def npy_with_header(text: str, data: bytes = b"") -> bytes:
    """A ``.npy`` whose header is ``text`` as it is (padded as NumPy pads)."""
    header = text.encode("latin-1")
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def structure_npy(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return npy(np.frombuffer(data, np.uint8))


def zipped(entries: dict, method=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


def crafted_zip(entries) -> bytes:
    """A zip written by hand, so its headers can lie. ``entries``: (name, payload as stored,
    method, crc, declared size, flags) tuples."""
    out, central = bytearray(), bytearray()
    for name, payload, method, crc, size, flags in entries:
        encoded, offset = name.encode(), len(out)
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, flags, method, 0, 0, crc, len(payload), size,
                           len(encoded), 0) + encoded + payload
        central += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, flags, method, 0, 0, crc, len(payload), size,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def stored(name, data, **lie):
    """A stored (uncompressed) entry for ``crafted_zip``; ``lie`` overrides crc, size or flags."""
    return (name, data, lie.get("method", 0), lie.get("crc", zlib.crc32(data)), lie.get("size", len(data)),
            lie.get("flags", 0))


def saved(obj) -> bytes:
    buf = io.BytesIO()
    tracer.save(obj, buf)
    return buf.getvalue()


def with_entries(**changes):
    """A file: the base save with entries replaced (a value) or removed (None)."""
    def make():
        entries = base_entries()
        for name, data in changes.items():
            name = name.replace("STRUCTURE", STRUCTURE[:-4]) + ".npy"
            if data is None:
                del entries[name]
            else:
                entries[name] = data
        return zipped(entries)
    return make


def with_structure(fn):
    """A file: the base save with its structure record (parsed JSON) changed by ``fn``."""
    def make():
        entries = base_entries()
        data = json.loads(np.load(io.BytesIO(entries[STRUCTURE])).tobytes())
        data = fn(data) or data
        entries[STRUCTURE] = structure_npy(json.dumps(data))
        return zipped(entries)
    return make


def root_is(value):
    return with_structure(lambda d: {**d, "root": value})


def with_raw_structure(text):
    def make():
        entries = base_entries()
        entries[STRUCTURE] = structure_npy(text)
        return zipped(entries)
    return make


def flip_byte(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


@cache
def zero_block_bomb(total: int, declared: int | None = None) -> bytes:
    """A real zip bomb: one entry ``t0.npy`` whose deflate stream of ~``total / 1000`` bytes
    inflates to ``total`` bytes, a valid float32 ``.npy`` of that size, with its CRC and (unless
    ``declared`` lies) its true size in the headers: only the amount is hostile."""
    chunk = bytes(1 << 22)
    data_len = (total - 128) // 4 * 4
    header = npy(np.zeros(0, np.float32), shape=(data_len // 4,))
    assert len(header) == 128
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = squeeze.compress(header) + squeeze.flush(zlib.Z_FULL_FLUSH)
    block = squeeze.compress(chunk) + squeeze.flush(zlib.Z_FULL_FLUSH)  # the same for every full chunk
    full, rest = divmod(data_len, len(chunk))
    tail = squeeze.compress(chunk[:rest]) + squeeze.flush()
    crc = zlib.crc32(header)
    for _ in range(full):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(chunk[:rest], crc)
    size = 128 + data_len
    if declared is not None:  # lie consistently: the CRC of what the declared size covers
        size, crc = declared, zlib.crc32((header + bytes(declared))[:declared])
    return crafted_zip([("t0.npy", head + block * full + tail, zipfile.ZIP_DEFLATED, crc, size, 0),
                        stored(STRUCTURE, structure_npy('{"format": "tracegrad.save/1", "root": {"tensor": "t0"}}'))])


def bomb_1_5_gb():
    return zero_block_bomb(1_500_000_000)


def lying_bomb():
    """The same stream under headers that declare only its first 1000 bytes (and their CRC)."""
    return zero_block_bomb(1_500_000_000, declared=1000)


def lying_bomb_bad_crc():
    """A bomb whose headers declare 1000 bytes but keep the whole stream's CRC."""
    data = bomb_1_5_gb()
    true_size = struct.pack("<I", 1_500_000_000 - (1_500_000_000 - 128) % 4)
    assert data.count(true_size) == 2  # the local and the central header
    return data.replace(true_size, struct.pack("<I", 1000))


def reused_entry() -> bytes:
    """A 100 kB array that the structure lists 20 times: each reference costs the budget again."""
    entries = {"t0.npy": npy(np.zeros(25_000, np.float32)),
               STRUCTURE: structure_npy(json.dumps({"format": "tracegrad.save/1",
                                                   "root": {"list": [{"tensor": "t0"}] * 20}}))}
    return zipped(entries)


def many_entries(n: int) -> bytes:
    return zipped({f"t{i}.npy": b"" for i in range(n)})


F32 = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }"

# id, the file's bytes, what the message must say (after the file's name), tracer.load keywords
CASES = [
    # not a zip, or a broken one
    ("empty", lambda: b"", r"cannot load \(BadZipFile: File is not a zip file\)", {}),
    ("random_bytes", lambda: random.Random(3).randbytes(5000), r"cannot load \(BadZipFile", {}),
    ("text_file", lambda: b'{"format": "tracegrad.save/1"}', r"cannot load \(BadZipFile", {}),
    ("truncated_half", lambda: base_bytes()[: len(base_bytes()) // 2], r"cannot load \(BadZipFile", {}),
    ("truncated_end_record", lambda: base_bytes()[:-10], r"cannot load \(BadZipFile", {}),
    ("just_the_local_header", lambda: base_bytes()[:30], r"cannot load \(BadZipFile", {}),
    ("bad_crc", lambda: flip_byte(base_bytes(), 140), r"entry 't0\.npy': unreadable \(BadZipFile: Bad CRC-32 for file 't0\.npy'\)", {}),
    ("encrypted_entry", lambda: crafted_zip([stored("t0.npy", npy(np.ones(2, np.float32)), flags=1),
                                             stored(STRUCTURE, structure_npy('{"format": "tracegrad.save/1", "root": {"tensor": "t0"}}'))]),
     r"entry 't0\.npy': unreadable \(RuntimeError: File .*t0\.npy.* is encrypted", {}),
    ("unknown_compression", lambda: crafted_zip([stored(STRUCTURE, structure_npy("{}"), method=99)]),
     r"entry '__tracegrad_structure__\.npy': unreadable \(NotImplementedError: .*compression method", {}),
    # entries that are not ours, or unsafe
    ("foreign_npz", lambda: zipped({"w.npy": npy(np.ones(3))}), r"not a tracegrad save file \(no structure record\)", {}),
    ("empty_zip", lambda: zipped({}), r"not a tracegrad save file \(no structure record\)", {}),
    ("path_traversal_entry", with_entries(**{"../../evil": npy(np.ones(2))}),
     r"unsafe or unexpected entry name '\.\./\.\./evil\.npy' \(a tracegrad save holds only flat NAME\.npy entries\)", {}),
    ("absolute_entry", lambda: zipped({**base_entries(), "/etc/passwd.npy": b""}), r"unsafe or unexpected entry name '/etc/passwd\.npy'", {}),
    ("entry_in_a_directory", lambda: zipped({**base_entries(), "sub/t9.npy": b""}), r"unsafe or unexpected entry name 'sub/t9\.npy'", {}),
    ("windows_path_entry", lambda: zipped({**base_entries(), "..\\t9.npy": b""}), r"unsafe or unexpected entry name", {}),
    ("pickle_entry", lambda: zipped({**base_entries(), "data.pkl": b"\x80\x04K\x01."}), r"unsafe or unexpected entry name 'data\.pkl'", {}),
    ("duplicate_entry", lambda: crafted_zip([stored(n, d) for n, d in base_entries().items()] + [stored("t0.npy", b"")]),
     r"the entry 't0\.npy' appears twice", {}),
    # sizes: bombs and lies, refused before allocating or decompressing
    ("zip_bomb_1_5_gb", bomb_1_5_gb,
     r"its entries declare 1\.4 GiB of data, more than the load's max_bytes limit of 1\.0 GiB; pass a larger "
     r"max_bytes= to load a file you trust \(nothing was decompressed\)", {}),
    ("bomb_under_a_lying_directory", lying_bomb,
     r"entry 't0\.npy': its header claims shape \[374999968\] \(1\.4 GiB\) but the entry holds 872 bytes of data", {}),
    ("bomb_under_a_lying_directory_and_crc", lying_bomb_bad_crc,
     r"entry 't0\.npy': unreadable \(BadZipFile: Bad CRC-32 for file 't0\.npy'\); the file is truncated or corrupted", {}),
    ("header_claims_a_huge_array", with_entries(t0=npy(np.ones(6, np.float32), shape=(10**6, 10**6))),
     r"entry 't0\.npy': its header claims shape \[1000000, 1000000\] \(3\.6 TiB\) but the entry holds 24 bytes", {}),
    ("header_claims_too_little", with_entries(t0=npy(np.ones(6, np.float32), shape=(2,))),
     r"entry 't0\.npy': its header claims shape \[2\] \(8 bytes\) but the entry holds 24 bytes", {}),
    ("directory_over_the_callers_limit", base_bytes,
     r"the zip's directory of entries needs 2\.\d KiB, more than the load's max_bytes limit of 1\.0 KiB", {"max_bytes": 1024}),
    ("data_over_the_callers_limit", lambda: saved({"w": tracer.zeros(100_000)}),
     r"its entries declare 391\.0 KiB of data, more than the load's max_bytes limit of 195\.3 KiB", {"max_bytes": 200_000}),
    ("one_entry_referenced_many_times", reused_entry,
     r"entry 't0\.npy': an array of shape \[25000\] needs 97\.7 KiB, more than the load's max_bytes limit of "
     r"1\.0 MiB allows \(9\d\d\.\d KiB already used\)", {"max_bytes": 2**20}),
    ("many_entries_directory", lambda: many_entries(20_000), r"the zip's directory of entries needs \d+\.\d MiB, more than", {"max_bytes": 2**20}),
    # .npy headers
    ("npy_bad_magic", with_entries(t0=b"NOTNUMPY" + bytes(100)), r"entry 't0\.npy': unreadable \(ValueError: the magic string is not correct", {}),
    ("npy_empty", with_entries(t0=b""), r"entry 't0\.npy'|cannot load \(", {}),
    ("npy_version_3", with_entries(t0=b"\x93NUMPY\x03\x00" + bytes(100)), r"unsupported \.npy format version \(3, 0\)", {}),
    ("npy_header_is_code", with_entries(t0=npy_with_header("__import__('os').system('echo pwned')")),
     r"entry 't0\.npy': malformed \.npy header \(a dict literal of 'descr', 'fortran_order' and 'shape'", {}),
    ("npy_header_too_long", with_entries(t0=npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': '" + "a" * 20_000 + "'}")),
     r"entry 't0\.npy': malformed \.npy header .*Header info length \(20086\) is large", {}),
    ("npy_object_dtype", with_entries(t0=npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", bytes(8))),
     r"entry 't0\.npy': dtype object is not a tensor dtype \(expected one of", {}),
    ("npy_string_dtype", with_entries(t0=npy(np.array(["ab", "cd"]))), r"entry 't0\.npy': dtype <U2 is not a tensor dtype", {}),
    ("npy_complex_dtype", with_entries(t0=npy(np.ones(2, np.complex64))), r"entry 't0\.npy': dtype complex64 is not a tensor dtype", {}),
    ("npy_structured_dtype", with_entries(t0=npy(np.zeros(2, [("a", "<f4")]))), r"entry 't0\.npy': dtype .* is not a tensor dtype", {}),
    ("npy_negative_dim", with_entries(t0=npy_with_header(F32 % "(-1, 6)", bytes(24))), r"entry 't0\.npy': malformed shape \(-1, 6\)", {}),
    ("npy_rank_65", with_entries(t0=npy_with_header(F32 % str((1,) * 65), bytes(4))), r"entry 't0\.npy': malformed shape", {}),
    ("npy_truncated_data", with_entries(t0=npy(np.ones(6, np.float32))[:-8]), r"entry 't0\.npy': its header claims shape \[6\] \(24 bytes\) but the entry holds 16 bytes", {}),
    ("npy_bool_bytes", with_entries(t3=npy(np.array([2, 7], np.uint8)).replace(b"'|u1'", b"'|b1'")),
     r"entry 't3\.npy': a bool array holds bytes other than 0 and 1", {}),
    # the structure record
    ("structure_not_utf8", with_raw_structure(b'{"format": "\xff\xfe"}'), r"structure record: not UTF-8 text \(byte 12 is 0xff\)", {}),
    ("structure_not_json", with_raw_structure("{'format': 1}"), r"structure record: not valid JSON", {}),
    ("structure_truncated", with_raw_structure('{"format": "tracegrad.save/1", "root": {"dict": [['), r"structure record: not valid JSON", {}),
    ("structure_deep_nesting", with_raw_structure("[" * 100_000 + "]" * 100_000), r"structure record: JSON nested 100000 levels deep; at most 200", {}),
    ("structure_many_tiny_values", with_raw_structure("[" + "[]," * 300_000 + "[]]"),
     r"structure record: parsing its 878\.9 KiB of JSON needs 40\.1 MiB, more than the load's max_bytes limit of 8\.0 MiB", {"max_bytes": 8 * 2**20}),
    ("structure_is_a_float_array", with_entries(STRUCTURE=npy(np.ones(4))), r"the structure record is not a byte string", {}),
    ("structure_pickled", with_entries(STRUCTURE=npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"\x80\x04N.")),
     r"entry '__tracegrad_structure__\.npy': dtype object is not a tensor dtype", {}),
    ("wrong_format", with_structure(lambda d: {**d, "format": "torch.save"}), r"unsupported format 'torch\.save' \(expected 'tracegrad\.save/1'\)", {}),
    ("structure_a_list", with_raw_structure("[1, 2]"), r"unsupported format 'list'", {}),
    ("structure_extra_key", with_structure(lambda d: {**d, "__reduce__": "os.system"}), r"unsupported format", {}),
    ("root_missing", with_structure(lambda d: {"format": d["format"]}), r"unsupported format", {}),
    ("root_not_an_object", root_is([1, 2]), r"root: malformed entry '\[1, 2\]' \(expected an object\)", {}),
    ("unknown_kind", root_is({"set": [1]}), r"root: malformed entry with keys \['set'\]", {}),
    ("two_kinds", root_is({"list": [], "dict": []}), r"root: malformed entry with keys \['dict', 'list'\]", {}),
    ("flag_on_the_wrong_kind", root_is({"list": [], "ordered": True}), r"root: malformed entry with keys \['list', 'ordered'\]", {}),
    ("list_not_a_list", root_is({"list": {"a": 1}}), r"root: 'list' must be a list, got dict", {}),
    ("dict_item_not_a_pair", root_is({"dict": [["a"]]}), r"root: a dict item must be a \[key, value\] pair", {}),
    ("dict_key_a_list", root_is({"dict": [[["a"], {"value": 1}]]}), r"root: dict keys must be strings or integers, got list", {}),
    ("value_an_object", root_is({"value": {"__class__": "os"}}), r"root: a 'value' must be a number, string, bool or null, got dict", {}),
    ("nested_error_names_the_path", root_is({"dict": [["model", {"list": [{"value": 1}, {"tensor": "t99"}]}]]}),
     r"root\['model'\]\[1\]: tensor 't99' is missing from the file", {}),
    ("tensor_ref_missing", root_is({"tensor": "t99"}), r"root: tensor 't99' is missing from the file", {}),
    ("tensor_ref_traversal", root_is({"tensor": "../../etc/passwd"}), r"root: malformed tensor reference '\.\./\.\./etc/passwd'", {}),
    ("tensor_ref_to_structure", root_is({"tensor": "__tracegrad_structure__"}), r"root: malformed tensor reference '__tracegrad_structure__'", {}),
    ("tensor_ref_a_number", root_is({"tensor": 0}), r"root: malformed tensor reference '0'", {}),
    ("flag_not_a_bool", root_is({"tensor": "t0", "param": "yes"}), r"root: 'param' must be true or false, got yes", {}),
    ("int_tensor_requires_grad", root_is({"tensor": "t2", "requires_grad": True}), r"root: .*floating point", {}),
]


@pytest.mark.parametrize("make, message, kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_save_file_raises_load_error_naming_file_and_entry(tmp_path, make, message, kwargs):
    path = tmp_path / "hostile.npz"
    path.write_bytes(make())
    with pytest.raises(tracer.LoadError) as info:
        tracer.load(path, **kwargs)
    text = str(info.value)
    assert text.startswith(f"{path}: "), text
    assert re.search(message, text), text
    assert len(text) < 800, "a message never quotes the whole hostile value"
    assert isinstance(info.value, RuntimeError) and info.value.__cause__ is None


def test_the_table_holds_at_least_50_files():
    assert len(CASES) >= 50 and len({c[0] for c in CASES}) == len(CASES)


def test_the_base_file_loads_and_a_file_object_works_too(tmp_path):
    back = tracer.load(io.BytesIO(base_bytes()))
    assert isinstance(back["model"], OrderedDict) and isinstance(back["model"]["w"], nn.Parameter)
    assert back["ids"].tolist() == [0, 1, 2, 3] and back["mask"].tolist() == [True, False]
    assert back["shape"] == (2, 3) and back[7] is None
    with pytest.raises(tracer.LoadError, match=r"^<_io\.BytesIO object .*BadZipFile"):
        tracer.load(io.BytesIO(b"garbage"))


def test_the_bomb_is_small_and_really_inflates(tmp_path):
    data = bomb_1_5_gb()
    assert len(data) < 1_500_000
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("t0.npy")
        assert info.file_size > 1_400_000_000 and info.compress_size < 1_500_000
        with zf.open(info) as f:
            assert len(f.read(1 << 20)) == 1 << 20  # inflates; reading it all would take 1.5 GB


def test_the_bomb_is_refused_without_decompressing(monkeypatch, tmp_path):
    path = tmp_path / "bomb.npz"
    path.write_bytes(bomb_1_5_gb())

    def never(*args, **kwargs):
        raise AssertionError("an entry was opened")
    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    with pytest.raises(tracer.LoadError, match="nothing was decompressed"):
        tracer.load(path)


def test_raising_max_bytes_loads_what_a_lower_limit_refuses(tmp_path):
    path = tmp_path / "ok.npz"
    path.write_bytes(base_bytes())
    with pytest.raises(tracer.LoadError, match="pass a larger max_bytes="):
        tracer.load(path, max_bytes=1024)
    assert tracer.load(path, max_bytes=10**6)["step"] == 3


def test_big_endian_and_fortran_arrays_load_as_native(tmp_path):
    a = np.arange(6, dtype=">f4").reshape(2, 3)
    entries = base_entries()
    entries["t0.npy"] = _fortran_npy(a)
    path = tmp_path / "odd.npz"
    path.write_bytes(zipped(entries))
    w = tracer.load(path)["model"]["w"]
    assert w.dtype == tracer.float32 and w.tolist() == a.tolist()


def _fortran_npy(a):
    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(a))
    return buf.getvalue()


def test_a_missing_file_is_an_oserror_as_in_torch(tmp_path):
    with pytest.raises(FileNotFoundError):
        tracer.load(tmp_path / "missing.npz")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_refused_before_zipfile_reads_it_forever():
    with pytest.raises(tracer.LoadError, match=r"^/dev/zero: not a regular file"):
        tracer.load("/dev/zero")
