"""The dtypes a graph value may have, with their NumPy counterparts.

Promotion between dtypes is the tracer's job (PyTorch's rules); the ir only names dtypes and
rejects mixed inputs, so every cast in a graph is an explicit node.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class DType:
    """One element type: its name, NumPy dtype and kind ('f' float, 'i' int, 'u' uint, 'b' bool)."""

    name: str
    np: np.dtype
    kind: str

    # One object per dtype: equality is identity (fast, and hashable by id).

    @property
    def is_floating_point(self) -> bool:
        return self.kind == "f"

    @property
    def itemsize(self) -> int:
        return self.np.itemsize

    def __repr__(self) -> str:
        return f"tracer.{self.name}"


float16 = DType("float16", np.dtype(np.float16), "f")
float32 = DType("float32", np.dtype(np.float32), "f")
float64 = DType("float64", np.dtype(np.float64), "f")
int64 = DType("int64", np.dtype(np.int64), "i")
int32 = DType("int32", np.dtype(np.int32), "i")
int16 = DType("int16", np.dtype(np.int16), "i")
int8 = DType("int8", np.dtype(np.int8), "i")
uint8 = DType("uint8", np.dtype(np.uint8), "u")
bool_ = DType("bool", np.dtype(np.bool_), "b")

ALL = (float32, float64, int64, int32, uint8, bool_, float16, int16, int8)
BY_NAME = {d.name: d for d in ALL}
_BY_NP = {d.np: d for d in ALL}


def from_numpy(dtype) -> DType:
    """The DType for a NumPy dtype; a clear error for dtypes tracegrad does not carry."""
    found = _BY_NP.get(np.dtype(dtype))
    if found is None:
        names = ", ".join(d.name for d in ALL)
        raise TypeError(f"dtype {np.dtype(dtype)} is not supported by tracegrad (supported: {names})")
    return found


def by_name(name: str) -> DType:
    if name not in BY_NAME:
        raise ValueError(f"unknown dtype name {name!r}; expected one of {sorted(BY_NAME)}")
    return BY_NAME[name]
