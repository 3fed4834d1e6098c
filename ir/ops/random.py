"""Ops that draw random numbers, so a traced dropout or noisy layer stays random on every run
instead of freezing the draw seen while tracing."""
from __future__ import annotations

from dataclasses import dataclass

from ir.dtypes import DType
from ir.ops import dynamic as D
from ir.ops.base import Op
from ir.types import TensorType


@dataclass(frozen=True)
class RandomAttrs:
    """``uniform`` draws from [a, b); ``normal`` from N(mean=a, std=b)."""

    shape: tuple[int, ...]
    dtype: DType
    a: float = 0.0
    b: float = 1.0


def _infer(types, a: RandomAttrs):
    return TensorType(tuple(a.shape), a.dtype)


def _random(name: str) -> Op:
    """A draw of a fixed shape: new numbers on every run, so never folded, merged or differentiated."""
    return Op(name, _infer, RandomAttrs, arity=0, dynamic=D.static, nondeterministic=True,
              differentiable=False)


random_uniform = _random("random_uniform")
random_normal = _random("random_normal")
