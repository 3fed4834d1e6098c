"""Ops with no inputs: graph inputs (data, parameters, state) and constants."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ir import dtypes
from ir.dtypes import DType
from ir.errors import IRError
from ir.ops import dynamic as D
from ir.ops.base import Op
from ir.types import TensorType

INPUT_KINDS = ("input", "param", "state", "grad_output")


@dataclass(frozen=True)
class InputAttrs:
    """A named graph input. ``kind`` says what the caller feeds: data, a parameter, optimizer
    state, or the seed gradient of ``ir.grad``; exporters may turn params into initializers."""

    name: str
    shape: tuple[int, ...]
    dtype: DType
    kind: str = "input"


@dataclass(frozen=True, eq=False)
class ConstAttrs:
    """A constant array baked into the graph (compared by identity: arrays have no hash)."""

    value: np.ndarray


def _infer_input(types, a: InputAttrs) -> TensorType:
    if a.kind not in INPUT_KINDS:
        raise IRError(f"input {a.name!r}: kind must be one of {INPUT_KINDS}, got {a.kind!r}")
    return TensorType(tuple(a.shape), a.dtype)


def _infer_const(types, a: ConstAttrs) -> TensorType:
    return TensorType(tuple(a.value.shape), dtypes.from_numpy(a.value.dtype))


input_ = Op("input", _infer_input, InputAttrs, arity=0, dynamic=D.marked, differentiable=False)
constant = Op("constant", _infer_const, ConstAttrs, arity=0, dynamic=D.static, differentiable=False)
