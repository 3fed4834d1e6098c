"""The static type of a graph value: shape and dtype."""
from __future__ import annotations

from dataclasses import dataclass

from ir.dtypes import DType


@dataclass(frozen=True)
class TensorType:
    """A value's static type. ``shape`` is a tuple of ints (0-d is ``()``)."""

    shape: tuple[int, ...]
    dtype: DType

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __str__(self) -> str:
        return f"{self.dtype.name}[{', '.join(map(str, self.shape))}]"
