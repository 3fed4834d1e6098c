"""What a row of the op test table is (tests/op_table.py gathers the rows): a torch-level
operation written once as ``fn(m, *inputs)`` against a module ``m`` that is either ``tracer``
or ``torch``, its inputs and its tolerances. Kept apart so the table can be split into one
file per family (tests/op_table_*.py) without an import cycle."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Int:
    """An integer input: shape and [low, high)."""
    shape: tuple
    low: int = 0
    high: int = 5
    dtype: str = "int64"


@dataclass(frozen=True)
class Bool:
    shape: tuple


@dataclass
class Row:
    name: str
    fn: object
    inputs: tuple
    low: float = -2.0
    high: float = 2.0
    grad: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    fd: bool = True            # finite differences make sense (smooth at random points)
    onnx: bool = True
    dtypes: tuple = ("float32", "float64")
    xfail: dict = field(default_factory=dict)  # check name -> reason (recorded, never silent)
    onnx_rtol: dict = field(default_factory=dict)  # dtype -> rtol for onnxruntime, with the reason below
    min_opset: int = 17        # below it, export must refuse with a clear ExportError

    def __str__(self) -> str:
        return self.name


def make_inputs(row: Row, dtype: str, rng: np.random.Generator):
    """NumPy arrays for a row, float inputs in [low, high) of ``dtype``."""
    out = []
    for spec in row.inputs:
        if isinstance(spec, Int):
            out.append(rng.integers(spec.low, spec.high, size=spec.shape).astype(spec.dtype))
        elif isinstance(spec, Bool):
            out.append(rng.random(spec.shape) < 0.5)
        else:
            out.append(rng.uniform(row.low, row.high, size=spec).astype(dtype))
    return out


def R(name, fn, *inputs, **kw) -> Row:
    return Row(name, fn, inputs, **kw)


